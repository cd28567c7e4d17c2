/*
 * track/track-engine.h: what the files of the tracking engine share
 * (internal): the plan and tracker structs behind the opaque handles of
 * vastrack/track.h, their slots, flags and limits. Files:
 *   track.c        the tracker: the state machine that turns inputs into beacons;
 *   track-plan.c   plans: the beacon URLs of a chain merged per event;
 *   track-input.c  input names and the calls that wrap one input (clicks,
 *                  the player state).
 */
#ifndef VASTRACK_TRACK_ENGINE_H
#define VASTRACK_TRACK_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "vastrack/track.h"

/* URL lists of a plan: one per tracking event, then these. */
enum {
  SLOT_IMPRESSION = VAST_EV__COUNT,
  SLOT_ERROR,
  SLOT_CLICK,
  SLOT_VIEWABLE,
  SLOT_NOT_VIEWABLE,
  SLOT_VIEW_UNDETERMINED,
  SLOT_CUSTOM_CLICK,
  SLOT__COUNT
};

#define MAX_PROGRESS 64  /* progress offsets tracked per plan (bits of a uint64_t) */
#define MAX_VENDORS 16   /* verification vendors per plan (bits of a uint16_t) */
#define STEP_SLACK 1.0   /* seconds a forward step may take when the wall time is unknown */
#define STEP_RATE 1.1    /* how much faster than real time a step may run */
#define STEP_JITTER 0.25 /* seconds of jitter allowance (refilled at STEP_RATE - 1) */
#define REWIND_EPS 0.1   /* backward jitter ignored, seconds */
#define EPS 1e-6

typedef struct plan_url {
  const char *url;
  uint32_t level;
  uint32_t aux; /* verification: vendor index */
} plan_url;

/* One icon: ranges of its view and click tracking in plan->icon_urls. */
typedef struct plan_icon {
  const char *click_through;
  uint32_t view, n_view, click, n_click;
} plan_icon;

typedef struct plan_progress {
  double value; /* seconds, or percent when percent */
  int percent;
  uint32_t level;
  const char *url;
} plan_progress;

struct vast_plan {
  size_t bytes;
  vast_creative_kind kind;
  double duration; /* declared, -1 unknown */
  vast_offset_kind skip_kind;
  double skip_value;
  const char *click_through;
  const char *default_asset;
  const char *ad_serving_id, *ad_type;
  int pod_sequence;
  const vast_universal_ad_id *uaids;
  size_t n_uaids;
  const vast_category *cats;
  size_t n_cats;
  const vast_category *blocked[VAST_PLAN_MAX_BLOCKED]; /* Wrappers' BlockedAdCategories */
  size_t n_blocked;
  uint32_t start[SLOT__COUNT + 1];
  const plan_url *urls;
  size_t n_urls;
  const plan_progress *progress;
  size_t n_progress;
  const plan_url *verif;
  size_t n_verif;
  const char *vendors[MAX_VENDORS];
  size_t n_vendors;
  const plan_icon *icons;
  size_t n_icons;
  const plan_url *icon_urls;
  size_t n_icon_urls;
};

/* Tracker state flags. */
enum {
  ST_LOADED = 1u << 0,
  ST_IMPRESSION = 1u << 1,
  ST_STARTED = 1u << 2,
  ST_PAUSED = 1u << 3,
  ST_MUTED = 1u << 4,
  ST_EXPANDED = 1u << 5,
  ST_AD_EXPANDED = 1u << 6,
  ST_VIEW = 1u << 7,
  ST_TERMINAL = 1u << 8,
  ST_Q1 = 1u << 9,
  ST_Q2 = 1u << 10,
  ST_Q3 = 1u << 11,
  ST_CREATIVE_VIEW = 1u << 12,
  ST_INTERACTIVE = 1u << 13,
  ST_TRUSTED = 1u << 14,   /* trusted positions (SSAI) */
  ST_CLOSED = 1u << 15,    /* close/closeLinear fired */
  ST_END_PLAY = 1u << 16,  /* terminal by ended (complete or not) or skip */
  ST_END_ERROR = 1u << 17, /* terminal by error */
  ST_END_NOT_USED = 1u << 18,
  ST_UNTRACKED = 1u << 19 /* report events without URLs (url NULL) */
};

struct vast_tracker {
  const vast_plan *plan;
  const vast_macro_ctx *ctx;
  vast_track_fn fn;
  void *user;
  const char *asset;
  double duration;         /* effective: real when given, else declared; -1 unknown */
  double pos;              /* last media time; -1 before any */
  double last_wall;        /* -1 unknown */
  double reach;            /* end of the unbroken normal-speed stretch from 0 */
  double played;           /* seconds of normal-speed playback, replays included */
  double slack;            /* jitter allowance left, seconds (<= STEP_JITTER) */
  double discarded;        /* forward media seconds not counted as played */
  double due_reach;        /* reach of the next pending quartile / percent offset */
  double due_played;       /* played time of the next pending time offset */
  vast_plan *owned;        /* plan made by vast_tracker_open, freed with the tracker */
  double (*clock)(void *); /* TIMESTAMP source when set */
  void *clock_user;
  uint64_t progress_done;
  uint64_t rng;
  uint32_t state;
  uint16_t verif_done;
  uint16_t icons_viewed; /* bit i: icon i's IconViewTracking fired */
};

/* The macro values of a beacon fired now (wall time `wall`) by tracker t. track.c. */
void vast__tracker_fill_vars(vast_tracker *t, vast_macro_vars *v, double wall);

#endif
