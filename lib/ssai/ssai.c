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
 * a batch to send wait on the `ready` list, scanned by vast__ssai_pump().
 * The journal (what is written, group commit, recovery, sessions across a
 * restart) is lib/ssai/ssai-journal.c; the shared breaks ssai-breaks.c; adding
 * a break ssai-add.c; the figures ssai-metrics.c; batches of reports read in
 * place ssai-reports.c.
 *
 * Locking: one mutex over everything. The dispatcher's answers are queued
 * under a small mutex of their own and settled in bulk by whoever holds the
 * big one next (the delivery callback when it is free, a report between
 * chunks, the journal thread after each sync); no walk over every session or
 * queue happens under it (the journal rewrite takes them a slice at a time).
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
#include "ssai/ssai-core.h"
#include "vastrack/breaks.h"

void vast_ssai_opts_init(vast_ssai_opts *o) {
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->idle_timeout_s = 60;
  o->deadline_ms = 30000;
  o->retry_base_ms = 250;
  o->per_host = 32;
  o->max_concurrent = 512;
  o->timeout_ms = 5000;
  o->journal_max_bytes = (size_t)256 << 20;
}

/* ---- small helpers --------------------------------------------------------- */

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

dev_ref *vast__ssai_dev_new(const vast_device *d) {
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

void vast__ssai_dev_unref(dev_ref *r) {
  if (r && --r->refs == 0) free(r);
}

int vast__ssai_dev_ok(const vast_device *d) {
  if (!d || !d->ip || !*d->ip || !d->user_agent || !*d->user_agent) return 0;
  if (vast_net_ip_special(d->ip) < 0) return 0;
  const char *f[4] = {d->user_agent, d->referer, d->accept_language, d->requested_with};
  for (int i = 0; i < 4; i++)
    if (f[i] && (!vast_net_header_value_ok(f[i]) || strchr(f[i], '\t'))) return 0;
  return 1;
}

/* Host table slot of a URL's host, -1 when the table is full or no host. */
int vast__ssai_host_slot_of(vast_ssai *s, const char *url) {
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

/* ---- delivery pipeline -------------------------------------------------------- */

static double batch_ready_at(const batch *b) {
  double t = 0;
  for (const bcn *x = b->list; x; x = x->next)
    if (x->not_before > t) t = x->not_before;
  return t;
}

/*
 * Queues a seq whose head batch can go: on the queue of the host of its first
 * beacon (so vast__ssai_pump() looks only at hosts with room, never at every waiting
 * seq), or on the timed list while a retry waits for its time (tick() moves
 * it when due).
 */
void vast__ssai_ready_push(vast_ssai *s, seq *q) {
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

seq *vast__ssai_seq_new(vast_ssai *s, dev_ref *dev) {
  seq *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  q->dev = dev;
  dev->refs++;
  q->anext = s->seqs;
  if (s->seqs) s->seqs->aprev = q;
  s->seqs = q;
  s->mem += sizeof *q;
  return q;
}

/* Links a new batch into the live list, kept in bid order: appended (ids
   grow), or placed from the tail when recovery gives an older one. */
void vast__ssai_batch_link(vast_ssai *s, batch *b) {
  batch *at = s->live_tail;
  while (at && at->bid > b->bid)
    at = at->lprev;
  b->lprev = at;
  b->lnext = at ? at->lnext : s->live_head;
  if (b->lnext)
    b->lnext->lprev = b;
  else
    s->live_tail = b;
  if (at)
    at->lnext = b;
  else
    s->live_head = b;
}

static void batch_unlink(vast_ssai *s, batch *b) {
  if (b->lprev)
    b->lprev->lnext = b->lnext;
  else if (s->live_head == b)
    s->live_head = b->lnext;
  if (b->lnext)
    b->lnext->lprev = b->lprev;
  else if (s->live_tail == b)
    s->live_tail = b->lprev;
  b->lprev = b->lnext = NULL;
}

uint64_t vast__ssai_oldest_batch(vast_ssai *s, uint64_t *next) {
  pthread_mutex_lock(&s->mu);
  uint64_t v = s->live_head ? s->live_head->bid : UINT64_MAX;
  if (next) *next = s->next_bid;
  pthread_mutex_unlock(&s->mu);
  return v;
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
    batch_unlink(s, b);
    free(b);
  }
  vast__ssai_dev_unref(q->dev);
  s->mem -= sizeof *q;
  free(q);
}

/* The seq's head batch was settled: next batch, or free an orphan seq. */
static void seq_advance(vast_ssai *s, seq *q) {
  batch *b = q->head;
  q->head = b->next;
  if (!q->head) q->tail = NULL;
  batch_unlink(s, b);
  free(b);
  q->busy = 0;
  if (q->head)
    vast__ssai_ready_push(s, q);
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
      vast__ssai_jline_mark(s, 'F', x->jid, 0);
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
void vast__ssai_pump(vast_ssai *s) {
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
      vast__ssai_ready_push(s, q);
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

/* Settles one answered beacon (its answer in x->status, err, sent_at). */
static void settle_one(vast_ssai *s, bcn *x) {
  batch *b = x->bt;
  seq *q = b->q;
  double now = vast__wall();
  if (x->host >= 0 && s->hosts[x->host].inflight) s->hosts[x->host].inflight--;
  s->st.in_flight--;
  if (x->attempts == 1 && x->sent_at > 0) lateness(s, (x->sent_at - x->due) * 1000.0);
  /* unlink x from the batch's list */
  for (bcn **pp = &b->list; *pp; pp = &(*pp)->next)
    if (*pp == x) {
      *pp = x->next;
      break;
    }
  x->next = NULL;
  int transient = x->err == VAST_E_TIMEOUT || (x->err == VAST_E_HTTP && x->status == 0) ||
                  (x->status >= 500 && x->status <= 599);
  if (x->err == VAST_OK && x->status < 500) {
    vast__ssai_jline_mark(s, 'A', x->jid, x->status); /* answered: a 4xx is final too */
    if (x->status >= 400)
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
      vast__ssai_jline_mark(s, 'E', x->jid, x->status);
      s->st.expired++;
      s->st.pending--;
      free(x->event);
      free(x);
    }
  } else {
    vast__ssai_jline_mark(s, 'F', x->jid, x->status);
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
      vast__ssai_ready_push(s, q);
    } else {
      seq_advance(s, q);
    }
  }
}

/* Settles every answer the dispatcher queued, in order, then submits what
   that let go. Under the lock. */
void vast__ssai_settle(vast_ssai *s) {
  if (s->closing) return; /* cancelled at shutdown: stays unanswered in the journal */
  pthread_mutex_lock(&s->dmu);
  bcn *x = s->dq_head;
  s->dq_head = s->dq_tail = NULL;
  pthread_mutex_unlock(&s->dmu);
  if (!x) return;
  while (x) {
    bcn *nx = x->dnext;
    x->dnext = NULL;
    settle_one(s, x);
    x = nx;
  }
  vast__ssai_pump(s);
}

/*
 * The dispatcher's delivery callback (its thread). The answer is queued and
 * settled in bulk: here when the service's lock is free, else by the journal
 * thread, woken for it (so the dispatcher's thread never waits for a report
 * being processed, and the lock changes hands once per bulk, not per beacon).
 */
static void on_delivery(void *ctx, const vast_delivery *d) {
  vast_ssai *s = ctx;
  bcn *x = d->user;
  if (!x) return;
  x->status = d->status;
  x->err = d->err;
  x->sent_at = d->sent_at;
  x->dnext = NULL;
  pthread_mutex_lock(&s->dmu);
  if (s->dq_tail)
    s->dq_tail->dnext = x;
  else
    s->dq_head = x;
  s->dq_tail = x;
  pthread_mutex_unlock(&s->dmu);
  if (!s->jthr_on) {
    pthread_mutex_lock(&s->mu);
    vast__ssai_settle(s);
    pthread_mutex_unlock(&s->mu);
  } else if (pthread_mutex_trylock(&s->mu) == 0) {
    vast__ssai_settle(s);
    pthread_mutex_unlock(&s->mu);
  } else {
    pthread_cond_signal(&s->jwake);
  }
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
    x->host = vast__ssai_host_slot_of(s, x->url);
    vast__ssai_jline_due(s, x, bid, key, &q->dev->d);
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
  vast__ssai_batch_link(s, b);
  if (q->tail)
    q->tail->next = b;
  else
    q->head = b;
  q->tail = b;
  vast__ssai_ready_push(s, q);
  pthread_cond_signal(&s->jwake);
  return 0;
}

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
  if (!s->o.journal_max_bytes) s->o.journal_max_bytes = (size_t)256 << 20;
  pthread_mutex_init(&s->mu, NULL);
  pthread_mutex_init(&s->dmu, NULL);
  pthread_cond_init(&s->jwake, NULL);
  s->jfd = -1;
  s->rw_fd = -1;
  s->sync_fd = -1;
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
    rc = vast__ssai_recover(s, msg, cap);
    if (rc != VAST_OK) {
      vast_ssai_free(s);
      return rc;
    }
  }
  s->jid_synced = s->next_jid; /* vast__ssai_recover() synced what it kept */
  rc = vast_dispatcher_start(s->d);
  if (rc == VAST_OK && s->journal) {
    if (pthread_create(&s->jthr, NULL, vast__ssai_journal_main, s) == 0)
      s->jthr_on = 1;
    else
      rc = VAST_E_NOMEM;
  }
  if (rc != VAST_OK) {
    vast_ssai_free(s);
    return rc;
  }
  pthread_mutex_lock(&s->mu);
  vast__ssai_pump(s);
  pthread_mutex_unlock(&s->mu);
  *out = s;
  return VAST_OK;
}

/* ---- the break cache ---------------------------------------------------------- */

/* A reference to the cached break of `key` (or of `in_key` when key is 0). */
vast__ssai_brk *vast__ssai_brk_find(vast_ssai *s, uint64_t key, uint64_t in_key) {
  if (key) {
    for (vast__ssai_brk *b = s->brk_tab[key % BRK_SLOTS]; b; b = b->hnext)
      if (b->key == key) return b->refs++, s->brk_hits++, b;
  } else if (in_key) {
    for (vast__ssai_brk *b = s->brk_in[in_key % BRK_SLOTS]; b; b = b->in_next)
      if (b->in_key == in_key) return b->refs++, s->brk_hits++, b;
  }
  return NULL;
}

void vast__ssai_brk_insert(vast_ssai *s, vast__ssai_brk *b) {
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
void vast__ssai_brk_unref(vast_ssai *s, vast__ssai_brk *b, size_t n) {
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
  if (s->state_dir && !s->closing && b->key) { /* its file, once the journal says why */
    if (s->n_gone == s->cap_gone) {
      size_t nc = s->cap_gone ? s->cap_gone * 2 : 64;
      struct brk_gone *ng = realloc(s->gone, nc * sizeof *ng);
      if (ng) s->gone = ng, s->cap_gone = nc;
    }
    if (s->n_gone < s->cap_gone) s->gone[s->n_gone++] = (struct brk_gone){b->key, s->jseq};
  }
  vast__ssai_brk_free(b);
}

/* Frees the trackers of break brk of session x and drops its references;
   the seqs go on delivering what is due, then free themselves. */
void vast__ssai_break_release(vast_ssai *s, session *x, unsigned brk) {
  for (size_t i = 0; i < x->n_ads; i++) {
    ssai_ad *a = &x->ads[i];
    if (a->brk != brk || !a->b) continue;
    if (a->t) s->mem -= vast_tracker_memory();
    vast_tracker_free(a->t);
    a->t = NULL;
    vast__ssai_brk_unref(s, a->b, 1);
    a->b = NULL;
    seq *q = a->q;
    a->q = NULL;
    if (!q) continue;
    q->orphan = 1;
    if (!q->head && !q->busy) seq_free(s, q);
  }
}

static void session_free(vast_ssai *s, session *x) {
  for (size_t i = 0; i < x->n_ads; i++)
    vast__ssai_break_release(s, x, x->ads[i].brk);
  s->mem -= sizeof *x + strlen(x->id) + 1 + sizeof(dev_ref) + x->cap_ads * sizeof(ssai_ad);
  free(x->ads);
  vast__ssai_dev_unref(x->dev);
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
  free(s->gone);
  free(s->brk_tab); /* every break was released with its sessions */
  free(s->brk_in);
  for (size_t i = 0; i < s->n_fired; i++)
    free(s->fired[i].name), free(s->fired[i].url);
  free(s->fired);
  if (s->jfd >= 0) close(s->jfd);
  vast__buf_free(&s->jb[0]);
  vast__buf_free(&s->jb[1]);
  free(s->journal_path);
  free(s->state_dir);
  free(s->tab);
  pthread_mutex_destroy(&s->mu);
  pthread_mutex_destroy(&s->dmu);
  pthread_cond_destroy(&s->jwake);
  free(s);
}

session *vast__ssai_find(vast_ssai *s, const char *id) {
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
    if (!x->id[0]) continue; /* the journal rewrite's cursor */
    size_t h = hash_str(x->id) & (nc - 1);
    x->hnext = nt[h];
    nt[h] = x;
  }
  free(s->tab);
  s->tab = nt;
  s->tab_cap = nc;
}

int vast__ssai_id_ok(const char *id) {
  size_t n = strlen(id);
  if (!n || n > 64) return 0;
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '.' || *p == '_' || *p == '-'))
      return 0;
  return 1;
}

/* The list of sessions, least recently active first (the idle scan reads
   its front; the journal rewrite walks it behind a cursor). Under the lock. */
void vast__ssai_list_unlink(vast_ssai *s, session *x) {
  if (x->prev)
    x->prev->next = x->next;
  else
    s->all = x->next;
  if (x->next)
    x->next->prev = x->prev;
  else
    s->all_tail = x->prev;
  x->prev = x->next = NULL;
}

/* Links x before `at` (NULL: at the end). */
void vast__ssai_list_insert_before(vast_ssai *s, session *x, session *at) {
  x->next = at;
  x->prev = at ? at->prev : s->all_tail;
  if (x->prev)
    x->prev->next = x;
  else
    s->all = x;
  if (at)
    at->prev = x;
  else
    s->all_tail = x;
}

/* Links a new session (id given and free, or NULL: one is made). Under the
   lock. NULL when out of memory. */
session *vast__ssai_session_add(vast_ssai *s, const char *id, const vast_device *dev) {
  session *x = calloc(1, sizeof *x + (id ? strlen(id) : 16) + 1);
  if (!x) return NULL;
  vast_device d = *dev;
  d.forwarded_for = s->o.forwarded_for;
  if (!(x->dev = vast__ssai_dev_new(&d))) {
    free(x);
    return NULL;
  }
  if (id) {
    strcpy(x->id, id);
  } else {
    do {
      s->id_counter = s->id_counter * 6364136223846793005ull + 1442695040888963407ull;
      snprintf(x->id, 17, "%016llx", (unsigned long long)s->id_counter);
    } while (vast__ssai_find(s, x->id));
  }
  x->last = vast__wall();
  if (s->n_sessions + 1 > s->tab_cap) tab_grow(s);
  size_t h = hash_str(x->id) & (s->tab_cap - 1);
  x->hnext = s->tab[h];
  s->tab[h] = x;
  vast__ssai_list_insert_before(s, x, NULL);
  s->mem += sizeof *x + strlen(x->id) + 1 + sizeof(dev_ref);
  s->n_sessions++;
  s->st.sessions_total++;
  return x;
}

/* Session x was active now: it goes last in the list the idle scan reads
   from the front. Under the lock. */
void vast__ssai_touch(vast_ssai *s, session *x, double now) {
  x->last = now;
  if (s->all_tail == x) return;
  vast__ssai_list_unlink(s, x);
  vast__ssai_list_insert_before(s, x, NULL);
}

vast_err vast_ssai_session_create(vast_ssai *s, const char *id, const vast_device *dev, char *out,
                                  size_t cap) {
  if (!s || !out || cap < 65 || !vast__ssai_dev_ok(dev) || (id && !vast__ssai_id_ok(id)))
    return VAST_E_INVAL;
  pthread_mutex_lock(&s->mu);
  if (id && vast__ssai_find(s, id)) {
    pthread_mutex_unlock(&s->mu);
    return VAST_E_STATE;
  }
  session *x = vast__ssai_session_add(s, id, dev);
  if (!x) {
    pthread_mutex_unlock(&s->mu);
    return VAST_E_NOMEM;
  }
  if (s->journal) vast__ssai_jl_account(s, vast__ssai_jl_session_to(s->journal, x->id, &x->dev->d));
  snprintf(out, cap, "%s", x->id);
  pthread_mutex_unlock(&s->mu);
  return VAST_OK;
}

/* Unlinks and frees a session. Under the lock. */
void vast__ssai_session_end(vast_ssai *s, session *x) {
  if (s->journal) vast__ssai_jl_account(s, vast__ssai_jl_end_to(s->journal, x->id));
  session **pp = &s->tab[hash_str(x->id) & (s->tab_cap - 1)];
  while (*pp && *pp != x)
    pp = &(*pp)->hnext;
  if (*pp) *pp = x->hnext;
  vast__ssai_list_unlink(s, x);
  for (size_t i = 0; i < x->n_ads; i++)
    if (x->ads[i].started && !x->ads[i].done) s->st.ads_open--;
  s->n_sessions--;
  session_free(s, x);
}

vast_err vast_ssai_session_end(vast_ssai *s, const char *id) {
  if (!s || !id) return VAST_E_INVAL;
  pthread_mutex_lock(&s->mu);
  session *x = vast__ssai_find(s, id);
  if (x) vast__ssai_session_end(s, x);
  pthread_mutex_unlock(&s->mu);
  return x ? VAST_OK : VAST_E_NOT_FOUND;
}

/* ---- trackers ---------------------------------------------------------------------- */

void vast__ssai_on_beacon(void *user, const vast_track_beacon *b) {
  vast_ssai *s = user;
  if (!b->url || s->replaying || vast__ssai_quiet) return;
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
    if (!a->q && (a->q = vast__ssai_seq_new(s, x->dev)))
      snprintf(a->q->key, sizeof a->q->key, "%s", key);
    if (!a->q || enqueue(s, a->q, key, s->fired + i, j - i, now) != 0) s->st.failed += j - i;
    i = j;
  }
  for (i = 0; i < s->n_fired; i++)
    free(s->fired[i].name), free(s->fired[i].url);
  s->n_fired = 0;
  if (!s->journal) vast__ssai_pump(s); /* with a journal: the journal thread, once synced */
}

/* ---- break-level tracking of VMAP breaks: breakStart and breakEnd are in
   ssai-add.c (flushed by the report and event paths); error here ---------- */

void vast__ssai_break_error(vast_ssai *s, const char *sid, const vast__ssai_bev *ev, int code) {
  pthread_mutex_lock(&s->mu);
  session *x = vast__ssai_find(s, sid);
  if (x && ev->n) {
    vast__ssai_macro_ctx_for(s, x);
    vast__ssai_bev_fire(ev, "error", code, &s->mc, NULL, vast__ssai_on_beacon, s);
  }
  seq *q = x && s->n_fired ? vast__ssai_seq_new(s, x->dev) : NULL;
  if (q) { /* a seq of its own (no ad): freed once delivered */
    q->orphan = 1;
    snprintf(q->key, sizeof q->key, "%s#break", x->id);
    if (enqueue(s, q, q->key, s->fired, s->n_fired, vast__wall()) != 0) {
      s->st.failed += s->n_fired;
      seq_free(s, q);
    }
  } else {
    s->st.failed += s->n_fired;
  }
  for (size_t i = 0; i < s->n_fired; i++)
    free(s->fired[i].name), free(s->fired[i].url);
  s->n_fired = 0;
  if (!s->journal) vast__ssai_pump(s);
  pthread_mutex_unlock(&s->mu);
}

/* ---- breaks ------------------------------------------------------------------------ */

/* The service's macro context set to session x's device (under the lock: the
   trackers of every session point at it, and read it only while fed). */
void vast__ssai_macro_ctx_for(vast_ssai *s, const session *x) {
  s->mc.value[VAST_MACRO_DEVICEIP] = x->dev->d.ip;
  s->mc.value[VAST_MACRO_DEVICEUA] = x->dev->d.user_agent;
  s->mc.value[VAST_MACRO_CLIENTUA] = x->dev->d.user_agent;
}

/* ---- reports and events ---------------------------------------------------------------- */

/*
 * Ad adno just ended: when every ad of its break has ended, the trackers and
 * the break's documents are freed (the beacons due were copied), so a long
 * session holds only the breaks still playing. Under the lock.
 */
void vast__ssai_ad_ended(vast_ssai *s, session *x, size_t adno) {
  unsigned brk = x->ads[adno].brk;
  for (size_t i = 0; i < x->n_ads; i++)
    if (x->ads[i].brk == brk && !x->ads[i].done) return;
  vast__ssai_break_release(s, x, brk);
}

/* One report, under the lock. */
static vast_err report_locked(vast_ssai *s, const char *sid, const vast_ssai_consumption *r) {
  if (!sid || !r) return VAST_E_INVAL;
  double pos = r->media_time;
  if (r->segment) {
    if (!(r->seg_duration > 0) || !isfinite(r->seg_duration)) return VAST_E_INVAL;
    pos = (r->index + 1.0) * r->seg_duration;
  }
  if (!isfinite(pos) || pos < 0) return VAST_E_INVAL;
  double wall = r->wall_time >= 0 ? r->wall_time : vast__wall();
  session *x = vast__ssai_find(s, sid);
  vast_err rc = VAST_OK;
  if (!x || r->ad >= x->n_ads) {
    rc = VAST_E_NOT_FOUND;
    goto out;
  }
  vast__ssai_touch(s, x, vast__wall());
  ssai_ad *a = &x->ads[r->ad];
  if (a->done || !a->t || vast_tracker_done(a->t)) {
    rc = VAST_E_STATE;
    goto out;
  }
  if (a->duration > 0 && pos > a->duration) pos = a->duration;
  vast__ssai_macro_ctx_for(s, x);
  if (!a->started) {
    a->started = 1;
    s->st.ads_open++;
    vast__ssai_break_started(s, x, r->ad);
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
    if (vast__ssai_break_ended(s, x, r->ad)) flush_fired(s, x, r->ad);
  }
  if (s->journal)
    vast__ssai_jl_account(s, vast__ssai_jl_pos_to(s->journal, x->id, r->ad, a->pos, 1, a->done));
  if (a->done) vast__ssai_ad_ended(s, x, r->ad);
out:
  return rc;
}

vast_err vast_ssai_report(vast_ssai *s, const char *sid, const vast_ssai_consumption *r) {
  if (!s || !sid || !r) return VAST_E_INVAL;
  pthread_mutex_lock(&s->mu);
  vast_err rc = report_locked(s, sid, r);
  vast__ssai_settle(s); /* answers queued while the lock was busy */
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* n reports (sids[i] NULL: refused, VAST_E_INVAL), the lock taken once per 64
   so the dispatcher's answers and the journal get their turn in between. */
void vast__ssai_reports(vast_ssai *s, const char *const *sids, const vast_ssai_consumption *rs,
                        vast_err *rc, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t end = i + 64 < n ? i + 64 : n;
    pthread_mutex_lock(&s->mu);
    for (; i < end; i++)
      rc[i] = report_locked(s, sids[i], &rs[i]);
    vast__ssai_settle(s); /* answers that came meanwhile free their hosts' slots */
    pthread_mutex_unlock(&s->mu);
  }
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
  session *x = vast__ssai_find(s, sid);
  vast_err rc;
  if (!x || adno >= x->n_ads) {
    rc = VAST_E_NOT_FOUND;
    goto out;
  }
  vast__ssai_touch(s, x, wall);
  ssai_ad *a = &x->ads[adno];
  if (!a->t) {
    rc = VAST_E_STATE;
    goto out;
  }
  if (media < 0) media = a->pos;
  vast__ssai_macro_ctx_for(s, x);
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
    if (vast__ssai_break_ended(s, x, adno)) flush_fired(s, x, adno);
    if (s->journal)
      vast__ssai_jl_account(s,
                            vast__ssai_jl_pos_to(s->journal, x->id, adno, a->pos, a->started, 1));
    vast__ssai_ad_ended(s, x, adno);
  }
out:
  pthread_mutex_unlock(&s->mu);
  return rc;
}

void vast_ssai_tick(vast_ssai *s) {
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  double now = vast__wall();
  vast__ssai_settle(s);
  if (now >= s->next_idle_check) {
    s->next_idle_check = now + (s->o.idle_timeout_s < 1 ? s->o.idle_timeout_s / 4 : 0.25);
    /* least recently active first: the scan stops at the first session
       still active, so it costs the sessions it ends, not all of them */
    while (s->all && now - s->all->last >= s->o.idle_timeout_s) {
      s->st.sessions_idle++;
      vast__ssai_session_end(s, s->all);
    }
  }
  pump_timed(s);
  vast__ssai_pump(s);
  pthread_mutex_unlock(&s->mu);
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
