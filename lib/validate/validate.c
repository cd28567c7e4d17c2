/*
 * validate.c: the rule engine. One walk over the parsed model (vastrack/doc.h)
 * runs every enabled rule of the chosen profile and reports each finding with
 * its rule, severity, IAB code, line/column and element path.
 *
 * Cost matters (the audit runs over thousands of tags and the benchmark holds
 * validation under a tenth of the parse time), so the walk keeps the element
 * path as a small stack of (name, index) pairs and formats the path and the
 * message only when a finding is actually reported. Each URL is scanned once
 * for all URL rules.
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

#define E VAST_SEV_ERROR
#define W VAST_SEV_WARNING
#define I VAST_SEV_INFO
#define O VAST_SEV_OFF
const vast_rule vast__rules[VAST__R__COUNT] = {
#define VAST__RULE_ROW(e, id, cat, code, w, c, s, a, sum, fix)                                     \
  {id, cat, code, sum, fix, {w, c, s, a}},
    VAST__RULES(VAST__RULE_ROW)
#undef VAST__RULE_ROW
};
#undef E
#undef W
#undef I
#undef O

size_t vast_rule_count(void) {
  return VAST__R__COUNT;
}

const vast_rule *vast_rule_at(size_t i) {
  return i < VAST__R__COUNT ? &vast__rules[i] : NULL;
}

const vast_rule *vast_rule_find(const char *id) {
  if (!id) return NULL;
  for (size_t i = 0; i < VAST__R__COUNT; i++)
    if (strcmp(vast__rules[i].id, id) == 0) return &vast__rules[i];
  return NULL;
}

const char *vast_severity_name(vast_severity sev) {
  switch (sev) {
  case VAST_SEV_INFO:
    return "info";
  case VAST_SEV_WARNING:
    return "warning";
  case VAST_SEV_ERROR:
    return "error";
  case VAST_SEV_OFF:
    return "off";
  }
  return "off";
}

static const char *const profile_names[VAST_PROFILE__COUNT] = {"web", "ctv", "ssai", "audio"};

const char *vast_profile_name(vast_profile p) {
  return (unsigned)p < VAST_PROFILE__COUNT ? profile_names[p] : "";
}

vast_err vast_profile_from_name(const char *name, vast_profile *out) {
  if (!name || !out) return VAST_E_INVAL;
  for (int i = 0; i < VAST_PROFILE__COUNT; i++)
    if (strcasecmp(name, profile_names[i]) == 0) {
      *out = (vast_profile)i;
      return VAST_OK;
    }
  return VAST_E_INVAL;
}

void vast_validate_options_init(vast_validate_options *opt) {
  if (!opt) return;
  memset(opt, 0, sizeof *opt);
  opt->size = sizeof *opt;
  opt->profile = VAST_PROFILE_WEB;
  opt->min_severity = VAST_SEV_INFO;
}

/* ---- the walk's state ---------------------------------------------------- */

typedef struct seg {
  const char *name;
  unsigned idx; /* 1-based; 0 = no index */
} seg;

typedef struct V {
  signed char sev[VAST__R__COUNT]; /* effective severity, VAST_SEV_OFF when not run */
  vast_finding_fn fn;
  void *ctx;
  int stop;
  int ver;          /* declared version * 10 (43 for 4.3); 0 when unknown */
  int iab_override; /* when set, the finding's IAB code instead of the rule's */
  int nseg;
  int rn;          /* segments of the path last rendered (rsegs) */
  const char *src; /* the document text, for what the model does not keep (CDATA) */
  size_t src_len;
  /* not zeroed at the start (only read up to nseg / rn, or written first) */
  seg segs[32];
  seg rsegs[32];
  uint16_t rlen[33]; /* path length after rendering i of rsegs */
  char path[768];
  char msg[768];
} V;

static inline int on(const V *v, vast__rule_idx r) {
  return !v->stop && v->sev[r] != VAST_SEV_OFF;
}

static inline void push(V *v, const char *name, size_t idx) {
  if (v->nseg < (int)(sizeof v->segs / sizeof v->segs[0])) {
    v->segs[v->nseg].name = name;
    v->segs[v->nseg].idx = (unsigned)idx;
  }
  v->nseg++;
}
static inline void pop(V *v) {
  v->nseg--;
}

/*
 * Formats the segment stack as "/VAST/Ad[1]/InLine..." (hot when many
 * findings). The segments rendered last time are remembered with the length
 * of the path after each, so only what changed since is written again.
 */
static void render_path(V *v) {
  int lim = v->nseg < 32 ? v->nseg : 32;
  int k = 0;
  while (k < lim && k < v->rn && v->rsegs[k].name == v->segs[k].name &&
         v->rsegs[k].idx == v->segs[k].idx)
    k++;
  char *o = v->path + v->rlen[k], *end = v->path + sizeof v->path - 16;
  int i = k;
  for (; i < lim && o < end; i++) {
    *o++ = '/';
    size_t nl = strlen(v->segs[i].name);
    if (nl > (size_t)(end - o)) nl = (size_t)(end - o);
    memcpy(o, v->segs[i].name, nl);
    o += nl;
    if (v->segs[i].idx) {
      char d[12];
      int n = 0;
      for (unsigned x = v->segs[i].idx; x && n < 11; x /= 10)
        d[n++] = (char)('0' + x % 10);
      *o++ = '[';
      while (n)
        *o++ = d[--n];
      *o++ = ']';
    }
    v->rsegs[i] = v->segs[i];
    v->rlen[i + 1] = (uint16_t)(o - v->path);
  }
  v->rn = o < end ? i : 0; /* a cut path is not reused */
  *o = 0;
}

static void report(V *v, vast__rule_idx r, const char *path, vast_pos pos) {
  vast_finding f;
  f.rule = &vast__rules[r];
  f.rule_id = f.rule->id;
  f.severity = (vast_severity)v->sev[r];
  f.iab_code = v->iab_override ? v->iab_override : f.rule->iab_code;
  f.message = v->msg;
  f.fix = f.rule->fix;
  f.path = path;
  f.line = pos.line;
  f.column = pos.column;
  if (v->fn(v->ctx, &f) != 0) v->stop = 1;
}

/*
 * fmt_msg: vsnprintf for the few conversions the messages use (%s, %.Ns,
 * %.*s, %d, %zu, %%), several times faster than the C library's, which
 * matters when a tag has hundreds of findings. Anything else falls back to
 * vsnprintf.
 */
static void fmt_msg(char *out, size_t cap, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  char *o = out, *end = out + cap - 1;
  for (const char *f = fmt; *f; f++) {
    if (*f != '%') { /* the literal text up to the next conversion */
      const char *pc = strchr(f, '%');
      size_t lit = pc ? (size_t)(pc - f) : strlen(f);
      size_t c = lit < (size_t)(end - o) ? lit : (size_t)(end - o);
      memcpy(o, f, c);
      o += c;
      f += lit - 1;
      continue;
    }
    f++;
    long prec = -1;
    if (*f == '.') {
      f++;
      if (*f == '*') {
        prec = va_arg(ap, int);
        f++;
      } else {
        prec = 0;
        while (*f >= '0' && *f <= '9')
          prec = prec * 10 + (*f++ - '0');
      }
    }
    char num[24];
    const char *str = NULL;
    size_t n = 0;
    if (*f == 's') {
      str = va_arg(ap, const char *);
      if (!str) str = "(null)";
      n = prec >= 0 ? strnlen(str, (size_t)prec) : strlen(str);
    } else if (*f == 'd' && prec < 0) {
      long x = va_arg(ap, int);
      unsigned long u = x < 0 ? (unsigned long)-x : (unsigned long)x;
      char *q = num + sizeof num;
      do
        *--q = (char)('0' + u % 10);
      while (u /= 10);
      if (x < 0) *--q = '-';
      str = q;
      n = (size_t)(num + sizeof num - q);
    } else if (f[0] == 'z' && f[1] == 'u' && prec < 0) {
      f++;
      size_t u = va_arg(ap, size_t);
      char *q = num + sizeof num;
      do
        *--q = (char)('0' + u % 10);
      while (u /= 10);
      str = q;
      n = (size_t)(num + sizeof num - q);
    } else if (*f == '%' && prec < 0) {
      str = "%";
      n = 1;
    } else { /* not handled here */
      vsnprintf(out, cap, fmt, ap2);
      va_end(ap2);
      return;
    }
    if (n > (size_t)(end - o)) n = (size_t)(end - o);
    memcpy(o, str, n);
    o += n;
  }
  *o = 0;
  va_end(ap2);
}

/* Reports rule r at the current path (plus an optional child element). */
static void emit(V *v, vast__rule_idx r, vast_pos pos, const char *child, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void emit(V *v, vast__rule_idx r, vast_pos pos, const char *child, const char *fmt, ...) {
  if (!on(v, r)) return;
  va_list ap;
  va_start(ap, fmt);
  fmt_msg(v->msg, sizeof v->msg, fmt, ap);
  va_end(ap);
  if (child) push(v, child, 0);
  render_path(v);
  if (child) pop(v);
  report(v, r, v->path, pos);
}

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
    emit(v, VAST__R_MACRO_MISSPELLED, pos, NULL, "macro [%.*s] looks like a misspelling of [%s]",
         (int)n, name, best);
  else
    emit(v, VAST__R_MACRO_UNKNOWN, pos, NULL, "macro [%.*s] is not an IAB VAST macro", (int)n,
         name);
}

enum url_kind { U_BEACON, U_ERROR, U_MEDIA, U_CLICK, U_WRAPPER, U_RESOURCE };

static int is_hex(int c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static int is_macro_char(int c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Character classes for the URL scan; 0 = nothing to look at. */
enum { C_WS = 1, C_XML, C_UNSAFE, C_PCT, C_MACRO, C_END };
static unsigned char url_class[256];

static void url_class_init(void) {
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
  emit(v, VAST__R_URL_NOT_CDATA, pos, NULL,
       "%s URL is not in CDATA: a raw & in it would make the tag unparseable", elem);
}

/*
 * check_url: every URL rule in one pass over the string. `what` names the
 * element in messages. Returns the URL's length (for duplicate detection).
 */
static size_t check_url(V *v, const char *url, vast_pos pos, const char *what, enum url_kind kind) {
  if (!url) return 0;
  if (!*url) {
    if (kind != U_WRAPPER) emit(v, VAST__R_URL_EMPTY, pos, NULL, "empty %s URL", what);
    return 0;
  }
  check_cdata(v, pos, what);
  if ((url[0] | 0x20) == 'a' && kind == U_BEACON && strcasecmp(url, "about:blank") == 0 &&
      !strcmp(what, "Impression")) {
    emit(v, VAST__R_IMPRESSION_ABOUT_BLANK, pos, NULL,
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
    emit(v, VAST__R_URL_WHITESPACE, pos, NULL, "%s URL contains %d whitespace character%s", what,
         ws, ws > 1 ? "s" : "");
  if (xmlc)
    emit(v, VAST__R_URL_XML_CHARS, pos, NULL, "%s URL contains %d raw <, > or control character%s",
         what, xmlc, xmlc > 1 ? "s" : "");
  if (unsafe)
    emit(v, VAST__R_URL_UNSAFE_CHARS, pos, NULL,
         "%s URL contains %d character%s that must be percent-encoded", what, unsafe,
         unsafe > 1 ? "s" : "");
  if (badpct)
    emit(v, VAST__R_URL_BAD_PERCENT, pos, NULL, "%s URL has %d invalid percent-encoding%s", what,
         badpct, badpct > 1 ? "s" : "");
  if (kind == U_ERROR && !has_errorcode)
    emit(v, VAST__R_ERROR_URL_NO_ERRORCODE, pos, NULL, "Error URL has no [ERRORCODE] macro");

  /* scheme */
  if (url[0] == '[' || url[0] == '$' || url[0] == '{' || (url[0] == '%' && url[1] == '%'))
    return h; /* the whole URL or its scheme comes from a macro */
  if (url[0] == '/' && url[1] == '/') {
    emit(v, VAST__R_URL_PROTOCOL_RELATIVE, pos, NULL, "%s URL '%.80s' is protocol-relative", what,
         url);
    return h;
  }
  const char *sp = url;
  if ((*sp >= 'a' && *sp <= 'z') || (*sp >= 'A' && *sp <= 'Z')) {
    while ((*sp >= 'a' && *sp <= 'z') || (*sp >= 'A' && *sp <= 'Z') || (*sp >= '0' && *sp <= '9') ||
           *sp == '+' || *sp == '-' || *sp == '.')
      sp++;
  }
  if (*sp != ':' || sp == url) {
    emit(v, VAST__R_URL_NOT_ABSOLUTE, pos, NULL, "%s URL '%.80s' is not absolute", what, url);
    return h;
  }
  size_t sl = (size_t)(sp - url);
  if (sl == 5 && strncasecmp(url, "https", 5) == 0) return h;
  if (sl == 4 && strncasecmp(url, "http", 4) == 0) {
    emit(v, VAST__R_URL_INSECURE, pos, NULL, "%s URL uses http://, not https://", what);
    return h;
  }
  if (kind != U_WRAPPER)
    emit(v, VAST__R_URL_NOT_HTTP, pos, NULL, "%s URL has scheme '%.*s:', not http(s)", what,
         (int)sl, url);
  return h;
}

/* A list of vast_url (Impression, ClickTracking, ...), with duplicate detection. */
static void check_url_list(V *v, const vast_url *u, size_t n, const char *elem, enum url_kind kind,
                           int dup) {
  size_t hs[128];
  for (size_t i = 0; i < n && !v->stop; i++) {
    push(v, elem, n > 1 ? i + 1 : 0);
    size_t h = check_url(v, u[i].url, u[i].pos, elem, kind);
    if (dup && i < 128 && u[i].url && *u[i].url) {
      hs[i] = h;
      for (size_t j = 0; j < i; j++)
        if (hs[j] == h && u[j].url && strcmp(u[j].url, u[i].url) == 0) {
          emit(v, VAST__R_URL_DUPLICATE, u[i].pos, NULL, "%s URL repeats %s[%zu]: fired twice",
               elem, elem, j + 1);
          break;
        }
    } else if (i < 128) {
      hs[i] = 0;
    }
    pop(v);
  }
}

static void check_single_url(V *v, const char *url, vast_pos pos, const char *elem,
                             enum url_kind kind) {
  if (!url) return;
  push(v, elem, 0);
  check_url(v, url, pos, elem, kind);
  pop(v);
}

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
      emit(v, VAST__R_EVENT_UNKNOWN, tr->pos, NULL, "'%.60s' is not a VAST tracking event", nm);
    } else {
      const char *canon = vast_event_name(tr->event);
      if (strcmp(canon, nm) != 0)
        emit(v, VAST__R_EVENT_NAME_CASE, tr->pos, NULL, "event '%.60s' should be spelled '%s'", nm,
             canon);
      if (v->ver >= 30 && !event_fits(tr->event, ct))
        emit(v, VAST__R_EVENT_WRONG_CREATIVE, tr->pos, NULL,
             "event '%s' is not defined for %s creatives", canon, ctype_name(ct));
      int since = event_since(tr->event);
      if (v->ver && since > v->ver)
        emit(v, VAST__R_EVENT_VERSION, tr->pos, NULL,
             "event '%s' needs VAST %d.%d; the tag declares %d.%d", canon, since / 10, since % 10,
             v->ver / 10, v->ver % 10);
      if (v->ver >= 40 && event_deprecated(tr->event, ct))
        emit(v, VAST__R_EVENT_DEPRECATED, tr->pos, NULL, "event '%s' is deprecated in VAST 4",
             canon);
    }
    if (tr->event == VAST_EV_PROGRESS) {
      if (tr->offset.kind == VAST_OFFSET_NONE)
        emit(v, VAST__R_PROGRESS_NO_OFFSET, tr->pos, NULL, "progress event without offset");
      else if (tr->offset.kind == VAST_OFFSET_INVALID)
        emit(v, VAST__R_OFFSET_MALFORMED, tr->pos, NULL,
             "progress offset '%.40s' is not a time or percentage",
             tr->offset.raw ? tr->offset.raw : "");
      else if ((tr->offset.kind == VAST_OFFSET_PERCENT && tr->offset.value > 100) ||
               (tr->offset.kind == VAST_OFFSET_TIME && dur > 0 && tr->offset.value > dur + 0.0005))
        emit(v, VAST__R_OFFSET_BEYOND_DURATION, tr->pos, NULL,
             "progress offset '%.40s' is after the end of the ad",
             tr->offset.raw ? tr->offset.raw : "");
    } else if (tr->offset.kind == VAST_OFFSET_INVALID) {
      emit(v, VAST__R_OFFSET_MALFORMED, tr->pos, NULL, "offset '%.40s' is not a time or percentage",
           tr->offset.raw ? tr->offset.raw : "");
    }
    size_t h = check_url(v, tr->url, tr->pos, "Tracking", U_BEACON);
    if (i < 128) {
      hs[i] = h;
      if (tr->url && *tr->url)
        for (size_t j = 0; j < i; j++)
          if (hs[j] == h && t[j].event == tr->event &&
              (t[j].event != VAST_EV_UNKNOWN || strcmp(t[j].event_name, nm) == 0) &&
              t[j].offset.kind == tr->offset.kind && t[j].offset.value == tr->offset.value &&
              strcmp(t[j].url, tr->url) == 0) {
            emit(v, VAST__R_URL_DUPLICATE, tr->pos, NULL,
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
    emit(v, VAST__R_MISSING_MEDIAFILES, l->pos, l->has_media_files_element ? "MediaFiles" : NULL,
         "Linear has no MediaFile");
    return;
  }
  push(v, "MediaFiles", 0);
  for (size_t i = 0; i < l->n_media_files && !v->stop; i++) {
    const vast_media_file *m = &l->media_files[i];
    push(v, "MediaFile", i + 1);
    if (!m->url || !*m->url)
      emit(v, VAST__R_MEDIAFILE_EMPTY_URL, m->pos, NULL, "MediaFile has no URL");
    else
      check_url(v, m->url, m->pos, "MediaFile", U_MEDIA);
    if (!m->delivery || !*m->delivery)
      emit(v, VAST__R_MEDIAFILE_MISSING_DELIVERY, m->pos, NULL,
           "MediaFile has no delivery attribute");
    if (!m->type || !*m->type)
      emit(v, VAST__R_MEDIA_MIME_MISSING, m->pos, NULL, "MediaFile has no type attribute");
    else if (!mime_known(m->type))
      emit(v, VAST__R_MEDIA_MIME_UNKNOWN, m->pos, NULL,
           "MediaFile type '%.60s' is not a known media type", m->type);
    int vp = is_vpaid(m);
    n_vpaid += vp;
    n_mp4 += is_h264_mp4(m);
    n_audio += m->type && strncasecmp(m->type, "audio/", 6) == 0;
    if (!vp && (m->width < 0 || m->height < 0))
      emit(v, VAST__R_MEDIA_SIZE_MISSING, m->pos, NULL, "MediaFile has no %s",
           m->width < 0 && m->height < 0 ? "width or height"
           : m->width < 0                ? "width"
                                         : "height");
    if (!vp && m->bitrate < 0 && m->min_bitrate < 0 && m->max_bitrate < 0 &&
        (!m->delivery || strcasecmp(m->delivery, "progressive") == 0))
      emit(v, VAST__R_MEDIA_BITRATE_MISSING, m->pos, NULL, "progressive MediaFile has no bitrate");
    pop(v);
  }
  if (n_vpaid && n_vpaid == (int)l->n_media_files)
    emit(v, VAST__R_MEDIA_VPAID_ONLY, l->pos, NULL,
         "every MediaFile (%d) is VPAID/JavaScript/Flash", n_vpaid);
  else if (n_vpaid)
    emit(v, VAST__R_MEDIA_VPAID, l->pos, NULL, "%d VPAID/JavaScript MediaFile%s", n_vpaid,
         n_vpaid > 1 ? "s" : "");
  if (!n_mp4)
    emit(v, VAST__R_MEDIA_NO_MP4, l->pos, NULL, "no progressive H.264 video/mp4 MediaFile");
  if (!n_audio) emit(v, VAST__R_MEDIA_NO_AUDIO, l->pos, NULL, "no audio/* MediaFile");
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
      emit(v, VAST__R_MISSING_DURATION, l->pos, NULL, "Linear has no Duration");
    else if (dur < 0)
      emit(v, VAST__R_DURATION_MALFORMED, l->pos, "Duration",
           "Duration '%.40s' is not HH:MM:SS[.mmm]", l->duration_raw);
    else if (dur == 0)
      emit(v, VAST__R_DURATION_ZERO, l->pos, "Duration", "Duration is zero");
  }
  if (l->skipoffset.kind == VAST_OFFSET_INVALID)
    emit(v, VAST__R_SKIPOFFSET_MALFORMED, l->pos, NULL,
         "skipoffset '%.40s' is not a time or percentage",
         l->skipoffset.raw ? l->skipoffset.raw : "");
  else if ((l->skipoffset.kind == VAST_OFFSET_PERCENT && l->skipoffset.value >= 100) ||
           (l->skipoffset.kind == VAST_OFFSET_TIME && dur > 0 && l->skipoffset.value >= dur))
    emit(v, VAST__R_SKIPOFFSET_BEYOND_DURATION, l->pos, NULL,
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
        emit(v, VAST__R_MISSING_QUARTILE, l->pos, "TrackingEvents", "no '%s' Tracking event: %s",
             core_events[k], core_breaks[k]);
    if (l->skipoffset.kind != VAST_OFFSET_NONE && !skip)
      emit(v, VAST__R_SKIP_TRACKING_MISSING, l->pos, "TrackingEvents",
           "skippable ad (skipoffset '%.40s') has no 'skip' Tracking event: skips are not "
           "reported to the DSP and count as abandoned views in the completion rate",
           l->skipoffset.raw ? l->skipoffset.raw : "");
  }
  check_tracking(v, l->tracking, l->n_tracking, CT_LINEAR, dur);
  if (inl) check_media(v, l);
  if (inl && v->ver >= 40 && l->n_mezzanines == 0 && l->n_media_files)
    emit(v, VAST__R_MEDIA_NO_MEZZANINE, l->pos, NULL,
         "no Mezzanine: a stitcher that transcodes from the mezzanine file answers 406");
  if (l->click_through || l->n_click_tracking || l->n_custom_clicks) {
    push(v, "VideoClicks", 0);
    check_single_url(v, l->click_through, l->pos, "ClickThrough", U_CLICK);
    check_url_list(v, l->click_tracking, l->n_click_tracking, "ClickTracking", U_BEACON, 1);
    check_url_list(v, l->custom_clicks, l->n_custom_clicks, "CustomClick", U_BEACON, 1);
    pop(v);
  }
  for (size_t i = 0; i < l->n_icons && !v->stop; i++) {
    const vast_icon *ic = &l->icons[i];
    push(v, "Icons", 0);
    push(v, "Icon", i + 1);
    check_url_list(v, ic->click_tracking, ic->n_click_tracking, "IconClickTracking", U_BEACON, 1);
    check_url_list(v, ic->view_tracking, ic->n_view_tracking, "IconViewTracking", U_BEACON, 1);
    pop(v);
    pop(v);
  }
  for (size_t i = 0; i < l->n_mezzanines && !v->stop; i++) {
    push(v, "Mezzanine", l->n_mezzanines > 1 ? i + 1 : 0);
    check_url(v, l->mezzanines[i].url, l->mezzanines[i].pos, "Mezzanine", U_MEDIA);
    pop(v);
  }
  for (size_t i = 0; i < l->n_interactive_files && !v->stop; i++) {
    push(v, "InteractiveCreativeFile", l->n_interactive_files > 1 ? i + 1 : 0);
    check_url(v, l->interactive_files[i].url, l->interactive_files[i].pos,
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
      check_single_url(v, r[i].content, r[i].pos,
                       r[i].kind == VAST_RES_STATIC ? "StaticResource" : "IFrameResource",
                       U_RESOURCE);
}

static void check_nonlinear_ads(V *v, const vast_nonlinear_ads *na, int inl) {
  push(v, "NonLinearAds", 0);
  for (size_t i = 0; i < na->n_nonlinears && !v->stop; i++) {
    const vast_nonlinear *nl = &na->nonlinears[i];
    push(v, "NonLinear", i + 1);
    if (inl && !has_resource_url(nl->resources, nl->n_resources))
      emit(v, VAST__R_NONLINEAR_MISSING_RESOURCE, nl->pos, NULL, "NonLinear has no resource");
    check_resources(v, nl->resources, nl->n_resources);
    check_single_url(v, nl->click_through, nl->pos, "NonLinearClickThrough", U_CLICK);
    check_url_list(v, nl->click_tracking, nl->n_click_tracking, "NonLinearClickTracking", U_BEACON,
                   1);
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
      emit(v, VAST__R_COMPANION_MISSING_RESOURCE, c->pos, NULL, "Companion has no resource");
    if (inl && (c->width < 0 || c->height < 0))
      emit(v, VAST__R_COMPANION_MISSING_SIZE, c->pos, NULL, "Companion has no %s",
           c->width < 0 && c->height < 0 ? "width or height"
           : c->width < 0                ? "width"
                                         : "height");
    check_resources(v, c->resources, c->n_resources);
    check_single_url(v, c->click_through, c->pos, "CompanionClickThrough", U_CLICK);
    check_url_list(v, c->click_tracking, c->n_click_tracking, "CompanionClickTracking", U_BEACON,
                   1);
    check_tracking(v, c->tracking, c->n_tracking, CT_COMPANION, -1);
    pop(v);
  }
  pop(v);
}

/* ---- ads ----------------------------------------------------------------- */

static void check_ad(V *v, const vast_ad *ad) {
  if (ad->kind == VAST_AD_EMPTY) {
    emit(v, VAST__R_AD_EMPTY, ad->pos, NULL, "Ad has neither InLine nor Wrapper");
    return;
  }
  int inl = ad->kind == VAST_AD_INLINE;
  const char *body = inl ? "InLine" : "Wrapper";
  push(v, body, 0);
  vast_pos bp = ad->body_pos.line ? ad->body_pos : ad->pos;
  if (!ad->ad_system) emit(v, VAST__R_MISSING_ADSYSTEM, bp, NULL, "%s has no AdSystem", body);
  if (inl && !ad->ad_title) emit(v, VAST__R_MISSING_ADTITLE, bp, NULL, "InLine has no AdTitle");
  if (inl && v->ver >= 41 && !ad->ad_serving_id)
    emit(v, VAST__R_MISSING_ADSERVINGID, bp, NULL, "VAST %d.%d InLine has no AdServingId",
         v->ver / 10, v->ver % 10);
  if (ad->n_impressions == 0)
    emit(v, VAST__R_MISSING_IMPRESSION, bp, NULL, "%s has no Impression", body);
  if (inl && ad->n_creatives == 0)
    emit(v, VAST__R_MISSING_CREATIVES, bp, NULL, "InLine has no Creative");
  if (!inl) {
    if (!ad->vast_ad_tag_uri) {
      emit(v, VAST__R_WRAPPER_MISSING_URI, bp, NULL, "Wrapper has no VASTAdTagURI");
    } else {
      const char *u = ad->vast_ad_tag_uri;
      const char *c = strchr(u, ':'), *s = strpbrk(u, "/?#");
      int ws = strpbrk(u, " \t\r\n") != NULL;
      int other_scheme = c && (!s || c < s) && !(c - u == 4 && strncasecmp(u, "http", 4) == 0) &&
                         !(c - u == 5 && strncasecmp(u, "https", 5) == 0) && u[0] != '[';
      if (!*u || ws || other_scheme)
        emit(v, VAST__R_WRAPPER_URI_INVALID, bp, "VASTAdTagURI", "VASTAdTagURI '%.80s' is %s", u,
             !*u  ? "empty"
             : ws ? "not a URL (whitespace inside)"
                  : "not an http(s) URL");
      if (*u) check_single_url(v, u, bp, "VASTAdTagURI", U_WRAPPER);
    }
  }
  check_url_list(v, ad->errors, ad->n_errors, "Error", U_ERROR, 1);
  check_url_list(v, ad->impressions, ad->n_impressions, "Impression", U_BEACON, 1);
  if (ad->n_viewable || ad->n_not_viewable || ad->n_view_undetermined) {
    push(v, "ViewableImpression", 0);
    check_url_list(v, ad->viewable, ad->n_viewable, "Viewable", U_BEACON, 1);
    check_url_list(v, ad->not_viewable, ad->n_not_viewable, "NotViewable", U_BEACON, 1);
    check_url_list(v, ad->view_undetermined, ad->n_view_undetermined, "ViewUndetermined", U_BEACON,
                   1);
    pop(v);
  }
  for (size_t i = 0; i < ad->n_verifications && !v->stop; i++) {
    const vast_verification *vf = &ad->verifications[i];
    push(v, "AdVerifications", 0);
    push(v, "Verification", i + 1);
    for (size_t j = 0; j < vf->n_js_resources; j++)
      check_single_url(v, vf->js_resources[j].url, vf->pos, "JavaScriptResource", U_RESOURCE);
    check_tracking(v, vf->tracking, vf->n_tracking, CT_VERIFICATION, -1);
    pop(v);
    pop(v);
  }
  if (ad->n_creatives) push(v, "Creatives", 0);
  for (size_t i = 0; i < ad->n_creatives && !v->stop; i++) {
    const vast_creative *cr = &ad->creatives[i];
    push(v, "Creative", i + 1);
    if (inl && v->ver >= 40 && cr->n_universal_ad_ids == 0)
      emit(v, VAST__R_MISSING_UNIVERSALADID, cr->pos, NULL,
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
      emit(v, VAST__R_CREATIVE_EMPTY, cr->pos, NULL,
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

static void check_vast(V *v, const vast_vast *vv, vast_doc_kind kind) {
  push(v, kind == VAST_DOC_VAST1 ? "VideoAdServingTemplate" : "VAST", 0);
  int saved = v->ver;
  v->ver = version_x10(vv, kind);
  if (kind == VAST_DOC_VAST1) {
    emit(v, VAST__R_VERSION_LEGACY, vv->pos, NULL, "VAST 1.0 document (VideoAdServingTemplate)");
  } else if (!vv->version) {
    emit(v, VAST__R_VERSION_MISSING, vv->pos, NULL, "VAST element has no version attribute");
  } else {
    static const int ok[] = {20, 30, 40, 41, 42, 43};
    int good = 0;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
      good |= v->ver == ok[i];
    if (!good) {
      emit(v, VAST__R_VERSION_UNSUPPORTED, vv->pos, NULL, "VAST version '%.20s' is not supported",
           vv->version);
      if (v->ver < 20 || v->ver > 43) v->ver = 0; /* unknown: skip version-dependent rules */
    }
  }
  if (vv->n_ads == 0)
    emit(v, VAST__R_NO_AD, vv->pos, NULL, "no Ad in the response (no-ad response, IAB 303)");
  check_url_list(v, vv->errors, vv->n_errors, "Error", U_ERROR, 1);

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
          emit(v, VAST__R_POD_DUPLICATE_ADSERVINGID, ad->body_pos.line ? ad->body_pos : ad->pos,
               "AdServingId", "AdServingId '%.80s' is also used by Ad[%zu]", ad->ad_serving_id,
               j + 1);
          break;
        }
    if (ad->sequence >= 0) {
      with_seq++;
      for (size_t j = 0; j < i; j++)
        if (vv->ads[j].sequence == ad->sequence) {
          emit(v, VAST__R_POD_DUPLICATE_SEQUENCE, ad->pos, NULL,
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
        emit(v, VAST__R_POD_MIXED_BUFFET, vv->ads[i].pos, NULL,
             "%d Ad%s with sequence (pod) and %d without (buffet)", with_seq,
             with_seq > 1 ? "s" : "", without_seq);
        pop(v);
        break;
      }
  }
  v->ver = saved;
  pop(v);
}

static void check_vmap(V *v, const vast_vmap *vm) {
  push(v, "vmap:VMAP", 0);
  for (size_t i = 0; i < vm->n_breaks && !v->stop; i++) {
    const vast_ad_break *b = &vm->breaks[i];
    push(v, "vmap:AdBreak", i + 1);
    if (b->offset_kind == VAST_BREAK_INVALID)
      emit(v, VAST__R_VMAP_OFFSET_INVALID, b->pos, NULL, "timeOffset '%.40s' is not valid",
           b->time_offset ? b->time_offset : "");
    switch (b->source_kind) {
    case VAST_SOURCE_NONE:
      emit(v, VAST__R_VMAP_BREAK_NO_SOURCE, b->pos, NULL, "AdBreak has no AdSource");
      break;
    case VAST_SOURCE_URI:
      push(v, "vmap:AdSource", 0);
      check_single_url(v, b->ad_tag_uri, b->pos, "vmap:AdTagURI", U_WRAPPER);
      pop(v);
      break;
    case VAST_SOURCE_VAST:
      if (b->vast) {
        push(v, "vmap:AdSource", 0);
        push(v, "vmap:VASTAdData", 0);
        check_vast(v, b->vast, VAST_DOC_VAST);
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
        check_url(v, b->tracking[j].url, b->tracking[j].pos, "vmap:Tracking",
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
static void check_notes(V *v, const vast_doc *doc) {
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
    report(v, r, notes[i].path ? notes[i].path : "", notes[i].pos);
  }
}

/* ---- the wrapper chain (opt->chain) -------------------------------------- */

static size_t wrappers_in(const vast_ad *const *ads, size_t n) {
  size_t w = 0;
  for (size_t i = 0; i < n; i++)
    if (ads[i] && ads[i]->kind == VAST_AD_WRAPPER) w++;
  return w;
}

/* Index of the hop whose document holds `ad` (and the ad's index in it), or -1. */
static long hop_of(const vast_hop *hops, size_t nh, const vast_ad *ad, size_t *idx) {
  for (size_t i = 0; i < nh; i++) {
    const vast_vast *vv = hops[i].doc ? vast_doc_vast(hops[i].doc) : NULL;
    for (size_t k = 0; vv && k < vv->n_ads; k++)
      if (&vv->ads[k] == ad) {
        if (idx) *idx = k;
        return (long)i;
      }
  }
  return -1;
}

/* Where a failing path stopped: the document fetched (or attempted) for the last
 * Wrapper's URI when there is one, else the document holding the last level. */
static const char *failed_url(const vast_hop *hops, size_t nh, const vast_failure *f) {
  const vast_ad *last = f->ads[f->n - 1];
  long h = hop_of(hops, nh, last, NULL);
  if (h < 0) return "";
  if (last->kind == VAST_AD_WRAPPER && last->vast_ad_tag_uri) {
    char *u = NULL;
    if (vast_url_resolve(hops[h].url, last->vast_ad_tag_uri, &u, NULL) == VAST_OK) {
      for (size_t i = nh; i-- > 0;)
        if (hops[i].parent == h && hops[i].uri && strcmp(hops[i].uri, u) == 0) {
          free(u);
          return hops[i].url;
        }
      free(u);
    }
  }
  return hops[h].url; /* not fetched (limit, loop, refused): where it stopped */
}

static vast__rule_idx failure_rule(const vast_failure *f) {
  switch (f->iab_code) {
  case 302:
    return f->err == VAST_E_LOOP ? VAST__R_WRAPPER_LOOP : VAST__R_WRAPPER_LIMIT;
  case 303: /* Wrappers ignored under followAdditionalWrappers=false (issue 15) */
    return f->message && strstr(f->message, "followAdditionalWrappers") ? VAST__R_WRAPPER_REFUSED
                                                                        : VAST__R_WRAPPER_NO_AD;
  case 300:
    return VAST__R_WRAPPER_REFUSED;
  case 205:
    return VAST__R_WRAPPER_CATEGORY_BLOCKED; /* BlockedAdCategories (resolve.c) */
  case 100:
  case 101:
  case 102:
    return VAST__R_WRAPPER_RESPONSE_INVALID;
  default:
    return VAST__R_WRAPPER_UNAVAILABLE;
  }
}

/* Reports rule r on the root document's <Wrapper> holding `outer`. */
static void emit_on_wrapper(V *v, vast__rule_idx r, const vast_hop *hops, size_t nh,
                            const vast_ad *outer, int code, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static void emit_on_wrapper(V *v, vast__rule_idx r, const vast_hop *hops, size_t nh,
                            const vast_ad *outer, int code, const char *fmt, ...) {
  if (!on(v, r)) return;
  size_t k = 0;
  long h = hop_of(hops, nh, outer, &k);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->msg, sizeof v->msg, fmt, ap);
  va_end(ap);
  int base = v->nseg;
  push(v, "VAST", 0);
  push(v, "Ad", h == 0 ? k + 1 : 0);
  push(v, outer->kind == VAST_AD_WRAPPER ? "Wrapper" : "InLine", 0);
  render_path(v);
  v->nseg = base;
  v->iab_override = code;
  report(v, r, v->path, outer->body_pos.line ? outer->body_pos : outer->pos);
  v->iab_override = 0;
}

/*
 * The chain rules: one finding per failed ad that went through a Wrapper (its
 * rule from the failure's IAB code), and wrapper-depth for each resolved ad
 * with more than VAST_IAB_MAX_WRAPPERS Wrappers.
 */
static void check_chain(V *v, const vast_chain *c) {
  size_t nh = 0, na = 0, nf = 0;
  const vast_hop *hops = vast_chain_hops(c, &nh);
  const vast_resolved *ads = vast_chain_ads(c, &na);
  const vast_failure *fails = vast_chain_failures(c, &nf);
  for (size_t i = 0; i < na && !v->stop; i++) {
    size_t w = ads[i].n ? ads[i].n - 1 : 0;
    if (w > VAST_IAB_MAX_WRAPPERS && ads[i].ads[0])
      emit_on_wrapper(v, VAST__R_WRAPPER_DEPTH, hops, nh, ads[i].ads[0], 0,
                      "ad '%s' resolves through %zu Wrappers (the IAB recommends at most %d)",
                      ads[i].ads[0]->id ? ads[i].ads[0]->id : "", w, VAST_IAB_MAX_WRAPPERS);
  }
  for (size_t i = 0; i < nf && !v->stop; i++) {
    const vast_failure *f = &fails[i];
    if (!f->n || !f->ads || !f->ads[0] || f->ads[0]->kind != VAST_AD_WRAPPER) continue;
    const vast_ad *last = f->ads[f->n - 1];
    /* a Wrapper of this document without a URI: wrapper-missing-uri says it */
    if (f->n == 1 && f->iab_code == 101 && last->kind == VAST_AD_WRAPPER &&
        (!last->vast_ad_tag_uri || !*last->vast_ad_tag_uri))
      continue;
    const char *url = failed_url(hops, nh, f);
    const char *why = f->message ? f->message : vast_strerror(f->err);
    size_t ul = strlen(url);
    if (ul && strncmp(why, url, ul) == 0 && why[ul] == ':' && why[ul + 1] == ' ') why += ul + 2;
    size_t w = wrappers_in(f->ads, f->n);
    emit_on_wrapper(v, failure_rule(f), hops, nh, f->ads[0], f->iab_code,
                    "wrapper chain%s%.100s%s failed after %zu Wrapper%s at '%.300s': %.300s",
                    f->ads[0]->id ? " of ad '" : "", f->ads[0]->id ? f->ads[0]->id : "",
                    f->ads[0]->id ? "'" : "", w, w == 1 ? "" : "s", url, why);
  }
}

int vast__chain_wrapper_levels(const vast_chain *c) {
  size_t na = 0, nf = 0, best = 0;
  const vast_resolved *ads = vast_chain_ads(c, &na);
  const vast_failure *fails = vast_chain_failures(c, &nf);
  for (size_t i = 0; i < na; i++) {
    size_t w = wrappers_in(ads[i].ads, ads[i].n);
    if (w > best) best = w;
  }
  for (size_t i = 0; i < nf; i++) {
    size_t w = wrappers_in(fails[i].ads, fails[i].n);
    if (w > best) best = w;
  }
  return (int)best;
}

const vast_chain *vast__validate_chain_opt(const vast_validate_options *opt) {
  return opt && opt->size >= offsetof(vast_validate_options, chain) + sizeof opt->chain ? opt->chain
                                                                                        : NULL;
}

const vast_rule_override *vast__validate_overrides_opt(const vast_validate_options *opt,
                                                       size_t *n) {
  *n = 0;
  if (!opt || opt->size < offsetof(vast_validate_options, n_overrides) + sizeof opt->n_overrides ||
      !opt->overrides)
    return NULL;
  *n = opt->n_overrides;
  return opt->overrides;
}

vast_err vast_validate(const vast_doc *doc, const vast_validate_options *opt, vast_finding_fn fn,
                       void *ctx) {
  vast_validate_options def;
  if (!opt) {
    vast_validate_options_init(&def);
    opt = &def;
  }
  if (!doc || !fn || (unsigned)opt->profile >= VAST_PROFILE__COUNT) return VAST_E_INVAL;
  V vs; /* the walk's state: the small head zeroed, the buffers written before read */
  V *v = &vs;
  memset(v, 0, offsetof(V, segs));
  v->fn = fn;
  v->ctx = ctx;
  v->rlen[0] = 0;
  for (size_t r = 0; r < VAST__R__COUNT; r++)
    v->sev[r] = (signed char)vast__rules[r].severity[opt->profile];
  for (size_t i = 0; i < opt->n_disabled; i++) {
    const vast_rule *ru = vast_rule_find(opt->disabled[i]);
    if (ru) v->sev[ru - vast__rules] = VAST_SEV_OFF;
  }
  size_t n_ov = 0;
  const vast_rule_override *ov = vast__validate_overrides_opt(opt, &n_ov);
  for (size_t i = 0; i < n_ov; i++) {
    const vast_rule *ru = vast_rule_find(ov[i].rule_id);
    if (!ru || ov[i].severity < VAST_SEV_OFF || ov[i].severity > VAST_SEV_ERROR)
      return VAST_E_INVAL;
    v->sev[ru - vast__rules] = (signed char)ov[i].severity;
  }
  for (size_t r = 0; r < VAST__R__COUNT; r++)
    if (v->sev[r] != VAST_SEV_OFF && v->sev[r] < (int)opt->min_severity) v->sev[r] = VAST_SEV_OFF;
  url_class_init();
  v->src = vast_doc_source(doc, &v->src_len);
  vast_doc_kind kind = vast_doc_kind_of(doc);
  if (kind == VAST_DOC_VMAP) {
    const vast_vmap *vm = vast_doc_vmap(doc);
    if (vm) check_vmap(v, vm);
  } else {
    const vast_vast *vv = vast_doc_vast(doc);
    if (vv) check_vast(v, vv, kind);
  }
  if (!v->stop) check_notes(v, doc);
  const vast_chain *chain = vast__validate_chain_opt(opt);
  if (chain && !v->stop) check_chain(v, chain);
  return VAST_OK;
}
