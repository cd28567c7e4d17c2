/*
 * cmd-errors.c: `vastrack errors`, the IAB VAST error-code table (library
 * data from vast_iab_error_*) for people reading error beacons.
 */
static const char errors_usage[] =
    "usage: vastrack errors [--json] [CODE]\n"
    "\n"
    "Prints the IAB VAST error codes (100-102, 200-206, 300-304, 400-411,\n"
    "500-503, 600-604, 900-902) with meaning, common cause, fix and how to test\n"
    "for it; only CODE's entry when given.\n"
    "\n"
    "options:\n"
    "  --json      a JSON array of {code, name, meaning, cause, fix, test}\n"
    "  -h, --help  this text\n"
    "\n"
    "exit status: 0 ok, 1 CODE is not an IAB VAST error code, 2 usage\n";

#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void json_str(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  putchar('"');
}

static void print_json(const vast_iab_error *e, int first) {
  printf("%s{\"code\":%d,\"name\":", first ? "" : ",\n", e->code);
  json_str(e->name);
  fputs(",\"meaning\":", stdout);
  json_str(e->meaning);
  fputs(",\"cause\":", stdout);
  json_str(e->cause);
  fputs(",\"fix\":", stdout);
  json_str(e->fix);
  fputs(",\"test\":", stdout);
  json_str(e->test);
  putchar('}');
}

static void print_text(const vast_iab_error *e) {
  printf("%d  %s\n    meaning: %s\n    cause:   %s\n    fix:     %s\n    test:    %s\n\n", e->code,
         e->name, e->meaning, e->cause, e->fix, e->test);
}

int cmd_errors(int argc, char **argv) {
  int json = 0;
  const char *code = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      fputs(errors_usage, stdout);
      return CLI_OK;
    } else if (!strcmp(argv[i], "--json")) {
      json = 1;
    } else if (argv[i][0] == '-' || code) {
      cli_error("unexpected argument '%s'; see 'vastrack errors --help'", argv[i]);
      return CLI_USAGE;
    } else {
      code = argv[i];
    }
  }
  if (code) {
    char *end;
    long c = strtol(code, &end, 10);
    if (*end || end == code) {
      cli_error("'%s' is not an error code", code);
      return CLI_USAGE;
    }
    const vast_iab_error *e = vast_iab_error_find((int)c);
    if (!e) {
      cli_error("%ld is not an IAB VAST error code; see 'vastrack errors'", c);
      return CLI_FINDINGS;
    }
    if (json) {
      print_json(e, 1);
      putchar('\n');
    } else {
      print_text(e);
    }
    return CLI_OK;
  }
  if (json) putchar('[');
  for (size_t i = 0; i < vast_iab_error_count(); i++) {
    if (json) print_json(vast_iab_error_at(i), i == 0);
    else print_text(vast_iab_error_at(i));
  }
  if (json) fputs("]\n", stdout);
  return CLI_OK;
}
