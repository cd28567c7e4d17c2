/*
 * server-int.h: the collector server's internals, shared by its files and
 * seen by nothing outside lib/collect:
 *
 *   collect.c      lifecycle: options, start (sinks, recovery, listeners,
 *                  threads), stop, wait, free; the event-loop workers
 *                  (drain, wake-up, sweep timer)
 *   conn.c         connections: response slots in order, answers, writing,
 *                  back-pressure, the parse loop over received bytes
 *   route.c        request routing: tracking hits, POST bodies, the route
 *                  tables of the site (collect-int.h), thread-pool jobs
 *   loop-uring.c   the io_uring socket backend and its event loop
 *   loop-epoll.c   the libuv (epoll) socket backend
 *   writer.c       the writer thread (group commit), the loader (journal
 *                  mode), and each loop's journal write
 *   stats.c        /stats, /metrics, /api/stats and vast_collector_get_stats
 *
 * The backend interface (vast__io) keeps the two socket backends apart, as
 * redis keeps ae_epoll.c apart from ae.c: the connection code calls it for
 * reading, writing, shutdown and close, and never looks at which one runs.
 */
#ifndef VASTRACK_SERVER_INT_H
#define VASTRACK_SERVER_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <uv.h>

#include "collect/collect-int.h"
#include "collect/wire.h"

/* ---- constants ---- */

extern const unsigned char vast__gif[43]; /* the transparent 1x1 GIF (conn.c) */

#define NO_CACHE                                                                                   \
  "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\nPragma: no-cache\r\nExpires: " \
  "0\r\n"

/* The fields of a tracking hit's query (route.c; --map names them). */

/* Status codes counted in /metrics (stats.c). */
#define NSTATUS 13
extern const int vast__status_codes[NSTATUS];

/* Histogram bounds: hit latency and commit time in seconds; batch sizes (stats.c). */
#define NLAT 14
extern const double vast__lat_b[NLAT];
#define NBATCH 14
extern const double vast__batch_b[NBATCH];
#define LAT_B vast__lat_b
#define BATCH_B vast__batch_b

typedef struct histo {
  atomic_uint_fast64_t b[16]; /* cumulative counts are computed on output */
  atomic_uint_fast64_t count;
  atomic_uint_fast64_t sum_ns; /* or sum of values for batch sizes */
} histo;

static inline void histo_add(histo *h, const double *bounds, size_t nb, double v, uint64_t sumv) {
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
static inline void histo_add1(histo *h, const double *bounds, size_t nb, double v, uint64_t sumv) {
  size_t i = 0;
  while (i < nb && v > bounds[i])
    i++;
  inc1(&h->b[i], 1);
  inc1(&h->count, 1);
  inc1(&h->sum_ns, sumv);
}

static inline int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Per-request counters, kept per event loop and written only by its thread
   (no cache line bounces between cores); readers add them up (stats.c). */
typedef struct wstats {
  atomic_uint_fast64_t requests, hits, bad, status[NSTATUS];
  atomic_uint_fast64_t nobufs; /* io_uring receives that found no free buffer */
  histo lat;
} wstats;
#define WINC(w, f) inc1(&(w)->st.f, 1)

/* ---- structures ---- */

typedef struct worker worker;
typedef struct conn conn;
typedef struct vast__uring vast__uring;

/*
 * The socket backend of an event loop. Everything else (parsing, answering,
 * the journal, timers, the cross-thread wake-up, the thread pool, handle
 * closing) is the same code over both; libuv runs those in both.
 */
typedef struct vast__io {
  const char *name;
  /* Sets up the loop's I/O (the ring); 0 or a negative errno. */
  int (*init)(worker *w);
  /* Takes the bound listening socket fd (closed by the backend from then on,
     also on failure); 0 or -1. */
  int (*listen)(worker *w, int fd);
  /* Stops accepting (drain). */
  void (*unlisten)(worker *w);
  /* Runs the loop until the worker is done (its handles closed). */
  void (*run)(worker *w);
  /* Once per sweep timer tick (may be NULL). */
  void (*sweep)(worker *w);
  /* Frees what init and listen set up, after the loop ended (or never ran). */
  void (*destroy)(worker *w);
  /* A new connection: TCP_NODELAY, and its peer's address (ss_family
     AF_UNSPEC when unknown). */
  void (*accepted)(conn *k, struct sockaddr_storage *ss);
  /* Best-effort send of a short answer before closing (over the limit). */
  void (*send_now)(conn *k, const char *p, size_t n);
  /* Starts reading; -1 when it cannot. */
  int (*read_start)(conn *k);
  /* Stops reading (k->reading is already 0). */
  void (*read_stop)(conn *k);
  /* Sends k->wbuf (wlen > 0): 0 when all of it is written; 1 when it is in
     flight (k->writing set; vast__conn_flush is called when done); -1 when
     the connection was closed. */
  int (*write)(conn *k);
  /* Sends FIN (lingering close); -1 when that failed or the peer has gone
     (the caller closes). */
  int (*shutdown)(conn *k);
  /* Closes; the connection is freed with vast__conn_free once nothing of it
     is in flight. */
  void (*close)(conn *k);
} vast__io;

extern const vast__io vast__io_uring, vast__io_epoll;

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
  const vast__io *io; /* the socket backend (loop-uring.c, loop-epoll.c) */
  uv_loop_t loop;
  uv_tcp_t listener; /* epoll: the listening socket; io_uring: initialised, never opened */
  uv_async_t wake;
  uv_timer_t sweep;
  uv_prepare_t commit; /* epoll, journal mode: journal and answer before each poll */
  pthread_t tid;
  int started, draining, closed_handles, listener_open;
  int handles; /* the uv handles above are initialised (start got that far) */
  uint64_t drain_deadline;
  unsigned nconns;
  conn *conns, *waiting;
  atomic_int inflight;       /* durable hits handed to the writer, not yet resolved+woken */
  vast__journal *jr;         /* journal mode: this worker's journal */
  vast__hit *lhead, **ltail; /* hits gathered in one read callback */
  size_t ln;
  char *scratch;
  size_t scratch_cap;
  vast__uring *ur; /* io_uring backend: its ring, buffers, listening socket (loop-uring.c) */
  char pad_[64];
  wstats st;
  char rbuf[65536]; /* epoll: the receive buffer */
};

typedef struct evcount {
  char name[48];
  uint64_t n;
} evcount;

/* Live counts for the dashboard (/api/stats): the funnel per ad, error codes. */
enum { FUN_IMP, FUN_START, FUN_Q1, FUN_MID, FUN_Q3, FUN_COMPLETE, FUN_ERROR, FUN_OTHER, FUN_N };
/* their names: vast__wire_funnel (wire.h), in the same order */
_Static_assert(FUN_N == VAST__WIRE_COLUMNS_N, "the dashboard columns are wire.h's");
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
  const vast__site *site; /* the routes besides tracking; NULL without o.web */
  char *s_listen, *s_db, *s_kafka;
  char address[96];
  int port;
  vast__wire_map map; /* --map: the operator's query names (wire.h) */
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

/* ---- collect.c ---- */

/* One log line (c->o.log), printf-style. */
void vast__clog(vast_collector *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Closes the worker's own handles once draining is complete. */
void vast__worker_maybe_finish(worker *w);

/* ---- conn.c ---- */

/* Appends n bytes to the growable buffer *b; -1 when out of memory. */
int vast__bput(char **b, size_t *len, size_t *cap, const void *p, size_t n);
/* Appends a JSON string (quoted, escaped, invalid UTF-8 as U+FFFD: jsonw.h). */
int vast__json_str(char **b, size_t *len, size_t *cap, const char *s, size_t n);
/* Builds the answers to durable tracking hits once per process. */
void vast__responses_init(void);
/*
 * Builds a whole response into *b. Tracking answers (the GIF, 204) and errors
 * carry the no-cache headers; close adds "Connection: close", v10 with
 * keep-alive adds "Connection: keep-alive"; headers (NULL: none) are added
 * as they are (each line ending in CRLF).
 */
int vast__build_response(char **b, size_t *len, size_t *cap, int code, const char *ctype,
                         const void *body, size_t blen, int head, int close, int v10,
                         const char *headers);
void vast__count_status(worker *w, int code);
conn *vast__conn_new(worker *w);
void vast__conn_accepted(conn *k);
void vast__conn_input(conn *k, const char *data, size_t nread);
void vast__conn_eof(conn *k);
void vast__conn_flush(conn *k);
void vast__conn_pause(conn *k);
void vast__conn_close(conn *k);
void vast__conn_free(conn *k);
int vast__slot_push(conn *k, slot s);
void vast__body_release(conn *k);
int vast__body_reserve(conn *k, size_t want);
/* Queue a ready response in order (respond_web: with the site's headers). */
void vast__respond(conn *k, int code, const char *ctype, const void *body, size_t blen, int head,
                   int close, int v10);
void vast__respond_web(conn *k, int code, const char *ctype, const void *body, size_t blen,
                       int head, int close, int v10);
void vast__respond_raw(conn *k, int code, char *bytes, size_t len, int close);

/* ---- route.c ---- */

/*
 * Handles one parsed request of k (head_len bytes of head; data[0..avail)
 * follows it). Returns the body bytes it consumed, or -1 when a body must be
 * waited for (k->body_need then says how much the whole request takes).
 */
long vast__route_request(conn *k, const vast__http_req *rq, size_t head_len, const char *data,
                         size_t avail);

/* The connection of a thread-pool job is gone: the job frees itself when done. */
void vast__job_detach(webjob *j);

/* ---- writer.c ---- */

/* The writer thread: group commit (fast mode, Kafka), or the loader. */
void *vast__writer_main(void *arg);
/* Journal mode: journals and answers the hits this loop read (once per loop
   iteration, before the loop polls again). */
void vast__worker_journal(worker *w);
/* 1 when the database file was deleted or replaced under the collector. */
int vast__db_check(vast_collector *c);

/* ---- stats.c ---- */

void vast__stats_json(vast_collector *c, char **b, size_t *len, size_t *cap);
void vast__stats_metrics(vast_collector *c, char **b, size_t *len, size_t *cap);
void vast__stats_web(vast_collector *c, char **b, size_t *len, size_t *cap);

#endif
