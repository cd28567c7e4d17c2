/*
 * play.c: the simulated player behind `vastrack play` and the web inspector's
 * /api/play (include/vastrack/track.h, "Playback simulation").
 *
 * Two calls: vast_play_events_parse() reads the `--events` list
 * ("NAME@T[:ARG],..."), vast_play_simulate() drives a tracker on a media
 * clock stepping by opts.tick (4 Hz by default), feeding loaded and
 * impression at 0, the injected events at their session times (the media
 * clock stops while paused), and ended when the media reaches the end. What
 * the callers do with the beacons (print them, list them as JSON, fire them)
 * stays in the callers: the tracker's own callback, plus the hooks of
 * vast_play_opts for refused events, clock steps and click-throughs.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vastrack/track.h"

#define EPS 1e-9 /* slack when comparing clock times */

/* ---- event lists ---- */

/* Spec event names (VAST 2.0-4.3 tracking events and other beacons) and what
 * they are to the simulation: the player action that fires them, or NULL for
 * those the playback itself earns (with the reason, for the message). */
static const struct {
  const char *name;
  vast_input_kind kind;
  const char *earned;
} spec_names[] = {
    {"expand", VAST_IN_PLAYER_EXPAND, NULL},
    {"fullscreen", VAST_IN_PLAYER_EXPAND, NULL},
    {"collapse", VAST_IN_PLAYER_COLLAPSE, NULL},
    {"exitFullscreen", VAST_IN_PLAYER_COLLAPSE, NULL},
    {"rewind", VAST_IN_SEEK, NULL}, /* a seek back, to ARG (default 0) */
    {"closeLinear", VAST_IN_CLOSE, NULL},
    {"acceptInvitationLinear", VAST_IN_ACCEPT_INVITATION, NULL},
    {"clickThrough", VAST_IN_CLICK, NULL},
    {"clickTracking", VAST_IN_CLICK, NULL},
    {"iconViewTracking", VAST_IN_ICON_VIEW, NULL},
    {"iconClickTracking", VAST_IN_ICON_CLICK, NULL},
    {"loaded", 0, "the simulation reports it at 0"},
    {"impression", 0, "the simulation reports it at 0 (first frame)"},
    {"start", 0, "the media starts at 0"},
    {"firstQuartile", 0, "earned by 25% played continuously at normal speed"},
    {"midpoint", 0, "earned by 50% played continuously at normal speed"},
    {"thirdQuartile", 0, "earned by 75% played continuously at normal speed"},
    {"complete", 0, "earned by playing to the end (no --watch)"},
    {"progress", 0, "earned at the offsets of the tag"},
    {"time", 0, "the media clock runs by itself"},
    {"ended", 0, "the media ends at the end of the play (no --watch)"},
    {"timeSpentViewing", 0, "a legacy event no player action fires"},
};

/*
 * Input kind of an event name: the spec names above, else a
 * vast_input_from_name() name. 0 when not injectable; *why then says why when
 * the name is known (an event the playback earns by itself).
 */
static vast_input_kind event_kind(const char *name, const char **why) {
  *why = NULL;
  for (size_t i = 0; i < sizeof spec_names / sizeof *spec_names; i++)
    if (!strcasecmp(name, spec_names[i].name)) {
      *why = spec_names[i].earned;
      return spec_names[i].kind;
    }
  return vast_input_from_name(name);
}

/* Injected at 0 before loaded and the impression: an ad dropped (notUsed) or
 * failing (error, e.g. 403 no supported media) before anything is shown. */
static int before_impression(const vast_play_event *e) {
  return e->at <= 0 && (e->kind == VAST_IN_NOT_USED || e->kind == VAST_IN_ERROR);
}

/* ARG as an int, saturated (a cast of an out-of-range double is undefined). */
static int saturate(double v) {
  if (v >= (double)INT_MAX) return INT_MAX;
  if (v <= (double)INT_MIN) return INT_MIN;
  return (int)v;
}

/*
 * Parses a copy of the list in place (strtok_r), checks each item as written
 * (name, then time, then count, then argument), then sorts by time with a
 * stable insertion sort (lists are short).
 */
vast_err vast_play_events_parse(const char *list, vast_play_event *out, size_t max, size_t *n,
                                char *msg, size_t msg_cap) {
  if (msg && msg_cap) msg[0] = 0;
  if (n) *n = 0;
  if (!n || (!out && max)) {
    if (msg && msg_cap) snprintf(msg, msg_cap, "%s", vast_strerror(VAST_E_INVAL));
    return VAST_E_INVAL;
  }
  if (!list || !*list) return VAST_OK;
  char *copy = strdup(list);
  if (!copy) {
    if (msg && msg_cap) snprintf(msg, msg_cap, "%s", vast_strerror(VAST_E_NOMEM));
    return VAST_E_NOMEM;
  }
  char *m = msg && msg_cap ? msg : NULL;
  size_t cnt = 0;
  vast_err rc = VAST_OK;
  for (char *save = NULL, *item = strtok_r(copy, ",", &save); item;
       item = strtok_r(NULL, ",", &save)) {
    char *at = strchr(item, '@');
    if (!at) {
      if (m) snprintf(m, msg_cap, "event '%s' has no time (NAME@SECONDS)", item);
      rc = VAST_E_INVAL;
      break;
    }
    *at++ = 0;
    char *arg = strchr(at, ':');
    if (arg) *arg++ = 0;
    const char *why;
    vast_input_kind k = event_kind(item, &why);
    char *end;
    double t = strtod(at, &end);
    if (!k) {
      if (m && why)
        snprintf(m, msg_cap, "event '%s' cannot be injected: %s", item, why);
      else if (m)
        snprintf(m, msg_cap, "unknown event '%s'", item);
      rc = VAST_E_INVAL;
      break;
    }
    if (end == at || *end || !(t >= 0) || !isfinite(t)) {
      if (m) snprintf(m, msg_cap, "bad time '%s' for event '%s'", at, item);
      rc = VAST_E_INVAL;
      break;
    }
    if (cnt >= max) {
      if (m) snprintf(m, msg_cap, "more than %zu events", max);
      rc = VAST_E_NOSPACE;
      break;
    }
    vast_play_event *e = &out[cnt];
    memset(e, 0, sizeof *e);
    e->kind = k;
    e->at = t;
    snprintf(e->name, sizeof e->name, "%s", item); /* every injectable name fits */
    if (arg) {
      e->arg = strtod(arg, &end);
      if (end == arg || *end || !isfinite(e->arg)) {
        if (m) snprintf(m, msg_cap, "bad argument '%s' for event '%s'", arg, item);
        rc = VAST_E_INVAL;
        break;
      }
      e->code = saturate(e->arg);
      e->has_arg = 1;
    } else if (!strcasecmp(item, "rewind")) {
      e->has_arg = 1; /* back to the beginning */
    } else if (k == VAST_IN_SEEK || k == VAST_IN_DURATION) {
      if (m) snprintf(m, msg_cap, "event '%s' needs an argument (%s@T:SECONDS)", item, item);
      rc = VAST_E_INVAL;
      break;
    }
    cnt++;
  }
  free(copy);
  if (rc != VAST_OK) return rc;
  for (size_t i = 1; i < cnt; i++) {
    vast_play_event x = out[i];
    size_t j = i;
    while (j > 0 && out[j - 1].at > x.at) {
      out[j] = out[j - 1];
      j--;
    }
    out[j] = x;
  }
  *n = cnt;
  return VAST_OK;
}

/* ---- the simulation ---- */

void vast_play_opts_init(vast_play_opts *opts) {
  if (!opts) return;
  memset(opts, 0, sizeof *opts);
  opts->size = sizeof *opts;
  opts->duration = -1;
  opts->tick = VAST_PLAY_TICK;
  opts->wall_start = -1;
  opts->rate = 1;
}

size_t vast_play_event_address(const char *item, int *brk, int *ad) {
  const char *p = item;
  long a = 0, b = -1;
  if (!p || !brk || !ad || *p < '0' || *p > '9') return 0;
  while (*p >= '0' && *p <= '9' && a < 100000)
    a = a * 10 + (*p++ - '0');
  if (*p == '.') {
    b = a;
    a = 0;
    p++;
    if (*p < '0' || *p > '9') return 0;
    while (*p >= '0' && *p <= '9' && a < 100000)
      a = a * 10 + (*p++ - '0');
  }
  if (*p != '/') return 0;
  *brk = (int)b;
  *ad = (int)a;
  return (size_t)(p + 1 - item);
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000) / 1e6;
}

/*
 * Feeds one injected event at the current clocks. A seek moves the media
 * clock (to at most `end`) whether or not the tracker accepts it; a refusal
 * goes to on_refused and the play goes on.
 */
static void inject(vast_tracker *tr, const vast_play_opts *o, vast_play_state *st,
                   const vast_play_event *e) {
  vast_input in;
  memset(&in, 0, sizeof in);
  in.kind = e->kind;
  in.wall_time = st->wall0 + st->t;
  in.media_time = st->media;
  vast_err rc;
  char ct[8192];
  if (e->kind == VAST_IN_CLICK || e->kind == VAST_IN_ICON_CLICK) {
    int plain = e->kind == VAST_IN_CLICK;
    if (plain)
      rc = vast_tracker_click(tr, in.wall_time, st->media, NULL, ct, sizeof ct, NULL);
    else
      rc = vast_tracker_icon_click(tr, in.wall_time, st->media, e->has_arg ? e->code : 0, NULL, ct,
                                   sizeof ct, NULL);
    if ((rc == VAST_OK || rc == VAST_E_NOSPACE) && ct[0] && o->on_click_through)
      o->on_click_through(o->user, st, plain ? "clickThrough" : "iconClickThrough", ct);
  } else {
    if (e->kind == VAST_IN_ICON_VIEW) in.icon = e->has_arg ? e->code : 0;
    if (e->kind == VAST_IN_SEEK) {
      in.media_time = e->arg > o->end ? o->end : e->arg;
      st->media = in.media_time;
    }
    if (e->kind == VAST_IN_DURATION) in.value = e->arg;
    if (e->kind == VAST_IN_ERROR) in.code = e->has_arg ? e->code : 900;
    if (e->kind == VAST_IN_VERIFICATION_NOT_EXECUTED) in.code = e->has_arg ? e->code : 0;
    rc = vast_tracker_feed(tr, &in);
  }
  if (rc != VAST_OK && rc != VAST_E_NOSPACE && o->on_refused)
    o->on_refused(o->user, st, e, rc,
                  rc == VAST_E_STATE
                      ? (e->kind == VAST_IN_SKIP ? "not skippable yet" : "not valid now")
                      : vast_strerror(rc));
}

vast_err vast_play_simulate(vast_tracker *tr, const vast_play_opts *opts, vast_play_state *state) {
  vast_play_state local;
  vast_play_state *st = state ? state : &local;
  memset(st, 0, sizeof *st);
  if (!tr || !opts || opts->size != sizeof *opts) return VAST_E_INVAL;
  const vast_play_opts *o = opts;
  if (!isfinite(o->end) || o->end < 0 || !isfinite(o->tick) || !(o->tick > 0) ||
      !isfinite(o->rate) || !(o->rate > 0) || (o->n_events && !o->events))
    return VAST_E_INVAL;
  for (size_t i = 1; i < o->n_events; i++)
    if (!(o->events[i - 1].at <= o->events[i].at)) return VAST_E_INVAL;
  const vast_play_event *ev = o->events;
  size_t nev = o->n_events;
  double end = o->end;

  st->wall0 = o->wall_start >= 0 ? o->wall_start : wall_now();
  st->media = -1; /* nothing shown yet */
  for (size_t i = 0; i < nev && !vast_tracker_done(tr); i++)
    if (before_impression(&ev[i])) inject(tr, o, st, &ev[i]);
  vast_input in;
  memset(&in, 0, sizeof in);
  in.wall_time = st->wall0;
  in.media_time = -1;
  if (!vast_tracker_done(tr)) {
    in.kind = VAST_IN_LOADED;
    vast_tracker_feed(tr, &in);
    in.kind = VAST_IN_IMPRESSION;
    vast_tracker_feed(tr, &in);
  }
  st->media = 0;

  size_t next = 0;
  int paused = 0, started = 0;
  for (;;) {
    /* The media reached its end at this moment: ended comes before the events
     * of the moment (a closeLinear at the end dismisses the end card). */
    if (started && st->media >= end - EPS && !paused) {
      if (o->fire_ended) {
        memset(&in, 0, sizeof in);
        in.kind = VAST_IN_ENDED;
        in.wall_time = st->wall0 + st->t;
        in.media_time = o->duration;
        vast_tracker_feed(tr, &in);
      }
      st->stop = VAST_PLAY_END;
      break;
    }
    while (next < nev && ev[next].at <= st->t + EPS && !vast_tracker_done(tr)) {
      const vast_play_event *e = &ev[next++];
      if (before_impression(e)) continue; /* fed above */
      if (e->kind == VAST_IN_PAUSE && started) paused = 1;
      if (e->kind == VAST_IN_RESUME) paused = 0;
      inject(tr, o, st, e);
    }
    if (vast_tracker_done(tr)) {
      st->stop = VAST_PLAY_DONE;
      break;
    }
    if (started && st->media >= end - EPS && !paused) continue; /* a seek to the end */
    if (!started) { /* media starts playing at t = 0, after the events of t = 0 */
      vast_tracker_time(tr, st->wall0, 0);
      started = 1;
      continue;
    }
    if (paused && next >= nev) {
      st->stop = VAST_PLAY_PAUSED;
      break;
    }
    st->t += o->tick;
    st->steps++;
    if (o->on_step) o->on_step(o->user, st);
    if (!paused) {
      double step = o->tick * o->rate;
      st->media = st->media + step > end ? end : st->media + step;
      vast_tracker_time(tr, st->wall0 + st->t, st->media);
    }
    if (o->max_steps && st->steps >= o->max_steps) {
      st->stop = VAST_PLAY_LIMIT;
      break;
    }
  }
  /* After the end (complete, skip, close, error...): the events left still
   * happen at their times, on a stopped media clock; the tracker takes those
   * allowed after the end (closeLinear, a viewability verdict, end card clicks)
   * and refuses the others (on_refused). */
  if (vast_tracker_done(tr))
    for (; next < nev; next++) {
      const vast_play_event *e = &ev[next];
      if (before_impression(e)) continue;
      if (e->at > st->t + EPS) {
        st->t = e->at;
        if (o->on_step) o->on_step(o->user, st);
      }
      inject(tr, o, st, e);
    }
  return VAST_OK;
}
