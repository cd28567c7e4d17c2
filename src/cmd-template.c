/*
 * cmd-template.c: `vastrack template`, a complete valid VAST tag to start a
 * new tag from (vast_template_write).
 */
static const char template_usage[] =
    "usage: vastrack template [--version 4.1|4.2|4.3] [--skippable] [--wrapper]\n"
    "                         [--omid] [--no-comments]\n"
    "\n"
    "Writes a complete, valid VAST InLine linear tag to standard output: every\n"
    "Tracking event the version defines, https URLs with IAB macros, progressive\n"
    "H.264 MP4 and WebM renditions and a Mezzanine, each element preceded by a\n"
    "comment saying what it is for. It validates with no findings under the web,\n"
    "ctv and ssai profiles. Replace the example.com URLs and ids.\n"
    "\n"
    "options:\n"
    "  --version V    4.1, 4.2 or 4.3 (default 4.3)\n"
    "  --skippable    add skipoffset=\"00:00:05.000\" and the skip event\n"
    "  --wrapper      a Wrapper (VASTAdTagURI, Impression, Error, its own tracking)\n"
    "                 instead of an InLine\n"
    "  --omid         add AdVerifications with an OMID verification script\n"
    "  --no-comments  leave the explanatory comments out\n"
    "  --collector URL  the test ad server's tag instead, its tracking URLs on that\n"
    "                 collector ('vastrack template --collector URL --help')\n"
    "  -h, --help     this text\n";

#include <string.h>

#include "cli.h"

int cmd_template(int argc, char **argv) {
  vast_template_options o;
  vast_template_options_init(&o);
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--collector")) return cmd_template_collector(argc, argv);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      fputs(template_usage, stdout);
      return CLI_OK;
    } else if (!strcmp(argv[i], "--skippable")) {
      o.skippable = 1;
    } else if (!strcmp(argv[i], "--wrapper")) {
      o.wrapper = 1;
    } else if (!strcmp(argv[i], "--omid")) {
      o.omid = 1;
    } else if (!strcmp(argv[i], "--no-comments")) {
      o.comments = 0;
    } else if (!strcmp(argv[i], "--version") && i + 1 < argc) {
      o.version = argv[++i];
    } else if (!strncmp(argv[i], "--version=", 10)) {
      o.version = argv[i] + 10;
    } else {
      cli_error("unexpected argument '%s'; see 'vastrack template --help'", argv[i]);
      return CLI_USAGE;
    }
  }
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
