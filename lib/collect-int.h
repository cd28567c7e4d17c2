/*
 * collect-int.h: internals of the collector shared by lib/collect*.c and
 * lib/store.c: the bounded HTTP/1.1 request parser, the hit record that travels
 * from an event-loop thread to the writer thread, and the sinks.
 */
#ifndef VASTRACK_COLLECT_INT_H
#define VASTRACK_COLLECT_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "vastrack.h"

/* ---- HTTP request parser (collect-http.c) ---- */

typedef struct vast__str {
  const char *p;
  size_t n;
} vast__str;

#define VAST__MAX_DEVICE_HDRS 16

typedef struct vast__http_req {
  vast__str method, target, path, query;
  int minor;          /* HTTP/1.<minor> */
  int keep_alive;     /* after Connection: and version defaults */
  int has_body;       /* Content-Length > 0 or Transfer-Encoding */
  int chunked;        /* Transfer-Encoding present (bodies of unknown length) */
  uint64_t content_length; /* Content-Length; saturates at UINT64_MAX/2 */
  vast__str user_agent, device_ip, device_ua, forwarded_for;
  unsigned n_device;  /* other X-Device-* headers (name without prefix) */
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

/* Percent-decodes (and '+' to space) s into out[0..cap); returns length or -1. */
long vast__url_decode(const char *s, size_t n, char *out, size_t cap);

/* ---- Hits ---- */

enum { VAST__HIT_PENDING = 0, VAST__HIT_OK = 1, VAST__HIT_FAILED = 2 };

typedef struct vast__hit {
  struct vast__hit *next;   /* writer queue link */
  atomic_int state;         /* VAST__HIT_* */
  atomic_int refs;          /* 2 while both a connection and the writer hold it */
  void *owner;              /* the event-loop worker to wake when resolved */
  int64_t t_ms;             /* receive time, ms since epoch */
  int code;                 /* error code, -1 when absent */
  int kafka_ok;             /* set by the Kafka delivery report */
  const char *event, *ad, *cr, *sid, *ip, *ua, *device_ip, *device_ua, *device, *query;
  char data[];              /* the strings above */
} vast__hit;

/* Drops one reference; frees the hit on the last. */
void vast__hit_unref(vast__hit *h);

/* ---- SQLite store (store.c) ---- */

typedef struct vast__store vast__store;

vast_err vast__store_open(const char *path, int sync_full, vast__store **out, char *msg,
                          size_t msgcap);
/* Writes hits[0..n) and their rollup in one transaction. */
vast_err vast__store_write(vast__store *s, vast__hit **hits, size_t n, char *msg, size_t msgcap);
void vast__store_close(vast__store *s);

/* ---- Kafka sink (collect-kafka.c) ---- */

typedef struct vast__kafka vast__kafka;

vast_err vast__kafka_open(const char *uri, vast__kafka **out, char *msg, size_t msgcap);
/* Produces hits[0..n) and waits for their delivery reports; sets kafka_ok. */
vast_err vast__kafka_write(vast__kafka *k, vast__hit **hits, size_t n, char *msg, size_t msgcap);
void vast__kafka_close(vast__kafka *k);

/* Appends the JSON object of a hit to buf (growing it); -1 when out of memory. */
int vast__hit_json(const vast__hit *h, char **buf, size_t *len, size_t *cap);

#endif
