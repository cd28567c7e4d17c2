/*
 * ssai-add.c: adding a break to a session (vast_ssai_break_add): resolving
 * it with the device's macros into a break shared with every session given
 * the same documents (ssai-breaks.c, cached in ssai.c), a tracker per ad over
 * its plans, the journal's B line, and the timeline answered. A VMAP given
 * inline is split: each of its breaks becomes one break of the session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net-int.h"
#include "ssai/ssai-core.h"
#include "vastrack/breaks.h"

/*
 * A reference to the shared break of url, doc or (with vdoc) VMAP slot sl.
 * Resolution happens without the lock (the caller holds a device reference,
 * so the macro strings stay). A VAST document given inline is looked up
 * first by its bytes: when the break it gave fetched nothing, the same bytes
 * give the same break and nothing is parsed. Otherwise the chain resolved is
 * looked up by its content (every document fetched, byte for byte): sessions
 * given the same ad responses share one break, its documents, plans and
 * timelines; each session holds only a tracker per ad.
 */
static vast_err brk_get(vast_ssai *s, const dev_ref *hold, const char *url, const char *doc,
                        size_t len, const vast_doc *vdoc, const vast_break_slot *sl,
                        vast_error *err, vast__ssai_brk **out) {
  *out = NULL;
  uint64_t in_key = 0;
  if (!url && !vdoc) in_key = vast__ssai_hash(doc, len, 1469598103934665603ull) | 1;
  vast__ssai_brk *b = NULL;
  if (in_key) {
    pthread_mutex_lock(&s->mu);
    b = vast__ssai_brk_find(s, 0, in_key);
    pthread_mutex_unlock(&s->mu);
    if (b) return *out = b, VAST_OK;
  }
  vast_macro_ctx mc;
  vast_macro_ctx_init(&mc);
  vast_macro_ctx_set(&mc, VAST_MACRO_DEVICEIP, hold->d.ip);
  vast_macro_ctx_set(&mc, VAST_MACRO_DEVICEUA, hold->d.user_agent);
  vast_macro_ctx_set(&mc, VAST_MACRO_CLIENTUA, hold->d.user_agent);
  vast_macro_ctx_set_serverside(&mc, 1);
  vast_resolve_opts ro;
  vast_resolve_opts_init(&ro);
  ro.policy = &s->policy;
  ro.macros = &mc;
  ro.fetch = s->o.fetch;
  ro.fetch_ctx = s->o.fetch_ctx;
  ro.user_agent = hold->d.user_agent;
  vast_chain *chain = NULL;
  vast_err rc = vdoc  ? vast_break_resolve(vdoc, sl->brk, sl->position, NULL, &ro, &chain, err)
                : url ? vast_resolve_url(url, &ro, &chain, err)
                      : vast_resolve_buffer(doc, len, NULL, &ro, &chain, err);
  if (rc != VAST_OK) {
    vast_chain_free(chain);
    return rc;
  }
  uint64_t key = vast__ssai_chain_key(chain) | 1;
  size_t nh = 0;
  vast_chain_hops(chain, &nh);
  pthread_mutex_lock(&s->mu);
  b = vast__ssai_brk_find(s, key, 0);
  pthread_mutex_unlock(&s->mu);
  if (b) {
    vast_chain_free(chain);
    return *out = b, VAST_OK;
  }
  if (!(b = vast__ssai_brk_new(chain))) return VAST_E_NOMEM;
  b->key = key;
  b->in_key = in_key && nh == 1 ? in_key : 0;
  int root_url = vdoc ? sl->brk->source_kind == VAST_SOURCE_URI : url != NULL;
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
    if (!na)
      rc = VAST_E_NOMEM;
    else
      x->ads = na, x->cap_ads = c2;
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
  vast__jw_obj_end(w);
}

/* 1 when doc (an inline document) is a VMAP: its root element, sniffed. */
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

/*
 * A VMAP given inline: each of its breaks (in content order, as
 * vast_vmap_schedule places them) becomes one break of the session, resolved
 * with the device's macros and [BREAKPOSITION]. The answer:
 * {"sessionId","breaks":[timeline...],"failures":[{"breakId","timeOffset",
 * "code","message"}]}, a break that cannot be resolved listed in failures.
 * Break-level tracking (breakStart, breakEnd) is not fired.
 */
static vast_err vmap_add(vast_ssai *s, const char *sid, const dev_ref *hold, const char *doc,
                         size_t len, vast_write_fn write, void *ctx, vast_error *err) {
  vast_doc *vd = NULL;
  vast_err rc = vast_doc_parse(doc, len, NULL, &vd, err);
  if (rc != VAST_OK) return rc;
  const vast_vmap *m = vast_doc_vmap(vd);
  size_t n = 0;
  vast_break_slot *sl = m ? calloc(m->n_breaks + 1, sizeof *sl) : NULL;
  if (!m || !sl || vast_vmap_schedule(m, -1, sl, m->n_breaks, &n) != VAST_OK) {
    free(sl);
    vast_doc_free(vd);
    return m ? VAST_E_NOMEM : VAST_E_NOT_VAST;
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
    vast_err r = brk_get(s, hold, NULL, NULL, 0, vd, &sl[i], &e, &b);
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
      fl[nfl].code = e.iab_code;
      snprintf(fl[nfl].msg, sizeof fl[nfl].msg, "%s", e.message[0] ? e.message : vast_strerror(r));
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
  if (rc == VAST_OK && !added && nfl) rc = fl[0].rc; /* no break at all */
  free(fl);
  free(sl);
  vast_doc_free(vd);
  if (vast__jw_finish(&w) != 0 && rc == VAST_OK) rc = VAST_E_IO;
  return rc;
}

vast_err vast_ssai_break_add(vast_ssai *s, const char *sid, const char *url, const char *doc,
                             size_t len, vast_write_fn write, void *ctx, vast_error *err) {
  if (!s || !sid || (!url && !doc) || !write) return VAST_E_INVAL;
  pthread_mutex_lock(&s->mu);
  session *x = vast__ssai_find(s, sid);
  dev_ref *hold = x ? x->dev : NULL;
  if (hold) hold->refs++;
  pthread_mutex_unlock(&s->mu);
  if (!x) return VAST_E_NOT_FOUND;
  vast_err rc;
  vast__ssai_brk *b = NULL;
  if (!url && looks_vmap(doc, len)) {
    rc = vmap_add(s, sid, hold, doc, len, write, ctx, err);
  } else {
    rc = brk_get(s, hold, url, doc, len, NULL, NULL, err, &b);
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
  pthread_mutex_lock(&s->mu);
  vast__ssai_dev_unref(hold);
  pthread_mutex_unlock(&s->mu);
  return rc;
}
