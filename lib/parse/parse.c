/*
 * parse.c: VAST 1.0-4.3 and VMAP documents into the model of vastrack/doc.h.
 *
 * One pass of expat (SAX, namespaces off so undeclared prefixes are harmless;
 * prefixes are stripped) feeds a stack of frames. Each start tag is looked up
 * in the element table, checked against its parent, and either creates a
 * model object in the document arena, names the field its text will fill, or
 * is skipped (unknown or misplaced elements become notes; Extension-like
 * elements are kept as their raw XML, sliced from the input by byte offset).
 *
 * Hostile input: no DTD or external entity is ever loaded, any entity
 * declaration stops the parse (VAST_E_ENTITY), and input size, depth, element
 * count, text and URL lengths are bounded by vast_limits.
 *
 * This file holds the element lookup, errors and notes, text delivery, the
 * expat callbacks and vast_doc_parse; the start-tag handlers that build the
 * model are in parse-build.c, the value parsers, accessors and event names in
 * parse-value.c, what they share in parse-int.h.
 */
#include <expat.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/arena.h"
#include "parse/parse-int.h"
#include "vastrack/doc.h"
#include "vastrack/chain.h"

/* ---- element table ------------------------------------------------------ */

static const struct {
  const char *name;
  int id;
} element_table[] = {
#define X(id, name) {name, E_##id},
    ELEMENTS(X)
#undef X
};

enum { N_ELEMENTS = sizeof element_table / sizeof element_table[0] };

static const char *element_names[E__COUNT] = {
#define X(id, name) [E_##id] = name,
    ELEMENTS(X)
#undef X
};

/* Element names are matched case-insensitively (real tags write "Adsystem",
 * "Tracking" ... in odd cases). The table is sorted once, then searched. */
static struct {
  const char *name;
  int id;
} sorted_table[N_ELEMENTS];
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int cmp_name(const void *a, const void *b) {
  return strcasecmp(((const struct {
                      const char *name;
                      int id;
                    } *)a)
                        ->name,
                    ((const struct {
                      const char *name;
                      int id;
                    } *)b)
                        ->name);
}

/* Exact spellings first, through a small open-addressing hash table. */
enum { HASH_SLOTS = 256 };
static unsigned char hash_slots[HASH_SLOTS]; /* element id, 0 = empty */

static unsigned name_hash(const char *s) {
  unsigned h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static void sort_table(void) {
  memcpy(sorted_table, element_table, sizeof sorted_table);
  qsort(sorted_table, N_ELEMENTS, sizeof sorted_table[0], cmp_name);
  for (size_t i = 0; i < N_ELEMENTS; i++) {
    unsigned h = name_hash(element_table[i].name) % HASH_SLOTS;
    while (hash_slots[h])
      h = (h + 1) % HASH_SLOTS;
    hash_slots[h] = (unsigned char)element_table[i].id;
  }
}

static int element_lookup(const char *name) {
  pthread_once(&sorted_once, sort_table);
  for (unsigned h = name_hash(name) % HASH_SLOTS; hash_slots[h]; h = (h + 1) % HASH_SLOTS)
    if (!strcmp(element_names[hash_slots[h]], name)) return hash_slots[h];
  size_t lo = 0, hi = N_ELEMENTS;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcasecmp(name, sorted_table[mid].name);
    if (c == 0) return sorted_table[mid].id;
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return E_NONE;
}

/* ---- errors and notes ---------------------------------------------------- */

/*
 * The most common broken tag: a URL with a raw '&' outside CDATA
 * ("...?a=1&cb=2"). Expat stops a few bytes after the '&' with "invalid
 * token" or "undefined entity"; when a '&' starts the token there, the error
 * is moved onto it and says what to do.
 */
static void unescaped_amp(vast_error *err, const char *buf, size_t len, enum XML_Error code) {
  if (code != XML_ERROR_INVALID_TOKEN && code != XML_ERROR_UNDEFINED_ENTITY) return;
  if (err->offset >= len) return;
  size_t i = err->offset, back = 0;
  while (back < 64 && i > 0 && buf[i] != '&') {
    char c = buf[i];
    if (c == '<' || c == '>' || c == '\n' || c == ' ' || c == '"') return;
    i--;
    back++;
  }
  if (buf[i] != '&') return;
  if (err->column > back) err->column -= back;
  err->offset = i;
  snprintf(err->message, sizeof err->message,
           "XML: %s: unescaped '&' in text (a URL?); put the URL in CDATA "
           "(<![CDATA[...]]>) or write &amp;",
           code == XML_ERROR_INVALID_TOKEN ? "not well-formed (invalid token)"
                                           : "undefined entity");
}

void vast__parse_fail_at(parser *p, vast_err code, int iab, const char *msg) {
  if (p->fail) return;
  p->fail = code;
  if (p->err) {
    p->err->code = code;
    p->err->iab_code = iab;
    p->err->line = XML_GetCurrentLineNumber(p->xp);
    p->err->column = XML_GetCurrentColumnNumber(p->xp) + 1;
    long off = XML_GetCurrentByteIndex(p->xp);
    p->err->offset = off < 0 ? 0 : (size_t)off;
    snprintf(p->err->message, sizeof p->err->message, "%s", msg);
  }
  XML_StopParser(p->xp, XML_FALSE);
}

void vast__parse_fail_nomem(parser *p) {
  vast__parse_fail_at(p, VAST_E_NOMEM, 0, "out of memory");
}

/* Element path of the open frames, plus `leaf` when given. */
static const char *path_of(parser *p, const char *leaf) {
  char buf[512];
  size_t n = 0;
  buf[0] = 0;
  for (unsigned i = 0; i < p->depth && n < sizeof buf - 1; i++)
    n += (size_t)snprintf(buf + n, sizeof buf - n, "/%s", element_names[p->st[i].el]);
  if (leaf && n < sizeof buf - 1) n += (size_t)snprintf(buf + n, sizeof buf - n, "/%s", leaf);
  if (n >= sizeof buf) n = sizeof buf - 1;
  return vast__arena_strndup(p->A, buf, n);
}

void vast__parse_note(parser *p, vast_note_kind kind, int iab, const char *leaf, const char *fmt,
                      const char *arg) {
  vast_note *nt = vast__arena_push(p->A, &p->doc->notes, &p->doc->n_notes, sizeof *nt);
  if (!nt) return vast__parse_fail_nomem(p);
  char msg[300];
  snprintf(msg, sizeof msg, fmt, arg ? arg : "");
  nt->kind = kind;
  nt->iab_code = iab;
  nt->path = path_of(p, leaf ? leaf : p->cur);
  nt->message = vast__arena_strndup(p->A, msg, strlen(msg));
  set_pos(p, &nt->pos);
}

/* ---- text delivery ------------------------------------------------------- */

static char *dup_text(parser *p, const char *s, size_t n) {
  char *d = vast__arena_strndup(p->A, s, n);
  if (!d) vast__parse_fail_nomem(p);
  return d;
}

static int url_ok(parser *p, size_t n) {
  if (n <= p->lim.max_url_len) return 1;
  vast__parse_fail_at(p, VAST_E_LIMIT, 100, "URL longer than the limit");
  return 0;
}

/* Gives the text of frame f (or of its URL child) to the model. */
static void deliver(parser *p, frame *f, const char *s, size_t n) {
  s = trim(s, &n);
  switch (f->act) {
  case A_NONE:
    return;
  case A_STR:
  case A_RAWSTR:
    if (f->act == A_STR && !url_ok(p, n)) return;
    if (*f->str && n == 0) return;
    *f->str = dup_text(p, s, n);
    return;
  case A_URLITEM:
  case A_TRACKING:
  case A_MEDIA: {
    if (!url_ok(p, n)) return;
    /* A second URL child (VAST 1.0) becomes another item of the same list. */
    const char **slot = f->act == A_URLITEM    ? &((vast_url *)f->obj)->url
                        : f->act == A_TRACKING ? &((vast_tracking *)f->obj)->url
                                               : &((vast_media_file *)f->obj)->url;
    if (*slot && **slot) {
      void *copy = vast__arena_push(p->A, f->list, f->count, f->elsize);
      if (!copy) return vast__parse_fail_nomem(p);
      memcpy(copy, f->obj, f->elsize);
      f->obj = copy;
      slot = f->act == A_URLITEM    ? &((vast_url *)copy)->url
             : f->act == A_TRACKING ? &((vast_tracking *)copy)->url
                                    : &((vast_media_file *)copy)->url;
    }
    *slot = dup_text(p, s, n);
    return;
  }
  case A_DURATION: {
    vast_linear *l = f->obj;
    l->duration_raw = dup_text(p, s, n);
    l->duration = n ? vast_parse_time(l->duration_raw) : -1;
    if (l->duration < 0)
      vast__parse_note(p, VAST_NOTE_BAD_DURATION, 202, NULL,
                       n ? "Duration '%s' is not a time; duration unknown"
                         : "Duration is empty%s; duration unknown",
                       n ? l->duration_raw : "");
    return;
  }
  case A_UAID: {
    vast_universal_ad_id *u = f->obj;
    if (n) u->id_value = dup_text(p, s, n);
    return;
  }
  default:
    return;
  }
}

/* ---- expat callbacks ----------------------------------------------------- */

static const char *local_name(const char *name) {
  const char *c = strchr(name, ':');
  return c ? c + 1 : name;
}

static void on_start(void *ud, const XML_Char *qname, const XML_Char **atts) {
  parser *p = ud;
  if (p->fail) return;
  if (++p->n_elements > p->lim.max_elements) {
    vast__parse_fail_at(p, VAST_E_LIMIT, 100, "too many elements");
    return;
  }
  if (p->depth + p->skip + 1 > p->lim.max_depth) {
    vast__parse_fail_at(p, VAST_E_LIMIT, 100, "elements nested too deeply");
    return;
  }
  if (p->skip) {
    p->skip++;
    return;
  }
  const char *name = local_name(qname);
  int el = element_lookup(name);
  if (p->depth == 0 && el != E_VAST && el != E_VIDEO_AD_SERVING_TEMPLATE && el != E_VMAP) {
    char msg[160];
    snprintf(msg, sizeof msg, "root element <%.100s> is not VAST, VideoAdServingTemplate or VMAP",
             qname);
    vast__parse_fail_at(p, VAST_E_NOT_VAST, 101, msg);
    return;
  }
  frame f;
  memset(&f, 0, sizeof f);
  p->cur = name;
  p->atts_prefixed = 0;
  for (size_t i = 0; atts[i]; i += 2)
    p->atts_prefixed |= strchr(atts[i], ':') != NULL;
  f.el = el;
  f.tstart = p->tlen;
  int skipped = vast__parse_open_element(p, el, name, atts, &f);
  p->cur = NULL;
  if (skipped || p->fail) return;
  p->st[p->depth++] = f;
}

static void on_end(void *ud, const XML_Char *qname) {
  parser *p = ud;
  (void)qname;
  if (p->fail) return;
  if (p->skip) {
    if (--p->skip == 0 && p->skip_raw && p->raw_dst) {
      long end = XML_GetCurrentByteIndex(p->xp);
      int cnt = XML_GetCurrentByteCount(p->xp); /* 0 for an empty-element tag */
      size_t e = end < 0 ? p->raw_start : (size_t)end + (size_t)(cnt > 0 ? cnt : 0);
      if (cnt == 0) { /* <X/>: the end is the start tag's end */
        const char *gt = memchr(p->buf + p->raw_start, '>', p->len - p->raw_start);
        e = gt ? (size_t)(gt - p->buf) + 1 : p->raw_start;
      }
      if (e > p->len) e = p->len;
      *p->raw_dst = dup_text(p, p->buf + p->raw_start, e - p->raw_start);
    }
    return;
  }
  frame *f = &p->st[--p->depth];
  if (f->raw_dst) {
    long end = XML_GetCurrentByteIndex(p->xp);
    int cnt = XML_GetCurrentByteCount(p->xp); /* 0 for an empty-element tag */
    size_t e = end < 0 ? p->len : (size_t)end + (size_t)(cnt > 0 ? cnt : 0);
    if (cnt == 0) { /* <Extension .../>: the end is the start tag's end */
      const char *gt = memchr(p->buf + f->raw_from, '>', p->len - f->raw_from);
      e = gt ? (size_t)(gt - p->buf) + 1 : p->len;
    }
    if (e > p->len || e < f->raw_from) e = p->len;
    *f->raw_dst = dup_text(p, p->buf + f->raw_from, e - f->raw_from);
  }
  p->cur = element_names[f->el];
  const char *text = p->tb ? p->tb + f->tstart : ""; /* no text at all yet: tb is NULL */
  size_t n = p->tlen - f->tstart;
  if (f->el == E_URL) {
    frame *pf = top(p);
    if (pf) {
      deliver(p, pf, text, n);
      pf->got_url_child = 1;
    }
  } else {
    size_t tn = n;
    if (f->act != A_NONE && (!f->got_url_child || (trim(text, &tn), tn))) deliver(p, f, text, n);
  }
  p->cur = NULL;
  p->tlen = f->tstart;
}

static void on_text(void *ud, const XML_Char *s, int len) {
  parser *p = ud;
  if (p->fail || p->skip || p->depth == 0) return;
  size_t n = (size_t)len;
  if (p->tlen - p->st[p->depth - 1].tstart + n > p->lim.max_text_len) {
    vast__parse_fail_at(p, VAST_E_LIMIT, 100, "element text longer than the limit");
    return;
  }
  if (p->tlen + n > p->tcap) {
    size_t cap = p->tcap ? p->tcap : 4096;
    while (cap < p->tlen + n)
      cap *= 2;
    char *nb = realloc(p->tb, cap);
    if (!nb) return vast__parse_fail_nomem(p);
    p->tb = nb;
    p->tcap = cap;
  }
  memcpy(p->tb + p->tlen, s, n);
  p->tlen += n;
}

static void on_entity_decl(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                           int value_len, const XML_Char *base, const XML_Char *system_id,
                           const XML_Char *public_id, const XML_Char *notation) {
  (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)system_id,
      (void)public_id, (void)notation;
  vast__parse_fail_at(ud, VAST_E_ENTITY, 100, "entity declarations are refused");
}

static int on_external_entity(XML_Parser xp, const XML_Char *context, const XML_Char *base,
                              const XML_Char *system_id, const XML_Char *public_id) {
  (void)xp, (void)context, (void)base, (void)system_id, (void)public_id;
  return XML_STATUS_ERROR; /* never loaded */
}

/* ---- public -------------------------------------------------------------- */

/*
 * expat seeds its hash tables from the system's entropy source on every
 * parser it creates (a getrandom call per document). vastrack reads one seed
 * per process and derives a distinct salt per parser from it.
 */
static unsigned long salt_base;
static unsigned long salt_counter;
static pthread_once_t salt_once = PTHREAD_ONCE_INIT;

static void salt_init(void) {
  unsigned long s = 0;
  FILE *f = fopen("/dev/urandom", "rb");
  if (f) {
    if (fread(&s, sizeof s, 1, f) != 1) s = 0;
    fclose(f);
  }
  salt_base = s ^ (unsigned long)(uintptr_t)&s;
}

static unsigned long next_salt(void) {
  pthread_once(&salt_once, salt_init);
  unsigned long x =
      salt_base + __atomic_add_fetch(&salt_counter, 1, __ATOMIC_RELAXED) * 0x9E3779B97F4A7C15ul;
  x ^= x >> 31; /* splitmix finaliser */
  x *= 0xBF58476D1CE4E5B9ul;
  return x ^ (x >> 27);
}

/*
 * One spare expat parser per thread: creating a parser allocates its buffers and
 * tables afresh, so a thread parsing document after document resets the last
 * one instead (XML_ParserReset clears every handler and setting; all are set
 * again below). Freed when the thread exits.
 */
static pthread_key_t xp_key;
static pthread_once_t xp_once = PTHREAD_ONCE_INIT;
static __thread XML_Parser xp_spare;

static void xp_destroy(void *x) {
  XML_ParserFree(x);
}
static void xp_key_init(void) {
  pthread_key_create(&xp_key, xp_destroy);
}

static XML_Parser xp_take(void) {
  pthread_once(&xp_once, xp_key_init);
  XML_Parser x = xp_spare;
  if (x) {
    xp_spare = NULL;
    pthread_setspecific(xp_key, NULL);
    if (XML_ParserReset(x, NULL)) return x;
    XML_ParserFree(x);
  }
  return XML_ParserCreate(NULL);
}

static void xp_give_back(XML_Parser x) {
  if (xp_spare) {
    XML_ParserFree(x);
    return;
  }
  xp_spare = x;
  pthread_setspecific(xp_key, x);
}

vast_err vast_doc_parse(const char *buf, size_t len, const vast_limits *limits, vast_doc **out,
                        vast_error *err) {
  if (out) *out = NULL;
  if (err) memset(err, 0, sizeof *err);
  if (!out || (!buf && len)) return VAST_E_INVAL;
  parser p;
  memset(&p, 0, sizeof p);
  vast_limits_init(&p.lim);
  if (limits) memcpy(&p.lim, limits, limits->size < sizeof p.lim ? limits->size : sizeof p.lim);
  p.lim.size = sizeof p.lim;
  if (p.lim.max_depth < 2) p.lim.max_depth = 2;
  p.err = err;
  if (len > p.lim.max_bytes) {
    if (err) {
      err->code = VAST_E_LIMIT;
      err->iab_code = 100;
      snprintf(err->message, sizeof err->message,
               "document of %zu bytes exceeds the %zu-byte limit", len, p.lim.max_bytes);
    }
    return VAST_E_LIMIT;
  }
  vast_doc *doc = calloc(1, sizeof *doc);
  if (!doc) return VAST_E_NOMEM;
  vast__arena_init(&doc->arena);
  /* Measured over the corpus: the model takes about 3-4x the input bytes. */
  vast__arena_hint(&doc->arena, len * 4 + 8192);
  p.doc = doc;
  p.A = &doc->arena;
  doc->source = vast__arena_strndup(p.A, buf ? buf : "", len);
  doc->source_len = len;
  p.buf = doc->source;
  p.len = len;
  frame small_stack[64];
  p.st = p.lim.max_depth <= 64 ? small_stack : malloc(sizeof *p.st * p.lim.max_depth);
  p.xp = xp_take();
  if (!doc->source || !p.st || !p.xp) {
    if (p.st != small_stack) free(p.st);
    if (p.xp) xp_give_back(p.xp);
    vast_doc_free(doc);
    return VAST_E_NOMEM;
  }
  XML_SetHashSalt(p.xp, next_salt());
  XML_SetUserData(p.xp, &p);
  XML_SetElementHandler(p.xp, on_start, on_end);
  XML_SetCharacterDataHandler(p.xp, on_text);
  XML_SetEntityDeclHandler(p.xp, on_entity_decl);
  XML_SetExternalEntityRefHandler(p.xp, on_external_entity);
  XML_SetParamEntityParsing(p.xp, XML_PARAM_ENTITY_PARSING_NEVER);

  enum XML_Status st = XML_Parse(p.xp, p.buf, (int)(len > 0x7fffffff ? 0x7fffffff : len), 1);
  if (st != XML_STATUS_OK && !p.fail) {
    enum XML_Error code = XML_GetErrorCode(p.xp);
    p.fail = VAST_E_XML;
    if (err) {
      err->code = VAST_E_XML;
      err->iab_code = 100;
      err->line = XML_GetCurrentLineNumber(p.xp);
      err->column = XML_GetCurrentColumnNumber(p.xp) + 1;
      long off = XML_GetCurrentByteIndex(p.xp);
      err->offset = off < 0 ? 0 : (size_t)off;
      snprintf(err->message, sizeof err->message, "XML: %s", XML_ErrorString(code));
      unescaped_amp(err, p.buf, len, code);
    }
  }
  if (!p.fail && !doc->vast && !doc->vmap) {
    p.fail = VAST_E_NOT_VAST;
    if (err) {
      err->code = VAST_E_NOT_VAST;
      err->iab_code = 101;
      snprintf(err->message, sizeof err->message, "no VAST or VMAP root element");
    }
  }
  xp_give_back(p.xp);
  if (p.st != small_stack) free(p.st);
  free(p.tb);
  if (p.fail) {
    vast_doc_free(doc);
    return p.fail;
  }
  *out = doc;
  return VAST_OK;
}

void vast_doc_free(vast_doc *doc) {
  if (!doc) return;
  vast__arena_free(&doc->arena);
  free(doc);
}
