/*
 * cmd-inspect.c: `vastrack inspect`, the parsed model of one tag.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
    "usage: vastrack inspect [--json] FILE|URL|-\n"
    "\n"
    "Parses a VAST 1.0-4.3 or VMAP document and prints its model: a readable\n"
    "tree by default, or with --json the stable schema of docs/json.md.\n"
    "\n"
    "exit status: 0 parsed, 2 usage, 3 not valid VAST/VMAP (position on stderr)\n";

int cmd_inspect(int argc, char **argv) {
  int json = 0;
  const char *input = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json")) {
      json = 1;
    } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(usage_text, stdout);
      return CLI_OK;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      cli_error("inspect: unknown option '%s'", argv[i]);
      fputs(usage_text, stderr);
      return CLI_USAGE;
    } else if (!input) {
      input = argv[i];
    } else {
      cli_error("inspect: one input only");
      return CLI_USAGE;
    }
  }
  if (!input) {
    fputs(usage_text, stderr);
    return CLI_USAGE;
  }
  char *buf;
  size_t len;
  if (cli_read_input(input, &buf, &len) != 0) return CLI_FAIL;
  vast_doc *doc;
  vast_error err;
  vast_err rc = vast_doc_parse(buf, len, NULL, &doc, &err);
  free(buf);
  if (rc != VAST_OK) {
    cli_error("%s:%lu:%lu: %s [VAST code %d]", input, err.line, err.column, err.message,
              err.iab_code);
    return rc == VAST_E_NOMEM ? CLI_FAIL : CLI_NOT_VAST;
  }
  rc = json ? vast_doc_write_json(doc, cli_write_file, stdout)
            : vast_doc_write_tree(doc, cli_write_file, stdout);
  vast_doc_free(doc);
  if (rc != VAST_OK) {
    cli_error("cannot write output: %s", vast_strerror(rc));
    return CLI_FAIL;
  }
  return CLI_OK;
}
