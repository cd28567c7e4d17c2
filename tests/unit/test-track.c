/*
 * test-track.c: the tracking state machine, table-driven where the input is a
 * script of player events, plus property tests over random event sequences
 * (fixed seeds) and tests from real corpus tags (wrapper chain from local files).
 */
#include <math.h>

#include "harness.h"
#include "vastrack.h"

/* ------------------------------------------------------------------------ */
/* A hand-built chain: one Wrapper, one InLine with a 30 s Linear.           */

static vast_tracking T(vast_event ev, const char *url) {
  vast_tracking t;
  memset(&t, 0, sizeof t);
  t.event = ev;
  t.event_name = "";
  t.url = url;
  return t;
}
static vast_tracking P(vast_offset_kind k, double v, const char *url) {
  vast_tracking t = T(VAST_EV_PROGRESS, url);
  t.offset.kind = k;
  t.offset.value = v;
  return t;
}

static vast_tracking w_lin_tr[3], w_nl_tr[1], i_tr[40], i_verif_tr[1];
static vast_url w_imp[1], w_err[1], w_click[1], i_imp[2], i_err[1], i_click[2], i_view[1],
    i_notview[1], i_undet[1];
static vast_linear w_lin, i_lin;
static vast_nonlinear_ads w_nl;
static vast_creative w_cr[2], i_cr[1];
static vast_verification i_verif[1];
static vast_media_file i_mf[1];
static vast_universal_ad_id i_uaid[1] = {{"ad-id.org", "UA 1"}};
static vast_ad wrapper, inl;
static const vast_ad *chain[2];

static vast_url U(const char *u) {
  vast_url x;
  memset(&x, 0, sizeof x);
  x.url = u;
  return x;
}

/* Builds the fixture; skipoffset and duration as given (< 0: absent/unknown). */
static void build(double duration, vast_offset_kind skip_kind, double skip) {
  memset(&wrapper, 0, sizeof wrapper);
  memset(&inl, 0, sizeof inl);
  w_imp[0] = U("http://w/imp");
  w_err[0] = U("http://w/err?c=[ERRORCODE]");
  w_click[0] = U("http://w/click");
  w_lin_tr[0] = T(VAST_EV_START, "http://w/start");
  w_lin_tr[1] = T(VAST_EV_FIRST_QUARTILE, "http://w/q1");
  w_lin_tr[2] = P(VAST_OFFSET_TIME, 10, "http://w/p10");
  memset(&w_lin, 0, sizeof w_lin);
  w_lin.duration = -1;
  w_lin.tracking = w_lin_tr;
  w_lin.n_tracking = 3;
  w_lin.click_tracking = w_click;
  w_lin.n_click_tracking = 1;
  w_nl_tr[0] = T(VAST_EV_START, "http://w/nl-start");
  memset(&w_nl, 0, sizeof w_nl);
  w_nl.tracking = w_nl_tr;
  w_nl.n_tracking = 1;
  memset(w_cr, 0, sizeof w_cr);
  w_cr[0].kind = VAST_CREATIVE_NONLINEAR;
  w_cr[0].nonlinear = &w_nl;
  w_cr[1].kind = VAST_CREATIVE_LINEAR;
  w_cr[1].linear = &w_lin;
  wrapper.kind = VAST_AD_WRAPPER;
  wrapper.impressions = w_imp;
  wrapper.n_impressions = 1;
  wrapper.errors = w_err;
  wrapper.n_errors = 1;
  wrapper.creatives = w_cr;
  wrapper.n_creatives = 2;
  wrapper.sequence = -1;

  int n = 0;
  static const struct {
    vast_event ev;
    const char *url;
  } evs[] = {
      {VAST_EV_LOADED, "http://i/loaded"},
      {VAST_EV_START, "http://i/start?ph=[ADPLAYHEAD]"},
      {VAST_EV_FIRST_QUARTILE, "http://i/q1?ph=[ADPLAYHEAD]"},
      {VAST_EV_MIDPOINT, "http://i/q2"},
      {VAST_EV_THIRD_QUARTILE, "http://i/q3"},
      {VAST_EV_COMPLETE, "http://i/complete"},
      {VAST_EV_SKIP, "http://i/skip"},
      {VAST_EV_CLOSE_LINEAR, "http://i/closeLinear"},
      {VAST_EV_CLOSE, "http://i/close"},
      {VAST_EV_MUTE, "http://i/mute"},
      {VAST_EV_UNMUTE, "http://i/unmute"},
      {VAST_EV_PAUSE, "http://i/pause"},
      {VAST_EV_RESUME, "http://i/resume"},
      {VAST_EV_REWIND, "http://i/rewind"},
      {VAST_EV_PLAYER_EXPAND, "http://i/playerExpand?s=[PLAYERSTATE]"},
      {VAST_EV_FULLSCREEN, "http://i/fullscreen"},
      {VAST_EV_PLAYER_COLLAPSE, "http://i/playerCollapse"},
      {VAST_EV_EXIT_FULLSCREEN, "http://i/exitFullscreen"},
      {VAST_EV_CREATIVE_VIEW, "http://i/creativeView"},
      {VAST_EV_INTERACTIVE_START, "http://i/interactiveStart"},
      {VAST_EV_OTHER_AD_INTERACTION, "http://i/other"},
      {VAST_EV_NOT_USED, "http://i/notUsed"},
      {VAST_EV_ACCEPT_INVITATION_LINEAR, "http://i/acceptInvitationLinear"},
  };
  for (size_t k = 0; k < sizeof evs / sizeof *evs; k++)
    i_tr[n++] = T(evs[k].ev, evs[k].url);
  i_tr[n++] = P(VAST_OFFSET_TIME, 10, "http://i/p10");
  i_tr[n++] = P(VAST_OFFSET_PERCENT, 60, "http://i/p60pct");
  i_tr[n++] = P(VAST_OFFSET_INVALID, 0, "http://i/pbad");
  i_tr[n++] = T(VAST_EV_UNKNOWN, "http://i/unknown");
  i_imp[0] = U("http://i/imp1?cb=[CACHEBUSTING]&a=[ASSETURI]");
  i_imp[1] = U("http://i/imp2?r=[RANDOM]&ts=[TIMESTAMP]&u=[UNIVERSALADID]&s=[ADSERVINGID]");
  i_err[0] = U("http://i/err?c=[ERRORCODE]&ph=[ADPLAYHEAD]");
  i_click[0] = U("http://i/click1?pos=[CLICKPOS]");
  i_click[1] = U("http://i/click2");
  i_view[0] = U("http://i/viewable");
  i_notview[0] = U("http://i/notViewable");
  i_undet[0] = U("http://i/viewUndetermined");
  memset(&i_lin, 0, sizeof i_lin);
  i_lin.duration = duration;
  i_lin.skipoffset.kind = skip_kind;
  i_lin.skipoffset.value = skip;
  i_lin.tracking = i_tr;
  i_lin.n_tracking = (size_t)n;
  i_lin.click_through = "http://i/landing?ph=[ADPLAYHEAD]&ip=[DEVICEIP]";
  i_lin.click_tracking = i_click;
  i_lin.n_click_tracking = 2;
  memset(i_mf, 0, sizeof i_mf);
  i_mf[0].url = "https://cdn/a.mp4";
  i_lin.media_files = i_mf;
  i_lin.n_media_files = 1;
  memset(i_cr, 0, sizeof i_cr);
  i_cr[0].kind = VAST_CREATIVE_LINEAR;
  i_cr[0].linear = &i_lin;
  i_cr[0].universal_ad_ids = i_uaid;
  i_cr[0].n_universal_ad_ids = 1;
  i_verif_tr[0] = T(VAST_EV_VERIFICATION_NOT_EXECUTED, "http://i/vne?r=[REASON]");
  memset(i_verif, 0, sizeof i_verif);
  i_verif[0].vendor = "v1";
  i_verif[0].tracking = i_verif_tr;
  i_verif[0].n_tracking = 1;
  inl.kind = VAST_AD_INLINE;
  inl.sequence = 2;
  inl.ad_serving_id = "srv-1";
  inl.impressions = i_imp;
  inl.n_impressions = 2;
  inl.errors = i_err;
  inl.n_errors = 1;
  inl.viewable = i_view;
  inl.n_viewable = 1;
  inl.not_viewable = i_notview;
  inl.n_not_viewable = 1;
  inl.view_undetermined = i_undet;
  inl.n_view_undetermined = 1;
  inl.verifications = i_verif;
  inl.n_verifications = 1;
  inl.creatives = i_cr;
  inl.n_creatives = 1;
  chain[0] = &wrapper;
  chain[1] = &inl;
}

/* ------------------------------------------------------------------------ */
/* Recording beacons                                                          */

typedef struct rec {
  char name[32];
  char url[512];
  double media;
  unsigned level;
  vast_beacon_kind kind;
} rec;

static rec recs[4096];
static int nrec;

static void record(void *user, const vast_track_beacon *b) {
  (void)user;
  if (nrec >= (int)(sizeof recs / sizeof *recs)) return;
  rec *r = &recs[nrec++];
  snprintf(r->name, sizeof r->name, "%s", b->name);
  snprintf(r->url, sizeof r->url, "%s", b->url ? b->url : ""); /* NULL: untracked */
  r->media = b->media_time;
  r->level = b->level;
  r->kind = b->kind;
  if ((b->url ? strlen(b->url) : 0) != b->url_len) th_fail(__FILE__, __LINE__, "url_len");
}

static int count(const char *name) {
  int c = 0;
  for (int i = 0; i < nrec; i++)
    c += !strcmp(recs[i].name, name);
  return c;
}
static int find(const char *name) {
  for (int i = 0; i < nrec; i++)
    if (!strcmp(recs[i].name, name)) return i;
  return -1;
}
static int count_url(const char *prefix) {
  int c = 0;
  for (int i = 0; i < nrec; i++)
    c += !strncmp(recs[i].url, prefix, strlen(prefix));
  return c;
}

static vast_plan *plan;
static vast_tracker *tr;
static vast_macro_ctx mctx;

static void setup(double duration, vast_offset_kind sk, double skip) {
  build(duration, sk, skip);
  nrec = 0;
  CHECK_INT(vast_plan_create(chain, 2, 0, 0, &plan), VAST_OK);
  vast_macro_ctx_init(&mctx);
  vast_macro_ctx_set(&mctx, VAST_MACRO_DEVICEIP, "10.0.0.1");
  CHECK_INT(vast_tracker_create(plan, &mctx, record, NULL, &tr), VAST_OK);
  vast_tracker_seed(tr, 42);
}

static void teardown(void) {
  vast_tracker_free(tr);
  vast_plan_free(plan);
}

static vast_err in(vast_input_kind k, double media) {
  vast_input i;
  memset(&i, 0, sizeof i);
  i.kind = k;
  i.media_time = media;
  i.wall_time = 1700000000.0 + (media > 0 ? media : 0);
  return vast_tracker_feed(tr, &i);
}

/* Plays continuously from `from` to `to` at 4 Hz (wall clock in step). */
static void play(double from, double to) {
  for (double m = from; m <= to + 1e-9; m += 0.25)
    vast_tracker_time(tr, 1700000000.0 + m, m);
}

/* ------------------------------------------------------------------------ */
/* Semantics                                                                 */

TEST(impressions_of_whole_chain_with_creative_view) {
  setup(30, VAST_OFFSET_NONE, 0);
  CHECK_INT(in(VAST_IN_IMPRESSION, 0), VAST_OK);
  CHECK_INT(nrec, 4); /* 1 wrapper + 2 inline impressions + creativeView, one call */
  CHECK_INT(count("impression"), 3);
  CHECK_INT(count("creativeView"), 1);
  CHECK_STR(recs[0].url, "http://w/imp");
  CHECK_INT(recs[0].level, 0);
  CHECK_INT(recs[1].level, 1);
  CHECK_STR(recs[3].name, "creativeView");
  /* macros: CACHEBUSTING 8 digits, ASSETURI = the only media file, UNIVERSALADID, ADSERVINGID */
  CHECK(strlen(recs[1].url) == strlen("http://i/imp1?cb=12345678&a=https%3A%2F%2Fcdn%2Fa.mp4"));
  CHECK(strstr(recs[1].url, "&a=https%3A%2F%2Fcdn%2Fa.mp4"));
  CHECK(strstr(recs[2].url, "&ts=2023-11-14T22%3A13%3A20.000%2B00%3A00"));
  CHECK(strstr(recs[2].url, "&u=ad-id.org%20UA%201&s=srv-1"));
  CHECK(!strstr(recs[2].url, "[RANDOM]"));
  CHECK_INT(in(VAST_IN_IMPRESSION, 0), VAST_OK); /* once */
  CHECK_INT(in(VAST_IN_CREATIVE_VIEW, 0), VAST_OK);
  CHECK_INT(nrec, 4);
  teardown();
}

TEST(continuous_playback_earns_everything_once_in_order) {
  setup(30, VAST_OFFSET_NONE, 0);
  in(VAST_IN_LOADED, 0);
  in(VAST_IN_LOADED, 0);
  in(VAST_IN_IMPRESSION, 0);
  play(0, 30);
  CHECK_INT(in(VAST_IN_ENDED, 30), VAST_OK);
  static const char *order[] = {"loaded",        "impression", "creativeView",  "start",
                                "firstQuartile", "midpoint",   "thirdQuartile", "complete"};
  int last = -1;
  for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
    int i = find(order[k]);
    CHECK(i > last);
    last = i;
  }
  CHECK_INT(count("loaded"), 1);
  CHECK_INT(count("start"), 2); /* wrapper + inline */
  CHECK_INT(count("firstQuartile"), 2);
  CHECK_INT(count("midpoint"), 1);
  CHECK_INT(count("thirdQuartile"), 1);
  CHECK_INT(count("complete"), 1);
  CHECK_INT(count("progress"), 3);              /* 10 s inline + wrapper, 60% */
  CHECK_INT(count_url("http://w/nl-start"), 0); /* wrapper NonLinear not merged into a Linear */
  CHECK_INT(count_url("http://i/pbad") + count_url("http://i/unknown"), 0);
  CHECK_NEAR(recs[find("firstQuartile")].media, 7.5, 1e-9);
  CHECK_NEAR(recs[find("midpoint")].media, 15, 1e-9);
  CHECK_NEAR(recs[find("thirdQuartile")].media, 22.5, 1e-9);
  CHECK(count_url("http://i/q1?ph=00%3A00%3A07.500") == 1);
  CHECK(count_url("http://i/start?ph=00%3A00%3A00.000") == 1);
  int p = find("progress");
  CHECK_NEAR(recs[p].media, 10, 1e-9);
  CHECK(vast_tracker_done(tr));
  teardown();
}

/* A forward seek stops the continuous stretch: what is played after it is not
 * "played continuously" from 0 (VAST 4.x 3.14.1), though it still counts as
 * played time for time progress offsets (documented as cumulative). */
TEST(seek_forward_does_not_earn_quartiles) {
  setup(30, VAST_OFFSET_NONE, 0);
  play(0, 5);
  CHECK_INT(in(VAST_IN_SEEK, 20), VAST_OK);
  CHECK_INT(count("rewind"), 0);
  play(20.25, 30);
  CHECK_INT(in(VAST_IN_ENDED, 30), VAST_OK);
  CHECK_INT(count("firstQuartile"), 0); /* the old engine fired it at 22.5 (7.5 s summed) */
  CHECK_INT(count("midpoint"), 0);
  CHECK_INT(count("thirdQuartile"), 0);
  CHECK_INT(count("complete"), 0);
  CHECK_NEAR(vast_tracker_continuous(tr), 5, 1e-9);
  CHECK_NEAR(vast_tracker_played(tr), 15, 1e-9);
  CHECK_INT(count_url("http://i/p10"), 1); /* time offset: 10 s played in all */
  CHECK(vast_tracker_done(tr));
  teardown();
}

/* Back inside the stretch, playback extends it again: a seek forward and back
 * to where it was is a detour, not a gap. */
TEST(seek_back_into_the_stretch_continues_it) {
  setup(30, VAST_OFFSET_NONE, 0);
  play(0, 5);
  CHECK_INT(in(VAST_IN_SEEK, 20), VAST_OK);
  play(20.25, 22);
  CHECK_INT(in(VAST_IN_SEEK, 5), VAST_OK);
  CHECK_INT(count("rewind"), 1);
  play(5.25, 7.25);
  CHECK_INT(count("firstQuartile"), 0);
  play(7.5, 7.5);
  CHECK_INT(count("firstQuartile"), 2);
  CHECK_NEAR(recs[find("firstQuartile")].media, 7.5, 1e-9);
  teardown();
}

/* Playback faster than real time earns nothing, and says so. */
static const struct {
  double rate; /* media seconds per wall second */
  double tick; /* wall seconds between updates */
} fast_table[] = {{2, 0.25}, {4, 0.25}, {2, 1}, {1.5, 0.25}, {3, 0.1}, {16, 0.25}};

TEST(fast_playback_earns_no_quartile) {
  for (size_t k = 0; k < sizeof fast_table / sizeof *fast_table; k++) {
    setup(20, VAST_OFFSET_NONE, 0);
    in(VAST_IN_IMPRESSION, 0);
    int not_played = 0;
    double w = 1700000000.0, m = 0;
    vast_tracker_time(tr, w, 0);
    while (m < 20) {
      w += fast_table[k].tick;
      m += fast_table[k].tick * fast_table[k].rate;
      if (m > 20) m = 20;
      not_played += vast_tracker_time(tr, w, m) == VAST_E_NOT_PLAYED;
    }
    CHECK_INT(in(VAST_IN_ENDED, 20), VAST_OK);
    CHECK_INT(count("start"), 2);
    CHECK_INT(count("firstQuartile"), 0);
    CHECK_INT(count("midpoint"), 0);
    CHECK_INT(count("complete"), 0);
    CHECK(vast_tracker_continuous(tr) < 2); /* at most the jitter allowance */
    CHECK(vast_tracker_discarded(tr) > 15);
    CHECK(not_played > 0);
    teardown();
  }
}

/* Normal speed with the jitter of real players (uneven timeupdates, a late one
 * followed by a quick one) still earns everything. */
TEST(normal_speed_with_jitter_earns_everything) {
  static const double dw[] = {0.25, 0.31, 0.19, 0.5, 0.05, 0.25, 0.27, 0.23};
  setup(20, VAST_OFFSET_NONE, 0);
  double w = 1700000000.0, m = 0;
  CHECK_INT(vast_tracker_time(tr, w, 0), VAST_OK);
  for (int k = 0; m < 20; k++) {
    double d = dw[k % 8];
    w += d;
    /* media reported from a slightly different clock: +-0.05 s */
    m += d + ((k % 3) == 0 ? 0.05 : (k % 3) == 1 ? -0.05 : 0);
    if (m > 20) m = 20;
    CHECK_INT(vast_tracker_time(tr, w, m), VAST_OK);
  }
  CHECK_INT(in(VAST_IN_ENDED, 20), VAST_OK);
  CHECK_INT(count("thirdQuartile"), 1);
  CHECK_INT(count("complete"), 1);
  CHECK_NEAR(vast_tracker_discarded(tr), 0, 0);
  teardown();
}

/* A wall clock that goes back is no reference: the step is judged as with no
 * wall time (1 s), not refused for "faster than real time". */
TEST(wall_clock_going_back_is_no_reference) {
  setup(20, VAST_OFFSET_NONE, 0);
  play(0, 2);
  CHECK_INT(vast_tracker_time(tr, 1600000000.0, 2.25), VAST_OK);
  CHECK_INT(vast_tracker_time(tr, 1600000000.25, 2.5), VAST_OK);
  CHECK_INT(vast_tracker_time(tr, 1500000000.0, 4.0), VAST_E_NOT_PLAYED); /* 1.5 s: too much */
  CHECK_NEAR(vast_tracker_continuous(tr), 2.5, 1e-9);
  teardown();
}

/* The rewind case of issue 11: `--events seek@6:0` on a 20 s ad fired midpoint
 * at playhead 4 s (6 + 4 seconds summed). Replayed seconds earn nothing until
 * the playhead passes the furthest point reached. */
TEST(replayed_seconds_earn_nothing_until_past_the_furthest_point) {
  setup(20, VAST_OFFSET_NONE, 0);
  play(0, 6);
  CHECK_INT(count("firstQuartile"), 2); /* 5 s */
  CHECK_INT(in(VAST_IN_SEEK, 0), VAST_OK);
  play(0.25, 6);
  CHECK_INT(count("midpoint"), 0);
  CHECK_NEAR(vast_tracker_continuous(tr), 6, 1e-9);
  play(6.25, 9.75);
  CHECK_INT(count("midpoint"), 0);
  play(10, 10);
  CHECK_INT(count("midpoint"), 1);
  CHECK_NEAR(recs[find("midpoint")].media, 10, 1e-9);
  CHECK_INT(count("firstQuartile"), 2);
  teardown();
}

/* Pause, seek forward while paused, resume: the old engine bridged it. */
TEST(pause_seek_resume_is_not_bridged) {
  setup(20, VAST_OFFSET_NONE, 0);
  play(0, 3);
  CHECK_INT(in(VAST_IN_PAUSE, 3), VAST_OK);
  vast_input sk = {VAST_IN_SEEK, 1700000005.0, 10, 0, 0, NULL, NULL, 0};
  CHECK_INT(vast_tracker_feed(tr, &sk), VAST_OK);
  vast_input rs = {VAST_IN_RESUME, 1700000006.0, 10, 0, 0, NULL, NULL, 0};
  CHECK_INT(vast_tracker_feed(tr, &rs), VAST_OK);
  for (double m = 10.25; m <= 20; m += 0.25)
    vast_tracker_time(tr, 1700000006.0 + (m - 10), m);
  CHECK_INT(count("firstQuartile"), 0);
  CHECK_INT(count("midpoint"), 0);
  CHECK_NEAR(vast_tracker_continuous(tr), 3, 1e-9);
  teardown();
  /* a player that sends nothing while paused and jumps on resume: the wall
   * time spent paused is no allowance */
  setup(20, VAST_OFFSET_NONE, 0);
  play(0, 3);
  CHECK_INT(in(VAST_IN_PAUSE, 3), VAST_OK);
  vast_input rs2 = {VAST_IN_RESUME, 1700000063.0, 3, 0, 0, NULL, NULL, 0};
  CHECK_INT(vast_tracker_feed(tr, &rs2), VAST_OK);
  CHECK_INT(vast_tracker_time(tr, 1700000063.25, 12), VAST_E_NOT_PLAYED);
  CHECK_INT(count("firstQuartile"), 0);
  CHECK_NEAR(vast_tracker_discarded(tr), 9, 1e-9);
  teardown();
  /* media moving while paused is not played either */
  setup(20, VAST_OFFSET_NONE, 0);
  play(0, 3);
  CHECK_INT(in(VAST_IN_PAUSE, 3), VAST_OK);
  CHECK_INT(vast_tracker_time(tr, 1700000003.25, 3.25), VAST_E_NOT_PLAYED);
  CHECK_NEAR(vast_tracker_discarded(tr), 0.25, 1e-9);
  teardown();
}

/* SSAI: the server sees 6 s segment requests 0.2 s apart while the player
 * buffers ahead. Default mode: nothing earned, and it says so (return code and
 * counter). Trusted-positions mode: positions are delivered media. */
static int feed_segments(double seg, double gap, double dur, int *not_played) {
  double w = 1700000000.0;
  int rc_ok = 0;
  *not_played = 0;
  for (double m = 0; m <= dur + 1e-9; m += seg, w += gap) {
    vast_err e = vast_tracker_time(tr, w, m);
    if (e == VAST_OK) rc_ok++;
    if (e == VAST_E_NOT_PLAYED) (*not_played)++;
  }
  vast_input end = {VAST_IN_ENDED, w, dur, 0, 0, NULL, NULL, 0};
  return vast_tracker_feed(tr, &end) == VAST_OK ? rc_ok : -1;
}

TEST(ssai_segment_positions_trusted_mode) {
  int np;
  setup(30, VAST_OFFSET_NONE, 0);
  in(VAST_IN_IMPRESSION, 0);
  feed_segments(6, 0.2, 30, &np);
  CHECK_INT(np, 5); /* every 6 s step in 0.2 s was refused, visibly */
  CHECK_NEAR(vast_tracker_discarded(tr), 30, 1e-9);
  CHECK_INT(count("firstQuartile") + count("midpoint") + count("complete"), 0);
  teardown();

  setup(30, VAST_OFFSET_NONE, 0);
  CHECK_INT(vast_tracker_set_trusted_positions(tr, 1), VAST_OK);
  in(VAST_IN_IMPRESSION, 0);
  feed_segments(6, 0.2, 30, &np);
  CHECK_INT(np, 0);
  CHECK_INT(count("firstQuartile"), 2);
  CHECK_INT(count("midpoint"), 1);
  CHECK_INT(count("thirdQuartile"), 1);
  CHECK_INT(count("complete"), 1);
  CHECK_NEAR(recs[find("firstQuartile")].media, 12, 1e-9); /* first segment past 7.5 s */
  CHECK(find("thirdQuartile") < find("complete"));
  CHECK_NEAR(vast_tracker_discarded(tr), 0, 0);
  CHECK_INT(vast_tracker_set_trusted_positions(tr, 0), VAST_E_STATE); /* once started */
  teardown();

  /* trusted, but a seek is still a jump */
  setup(30, VAST_OFFSET_NONE, 0);
  vast_tracker_set_trusted_positions(tr, 1);
  vast_tracker_time(tr, 1700000000.0, 0);
  vast_tracker_time(tr, 1700000000.2, 6);
  in(VAST_IN_SEEK, 18);
  vast_tracker_time(tr, 1700000000.4, 24);
  vast_tracker_time(tr, 1700000000.6, 30);
  CHECK_INT(in(VAST_IN_ENDED, 30), VAST_OK);
  CHECK_INT(count("firstQuartile") + count("complete"), 0);
  CHECK_INT(vast_tracker_set_trusted_positions(NULL, 1), VAST_E_INVAL);
  teardown();
}

TEST(time_jump_without_seek_is_not_playback) {
  setup(30, VAST_OFFSET_NONE, 0);
  play(0, 2);
  vast_tracker_time(tr, 1700000002.25, 12); /* a 10 s jump in 0.25 s of wall time */
  CHECK_NEAR(vast_tracker_played(tr), 2, 1e-9);
  CHECK_INT(count("firstQuartile"), 0);
  teardown();
}

TEST(pause_keeps_progress) {
  setup(30, VAST_OFFSET_NONE, 0);
  play(0, 7);
  CHECK_INT(in(VAST_IN_PAUSE, 7), VAST_OK);
  vast_tracker_time(tr, 1700000100, 7); /* 93 s of wall time pass, paused */
  CHECK_NEAR(vast_tracker_played(tr), 7, 1e-9);
  CHECK_INT(in(VAST_IN_RESUME, 7), VAST_OK);
  vast_tracker_time(tr, 1700000100.25, 7.25);
  vast_tracker_time(tr, 1700000100.5, 7.5);
  CHECK_INT(count("pause"), 1);
  CHECK_INT(count("resume"), 1);
  CHECK_INT(count("firstQuartile"), 2);
  CHECK(find("resume") < find("firstQuartile"));
  teardown();
}

TEST(rewind_fires_rewind_and_keeps_once_events) {
  setup(30, VAST_OFFSET_NONE, 0);
  play(0, 10);
  CHECK_INT(count("firstQuartile"), 2);
  CHECK_INT(in(VAST_IN_SEEK, 2), VAST_OK);
  CHECK_INT(count("rewind"), 1);
  play(2, 9);
  vast_tracker_time(tr, 1700000020, 3); /* a backward jump in a time update also rewinds */
  CHECK_INT(count("rewind"), 2);
  CHECK_INT(count("firstQuartile"), 2);
  CHECK_INT(count("start"), 2);
  teardown();
}

TEST(progress_offsets_time_and_percent_once) {
  setup(90, VAST_OFFSET_NONE, 0);
  play(0, 60);
  CHECK_INT(count_url("http://i/p10"), 1);
  CHECK_INT(count_url("http://w/p10"), 1);
  CHECK_INT(count_url("http://i/p60pct"), 1);
  for (int i = 0; i < nrec; i++)
    if (!strcmp(recs[i].url, "http://i/p60pct")) CHECK_NEAR(recs[i].media, 54, 1e-9);
  in(VAST_IN_SEEK, 0);
  play(0, 60);
  CHECK_INT(count_url("http://i/p10"), 1);
  CHECK_INT(count_url("http://i/p60pct"), 1);
  teardown();
}

TEST(percent_offsets_wait_for_duration) {
  setup(-1, VAST_OFFSET_NONE, 0);
  play(0, 12);
  CHECK_INT(count("firstQuartile"), 0);
  CHECK_INT(count("midpoint"), 0);
  CHECK_INT(count_url("http://i/p10"), 1); /* time offsets do not need it */
  vast_input d;
  memset(&d, 0, sizeof d);
  d.kind = VAST_IN_DURATION;
  d.value = 20;
  d.media_time = -1;
  int before = nrec;
  CHECK_INT(vast_tracker_feed(tr, &d), VAST_OK);
  CHECK_STR(recs[before].name, "firstQuartile"); /* wrapper then inline, then midpoint */
  CHECK_STR(recs[before + 2].name, "midpoint");
  CHECK_INT(count("thirdQuartile"), 0);
  CHECK_INT(count_url("http://i/p60pct"), 1); /* 60% of 20 s = 12 s, already played */
  d.value = -5;
  CHECK_INT(vast_tracker_feed(tr, &d), VAST_E_INVAL);
  teardown();
}

TEST(real_duration_overrides_declared) {
  setup(30, VAST_OFFSET_NONE, 0);
  vast_input d = {VAST_IN_DURATION, 1700000000.0, -1, 20, 0, NULL, NULL, 0};
  CHECK_INT(vast_tracker_feed(tr, &d), VAST_OK);
  play(0, 20);
  CHECK_NEAR(recs[find("firstQuartile")].media, 5, 1e-9);
  CHECK_NEAR(recs[find("thirdQuartile")].media, 15, 1e-9);
  CHECK_INT(in(VAST_IN_ENDED, 20), VAST_OK);
  CHECK_INT(count("complete"), 1);
  teardown();
}

/* One row: skipoffset, where the skip is tried, whether it is accepted. */
static const struct {
  vast_offset_kind kind;
  double value, at;
  int ok;
} skip_table[] = {
    {VAST_OFFSET_TIME, 5, 3, 0},      {VAST_OFFSET_TIME, 5, 5, 1},
    {VAST_OFFSET_TIME, 5, 12, 1},     {VAST_OFFSET_PERCENT, 50, 14.75, 0},
    {VAST_OFFSET_PERCENT, 50, 15, 1}, {VAST_OFFSET_NONE, 0, 29, 0},
    {VAST_OFFSET_INVALID, 0, 29, 0},  {VAST_OFFSET_TIME, 0, 0, 1},
};

TEST(skip_only_once_skippable) {
  for (size_t k = 0; k < sizeof skip_table / sizeof *skip_table; k++) {
    setup(30, skip_table[k].kind, skip_table[k].value);
    CHECK_INT(in(VAST_IN_SKIP, 0), VAST_E_STATE); /* not started */
    play(0, skip_table[k].at);
    int before = nrec;
    vast_err e = in(VAST_IN_SKIP, skip_table[k].at);
    CHECK_INT(e, skip_table[k].ok ? VAST_OK : VAST_E_STATE);
    CHECK_INT(count("skip"), skip_table[k].ok);
    if (skip_table[k].ok) {
      CHECK_INT(nrec, before + 1);
      CHECK(vast_tracker_done(tr));
      CHECK_INT(in(VAST_IN_SKIP, 29), VAST_E_STATE);
      play(skip_table[k].at, 30);
      CHECK_INT(nrec, before + 1);
    }
    teardown();
  }
}

/*
 * After the end. Row: the terminal input, then for every input kind whether it
 * is still accepted (and fires) afterwards. After the media ended or was
 * skipped: close (end card dismissed), the viewability verdict,
 * verificationNotExecuted and clicks (end card). After close: the same but
 * close. After error: the verdict and verificationNotExecuted. After notUsed:
 * nothing. Playback inputs: never.
 */
static int after_end_ok(vast_input_kind terminal, vast_input_kind k) {
  if (terminal == VAST_IN_NOT_USED) return 0;
  if (k == VAST_IN_VIEWABLE || k == VAST_IN_NOT_VIEWABLE || k == VAST_IN_VIEW_UNDETERMINED ||
      k == VAST_IN_VERIFICATION_NOT_EXECUTED)
    return 1;
  if (terminal == VAST_IN_ENDED || terminal == VAST_IN_SKIP)
    return k == VAST_IN_CLOSE || k == VAST_IN_CLICK || k == VAST_IN_CUSTOM_CLICK;
  if (terminal == VAST_IN_CLOSE) return k == VAST_IN_CLICK || k == VAST_IN_CUSTOM_CLICK;
  return 0;
}

static const struct {
  vast_input_kind kind;
  const char *name;
} terminal_table[] = {
    {VAST_IN_ENDED, "complete"}, {VAST_IN_SKIP, "skip"},        {VAST_IN_CLOSE, "closeLinear"},
    {VAST_IN_ERROR, "error"},    {VAST_IN_NOT_USED, "notUsed"},
};

TEST(only_allowed_events_after_the_end) {
  for (size_t k = 0; k < sizeof terminal_table / sizeof *terminal_table; k++) {
    for (int kind = 1; kind < VAST_IN__COUNT; kind++) {
      setup(30, VAST_OFFSET_TIME, 5);
      vast_input_kind tk = terminal_table[k].kind;
      double at = tk == VAST_IN_SKIP ? 10 : 30;
      if (tk != VAST_IN_NOT_USED) {
        in(VAST_IN_IMPRESSION, 0);
        play(0, at);
      }
      CHECK_INT(in(tk, at), VAST_OK);
      CHECK(count(terminal_table[k].name) >= 1);
      int n = nrec;
      int ok = after_end_ok(tk, (vast_input_kind)kind);
      vast_err e = in((vast_input_kind)kind, at);
      if (e != (ok ? VAST_OK : VAST_E_STATE))
        th_fail(__FILE__, __LINE__, vast_input_name((vast_input_kind)kind));
      if (!ok) CHECK_INT(nrec, n);
      if (ok && kind != VAST_IN_CUSTOM_CLICK) CHECK(nrec > n); /* the fixture has no CustomClick */
      /* once-per-play ones a second time: refused or silent */
      n = nrec;
      e = in((vast_input_kind)kind, at);
      if (kind != VAST_IN_CLICK && kind != VAST_IN_CUSTOM_CLICK) CHECK_INT(nrec, n);
      n = nrec;
      CHECK_INT(vast_tracker_time(tr, 1, at + 1), VAST_E_STATE);
      CHECK_INT(nrec, n);
      teardown();
    }
  }
  /* closeLinear after complete (end card dismissed), once; clicks still counted */
  setup(30, VAST_OFFSET_NONE, 0);
  play(0, 30);
  CHECK_INT(in(VAST_IN_ENDED, 30), VAST_OK);
  char ct[128];
  CHECK_INT(vast_tracker_click(tr, 1700000031, 30, "5,5", ct, sizeof ct, NULL), VAST_OK);
  CHECK(!strncmp(ct, "http://i/landing?ph=00%3A00%3A30.000", 36));
  CHECK_INT(in(VAST_IN_NOT_VIEWABLE, 30), VAST_OK);
  CHECK_INT(in(VAST_IN_CLOSE, 30), VAST_OK);
  CHECK_INT(count_url("http://i/closeLinear"), 1);
  CHECK_INT(count_url("http://i/close"), 2); /* legacy "close" on a Linear too (prefix match) */
  CHECK_INT(in(VAST_IN_CLOSE, 30), VAST_E_STATE);
  CHECK_INT(vast_tracker_click(tr, 1700000032, 30, NULL, ct, sizeof ct, NULL), VAST_OK);
  CHECK_INT(count("clickTracking"), 6);
  CHECK_INT(in(VAST_IN_PAUSE, 30), VAST_E_STATE);
  CHECK_INT(in(VAST_IN_VIEWABLE, 30), VAST_E_STATE); /* one verdict */
  CHECK_INT(count("notViewable"), 1);
  CHECK_INT(count("complete"), 1);
  teardown();
}

/* An error before the impression (403: no supported media, before anything
 * plays) and notUsed are expressible; nothing of the play fires after them. */
TEST(error_and_not_used_before_impression) {
  setup(30, VAST_OFFSET_NONE, 0);
  vast_input e = {VAST_IN_ERROR, 1700000000.0, -1, 0, 403, NULL, NULL, 0};
  CHECK_INT(vast_tracker_feed(tr, &e), VAST_OK);
  CHECK_INT(count("error"), 2);
  CHECK_STR(recs[1].url, "http://i/err?c=403&ph=-1"); /* playhead genuinely unknown */
  CHECK_INT(in(VAST_IN_IMPRESSION, 0), VAST_E_STATE);
  CHECK_INT(in(VAST_IN_LOADED, 0), VAST_E_STATE);
  CHECK_INT(vast_tracker_time(tr, 1700000000.0, 0), VAST_E_STATE);
  CHECK_INT(count("impression") + count("start"), 0);
  CHECK_INT(in(VAST_IN_VIEW_UNDETERMINED, 0), VAST_OK);
  teardown();
  setup(30, VAST_OFFSET_NONE, 0);
  CHECK_INT(in(VAST_IN_NOT_USED, 0), VAST_OK);
  CHECK_INT(count("notUsed"), 1);
  CHECK_INT(in(VAST_IN_VIEW_UNDETERMINED, 0), VAST_E_STATE); /* nothing after notUsed */
  CHECK_INT(in(VAST_IN_ERROR, 0), VAST_E_STATE);
  CHECK_INT(nrec, 1);
  teardown();
}

TEST(not_used_only_before_start) {
  setup(30, VAST_OFFSET_NONE, 0);
  in(VAST_IN_LOADED, 0);
  CHECK_INT(in(VAST_IN_NOT_USED, 0), VAST_OK);
  CHECK_INT(count("notUsed"), 1);
  CHECK(vast_tracker_done(tr));
  CHECK_INT(in(VAST_IN_IMPRESSION, 0), VAST_E_STATE);
  teardown();
  setup(30, VAST_OFFSET_NONE, 0);
  play(0, 1);
  CHECK_INT(in(VAST_IN_NOT_USED, 1), VAST_E_STATE);
  CHECK_INT(count("notUsed"), 0);
  CHECK(!vast_tracker_done(tr));
  teardown();
}

/* Toggles: a script of inputs and how many beacons each must produce. */
static const struct {
  vast_input_kind kind;
  int beacons;
  const char *name;
} toggle_script[] = {
    {VAST_IN_UNMUTE, 0, NULL},
    {VAST_IN_MUTE, 1, "mute"},
    {VAST_IN_MUTE, 0, NULL},
    {VAST_IN_UNMUTE, 1, "unmute"},
    {VAST_IN_UNMUTE, 0, NULL},
    {VAST_IN_RESUME, 0, NULL},
    {VAST_IN_PAUSE, 1, "pause"},
    {VAST_IN_PAUSE, 0, NULL},
    {VAST_IN_RESUME, 1, "resume"},
    {VAST_IN_PLAYER_COLLAPSE, 0, NULL},
    {VAST_IN_PLAYER_EXPAND, 2, "playerExpand"}, /* + legacy fullscreen */
    {VAST_IN_PLAYER_EXPAND, 0, NULL},
    {VAST_IN_PLAYER_COLLAPSE, 2, "playerCollapse"},
    {VAST_IN_OTHER_AD_INTERACTION, 1, "otherAdInteraction"},
    {VAST_IN_OTHER_AD_INTERACTION, 1, "otherAdInteraction"},
    {VAST_IN_INTERACTIVE_START, 1, "interactiveStart"},
    {VAST_IN_INTERACTIVE_START, 0, NULL},
    {VAST_IN_ACCEPT_INVITATION, 1, "acceptInvitationLinear"},
};

TEST(toggles_fire_on_state_change_only) {
  setup(30, VAST_OFFSET_NONE, 0);
  play(0, 1);
  for (size_t k = 0; k < sizeof toggle_script / sizeof *toggle_script; k++) {
    int before = nrec;
    CHECK_INT(in(toggle_script[k].kind, 1), VAST_OK);
    CHECK_INT(nrec - before, toggle_script[k].beacons);
    if (toggle_script[k].name) CHECK_STR(recs[before].name, toggle_script[k].name);
  }
  teardown();
  setup(30, VAST_OFFSET_NONE, 0);
  in(VAST_IN_MUTE, 0);
  in(VAST_IN_PLAYER_EXPAND, 0);
  CHECK(count_url("http://i/playerExpand?s=muted,fullscreen") == 1);
  CHECK_INT(in(VAST_IN_PAUSE, 0), VAST_E_STATE); /* not started */
  teardown();
}

TEST(click_fires_all_tracking_and_returns_click_through) {
  setup(30, VAST_OFFSET_NONE, 0);
  play(0, 3);
  char ct[256];
  size_t n = 0;
  CHECK_INT(vast_tracker_click(tr, 1700000003.0, 3, "5,6", ct, sizeof ct, &n), VAST_OK);
  CHECK_STR(ct, "http://i/landing?ph=00%3A00%3A03.000&ip=10.0.0.1");
  CHECK_INT(n, strlen(ct));
  CHECK_INT(count("clickTracking"), 3);
  CHECK_INT(count_url("http://w/click"), 1);
  CHECK_INT(count_url("http://i/click1?pos=5,6"), 1);
  char small[8];
  CHECK_INT(vast_tracker_click(tr, 1700000003.0, 3, NULL, small, sizeof small, &n), VAST_E_NOSPACE);
  CHECK_INT(strlen(small), 7);
  CHECK_INT(count("clickTracking"), 6); /* clicks are not once-only */
  teardown();
}

TEST(errors_to_every_level_with_errorcode) {
  static const struct {
    int code;
    const char *want;
  } rows[] = {{405, "405"}, {7, "900"}, {0, "900"}, {1000, "900"}, {303, "303"}};
  for (size_t k = 0; k < sizeof rows / sizeof *rows; k++) {
    setup(30, VAST_OFFSET_NONE, 0);
    play(0, 4);
    vast_input e = {VAST_IN_ERROR, 1700000004.0, 4, 0, rows[k].code, NULL, NULL, 0};
    CHECK_INT(vast_tracker_feed(tr, &e), VAST_OK);
    CHECK_INT(count("error"), 2);
    char w[64], i[128];
    snprintf(w, sizeof w, "http://w/err?c=%s", rows[k].want);
    snprintf(i, sizeof i, "http://i/err?c=%s&ph=00%%3A00%%3A04.000", rows[k].want);
    CHECK_STR(recs[find("error")].url, w);
    CHECK_INT(recs[find("error")].level, 0);
    CHECK_STR(recs[find("error") + 1].url, i);
    teardown();
  }
}

TEST(viewability_once_and_verification) {
  setup(30, VAST_OFFSET_NONE, 0);
  CHECK_INT(in(VAST_IN_VIEWABLE, 0), VAST_OK);
  CHECK_INT(in(VAST_IN_NOT_VIEWABLE, 0), VAST_E_STATE);
  CHECK_INT(in(VAST_IN_VIEW_UNDETERMINED, 0), VAST_E_STATE);
  CHECK_INT(count("viewable"), 1);
  CHECK_INT(count("notViewable") + count("viewUndetermined"), 0);
  vast_input v = {VAST_IN_VERIFICATION_NOT_EXECUTED, 1, -1, 0, 2, "other", NULL, 0};
  CHECK_INT(vast_tracker_feed(tr, &v), VAST_OK);
  CHECK_INT(count("verificationNotExecuted"), 0);
  v.vendor = "v1";
  CHECK_INT(vast_tracker_feed(tr, &v), VAST_OK);
  CHECK_INT(vast_tracker_feed(tr, &v), VAST_OK);
  CHECK_INT(count("verificationNotExecuted"), 1);
  CHECK_INT(count_url("http://i/vne?r=2"), 1);
  teardown();
}

TEST(plan_errors_and_memory) {
  build(30, VAST_OFFSET_NONE, 0);
  vast_plan *p = (vast_plan *)1;
  CHECK_INT(vast_plan_create(NULL, 0, 0, 0, &p), VAST_E_INVAL);
  CHECK(p == NULL);
  const vast_ad *bad[2] = {&inl, &inl};
  CHECK_INT(vast_plan_create(bad, 2, 0, 0, &p), VAST_E_INVAL);
  const vast_ad *w_only[1] = {&wrapper};
  CHECK_INT(vast_plan_create(w_only, 1, 0, 0, &p), VAST_E_INVAL);
  CHECK_INT(vast_plan_create(chain, 2, 1, 0, &p), VAST_E_NOT_FOUND);
  CHECK_INT(vast_plan_create(chain, 2, 0, 0, &p), VAST_OK);
  CHECK_INT(vast_plan_kind(p), VAST_CREATIVE_LINEAR);
  CHECK_NEAR(vast_plan_duration(p), 30, 0);
  CHECK(vast_plan_url_count(p) > 30);
  CHECK(vast_tracker_memory() < 1024);
  vast_tracker *t = (vast_tracker *)1;
  CHECK_INT(vast_tracker_create(p, NULL, NULL, NULL, &t), VAST_E_INVAL);
  CHECK(t == NULL);
  vast_plan_free(p);
  vast_plan_free(NULL);
  vast_tracker_free(NULL);
  CHECK_STR(vast_input_name(VAST_IN_PLAYER_EXPAND), "playerExpand");
  CHECK_INT(vast_input_from_name("PlayerExpand"), VAST_IN_PLAYER_EXPAND);
  CHECK_INT(vast_input_from_name("nope"), 0);
}

TEST(many_trackers_share_one_plan) {
  setup(30, VAST_OFFSET_NONE, 0);
  vast_tracker *t2;
  CHECK_INT(vast_tracker_create(plan, NULL, record, NULL, &t2), VAST_OK);
  play(0, 8); /* tr only */
  CHECK_INT(count("firstQuartile"), 2);
  for (double m = 0; m <= 8; m += 0.25)
    vast_tracker_time(t2, 1700000000.0 + m, m);
  CHECK_INT(count("firstQuartile"), 4);
  vast_tracker_free(t2);
  teardown();
}

/* ------------------------------------------------------------------------ */
/* Property tests: random event sequences, fixed seeds.                      */

static uint64_t rnd_state;
static uint32_t rnd(void) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return (uint32_t)(rnd_state >> 16);
}

static int is_once(const char *n) {
  static const char *once[] = {"loaded",
                               "impression",
                               "creativeView",
                               "start",
                               "firstQuartile",
                               "midpoint",
                               "thirdQuartile",
                               "complete",
                               "skip",
                               "closeLinear",
                               "notUsed",
                               "interactiveStart",
                               "viewable",
                               "notViewable",
                               "viewUndetermined",
                               "error",
                               "verificationNotExecuted"};
  for (size_t i = 0; i < sizeof once / sizeof *once; i++)
    if (!strcmp(n, once[i])) return 1;
  return 0;
}

static int is_terminal(const char *n) {
  return !strcmp(n, "complete") || !strcmp(n, "skip") || !strcmp(n, "closeLinear") ||
         !strcmp(n, "error") || !strcmp(n, "notUsed");
}

/* Beacons that may follow the end of the play (see after_end_ok). */
static int allowed_after(const char *n) {
  static const char *ok[] = {"closeLinear",      "close",
                             "viewable",         "notViewable",
                             "viewUndetermined", "verificationNotExecuted",
                             "clickTracking",    "customClick"};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
    if (!strcmp(n, ok[i])) return 1;
  return 0;
}

/*
 * Random sequences with an independent oracle of what was watched. Media
 * positions stay on a 0.25 s grid; cell i is [i/4, (i+1)/4]. The generator
 * knows which steps are playback at normal speed (0.25 s of media in 0.25 s
 * of wall time, not paused) and marks those cells watched; fast steps (4x),
 * jumps in time updates, seeks, rewinds, media moving while paused and every
 * other input are mixed in. Properties:
 *  - a quartile, percent offset or complete fires only when every cell from 0
 *    to its threshold was watched at normal speed (complete: to the duration,
 *    within the documented 1 s + 1%);
 *  - a time offset fires only when that many seconds were watched;
 *  - each once-per-play event fires at most once per URL, quartiles in order;
 *  - after the end, only the allowed events fire (each verdict and close once);
 *  - a time update that moved media forward and was not normal-speed playback
 *    returns VAST_E_NOT_PLAYED (and adds to vast_tracker_discarded).
 */
#define GRID 4
#define MAXCELL (70 * GRID)

static int prefix_watched(const unsigned char *cell, double upto) {
  int n = (int)ceil(upto * GRID - 1e-9);
  if (n > MAXCELL) return 0;
  for (int i = 0; i < n; i++)
    if (!cell[i]) return 0;
  return 1;
}

TEST(property_random_sequences) {
  static const uint64_t seeds[] = {1, 2, 3, 42, 1234, 99991, 0xdeadbeef, 7777777, 31337, 2024};
  for (size_t s = 0; s < sizeof seeds / sizeof *seeds; s++) {
    for (int run = 0; run < 60; run++) {
      rnd_state = seeds[s] * 2654435761u + (uint64_t)run + 1;
      double dur = (rnd() % 3 == 0) ? -1.0 : (double)(10 + rnd() % 50);
      setup(dur, rnd() % 2 ? VAST_OFFSET_TIME : VAST_OFFSET_PERCENT, rnd() % 20);
      unsigned char cell[MAXCELL];
      memset(cell, 0, sizeof cell);
      double m = 0, w = 1700000000.0, watched = 0, eff_dur = dur;
      int paused = 0, started = 0, ended = 0, closes = 0, verdicts = 0;
      int steps = 50 + (int)(rnd() % 500);
      int mostly_normal = rnd() % 2; /* half the runs play mostly normally */
      if (rnd() % 4) { /* the media starts at 0 with a wall time: every later step is judged */
        CHECK_INT(vast_tracker_time(tr, w, 0), VAST_OK);
        started = 1;
      }
      for (int k = 0; k < steps; k++) {
        int before = nrec;
        uint32_t r = rnd() % 100;
        vast_input i;
        memset(&i, 0, sizeof i);
        w += 0.25;
        int normal = 0, forward_bad = 0;
        if (r < (mostly_normal ? 85u : 60u)) {
          uint32_t how = rnd() % 20;
          double prev = m;
          if (how < 14)
            m += 0.25, normal = !paused; /* playback */
          else if (how < 16)
            m += 1.0; /* 4x */
          else if (how < 18)
            m += 2 + rnd() % 10; /* jump */
          else
            m -= (double)(rnd() % 5); /* back */
          if (m < 0) m = 0;
          if (m > MAXCELL / GRID - 1) m = prev, normal = 0; /* the grid's end: stay */
          forward_bad = m > prev && !normal;
          if (!started && !paused && m > prev && m - prev <= 1)
            normal = 1; /* the first step:
no wall time to judge it by, 1 s allowed (documented) */
          if (normal) {
            int c = (int)(prev * GRID + 0.5);
            for (int n = 0; n < (int)((m - prev) * GRID + 0.5) && c + n < MAXCELL; n++)
              cell[c + n] = 1;
            watched += m - prev;
          }
          i.kind = VAST_IN_TIME;
        } else {
          i.kind = (vast_input_kind)(1 + rnd() % (VAST_IN__COUNT - 1));
          if ((i.kind == VAST_IN_ENDED || i.kind == VAST_IN_NOT_USED) && rnd() % 4) continue;
          if (i.kind == VAST_IN_SEEK) m = (double)(rnd() % 60);
          if (i.kind == VAST_IN_DURATION) i.value = 5 + rnd() % 60;
          i.code = (int)(rnd() % 1000);
          i.vendor = rnd() % 2 ? "v1" : NULL;
        }
        i.media_time = m;
        i.wall_time = w;
        double threshold_dur = eff_dur;
        int judged = started; /* a wall time known for the previous position */
        vast_err e = vast_tracker_feed(tr, &i);
        if (i.kind == VAST_IN_DURATION && e == VAST_OK) eff_dur = threshold_dur = i.value;
        if (i.kind == VAST_IN_TIME && e != VAST_E_STATE) started = 1;
        if (ended) { /* only the allowed events, each verdict and close once */
          for (int b = before; b < nrec; b++) {
            if (!allowed_after(recs[b].name)) th_fail(__FILE__, __LINE__, recs[b].name);
            closes += !strcmp(recs[b].name, "closeLinear");
            verdicts += !strcmp(recs[b].name, "viewable") || !strcmp(recs[b].name, "notViewable") ||
                        !strcmp(recs[b].name, "viewUndetermined");
          }
          CHECK(closes <= 1 && verdicts <= 1);
        } else if (i.kind == VAST_IN_TIME && judged && forward_bad) {
          CHECK_INT(e, VAST_E_NOT_PLAYED);
        }
        for (int b = before; b < nrec; b++) {
          const rec *x = &recs[b];
          double need = -1;
          if (!strcmp(x->name, "firstQuartile"))
            need = threshold_dur / 4;
          else if (!strcmp(x->name, "midpoint"))
            need = threshold_dur / 2;
          else if (!strcmp(x->name, "thirdQuartile"))
            need = threshold_dur * 3 / 4;
          else if (!strcmp(x->name, "complete") && threshold_dur > 0)
            need = threshold_dur - 1 - 0.01 * threshold_dur;
          else if (!strcmp(x->url, "http://i/p60pct"))
            need = threshold_dur * 0.6;
          if (need >= 0 && !prefix_watched(cell, need)) th_fail(__FILE__, __LINE__, x->name);
          if (!strcmp(x->name, "complete") && threshold_dur < 0 && !prefix_watched(cell, m))
            th_fail(__FILE__, __LINE__, "complete without a duration");
          if (!strncmp(x->url, "http://i/p10", 12) && watched + 1e-9 < 10)
            th_fail(__FILE__, __LINE__, "time offset before 10 s watched");
          if (is_terminal(x->name)) ended = 1;
          if (!strcmp(x->name, "pause")) paused = 1;
          if (!strcmp(x->name, "resume")) paused = 0;
        }
        if (vast_tracker_done(tr)) ended = 1; /* ended without complete */
      }
      CHECK(vast_tracker_discarded(tr) >= 0);
      /* once-only events at most once per URL; quartiles in order */
      for (int a = 0; a < nrec; a++) {
        if (!is_once(recs[a].name)) continue;
        for (int b = a + 1; b < nrec; b++)
          if (!strcmp(recs[a].url, recs[b].url) && strcmp(recs[a].name, "impression"))
            th_fail(__FILE__, __LINE__, recs[a].name);
      }
      CHECK(count("impression") == 0 || count("impression") == 3);
      CHECK(count("start") <= 2 && count("firstQuartile") <= 2 && count("error") <= 2);
      CHECK(count_url("http://i/p10") <= 1 && count_url("http://i/p60pct") <= 1);
      int q1 = find("firstQuartile"), q2 = find("midpoint"), q3 = find("thirdQuartile"),
          c = find("complete");
      if (q2 >= 0) CHECK(q1 >= 0 && q1 < q2);
      if (q3 >= 0) CHECK(q2 >= 0 && q2 < q3);
      if (c >= 0 && eff_dur > 0) CHECK(q3 >= 0 && q3 < c);
      int terminals = 0;
      for (int b = 0; b < nrec; b++)
        terminals += is_terminal(recs[b].name) && recs[b].level == 1 &&
                     strcmp(recs[b].name, "closeLinear"); /* may follow complete or skip */
      CHECK(terminals <= 1 && count("closeLinear") <= 1);
      /* no listed macro left in any URL */
      for (int b = 0; b < nrec; b++)
        for (int mc = 0; mc < VAST_MACRO__COUNT; mc++) {
          char pat[40];
          snprintf(pat, sizeof pat, "[%s]", vast_macro_name((vast_macro)mc));
          if (strstr(recs[b].url, pat)) th_fail(__FILE__, __LINE__, recs[b].url);
        }
      teardown();
    }
  }
}

/* A small tag parsed from text: [ADPLAYHEAD] at the first beacons, and an
 * about:blank Impression (VAST 4.x 3.4.4: a placeholder, not dispatched). */
static const char playhead_tag[] =
    "<VAST version=\"4.2\"><Ad id=\"a\"><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>"
    "<Impression><![CDATA[ about:blank ]]></Impression>"
    "<Impression><![CDATA[http://x/imp?ph=[ADPLAYHEAD]]]></Impression>"
    "<Error><![CDATA[http://x/err?c=[ERRORCODE]&ph=[ADPLAYHEAD]]]></Error>"
    "<Creatives><Creative><Linear><Duration>00:00:10</Duration><TrackingEvents>"
    "<Tracking event=\"loaded\"><![CDATA[http://x/loaded?ph=[ADPLAYHEAD]]]></Tracking>"
    "<Tracking event=\"creativeView\"><![CDATA[http://x/cv?ph=[ADPLAYHEAD]]]></Tracking>"
    "<Tracking event=\"mute\"><![CDATA[http://x/mute?ph=[ADPLAYHEAD]]]></Tracking>"
    "<Tracking event=\"start\"><![CDATA[http://x/start?ph=[ADPLAYHEAD]]]></Tracking>"
    "</TrackingEvents><MediaFiles><MediaFile delivery=\"progressive\" type=\"video/mp4\" "
    "width=\"640\" height=\"360\"><![CDATA[http://x/a.mp4]]></MediaFile></MediaFiles>"
    "</Linear></Creative></Creatives></InLine></Ad></VAST>";

TEST(playhead_zero_at_first_beacons_and_about_blank_not_fired) {
  vast_doc *d = NULL;
  vast_error err;
  CHECK_INT(vast_doc_parse(playhead_tag, sizeof playhead_tag - 1, NULL, &d, &err), VAST_OK);
  const vast_ad *ad = &vast_doc_vast(d)->ads[0];
  vast_plan *p = NULL;
  CHECK_INT(vast_plan_create(&ad, 1, 0, 0, &p), VAST_OK);
  vast_tracker *t = NULL;
  CHECK_INT(vast_tracker_create(p, NULL, record, NULL, &t), VAST_OK);
  nrec = 0;
  vast_input i = {VAST_IN_LOADED, 1700000000.0, -1, 0, 0, NULL, NULL, 0};
  CHECK_INT(vast_tracker_feed(t, &i), VAST_OK);
  i.kind = VAST_IN_IMPRESSION;
  CHECK_INT(vast_tracker_feed(t, &i), VAST_OK);
  i.kind = VAST_IN_MUTE; /* before the media starts: still the first frame */
  CHECK_INT(vast_tracker_feed(t, &i), VAST_OK);
  CHECK_INT(vast_tracker_time(t, 1700000000.0, 0), VAST_OK);
  CHECK_INT(nrec, 5); /* loaded, one impression (about:blank skipped), creativeView, mute, start */
  CHECK_STR(recs[0].url, "http://x/loaded?ph=00%3A00%3A00.000");
  CHECK_STR(recs[1].url, "http://x/imp?ph=00%3A00%3A00.000");
  CHECK_STR(recs[2].url, "http://x/cv?ph=00%3A00%3A00.000");
  CHECK_STR(recs[3].url, "http://x/mute?ph=00%3A00%3A00.000");
  CHECK_STR(recs[4].url, "http://x/start?ph=00%3A00%3A00.000");
  for (int k = 0; k < nrec; k++)
    CHECK_NEAR(recs[k].media, 0, 0);
  CHECK_INT(count("impression"), 1);
  vast_tracker_free(t);
  /* an error before anything was shown: the playhead is genuinely unknown */
  CHECK_INT(vast_tracker_create(p, NULL, record, NULL, &t), VAST_OK);
  nrec = 0;
  vast_input e = {VAST_IN_ERROR, 1700000000.0, -1, 0, 403, NULL, NULL, 0};
  CHECK_INT(vast_tracker_feed(t, &e), VAST_OK);
  CHECK_STR(recs[0].url, "http://x/err?c=403&ph=-1");
  CHECK_NEAR(recs[0].media, -1, 0);
  vast_tracker_free(t);
  vast_plan_free(p);
  vast_doc_free(d);
}

/* The common case: picking (pods in sequence order), open, one-line helpers. */
#define POD_AD(id, seq, media)                                                                     \
  "<Ad id=\"" id "\"" seq "><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>"                    \
  "<Impression>http://x/imp/" id "</Impression><Creatives>"                                        \
  "<Creative><CompanionAds><Companion width=\"1\" height=\"1\"><StaticResource "                   \
  "creativeType=\"image/png\">http://x/c.png</StaticResource></Companion></CompanionAds>"          \
  "</Creative><Creative><Linear><Duration>00:00:04</Duration><TrackingEvents>"                     \
  "<Tracking event=\"complete\">http://x/complete/" id "</Tracking></TrackingEvents>"              \
  "<MediaFiles>" media "</MediaFiles></Linear></Creative></Creatives></InLine></Ad>"
#define MP4                                                                                        \
  "<MediaFile delivery=\"progressive\" type=\"video/mp4\" width=\"1\" "                            \
  "height=\"1\">http://x/a.mp4</MediaFile>"
#define VPAID                                                                                      \
  "<MediaFile delivery=\"progressive\" type=\"application/javascript\" apiFramework=\"VPAID\" "    \
  "width=\"1\" height=\"1\">http://x/v.js</MediaFile>"

static const char pod_tag[] = "<VAST version=\"4.2\">" POD_AD("c", " sequence=\"3\"", MP4)
    POD_AD("a", " sequence=\"1\"", VPAID) POD_AD("b", " sequence=\"2\"", MP4)
        POD_AD("solo", "", MP4) "</VAST>";
static const char buffet_tag[] =
    "<VAST version=\"4.2\">" POD_AD("x", "", MP4) POD_AD("y", "", MP4) "</VAST>";

static double fixed_clock(void *user) {
  return *(double *)user;
}

TEST(select_open_and_one_line_helpers) {
  vast_doc *d = NULL;
  vast_error err;
  CHECK_INT(vast_doc_parse(pod_tag, sizeof pod_tag - 1, NULL, &d, &err), VAST_OK);
  vast_selection sel;
  static const char *order[] = {"a", "b", "c"};
  for (size_t i = 0; i < 3; i++) {
    CHECK_INT(vast_select_doc(d, i, &sel), VAST_OK);
    CHECK_STR(sel.ad->id, order[i]);
    CHECK_INT(sel.n_playable, 3); /* the pod; "solo" (no sequence) is not part of it */
    CHECK_INT(sel.creative, 1);   /* the Linear, not the Companion before it */
    CHECK_INT(sel.n_chain, 1);
    CHECK(sel.chain == NULL && sel.cr == &sel.ad->creatives[1]);
    CHECK_INT(sel.vpaid_only, i == 0);
  }
  CHECK_INT(vast_select_doc(d, 3, &sel), VAST_E_NOT_FOUND);
  CHECK(sel.ad == NULL);
  CHECK_INT(vast_select_doc(NULL, 0, &sel), VAST_E_INVAL);
  CHECK_INT(vast_select_chain(NULL, 0, &sel), VAST_E_INVAL);

  /* open: the first of the pod, plan owned by the tracker; helpers are feeds */
  vast_tracker *t = NULL;
  CHECK_INT(vast_tracker_open(d, NULL, NULL, NULL, &t), VAST_E_INVAL);
  CHECK_INT(vast_tracker_open(d, NULL, record, NULL, &t), VAST_OK);
  CHECK_NEAR(vast_plan_duration(vast_tracker_plan(t)), 4, 0);
  double clock = 1800000000.0;
  vast_tracker_set_clock(t, fixed_clock, &clock);
  vast_tracker_report_untracked(t, 1);
  nrec = 0;
  CHECK_INT(vast_tracker_loaded(t, 1700000000.0), VAST_OK);
  CHECK_INT(vast_tracker_impression(t, 1700000000.0), VAST_OK);
  CHECK_INT(vast_tracker_mute(t, 1700000000.0, -1, 1), VAST_OK);
  for (double m = 0; m <= 2; m += 0.25)
    CHECK_INT(vast_tracker_time(t, 1700000000.0 + m, m), VAST_OK);
  CHECK_INT(vast_tracker_pause(t, 1700000002.0, 2), VAST_OK);
  CHECK_INT(vast_tracker_skip(t, 1700000002.0, 2), VAST_E_STATE); /* no skipoffset */
  CHECK_INT(vast_tracker_resume(t, 1700000003.0, 2), VAST_OK);
  for (double m = 2.25; m <= 4; m += 0.25)
    vast_tracker_time(t, 1700000001.0 + m, m);
  CHECK_INT(vast_tracker_complete(t, 1700000005.0, 4), VAST_OK);
  CHECK_INT(vast_tracker_close(t, 1700000006.0, 4), VAST_OK); /* end card dismissed */
  CHECK_INT(vast_tracker_error(t, 1700000006.0, 405), VAST_E_STATE);
  static const char *names[] = {"loaded", "impression",    "creativeView", "mute",
                                "start",  "firstQuartile", "midpoint",     "pause",
                                "resume", "thirdQuartile", "complete",     "closeLinear"};
  CHECK_INT(nrec, 12);
  for (int k = 0; k < nrec && k < 12; k++) {
    CHECK_STR(recs[k].name, names[k]);
    /* every event the tag does not track is still reported, without a URL */
    if (strcmp(names[k], "impression") && strcmp(names[k], "complete")) CHECK_STR(recs[k].url, "");
  }
  CHECK_STR(recs[10].url, "http://x/complete/a");
  vast_tracker_free(t);

  /* the clock gives TIMESTAMP; the inputs still give the continuity test */
  static const char ts_tag[] =
      "<VAST version=\"4.2\"><Ad><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>"
      "<Impression>http://x/imp?ts=[TIMESTAMP]</Impression><Creatives><Creative><Linear>"
      "<Duration>00:00:04</Duration><MediaFiles>" MP4 "</MediaFiles></Linear></Creative>"
      "</Creatives></InLine></Ad></VAST>";
  vast_doc *d2 = NULL;
  CHECK_INT(vast_doc_parse(ts_tag, sizeof ts_tag - 1, NULL, &d2, &err), VAST_OK);
  CHECK_INT(vast_tracker_open(d2, NULL, record, NULL, &t), VAST_OK);
  vast_tracker_set_clock(t, fixed_clock, &clock);
  nrec = 0;
  vast_tracker_impression(t, 1700000000.0);
  CHECK_STR(recs[0].url, "http://x/imp?ts=2027-01-15T08%3A00%3A00.000%2B00%3A00");
  vast_tracker_free(t);
  vast_doc_free(d2);
  vast_doc_free(d);

  /* a buffet: the first plays, the others are fallbacks */
  CHECK_INT(vast_doc_parse(buffet_tag, sizeof buffet_tag - 1, NULL, &d, &err), VAST_OK);
  CHECK_INT(vast_select_doc(d, 0, &sel), VAST_OK);
  CHECK_STR(sel.ad->id, "x");
  CHECK_INT(sel.n_playable, 2);
  vast_plan *p = NULL;
  CHECK_INT(vast_plan_create_selected(&sel, &p), VAST_OK);
  CHECK_INT(vast_plan_kind(p), VAST_CREATIVE_LINEAR);
  vast_plan_free(p);
  vast_doc_free(d);
}

/* ------------------------------------------------------------------------ */
/* Real tags from the corpus                                                  */

static vast_doc *load(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/dailymotion__vast-client-js/spec/samples/%s", th_corpus(), name);
  size_t len;
  char *buf = th_slurp(path, &len);
  vast_doc *d = NULL;
  vast_error err;
  CHECK_INT(vast_doc_parse(buf, len, NULL, &d, &err), VAST_OK);
  free(buf);
  return d;
}

static const vast_ad *first_ad(vast_doc *d) {
  const vast_vast *v = vast_doc_vast(d);
  CHECK(v && v->n_ads > 0);
  return &v->ads[0];
}

TEST(corpus_inline_linear) {
  vast_doc *d = load("inline-linear.xml");
  const vast_ad *ad = first_ad(d);
  const vast_ad *ch[1] = {ad};
  nrec = 0;
  CHECK_INT(vast_plan_create(ch, 1, 0, 0, &plan), VAST_OK);
  CHECK_NEAR(vast_plan_duration(plan), 16, 1e-9);
  CHECK_INT(vast_tracker_create(plan, NULL, record, NULL, &tr), VAST_OK);
  in(VAST_IN_IMPRESSION, 0);
  play(0, 16);
  in(VAST_IN_ENDED, 16);
  CHECK_INT(count("impression"), 1);
  CHECK_STR(recs[find("impression")].url, "http://example.com/track/impression");
  CHECK_INT(count("start"), 1);
  CHECK_NEAR(recs[find("firstQuartile")].media, 4, 1e-9);
  CHECK_NEAR(recs[find("midpoint")].media, 8, 1e-9);
  CHECK_NEAR(recs[find("thirdQuartile")].media, 12, 1e-9);
  CHECK_INT(count("complete"), 1);
  teardown();
  vast_doc_free(d);
}

TEST(corpus_sample_macros_and_progress) {
  vast_doc *d = load("sample.xml");
  const vast_ad *ad = first_ad(d);
  const vast_ad *ch[1] = {ad};
  nrec = 0;
  CHECK_INT(vast_plan_create(ch, 1, 0, 0, &plan), VAST_OK);
  CHECK_INT(vast_tracker_create(plan, NULL, record, NULL, &tr), VAST_OK);
  in(VAST_IN_IMPRESSION, 0);
  CHECK_INT(count("impression"), 3);
  for (int i = 0; i < nrec; i++)
    CHECK(!strchr(recs[i].url, '['));
  /* [random] and [RANDOM] became 8 digits */
  CHECK_INT(strlen(recs[1].url), strlen("http://example.com/impression2_") + 8);
  play(0, 90.123);
  in(VAST_IN_ENDED, 90.123);
  CHECK_INT(count_url("http://example.com/linear-progress-30sec"), 1);
  CHECK_INT(count_url("http://example.com/linear-progress-60%"), 1);
  CHECK_INT(count("complete"), 1);
  teardown();
  /* the companion creative: creativeView and its clicks only */
  CHECK_INT(vast_plan_create(ch, 1, 1, 0, &plan), VAST_OK);
  CHECK_INT(vast_plan_kind(plan), VAST_CREATIVE_COMPANION);
  nrec = 0;
  CHECK_INT(vast_tracker_create(plan, NULL, record, NULL, &tr), VAST_OK);
  in(VAST_IN_CREATIVE_VIEW, 0);
  CHECK_INT(count("creativeView"), 1);
  char ct[256];
  vast_tracker_click(tr, 1, 0, NULL, ct, sizeof ct, NULL);
  CHECK_STR(ct, "http://example.com/companion1-clickthrough");
  CHECK_INT(count("clickTracking"), 2);
  teardown();
  CHECK_INT(vast_plan_create(ch, 1, 1, 7, &plan), VAST_E_NOT_FOUND);
  vast_doc_free(d);
}

TEST(corpus_wrapper_chain_from_files) {
  vast_doc *da = load("wrapper-a.xml"), *db = load("wrapper-b.xml"), *ds = load("sample.xml");
  const vast_ad *ch[3] = {first_ad(da), first_ad(db), first_ad(ds)};
  nrec = 0;
  CHECK_INT(vast_plan_create(ch, 3, 0, 0, &plan), VAST_OK);
  CHECK_INT(vast_tracker_create(plan, NULL, record, NULL, &tr), VAST_OK);
  in(VAST_IN_IMPRESSION, 0);
  CHECK_INT(count("impression"), 1 + 2 + 3);
  CHECK_INT(count_url("http://example.com/wrapperA-impression"), 1);
  CHECK_INT(count_url("http://example.com/wrapperB-impression"), 2);
  play(0, 60);
  /* start: wrapper A's two linear creatives, wrapper B's linear, the InLine; not the NonLinears */
  CHECK_INT(count("start"), 4);
  CHECK_INT(count_url("http://example.com/wrapperA-nonlinear-start"), 0);
  CHECK_INT(count_url("http://example.com/wrapperA-linear-progress-30sec"), 1);
  CHECK_INT(count_url("http://example.com/wrapperB-linear-progress-60%"), 1);
  char ct[256];
  vast_tracker_click(tr, 1700000060.0, 60, NULL, ct, sizeof ct, NULL);
  CHECK_STR(ct, "http://example.com/linear-clickthrough_adplayhead:00%3A01%3A00.000");
  CHECK_INT(count("clickTracking"), 3 + 1 + 2);
  vast_input e = {VAST_IN_ERROR, 1700000061.0, 61, 0, 405, NULL, NULL, 0};
  vast_tracker_feed(tr, &e);
  CHECK_INT(count("error"), 3);
  CHECK_INT(count_url("http://example.com/wrapperA-error"), 1);
  CHECK_INT(count_url("http://example.com/wrapperB-error"), 1);
  CHECK_INT(count_url("http://example.com/error_405"), 1);
  teardown();
  vast_doc_free(da);
  vast_doc_free(db);
  vast_doc_free(ds);
}

/* ------------------------------------------------------------------------ */
/* Icons, CustomClick, initial player state                                  */

static vast_icon i_icons[3], w_icons[1];
static vast_url ic0_view[1], ic0_click[1], ic1_view[1], wic_view[1], wic_click[1], i_custom[2],
    w_custom[1];

/* The fixture plus: InLine icons 0 (AdChoices: view, click, click-through),
 * 1 (other program: view only), 2 (AdChoices again, no tracking); a Wrapper icon
 * of program "adchoices" (merged into icons 0 and 2); CustomClicks on both levels. */
static void setup_icons(void) {
  build(30, VAST_OFFSET_NONE, 0);
  ic0_view[0] = U("http://i/ic0-view?ph=[ADPLAYHEAD]");
  ic0_click[0] = U("http://i/ic0-click?pos=[CLICKPOS]");
  ic1_view[0] = U("http://i/ic1-view");
  wic_view[0] = U("http://w/ic-view");
  wic_click[0] = U("http://w/ic-click");
  i_custom[0] = U("http://i/custom1?pos=[CLICKPOS]");
  i_custom[1] = U("http://i/custom2");
  w_custom[0] = U("http://w/custom");
  memset(i_icons, 0, sizeof i_icons);
  memset(w_icons, 0, sizeof w_icons);
  i_icons[0].program = "AdChoices";
  i_icons[0].view_tracking = ic0_view;
  i_icons[0].n_view_tracking = 1;
  i_icons[0].click_tracking = ic0_click;
  i_icons[0].n_click_tracking = 1;
  i_icons[0].click_through = "http://i/ic0-landing?ph=[ADPLAYHEAD]&ip=[DEVICEIP]";
  i_icons[1].program = "other";
  i_icons[1].view_tracking = ic1_view;
  i_icons[1].n_view_tracking = 1;
  i_icons[2].program = "AdChoices";
  w_icons[0].program = "adchoices";
  w_icons[0].view_tracking = wic_view;
  w_icons[0].n_view_tracking = 1;
  w_icons[0].click_tracking = wic_click;
  w_icons[0].n_click_tracking = 1;
  i_lin.icons = i_icons;
  i_lin.n_icons = 3;
  w_lin.icons = w_icons;
  w_lin.n_icons = 1;
  i_lin.custom_clicks = i_custom;
  i_lin.n_custom_clicks = 2;
  w_lin.custom_clicks = w_custom;
  w_lin.n_custom_clicks = 1;
  nrec = 0;
  CHECK_INT(vast_plan_create(chain, 2, 0, 0, &plan), VAST_OK);
  vast_macro_ctx_init(&mctx);
  vast_macro_ctx_set(&mctx, VAST_MACRO_DEVICEIP, "10.0.0.1");
  CHECK_INT(vast_tracker_create(plan, &mctx, record, NULL, &tr), VAST_OK);
  vast_tracker_seed(tr, 42);
}

/* One scripted input: what it returns and the URLs it fires (prefixes, in order). */
typedef struct step {
  vast_input_kind kind;
  int icon;
  vast_err want;
  const char *fired[4];
} step;

static void run_steps(const step *steps, size_t n) {
  for (size_t k = 0; k < n; k++) {
    int before = nrec;
    vast_input i;
    memset(&i, 0, sizeof i);
    i.kind = steps[k].kind;
    i.media_time = -1;
    i.wall_time = 1700000001.0;
    i.icon = steps[k].icon;
    i.click_pos = "3,4";
    vast_err got = vast_tracker_feed(tr, &i);
    if (got != steps[k].want) fprintf(stderr, "  step %zu (%s)\n", k, vast_input_name(i.kind));
    CHECK_INT(got, steps[k].want);
    int m = 0;
    while (m < 4 && steps[k].fired[m])
      m++;
    if (nrec - before != m) fprintf(stderr, "  step %zu (%s)\n", k, vast_input_name(i.kind));
    CHECK_INT(nrec - before, m);
    for (int j = 0; j < m; j++) {
      if (strncmp(recs[before + j].url, steps[k].fired[j], strlen(steps[k].fired[j])))
        fprintf(stderr, "  step %zu: %s, expected %s...\n", k, recs[before + j].url,
                steps[k].fired[j]);
      CHECK(!strncmp(recs[before + j].url, steps[k].fired[j], strlen(steps[k].fired[j])));
    }
  }
}

TEST(icons_and_custom_clicks_table) {
  setup_icons();
  CHECK_INT(vast_plan_icon_count(plan), 3);
  play(0, 1);
  nrec = 0;
  static const step steps[] = {
      /* view: every level of the same program, chain order, once per icon */
      {VAST_IN_ICON_VIEW,
       0,
       VAST_OK,
       {"http://w/ic-view", "http://i/ic0-view?ph=00%3A00%3A01.000"}},
      {VAST_IN_ICON_VIEW, 0, VAST_OK, {NULL}},
      {VAST_IN_ICON_VIEW, 1, VAST_OK, {"http://i/ic1-view"}},
      {VAST_IN_ICON_VIEW, 2, VAST_OK, {"http://w/ic-view"}},
      {VAST_IN_ICON_VIEW, 3, VAST_E_INVAL, {NULL}},
      {VAST_IN_ICON_VIEW, -1, VAST_E_INVAL, {NULL}},
      /* click: every time, CLICKPOS expanded */
      {VAST_IN_ICON_CLICK, 0, VAST_OK, {"http://w/ic-click", "http://i/ic0-click?pos=3,4"}},
      {VAST_IN_ICON_CLICK, 0, VAST_OK, {"http://w/ic-click", "http://i/ic0-click"}},
      {VAST_IN_ICON_CLICK, 1, VAST_OK, {NULL}},
      {VAST_IN_ICON_CLICK, 9, VAST_E_INVAL, {NULL}},
      /* CustomClick: its own URLs only, not ClickTracking; ClickTracking not CustomClick */
      {VAST_IN_CUSTOM_CLICK,
       0,
       VAST_OK,
       {"http://w/custom", "http://i/custom1?pos=3,4", "http://i/custom2"}},
      {VAST_IN_CUSTOM_CLICK,
       0,
       VAST_OK,
       {"http://w/custom", "http://i/custom1", "http://i/custom2"}},
      {VAST_IN_CLICK, 0, VAST_OK, {"http://w/click", "http://i/click1", "http://i/click2"}},
      /* nothing after a terminal event */
      {VAST_IN_ERROR, 0, VAST_OK, {"http://w/err", "http://i/err"}},
      {VAST_IN_ICON_VIEW, 1, VAST_E_STATE, {NULL}},
      {VAST_IN_ICON_CLICK, 0, VAST_E_STATE, {NULL}},
      {VAST_IN_CUSTOM_CLICK, 0, VAST_E_STATE, {NULL}},
  };
  run_steps(steps, sizeof steps / sizeof *steps);
  CHECK_INT(count("iconViewTracking"), 4);
  CHECK_INT(count("iconClickTracking"), 4);
  CHECK_INT(count("customClick"), 6);
  CHECK_INT(recs[find("customClick")].kind, VAST_BEACON_CUSTOM_CLICK);
  CHECK_INT(recs[find("iconViewTracking")].kind, VAST_BEACON_ICON_VIEW);
  CHECK_INT(recs[find("iconClickTracking")].kind, VAST_BEACON_ICON_CLICK);
  CHECK_INT(recs[find("iconViewTracking")].level, 0);
  teardown();
}

/* Wrapper Companions for the InLine's slot (adSlotID, else width x height) join
 * the Companion plan in chain order, each beacon saying its level; ClickThrough
 * from the closest Wrapper when the InLine has none. */
TEST(wrapper_companions_merged) {
  static const char wx[] =
      "<VAST version=\"4.2\"><Ad id=\"w\"><Wrapper><AdSystem>s</AdSystem>"
      "<VASTAdTagURI>http://x/in</VASTAdTagURI><Impression>http://w/imp</Impression>"
      "<Creatives><Creative><CompanionAds>"
      "<Companion width=\"300\" height=\"250\"><TrackingEvents>"
      "<Tracking event=\"creativeView\">http://w/cv</Tracking></TrackingEvents>"
      "<CompanionClickThrough>http://w/land</CompanionClickThrough>"
      "<CompanionClickTracking>http://w/click</CompanionClickTracking></Companion>"
      "<Companion width=\"728\" height=\"90\"><TrackingEvents>"
      "<Tracking event=\"creativeView\">http://w/other-size</Tracking></TrackingEvents></Companion>"
      "<Companion width=\"300\" height=\"250\" adSlotID=\"side\"><TrackingEvents>"
      "<Tracking event=\"creativeView\">http://w/other-slot</Tracking></TrackingEvents></Companion>"
      "</CompanionAds></Creative></Creatives></Wrapper></Ad></VAST>";
  static const char ix[] =
      "<VAST version=\"4.2\"><Ad id=\"i\"><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>"
      "<Impression>http://i/imp</Impression><Creatives><Creative><CompanionAds>"
      "<Companion width=\"300\" height=\"250\" adSlotID=\"top\">"
      "<StaticResource creativeType=\"image/png\">http://i/c.png</StaticResource>"
      "<TrackingEvents><Tracking event=\"creativeView\">http://i/cv</Tracking></TrackingEvents>"
      "<CompanionClickTracking>http://i/click</CompanionClickTracking></Companion>"
      "</CompanionAds></Creative></Creatives></InLine></Ad></VAST>";
  vast_doc *dw = NULL, *di = NULL;
  CHECK_INT(vast_doc_parse(wx, strlen(wx), NULL, &dw, NULL), VAST_OK);
  CHECK_INT(vast_doc_parse(ix, strlen(ix), NULL, &di, NULL), VAST_OK);
  const vast_ad *ch[2] = {&vast_doc_vast(dw)->ads[0], &vast_doc_vast(di)->ads[0]};
  CHECK_INT(vast_plan_create(ch, 2, 0, 0, &plan), VAST_OK);
  nrec = 0;
  CHECK_INT(vast_tracker_create(plan, NULL, record, NULL, &tr), VAST_OK);
  in(VAST_IN_CREATIVE_VIEW, 0);
  CHECK_INT(count("creativeView"), 2);
  CHECK_STR(recs[0].url, "http://w/cv"); /* no other size, no other slot */
  CHECK_INT(recs[0].level, 0);
  CHECK_STR(recs[1].url, "http://i/cv");
  CHECK_INT(recs[1].level, 1);
  char ct[256];
  nrec = 0;
  CHECK_INT(vast_tracker_click(tr, 1, 0, NULL, ct, sizeof ct, NULL), VAST_OK);
  CHECK_STR(ct, "http://w/land");
  CHECK_INT(count("clickTracking"), 2);
  CHECK_STR(recs[0].url, "http://w/click");
  CHECK_INT(recs[0].level, 0);
  CHECK_INT(recs[1].level, 1);
  teardown();
  vast_doc_free(dw);
  vast_doc_free(di);
}

TEST(icon_click_returns_icon_click_through) {
  setup_icons();
  play(0, 2);
  nrec = 0;
  char out[256];
  size_t len = 0;
  CHECK_INT(vast_tracker_icon_click(tr, 1700000002.0, 2, 0, NULL, out, sizeof out, &len), VAST_OK);
  CHECK_STR(out, "http://i/ic0-landing?ph=00%3A00%3A02.000&ip=10.0.0.1");
  CHECK_INT(len, strlen(out));
  CHECK_INT(nrec, 2);
  CHECK_INT(count("clickTracking"), 0); /* an icon click is not a creative click */
  /* no click-through: "" */
  CHECK_INT(vast_tracker_icon_click(tr, 1700000002.0, 2, 1, NULL, out, sizeof out, &len), VAST_OK);
  CHECK_STR(out, "");
  /* out of range: refused, nothing fired */
  nrec = 0;
  CHECK_INT(vast_tracker_icon_click(tr, 1700000002.0, 2, 3, NULL, out, sizeof out, &len),
            VAST_E_INVAL);
  CHECK_INT(vast_tracker_icon_click(tr, 1700000002.0, 2, -1, NULL, out, sizeof out, &len),
            VAST_E_INVAL);
  CHECK_INT(nrec, 0);
  /* cut to fit */
  char small[8];
  CHECK_INT(vast_tracker_icon_click(tr, 1700000002.0, 2, 0, NULL, small, sizeof small, &len),
            VAST_E_NOSPACE);
  CHECK_INT(strlen(small), 7);
  teardown();
  /* a plan without icons, and names */
  setup(30, VAST_OFFSET_NONE, 0);
  CHECK_INT(vast_plan_icon_count(plan), 0);
  CHECK_INT(vast_tracker_icon_click(tr, 1, 0, 0, NULL, out, sizeof out, NULL), VAST_E_INVAL);
  teardown();
  CHECK_INT(vast_input_from_name("iconView"), VAST_IN_ICON_VIEW);
  CHECK_INT(vast_input_from_name("iconclick"), VAST_IN_ICON_CLICK);
  CHECK_INT(vast_input_from_name("customClick"), VAST_IN_CUSTOM_CLICK);
  CHECK_STR(vast_input_name(VAST_IN_CUSTOM_CLICK), "customClick");
}

/* Initial player state: rows of (state set before start, inputs, what fires). */
TEST(initial_player_state_table) {
  static const struct {
    unsigned state;
    vast_input_kind inputs[3];
    const char *fired;        /* beacon names, space-separated, in order */
    const char *expand_state; /* [PLAYERSTATE] on playerExpand, NULL when not fired */
  } rows[] = {
      {VAST_PLAYER_MUTED, {VAST_IN_MUTE, 0}, "", NULL},
      {VAST_PLAYER_MUTED, {VAST_IN_UNMUTE, VAST_IN_MUTE, 0}, "unmute mute", NULL},
      {0, {VAST_IN_MUTE, 0}, "mute", NULL},
      {0, {VAST_IN_UNMUTE, 0}, "", NULL},
      {VAST_PLAYER_MUTED,
       {VAST_IN_PLAYER_EXPAND, 0},
       "playerExpand fullscreen",
       "s=muted,fullscreen"},
      {0, {VAST_IN_PLAYER_EXPAND, 0}, "playerExpand fullscreen", "s=fullscreen"},
      {VAST_PLAYER_FULLSCREEN, {VAST_IN_PLAYER_EXPAND, 0}, "", NULL},
      {VAST_PLAYER_FULLSCREEN | VAST_PLAYER_MUTED,
       {VAST_IN_PLAYER_COLLAPSE, 0},
       "playerCollapse exitFullscreen",
       NULL},
  };
  for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
    setup(30, VAST_OFFSET_NONE, 0);
    CHECK_INT(vast_tracker_set_player_state(tr, rows[r].state), VAST_OK);
    CHECK_INT(nrec, 0); /* setting the state fires nothing */
    play(0, 1);
    nrec = 0;
    for (int k = 0; k < 3 && rows[r].inputs[k]; k++)
      CHECK_INT(in(rows[r].inputs[k], 1), VAST_OK);
    char names[256] = "";
    for (int i = 0; i < nrec; i++)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? " " : "",
               recs[i].name);
    if (strcmp(names, rows[r].fired)) fprintf(stderr, "  row %zu\n", r);
    CHECK_STR(names, rows[r].fired);
    if (rows[r].expand_state) CHECK(strstr(recs[find("playerExpand")].url, rows[r].expand_state));
    teardown();
  }
  /* refused once started, for unknown bits, and for NULL */
  setup(30, VAST_OFFSET_NONE, 0);
  CHECK_INT(vast_tracker_set_player_state(tr, 4), VAST_E_INVAL);
  CHECK_INT(vast_tracker_set_player_state(NULL, 0), VAST_E_INVAL);
  CHECK_INT(vast_tracker_set_player_state(tr, VAST_PLAYER_MUTED), VAST_OK);
  CHECK_INT(vast_tracker_set_player_state(tr, 0), VAST_OK); /* may be changed before start */
  play(0, 1);
  CHECK_INT(vast_tracker_set_player_state(tr, VAST_PLAYER_MUTED), VAST_E_STATE);
  nrec = 0;
  CHECK_INT(in(VAST_IN_MUTE, 1), VAST_OK);
  CHECK_INT(count("mute"), 1);
  teardown();
  CHECK(vast_tracker_memory() < 1024);
}

static const th_case cases[] = {
    TH(impressions_of_whole_chain_with_creative_view),
    TH(continuous_playback_earns_everything_once_in_order),
    TH(seek_forward_does_not_earn_quartiles),
    TH(seek_back_into_the_stretch_continues_it),
    TH(fast_playback_earns_no_quartile),
    TH(normal_speed_with_jitter_earns_everything),
    TH(wall_clock_going_back_is_no_reference),
    TH(replayed_seconds_earn_nothing_until_past_the_furthest_point),
    TH(pause_seek_resume_is_not_bridged),
    TH(ssai_segment_positions_trusted_mode),
    TH(time_jump_without_seek_is_not_playback),
    TH(pause_keeps_progress),
    TH(rewind_fires_rewind_and_keeps_once_events),
    TH(progress_offsets_time_and_percent_once),
    TH(percent_offsets_wait_for_duration),
    TH(real_duration_overrides_declared),
    TH(skip_only_once_skippable),
    TH(only_allowed_events_after_the_end),
    TH(error_and_not_used_before_impression),
    TH(playhead_zero_at_first_beacons_and_about_blank_not_fired),
    TH(select_open_and_one_line_helpers),
    TH(not_used_only_before_start),
    TH(toggles_fire_on_state_change_only),
    TH(click_fires_all_tracking_and_returns_click_through),
    TH(errors_to_every_level_with_errorcode),
    TH(viewability_once_and_verification),
    TH(plan_errors_and_memory),
    TH(many_trackers_share_one_plan),
    TH(property_random_sequences),
    TH(corpus_inline_linear),
    TH(corpus_sample_macros_and_progress),
    TH(corpus_wrapper_chain_from_files),
    TH(icons_and_custom_clicks_table),
    TH(icon_click_returns_icon_click_through),
    TH(wrapper_companions_merged),
    TH(initial_player_state_table),
    {0},
};

int main(int argc, char **argv) {
  return th_main(__FILE__, cases, argc, argv);
}
