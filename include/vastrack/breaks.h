/*
 * vastrack/breaks.h: ad breaks. A pod (several ads of one response played one
 * after the other) and a VMAP schedule (breaks placed on the content
 * timeline), built from the model of doc.h and the chains of net.h, for the
 * tracker of track.h. Pure logic, no I/O: `vastrack play` and the resolver
 * use it; docs/tracking.md ("Ad breaks and pods") describes the semantics.
 *
 *   response --vast_pod_from_*--> pod: ads in play order + buffet
 *   VMAP     --vast_vmap_schedule--> breaks in content order, each with its
 *            content time and [BREAKPOSITION]
 *   break    --vast_break_track--> breakStart / breakEnd / error beacons
 *   pod/VMAP --vast_play_response--> every beacon of the whole response played
 *            on the simulated player, with its break, ad and times
 */
#ifndef VASTRACK_BREAKS_H
#define VASTRACK_BREAKS_H

#include "base.h"
#include "doc.h"
#include "track.h"
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Pods                                                                      */
/* ------------------------------------------------------------------------ */

/* One ad of a pod: what to plan and its position. */
typedef struct vast_pod_ad {
  vast_selection sel; /* chain (NULL for a lone InLine), InLine ad, creative */
  int sequence;       /* pod position ([PODSEQUENCE]): Ad@sequence, the outermost
                         Wrapper's when the InLine has none, the resolver's slot
                         for a buffet ad that replaced a pod ad; -1 standalone */
} vast_pod_ad;

/*
 * vast_pod: the ads one response plays, in play order, and the buffet that
 * replaces an ad failing at play time (VAST 4.x 2.4.3). Arrays malloc'd by
 * vast_pod_from_*, freed by vast_pod_clear; the selections point into the
 * document or chain, which must outlive the pod.
 */
typedef struct vast_pod {
  vast_pod_ad *ads; /* played one after the other, in this order */
  size_t n_ads;
  vast_pod_ad *buffet; /* standalone ads not played, document order: the next
                          unused one replaces an ad that fails */
  size_t n_buffet;
} vast_pod;

/*
 * vast_pod_from_vast: the pod of one <VAST> element (a document's, or a VMAP
 * break's inline VASTAdData). Candidates are the InLine ads with a usable
 * creative (Wrapper ads must be resolved first: vast_pod_from_chain). When any
 * has a sequence, ads = those in sequence order (stable) and buffet = the
 * others in document order; else ads = the first and buffet = the rest.
 * Returns VAST_OK (possibly with no ad: a no-ad response), VAST_E_INVAL (NULL
 * out), VAST_E_NOMEM. *out is cleared first.
 */
VAST_API vast_err vast_pod_from_vast(const vast_vast *v, vast_pod *out /* OUT */);
/*
 * vast_pod_from_chain: the pod of a resolved chain: every resolved ad with a
 * usable creative, in the resolver's play order (it already replaced failed
 * pod ads from the buffet during resolution, so the buffet is empty).
 * sequence is the resolver's (vast_resolved.sequence). Returns as above.
 */
struct vast_chain;
VAST_API vast_err vast_pod_from_chain(const struct vast_chain *chain, vast_pod *out /* OUT */);
/* Frees the arrays and zeroes *pod. Accepts NULL. */
VAST_API void vast_pod_clear(vast_pod *pod);

/* ------------------------------------------------------------------------ */
/* VMAP schedules                                                            */
/* ------------------------------------------------------------------------ */

/* [BREAKPOSITION] values. */
#define VAST_BREAKPOS_PREROLL 1
#define VAST_BREAKPOS_MIDROLL 2
#define VAST_BREAKPOS_POSTROLL 3

/* One break of a schedule. */
typedef struct vast_break_slot {
  const vast_ad_break *brk; /* into the VMAP document */
  size_t index;             /* index in vast_vmap.breaks */
  double at;                /* content seconds where it plays; -1 when it cannot
                               be placed (see vast_vmap_schedule) */
  int position;             /* VAST_BREAKPOS_*, 0 when not placed */
  unsigned repeat;          /* 0: the break itself; k: its k-th repetition
                               (repeatAfter), at + k x the interval (in what
                               was padding: the struct's size is unchanged) */
  const char *why;          /* NULL, or (static text) why it cannot be placed;
                               on a placed break: why its repeatAfter was not
                               expanded */
} vast_break_slot;

/* How a schedule maps a VMAP onto the content. */
typedef struct vast_schedule_opts {
  size_t size;        /* sizeof(vast_schedule_opts): vast_schedule_opts_init */
  double content;     /* content duration in seconds; < 0 unknown (default -1) */
  const double *cues; /* the content's break opportunities (cue points), content
                         seconds, ascending: "#n" plays at cues[n-1]; NULL none */
  size_t n_cues;
} vast_schedule_opts;

/* Sets size, content -1 (unknown), no cue points. */
VAST_API void vast_schedule_opts_init(vast_schedule_opts *o);

/*
 * vast_vmap_schedule_opts: the breaks of a VMAP in content order.
 *   m           the VMAP (vast_doc_vmap)
 *   opts        the content (duration, cue points); NULL: nothing known
 *   out, cap    caller array; *n gets the number of slots (all of them, placed
 *               or not, repetitions included; VAST_E_NOSPACE when more than
 *               cap: call again with an array of *n)
 * timeOffset "start" plays at 0 (preroll), "end" at the content's end
 * (postroll; also when the duration is unknown, at -1), HH:MM:SS.mmm at that
 * time, "n%" at n% of the content (needs the duration), "#n" at the n-th cue
 * point of opts->cues (VMAP 1.0: the n-th break opportunity of the content,
 * which only the player knows; without that cue point it is not placed). A
 * time at 0 is a preroll, at or past a known end a postroll at the end, else
 * a midroll. repeatAfter (HH:MM:SS.mmm, > 0) repeats a placed preroll or
 * midroll every interval of content time while before the content's end: the
 * copies are midrolls with repeat 1, 2...; it needs the duration (else the
 * break plays once and why says so). Placed breaks come first, by time
 * (stable: document order, then repeat order, within one time), postrolls
 * last; unplaced ones follow in document order, at -1 with why set.
 * Returns VAST_OK, VAST_E_INVAL (NULL m or n, out NULL with cap > 0, a wrong
 * opts size, cue points not finite, negative or not ascending),
 * VAST_E_NOSPACE. No allocation.
 */
VAST_API vast_err vast_vmap_schedule_opts(const vast_vmap *m, const vast_schedule_opts *opts,
                                          vast_break_slot *out, size_t cap, size_t *n /* OUT */);
/* vast_vmap_schedule_opts with only the content duration (< 0 unknown) known. */
VAST_API vast_err vast_vmap_schedule(const vast_vmap *m, double content, vast_break_slot *out,
                                     size_t cap, size_t *n /* OUT */);

/* A break-level URL to request (valid during the callback). */
typedef void (*vast_break_fn)(void *user, const char *event, const char *url, const char *tmpl);

/*
 * vast_break_track: the break-level TrackingEvents of one event.
 *   b         the break
 *   event     "breakStart", "breakEnd" or "error" (VMAP 1.0.1 names)
 *   position  [BREAKPOSITION] (VAST_BREAKPOS_*); 0 leaves ctx's value
 *   code      for "error": the VMAP (1000-1009) or VAST (100-999) code put in
 *             [ERRORCODE]; 0 none
 *   ctx       caller macro values (DEVICEIP...), or NULL
 *   fn, user  receives each expanded URL in document order
 * [TIMESTAMP] is now, [CACHEBUSTING] random, [BREAKPOSITION] position.
 * Returns the number of URLs handed to fn (>= 0), or -1 for bad arguments.
 */
VAST_API long vast_break_track(const vast_ad_break *b, const char *event, int position, int code,
                               const vast_macro_ctx *ctx, vast_break_fn fn, void *user);

/*
 * vast_break_vast_source: the bytes of a break's inline <VAST> (VASTAdData)
 * inside the VMAP document's source, to resolve with vast_resolve_buffer
 * (its Wrapper ads are then followed like any tag's). doc: the VMAP document.
 * Returns VAST_OK, VAST_E_INVAL (not an inline source), VAST_E_NOT_FOUND
 * (the element could not be located in the source).
 */
VAST_API vast_err vast_break_vast_source(const vast_doc *doc, const vast_ad_break *b,
                                         const char **buf /* OUT */, size_t *len /* OUT */);

/*
 * vast_break_resolve: resolves one break's AdSource into a chain.
 *   doc     the VMAP document holding b (for an inline source's bytes)
 *   base    the URL or file path the VMAP came from (relative AdTagURIs), or NULL
 *   opts    as for vast_resolve_url (the policy, macros, limits...); NULL defaults.
 *           AdTagURI macros are expanded with opts->macros plus [BREAKPOSITION]
 *           = position before the request, and [TRANSACTIONID] = a new UUID
 *           when opts->macros has none: the resolution that follows uses the
 *           same (vast_chain_transaction_id).
 *   chain   OUT: as vast_resolve_url sets it
 *   err     optional
 * Inline VASTAdData is resolved like a tag read from a buffer (its Wrappers are
 * followed); an AdTagURI is fetched (a relative one against a file base is read
 * from disk when opts->allow_files). CustomAdData is not supported:
 * VAST_E_NOT_FOUND, err->iab_code 1005 (VMAP: template type not supported), no
 * chain. A break without AdSource: VAST_E_NO_AD, no chain.
 * Returns as vast_resolve_url.
 */
VAST_API vast_err vast_break_resolve(const vast_doc *doc, const vast_ad_break *b, int position,
                                     const char *base, const struct vast_resolve_opts *opts,
                                     struct vast_chain **chain /* OUT */, vast_error *err);

/* ------------------------------------------------------------------------ */
/* Playing a whole response                                                 */
/* ------------------------------------------------------------------------ */

/*
 * The injected events of one ad (vast_play_simulate's events), addressed with
 * vast_play_event_address: brk the break (1-based in schedule order; 0 outside
 * a VMAP), ad the ad (1-based in play order of its break; 0 in a VMAP: events
 * at content times, which may only change the player's state: mute, unmute,
 * playerExpand, playerCollapse). ev in time order.
 */
typedef struct vast_play_group {
  int brk, ad;
  const vast_play_event *ev;
  size_t n;
} vast_play_group;

/* What vast_play_response reports, in order (vast_play_note.kind). */
typedef enum vast_play_note_kind {
  VAST_NOTE_BEACON = 1,    /* an ad's beacon: name, url (NULL: tracked by no URL, see
                              report_untracked), level, media */
  VAST_NOTE_CLICK_THROUGH, /* a click's landing page (not a beacon): name, url */
  VAST_NOTE_REFUSED,       /* the tracker refused an injected event: event, rc, message */
  VAST_NOTE_STEP,          /* the session clock moved (a new moment: pace here) */
  VAST_NOTE_POD,           /* a pod starts: count ads, buffet buffet ads */
  VAST_NOTE_AD_BEGIN,      /* an ad of the pod is about to be planned: ad, count, sequence,
                              replacement */
  VAST_NOTE_AD_START,      /* its tracker is ready: sel, creative, plan, stop (< 0: no
                              duration, VAST_NOTE_AD_FAILED follows) */
  VAST_NOTE_AD_FAILED,     /* it cannot play: code VAST_AD_FAIL_*, rc, message; the
                              pod goes on */
  VAST_NOTE_AD_END,        /* it played: tracker, state (where and why it stopped) */
  VAST_NOTE_NO_BUFFET,     /* ad failed before it was shown and no buffet ad is left */
  VAST_NOTE_AD_IGNORED,    /* events for ad `ad` of break brk: the pod has count ads */
  VAST_NOTE_VMAP,          /* the schedule: count slots; rc not VAST_OK: it cannot be
                              made (VAST_E_NOSPACE: more than max_breaks) and the play
                              stops with rc */
  VAST_NOTE_BREAK_SKIPPED, /* slot cannot be placed (slot->why, may be NULL) */
  VAST_NOTE_BREAK_START,   /* slot placed: it is about to be resolved */
  VAST_NOTE_BREAK_BEACON,  /* breakStart, breakEnd or error of the break: name, url */
  VAST_NOTE_BREAK_NO_AD,   /* the break resolved to no ad (not an error) */
  VAST_NOTE_BREAK_ERROR,   /* the break cannot play: rc, message, code (VMAP code put
                              in [ERRORCODE]); its error beacons follow */
  VAST_NOTE_CONTENT_EVENT, /* event, at a content time <= the break's, applied to the
                              player's state */
  VAST_NOTE_CONTENT_LEFT,  /* event, after the last break: it changes nothing */
  VAST_NOTE_BREAK_IGNORED  /* events for break brk: the schedule has count slots */
} vast_play_note_kind;

/* Why an ad cannot play (vast_play_note.code of VAST_NOTE_AD_FAILED). */
#define VAST_AD_FAIL_CREATIVE 1 /* no such creative (vast_response_opts.creative) */
#define VAST_AD_FAIL_TRACK 2    /* no plan or tracker: rc says why */
#define VAST_AD_FAIL_DURATION 3 /* the ad declares no duration and watch is < 0 */
#define VAST_AD_FAIL_SIMULATE 4 /* vast_play_simulate failed: rc */

/* One report; every pointer is valid only during the callback. */
typedef struct vast_play_note {
  vast_play_note_kind kind;
  int brk, ad;                  /* break (1-based, 0 outside a VMAP) and ad (1-based, 0 none) */
  double t;                     /* session seconds since the first ad loaded (content
                                   included in a VMAP) */
  double content;               /* VMAP: the content time of the break (its playhead); -1 */
  double media;                 /* seconds into the ad; -1 unknown */
  double t_base;                /* session seconds before the current ad */
  const vast_play_state *state; /* the current ad's clocks, or NULL */
  const char *name;             /* beacon or event name */
  const char *url;              /* NULL none */
  size_t url_len;
  unsigned level; /* chain level of the URL; UINT32_MAX none */
  const vast_play_event *event;
  const vast_break_slot *slot; /* the break (VMAP notes) */
  const vast_selection *sel;   /* the ad (AD_* notes) */
  long creative;               /* the creative played */
  const vast_plan *plan;       /* AD_START */
  const vast_tracker *tracker; /* AD_START, AD_END */
  double stop;                 /* AD_START: media seconds it will play to */
  size_t count, buffet;        /* see the kinds */
  int sequence;                /* [PODSEQUENCE]; -1 none */
  int replacement;             /* a buffet ad replacing a failed one */
  vast_err rc;
  int code;
  const char *message;
} vast_play_note;

/* Receives each note; nonzero stops the play (vast_play_response returns the
 * note's rc, or VAST_E_STATE when it is VAST_OK). */
typedef int (*vast_play_note_fn)(void *user, const vast_play_note *note);

/* How vast_play_response plays. */
typedef struct vast_response_opts {
  size_t size;                   /* sizeof(vast_response_opts): vast_response_opts_init */
  const vast_play_group *groups; /* the injected events, per ad; NULL none */
  size_t n_groups;
  long creative;           /* creative index to play in each ad; -1 the selection's */
  double watch;            /* media seconds to play of each ad; < 0 to its end */
  double max_watch;        /* cap on what one ad plays; <= 0 none */
  unsigned long max_steps; /* vast_play_opts.max_steps of one ad; 0 none */
  double rate;             /* playback rate (1) */
  int has_seed;            /* seed [CACHEBUSTING] of each tracker */
  unsigned long long seed;
  unsigned player_state;       /* VAST_PLAYER_* at the start */
  int report_untracked;        /* vast_tracker_report_untracked */
  int ssai;                    /* vast_tracker_set_trusted_positions */
  double (*clock)(void *user); /* vast_tracker_set_clock, or NULL */
  void *clock_user;
  double wall0;                            /* wall time at session 0; < 0 now */
  const vast_macro_ctx *macros;            /* caller macros (NULL none); their values win */
  const vast_schedule_opts *schedule;      /* VMAP: the content; NULL nothing known */
  size_t max_breaks;                       /* VMAP: most slots played (0: 10000) */
  const struct vast_resolve_opts *resolve; /* VMAP: resolving each break; NULL defaults */
  const char *base;                        /* VMAP: where it came from, or NULL */
  vast_play_note_fn on_note;               /* required */
  void *user;
} vast_response_opts;

/* Sets size, creative -1, watch -1, rate 1, wall0 -1, the rest 0/NULL. */
VAST_API void vast_response_opts_init(vast_response_opts *o);

/*
 * vast_play_response: plays a whole response on the simulated player
 * (vast_play_simulate), each ad on its own tracker, reporting every beacon and
 * step to o->on_note. Pure: it neither sleeps nor sends a beacon (a caller that
 * fires paces on VAST_NOTE_STEP); the only I/O is a VMAP break's resolution.
 *   doc  a VMAP document: its breaks are played in content order (pod NULL)
 *   pod  else: the pod of one response (vast_pod_from_*), played as break 0
 * A pod: every ad in play order; an ad failing before it is shown (an error
 * event at 0 among its events) is replaced by the next unused buffet ad, which
 * plays without injected events (VAST 4.x 2.4.3). [ADCOUNT] counts the ads
 * played including the current one, [PODSEQUENCE] is its sequence (for a
 * replacement, the slot's). A VMAP: vast_vmap_schedule_opts with o->schedule;
 * before each placed break the content events up to its time change the
 * player's state; [BREAKPOSITION], [MEDIAPLAYHEAD] and [CONTENTPLAYHEAD] (the
 * break's content time) and a new [TRANSACTIONID] per break are set unless
 * o->macros holds them; the break is resolved (vast_break_resolve), its
 * breakStart precedes its pod and breakEnd follows; when it cannot be
 * resolved its error beacons carry a VMAP code (1007 timeout, 1008 retrieval,
 * 1006 parse, else the error's or 1004). The session clock runs through the
 * content between breaks.
 * Returns VAST_OK (whatever the ads did: see the notes), VAST_E_INVAL (bad
 * arguments, no on_note), VAST_E_NOMEM, a schedule error, or what a note's
 * callback stopped with.
 */
VAST_API vast_err vast_play_response(const vast_doc *doc, const vast_pod *pod,
                                     const vast_response_opts *o);

#ifdef __cplusplus
}
#endif
#endif
