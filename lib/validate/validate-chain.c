/*
 * validate-chain.c: the rules on a resolved wrapper chain (opt->chain): one
 * finding per failed ad that went through a Wrapper, wrapper-depth per ad
 * resolved through too many Wrappers; and the chain's wrapper levels.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "validate/validate-int.h"
#include "validate/validate-walk.h"

/* ---- the wrapper chain (opt->chain) -------------------------------------- */

static size_t wrappers_in(const vast_ad *const *ads, size_t n) {
  size_t w = 0;
  for (size_t i = 0; i < n; i++)
    if (ads[i] && ads[i]->kind == VAST_AD_WRAPPER) w++;
  return w;
}

/* Index of the hop whose document holds `ad` (and the ad's index in it), or -1. */
static long hop_of(const vast_hop *hops, size_t nh, const vast_ad *ad, size_t *idx) {
  for (size_t i = 0; i < nh; i++) {
    const vast_vast *vv = hops[i].doc ? vast_doc_vast(hops[i].doc) : NULL;
    for (size_t k = 0; vv && k < vv->n_ads; k++)
      if (&vv->ads[k] == ad) {
        if (idx) *idx = k;
        return (long)i;
      }
  }
  return -1;
}

/* Where a failing path stopped: the document fetched (or attempted) for the last
 * Wrapper's URI when there is one, else the document holding the last level. */
static const char *failed_url(const vast_hop *hops, size_t nh, const vast_failure *f) {
  const vast_ad *last = f->ads[f->n - 1];
  long h = hop_of(hops, nh, last, NULL);
  if (h < 0) return "";
  if (last->kind == VAST_AD_WRAPPER && last->vast_ad_tag_uri) {
    char *u = NULL;
    if (vast_url_resolve(hops[h].url, last->vast_ad_tag_uri, &u, NULL) == VAST_OK) {
      for (size_t i = nh; i-- > 0;)
        if (hops[i].parent == h && hops[i].uri && strcmp(hops[i].uri, u) == 0) {
          free(u);
          return hops[i].url;
        }
      free(u);
    }
  }
  return hops[h].url; /* not fetched (limit, loop, refused): where it stopped */
}

static vast__rule_idx failure_rule(const vast_failure *f) {
  switch (f->iab_code) {
  case 302:
    return f->err == VAST_E_LOOP ? VAST__R_WRAPPER_LOOP : VAST__R_WRAPPER_LIMIT;
  case 303: /* Wrappers ignored under followAdditionalWrappers=false (issue 15) */
    return f->message && strstr(f->message, "followAdditionalWrappers") ? VAST__R_WRAPPER_REFUSED
                                                                        : VAST__R_WRAPPER_NO_AD;
  case 300:
    return VAST__R_WRAPPER_REFUSED;
  case 205:
    return VAST__R_WRAPPER_CATEGORY_BLOCKED; /* BlockedAdCategories (resolve.c) */
  case 100:
  case 101:
  case 102:
    return VAST__R_WRAPPER_RESPONSE_INVALID;
  default:
    return VAST__R_WRAPPER_UNAVAILABLE;
  }
}

/* Reports rule r on the root document's <Wrapper> holding `outer`. */
static void emit_on_wrapper(V *v, vast__rule_idx r, const vast_hop *hops, size_t nh,
                            const vast_ad *outer, int code, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static void emit_on_wrapper(V *v, vast__rule_idx r, const vast_hop *hops, size_t nh,
                            const vast_ad *outer, int code, const char *fmt, ...) {
  if (!on(v, r)) return;
  size_t k = 0;
  long h = hop_of(hops, nh, outer, &k);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->msg, sizeof v->msg, fmt, ap);
  va_end(ap);
  int base = v->nseg;
  push(v, "VAST", 0);
  push(v, "Ad", h == 0 ? k + 1 : 0);
  push(v, outer->kind == VAST_AD_WRAPPER ? "Wrapper" : "InLine", 0);
  vast__render_path(v);
  v->nseg = base;
  v->iab_override = code;
  vast__report(v, r, v->path, outer->body_pos.line ? outer->body_pos : outer->pos);
  v->iab_override = 0;
}

/*
 * The chain rules: one finding per failed ad that went through a Wrapper (its
 * rule from the failure's IAB code), and wrapper-depth for each resolved ad
 * with more than VAST_IAB_MAX_WRAPPERS Wrappers.
 */
void vast__check_chain(V *v, const vast_chain *c) {
  size_t nh = 0, na = 0, nf = 0;
  const vast_hop *hops = vast_chain_hops(c, &nh);
  const vast_resolved *ads = vast_chain_ads(c, &na);
  const vast_failure *fails = vast_chain_failures(c, &nf);
  for (size_t i = 0; i < na && !v->stop; i++) {
    size_t w = ads[i].n ? ads[i].n - 1 : 0;
    if (w > VAST_IAB_MAX_WRAPPERS && ads[i].ads[0])
      emit_on_wrapper(v, VAST__R_WRAPPER_DEPTH, hops, nh, ads[i].ads[0], 0,
                      "ad '%s' resolves through %zu Wrappers (the IAB recommends at most %d)",
                      ads[i].ads[0]->id ? ads[i].ads[0]->id : "", w, VAST_IAB_MAX_WRAPPERS);
  }
  for (size_t i = 0; i < nf && !v->stop; i++) {
    const vast_failure *f = &fails[i];
    if (!f->n || !f->ads || !f->ads[0] || f->ads[0]->kind != VAST_AD_WRAPPER) continue;
    const vast_ad *last = f->ads[f->n - 1];
    /* a Wrapper of this document without a URI: wrapper-missing-uri says it */
    if (f->n == 1 && f->iab_code == 101 && last->kind == VAST_AD_WRAPPER &&
        (!last->vast_ad_tag_uri || !*last->vast_ad_tag_uri))
      continue;
    const char *url = failed_url(hops, nh, f);
    const char *why = f->message ? f->message : vast_strerror(f->err);
    size_t ul = strlen(url);
    if (ul && strncmp(why, url, ul) == 0 && why[ul] == ':' && why[ul + 1] == ' ') why += ul + 2;
    size_t w = wrappers_in(f->ads, f->n);
    emit_on_wrapper(v, failure_rule(f), hops, nh, f->ads[0], f->iab_code,
                    "wrapper chain%s%.100s%s failed after %zu Wrapper%s at '%.300s': %.300s",
                    f->ads[0]->id ? " of ad '" : "", f->ads[0]->id ? f->ads[0]->id : "",
                    f->ads[0]->id ? "'" : "", w, w == 1 ? "" : "s", url, why);
  }
}

int vast__chain_wrapper_levels(const vast_chain *c) {
  size_t na = 0, nf = 0, best = 0;
  const vast_resolved *ads = vast_chain_ads(c, &na);
  const vast_failure *fails = vast_chain_failures(c, &nf);
  for (size_t i = 0; i < na; i++) {
    size_t w = wrappers_in(ads[i].ads, ads[i].n);
    if (w > best) best = w;
  }
  for (size_t i = 0; i < nf; i++) {
    size_t w = wrappers_in(fails[i].ads, fails[i].n);
    if (w > best) best = w;
  }
  return (int)best;
}
