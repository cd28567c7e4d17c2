/*
 * web-int.h: the web inspector and dashboard served by the collector
 * (lib/web/web.c: the JSON API; lib/web/web-assets.c: the pages, built from web/ into
 * the library). The collector serves them through vast__web_routes (a route
 * table, collect-int.h) and vast_collector_start (serve.c); nothing here
 * touches a connection or an event loop.
 */
#ifndef VASTRACK_WEB_INT_H
#define VASTRACK_WEB_INT_H

#include <stddef.h>

#include "collect/collect-int.h"

/* One answer of the API: status, a static content type, a malloc'd body. */
typedef struct vast__web_resp {
  int status;
  const char *ctype;
  char *body;
  size_t len;
} vast__web_resp;

/*
 * A page or asset built into the binary for `path` (without the query):
 * "/" (dashboard), "/inspect", "/style.css", "/dashboard.js", "/inspect.js".
 * Returns 1 and the static bytes, or 0 when there is none.
 */
int vast__web_asset(const char *path, size_t n, const char **ctype, const unsigned char **data,
                    size_t *len);

/* 1 when path is one of the POST endpoints (/api/validate, /inspect, /resolve, /play). */
int vast__web_api_known(const char *path, size_t n);

/*
 * Runs one POST endpoint: `query` (raw, percent-encoded) holds the options,
 * `body` the document. May block on the network (url= inputs, wrapper
 * resolution: bounded by the resolver's timeouts) and is meant for a worker
 * thread; reentrant. Fills *out (free the body with vast__web_resp_free).
 * allow_private lets fetches reach loopback/private addresses.
 */
void vast__web_api(const char *path, size_t pn, const char *query, size_t qn, const char *body,
                   size_t bn, int allow_private, vast__web_resp *out);

/*
 * 1 when a POST endpoint request may wait on the network (the slow pool
 * limit applies): /api/resolve, any url= input, probe=1, /api/play of a Wrapper.
 */
int vast__web_api_slow(const char *path, size_t pn, const char *query, size_t qn, const char *body,
                       size_t bn);

/*
 * 1 when a POST to the API may be served: a Content-Type of XML or JSON
 * (application/xml, text/xml, application/json, application/NAME+xml,
 * application/NAME+json; parameters allowed) or an X-Vastrack-Client header. What a
 * form or a "simple" cross-site fetch() can send (text/plain, form encodings) is
 * refused: a browser must then ask first (CORS preflight), which this server
 * never grants.
 */
int vast__web_api_ctype_ok(const char *ctype, size_t n, int api_client);

/* The headers every page and API answer carries (CSP, framing, sniffing),
   each line ending in CRLF. */
extern const char vast__web_sec_headers[];

/* GET /api/errors: the IAB error-code table as JSON. */
void vast__web_errors(vast__web_resp *out);

void vast__web_resp_free(vast__web_resp *r);

/*
 * The routes of the web UI (ended by an entry with method NULL): GET
 * /api/errors, POST /api/<endpoint> (thread pool; the body admitted by
 * vast__web_api_ctype_ok), and GET of the pages and assets.
 */
extern const vast__route vast__web_routes[];

#endif
