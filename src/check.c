/*
 * check.c: the options and rule policy shared by `vastrack validate` and
 * `vastrack audit` (check.h). One table lists every option of both; the
 * entries one command lacks are left out of its copy, so each --help shows
 * exactly what that command accepts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "opts.h"

void check_free(check_opts *o) {
  for (size_t i = 0; i < o->n_disabled; i++)
    free((char *)o->disabled[i]);
  free(o->disabled);
  vast_validate_config_free(o->cfg);
}

/* Reads a whole small file; NULL (after printing) on failure. */
static char *slurp_config(const char *path, size_t *len, int quiet_missing) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (!quiet_missing) cli_error("cannot open '%s': %s", path, strerror(errno));
    return NULL;
  }
  char *buf = malloc(65537);
  size_t n = buf ? fread(buf, 1, 65537, f) : 0;
  int bad = ferror(f);
  fclose(f);
  if (!buf || bad || n > 65536) {
    cli_error("cannot read '%s': %s", path,
              !buf  ? "out of memory"
              : bad ? "read error"
                    : "larger than 64 KiB");
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

/*
 * The policy: --config FILE (or ./.vastrack.toml unless --no-config), then
 * each --rule; a profile from the file applies unless --profile was given.
 * Returns 0, or -1 after printing the error.
 */
static int load_policy(check_opts *o, const cli_list *rules) {
  o->cfg = vast_validate_config_new();
  if (!o->cfg) {
    cli_error("out of memory");
    return -1;
  }
  const char *path = o->config_file ? o->config_file : o->no_config ? NULL : ".vastrack.toml";
  vast_error err;
  if (path) {
    size_t len = 0;
    char *text = slurp_config(path, &len, !o->config_file);
    if (!text && o->config_file) return -1;
    if (text) {
      vast_err e = vast_validate_config_load(o->cfg, text, len, path, &err);
      free(text);
      if (e != VAST_OK) {
        cli_error("%s", e == VAST_E_NOMEM ? "out of memory" : err.message);
        return -1;
      }
    }
  }
  for (size_t i = 0; i < rules->n; i++)
    if (vast_validate_config_add_rule(o->cfg, rules->v[i], "--rule", &err) != VAST_OK) {
      cli_error("%s", err.message);
      return -1;
    }
  vast_validate_config_apply(o->cfg, &o->vo, o->profile_set);
  return 0;
}

/* Adds the comma-separated ids in s; returns -1 (after printing) on an unknown id. */
static int add_disabled(check_opts *o, const char *s) {
  while (*s) {
    size_t n = strcspn(s, ",");
    char *id = strndup(s, n);
    const char **d = realloc(o->disabled, (o->n_disabled + 1) * sizeof *d);
    if (!id || !d) {
      free(id);
      if (d) o->disabled = d;
      cli_error("out of memory");
      return -1;
    }
    o->disabled = d;
    if (!vast_rule_find(id)) {
      cli_error("unknown rule '%s'; see 'vastrack validate --list-rules'", id);
      free(id);
      return -1;
    }
    o->disabled[o->n_disabled++] = id;
    s += n;
    if (*s == ',') s++;
  }
  return 0;
}

static int on_disable(void *ctx, const char *v) {
  return add_disabled(ctx, v);
}

static int on_profile(void *ctx, const char *v) {
  check_opts *o = ctx;
  if (vast_profile_from_name(v, &o->vo.profile) != VAST_OK) {
    cli_error("unknown profile '%s' (web, ctv, ssai, audio)", v);
    return -1;
  }
  o->profile_set = 1;
  return 0;
}

static const cli_choice severities[] = {
    {"info", VAST_SEV_INFO}, {"warning", VAST_SEV_WARNING}, {"error", VAST_SEV_ERROR}, {NULL, 0}};

static const char validate_usage[] =
    "usage: vastrack validate [options] FILE|URL|-...\n"
    "\n"
    "Checks VAST/VMAP tags against the vastrack rules and prints the findings of\n"
    "each input sorted by line, each followed by its fix, then a summary:\n"
    "  file:line:col: severity: message [rule-id, VAST code N]\n"
    "      fix: ...\n"
    "  1 error, 0 warnings, 3 notes in file (profile web)\n"
    "Colour on a terminal only (NO_COLOR switches it off).\n";

static const char validate_epilog[] =
    "exit status: 0 no error-severity finding, 1 error findings, 2 usage,\n"
    "3 an input is not VAST (not XML, wrong root, unsupported version), 4 an input\n"
    "could not be read\n";

static const char audit_usage[] =
    "usage: vastrack audit [options] FILE|DIR|URL|-...\n"
    "\n"
    "One row per tag: tag, version, ad_type, ads, impressions, events_present,\n"
    "events_missing, wrapper_hops, ctv_compatible, ctv_reason, errors, warnings,\n"
    "issues (--csv; --json has the same in camelCase, with lists as arrays). The\n"
    "terminal table shows the main columns in 120 columns.\n"
    "A DIR argument audits every *.xml file below it (sorted).\n";

static const char audit_epilog[] =
    "wrapper_hops is 0 for InLine-only tags; without --resolve 1 for a Wrapper (the\n"
    "chain beyond it is not followed), with --resolve the Wrapper levels of the\n"
    "longest chain (wrapper-a -> wrapper-b -> InLine is 2; a chain that failed counts\n"
    "the levels it reached). ctv_compatible is yes when the ctv profile finds no error\n"
    "and there is an ad to play; ctv_reason says why not.\n"
    "exit status: 0 no tag has errors, 1 some tag has errors or does not parse,\n"
    "2 usage, 4 an input could not be read\n";

/* Which command an entry of the table belongs to. */
enum { V = 1, A = 2, VA = 3 };

int check_parse(int argc, char **argv, check_opts *o, int audit) {
  memset(o, 0, sizeof *o);
  vast_validate_options_init(&o->vo);
  vast_resolve_opts_init(&o->ro);
  vast_probe_check_opts_init(&o->pco); /* --probe (vastrack/probe.h) */
  o->pco.probe.policy = cli_net_policy();
  o->ro.policy = cli_net_policy(); /* issue 12: every request under the command's policy */
  long timeout = -1;
  cli_list rules = {0};
  const struct {
    unsigned char which;
    cli_opt opt;
  } all[] = {
      {VA, CLI_CALL("profile", "P", on_profile, o,
                    audit ? "web (default), ctv, ssai or audio (errors/warnings/issues)"
                          : "web (default), ctv, ssai or audio")},
      {V, CLI_FLAG("json", o->json, "one JSON object per input (JSON lines)")},
      {V, CLI_FLAG("sarif", o->sarif, "one SARIF 2.1.0 log for all inputs")},
      {A, CLI_FLAG("csv", o->csv, "RFC 4180 CSV with a header row")},
      {A, CLI_FLAG("json", o->json, "a JSON array of row objects")},
      {VA, CLI_CALL("disable", "IDS", on_disable, o,
                    "switch off rules (comma-separated ids; repeatable)")},
      {VA, CLI_LIST("rule", "ID=LEVEL", rules,
                    audit ? "set a rule's severity (repeatable; see 'validate --help')"
                          : "set a rule's severity: off, info, warning or error\n"
                            "(repeatable; wins over the config file)")},
      {VA, CLI_STRING("config", "FILE", o->config_file,
                      audit ? "profile and rule levels from FILE (default ./.vastrack.toml)"
                            : "read profile and rule levels from FILE (a TOML subset, see\n"
                              "docs/validate.md); default ./.vastrack.toml when present")},
      {VA, CLI_FLAG("no-config", o->no_config, "do not read ./.vastrack.toml")},
      {V, CLI_CHOICE("min-severity", "S", o->vo.min_severity, severities, CLI_OPT_NOCASE,
                     "report only info|warning|error and above (default info)")},
      {V, CLI_FLAG("all", o->all,
                   "list every finding (repeated findings of a rule are\n"
                   "otherwise collapsed into one line with a count)")},
      {V, CLI_FLAG("list-rules", o->list_rules,
                   "print every rule with its severity in the profile and exit\n"
                   "(--markdown: the table of docs/validate.md, all profiles)")},
      {V, CLI_FLAG("markdown", o->markdown, "with --list-rules: the Markdown table")},
      {VA, CLI_FLAG("resolve", o->resolve,
                    audit ? "follow each Wrapper's chain (files from disk, URLs over\n"
                            "HTTP): wrapper_hops becomes the real count, chain\n"
                            "failures count as findings (see 'vastrack validate --help'),\n"
                            "impressions and events are those of the merged chain"
                          : "follow each Wrapper's chain (relative VASTAdTagURIs of a FILE\n"
                            "are read from disk next to it, URLs are fetched) and report\n"
                            "wrapper-limit, wrapper-depth (over 5 Wrappers), wrapper-loop,\n"
                            "wrapper-unavailable (301), wrapper-no-ad (303),\n"
                            "wrapper-response-invalid (100-102), wrapper-refused (300),\n"
                            "wrapper-category-blocked (205)")},
      {VA, CLI_INT("max-wrappers", "N", o->ro.max_wrappers, 0, 1000000,
                   "Wrappers followed per ad with --resolve (default 5)")},
      {VA, CLI_INT("timeout", "MS", timeout, 0, 1000000,
                   "per request with --resolve (default 8000 first, 4000 after)")},
      {VA, CLI_FLAG("probe", o->probe,
                    audit ? "also probe the media files (see 'vastrack validate --help')"
                          : "also probe every MediaFile/Mezzanine with libavformat (ranged\n"
                            "reads) and report the probe-* rules: real duration vs\n"
                            "Duration (202), type/codec/size/bitrate vs the file, CTV\n"
                            "codec and ceilings, not fast-start, unreachable (401) or not\n"
                            "media (405); with --resolve also the media of the InLines\n"
                            "reached through each Wrapper (reported on the Wrapper);\n"
                            "see docs/probe.md")},
      {VA, CLI_DOUBLE("duration-tolerance", "S", o->pco.duration_tolerance, 0, 3600, 0,
                      audit ? "with --probe (default 0.5 s)"
                            : "seconds the real duration may differ from <Duration>\n"
                              "with --probe (default 0.5)")},
  };
  cli_opt table[sizeof all / sizeof all[0] + 1];
  size_t nt = 0;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (all[i].which & (audit ? A : V)) table[nt++] = all[i].opt;
  memset(&table[nt], 0, sizeof table[nt]); /* CLI_END */
  const cli_cmd cmd = {audit ? "audit" : "validate", audit ? audit_usage : validate_usage, table,
                       audit ? audit_epilog : validate_epilog};
  int n = cli_opts_parse(&cmd, argc, argv);
  if (n >= 0 && timeout >= 0) o->ro.first_timeout_ms = o->ro.hop_timeout_ms = timeout;
  if (n >= 0 && o->json + o->sarif + o->csv > 1) {
    cli_error("choose one output format");
    n = CLI_OPTS_USAGE;
  }
  o->vo.disabled = o->disabled;
  o->vo.n_disabled = o->n_disabled;
  if (n >= 0 && load_policy(o, &rules) != 0) n = CLI_OPTS_USAGE;
  if (n == 0 && !o->list_rules) {
    cli_opts_help(&cmd, stderr);
    n = CLI_OPTS_USAGE;
  }
  cli_opts_free(&cmd);
  return n;
}

vast_chain *check_resolve_input(const check_opts *o, const char *name, const char *buf, size_t len,
                                const vast_doc *doc) {
  const vast_vast *vv = o->resolve ? vast_doc_vast(doc) : NULL;
  int wrappers = 0;
  for (size_t i = 0; vv && i < vv->n_ads; i++)
    if (vv->ads[i].kind == VAST_AD_WRAPPER) wrappers = 1;
  if (!wrappers) return NULL;
  vast_chain *c = NULL;
  vast_err e = vast_resolve_buffer(buf, len, strcmp(name, "-") ? name : NULL, &o->ro, &c, NULL);
  if (!c) cli_error("cannot resolve '%s': %s", name, vast_strerror(e));
  return c;
}
