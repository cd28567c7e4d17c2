/*
 * serve.c: vast_collector_start, the collector as `vastrack serve` runs it:
 * the server of lib/collect with, when vast_collector_opts.web is set, the
 * routes of the web UI (web.c) and of player certification
 * (lib/certify/certify.c), the web UI's security headers on all of their
 * answers, and the tap's server-side forwarding. The collector itself knows
 * none of these modules: it looks requests up in the tables it is given
 * (vast__site, collect-int.h).
 */
#include "certify/certify-int.h"
#include "collect/collect-int.h"
#include "web/web-int.h"

static const vast__route *const TABLES[] = {vast__certify_routes, vast__web_routes, NULL};

static const vast__site SITE = {
    .tables = TABLES,
    .headers = vast__web_sec_headers,
    .forward = vast__certify_forward,
};

vast_err vast_collector_start(const vast_collector_opts *opts, vast_collector **out,
                              vast_error *err) {
  return vast__collector_start(opts, &SITE, out, err);
}
