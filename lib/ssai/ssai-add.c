/*
 * ssai-add.c: adding a break to a session (vast_ssai_break_add): resolving
 * it with the device's macros into a break shared with every session given
 * the same documents (ssai-breaks.c, cached in ssai.c), a tracker per ad over
 * its plans, the journal's B line, and the timeline answered. A VMAP, given
 * inline or by URL (the URL is fetched once, its root element sniffed), is
 * split: each of its breaks becomes one break of the session, carrying its
 * break-level tracking (breakStart, breakEnd, error) that ssai.c fires.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "net/net-int.h"
#include "ssai/ssai-core.h"
#include "vastrack/breaks.h"

/* Where a break comes from: a document (inline, or fetched from url, its
   base), or slot sl of VMAP document vdoc (base: the VMAP's URL). */
typedef struct brk_src {
  const char *url; /* the URL the document was fetched from, NULL: inline */
  const char *doc;
  size_t len;
  const vast_doc *vdoc;
  const vast_break_slot *sl;
  const char *base;
  const char *txid; /* [TRANSACTIONID] of the resolution, NULL: a new one */
} brk_src;

/* The X-Device-* request headers of a device ("Name: value", malloc'd),
   sent with every request resolving its breaks (VAST 4.x 1.1.3). */
static size_t dev_headers(const vast_device *d, char *h[6]) {
  const char *names[5] = {"X-Device-IP", "X-Device-User-Agent", "X-Device-Referer",
                          "X-Device-Accept-Language", "X-Device-Requested-With"};
  const char *vals[5] = {d->ip, d->user_agent, d->referer, d->accept_language, d->requested_with};
  size_t n = 0;
  for (int i = 0; i < 5; i++)
    if (vals[i] && *vals[i] && asprintf(&h[n], "%s: %s", names[i], vals[i]) >= 0) n++;
  if (d->forwarded_for && asprintf(&h[n], "X-Forwarded-For: %s", d->ip) >= 0) n++;
  return n;
}

/* The macro values of a device (the resolution's). */
static void dev_macros(vast_macro_ctx *mc, const vast_device *d) {
  vast_macro_ctx_init(mc);
  vast_macro_ctx_set(mc, VAST_MACRO_DEVICEIP, d->ip);
  vast_macro_ctx_set(mc, VAST_MACRO_DEVICEUA, d->user_agent);
  vast_macro_ctx_set(mc, VAST_MACRO_CLIENTUA, d->user_agent);
  vast_macro_ctx_set_serverside(mc, 1);
}

/*
 * A reference to the shared break of src. Resolution happens without the
 * lock (the caller holds a device reference, so the macro strings stay). A
 * VAST document given inline is looked up first by its bytes: when the break
 * it gave fetched nothing, the same bytes give the same break and nothing is
 * parsed. Otherwise the chain resolved is looked up by its content (every
 * document, byte for byte, with the URL it came from; for a VMAP break, its
 * own tracking and position too): sessions given the same ad responses share
 * one break, its documents, plans and timelines; each session holds only a
 * tracker per ad.
 */
static vast_err brk_get(vast_ssai *s, const dev_ref *hold, const brk_src *src, vast_error *err,
                        vast__ssai_brk **out) {
  *out = NULL;
  uint64_t in_key = 0;
  if (!src->url && !src->vdoc)
    in_key = vast__ssai_hash(src->doc, src->len, 1469598103934665603ull) | 1;
  vast__ssai_brk *b = NULL;
  if (in_key) {
    pthread_mutex_lock(&s->mu);
    b = vast__ssai_brk_find(s, 0, in_key);
    pthread_mutex_unlock(&s->mu);
    if (b) return *out = b, VAST_OK;
  }
  vast__ssai_bev ev = {0};
  if (src->vdoc && vast__ssai_bev_set(&ev, src->sl->brk, src->sl->position) != 0)
    return VAST_E_NOMEM;
  vast_macro_ctx mc;
  dev_macros(&mc, &hold->d);
  if (src->txid) vast_macro_ctx_set(&mc, VAST_MACRO_TRANSACTIONID, src->txid);
  char *hdr[6];
  size_t nhdr = dev_headers(&hold->d, hdr);
  vast_resolve_opts ro;
  vast_resolve_opts_init(&ro);
  ro.policy = &s->policy;
  ro.macros = &mc;
  ro.fetch = s->o.fetch;
  ro.fetch_ctx = s->o.fetch_ctx;
  ro.user_agent = hold->d.user_agent;
  ro.headers = (const char *const *)hdr;
  ro.n_headers = nhdr;
  vast_chain *chain = NULL;
  vast_err rc = src->vdoc ? vast_break_resolve(src->vdoc, src->sl->brk, src->sl->position,
                                               src->base, &ro, &chain, err)
                          : vast_resolve_buffer(src->doc, src->len, src->url, &ro, &chain, err);
  for (size_t i = 0; i < nhdr; i++)
    free(hdr[i]);
  if (rc != VAST_OK) {
    vast_chain_free(chain);
    vast__ssai_bev_clear(&ev);
    return rc;
  }
  uint64_t key = vast__ssai_bev_key(vast__ssai_chain_key(chain), &ev) | 1;
  size_t nh = 0;
  vast_chain_hops(chain, &nh);
  pthread_mutex_lock(&s->mu);
  b = vast__ssai_brk_find(s, key, 0);
  pthread_mutex_unlock(&s->mu);
  if (b) {
    vast_chain_free(chain);
    vast__ssai_bev_clear(&ev);
    return *out = b, VAST_OK;
  }
  if (!(b = vast__ssai_brk_new(chain))) {
    vast__ssai_bev_clear(&ev);
    return VAST_E_NOMEM;
  }
  b->key = key;
  b->in_key = in_key && nh == 1 ? in_key : 0;
  b->bev = ev;
  int root_url = src->vdoc ? src->sl->brk->source_kind == VAST_SOURCE_URI : src->url != NULL;
  if (s->state_dir && vast__ssai_brk_save(s, b, root_url) != 0) {
    pthread_mutex_lock(&s->mu);
    s->st2.journal_errors++; /* the break will not survive a restart */
    pthread_mutex_unlock(&s->mu);
  }
  pthread_mutex_lock(&s->mu);
  vast__ssai_brk *o = vast__ssai_brk_find(s, key, 0); /* built meanwhile by another call */
  if (o) {
    vast__ssai_brk_free(b);
    b = o;
  } else {
    vast__ssai_brk_insert(s, b);
  }
  pthread_mutex_unlock(&s->mu);
  return *out = b, VAST_OK;
}

/*
 * Adds break b (its reference is taken) to session sid: a tracker per ad
 * over the shared plans, the journal's B line. On VAST_OK *brk is its
 * number, *first its first ad's, id the session id, and the caller holds one
 * more reference to b for writing the answer without the lock (release with
 * vast__ssai_brk_unref under the lock).
 */
static vast_err brk_attach(vast_ssai *s, const char *sid, vast__ssai_brk *b, unsigned *brk_out,
                           unsigned *first_out, char *id, size_t idcap) {
  pthread_mutex_lock(&s->mu);
  vast_err rc = VAST_OK;
  session *x = vast__ssai_find(s, sid);
  if (!x) rc = VAST_E_NOT_FOUND; /* ended meanwhile */
  if (rc == VAST_OK && x->n_ads + b->n_ads > x->cap_ads) {
    unsigned c2 = x->cap_ads ? x->cap_ads : 2;
    while (c2 < x->n_ads + b->n_ads)
      c2 *= 2;
    ssai_ad *na = realloc(x->ads, c2 * sizeof *na);
    if (!na) {
      rc = VAST_E_NOMEM;
    } else {
      s->mem += (c2 - x->cap_ads) * sizeof *na;
      x->ads = na, x->cap_ads = c2;
    }
  }
  if (rc != VAST_OK) {
    vast__ssai_brk_unref(s, b, 1);
    pthread_mutex_unlock(&s->mu);
    return rc;
  }
  unsigned brk = x->n_breaks++, first = x->n_ads;
  for (size_t i = 0; i < b->n_ads; i++) {
    ssai_ad *a = &x->ads[x->n_ads];
    memset(a, 0, sizeof *a);
    if (vast_tracker_create(b->ads[i].plan, &s->mc, vast__ssai_on_beacon, s, &a->t) != VAST_OK) {
      rc = VAST_E_NOMEM;
      break;
    }
    s->mem += vast_tracker_memory();
    vast_tracker_set_trusted_positions(a->t, 1);
    a->duration = b->ads[i].duration;
    a->brk = brk;
    a->b = b;
    if (i) b->refs++; /* one reference per ad: the first is the caller's */
    x->n_ads++;
  }
  b->refs++;                                            /* for the answer */
  if (x->n_ads == first) vast__ssai_brk_unref(s, b, 1); /* no ad: the reference is not kept */
  if (rc != VAST_OK) {
    vast__ssai_break_release(s, x, brk);
    x->n_ads = first;
    vast__ssai_brk_unref(s, b, 1);
    pthread_mutex_unlock(&s->mu);
    return rc;
  }
  vast__ssai_touch(s, x, vast__wall());
  if (s->journal)
    vast__ssai_jl_account(
        s, vast__ssai_jl_break_to(s->journal, x->id, brk, b->key, (unsigned)(x->n_ads - first)));
  snprintf(id, idcap, "%s", x->id);
  pthread_mutex_unlock(&s->mu);
  *brk_out = brk;
  *first_out = first;
  return VAST_OK;
}

/* One timeline (docs/json.md, SsaiTimeline). */
static void timeline_write(vast__jw *w, const char *id, unsigned brk, unsigned first,
                           const vast__ssai_brk *b) {
  vast__jw_obj_begin(w);
  vast__jw_kstr(w, "sessionId", id);
  vast__jw_kint(w, "break", (long long)brk);
  vast__jw_key(w, "ads");
  vast__jw_arr_begin(w);
  double total = 0;
  vast__ssai_brk_write_ads(b, first, w);
  for (size_t i = 0; i < b->n_ads; i++)
    if (b->ads[i].duration > 0) total += b->ads[i].duration;
  vast__jw_arr_end(w);
  vast__jw_key(w, "duration");
  vast__jw_num(w, total);
  size_t nf = 0;
  const vast_failure *fl = vast_chain_failures(b->chain, &nf);
  vast__jw_key(w, "failures");
  vast__jw_arr_begin(w);
  for (size_t i = 0; i < nf; i++) {
    vast__jw_obj_begin(w);
    vast__jw_kint(w, "code", fl[i].iab_code);
    vast__jw_kstr(w, "message", fl[i].message);
    vast__jw_obj_end(w);
  }
  vast__jw_arr_end(w);
  vast__ssai_bev_write_json(&b->bev, w);
  vast__jw_obj_end(w);
}

/* 1 when doc (inline or fetched) is a VMAP: its root element, sniffed. */
static int looks_vmap(const char *doc, size_t len) {
  size_t n = len < 1024 ? len : 1024;
  for (size_t i = 0; i + 5 <= n; i++)
    if (doc[i] == '<' && doc[i + 1] != '?' && doc[i + 1] != '!') {
      const char *c = memchr(doc + i, ':', n - i);
      const char *e = doc + i + 1;
      if (c && c < doc + i + 16) e = c + 1;
      return (size_t)(doc + n - e) >= 4 && !memcmp(e, "VMAP", 4);
    }
  return 0;
}

/* The VMAP code of a break that cannot be resolved (as `vastrack play`
   reports it): 1005 template not supported, 1007 timeout, 1008 retrieval
   error, 1006 a bad response; a 4-digit code of the resolution stands. */
static int vmap_code(vast_err rc, int iab) {
  if (iab >= 1000) return iab;
  if (rc == VAST_E_TIMEOUT) return 1007;
  if (rc == VAST_E_HTTP || rc == VAST_E_FORBIDDEN || rc == VAST_E_URL) return 1008;
  if (rc == VAST_E_XML || rc == VAST_E_NOT_VAST || rc == VAST_E_VERSION) return 1006;
  return iab ? iab : 1004;
}

/*
 * A VMAP (given inline, or fetched from base): each of its breaks (in
 * content order, as vast_vmap_schedule places them) becomes one break of the
 * session, resolved with the device's macros and [BREAKPOSITION], with its
 * own break-level tracking (fired by ssai.c: breakStart at its first ad's
 * first report, breakEnd once its ads have ended, error now for a break that
 * cannot be resolved). The answer: {"sessionId","breaks":[timeline...],
 * "failures":[{"breakId","timeOffset","code","message"}]}. A VMAP with no
 * break, or none that resolves, is an error.
 */
static vast_err vmap_add(vast_ssai *s, const char *sid, const dev_ref *hold, const char *doc,
                         size_t len, const char *base, vast_write_fn write, void *ctx,
                         vast_error *err) {
  vast_doc *vd = NULL;
  vast_err rc = vast_doc_parse(doc, len, NULL, &vd, err);
  if (rc != VAST_OK) {
    if (err && err->iab_code < 1000) err->iab_code = 1002; /* VMAP parsing error */
    return rc;
  }
  const vast_vmap *m = vast_doc_vmap(vd);
  size_t n = 0;
  vast_break_slot *sl = m ? calloc(m->n_breaks + 1, sizeof *sl) : NULL;
  if (!m || !sl || vast_vmap_schedule(m, -1, sl, m->n_breaks, &n) != VAST_OK) {
    free(sl);
    vast_doc_free(vd);
    return m ? VAST_E_NOMEM : vast__error_set(err, VAST_E_NOT_VAST, 1000, "not a VMAP document");
  }
  if (!n) {
    free(sl);
    vast_doc_free(vd);
    return vast__error_set(err, VAST_E_NO_AD, 0, "the VMAP holds no AdBreak: no break to add");
  }
  vast__jw w;
  vast__jw_init(&w, write, ctx);
  vast__jw_obj_begin(&w);
  vast__jw_kstr(&w, "sessionId", sid);
  vast__jw_key(&w, "breaks");
  vast__jw_arr_begin(&w);
  typedef struct failed {
    const vast_break_slot *sl;
    vast_err rc;
    int code;
    char msg[300];
  } failed;
  failed *fl = calloc(n + 1, sizeof *fl);
  size_t nfl = 0, added = 0;
  rc = fl ? VAST_OK : VAST_E_NOMEM;
  for (size_t i = 0; i < n && rc == VAST_OK; i++) {
    vast__ssai_brk *b = NULL;
    vast_error e;
    memset(&e, 0, sizeof e);
    brk_src src = {NULL, NULL, 0, vd, &sl[i], base, NULL};
    vast_err r = brk_get(s, hold, &src, &e, &b);
    unsigned brk = 0, first = 0;
    char id[80];
    if (r == VAST_OK) r = brk_attach(s, sid, b, &brk, &first, id, sizeof id);
    if (r == VAST_E_NOT_FOUND && !e.message[0]) {
      rc = r; /* the session ended */
      break;
    }
    if (r != VAST_OK) {
      fl[nfl].sl = &sl[i];
      fl[nfl].rc = r;
      fl[nfl].code = vmap_code(r, e.iab_code);
      snprintf(fl[nfl].msg, sizeof fl[nfl].msg, "%s", e.message[0] ? e.message : vast_strerror(r));
      /* the break's error tracking, [ERRORCODE] the VMAP code */
      vast__ssai_bev bev;
      if (vast__ssai_bev_set(&bev, sl[i].brk, sl[i].position) == 0) {
        vast__ssai_break_error(s, sid, &bev, fl[nfl].code);
        vast__ssai_bev_clear(&bev);
      }
      nfl++;
      continue;
    }
    timeline_write(&w, id, brk, first, b);
    added++;
    pthread_mutex_lock(&s->mu);
    vast__ssai_brk_unref(s, b, 1);
    pthread_mutex_unlock(&s->mu);
  }
  vast__jw_arr_end(&w);
  vast__jw_key(&w, "failures");
  vast__jw_arr_begin(&w);
  for (size_t i = 0; i < nfl; i++) {
    vast__jw_obj_begin(&w);
    vast__jw_kstr(&w, "breakId", fl[i].sl->brk->break_id);
    vast__jw_kstr(&w, "timeOffset", fl[i].sl->brk->time_offset);
    vast__jw_kint_opt(&w, "code", fl[i].code ? fl[i].code : -1);
    vast__jw_kstr(&w, "message", fl[i].msg);
    vast__jw_obj_end(&w);
  }
  vast__jw_arr_end(&w);
  vast__jw_obj_end(&w);
  if (rc == VAST_OK && !added && nfl) { /* no break at all: the first failure says why */
    rc = fl[0].rc == VAST_E_NOT_FOUND ? VAST_E_NO_AD : fl[0].rc;
    vast__error_set(err, rc, fl[0].code, "no break of the VMAP could be resolved: %s %s: %s",
                    fl[0].sl->brk->break_id ? fl[0].sl->brk->break_id : "",
                    fl[0].sl->brk->time_offset ? fl[0].sl->brk->time_offset : "", fl[0].msg);
  }
  free(fl);
  free(sl);
  vast_doc_free(vd);
  if (vast__jw_finish(&w) != 0 && rc == VAST_OK) rc = VAST_E_IO;
  return rc;
}

/*
 * Fetches a break's URL once, as the resolver would its tag: the device's
 * macros expanded in it ([TRANSACTIONID] txid), its X-Device-* headers and
 * User-Agent, under the service's policy (or through opts.fetch). On VAST_OK
 * res holds the body and *expanded the URL requested (malloc'd).
 */
static vast_err url_fetch(vast_ssai *s, const dev_ref *hold, const char *url, const char *txid,
                          vast_fetch_result *res, char **expanded, vast_error *err) {
  memset(res, 0, sizeof *res);
  *expanded = NULL;
  if (!vast__is_http(url))
    return vast__error_set(err, VAST_E_URL, 301, "'%.200s' is not an http(s) URL", url);
  vast_macro_ctx mc;
  dev_macros(&mc, &hold->d);
  vast_macro_ctx_set(&mc, VAST_MACRO_TRANSACTIONID, txid);
  vast_macro_vars v;
  vast_macro_vars_init(&v);
  v.wall_time = vast__wall();
  v.cachebust = (long)(((uint64_t)(v.wall_time * 1e6) * 6364136223846793005ull >> 33) % 100000000);
  size_t need = 0;
  vast_macro_expand(url, strlen(url), &mc, &v, NULL, 0, &need);
  char *u = malloc(need + 1);
  if (!u) return VAST_E_NOMEM;
  vast_macro_expand(url, strlen(url), &mc, &v, u, need + 1, NULL);
  vast_err rc;
  if (s->o.fetch) {
    long tmo = vast__policy_timeout(&s->policy, VAST_DEFAULT_FIRST_TIMEOUT_MS);
    size_t max = vast__policy_bytes(&s->policy, VAST_DEFAULT_MAX_RESPONSE);
    rc = s->o.fetch(s->o.fetch_ctx, u, tmo, max, res);
    if (rc == VAST_OK && res->len > max) rc = VAST_E_TOO_LARGE;
    if (rc != VAST_OK) vast__error_set(err, rc, 301, "%.200s: %s", u, vast_strerror(rc));
  } else {
    char *hdr[6];
    size_t nhdr = dev_headers(&hold->d, hdr);
    vast_fetch_opts fo;
    vast_fetch_opts_init(&fo);
    fo.policy = &s->policy;
    fo.user_agent = hold->d.user_agent;
    rc = vast_fetch_headers(u, &fo, (const char *const *)hdr, nhdr, res, err);
    for (size_t i = 0; i < nhdr; i++)
      free(hdr[i]);
  }
  free(res->effective_url);
  res->effective_url = NULL;
  if (rc != VAST_OK) {
    free(res->body);
    res->body = NULL;
    free(u);
    return rc;
  }
  *expanded = u;
  return VAST_OK;
}

int vast__ssai_break_cached(vast_ssai *s, const char *doc, size_t len) {
  if (!doc || looks_vmap(doc, len)) return 0;
  uint64_t in_key = vast__ssai_hash(doc, len, 1469598103934665603ull) | 1;
  int hit = 0;
  pthread_mutex_lock(&s->mu);
  for (vast__ssai_brk *b = s->brk_in[in_key % BRK_SLOTS]; b && !hit; b = b->in_next)
    hit = b->in_key == in_key;
  pthread_mutex_unlock(&s->mu);
  return hit;
}

vast_err vast_ssai_break_add(vast_ssai *s, const char *sid, const char *url, const char *doc,
                             size_t len, vast_write_fn write, void *ctx, vast_error *err) {
  if (!s || !sid || (!url && !doc) || !write) return VAST_E_INVAL;
  if (err) memset(err, 0, sizeof *err);
  pthread_mutex_lock(&s->mu);
  session *x = vast__ssai_find(s, sid);
  dev_ref *hold = x ? x->dev : NULL;
  if (hold) hold->refs++;
  pthread_mutex_unlock(&s->mu);
  if (!x) return VAST_E_NOT_FOUND;
  vast_err rc = VAST_OK;
  vast__ssai_brk *b = NULL;
  /* a URL is fetched once here: its answer is split when it is a VMAP, else
     it is the root of the resolution (same macros, same transaction) */
  char txid[40] = "", *fetched = NULL;
  vast_fetch_result res = {0};
  if (url) {
    if (vast_transaction_id(txid, sizeof txid) != VAST_OK) txid[0] = 0;
    rc = url_fetch(s, hold, url, txid[0] ? txid : NULL, &res, &fetched, err);
    doc = res.body;
    len = res.len;
  }
  if (rc != VAST_OK) {
    /* the URL could not be fetched */
  } else if (looks_vmap(doc, len)) {
    rc = vmap_add(s, sid, hold, doc, len, fetched, write, ctx, err);
  } else {
    brk_src src = {fetched, doc, len, NULL, NULL, NULL, txid[0] ? txid : NULL};
    rc = brk_get(s, hold, &src, err, &b);
    unsigned brk = 0, first = 0;
    char id[80];
    if (rc == VAST_OK) rc = brk_attach(s, sid, b, &brk, &first, id, sizeof id);
    if (rc == VAST_OK) {
      vast__jw w;
      vast__jw_init(&w, write, ctx);
      timeline_write(&w, id, brk, first, b);
      if (vast__jw_finish(&w) != 0) rc = VAST_E_IO;
      pthread_mutex_lock(&s->mu);
      vast__ssai_brk_unref(s, b, 1);
      pthread_mutex_unlock(&s->mu);
    }
  }
  free(res.body);
  free(fetched);
  pthread_mutex_lock(&s->mu);
  vast__ssai_dev_unref(hold);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* ---- break-level tracking of a VMAP break (ssai.c calls these) ---------------- */

void vast__ssai_break_started(vast_ssai *s, session *x, size_t adno) {
  const ssai_ad *a = &x->ads[adno];
  if (!a->b || !a->b->bev.n) return;
  for (size_t i = 0; i < x->n_ads; i++)
    if (i != adno && x->ads[i].brk == a->brk && x->ads[i].started) return;
  vast__ssai_bev_fire(&a->b->bev, "breakStart", 0, &s->mc, vast_chain_transaction_id(a->b->chain),
                      vast__ssai_on_beacon, s);
}

/* An idle or ended session ends its ads without it: no breakEnd then. */
size_t vast__ssai_break_ended(vast_ssai *s, session *x, size_t adno) {
  const ssai_ad *a = &x->ads[adno];
  if (!a->b || !a->b->bev.n) return 0;
  int played = 0;
  for (size_t i = 0; i < x->n_ads; i++) {
    if (x->ads[i].brk != a->brk) continue;
    if (!x->ads[i].done) return 0;
    played |= x->ads[i].started;
  }
  if (!played) return 0;
  return vast__ssai_bev_fire(&a->b->bev, "breakEnd", 0, &s->mc,
                             vast_chain_transaction_id(a->b->chain), vast__ssai_on_beacon, s);
}
