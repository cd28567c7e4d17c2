/*
 * ssai-breaks.c: a resolved ad break as the SSAI service shares it between
 * sessions (ssai-int.h): the chain, one plan per ad (the trackers of every
 * session playing the ad point at it) and the ad's timeline, computed once by
 * a simulated play. Nothing here is per session, so nothing here takes a lock:
 * a break is built before it is published in ssai.c's cache and never changes
 * after. A VMAP break carries its own break-level tracking too (breakStart,
 * breakEnd, error), fired by ssai.c around its ads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssai/ssai-int.h"
#include "vastrack/breaks.h"

uint64_t vast__ssai_hash(const void *p, size_t n, uint64_t h) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ c[i]) * 1099511628211ull;
  return h;
}

uint64_t vast__ssai_chain_key(const vast_chain *chain) {
  uint64_t h = 1469598103934665603ull;
  size_t n = 0;
  const vast_hop *hp = vast_chain_hops(chain, &n);
  for (size_t i = 0; i < n; i++) {
    const char *u = hp[i].uri ? hp[i].uri : "";
    h = vast__ssai_hash(u, strlen(u) + 1, h);
    long st[3] = {hp[i].status, (long)hp[i].err, hp[i].parent};
    h = vast__ssai_hash(st, sizeof st, h);
    size_t len = 0;
    const char *src = hp[i].doc ? vast_doc_source(hp[i].doc, &len) : NULL;
    h = vast__ssai_hash(&len, sizeof len, h);
    if (src) h = vast__ssai_hash(src, len, h);
  }
  return h;
}

/* ---- timelines ------------------------------------------------------------- */

static void tl_add(vast__ssai_brk_ad *t, const char *name, double time, const char *url) {
  vast__tl_ev *e = NULL;
  for (size_t i = 0; i < t->n_ev; i++)
    if (!strcmp(t->ev[i].name, name) && fabs(t->ev[i].time - time) < 0.0005) e = &t->ev[i];
  if (!e) {
    if (t->n_ev == t->cap_ev) {
      size_t nc = t->cap_ev ? t->cap_ev * 2 : 16;
      vast__tl_ev *ne = realloc(t->ev, nc * sizeof *ne);
      if (!ne) return;
      t->ev = ne;
      t->cap_ev = nc;
    }
    e = &t->ev[t->n_ev];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(name))) return;
    e->time = time;
    t->n_ev++;
  }
  for (size_t i = 0; i < e->n; i++)
    if (!strcmp(e->urls[i], url)) return;
  char **nu = realloc(e->urls, (e->n + 1) * sizeof *nu);
  if (!nu) return;
  e->urls = nu;
  if ((nu[e->n] = strdup(url))) e->n++;
}

static int tl_has(const vast__ssai_brk_ad *t, const char *name) {
  for (size_t i = 0; i < t->n_ev; i++)
    if (!strcmp(t->ev[i].name, name)) return 1;
  return 0;
}

static void on_sim(void *user, const vast_track_beacon *b) {
  vast__ssai_brk_ad *t = user;
  if (b->tmpl) tl_add(t, b->name, b->media_time >= 0 ? b->media_time : 0, b->tmpl);
}

/* The timed events of an ad (a simulated play to the end), then the events
   only a player causes (time -1). */
static void timeline_of(vast__ssai_brk_ad *t) {
  const vast_selection *sel = &t->sel;
  vast_tracker *tr = NULL;
  if (t->duration > 0 && vast_tracker_create(t->plan, NULL, on_sim, t, &tr) == VAST_OK) {
    vast_tracker_set_trusted_positions(tr, 1);
    vast_play_opts po;
    vast_play_opts_init(&po);
    po.end = t->duration;
    po.fire_ended = 1;
    po.duration = t->duration;
    po.wall_start = 0;
    po.tick = t->duration / 400 > 0.25 ? t->duration / 400 : 0.25;
    vast_play_simulate(tr, &po, NULL);
    vast_tracker_free(tr);
  }
  size_t n_timed = t->n_ev;
  for (size_t l = 0; l < sel->n_chain; l++) {
    const vast_ad *ad = sel->chain ? sel->chain[l] : sel->ad;
    for (size_t k = 0; k < ad->n_errors; k++)
      if (ad->errors[k].url) tl_add(t, "error", -1, ad->errors[k].url);
    for (size_t c2 = 0; c2 < ad->n_creatives; c2++) {
      const vast_creative *cr = &ad->creatives[c2];
      if (cr->kind != VAST_CREATIVE_LINEAR || !cr->linear) continue;
      if (ad == sel->ad && c2 != sel->creative) continue;
      const vast_linear *li = cr->linear;
      for (size_t k = 0; k < li->n_tracking; k++) {
        const vast_tracking *tk = &li->tracking[k];
        const char *nm = tk->event_name ? tk->event_name : vast_event_name(tk->event);
        if (!tk->url || !nm) continue;
        int timed = 0;
        for (size_t i = 0; i < n_timed; i++)
          if (!strcmp(t->ev[i].name, nm)) timed = 1;
        if (!timed && (tk->offset.kind == VAST_OFFSET_NONE || !tl_has(t, nm)))
          tl_add(t, nm, -1, tk->url);
      }
      for (size_t k = 0; k < li->n_click_tracking; k++)
        if (li->click_tracking[k].url) tl_add(t, "clickTracking", -1, li->click_tracking[k].url);
    }
  }
}

/* ---- breaks ------------------------------------------------------------------ */

vast__ssai_brk *vast__ssai_brk_new(vast_chain *chain) {
  vast__ssai_brk *b = calloc(1, sizeof *b);
  if (!b) {
    vast_chain_free(chain);
    return NULL;
  }
  b->chain = chain;
  size_t nh = 0;
  const vast_hop *hp = vast_chain_hops(chain, &nh);
  for (size_t i = 0; i < nh; i++)
    if (hp[i].doc) b->bytes += vast_doc_memory(hp[i].doc);
  for (size_t i = 0;; i++) {
    vast_selection sel;
    if (vast_select_chain(chain, i, &sel) != VAST_OK) break;
    vast__ssai_brk_ad *na = realloc(b->ads, (b->n_ads + 1) * sizeof *na);
    if (!na) goto fail;
    b->ads = na;
    vast__ssai_brk_ad *a = &b->ads[b->n_ads];
    memset(a, 0, sizeof *a);
    a->sel = sel;
    if (vast_plan_create_selected(&sel, &a->plan) != VAST_OK) continue; /* not playable */
    a->duration = vast_plan_duration(a->plan);
    b->bytes += vast_plan_memory(a->plan);
    b->n_ads++;
    timeline_of(a);
  }
  return b;
fail:
  vast__ssai_brk_free(b);
  return NULL;
}

void vast__ssai_brk_free(vast__ssai_brk *b) {
  if (!b) return;
  for (size_t i = 0; i < b->n_ads; i++) {
    vast__ssai_brk_ad *a = &b->ads[i];
    for (size_t e = 0; e < a->n_ev; e++) {
      for (size_t k = 0; k < a->ev[e].n; k++)
        free(a->ev[e].urls[k]);
      free(a->ev[e].urls);
      free(a->ev[e].name);
    }
    free(a->ev);
    vast_plan_free(a->plan);
  }
  free(b->ads);
  vast__ssai_bev_clear(&b->bev);
  vast_chain_free(b->chain);
  free(b);
}

void vast__ssai_brk_write_ads(const vast__ssai_brk *b, size_t first_ad, vast__jw *w) {
  double offset = 0;
  for (size_t i = 0; i < b->n_ads; i++) {
    const vast__ssai_brk_ad *a = &b->ads[i];
    const vast_selection *sel = &a->sel;
    vast__jw_obj_begin(w);
    vast__jw_kint(w, "ad", (long long)(first_ad + i));
    vast__jw_kstr(w, "adId", sel->ad->id);
    vast__jw_kstr(w, "adSystem", sel->ad->ad_system);
    vast__jw_kint_opt(w, "sequence",
                      sel->chain && sel->chain[0]->sequence >= 0 ? sel->chain[0]->sequence
                                                                 : sel->ad->sequence);
    vast__jw_key(w, "offset");
    vast__jw_num(w, offset);
    vast__jw_knum_opt(w, "duration", a->duration);
    vast__jw_key(w, "chain");
    vast__jw_arr_begin(w);
    for (size_t l = 0; l < sel->n_chain; l++)
      vast__jw_str(w, (sel->chain ? sel->chain[l] : sel->ad)->id);
    vast__jw_arr_end(w);
    vast__jw_key(w, "events");
    vast__jw_arr_begin(w);
    for (size_t e = 0; e < a->n_ev; e++) {
      vast__jw_obj_begin(w);
      vast__jw_kstr(w, "event", a->ev[e].name);
      vast__jw_knum_opt(w, "time", a->ev[e].time);
      vast__jw_key(w, "urls");
      vast__jw_arr_begin(w);
      for (size_t k = 0; k < a->ev[e].n; k++)
        vast__jw_str(w, a->ev[e].urls[k]);
      vast__jw_arr_end(w);
      vast__jw_obj_end(w);
    }
    vast__jw_arr_end(w);
    vast__jw_obj_end(w);
    if (a->duration > 0) offset += a->duration;
  }
}

/* ---- break-level tracking of a VMAP break ------------------------------------------ */

int vast__ssai_bev_set(vast__ssai_bev *ev, const vast_ad_break *ab, int position) {
  memset(ev, 0, sizeof *ev);
  ev->position = position;
  if (!ab || !ab->n_tracking) return 0;
  if (!(ev->t = calloc(ab->n_tracking, sizeof *ev->t))) return -1;
  for (size_t i = 0; i < ab->n_tracking; i++) {
    const vast_tracking *t = &ab->tracking[i];
    if (!t->event_name || !t->url || !t->url[0]) continue;
    vast_tracking *o = &ev->t[ev->n];
    char *nm = strdup(t->event_name), *u = strdup(t->url);
    if (!nm || !u) {
      free(nm), free(u);
      vast__ssai_bev_clear(ev);
      return -1;
    }
    o->event_name = nm;
    o->url = u;
    ev->n++;
  }
  return 0;
}

void vast__ssai_bev_clear(vast__ssai_bev *ev) {
  for (size_t i = 0; i < ev->n; i++)
    free((char *)ev->t[i].event_name), free((char *)ev->t[i].url);
  free(ev->t);
  memset(ev, 0, sizeof *ev);
}

uint64_t vast__ssai_bev_key(uint64_t key, const vast__ssai_bev *ev) {
  if (!ev->n) return key;
  key = vast__ssai_hash(&ev->position, sizeof ev->position, key ^ 0x9e3779b97f4a7c15ull);
  for (size_t i = 0; i < ev->n; i++) {
    key = vast__ssai_hash(ev->t[i].event_name, strlen(ev->t[i].event_name) + 1, key);
    key = vast__ssai_hash(ev->t[i].url, strlen(ev->t[i].url) + 1, key);
  }
  return key;
}

int vast__ssai_bev_write(FILE *f, const vast__ssai_bev *ev) {
  if (!ev->n) return 0;
  int bad = fprintf(f, "T %d %zu\n", ev->position, ev->n) < 0;
  for (size_t i = 0; i < ev->n; i++) {
    size_t ln = strlen(ev->t[i].event_name), lu = strlen(ev->t[i].url);
    bad |= fprintf(f, "E %zu %zu\n%s%s\n", ln, lu, ev->t[i].event_name, ev->t[i].url) < 0;
  }
  return bad ? -1 : 0;
}

int vast__ssai_bev_read(FILE *f, vast__ssai_bev *ev) {
  memset(ev, 0, sizeof *ev);
  int c = fgetc(f);
  if (c == EOF) return 0; /* no trailer: a VAST break, or a file of an older version */
  size_t n = 0;
  if (c != 'T' || fscanf(f, " %d %zu\n", &ev->position, &n) != 2 || !n || n > 10000 ||
      !(ev->t = calloc(n, sizeof *ev->t)))
    return -1;
  for (size_t i = 0; i < n; i++) {
    size_t ln = 0, lu = 0;
    if (fscanf(f, "E %zu %zu", &ln, &lu) != 2 || fgetc(f) != '\n' || ln > 256 || lu > 65536) break;
    char *nm = malloc(ln + 1), *u = malloc(lu + 1);
    if (!nm || !u || fread(nm, 1, ln, f) != ln || fread(u, 1, lu, f) != lu || fgetc(f) != '\n') {
      free(nm), free(u);
      break;
    }
    nm[ln] = 0, u[lu] = 0;
    ev->t[i].event_name = nm;
    ev->t[i].url = u;
    ev->n++;
  }
  if (ev->n == n) return 0;
  vast__ssai_bev_clear(ev);
  return -1;
}

void vast__ssai_bev_write_json(const vast__ssai_bev *ev, vast__jw *w) {
  static const char *const names[3] = {"breakStart", "breakEnd", "error"};
  vast__jw_key(w, "breakEvents");
  vast__jw_arr_begin(w);
  for (int k = 0; k < 3; k++) {
    int any = 0;
    for (size_t i = 0; i < ev->n; i++) {
      if (strcmp(ev->t[i].event_name, names[k]) != 0) continue;
      if (!any) {
        vast__jw_obj_begin(w);
        vast__jw_kstr(w, "event", names[k]);
        vast__jw_key(w, "urls");
        vast__jw_arr_begin(w);
        any = 1;
      }
      vast__jw_str(w, ev->t[i].url);
    }
    if (any) {
      vast__jw_arr_end(w);
      vast__jw_obj_end(w);
    }
  }
  vast__jw_arr_end(w);
}

typedef struct bev_cb {
  vast_track_fn fn;
  void *user;
  size_t n;
} bev_cb;

static void on_bev(void *user, const char *event, const char *url, const char *tmpl) {
  bev_cb *c = user;
  vast_track_beacon b;
  memset(&b, 0, sizeof b);
  b.kind = VAST_BEACON_TRACKING;
  b.name = event;
  b.url = url;
  b.url_len = strlen(url);
  b.tmpl = tmpl;
  b.media_time = -1;
  b.wall_time = -1;
  c->fn(c->user, &b);
  c->n++;
}

size_t vast__ssai_bev_fire(const vast__ssai_bev *ev, const char *event, int code,
                           const vast_macro_ctx *ctx, const char *txid, vast_track_fn fn,
                           void *user) {
  if (!ev->n) return 0;
  vast_macro_ctx c = *ctx;
  if (txid && *txid) c.value[VAST_MACRO_TRANSACTIONID] = txid;
  vast_ad_break ab;
  memset(&ab, 0, sizeof ab);
  ab.tracking = ev->t;
  ab.n_tracking = ev->n;
  bev_cb cb = {fn, user, 0};
  vast_break_track(&ab, event, ev->position, code, &c, on_bev, &cb);
  return cb.n;
}
