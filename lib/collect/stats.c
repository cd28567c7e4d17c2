/*
 * stats.c: what the collector tells about itself: GET /stats (JSON), GET
 * /metrics (Prometheus text format 0.0.4), GET /api/stats (the dashboard's
 * live funnel; with the web UI) and vast_collector_get_stats. The per-loop
 * counters are added up here; the rest are the collector's atomics and the
 * event counts kept under emu.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/server-int.h"

const int vast__status_codes[NSTATUS] = {200, 204, 400, 404, 405, 408, 411,
                                         413, 414, 431, 501, 503, 505};
const double vast__lat_b[NLAT] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                  0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
const double vast__batch_b[NBATCH] = {1,   2,   4,   8,    16,   32,   64,
                                      128, 256, 512, 1024, 2048, 4096, 8192};

static void appendf(char **b, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void appendf(char **b, size_t *len, size_t *cap, const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) vast__bput(b, len, cap, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
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

void vast__stats_json(vast_collector *c, char **b, size_t *len, size_t *cap) {
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
void vast__stats_web(vast_collector *c, char **b, size_t *len, size_t *cap) {
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
    vast__json_str(b, len, cap, c->ev[i].name, strlen(c->ev[i].name));
    appendf(b, len, cap, ":%llu", (unsigned long long)c->ev[i].n);
  }
  uint64_t tot[FUN_N] = {0};
  for (unsigned i = 0; i < c->nads; i++)
    for (int f = 0; f < FUN_N; f++)
      tot[f] += c->ads[i].n[f];
  appendf(b, len, cap, "},\"funnel\":[");
  for (int f = 0; f <= FUN_COMPLETE; f++)
    appendf(b, len, cap, "%s{\"event\":\"%s\",\"n\":%llu}", f ? "," : "", vast__wire_funnel[f],
            (unsigned long long)tot[f]);
  appendf(b, len, cap, "],\"ads\":[");
  for (unsigned i = 0; i < c->nads; i++) {
    appendf(b, len, cap, "%s{\"ad\":", i ? "," : "");
    vast__json_str(b, len, cap, c->ads[i].ad, strlen(c->ads[i].ad));
    for (int f = 0; f < FUN_N; f++)
      appendf(b, len, cap, ",\"%s\":%llu", vast__wire_funnel[f],
              (unsigned long long)c->ads[i].n[f]);
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

void vast__stats_metrics(vast_collector *c, char **b, size_t *len, size_t *cap) {
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
    appendf(b, len, cap, "vastrack_responses_total{code=\"%d\"} %llu\n", vast__status_codes[i],
            t.status[i]);
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
