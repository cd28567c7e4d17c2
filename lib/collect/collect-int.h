/*
 * collect-int.h: internals of the collector shared by lib/collect*.c and
 * lib/collect/store.c: the bounded HTTP/1.1 request parser, the hit record that travels
 * from an event-loop thread to the writer thread, and the sinks.
 */
#ifndef VASTRACK_COLLECT_INT_H
#define VASTRACK_COLLECT_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/url.h"
#include "vastrack/collect.h"

/* ---- HTTP request parser (collect-http.c) ---- */

typedef struct vast__str {
  const char *p;
  size_t n;
} vast__str;

#define VAST__MAX_DEVICE_HDRS 16

typedef struct vast__http_req {
  vast__str method, target, path, query;
  int minor;               /* HTTP/1.<minor> */
  int keep_alive;          /* after Connection: and version defaults */
  int has_body;            /* Content-Length > 0 or Transfer-Encoding */
  int chunked;             /* Transfer-Encoding present (bodies of unknown length) */
  uint64_t content_length; /* Content-Length; saturates at UINT64_MAX/2 */
  vast__str user_agent, device_ip, device_ua, forwarded_for;
  vast__str content_type; /* Content-Type as sent (empty when absent) */
  vast__str host;         /* Host (empty when absent): the test ad server's base URL */
  int api_client;         /* an X-Vastrack-Client header was sent (any value) */
  unsigned n_device;      /* other X-Device-* headers (name without prefix) */
  vast__str device_name[VAST__MAX_DEVICE_HDRS], device_val[VAST__MAX_DEVICE_HDRS];
} vast__http_req;

typedef struct vast__http_limits {
  size_t max_request_line, max_header_bytes;
  unsigned max_headers;
} vast__http_limits;

/*
 * Parses one request head from buf[0..len). Returns the bytes consumed (> 0)
 * and fills *req (pointers into buf) when a whole head is there; 0 when more
 * bytes are needed; or minus an HTTP status (-400, -414, -431, -501, -505)
 * when the input is refused. Leading empty lines are skipped.
 */
long vast__http_parse(const char *buf, size_t len, const vast__http_limits *lim,
                      vast__http_req *req);

/* Percent-decodes (and '+' to space) s into out[0..cap); returns the length, or
   -1 when it does not fit or holds %00 (a value is refused whole, never cut at
   the NUL). */

/* Tests: the Nth thread vast_collector_start creates (1: the writer, 2 and on:
   the event loops) fails to start; 0 (default): never. */
extern int vast__collect_fail_thread;

/* ---- Hits ---- */

enum { VAST__HIT_PENDING = 0, VAST__HIT_OK = 1, VAST__HIT_FAILED = 2 };

typedef struct vast__hit {
  struct vast__hit *next; /* writer queue link */
  atomic_int state;       /* VAST__HIT_* */
  atomic_int refs;        /* 2 while both a connection and the writer hold it */
  void *owner;            /* the event-loop worker to wake when resolved */
  int64_t t_ms;           /* receive time, ms since epoch */
  int code;               /* error code, -1 when absent */
  int kafka_ok;           /* set by the Kafka delivery report */
  uint64_t seq;           /* journal sequence number (per worker), 0 when not journalled */
  const char *event, *ad, *cr, *sid, *ip, *ua, *device_ip, *device_ua, *device, *query;
  char data[]; /* the strings above */
} vast__hit;

/* Drops one reference; frees the hit on the last. */
void vast__hit_unref(vast__hit *h);

/* ---- SQLite store (store.c) ---- */

typedef struct vast__store vast__store;

/* The highest journal seq of one worker loaded into the database. */
typedef struct vast__jseq {
  unsigned worker;
  uint64_t seq;
} vast__jseq;

vast_err vast__store_open(const char *path, int sync_full, vast__store **out, char *msg,
                          size_t msgcap);
/*
 * Writes hits[0..n) and their rollup in one transaction, and in the same
 * transaction raises journal_state to js[0..njs) (NULL, 0: no journal).
 */
vast_err vast__store_write(vast__store *s, vast__hit **hits, size_t n, const vast__jseq *js,
                           size_t njs, char *msg, size_t msgcap);
/* *seq = journal_state.seq of worker (0 when none). */
vast_err vast__store_journal_seq(vast__store *s, unsigned worker, uint64_t *seq);
/* The database file's full path; "" for in-memory and temporary databases. */
const char *vast__store_filename(vast__store *s);
/*
 * 1 when the file the store writes to is no longer the one at its path (deleted,
 * or replaced by another file): SQLite would go on committing into the unlinked
 * file, so nothing written from then on is durable. 0 for an in-memory database.
 * A stat(); thread-safe.
 */
int vast__store_gone(vast__store *s);
void vast__store_close(vast__store *s);

/* ---- Journal: per-worker write-ahead log in front of SQLite (journal.c) ---- */

/*
 * Each event-loop worker i appends the hits it accepted to its own journal,
 * files <db>-journal-<i>.0 and <db>-journal-<i>.1 (one is written, the other
 * waits until the loader has put all of it into SQLite, then is truncated),
 * with one write() per batch. A record:
 *
 *   u32 total length   u32 crc32c of everything after this field
 *   u64 seq            i64 t_ms           i32 code (-1: none)
 *   u32 x 10 string lengths (0xffffffff: NULL), in vast__hit field order
 *   the string bytes (no terminators)
 *
 * all little-endian. seq counts per worker, from 1, never reused: the loader
 * stores the highest loaded seq per worker in journal_state in the same
 * transaction as the hits, so replay after a crash is exactly-once. A record
 * that is short or fails its checksum ends the valid part of its file (it was
 * never completely written, so its hits were never answered).
 */
typedef struct vast__journal vast__journal;

/* Bytes past which a worker switches files (tests lower it). */
extern size_t vast__journal_rotate_bytes;

uint32_t vast__crc32c(uint32_t crc, const void *p, size_t n);

/* Opens (creating, truncating) worker idx's journal; its first seq is next_seq. */
vast_err vast__journal_open(const char *dbfile, unsigned idx, uint64_t next_seq, int sync_full,
                            vast__journal **out, char *msg, size_t msgcap);
/*
 * Appends the n hits of the list head (linked by next) with one write() (and
 * fdatasync with sync_full) and sets their seq. When it fails the files are
 * cut back to where they were, so nothing half-written stays in front of
 * later records.
 */
vast_err vast__journal_append(vast__journal *j, vast__hit *head, size_t n, char *msg,
                              size_t msgcap);
/* The last seq written. */
uint64_t vast__journal_last_seq(const vast__journal *j);
/* Truncates the idle file once every record of it is loaded (seq <= loaded). */
void vast__journal_rotate(vast__journal *j, uint64_t loaded);
/* Closes; with remove also deletes the files (everything in them is loaded). */
void vast__journal_close(vast__journal *j, int remove);

/* What recovery found. */
typedef struct vast__journal_report {
  unsigned files;   /* journal files read */
  uint64_t records; /* valid records in them */
  uint64_t loaded;  /* records inserted (seq above journal_state) */
  unsigned torn;    /* files whose valid part ended before the end of the file */
} vast__journal_report;

/*
 * Takes the journal lock (<db>-journal.lock, flock; *lock_fd, -1 on
 * failure: another collector is writing this database), then replays every
 * <db>-journal-* file: records with seq above journal_state of their worker
 * are inserted, with the state, in transactions of at most batch hits; then
 * the files are deleted.
 */
vast_err vast__journal_recover(vast__store *s, const char *dbfile, size_t batch, int *lock_fd,
                               vast__journal_report *rep, char *msg, size_t msgcap);

/* ---- Kafka sink (collect-kafka.c) ---- */

typedef struct vast__kafka vast__kafka;

vast_err vast__kafka_open(const char *uri, vast__kafka **out, char *msg, size_t msgcap);
/* Produces hits[0..n) and waits for their delivery reports; sets kafka_ok. */
vast_err vast__kafka_write(vast__kafka *k, vast__hit **hits, size_t n, char *msg, size_t msgcap);
void vast__kafka_close(vast__kafka *k);

/* Appends the JSON object of a hit to b (jsonw.h); -1 when out of memory. */
int vast__hit_json(const vast__hit *h, vast__buf *b);

/* ---- Routes other modules serve on the collector (route.c) ---- */

/*
 * The web UI (lib/web) and player certification (lib/certify) are served by
 * the collector without the collector knowing them: each exports a table of
 * routes, and vast_collector_start (lib/web/serve.c) hands the tables to
 * vast__collector_start. With vast_collector_opts.web the collector looks a
 * request up in them, table by table, in order, after its own paths (/t/,
 * /healthz, /stats, /metrics, /api/stats); without, it serves none of them.
 */

/* A request as a route sees it: raw (percent-encoded) slices of the request,
   NUL-terminated copies in a route run on the thread pool. */
typedef struct vast__route_req {
  const char *path, *query, *host, *body; /* host: the Host header ("" none) */
  size_t pn, qn, hn, bn;
  const char *ctype; /* Content-Type as sent ("" none) */
  size_t cn;
  int api_client;      /* an X-Vastrack-Client header was sent */
  const char *db_path; /* the collector's database, NULL when none */
  int allow_private;   /* vast_collector_opts.web_allow_private */
} vast__route_req;

/* A route's answer. The collector frees owned and hitq (vast__route_ans_free). */
typedef struct vast__route_ans {
  int status;        /* HTTP status */
  const char *ctype; /* static */
  const char *body;  /* static, or into owned */
  size_t len;
  char *owned; /* malloc'd, or NULL */
  /* A record (routes on the loop only): "" for the answer alone; else a hit
     /t/<event>?<hitq> is stored like a tracking hit, and the answer goes out
     once it is stored... */
  char event[64];
  char *hitq; /* malloc'd */
  size_t hqn;
  /* ...or, with location, the answer is 302 to it (vast_collector_opts.
     tap_forward: or the GIF; or the GIF and site->forward fires it) */
  const char *location; /* into the request's query */
  size_t locn;
} vast__route_ans;

void vast__route_ans_free(vast__route_ans *a);

enum {
  VAST__ROUTE_PREFIX = 1, /* path is a prefix of the request's (which is longer) */
  VAST__ROUTE_POOL = 2,   /* run on libuv's thread pool: may block (network, SQLite) */
  VAST__ROUTE_SLOW = 4,   /* with POOL: may wait on the network, so under the cap of half
                             the pool (503 past it); see also slow below */
  VAST__ROUTE_BODY = 8    /* POST with a body of up to max_body bytes (with POOL) */
};

typedef struct vast__route {
  const char *method; /* "GET" (HEAD too, answered without the body) or "POST" */
  const char *path;   /* the whole path, or a prefix (VAST__ROUTE_PREFIX) */
  unsigned flags;     /* VAST__ROUTE_* */
  /* optional: 0 when the route does not take this path after all (GET: the
     lookup goes on; BODY: 404 once the body is read) */
  int (*match)(const char *path, size_t n);
  /* optional, BODY: NULL when the body may be read; else it is not (415
     with this text, closed) */
  const char *(*admit)(const vast__route_req *rq);
  /* optional, POOL: 1 when this request may wait on the network (SLOW) */
  int (*slow)(const vast__route_req *rq);
  /* the answer; a route on the thread pool must be reentrant */
  void (*run)(const vast__route_req *rq, vast__route_ans *out);
} vast__route;

/* What the collector serves besides tracking (with vast_collector_opts.web). */
typedef struct vast__site {
  /* route tables, each ended by an entry whose method is NULL, looked up in
     order; the list ends with NULL */
  const vast__route *const *tables;
  /* header lines (each ending in CRLF) of every answer of the site, and of
     the collector's 404 and 405 answers when it serves the site */
  const char *headers;
  /* --tap-forward server: fires url from the collector with the player's
     address and User-Agent; blocks (runs on the thread pool); *status the
     HTTP status (0: none), msg what went wrong */
  void (*forward)(const char *url, const char *device_ip, const char *device_ua, int allow_private,
                  long *status, char *msg, size_t msgcap);
} vast__site;

/* vast_collector_start with the routes of site (NULL: none); site must
   outlive the collector. */
vast_err vast__collector_start(const vast_collector_opts *opts, const vast__site *site,
                               vast_collector **out, vast_error *err);

#endif
