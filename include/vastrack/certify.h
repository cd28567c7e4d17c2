/*
 * vastrack/certify.h: certify a real player against the spec.
 *
 * Two halves. The test ad server (vast_adserver_write) generates VAST and VMAP
 * tags whose every tracking URL points back at a collector with a session id,
 * the ad, the chain level and the event; `vastrack serve` answers them at
 * GET /vast and GET /vmap and records each served response with its session.
 * The conformance report (vast_conformance_run) reads the hits of one session
 * back from the collector's database, derives the player's timeline from its
 * own beacons and lists what the spec says it should have done differently.
 * See docs/conformance.md for every rule and the spec text it comes from.
 */
#ifndef VASTRACK_CERTIFY_H
#define VASTRACK_CERTIFY_H

#include "base.h"
#include "doc.h" /* vast_write_fn */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Test ad server                                                      */
/* ------------------------------------------------------------------ */

typedef enum vast_adserver_kind {
  VAST_ADSERVER_VAST = 0, /* GET /vast: a VAST document (InLine, Wrapper or no ad) */
  VAST_ADSERVER_VMAP = 1  /* GET /vmap: a VMAP with pre-, mid- and post-roll breaks */
} vast_adserver_kind;

/*
 * Writes the tag the test ad server answers for one request.
 *
 * base:  the collector's URL as the player reaches it, "http://host:port"
 *        (no trailing slash); every tracking URL, wrapper hop and VMAP ad
 *        source starts with it.
 * sid:   the session id (1-64 characters of A-Za-z0-9_.-), carried in every URL.
 * query: the raw (percent-encoded) query of the request, NULL or "" for the
 *        defaults. Parameters (docs/conformance.md):
 *          v=2.0|3.0|4.0|4.1|4.2|4.3 (4.2)   dur=SECONDS (10; decimals allowed)
 *          skip=SECONDS (not skippable)       pod=N (1-10 ads, sequence 1..N)
 *          wrapper=N (0-5 Wrapper hops before the InLine, each one a GET /vast
 *          on base with the same session)     fail=noad|xml|http (the innermost
 *          hop answers no ad, malformed XML, or 404; the VAST error expected
 *          is 303, 100 or 301)                media=URL (the MediaFile URL)
 *          content=SECONDS (VMAP content length, 60; the mid-roll is half-way)
 *        Internal: lv (the hop's level, 0 outermost), brk (VMAP break name).
 * write: receives the document; *status is set to the HTTP status to answer
 *        (200, or 404 for fail=http at the innermost hop; the body is then a
 *        short text).
 * Returns VAST_OK, VAST_E_INVAL with msg filled (a parameter out of range;
 * answer 400), or the error of write.
 */
VAST_API vast_err vast_adserver_write(vast_adserver_kind kind, const char *base, const char *sid,
                                      const char *query, vast_write_fn write, void *ctx,
                                      int *status /* OUT */, char *msg, size_t msgcap);

/* 1 when s is a usable session id (1-64 characters of A-Za-z0-9_.-). */
VAST_API int vast_session_id_valid(const char *s);

/* ------------------------------------------------------------------ */
/* Beacon tap                                                          */
/* ------------------------------------------------------------------ */

/*
 * Rewrites one level of a real VAST tag (xml, len bytes) so that the player's
 * beacons go through the collector at base (docs/conformance.md): every
 * tracking URL (Impression, Error, Tracking, ClickTracking, IconClickTracking,
 * IconViewTracking, CompanionClickTracking, NonLinearClickTracking, Viewable,
 * NotViewable, ViewUndetermined) becomes
 *   base/r/<sid>/<event>?ad=<Ad id>&lv=<level>[&d=<Duration ms>][&so=<skipoffset ms>]&u=<URL>
 * and a Wrapper's VASTAdTagURI base/tap?sid=<sid>&lv=<level+1>&ad=<Ad id>&url=<URL>,
 * so the next level is tapped when the player follows it. chain_ad (NULL at
 * the first level) names the ads of a level that holds one Ad: the id of the
 * Wrapper's Ad that led there, so one ad's beacons of every level group together. The original URL
 * comes last, verbatim (not percent-encoded), so the player substitutes its macros in it as it
 * would have in the original; everything else is copied byte for byte. doc_url (may be NULL)
 * resolves a relative VASTAdTagURI. *rewritten (optional) receives the number of URLs rewritten.
 * Returns VAST_OK, VAST_E_INVAL (msg), VAST_E_NOMEM, or VAST_E_IO when write fails.
 */
VAST_API vast_err vast_tap_rewrite(const char *xml, size_t len, const char *doc_url,
                                   const char *base, const char *sid, int level,
                                   const char *chain_ad, vast_write_fn write, void *ctx,
                                   size_t *rewritten /* OUT */, char *msg, size_t msgcap);

/* ------------------------------------------------------------------ */
/* Conformance report                                                  */
/* ------------------------------------------------------------------ */

typedef struct vast_conformance vast_conformance;

typedef struct vast_conformance_opts {
  size_t size;      /* sizeof(vast_conformance_opts), set by _init */
  int early_tol_ms; /* a quartile counts early when it arrives more than this
                       before its time since start (300) */
  int late_tol_ms;  /* ... late when more than this after it (2000) */
  int order_tol_ms; /* beacons this close race on the network: not out of order (100) */
  int spread_ms;    /* impressions of one ad's chain further apart: a finding (1000) */
  int server_side;  /* 1: every hit is server-side (SSAI) and must carry the
                       X-Device-IP and X-Device-User-Agent headers; 0: only
                       hits that carry some X-Device-* header are (0) */
} vast_conformance_opts;

VAST_API void vast_conformance_opts_init(vast_conformance_opts *o);

/*
 * Builds the conformance report of one session from a collector database
 * (opened read-only; hits still in the collector's journal are not seen, so
 * run it once the player has finished, or after the collector stopped).
 * session: the sid, or NULL for the session of the most recent served tag.
 * o: NULL for the defaults. On success *out is the report (free with
 * vast_conformance_free); VAST_E_NOT_FOUND when the session has no hit and no
 * served tag; VAST_E_DB with msg when the database cannot be read.
 */
VAST_API vast_err vast_conformance_run(const char *db_path, const char *session,
                                       const vast_conformance_opts *o,
                                       vast_conformance **out /* OUT */, char *msg, size_t msgcap);

/* One finding: static rule name ("missing", "duplicated", "early", "late",
   "out-of-order", "after-terminal", "impression-spread", "unexpanded-macro",
   "wrong-errorcode", "missing-device-headers"), the ad, the event, the chain
   level (-1 when not about one level) and a sentence. Valid until the report is freed. */
typedef struct vast_conformance_finding {
  const char *rule, *ad, *event;
  int level;
  const char *message;
} vast_conformance_finding;

VAST_API const char *vast_conformance_session(const vast_conformance *r);
VAST_API size_t vast_conformance_count(const vast_conformance *r);
VAST_API const vast_conformance_finding *vast_conformance_at(const vast_conformance *r, size_t i);

/* The report as text (one line per finding, then a summary line) or as one
   JSON object (docs/conformance.md). */
VAST_API vast_err vast_conformance_write_text(const vast_conformance *r, vast_write_fn write,
                                              void *ctx);
VAST_API vast_err vast_conformance_write_json(const vast_conformance *r, vast_write_fn write,
                                              void *ctx);
VAST_API void vast_conformance_free(vast_conformance *r);

#ifdef __cplusplus
}
#endif

#endif
