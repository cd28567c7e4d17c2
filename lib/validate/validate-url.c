/*
 * validate-url.c: the URL rules. Each URL of the model is scanned once for all
 * of them (whitespace, XML and unsafe characters, percent-encoding, macros
 * and their spelling, scheme, CDATA), with an SSE2 scan over the plain bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The SSE2 URL scan reads whole aligned 16-byte blocks (past the NUL, inside
 * the block): fine for the hardware, not for AddressSanitizer. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VAST__NO_SIMD 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define VAST__NO_SIMD 1
#endif
#if defined(__SSE2__) && !defined(VAST__NO_SIMD)
#define VAST__SIMD 1
#include <emmintrin.h>
#endif

#include "validate/validate-int.h"
#include "validate/validate-walk.h"

/* ---- URLs ---------------------------------------------------------------- */

/* IAB macros (VAST 4.x macro list) plus the widespread non-IAB [RANDOM]. */
static const char *const iab_macros[] = {
    "TIMESTAMP",
    "CACHEBUSTING",
    "CONTENTPLAYHEAD",
    "MEDIAPLAYHEAD",
    "BREAKPOSITION",
    "BLOCKEDADCATEGORIES",
    "ADCATEGORIES",
    "ADCOUNT",
    "TRANSACTIONID",
    "PLACEMENTTYPE",
    "ADTYPE",
    "UNIVERSALADID",
    "BREAKMAXDURATION",
    "BREAKMAXADS",
    "BREAKMINADLENGTH",
    "BREAKMAXADLENGTH",
    "IFA",
    "IFATYPE",
    "CLIENTUA",
    "SERVERUA",
    "DEVICEUA",
    "SERVERSIDE",
    "DEVICEIP",
    "LATLONG",
    "DOMAIN",
    "PAGEURL",
    "APPBUNDLE",
    "VASTVERSIONS",
    "APIFRAMEWORKS",
    "EXTENSIONS",
    "VERIFICATIONVENDORS",
    "OMIDPARTNER",
    "MEDIAMIME",
    "PLAYERCAPABILITIES",
    "CLICKTYPE",
    "PLAYERSTATE",
    "INVENTORYSTATE",
    "PLAYERSIZE",
    "ADPLAYHEAD",
    "ASSETURI",
    "CONTENTID",
    "CONTENTURI",
    "PODSEQUENCE",
    "ADSERVINGID",
    "CLICKPOS",
    "ERRORCODE",
    "REASON",
    "LIMITADTRACKING",
    "REGULATIONS",
    "GDPRCONSENT",
    "STOREID",
    "STOREURL",
    "PLAYBACKMETHODS",
    "CONTENTCAT",
    "GPPSTRING",
    "GPPSECTIONID",
    "RANDOM",
};
#define N_MACROS (sizeof iab_macros / sizeof iab_macros[0])

/* Spellings seen in real tags for IAB macros, beyond one typo. */
static const char *const macro_aliases[][2] = {
    {"CACHEBUSTER", "CACHEBUSTING"},
    {"CACHEBREAKER", "CACHEBUSTING"},
    {"CACHE_BUSTING", "CACHEBUSTING"},
    {"CACHEBUST", "CACHEBUSTING"},
    {"CACHE_BUSTER", "CACHEBUSTING"},
    {"TIME_STAMP", "TIMESTAMP"},
    {"ERROR_CODE", "ERRORCODE"},
    {"ERRORCODES", "ERRORCODE"},
    {"CONTENT_PLAYHEAD", "CONTENTPLAYHEAD"},
    {"MEDIA_PLAYHEAD", "MEDIAPLAYHEAD"},
    {"AD_SERVING_ID", "ADSERVINGID"},
    {"GDPR_CONSENT", "GDPRCONSENT"},
};

/*
 * Optimal-string-alignment distance (Levenshtein plus adjacent
 * transpositions) of two short strings, case-insensitive, capped at 9.
 */
static int edit_distance(const char *a, size_t la, const char *b, size_t lb) {
  if (la > 40 || lb > 40) return 9;
  int d[41][41];
  for (size_t i = 0; i <= la; i++)
    d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int ca = a[i - 1] & ~0x20, cb = b[j - 1] & ~0x20; /* ASCII letters/digits/_ only */
      int best = d[i - 1][j - 1] + (ca != cb);
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && ca == (b[j - 2] & ~0x20) && (a[i - 2] & ~0x20) == cb &&
          d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[la][lb] > 9 ? 9 : d[la][lb];
}

/*
 * A [NAME] that is not an IAB macro is a misspelling only when it is one
 * away from one: a case difference, one typo (a letter wrong, missing,
 * extra, or two swapped) in a name of 5 letters or more, or a spelling known
 * from real tags ([CACHEBUSTER]). Anything further is a different name
 * ([BREAKMINDURATION] is not [BREAKMAXDURATION]): macro-unknown.
 */
static void check_macro(V *v, const char *name, size_t n, vast_pos pos) {
  const char *best = NULL;
  for (size_t i = 0; i < N_MACROS; i++) {
    size_t ln = strlen(iab_macros[i]);
    if (ln == n && memcmp(iab_macros[i], name, n) == 0) return; /* exact */
    if (ln == n && strncasecmp(iab_macros[i], name, n) == 0) {
      best = iab_macros[i];
      break;
    }
  }
  for (size_t i = 0; !best && i < sizeof macro_aliases / sizeof macro_aliases[0]; i++)
    if (strlen(macro_aliases[i][0]) == n && strncasecmp(macro_aliases[i][0], name, n) == 0)
      best = macro_aliases[i][1];
  if (!best && n >= 5) {
    for (size_t i = 0; i < N_MACROS && !best; i++) {
      size_t ln = strlen(iab_macros[i]);
      if (ln >= 5 && edit_distance(name, n, iab_macros[i], ln) <= 1) best = iab_macros[i];
    }
  }
  if (best)
    vast__emit(v, VAST__R_MACRO_MISSPELLED, pos, NULL,
               "macro [%.*s] looks like a misspelling of [%s]", (int)n, name, best);
  else
    vast__emit(v, VAST__R_MACRO_UNKNOWN, pos, NULL, "macro [%.*s] is not an IAB VAST macro", (int)n,
               name);
}

static int is_hex(int c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static int is_macro_char(int c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Character classes for the URL scan; 0 = nothing to look at. */
enum { C_WS = 1, C_XML, C_UNSAFE, C_PCT, C_MACRO, C_END };
static unsigned char url_class[256];

void vast__url_class_init(void) {
  if (url_class['%']) return; /* idempotent; racing initialisers write the same bytes */
  for (int c = 0; c < 256; c++) {
    unsigned char k = 0;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      k = C_WS;
    else if (c < 0x20 || c == 0x7f || c == '<' || c == '>')
      k = C_XML;
    else if (c >= 0x80 || c == '"' || c == '{' || c == '}' || c == '|' || c == '\\' || c == '^' ||
             c == '`')
      k = C_UNSAFE;
    else if (c == '[')
      k = C_MACRO;
    url_class[c] = k;
  }
  url_class[0] = C_END;
  url_class['%'] = C_PCT; /* last: marks the table ready */
}

/*
 * skip_plain: the first byte at or after p that the URL rules look at (see
 * url_class). Most URL bytes are plain; with SSE2, 16 bytes are tested at a
 * time with unaligned loads, stepping byte by byte only within the last 15
 * bytes of a page (so never reading past the page the string ends in).
 */
static inline const unsigned char *skip_plain(const unsigned char *p) {
#if defined(VAST__SIMD)
  const __m128i lo = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
  const __m128i c1 = _mm_set1_epi8(' '), c2 = _mm_set1_epi8('"'), c3 = _mm_set1_epi8('%'),
                c4 = _mm_set1_epi8('<'), c5 = _mm_set1_epi8('>'), c6 = _mm_set1_epi8('['),
                c7 = _mm_set1_epi8('\\'), c8 = _mm_set1_epi8('^'), c9 = _mm_set1_epi8('`'),
                c10 = _mm_set1_epi8('{'), c11 = _mm_set1_epi8('|'), c12 = _mm_set1_epi8('}');
  for (;;) {
    if (((uintptr_t)p & 4095) > 4096 - 16) { /* byte steps near a page end */
      if (url_class[*p]) return p;
      p++;
      continue;
    }
    __m128i x = _mm_loadu_si128((const __m128i *)p);
    /* bytes < 0x20 or >= 0x80 (signed compare), 0x7f, and the specials */
    __m128i b1 = _mm_or_si128(_mm_cmplt_epi8(x, lo), _mm_cmpeq_epi8(x, del));
    __m128i b2 = _mm_or_si128(_mm_cmpeq_epi8(x, c1), _mm_cmpeq_epi8(x, c2));
    __m128i b3 = _mm_or_si128(_mm_cmpeq_epi8(x, c3), _mm_cmpeq_epi8(x, c4));
    __m128i b4 = _mm_or_si128(_mm_cmpeq_epi8(x, c5), _mm_cmpeq_epi8(x, c6));
    __m128i b5 = _mm_or_si128(_mm_cmpeq_epi8(x, c7), _mm_cmpeq_epi8(x, c8));
    __m128i b6 = _mm_or_si128(_mm_cmpeq_epi8(x, c9), _mm_cmpeq_epi8(x, c10));
    __m128i b7 = _mm_or_si128(_mm_cmpeq_epi8(x, c11), _mm_cmpeq_epi8(x, c12));
    __m128i bad = _mm_or_si128(_mm_or_si128(_mm_or_si128(b1, b2), _mm_or_si128(b3, b4)),
                               _mm_or_si128(_mm_or_si128(b5, b6), b7));
    int m = _mm_movemask_epi8(bad);
    if (m) return p + __builtin_ctz((unsigned)m);
    p += 16;
  }
#else
  while (!url_class[*p])
    p++;
  return p;
#endif
}

/* src_at: the start tag of the element at a model position, or NULL. */
static inline const char *src_at(const V *v, vast_pos pos) {
  if (!v->src || !pos.line || pos.offset >= v->src_len || v->src[pos.offset] != '<') return NULL;
  return v->src + pos.offset;
}

/*
 * check_cdata: for a URL element at pos named `elem` (checked against the
 * text, so callers passing a parent's position are skipped), reports
 * url-not-cdata when the element's text is not a CDATA section.
 */
static void check_cdata(V *v, vast_pos pos, const char *elem) {
  if (!on(v, VAST__R_URL_NOT_CDATA)) return;
  const char *p = src_at(v, pos), *end = v->src + v->src_len;
  size_t el = strlen(elem);
  if (!p || *p != '<' || (size_t)(end - p) < el + 2 || memcmp(p + 1, elem, el) != 0) return;
  p += 1 + el;
  if (*p != '>' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '/') return;
  /* the end of the start tag, minding quoted attribute values ("a>b") */
  const char *gt = memchr(p, '>', (size_t)(end - p));
  if (gt && (memchr(p, '"', (size_t)(gt - p)) || memchr(p, '\'', (size_t)(gt - p)))) {
    char q = 0;
    for (; p < end; p++) {
      if (q) {
        if (*p == q) q = 0;
      } else if (*p == '"' || *p == '\'') {
        q = *p;
      } else if (*p == '>') {
        break;
      }
    }
  } else {
    p = gt ? gt : end;
  }
  if (p >= end || p[-1] == '/') return;
  p++;
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    p++;
  if (p >= end || *p == '<') return; /* CDATA, a child element (VAST 1.0 <URL>) or empty */
  vast__emit(v, VAST__R_URL_NOT_CDATA, pos, NULL,
             "%s URL is not in CDATA: a raw & in it would make the tag unparseable", elem);
}

/*
 * check_url: every URL rule in one pass over the string. `what` names the
 * element in messages. Returns the URL's length (for duplicate detection).
 */
size_t vast__check_url(V *v, const char *url, vast_pos pos, const char *what, enum url_kind kind) {
  if (!url) return 0;
  if (!*url) {
    if (kind != U_WRAPPER) vast__emit(v, VAST__R_URL_EMPTY, pos, NULL, "empty %s URL", what);
    return 0;
  }
  check_cdata(v, pos, what);
  if ((url[0] | 0x20) == 'a' && kind == U_BEACON && strcasecmp(url, "about:blank") == 0 &&
      !strcmp(what, "Impression")) {
    vast__emit(v, VAST__R_IMPRESSION_ABOUT_BLANK, pos, NULL,
               "Impression is about:blank: a placeholder, no impression is counted by it");
    return 11;
  }
  int ws = 0, xmlc = 0, unsafe = 0, badpct = 0, has_errorcode = 0;
  const unsigned char *p = (const unsigned char *)url;
  for (;; p++) {
    p = skip_plain(p);
    if (!*p) break;
    switch (url_class[*p]) {
    case C_WS:
      ws++;
      break;
    case C_XML:
      xmlc++;
      break;
    case C_UNSAFE:
      unsafe++;
      break;
    case C_PCT:
      if (p[1] == '%') { /* %%MACRO%% */
        const unsigned char *q = p + 2;
        while (is_macro_char(*q))
          q++;
        if (q > p + 2 && q[0] == '%' && q[1] == '%') {
          p = q + 1;
          break;
        }
        badpct++;
      } else if (!is_hex(p[1]) || !is_hex(p[2])) {
        badpct++;
      }
      break;
    case C_MACRO: {
      const unsigned char *q = p + 1;
      while (is_macro_char(*q) && q - p < 64)
        q++;
      if (*q == ']' && q > p + 1) {
        size_t n = (size_t)(q - p - 1);
        if (n == 9 && memcmp(p + 1, "ERRORCODE", 9) == 0)
          has_errorcode = 1;
        else if (v->sev[VAST__R_MACRO_UNKNOWN] != VAST_SEV_OFF ||
                 v->sev[VAST__R_MACRO_MISSPELLED] != VAST_SEV_OFF)
          check_macro(v, (const char *)p + 1, n, pos);
      }
      break;
    }
    }
  }
  size_t h = (size_t)(p - (const unsigned char *)url);
  if (ws && kind != U_WRAPPER)
    vast__emit(v, VAST__R_URL_WHITESPACE, pos, NULL, "%s URL contains %d whitespace character%s",
               what, ws, ws > 1 ? "s" : "");
  if (xmlc)
    vast__emit(v, VAST__R_URL_XML_CHARS, pos, NULL,
               "%s URL contains %d raw <, > or control character%s", what, xmlc,
               xmlc > 1 ? "s" : "");
  if (unsafe)
    vast__emit(v, VAST__R_URL_UNSAFE_CHARS, pos, NULL,
               "%s URL contains %d character%s that must be percent-encoded", what, unsafe,
               unsafe > 1 ? "s" : "");
  if (badpct)
    vast__emit(v, VAST__R_URL_BAD_PERCENT, pos, NULL, "%s URL has %d invalid percent-encoding%s",
               what, badpct, badpct > 1 ? "s" : "");
  if (kind == U_ERROR && !has_errorcode)
    vast__emit(v, VAST__R_ERROR_URL_NO_ERRORCODE, pos, NULL, "Error URL has no [ERRORCODE] macro");

  /* scheme */
  if (url[0] == '[' || url[0] == '$' || url[0] == '{' || (url[0] == '%' && url[1] == '%'))
    return h; /* the whole URL or its scheme comes from a macro */
  if (url[0] == '/' && url[1] == '/') {
    vast__emit(v, VAST__R_URL_PROTOCOL_RELATIVE, pos, NULL, "%s URL '%.80s' is protocol-relative",
               what, url);
    return h;
  }
  const char *sp = url;
  if ((*sp >= 'a' && *sp <= 'z') || (*sp >= 'A' && *sp <= 'Z')) {
    while ((*sp >= 'a' && *sp <= 'z') || (*sp >= 'A' && *sp <= 'Z') || (*sp >= '0' && *sp <= '9') ||
           *sp == '+' || *sp == '-' || *sp == '.')
      sp++;
  }
  if (*sp != ':' || sp == url) {
    vast__emit(v, VAST__R_URL_NOT_ABSOLUTE, pos, NULL, "%s URL '%.80s' is not absolute", what, url);
    return h;
  }
  size_t sl = (size_t)(sp - url);
  if (sl == 5 && strncasecmp(url, "https", 5) == 0) return h;
  if (sl == 4 && strncasecmp(url, "http", 4) == 0) {
    vast__emit(v, VAST__R_URL_INSECURE, pos, NULL, "%s URL uses http://, not https://", what);
    return h;
  }
  if (kind != U_WRAPPER)
    vast__emit(v, VAST__R_URL_NOT_HTTP, pos, NULL, "%s URL has scheme '%.*s:', not http(s)", what,
               (int)sl, url);
  return h;
}

/* A list of vast_url (Impression, ClickTracking, ...), with duplicate detection. */
void vast__check_url_list(V *v, const vast_url *u, size_t n, const char *elem, enum url_kind kind,
                          int dup) {
  size_t hs[128];
  for (size_t i = 0; i < n && !v->stop; i++) {
    push(v, elem, n > 1 ? i + 1 : 0);
    size_t h = vast__check_url(v, u[i].url, u[i].pos, elem, kind);
    if (dup && i < 128 && u[i].url && *u[i].url) {
      hs[i] = h;
      for (size_t j = 0; j < i; j++)
        if (hs[j] == h && u[j].url && strcmp(u[j].url, u[i].url) == 0) {
          vast__emit(v, VAST__R_URL_DUPLICATE, u[i].pos, NULL,
                     "%s URL repeats %s[%zu]: fired twice", elem, elem, j + 1);
          break;
        }
    } else if (i < 128) {
      hs[i] = 0;
    }
    pop(v);
  }
}

void vast__check_single_url(V *v, const char *url, vast_pos pos, const char *elem,
                            enum url_kind kind) {
  if (!url) return;
  push(v, elem, 0);
  vast__check_url(v, url, pos, elem, kind);
  pop(v);
}
