/*
 * docjson.c: writes a parsed document as JSON (the stable schema of
 * docs/json.md) or as a readable indented tree, for `vastrack inspect`.
 */
#include <stdio.h>
#include <string.h>

#include "base/jsonw.h"
#include "vastrack/doc.h"
#include "vastrack/chain.h"

static const char *ad_type_name(vast_ad_kind k) {
  return k == VAST_AD_INLINE ? "inline" : k == VAST_AD_WRAPPER ? "wrapper" : "empty";
}

static const char *creative_type_name(vast_creative_kind k) {
  return k == VAST_CREATIVE_LINEAR      ? "linear"
         : k == VAST_CREATIVE_NONLINEAR ? "nonlinear"
         : k == VAST_CREATIVE_COMPANION ? "companion"
                                        : "unknown";
}

static const char *resource_name(vast_resource_kind k) {
  return k == VAST_RES_STATIC ? "static" : k == VAST_RES_IFRAME ? "iframe" : "html";
}

static void j_urls(vast__jw *w, const char *key, const vast_url *u, size_t n) {
  vast__jw_key(w, key);
  vast__jw_arr_begin(w);
  for (size_t i = 0; i < n; i++)
    vast__jw_str(w, u[i].url);
  vast__jw_arr_end(w);
}

static void j_offset(vast__jw *w, const char *key, vast_offset o) {
  vast__jw_key(w, key);
  if (o.kind == VAST_OFFSET_NONE) {
    vast__jw_null(w);
  } else if (o.kind == VAST_OFFSET_TIME) {
    vast__jw_num(w, o.value);
  } else {
    vast__jw_str(w, o.raw); /* "25%" or the invalid text */
  }
}

static void j_tracking(vast__jw *w, const vast_tracking *t, size_t n) {
  vast__jw_key(w, "tracking");
  vast__jw_arr_begin(w);
  for (size_t i = 0; i < n; i++) {
    vast__jw_obj_begin(w);
    vast__jw_kstr(w, "event", t[i].event_name);
    j_offset(w, "offset", t[i].offset);
    vast__jw_kstr(w, "url", t[i].url);
    vast__jw_obj_end(w);
  }
  vast__jw_arr_end(w);
}

static void j_resources(vast__jw *w, const vast_resource *r, size_t n) {
  vast__jw_key(w, "resources");
  vast__jw_arr_begin(w);
  for (size_t i = 0; i < n; i++) {
    vast__jw_obj_begin(w);
    vast__jw_kstr(w, "kind", resource_name(r[i].kind));
    vast__jw_kstr(w, "creativeType", r[i].creative_type);
    vast__jw_kstr(w, "content", r[i].content);
    vast__jw_obj_end(w);
  }
  vast__jw_arr_end(w);
}

static void j_linear(vast__jw *w, const vast_linear *l) {
  vast__jw_key(w, "linear");
  vast__jw_obj_begin(w);
  vast__jw_knum_opt(w, "duration", l->duration);
  j_offset(w, "skipoffset", l->skipoffset);
  j_tracking(w, l->tracking, l->n_tracking);
  vast__jw_key(w, "mediaFiles");
  vast__jw_arr_begin(w);
  for (size_t i = 0; i < l->n_media_files; i++) {
    const vast_media_file *m = &l->media_files[i];
    vast__jw_obj_begin(w);
    vast__jw_kstr(w, "url", m->url);
    vast__jw_kstr(w, "type", m->type);
    vast__jw_kint_opt(w, "width", m->width);
    vast__jw_kint_opt(w, "height", m->height);
    vast__jw_kint_opt(w, "bitrate", m->bitrate);
    vast__jw_kstr(w, "codec", m->codec);
    vast__jw_kstr(w, "delivery", m->delivery);
    vast__jw_kstr(w, "apiFramework", m->api_framework);
    vast__jw_obj_end(w);
  }
  vast__jw_arr_end(w);
  vast__jw_key(w, "mezzanines");
  vast__jw_arr_begin(w);
  for (size_t i = 0; i < l->n_mezzanines; i++)
    vast__jw_str(w, l->mezzanines[i].url);
  vast__jw_arr_end(w);
  vast__jw_key(w, "interactiveCreativeFiles");
  vast__jw_arr_begin(w);
  for (size_t i = 0; i < l->n_interactive_files; i++)
    vast__jw_str(w, l->interactive_files[i].url);
  vast__jw_arr_end(w);
  vast__jw_key(w, "closedCaptionFiles");
  vast__jw_arr_begin(w);
  for (size_t i = 0; i < l->n_closed_captions; i++)
    vast__jw_str(w, l->closed_captions[i].url);
  vast__jw_arr_end(w);
  vast__jw_kstr(w, "clickThrough", l->click_through);
  j_urls(w, "clickTracking", l->click_tracking, l->n_click_tracking);
  j_urls(w, "customClicks", l->custom_clicks, l->n_custom_clicks);
  vast__jw_kstr(w, "adParameters", l->ad_parameters);
  vast__jw_key(w, "icons");
  vast__jw_arr_begin(w);
  for (size_t i = 0; i < l->n_icons; i++) {
    const vast_icon *ic = &l->icons[i];
    vast__jw_obj_begin(w);
    vast__jw_kstr(w, "program", ic->program);
    vast__jw_kint_opt(w, "width", ic->width);
    vast__jw_kint_opt(w, "height", ic->height);
    j_resources(w, ic->resources, ic->n_resources);
    vast__jw_kstr(w, "clickThrough", ic->click_through);
    j_urls(w, "clickTracking", ic->click_tracking, ic->n_click_tracking);
    j_urls(w, "viewTracking", ic->view_tracking, ic->n_view_tracking);
    vast__jw_obj_end(w);
  }
  vast__jw_arr_end(w);
  vast__jw_obj_end(w);
}

static void j_creative(vast__jw *w, const vast_creative *c) {
  vast__jw_obj_begin(w);
  vast__jw_kstr(w, "type", creative_type_name(c->kind));
  vast__jw_kstr(w, "id", c->id);
  vast__jw_kstr(w, "adId", c->ad_id);
  vast__jw_kint_opt(w, "sequence", c->sequence);
  vast__jw_kstr(w, "apiFramework", c->api_framework);
  vast__jw_key(w, "universalAdIds");
  vast__jw_arr_begin(w);
  for (size_t i = 0; i < c->n_universal_ad_ids; i++) {
    vast__jw_obj_begin(w);
    vast__jw_kstr(w, "idRegistry", c->universal_ad_ids[i].id_registry);
    vast__jw_kstr(w, "value", c->universal_ad_ids[i].id_value);
    vast__jw_obj_end(w);
  }
  vast__jw_arr_end(w);
  /* linear, nonlinear, companions: always present, null for the other kinds */
  if (c->linear)
    j_linear(w, c->linear);
  else
    vast__jw_key(w, "linear"), vast__jw_null(w);
  if (!c->nonlinear) vast__jw_key(w, "nonlinear"), vast__jw_null(w);
  if (c->nonlinear) {
    vast__jw_key(w, "nonlinear");
    vast__jw_obj_begin(w);
    j_tracking(w, c->nonlinear->tracking, c->nonlinear->n_tracking);
    vast__jw_key(w, "variations");
    vast__jw_arr_begin(w);
    for (size_t i = 0; i < c->nonlinear->n_nonlinears; i++) {
      const vast_nonlinear *n = &c->nonlinear->nonlinears[i];
      vast__jw_obj_begin(w);
      vast__jw_kstr(w, "id", n->id);
      vast__jw_kint_opt(w, "width", n->width);
      vast__jw_kint_opt(w, "height", n->height);
      j_resources(w, n->resources, n->n_resources);
      vast__jw_kstr(w, "clickThrough", n->click_through);
      j_urls(w, "clickTracking", n->click_tracking, n->n_click_tracking);
      vast__jw_obj_end(w);
    }
    vast__jw_arr_end(w);
    vast__jw_obj_end(w);
  }
  if (!c->companions) vast__jw_key(w, "companions"), vast__jw_null(w);
  if (c->companions) {
    vast__jw_key(w, "companions");
    vast__jw_obj_begin(w);
    vast__jw_kstr(w, "required", c->companions->required);
    vast__jw_key(w, "variations");
    vast__jw_arr_begin(w);
    for (size_t i = 0; i < c->companions->n_companions; i++) {
      const vast_companion *m = &c->companions->companions[i];
      vast__jw_obj_begin(w);
      vast__jw_kstr(w, "id", m->id);
      vast__jw_kint_opt(w, "width", m->width);
      vast__jw_kint_opt(w, "height", m->height);
      j_resources(w, m->resources, m->n_resources);
      vast__jw_kstr(w, "altText", m->alt_text);
      vast__jw_kstr(w, "clickThrough", m->click_through);
      j_urls(w, "clickTracking", m->click_tracking, m->n_click_tracking);
      j_tracking(w, m->tracking, m->n_tracking);
      vast__jw_obj_end(w);
    }
    vast__jw_arr_end(w);
    vast__jw_obj_end(w);
  }
  vast__jw_obj_end(w);
}

static void j_ad(vast__jw *w, const vast_ad *a) {
  vast__jw_obj_begin(w);
  vast__jw_kstr(w, "id", a->id);
  vast__jw_kint_opt(w, "sequence", a->sequence);
  vast__jw_kstr(w, "type", ad_type_name(a->kind));
  vast__jw_kstr(w, "adSystem", a->ad_system);
  vast__jw_kstr(w, "adSystemVersion", a->ad_system_version);
  vast__jw_kstr(w, "adTitle", a->ad_title);
  vast__jw_kstr(w, "adServingId", a->ad_serving_id);
  vast__jw_kstr(w, "adType", a->ad_type);
  vast__jw_kstr(w, "description", a->description);
  vast__jw_kstr(w, "advertiser", a->advertiser);
  if (a->pricing) {
    vast__jw_key(w, "pricing");
    vast__jw_obj_begin(w);
    vast__jw_kstr(w, "model", a->pricing->model);
    vast__jw_kstr(w, "currency", a->pricing->currency);
    vast__jw_kstr(w, "value", a->pricing->value);
    vast__jw_obj_end(w);
  } else {
    vast__jw_key(w, "pricing");
    vast__jw_null(w);
  }
  j_urls(w, "impressions", a->impressions, a->n_impressions);
  j_urls(w, "errors", a->errors, a->n_errors);
  vast__jw_key(w, "viewableImpression");
  vast__jw_obj_begin(w);
  j_urls(w, "viewable", a->viewable, a->n_viewable);
  j_urls(w, "notViewable", a->not_viewable, a->n_not_viewable);
  j_urls(w, "viewUndetermined", a->view_undetermined, a->n_view_undetermined);
  vast__jw_obj_end(w);
  vast__jw_key(w, "verifications");
  vast__jw_arr_begin(w);
  for (size_t i = 0; i < a->n_verifications; i++) {
    const vast_verification *v = &a->verifications[i];
    vast__jw_obj_begin(w);
    vast__jw_kstr(w, "vendor", v->vendor);
    vast__jw_key(w, "javaScriptResources");
    vast__jw_arr_begin(w);
    for (size_t k = 0; k < v->n_js_resources; k++)
      vast__jw_str(w, v->js_resources[k].url);
    vast__jw_arr_end(w);
    vast__jw_kstr(w, "parameters", v->parameters);
    j_tracking(w, v->tracking, v->n_tracking);
    vast__jw_obj_end(w);
  }
  vast__jw_arr_end(w);
  vast__jw_key(w, "extensions");
  vast__jw_arr_begin(w);
  for (size_t i = 0; i < a->n_extensions; i++) {
    vast__jw_obj_begin(w);
    vast__jw_kstr(w, "type", a->extensions[i].type);
    vast__jw_kstr(w, "xml", a->extensions[i].xml);
    vast__jw_obj_end(w);
  }
  vast__jw_arr_end(w);
  vast__jw_kstr(w, "vastAdTagURI", a->vast_ad_tag_uri);
  if (a->kind != VAST_AD_WRAPPER) vast__jw_key(w, "wrapper"), vast__jw_null(w);
  if (a->kind == VAST_AD_WRAPPER) {
    vast__jw_key(w, "wrapper");
    vast__jw_obj_begin(w);
    vast__jw_kbool_opt(w, "followAdditionalWrappers", a->follow_additional_wrappers);
    vast__jw_kbool_opt(w, "allowMultipleAds", a->allow_multiple_ads);
    vast__jw_kbool_opt(w, "fallbackOnNoAd", a->fallback_on_no_ad);
    vast__jw_obj_end(w);
  }
  vast__jw_key(w, "creatives");
  vast__jw_arr_begin(w);
  for (size_t i = 0; i < a->n_creatives; i++)
    j_creative(w, &a->creatives[i]);
  vast__jw_arr_end(w);
  vast__jw_obj_end(w);
}

static void j_vast_body(vast__jw *w, const vast_vast *v) {
  vast__jw_kstr(w, "version", v->version);
  j_urls(w, "errors", v->errors, v->n_errors);
  vast__jw_key(w, "ads");
  vast__jw_arr_begin(w);
  for (size_t i = 0; i < v->n_ads; i++)
    j_ad(w, &v->ads[i]);
  vast__jw_arr_end(w);
}

static const char *break_kind_name(vast_break_offset_kind k) {
  switch (k) {
  case VAST_BREAK_START:
    return "start";
  case VAST_BREAK_END:
    return "end";
  case VAST_BREAK_TIME:
    return "time";
  case VAST_BREAK_PERCENT:
    return "percent";
  case VAST_BREAK_POSITION:
    return "position";
  default:
    return "invalid";
  }
}

static void j_break(vast__jw *w, const vast_ad_break *b) {
  vast__jw_obj_begin(w);
  vast__jw_kstr(w, "breakId", b->break_id);
  vast__jw_kstr(w, "breakType", b->break_type);
  vast__jw_kstr(w, "timeOffset", b->time_offset);
  vast__jw_kstr(w, "offsetKind", break_kind_name(b->offset_kind));
  vast__jw_key(w, "offsetValue");
  if (b->offset_kind == VAST_BREAK_TIME || b->offset_kind == VAST_BREAK_PERCENT ||
      b->offset_kind == VAST_BREAK_POSITION)
    vast__jw_num(w, b->offset_value);
  else
    vast__jw_null(w);
  j_offset(w, "repeatAfter", b->repeat_after);
  vast__jw_key(w, "adSource");
  if (b->source_kind == VAST_SOURCE_NONE) {
    vast__jw_null(w);
  } else {
    vast__jw_obj_begin(w);
    vast__jw_kstr(w, "id", b->source_id);
    vast__jw_kbool_opt(w, "allowMultipleAds", b->allow_multiple_ads);
    vast__jw_kbool_opt(w, "followRedirects", b->follow_redirects);
    vast__jw_kstr(w, "kind",
                  b->source_kind == VAST_SOURCE_VAST  ? "vast"
                  : b->source_kind == VAST_SOURCE_URI ? "uri"
                                                      : "custom");
    vast__jw_kstr(w, "adTagURI", b->ad_tag_uri);
    vast__jw_kstr(w, "templateType", b->template_type);
    vast__jw_kstr(w, "customData", b->custom_data);
    vast__jw_key(w, "vast");
    if (b->vast) {
      vast__jw_obj_begin(w);
      j_vast_body(w, b->vast);
      vast__jw_obj_end(w);
    } else {
      vast__jw_null(w);
    }
    vast__jw_obj_end(w);
  }
  j_tracking(w, b->tracking, b->n_tracking);
  vast__jw_obj_end(w);
}

vast_err vast_doc_write_json(const vast_doc *doc, vast_write_fn write, void *ctx) {
  if (!doc || !write) return VAST_E_INVAL;
  vast__jw w;
  vast__jw_init(&w, write, ctx);
  vast__jw_obj_begin(&w);
  const vast_vast *v = vast_doc_vast(doc);
  const vast_vmap *m = vast_doc_vmap(doc);
  vast__jw_kstr(&w, "kind", m ? "vmap" : "vast");
  if (v) {
    j_vast_body(&w, v);
  } else {
    vast__jw_kstr(&w, "version", m->version);
    vast__jw_key(&w, "errors");
    vast__jw_arr_begin(&w);
    vast__jw_arr_end(&w);
    vast__jw_key(&w, "ads");
    vast__jw_arr_begin(&w);
    vast__jw_arr_end(&w);
  }
  vast__jw_key(&w, "breaks");
  vast__jw_arr_begin(&w);
  for (size_t i = 0; m && i < m->n_breaks; i++)
    j_break(&w, &m->breaks[i]);
  vast__jw_arr_end(&w);
  size_t nn;
  const vast_note *notes = vast_doc_notes(doc, &nn);
  vast__jw_key(&w, "notes");
  vast__jw_arr_begin(&w);
  for (size_t i = 0; i < nn; i++) {
    vast__jw_obj_begin(&w);
    vast__jw_kint(&w, "line", notes[i].pos.line);
    vast__jw_kint(&w, "column", notes[i].pos.column);
    vast__jw_kstr(&w, "path", notes[i].path);
    vast__jw_kstr(&w, "message", notes[i].message);
    vast__jw_kint_opt(&w, "iabCode", notes[i].iab_code ? notes[i].iab_code : -1);
    vast__jw_obj_end(&w);
  }
  vast__jw_arr_end(&w);
  vast__jw_obj_end(&w);
  vast__jw_raw(&w, "\n", 1);
  return vast__jw_finish(&w) ? VAST_E_IO : VAST_OK;
}

/* ---- tree ----------------------------------------------------------------- */

typedef struct tw {
  vast_write_fn write;
  void *ctx;
  int failed;
} tw;

static void tline(tw *t, int indent, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#include <stdarg.h>
static void tline(tw *t, int indent, const char *fmt, ...) {
  char buf[2048];
  int n = snprintf(buf, sizeof buf, "%*s", indent * 2, "");
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
  va_end(ap);
  (void)m; /* a longer line is cut at the buffer */
  /* The tag's text goes to a terminal: no control character may start a new
   * line or an escape sequence (docs/security.md), so the line is escaped. */
  char safe[sizeof buf * 4 + 2];
  size_t len = vast_text_escape(buf, safe, sizeof safe - 1);
  if (len > sizeof safe - 2) len = sizeof safe - 2;
  safe[len++] = '\n';
  if (!t->failed && t->write(t->ctx, safe, len) != 0) t->failed = 1;
}

#define S(x) ((x) ? (x) : "-")

static void t_tracking(tw *t, int in, const vast_tracking *tr, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (tr[i].offset.raw)
      tline(t, in, "%s@%s  %s", tr[i].event_name ? tr[i].event_name : "?", tr[i].offset.raw,
            S(tr[i].url));
    else
      tline(t, in, "%s  %s", tr[i].event_name ? tr[i].event_name : "?", S(tr[i].url));
  }
}

static void t_vast(tw *t, int in, const vast_vast *v) {
  tline(t, in, "VAST %s: %zu ad(s)", S(v->version), v->n_ads);
  for (size_t i = 0; i < v->n_errors; i++)
    tline(t, in + 1, "error  %s", S(v->errors[i].url));
  for (size_t i = 0; i < v->n_ads; i++) {
    const vast_ad *a = &v->ads[i];
    tline(t, in + 1, "Ad id=%s sequence=%d %s  [line %u]", S(a->id), a->sequence,
          ad_type_name(a->kind), a->pos.line);
    tline(t, in + 2, "system: %s  title: %s", S(a->ad_system), S(a->ad_title));
    if (a->vast_ad_tag_uri) tline(t, in + 2, "VASTAdTagURI  %s", a->vast_ad_tag_uri);
    for (size_t k = 0; k < a->n_impressions; k++)
      tline(t, in + 2, "impression  %s", S(a->impressions[k].url));
    for (size_t k = 0; k < a->n_errors; k++)
      tline(t, in + 2, "error  %s", S(a->errors[k].url));
    for (size_t k = 0; k < a->n_creatives; k++) {
      const vast_creative *c = &a->creatives[k];
      tline(t, in + 2, "Creative id=%s adId=%s %s", S(c->id), S(c->ad_id),
            creative_type_name(c->kind));
      if (c->linear) {
        const vast_linear *l = c->linear;
        if (l->duration >= 0)
          tline(t, in + 3, "duration %.3fs%s%s", l->duration,
                l->skipoffset.raw ? "  skipoffset " : "",
                l->skipoffset.raw ? l->skipoffset.raw : "");
        else
          tline(t, in + 3, "duration unknown (%s)", S(l->duration_raw));
        t_tracking(t, in + 3, l->tracking, l->n_tracking);
        for (size_t m = 0; m < l->n_media_files; m++)
          tline(t, in + 3, "media %s %dx%d %s  %s", S(l->media_files[m].type),
                l->media_files[m].width, l->media_files[m].height, S(l->media_files[m].delivery),
                S(l->media_files[m].url));
        if (l->click_through) tline(t, in + 3, "clickThrough  %s", l->click_through);
        for (size_t m = 0; m < l->n_click_tracking; m++)
          tline(t, in + 3, "clickTracking  %s", S(l->click_tracking[m].url));
      }
      if (c->nonlinear) {
        tline(t, in + 3, "%zu nonlinear variation(s)", c->nonlinear->n_nonlinears);
        t_tracking(t, in + 3, c->nonlinear->tracking, c->nonlinear->n_tracking);
      }
      if (c->companions) {
        for (size_t m = 0; m < c->companions->n_companions; m++) {
          const vast_companion *cp = &c->companions->companions[m];
          tline(t, in + 3, "companion %dx%d", cp->width, cp->height);
          t_tracking(t, in + 4, cp->tracking, cp->n_tracking);
        }
      }
    }
  }
}

vast_err vast_doc_write_tree(const vast_doc *doc, vast_write_fn write, void *ctx) {
  if (!doc || !write) return VAST_E_INVAL;
  tw t = {write, ctx, 0};
  const vast_vast *v = vast_doc_vast(doc);
  const vast_vmap *m = vast_doc_vmap(doc);
  if (v) t_vast(&t, 0, v);
  if (m) {
    tline(&t, 0, "VMAP %s: %zu break(s)", S(m->version), m->n_breaks);
    for (size_t i = 0; i < m->n_breaks; i++) {
      const vast_ad_break *b = &m->breaks[i];
      tline(&t, 1, "AdBreak id=%s type=%s timeOffset=%s", S(b->break_id), S(b->break_type),
            S(b->time_offset));
      if (b->ad_tag_uri) tline(&t, 2, "AdTagURI  %s", b->ad_tag_uri);
      if (b->vast) t_vast(&t, 2, b->vast);
      t_tracking(&t, 2, b->tracking, b->n_tracking);
    }
  }
  size_t nn;
  const vast_note *notes = vast_doc_notes(doc, &nn);
  for (size_t i = 0; i < nn; i++)
    tline(&t, 0, "note: line %u: %s (%s)", notes[i].pos.line, notes[i].message, S(notes[i].path));
  return t.failed ? VAST_E_IO : VAST_OK;
}
