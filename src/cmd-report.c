/*
 * cmd-report.c: `vastrack report`, the funnel per ad from a collector
 * database (lib/collect/report.c); with --conformance, what a player fired in
 * one session against what the spec requires (include/vastrack/certify.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "opts.h"

static const char usage_text[] =
    "usage: vastrack report [--db PATH] [--since T] [--fired LOG]... [--map NAME=FIELD,..] "
    "[--json|--csv]\n";

static const char conformance_usage[] =
    "usage: vastrack report --conformance [SESSION] [--db PATH] [--json] [--server-side]\n"
    "                       [--early-ms N] [--late-ms N] [--order-ms N] [--spread-ms N]\n"
    "\n"
    "Checks what a player fired in one session against what the spec requires for\n"
    "what it played (docs/conformance.md): missing, duplicated, early or late\n"
    "quartiles, out of order, after the end, impressions of a chain not fired\n"
    "together, macros left unexpanded, wrong ERRORCODE values, server-side hits\n"
    "without X-Device-IP / X-Device-User-Agent. SESSION defaults to the session of\n"
    "the most recent tag the collector's test ad server served.\n";

static int cmd_conformance(int argc, char **argv) {
  const char *db = "vastrack.db";
  int json = 0, conformance = 0;
  vast_conformance_opts o;
  vast_conformance_opts_init(&o);
  const cli_opt table[] = {
      CLI_FLAG("conformance", conformance, "[SESSION] this report (SESSION: an operand)"),
      CLI_STRING("db", "PATH", db, "collector database (default vastrack.db)"),
      CLI_FLAG("json", json, "one JSON object"),
      CLI_FLAG("server-side", o.server_side,
               "every hit came from a server (SSAI): all need device headers"),
      CLI_INT("early-ms", "N", o.early_tol_ms, 0, 3600000,
              "tolerance before a quartile's time (300)"),
      CLI_INT("late-ms", "N", o.late_tol_ms, 0, 3600000, "tolerance after it (2000)"),
      CLI_INT("order-ms", "N", o.order_tol_ms, 0, 3600000,
              "beacons this close are not out of order (100)"),
      CLI_INT("spread-ms", "N", o.spread_ms, 0, 3600000,
              "impressions of one chain further apart are a finding (1000)"),
      CLI_END};
  const cli_cmd cmd = {"report --conformance", conformance_usage, table,
                       "exit status: 0 conformant, 1 findings, 2 usage, 4 the database cannot "
                       "be read\nor the session has no hit.\n"};
  int n = cli_opts_parse(&cmd, argc, argv);
  if (n < 0) return cli_opts_exit(n);
  if (n > 1) {
    cli_error("unexpected argument '%s' with --conformance; see 'vastrack report "
              "--conformance --help'",
              argv[2]);
    return CLI_USAGE;
  }
  const char *session = n ? argv[1] : NULL;
  if (session && !vast_session_id_valid(session)) {
    cli_error("invalid session id '%s' (1-64 characters of A-Za-z0-9_.-)", session);
    return CLI_USAGE;
  }
  vast_conformance *r;
  char msg[512];
  vast_err e = vast_conformance_run(db, session, &o, &r, msg, sizeof msg);
  if (e != VAST_OK) {
    cli_error("%s", msg[0] ? msg : vast_strerror(e));
    return CLI_FAIL;
  }
  e = json ? vast_conformance_write_json(r, cli_write_file, stdout)
           : vast_conformance_write_text(r, cli_write_file, stdout);
  size_t count = vast_conformance_count(r);
  vast_conformance_free(r);
  if (e != VAST_OK || fflush(stdout) != 0) {
    cli_error("cannot write the report: %s", vast_strerror(e ? e : VAST_E_IO));
    return CLI_FAIL;
  }
  return count ? CLI_FINDINGS : CLI_OK;
}

int cmd_report(int argc, char **argv) {
  if (cli_opts_has(argc, argv, "conformance")) return cmd_conformance(argc, argv);
  const char *db = "vastrack.db", *since = NULL, *map = NULL;
  cli_list fired = {0};
  int nodb = 0, conformance = 0;
  vast_report_format fmt = VAST_REPORT_TEXT;
  const cli_opt table[] = {
      CLI_STRING("db", "PATH", db, "collector database (default vastrack.db)"),
      CLI_STRING("since", "T", since,
                 "only hits from T: epoch seconds, 2024-05-01T12:00:00Z, or a\n"
                 "duration back from now (90s, 15m, 2h, 7d)"),
      CLI_LIST("fired", "LOG", fired,
               "delivery log of 'vastrack play --log' (JSON lines): adds the\n"
               "fired, answered and diff columns; repeatable"),
      CLI_STRING("map", "NAME=FIELD,..", map,
                 "the collector's --map: fired URLs naming the ad with an\n"
                 "operator parameter (adid=7) are matched to its hits"),
      CLI_FLAG("no-db", nodb, "report the fired log alone"),
      CLI_FLAG_VAL("json", fmt, VAST_REPORT_JSON, "one JSON object"),
      CLI_FLAG_VAL("csv", fmt, VAST_REPORT_CSV, "ad,event,counted,fired,answered,diff,rate"),
      CLI_FLAG("conformance", conformance, /* handed over above; here for the help */
               "[SESSION] what a player fired against what the spec requires\n"
               "('vastrack report --conformance --help')"),
      CLI_END};
  const cli_cmd cmd = {"report", usage_text, table, NULL};
  int n = cli_opts_parse(&cmd, argc, argv);
  if (n < 0) {
    cli_opts_free(&cmd);
    return cli_opts_exit(n);
  }
  int status = CLI_USAGE;
  vast_report *r = NULL;
  if (n > 0) {
    cli_error("report: unexpected argument '%s'; see 'vastrack report --help'", argv[1]);
    goto done;
  }
  int64_t since_ms = 0;
  if (since) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (vast_parse_since(since, now, &since_ms) != VAST_OK) {
      cli_error("report: invalid --since '%s'", since);
      goto done;
    }
  }
  vast_error err;
  vast_err e = nodb ? vast_report_new(&r) : vast_report_load(db, since_ms, &r, &err);
  if (e != VAST_OK) {
    cli_error("%s", nodb ? vast_strerror(e) : err.message);
    status = CLI_FAIL;
    goto done;
  }
  if (map && vast_report_set_map(r, map, &err) != VAST_OK) {
    cli_error("report: %s", err.message);
    goto done;
  }
  status = CLI_FAIL;
  for (size_t i = 0; i < fired.n; i++) {
    if (vast_report_add_fired(r, fired.v[i], NULL, &err) != VAST_OK) {
      cli_error("%s", err.message);
      goto done;
    }
  }
  e = vast_report_write(r, fmt, cli_write_file, stdout);
  if (e != VAST_OK || fflush(stdout) != 0) {
    cli_error("cannot write the report");
    goto done;
  }
  status = CLI_OK;
done:
  vast_report_free(r);
  cli_opts_free(&cmd);
  return status;
}
