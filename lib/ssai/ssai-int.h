/*
 * ssai-int.h: internals shared by the files of lib/ssai: the resolved break
 * (ssai-breaks.c), shared by every session whose resolution gave the same
 * documents, and the HTTP front's hooks into the core.
 */
#ifndef VASTRACK_SSAI_INT_H
#define VASTRACK_SSAI_INT_H

#include <stdint.h>
#include <stdio.h>

#include "base/jsonw.h"
#include "vastrack/chain.h"
#include "vastrack/net.h"
#include "vastrack/ssai.h"
#include "vastrack/track.h"

/* One event of an ad's timeline: name, media time (-1: a player event) and
   the URL templates merged over the wrapper chain. */
typedef struct vast__tl_ev {
  char *name;
  double time;
  char **urls;
  size_t n;
} vast__tl_ev;

typedef struct vast__ssai_brk_ad {
  vast_selection sel; /* pointers into the break's chain */
  vast_plan *plan;    /* shared by every session's tracker of this ad */
  double duration;    /* declared, -1 unknown */
  vast__tl_ev *ev;    /* the timeline */
  size_t n_ev, cap_ev;
} vast__ssai_brk_ad;

/* The break-level TrackingEvents of a VMAP break (breakStart, breakEnd,
   error: owned copies of the VMAP's) and its [BREAKPOSITION]; empty for a
   VAST break. */
typedef struct vast__ssai_bev {
  vast_tracking *t; /* event_name and url set, the rest zero */
  size_t n;
  int position;
} vast__ssai_bev;

/*
 * A resolved break: the chain (its parsed documents), one plan and one
 * timeline per ad. Immutable once built, so sessions share it: the cache of
 * ssai.c holds it by `key` (a hash of every document fetched, byte for byte:
 * the same ad responses give the same break, whatever the device) and, when
 * no document was fetched (a VAST document given inline), by `in_key` (a hash
 * of that document) so the parse is skipped too. `refs` counts the ads of
 * sessions playing it (ssai.c, under its lock).
 */
typedef struct vast__ssai_brk {
  struct vast__ssai_brk *hnext, *in_next; /* ssai.c's cache chains */
  uint64_t key, in_key;
  size_t refs;
  size_t bytes; /* the documents' memory, for the figures */
  vast_chain *chain;
  vast__ssai_brk_ad *ads;
  size_t n_ads;
  vast__ssai_bev bev; /* a VMAP break's own tracking (part of key) */
} vast__ssai_brk;

/* The break of a chain (taken: freed with the break, or now on failure).
   NULL when out of memory. */
vast__ssai_brk *vast__ssai_brk_new(vast_chain *chain);
void vast__ssai_brk_free(vast__ssai_brk *b);
/* The content hash of a chain: every hop's URI template, status and source. */
uint64_t vast__ssai_chain_key(const vast_chain *chain);
uint64_t vast__ssai_hash(const void *p, size_t n, uint64_t h);
/* The journal's lines that must reach the disk: written so far (synced 0),
   or on disk (synced 1). 0 without a journal. Takes the service's lock. */
uint64_t vast__ssai_journal_seq(vast_ssai *s, int synced);
/* One report of a batch read by vast__ssai_reports_read: its sessionId
   (not terminated; NULL when absent), and the report, or why it is refused
   (rc VAST_E_INVAL, as the jansson path would say). */
typedef struct vast__ssai_rep {
  const char *sid;
  size_t sid_n;
  vast_ssai_consumption r;
  vast_err rc;
} vast__ssai_rep;
/* Reads {"reports":[...]} of the plain shape in place (ssai-reports.c): 1 and
   *out (free it) with *count; 0 when the body is anything else (read it with
   jansson then). */
int vast__ssai_reports_read(const char *body, size_t n, vast__ssai_rep **out, size_t *count);
/* n reports under the lock, taken once per 64 (ssai.c). sids[i] NULL: INVAL. */
void vast__ssai_reports(vast_ssai *s, const char *const *sids, const vast_ssai_consumption *rs,
                        vast_err *rc, size_t n);
/* 1 when doc, a VAST document given inline, is a break already cached by its
   bytes: adding it fetches and parses nothing (ssai-add.c). */
int vast__ssai_break_cached(vast_ssai *s, const char *doc, size_t len);
/* The bid of the oldest batch of beacons not settled yet (UINT64_MAX: none),
   and in *next the last bid given. O(1); takes the service's lock. */
uint64_t vast__ssai_oldest_batch(vast_ssai *s, uint64_t *next);
/* The sessions' memory counted by walking every session and queue: what
   vast_ssai_stats keeps as it changes (tests compare the two). */
size_t vast__ssai_mem_walk(vast_ssai *s);
/* After each sync the journal thread writes a byte to fd (-1: stop). */
void vast__ssai_sync_notify(vast_ssai *s, int fd);
/* Writes the "ads" members of a timeline (ads numbered from first_ad). */
void vast__ssai_brk_write_ads(const vast__ssai_brk *b, size_t first_ad, vast__jw *w);
/* ssai-kafka.c: the /metrics lines (vastrack_ssai_kafka_*) of the Kafka
   consumer feeding s; nothing when none runs. */
vast_err vast__ssai_kafka_metrics(vast_ssai *s, vast_write_fn write, void *ctx);

/* ---- break-level tracking (ssai-breaks.c) ---- */
/* Copies the tracking of VMAP break ab (placed at position) into ev; -1 out
   of memory. */
int vast__ssai_bev_set(vast__ssai_bev *ev, const vast_ad_break *ab, int position);
void vast__ssai_bev_clear(vast__ssai_bev *ev);
/* key mixed with ev (unchanged when ev is empty): breaks that differ only in
   their break-level tracking are not shared. */
uint64_t vast__ssai_bev_key(uint64_t key, const vast__ssai_bev *ev);
/* The break file's trailer (ssai-journal.c's DIR/breaks/KEY): "T position n",
   then per URL "E name-length url-length", name and url, a newline. Nothing
   when ev is empty. _write: 0 or -1; _read: 0 (none or read) or -1 (bad). */
int vast__ssai_bev_write(FILE *f, const vast__ssai_bev *ev);
int vast__ssai_bev_read(FILE *f, vast__ssai_bev *ev);
/* Writes the "breakEvents" member of a timeline: [{"event","urls"}...]. */
void vast__ssai_bev_write_json(const vast__ssai_bev *ev, vast__jw *w);
/* The URLs of event ("breakStart", "breakEnd", "error") expanded with ctx
   (the session's device macros), [BREAKPOSITION], [TRANSACTIONID] txid
   (NULL: ctx's) and code in [ERRORCODE] (0 none), handed to fn as the
   tracker's beacons (name = event). Returns how many. */
size_t vast__ssai_bev_fire(const vast__ssai_bev *ev, const char *event, int code,
                           const vast_macro_ctx *ctx, const char *txid, vast_track_fn fn,
                           void *user);

#endif
