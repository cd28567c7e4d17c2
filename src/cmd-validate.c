/*
 * cmd-validate.c: `vastrack validate`, a thin loop over vast_doc_parse +
 * vast_validate; with --resolve, the wrapper chain of each input is resolved
 * (vast_resolve_buffer) and handed over as vast_validate_options.chain. The
 * options and the rule policy are shared with audit (check.c).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "opts.h"

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
    cli_md_cell(r->summary);
    fputs(" | ", stdout);
    cli_md_cell(r->fix);
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
  check_opts o;
  int n = check_parse(argc, argv, &o, 0);
  if (n < 0) {
    check_free(&o);
    return cli_opts_exit(n);
  }
  if (o.list_rules) {
    if (o.markdown)
      list_rules_markdown();
    else
      list_rules(&o.vo);
    check_free(&o);
    return CLI_OK;
  }
  int any_err = 0, not_vast = 0, io = 0, sarif_state = 0;
  vast_text_options to;
  vast_text_options_init(&to);
  to.all = o.all;
  to.color = want_colour();
  if (o.sarif) vast_sarif_begin(o.vo.profile, cli_write_file, stdout, &sarif_state);
  for (int i = 1; i <= n; i++) {
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
      o.vo.chain = check_resolve_input(&o, name, buf, len, doc);
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
  check_free(&o);
  if (io) return CLI_FAIL;
  if (not_vast) return CLI_NOT_VAST;
  return any_err ? CLI_FINDINGS : CLI_OK;
}
