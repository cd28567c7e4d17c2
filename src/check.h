/*
 * check.h: what `vastrack validate` and `vastrack audit` share: their options
 * (one table, src/check.c), the rule policy built from them (config file,
 * --rule, --disable, --profile) and the --resolve of an input's wrapper chain.
 */
#ifndef VASTRACK_CLI_CHECK_H
#define VASTRACK_CLI_CHECK_H

#include "cli.h"

typedef struct check_opts {
  vast_validate_options vo;
  const char **disabled; /* --disable ids, malloc'd */
  size_t n_disabled;
  vast_validate_config *cfg; /* --config / .vastrack.toml, then --rule */
  const char *config_file;
  int no_config, profile_set, all;
  int json, sarif, csv, list_rules, markdown;
  int resolve;
  vast_resolve_opts ro;
  int probe; /* --probe: vast_probe_check after validation (vastrack/probe.h) */
  vast_probe_check_opts pco;
} check_opts;

/*
 * check_parse: the options of validate (audit 0) or audit (audit 1) into *o,
 * then the policy (check_opts.vo). Returns the number of operands (moved to
 * argv[1..n]), or CLI_OPTS_HELP / CLI_OPTS_USAGE (printed). Call check_free
 * in every case.
 */
int check_parse(int argc, char **argv, check_opts *o, int audit);

void check_free(check_opts *o);

/*
 * --resolve: the chain of a parsed input that has a Wrapper (NULL otherwise, or
 * when resolution could not start). A FILE resolves relative URIs from disk
 * next to it, a URL against itself; standard input has no base.
 */
vast_chain *check_resolve_input(const check_opts *o, const char *name, const char *buf, size_t len,
                                const vast_doc *doc);

#endif
