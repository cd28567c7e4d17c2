/*
 * cmd-validate.c: `vastrack validate` and `vastrack audit`, both thin loops
 * over vast_doc_parse + vast_validate / vast_audit_doc; with --resolve, the
 * wrapper chain of each input is resolved (vast_resolve_buffer) and handed to
 * them as vast_validate_options.chain.
 */
static const char validate_usage[] =
    "usage: vastrack validate [options] FILE|URL|-...\n"
    "\n"
    "Checks VAST/VMAP tags against the vastrack rules and prints the findings of\n"
    "each input sorted by line, each followed by its fix, then a summary:\n"
    "  file:line:col: severity: message [rule-id, VAST code N]\n"
    "      fix: ...\n"
    "  1 error, 0 warnings, 3 notes in file (profile web)\n"
    "Colour on a terminal only (NO_COLOR switches it off).\n"
    "\n"
    "options:\n"
    "  --profile P        web (default), ctv, ssai or audio\n"
    "  --json             one JSON object per input (JSON lines)\n"
    "  --sarif            one SARIF 2.1.0 log for all inputs\n"
    "  --disable IDS      switch off rules (comma-separated ids; repeatable)\n"
    "  --rule ID=LEVEL    set a rule's severity: off, info, warning or error\n"
    "                     (repeatable; wins over the config file)\n"
    "  --config FILE      read profile and rule levels from FILE (a TOML subset, see\n"
    "                     docs/validate.md); default ./.vastrack.toml when present\n"
    "  --no-config        do not read ./.vastrack.toml\n"
    "  --min-severity S   report only info|warning|error and above (default info)\n"
    "  --all              list every finding (repeated findings of a rule are\n"
    "                     otherwise collapsed into one line with a count)\n"
    "  --list-rules       print every rule with its severity in the profile and exit\n"
    "                     (--markdown: the table of docs/validate.md, all profiles)\n"
    "  --resolve          follow each Wrapper's chain (relative VASTAdTagURIs of a FILE\n"
    "                     are read from disk next to it, URLs are fetched) and report\n"
    "                     wrapper-limit, wrapper-depth (over 5 Wrappers), wrapper-loop,\n"
    "                     wrapper-unavailable (301), wrapper-no-ad (303),\n"
    "                     wrapper-response-invalid (100-102), wrapper-refused (300),\n"
    "                     wrapper-category-blocked (205)\n"
    "  --max-wrappers N   Wrappers followed per ad with --resolve (default 5)\n"
    "  --timeout MS       per request with --resolve (default 8000 first, 4000 after)\n"
    "  --probe            also probe every MediaFile/Mezzanine with libavformat (ranged\n"
    "                     reads) and report the probe-* rules: real duration vs\n"
    "                     Duration (202), type/codec/size/bitrate vs the file, CTV\n"
    "                     codec and ceilings, not fast-start, unreachable (401) or not\n"
    "                     media (405); with --resolve also the media of the InLines\n"
    "                     reached through each Wrapper (reported on the Wrapper);\n"
    "                     see docs/probe.md\n"
    "  --duration-tolerance S  seconds the real duration may differ from <Duration>\n"
    "                     with --probe (default 0.5)\n"
    "  -h, --help         this text\n"
    "\n"
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
    "A DIR argument audits every *.xml file below it (sorted).\n"
    "\n"
    "options:\n"
    "  --profile P        web (default), ctv, ssai or audio (errors/warnings/issues)\n"
    "  --csv              RFC 4180 CSV with a header row\n"
    "  --json             a JSON array of row objects\n"
    "  --disable IDS      switch off rules (comma-separated ids; repeatable)\n"
    "  --rule ID=LEVEL    set a rule's severity (repeatable; see 'validate --help')\n"
    "  --config FILE      profile and rule levels from FILE (default ./.vastrack.toml)\n"
    "  --no-config        do not read ./.vastrack.toml\n"
    "  --resolve          follow each Wrapper's chain (files from disk, URLs over\n"
    "                     HTTP): wrapper_hops becomes the real count, chain\n"
    "                     failures count as findings (see 'vastrack validate --help'),\n"
    "                     impressions and events are those of the merged chain\n"
    "  --max-wrappers N   Wrappers followed per ad with --resolve (default 5)\n"
    "  --timeout MS       per request with --resolve (default 8000 first, 4000 after)\n"
    "  --probe            also probe the media files (see 'vastrack validate --help')\n"
    "  --duration-tolerance S  with --probe (default 0.5 s)\n"
    "  -h, --help         this text\n"
    "\n"
    "wrapper_hops is 0 for InLine-only tags; without --resolve 1 for a Wrapper (the\n"
    "chain beyond it is not followed), with --resolve the Wrapper levels of the\n"
    "longest chain (wrapper-a -> wrapper-b -> InLine is 2; a chain that failed counts\n"
    "the levels it reached). ctv_compatible is yes when the ctv profile finds no error\n"
    "and there is an ad to play; ctv_reason says why not.\n"
    "exit status: 0 no tag has errors, 1 some tag has errors or does not parse,\n"
    "2 usage, 4 an input could not be read\n";

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"

/* Options shared by validate and audit. */
typedef struct opts {
  vast_validate_options vo;
  const char **disabled;
  size_t n_disabled;
  vast_validate_config *cfg; /* --config / .vastrack.toml, then --rule */
  const char *config_file;
  int no_config, profile_set, all;
  const char **rules; /* --rule specs, applied after the config file */
  size_t n_rules;
  int json, sarif, csv, list_rules, markdown;
  int resolve;
  vast_resolve_opts ro;
  int probe; /* --probe: vast_probe_check after validation (vastrack/probe.h) */
  vast_probe_check_opts pco;
} opts;

static void opts_free(opts *o) {
  for (size_t i = 0; i < o->n_disabled; i++)
    free((char *)o->disabled[i]);
  free(o->disabled);
  free(o->rules);
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
static int load_policy(opts *o) {
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
  for (size_t i = 0; i < o->n_rules; i++)
    if (vast_validate_config_add_rule(o->cfg, o->rules[i], "--rule", &err) != VAST_OK) {
      cli_error("%s", err.message);
      return -1;
    }
  vast_validate_config_apply(o->cfg, &o->vo, o->profile_set);
  return 0;
}

/* Adds the comma-separated ids in s; returns -1 (after printing) on an unknown id. */
static int add_disabled(opts *o, const char *s) {
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

/*
 * Parses options into *o; returns the index of the first operand, or -1 for
 * --help (already printed) and -2 for bad usage (already reported).
 */
static int parse_opts(int argc, char **argv, opts *o, const char *usage, int audit) {
  memset(o, 0, sizeof *o);
  vast_validate_options_init(&o->vo);
  vast_resolve_opts_init(&o->ro);
  vast_probe_check_opts_init(&o->pco); /* --probe (vastrack/probe.h) */
  o->pco.probe.policy = cli_net_policy();
  o->ro.policy = cli_net_policy(); /* issue 12: every request under the command's policy */
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) {
      i++;
      break;
    }
    if (a[0] != '-' || !strcmp(a, "-")) break;
    const char *val = NULL;
    if (!strcmp(a, "--profile") || !strcmp(a, "--disable") || !strcmp(a, "--min-severity") ||
        !strcmp(a, "--max-wrappers") || !strcmp(a, "--timeout") || !strcmp(a, "--rule") ||
        !strcmp(a, "--config") || !strcmp(a, "--duration-tolerance")) {
      if (i + 1 >= argc) {
        cli_error("option '%s' needs a value", a);
        return -2;
      }
      val = argv[++i];
    } else if (!strncmp(a, "--profile=", 10) || !strncmp(a, "--disable=", 10)) {
      val = a + 10;
    } else if (!strncmp(a, "--rule=", 7)) {
      val = a + 7;
    } else if (!strncmp(a, "--config=", 9)) {
      val = a + 9;
    }
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(usage, stdout);
      return -1;
    } else if (!strcmp(a, "--profile") || !strncmp(a, "--profile=", 10)) {
      if (vast_profile_from_name(val, &o->vo.profile) != VAST_OK) {
        cli_error("unknown profile '%s' (web, ctv, ssai, audio)", val);
        return -2;
      }
      o->profile_set = 1;
    } else if (!strcmp(a, "--rule") || !strncmp(a, "--rule=", 7)) {
      const char **r = realloc(o->rules, (o->n_rules + 1) * sizeof *r);
      if (!r) {
        cli_error("out of memory");
        return -2;
      }
      o->rules = r;
      o->rules[o->n_rules++] = val;
    } else if (!strcmp(a, "--config") || !strncmp(a, "--config=", 9)) {
      o->config_file = val;
    } else if (!strcmp(a, "--no-config")) {
      o->no_config = 1;
    } else if (!audit && !strcmp(a, "--all")) {
      o->all = 1;
    } else if (!strcmp(a, "--disable") || !strncmp(a, "--disable=", 10)) {
      if (add_disabled(o, val) != 0) return -2;
    } else if (!audit && !strcmp(a, "--min-severity")) {
      if (!strcasecmp(val, "info"))
        o->vo.min_severity = VAST_SEV_INFO;
      else if (!strcasecmp(val, "warning"))
        o->vo.min_severity = VAST_SEV_WARNING;
      else if (!strcasecmp(val, "error"))
        o->vo.min_severity = VAST_SEV_ERROR;
      else {
        cli_error("unknown severity '%s' (info, warning, error)", val);
        return -2;
      }
    } else if (!strcmp(a, "--json")) {
      o->json = 1;
    } else if (!audit && !strcmp(a, "--sarif")) {
      o->sarif = 1;
    } else if (audit && !strcmp(a, "--csv")) {
      o->csv = 1;
    } else if (!audit && !strcmp(a, "--list-rules")) {
      o->list_rules = 1;
    } else if (!audit && !strcmp(a, "--markdown")) {
      o->markdown = 1;
    } else if (!strcmp(a, "--resolve")) {
      o->resolve = 1;
    } else if (!strcmp(a, "--probe")) {
      o->probe = 1;
    } else if (!strcmp(a, "--duration-tolerance")) {
      char *end;
      double t = strtod(val, &end);
      if (!*val || *end || !(t >= 0 && t <= 3600)) {
        cli_error("%s: '%s' is not a number of seconds", a, val);
        return -2;
      }
      o->pco.duration_tolerance = t;
    } else if (!strcmp(a, "--max-wrappers") || !strcmp(a, "--timeout")) {
      char *end;
      long n = strtol(val, &end, 10);
      if (!*val || *end || n < 0 || n > 1000000) {
        cli_error("%s: '%s' is not a non-negative number", a, val);
        return -2;
      }
      if (a[2] == 'm') {
        o->ro.max_wrappers = (unsigned)n;
      } else {
        o->ro.first_timeout_ms = n;
        o->ro.hop_timeout_ms = n;
      }
    } else {
      cli_error("unknown option '%s'; see 'vastrack %s --help'", a, argv[0]);
      return -2;
    }
  }
  if (o->json + o->sarif + o->csv > 1) {
    cli_error("choose one output format");
    return -2;
  }
  o->vo.disabled = o->disabled;
  o->vo.n_disabled = o->n_disabled;
  if (load_policy(o) != 0) return -2;
  if (i >= argc && !o->list_rules) {
    fputs(usage, stderr);
    return -2;
  }
  return i;
}

/*
 * --resolve: the chain of a parsed input that has a Wrapper (NULL otherwise, or
 * when resolution could not start). A FILE resolves relative URIs from disk
 * next to it, a URL against itself; standard input has no base.
 */
static vast_chain *resolve_input(const opts *o, const char *name, const char *buf, size_t len,
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

/* ---- validate ------------------------------------------------------------ */

/* Text for a Markdown table cell: < > & as entities, | escaped. */
static void md_cell(const char *s) {
  for (; *s; s++) {
    if (*s == '<')
      fputs("&lt;", stdout);
    else if (*s == '>')
      fputs("&gt;", stdout);
    else if (*s == '|')
      fputs("\\|", stdout);
    else
      putchar(*s);
  }
}

/* The rule table of docs/validate.md, generated from the code. */
static void list_rules_markdown(void) {
  printf("| rule | category | web | ctv | ssai | audio | IAB | checks | fix |\n"
         "|---|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < vast_rule_count(); i++) {
    const vast_rule *r = vast_rule_at(i);
    printf("| <a id=\"%s\"></a>`%s` | %s |", r->id, r->id, r->category);
    for (int p = 0; p < VAST_PROFILE__COUNT; p++)
      printf(" %s |", vast_severity_name(r->severity[p]));
    if (r->iab_code)
      printf(" %d | ", r->iab_code);
    else
      printf(" - | ");
    md_cell(r->summary);
    fputs(" | ", stdout);
    md_cell(r->fix);
    fputs(" |\n", stdout);
  }
}

/* Every rule with its severity under the profile and the overrides. */
static void list_rules(const vast_validate_options *vo) {
  printf("%-28s %-8s %-5s %s\n", "rule", "severity", "code", "summary");
  for (size_t i = 0; i < vast_rule_count(); i++) {
    const vast_rule *r = vast_rule_at(i);
    vast_severity sev = r->severity[vo->profile];
    const char *mark = "";
    for (size_t k = 0; k < vo->n_overrides; k++)
      if (!strcmp(vo->overrides[k].rule_id, r->id)) sev = vo->overrides[k].severity, mark = "*";
    char sv[16];
    snprintf(sv, sizeof sv, "%s%s", vast_severity_name(sev), mark);
    printf("%-28s %-8s %-5d %s\n", r->id, sv, r->iab_code, r->summary);
  }
  if (vo->n_overrides) printf("(* set by --rule or the config file)\n");
}

/* Colour only on a terminal, and never when NO_COLOR is set (no-color.org). */
static int want_colour(void) {
  const char *nc = getenv("NO_COLOR");
  return isatty(STDOUT_FILENO) && !(nc && *nc);
}

int cmd_validate(int argc, char **argv) {
  opts o;
  int first = parse_opts(argc, argv, &o, validate_usage, 0);
  if (first < 0) {
    opts_free(&o);
    return first == -1 ? CLI_OK : CLI_USAGE;
  }
  if (o.list_rules) {
    if (o.markdown)
      list_rules_markdown();
    else
      list_rules(&o.vo);
    opts_free(&o);
    return CLI_OK;
  }
  int any_err = 0, not_vast = 0, io = 0, sarif_state = 0;
  vast_text_options to;
  vast_text_options_init(&to);
  to.all = o.all;
  to.color = want_colour();
  if (o.sarif) vast_sarif_begin(o.vo.profile, cli_write_file, stdout, &sarif_state);
  for (int i = first; i < argc; i++) {
    const char *name = argv[i];
    char *buf = NULL;
    size_t len = 0;
    if (cli_read_input(name, &buf, &len) != 0) {
      io = 1;
      continue;
    }
    vast_doc *doc = NULL;
    vast_error perr;
    memset(&perr, 0, sizeof perr);
    vast_findings *list = NULL;
    vast_err e = vast_doc_parse(buf, len, NULL, &doc, &perr);
    if (e == VAST_E_NOMEM) {
      cli_error("out of memory parsing '%s'", name);
      free(buf);
      io = 1;
      continue;
    }
    if (e != VAST_OK) {
      not_vast = 1;
      e = vast_findings_from_parse_error(&perr, &list);
    } else {
      o.vo.chain = resolve_input(&o, name, buf, len, doc);
      e = vast_validate_list(doc, &o.vo, &list);
      if (e == VAST_OK && o.probe)
        e = vast_probe_check(doc, strcmp(name, "-") ? name : NULL, &o.vo, &o.pco, list);
      vast_chain_free((vast_chain *)o.vo.chain);
      o.vo.chain = NULL;
    }
    if (e != VAST_OK) {
      cli_error("cannot validate '%s': %s", name, vast_strerror(e));
      io = 1;
    } else {
      if (vast_findings_count_severity(list, VAST_SEV_ERROR)) any_err = 1;
      if (o.sarif)
        vast_sarif_add(list, name, cli_write_file, stdout, &sarif_state);
      else if (o.json)
        vast_findings_write_json(list, name, cli_write_file, stdout);
      else
        vast_findings_write_text_opts(list, name, &to, cli_write_file, stdout);
    }
    vast_findings_free(list);
    vast_doc_free(doc);
    free(buf);
  }
  if (o.sarif) vast_sarif_end(cli_write_file, stdout, &sarif_state);
  fflush(stdout);
  opts_free(&o);
  if (io) return CLI_FAIL;
  if (not_vast) return CLI_NOT_VAST;
  return any_err ? CLI_FINDINGS : CLI_OK;
}

/* ---- audit --------------------------------------------------------------- */

typedef struct row {
  char *tag;
  vast_audit a;
} row;

typedef struct rows {
  row *r;
  size_t n, cap;
} rows;

static const char *const columns[] = {"tag",
                                      "version",
                                      "ad_type",
                                      "ads",
                                      "impressions",
                                      "events_present",
                                      "events_missing",
                                      "wrapper_hops",
                                      "ctv_compatible",
                                      "ctv_reason",
                                      "errors",
                                      "warnings",
                                      "issues"};
#define NCOL (sizeof columns / sizeof columns[0])
/* The same columns in JSON (camelCase, docs/json.md). */
static const char *const json_keys[NCOL] = {
    "tag",           "version",       "adType",      "ads",           "impressions",
    "eventsPresent", "eventsMissing", "wrapperHops", "ctvCompatible", "ctvReason",
    "errors",        "warnings",      "issues"};

/* Column c of a row as text in tmp (or a pointer into the row). */
static const char *cell(const row *r, size_t c, char *tmp, size_t cap) {
  const vast_audit *a = &r->a;
  switch (c) {
  case 0:
    return r->tag;
  case 1:
    return a->version;
  case 2:
    return a->ad_type ? a->ad_type : "";
  case 3:
    snprintf(tmp, cap, "%zu", a->ads);
    return tmp;
  case 4:
    snprintf(tmp, cap, "%zu", a->impressions);
    return tmp;
  case 5:
    return a->events_present;
  case 6:
    return a->events_missing;
  case 7:
    snprintf(tmp, cap, "%d", a->wrapper_hops);
    return tmp;
  case 8:
    return a->ctv_compatible ? "yes" : "no";
  case 9:
    return a->ctv_reason;
  case 10:
    snprintf(tmp, cap, "%zu", a->errors);
    return tmp;
  case 11:
    snprintf(tmp, cap, "%zu", a->warnings);
    return tmp;
  default:
    return a->issues;
  }
}

/* One CSV cell: RFC 4180 quoting, and text a spreadsheet would run as a
 * formula neutralised (tag names and messages come from the tags). */
static void csv_field(const char *s) {
  vast_csv_write_cell(s, cli_write_file, stdout);
}

/* "a b c" as ["a","b","c"]. */
static void json_words(const char *s) {
  putchar('[');
  int first = 1;
  while (*s) {
    size_t n = strcspn(s, " ");
    if (n) {
      char w[128];
      snprintf(w, sizeof w, "%.*s", (int)(n < 127 ? n : 127), s);
      if (!first) putchar(',');
      cli_json_str(stdout, w);
      first = 0;
    }
    s += n;
    while (*s == ' ')
      s++;
  }
  putchar(']');
}

/* "rule(3); other(1); ..." as [{"rule":"rule","count":3},...]; the "..." of a cut list is dropped.
 */
static void json_issues(const char *s) {
  putchar('[');
  int first = 1;
  while (*s) {
    size_t n = strcspn(s, ";");
    const char *open = memchr(s, '(', n);
    if (open) {
      char id[128];
      snprintf(id, sizeof id, "%.*s", (int)(open - s < 127 ? open - s : 127), s);
      fputs(first ? "{\"rule\":" : ",{\"rule\":", stdout);
      cli_json_str(stdout, id);
      printf(",\"count\":%ld}", strtol(open + 1, NULL, 10));
      first = 0;
    }
    s += n;
    while (*s == ';' || *s == ' ')
      s++;
  }
  putchar(']');
}

static void emit_row(const opts *o, const row *r, size_t index) {
  char tmp[32];
  if (o->csv) {
    for (size_t c = 0; c < NCOL; c++) {
      if (c) putchar(',');
      csv_field(cell(r, c, tmp, sizeof tmp));
    }
    fputs("\r\n", stdout);
  } else if (o->json) {
    fputs(index ? ",\n{" : "{", stdout);
    for (size_t c = 0; c < NCOL; c++) {
      printf("%s\"%s\":", c ? "," : "", json_keys[c]);
      switch (c) {
      case 3:
      case 4:
      case 7:
      case 10:
      case 11:
        fputs(cell(r, c, tmp, sizeof tmp), stdout);
        break;
      case 1: /* null when unknown */
        if (r->a.version[0])
          cli_json_str(stdout, r->a.version);
        else
          fputs("null", stdout);
        break;
      case 5:
        json_words(r->a.events_present);
        break;
      case 6:
        json_words(r->a.events_missing);
        break;
      case 8:
        fputs(r->a.ctv_compatible ? "true" : "false", stdout);
        break;
      case 9:
        if (r->a.ctv_reason[0])
          cli_json_str(stdout, r->a.ctv_reason);
        else
          fputs("null", stdout);
        break;
      case 12:
        json_issues(r->a.issues);
        break;
      default:
        cli_json_str(stdout, cell(r, c, tmp, sizeof tmp));
      }
    }
    putchar('}');
  }
}

/* --probe: the probe findings folded into the audit row (vastrack/probe.h). */
static vast_err probe_audit(opts *o, const char *name, const vast_doc *doc, vast_audit *a) {
  vast_findings *l = NULL;
  vast_err e = vast_validate_list(doc, &o->vo, &l);
  size_t from = vast_findings_count(l);
  if (e == VAST_OK) e = vast_probe_check(doc, strcmp(name, "-") ? name : NULL, &o->vo, &o->pco, l);
  if (e == VAST_OK) e = vast_audit_add_probe(a, l, from);
  vast_findings_free(l);
  return e;
}

static int audit_one(opts *o, const char *name, rows *rs, size_t *count, int *any_err) {
  char *buf = NULL;
  size_t len = 0;
  if (cli_read_input(name, &buf, &len) != 0) return -1;
  row r;
  memset(&r, 0, sizeof r);
  vast_doc *doc = NULL;
  vast_error perr;
  memset(&perr, 0, sizeof perr);
  vast_err e = vast_doc_parse(buf, len, NULL, &doc, &perr);
  if (e == VAST_OK) {
    o->vo.chain = resolve_input(o, name, buf, len, doc);
    e = vast_audit_doc(doc, &o->vo, &r.a);
    if (e == VAST_OK && o->probe) e = probe_audit(o, name, doc, &r.a);
    vast_chain_free((vast_chain *)o->vo.chain);
    o->vo.chain = NULL;
  } else if (e != VAST_E_NOMEM)
    vast_audit_parse_error(&perr, &r.a), e = VAST_OK;
  vast_doc_free(doc);
  free(buf);
  if (e != VAST_OK) {
    cli_error("cannot audit '%s': %s", name, vast_strerror(e));
    return -1;
  }
  if (r.a.errors) *any_err = 1;
  if (o->csv || o->json) {
    r.tag = (char *)name;
    emit_row(o, &r, (*count)++);
    return 0;
  }
  if (rs->n == rs->cap) {
    size_t cap = rs->cap ? rs->cap * 2 : 64;
    row *nr = realloc(rs->r, cap * sizeof *nr);
    if (!nr) return -1;
    rs->r = nr;
    rs->cap = cap;
  }
  r.tag = strdup(name);
  if (!r.tag) return -1;
  rs->r[rs->n++] = r;
  (*count)++;
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.xml file below dir, sorted, audited in turn. */
static int audit_dir(opts *o, const char *dir, rows *rs, size_t *count, int *any_err) {
  DIR *d = opendir(dir);
  if (!d) {
    cli_error("cannot open directory '%s'", dir);
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 32;
      char **nn = realloc(names, cap * sizeof *nn);
      if (!nn) break;
      names = nn;
    }
    size_t l = strlen(dir) + strlen(de->d_name) + 2;
    names[n] = malloc(l);
    if (!names[n]) break;
    snprintf(names[n], l, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", de->d_name);
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (stat(names[i], &st) == 0 && S_ISDIR(st.st_mode)) {
      if (audit_dir(o, names[i], rs, count, any_err) != 0) rc = -1;
    } else {
      size_t l = strlen(names[i]);
      if (l > 4 && strcasecmp(names[i] + l - 4, ".xml") == 0 &&
          audit_one(o, names[i], rs, count, any_err) != 0)
        rc = -1;
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

/*
 * The terminal table: the columns a person scans, fitted to 120 columns (the
 * tag is shortened from the left, issues cut at the right); events and the
 * full issue list are in --csv and --json.
 */
#define TABLE_WIDTH 120
static const size_t table_cols[] = {0, 1, 2, 3, 4, 7, 8, 10, 11, 12};
static const char *const table_heads[] = {"tag",  "version", "type",   "ads",      "imps",
                                          "hops", "ctv",     "errors", "warnings", "issues"};
#define NTAB (sizeof table_cols / sizeof table_cols[0])

static void print_table(const rows *rs) {
  size_t w[NTAB];
  char tmp[32];
  for (size_t c = 0; c < NTAB; c++)
    w[c] = strlen(table_heads[c]);
  for (size_t i = 0; i < rs->n; i++)
    for (size_t c = 0; c + 1 < NTAB; c++) {
      size_t l = vast_text_escape(cell(&rs->r[i], table_cols[c], tmp, sizeof tmp), NULL, 0);
      if (l > w[c]) w[c] = l;
    }
  size_t fixed = 0; /* everything but tag and issues, with the 2-space gaps */
  for (size_t c = 1; c + 1 < NTAB; c++)
    fixed += w[c] + 2;
  size_t room = TABLE_WIDTH - fixed - 2;       /* tag + issues */
  size_t tag_max = room > 52 ? room - 32 : 20; /* leave issues at least 30 */
  if (w[0] > tag_max) w[0] = tag_max;
  size_t iw = TABLE_WIDTH > fixed + w[0] + 2 ? TABLE_WIDTH - fixed - w[0] - 2 : 10;
  for (size_t c = 0; c + 1 < NTAB; c++)
    printf("%-*s  ", (int)w[c], table_heads[c]);
  printf("%s\n", table_heads[NTAB - 1]);
  for (size_t i = 0; i < rs->n; i++)
    for (size_t c = 0; c < NTAB; c++) {
      char safe[1200];
      vast_text_escape(cell(&rs->r[i], table_cols[c], tmp, sizeof tmp), safe, sizeof safe);
      const char *shown = *safe ? safe : "-";
      size_t l = strlen(shown);
      if (c == 0 && l > w[0]) /* keep the file name: cut the directories */
        printf("...%-*s  ", (int)w[0] - 3, shown + l - (w[0] - 3));
      else if (c + 1 < NTAB)
        printf("%-*s  ", (int)w[c], shown);
      else if (l > iw)
        printf("%.*s...\n", (int)(iw > 3 ? iw - 3 : 0), shown);
      else
        printf("%s\n", shown);
    }
}

int cmd_audit(int argc, char **argv) {
  opts o;
  int first = parse_opts(argc, argv, &o, audit_usage, 1);
  if (first < 0) {
    opts_free(&o);
    return first == -1 ? CLI_OK : CLI_USAGE;
  }
  rows rs = {0};
  size_t count = 0;
  int any_err = 0, io = 0;
  if (o.csv) {
    for (size_t c = 0; c < NCOL; c++)
      printf("%s%s", c ? "," : "", columns[c]);
    fputs("\r\n", stdout);
  } else if (o.json) {
    putchar('[');
  }
  for (int i = first; i < argc; i++) {
    struct stat st;
    int rc;
    if (strcmp(argv[i], "-") != 0 && !cli_is_url(argv[i]) && stat(argv[i], &st) == 0 &&
        S_ISDIR(st.st_mode))
      rc = audit_dir(&o, argv[i], &rs, &count, &any_err);
    else
      rc = audit_one(&o, argv[i], &rs, &count, &any_err);
    if (rc != 0) io = 1;
  }
  if (o.json)
    fputs("]\n", stdout);
  else if (!o.csv)
    print_table(&rs);
  for (size_t i = 0; i < rs.n; i++)
    free(rs.r[i].tag);
  free(rs.r);
  fflush(stdout);
  opts_free(&o);
  if (io) return CLI_FAIL;
  return any_err ? CLI_FINDINGS : CLI_OK;
}
