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

#include "vastrack.h"

#define EPS 1e-9 /* slack when comparing clock times */

/* ---- event lists ---- */

/* Input kind of an event name (with the legacy aliases); 0 when not injectable. */
static vast_input_kind event_kind(const char *name) {
  if (!strcasecmp(name, "expand") || !strcasecmp(name, "fullscreen")) return VAST_IN_PLAYER_EXPAND;
  if (!strcasecmp(name, "collapse") || !strcasecmp(name, "exitFullscreen"))
    return VAST_IN_PLAYER_COLLAPSE;
  vast_input_kind k = vast_input_from_name(name);
  if (k == VAST_IN_TIME || k == VAST_IN_LOADED || k == VAST_IN_IMPRESSION || k == VAST_IN_ENDED)
    return 0; /* driven by the simulation itself */
  return k;
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
    vast_input_kind k = event_kind(item);
    char *end;
    double t = strtod(at, &end);
    if (!k) {
      if (m) snprintf(m, msg_cap, "unknown event '%s'", item);
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
      rc = vast_tracker_icon_click(tr, in.wall_time, st->media, e->has_arg ? e->code : 0, NULL,
                                   ct, sizeof ct, NULL);
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
      (o->n_events && !o->events))
    return VAST_E_INVAL;
  for (size_t i = 1; i < o->n_events; i++)
    if (!(o->events[i - 1].at <= o->events[i].at)) return VAST_E_INVAL;
  const vast_play_event *ev = o->events;
  size_t nev = o->n_events;
  double end = o->end;

  st->wall0 = o->wall_start >= 0 ? o->wall_start : wall_now();
  vast_input in;
  memset(&in, 0, sizeof in);
  in.wall_time = st->wall0;
  in.kind = VAST_IN_LOADED;
  vast_tracker_feed(tr, &in);
  in.kind = VAST_IN_IMPRESSION;
  vast_tracker_feed(tr, &in);

  size_t next = 0;
  int paused = 0, started = 0;
  for (;;) {
    while (next < nev && ev[next].at <= st->t + EPS && !vast_tracker_done(tr)) {
      const vast_play_event *e = &ev[next++];
      if (e->kind == VAST_IN_PAUSE && started) paused = 1;
      if (e->kind == VAST_IN_RESUME) paused = 0;
      inject(tr, o, st, e);
    }
    if (vast_tracker_done(tr)) {
      st->stop = VAST_PLAY_DONE;
      break;
    }
    if (!started) { /* media starts playing at t = 0, after the events of t = 0 */
      vast_tracker_time(tr, st->wall0, 0);
      started = 1;
      continue;
    }
    if (st->media >= end - EPS && !paused) {
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
    if (paused && next >= nev) {
      st->stop = VAST_PLAY_PAUSED;
      break;
    }
    st->t += o->tick;
    st->steps++;
    if (o->on_step) o->on_step(o->user, st);
    if (!paused) {
      st->media = st->media + o->tick > end ? end : st->media + o->tick;
      vast_tracker_time(tr, st->wall0 + st->t, st->media);
    }
    if (o->max_steps && st->steps >= o->max_steps) {
      st->stop = VAST_PLAY_LIMIT;
      break;
    }
  }
  return VAST_OK;
}
