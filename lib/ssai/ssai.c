/*
 * ssai.c: the server-side beaconing service (include/vastrack/ssai.h):
 * sessions, ad breaks and their timelines, consumption reports driving one
 * trusted-position tracker per ad, and the delivery pipeline on top of one
 * dispatcher: per-ad ordering, per-host limits, retries until a deadline and
 * the beacon journal. The HTTP front is lib/ssai/ssai-http.c.
 *
 * Delivery objects: every due beacon is a `bcn`; the beacons of one event of
 * one ad form a `batch`; the batches of one ad queue on its `seq`, which sends
 * its head batch only when the one before is settled (so the order per ad is
 * the order the tracker fired). A seq outlives its ad (a session that ends
 * still delivers what was due), and owns a reference to the device. Seqs with
 * a batch to send wait on the `ready` list, scanned by pump().
 *
 * Locking: one mutex over everything; the dispatcher's delivery callback takes
 * it on the dispatcher's thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/jsonw.h"
#include "net/net-int.h"
#include "vastrack/net.h"
#include "vastrack/track.h"
#include "ssai/ssai-int.h"
#include "vastrack/ssai.h"

#define HOST_SLOTS 1024
#define BRK_SLOTS 16384

typedef struct dev_ref {
  int refs;
  vast_device d;
  char data[];
} dev_ref;

struct batch;
typedef struct bcn {
  struct bcn *next;
  struct batch *bt;
  uint64_t jid;
  double due, deadline, not_before;
  unsigned attempts;
  int host; /* slot in the host table, -1 none */
  char *event;
  char url[];
} bcn;

typedef struct batch {
  struct batch *next;
  bcn *list, *retry;
  unsigned n_flight;
  uint64_t bid;      /* journal batch id */
  uint64_t last_jid; /* its highest beacon id: sent once the journal is synced past it */
  struct seq *q;
} batch;

typedef struct seq {
  struct seq *rnext, *aprev, *anext; /* host queue or timed list; all seqs */
  batch *head, *tail;
  int busy, ready, orphan;
  dev_ref *dev;
  char key[96]; /* "session/ad", the journal's grouping */
} seq;

/* One ad of a session: a tracker over the shared break's plan. */
typedef struct ssai_ad {
  vast_tracker *t;   /* NULL once its break is released */
  vast__ssai_brk *b; /* the shared break (a reference), NULL once released */
  seq *q;
  double duration, pos; /* seconds */
  unsigned brk;         /* the session's break number */
  unsigned char started, done;
} ssai_ad;

/* A session: the device, its ads and the last call. The macro values are
   the device's, set into the service's one macro context before each feed
   (macro_ctx_for), so a session holds no context of its own. */
typedef struct session {
  struct session *hnext, *prev, *next;
  dev_ref *dev;
  double last;
  ssai_ad *ads;
  unsigned n_ads, cap_ads, n_breaks;
  char id[];
} session;

typedef struct fired {
  char *name, *url;
} fired;

typedef struct host_slot {
  char name[128];
  unsigned inflight;
  struct seq *qh, *qt; /* seqs whose head batch goes first to this host */
  int active;          /* on the active list */
} host_slot;

struct vast_ssai {
  vast_ssai_opts o;
  vast_net_policy policy;
  pthread_mutex_t mu;
  vast_dispatcher *d;
  FILE *journal;
  char *journal_path;
  char *state_dir;     /* DIR: the journal, and DIR/breaks/KEY (documents of a break) */
  int replaying;       /* restoring trackers: what they fire was journalled already */
  uint64_t jid_synced; /* beacons up to this id are on disk (fdatasync'd) */
  int jdirty;          /* lines written since the last flush */
  pthread_t jthr;      /* the journal thread: group commit, then pump */
  pthread_cond_t jwake;
  int jthr_on, jstop;
  uint64_t jbytes; /* written since the last compaction */
  session **tab;
  size_t tab_cap, n_sessions;
  session *all;
  vast_macro_ctx mc;        /* the device macros of the session being fed */
  vast__ssai_brk **brk_tab; /* the break cache: by key, and by in_key */
  vast__ssai_brk **brk_in;  /* (BRK_SLOTS buckets each) */
  size_t n_brk;
  uint64_t brk_hits, brk_misses;
  size_t brk_bytes;
  seq *seqs, *timed; /* all seqs; those waiting for a retry time */
  uint64_t next_jid, next_bid, id_counter;
  double next_idle_check;
  fired *fired;
  size_t n_fired, cap_fired;
  int closing;
  vast_ssai_figures st;
  host_slot hosts[HOST_SLOTS + 1]; /* [HOST_SLOTS]: URLs without a host we know */
  int active[HOST_SLOTS + 1];      /* hosts with a queue */
  size_t n_active;
};

void vast_ssai_opts_init(vast_ssai_opts *o) {
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->idle_timeout_s = 60;
  o->deadline_ms = 30000;
  o->retry_base_ms = 250;
  o->per_host = 32;
  o->max_concurrent = 512;
  o->timeout_ms = 5000;
  o->journal_max_bytes = (size_t)64 << 20;
}

/* ---- small helpers --------------------------------------------------------- */

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static dev_ref *dev_new(const vast_device *d) {
  const char *f[5] = {d->ip, d->user_agent, d->referer, d->accept_language, d->requested_with};
  size_t n = 0;
  for (int i = 0; i < 5; i++)
    n += f[i] ? strlen(f[i]) + 1 : 0;
  dev_ref *r = calloc(1, sizeof *r + n);
  if (!r) return NULL;
  r->refs = 1;
  r->d.size = sizeof r->d;
  r->d.forwarded_for = d->forwarded_for;
  const char **o[5] = {&r->d.ip, &r->d.user_agent, &r->d.referer, &r->d.accept_language,
                       &r->d.requested_with};
  char *p = r->data;
  for (int i = 0; i < 5; i++) {
    if (!f[i]) continue;
    size_t l = strlen(f[i]) + 1;
    memcpy(p, f[i], l);
    *o[i] = p;
    p += l;
  }
  return r;
}

static void dev_unref(dev_ref *r) {
  if (r && --r->refs == 0) free(r);
}

static int dev_ok(const vast_device *d) {
  if (!d || !d->ip || !*d->ip || !d->user_agent || !*d->user_agent) return 0;
  if (vast_net_ip_special(d->ip) < 0) return 0;
  const char *f[4] = {d->user_agent, d->referer, d->accept_language, d->requested_with};
  for (int i = 0; i < 4; i++)
    if (f[i] && (!vast_net_header_value_ok(f[i]) || strchr(f[i], '\t'))) return 0;
  return 1;
}

/* Host table slot of a URL's host, -1 when the table is full or no host. */
static int host_slot_of(vast_ssai *s, const char *url) {
  const char *a = strstr(url, "://");
  if (!a) return -1;
  a += 3;
  size_t n = strcspn(a, "/?#");
  if (!n || n >= sizeof s->hosts[0].name) return -1;
  char h[128];
  memcpy(h, a, n);
  h[n] = 0;
  size_t i = hash_str(h) % HOST_SLOTS;
  for (size_t k = 0; k < HOST_SLOTS; k++, i = (i + 1) % HOST_SLOTS) {
    if (!s->hosts[i].name[0]) {
      memcpy(s->hosts[i].name, h, n + 1);
      return (int)i;
    }
    if (!strcmp(s->hosts[i].name, h)) return (int)i;
  }
  return -1;
}

/* ---- journal ---------------------------------------------------------------- */

static void jline_mark(vast_ssai *s, char what, uint64_t jid, long status) {
  if (!s->journal) return;
  int n = fprintf(s->journal, "%c\t%llu\t%ld\n", what, (unsigned long long)jid, status);
  if (n > 0) s->jbytes += (uint64_t)n;
  s->jdirty = 1;
}

static int jline_due_to(FILE *f, const bcn *b, uint64_t bid, const char *key,
                        const vast_device *d) {
  return fprintf(f, "D\t%llu\t%llu\t%s\t%.3f\t%.3f\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n",
                 (unsigned long long)b->jid, (unsigned long long)bid, key, b->due, b->deadline,
                 d->ip, d->user_agent, d->referer ? d->referer : "",
                 d->accept_language ? d->accept_language : "",
                 d->requested_with ? d->requested_with : "", d->forwarded_for, b->event, b->url);
}

static void jline_due(vast_ssai *s, const bcn *b, uint64_t bid, const char *key,
                      const vast_device *d) {
  if (!s->journal) return;
  int n = jline_due_to(s->journal, b, bid, key, d);
  if (n > 0) s->jbytes += (uint64_t)n;
  s->jdirty = 1;
}

/*
 * Session state lines, in the same journal and the same group commit as the
 * beacons (so a position is on disk whenever a beacon it caused is):
 *   S id ip ua referer lang requested-with   a session (device values have no TAB)
 *   B id break key n-ads                     a break (key: DIR/breaks/KEY; 0: over)
 *   P id ad position started done           an ad's state after a report or event
 *   X id                                     the session ended
 */
static int jl_session_to(FILE *f, const char *id, const vast_device *d) {
  return fprintf(f, "S\t%s\t%s\t%s\t%s\t%s\t%s\n", id, d->ip, d->user_agent,
                 d->referer ? d->referer : "", d->accept_language ? d->accept_language : "",
                 d->requested_with ? d->requested_with : "");
}

static int jl_break_to(FILE *f, const char *id, unsigned brk, uint64_t key, unsigned n) {
  return fprintf(f, "B\t%s\t%u\t%016llx\t%u\n", id, brk, (unsigned long long)key, n);
}

static int jl_pos_to(FILE *f, const char *id, size_t ad, double pos, int started, int done) {
  return fprintf(f, "P\t%s\t%zu\t%.3f\t%d\t%d\n", id, ad, pos, started, done);
}

static void jl_account(vast_ssai *s, int n) {
  if (n > 0) s->jbytes += (uint64_t)n;
  s->jdirty = 1;
}

/* Writes the state of session x (S, its breaks, the positions of its ads). */
static int jl_session_state(FILE *f, const session *x) {
  int n = jl_session_to(f, x->id, &x->dev->d), bad = n < 0;
  for (unsigned i = 0; i < x->n_ads;) {
    unsigned j = i, brk = x->ads[i].brk;
    while (j < x->n_ads && x->ads[j].brk == brk)
      j++;
    n = jl_break_to(f, x->id, brk, x->ads[i].b ? x->ads[i].b->key : 0, j - i);
    bad |= n < 0;
    for (unsigned k = i; k < j; k++)
      if (x->ads[k].b && (x->ads[k].started || x->ads[k].done))
        bad |= jl_pos_to(f, x->id, k, x->ads[k].pos, x->ads[k].started, x->ads[k].done) < 0;
    i = j;
  }
  return bad ? -1 : 0;
}

static int bcn_cmp(const void *a, const void *b) {
  uint64_t x = (*(bcn *const *)a)->jid, y = (*(bcn *const *)b)->jid;
  return x < y ? -1 : x > y;
}

/*
 * Rewrites the journal with only the beacons not settled (every one is still
 * on a seq: queued, waiting for a retry or in flight), in order, then goes on
 * appending to the new file. Called from tick() once the journal passed
 * journal_max_bytes. On failure the old journal stays in use.
 */
static void compact(vast_ssai *s) {
  size_t pl = strlen(s->journal_path) + 5;
  char *tmpp = malloc(pl);
  if (!tmpp) return;
  snprintf(tmpp, pl, "%s.new", s->journal_path);
  FILE *w = fopen(tmpp, "w");
  if (!w) {
    free(tmpp);
    return;
  }
  /* every beacon not settled, in id order (recovery expects ids to increase) */
  size_t cnt = 0, k2 = 0;
  for (seq *q = s->seqs; q; q = q->anext)
    for (batch *b = q->head; b; b = b->next)
      for (int k = 0; k < 2; k++)
        for (bcn *x = k ? b->retry : b->list; x; x = x->next)
          cnt++;
  bcn **all = cnt ? malloc(cnt * sizeof *all) : NULL;
  if (cnt && !all) {
    fclose(w);
    unlink(tmpp);
    free(tmpp);
    return;
  }
  for (seq *q = s->seqs; q; q = q->anext)
    for (batch *b = q->head; b; b = b->next)
      for (int k = 0; k < 2; k++)
        for (bcn *x = k ? b->retry : b->list; x; x = x->next)
          all[k2++] = x;
  qsort(all, cnt, sizeof *all, bcn_cmp);
  uint64_t n = 0;
  int bad = 0;
  for (session *x = s->all; x; x = x->next)
    bad |= jl_session_state(w, x) != 0;
  for (size_t i = 0; i < cnt; i++) {
    int m = jline_due_to(w, all[i], all[i]->bt->bid, all[i]->bt->q->key, &all[i]->bt->q->dev->d);
    if (m < 0) bad = 1;
    n += m > 0 ? (uint64_t)m : 0;
  }
  free(all);
  fflush(s->journal);
  if (bad || fflush(w) != 0 || fsync(fileno(w)) != 0) {
    fclose(w);
    unlink(tmpp);
    free(tmpp);
    s->jbytes = 0; /* try again after as many bytes */
    return;
  }
  FILE *nj = NULL;
  if (fclose(w) == 0 && rename(tmpp, s->journal_path) == 0) nj = fopen(s->journal_path, "a");
  free(tmpp);
  if (!nj) {
    s->jbytes = 0;
    return;
  }
  fclose(s->journal);
  s->journal = nj;
  s->jbytes = n;
  s->st.compactions++;
}

/* ---- delivery pipeline -------------------------------------------------------- */

static double batch_ready_at(const batch *b) {
  double t = 0;
  for (const bcn *x = b->list; x; x = x->next)
    if (x->not_before > t) t = x->not_before;
  return t;
}

/*
 * Queues a seq whose head batch can go: on the queue of the host of its first
 * beacon (so pump() looks only at hosts with room, never at every waiting
 * seq), or on the timed list while a retry waits for its time (tick() moves
 * it when due).
 */
static void ready_push(vast_ssai *s, seq *q) {
  if (q->ready || q->busy || !q->head) return;
  q->ready = 1;
  q->rnext = NULL;
  if (batch_ready_at(q->head) > vast__wall()) {
    q->rnext = s->timed;
    s->timed = q;
    return;
  }
  int h = q->head->list && q->head->list->host >= 0 ? q->head->list->host : HOST_SLOTS;
  host_slot *hs = &s->hosts[h];
  if (hs->qt)
    hs->qt->rnext = q;
  else
    hs->qh = q;
  hs->qt = q;
  if (!hs->active) {
    hs->active = 1;
    s->active[s->n_active++] = h;
  }
}

static seq *seq_new(vast_ssai *s, dev_ref *dev) {
  seq *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  q->dev = dev;
  dev->refs++;
  q->anext = s->seqs;
  if (s->seqs) s->seqs->aprev = q;
  s->seqs = q;
  return q;
}

static void bcn_list_free(bcn *b) {
  while (b) {
    bcn *n = b->next;
    free(b->event);
    free(b);
    b = n;
  }
}

static void seq_free(vast_ssai *s, seq *q) {
  if (q->aprev)
    q->aprev->anext = q->anext;
  else
    s->seqs = q->anext;
  if (q->anext) q->anext->aprev = q->aprev;
  while (q->head) {
    batch *b = q->head;
    q->head = b->next;
    bcn_list_free(b->list);
    bcn_list_free(b->retry);
    free(b);
  }
  dev_unref(q->dev);
  free(q);
}

/* The seq's head batch was settled: next batch, or free an orphan seq. */
static void seq_advance(vast_ssai *s, seq *q) {
  batch *b = q->head;
  q->head = b->next;
  if (!q->head) q->tail = NULL;
  free(b);
  q->busy = 0;
  if (q->head)
    ready_push(s, q);
  else if (q->orphan)
    seq_free(s, q);
}

/* 1 when every host of the batch has room for its beacons (a batch alone on
   its hosts always goes). */
static int room(vast_ssai *s, const batch *b) {
  for (const bcn *x = b->list; x; x = x->next) {
    if (x->host < 0) continue;
    unsigned need = 0;
    for (const bcn *y = b->list; y; y = y->next)
      need += y->host == x->host;
    unsigned busy = s->hosts[x->host].inflight;
    if (busy && busy + need > s->o.per_host) return 0;
  }
  return 1;
}

/* Hands q's head batch to the dispatcher. 1 sent or settled, 0 back-pressure. */
static int send_head(vast_ssai *s, seq *q) {
  batch *b = q->head;
  size_t n = 0;
  for (bcn *x = b->list; x; x = x->next)
    n++;
  vast_beacon one[64] = {{0}}, *v = n <= 64 ? one : calloc(n, sizeof *v);
  if (!v) return 0;
  size_t i = 0;
  for (bcn *x = b->list; x; x = x->next, i++) {
    v[i].url = x->url;
    v[i].event = x->event;
    v[i].t = -1;
    v[i].user = x;
  }
  vast_err rc = vast_dispatcher_submit_device(s->d, v, n, &q->dev->d);
  if (v != one) free(v);
  if (rc == VAST_E_FULL) return 0;
  if (rc != VAST_OK) { /* refused whole (a URL that is not http(s)): final */
    for (bcn *x = b->list; x; x = x->next) {
      jline_mark(s, 'F', x->jid, 0);
      s->st.failed++;
      s->st.pending--;
    }
    bcn_list_free(b->list);
    b->list = NULL;
    seq_advance(s, q);
    return 1;
  }
  q->busy = 1;
  b->n_flight = (unsigned)n;
  s->st.in_flight += n;
  for (bcn *x = b->list; x; x = x->next) {
    x->attempts++;
    if (x->host >= 0) s->hosts[x->host].inflight++;
  }
  return 1;
}

/* Submits, host by host, the head batches that have room. Under the lock. */
static void pump(vast_ssai *s) {
  if (s->closing) return;
  for (size_t k = 0; k < s->n_active;) {
    int h = s->active[k];
    host_slot *hs = &s->hosts[h];
    while (hs->qh) {
      seq *q = hs->qh;
      if (s->journal && q->head->last_jid > s->jid_synced) break; /* not on disk yet */
      if (!room(s, q->head)) break;
      hs->qh = q->rnext;
      if (!hs->qh) hs->qt = NULL;
      q->rnext = NULL;
      q->ready = 0;
      if (!send_head(s, q)) { /* the dispatcher is full: back in front, later */
        q->ready = 1;
        q->rnext = hs->qh;
        hs->qh = q;
        if (!hs->qt) hs->qt = q;
        break;
      }
    }
    if (!hs->qh) {
      hs->active = 0;
      s->active[k] = s->active[--s->n_active];
    } else {
      k++;
    }
  }
}

/* Moves the seqs whose retry time came from the timed list to their hosts. */
static void pump_timed(vast_ssai *s) {
  double now = vast__wall();
  seq *q = s->timed, *keep = NULL;
  s->timed = NULL;
  while (q) {
    seq *nq = q->rnext;
    q->rnext = NULL;
    if (batch_ready_at(q->head) <= now) {
      q->ready = 0;
      ready_push(s, q);
    } else {
      q->rnext = keep;
      keep = q;
    }
    q = nq;
  }
  while (keep) {
    seq *nq = keep->rnext;
    keep->rnext = s->timed;
    s->timed = keep;
    keep = nq;
  }
}

static void lateness(vast_ssai *s, double ms) {
  static const double edge[11] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000};
  int i = 0;
  while (i < 11 && ms > edge[i])
    i++;
  s->st.lateness_ms[i]++;
}

/* The dispatcher's delivery callback (dispatcher thread). */
static void on_delivery(void *ctx, const vast_delivery *d) {
  vast_ssai *s = ctx;
  pthread_mutex_lock(&s->mu);
  bcn *x = d->user;
  if (s->closing || !x) { /* cancelled at shutdown: stays unanswered in the journal */
    pthread_mutex_unlock(&s->mu);
    return;
  }
  batch *b = x->bt;
  seq *q = b->q;
  double now = vast__wall();
  if (x->host >= 0 && s->hosts[x->host].inflight) s->hosts[x->host].inflight--;
  s->st.in_flight--;
  if (x->attempts == 1 && d->sent_at > 0) lateness(s, (d->sent_at - x->due) * 1000.0);
  /* unlink x from the batch's list */
  for (bcn **pp = &b->list; *pp; pp = &(*pp)->next)
    if (*pp == x) {
      *pp = x->next;
      break;
    }
  x->next = NULL;
  int transient = d->err == VAST_E_TIMEOUT || (d->err == VAST_E_HTTP && d->status == 0) ||
                  (d->status >= 500 && d->status <= 599);
  if (d->err == VAST_OK && d->status < 500) {
    jline_mark(s, 'A', x->jid, d->status); /* answered: a 4xx is final too */
    if (d->status >= 400)
      s->st.failed++;
    else
      s->st.sent++;
    s->st.pending--;
    free(x->event);
    free(x);
  } else if (transient) {
    double delay = (double)s->o.retry_base_ms / 1000.0 * pow(2, x->attempts - 1);
    if (now + delay < x->deadline) {
      x->not_before = now + delay;
      x->next = b->retry;
      b->retry = x;
      s->st.retried++;
    } else {
      jline_mark(s, 'E', x->jid, d->status);
      s->st.expired++;
      s->st.pending--;
      free(x->event);
      free(x);
    }
  } else {
    jline_mark(s, 'F', x->jid, d->status);
    s->st.failed++;
    s->st.pending--;
    free(x->event);
    free(x);
  }
  if (--b->n_flight == 0) {
    if (b->retry) {
      b->list = b->retry;
      b->retry = NULL;
      q->busy = 0;
      ready_push(s, q);
    } else {
      seq_advance(s, q);
    }
  }
  pump(s);
  pthread_mutex_unlock(&s->mu);
}

/* Queues n beacons as one batch of q; journals them first. Under the lock. */
static int enqueue(vast_ssai *s, seq *q, const char *key, fired *f, size_t n, double due) {
  batch *b = calloc(1, sizeof *b);
  if (!b) return -1;
  b->q = q;
  uint64_t bid = ++s->next_bid;
  bcn **tail = &b->list;
  for (size_t i = 0; i < n; i++) {
    size_t ul = strlen(f[i].url);
    bcn *x = calloc(1, sizeof *x + ul + 1);
    if (!x || !(x->event = strdup(f[i].name))) {
      free(x);
      continue; /* counted as failed below */
    }
    memcpy(x->url, f[i].url, ul + 1);
    x->bt = b;
    x->jid = ++s->next_jid;
    x->due = due;
    x->deadline = due + (double)s->o.deadline_ms / 1000.0;
    x->host = host_slot_of(s, x->url);
    jline_due(s, x, bid, key, &q->dev->d);
    *tail = x;
    tail = &x->next;
    s->st.due++;
    s->st.pending++;
  }
  if (!b->list) {
    free(b);
    return -1;
  }
  b->bid = bid;
  b->last_jid = s->next_jid;
  if (q->tail)
    q->tail->next = b;
  else
    q->head = b;
  q->tail = b;
  ready_push(s, q);
  pthread_cond_signal(&s->jwake);
  return 0;
}

/* ---- journal recovery --------------------------------------------------------- */

typedef struct rec {
  uint64_t jid, bid;
  int settled;
  char *line; /* the D line, kept for the compacted journal */
  char *f[13];
} rec;

static int rec_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = ((const rec *)b)->jid;
  return x < y ? -1 : x > y;
}

/* Splits a tab-separated line in place; returns the number of fields. */
static int split(char *p, char **f, int max) {
  int n = 0;
  while (n < max) {
    f[n++] = p;
    char *t = strchr(p, '\t');
    if (!t) break;
    *t = 0;
    p = t + 1;
  }
  return n;
}

static void state_line(vast_ssai *s, char *line);
static int state_restore(vast_ssai *s, FILE *w);
static void state_attach(vast_ssai *s);

/*
 * Reads the journal: every D line not followed by an A, F or E line for its id
 * is queued again (grouped by its ad key and batch, in file order); those past
 * their deadline are marked expired. Then writes a compacted journal holding
 * only the outstanding D lines, and opens it for appending.
 */
static vast_err recover(vast_ssai *s, char *msg, size_t cap) {
  FILE *f = fopen(s->journal_path, "r");
  rec *r = NULL;
  size_t n = 0, rcap = 0;
  char *line = NULL;
  size_t lcap = 0;
  ssize_t len;
  if (f) {
    while ((len = getline(&line, &lcap, f)) > 0) {
      if (line[len - 1] != '\n') break; /* a torn last line: never acknowledged */
      line[len - 1] = 0;
      if (line[0] == 'D') {
        if (n == rcap) {
          rcap = rcap ? rcap * 2 : 256;
          rec *nr = realloc(r, rcap * sizeof *r);
          if (!nr) goto nomem;
          r = nr;
        }
        rec *x = &r[n];
        memset(x, 0, sizeof *x);
        x->line = strdup(line);
        if (!x->line) goto nomem;
        char *tmp = strdup(line);
        if (!tmp) goto nomem;
        char *fl[14];
        if (split(tmp, fl, 14) != 14) {
          free(tmp);
          free(x->line);
          continue;
        }
        x->jid = strtoull(fl[1], NULL, 10);
        x->bid = strtoull(fl[2], NULL, 10);
        for (int i = 0; i < 12; i++)
          x->f[i] = fl[i + 2];
        x->f[12] = tmp;                    /* owns the fields */
        if (n && x->jid <= r[n - 1].jid) { /* out of order: refuse to guess */
          free(tmp);
          free(x->line);
          continue;
        }
        n++;
        if (x->jid > s->next_jid) s->next_jid = x->jid;
        if (x->bid > s->next_bid) s->next_bid = x->bid;
      } else if (line[0] == 'A' || line[0] == 'F' || line[0] == 'E') {
        uint64_t jid = strtoull(line + 2, NULL, 10);
        rec *x = n ? bsearch(&jid, r, n, sizeof *r, rec_cmp) : NULL;
        if (x) x->settled = 1;
      } else if (strchr("SBPX", line[0]) && line[1] == '\t') {
        state_line(s, line); /* sessions, breaks, positions: rebuilt as they go */
      }
    }
    fclose(f);
    f = NULL;
  }
  free(line);
  line = NULL;
  /* the compacted journal */
  size_t pl = strlen(s->journal_path) + 5;
  char *tmpp = malloc(pl);
  if (!tmpp) goto nomem;
  snprintf(tmpp, pl, "%s.new", s->journal_path);
  FILE *w = fopen(tmpp, "w");
  if (!w) {
    snprintf(msg, cap, "cannot write '%s': %s", tmpp, strerror(errno));
    free(tmpp);
    for (size_t i = 0; i < n; i++)
      free(r[i].line), free(r[i].f[12]);
    free(r);
    return VAST_E_IO;
  }
  if (state_restore(s, w) != 0) { /* the sessions' state, first in the new journal */
    fclose(w);
    unlink(tmpp);
    free(tmpp);
    for (size_t i = 0; i < n; i++)
      free(r[i].line), free(r[i].f[12]);
    free(r);
    snprintf(msg, cap, "cannot write '%s.new'", s->journal_path);
    return VAST_E_IO;
  }
  double now = vast__wall();
  seq *q = NULL;
  const char *qkey = NULL;
  uint64_t qbid = 0;
  batch *b = NULL;
  for (size_t i = 0; i < n; i++) {
    rec *x = &r[i];
    if (x->settled) continue;
    /* fields: bid key due deadline ip ua ref lang rw ff event url */
    double deadline = strtod(x->f[3], NULL);
    if (deadline <= now) {
      fprintf(w, "%s\nE\t%llu\t0\n", x->line, (unsigned long long)x->jid);
      s->st.expired++;
      continue;
    }
    fprintf(w, "%s\n", x->line);
    if (!q || strcmp(qkey, x->f[1]) != 0) {
      vast_device d = {sizeof d,
                       x->f[4],
                       x->f[5],
                       *x->f[6] ? x->f[6] : NULL,
                       *x->f[7] ? x->f[7] : NULL,
                       *x->f[8] ? x->f[8] : NULL,
                       atoi(x->f[9])};
      dev_ref *dr = dev_new(&d);
      if (!dr) goto nomem_w;
      q = seq_new(s, dr);
      dev_unref(dr);
      if (!q) goto nomem_w;
      q->orphan = 1;
      qkey = x->f[1];
      snprintf(q->key, sizeof q->key, "%s", qkey);
      b = NULL;
    }
    if (!b || qbid != x->bid) {
      b = calloc(1, sizeof *b);
      if (!b) goto nomem_w;
      b->q = q;
      b->bid = x->bid;
      if (q->tail)
        q->tail->next = b;
      else
        q->head = b;
      q->tail = b;
      qbid = x->bid;
    }
    size_t ul = strlen(x->f[11]);
    bcn *c = calloc(1, sizeof *c + ul + 1);
    if (!c || !(c->event = strdup(x->f[10]))) {
      free(c);
      goto nomem_w;
    }
    memcpy(c->url, x->f[11], ul + 1);
    c->bt = b;
    c->jid = x->jid;
    c->due = strtod(x->f[2], NULL);
    c->deadline = deadline;
    c->host = host_slot_of(s, c->url);
    c->next = b->list;
    b->list = c; /* reversed below */
    s->st.recovered++;
    s->st.pending++;
  }
  for (seq *z = s->seqs; z; z = z->anext) {
    for (batch *y = z->head; y; y = y->next) { /* restore file order */
      bcn *rev = NULL;
      while (y->list) {
        bcn *c = y->list;
        y->list = c->next;
        c->next = rev;
        rev = c;
      }
      y->list = rev;
    }
    ready_push(s, z);
  }
  state_attach(s);
  for (size_t i = 0; i < n; i++)
    free(r[i].line), free(r[i].f[12]);
  free(r);
  if (fflush(w) != 0 || fsync(fileno(w)) != 0 || fclose(w) != 0 ||
      rename(tmpp, s->journal_path) != 0) {
    snprintf(msg, cap, "cannot write '%s': %s", s->journal_path, strerror(errno));
    free(tmpp);
    return VAST_E_IO;
  }
  free(tmpp);
  s->journal = fopen(s->journal_path, "a");
  if (!s->journal) {
    snprintf(msg, cap, "cannot open '%s': %s", s->journal_path, strerror(errno));
    return VAST_E_IO;
  }
  return VAST_OK;
nomem_w:
  fclose(w);
  unlink(tmpp);
  free(tmpp);
nomem:
  if (f) fclose(f);
  free(line);
  for (size_t i = 0; i < n; i++)
    free(r[i].line), free(r[i].f[12]);
  free(r);
  snprintf(msg, cap, "out of memory reading the journal");
  return VAST_E_NOMEM;
}

static void *journal_main(void *arg);

/* ---- service --------------------------------------------------------------------- */

vast_err vast_ssai_create(const vast_ssai_opts *opts, vast_ssai **out, char *msg, size_t cap) {
  char dummy[8];
  if (!msg || !cap) msg = dummy, cap = sizeof dummy;
  msg[0] = 0;
  if (!out) return VAST_E_INVAL;
  *out = NULL;
  vast_ssai *s = calloc(1, sizeof *s);
  if (!s) return VAST_E_NOMEM;
  vast_ssai_opts_init(&s->o);
  if (opts) memcpy(&s->o, opts, opts->size && opts->size < sizeof s->o ? opts->size : sizeof s->o);
  s->o.size = sizeof s->o;
  if (s->o.policy)
    s->policy = *s->o.policy;
  else
    vast_net_policy_init(&s->policy);
  if (s->o.idle_timeout_s <= 0) s->o.idle_timeout_s = 60;
  if (s->o.deadline_ms <= 0) s->o.deadline_ms = 30000;
  if (s->o.retry_base_ms <= 0) s->o.retry_base_ms = 250;
  if (!s->o.per_host) s->o.per_host = 32;
  if (!s->o.max_concurrent) s->o.max_concurrent = 512;
  if (!s->o.journal_max_bytes) s->o.journal_max_bytes = (size_t)64 << 20;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->jwake, NULL);
  vast_macro_ctx_init(&s->mc);
  vast_macro_ctx_set_serverside(&s->mc, 1);
  s->tab_cap = 1024;
  s->tab = calloc(s->tab_cap, sizeof *s->tab);
  s->brk_tab = calloc(BRK_SLOTS, sizeof *s->brk_tab);
  s->brk_in = calloc(BRK_SLOTS, sizeof *s->brk_in);
  if (!s->tab || !s->brk_tab || !s->brk_in) {
    vast_ssai_free(s);
    return VAST_E_NOMEM;
  }
  s->id_counter = (uint64_t)(vast__wall() * 1000.0) ^ ((uint64_t)getpid() << 40);
  vast_dispatch_opts d;
  vast_dispatch_opts_init(&d);
  d.max_queue = (size_t)1 << 22;
  d.max_concurrent = s->o.max_concurrent;
  d.timeout_ms = s->o.timeout_ms;
  d.retries = 0; /* retries are ours: until the deadline, 5xx too */
  d.on_delivery = on_delivery;
  d.ctx = s;
  d.policy = &s->policy;
  d.private_policy = VAST_PRIVATE_ALLOW; /* the policy decides */
  vast_err rc = vast_dispatcher_create(&d, &s->d);
  if (rc != VAST_OK) {
    snprintf(msg, cap, "cannot create the dispatcher: %s", vast_strerror(rc));
    vast_ssai_free(s);
    return rc;
  }
  if (s->o.state_dir) {
    if (mkdir(s->o.state_dir, 0700) != 0 && errno != EEXIST) {
      snprintf(msg, cap, "cannot create '%s': %s", s->o.state_dir, strerror(errno));
      vast_ssai_free(s);
      return VAST_E_IO;
    }
    size_t n = strlen(s->o.state_dir) + 32;
    s->journal_path = malloc(n);
    if (!s->journal_path) {
      vast_ssai_free(s);
      return VAST_E_NOMEM;
    }
    snprintf(s->journal_path, n, "%s/beacons.journal", s->o.state_dir);
    s->state_dir = strdup(s->o.state_dir);
    s->o.state_dir = NULL; /* the copy is kept */
    if (!s->state_dir) {
      vast_ssai_free(s);
      return VAST_E_NOMEM;
    }
    rc = recover(s, msg, cap);
    if (rc != VAST_OK) {
      vast_ssai_free(s);
      return rc;
    }
  }
  s->jid_synced = s->next_jid; /* recover() synced what it kept */
  rc = vast_dispatcher_start(s->d);
  if (rc == VAST_OK && s->journal) {
    if (pthread_create(&s->jthr, NULL, journal_main, s) == 0)
      s->jthr_on = 1;
    else
      rc = VAST_E_NOMEM;
  }
  if (rc != VAST_OK) {
    vast_ssai_free(s);
    return rc;
  }
  pthread_mutex_lock(&s->mu);
  pump(s);
  pthread_mutex_unlock(&s->mu);
  *out = s;
  return VAST_OK;
}

/* ---- the break cache ---------------------------------------------------------- */

/* A reference to the cached break of `key` (or of `in_key` when key is 0). */
static vast__ssai_brk *brk_find(vast_ssai *s, uint64_t key, uint64_t in_key) {
  if (key) {
    for (vast__ssai_brk *b = s->brk_tab[key % BRK_SLOTS]; b; b = b->hnext)
      if (b->key == key) return b->refs++, s->brk_hits++, b;
  } else if (in_key) {
    for (vast__ssai_brk *b = s->brk_in[in_key % BRK_SLOTS]; b; b = b->in_next)
      if (b->in_key == in_key) return b->refs++, s->brk_hits++, b;
  }
  return NULL;
}

static void brk_insert(vast_ssai *s, vast__ssai_brk *b) {
  b->refs = 1;
  b->hnext = s->brk_tab[b->key % BRK_SLOTS];
  s->brk_tab[b->key % BRK_SLOTS] = b;
  if (b->in_key) {
    b->in_next = s->brk_in[b->in_key % BRK_SLOTS];
    s->brk_in[b->in_key % BRK_SLOTS] = b;
  }
  s->n_brk++;
  s->brk_bytes += b->bytes;
  s->brk_misses++;
}

/* Drops n references; the last one unlinks and frees the break. */
static void brk_unref(vast_ssai *s, vast__ssai_brk *b, size_t n) {
  if (!b || (b->refs -= n) > 0) return;
  vast__ssai_brk **pp = &s->brk_tab[b->key % BRK_SLOTS];
  while (*pp && *pp != b)
    pp = &(*pp)->hnext;
  if (*pp) *pp = b->hnext;
  if (b->in_key) {
    pp = &s->brk_in[b->in_key % BRK_SLOTS];
    while (*pp && *pp != b)
      pp = &(*pp)->in_next;
    if (*pp) *pp = b->in_next;
  }
  s->n_brk--;
  s->brk_bytes -= b->bytes;
  vast__ssai_brk_free(b);
}

/* Frees the trackers of break brk of session x and drops its references;
   the seqs go on delivering what is due, then free themselves. */
static void break_release(vast_ssai *s, session *x, unsigned brk) {
  for (size_t i = 0; i < x->n_ads; i++) {
    ssai_ad *a = &x->ads[i];
    if (a->brk != brk || !a->b) continue;
    vast_tracker_free(a->t);
    a->t = NULL;
    brk_unref(s, a->b, 1);
    a->b = NULL;
    seq *q = a->q;
    a->q = NULL;
    if (!q) continue;
    q->orphan = 1;
    if (!q->head && !q->busy) seq_free(s, q);
  }
}

/* ---- the documents of a break, on disk ------------------------------------------ */

/*
 * DIR/breaks/KEY holds what resolving the break fetched, so a restart can
 * build the same break without fetching anything: "VASTRACK-BREAK 1 url|doc
 * N", then per hop "H status err has-doc length url", the document's bytes
 * and a newline. Written once per break (the first session to resolve it),
 * synced before the journal's B line can be.
 */
static int brk_save(vast_ssai *s, const vast__ssai_brk *b, int root_url) {
  char path[4096], tmp[4200];
  snprintf(path, sizeof path, "%s/breaks", s->state_dir);
  if (mkdir(path, 0700) != 0 && errno != EEXIST) return -1;
  snprintf(path, sizeof path, "%s/breaks/%016llx", s->state_dir, (unsigned long long)b->key);
  if (access(path, F_OK) == 0) return 0;
  snprintf(tmp, sizeof tmp, "%s.%lx.new", path, (unsigned long)pthread_self());
  FILE *f = fopen(tmp, "w");
  if (!f) return -1;
  size_t nh = 0;
  const vast_hop *hp = vast_chain_hops(b->chain, &nh);
  int bad = fprintf(f, "VASTRACK-BREAK 1 %s %zu\n", root_url ? "url" : "doc", nh) < 0;
  for (size_t i = 0; i < nh; i++) {
    size_t len = 0;
    const char *src = hp[i].doc ? vast_doc_source(hp[i].doc, &len) : NULL;
    bad |= fprintf(f, "H %ld %d %d %zu %s\n", hp[i].status, (int)hp[i].err, src != NULL,
                   src ? len : 0, hp[i].url && *hp[i].url ? hp[i].url : "-") < 0;
    if (src && len) bad |= fwrite(src, 1, len, f) != len;
    bad |= fputc('\n', f) == EOF;
  }
  if (bad || fflush(f) != 0 || fsync(fileno(f)) != 0) {
    fclose(f);
    unlink(tmp);
    return -1;
  }
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    unlink(tmp);
    return -1;
  }
  snprintf(path, sizeof path, "%s/breaks", s->state_dir);
  int dfd = open(path, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) fsync(dfd), close(dfd);
  return 0;
}

typedef struct saved_hop {
  long status;
  int err, has_doc;
  char *url, *body;
  size_t len;
} saved_hop;

typedef struct replay {
  saved_hop *h;
  size_t n, next;
} replay;

/* The resolver's fetch at a restart: the saved hops, in the order fetched. */
static vast_err replay_fetch(void *ctx, const char *url, long timeout_ms, size_t max_bytes,
                             vast_fetch_result *res) {
  (void)url, (void)timeout_ms, (void)max_bytes;
  replay *r = ctx;
  if (r->next >= r->n) return VAST_E_HTTP;
  saved_hop *h = &r->h[r->next++];
  res->status = h->status;
  if (!h->has_doc) return h->err ? (vast_err)h->err : VAST_E_HTTP;
  res->body = malloc(h->len + 1);
  if (!res->body) return VAST_E_NOMEM;
  memcpy(res->body, h->body, h->len);
  res->body[h->len] = 0;
  res->len = h->len;
  if (!res->status) res->status = 200;
  return VAST_OK;
}

/* A reference to the break of key: held already, or rebuilt from its file
   (then cached). NULL when the file is missing or unusable. Under the lock
   (at start: no other thread yet). */
static vast__ssai_brk *brk_load(vast_ssai *s, uint64_t key) {
  vast__ssai_brk *b = brk_find(s, key, 0);
  if (b || !s->state_dir) return b;
  char path[4096];
  snprintf(path, sizeof path, "%s/breaks/%016llx", s->state_dir, (unsigned long long)key);
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char kind[8];
  size_t nh = 0;
  replay r = {0};
  int ok = fscanf(f, "VASTRACK-BREAK 1 %7s %zu\n", kind, &nh) == 2 && nh > 0 && nh < 1000;
  if (ok) r.h = calloc(nh, sizeof *r.h);
  for (size_t i = 0; ok && r.h && i < nh; i++) {
    saved_hop *h = &r.h[i];
    char url[8192];
    if (fscanf(f, "H %ld %d %d %zu %8191[^\n]\n", &h->status, &h->err, &h->has_doc, &h->len, url) !=
            5 ||
        h->len > ((size_t)64 << 20) || !(h->url = strdup(url)) || !(h->body = malloc(h->len + 1)) ||
        fread(h->body, 1, h->len, f) != h->len || fgetc(f) != '\n') {
      ok = 0;
      break;
    }
    r.n++;
  }
  fclose(f);
  vast_chain *chain = NULL;
  if (ok && r.h && r.n == nh) {
    vast_resolve_opts ro;
    vast_resolve_opts_init(&ro);
    ro.fetch = replay_fetch;
    ro.fetch_ctx = &r;
    ro.policy = &s->policy;
    vast_err rc;
    if (!strcmp(kind, "url")) {
      rc = vast_resolve_url(r.h[0].url, &ro, &chain, NULL);
    } else {
      r.next = 1;
      rc = vast_resolve_buffer(r.h[0].body, r.h[0].len, NULL, &ro, &chain, NULL);
    }
    if (rc == VAST_OK && (b = vast__ssai_brk_new(chain))) {
      b->key = key;
      if (strcmp(kind, "url") != 0 && nh == 1)
        b->in_key = vast__ssai_hash(r.h[0].body, r.h[0].len, 1469598103934665603ull) | 1;
      brk_insert(s, b);
    } else if (rc != VAST_OK) {
      vast_chain_free(chain);
    }
  }
  for (size_t i = 0; r.h && i < nh; i++)
    free(r.h[i].url), free(r.h[i].body);
  free(r.h);
  return b;
}

static void session_free(vast_ssai *s, session *x) {
  for (size_t i = 0; i < x->n_ads; i++)
    break_release(s, x, x->ads[i].brk);
  free(x->ads);
  dev_unref(x->dev);
  free(x);
}

void vast_ssai_free(vast_ssai *s) {
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  s->closing = 1;
  s->jstop = 1;
  pthread_cond_signal(&s->jwake);
  pthread_mutex_unlock(&s->mu);
  if (s->jthr_on) pthread_join(s->jthr, NULL);
  vast_dispatcher_free(s->d); /* cancels what is in flight: callbacks ignore it */
  while (s->all) {
    session *x = s->all;
    s->all = x->next;
    session_free(s, x);
  }
  while (s->seqs)
    seq_free(s, s->seqs);
  free(s->brk_tab); /* every break was released with its sessions */
  free(s->brk_in);
  for (size_t i = 0; i < s->n_fired; i++)
    free(s->fired[i].name), free(s->fired[i].url);
  free(s->fired);
  if (s->journal) fclose(s->journal);
  free(s->journal_path);
  free(s->state_dir);
  free(s->tab);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->jwake);
  free(s);
}

static session *find(vast_ssai *s, const char *id) {
  if (!id) return NULL;
  for (session *x = s->tab[hash_str(id) & (s->tab_cap - 1)]; x; x = x->hnext)
    if (!strcmp(x->id, id)) return x;
  return NULL;
}

static void tab_grow(vast_ssai *s) {
  size_t nc = s->tab_cap * 2;
  session **nt = calloc(nc, sizeof *nt);
  if (!nt) return; /* chains just get longer */
  for (session *x = s->all; x; x = x->next) {
    size_t h = hash_str(x->id) & (nc - 1);
    x->hnext = nt[h];
    nt[h] = x;
  }
  free(s->tab);
  s->tab = nt;
  s->tab_cap = nc;
}

static int id_ok(const char *id) {
  size_t n = strlen(id);
  if (!n || n > 64) return 0;
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '.' || *p == '_' || *p == '-'))
      return 0;
  return 1;
}

/* Links a new session (id given and free, or NULL: one is made). Under the
   lock. NULL when out of memory. */
static session *session_add(vast_ssai *s, const char *id, const vast_device *dev) {
  session *x = calloc(1, sizeof *x + (id ? strlen(id) : 16) + 1);
  if (!x) return NULL;
  vast_device d = *dev;
  d.forwarded_for = s->o.forwarded_for;
  if (!(x->dev = dev_new(&d))) {
    free(x);
    return NULL;
  }
  if (id) {
    strcpy(x->id, id);
  } else {
    do {
      s->id_counter = s->id_counter * 6364136223846793005ull + 1442695040888963407ull;
      snprintf(x->id, 17, "%016llx", (unsigned long long)s->id_counter);
    } while (find(s, x->id));
  }
  x->last = vast__wall();
  if (s->n_sessions + 1 > s->tab_cap) tab_grow(s);
  size_t h = hash_str(x->id) & (s->tab_cap - 1);
  x->hnext = s->tab[h];
  s->tab[h] = x;
  x->next = s->all;
  if (s->all) s->all->prev = x;
  s->all = x;
  s->n_sessions++;
  s->st.sessions_total++;
  return x;
}

vast_err vast_ssai_session_create(vast_ssai *s, const char *id, const vast_device *dev, char *out,
                                  size_t cap) {
  if (!s || !out || cap < 65 || !dev_ok(dev) || (id && !id_ok(id))) return VAST_E_INVAL;
  pthread_mutex_lock(&s->mu);
  if (id && find(s, id)) {
    pthread_mutex_unlock(&s->mu);
    return VAST_E_STATE;
  }
  session *x = session_add(s, id, dev);
  if (!x) {
    pthread_mutex_unlock(&s->mu);
    return VAST_E_NOMEM;
  }
  if (s->journal) jl_account(s, jl_session_to(s->journal, x->id, &x->dev->d));
  snprintf(out, cap, "%s", x->id);
  pthread_mutex_unlock(&s->mu);
  return VAST_OK;
}

/* Unlinks and frees a session. Under the lock. */
static void session_end(vast_ssai *s, session *x) {
  if (s->journal) jl_account(s, fprintf(s->journal, "X\t%s\n", x->id));
  session **pp = &s->tab[hash_str(x->id) & (s->tab_cap - 1)];
  while (*pp && *pp != x)
    pp = &(*pp)->hnext;
  if (*pp) *pp = x->hnext;
  if (x->prev)
    x->prev->next = x->next;
  else
    s->all = x->next;
  if (x->next) x->next->prev = x->prev;
  for (size_t i = 0; i < x->n_ads; i++)
    if (x->ads[i].started && !x->ads[i].done) s->st.ads_open--;
  s->n_sessions--;
  session_free(s, x);
}

vast_err vast_ssai_session_end(vast_ssai *s, const char *id) {
  if (!s || !id) return VAST_E_INVAL;
  pthread_mutex_lock(&s->mu);
  session *x = find(s, id);
  if (x) session_end(s, x);
  pthread_mutex_unlock(&s->mu);
  return x ? VAST_OK : VAST_E_NOT_FOUND;
}

/* ---- trackers ---------------------------------------------------------------------- */

static void on_beacon(void *user, const vast_track_beacon *b) {
  vast_ssai *s = user;
  if (!b->url || s->replaying) return;
  if (s->n_fired == s->cap_fired) {
    size_t nc = s->cap_fired ? s->cap_fired * 2 : 64;
    fired *nf = realloc(s->fired, nc * sizeof *nf);
    if (!nf) return;
    s->fired = nf;
    s->cap_fired = nc;
  }
  fired *f = &s->fired[s->n_fired];
  f->name = strdup(b->name ? b->name : "");
  f->url = strdup(b->url);
  if (!f->name || !f->url) {
    free(f->name);
    free(f->url);
    return;
  }
  s->n_fired++;
}

/* Turns what the last feeds fired into batches (one per run of one event name). */
static void flush_fired(vast_ssai *s, session *x, size_t adno) {
  ssai_ad *a = &x->ads[adno];
  char key[96];
  snprintf(key, sizeof key, "%s/%zu", x->id, adno);
  double now = vast__wall();
  size_t i = 0;
  while (i < s->n_fired) {
    size_t j = i + 1;
    while (j < s->n_fired && !strcmp(s->fired[j].name, s->fired[i].name))
      j++;
    if (!a->q && (a->q = seq_new(s, x->dev))) snprintf(a->q->key, sizeof a->q->key, "%s", key);
    if (!a->q || enqueue(s, a->q, key, s->fired + i, j - i, now) != 0) s->st.failed += j - i;
    i = j;
  }
  for (i = 0; i < s->n_fired; i++)
    free(s->fired[i].name), free(s->fired[i].url);
  s->n_fired = 0;
  if (!s->journal) pump(s); /* with a journal: the journal thread, once synced */
}

/* ---- breaks ------------------------------------------------------------------------ */

/* The service's macro context set to session x's device (under the lock: the
   trackers of every session point at it, and read it only while fed). */
static void macro_ctx_for(vast_ssai *s, const session *x) {
  s->mc.value[VAST_MACRO_DEVICEIP] = x->dev->d.ip;
  s->mc.value[VAST_MACRO_DEVICEUA] = x->dev->d.user_agent;
  s->mc.value[VAST_MACRO_CLIENTUA] = x->dev->d.user_agent;
}

/*
 * Resolution happens without the lock (a device reference keeps the macro
 * strings alive). A document given inline is looked up first by its bytes:
 * when the break it gave fetched nothing, the same bytes give the same break
 * and nothing is parsed. Otherwise the chain resolved is looked up by its
 * content (every document fetched, byte for byte): sessions given the same
 * ad responses share one break, its documents, plans and timelines; each
 * session holds only a tracker per ad.
 */
vast_err vast_ssai_break_add(vast_ssai *s, const char *sid, const char *url, const char *doc,
                             size_t len, vast_write_fn write, void *ctx, vast_error *err) {
  if (!s || !sid || (!url && !doc) || !write) return VAST_E_INVAL;
  uint64_t in_key = 0;
  if (!url) in_key = vast__ssai_hash(doc, len, 1469598103934665603ull) | 1;
  pthread_mutex_lock(&s->mu);
  session *x = find(s, sid);
  dev_ref *hold = x ? x->dev : NULL;
  if (hold) hold->refs++;
  vast__ssai_brk *b = x && in_key ? brk_find(s, 0, in_key) : NULL;
  pthread_mutex_unlock(&s->mu);
  if (!x) return VAST_E_NOT_FOUND;
  vast_err rc = VAST_OK;
  if (!b) {
    vast_macro_ctx mc;
    vast_macro_ctx_init(&mc);
    vast_macro_ctx_set(&mc, VAST_MACRO_DEVICEIP, hold->d.ip);
    vast_macro_ctx_set(&mc, VAST_MACRO_DEVICEUA, hold->d.user_agent);
    vast_macro_ctx_set(&mc, VAST_MACRO_CLIENTUA, hold->d.user_agent);
    vast_macro_ctx_set_serverside(&mc, 1);
    vast_resolve_opts ro;
    vast_resolve_opts_init(&ro);
    ro.policy = &s->policy;
    ro.macros = &mc;
    ro.fetch = s->o.fetch;
    ro.fetch_ctx = s->o.fetch_ctx;
    ro.user_agent = hold->d.user_agent;
    vast_chain *chain = NULL;
    rc = url ? vast_resolve_url(url, &ro, &chain, err)
             : vast_resolve_buffer(doc, len, NULL, &ro, &chain, err);
    if (rc != VAST_OK) {
      vast_chain_free(chain);
    } else {
      uint64_t key = vast__ssai_chain_key(chain) | 1;
      size_t nh = 0;
      vast_chain_hops(chain, &nh);
      pthread_mutex_lock(&s->mu);
      b = brk_find(s, key, 0);
      pthread_mutex_unlock(&s->mu);
      if (b) {
        vast_chain_free(chain);
      } else if (!(b = vast__ssai_brk_new(chain))) {
        rc = VAST_E_NOMEM;
      } else {
        b->key = key;
        b->in_key = in_key && nh == 1 ? in_key : 0;
        if (s->state_dir && brk_save(s, b, url != NULL) != 0) {
          pthread_mutex_lock(&s->mu);
          s->st.journal_errors++; /* the break will not survive a restart */
          pthread_mutex_unlock(&s->mu);
        }
        pthread_mutex_lock(&s->mu);
        vast__ssai_brk *o = brk_find(s, key, 0); /* built meanwhile by another call */
        if (o) {
          vast__ssai_brk_free(b);
          b = o;
        } else {
          brk_insert(s, b);
        }
        pthread_mutex_unlock(&s->mu);
      }
    }
  }
  pthread_mutex_lock(&s->mu);
  dev_unref(hold);
  x = rc == VAST_OK ? find(s, sid) : NULL;
  if (rc == VAST_OK && !x) rc = VAST_E_NOT_FOUND; /* ended meanwhile */
  if (rc == VAST_OK && x->n_ads + b->n_ads > x->cap_ads) {
    unsigned c2 = x->cap_ads ? x->cap_ads : 2;
    while (c2 < x->n_ads + b->n_ads)
      c2 *= 2;
    ssai_ad *na = realloc(x->ads, c2 * sizeof *na);
    if (!na)
      rc = VAST_E_NOMEM;
    else
      x->ads = na, x->cap_ads = c2;
  }
  if (rc != VAST_OK) {
    if (b) brk_unref(s, b, 1);
    pthread_mutex_unlock(&s->mu);
    return rc;
  }
  unsigned brk = x->n_breaks++, first = x->n_ads;
  for (size_t i = 0; i < b->n_ads; i++) {
    ssai_ad *a = &x->ads[x->n_ads];
    memset(a, 0, sizeof *a);
    if (vast_tracker_create(b->ads[i].plan, &s->mc, on_beacon, s, &a->t) != VAST_OK) {
      rc = VAST_E_NOMEM;
      break;
    }
    vast_tracker_set_trusted_positions(a->t, 1);
    a->duration = b->ads[i].duration;
    a->brk = brk;
    a->b = b;
    if (i) b->refs++; /* one reference per ad: the first is brk_find's */
    x->n_ads++;
  }
  vast__ssai_brk *keep = b; /* for the answer, written without the lock */
  keep->refs++;
  if (x->n_ads == first) brk_unref(s, b, 1); /* no ad: the reference is not kept */
  if (rc != VAST_OK) {
    break_release(s, x, brk);
    x->n_ads = first;
    brk_unref(s, keep, 1);
    pthread_mutex_unlock(&s->mu);
    return rc;
  }
  x->last = vast__wall();
  if (s->journal)
    jl_account(s, jl_break_to(s->journal, x->id, brk, b->key, (unsigned)(x->n_ads - first)));
  char idcopy[65];
  snprintf(idcopy, sizeof idcopy, "%s", x->id);
  pthread_mutex_unlock(&s->mu);
  vast__jw w;
  vast__jw_init(&w, write, ctx);
  vast__jw_obj_begin(&w);
  vast__jw_kstr(&w, "sessionId", idcopy);
  vast__jw_kint(&w, "break", (long long)brk);
  vast__jw_key(&w, "ads");
  vast__jw_arr_begin(&w);
  double total = 0;
  vast__ssai_brk_write_ads(keep, first, &w);
  for (size_t i = 0; i < keep->n_ads; i++)
    if (keep->ads[i].duration > 0) total += keep->ads[i].duration;
  vast__jw_arr_end(&w);
  vast__jw_key(&w, "duration");
  vast__jw_num(&w, total);
  size_t nf = 0;
  const vast_failure *fl = vast_chain_failures(keep->chain, &nf);
  vast__jw_key(&w, "failures");
  vast__jw_arr_begin(&w);
  for (size_t i = 0; i < nf; i++) {
    vast__jw_obj_begin(&w);
    vast__jw_kint(&w, "code", fl[i].iab_code);
    vast__jw_kstr(&w, "message", fl[i].message);
    vast__jw_obj_end(&w);
  }
  vast__jw_arr_end(&w);
  vast__jw_obj_end(&w);
  pthread_mutex_lock(&s->mu);
  brk_unref(s, keep, 1);
  pthread_mutex_unlock(&s->mu);
  if (vast__jw_finish(&w) != 0) rc = VAST_E_IO;
  return rc;
}

/* ---- reports and events ---------------------------------------------------------------- */

/*
 * Ad adno just ended: when every ad of its break has ended, the trackers and
 * the break's documents are freed (the beacons due were copied), so a long
 * session holds only the breaks still playing. Under the lock.
 */
static void ad_ended(vast_ssai *s, session *x, size_t adno) {
  unsigned brk = x->ads[adno].brk;
  for (size_t i = 0; i < x->n_ads; i++)
    if (x->ads[i].brk == brk && !x->ads[i].done) return;
  break_release(s, x, brk);
}

vast_err vast_ssai_report(vast_ssai *s, const char *sid, const vast_ssai_consumption *r) {
  if (!s || !sid || !r) return VAST_E_INVAL;
  double pos = r->media_time;
  if (r->segment) {
    if (!(r->seg_duration > 0) || !isfinite(r->seg_duration)) return VAST_E_INVAL;
    pos = (r->index + 1.0) * r->seg_duration;
  }
  if (!isfinite(pos) || pos < 0) return VAST_E_INVAL;
  double wall = r->wall_time >= 0 ? r->wall_time : vast__wall();
  pthread_mutex_lock(&s->mu);
  session *x = find(s, sid);
  vast_err rc = VAST_OK;
  if (!x || r->ad >= x->n_ads) {
    rc = VAST_E_NOT_FOUND;
    goto out;
  }
  x->last = vast__wall();
  ssai_ad *a = &x->ads[r->ad];
  if (a->done || !a->t || vast_tracker_done(a->t)) {
    rc = VAST_E_STATE;
    goto out;
  }
  if (a->duration > 0 && pos > a->duration) pos = a->duration;
  macro_ctx_for(s, x);
  if (!a->started) {
    a->started = 1;
    s->st.ads_open++;
    vast_tracker_loaded(a->t, wall);
    vast_tracker_impression(a->t, wall);
    flush_fired(s, x, r->ad);
    vast_tracker_time(a->t, wall, 0);
    flush_fired(s, x, r->ad);
  }
  if (pos > a->pos || pos == 0) {
    rc = vast_tracker_time(a->t, wall, pos);
    if (rc == VAST_E_NOT_PLAYED) rc = VAST_OK;
    a->pos = pos;
    flush_fired(s, x, r->ad);
  }
  if (a->duration > 0 && pos >= a->duration - 0.0005) {
    vast_tracker_complete(a->t, wall, a->duration);
    flush_fired(s, x, r->ad);
    a->done = 1;
    s->st.ads_open--;
  }
  if (s->journal) jl_account(s, jl_pos_to(s->journal, x->id, r->ad, a->pos, 1, a->done));
  if (a->done) ad_ended(s, x, r->ad);
out:
  pthread_mutex_unlock(&s->mu);
  return rc;
}

vast_err vast_ssai_event(vast_ssai *s, const char *sid, unsigned adno, const char *name,
                         double media, int code) {
  if (!s || !sid || !name) return VAST_E_INVAL;
  vast_input_kind k = vast_input_from_name(name);
  if (!k || k == VAST_IN_LOADED || k == VAST_IN_IMPRESSION || k == VAST_IN_TIME ||
      k == VAST_IN_ENDED || k == VAST_IN_DURATION || k == VAST_IN_SEEK)
    return VAST_E_INVAL;
  double wall = vast__wall();
  pthread_mutex_lock(&s->mu);
  session *x = find(s, sid);
  vast_err rc;
  if (!x || adno >= x->n_ads) {
    rc = VAST_E_NOT_FOUND;
    goto out;
  }
  x->last = wall;
  ssai_ad *a = &x->ads[adno];
  if (!a->t) {
    rc = VAST_E_STATE;
    goto out;
  }
  if (media < 0) media = a->pos;
  macro_ctx_for(s, x);
  if (k == VAST_IN_CLICK) {
    char through[16];
    rc = vast_tracker_click(a->t, wall, media, NULL, through, sizeof through, NULL);
    if (rc == VAST_E_NOSPACE) rc = VAST_OK;
  } else {
    vast_input in;
    memset(&in, 0, sizeof in);
    in.kind = k;
    in.wall_time = wall;
    in.media_time = media;
    in.code = code;
    rc = vast_tracker_feed(a->t, &in);
  }
  flush_fired(s, x, adno);
  if (!a->done && vast_tracker_done(a->t)) {
    a->done = 1;
    if (a->started) s->st.ads_open--;
    if (s->journal) jl_account(s, jl_pos_to(s->journal, x->id, adno, a->pos, a->started, 1));
    ad_ended(s, x, adno);
  }
out:
  pthread_mutex_unlock(&s->mu);
  return rc;
}

void vast_ssai_tick(vast_ssai *s) {
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  double now = vast__wall();
  if (now >= s->next_idle_check) {
    s->next_idle_check = now + (s->o.idle_timeout_s < 1 ? s->o.idle_timeout_s / 4 : 0.25);
    for (session *x = s->all, *nx; x; x = nx) {
      nx = x->next;
      if (now - x->last >= s->o.idle_timeout_s) {
        s->st.sessions_idle++;
        session_end(s, x);
      }
    }
  }
  pump_timed(s);
  pump(s);
  pthread_mutex_unlock(&s->mu);
}

/*
 * The journal thread: group commit. Every beacon's D line is written when it
 * becomes due (under the lock, into the stdio buffer); this thread flushes
 * the buffer and fdatasync()s the file (without the lock: the API and the
 * dispatcher go on), then lets pump() send every batch whose lines are now on
 * disk. It wakes when a batch is queued, else every 5 ms (the marks of
 * answered beacons are flushed then too; losing a mark only sends a beacon
 * again). Compaction happens here too, so the file is never swapped under a
 * sync.
 */
static void *journal_main(void *arg) {
  vast_ssai *s = arg;
  pthread_mutex_lock(&s->mu);
  while (!s->jstop) {
    if (s->jid_synced >= s->next_jid && !s->jdirty) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 5000000;
      if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
      pthread_cond_timedwait(&s->jwake, &s->mu, &ts);
      if (s->jstop) break;
    }
    uint64_t target = s->next_jid;
    int need_sync = target > s->jid_synced;
    if (fflush(s->journal) != 0) s->st.journal_errors++;
    s->jdirty = 0;
    if (need_sync) {
      int fd = fileno(s->journal);
      pthread_mutex_unlock(&s->mu);
      int rc = fdatasync(fd);
      pthread_mutex_lock(&s->mu);
      if (rc != 0) s->st.journal_errors++;
      s->jid_synced = target; /* a failed sync is counted, not retried forever */
      s->st.journal_syncs++;
      pump(s);
    }
    if (s->jbytes > s->o.journal_max_bytes) compact(s);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

vast_err vast_ssai_drain(vast_ssai *s, long timeout_ms) {
  double end = vast__wall() + (double)timeout_ms / 1000.0;
  for (;;) {
    vast_ssai_tick(s);
    pthread_mutex_lock(&s->mu);
    uint64_t p = s->st.pending;
    pthread_mutex_unlock(&s->mu);
    if (!p) return VAST_OK;
    if (timeout_ms >= 0 && vast__wall() >= end) return VAST_E_TIMEOUT;
    usleep(2000);
  }
}

void vast_ssai_stats(vast_ssai *s, vast_ssai_figures *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  *out = s->st;
  out->sessions = s->n_sessions;
  size_t mem = 0;
  for (session *x = s->all; x; x = x->next) {
    mem += sizeof *x + strlen(x->id) + 1 + sizeof(dev_ref) + x->cap_ads * sizeof(ssai_ad);
    for (size_t i = 0; i < x->n_ads; i++)
      mem += (x->ads[i].t ? vast_tracker_memory() : 0) + (x->ads[i].q ? sizeof(seq) : 0);
  }
  out->memory = mem;
  out->breaks = s->n_brk;
  out->break_bytes = s->brk_bytes;
  out->break_hits = s->brk_hits;
  out->break_misses = s->brk_misses;
  pthread_mutex_unlock(&s->mu);
}

vast_err vast_ssai_write_metrics(vast_ssai *s, vast_write_fn write, void *ctx) {
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
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
    (unsigned long long)st.journal_syncs);
  P("# TYPE vastrack_ssai_journal_errors_total counter\nvastrack_ssai_journal_errors_total %llu\n",
    (unsigned long long)st.journal_errors);
  P("# TYPE vastrack_ssai_breaks gauge\nvastrack_ssai_breaks %llu\n",
    (unsigned long long)st.breaks);
  P("# TYPE vastrack_ssai_break_bytes gauge\nvastrack_ssai_break_bytes %llu\n",
    (unsigned long long)st.break_bytes);
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

/* ---- sessions across a restart ---------------------------------------------------- */

/*
 * One S, B, P or X line of the journal, applied at start (before any thread
 * runs). Sessions come back with their device and ads; an ad whose break
 * cannot be rebuilt, or is over, comes back over (so the ads keep their
 * numbers). Positions are applied by state_restore().
 */
static void state_line(vast_ssai *s, char *line) {
  char *f[8];
  int n = split(line, f, 8);
  session *x = n >= 2 ? find(s, f[1]) : NULL;
  if (line[0] == 'S' && n == 7 && !x && id_ok(f[1])) {
    vast_device d = {
        sizeof d, f[2], f[3], *f[4] ? f[4] : NULL, *f[5] ? f[5] : NULL, *f[6] ? f[6] : NULL, 0};
    if (dev_ok(&d)) session_add(s, f[1], &d);
  } else if (line[0] == 'B' && n == 5 && x) {
    unsigned brk = (unsigned)strtoul(f[2], NULL, 10), nads = (unsigned)strtoul(f[4], NULL, 10);
    uint64_t key = strtoull(f[3], NULL, 16);
    if (brk != x->n_breaks || nads > 10000) return;
    vast__ssai_brk *b = key ? brk_load(s, key) : NULL;
    if (b && b->n_ads != nads) {
      brk_unref(s, b, 1);
      b = NULL;
    }
    if (x->n_ads + nads > x->cap_ads) {
      unsigned c2 = x->cap_ads ? x->cap_ads : 2;
      while (c2 < x->n_ads + nads)
        c2 *= 2;
      ssai_ad *na = realloc(x->ads, c2 * sizeof *na);
      if (!na) {
        if (b) brk_unref(s, b, 1);
        return;
      }
      x->ads = na, x->cap_ads = c2;
    }
    x->n_breaks++;
    for (unsigned i = 0; i < nads; i++) {
      ssai_ad *a = &x->ads[x->n_ads++];
      memset(a, 0, sizeof *a);
      a->brk = brk;
      a->done = 1; /* until its tracker is made */
      if (!b || vast_tracker_create(b->ads[i].plan, &s->mc, on_beacon, s, &a->t) != VAST_OK)
        continue;
      vast_tracker_set_trusted_positions(a->t, 1);
      a->duration = b->ads[i].duration;
      a->b = b;
      a->done = 0;
      b->refs++;
    }
    if (b) brk_unref(s, b, 1); /* the ads hold their own references */
  } else if (line[0] == 'P' && n == 6 && x) {
    unsigned long ad = strtoul(f[2], NULL, 10);
    if (ad >= x->n_ads || !x->ads[ad].b) return;
    x->ads[ad].pos = strtod(f[3], NULL);
    x->ads[ad].started = f[4][0] == '1';
    x->ads[ad].done = f[5][0] == '1';
  } else if (line[0] == 'X' && x) {
    for (size_t i = 0; i < x->n_ads; i++)
      x->ads[i].started = 0; /* not counted open yet */
    session_end(s, x);
  }
}

/*
 * Brings every restored ad's tracker to its journalled position without
 * firing (what it fired then is in the journal: sent, or sent again from
 * there), releases the breaks that are over, writes the sessions' state to
 * the new journal w, and removes the break files no session uses.
 */
static int state_restore(vast_ssai *s, FILE *w) {
  double now = vast__wall();
  s->replaying = 1;
  int bad = 0;
  for (session *x = s->all; x; x = x->next) {
    macro_ctx_for(s, x);
    for (size_t i = 0; i < x->n_ads; i++) {
      ssai_ad *a = &x->ads[i];
      if (!a->t || a->done || !a->started) continue;
      vast_tracker_loaded(a->t, now);
      vast_tracker_impression(a->t, now);
      vast_tracker_time(a->t, now, 0);
      if (a->pos > 0) vast_tracker_time(a->t, now, a->pos);
      s->st.ads_open++;
    }
    for (size_t i = 0; i < x->n_ads; i++)
      if (x->ads[i].done && x->ads[i].b) ad_ended(s, x, i);
    bad |= jl_session_state(w, x) != 0;
    s->st.sessions_restored++;
  }
  s->replaying = 0;
  char path[4096];
  snprintf(path, sizeof path, "%s/breaks", s->state_dir);
  DIR *d = opendir(path);
  for (struct dirent *e; d && (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char *end;
    uint64_t key = strtoull(e->d_name, &end, 16);
    int used = 0;
    for (vast__ssai_brk *b = s->brk_tab[key % BRK_SLOTS]; !*end && b; b = b->hnext)
      used |= b->key == key;
    if (used) continue;
    snprintf(path, sizeof path, "%s/breaks/%s", s->state_dir, e->d_name);
    unlink(path);
  }
  if (d) closedir(d);
  return bad ? -1 : 0;
}

/* The beacons recovered for an ad that plays on go on its seq again, so the
   ad's next beacons queue behind them. */
static void state_attach(vast_ssai *s) {
  for (seq *q = s->seqs; q; q = q->anext) {
    char id[96];
    snprintf(id, sizeof id, "%s", q->key);
    char *sl = strrchr(id, '/');
    if (!sl) continue;
    *sl = 0;
    session *x = find(s, id);
    unsigned long ad = strtoul(sl + 1, NULL, 10);
    if (!x || ad >= x->n_ads || !x->ads[ad].b || x->ads[ad].q) continue;
    x->ads[ad].q = q;
    q->orphan = 0;
  }
}
