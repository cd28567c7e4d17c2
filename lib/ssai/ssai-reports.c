/*
 * ssai-reports.c: the fast reader of a batch of consumption reports, the
 * body a stitcher sends ten times a second with thousands of reports in it:
 *
 *   {"reports":[{"sessionId":"s1","ad":0,"mediaTime":12.5,"wallTime":...},
 *               {"sessionId":"s2","ad":1,"segment":3,"segmentDuration":2}, ...]}
 *
 * jansson builds a tree of allocated values for that (five allocations a
 * report, most of the service's time at 100,000 sessions); this reads it in
 * place. It accepts only a plain subset of JSON whose meaning is not in
 * doubt: the one "reports" key, objects with the report keys each at most
 * once, strings without escapes or bytes past ASCII, numbers in RFC 8259's
 * grammar, null. Anything else (another key, an escape, a duplicate, a
 * malformed byte) returns 0 and the caller reads the body with jansson,
 * which reads it or says what is wrong with it: the answer is the same
 * either way, only slower.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssai/ssai-int.h"

typedef struct rd {
  const char *p, *e;
} rd;

static void ws(rd *r) {
  while (r->p < r->e && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
    r->p++;
}

static int lit(rd *r, char c) {
  ws(r);
  if (r->p < r->e && *r->p == c) {
    r->p++;
    return 1;
  }
  return 0;
}

/* A string of printable ASCII without escapes: its bytes (not terminated). */
static int str(rd *r, const char **s, size_t *n) {
  ws(r);
  if (r->p >= r->e || *r->p != '"') return 0;
  const char *b = ++r->p;
  while (r->p < r->e && *r->p != '"') {
    unsigned char c = (unsigned char)*r->p;
    if (c < 0x20 || c >= 0x7f || c == '\\') return 0;
    r->p++;
  }
  if (r->p >= r->e) return 0;
  *s = b;
  *n = (size_t)(r->p - b);
  r->p++;
  return 1;
}

/* A number in RFC 8259's grammar (finite), or null (*isnull). */
static int num(rd *r, double *v, int *isnull) {
  ws(r);
  *isnull = 0;
  if (r->e - r->p >= 4 && !memcmp(r->p, "null", 4)) {
    r->p += 4;
    *isnull = 1;
    return 1;
  }
  const char *b = r->p, *q = r->p;
  if (q < r->e && *q == '-') q++;
  if (q >= r->e) return 0;
  if (*q == '0') {
    q++;
  } else if (*q >= '1' && *q <= '9') {
    while (q < r->e && *q >= '0' && *q <= '9')
      q++;
  } else {
    return 0;
  }
  if (q < r->e && *q == '.') {
    q++;
    if (q >= r->e || *q < '0' || *q > '9') return 0;
    while (q < r->e && *q >= '0' && *q <= '9')
      q++;
  }
  if (q < r->e && (*q == 'e' || *q == 'E')) {
    q++;
    if (q < r->e && (*q == '+' || *q == '-')) q++;
    if (q >= r->e || *q < '0' || *q > '9') return 0;
    while (q < r->e && *q >= '0' && *q <= '9')
      q++;
  }
  char tmp[64];
  if ((size_t)(q - b) >= sizeof tmp) return 0;
  memcpy(tmp, b, (size_t)(q - b));
  tmp[q - b] = 0;
  *v = strtod(tmp, NULL);
  if (!isfinite(*v)) return 0; /* jansson refuses an overflow: let it say so */
  r->p = q;
  return 1;
}

enum { K_SID, K_AD, K_MEDIA, K_WALL, K_SEG, K_SEGDUR, K_N };
static const char *const keys[K_N] = {"sessionId", "ad",      "mediaTime",
                                      "wallTime",  "segment", "segmentDuration"};

/* One report object into *o; 0 when it is not of the plain shape. */
static int report(rd *r, vast__ssai_rep *o) {
  if (!lit(r, '{')) return 0;
  unsigned seen = 0, isnum = 0;
  double v[K_N] = {0};
  o->sid = NULL;
  o->sid_n = 0;
  if (lit(r, '}')) goto decide;
  for (;;) {
    const char *k;
    size_t kn;
    if (!str(r, &k, &kn) || !lit(r, ':')) return 0;
    int which = -1;
    for (int i = 0; i < K_N; i++)
      if (strlen(keys[i]) == kn && !memcmp(keys[i], k, kn)) which = i;
    if (which < 0 || (seen & (1u << which))) return 0; /* another key, or twice */
    seen |= 1u << which;
    if (which == K_SID) {
      if (!str(r, &o->sid, &o->sid_n)) return 0;
    } else {
      int isnull;
      if (!num(r, &v[which], &isnull)) return 0;
      if (!isnull) isnum |= 1u << which;
    }
    if (lit(r, ',')) continue;
    if (lit(r, '}')) break;
    return 0;
  }
decide:; /* what do_report in ssai-http.c decides from the same values */
  vast_ssai_consumption c = {0, 0, 0, -1, 0, 0};
  o->rc = VAST_OK;
  double ad = v[K_AD];
  if (!(isnum & (1u << K_AD)) || ad < 0 || ad > 1e6 || ad != floor(ad)) o->rc = VAST_E_INVAL;
  c.ad = o->rc == VAST_OK ? (unsigned)ad : 0;
  if (isnum & (1u << K_WALL)) c.wall_time = v[K_WALL];
  if (isnum & (1u << K_SEG)) {
    double sg = v[K_SEG];
    if (sg < 0 || sg > 1e7 || sg != floor(sg) || !(isnum & (1u << K_SEGDUR))) {
      o->rc = VAST_E_INVAL;
    } else {
      c.segment = 1;
      c.index = (unsigned)sg;
      c.seg_duration = v[K_SEGDUR];
    }
  } else if (isnum & (1u << K_MEDIA)) {
    c.media_time = v[K_MEDIA];
  } else {
    o->rc = VAST_E_INVAL;
  }
  o->r = c;
  return 1;
}

int vast__ssai_reports_read(const char *body, size_t n, vast__ssai_rep **out, size_t *count) {
  rd r = {body, body + n};
  vast__ssai_rep *v = NULL;
  size_t k = 0, cap = 0;
  const char *key;
  size_t kn;
  *out = NULL;
  *count = 0;
  if (!lit(&r, '{') || !str(&r, &key, &kn) || kn != 7 || memcmp(key, "reports", 7) ||
      !lit(&r, ':') || !lit(&r, '['))
    return 0;
  if (!lit(&r, ']')) {
    for (;;) {
      if (k == cap) {
        size_t nc = cap ? cap * 2 : 256;
        vast__ssai_rep *nv = nc <= 100000 ? realloc(v, nc * sizeof *nv) : NULL;
        if (!nv) goto no; /* past 100000 items: jansson's path refuses it */
        v = nv;
        cap = nc;
      }
      if (!report(&r, &v[k])) goto no;
      k++;
      if (lit(&r, ',')) continue;
      if (lit(&r, ']')) break;
      goto no;
    }
  }
  if (!lit(&r, '}')) goto no;
  ws(&r);
  if (r.p != r.e) goto no;
  *out = v;
  *count = k;
  return 1;
no:
  free(v);
  return 0;
}
