/*
 * cli.h: what the subcommands of the vastrack binary share: the dispatch
 * signature, input reading and error reporting. The binary stays thin: every
 * subcommand parses its arguments (opts.h) and calls the library.
 */
#ifndef VASTRACK_CLI_H
#define VASTRACK_CLI_H

#include <stdio.h>
#include <stddef.h>
#include "vastrack.h"

/* Exit codes shared by every subcommand. */
enum { CLI_OK = 0, CLI_FINDINGS = 1, CLI_USAGE = 2, CLI_NOT_VAST = 3, CLI_FAIL = 4 };

typedef int (*cli_cmd_fn)(int argc, char **argv);

/* Subcommands, one per src/cmd-<name>.c. */
int cmd_inspect(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_errors(int argc, char **argv);
int cmd_template(int argc, char **argv);
int cmd_play(int argc, char **argv);
int cmd_resolve(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_tap(int argc, char **argv);
int cmd_ssai(int argc, char **argv);

/* Prints "vastrack: <message>" to stderr (printf-style, no trailing newline needed). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Reads FILE, or standard input for "-", into a malloc'd buffer (*out, *len).
 * http(s):// arguments are fetched (vast_fetch under cli_net_policy()).
 * Returns 0, or -1 after printing the error.
 */
int cli_read_input(const char *arg, char **out, size_t *len);

/* vast_write_fn that writes to a FILE *. */
int cli_write_file(void *ctx, const char *data, size_t len);

/* Writes s to f as a JSON string with its quotes, or null for NULL: the library's
   one escaper (vast_json_write_string; invalid UTF-8 as U+FFFD, controls and DEL
   as \u00XX; docs/json.md). */
void cli_json_str(FILE *f, const char *s);

/* True when s is an http:// or https:// URL. */
int cli_is_url(const char *s);

/* The command's network policy (include/vastrack/net.h), see cli.c:
   allows private addresses until the command says otherwise. Never NULL. */
vast_net_policy *cli_net_policy(void);

/* s (received data: a URL from a tag...) for the terminal, its control characters
   written \xNN (vast_text_escape); malloc'd, free() it; NULL when out of memory. */
char *cli_tty_dup(const char *s);

/* s as a Markdown table cell on stdout: | escaped, < > as entities, line breaks
   as spaces. */
void cli_md_cell(const char *s);

/* "preroll", "midroll", "postroll" for a VAST_BREAKPOS_* value, else "unplaced". */
const char *cli_break_position_name(int position);

/* "VASTAdData", "AdTagURI", "CustomAdData" or "none". */
const char *cli_source_name(vast_source_kind kind);

/* A new session id in buf (cap >= 24): prefix, then seconds and microseconds
   mixed with the process id, in hex. */
void cli_session_id(char *buf, size_t cap, char prefix);

/* A collector URL without its trailing slashes, into buf (cut at cap). */
void cli_base_url(char *buf, size_t cap, const char *url);

#endif
