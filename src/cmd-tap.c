/*
 * cmd-tap.c: `vastrack tap`, a real tag with its tracking URLs routed through
 * a collector's beacon tap (vast_tap_rewrite), written to a file a player can
 * be pointed at.
 */
static const char TAP_USAGE[] =
    "usage: vastrack tap --collector URL [--session SID] [--level N] [-o FILE] TAG|URL|-\n"
    "\n"
    "Writes the tag with every tracking URL (Impression, Error, Tracking, clicks,\n"
    "icons, companions, ViewableImpression) pointed at URL/r/<session>/<event>?...&u=\n"
    "<original> and a Wrapper's VASTAdTagURI at URL/tap?...&url=<original>, so each\n"
    "beacon the player fires is recorded by the collector ('vastrack serve') and\n"
    "answered 302 to the original; then 'vastrack report --conformance SID'.\n"
    "Macros stay where they were, for the player to substitute.\n"
    "\n"
    "options:\n"
    "  --collector URL  the collector as the player reaches it (http://host:port)\n"
    "  --session SID    session id (1-64 of A-Za-z0-9_.-; default: a new one,\n"
    "                   printed on standard error)\n"
    "  --level N        the tag's level in its chain (default 0)\n"
    "  -o FILE          write there instead of standard output\n";

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cmd_tap(int argc, char **argv) {
  const char *url = NULL, *sid = NULL, *in = NULL, *outp = NULL;
  int level = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(TAP_USAGE, stdout);
      return CLI_OK;
    } else if (!strcmp(a, "--collector") && i + 1 < argc) {
      url = argv[++i];
    } else if (!strcmp(a, "--session") && i + 1 < argc) {
      sid = argv[++i];
    } else if (!strcmp(a, "--level") && i + 1 < argc) {
      char *end;
      long v = strtol(argv[++i], &end, 10);
      if (*end || v < 0 || v > 15) {
        cli_error("--level: 0 to 15");
        return CLI_USAGE;
      }
      level = (int)v;
    } else if (!strcmp(a, "-o") && i + 1 < argc) {
      outp = argv[++i];
    } else if ((a[0] != '-' || !strcmp(a, "-")) && !in) {
      in = a;
    } else {
      cli_error("unexpected argument '%s'; see 'vastrack tap --help'", a);
      return CLI_USAGE;
    }
  }
  if (!url || !in) {
    cli_error("tap needs --collector URL and a tag; see 'vastrack tap --help'");
    return CLI_USAGE;
  }
  char base[1024], gen[40];
  snprintf(base, sizeof base, "%s", url);
  size_t bl = strlen(base);
  while (bl && base[bl - 1] == '/')
    base[--bl] = 0;
  if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8)) {
    cli_error("--collector: an http(s) URL");
    return CLI_USAGE;
  }
  if (!sid) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(gen, sizeof gen, "t%lx%05lx", (unsigned long)ts.tv_sec,
             (unsigned long)((ts.tv_nsec / 1000) ^ (unsigned long)getpid()) & 0xfffff);
    sid = gen;
  }
  if (!vast_session_id_valid(sid)) {
    cli_error("invalid session id '%s' (1-64 characters of A-Za-z0-9_.-)", sid);
    return CLI_USAGE;
  }
  char *xml;
  size_t len;
  if (cli_read_input(in, &xml, &len)) return CLI_FAIL;
  FILE *out = stdout;
  if (outp && !(out = fopen(outp, "w"))) {
    cli_error("cannot open '%s': %s", outp, strerror(errno));
    free(xml);
    return CLI_FAIL;
  }
  char msg[256];
  size_t n = 0;
  vast_err e = vast_tap_rewrite(xml, len, cli_is_url(in) ? in : NULL, base, sid, level, NULL,
                                cli_write_file, out, &n, msg, sizeof msg);
  free(xml);
  int rc = fflush(out);
  if (outp) rc |= fclose(out);
  if (e != VAST_OK || rc) {
    cli_error("cannot write the tapped tag: %s", msg[0] ? msg : vast_strerror(e ? e : VAST_E_IO));
    return CLI_FAIL;
  }
  fprintf(stderr, "session %s: %zu URLs tapped\n", sid, n);
  return CLI_OK;
}
