/*
 * cmd-inspect.c: `vastrack inspect`, the parsed model of one tag.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"

static const char usage_text[] =
    "usage: vastrack inspect [--json] FILE|URL|-\n"
    "\n"
    "Parses a VAST 1.0-4.3 or VMAP document and prints its model: a readable\n"
    "tree by default, or with --json the stable schema of docs/json.md.\n";

int cmd_inspect(int argc, char **argv) {
  int json = 0;
  const cli_opt table[] = {
      CLI_FLAG("json", json, "the model as JSON (docs/json.md) instead of a tree"), CLI_END};
  const cli_cmd cmd = {"inspect", usage_text, table,
                       "exit status: 0 parsed, 2 usage, 3 not valid VAST/VMAP (position on "
                       "stderr)\n"};
  int n = cli_opts_parse(&cmd, argc, argv);
  if (n < 0) return cli_opts_exit(n);
  if (n != 1) {
    if (n > 1)
      cli_error("inspect: one input only");
    else
      cli_opts_help(&cmd, stderr);
    return CLI_USAGE;
  }
  const char *input = argv[1];
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
