/*
 * bench-tracker.c: the tracking engine's throughput and footprint.
 *
 *  - updates/s: 10000 live trackers sharing one plan, each playing a 30 s ad
 *    with 4 Hz media-time ticks plus impression, mute/unmute, pause/resume, a
 *    click and the end (every call to the tracker counts as one update; the
 *    beacons it emits are expanded and handed to a callback). Compared with a
 *    physical floor measured in the same run: the same number of bare state
 *    updates (load, add, compare, store on a struct of the same size per
 *    tracker) plus a memcpy of every beacon byte the real run produced.
 *  - bytes per live tracker, beyond the shared plan and documents.
 *  - macro expansions/s of a typical beacon URL (4 macros), against a memcpy
 *    of the same output bytes.
 * One JSON line per figure, with the floor and the ratio (engine / floor).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vastrack.h"

#define N_TRACKERS 10000
#define AD_SECONDS 30.0
#define TICK 0.25

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static vast_tracking trk[20];
static vast_url imp[2], err[1], clk[1];
static vast_linear lin;
static vast_creative cr;
static vast_ad ad;

static void build(void) {
  static const struct {
    vast_event ev;
    const char *url;
  } t[] = {
      {VAST_EV_START, "https://t.example.com/e?ev=start&cb=[CACHEBUSTING]&ts=[TIMESTAMP]"},
      {VAST_EV_FIRST_QUARTILE, "https://t.example.com/e?ev=q1&cb=[CACHEBUSTING]&ph=[ADPLAYHEAD]"},
      {VAST_EV_MIDPOINT, "https://t.example.com/e?ev=q2&cb=[CACHEBUSTING]&ph=[ADPLAYHEAD]"},
      {VAST_EV_THIRD_QUARTILE, "https://t.example.com/e?ev=q3&cb=[CACHEBUSTING]&ph=[ADPLAYHEAD]"},
      {VAST_EV_COMPLETE, "https://t.example.com/e?ev=complete&cb=[CACHEBUSTING]"},
      {VAST_EV_MUTE, "https://t.example.com/e?ev=mute"},
      {VAST_EV_UNMUTE, "https://t.example.com/e?ev=unmute"},
      {VAST_EV_PAUSE, "https://t.example.com/e?ev=pause&ph=[ADPLAYHEAD]"},
      {VAST_EV_RESUME, "https://t.example.com/e?ev=resume&ph=[ADPLAYHEAD]"},
      {VAST_EV_CREATIVE_VIEW, "https://t.example.com/e?ev=cv"},
      {VAST_EV_SKIP, "https://t.example.com/e?ev=skip"},
      {VAST_EV_START, "https://other.example.net/start?ip=[DEVICEIP]"},
  };
  size_t n = sizeof t / sizeof *t;
  for (size_t i = 0; i < n; i++) {
    trk[i].event = t[i].ev;
    trk[i].event_name = "";
    trk[i].url = t[i].url;
  }
  trk[n].event = VAST_EV_PROGRESS;
  trk[n].event_name = "progress";
  trk[n].offset.kind = VAST_OFFSET_TIME;
  trk[n].offset.value = 10;
  trk[n].url = "https://t.example.com/e?ev=p10";
  n++;
  imp[0].url = "https://t.example.com/imp?cb=[CACHEBUSTING]&ts=[TIMESTAMP]&ip=[DEVICEIP]";
  imp[1].url = "https://w.example.org/imp?r=[RANDOM]";
  err[0].url = "https://t.example.com/err?c=[ERRORCODE]";
  clk[0].url = "https://t.example.com/click?ph=[ADPLAYHEAD]";
  lin.duration = AD_SECONDS;
  lin.tracking = trk;
  lin.n_tracking = n;
  lin.click_through = "https://advertiser.example.com/landing";
  lin.click_tracking = clk;
  lin.n_click_tracking = 1;
  cr.kind = VAST_CREATIVE_LINEAR;
  cr.linear = &lin;
  ad.kind = VAST_AD_INLINE;
  ad.sequence = -1;
  ad.impressions = imp;
  ad.n_impressions = 2;
  ad.errors = err;
  ad.n_errors = 1;
  ad.creatives = &cr;
  ad.n_creatives = 1;
}

static size_t beacons, beacon_bytes, discarded;
static void sink(void *user, const vast_track_beacon *b) {
  (void)user;
  beacons++;
  beacon_bytes += b->url_len;
}

/* The floor's per-play state: the clocks a tracker keeps, laid out at the stride of
 * a real tracker (vast_tracker_memory()) so both walk the same amount of memory. */
typedef struct floor_state {
  double pos, played, next_due, last_wall;
} floor_state;
#define FS(i) ((floor_state *)(fbuf + (size_t)(i)*stride))

int main(void) {
  build();
  const vast_ad *chain[1] = {&ad};
  vast_plan *plan;
  if (vast_plan_create(chain, 1, 0, 0, &plan) != VAST_OK) return 1;
  vast_macro_ctx ctx;
  vast_macro_ctx_init(&ctx);
  vast_macro_ctx_set(&ctx, VAST_MACRO_DEVICEIP, "203.0.113.7");
  vast_tracker **tr = calloc(N_TRACKERS, sizeof *tr);
  if (!tr) return 1;

  /* 1. updates per second */
  size_t updates = 0;
  double best = 1e9;
  size_t run_updates = 0, run_beacons = 0, run_bytes = 0;
  for (int rep = 0; rep < 3; rep++) {
    for (int i = 0; i < N_TRACKERS; i++)
      if (vast_tracker_create(plan, &ctx, sink, NULL, &tr[i]) != VAST_OK) return 1;
    updates = 0;
    beacons = beacon_bytes = 0;
    discarded = 0;
    double wall = 1.7e9;
    double t0 = now();
    for (int i = 0; i < N_TRACKERS; i++) {
      vast_input in = {VAST_IN_IMPRESSION, wall, 0, 0, 0, NULL, NULL, 0};
      vast_tracker_feed(tr[i], &in);
      updates++;
    }
    /* session clock s in ticks; the media clock m holds while paused (12 to 12.5 s
       of session time): a player reports the same position while paused */
    int paused = 0;
    double m = 0;
    for (double s = 0; m <= AD_SECONDS + 1e-9; s += TICK) {
      wall += TICK;
      for (int i = 0; i < N_TRACKERS; i++) {
        if (vast_tracker_time(tr[i], wall, m) == VAST_E_NOT_PLAYED) discarded++;
        updates++;
      }
      if (s == 5.0 || s == 6.0 || s == 12.0 || s == 12.5 || s == 20.0) {
        vast_input_kind k = s == 5.0    ? VAST_IN_MUTE
                            : s == 6.0  ? VAST_IN_UNMUTE
                            : s == 12.0 ? VAST_IN_PAUSE
                            : s == 12.5 ? VAST_IN_RESUME
                                        : VAST_IN_CLICK;
        paused = k == VAST_IN_PAUSE ? 1 : k == VAST_IN_RESUME ? 0 : paused;
        for (int i = 0; i < N_TRACKERS; i++) {
          vast_input in = {k, wall, m, 0, 0, NULL, NULL, 0};
          vast_tracker_feed(tr[i], &in);
          updates++;
        }
      }
      if (!paused) m += TICK;
    }
    for (int i = 0; i < N_TRACKERS; i++) {
      vast_input in = {VAST_IN_ENDED, wall, AD_SECONDS, 0, 0, NULL, NULL, 0};
      vast_tracker_feed(tr[i], &in);
      updates++;
    }
    double dt = now() - t0;
    /* every play earns the same 15 beacons at normal speed; a tick thrown away
       would mean the benchmark measures a broken play */
    if (beacons != (size_t)N_TRACKERS * 15 || discarded) {
      fprintf(stderr, "bench-tracker: %zu beacons, %zu ticks discarded: the play is wrong\n",
              beacons, discarded);
      return 1;
    }
    if (dt < best) {
      best = dt;
      run_updates = updates;
      run_beacons = beacons;
      run_bytes = beacon_bytes;
    }
    for (int i = 0; i < N_TRACKERS; i++)
      vast_tracker_free(tr[i]);
  }
  double rate = run_updates / best;

  /* floor: bare state updates over the same memory, plus memcpy of the beacon bytes */
  size_t stride = (vast_tracker_memory() + 7) & ~(size_t)7;
  if (stride < sizeof(floor_state)) stride = sizeof(floor_state);
  char *fbuf = calloc(N_TRACKERS, stride);
  char *dst = malloc(1 << 16);
  char src[1 << 12];
  memset(src, 'x', sizeof src);
  if (!fbuf || !dst) return 1;
  double fbest = 1e9;
  volatile double keep = 0;
  for (int rep = 0; rep < 3; rep++) {
    for (int i = 0; i < N_TRACKERS; i++)
      FS(i)->next_due = 7.5;
    size_t per = run_updates / N_TRACKERS;
    size_t copy = run_bytes / (run_updates ? run_updates : 1) + 1;
    double t0 = now();
    double m = 0;
    for (size_t u = 0; u < per; u++) {
      m += TICK;
      for (int i = 0; i < N_TRACKERS; i++) {
        floor_state *s = FS(i);
        double dm = m - s->pos;
        if (dm <= 1.0 + 1.1 * (m - s->last_wall)) s->played += dm;
        s->pos = m;
        s->last_wall = m;
        if (s->played >= s->next_due) s->next_due += 7.5;
      }
      size_t off = (u * 64) & ((1 << 16) - 4096);
      for (int i = 0; i < N_TRACKERS; i++)
        memcpy(dst + off, src + (i & 1023), copy);
      keep += dst[off];
    }
    double dt = now() - t0;
    if (dt < fbest) fbest = dt;
  }
  double frate = run_updates / fbest;
  printf("{\"bench\":\"tracker\",\"metric\":\"updates_per_s\",\"value\":%.0f,\"floor_per_s\":%.0f,"
         "\"ratio\":%.3f,\"target\":10000000,\"trackers\":%d,\"updates\":%zu,\"beacons\":%zu,"
         "\"beacons_per_s\":%.0f}\n",
         rate, frate, rate / frate, N_TRACKERS, run_updates, run_beacons, run_beacons / best);

  /* 2. footprint */
  size_t tb = vast_tracker_memory();
  size_t malloc_rounded = (tb + 8 + 15) & ~(size_t)15; /* glibc chunk: size + header, 16-aligned */
  printf("{\"bench\":\"tracker\",\"metric\":\"bytes_per_tracker\",\"value\":%zu,"
         "\"with_malloc_header\":%zu,\"floor\":%zu,\"ratio\":%.3f,\"target\":1024,"
         "\"plan_bytes_shared\":%zu}\n",
         tb, malloc_rounded, sizeof(floor_state), (double)tb / (double)sizeof(floor_state),
         vast_plan_memory(plan));

  /* 3. macro expansions */
  vast_macro_vars v;
  vast_macro_vars_init(&v);
  v.wall_time = 1.7e9;
  v.ad_playhead = 12.5;
  v.cachebust = 12345678;
  const char *tmpl =
      "https://t.example.com/imp?cb=[CACHEBUSTING]&ts=[TIMESTAMP]&ip=[DEVICEIP]&ph=[ADPLAYHEAD]";
  size_t tl = strlen(tmpl);
  char out[512];
  size_t ol = 0;
  const int N = 2000000;
  double mbest = 1e9, cbest = 1e9;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = now();
    for (int i = 0; i < N; i++) {
      v.cachebust = 10000000 + i;
      vast_macro_expand(tmpl, tl, &ctx, &v, out, sizeof out, &ol);
    }
    double dt = now() - t0;
    if (dt < mbest) mbest = dt;
    t0 = now();
    for (int i = 0; i < N; i++) {
      memcpy(out, src + (i & 255), ol);
      keep += out[i & 63];
    }
    dt = now() - t0;
    if (dt < cbest) cbest = dt;
  }
  printf("{\"bench\":\"tracker\",\"metric\":\"macro_expansions_per_s\",\"value\":%.0f,"
         "\"floor_per_s\":%.0f,\"ratio\":%.3f,\"floor\":\"memcpy of the %zu output bytes\"}\n",
         N / mbest, N / cbest, (N / mbest) / (N / cbest), ol);
  (void)keep;
  free(fbuf);
  free(dst);
  free(tr);
  vast_plan_free(plan);
  return 0;
}
