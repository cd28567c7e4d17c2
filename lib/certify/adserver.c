/*
 * adserver.c: the test ad server's tags (vast_adserver_write). Every tracking
 * URL of a generated tag (Impression, Error, every Tracking event, clicks,
 * icons, the companion, ViewableImpression) is
 *
 *   BASE/t/<event>?sid=<session>&ad=<ad>&cr=<creative>&lv=<level>&ph=[ADPLAYHEAD]&ts=[TIMESTAMP]&cb=[CACHEBUSTING]
 *
 * (Error adds code=[ERRORCODE]), so the collector records it as an ordinary
 * hit and the conformance report (conformance.c) can read the player's
 * timeline back from the session's hits. Wrapper hops point at BASE/vast with
 * the same session and the next level; a VMAP's breaks point at BASE/vast with
 * the break's name. Deterministic: the same query, base and session give the
 * same bytes, so the report rebuilds what was served from the query alone.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certify/certify-int.h"
#include "collect/wire.h"

/* ---- parameters ---- */

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int vast__query_get(const char *q, size_t qn, const char *key, char *out, size_t cap) {
  size_t kl = strlen(key);
  const char *e = q ? q + qn : NULL;
  while (q && q < e) {
    const char *amp = memchr(q, '&', (size_t)(e - q));
    const char *pe = amp ? amp : e;
    if ((size_t)(pe - q) >= kl && !memcmp(q, key, kl) && (q + kl == pe || q[kl] == '=')) {
      const char *v = q + kl == pe ? pe : q + kl + 1;
      size_t o = 0;
      for (; v < pe && o + 1 < cap; v++) {
        if (*v == '%' && v + 2 < pe && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
          out[o++] = (char)(hexval(v[1]) * 16 + hexval(v[2]));
          v += 2;
        } else {
          out[o++] = *v == '+' ? ' ' : *v;
        }
      }
      if (cap) out[o] = 0;
      return 1;
    }
    q = amp ? amp + 1 : NULL;
  }
  if (cap) out[0] = 0;
  return 0;
}

/* Seconds with up to 3 decimals into ms; -1 when malformed or above max_s. */
static long parse_secs(const char *s, long max_s) {
  char *end;
  double d = strtod(s, &end);
  if (end == s || *end || !(d >= 0) || d > (double)max_s) return -1;
  return (long)(d * 1000.0 + 0.5);
}

static int parse_int(const char *s, int lo, int hi) {
  char *end;
  long v = strtol(s, &end, 10);
  if (end == s || *end || v < lo || v > hi) return -1;
  return (int)v;
}

int vast__adspec_parse(const char *q, size_t qn, vast__adspec *s, char *msg, size_t cap) {
  char v[1100];
  memset(s, 0, sizeof *s);
  strcpy(s->version, "4.2");
  s->dur_ms = 10000;
  s->skip_ms = -1;
  s->pod = 1;
  s->content_ms = 60000;
  if (vast__query_get(q, qn, "v", v, sizeof v)) {
    static const char *const ok[] = {"2.0", "3.0", "4.0", "4.1", "4.2", "4.3"};
    size_t i = 0;
    while (i < 6 && strcmp(v, ok[i]))
      i++;
    if (i == 6) {
      snprintf(msg, cap, "v: VAST version 2.0, 3.0, 4.0, 4.1, 4.2 or 4.3");
      return -1;
    }
    strcpy(s->version, ok[i]);
  }
  if (vast__query_get(q, qn, "dur", v, sizeof v) && ((s->dur_ms = parse_secs(v, 3600)) < 1000)) {
    snprintf(msg, cap, "dur: seconds from 1 to 3600");
    return -1;
  }
  if (vast__query_get(q, qn, "skip", v, sizeof v) &&
      ((s->skip_ms = parse_secs(v, 3600)) < 0 || s->skip_ms >= s->dur_ms)) {
    snprintf(msg, cap, "skip: seconds, less than dur");
    return -1;
  }
  if (vast__query_get(q, qn, "pod", v, sizeof v) && (s->pod = parse_int(v, 1, 10)) < 0) {
    snprintf(msg, cap, "pod: 1 to 10 ads");
    return -1;
  }
  if (vast__query_get(q, qn, "wrapper", v, sizeof v) && (s->wrapper = parse_int(v, 0, 5)) < 0) {
    snprintf(msg, cap, "wrapper: 0 to 5 hops");
    return -1;
  }
  if (vast__query_get(q, qn, "lv", v, sizeof v) && (s->lv = parse_int(v, 0, 5)) < 0) {
    snprintf(msg, cap, "lv: 0 to 5");
    return -1;
  }
  if (vast__query_get(q, qn, "fail", v, sizeof v)) {
    if (!strcmp(v, "noad"))
      s->fail = VAST__FAIL_NOAD;
    else if (!strcmp(v, "xml"))
      s->fail = VAST__FAIL_XML;
    else if (!strcmp(v, "http"))
      s->fail = VAST__FAIL_HTTP;
    else {
      snprintf(msg, cap, "fail: noad, xml or http");
      return -1;
    }
  }
  if (vast__query_get(q, qn, "content", v, sizeof v) &&
      ((s->content_ms = parse_secs(v, 86400)) < 2000)) {
    snprintf(msg, cap, "content: seconds from 2 to 86400");
    return -1;
  }
  if (vast__query_get(q, qn, "media", s->media, sizeof s->media)) {
    if (strncmp(s->media, "http://", 7) && strncmp(s->media, "https://", 8)) {
      snprintf(msg, cap, "media: an http(s) URL");
      return -1;
    }
    for (const char *p = s->media; *p; p++)
      if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' || *p == '"' ||
          (p[0] == ']' && p[1] == ']')) {
        snprintf(msg, cap, "media: the URL holds a space, control character, <, >, \" or ]]");
        return -1;
      }
  }
  if (vast__query_get(q, qn, "brk", v, sizeof v)) {
    if (strcmp(v, "pre") && strcmp(v, "mid") && strcmp(v, "post")) {
      snprintf(msg, cap, "brk: pre, mid or post");
      return -1;
    }
    strcpy(s->brk, v);
  }
  if (s->pod > 1 && s->wrapper > 0) {
    snprintf(msg, cap, "a pod (pod > 1) cannot be behind wrappers here: use one or the other");
    return -1;
  }
  if ((s->fail == VAST__FAIL_XML || s->fail == VAST__FAIL_HTTP) && !s->wrapper && !s->lv) {
    snprintf(msg, cap,
             "fail=xml and fail=http need wrapper=1 or more: the player reports them "
             "on the Wrapper's Error URL");
    return -1;
  }
  if (s->fail == VAST__FAIL_NOAD && s->version[0] == '2') {
    snprintf(msg, cap, "fail=noad needs VAST 3.0 or later (a root <Error>)");
    return -1;
  }
  return 0;
}

void vast__adspec_ad_id(const vast__adspec *s, int i, char *out, size_t cap) {
  if (s->brk[0])
    snprintf(out, cap, "%s-a%d", s->brk, i);
  else
    snprintf(out, cap, "a%d", i);
}

int vast__adspec_expected_error(const vast__adspec *s) {
  switch (s->fail) {
  case VAST__FAIL_NOAD:
    return 303;
  case VAST__FAIL_XML:
    return 100;
  case VAST__FAIL_HTTP:
    return 301;
  default:
    return 0;
  }
}

int vast_session_id_valid(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > 64) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-'))
      return 0;
  }
  return 1;
}

/* ---- writing ---- */

typedef struct aw {
  vast_write_fn write;
  void *ctx;
  vast_err err;
  const char *base, *sid;
  const vast__adspec *s;
  int major, minor;
} aw;

static void put(aw *w, const char *str) {
  if (!w->err && w->write(w->ctx, str, strlen(str))) w->err = VAST_E_IO;
}

static void putf(aw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(aw *w, const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof buf) {
    if (!w->err) w->err = VAST_E_LIMIT;
    return;
  }
  put(w, buf);
}

/* The tracking URL of event for ad/creative at level lv, inside CDATA. */
static void turl(aw *w, const char *event, const char *ad, const char *cr) {
  putf(w, "<![CDATA[%s" VAST__WIRE_PREFIX "%s?sid=%s&ad=%s&cr=%s&lv=%d", w->base, event, w->sid, ad,
       cr, w->s->lv);
  if (!strcmp(event, "error") && w->major >= 3) put(w, "&code=[ERRORCODE]");
  if (w->major >= 4) put(w, "&ph=[ADPLAYHEAD]");
  if (w->major >= 3) put(w, "&ts=[TIMESTAMP]");
  put(w, "&cb=[CACHEBUSTING]]]>");
}

static void tracking(aw *w, const char *event, const char *ad, const char *cr, const char *offset) {
  if (offset)
    putf(w, "            <Tracking event=\"%s\" offset=\"%s\">", event, offset);
  else
    putf(w, "            <Tracking event=\"%s\">", event);
  turl(w, event, ad, cr);
  put(w, "</Tracking>\n");
}

static void hms(long ms, char *out, size_t cap) {
  snprintf(out, cap, "%02ld:%02ld:%02ld.%03ld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
           ms % 1000);
}

/* The linear events the generated tags carry, by the version that defines them. */
static void linear_events(aw *w, const char *ad, const char *cr, int wrapper) {
  static const char *const base_ev[] = {
      "creativeView", "start",      "firstQuartile",  "midpoint",   "thirdQuartile",
      "complete",     "mute",       "unmute",         "pause",      "resume",
      "rewind",       "fullscreen", "exitFullscreen", "closeLinear"};
  static const char *const v4_ev[] = {"loaded", "playerExpand", "playerCollapse",
                                      "otherAdInteraction"};
  put(w, "          <TrackingEvents>\n");
  for (size_t i = 0; i < sizeof base_ev / sizeof *base_ev; i++) {
    const char *e = base_ev[i];
    if (w->major >= 4 && (!strcmp(e, "fullscreen") || !strcmp(e, "exitFullscreen"))) continue;
    if (w->major >= 4 && !strcmp(e, "creativeView")) continue;
    if (w->major < 3 && (!strcmp(e, "exitFullscreen") || !strcmp(e, "closeLinear"))) continue;
    tracking(w, e, ad, cr, NULL);
  }
  if (w->major >= 4)
    for (size_t i = 0; i < sizeof v4_ev / sizeof *v4_ev; i++)
      tracking(w, v4_ev[i], ad, cr, NULL);
  if (!wrapper && w->s->skip_ms >= 0 && w->major >= 3) tracking(w, "skip", ad, cr, NULL);
  if (!wrapper && w->major >= 3) {
    char off[32];
    hms(w->s->dur_ms / 2, off, sizeof off);
    tracking(w, "progress", ad, cr, off);
  }
  put(w, "          </TrackingEvents>\n");
}

static void clicks(aw *w, const char *ad, const char *cr, int wrapper) {
  put(w, "          <VideoClicks>\n");
  if (!wrapper)
    put(w, "            <ClickThrough id=\"landing\"><![CDATA[https://www.example.com/landing]]>"
           "</ClickThrough>\n");
  put(w, "            <ClickTracking id=\"click\">");
  turl(w, "click", ad, cr);
  put(w, "</ClickTracking>\n          </VideoClicks>\n");
}

static void ad_head(aw *w, const char *ad) {
  put(w, "    <AdSystem version=\"" VAST_VERSION_STRING "\">vastrack test ad server</AdSystem>\n");
  put(w, "    <Error>");
  turl(w, "error", ad, "-");
  put(w, "</Error>\n    <Impression id=\"imp\">");
  turl(w, "impression", ad, "-");
  put(w, "</Impression>\n");
}

static void viewable(aw *w, const char *ad) {
  if (w->major < 4) return;
  static const char *const el[3] = {"Viewable", "NotViewable", "ViewUndetermined"};
  put(w, "    <ViewableImpression id=\"view\">\n");
  for (int i = 0; i < 3; i++) {
    putf(w, "      <%s>", el[i]);
    turl(w, el[i], ad, "-");
    putf(w, "</%s>\n", el[i]);
  }
  put(w, "    </ViewableImpression>\n");
}

static void inline_ad(aw *w, int i) {
  const vast__adspec *s = w->s;
  char ad[40], cr[48], dur[32], skip[48] = "";
  vast__adspec_ad_id(s, i, ad, sizeof ad);
  snprintf(cr, sizeof cr, "%s-c", ad);
  hms(s->dur_ms, dur, sizeof dur);
  if (s->skip_ms >= 0 && w->major >= 3) {
    char t[32];
    hms(s->skip_ms, t, sizeof t);
    snprintf(skip, sizeof skip, " skipoffset=\"%s\"", t);
  }
  if (s->pod > 1)
    putf(w, "  <Ad id=\"%s\" sequence=\"%d\">\n  <InLine>\n", ad, i);
  else
    putf(w, "  <Ad id=\"%s\">\n  <InLine>\n", ad);
  ad_head(w, ad);
  if (w->major > 4 || (w->major == 4 && w->minor >= 1))
    putf(w, "    <AdServingId>%s-%s</AdServingId>\n", w->sid, ad);
  putf(w, "    <AdTitle>vastrack test ad %s</AdTitle>\n", ad);
  viewable(w, ad);
  put(w, "    <Creatives>\n");
  putf(w, "      <Creative id=\"%s\" sequence=\"1\" adId=\"%s\">\n", cr, ad);
  if (w->major >= 4)
    putf(w, "        <UniversalAdId idRegistry=\"vastrack\">%s</UniversalAdId>\n", cr);
  putf(w, "        <Linear%s>\n          <Duration>%s</Duration>\n", skip, dur);
  linear_events(w, ad, cr, 0);
  clicks(w, ad, cr, 0);
  size_t ml = strlen(s->media);
  int webm = ml > 5 && !strcmp(s->media + ml - 5, ".webm");
  put(w, webm ? "          <MediaFiles>\n"
                "            <MediaFile id=\"webm\" delivery=\"progressive\" type=\"video/webm\" "
              : "          <MediaFiles>\n"
                "            <MediaFile id=\"mp4\" delivery=\"progressive\" type=\"video/mp4\" ");
  put(w, "width=\"640\" height=\"360\" bitrate=\"500\" scalable=\"true\" "
         "maintainAspectRatio=\"true\"><![CDATA[");
  put(w, s->media[0] ? s->media : "https://media.example.com/vastrack-test-ad.mp4");
  put(w, "]]></MediaFile>\n          </MediaFiles>\n");
  if (w->major >= 3) {
    put(w,
        "          <Icons>\n"
        "            <Icon program=\"AdChoices\" width=\"20\" height=\"20\" xPosition=\"right\" "
        "yPosition=\"top\">\n"
        "              <StaticResource creativeType=\"image/png\"><![CDATA[https://www.example."
        "com/adchoices.png]]></StaticResource>\n"
        "              <IconClicks><IconClickThrough><![CDATA[https://www.example.com/adchoices]]>"
        "</IconClickThrough><IconClickTracking>");
    turl(w, "iconClick", ad, cr);
    put(w, "</IconClickTracking></IconClicks>\n              <IconViewTracking>");
    turl(w, "iconView", ad, cr);
    put(w, "</IconViewTracking>\n            </Icon>\n          </Icons>\n");
  }
  put(w, "        </Linear>\n      </Creative>\n");
  putf(w, "      <Creative id=\"%s-companion\" sequence=\"1\">\n", ad);
  if (w->major >= 4)
    putf(w, "        <UniversalAdId idRegistry=\"vastrack\">%s-companion</UniversalAdId>\n", ad);
  put(w, "        <CompanionAds>\n"
         "          <Companion id=\"comp\" width=\"300\" height=\"250\">\n"
         "            <StaticResource creativeType=\"image/png\"><![CDATA[https://www.example.com/"
         "companion.png]]></StaticResource>\n"
         "            <TrackingEvents><Tracking event=\"creativeView\">");
  turl(w, "companionView", ad, cr);
  put(w, "</Tracking></TrackingEvents>\n"
         "            <CompanionClickThrough><![CDATA[https://www.example.com/landing]]>"
         "</CompanionClickThrough>\n"
         "            <CompanionClickTracking>");
  turl(w, "companionClick", ad, cr);
  put(w, "</CompanionClickTracking>\n          </Companion>\n        </CompanionAds>\n"
         "      </Creative>\n    </Creatives>\n  </InLine>\n  </Ad>\n");
}

/* Percent-encodes s for a query value. */
static void qenc(const char *s, char *out, size_t cap) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (; *s && o + 4 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out[o++] = (char)c;
    } else {
      out[o++] = '%';
      out[o++] = hex[c >> 4];
      out[o++] = hex[c & 15];
    }
  }
  out[o] = 0;
}

/* The query of a hop with s's parameters, the given wrapper count and level. */
static void hop_query(const vast__adspec *s, int wrapper, int lv, const char *brk, const char *amp,
                      char *out, size_t cap) {
  char media[3200] = "";
  if (s->media[0]) {
    char e[3100];
    qenc(s->media, e, sizeof e);
    snprintf(media, sizeof media, "%smedia=%s", amp, e);
  }
  static const char *const fails[] = {"", "noad", "xml", "http"};
  char skip[32] = "", fail[16] = "", b[24] = "";
  if (s->skip_ms >= 0) snprintf(skip, sizeof skip, "%sskip=%.3f", amp, (double)s->skip_ms / 1000);
  if (s->fail) snprintf(fail, sizeof fail, "%sfail=%s", amp, fails[s->fail]);
  if (brk && brk[0]) snprintf(b, sizeof b, "%sbrk=%s", amp, brk);
  snprintf(out, cap, "v=%s%sdur=%.3f%spod=%d%swrapper=%d%slv=%d%s%s%s%s", s->version, amp,
           (double)s->dur_ms / 1000, amp, s->pod, amp, wrapper, amp, lv, skip, fail, b, media);
}

static void wrapper_ad(aw *w) {
  const vast__adspec *s = w->s;
  char ad[40], cr[48], q[4096];
  vast__adspec_ad_id(s, 1, ad, sizeof ad);
  snprintf(cr, sizeof cr, "%s-c", ad);
  hop_query(s, s->wrapper - 1, s->lv + 1, s->brk, "&amp;", q, sizeof q);
  putf(w, "  <Ad id=\"%s-w%d\">\n  <Wrapper>\n", ad, s->lv);
  ad_head(w, ad);
  viewable(w, ad);
  putf(w, "    <VASTAdTagURI>%s/vast?sid=%s&amp;%s</VASTAdTagURI>\n", w->base, w->sid, q);
  putf(w, "    <Creatives>\n      <Creative id=\"%s-w%d\">\n        <Linear>\n", cr, s->lv);
  linear_events(w, ad, cr, 1);
  clicks(w, ad, cr, 1);
  put(w, "        </Linear>\n      </Creative>\n    </Creatives>\n  </Wrapper>\n  </Ad>\n");
}

static void vmap(aw *w) {
  const vast__adspec *s = w->s;
  static const char *const names[3] = {"pre", "mid", "post"};
  char mid[32];
  hms(s->content_ms / 2, mid, sizeof mid);
  const char *offs[3] = {"start", mid, "end"};
  put(w, "<vmap:VMAP xmlns:vmap=\"http://www.iab.net/videosuite/vmap\" version=\"1.0\">\n");
  for (int i = 0; i < 3; i++) {
    char q[4096];
    hop_query(s, s->wrapper, 0, names[i], "&", q, sizeof q);
    putf(w,
         "  <vmap:AdBreak timeOffset=\"%s\" breakType=\"linear\" breakId=\"%s\">\n"
         "    <vmap:AdSource id=\"%s\" allowMultipleAds=\"%s\" followRedirects=\"true\">\n"
         "      <vmap:AdTagURI templateType=\"vast%c\"><![CDATA[%s/vast?sid=%s&",
         offs[i], names[i], names[i], s->pod > 1 ? "true" : "false", s->version[0], w->base,
         w->sid);
    put(w, q);
    put(w, "]]></vmap:AdTagURI>\n    </vmap:AdSource>\n  </vmap:AdBreak>\n");
  }
  put(w, "</vmap:VMAP>\n");
}

vast_err vast_adserver_write(vast_adserver_kind kind, const char *base, const char *sid,
                             const char *query, vast_write_fn write, void *ctx, int *status,
                             char *msg, size_t msgcap) {
  if (msgcap) msg[0] = 0;
  if (status) *status = 200;
  if (!base || !write || !vast_session_id_valid(sid) || strstr(base, "]]") ||
      (strncmp(base, "http://", 7) && strncmp(base, "https://", 8))) {
    snprintf(msg, msgcap,
             "a base http(s) URL and a session id of 1-64 characters A-Za-z0-9_.- "
             "are needed");
    return VAST_E_INVAL;
  }
  vast__adspec s;
  if (vast__adspec_parse(query, query ? strlen(query) : 0, &s, msg, msgcap)) return VAST_E_INVAL;
  aw w = {write, ctx, VAST_OK, base, sid, &s, s.version[0] - '0', s.version[2] - '0'};
  if (kind == VAST_ADSERVER_VAST && s.wrapper == 0 && s.fail == VAST__FAIL_HTTP) {
    if (status) *status = 404;
    put(&w, "no ad here (fail=http)\n");
    return w.err;
  }
  put(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  if (kind == VAST_ADSERVER_VMAP) {
    vmap(&w);
    return w.err;
  }
  if (s.wrapper == 0 && s.fail == VAST__FAIL_XML) {
    put(&w, "<VAST version=\"");
    put(&w, s.version);
    put(&w, "\"><Ad id=\"broken\"><InLine><AdTitle>unterminated</InLine></VAST>\n");
    return w.err;
  }
  putf(&w, "<VAST version=\"%s\"%s>\n", s.version,
       w.major >= 4 ? " xmlns=\"http://www.iab.com/VAST\"" : "");
  if (s.wrapper > 0) {
    wrapper_ad(&w);
  } else if (s.fail == VAST__FAIL_NOAD) {
    char ad[40];
    vast__adspec_ad_id(&s, 1, ad, sizeof ad);
    put(&w, "  <Error>");
    turl(&w, "error", ad, "-");
    put(&w, "</Error>\n");
  } else {
    for (int i = 1; i <= s.pod; i++)
      inline_ad(&w, i);
  }
  put(&w, "</VAST>\n");
  return w.err;
}
