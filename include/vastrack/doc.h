/*
 * vastrack/doc.h: parsing VAST 1.0-4.3 and VMAP 1.0/1.0.1 into a read-only model.
 *
 * vast_doc_parse() runs expat over the input once (SAX, no DOM) and builds the
 * model below in one arena owned by the vast_doc. Every pointer reachable from a
 * vast_doc (structs, arrays, strings) stays valid until vast_doc_free() and must
 * not be freed or written by the caller. Strings are NUL-terminated UTF-8, URLs
 * already trimmed of surrounding whitespace; absent optional values are NULL
 * (strings), -1 (numbers) or 0 counts.
 *
 * The model structs are views: read them freely, never allocate them. New
 * fields are only ever appended.
 *
 * Thread safety: parsing is reentrant; a parsed vast_doc is immutable and may be
 * read from any number of threads at once.
 */
#ifndef VASTRACK_DOC_H
#define VASTRACK_DOC_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vast_doc vast_doc; /* opaque: one parsed document and its arena */

/* Position of an element's start tag in the input (1-based; 0 when unknown;
 * columns count characters, as expat does). */
typedef struct vast_pos {
  uint32_t line;
  uint32_t column;
  uint32_t offset; /* byte offset of the start tag's '<' in the input (0-based; meaningful
                      when line is not 0): vast_doc_source(doc)[offset] == '<' */
} vast_pos;

/* A URL-bearing element: Impression, Error, ClickTracking, Viewable, ... */
typedef struct vast_url {
  const char *url; /* trimmed; may be "" when the element was empty */
  const char *id;  /* id attribute or NULL */
  vast_pos pos;
} vast_url;

/* A time offset: skipoffset, progress offset, Icon offset, VMAP repeatAfter. */
typedef enum vast_offset_kind {
  VAST_OFFSET_NONE = 0, /* attribute absent */
  VAST_OFFSET_TIME,     /* value = seconds */
  VAST_OFFSET_PERCENT,  /* value = percent of the duration, 0-100 */
  VAST_OFFSET_INVALID   /* present but not parseable; raw holds the text */
} vast_offset_kind;

typedef struct vast_offset {
  vast_offset_kind kind;
  double value;
  const char *raw; /* as written, NULL when absent */
} vast_offset;

/*
 * Tracking event names. Unknown names are kept (VAST_EV_UNKNOWN plus the
 * original spelling in vast_tracking.event). Older synonyms map to their own
 * enum values so a validator can flag them.
 */
#define VAST_EVENT_MAP(XX)                                                                         \
  XX(UNKNOWN, "")                                                                                  \
  XX(LOADED, "loaded")                                                                             \
  XX(START, "start")                                                                               \
  XX(FIRST_QUARTILE, "firstQuartile")                                                              \
  XX(MIDPOINT, "midpoint")                                                                         \
  XX(THIRD_QUARTILE, "thirdQuartile")                                                              \
  XX(COMPLETE, "complete")                                                                         \
  XX(PROGRESS, "progress")                                                                         \
  XX(SKIP, "skip")                                                                                 \
  XX(CLOSE_LINEAR, "closeLinear")                                                                  \
  XX(MUTE, "mute")                                                                                 \
  XX(UNMUTE, "unmute")                                                                             \
  XX(PAUSE, "pause")                                                                               \
  XX(RESUME, "resume")                                                                             \
  XX(REWIND, "rewind")                                                                             \
  XX(PLAYER_EXPAND, "playerExpand")                                                                \
  XX(PLAYER_COLLAPSE, "playerCollapse")                                                            \
  XX(OTHER_AD_INTERACTION, "otherAdInteraction")                                                   \
  XX(CREATIVE_VIEW, "creativeView")                                                                \
  XX(INTERACTIVE_START, "interactiveStart")                                                        \
  XX(NOT_USED, "notUsed")                                                                          \
  XX(ACCEPT_INVITATION, "acceptInvitation")                                                        \
  XX(AD_EXPAND, "adExpand")                                                                        \
  XX(AD_COLLAPSE, "adCollapse")                                                                    \
  XX(MINIMIZE, "minimize")                                                                         \
  XX(CLOSE, "close")                                                                               \
  XX(OVERLAY_VIEW_DURATION, "overlayViewDuration")                                                 \
  XX(FULLSCREEN, "fullscreen")                                                                     \
  XX(EXIT_FULLSCREEN, "exitFullscreen")                                                            \
  XX(EXPAND, "expand")                                                                             \
  XX(COLLAPSE, "collapse")                                                                         \
  XX(ACCEPT_INVITATION_LINEAR, "acceptInvitationLinear")                                           \
  XX(TIME_SPENT_VIEWING, "timeSpentViewing")                                                       \
  XX(VERIFICATION_NOT_EXECUTED, "verificationNotExecuted")                                         \
  XX(BREAK_START, "breakStart")                                                                    \
  XX(BREAK_END, "breakEnd")                                                                        \
  XX(ERROR, "error")

typedef enum vast_event {
#define VAST__EV_ENUM(name, str) VAST_EV_##name,
  VAST_EVENT_MAP(VAST__EV_ENUM)
#undef VAST__EV_ENUM
      VAST_EV__COUNT
} vast_event;

/* Canonical name of an event ("firstQuartile"); "" for VAST_EV_UNKNOWN. */
VAST_API const char *vast_event_name(vast_event ev);
/* Event for a name as written in a tag (exact spelling first, then
 * case-insensitive); VAST_EV_UNKNOWN when not a known event. */
VAST_API vast_event vast_event_from_name(const char *name);

/* <Tracking event="..." offset="...">URL</Tracking> */
typedef struct vast_tracking {
  vast_event event;
  const char *event_name; /* as written in the tag */
  vast_offset offset;     /* progress offset; kind NONE when absent */
  const char *url;
  vast_pos pos;
} vast_tracking;

/* StaticResource / IFrameResource / HTMLResource of a NonLinear, Companion or Icon. */
typedef enum vast_resource_kind {
  VAST_RES_STATIC = 1,
  VAST_RES_IFRAME,
  VAST_RES_HTML
} vast_resource_kind;

typedef struct vast_resource {
  vast_resource_kind kind;
  const char *content;       /* URL (static, iframe) or HTML text */
  const char *creative_type; /* StaticResource@creativeType or NULL */
  vast_pos pos;
} vast_resource;

typedef struct vast_media_file {
  const char *url;
  const char *id;
  const char *delivery; /* "progressive" | "streaming" as written */
  const char *type;     /* MIME type */
  int width, height;    /* -1 when absent or not a number */
  const char *codec;
  int bitrate, min_bitrate, max_bitrate; /* kbit/s, -1 when absent */
  int scalable, maintain_aspect_ratio;   /* 1/0, -1 when absent */
  const char *api_framework;
  long file_size;         /* bytes, -1 when absent */
  const char *media_type; /* 4.1+ mediaType ("2D", "3D", "360") */
  vast_pos pos;
} vast_media_file;

typedef struct vast_mezzanine {
  const char *url;
  const char *id, *delivery, *type, *codec, *media_type;
  int width, height;
  long file_size;
  vast_pos pos;
} vast_mezzanine;

typedef struct vast_interactive_file {
  const char *url;
  const char *type;
  const char *api_framework;
  int variable_duration; /* 1/0, -1 when absent */
  vast_pos pos;
} vast_interactive_file;

typedef struct vast_closed_caption {
  const char *url;
  const char *type;
  const char *language;
  vast_pos pos;
} vast_closed_caption;

typedef struct vast_icon_fallback {
  const char *url; /* StaticResource of the IconClickFallbackImage */
  const char *creative_type;
  const char *alt_text;
  int width, height;
} vast_icon_fallback;

typedef struct vast_icon {
  const char *program;
  int width, height;
  const char *x_position, *y_position; /* number of pixels, "left"/"right"/"top"/"bottom" */
  double duration;                     /* seconds, -1 when absent */
  vast_offset offset;
  const char *api_framework;
  const char *pxratio;
  const vast_resource *resources;
  size_t n_resources;
  const char *click_through;
  const vast_url *click_tracking;
  size_t n_click_tracking;
  const vast_icon_fallback *fallback_images;
  size_t n_fallback_images;
  const vast_url *view_tracking;
  size_t n_view_tracking;
  vast_pos pos;
} vast_icon;

typedef struct vast_linear {
  double duration;          /* seconds; -1 when unknown (empty, "undefined", malformed) */
  const char *duration_raw; /* as written, NULL when the element is missing */
  vast_offset skipoffset;
  const vast_tracking *tracking;
  size_t n_tracking;
  const vast_media_file *media_files;
  size_t n_media_files;
  const vast_mezzanine *mezzanines;
  size_t n_mezzanines;
  const vast_interactive_file *interactive_files;
  size_t n_interactive_files;
  const vast_closed_caption *closed_captions;
  size_t n_closed_captions;
  const char *click_through; /* VideoClicks/ClickThrough, NULL when absent */
  const char *click_through_id;
  const vast_url *click_tracking;
  size_t n_click_tracking;
  const vast_url *custom_clicks;
  size_t n_custom_clicks;
  const char *ad_parameters;
  int ad_parameters_xml_encoded; /* 1/0, -1 when absent */
  const vast_icon *icons;
  size_t n_icons;
  int has_media_files_element; /* 1 when <MediaFiles> was present, even empty */
  vast_pos pos;
  vast_pos tracking_events_pos; /* <TrackingEvents>; 0,0 when absent */
  vast_pos media_files_pos;     /* <MediaFiles>; 0,0 when absent */
} vast_linear;

typedef struct vast_nonlinear {
  const char *id;
  int width, height, expanded_width, expanded_height;
  int scalable, maintain_aspect_ratio;
  vast_offset min_suggested_duration;
  const char *api_framework;
  const vast_resource *resources;
  size_t n_resources;
  const char *click_through;
  const vast_url *click_tracking;
  size_t n_click_tracking;
  const char *ad_parameters;
  vast_pos pos;
} vast_nonlinear;

typedef struct vast_nonlinear_ads {
  const vast_nonlinear *nonlinears;
  size_t n_nonlinears;
  const vast_tracking *tracking;
  size_t n_tracking;
  vast_pos pos;
} vast_nonlinear_ads;

typedef struct vast_companion {
  const char *id;
  int width, height, asset_width, asset_height, expanded_width, expanded_height;
  const char *api_framework, *ad_slot_id, *pxratio, *render_mode;
  const vast_resource *resources;
  size_t n_resources;
  const char *alt_text;
  const char *click_through;
  const vast_url *click_tracking;
  size_t n_click_tracking;
  const vast_tracking *tracking; /* creativeView */
  size_t n_tracking;
  const char *ad_parameters;
  vast_pos pos;
} vast_companion;

typedef struct vast_companion_ads {
  const char *required; /* "all" | "any" | "none" as written, NULL when absent */
  const vast_companion *companions;
  size_t n_companions;
  vast_pos pos;
} vast_companion_ads;

typedef struct vast_universal_ad_id {
  const char *id_registry;
  const char *id_value; /* 4.0 idValue attribute, or the element text (4.1+) */
} vast_universal_ad_id;

/* Extension / CreativeExtension, kept as the raw XML of the element. */
typedef struct vast_extension {
  const char *type;
  const char *xml; /* the whole element, start tag to end tag, as in the input */
  vast_pos pos;
} vast_extension;

typedef enum vast_creative_kind {
  VAST_CREATIVE_UNKNOWN = 0,
  VAST_CREATIVE_LINEAR,
  VAST_CREATIVE_NONLINEAR,
  VAST_CREATIVE_COMPANION
} vast_creative_kind;

typedef struct vast_creative {
  vast_creative_kind kind;
  const char *id;
  const char *ad_id; /* adId, AdID, adID, ... */
  int sequence;      /* -1 when absent */
  const char *api_framework;
  const vast_universal_ad_id *universal_ad_ids;
  size_t n_universal_ad_ids;
  const vast_linear *linear;            /* kind LINEAR */
  const vast_nonlinear_ads *nonlinear;  /* kind NONLINEAR */
  const vast_companion_ads *companions; /* kind COMPANION */
  const vast_extension *extensions;     /* CreativeExtensions */
  size_t n_extensions;
  vast_pos pos;
} vast_creative;

typedef struct vast_category {
  const char *authority;
  const char *code;
} vast_category;

typedef struct vast_pricing {
  const char *model;    /* CPM, CPC, ... */
  const char *currency; /* ISO 4217 */
  const char *value;    /* as written */
} vast_pricing;

typedef struct vast_js_resource {
  const char *url;
  const char *api_framework;
  int browser_optional; /* 1/0, -1 when absent */
} vast_js_resource;

typedef struct vast_exec_resource {
  const char *url;
  const char *api_framework;
  const char *type;
} vast_exec_resource;

typedef struct vast_verification {
  const char *vendor;
  const vast_js_resource *js_resources;
  size_t n_js_resources;
  const vast_exec_resource *exec_resources;
  size_t n_exec_resources;
  const char *parameters;        /* VerificationParameters text */
  const vast_tracking *tracking; /* verificationNotExecuted */
  size_t n_tracking;
  vast_pos pos;
} vast_verification;

typedef enum vast_ad_kind {
  VAST_AD_EMPTY = 0, /* <Ad> with neither InLine nor Wrapper */
  VAST_AD_INLINE,
  VAST_AD_WRAPPER
} vast_ad_kind;

typedef struct vast_ad {
  vast_ad_kind kind;
  const char *id;
  int sequence; /* -1 when absent */
  const char *ad_type;
  int conditional_ad; /* 1/0, -1 when absent */
  const char *ad_system, *ad_system_version;
  const char *ad_title, *ad_serving_id, *description, *advertiser, *survey, *expires;
  const vast_pricing *pricing; /* NULL when absent */
  const vast_category *categories;
  size_t n_categories;
  const vast_category *blocked_ad_categories;
  size_t n_blocked_ad_categories;
  const vast_url *impressions;
  size_t n_impressions;
  const vast_url *errors; /* Error URLs of this InLine/Wrapper */
  size_t n_errors;
  const vast_url *viewable, *not_viewable, *view_undetermined;
  size_t n_viewable, n_not_viewable, n_view_undetermined;
  const vast_verification *verifications;
  size_t n_verifications;
  const vast_extension *extensions;
  size_t n_extensions;
  const vast_creative *creatives;
  size_t n_creatives;
  /* Wrapper only */
  const char *vast_ad_tag_uri;    /* trimmed; NULL when absent */
  int follow_additional_wrappers; /* default 1 */
  int allow_multiple_ads;         /* default 0 */
  int fallback_on_no_ad;          /* default 0 */
  vast_pos pos;
  vast_pos body_pos; /* the InLine or Wrapper element */
} vast_ad;

/* One <VAST> (or VAST 1.0 <VideoAdServingTemplate>) element. */
typedef struct vast_vast {
  const char *version; /* as written; "1.0" for VideoAdServingTemplate; NULL when absent */
  int version_major, version_minor; /* 0.0 when unknown */
  const vast_ad *ads;
  size_t n_ads;
  const vast_url *errors; /* root-level Error (no-ad response) */
  size_t n_errors;
  vast_pos pos;
} vast_vast;

/* VMAP */
typedef enum vast_break_offset_kind {
  VAST_BREAK_START = 1, /* "start" */
  VAST_BREAK_END,       /* "end" */
  VAST_BREAK_TIME,      /* "HH:MM:SS[.mmm]": value = seconds */
  VAST_BREAK_PERCENT,   /* "n%": value = percent */
  VAST_BREAK_POSITION,  /* "#n": value = n */
  VAST_BREAK_INVALID
} vast_break_offset_kind;

typedef enum vast_source_kind {
  VAST_SOURCE_NONE = 0,
  VAST_SOURCE_VAST,  /* inline VASTAdData: see vast */
  VAST_SOURCE_URI,   /* AdTagURI: see ad_tag_uri */
  VAST_SOURCE_CUSTOM /* CustomAdData: see custom_data */
} vast_source_kind;

typedef struct vast_ad_break {
  const char *time_offset; /* as written */
  vast_break_offset_kind offset_kind;
  double offset_value;
  const char *break_type; /* "linear,nonlinear,display" as written */
  const char *break_id;
  vast_offset repeat_after;
  /* AdSource */
  vast_source_kind source_kind;
  const char *source_id;
  int allow_multiple_ads, follow_redirects; /* 1/0, -1 when absent */
  const vast_vast *vast;                    /* SOURCE_VAST (may have zero ads) */
  const char *ad_tag_uri;                   /* SOURCE_URI */
  const char *template_type;                /* AdTagURI@templateType or CustomAdData@templateType */
  const char *custom_data;                  /* SOURCE_CUSTOM, raw text */
  const vast_tracking *tracking;            /* breakStart, breakEnd, error */
  size_t n_tracking;
  const vast_extension *extensions;
  size_t n_extensions;
  vast_pos pos;
} vast_ad_break;

typedef struct vast_vmap {
  const char *version;
  const vast_ad_break *breaks;
  size_t n_breaks;
  const vast_extension *extensions;
  size_t n_extensions;
  vast_pos pos;
} vast_vmap;

/*
 * Notes: what the parser accepted leniently or ignored (unknown element, empty
 * duration, bad number...). Not errors: the document parsed. iab_code is the
 * code a strict player would report, or 0.
 */
typedef enum vast_note_kind {
  VAST_NOTE_UNKNOWN_ELEMENT = 1, /* element not in the spec; kept in `text` */
  VAST_NOTE_BAD_DURATION,        /* Duration empty, "undefined" or malformed */
  VAST_NOTE_BAD_NUMBER,          /* a numeric attribute is not a number */
  VAST_NOTE_BAD_OFFSET,          /* skipoffset/offset not a time or percent */
  VAST_NOTE_BAD_BOOLEAN,         /* a boolean that is none of true/false/1/0 */
  VAST_NOTE_NO_VERSION,          /* <VAST> without version */
  VAST_NOTE_MISPLACED,           /* known element in an unexpected parent */
  VAST_NOTE_DUPLICATE            /* second InLine/Wrapper in one Ad etc.: ignored */
} vast_note_kind;

typedef struct vast_note {
  vast_note_kind kind;
  int iab_code;
  const char *path; /* element path, e.g. "/VAST/Ad/InLine/Creatives/Creative/Linear/Duration" */
  const char *message;
  vast_pos pos;
} vast_note;

typedef enum vast_doc_kind {
  VAST_DOC_VAST = 1, /* <VAST> */
  VAST_DOC_VAST1,    /* <VideoAdServingTemplate> */
  VAST_DOC_VMAP      /* <VMAP> */
} vast_doc_kind;

/*
 * vast_doc_parse: parse `len` bytes at `buf` (need not be NUL-terminated).
 *   limits  bounds on the input; NULL for the defaults of vast_limits_init().
 *   doc     OUT: the parsed document, owned by the caller (vast_doc_free); NULL on failure.
 *   err     optional; on failure filled with code, IAB code (100 not XML or refused
 *           input, 101 not a VAST/VMAP structure, 102 unsupported version), line,
 *           column, byte offset and message.
 * Returns VAST_OK, or VAST_E_XML, VAST_E_NOT_VAST, VAST_E_VERSION, VAST_E_LIMIT,
 * VAST_E_ENTITY, VAST_E_NOMEM, VAST_E_INVAL.
 * No DTD, external entity or network resource is ever loaded; documents that
 * declare entities are refused (VAST_E_ENTITY, IAB 100).
 */
VAST_API vast_err vast_doc_parse(const char *buf, size_t len, const vast_limits *limits,
                                 vast_doc **doc /* OUT */, vast_error *err);

/* Frees the document and everything reachable from it. Accepts NULL. */
VAST_API void vast_doc_free(vast_doc *doc);

VAST_API vast_doc_kind vast_doc_kind_of(const vast_doc *doc);

/* The root <VAST> (also for VAST 1.0); NULL for a VMAP document. */
VAST_API const vast_vast *vast_doc_vast(const vast_doc *doc);

/* The <VMAP> root; NULL for a VAST document. */
VAST_API const vast_vmap *vast_doc_vmap(const vast_doc *doc);

/* Lenient-parse notes, in document order. */
VAST_API const vast_note *vast_doc_notes(const vast_doc *doc, size_t *n /* OUT */);

/* The input bytes the document was parsed from (owned by the document). */
VAST_API const char *vast_doc_source(const vast_doc *doc, size_t *len /* OUT */);

/* Bytes the document uses: its model, strings and a copy of the input. */
VAST_API size_t vast_doc_memory(const vast_doc *doc);

/*
 * Time parsing helpers used by the parser, exposed for callers.
 * vast_parse_time: "HH:MM:SS", "HH:MM:SS.mmm" (also "MM:SS" and plain seconds,
 * leniently) into seconds; returns -1 when not a time.
 * vast_parse_offset: a time or "n%" into *out.
 */
VAST_API double vast_parse_time(const char *s);
VAST_API vast_offset vast_parse_offset(const char *s);

/*
 * Writers (vast_write_fn, in base.h, receives output in pieces).
 * vast_doc_write_json writes the stable JSON schema documented in docs/json.md;
 * vast_doc_write_tree a human-readable indented tree.
 */
VAST_API vast_err vast_doc_write_json(const vast_doc *doc, vast_write_fn write, void *ctx);
VAST_API vast_err vast_doc_write_tree(const vast_doc *doc, vast_write_fn write, void *ctx);
/*
 * vast_json_write_string: s as a quoted JSON string, escaped the way every
 * JSON output of vastrack is (docs/json.md): " \\ escaped, \n \r \t short,
 * other control characters and DEL as \u00XX, each byte that is not valid
 * UTF-8 replaced by U+FFFD. NULL writes null. Returns VAST_OK or VAST_E_IO.
 */
VAST_API vast_err vast_json_write_string(const char *s, vast_write_fn write, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
