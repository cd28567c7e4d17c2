/*
 * cmd-template.c: `vastrack template`, a complete valid VAST tag to start a
 * new tag from (vast_template_write); with --collector, the tags of the
 * collector's test ad server instead (player certification,
 * include/vastrack/certify.h).
 */
#include <string.h>

#include "cli.h"
#include "opts.h"

static const char template_usage[] =
    "usage: vastrack template [--version 4.1|4.2|4.3] [--skippable] [--wrapper]\n"
    "                         [--omid] [--no-comments]\n"
    "\n"
    "Writes a complete, valid VAST InLine linear tag to standard output: every\n"
    "Tracking event the version defines, https URLs with IAB macros, progressive\n"
    "H.264 MP4 and WebM renditions and a Mezzanine, each element preceded by a\n"
    "comment saying what it is for. It validates with no findings under the web,\n"
    "ctv and ssai profiles. Replace the example.com URLs and ids.\n";

static const char collector_usage[] =
    "usage: vastrack template --collector URL [--session SID] [--params QUERY] [--vmap]\n"
    "\n"
    "Writes the tag the collector's test ad server answers at URL/vast (or /vmap):\n"
    "every tracking URL points back at URL/t/<event> with the session, the ad, the\n"
    "chain level and the event, so 'vastrack report --conformance SID' can check\n"
    "what a player fired. Parameters as for GET /vast (docs/conformance.md):\n"
    "v=4.2 dur=10 skip=5 pod=3 wrapper=2 fail=noad|xml|http media=URL content=60.\n";

static int cmd_template_collector(int argc, char **argv) {
  const char *url = NULL, *sid = NULL, *params = "";
  int vmap = 0;
  const cli_opt table[] = {
      CLI_STRING("collector", "URL", url,
                 "the collector as the player reaches it (http://host:port)"),
      CLI_STRING("session", "SID", sid, "session id (1-64 of A-Za-z0-9_.-; default: a new one)"),
      CLI_STRING("params", "QUERY", params, "the /vast parameters, e.g. 'dur=15&skip=5'"),
      CLI_FLAG("vmap", vmap, "a VMAP with pre-, mid- and post-roll breaks instead"), CLI_END};
  const cli_cmd cmd = {"template --collector", collector_usage, table, NULL};
  int n = cli_opts_parse(&cmd, argc, argv);
  if (n < 0) return cli_opts_exit(n);
  if (n > 0) {
    cli_error("unexpected argument '%s' with --collector; see 'vastrack template "
              "--collector URL --help'",
              argv[1]);
    return CLI_USAGE;
  }
  if (!url) {
    cli_error("--collector needs a URL");
    return CLI_USAGE;
  }
  char base[1024], gen[40];
  cli_base_url(base, sizeof base, url);
  if (!sid) {
    cli_session_id(gen, sizeof gen, 's');
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

int cmd_template(int argc, char **argv) {
  if (cli_opts_has(argc, argv, "collector")) return cmd_template_collector(argc, argv);
  vast_template_options o;
  vast_template_options_init(&o);
  int no_comments = 0;
  const char *collector = NULL; /* handed over above; here for the help */
  const cli_opt table[] = {
      CLI_STRING("version", "V", o.version, "4.1, 4.2 or 4.3 (default 4.3)"),
      CLI_FLAG("skippable", o.skippable, "add skipoffset=\"00:00:05.000\" and the skip event"),
      CLI_FLAG("wrapper", o.wrapper,
               "a Wrapper (VASTAdTagURI, Impression, Error, its own tracking)\n"
               "instead of an InLine"),
      CLI_FLAG("omid", o.omid, "add AdVerifications with an OMID verification script"),
      CLI_FLAG("no-comments", no_comments, "leave the explanatory comments out"),
      CLI_STRING("collector", "URL", collector,
                 "the test ad server's tag instead, its tracking URLs on that\n"
                 "collector ('vastrack template --collector URL --help')"),
      CLI_END};
  const cli_cmd cmd = {"template", template_usage, table, NULL};
  int n = cli_opts_parse(&cmd, argc, argv);
  if (n < 0) return cli_opts_exit(n);
  if (n > 0) {
    cli_error("unexpected argument '%s'; see 'vastrack template --help'", argv[1]);
    return CLI_USAGE;
  }
  if (no_comments) o.comments = 0;
  if (o.wrapper && o.skippable) {
    cli_error("--skippable is for an InLine; a Wrapper has no skipoffset");
    return CLI_USAGE;
  }
  vast_err e = vast_template_write_opts(&o, cli_write_file, stdout);
  if (e == VAST_E_VERSION) {
    cli_error("unsupported template version '%s' (4.1, 4.2, 4.3)", o.version);
    return CLI_USAGE;
  }
  if (e != VAST_OK || fflush(stdout) != 0) {
    cli_error("cannot write the template: %s", vast_strerror(e ? e : VAST_E_IO));
    return CLI_FAIL;
  }
  return CLI_OK;
}
