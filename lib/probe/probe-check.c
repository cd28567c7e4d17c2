/*
 * probe-check.c: the tag against its media (vast_probe_check, vastrack/probe.h).
 * Probes every MediaFile and Mezzanine of the InLine Linears of a document at
 * once (vast_media_probe_many), then compares what each file is with what the
 * tag says about it and appends one finding per disagreement to a validate
 * findings list, under the "probe" rules of the rule table (validate-int.h).
 *
 * The CTV ceilings (docs/probe.md says why these values):
 *   resolution  1920x1080  (the largest every CTV ad spec and decoder accepts)
 *   frame rate  60 fps
 *   bitrate     20 Mbit/s  (above, renditions stall on typical home bandwidth)
 *   H.264 level 4.2        (1080p60 High; 5.x needs 4K-class decoders)
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "validate/validate-int.h"
#include "vastrack/probe.h"

#define CTV_MAX_W 1920
#define CTV_MAX_H 1080
#define CTV_MAX_FPS 60.0
#define CTV_MAX_KBPS 20000
#define CTV_MAX_H264_LEVEL 42

void vast_probe_check_opts_init(vast_probe_check_opts *o) {
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  vast_probe_opts_init(&o->probe);
  o->concurrency = 4;
  o->duration_tolerance = 0.5;
  o->bitrate_tolerance = 0.25;
  o->mezzanines = 1;
}

/* One file of the tag to probe. */
typedef struct target {
  char *url;
  const vast_linear *linear;
  const vast_media_file *mf; /* or */
  const vast_mezzanine *mz;
  size_t ad, creative, index; /* 1-based, for the element path */
  /* Media of an InLine reached through a Wrapper of this document (opt chain):
     the finding goes on that Wrapper, its message names the hop. */
  const char *via;   /* the hop URL, or NULL */
  size_t wrapper_ad; /* 1-based index of that Wrapper's <Ad> here */
  vast_pos wrapper_pos;
} target;

typedef struct checker {
  vast_findings *list;
  signed char sev[VAST__R__COUNT];
  const vast_probe_check_opts *o;
  int oom;
} checker;

static void emit(checker *c, vast__rule_idx r, const target *t, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void emit(checker *c, vast__rule_idx r, const target *t, const char *fmt, ...) {
  if (c->sev[r] == VAST_SEV_OFF) return;
  char msg[600], path[256];
  size_t k = 0;
  if (t->via)
    k = (size_t)snprintf(msg, sizeof msg, "through the Wrapper, %.200s Ad[%zu] %s[%zu]: ", t->via,
                         t->ad, t->mf ? "MediaFile" : "Mezzanine", t->index);
  if (k >= sizeof msg) k = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + k, sizeof msg - k, fmt, ap);
  va_end(ap);
  if (t->via)
    snprintf(path, sizeof path, "/VAST/Ad[%zu]/Wrapper", t->wrapper_ad);
  else
    snprintf(path, sizeof path,
             "/VAST/Ad[%zu]/InLine/Creatives/Creative[%zu]/Linear/MediaFiles/%s[%zu]", t->ad,
             t->creative, t->mf ? "MediaFile" : "Mezzanine", t->index);
  vast_finding f;
  memset(&f, 0, sizeof f);
  f.rule = &vast__rules[r];
  f.rule_id = f.rule->id;
  f.severity = (vast_severity)c->sev[r];
  f.iab_code = f.rule->iab_code;
  f.message = msg;
  f.fix = f.rule->fix;
  f.path = path;
  vast_pos pos = t->via ? t->wrapper_pos : t->mf ? t->mf->pos : t->mz->pos;
  f.line = pos.line;
  f.column = pos.column;
  if (vast__findings_add(c->list, &f) != 0) c->oom = 1;
}

/* The container a MIME type promises ("" when the type says nothing checkable). */
static const char *container_for_mime(const char *mime) {
  static const struct {
    const char *mime, *container;
  } map[] = {
      {"video/mp4", "mp4"},
      {"audio/mp4", "mp4"},
      {"audio/x-m4a", "mp4"},
      {"video/x-m4v", "mp4"},
      {"video/3gpp", "mp4"},
      {"video/webm", "webm"},
      {"audio/webm", "webm"},
      {"video/quicktime", "mov"},
      {"application/x-mpegurl", "hls"},
      {"application/vnd.apple.mpegurl", "hls"},
      {"audio/mpegurl", "hls"},
      {"video/mp2t", "mpegts"},
      {"audio/mpeg", "mp3"},
      {"audio/mp3", "mp3"},
      {"video/x-flv", "flv"},
      {"video/ogg", "ogg"},
      {"audio/ogg", "ogg"},
      {"video/x-matroska", "matroska"},
      {"audio/aac", "aac"},
  };
  if (!mime) return "";
  size_t n = strcspn(mime, ";");
  while (n && mime[n - 1] == ' ')
    n--;
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strlen(map[i].mime) == n && !strncasecmp(mime, map[i].mime, n)) return map[i].container;
  return "";
}

/* mp4 and m4a (and mov for video/mp4 files with a qt brand) are one family. */
static int container_fits(const char *want, const char *got) {
  if (!strcmp(want, got)) return 1;
  if (!strcmp(want, "mp4") && !strcmp(got, "m4a")) return 1;
  if (!strcmp(want, "aac") && (!strcmp(got, "mp4") || !strcmp(got, "m4a"))) return 1;
  if (!strcmp(want, "matroska") && !strcmp(got, "webm")) return 1;
  return 0;
}

/* DASH manifests are not probed (no DASH demuxer is allowed); HLS is. */
static int is_dash(const char *mime) {
  return mime && strcasestr(mime, "dash");
}

/* libavcodec's name for an RFC 6381 / free-form codec token; NULL when unknown. */
static const char *codec_for_token(const char *t, size_t n, int *is_audio) {
  static const struct {
    const char *prefix, *codec;
    int audio;
  } map[] = {
      {"avc1", "h264", 0}, {"avc3", "h264", 0},  {"h264", "h264", 0},     {"h.264", "h264", 0},
      {"avc", "h264", 0},  {"hvc1", "hevc", 0},  {"hev1", "hevc", 0},     {"hevc", "hevc", 0},
      {"h265", "hevc", 0}, {"h.265", "hevc", 0}, {"vp09", "vp9", 0},      {"vp9", "vp9", 0},
      {"vp8", "vp8", 0},   {"av01", "av1", 0},   {"av1", "av1", 0},       {"mp4a", "aac", 1},
      {"aac", "aac", 1},   {"opus", "opus", 1},  {"vorbis", "vorbis", 1}, {"mp3", "mp3", 1},
      {"ac-3", "ac3", 1},  {"ec-3", "eac3", 1},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    size_t k = strlen(map[i].prefix);
    if (n >= k && !strncasecmp(t, map[i].prefix, k)) {
      *is_audio = map[i].audio;
      return map[i].codec;
    }
  }
  return NULL;
}

static void check_codec_attr(checker *c, const target *t, const char *attr,
                             const vast_media_info *in) {
  const char *s = attr;
  while (s && *s) {
    s += strspn(s, " ,\"'");
    size_t n = strcspn(s, " ,\"'");
    if (!n) break;
    int audio = 0;
    const char *want = codec_for_token(s, n, &audio);
    if (want) {
      const char *got = audio ? (in->has_audio ? in->audio_codec : NULL)
                              : (in->has_video ? in->video_codec : NULL);
      if (!got)
        emit(c, VAST__R_PROBE_CODEC_MISMATCH, t, "codec=\"%s\" names %s %s, but the file has no %s",
             attr, audio ? "audio" : "video", want, audio ? "audio" : "video");
      else if (strcmp(got, want))
        emit(c, VAST__R_PROBE_CODEC_MISMATCH, t, "codec=\"%s\" names %s, but the file's %s is %s",
             attr, want, audio ? "audio" : "video", got);
    }
    s += n;
  }
}

static int h264_ctv_profile(const char *p) {
  return !strcmp(p, "Baseline") || !strcmp(p, "Constrained Baseline") || !strcmp(p, "Main") ||
         !strcmp(p, "Extended") || !strcmp(p, "High");
}

static void check_one(checker *c, const target *t, const vast_media_info *in, vast_err rc,
                      const vast_error *e) {
  const char *mime = t->mf ? t->mf->type : t->mz->type;
  const char *codec = t->mf ? t->mf->codec : t->mz->codec;
  int width = t->mf ? t->mf->width : t->mz->width, height = t->mf ? t->mf->height : t->mz->height;
  long file_size = t->mf ? t->mf->file_size : t->mz->file_size;
  const char *why = e && e->message[0] ? e->message : vast_strerror(rc);
  if (rc == VAST_E_HTTP || rc == VAST_E_IO || rc == VAST_E_TIMEOUT || rc == VAST_E_FORBIDDEN ||
      rc == VAST_E_URL) {
    emit(c, VAST__R_PROBE_UNREACHABLE, t, "%s", why);
    return;
  }
  if (rc != VAST_OK) {
    emit(c, VAST__R_PROBE_NOT_MEDIA, t, "%s%s%s%s", why, in->content_type[0] ? " (served as " : "",
         in->content_type, in->content_type[0] ? ")" : "");
    return;
  }
  /* Duration: only the Linear's own, only for MediaFiles and Mezzanines alike. */
  double declared = t->linear->duration;
  if (declared >= 0 && in->duration >= 0 &&
      fabs(in->duration - declared) > c->o->duration_tolerance)
    emit(c, VAST__R_PROBE_DURATION_MISMATCH, t,
         "the file lasts %.3f s but <Duration> says %.3f s (%+.3f s; tolerance %.2f s)",
         in->duration, declared, in->duration - declared, c->o->duration_tolerance);
  const char *want = container_for_mime(mime);
  if (*want && !container_fits(want, in->container))
    emit(c, VAST__R_PROBE_MIME_MISMATCH, t, "type=\"%s\" but the file is %s", mime, in->container);
  else if (!strncasecmp(in->content_type, "text/", 5))
    emit(c, VAST__R_PROBE_MIME_MISMATCH, t, "the server sends Content-Type: %s for a %s file",
         in->content_type, in->container);
  if (codec && *codec) check_codec_attr(c, t, codec, in);
  if (in->has_video && width > 0 && height > 0 && (width != in->width || height != in->height))
    emit(c, VAST__R_PROBE_SIZE_MISMATCH, t, "the tag says %dx%d, the file is %dx%d", width, height,
         in->width, in->height);
  if (file_size > 0 && in->content_length >= 0 && file_size != in->content_length)
    emit(c, VAST__R_PROBE_FILESIZE_MISMATCH, t, "fileSize=\"%ld\" but the file has %lld bytes",
         file_size, (long long)in->content_length);
  if (t->mf && in->bit_rate > 0) {
    double kbps = (double)in->bit_rate / 1000.0, tol = c->o->bitrate_tolerance;
    const vast_media_file *m = t->mf;
    if (m->bitrate > 0 && fabs(kbps - m->bitrate) > tol * m->bitrate)
      emit(c, VAST__R_PROBE_BITRATE_MISMATCH, t,
           "the file averages %.0f kbit/s but bitrate=\"%d\" (tolerance %.0f%%)", kbps, m->bitrate,
           tol * 100);
    else if (m->bitrate <= 0 && ((m->min_bitrate > 0 && kbps < m->min_bitrate * (1 - tol)) ||
                                 (m->max_bitrate > 0 && kbps > m->max_bitrate * (1 + tol))))
      emit(c, VAST__R_PROBE_BITRATE_MISMATCH, t,
           "the file averages %.0f kbit/s, outside minBitrate=\"%d\" maxBitrate=\"%d\" (tolerance "
           "%.0f%%)",
           kbps, m->min_bitrate, m->max_bitrate, tol * 100);
  }
  int mp4 = !strcmp(in->container, "mp4") || !strcmp(in->container, "m4a") ||
            !strcmp(in->container, "mov");
  if (mp4 && in->fast_start == 0)
    emit(c, VAST__R_PROBE_NOT_FAST_START, t,
         "moov comes after mdat in this %s: the player must download all %lld bytes first",
         in->container, (long long)in->content_length);
  if (in->range_ignored)
    emit(c, VAST__R_PROBE_RANGE_IGNORED, t,
         "a range request got 200 with the whole body (%lld bytes): no seeking, no partial start",
         (long long)in->content_length);
  /* CTV: only the renditions meant for it (MP4 or HLS by type), only MediaFiles. */
  if (!t->mf || (strcmp(want, "mp4") && strcmp(want, "hls"))) return;
  int level = 0;
  if (in->video_level[0]) {
    int maj = 0, min = 0;
    if (sscanf(in->video_level, "%d.%d", &maj, &min) == 2) level = maj * 10 + min;
  }
  if (in->has_video && (strcmp(in->video_codec, "h264") || !h264_ctv_profile(in->video_profile)))
    emit(c, VAST__R_PROBE_CTV_CODEC, t, "video is %s%s%s; CTV players expect H.264 High or lower",
         in->video_codec, in->video_profile[0] ? " " : "", in->video_profile);
  if (in->has_audio && strcmp(in->audio_codec, "aac"))
    emit(c, VAST__R_PROBE_CTV_CODEC, t, "audio is %s; CTV players expect AAC", in->audio_codec);
  if (!mp4 && strcmp(in->container, "hls"))
    emit(c, VAST__R_PROBE_CTV_CODEC, t, "container is %s; CTV players expect MP4 or HLS",
         in->container);
  if (in->has_video && (in->width > CTV_MAX_W || in->height > CTV_MAX_H))
    emit(c, VAST__R_PROBE_CTV_CEILING, t, "%dx%d is above %dx%d", in->width, in->height, CTV_MAX_W,
         CTV_MAX_H);
  if (in->has_video && in->frame_rate > CTV_MAX_FPS + 0.01)
    emit(c, VAST__R_PROBE_CTV_CEILING, t, "%.3g fps is above %.0f fps", in->frame_rate,
         CTV_MAX_FPS);
  if (in->bit_rate > (int64_t)CTV_MAX_KBPS * 1000)
    emit(c, VAST__R_PROBE_CTV_CEILING, t, "%lld kbit/s is above %d kbit/s",
         (long long)(in->bit_rate / 1000), CTV_MAX_KBPS);
  if (!strcmp(in->video_codec, "h264") && level > CTV_MAX_H264_LEVEL)
    emit(c, VAST__R_PROBE_CTV_CEILING, t, "H.264 level %s is above 4.2", in->video_level);
}

/* The effective severity of each rule under vo (profile, disabled, minimum). */
static int severities(checker *c, const vast_validate_options *vo) {
  vast_validate_options def;
  if (!vo) {
    vast_validate_options_init(&def);
    vo = &def;
  }
  if ((unsigned)vo->profile >= VAST_PROFILE__COUNT) return -1;
  for (int r = 0; r < VAST__R__COUNT; r++) {
    vast_severity s = vast__rules[r].severity[vo->profile];
    if (s != VAST_SEV_OFF && s < vo->min_severity) s = VAST_SEV_OFF;
    c->sev[r] = (signed char)s;
  }
  for (size_t i = 0; i < vo->n_disabled; i++) {
    const vast_rule *ru = vast_rule_find(vo->disabled[i]);
    if (ru) c->sev[ru - vast__rules] = VAST_SEV_OFF;
  }
  return 0;
}

typedef struct tlist {
  target *v;
  size_t n, cap;
} tlist;

/* Adds the media of the InLine Linears of doc (via: reached through a Wrapper). */
static vast_err add_targets(tlist *tl, const vast_doc *doc, const char *base,
                            const vast_probe_check_opts *opts, const char *via, size_t wrapper_ad,
                            vast_pos wrapper_pos) {
  const vast_vast *vv = vast_doc_vast(doc);
  for (size_t a = 0; vv && a < vv->n_ads; a++) {
    const vast_ad *ad = &vv->ads[a];
    if (ad->kind != VAST_AD_INLINE) continue;
    for (size_t k = 0; k < ad->n_creatives; k++) {
      const vast_linear *l = ad->creatives[k].linear;
      if (ad->creatives[k].kind != VAST_CREATIVE_LINEAR || !l) continue;
      size_t nm = l->n_media_files + (opts->mezzanines ? l->n_mezzanines : 0);
      for (size_t m = 0; m < nm; m++) {
        int mz = m >= l->n_media_files;
        const vast_media_file *mf = mz ? NULL : &l->media_files[m];
        const vast_mezzanine *mzz = mz ? &l->mezzanines[m - l->n_media_files] : NULL;
        const char *u = mz ? mzz->url : mf->url;
        const char *type = mz ? mzz->type : mf->type;
        if (!u || !*u || is_dash(type)) continue;
        if (tl->n == tl->cap) {
          size_t cap = tl->cap ? tl->cap * 2 : 8;
          target *n = realloc(tl->v, cap * sizeof *n);
          if (!n) return VAST_E_NOMEM;
          tl->v = n;
          tl->cap = cap;
        }
        target *t = &tl->v[tl->n];
        memset(t, 0, sizeof *t);
        if (vast_url_resolve(base, u, &t->url, NULL) != VAST_OK && !(t->url = strdup(u)))
          return VAST_E_NOMEM;
        t->linear = l;
        t->mf = mf;
        t->mz = mzz;
        t->ad = a + 1;
        t->creative = k + 1;
        t->index = mz ? m - l->n_media_files + 1 : m + 1;
        t->via = via;
        t->wrapper_ad = wrapper_ad;
        t->wrapper_pos = wrapper_pos;
        tl->n++;
      }
    }
  }
  return VAST_OK;
}

vast_err vast_probe_check(const vast_doc *doc, const char *base, const vast_validate_options *vo,
                          const vast_probe_check_opts *opts, vast_findings *list) {
  if (!doc || !list) return VAST_E_INVAL;
  vast_probe_check_opts def;
  if (!opts) {
    vast_probe_check_opts_init(&def);
    opts = &def;
  }
  checker c;
  memset(&c, 0, sizeof c);
  c.list = list;
  c.o = opts;
  if (severities(&c, vo) != 0) return VAST_E_INVAL;
  tlist tl = {NULL, 0, 0};
  vast_err err = add_targets(&tl, doc, base, opts, NULL, 0, (vast_pos){0});
  /* With the chain (vo->chain): the InLines reached through this document's Wrappers. */
  const vast_chain *chain = vo ? vast__validate_chain_opt(vo) : NULL;
  const vast_vast *root = vast_doc_vast(doc);
  size_t nh = 0, na = 0;
  const vast_hop *hops = chain ? vast_chain_hops(chain, &nh) : NULL;
  const vast_resolved *ra = chain ? vast_chain_ads(chain, &na) : NULL;
  unsigned char *done = nh ? calloc(nh, 1) : NULL;
  if (nh && !done) err = VAST_E_NOMEM;
  /* The chain parsed its own copy of this document (hop 0): Ads match by index. */
  const vast_vast *croot = nh && hops[0].doc ? vast_doc_vast(hops[0].doc) : NULL;
  for (size_t i = 0; err == VAST_OK && root && croot && i < na; i++) {
    if (ra[i].n < 2 || ra[i].hops[0] != 0) continue;
    size_t h = ra[i].hops[ra[i].n - 1];
    const vast_ad *outer = ra[i].ads[0];
    if (h == 0 || h >= nh || done[h] || !hops[h].doc || outer < croot->ads ||
        outer >= croot->ads + croot->n_ads)
      continue;
    size_t ai = (size_t)(outer - croot->ads);
    if (ai >= root->n_ads) continue;
    done[h] = 1;
    err = add_targets(&tl, hops[h].doc, hops[h].url, opts, hops[h].url, ai + 1,
                      root->ads[ai].body_pos);
  }
  free(done);
  target *ts = tl.v;
  size_t nt = tl.n;
  const char **urls = err == VAST_OK ? calloc(nt + 1, sizeof *urls) : NULL;
  vast_media_info *infos = urls ? calloc(nt + 1, sizeof *infos) : NULL;
  vast_err *rcs = infos ? calloc(nt + 1, sizeof *rcs) : NULL;
  vast_error *errs = rcs ? calloc(nt + 1, sizeof *errs) : NULL;
  if (err == VAST_OK && !errs) err = VAST_E_NOMEM;
  if (err == VAST_OK) {
    for (size_t i = 0; i < nt; i++)
      urls[i] = ts[i].url;
    err = vast_media_probe_many(urls, nt, &opts->probe, opts->concurrency, infos, rcs, errs);
  }
  for (size_t i = 0; err == VAST_OK && i < nt; i++)
    check_one(&c, &ts[i], &infos[i], rcs[i], &errs[i]);
  if (err == VAST_OK && c.oom) err = VAST_E_NOMEM;
  for (size_t i = 0; i < nt; i++)
    free(ts[i].url);
  free(ts);
  free(urls);
  free(infos);
  free(rcs);
  free(errs);
  return err;
}

vast_err vast_audit_add_probe(vast_audit *a, const vast_findings *pf, size_t from) {
  if (!a || !pf) return VAST_E_INVAL;
  size_t counts[VAST__R__COUNT] = {0};
  for (size_t i = from; i < pf->n; i++) {
    const vast_finding *f = &pf->items[i];
    if (f->severity == VAST_SEV_ERROR)
      a->errors++;
    else if (f->severity == VAST_SEV_WARNING)
      a->warnings++;
    else
      a->infos++;
    if (f->rule->severity[VAST_PROFILE_CTV] == VAST_SEV_ERROR) {
      a->ctv_compatible = 0;
      size_t used = strlen(a->ctv_reason);
      if (!used)
        snprintf(a->ctv_reason, sizeof a->ctv_reason, "%s: %s", f->rule->id, f->message);
      else if (!strstr(a->ctv_reason, f->rule->id) &&
               used + strlen(f->rule->id) + 9 < sizeof a->ctv_reason)
        snprintf(a->ctv_reason + used, sizeof a->ctv_reason - used, "%s%s",
                 strstr(a->ctv_reason, "; also ") ? ", " : "; also ", f->rule->id);
    }
    counts[f->rule - vast__rules]++;
  }
  for (int sev = VAST_SEV_ERROR; sev >= VAST_SEV_INFO; sev--) {
    for (size_t i = from; i < pf->n; i++) {
      const vast_finding *f = &pf->items[i];
      size_t r = (size_t)(f->rule - vast__rules);
      if ((int)f->severity != sev || !counts[r]) continue;
      size_t used = strlen(a->issues);
      char item[80];
      snprintf(item, sizeof item, "%s%s(%zu)", used ? "; " : "", f->rule->id, counts[r]);
      counts[r] = 0;
      if (used + strlen(item) + 4 >= sizeof a->issues) {
        if (used + 4 < sizeof a->issues && strcmp(a->issues + (used >= 3 ? used - 3 : 0), "..."))
          strcat(a->issues, "...");
        return VAST_OK;
      }
      strcat(a->issues, item);
    }
  }
  return VAST_OK;
}
