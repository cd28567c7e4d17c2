/*
 * play-response.c: vast_play_response, a whole response played on the
 * simulated player: every ad of a pod (sequence order, buffet replacement) and
 * every break of a VMAP against the content timeline. `vastrack play` and the
 * web inspector's /api/play both call it and only format what it reports
 * (include/vastrack/breaks.h).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vastrack/breaks.h"

#define MAX_BREAKS_DEFAULT 10000

/* One play under way: the clocks and where it stands. */
typedef struct rplay {
  const vast_response_opts *o;
  unsigned player_state;
  unsigned char *used; /* per group: played by an ad */
  vast_play_state st;  /* the current ad's, kept current by vast_play_simulate */
  double t_base;       /* session seconds before the current ad */
  double content;      /* the break's content time; -1 outside a VMAP */
  double wall0;
  int brk, ad;
  int in_ad; /* st is the current ad's */
  vast_err stop_rc;
  int stopped;
} rplay;

void vast_response_opts_init(vast_response_opts *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->creative = -1;
  o->watch = -1;
  o->rate = 1;
  o->wall0 = -1;
}

static void note_init(const rplay *p, vast_play_note *n, vast_play_note_kind kind) {
  memset(n, 0, sizeof *n);
  n->kind = kind;
  n->brk = p->brk;
  n->ad = p->ad;
  n->t_base = p->t_base;
  n->state = p->in_ad ? &p->st : NULL;
  n->t = p->t_base + (p->in_ad ? p->st.t : 0);
  n->content = p->content;
  n->media = -1;
  n->level = UINT32_MAX;
  n->sequence = -1;
  n->creative = -1;
  n->stop = -1;
}

/* Hands a note over; 1 when the caller stopped the play. */
static int emit(rplay *p, const vast_play_note *n) {
  if (p->stopped) return 1;
  if (p->o->on_note(p->o->user, n)) {
    p->stopped = 1;
    p->stop_rc = n->rc != VAST_OK ? n->rc : VAST_E_STATE;
  }
  return p->stopped;
}

static void on_beacon(void *user, const vast_track_beacon *b) {
  rplay *p = user;
  vast_play_note n;
  note_init(p, &n, VAST_NOTE_BEACON);
  n.name = b->name;
  n.url = b->url;
  n.url_len = b->url ? b->url_len : 0;
  n.level = b->url ? b->level : UINT32_MAX;
  n.media = b->media_time;
  emit(p, &n);
}

static void on_step(void *user, const vast_play_state *st) {
  rplay *p = user;
  (void)st;
  vast_play_note n;
  note_init(p, &n, VAST_NOTE_STEP);
  emit(p, &n);
}

static void on_through(void *user, const vast_play_state *st, const char *name, const char *url) {
  rplay *p = user;
  vast_play_note n;
  note_init(p, &n, VAST_NOTE_CLICK_THROUGH);
  n.name = name;
  n.url = url;
  n.url_len = url ? strlen(url) : 0;
  n.media = st->media;
  emit(p, &n);
}

static void on_refused(void *user, const vast_play_state *st, const vast_play_event *e, vast_err rc,
                       const char *reason) {
  rplay *p = user;
  (void)st;
  vast_play_note n;
  note_init(p, &n, VAST_NOTE_REFUSED);
  n.event = e;
  n.name = e->name;
  n.rc = rc;
  n.message = reason;
  emit(p, &n);
}

static const vast_play_group *find_group(rplay *p, int brk, int ad, size_t *at) {
  for (size_t i = 0; i < p->o->n_groups; i++)
    if (p->o->groups[i].brk == brk && p->o->groups[i].ad == ad) {
      if (at) *at = i;
      return &p->o->groups[i];
    }
  return NULL;
}

/* 1 when the events make the ad fail before it is shown (error@0). */
static int fails_at_start(const vast_play_group *g) {
  for (size_t i = 0; g && i < g->n; i++)
    if (g->ev[i].kind == VAST_IN_ERROR && g->ev[i].at <= 0) return 1;
  return 0;
}

static void ad_failed(rplay *p, const vast_selection *sel, long ci, int why, vast_err rc,
                      const char *msg) {
  vast_play_note n;
  note_init(p, &n, VAST_NOTE_AD_FAILED);
  n.sel = sel;
  n.creative = ci;
  n.code = why;
  n.rc = rc;
  n.message = msg;
  emit(p, &n);
}

/* Plays one ad on its own tracker. */
static void play_ad(rplay *p, const vast_selection *sel, const vast_macro_ctx *ctx,
                    const vast_play_group *g) {
  const vast_response_opts *o = p->o;
  long ci = o->creative >= 0 ? o->creative : (long)sel->creative;
  if (ci >= (long)sel->ad->n_creatives) {
    ad_failed(p, sel, ci, VAST_AD_FAIL_CREATIVE, VAST_E_NOT_FOUND, "no such creative to play");
    return;
  }
  vast_selection use = *sel;
  use.creative = (size_t)ci;
  vast_plan *plan = NULL;
  vast_tracker *tr = NULL;
  vast_err rc = vast_plan_create_selected(&use, &plan);
  if (rc == VAST_OK) rc = vast_tracker_create(plan, ctx, on_beacon, p, &tr);
  if (rc != VAST_OK) {
    vast_plan_free(plan);
    ad_failed(p, sel, ci, VAST_AD_FAIL_TRACK, rc, "cannot track the creative");
    return;
  }
  if (o->has_seed) vast_tracker_seed(tr, o->seed);
  vast_tracker_set_player_state(tr, p->player_state);
  if (o->report_untracked) vast_tracker_report_untracked(tr, 1);
  if (o->ssai) vast_tracker_set_trusted_positions(tr, 1);
  if (o->clock) vast_tracker_set_clock(tr, o->clock, o->clock_user);
  double dur = vast_plan_duration(plan);
  double stop = o->watch >= 0 ? (dur > 0 && o->watch > dur ? dur : o->watch) : dur;
  if (stop >= 0 && o->max_watch > 0 && stop > o->max_watch) stop = o->max_watch;
  vast_play_note n;
  note_init(p, &n, VAST_NOTE_AD_START);
  n.sel = sel;
  n.creative = ci;
  n.plan = plan;
  n.tracker = tr;
  n.stop = stop >= 0 ? stop : -1;
  emit(p, &n);
  if (!(stop >= 0)) {
    ad_failed(p, sel, ci, VAST_AD_FAIL_DURATION, VAST_E_LIMIT,
              "the ad declares no duration and no watch time is given");
  } else if (!p->stopped) {
    vast_play_opts po;
    vast_play_opts_init(&po);
    po.end = stop;
    po.fire_ended = dur > 0 && stop >= dur;
    po.duration = dur;
    po.events = g ? g->ev : NULL;
    po.n_events = g ? g->n : 0;
    po.on_refused = on_refused;
    po.on_step = on_step;
    po.on_click_through = on_through;
    po.user = p;
    po.wall_start = p->wall0 + p->t_base;
    po.rate = o->rate;
    po.max_steps = o->max_steps;
    memset(&p->st, 0, sizeof p->st);
    p->in_ad = 1;
    rc = vast_play_simulate(tr, &po, &p->st);
    if (rc != VAST_OK) {
      ad_failed(p, sel, ci, VAST_AD_FAIL_SIMULATE, rc, vast_strerror(rc));
    } else {
      note_init(p, &n, VAST_NOTE_AD_END);
      n.sel = sel;
      n.creative = ci;
      n.tracker = tr;
      emit(p, &n);
    }
    p->t_base += p->st.t;
    memset(&p->st, 0, sizeof p->st);
    p->in_ad = 0;
  }
  vast_tracker_free(tr);
  vast_plan_free(plan);
}

/* Every ad of a pod in play order, buffet replacements included. */
static void play_pod(rplay *p, const vast_pod *pod, const vast_macro_ctx *base) {
  vast_play_note n;
  p->ad = 0;
  note_init(p, &n, VAST_NOTE_POD);
  n.count = pod->n_ads;
  n.buffet = pod->n_buffet;
  if (emit(p, &n)) return;
  size_t next_b = 0;
  long played = 0;
  for (size_t i = 0; i < pod->n_ads && !p->stopped; i++) {
    const vast_pod_ad *pa = &pod->ads[i];
    int seq = pa->sequence, repl = 0;
    size_t gi = 0;
    const vast_play_group *g = find_group(p, p->brk, (int)i + 1, &gi);
    if (g) p->used[gi] = 1;
    for (;;) {
      vast_macro_ctx c = *base;
      char cnt[24], sq[24];
      snprintf(cnt, sizeof cnt, "%ld", played + 1);
      snprintf(sq, sizeof sq, "%d", seq);
      if (!c.value[VAST_MACRO_ADCOUNT]) c.value[VAST_MACRO_ADCOUNT] = cnt;
      if (seq >= 0 && !c.value[VAST_MACRO_PODSEQUENCE]) c.value[VAST_MACRO_PODSEQUENCE] = sq;
      p->ad = (int)i + 1;
      note_init(p, &n, VAST_NOTE_AD_BEGIN);
      n.sel = &pa->sel;
      n.count = pod->n_ads;
      n.sequence = seq;
      n.replacement = repl;
      if (emit(p, &n)) return;
      const vast_play_group *use = repl ? NULL : g;
      play_ad(p, &pa->sel, &c, use);
      if (p->stopped) return;
      if (!fails_at_start(use)) {
        played++;
        break;
      }
      if (next_b >= pod->n_buffet) {
        note_init(p, &n, VAST_NOTE_NO_BUFFET);
        n.count = pod->n_ads;
        n.buffet = pod->n_buffet;
        emit(p, &n);
        break;
      }
      pa = &pod->buffet[next_b++];
      repl = 1;
    }
  }
  p->ad = 0;
  for (size_t i = 0; i < p->o->n_groups && !p->stopped; i++) {
    const vast_play_group *g = &p->o->groups[i];
    if (g->brk == p->brk && !p->used[i] && g->ad > (int)pod->n_ads) {
      p->used[i] = 1;
      note_init(p, &n, VAST_NOTE_AD_IGNORED);
      n.ad = g->ad;
      n.count = pod->n_ads;
      emit(p, &n);
    }
  }
}

/* Applies a player-state event to *state; 0 for any other event. */
static int state_change(const vast_play_event *e, unsigned *state) {
  switch (e->kind) {
  case VAST_IN_MUTE:
    *state |= VAST_PLAYER_MUTED;
    return 1;
  case VAST_IN_UNMUTE:
    *state &= ~(unsigned)VAST_PLAYER_MUTED;
    return 1;
  case VAST_IN_PLAYER_EXPAND:
    *state |= VAST_PLAYER_FULLSCREEN;
    return 1;
  case VAST_IN_PLAYER_COLLAPSE:
    *state &= ~(unsigned)VAST_PLAYER_FULLSCREEN;
    return 1;
  default:
    return 0;
  }
}

typedef struct break_cb {
  rplay *p;
  const vast_break_slot *slot;
} break_cb;

static void on_break_url(void *user, const char *event, const char *url, const char *tmpl) {
  break_cb *bc = user;
  (void)tmpl;
  vast_play_note n;
  note_init(bc->p, &n, VAST_NOTE_BREAK_BEACON);
  n.ad = 0; /* a break's own beacon, no ad's */
  n.slot = bc->slot;
  n.name = event;
  n.url = url;
  n.url_len = url ? strlen(url) : 0;
  emit(bc->p, &n);
}

/* One placed break: resolved, then its pod between breakStart and breakEnd. */
static void play_break(rplay *p, const vast_doc *doc, const vast_break_slot *s,
                       const vast_macro_ctx *mctx) {
  const vast_response_opts *o = p->o;
  const vast_ad_break *b = s->brk;
  vast_macro_ctx c = *mctx;
  char bp[16], tx[40], ph[32];
  snprintf(bp, sizeof bp, "%d", s->position);
  if (!mctx->value[VAST_MACRO_BREAKPOSITION]) c.value[VAST_MACRO_BREAKPOSITION] = bp;
  /* [MEDIAPLAYHEAD] (and the deprecated [CONTENTPLAYHEAD]): the content's
     playhead, where the break interrupts it */
  long ms = (long)llround(s->at * 1000);
  snprintf(ph, sizeof ph, "%02ld:%02ld:%02ld.%03ld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
           ms % 1000);
  if (!mctx->value[VAST_MACRO_MEDIAPLAYHEAD]) c.value[VAST_MACRO_MEDIAPLAYHEAD] = ph;
  if (!mctx->value[VAST_MACRO_CONTENTPLAYHEAD]) c.value[VAST_MACRO_CONTENTPLAYHEAD] = ph;
  /* each break is a transaction of its own: its AdTagURI, wrapper hops, break
     events and beacons share one [TRANSACTIONID] (the caller may give one for all) */
  if (!mctx->value[VAST_MACRO_TRANSACTIONID] && vast_transaction_id(tx, sizeof tx) == VAST_OK)
    c.value[VAST_MACRO_TRANSACTIONID] = tx;
  vast_resolve_opts ro;
  if (o->resolve)
    ro = *o->resolve;
  else
    vast_resolve_opts_init(&ro);
  ro.macros = &c;
  vast_chain *chain = NULL;
  vast_error err;
  memset(&err, 0, sizeof err);
  vast_err rc = vast_break_resolve(doc, b, s->position, o->base, &ro, &chain, &err);
  vast_pod pod;
  memset(&pod, 0, sizeof pod);
  if (rc == VAST_OK) rc = vast_pod_from_chain(chain, &pod);
  break_cb bc = {p, s};
  vast_play_note n;
  if (rc == VAST_OK && pod.n_ads) {
    vast_break_track(b, "breakStart", s->position, 0, &c, on_break_url, &bc);
    play_pod(p, &pod, &c);
    if (!p->stopped) vast_break_track(b, "breakEnd", s->position, 0, &c, on_break_url, &bc);
  } else if (rc == VAST_OK || rc == VAST_E_NO_AD) {
    note_init(p, &n, VAST_NOTE_BREAK_NO_AD);
    n.slot = s;
    emit(p, &n);
  } else {
    /* VMAP error codes for the break: 1005 template not supported, 1007 timeout,
       1008 retrieval error, 1006 parse error; a response without ads is no error */
    int code = err.iab_code ? err.iab_code : 1004;
    if (rc == VAST_E_TIMEOUT)
      code = 1007;
    else if (rc == VAST_E_HTTP || rc == VAST_E_FORBIDDEN || rc == VAST_E_URL)
      code = 1008;
    else if (rc == VAST_E_XML || rc == VAST_E_NOT_VAST || rc == VAST_E_VERSION)
      code = 1006;
    note_init(p, &n, VAST_NOTE_BREAK_ERROR);
    n.slot = s;
    n.rc = rc;
    n.code = code;
    n.message = err.message[0] ? err.message : vast_strerror(rc);
    if (!emit(p, &n)) vast_break_track(b, "error", s->position, code, &c, on_break_url, &bc);
  }
  vast_pod_clear(&pod);
  vast_chain_free(chain);
}

/* The breaks of a VMAP in content order. */
static vast_err play_vmap(rplay *p, const vast_doc *doc, const vast_macro_ctx *mctx) {
  const vast_response_opts *o = p->o;
  size_t max = o->max_breaks ? o->max_breaks : MAX_BREAKS_DEFAULT, n = 0;
  vast_err rc = vast_vmap_schedule_opts(vast_doc_vmap(doc), o->schedule, NULL, 0, &n);
  vast_break_slot *slots = NULL;
  if (rc == VAST_E_NOSPACE && n <= max) {
    slots = calloc(n, sizeof *slots);
    rc = slots ? vast_vmap_schedule_opts(vast_doc_vmap(doc), o->schedule, slots, n, &n)
               : VAST_E_NOMEM;
  }
  vast_play_note note;
  note_init(p, &note, VAST_NOTE_VMAP);
  note.count = n;
  note.rc = rc;
  emit(p, &note);
  if (rc != VAST_OK) {
    free(slots);
    return rc;
  }
  const vast_play_group *cg = find_group(p, 0, 0, NULL); /* events at content times */
  size_t next_cev = 0;
  double content_at = 0; /* content seconds played so far */
  for (size_t i = 0; i < n && !p->stopped; i++) {
    const vast_break_slot *s = &slots[i];
    p->brk = (int)i + 1;
    p->ad = 0;
    if (!s->position || s->at < 0) {
      note_init(p, &note, VAST_NOTE_BREAK_SKIPPED);
      note.slot = s;
      emit(p, &note);
      continue;
    }
    if (s->at > content_at) {
      p->t_base += s->at - content_at;
      content_at = s->at;
    }
    p->content = s->at;
    /* the player's state changes made while the content played up to here */
    for (; cg && next_cev < cg->n && cg->ev[next_cev].at <= s->at && !p->stopped; next_cev++) {
      state_change(&cg->ev[next_cev], &p->player_state);
      note_init(p, &note, VAST_NOTE_CONTENT_EVENT);
      note.event = &cg->ev[next_cev];
      note.name = cg->ev[next_cev].name;
      emit(p, &note);
    }
    note_init(p, &note, VAST_NOTE_BREAK_START);
    note.slot = s;
    if (emit(p, &note)) break;
    play_break(p, doc, s, mctx);
  }
  p->ad = 0;
  for (; cg && next_cev < cg->n && !p->stopped; next_cev++) { /* after the last break */
    note_init(p, &note, VAST_NOTE_CONTENT_LEFT);
    note.event = &cg->ev[next_cev];
    note.name = cg->ev[next_cev].name;
    emit(p, &note);
  }
  for (size_t i = 0; i < o->n_groups && !p->stopped; i++)
    if (!p->used[i] && o->groups[i].brk > (int)n) {
      note_init(p, &note, VAST_NOTE_BREAK_IGNORED);
      note.brk = o->groups[i].brk;
      note.ad = o->groups[i].ad;
      note.count = n;
      emit(p, &note);
    }
  free(slots);
  return VAST_OK;
}

vast_err vast_play_response(const vast_doc *doc, const vast_pod *pod, const vast_response_opts *o) {
  if (!o || o->size != sizeof *o || !o->on_note || (o->n_groups && !o->groups)) return VAST_E_INVAL;
  const vast_vmap *vm = doc ? vast_doc_vmap(doc) : NULL;
  if (!vm == !pod || (doc && !vm)) return VAST_E_INVAL;
  for (size_t i = 0; i < o->n_groups; i++)
    if (o->groups[i].n && !o->groups[i].ev) return VAST_E_INVAL;
  rplay p;
  memset(&p, 0, sizeof p);
  p.o = o;
  p.player_state = o->player_state;
  p.content = -1;
  p.wall0 = o->wall0 >= 0 ? o->wall0 : (double)time(NULL);
  p.used = calloc(o->n_groups ? o->n_groups : 1, 1);
  if (!p.used) return VAST_E_NOMEM;
  vast_macro_ctx base;
  if (o->macros)
    base = *o->macros;
  else
    vast_macro_ctx_init(&base);
  vast_err rc = VAST_OK;
  if (vm)
    rc = play_vmap(&p, doc, &base);
  else
    play_pod(&p, pod, &base);
  free(p.used);
  if (p.stopped) return p.stop_rc;
  return rc;
}
