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
 */
#include <expat.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/arena.h"
#include "vastrack/doc.h"
#include "vastrack/chain.h"

/* ---- element table ------------------------------------------------------ */

#define ELEMENTS(X)                                                                                \
  X(AD, "Ad")                                                                                      \
  X(AD_ID, "AdID")                                                                                 \
  X(AD_PARAMETERS, "AdParameters")                                                                 \
  X(AD_SERVING_ID, "AdServingId")                                                                  \
  X(AD_SOURCE, "AdSource")                                                                         \
  X(AD_SYSTEM, "AdSystem")                                                                         \
  X(AD_TAG_URI, "AdTagURI")                                                                        \
  X(AD_TITLE, "AdTitle")                                                                           \
  X(AD_VERIFICATIONS, "AdVerifications")                                                           \
  X(AD_BREAK, "AdBreak")                                                                           \
  X(ADVERTISER, "Advertiser")                                                                      \
  X(ALT_TEXT, "AltText")                                                                           \
  X(BLOCKED_AD_CATEGORIES, "BlockedAdCategories")                                                  \
  X(CATEGORY, "Category")                                                                          \
  X(CLICK_THROUGH, "ClickThrough")                                                                 \
  X(CLICK_TRACKING, "ClickTracking")                                                               \
  X(CLOSED_CAPTION_FILE, "ClosedCaptionFile")                                                      \
  X(CLOSED_CAPTION_FILES, "ClosedCaptionFiles")                                                    \
  X(COMPANION, "Companion")                                                                        \
  X(COMPANION_ADS, "CompanionAds")                                                                 \
  X(COMPANION_CLICK_THROUGH, "CompanionClickThrough")                                              \
  X(COMPANION_CLICK_TRACKING, "CompanionClickTracking")                                            \
  X(CREATIVE, "Creative")                                                                          \
  X(CREATIVE_EXTENSION, "CreativeExtension")                                                       \
  X(CREATIVE_EXTENSIONS, "CreativeExtensions")                                                     \
  X(CREATIVES, "Creatives")                                                                        \
  X(CUSTOM_AD_DATA, "CustomAdData")                                                                \
  X(CUSTOM_CLICK, "CustomClick")                                                                   \
  X(DESCRIPTION, "Description")                                                                    \
  X(DURATION, "Duration")                                                                          \
  X(ERROR, "Error")                                                                                \
  X(EXECUTABLE_RESOURCE, "ExecutableResource")                                                     \
  X(EXPIRES, "Expires")                                                                            \
  X(EXTENSION, "Extension")                                                                        \
  X(EXTENSIONS, "Extensions")                                                                      \
  X(HTML_RESOURCE, "HTMLResource")                                                                 \
  X(ICON, "Icon")                                                                                  \
  X(ICON_CLICK_FALLBACK_IMAGE, "IconClickFallbackImage")                                           \
  X(ICON_CLICK_FALLBACK_IMAGES, "IconClickFallbackImages")                                         \
  X(ICON_CLICK_THROUGH, "IconClickThrough")                                                        \
  X(ICON_CLICK_TRACKING, "IconClickTracking")                                                      \
  X(ICON_CLICKS, "IconClicks")                                                                     \
  X(ICON_VIEW_TRACKING, "IconViewTracking")                                                        \
  X(ICONS, "Icons")                                                                                \
  X(IFRAME_RESOURCE, "IFrameResource")                                                             \
  X(IMPRESSION, "Impression")                                                                      \
  X(INLINE, "InLine")                                                                              \
  X(INTERACTIVE_CREATIVE_FILE, "InteractiveCreativeFile")                                          \
  X(JAVASCRIPT_RESOURCE, "JavaScriptResource")                                                     \
  X(LINEAR, "Linear")                                                                              \
  X(MEDIA_FILE, "MediaFile")                                                                       \
  X(MEDIA_FILES, "MediaFiles")                                                                     \
  X(MEZZANINE, "Mezzanine")                                                                        \
  X(NON_LINEAR, "NonLinear")                                                                       \
  X(NON_LINEAR_ADS, "NonLinearAds")                                                                \
  X(NON_LINEAR_CLICK_THROUGH, "NonLinearClickThrough")                                             \
  X(NON_LINEAR_CLICK_TRACKING, "NonLinearClickTracking")                                           \
  X(NOT_VIEWABLE, "NotViewable")                                                                   \
  X(PRICING, "Pricing")                                                                            \
  X(STATIC_RESOURCE, "StaticResource")                                                             \
  X(SURVEY, "Survey")                                                                              \
  X(TRACKING, "Tracking")                                                                          \
  X(TRACKING_EVENTS, "TrackingEvents")                                                             \
  X(UNIVERSAL_AD_ID, "UniversalAdId")                                                              \
  X(URL, "URL")                                                                                    \
  X(VAST, "VAST")                                                                                  \
  X(VAST_AD_DATA, "VASTAdData")                                                                    \
  X(VAST_AD_TAG_URI, "VASTAdTagURI")                                                               \
  X(VAST_AD_TAG_URL, "VASTAdTagURL")                                                               \
  X(VAST_DATA, "VASTData")                                                                         \
  X(VERIFICATION, "Verification")                                                                  \
  X(VERIFICATION_PARAMETERS, "VerificationParameters")                                             \
  X(VIDEO, "Video")                                                                                \
  X(VIDEO_AD_SERVING_TEMPLATE, "VideoAdServingTemplate")                                           \
  X(VIDEO_CLICKS, "VideoClicks")                                                                   \
  X(VIEW_UNDETERMINED, "ViewUndetermined")                                                         \
  X(VIEWABLE, "Viewable")                                                                          \
  X(VIEWABLE_IMPRESSION, "ViewableImpression")                                                     \
  X(VMAP, "VMAP")                                                                                  \
  X(WRAPPER, "Wrapper")

enum {
  E_NONE = 0,
#define X(id, name) E_##id,
  ELEMENTS(X)
#undef X
      E__COUNT
};

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

/* ---- parser state -------------------------------------------------------- */

/* What the text of an element does when the element ends. */
enum action {
  A_NONE = 0,
  A_STR,      /* *str = trimmed text */
  A_RAWSTR,   /* like A_STR but not a URL: no URL length limit (HTML, parameters) */
  A_URLITEM,  /* url list item: item->url */
  A_TRACKING, /* tracking item */
  A_MEDIA,    /* media file url */
  A_DURATION,
  A_UAID
};

typedef struct frame {
  int el;
  enum action act;
  void *obj;        /* the model object this element created or fills */
  const char **str; /* A_STR target */
  void *list;       /* owner list for duplicates (URL children) */
  size_t *count;
  size_t elsize;
  size_t tstart; /* start of this element's text in the text buffer */
  int got_url_child;
  const char **raw_dst; /* VAST 3 AdVerifications Extension: its raw XML, kept at the end */
  size_t raw_from;      /* byte offset of that Extension's start tag */
} frame;

typedef struct parser {
  XML_Parser xp;
  vast_doc *doc;
  vast__arena *A;
  vast_limits lim;
  vast_error *err;
  vast_err fail;
  const char *buf;
  size_t len;
  frame *st;
  unsigned depth;   /* frames in use */
  unsigned skip;    /* > 0 while inside a skipped or raw-captured subtree */
  int skip_raw;     /* the skipped subtree is captured as raw XML */
  size_t raw_start; /* byte offset of the captured element's start tag */
  const char **raw_dst;
  size_t n_elements;
  const char *cur;   /* name of the element being opened or closed, for notes */
  int atts_prefixed; /* the start tag being opened has a prefixed attribute */
  char *tb;
  size_t tlen, tcap;
} parser;

struct vast_doc {
  vast__arena arena;
  vast_doc_kind kind;
  vast_vast *vast;
  vast_vmap *vmap;
  vast_note *notes;
  size_t n_notes;
  char *source;
  size_t source_len;
};

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

static void fail_at(parser *p, vast_err code, int iab, const char *msg) {
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

static void fail_nomem(parser *p) {
  fail_at(p, VAST_E_NOMEM, 0, "out of memory");
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

static void set_pos(parser *p, vast_pos *pos);

static void note(parser *p, vast_note_kind kind, int iab, const char *leaf, const char *fmt,
                 const char *arg) {
  vast_note *nt = vast__arena_push(p->A, &p->doc->notes, &p->doc->n_notes, sizeof *nt);
  if (!nt) return fail_nomem(p);
  char msg[300];
  snprintf(msg, sizeof msg, fmt, arg ? arg : "");
  nt->kind = kind;
  nt->iab_code = iab;
  nt->path = path_of(p, leaf ? leaf : p->cur);
  nt->message = vast__arena_strndup(p->A, msg, strlen(msg));
  set_pos(p, &nt->pos);
}

/* ---- small value parsers ------------------------------------------------- */

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *trim(const char *s, size_t *len) {
  size_t n = *len;
  while (n && is_space(*s))
    s++, n--;
  while (n && is_space(s[n - 1]))
    n--;
  *len = n;
  return s;
}

/* Attribute by name, case-insensitively (adId, AdID, adID...), ignoring any
 * namespace prefix. The first-letter test keeps the common miss cheap. */
static const char *attr(const parser *p, const XML_Char **atts, const char *name) {
  int c0 = name[0] | 0x20;
  for (size_t i = 0; atts[i]; i += 2) {
    const char *a = atts[i];
    if ((a[0] | 0x20) == c0 && strcasecmp(a, name) == 0) return atts[i + 1];
    if (!p->atts_prefixed) continue;
    const char *colon = strchr(a, ':');
    if (colon && strncmp(a, "xmlns", 5) != 0 && strcasecmp(colon + 1, name) == 0)
      return atts[i + 1];
  }
  return NULL;
}

static const char *dup_attr(parser *p, const XML_Char **atts, const char *name) {
  const char *v = attr(p, atts, name);
  if (!v) return NULL;
  size_t n = strlen(v);
  v = trim(v, &n);
  char *d = vast__arena_strndup(p->A, v, n);
  if (!d) fail_nomem(p);
  return d;
}

static long int_attr(parser *p, const XML_Char **atts, const char *name) {
  const char *v = attr(p, atts, name);
  if (!v) return -1;
  char *end;
  while (is_space(*v))
    v++;
  double d = strtod(v, &end); /* some tags write width="640.0" */
  while (is_space(*end))
    end++;
  if (end == v || *end || d < 0 || d > 2147483647.0) {
    note(p, VAST_NOTE_BAD_NUMBER, 0, NULL, "attribute %s is not a number", name);
    return -1;
  }
  return (long)d;
}

/* true/false/1/0 in any case; -1 when absent or unreadable. */
static int bool_attr(parser *p, const XML_Char **atts, const char *name) {
  const char *v = attr(p, atts, name);
  if (!v) return -1;
  while (is_space(*v))
    v++;
  size_t n = strlen(v);
  while (n && is_space(v[n - 1]))
    n--;
  if ((n == 4 && !strncasecmp(v, "true", 4)) || (n == 1 && *v == '1')) return 1;
  if ((n == 5 && !strncasecmp(v, "false", 5)) || (n == 1 && *v == '0')) return 0;
  note(p, VAST_NOTE_BAD_BOOLEAN, 0, NULL, "attribute %s is not a boolean", name);
  return -1;
}

static int bool_default(int v, int dflt) {
  return v < 0 ? dflt : v;
}

double vast_parse_time(const char *s) {
  if (!s) return -1;
  while (is_space(*s))
    s++;
  double parts[3];
  int n = 0;
  const char *q = s;
  for (;;) {
    char *end;
    if (*q < '0' || *q > '9') return -1;
    double v = strtod(q, &end);
    if (end == q || n == 3) return -1;
    parts[n++] = v;
    q = end;
    if (*q == ':') {
      if (memchr(s, '.', (size_t)(q - s))) return -1; /* fraction only in the last field */
      q++;
      continue;
    }
    break;
  }
  while (is_space(*q))
    q++;
  if (*q) return -1;
  if (n == 1) return parts[0];
  if (n == 2) return parts[1] >= 60 ? -1 : parts[0] * 60 + parts[1];
  if (parts[1] >= 60 || parts[2] >= 60) return -1;
  return parts[0] * 3600 + parts[1] * 60 + parts[2];
}

vast_offset vast_parse_offset(const char *s) {
  vast_offset o = {VAST_OFFSET_NONE, 0, s};
  if (!s) return o;
  const char *t = s;
  while (is_space(*t))
    t++;
  size_t n = strlen(t);
  while (n && is_space(t[n - 1]))
    n--;
  if (n > 1 && t[n - 1] == '%') {
    char *end;
    double v = strtod(t, &end);
    if (end == t + n - 1 && v >= 0 && v <= 100 && *t >= '0' && *t <= '9') {
      o.kind = VAST_OFFSET_PERCENT;
      o.value = v;
      return o;
    }
    o.kind = VAST_OFFSET_INVALID;
    return o;
  }
  double v = vast_parse_time(t);
  if (v >= 0 && n > 0) {
    o.kind = VAST_OFFSET_TIME;
    o.value = v;
  } else {
    o.kind = VAST_OFFSET_INVALID;
  }
  return o;
}

static vast_offset offset_attr(parser *p, const XML_Char **atts, const char *name) {
  const char *raw = dup_attr(p, atts, name);
  vast_offset o = vast_parse_offset(raw);
  if (o.kind == VAST_OFFSET_INVALID)
    note(p, VAST_NOTE_BAD_OFFSET, 0, NULL, "attribute %s is not a time or a percentage", name);
  return o;
}

/* ---- frames --------------------------------------------------------------- */

static frame *top(parser *p) {
  return p->depth ? &p->st[p->depth - 1] : NULL;
}

static int parent_el(parser *p) {
  return p->depth ? p->st[p->depth - 1].el : E_NONE;
}

static int grandparent_el(parser *p) {
  return p->depth > 1 ? p->st[p->depth - 2].el : E_NONE;
}

static void *push_item(parser *p, frame *f, void *list, size_t *count, size_t size) {
  void *it = vast__arena_push(p->A, list, count, size);
  if (!it) {
    fail_nomem(p);
    return NULL;
  }
  f->list = list;
  f->count = count;
  f->elsize = size;
  f->obj = it;
  return it;
}

static void set_pos(parser *p, vast_pos *pos) {
  pos->line = (uint32_t)XML_GetCurrentLineNumber(p->xp);
  pos->column = (uint32_t)XML_GetCurrentColumnNumber(p->xp) + 1;
  XML_Index off = XML_GetCurrentByteIndex(p->xp);
  pos->offset = off < 0 ? 0 : (uint32_t)off;
}

/* The ad an InLine/Wrapper child belongs to. */
static vast_ad *ad_of(parser *p) {
  for (unsigned i = p->depth; i-- > 0;)
    if (p->st[i].el == E_AD) return p->st[i].obj;
  return NULL;
}

static void *nearest(parser *p, int el) {
  for (unsigned i = p->depth; i-- > 0;)
    if (p->st[i].el == el) return p->st[i].obj;
  return NULL;
}

/* VAST 1.0: the linear creative of an InLine is built from <Video> and the
 * InLine-level TrackingEvents; both find or create it here. */
static vast_creative *vast1_linear(parser *p, vast_ad *ad) {
  for (size_t i = 0; i < ad->n_creatives; i++)
    if (ad->creatives[i].kind == VAST_CREATIVE_LINEAR) return (vast_creative *)&ad->creatives[i];
  vast_creative *c = vast__arena_push(p->A, &ad->creatives, &ad->n_creatives, sizeof *c);
  vast_linear *l = vast__arena_alloc(p->A, sizeof *l);
  if (!c || !l) {
    fail_nomem(p);
    return NULL;
  }
  c->kind = VAST_CREATIVE_LINEAR;
  c->sequence = -1;
  c->linear = l;
  l->duration = -1;
  l->ad_parameters_xml_encoded = -1;
  set_pos(p, &c->pos);
  set_pos(p, &l->pos);
  return c;
}

static vast_creative *new_creative_for(parser *p, vast_ad *ad, vast_creative_kind kind) {
  vast_creative *c = vast__arena_push(p->A, &ad->creatives, &ad->n_creatives, sizeof *c);
  if (!c) {
    fail_nomem(p);
    return NULL;
  }
  c->kind = kind;
  c->sequence = -1;
  set_pos(p, &c->pos);
  return c;
}

static void init_media(parser *p, vast_media_file *m, const XML_Char **atts) {
  m->id = dup_attr(p, atts, "id");
  m->delivery = dup_attr(p, atts, "delivery");
  m->type = dup_attr(p, atts, "type");
  m->width = (int)int_attr(p, atts, "width");
  m->height = (int)int_attr(p, atts, "height");
  m->codec = dup_attr(p, atts, "codec");
  m->bitrate = (int)int_attr(p, atts, "bitrate");
  m->min_bitrate = (int)int_attr(p, atts, "minBitrate");
  m->max_bitrate = (int)int_attr(p, atts, "maxBitrate");
  m->scalable = bool_attr(p, atts, "scalable");
  m->maintain_aspect_ratio = bool_attr(p, atts, "maintainAspectRatio");
  m->api_framework = dup_attr(p, atts, "apiFramework");
  m->file_size = int_attr(p, atts, "fileSize");
  m->media_type = dup_attr(p, atts, "mediaType");
}

static void init_tracking(parser *p, vast_tracking *t, const XML_Char **atts) {
  t->event_name = dup_attr(p, atts, "event");
  t->event = t->event_name ? vast_event_from_name(t->event_name) : VAST_EV_UNKNOWN;
  const char *off = attr(p, atts, "offset");
  if (off) t->offset = offset_attr(p, atts, "offset");
}

/* Begins skipping the subtree of the current element; with raw, its XML is
 * kept in *dst when it ends. */
static void skip_subtree(parser *p, int raw, const char **dst) {
  p->skip = 1;
  p->skip_raw = raw;
  p->raw_dst = dst;
  long off = XML_GetCurrentByteIndex(p->xp);
  p->raw_start = off < 0 ? 0 : (size_t)off;
}

/*
 * Decides what a start tag means given its parent. Returns 0 to push a frame,
 * 1 when the element was turned into a skipped subtree (no frame).
 */
static int open_element(parser *p, int el, const char *name, const XML_Char **atts, frame *f) {
  int par = parent_el(p);
  frame *pf = top(p);
  vast_ad *ad;

  switch (el) {
  case E_VAST:
  case E_VIDEO_AD_SERVING_TEMPLATE: {
    if (par != E_NONE && par != E_VAST_AD_DATA && par != E_VAST_DATA) break;
    if (el == E_VIDEO_AD_SERVING_TEMPLATE && par != E_NONE) break;
    vast_vast *v = vast__arena_alloc(p->A, sizeof *v);
    if (!v) return fail_nomem(p), 1;
    set_pos(p, &v->pos);
    if (el == E_VIDEO_AD_SERVING_TEMPLATE) {
      v->version = "1.0";
      v->version_major = 1;
    } else {
      v->version = dup_attr(p, atts, "version");
      if (v->version) {
        char *end;
        long maj = strtol(v->version, &end, 10);
        long min = *end == '.' ? strtol(end + 1, NULL, 10) : 0;
        v->version_major = (int)(maj < 0 || maj > 99 ? 0 : maj);
        v->version_minor = (int)(min < 0 || min > 99 ? 0 : min);
        if ((maj < 1 || maj > 4) && par == E_NONE) {
          fail_at(p, VAST_E_VERSION, 102, "VAST version not supported");
          return 1;
        }
      } else {
        note(p, VAST_NOTE_NO_VERSION, 0, name, "<VAST> has no version attribute%s", NULL);
      }
    }
    f->obj = v;
    if (par == E_NONE) {
      p->doc->vast = v;
      p->doc->kind = el == E_VAST ? VAST_DOC_VAST : VAST_DOC_VAST1;
    } else {
      vast_ad_break *b = nearest(p, E_AD_BREAK);
      if (b) b->vast = v;
    }
    return 0;
  }
  case E_VMAP: {
    if (par != E_NONE) break;
    vast_vmap *m = vast__arena_alloc(p->A, sizeof *m);
    if (!m) return fail_nomem(p), 1;
    set_pos(p, &m->pos);
    m->version = dup_attr(p, atts, "version");
    p->doc->vmap = m;
    p->doc->kind = VAST_DOC_VMAP;
    f->obj = m;
    return 0;
  }
  case E_AD: {
    if (par != E_VAST && par != E_VIDEO_AD_SERVING_TEMPLATE) break;
    vast_vast *v = pf->obj;
    vast_ad *a = push_item(p, f, &v->ads, &v->n_ads, sizeof *a);
    if (!a) return 1;
    set_pos(p, &a->pos);
    a->id = dup_attr(p, atts, "id");
    a->sequence = (int)int_attr(p, atts, "sequence");
    a->ad_type = dup_attr(p, atts, "adType");
    a->conditional_ad = bool_attr(p, atts, "conditionalAd");
    a->follow_additional_wrappers = 1;
    return 0;
  }
  case E_INLINE:
  case E_WRAPPER:
    if (par != E_AD) break;
    ad = pf->obj;
    if (ad->kind != VAST_AD_EMPTY) {
      note(p, VAST_NOTE_DUPLICATE, 101, name, "second <%s> in one <Ad> ignored", name);
      skip_subtree(p, 0, NULL);
      return 1;
    }
    ad->kind = el == E_INLINE ? VAST_AD_INLINE : VAST_AD_WRAPPER;
    set_pos(p, &ad->body_pos);
    if (el == E_WRAPPER) {
      ad->follow_additional_wrappers =
          bool_default(bool_attr(p, atts, "followAdditionalWrappers"), 1);
      ad->allow_multiple_ads = bool_default(bool_attr(p, atts, "allowMultipleAds"), 0);
      ad->fallback_on_no_ad = bool_default(bool_attr(p, atts, "fallbackOnNoAd"), 0);
    }
    f->obj = ad;
    return 0;
  case E_AD_SYSTEM:
  case E_AD_TITLE:
  case E_AD_SERVING_ID:
  case E_DESCRIPTION:
  case E_ADVERTISER:
  case E_EXPIRES:
  case E_SURVEY:
  case E_VAST_AD_TAG_URI:
  case E_VAST_AD_TAG_URL:
    if (par != E_INLINE && par != E_WRAPPER) break;
    ad = pf->obj;
    f->act = A_STR;
    switch (el) {
    case E_AD_SYSTEM:
      f->str = &ad->ad_system;
      ad->ad_system_version = dup_attr(p, atts, "version");
      break;
    case E_AD_TITLE:
      f->str = &ad->ad_title;
      break;
    case E_AD_SERVING_ID:
      f->str = &ad->ad_serving_id;
      break;
    case E_DESCRIPTION:
      f->str = &ad->description;
      break;
    case E_ADVERTISER:
      f->str = &ad->advertiser;
      break;
    case E_EXPIRES:
      f->str = &ad->expires;
      break;
    case E_SURVEY:
      f->str = &ad->survey;
      break;
    default:
      f->str = &ad->vast_ad_tag_uri;
      break;
    }
    return 0;
  case E_PRICING:
    if (par != E_INLINE && par != E_WRAPPER) break;
    ad = pf->obj;
    {
      vast_pricing *pr = vast__arena_alloc(p->A, sizeof *pr);
      if (!pr) return fail_nomem(p), 1;
      pr->model = dup_attr(p, atts, "model");
      pr->currency = dup_attr(p, atts, "currency");
      ad->pricing = pr;
      f->act = A_STR;
      f->str = &pr->value;
    }
    return 0;
  case E_CATEGORY:
  case E_BLOCKED_AD_CATEGORIES:
    if (par != E_INLINE && par != E_WRAPPER) break;
    ad = pf->obj;
    {
      vast_category *c = el == E_CATEGORY
                             ? push_item(p, f, &ad->categories, &ad->n_categories, sizeof *c)
                             : push_item(p, f, &ad->blocked_ad_categories,
                                         &ad->n_blocked_ad_categories, sizeof *c);
      if (!c) return 1;
      c->authority = dup_attr(p, atts, "authority");
      f->act = A_STR;
      f->str = &c->code;
    }
    return 0;
  case E_IMPRESSION:
  case E_ERROR: {
    vast_url *u = NULL;
    if (el == E_ERROR && (par == E_VAST || par == E_VIDEO_AD_SERVING_TEMPLATE)) {
      vast_vast *v = pf->obj;
      u = push_item(p, f, &v->errors, &v->n_errors, sizeof *u);
    } else if (par == E_INLINE || par == E_WRAPPER) {
      ad = pf->obj;
      u = el == E_IMPRESSION ? push_item(p, f, &ad->impressions, &ad->n_impressions, sizeof *u)
                             : push_item(p, f, &ad->errors, &ad->n_errors, sizeof *u);
    } else {
      break;
    }
    if (!u) return 1;
    u->id = dup_attr(p, atts, "id");
    set_pos(p, &u->pos);
    f->act = A_URLITEM;
    return 0;
  }
  case E_VIEWABLE_IMPRESSION:
    if (par != E_INLINE && par != E_WRAPPER) break;
    f->obj = pf->obj;
    return 0;
  case E_VIEWABLE:
  case E_NOT_VIEWABLE:
  case E_VIEW_UNDETERMINED: {
    if (par != E_VIEWABLE_IMPRESSION) break;
    ad = pf->obj;
    vast_url *u =
        el == E_VIEWABLE ? push_item(p, f, &ad->viewable, &ad->n_viewable, sizeof *u)
        : el == E_NOT_VIEWABLE
            ? push_item(p, f, &ad->not_viewable, &ad->n_not_viewable, sizeof *u)
            : push_item(p, f, &ad->view_undetermined, &ad->n_view_undetermined, sizeof *u);
    if (!u) return 1;
    set_pos(p, &u->pos);
    f->act = A_URLITEM;
    return 0;
  }
  case E_AD_VERIFICATIONS:
    /* VAST 4.1+ puts it on the InLine or Wrapper; VAST 3 tags carry the same
     * element in <Extension type="AdVerifications"> (an Ad-level Extension
     * only keeps a frame when it is that one, see E_EXTENSION). */
    if (par != E_INLINE && par != E_WRAPPER && !(par == E_EXTENSION && pf->raw_dst)) break;
    f->obj = pf->obj;
    return 0;
  case E_VERIFICATION: {
    if (par != E_AD_VERIFICATIONS) break;
    ad = pf->obj;
    vast_verification *v = push_item(p, f, &ad->verifications, &ad->n_verifications, sizeof *v);
    if (!v) return 1;
    v->vendor = dup_attr(p, atts, "vendor");
    set_pos(p, &v->pos);
    return 0;
  }
  case E_JAVASCRIPT_RESOURCE: {
    if (par != E_VERIFICATION) break;
    vast_verification *v = pf->obj;
    vast_js_resource *r = push_item(p, f, &v->js_resources, &v->n_js_resources, sizeof *r);
    if (!r) return 1;
    r->api_framework = dup_attr(p, atts, "apiFramework");
    r->browser_optional = bool_attr(p, atts, "browserOptional");
    f->act = A_STR;
    f->str = &r->url;
    return 0;
  }
  case E_EXECUTABLE_RESOURCE: {
    if (par != E_VERIFICATION) break;
    vast_verification *v = pf->obj;
    vast_exec_resource *r = push_item(p, f, &v->exec_resources, &v->n_exec_resources, sizeof *r);
    if (!r) return 1;
    r->api_framework = dup_attr(p, atts, "apiFramework");
    r->type = dup_attr(p, atts, "type");
    f->act = A_STR;
    f->str = &r->url;
    return 0;
  }
  case E_VERIFICATION_PARAMETERS:
    if (par != E_VERIFICATION) break;
    f->act = A_RAWSTR;
    f->str = &((vast_verification *)pf->obj)->parameters;
    return 0;
  case E_TRACKING_EVENTS:
/* The parent's own tracking list receives the Tracking children. */
#define TRACKING_OF(type)                                                                          \
  do {                                                                                             \
    type *o_ = pf->obj;                                                                            \
    f->list = &o_->tracking;                                                                       \
    f->count = &o_->n_tracking;                                                                    \
    return 0;                                                                                      \
  } while (0)
    if (par == E_LINEAR) set_pos(p, &((vast_linear *)pf->obj)->tracking_events_pos);
    switch (par) {
    case E_LINEAR:
      TRACKING_OF(vast_linear);
    case E_NON_LINEAR_ADS:
      TRACKING_OF(vast_nonlinear_ads);
    case E_COMPANION:
      TRACKING_OF(vast_companion);
    case E_VERIFICATION:
      TRACKING_OF(vast_verification);
    case E_AD_BREAK:
      TRACKING_OF(vast_ad_break);
#undef TRACKING_OF
    case E_INLINE:
    case E_WRAPPER: { /* VAST 1.0 puts TrackingEvents on the InLine */
      vast_creative *c = vast1_linear(p, pf->obj);
      if (!c) return 1;
      vast_linear *l = (vast_linear *)c->linear;
      f->list = &l->tracking;
      f->count = &l->n_tracking;
      return 0;
    }
    }
    break;
  case E_TRACKING: {
    if (par != E_TRACKING_EVENTS) break;
    void *list = pf->list;
    size_t *count = pf->count;
    vast_tracking *t = push_item(p, f, list, count, sizeof *t);
    if (!t) return 1;
    init_tracking(p, t, atts);
    set_pos(p, &t->pos);
    f->act = A_TRACKING;
    return 0;
  }
  case E_EXTENSIONS:
    if (par == E_INLINE || par == E_WRAPPER || par == E_VMAP || par == E_AD_BREAK) {
      f->obj = pf->obj;
      return 0;
    }
    break;
  case E_CREATIVE_EXTENSIONS:
    if (par != E_CREATIVE) break;
    f->obj = pf->obj;
    return 0;
  case E_EXTENSION:
  case E_CREATIVE_EXTENSION: {
    vast_extension *x;
    if (el == E_CREATIVE_EXTENSION && par == E_CREATIVE_EXTENSIONS) {
      vast_creative *c = pf->obj;
      x = vast__arena_push(p->A, &c->extensions, &c->n_extensions, sizeof *x);
    } else if (el == E_EXTENSION && par == E_EXTENSIONS) {
      int gp = grandparent_el(p);
      if (gp == E_VMAP) {
        vast_vmap *m = pf->obj;
        x = vast__arena_push(p->A, &m->extensions, &m->n_extensions, sizeof *x);
      } else if (gp == E_AD_BREAK) {
        vast_ad_break *b = pf->obj;
        x = vast__arena_push(p->A, &b->extensions, &b->n_extensions, sizeof *x);
      } else {
        vast_ad *a = pf->obj;
        x = vast__arena_push(p->A, &a->extensions, &a->n_extensions, sizeof *x);
      }
    } else {
      break;
    }
    if (!x) return fail_nomem(p), 1;
    x->type = dup_attr(p, atts, "type");
    set_pos(p, &x->pos);
    if (el == E_EXTENSION && x->type && !strcasecmp(x->type, "AdVerifications") &&
        (grandparent_el(p) == E_INLINE || grandparent_el(p) == E_WRAPPER)) {
      /* VAST 3 OMID: walked like the VAST 4 AdVerifications, raw XML still kept. */
      long off = XML_GetCurrentByteIndex(p->xp);
      f->obj = pf->obj;
      f->raw_dst = &x->xml;
      f->raw_from = off < 0 ? 0 : (size_t)off;
      return 0;
    }
    skip_subtree(p, 1, &x->xml);
    return 1;
  }
  case E_URL:
    /* VAST 1.0/2.0 legacy: <Impression><URL>..</URL>, <VASTAdTagURL><URL>.. */
    if (!pf || pf->act == A_NONE) break;
    f->act = A_NONE;
    return 0;
  case E_CREATIVES:
    if (par != E_INLINE && par != E_WRAPPER) break;
    f->obj = pf->obj;
    return 0;
  case E_CREATIVE: {
    if (par != E_CREATIVES) break;
    ad = pf->obj;
    vast_creative *c = push_item(p, f, &ad->creatives, &ad->n_creatives, sizeof *c);
    if (!c) return 1;
    set_pos(p, &c->pos);
    c->id = dup_attr(p, atts, "id");
    c->ad_id = dup_attr(p, atts, "adId"); /* attr() matches AdID, adID... */
    c->sequence = (int)int_attr(p, atts, "sequence");
    c->api_framework = dup_attr(p, atts, "apiFramework");
    return 0;
  }
  case E_UNIVERSAL_AD_ID: {
    if (par != E_CREATIVE) break;
    vast_creative *c = pf->obj;
    vast_universal_ad_id *u =
        push_item(p, f, &c->universal_ad_ids, &c->n_universal_ad_ids, sizeof *u);
    if (!u) return 1;
    u->id_registry = dup_attr(p, atts, "idRegistry");
    u->id_value = dup_attr(p, atts, "idValue");
    f->act = A_UAID;
    return 0;
  }
  case E_LINEAR:
  case E_VIDEO: {
    vast_creative *c;
    if (el == E_LINEAR && par == E_CREATIVE) {
      c = pf->obj;
      if (c->kind != VAST_CREATIVE_UNKNOWN) {
        note(p, VAST_NOTE_DUPLICATE, 101, name, "second creative body <%s> ignored", name);
        skip_subtree(p, 0, NULL);
        return 1;
      }
      vast_linear *l = vast__arena_alloc(p->A, sizeof *l);
      if (!l) return fail_nomem(p), 1;
      l->duration = -1;
      l->ad_parameters_xml_encoded = -1;
      set_pos(p, &l->pos);
      c->kind = VAST_CREATIVE_LINEAR;
      c->linear = l;
    } else if (el == E_VIDEO && (par == E_INLINE || par == E_WRAPPER)) {
      c = vast1_linear(p, pf->obj);
      if (!c) return 1;
    } else {
      break;
    }
    vast_linear *l = (vast_linear *)c->linear;
    if (attr(p, atts, "skipoffset")) l->skipoffset = offset_attr(p, atts, "skipoffset");
    f->obj = l;
    return 0;
  }
  case E_AD_ID: /* VAST 1.0 <Video><AdID> */
    if (par != E_VIDEO) break;
    {
      vast_creative *c = vast1_linear(p, ad_of(p));
      if (!c) return 1;
      f->act = A_STR;
      f->str = &c->ad_id;
    }
    return 0;
  case E_DURATION:
    if (par != E_LINEAR && par != E_VIDEO) break;
    f->act = A_DURATION;
    f->obj = pf->obj;
    return 0;
  case E_MEDIA_FILES:
    if (par != E_LINEAR && par != E_VIDEO) break;
    ((vast_linear *)pf->obj)->has_media_files_element = 1;
    set_pos(p, &((vast_linear *)pf->obj)->media_files_pos);
    f->obj = pf->obj;
    return 0;
  case E_MEDIA_FILE: {
    if (par != E_MEDIA_FILES) break;
    vast_linear *l = pf->obj;
    vast_media_file *m = push_item(p, f, &l->media_files, &l->n_media_files, sizeof *m);
    if (!m) return 1;
    init_media(p, m, atts);
    set_pos(p, &m->pos);
    f->act = A_MEDIA;
    return 0;
  }
  case E_MEZZANINE: {
    if (par != E_MEDIA_FILES) break;
    vast_linear *l = pf->obj;
    vast_mezzanine *m = push_item(p, f, &l->mezzanines, &l->n_mezzanines, sizeof *m);
    if (!m) return 1;
    m->id = dup_attr(p, atts, "id");
    m->delivery = dup_attr(p, atts, "delivery");
    m->type = dup_attr(p, atts, "type");
    m->codec = dup_attr(p, atts, "codec");
    m->media_type = dup_attr(p, atts, "mediaType");
    m->width = (int)int_attr(p, atts, "width");
    m->height = (int)int_attr(p, atts, "height");
    m->file_size = int_attr(p, atts, "fileSize");
    set_pos(p, &m->pos);
    f->act = A_STR;
    f->str = &m->url;
    return 0;
  }
  case E_INTERACTIVE_CREATIVE_FILE: {
    if (par != E_MEDIA_FILES) break;
    vast_linear *l = pf->obj;
    vast_interactive_file *m =
        push_item(p, f, &l->interactive_files, &l->n_interactive_files, sizeof *m);
    if (!m) return 1;
    m->type = dup_attr(p, atts, "type");
    m->api_framework = dup_attr(p, atts, "apiFramework");
    m->variable_duration = bool_attr(p, atts, "variableDuration");
    set_pos(p, &m->pos);
    f->act = A_STR;
    f->str = &m->url;
    return 0;
  }
  case E_CLOSED_CAPTION_FILES:
    if (par != E_MEDIA_FILES) break;
    f->obj = pf->obj;
    return 0;
  case E_CLOSED_CAPTION_FILE: {
    if (par != E_CLOSED_CAPTION_FILES) break;
    vast_linear *l = pf->obj;
    vast_closed_caption *m = push_item(p, f, &l->closed_captions, &l->n_closed_captions, sizeof *m);
    if (!m) return 1;
    m->type = dup_attr(p, atts, "type");
    m->language = dup_attr(p, atts, "language");
    set_pos(p, &m->pos);
    f->act = A_STR;
    f->str = &m->url;
    return 0;
  }
  case E_VIDEO_CLICKS:
    if (par != E_LINEAR && par != E_VIDEO) break;
    f->obj = pf->obj;
    return 0;
  case E_CLICK_THROUGH:
  case E_CLICK_TRACKING:
  case E_CUSTOM_CLICK: {
    if (par != E_VIDEO_CLICKS) break;
    vast_linear *l = pf->obj;
    if (el == E_CLICK_THROUGH) {
      l->click_through_id = dup_attr(p, atts, "id");
      f->act = A_STR;
      f->str = &l->click_through;
      return 0;
    }
    vast_url *u = el == E_CLICK_TRACKING
                      ? push_item(p, f, &l->click_tracking, &l->n_click_tracking, sizeof *u)
                      : push_item(p, f, &l->custom_clicks, &l->n_custom_clicks, sizeof *u);
    if (!u) return 1;
    u->id = dup_attr(p, atts, "id");
    set_pos(p, &u->pos);
    f->act = A_URLITEM;
    return 0;
  }
  case E_AD_PARAMETERS:
    f->act = A_RAWSTR;
    if (par == E_LINEAR) {
      vast_linear *l = pf->obj;
      l->ad_parameters_xml_encoded = bool_attr(p, atts, "xmlEncoded");
      f->str = &l->ad_parameters;
    } else if (par == E_NON_LINEAR) {
      f->str = &((vast_nonlinear *)pf->obj)->ad_parameters;
    } else if (par == E_COMPANION) {
      f->str = &((vast_companion *)pf->obj)->ad_parameters;
    } else {
      break;
    }
    return 0;
  case E_ICONS:
    if (par != E_LINEAR) break;
    f->obj = pf->obj;
    return 0;
  case E_ICON: {
    if (par != E_ICONS) break;
    vast_linear *l = pf->obj;
    vast_icon *ic = push_item(p, f, &l->icons, &l->n_icons, sizeof *ic);
    if (!ic) return 1;
    ic->program = dup_attr(p, atts, "program");
    ic->width = (int)int_attr(p, atts, "width");
    ic->height = (int)int_attr(p, atts, "height");
    ic->x_position = dup_attr(p, atts, "xPosition");
    ic->y_position = dup_attr(p, atts, "yPosition");
    const char *d = attr(p, atts, "duration");
    ic->duration = d ? vast_parse_time(d) : -1;
    if (attr(p, atts, "offset")) ic->offset = offset_attr(p, atts, "offset");
    ic->api_framework = dup_attr(p, atts, "apiFramework");
    ic->pxratio = dup_attr(p, atts, "pxratio");
    set_pos(p, &ic->pos);
    return 0;
  }
  case E_ICON_CLICKS:
  case E_ICON_CLICK_FALLBACK_IMAGES:
    if (par != E_ICON && !(el == E_ICON_CLICK_FALLBACK_IMAGES && par == E_ICON_CLICKS)) break;
    f->obj = pf->obj;
    return 0;
  case E_ICON_CLICK_THROUGH:
    if (par != E_ICON_CLICKS) break;
    f->act = A_STR;
    f->str = &((vast_icon *)pf->obj)->click_through;
    return 0;
  case E_ICON_CLICK_TRACKING:
  case E_ICON_VIEW_TRACKING: {
    vast_icon *ic = pf ? pf->obj : NULL;
    vast_url *u;
    if (el == E_ICON_CLICK_TRACKING && par == E_ICON_CLICKS)
      u = push_item(p, f, &ic->click_tracking, &ic->n_click_tracking, sizeof *u);
    else if (el == E_ICON_VIEW_TRACKING && par == E_ICON)
      u = push_item(p, f, &ic->view_tracking, &ic->n_view_tracking, sizeof *u);
    else
      break;
    if (!u) return 1;
    u->id = dup_attr(p, atts, "id");
    set_pos(p, &u->pos);
    f->act = A_URLITEM;
    return 0;
  }
  case E_ICON_CLICK_FALLBACK_IMAGE: {
    if (par != E_ICON_CLICK_FALLBACK_IMAGES) break;
    vast_icon *ic = pf->obj;
    vast_icon_fallback *fb =
        push_item(p, f, &ic->fallback_images, &ic->n_fallback_images, sizeof *fb);
    if (!fb) return 1;
    fb->width = (int)int_attr(p, atts, "width");
    fb->height = (int)int_attr(p, atts, "height");
    return 0;
  }
  case E_STATIC_RESOURCE:
  case E_IFRAME_RESOURCE:
  case E_HTML_RESOURCE: {
    vast_resource *r;
    if (par == E_ICON_CLICK_FALLBACK_IMAGE) {
      if (el != E_STATIC_RESOURCE) break;
      vast_icon_fallback *fb = pf->obj;
      fb->creative_type = dup_attr(p, atts, "creativeType");
      f->act = A_STR;
      f->str = &fb->url;
      return 0;
    } else if (par == E_NON_LINEAR) {
      vast_nonlinear *n = pf->obj;
      r = push_item(p, f, &n->resources, &n->n_resources, sizeof *r);
    } else if (par == E_COMPANION) {
      vast_companion *c = pf->obj;
      r = push_item(p, f, &c->resources, &c->n_resources, sizeof *r);
    } else if (par == E_ICON) {
      vast_icon *ic = pf->obj;
      r = push_item(p, f, &ic->resources, &ic->n_resources, sizeof *r);
    } else {
      break;
    }
    if (!r) return 1;
    r->kind = el == E_STATIC_RESOURCE   ? VAST_RES_STATIC
              : el == E_IFRAME_RESOURCE ? VAST_RES_IFRAME
                                        : VAST_RES_HTML;
    r->creative_type = dup_attr(p, atts, "creativeType");
    set_pos(p, &r->pos);
    f->act = el == E_HTML_RESOURCE ? A_RAWSTR : A_STR;
    f->str = &r->content;
    return 0;
  }
  case E_ALT_TEXT:
    if (par == E_COMPANION)
      f->str = &((vast_companion *)pf->obj)->alt_text;
    else if (par == E_ICON_CLICK_FALLBACK_IMAGE)
      f->str = &((vast_icon_fallback *)pf->obj)->alt_text;
    else
      break;
    f->act = A_STR;
    return 0;
  case E_NON_LINEAR_ADS:
  case E_COMPANION_ADS: {
    vast_creative *c;
    if (par == E_CREATIVE) {
      c = pf->obj;
      if (c->kind != VAST_CREATIVE_UNKNOWN) {
        note(p, VAST_NOTE_DUPLICATE, 101, name, "second creative body <%s> ignored", name);
        skip_subtree(p, 0, NULL);
        return 1;
      }
    } else if (par == E_INLINE || par == E_WRAPPER) { /* VAST 1.0 */
      c = new_creative_for(p, pf->obj, VAST_CREATIVE_UNKNOWN);
      if (!c) return 1;
    } else {
      break;
    }
    if (el == E_NON_LINEAR_ADS) {
      vast_nonlinear_ads *n = vast__arena_alloc(p->A, sizeof *n);
      if (!n) return fail_nomem(p), 1;
      set_pos(p, &n->pos);
      c->kind = VAST_CREATIVE_NONLINEAR;
      c->nonlinear = n;
      f->obj = n;
    } else {
      vast_companion_ads *ca = vast__arena_alloc(p->A, sizeof *ca);
      if (!ca) return fail_nomem(p), 1;
      set_pos(p, &ca->pos);
      ca->required = dup_attr(p, atts, "required");
      c->kind = VAST_CREATIVE_COMPANION;
      c->companions = ca;
      f->obj = ca;
    }
    return 0;
  }
  case E_NON_LINEAR: {
    if (par != E_NON_LINEAR_ADS) break;
    vast_nonlinear_ads *na = pf->obj;
    vast_nonlinear *n = push_item(p, f, &na->nonlinears, &na->n_nonlinears, sizeof *n);
    if (!n) return 1;
    n->id = dup_attr(p, atts, "id");
    n->width = (int)int_attr(p, atts, "width");
    n->height = (int)int_attr(p, atts, "height");
    n->expanded_width = (int)int_attr(p, atts, "expandedWidth");
    n->expanded_height = (int)int_attr(p, atts, "expandedHeight");
    n->scalable = bool_attr(p, atts, "scalable");
    n->maintain_aspect_ratio = bool_attr(p, atts, "maintainAspectRatio");
    if (attr(p, atts, "minSuggestedDuration"))
      n->min_suggested_duration = offset_attr(p, atts, "minSuggestedDuration");
    n->api_framework = dup_attr(p, atts, "apiFramework");
    set_pos(p, &n->pos);
    return 0;
  }
  case E_NON_LINEAR_CLICK_THROUGH:
  case E_NON_LINEAR_CLICK_TRACKING:
  case E_COMPANION_CLICK_THROUGH:
  case E_COMPANION_CLICK_TRACKING: {
    int through = el == E_NON_LINEAR_CLICK_THROUGH || el == E_COMPANION_CLICK_THROUGH;
    const char **thr;
    void *list;
    size_t *cnt;
    if ((el == E_NON_LINEAR_CLICK_THROUGH || el == E_NON_LINEAR_CLICK_TRACKING) &&
        par == E_NON_LINEAR) {
      vast_nonlinear *n = pf->obj;
      thr = &n->click_through;
      list = &n->click_tracking;
      cnt = &n->n_click_tracking;
    } else if ((el == E_COMPANION_CLICK_THROUGH || el == E_COMPANION_CLICK_TRACKING) &&
               par == E_COMPANION) {
      vast_companion *c = pf->obj;
      thr = &c->click_through;
      list = &c->click_tracking;
      cnt = &c->n_click_tracking;
    } else {
      break;
    }
    if (through) {
      f->act = A_STR;
      f->str = thr;
      return 0;
    }
    vast_url *u = push_item(p, f, list, cnt, sizeof *u);
    if (!u) return 1;
    u->id = dup_attr(p, atts, "id");
    set_pos(p, &u->pos);
    f->act = A_URLITEM;
    return 0;
  }
  case E_COMPANION: {
    if (par != E_COMPANION_ADS) break;
    vast_companion_ads *ca = pf->obj;
    vast_companion *c = push_item(p, f, &ca->companions, &ca->n_companions, sizeof *c);
    if (!c) return 1;
    c->id = dup_attr(p, atts, "id");
    c->width = (int)int_attr(p, atts, "width");
    c->height = (int)int_attr(p, atts, "height");
    c->asset_width = (int)int_attr(p, atts, "assetWidth");
    c->asset_height = (int)int_attr(p, atts, "assetHeight");
    c->expanded_width = (int)int_attr(p, atts, "expandedWidth");
    c->expanded_height = (int)int_attr(p, atts, "expandedHeight");
    c->api_framework = dup_attr(p, atts, "apiFramework");
    c->ad_slot_id = dup_attr(p, atts, "adSlotId");
    c->pxratio = dup_attr(p, atts, "pxratio");
    c->render_mode = dup_attr(p, atts, "renderingMode");
    set_pos(p, &c->pos);
    return 0;
  }
  /* VMAP */
  case E_AD_BREAK: {
    if (par != E_VMAP) break;
    vast_vmap *m = pf->obj;
    vast_ad_break *b = push_item(p, f, &m->breaks, &m->n_breaks, sizeof *b);
    if (!b) return 1;
    set_pos(p, &b->pos);
    b->time_offset = dup_attr(p, atts, "timeOffset");
    b->break_type = dup_attr(p, atts, "breakType");
    b->break_id = dup_attr(p, atts, "breakId");
    if (attr(p, atts, "repeatAfter")) b->repeat_after = offset_attr(p, atts, "repeatAfter");
    b->allow_multiple_ads = b->follow_redirects = -1;
    const char *t = b->time_offset;
    if (!t) {
      b->offset_kind = VAST_BREAK_INVALID;
    } else if (!strcasecmp(t, "start")) {
      b->offset_kind = VAST_BREAK_START;
    } else if (!strcasecmp(t, "end")) {
      b->offset_kind = VAST_BREAK_END;
    } else if (t[0] == '#') {
      char *end;
      long n = strtol(t + 1, &end, 10);
      b->offset_kind = *end || n < 1 ? VAST_BREAK_INVALID : VAST_BREAK_POSITION;
      b->offset_value = (double)n;
    } else {
      vast_offset o = vast_parse_offset(t);
      b->offset_kind = o.kind == VAST_OFFSET_TIME      ? VAST_BREAK_TIME
                       : o.kind == VAST_OFFSET_PERCENT ? VAST_BREAK_PERCENT
                                                       : VAST_BREAK_INVALID;
      b->offset_value = o.value;
    }
    if (b->offset_kind == VAST_BREAK_INVALID)
      note(p, VAST_NOTE_BAD_OFFSET, 0, NULL, "AdBreak timeOffset is missing or invalid%s", NULL);
    return 0;
  }
  case E_AD_SOURCE: {
    if (par != E_AD_BREAK) break;
    vast_ad_break *b = pf->obj;
    b->source_id = dup_attr(p, atts, "id");
    b->allow_multiple_ads = bool_attr(p, atts, "allowMultipleAds");
    b->follow_redirects = bool_attr(p, atts, "followRedirects");
    f->obj = b;
    return 0;
  }
  case E_VAST_AD_DATA:
  case E_VAST_DATA:
    if (par != E_AD_SOURCE) break;
    ((vast_ad_break *)pf->obj)->source_kind = VAST_SOURCE_VAST;
    f->obj = pf->obj;
    return 0;
  case E_AD_TAG_URI: {
    if (par != E_AD_SOURCE) break;
    vast_ad_break *b = pf->obj;
    b->source_kind = VAST_SOURCE_URI;
    b->template_type = dup_attr(p, atts, "templateType");
    f->act = A_STR;
    f->str = &b->ad_tag_uri;
    return 0;
  }
  case E_CUSTOM_AD_DATA: {
    if (par != E_AD_SOURCE) break;
    vast_ad_break *b = pf->obj;
    b->source_kind = VAST_SOURCE_CUSTOM;
    b->template_type = dup_attr(p, atts, "templateType");
    skip_subtree(p, 1, &b->custom_data);
    return 1;
  }
  }
  /* Anything else in a VAST 3 AdVerifications Extension is the extension's own. */
  if (par == E_EXTENSION) {
    skip_subtree(p, 0, NULL);
    return 1;
  }
  /* Unknown here: keep a note and skip the subtree. */
  if (el == E_NONE)
    note(p, VAST_NOTE_UNKNOWN_ELEMENT, 0, name, "unknown element <%s> ignored", name);
  else
    note(p, VAST_NOTE_MISPLACED, 0, name, "element <%s> is not expected here; ignored", name);
  skip_subtree(p, 0, NULL);
  return 1;
}

/* ---- text delivery ------------------------------------------------------- */

static char *dup_text(parser *p, const char *s, size_t n) {
  char *d = vast__arena_strndup(p->A, s, n);
  if (!d) fail_nomem(p);
  return d;
}

static int url_ok(parser *p, size_t n) {
  if (n <= p->lim.max_url_len) return 1;
  fail_at(p, VAST_E_LIMIT, 100, "URL longer than the limit");
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
      if (!copy) return fail_nomem(p);
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
      note(p, VAST_NOTE_BAD_DURATION, 202, NULL,
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
    fail_at(p, VAST_E_LIMIT, 100, "too many elements");
    return;
  }
  if (p->depth + p->skip + 1 > p->lim.max_depth) {
    fail_at(p, VAST_E_LIMIT, 100, "elements nested too deeply");
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
    fail_at(p, VAST_E_NOT_VAST, 101, msg);
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
  int skipped = open_element(p, el, name, atts, &f);
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
    fail_at(p, VAST_E_LIMIT, 100, "element text longer than the limit");
    return;
  }
  if (p->tlen + n > p->tcap) {
    size_t cap = p->tcap ? p->tcap : 4096;
    while (cap < p->tlen + n)
      cap *= 2;
    char *nb = realloc(p->tb, cap);
    if (!nb) return fail_nomem(p);
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
  fail_at(ud, VAST_E_ENTITY, 100, "entity declarations are refused");
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

vast_doc_kind vast_doc_kind_of(const vast_doc *doc) {
  return doc->kind;
}
const vast_vast *vast_doc_vast(const vast_doc *doc) {
  return doc->vast;
}
const vast_vmap *vast_doc_vmap(const vast_doc *doc) {
  return doc->vmap;
}

const vast_note *vast_doc_notes(const vast_doc *doc, size_t *n) {
  *n = doc->n_notes;
  return doc->notes;
}

const char *vast_doc_source(const vast_doc *doc, size_t *len) {
  if (len) *len = doc->source_len;
  return doc->source;
}

size_t vast_doc_memory(const vast_doc *doc) {
  return doc->arena.used + sizeof *doc;
}

/* ---- events --------------------------------------------------------------- */

static const char *const event_names[VAST_EV__COUNT] = {
#define X(name, str) [VAST_EV_##name] = str,
    VAST_EVENT_MAP(X)
#undef X
};

const char *vast_event_name(vast_event ev) {
  return (unsigned)ev < VAST_EV__COUNT ? event_names[ev] : "";
}

vast_event vast_event_from_name(const char *name) {
  if (!name) return VAST_EV_UNKNOWN;
  for (int i = 1; i < VAST_EV__COUNT; i++)
    if (!strcmp(name, event_names[i])) return (vast_event)i;
  for (int i = 1; i < VAST_EV__COUNT; i++)
    if (!strcasecmp(name, event_names[i])) return (vast_event)i;
  return VAST_EV_UNKNOWN;
}
