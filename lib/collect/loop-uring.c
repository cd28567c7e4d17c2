/*
 * loop-uring.c: the io_uring socket backend (liburing) and its event loop.
 * Each worker owns a ring. Connections are accepted by one multishot accept;
 * each connection has one multishot receive, armed once for its whole life,
 * landing in a ring of UR_NBUF shared buffers the kernel picks from; answers
 * are queued as sends. One io_uring_enter per loop iteration submits every
 * answer and re-armed receive and waits for the next completions. libuv's
 * own loop (timers, wake-ups, the thread pool, handle closing) is polled
 * through the ring. Only this file includes liburing.
 */
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "collect/server-int.h"

/* A worker's io_uring state. */
struct vast__uring {
  struct io_uring ring;
  struct io_uring_buf_ring *br; /* the receive buffers' ring */
  char *bufs;                   /* UR_NBUF buffers of UR_BUFSZ bytes */
  int lfd;                      /* the listening socket, -1 once closed */
  int accept_armed, accept_failed, uv_armed, uv_ready;
  conn *dead;   /* closed connections waiting for their operations */
  conn *nobufs; /* connections whose receive ran out of buffers */
};

/* io_uring operations: the low 3 bits of an SQE's user data; the rest is the
   connection or worker it belongs to (both 16-byte aligned by calloc). */
enum { OP_RECV = 1, OP_SEND, OP_CANCEL, OP_ACCEPT, OP_UVPOLL, OP_NOP };
#define UR_NBUF 512     /* receive buffers per worker (a power of two) */
#define UR_BUFSZ 8192   /* bytes each */
#define UR_BGID 1       /* buffer group id */
#define UR_ENTRIES 4096 /* submission queue entries */

static struct io_uring_sqe *ur_sqe(worker *w, void *owner, int op) {
  struct io_uring_sqe *q = io_uring_get_sqe(&w->ur->ring);
  if (!q) {
    io_uring_submit(&w->ur->ring); /* the queue is full: hand it over, then retry */
    q = io_uring_get_sqe(&w->ur->ring);
    if (!q) return NULL;
  }
  io_uring_sqe_set_data64(q, (uint64_t)(uintptr_t)owner | (uint64_t)op);
  return q;
}

/* Sends fbuf from foff on. */
static void ur_send(conn *k) {
  struct io_uring_sqe *q = ur_sqe(k->w, k, OP_SEND);
  if (!q) {
    vast__conn_close(k);
    return;
  }
  io_uring_prep_send(q, k->fd, k->fbuf + k->foff, k->flen - k->foff, MSG_NOSIGNAL);
  k->ops++;
  k->writing = 1;
}

static void ur_recv(conn *k) {
  struct io_uring_sqe *q = ur_sqe(k->w, k, OP_RECV);
  if (!q) {
    vast__conn_close(k);
    return;
  }
  io_uring_prep_recv_multishot(q, k->fd, NULL, 0, 0);
  q->flags |= IOSQE_BUFFER_SELECT;
  q->buf_group = UR_BGID;
  k->ops++;
  k->rarmed = 1;
}

static void ur_accept(worker *w) {
  struct io_uring_sqe *q = ur_sqe(w, w, OP_ACCEPT);
  if (!q) return;
  io_uring_prep_multishot_accept(q, w->ur->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  w->ur->accept_armed = 1;
}

static void ur_on_accept(worker *w, const struct io_uring_cqe *cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) w->ur->accept_armed = 0;
  if (cqe->res < 0) {
    /* EMFILE and the like: try again from the sweep timer, not in a spin. */
    if (w->listener_open && cqe->res != -ECANCELED && cqe->res != -EAGAIN && cqe->res != -EINTR) {
      if (!w->ur->accept_failed) vast__clog(w->c, "accept: %s", strerror(-cqe->res));
      w->ur->accept_failed = 1;
    }
  } else {
    conn *k = vast__conn_new(w);
    if (!k) {
      close(cqe->res);
    } else {
      k->fd = cqe->res;
      vast__conn_accepted(k);
    }
  }
  if (!w->ur->accept_armed && w->listener_open && !w->ur->accept_failed) ur_accept(w);
}

static void ur_on_recv(worker *w, conn *k, const struct io_uring_cqe *cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) {
    k->rarmed = 0;
    k->rcancel = 0;
    k->ops--;
  }
  if (cqe->flags & IORING_CQE_F_BUFFER) {
    unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    char *b = w->ur->bufs + (size_t)bid * UR_BUFSZ;
    if (cqe->res > 0 && !k->closing) vast__conn_input(k, b, (size_t)cqe->res);
    io_uring_buf_ring_add(w->ur->br, b, UR_BUFSZ, (unsigned short)bid,
                          io_uring_buf_ring_mask(UR_NBUF), 0);
    io_uring_buf_ring_advance(w->ur->br, 1);
  } else if (!k->closing) {
    if (cqe->res == 0) {
      vast__conn_eof(k);
    } else if (cqe->res == -ENOBUFS) {
      /* Every buffer was in use: arm again once this batch returned them. */
      if (!k->rnobufs) {
        WINC(w, nobufs);
        k->rnobufs = 1;
        k->nbnext = w->ur->nobufs;
        w->ur->nobufs = k;
      }
      return;
    } else if (cqe->res != -ECANCELED) {
      vast__conn_close(k);
    }
  }
  if (!k->closing && k->reading && !k->rarmed && !k->rnobufs) ur_recv(k);
}

static void ur_on_send(conn *k, const struct io_uring_cqe *cqe) {
  k->ops--;
  if (k->closing) return;
  if (cqe->res < 0) {
    vast__conn_close(k);
    return;
  }
  k->foff += (size_t)cqe->res;
  if (k->foff < k->flen) {
    ur_send(k); /* short send: the rest */
    return;
  }
  k->writing = 0;
  k->flen = 0;
  vast__conn_flush(k);
}

/* Handles every completion in the ring. */
static void ur_complete(worker *w) {
  struct io_uring_cqe *cqe;
  unsigned head, n = 0;
  io_uring_for_each_cqe(&w->ur->ring, head, cqe) {
    n++;
    uint64_t ud = io_uring_cqe_get_data64(cqe);
    void *owner = (void *)(uintptr_t)(ud & ~(uint64_t)7);
    switch ((int)(ud & 7)) {
    case OP_RECV:
      ur_on_recv(w, owner, cqe);
      break;
    case OP_SEND:
      ur_on_send(owner, cqe);
      break;
    case OP_CANCEL:
      ((conn *)owner)->ops--;
      break;
    case OP_ACCEPT:
      ur_on_accept(w, cqe);
      break;
    case OP_UVPOLL:
      w->ur->uv_armed = 0;
      w->ur->uv_ready = 1;
      break;
    default:
      break;
    }
  }
  io_uring_cq_advance(&w->ur->ring, n);
}

/* Frees closed connections with nothing in flight; re-arms receives that ran
   out of buffers. */
static void ur_tidy(worker *w) {
  conn *nb = w->ur->nobufs;
  w->ur->nobufs = NULL;
  while (nb) {
    conn *k = nb;
    nb = k->nbnext;
    k->rnobufs = 0;
    if (!k->closing && k->reading && !k->rarmed) ur_recv(k);
  }
  conn **pp = &w->ur->dead;
  while (*pp) {
    conn *k = *pp;
    if (k->ops == 0 && !k->rnobufs) {
      *pp = k->dnext;
      vast__conn_free(k);
    } else {
      pp = &k->dnext;
    }
  }
}

/*
 * The event loop of an io_uring worker. libuv still runs the timers, the
 * cross-thread wake-up, the thread pool's completions and handle closing: its
 * epoll descriptor is polled through the ring, and uv_run(UV_RUN_NOWAIT) runs
 * when that poll fires or a timer is due. Every iteration hands all queued
 * operations (answers, re-armed receives) to the kernel and waits for
 * completions in one io_uring_enter call.
 */
static void ur_run(worker *w) {
  uv_loop_t *L = &w->loop;
  ur_accept(w);
  w->ur->uv_ready = 1;
  for (;;) {
    uv_update_time(L);
    if (w->ur->uv_ready || uv_backend_timeout(L) == 0) {
      w->ur->uv_ready = 0;
      uv_run(L, UV_RUN_NOWAIT);
    }
    if (w->c->journal) vast__worker_journal(w);
    ur_tidy(w);
    if (w->closed_handles && !uv_loop_alive(L) && !w->ur->dead) break;
    if (!w->ur->uv_armed) {
      struct io_uring_sqe *q = ur_sqe(w, w, OP_UVPOLL);
      if (q) {
        io_uring_prep_poll_add(q, uv_backend_fd(L), POLLIN);
        w->ur->uv_armed = 1;
      }
    }
    int t = uv_backend_timeout(L);
    struct __kernel_timespec ts = {.tv_sec = t / 1000, .tv_nsec = (long long)(t % 1000) * 1000000};
    struct io_uring_cqe *cqe = NULL;
    int rc = io_uring_submit_and_wait_timeout(&w->ur->ring, &cqe, 1, t >= 0 ? &ts : NULL, NULL);
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN) {
      vast__clog(w->c, "io_uring: %s", strerror(-rc));
      struct timespec pause = {0, 1000000}; /* never spin on a broken ring */
      nanosleep(&pause, NULL);
    }
    ur_complete(w);
  }
}

/*
 * Sets up w's ring: COOP_TASKRUN (completions are run when the loop enters
 * the kernel anyway, no interrupt), and a ring of UR_NBUF receive buffers the
 * kernel picks from. Returns 0 or a negative errno; the multishot receive
 * needs Linux 6.0, so older kernels get -ENOSYS here.
 */
static int ur_init(worker *w) {
  struct utsname u;
  if (uname(&u) != 0 || atoi(u.release) < 6) return -ENOSYS;
  if (!(w->ur = calloc(1, sizeof *w->ur))) return -ENOMEM;
  w->ur->lfd = -1;
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_COOP_TASKRUN;
  int rc = io_uring_queue_init_params(UR_ENTRIES, &w->ur->ring, &p);
  if (rc == -EINVAL) {
    memset(&p, 0, sizeof p);
    rc = io_uring_queue_init_params(UR_ENTRIES, &w->ur->ring, &p);
  }
  if (rc < 0) {
    free(w->ur);
    w->ur = NULL;
    return rc;
  }
  void *mem = NULL;
  if (posix_memalign(&mem, 4096, UR_NBUF * sizeof(struct io_uring_buf)) != 0 ||
      !(w->ur->bufs = malloc((size_t)UR_NBUF * UR_BUFSZ))) {
    free(mem);
    io_uring_queue_exit(&w->ur->ring);
    free(w->ur);
    w->ur = NULL;
    return -ENOMEM;
  }
  w->ur->br = mem;
  io_uring_buf_ring_init(w->ur->br);
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uintptr_t)mem;
  reg.ring_entries = UR_NBUF;
  reg.bgid = UR_BGID;
  rc = io_uring_register_buf_ring(&w->ur->ring, &reg, 0);
  if (rc != 0) {
    io_uring_queue_exit(&w->ur->ring);
    free(w->ur->br);
    free(w->ur->bufs);
    free(w->ur);
    w->ur = NULL;
    return rc < 0 ? rc : -EINVAL;
  }
  for (unsigned i = 0; i < UR_NBUF; i++)
    io_uring_buf_ring_add(w->ur->br, w->ur->bufs + (size_t)i * UR_BUFSZ, UR_BUFSZ,
                          (unsigned short)i, io_uring_buf_ring_mask(UR_NBUF), (int)i);
  io_uring_buf_ring_advance(w->ur->br, UR_NBUF);
  return 0;
}

/* ---- the backend interface (server-int.h) ---- */

static int ur_listen(worker *w, int fd) {
  w->ur->lfd = fd; /* accepted through the ring; the uv handle stays unused */
  return 0;
}

static void ur_unlisten(worker *w) {
  /* Stop listening now (the multishot accept holds the socket until its
     cancellation is through, which may be after the loop has ended); then
     stop the accept; the socket closes with its last use. */
  shutdown(w->ur->lfd, SHUT_RDWR);
  struct io_uring_sqe *q = ur_sqe(w, w, OP_NOP);
  if (q) io_uring_prep_cancel_fd(q, w->ur->lfd, IORING_ASYNC_CANCEL_ALL);
  close(w->ur->lfd);
  w->ur->lfd = -1;
  uv_close((uv_handle_t *)&w->listener, NULL); /* never opened */
}

static void ur_sweep(worker *w) {
  if (w->ur->accept_failed && w->listener_open && !w->ur->accept_armed) {
    w->ur->accept_failed = 0; /* accept failed (EMFILE...): try again once per sweep */
    ur_accept(w);
  }
}

static void ur_destroy(worker *w) {
  if (!w->ur) return;
  io_uring_queue_exit(&w->ur->ring);
  if (w->ur->lfd >= 0) close(w->ur->lfd);
  free(w->ur->br);
  free(w->ur->bufs);
  free(w->ur);
  w->ur = NULL;
}

static void ur_accepted(conn *k, struct sockaddr_storage *ss) {
  int one = 1;
  socklen_t sl = sizeof *ss;
  setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (getpeername(k->fd, (struct sockaddr *)ss, &sl) != 0) ss->ss_family = AF_UNSPEC;
}

static void ur_send_now(conn *k, const char *p, size_t n) {
  ssize_t wr = send(k->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
  (void)wr;
}

static int ur_read_start(conn *k) {
  if (!k->rarmed) ur_recv(k);
  return 0;
}

static void ur_read_stop(conn *k) {
  if (!k->rarmed || k->rcancel) return;
  /* Input that arrives before the cancel lands is kept in k->partial. */
  struct io_uring_sqe *q = ur_sqe(k->w, k, OP_CANCEL);
  if (!q) {
    vast__conn_close(k);
    return;
  }
  io_uring_prep_cancel64(q, (uint64_t)(uintptr_t)k | OP_RECV, 0);
  k->ops++;
  k->rcancel = 1;
}

static int ur_write(conn *k) {
  /* Swap buffers: fbuf goes out with the next submission. */
  char *t = k->fbuf;
  size_t tc = k->fcap;
  k->fbuf = k->wbuf;
  k->fcap = k->wcap;
  k->flen = k->wlen;
  k->foff = 0;
  k->wbuf = t;
  k->wcap = tc;
  k->wlen = 0;
  ur_send(k);
  return 1;
}

static int ur_shutdown(conn *k) {
  return shutdown(k->fd, SHUT_WR) != 0 || k->eof ? -1 : 0;
}

static void ur_close(conn *k) {
  worker *w = k->w;
  /* Cancel what is in flight; the loop frees k when the last CQE is in. */
  if (k->ops) {
    struct io_uring_sqe *q = ur_sqe(w, k, OP_CANCEL);
    if (q) {
      io_uring_prep_cancel_fd(q, k->fd, IORING_ASYNC_CANCEL_ALL);
      k->ops++;
    } else {
      shutdown(k->fd, SHUT_RDWR); /* ends the receive and the send at once */
    }
  }
  k->dnext = w->ur->dead;
  w->ur->dead = k;
}

const vast__io vast__io_uring = {
    .name = "io_uring",
    .init = ur_init,
    .listen = ur_listen,
    .unlisten = ur_unlisten,
    .run = ur_run,
    .sweep = ur_sweep,
    .destroy = ur_destroy,
    .accepted = ur_accepted,
    .send_now = ur_send_now,
    .read_start = ur_read_start,
    .read_stop = ur_read_stop,
    .write = ur_write,
    .shutdown = ur_shutdown,
    .close = ur_close,
};
