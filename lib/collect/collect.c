/*
 * collect.c: the beacon collector server.
 *
 * Threads: N event-loop workers (libuv), each with its own listening socket
 * bound to the same address with SO_REUSEPORT, so the kernel spreads new
 * connections over the cores with no shared accept lock; and one writer that
 * takes every queued hit, writes it to the sinks in one transaction (group
 * commit) and wakes the workers whose hits are resolved (uv_async_send). With
 * durable acks and SQLite alone (journal mode) each worker instead appends
 * its own hits to its journal (journal.c) and answers them itself (on_prepare),
 * and the writer thread is the loader that puts journalled hits into SQLite
 * in big transactions (loader_main).
 *
 * A connection keeps a FIFO of response slots so pipelined requests are
 * answered in order. In durable mode a tracking hit's slot waits until the
 * writer marks the hit stored (or failed, answered 503); in fast mode it is
 * answered at once. Non-tracking answers (/stats, /metrics, /healthz, errors)
 * queue behind earlier slots. Reading pauses while max_pipeline slots are open.
 *
 * Lifetime of a hit: allocated by a worker (refs 2 in durable mode: the slot
 * and the writer; 1 in fast mode), resolved by the writer (journal mode: by
 * its worker, then loaded by the loader), freed by the last
 * vast__hit_unref. A worker closes its wake handle only when it has no
 * connections and no hit in flight, so the writer never wakes a dead loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "collect/collect-int.h"
#include "base/jsonw.h"
#include "web/web-int.h"
#include "certify/certify-int.h"

/* ---- constants ---- */

static const unsigned char GIF[43] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xff, 0xff,
    0xff, 0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

#define NO_CACHE                                                                                   \
  "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\nPragma: no-cache\r\nExpires: " \
  "0\r\n"

enum { F_AD, F_CR, F_SID, F_CODE, F_R, F_NONE };

/* Status codes counted in /metrics. */
static const int STATUS[] = {200, 204, 400, 404, 405, 408, 411, 413, 414, 431, 501, 503, 505};
#define NSTATUS (sizeof STATUS / sizeof STATUS[0])

/* Histogram bounds: hit latency and commit time in seconds; batch sizes. */
static const double LAT_B[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                               0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
#define NLAT (sizeof LAT_B / sizeof LAT_B[0])
static const double BATCH_B[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};
#define NBATCH (sizeof BATCH_B / sizeof BATCH_B[0])

typedef struct histo {
  atomic_uint_fast64_t b[16]; /* cumulative counts are computed on output */
  atomic_uint_fast64_t count;
  atomic_uint_fast64_t sum_ns; /* or sum of values for batch sizes */
} histo;

static void histo_add(histo *h, const double *bounds, size_t nb, double v, uint64_t sumv) {
  size_t i = 0;
  while (i < nb && v > bounds[i])
    i++;
  atomic_fetch_add_explicit(&h->b[i], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&h->sum_ns, sumv, memory_order_relaxed);
}

/* The same for a histogram only one thread writes: no locked instructions. */
static inline void inc1(atomic_uint_fast64_t *x, uint64_t v) {
  atomic_store_explicit(x, atomic_load_explicit(x, memory_order_relaxed) + v, memory_order_relaxed);
}
static void histo_add1(histo *h, const double *bounds, size_t nb, double v, uint64_t sumv) {
  size_t i = 0;
  while (i < nb && v > bounds[i])
    i++;
  inc1(&h->b[i], 1);
  inc1(&h->count, 1);
  inc1(&h->sum_ns, sumv);
}

/* Per-request counters, kept per event loop and written only by its thread
   (no cache line bounces between cores); readers add them up (wtotals_get). */
typedef struct wstats {
  atomic_uint_fast64_t requests, hits, bad, status[NSTATUS];
  atomic_uint_fast64_t nobufs; /* io_uring receives that found no free buffer */
  histo lat;
} wstats;
#define WINC(w, f) inc1(&(w)->st.f, 1)

/* ---- structures ---- */

typedef struct worker worker;
typedef struct conn conn;

typedef struct webjob webjob;

typedef struct slot {
  vast__hit *hit; /* durable hit waiting for the writer, or NULL */
  webjob *job;    /* /api/... request running on the thread pool, or NULL */
  char *bytes;    /* a ready response (malloc'd), when hit is NULL; with a hit:
                     the answer once it is stored (test ad server, tap) */
  size_t len;
  int okcode;  /* with a hit and bytes: the status of bytes */
  uint64_t t0; /* uv_hrtime() when parsed */
  unsigned char r204, head, close, v10;
} slot;

struct conn {
  uv_tcp_t tcp;
  uv_write_t wreq;
  uv_shutdown_t sreq;
  worker *w;
  conn *prev, *next;   /* all connections of the worker */
  conn *wprev, *wnext; /* connections waiting for the writer */
  int in_wait, closing, reading, writing, close_after, lingering, eof, paused;
  char ip[64];
  char *partial;
  size_t plen, pcap;
  uint64_t req_start, last_active, linger_start; /* uv_now ms */
  size_t body_need; /* bytes of the POST request (head + body) being received */
  size_t body_held; /* of those, reserved against the collector's body budget */
  slot *slots;
  size_t shead, scount, scap;
  char *wbuf, *fbuf; /* pending bytes, bytes being written */
  size_t wlen, wcap, flen, fcap;
  /* io_uring backend: the socket, operations in flight, the bytes of fbuf
     already sent; a closed connection is freed once ops is 0 */
  int fd;
  unsigned ops;
  size_t foff;
  unsigned char rarmed, rcancel, rnobufs;
  conn *dnext;  /* the worker's list of closed connections */
  conn *nbnext; /* the worker's list of receives to arm again (no buffers) */
};

struct worker {
  vast_collector *c;
  int idx;
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_async_t wake;
  uv_timer_t sweep;
  uv_prepare_t commit; /* journal mode: journal and answer before each poll */
  pthread_t tid;
  int started, draining, closed_handles, listener_open;
  uint64_t drain_deadline;
  unsigned nconns;
  conn *conns, *waiting;
  atomic_int inflight;       /* durable hits handed to the writer, not yet resolved+woken */
  vast__journal *jr;         /* journal mode: this worker's journal */
  vast__hit *lhead, **ltail; /* hits gathered in one read callback */
  size_t ln;
  char *scratch;
  size_t scratch_cap;
  /* io_uring backend (uring = 1): the ring, its receive buffers, the
     listening socket, closed connections waiting for their operations,
     connections whose receive ran out of buffers */
  int uring;
  struct io_uring ring;
  struct io_uring_buf_ring *br;
  char *bufs;
  int lfd;
  int accept_armed, accept_failed, uv_armed, uv_ready;
  conn *dead, *nobufs;
  char pad_[64];
  wstats st;
  char rbuf[65536];
};

typedef struct evcount {
  char name[48];
  uint64_t n;
} evcount;

/* Live counts for the dashboard (/api/stats): the funnel per ad, error codes. */
enum { FUN_IMP, FUN_START, FUN_Q1, FUN_MID, FUN_Q3, FUN_COMPLETE, FUN_ERROR, FUN_OTHER, FUN_N };
static const char *const FUNNEL[FUN_N] = {"impression",    "start",    "firstQuartile", "midpoint",
                                          "thirdQuartile", "complete", "error",         "other"};
#define NADS 256     /* ads counted one by one; later ones only in ads_other */
#define ADS_HASH 512 /* open addressing, power of two > 1.5 * NADS */
typedef struct adcount {
  char ad[48];
  uint64_t n[FUN_N];
} adcount;
typedef struct codecount {
  int code; /* -1: error hits without a numeric code */
  uint64_t n;
} codecount;

struct vast_collector {
  vast_collector_opts o;
  char *s_listen, *s_db, *s_kafka;
  char address[96];
  int port;
  struct {
    char name[32];
    int field;
  } map[16];
  unsigned nmap;
  unsigned nworkers;
  worker **workers;
  /* writer */
  pthread_t writer;
  int writer_started, writer_quit;
  pthread_mutex_t qmu;
  pthread_cond_t qcv;
  vast__hit *qhead, **qtail;
  atomic_size_t qlen;
  /* journal mode (durable, SQLite alone): each worker journals and answers
     its own hits; the writer thread is the loader, putting them into SQLite */
  int journal;
  int jlock;          /* fd holding the journal lock, or -1 */
  int loader_idle;    /* under qmu: the loader waits for work */
  int load_failed;    /* the loader gave up on some hits at stop */
  atomic_int db_lost; /* the database file was deleted or replaced (db_check) */
  /* /api/ work that may wait on the network, running on libuv's thread pool,
     and its cap (half the pool), so it cannot starve the fast endpoints */
  atomic_int slow_busy;
  int slow_max;
  atomic_uint_fast64_t *loaded_seq; /* per worker: highest seq in SQLite */
  vast__store *store;
  vast__kafka *kafka;
  vast_io io_used;
  /* POST bodies being received, over all connections, and the cap on them */
  atomic_size_t body_bytes;
  size_t body_cap;
  /* stop */
  atomic_int stopping;
  int waited;
  pthread_mutex_t waitmu;
  /* counters */
  atomic_uint_fast64_t stored, failed, accepted, rejected, open, timeouts, batches, loaded, loads;
  histo commit, batch;
  pthread_mutex_t emu;
  evcount ev[64];
  unsigned nev;
  uint64_t ev_other;
  /* under emu too */
  adcount ads[NADS];
  short ad_slot[ADS_HASH]; /* index + 1 into ads, 0 empty */
  unsigned nads;
  uint64_t ads_other;
  codecount codes[64];
  unsigned ncodes;
  uint64_t codes_other;
};

/* A POST /api/... request handed to libuv's thread pool. */
struct webjob {
  uv_work_t req;
  conn *k; /* NULL once the connection is gone */
  vast_collector *c;
  char *path, *query, *body; /* one allocation: path\0query\0body */
  int slow;                  /* counted in slow_busy */
  size_t pn, qn, bn;
  vast__web_resp resp;
};

/* ---- small helpers ---- */

static void logf_(vast_collector *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void logf_(vast_collector *c, const char *fmt, ...) {
  if (!c->o.log) return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  c->o.log(c->o.log_ctx, line);
}

/*
 * The database file deleted or replaced under the running collector
 * (vast__store_gone): SQLite would go on committing into the unlinked file, so
 * from then on no hit reaches a database that still exists. Logged once,
 * loudly; then every tracking hit is answered 503, /healthz says so, nothing
 * more is loaded, and the journals are kept for the next start. Checked by the
 * writer (or loader) before and after each commit, and every DB_CHECK_MS while
 * idle. Returns 1 when lost.
 */
#define DB_CHECK_MS 1000
static int db_check(vast_collector *c) {
  if (atomic_load(&c->db_lost)) return 1;
  if (!c->store || !vast__store_gone(c->store)) return 0;
  if (!atomic_exchange(&c->db_lost, 1))
    logf_(c,
          "ALERT: database file '%s' was deleted or replaced under the running collector: "
          "tracking hits are answered 503 from now on, nothing more is loaded and the "
          "journals are kept; restore the file or restart the collector",
          vast__store_filename(c->store));
  return 1;
}

/* pthread_cond_timedwait for ms milliseconds; returns its result. */
static int cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
  return pthread_cond_timedwait(cv, mu, &ts);
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void count_status(worker *w, int code) {
  for (size_t i = 0; i < NSTATUS; i++)
    if (STATUS[i] == code) {
      WINC(w, status[i]);
      return;
    }
}

void vast__hit_unref(vast__hit *h) {
  if (h && atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) == 1) free(h);
}

static const char *reason(int code) {
  switch (code) {
  case 200:
    return "OK";
  case 204:
    return "No Content";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 411:
    return "Length Required";
  case 413:
    return "Content Too Large";
  case 414:
    return "URI Too Long";
  case 431:
    return "Request Header Fields Too Large";
  case 501:
    return "Not Implemented";
  case 503:
    return "Service Unavailable";
  case 505:
    return "HTTP Version Not Supported";
  default:
    return "Error";
  }
}

static int buf_put(char **b, size_t *len, size_t *cap, const void *p, size_t n) {
  if (*len + n > *cap) {
    size_t nc = *cap ? *cap : 1024;
    while (nc < *len + n)
      nc *= 2;
    char *nb = realloc(*b, nc);
    if (!nb) return -1;
    *b = nb;
    *cap = nc;
  }
  memcpy(*b + *len, p, n);
  *len += n;
  return 0;
}

/*
 * Builds a whole response into *b. Tracking answers (the GIF, 204) and errors
 * carry the no-cache headers; close adds "Connection: close", v10 with
 * keep-alive adds "Connection: keep-alive".
 */
static int build_response(char **b, size_t *len, size_t *cap, int code, const char *ctype,
                          const void *body, size_t blen, int head, int close, int v10, int web) {
  char h[1024];
  int n = snprintf(h, sizeof h, "HTTP/1.1 %d %s\r\n", code, reason(code));
  if (ctype) n += snprintf(h + n, sizeof h - (size_t)n, "Content-Type: %s\r\n", ctype);
  if (code != 204) n += snprintf(h + n, sizeof h - (size_t)n, "Content-Length: %zu\r\n", blen);
  n += snprintf(h + n, sizeof h - (size_t)n, "%s%s%s\r\n", NO_CACHE,
                close ? "Connection: close\r\n" : "",
                !close && v10 ? "Connection: keep-alive\r\n" : "");
  if (web) { /* pages and API answers: the security headers before the empty line */
    n -= 2;
    n += snprintf(h + n, sizeof h - (size_t)n, "%s\r\n", vast__web_sec_headers);
  }
  if (buf_put(b, len, cap, h, (size_t)n)) return -1;
  if (!head && blen && code != 204) return buf_put(b, len, cap, body, blen);
  return 0;
}

/*
 * The answers to durable tracking hits (200 GIF, 204, 503) for each HEAD,
 * close and HTTP/1.0 combination, built once so the hot path is one memcpy.
 */
enum { HIT_RESP_MAX = 384 };
static char hit_resp_buf[3][2][2][2][HIT_RESP_MAX];
static size_t hit_resp_len[3][2][2][2]; /* 0: not built, use build_response */
static pthread_once_t hit_resp_once = PTHREAD_ONCE_INIT;

static void hit_resp_init(void) {
  static const int codes[3] = {200, 204, 503};
  for (int ci = 0; ci < 3; ci++)
    for (int h = 0; h < 2; h++)
      for (int cl = 0; cl < 2; cl++)
        for (int v = 0; v < 2; v++) {
          char *b = NULL;
          size_t len = 0, cap = 0;
          int gif = codes[ci] == 200;
          if (build_response(&b, &len, &cap, codes[ci], gif ? "image/gif" : NULL, gif ? GIF : NULL,
                             gif ? sizeof GIF : 0, h, cl, v, 0) == 0 &&
              len <= HIT_RESP_MAX) {
            memcpy(hit_resp_buf[ci][h][cl][v], b, len);
            hit_resp_len[ci][h][cl][v] = len;
          }
          free(b);
        }
}

static int put_hit_response(char **b, size_t *len, size_t *cap, int code, int head, int close,
                            int v10) {
  int ci = code == 200 ? 0 : code == 204 ? 1 : 2;
  head = !!head, close = !!close, v10 = !!v10;
  size_t n = hit_resp_len[ci][head][close][v10];
  if (n) return buf_put(b, len, cap, hit_resp_buf[ci][head][close][v10], n);
  int gif = code == 200;
  return build_response(b, len, cap, code, gif ? "image/gif" : NULL, gif ? GIF : NULL,
                        gif ? sizeof GIF : 0, head, close, v10, 0);
}

/* ---- connections ---- */

static void conn_flush(conn *k);
static void conn_process(conn *k, const char *data, size_t len, int from_partial);
static void worker_maybe_finish(worker *w);

static void wait_add(conn *k) {
  if (k->in_wait) return;
  worker *w = k->w;
  k->in_wait = 1;
  k->wprev = NULL;
  k->wnext = w->waiting;
  if (w->waiting) w->waiting->wprev = k;
  w->waiting = k;
}

static void wait_del(conn *k) {
  if (!k->in_wait) return;
  worker *w = k->w;
  k->in_wait = 0;
  if (k->wprev)
    k->wprev->wnext = k->wnext;
  else
    w->waiting = k->wnext;
  if (k->wnext) k->wnext->wprev = k->wprev;
}

/* io_uring operations: the low 3 bits of an SQE's user data; the rest is the
   connection or worker it belongs to (both 16-byte aligned by calloc). */
enum { OP_RECV = 1, OP_SEND, OP_CANCEL, OP_ACCEPT, OP_UVPOLL, OP_NOP };
#define UR_NBUF 512     /* receive buffers per worker (a power of two) */
#define UR_BUFSZ 8192   /* bytes each */
#define UR_BGID 1       /* buffer group id */
#define UR_ENTRIES 4096 /* submission queue entries */

static struct io_uring_sqe *ur_sqe(worker *w, void *owner, int op) {
  struct io_uring_sqe *q = io_uring_get_sqe(&w->ring);
  if (!q) {
    io_uring_submit(&w->ring); /* the queue is full: hand it over, then retry */
    q = io_uring_get_sqe(&w->ring);
    if (!q) return NULL;
  }
  io_uring_sqe_set_data64(q, (uint64_t)(uintptr_t)owner | (uint64_t)op);
  return q;
}

/* Frees a closed connection: what on_close does for libuv, and what the
   io_uring loop does once no operation of the connection is in flight. */
static void body_release(conn *k) {
  if (!k->body_held) return;
  atomic_fetch_sub(&k->w->c->body_bytes, k->body_held);
  k->body_held = 0;
}

/* Reserves the bytes of a POST request that has to be waited for against the
   collector-wide budget, so many slow uploads cannot take all memory.
   Returns 0, or -1 (answer 503) when the budget is spent. */
static int body_reserve(conn *k, size_t want) {
  if (k->body_held >= want) return 0;
  vast_collector *c = k->w->c;
  size_t add = want - k->body_held;
  if (atomic_fetch_add(&c->body_bytes, add) + add > c->body_cap) {
    atomic_fetch_sub(&c->body_bytes, add);
    return -1;
  }
  k->body_held = want;
  return 0;
}

static void conn_free(conn *k) {
  worker *w = k->w;
  body_release(k);
  for (size_t i = 0; i < k->scount; i++) {
    slot *s = &k->slots[(k->shead + i) & (k->scap - 1)];
    vast__hit_unref(s->hit);
    free(s->bytes);
    if (s->job) s->job->k = NULL; /* web_after frees it */
  }
  if (k->prev)
    k->prev->next = k->next;
  else
    w->conns = k->next;
  if (k->next) k->next->prev = k->prev;
  w->nconns--;
  atomic_fetch_sub(&w->c->open, 1);
  free(k->slots);
  free(k->partial);
  free(k->wbuf);
  free(k->fbuf);
  if (w->uring && k->fd >= 0) close(k->fd);
  free(k);
  worker_maybe_finish(w);
}

static void on_close(uv_handle_t *h) {
  conn_free(h->data);
}

static void conn_close(conn *k) {
  if (k->closing) return;
  k->closing = 1;
  wait_del(k);
  worker *w = k->w;
  if (!w->uring) {
    uv_close((uv_handle_t *)&k->tcp, on_close);
    return;
  }
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
  k->dnext = w->dead;
  w->dead = k;
}

static int slot_push(conn *k, slot s) {
  if (k->scount == k->scap) {
    size_t nc = k->scap ? k->scap * 2 : 8;
    slot *ns = malloc(nc * sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < k->scount; i++)
      ns[i] = k->slots[(k->shead + i) & (k->scap - 1)];
    free(k->slots);
    k->slots = ns;
    k->scap = nc;
    k->shead = 0;
  }
  k->slots[(k->shead + k->scount) & (k->scap - 1)] = s;
  k->scount++;
  return 0;
}

/*
 * Queues a ready response: straight into the write buffer when nothing is
 * waiting ahead of it, else as a slot behind the waiting ones.
 */
static void respond_x(conn *k, int code, const char *ctype, const void *body, size_t blen, int head,
                      int close, int v10, int web) {
  count_status(k->w, code);
  if (close) k->close_after = 1;
  if (k->scount == 0) {
    if (build_response(&k->wbuf, &k->wlen, &k->wcap, code, ctype, body, blen, head, close, v10,
                       web))
      conn_close(k);
    return;
  }
  slot s = {0};
  size_t cap = 0;
  if (build_response(&s.bytes, &s.len, &cap, code, ctype, body, blen, head, close, v10, web) ||
      slot_push(k, s)) {
    free(s.bytes);
    conn_close(k);
  }
}

/* Queues a whole response built elsewhere (malloc'd; owned from here on). */
static void respond_raw(conn *k, int code, char *bytes, size_t len, int close) {
  count_status(k->w, code);
  if (close) k->close_after = 1;
  if (k->scount == 0) {
    if (buf_put(&k->wbuf, &k->wlen, &k->wcap, bytes, len)) conn_close(k);
    free(bytes);
    return;
  }
  slot s = {.bytes = bytes, .len = len};
  if (slot_push(k, s)) {
    free(bytes);
    conn_close(k);
  }
}

static void respond(conn *k, int code, const char *ctype, const void *body, size_t blen, int head,
                    int close, int v10) {
  respond_x(k, code, ctype, body, blen, head, close, v10, 0);
}

/* An answer of the web pages or API: with the security headers. */
static void respond_web(conn *k, int code, const char *ctype, const void *body, size_t blen,
                        int head, int close, int v10) {
  respond_x(k, code, ctype, body, blen, head, close, v10, 1);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  conn *k = req->data;
  if (status < 0 || k->eof) conn_close(k);
}

static void on_write(uv_write_t *req, int status);
static void on_alloc(uv_handle_t *h, size_t sug, uv_buf_t *buf);
static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

/* Writes what is in wbuf: try_write first, else an async write of the rest. */
static void ur_send(conn *k) {
  struct io_uring_sqe *q = ur_sqe(k->w, k, OP_SEND);
  if (!q) {
    conn_close(k);
    return;
  }
  io_uring_prep_send(q, k->fd, k->fbuf + k->foff, k->flen - k->foff, MSG_NOSIGNAL);
  k->ops++;
  k->writing = 1;
}

static void ur_recv(conn *k) {
  struct io_uring_sqe *q = ur_sqe(k->w, k, OP_RECV);
  if (!q) {
    conn_close(k);
    return;
  }
  io_uring_prep_recv_multishot(q, k->fd, NULL, 0, 0);
  q->flags |= IOSQE_BUFFER_SELECT;
  q->buf_group = UR_BGID;
  k->ops++;
  k->rarmed = 1;
}

/* Starts reading (io_uring: a multishot receive, unless one is armed). */
static void conn_read_start(conn *k) {
  k->reading = 1;
  if (!k->w->uring) {
    if (uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read) != 0) k->reading = 0;
  } else if (!k->rarmed) {
    ur_recv(k);
  }
}

/* Sends FIN (lingering close), then goes on discarding input until EOF. */
static void conn_shutdown(conn *k) {
  if (!k->w->uring) {
    k->sreq.data = k;
    if (uv_shutdown(&k->sreq, (uv_stream_t *)&k->tcp, on_shutdown) != 0) {
      conn_close(k);
      return;
    }
  } else {
    if (shutdown(k->fd, SHUT_WR) != 0 || k->eof) {
      conn_close(k);
      return;
    }
  }
  if (!k->reading) conn_read_start(k);
}

static void conn_write(conn *k) {
  if (k->closing || k->writing) return;
  if (k->wlen && k->w->uring) {
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
    return;
  }
  if (k->wlen) {
    uv_buf_t b = uv_buf_init(k->wbuf, (unsigned)k->wlen);
    int n = uv_try_write((uv_stream_t *)&k->tcp, &b, 1);
    if (n == UV_EAGAIN || n == UV_ENOSYS) n = 0;
    if (n < 0) {
      conn_close(k);
      return;
    }
    if ((size_t)n < k->wlen) {
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
        conn_close(k);
        return;
      }
      k->writing = 1;
      return;
    }
    k->wlen = 0;
  }
  if (k->close_after && k->scount == 0 && !k->lingering) {
    if (k->eof) {
      conn_close(k);
      return;
    }
    /* Lingering close: send FIN, discard input until EOF or 2 s. */
    k->lingering = 1;
    k->linger_start = uv_now(&k->w->loop);
    conn_shutdown(k);
  }
}

static void on_write(uv_write_t *req, int status) {
  conn *k = req->data;
  k->writing = 0;
  k->flen = 0;
  if (status < 0) {
    conn_close(k);
    return;
  }
  conn_flush(k);
}

static void on_alloc(uv_handle_t *h, size_t sug, uv_buf_t *buf) {
  conn *k = h->data;
  *buf = uv_buf_init(k->w->rbuf, sizeof k->w->rbuf);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static void conn_resume(conn *k) {
  if (k->closing || k->reading || k->close_after) return;
  conn_read_start(k);
}

static void conn_pause(conn *k) {
  if (!k->reading) return;
  k->reading = 0;
  if (!k->w->uring) {
    uv_read_stop((uv_stream_t *)&k->tcp);
  } else if (k->rarmed && !k->rcancel) {
    /* Input that arrives before the cancel lands is kept in k->partial. */
    struct io_uring_sqe *q = ur_sqe(k->w, k, OP_CANCEL);
    if (!q) {
      conn_close(k);
      return;
    }
    io_uring_prep_cancel64(q, (uint64_t)(uintptr_t)k | OP_RECV, 0);
    k->ops++;
    k->rcancel = 1;
  }
}

/*
 * Moves resolved slots into the write buffer, writes, and resumes reading
 * when the pipeline has room again.
 */
static void conn_flush(conn *k) {
  if (k->closing) return;
  vast_collector *c = k->w->c;
  uint64_t now = 0;
  while (k->scount) {
    slot *s = &k->slots[k->shead];
    if (s->hit) {
      int st = atomic_load_explicit(&s->hit->state, memory_order_acquire);
      if (st == VAST__HIT_PENDING) break;
      int code = st == VAST__HIT_OK ? (s->bytes ? s->okcode : s->r204 ? 204 : 200) : 503;
      count_status(k->w, code);
      if (code == 503) s->close = 1, k->close_after = 1;
      int rc =
          st == VAST__HIT_OK && s->bytes
              ? buf_put(&k->wbuf, &k->wlen, &k->wcap, s->bytes, s->len)
              : put_hit_response(&k->wbuf, &k->wlen, &k->wcap, code, s->head, s->close, s->v10);
      free(s->bytes);
      s->bytes = NULL;
      if (!now) now = uv_hrtime();
      histo_add1(&k->w->st.lat, LAT_B, NLAT, (double)(now - s->t0) / 1e9, now - s->t0);
      vast__hit_unref(s->hit);
      s->hit = NULL;
      if (rc) {
        conn_close(k);
        return;
      }
    } else if (s->job) {
      break; /* still running */
    } else {
      int rc = buf_put(&k->wbuf, &k->wlen, &k->wcap, s->bytes, s->len);
      free(s->bytes);
      s->bytes = NULL;
      if (rc) {
        conn_close(k);
        return;
      }
    }
    k->shead = (k->shead + 1) & (k->scap - 1);
    k->scount--;
  }
  if (k->scount)
    wait_add(k);
  else
    wait_del(k);
  conn_write(k);
  if (k->closing) return;
  if (k->paused && k->scount < c->o.max_pipeline) {
    k->paused = 0;
    if (k->plen) {
      /* Parse what was left buffered while paused. */
      conn_process(k, k->partial, k->plen, 1);
      if (k->closing) return;
    }
    if (!k->paused) conn_resume(k);
  }
}

/* ---- request handling ---- */

static int field_of(vast_collector *c, const char *key, size_t n) {
  for (unsigned i = 0; i < c->nmap; i++)
    if (strlen(c->map[i].name) == n && memcmp(c->map[i].name, key, n) == 0) return c->map[i].field;
  static const char *names[] = {"ad", "cr", "sid", "code", "r"};
  for (int f = 0; f < F_NONE; f++)
    if (strlen(names[f]) == n && memcmp(names[f], key, n) == 0) return f;
  return F_NONE;
}

static int valid_event(const char *e, size_t n) {
  if (n == 0 || n > 47) return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = e[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '-' || ch == '.'))
      return 0;
  }
  return 1;
}

/* The worker scratch as an output of the library's one JSON escaper. */
typedef struct jsink {
  char **b;
  size_t *len, *cap;
  int fail;
} jsink;

static void jsink_put(void *u, const char *p, size_t n) {
  jsink *j = u;
  if (!j->fail && buf_put(j->b, j->len, j->cap, p, n)) j->fail = 1;
}

/* Appends a JSON string (quoted, escaped, invalid UTF-8 as U+FFFD: jsonw.h). */
static int json_str(char **b, size_t *len, size_t *cap, const char *s, size_t n) {
  jsink j = {b, len, cap, 0};
  vast__json_quote(s, n, jsink_put, &j);
  return j.fail ? -1 : 0;
}

/*
 * Builds the hit record of a tracking request, or returns NULL (out of
 * memory, or bad event name: *bad set).
 */
static vast__hit *make_hit(conn *k, const vast__http_req *rq, int *r204, int *bad) {
  vast_collector *c = k->w->c;
  *bad = 0;
  *r204 = 0;
  /* decoded values: event, ad, cr, sid */
  char ev[64];
  long evn = vast__url_decode(rq->path.p + 3, rq->path.n - 3, ev, sizeof ev);
  if (evn < 0 || !valid_event(ev, (size_t)evn)) {
    *bad = 1;
    return NULL;
  }
  vast__str val[F_NONE] = {{0}};
  int have[F_NONE] = {0};
  const char *q = rq->query.p, *qe = q + rq->query.n;
  while (q && q < qe) {
    const char *amp = memchr(q, '&', (size_t)(qe - q));
    const char *pe = amp ? amp : qe;
    const char *eq = memchr(q, '=', (size_t)(pe - q));
    const char *ke = eq ? eq : pe;
    int f = field_of(c, q, (size_t)(ke - q));
    if (f != F_NONE && !have[f]) {
      have[f] = 1;
      val[f] = eq ? (vast__str){eq + 1, (size_t)(pe - eq - 1)} : (vast__str){pe, 0};
    }
    q = amp ? amp + 1 : NULL;
  }
  /* Lay the strings out in the scratch buffer, then copy into the hit. */
  size_t len = 0;
  char **sb = &k->w->scratch;
  size_t *scap = &k->w->scratch_cap;
  size_t off[10];
  enum { O_EV, O_AD, O_CR, O_SID, O_IP, O_UA, O_DIP, O_DUA, O_DEV, O_Q };
  int present[10] = {0};
  size_t need =
      (size_t)evn + rq->target.n + rq->user_agent.n + rq->device_ip.n + rq->device_ua.n + 256;
  if (*scap < need) {
    char *nb = realloc(*sb, need);
    if (!nb) return NULL;
    *sb = nb;
    *scap = need;
  }
#define ADD_RAW(idx, p, n)                                                                         \
  do {                                                                                             \
    off[idx] = len;                                                                                \
    present[idx] = 1;                                                                              \
    if (buf_put(sb, &len, scap, (p), (n)) || buf_put(sb, &len, scap, "", 1)) return NULL;          \
  } while (0)
  ADD_RAW(O_EV, ev, (size_t)evn);
  for (int f = F_AD; f <= F_SID; f++) {
    if (!have[f]) continue;
    int idx = O_AD + f;
    if (*scap < len + val[f].n + 1) {
      size_t nc = (len + val[f].n + 1) * 2;
      char *nb = realloc(*sb, nc);
      if (!nb) return NULL;
      *sb = nb;
      *scap = nc;
    }
    long dn = vast__url_decode(val[f].p, val[f].n, *sb + len, *scap - len);
    if (dn < 0) { /* room was made above: only a %00 gets here */
      *bad = 2;
      return NULL;
    }
    off[idx] = len;
    present[idx] = 1;
    len += (size_t)dn + 1;
  }
  int code = -1;
  if (have[F_CODE] && val[F_CODE].n > 0 && val[F_CODE].n < 10) {
    code = 0;
    for (size_t i = 0; i < val[F_CODE].n; i++) {
      char ch = val[F_CODE].p[i];
      if (ch < '0' || ch > '9') {
        code = -1;
        break;
      }
      code = code * 10 + (ch - '0');
    }
  }
  if (have[F_R] && val[F_R].n == 3 && memcmp(val[F_R].p, "204", 3) == 0) *r204 = 1;
  ADD_RAW(O_IP, k->ip, strlen(k->ip));
  if (rq->user_agent.n) ADD_RAW(O_UA, rq->user_agent.p, rq->user_agent.n);
  if (rq->device_ip.n) ADD_RAW(O_DIP, rq->device_ip.p, rq->device_ip.n);
  if (rq->device_ua.n) ADD_RAW(O_DUA, rq->device_ua.p, rq->device_ua.n);
  if (rq->n_device || rq->forwarded_for.n) {
    off[O_DEV] = len;
    present[O_DEV] = 1;
    int fail = buf_put(sb, &len, scap, "{", 1);
    for (unsigned i = 0; i < rq->n_device && !fail; i++) {
      char name[64];
      size_t nn = rq->device_name[i].n < sizeof name ? rq->device_name[i].n : sizeof name - 1;
      for (size_t j = 0; j < nn; j++) {
        char ch = rq->device_name[i].p[j];
        name[j] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
      }
      fail = (i && buf_put(sb, &len, scap, ",", 1)) || json_str(sb, &len, scap, name, nn) ||
             buf_put(sb, &len, scap, ":", 1) ||
             json_str(sb, &len, scap, rq->device_val[i].p, rq->device_val[i].n);
    }
    if (!fail && rq->forwarded_for.n)
      fail = (rq->n_device && buf_put(sb, &len, scap, ",", 1)) ||
             buf_put(sb, &len, scap, "\"x-forwarded-for\":", 18) ||
             json_str(sb, &len, scap, rq->forwarded_for.p, rq->forwarded_for.n);
    if (fail || buf_put(sb, &len, scap, "}", 2)) return NULL;
  }
  if (rq->query.n) ADD_RAW(O_Q, rq->query.p, rq->query.n);
#undef ADD_RAW
  vast__hit *h = malloc(sizeof *h + len);
  if (!h) return NULL;
  memset(h, 0, sizeof *h);
  memcpy(h->data, *sb, len);
  const char **dst[10] = {&h->event, &h->ad,        &h->cr,        &h->sid,    &h->ip,
                          &h->ua,    &h->device_ip, &h->device_ua, &h->device, &h->query};
  for (int i = 0; i < 10; i++)
    *dst[i] = present[i] ? h->data + off[i] : NULL;
  h->code = code;
  h->t_ms = wall_ms();
  h->owner = k->w;
  return h;
}

static void write_json_stats(vast_collector *c, char **b, size_t *len, size_t *cap);
static void write_metrics(vast_collector *c, char **b, size_t *len, size_t *cap);
static void write_web_stats(vast_collector *c, char **b, size_t *len, size_t *cap);

/* GET of the web pages and the cheap JSON (run here, on the loop). */
static void handle_web_get(conn *k, const char *p, size_t n, int head, int close, int v10) {
  vast_collector *c = k->w->c;
  const char *ctype;
  const unsigned char *data;
  size_t dlen;
  if (n == 10 && memcmp(p, "/api/stats", 10) == 0) {
    char *b = NULL;
    size_t len = 0, cap = 0;
    write_web_stats(c, &b, &len, &cap);
    respond_web(k, 200, "application/json", b, len, head, close, v10);
    free(b);
  } else if (n == 11 && memcmp(p, "/api/errors", 11) == 0) {
    vast__web_resp r;
    vast__web_errors(&r);
    respond_web(k, r.status, r.ctype, r.body, r.len, head, close, v10);
    vast__web_resp_free(&r);
  } else if (vast__web_api_known(p, n)) {
    respond_web(k, 405, "text/plain", "use POST\n", 9, head, close, v10);
  } else if (vast__web_asset(p, n, &ctype, &data, &dlen)) {
    respond_web(k, 200, ctype, data, dlen, head, close, v10);
  } else {
    respond_web(k, 404, "text/plain", "not found\n", 10, head, close, v10);
  }
}

/*
 * A tracking request (GET, HEAD, or a beacon POST whose body was read). With
 * ok (a whole response, malloc'd, owned from here on), the hit is answered
 * with it instead of the GIF once stored (okcode its status): the test ad
 * server's tags and the tap's redirects (certify.c).
 */
static void handle_hit_x(conn *k, const vast__http_req *rq, int head, int close, int v10, char *ok,
                         size_t oklen, int okcode) {
  worker *w = k->w;
  vast_collector *c = w->c;
  int r204 = 0, bad = 0;
  if (atomic_load_explicit(&c->qlen, memory_order_relaxed) >= c->o.max_queue) {
    free(ok);
    respond(k, 503, "text/plain", "queue full\n", 11, head, close, v10);
    return;
  }
  if (atomic_load_explicit(&c->db_lost, memory_order_relaxed)) {
    free(ok);
    respond(k, 503, "text/plain", "database file lost\n", 19, head, close, v10);
    return;
  }
  vast__hit *h = make_hit(k, rq, &r204, &bad);
  if (!h) {
    free(ok);
    if (bad == 2) {
      WINC(w, bad);
      logf_(c, "bad request from %s: NUL byte (%%00) in a parameter", k->ip);
      respond(k, 400, "text/plain", "NUL byte in a parameter\n", 24, head, close, v10);
    } else if (bad) {
      WINC(w, bad);
      logf_(c, "bad request from %s: invalid event name", k->ip);
      respond(k, 400, "text/plain", "invalid event name\n", 19, head, close, v10);
    } else {
      respond(k, 503, "text/plain", "out of memory\n", 14, head, close, v10);
    }
    return;
  }
  WINC(w, hits);
  int durable = c->o.ack == VAST_ACK_DURABLE;
  atomic_init(&h->refs, durable ? 2 : 1);
  atomic_init(&h->state, VAST__HIT_PENDING);
  h->next = NULL;
  *w->ltail = h;
  w->ltail = &h->next;
  w->ln++;
  if (durable) {
    atomic_fetch_add(&w->inflight, 1);
    slot s = {.hit = h,
              .t0 = uv_hrtime(),
              .r204 = (unsigned char)r204,
              .head = (unsigned char)head,
              .close = (unsigned char)close,
              .v10 = (unsigned char)v10,
              .bytes = ok,
              .len = oklen,
              .okcode = okcode};
    if (close) k->close_after = 1;
    if (slot_push(k, s)) {
      vast__hit_unref(h);
      free(ok);
      conn_close(k);
    }
  } else if (ok) {
    respond_raw(k, okcode, ok, oklen, close);
  } else if (r204) {
    respond(k, 204, NULL, NULL, 0, head, close, v10);
  } else {
    respond(k, 200, "image/gif", GIF, sizeof GIF, head, close, v10);
  }
}

static void handle_hit(conn *k, const vast__http_req *rq, int head, int close, int v10) {
  handle_hit_x(k, rq, head, close, v10, NULL, 0, 0);
}

/*
 * The player-certification routes (lib/certify/certify.c): GET /vast, /vmap (the
 * test ad server). Returns 0 when the path is not one of them. An answer
 * that comes with a record (a served tag) is stored like a hit and sent
 * once the hit is stored, so a collector that answered a tag has it.
 */
static void tap_job(conn *k, const vast__http_req *rq, int close, int v10);
static void forward_job(conn *k, const vast__http_req *rq, const char *url, size_t un);
static int certify_route(conn *k, const vast__http_req *rq, int head, int close, int v10) {
  vast_collector *c = k->w->c;
  vast__cert_ans a;
  if (!vast__certify_route(rq->path.p, rq->path.n, rq->query.p, rq->query.n, rq->host.p, rq->host.n,
                           &a))
    return 0;
  if (a.tap_job) {
    tap_job(k, rq, close, v10);
    return 1;
  }
  if (!a.event[0]) {
    respond_web(k, a.status, a.ctype, a.body, a.blen, head, close, v10);
    vast__cert_ans_free(&a);
    return 1;
  }
  char *b = NULL;
  size_t len = 0, cap = 0;
  char path[80];
  if (a.location && c->o.tap_forward) { /* none or server: a plain hit */
    vast__http_req r2 = *rq;
    int pn = snprintf(path, sizeof path, "/t/%s", a.event);
    r2.path = (vast__str){path, (size_t)pn};
    r2.query = (vast__str){a.hitq, a.hqn};
    handle_hit(k, &r2, head, close, v10);
    if (c->o.tap_forward == 2) forward_job(k, rq, a.location, a.locn);
    vast__cert_ans_free(&a);
    return 1;
  }
  if (a.location) {
    /* 302 to the original, no body: what the player's request would have got */
    char h[320];
    int hn = snprintf(
        h, sizeof h, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n%s%s%sLocation: ", NO_CACHE,
        close ? "Connection: close\r\n" : "", !close && v10 ? "Connection: keep-alive\r\n" : "");
    if (buf_put(&b, &len, &cap, h, (size_t)hn) || buf_put(&b, &len, &cap, a.location, a.locn) ||
        buf_put(&b, &len, &cap, "\r\n\r\n", 4)) {
      free(b);
      vast__cert_ans_free(&a);
      conn_close(k);
      return 1;
    }
  }
  int pn = snprintf(path, sizeof path, "/t/%s", a.event);
  vast__http_req r2 = *rq;
  r2.path = (vast__str){path, (size_t)pn};
  r2.query = (vast__str){a.hitq, a.hqn};
  if (!a.location &&
      build_response(&b, &len, &cap, a.status, a.ctype, a.body, a.blen, head, close, v10, 1)) {
    free(b);
    vast__cert_ans_free(&a);
    conn_close(k);
    return 1;
  }
  handle_hit_x(k, &r2, head, close, v10, b, len, a.status);
  vast__cert_ans_free(&a);
  return 1;
}

/*
 * The body of a POST whose head (head_len bytes) is parsed, avail bytes of it
 * there: 1 when the whole body is there; -1 when it must be waited for (its
 * bytes are reserved against the body budget, and k->body_need says how much
 * the request takes); 0 when it was refused and answered, closing: chunked
 * 411, longer than limit 413, budget spent 503. Counts the request unless -1.
 */
static int post_body(conn *k, const vast__http_req *rq, size_t head_len, size_t avail,
                     size_t limit) {
  vast_collector *c = k->w->c;
  size_t blen = (size_t)rq->content_length;
  int code = 0;
  const char *msg = NULL;
  if (rq->chunked) {
    code = 411, msg = "send a Content-Length\n";
  } else if (rq->content_length > limit) {
    code = 413, msg = "request body too large\n";
    logf_(c, "request body from %s refused: %llu bytes (limit %zu)", k->ip,
          (unsigned long long)rq->content_length, limit);
  } else if (avail < blen) {
    if (body_reserve(k, head_len + blen) == 0) {
      k->body_need = head_len + blen;
      return -1;
    }
    code = 503, msg = "server busy\n";
    logf_(c, "request body from %s refused: %zu bytes of bodies already in flight", k->ip,
          (size_t)atomic_load(&c->body_bytes));
  }
  WINC(k->w, requests);
  if (code) {
    WINC(k->w, bad);
    respond(k, code, "text/plain", msg, strlen(msg), 0, 1, rq->minor == 0);
    return 0;
  }
  k->body_need = 0;
  body_release(k);
  return 1;
}

/*
 * POST /t/<event>: a beacon sent with navigator.sendBeacon() or fetch(). The
 * hit is what the URL says, as for GET; the body (up to BEACON_MAX_BODY) is
 * read and dropped. Returns the body bytes consumed, or -1 when the body is
 * not all there yet (k->body_need then says how much the request takes).
 */
#define BEACON_MAX_BODY 65536
static long beacon_post(conn *k, const vast__http_req *rq, size_t head_len, size_t avail) {
  int r = post_body(k, rq, head_len, avail, BEACON_MAX_BODY);
  if (r <= 0) return r;
  handle_hit(k, rq, 0, !rq->keep_alive || k->w->draining, rq->minor == 0);
  return (long)rq->content_length;
}

static void handle_request(conn *k, const vast__http_req *rq) {
  worker *w = k->w;
  vast_collector *c = w->c;
  WINC(w, requests);
  int head = rq->method.n == 4 && memcmp(rq->method.p, "HEAD", 4) == 0;
  int get = rq->method.n == 3 && memcmp(rq->method.p, "GET", 3) == 0;
  int close = !rq->keep_alive || w->draining;
  int v10 = rq->minor == 0;
  if (!get && !head) {
    WINC(w, bad);
    respond(k, 405, "text/plain", "method not allowed\n", 19, 0, close || rq->has_body, v10);
    return;
  }
  if (rq->has_body) {
    WINC(w, bad);
    respond(k, 400, "text/plain", "request body not accepted\n", 26, head, 1, v10);
    return;
  }
  const char *p = rq->path.p;
  size_t n = rq->path.n;
  if (n > 3 && memcmp(p, "/t/", 3) == 0) {
    handle_hit(k, rq, head, close, v10);
    return;
  }
  if (c->o.web && certify_route(k, rq, head, close, v10)) return;
  if (n == 8 && memcmp(p, "/healthz", 8) == 0) {
    if (atomic_load_explicit(&c->db_lost, memory_order_relaxed))
      respond(k, 503, "text/plain", "database file deleted or replaced\n", 34, head, close, v10);
    else
      respond(k, 200, "text/plain", "ok\n", 3, head, close, v10);
  } else if (n == 6 && memcmp(p, "/stats", 6) == 0) {
    char *b = NULL;
    size_t len = 0, cap = 0;
    write_json_stats(c, &b, &len, &cap);
    respond(k, 200, "application/json", b, len, head, close, v10);
    free(b);
  } else if (n == 8 && memcmp(p, "/metrics", 8) == 0) {
    char *b = NULL;
    size_t len = 0, cap = 0;
    write_metrics(c, &b, &len, &cap);
    respond(k, 200, "text/plain; version=0.0.4", b, len, head, close, v10);
    free(b);
  } else if (c->o.web) {
    handle_web_get(k, p, n, head, close, v10);
  } else {
    respond(k, 404, "text/plain", "not found\n", 10, head, close, v10);
  }
}

/* ---- POST /api/...: bodies, and work on the thread pool ---- */

static void web_work(uv_work_t *req) {
  webjob *j = req->data;
  if (j->pn == 4 && !memcmp(j->path, "/tap", 4)) { /* GET /tap: the host is in body */
    vast__certify_tap(j->query, j->qn, j->body, j->bn, j->c->o.web_allow_private, &j->resp.status,
                      &j->resp.ctype, &j->resp.body, &j->resp.len);
    return;
  }
  if (j->pn == 4 && !memcmp(j->path, "/fwd", 4)) { /* query: URL; body: ip NUL ua */
    long st = 0;
    char msg[256];
    vast__certify_forward(j->query, j->body, j->body + strlen(j->body) + 1,
                          j->c->o.web_allow_private, &st, msg, sizeof msg);
    if (st < 200 || st > 399)
      logf_(j->c, "--tap-forward server: %s answered %ld%s%s", j->query, st, msg[0] ? ": " : "",
            msg);
    return;
  }
  if (j->pn >= 12 && !memcmp(j->path, "/conformance", 12)) {
    vast__certify_page(j->c->o.db_path, j->path, j->pn, &j->resp.status, &j->resp.ctype,
                       &j->resp.body, &j->resp.len);
    return;
  }
  vast__web_api(j->path, j->pn, j->query, j->qn, j->body, j->bn, j->c->o.web_allow_private,
                &j->resp);
}

/* Back on the loop: the answer takes the job's slot; the connection flushes. */
static void web_after(uv_work_t *req, int status) {
  webjob *j = req->data;
  conn *k = j->k;
  if (j->slow) atomic_fetch_sub(&j->c->slow_busy, 1);
  if (k && !k->closing) {
    slot *s = NULL;
    for (size_t i = 0; i < k->scount && !s; i++) {
      slot *t = &k->slots[(k->shead + i) & (k->scap - 1)];
      if (t->job == j) s = t;
    }
    if (s) {
      int code = status == UV_ECANCELED ? 503 : j->resp.status ? j->resp.status : 500;
      size_t cap = 0;
      count_status(k->w, code);
      s->job = NULL;
      if (code >= 400) WINC(k->w, bad);
      if (build_response(&s->bytes, &s->len, &cap, code,
                         j->resp.ctype ? j->resp.ctype : "text/plain", j->resp.body, j->resp.len,
                         s->head, s->close, s->v10, 1))
        conn_close(k);
      else
        conn_flush(k);
    }
  }
  vast__web_resp_free(&j->resp);
  free(j->path);
  free(j);
}

/*
 * GET /tap and GET /conformance/<session>: the fetch and rewrite, or the
 * SQLite read, run on the thread pool as a slow /api/ call does (same cap);
 * the Host header travels as the job's body.
 */
static void tap_job(conn *k, const vast__http_req *rq, int close, int v10) {
  vast_collector *c = k->w->c;
  if (atomic_fetch_add(&c->slow_busy, 1) >= c->slow_max) {
    atomic_fetch_sub(&c->slow_busy, 1);
    static const char m[] = "busy: too many requests waiting on the network, retry later\n";
    respond_web(k, 503, "text/plain", m, sizeof m - 1, 0, close, v10);
    return;
  }
  webjob *j = calloc(1, sizeof *j);
  char *mem = malloc(rq->path.n + rq->query.n + rq->host.n + 3);
  slot sl = {.head = 0, .close = (unsigned char)close, .v10 = (unsigned char)v10};
  sl.job = j;
  if (!j || !mem || slot_push(k, sl) != 0) {
    free(j);
    free(mem);
    atomic_fetch_sub(&c->slow_busy, 1);
    respond_web(k, 503, "text/plain", "out of memory\n", 14, 0, 1, v10);
    return;
  }
  j->slow = 1;
  j->k = k;
  j->c = c;
  j->path = mem;
  j->pn = rq->path.n;
  memcpy(mem, rq->path.p, rq->path.n);
  mem[rq->path.n] = 0;
  j->query = mem + rq->path.n + 1;
  j->qn = rq->query.n;
  if (rq->query.n) memcpy(j->query, rq->query.p, rq->query.n);
  j->query[rq->query.n] = 0;
  j->body = j->query + rq->query.n + 1;
  j->bn = rq->host.n;
  if (rq->host.n) memcpy(j->body, rq->host.p, rq->host.n);
  j->body[rq->host.n] = 0;
  j->req.data = j;
  if (close) k->close_after = 1;
  if (uv_queue_work(&k->w->loop, &j->req, web_work, web_after) != 0) {
    j->resp.status = 503;
    web_after(&j->req, 0);
  }
}

/*
 * --tap-forward server: fires the original URL of a tapped hit from the
 * collector (thread pool, under the slow-call cap; past it the forward is
 * dropped and logged) with the player's address or X-Device-IP and its
 * User-Agent or X-Device-User-Agent. Not tied to the connection.
 */
static void forward_job(conn *k, const vast__http_req *rq, const char *url, size_t un) {
  vast_collector *c = k->w->c;
  const char *ip = rq->device_ip.n ? rq->device_ip.p : k->ip;
  size_t ipn = rq->device_ip.n ? rq->device_ip.n : strlen(k->ip);
  const vast__str *ua = rq->device_ua.n ? &rq->device_ua : &rq->user_agent;
  if (atomic_fetch_add(&c->slow_busy, 1) >= c->slow_max) {
    atomic_fetch_sub(&c->slow_busy, 1);
    logf_(c, "--tap-forward server: busy, not forwarded: %.*s", (int)un, url);
    return;
  }
  webjob *j = calloc(1, sizeof *j);
  char *mem = malloc(5 + un + 1 + ipn + 1 + ua->n + 1);
  if (!j || !mem) {
    free(j);
    free(mem);
    atomic_fetch_sub(&c->slow_busy, 1);
    logf_(c, "--tap-forward server: out of memory, not forwarded: %.*s", (int)un, url);
    return;
  }
  j->slow = 1;
  j->c = c;
  j->path = mem;
  j->pn = 4;
  memcpy(mem, "/fwd", 5);
  j->query = mem + 5;
  memcpy(j->query, url, un);
  j->query[un] = 0;
  j->qn = un;
  j->body = j->query + un + 1;
  memcpy(j->body, ip, ipn);
  j->body[ipn] = 0;
  memcpy(j->body + ipn + 1, ua->p, ua->n);
  j->body[ipn + 1 + ua->n] = 0;
  j->bn = ipn + 1 + ua->n;
  j->req.data = j;
  if (uv_queue_work(&k->w->loop, &j->req, web_work, web_after) != 0) web_after(&j->req, 0);
}

/*
 * A POST to /api/... whose head is parsed: data[0..avail) follows the head.
 * Returns the body bytes consumed, or -1 when the body is not all there yet
 * (k->body_need then says how much the whole request takes).
 */
static long web_post(conn *k, const vast__http_req *rq, size_t head_len, const char *data,
                     size_t avail) {
  vast_collector *c = k->w->c;
  int close = !rq->keep_alive || k->w->draining, v10 = rq->minor == 0;
  if (!vast__web_api_ctype_ok(rq->content_type.p, rq->content_type.n, rq->api_client)) {
    /* what another web site can make a browser send without asking: refused
       before the body is read, and the connection closed */
    static const char m[] = "send Content-Type: application/xml or application/json "
                            "(or an X-Vastrack-Client header)\n";
    WINC(k->w, requests);
    WINC(k->w, bad);
    respond_web(k, 415, "text/plain", m, sizeof m - 1, 0, 1, v10);
    return 0;
  }
  int r = post_body(k, rq, head_len, avail, c->o.max_body);
  if (r <= 0) return r;
  size_t blen = (size_t)rq->content_length;
  if (!vast__web_api_known(rq->path.p, rq->path.n)) {
    respond_web(k, 404, "text/plain", "not found\n", 10, 0, close, v10);
    return (long)blen;
  }
  int slow = vast__web_api_slow(rq->path.p, rq->path.n, rq->query.p, rq->query.n, data, blen);
  if (slow && atomic_fetch_add(&c->slow_busy, 1) >= c->slow_max) {
    atomic_fetch_sub(&c->slow_busy, 1);
    static const char m[] = "busy: too many API requests waiting on the network, retry later\n";
    respond_web(k, 503, "text/plain", m, sizeof m - 1, 0, close, v10);
    return (long)blen;
  }
  webjob *j = calloc(1, sizeof *j);
  char *mem = malloc(rq->path.n + rq->query.n + blen + 3);
  slot sl = {.head = 0, .close = (unsigned char)close, .v10 = (unsigned char)v10};
  sl.job = j;
  if (!j || !mem || slot_push(k, sl) != 0) {
    free(j);
    free(mem);
    if (slow) atomic_fetch_sub(&c->slow_busy, 1);
    respond_web(k, 503, "text/plain", "out of memory\n", 14, 0, 1, v10);
    return (long)blen;
  }
  j->slow = slow;
  j->k = k;
  j->c = c;
  j->path = mem;
  j->pn = rq->path.n;
  memcpy(mem, rq->path.p, rq->path.n);
  mem[rq->path.n] = 0;
  j->query = mem + rq->path.n + 1;
  j->qn = rq->query.n;
  if (rq->query.n) memcpy(j->query, rq->query.p, rq->query.n);
  j->query[rq->query.n] = 0;
  j->body = j->query + rq->query.n + 1;
  j->bn = blen;
  if (blen) memcpy(j->body, data, blen);
  j->body[blen] = 0;
  j->req.data = j;
  if (close) k->close_after = 1;
  if (uv_queue_work(&k->w->loop, &j->req, web_work, web_after) != 0) {
    /* cannot happen with a valid loop; answer instead of hanging */
    j->resp.status = 503;
    web_after(&j->req, 0);
  }
  return (long)blen;
}

/* Hands the hits gathered in this callback to the writer in one lock. */
static void worker_push_hits(worker *w) {
  if (!w->ln || w->c->journal) return; /* journal mode: on_prepare takes them */
  vast_collector *c = w->c;
  pthread_mutex_lock(&c->qmu);
  *c->qtail = w->lhead;
  c->qtail = w->ltail;
  atomic_fetch_add(&c->qlen, w->ln);
  pthread_cond_signal(&c->qcv);
  pthread_mutex_unlock(&c->qmu);
  w->lhead = NULL;
  w->ltail = &w->lhead;
  w->ln = 0;
}

/*
 * Parses and handles every complete request in data[0..len); keeps the rest
 * in k->partial. from_partial says data is k->partial itself.
 */
static void conn_process(conn *k, const char *data, size_t len, int from_partial) {
  worker *w = k->w;
  vast_collector *c = w->c;
  vast__http_limits lim = {c->o.max_request_line, c->o.max_header_bytes, c->o.max_headers};
  size_t off = 0;
  while (off < len && !k->close_after && !k->closing) {
    if (k->scount >= c->o.max_pipeline) {
      k->paused = 1;
      conn_pause(k);
      break;
    }
    vast__http_req rq;
    long r = vast__http_parse(data + off, len - off, &lim, &rq);
    if (r == 0) break;
    if (r < 0) {
      int code = (int)-r;
      WINC(w, bad);
      logf_(c, "bad request from %s: %d %s", k->ip, code, reason(code));
      respond(k, code, "text/plain", reason(code), strlen(reason(code)), 0, 1, 0);
      off = len;
      break;
    }
    if (rq.method.n == 4 && rq.path.n > 3 && memcmp(rq.method.p, "POST", 4) == 0 &&
        memcmp(rq.path.p, "/t/", 3) == 0) {
      long used = beacon_post(k, &rq, (size_t)r, len - off - (size_t)r);
      if (used < 0) break; /* body incomplete: wait for more */
      off += (size_t)r + (size_t)used;
      continue;
    }
    if (rq.method.n == 4 && rq.method.p[0] == 'P' && c->o.web && rq.path.n > 5 &&
        memcmp(rq.method.p, "POST", 4) == 0 && memcmp(rq.path.p, "/api/", 5) == 0) {
      long used = web_post(k, &rq, (size_t)r, data + off + r, len - off - (size_t)r);
      if (used < 0) break; /* body incomplete: wait for more */
      off += (size_t)r + (size_t)used;
      continue;
    }
    handle_request(k, &rq);
    off += (size_t)r;
  }
  worker_push_hits(w);
  if (k->closing) return;
  size_t rest = len - off;
  if (k->close_after) rest = 0;
  if (from_partial) {
    if (rest && off) memmove(k->partial, k->partial + off, rest);
    k->plen = rest;
  } else if (rest) {
    k->plen = 0;
    if (buf_put(&k->partial, &k->plen, &k->pcap, data + off, rest)) {
      conn_close(k);
      return;
    }
  }
  if (!rest)
    k->req_start = 0;
  else if (off || !k->req_start)
    k->req_start = uv_now(&w->loop);
  if (k->close_after) conn_pause(k);
  conn_flush(k);
}

/* The peer sent EOF. */
static void conn_eof(conn *k) {
  if (!k->lingering && (k->scount || k->wlen || k->writing)) {
    /* Half-closed client: answer what it sent, then close. */
    k->eof = 1;
    k->close_after = 1;
    conn_pause(k);
    conn_flush(k);
    return;
  }
  conn_close(k);
}

static void conn_input(conn *k, const char *data, size_t nread);

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  conn *k = st->data;
  if (k->closing) return;
  if (nread < 0) {
    if (nread == UV_EOF)
      conn_eof(k);
    else
      conn_close(k);
    return;
  }
  if (nread > 0) conn_input(k, buf->base, (size_t)nread);
}

/* Bytes received: parsed straight from the receive buffer, or appended to
   what is left of an incomplete request. */
static void conn_input(conn *k, const char *data, size_t nread) {
  k->last_active = uv_now(&k->w->loop);
  if (k->lingering || k->close_after) return; /* discard */
  vast_collector *c = k->w->c;
  if (k->plen) {
    size_t limit = (c->o.max_header_bytes + c->o.max_request_line + sizeof k->w->rbuf) * 4;
    if (k->body_need && k->body_need + sizeof k->w->rbuf > limit)
      limit = k->body_need + sizeof k->w->rbuf;
    if (k->plen + nread > limit || buf_put(&k->partial, &k->plen, &k->pcap, data, nread)) {
      conn_close(k);
      return;
    }
    conn_process(k, k->partial, k->plen, 1);
  } else {
    conn_process(k, data, nread, 0);
  }
}

/* A new connection, k, linked and counted: refuses it when over the limit or
   draining, else sets it up and starts reading. */
static void conn_accepted(conn *k) {
  worker *w = k->w;
  vast_collector *c = w->c;
  if (atomic_load(&c->open) > c->o.max_conns || w->draining) {
    atomic_fetch_add(&c->rejected, 1);
    count_status(w, 503);
    logf_(c, "too many connections (%u): refusing one", c->o.max_conns);
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                               "Connection: close\r\nRetry-After: 1\r\n\r\n";
    if (w->uring) {
      ssize_t wr = send(k->fd, busy, sizeof busy - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
      (void)wr; /* best effort: the connection is closed either way */
    } else {
      uv_buf_t b = uv_buf_init((char *)busy, sizeof busy - 1);
      uv_try_write((uv_stream_t *)&k->tcp, &b, 1);
    }
    conn_close(k);
    return;
  }
  atomic_fetch_add(&c->accepted, 1);
  struct sockaddr_storage ss = {0};
  if (w->uring) {
    int one = 1;
    socklen_t sl = sizeof ss;
    setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (getpeername(k->fd, (struct sockaddr *)&ss, &sl) != 0) ss.ss_family = AF_UNSPEC;
  } else {
    int sl = sizeof ss;
    uv_tcp_nodelay(&k->tcp, 1);
    if (uv_tcp_getpeername(&k->tcp, (struct sockaddr *)&ss, &sl) != 0) ss.ss_family = AF_UNSPEC;
  }
  if (ss.ss_family == AF_INET)
    uv_ip4_name((struct sockaddr_in *)&ss, k->ip, sizeof k->ip);
  else if (ss.ss_family == AF_INET6)
    uv_ip6_name((struct sockaddr_in6 *)&ss, k->ip, sizeof k->ip);
  k->last_active = uv_now(&w->loop);
  conn_resume(k);
}

static conn *conn_new(worker *w) {
  conn *k = calloc(1, sizeof *k);
  if (!k) return NULL;
  k->w = w;
  k->fd = -1;
  k->next = w->conns;
  if (w->conns) w->conns->prev = k;
  w->conns = k;
  w->nconns++;
  atomic_fetch_add(&w->c->open, 1);
  return k;
}

static void on_connection(uv_stream_t *server, int status) {
  worker *w = server->data;
  if (status < 0) return;
  conn *k = conn_new(w);
  if (!k) return;
  uv_tcp_init(&w->loop, &k->tcp);
  k->tcp.data = k;
  if (uv_accept(server, (uv_stream_t *)&k->tcp) != 0) {
    conn_close(k);
    return;
  }
  conn_accepted(k);
}

/* ---- worker ---- */

static void on_handle_closed(uv_handle_t *h) {
  (void)h;
}

/* Closes the worker's own handles once draining is complete. */
static void worker_maybe_finish(worker *w) {
  if (!w->draining || w->closed_handles || w->nconns || atomic_load(&w->inflight)) return;
  w->closed_handles = 1;
  uv_close((uv_handle_t *)&w->wake, on_handle_closed);
  uv_close((uv_handle_t *)&w->sweep, on_handle_closed);
  uv_close((uv_handle_t *)&w->commit, on_handle_closed);
}

static void worker_drain(worker *w) {
  if (w->draining) return;
  w->draining = 1;
  w->drain_deadline = uv_now(&w->loop) + w->c->o.drain_timeout_ms;
  if (w->listener_open) {
    w->listener_open = 0;
    if (!w->uring) {
      uv_close((uv_handle_t *)&w->listener, on_handle_closed);
    } else {
      /* Stop the multishot accept; the socket closes with its last use. */
      struct io_uring_sqe *q = ur_sqe(w, w, OP_NOP);
      if (q) io_uring_prep_cancel_fd(q, w->lfd, IORING_ASYNC_CANCEL_ALL);
      close(w->lfd);
      w->lfd = -1;
      uv_close((uv_handle_t *)&w->listener, on_handle_closed); /* never opened */
    }
  }
  for (conn *k = w->conns, *nx; k; k = nx) {
    nx = k->next;
    if (k->closing) continue;
    conn_pause(k);
    if (!k->scount && !k->wlen && !k->writing) {
      conn_close(k);
    } else {
      k->close_after = 1;
      k->eof = 1; /* close without lingering once answered */
      conn_flush(k);
    }
  }
  worker_maybe_finish(w);
}

static void on_wake(uv_async_t *a) {
  worker *w = a->data;
  if (atomic_load(&w->c->stopping)) worker_drain(w);
  for (conn *k = w->waiting, *nx; k; k = nx) {
    nx = k->wnext;
    conn_flush(k);
  }
  worker_maybe_finish(w);
}

static void ur_accept(worker *w);

static void on_sweep(uv_timer_t *t) {
  worker *w = t->data;
  vast_collector *c = w->c;
  uint64_t now = uv_now(&w->loop);
  if (w->uring && w->accept_failed && w->listener_open && !w->accept_armed) {
    w->accept_failed = 0; /* accept failed (EMFILE...): try again once per sweep */
    ur_accept(w);
  }
  for (conn *k = w->conns, *nx; k; k = nx) {
    nx = k->next;
    if (k->closing) continue;
    if (w->draining && now >= w->drain_deadline) {
      conn_close(k);
    } else if (k->lingering) {
      if (now - k->linger_start > 2000) conn_close(k);
    } else if (k->req_start && k->reading && now - k->req_start > c->o.header_timeout_ms) {
      atomic_fetch_add(&c->timeouts, 1);
      WINC(w, bad);
      logf_(c, "header timeout from %s after %u ms", k->ip, c->o.header_timeout_ms);
      k->plen = 0;
      k->req_start = 0;
      respond(k, 408, "text/plain", "request timeout\n", 16, 0, 1, 0);
      conn_pause(k);
      conn_flush(k);
    } else if (!k->req_start && !k->scount && !k->wlen && !k->writing &&
               now - k->last_active > c->o.idle_timeout_ms) {
      conn_close(k);
    }
  }
  worker_maybe_finish(w);
}

/* ---- the io_uring loop ---- */

static void worker_journal(worker *w);

static void ur_accept(worker *w) {
  struct io_uring_sqe *q = ur_sqe(w, w, OP_ACCEPT);
  if (!q) return;
  io_uring_prep_multishot_accept(q, w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  w->accept_armed = 1;
}

static void ur_on_accept(worker *w, const struct io_uring_cqe *cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) w->accept_armed = 0;
  if (cqe->res < 0) {
    /* EMFILE and the like: try again from the sweep timer, not in a spin. */
    if (cqe->res != -ECANCELED && cqe->res != -EAGAIN && cqe->res != -EINTR) {
      if (!w->accept_failed) logf_(w->c, "accept: %s", strerror(-cqe->res));
      w->accept_failed = 1;
    }
  } else {
    conn *k = conn_new(w);
    if (!k) {
      close(cqe->res);
    } else {
      k->fd = cqe->res;
      conn_accepted(k);
    }
  }
  if (!w->accept_armed && w->listener_open && !w->accept_failed) ur_accept(w);
}

static void ur_on_recv(worker *w, conn *k, const struct io_uring_cqe *cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) {
    k->rarmed = 0;
    k->rcancel = 0;
    k->ops--;
  }
  if (cqe->flags & IORING_CQE_F_BUFFER) {
    unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    char *b = w->bufs + (size_t)bid * UR_BUFSZ;
    if (cqe->res > 0 && !k->closing) conn_input(k, b, (size_t)cqe->res);
    io_uring_buf_ring_add(w->br, b, UR_BUFSZ, (unsigned short)bid, io_uring_buf_ring_mask(UR_NBUF),
                          0);
    io_uring_buf_ring_advance(w->br, 1);
  } else if (!k->closing) {
    if (cqe->res == 0) {
      conn_eof(k);
    } else if (cqe->res == -ENOBUFS) {
      /* Every buffer was in use: arm again once this batch returned them. */
      if (!k->rnobufs) {
        WINC(w, nobufs);
        k->rnobufs = 1;
        k->nbnext = w->nobufs;
        w->nobufs = k;
      }
      return;
    } else if (cqe->res != -ECANCELED) {
      conn_close(k);
    }
  }
  if (!k->closing && k->reading && !k->rarmed && !k->rnobufs) ur_recv(k);
}

static void ur_on_send(conn *k, const struct io_uring_cqe *cqe) {
  k->ops--;
  if (k->closing) return;
  if (cqe->res < 0) {
    conn_close(k);
    return;
  }
  k->foff += (size_t)cqe->res;
  if (k->foff < k->flen) {
    ur_send(k); /* short send: the rest */
    return;
  }
  k->writing = 0;
  k->flen = 0;
  conn_flush(k);
}

/* Handles every completion in the ring. */
static void ur_complete(worker *w) {
  struct io_uring_cqe *cqe;
  unsigned head, n = 0;
  io_uring_for_each_cqe(&w->ring, head, cqe) {
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
      w->uv_armed = 0;
      w->uv_ready = 1;
      break;
    default:
      break;
    }
  }
  io_uring_cq_advance(&w->ring, n);
}

/* Frees closed connections with nothing in flight; re-arms receives that ran
   out of buffers. */
static void ur_tidy(worker *w) {
  conn *nb = w->nobufs;
  w->nobufs = NULL;
  while (nb) {
    conn *k = nb;
    nb = k->nbnext;
    k->rnobufs = 0;
    if (!k->closing && k->reading && !k->rarmed) ur_recv(k);
  }
  conn **pp = &w->dead;
  while (*pp) {
    conn *k = *pp;
    if (k->ops == 0 && !k->rnobufs) {
      *pp = k->dnext;
      conn_free(k);
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
  w->uv_ready = 1;
  for (;;) {
    uv_update_time(L);
    if (w->uv_ready || uv_backend_timeout(L) == 0) {
      w->uv_ready = 0;
      uv_run(L, UV_RUN_NOWAIT);
    }
    if (w->c->journal) worker_journal(w);
    ur_tidy(w);
    if (w->closed_handles && !uv_loop_alive(L) && !w->dead) break;
    if (!w->uv_armed) {
      struct io_uring_sqe *q = ur_sqe(w, w, OP_UVPOLL);
      if (q) {
        io_uring_prep_poll_add(q, uv_backend_fd(L), POLLIN);
        w->uv_armed = 1;
      }
    }
    int t = uv_backend_timeout(L);
    struct __kernel_timespec ts = {.tv_sec = t / 1000, .tv_nsec = (long long)(t % 1000) * 1000000};
    struct io_uring_cqe *cqe = NULL;
    int rc = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, t >= 0 ? &ts : NULL, NULL);
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN) {
      logf_(w->c, "io_uring: %s", strerror(-rc));
      struct timespec pause = {0, 1000000}; /* never spin on a broken ring */
      nanosleep(&pause, NULL);
    }
    ur_complete(w);
  }
}

static void *worker_main(void *arg) {
  worker *w = arg;
  if (w->uring)
    ur_run(w);
  else
    uv_run(&w->loop, UV_RUN_DEFAULT);
  return NULL;
}

/* ---- writer ---- */

/* Funnel column of an event name. */
static int funnel_of(const char *e) {
  for (int i = 0; i < FUN_OTHER; i++)
    if (!strcmp(e, FUNNEL[i])) return i;
  return FUN_OTHER;
}

/* The dashboard's counts for one stored hit (called under emu). */
static void count_dashboard(vast_collector *c, const vast__hit *h) {
  const char *ad = h->ad ? h->ad : "";
  uint32_t hv = 2166136261u;
  for (const char *p = ad; *p; p++)
    hv = (hv ^ (unsigned char)*p) * 16777619u;
  adcount *a = NULL;
  for (unsigned i = 0; i < ADS_HASH; i++) {
    unsigned at = (hv + i) & (ADS_HASH - 1);
    short ix = c->ad_slot[at];
    if (ix == 0) {
      if (c->nads < NADS && strlen(ad) < sizeof a->ad) {
        a = &c->ads[c->nads++];
        strcpy(a->ad, ad);
        c->ad_slot[at] = (short)c->nads;
      }
      break;
    }
    if (!strcmp(c->ads[ix - 1].ad, ad)) {
      a = &c->ads[ix - 1];
      break;
    }
  }
  int f = funnel_of(h->event);
  if (a)
    a->n[f]++;
  else
    c->ads_other++;
  if (f != FUN_ERROR) return;
  unsigned j = 0;
  while (j < c->ncodes && c->codes[j].code != h->code)
    j++;
  if (j == c->ncodes) {
    if (j == sizeof c->codes / sizeof c->codes[0]) {
      c->codes_other++;
      return;
    }
    c->codes[j].code = h->code;
    c->ncodes++;
  }
  c->codes[j].n++;
}

/* Counts one stored hit by event and for the dashboard (under emu). */
static void count_hit(vast_collector *c, const vast__hit *h) {
  if (c->o.web) count_dashboard(c, h);
  unsigned j = 0;
  while (j < c->nev && strcmp(c->ev[j].name, h->event) != 0)
    j++;
  if (j == c->nev) {
    if (c->nev == sizeof c->ev / sizeof c->ev[0]) {
      c->ev_other++;
      return;
    }
    snprintf(c->ev[j].name, sizeof c->ev[j].name, "%s", h->event);
    c->nev++;
  }
  c->ev[j].n++;
}

static void count_events(vast_collector *c, vast__hit **hits, size_t n) {
  pthread_mutex_lock(&c->emu);
  for (size_t i = 0; i < n; i++)
    if (hits[i]->state == VAST__HIT_OK) count_hit(c, hits[i]);
  pthread_mutex_unlock(&c->emu);
}

/* Takes up to cap queued hits into batch; returns how many. */
static size_t take_batch(vast_collector *c, vast__hit **batch, size_t cap) {
  pthread_mutex_lock(&c->qmu);
  size_t n = 0;
  while (c->qhead && n < cap) {
    batch[n++] = c->qhead;
    c->qhead = c->qhead->next;
  }
  if (!c->qhead) c->qtail = &c->qhead;
  atomic_fetch_sub(&c->qlen, n);
  pthread_mutex_unlock(&c->qmu);
  return n;
}

/*
 * Writes batch[0..n) to the sinks in one transaction (fast mode, Kafka, or a
 * database without a file), marks each hit stored or failed, and (durable)
 * hands the answers back to the workers that own the hits (uv_async_send).
 */
static void commit_batch(vast_collector *c, vast__hit **batch, size_t n, int *woke) {
  uint64_t t0 = uv_hrtime();
  char msg[512] = "";
  vast_err e = VAST_OK, ek = VAST_OK;
  if (c->store) {
    /* Not into a file that is no longer the database (nor counted as stored
       when it became one during the commit). */
    e = db_check(c) ? VAST_E_DB : vast__store_write(c->store, batch, n, NULL, 0, msg, sizeof msg);
    if (e == VAST_OK && db_check(c)) e = VAST_E_DB;
    if (e == VAST_E_DB && atomic_load(&c->db_lost))
      snprintf(msg, sizeof msg, "the database file was deleted or replaced");
    if (e == VAST_OK) {
      atomic_fetch_add(&c->loaded, n);
      atomic_fetch_add(&c->loads, 1);
    }
  }
  if (e == VAST_OK && c->kafka) ek = e = vast__kafka_write(c->kafka, batch, n, msg, sizeof msg);
  uint64_t dt = uv_hrtime() - t0;
  histo_add(&c->commit, LAT_B, NLAT, (double)dt / 1e9, dt);
  histo_add(&c->batch, BATCH_B, NBATCH, (double)n, n);
  atomic_fetch_add(&c->batches, 1);
  if (e != VAST_OK) logf_(c, "cannot store a batch of %zu hits: %s", n, msg);
  uint64_t ok = 0;
  for (size_t i = 0; i < n; i++) {
    int st = VAST__HIT_OK;
    /* Failed when the store refused the batch, or Kafka this message. */
    if (e != VAST_OK && (ek == VAST_OK || !batch[i]->kafka_ok)) st = VAST__HIT_FAILED;
    batch[i]->state = st; /* plain store before count_events reads it */
    ok += st == VAST__HIT_OK;
  }
  count_events(c, batch, n);
  atomic_fetch_add(&c->stored, ok);
  atomic_fetch_add(&c->failed, n - ok);
  if (c->o.ack == VAST_ACK_DURABLE) {
    memset(woke, 0, c->nworkers * sizeof *woke);
    for (size_t i = 0; i < n; i++) {
      vast__hit *h = batch[i];
      worker *w = h->owner;
      woke[w->idx]++;
      int st = h->state;
      atomic_store_explicit(&h->state, st, memory_order_release);
      vast__hit_unref(h);
    }
    for (unsigned i = 0; i < c->nworkers; i++)
      if (woke[i]) {
        uv_async_send(&c->workers[i]->wake);
        atomic_fetch_sub(&c->workers[i]->inflight, woke[i]);
      }
  } else {
    for (size_t i = 0; i < n; i++)
      vast__hit_unref(batch[i]);
  }
}

/*
 * Journal mode: the loader. Waits for journalled hits (a worker signals only
 * when the loader is idle, so a busy loader costs the workers no wake-ups),
 * lets them gather for LOAD_GATHER_MS, then writes up to batch_max of them
 * to SQLite in one transaction together with the highest seq per worker
 * (journal_state), and publishes those seqs so the workers can truncate
 * their journals. A failed load is retried; the hits stay in the journals
 * meanwhile, and at stop whatever still fails is left there for the next
 * start's recovery.
 */
#define LOAD_GATHER_MS 10
#define LOAD_RETRY_MS 200
static void loader_main(vast_collector *c) {
  size_t cap = c->o.batch_max;
  vast__hit **batch = malloc(cap * sizeof *batch);
  vast__jseq *js = malloc(c->nworkers * sizeof *js);
  uint64_t *top = calloc(c->nworkers, sizeof *top);
  char msg[512];
  vast__hit *pend = NULL; /* taken from the queue, not loaded yet */
  for (;;) {
    if (!pend) {
      pthread_mutex_lock(&c->qmu);
      while (!c->qhead && !c->writer_quit) {
        c->loader_idle = 1;
        if (cond_wait_ms(&c->qcv, &c->qmu, DB_CHECK_MS) != 0) {
          pthread_mutex_unlock(&c->qmu);
          db_check(c);
          pthread_mutex_lock(&c->qmu);
        }
      }
      c->loader_idle = 0;
      if (!c->qhead || !batch || !js || !top) {
        /* Stopping with nothing queued; or out of memory at start: the hits
           stay in the journals for the next start. */
        if (c->qhead) c->load_failed = 1;
        pthread_mutex_unlock(&c->qmu);
        break;
      }
      if (!c->writer_quit && atomic_load(&c->qlen) < cap) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += LOAD_GATHER_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&c->qcv, &c->qmu, &ts); /* early only at stop */
      }
      /* Take the whole queue at once: the workers never wait for the walk. */
      pend = c->qhead;
      c->qhead = NULL;
      c->qtail = &c->qhead;
      atomic_fetch_sub(&c->qlen, atomic_load(&c->qlen));
      pthread_mutex_unlock(&c->qmu);
    }
    size_t n = 0, nj = 0;
    while (pend && n < cap) {
      batch[n++] = pend;
      pend = pend->next;
    }
    memset(top, 0, c->nworkers * sizeof *top);
    for (size_t i = 0; i < n; i++)
      top[((worker *)batch[i]->owner)->idx] = batch[i]->seq;
    for (unsigned i = 0; i < c->nworkers; i++)
      if (top[i]) js[nj++] = (vast__jseq){i, top[i]};
    vast_err e = VAST_E_DB;
    /* Never into a file that is no longer the database: those hits stay in
       the journals, which are then kept. */
    for (unsigned tries = 0; !db_check(c); tries++) {
      e = vast__store_write(c->store, batch, n, js, nj, msg, sizeof msg);
      if (e == VAST_OK) break;
      if (tries % 50 == 0)
        logf_(c, "cannot load %zu journalled hits into SQLite (kept in the journal, retrying): %s",
              n, msg);
      pthread_mutex_lock(&c->qmu);
      int quit = c->writer_quit;
      pthread_mutex_unlock(&c->qmu);
      if (quit && tries >= 2) break;
      struct timespec ts = {0, LOAD_RETRY_MS * 1000000L};
      nanosleep(&ts, NULL);
    }
    if (e == VAST_OK && db_check(c)) e = VAST_E_DB; /* committed into the lost file */
    if (e == VAST_OK) {
      atomic_fetch_add(&c->loaded, n);
      atomic_fetch_add(&c->loads, 1);
      for (size_t i = 0; i < nj; i++)
        atomic_store_explicit(&c->loaded_seq[js[i].worker], js[i].seq, memory_order_release);
    } else {
      c->load_failed = 1;
      if (!atomic_load(&c->db_lost))
        logf_(c, "gave up loading %zu hits: they stay in the journal for the next start", n);
    }
    for (size_t i = 0; i < n; i++)
      vast__hit_unref(batch[i]);
  }
  free(batch);
  free(js);
  free(top);
}

/*
 * The writer thread: commits what the workers queue (fast mode, Kafka); in
 * journal mode it is the loader.
 */
static void *writer_main(void *arg) {
  vast_collector *c = arg;
  if (c->journal) {
    loader_main(c);
    return NULL;
  }
  size_t cap = c->o.batch_max;
  vast__hit **batch = malloc(cap * sizeof *batch);
  int *woke = calloc(c->nworkers, sizeof *woke);
  for (;;) {
    pthread_mutex_lock(&c->qmu);
    while (!c->qhead && !c->writer_quit)
      if (cond_wait_ms(&c->qcv, &c->qmu, DB_CHECK_MS) != 0) {
        pthread_mutex_unlock(&c->qmu);
        db_check(c);
        pthread_mutex_lock(&c->qmu);
      }
    int empty = !c->qhead;
    pthread_mutex_unlock(&c->qmu);
    if (empty || !batch || !woke) break; /* out of memory at start: hits stay queued */
    size_t n = take_batch(c, batch, cap);
    commit_batch(c, batch, n, woke);
  }
  free(batch);
  free(woke);
  return NULL;
}

/*
 * Journal mode, run by each event loop just before it polls (so after every
 * read callback of the iteration has queued its hits): the worker writes its
 * own hits to its journal with one write(), which makes them durable, marks
 * them stored and answers them right here, then hands them to the loader
 * (one lock, no wake-up while the loader is busy). No other thread is waited
 * for or woken on this path. Answering may parse pipelined requests that
 * were waiting, which queue new hits: hence the loop. Last, the idle journal
 * file is truncated once the loader has put all of it into SQLite.
 *
 * Any event loop must call this once per iteration, after handling what the
 * poll returned and before polling again (libuv: the uv_prepare below).
 */
static void worker_journal(worker *w) {
  vast_collector *c = w->c;
  while (w->ln) {
    vast__hit *head = w->lhead, **tail = w->ltail;
    size_t n = w->ln;
    w->lhead = NULL;
    w->ltail = &w->lhead;
    w->ln = 0;
    char msg[512];
    uint64_t t0 = uv_hrtime();
    vast_err e = vast__journal_append(w->jr, head, n, msg, sizeof msg);
    uint64_t dt = uv_hrtime() - t0;
    histo_add(&c->commit, LAT_B, NLAT, (double)dt / 1e9, dt);
    histo_add(&c->batch, BATCH_B, NBATCH, (double)n, n);
    atomic_fetch_add_explicit(&c->batches, 1, memory_order_relaxed);
    if (e == VAST_OK) {
      pthread_mutex_lock(&c->emu);
      for (vast__hit *h = head; h; h = h->next) {
        atomic_store_explicit(&h->state, VAST__HIT_OK, memory_order_relaxed);
        count_hit(c, h);
      }
      pthread_mutex_unlock(&c->emu);
      atomic_fetch_add_explicit(&c->stored, n, memory_order_relaxed);
      pthread_mutex_lock(&c->qmu);
      *c->qtail = head;
      c->qtail = tail;
      atomic_fetch_add_explicit(&c->qlen, n, memory_order_relaxed);
      if (c->loader_idle) {
        c->loader_idle = 0;
        pthread_cond_signal(&c->qcv);
      }
      pthread_mutex_unlock(&c->qmu);
    } else {
      logf_(c, "cannot journal %zu hits (answered 503): %s", n, msg);
      atomic_fetch_add_explicit(&c->failed, n, memory_order_relaxed);
      for (vast__hit *h = head, *nx; h; h = nx) {
        nx = h->next;
        atomic_store_explicit(&h->state, VAST__HIT_FAILED, memory_order_relaxed);
        vast__hit_unref(h);
      }
    }
    atomic_fetch_sub_explicit(&w->inflight, (int)n, memory_order_relaxed);
    for (conn *k = w->waiting, *nx; k; k = nx) {
      nx = k->wnext;
      conn_flush(k);
    }
  }
  vast__journal_rotate(w->jr, atomic_load_explicit(&c->loaded_seq[w->idx], memory_order_acquire));
  worker_maybe_finish(w);
}

static void on_prepare(uv_prepare_t *p) {
  worker_journal(p->data);
}

/* ---- /stats and /metrics ---- */

static void appendf(char **b, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void appendf(char **b, size_t *len, size_t *cap, const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) buf_put(b, len, cap, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

#define LD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

/* The per-loop counters added up. */
typedef struct wtotals {
  unsigned long long requests, hits, bad, status[NSTATUS], nobufs;
  histo lat;
} wtotals;

static void wtotals_get(const vast_collector *c, wtotals *t) {
  memset(t, 0, sizeof *t);
  for (unsigned i = 0; i < c->nworkers; i++) {
    wstats *s = &c->workers[i]->st;
    t->requests += LD(s->requests);
    t->hits += LD(s->hits);
    t->bad += LD(s->bad);
    t->nobufs += LD(s->nobufs);
    for (size_t j = 0; j < NSTATUS; j++)
      t->status[j] += LD(s->status[j]);
    for (size_t j = 0; j < sizeof s->lat.b / sizeof s->lat.b[0]; j++)
      inc1(&t->lat.b[j], LD(s->lat.b[j]));
    inc1(&t->lat.count, LD(s->lat.count));
    inc1(&t->lat.sum_ns, LD(s->lat.sum_ns));
  }
}

/* Journal mode: hits journalled (stored) but not in SQLite yet. */
static unsigned long long load_lag(vast_collector *c) {
  if (!c->journal) return 0;
  unsigned long long loaded = LD(c->loaded), stored = LD(c->stored);
  return stored > loaded ? stored - loaded : 0;
}

static void write_json_stats(vast_collector *c, char **b, size_t *len, size_t *cap) {
  wtotals t;
  wtotals_get(c, &t);
  appendf(b, len, cap,
          "{\"hits\":%llu,\"stored\":%llu,\"failed\":%llu,\"queueDepth\":%llu,"
          "\"requests\":%llu,\"badRequests\":%llu,\"timeouts\":%llu,\"batches\":%llu,"
          "\"loaded\":%llu,\"loadLag\":%llu,"
          "\"connections\":{\"open\":%llu,\"accepted\":%llu,\"rejected\":%llu},"
          "\"ack\":\"%s\",\"io\":\"%s\",\"events\":{",
          t.hits, LD(c->stored), LD(c->failed), (unsigned long long)atomic_load(&c->qlen),
          t.requests, t.bad, LD(c->timeouts), LD(c->batches), LD(c->loaded), load_lag(c),
          LD(c->open), LD(c->accepted), LD(c->rejected),
          c->o.ack == VAST_ACK_DURABLE ? "durable" : "fast",
          c->io_used == VAST_IO_URING ? "io_uring" : "epoll");
  pthread_mutex_lock(&c->emu);
  for (unsigned i = 0; i < c->nev; i++)
    appendf(b, len, cap, "%s\"%s\":%llu", i ? "," : "", c->ev[i].name,
            (unsigned long long)c->ev[i].n);
  if (c->ev_other)
    appendf(b, len, cap, "%s\"(other)\":%llu", c->nev ? "," : "", (unsigned long long)c->ev_other);
  pthread_mutex_unlock(&c->emu);
  appendf(b, len, cap, "}}\n");
}

/*
 * GET /api/stats: what the dashboard polls. Counters as in /stats, the
 * server time, the funnel summed over ads, per ad the funnel columns, and the
 * error codes of `error` hits by count (code null: no numeric code).
 */
static void write_web_stats(vast_collector *c, char **b, size_t *len, size_t *cap) {
  wtotals t;
  wtotals_get(c, &t);
  appendf(b, len, cap,
          "{\"tMs\":%lld,\"hits\":%llu,\"stored\":%llu,\"failed\":%llu,\"queueDepth\":%llu,"
          "\"requests\":%llu,\"badRequests\":%llu,\"connections\":%llu,\"ack\":\"%s\",",
          (long long)wall_ms(), t.hits, LD(c->stored), LD(c->failed),
          (unsigned long long)atomic_load(&c->qlen), t.requests, t.bad, LD(c->open),
          c->o.ack == VAST_ACK_DURABLE ? "durable" : "fast");
  pthread_mutex_lock(&c->emu);
  appendf(b, len, cap, "\"events\":{");
  for (unsigned i = 0; i < c->nev; i++) {
    if (i) appendf(b, len, cap, ",");
    json_str(b, len, cap, c->ev[i].name, strlen(c->ev[i].name));
    appendf(b, len, cap, ":%llu", (unsigned long long)c->ev[i].n);
  }
  uint64_t tot[FUN_N] = {0};
  for (unsigned i = 0; i < c->nads; i++)
    for (int f = 0; f < FUN_N; f++)
      tot[f] += c->ads[i].n[f];
  appendf(b, len, cap, "},\"funnel\":[");
  for (int f = 0; f <= FUN_COMPLETE; f++)
    appendf(b, len, cap, "%s{\"event\":\"%s\",\"n\":%llu}", f ? "," : "", FUNNEL[f],
            (unsigned long long)tot[f]);
  appendf(b, len, cap, "],\"ads\":[");
  for (unsigned i = 0; i < c->nads; i++) {
    appendf(b, len, cap, "%s{\"ad\":", i ? "," : "");
    json_str(b, len, cap, c->ads[i].ad, strlen(c->ads[i].ad));
    for (int f = 0; f < FUN_N; f++)
      appendf(b, len, cap, ",\"%s\":%llu", FUNNEL[f], (unsigned long long)c->ads[i].n[f]);
    appendf(b, len, cap, "}");
  }
  appendf(b, len, cap, "],\"adsOther\":%llu,\"errors\":[", (unsigned long long)c->ads_other);
  for (unsigned i = 0; i < c->ncodes; i++) {
    if (c->codes[i].code < 0)
      appendf(b, len, cap, "%s{\"code\":null,\"n\":%llu}", i ? "," : "",
              (unsigned long long)c->codes[i].n);
    else
      appendf(b, len, cap, "%s{\"code\":%d,\"n\":%llu}", i ? "," : "", c->codes[i].code,
              (unsigned long long)c->codes[i].n);
  }
  appendf(b, len, cap, "],\"errorsOther\":%llu}\n", (unsigned long long)c->codes_other);
  pthread_mutex_unlock(&c->emu);
}

static void write_histo(char **b, size_t *len, size_t *cap, const char *name, const char *help,
                        histo *h, const double *bounds, size_t nb, double sum_scale) {
  appendf(b, len, cap, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
  unsigned long long cum = 0;
  for (size_t i = 0; i < nb; i++) {
    cum += LD(h->b[i]);
    appendf(b, len, cap, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], cum);
  }
  cum += LD(h->b[nb]);
  appendf(b, len, cap, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9g\n%s_count %llu\n", name, cum, name,
          (double)LD(h->sum_ns) * sum_scale, name, LD(h->count));
}

static void write_metrics(vast_collector *c, char **b, size_t *len, size_t *cap) {
  wtotals t;
  wtotals_get(c, &t);
  struct {
    const char *name, *type, *help;
    unsigned long long v;
  } m[] = {
      {"vastrack_hits_total", "counter", "Tracking requests accepted", t.hits},
      {"vastrack_hits_stored_total", "counter",
       "Hits stored durably (journalled, or committed to every sink)", LD(c->stored)},
      {"vastrack_hits_loaded_total", "counter", "Hits written to SQLite", LD(c->loaded)},
      {"vastrack_load_lag", "gauge", "Journalled hits not in SQLite yet", load_lag(c)},
      {"vastrack_loads_total", "counter", "SQLite transactions", LD(c->loads)},
      {"vastrack_hits_failed_total", "counter", "Hits a sink failed to store", LD(c->failed)},
      {"vastrack_requests_total", "counter", "HTTP requests parsed", t.requests},
      {"vastrack_bad_requests_total", "counter", "Requests refused (4xx/5xx)", t.bad},
      {"vastrack_header_timeouts_total", "counter", "Slow clients timed out", LD(c->timeouts)},
      {"vastrack_connections_accepted_total", "counter", "Connections accepted", LD(c->accepted)},
      {"vastrack_connections_rejected_total", "counter", "Connections over the limit",
       LD(c->rejected)},
      {"vastrack_connections_open", "gauge", "Open connections", LD(c->open)},
      {"vastrack_receive_buffers_exhausted_total", "counter",
       "io_uring receives that found all receive buffers in use (armed again at once)", t.nobufs},
      {"vastrack_queue_depth", "gauge", "Hits waiting for the writer (or loader)",
       (unsigned long long)atomic_load(&c->qlen)},
      {"vastrack_batches_total", "counter", "Durable writes (journal appends or sink transactions)",
       LD(c->batches)},
  };
  for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
    appendf(b, len, cap, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", m[i].name, m[i].help, m[i].name,
            m[i].type, m[i].name, m[i].v);
  appendf(b, len, cap,
          "# HELP vastrack_responses_total HTTP responses by status\n"
          "# TYPE vastrack_responses_total counter\n");
  for (size_t i = 0; i < NSTATUS; i++)
    appendf(b, len, cap, "vastrack_responses_total{code=\"%d\"} %llu\n", STATUS[i], t.status[i]);
  appendf(b, len, cap,
          "# HELP vastrack_events_total Stored hits by event\n"
          "# TYPE vastrack_events_total counter\n");
  pthread_mutex_lock(&c->emu);
  for (unsigned i = 0; i < c->nev; i++)
    appendf(b, len, cap, "vastrack_events_total{event=\"%s\"} %llu\n", c->ev[i].name,
            (unsigned long long)c->ev[i].n);
  pthread_mutex_unlock(&c->emu);
  write_histo(b, len, cap, "vastrack_hit_latency_seconds",
              "Time from request parsed to answer queued (durable: includes the durable write)",
              &t.lat, LAT_B, NLAT, 1e-9);
  write_histo(b, len, cap, "vastrack_commit_seconds",
              "Time to write one batch durably (journal append, or the sinks)", &c->commit, LAT_B,
              NLAT, 1e-9);
  write_histo(b, len, cap, "vastrack_batch_size", "Hits per durable write", &c->batch, BATCH_B,
              NBATCH, 1);
}

/* ---- lifecycle ---- */

void vast_collector_opts_init(vast_collector_opts *o) {
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->listen = "127.0.0.1:8080";
  o->ack = VAST_ACK_DURABLE;
  o->max_conns = 10000;
  o->max_request_line = 8192;
  o->max_header_bytes = 16384;
  o->max_headers = 100;
  o->header_timeout_ms = 10000;
  o->idle_timeout_ms = 60000;
  o->max_pipeline = 64;
  o->batch_max = 8192;
  o->max_queue = 1000000;
  o->drain_timeout_ms = 5000;
  o->max_body = 2u << 20;
}

static void set_err(vast_error *err, vast_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(vast_error *err, vast_err code, const char *fmt, ...) {
  if (!err) return;
  memset(err, 0, sizeof *err);
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
}

static int parse_map(vast_collector *c, const char *map) {
  static const char *names[] = {"ad", "cr", "sid", "code", "r"};
  char *copy = strdup(map), *save = NULL;
  if (!copy) return -1;
  for (char *p = copy, *tok; (tok = strtok_r(p, ",", &save)); p = NULL) {
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok || c->nmap == 16 || (size_t)(eq - tok) >= sizeof c->map[0].name) {
      free(copy);
      return -1;
    }
    *eq = 0;
    int f = F_NONE;
    for (int i = 0; i < F_NONE; i++)
      if (!strcmp(eq + 1, names[i])) f = i;
    if (f == F_NONE) {
      free(copy);
      return -1;
    }
    snprintf(c->map[c->nmap].name, sizeof c->map[0].name, "%s", tok);
    c->map[c->nmap++].field = f;
  }
  free(copy);
  return 0;
}

/* Splits "HOST:PORT", "[V6]:PORT" or ":PORT". */
static int split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap) {
  const char *colon;
  if (s[0] == '[') {
    const char *rb = strchr(s, ']');
    if (!rb || rb[1] != ':') return -1;
    if ((size_t)(rb - s - 1) >= hcap) return -1;
    memcpy(host, s + 1, (size_t)(rb - s - 1));
    host[rb - s - 1] = 0;
    colon = rb + 1;
  } else {
    colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= hcap) return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
  }
  if (!colon[1] || strlen(colon + 1) >= pcap) return -1;
  for (const char *p = colon + 1; *p; p++)
    if (*p < '0' || *p > '9') return -1;
  strcpy(port, colon + 1);
  return 0;
}

/* A listening socket with SO_REUSEPORT on addr; returns the fd or -errno. */
/*
 * Sets up w's ring: COOP_TASKRUN (completions are run when the loop enters
 * the kernel anyway, no interrupt), and a ring of UR_NBUF receive buffers the
 * kernel picks from. Returns 0 or a negative errno; the multishot receive
 * needs Linux 6.0, so older kernels get -ENOSYS here.
 */
static int ur_init(worker *w) {
  struct utsname u;
  if (uname(&u) != 0 || atoi(u.release) < 6) return -ENOSYS;
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_COOP_TASKRUN;
  int rc = io_uring_queue_init_params(UR_ENTRIES, &w->ring, &p);
  if (rc == -EINVAL) {
    memset(&p, 0, sizeof p);
    rc = io_uring_queue_init_params(UR_ENTRIES, &w->ring, &p);
  }
  if (rc < 0) return rc;
  void *mem = NULL;
  if (posix_memalign(&mem, 4096, UR_NBUF * sizeof(struct io_uring_buf)) != 0 ||
      !(w->bufs = malloc((size_t)UR_NBUF * UR_BUFSZ))) {
    free(mem);
    io_uring_queue_exit(&w->ring);
    return -ENOMEM;
  }
  w->br = mem;
  io_uring_buf_ring_init(w->br);
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uintptr_t)mem;
  reg.ring_entries = UR_NBUF;
  reg.bgid = UR_BGID;
  rc = io_uring_register_buf_ring(&w->ring, &reg, 0);
  if (rc != 0) {
    io_uring_queue_exit(&w->ring);
    free(w->br);
    free(w->bufs);
    w->br = NULL;
    w->bufs = NULL;
    return rc < 0 ? rc : -EINVAL;
  }
  for (unsigned i = 0; i < UR_NBUF; i++)
    io_uring_buf_ring_add(w->br, w->bufs + (size_t)i * UR_BUFSZ, UR_BUFSZ, (unsigned short)i,
                          io_uring_buf_ring_mask(UR_NBUF), (int)i);
  io_uring_buf_ring_advance(w->br, UR_NBUF);
  w->uring = 1;
  return 0;
}

static int make_listener(const struct sockaddr *addr, socklen_t alen) {
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
      bind(fd, addr, alen) != 0 || listen(fd, 4096) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

/*
 * 0 when no socket listens on addr yet; else the errno of a bind without
 * SO_REUSEPORT (EADDRINUSE). The listeners below share their address with
 * SO_REUSEPORT, which the kernel grants to any socket of the same user that
 * asks for it: a second collector on the same port would silently take half
 * of the connections into its own database. A socket without SO_REUSEPORT
 * cannot bind an address anybody listens on, so binding one first (and
 * closing it) refuses the port when it is taken. Two collectors started in
 * the same instant could both pass; nothing else can.
 */
static int port_taken(const struct sockaddr *addr, socklen_t alen) {
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0; /* the listener's own socket() reports it */
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* TIME_WAIT is no user */
  int e = bind(fd, addr, alen) == 0 ? 0 : errno;
  close(fd);
  return e == EADDRINUSE ? e : 0;
}

/* Tests: the Nth thread vast_collector_start creates (1: the writer, 2 and
   on: the event loops) fails to start, as when the process is out of threads;
   0: never. */
int vast__collect_fail_thread;

static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg, int *nth) {
  if (vast__collect_fail_thread && ++*nth == vast__collect_fail_thread) return EAGAIN;
  return pthread_create(t, NULL, fn, arg);
}

static void collector_free_parts(vast_collector *c) {
  if (c->workers) {
    for (unsigned i = 0; i < c->nworkers; i++) {
      worker *w = c->workers[i];
      if (!w) continue;
      if (w->uring) io_uring_queue_exit(&w->ring);
      if (w->lfd >= 0) close(w->lfd);
      if (w->loop.data) uv_loop_close(&w->loop);
      free(w->br);
      free(w->bufs);
      vast__journal_close(w->jr, 0);
      free(w->scratch);
      free(w);
    }
    free(c->workers);
  }
  free((void *)c->loaded_seq);
  if (c->jlock >= 0) close(c->jlock);
  /* Hits left in the queue (writer never started). */
  while (c->qhead) {
    vast__hit *h = c->qhead;
    c->qhead = h->next;
    free(h);
  }
  vast__store_close(c->store);
  vast__kafka_close(c->kafka);
  pthread_mutex_destroy(&c->qmu);
  pthread_cond_destroy(&c->qcv);
  pthread_mutex_destroy(&c->emu);
  pthread_mutex_destroy(&c->waitmu);
  free(c->s_listen);
  free(c->s_db);
  free(c->s_kafka);
  free(c);
}

vast_err vast_collector_start(const vast_collector_opts *opts, vast_collector **out,
                              vast_error *err) {
  *out = NULL;
  vast_collector_opts def;
  vast_collector_opts_init(&def);
  if (opts) {
    size_t n = opts->size && opts->size < sizeof def ? opts->size : sizeof def;
    memcpy(&def, opts, n);
    def.size = sizeof def;
  }
  vast_collector *c = calloc(1, sizeof *c);
  if (!c) return VAST_E_NOMEM;
  pthread_mutex_init(&c->qmu, NULL);
  pthread_cond_init(&c->qcv, NULL);
  pthread_mutex_init(&c->emu, NULL);
  pthread_mutex_init(&c->waitmu, NULL);
  c->qtail = &c->qhead;
  c->jlock = -1;
  c->o = def;
  if (!c->o.max_pipeline) c->o.max_pipeline = 1;
  if (!c->o.batch_max) c->o.batch_max = 1;
  if (!c->o.max_request_line) c->o.max_request_line = 8192;
  if (c->o.max_header_bytes < c->o.max_request_line) c->o.max_header_bytes = c->o.max_request_line;
  if (!c->o.header_timeout_ms) c->o.header_timeout_ms = 10000;
  if (!c->o.idle_timeout_ms) c->o.idle_timeout_ms = 60000;
  if (!c->o.max_body) c->o.max_body = 2u << 20;
  c->body_cap = c->o.max_body * 4 > (64u << 20) ? c->o.max_body * 4 : (64u << 20);
  c->s_listen = strdup(def.listen ? def.listen : "127.0.0.1:8080");
  c->s_db = def.db_path ? strdup(def.db_path) : NULL;
  c->s_kafka = def.kafka ? strdup(def.kafka) : NULL;
  if (!c->s_listen || (def.db_path && !c->s_db) || (def.kafka && !c->s_kafka)) {
    collector_free_parts(c);
    return VAST_E_NOMEM;
  }
  c->o.listen = c->s_listen;
  c->o.db_path = c->s_db;
  c->o.kafka = c->s_kafka;
  c->o.param_map = NULL;
  if (def.param_map && parse_map(c, def.param_map) != 0) {
    set_err(err, VAST_E_INVAL,
            "invalid parameter map '%s' (want NAME=FIELD,... with FIELD "
            "ad, cr, sid, code or r)",
            def.param_map);
    collector_free_parts(c);
    return VAST_E_INVAL;
  }
  if (c->o.ack != VAST_ACK_DURABLE && c->o.ack != VAST_ACK_FAST) {
    set_err(err, VAST_E_INVAL, "invalid ack mode");
    collector_free_parts(c);
    return VAST_E_INVAL;
  }

  /* Sinks. */
  char msg[512] = "";
  vast_err e;
  if (c->s_db && (e = vast__store_open(c->s_db, c->o.sync_full, &c->store, msg, sizeof msg))) {
    set_err(err, e, "%s", msg);
    collector_free_parts(c);
    return e;
  }
  if (c->s_kafka && (e = vast__kafka_open(c->s_kafka, &c->kafka, msg, sizeof msg))) {
    set_err(err, e, "%s", msg);
    collector_free_parts(c);
    return e;
  }
  /* Replay what the journals of the last run hold (whatever the mode now). */
  const char *dbfile = c->store ? vast__store_filename(c->store) : "";
  if (*dbfile) {
    vast__journal_report rep;
    e = vast__journal_recover(c->store, dbfile, c->o.batch_max, &c->jlock, &rep, msg, sizeof msg);
    if (e != VAST_OK) {
      set_err(err, e, "journal recovery: %s", msg);
      collector_free_parts(c);
      return e;
    }
    if (rep.records)
      logf_(c,
            "journal recovery: %u files, %llu records, %llu loaded into SQLite (%llu were "
            "already there), %u with a torn tail",
            rep.files, (unsigned long long)rep.records, (unsigned long long)rep.loaded,
            (unsigned long long)(rep.records - rep.loaded), rep.torn);
  }

  /* Address. */
  char host[256], port[16];
  if (split_hostport(c->s_listen, host, sizeof host, port, sizeof port) != 0) {
    set_err(err, VAST_E_INVAL, "invalid listen address '%s' (want HOST:PORT)", c->s_listen);
    collector_free_parts(c);
    return VAST_E_INVAL;
  }
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int gr = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
  if (gr != 0 || !ai) {
    set_err(err, VAST_E_INVAL, "cannot resolve '%s': %s", c->s_listen, gai_strerror(gr));
    collector_free_parts(c);
    return VAST_E_INVAL;
  }
  struct sockaddr_storage addr;
  socklen_t alen = (socklen_t)ai->ai_addrlen;
  memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
  freeaddrinfo(ai);

  int taken = ((struct sockaddr_in *)&addr)->sin_port != 0 /* same offset in sockaddr_in6 */
                  ? port_taken((struct sockaddr *)&addr, alen)
                  : 0;
  if (taken) {
    set_err(err, VAST_E_IO, "cannot listen on %s: %s (another process listens on that port)",
            c->s_listen, strerror(taken));
    collector_free_parts(c);
    return VAST_E_IO;
  }

  unsigned nw = c->o.threads;
  if (!nw) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    nw = n > 0 ? (unsigned)n : 1;
  }
  if (nw > 256) nw = 256;
  c->nworkers = nw;
  c->io_used = VAST_IO_URING;
  c->workers = calloc(nw, sizeof *c->workers);
  /* Durable acks with SQLite (a file) alone: each event loop journals its own
     hits and the writer thread loads them into SQLite. Kafka waits for the
     broker and fast mode answers first, so those keep the writer thread. */
  c->journal = c->o.ack == VAST_ACK_DURABLE && c->store && !c->kafka && *dbfile;
  /* libuv's pool has UV_THREADPOOL_SIZE threads (4 by default): the /api/ work
     that may wait on the network gets half of them at most */
  const char *tps = getenv("UV_THREADPOOL_SIZE");
  long pool = tps ? strtol(tps, NULL, 10) : 4;
  if (pool < 1) pool = 4;
  if (pool > 1024) pool = 1024;
  c->slow_max = pool / 2 > 0 ? (int)(pool / 2) : 1;
  pthread_once(&hit_resp_once, hit_resp_init);
  c->loaded_seq = calloc(nw, sizeof *c->loaded_seq);
  if (!c->workers || !c->loaded_seq) {
    collector_free_parts(c);
    return VAST_E_NOMEM;
  }
  for (unsigned i = 0; i < nw; i++) {
    worker *w = calloc(1, sizeof *w);
    if (!w) {
      collector_free_parts(c);
      return VAST_E_NOMEM;
    }
    c->workers[i] = w;
    w->c = c;
    w->idx = (int)i;
    w->ltail = &w->lhead;
    atomic_init(&w->inflight, 0);
    if (c->journal) {
      uint64_t seq = 0;
      if ((e = vast__store_journal_seq(c->store, i, &seq)) != VAST_OK ||
          (e = vast__journal_open(dbfile, i, seq + 1, c->o.sync_full, &w->jr, msg, sizeof msg)) !=
              VAST_OK) {
        set_err(err, e, "%s", e == VAST_E_DB ? "cannot read journal_state" : msg);
        collector_free_parts(c);
        return e;
      }
      atomic_init(&c->loaded_seq[i], seq);
    }
    int fd = make_listener((struct sockaddr *)&addr, alen);
    if (fd < 0) {
      set_err(err, VAST_E_IO, "cannot listen on %s: %s", c->s_listen, strerror(-fd));
      collector_free_parts(c);
      return VAST_E_IO;
    }
    if (i == 0) {
      /* Port 0: the others bind to the port the first one got. */
      socklen_t l = sizeof addr;
      getsockname(fd, (struct sockaddr *)&addr, &l);
      alen = l;
      char ip[64] = "";
      if (addr.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&addr;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        c->port = ntohs(a->sin_port);
        snprintf(c->address, sizeof c->address, "%s:%d", ip, c->port);
      } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        c->port = ntohs(a->sin6_port);
        snprintf(c->address, sizeof c->address, "[%s]:%d", ip, c->port);
      }
    }
    uv_loop_init(&w->loop);
    w->loop.data = w;
    w->lfd = -1;
    if (c->o.io != VAST_IO_EPOLL) {
      int ur = ur_init(w);
      if (ur != 0 && c->o.io == VAST_IO_URING) {
        set_err(err, VAST_E_IO, "io_uring unavailable: %s", strerror(-ur));
        close(fd);
        uv_loop_close(&w->loop);
        w->loop.data = NULL;
        collector_free_parts(c);
        return VAST_E_IO;
      }
    }
    if (!w->uring) c->io_used = VAST_IO_EPOLL; /* io_uring only if every loop has it */
    uv_tcp_init(&w->loop, &w->listener);
    w->listener.data = w;
    uv_async_init(&w->loop, &w->wake, on_wake);
    w->wake.data = w;
    uv_timer_init(&w->loop, &w->sweep);
    w->sweep.data = w;
    uv_prepare_init(&w->loop, &w->commit);
    w->commit.data = w;
    if (c->journal && !w->uring) uv_prepare_start(&w->commit, on_prepare);
    if (w->uring) {
      w->lfd = fd; /* accepted through the ring; the uv handle stays unused */
    } else if (uv_tcp_open(&w->listener, fd) != 0 ||
               uv_listen((uv_stream_t *)&w->listener, 4096, on_connection) != 0) {
      set_err(err, VAST_E_IO, "cannot listen on %s", c->s_listen);
      close(fd);
      /* Close the handles so the loop can be closed. */
      uv_close((uv_handle_t *)&w->listener, NULL);
      uv_close((uv_handle_t *)&w->wake, NULL);
      uv_close((uv_handle_t *)&w->sweep, NULL);
      uv_close((uv_handle_t *)&w->commit, NULL);
      uv_run(&w->loop, UV_RUN_DEFAULT);
      collector_free_parts(c);
      return VAST_E_IO;
    }
    w->listener_open = 1;
    uint64_t iv = c->o.header_timeout_ms / 4;
    if (iv > 250) iv = 250;
    if (iv < 5) iv = 5;
    uv_timer_start(&w->sweep, on_sweep, iv, iv);
  }
  /* A thread that cannot start: everything started is stopped and freed, as
     vast_collector_free does (the loops without a thread drain here), so no
     listener stays bound and unserved. */
  int nth = 0, rc = start_thread(&c->writer, writer_main, c, &nth);
  if (rc != 0) {
    set_err(err, VAST_E_NOMEM, "cannot start the writer thread: %s", strerror(rc));
    vast_collector_free(c);
    return VAST_E_NOMEM;
  }
  c->writer_started = 1;
  for (unsigned i = 0; i < nw; i++) {
    worker *w = c->workers[i];
    if ((rc = start_thread(&w->tid, worker_main, w, &nth)) != 0) {
      set_err(err, VAST_E_NOMEM, "cannot start event-loop thread %u: %s", i, strerror(rc));
      vast_collector_free(c);
      return VAST_E_NOMEM;
    }
    w->started = 1;
  }
  *out = c;
  return VAST_OK;
}

const char *vast_collector_address(const vast_collector *c) {
  return c ? c->address : "";
}
vast_io vast_collector_io(const vast_collector *c) {
  return c ? c->io_used : VAST_IO_EPOLL;
}
int vast_collector_port(const vast_collector *c) {
  return c ? c->port : 0;
}

void vast_collector_stop(vast_collector *c) {
  if (!c || atomic_exchange(&c->stopping, 1)) return;
  for (unsigned i = 0; i < c->nworkers; i++)
    uv_async_send(&c->workers[i]->wake);
}

void vast_collector_wait(vast_collector *c) {
  if (!c) return;
  pthread_mutex_lock(&c->waitmu);
  if (!c->waited) {
    for (unsigned i = 0; i < c->nworkers; i++) {
      worker *w = c->workers[i];
      if (w->started)
        pthread_join(w->tid, NULL);
      else {
        /* Thread never started: drain it here. */
        atomic_store(&c->stopping, 1);
        worker_drain(w);
        worker_main(w);
      }
    }
    pthread_mutex_lock(&c->qmu);
    c->writer_quit = 1;
    pthread_cond_signal(&c->qcv);
    pthread_mutex_unlock(&c->qmu);
    if (c->writer_started) pthread_join(c->writer, NULL);
    /* Journal mode: the loader drained, so the journals can go, unless
       some hits could not be loaded: then the next start replays them. */
    for (unsigned i = 0; c->journal && i < c->nworkers; i++) {
      worker *w = c->workers[i];
      /* checked again here: never delete a journal whose hits went into a file
         that is no longer the database */
      int all = !c->load_failed && !db_check(c) &&
                atomic_load(&c->loaded_seq[i]) >= vast__journal_last_seq(w->jr);
      if (!all) logf_(c, "journal of worker %u kept: it holds hits not in SQLite yet", i);
      vast__journal_close(w->jr, all);
      w->jr = NULL;
    }
    c->waited = 1;
  }
  pthread_mutex_unlock(&c->waitmu);
}

void vast_collector_free(vast_collector *c) {
  if (!c) return;
  vast_collector_stop(c);
  vast_collector_wait(c);
  collector_free_parts(c);
}

void vast_collector_get_stats(const vast_collector *cc, vast_collector_stats *out) {
  vast_collector *c = (vast_collector *)cc;
  memset(out, 0, sizeof *out);
  wtotals t;
  wtotals_get(c, &t);
  out->hits = t.hits;
  out->stored = LD(c->stored);
  out->failed = LD(c->failed);
  out->requests = t.requests;
  out->bad_requests = t.bad;
  out->conns_accepted = LD(c->accepted);
  out->conns_rejected = LD(c->rejected);
  out->conns_open = LD(c->open);
  out->timeouts = LD(c->timeouts);
  out->batches = LD(c->batches);
  out->queue_depth = atomic_load(&c->qlen);
}
