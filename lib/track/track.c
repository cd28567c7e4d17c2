/*
 * track.c: the tracking engine. A vast_plan merges, once per ad, the beacon
 * URLs of an InLine creative and of every Wrapper of its chain into per-event
 * lists (pointers into the parsed documents); a vast_tracker is the small
 * per-play state machine that turns timestamped player events into beacons,
 * expanding macros into a stack buffer before handing each one to the
 * caller's callback. No I/O, no locks, no allocation on the hot path.
 *
 * Progress is measured two ways (VAST 4.x 3.14.1):
 *  - the continuous stretch ("reach"): the unbroken stretch of media watched
 *    from 0 at normal speed. A forward step extends it only when it starts
 *    inside the stretch and media time advanced no faster than wall time
 *    (1.1x, plus a 0.25 s jitter allowance that refills at 0.1x; 1 s per step
 *    when wall time is unknown). A jump (a seek, a step too fast, media moving
 *    while paused) stops it growing; replayed seconds earn nothing until
 *    playback passes its end again. Quartiles, percent progress offsets and
 *    complete are earned from it.
 *  - played seconds: the sum of every forward step that passed the same speed
 *    test, wherever it happened (replays included). Time progress offsets
 *    ("played for a duration") are earned from it.
 * In trusted-positions mode (SSAI: positions are what the server delivered)
 * the speed test is skipped: every forward time update is delivered media.
 * A forward step thrown away is added to a counter and its input returns
 * VAST_E_NOT_PLAYED.
 *
 * This file holds the tracker (the state machine); plans are built in
 * track-plan.c, input names and the click and player-state calls are in
 * track-input.c, the structs they share in track-engine.h.
 */
#include "vastrack/track.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "track/track-engine.h"

/* ------------------------------------------------------------------------ */
/* Trackers                                                                  */

size_t vast_tracker_memory(void) {
  return sizeof(vast_tracker);
}

static uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void vast_tracker_seed(vast_tracker *t, uint64_t seed) {
  if (t) t->rng = mix64(seed) | 1;
}

void vast_tracker_set_asset(vast_tracker *t, const char *asset) {
  if (t) t->asset = asset;
}

static long next_cachebust(vast_tracker *t) {
  uint64_t x = t->rng; /* xorshift64* */
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  t->rng = x;
  return 10000000 + (long)((x * 0x2545F4914F6CDD1DULL >> 32) % 90000000u);
}

static void recompute_due(vast_tracker *t);

vast_err vast_tracker_create(const vast_plan *plan, const vast_macro_ctx *ctx, vast_track_fn fn,
                             void *user, vast_tracker **out) {
  if (!out) return VAST_E_INVAL;
  *out = NULL;
  if (!plan || !fn) return VAST_E_INVAL;
  vast_tracker *t = calloc(1, sizeof *t);
  if (!t) return VAST_E_NOMEM;
  t->plan = plan;
  t->ctx = ctx;
  t->fn = fn;
  t->user = user;
  t->asset = plan->default_asset;
  t->duration = plan->duration;
  t->pos = -1;
  t->last_wall = -1;
  t->slack = STEP_JITTER;
  vast_tracker_seed(t, (uint64_t)(uintptr_t)t ^ (uint64_t)time(NULL) << 20);
  recompute_due(t);
  *out = t;
  return VAST_OK;
}

/* In track.c rather than pick.c: the tracker takes ownership of the plan. */
vast_err vast_tracker_open_selected(const vast_selection *sel, const vast_macro_ctx *ctx,
                                    vast_track_fn fn, void *user, vast_tracker **tracker) {
  if (!tracker) return VAST_E_INVAL;
  *tracker = NULL;
  if (!fn) return VAST_E_INVAL;
  vast_plan *p;
  vast_err rc = vast_plan_create_selected(sel, &p);
  if (rc != VAST_OK) return rc;
  rc = vast_tracker_create(p, ctx, fn, user, tracker);
  if (rc != VAST_OK) {
    vast_plan_free(p);
    return rc;
  }
  (*tracker)->owned = p;
  return VAST_OK;
}

void vast_tracker_free(vast_tracker *t) {
  if (!t) return;
  vast_plan_free(t->owned);
  free(t);
}

const vast_plan *vast_tracker_plan(const vast_tracker *t) {
  return t ? t->plan : NULL;
}

int vast_tracker_done(const vast_tracker *t) {
  return t && (t->state & ST_TERMINAL);
}
double vast_tracker_played(const vast_tracker *t) {
  return t ? t->played : 0;
}
double vast_tracker_continuous(const vast_tracker *t) {
  return t ? t->reach : 0;
}
double vast_tracker_discarded(const vast_tracker *t) {
  return t ? t->discarded : 0;
}

void vast_tracker_set_clock(vast_tracker *t, double (*clock)(void *user), void *user) {
  if (!t) return;
  t->clock = clock;
  t->clock_user = user;
}

void vast_tracker_report_untracked(vast_tracker *t, int on) {
  if (!t) return;
  if (on)
    t->state |= ST_UNTRACKED;
  else
    t->state &= ~(uint32_t)ST_UNTRACKED;
}

vast_err vast_tracker_set_trusted_positions(vast_tracker *t, int trusted) {
  if (!t) return VAST_E_INVAL;
  if (t->state & (ST_STARTED | ST_TERMINAL)) return VAST_E_STATE;
  if (trusted)
    t->state |= ST_TRUSTED;
  else
    t->state &= ~(uint32_t)ST_TRUSTED;
  return VAST_OK;
}

int vast_tracker_skippable(const vast_tracker *t) {
  if (!t || !(t->state & ST_STARTED) || (t->state & ST_TERMINAL)) return 0;
  double pos = t->pos < 0 ? 0 : t->pos;
  if (t->plan->skip_kind == VAST_OFFSET_TIME) return pos + EPS >= t->plan->skip_value;
  if (t->plan->skip_kind == VAST_OFFSET_PERCENT && t->duration > 0)
    return pos + EPS >= t->plan->skip_value / 100.0 * t->duration;
  return 0;
}

/* What one input carries into the macros of the beacons it causes. */
typedef struct firing {
  const vast_input *in;
  int error_code;
  int reason;
  const char *click_pos;
} firing;

/*
 * The ad playhead of a beacon: the media position once known; before the first
 * media time, 0 from the impression on and for loaded (the ad sits on its
 * first frame); -1 (unknown) otherwise (an error or notUsed before anything
 * was shown).
 */
static double playhead(const vast_tracker *t, vast_event ev) {
  if (t->pos >= 0) return t->pos;
  if ((t->state & ST_IMPRESSION) || ev == VAST_EV_LOADED || ev == VAST_EV_CREATIVE_VIEW) return 0;
  return -1;
}

/* The engine's macro values for a beacon fired now. */
void vast__tracker_fill_vars(vast_tracker *t, vast_macro_vars *v, double wall) {
  const vast_plan *p = t->plan;
  vast_macro_vars_init(v);
  v->wall_time = wall;
  v->ad_playhead = playhead(t, VAST_EV_UNKNOWN);
  v->cachebust = next_cachebust(t);
  v->pod_sequence = p->pod_sequence;
  v->has_player_state = 1;
  v->player_state = ((t->state & ST_MUTED) ? VAST_PLAYER_MUTED : 0) |
                    ((t->state & ST_EXPANDED) ? VAST_PLAYER_FULLSCREEN : 0);
  v->asset_uri = t->asset;
  v->ad_serving_id = p->ad_serving_id;
  v->ad_type = p->ad_type;
  v->universal_ad_ids = p->uaids;
  v->n_universal_ad_ids = p->n_uaids;
  v->blocked_categories = p->blocked;
  v->n_blocked_categories = p->n_blocked; /* ADCATEGORIES: the caller's (request macro) */
}

#define URLBUF 4096

/* Expands one URL and hands the beacon to the callback. */
static vast_err emit(vast_tracker *t, const firing *f, vast_beacon_kind kind, vast_event ev,
                     const char *name, const char *tmpl, unsigned level) {
  vast_macro_vars v;
  vast__tracker_fill_vars(t, &v, t->clock ? t->clock(t->clock_user) : f->in->wall_time);
  v.ad_playhead = playhead(t, ev);
  v.error_code = f->error_code;
  v.reason = f->reason;
  v.click_pos = f->click_pos;

  char buf[URLBUF];
  char *out = buf;
  size_t len = 0;
  size_t tlen = strlen(tmpl);
  vast_err e = vast_macro_expand(tmpl, tlen, t->ctx, &v, buf, sizeof buf, &len);
  if (e == VAST_E_NOSPACE) {
    out = malloc(len + 1); /* only for URLs longer than URLBUF */
    if (!out) return VAST_E_NOMEM;
    vast_macro_expand(tmpl, tlen, t->ctx, &v, out, len + 1, &len);
  }
  vast_track_beacon b;
  b.kind = kind;
  b.event = ev;
  b.name = name;
  b.url = out;
  b.url_len = len;
  b.tmpl = tmpl;
  b.media_time = v.ad_playhead;
  b.wall_time = f->in->wall_time;
  b.level = level;
  t->fn(t->user, &b);
  if (out != buf) free(out);
  return VAST_OK;
}

static const char *const slot_names[SLOT__COUNT - VAST_EV__COUNT] = {
    "impression",       "error",      "clickTracking", "viewable", "notViewable",
    "viewUndetermined", "customClick"};
static const vast_beacon_kind slot_kinds[SLOT__COUNT - VAST_EV__COUNT] = {
    VAST_BEACON_IMPRESSION,  VAST_BEACON_ERROR,        VAST_BEACON_CLICK_TRACKING,
    VAST_BEACON_VIEWABLE,    VAST_BEACON_NOT_VIEWABLE, VAST_BEACON_VIEW_UNDETERMINED,
    VAST_BEACON_CUSTOM_CLICK};

/* An event the plan has no URL for, reported when asked (url NULL). */
static void untracked(vast_tracker *t, const firing *f, vast_beacon_kind kind, vast_event ev,
                      const char *name) {
  if (!(t->state & ST_UNTRACKED)) return;
  vast_track_beacon b;
  memset(&b, 0, sizeof b);
  b.kind = kind;
  b.event = ev;
  b.name = name;
  b.media_time = playhead(t, ev);
  b.wall_time = f->in->wall_time;
  b.level = UINT32_MAX;
  t->fn(t->user, &b);
}

static int slot_empty(const vast_tracker *t, int slot) {
  return t->plan->start[slot] == t->plan->start[slot + 1];
}

static vast_err fire_slot_urls(vast_tracker *t, const firing *f, int slot);

/* Fires every URL of one slot (or reports it untracked). */
static vast_err fire_slot(vast_tracker *t, const firing *f, int slot) {
  if (slot_empty(t, slot) && (t->state & ST_UNTRACKED)) {
    if (slot < VAST_EV__COUNT)
      untracked(t, f, VAST_BEACON_TRACKING, (vast_event)slot, vast_event_name((vast_event)slot));
    else
      untracked(t, f, slot_kinds[slot - VAST_EV__COUNT], VAST_EV_UNKNOWN,
                slot_names[slot - VAST_EV__COUNT]);
    return VAST_OK;
  }
  return fire_slot_urls(t, f, slot);
}

static vast_err fire_slot_urls(vast_tracker *t, const firing *f, int slot) {
  const vast_plan *p = t->plan;
  vast_beacon_kind kind = VAST_BEACON_TRACKING;
  vast_event ev = VAST_EV_UNKNOWN;
  const char *name;
  if (slot < VAST_EV__COUNT) {
    ev = (vast_event)slot;
    name = vast_event_name((vast_event)slot);
  } else {
    kind = slot_kinds[slot - VAST_EV__COUNT];
    name = slot_names[slot - VAST_EV__COUNT];
  }
  vast_err rc = VAST_OK;
  for (uint32_t i = p->start[slot]; i < p->start[slot + 1]; i++) {
    vast_err e = emit(t, f, kind, ev, name, p->urls[i].url, p->urls[i].level);
    if (e) rc = e;
  }
  return rc;
}

/* Fires an event and its legacy synonyms (a 0-terminated list); untracked
 * only when none of them has a URL, under the first name. */
static vast_err fire_events(vast_tracker *t, const firing *f, const int *slots) {
  vast_err rc = VAST_OK;
  int any = 0;
  for (const int *s = slots; *s; s++)
    any |= !slot_empty(t, *s);
  if (!any) return *slots ? fire_slot(t, f, *slots) : VAST_OK;
  for (; *slots; slots++) {
    vast_err e = fire_slot_urls(t, f, *slots);
    if (e) rc = e;
  }
  return rc;
}

/*
 * Threshold of progress entry i: seconds of reach (percent offsets) or of
 * played time (time offsets); INFINITY while it needs an unknown duration.
 */
static double progress_at(const vast_tracker *t, size_t i) {
  const plan_progress *pp = &t->plan->progress[i];
  if (!pp->percent) return pp->value;
  return t->duration > 0 ? pp->value / 100.0 * t->duration : INFINITY;
}

static double quartile_at(const vast_tracker *t, int q) {
  return t->duration > 0 ? t->duration * q / 4.0 : INFINITY;
}

/* The measure an entry is earned from: reach for quartiles and percent offsets,
 * played time for time offsets. */
static double progress_measure(const vast_tracker *t, size_t i) {
  return t->plan->progress[i].percent ? t->reach : t->played;
}

static void recompute_due(vast_tracker *t) {
  double due = INFINITY, due_played = INFINITY;
  for (int q = 1; q <= 3; q++)
    if (!(t->state & (ST_Q1 << (q - 1)))) {
      due = quartile_at(t, q);
      break;
    }
  for (size_t i = 0; i < t->plan->n_progress; i++)
    if (!(t->progress_done >> i & 1)) {
      double at = progress_at(t, i);
      if (t->plan->progress[i].percent) {
        if (at < due) due = at;
      } else if (at < due_played) {
        due_played = at;
      }
    }
  t->due_reach = due;
  t->due_played = due_played;
}

static int something_due(const vast_tracker *t) {
  return t->reach + EPS >= t->due_reach || t->played + EPS >= t->due_played;
}

/* Fires, in threshold order, every quartile and progress offset now earned. */
static vast_err fire_due(vast_tracker *t, const firing *f) {
  vast_err rc = VAST_OK;
  static const int quartile_ev[4] = {0, VAST_EV_FIRST_QUARTILE, VAST_EV_MIDPOINT,
                                     VAST_EV_THIRD_QUARTILE};
  for (;;) {
    double best = INFINITY;
    int which = 0; /* 1..3 quartile, 4+i progress i */
    for (int q = 1; q <= 3; q++)
      if (!(t->state & (ST_Q1 << (q - 1)))) {
        double at = quartile_at(t, q);
        if (at <= t->reach + EPS) {
          best = at;
          which = q;
        }
        break;
      }
    for (size_t i = 0; i < t->plan->n_progress; i++)
      if (!(t->progress_done >> i & 1)) {
        double at = progress_at(t, i);
        if (at < best && at <= progress_measure(t, i) + EPS) {
          best = at;
          which = 4 + (int)i;
        }
      }
    if (!which) break;
    vast_err e;
    if (which <= 3) {
      t->state |= ST_Q1 << (which - 1);
      e = fire_slot(t, f, quartile_ev[which]);
    } else {
      size_t i = (size_t)(which - 4);
      t->progress_done |= 1ULL << i;
      e = emit(t, f, VAST_BEACON_TRACKING, VAST_EV_PROGRESS, "progress", t->plan->progress[i].url,
               t->plan->progress[i].level);
    }
    if (e) rc = e;
  }
  recompute_due(t);
  return rc;
}

/*
 * The speed test of one forward step of dm media seconds: 1 when it counts as
 * playback. Trusted positions always count; paused media never does. With
 * both wall times known, the step may use STEP_RATE times the wall step plus
 * what is left of the jitter allowance (refilled by what the step did not
 * use, up to STEP_JITTER); with either unknown, or the wall clock going
 * back, STEP_SLACK per step.
 * Shared by advance() and the fast path of vast_tracker_time.
 */
static inline int step_counts(vast_tracker *t, double dm, double w) {
  if (t->state & ST_TRUSTED) return 1;
  if (t->state & ST_PAUSED) return 0;
  /* no reference: a wall time unknown, or going back (a clock not to be trusted) */
  if (!(w >= 0) || !(t->last_wall >= 0) || w < t->last_wall) return dm <= STEP_SLACK + EPS;
  double dw = w - t->last_wall;
  double allow = STEP_RATE * dw + t->slack;
  if (dm > allow + EPS) return 0;
  t->slack = allow - dm > STEP_JITTER ? STEP_JITTER : allow - dm;
  return 1;
}

/*
 * Moves the media clock to m at wall time w. A forward step that passes the
 * speed test adds to played time, and extends the continuous stretch when it
 * starts inside it; one that fails is discarded (counted, VAST_E_NOT_PLAYED).
 * A backward step fires rewind. Due quartiles and offsets fire.
 */
static vast_err advance(vast_tracker *t, const firing *f, double m, double w) {
  vast_err rc = VAST_OK;
  double prev = t->pos < 0 ? 0 : t->pos;
  double dm = m - prev;
  if (dm > 0) {
    if (step_counts(t, dm, w)) {
      t->played += dm;
      if (prev <= t->reach + EPS && m > t->reach) t->reach = m;
    } else {
      t->discarded += dm;
      rc = VAST_E_NOT_PLAYED;
    }
  }
  t->pos = m;
  if (w >= 0) t->last_wall = w;
  if (dm < -REWIND_EPS) {
    static const int rw[] = {VAST_EV_REWIND, 0};
    vast_err e = fire_events(t, f, rw);
    if (e) rc = e;
  }
  if (something_due(t)) {
    vast_err e = fire_due(t, f);
    if (e) rc = e;
  }
  return rc;
}

static vast_err start(vast_tracker *t, const firing *f) {
  if (t->state & ST_STARTED) return VAST_OK;
  t->state |= ST_STARTED;
  if (t->pos < 0) t->pos = 0;
  vast_err rc = fire_slot(t, f, VAST_EV_START);
  if (something_due(t)) { /* 0% progress offsets */
    vast_err e = fire_due(t, f);
    if (e) rc = e;
  }
  return rc;
}

/* Fires n icon URLs from plan->icon_urls[first]. */
static vast_err fire_icon(vast_tracker *t, const firing *f, vast_beacon_kind kind, const char *name,
                          uint32_t first, uint32_t n) {
  vast_err rc = VAST_OK;
  if (!n) untracked(t, f, kind, VAST_EV_UNKNOWN, name);
  for (uint32_t i = first; i < first + n; i++) {
    vast_err e = emit(t, f, kind, VAST_EV_UNKNOWN, name, t->plan->icon_urls[i].url,
                      t->plan->icon_urls[i].level);
    if (e) rc = e;
  }
  return rc;
}

/* Toggles a state bit and fires `on` or `off` only when it really changed. */
static vast_err toggle(vast_tracker *t, const firing *f, uint32_t bit, int set, const int *on,
                       const int *off) {
  if (!!(t->state & bit) == !!set) return VAST_OK;
  if (set)
    t->state |= bit;
  else
    t->state &= ~bit;
  return fire_events(t, f, set ? on : off);
}

static vast_err terminal(vast_tracker *t, const firing *f, uint32_t how, const int *slots) {
  t->state |= ST_TERMINAL | how;
  return fire_events(t, f, slots);
}

/*
 * What may still happen after a terminal event. After the media ended or was
 * skipped: close/closeLinear (dismissing the end card, once), the
 * ViewableImpression verdict (known only at the end, once), the
 * verificationNotExecuted of vendors not yet reported, and clicks and custom
 * clicks (on an end card). After close: the same but close itself (once per
 * play). After an error: the verdict and verificationNotExecuted. After
 * notUsed: nothing (a terminal event after which no other tracking may be
 * sent). Every playback input stays refused.
 */
static int allowed_after_end(const vast_tracker *t, vast_input_kind k) {
  uint32_t s = t->state;
  if (s & ST_END_NOT_USED) return 0;
  switch (k) {
  case VAST_IN_VIEWABLE:
  case VAST_IN_NOT_VIEWABLE:
  case VAST_IN_VIEW_UNDETERMINED:
  case VAST_IN_VERIFICATION_NOT_EXECUTED:
    return 1;
  case VAST_IN_CLOSE:
    return (s & ST_END_PLAY) && !(s & ST_CLOSED);
  case VAST_IN_CLICK:
  case VAST_IN_CUSTOM_CLICK:
    return (s & (ST_END_PLAY | ST_CLOSED)) != 0;
  default:
    return 0;
  }
}

vast_err vast_tracker_feed(vast_tracker *t, const vast_input *in) {
  if (!t || !in || in->kind <= 0 || in->kind >= VAST_IN__COUNT) return VAST_E_INVAL;
  const int ended = (t->state & ST_TERMINAL) != 0;
  if (ended && !allowed_after_end(t, in->kind)) return VAST_E_STATE;
  firing f = {in, 0, 0, NULL};
  const int linear = t->plan->kind == VAST_CREATIVE_LINEAR;
  vast_err rc = VAST_OK, e;
  double m = in->media_time;
  if (!(m >= 0)) m = -1; /* NaN and negatives: unknown */

  /* Inputs other than time/seek/ended move the clock first when they carry one
   * (not after the end: the media is over). */
  if (m >= 0 && !ended && (t->state & ST_STARTED) && in->kind != VAST_IN_TIME &&
      in->kind != VAST_IN_SEEK && in->kind != VAST_IN_ENDED) {
    rc = advance(t, &f, m, in->wall_time);
    if (t->state & ST_TERMINAL) return rc;
  }

  switch (in->kind) {
  case VAST_IN_LOADED: {
    if (t->state & ST_LOADED) return rc;
    t->state |= ST_LOADED;
    static const int ev[] = {VAST_EV_LOADED, 0};
    e = fire_events(t, &f, ev);
    break;
  }
  case VAST_IN_IMPRESSION:
    if (t->state & ST_IMPRESSION) return rc;
    t->state |= ST_IMPRESSION;
    e = fire_slot(t, &f, SLOT_IMPRESSION);
    if (!(t->state & ST_CREATIVE_VIEW)) {
      t->state |= ST_CREATIVE_VIEW;
      vast_err e2 = fire_slot(t, &f, VAST_EV_CREATIVE_VIEW);
      if (!e) e = e2;
    }
    break;
  case VAST_IN_CREATIVE_VIEW:
    if (t->state & ST_CREATIVE_VIEW) return rc;
    t->state |= ST_CREATIVE_VIEW;
    e = fire_slot(t, &f, VAST_EV_CREATIVE_VIEW);
    break;
  case VAST_IN_TIME:
    if (m < 0) return VAST_E_INVAL;
    e = start(t, &f);
    if (!(t->state & ST_TERMINAL)) {
      vast_err e2 = advance(t, &f, m, in->wall_time);
      if (!e) e = e2;
    }
    break;
  case VAST_IN_DURATION:
    if (!(in->value > 0) || isinf(in->value)) return VAST_E_INVAL;
    t->duration = in->value;
    recompute_due(t);
    e = (t->state & ST_STARTED) && something_due(t) ? fire_due(t, &f) : VAST_OK;
    break;
  case VAST_IN_PAUSE:
  case VAST_IN_RESUME: {
    if (!(t->state & ST_STARTED)) return VAST_E_STATE;
    static const int on[] = {VAST_EV_PAUSE, 0}, off[] = {VAST_EV_RESUME, 0};
    int was_paused = (t->state & ST_PAUSED) != 0;
    e = toggle(t, &f, ST_PAUSED, in->kind == VAST_IN_PAUSE, on, off);
    /* Wall time spent paused is no allowance for the next step: measure it
     * from the resume (unknown when the resume carries no wall time). */
    if (was_paused && in->kind == VAST_IN_RESUME)
      t->last_wall = in->wall_time >= 0 ? in->wall_time : -1;
    break;
  }
  case VAST_IN_MUTE:
  case VAST_IN_UNMUTE: {
    static const int on[] = {VAST_EV_MUTE, 0}, off[] = {VAST_EV_UNMUTE, 0};
    e = toggle(t, &f, ST_MUTED, in->kind == VAST_IN_MUTE, on, off);
    break;
  }
  case VAST_IN_PLAYER_EXPAND:
  case VAST_IN_PLAYER_COLLAPSE: {
    static const int on[] = {VAST_EV_PLAYER_EXPAND, VAST_EV_FULLSCREEN, VAST_EV_EXPAND, 0},
                     off[] = {VAST_EV_PLAYER_COLLAPSE, VAST_EV_EXIT_FULLSCREEN, VAST_EV_COLLAPSE,
                              0};
    e = toggle(t, &f, ST_EXPANDED, in->kind == VAST_IN_PLAYER_EXPAND, on, off);
    break;
  }
  case VAST_IN_AD_EXPAND:
  case VAST_IN_AD_COLLAPSE: {
    static const int on[] = {VAST_EV_AD_EXPAND, 0}, off[] = {VAST_EV_AD_COLLAPSE, 0};
    e = toggle(t, &f, ST_AD_EXPANDED, in->kind == VAST_IN_AD_EXPAND, on, off);
    break;
  }
  case VAST_IN_SEEK:
    /* A jump, never playback: the stretch stops growing until the position is
     * back inside it. */
    if (m < 0) return VAST_E_INVAL;
    if ((t->state & ST_STARTED) && t->pos >= 0 && m < t->pos - REWIND_EPS) {
      t->pos = m;
      static const int rw[] = {VAST_EV_REWIND, 0};
      e = fire_events(t, &f, rw);
    } else {
      t->pos = m;
      e = VAST_OK;
    }
    if (in->wall_time >= 0) t->last_wall = in->wall_time;
    break;
  case VAST_IN_SKIP: {
    if (!vast_tracker_skippable(t)) return VAST_E_STATE;
    static const int ev[] = {VAST_EV_SKIP, 0};
    e = terminal(t, &f, ST_END_PLAY, ev);
    break;
  }
  case VAST_IN_CLICK:
    f.click_pos = in->click_pos;
    e = fire_slot(t, &f, SLOT_CLICK);
    break;
  case VAST_IN_CUSTOM_CLICK:
    f.click_pos = in->click_pos;
    e = fire_slot(t, &f, SLOT_CUSTOM_CLICK);
    break;
  case VAST_IN_ICON_VIEW:
  case VAST_IN_ICON_CLICK: {
    if (in->icon < 0 || (size_t)in->icon >= t->plan->n_icons) return rc ? rc : VAST_E_INVAL;
    const plan_icon *ic = &t->plan->icons[in->icon];
    if (in->kind == VAST_IN_ICON_VIEW) {
      if (t->icons_viewed >> in->icon & 1) return rc;
      t->icons_viewed |= (uint16_t)(1u << in->icon);
      e = fire_icon(t, &f, VAST_BEACON_ICON_VIEW, "iconViewTracking", ic->view, ic->n_view);
    } else {
      f.click_pos = in->click_pos;
      e = fire_icon(t, &f, VAST_BEACON_ICON_CLICK, "iconClickTracking", ic->click, ic->n_click);
    }
    break;
  }
  case VAST_IN_CLOSE: {
    static const int lin[] = {VAST_EV_CLOSE_LINEAR, VAST_EV_CLOSE, 0}, other[] = {VAST_EV_CLOSE, 0};
    t->state |= ST_CLOSED;
    e = terminal(t, &f, 0, linear ? lin : other);
    break;
  }
  case VAST_IN_ENDED: {
    if (!(t->state & ST_STARTED)) return VAST_E_STATE;
    double end = m >= 0 ? m : t->duration;
    e = end >= 0 ? advance(t, &f, end, in->wall_time) : VAST_OK;
    if (t->state & ST_TERMINAL) break;
    /* complete = played to the end at normal speed: the continuous stretch
     * reaches the duration within 1 s + 1% (a declared duration a little
     * longer than the file), or, with no duration known, the position where
     * the media ended. Then whatever the stretch now covers is due first. */
    double target = t->duration > 0 ? t->duration : t->pos;
    double tol = t->duration > 0 ? 1.0 + 0.01 * t->duration : EPS;
    int earned = t->reach + tol >= target;
    if (earned && t->duration > 0 && t->reach < t->duration) {
      t->reach = t->duration;
      vast_err e2 = fire_due(t, &f);
      if (!e) e = e2;
    }
    static const int ev[] = {VAST_EV_COMPLETE, 0}, none[] = {0};
    vast_err e2 = terminal(t, &f, ST_END_PLAY, earned ? ev : none);
    if (!e) e = e2;
    break;
  }
  case VAST_IN_ERROR: {
    f.error_code = in->code ? in->code : 900;
    static const int ev[] = {SLOT_ERROR, 0};
    e = terminal(t, &f, ST_END_ERROR, ev);
    break;
  }
  case VAST_IN_NOT_USED: {
    if (t->state & (ST_STARTED | ST_IMPRESSION)) return VAST_E_STATE;
    static const int ev[] = {VAST_EV_NOT_USED, 0};
    e = terminal(t, &f, ST_END_NOT_USED, ev);
    break;
  }
  case VAST_IN_INTERACTIVE_START:
    if (t->state & ST_INTERACTIVE) return rc;
    t->state |= ST_INTERACTIVE;
    e = fire_slot(t, &f, VAST_EV_INTERACTIVE_START);
    break;
  case VAST_IN_OTHER_AD_INTERACTION:
    e = fire_slot(t, &f, VAST_EV_OTHER_AD_INTERACTION);
    break;
  case VAST_IN_ACCEPT_INVITATION: {
    static const int ev[] = {VAST_EV_ACCEPT_INVITATION, VAST_EV_ACCEPT_INVITATION_LINEAR, 0};
    e = fire_events(t, &f, ev);
    break;
  }
  case VAST_IN_MINIMIZE:
    e = fire_slot(t, &f, VAST_EV_MINIMIZE);
    break;
  case VAST_IN_OVERLAY_VIEW_DURATION:
    e = fire_slot(t, &f, VAST_EV_OVERLAY_VIEW_DURATION);
    break;
  case VAST_IN_VIEWABLE:
  case VAST_IN_NOT_VIEWABLE:
  case VAST_IN_VIEW_UNDETERMINED:
    if (t->state & ST_VIEW) return VAST_E_STATE;
    t->state |= ST_VIEW;
    e = fire_slot(t, &f,
                  in->kind == VAST_IN_VIEWABLE       ? SLOT_VIEWABLE
                  : in->kind == VAST_IN_NOT_VIEWABLE ? SLOT_NOT_VIEWABLE
                                                     : SLOT_VIEW_UNDETERMINED);
    break;
  case VAST_IN_VERIFICATION_NOT_EXECUTED: {
    const vast_plan *p = t->plan;
    f.reason = in->code;
    uint16_t mask = 0;
    for (size_t v = 0; v < p->n_vendors; v++)
      if (!in->vendor || !strcmp(in->vendor, p->vendors[v])) mask |= (uint16_t)(1u << v);
    mask &= (uint16_t)~t->verif_done;
    t->verif_done |= mask;
    e = VAST_OK;
    if (!p->n_verif)
      untracked(t, &f, VAST_BEACON_TRACKING, VAST_EV_VERIFICATION_NOT_EXECUTED,
                "verificationNotExecuted");
    for (size_t i = 0; i < p->n_verif; i++)
      if (mask >> p->verif[i].aux & 1) {
        vast_err e2 = emit(t, &f, VAST_BEACON_TRACKING, VAST_EV_VERIFICATION_NOT_EXECUTED,
                           "verificationNotExecuted", p->verif[i].url, p->verif[i].level);
        if (!e) e = e2;
      }
    break;
  }
  default:
    return VAST_E_INVAL;
  }
  /* A failure to expand (NOMEM) outranks a discarded step. */
  if (e && e != VAST_E_NOT_PLAYED) return e;
  return rc ? rc : e;
}

vast_err vast_tracker_time(vast_tracker *t, double wall, double media) {
  /* Fast path: a playing tracker inside its stretch, a plausible step, nothing
   * due. The same test as advance() (step_counts), without the input. */
  if (t && (t->state & (ST_STARTED | ST_PAUSED | ST_TERMINAL)) == ST_STARTED && media >= t->pos &&
      t->pos >= 0 && t->pos <= t->reach + EPS) {
    double dm = media - t->pos;
    if (media + EPS < t->due_reach && t->played + dm + EPS < t->due_played &&
        (dm == 0 || step_counts(t, dm, wall))) {
      t->played += dm;
      if (media > t->reach) t->reach = media;
      t->pos = media;
      if (wall >= 0) t->last_wall = wall;
      return VAST_OK;
    }
  }
  vast_input in = {VAST_IN_TIME, wall, media, 0, 0, NULL, NULL, 0};
  return vast_tracker_feed(t, &in);
}
