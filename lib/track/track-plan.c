/*
 * track-plan.c: plans. vast_plan_create merges, once per ad, the beacon URLs
 * of an InLine creative and of every Wrapper of its chain into per-event
 * lists (pointers into the parsed documents), with the progress offsets,
 * icons, verification vendors and skip offset the tracker needs.
 */
#include "vastrack/track.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "track/track-engine.h"

/* ------------------------------------------------------------------------ */
/* Plans                                                                     */

typedef struct collector {
  plan_url *items; /* aux holds the slot until packing */
  size_t n, cap;
  plan_progress *prog;
  size_t n_prog;
  plan_url *verif;
  size_t n_verif, cap_verif;
  const char *vendors[MAX_VENDORS];
  size_t n_vendors;
  plan_url *icon_urls;
  size_t n_icon_urls, cap_icon_urls;
  int nomem;
} collector;

static void col_push(plan_url **arr, size_t *n, size_t *cap, plan_url v, int *nomem) {
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 32;
    plan_url *na = realloc(*arr, nc * sizeof *na);
    if (!na) {
      *nomem = 1;
      return;
    }
    *arr = na;
    *cap = nc;
  }
  (*arr)[(*n)++] = v;
}

/* VAST 4.x 3.4.4: an Impression of about:blank is a placeholder not to be
 * dispatched (a tag with no impression tracking still needs the element). */
static int url_is_placeholder(const char *url) {
  if (!url) return 0;
  while (*url == ' ' || *url == '\t' || *url == '\r' || *url == '\n')
    url++;
  if (strncasecmp(url, "about:blank", 11) != 0) return 0;
  for (url += 11; *url; url++)
    if (*url != ' ' && *url != '\t' && *url != '\r' && *url != '\n') return 0;
  return 1;
}

static void add_url(collector *c, int slot, const char *url, unsigned level) {
  if (!url || !*url) return;
  if (slot == SLOT_IMPRESSION && url_is_placeholder(url)) return;
  plan_url u = {url, level, (uint32_t)slot};
  col_push(&c->items, &c->n, &c->cap, u, &c->nomem);
}

static void add_urls(collector *c, int slot, const vast_url *u, size_t n, unsigned level) {
  for (size_t i = 0; i < n; i++)
    add_url(c, slot, u[i].url, level);
}

static void add_tracking(collector *c, const vast_tracking *t, size_t n, unsigned level) {
  for (size_t i = 0; i < n; i++) {
    const vast_tracking *tr = &t[i];
    if (!tr->url || !*tr->url || tr->event <= VAST_EV_UNKNOWN || tr->event >= VAST_EV__COUNT)
      continue;
    if (tr->event == VAST_EV_PROGRESS) {
      if (tr->offset.kind != VAST_OFFSET_TIME && tr->offset.kind != VAST_OFFSET_PERCENT) continue;
      if (c->n_prog >= MAX_PROGRESS || !(tr->offset.value >= 0)) continue;
      plan_progress p = {tr->offset.value, tr->offset.kind == VAST_OFFSET_PERCENT, level, tr->url};
      c->prog[c->n_prog++] = p;
      continue;
    }
    add_url(c, tr->event, tr->url, level);
  }
}

static void add_verifications(collector *c, const vast_ad *ad, unsigned level) {
  for (size_t i = 0; i < ad->n_verifications; i++) {
    const vast_verification *v = &ad->verifications[i];
    const char *vendor = v->vendor ? v->vendor : "";
    size_t vi = 0;
    while (vi < c->n_vendors && strcmp(c->vendors[vi], vendor) != 0)
      vi++;
    if (vi == c->n_vendors) {
      if (c->n_vendors >= MAX_VENDORS) continue;
      c->vendors[c->n_vendors++] = vendor;
    }
    for (size_t j = 0; j < v->n_tracking; j++) {
      const vast_tracking *tr = &v->tracking[j];
      if (tr->event != VAST_EV_VERIFICATION_NOT_EXECUTED || !tr->url || !*tr->url) continue;
      plan_url u = {tr->url, level, (uint32_t)vi};
      col_push(&c->verif, &c->n_verif, &c->cap_verif, u, &c->nomem);
    }
  }
}

/* What every level contributes regardless of the creative kind. */
static void add_ad_level(collector *c, const vast_ad *ad, unsigned level) {
  add_urls(c, SLOT_IMPRESSION, ad->impressions, ad->n_impressions, level);
  add_urls(c, SLOT_ERROR, ad->errors, ad->n_errors, level);
  add_urls(c, SLOT_VIEWABLE, ad->viewable, ad->n_viewable, level);
  add_urls(c, SLOT_NOT_VIEWABLE, ad->not_viewable, ad->n_not_viewable, level);
  add_urls(c, SLOT_VIEW_UNDETERMINED, ad->view_undetermined, ad->n_view_undetermined, level);
  add_verifications(c, ad, level);
}

static void add_icon_urls(collector *c, const vast_url *u, size_t n, unsigned level) {
  for (size_t i = 0; i < n; i++)
    if (u[i].url && *u[i].url) {
      plan_url v = {u[i].url, level, 0};
      col_push(&c->icon_urls, &c->n_icon_urls, &c->cap_icon_urls, v, &c->nomem);
    }
}

/* A Wrapper Companion for the same slot as the InLine's: the same adSlotID when
 * both name one, else the same width x height. */
static int same_slot(const vast_companion *w, const vast_companion *in) {
  if (w->ad_slot_id && *w->ad_slot_id && in->ad_slot_id && *in->ad_slot_id)
    return strcmp(w->ad_slot_id, in->ad_slot_id) == 0;
  return w->width > 0 && w->width == in->width && w->height == in->height;
}

static int same_program(const vast_icon *a, const vast_icon *b) {
  return a->program && b->program && strcasecmp(a->program, b->program) == 0;
}

/*
 * Icon ic of chain level `il` (the InLine's, or a Wrapper's that the InLine
 * does not show): its view URLs then its click URLs, each merged over the
 * chain (the other levels' Linear icons of the same program, chain order).
 */
static void add_icon(collector *c, plan_icon *pi, const vast_ad *const *chain, size_t n_chain,
                     const vast_icon *ic, unsigned il) {
  pi->click_through = ic->click_through;
  for (int pass = 0; pass < 2; pass++) {
    uint32_t first = (uint32_t)c->n_icon_urls;
    for (size_t l = 0; l < n_chain; l++) {
      if (l == il) {
        if (pass == 0)
          add_icon_urls(c, ic->view_tracking, ic->n_view_tracking, il);
        else
          add_icon_urls(c, ic->click_tracking, ic->n_click_tracking, il);
        continue;
      }
      for (size_t k = 0; k < chain[l]->n_creatives; k++) {
        const vast_creative *wc = &chain[l]->creatives[k];
        if (wc->kind != VAST_CREATIVE_LINEAR || !wc->linear) continue;
        for (size_t j = 0; j < wc->linear->n_icons; j++) {
          const vast_icon *wi = &wc->linear->icons[j];
          if (!same_program(wi, ic)) continue;
          if (pass == 0)
            add_icon_urls(c, wi->view_tracking, wi->n_view_tracking, (unsigned)l);
          else
            add_icon_urls(c, wi->click_tracking, wi->n_click_tracking, (unsigned)l);
        }
      }
    }
    uint32_t n = (uint32_t)c->n_icon_urls - first;
    if (pass == 0)
      pi->view = first, pi->n_view = n;
    else
      pi->click = first, pi->n_click = n;
  }
}

/*
 * [ASSETURI] when the caller names none: the only MediaFile, else the first
 * progressive video file (video/...) that is not VPAID (the one a plain video player
 * picks), else NULL (unknown).
 */
static const char *default_asset(const vast_linear *ln) {
  if (ln->n_media_files == 1) return ln->media_files[0].url;
  for (size_t i = 0; i < ln->n_media_files; i++) {
    const vast_media_file *mf = &ln->media_files[i];
    if (!mf->url || !*mf->url || !mf->type || strncasecmp(mf->type, "video/", 6)) continue;
    if (mf->delivery && strcasecmp(mf->delivery, "progressive")) continue;
    if (mf->api_framework && !strcasecmp(mf->api_framework, "VPAID")) continue;
    return mf->url;
  }
  return NULL;
}

static int cmp_progress(const void *a, const void *b) {
  const plan_progress *x = a, *y = b;
  if (x->percent != y->percent) return x->percent - y->percent;
  return x->value < y->value ? -1 : x->value > y->value;
}

/* 1 when chain is a usable chain: Wrappers, then one InLine. */
static int chain_ok(const vast_ad *const *chain, size_t n_chain) {
  if (!chain || !n_chain || n_chain > UINT32_MAX) return 0;
  for (size_t i = 0; i < n_chain; i++)
    if (!chain[i] || chain[i]->kind != (i + 1 == n_chain ? VAST_AD_INLINE : VAST_AD_WRAPPER))
      return 0;
  return 1;
}

static vast_err plan_create(const vast_ad *const *chain, size_t n_chain, size_t level,
                            size_t creative, size_t variation, vast_plan **out);

vast_err vast_plan_create(const vast_ad *const *chain, size_t n_chain, size_t creative,
                          size_t variation, vast_plan **out) {
  if (!out) return VAST_E_INVAL;
  *out = NULL;
  if (!chain_ok(chain, n_chain)) return VAST_E_INVAL;
  return plan_create(chain, n_chain, n_chain - 1, creative, variation, out);
}

vast_err vast_plan_create_companion(const vast_ad *const *chain, size_t n_chain,
                                    const vast_companion_ref *ref, vast_plan **out) {
  if (!out) return VAST_E_INVAL;
  *out = NULL;
  if (!chain_ok(chain, n_chain) || !ref || ref->level >= n_chain) return VAST_E_INVAL;
  const vast_ad *ad = chain[ref->level];
  if (ref->creative >= ad->n_creatives) return VAST_E_NOT_FOUND;
  const vast_creative *cr = &ad->creatives[ref->creative];
  if (cr->kind != VAST_CREATIVE_COMPANION || !cr->companions ||
      ref->variation >= cr->companions->n_companions)
    return VAST_E_NOT_FOUND;
  return plan_create(chain, n_chain, ref->level, ref->creative, ref->variation, out);
}

/* 1 when a Companion of the same slot as w is already in refs[0..n). */
static int slot_listed(const vast_companion_ref *refs, size_t n, const vast_companion *w) {
  for (size_t i = 0; i < n; i++)
    if (same_slot(w, refs[i].companion)) return 1;
  return 0;
}

vast_err vast_chain_companions(const vast_ad *const *chain, size_t n_chain, vast_companion_ref *out,
                               size_t cap, size_t *n) {
  if (n) *n = 0;
  if (!n || (!out && cap) || !chain_ok(chain, n_chain)) return VAST_E_INVAL;
  size_t k = 0;
  vast_companion_ref tmp[VAST_PLAN_MAX_COMPANIONS];
  for (size_t step = 0; step < n_chain; step++) {
    size_t l = n_chain - 1 - step; /* the InLine, then the innermost Wrapper first */
    const vast_ad *ad = chain[l];
    for (size_t c = 0; c < ad->n_creatives; c++) {
      const vast_creative *cr = &ad->creatives[c];
      if (cr->kind != VAST_CREATIVE_COMPANION || !cr->companions) continue;
      for (size_t v = 0; v < cr->companions->n_companions; v++) {
        const vast_companion *co = &cr->companions->companions[v];
        if (step &&
            slot_listed(tmp, k < VAST_PLAN_MAX_COMPANIONS ? k : VAST_PLAN_MAX_COMPANIONS, co))
          continue; /* a slot already shown (the InLine's, or an inner Wrapper's) */
        vast_companion_ref r = {l, c, v, co};
        if (k < VAST_PLAN_MAX_COMPANIONS) tmp[k] = r;
        if (k < cap) out[k] = r;
        k++;
      }
    }
  }
  *n = k;
  return k > cap ? VAST_E_NOSPACE : VAST_OK;
}

/*
 * The plan of creative `creative`, variation `variation`, of chain[level]: the
 * InLine (level n_chain - 1), or a Wrapper's Companion the InLine has no slot
 * for (vast_plan_create_companion). Ad-level values come from the InLine.
 */
static vast_err plan_create(const vast_ad *const *chain, size_t n_chain, size_t level,
                            size_t creative, size_t variation, vast_plan **out) {
  const vast_ad *in = chain[n_chain - 1];
  if (creative >= chain[level]->n_creatives) return VAST_E_NOT_FOUND;
  const vast_creative *cr = &chain[level]->creatives[creative];
  unsigned il = (unsigned)(n_chain - 1);

  collector c;
  memset(&c, 0, sizeof c);
  plan_progress prog[MAX_PROGRESS];
  c.prog = prog;
  plan_icon icons[VAST_PLAN_MAX_ICONS];
  size_t n_icons = 0;
  vast_plan tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.kind = cr->kind;
  tmp.duration = -1;
  tmp.skip_kind = VAST_OFFSET_NONE;
  tmp.ad_serving_id = in->ad_serving_id;
  tmp.ad_type = in->ad_type ? in->ad_type : "video";
  /* [PODSEQUENCE]: the InLine's sequence, else the outermost Wrapper's (the pod ad) */
  tmp.pod_sequence = in->sequence >= 0 ? in->sequence : chain[0]->sequence;
  tmp.uaids = cr->universal_ad_ids;
  tmp.n_uaids = cr->n_universal_ad_ids;
  tmp.cats = in->categories;
  tmp.n_cats = in->n_categories;
  for (size_t l = 0; l + 1 < n_chain; l++) /* [BLOCKEDADCATEGORIES]: every Wrapper's list */
    for (size_t b = 0; b < chain[l]->n_blocked_ad_categories; b++)
      if (tmp.n_blocked < VAST_PLAN_MAX_BLOCKED)
        tmp.blocked[tmp.n_blocked++] = &chain[l]->blocked_ad_categories[b];

  switch (cr->kind) {
  case VAST_CREATIVE_LINEAR: {
    const vast_linear *ln = cr->linear;
    if (!ln) return VAST_E_NOT_FOUND;
    tmp.duration = ln->duration > 0 ? ln->duration : -1;
    if (ln->skipoffset.kind == VAST_OFFSET_TIME || ln->skipoffset.kind == VAST_OFFSET_PERCENT) {
      tmp.skip_kind = ln->skipoffset.kind;
      tmp.skip_value = ln->skipoffset.value;
    }
    tmp.click_through = ln->click_through;
    /* none in the InLine: the Wrapper closest to it ("closest to the InLine must be
       favored") */
    for (size_t l = il; (!tmp.click_through || !*tmp.click_through) && l-- > 0;)
      for (size_t k = 0; k < chain[l]->n_creatives; k++) {
        const vast_creative *wc = &chain[l]->creatives[k];
        if (wc->kind == VAST_CREATIVE_LINEAR && wc->linear && wc->linear->click_through &&
            *wc->linear->click_through) {
          tmp.click_through = wc->linear->click_through;
          break;
        }
      }
    tmp.default_asset = default_asset(ln);
    for (size_t l = 0; l < n_chain; l++) {
      add_ad_level(&c, chain[l], (unsigned)l);
      if (l == il) {
        add_tracking(&c, ln->tracking, ln->n_tracking, il);
        add_urls(&c, SLOT_CLICK, ln->click_tracking, ln->n_click_tracking, il);
        add_urls(&c, SLOT_CUSTOM_CLICK, ln->custom_clicks, ln->n_custom_clicks, il);
        continue;
      }
      for (size_t k = 0; k < chain[l]->n_creatives; k++) {
        const vast_creative *wc = &chain[l]->creatives[k];
        if (wc->kind != VAST_CREATIVE_LINEAR || !wc->linear) continue;
        add_tracking(&c, wc->linear->tracking, wc->linear->n_tracking, (unsigned)l);
        add_urls(&c, SLOT_CLICK, wc->linear->click_tracking, wc->linear->n_click_tracking,
                 (unsigned)l);
        add_urls(&c, SLOT_CUSTOM_CLICK, wc->linear->custom_clicks, wc->linear->n_custom_clicks,
                 (unsigned)l);
      }
    }
    for (size_t i = 0; i < ln->n_icons && n_icons < VAST_PLAN_MAX_ICONS; i++)
      add_icon(&c, &icons[n_icons++], chain, n_chain, &ln->icons[i], il);
    /* Icons only in a Wrapper (an AdChoices icon the InLine lacks): shown too,
       after the InLine's, one per program (innermost Wrapper first) */
    const vast_icon *seen[VAST_PLAN_MAX_ICONS];
    size_t n_seen = 0;
    for (size_t l = il; l-- > 0;)
      for (size_t k = 0; k < chain[l]->n_creatives; k++) {
        const vast_creative *wc = &chain[l]->creatives[k];
        if (wc->kind != VAST_CREATIVE_LINEAR || !wc->linear) continue;
        for (size_t j = 0; j < wc->linear->n_icons && n_icons < VAST_PLAN_MAX_ICONS; j++) {
          const vast_icon *wi = &wc->linear->icons[j];
          int dup = 0;
          for (size_t i = 0; i < ln->n_icons && !dup; i++)
            dup = same_program(wi, &ln->icons[i]);
          for (size_t i = 0; i < n_seen && !dup; i++)
            dup = same_program(wi, seen[i]);
          if (dup) continue;
          seen[n_seen++] = wi;
          add_icon(&c, &icons[n_icons++], chain, n_chain, wi, (unsigned)l);
        }
      }
    break;
  }
  case VAST_CREATIVE_NONLINEAR: {
    const vast_nonlinear_ads *na = cr->nonlinear;
    if (!na || (na->n_nonlinears && variation >= na->n_nonlinears) ||
        (!na->n_nonlinears && variation))
      return VAST_E_NOT_FOUND;
    if (na->n_nonlinears) tmp.click_through = na->nonlinears[variation].click_through;
    for (size_t l = 0; l < n_chain; l++) {
      add_ad_level(&c, chain[l], (unsigned)l);
      if (l == il) {
        add_tracking(&c, na->tracking, na->n_tracking, il);
        if (na->n_nonlinears)
          add_urls(&c, SLOT_CLICK, na->nonlinears[variation].click_tracking,
                   na->nonlinears[variation].n_click_tracking, il);
        continue;
      }
      for (size_t k = 0; k < chain[l]->n_creatives; k++) {
        const vast_creative *wc = &chain[l]->creatives[k];
        if (wc->kind != VAST_CREATIVE_NONLINEAR || !wc->nonlinear) continue;
        add_tracking(&c, wc->nonlinear->tracking, wc->nonlinear->n_tracking, (unsigned)l);
        for (size_t m = 0; m < wc->nonlinear->n_nonlinears; m++)
          add_urls(&c, SLOT_CLICK, wc->nonlinear->nonlinears[m].click_tracking,
                   wc->nonlinear->nonlinears[m].n_click_tracking, (unsigned)l);
      }
    }
    break;
  }
  case VAST_CREATIVE_COMPANION: {
    const vast_companion_ads *ca = cr->companions;
    if (!ca || variation >= ca->n_companions) return VAST_E_NOT_FOUND;
    const vast_companion *co = &ca->companions[variation];
    tmp.click_through = co->click_through;
    /* the other levels' Companions for the same slot, in chain order; ClickThrough:
       the chosen one's, else the closest other level's */
    for (size_t l = 0; l < n_chain; l++) {
      if (l == level) {
        add_tracking(&c, co->tracking, co->n_tracking, (unsigned)l);
        add_urls(&c, SLOT_CLICK, co->click_tracking, co->n_click_tracking, (unsigned)l);
        continue;
      }
      for (size_t k = 0; k < chain[l]->n_creatives; k++) {
        const vast_creative *wc = &chain[l]->creatives[k];
        if (wc->kind != VAST_CREATIVE_COMPANION || !wc->companions) continue;
        for (size_t m = 0; m < wc->companions->n_companions; m++) {
          const vast_companion *w = &wc->companions->companions[m];
          if (!same_slot(w, co)) continue;
          add_tracking(&c, w->tracking, w->n_tracking, (unsigned)l);
          add_urls(&c, SLOT_CLICK, w->click_tracking, w->n_click_tracking, (unsigned)l);
          if ((!co->click_through || !*co->click_through) && w->click_through && *w->click_through)
            tmp.click_through = w->click_through; /* the last one seen is the closest */
        }
      }
    }
    break;
  }
  default:
    return VAST_E_NOT_FOUND;
  }
  if (c.nomem) {
    free(c.items);
    free(c.verif);
    free(c.icon_urls);
    return VAST_E_NOMEM;
  }

  /* Pack everything into one block: the plan, then its arrays. */
  size_t bytes = sizeof(vast_plan) + c.n * sizeof(plan_url) + c.n_verif * sizeof(plan_url) +
                 c.n_icon_urls * sizeof(plan_url) + n_icons * sizeof(plan_icon) +
                 c.n_prog * sizeof(plan_progress);
  char *blk = malloc(bytes);
  if (!blk) {
    free(c.items);
    free(c.verif);
    free(c.icon_urls);
    return VAST_E_NOMEM;
  }
  vast_plan *p = (vast_plan *)blk;
  *p = tmp;
  p->bytes = bytes;
  plan_url *urls = (plan_url *)(blk + sizeof(vast_plan));
  plan_url *verif = urls + c.n;
  plan_url *icon_urls = verif + c.n_verif;
  plan_icon *picons = (plan_icon *)(icon_urls + c.n_icon_urls);
  plan_progress *pr = (plan_progress *)(picons + n_icons);
  /* Counting sort by slot, stable: chain order, then document order. */
  uint32_t count[SLOT__COUNT + 1] = {0};
  for (size_t i = 0; i < c.n; i++)
    count[c.items[i].aux + 1]++;
  for (int s = 0; s < SLOT__COUNT; s++)
    count[s + 1] += count[s];
  memcpy(p->start, count, sizeof p->start);
  for (size_t i = 0; i < c.n; i++) {
    plan_url u = c.items[i];
    uint32_t slot = u.aux;
    u.aux = 0;
    urls[count[slot]++] = u;
  }
  if (c.n_verif) memcpy(verif, c.verif, c.n_verif * sizeof *verif);
  if (c.n_icon_urls) memcpy(icon_urls, c.icon_urls, c.n_icon_urls * sizeof *icon_urls);
  if (n_icons) memcpy(picons, icons, n_icons * sizeof *picons);
  p->icon_urls = icon_urls;
  p->n_icon_urls = c.n_icon_urls;
  p->icons = picons;
  p->n_icons = n_icons;
  if (c.n_prog) {
    memcpy(pr, prog, c.n_prog * sizeof *pr);
    qsort(pr, c.n_prog, sizeof *pr, cmp_progress);
  }
  p->urls = urls;
  p->n_urls = c.n;
  p->verif = verif;
  p->n_verif = c.n_verif;
  p->progress = pr;
  p->n_progress = c.n_prog;
  memcpy(p->vendors, c.vendors, sizeof p->vendors);
  p->n_vendors = c.n_vendors;
  free(c.items);
  free(c.verif);
  free(c.icon_urls);
  *out = p;
  return VAST_OK;
}

void vast_plan_free(vast_plan *p) {
  free(p);
}
size_t vast_plan_memory(const vast_plan *p) {
  return p ? p->bytes : 0;
}
vast_creative_kind vast_plan_kind(const vast_plan *p) {
  return p ? p->kind : VAST_CREATIVE_UNKNOWN;
}
double vast_plan_duration(const vast_plan *p) {
  return p ? p->duration : -1;
}
size_t vast_plan_url_count(const vast_plan *p) {
  return p ? p->n_urls + p->n_verif + p->n_progress + p->n_icon_urls : 0;
}
size_t vast_plan_icon_count(const vast_plan *p) {
  return p ? p->n_icons : 0;
}
