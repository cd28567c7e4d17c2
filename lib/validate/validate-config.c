/*
 * validate-config.c: validation policies (vastrack/validate.h,
 * vast_validate_config_*): rule severity overrides from `--rule ID=LEVEL`
 * and from a small TOML subset (`profile = "ctv"` and a `[rules]` table), as
 * read from `--config FILE` or `.vastrack.toml`. The handle owns the strings
 * of its overrides in an arena; vast_validate only borrows the array.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "validate/validate-int.h"

struct vast_validate_config {
  int profile; /* -1: not set */
  vast_rule_override *items;
  size_t n, cap;
  vast__arena arena;
};

vast_err vast_severity_from_name(const char *name, vast_severity *out) {
  if (!name || !out) return VAST_E_INVAL;
  static const struct {
    const char *name;
    vast_severity sev;
  } names[] = {{"off", VAST_SEV_OFF},      {"info", VAST_SEV_INFO},
               {"note", VAST_SEV_INFO},    {"warning", VAST_SEV_WARNING},
               {"warn", VAST_SEV_WARNING}, {"error", VAST_SEV_ERROR}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(name, names[i].name) == 0) {
      *out = names[i].sev;
      return VAST_OK;
    }
  return VAST_E_INVAL;
}

vast_validate_config *vast_validate_config_new(void) {
  vast_validate_config *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->profile = -1;
  vast__arena_init(&c->arena);
  return c;
}

void vast_validate_config_free(vast_validate_config *c) {
  if (!c) return;
  vast__arena_free(&c->arena);
  free(c->items);
  free(c);
}

int vast_validate_config_profile(const vast_validate_config *c) {
  return c ? c->profile : -1;
}

const vast_rule_override *vast_validate_config_overrides(const vast_validate_config *c, size_t *n) {
  if (n) *n = c ? c->n : 0;
  return c ? c->items : NULL;
}

void vast_validate_config_apply(const vast_validate_config *c, vast_validate_options *opt,
                                int keep_profile) {
  if (!c || !opt) return;
  if (c->profile >= 0 && !keep_profile) opt->profile = (vast_profile)c->profile;
  opt->overrides = c->items;
  opt->n_overrides = c->n;
}

static vast_err fail(vast_error *err, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static vast_err fail(vast_error *err, unsigned long line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vast__error_setv(err, VAST_E_INVAL, 0, fmt, ap); /* base/error.h, plus the line */
  va_end(ap);
  if (err) err->line = line;
  return VAST_E_INVAL;
}

/* Appends an override (strings copied into the arena). */
static vast_err add(vast_validate_config *c, const char *id, size_t idlen, vast_severity sev,
                    const char *source) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 8;
    vast_rule_override *it = realloc(c->items, cap * sizeof *it);
    if (!it) return VAST_E_NOMEM;
    c->items = it;
    c->cap = cap;
  }
  const char *i = vast__arena_strndup(&c->arena, id, idlen);
  const char *s = source ? vast__arena_strndup(&c->arena, source, strlen(source)) : NULL;
  if (!i || (source && !s)) return VAST_E_NOMEM;
  c->items[c->n].rule_id = i;
  c->items[c->n].severity = sev;
  c->items[c->n].source = s;
  c->n++;
  return VAST_OK;
}

/* Checks a rule id and severity name; fills err (with `line`) when wrong. */
static vast_err check_pair(const char *id, size_t idlen, const char *lvl, size_t lvlen,
                           vast_severity *sev, const char *where, unsigned long line,
                           vast_error *err) {
  char idb[96], lb[32];
  if (idlen == 0 || idlen >= sizeof idb)
    return fail(err, line, "%s: missing or overlong rule id", where);
  memcpy(idb, id, idlen);
  idb[idlen] = 0;
  if (!vast_rule_find(idb))
    return fail(err, line, "%s: unknown rule '%s' (see 'vastrack validate --list-rules')", where,
                idb);
  if (lvlen == 0 || lvlen >= sizeof lb)
    return fail(err, line, "%s: rule '%s' needs a level: off, info, warning or error", where, idb);
  memcpy(lb, lvl, lvlen);
  lb[lvlen] = 0;
  if (vast_severity_from_name(lb, sev) != VAST_OK)
    return fail(err, line, "%s: unknown level '%s' for rule '%s' (off, info, warning, error)",
                where, lb, idb);
  return VAST_OK;
}

vast_err vast_validate_config_add_rule(vast_validate_config *c, const char *spec,
                                       const char *source, vast_error *err) {
  if (!c || !spec) return VAST_E_INVAL;
  const char *eq = strchr(spec, '=');
  if (!eq) return fail(err, 0, "rule override '%.80s' is not ID=LEVEL", spec);
  vast_severity sev;
  char where[128];
  snprintf(where, sizeof where, "%s", source ? source : "rule override");
  vast_err e = check_pair(spec, (size_t)(eq - spec), eq + 1, strlen(eq + 1), &sev, where, 0, err);
  if (e) return e;
  return add(c, spec, (size_t)(eq - spec), sev, source);
}

/* ---- the TOML subset ----------------------------------------------------- */

static int is_bare(int ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '-' || ch == '_';
}

static const char *skip_ws(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\t'))
    p++;
  return p;
}

/* A key or value token at p: bare word or "quoted"/'quoted' (no escapes). */
static const char *token(const char *p, const char *e, const char **s, size_t *n) {
  if (p < e && (*p == '"' || *p == '\'')) {
    char q = *p++;
    const char *st = p;
    while (p < e && *p != q)
      p++;
    if (p >= e) return NULL;
    *s = st;
    *n = (size_t)(p - st);
    return p + 1;
  }
  const char *st = p;
  while (p < e && is_bare((unsigned char)*p))
    p++;
  if (p == st) return NULL;
  *s = st;
  *n = (size_t)(p - st);
  return p;
}

vast_err vast_validate_config_load(vast_validate_config *c, const char *text, size_t len,
                                   const char *source, vast_error *err) {
  if (!c || (!text && len)) return VAST_E_INVAL;
  if (!source) source = "config";
  size_t n0 = c->n;
  int profile = c->profile;
  int in_rules = 0;
  unsigned long line = 0;
  const char *p = text, *end = text + len;
  vast_err e = VAST_OK;
  while (p < end && e == VAST_OK) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    line++;
    const char *q = skip_ws(p, eol), *le = eol;
    if (le > q && le[-1] == '\r') le--;
    p = eol + (eol < end);
    if (q == le || *q == '#') continue;
    if (*q == '[') {
      const char *s;
      size_t n;
      const char *r = token(skip_ws(q + 1, le), le, &s, &n);
      r = r ? skip_ws(r, le) : NULL;
      if (!r || r >= le || *r != ']') {
        e = fail(err, line, "%s:%lu: malformed table header", source, line);
        break;
      }
      r = skip_ws(r + 1, le);
      if (r < le && *r != '#') {
        e = fail(err, line, "%s:%lu: text after the table header", source, line);
        break;
      }
      if (n != 5 || memcmp(s, "rules", 5) != 0) {
        e = fail(err, line, "%s:%lu: unknown table [%.*s] (only [rules] is known)", source, line,
                 (int)(n > 60 ? 60 : n), s);
        break;
      }
      in_rules = 1;
      continue;
    }
    const char *k, *v;
    size_t kn, vn;
    const char *r = token(q, le, &k, &kn);
    if (r) r = skip_ws(r, le);
    if (!r || r >= le || *r != '=') {
      e = fail(err, line, "%s:%lu: expected KEY = VALUE", source, line);
      break;
    }
    r = token(skip_ws(r + 1, le), le, &v, &vn);
    if (r) r = skip_ws(r, le);
    if (!r || (r < le && *r != '#')) {
      e = fail(err, line, "%s:%lu: malformed value (write KEY = \"VALUE\")", source, line);
      break;
    }
    char where[300];
    snprintf(where, sizeof where, "%s:%lu", source, line);
    if (!in_rules) {
      if (kn != 7 || memcmp(k, "profile", 7) != 0) {
        e = fail(err, line, "%s: unknown key '%.*s' (known: profile, and rules under [rules])",
                 where, (int)(kn > 60 ? 60 : kn), k);
        break;
      }
      char pb[16];
      vast_profile pr;
      snprintf(pb, sizeof pb, "%.*s", (int)(vn > 15 ? 15 : vn), v);
      if (vn > 15 || vast_profile_from_name(pb, &pr) != VAST_OK) {
        e = fail(err, line, "%s: unknown profile '%.*s' (web, ctv, ssai, audio)", where,
                 (int)(vn > 40 ? 40 : vn), v);
        break;
      }
      profile = (int)pr;
      continue;
    }
    vast_severity sev;
    e = check_pair(k, kn, v, vn, &sev, where, line, err);
    if (e == VAST_OK) e = add(c, k, kn, sev, where);
  }
  if (e != VAST_OK) {
    c->n = n0; /* nothing of this text is kept */
    return e;
  }
  c->profile = profile;
  return VAST_OK;
}
