/*
 * parse/parse-int.h: what the files of the parse module share (internal).
 *
 * The element table's X-macro and ids, the parser state (frames and the
 * parser), the document struct behind the opaque vast_doc, a few one-line
 * helpers every file of the parser uses, and the functions one file of the
 * parser calls in another:
 *   parse.c        element lookup, errors and notes, text delivery, the expat
 *                  callbacks, vast_doc_parse;
 *   parse-build.c  attribute readers and the start-tag handlers that build
 *                  the model;
 *   parse-value.c  time and offset parsers, document accessors, event names.
 */
#ifndef VASTRACK_PARSE_INT_H
#define VASTRACK_PARSE_INT_H

#include <expat.h>
#include <stddef.h>

#include "base/arena.h"
#include "vastrack/doc.h"

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

/* ---- one-line helpers ---------------------------------------------------- */

static inline int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline const char *trim(const char *s, size_t *len) {
  size_t n = *len;
  while (n && is_space(*s))
    s++, n--;
  while (n && is_space(s[n - 1]))
    n--;
  *len = n;
  return s;
}

static inline frame *top(parser *p) {
  return p->depth ? &p->st[p->depth - 1] : NULL;
}

static inline void set_pos(parser *p, vast_pos *pos) {
  pos->line = (uint32_t)XML_GetCurrentLineNumber(p->xp);
  pos->column = (uint32_t)XML_GetCurrentColumnNumber(p->xp) + 1;
  XML_Index off = XML_GetCurrentByteIndex(p->xp);
  pos->offset = off < 0 ? 0 : (uint32_t)off;
}

/* ---- across the files of the parser ------------------------------------- */

/* Stops the parse with `code` (IAB code `iab`) and `msg` at the current
 * position; the first failure wins. parse.c. */
void vast__parse_fail_at(parser *p, vast_err code, int iab, const char *msg);
void vast__parse_fail_nomem(parser *p);
/* Adds a note at the current position, its path the open frames plus `leaf`
 * (the element being opened when NULL). parse.c. */
void vast__parse_note(parser *p, vast_note_kind kind, int iab, const char *leaf, const char *fmt,
                      const char *arg);
/* What a start tag means given its parent: 0 to push frame f, 1 when the
 * element became a skipped subtree. parse-build.c. */
int vast__parse_open_element(parser *p, int el, const char *name, const XML_Char **atts, frame *f);

#endif
