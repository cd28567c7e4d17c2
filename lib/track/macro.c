/*
 * macro.c: IAB VAST macro expansion.
 *
 * vast_macro_expand() copies a URL template into a caller buffer, replacing
 * every `[NAME]` or `%%NAME%%` whose NAME is on the IAB list with its value:
 * withheld (-2), else what the engine knows (vast_macro_vars), else what the
 * caller set (vast_macro_ctx), else -1. Values are percent-encoded one by one
 * (RFC 3986 unreserved characters kept); in list values the commas between
 * items stay as they are. The lookup is a switch on the name length plus
 * memcmp; nothing is allocated, and the output never runs past `cap`.
 */
#include "vastrack/track.h"

#include <math.h>
#include <string.h>

const char vast_macro_withheld[] = "-2";

static const char *const macro_names[VAST_MACRO__COUNT] = {
#define X(name, flags) #name,
    VAST_MACRO_MAP(X)
#undef X
};

static const unsigned char macro_flags[VAST_MACRO__COUNT] = {
#define X(name, flags) (flags),
    VAST_MACRO_MAP(X)
#undef X
};

const char *vast_macro_name(vast_macro m) {
  return (unsigned)m < VAST_MACRO__COUNT ? macro_names[m] : "";
}

unsigned vast_macro_flags(vast_macro m) {
  return (unsigned)m < VAST_MACRO__COUNT ? macro_flags[m] : 0;
}

/* Generated from VAST_MACRO_MAP: names grouped by length. */
int vast_macro_lookup(const char *s, size_t len) {
  if (!s) return -1;
  switch (len) {
  case 3:
    if (!memcmp(s, "IFA", 3)) return VAST_MACRO_IFA;
    break;
  case 6:
    if (!memcmp(s, "ADTYPE", 6)) return VAST_MACRO_ADTYPE;
    if (!memcmp(s, "DOMAIN", 6)) return VAST_MACRO_DOMAIN;
    if (!memcmp(s, "REASON", 6)) return VAST_MACRO_REASON;
    if (!memcmp(s, "RANDOM", 6)) return VAST_MACRO_CACHEBUSTING;
    if (!memcmp(s, "random", 6)) return VAST_MACRO_CACHEBUSTING;
    break;
  case 7:
    if (!memcmp(s, "ADCOUNT", 7)) return VAST_MACRO_ADCOUNT;
    if (!memcmp(s, "IFATYPE", 7)) return VAST_MACRO_IFATYPE;
    if (!memcmp(s, "LATLONG", 7)) return VAST_MACRO_LATLONG;
    if (!memcmp(s, "PAGEURL", 7)) return VAST_MACRO_PAGEURL;
    if (!memcmp(s, "STOREID", 7)) return VAST_MACRO_STOREID;
    break;
  case 8:
    if (!memcmp(s, "CLIENTUA", 8)) return VAST_MACRO_CLIENTUA;
    if (!memcmp(s, "SERVERUA", 8)) return VAST_MACRO_SERVERUA;
    if (!memcmp(s, "DEVICEUA", 8)) return VAST_MACRO_DEVICEUA;
    if (!memcmp(s, "DEVICEIP", 8)) return VAST_MACRO_DEVICEIP;
    if (!memcmp(s, "ASSETURI", 8)) return VAST_MACRO_ASSETURI;
    if (!memcmp(s, "CLICKPOS", 8)) return VAST_MACRO_CLICKPOS;
    if (!memcmp(s, "STOREURL", 8)) return VAST_MACRO_STOREURL;
    break;
  case 9:
    if (!memcmp(s, "TIMESTAMP", 9)) return VAST_MACRO_TIMESTAMP;
    if (!memcmp(s, "APPBUNDLE", 9)) return VAST_MACRO_APPBUNDLE;
    if (!memcmp(s, "MEDIAMIME", 9)) return VAST_MACRO_MEDIAMIME;
    if (!memcmp(s, "CLICKTYPE", 9)) return VAST_MACRO_CLICKTYPE;
    if (!memcmp(s, "CONTENTID", 9)) return VAST_MACRO_CONTENTID;
    if (!memcmp(s, "ERRORCODE", 9)) return VAST_MACRO_ERRORCODE;
    if (!memcmp(s, "GPPSTRING", 9)) return VAST_MACRO_GPPSTRING;
    break;
  case 10:
    if (!memcmp(s, "SERVERSIDE", 10)) return VAST_MACRO_SERVERSIDE;
    if (!memcmp(s, "EXTENSIONS", 10)) return VAST_MACRO_EXTENSIONS;
    if (!memcmp(s, "PLAYERSIZE", 10)) return VAST_MACRO_PLAYERSIZE;
    if (!memcmp(s, "ADPLAYHEAD", 10)) return VAST_MACRO_ADPLAYHEAD;
    if (!memcmp(s, "CONTENTURI", 10)) return VAST_MACRO_CONTENTURI;
    if (!memcmp(s, "CONTENTCAT", 10)) return VAST_MACRO_CONTENTCAT;
    break;
  case 11:
    if (!memcmp(s, "BREAKMAXADS", 11)) return VAST_MACRO_BREAKMAXADS;
    if (!memcmp(s, "OMIDPARTNER", 11)) return VAST_MACRO_OMIDPARTNER;
    if (!memcmp(s, "PLAYERSTATE", 11)) return VAST_MACRO_PLAYERSTATE;
    if (!memcmp(s, "PODSEQUENCE", 11)) return VAST_MACRO_PODSEQUENCE;
    if (!memcmp(s, "ADSERVINGID", 11)) return VAST_MACRO_ADSERVINGID;
    if (!memcmp(s, "REGULATIONS", 11)) return VAST_MACRO_REGULATIONS;
    if (!memcmp(s, "GDPRCONSENT", 11)) return VAST_MACRO_GDPRCONSENT;
    break;
  case 12:
    if (!memcmp(s, "CACHEBUSTING", 12)) return VAST_MACRO_CACHEBUSTING;
    if (!memcmp(s, "ADCATEGORIES", 12)) return VAST_MACRO_ADCATEGORIES;
    if (!memcmp(s, "VASTVERSIONS", 12)) return VAST_MACRO_VASTVERSIONS;
    if (!memcmp(s, "GPPSECTIONID", 12)) return VAST_MACRO_GPPSECTIONID;
    break;
  case 13:
    if (!memcmp(s, "MEDIAPLAYHEAD", 13)) return VAST_MACRO_MEDIAPLAYHEAD;
    if (!memcmp(s, "BREAKPOSITION", 13)) return VAST_MACRO_BREAKPOSITION;
    if (!memcmp(s, "TRANSACTIONID", 13)) return VAST_MACRO_TRANSACTIONID;
    if (!memcmp(s, "PLACEMENTTYPE", 13)) return VAST_MACRO_PLACEMENTTYPE;
    if (!memcmp(s, "UNIVERSALADID", 13)) return VAST_MACRO_UNIVERSALADID;
    if (!memcmp(s, "APIFRAMEWORKS", 13)) return VAST_MACRO_APIFRAMEWORKS;
    break;
  case 14:
    if (!memcmp(s, "INVENTORYSTATE", 14)) return VAST_MACRO_INVENTORYSTATE;
    break;
  case 15:
    if (!memcmp(s, "CONTENTPLAYHEAD", 15)) return VAST_MACRO_CONTENTPLAYHEAD;
    if (!memcmp(s, "LIMITADTRACKING", 15)) return VAST_MACRO_LIMITADTRACKING;
    if (!memcmp(s, "PLAYBACKMETHODS", 15)) return VAST_MACRO_PLAYBACKMETHODS;
    break;
  case 16:
    if (!memcmp(s, "BREAKMAXDURATION", 16)) return VAST_MACRO_BREAKMAXDURATION;
    if (!memcmp(s, "BREAKMINADLENGTH", 16)) return VAST_MACRO_BREAKMINADLENGTH;
    if (!memcmp(s, "BREAKMAXADLENGTH", 16)) return VAST_MACRO_BREAKMAXADLENGTH;
    break;
  case 18:
    if (!memcmp(s, "PLAYERCAPABILITIES", 18)) return VAST_MACRO_PLAYERCAPABILITIES;
    break;
  case 19:
    if (!memcmp(s, "BLOCKEDADCATEGORIES", 19)) return VAST_MACRO_BLOCKEDADCATEGORIES;
    if (!memcmp(s, "VERIFICATIONVENDORS", 19)) return VAST_MACRO_VERIFICATIONVENDORS;
    break;
  }
  return -1;
}

void vast_macro_ctx_init(vast_macro_ctx *ctx) {
  if (!ctx) return;
  memset(ctx, 0, sizeof *ctx);
  ctx->size = sizeof *ctx;
}

/* True when ctx is large enough to hold value[m] (it may come from an older build). */
static int ctx_has(const vast_macro_ctx *ctx, int m) {
  return ctx && ctx->size >= offsetof(vast_macro_ctx, value) + (size_t)(m + 1) * sizeof(char *);
}

vast_err vast_macro_ctx_set(vast_macro_ctx *ctx, vast_macro m, const char *value) {
  if (!ctx || (unsigned)m >= VAST_MACRO__COUNT || !ctx_has(ctx, (int)m)) return VAST_E_INVAL;
  ctx->value[m] = value;
  return VAST_OK;
}

vast_err vast_macro_ctx_withhold(vast_macro_ctx *ctx, vast_macro m) {
  return vast_macro_ctx_set(ctx, m, vast_macro_withheld);
}

vast_err vast_macro_ctx_set_serverside(vast_macro_ctx *ctx, int serverside) {
  static const char *const v[3] = {"0", "1", "2"};
  if (serverside < 0 || serverside > 2) return VAST_E_INVAL;
  return vast_macro_ctx_set(ctx, VAST_MACRO_SERVERSIDE, v[serverside]);
}

void vast_macro_vars_init(vast_macro_vars *v) {
  if (!v) return;
  memset(v, 0, sizeof *v);
  v->wall_time = -1;
  v->ad_playhead = -1;
  v->cachebust = -1;
  v->pod_sequence = -1;
}

/* ------------------------------------------------------------------------ */
/* Formatting                                                                */

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil_from_days(long long z, int *y, unsigned *m, unsigned *d) {
  z += 719468;
  long long era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long yy = (long long)yoe + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int)(yy + (*m <= 2));
}

static char *put2(char *p, unsigned v) {
  p[0] = (char)('0' + v / 10 % 10);
  p[1] = (char)('0' + v % 10);
  return p + 2;
}

static char *put3(char *p, unsigned v) {
  p[0] = (char)('0' + v / 100 % 10);
  return put2(p + 1, v % 100);
}

size_t vast_format_timestamp(double t, int tz, char *out, size_t cap) {
  /* "YYYY-MM-DDTHH:MM:SS.mmm+HH:MM" = 29 bytes */
  if (!out || cap < 30 || !(t >= 0) || t > 253402300799.0 || tz < -1439 || tz > 1439) return 0;
  long long ms = (long long)floor(t * 1000.0 + 0.5) + (long long)tz * 60000;
  if (ms < 0) return 0;
  long long secs = ms / 1000, days = secs / 86400;
  unsigned sod = (unsigned)(secs % 86400);
  int y;
  unsigned mo, d;
  civil_from_days(days, &y, &mo, &d);
  if (y < 0 || y > 9999) return 0;
  char *p = out;
  p = put2(p, (unsigned)y / 100);
  p = put2(p, (unsigned)y % 100);
  *p++ = '-';
  p = put2(p, mo);
  *p++ = '-';
  p = put2(p, d);
  *p++ = 'T';
  p = put2(p, sod / 3600);
  *p++ = ':';
  p = put2(p, sod / 60 % 60);
  *p++ = ':';
  p = put2(p, sod % 60);
  *p++ = '.';
  p = put3(p, (unsigned)(ms % 1000));
  unsigned a = (unsigned)(tz < 0 ? -tz : tz);
  *p++ = tz < 0 ? '-' : '+';
  p = put2(p, a / 60);
  *p++ = ':';
  p = put2(p, a % 60);
  *p = 0;
  return (size_t)(p - out);
}

size_t vast_format_timecode(double s, char *out, size_t cap) {
  if (!out || !(s >= 0) || s > 3.6e9) return 0;
  long long ms = (long long)floor(s * 1000.0 + 0.5);
  unsigned long long h = (unsigned long long)(ms / 3600000);
  char hb[24];
  int hn = 0;
  do {
    hb[hn++] = (char)('0' + h % 10);
    h /= 10;
  } while (h);
  if (hn < 2) hb[hn++] = '0';
  size_t need = (size_t)hn + 10; /* :MM:SS.mmm */
  if (cap < need + 1) return 0;
  char *p = out;
  while (hn)
    *p++ = hb[--hn];
  *p++ = ':';
  p = put2(p, (unsigned)(ms / 60000 % 60));
  *p++ = ':';
  p = put2(p, (unsigned)(ms / 1000 % 60));
  *p++ = '.';
  p = put3(p, (unsigned)(ms % 1000));
  *p = 0;
  return (size_t)(p - out);
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */

typedef struct sink {
  char *out;
  size_t cap; /* usable bytes, NUL excluded */
  size_t n;   /* bytes produced so far, even past cap */
} sink;

static inline void sink_put(sink *s, const char *p, size_t n) {
  if (s->n < s->cap) {
    size_t room = s->cap - s->n;
    memcpy(s->out + s->n, p, n < room ? n : room);
  }
  s->n += n;
}

static inline void sink_ch(sink *s, char c) {
  if (s->n < s->cap) s->out[s->n] = c;
  s->n++;
}

/* 1 for RFC 3986 unreserved characters. */
static const unsigned char unreserved[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

/* Percent-encodes p[0..n) into the sink; commas too unless keep_commas. */
static void sink_enc(sink *s, const char *p, size_t n, int keep_commas) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && unreserved[(unsigned char)p[j]])
      j++;
    if (j > i) sink_put(s, p + i, j - i);
    if (j >= n) break;
    unsigned char c = (unsigned char)p[j];
    if (c == ',' && keep_commas) {
      sink_ch(s, ',');
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      sink_put(s, e, 3);
    }
    i = j + 1;
  }
}

static void sink_long(sink *s, long long v, int width) {
  char b[24];
  int n = 0;
  unsigned long long u = v < 0 ? (unsigned long long)-v : (unsigned long long)v;
  do {
    b[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  while (n < width)
    b[n++] = '0';
  if (v < 0) sink_ch(s, '-');
  while (n)
    sink_ch(s, b[--n]);
}

#define SINK_LIT(s, lit) sink_put((s), (lit), sizeof(lit) - 1)

/*
 * Writes the engine's value for m, returning 1, or 0 when the engine does not
 * know it (then the caller's value or -1 is used).
 */
static int engine_value(sink *s, int m, const vast_macro_vars *v, const vast_macro_ctx *ctx) {
  char b[48];
  size_t n;
  switch (m) {
  case VAST_MACRO_TIMESTAMP:
    n = vast_format_timestamp(v->wall_time, ctx_has(ctx, 0) ? ctx->tz_offset_min : 0, b, sizeof b);
    if (!n) return 0;
    sink_enc(s, b, n, 0);
    return 1;
  case VAST_MACRO_CACHEBUSTING:
    if (v->cachebust < 0) return 0;
    sink_long(s, v->cachebust % 100000000, 8);
    return 1;
  case VAST_MACRO_ADPLAYHEAD:
    n = vast_format_timecode(v->ad_playhead, b, sizeof b);
    if (!n) return 0;
    sink_enc(s, b, n, 0);
    return 1;
  case VAST_MACRO_ERRORCODE:
    if (!v->error_code) return 0;
    sink_long(s, v->error_code >= 100 && v->error_code <= 999 ? v->error_code : 900, 3);
    return 1;
  case VAST_MACRO_REASON:
    if (v->reason <= 0) return 0;
    sink_long(s, v->reason, 1);
    return 1;
  case VAST_MACRO_PODSEQUENCE:
    if (v->pod_sequence < 0) return 0;
    sink_long(s, v->pod_sequence, 1);
    return 1;
  case VAST_MACRO_ASSETURI:
    if (!v->asset_uri) return 0;
    sink_enc(s, v->asset_uri, strlen(v->asset_uri), 0);
    return 1;
  case VAST_MACRO_ADSERVINGID:
    if (!v->ad_serving_id) return 0;
    sink_enc(s, v->ad_serving_id, strlen(v->ad_serving_id), 0);
    return 1;
  case VAST_MACRO_ADTYPE:
    if (!v->ad_type) return 0;
    sink_enc(s, v->ad_type, strlen(v->ad_type), 0);
    return 1;
  case VAST_MACRO_CLICKPOS:
    if (!v->click_pos) return 0;
    sink_enc(s, v->click_pos, strlen(v->click_pos), 1);
    return 1;
  case VAST_MACRO_UNIVERSALADID: {
    int any = 0;
    for (size_t i = 0; i < v->n_universal_ad_ids; i++) {
      const vast_universal_ad_id *u = &v->universal_ad_ids[i];
      if (!u->id_value || !*u->id_value) continue;
      if (any++) sink_ch(s, ',');
      if (u->id_registry && *u->id_registry) {
        sink_enc(s, u->id_registry, strlen(u->id_registry), 0);
        SINK_LIT(s, "%20");
      }
      sink_enc(s, u->id_value, strlen(u->id_value), 0);
    }
    return any;
  }
  case VAST_MACRO_BLOCKEDADCATEGORIES: {
    int any = 0;
    for (size_t i = 0; i < v->n_blocked_categories; i++) {
      const char *c = v->blocked_categories[i] ? v->blocked_categories[i]->code : NULL;
      if (!c || !*c) continue;
      if (any++) sink_ch(s, ',');
      sink_enc(s, c, strlen(c), 0);
    }
    return any;
  }
  case VAST_MACRO_ADCATEGORIES: {
    int any = 0;
    for (size_t i = 0; i < v->n_categories; i++) {
      const char *c = v->categories[i].code;
      if (!c || !*c) continue;
      if (any++) sink_ch(s, ',');
      sink_enc(s, c, strlen(c), 0);
    }
    return any;
  }
  case VAST_MACRO_PLAYERSTATE: {
    if (!v->has_player_state) return 0;
    int any = 0;
    if (v->player_state & VAST_PLAYER_MUTED) {
      SINK_LIT(s, "muted");
      any++;
    }
    if (v->player_state & VAST_PLAYER_FULLSCREEN) {
      if (any) sink_ch(s, ',');
      SINK_LIT(s, "fullscreen");
    }
    return 1;
  }
  default:
    return 0;
  }
}

static void emit_macro(sink *s, int m, const vast_macro_ctx *ctx, const vast_macro_vars *vars) {
  const char *cv = ctx_has(ctx, m) ? ctx->value[m] : NULL;
  if (cv == vast_macro_withheld) {
    SINK_LIT(s, "-2");
    return;
  }
  int caller_first = m == VAST_MACRO_PLAYERSTATE;
  if (!(caller_first && cv) && vars && engine_value(s, m, vars, ctx)) return;
  if (cv) {
    sink_enc(s, cv, strlen(cv), macro_flags[m] & VAST_MF_ARRAY);
    return;
  }
  SINK_LIT(s, "-1");
}

static inline int name_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

#define MAX_NAME 24 /* longest IAB name is 19 */

vast_err vast_macro_expand(const char *t, size_t len, const vast_macro_ctx *ctx,
                           const vast_macro_vars *vars, char *out, size_t cap, size_t *out_len) {
  if (out_len) *out_len = 0;
  if (!t || (!out && cap)) return VAST_E_INVAL;
  sink s = {out, cap ? cap - 1 : 0, 0};
  size_t i = 0;
  /* next '[' and '%' at or after i, found with memchr (SIMD in libc) */
  const char *nb = len ? memchr(t, '[', len) : NULL, *np = len ? memchr(t, '%', len) : NULL;
  while (i < len) {
    if (nb && nb < t + i) nb = memchr(t + i, '[', len - i);
    if (np && np < t + i) np = memchr(t + i, '%', len - i);
    size_t j = len;
    if (nb && (size_t)(nb - t) < j) j = (size_t)(nb - t);
    if (np && (size_t)(np - t) < j) j = (size_t)(np - t);
    if (j > i) sink_put(&s, t + i, j - i);
    if (j >= len) break;
    i = j;
    size_t open = t[i] == '[' ? 1 : 2;
    if (open == 2 && (i + 1 >= len || t[i + 1] != '%')) {
      sink_ch(&s, '%');
      i++;
      continue;
    }
    size_t k = i + open;
    while (k < len && k - (i + open) <= MAX_NAME && name_char((unsigned char)t[k]))
      k++;
    int m = -1;
    size_t end = 0;
    if (open == 1 && k < len && t[k] == ']')
      end = k + 1;
    else if (open == 2 && k + 1 < len && t[k] == '%' && t[k + 1] == '%')
      end = k + 2;
    if (end) m = vast_macro_lookup(t + i + open, k - (i + open));
    if (m < 0) {
      sink_ch(&s, t[i]); /* not a listed macro: copy as written, rescan after it */
      i++;
      continue;
    }
    emit_macro(&s, m, ctx, vars);
    i = end;
  }
  if (cap) out[s.n < s.cap ? s.n : s.cap] = 0;
  if (out_len) *out_len = s.n;
  return cap && s.n <= s.cap ? VAST_OK : VAST_E_NOSPACE;
}
