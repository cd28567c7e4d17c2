/*
 * validate.c: the rule engine. One walk over the parsed model (vastrack/doc.h)
 * runs every enabled rule of the chosen profile and reports each finding with
 * its rule, severity, IAB code, line/column and element path.
 *
 * Cost matters (the audit runs over thousands of tags and the benchmark holds
 * validation under a tenth of the parse time), so the walk keeps the element
 * path as a small stack of (name, index) pairs and formats the path and the
 * message only when a finding is actually reported. Each URL is scanned once
 * for all URL rules.
 *
 * This file holds the rule table, the options, the reporting (path, message,
 * callback) and vast_validate; the rules are in validate-url.c (URLs),
 * validate-ad.c (the document model) and validate-chain.c (wrapper chain),
 * the walk's state they share in validate-walk.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "validate/validate-int.h"
#include "validate/validate-walk.h"

#define E VAST_SEV_ERROR
#define W VAST_SEV_WARNING
#define I VAST_SEV_INFO
#define O VAST_SEV_OFF
const vast_rule vast__rules[VAST__R__COUNT] = {
#define VAST__RULE_ROW(e, id, cat, code, w, c, s, a, sum, fix)                                     \
  {id, cat, code, sum, fix, {w, c, s, a}},
    VAST__RULES(VAST__RULE_ROW)
#undef VAST__RULE_ROW
};
#undef E
#undef W
#undef I
#undef O

size_t vast_rule_count(void) {
  return VAST__R__COUNT;
}

const vast_rule *vast_rule_at(size_t i) {
  return i < VAST__R__COUNT ? &vast__rules[i] : NULL;
}

const vast_rule *vast_rule_find(const char *id) {
  if (!id) return NULL;
  for (size_t i = 0; i < VAST__R__COUNT; i++)
    if (strcmp(vast__rules[i].id, id) == 0) return &vast__rules[i];
  return NULL;
}

const char *vast_severity_name(vast_severity sev) {
  switch (sev) {
  case VAST_SEV_INFO:
    return "info";
  case VAST_SEV_WARNING:
    return "warning";
  case VAST_SEV_ERROR:
    return "error";
  case VAST_SEV_OFF:
    return "off";
  }
  return "off";
}

static const char *const profile_names[VAST_PROFILE__COUNT] = {"web", "ctv", "ssai", "audio"};

const char *vast_profile_name(vast_profile p) {
  return (unsigned)p < VAST_PROFILE__COUNT ? profile_names[p] : "";
}

vast_err vast_profile_from_name(const char *name, vast_profile *out) {
  if (!name || !out) return VAST_E_INVAL;
  for (int i = 0; i < VAST_PROFILE__COUNT; i++)
    if (strcasecmp(name, profile_names[i]) == 0) {
      *out = (vast_profile)i;
      return VAST_OK;
    }
  return VAST_E_INVAL;
}

void vast_validate_options_init(vast_validate_options *opt) {
  if (!opt) return;
  memset(opt, 0, sizeof *opt);
  opt->size = sizeof *opt;
  opt->profile = VAST_PROFILE_WEB;
  opt->min_severity = VAST_SEV_INFO;
}

/* ---- reporting ----------------------------------------------------------- */

/*
 * Formats the segment stack as "/VAST/Ad[1]/InLine..." (hot when many
 * findings). The segments rendered last time are remembered with the length
 * of the path after each, so only what changed since is written again.
 */
void vast__render_path(V *v) {
  int lim = v->nseg < 32 ? v->nseg : 32;
  int k = 0;
  while (k < lim && k < v->rn && v->rsegs[k].name == v->segs[k].name &&
         v->rsegs[k].idx == v->segs[k].idx)
    k++;
  char *o = v->path + v->rlen[k], *end = v->path + sizeof v->path - 16;
  int i = k;
  for (; i < lim && o < end; i++) {
    *o++ = '/';
    size_t nl = strlen(v->segs[i].name);
    if (nl > (size_t)(end - o)) nl = (size_t)(end - o);
    memcpy(o, v->segs[i].name, nl);
    o += nl;
    if (v->segs[i].idx) {
      char d[12];
      int n = 0;
      for (unsigned x = v->segs[i].idx; x && n < 11; x /= 10)
        d[n++] = (char)('0' + x % 10);
      *o++ = '[';
      while (n)
        *o++ = d[--n];
      *o++ = ']';
    }
    v->rsegs[i] = v->segs[i];
    v->rlen[i + 1] = (uint16_t)(o - v->path);
  }
  v->rn = o < end ? i : 0; /* a cut path is not reused */
  *o = 0;
}

void vast__report(V *v, vast__rule_idx r, const char *path, vast_pos pos) {
  vast_finding f;
  f.rule = &vast__rules[r];
  f.rule_id = f.rule->id;
  f.severity = (vast_severity)v->sev[r];
  f.iab_code = v->iab_override ? v->iab_override : f.rule->iab_code;
  f.message = v->msg;
  f.fix = f.rule->fix;
  f.path = path;
  f.line = pos.line;
  f.column = pos.column;
  if (v->fn(v->ctx, &f) != 0) v->stop = 1;
}

/*
 * fmt_msg: vsnprintf for the few conversions the messages use (%s, %.Ns,
 * %.*s, %d, %zu, %%), several times faster than the C library's, which
 * matters when a tag has hundreds of findings. Anything else falls back to
 * vsnprintf.
 */
static void fmt_msg(char *out, size_t cap, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  char *o = out, *end = out + cap - 1;
  for (const char *f = fmt; *f; f++) {
    if (*f != '%') { /* the literal text up to the next conversion */
      const char *pc = strchr(f, '%');
      size_t lit = pc ? (size_t)(pc - f) : strlen(f);
      size_t c = lit < (size_t)(end - o) ? lit : (size_t)(end - o);
      memcpy(o, f, c);
      o += c;
      f += lit - 1;
      continue;
    }
    f++;
    long prec = -1;
    if (*f == '.') {
      f++;
      if (*f == '*') {
        prec = va_arg(ap, int);
        f++;
      } else {
        prec = 0;
        while (*f >= '0' && *f <= '9')
          prec = prec * 10 + (*f++ - '0');
      }
    }
    char num[24];
    const char *str = NULL;
    size_t n = 0;
    if (*f == 's') {
      str = va_arg(ap, const char *);
      if (!str) str = "(null)";
      n = prec >= 0 ? strnlen(str, (size_t)prec) : strlen(str);
    } else if (*f == 'd' && prec < 0) {
      long x = va_arg(ap, int);
      unsigned long u = x < 0 ? (unsigned long)-x : (unsigned long)x;
      char *q = num + sizeof num;
      do
        *--q = (char)('0' + u % 10);
      while (u /= 10);
      if (x < 0) *--q = '-';
      str = q;
      n = (size_t)(num + sizeof num - q);
    } else if (f[0] == 'z' && f[1] == 'u' && prec < 0) {
      f++;
      size_t u = va_arg(ap, size_t);
      char *q = num + sizeof num;
      do
        *--q = (char)('0' + u % 10);
      while (u /= 10);
      str = q;
      n = (size_t)(num + sizeof num - q);
    } else if (*f == '%' && prec < 0) {
      str = "%";
      n = 1;
    } else { /* not handled here */
      vsnprintf(out, cap, fmt, ap2);
      va_end(ap2);
      return;
    }
    if (n > (size_t)(end - o)) n = (size_t)(end - o);
    memcpy(o, str, n);
    o += n;
  }
  *o = 0;
  va_end(ap2);
}

/* Reports rule r at the current path (plus an optional child element). */
void vast__emit(V *v, vast__rule_idx r, vast_pos pos, const char *child, const char *fmt, ...) {
  if (!on(v, r)) return;
  va_list ap;
  va_start(ap, fmt);
  fmt_msg(v->msg, sizeof v->msg, fmt, ap);
  va_end(ap);
  if (child) push(v, child, 0);
  vast__render_path(v);
  if (child) pop(v);
  vast__report(v, r, v->path, pos);
}

/* ---- the walk ------------------------------------------------------------ */

const vast_chain *vast__validate_chain_opt(const vast_validate_options *opt) {
  return opt && opt->size >= offsetof(vast_validate_options, chain) + sizeof opt->chain ? opt->chain
                                                                                        : NULL;
}

const vast_rule_override *vast__validate_overrides_opt(const vast_validate_options *opt,
                                                       size_t *n) {
  *n = 0;
  if (!opt || opt->size < offsetof(vast_validate_options, n_overrides) + sizeof opt->n_overrides ||
      !opt->overrides)
    return NULL;
  *n = opt->n_overrides;
  return opt->overrides;
}

vast_err vast_validate(const vast_doc *doc, const vast_validate_options *opt, vast_finding_fn fn,
                       void *ctx) {
  vast_validate_options def;
  if (!opt) {
    vast_validate_options_init(&def);
    opt = &def;
  }
  if (!doc || !fn || (unsigned)opt->profile >= VAST_PROFILE__COUNT) return VAST_E_INVAL;
  V vs; /* the walk's state: the small head zeroed, the buffers written before read */
  V *v = &vs;
  memset(v, 0, offsetof(V, segs));
  v->fn = fn;
  v->ctx = ctx;
  v->rlen[0] = 0;
  for (size_t r = 0; r < VAST__R__COUNT; r++)
    v->sev[r] = (signed char)vast__rules[r].severity[opt->profile];
  for (size_t i = 0; i < opt->n_disabled; i++) {
    const vast_rule *ru = vast_rule_find(opt->disabled[i]);
    if (ru) v->sev[ru - vast__rules] = VAST_SEV_OFF;
  }
  size_t n_ov = 0;
  const vast_rule_override *ov = vast__validate_overrides_opt(opt, &n_ov);
  for (size_t i = 0; i < n_ov; i++) {
    const vast_rule *ru = vast_rule_find(ov[i].rule_id);
    if (!ru || ov[i].severity < VAST_SEV_OFF || ov[i].severity > VAST_SEV_ERROR)
      return VAST_E_INVAL;
    v->sev[ru - vast__rules] = (signed char)ov[i].severity;
  }
  for (size_t r = 0; r < VAST__R__COUNT; r++)
    if (v->sev[r] != VAST_SEV_OFF && v->sev[r] < (int)opt->min_severity) v->sev[r] = VAST_SEV_OFF;
  vast__url_class_init();
  v->src = vast_doc_source(doc, &v->src_len);
  vast_doc_kind kind = vast_doc_kind_of(doc);
  if (kind == VAST_DOC_VMAP) {
    const vast_vmap *vm = vast_doc_vmap(doc);
    if (vm) vast__check_vmap(v, vm);
  } else {
    const vast_vast *vv = vast_doc_vast(doc);
    if (vv) vast__check_vast(v, vv, kind);
  }
  if (!v->stop) vast__check_notes(v, doc);
  const vast_chain *chain = vast__validate_chain_opt(opt);
  if (chain && !v->stop) vast__check_chain(v, chain);
  return VAST_OK;
}
