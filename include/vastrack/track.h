/*
 * vastrack/track.h: the tracking engine and IAB macro expansion.
 *
 * Pure logic, no I/O: given a parsed ad (and the wrappers that led to it) and
 * what happens during playback, decide exactly which tracking URLs must be
 * requested, when, and with which macro values. Something else fires them
 * (see net.h); `vastrack play` prints them (and sends them with --fire).
 *
 * Three objects, three owners:
 *
 *   vast_plan       built once per ad from its wrapper chain: the merged,
 *                   per-event URL lists of every level, the progress offsets,
 *                   the click-through. Immutable after creation, so any number
 *                   of trackers on any number of threads may share one plan.
 *                   It holds pointers into the parsed documents (vast_doc),
 *                   which must outlive the plan.
 *   vast_tracker    one play of one ad: a small state machine (bitsets,
 *                   clocks; vast_tracker_memory() bytes, about 100) fed with
 *                   timestamped player events; it hands beacons to a callback.
 *                   Not thread-safe: feed one tracker from one thread at a time.
 *   vast_macro_ctx  caller-owned values for the macros only the caller knows
 *                   (device, page, regulation...). A plain struct the caller
 *                   allocates, shares between trackers and must keep alive
 *                   (with the strings it points to) while trackers use it.
 *
 *   doc(s) --parse--> vast_ad chain --vast_plan_create--> plan --+--> tracker 1
 *                                                                +--> tracker 2 ...
 *
 * docs/tracking.md describes the semantics in full.
 */
#ifndef VASTRACK_TRACK_H
#define VASTRACK_TRACK_H

#include "base.h"
#include "doc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Macros                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * The IAB macro list. One row per macro: enum suffix, flags. VAST_MF_ARRAY marks
 * list values (each item encoded, commas kept: LATLONG "lat,lon" too);
 * VAST_MF_ENGINE marks values the engine fills itself when it knows them (the
 * caller may still set them for use outside a tracker, or withhold them).
 * ADCATEGORIES (desired categories) and PLAYBACKMETHODS (one integer) are the
 * caller's. New rows only go at the end.
 */
#define VAST_MF_ARRAY 1
#define VAST_MF_ENGINE 2
#define VAST_MACRO_MAP(XX)                                                                         \
  XX(TIMESTAMP, VAST_MF_ENGINE)                                                                    \
  XX(CACHEBUSTING, VAST_MF_ENGINE)                                                                 \
  XX(CONTENTPLAYHEAD, 0)                                                                           \
  XX(MEDIAPLAYHEAD, 0)                                                                             \
  XX(BREAKPOSITION, 0)                                                                             \
  XX(BLOCKEDADCATEGORIES, VAST_MF_ARRAY | VAST_MF_ENGINE)                                          \
  XX(ADCATEGORIES, VAST_MF_ARRAY)                                                                  \
  XX(ADCOUNT, 0)                                                                                   \
  XX(TRANSACTIONID, 0)                                                                             \
  XX(PLACEMENTTYPE, 0)                                                                             \
  XX(ADTYPE, VAST_MF_ENGINE)                                                                       \
  XX(UNIVERSALADID, VAST_MF_ARRAY | VAST_MF_ENGINE)                                                \
  XX(BREAKMAXDURATION, 0)                                                                          \
  XX(BREAKMAXADS, 0)                                                                               \
  XX(BREAKMINADLENGTH, 0)                                                                          \
  XX(BREAKMAXADLENGTH, 0)                                                                          \
  XX(IFA, 0)                                                                                       \
  XX(IFATYPE, 0)                                                                                   \
  XX(CLIENTUA, 0)                                                                                  \
  XX(SERVERUA, 0)                                                                                  \
  XX(DEVICEUA, 0)                                                                                  \
  XX(SERVERSIDE, 0)                                                                                \
  XX(DEVICEIP, 0)                                                                                  \
  XX(LATLONG, VAST_MF_ARRAY)                                                                       \
  XX(DOMAIN, 0)                                                                                    \
  XX(PAGEURL, 0)                                                                                   \
  XX(APPBUNDLE, 0)                                                                                 \
  XX(VASTVERSIONS, VAST_MF_ARRAY)                                                                  \
  XX(APIFRAMEWORKS, VAST_MF_ARRAY)                                                                 \
  XX(EXTENSIONS, VAST_MF_ARRAY)                                                                    \
  XX(VERIFICATIONVENDORS, VAST_MF_ARRAY)                                                           \
  XX(OMIDPARTNER, 0)                                                                               \
  XX(MEDIAMIME, VAST_MF_ARRAY)                                                                     \
  XX(PLAYERCAPABILITIES, VAST_MF_ARRAY)                                                            \
  XX(CLICKTYPE, 0)                                                                                 \
  XX(PLAYERSTATE, VAST_MF_ARRAY | VAST_MF_ENGINE)                                                  \
  XX(INVENTORYSTATE, VAST_MF_ARRAY)                                                                \
  XX(PLAYERSIZE, VAST_MF_ARRAY)                                                                    \
  XX(ADPLAYHEAD, VAST_MF_ENGINE)                                                                   \
  XX(ASSETURI, VAST_MF_ENGINE)                                                                     \
  XX(CONTENTID, 0)                                                                                 \
  XX(CONTENTURI, 0)                                                                                \
  XX(PODSEQUENCE, VAST_MF_ENGINE)                                                                  \
  XX(ADSERVINGID, VAST_MF_ENGINE)                                                                  \
  XX(CLICKPOS, VAST_MF_ARRAY | VAST_MF_ENGINE)                                                     \
  XX(ERRORCODE, VAST_MF_ENGINE)                                                                    \
  XX(REASON, VAST_MF_ENGINE)                                                                       \
  XX(LIMITADTRACKING, 0)                                                                           \
  XX(REGULATIONS, VAST_MF_ARRAY)                                                                   \
  XX(GDPRCONSENT, 0)                                                                               \
  XX(STOREID, 0)                                                                                   \
  XX(STOREURL, 0)                                                                                  \
  XX(PLAYBACKMETHODS, 0)                                                                           \
  XX(CONTENTCAT, VAST_MF_ARRAY)                                                                    \
  XX(GPPSTRING, 0)                                                                                 \
  XX(GPPSECTIONID, VAST_MF_ARRAY)

typedef enum vast_macro {
#define VAST__MACRO_ENUM(name, flags) VAST_MACRO_##name,
  VAST_MACRO_MAP(VAST__MACRO_ENUM)
#undef VAST__MACRO_ENUM
      VAST_MACRO__COUNT
} vast_macro;

/* Name of a macro without brackets ("CACHEBUSTING"); "" when out of range. */
VAST_API const char *vast_macro_name(vast_macro m);
/* VAST_MF_* flags of a macro; 0 when out of range. */
VAST_API unsigned vast_macro_flags(vast_macro m);
/*
 * Macro for a name without brackets, exact (upper case) spelling, `len` bytes.
 * Also maps the non-IAB "RANDOM" and "random" to VAST_MACRO_CACHEBUSTING.
 * Returns -1 when the name is not on the list.
 */
VAST_API int vast_macro_lookup(const char *name, size_t len);

/* Pointer value meaning "withheld for policy reasons": the macro becomes -2. */
VAST_API extern const char vast_macro_withheld[];
#define VAST_MACRO_WITHHELD (vast_macro_withheld)

/*
 * vast_macro_ctx: the values the caller knows. Initialise with
 * vast_macro_ctx_init() (which sets `size`), then set values with the setters
 * or directly. Each value is the raw, unencoded text (the engine encodes it);
 * for VAST_MF_ARRAY macros a comma-separated list whose items are encoded one
 * by one with the commas kept. NULL means unknown (-1), VAST_MACRO_WITHHELD
 * means withheld (-2). Strings are borrowed: they must outlive every use of
 * the context. Owned by the caller; read-only for the library, so one context
 * may be shared by any number of trackers and threads once set up.
 */
typedef struct vast_macro_ctx {
  size_t size;                          /* sizeof(vast_macro_ctx) */
  int tz_offset_min;                    /* TIMESTAMP zone, minutes east of UTC; 0 */
  const char *value[VAST_MACRO__COUNT]; /* by vast_macro; new macros append */
} vast_macro_ctx;

/* Clears *ctx: every value unknown, zone UTC. */
VAST_API void vast_macro_ctx_init(vast_macro_ctx *ctx);
/* Sets one value (borrowed, raw text; NULL = unknown). VAST_E_INVAL for a
 * bad macro or context. */
VAST_API vast_err vast_macro_ctx_set(vast_macro_ctx *ctx, vast_macro m, const char *value);
/* Marks a value withheld (-2). Withholding wins over engine-filled values. */
VAST_API vast_err vast_macro_ctx_withhold(vast_macro_ctx *ctx, vast_macro m);
/* SERVERSIDE: 0 client, 1 server on the client's behalf, 2 server on its own.
 * VAST_E_INVAL for other values. */
VAST_API vast_err vast_macro_ctx_set_serverside(vast_macro_ctx *ctx, int serverside);

/*
 * vast_macro_vars: the values the engine knows at the moment of one beacon.
 * The tracker fills one per beacon; callers of vast_macro_expand() outside a
 * tracker (e.g. the resolver expanding a VASTAdTagURI) fill what they know.
 * Unknown: negative numbers, NULL pointers, 0 counts.
 */
typedef struct vast_macro_vars {
  double wall_time;      /* TIMESTAMP: Unix seconds; < 0 unknown */
  double ad_playhead;    /* ADPLAYHEAD: seconds into the ad; < 0 unknown */
  long cachebust;        /* CACHEBUSTING: 8-digit value; < 0 unknown */
  int error_code;        /* ERRORCODE: IAB code; 0 none (-1), not 100-999 gives 900 */
  int reason;            /* REASON: 1 rejected, 2 not supported, 3 load error; 0 none */
  int pod_sequence;      /* PODSEQUENCE: Ad@sequence; < 0 unknown */
  unsigned player_state; /* PLAYERSTATE: VAST_PLAYER_* bits; used when has_player_state */
  int has_player_state;
  const char *asset_uri;                        /* ASSETURI */
  const char *ad_serving_id;                    /* ADSERVINGID */
  const char *ad_type;                          /* ADTYPE */
  const char *click_pos;                        /* CLICKPOS "x,y" */
  const vast_universal_ad_id *universal_ad_ids; /* UNIVERSALADID: "registry value", ... */
  size_t n_universal_ad_ids;
  const vast_category *categories; /* ADCATEGORIES: codes (a request macro:
                                      a tracker leaves it unset, so the
                                      caller's desired categories apply) */
  size_t n_categories;
  const vast_category *const *blocked_categories; /* BLOCKEDADCATEGORIES: codes; a
                                                     tracker sets the Wrappers'
                                                     BlockedAdCategories of its chain */
  size_t n_blocked_categories;
} vast_macro_vars;

#define VAST_PLAYER_MUTED 1u
#define VAST_PLAYER_FULLSCREEN 2u

/* Sets every field of *vars to unknown. */
VAST_API void vast_macro_vars_init(vast_macro_vars *vars);

/*
 * vast_macro_expand: expand the IAB macros of a URL template.
 *   tmpl, len   the template (need not be NUL-terminated)
 *   ctx         caller values, or NULL (all unknown)
 *   vars        engine values, or NULL (all unknown)
 *   out, cap    caller buffer; on return always NUL-terminated when cap > 0
 *   out_len     OUT, optional: length of the full expansion without the NUL,
 *               even when it did not fit (like snprintf)
 * `[NAME]` and `%%NAME%%` are replaced for every NAME on the IAB list
 * (vast_macro_lookup): withheld -2, else the engine's value, else the
 * caller's, else -1 (PLAYERSTATE: the caller's value first). Values are
 * percent-encoded per RFC 3986 (only ALPHA DIGIT - . _ ~ kept). Anything else
 * is copied as written. ERRORCODE is always 3 digits (900 when unknown or out
 * of range while an error is being reported; -1 when no error).
 * Returns VAST_OK, VAST_E_NOSPACE when the result was cut to fit (out holds
 * the prefix), VAST_E_INVAL for NULL tmpl/out.
 * No allocation; reentrant; thread-safe.
 */
VAST_API vast_err vast_macro_expand(const char *tmpl, size_t len, const vast_macro_ctx *ctx,
                                    const vast_macro_vars *vars, char *out, size_t cap,
                                    size_t *out_len /* OUT */);

/*
 * Formatting helpers used by the expansion, exposed for callers and tests.
 * They write the raw (unencoded) text plus a NUL and return its length, or 0
 * when cap is too small.
 * vast_format_timestamp: ISO 8601 with milliseconds and zone offset,
 *   "2024-05-01T12:00:00.000+00:00".
 * vast_format_timecode: "HH:MM:SS.mmm".
 */
VAST_API size_t vast_format_timestamp(double unix_seconds, int tz_offset_min, char *out,
                                      size_t cap);
VAST_API size_t vast_format_timecode(double seconds, char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* Plans                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct vast_plan vast_plan;

/*
 * vast_plan_create: merge the tracking of one creative and its wrapper chain.
 *   chain      chain[n_chain-1] is the InLine ad; chain[0..n_chain-2] are the
 *              Wrapper ads from the outermost to the innermost. The ads and
 *              their documents must outlive the plan (it points into them).
 *   creative   index into the InLine's creatives of the creative played
 *   variation  for a NonLinear creative the index of the NonLinear shown,
 *              for a Companion creative the index of the Companion; 0 else
 *   plan       OUT: owned by the caller (vast_plan_free); NULL on failure
 * Merged from every level: Impression, Error, ViewableImpression URLs,
 * verificationNotExecuted tracking; for a Linear creative the TrackingEvents and
 * ClickTracking of every Linear creative of every wrapper; for a NonLinear
 * creative those of every wrapper's NonLinearAds; for a Companion the chosen
 * one's plus the Wrapper Companions of the same slot. A Companion only a
 * Wrapper shows: vast_plan_create_companion.
 * Returns VAST_OK, VAST_E_INVAL (NULL/empty chain, last ad not InLine, an
 * earlier ad not a Wrapper), VAST_E_NOT_FOUND (no such creative/variation, or
 * a creative of unknown kind), VAST_E_NOMEM.
 * Thread safety: the finished plan is immutable and shareable.
 */
VAST_API vast_err vast_plan_create(const vast_ad *const *chain, size_t n_chain, size_t creative,
                                   size_t variation, vast_plan **plan /* OUT */);

/* A Companion an ad shows: where it sits in the chain. */
typedef struct vast_companion_ref {
  size_t level;     /* chain level holding it: n_chain-1 the InLine, else a Wrapper */
  size_t creative;  /* creative index in chain[level] */
  size_t variation; /* Companion index in that creative's CompanionAds */
  const vast_companion *companion; /* into the document */
} vast_companion_ref;

#define VAST_PLAN_MAX_COMPANIONS 64 /* Wrapper slots compared against, per ad */

/*
 * vast_chain_companions: the Companions an ad shows: every Companion of the
 * InLine (document order), then the Wrapper-only ones: each Wrapper Companion
 * whose slot (the same adSlotID when both name one, else the same width x
 * height) neither the InLine nor an inner Wrapper shows, innermost Wrapper
 * first. out/cap: caller array; *n gets the count (VAST_E_NOSPACE when more
 * than cap). Slots are compared against the first VAST_PLAN_MAX_COMPANIONS.
 * Returns VAST_OK, VAST_E_NOSPACE, VAST_E_INVAL (bad chain, NULL n). No
 * allocation.
 */
VAST_API vast_err vast_chain_companions(const vast_ad *const *chain, size_t n_chain,
                                        vast_companion_ref *out, size_t cap, size_t *n /* OUT */);
/*
 * vast_plan_create_companion: the plan of one Companion of the chain, the
 * InLine's or a Wrapper-only one (vast_chain_companions): its creativeView
 * tracking and CompanionClickTracking at its own level, merged with the
 * Companions of the same slot at the other levels (chain order, each URL with
 * its level); ClickThrough its own, else the closest other level's. For an
 * InLine Companion it is vast_plan_create(chain, n, creative, variation).
 * Returns VAST_OK, VAST_E_INVAL (bad chain, NULL ref, level out of range),
 * VAST_E_NOT_FOUND (ref names no Companion), VAST_E_NOMEM.
 */
VAST_API vast_err vast_plan_create_companion(const vast_ad *const *chain, size_t n_chain,
                                             const vast_companion_ref *ref,
                                             vast_plan **plan /* OUT */);
/* Frees the plan (not the documents). Accepts NULL. No tracker may use it after. */
VAST_API void vast_plan_free(vast_plan *plan);
/* Bytes held by the plan (one allocation). */
VAST_API size_t vast_plan_memory(const vast_plan *plan);
/* Kind of the planned creative. */
VAST_API vast_creative_kind vast_plan_kind(const vast_plan *plan);
/* Declared duration of the Linear in seconds, -1 when unknown or not linear. */
VAST_API double vast_plan_duration(const vast_plan *plan);
/* Number of beacon URLs the plan holds (all kinds, all levels). */
VAST_API size_t vast_plan_url_count(const vast_plan *plan);
/*
 * Icons of a Linear plan: the InLine Linear's <Icon>s in document order (at
 * most VAST_PLAN_MAX_ICONS; later ones are ignored). Each icon's
 * IconViewTracking and IconClickTracking are merged with those of the Icons
 * of the same `program` in every Wrapper's Linear (chain order); the
 * IconClickThrough is the InLine's. Then the Wrapper Linear Icons whose
 * program the InLine does not show (an AdChoices icon only in a wrapper),
 * innermost Wrapper first, one per program, each with its own
 * IconClickThrough and the tracking of that program at every level (each
 * beacon's `level` says where its URL came from). 0 for other creative kinds.
 */
#define VAST_PLAN_MAX_ICONS 16
#define VAST_PLAN_MAX_BLOCKED 32 /* Wrapper BlockedAdCategories kept for [BLOCKEDADCATEGORIES] */
VAST_API size_t vast_plan_icon_count(const vast_plan *plan);

/* ------------------------------------------------------------------------ */
/* Trackers                                                                  */
/* ------------------------------------------------------------------------ */

/* What the player reports. See docs/tracking.md for when each one fires. */
typedef enum vast_input_kind {
  VAST_IN_LOADED = 1, /* ad loaded: "loaded" */
  VAST_IN_IMPRESSION, /* first frame shown: every Impression + creativeView */
  VAST_IN_TIME,       /* media time update (media_time) */
  VAST_IN_DURATION,   /* real media duration known (value, seconds) */
  VAST_IN_PAUSE,
  VAST_IN_RESUME,
  VAST_IN_MUTE,
  VAST_IN_UNMUTE,
  VAST_IN_SEEK,            /* position jumped to media_time; backwards fires rewind */
  VAST_IN_SKIP,            /* skip button used; refused until skippable */
  VAST_IN_PLAYER_EXPAND,   /* also fires legacy fullscreen/expand */
  VAST_IN_PLAYER_COLLAPSE, /* also fires legacy exitFullscreen/collapse */
  VAST_IN_CLICK,           /* every ClickTracking; see vast_tracker_click */
  VAST_IN_CLOSE,           /* closeLinear (and legacy close) / NonLinear close */
  VAST_IN_ENDED,           /* media played to its end: complete */
  VAST_IN_ERROR,           /* code: IAB error code; every Error URL; also before
                              the impression (403: no supported media) */
  VAST_IN_NOT_USED,        /* 4.3 notUsed; only before start and impression */
  VAST_IN_CREATIVE_VIEW,
  VAST_IN_INTERACTIVE_START,
  VAST_IN_OTHER_AD_INTERACTION,
  VAST_IN_ACCEPT_INVITATION,     /* NonLinear acceptInvitation (+ legacy acceptInvitationLinear) */
  VAST_IN_AD_EXPAND,             /* NonLinear adExpand */
  VAST_IN_AD_COLLAPSE,           /* NonLinear adCollapse */
  VAST_IN_MINIMIZE,              /* NonLinear minimize */
  VAST_IN_OVERLAY_VIEW_DURATION, /* NonLinear overlayViewDuration */
  VAST_IN_VIEWABLE,              /* ViewableImpression: one of the three, once */
  VAST_IN_NOT_VIEWABLE,
  VAST_IN_VIEW_UNDETERMINED,
  VAST_IN_VERIFICATION_NOT_EXECUTED, /* vendor, code = REASON (1, 2, 3) */
  VAST_IN_ICON_VIEW,                 /* icon `icon` shown: its IconViewTracking, once per icon */
  VAST_IN_ICON_CLICK,                /* icon `icon` clicked: its IconClickTracking; see
                                        vast_tracker_icon_click for the IconClickThrough */
  VAST_IN_CUSTOM_CLICK,              /* a custom (non-click-through) click: every CustomClick */
  VAST_IN__COUNT
} vast_input_kind;

typedef struct vast_input {
  vast_input_kind kind;
  double wall_time;      /* Unix seconds (TIMESTAMP, continuity check); < 0 unknown */
  double media_time;     /* seconds into the ad; < 0 unknown / unchanged */
  double value;          /* VAST_IN_DURATION: seconds */
  int code;              /* ERROR: IAB code; VERIFICATION_NOT_EXECUTED: reason */
  const char *vendor;    /* VERIFICATION_NOT_EXECUTED: Verification@vendor; NULL all */
  const char *click_pos; /* CLICK, ICON_CLICK, CUSTOM_CLICK: "x,y" for CLICKPOS, or NULL */
  int icon;              /* ICON_VIEW, ICON_CLICK: index into the InLine Linear's
                            <Icons> (0-based, document order) */
} vast_input;

/* Name of an input kind ("time", "mute", ...), as `vastrack play --events` spells it;
 * "" when out of range. */
VAST_API const char *vast_input_name(vast_input_kind kind);
/* Input kind for a name; 0 when unknown. */
VAST_API vast_input_kind vast_input_from_name(const char *name);

typedef enum vast_beacon_kind {
  VAST_BEACON_TRACKING = 1, /* a <Tracking> (event says which) */
  VAST_BEACON_IMPRESSION,
  VAST_BEACON_ERROR,
  VAST_BEACON_CLICK_TRACKING, /* ClickTracking / NonLinearClickTracking / CompanionClickTracking */
  VAST_BEACON_VIEWABLE,
  VAST_BEACON_NOT_VIEWABLE,
  VAST_BEACON_VIEW_UNDETERMINED,
  VAST_BEACON_ICON_VIEW,   /* IconViewTracking ("iconViewTracking") */
  VAST_BEACON_ICON_CLICK,  /* IconClickTracking ("iconClickTracking") */
  VAST_BEACON_CUSTOM_CLICK /* VideoClicks/CustomClick ("customClick") */
} vast_beacon_kind;

/* One URL to request. Every pointer is valid only during the callback. */
typedef struct vast_track_beacon {
  vast_beacon_kind kind;
  vast_event event; /* TRACKING: the event; VAST_EV_UNKNOWN otherwise */
  const char *name; /* "impression", "start", "progress", "clickTracking", "error", ... */
  const char *url;  /* macros expanded, NUL-terminated; NULL only for an event
                       without URL, when vast_tracker_report_untracked is on */
  size_t url_len;
  const char *tmpl;  /* the URL as written in the document */
  double media_time; /* ad playhead when it fired, seconds (-1 unknown) */
  double wall_time;  /* wall time of the input that caused it */
  unsigned level;    /* chain index of the ad the URL came from (n_chain-1: InLine) */
} vast_track_beacon;

/* Receives beacons in firing order. Must not call back into the same tracker. */
typedef void (*vast_track_fn)(void *user, const vast_track_beacon *beacon);

typedef struct vast_tracker vast_tracker;

/*
 * vast_tracker_create: start one play of a planned ad.
 *   plan     shared, must outlive the tracker
 *   ctx      caller macro values, NULL for none; must outlive the tracker
 *   fn, user the beacon callback and its argument
 *   tracker  OUT: owned by the caller (vast_tracker_free); NULL on failure
 * Returns VAST_OK, VAST_E_INVAL (NULL plan or fn), VAST_E_NOMEM.
 */
VAST_API vast_err vast_tracker_create(const vast_plan *plan, const vast_macro_ctx *ctx,
                                      vast_track_fn fn, void *user,
                                      vast_tracker **tracker /* OUT */);
/* Frees the tracker (and the plan it owns when made by vast_tracker_open*). Accepts NULL. */
VAST_API void vast_tracker_free(vast_tracker *tracker);
/* The plan the tracker plays (borrowed; NULL for NULL). */
VAST_API const vast_plan *vast_tracker_plan(const vast_tracker *tracker);
/* Bytes one live tracker holds beyond the shared plan and documents. */
VAST_API size_t vast_tracker_memory(void);

/* Seeds the CACHEBUSTING generator (default: from the tracker's address and
 * creation time). Use a fixed seed for reproducible output. */
VAST_API void vast_tracker_seed(vast_tracker *tracker, uint64_t seed);
/* The media file actually played, for ASSETURI (borrowed; must outlive the
 * tracker). Default: the Linear's only MediaFile, else its first progressive
 * video MediaFile (type video/...) that is not VPAID (what a plain video player plays). */
VAST_API void vast_tracker_set_asset(vast_tracker *tracker, const char *asset_uri);

/*
 * vast_tracker_set_player_state: the player's state before the ad starts
 * (VAST_PLAYER_MUTED, VAST_PLAYER_FULLSCREEN bits; absent bits mean unmuted /
 * not fullscreen), e.g. an autoplay ad that starts muted. Fires nothing: it
 * only sets where state changes are measured from, so a later unmute fires
 * `unmute`, a mute fires nothing, and [PLAYERSTATE] says "muted" from the
 * first beacon. Independent of the plan. Call it after create and before the
 * first media time (start). Returns VAST_OK, VAST_E_INVAL (NULL tracker or
 * unknown bits), VAST_E_STATE once started or done (use mute/unmute inputs).
 */
VAST_API vast_err vast_tracker_set_player_state(vast_tracker *tracker, unsigned player_state);

/*
 * vast_tracker_feed: one player event. Beacons due go to the callback before
 * this returns, in order.
 * Returns VAST_OK (even when nothing fired: a repeated mute, a resume while
 * playing, a second loaded); VAST_E_NOT_PLAYED when the input moved the media
 * forward by a step that was not playback at normal speed (faster than real
 * time, a jump reported as a time update, media moving while paused): those
 * seconds were thrown away (vast_tracker_discarded) and earn nothing, though
 * other beacons due may have fired; VAST_E_STATE when the event is not valid
 * now and nothing fired (skip before skippable, notUsed after start or
 * impression, pause/resume/ended/skip before start, a second viewability
 * verdict, and after the end every input but those below); VAST_E_INVAL for a
 * bad input (unknown kind, TIME/SEEK without media_time, DURATION <= 0);
 * VAST_E_NOMEM when a URL longer than the 4 KiB stack buffer could not be
 * expanded (that beacon is dropped).
 * After the end ("after the end", docs/tracking.md): once the media ended
 * (complete or not) or was skipped, only CLOSE (once), a viewability verdict
 * (once), VERIFICATION_NOT_EXECUTED (vendors not yet reported), CLICK and
 * CUSTOM_CLICK (an end card) are taken; after CLOSE the same but CLOSE; after
 * ERROR the verdict and VERIFICATION_NOT_EXECUTED; after NOT_USED nothing.
 * The media_time of an input taken after the end does not move the clock.
 */
VAST_API vast_err vast_tracker_feed(vast_tracker *tracker, const vast_input *input);

/* Shorthand for the hot path: VAST_IN_TIME (wall time, media time). Returns as
 * vast_tracker_feed: VAST_E_NOT_PLAYED for a step thrown away. */
VAST_API vast_err vast_tracker_time(vast_tracker *tracker, double wall_time, double media_time);

/*
 * vast_tracker_click: a click. Fires every ClickTracking of the chain, then
 * writes the ClickThrough (the InLine's, else the closest Wrapper Linear's:
 * "closest to the InLine must be favored"; macros expanded) into out (cap bytes,
 * NUL-terminated; "" when the ad has none). *out_len (optional) gets the full
 * length. Returns as vast_tracker_feed, or VAST_E_NOSPACE when the click-through
 * was cut to fit (the tracking still fired).
 */
VAST_API vast_err vast_tracker_click(vast_tracker *tracker, double wall_time, double media_time,
                                     const char *click_pos, char *out, size_t cap,
                                     size_t *out_len /* OUT */);

/*
 * vast_tracker_icon_click: a click on icon `icon` (see vast_plan_icon_count).
 * Fires its IconClickTracking (every level), then writes its IconClickThrough
 * (macros expanded) into out as vast_tracker_click does ("" when it has none).
 * Returns as vast_tracker_feed (VAST_E_INVAL for an icon index out of range),
 * or VAST_E_NOSPACE when the click-through was cut to fit.
 */
VAST_API vast_err vast_tracker_icon_click(vast_tracker *tracker, double wall_time,
                                          double media_time, int icon, const char *click_pos,
                                          char *out, size_t cap, size_t *out_len /* OUT */);

/*
 * True once a terminal event (ended/complete, skip, close, error, notUsed)
 * happened. Only the inputs listed under vast_tracker_feed ("after the end")
 * are accepted from then on.
 */
VAST_API int vast_tracker_done(const vast_tracker *tracker);
/* True when the ad can be skipped now (skipoffset reached). */
VAST_API int vast_tracker_skippable(const vast_tracker *tracker);
/*
 * Progress read-outs (seconds; 0 for NULL):
 * vast_tracker_continuous  the end of the unbroken stretch of media watched
 *                          from 0 at normal speed (quartiles, percent
 *                          progress offsets and complete are earned from it)
 * vast_tracker_played      normal-speed seconds played wherever they were,
 *                          replays included (time progress offsets)
 * vast_tracker_discarded   forward media seconds thrown away: steps faster
 *                          than real time, jumps reported as time updates,
 *                          media moving while paused. Each such input also
 *                          returned VAST_E_NOT_PLAYED. Always 0 in trusted-
 *                          positions mode.
 */
VAST_API double vast_tracker_continuous(const vast_tracker *tracker);
VAST_API double vast_tracker_played(const vast_tracker *tracker);
VAST_API double vast_tracker_discarded(const vast_tracker *tracker);

/*
 * vast_tracker_set_clock: the source of [TIMESTAMP]. By default TIMESTAMP is
 * the wall_time of the input that caused the beacon; with a clock set, it is
 * clock(user) read when each beacon is expanded: set it when beacons are sent
 * as they are expanded (so TIMESTAMP is the real send time) while the inputs
 * carry simulated wall times (as `vastrack play --fire --fast` does). The
 * continuity test still uses the inputs' wall times. NULL restores the
 * default. The clock runs on the feeding thread, inside the feed call.
 */
VAST_API void vast_tracker_set_clock(vast_tracker *tracker, double (*clock)(void *user),
                                     void *user);

/*
 * vast_tracker_report_untracked: when on, an event that happens but for which
 * the plan holds no URL (a quartile the tag does not track, an impression of
 * only about:blank...) still reaches the beacon callback, once per occurrence,
 * with url and tmpl NULL, url_len 0 and level UINT32_MAX, so a player or a
 * tool can show what happened ("(no tracking URL)"). Such a record is not a
 * request: never send it. An event with legacy synonyms (playerExpand +
 * fullscreen + expand) is reported only when none of them has a URL, under
 * its first name. Off by default.
 */
VAST_API void vast_tracker_report_untracked(vast_tracker *tracker, int on);

/*
 * vast_tracker_set_trusted_positions: take every reported media position as
 * media really delivered (server-side ad insertion). An SSAI server learns
 * progress per segment: a 6 s step each time the player fetches a segment,
 * often 0.2 s apart while the player buffers ahead. By default such steps
 * run faster than real time and earn nothing (VAST_E_NOT_PLAYED). In this
 * mode any forward time update extends the continuous stretch (still only
 * from inside it: VAST_IN_SEEK remains a jump, a backward step a replay) and
 * no speed test applies. Use it only where positions are delivered media and
 * the beacon timing follows the device, never for a client-side player.
 * Returns VAST_OK, VAST_E_INVAL (NULL), VAST_E_STATE once started or done.
 */
VAST_API vast_err vast_tracker_set_trusted_positions(vast_tracker *tracker, int trusted);

/* ------------------------------------------------------------------------ */
/* The common case                                                           */
/* ------------------------------------------------------------------------ */

/*
 * A player's usual path in a few calls, without hiding the model above:
 *
 *   vast_tracker *t;
 *   vast_tracker_open(doc, &ctx, on_beacon, me, &t);  // pick ad + creative, plan, tracker
 *   vast_tracker_impression(t, vast_now());
 *   vast_tracker_time(t, vast_now(), video.currentTime);   // at every timeupdate
 *   vast_tracker_mute(t, vast_now(), video.currentTime, 1);
 *   vast_tracker_complete(t, vast_now(), video.duration);  // on "ended"
 *   vast_tracker_free(t);                                  // frees its plan too
 *
 * Each helper is exactly one vast_tracker_feed() of the matching input and
 * returns what it returns (VAST_E_STATE when refused, VAST_E_NOT_PLAYED when
 * media time was thrown away...). Times: wall = Unix seconds (vast_now(), or
 * < 0 unknown), media = seconds into the ad (< 0 unknown). Not thread-safe per
 * tracker, like every tracker call.
 */

/* Wall-clock time now, Unix seconds with sub-second precision. */
VAST_API double vast_now(void);

/*
 * vast_selection: the ad and creative to play, chosen by vast_select_doc or
 * vast_select_chain. Plain data the caller owns; every pointer points into the
 * document or the chain, which must outlive the selection.
 */
struct vast_chain; /* chain.h: a resolved wrapper chain (vast_chain) */
typedef struct vast_selection {
  const vast_ad *const *chain; /* the chain for vast_plan_create (wrappers, then the
                                  InLine); NULL for a lone InLine: the chain is {ad} */
  size_t n_chain;              /* levels, 1 for a lone InLine */
  const vast_ad *ad;           /* the InLine ad played */
  size_t creative;             /* index into ad->creatives */
  const vast_creative *cr;     /* &ad->creatives[creative] */
  size_t n_playable;           /* ads of the document or chain in play order: the pod
                                  length, or the buffet size (index 0 plays, the
                                  others are fallbacks) */
  int vpaid_only;              /* 1 when every MediaFile of the Linear is VPAID
                                  (apiFramework VPAID, or a JavaScript/Flash type):
                                  a plain video player cannot play it */
} vast_selection;

/*
 * vast_select_doc: the index-th ad to play of a parsed document.
 *   doc    parsed document; only its InLine ads are candidates (a Wrapper must
 *          be resolved first: vast_resolve_*, then vast_select_chain)
 *   index  0 for the first ad; for a pod (ads with Ad@sequence) the ads play
 *          in sequence order, so index i is the (i+1)-th of the pod; ads
 *          without a sequence are a buffet: index 0 is the one to play
 *   sel    OUT: the selection; zeroed on failure
 * The creative is the first Linear, else the first NonLinear, else the first
 * Companion of the ad. Returns VAST_OK, VAST_E_INVAL (NULL doc or sel),
 * VAST_E_NOT_FOUND (no such playable InLine: a no-ad response, a Wrapper-only
 * document, an index past the end, or no usable creative).
 */
VAST_API vast_err vast_select_doc(const vast_doc *doc, size_t index, vast_selection *sel /* OUT */);
/*
 * vast_select_chain: the same over a resolved chain (vast_chain_ads): each
 * resolved ad is a candidate; its pod position is the outermost level's
 * Ad@sequence (a Wrapper in a pod), else the InLine's. sel->chain points
 * into the chain. Returns as vast_select_doc.
 */
VAST_API vast_err vast_select_chain(const struct vast_chain *chain, size_t index,
                                    vast_selection *sel /* OUT */);
/* vast_plan_create for a selection (creative sel->creative, variation 0). */
VAST_API vast_err vast_plan_create_selected(const vast_selection *sel, vast_plan **plan /* OUT */);

/*
 * vast_tracker_open_selected: plan the selection and create a tracker that
 * owns that plan (vast_tracker_free frees both). ctx, fn, user as for
 * vast_tracker_create; the document or chain must outlive the tracker.
 * vast_tracker_open: the same for the first ad of a document
 * (vast_select_doc(doc, 0)). Return as vast_select_doc / vast_plan_create /
 * vast_tracker_create (VAST_E_INVAL for a NULL fn or tracker).
 */
VAST_API vast_err vast_tracker_open_selected(const vast_selection *sel, const vast_macro_ctx *ctx,
                                             vast_track_fn fn, void *user,
                                             vast_tracker **tracker /* OUT */);
VAST_API vast_err vast_tracker_open(const vast_doc *doc, const vast_macro_ctx *ctx,
                                    vast_track_fn fn, void *user, vast_tracker **tracker /* OUT */);

/*
 * One-line events, each one vast_tracker_feed() (see there for the results):
 *   loaded       VAST_IN_LOADED: the media is buffered and ready ("loaded")
 *   impression   VAST_IN_IMPRESSION: first frame shown: every Impression of the
 *                chain (about:blank skipped) and creativeView
 *   pause/resume VAST_IN_PAUSE / VAST_IN_RESUME at media time `media`
 *   mute         VAST_IN_MUTE when muted, else VAST_IN_UNMUTE (fires only on a change)
 *   skip         VAST_IN_SKIP: refused (VAST_E_STATE) until skippable
 *   complete     VAST_IN_ENDED: the media ended at `media` (its duration);
 *                fires complete when it was played to the end, terminal either way
 *   close        VAST_IN_CLOSE: closeLinear (+ legacy close) / NonLinear close;
 *                also after complete or skip (an end card dismissed)
 *   error        VAST_IN_ERROR with an IAB code (0: 900); before the impression
 *                too (e.g. 403, no supported media); terminal
 * Clicks: vast_tracker_click (ClickTracking + the ClickThrough to open).
 * Time updates: vast_tracker_time.
 */
VAST_API vast_err vast_tracker_loaded(vast_tracker *tracker, double wall);
VAST_API vast_err vast_tracker_impression(vast_tracker *tracker, double wall);
VAST_API vast_err vast_tracker_pause(vast_tracker *tracker, double wall, double media);
VAST_API vast_err vast_tracker_resume(vast_tracker *tracker, double wall, double media);
VAST_API vast_err vast_tracker_mute(vast_tracker *tracker, double wall, double media, int muted);
VAST_API vast_err vast_tracker_skip(vast_tracker *tracker, double wall, double media);
VAST_API vast_err vast_tracker_complete(vast_tracker *tracker, double wall, double media);
VAST_API vast_err vast_tracker_close(vast_tracker *tracker, double wall, double media);
VAST_API vast_err vast_tracker_error(vast_tracker *tracker, double wall, int code);

/* ------------------------------------------------------------------------ */
/* Playback simulation                                                       */
/* ------------------------------------------------------------------------ */

/*
 * A dry-run player: drives a tracker the way a browser player would, on a
 * simulated media clock, with player events injected at given times. This is
 * what `vastrack play` and the web inspector's /api/play run; see
 * docs/tracking.md ("Simulated playback"). No I/O, no threads.
 */

#define VAST_PLAY_NAME_MAX 32
#define VAST_PLAY_TICK 0.25 /* default clock step, seconds (4 Hz, like browsers) */

/* One injected player event, as written NAME@T[:ARG]. */
typedef struct vast_play_event {
  vast_input_kind kind;
  double at;  /* session seconds */
  double arg; /* ARG (seek target, real duration, error code, icon index,
                 reason); 0 when absent */
  int code;   /* ARG as an int (saturated), for codes and indexes */
  int has_arg;
  char name[VAST_PLAY_NAME_MAX]; /* NAME as written ("fullscreen"), for messages */
} vast_play_event;

/*
 * vast_play_events_parse: parse a `vastrack play --events` list,
 * "NAME@T[:ARG],...", e.g. "mute@5,pause@10,resume@12,seek@6:2,error@4:405".
 *   list     the text; NULL or "" is an empty list. Empty items are skipped.
 *   out      caller array of max events; filled in time order (stable sort:
 *            events of one time keep their written order)
 *   n        OUT: the number of events; 0 on failure
 *   msg      caller buffer for the reason of a failure, e.g. "unknown event
 *            'dance'" (msg_cap bytes, NUL-terminated; "" on success); may be
 *            NULL when msg_cap is 0
 * NAME is a vast_input_from_name() name, or a spec event name: the legacy
 * expand and fullscreen (playerExpand), collapse and exitFullscreen
 * (playerCollapse), acceptInvitationLinear (acceptInvitation), closeLinear
 * (close), rewind (a seek back to ARG, default 0), clickThrough and
 * clickTracking (click), iconViewTracking and iconClickTracking (iconView,
 * iconClick). The names of events the playback itself earns or feeds
 * (loaded, impression, start, firstQuartile, midpoint, thirdQuartile,
 * complete, progress, time, ended) and the legacy timeSpentViewing are refused
 * with a message saying why ("event 'midpoint' cannot be injected: earned by
 * 50% played continuously at normal speed"). T: seconds >= 0. ARG: a finite
 * number; required by seek and duration.
 * Returns VAST_OK; VAST_E_INVAL for a malformed list (msg says which item),
 * NULL n, or NULL out with max > 0; VAST_E_NOSPACE for more than max events;
 * VAST_E_NOMEM. Reentrant, thread-safe; allocates only a temporary copy.
 */
VAST_API vast_err vast_play_events_parse(const char *list, vast_play_event *out, size_t max,
                                         size_t *n /* OUT */, char *msg, size_t msg_cap);

/*
 * vast_play_event_address: the ad an --events item is addressed to, read from
 * its prefix: "AD/NAME@T" (the AD-th ad of a pod) or "BREAK.AD/NAME@T" (ad AD
 * of break BREAK of a VMAP), numbers as written (1-based by convention; 0 is
 * read, the caller refuses it). *brk gets -1 without a BREAK part. Returns the
 * prefix length to skip (0: no address, *brk and *ad untouched).
 */
VAST_API size_t vast_play_event_address(const char *item, int *brk /* OUT */, int *ad /* OUT */);

/* Why a simulation stopped. */
typedef enum vast_play_stop {
  VAST_PLAY_RUNNING = 0, /* still running (seen by callbacks) */
  VAST_PLAY_END,         /* media reached opts.end (ended fed when opts.fire_ended) */
  VAST_PLAY_DONE,        /* the tracker reached a terminal event (skip, error...) */
  VAST_PLAY_PAUSED,      /* paused with no later event left to resume it */
  VAST_PLAY_LIMIT        /* opts.max_steps clock steps taken */
} vast_play_stop;

/* The clocks of a simulation, kept current while it runs. */
typedef struct vast_play_state {
  double t;            /* session clock: seconds since the ad loaded */
  double media;        /* media clock: seconds into the ad (stops while paused) */
  double wall0;        /* wall time (Unix seconds) at t = 0 */
  unsigned long steps; /* clock steps taken */
  vast_play_stop stop; /* VAST_PLAY_RUNNING until it returns */
} vast_play_state;

/* A refused event: the tracker returned rc (neither VAST_OK nor VAST_E_NOSPACE)
 * and nothing fired; reason is "not skippable yet", "not valid now" (rc
 * VAST_E_STATE) or vast_strerror(rc). The play goes on. */
typedef void (*vast_play_refused_fn)(void *user, const vast_play_state *state,
                                     const vast_play_event *event, vast_err rc, const char *reason);
/* The session clock just moved to state->t; the media clock has not moved yet
 * (a new moment: flush what the previous one queued, pace a real-time run). */
typedef void (*vast_play_step_fn)(void *user, const vast_play_state *state);
/* A click's landing page: name "clickThrough" or "iconClickThrough", url with
 * macros expanded (valid during the call). Not a beacon. */
typedef void (*vast_play_through_fn)(void *user, const vast_play_state *state, const char *name,
                                     const char *url);

typedef struct vast_play_opts {
  size_t size;                   /* sizeof(vast_play_opts), set by vast_play_opts_init */
  double end;                    /* media seconds to play to (>= 0); e.g. the declared
                                    duration, or less to stop early */
  int fire_ended;                /* feed VAST_IN_ENDED on reaching end (the ad played to
                                    its end: complete); 0 to just stop */
  double duration;               /* media time given with ENDED: the declared duration */
  double tick;                   /* clock step, seconds; VAST_PLAY_TICK */
  double wall_start;             /* wall time at t = 0, Unix seconds; < 0 (default): now */
  unsigned long max_steps;       /* stop after this many clock steps; 0 (default): no
                                    limit (the run always ends, but paused far into the
                                    future it may take long) */
  const vast_play_event *events; /* injected events in time order (as parsed), or NULL */
  size_t n_events;
  vast_play_refused_fn on_refused;       /* optional */
  vast_play_step_fn on_step;             /* optional */
  vast_play_through_fn on_click_through; /* optional */
  void *user;                            /* passed to the callbacks */
  double rate;                           /* playback rate: media seconds per session second while
                                            playing; 1 (default) is normal speed. Faster playback
                                            earns no quartile (VAST_E_NOT_PLAYED) */
} vast_play_opts;

/* Defaults: size set, end 0, no ended, duration -1, tick VAST_PLAY_TICK,
 * wall_start now, no limit, no events, no callbacks, rate 1. */
VAST_API void vast_play_opts_init(vast_play_opts *opts);

/*
 * vast_play_simulate: play one ad on a tracker fresh from vast_tracker_create
 * (seed and player state may be set). At t = 0 it first feeds the notUsed and
 * error events due at 0 (an ad dropped, or failing before anything is shown:
 * then nothing else plays), then loaded and impression, then the other events
 * due at 0, then starts the media (media time 0);
 * then each clock step advances the session clock by opts.tick and, unless
 * paused, the media clock (capped at opts.end) with a time update. Before
 * each update the events due (at <= t) are fed in order: pause (once
 * started) stops the media clock and resume restarts it; seek moves it
 * (target capped at end); click and iconClick (ARG: icon, default 0) use
 * vast_tracker_click / vast_tracker_icon_click and report the landing page
 * to on_click_through; iconView takes ARG as the icon, duration the real
 * duration, error the code (default 900), verificationNotExecuted the reason.
 * Refused events go to on_refused. It stops when the tracker is done, when
 * the media reaches end while playing (after feeding ENDED with media time
 * opts.duration when opts.fire_ended, before the events of that moment), when
 * paused with no event left, or after opts.max_steps steps. When the tracker
 * is done (complete, skip, close, error...), the events left are still fed at
 * their times on the stopped media clock (on_step called as the session clock
 * jumps to each): those allowed after the end (closeLinear, a viewability
 * verdict, end card clicks) fire, the others go to on_refused. Wall times are wall_start + t
 * (TIMESTAMP); there is no waiting: pace a real-time run from on_step. tracker  the play; its
 * beacon callback runs inside this call opts     see vast_play_opts; the events are read, not
 * changed state    OUT, optional: the clocks, updated in place as the run goes, so the tracker's
 * beacon callback can read the session and media time of each beacon; on return, where and why it
 * stopped Returns VAST_OK (whatever the tracker refused), VAST_E_INVAL (NULL tracker or opts, a
 * wrong opts.size, end or tick not finite or end < 0 or tick <= 0, rate not finite or <= 0, events
 * out of time order). Runs on the caller's thread; the tracker must not be fed elsewhere meanwhile.
 */
VAST_API vast_err vast_play_simulate(vast_tracker *tracker, const vast_play_opts *opts,
                                     vast_play_state *state /* OUT */);

#ifdef __cplusplus
}
#endif
#endif
