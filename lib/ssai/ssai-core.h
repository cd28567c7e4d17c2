/*
 * ssai-core.h: the service's own state (lib/ssai/ssai.c), shared with the
 * journal (lib/ssai/ssai-journal.c) and nothing else: sessions, their ads,
 * the delivery objects (bcn, batch, seq) and struct vast_ssai. Every
 * function here is called under the service's lock, except where it says.
 */
#ifndef VASTRACK_SSAI_CORE_H
#define VASTRACK_SSAI_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "base/buf.h"
#include "ssai/ssai-int.h"
#include "vastrack/net.h"
#include "vastrack/ssai.h"
#include "vastrack/track.h"

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
  /* the dispatcher's answer, kept until the service's thread settles it */
  struct bcn *dnext;
  double sent_at;
  long status;
  int err;
  char *event;
  char url[];
} bcn;

typedef struct batch {
  struct batch *next;
  struct batch *lprev, *lnext; /* every live batch, in bid order (the oldest first) */
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
  struct session *hnext, *prev, *next; /* next: the next more recently active */
  dev_ref *dev;
  double last;
  ssai_ad *ads;
  unsigned n_ads, cap_ads, n_breaks;
  uint32_t rw_mark; /* the journal rewrite that wrote it last */
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
  /* answers from the dispatcher's thread, settled in bulk by whoever holds mu
     next (on_delivery when the lock is free, else the journal thread) */
  pthread_mutex_t dmu;
  bcn *dq_head, *dq_tail;
  /* The journal: lines are appended to *journal (one of jb[]) under mu; the
     journal thread swaps the buffers, writes and fdatasync()s without it.
     NULL: no journal. */
  vast__buf *journal;
  vast__buf jb[2];
  int jfd;
  int sync_fd; /* -1, or a pipe the journal thread writes a byte to after each sync
                  (the HTTP front's poll() wakes to send the answers it held) */
  char *journal_path;
  char *state_dir;      /* DIR: the journal, and DIR/breaks/KEY (documents of a break) */
  int replaying;        /* restoring trackers: what they fire was journalled already */
  uint64_t jid_synced;  /* beacons up to this id are on disk (fdatasync'd) */
  uint64_t jseq;        /* lines that must be on disk (D, S, B, P, X), written so far */
  uint64_t jseq_synced; /* of which on disk */
  pthread_t jthr;       /* the journal thread: group commit, then pump */
  pthread_cond_t jwake;
  int jthr_on, jstop;
  uint64_t jbytes; /* written since the last compaction */
  /* the journal rewrite under way (ssai-journal.c): 0 none, 1 the sessions'
     lines being taken slice by slice, 2 its file being written */
  int rw_state, rw_fd, rw_ok;
  struct session *rw_cursor; /* a marker in the list of sessions (id "") */
  uint32_t rw_gen;
  vast__buf rw_snap, rw_since; /* the snapshot; the lines written since its start */
  pthread_t rw_thr;
  atomic_int rw_done;
  session **tab;
  size_t tab_cap, n_sessions;
  size_t mem;               /* the sessions' own memory (vast_ssai_stats), kept as it changes */
  session *all, *all_tail;  /* least recently active first (the idle scan stops early) */
  vast_macro_ctx mc;        /* the device macros of the session being fed */
  vast__ssai_brk **brk_tab; /* the break cache: by key, and by in_key */
  vast__ssai_brk **brk_in;  /* (BRK_SLOTS buckets each) */
  size_t n_brk;
  uint64_t brk_hits, brk_misses;
  /* breaks freed while running: their DIR/breaks/KEY file goes once the
     journal is on disk past the release (the lines saying their ads ended) */
  struct brk_gone {
    uint64_t key, seq;
  } * gone;
  size_t n_gone, cap_gone;
  size_t brk_bytes;
  seq *seqs, *timed;            /* all seqs; those waiting for a retry time */
  batch *live_head, *live_tail; /* batches not settled, oldest bid first */
  uint64_t next_jid, next_bid, id_counter;
  double next_idle_check;
  fired *fired;
  size_t n_fired, cap_fired;
  int closing;
  vast_ssai_figures st;
  vast_ssai_figures2 st2;          /* breaks and journal */
  host_slot hosts[HOST_SLOTS + 1]; /* [HOST_SLOTS]: URLs without a host we know */
  int active[HOST_SLOTS + 1];      /* hosts with a queue */
  size_t n_active;
};

/* ssai.c */
dev_ref *vast__ssai_dev_new(const vast_device *d);
int vast__ssai_dev_ok(const vast_device *d);
int vast__ssai_host_slot_of(vast_ssai *s, const char *url);
int vast__ssai_id_ok(const char *id);
seq *vast__ssai_seq_new(vast_ssai *s, dev_ref *dev);
void vast__ssai_batch_link(vast_ssai *s, batch *b);
session *vast__ssai_find(vast_ssai *s, const char *id);
session *vast__ssai_session_add(vast_ssai *s, const char *id, const vast_device *dev);
vast__ssai_brk *vast__ssai_brk_find(vast_ssai *s, uint64_t key, uint64_t in_key);
void vast__ssai_ad_ended(vast_ssai *s, session *x, size_t adno);
void vast__ssai_brk_insert(vast_ssai *s, vast__ssai_brk *b);
void vast__ssai_brk_unref(vast_ssai *s, vast__ssai_brk *b, size_t n);
void vast__ssai_break_release(vast_ssai *s, session *x, unsigned brk);
/* ssai-add.c: a VMAP break's own tracking, into the fired list (the caller
   flushes it on the ad's seq). _started: ad adno's first report, when no other
   ad of its break has started: breakStart (in front of the ad's Impressions).
   _ended: ad adno just ended, when every ad of its break has and one played:
   breakEnd; returns how many URLs. Under the lock, the device's macros set. */
void vast__ssai_break_started(vast_ssai *s, session *x, size_t adno);
size_t vast__ssai_break_ended(vast_ssai *s, session *x, size_t adno);
/* Queues the "error" tracking ev of a VMAP break that could not be resolved
   for session sid ([ERRORCODE] code), on a seq of its own. Takes the lock. */
void vast__ssai_break_error(vast_ssai *s, const char *sid, const vast__ssai_bev *ev, int code);
void vast__ssai_dev_unref(dev_ref *r);
void vast__ssai_macro_ctx_for(vast_ssai *s, const session *x);
void vast__ssai_on_beacon(void *user, const vast_track_beacon *b);
void vast__ssai_pump(vast_ssai *s);
void vast__ssai_ready_push(vast_ssai *s, seq *q);
void vast__ssai_session_end(vast_ssai *s, session *x);
void vast__ssai_settle(vast_ssai *s);
void vast__ssai_touch(vast_ssai *s, session *x, double now);
void vast__ssai_list_unlink(vast_ssai *s, session *x);
void vast__ssai_list_insert_before(vast_ssai *s, session *x, session *at);

/* ssai-journal.c */
int vast__ssai_brk_save(vast_ssai *s, const vast__ssai_brk *b, int root_url);
int vast__ssai_jl_break_to(vast__buf *b, const char *id, unsigned brk, uint64_t key, unsigned n);
int vast__ssai_jl_end_to(vast__buf *b, const char *id);
int vast__ssai_jl_pos_to(vast__buf *b, const char *id, size_t ad, double pos, int started,
                         int done);
int vast__ssai_jl_session_to(vast__buf *b, const char *id, const vast_device *d);
vast_err vast__ssai_recover(vast_ssai *s, char *msg, size_t cap);
void vast__ssai_gone_sweep(vast_ssai *s);
void *vast__ssai_journal_main(void *arg);
void vast__ssai_jl_account(vast_ssai *s, int n);
void vast__ssai_jline_due(vast_ssai *s, const bcn *b, uint64_t bid, const char *key,
                          const vast_device *d);
void vast__ssai_jline_mark(vast_ssai *s, char what, uint64_t jid, long status);

/* ssai-kafka.c: set while a message the previous owner of its partition applied
   is replayed; the trackers move, nothing is fired. */
extern _Thread_local int vast__ssai_quiet;

#endif
