/*
 * vastrack/validate.h: tag QA. A rule engine over the parsed model of
 * vastrack/doc.h, the IAB VAST error-code table as data, a per-tag audit
 * summary, and a generator for a complete, valid starter tag.
 *
 * Every finding names its rule (a stable id such as "missing-quartile"), a
 * severity, the IAB VAST error code a player would report (0 when none
 * applies), a message, a fix hint, the line and column of the element in the
 * input and an element path ("/VAST/Ad[1]/InLine/Creatives/Creative[1]/Linear").
 * Rule ids are never renamed or reused; new rules are appended.
 *
 * Profiles select which rules run and how severe they are: web (the default),
 * ctv (connected TV: no VPAID, progressive MP4 required, https expected),
 * ssai (server-side insertion: the server fires every beacon), audio.
 * docs/validate.md lists every rule with its severity per profile.
 *
 * Thread safety: every call here is reentrant; the rule and error tables are
 * immutable static data; a vast_findings list may be read from several
 * threads at once but not freed while read.
 */
#ifndef VASTRACK_VALIDATE_H
#define VASTRACK_VALIDATE_H

#include "base.h"
#include "doc.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vast_chain; /* vastrack/chain.h */

typedef enum vast_severity {
  VAST_SEV_OFF = -1, /* rule does not run in this profile */
  VAST_SEV_INFO = 0,
  VAST_SEV_WARNING = 1,
  VAST_SEV_ERROR = 2
} vast_severity;

typedef enum vast_profile {
  VAST_PROFILE_WEB = 0,
  VAST_PROFILE_CTV,
  VAST_PROFILE_SSAI,
  VAST_PROFILE_AUDIO,
  VAST_PROFILE__COUNT
} vast_profile;

/* "info", "warning", "error" ("off" for VAST_SEV_OFF); static storage. */
VAST_API const char *vast_severity_name(vast_severity sev);
/* "web", "ctv", "ssai", "audio"; static storage ("" when out of range). */
VAST_API const char *vast_profile_name(vast_profile p);
/* Profile for a name (case-insensitive). Returns VAST_OK or VAST_E_INVAL. */
VAST_API vast_err vast_profile_from_name(const char *name, vast_profile *out /* OUT */);

/* One rule of the engine. Static storage; never freed. */
typedef struct vast_rule {
  const char *id; /* stable id, e.g. "missing-quartile" */
  const char
      *category; /* "parse", "structure", "events", "urls", "media", "wrapper", "pods", "model" */
  int iab_code;  /* IAB VAST error code the problem leads to; 0 when none */
  const char *summary;                         /* one line: what the rule checks */
  const char *fix;                             /* how to fix a finding */
  vast_severity severity[VAST_PROFILE__COUNT]; /* per profile; VAST_SEV_OFF = not run */
} vast_rule;

/* Number of rules, and rule i (0 <= i < count; NULL otherwise). */
VAST_API size_t vast_rule_count(void);
VAST_API const vast_rule *vast_rule_at(size_t i);
/* Rule with this id, or NULL. */
VAST_API const vast_rule *vast_rule_find(const char *id);

/*
 * One finding. For a callback, every pointer is valid only during the call;
 * in a vast_findings list, until vast_findings_free().
 */
typedef struct vast_finding {
  const vast_rule *rule;
  const char *rule_id;    /* == rule->id */
  vast_severity severity; /* the rule's severity in the profile used */
  int iab_code;           /* rule->iab_code, or the input's own code where the rule
                             covers several (parse errors; wrapper-response-invalid) */
  const char *message;    /* specific to this finding, no trailing newline */
  const char *fix;        /* == rule->fix */
  const char *path;       /* element path, e.g. "/VAST/Ad[1]/InLine/Impression[2]" */
  uint32_t line, column;  /* 1-based start of the element; 0 when unknown */
} vast_finding;

/* Called once per finding, in document order per check. Return 0 to go on,
 * non-zero to stop validation (vast_validate then returns VAST_OK). */
typedef int (*vast_finding_fn)(void *ctx, const vast_finding *f);

/*
 * Options. Initialise with vast_validate_options_init(), then set fields.
 * `disabled` lists rule ids to switch off (unknown ids are ignored; check
 * them with vast_rule_find). The array and strings are the caller's and need
 * only live for the duration of vast_validate*.
 */
typedef struct vast_validate_options {
  size_t size;          /* sizeof(vast_validate_options), set by _init */
  vast_profile profile; /* default VAST_PROFILE_WEB */
  const char *const *disabled;
  size_t n_disabled;
  vast_severity min_severity; /* findings below are not reported; default INFO */
  /*
   * The wrapper chain resolved from this same document (vast_resolve_file,
   * _url or _buffer of vastrack/net.h), or NULL (the default: the chain is
   * not checked). When set, vast_validate also reports the "wrapper" rules
   * that need the chain: wrapper-limit (302, the chain needs more Wrappers
   * than the resolution limit allowed), wrapper-loop (302), wrapper-depth
   * (302, resolved through more than VAST_IAB_MAX_WRAPPERS Wrappers),
   * wrapper-unavailable (301: timeout, HTTP error, unreadable file, unusable
   * URI), wrapper-no-ad (303), wrapper-response-invalid (100/101/102: the
   * fetched document is not XML, not VAST or of an unsupported version; the
   * finding carries the document's own code), wrapper-refused (300: a
   * Wrapper where followAdditionalWrappers="false" forbids one),
   * wrapper-category-blocked (205: the InLine's Category is on a Wrapper's
   * BlockedAdCategories). Each is
   * placed on the outermost <Wrapper> of the failing chain in this document
   * and its message names the hop URL, the number of Wrappers followed and
   * the resolver's reason. The chain is read only; the caller keeps it.
   */
  const struct vast_chain *chain;
  /*
   * Per-rule severity overrides, applied after the profile and `disabled`
   * and before min_severity (a later entry for the same rule wins). A rule
   * can be raised, lowered, switched off (VAST_SEV_OFF) or switched on in a
   * profile where it does not run. An unknown rule id or a severity out of
   * range makes vast_validate return VAST_E_INVAL. The array is the caller's
   * (or a vast_validate_config's, see vast_validate_config_apply) and need
   * only live for the duration of vast_validate*. Lists made by
   * vast_validate_list keep a copy, reported by the writers.
   */
  const struct vast_rule_override *overrides;
  size_t n_overrides;
} vast_validate_options;

/* One severity override: a team policy such as "url-insecure=error". */
typedef struct vast_rule_override {
  const char *rule_id;    /* a rule id of vast_rule_find */
  vast_severity severity; /* VAST_SEV_OFF .. VAST_SEV_ERROR */
  const char *source;     /* where it came from, for reports ("--rule",
                             ".vastrack.toml:4"); may be NULL */
} vast_rule_override;

/* Severity for a name: "off", "info" (or "note"), "warning" (or "warn"),
 * "error", case-insensitive. Returns VAST_OK or VAST_E_INVAL. */
VAST_API vast_err vast_severity_from_name(const char *name, vast_severity *out /* OUT */);

/*
 * A validation policy read from the command line and configuration files:
 * an optional profile and a list of rule overrides, owned by the handle.
 *
 * The file format (vast_validate_config_load) is a small subset of TOML:
 *
 *     # comment
 *     profile = "ctv"              # optional
 *     [rules]
 *     missing-adservingid = "error"
 *     url-insecure = "off"         # off | info | warning | error
 *
 * Keys are bare (letters, digits, '-', '_') or quoted; values are quoted
 * strings or bare words; a `#` starts a comment outside quotes. Only the
 * top-level `profile` key and the `[rules]` table are known: anything else is
 * an error, as are unknown rule ids, profiles and severities. Errors carry
 * the line number (err->line) and a message naming the source.
 *
 * Not thread-safe for concurrent modification; a config that is only read
 * (vast_validate_config_apply) may be shared.
 */
typedef struct vast_validate_config vast_validate_config;

/* A new, empty config (no profile, no overrides); NULL when out of memory. */
VAST_API vast_validate_config *vast_validate_config_new(void);
/*
 * vast_validate_config_load: adds the profile and rules of a config text
 * (see above). `source` names it in messages and in each override's source
 * ("FILE:LINE"). Returns VAST_OK, VAST_E_INVAL (a syntax error, an unknown
 * key, rule, profile or severity: err gets the line and a message; nothing
 * of this text is kept) or VAST_E_NOMEM.
 */
VAST_API vast_err vast_validate_config_load(vast_validate_config *cfg, const char *text, size_t len,
                                            const char *source, vast_error *err);
/*
 * vast_validate_config_add_rule: adds one override written "ID=LEVEL" (the
 * form of `vastrack validate --rule`). Returns VAST_OK, VAST_E_INVAL
 * (err->message says which part is wrong) or VAST_E_NOMEM.
 */
VAST_API vast_err vast_validate_config_add_rule(vast_validate_config *cfg, const char *spec,
                                                const char *source, vast_error *err);
/* The config's profile, or -1 when it sets none. */
VAST_API int vast_validate_config_profile(const vast_validate_config *cfg);
/* The overrides, in the order added; *n gets their number. Valid until free. */
VAST_API const vast_rule_override *vast_validate_config_overrides(const vast_validate_config *cfg,
                                                                  size_t *n /* OUT */);
/*
 * vast_validate_config_apply: points opt->overrides at the config's list
 * (valid while cfg lives) and, when the config sets a profile and
 * `keep_profile` is 0, sets opt->profile.
 */
VAST_API void vast_validate_config_apply(const vast_validate_config *cfg,
                                         vast_validate_options *opt, int keep_profile);
/* Frees the config. Accepts NULL. */
VAST_API void vast_validate_config_free(vast_validate_config *cfg);

/* Wrappers the IAB recommends a player follow at most (VAST 4.x, 2.3.4): a
 * resolved chain with more gets a wrapper-depth warning. */
#define VAST_IAB_MAX_WRAPPERS 5

VAST_API void vast_validate_options_init(vast_validate_options *opt);

/*
 * vast_validate: runs every enabled rule of the profile over `doc` and calls
 * `fn` for each finding. opt may be NULL (defaults). Lenient-parse notes of
 * the document (vast_doc_notes) are reported as findings of the matching
 * rules; with opt->chain, the chain's failures and depth too (see above).
 * No I/O: resolving (fetching) the chain is the caller's step.
 * Returns VAST_OK, or VAST_E_INVAL (NULL doc/fn, bad profile).
 */
VAST_API vast_err vast_validate(const vast_doc *doc, const vast_validate_options *opt,
                                vast_finding_fn fn, void *ctx);

/* A list of findings, owned by the caller; free with vast_findings_free. */
typedef struct vast_findings vast_findings;

/*
 * vast_validate_list: like vast_validate, collecting the findings.
 *   out  OUT: the list (possibly empty); NULL on failure.
 * Returns VAST_OK, VAST_E_INVAL or VAST_E_NOMEM.
 */
VAST_API vast_err vast_validate_list(const vast_doc *doc, const vast_validate_options *opt,
                                     vast_findings **out /* OUT */);

/*
 * vast_findings_from_parse_error: a one-finding list for a document that did
 * not parse (rules "xml-malformed" 100, "not-vast" 101, "version-unsupported"
 * 102, "input-refused" 100), placed at err's line and column.
 */
VAST_API vast_err vast_findings_from_parse_error(const vast_error *err,
                                                 vast_findings **out /* OUT */);

VAST_API size_t vast_findings_count(const vast_findings *list);
/* Finding i, or NULL when out of range. */
VAST_API const vast_finding *vast_findings_at(const vast_findings *list, size_t i);
/* Number of findings with exactly this severity. */
VAST_API size_t vast_findings_count_severity(const vast_findings *list, vast_severity sev);
/* 1 when some finding has this rule id. */
VAST_API int vast_findings_has(const vast_findings *list, const char *rule_id);
/* Frees the list. Accepts NULL. */
VAST_API void vast_findings_free(vast_findings *list);

/* The profile a list was made under (-1 for a parse-failure list). */
VAST_API int vast_findings_profile(const vast_findings *list);
/* The overrides a list was made with (copies owned by the list). */
VAST_API const vast_rule_override *vast_findings_overrides(const vast_findings *list,
                                                           size_t *n /* OUT */);

/* Options of the text writer. Initialise with vast_text_options_init. */
typedef struct vast_text_options {
  size_t size;             /* sizeof(vast_text_options), set by _init */
  int all;                 /* 1: one line per finding, never collapsed (default 0) */
  int color;               /* 1: ANSI colours (the caller decides: a terminal, no NO_COLOR) */
  unsigned collapse_at;    /* a rule with at least this many findings is collapsed
                              into one line (default 3; below 2: never) */
  unsigned show_positions; /* positions listed on a collapsed line (default 3, max 16) */
} vast_text_options;

VAST_API void vast_text_options_init(vast_text_options *opt);

/*
 * Writers for a list of findings of one input named `name` (a path or URL, as
 * the user gave it; "-" for standard input).
 * _text_opts: for a person. Findings sorted by line and column, each as
 *        "name:line:col: severity: message [rule-id, VAST code N]" (", VAST
 *        code N" left out when the rule has none; severity error, warning or
 *        note) followed by "    fix: ..." on an indented line. A rule with
 *        collapse_at findings or more is one line at its first position, with
 *        its message (the rule's summary when the messages differ) and
 *        "(44 times; first at 14:9, 15:9, 16:9, ...; --all lists each)". Last
 *        a summary "3 errors, 5 warnings, 44 notes in NAME (profile ctv)";
 *        a list without findings is the one line "NAME: no findings (profile
 *        web)". Overrides are named in the parenthesis: "(profile web;
 *        rules: url-insecure=error from --rule)". opt NULL: defaults.
 * _text: _text_opts with the defaults.
 * _json: one JSON object and a newline, camelCase, see docs/json.md:
 *        {"file", "profile" (null for a parse failure), "overrides":
 *        [{"rule","severity","source"}], "errors", "warnings", "infos",
 *        "findings": [{"rule", "severity", "iabCode" (null when none),
 *        "message", "fix", "path", "line", "column" (null when unknown)}]}
 * Return VAST_OK, VAST_E_NOMEM, or VAST_E_IO when `write` returned non-zero.
 */
VAST_API vast_err vast_findings_write_text_opts(const vast_findings *list, const char *name,
                                                const vast_text_options *opt, vast_write_fn write,
                                                void *ctx);
VAST_API vast_err vast_findings_write_text(const vast_findings *list, const char *name,
                                           vast_write_fn write, void *ctx);
VAST_API vast_err vast_findings_write_json(const vast_findings *list, const char *name,
                                           vast_write_fn write, void *ctx);

/*
 * SARIF 2.1.0 output for several inputs in one run: _begin writes the log
 * header and the tool.driver.rules array (every rule, with helpUri and
 * fullDescription), each _add writes the results of one input (ruleId,
 * level, message, physicalLocation with artifactLocation.uri and
 * region.startLine/startColumn), _end closes the log. `state` is a caller
 * int, set to 0 by _begin. Return VAST_OK or VAST_E_IO.
 */
VAST_API vast_err vast_sarif_begin(vast_profile profile, vast_write_fn write, void *ctx,
                                   int *state);
VAST_API vast_err vast_sarif_add(const vast_findings *list, const char *uri, vast_write_fn write,
                                 void *ctx, int *state);
VAST_API vast_err vast_sarif_end(vast_write_fn write, void *ctx, int *state);

/*
 * The IAB VAST error-code table (VAST 2.0-4.3): 100-102, 200-206, 300-304,
 * 400-411 (404 is not assigned), 500-503, 600-604, 900-902. Static storage.
 */
typedef struct vast_iab_error {
  int code;
  const char *name;    /* short title, e.g. "Wrapper limit reached" */
  const char *meaning; /* what the player is saying */
  const char *cause;   /* the usual cause in real tags */
  const char *fix;     /* what to change */
  const char *test;    /* how to reproduce / test for it (often a vastrack command) */
} vast_iab_error;

VAST_API size_t vast_iab_error_count(void);
VAST_API const vast_iab_error *vast_iab_error_at(size_t i);
/* Entry for a code, or NULL when the code is not in the table. */
VAST_API const vast_iab_error *vast_iab_error_find(int code);

/*
 * Audit: one summary row per tag, for spreadsheets over thousands of tags.
 * Filled by vast_audit_doc from a parsed document and its findings (computed
 * under opt's profile and overrides, plus the ctv profile for
 * ctv_compatible). With opt->chain, impressions, events_present and
 * events_missing describe the merged chain of each resolved ad (every
 * Wrapper level plus the InLine: what a player fires), not this document
 * alone.
 */
#define VAST_AUDIT_CORE_EVENTS 5 /* start, firstQuartile, midpoint, thirdQuartile, complete */
typedef struct vast_audit {
  char version[16];               /* "4.3", "1.0", "VMAP 1.0"; "" when unknown */
  const char *ad_type;            /* "inline", "wrapper", "mixed", "no-ad", "vmap", "invalid" */
  size_t ads;                     /* <Ad> elements (VMAP: in embedded VAST documents) */
  size_t impressions;             /* Impression URLs over all ads (with a chain: over every level of
                                     every resolved ad, the pixels that fire for it) */
  char events_present[512];       /* distinct Tracking event names, space-separated, document order
                                     (with a chain: of every level) */
  char events_missing[128];       /* core linear events missing from some InLine Linear (with a
                                     chain: missing from every level of its resolved ad) */
  int wrapper_hops;               /* without opt->chain: 0 no Wrapper, 1 this document has a
                                     Wrapper (the chain beyond is not followed). With opt->chain:
                                     the Wrapper levels of the longest chain (resolved or failed;
                                     wrapper-a -> wrapper-b -> InLine is 2), 0 for InLine only */
  int ctv_compatible;             /* 1 when the ctv profile reports no errors and there is an ad to
                                     play (a no-ad response or a tag that does not parse is 0) */
  size_t errors, warnings, infos; /* findings under opt's profile */
  char issues[1024];    /* "rule-id(n); rule-id(n)..." most severe first; "..." when cut */
  char ctv_reason[256]; /* why ctv_compatible is 0: "no ad in the response (no fill)", or
                           the first ctv error "rule-id: message" and "; also rule-id, ..."
                           for the other error rules; "" when compatible */
} vast_audit;

VAST_API vast_err vast_audit_doc(const vast_doc *doc, const vast_validate_options *opt,
                                 vast_audit *out /* OUT */);
/* Row for an input that did not parse: ad_type "invalid", errors 1, issues
 * naming the parse rule. */
VAST_API void vast_audit_parse_error(const vast_error *err, vast_audit *out /* OUT */);

/*
 * vast_template_write: writes a complete, valid VAST InLine linear tag to
 * start from: AdSystem, AdTitle, AdServingId (4.1+), Impression, Error with
 * [ERRORCODE], a progressive H.264 MP4 and a WebM MediaFile over https,
 * every linear Tracking event the version defines (progress with an offset;
 * skip with a skipoffset when `skippable`), ClickThrough/ClickTracking,
 * UniversalAdId and ViewableImpression.
 *   version   "4.1", "4.2" or "4.3" (NULL: "4.3")
 * Returns VAST_OK, VAST_E_VERSION (other versions) or VAST_E_IO (write failed).
 */
VAST_API vast_err vast_template_write(const char *version, int skippable, vast_write_fn write,
                                      void *ctx);

/* Options of vast_template_write_opts. Initialise with vast_template_options_init. */
typedef struct vast_template_options {
  size_t size;         /* sizeof(vast_template_options), set by _init */
  const char *version; /* "4.1", "4.2" or "4.3" (default "4.3") */
  int skippable;       /* InLine: skipoffset and the skip event */
  int wrapper;         /* 1: a Wrapper (AdSystem, Error, Impression, VASTAdTagURI, the
                          attributes with their defaults, and Linear tracking this layer
                          adds) instead of an InLine */
  int omid;            /* 1: AdVerifications with an OMID JavaScriptResource,
                          VerificationParameters and verificationNotExecuted with [REASON] */
  int comments;        /* 1 (default): an XML comment before each element saying what it
                          is for and what breaks without it */
} vast_template_options;

VAST_API void vast_template_options_init(vast_template_options *opt);
/*
 * vast_template_write_opts: the template with options (NULL: defaults, with
 * comments). vast_template_write is this without comments. Every variant
 * validates with no finding under web, ctv and ssai. Returns VAST_OK,
 * VAST_E_VERSION, VAST_E_INVAL (write NULL) or VAST_E_IO.
 */
VAST_API vast_err vast_template_write_opts(const vast_template_options *opt, vast_write_fn write,
                                           void *ctx);

#ifdef __cplusplus
}
#endif
#endif
