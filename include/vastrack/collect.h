/*
 * vastrack/collect.h: the beacon collector and its report.
 *
 * The collector is the receiving side of tracking beacons: an HTTP/1.1 server
 * (libuv, one event loop per core, keep-alive and pipelining) that answers
 * `GET /t/<event>?ad=..&cr=..&sid=..&code=..` with a 43-byte GIF (or 204) and
 * records every hit in SQLite (WAL, group commit, raw table plus a per-minute
 * rollup) and/or a Kafka topic. With VAST_ACK_DURABLE a hit is answered only
 * once it is durable: with SQLite alone, written to its event loop's journal
 * (<db>-journal-<i>.<k>, replayed into SQLite at the next start after a
 * crash; one collector per database); else committed to every sink. See
 * docs/collector.md for the URL scheme, the schema, the journal and the
 * metrics.
 *
 * The report reads a collector database back: per ad the funnel impression ->
 * start -> firstQuartile -> midpoint -> thirdQuartile -> complete, the other
 * events, the error codes, and optionally the discrepancy against the delivery
 * log of `vastrack play --log`.
 */
#ifndef VASTRACK_COLLECT_H
#define VASTRACK_COLLECT_H

#include "base.h"
#include "doc.h" /* vast_write_fn */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Collector                                                           */
/* ------------------------------------------------------------------ */

typedef enum vast_ack {
  VAST_ACK_DURABLE = 0, /* answer once the hit is journalled/committed (default) */
  VAST_ACK_FAST = 1     /* answer at once; the hit is queued for the writer */
} vast_ack;

typedef enum vast_io {
  VAST_IO_AUTO = 0,  /* io_uring when the kernel allows it (Linux 6.0+), else epoll */
  VAST_IO_URING = 1, /* io_uring: multishot accept and receive into a shared
                        buffer ring, answers batched into one submission per
                        loop iteration; vast_collector_start fails when the
                        kernel refuses it */
  VAST_IO_EPOLL = 2  /* libuv's epoll loop: one read and one write call per request */
} vast_io;
/* Under io_uring, a blocking socket call with a timeout in another thread of the
   same process has been seen to return EINTR now and then while the collector
   runs (in the tests, whose clients share the server's process; the cause is
   not pinned down). Code embedding the collector should retry EINTR, as it
   must for signals anyway, or choose VAST_IO_EPOLL. */

/*
 * vast_collector_opts: how to run a collector. Always initialise with
 * vast_collector_opts_init() and then change fields; `size` lets the struct
 * grow. String fields are copied by vast_collector_create().
 */
typedef struct vast_collector_opts {
  size_t size;                /* sizeof(vast_collector_opts), set by _init */
  const char *listen;         /* "HOST:PORT", "[v6]:PORT" or ":PORT"; default
                                 "127.0.0.1:8080"; port 0 picks a free port */
  const char *db_path;        /* SQLite file; NULL for none. default NULL */
  const char *kafka;          /* "kafka://BROKER[,BROKER..]/TOPIC[?prop=val&..]"
                                 or NULL; props are passed to librdkafka */
  vast_ack ack;               /* default VAST_ACK_DURABLE */
  int sync_full;              /* 1: PRAGMA synchronous=FULL and fdatasync of
                                 the journal per batch (survives power loss);
                                 0 (default): NORMAL (survives a process crash) */
  unsigned threads;           /* event-loop threads; 0 = one per online CPU */
  unsigned max_conns;         /* open connections over all threads; 10000 */
  size_t max_request_line;    /* bytes; longer -> 414 and close; 8192 */
  size_t max_header_bytes;    /* request line plus headers; more -> 431 and
                                 close; 16384 */
  unsigned max_headers;       /* header lines; more -> 431 and close; 100 */
  unsigned header_timeout_ms; /* a started request must be complete within
                                 this; else 408 and close; 10000 */
  unsigned idle_timeout_ms;   /* idle keep-alive connections closed; 60000 */
  unsigned max_pipeline;      /* requests in flight per connection before
                                 reading pauses; 64 */
  unsigned batch_max;         /* hits per transaction at most; 8192 */
  size_t max_queue;           /* hits waiting for the writer; more -> 503;
                                 1000000 */
  const char *param_map;      /* operator query names, "NAME=FIELD,..." with
                                 FIELD one of ad, cr, sid, code, r; e.g.
                                 "adid=ad,creative=cr,err=code". NULL = none */
  unsigned drain_timeout_ms;  /* stop waits this long for open responses; 5000 */
  /* Log lines (bad requests, rejected connections, sink errors), one per
     call, without newline. Called from any collector thread; NULL = none. */
  void (*log)(void *ctx, const char *line);
  void *log_ctx;
  /* The web inspector and dashboard (docs/web.md): GET /, /inspect, their
     assets, /api/stats, /api/errors, and POST /api/validate, /api/inspect,
     /api/resolve, /api/play. The POST endpoints run on libuv's thread pool,
     never on an event-loop thread. 0 (default): not served (404/405). */
  int web;
  int web_allow_private; /* 1: the /api/ calls may fetch from loopback, private and
                            link-local addresses; 0 (default): refused */
  size_t max_body;       /* largest POST body accepted; more -> 413 and
                            close; 2 MiB. Only /api/ paths accept bodies */
  vast_io io;            /* socket I/O of the event loops; default VAST_IO_AUTO */
  int tap_forward;       /* the beacon tap's hits (GET /r/..., docs/conformance.md):
                            0 (default) answered 302 to the original URL, so the
                            real ad server still counts it; 1: answered like a
                            hit (GIF), nothing forwarded (offline QA); 2: answered
                            like a hit, and the collector fires the original
                            itself (thread pool) with X-Device-IP (the player's
                            address, or its own X-Device-IP) and
                            X-Device-User-Agent (its User-Agent), as an SSAI
                            server would */
} vast_collector_opts;

/* Fills *opts with the defaults above. */
VAST_API void vast_collector_opts_init(vast_collector_opts *opts);

typedef struct vast_collector vast_collector;

/*
 * Creates a collector, opens its sinks (creating the SQLite schema when
 * needed), binds the listening sockets and starts the threads: when it returns
 * VAST_OK the collector is answering. The address actually bound is available
 * from vast_collector_address() (useful with port 0).
 *   opts: NULL for defaults; strings are copied.
 *   out:  OUT, the collector, NULL on failure; free with vast_collector_free().
 *   err:  optional, filled with a message on failure.
 * Returns VAST_E_INVAL (bad option), VAST_E_IO (cannot bind), VAST_E_DB,
 * VAST_E_KAFKA or VAST_E_NOMEM.
 */
VAST_API vast_err vast_collector_start(const vast_collector_opts *opts, vast_collector **out,
                                       vast_error *err);

/* "HOST:PORT" the collector listens on (static to the collector). */
VAST_API const char *vast_collector_address(const vast_collector *c);

/* The socket I/O the event loops use: VAST_IO_URING or VAST_IO_EPOLL (never
   VAST_IO_AUTO). */
VAST_API vast_io vast_collector_io(const vast_collector *c);
/* The TCP port the collector listens on. */
VAST_API int vast_collector_port(const vast_collector *c);

/*
 * Asks the collector to stop: it stops accepting, answers what it has read
 * (in durable mode once durable), closes connections, loads what is
 * journalled into SQLite and flushes its sinks. Returns at once;
 * async-signal-safe and callable from any thread.
 * vast_collector_wait() returns once the drain is done.
 */
VAST_API void vast_collector_stop(vast_collector *c);

/* Blocks until the collector has stopped (after vast_collector_stop()). */
VAST_API void vast_collector_wait(vast_collector *c);

/* Stops (if still running), waits, and frees. Accepts NULL. */
VAST_API void vast_collector_free(vast_collector *c);

/* Counters, a consistent-enough snapshot (each field read atomically). */
typedef struct vast_collector_stats {
  uint64_t hits;         /* tracking requests accepted into the queue */
  uint64_t stored;       /* hits stored durably (journalled, or committed to every sink) */
  uint64_t failed;       /* hits a sink refused (answered 503 if durable) */
  uint64_t requests;     /* HTTP requests parsed */
  uint64_t bad_requests; /* answered 4xx/5xx because of the request */
  uint64_t conns_accepted;
  uint64_t conns_rejected; /* over max_conns */
  uint64_t conns_open;
  uint64_t timeouts;    /* header timeouts */
  uint64_t batches;     /* durable writes (journal appends, or sink transactions) */
  uint64_t queue_depth; /* hits waiting for the writer (or the loader) now */
} vast_collector_stats;

/* Fills *out; thread-safe. */
VAST_API void vast_collector_get_stats(const vast_collector *c, vast_collector_stats *out);

/* ------------------------------------------------------------------ */
/* Report                                                              */
/* ------------------------------------------------------------------ */

typedef enum vast_report_format {
  VAST_REPORT_TEXT = 0,
  VAST_REPORT_JSON = 1,
  VAST_REPORT_CSV = 2
} vast_report_format;

typedef struct vast_report vast_report;

/*
 * Loads the counts of a collector database: per ad and event the number of
 * hits received at or after since_ms (milliseconds since the Unix epoch; 0 for
 * all), and per ad the error codes of `error` hits.
 *   db_path: SQLite file written by the collector; opened read-only.
 *   out:     OUT, the report, NULL on failure; free with vast_report_free().
 *   err:     optional, filled on failure.
 * Returns VAST_E_DB (cannot open or not a collector database) or VAST_E_NOMEM.
 * A report is not thread-safe; use one per thread.
 */
VAST_API vast_err vast_report_load(const char *db_path, int64_t since_ms, vast_report **out,
                                   vast_error *err);

/* An empty report (to add fired logs to without a database). */
VAST_API vast_err vast_report_new(vast_report **out);

/*
 * Adds a delivery log of `vastrack play --log FILE`: JSON lines with at least
 * "event" and "url". Each line whose URL is a collector URL (path ending in
 * /t/<event>, query with ad=) counts one fired beacon for (ad, event); lines
 * with "status" 200..299 also count as answered. Other lines are ignored.
 *   lines_used: OUT, optional, collector lines counted.
 * Returns VAST_E_IO when the file cannot be read.
 */
VAST_API vast_err vast_report_add_fired(vast_report *r, const char *log_path, size_t *lines_used,
                                        vast_error *err);

/*
 * The collector's parameter map (`vastrack serve --map`, the same
 * "NAME=FIELD,..." syntax as vast_collector_opts.param_map), so that fired
 * URLs naming the ad with an operator's own parameter (adid=7) are matched to
 * the hits the collector counted for ad 7. `ad=` keeps working. Call before
 * vast_report_add_fired. Returns VAST_E_INVAL when map is malformed (the
 * report is then unchanged).
 */
VAST_API vast_err vast_report_set_map(vast_report *r, const char *map, vast_error *err);

/*
 * Counts for one ad and event: counted (collector hits), fired and answered
 * (from fired logs). Any OUT pointer may be NULL. Returns VAST_E_NOT_FOUND when
 * the pair appears nowhere.
 */
VAST_API vast_err vast_report_count(const vast_report *r, const char *ad, const char *event,
                                    uint64_t *counted, uint64_t *fired, uint64_t *answered);

/*
 * Writes the report: TEXT (a funnel table per ad), JSON (one object, schema in
 * docs/collector.md) or CSV (ad,event,counted,fired,answered,diff,rate).
 * Returns VAST_E_IO when write returns non-zero. Thread-safe: different reports
 * may be written at once (one report is read only).
 */
VAST_API vast_err vast_report_write(const vast_report *r, vast_report_format fmt,
                                    vast_write_fn write, void *ctx);

/* Frees a report; accepts NULL. */
VAST_API void vast_report_free(vast_report *r);

/*
 * Parses a --since value into milliseconds since the epoch: an epoch in
 * seconds ("1700000000"), an ISO 8601 UTC time ("2024-05-01T12:00:00Z",
 * "2024-05-01"), or a duration before now_ms ("90s", "15m", "2h", "7d").
 * Returns VAST_E_INVAL when s is none of these.
 */
VAST_API vast_err vast_parse_since(const char *s, int64_t now_ms, int64_t *out_ms);

#ifdef __cplusplus
}
#endif
#endif
