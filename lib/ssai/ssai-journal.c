/*
 * ssai-journal.c: the SSAI service's journal (DIR/beacons.journal). Every
 * beacon is written (D) when it becomes due and marked (A answered, F
 * failed, E expired); sessions (S), their breaks (B) and each ad's position
 * (P) go in the same file; X ends a session. The journal thread flushes and
 * fdatasync()s once per wake-up (group commit) and only then lets the
 * pipeline send what was written. At start, recovery rebuilds the sessions
 * (their breaks from the documents saved in DIR/breaks) and queues the
 * beacons never marked; a compacted journal replaces the old one, and again
 * whenever it grows past journal_max_bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "net/net-int.h"
#include "ssai/ssai-core.h"

/* ---- journal lines ------------------------------------------------------------ */

/*
 * Lines are formatted by hand into the journal's buffer (no stdio, no locale:
 * fprintf's %f was the largest user-space cost of a beacon at 100,000
 * sessions). Numbers: decimal integers, and seconds with three decimals.
 */
static void put(vast__buf *b, const char *s) {
  vast__buf_write(b, s, strlen(s));
}

static void put_c(vast__buf *b, char c) {
  vast__buf_write(b, &c, 1);
}

static void put_u(vast__buf *b, uint64_t v) {
  char t[24], *p = t + sizeof t;
  do
    *--p = (char)('0' + v % 10);
  while (v /= 10);
  vast__buf_write(b, p, (size_t)(t + sizeof t - p));
}

static void put_i(vast__buf *b, long v) {
  if (v < 0) put_c(b, '-');
  put_u(b, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
}

/* v with three decimals, as %.3f (recovery reads it with strtod). */
static void put_s3(vast__buf *b, double v) {
  if (!isfinite(v)) v = 0;
  if (v < 0) put_c(b, '-'), v = -v;
  uint64_t ms = (uint64_t)llround(v * 1000.0);
  put_u(b, ms / 1000);
  char f[4] = {'.', (char)('0' + ms / 100 % 10), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10)};
  vast__buf_write(b, f, 4);
}

static void put_t(vast__buf *b, const char *s) { /* a TAB, then s (NULL: empty) */
  put_c(b, '\t');
  if (s) put(b, s);
}

/* The bytes a line appended since `from` (-1 once the buffer failed). */
static int line_end(vast__buf *b, size_t from) {
  put_c(b, '\n');
  return b->fail ? -1 : (int)(b->n - from);
}

void vast__ssai_jline_mark(vast_ssai *s, char what, uint64_t jid, long status) {
  if (!s->journal) return;
  vast__buf *b = s->journal;
  size_t from = b->n;
  put_c(b, what);
  put_c(b, '\t');
  put_u(b, jid);
  put_c(b, '\t');
  put_i(b, status);
  int n = line_end(b, from);
  if (n > 0) s->jbytes += (uint64_t)n;
  /* not signalled: the journal thread flushes marks within 5 ms (a mark lost
     to a crash only repeats that beacon) */
}

static int jline_due_to(vast__buf *w, const bcn *b, uint64_t bid, const char *key,
                        const vast_device *d) {
  size_t from = w->n;
  put_c(w, 'D');
  put_c(w, '\t');
  put_u(w, b->jid);
  put_c(w, '\t');
  put_u(w, bid);
  put_t(w, key);
  put_c(w, '\t');
  put_s3(w, b->due);
  put_c(w, '\t');
  put_s3(w, b->deadline);
  put_t(w, d->ip);
  put_t(w, d->user_agent);
  put_t(w, d->referer);
  put_t(w, d->accept_language);
  put_t(w, d->requested_with);
  put_c(w, '\t');
  put_i(w, d->forwarded_for);
  put_t(w, b->event);
  put_t(w, b->url);
  return line_end(w, from);
}

void vast__ssai_jline_due(vast_ssai *s, const bcn *b, uint64_t bid, const char *key,
                          const vast_device *d) {
  if (!s->journal) return;
  int n = jline_due_to(s->journal, b, bid, key, d);
  if (n > 0) s->jbytes += (uint64_t)n;
  s->jseq++;
}

/*
 * Session state lines, in the same journal and the same group commit as the
 * beacons (so a position is on disk whenever a beacon it caused is):
 *   S id ip ua referer lang requested-with   a session (device values have no TAB)
 *   B id break key n-ads                     a break (key: DIR/breaks/KEY; 0: over)
 *   P id ad position started done           an ad's state after a report or event
 *   X id                                     the session ended
 */
int vast__ssai_jl_session_to(vast__buf *b, const char *id, const vast_device *d) {
  size_t from = b->n;
  put_c(b, 'S');
  put_t(b, id);
  put_t(b, d->ip);
  put_t(b, d->user_agent);
  put_t(b, d->referer);
  put_t(b, d->accept_language);
  put_t(b, d->requested_with);
  return line_end(b, from);
}

int vast__ssai_jl_break_to(vast__buf *b, const char *id, unsigned brk, uint64_t key, unsigned n) {
  size_t from = b->n;
  char hex[17];
  for (int i = 0; i < 16; i++)
    hex[i] = "0123456789abcdef"[(key >> (60 - 4 * i)) & 15];
  hex[16] = 0;
  put_c(b, 'B');
  put_t(b, id);
  put_c(b, '\t');
  put_u(b, brk);
  put_t(b, hex);
  put_c(b, '\t');
  put_u(b, n);
  return line_end(b, from);
}

int vast__ssai_jl_pos_to(vast__buf *b, const char *id, size_t ad, double pos, int started,
                         int done) {
  size_t from = b->n;
  put_c(b, 'P');
  put_t(b, id);
  put_c(b, '\t');
  put_u(b, ad);
  put_c(b, '\t');
  put_s3(b, pos);
  put(b, started ? "\t1" : "\t0");
  put(b, done ? "\t1" : "\t0");
  return line_end(b, from);
}

int vast__ssai_jl_end_to(vast__buf *b, const char *id) {
  size_t from = b->n;
  put_c(b, 'X');
  put_t(b, id);
  return line_end(b, from);
}

void vast__ssai_jl_account(vast_ssai *s, int n) {
  if (n > 0) s->jbytes += (uint64_t)n;
  s->jseq++;
  pthread_cond_signal(&s->jwake);
}

uint64_t vast__ssai_journal_seq(vast_ssai *s, int synced) {
  pthread_mutex_lock(&s->mu);
  uint64_t v = !s->journal ? 0 : synced ? s->jseq_synced : s->jseq;
  pthread_mutex_unlock(&s->mu);
  return v;
}

void vast__ssai_sync_notify(vast_ssai *s, int fd) {
  pthread_mutex_lock(&s->mu);
  s->sync_fd = fd;
  pthread_mutex_unlock(&s->mu);
}

vast_err vast_ssai_sync(vast_ssai *s, long timeout_ms) {
  if (!s) return VAST_E_INVAL;
  uint64_t want = vast__ssai_journal_seq(s, 0);
  double end = vast__wall() + (double)timeout_ms / 1000.0;
  while (vast__ssai_journal_seq(s, 1) < want) {
    if (timeout_ms >= 0 && vast__wall() >= end) return VAST_E_TIMEOUT;
    usleep(500);
  }
  return VAST_OK;
}

/* Writes the state of session x (S, its breaks, the positions of its ads). */
static int jl_session_state(vast__buf *f, const session *x) {
  int n = vast__ssai_jl_session_to(f, x->id, &x->dev->d), bad = n < 0;
  for (unsigned i = 0; i < x->n_ads;) {
    unsigned j = i, brk = x->ads[i].brk;
    while (j < x->n_ads && x->ads[j].brk == brk)
      j++;
    n = vast__ssai_jl_break_to(f, x->id, brk, x->ads[i].b ? x->ads[i].b->key : 0, j - i);
    bad |= n < 0;
    for (unsigned k = i; k < j; k++)
      if (x->ads[k].b && (x->ads[k].started || x->ads[k].done))
        bad |=
            vast__ssai_jl_pos_to(f, x->id, k, x->ads[k].pos, x->ads[k].started, x->ads[k].done) < 0;
    i = j;
  }
  return bad ? -1 : 0;
}

static int bcn_cmp(const void *a, const void *b) {
  uint64_t x = (*(bcn *const *)a)->jid, y = (*(bcn *const *)b)->jid;
  return x < y ? -1 : x > y;
}

/* Writes n bytes to fd, whole: 0, or -1. */
static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/*
 * The journal rewrite, once the journal grew past journal_max_bytes, so it
 * stays about as large as the live state; it never stops the service for
 * longer than a slice of sessions. The journal thread runs it one step per
 * round, between its writes and syncs, which go on as usual:
 *
 *   start   (under the lock, brief) the D lines of every beacon not settled,
 *           from the live batches in id order; a cursor, a marker node, at the
 *           front of the list of sessions; from here every line written to
 *           the journal is also kept (rw_since);
 *   slices  (under the lock, RW_SLICE sessions each) the S, B and P lines of
 *           the sessions after the cursor not written yet, the cursor moving
 *           on; a session made active again goes behind it, and is not
 *           written twice (rw_mark);
 *   write   (a thread of its own) that snapshot to DIR/beacons.journal.new,
 *           fsync()ed, while the journal thread goes on writing the old file;
 *   switch  (the journal thread) the lines kept since the start appended to
 *           the new file, fsync(), rename() over the journal, and the journal
 *           goes on in it.
 *
 * Replaying the new file gives the live state: the snapshot's lines for a
 * session are of some instant after the start, and every change since the
 * start is in the lines that follow; those lines are idempotent over the
 * snapshot (an S for a session there, a B for a break it has, are skipped; a
 * P is absolute; a D already written is skipped as out of order by recovery).
 * A rewrite that fails leaves the old journal, complete, in use.
 */
#define RW_SLICE 1000

static void rw_reset(vast_ssai *s) {
  if (s->rw_cursor) {
    vast__ssai_list_unlink(s, s->rw_cursor);
    free(s->rw_cursor);
    s->rw_cursor = NULL;
  }
  vast__buf_free(&s->rw_snap);
  vast__buf_free(&s->rw_since);
  s->rw_state = 0;
}

/* Under the lock: the pending beacons' D lines, the cursor, the keeping on. */
static void rw_start(vast_ssai *s) {
  size_t cnt = 0, k2 = 0;
  for (batch *b = s->live_head; b; b = b->lnext)
    for (int k = 0; k < 2; k++)
      for (bcn *x = k ? b->retry : b->list; x; x = x->next)
        cnt++;
  bcn **all = cnt ? malloc(cnt * sizeof *all) : NULL;
  session *c = calloc(1, sizeof *c + 1); /* id "": found by nobody */
  if ((cnt && !all) || !c) {
    free(all);
    free(c);
    s->jbytes = 0; /* try again after as many bytes */
    return;
  }
  for (batch *b = s->live_head; b; b = b->lnext)
    for (int k = 0; k < 2; k++)
      for (bcn *x = k ? b->retry : b->list; x; x = x->next)
        all[k2++] = x;
  if (cnt) qsort(all, cnt, sizeof *all, bcn_cmp);
  memset(&s->rw_snap, 0, sizeof s->rw_snap);
  memset(&s->rw_since, 0, sizeof s->rw_since);
  for (size_t i = 0; i < cnt; i++)
    jline_due_to(&s->rw_snap, all[i], all[i]->bt->bid, all[i]->bt->q->key, &all[i]->bt->q->dev->d);
  free(all);
  c->last = INFINITY; /* the idle scan stops at it */
  vast__ssai_list_insert_before(s, c, s->all);
  s->rw_cursor = c;
  if (++s->rw_gen == 0) s->rw_gen = 1;
  s->rw_state = 1;
}

/* Under the lock: the next slice of sessions; 1 once every session is written. */
static int rw_slice(vast_ssai *s) {
  session *c = s->rw_cursor, *x = c->next;
  size_t done = 0, seen = 0;
  while (x && done < RW_SLICE && seen < 8 * RW_SLICE) {
    seen++;
    if (x->rw_mark != s->rw_gen) {
      x->rw_mark = s->rw_gen;
      jl_session_state(&s->rw_snap, x);
      done++;
    }
    x = x->next;
  }
  vast__ssai_list_unlink(s, c);
  if (!x) {
    free(c);
    s->rw_cursor = NULL;
    return 1;
  }
  vast__ssai_list_insert_before(s, c, x);
  return 0;
}

/* Writes n bytes to fd by slices, each written back to the disk before the
   next (sync_file_range: data only, no cache flush), with a pause between:
   one large write and fsync() would hold the disk for the journal's own
   fdatasync() calls, and the beacons waiting for them, for 100 ms. */
static int write_gently(int fd, const char *p, size_t n) {
  const size_t slice = (size_t)512 << 10;
  for (size_t off = 0; off < n; off += slice) {
    size_t k = n - off < slice ? n - off : slice;
    if (write_all(fd, p + off, k) != 0) return -1;
    sync_file_range(fd, (off64_t)off, (off64_t)k,
                    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                        SYNC_FILE_RANGE_WAIT_AFTER);
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  return 0;
}

static void *rw_writer(void *arg) {
  vast_ssai *s = arg;
  int ok = !s->rw_snap.fail &&
           write_gently(s->rw_fd, s->rw_snap.p ? s->rw_snap.p : "", s->rw_snap.n) == 0 &&
           fsync(s->rw_fd) == 0;
  s->rw_ok = ok;
  atomic_store(&s->rw_done, 1);
  pthread_cond_signal(&s->jwake);
  return NULL;
}

static char *rw_tmp_path(vast_ssai *s) {
  size_t pl = strlen(s->journal_path) + 5;
  char *p = malloc(pl);
  if (p) snprintf(p, pl, "%s.new", s->journal_path);
  return p;
}

/* Under the lock: the snapshot is complete; its file is written by a thread. */
static void rw_write(vast_ssai *s) {
  char *tmp = rw_tmp_path(s);
  s->rw_fd = tmp ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600) : -1;
  free(tmp);
  atomic_store(&s->rw_done, 0);
  if (s->rw_fd < 0 || pthread_create(&s->rw_thr, NULL, rw_writer, s) != 0) {
    if (s->rw_fd >= 0) close(s->rw_fd);
    s->rw_fd = -1;
    s->st2.journal_errors++;
    s->jbytes = 0;
    rw_reset(s);
    return;
  }
  s->rw_state = 2;
}

static void *closer(void *arg) {
  close((int)(intptr_t)arg);
  return NULL;
}

/* Closes the replaced journal on a thread of its own: the last close of an
   unlinked 64 MiB file frees its blocks, 45-55 ms measured here, which the
   journal thread must not wait for (nor the beacons waiting for its syncs). */
static void close_aside(int fd) {
  pthread_t t;
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&t, &a, closer, (void *)(intptr_t)fd) != 0) close(fd);
  pthread_attr_destroy(&a);
}

/* With the lock, which it lets go while it writes: the snapshot's file is
   written; the lines kept since the start follow it, then it replaces the
   journal. */
static void rw_switch(vast_ssai *s) {
  pthread_join(s->rw_thr, NULL);
  int ok = s->rw_ok, nfd = s->rw_fd;
  char *tmp = rw_tmp_path(s);
  pthread_mutex_unlock(&s->mu);
  ok = ok && tmp && !s->rw_since.fail &&
       write_all(nfd, s->rw_since.p ? s->rw_since.p : "", s->rw_since.n) == 0 && fsync(nfd) == 0 &&
       rename(tmp, s->journal_path) == 0;
  if (!ok) {
    close(nfd);
    if (tmp) unlink(tmp);
  }
  free(tmp);
  pthread_mutex_lock(&s->mu);
  if (ok) {
    close_aside(s->jfd);
    s->jfd = nfd;
    s->jbytes = s->rw_snap.n + s->rw_since.n;
    s->st.compactions++;
  } else {
    s->st2.journal_errors++;
    s->jbytes = 0; /* try again after as many bytes */
  }
  s->rw_fd = -1;
  rw_reset(s);
}

/* One step of the rewrite, under the lock (the journal thread, each round). */
static void rw_step(vast_ssai *s) {
  if (s->rw_state == 0 && s->jbytes > s->o.journal_max_bytes)
    rw_start(s);
  else if (s->rw_state == 1 && rw_slice(s))
    rw_write(s);
  else if (s->rw_state == 2 && atomic_load(&s->rw_done))
    rw_switch(s);
}

/* The journal thread is stopping: a rewrite under way is dropped. */
static void rw_abandon(vast_ssai *s) {
  if (s->rw_state == 2) {
    pthread_join(s->rw_thr, NULL);
    close(s->rw_fd);
    s->rw_fd = -1;
    char *tmp = rw_tmp_path(s);
    if (tmp) unlink(tmp);
    free(tmp);
  }
  rw_reset(s);
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
vast_err vast__ssai_recover(vast_ssai *s, char *msg, size_t cap) {
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
      dev_ref *dr = vast__ssai_dev_new(&d);
      if (!dr) goto nomem_w;
      q = vast__ssai_seq_new(s, dr);
      vast__ssai_dev_unref(dr);
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
      vast__ssai_batch_link(s, b);
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
    c->host = vast__ssai_host_slot_of(s, c->url);
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
    vast__ssai_ready_push(s, z);
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
  s->jfd = open(s->journal_path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (s->jfd < 0) {
    snprintf(msg, cap, "cannot open '%s': %s", s->journal_path, strerror(errno));
    return VAST_E_IO;
  }
  s->journal = &s->jb[0];
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

/* ---- the documents of a break, on disk ------------------------------------------ */

/*
 * Removes the files of the breaks freed while running, once the journal is
 * on disk past their release: a restart before that still finds the file
 * for the ad it may bring back. A break of the same key cached again
 * meanwhile (another session resolved the same documents) keeps its file.
 * Under the lock.
 */
void vast__ssai_gone_sweep(vast_ssai *s) {
  size_t k = 0;
  for (size_t i = 0; i < s->n_gone; i++) {
    struct brk_gone g = s->gone[i];
    if (g.seq > s->jseq_synced) {
      s->gone[k++] = g;
      continue;
    }
    int cached = 0;
    for (vast__ssai_brk *b = s->brk_tab[g.key % BRK_SLOTS]; b; b = b->hnext)
      cached |= b->key == g.key;
    if (cached) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/breaks/%016llx", s->state_dir, (unsigned long long)g.key);
    unlink(path);
  }
  s->n_gone = k;
}

/*
 * DIR/breaks/KEY holds what resolving the break fetched, so a restart can
 * build the same break without fetching anything: "VASTRACK-BREAK 1 url|doc
 * N", then per hop "H status err has-doc length url", the document's bytes
 * and a newline; a VMAP break's own tracking follows (vast__ssai_bev_write). Written once per break
 * (the first session to resolve it), synced before the journal's B line can be.
 */
int vast__ssai_brk_save(vast_ssai *s, const vast__ssai_brk *b, int root_url) {
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
  bad |= vast__ssai_bev_write(f, &b->bev) != 0; /* a VMAP break's own tracking */
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
  vast__ssai_brk *b = vast__ssai_brk_find(s, key, 0);
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
  vast__ssai_bev ev = {0}; /* a VMAP break's own tracking, when saved */
  if (ok && vast__ssai_bev_read(f, &ev) != 0) ok = 0;
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
      const char *base = strcmp(r.h[0].url, "-") ? r.h[0].url : NULL; /* a VMAP's URL */
      rc = vast_resolve_buffer(r.h[0].body, r.h[0].len, base, &ro, &chain, NULL);
    }
    if (rc == VAST_OK && (b = vast__ssai_brk_new(chain))) {
      b->key = key;
      b->bev = ev;
      memset(&ev, 0, sizeof ev);
      if (strcmp(kind, "url") != 0 && nh == 1)
        b->in_key = vast__ssai_hash(r.h[0].body, r.h[0].len, 1469598103934665603ull) | 1;
      vast__ssai_brk_insert(s, b);
    } else if (rc != VAST_OK) {
      vast_chain_free(chain);
    }
  }
  for (size_t i = 0; r.h && i < nh; i++)
    free(r.h[i].url), free(r.h[i].body);
  free(r.h);
  vast__ssai_bev_clear(&ev);
  return b;
}

/*
 * The journal thread: group commit. Every beacon's D line is written when it
 * becomes due (under the lock, into the stdio buffer); this thread flushes
 * the buffer and fdatasync()s the file (without the lock: the API and the
 * dispatcher go on), then lets vast__ssai_pump() send every batch whose lines are now on
 * disk. It wakes when a batch is queued, else every 5 ms (the marks of
 * answered beacons are flushed then too; losing a mark only sends a beacon
 * again). Compaction happens here too, so the file is never swapped under a
 * sync.
 */
void *vast__ssai_journal_main(void *arg) {
  vast_ssai *s = arg;
  pthread_mutex_lock(&s->mu);
  while (!s->jstop) {
    vast__ssai_settle(s);
    if (s->jseq_synced >= s->jseq && !s->journal->n && s->rw_state != 1) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 5000000;
      if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
      pthread_cond_timedwait(&s->jwake, &s->mu, &ts);
      if (s->jstop) break;
      vast__ssai_settle(s);
    }
    uint64_t target = s->next_jid, target_seq = s->jseq;
    int need_sync = target_seq > s->jseq_synced;
    vast__buf *w = s->journal;
    s->journal = w == &s->jb[0] ? &s->jb[1] : &s->jb[0];
    int fd = s->jfd, keep = s->rw_state == 1 || s->rw_state == 2;
    pthread_mutex_unlock(&s->mu);
    int bad = w->fail || write_all(fd, w->p ? w->p : "", w->n) != 0;
    if (keep && w->n) vast__buf_write(&s->rw_since, w->p, w->n); /* the rewrite's */
    if (w->fail) { /* out of memory formatting: what it had is lost, say so */
      vast__buf_free(w);
      *w = (vast__buf){0};
    }
    w->n = 0;
    if (need_sync && fdatasync(fd) != 0) bad = 1;
    pthread_mutex_lock(&s->mu);
    if (bad) s->st2.journal_errors++;
    if (need_sync) {
      s->jid_synced = target; /* a failed sync is counted, not retried forever */
      s->jseq_synced = target_seq;
      s->st2.journal_syncs++;
      vast__ssai_pump(s);
      vast__ssai_gone_sweep(s);
      if (s->sync_fd >= 0) { /* a full pipe already says it */
        ssize_t k = write(s->sync_fd, "s", 1);
        (void)k;
      }
    }
    rw_step(s);
  }
  rw_abandon(s);
  vast__ssai_settle(s);
  /* what is left goes to the file (the service is closing: no sync wanted
     beyond what was acknowledged, but nothing is thrown away) */
  if (s->journal->n && write_all(s->jfd, s->journal->p, s->journal->n) != 0)
    s->st2.journal_errors++;
  s->journal->n = 0;
  pthread_mutex_unlock(&s->mu);
  return NULL;
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
  session *x = n >= 2 ? vast__ssai_find(s, f[1]) : NULL;
  if (line[0] == 'S' && n == 7 && !x && vast__ssai_id_ok(f[1])) {
    vast_device d = {
        sizeof d, f[2], f[3], *f[4] ? f[4] : NULL, *f[5] ? f[5] : NULL, *f[6] ? f[6] : NULL, 0};
    if (vast__ssai_dev_ok(&d)) vast__ssai_session_add(s, f[1], &d);
  } else if (line[0] == 'B' && n == 5 && x) {
    unsigned brk = (unsigned)strtoul(f[2], NULL, 10), nads = (unsigned)strtoul(f[4], NULL, 10);
    uint64_t key = strtoull(f[3], NULL, 16);
    if (brk != x->n_breaks || nads > 10000) return;
    vast__ssai_brk *b = key ? brk_load(s, key) : NULL;
    if (b && b->n_ads != nads) {
      vast__ssai_brk_unref(s, b, 1);
      b = NULL;
    }
    if (x->n_ads + nads > x->cap_ads) {
      unsigned c2 = x->cap_ads ? x->cap_ads : 2;
      while (c2 < x->n_ads + nads)
        c2 *= 2;
      ssai_ad *na = realloc(x->ads, c2 * sizeof *na);
      if (!na) {
        if (b) vast__ssai_brk_unref(s, b, 1);
        return;
      }
      s->mem += (c2 - x->cap_ads) * sizeof *na;
      x->ads = na, x->cap_ads = c2;
    }
    x->n_breaks++;
    for (unsigned i = 0; i < nads; i++) {
      ssai_ad *a = &x->ads[x->n_ads++];
      memset(a, 0, sizeof *a);
      a->brk = brk;
      a->done = 1; /* until its tracker is made */
      if (!b ||
          vast_tracker_create(b->ads[i].plan, &s->mc, vast__ssai_on_beacon, s, &a->t) != VAST_OK)
        continue;
      s->mem += vast_tracker_memory();
      vast_tracker_set_trusted_positions(a->t, 1);
      a->duration = b->ads[i].duration;
      a->b = b;
      a->done = 0;
      b->refs++;
    }
    if (b) vast__ssai_brk_unref(s, b, 1); /* the ads hold their own references */
  } else if (line[0] == 'P' && n == 6 && x) {
    unsigned long ad = strtoul(f[2], NULL, 10);
    if (ad >= x->n_ads || !x->ads[ad].b) return;
    x->ads[ad].pos = strtod(f[3], NULL);
    x->ads[ad].started = f[4][0] == '1';
    x->ads[ad].done = f[5][0] == '1';
  } else if (line[0] == 'X' && x) {
    for (size_t i = 0; i < x->n_ads; i++)
      x->ads[i].started = 0; /* not counted open yet */
    vast__ssai_session_end(s, x);
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
  vast__buf lines = {0};
  s->replaying = 1;
  int bad = 0;
  for (session *x = s->all; x; x = x->next) {
    vast__ssai_macro_ctx_for(s, x);
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
      if (x->ads[i].done && x->ads[i].b) vast__ssai_ad_ended(s, x, i);
    bad |= jl_session_state(&lines, x) != 0;
    s->st2.sessions_restored++;
  }
  s->replaying = 0;
  if (lines.n && fwrite(lines.p, 1, lines.n, w) != lines.n) bad = 1;
  vast__buf_free(&lines);
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
    session *x = vast__ssai_find(s, id);
    unsigned long ad = strtoul(sl + 1, NULL, 10);
    if (!x || ad >= x->n_ads || !x->ads[ad].b || x->ads[ad].q) continue;
    x->ads[ad].q = q;
    q->orphan = 0;
  }
}
