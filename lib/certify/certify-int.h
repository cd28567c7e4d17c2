/*
 * certify-int.h: what the test ad server (adserver.c) and the conformance
 * report (conformance.c) share: the parameters of one served tag, parsed from
 * the query of GET /vast or /vmap (and read back from the "served" record the
 * collector keeps for it).
 */
#ifndef VASTRACK_CERTIFY_INT_H
#define VASTRACK_CERTIFY_INT_H

#include <stddef.h>

#include "collect/collect-int.h"
#include "vastrack/certify.h"
#include "vastrack/collect.h"
#include "vastrack/net.h"
#include "vastrack/validate.h"

enum { VAST__FAIL_NONE, VAST__FAIL_NOAD, VAST__FAIL_XML, VAST__FAIL_HTTP };

typedef struct vast__adspec {
  char version[4];  /* "4.2" */
  long dur_ms;      /* linear duration */
  long skip_ms;     /* skipoffset, -1 when not skippable */
  int pod;          /* ads in the response */
  int wrapper;      /* Wrapper hops still to go before the InLine */
  int lv;           /* this hop's level (0: the tag the player asked for) */
  int fail;         /* VAST__FAIL_*: what the innermost hop answers */
  long content_ms;  /* VMAP content length */
  char media[1024]; /* MediaFile URL ("" for the default) */
  char brk[16];     /* VMAP break name, "" outside VMAP */
} vast__adspec;

/* Parses a raw query into *s (defaults for what is absent). Returns 0, or -1
   with msg filled when a value is malformed or out of range. */
int vast__adspec_parse(const char *query, size_t qn, vast__adspec *s, char *msg, size_t msgcap);

/* The value of key in a raw query, percent-decoded into out; 1 when found. */
int vast__query_get(const char *query, size_t qn, const char *key, char *out, size_t cap);

/* The ad id of ad i (1-based) of a response: "a1", or "pre-a1" in a VMAP break. */
void vast__adspec_ad_id(const vast__adspec *s, int i, char *out, size_t cap);

/* The VAST error code a player must send for s->fail (303, 100, 301), or 0. */
int vast__adspec_expected_error(const vast__adspec *s);

/* ---- the collector's routes (certify.c) ---- */

/*
 * The routes of player certification (ended by an entry with method NULL),
 * served by the collector with the web UI: GET /vast and /vmap (the test ad
 * server: each served tag recorded as a "served" hit of its session and
 * answered once stored), GET /r/<session>/<event>?...&u=URL (a tapped hit,
 * recorded and answered 302 to URL), and on the thread pool GET /tap?url=
 * (vast__certify_tap) and GET /conformance[/<session>] (vast__certify_page).
 */
extern const vast__route vast__certify_routes[];

/*
 * GET /tap?[sid=S&][lv=N&]url=URL: fetches URL (the policy's limits; private
 * addresses only with allow_private) and answers it rewritten by
 * vast_tap_rewrite for base http://<host>. Blocks on the network: for a
 * worker thread. Fills status, ctype (static) and body (malloc'd, *blen).
 */
void vast__certify_tap(const char *query, size_t qn, const char *host, size_t hn, int allow_private,
                       int *status, const char **ctype, char **body, size_t *blen);

/*
 * --tap-forward server: fires url from here with X-Device-IP device_ip and
 * X-Device-User-Agent device_ua (a dispatcher of its own, drained within
 * 5 s); the outcome goes to *status (HTTP status, 0 none) and msg. Blocks:
 * for a worker thread.
 */
void vast__certify_forward(const char *url, const char *device_ip, const char *device_ua,
                           int allow_private, long *status, char *msg, size_t msgcap);

/*
 * GET /conformance/<session> (no session: the most recently served): the
 * conformance report of the database at db as an HTML page (no script; the
 * web UI's style sheet). Reads SQLite: for a worker thread. Fills status,
 * ctype (static) and body (malloc'd, *blen).
 */
void vast__certify_page(const char *db, const char *path, size_t pn, int *status,
                        const char **ctype, char **body, size_t *blen);

#endif
