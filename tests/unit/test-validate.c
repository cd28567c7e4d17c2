/*
 * test-validate.c: the rule engine, its outputs, the IAB table and the template.
 *
 * rules_bad_and_good walks tests/validate/<rule-id>/: bad.xml must yield that
 * rule, good.xml must not (profile from the optional `profile` file). The
 * corpus case states, for every XML file of the shared corpus, how it parses
 * and exactly which error-severity rules the web profile reports.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "harness.h"
#include "jsoncheck.h"
#include "base/jsonw.h" /* internal: the one JSON string escaper */
#include "vastrack.h"

/* ---- helpers ------------------------------------------------------------- */

typedef struct buf {
  char *p;
  size_t n, cap;
} buf;

static int buf_write(void *ctx, const char *data, size_t len) {
  buf *b = ctx;
  if (b->n + len + 1 > b->cap) {
    b->cap = (b->n + len + 1) * 2;
    b->p = realloc(b->p, b->cap);
    if (!b->p) return -1;
  }
  memcpy(b->p + b->n, data, len);
  b->n += len;
  b->p[b->n] = 0;
  return 0;
}

/* Parses a string; on failure returns NULL and fills *err. */
static vast_doc *parse(const char *s, size_t n, vast_error *err) {
  vast_doc *d = NULL;
  memset(err, 0, sizeof *err);
  if (vast_doc_parse(s, n, NULL, &d, err) != VAST_OK) return NULL;
  return d;
}

static vast_doc *parse_file(const char *path, char **xml) {
  size_t n;
  *xml = th_slurp(path, &n);
  vast_error err;
  vast_doc *d = parse(*xml, n, &err);
  CHECK(d != NULL);
  return d;
}

/* Findings for a file under a profile; parse failures become their finding. */
static vast_findings *findings_for(const char *xml, size_t n, vast_profile p) {
  vast_error err;
  vast_doc *d = parse(xml, n, &err);
  vast_findings *l = NULL;
  if (!d) {
    CHECK_INT(vast_findings_from_parse_error(&err, &l), VAST_OK);
    return l;
  }
  vast_validate_options o;
  vast_validate_options_init(&o);
  o.profile = p;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_OK);
  vast_doc_free(d);
  return l;
}

static void dump(const vast_findings *l, const char *name) {
  buf b = {0};
  vast_findings_write_text(l, name, buf_write, &b);
  if (b.p) fprintf(stderr, "%s", b.p);
  free(b.p);
}

/*
 * Findings for a case file that needs its wrapper chain: the file is resolved
 * from disk (relative VASTAdTagURIs are files next to it) with max_wrappers
 * (0: the default) and validated with the chain. *hops gets audit's count.
 */
static vast_findings *findings_resolved(const char *path, vast_profile p, unsigned max_wrappers,
                                        int *hops) {
  size_t n;
  char *xml = th_slurp(path, &n);
  vast_error err;
  vast_doc *d = parse(xml, n, &err);
  CHECK(d != NULL);
  vast_resolve_opts ro;
  vast_resolve_opts_init(&ro);
  if (max_wrappers) ro.max_wrappers = max_wrappers;
  vast_chain *c = NULL;
  vast_resolve_file(path, &ro, &c, NULL);
  CHECK(c != NULL);
  vast_validate_options o;
  vast_validate_options_init(&o);
  o.profile = p;
  o.chain = c;
  vast_findings *l = NULL;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_OK);
  if (hops) {
    vast_audit a;
    CHECK_INT(vast_audit_doc(d, &o, &a), VAST_OK);
    *hops = a.wrapper_hops;
    CHECK_INT(a.errors, vast_findings_count_severity(l, VAST_SEV_ERROR));
  }
  vast_chain_free(c);
  vast_doc_free(d);
  free(xml);
  return l;
}

/* ---- rule cases ---------------------------------------------------------- */

#define CASES_DIR "tests/validate"

/*
 * One case folder: bad.xml must report `rule`, good.xml must not (profile
 * from the optional `profile` file; `resolve` for the chain rules). Returns
 * the number of failures, printed.
 */
static int run_case(const char *folder, const char *rule) {
  int failed = 0;
  char path[512];
  vast_profile p = VAST_PROFILE_WEB;
  snprintf(path, sizeof path, CASES_DIR "/%s/profile", folder);
  FILE *pf = fopen(path, "r");
  if (pf) {
    char name[32] = {0};
    if (fscanf(pf, "%31s", name) == 1) CHECK_INT(vast_profile_from_name(name, &p), VAST_OK);
    fclose(pf);
  }
  /* a `resolve` file: the case needs its wrapper chain ("max-wrappers N" optional) */
  int resolve = 0;
  unsigned maxw = 0;
  snprintf(path, sizeof path, CASES_DIR "/%s/resolve", folder);
  FILE *rf = fopen(path, "r");
  if (rf) {
    resolve = 1;
    if (fscanf(rf, " max-wrappers %u", &maxw) != 1) maxw = 0;
    fclose(rf);
  }
  for (int good = 0; good <= 1; good++) {
    snprintf(path, sizeof path, CASES_DIR "/%s/%s.xml", folder, good ? "good" : "bad");
    size_t n;
    char *xml = th_slurp(path, &n);
    vast_findings *l = resolve ? findings_resolved(path, p, maxw, NULL) : findings_for(xml, n, p);
    if (resolve && !good) { /* without the chain the rule cannot be seen */
      vast_findings *l0 = findings_for(xml, n, p);
      if (vast_findings_has(l0, rule)) {
        fprintf(stderr, "  %s: reports %s without the chain\n", path, rule);
        failed++;
      }
      vast_findings_free(l0);
    }
    int has = vast_findings_has(l, rule);
    if (has == good) {
      fprintf(stderr, "  %s: %s\n", path, good ? "reports the rule" : "does not report the rule");
      dump(l, path);
      failed++;
    }
    /* every finding is placed: a line and an absolute element path */
    for (size_t k = 0; k < vast_findings_count(l); k++) {
      const vast_finding *f = vast_findings_at(l, k);
      if (!strcmp(f->rule_id, rule) && (f->line == 0 || !f->path || f->path[0] != '/')) {
        fprintf(stderr, "  %s: finding %s has no position or path\n", path, f->rule_id);
        failed++;
      }
    }
    vast_findings_free(l);
    free(xml);
  }
  return failed;
}

/* Case folders: RULE-ID (one per rule) and RULE-ID+VARIANT (further pairs). */
TEST(rules_bad_and_good) {
  int failed = 0, seen = 0, variants = 0;
  for (size_t i = 0; i < vast_rule_count(); i++) {
    const vast_rule *r = vast_rule_at(i);
    char path[512];
    snprintf(path, sizeof path, CASES_DIR "/%s/bad.xml", r->id);
    struct stat st;
    if (stat(path, &st) != 0) {
      fprintf(stderr, "  rule %s has no test case folder\n", r->id);
      failed++;
      continue;
    }
    /* a `probe` file: the rule needs the media probed (tests/unit/test-probe.c runs it) */
    snprintf(path, sizeof path, CASES_DIR "/%s/probe", r->id);
    if (stat(path, &st) == 0) {
      seen++;
      continue;
    }
    failed += run_case(r->id, r->id);
    seen++;
  }
  DIR *d = opendir(CASES_DIR);
  CHECK(d != NULL);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    const char *plus = strchr(de->d_name, '+');
    if (!plus || de->d_name[0] == '.') continue;
    char rule[128];
    snprintf(rule, sizeof rule, "%.*s", (int)(plus - de->d_name), de->d_name);
    CHECK(vast_rule_find(rule) != NULL);
    failed += run_case(de->d_name, rule);
    variants++;
  }
  closedir(d);
  CHECK_INT(failed, 0);
  CHECK_INT(seen, (long long)vast_rule_count());
  CHECK(variants >= 4);
}

/* Each case folder names a real rule (no stale folders). */
TEST(case_folders_name_rules) {
  DIR *d = opendir(CASES_DIR);
  CHECK(d != NULL);
  struct dirent *de;
  int n = 0;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || strchr(de->d_name, '.')) continue;
    char rule[128];
    snprintf(rule, sizeof rule, "%.*s", (int)strcspn(de->d_name, "+"), de->d_name);
    if (!vast_rule_find(rule)) fprintf(stderr, "  stale case folder %s\n", de->d_name);
    CHECK(vast_rule_find(rule) != NULL);
    n += strchr(de->d_name, '+') == NULL;
  }
  closedir(d);
  CHECK_INT(n, (long long)vast_rule_count());
}

/* vast_pos.offset is the byte of the start tag's '<' (columns count characters:
 * after multi-byte text they differ), and url-not-cdata reads the text there. */
TEST(positions_bytes_and_cdata) {
  static const char one_line[] =
      "<VAST version=\"4.2\"><Ad "
      "id=\"\xc3\xa9\xc3\xa9\"><InLine><AdSystem>\xc3\xa9t\xc3\xa9</AdSystem>"
      "<AdTitle>t</AdTitle><AdServingId>x</AdServingId><Impression>https://t.example.com/"
      "i?a=1&amp;b=2"
      "</Impression><Impression><![CDATA[https://t.example.com/j]]></Impression></InLine></Ad></"
      "VAST>";
  vast_error err;
  vast_doc *d = parse(one_line, sizeof one_line - 1, &err);
  CHECK(d != NULL);
  const vast_ad *ad = &vast_doc_vast(d)->ads[0];
  CHECK_INT(ad->n_impressions, 2);
  size_t n;
  const char *src = vast_doc_source(d, &n);
  for (int i = 0; i < 2; i++) {
    vast_pos p = ad->impressions[i].pos;
    CHECK(p.offset < n && !strncmp(src + p.offset, "<Impression>", 12));
    CHECK(p.column < p.offset + 1); /* four two-byte characters before it */
    CHECK_INT(p.offset + 1 - p.column, 4);
  }
  vast_findings *l = NULL;
  CHECK_INT(vast_validate_list(d, NULL, &l), VAST_OK);
  int cdata = 0;
  for (size_t i = 0; i < vast_findings_count(l); i++) {
    const vast_finding *f = vast_findings_at(l, i);
    if (strcmp(f->rule_id, "url-not-cdata")) continue;
    cdata++;
    CHECK_INT(f->column, ad->impressions[0].pos.column);
    CHECK_STR(f->path, "/VAST/Ad[1]/InLine/Impression[1]");
  }
  CHECK_INT(cdata, 1); /* the second Impression is in CDATA */
  vast_findings_free(l);
  vast_doc_free(d);
}

/* The unescaped-& parse error says what to do, and points at the '&'. */
TEST(ampersand_parse_error) {
  size_t n;
  char *xml = th_slurp(CASES_DIR "/xml-malformed+ampersand/bad.xml", &n);
  vast_error err;
  CHECK(parse(xml, n, &err) == NULL);
  CHECK(strstr(err.message, "unescaped '&'") != NULL);
  CHECK(strstr(err.message, "put the URL in CDATA") != NULL);
  CHECK(xml[err.offset] == '&');
  const char *amp = strstr(xml, "a=1&b");
  CHECK(amp && (size_t)(amp + 3 - xml) == err.offset);
  unsigned line = 1;
  const char *ls = xml;
  for (const char *p = xml; p < amp + 3; p++)
    if (*p == '\n') line++, ls = p + 1;
  CHECK_INT(err.line, line);
  CHECK_INT(err.column, (long long)(amp + 3 - ls) + 1);
  vast_findings *l = NULL;
  CHECK_INT(vast_findings_from_parse_error(&err, &l), VAST_OK);
  CHECK(strstr(vast_findings_at(l, 0)->message, "put the URL in CDATA") != NULL);
  vast_findings_free(l);
  free(xml);
  /* other XML errors keep expat's words */
  CHECK(parse("<VAST version=\"4.2\"><Ad></VAST>", 31, &err) == NULL);
  CHECK(strstr(err.message, "CDATA") == NULL);
}

/* Rule table sanity: unique ids, a summary and fix each, IAB codes in the table. */
TEST(rule_table) {
  CHECK(vast_rule_count() >= 60);
  for (size_t i = 0; i < vast_rule_count(); i++) {
    const vast_rule *r = vast_rule_at(i);
    CHECK(r->id && *r->id && r->summary && *r->summary && r->fix && *r->fix);
    CHECK(vast_rule_find(r->id) == r);
    if (r->iab_code) CHECK(vast_iab_error_find(r->iab_code) != NULL);
  }
  CHECK(vast_rule_at(vast_rule_count()) == NULL);
  CHECK(vast_rule_find("no-such-rule") == NULL);
  /* the practitioner guide: quartiles + complete and skip tracking are
   * "minimum required" in every profile; AdServingId as severe as AdTitle */
  static const char *const everywhere[] = {"missing-quartile", "skip-tracking-missing",
                                           "missing-adservingid", "missing-adtitle"};
  for (size_t k = 0; k < sizeof everywhere / sizeof everywhere[0]; k++) {
    const vast_rule *q = vast_rule_find(everywhere[k]);
    CHECK(q != NULL);
    for (int p = 0; p < VAST_PROFILE__COUNT; p++)
      CHECK_INT(q->severity[p], VAST_SEV_ERROR);
  }
}

/* Positions and paths come from the model: line/column of the element itself. */
TEST(finding_position_and_path) {
  size_t n;
  char *xml = th_slurp(CASES_DIR "/url-insecure/bad.xml", &n);
  vast_findings *l = findings_for(xml, n, VAST_PROFILE_WEB);
  const vast_finding *f = NULL;
  for (size_t i = 0; i < vast_findings_count(l); i++)
    if (!strcmp(vast_findings_at(l, i)->rule_id, "url-insecure")) f = vast_findings_at(l, i);
  CHECK(f != NULL);
  /* the Tracking element with the http URL: find its line in the text */
  const char *at = strstr(xml, "http://t.example.com/mute");
  CHECK(at != NULL);
  unsigned line = 1;
  for (const char *p = xml; p < at; p++)
    line += *p == '\n';
  CHECK_INT(f->line, line);
  CHECK(f->column > 1);
  CHECK_STR(f->path, "/VAST/Ad[1]/InLine/Creatives/Creative[1]/Linear/TrackingEvents/Tracking[6]");
  CHECK_INT(f->severity, VAST_SEV_INFO);
  vast_findings_free(l);
  free(xml);

  xml = th_slurp(CASES_DIR "/missing-quartile/bad.xml", &n);
  l = findings_for(xml, n, VAST_PROFILE_WEB);
  CHECK_INT(vast_findings_count(l), 1);
  CHECK_STR(vast_findings_at(l, 0)->path,
            "/VAST/Ad[1]/InLine/Creatives/Creative[1]/Linear/TrackingEvents");
  CHECK(strstr(vast_findings_at(l, 0)->message, "midpoint") != NULL);
  vast_findings_free(l);
  free(xml);
}

static int count_cb(void *ctx, const vast_finding *f) {
  (*(int *)ctx)++;
  return 0;
}
static int stop_cb(void *ctx, const vast_finding *f) {
  (*(int *)ctx)++;
  return 1;
}

/* Callback form, stop, disabling by id, min severity, profiles. */
TEST(options_and_callback) {
  size_t n;
  char *xml = th_slurp(CASES_DIR "/missing-impression/bad.xml", &n);
  vast_error err;
  vast_doc *d = parse(xml, n, &err);
  CHECK(d != NULL);
  int calls = 0;
  CHECK_INT(vast_validate(d, NULL, count_cb, &calls), VAST_OK);
  CHECK_INT(calls, 1);
  vast_validate_options o;
  vast_validate_options_init(&o);
  const char *off[] = {"missing-impression"};
  o.disabled = off;
  o.n_disabled = 1;
  calls = 0;
  CHECK_INT(vast_validate(d, &o, count_cb, &calls), VAST_OK);
  CHECK_INT(calls, 0);
  CHECK_INT(vast_validate(NULL, &o, count_cb, &calls), VAST_E_INVAL);
  CHECK_INT(vast_validate(d, &o, NULL, NULL), VAST_E_INVAL);
  o.profile = (vast_profile)99;
  CHECK_INT(vast_validate(d, &o, count_cb, &calls), VAST_E_INVAL);
  vast_doc_free(d);
  free(xml);

  /* a tag with several findings: stop after the first */
  xml = th_slurp(CASES_DIR "/version-legacy/bad.xml", &n);
  d = parse(xml, n, &err);
  CHECK(d != NULL);
  int all = 0, one = 0;
  vast_validate(d, NULL, count_cb, &all);
  vast_validate(d, NULL, stop_cb, &one);
  CHECK(all > 1);
  CHECK_INT(one, 1);
  vast_validate_options_init(&o);
  o.min_severity = VAST_SEV_ERROR;
  vast_findings *l = NULL;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_OK);
  CHECK_INT(vast_findings_count_severity(l, VAST_SEV_WARNING), 0);
  CHECK_INT(vast_findings_count_severity(l, VAST_SEV_INFO), 0);
  vast_findings_free(l);
  /* the same rule is an error on ctv */
  vast_validate_options_init(&o);
  o.profile = VAST_PROFILE_CTV;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_OK);
  int legacy_err = 0;
  for (size_t i = 0; i < vast_findings_count(l); i++)
    legacy_err |= !strcmp(vast_findings_at(l, i)->rule_id, "version-legacy") &&
                  vast_findings_at(l, i)->severity == VAST_SEV_ERROR;
  CHECK(legacy_err);
  vast_findings_free(l);
  vast_doc_free(d);
  free(xml);

  vast_profile p;
  CHECK_INT(vast_profile_from_name("CTV", &p), VAST_OK);
  CHECK_INT(p, VAST_PROFILE_CTV);
  CHECK_INT(vast_profile_from_name("tv", &p), VAST_E_INVAL);
  CHECK_STR(vast_profile_name(VAST_PROFILE_SSAI), "ssai");
  CHECK_STR(vast_severity_name(VAST_SEV_WARNING), "warning");
  vast_findings_free(NULL);
}

/* Parse failures become one finding with the parser's position and IAB code. */
TEST(parse_errors_as_findings) {
  struct {
    const char *xml, *rule;
    int code;
  } cases[] = {
      {"{\"not\": \"xml\"}", "xml-malformed", 100},
      {"<VAST-1 version=\"3.0\"></VAST-1>", "not-vast", 101},
      {"<VAST version=\"9.9\"></VAST>", "version-unsupported", 102},
      {"<VAST version=\"4.2\">\n  <Ad>\n</VAST>", "xml-malformed", 100},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    vast_error err;
    vast_doc *d = parse(cases[i].xml, strlen(cases[i].xml), &err);
    CHECK(d == NULL);
    vast_findings *l = NULL;
    CHECK_INT(vast_findings_from_parse_error(&err, &l), VAST_OK);
    CHECK_INT(vast_findings_count(l), 1);
    const vast_finding *f = vast_findings_at(l, 0);
    CHECK_STR(f->rule_id, cases[i].rule);
    CHECK_INT(f->iab_code, cases[i].code);
    CHECK_INT(f->severity, VAST_SEV_ERROR);
    CHECK(f->line >= 1);
    if (i == 3) CHECK_INT(f->line, 3); /* mismatched tag on line 3 */
    vast_findings_free(l);
  }
}

/* Text, JSON and SARIF writers: format and JSON well-formedness. */
TEST(writers) {
  size_t n;
  char *xml = th_slurp(CASES_DIR "/url-whitespace/bad.xml", &n);
  vast_findings *l = findings_for(xml, n, VAST_PROFILE_WEB);
  CHECK(vast_findings_count(l) >= 1);
  buf t = {0};
  CHECK_INT(vast_findings_write_text(l, "tag.xml", buf_write, &t), VAST_OK);
  const vast_finding *f = vast_findings_at(l, 0);
  char want[256];
  snprintf(want, sizeof want, "tag.xml:%u:%u: error: ", f->line, f->column);
  CHECK(strncmp(t.p, want, strlen(want)) == 0);
  CHECK(strstr(t.p, "[url-whitespace]\n") != NULL);
  free(t.p);

  buf j = {0};
  CHECK_INT(vast_findings_write_json(l, "a \"quoted\" name.xml", buf_write, &j), VAST_OK);
  CHECK(th_json_valid(j.p));
  CHECK(strstr(j.p, "\"rule\":\"url-whitespace\"") != NULL);
  CHECK(strstr(j.p, "\"errors\":1") != NULL);
  free(j.p);

  buf s = {0};
  int st;
  CHECK_INT(vast_sarif_begin(VAST_PROFILE_WEB, buf_write, &s, &st), VAST_OK);
  CHECK_INT(vast_sarif_add(l, "dir/tag 1.xml", buf_write, &s, &st), VAST_OK);
  CHECK_INT(vast_sarif_add(l, "other.xml", buf_write, &s, &st), VAST_OK);
  CHECK_INT(vast_sarif_end(buf_write, &s, &st), VAST_OK);
  CHECK(th_json_valid(s.p));
  CHECK(strstr(s.p, "\"version\":\"2.1.0\"") != NULL);
  CHECK(strstr(s.p, "\"helpUri\":\"") != NULL &&
        strstr(s.p, "\"fullDescription\":{\"text\":") != NULL);
  CHECK(strstr(s.p, "\"ruleId\":\"url-whitespace\"") != NULL);
  CHECK(strstr(s.p, "\"uri\":\"dir/tag%201.xml\"") != NULL);
  snprintf(want, sizeof want, "\"region\":{\"startLine\":%u,\"startColumn\":%u}", f->line,
           f->column);
  CHECK(strstr(s.p, want) != NULL);
  /* every rule is declared in the driver */
  for (size_t i = 0; i < vast_rule_count(); i++) {
    snprintf(want, sizeof want, "{\"id\":\"%s\"", vast_rule_at(i)->id);
    CHECK(strstr(s.p, want) != NULL);
  }
  free(s.p);
  CHECK(!th_json_valid("{\"a\":1,}"));
  CHECK(!th_json_valid("[1 2]"));
  vast_findings_free(l);
  free(xml);
}

/* ---- IAB table ----------------------------------------------------------- */

TEST(iab_table) {
  static const int codes[] = {100, 101, 102, 200, 201, 202, 203, 204, 205, 206, 300, 301, 302,
                              303, 304, 400, 401, 402, 403, 405, 406, 407, 408, 409, 410, 411,
                              500, 501, 502, 503, 600, 601, 602, 603, 604, 900, 901, 902};
  CHECK_INT(vast_iab_error_count(), sizeof codes / sizeof codes[0]);
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const vast_iab_error *e = vast_iab_error_find(codes[i]);
    CHECK(e != NULL);
    CHECK(e == vast_iab_error_at(i));
    CHECK(e->name[0] && e->meaning[0] && e->cause[0] && e->fix[0] && e->test[0]);
  }
  CHECK(vast_iab_error_find(404) == NULL);
  CHECK(vast_iab_error_find(0) == NULL);
  CHECK(vast_iab_error_at(1000) == NULL);
}

/* ---- template ------------------------------------------------------------ */

static int has_event(const vast_linear *l, vast_event ev) {
  for (size_t i = 0; i < l->n_tracking; i++)
    if (l->tracking[i].event == ev) return 1;
  return 0;
}

TEST(template_is_complete_and_valid) {
  const char *versions[] = {"4.1", "4.2", "4.3"};
  for (int v = 0; v < 3; v++)
    for (int skippable = 0; skippable <= 1; skippable++) {
      buf b = {0};
      CHECK_INT(vast_template_write(versions[v], skippable, buf_write, &b), VAST_OK);
      vast_error err;
      vast_doc *d = parse(b.p, b.n, &err);
      if (!d) fprintf(stderr, "  %s:%lu:%lu %s\n", versions[v], err.line, err.column, err.message);
      CHECK(d != NULL);
      /* model facts, independent of the rules */
      const vast_vast *vv = vast_doc_vast(d);
      CHECK(vv && vv->n_ads == 1);
      CHECK_STR(vv->version, versions[v]);
      const vast_ad *ad = &vv->ads[0];
      CHECK_INT(ad->kind, VAST_AD_INLINE);
      CHECK(ad->ad_system && ad->ad_title && ad->ad_serving_id);
      CHECK(ad->n_impressions >= 1 && !strncmp(ad->impressions[0].url, "https://", 8));
      CHECK(ad->n_errors >= 1 && strstr(ad->errors[0].url, "[ERRORCODE]"));
      CHECK(ad->n_viewable == 1 && ad->n_not_viewable == 1 && ad->n_view_undetermined == 1);
      CHECK_INT(ad->n_creatives, 1);
      const vast_linear *l = ad->creatives[0].linear;
      CHECK(l != NULL);
      CHECK_NEAR(l->duration, 30.0, 1e-9);
      static const vast_event every[] = {VAST_EV_LOADED,
                                         VAST_EV_START,
                                         VAST_EV_FIRST_QUARTILE,
                                         VAST_EV_MIDPOINT,
                                         VAST_EV_THIRD_QUARTILE,
                                         VAST_EV_COMPLETE,
                                         VAST_EV_PROGRESS,
                                         VAST_EV_CLOSE_LINEAR,
                                         VAST_EV_MUTE,
                                         VAST_EV_UNMUTE,
                                         VAST_EV_PAUSE,
                                         VAST_EV_RESUME,
                                         VAST_EV_REWIND,
                                         VAST_EV_PLAYER_EXPAND,
                                         VAST_EV_PLAYER_COLLAPSE,
                                         VAST_EV_OTHER_AD_INTERACTION,
                                         VAST_EV_CREATIVE_VIEW};
      for (size_t k = 0; k < sizeof every / sizeof every[0]; k++) {
        if (!has_event(l, every[k])) fprintf(stderr, "  missing %s\n", vast_event_name(every[k]));
        CHECK(has_event(l, every[k]));
      }
      CHECK_INT(has_event(l, VAST_EV_INTERACTIVE_START), v >= 1);
      CHECK_INT(has_event(l, VAST_EV_NOT_USED), v >= 2);
      CHECK_INT(has_event(l, VAST_EV_SKIP), skippable);
      CHECK_INT(l->skipoffset.kind, skippable ? VAST_OFFSET_TIME : VAST_OFFSET_NONE);
      for (size_t k = 0; k < l->n_tracking; k++) {
        CHECK(!strncmp(l->tracking[k].url, "https://", 8));
        if (l->tracking[k].event == VAST_EV_PROGRESS)
          CHECK_INT(l->tracking[k].offset.kind, VAST_OFFSET_TIME);
        CHECK(strcmp(l->tracking[k].event_name, vast_event_name(l->tracking[k].event)) == 0);
      }
      int mp4 = 0;
      for (size_t k = 0; k < l->n_media_files; k++) {
        const vast_media_file *m = &l->media_files[k];
        CHECK(m->width > 0 && m->height > 0 && m->bitrate > 0 && m->delivery && m->type);
        mp4 |= !strcmp(m->type, "video/mp4") && !strcmp(m->delivery, "progressive");
      }
      CHECK(mp4);
      size_t nn;
      vast_doc_notes(d, &nn);
      CHECK_INT(nn, 0);
      /* and no findings at all, under every video profile */
      for (int p = VAST_PROFILE_WEB; p <= VAST_PROFILE_SSAI; p++) {
        vast_validate_options o;
        vast_validate_options_init(&o);
        o.profile = (vast_profile)p;
        vast_findings *fl = NULL;
        CHECK_INT(vast_validate_list(d, &o, &fl), VAST_OK);
        if (vast_findings_count(fl)) dump(fl, versions[v]);
        CHECK_INT(vast_findings_count(fl), 0);
        vast_findings_free(fl);
      }
      vast_doc_free(d);
      free(b.p);
    }
  buf b = {0};
  CHECK_INT(vast_template_write("4.0", 0, buf_write, &b), VAST_E_VERSION);
  CHECK_INT(vast_template_write("3.0", 1, buf_write, &b), VAST_E_VERSION);
  CHECK(b.n == 0);
  free(b.p);
}

/* --wrapper, --omid and the comments: model facts and no finding anywhere. */
TEST(template_variants) {
  for (int wrapper = 0; wrapper <= 1; wrapper++)
    for (int om = 0; om <= 1; om++) {
      vast_template_options to;
      vast_template_options_init(&to);
      CHECK_INT(to.comments, 1);
      to.wrapper = wrapper;
      to.omid = om;
      buf b = {0};
      CHECK_INT(vast_template_write_opts(&to, buf_write, &b), VAST_OK);
      CHECK(strstr(b.p, "<!-- ") != NULL); /* explained */
      CHECK(strstr(b.p, "Impression: ") != NULL);
      vast_error err;
      vast_doc *d = parse(b.p, b.n, &err);
      CHECK(d != NULL);
      const vast_ad *ad = &vast_doc_vast(d)->ads[0];
      CHECK_INT(ad->kind, wrapper ? VAST_AD_WRAPPER : VAST_AD_INLINE);
      if (wrapper) {
        CHECK(ad->vast_ad_tag_uri && !strncmp(ad->vast_ad_tag_uri, "https://", 8));
        CHECK(ad->n_impressions == 1 && ad->n_errors == 1);
      }
      CHECK_INT(ad->n_verifications, om);
      if (om) {
        CHECK_INT(ad->verifications[0].n_js_resources, 1);
        CHECK_STR(ad->verifications[0].js_resources[0].api_framework, "omid");
        CHECK_INT(ad->verifications[0].n_tracking, 1);
        CHECK(strstr(ad->verifications[0].tracking[0].url, "[REASON]") != NULL);
      }
      size_t nn;
      vast_doc_notes(d, &nn);
      CHECK_INT(nn, 0);
      for (int p = VAST_PROFILE_WEB; p <= VAST_PROFILE_SSAI; p++) {
        vast_validate_options o;
        vast_validate_options_init(&o);
        o.profile = (vast_profile)p;
        vast_findings *fl = NULL;
        CHECK_INT(vast_validate_list(d, &o, &fl), VAST_OK);
        if (vast_findings_count(fl)) dump(fl, wrapper ? "wrapper" : "inline");
        CHECK_INT(vast_findings_count(fl), 0);
        vast_findings_free(fl);
      }
      vast_doc_free(d);
      free(b.p);
    }
  /* without comments: no comment at all */
  vast_template_options to;
  vast_template_options_init(&to);
  to.comments = 0;
  buf b = {0};
  CHECK_INT(vast_template_write_opts(&to, buf_write, &b), VAST_OK);
  CHECK(strstr(b.p, "<!--") == NULL);
  free(b.p);
  to.version = "3.0";
  CHECK_INT(vast_template_write_opts(&to, buf_write, &b), VAST_E_VERSION);
  CHECK_INT(vast_template_write_opts(&to, NULL, NULL), VAST_E_INVAL);
}

/* ---- audit --------------------------------------------------------------- */

TEST(audit_row) {
  size_t n;
  char *xml = th_slurp(CASES_DIR "/missing-quartile/bad.xml", &n);
  vast_error err;
  vast_doc *d = parse(xml, n, &err);
  CHECK(d != NULL);
  vast_audit a;
  CHECK_INT(vast_audit_doc(d, NULL, &a), VAST_OK);
  CHECK_STR(a.version, "4.2");
  CHECK_STR(a.ad_type, "inline");
  CHECK_INT(a.ads, 1);
  CHECK_INT(a.impressions, 1);
  CHECK_STR(a.events_present, "start firstQuartile thirdQuartile complete");
  CHECK_STR(a.events_missing, "midpoint");
  CHECK_INT(a.wrapper_hops, 0);
  CHECK_INT(a.ctv_compatible, 0); /* a missing midpoint is an error in every profile */
  CHECK(strncmp(a.ctv_reason, "missing-quartile: no 'midpoint' Tracking event", 46) == 0);
  CHECK(strstr(a.ctv_reason, "; also") == NULL);
  CHECK_INT(a.errors, 1);
  CHECK_INT(a.warnings, 0);
  CHECK_STR(a.issues, "missing-quartile(1)");
  vast_doc_free(d);
  free(xml);

  xml = th_slurp(CASES_DIR "/media-vpaid-only/bad.xml", &n);
  d = parse(xml, n, &err);
  CHECK_INT(vast_audit_doc(d, NULL, &a), VAST_OK);
  CHECK_INT(a.ctv_compatible, 0); /* VPAID only: an error on ctv, a warning on the web */
  CHECK(strncmp(a.ctv_reason, "media-vpaid-only: ", 18) == 0);
  CHECK(strstr(a.ctv_reason, "; also media-no-mp4") != NULL);
  CHECK_INT(a.errors, 0);
  vast_doc_free(d);
  free(xml);

  /* a clean tag: compatible, no reason; a no-ad response is not */
  xml = th_slurp(CASES_DIR "/missing-quartile/good.xml", &n);
  d = parse(xml, n, &err);
  CHECK_INT(vast_audit_doc(d, NULL, &a), VAST_OK);
  CHECK_INT(a.ctv_compatible, 1);
  CHECK_STR(a.ctv_reason, "");
  vast_doc_free(d);
  free(xml);
  xml = th_slurp(CASES_DIR "/no-ad/bad.xml", &n);
  d = parse(xml, n, &err);
  CHECK_INT(vast_audit_doc(d, NULL, &a), VAST_OK);
  CHECK_STR(a.ad_type, "no-ad");
  CHECK_INT(a.errors, 0);
  CHECK_INT(a.ctv_compatible, 0);
  CHECK_STR(a.ctv_reason, "no ad in the response (no fill): nothing to play");
  vast_doc_free(d);
  free(xml);

  xml = th_slurp(CASES_DIR "/wrapper-uri-invalid/good.xml", &n);
  d = parse(xml, n, &err);
  CHECK_INT(vast_audit_doc(d, NULL, &a), VAST_OK);
  CHECK_STR(a.ad_type, "wrapper");
  CHECK_INT(a.wrapper_hops, 1);
  vast_doc_free(d);
  free(xml);

  memset(&err, 0, sizeof err);
  err.code = VAST_E_NOT_VAST;
  vast_audit_parse_error(&err, &a);
  CHECK_STR(a.ad_type, "invalid");
  CHECK_INT(a.errors, 1);
  CHECK_STR(a.issues, "not-vast(1)");
  CHECK_INT(a.ctv_compatible, 0);
  CHECK_STR(a.ctv_reason, "not-vast: the tag does not parse");
}

/* ---- the shared corpus --------------------------------------------------- */

/*
 * For every XML file: "parse:<rule>" when it must fail to parse (with that
 * rule), otherwise the exact space-separated set of error-severity rule ids
 * under the web profile ("" for none). Each entry was decided by reading the
 * file: the errors are real defects of those tags. Since the practitioner
 * guide's severities (issue 14), a Linear InLine without start, the quartiles
 * and complete (missing-quartile), a skippable one without skip tracking, and
 * a 4.1+ InLine without AdServingId are errors too.
 */
static const struct {
  const char *file;
  const char *expect;
} corpus[] = {
    {"dailymotion__vast-client-js/spec/samples/empty-no-ad.xml", ""}, /* no-ad response (info) */
    /* InLine with neither Impression nor Creatives */
    {"dailymotion__vast-client-js/spec/samples/empty-no-creative.xml",
     "missing-adservingid missing-creatives missing-impression"},
    {"dailymotion__vast-client-js/spec/samples/inline-linear.xml", "missing-adservingid"},
    {"dailymotion__vast-client-js/spec/samples/invalid-xmlfile.xml", "parse:xml-malformed"},
    /* VAST 1.0 InLine without Impression */
    {"dailymotion__vast-client-js/spec/samples/outdated-vast.xml",
     "missing-impression missing-quartile"},
    {"dailymotion__vast-client-js/spec/samples/sample.xml",
     "missing-quartile skip-tracking-missing"},
    /* VPAID Linear without Duration */
    {"dailymotion__vast-client-js/spec/samples/vpaid.xml",
     "missing-adservingid missing-duration missing-quartile"},
    /* no Impression; Flash MediaFile without delivery */
    {"dailymotion__vast-client-js/spec/samples/vpaid2.xml",
     "mediafile-missing-delivery missing-adservingid missing-impression missing-quartile"},
    {"dailymotion__vast-client-js/spec/samples/wrapper-a.xml", ""},
    {"dailymotion__vast-client-js/spec/samples/wrapper-attributes-multiple-ads.xml", ""},
    {"dailymotion__vast-client-js/spec/samples/wrapper-b.xml", ""},
    {"dailymotion__vast-client-js/spec/samples/wrapper-empty-no-creative.xml", ""},
    {"dailymotion__vast-client-js/spec/samples/wrapper-empty.xml", ""},
    {"dailymotion__vast-client-js/spec/samples/wrapper-legacy.xml", ""},
    {"dailymotion__vast-client-js/spec/samples/wrapper-multiple-ads.xml", ""},
    {"dailymotion__vast-client-js/spec/samples/wrapper-unavailable-url.xml", ""},
    {"dailymotion__vmap-js/spec/samples/correct-vmap-with-extension.xml", ""},
    {"dailymotion__vmap-js/spec/samples/correct-vmap.xml", ""},
    {"dailymotion__vmap-js/spec/samples/incorrect-vmap.xml",
     "parse:not-vast"}, /* root vmap:WRONG */
    {"dailymotion__vmap-js/spec/samples/parsing-example.xml",
     "parse:not-vast"}, /* bare vmap:Extension */
    {"flipkart-incubator__madman-android/app/src/main/assets/ad_response.xml", ""},
    {"flipkart-incubator__madman-android/madman/src/test/assets/corrupt_vast.xml",
     "parse:not-vast"}, /* root VAST-1 */
    {"flipkart-incubator__madman-android/madman/src/test/assets/corrupt_vmap.xml",
     "parse:xml-malformed"},
    {"flipkart-incubator__madman-android/madman/src/test/assets/vast.xml", ""},
    {"flipkart-incubator__madman-android/madman/src/test/assets/vmap.xml", ""},
    {"flipkart-incubator__madman-android/madman/src/test/assets/vmap_reordered.xml", ""},
    {"flipkart-incubator__madman-android/madman/src/test/assets/vmap_with_ad_uri.xml", ""},
    {"flipkart-incubator__madman-android/madman/src/test/assets/vmap_with_no_ad_source.xml", ""},
    {"flipkart-incubator__madman-android/madman/src/test/assets/vmap_with_only_post_roll.xml", ""},
    {"flipkart-incubator__madman-android/madman/src/test/assets/vmap_with_preroll.xml",
     "missing-quartile"},
    {"flipkart-incubator__madman-android/madman/src/test/assets/vmap_without_post_roll.xml", ""},
    /* no AdSystem, AdTitle or Impression (only CreativeExtensions) */
    {"rs__vast/testdata/creative_extensions.xml",
     "missing-adsystem missing-adtitle missing-impression"},
    {"rs__vast/testdata/extraspaces_vpaid.xml", "missing-impression missing-quartile"},
    {"rs__vast/testdata/inline_extensions.xml",
     "missing-adsystem missing-adtitle missing-creatives missing-impression"},
    {"rs__vast/testdata/liverail-vast2-linear-companion.xml", "missing-quartile"},
    {"rs__vast/testdata/liverail-vast2-nonlinear.xml", ""},
    {"rs__vast/testdata/spotx_vpaid.xml", "missing-impression missing-quartile"},
    {"rs__vast/testdata/vast4_universal_ad_id.xml", ""},
    {"rs__vast/testdata/vast_adaptv_attempt_attr.xml", ""},
    /* Duration "undefined" and no Impression */
    {"rs__vast/testdata/vast_inline_linear-duration_undefined.xml",
     "duration-malformed missing-impression missing-quartile"},
    {"rs__vast/testdata/vast_inline_linear.xml", ""},
    {"rs__vast/testdata/vast_inline_nonlinear.xml", ""},
    {"rs__vast/testdata/vast_wrapper_linear_1.xml", ""},
    {"rs__vast/testdata/vast_wrapper_linear_2.xml", ""},
    {"rs__vast/testdata/vast_wrapper_nonlinear_1.xml", ""},
    {"rs__vast/testdata/vast_wrapper_nonlinear_2.xml", ""},
    /* files listed in MANIFEST.tsv under haxqer__vast/ are checked when present */
};
#define N_CORPUS (sizeof corpus / sizeof corpus[0])

static void walk(const char *root, const char *rel, char ***out, size_t *n) {
  char path[2100];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  DIR *d = opendir(path);
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue;
    char r[1024];
    snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
    snprintf(path, sizeof path, "%s/%s", root, r);
    struct stat st;
    if (stat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      walk(root, r, out, n);
    } else if (strlen(r) > 4 && !strcmp(r + strlen(r) - 4, ".xml")) {
      *out = realloc(*out, (*n + 1) * sizeof **out);
      (*out)[(*n)++] = strdup(r);
    }
  }
  closedir(d);
}

/* Sorted, space-separated distinct error rule ids of a findings list. */
static void error_set(const vast_findings *l, char *out, size_t cap) {
  const char *ids[64];
  size_t n = 0;
  for (size_t i = 0; i < vast_findings_count(l) && n < 64; i++) {
    const vast_finding *f = vast_findings_at(l, i);
    if (f->severity != VAST_SEV_ERROR) continue;
    int dup = 0;
    for (size_t j = 0; j < n; j++)
      dup |= !strcmp(ids[j], f->rule_id);
    if (!dup) ids[n++] = f->rule_id;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (strcmp(ids[j], ids[i]) < 0) {
        const char *t = ids[i];
        ids[i] = ids[j];
        ids[j] = t;
      }
  out[0] = 0;
  for (size_t i = 0; i < n; i++) {
    if (i) strncat(out, " ", cap - strlen(out) - 1);
    strncat(out, ids[i], cap - strlen(out) - 1);
  }
}

/* MANIFEST.tsv's duplicate_of column (13th) for a corpus file, or NULL. */
static const char *manifest_duplicate_of(const char *root, const char *file) {
  static char twin[1024];
  char path[1200];
  snprintf(path, sizeof path, "%s/MANIFEST.tsv", root);
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char line[8192];
  const char *found = NULL;
  while (!found && fgets(line, sizeof line, f)) {
    char *col[14];
    size_t n = 0;
    col[n++] = line;
    for (char *c = line; *c && n < 14; c++)
      if (*c == '\t') {
        *c = 0;
        col[n++] = c + 1;
      }
    if (n < 14 || strcmp(col[0], file) != 0 || !*col[12]) continue;
    snprintf(twin, sizeof twin, "%s", col[12]);
    found = twin;
  }
  fclose(f);
  return found;
}

TEST(corpus_expectations) {
  const char *root = th_corpus();
  char **files = NULL;
  size_t nf = 0;
  walk(root, "", &files, &nf);
  CHECK(nf >= 40);
  int failed = 0;
  size_t matched = 0;
  for (size_t i = 0; i < nf; i++) {
    const char *expect = NULL;
    for (size_t k = 0; k < N_CORPUS; k++)
      if (!strcmp(corpus[k].file, files[i])) expect = corpus[k].expect;
    if (!expect) { /* a byte-identical duplicate (MANIFEST duplicate_of) shares its twin's */
      const char *twin = manifest_duplicate_of(root, files[i]);
      for (size_t k = 0; twin && k < N_CORPUS; k++)
        if (!strcmp(corpus[k].file, twin)) expect = corpus[k].expect;
    }
    int stated = expect != NULL;
    if (stated) matched++;
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", root, files[i]);
    size_t n;
    char *xml = th_slurp(path, &n);
    vast_error err;
    vast_doc *d = parse(xml, n, &err);
    vast_findings *l = NULL;
    char got[512];
    if (!d) {
      CHECK_INT(vast_findings_from_parse_error(&err, &l), VAST_OK);
      snprintf(got, sizeof got, "parse:%s", vast_findings_at(l, 0)->rule_id);
      /* IAB code of the failure matches the rule */
      CHECK_INT(err.iab_code, vast_findings_at(l, 0)->rule->iab_code);
    } else {
      CHECK_INT(vast_validate_list(d, NULL, &l), VAST_OK);
      error_set(l, got, sizeof got);
      /* the audit row agrees with the findings */
      vast_audit a;
      CHECK_INT(vast_audit_doc(d, NULL, &a), VAST_OK);
      CHECK_INT(a.errors, vast_findings_count_severity(l, VAST_SEV_ERROR));
      CHECK_INT(a.warnings, vast_findings_count_severity(l, VAST_SEV_WARNING));
    }
    if (!stated) {
      /* A file this test has not read (a corpus grown since): it must still parse or
       * fail cleanly, validate, and agree with its audit row, checked above. */
      fprintf(stderr, "  %s: no stated expectation; error set {%s}\n", files[i], got);
    } else if (strcmp(got, expect) != 0) {
      fprintf(stderr, "  %s: expected {%s}, got {%s}\n", files[i], expect, got);
      dump(l, files[i]);
      failed++;
    }
    vast_findings_free(l);
    vast_doc_free(d);
    free(xml);
    free(files[i]);
  }
  free(files);
  CHECK_INT(failed, 0);
  CHECK(matched >= 40);
}

/* ---- --resolve: chains from disk ------------------------------------------ */

/* A corpus sample's path (VASTRACK_CORPUS or ../shared/corpus); static storage, one at a time. */
static const char *sample(const char *name) {
  static char p[1200];
  snprintf(p, sizeof p, "%s/dailymotion__vast-client-js/spec/samples/%s", th_corpus(), name);
  return p;
}

/* The corpus chain wrapper-a.xml -> wrapper-b.xml -> sample.xml: 2 hops, no chain finding. */
TEST(chain_corpus_resolves) {
  int hops = -1;
  vast_findings *l = findings_resolved(sample("wrapper-a.xml"), VAST_PROFILE_WEB, 0, &hops);
  CHECK_INT(hops, 2);
  {
    /* the audit of the merged chain: ad 4321 -> 1234 -> ad_id_0002 fires 1 + 2 + 1 pixels */
    char *x;
    vast_doc *dd = parse_file(sample("wrapper-a.xml"), &x);
    vast_chain *c = NULL;
    vast_resolve_file(sample("wrapper-a.xml"), NULL, &c, NULL);
    CHECK(c != NULL);
    vast_validate_options o;
    vast_validate_options_init(&o);
    vast_audit a;
    CHECK_INT(vast_audit_doc(dd, &o, &a), VAST_OK);
    CHECK_INT(a.impressions, 2); /* the document alone: one per Wrapper */
    o.chain = c;
    CHECK_INT(vast_audit_doc(dd, &o, &a), VAST_OK);
    CHECK_INT(a.impressions, 4);
    vast_chain_free(c);
    vast_doc_free(dd);
    free(x);
  }
  for (size_t i = 0; i < vast_findings_count(l); i++) {
    const vast_finding *f = vast_findings_at(l, i);
    CHECK(strcmp(f->rule->category, "wrapper") != 0 || !strcmp(f->rule_id, "wrapper-uri-invalid"));
    CHECK(strncmp(f->rule_id, "wrapper-", 8) != 0 || !strcmp(f->rule_id, "wrapper-uri-invalid"));
  }
  vast_findings_free(l);
  /* wrapper-b alone: one hop */
  l = findings_resolved(sample("wrapper-b.xml"), VAST_PROFILE_WEB, 0, &hops);
  CHECK_INT(hops, 1);
  vast_findings_free(l);
  /* an InLine: no hop */
  l = findings_resolved(sample("sample.xml"), VAST_PROFILE_WEB, 0, &hops);
  CHECK_INT(hops, 0);
  vast_findings_free(l);
}

/* wrapper-unavailable-url.xml: its URI "invalid-url" cannot be read: 301 with the hop URL. */
TEST(chain_corpus_unavailable) {
  int hops = -1;
  vast_findings *l =
      findings_resolved(sample("wrapper-unavailable-url.xml"), VAST_PROFILE_WEB, 0, &hops);
  CHECK_INT(hops, 1);
  const vast_finding *f = NULL;
  for (size_t i = 0; i < vast_findings_count(l); i++)
    if (!strcmp(vast_findings_at(l, i)->rule_id, "wrapper-unavailable")) f = vast_findings_at(l, i);
  CHECK(f != NULL);
  CHECK_INT(f->iab_code, 301);
  CHECK_INT(f->severity, VAST_SEV_ERROR);
  CHECK(strstr(f->message, "samples/invalid-url") != NULL);
  CHECK(strstr(f->message, "after 1 Wrapper ") != NULL);
  CHECK(f->line > 0);
  CHECK(!strcmp(f->path, "/VAST/Ad[1]/Wrapper"));
  vast_findings_free(l);
}

/* Writes a chain of `n` Wrappers (w1.xml ... wn.xml) ending in an InLine, in dir. */
static void write_chain(const char *dir, int n) {
  char path[512];
  for (int i = 1; i <= n + 1; i++) {
    snprintf(path, sizeof path, "%s/w%d.xml", dir, i);
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (i <= n)
      fprintf(fp,
              "<VAST version=\"4.2\"><Ad id=\"w%d\"><Wrapper><AdSystem>s</AdSystem>"
              "<VASTAdTagURI>w%d.xml</VASTAdTagURI>"
              "<Impression>https://t.example.com/i%d</Impression></Wrapper></Ad></VAST>\n",
              i, i + 1, i);
    else
      fputs("<VAST version=\"4.2\"><Ad id=\"in\"><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>"
            "<Impression>https://t.example.com/imp</Impression><Creatives><Creative><Linear>"
            "<Duration>00:00:10</Duration><MediaFiles><MediaFile delivery=\"progressive\" "
            "type=\"video/mp4\" width=\"640\" height=\"360\">https://m.example.com/a.mp4"
            "</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>\n",
            fp);
    fclose(fp);
  }
}

/* A synthetic 6-deep chain on disk: over the default limit of 5 it fails with
 * wrapper-limit (302); with the limit raised it resolves and gets the
 * wrapper-depth warning; 5 deep is clean. */
TEST(chain_depth_limit) {
  char dir[] = "/tmp/vastrack-chain-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  write_chain(dir, 6);
  char root[600];
  snprintf(root, sizeof root, "%s/w1.xml", dir);
  int hops = -1;
  vast_findings *l = findings_resolved(root, VAST_PROFILE_WEB, 0, &hops);
  CHECK(vast_findings_has(l, "wrapper-limit"));
  CHECK(!vast_findings_has(l, "wrapper-depth"));
  CHECK_INT(hops, 6);
  for (size_t i = 0; i < vast_findings_count(l); i++) {
    const vast_finding *f = vast_findings_at(l, i);
    if (strcmp(f->rule_id, "wrapper-limit")) continue;
    CHECK_INT(f->iab_code, 302);
    CHECK_INT(f->severity, VAST_SEV_ERROR);
    CHECK(strstr(f->message, "limit of 5") != NULL);
    CHECK(strstr(f->message, "w6.xml") != NULL);
  }
  vast_findings_free(l);
  l = findings_resolved(root, VAST_PROFILE_WEB, 10, &hops);
  CHECK(!vast_findings_has(l, "wrapper-limit"));
  CHECK(vast_findings_has(l, "wrapper-depth"));
  CHECK_INT(vast_findings_count_severity(l, VAST_SEV_ERROR), 0);
  CHECK_INT(hops, 6);
  vast_findings_free(l);
  /* the 5-deep tail (w2.xml onwards) is within both limits */
  snprintf(root, sizeof root, "%s/w2.xml", dir);
  l = findings_resolved(root, VAST_PROFILE_WEB, 0, &hops);
  CHECK(!vast_findings_has(l, "wrapper-limit") && !vast_findings_has(l, "wrapper-depth"));
  CHECK_INT(hops, 5);
  vast_findings_free(l);
  /* rules switch off like any other */
  snprintf(root, sizeof root, "%s/w1.xml", dir);
  size_t n;
  char *xml = th_slurp(root, &n);
  vast_error err;
  vast_doc *d = parse(xml, n, &err);
  vast_chain *c = NULL;
  vast_resolve_file(root, NULL, &c, NULL);
  CHECK(c != NULL);
  const char *off[] = {"wrapper-limit"};
  vast_validate_options o;
  vast_validate_options_init(&o);
  o.chain = c;
  o.disabled = off;
  o.n_disabled = 1;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_OK);
  CHECK(!vast_findings_has(l, "wrapper-limit"));
  vast_findings_free(l);
  vast_chain_free(c);
  vast_doc_free(d);
  free(xml);
  for (int i = 1; i <= 7; i++) {
    snprintf(root, sizeof root, "%s/w%d.xml", dir, i);
    unlink(root);
  }
  rmdir(dir);
}

/* ---- policies: overrides and config files -------------------------------- */

/* Severity of the first finding of a rule, or -9 when there is none. */
static int sev_of(const vast_findings *l, const char *id) {
  for (size_t i = 0; i < vast_findings_count(l); i++)
    if (!strcmp(vast_findings_at(l, i)->rule_id, id)) return vast_findings_at(l, i)->severity;
  return -9;
}

TEST(rule_overrides) {
  char *xml;
  vast_doc *d = parse_file(CASES_DIR "/url-insecure/bad.xml", &xml);
  vast_validate_options o;
  vast_validate_options_init(&o);
  vast_findings *l = NULL;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_OK);
  CHECK_INT(sev_of(l, "url-insecure"), VAST_SEV_INFO); /* the web default */
  CHECK_INT(vast_findings_profile(l), VAST_PROFILE_WEB);
  vast_findings_free(l);
  /* raised; a later entry for the same rule wins; the list keeps a copy */
  vast_rule_override ov[] = {{"url-insecure", VAST_SEV_WARNING, "a"},
                             {"url-insecure", VAST_SEV_ERROR, "--rule"}};
  o.overrides = ov;
  o.n_overrides = 2;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_OK);
  CHECK_INT(sev_of(l, "url-insecure"), VAST_SEV_ERROR);
  size_t n = 0;
  const vast_rule_override *kept = vast_findings_overrides(l, &n);
  CHECK_INT(n, 2);
  CHECK(kept != ov);
  CHECK_STR(kept[1].rule_id, "url-insecure");
  CHECK_STR(kept[1].source, "--rule");
  vast_findings_free(l);
  /* switched off */
  ov[1].severity = VAST_SEV_OFF;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_OK);
  CHECK_INT(sev_of(l, "url-insecure"), -9);
  vast_findings_free(l);
  /* min_severity applies after the override */
  ov[1].severity = VAST_SEV_WARNING;
  o.min_severity = VAST_SEV_ERROR;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_OK);
  CHECK_INT(sev_of(l, "url-insecure"), -9);
  vast_findings_free(l);
  o.min_severity = VAST_SEV_INFO;
  /* a rule off in a profile can be switched on there */
  vast_rule_override on[] = {{"media-no-mp4", VAST_SEV_WARNING, NULL}};
  vast_findings_free(NULL);
  vast_doc_free(d);
  free(xml);
  d = parse_file(CASES_DIR "/media-no-mp4/bad.xml", &xml);
  o.overrides = on;
  o.n_overrides = 1;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_OK);
  CHECK_INT(sev_of(l, "media-no-mp4"), VAST_SEV_WARNING);
  vast_findings_free(l);
  /* unknown ids and levels are refused, not ignored */
  vast_rule_override bad[] = {{"no-such-rule", VAST_SEV_ERROR, NULL}};
  o.overrides = bad;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_E_INVAL);
  CHECK(l == NULL);
  bad[0].rule_id = "url-insecure";
  bad[0].severity = (vast_severity)7;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_E_INVAL);
  /* an options struct from before the field existed (smaller size) ignores it */
  o.size = offsetof(vast_validate_options, overrides);
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_OK);
  vast_findings_free(l);
  vast_doc_free(d);
  free(xml);

  vast_severity sv;
  CHECK_INT(vast_severity_from_name("WARN", &sv), VAST_OK);
  CHECK_INT(sv, VAST_SEV_WARNING);
  CHECK_INT(vast_severity_from_name("off", &sv), VAST_OK);
  CHECK_INT(sv, VAST_SEV_OFF);
  CHECK_INT(vast_severity_from_name("fatal", &sv), VAST_E_INVAL);
}

TEST(config_file) {
  static const char good[] = "# team policy\n"
                             "profile = \"ctv\"   # our players\n"
                             "\n"
                             "[rules]\r\n"
                             "url-insecure = \"error\"\n"
                             "'missing-adservingid' = warning\n"
                             "  macro-unknown='off'\n";
  vast_validate_config *c = vast_validate_config_new();
  CHECK(c != NULL);
  CHECK_INT(vast_validate_config_profile(c), -1);
  vast_error err;
  CHECK_INT(vast_validate_config_load(c, good, strlen(good), ".vastrack.toml", &err), VAST_OK);
  CHECK_INT(vast_validate_config_profile(c), VAST_PROFILE_CTV);
  size_t n;
  const vast_rule_override *ov = vast_validate_config_overrides(c, &n);
  CHECK_INT(n, 3);
  CHECK_STR(ov[0].rule_id, "url-insecure");
  CHECK_INT(ov[0].severity, VAST_SEV_ERROR);
  CHECK_STR(ov[0].source, ".vastrack.toml:5");
  CHECK_STR(ov[1].rule_id, "missing-adservingid");
  CHECK_INT(ov[1].severity, VAST_SEV_WARNING);
  CHECK_INT(ov[2].severity, VAST_SEV_OFF);
  CHECK_INT(vast_validate_config_add_rule(c, "url-insecure=info", "--rule", &err), VAST_OK);
  vast_validate_options o;
  vast_validate_options_init(&o);
  vast_validate_config_apply(c, &o, 0);
  CHECK_INT(o.profile, VAST_PROFILE_CTV);
  CHECK_INT(o.n_overrides, 4);
  vast_validate_options_init(&o);
  o.profile = VAST_PROFILE_SSAI;
  vast_validate_config_apply(c, &o, 1); /* --profile given: it wins */
  CHECK_INT(o.profile, VAST_PROFILE_SSAI);
  /* the last word: --rule url-insecure=info, after the file's error */
  char *xml;
  vast_doc *d = parse_file(CASES_DIR "/url-insecure/bad.xml", &xml);
  vast_findings *l = NULL;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_OK);
  CHECK_INT(sev_of(l, "url-insecure"), VAST_SEV_INFO);
  vast_findings_free(l);
  vast_doc_free(d);
  free(xml);

  /* errors: line number, message naming the source, nothing kept */
  static const struct {
    const char *text;
    unsigned long line;
    const char *msg;
  } bad[] = {
      {"profile = \"tv\"\n", 1, "unknown profile 'tv'"},
      {"[rules]\nno-such-rule = \"error\"\n", 2, "unknown rule 'no-such-rule'"},
      {"[rules]\n\nurl-insecure = \"fatal\"\n", 3, "unknown level 'fatal'"},
      {"[rulez]\n", 1, "unknown table [rulez]"},
      {"colour = \"yes\"\n", 1, "unknown key 'colour'"},
      {"[rules]\nurl-insecure\n", 2, "expected KEY = VALUE"},
      {"[rules]\nurl-insecure = \"error\n", 2, "malformed value"},
      {"[rules\n", 1, "malformed table header"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    vast_validate_config *b = vast_validate_config_new();
    CHECK_INT(vast_validate_config_load(b, bad[i].text, strlen(bad[i].text), "p.toml", &err),
              VAST_E_INVAL);
    if (!strstr(err.message, bad[i].msg)) fprintf(stderr, "  got '%s'\n", err.message);
    CHECK(strstr(err.message, bad[i].msg) != NULL);
    CHECK(strncmp(err.message, "p.toml:", 7) == 0);
    CHECK_INT(err.line, bad[i].line);
    vast_validate_config_overrides(b, &n);
    CHECK_INT(n, 0);
    CHECK_INT(vast_validate_config_profile(b), -1);
    vast_validate_config_free(b);
  }
  CHECK_INT(vast_validate_config_add_rule(c, "url-insecure", "--rule", &err), VAST_E_INVAL);
  CHECK(strstr(err.message, "ID=LEVEL") != NULL);
  CHECK_INT(vast_validate_config_add_rule(c, "url-insecure=loud", "--rule", &err), VAST_E_INVAL);
  CHECK(strstr(err.message, "unknown level 'loud'") != NULL);
  vast_validate_config_free(c);
  vast_validate_config_free(NULL);
}

/* ---- the text layout ----------------------------------------------------- */

static char *text_of(const vast_findings *l, const char *name, int all, int color) {
  vast_text_options t;
  vast_text_options_init(&t);
  t.all = all;
  t.color = color;
  buf b = {0};
  CHECK_INT(vast_findings_write_text_opts(l, name, &t, buf_write, &b), VAST_OK);
  return b.p;
}

static size_t count_lines(const char *s, const char *prefix) {
  size_t n = 0, pl = strlen(prefix);
  for (const char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
    n += strncmp(p, prefix, pl) == 0;
  return n;
}

TEST(text_layout) {
  /* clean: one line */
  char *xml;
  vast_doc *d = parse_file(CASES_DIR "/missing-quartile/good.xml", &xml);
  vast_findings *l = NULL;
  CHECK_INT(vast_validate_list(d, NULL, &l), VAST_OK);
  char *t = text_of(l, "tag.xml", 0, 0);
  CHECK_STR(t, "tag.xml: no findings (profile web)\n");
  free(t);
  vast_findings_free(l);
  vast_doc_free(d);
  free(xml);

  /* a corpus tag with 18 http:// URLs and other findings */
  char path[1200];
  snprintf(path, sizeof path, "%s/rs__vast/testdata/vast_inline_linear.xml", th_corpus());
  d = parse_file(path, &xml);
  vast_validate_options o;
  vast_validate_options_init(&o);
  vast_rule_override ov[] = {{"url-insecure", VAST_SEV_WARNING, "--rule"},
                             {"url-not-cdata", VAST_SEV_OFF, "--rule"}};
  o.overrides = ov;
  o.n_overrides = 2;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_OK);
  size_t insecure = 0;
  for (size_t i = 0; i < vast_findings_count(l); i++)
    insecure += !strcmp(vast_findings_at(l, i)->rule_id, "url-insecure");
  CHECK(insecure >= 10);
  t = text_of(l, "tag.xml", 0, 0);
  /* collapsed: one url-insecure line with the count and the first positions */
  CHECK_INT(count_lines(t, "tag.xml:"), vast_findings_count(l) - insecure + 1);
  char want[512];
  snprintf(want, sizeof want, "[url-insecure] (%zu times; first at ", insecure);
  CHECK(strstr(t, want) != NULL);
  CHECK(strstr(t, ", ...; --all lists each)\n") != NULL);
  /* every finding line is followed by its fix, lines in document order */
  unsigned last = 0;
  size_t findings = 0;
  for (const char *p = t; *p;) {
    const char *eol = strchr(p, '\n');
    CHECK(eol != NULL);
    if (!strncmp(p, "tag.xml:", 8)) {
      unsigned line = (unsigned)strtoul(p + 8, NULL, 10);
      CHECK(line >= last);
      last = line;
      CHECK(strncmp(eol + 1, "    fix: ", 9) == 0);
      findings++;
    }
    p = eol + 1;
    if (!*p) break;
  }
  CHECK(findings > 1);
  /* the summary comes last and names the profile and the override */
  snprintf(want, sizeof want,
           "%zu error%s, %zu warning%s, %zu note%s in tag.xml (profile web; rules: "
           "url-insecure=warning from --rule, url-not-cdata=off from --rule)\n",
           vast_findings_count_severity(l, VAST_SEV_ERROR),
           vast_findings_count_severity(l, VAST_SEV_ERROR) == 1 ? "" : "s",
           vast_findings_count_severity(l, VAST_SEV_WARNING),
           vast_findings_count_severity(l, VAST_SEV_WARNING) == 1 ? "" : "s",
           vast_findings_count_severity(l, VAST_SEV_INFO),
           vast_findings_count_severity(l, VAST_SEV_INFO) == 1 ? "" : "s");
  size_t tl = strlen(t), wl = strlen(want);
  CHECK(tl > wl && strcmp(t + tl - wl, want) == 0);
  CHECK(strchr(t, '\033') == NULL);
  free(t);
  /* --all: one line per finding */
  t = text_of(l, "tag.xml", 1, 0);
  CHECK_INT(count_lines(t, "tag.xml:"), vast_findings_count(l));
  CHECK(strstr(t, "times; first at") == NULL);
  free(t);
  /* text from the tag cannot drive the terminal or forge a line */
  {
    vast_error pe;
    memset(&pe, 0, sizeof pe);
    pe.code = VAST_E_XML;
    pe.line = 1;
    pe.column = 1;
    snprintf(pe.message, sizeof pe.message, "XML: bad \033[31mred\nforged:1:1: error: x");
    vast_findings *pl = NULL;
    CHECK_INT(vast_findings_from_parse_error(&pe, &pl), VAST_OK);
    char *pt = text_of(pl, "a\033b.xml", 0, 0);
    CHECK(strchr(pt, '\033') == NULL);
    CHECK(strstr(pt, "\\x1b[31mred\\x0aforged") != NULL);
    CHECK_INT(count_lines(pt, "forged"), 0);
    free(pt);
    vast_findings_free(pl);
  }
  /* colour only when asked */
  t = text_of(l, "tag.xml", 0, 1);
  CHECK(strstr(t, "\033[1;33mwarning\033[0m") != NULL);
  free(t);
  vast_findings_free(l);
  vast_doc_free(d);
  free(xml);
}

/* ---- JSON: camelCase, null, and the one escaper --------------------------- */

static void quote_out(void *u, const char *p, size_t n) {
  buf_write(u, p, n);
}

static char *quoted(const char *s, size_t n) {
  buf b = {0};
  vast__json_quote(s, n, quote_out, &b);
  return b.p;
}

TEST(json_escaper) {
  char *q = quoted("a\"b\\c\n\t\x01\x7f", 9);
  CHECK_STR(q, "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\"");
  free(q);
  /* valid UTF-8 passes; each invalid byte becomes U+FFFD */
  q = quoted("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14);
  CHECK_STR(q, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  free(q);
  static const struct {
    const char *in;
    size_t n;
    const char *out;
  } bad[] = {
      {"ad=\xff", 4, "\"ad=\xef\xbf\xbd\""},                           /* ad=%FF decoded */
      {"\xc3", 1, "\"\xef\xbf\xbd\""},                                 /* truncated */
      {"\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},                 /* overlong '/' */
      {"\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* surrogate */
      {"\xf4\x90\x80\x80", 4,
       "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* > U+10FFFF */
      {"\x80x", 2, "\"\xef\xbf\xbdx\""},                        /* stray continuation */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    q = quoted(bad[i].in, bad[i].n);
    CHECK_STR(q, bad[i].out);
    free(q);
  }
}

TEST(json_findings_schema) {
  char *xml;
  vast_doc *d = parse_file(CASES_DIR "/missing-quartile/bad.xml", &xml);
  vast_findings *l = NULL;
  vast_rule_override ov[] = {{"url-insecure", VAST_SEV_ERROR, "--rule"}};
  vast_validate_options o;
  vast_validate_options_init(&o);
  o.overrides = ov;
  o.n_overrides = 1;
  CHECK_INT(vast_validate_list(d, &o, &l), VAST_OK);
  buf j = {0};
  CHECK_INT(vast_findings_write_json(l, "bad\xff.xml", buf_write, &j), VAST_OK);
  CHECK(th_json_valid(j.p));
  CHECK(strstr(j.p,
               "{\"file\":\"bad\xef\xbf\xbd.xml\",\"profile\":\"web\",\"overrides\":[{\"rule\":"
               "\"url-insecure\",\"severity\":\"error\",\"source\":\"--rule\"}],\"errors\":1,") !=
        NULL);
  CHECK(strstr(j.p, "\"iabCode\":null") != NULL);
  CHECK(strstr(j.p, "iab_code") == NULL);
  free(j.p);
  vast_findings_free(l);
  vast_doc_free(d);
  free(xml);
  /* a parse failure: no profile */
  vast_error err;
  CHECK(parse("<VAST", 5, &err) == NULL);
  CHECK_INT(vast_findings_from_parse_error(&err, &l), VAST_OK);
  j = (buf){0};
  CHECK_INT(vast_findings_write_json(l, "x.xml", buf_write, &j), VAST_OK);
  CHECK(strstr(j.p, "\"profile\":null,\"overrides\":[]") != NULL);
  CHECK(strstr(j.p, "\"iabCode\":100") != NULL);
  free(j.p);
  vast_findings_free(l);
}

static const th_case cases[] = {
    TH(rules_bad_and_good),
    TH(case_folders_name_rules),
    TH(ampersand_parse_error),
    TH(positions_bytes_and_cdata),
    TH(rule_table),
    TH(finding_position_and_path),
    TH(options_and_callback),
    TH(parse_errors_as_findings),
    TH(writers),
    TH(iab_table),
    TH(template_is_complete_and_valid),
    TH(template_variants),
    TH(audit_row),
    TH(corpus_expectations),
    TH(chain_corpus_resolves),
    TH(chain_corpus_unavailable),
    TH(chain_depth_limit),
    TH(rule_overrides),
    TH(config_file),
    TH(text_layout),
    TH(json_escaper),
    TH(json_findings_schema),
    {0},
};

int main(int argc, char **argv) {
  return th_main(__FILE__, cases, argc, argv);
}
