/*
 * loop-epoll.c: the libuv socket backend (epoll): libuv's loop, one read and
 * one write system call per request (uv_try_write: one write per connection
 * per loop iteration however many pipelined answers are ready). In journal
 * mode each loop journals and answers its hits in a uv_prepare callback, so
 * once per iteration, before the loop polls again.
 */
#include <stdlib.h>
#include <unistd.h>

#include "collect/server-int.h"

static void on_close(uv_handle_t *h) {
  vast__conn_free(h->data);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  conn *k = req->data;
  if (status < 0 || k->eof) vast__conn_close(k);
}

static void on_write(uv_write_t *req, int status) {
  conn *k = req->data;
  k->writing = 0;
  k->flen = 0;
  if (status < 0) {
    vast__conn_close(k);
    return;
  }
  vast__conn_flush(k);
}

static void on_alloc(uv_handle_t *h, size_t sug, uv_buf_t *buf) {
  conn *k = h->data;
  *buf = uv_buf_init(k->w->rbuf, sizeof k->w->rbuf);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  conn *k = st->data;
  if (k->closing) return;
  if (nread < 0) {
    if (nread == UV_EOF)
      vast__conn_eof(k);
    else
      vast__conn_close(k);
    return;
  }
  if (nread > 0) vast__conn_input(k, buf->base, (size_t)nread);
}

static void on_connection(uv_stream_t *server, int status) {
  worker *w = server->data;
  if (status < 0) return;
  conn *k = vast__conn_new(w);
  if (!k) return;
  uv_tcp_init(&w->loop, &k->tcp);
  k->tcp.data = k;
  if (uv_accept(server, (uv_stream_t *)&k->tcp) != 0) {
    vast__conn_close(k);
    return;
  }
  vast__conn_accepted(k);
}

static void on_prepare(uv_prepare_t *p) {
  vast__worker_journal(p->data);
}

/* ---- the backend interface (server-int.h) ---- */

static int ep_init(worker *w) {
  (void)w;
  return 0;
}

static int ep_listen(worker *w, int fd) {
  if (w->c->journal) uv_prepare_start(&w->commit, on_prepare);
  if (uv_tcp_open(&w->listener, fd) != 0) {
    close(fd);
    return -1;
  }
  return uv_listen((uv_stream_t *)&w->listener, 4096, on_connection) != 0 ? -1 : 0;
}

static void ep_unlisten(worker *w) {
  uv_close((uv_handle_t *)&w->listener, NULL);
}

static void ep_run(worker *w) {
  uv_run(&w->loop, UV_RUN_DEFAULT);
}

static void ep_destroy(worker *w) {
  (void)w;
}

static void ep_accepted(conn *k, struct sockaddr_storage *ss) {
  int sl = sizeof *ss;
  uv_tcp_nodelay(&k->tcp, 1);
  if (uv_tcp_getpeername(&k->tcp, (struct sockaddr *)ss, &sl) != 0) ss->ss_family = AF_UNSPEC;
}

static void ep_send_now(conn *k, const char *p, size_t n) {
  uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
  uv_try_write((uv_stream_t *)&k->tcp, &b, 1);
}

static int ep_read_start(conn *k) {
  return uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read) != 0 ? -1 : 0;
}

static void ep_read_stop(conn *k) {
  uv_read_stop((uv_stream_t *)&k->tcp);
}

/* try_write first, else an async write of the rest from fbuf. */
static int ep_write(conn *k) {
  uv_buf_t b = uv_buf_init(k->wbuf, (unsigned)k->wlen);
  int n = uv_try_write((uv_stream_t *)&k->tcp, &b, 1);
  if (n == UV_EAGAIN || n == UV_ENOSYS) n = 0;
  if (n < 0) {
    vast__conn_close(k);
    return -1;
  }
  if ((size_t)n == k->wlen) {
    k->wlen = 0;
    return 0;
  }
  /* Swap buffers: the rest is written asynchronously from fbuf. */
  char *t = k->fbuf;
  size_t tc = k->fcap;
  k->fbuf = k->wbuf;
  k->fcap = k->wcap;
  k->flen = k->wlen;
  k->wbuf = t;
  k->wcap = tc;
  k->wlen = 0;
  uv_buf_t rb = uv_buf_init(k->fbuf + n, (unsigned)(k->flen - (size_t)n));
  k->wreq.data = k;
  if (uv_write(&k->wreq, (uv_stream_t *)&k->tcp, &rb, 1, on_write) != 0) {
    vast__conn_close(k);
    return -1;
  }
  k->writing = 1;
  return 1;
}

static int ep_shutdown(conn *k) {
  k->sreq.data = k;
  return uv_shutdown(&k->sreq, (uv_stream_t *)&k->tcp, on_shutdown) != 0 ? -1 : 0;
}

static void ep_close(conn *k) {
  uv_close((uv_handle_t *)&k->tcp, on_close);
}

const vast__io vast__io_epoll = {
    .name = "epoll",
    .init = ep_init,
    .listen = ep_listen,
    .unlisten = ep_unlisten,
    .run = ep_run,
    .sweep = NULL,
    .destroy = ep_destroy,
    .accepted = ep_accepted,
    .send_now = ep_send_now,
    .read_start = ep_read_start,
    .read_stop = ep_read_stop,
    .write = ep_write,
    .shutdown = ep_shutdown,
    .close = ep_close,
};
