/*
 * validate/validate-walk.h: what the files of the rule engine share
 * (internal): the walk's state, the reporting functions, and the rule checks
 * one file calls in another. Files:
 *   validate.c        the rule table, options, reporting, vast_validate;
 *   validate-url.c    the URL rules;
 *   validate-ad.c     the document, ad, creative, media and event rules, and
 *                     the parser notes that become findings;
 *   validate-chain.c  the wrapper chain rules.
 */
#ifndef VASTRACK_VALIDATE_WALK_H
#define VASTRACK_VALIDATE_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "validate/validate-int.h"
#include "vastrack/doc.h"

/* ---- the walk's state ---------------------------------------------------- */

typedef struct seg {
  const char *name;
  unsigned idx; /* 1-based; 0 = no index */
} seg;

typedef struct V {
  signed char sev[VAST__R__COUNT]; /* effective severity, VAST_SEV_OFF when not run */
  vast_finding_fn fn;
  void *ctx;
  int stop;
  int ver;          /* declared version * 10 (43 for 4.3); 0 when unknown */
  int iab_override; /* when set, the finding's IAB code instead of the rule's */
  int nseg;
  int rn;          /* segments of the path last rendered (rsegs) */
  const char *src; /* the document text, for what the model does not keep (CDATA) */
  size_t src_len;
  /* not zeroed at the start (only read up to nseg / rn, or written first) */
  seg segs[32];
  seg rsegs[32];
  uint16_t rlen[33]; /* path length after rendering i of rsegs */
  char path[768];
  char msg[768];
} V;

static inline int on(const V *v, vast__rule_idx r) {
  return !v->stop && v->sev[r] != VAST_SEV_OFF;
}

static inline void push(V *v, const char *name, size_t idx) {
  if (v->nseg < (int)(sizeof v->segs / sizeof v->segs[0])) {
    v->segs[v->nseg].name = name;
    v->segs[v->nseg].idx = (unsigned)idx;
  }
  v->nseg++;
}
static inline void pop(V *v) {
  v->nseg--;
}

/* ---- across the files ---------------------------------------------------- */

/* Formats the element path of v's segment stack into v->path. validate.c. */
void vast__render_path(V *v);
/* Hands a finding of rule r (message in v->msg) to the caller's callback. validate.c. */
void vast__report(V *v, vast__rule_idx r, const char *path, vast_pos pos);
/* Reports rule r at the current path (plus an optional child element). validate.c. */
void vast__emit(V *v, vast__rule_idx r, vast_pos pos, const char *child, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* What a URL is for: the URL rules that apply depend on it. */
enum url_kind { U_BEACON, U_ERROR, U_MEDIA, U_CLICK, U_WRAPPER, U_RESOURCE };

/* The URL rules (validate-url.c): the character table, set up once before a
 * walk; one URL (returns its length, for duplicate detection); a list of
 * vast_url with duplicate detection; one URL element. */
void vast__url_class_init(void);
size_t vast__check_url(V *v, const char *url, vast_pos pos, const char *what, enum url_kind kind);
void vast__check_url_list(V *v, const vast_url *u, size_t n, const char *elem, enum url_kind kind,
                          int dup);
void vast__check_single_url(V *v, const char *url, vast_pos pos, const char *elem,
                            enum url_kind kind);

/* The document rules (validate-ad.c): a VAST document, a VMAP document, and
 * the parser notes not covered by a model rule. */
void vast__check_vast(V *v, const vast_vast *vv, vast_doc_kind kind);
void vast__check_vmap(V *v, const vast_vmap *vm);
void vast__check_notes(V *v, const vast_doc *doc);

/* The chain rules on opt->chain (validate-chain.c). */
void vast__check_chain(V *v, const vast_chain *c);

#endif
