/*
 * cmd-report.c: `vastrack report`, the funnel per ad from a collector
 * database (lib/collect/report.c).
 *
 * usage: vastrack report [--db PATH] [--since T] [--fired LOG]... [--map NAME=FIELD,..]
 * [--json|--csv]
 *   --db PATH     collector database (default vastrack.db)
 *   --since T     only hits from T: epoch seconds, 2024-05-01T12:00:00Z, or
 *                 a duration back from now (90s, 15m, 2h, 7d)
 *   --fired LOG   delivery log of `vastrack play --log` (JSON lines); adds the
 *                 fired, answered and diff columns; repeatable
 *   --map NAME=FIELD,..  the collector's --map, so fired URLs that name the ad
 *                 with an operator parameter (adid=7) are matched
 *   --no-db       report the fired log alone
 *   --json        one JSON object (schema in docs/collector.md)
 *   --csv         ad,event,counted,fired,answered,diff,rate
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char USAGE[] =
    "usage: vastrack report [--db PATH] [--since T] [--fired LOG]... [--map NAME=FIELD,..] "
    "[--json|--csv]\n"
    "  --db PATH     collector database (default vastrack.db)\n"
    "  --since T     only hits from T: epoch seconds, 2024-05-01T12:00:00Z, or a\n"
    "                duration back from now (90s, 15m, 2h, 7d)\n"
    "  --fired LOG   delivery log of 'vastrack play --log' (JSON lines): adds the\n"
    "                fired, answered and diff columns; repeatable\n"
    "  --map NAME=FIELD,..  the collector's --map: fired URLs naming the ad with an\n"
    "                operator parameter (adid=7) are matched to its hits\n"
    "  --no-db       report the fired log alone\n"
    "  --json        one JSON object\n"
    "  --csv         ad,event,counted,fired,answered,diff,rate\n"
    "  --conformance [SESSION]  what a player fired against what the spec requires\n"
    "                ('vastrack report --conformance --help')\n";

int cmd_report(int argc, char **argv) {
  const char *db = "vastrack.db", *since = NULL, *map = NULL;
  const char *fired[16];
  int nfired = 0, nodb = 0;
  vast_report_format fmt = VAST_REPORT_TEXT;
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--conformance")) return cmd_conformance(argc, argv);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(USAGE, stdout);
      return CLI_OK;
    } else if (!strcmp(a, "--json")) {
      fmt = VAST_REPORT_JSON;
    } else if (!strcmp(a, "--csv")) {
      fmt = VAST_REPORT_CSV;
    } else if (!strcmp(a, "--no-db")) {
      nodb = 1;
    } else if (i + 1 < argc && !strcmp(a, "--db")) {
      db = argv[++i];
    } else if (i + 1 < argc && !strcmp(a, "--since")) {
      since = argv[++i];
    } else if (i + 1 < argc && !strcmp(a, "--map")) {
      map = argv[++i];
    } else if (i + 1 < argc && !strcmp(a, "--fired") && nfired < 16) {
      fired[nfired++] = argv[++i];
    } else {
      cli_error("report: unknown or incomplete option '%s'", a);
      fputs(USAGE, stderr);
      return CLI_USAGE;
    }
  }
  int64_t since_ms = 0;
  if (since) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (vast_parse_since(since, now, &since_ms) != VAST_OK) {
      cli_error("report: invalid --since '%s'", since);
      return CLI_USAGE;
    }
  }
  vast_report *r = NULL;
  vast_error err;
  vast_err e = nodb ? vast_report_new(&r) : vast_report_load(db, since_ms, &r, &err);
  if (e != VAST_OK) {
    cli_error("%s", nodb ? vast_strerror(e) : err.message);
    return CLI_FAIL;
  }
  if (map && vast_report_set_map(r, map, &err) != VAST_OK) {
    cli_error("report: %s", err.message);
    vast_report_free(r);
    return CLI_USAGE;
  }
  for (int i = 0; i < nfired; i++) {
    if (vast_report_add_fired(r, fired[i], NULL, &err) != VAST_OK) {
      cli_error("%s", err.message);
      vast_report_free(r);
      return CLI_FAIL;
    }
  }
  e = vast_report_write(r, fmt, cli_write_file, stdout);
  vast_report_free(r);
  if (e != VAST_OK || fflush(stdout) != 0) {
    cli_error("cannot write the report");
    return CLI_FAIL;
  }
  return CLI_OK;
}
