/*
 * tap.c: the beacon tap. vast_tap_rewrite takes one level of a real tag and
 * points every tracking URL (Impression, Error, Tracking, ClickTracking,
 * IconClickTracking, IconViewTracking, CompanionClickTracking,
 * NonLinearClickTracking, Viewable, NotViewable, ViewUndetermined) at the
 * collector's /r/ route, and the Wrapper's VASTAdTagURI at its /tap route, so
 * the next level is tapped too when the player follows the chain:
 *
 *   BASE/r/<session>/<event>?ad=<Ad id>&lv=<level>[&d=<ms>][&so=<ms>]&u=<original URL>
 *   BASE/tap?sid=<session>&lv=<level+1>&ad=<Ad id>&url=<original VASTAdTagURI>
 *
 * A level with one Ad, reached from a Wrapper, takes the Wrapper's ad id
 * (chain_ad), so one ad's beacons of every level group together.
 * The original URL is the last parameter and is written verbatim, not
 * percent-encoded: the player substitutes its macros ([ADPLAYHEAD],
 * [ERRORCODE]...) in it exactly as it would have in the original, and the
 * collector redirects to what follows "u=" byte for byte. d and so carry the
 * ad's Duration and skipoffset (ms) for the conformance report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "certify/certify-int.h"

typedef struct tw {
  vast_write_fn write;
  void *ctx;
  int fail;
} tw;

static void out(tw *t, const char *p, size_t n) {
  if (!t->fail && n && t->write(t->ctx, p, n)) t->fail = 1;
}
static void outs(tw *t, const char *s) {
  out(t, s, strlen(s));
}

/* Element names whose text is a tracking URL, and the event they stand for. */
static const struct {
  const char *el, *event;
} TRACKERS[] = {{"Impression", "impression"},
                {"Error", "error"},
                {"Tracking", NULL}, /* its event attribute */
                {"ClickTracking", "click"},
                {"IconClickTracking", "iconClick"},
                {"IconViewTracking", "iconView"},
                {"CompanionClickTracking", "companionClick"},
                {"NonLinearClickTracking", "nonLinearClick"},
                {"Viewable", "Viewable"},
                {"NotViewable", "NotViewable"},
                {"ViewUndetermined", "ViewUndetermined"}};
#define NTRACKERS (sizeof TRACKERS / sizeof *TRACKERS)

/* The element name at p (after '<'), its length. */
static size_t name_len(const char *p, const char *e) {
  size_t n = 0;
  while (p + n < e && p[n] != ' ' && p[n] != '>' && p[n] != '/' && p[n] != '\t' && p[n] != '\n' &&
         p[n] != '\r')
    n++;
  return n;
}

/* The value of attribute a in the start tag [p, e) into out. */
static int attr(const char *p, const char *e, const char *a, char *o, size_t cap) {
  size_t al = strlen(a);
  for (const char *q = p; q + al + 2 < e; q++) {
    if ((q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\n' || q[-1] == '\r') && !memcmp(q, a, al) &&
        q[al] == '=' && (q[al + 1] == '"' || q[al + 1] == '\'')) {
      char quote = q[al + 1];
      const char *v = q + al + 2, *ve = memchr(v, quote, (size_t)(e - v));
      if (!ve) return 0;
      size_t n = (size_t)(ve - v) < cap - 1 ? (size_t)(ve - v) : cap - 1;
      memcpy(o, v, n);
      o[n] = 0;
      return 1;
    }
  }
  return 0;
}

/* HH:MM:SS(.mmm) to ms, -1 otherwise. */
static long tc_ms(const char *s) {
  unsigned h, m, sec, ms = 0;
  int n = 0;
  while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
    s++;
  if (sscanf(s, "%u:%u:%u%n", &h, &m, &sec, &n) != 3) return -1;
  if (s[n] == '.') {
    unsigned scale = 100;
    for (const char *p = s + n + 1; *p >= '0' && *p <= '9'; p++, scale /= 10)
      ms += (unsigned)(*p - '0') * scale;
  }
  return (long)h * 3600000 + (long)m * 60000 + (long)sec * 1000 + (long)ms;
}

/* The text content [p, e) as a URL: CDATA unwrapped, entities decoded, trimmed. */
static char *content_url(const char *p, const char *e) {
  char *o = malloc((size_t)(e - p) + 1);
  if (!o) return NULL;
  size_t n = 0;
  while (p < e) {
    if (!strncmp(p, "<![CDATA[", 9)) {
      const char *ce = strstr(p + 9, "]]>");
      if (!ce || ce > e) break;
      memcpy(o + n, p + 9, (size_t)(ce - p - 9));
      n += (size_t)(ce - p - 9);
      p = ce + 3;
    } else if (*p == '&') {
      static const struct {
        const char *ent;
        char c;
      } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
      size_t i = 0;
      while (i < 5 && strncmp(p, ents[i].ent, strlen(ents[i].ent)))
        i++;
      if (i == 5) {
        o[n++] = *p++;
      } else {
        o[n++] = ents[i].c;
        p += strlen(ents[i].ent);
      }
    } else {
      o[n++] = *p++;
    }
  }
  o[n] = 0;
  char *s = o;
  while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
    s++;
  size_t l = strlen(s);
  while (l && (s[l - 1] == ' ' || s[l - 1] == '\n' || s[l - 1] == '\t' || s[l - 1] == '\r'))
    s[--l] = 0;
  memmove(o, s, l + 1);
  return o;
}

static int url_ok(const char *u) {
  if (strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8)) return 0;
  if (strstr(u, "]]>")) return 0;
  for (const char *p = u; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) return 0;
  return 1;
}

/* An event name the collector accepts: [A-Za-z0-9_.-], 1-47 characters. */
static void event_safe(const char *e, char *o, size_t cap) {
  size_t n = 0;
  for (; *e && n + 1 < cap && n < 47; e++) {
    char c = *e;
    o[n++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == '.' || c == '-'
                 ? c
                 : '_';
  }
  if (!n) o[n++] = '_';
  o[n] = 0;
}

/* Percent-encodes s into o for a query value (ad ids). */
static void qenc(const char *s, char *o, size_t cap) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;
  for (; *s && n + 4 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      o[n++] = (char)c;
    } else {
      o[n++] = '%';
      o[n++] = hex[c >> 4];
      o[n++] = hex[c & 15];
    }
  }
  o[n] = 0;
}

vast_err vast_tap_rewrite(const char *xml, size_t len, const char *doc_url, const char *base,
                          const char *sid, int level, const char *chain_ad, vast_write_fn write,
                          void *ctx, size_t *rewritten, char *msg, size_t msgcap) {
  if (msgcap) msg[0] = 0;
  if (rewritten) *rewritten = 0;
  if (!xml || !base || !write || !vast_session_id_valid(sid) || level < 0 || level > 15) {
    snprintf(msg, msgcap, "a document, a base URL, a session id and a level 0-15 are needed");
    return VAST_E_INVAL;
  }
  tw t = {write, ctx, 0};
  const char *p = xml, *e = xml + len, *copied = xml;
  char ad[128] = "", adq[400] = "", dq[64] = "";
  int nad = 0, ads = 0;
  size_t count = 0;
  for (const char *q = xml; q && q + 4 < e && (q = strstr(q, "<Ad")); q += 3)
    if (q[3] == ' ' || q[3] == '>' || q[3] == '\n' || q[3] == '\t' || q[3] == '\r') ads++;
  while (p < e && (p = memchr(p, '<', (size_t)(e - p)))) {
    if (!strncmp(p, "<!--", 4)) {
      const char *ce = strstr(p, "-->");
      p = ce ? ce + 3 : e;
      continue;
    }
    if (!strncmp(p, "<![CDATA[", 9)) {
      const char *ce = strstr(p, "]]>");
      p = ce ? ce + 3 : e;
      continue;
    }
    const char *nm = p + 1;
    size_t nl = name_len(nm, e);
    const char *gt = memchr(p, '>', (size_t)(e - p));
    if (!gt) break;
    if (nl == 2 && !memcmp(nm, "Ad", 2)) {
      nad++;
      if (chain_ad && chain_ad[0] && ads == 1)
        snprintf(ad, sizeof ad, "%s", chain_ad);
      else if (!attr(nm, gt, "id", ad, sizeof ad) || !ad[0])
        snprintf(ad, sizeof ad, "ad%d", nad);
      qenc(ad, adq, sizeof adq);
      /* Duration and skipoffset of this Ad, for the report */
      dq[0] = 0;
      const char *ae = strstr(gt, "</Ad>");
      if (!ae || ae > e) ae = e;
      const char *du = strstr(gt, "<Duration>");
      if (du && du < ae) {
        long ms = tc_ms(du + 10);
        if (ms > 0) snprintf(dq, sizeof dq, "&d=%ld", ms);
      }
      const char *li = strstr(gt, "<Linear ");
      char so[32];
      if (li && li < ae) {
        const char *lg = memchr(li, '>', (size_t)(ae - li));
        if (lg && attr(li + 1, lg, "skipoffset", so, sizeof so) && tc_ms(so) >= 0)
          snprintf(dq + strlen(dq), sizeof dq - strlen(dq), "&so=%ld", tc_ms(so));
      }
      p = gt + 1;
      continue;
    }
    const char *event = NULL;
    char evbuf[64];
    int adtag = nl == 12 && !memcmp(nm, "VASTAdTagURI", 12);
    for (size_t i = 0; i < NTRACKERS && !event && !adtag; i++) {
      if (strlen(TRACKERS[i].el) != nl || memcmp(nm, TRACKERS[i].el, nl)) continue;
      if (TRACKERS[i].event) {
        event = TRACKERS[i].event;
      } else {
        char ev[64];
        if (!attr(nm, gt, "event", ev, sizeof ev)) break;
        event_safe(ev, evbuf, sizeof evbuf);
        event = evbuf;
      }
    }
    if ((!event && !adtag) || gt[-1] == '/') {
      p = gt + 1;
      continue;
    }
    /* the element's text up to its end tag */
    char endtag[64];
    snprintf(endtag, sizeof endtag, "</%.*s>", (int)nl, nm);
    const char *ce = gt + 1, *end = NULL;
    while (ce < e) {
      if (!strncmp(ce, "<![CDATA[", 9)) {
        const char *x = strstr(ce, "]]>");
        if (!x) break;
        ce = x + 3;
      } else if (!strncmp(ce, endtag, strlen(endtag))) {
        end = ce;
        break;
      } else if (*ce == '<') {
        break; /* child elements: not a URL element */
      } else {
        ce++;
      }
    }
    if (!end) {
      p = gt + 1;
      continue;
    }
    char *u = content_url(gt + 1, end);
    if (!u) return VAST_E_NOMEM;
    char *abs = NULL;
    if (adtag && !url_ok(u) && doc_url && vast_url_resolve(doc_url, u, &abs, NULL) == VAST_OK) {
      free(u);
      u = abs;
    }
    if (url_ok(u)) {
      out(&t, copied, (size_t)(gt + 1 - copied));
      char head[1024];
      if (adtag)
        snprintf(head, sizeof head, "<![CDATA[%s/tap?sid=%s&lv=%d&ad=%.300s&url=", base, sid,
                 level + 1, adq);
      else
        snprintf(head, sizeof head, "<![CDATA[%s/r/%s/%s?ad=%s&lv=%d%s&u=", base, sid, event, adq,
                 level, dq);
      outs(&t, head);
      outs(&t, u);
      outs(&t, "]]>");
      copied = end;
      count++;
    }
    free(u);
    p = end;
  }
  out(&t, copied, (size_t)(e - copied));
  if (rewritten) *rewritten = count;
  return t.fail ? VAST_E_IO : VAST_OK;
}
