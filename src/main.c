/*
 * main.c: the vastrack command. A table maps each subcommand to its cmd_*
 * function in src/cmd-<name>.c; everything else lives in libvastrack.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
  const char *name;
  cli_cmd_fn fn;
  const char *summary;
} commands[] = {
    {"inspect", cmd_inspect, "parse a VAST/VMAP tag and print its model (tree or JSON)"},
    {"serve", cmd_serve, "run the beacon collector (HTTP, SQLite/Kafka)"},
    {"report", cmd_report, "funnel per ad from a collector database"},
    {"validate", cmd_validate,
     "check tags: findings with line:col, IAB code and fix (text, JSON, SARIF)"},
    {"audit", cmd_audit, "one summary row per tag (table, CSV, JSON) for many tags"},
    {"errors", cmd_errors, "the IAB VAST error codes: meaning, cause, fix, how to test"},
    {"template", cmd_template, "print a complete valid VAST 4.x tag to start from"},
    {"play", cmd_play, "simulate a playback and print every tracking beacon (--fire sends)"},
    {"resolve", cmd_resolve, "follow a wrapper chain to the InLine ads (HTTP or files), per hop"},
    {"tap", cmd_tap, "route a real tag's beacons through a collector (player certification)"},
    {"probe", cmd_probe, "what the media behind a tag really is (libavformat, ranged reads)"},
    {"ssai", cmd_ssai, "the server-side (SSAI) beaconing service: sessions, breaks, reports"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: vastrack <command> [options] [args]\n"
               "       vastrack --help | --version\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nrun 'vastrack <command> --help' for the options of a command\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return CLI_OK;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("vastrack %s\n", vast_version());
    return CLI_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
  cli_error("'%s' is not a vastrack command; see 'vastrack --help'", argv[1]);
  return CLI_USAGE;
}
