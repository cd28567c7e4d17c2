/*
 * pick.c: the short path through the tracking engine (include/vastrack/track.h,
 * "The common case"). Picks the ad and creative to play from a parsed document
 * or a resolved chain (pods in sequence order), builds a tracker that owns its
 * plan, and wraps the common player events in one-line calls. Nothing here
 * adds behaviour: each helper is one vast_tracker_feed() with the input filled
 * in, so the model (plans, trackers, inputs) stays visible.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "track/track-int.h"

double vast_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- picking ---- */

/* 1 when every MediaFile of the Linear is VPAID (nothing a plain video player can play). */
static int vpaid_only(const vast_creative *cr) {
  if (cr->kind != VAST_CREATIVE_LINEAR || !cr->linear || !cr->linear->n_media_files) return 0;
  for (size_t i = 0; i < cr->linear->n_media_files; i++) {
    const vast_media_file *mf = &cr->linear->media_files[i];
    int vpaid = (mf->api_framework && !strcasecmp(mf->api_framework, "VPAID")) ||
                (mf->type && (!strcasecmp(mf->type, "application/javascript") ||
                              !strcasecmp(mf->type, "application/x-javascript") ||
                              !strcasecmp(mf->type, "application/x-shockwave-flash")));
    if (!vpaid) return 0;
  }
  return 1;
}

/* The creative to play: the first Linear, else the first NonLinear, else the
 * first Companion; -1 when none is usable. */
static long pick_creative(const vast_ad *ad) {
  static const vast_creative_kind order[] = {VAST_CREATIVE_LINEAR, VAST_CREATIVE_NONLINEAR,
                                             VAST_CREATIVE_COMPANION};
  for (size_t k = 0; k < sizeof order / sizeof *order; k++)
    for (size_t i = 0; i < ad->n_creatives; i++) {
      const vast_creative *c = &ad->creatives[i];
      if (c->kind != order[k]) continue;
      if ((c->kind == VAST_CREATIVE_LINEAR && c->linear) ||
          (c->kind == VAST_CREATIVE_NONLINEAR && c->nonlinear) ||
          (c->kind == VAST_CREATIVE_COMPANION && c->companions && c->companions->n_companions))
        return (long)i;
    }
  return -1;
}

/*
 * Orders candidates: when any has a sequence, the pod (those with one) in
 * sequence order, stable; otherwise every candidate in document order (a
 * buffet: the first is played, the others are fallbacks). seq[i] < 0: none.
 * Writes the chosen candidate indexes to idx; returns how many.
 */
static size_t order_playable(const int *seq, size_t n, size_t *idx) {
  int pod = 0;
  for (size_t i = 0; i < n; i++)
    pod |= seq[i] >= 0;
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (!pod || seq[i] >= 0) {
      size_t j = m++;
      while (j > 0 && seq[idx[j - 1]] > seq[i]) {
        idx[j] = idx[j - 1];
        j--;
      }
      idx[j] = i;
    }
  return m;
}

static vast_err fill(vast_selection *sel, const vast_ad *const *chain, size_t n_chain,
                     const vast_ad *ad, size_t n_playable) {
  long ci = pick_creative(ad);
  if (ci < 0) return VAST_E_NOT_FOUND;
  sel->chain = chain;
  sel->n_chain = n_chain;
  sel->ad = ad;
  sel->creative = (size_t)ci;
  sel->cr = &ad->creatives[ci];
  sel->n_playable = n_playable;
  sel->vpaid_only = vpaid_only(sel->cr);
  return VAST_OK;
}

#define PICK_MAX 256 /* ads considered per document or chain */

vast_err vast_select_doc(const vast_doc *doc, size_t index, vast_selection *sel) {
  if (!sel) return VAST_E_INVAL;
  memset(sel, 0, sizeof *sel);
  if (!doc) return VAST_E_INVAL;
  const vast_vast *v = vast_doc_vast(doc);
  if (!v) return VAST_E_NOT_FOUND;
  int seq[PICK_MAX];
  size_t at[PICK_MAX], idx[PICK_MAX], n = 0;
  for (size_t i = 0; i < v->n_ads && n < PICK_MAX; i++)
    if (v->ads[i].kind == VAST_AD_INLINE && pick_creative(&v->ads[i]) >= 0) {
      seq[n] = v->ads[i].sequence;
      at[n++] = i;
    }
  size_t m = order_playable(seq, n, idx);
  if (index >= m) return VAST_E_NOT_FOUND;
  return fill(sel, NULL, 1, &v->ads[at[idx[index]]], m);
}

vast_err vast_select_chain(const struct vast_chain *chain, size_t index, vast_selection *sel) {
  if (!sel) return VAST_E_INVAL;
  memset(sel, 0, sizeof *sel);
  if (!chain) return VAST_E_INVAL;
  size_t n_res = 0;
  const vast_resolved *res = vast_chain_ads(chain, &n_res);
  int seq[PICK_MAX];
  size_t at[PICK_MAX], idx[PICK_MAX], n = 0;
  for (size_t i = 0; res && i < n_res && n < PICK_MAX; i++) {
    if (!res[i].n || pick_creative(res[i].ads[res[i].n - 1]) < 0) continue;
    /* the pod position is the outermost level's (a wrapper in a pod), else the InLine's */
    int s = res[i].ads[0]->sequence;
    seq[n] = s >= 0 ? s : res[i].ads[res[i].n - 1]->sequence;
    at[n++] = i;
  }
  size_t m = order_playable(seq, n, idx);
  if (index >= m) return VAST_E_NOT_FOUND;
  const vast_resolved *r = &res[at[idx[index]]];
  return fill(sel, r->ads, r->n, r->ads[r->n - 1], m);
}

vast_err vast_plan_create_selected(const vast_selection *sel, vast_plan **plan) {
  if (!plan) return VAST_E_INVAL;
  *plan = NULL;
  if (!sel || !sel->ad) return VAST_E_INVAL;
  if (sel->chain) return vast_plan_create(sel->chain, sel->n_chain, sel->creative, 0, plan);
  const vast_ad *one[1] = {sel->ad};
  return vast_plan_create(one, 1, sel->creative, 0, plan);
}

vast_err vast_tracker_open(const vast_doc *doc, const vast_macro_ctx *ctx, vast_track_fn fn,
                           void *user, vast_tracker **tracker) {
  if (!tracker) return VAST_E_INVAL;
  *tracker = NULL;
  vast_selection sel;
  vast_err rc = vast_select_doc(doc, 0, &sel);
  if (rc != VAST_OK) return rc;
  return vast_tracker_open_selected(&sel, ctx, fn, user, tracker);
}

/* ---- one-line events ---- */

static vast_err feed(vast_tracker *t, vast_input_kind kind, double wall, double media, int code) {
  vast_input in;
  memset(&in, 0, sizeof in);
  in.kind = kind;
  in.wall_time = wall;
  in.media_time = media;
  in.code = code;
  return vast_tracker_feed(t, &in);
}

vast_err vast_tracker_loaded(vast_tracker *t, double wall) {
  return feed(t, VAST_IN_LOADED, wall, -1, 0);
}
vast_err vast_tracker_impression(vast_tracker *t, double wall) {
  return feed(t, VAST_IN_IMPRESSION, wall, -1, 0);
}
vast_err vast_tracker_pause(vast_tracker *t, double wall, double media) {
  return feed(t, VAST_IN_PAUSE, wall, media, 0);
}
vast_err vast_tracker_resume(vast_tracker *t, double wall, double media) {
  return feed(t, VAST_IN_RESUME, wall, media, 0);
}
vast_err vast_tracker_mute(vast_tracker *t, double wall, double media, int muted) {
  return feed(t, muted ? VAST_IN_MUTE : VAST_IN_UNMUTE, wall, media, 0);
}
vast_err vast_tracker_skip(vast_tracker *t, double wall, double media) {
  return feed(t, VAST_IN_SKIP, wall, media, 0);
}
vast_err vast_tracker_complete(vast_tracker *t, double wall, double media) {
  return feed(t, VAST_IN_ENDED, wall, media, 0);
}
vast_err vast_tracker_close(vast_tracker *t, double wall, double media) {
  return feed(t, VAST_IN_CLOSE, wall, media, 0);
}
vast_err vast_tracker_error(vast_tracker *t, double wall, int code) {
  return feed(t, VAST_IN_ERROR, wall, -1, code);
}

/* For lib/breaks/breaks.c: the selection of one given ad (its usual creative);
 * VAST_E_NOT_FOUND when it has none usable. */
vast_err vast__select_ad(vast_selection *sel, const vast_ad *const *chain, size_t n_chain,
                         const vast_ad *ad, size_t n_playable) {
  memset(sel, 0, sizeof *sel);
  if (!ad || ad->kind != VAST_AD_INLINE) return VAST_E_NOT_FOUND;
  return fill(sel, chain, n_chain, ad, n_playable);
}
