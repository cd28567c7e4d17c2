/*
 * ssai-kafka.c: the SSAI service fed from Kafka (vast_ssai_kafka_start).
 *
 * A consumer thread reads a topic of JSON messages keyed by session id
 * (so every message of a session is in one partition, in order) and applies
 * each through the public calls (vast_ssai_session_create, _break_add,
 * _report, _event, _session_end). Several instances share the partitions in
 * one consumer group.
 *
 * Offsets: a partition's committed offset is the first message of the
 * oldest session still live in it (or the next message when none is), so
 * the owner after a rebalance replays every live session from its creation.
 * The commit's metadata carries "hw=N": the messages below N were applied by
 * the committer (their beacons handed to its dispatcher). The new owner
 * applies the messages below N quietly: the trackers move, nothing is fired
 * (vast__ssai_quiet, thread-local); from N on it fires. On a revoke the
 * instance commits and keeps the partition's sessions until the assignment
 * that follows: a partition it gets back, that nobody applied past what it
 * did (the committed hw is not beyond its own), goes on where it was (its
 * sessions kept, fetched from its next offset: nothing replayed, nothing
 * fired again, even when the commit of the revoke was refused); the sessions
 * of any other partition end (no beacon invented; the beacons already due are
 * still sent by it), also when the consumer closes.
 *
 * Before a commit the journal is synced (vast_ssai_sync): a message counted
 * below hw has its beacons on disk, so a committer killed right after comes
 * back with them (its --state) even though the next owner applies it quietly.
 *
 * Figures: vast_ssai_kafka_stats, and in Prometheus text
 * vast_ssai_kafka_write_metrics; the consumers running are registered by
 * service, so the HTTP front's /metrics adds theirs (vast__ssai_kafka_metrics).
 */
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ssai/ssai-core.h"
#include "ssai/ssai-int.h"
#include "vastrack/ssai.h"

_Thread_local int vast__ssai_quiet;

#define MAX_PARTS 256
#define LIVE_SLOTS 4096
#define SNAPS 64 /* commit points kept until their beacons are settled (200 ms apart) */

typedef struct live {
  struct live *next;
  int32_t part;
  int64_t first; /* offset of the session's first message */
  double seen;   /* monotonic seconds of its last message */
  char id[];
} live;

typedef struct part_st {
  int owned;
  int held;         /* revoked, its sessions kept until the next assignment says */
  int64_t next;     /* next offset to apply (-1: none applied yet) */
  int64_t quiet_hw; /* offsets below: applied quietly (the previous owner fired them) */
} part_st;

/* What a commit would have said at one moment: per partition the offset to
   commit and the hw (-1: not owned then), and the service's batch counter:
   the beacons of those messages are in batches up to `bid`. */
typedef struct snap {
  uint64_t bid;
  int64_t off[MAX_PARTS], hw[MAX_PARTS];
} snap;

struct vast_ssai_kafka {
  vast_ssai *s;
  rd_kafka_t *rk;
  char *topic;
  double idle_s;
  pthread_t thr;
  volatile int stop;
  int started;
  pthread_mutex_t mu; /* the figures */
  vast_ssai_kafka_figures fig;
  part_st parts[MAX_PARTS];
  live *tab[LIVE_SLOTS];
  double last_commit;
  int behind;                       /* the last commit was not of the newest snapshot */
  snap *ring;                       /* SNAPS snapshots, the newest at ring[(n_snap - 1) % SNAPS] */
  unsigned long n_snap, first_snap; /* taken in all; the oldest still valid */
  struct vast_ssai_kafka *reg_next; /* the running consumers (reg) */
};

/* The consumers running, for the /metrics of their service. */
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static vast_ssai_kafka *reg;

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned slot_of(const char *id) {
  unsigned h = 2166136261u;
  for (; *id; id++)
    h = (h ^ (unsigned char)*id) * 16777619u;
  return h % LIVE_SLOTS;
}

static live **live_find(vast_ssai_kafka *k, const char *id) {
  live **p = &k->tab[slot_of(id)];
  while (*p && strcmp((*p)->id, id))
    p = &(*p)->next;
  return p;
}

static void live_drop(live **p) {
  live *l = *p;
  *p = l->next;
  free(l);
}

/* The offset to commit for partition p: the oldest live session's first
   message, or the next message. Forgets sessions idle past idle_s (the
   service ended them). */
static int64_t commit_point(vast_ssai_kafka *k, int32_t p) {
  int64_t at = k->parts[p].next;
  double now = mono();
  for (unsigned i = 0; i < LIVE_SLOTS; i++)
    for (live **q = &k->tab[i]; *q;) {
      if ((*q)->part == p && now - (*q)->seen > k->idle_s) {
        live_drop(q);
        continue;
      }
      if ((*q)->part == p && (at < 0 || (*q)->first < at)) at = (*q)->first;
      q = &(*q)->next;
    }
  return at;
}

/* The oldest batch of beacons not settled yet (answered, failed or
   expired), UINT64_MAX when none, and in *mark the last batch id given: the
   service keeps its live batches in id order, so this is O(1). */
static uint64_t oldest_unsettled(vast_ssai *s, uint64_t *mark) {
  return vast__ssai_oldest_batch(s, mark);
}

/* Forgets the snapshots (the partitions changed hands). */
static void snaps_reset(vast_ssai_kafka *k) {
  k->first_snap = k->n_snap;
}

/* Commits, for every owned partition, the newest commit point whose beacons
   are all settled: a message counted below hw has had its beacons answered
   (or given up), so an instance that dies loses none of them: the next
   owner fires from hw on (what was in flight may repeat). The journal is
   synced first. A commit that cannot be made now (no settled snapshot yet,
   the journal not synced in 2 s) leaves the previous one; `behind` says to
   try again. */
static void commit_all(vast_ssai_kafka *k) {
  if (vast_ssai_sync(k->s, 2000) != VAST_OK) {
    pthread_mutex_lock(&k->mu);
    k->fig.commit_errors++;
    pthread_mutex_unlock(&k->mu);
    k->last_commit = mono();
    k->behind = 1;
    return;
  }
  uint64_t mark, oldest = oldest_unsettled(k->s, &mark);
  snap *now = &k->ring[k->n_snap % SNAPS];
  now->bid = mark;
  for (int32_t p = 0; p < MAX_PARTS; p++) {
    int on = k->parts[p].owned && k->parts[p].next >= 0;
    now->off[p] = on ? commit_point(k, p) : -1;
    now->hw[p] = on ? k->parts[p].next : -1;
  }
  k->n_snap++;
  if (k->n_snap - k->first_snap > SNAPS) k->first_snap = k->n_snap - SNAPS;
  const snap *use = NULL; /* the newest whose batches are all settled */
  unsigned long i = k->n_snap;
  while (i > k->first_snap && !use) {
    i--;
    if (k->ring[i % SNAPS].bid < oldest) use = &k->ring[i % SNAPS];
  }
  k->behind = use != now;
  if (use) k->first_snap = i; /* the older ones are of no more use */
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
  char meta[40];
  for (int32_t p = 0; use && p < MAX_PARTS; p++) {
    if (!k->parts[p].owned || use->hw[p] < 0) continue;
    rd_kafka_topic_partition_t *t = rd_kafka_topic_partition_list_add(l, k->topic, p);
    t->offset = use->off[p];
    int n = snprintf(meta, sizeof meta, "hw=%lld", (long long)use->hw[p]);
    t->metadata = malloc((size_t)n);
    if (t->metadata) {
      memcpy(t->metadata, meta, (size_t)n);
      t->metadata_size = (size_t)n;
    }
  }
  if (l->cnt) {
    /* The answer waited for 5 s at most: rd_kafka_commit() can wait forever
       (seen on librdkafka's mock cluster: the commit of a revoke inside
       rd_kafka_consumer_close, after a member of the group died). */
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    rd_kafka_queue_t *q = rd_kafka_queue_new(k->rk);
    if (q && !rd_kafka_commit_queue(k->rk, l, q, NULL, NULL)) {
      rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 5000);
      if (ev) e = rd_kafka_event_error(ev);
      rd_kafka_event_destroy(ev);
    }
    if (q) rd_kafka_queue_destroy(q);
    pthread_mutex_lock(&k->mu);
    if (e)
      k->fig.commit_errors++;
    else
      k->fig.commits++;
    pthread_mutex_unlock(&k->mu);
  }
  rd_kafka_topic_partition_list_destroy(l);
  k->last_commit = mono();
}

static const char *jstr(json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

static int jnum(json_t *o, const char *key, double *v) {
  json_t *j = json_object_get(o, key);
  if (!j) return 0;
  if (!json_is_number(j)) return -1;
  *v = json_number_value(j);
  return 1;
}

static int discard(void *ctx, const char *d, size_t n) {
  (void)ctx, (void)d, (void)n;
  return 0;
}

/* Applies one message. VAST_OK or the call's error. */
static vast_err apply(vast_ssai_kafka *k, const rd_kafka_message_t *m) {
  json_t *o = json_loadb(m->payload, m->len, 0, NULL);
  if (!json_is_object(o)) {
    json_decref(o);
    return VAST_E_INVAL;
  }
  const char *type = jstr(o, "type"), *sid = jstr(o, "sessionId");
  vast_err rc = VAST_E_INVAL;
  double ad = -1, v;
  if (!type || !sid) goto out;
  if (!strcmp(type, "session")) {
    vast_device d = {sizeof d,
                     jstr(o, "deviceIp"),
                     jstr(o, "userAgent"),
                     jstr(o, "referer"),
                     jstr(o, "acceptLanguage"),
                     jstr(o, "requestedWith"),
                     0};
    char id[65];
    rc = vast_ssai_session_create(k->s, sid, &d, id, sizeof id);
    if (rc == VAST_OK) {
      live **p = live_find(k, sid);
      if (!*p && (*p = calloc(1, sizeof **p + strlen(sid) + 1))) {
        strcpy((*p)->id, sid);
        (*p)->part = m->partition;
        (*p)->first = m->offset;
      }
    }
  } else if (!strcmp(type, "break")) {
    const char *url = jstr(o, "url"), *doc = jstr(o, "vast");
    if (!url == !doc) goto out;
    rc = vast_ssai_break_add(k->s, sid, url, doc, doc ? strlen(doc) : 0, discard, NULL, NULL);
  } else if (!strcmp(type, "report")) {
    vast_ssai_consumption r = {0, 0, 0, -1, 0, 0};
    if (jnum(o, "ad", &ad) != 1 || ad < 0 || ad > 1e6 || ad != floor(ad)) goto out;
    r.ad = (unsigned)ad;
    if (jnum(o, "wallTime", &v) == 1) r.wall_time = v;
    int seg = jnum(o, "segment", &v);
    if (seg == 1 && v >= 0 && v <= 1e7 && v == floor(v) &&
        jnum(o, "segmentDuration", &r.seg_duration) == 1) {
      r.segment = 1;
      r.index = (unsigned)v;
    } else if (seg != 0 || jnum(o, "mediaTime", &r.media_time) != 1) {
      goto out;
    }
    rc = vast_ssai_report(k->s, sid, &r);
  } else if (!strcmp(type, "event")) {
    double media = -1, code = 0;
    const char *ev = jstr(o, "event");
    if (jnum(o, "ad", &ad) != 1 || ad < 0 || ad > 1e6 || !ev || jnum(o, "mediaTime", &media) < 0 ||
        jnum(o, "code", &code) < 0)
      goto out;
    rc = vast_ssai_event(k->s, sid, (unsigned)ad, ev, media, (int)code);
    if (rc == VAST_E_NOT_PLAYED) rc = VAST_OK;
  } else if (!strcmp(type, "end")) {
    rc = vast_ssai_session_end(k->s, sid);
    live **p = live_find(k, sid);
    if (*p) live_drop(p);
  }
  if (strcmp(type, "end")) {
    live **p = live_find(k, sid);
    if (*p) (*p)->seen = mono();
  }
out:
  json_decref(o);
  return rc;
}

/* Ends (without beacons) the sessions of partitions that are no longer ours. */
static void drop_partition(vast_ssai_kafka *k, int32_t p) {
  for (unsigned i = 0; i < LIVE_SLOTS; i++)
    for (live **q = &k->tab[i]; *q;) {
      if ((*q)->part != p) {
        q = &(*q)->next;
        continue;
      }
      vast_ssai_session_end(k->s, (*q)->id);
      pthread_mutex_lock(&k->mu);
      k->fig.sessions_handed_over++;
      pthread_mutex_unlock(&k->mu);
      live_drop(q);
    }
  k->parts[p].owned = 0;
  k->parts[p].held = 0;
  k->parts[p].next = -1;
}

/* Ends the sessions of the partitions revoked and not given back. */
static void drop_held(vast_ssai_kafka *k) {
  for (int32_t p = 0; p < MAX_PARTS; p++)
    if (k->parts[p].held) drop_partition(k, p);
}

/* Takes partitions: their committed offsets and the committer's high-water
   mark ("hw=N" metadata), then starts fetching at the committed offsets. */
static void take(vast_ssai_kafka *k, rd_kafka_topic_partition_list_t *parts) {
  rd_kafka_committed(k->rk, parts, 10000);
  for (int i = 0; i < parts->cnt; i++) {
    rd_kafka_topic_partition_t *t = &parts->elems[i];
    if (t->partition < 0 || t->partition >= MAX_PARTS) continue;
    part_st *ps = &k->parts[t->partition];
    ps->quiet_hw = -1;
    char meta[40];
    if (t->metadata && t->metadata_size < sizeof meta) {
      memcpy(meta, t->metadata, t->metadata_size);
      meta[t->metadata_size] = 0;
      if (!strncmp(meta, "hw=", 3)) ps->quiet_hw = strtoll(meta + 3, NULL, 10);
    }
    if (ps->held && ps->next >= 0 && ps->quiet_hw >= 0 && ps->quiet_hw <= ps->next) {
      t->offset = ps->next; /* ours again, nobody went further: go on from there */
      ps->quiet_hw = -1;
    } else {
      if (ps->held) drop_partition(k, t->partition);
      ps->next = -1;
    }
    ps->held = 0;
    ps->owned = 1;
  }
  drop_held(k); /* revoked and not given back */
  snaps_reset(k);
  rd_kafka_assign(k->rk, parts);
  pthread_mutex_lock(&k->mu);
  k->fig.rebalances++;
  pthread_mutex_unlock(&k->mu);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
  vast_ssai_kafka *k = opaque;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    take(k, parts);
  } else {
    commit_all(k);
    for (int i = 0; i < parts->cnt; i++) {
      int32_t p = parts->elems[i].partition;
      if (p >= 0 && p < MAX_PARTS && k->parts[p].owned)
        k->parts[p].owned = 0, k->parts[p].held = 1; /* the next assignment decides */
    }
    snaps_reset(k);
    rd_kafka_assign(rk, NULL);
  }
}

static void *consume_main(void *arg) {
  vast_ssai_kafka *k = arg;
  int dirty = 0;
  while (!k->stop) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, 50);
    if (m && !m->err && m->partition >= 0 && m->partition < MAX_PARTS &&
        k->parts[m->partition].owned) {
      part_st *ps = &k->parts[m->partition];
      vast__ssai_quiet = m->offset < ps->quiet_hw;
      vast_err rc = apply(k, m);
      vast__ssai_quiet = 0;
      ps->next = m->offset + 1;
      pthread_mutex_lock(&k->mu);
      k->fig.messages++;
      if (m->offset < ps->quiet_hw) k->fig.replayed_quietly++;
      if (rc != VAST_OK) k->fig.refused++;
      pthread_mutex_unlock(&k->mu);
      dirty = 1;
    } else if (m && m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      pthread_mutex_lock(&k->mu);
      k->fig.consume_errors++;
      pthread_mutex_unlock(&k->mu);
    }
    int idle = !m;
    if (m) rd_kafka_message_destroy(m);
    /* caught up (and the last commit was complete), or every 200 ms */
    if (dirty && ((idle && !k->behind) || mono() - k->last_commit > 0.2)) {
      commit_all(k);
      dirty = k->behind; /* beacons still unsettled: commit again later */
    }
  }
  vast_ssai_drain(k->s, 5000); /* leaving: what was applied is settled, then committed */
  commit_all(k);
  rd_kafka_consumer_close(k->rk); /* revokes: commits */
  drop_held(k);                   /* and the sessions held end here */
  return NULL;
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *val, char *msg, size_t cap) {
  char e[256];
  if (rd_kafka_conf_set(conf, name, val, e, sizeof e) != RD_KAFKA_CONF_OK) {
    snprintf(msg, cap, "kafka: %s", e);
    return -1;
  }
  return 0;
}

vast_err vast_ssai_kafka_start(vast_ssai *s, const char *uri, double idle_s, vast_ssai_kafka **out,
                               char *msg, size_t cap) {
  char dummy[8];
  if (!msg) msg = dummy, cap = sizeof dummy;
  msg[0] = 0;
  if (!out) return VAST_E_INVAL;
  *out = NULL;
  if (!s || !uri || strncmp(uri, "kafka://", 8) != 0) {
    snprintf(msg, cap, "kafka: source must look like kafka://BROKERS/TOPIC[?group=G&...]");
    return VAST_E_INVAL;
  }
  char *copy = strdup(uri + 8);
  if (!copy) return VAST_E_NOMEM;
  char *slash = strchr(copy, '/');
  if (!slash || slash == copy || !slash[1] || slash[1] == '?') {
    snprintf(msg, cap, "kafka: source must look like kafka://BROKERS/TOPIC[?group=G&...]: '%s'",
             uri);
    free(copy);
    return VAST_E_INVAL;
  }
  *slash = 0;
  char *topic = slash + 1, *props = strchr(topic, '?');
  if (props) *props++ = 0;
  vast_ssai_kafka *k = calloc(1, sizeof *k);
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (!k || !(k->topic = strdup(topic)) || !(k->ring = calloc(SNAPS, sizeof *k->ring))) goto nomem;
  k->s = s;
  k->idle_s = idle_s > 0 ? idle_s : 60;
  for (int i = 0; i < MAX_PARTS; i++)
    k->parts[i].next = k->parts[i].quiet_hw = -1;
  pthread_mutex_init(&k->mu, NULL);
  if (set(conf, "bootstrap.servers", copy, msg, cap) ||
      set(conf, "group.id", "vastrack-ssai", msg, cap) ||
      set(conf, "enable.auto.commit", "false", msg, cap) ||
      set(conf, "auto.offset.reset", "earliest", msg, cap) ||
      set(conf, "enable.partition.eof", "false", msg, cap))
    goto bad;
  char *save = NULL;
  for (char *kv = props ? strtok_r(props, "&", &save) : NULL; kv; kv = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(kv, '=');
    if (!eq) {
      snprintf(msg, cap, "kafka: property without value: '%s'", kv);
      goto bad;
    }
    *eq = 0;
    if (set(conf, !strcmp(kv, "group") ? "group.id" : kv, eq + 1, msg, cap)) goto bad;
  }
  rd_kafka_conf_set_opaque(conf, k);
  rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
  char e[512];
  k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
  if (!k->rk) {
    snprintf(msg, cap, "kafka: %s", e);
    rd_kafka_conf_destroy(conf);
    free(copy);
    free(k->topic), free(k->ring);
    free(k);
    return VAST_E_KAFKA;
  }
  free(copy);
  rd_kafka_poll_set_consumer(k->rk);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, k->topic, RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t se = rd_kafka_subscribe(k->rk, l);
  rd_kafka_topic_partition_list_destroy(l);
  if (se || pthread_create(&k->thr, NULL, consume_main, k)) {
    snprintf(msg, cap, "kafka: cannot subscribe to %s: %s", k->topic,
             se ? rd_kafka_err2str(se) : "no thread");
    rd_kafka_destroy(k->rk);
    free(k->topic), free(k->ring);
    free(k);
    return VAST_E_KAFKA;
  }
  k->started = 1;
  pthread_mutex_lock(&reg_mu);
  k->reg_next = reg;
  reg = k;
  pthread_mutex_unlock(&reg_mu);
  *out = k;
  return VAST_OK;
nomem:
  snprintf(msg, cap, "out of memory");
  rd_kafka_conf_destroy(conf);
  free(copy);
  if (k) free(k->topic), free(k->ring);
  free(k);
  return VAST_E_NOMEM;
bad:
  rd_kafka_conf_destroy(conf);
  free(copy);
  free(k->topic), free(k->ring);
  free(k);
  return VAST_E_INVAL;
}

void vast_ssai_kafka_stop(vast_ssai_kafka *k) {
  if (!k) return;
  pthread_mutex_lock(&reg_mu); /* no /metrics reads it from now on */
  for (vast_ssai_kafka **p = &reg; *p; p = &(*p)->reg_next)
    if (*p == k) {
      *p = k->reg_next;
      break;
    }
  pthread_mutex_unlock(&reg_mu);
  k->stop = 1;
  if (k->started) pthread_join(k->thr, NULL);
  rd_kafka_destroy(k->rk);
  for (unsigned i = 0; i < LIVE_SLOTS; i++)
    while (k->tab[i])
      live_drop(&k->tab[i]);
  pthread_mutex_destroy(&k->mu);
  free(k->topic), free(k->ring);
  free(k);
}

void vast_ssai_kafka_stats(vast_ssai_kafka *k, vast_ssai_kafka_figures *out) {
  memset(out, 0, sizeof *out);
  if (!k) return;
  pthread_mutex_lock(&k->mu);
  *out = k->fig;
  pthread_mutex_unlock(&k->mu);
}

/* Partitions assigned now, and the messages in them not applied yet: the
   high watermark of the last fetch answer (cached by librdkafka, no request)
   minus the position, over the partitions with both known. */
static void assigned(vast_ssai_kafka *k, long *parts, long long *lag) {
  rd_kafka_topic_partition_list_t *l = NULL;
  *parts = 0, *lag = 0;
  if (rd_kafka_assignment(k->rk, &l) != RD_KAFKA_RESP_ERR_NO_ERROR || !l) return;
  *parts = l->cnt;
  rd_kafka_position(k->rk, l);
  for (int i = 0; i < l->cnt; i++) {
    int64_t lo = -1, hi = -1, at = l->elems[i].offset;
    if (rd_kafka_get_watermark_offsets(k->rk, l->elems[i].topic, l->elems[i].partition, &lo, &hi) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        at >= 0 && hi > at)
      *lag += hi - at;
  }
  rd_kafka_topic_partition_list_destroy(l);
}

vast_err vast_ssai_kafka_write_metrics(vast_ssai_kafka *k, vast_write_fn write, void *ctx) {
  if (!k || !write) return VAST_E_INVAL;
  vast_ssai_kafka_figures f;
  vast_ssai_kafka_stats(k, &f);
  long parts;
  long long lag;
  assigned(k, &parts, &lag);
  static const struct {
    const char *name, *type, *help;
  } m[] = {
      {"messages_total", "counter", "Kafka messages applied (fired or replayed quietly)."},
      {"replayed_total", "counter",
       "Messages applied quietly: the previous owner of the partition had fired them."},
      {"refused_total", "counter", "Messages refused (bad JSON, unknown session...), skipped."},
      {"commits_total", "counter", "Offset commits."},
      {"commit_errors_total", "counter", "Offset commits that failed (the previous one stays)."},
      {"consume_errors_total", "counter", "Errors reported by the consumer."},
      {"rebalances_total", "counter", "Partition assignments received."},
      {"sessions_handed_over_total", "counter", "Sessions ended here on a revoke."},
      {"partitions", "gauge", "Partitions assigned now."},
      {"lag_messages", "gauge",
       "Messages in the assigned partitions not applied yet (last fetch's high watermark)."},
  };
  unsigned long long v[] = {f.messages,
                            f.replayed_quietly,
                            f.refused,
                            f.commits,
                            f.commit_errors,
                            f.consume_errors,
                            f.rebalances,
                            f.sessions_handed_over,
                            (unsigned long long)parts,
                            (unsigned long long)lag};
  char buf[3072];
  size_t n = 0;
  for (size_t i = 0; i < sizeof m / sizeof m[0] && n < sizeof buf; i++)
    n += (size_t)snprintf(buf + n, sizeof buf - n,
                          "# HELP vastrack_ssai_kafka_%s %s\n# TYPE vastrack_ssai_kafka_%s %s\n"
                          "vastrack_ssai_kafka_%s %llu\n",
                          m[i].name, m[i].help, m[i].name, m[i].type, m[i].name, v[i]);
  if (n >= sizeof buf) n = sizeof buf - 1;
  return write(ctx, buf, n) == 0 ? VAST_OK : VAST_E_IO;
}

vast_err vast__ssai_kafka_metrics(vast_ssai *s, vast_write_fn write, void *ctx) {
  vast_err rc = VAST_OK;
  pthread_mutex_lock(&reg_mu);
  for (vast_ssai_kafka *k = reg; k && rc == VAST_OK; k = k->reg_next)
    if (k->s == s) {
      rc = vast_ssai_kafka_write_metrics(k, write, ctx);
      break; /* one consumer per service in the command; names do not repeat */
    }
  pthread_mutex_unlock(&reg_mu);
  return rc;
}
