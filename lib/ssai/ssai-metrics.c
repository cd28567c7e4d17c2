/*
 * ssai-metrics.c: the SSAI service's figures: vast_ssai_stats, vast_ssai_stats2
 * and the Prometheus text of /metrics (vast_ssai_write_metrics). Every figure
 * is a counter kept by ssai.c as things happen, read under the service's lock
 * in O(1): /metrics is read every second by the page, and must not stop the
 * service to count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssai/ssai-core.h"

void vast_ssai_stats(vast_ssai *s, vast_ssai_figures *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  *out = s->st;
  out->sessions = s->n_sessions;
  out->memory = s->mem; /* kept as sessions, ads and queues come and go: /metrics
                           reads it every second, a walk of every session would
                           stop the service for milliseconds at 100,000 */
  pthread_mutex_unlock(&s->mu);
}

size_t vast__ssai_mem_walk(vast_ssai *s) {
  size_t mem = 0;
  pthread_mutex_lock(&s->mu);
  for (session *x = s->all; x; x = x->next) {
    if (!x->id[0]) continue; /* the journal rewrite's cursor */
    mem += sizeof *x + strlen(x->id) + 1 + sizeof(dev_ref) + x->cap_ads * sizeof(ssai_ad);
    for (size_t i = 0; i < x->n_ads; i++)
      mem += x->ads[i].t ? vast_tracker_memory() : 0;
  }
  for (seq *q = s->seqs; q; q = q->anext)
    mem += sizeof *q;
  pthread_mutex_unlock(&s->mu);
  return mem;
}

void vast_ssai_stats2(vast_ssai *s, vast_ssai_figures2 *out) {
  if (!out || out->size < sizeof out->size) return;
  vast_ssai_figures2 f;
  memset(&f, 0, sizeof f);
  if (s) {
    pthread_mutex_lock(&s->mu);
    f = s->st2;
    f.breaks = s->n_brk;
    f.break_bytes = s->brk_bytes;
    f.break_hits = s->brk_hits;
    f.break_misses = s->brk_misses;
    pthread_mutex_unlock(&s->mu);
  }
  size_t n = out->size < sizeof f ? out->size : sizeof f;
  f.size = out->size;
  memcpy(out, &f, n);
}

vast_err vast_ssai_write_metrics(vast_ssai *s, vast_write_fn write, void *ctx) {
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  vast_ssai_figures2 st2 = {sizeof st2, 0, 0, 0, 0, 0, 0, 0};
  vast_ssai_stats2(s, &st2);
  char buf[4096];
  size_t n = 0;
#define P(...) n += (size_t)snprintf(buf + n, sizeof buf - n, __VA_ARGS__)
  P("# TYPE vastrack_ssai_sessions gauge\nvastrack_ssai_sessions %llu\n",
    (unsigned long long)st.sessions);
  P("# TYPE vastrack_ssai_sessions_total counter\nvastrack_ssai_sessions_total %llu\n",
    (unsigned long long)st.sessions_total);
  P("# TYPE vastrack_ssai_sessions_idle_total counter\nvastrack_ssai_sessions_idle_total %llu\n",
    (unsigned long long)st.sessions_idle);
  P("# TYPE vastrack_ssai_ads_open gauge\nvastrack_ssai_ads_open %llu\n",
    (unsigned long long)st.ads_open);
  const char *nm[] = {"due", "sent", "failed", "expired", "retried", "recovered"};
  uint64_t v[] = {st.due, st.sent, st.failed, st.expired, st.retried, st.recovered};
  for (int i = 0; i < 6; i++)
    P("# TYPE vastrack_ssai_beacons_%s_total counter\nvastrack_ssai_beacons_%s_total %llu\n", nm[i],
      nm[i], (unsigned long long)v[i]);
  P("# TYPE vastrack_ssai_beacons_pending gauge\nvastrack_ssai_beacons_pending %llu\n",
    (unsigned long long)st.pending);
  P("# TYPE vastrack_ssai_journal_syncs_total counter\nvastrack_ssai_journal_syncs_total %llu\n",
    (unsigned long long)st2.journal_syncs);
  P("# TYPE vastrack_ssai_journal_errors_total counter\nvastrack_ssai_journal_errors_total %llu\n",
    (unsigned long long)st2.journal_errors);
  P("# TYPE vastrack_ssai_breaks gauge\nvastrack_ssai_breaks %llu\n",
    (unsigned long long)st2.breaks);
  P("# TYPE vastrack_ssai_break_bytes gauge\nvastrack_ssai_break_bytes %llu\n",
    (unsigned long long)st2.break_bytes);
  P("# TYPE vastrack_ssai_session_bytes gauge\nvastrack_ssai_session_bytes %llu\n",
    (unsigned long long)st.memory);
  P("# TYPE vastrack_ssai_journal_compactions_total counter\n"
    "vastrack_ssai_journal_compactions_total %llu\n",
    (unsigned long long)st.compactions);
  P("# TYPE vastrack_ssai_lateness_seconds histogram\n");
  static const char *le[11] = {"0.001", "0.002", "0.005", "0.01", "0.02", "0.05",
                               "0.1",   "0.2",   "0.5",   "1",    "5"};
  uint64_t cum = 0;
  for (int i = 0; i < 11; i++) {
    cum += st.lateness_ms[i];
    P("vastrack_ssai_lateness_seconds_bucket{le=\"%s\"} %llu\n", le[i], (unsigned long long)cum);
  }
  cum += st.lateness_ms[11];
  P("vastrack_ssai_lateness_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
  P("vastrack_ssai_lateness_seconds_count %llu\n", (unsigned long long)cum);
#undef P
  if (n >= sizeof buf) n = sizeof buf - 1;
  return write(ctx, buf, n) == 0 ? VAST_OK : VAST_E_IO;
}
