/*
 * validate-out.c: what is done with findings: the vast_findings list, the
 * text/JSON/SARIF writers, parse failures as findings, and the per-tag audit
 * row. Everything here is a plain consumer of vast_validate().
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonw.h"
#include "validate/validate-int.h"

/* ---- the list ------------------------------------------------------------ */

vast_findings *vast__findings_new(void) {
  vast_findings *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  vast__arena_init(&l->arena);
  l->profile = -1;
  return l;
}

static const char *dup_str(vast__arena *a, const char *s) {
  return s ? vast__arena_strndup(a, s, strlen(s)) : NULL;
}

int vast__findings_add(vast_findings *l, const vast_finding *f) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    vast_finding *it = realloc(l->items, cap * sizeof *it);
    if (!it) return -1;
    l->items = it;
    l->cap = cap;
  }
  vast_finding c = *f;
  c.message = dup_str(&l->arena, f->message);
  c.path = dup_str(&l->arena, f->path);
  if ((f->message && !c.message) || (f->path && !c.path)) return -1;
  l->items[l->n++] = c;
  return 0;
}

/* Copies the profile and overrides that produced the list, for the writers. */
static vast_err keep_policy(vast_findings *l, const vast_validate_options *opt) {
  l->profile = opt ? (int)opt->profile : VAST_PROFILE_WEB;
  size_t n = 0;
  const vast_rule_override *ov = vast__validate_overrides_opt(opt, &n);
  if (!n) return VAST_OK;
  l->overrides = vast__arena_alloc(&l->arena, n * sizeof *l->overrides);
  if (!l->overrides) return VAST_E_NOMEM;
  for (size_t i = 0; i < n; i++) {
    l->overrides[i].rule_id = dup_str(&l->arena, ov[i].rule_id);
    l->overrides[i].severity = ov[i].severity;
    l->overrides[i].source = dup_str(&l->arena, ov[i].source);
    if (!l->overrides[i].rule_id || (ov[i].source && !l->overrides[i].source)) return VAST_E_NOMEM;
  }
  l->n_overrides = n;
  return VAST_OK;
}

static int collect(void *ctx, const vast_finding *f) {
  vast_findings *l = ctx;
  if (vast__findings_add(l, f) == 0) return 0;
  l->oom = 1;
  return 1; /* stop */
}

vast_err vast_validate_list(const vast_doc *doc, const vast_validate_options *opt,
                            vast_findings **out) {
  if (!out) return VAST_E_INVAL;
  *out = NULL;
  vast_findings *l = vast__findings_new();
  if (!l) return VAST_E_NOMEM;
  vast_err e = vast_validate(doc, opt, collect, l);
  if (e == VAST_OK && l->oom) e = VAST_E_NOMEM;
  if (e == VAST_OK) e = keep_policy(l, opt);
  if (e != VAST_OK) {
    vast_findings_free(l);
    return e;
  }
  *out = l;
  return VAST_OK;
}

vast_err vast_findings_from_parse_error(const vast_error *err, vast_findings **out) {
  if (!out || !err) return VAST_E_INVAL;
  *out = NULL;
  vast_findings *l = vast__findings_new();
  if (!l) return VAST_E_NOMEM;
  vast__rule_idx r = VAST__R_XML_MALFORMED;
  if (err->code == VAST_E_NOT_VAST)
    r = VAST__R_NOT_VAST;
  else if (err->code == VAST_E_VERSION)
    r = VAST__R_VERSION_UNSUPPORTED;
  else if (err->code == VAST_E_ENTITY || err->code == VAST_E_LIMIT)
    r = VAST__R_INPUT_REFUSED;
  char msg[300];
  snprintf(msg, sizeof msg, "%s", err->message[0] ? err->message : vast_strerror(err->code));
  vast_finding f = {
      .rule = &vast__rules[r],
      .rule_id = vast__rules[r].id,
      .severity = VAST_SEV_ERROR,
      .iab_code = err->iab_code ? err->iab_code : vast__rules[r].iab_code,
      .message = msg,
      .fix = vast__rules[r].fix,
      .path = "/",
      .line = (uint32_t)err->line,
      .column = (uint32_t)err->column,
  };
  if (vast__findings_add(l, &f) != 0) {
    vast_findings_free(l);
    return VAST_E_NOMEM;
  }
  *out = l;
  return VAST_OK;
}

size_t vast_findings_count(const vast_findings *l) {
  return l ? l->n : 0;
}

int vast_findings_profile(const vast_findings *l) {
  return l ? l->profile : -1;
}

const vast_rule_override *vast_findings_overrides(const vast_findings *l, size_t *n) {
  if (n) *n = l ? l->n_overrides : 0;
  return l ? l->overrides : NULL;
}

const vast_finding *vast_findings_at(const vast_findings *l, size_t i) {
  return l && i < l->n ? &l->items[i] : NULL;
}

size_t vast_findings_count_severity(const vast_findings *l, vast_severity sev) {
  size_t n = 0;
  for (size_t i = 0; l && i < l->n; i++)
    n += l->items[i].severity == sev;
  return n;
}

int vast_findings_has(const vast_findings *l, const char *rule_id) {
  for (size_t i = 0; l && rule_id && i < l->n; i++)
    if (strcmp(l->items[i].rule_id, rule_id) == 0) return 1;
  return 0;
}

void vast_findings_free(vast_findings *l) {
  if (!l) return;
  vast__arena_free(&l->arena);
  free(l->items);
  free(l);
}

/* ---- writers ------------------------------------------------------------- */

/* A small buffered writer: output goes to `write` in pieces of up to 4 KiB. */
typedef struct ob {
  vast_write_fn write;
  void *ctx;
  int failed;
  size_t n;
  char buf[4096];
} ob;

static void ob_flush(ob *o) {
  if (o->n && !o->failed && o->write(o->ctx, o->buf, o->n) != 0) o->failed = 1;
  o->n = 0;
}

static void ob_put(ob *o, const char *s, size_t n) {
  while (n) {
    if (o->n == sizeof o->buf) ob_flush(o);
    size_t k = sizeof o->buf - o->n < n ? sizeof o->buf - o->n : n;
    memcpy(o->buf + o->n, s, k);
    o->n += k;
    s += k;
    n -= k;
  }
}

static void ob_s(ob *o, const char *s) {
  ob_put(o, s, strlen(s));
}

static void ob_printf(ob *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ob_printf(ob *o, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) ob_put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static vast_err ob_done(ob *o) {
  ob_flush(o);
  return o->failed ? VAST_E_IO : VAST_OK;
}

/* ---- text ---------------------------------------------------------------- */

void vast_text_options_init(vast_text_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->collapse_at = 3;
  o->show_positions = 3;
}

/* One line of text output: a finding, or every finding of one rule (collapsed). */
typedef struct entry {
  const vast_finding *f; /* the first (by position) */
  size_t count;          /* 1, or the findings of the rule when collapsed */
  size_t order;          /* original index, for a stable sort */
  size_t rule;           /* rule index */
} entry;

static int pos_cmp(const vast_finding *a, const vast_finding *b) {
  if (a->line != b->line) return a->line < b->line ? -1 : 1;
  if (a->column != b->column) return a->column < b->column ? -1 : 1;
  return 0;
}

static int entry_cmp(const void *pa, const void *pb) {
  const entry *a = pa, *b = pb;
  int c = pos_cmp(a->f, b->f);
  if (c) return c;
  return a->order < b->order ? -1 : a->order > b->order;
}

static const char *sev_colour(vast_severity s) {
  return s == VAST_SEV_ERROR ? "\033[1;31m" : s == VAST_SEV_WARNING ? "\033[1;33m" : "\033[36m";
}

static const char *sev_word(vast_severity s) {
  return s == VAST_SEV_INFO ? "note" : vast_severity_name(s);
}

/* "(profile ctv)" or "(profile ctv; rules: a=error from --rule, b=off from x:3)" */
static void ob_policy(ob *o, const vast_findings *l) {
  int p = l ? l->profile : -1;
  ob_printf(o, "(profile %s", p >= 0 ? vast_profile_name((vast_profile)p) : "web");
  for (size_t i = 0; l && i < l->n_overrides; i++) {
    const vast_rule_override *r = &l->overrides[i];
    ob_printf(o, "%s%s=%s", i ? ", " : "; rules: ", r->rule_id, vast_severity_name(r->severity));
    if (r->source) ob_printf(o, " from %s", r->source);
  }
  ob_s(o, ")");
}

static void plural(ob *o, size_t n, const char *one, const char *many) {
  ob_printf(o, "%zu %s", n, n == 1 ? one : many);
}

vast_err vast_findings_write_text_opts(const vast_findings *l, const char *name,
                                       const vast_text_options *opt, vast_write_fn write,
                                       void *ctx) {
  if (!write) return VAST_E_INVAL;
  vast_text_options def;
  if (!opt) {
    vast_text_options_init(&def);
    opt = &def;
  }
  /* the name and the messages carry text from the tag (URLs, ids): escaped so
   * that it cannot forge lines or send escape sequences to a terminal */
  char safe_name[1024], safe_msg[4 * 768];
  vast_text_escape(name ? name : "-", safe_name, sizeof safe_name);
  name = safe_name;
  ob o = {.write = write, .ctx = ctx};
  size_t n = l ? l->n : 0;
  const char *bold = opt->color ? "\033[1m" : "", *reset = opt->color ? "\033[0m" : "";
  if (n == 0) {
    ob_printf(&o, "%s%s%s: no findings ", bold, name, reset);
    ob_policy(&o, l);
    ob_s(&o, "\n");
    return ob_done(&o);
  }
  /* per rule: findings, and distinct positions (several findings at one
   * place, such as missing-quartile's five events, are not "repeated") */
  size_t per_rule[VAST__R__COUNT], places[VAST__R__COUNT];
  uint32_t last_line[VAST__R__COUNT], last_col[VAST__R__COUNT];
  memset(per_rule, 0, sizeof per_rule);
  memset(places, 0, sizeof places);
  for (size_t i = 0; i < n; i++) {
    const vast_finding *f = &l->items[i];
    size_t r = (size_t)(f->rule - vast__rules);
    if (!per_rule[r]++ || f->line != last_line[r] || f->column != last_col[r]) places[r]++;
    last_line[r] = f->line;
    last_col[r] = f->column;
  }
  entry *es = malloc(n * sizeof *es);
  if (!es) return VAST_E_NOMEM;
  size_t ne = 0, group[VAST__R__COUNT];
  size_t collapse = opt->all || opt->collapse_at < 2 ? (size_t)-1 : opt->collapse_at;
  for (size_t r = 0; r < VAST__R__COUNT; r++)
    group[r] = (size_t)-1;
  for (size_t i = 0; i < n; i++) {
    const vast_finding *f = &l->items[i];
    size_t r = (size_t)(f->rule - vast__rules);
    if (places[r] >= collapse) { /* one entry per rule: the earliest finding */
      if (group[r] != (size_t)-1) {
        if (pos_cmp(f, es[group[r]].f) < 0) es[group[r]].f = f;
        continue;
      }
      group[r] = ne;
      es[ne++] = (entry){f, per_rule[r], i, r};
    } else {
      es[ne++] = (entry){f, 1, i, r};
    }
  }
  qsort(es, ne, sizeof *es, entry_cmp);
  for (size_t k = 0; k < ne; k++) {
    const vast_finding *f = es[k].f;
    ob_printf(&o, "%s:%u:%u: %s%s%s: ", name, f->line, f->column,
              opt->color ? sev_colour(f->severity) : "", sev_word(f->severity), reset);
    const char *msg = f->message ? f->message : "";
    if (es[k].count > 1) { /* the message when all agree, else the rule's summary */
      for (size_t i = 0; i < n; i++)
        if (l->items[i].rule == f->rule &&
            strcmp(l->items[i].message ? l->items[i].message : "", msg)) {
          msg = f->rule->summary;
          break;
        }
    }
    vast_text_escape(msg, safe_msg, sizeof safe_msg);
    ob_s(&o, safe_msg);
    if (f->iab_code)
      ob_printf(&o, " [%s, VAST code %d]", f->rule_id, f->iab_code);
    else
      ob_printf(&o, " [%s]", f->rule_id);
    if (es[k].count > 1) {
      /* the first positions, in document order */
      const vast_finding *shown[16];
      size_t want = opt->show_positions < 16 ? opt->show_positions : 16, ns = 0;
      for (size_t i = 0; i < n; i++) {
        const vast_finding *g = &l->items[i];
        if (g->rule != f->rule) continue;
        int seen = 0;
        for (size_t k2 = 0; k2 < ns && !seen; k2++)
          seen = pos_cmp(g, shown[k2]) == 0;
        if (seen) continue;
        size_t at = ns;
        while (at > 0 && pos_cmp(g, shown[at - 1]) < 0)
          at--;
        if (at >= want) continue;
        if (ns < want) ns++;
        memmove(shown + at + 1, shown + at, (ns - 1 - at) * sizeof *shown);
        shown[at] = g;
      }
      ob_printf(&o, " (%zu times; first at ", es[k].count);
      for (size_t i = 0; i < ns; i++)
        ob_printf(&o, "%s%u:%u", i ? ", " : "", shown[i]->line, shown[i]->column);
      ob_s(&o, places[es[k].rule] > ns ? ", ...; --all lists each)" : "; --all lists each)");
    }
    ob_s(&o, "\n    fix: ");
    ob_s(&o, f->fix ? f->fix : "");
    ob_s(&o, "\n");
  }
  free(es);
  ob_s(&o, bold);
  plural(&o, vast_findings_count_severity(l, VAST_SEV_ERROR), "error", "errors");
  ob_s(&o, ", ");
  plural(&o, vast_findings_count_severity(l, VAST_SEV_WARNING), "warning", "warnings");
  ob_s(&o, ", ");
  plural(&o, vast_findings_count_severity(l, VAST_SEV_INFO), "note", "notes");
  ob_printf(&o, " in %s%s ", name, reset);
  ob_policy(&o, l);
  ob_s(&o, "\n");
  return ob_done(&o);
}

vast_err vast_findings_write_text(const vast_findings *l, const char *name, vast_write_fn write,
                                  void *ctx) {
  return vast_findings_write_text_opts(l, name, NULL, write, ctx);
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_finding(vast__jw *w, const vast_finding *f) {
  vast__jw_obj_begin(w);
  vast__jw_kstr(w, "rule", f->rule_id);
  vast__jw_kstr(w, "severity", vast_severity_name(f->severity));
  vast__jw_key(w, "iabCode");
  if (f->iab_code)
    vast__jw_int(w, f->iab_code);
  else
    vast__jw_null(w);
  vast__jw_kstr(w, "message", f->message ? f->message : "");
  vast__jw_kstr(w, "fix", f->fix ? f->fix : "");
  vast__jw_kstr(w, "path", f->path ? f->path : "");
  vast__jw_key(w, "line");
  if (f->line)
    vast__jw_int(w, f->line);
  else
    vast__jw_null(w);
  vast__jw_key(w, "column");
  if (f->column)
    vast__jw_int(w, f->column);
  else
    vast__jw_null(w);
  vast__jw_obj_end(w);
}

vast_err vast_findings_write_json(const vast_findings *l, const char *name, vast_write_fn write,
                                  void *ctx) {
  if (!write) return VAST_E_INVAL;
  vast__jw w;
  vast__jw_init(&w, write, ctx);
  vast__jw_obj_begin(&w);
  vast__jw_kstr(&w, "file", name ? name : "-");
  vast__jw_key(&w, "profile");
  if (l && l->profile >= 0)
    vast__jw_str(&w, vast_profile_name((vast_profile)l->profile));
  else
    vast__jw_null(&w);
  vast__jw_key(&w, "overrides");
  vast__jw_arr_begin(&w);
  for (size_t i = 0; l && i < l->n_overrides; i++) {
    vast__jw_obj_begin(&w);
    vast__jw_kstr(&w, "rule", l->overrides[i].rule_id);
    vast__jw_kstr(&w, "severity", vast_severity_name(l->overrides[i].severity));
    vast__jw_kstr(&w, "source", l->overrides[i].source);
    vast__jw_obj_end(&w);
  }
  vast__jw_arr_end(&w);
  vast__jw_kint(&w, "errors", (long long)vast_findings_count_severity(l, VAST_SEV_ERROR));
  vast__jw_kint(&w, "warnings", (long long)vast_findings_count_severity(l, VAST_SEV_WARNING));
  vast__jw_kint(&w, "infos", (long long)vast_findings_count_severity(l, VAST_SEV_INFO));
  vast__jw_key(&w, "findings");
  vast__jw_arr_begin(&w);
  for (size_t i = 0; l && i < l->n; i++)
    json_finding(&w, &l->items[i]);
  vast__jw_arr_end(&w);
  vast__jw_obj_end(&w);
  vast__jw_raw(&w, "\n", 1);
  return vast__jw_finish(&w) ? VAST_E_IO : VAST_OK;
}

/* ---- SARIF 2.1.0 --------------------------------------------------------- */

#define HELP_BASE "https://github.com/vastrack/vastrack/blob/main/docs/validate.md#"

static const char *sarif_level(vast_severity s) {
  return s == VAST_SEV_ERROR     ? "error"
         : s == VAST_SEV_WARNING ? "warning"
         : s == VAST_SEV_INFO    ? "note"
                                 : "none";
}

/* {"text":s} */
static void sarif_text(vast__jw *w, const char *key, const char *s) {
  vast__jw_key(w, key);
  vast__jw_obj_begin(w);
  vast__jw_kstr(w, "text", s ? s : "");
  vast__jw_obj_end(w);
}

vast_err vast_sarif_begin(vast_profile profile, vast_write_fn write, void *ctx, int *state) {
  if (!write || !state || (unsigned)profile >= VAST_PROFILE__COUNT) return VAST_E_INVAL;
  *state = 0;
  static const char head[] =
      "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\","
      "\"runs\":[{\"tool\":{\"driver\":{\"name\":\"vastrack\",\"version\":\"" VAST_VERSION_STRING
      "\",\"informationUri\":\"" HELP_BASE "\",\"rules\":[";
  vast__jw w;
  vast__jw_init(&w, write, ctx);
  vast__jw_raw(&w, head, sizeof head - 1); /* the rules are the elements written next */
  for (size_t i = 0; i < VAST__R__COUNT; i++) {
    const vast_rule *r = &vast__rules[i];
    vast__jw_obj_begin(&w);
    vast__jw_kstr(&w, "id", r->id);
    sarif_text(&w, "shortDescription", r->summary);
    char full[1024];
    if (r->iab_code)
      snprintf(full, sizeof full, "%s (leads to IAB VAST error %d). Fix: %s.", r->summary,
               r->iab_code, r->fix);
    else
      snprintf(full, sizeof full, "%s. Fix: %s.", r->summary, r->fix);
    sarif_text(&w, "fullDescription", full);
    char help[512];
    snprintf(help, sizeof help, HELP_BASE "%s", r->id);
    vast__jw_kstr(&w, "helpUri", help);
    sarif_text(&w, "help", r->fix);
    vast_severity s = r->severity[profile];
    vast__jw_key(&w, "defaultConfiguration");
    vast__jw_obj_begin(&w);
    vast__jw_kstr(&w, "level", sarif_level(s));
    vast__jw_kbool_opt(&w, "enabled", s != VAST_SEV_OFF);
    vast__jw_obj_end(&w);
    vast__jw_key(&w, "properties");
    vast__jw_obj_begin(&w);
    vast__jw_kstr(&w, "category", r->category);
    vast__jw_kint(&w, "iabCode", r->iab_code);
    vast__jw_obj_end(&w);
    vast__jw_obj_end(&w);
  }
  vast__jw_raw(&w, "]}}", 3);
  vast__jw_key(&w, "properties"); /* at the run's level now: the writer adds the comma */
  vast__jw_obj_begin(&w);
  vast__jw_kstr(&w, "profile", vast_profile_name(profile));
  vast__jw_obj_end(&w);
  vast__jw_raw(&w, ",\"results\":[", 12);
  return vast__jw_finish(&w) ? VAST_E_IO : VAST_OK;
}

/* artifactLocation.uri is a URI reference: percent-encode what is not allowed. */
static void uri_ref(vast__buf *b, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    unsigned c = *p;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        strchr("-._~/:?#@!$&'()*+,;=", (int)c))
      vast__buf_write(b, (const char *)p, 1);
    else
      vast__buf_printf(b, "%%%02X", c);
  }
}

vast_err vast_sarif_add(const vast_findings *l, const char *uri, vast_write_fn write, void *ctx,
                        int *state) {
  if (!write || !state) return VAST_E_INVAL;
  if (!uri || strcmp(uri, "-") == 0) uri = "stdin";
  vast__buf ref = {0};
  uri_ref(&ref, uri);
  if (ref.fail) {
    vast__buf_free(&ref);
    return VAST_E_NOMEM;
  }
  vast__jw w;
  vast__jw_init(&w, write, ctx);
  if (*state && l && l->n) vast__jw_raw(&w, ",", 1); /* after the results of earlier calls */
  for (size_t i = 0; l && i < l->n; i++) {
    const vast_finding *f = &l->items[i];
    (*state)++;
    vast__jw_obj_begin(&w);
    vast__jw_kstr(&w, "ruleId", f->rule_id ? f->rule_id : "");
    vast__jw_kint(&w, "ruleIndex", (long long)(f->rule - vast__rules));
    vast__jw_kstr(&w, "level", sarif_level(f->severity));
    sarif_text(&w, "message", f->message);
    vast__jw_key(&w, "locations");
    vast__jw_arr_begin(&w);
    vast__jw_obj_begin(&w);
    vast__jw_key(&w, "physicalLocation");
    vast__jw_obj_begin(&w);
    vast__jw_key(&w, "artifactLocation");
    vast__jw_obj_begin(&w);
    vast__jw_kstr(&w, "uri", ref.p ? ref.p : "");
    vast__jw_obj_end(&w);
    if (f->line) {
      vast__jw_key(&w, "region");
      vast__jw_obj_begin(&w);
      vast__jw_kint(&w, "startLine", f->line);
      if (f->column) vast__jw_kint(&w, "startColumn", f->column);
      vast__jw_obj_end(&w);
    }
    vast__jw_obj_end(&w);
    vast__jw_key(&w, "logicalLocations");
    vast__jw_arr_begin(&w);
    vast__jw_obj_begin(&w);
    vast__jw_kstr(&w, "fullyQualifiedName", f->path ? f->path : "");
    vast__jw_kstr(&w, "kind", "element");
    vast__jw_obj_end(&w);
    vast__jw_arr_end(&w);
    vast__jw_obj_end(&w);
    vast__jw_arr_end(&w);
    vast__jw_key(&w, "properties");
    vast__jw_obj_begin(&w);
    vast__jw_kint(&w, "iabCode", f->iab_code);
    vast__jw_obj_end(&w);
    vast__jw_obj_end(&w);
  }
  vast__buf_free(&ref);
  return vast__jw_finish(&w) ? VAST_E_IO : VAST_OK;
}

vast_err vast_sarif_end(vast_write_fn write, void *ctx, int *state) {
  if (!write || !state) return VAST_E_INVAL;
  return write(ctx, "]}]}\n", 5) ? VAST_E_IO : VAST_OK;
}

/* ---- audit --------------------------------------------------------------- */

static void add_word(char *buf, size_t cap, const char *w);

typedef struct tally {
  size_t per_rule[VAST__R__COUNT];
  size_t by_sev[3];
} tally;

static int tally_fn(void *ctx, const vast_finding *f) {
  tally *t = ctx;
  t->per_rule[f->rule - vast__rules]++;
  if (f->severity >= VAST_SEV_INFO && f->severity <= VAST_SEV_ERROR) t->by_sev[f->severity]++;
  return 0;
}

/* The ctv pass: the first error's rule and message, and the other error rules. */
typedef struct ctv_errs {
  size_t n;
  char first[200];
  size_t per_rule[VAST__R__COUNT];
  size_t first_rule;
} ctv_errs;

static int ctv_error(void *ctx, const vast_finding *f) {
  ctv_errs *c = ctx;
  if (f->severity != VAST_SEV_ERROR) return 0;
  size_t r = (size_t)(f->rule - vast__rules);
  if (!c->n++) {
    snprintf(c->first, sizeof c->first, "%s: %s", f->rule_id, f->message ? f->message : "");
    c->first_rule = r;
  }
  c->per_rule[r]++;
  return 0;
}

static void ctv_reason(vast_audit *a, const ctv_errs *c) {
  size_t n = (size_t)snprintf(a->ctv_reason, sizeof a->ctv_reason, "%s", c->first);
  int more = 0;
  for (size_t r = 0; r < VAST__R__COUNT && n < sizeof a->ctv_reason; r++) {
    if (!c->per_rule[r] || r == c->first_rule) continue;
    n += (size_t)snprintf(a->ctv_reason + n, sizeof a->ctv_reason - n, "%s%s",
                          more++ ? ", " : "; also ", vast__rules[r].id);
  }
  if (n >= sizeof a->ctv_reason) memcpy(a->ctv_reason + sizeof a->ctv_reason - 4, "...", 4);
}

/* Tracking event names and core events of one Linear into the row. */
static void audit_tracking(vast_audit *a, const vast_tracking *t, size_t n);

/*
 * With a resolved chain: impressions and events of the merged chain of each
 * resolved ad (every Wrapper level plus the InLine), what the player fires.
 */
static void audit_chain(vast_audit *a, const vast_chain *chain) {
  static const vast_event core[VAST_AUDIT_CORE_EVENTS] = {VAST_EV_START, VAST_EV_FIRST_QUARTILE,
                                                          VAST_EV_MIDPOINT, VAST_EV_THIRD_QUARTILE,
                                                          VAST_EV_COMPLETE};
  size_t na = 0;
  const vast_resolved *ra = vast_chain_ads(chain, &na);
  if (!na) return;
  a->impressions = 0;
  a->events_present[0] = 0;
  a->events_missing[0] = 0;
  for (size_t i = 0; i < na; i++) {
    unsigned have = 0;
    int linear = 0;
    for (size_t k = 0; k < ra[i].n; k++) {
      const vast_ad *ad = ra[i].ads[k];
      if (!ad) continue;
      a->impressions += ad->n_impressions;
      for (size_t c = 0; c < ad->n_creatives; c++) {
        const vast_creative *cr = &ad->creatives[c];
        const vast_tracking *t = NULL;
        size_t nt = 0;
        if (cr->kind == VAST_CREATIVE_LINEAR && cr->linear) {
          t = cr->linear->tracking, nt = cr->linear->n_tracking;
          linear |= ad->kind == VAST_AD_INLINE;
        } else if (cr->kind == VAST_CREATIVE_NONLINEAR && cr->nonlinear) {
          t = cr->nonlinear->tracking, nt = cr->nonlinear->n_tracking;
        }
        audit_tracking(a, t, nt);
        if (cr->kind == VAST_CREATIVE_LINEAR)
          for (size_t j = 0; j < nt; j++)
            for (int e = 0; e < VAST_AUDIT_CORE_EVENTS; e++)
              have |= (t[j].event == core[e]) << e;
      }
    }
    for (int e = 0; linear && e < VAST_AUDIT_CORE_EVENTS; e++)
      if (!(have & (1u << e)))
        add_word(a->events_missing, sizeof a->events_missing, vast_event_name(core[e]));
  }
}

/* Appends word to a space-separated list in buf unless already there. */
static void add_word(char *buf, size_t cap, const char *w) {
  size_t wl = strlen(w), bl = strlen(buf);
  for (const char *p = buf; (p = strstr(p, w)) != NULL; p += wl)
    if ((p == buf || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == 0)) return;
  if (bl + wl + 2 > cap) return;
  if (bl) buf[bl++] = ' ';
  memcpy(buf + bl, w, wl + 1);
}

static void audit_tracking(vast_audit *a, const vast_tracking *t, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (t[i].event_name && *t[i].event_name)
      add_word(a->events_present, sizeof a->events_present, t[i].event_name);
}

static void audit_vast(vast_audit *a, const vast_vast *vv, size_t *inl, size_t *wr) {
  static const vast_event core[VAST_AUDIT_CORE_EVENTS] = {VAST_EV_START, VAST_EV_FIRST_QUARTILE,
                                                          VAST_EV_MIDPOINT, VAST_EV_THIRD_QUARTILE,
                                                          VAST_EV_COMPLETE};
  a->ads += vv->n_ads;
  for (size_t i = 0; i < vv->n_ads; i++) {
    const vast_ad *ad = &vv->ads[i];
    *inl += ad->kind == VAST_AD_INLINE;
    *wr += ad->kind == VAST_AD_WRAPPER;
    a->impressions += ad->n_impressions;
    for (size_t c = 0; c < ad->n_creatives; c++) {
      const vast_creative *cr = &ad->creatives[c];
      if (cr->kind == VAST_CREATIVE_LINEAR && cr->linear) {
        audit_tracking(a, cr->linear->tracking, cr->linear->n_tracking);
        if (ad->kind == VAST_AD_INLINE)
          for (int k = 0; k < VAST_AUDIT_CORE_EVENTS; k++) {
            int have = 0;
            for (size_t j = 0; j < cr->linear->n_tracking; j++)
              have |= cr->linear->tracking[j].event == core[k];
            if (!have)
              add_word(a->events_missing, sizeof a->events_missing, vast_event_name(core[k]));
          }
      } else if (cr->kind == VAST_CREATIVE_NONLINEAR && cr->nonlinear) {
        audit_tracking(a, cr->nonlinear->tracking, cr->nonlinear->n_tracking);
      } else if (cr->kind == VAST_CREATIVE_COMPANION && cr->companions) {
        for (size_t j = 0; j < cr->companions->n_companions; j++)
          audit_tracking(a, cr->companions->companions[j].tracking,
                         cr->companions->companions[j].n_tracking);
      }
    }
  }
}

vast_err vast_audit_doc(const vast_doc *doc, const vast_validate_options *opt, vast_audit *a) {
  if (!doc || !a) return VAST_E_INVAL;
  memset(a, 0, sizeof *a);
  vast_validate_options def;
  if (!opt) {
    vast_validate_options_init(&def);
    opt = &def;
  }
  tally t;
  memset(&t, 0, sizeof t);
  vast_err e = vast_validate(doc, opt, tally_fn, &t);
  if (e) return e;
  a->errors = t.by_sev[VAST_SEV_ERROR];
  a->warnings = t.by_sev[VAST_SEV_WARNING];
  a->infos = t.by_sev[VAST_SEV_INFO];

  /* issues, most severe first: severity of each rule under the profile used */
  size_t n = 0;
  for (int sev = VAST_SEV_ERROR; sev >= VAST_SEV_INFO; sev--)
    for (size_t r = 0; r < VAST__R__COUNT; r++) {
      if (!t.per_rule[r] || vast__rules[r].severity[opt->profile] != sev) continue;
      char item[96];
      snprintf(item, sizeof item, "%s%s(%zu)", n ? "; " : "", vast__rules[r].id, t.per_rule[r]);
      size_t il = strlen(item);
      if (n + il + 6 >= sizeof a->issues) {
        memcpy(a->issues + n, "; ...", 6);
        goto issues_done;
      }
      memcpy(a->issues + n, item, il + 1);
      n += il;
    }
issues_done:;

  ctv_errs ce;
  memset(&ce, 0, sizeof ce);
  vast_validate_options ctv = *opt;
  ctv.profile = VAST_PROFILE_CTV;
  ctv.min_severity = VAST_SEV_ERROR;
  e = vast_validate(doc, &ctv, ctv_error, &ce);
  if (e) return e;
  a->ctv_compatible = !ce.n;
  if (ce.n) ctv_reason(a, &ce);

  size_t inl = 0, wr = 0;
  if (vast_doc_kind_of(doc) == VAST_DOC_VMAP) {
    const vast_vmap *vm = vast_doc_vmap(doc);
    snprintf(a->version, sizeof a->version, "VMAP %s", vm && vm->version ? vm->version : "");
    for (size_t i = 0; vm && i < vm->n_breaks; i++)
      if (vm->breaks[i].source_kind == VAST_SOURCE_VAST && vm->breaks[i].vast)
        audit_vast(a, vm->breaks[i].vast, &inl, &wr);
    a->ad_type = "vmap";
  } else {
    const vast_vast *vv = vast_doc_vast(doc);
    if (vv) {
      snprintf(a->version, sizeof a->version, "%s", vv->version ? vv->version : "");
      audit_vast(a, vv, &inl, &wr);
    }
    a->ad_type = a->ads == 0 ? "no-ad" : wr == 0 ? "inline" : inl == 0 && wr ? "wrapper" : "mixed";
    if (a->ads && inl == 0 && wr == 0) a->ad_type = "empty";
  }
  a->wrapper_hops = wr ? 1 : 0;
  const vast_chain *chain = vast__validate_chain_opt(opt);
  if (chain) {
    a->wrapper_hops = vast__chain_wrapper_levels(chain);
    audit_chain(a, chain);
  }
  if (!strcmp(a->ad_type, "no-ad") || !strcmp(a->ad_type, "empty")) {
    a->ctv_compatible = 0; /* nothing to play, whatever the rules say */
    snprintf(a->ctv_reason, sizeof a->ctv_reason, "%s",
             a->ads ? "no Ad has an InLine or Wrapper: nothing to play"
                    : "no ad in the response (no fill): nothing to play");
  }
  return VAST_OK;
}

void vast_audit_parse_error(const vast_error *err, vast_audit *a) {
  if (!a) return;
  memset(a, 0, sizeof *a);
  a->ad_type = "invalid";
  a->errors = 1;
  const char *id = "xml-malformed";
  if (err) {
    if (err->code == VAST_E_NOT_VAST)
      id = "not-vast";
    else if (err->code == VAST_E_VERSION)
      id = "version-unsupported";
    else if (err->code == VAST_E_ENTITY || err->code == VAST_E_LIMIT)
      id = "input-refused";
  }
  snprintf(a->issues, sizeof a->issues, "%s(1)", id);
  snprintf(a->ctv_reason, sizeof a->ctv_reason, "%s: the tag does not parse", id);
}
