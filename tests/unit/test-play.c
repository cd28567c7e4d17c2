/*
 * test-play.c: the simulated player (vast_play_events_parse, vast_play_simulate)
 * over a hand-written 20 s Linear with a skip offset, progress, two icons and
 * a click-through: event lists (errors, sorting, aliases), the media clock
 * (pause stops it, seek moves it), ended only when played to the end, the
 * refused-event, clock-step and click-through callbacks, limits and bad options.
 */
#include <limits.h>
#include <math.h>

#include "harness.h"
#include "vastrack.h"

static const char TAG[] =
    "<VAST version=\"4.2\"><Ad id=\"a1\"><InLine>"
    "<AdSystem>t</AdSystem><AdTitle>t</AdTitle><AdServingId>srv-9</AdServingId>"
    "<Impression>http://t/imp</Impression>"
    "<Error><![CDATA[http://t/err?c=[ERRORCODE]]]></Error>"
    "<Creatives><Creative><Linear skipoffset=\"00:00:05\">"
    "<Duration>00:00:20</Duration>"
    "<TrackingEvents>"
    "<Tracking event=\"start\">http://t/start</Tracking>"
    "<Tracking event=\"firstQuartile\">http://t/q1</Tracking>"
    "<Tracking event=\"midpoint\">http://t/q2</Tracking>"
    "<Tracking event=\"thirdQuartile\">http://t/q3</Tracking>"
    "<Tracking event=\"complete\">http://t/complete</Tracking>"
    "<Tracking event=\"skip\">http://t/skip</Tracking>"
    "<Tracking event=\"mute\">http://t/mute</Tracking>"
    "<Tracking event=\"pause\">http://t/pause</Tracking>"
    "<Tracking event=\"resume\">http://t/resume</Tracking>"
    "<Tracking event=\"rewind\">http://t/rewind</Tracking>"
    "<Tracking event=\"playerExpand\">http://t/expand</Tracking>"
    "<Tracking event=\"closeLinear\">http://t/closeLinear</Tracking>"
    "<Tracking event=\"notUsed\">http://t/notUsed</Tracking>"
    "</TrackingEvents>"
    "<VideoClicks><ClickThrough><![CDATA[http://t/land?s=[ADSERVINGID]]]></ClickThrough>"
    "<ClickTracking>http://t/click</ClickTracking></VideoClicks>"
    "<MediaFiles><MediaFile delivery=\"progressive\" type=\"video/mp4\" width=\"1\" "
    "height=\"1\">http://t/a.mp4</MediaFile></MediaFiles>"
    "<Icons>"
    "<Icon program=\"p0\"><StaticResource "
    "creativeType=\"image/png\">http://t/i0.png</StaticResource>"
    "<IconClicks><IconClickThrough>http://t/i0/land</IconClickThrough>"
    "<IconClickTracking>http://t/i0/click</IconClickTracking></IconClicks>"
    "<IconViewTracking>http://t/i0/view</IconViewTracking></Icon>"
    "<Icon program=\"p1\"><StaticResource "
    "creativeType=\"image/png\">http://t/i1.png</StaticResource>"
    "<IconClicks><IconClickThrough>http://t/i1/land</IconClickThrough>"
    "<IconClickTracking>http://t/i1/click</IconClickTracking></IconClicks>"
    "<IconViewTracking>http://t/i1/view</IconViewTracking></Icon>"
    "</Icons>"
    "</Linear></Creative></Creatives></InLine></Ad></VAST>";

/* ---- a recorder of everything the simulation reports ---- */

#define MAXREC 256
typedef struct rec {
  char name[40];
  char url[128];
  double t, media, wall;
} rec;

static struct {
  vast_play_state st; /* the state passed to vast_play_simulate */
  rec beacons[MAXREC];
  size_t nb;
  rec refused[16];
  vast_err refused_rc[16];
  size_t nr;
  rec through[16];
  size_t nt;
  size_t steps;
  double last_step_t;
  int step_order_ok; /* t advanced by one tick, media not moved yet */
  double prev_media;
} R;

static void put(rec *r, const char *name, const char *url, double t, double media, double wall) {
  snprintf(r->name, sizeof r->name, "%s", name);
  snprintf(r->url, sizeof r->url, "%s", url ? url : "");
  r->t = t;
  r->media = media;
  r->wall = wall;
}

static void on_beacon(void *user, const vast_track_beacon *b) {
  if (R.nb < MAXREC) put(&R.beacons[R.nb++], b->name, b->url, R.st.t, R.st.media, b->wall_time);
}
static void on_refused(void *user, const vast_play_state *st, const vast_play_event *e, vast_err rc,
                       const char *reason) {
  CHECK(st == &R.st);
  if (R.nr < 16) {
    R.refused_rc[R.nr] = rc;
    put(&R.refused[R.nr++], e->name, reason, st->t, st->media, 0);
  }
}
static void on_through(void *user, const vast_play_state *st, const char *name, const char *url) {
  if (R.nt < 16) put(&R.through[R.nt++], name, url, st->t, st->media, 0);
}
static void on_step(void *user, const vast_play_state *st) {
  if (st->steps != R.steps + 1 || fabs(st->t - (R.last_step_t + *(double *)user)) > 1e-9)
    R.step_order_ok = 0;
  R.steps = st->steps;
  R.last_step_t = st->t;
}

static const rec *find(const char *name, size_t nth) {
  for (size_t i = 0; i < R.nb; i++)
    if (!strcmp(R.beacons[i].name, name) && nth-- == 0) return &R.beacons[i];
  return NULL;
}
static size_t count(const char *name) {
  size_t n = 0;
  for (size_t i = 0; i < R.nb; i++)
    n += !strcmp(R.beacons[i].name, name);
  return n;
}

/* ---- one play ---- */

static vast_doc *doc;
static vast_plan *plan;
static vast_tracker *tr;
static double tick_used;

/* A fresh tracker (the previous play's objects are freed first). */
static void setup(void) {
  vast_tracker_free(tr);
  vast_plan_free(plan);
  vast_doc_free(doc);
  tr = NULL;
  plan = NULL;
  doc = NULL;
  memset(&R, 0, sizeof R);
  R.step_order_ok = 1;
  vast_error err;
  CHECK_INT(vast_doc_parse(TAG, sizeof TAG - 1, NULL, &doc, &err), VAST_OK);
  const vast_ad *ad = &vast_doc_vast(doc)->ads[0];
  CHECK_INT(vast_plan_create(&ad, 1, 0, 0, &plan), VAST_OK);
  CHECK_INT(vast_plan_icon_count(plan), 2);
  CHECK_INT(vast_tracker_create(plan, NULL, on_beacon, NULL, &tr), VAST_OK);
  vast_tracker_seed(tr, 1);
}

/* Plays events (a --events list) to `end`; ended fed when end >= 20. */
static vast_err play_ex(const char *events, double end, double tick, unsigned long max_steps) {
  setup();
  static vast_play_event ev[64];
  size_t n = 0;
  char msg[128];
  CHECK_INT(vast_play_events_parse(events, ev, 64, &n, msg, sizeof msg), VAST_OK);
  vast_play_opts o;
  vast_play_opts_init(&o);
  o.end = end;
  o.fire_ended = end >= 20;
  o.duration = 20;
  o.wall_start = 1700000000;
  if (tick > 0) o.tick = tick;
  o.max_steps = max_steps;
  o.events = ev;
  o.n_events = n;
  o.on_refused = on_refused;
  o.on_step = on_step;
  o.on_click_through = on_through;
  tick_used = o.tick;
  o.user = &tick_used;
  return vast_play_simulate(tr, &o, &R.st);
}
static void play(const char *events, double end) {
  CHECK_INT(play_ex(events, end, 0, 0), VAST_OK);
}

/* ---- event lists ---- */

TEST(parse_sorts_by_time_stably) {
  vast_play_event ev[8];
  size_t n = 99;
  char msg[64] = "x";
  CHECK_INT(vast_play_events_parse("unmute@4,mute@2,click@2,pause@0.5,error@3:405", ev, 8, &n, msg,
                                   sizeof msg),
            VAST_OK);
  CHECK_STR(msg, "");
  CHECK_INT(n, 5);
  const char *order[] = {"pause", "mute", "click", "error", "unmute"};
  for (size_t i = 0; i < n; i++)
    CHECK_STR(ev[i].name, order[i]);
  CHECK_INT(ev[0].kind, VAST_IN_PAUSE);
  CHECK_NEAR(ev[0].at, 0.5, 1e-12);
  CHECK_INT(ev[0].has_arg, 0);
  CHECK_INT(ev[3].kind, VAST_IN_ERROR);
  CHECK_INT(ev[3].has_arg, 1);
  CHECK_INT(ev[3].code, 405);
  CHECK_NEAR(ev[3].arg, 405, 0);
}

TEST(parse_empty_items_aliases_and_saturated_codes) {
  vast_play_event ev[8];
  size_t n = 99;
  CHECK_INT(vast_play_events_parse(NULL, ev, 8, &n, NULL, 0), VAST_OK);
  CHECK_INT(n, 0);
  CHECK_INT(vast_play_events_parse("", ev, 8, &n, NULL, 0), VAST_OK);
  CHECK_INT(n, 0);
  CHECK_INT(vast_play_events_parse(",,FullScreen@1,,exitFullscreen@2,expand@3,collapse@4,"
                                   "error@5:1e12,seek@6:-2.5",
                                   ev, 8, &n, NULL, 0),
            VAST_OK);
  CHECK_INT(n, 6);
  CHECK_INT(ev[0].kind, VAST_IN_PLAYER_EXPAND);
  CHECK_STR(ev[0].name, "FullScreen");
  CHECK_INT(ev[1].kind, VAST_IN_PLAYER_COLLAPSE);
  CHECK_INT(ev[2].kind, VAST_IN_PLAYER_EXPAND);
  CHECK_INT(ev[3].kind, VAST_IN_PLAYER_COLLAPSE);
  CHECK_INT(ev[4].code, INT_MAX);
  CHECK_INT(ev[5].kind, VAST_IN_SEEK);
  CHECK_NEAR(ev[5].arg, -2.5, 0);
  CHECK_INT(ev[5].code, -2);
}

TEST(parse_errors_table) {
  static const struct {
    const char *list;
    size_t max;
    vast_err rc;
    const char *msg;
  } cases[] = {
      {"mute", 8, VAST_E_INVAL, "event 'mute' has no time (NAME@SECONDS)"},
      {"mute@1,dance@2", 8, VAST_E_INVAL, "unknown event 'dance'"},
      {"@3", 8, VAST_E_INVAL, "unknown event ''"},
      {"time@3", 8, VAST_E_INVAL,
       "event 'time' cannot be injected: the media clock runs by itself"},
      {"loaded@0", 8, VAST_E_INVAL,
       "event 'loaded' cannot be injected: the simulation reports it at 0"},
      {"impression@0", 8, VAST_E_INVAL,
       "event 'impression' cannot be injected: the simulation reports it at 0 (first frame)"},
      {"firstQuartile@3", 8, VAST_E_INVAL,
       "event 'firstQuartile' cannot be injected: earned by 25% played continuously at normal "
       "speed"},
      {"dance@3", 8, VAST_E_INVAL, "unknown event 'dance'"},
      {"ended@9", 8, VAST_E_INVAL,
       "event 'ended' cannot be injected: the media ends at the end of the play (no --watch)"},
      {"mute@x", 8, VAST_E_INVAL, "bad time 'x' for event 'mute'"},
      {"mute@", 8, VAST_E_INVAL, "bad time '' for event 'mute'"},
      {"mute@-1", 8, VAST_E_INVAL, "bad time '-1' for event 'mute'"},
      {"mute@inf", 8, VAST_E_INVAL, "bad time 'inf' for event 'mute'"},
      {"mute@nan", 8, VAST_E_INVAL, "bad time 'nan' for event 'mute'"},
      {"mute@2s", 8, VAST_E_INVAL, "bad time '2s' for event 'mute'"},
      {"error@1:x", 8, VAST_E_INVAL, "bad argument 'x' for event 'error'"},
      {"error@1:inf", 8, VAST_E_INVAL, "bad argument 'inf' for event 'error'"},
      {"seek@1:2:3", 8, VAST_E_INVAL, "bad argument '2:3' for event 'seek'"},
      {"seek@3", 8, VAST_E_INVAL, "event 'seek' needs an argument (seek@T:SECONDS)"},
      {"duration@3", 8, VAST_E_INVAL, "event 'duration' needs an argument (duration@T:SECONDS)"},
      {"mute@1,unmute@2,mute@3", 2, VAST_E_NOSPACE, "more than 2 events"},
      {"mute@1", 0, VAST_E_NOSPACE, "more than 0 events"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    vast_play_event ev[8];
    size_t n = 99;
    char msg[128] = "";
    vast_err rc = vast_play_events_parse(cases[i].list, cases[i].max ? ev : NULL, cases[i].max, &n,
                                         msg, sizeof msg);
    if (rc != cases[i].rc || strcmp(msg, cases[i].msg) || n != 0)
      fprintf(stderr, "  case '%s': rc %d n %zu msg '%s'\n", cases[i].list, rc, n, msg);
    CHECK_INT(rc, cases[i].rc);
    CHECK_STR(msg, cases[i].msg);
    CHECK_INT(n, 0);
  }
  /* a short message buffer is cut, NUL-terminated */
  char small[8];
  size_t n;
  vast_play_event ev[1];
  CHECK_INT(vast_play_events_parse("dance@1", ev, 1, &n, small, sizeof small), VAST_E_INVAL);
  CHECK_STR(small, "unknown");
  /* bad calls */
  CHECK_INT(vast_play_events_parse("mute@1", ev, 1, NULL, NULL, 0), VAST_E_INVAL);
  CHECK_INT(vast_play_events_parse("mute@1", NULL, 1, &n, NULL, 0), VAST_E_INVAL);
}

/* ---- the simulation ---- */

TEST(plays_to_the_end_and_fires_complete) {
  play(NULL, 20);
  CHECK_INT(R.st.stop, VAST_PLAY_END);
  CHECK_NEAR(R.st.t, 20, 1e-9);
  CHECK_NEAR(R.st.media, 20, 1e-9);
  CHECK_INT(R.st.steps, 80);
  CHECK_STR(R.beacons[0].name, "impression"); /* (no creativeView tracking in TAG) */
  CHECK_STR(R.beacons[1].name, "start");
  for (int i = 0; i < 2; i++)
    CHECK_NEAR(R.beacons[i].t, 0, 0);
  CHECK(find("firstQuartile", 0) && fabs(find("firstQuartile", 0)->t - 5) < 1e-9);
  CHECK(find("midpoint", 0) && fabs(find("midpoint", 0)->t - 10) < 1e-9);
  CHECK(find("thirdQuartile", 0) && fabs(find("thirdQuartile", 0)->t - 15) < 1e-9);
  const rec *c = find("complete", 0);
  CHECK(c != NULL);
  CHECK_NEAR(c->t, 20, 1e-9);
  CHECK_STR(R.beacons[R.nb - 1].name, "complete");
  /* wall time of each beacon: wall_start + session time */
  for (size_t i = 0; i < R.nb; i++)
    CHECK_NEAR(R.beacons[i].wall, 1700000000 + R.beacons[i].t, 1e-6);
  CHECK(vast_tracker_done(tr));
}

TEST(ended_only_when_played_to_the_end) {
  play(NULL, 12); /* a --watch 12: stops, no ended */
  CHECK_INT(R.st.stop, VAST_PLAY_END);
  CHECK_NEAR(R.st.media, 12, 1e-9);
  CHECK_INT(count("complete"), 0);
  CHECK_INT(count("midpoint"), 1);
  CHECK_INT(count("thirdQuartile"), 0);
  CHECK(!vast_tracker_done(tr));
  /* watch 0: impression and start only */
  play(NULL, 0);
  CHECK_INT(R.st.stop, VAST_PLAY_END);
  CHECK_INT(R.st.steps, 0);
  CHECK_INT(R.nb, 2);
  /* paused for good before the end: no ended */
  play("pause@6", 20);
  CHECK_INT(R.st.stop, VAST_PLAY_PAUSED);
  CHECK_NEAR(R.st.t, 6, 1e-9);
  CHECK_NEAR(R.st.media, 6, 1e-9);
  CHECK_INT(count("complete"), 0);
  CHECK_INT(count("pause"), 1);
}

TEST(pause_stops_the_media_clock) {
  play("pause@6,resume@8", 20);
  CHECK_INT(R.st.stop, VAST_PLAY_END);
  const rec *p = find("pause", 0), *r = find("resume", 0), *m = find("midpoint", 0),
            *c = find("complete", 0);
  CHECK(p && r && m && c);
  CHECK_NEAR(p->t, 6, 1e-9);
  CHECK_NEAR(p->media, 6, 1e-9);
  CHECK_NEAR(r->t, 8, 1e-9);
  CHECK_NEAR(r->media, 6, 1e-9); /* nothing played while paused */
  CHECK_NEAR(m->t, 12, 1e-9);    /* 10 s of media, 2 s late */
  CHECK_NEAR(m->media, 10, 1e-9);
  CHECK_NEAR(c->t, 22, 1e-9);
  CHECK_NEAR(R.st.media, 20, 1e-9);
  for (size_t i = 0; i < R.nb; i++)
    CHECK(!(R.beacons[i].t > 6 && R.beacons[i].t < 8));
  /* a pause before start does not stop the media (the tracker refuses it; the
     resume is a redundant toggle) */
  play("pause@0,resume@3", 20);
  CHECK_INT(R.nr, 1);
  CHECK_STR(R.refused[0].name, "pause");
  CHECK_INT(R.refused_rc[0], VAST_E_STATE);
  CHECK_STR(R.refused[0].url, "not valid now");
  CHECK_NEAR(find("complete", 0)->t, 20, 1e-9);
}

TEST(seek_moves_the_media_clock) {
  /* forward: earns nothing; back: rewind, and playback continues the stretch
     from 0 (0-1) once it passes its end (1): 5 s at media 5, t 6 */
  play("seek@1:9,seek@2:1", 12);
  CHECK_INT(count("firstQuartile"), 1);
  const rec *rw = find("rewind", 0), *q1 = find("firstQuartile", 0);
  CHECK(rw && q1);
  CHECK_NEAR(rw->t, 2, 1e-9);
  CHECK_NEAR(rw->media, 1, 1e-9);
  CHECK_NEAR(q1->media, 5, 1e-9); /* the old engine summed 0-1, 9-10, 1-4: media 4 */
  CHECK_NEAR(q1->t, 6, 1e-9);
  CHECK_NEAR(R.st.t, 13, 1e-9); /* 12 - 1 media seconds + 2 s of seeks */
  /* a target past the end is cut to it, and the events are not changed */
  setup();
  vast_play_event ev[2];
  size_t n;
  CHECK_INT(vast_play_events_parse("seek@1:900", ev, 2, &n, NULL, 0), VAST_OK);
  vast_play_opts o;
  vast_play_opts_init(&o);
  o.end = 12;
  o.events = ev;
  o.n_events = n;
  CHECK_INT(vast_play_simulate(tr, &o, &R.st), VAST_OK);
  CHECK_INT(R.st.stop, VAST_PLAY_END);
  CHECK_NEAR(R.st.t, 1, 1e-9);
  CHECK_NEAR(R.st.media, 12, 1e-9);
  CHECK_NEAR(ev[0].arg, 900, 0);
  CHECK_INT(count("firstQuartile"), 0);
}

TEST(refused_events_go_to_the_callback_and_the_play_goes_on) {
  play("skip@3,mute@3.5,skip@6,mute@7", 20);
  CHECK_INT(R.st.stop, VAST_PLAY_DONE);
  CHECK_NEAR(R.st.t, 7, 1e-9); /* mute@7 comes after the end: fed, and refused */
  CHECK_INT(R.nr, 2);
  CHECK_STR(R.refused[1].name, "mute");
  CHECK_STR(R.refused[1].url, "not valid now");
  CHECK_STR(R.refused[0].name, "skip");
  CHECK_STR(R.refused[0].url, "not skippable yet");
  CHECK_INT(R.refused_rc[0], VAST_E_STATE);
  CHECK_NEAR(R.refused[0].t, 3, 1e-9);
  CHECK_INT(count("mute"), 1);
  CHECK(find("skip", 0) && fabs(find("skip", 0)->t - 6) < 1e-9);
  CHECK_STR(R.beacons[R.nb - 1].name, "skip");
  /* an error for a bad input: the tracker's message */
  play("iconView@2:7,duration@3:-1", 4);
  CHECK_INT(R.nr, 2);
  CHECK_STR(R.refused[0].name, "iconView");
  CHECK_INT(R.refused_rc[0], VAST_E_INVAL);
  CHECK_STR(R.refused[0].url, vast_strerror(VAST_E_INVAL));
  CHECK_STR(R.refused[1].name, "duration");
  /* after a terminal event a playback event is refused, and nothing fires */
  play("error@4:405,mute@5", 20);
  CHECK_INT(R.st.stop, VAST_PLAY_DONE);
  CHECK_STR(R.beacons[R.nb - 1].name, "error");
  CHECK_STR(R.beacons[R.nb - 1].url, "http://t/err?c=405");
  CHECK_INT(R.nr, 1);
  play("error@4", 20);
  CHECK_STR(R.beacons[R.nb - 1].url, "http://t/err?c=900");
}

/* notUsed and an error at 0 happen before loaded and the impression (an ad
 * dropped, or failing with 403 before anything is shown); issue 11: play fed
 * the impression first, so notUsed@0 was refused. */
TEST(not_used_and_error_before_the_impression) {
  play("notUsed@0", 20);
  CHECK_INT(R.nr, 0);
  CHECK_INT(R.nb, 1);
  CHECK_STR(R.beacons[0].name, "notUsed");
  CHECK_INT(R.st.stop, VAST_PLAY_DONE);
  play("error@0:403", 20);
  CHECK_INT(R.nb, 1);
  CHECK_STR(R.beacons[0].url, "http://t/err?c=403");
  CHECK_INT(count("impression") + count("start"), 0);
  /* notUsed after the impression is refused */
  play("notUsed@1", 20);
  CHECK_INT(R.nr, 1);
  CHECK_INT(count("notUsed"), 0);
  CHECK_INT(count("complete"), 1);
}

/* After complete, the end card: a click on it and its dismissal (closeLinear),
 * at the end and later; playback events after the end are refused. Spec names
 * are accepted: rewind (a seek back, to 0 by default), closeLinear. */
TEST(events_after_the_end_and_spec_names) {
  play("clickThrough@20,pause@21,closeLinear@22,closeLinear@23,click@24", 20);
  const rec *c = find("complete", 0), *k = find("clickTracking", 0), *cl = find("closeLinear", 0);
  CHECK(c && cl && k);
  CHECK(c < k && k < cl); /* ended before the events of the same moment */
  CHECK_NEAR(k->t, 20, 1e-9);
  CHECK_NEAR(cl->t, 22, 1e-9);
  CHECK_INT(count("closeLinear"), 1);
  CHECK_INT(count("clickTracking"), 2);
  CHECK_INT(R.nr, 2); /* pause: playback over; a second close */
  CHECK_STR(R.refused[0].name, "pause");
  CHECK_STR(R.refused[1].name, "closeLinear");
  play("rewind@6", 20);
  const rec *rw = find("rewind", 0);
  CHECK(rw && fabs(rw->t - 6) < 1e-9);
  CHECK_NEAR(find("firstQuartile", 0)->t, 5, 1e-9); /* 5 s at t = 5 ... */
  CHECK_NEAR(find("midpoint", 0)->t, 16, 1e-9);     /* ... replay 0-6, then 10 s at t = 16 */
  CHECK_INT(count("complete"), 1);
}

/* opts.rate: the media clock runs at rate x the session clock; faster than
 * normal speed earns no quartile (the tracker throws the steps away). */
TEST(playback_rate) {
  setup();
  vast_play_opts o;
  vast_play_opts_init(&o);
  CHECK_NEAR(o.rate, 1, 0);
  o.end = 20;
  o.fire_ended = 1;
  o.duration = 20;
  o.rate = 2;
  CHECK_INT(vast_play_simulate(tr, &o, &R.st), VAST_OK);
  CHECK_NEAR(R.st.t, 10, 1e-9);
  CHECK_INT(count("start"), 1);
  CHECK_INT(count("firstQuartile") + count("midpoint") + count("complete"), 0);
  CHECK(vast_tracker_discarded(tr) > 19);
  setup();
  o.rate = 0;
  CHECK_INT(vast_play_simulate(tr, &o, &R.st), VAST_E_INVAL);
  o.rate = 0.5; /* slower than real time is still normal-speed playback of what is shown */
  CHECK_INT(vast_play_simulate(tr, &o, &R.st), VAST_OK);
  CHECK_INT(count("complete"), 1);
}

TEST(clicks_and_icons_report_their_landing_pages) {
  play("click@9,iconView@2:1,iconView@2.5:1,iconView@3,iconClick@4:1,iconClick@5", 10);
  CHECK_INT(R.nr, 0);
  CHECK_INT(R.nt, 3);
  CHECK_STR(R.through[0].name, "iconClickThrough");
  CHECK_STR(R.through[0].url, "http://t/i1/land");
  CHECK_NEAR(R.through[0].t, 4, 1e-9);
  CHECK_STR(R.through[1].url, "http://t/i0/land");
  CHECK_STR(R.through[2].name, "clickThrough");
  CHECK_STR(R.through[2].url, "http://t/land?s=srv-9");
  CHECK_NEAR(R.through[2].media, 9, 1e-9);
  CHECK_INT(count("iconViewTracking"), 2); /* icon 1 once, icon 0 once */
  CHECK_STR(find("iconViewTracking", 0)->url, "http://t/i1/view");
  CHECK_STR(find("iconViewTracking", 1)->url, "http://t/i0/view");
  CHECK_STR(find("iconClickTracking", 0)->url, "http://t/i1/click");
  CHECK_STR(find("clickTracking", 0)->url, "http://t/click");
  CHECK_INT(count("playerExpand"), 0);
  play("fullscreen@1,fullscreen@2", 3);
  CHECK_INT(count("playerExpand"), 1);
}

TEST(clock_steps_reach_the_callback_before_the_media_moves) {
  CHECK_INT(play_ex(NULL, 20, 1.0, 0), VAST_OK);
  CHECK_INT(R.st.steps, 20);
  CHECK_INT(R.steps, 20);
  CHECK(R.step_order_ok);
  CHECK_NEAR(find("firstQuartile", 0)->t, 5, 1e-9);
  CHECK_NEAR(find("complete", 0)->t, 20, 1e-9);
  play(NULL, 20);
  CHECK_INT(R.steps, 80);
  CHECK(R.step_order_ok);
}

TEST(max_steps_bounds_a_long_pause) {
  CHECK_INT(play_ex("pause@1,resume@100000", 20, 0, 100), VAST_OK);
  CHECK_INT(R.st.stop, VAST_PLAY_LIMIT);
  CHECK_INT(R.st.steps, 100);
  CHECK_NEAR(R.st.t, 25, 1e-9);
  CHECK_NEAR(R.st.media, 1, 1e-9);
  CHECK_INT(count("resume"), 0);
}

TEST(bad_options_are_refused) {
  setup();
  vast_play_opts o;
  vast_play_opts_init(&o);
  CHECK_INT(o.size, sizeof o);
  CHECK_NEAR(o.tick, VAST_PLAY_TICK, 0);
  CHECK(o.wall_start < 0);
  o.end = 5;
  vast_play_state st;
  CHECK_INT(vast_play_simulate(NULL, &o, &st), VAST_E_INVAL);
  CHECK_INT(vast_play_simulate(tr, NULL, &st), VAST_E_INVAL);
  o.size = sizeof o - 1;
  CHECK_INT(vast_play_simulate(tr, &o, &st), VAST_E_INVAL);
  o.size = sizeof o;
  o.end = -1;
  CHECK_INT(vast_play_simulate(tr, &o, &st), VAST_E_INVAL);
  o.end = INFINITY;
  CHECK_INT(vast_play_simulate(tr, &o, &st), VAST_E_INVAL);
  o.end = 5;
  o.tick = 0;
  CHECK_INT(vast_play_simulate(tr, &o, &st), VAST_E_INVAL);
  o.tick = NAN;
  CHECK_INT(vast_play_simulate(tr, &o, &st), VAST_E_INVAL);
  o.tick = 0.25;
  o.n_events = 1;
  CHECK_INT(vast_play_simulate(tr, &o, &st), VAST_E_INVAL);
  vast_play_event ev[2];
  memset(ev, 0, sizeof ev);
  ev[0].kind = ev[1].kind = VAST_IN_MUTE;
  ev[0].at = 3;
  ev[1].at = 2;
  o.events = ev;
  o.n_events = 2;
  CHECK_INT(vast_play_simulate(tr, &o, &st), VAST_E_INVAL);
  CHECK_INT(R.nb, 0); /* nothing fed */
  /* no state, no callbacks: runs */
  o.n_events = 0;
  CHECK_INT(vast_play_simulate(tr, &o, NULL), VAST_OK);
  CHECK_INT(count("start"), 1);
}

static const th_case cases[] = {
    TH(parse_sorts_by_time_stably),
    TH(parse_empty_items_aliases_and_saturated_codes),
    TH(parse_errors_table),
    TH(plays_to_the_end_and_fires_complete),
    TH(ended_only_when_played_to_the_end),
    TH(pause_stops_the_media_clock),
    TH(seek_moves_the_media_clock),
    TH(refused_events_go_to_the_callback_and_the_play_goes_on),
    TH(not_used_and_error_before_the_impression),
    TH(events_after_the_end_and_spec_names),
    TH(playback_rate),
    TH(clicks_and_icons_report_their_landing_pages),
    TH(clock_steps_reach_the_callback_before_the_media_moves),
    TH(max_steps_bounds_a_long_pause),
    TH(bad_options_are_refused),
    {0},
};

int main(int argc, char **argv) {
  return th_main(__FILE__, cases, argc, argv);
}
