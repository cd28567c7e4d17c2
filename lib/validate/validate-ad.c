/*
 * validate-ad.c: the rules on the document model: the VAST and VMAP roots,
 * ads (InLine, Wrapper, pods), creatives (Linear, NonLinear, Companion), media
 * files, tracking events, and the parser notes that become findings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "validate/validate-int.h"
#include "validate/validate-walk.h"

/* ---- events -------------------------------------------------------------- */

enum ctype { CT_LINEAR, CT_NONLINEAR, CT_COMPANION, CT_VERIFICATION };

/* Version (x10) that introduced an event; 0 = always. Only events we are sure of. */
static int event_since(vast_event ev) {
  switch (ev) {
  case VAST_EV_PROGRESS:
  case VAST_EV_SKIP:
  case VAST_EV_CLOSE_LINEAR:
  case VAST_EV_EXIT_FULLSCREEN:
    return 30;
  case VAST_EV_LOADED:
  case VAST_EV_PLAYER_EXPAND:
  case VAST_EV_PLAYER_COLLAPSE:
  case VAST_EV_VERIFICATION_NOT_EXECUTED:
    return 40;
  case VAST_EV_INTERACTIVE_START:
    return 42;
  case VAST_EV_NOT_USED:
    return 43;
  default:
    return 0;
  }
}

/* 1 when the event is valid for the creative type (VAST 3.0+ lists per type). */
static int event_fits(vast_event ev, enum ctype ct) {
  switch (ct) {
  case CT_COMPANION:
    return ev == VAST_EV_CREATIVE_VIEW;
  case CT_VERIFICATION:
    return ev == VAST_EV_VERIFICATION_NOT_EXECUTED;
  case CT_LINEAR:
    switch (ev) {
    case VAST_EV_ACCEPT_INVITATION:
    case VAST_EV_AD_EXPAND:
    case VAST_EV_AD_COLLAPSE:
    case VAST_EV_MINIMIZE:
    case VAST_EV_OVERLAY_VIEW_DURATION:
    case VAST_EV_VERIFICATION_NOT_EXECUTED:
    case VAST_EV_BREAK_START:
    case VAST_EV_BREAK_END:
    case VAST_EV_ERROR:
      return 0;
    default:
      return 1;
    }
  case CT_NONLINEAR: /* start, quartiles, complete, progress, loaded, skip, notUsed fit too */
    switch (ev) {
    case VAST_EV_CLOSE_LINEAR:
    case VAST_EV_ACCEPT_INVITATION_LINEAR:
    case VAST_EV_INTERACTIVE_START:
    case VAST_EV_VERIFICATION_NOT_EXECUTED:
    case VAST_EV_BREAK_START:
    case VAST_EV_BREAK_END:
    case VAST_EV_ERROR:
      return 0;
    default:
      return 1;
    }
  }
  return 1;
}

static int event_deprecated(vast_event ev, enum ctype ct) {
  switch (ev) {
  case VAST_EV_FULLSCREEN:
  case VAST_EV_EXIT_FULLSCREEN:
  case VAST_EV_EXPAND:
  case VAST_EV_COLLAPSE:
  case VAST_EV_ACCEPT_INVITATION_LINEAR:
  case VAST_EV_TIME_SPENT_VIEWING:
    return 1;
  case VAST_EV_CLOSE:
    return ct == CT_LINEAR;
  default:
    return 0;
  }
}

static const char *ctype_name(enum ctype ct) {
  switch (ct) {
  case CT_LINEAR:
    return "Linear";
  case CT_NONLINEAR:
    return "NonLinear";
  case CT_COMPANION:
    return "Companion";
  case CT_VERIFICATION:
    return "Verification";
  }
  return "";
}

/*
 * check_tracking: the Tracking elements of one TrackingEvents list. `dur` is
 * the Linear's duration in seconds (-1 unknown) for offset checks.
 */
static void check_tracking(V *v, const vast_tracking *t, size_t n, enum ctype ct, double dur) {
  size_t hs[128];
  push(v, "TrackingEvents", 0);
  for (size_t i = 0; i < n && !v->stop; i++) {
    const vast_tracking *tr = &t[i];
    push(v, "Tracking", i + 1);
    const char *nm = tr->event_name ? tr->event_name : "";
    if (tr->event == VAST_EV_UNKNOWN) {
      vast__emit(v, VAST__R_EVENT_UNKNOWN, tr->pos, NULL, "'%.60s' is not a VAST tracking event",
                 nm);
    } else {
      const char *canon = vast_event_name(tr->event);
      if (strcmp(canon, nm) != 0)
        vast__emit(v, VAST__R_EVENT_NAME_CASE, tr->pos, NULL,
                   "event '%.60s' should be spelled '%s'", nm, canon);
      if (v->ver >= 30 && !event_fits(tr->event, ct))
        vast__emit(v, VAST__R_EVENT_WRONG_CREATIVE, tr->pos, NULL,
                   "event '%s' is not defined for %s creatives", canon, ctype_name(ct));
      int since = event_since(tr->event);
      if (v->ver && since > v->ver)
        vast__emit(v, VAST__R_EVENT_VERSION, tr->pos, NULL,
                   "event '%s' needs VAST %d.%d; the tag declares %d.%d", canon, since / 10,
                   since % 10, v->ver / 10, v->ver % 10);
      if (v->ver >= 40 && event_deprecated(tr->event, ct))
        vast__emit(v, VAST__R_EVENT_DEPRECATED, tr->pos, NULL, "event '%s' is deprecated in VAST 4",
                   canon);
    }
    if (tr->event == VAST_EV_PROGRESS) {
      if (tr->offset.kind == VAST_OFFSET_NONE)
        vast__emit(v, VAST__R_PROGRESS_NO_OFFSET, tr->pos, NULL, "progress event without offset");
      else if (tr->offset.kind == VAST_OFFSET_INVALID)
        vast__emit(v, VAST__R_OFFSET_MALFORMED, tr->pos, NULL,
                   "progress offset '%.40s' is not a time or percentage",
                   tr->offset.raw ? tr->offset.raw : "");
      else if ((tr->offset.kind == VAST_OFFSET_PERCENT && tr->offset.value > 100) ||
               (tr->offset.kind == VAST_OFFSET_TIME && dur > 0 && tr->offset.value > dur + 0.0005))
        vast__emit(v, VAST__R_OFFSET_BEYOND_DURATION, tr->pos, NULL,
                   "progress offset '%.40s' is after the end of the ad",
                   tr->offset.raw ? tr->offset.raw : "");
    } else if (tr->offset.kind == VAST_OFFSET_INVALID) {
      vast__emit(v, VAST__R_OFFSET_MALFORMED, tr->pos, NULL,
                 "offset '%.40s' is not a time or percentage",
                 tr->offset.raw ? tr->offset.raw : "");
    }
    size_t h = vast__check_url(v, tr->url, tr->pos, "Tracking", U_BEACON);
    if (i < 128) {
      hs[i] = h;
      if (tr->url && *tr->url)
        for (size_t j = 0; j < i; j++)
          if (hs[j] == h && t[j].event == tr->event &&
              (t[j].event != VAST_EV_UNKNOWN || strcmp(t[j].event_name, nm) == 0) &&
              t[j].offset.kind == tr->offset.kind && t[j].offset.value == tr->offset.value &&
              strcmp(t[j].url, tr->url) == 0) {
            vast__emit(v, VAST__R_URL_DUPLICATE, tr->pos, NULL,
                       "'%.60s' URL repeats Tracking[%zu]: fired twice", nm, j + 1);
            break;
          }
    }
    pop(v);
  }
  pop(v);
}

/* ---- media --------------------------------------------------------------- */

static const char *const known_mimes[] = {
    "video/mp4",
    "video/webm",
    "video/ogg",
    "video/3gpp",
    "video/3gpp2",
    "video/quicktime",
    "video/x-flv",
    "video/mpeg",
    "video/x-m4v",
    "video/x-ms-wmv",
    "video/mp2t",
    "video/h264",
    "application/x-mpegurl",
    "application/vnd.apple.mpegurl",
    "application/dash+xml",
    "application/javascript",
    "application/x-javascript",
    "text/javascript",
    "application/x-shockwave-flash",
    "audio/mp4",
    "audio/mpeg",
    "audio/mp3",
    "audio/aac",
    "audio/ogg",
    "audio/wav",
    "audio/x-wav",
    "audio/webm",
    "audio/x-m4a",
    "audio/flac",
};

static int mime_known(const char *t) {
  for (size_t i = 0; i < sizeof known_mimes / sizeof known_mimes[0]; i++)
    if (strcasecmp(t, known_mimes[i]) == 0) return 1;
  return 0;
}

static int is_vpaid(const vast_media_file *m) {
  if (m->api_framework && strncasecmp(m->api_framework, "VPAID", 5) == 0) return 1;
  if (!m->type) return 0;
  return strcasecmp(m->type, "application/javascript") == 0 ||
         strcasecmp(m->type, "application/x-javascript") == 0 ||
         strcasecmp(m->type, "text/javascript") == 0 ||
         strcasecmp(m->type, "application/x-shockwave-flash") == 0;
}

static int is_h264_mp4(const vast_media_file *m) {
  if (is_vpaid(m) || !m->type || strcasecmp(m->type, "video/mp4") != 0) return 0;
  if (m->delivery && strcasecmp(m->delivery, "progressive") != 0) return 0;
  if (m->codec && *m->codec)
    return strncasecmp(m->codec, "avc", 3) == 0 || strcasecmp(m->codec, "h264") == 0 ||
           strcasecmp(m->codec, "h.264") == 0;
  return 1;
}

static void check_media(V *v, const vast_linear *l) {
  int n_vpaid = 0, n_mp4 = 0, n_audio = 0;
  if (l->n_media_files == 0) {
    vast__emit(v, VAST__R_MISSING_MEDIAFILES, l->pos,
               l->has_media_files_element ? "MediaFiles" : NULL, "Linear has no MediaFile");
    return;
  }
  push(v, "MediaFiles", 0);
  for (size_t i = 0; i < l->n_media_files && !v->stop; i++) {
    const vast_media_file *m = &l->media_files[i];
    push(v, "MediaFile", i + 1);
    if (!m->url || !*m->url)
      vast__emit(v, VAST__R_MEDIAFILE_EMPTY_URL, m->pos, NULL, "MediaFile has no URL");
    else
      vast__check_url(v, m->url, m->pos, "MediaFile", U_MEDIA);
    if (!m->delivery || !*m->delivery)
      vast__emit(v, VAST__R_MEDIAFILE_MISSING_DELIVERY, m->pos, NULL,
                 "MediaFile has no delivery attribute");
    if (!m->type || !*m->type)
      vast__emit(v, VAST__R_MEDIA_MIME_MISSING, m->pos, NULL, "MediaFile has no type attribute");
    else if (!mime_known(m->type))
      vast__emit(v, VAST__R_MEDIA_MIME_UNKNOWN, m->pos, NULL,
                 "MediaFile type '%.60s' is not a known media type", m->type);
    int vp = is_vpaid(m);
    n_vpaid += vp;
    n_mp4 += is_h264_mp4(m);
    n_audio += m->type && strncasecmp(m->type, "audio/", 6) == 0;
    if (!vp && (m->width < 0 || m->height < 0))
      vast__emit(v, VAST__R_MEDIA_SIZE_MISSING, m->pos, NULL, "MediaFile has no %s",
                 m->width < 0 && m->height < 0 ? "width or height"
                 : m->width < 0                ? "width"
                                               : "height");
    if (!vp && m->bitrate < 0 && m->min_bitrate < 0 && m->max_bitrate < 0 &&
        (!m->delivery || strcasecmp(m->delivery, "progressive") == 0))
      vast__emit(v, VAST__R_MEDIA_BITRATE_MISSING, m->pos, NULL,
                 "progressive MediaFile has no bitrate");
    pop(v);
  }
  if (n_vpaid && n_vpaid == (int)l->n_media_files)
    vast__emit(v, VAST__R_MEDIA_VPAID_ONLY, l->pos, NULL,
               "every MediaFile (%d) is VPAID/JavaScript/Flash", n_vpaid);
  else if (n_vpaid)
    vast__emit(v, VAST__R_MEDIA_VPAID, l->pos, NULL, "%d VPAID/JavaScript MediaFile%s", n_vpaid,
               n_vpaid > 1 ? "s" : "");
  if (!n_mp4)
    vast__emit(v, VAST__R_MEDIA_NO_MP4, l->pos, NULL, "no progressive H.264 video/mp4 MediaFile");
  if (!n_audio) vast__emit(v, VAST__R_MEDIA_NO_AUDIO, l->pos, NULL, "no audio/* MediaFile");
  pop(v);
}

static const char *core_events[VAST_AUDIT_CORE_EVENTS] = {"start", "firstQuartile", "midpoint",
                                                          "thirdQuartile", "complete"};
/* What breaks without each core event (the practitioner guide's table). */
static const char *core_breaks[VAST_AUDIT_CORE_EVENTS] = {
    "the impression-to-start gap (ads loaded but not played) cannot be measured",
    "the DSP cannot measure 25% view-through", "most DSPs bill on midpoint: no billing signal",
    "no 75% measurement for viewability and quartile reports",
    "the completion rate cannot be reported (campaign reporting breaks)"};
static const vast_event core_ev[VAST_AUDIT_CORE_EVENTS] = {VAST_EV_START, VAST_EV_FIRST_QUARTILE,
                                                           VAST_EV_MIDPOINT, VAST_EV_THIRD_QUARTILE,
                                                           VAST_EV_COMPLETE};

static void check_linear(V *v, const vast_linear *l, int inl) {
  push(v, "Linear", 0);
  double dur = l->duration;
  if (inl) {
    if (!l->duration_raw)
      vast__emit(v, VAST__R_MISSING_DURATION, l->pos, NULL, "Linear has no Duration");
    else if (dur < 0)
      vast__emit(v, VAST__R_DURATION_MALFORMED, l->pos, "Duration",
                 "Duration '%.40s' is not HH:MM:SS[.mmm]", l->duration_raw);
    else if (dur == 0)
      vast__emit(v, VAST__R_DURATION_ZERO, l->pos, "Duration", "Duration is zero");
  }
  if (l->skipoffset.kind == VAST_OFFSET_INVALID)
    vast__emit(v, VAST__R_SKIPOFFSET_MALFORMED, l->pos, NULL,
               "skipoffset '%.40s' is not a time or percentage",
               l->skipoffset.raw ? l->skipoffset.raw : "");
  else if ((l->skipoffset.kind == VAST_OFFSET_PERCENT && l->skipoffset.value >= 100) ||
           (l->skipoffset.kind == VAST_OFFSET_TIME && dur > 0 && l->skipoffset.value >= dur))
    vast__emit(v, VAST__R_SKIPOFFSET_BEYOND_DURATION, l->pos, NULL,
               "skipoffset '%.40s' is not before the end of the ad",
               l->skipoffset.raw ? l->skipoffset.raw : "");

  if (inl) {
    unsigned have = 0;
    int skip = 0;
    for (size_t i = 0; i < l->n_tracking; i++) {
      for (int k = 0; k < VAST_AUDIT_CORE_EVENTS; k++)
        if (l->tracking[i].event == core_ev[k]) have |= 1u << k;
      skip |= l->tracking[i].event == VAST_EV_SKIP;
    }
    for (int k = 0; k < VAST_AUDIT_CORE_EVENTS; k++)
      if (!(have & (1u << k)))
        vast__emit(v, VAST__R_MISSING_QUARTILE, l->pos, "TrackingEvents",
                   "no '%s' Tracking event: %s", core_events[k], core_breaks[k]);
    if (l->skipoffset.kind != VAST_OFFSET_NONE && !skip)
      vast__emit(v, VAST__R_SKIP_TRACKING_MISSING, l->pos, "TrackingEvents",
                 "skippable ad (skipoffset '%.40s') has no 'skip' Tracking event: skips are not "
                 "reported to the DSP and count as abandoned views in the completion rate",
                 l->skipoffset.raw ? l->skipoffset.raw : "");
  }
  check_tracking(v, l->tracking, l->n_tracking, CT_LINEAR, dur);
  if (inl) check_media(v, l);
  if (inl && v->ver >= 40 && l->n_mezzanines == 0 && l->n_media_files)
    vast__emit(v, VAST__R_MEDIA_NO_MEZZANINE, l->pos, NULL,
               "no Mezzanine: a stitcher that transcodes from the mezzanine file answers 406");
  if (l->click_through || l->n_click_tracking || l->n_custom_clicks) {
    push(v, "VideoClicks", 0);
    vast__check_single_url(v, l->click_through, l->pos, "ClickThrough", U_CLICK);
    vast__check_url_list(v, l->click_tracking, l->n_click_tracking, "ClickTracking", U_BEACON, 1);
    vast__check_url_list(v, l->custom_clicks, l->n_custom_clicks, "CustomClick", U_BEACON, 1);
    pop(v);
  }
  for (size_t i = 0; i < l->n_icons && !v->stop; i++) {
    const vast_icon *ic = &l->icons[i];
    push(v, "Icons", 0);
    push(v, "Icon", i + 1);
    vast__check_url_list(v, ic->click_tracking, ic->n_click_tracking, "IconClickTracking", U_BEACON,
                         1);
    vast__check_url_list(v, ic->view_tracking, ic->n_view_tracking, "IconViewTracking", U_BEACON,
                         1);
    pop(v);
    pop(v);
  }
  for (size_t i = 0; i < l->n_mezzanines && !v->stop; i++) {
    push(v, "Mezzanine", l->n_mezzanines > 1 ? i + 1 : 0);
    vast__check_url(v, l->mezzanines[i].url, l->mezzanines[i].pos, "Mezzanine", U_MEDIA);
    pop(v);
  }
  for (size_t i = 0; i < l->n_interactive_files && !v->stop; i++) {
    push(v, "InteractiveCreativeFile", l->n_interactive_files > 1 ? i + 1 : 0);
    vast__check_url(v, l->interactive_files[i].url, l->interactive_files[i].pos,
                    "InteractiveCreativeFile", U_MEDIA);
    pop(v);
  }
  pop(v);
}

static int has_resource_url(const vast_resource *r, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (r[i].content && *r[i].content) return 1;
  return 0;
}

static void check_resources(V *v, const vast_resource *r, size_t n) {
  for (size_t i = 0; i < n && !v->stop; i++)
    if (r[i].kind != VAST_RES_HTML && r[i].content && *r[i].content)
      vast__check_single_url(v, r[i].content, r[i].pos,
                             r[i].kind == VAST_RES_STATIC ? "StaticResource" : "IFrameResource",
                             U_RESOURCE);
}

static void check_nonlinear_ads(V *v, const vast_nonlinear_ads *na, int inl) {
  push(v, "NonLinearAds", 0);
  for (size_t i = 0; i < na->n_nonlinears && !v->stop; i++) {
    const vast_nonlinear *nl = &na->nonlinears[i];
    push(v, "NonLinear", i + 1);
    if (inl && !has_resource_url(nl->resources, nl->n_resources))
      vast__emit(v, VAST__R_NONLINEAR_MISSING_RESOURCE, nl->pos, NULL, "NonLinear has no resource");
    check_resources(v, nl->resources, nl->n_resources);
    vast__check_single_url(v, nl->click_through, nl->pos, "NonLinearClickThrough", U_CLICK);
    vast__check_url_list(v, nl->click_tracking, nl->n_click_tracking, "NonLinearClickTracking",
                         U_BEACON, 1);
    pop(v);
  }
  check_tracking(v, na->tracking, na->n_tracking, CT_NONLINEAR, -1);
  pop(v);
}

static void check_companion_ads(V *v, const vast_companion_ads *ca, int inl) {
  push(v, "CompanionAds", 0);
  for (size_t i = 0; i < ca->n_companions && !v->stop; i++) {
    const vast_companion *c = &ca->companions[i];
    push(v, "Companion", i + 1);
    if (inl && !has_resource_url(c->resources, c->n_resources))
      vast__emit(v, VAST__R_COMPANION_MISSING_RESOURCE, c->pos, NULL, "Companion has no resource");
    if (inl && (c->width < 0 || c->height < 0))
      vast__emit(v, VAST__R_COMPANION_MISSING_SIZE, c->pos, NULL, "Companion has no %s",
                 c->width < 0 && c->height < 0 ? "width or height"
                 : c->width < 0                ? "width"
                                               : "height");
    check_resources(v, c->resources, c->n_resources);
    vast__check_single_url(v, c->click_through, c->pos, "CompanionClickThrough", U_CLICK);
    vast__check_url_list(v, c->click_tracking, c->n_click_tracking, "CompanionClickTracking",
                         U_BEACON, 1);
    check_tracking(v, c->tracking, c->n_tracking, CT_COMPANION, -1);
    pop(v);
  }
  pop(v);
}

/* ---- ads ----------------------------------------------------------------- */

static void check_ad(V *v, const vast_ad *ad) {
  if (ad->kind == VAST_AD_EMPTY) {
    vast__emit(v, VAST__R_AD_EMPTY, ad->pos, NULL, "Ad has neither InLine nor Wrapper");
    return;
  }
  int inl = ad->kind == VAST_AD_INLINE;
  const char *body = inl ? "InLine" : "Wrapper";
  push(v, body, 0);
  vast_pos bp = ad->body_pos.line ? ad->body_pos : ad->pos;
  if (!ad->ad_system) vast__emit(v, VAST__R_MISSING_ADSYSTEM, bp, NULL, "%s has no AdSystem", body);
  if (inl && !ad->ad_title)
    vast__emit(v, VAST__R_MISSING_ADTITLE, bp, NULL, "InLine has no AdTitle");
  if (inl && v->ver >= 41 && !ad->ad_serving_id)
    vast__emit(v, VAST__R_MISSING_ADSERVINGID, bp, NULL, "VAST %d.%d InLine has no AdServingId",
               v->ver / 10, v->ver % 10);
  if (ad->n_impressions == 0)
    vast__emit(v, VAST__R_MISSING_IMPRESSION, bp, NULL, "%s has no Impression", body);
  if (inl && ad->n_creatives == 0)
    vast__emit(v, VAST__R_MISSING_CREATIVES, bp, NULL, "InLine has no Creative");
  if (!inl) {
    if (!ad->vast_ad_tag_uri) {
      vast__emit(v, VAST__R_WRAPPER_MISSING_URI, bp, NULL, "Wrapper has no VASTAdTagURI");
    } else {
      const char *u = ad->vast_ad_tag_uri;
      const char *c = strchr(u, ':'), *s = strpbrk(u, "/?#");
      int ws = strpbrk(u, " \t\r\n") != NULL;
      int other_scheme = c && (!s || c < s) && !(c - u == 4 && strncasecmp(u, "http", 4) == 0) &&
                         !(c - u == 5 && strncasecmp(u, "https", 5) == 0) && u[0] != '[';
      if (!*u || ws || other_scheme)
        vast__emit(v, VAST__R_WRAPPER_URI_INVALID, bp, "VASTAdTagURI", "VASTAdTagURI '%.80s' is %s",
                   u,
                   !*u  ? "empty"
                   : ws ? "not a URL (whitespace inside)"
                        : "not an http(s) URL");
      if (*u) vast__check_single_url(v, u, bp, "VASTAdTagURI", U_WRAPPER);
    }
  }
  vast__check_url_list(v, ad->errors, ad->n_errors, "Error", U_ERROR, 1);
  vast__check_url_list(v, ad->impressions, ad->n_impressions, "Impression", U_BEACON, 1);
  if (ad->n_viewable || ad->n_not_viewable || ad->n_view_undetermined) {
    push(v, "ViewableImpression", 0);
    vast__check_url_list(v, ad->viewable, ad->n_viewable, "Viewable", U_BEACON, 1);
    vast__check_url_list(v, ad->not_viewable, ad->n_not_viewable, "NotViewable", U_BEACON, 1);
    vast__check_url_list(v, ad->view_undetermined, ad->n_view_undetermined, "ViewUndetermined",
                         U_BEACON, 1);
    pop(v);
  }
  for (size_t i = 0; i < ad->n_verifications && !v->stop; i++) {
    const vast_verification *vf = &ad->verifications[i];
    push(v, "AdVerifications", 0);
    push(v, "Verification", i + 1);
    for (size_t j = 0; j < vf->n_js_resources; j++)
      vast__check_single_url(v, vf->js_resources[j].url, vf->pos, "JavaScriptResource", U_RESOURCE);
    check_tracking(v, vf->tracking, vf->n_tracking, CT_VERIFICATION, -1);
    pop(v);
    pop(v);
  }
  if (ad->n_creatives) push(v, "Creatives", 0);
  for (size_t i = 0; i < ad->n_creatives && !v->stop; i++) {
    const vast_creative *cr = &ad->creatives[i];
    push(v, "Creative", i + 1);
    if (inl && v->ver >= 40 && cr->n_universal_ad_ids == 0)
      vast__emit(
          v, VAST__R_MISSING_UNIVERSALADID, cr->pos, NULL,
          "VAST %d.%d Creative has no UniversalAdId: the creative cannot be identified across "
          "ad servers (approval, frequency capping)",
          v->ver / 10, v->ver % 10);
    switch (cr->kind) {
    case VAST_CREATIVE_LINEAR:
      if (cr->linear) check_linear(v, cr->linear, inl);
      break;
    case VAST_CREATIVE_NONLINEAR:
      if (cr->nonlinear) check_nonlinear_ads(v, cr->nonlinear, inl);
      break;
    case VAST_CREATIVE_COMPANION:
      if (cr->companions) check_companion_ads(v, cr->companions, inl);
      break;
    default:
      vast__emit(v, VAST__R_CREATIVE_EMPTY, cr->pos, NULL,
                 "Creative has no Linear, NonLinearAds or CompanionAds");
    }
    pop(v);
  }
  if (ad->n_creatives) pop(v);
  pop(v);
}

static int version_x10(const vast_vast *vv, vast_doc_kind kind) {
  if (kind == VAST_DOC_VAST1) return 10;
  if (!vv->version) return 0;
  return vv->version_major * 10 + vv->version_minor;
}

void vast__check_vast(V *v, const vast_vast *vv, vast_doc_kind kind) {
  push(v, kind == VAST_DOC_VAST1 ? "VideoAdServingTemplate" : "VAST", 0);
  int saved = v->ver;
  v->ver = version_x10(vv, kind);
  if (kind == VAST_DOC_VAST1) {
    vast__emit(v, VAST__R_VERSION_LEGACY, vv->pos, NULL,
               "VAST 1.0 document (VideoAdServingTemplate)");
  } else if (!vv->version) {
    vast__emit(v, VAST__R_VERSION_MISSING, vv->pos, NULL, "VAST element has no version attribute");
  } else {
    static const int ok[] = {20, 30, 40, 41, 42, 43};
    int good = 0;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
      good |= v->ver == ok[i];
    if (!good) {
      vast__emit(v, VAST__R_VERSION_UNSUPPORTED, vv->pos, NULL,
                 "VAST version '%.20s' is not supported", vv->version);
      if (v->ver < 20 || v->ver > 43) v->ver = 0; /* unknown: skip version-dependent rules */
    }
  }
  if (vv->n_ads == 0)
    vast__emit(v, VAST__R_NO_AD, vv->pos, NULL, "no Ad in the response (no-ad response, IAB 303)");
  vast__check_url_list(v, vv->errors, vv->n_errors, "Error", U_ERROR, 1);

  int with_seq = 0, without_seq = 0;
  for (size_t i = 0; i < vv->n_ads && !v->stop; i++) {
    const vast_ad *ad = &vv->ads[i];
    push(v, "Ad", i + 1);
    check_ad(v, ad);
    if (ad->kind == VAST_AD_INLINE && ad->ad_serving_id && *ad->ad_serving_id &&
        on(v, VAST__R_POD_DUPLICATE_ADSERVINGID))
      for (size_t j = 0; j < i; j++)
        if (vv->ads[j].kind == VAST_AD_INLINE && vv->ads[j].ad_serving_id &&
            strcmp(vv->ads[j].ad_serving_id, ad->ad_serving_id) == 0) {
          vast__emit(v, VAST__R_POD_DUPLICATE_ADSERVINGID,
                     ad->body_pos.line ? ad->body_pos : ad->pos, "AdServingId",
                     "AdServingId '%.80s' is also used by Ad[%zu]", ad->ad_serving_id, j + 1);
          break;
        }
    if (ad->sequence >= 0) {
      with_seq++;
      for (size_t j = 0; j < i; j++)
        if (vv->ads[j].sequence == ad->sequence) {
          vast__emit(v, VAST__R_POD_DUPLICATE_SEQUENCE, ad->pos, NULL,
                     "sequence %d is also used by Ad[%zu]", ad->sequence, j + 1);
          break;
        }
    } else {
      without_seq++;
    }
    pop(v);
  }
  if (with_seq && without_seq && on(v, VAST__R_POD_MIXED_BUFFET)) {
    for (size_t i = 0; i < vv->n_ads; i++)
      if (vv->ads[i].sequence < 0) {
        push(v, "Ad", i + 1);
        vast__emit(v, VAST__R_POD_MIXED_BUFFET, vv->ads[i].pos, NULL,
                   "%d Ad%s with sequence (pod) and %d without (buffet)", with_seq,
                   with_seq > 1 ? "s" : "", without_seq);
        pop(v);
        break;
      }
  }
  v->ver = saved;
  pop(v);
}

void vast__check_vmap(V *v, const vast_vmap *vm) {
  push(v, "vmap:VMAP", 0);
  for (size_t i = 0; i < vm->n_breaks && !v->stop; i++) {
    const vast_ad_break *b = &vm->breaks[i];
    push(v, "vmap:AdBreak", i + 1);
    if (b->offset_kind == VAST_BREAK_INVALID)
      vast__emit(v, VAST__R_VMAP_OFFSET_INVALID, b->pos, NULL, "timeOffset '%.40s' is not valid",
                 b->time_offset ? b->time_offset : "");
    switch (b->source_kind) {
    case VAST_SOURCE_NONE:
      vast__emit(v, VAST__R_VMAP_BREAK_NO_SOURCE, b->pos, NULL, "AdBreak has no AdSource");
      break;
    case VAST_SOURCE_URI:
      push(v, "vmap:AdSource", 0);
      vast__check_single_url(v, b->ad_tag_uri, b->pos, "vmap:AdTagURI", U_WRAPPER);
      pop(v);
      break;
    case VAST_SOURCE_VAST:
      if (b->vast) {
        push(v, "vmap:AdSource", 0);
        push(v, "vmap:VASTAdData", 0);
        vast__check_vast(v, b->vast, VAST_DOC_VAST);
        pop(v);
        pop(v);
      }
      break;
    case VAST_SOURCE_CUSTOM:
      break;
    }
    if (b->n_tracking) {
      push(v, "vmap:TrackingEvents", 0);
      for (size_t j = 0; j < b->n_tracking && !v->stop; j++) {
        push(v, "vmap:Tracking", j + 1);
        vast__check_url(v, b->tracking[j].url, b->tracking[j].pos, "vmap:Tracking",
                        b->tracking[j].event == VAST_EV_ERROR ? U_BEACON : U_BEACON);
        pop(v);
      }
      pop(v);
    }
    pop(v);
  }
  pop(v);
}

/* Parser notes that are not covered by a model rule become findings. */
void vast__check_notes(V *v, const vast_doc *doc) {
  size_t n = 0;
  const vast_note *notes = vast_doc_notes(doc, &n);
  for (size_t i = 0; i < n && !v->stop; i++) {
    vast__rule_idx r;
    switch (notes[i].kind) {
    case VAST_NOTE_UNKNOWN_ELEMENT:
      r = VAST__R_ELEMENT_UNKNOWN;
      break;
    case VAST_NOTE_MISPLACED:
      r = VAST__R_ELEMENT_MISPLACED;
      break;
    case VAST_NOTE_BAD_NUMBER:
      r = VAST__R_NUMBER_MALFORMED;
      break;
    case VAST_NOTE_BAD_BOOLEAN:
      r = VAST__R_BOOLEAN_MALFORMED;
      break;
    case VAST_NOTE_DUPLICATE:
      r = VAST__R_AD_MULTIPLE_BODIES;
      break;
    default:
      continue; /* durations, offsets, version: checked on the model */
    }
    if (!on(v, r)) continue;
    snprintf(v->msg, sizeof v->msg, "%s", notes[i].message ? notes[i].message : "");
    vast__report(v, r, notes[i].path ? notes[i].path : "", notes[i].pos);
  }
}
