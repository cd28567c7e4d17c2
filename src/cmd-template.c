/*
 * cmd-template.c: `vastrack template`, a complete valid VAST tag to start a
 * new tag from (vast_template_write).
 */
static const char template_usage[] =
    "usage: vastrack template [--version 4.1|4.2|4.3] [--skippable]\n"
    "\n"
    "Writes a complete, valid VAST InLine linear tag to standard output: every\n"
    "Tracking event the version defines, https URLs with IAB macros, progressive\n"
    "H.264 MP4 and WebM renditions. It validates with no findings under the web,\n"
    "ctv and ssai profiles. Replace the example.com URLs and ids.\n"
    "\n"
    "options:\n"
    "  --version V   4.1, 4.2 or 4.3 (default 4.3)\n"
    "  --skippable   add skipoffset=\"00:00:05.000\" and the skip event\n"
    "  -h, --help    this text\n";

#include <string.h>

#include "cli.h"

int cmd_template(int argc, char **argv) {
  const char *version = "4.3";
  int skippable = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      fputs(template_usage, stdout);
      return CLI_OK;
    } else if (!strcmp(argv[i], "--skippable")) {
      skippable = 1;
    } else if (!strcmp(argv[i], "--version") && i + 1 < argc) {
      version = argv[++i];
    } else if (!strncmp(argv[i], "--version=", 10)) {
      version = argv[i] + 10;
    } else {
      cli_error("unexpected argument '%s'; see 'vastrack template --help'", argv[i]);
      return CLI_USAGE;
    }
  }
  vast_err e = vast_template_write(version, skippable, cli_write_file, stdout);
  if (e == VAST_E_VERSION) {
    cli_error("unsupported template version '%s' (4.1, 4.2, 4.3)", version);
    return CLI_USAGE;
  }
  if (e != VAST_OK || fflush(stdout) != 0) {
    cli_error("cannot write the template: %s", vast_strerror(e ? e : VAST_E_IO));
    return CLI_FAIL;
  }
  return CLI_OK;
}
