/*
 * writer.c: where hits become durable. With durable acks and SQLite alone
 * (journal mode) each event loop appends the hits it read to its own journal
 * (journal.c) and answers them itself (vast__worker_journal), and the writer
 * thread is the loader that puts journalled hits into SQLite in big
 * transactions (loader_main). Otherwise (fast acks, Kafka, a database
 * without a file) the writer thread takes every queued hit, writes it to the
 * sinks in one transaction (group commit) and wakes the loops whose hits are
 * resolved (uv_async_send). Both count the stored hits by event and for the
 * dashboard, and watch the database file (vast__db_check).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/server-int.h"

/*
 * The database file deleted or replaced under the running collector
 * (vast__store_gone): SQLite would go on committing into the unlinked file, so
 * from then on no hit reaches a database that still exists. Logged once,
 * loudly; then every tracking hit is answered 503, /healthz says so, nothing
 * more is loaded, and the journals are kept for the next start. Checked by the
 * writer (or loader) before and after each commit, and every DB_CHECK_MS while
 * idle. Returns 1 when lost.
 */
#define DB_CHECK_MS 1000
int vast__db_check(vast_collector *c) {
  if (atomic_load(&c->db_lost)) return 1;
  if (!c->store || !vast__store_gone(c->store)) return 0;
  if (!atomic_exchange(&c->db_lost, 1))
    vast__clog(c,
               "ALERT: database file '%s' was deleted or replaced under the running collector: "
               "tracking hits are answered 503 from now on, nothing more is loaded and the "
               "journals are kept; restore the file or restart the collector",
               vast__store_filename(c->store));
  return 1;
}

/* pthread_cond_timedwait for ms milliseconds; returns its result. */
static int cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
  return pthread_cond_timedwait(cv, mu, &ts);
}

/* Funnel column of an event name. */
static int funnel_of(const char *e) {
  for (int i = 0; i < FUN_OTHER; i++)
    if (!strcmp(e, vast__wire_funnel[i])) return i;
  return FUN_OTHER;
}

/* The dashboard's counts for one stored hit (called under emu). */
static void count_dashboard(vast_collector *c, const vast__hit *h) {
  const char *ad = h->ad ? h->ad : "";
  uint32_t hv = 2166136261u;
  for (const char *p = ad; *p; p++)
    hv = (hv ^ (unsigned char)*p) * 16777619u;
  adcount *a = NULL;
  for (unsigned i = 0; i < ADS_HASH; i++) {
    unsigned at = (hv + i) & (ADS_HASH - 1);
    short ix = c->ad_slot[at];
    if (ix == 0) {
      if (c->nads < NADS && strlen(ad) < sizeof a->ad) {
        a = &c->ads[c->nads++];
        strcpy(a->ad, ad);
        c->ad_slot[at] = (short)c->nads;
      }
      break;
    }
    if (!strcmp(c->ads[ix - 1].ad, ad)) {
      a = &c->ads[ix - 1];
      break;
    }
  }
  int f = funnel_of(h->event);
  if (a)
    a->n[f]++;
  else
    c->ads_other++;
  if (f != FUN_ERROR) return;
  unsigned j = 0;
  while (j < c->ncodes && c->codes[j].code != h->code)
    j++;
  if (j == c->ncodes) {
    if (j == sizeof c->codes / sizeof c->codes[0]) {
      c->codes_other++;
      return;
    }
    c->codes[j].code = h->code;
    c->ncodes++;
  }
  c->codes[j].n++;
}

/* Counts one stored hit by event and for the dashboard (under emu). */
static void count_hit(vast_collector *c, const vast__hit *h) {
  if (c->o.web) count_dashboard(c, h);
  unsigned j = 0;
  while (j < c->nev && strcmp(c->ev[j].name, h->event) != 0)
    j++;
  if (j == c->nev) {
    if (c->nev == sizeof c->ev / sizeof c->ev[0]) {
      c->ev_other++;
      return;
    }
    snprintf(c->ev[j].name, sizeof c->ev[j].name, "%s", h->event);
    c->nev++;
  }
  c->ev[j].n++;
}

static void count_events(vast_collector *c, vast__hit **hits, size_t n) {
  pthread_mutex_lock(&c->emu);
  for (size_t i = 0; i < n; i++)
    if (hits[i]->state == VAST__HIT_OK) count_hit(c, hits[i]);
  pthread_mutex_unlock(&c->emu);
}

/* Takes up to cap queued hits into batch; returns how many. */
static size_t take_batch(vast_collector *c, vast__hit **batch, size_t cap) {
  pthread_mutex_lock(&c->qmu);
  size_t n = 0;
  while (c->qhead && n < cap) {
    batch[n++] = c->qhead;
    c->qhead = c->qhead->next;
  }
  if (!c->qhead) c->qtail = &c->qhead;
  atomic_fetch_sub(&c->qlen, n);
  pthread_mutex_unlock(&c->qmu);
  return n;
}

/*
 * Writes batch[0..n) to the sinks in one transaction (fast mode, Kafka, or a
 * database without a file), marks each hit stored or failed, and (durable)
 * hands the answers back to the workers that own the hits (uv_async_send).
 */
static void commit_batch(vast_collector *c, vast__hit **batch, size_t n, int *woke) {
  uint64_t t0 = uv_hrtime();
  char msg[512] = "";
  vast_err e = VAST_OK, ek = VAST_OK;
  if (c->store) {
    /* Not into a file that is no longer the database (nor counted as stored
       when it became one during the commit). */
    e = vast__db_check(c) ? VAST_E_DB
                          : vast__store_write(c->store, batch, n, NULL, 0, msg, sizeof msg);
    if (e == VAST_OK && vast__db_check(c)) e = VAST_E_DB;
    if (e == VAST_E_DB && atomic_load(&c->db_lost))
      snprintf(msg, sizeof msg, "the database file was deleted or replaced");
    if (e == VAST_OK) {
      atomic_fetch_add(&c->loaded, n);
      atomic_fetch_add(&c->loads, 1);
    }
  }
  if (e == VAST_OK && c->kafka) ek = e = vast__kafka_write(c->kafka, batch, n, msg, sizeof msg);
  uint64_t dt = uv_hrtime() - t0;
  histo_add(&c->commit, LAT_B, NLAT, (double)dt / 1e9, dt);
  histo_add(&c->batch, BATCH_B, NBATCH, (double)n, n);
  atomic_fetch_add(&c->batches, 1);
  if (e != VAST_OK) vast__clog(c, "cannot store a batch of %zu hits: %s", n, msg);
  uint64_t ok = 0;
  for (size_t i = 0; i < n; i++) {
    int st = VAST__HIT_OK;
    /* Failed when the store refused the batch, or Kafka this message. */
    if (e != VAST_OK && (ek == VAST_OK || !batch[i]->kafka_ok)) st = VAST__HIT_FAILED;
    batch[i]->state = st; /* plain store before count_events reads it */
    ok += st == VAST__HIT_OK;
  }
  count_events(c, batch, n);
  atomic_fetch_add(&c->stored, ok);
  atomic_fetch_add(&c->failed, n - ok);
  if (c->o.ack == VAST_ACK_DURABLE) {
    memset(woke, 0, c->nworkers * sizeof *woke);
    for (size_t i = 0; i < n; i++) {
      vast__hit *h = batch[i];
      worker *w = h->owner;
      woke[w->idx]++;
      int st = h->state;
      atomic_store_explicit(&h->state, st, memory_order_release);
      vast__hit_unref(h);
    }
    for (unsigned i = 0; i < c->nworkers; i++)
      if (woke[i]) {
        uv_async_send(&c->workers[i]->wake);
        atomic_fetch_sub(&c->workers[i]->inflight, woke[i]);
      }
  } else {
    for (size_t i = 0; i < n; i++)
      vast__hit_unref(batch[i]);
  }
}

/*
 * Journal mode: the loader. Waits for journalled hits (a worker signals only
 * when the loader is idle, so a busy loader costs the workers no wake-ups),
 * lets them gather for LOAD_GATHER_MS, then writes up to batch_max of them
 * to SQLite in one transaction together with the highest seq per worker
 * (journal_state), and publishes those seqs so the workers can truncate
 * their journals. A failed load is retried; the hits stay in the journals
 * meanwhile, and at stop whatever still fails is left there for the next
 * start's recovery.
 */
#define LOAD_GATHER_MS 10
#define LOAD_RETRY_MS 200
static void loader_main(vast_collector *c) {
  size_t cap = c->o.batch_max;
  vast__hit **batch = malloc(cap * sizeof *batch);
  vast__jseq *js = malloc(c->nworkers * sizeof *js);
  uint64_t *top = calloc(c->nworkers, sizeof *top);
  char msg[512];
  vast__hit *pend = NULL; /* taken from the queue, not loaded yet */
  for (;;) {
    if (!pend) {
      pthread_mutex_lock(&c->qmu);
      while (!c->qhead && !c->writer_quit) {
        c->loader_idle = 1;
        if (cond_wait_ms(&c->qcv, &c->qmu, DB_CHECK_MS) != 0) {
          pthread_mutex_unlock(&c->qmu);
          vast__db_check(c);
          pthread_mutex_lock(&c->qmu);
        }
      }
      c->loader_idle = 0;
      if (!c->qhead || !batch || !js || !top) {
        /* Stopping with nothing queued; or out of memory at start: the hits
           stay in the journals for the next start. */
        if (c->qhead) c->load_failed = 1;
        pthread_mutex_unlock(&c->qmu);
        break;
      }
      if (!c->writer_quit && atomic_load(&c->qlen) < cap) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += LOAD_GATHER_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&c->qcv, &c->qmu, &ts); /* early only at stop */
      }
      /* Take the whole queue at once: the workers never wait for the walk. */
      pend = c->qhead;
      c->qhead = NULL;
      c->qtail = &c->qhead;
      atomic_fetch_sub(&c->qlen, atomic_load(&c->qlen));
      pthread_mutex_unlock(&c->qmu);
    }
    size_t n = 0, nj = 0;
    while (pend && n < cap) {
      batch[n++] = pend;
      pend = pend->next;
    }
    memset(top, 0, c->nworkers * sizeof *top);
    for (size_t i = 0; i < n; i++)
      top[((worker *)batch[i]->owner)->idx] = batch[i]->seq;
    for (unsigned i = 0; i < c->nworkers; i++)
      if (top[i]) js[nj++] = (vast__jseq){i, top[i]};
    vast_err e = VAST_E_DB;
    /* Never into a file that is no longer the database: those hits stay in
       the journals, which are then kept. */
    for (unsigned tries = 0; !vast__db_check(c); tries++) {
      e = vast__store_write(c->store, batch, n, js, nj, msg, sizeof msg);
      if (e == VAST_OK) break;
      if (tries % 50 == 0)
        vast__clog(
            c, "cannot load %zu journalled hits into SQLite (kept in the journal, retrying): %s", n,
            msg);
      pthread_mutex_lock(&c->qmu);
      int quit = c->writer_quit;
      pthread_mutex_unlock(&c->qmu);
      if (quit && tries >= 2) break;
      struct timespec ts = {0, LOAD_RETRY_MS * 1000000L};
      nanosleep(&ts, NULL);
    }
    if (e == VAST_OK && vast__db_check(c)) e = VAST_E_DB; /* committed into the lost file */
    if (e == VAST_OK) {
      atomic_fetch_add(&c->loaded, n);
      atomic_fetch_add(&c->loads, 1);
      for (size_t i = 0; i < nj; i++)
        atomic_store_explicit(&c->loaded_seq[js[i].worker], js[i].seq, memory_order_release);
    } else {
      c->load_failed = 1;
      if (!atomic_load(&c->db_lost))
        vast__clog(c, "gave up loading %zu hits: they stay in the journal for the next start", n);
    }
    for (size_t i = 0; i < n; i++)
      vast__hit_unref(batch[i]);
  }
  free(batch);
  free(js);
  free(top);
}

/*
 * The writer thread: commits what the workers queue (fast mode, Kafka); in
 * journal mode it is the loader.
 */
void *vast__writer_main(void *arg) {
  vast_collector *c = arg;
  if (c->journal) {
    loader_main(c);
    return NULL;
  }
  size_t cap = c->o.batch_max;
  vast__hit **batch = malloc(cap * sizeof *batch);
  int *woke = calloc(c->nworkers, sizeof *woke);
  for (;;) {
    pthread_mutex_lock(&c->qmu);
    while (!c->qhead && !c->writer_quit)
      if (cond_wait_ms(&c->qcv, &c->qmu, DB_CHECK_MS) != 0) {
        pthread_mutex_unlock(&c->qmu);
        vast__db_check(c);
        pthread_mutex_lock(&c->qmu);
      }
    int empty = !c->qhead;
    pthread_mutex_unlock(&c->qmu);
    if (empty || !batch || !woke) break; /* out of memory at start: hits stay queued */
    size_t n = take_batch(c, batch, cap);
    commit_batch(c, batch, n, woke);
  }
  free(batch);
  free(woke);
  return NULL;
}

/*
 * Journal mode, run by each event loop just before it polls (so after every
 * read callback of the iteration has queued its hits): the worker writes its
 * own hits to its journal with one write(), which makes them durable, marks
 * them stored and answers them right here, then hands them to the loader
 * (one lock, no wake-up while the loader is busy). No other thread is waited
 * for or woken on this path. Answering may parse pipelined requests that
 * were waiting, which queue new hits: hence the loop. Last, the idle journal
 * file is truncated once the loader has put all of it into SQLite.
 *
 * Any event loop must call this once per iteration, after handling what the
 * poll returned and before polling again (libuv: the uv_prepare below).
 */
void vast__worker_journal(worker *w) {
  vast_collector *c = w->c;
  while (w->ln) {
    vast__hit *head = w->lhead, **tail = w->ltail;
    size_t n = w->ln;
    w->lhead = NULL;
    w->ltail = &w->lhead;
    w->ln = 0;
    char msg[512];
    uint64_t t0 = uv_hrtime();
    vast_err e = vast__journal_append(w->jr, head, n, msg, sizeof msg);
    uint64_t dt = uv_hrtime() - t0;
    histo_add(&c->commit, LAT_B, NLAT, (double)dt / 1e9, dt);
    histo_add(&c->batch, BATCH_B, NBATCH, (double)n, n);
    atomic_fetch_add_explicit(&c->batches, 1, memory_order_relaxed);
    if (e == VAST_OK) {
      pthread_mutex_lock(&c->emu);
      for (vast__hit *h = head; h; h = h->next) {
        atomic_store_explicit(&h->state, VAST__HIT_OK, memory_order_relaxed);
        count_hit(c, h);
      }
      pthread_mutex_unlock(&c->emu);
      atomic_fetch_add_explicit(&c->stored, n, memory_order_relaxed);
      pthread_mutex_lock(&c->qmu);
      *c->qtail = head;
      c->qtail = tail;
      atomic_fetch_add_explicit(&c->qlen, n, memory_order_relaxed);
      if (c->loader_idle) {
        c->loader_idle = 0;
        pthread_cond_signal(&c->qcv);
      }
      pthread_mutex_unlock(&c->qmu);
    } else {
      vast__clog(c, "cannot journal %zu hits (answered 503): %s", n, msg);
      atomic_fetch_add_explicit(&c->failed, n, memory_order_relaxed);
      for (vast__hit *h = head, *nx; h; h = nx) {
        nx = h->next;
        atomic_store_explicit(&h->state, VAST__HIT_FAILED, memory_order_relaxed);
        vast__hit_unref(h);
      }
    }
    atomic_fetch_sub_explicit(&w->inflight, (int)n, memory_order_relaxed);
    for (conn *k = w->waiting, *nx; k; k = nx) {
      nx = k->wnext;
      vast__conn_flush(k);
    }
  }
  vast__journal_rotate(w->jr, atomic_load_explicit(&c->loaded_seq[w->idx], memory_order_acquire));
  vast__worker_maybe_finish(w);
}
