/*
 * breaks.c: ad breaks (include/vastrack/breaks.h). Pods in play order with
 * their buffet, VMAP schedules on a content timeline, and the break-level
 * tracking of VMAP (breakStart, breakEnd, error). No I/O: the caller resolves
 * AdTagURI sources (vast_resolve_url) and plays the ads with trackers.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/error.h"
#include "vastrack/breaks.h"
#include "track/track-int.h"

/* ---- pods ---- */

void vast_pod_clear(vast_pod *pod) {
  if (!pod) return;
  free(pod->ads);
  free(pod->buffet);
  memset(pod, 0, sizeof *pod);
}

vast_err vast_pod_from_vast(const vast_vast *v, vast_pod *out) {
  if (!out) return VAST_E_INVAL;
  memset(out, 0, sizeof *out);
  if (!v || !v->n_ads) return VAST_OK;
  vast_pod_ad *pod = calloc(v->n_ads, sizeof *pod), *buf = calloc(v->n_ads, sizeof *buf);
  if (!pod || !buf) {
    free(pod);
    free(buf);
    return VAST_E_NOMEM;
  }
  size_t np = 0, nb = 0;
  for (size_t i = 0; i < v->n_ads; i++) {
    const vast_ad *ad = &v->ads[i];
    vast_pod_ad e;
    if (vast__select_ad(&e.sel, NULL, 1, ad, 0) != VAST_OK) continue;
    e.sequence = ad->sequence;
    if (ad->sequence >= 0) { /* insertion sort by sequence, stable */
      size_t j = np++;
      while (j > 0 && pod[j - 1].sequence > e.sequence) {
        pod[j] = pod[j - 1];
        j--;
      }
      pod[j] = e;
    } else {
      buf[nb++] = e;
    }
  }
  if (!np && nb) { /* no pod: the first standalone ad plays, the rest are fallbacks */
    pod[np++] = buf[0];
    memmove(buf, buf + 1, (nb - 1) * sizeof *buf);
    nb--;
  }
  for (size_t i = 0; i < np; i++)
    pod[i].sel.n_playable = np;
  out->ads = pod;
  out->n_ads = np;
  out->buffet = buf;
  out->n_buffet = nb;
  return VAST_OK;
}

vast_err vast_pod_from_chain(const struct vast_chain *chain, vast_pod *out) {
  if (!out) return VAST_E_INVAL;
  memset(out, 0, sizeof *out);
  size_t n = 0;
  const vast_resolved *res = chain ? vast_chain_ads(chain, &n) : NULL;
  if (!res || !n) return VAST_OK;
  vast_pod_ad *pod = calloc(n, sizeof *pod);
  if (!pod) return VAST_E_NOMEM;
  size_t np = 0;
  for (size_t i = 0; i < n; i++) {
    const vast_resolved *r = &res[i];
    if (!r->n) continue;
    vast_pod_ad e;
    if (vast__select_ad(&e.sel, r->ads, r->n, r->ads[r->n - 1], 0) != VAST_OK) continue;
    e.sequence = r->sequence;
    pod[np++] = e;
  }
  for (size_t i = 0; i < np; i++)
    pod[i].sel.n_playable = np;
  out->ads = pod;
  out->n_ads = np;
  return VAST_OK;
}

/* ---- schedules ---- */

void vast_schedule_opts_init(vast_schedule_opts *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->content = -1;
}

/* Places one break: fills at, position and why. */
static void place(vast_break_slot *s, const vast_schedule_opts *o) {
  const vast_ad_break *b = s->brk;
  double content = o->content;
  s->at = -1;
  s->position = 0;
  s->repeat = 0;
  s->why = NULL;
  switch (b->offset_kind) {
  case VAST_BREAK_START:
    s->at = 0;
    break;
  case VAST_BREAK_END:
    s->at = content >= 0 ? content : -1;
    s->position = VAST_BREAKPOS_POSTROLL;
    return;
  case VAST_BREAK_TIME:
    s->at = b->offset_value;
    break;
  case VAST_BREAK_PERCENT:
    if (content < 0) {
      s->why = "a percent offset needs the content duration";
      return;
    }
    s->at = b->offset_value / 100.0 * content;
    break;
  case VAST_BREAK_POSITION: {
    double k = b->offset_value;
    if (!(k >= 1 && k == floor(k) && k <= (double)o->n_cues)) {
      s->why = o->n_cues ? "a #n offset names the n-th cue point of the content, and fewer "
                           "cue points are known"
                         : "a #n offset names a cue point of the content, and no cue points "
                           "are known";
      return;
    }
    s->at = o->cues[(size_t)k - 1];
    break;
  }
  default:
    s->why = "the timeOffset is not start, end, HH:MM:SS.mmm, n% or #n";
    return;
  }
  if (s->at <= 0)
    s->position = VAST_BREAKPOS_PREROLL;
  else if (content >= 0 && s->at >= content) {
    s->at = content; /* at or past the end: a postroll */
    s->position = VAST_BREAKPOS_POSTROLL;
  } else
    s->position = VAST_BREAKPOS_MIDROLL;
}

#define MAX_REPEATS 1000000000.0 /* copies of one break counted at most */

/* The repetitions (repeatAfter) of a placed break: how many copies follow it
 * before the content's end; sets s->why when repeatAfter cannot be used. */
static size_t copies(vast_break_slot *s, const vast_schedule_opts *o) {
  const vast_offset *r = &s->brk->repeat_after;
  if (!r->raw || !s->position || s->position == VAST_BREAKPOS_POSTROLL) return 0;
  if (r->kind != VAST_OFFSET_TIME || !(r->value > 0)) {
    s->why = "repeatAfter is not an interval above 0 (HH:MM:SS.mmm): the break plays once";
    return 0;
  }
  if (o->content < 0) {
    s->why = "repeatAfter needs the content duration: the break plays once";
    return 0;
  }
  double q = ceil((o->content - s->at) / r->value) - 1;
  if (q > MAX_REPEATS) q = MAX_REPEATS;
  while (q > 0 && s->at + q * r->value >= o->content)
    q--;
  return q > 0 ? (size_t)q : 0;
}

/* Sort key: placed before unplaced; postrolls after every other placed break;
 * then time, document order, repetition. A total order: qsort is stable here. */
static int slot_cmp(const void *pa, const void *pb) {
  const vast_break_slot *x = pa, *y = pb;
  int gx = !x->position ? 2 : x->position == VAST_BREAKPOS_POSTROLL;
  int gy = !y->position ? 2 : y->position == VAST_BREAKPOS_POSTROLL;
  if (gx != gy) return gx < gy ? -1 : 1;
  if (gx != 2 && x->at != y->at) return x->at < y->at ? -1 : 1;
  if (x->index != y->index) return x->index < y->index ? -1 : 1;
  return x->repeat < y->repeat ? -1 : x->repeat > y->repeat;
}

vast_err vast_vmap_schedule(const vast_vmap *m, double content, vast_break_slot *out, size_t cap,
                            size_t *n) {
  vast_schedule_opts o;
  vast_schedule_opts_init(&o);
  o.content = content;
  return vast_vmap_schedule_opts(m, &o, out, cap, n);
}

vast_err vast_vmap_schedule_opts(const vast_vmap *m, const vast_schedule_opts *opts,
                                 vast_break_slot *out, size_t cap, size_t *n) {
  if (n) *n = 0;
  if (!m || !n || (!out && cap)) return VAST_E_INVAL;
  vast_schedule_opts o;
  vast_schedule_opts_init(&o);
  if (opts) {
    if (opts->size != sizeof *opts) return VAST_E_INVAL;
    o = *opts;
  }
  if (o.n_cues && !o.cues) return VAST_E_INVAL;
  for (size_t i = 0; i < o.n_cues; i++)
    if (!isfinite(o.cues[i]) || o.cues[i] < 0 || (i && o.cues[i] < o.cues[i - 1]))
      return VAST_E_INVAL;
  size_t total = 0;
  for (size_t i = 0; i < m->n_breaks; i++) {
    vast_break_slot s = {.brk = &m->breaks[i], .index = i};
    place(&s, &o);
    size_t c = copies(&s, &o);
    total = total + 1 + c < total ? SIZE_MAX : total + 1 + c;
  }
  *n = total;
  if (total > cap) return VAST_E_NOSPACE;
  size_t j = 0;
  for (size_t i = 0; i < m->n_breaks; i++) {
    vast_break_slot s = {.brk = &m->breaks[i], .index = i};
    place(&s, &o);
    size_t c = copies(&s, &o);
    out[j++] = s;
    for (size_t k = 1; k <= c; k++) {
      vast_break_slot t = s;
      t.repeat = (unsigned)k;
      t.at = s.at + (double)k * s.brk->repeat_after.value;
      t.position = VAST_BREAKPOS_MIDROLL;
      t.why = NULL;
      out[j++] = t;
    }
  }
  qsort(out, total, sizeof *out, slot_cmp);
  return VAST_OK;
}

/* ---- break tracking ---- */

/* Copies tmpl into out with [ERRORCODE] and %%ERRORCODE%% replaced by code (a
 * VMAP code of 4 digits the 3-digit macro cannot carry). */
static void put_code(const char *tmpl, int code, char *out, size_t cap) {
  static const char *const names[] = {"[ERRORCODE]", "%%ERRORCODE%%"};
  size_t o = 0;
  for (const char *p = tmpl; *p && o + 1 < cap;) {
    size_t k = 0;
    for (; k < 2; k++)
      if (!strncmp(p, names[k], strlen(names[k]))) break;
    if (k < 2) {
      int w = snprintf(out + o, cap - o, "%d", code);
      if (w < 0 || (size_t)w >= cap - o) break;
      o += (size_t)w;
      p += strlen(names[k]);
    } else {
      out[o++] = *p++;
    }
  }
  out[o] = 0;
}

long vast_break_track(const vast_ad_break *b, const char *event, int position, int code,
                      const vast_macro_ctx *ctx, vast_break_fn fn, void *user) {
  if (!b || !event || !fn) return -1;
  vast_macro_ctx local;
  if (ctx)
    local = *ctx;
  else
    vast_macro_ctx_init(&local);
  char pos[16];
  if (position > 0) {
    snprintf(pos, sizeof pos, "%d", position);
    if (local.value[VAST_MACRO_BREAKPOSITION] != VAST_MACRO_WITHHELD)
      local.value[VAST_MACRO_BREAKPOSITION] = pos;
  }
  vast_macro_vars v;
  vast_macro_vars_init(&v);
  v.wall_time = vast_now();
  long count = 0;
  unsigned long long seed =
      (unsigned long long)(uintptr_t)b ^ (unsigned long long)(v.wall_time * 1e6);
  for (size_t i = 0; i < b->n_tracking; i++) {
    const vast_tracking *t = &b->tracking[i];
    if (!t->event_name || strcmp(t->event_name, event) || !t->url || !t->url[0]) continue;
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    v.cachebust = (long)((seed >> 33) % 100000000ull);
    char tmp[4096], url[4096];
    const char *src = t->url;
    if (code >= 1000) {
      put_code(t->url, code, tmp, sizeof tmp);
      src = tmp;
    } else if (code > 0) {
      v.error_code = code;
    }
    vast_macro_expand(src, strlen(src), &local, &v, url, sizeof url, NULL);
    fn(user, event, url, t->url);
    count++;
  }
  return count;
}

vast_err vast_break_vast_source(const vast_doc *doc, const vast_ad_break *b, const char **buf,
                                size_t *len) {
  if (buf) *buf = NULL;
  if (len) *len = 0;
  if (!doc || !b || !buf || !len || b->source_kind != VAST_SOURCE_VAST || !b->vast)
    return VAST_E_INVAL;
  size_t n = 0;
  const char *src = vast_doc_source(doc, &n);
  size_t off = b->vast->pos.offset;
  if (!src || !b->vast->pos.line || off >= n || src[off] != '<') return VAST_E_NOT_FOUND;
  /* the element's name as written (VAST, or a prefixed vast:VAST) */
  size_t ne = off + 1;
  while (ne < n && src[ne] != '>' && src[ne] != ' ' && src[ne] != '\t' && src[ne] != '\r' &&
         src[ne] != '\n' && src[ne] != '/')
    ne++;
  char close[80];
  int w = snprintf(close, sizeof close, "</%.*s", (int)(ne - off - 1), src + off + 1);
  if (w < 0 || (size_t)w >= sizeof close) return VAST_E_NOT_FOUND;
  /* the close tag itself, not a longer name it begins (</VASTAdTagURI>) */
  const char *end = src + off;
  for (;;) {
    end = memmem(end, (size_t)(src + n - end), close, (size_t)w);
    if (!end) return VAST_E_NOT_FOUND;
    char c = end + w < src + n ? end[w] : 0;
    if (c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n') break;
    end += w;
  }
  const char *gt = memchr(end, '>', (size_t)(src + n - end));
  if (!gt) return VAST_E_NOT_FOUND;
  *buf = src + off;
  *len = (size_t)(gt + 1 - (src + off));
  return VAST_OK;
}

vast_err vast_break_resolve(const vast_doc *doc, const vast_ad_break *b, int position,
                            const char *base, const vast_resolve_opts *opts, vast_chain **chain,
                            vast_error *err) {
  if (chain) *chain = NULL;
  if (!doc || !b || !chain) return vast__error_set(err, VAST_E_INVAL, 900, "invalid argument");
  vast_resolve_opts o;
  if (opts)
    o = *opts;
  else
    vast_resolve_opts_init(&o);
  int base_is_file = base && strncasecmp(base, "http://", 7) && strncasecmp(base, "https://", 8);
  switch (b->source_kind) {
  case VAST_SOURCE_VAST: {
    const char *buf;
    size_t len;
    if (vast_break_vast_source(doc, b, &buf, &len) != VAST_OK)
      return vast__error_set(err, VAST_E_NOT_FOUND, 1006,
                             "the break's VASTAdData cannot be located");
    return vast_resolve_buffer(buf, len, base, &o, chain, err);
  }
  case VAST_SOURCE_URI: {
    if (!b->ad_tag_uri || !b->ad_tag_uri[0])
      return vast__error_set(err, VAST_E_URL, 1008, "the break's AdTagURI is empty");
    char *abs = NULL;
    int is_file = 0;
    vast_err rc = base ? vast_url_resolve(base, b->ad_tag_uri, &abs, &is_file)
                       : vast_url_resolve("http://invalid/", b->ad_tag_uri, &abs, &is_file);
    if (rc != VAST_OK) {
      return vast__error_set(err, rc, 1008, "AdTagURI '%.200s' is not a usable URL", b->ad_tag_uri);
    }
    if (!base && strncasecmp(b->ad_tag_uri, "http", 4)) {
      free(abs);
      return vast__error_set(err, VAST_E_URL, 1008, "a relative AdTagURI needs the VMAP's own URL");
    }
    if (is_file) {
      vast_err r2 = base_is_file && o.allow_files
                        ? vast_resolve_file(abs, &o, chain, err)
                        : vast__error_set(err, VAST_E_URL, 1008,
                                          "a relative AdTagURI read from disk "
                                          "needs allow_files");
      free(abs);
      return r2;
    }
    vast_macro_ctx m;
    if (o.macros)
      m = *o.macros;
    else
      vast_macro_ctx_init(&m);
    char pos[16], tx[40];
    snprintf(pos, sizeof pos, "%d", position);
    if (position > 0 && m.value[VAST_MACRO_BREAKPOSITION] != VAST_MACRO_WITHHELD)
      m.value[VAST_MACRO_BREAKPOSITION] = pos;
    /* the AdTagURI request opens the transaction: the resolution shares its id */
    if (!m.value[VAST_MACRO_TRANSACTIONID] && vast_transaction_id(tx, sizeof tx) == VAST_OK)
      m.value[VAST_MACRO_TRANSACTIONID] = tx;
    o.macros = &m;
    vast_macro_vars v;
    vast_macro_vars_init(&v);
    v.wall_time = vast_now();
    char url[4096];
    size_t ulen = 0;
    vast_err xe = vast_macro_expand(abs, strlen(abs), &m, &v, url, sizeof url, &ulen);
    free(abs);
    if (xe != VAST_OK)
      return vast__error_set(err, VAST_E_URL, 1008, "the AdTagURI is too long once expanded");
    return vast_resolve_url(url, &o, chain, err);
  }
  case VAST_SOURCE_CUSTOM:
    return vast__error_set(err, VAST_E_NOT_FOUND, 1005,
                           "CustomAdData is not supported (only VASTAdData and AdTagURI)");
  default:
    return vast__error_set(err, VAST_E_NO_AD, 303, "the break has no AdSource");
  }
}
