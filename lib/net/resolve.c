/*
 * resolve.c: the wrapper-chain resolver. Starting from a tag (URL, file or
 * buffer) it fetches every VASTAdTagURI, depth first, until each selected ad ends
 * in an InLine, and records everything in a vast_chain: each document fetched
 * (kept alive, parsed), per-hop URL, status, latency and bytes, the resolved
 * chains of ads (outermost Wrapper first, InLine last) that the tracker takes,
 * the failures with their IAB codes, and the Error URLs fired for them.
 *
 * Ad selection, buffets, pods, fallbackOnNoAd and followAdditionalWrappers are
 * described in include/vastrack/net.h above vast_resolve_url(); the limits at the
 * top of that header. All memory of a chain lives in one arena plus the parsed
 * documents, freed by vast_chain_free().
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/error.h"
#include "net/net-int.h"
#include "parse/chain-int.h"

/* One level of the path being resolved: an ad and the hop (document) holding it. */
typedef struct level {
  const vast_ad *ad;
  size_t hop;
} level;

typedef struct rs {
  vast_chain *c;
  vast_resolve_opts o;
  uint64_t t0, deadline;
  CURL *easy;
  vast__guard guard;
  int requests; /* fetches made so far (the first gets first_timeout_ms) */
  level *path;
  size_t np, path_cap;
  vast_error first; /* first failure */
  int have_first;
  int nomem;
  uint64_t rng;            /* cache-busters */
  struct curl_slist *hdrs; /* opts headers (SSAI X-Device-*), on every request */
  vast_macro_ctx mctx;     /* the caller's macros + [TRANSACTIONID]: r.o.macros */
} rs;

void vast_resolve_opts_init(vast_resolve_opts *o) {
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->max_wrappers = VAST_DEFAULT_MAX_WRAPPERS;
  o->first_timeout_ms = VAST_DEFAULT_FIRST_TIMEOUT_MS;
  o->hop_timeout_ms = VAST_DEFAULT_HOP_TIMEOUT_MS;
  o->total_timeout_ms = VAST_DEFAULT_TOTAL_TIMEOUT_MS;
  o->max_redirects = VAST_DEFAULT_MAX_REDIRECTS;
  o->max_bytes = VAST_DEFAULT_MAX_RESPONSE;
  o->allow_files = 1;
}

static char *adup(rs *r, const char *s) {
  if (!s) return NULL;
  char *d = vast__arena_strndup(&r->c->arena, s, strlen(s));
  if (!d) r->nomem = 1;
  return d;
}

static void note_first(rs *r, vast_err code, int iab, const char *msg) {
  if (r->have_first) return;
  r->have_first = 1;
  r->first.code = code;
  r->first.iab_code = iab;
  snprintf(r->first.message, sizeof r->first.message, "%s", msg ? msg : vast_strerror(code));
}

/* ------------------------------------------------------------------------ */
/* Error URLs                                                                */
/* ------------------------------------------------------------------------ */

/*
 * Expands the IAB macros of a URL template with what the resolver knows: the
 * error code (0: none), the time, a fresh cache-buster, and the caller's values.
 * Returns a malloc'd string or NULL when out of memory.
 */
static char *expand(rs *r, const char *tmpl, int code) {
  vast_macro_vars v;
  vast_macro_vars_init(&v);
  v.wall_time = vast__wall();
  r->rng = r->rng * 6364136223846793005ull + 1442695040888963407ull;
  v.cachebust = 10000000 + (long)((r->rng >> 33) % 90000000);
  v.error_code = code;
  size_t len = strlen(tmpl), need = 0, cap = len * 2 + 64;
  for (int pass = 0; pass < 2; pass++) {
    char *out = malloc(cap);
    if (!out) return NULL;
    vast_err e = vast_macro_expand(tmpl, len, r->o.macros, &v, out, cap, &need);
    if (e == VAST_OK) return out;
    free(out);
    if (e != VAST_E_NOSPACE) return strdup(tmpl);
    cap = need + 1;
  }
  return NULL;
}

static void fire_errors(rs *r, const vast_url *urls, size_t n, int code) {
  for (size_t i = 0; i < n; i++) {
    if (!urls[i].url || !vast__is_http(urls[i].url)) continue;
    char *u = expand(r, urls[i].url, code);
    if (!u) {
      r->nomem = 1;
      return;
    }
    vast_error_beacon *b = vast__arena_push(&r->c->arena, &r->c->eb, &r->c->n_eb, sizeof *b);
    if (!b) {
      free(u);
      r->nomem = 1;
      return;
    }
    b->url = adup(r, u);
    b->iab_code = code;
    if (r->o.errors_to) {
      vast_beacon bc = {u, "error", -1, NULL};
      /* the resolver's guard goes with the beacon, whatever the dispatcher's own */
      (void)vast__dispatcher_submit_guarded(r->o.errors_to, &bc, 1, r->o.refuse_private);
      /* FULL: recorded only */
    }
    free(u);
  }
}

/* ------------------------------------------------------------------------ */
/* Hops                                                                      */
/* ------------------------------------------------------------------------ */

static int read_file_bounded(const char *path, size_t max, char **out, size_t *len,
                             int *too_large) {
  *out = NULL;
  *len = 0;
  *too_large = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t cap = 65536, n = 0;
  char *b = malloc(cap + 1);
  while (b) {
    if (n == cap) {
      if (cap >= max + 1) break;
      char *nb = realloc(b, cap * 2 + 1);
      if (!nb) {
        free(b);
        b = NULL;
        break;
      }
      b = nb;
      cap *= 2;
    }
    size_t k = fread(b + n, 1, cap - n, f);
    n += k;
    if (k == 0) break;
  }
  int e = errno, bad = ferror(f);
  fclose(f);
  if (!b) return -1;
  if (bad) {
    free(b);
    errno = e;
    return -1;
  }
  if (n > max) {
    free(b);
    *too_large = 1;
    return -1;
  }
  b[n] = 0;
  *out = b;
  *len = n;
  return 0;
}

static vast_err curl_fetch(rs *r, const char *url, long timeout_ms, vast_fetch_result *res,
                           char *msg, size_t msz) {
  if (!r->easy) {
    if (vast__curl_init() != 0 || !(r->easy = curl_easy_init())) return VAST_E_NOMEM;
    r->guard.refuse = r->o.refuse_private;
    vast__easy_common(r->easy, &r->guard, r->o.user_agent, r->o.max_redirects);
    if (r->hdrs) curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
  }
  r->guard.refused = 0;
  vast__sink s = {NULL, 0, 0, r->o.max_bytes, 0};
  char ebuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(r->easy, CURLOPT_URL, url);
  curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(r->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->o.max_bytes);
  curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, vast__sink_write);
  curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, ebuf);
  CURLcode rc = curl_easy_perform(r->easy);
  curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, NULL);
  long status = 0;
  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
  res->status = status;
  vast_err e = vast__curl_err(rc, &r->guard, s.too_large);
  if (e == VAST_OK && (status < 200 || status > 299)) {
    e = VAST_E_HTTP;
    snprintf(msg, msz, "HTTP status %ld", status);
  } else if (e != VAST_OK) {
    snprintf(msg, msz, "%s",
             e == VAST_E_FORBIDDEN   ? "destination address refused (private network)"
             : e == VAST_E_TOO_LARGE ? "response exceeds the size limit"
             : e == VAST_E_TIMEOUT   ? "timed out"
             : ebuf[0]               ? ebuf
                                     : curl_easy_strerror(rc));
  }
  if (e != VAST_OK) {
    free(s.buf);
    return e;
  }
  res->body = s.buf;
  res->len = s.len;
  return VAST_OK;
}

/*
 * Fetches (or reads) one document and parses it into a new hop; returns the hop's
 * index, or (size_t)-1 when out of memory. The hop records the failure, if any.
 */
static size_t add_hop(rs *r, const char *url, const char *uri, int is_file, unsigned depth,
                      int parent, const char *buf, size_t buflen) {
  vast_chain *c = r->c;
  vast_hop *h = vast__arena_push(&c->arena, &c->hops, &c->n_hops, sizeof *h);
  if (!h) {
    r->nomem = 1;
    return (size_t)-1;
  }
  size_t idx = c->n_hops - 1;
  h->url = adup(r, url ? url : "");
  h->uri = uri && url && strcmp(uri, url) ? adup(r, uri) : h->url;
  h->is_file = is_file;
  h->depth = depth;
  h->parent = parent;
  char msg[300] = "";
  vast_fetch_result res = {0};
  vast_err e = VAST_OK;
  uint64_t t = vast__now_us();
  if (buf) {
    res.body = NULL;
  } else if (is_file) {
    int too_large = 0;
    if (read_file_bounded(url, r->o.max_bytes, &res.body, &res.len, &too_large) != 0) {
      e = too_large ? VAST_E_TOO_LARGE : VAST_E_IO;
      snprintf(msg, sizeof msg, "%s", too_large ? "file exceeds the size limit" : strerror(errno));
    }
  } else {
    uint64_t now = vast__now_us();
    long tmo = r->requests == 0 ? r->o.first_timeout_ms : r->o.hop_timeout_ms;
    long left = now >= r->deadline ? 0 : (long)((r->deadline - now) / 1000);
    if (r->o.total_timeout_ms > 0 && (tmo <= 0 || left < tmo)) tmo = left;
    r->requests++;
    if (r->o.total_timeout_ms > 0 && tmo <= 0) {
      e = VAST_E_TIMEOUT;
      snprintf(msg, sizeof msg, "total time budget of %ld ms spent", r->o.total_timeout_ms);
    } else if (r->o.fetch) {
      e = r->o.fetch(r->o.fetch_ctx, url, tmo, r->o.max_bytes, &res);
      if (e == VAST_OK && res.len > r->o.max_bytes) e = VAST_E_TOO_LARGE;
      if (e != VAST_OK) snprintf(msg, sizeof msg, "%s", vast_strerror(e));
      free(res.effective_url);
      res.effective_url = NULL;
    } else {
      e = curl_fetch(r, url, tmo, &res, msg, sizeof msg);
    }
  }
  h = &c->hops[idx];
  h->latency_ms = (double)(vast__now_us() - t) / 1000.0;
  h->status = res.status;
  const char *body = buf ? buf : res.body;
  size_t blen = buf ? buflen : res.len;
  if (e == VAST_OK) h->bytes = blen;
  if (e != VAST_OK) {
    h->err = e;
    h->iab_code = 301;
  } else {
    size_t k = 0;
    while (k < blen && isspace((unsigned char)body[k]))
      k++;
    if (k == blen) { /* an empty 2xx response: no ad */
      h->err = VAST_E_NO_AD;
      h->iab_code = 303;
      snprintf(msg, sizeof msg, "empty response");
    } else {
      vast_doc *doc = NULL;
      vast_error pe;
      memset(&pe, 0, sizeof pe);
      vast_err pr = vast_doc_parse(body, blen, r->o.limits, &doc, &pe);
      if (pr != VAST_OK) {
        h->err = pr;
        h->iab_code = pe.iab_code ? pe.iab_code : 100;
        snprintf(msg, sizeof msg, "line %lu: %.250s", pe.line,
                 pe.message[0] ? pe.message : vast_strerror(pr));
      } else if (!vast_doc_vast(doc)) {
        vast_doc_free(doc);
        h->err = VAST_E_NOT_VAST;
        h->iab_code = 101;
        snprintf(msg, sizeof msg, "a VMAP document where VAST was expected");
      } else {
        h->doc = doc;
      }
    }
  }
  free(res.body);
  free(res.effective_url);
  if (msg[0]) h->message = adup(r, msg);
  return idx;
}

/* ------------------------------------------------------------------------ */
/* Resolution                                                                */
/* ------------------------------------------------------------------------ */

static int push_level(rs *r, const vast_ad *ad, size_t hop) {
  if (r->np == r->path_cap) {
    size_t cap = r->path_cap ? r->path_cap * 2 : 8;
    level *np = realloc(r->path, cap * sizeof *np);
    if (!np) {
      r->nomem = 1;
      return -1;
    }
    r->path = np;
    r->path_cap = cap;
  }
  r->path[r->np].ad = ad;
  r->path[r->np].hop = hop;
  r->np++;
  return 0;
}

static const vast_ad *const *copy_path_ads(rs *r) {
  const vast_ad **a = vast__arena_alloc(&r->c->arena, r->np * sizeof *a + 1);
  if (!a) {
    r->nomem = 1;
    return NULL;
  }
  for (size_t i = 0; i < r->np; i++)
    a[i] = r->path[i].ad;
  return a;
}

static void record_failure(rs *r, vast_err e, int iab, const char *msg, int seq) {
  vast_failure *f = vast__arena_push(&r->c->arena, &r->c->fails, &r->c->n_fails, sizeof *f);
  if (!f) {
    r->nomem = 1;
    return;
  }
  f->ads = copy_path_ads(r);
  f->n = r->np;
  f->iab_code = iab;
  f->err = e;
  f->message = adup(r, msg);
  f->sequence = seq;
  note_first(r, e, iab, msg);
}

static void record_success(rs *r, int seq) {
  vast_resolved *a = vast__arena_push(&r->c->arena, &r->c->ads, &r->c->n_ads, sizeof *a);
  if (!a) {
    r->nomem = 1;
    return;
  }
  a->ads = copy_path_ads(r);
  a->n = r->np;
  size_t *hops = vast__arena_alloc(&r->c->arena, r->np * sizeof *hops + 1);
  if (!hops) {
    r->nomem = 1;
    return;
  }
  for (size_t i = 0; i < r->np; i++)
    hops[i] = r->path[i].hop;
  a->hops = hops;
  a->sequence = seq;
}

static vast_err iab_to_err(int iab, vast_err fallback) {
  switch (iab) {
  case 302:
    return VAST_E_WRAPPER_LIMIT;
  case 303:
    return VAST_E_NO_AD;
  default:
    return fallback;
  }
}

static int resolve_doc(rs *r, size_t hop, int multiple, int follow_wrappers, unsigned wrappers,
                       int seq, vast_err *why);

/* The first Category code of ad that a Wrapper on the path blocks, or NULL. */
static const char *blocked_category(const rs *r, const vast_ad *ad) {
  for (size_t l = 0; l < r->np; l++) {
    const vast_ad *w = r->path[l].ad;
    if (w == ad || w->kind != VAST_AD_WRAPPER) continue;
    for (size_t b = 0; b < w->n_blocked_ad_categories; b++) {
      const vast_category *bc = &w->blocked_ad_categories[b];
      if (!bc->code || !*bc->code) continue;
      for (size_t k = 0; k < ad->n_categories; k++) {
        const vast_category *c = &ad->categories[k];
        if (c->code && !strcmp(c->code, bc->code) &&
            (!c->authority || !bc->authority || !strcmp(c->authority, bc->authority)))
          return c->code;
      }
    }
  }
  return NULL;
}

/*
 * Resolves one ad held by document `hop`, with the levels above already on the
 * path. Returns 0 when it ended in at least one InLine, else the IAB code of the
 * failure (after firing this ad's Error URLs with it). *why gets the vast_err.
 */
static int resolve_ad(rs *r, const vast_ad *ad, size_t hop, unsigned wrappers, int seq,
                      int follow_wrappers, vast_err *why) {
  if (push_level(r, ad, hop) != 0) return 900;
  int code = 0;
  vast_err e = VAST_OK;
  char msg[256] = "";
  if (ad->kind == VAST_AD_INLINE) {
    const char *blocked = blocked_category(r, ad);
    if (!blocked) {
      record_success(r, seq);
      r->np--;
      return 0;
    }
    code = 205; /* a Category on a wrapper's BlockedAdCategories */
    e = VAST_E_NO_AD;
    snprintf(msg, sizeof msg,
             "ad '%.60s' has category '%.60s', blocked by a wrapper's "
             "BlockedAdCategories",
             ad->id ? ad->id : "", blocked);
  } else if (ad->kind != VAST_AD_WRAPPER) {
    code = 101;
    e = VAST_E_NOT_VAST;
    snprintf(msg, sizeof msg, "ad '%s' has neither InLine nor Wrapper", ad->id ? ad->id : "");
  } else if (!follow_wrappers) {
    code = 300;
    e = VAST_E_WRAPPER_LIMIT;
    snprintf(msg, sizeof msg, "wrapper '%s' refused: followAdditionalWrappers is false above it",
             ad->id ? ad->id : "");
  } else if (wrappers + 1 > r->o.max_wrappers) {
    code = 302;
    e = VAST_E_WRAPPER_LIMIT;
    snprintf(msg, sizeof msg, "wrapper limit of %u reached", r->o.max_wrappers);
  } else if (!ad->vast_ad_tag_uri || !*ad->vast_ad_tag_uri) {
    code = 101;
    e = VAST_E_NOT_VAST;
    snprintf(msg, sizeof msg, "wrapper '%s' has no VASTAdTagURI", ad->id ? ad->id : "");
  }
  char *url = NULL;
  int is_file = 0;
  if (!code) {
    const vast_hop *h = &r->c->hops[hop];
    vast_err ue = vast_url_resolve(h->url, ad->vast_ad_tag_uri, &url, &is_file);
    if (ue == VAST_OK && is_file && !(h->is_file && r->o.allow_files)) {
      ue = VAST_E_URL;
      free(url);
      url = NULL;
    }
    if (ue != VAST_OK) {
      code = 301;
      e = ue == VAST_E_NOMEM ? VAST_E_NOMEM : VAST_E_URL;
      snprintf(msg, sizeof msg, "VASTAdTagURI '%.150s' is not a usable http(s) URL",
               ad->vast_ad_tag_uri);
    }
  }
  if (!code) { /* loop: the URI is a document already on the path */
    for (size_t i = 0; i < r->np && !code; i++)
      if (strcmp(r->c->hops[r->path[i].hop].uri, url) == 0) {
        code = 302;
        e = VAST_E_LOOP;
        snprintf(msg, sizeof msg, "wrapper chain loops back to '%.180s'", url);
      }
  }
  if (!code) {
    char *fetch_url = is_file ? strdup(url) : expand(r, url, 0);
    size_t h2 = fetch_url ? add_hop(r, fetch_url, url, is_file, wrappers + 1, (int)hop, NULL, 0)
                          : (size_t)-1;
    if (!fetch_url) r->nomem = 1;
    free(fetch_url);
    if (h2 == (size_t)-1) {
      free(url);
      r->np--;
      return 900;
    }
    const vast_hop *hh = &r->c->hops[h2];
    if (!hh->doc) {
      code = hh->iab_code;
      e = hh->err;
      snprintf(msg, sizeof msg, "%.180s: %s", url, hh->message ? hh->message : vast_strerror(e));
    } else {
      vast_err sub = VAST_OK;
      code = resolve_doc(r, h2, ad->allow_multiple_ads, ad->follow_additional_wrappers,
                         wrappers + 1, seq, &sub);
      if (code) { /* failed below: the failure was recorded there */
        e = sub;
        msg[0] = 0;
      }
    }
  }
  free(url);
  if (code && msg[0]) record_failure(r, e, code, msg, seq);
  if (code) fire_errors(r, ad->errors, ad->n_errors, code);
  if (why) *why = e;
  r->np--;
  return code;
}

static int cmp_seq(const void *a, const void *b) {
  const vast_ad *x = *(const vast_ad *const *)a, *y = *(const vast_ad *const *)b;
  return (x->sequence > y->sequence) - (x->sequence < y->sequence);
}

/* Whether a failure may pass to the next ad of a buffet. */
static int may_fall_back(const vast_ad *ad, int code) {
  return !(ad->kind == VAST_AD_WRAPPER && code == 303 && !ad->fallback_on_no_ad);
}

/*
 * Resolves the ads of one parsed document (the root, or a wrapper's response).
 * multiple: pods allowed (root, or allowMultipleAds="true"); follow_wrappers:
 * Wrapper ads allowed in it. Returns 0 when at least one ad resolved, else the
 * IAB code (303 for a response without ads; its root Error URLs fire with 303).
 */
static int resolve_doc(rs *r, size_t hop, int multiple, int follow_wrappers, unsigned wrappers,
                       int seq, vast_err *why) {
  const vast_vast *v = vast_doc_vast(r->c->hops[hop].doc);
  if (!v || v->n_ads == 0) {
    if (v) fire_errors(r, v->errors, v->n_errors, 303);
    record_failure(r, VAST_E_NO_AD, 303, "response has no ad", seq);
    *why = VAST_E_NO_AD;
    return 303;
  }
  const vast_ad **pod = calloc(v->n_ads, sizeof *pod), **buffet = calloc(v->n_ads, sizeof *buffet);
  size_t np = 0, nb = 0;
  if (!pod || !buffet) {
    free(pod);
    free(buffet);
    r->nomem = 1;
    *why = VAST_E_NOMEM;
    return 900;
  }
  for (size_t i = 0; i < v->n_ads; i++) {
    if (v->ads[i].sequence >= 0)
      pod[np++] = &v->ads[i];
    else
      buffet[nb++] = &v->ads[i];
  }
  if (!follow_wrappers) { /* followAdditionalWrappers=false: Wrapper ads are ignored,
                             not failed (no Error URL, no 300) */
    size_t kp = 0, kb = 0;
    for (size_t i = 0; i < np; i++)
      if (pod[i]->kind != VAST_AD_WRAPPER) pod[kp++] = pod[i];
    for (size_t i = 0; i < nb; i++)
      if (buffet[i]->kind != VAST_AD_WRAPPER) buffet[kb++] = buffet[i];
    if (!kp && !kb) {
      free(pod);
      free(buffet);
      record_failure(r, VAST_E_NO_AD, 303,
                     "response holds only Wrappers, ignored: followAdditionalWrappers is false "
                     "above it",
                     seq);
      *why = VAST_E_NO_AD;
      return 303;
    }
    np = kp;
    nb = kb;
  }
  qsort(pod, np, sizeof *pod, cmp_seq);
  if (!multiple && np) { /* only standalone ads; a bare pod gives its first ad */
    if (!nb) buffet[nb++] = pod[0];
    np = 0;
  }
  int ok = 0, last = 303;
  vast_err lastwhy = VAST_E_NO_AD;
  size_t next_b = 0;
  if (np) {
    for (size_t i = 0; i < np; i++) {
      vast_err w = VAST_OK;
      int s = seq >= 0 ? seq : pod[i]->sequence;
      int code = resolve_ad(r, pod[i], hop, wrappers, s, follow_wrappers, &w);
      if (!code) {
        ok++;
        continue;
      }
      last = code;
      lastwhy = w;
      if (!may_fall_back(pod[i], code)) continue;
      while (next_b < nb) { /* replace the failed pod ad from the buffet */
        code = resolve_ad(r, buffet[next_b++], hop, wrappers, s, follow_wrappers, &w);
        if (!code) {
          ok++;
          break;
        }
        last = code;
        lastwhy = w;
        if (!may_fall_back(buffet[next_b - 1], code)) break;
      }
    }
  } else {
    for (size_t i = 0; i < nb; i++) {
      vast_err w = VAST_OK;
      int code = resolve_ad(r, buffet[i], hop, wrappers, seq, follow_wrappers, &w);
      if (!code) {
        ok = 1;
        break;
      }
      last = code;
      lastwhy = w;
      if (!may_fall_back(buffet[i], code)) break;
    }
  }
  free(pod);
  free(buffet);
  if (ok) return 0;
  *why = lastwhy != VAST_OK ? lastwhy : iab_to_err(last, VAST_E_NO_AD);
  return last;
}

static vast_err run(const char *url, int is_file, const char *buf, size_t len,
                    const vast_resolve_opts *opts, vast_chain **out, vast_error *err) {
  if (out) *out = NULL;
  if (err) memset(err, 0, sizeof *err);
  if (!out) return VAST_E_INVAL;
  rs r;
  memset(&r, 0, sizeof r);
  vast_resolve_opts_init(&r.o);
  if (opts) memcpy(&r.o, opts, opts->size && opts->size < sizeof r.o ? opts->size : sizeof r.o);
  r.o.size = sizeof r.o;
  r.o.refuse_private = vast__policy_refuse(r.o.policy, r.o.refuse_private);
  r.o.first_timeout_ms = vast__policy_timeout(r.o.policy, r.o.first_timeout_ms);
  r.o.hop_timeout_ms = vast__policy_timeout(r.o.policy, r.o.hop_timeout_ms);
  r.o.max_redirects = vast__policy_redirects(r.o.policy, r.o.max_redirects);
  r.o.max_bytes = vast__policy_bytes(r.o.policy, r.o.max_bytes);
  r.o.user_agent = vast__policy_ua(r.o.policy, r.o.user_agent);
  if (!vast_net_header_value_ok(r.o.user_agent)) { /* a CR LF would add headers */
    return vast__error_set(err, VAST_E_INVAL, 0, "the User-Agent holds a control character");
  }
  for (size_t i = 0; i < r.o.n_headers; i++) { /* "Name: value", no header splitting */
    const char *h = r.o.headers ? r.o.headers[i] : NULL;
    const char *colon = h ? strchr(h, ':') : NULL;
    int ok = colon && colon > h && vast_net_header_value_ok(h);
    for (const char *q = h; ok && q < colon; q++)
      ok = isalnum((unsigned char)*q) || strchr("!#$%&'*+-.^_`|~", *q);
    struct curl_slist *nl = ok ? curl_slist_append(r.hdrs, h) : NULL;
    if (!nl) {
      curl_slist_free_all(r.hdrs);
      return vast__error_set(err, ok ? VAST_E_NOMEM : VAST_E_INVAL, 900,
                             "request header %zu is not \"Name: value\" without control "
                             "characters",
                             i);
    }
    r.hdrs = nl;
  }
  r.c = calloc(1, sizeof *r.c);
  if (!r.c) {
    curl_slist_free_all(r.hdrs);
    return VAST_E_NOMEM;
  }
  /* One [TRANSACTIONID] for the whole resolution: every VASTAdTagURI request
     and Error URL, and (vast_chain_transaction_id) the beacons of its ads.
     The caller's value, when it gives one, wins. */
  vast_macro_ctx_init(&r.mctx);
  if (r.o.macros) {
    size_t sz = r.o.macros->size < sizeof r.mctx ? r.o.macros->size : sizeof r.mctx;
    if (sz > sizeof(size_t)) memcpy(&r.mctx, r.o.macros, sz);
    r.mctx.size = sizeof r.mctx;
  }
  const char *tx = r.mctx.value[VAST_MACRO_TRANSACTIONID];
  if (!tx) {
    if (vast_transaction_id(r.c->txid, sizeof r.c->txid) == VAST_OK)
      r.mctx.value[VAST_MACRO_TRANSACTIONID] = r.c->txid;
  } else if (tx != VAST_MACRO_WITHHELD) {
    snprintf(r.c->txid, sizeof r.c->txid, "%s", tx);
  }
  r.o.macros = &r.mctx;
  vast__arena_init(&r.c->arena);
  r.t0 = vast__now_us();
  r.rng = r.t0 ^ (uint64_t)(uintptr_t)&r;
  r.deadline = r.t0 + (uint64_t)(r.o.total_timeout_ms > 0 ? r.o.total_timeout_ms : 0) * 1000u;
  size_t root = add_hop(&r, url, url, is_file, 0, -1, buf, len);
  vast_err rc = VAST_OK;
  if (root == (size_t)-1) {
    rc = VAST_E_NOMEM;
  } else if (!r.c->hops[root].doc) {
    const vast_hop *h = &r.c->hops[root];
    char m[256];
    snprintf(m, sizeof m, "%.150s: %s", h->url[0] ? h->url : "input",
             h->message ? h->message : vast_strerror(h->err));
    note_first(&r, h->err, h->iab_code, m);
    rc = h->err;
  } else {
    vast_err why = VAST_OK;
    int code = resolve_doc(&r, root, 1, 1, 0, -1, &why);
    if (code) rc = why != VAST_OK ? why : VAST_E_NO_AD;
  }
  if (r.nomem) rc = VAST_E_NOMEM;
  if (r.easy) curl_easy_cleanup(r.easy);
  curl_slist_free_all(r.hdrs);
  free(r.path);
  r.c->elapsed_ms = (double)(vast__now_us() - r.t0) / 1000.0;
  if (err && rc != VAST_OK) {
    *err = r.first;
    err->code = rc;
    if (!r.have_first) snprintf(err->message, sizeof err->message, "%s", vast_strerror(rc));
  }
  if (rc == VAST_E_NOMEM || (is_file && root != (size_t)-1 && r.c->hops[root].err == VAST_E_IO)) {
    vast_chain_free(r.c);
    return rc;
  }
  *out = r.c;
  return rc;
}

vast_err vast_resolve_url(const char *url, const vast_resolve_opts *opts, vast_chain **chain,
                          vast_error *err) {
  if (chain) *chain = NULL;
  if (!url) return VAST_E_INVAL;
  if (!vast__is_http(url)) {
    return vast__error_set(err, VAST_E_URL, 301, "'%.200s' is not an http(s) URL", url);
  }
  return run(url, 0, NULL, 0, opts, chain, err);
}

vast_err vast_resolve_file(const char *path, const vast_resolve_opts *opts, vast_chain **chain,
                           vast_error *err) {
  if (chain) *chain = NULL;
  if (!path) return VAST_E_INVAL;
  return run(path, 1, NULL, 0, opts, chain, err);
}

vast_err vast_resolve_buffer(const char *buf, size_t len, const char *base,
                             const vast_resolve_opts *opts, vast_chain **chain, vast_error *err) {
  if (chain) *chain = NULL;
  if (!buf) return VAST_E_INVAL;
  int is_file = base && !vast__is_http(base);
  return run(base, is_file, buf, len, opts, chain, err);
}

vast_err vast_transaction_id(char *out, size_t cap) {
  if (!out || cap < 37) return VAST_E_NOSPACE;
  unsigned char b[16];
  FILE *f = fopen("/dev/urandom", "rb");
  size_t got = f ? fread(b, 1, sizeof b, f) : 0;
  if (f) fclose(f);
  if (got != sizeof b) return VAST_E_IO;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 15];
  }
  out[o] = 0;
  return VAST_OK;
}
