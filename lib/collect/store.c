/*
 * store.c: the collector's SQLite sink.
 *
 * One connection, used only by the writer thread (in journal mode: the
 * loader, and recovery at start). WAL journal, prepared statements, one
 * transaction per batch (group commit: every hit that queued up while the
 * previous batch committed goes into the next one). Each batch inserts the
 * raw hits, INS_ROWS per statement step, upserts the per-minute rollup,
 * aggregated in memory first so a batch of N hits of one ad and event costs
 * one upsert, and raises journal_state (the highest journal seq loaded per
 * worker) in the same transaction, which makes journal replay exactly-once.
 *
 * Checkpoints run on a thread of their own with a second connection: when
 * the WAL passes CKPT_BG frames the writer signals it and goes on committing
 * while the checkpointer copies pages into the database (PASSIVE: it never
 * blocks the writer). Only past CKPT_INLINE frames (the background thread
 * could not catch up) does the writer checkpoint the rest itself, which also
 * lets SQLite start the WAL over. Before, the writer checkpointed every 4000
 * frames itself, holding up every unanswered durable hit for tens of ms.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collect/collect-int.h"

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS hits(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  t_ms INTEGER NOT NULL,\n"
    "  event TEXT NOT NULL,\n"
    "  ad TEXT, cr TEXT, sid TEXT, code INTEGER,\n"
    "  ip TEXT, ua TEXT, device_ip TEXT, device_ua TEXT, device TEXT, query TEXT);\n"
    "CREATE TABLE IF NOT EXISTS rollup(\n"
    "  ad TEXT NOT NULL, event TEXT NOT NULL, minute INTEGER NOT NULL,\n"
    "  n INTEGER NOT NULL, PRIMARY KEY(ad, event, minute)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS journal_state(\n"
    "  worker INTEGER PRIMARY KEY, seq INTEGER NOT NULL);\n";

enum { CKPT_BG = 4000, CKPT_INLINE = 16000 };

/* Rows per multi-row INSERT: one statement step for INS_ROWS hits. */
enum { INS_ROWS = 64, INS_COLS = 12 };

struct vast__store {
  sqlite3 *db;
  sqlite3_stmt *ins, *insm, *roll, *begin, *commit, *rollback, *jset, *jget;
  sqlite3 *cdb; /* the checkpointer's connection */
  pthread_t ckpt;
  int ckpt_started, ckpt_want, ckpt_quit;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int have_id; /* the database is a file: dev/ino below identify it */
  dev_t dev;
  ino_t ino;
};

static void *ckpt_main(void *arg) {
  vast__store *s = arg;
  for (;;) {
    pthread_mutex_lock(&s->mu);
    while (!s->ckpt_want && !s->ckpt_quit)
      pthread_cond_wait(&s->cv, &s->mu);
    int quit = s->ckpt_quit;
    s->ckpt_want = 0;
    pthread_mutex_unlock(&s->mu);
    if (quit) break;
    /* Copy what is there without stopping the writer, then the short tail
       written meanwhile with the writer held off (RESTART), so the next
       transaction starts the WAL over instead of growing it. */
    sqlite3_wal_checkpoint_v2(s->cdb, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    sqlite3_wal_checkpoint_v2(s->cdb, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
  }
  return NULL;
}

/* Called by SQLite after each commit with the WAL's size in frames. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int nframe) {
  vast__store *s = arg;
  if (nframe >= CKPT_INLINE || (nframe >= CKPT_BG && !s->ckpt_started)) {
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  } else if (nframe >= CKPT_BG) {
    pthread_mutex_lock(&s->mu);
    s->ckpt_want = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
  }
  return SQLITE_OK;
}

static void set_msg(char *msg, size_t cap, const char *what, sqlite3 *db) {
  if (msg && cap) snprintf(msg, cap, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

vast_err vast__store_open(const char *path, int sync_full, vast__store **out, char *msg,
                          size_t msgcap) {
  *out = NULL;
  vast__store *s = calloc(1, sizeof *s);
  if (!s) return VAST_E_NOMEM;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  int rc = sqlite3_open_v2(path, &s->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    set_msg(msg, msgcap, path, s->db);
    vast__store_close(s);
    return VAST_E_DB;
  }
  sqlite3_busy_timeout(s->db, 5000);
  char sql[512];
  snprintf(sql, sizeof sql, "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;",
           sync_full ? "FULL" : "NORMAL");
  char insm[128 + INS_ROWS * (INS_COLS * 2 + 3)];
  size_t il = (size_t)snprintf(insm, sizeof insm,
                               "INSERT INTO hits(t_ms,event,ad,cr,sid,code,ip,ua,device_ip,"
                               "device_ua,device,query) VALUES");
  for (int r = 0; r < INS_ROWS; r++)
    il +=
        (size_t)snprintf(insm + il, sizeof insm - il, "%s(?,?,?,?,?,?,?,?,?,?,?,?)", r ? "," : "");
  if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_exec(s->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(s->db,
                         "INSERT INTO hits(t_ms,event,ad,cr,sid,code,ip,ua,device_ip,"
                         "device_ua,device,query) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                         -1, &s->ins, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(s->db, insm, -1, &s->insm, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(s->db,
                         "INSERT INTO rollup(ad,event,minute,n) VALUES(?,?,?,?) "
                         "ON CONFLICT(ad,event,minute) DO UPDATE SET n=n+excluded.n",
                         -1, &s->roll, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(s->db, "BEGIN IMMEDIATE", -1, &s->begin, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(s->db, "COMMIT", -1, &s->commit, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(s->db, "ROLLBACK", -1, &s->rollback, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(s->db,
                         "INSERT INTO journal_state(worker,seq) VALUES(?,?) "
                         "ON CONFLICT(worker) DO UPDATE SET seq=max(seq,excluded.seq)",
                         -1, &s->jset, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(s->db, "SELECT seq FROM journal_state WHERE worker=?", -1, &s->jget,
                         NULL) != SQLITE_OK) {
    set_msg(msg, msgcap, path, s->db);
    vast__store_close(s);
    return VAST_E_DB;
  }
  /* Replaces SQLite's own autocheckpoint. Without a second connection (or a
     thread) the writer checkpoints at CKPT_BG itself, as SQLite would. */
  sqlite3_wal_hook(s->db, wal_hook, s);
  const char *fn = sqlite3_db_filename(s->db, "main");
  struct stat st;
  if (fn && *fn && stat(fn, &st) == 0) {
    s->have_id = 1;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
  }
  if (fn && *fn &&
      sqlite3_open_v2(fn, &s->cdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) ==
          SQLITE_OK &&
      sqlite3_busy_timeout(s->cdb, 1000) == SQLITE_OK &&
      sqlite3_exec(s->cdb, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) == SQLITE_OK &&
      pthread_create(&s->ckpt, NULL, ckpt_main, s) == 0)
    s->ckpt_started = 1;
  *out = s;
  return VAST_OK;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
  if (v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}

static int step_reset(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* One rollup cell being aggregated for the current batch. */
typedef struct cell {
  const char *ad, *event;
  int64_t minute;
  int64_t n;
} cell;

static int cell_same(const cell *c, const vast__hit *h, int64_t minute) {
  const char *ad = h->ad ? h->ad : "";
  return c->minute == minute && strcmp(c->ad, ad) == 0 && strcmp(c->event, h->event) == 0;
}

vast_err vast__store_write(vast__store *s, vast__hit **hits, size_t n, const vast__jseq *js,
                           size_t njs, char *msg, size_t msgcap) {
  if (n == 0 && njs == 0) return VAST_OK;
  /* Aggregate rollup cells with a small open-addressing table. */
  size_t cap = 64;
  while (cap < n * 2)
    cap *= 2;
  cell *cells = calloc(cap, sizeof *cells);
  if (!cells) return VAST_E_NOMEM;
  if (step_reset(s->begin) != SQLITE_OK) goto fail;
  for (size_t i = 0; i < n; i++) {
    const vast__hit *h = hits[i];
    /* INS_ROWS rows per step up to the last whole group, then one by one. */
    sqlite3_stmt *st = s->ins;
    int b = 0;
    if (i < n - n % INS_ROWS) {
      st = s->insm;
      b = (int)(i % INS_ROWS) * INS_COLS;
    }
    sqlite3_bind_int64(st, b + 1, h->t_ms);
    bind_text(st, b + 2, h->event);
    bind_text(st, b + 3, h->ad);
    bind_text(st, b + 4, h->cr);
    bind_text(st, b + 5, h->sid);
    if (h->code >= 0)
      sqlite3_bind_int(st, b + 6, h->code);
    else
      sqlite3_bind_null(st, b + 6);
    bind_text(st, b + 7, h->ip);
    bind_text(st, b + 8, h->ua);
    bind_text(st, b + 9, h->device_ip);
    bind_text(st, b + 10, h->device_ua);
    bind_text(st, b + 11, h->device);
    bind_text(st, b + 12, h->query);
    if ((st == s->ins || i % INS_ROWS == INS_ROWS - 1) && step_reset(st) != SQLITE_OK) goto fail;
    int64_t minute = h->t_ms / 60000;
    const char *ad = h->ad ? h->ad : "";
    uint64_t hv = 1469598103934665603ull ^ (uint64_t)minute;
    for (const char *p = ad; *p; p++)
      hv = (hv ^ (unsigned char)*p) * 1099511628211ull;
    for (const char *p = h->event; *p; p++)
      hv = (hv ^ (unsigned char)*p) * 1099511628211ull;
    size_t k = (size_t)hv & (cap - 1);
    while (cells[k].event && !cell_same(&cells[k], h, minute))
      k = (k + 1) & (cap - 1);
    if (!cells[k].event) cells[k] = (cell){ad, h->event, minute, 0};
    cells[k].n++;
  }
  for (size_t k = 0; k < cap; k++) {
    if (!cells[k].event) continue;
    sqlite3_bind_text(s->roll, 1, cells[k].ad, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->roll, 2, cells[k].event, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->roll, 3, cells[k].minute);
    sqlite3_bind_int64(s->roll, 4, cells[k].n);
    if (step_reset(s->roll) != SQLITE_OK) goto fail;
  }
  for (size_t i = 0; i < njs; i++) {
    sqlite3_bind_int64(s->jset, 1, js[i].worker);
    sqlite3_bind_int64(s->jset, 2, (sqlite3_int64)js[i].seq);
    if (step_reset(s->jset) != SQLITE_OK) goto fail;
  }
  if (step_reset(s->commit) != SQLITE_OK) goto fail;
  free(cells);
  return VAST_OK;
fail:
  set_msg(msg, msgcap, "sqlite", s->db);
  if (!sqlite3_get_autocommit(s->db)) step_reset(s->rollback);
  free(cells);
  return VAST_E_DB;
}

vast_err vast__store_journal_seq(vast__store *s, unsigned worker, uint64_t *seq) {
  *seq = 0;
  sqlite3_bind_int64(s->jget, 1, worker);
  int rc = sqlite3_step(s->jget);
  if (rc == SQLITE_ROW) {
    sqlite3_int64 v = sqlite3_column_int64(s->jget, 0);
    *seq = v > 0 ? (uint64_t)v : 0;
  }
  sqlite3_reset(s->jget);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? VAST_OK : VAST_E_DB;
}

const char *vast__store_filename(vast__store *s) {
  const char *fn = sqlite3_db_filename(s->db, "main");
  return fn ? fn : "";
}

int vast__store_gone(vast__store *s) {
  if (!s || !s->have_id) return 0;
  struct stat st;
  if (stat(vast__store_filename(s), &st) != 0) return 1; /* deleted (or unreadable) */
  return st.st_dev != s->dev || st.st_ino != s->ino;     /* replaced */
}

void vast__store_close(vast__store *s) {
  if (!s) return;
  if (s->ckpt_started) {
    pthread_mutex_lock(&s->mu);
    s->ckpt_quit = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->ckpt, NULL);
  }
  sqlite3_close(s->cdb);
  sqlite3_finalize(s->ins);
  sqlite3_finalize(s->insm);
  sqlite3_finalize(s->roll);
  sqlite3_finalize(s->begin);
  sqlite3_finalize(s->commit);
  sqlite3_finalize(s->rollback);
  sqlite3_finalize(s->jset);
  sqlite3_finalize(s->jget);
  if (s->db) {
    sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    sqlite3_close(s->db);
  }
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}
