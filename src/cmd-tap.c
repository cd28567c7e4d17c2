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
    "Macros stay where they were, for the player to substitute.\n";

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"

int cmd_tap(int argc, char **argv) {
  const char *url = NULL, *sid = NULL, *in = NULL, *outp = NULL;
  int level = 0;
  const cli_opt table[] = {
      CLI_STRING("collector", "URL", url,
                 "the collector as the player reaches it (http://host:port)"),
      CLI_STRING("session", "SID", sid,
                 "session id (1-64 of A-Za-z0-9_.-; default: a new one,\n"
                 "printed on standard error)"),
      CLI_INT("level", "N", level, 0, 15, "the tag's level in its chain (default 0)"),
      {.short_name = 'o',
       .type = CLI_OPT_STRING,
       .arg = "FILE",
       .help = "write there instead of standard output",
       .dest = &outp},
      CLI_END};
  const cli_cmd cmd = {"tap", TAP_USAGE, table, NULL};
  int n_ops = cli_opts_parse(&cmd, argc, argv);
  if (n_ops < 0) return cli_opts_exit(n_ops);
  if (n_ops > 1) {
    cli_error("unexpected argument '%s'; see 'vastrack tap --help'", argv[2]);
    return CLI_USAGE;
  }
  in = n_ops ? argv[1] : NULL;
  if (!url || !in) {
    cli_error("tap needs --collector URL and a tag; see 'vastrack tap --help'");
    return CLI_USAGE;
  }
  char base[1024], gen[40];
  cli_base_url(base, sizeof base, url);
  if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8)) {
    cli_error("--collector: an http(s) URL");
    return CLI_USAGE;
  }
  if (!sid) {
    cli_session_id(gen, sizeof gen, 't');
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
