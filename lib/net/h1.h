/*
 * h1.h: the dispatcher's plain-http fast path (internal): a minimal HTTP/1.1
 * GET client with a keep-alive connection pool per host:port, non-blocking
 * sockets and one epoll set. It only sends a prepared request and reads one
 * bounded response (status line, headers, Content-Length / chunked /
 * until-close body, discarded). Everything else (https, redirects followed,
 * host names not yet resolved) stays with libcurl in lib/net/fire.c.
 *
 * Single-threaded: every call on one vast__h1 comes from the stepping thread.
 */
#ifndef VASTRACK_H1_H
#define VASTRACK_H1_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct vast__h1 vast__h1;
typedef struct vast__h1_conn vast__h1_conn;

/* How a request ended. */
enum {
  VAST__H1_OK,       /* a complete response (status set) */
  VAST__H1_CONNECT,  /* could not connect: the request never left */
  VAST__H1_REFUSED,  /* the destination is private and refuse was set: nothing sent */
  VAST__H1_TIMEOUT,  /* deadline passed (sent_us tells whether the request left) */
  VAST__H1_IO,       /* the connection failed after the request was written */
  VAST__H1_PROTOCOL, /* the response could not be parsed or was too large */
  VAST__H1_NOMEM
};

/* One request. The caller owns it (embedded in its own record) and keeps it
 * alive until done is called or vast__h1_cancel returns. */
typedef struct vast__h1_req {
  /* in, set by the caller */
  struct sockaddr_storage addr; /* destination */
  socklen_t addrlen;
  char key[300]; /* pool key: "host:port" as the URL spells it */
  char *msg;     /* the whole request (malloc'ed, freed by the caller) */
  size_t msg_len;
  uint64_t deadline_us; /* monotonic; 0: none */
  int refuse_private;
  /* out */
  int result;       /* VAST__H1_* */
  long status;      /* HTTP status, 0 before the headers */
  uint64_t sent_us; /* monotonic time the request was written, 0: never */
  double sent_at;   /* wall time of the same moment */
  char *location;   /* Location of a 3xx response (malloc'ed, caller frees) */
  char error[400];  /* why it failed */
  /* private */
  vast__h1_conn *conn;
  unsigned fresh_retries; /* reused connections found dead before the request left */
} vast__h1_req;

/* Called when a request ended; it must not call vast__h1_start (queue the
 * result and act on it after vast__h1_run returns). */
typedef void (*vast__h1_done_fn)(void *ctx, vast__h1_req *req);

/* A pool keeping at most max_idle idle connections. NULL on failure. */
vast__h1 *vast__h1_create(size_t max_idle, vast__h1_done_fn done, void *ctx);
/* Closes every connection; requests still running are NOT reported (cancel them first). */
void vast__h1_free(vast__h1 *h);

/* The epoll descriptor: readable when vast__h1_run has work. */
int vast__h1_fd(const vast__h1 *h);

/* Starts a request on an idle connection to req->key or a new one. On an
 * immediate failure done() is called before this returns. */
void vast__h1_start(vast__h1 *h, vast__h1_req *req);

/* Handles ready sockets (waits at most timeout_ms, 0: no wait) and deadlines;
 * done() is called for each request that ended. */
void vast__h1_run(vast__h1 *h, int timeout_ms);

/* Earliest deadline of a running request (monotonic us), 0 when none. */
uint64_t vast__h1_next_deadline(const vast__h1 *h);

/* Abandons a running request (its connection is closed); done() is not called. */
void vast__h1_cancel(vast__h1 *h, vast__h1_req *req);

/* Number of requests running. */
size_t vast__h1_busy(const vast__h1 *h);

/* Counters for tests and the benchmark: connections opened, requests completed
 * on a reused connection. */
void vast__h1_counts(const vast__h1 *h, uint64_t *opened, uint64_t *reused);

#endif
