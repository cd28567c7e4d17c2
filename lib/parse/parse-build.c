/*
 * parse-build.c: the start-tag handlers that build the document model.
 *
 * vast__parse_open_element decides, for each start tag the expat callbacks of
 * parse.c pass on, what it means given its parent: it creates a model object
 * in the document arena, names the field its text will fill, or skips the
 * subtree (unknown or misplaced elements become notes; Extension-like elements
 * are kept as raw XML). The attribute readers and frame helpers it uses live
 * here too.
 */
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/arena.h"
#include "parse/parse-int.h"
#include "vastrack/doc.h"

/* ---- attribute readers --------------------------------------------------- */

/* Attribute by name, case-insensitively (adId, AdID, adID...), ignoring any
 * namespace prefix. The first-letter test keeps the common miss cheap. */
static const char *attr(const parser *p, const XML_Char **atts, const char *name) {
  int c0 = name[0] | 0x20;
  for (size_t i = 0; atts[i]; i += 2) {
    const char *a = atts[i];
    if ((a[0] | 0x20) == c0 && strcasecmp(a, name) == 0) return atts[i + 1];
    if (!p->atts_prefixed) continue;
    const char *colon = strchr(a, ':');
    if (colon && strncmp(a, "xmlns", 5) != 0 && strcasecmp(colon + 1, name) == 0)
      return atts[i + 1];
  }
  return NULL;
}

static const char *dup_attr(parser *p, const XML_Char **atts, const char *name) {
  const char *v = attr(p, atts, name);
  if (!v) return NULL;
  size_t n = strlen(v);
  v = trim(v, &n);
  char *d = vast__arena_strndup(p->A, v, n);
  if (!d) vast__parse_fail_nomem(p);
  return d;
}

static long int_attr(parser *p, const XML_Char **atts, const char *name) {
  const char *v = attr(p, atts, name);
  if (!v) return -1;
  char *end;
  while (is_space(*v))
    v++;
  double d = strtod(v, &end); /* some tags write width="640.0" */
  while (is_space(*end))
    end++;
  if (end == v || *end || d < 0 || d > 2147483647.0) {
    vast__parse_note(p, VAST_NOTE_BAD_NUMBER, 0, NULL, "attribute %s is not a number", name);
    return -1;
  }
  return (long)d;
}

/* true/false/1/0 in any case; -1 when absent or unreadable. */
static int bool_attr(parser *p, const XML_Char **atts, const char *name) {
  const char *v = attr(p, atts, name);
  if (!v) return -1;
  while (is_space(*v))
    v++;
  size_t n = strlen(v);
  while (n && is_space(v[n - 1]))
    n--;
  if ((n == 4 && !strncasecmp(v, "true", 4)) || (n == 1 && *v == '1')) return 1;
  if ((n == 5 && !strncasecmp(v, "false", 5)) || (n == 1 && *v == '0')) return 0;
  vast__parse_note(p, VAST_NOTE_BAD_BOOLEAN, 0, NULL, "attribute %s is not a boolean", name);
  return -1;
}

static int bool_default(int v, int dflt) {
  return v < 0 ? dflt : v;
}

static vast_offset offset_attr(parser *p, const XML_Char **atts, const char *name) {
  const char *raw = dup_attr(p, atts, name);
  vast_offset o = vast_parse_offset(raw);
  if (o.kind == VAST_OFFSET_INVALID)
    vast__parse_note(p, VAST_NOTE_BAD_OFFSET, 0, NULL, "attribute %s is not a time or a percentage",
                     name);
  return o;
}

/* ---- frames --------------------------------------------------------------- */

static int parent_el(parser *p) {
  return p->depth ? p->st[p->depth - 1].el : E_NONE;
}

static int grandparent_el(parser *p) {
  return p->depth > 1 ? p->st[p->depth - 2].el : E_NONE;
}

static void *push_item(parser *p, frame *f, void *list, size_t *count, size_t size) {
  void *it = vast__arena_push(p->A, list, count, size);
  if (!it) {
    vast__parse_fail_nomem(p);
    return NULL;
  }
  f->list = list;
  f->count = count;
  f->elsize = size;
  f->obj = it;
  return it;
}

/* The ad an InLine/Wrapper child belongs to. */
static vast_ad *ad_of(parser *p) {
  for (unsigned i = p->depth; i-- > 0;)
    if (p->st[i].el == E_AD) return p->st[i].obj;
  return NULL;
}

static void *nearest(parser *p, int el) {
  for (unsigned i = p->depth; i-- > 0;)
    if (p->st[i].el == el) return p->st[i].obj;
  return NULL;
}

/* VAST 1.0: the linear creative of an InLine is built from <Video> and the
 * InLine-level TrackingEvents; both find or create it here. */
static vast_creative *vast1_linear(parser *p, vast_ad *ad) {
  for (size_t i = 0; i < ad->n_creatives; i++)
    if (ad->creatives[i].kind == VAST_CREATIVE_LINEAR) return (vast_creative *)&ad->creatives[i];
  vast_creative *c = vast__arena_push(p->A, &ad->creatives, &ad->n_creatives, sizeof *c);
  vast_linear *l = vast__arena_alloc(p->A, sizeof *l);
  if (!c || !l) {
    vast__parse_fail_nomem(p);
    return NULL;
  }
  c->kind = VAST_CREATIVE_LINEAR;
  c->sequence = -1;
  c->linear = l;
  l->duration = -1;
  l->ad_parameters_xml_encoded = -1;
  set_pos(p, &c->pos);
  set_pos(p, &l->pos);
  return c;
}

static vast_creative *new_creative_for(parser *p, vast_ad *ad, vast_creative_kind kind) {
  vast_creative *c = vast__arena_push(p->A, &ad->creatives, &ad->n_creatives, sizeof *c);
  if (!c) {
    vast__parse_fail_nomem(p);
    return NULL;
  }
  c->kind = kind;
  c->sequence = -1;
  set_pos(p, &c->pos);
  return c;
}

static void init_media(parser *p, vast_media_file *m, const XML_Char **atts) {
  m->id = dup_attr(p, atts, "id");
  m->delivery = dup_attr(p, atts, "delivery");
  m->type = dup_attr(p, atts, "type");
  m->width = (int)int_attr(p, atts, "width");
  m->height = (int)int_attr(p, atts, "height");
  m->codec = dup_attr(p, atts, "codec");
  m->bitrate = (int)int_attr(p, atts, "bitrate");
  m->min_bitrate = (int)int_attr(p, atts, "minBitrate");
  m->max_bitrate = (int)int_attr(p, atts, "maxBitrate");
  m->scalable = bool_attr(p, atts, "scalable");
  m->maintain_aspect_ratio = bool_attr(p, atts, "maintainAspectRatio");
  m->api_framework = dup_attr(p, atts, "apiFramework");
  m->file_size = int_attr(p, atts, "fileSize");
  m->media_type = dup_attr(p, atts, "mediaType");
}

static void init_tracking(parser *p, vast_tracking *t, const XML_Char **atts) {
  t->event_name = dup_attr(p, atts, "event");
  t->event = t->event_name ? vast_event_from_name(t->event_name) : VAST_EV_UNKNOWN;
  const char *off = attr(p, atts, "offset");
  if (off) t->offset = offset_attr(p, atts, "offset");
}

/* Begins skipping the subtree of the current element; with raw, its XML is
 * kept in *dst when it ends. */
static void skip_subtree(parser *p, int raw, const char **dst) {
  p->skip = 1;
  p->skip_raw = raw;
  p->raw_dst = dst;
  long off = XML_GetCurrentByteIndex(p->xp);
  p->raw_start = off < 0 ? 0 : (size_t)off;
}

/*
 * Decides what a start tag means given its parent. Returns 0 to push a frame,
 * 1 when the element was turned into a skipped subtree (no frame).
 */
int vast__parse_open_element(parser *p, int el, const char *name, const XML_Char **atts, frame *f) {
  int par = parent_el(p);
  frame *pf = top(p);
  vast_ad *ad;

  switch (el) {
  case E_VAST:
  case E_VIDEO_AD_SERVING_TEMPLATE: {
    if (par != E_NONE && par != E_VAST_AD_DATA && par != E_VAST_DATA) break;
    if (el == E_VIDEO_AD_SERVING_TEMPLATE && par != E_NONE) break;
    vast_vast *v = vast__arena_alloc(p->A, sizeof *v);
    if (!v) return vast__parse_fail_nomem(p), 1;
    set_pos(p, &v->pos);
    if (el == E_VIDEO_AD_SERVING_TEMPLATE) {
      v->version = "1.0";
      v->version_major = 1;
    } else {
      v->version = dup_attr(p, atts, "version");
      if (v->version) {
        char *end;
        long maj = strtol(v->version, &end, 10);
        long min = *end == '.' ? strtol(end + 1, NULL, 10) : 0;
        v->version_major = (int)(maj < 0 || maj > 99 ? 0 : maj);
        v->version_minor = (int)(min < 0 || min > 99 ? 0 : min);
        if ((maj < 1 || maj > 4) && par == E_NONE) {
          vast__parse_fail_at(p, VAST_E_VERSION, 102, "VAST version not supported");
          return 1;
        }
      } else {
        vast__parse_note(p, VAST_NOTE_NO_VERSION, 0, name, "<VAST> has no version attribute%s",
                         NULL);
      }
    }
    f->obj = v;
    if (par == E_NONE) {
      p->doc->vast = v;
      p->doc->kind = el == E_VAST ? VAST_DOC_VAST : VAST_DOC_VAST1;
    } else {
      vast_ad_break *b = nearest(p, E_AD_BREAK);
      if (b) b->vast = v;
    }
    return 0;
  }
  case E_VMAP: {
    if (par != E_NONE) break;
    vast_vmap *m = vast__arena_alloc(p->A, sizeof *m);
    if (!m) return vast__parse_fail_nomem(p), 1;
    set_pos(p, &m->pos);
    m->version = dup_attr(p, atts, "version");
    p->doc->vmap = m;
    p->doc->kind = VAST_DOC_VMAP;
    f->obj = m;
    return 0;
  }
  case E_AD: {
    if (par != E_VAST && par != E_VIDEO_AD_SERVING_TEMPLATE) break;
    vast_vast *v = pf->obj;
    vast_ad *a = push_item(p, f, &v->ads, &v->n_ads, sizeof *a);
    if (!a) return 1;
    set_pos(p, &a->pos);
    a->id = dup_attr(p, atts, "id");
    a->sequence = (int)int_attr(p, atts, "sequence");
    a->ad_type = dup_attr(p, atts, "adType");
    a->conditional_ad = bool_attr(p, atts, "conditionalAd");
    a->follow_additional_wrappers = 1;
    return 0;
  }
  case E_INLINE:
  case E_WRAPPER:
    if (par != E_AD) break;
    ad = pf->obj;
    if (ad->kind != VAST_AD_EMPTY) {
      vast__parse_note(p, VAST_NOTE_DUPLICATE, 101, name, "second <%s> in one <Ad> ignored", name);
      skip_subtree(p, 0, NULL);
      return 1;
    }
    ad->kind = el == E_INLINE ? VAST_AD_INLINE : VAST_AD_WRAPPER;
    set_pos(p, &ad->body_pos);
    if (el == E_WRAPPER) {
      ad->follow_additional_wrappers =
          bool_default(bool_attr(p, atts, "followAdditionalWrappers"), 1);
      ad->allow_multiple_ads = bool_default(bool_attr(p, atts, "allowMultipleAds"), 0);
      ad->fallback_on_no_ad = bool_default(bool_attr(p, atts, "fallbackOnNoAd"), 0);
    }
    f->obj = ad;
    return 0;
  case E_AD_SYSTEM:
  case E_AD_TITLE:
  case E_AD_SERVING_ID:
  case E_DESCRIPTION:
  case E_ADVERTISER:
  case E_EXPIRES:
  case E_SURVEY:
  case E_VAST_AD_TAG_URI:
  case E_VAST_AD_TAG_URL:
    if (par != E_INLINE && par != E_WRAPPER) break;
    ad = pf->obj;
    f->act = A_STR;
    switch (el) {
    case E_AD_SYSTEM:
      f->str = &ad->ad_system;
      ad->ad_system_version = dup_attr(p, atts, "version");
      break;
    case E_AD_TITLE:
      f->str = &ad->ad_title;
      break;
    case E_AD_SERVING_ID:
      f->str = &ad->ad_serving_id;
      break;
    case E_DESCRIPTION:
      f->str = &ad->description;
      break;
    case E_ADVERTISER:
      f->str = &ad->advertiser;
      break;
    case E_EXPIRES:
      f->str = &ad->expires;
      break;
    case E_SURVEY:
      f->str = &ad->survey;
      break;
    default:
      f->str = &ad->vast_ad_tag_uri;
      break;
    }
    return 0;
  case E_PRICING:
    if (par != E_INLINE && par != E_WRAPPER) break;
    ad = pf->obj;
    {
      vast_pricing *pr = vast__arena_alloc(p->A, sizeof *pr);
      if (!pr) return vast__parse_fail_nomem(p), 1;
      pr->model = dup_attr(p, atts, "model");
      pr->currency = dup_attr(p, atts, "currency");
      ad->pricing = pr;
      f->act = A_STR;
      f->str = &pr->value;
    }
    return 0;
  case E_CATEGORY:
  case E_BLOCKED_AD_CATEGORIES:
    if (par != E_INLINE && par != E_WRAPPER) break;
    ad = pf->obj;
    {
      vast_category *c = el == E_CATEGORY
                             ? push_item(p, f, &ad->categories, &ad->n_categories, sizeof *c)
                             : push_item(p, f, &ad->blocked_ad_categories,
                                         &ad->n_blocked_ad_categories, sizeof *c);
      if (!c) return 1;
      c->authority = dup_attr(p, atts, "authority");
      f->act = A_STR;
      f->str = &c->code;
    }
    return 0;
  case E_IMPRESSION:
  case E_ERROR: {
    vast_url *u = NULL;
    if (el == E_ERROR && (par == E_VAST || par == E_VIDEO_AD_SERVING_TEMPLATE)) {
      vast_vast *v = pf->obj;
      u = push_item(p, f, &v->errors, &v->n_errors, sizeof *u);
    } else if (par == E_INLINE || par == E_WRAPPER) {
      ad = pf->obj;
      u = el == E_IMPRESSION ? push_item(p, f, &ad->impressions, &ad->n_impressions, sizeof *u)
                             : push_item(p, f, &ad->errors, &ad->n_errors, sizeof *u);
    } else {
      break;
    }
    if (!u) return 1;
    u->id = dup_attr(p, atts, "id");
    set_pos(p, &u->pos);
    f->act = A_URLITEM;
    return 0;
  }
  case E_VIEWABLE_IMPRESSION:
    if (par != E_INLINE && par != E_WRAPPER) break;
    f->obj = pf->obj;
    return 0;
  case E_VIEWABLE:
  case E_NOT_VIEWABLE:
  case E_VIEW_UNDETERMINED: {
    if (par != E_VIEWABLE_IMPRESSION) break;
    ad = pf->obj;
    vast_url *u =
        el == E_VIEWABLE ? push_item(p, f, &ad->viewable, &ad->n_viewable, sizeof *u)
        : el == E_NOT_VIEWABLE
            ? push_item(p, f, &ad->not_viewable, &ad->n_not_viewable, sizeof *u)
            : push_item(p, f, &ad->view_undetermined, &ad->n_view_undetermined, sizeof *u);
    if (!u) return 1;
    set_pos(p, &u->pos);
    f->act = A_URLITEM;
    return 0;
  }
  case E_AD_VERIFICATIONS:
    /* VAST 4.1+ puts it on the InLine or Wrapper; VAST 3 tags carry the same
     * element in <Extension type="AdVerifications"> (an Ad-level Extension
     * only keeps a frame when it is that one, see E_EXTENSION). */
    if (par != E_INLINE && par != E_WRAPPER && !(par == E_EXTENSION && pf->raw_dst)) break;
    f->obj = pf->obj;
    return 0;
  case E_VERIFICATION: {
    if (par != E_AD_VERIFICATIONS) break;
    ad = pf->obj;
    vast_verification *v = push_item(p, f, &ad->verifications, &ad->n_verifications, sizeof *v);
    if (!v) return 1;
    v->vendor = dup_attr(p, atts, "vendor");
    set_pos(p, &v->pos);
    return 0;
  }
  case E_JAVASCRIPT_RESOURCE: {
    if (par != E_VERIFICATION) break;
    vast_verification *v = pf->obj;
    vast_js_resource *r = push_item(p, f, &v->js_resources, &v->n_js_resources, sizeof *r);
    if (!r) return 1;
    r->api_framework = dup_attr(p, atts, "apiFramework");
    r->browser_optional = bool_attr(p, atts, "browserOptional");
    f->act = A_STR;
    f->str = &r->url;
    return 0;
  }
  case E_EXECUTABLE_RESOURCE: {
    if (par != E_VERIFICATION) break;
    vast_verification *v = pf->obj;
    vast_exec_resource *r = push_item(p, f, &v->exec_resources, &v->n_exec_resources, sizeof *r);
    if (!r) return 1;
    r->api_framework = dup_attr(p, atts, "apiFramework");
    r->type = dup_attr(p, atts, "type");
    f->act = A_STR;
    f->str = &r->url;
    return 0;
  }
  case E_VERIFICATION_PARAMETERS:
    if (par != E_VERIFICATION) break;
    f->act = A_RAWSTR;
    f->str = &((vast_verification *)pf->obj)->parameters;
    return 0;
  case E_TRACKING_EVENTS:
/* The parent's own tracking list receives the Tracking children. */
#define TRACKING_OF(type)                                                                          \
  do {                                                                                             \
    type *o_ = pf->obj;                                                                            \
    f->list = &o_->tracking;                                                                       \
    f->count = &o_->n_tracking;                                                                    \
    return 0;                                                                                      \
  } while (0)
    if (par == E_LINEAR) set_pos(p, &((vast_linear *)pf->obj)->tracking_events_pos);
    switch (par) {
    case E_LINEAR:
      TRACKING_OF(vast_linear);
    case E_NON_LINEAR_ADS:
      TRACKING_OF(vast_nonlinear_ads);
    case E_COMPANION:
      TRACKING_OF(vast_companion);
    case E_VERIFICATION:
      TRACKING_OF(vast_verification);
    case E_AD_BREAK:
      TRACKING_OF(vast_ad_break);
#undef TRACKING_OF
    case E_INLINE:
    case E_WRAPPER: { /* VAST 1.0 puts TrackingEvents on the InLine */
      vast_creative *c = vast1_linear(p, pf->obj);
      if (!c) return 1;
      vast_linear *l = (vast_linear *)c->linear;
      f->list = &l->tracking;
      f->count = &l->n_tracking;
      return 0;
    }
    }
    break;
  case E_TRACKING: {
    if (par != E_TRACKING_EVENTS) break;
    void *list = pf->list;
    size_t *count = pf->count;
    vast_tracking *t = push_item(p, f, list, count, sizeof *t);
    if (!t) return 1;
    init_tracking(p, t, atts);
    set_pos(p, &t->pos);
    f->act = A_TRACKING;
    return 0;
  }
  case E_EXTENSIONS:
    if (par == E_INLINE || par == E_WRAPPER || par == E_VMAP || par == E_AD_BREAK) {
      f->obj = pf->obj;
      return 0;
    }
    break;
  case E_CREATIVE_EXTENSIONS:
    if (par != E_CREATIVE) break;
    f->obj = pf->obj;
    return 0;
  case E_EXTENSION:
  case E_CREATIVE_EXTENSION: {
    vast_extension *x;
    if (el == E_CREATIVE_EXTENSION && par == E_CREATIVE_EXTENSIONS) {
      vast_creative *c = pf->obj;
      x = vast__arena_push(p->A, &c->extensions, &c->n_extensions, sizeof *x);
    } else if (el == E_EXTENSION && par == E_EXTENSIONS) {
      int gp = grandparent_el(p);
      if (gp == E_VMAP) {
        vast_vmap *m = pf->obj;
        x = vast__arena_push(p->A, &m->extensions, &m->n_extensions, sizeof *x);
      } else if (gp == E_AD_BREAK) {
        vast_ad_break *b = pf->obj;
        x = vast__arena_push(p->A, &b->extensions, &b->n_extensions, sizeof *x);
      } else {
        vast_ad *a = pf->obj;
        x = vast__arena_push(p->A, &a->extensions, &a->n_extensions, sizeof *x);
      }
    } else {
      break;
    }
    if (!x) return vast__parse_fail_nomem(p), 1;
    x->type = dup_attr(p, atts, "type");
    set_pos(p, &x->pos);
    if (el == E_EXTENSION && x->type && !strcasecmp(x->type, "AdVerifications") &&
        (grandparent_el(p) == E_INLINE || grandparent_el(p) == E_WRAPPER)) {
      /* VAST 3 OMID: walked like the VAST 4 AdVerifications, raw XML still kept. */
      long off = XML_GetCurrentByteIndex(p->xp);
      f->obj = pf->obj;
      f->raw_dst = &x->xml;
      f->raw_from = off < 0 ? 0 : (size_t)off;
      return 0;
    }
    skip_subtree(p, 1, &x->xml);
    return 1;
  }
  case E_URL:
    /* VAST 1.0/2.0 legacy: <Impression><URL>..</URL>, <VASTAdTagURL><URL>.. */
    if (!pf || pf->act == A_NONE) break;
    f->act = A_NONE;
    return 0;
  case E_CREATIVES:
    if (par != E_INLINE && par != E_WRAPPER) break;
    f->obj = pf->obj;
    return 0;
  case E_CREATIVE: {
    if (par != E_CREATIVES) break;
    ad = pf->obj;
    vast_creative *c = push_item(p, f, &ad->creatives, &ad->n_creatives, sizeof *c);
    if (!c) return 1;
    set_pos(p, &c->pos);
    c->id = dup_attr(p, atts, "id");
    c->ad_id = dup_attr(p, atts, "adId"); /* attr() matches AdID, adID... */
    c->sequence = (int)int_attr(p, atts, "sequence");
    c->api_framework = dup_attr(p, atts, "apiFramework");
    return 0;
  }
  case E_UNIVERSAL_AD_ID: {
    if (par != E_CREATIVE) break;
    vast_creative *c = pf->obj;
    vast_universal_ad_id *u =
        push_item(p, f, &c->universal_ad_ids, &c->n_universal_ad_ids, sizeof *u);
    if (!u) return 1;
    u->id_registry = dup_attr(p, atts, "idRegistry");
    u->id_value = dup_attr(p, atts, "idValue");
    f->act = A_UAID;
    return 0;
  }
  case E_LINEAR:
  case E_VIDEO: {
    vast_creative *c;
    if (el == E_LINEAR && par == E_CREATIVE) {
      c = pf->obj;
      if (c->kind != VAST_CREATIVE_UNKNOWN) {
        vast__parse_note(p, VAST_NOTE_DUPLICATE, 101, name, "second creative body <%s> ignored",
                         name);
        skip_subtree(p, 0, NULL);
        return 1;
      }
      vast_linear *l = vast__arena_alloc(p->A, sizeof *l);
      if (!l) return vast__parse_fail_nomem(p), 1;
      l->duration = -1;
      l->ad_parameters_xml_encoded = -1;
      set_pos(p, &l->pos);
      c->kind = VAST_CREATIVE_LINEAR;
      c->linear = l;
    } else if (el == E_VIDEO && (par == E_INLINE || par == E_WRAPPER)) {
      c = vast1_linear(p, pf->obj);
      if (!c) return 1;
    } else {
      break;
    }
    vast_linear *l = (vast_linear *)c->linear;
    if (attr(p, atts, "skipoffset")) l->skipoffset = offset_attr(p, atts, "skipoffset");
    f->obj = l;
    return 0;
  }
  case E_AD_ID: /* VAST 1.0 <Video><AdID> */
    if (par != E_VIDEO) break;
    {
      vast_creative *c = vast1_linear(p, ad_of(p));
      if (!c) return 1;
      f->act = A_STR;
      f->str = &c->ad_id;
    }
    return 0;
  case E_DURATION:
    if (par != E_LINEAR && par != E_VIDEO) break;
    f->act = A_DURATION;
    f->obj = pf->obj;
    return 0;
  case E_MEDIA_FILES:
    if (par != E_LINEAR && par != E_VIDEO) break;
    ((vast_linear *)pf->obj)->has_media_files_element = 1;
    set_pos(p, &((vast_linear *)pf->obj)->media_files_pos);
    f->obj = pf->obj;
    return 0;
  case E_MEDIA_FILE: {
    if (par != E_MEDIA_FILES) break;
    vast_linear *l = pf->obj;
    vast_media_file *m = push_item(p, f, &l->media_files, &l->n_media_files, sizeof *m);
    if (!m) return 1;
    init_media(p, m, atts);
    set_pos(p, &m->pos);
    f->act = A_MEDIA;
    return 0;
  }
  case E_MEZZANINE: {
    if (par != E_MEDIA_FILES) break;
    vast_linear *l = pf->obj;
    vast_mezzanine *m = push_item(p, f, &l->mezzanines, &l->n_mezzanines, sizeof *m);
    if (!m) return 1;
    m->id = dup_attr(p, atts, "id");
    m->delivery = dup_attr(p, atts, "delivery");
    m->type = dup_attr(p, atts, "type");
    m->codec = dup_attr(p, atts, "codec");
    m->media_type = dup_attr(p, atts, "mediaType");
    m->width = (int)int_attr(p, atts, "width");
    m->height = (int)int_attr(p, atts, "height");
    m->file_size = int_attr(p, atts, "fileSize");
    set_pos(p, &m->pos);
    f->act = A_STR;
    f->str = &m->url;
    return 0;
  }
  case E_INTERACTIVE_CREATIVE_FILE: {
    if (par != E_MEDIA_FILES) break;
    vast_linear *l = pf->obj;
    vast_interactive_file *m =
        push_item(p, f, &l->interactive_files, &l->n_interactive_files, sizeof *m);
    if (!m) return 1;
    m->type = dup_attr(p, atts, "type");
    m->api_framework = dup_attr(p, atts, "apiFramework");
    m->variable_duration = bool_attr(p, atts, "variableDuration");
    set_pos(p, &m->pos);
    f->act = A_STR;
    f->str = &m->url;
    return 0;
  }
  case E_CLOSED_CAPTION_FILES:
    if (par != E_MEDIA_FILES) break;
    f->obj = pf->obj;
    return 0;
  case E_CLOSED_CAPTION_FILE: {
    if (par != E_CLOSED_CAPTION_FILES) break;
    vast_linear *l = pf->obj;
    vast_closed_caption *m = push_item(p, f, &l->closed_captions, &l->n_closed_captions, sizeof *m);
    if (!m) return 1;
    m->type = dup_attr(p, atts, "type");
    m->language = dup_attr(p, atts, "language");
    set_pos(p, &m->pos);
    f->act = A_STR;
    f->str = &m->url;
    return 0;
  }
  case E_VIDEO_CLICKS:
    if (par != E_LINEAR && par != E_VIDEO) break;
    f->obj = pf->obj;
    return 0;
  case E_CLICK_THROUGH:
  case E_CLICK_TRACKING:
  case E_CUSTOM_CLICK: {
    if (par != E_VIDEO_CLICKS) break;
    vast_linear *l = pf->obj;
    if (el == E_CLICK_THROUGH) {
      l->click_through_id = dup_attr(p, atts, "id");
      f->act = A_STR;
      f->str = &l->click_through;
      return 0;
    }
    vast_url *u = el == E_CLICK_TRACKING
                      ? push_item(p, f, &l->click_tracking, &l->n_click_tracking, sizeof *u)
                      : push_item(p, f, &l->custom_clicks, &l->n_custom_clicks, sizeof *u);
    if (!u) return 1;
    u->id = dup_attr(p, atts, "id");
    set_pos(p, &u->pos);
    f->act = A_URLITEM;
    return 0;
  }
  case E_AD_PARAMETERS:
    f->act = A_RAWSTR;
    if (par == E_LINEAR) {
      vast_linear *l = pf->obj;
      l->ad_parameters_xml_encoded = bool_attr(p, atts, "xmlEncoded");
      f->str = &l->ad_parameters;
    } else if (par == E_NON_LINEAR) {
      f->str = &((vast_nonlinear *)pf->obj)->ad_parameters;
    } else if (par == E_COMPANION) {
      f->str = &((vast_companion *)pf->obj)->ad_parameters;
    } else {
      break;
    }
    return 0;
  case E_ICONS:
    if (par != E_LINEAR) break;
    f->obj = pf->obj;
    return 0;
  case E_ICON: {
    if (par != E_ICONS) break;
    vast_linear *l = pf->obj;
    vast_icon *ic = push_item(p, f, &l->icons, &l->n_icons, sizeof *ic);
    if (!ic) return 1;
    ic->program = dup_attr(p, atts, "program");
    ic->width = (int)int_attr(p, atts, "width");
    ic->height = (int)int_attr(p, atts, "height");
    ic->x_position = dup_attr(p, atts, "xPosition");
    ic->y_position = dup_attr(p, atts, "yPosition");
    const char *d = attr(p, atts, "duration");
    ic->duration = d ? vast_parse_time(d) : -1;
    if (attr(p, atts, "offset")) ic->offset = offset_attr(p, atts, "offset");
    ic->api_framework = dup_attr(p, atts, "apiFramework");
    ic->pxratio = dup_attr(p, atts, "pxratio");
    set_pos(p, &ic->pos);
    return 0;
  }
  case E_ICON_CLICKS:
  case E_ICON_CLICK_FALLBACK_IMAGES:
    if (par != E_ICON && !(el == E_ICON_CLICK_FALLBACK_IMAGES && par == E_ICON_CLICKS)) break;
    f->obj = pf->obj;
    return 0;
  case E_ICON_CLICK_THROUGH:
    if (par != E_ICON_CLICKS) break;
    f->act = A_STR;
    f->str = &((vast_icon *)pf->obj)->click_through;
    return 0;
  case E_ICON_CLICK_TRACKING:
  case E_ICON_VIEW_TRACKING: {
    vast_icon *ic = pf ? pf->obj : NULL;
    vast_url *u;
    if (el == E_ICON_CLICK_TRACKING && par == E_ICON_CLICKS)
      u = push_item(p, f, &ic->click_tracking, &ic->n_click_tracking, sizeof *u);
    else if (el == E_ICON_VIEW_TRACKING && par == E_ICON)
      u = push_item(p, f, &ic->view_tracking, &ic->n_view_tracking, sizeof *u);
    else
      break;
    if (!u) return 1;
    u->id = dup_attr(p, atts, "id");
    set_pos(p, &u->pos);
    f->act = A_URLITEM;
    return 0;
  }
  case E_ICON_CLICK_FALLBACK_IMAGE: {
    if (par != E_ICON_CLICK_FALLBACK_IMAGES) break;
    vast_icon *ic = pf->obj;
    vast_icon_fallback *fb =
        push_item(p, f, &ic->fallback_images, &ic->n_fallback_images, sizeof *fb);
    if (!fb) return 1;
    fb->width = (int)int_attr(p, atts, "width");
    fb->height = (int)int_attr(p, atts, "height");
    return 0;
  }
  case E_STATIC_RESOURCE:
  case E_IFRAME_RESOURCE:
  case E_HTML_RESOURCE: {
    vast_resource *r;
    if (par == E_ICON_CLICK_FALLBACK_IMAGE) {
      if (el != E_STATIC_RESOURCE) break;
      vast_icon_fallback *fb = pf->obj;
      fb->creative_type = dup_attr(p, atts, "creativeType");
      f->act = A_STR;
      f->str = &fb->url;
      return 0;
    } else if (par == E_NON_LINEAR) {
      vast_nonlinear *n = pf->obj;
      r = push_item(p, f, &n->resources, &n->n_resources, sizeof *r);
    } else if (par == E_COMPANION) {
      vast_companion *c = pf->obj;
      r = push_item(p, f, &c->resources, &c->n_resources, sizeof *r);
    } else if (par == E_ICON) {
      vast_icon *ic = pf->obj;
      r = push_item(p, f, &ic->resources, &ic->n_resources, sizeof *r);
    } else {
      break;
    }
    if (!r) return 1;
    r->kind = el == E_STATIC_RESOURCE   ? VAST_RES_STATIC
              : el == E_IFRAME_RESOURCE ? VAST_RES_IFRAME
                                        : VAST_RES_HTML;
    r->creative_type = dup_attr(p, atts, "creativeType");
    set_pos(p, &r->pos);
    f->act = el == E_HTML_RESOURCE ? A_RAWSTR : A_STR;
    f->str = &r->content;
    return 0;
  }
  case E_ALT_TEXT:
    if (par == E_COMPANION)
      f->str = &((vast_companion *)pf->obj)->alt_text;
    else if (par == E_ICON_CLICK_FALLBACK_IMAGE)
      f->str = &((vast_icon_fallback *)pf->obj)->alt_text;
    else
      break;
    f->act = A_STR;
    return 0;
  case E_NON_LINEAR_ADS:
  case E_COMPANION_ADS: {
    vast_creative *c;
    if (par == E_CREATIVE) {
      c = pf->obj;
      if (c->kind != VAST_CREATIVE_UNKNOWN) {
        vast__parse_note(p, VAST_NOTE_DUPLICATE, 101, name, "second creative body <%s> ignored",
                         name);
        skip_subtree(p, 0, NULL);
        return 1;
      }
    } else if (par == E_INLINE || par == E_WRAPPER) { /* VAST 1.0 */
      c = new_creative_for(p, pf->obj, VAST_CREATIVE_UNKNOWN);
      if (!c) return 1;
    } else {
      break;
    }
    if (el == E_NON_LINEAR_ADS) {
      vast_nonlinear_ads *n = vast__arena_alloc(p->A, sizeof *n);
      if (!n) return vast__parse_fail_nomem(p), 1;
      set_pos(p, &n->pos);
      c->kind = VAST_CREATIVE_NONLINEAR;
      c->nonlinear = n;
      f->obj = n;
    } else {
      vast_companion_ads *ca = vast__arena_alloc(p->A, sizeof *ca);
      if (!ca) return vast__parse_fail_nomem(p), 1;
      set_pos(p, &ca->pos);
      ca->required = dup_attr(p, atts, "required");
      c->kind = VAST_CREATIVE_COMPANION;
      c->companions = ca;
      f->obj = ca;
    }
    return 0;
  }
  case E_NON_LINEAR: {
    if (par != E_NON_LINEAR_ADS) break;
    vast_nonlinear_ads *na = pf->obj;
    vast_nonlinear *n = push_item(p, f, &na->nonlinears, &na->n_nonlinears, sizeof *n);
    if (!n) return 1;
    n->id = dup_attr(p, atts, "id");
    n->width = (int)int_attr(p, atts, "width");
    n->height = (int)int_attr(p, atts, "height");
    n->expanded_width = (int)int_attr(p, atts, "expandedWidth");
    n->expanded_height = (int)int_attr(p, atts, "expandedHeight");
    n->scalable = bool_attr(p, atts, "scalable");
    n->maintain_aspect_ratio = bool_attr(p, atts, "maintainAspectRatio");
    if (attr(p, atts, "minSuggestedDuration"))
      n->min_suggested_duration = offset_attr(p, atts, "minSuggestedDuration");
    n->api_framework = dup_attr(p, atts, "apiFramework");
    set_pos(p, &n->pos);
    return 0;
  }
  case E_NON_LINEAR_CLICK_THROUGH:
  case E_NON_LINEAR_CLICK_TRACKING:
  case E_COMPANION_CLICK_THROUGH:
  case E_COMPANION_CLICK_TRACKING: {
    int through = el == E_NON_LINEAR_CLICK_THROUGH || el == E_COMPANION_CLICK_THROUGH;
    const char **thr;
    void *list;
    size_t *cnt;
    if ((el == E_NON_LINEAR_CLICK_THROUGH || el == E_NON_LINEAR_CLICK_TRACKING) &&
        par == E_NON_LINEAR) {
      vast_nonlinear *n = pf->obj;
      thr = &n->click_through;
      list = &n->click_tracking;
      cnt = &n->n_click_tracking;
    } else if ((el == E_COMPANION_CLICK_THROUGH || el == E_COMPANION_CLICK_TRACKING) &&
               par == E_COMPANION) {
      vast_companion *c = pf->obj;
      thr = &c->click_through;
      list = &c->click_tracking;
      cnt = &c->n_click_tracking;
    } else {
      break;
    }
    if (through) {
      f->act = A_STR;
      f->str = thr;
      return 0;
    }
    vast_url *u = push_item(p, f, list, cnt, sizeof *u);
    if (!u) return 1;
    u->id = dup_attr(p, atts, "id");
    set_pos(p, &u->pos);
    f->act = A_URLITEM;
    return 0;
  }
  case E_COMPANION: {
    if (par != E_COMPANION_ADS) break;
    vast_companion_ads *ca = pf->obj;
    vast_companion *c = push_item(p, f, &ca->companions, &ca->n_companions, sizeof *c);
    if (!c) return 1;
    c->id = dup_attr(p, atts, "id");
    c->width = (int)int_attr(p, atts, "width");
    c->height = (int)int_attr(p, atts, "height");
    c->asset_width = (int)int_attr(p, atts, "assetWidth");
    c->asset_height = (int)int_attr(p, atts, "assetHeight");
    c->expanded_width = (int)int_attr(p, atts, "expandedWidth");
    c->expanded_height = (int)int_attr(p, atts, "expandedHeight");
    c->api_framework = dup_attr(p, atts, "apiFramework");
    c->ad_slot_id = dup_attr(p, atts, "adSlotId");
    c->pxratio = dup_attr(p, atts, "pxratio");
    c->render_mode = dup_attr(p, atts, "renderingMode");
    set_pos(p, &c->pos);
    return 0;
  }
  /* VMAP */
  case E_AD_BREAK: {
    if (par != E_VMAP) break;
    vast_vmap *m = pf->obj;
    vast_ad_break *b = push_item(p, f, &m->breaks, &m->n_breaks, sizeof *b);
    if (!b) return 1;
    set_pos(p, &b->pos);
    b->time_offset = dup_attr(p, atts, "timeOffset");
    b->break_type = dup_attr(p, atts, "breakType");
    b->break_id = dup_attr(p, atts, "breakId");
    if (attr(p, atts, "repeatAfter")) b->repeat_after = offset_attr(p, atts, "repeatAfter");
    b->allow_multiple_ads = b->follow_redirects = -1;
    const char *t = b->time_offset;
    if (!t) {
      b->offset_kind = VAST_BREAK_INVALID;
    } else if (!strcasecmp(t, "start")) {
      b->offset_kind = VAST_BREAK_START;
    } else if (!strcasecmp(t, "end")) {
      b->offset_kind = VAST_BREAK_END;
    } else if (t[0] == '#') {
      char *end;
      long n = strtol(t + 1, &end, 10);
      b->offset_kind = *end || n < 1 ? VAST_BREAK_INVALID : VAST_BREAK_POSITION;
      b->offset_value = (double)n;
    } else {
      vast_offset o = vast_parse_offset(t);
      b->offset_kind = o.kind == VAST_OFFSET_TIME      ? VAST_BREAK_TIME
                       : o.kind == VAST_OFFSET_PERCENT ? VAST_BREAK_PERCENT
                                                       : VAST_BREAK_INVALID;
      b->offset_value = o.value;
    }
    if (b->offset_kind == VAST_BREAK_INVALID)
      vast__parse_note(p, VAST_NOTE_BAD_OFFSET, 0, NULL,
                       "AdBreak timeOffset is missing or invalid%s", NULL);
    return 0;
  }
  case E_AD_SOURCE: {
    if (par != E_AD_BREAK) break;
    vast_ad_break *b = pf->obj;
    b->source_id = dup_attr(p, atts, "id");
    b->allow_multiple_ads = bool_attr(p, atts, "allowMultipleAds");
    b->follow_redirects = bool_attr(p, atts, "followRedirects");
    f->obj = b;
    return 0;
  }
  case E_VAST_AD_DATA:
  case E_VAST_DATA:
    if (par != E_AD_SOURCE) break;
    ((vast_ad_break *)pf->obj)->source_kind = VAST_SOURCE_VAST;
    f->obj = pf->obj;
    return 0;
  case E_AD_TAG_URI: {
    if (par != E_AD_SOURCE) break;
    vast_ad_break *b = pf->obj;
    b->source_kind = VAST_SOURCE_URI;
    b->template_type = dup_attr(p, atts, "templateType");
    f->act = A_STR;
    f->str = &b->ad_tag_uri;
    return 0;
  }
  case E_CUSTOM_AD_DATA: {
    if (par != E_AD_SOURCE) break;
    vast_ad_break *b = pf->obj;
    b->source_kind = VAST_SOURCE_CUSTOM;
    b->template_type = dup_attr(p, atts, "templateType");
    skip_subtree(p, 1, &b->custom_data);
    return 1;
  }
  }
  /* Anything else in a VAST 3 AdVerifications Extension is the extension's own. */
  if (par == E_EXTENSION) {
    skip_subtree(p, 0, NULL);
    return 1;
  }
  /* Unknown here: keep a note and skip the subtree. */
  if (el == E_NONE)
    vast__parse_note(p, VAST_NOTE_UNKNOWN_ELEMENT, 0, name, "unknown element <%s> ignored", name);
  else
    vast__parse_note(p, VAST_NOTE_MISPLACED, 0, name, "element <%s> is not expected here; ignored",
                     name);
  skip_subtree(p, 0, NULL);
  return 1;
}
