/*
 * cmd-certify.c: the command-line side of player certification
 * (include/vastrack/certify.h): `vastrack template --collector URL`, the tags
 * of the test ad server, and `vastrack report --conformance [SESSION]`, the
 * conformance report of a session. cmd-template.c and cmd-report.c hand over
 * to these when they see those options.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char TEMPLATE_USAGE[] =
    "usage: vastrack template --collector URL [--session SID] [--params QUERY] [--vmap]\n"
    "\n"
    "Writes the tag the collector's test ad server answers at URL/vast (or /vmap):\n"
    "every tracking URL points back at URL/t/<event> with the session, the ad, the\n"
    "chain level and the event, so 'vastrack report --conformance SID' can check\n"
    "what a player fired. Parameters as for GET /vast (docs/conformance.md):\n"
    "v=4.2 dur=10 skip=5 pod=3 wrapper=2 fail=noad|xml|http media=URL content=60.\n"
    "\n"
    "options:\n"
    "  --collector URL  the collector as the player reaches it (http://host:port)\n"
    "  --session SID    session id (1-64 of A-Za-z0-9_.-; default: a new one)\n"
    "  --params QUERY   the /vast parameters, e.g. 'dur=15&skip=5'\n"
    "  --vmap           a VMAP with pre-, mid- and post-roll breaks instead\n";

int cmd_template_collector(int argc, char **argv) {
  const char *url = NULL, *sid = NULL, *params = "";
  int vmap = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      fputs(TEMPLATE_USAGE, stdout);
      return CLI_OK;
    } else if (!strcmp(argv[i], "--collector") && i + 1 < argc) {
      url = argv[++i];
    } else if (!strcmp(argv[i], "--session") && i + 1 < argc) {
      sid = argv[++i];
    } else if (!strcmp(argv[i], "--params") && i + 1 < argc) {
      params = argv[++i];
    } else if (!strcmp(argv[i], "--vmap")) {
      vmap = 1;
    } else {
      cli_error("unexpected argument '%s' with --collector; see 'vastrack template "
                "--collector URL --help'",
                argv[i]);
      return CLI_USAGE;
    }
  }
  if (!url) {
    cli_error("--collector needs a URL");
    return CLI_USAGE;
  }
  char base[1024], gen[40];
  snprintf(base, sizeof base, "%s", url);
  size_t bl = strlen(base);
  while (bl && base[bl - 1] == '/')
    base[--bl] = 0;
  if (!sid) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(gen, sizeof gen, "s%lx%05lx", (unsigned long)ts.tv_sec,
             (unsigned long)((ts.tv_nsec / 1000) ^ (unsigned long)getpid()) & 0xfffff);
    sid = gen;
  }
  char msg[256];
  int status;
  vast_err e = vast_adserver_write(vmap ? VAST_ADSERVER_VMAP : VAST_ADSERVER_VAST, base, sid,
                                   params, cli_write_file, stdout, &status, msg, sizeof msg);
  if (e == VAST_E_INVAL) {
    cli_error("%s", msg);
    return CLI_USAGE;
  }
  if (e != VAST_OK || fflush(stdout) != 0) {
    cli_error("cannot write the tag: %s", vast_strerror(e ? e : VAST_E_IO));
    return CLI_FAIL;
  }
  fprintf(stderr, "session %s\n", sid);
  return CLI_OK;
}

static const char CONFORMANCE_USAGE[] =
    "usage: vastrack report --conformance [SESSION] [--db PATH] [--json] [--server-side]\n"
    "                       [--early-ms N] [--late-ms N] [--order-ms N] [--spread-ms N]\n"
    "\n"
    "Checks what a player fired in one session against what the spec requires for\n"
    "what it played (docs/conformance.md): missing, duplicated, early or late\n"
    "quartiles, out of order, after the end, impressions of a chain not fired\n"
    "together, macros left unexpanded, wrong ERRORCODE values, server-side hits\n"
    "without X-Device-IP / X-Device-User-Agent. SESSION defaults to the session of\n"
    "the most recent tag the collector's test ad server served.\n"
    "Exit status: 0 conformant, 1 findings, 2 usage, 4 the database cannot be read\n"
    "or the session has no hit.\n"
    "\n"
    "options:\n"
    "  --db PATH       collector database (default vastrack.db)\n"
    "  --json          one JSON object\n"
    "  --server-side   every hit came from a server (SSAI): all need device headers\n"
    "  --early-ms N    tolerance before a quartile's time (300)\n"
    "  --late-ms N     tolerance after it (2000)\n"
    "  --order-ms N    beacons this close are not out of order (100)\n"
    "  --spread-ms N   impressions of one chain further apart are a finding (1000)\n";

static int ms_arg(const char *s, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (end == s || *end || v < 0 || v > 3600000) return -1;
  *out = (int)v;
  return 0;
}

int cmd_conformance(int argc, char **argv) {
  const char *db = "vastrack.db", *session = NULL;
  int json = 0;
  vast_conformance_opts o;
  vast_conformance_opts_init(&o);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int *ms = NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(CONFORMANCE_USAGE, stdout);
      return CLI_OK;
    } else if (!strcmp(a, "--conformance")) {
      if (i + 1 < argc && argv[i + 1][0] != '-') session = argv[++i];
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (!strcmp(a, "--server-side")) {
      o.server_side = 1;
    } else if (!strcmp(a, "--db") && i + 1 < argc) {
      db = argv[++i];
    } else if (!strcmp(a, "--early-ms")) {
      ms = &o.early_tol_ms;
    } else if (!strcmp(a, "--late-ms")) {
      ms = &o.late_tol_ms;
    } else if (!strcmp(a, "--order-ms")) {
      ms = &o.order_tol_ms;
    } else if (!strcmp(a, "--spread-ms")) {
      ms = &o.spread_ms;
    } else {
      cli_error("unexpected argument '%s' with --conformance; see 'vastrack report "
                "--conformance --help'",
                a);
      return CLI_USAGE;
    }
    if (ms && (i + 1 >= argc || ms_arg(argv[++i], ms))) {
      cli_error("%s needs milliseconds (0-3600000)", a);
      return CLI_USAGE;
    }
  }
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
  size_t n = vast_conformance_count(r);
  vast_conformance_free(r);
  if (e != VAST_OK || fflush(stdout) != 0) {
    cli_error("cannot write the report: %s", vast_strerror(e ? e : VAST_E_IO));
    return CLI_FAIL;
  }
  return n ? CLI_FINDINGS : CLI_OK;
}
