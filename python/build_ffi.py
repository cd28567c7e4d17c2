"""cffi builder (API mode) for vastrack._vastrack, the compiled binding (see setup.py).

The declarations below are the subset of include/vastrack.h the Python layer
uses. Structs end with "...;" so the C compiler, not this file, decides their
layout: a field added to a C struct never breaks the binding, and a field
renamed or retyped fails the build instead of reading the wrong bytes.

Which libvastrack is linked: see library_config() below.
Every call through the generated module releases the GIL (cffi does this for
all calls in API mode); callbacks into Python (tracker beacons, deliveries)
take it back for their duration.
"""
import os
import shlex
import subprocess
import sys

import cffi

HERE = os.path.dirname(os.path.abspath(__file__))


def makefile_pkgs(root):
    """The pkg-config modules the C build links (the Makefile's PKGS lines)."""
    import re
    pkgs = []
    with open(os.path.join(root, "Makefile")) as f:
        for line in f:
            m = re.match(r"PKGS\s*(:=|\+=|=)\s*(.*)", line)
            if m:
                pkgs = (pkgs if m.group(1) == "+=" else []) + m.group(2).split()
    return pkgs


def source_root():
    env = os.environ.get("VASTRACK_SRC")
    if env:
        return os.path.abspath(env)
    for cand in (os.path.join(HERE, "_csrc"), os.path.dirname(HERE)):
        if os.path.exists(os.path.join(cand, "include", "vastrack.h")):
            return cand
    sys.exit("vastrack: cannot find the C sources (include/vastrack.h); set VASTRACK_SRC")


def library_config():
    """Compiler and linker arguments for the binding; builds the archive first."""
    root = source_root()
    build = os.path.abspath(os.environ.get("VASTRACK_BUILD", os.path.join(root, "build")))
    buildroot = os.path.relpath(build, root) if build.startswith(root + os.sep) else build
    # VASTRACK_FLAVOUR=asan: the library's ASan+UBSan objects (BUILDROOT/asan), for
    # running the Python tests under the sanitizers (tests/cli/python.sh)
    asan = os.environ.get("VASTRACK_FLAVOUR") == "asan"
    target = os.path.join(buildroot, "asan" if asan else "", "libvastrack_pic.a")
    archive = os.path.join(root, target)
    cmd = ["make", "-C", root, "--no-print-directory", "-j2", "BUILDROOT=" + buildroot] + \
        (["FLAVOUR=asan"] if asan else []) + [target]
    if subprocess.call(cmd) != 0 or not os.path.exists(archive):
        sys.exit("vastrack: building %s failed (command: %s)" % (archive, " ".join(cmd)))
    try:
        pkgs = makefile_pkgs(root)
        libs = subprocess.check_output(["pkg-config", "--libs"] + pkgs, text=True)
    except (OSError, subprocess.CalledProcessError):
        sys.exit("vastrack: pkg-config cannot find " + " ".join(pkgs) +
                 " (Debian: make deps in the vastrack tree)")
    args = shlex.split(libs)
    return dict(
        # named in the generated C file, so that a rebuilt or other archive changes
        # the file and setuptools relinks instead of keeping an older module
        source_tag="%s, modified %d" % (archive, os.stat(archive).st_mtime_ns),
        include_dirs=[os.path.join(root, "include")],
        extra_objects=[archive],
        libraries=[a[2:] for a in args if a.startswith("-l")] + ["pthread", "m"],
        library_dirs=[a[2:] for a in args if a.startswith("-L")],
        extra_link_args=[a for a in args if not a.startswith(("-l", "-L"))] +
        (["-fsanitize=address,undefined"] if asan else []),
    )



CDEF = r"""
typedef enum { VAST_E_OK, VAST_E_NOMEM, VAST_E_INVAL, VAST_E_XML, VAST_E_NOT_VAST,
  VAST_E_VERSION, VAST_E_LIMIT, VAST_E_ENTITY, VAST_E_IO, VAST_E_HTTP, VAST_E_TIMEOUT,
  VAST_E_WRAPPER_LIMIT, VAST_E_NO_AD, VAST_E_LOOP, VAST_E_URL, VAST_E_FORBIDDEN,
  VAST_E_FULL, VAST_E_STATE, VAST_E_NOSPACE, VAST_E_DB, VAST_E_KAFKA, VAST_E_NOT_FOUND,
  VAST_E_TOO_LARGE, VAST_E_NOT_PLAYED, ... } vast_err;
const char *vast_strerror(vast_err err);
const char *vast_errname(vast_err err);
const char *vast_version(void);

typedef struct vast_error {
  vast_err code; int iab_code; unsigned long line; unsigned long column; size_t offset;
  char message[256]; ...;
} vast_error;
typedef struct vast_limits {
  size_t size; size_t max_bytes; unsigned max_depth; size_t max_elements;
  size_t max_url_len; size_t max_text_len; ...;
} vast_limits;
void vast_limits_init(vast_limits *limits);

typedef struct vast_doc vast_doc;
typedef struct { uint32_t line; uint32_t column; uint32_t offset; ...; } vast_pos;
typedef struct { const char *url; const char *id; vast_pos pos; ...; } vast_url;
typedef enum { VAST_OFFSET_NONE, VAST_OFFSET_TIME, VAST_OFFSET_PERCENT,
  VAST_OFFSET_INVALID, ... } vast_offset_kind;
typedef struct { vast_offset_kind kind; double value; const char *raw; ...; } vast_offset;
typedef int... vast_event;
const char *vast_event_name(vast_event ev);
typedef struct { vast_event event; const char *event_name; vast_offset offset;
  const char *url; vast_pos pos; ...; } vast_tracking;
typedef enum { VAST_RES_STATIC, VAST_RES_IFRAME, VAST_RES_HTML, ... } vast_resource_kind;
typedef struct { vast_resource_kind kind; const char *content; const char *creative_type;
  vast_pos pos; ...; } vast_resource;
typedef struct { const char *url; const char *id; const char *delivery; const char *type;
  int width, height; const char *codec; int bitrate, min_bitrate, max_bitrate;
  int scalable, maintain_aspect_ratio; const char *api_framework; long file_size;
  const char *media_type; vast_pos pos; ...; } vast_media_file;
typedef struct { const char *url; const char *id, *delivery, *type, *codec, *media_type;
  int width, height; long file_size; vast_pos pos; ...; } vast_mezzanine;
typedef struct { const char *url; const char *type; const char *api_framework;
  int variable_duration; vast_pos pos; ...; } vast_interactive_file;
typedef struct { const char *url; const char *type; const char *language;
  vast_pos pos; ...; } vast_closed_caption;
typedef struct { const char *url; const char *creative_type; const char *alt_text;
  int width, height; ...; } vast_icon_fallback;
typedef struct { const char *program; int width, height; const char *x_position, *y_position;
  double duration; vast_offset offset; const char *api_framework; const char *pxratio;
  const vast_resource *resources; size_t n_resources; const char *click_through;
  const vast_url *click_tracking; size_t n_click_tracking;
  const vast_icon_fallback *fallback_images; size_t n_fallback_images;
  const vast_url *view_tracking; size_t n_view_tracking; vast_pos pos; ...; } vast_icon;
typedef struct { double duration; const char *duration_raw; vast_offset skipoffset;
  const vast_tracking *tracking; size_t n_tracking;
  const vast_media_file *media_files; size_t n_media_files;
  const vast_mezzanine *mezzanines; size_t n_mezzanines;
  const vast_interactive_file *interactive_files; size_t n_interactive_files;
  const vast_closed_caption *closed_captions; size_t n_closed_captions;
  const char *click_through; const char *click_through_id;
  const vast_url *click_tracking; size_t n_click_tracking;
  const vast_url *custom_clicks; size_t n_custom_clicks;
  const char *ad_parameters; int ad_parameters_xml_encoded;
  const vast_icon *icons; size_t n_icons; int has_media_files_element;
  vast_pos pos; vast_pos tracking_events_pos; vast_pos media_files_pos; ...; } vast_linear;
typedef struct { const char *id; int width, height, expanded_width, expanded_height;
  int scalable, maintain_aspect_ratio; vast_offset min_suggested_duration;
  const char *api_framework; const vast_resource *resources; size_t n_resources;
  const char *click_through; const vast_url *click_tracking; size_t n_click_tracking;
  const char *ad_parameters; vast_pos pos; ...; } vast_nonlinear;
typedef struct { const vast_nonlinear *nonlinears; size_t n_nonlinears;
  const vast_tracking *tracking; size_t n_tracking; vast_pos pos; ...; } vast_nonlinear_ads;
typedef struct { const char *id;
  int width, height, asset_width, asset_height, expanded_width, expanded_height;
  const char *api_framework, *ad_slot_id, *pxratio, *render_mode;
  const vast_resource *resources; size_t n_resources; const char *alt_text;
  const char *click_through; const vast_url *click_tracking; size_t n_click_tracking;
  const vast_tracking *tracking; size_t n_tracking; const char *ad_parameters;
  vast_pos pos; ...; } vast_companion;
typedef struct { const char *required; const vast_companion *companions; size_t n_companions;
  vast_pos pos; ...; } vast_companion_ads;
typedef struct { const char *id_registry; const char *id_value; ...; } vast_universal_ad_id;
typedef struct { const char *type; const char *xml; vast_pos pos; ...; } vast_extension;
typedef enum { VAST_CREATIVE_UNKNOWN, VAST_CREATIVE_LINEAR, VAST_CREATIVE_NONLINEAR,
  VAST_CREATIVE_COMPANION, ... } vast_creative_kind;
typedef struct { vast_creative_kind kind; const char *id; const char *ad_id; int sequence;
  const char *api_framework; const vast_universal_ad_id *universal_ad_ids;
  size_t n_universal_ad_ids; const vast_linear *linear; const vast_nonlinear_ads *nonlinear;
  const vast_companion_ads *companions; const vast_extension *extensions;
  size_t n_extensions; vast_pos pos; ...; } vast_creative;
typedef struct { const char *authority; const char *code; ...; } vast_category;
typedef struct { const char *model; const char *currency; const char *value; ...; } vast_pricing;
typedef struct { const char *url; const char *api_framework; int browser_optional; ...; }
  vast_js_resource;
typedef struct { const char *url; const char *api_framework; const char *type; ...; }
  vast_exec_resource;
typedef struct { const char *vendor; const vast_js_resource *js_resources;
  size_t n_js_resources; const vast_exec_resource *exec_resources; size_t n_exec_resources;
  const char *parameters; const vast_tracking *tracking; size_t n_tracking;
  vast_pos pos; ...; } vast_verification;
typedef enum { VAST_AD_EMPTY, VAST_AD_INLINE, VAST_AD_WRAPPER, ... } vast_ad_kind;
typedef struct vast_ad { vast_ad_kind kind; const char *id; int sequence; const char *ad_type;
  int conditional_ad; const char *ad_system, *ad_system_version;
  const char *ad_title, *ad_serving_id, *description, *advertiser, *survey, *expires;
  const vast_pricing *pricing; const vast_category *categories; size_t n_categories;
  const vast_category *blocked_ad_categories; size_t n_blocked_ad_categories;
  const vast_url *impressions; size_t n_impressions; const vast_url *errors; size_t n_errors;
  const vast_url *viewable, *not_viewable, *view_undetermined;
  size_t n_viewable, n_not_viewable, n_view_undetermined;
  const vast_verification *verifications; size_t n_verifications;
  const vast_extension *extensions; size_t n_extensions;
  const vast_creative *creatives; size_t n_creatives;
  const char *vast_ad_tag_uri; int follow_additional_wrappers; int allow_multiple_ads;
  int fallback_on_no_ad; vast_pos pos; vast_pos body_pos; ...; } vast_ad;
typedef struct { const char *version; int version_major, version_minor;
  const vast_ad *ads; size_t n_ads; const vast_url *errors; size_t n_errors;
  vast_pos pos; ...; } vast_vast;
typedef enum { VAST_BREAK_START, VAST_BREAK_END, VAST_BREAK_TIME, VAST_BREAK_PERCENT,
  VAST_BREAK_POSITION, VAST_BREAK_INVALID, ... } vast_break_offset_kind;
typedef enum { VAST_SOURCE_NONE, VAST_SOURCE_VAST, VAST_SOURCE_URI, VAST_SOURCE_CUSTOM, ... }
  vast_source_kind;
typedef struct { const char *time_offset; vast_break_offset_kind offset_kind;
  double offset_value; const char *break_type; const char *break_id;
  vast_offset repeat_after; vast_source_kind source_kind; const char *source_id;
  int allow_multiple_ads, follow_redirects; const vast_vast *vast; const char *ad_tag_uri;
  const char *template_type; const char *custom_data; const vast_tracking *tracking;
  size_t n_tracking; const vast_extension *extensions; size_t n_extensions;
  vast_pos pos; ...; } vast_ad_break;
typedef struct { const char *version; const vast_ad_break *breaks; size_t n_breaks;
  const vast_extension *extensions; size_t n_extensions; vast_pos pos; ...; } vast_vmap;
typedef int... vast_note_kind;
typedef struct { vast_note_kind kind; int iab_code; const char *path; const char *message;
  vast_pos pos; ...; } vast_note;
typedef enum { VAST_DOC_VAST, VAST_DOC_VAST1, VAST_DOC_VMAP, ... } vast_doc_kind;

vast_err vast_doc_parse(const char *buf, size_t len, const vast_limits *limits,
                        vast_doc **doc, vast_error *err);
void vast_doc_free(vast_doc *doc);
vast_doc_kind vast_doc_kind_of(const vast_doc *doc);
const vast_vast *vast_doc_vast(const vast_doc *doc);
const vast_vmap *vast_doc_vmap(const vast_doc *doc);
const vast_note *vast_doc_notes(const vast_doc *doc, size_t *n);
const char *vast_doc_source(const vast_doc *doc, size_t *len);
size_t vast_doc_memory(const vast_doc *doc);
typedef int (*vast_write_fn)(void *ctx, const char *data, size_t len);
vast_err vast_doc_write_json(const vast_doc *doc, vast_write_fn write, void *ctx);
vast_err vast_doc_write_tree(const vast_doc *doc, vast_write_fn write, void *ctx);

/* validate.h */
typedef int... vast_severity;
typedef int... vast_profile;
const char *vast_severity_name(vast_severity sev);
vast_err vast_profile_from_name(const char *name, vast_profile *out);
typedef struct { const char *id; const char *category; int iab_code; const char *summary;
  const char *fix; ...; } vast_rule;
size_t vast_rule_count(void);
const vast_rule *vast_rule_at(size_t i);
const vast_rule *vast_rule_find(const char *id);
typedef struct { const vast_rule *rule; const char *rule_id; vast_severity severity;
  int iab_code; const char *message; const char *fix; const char *path;
  uint32_t line, column; ...; } vast_finding;
struct vast_chain;
typedef struct vast_rule_override { const char *rule_id; vast_severity severity;
  const char *source; ...; } vast_rule_override;
vast_err vast_severity_from_name(const char *name, vast_severity *out);
typedef struct { size_t size; vast_profile profile; const char *const *disabled;
  size_t n_disabled; vast_severity min_severity; const struct vast_chain *chain;
  const struct vast_rule_override *overrides; size_t n_overrides; ...; }
  vast_validate_options;
typedef struct vast_validate_config vast_validate_config;
vast_validate_config *vast_validate_config_new(void);
vast_err vast_validate_config_load(vast_validate_config *cfg, const char *text, size_t len,
                                   const char *source, vast_error *err);
void vast_validate_config_apply(const vast_validate_config *cfg, vast_validate_options *opt,
                                int keep_profile);
void vast_validate_config_free(vast_validate_config *cfg);
void vast_validate_options_init(vast_validate_options *opt);
typedef struct vast_findings vast_findings;
vast_err vast_validate_list(const vast_doc *doc, const vast_validate_options *opt,
                            vast_findings **out);
vast_err vast_findings_from_parse_error(const vast_error *err, vast_findings **out);
size_t vast_findings_count(const vast_findings *list);
const vast_finding *vast_findings_at(const vast_findings *list, size_t i);
void vast_findings_free(vast_findings *list);

/* track.h */
typedef int... vast_macro;
#define VAST_MACRO__COUNT ...
int vast_macro_lookup(const char *name, size_t len);
const char *vast_macro_name(vast_macro m);
typedef struct { size_t size; int tz_offset_min; const char *value[...]; ...; } vast_macro_ctx;
void vast_macro_ctx_init(vast_macro_ctx *ctx);
vast_err vast_macro_ctx_withhold(vast_macro_ctx *ctx, vast_macro m);
typedef struct vast_plan vast_plan;
vast_err vast_plan_create(const vast_ad *const *chain, size_t n_chain, size_t creative,
                          size_t variation, vast_plan **plan);
void vast_plan_free(vast_plan *plan);
vast_creative_kind vast_plan_kind(const vast_plan *plan);
double vast_plan_duration(const vast_plan *plan);
typedef int... vast_input_kind;
typedef struct { vast_input_kind kind; double wall_time; double media_time; double value;
  int code; const char *vendor; const char *click_pos; int icon; ...; } vast_input;
const char *vast_input_name(vast_input_kind kind);
vast_input_kind vast_input_from_name(const char *name);
typedef int... vast_beacon_kind;
typedef struct { vast_beacon_kind kind; vast_event event; const char *name; const char *url;
  size_t url_len; const char *tmpl; double media_time; double wall_time; unsigned level; ...; }
  vast_track_beacon;
typedef void (*vast_track_fn)(void *user, const vast_track_beacon *beacon);
typedef struct vast_tracker vast_tracker;
vast_err vast_tracker_create(const vast_plan *plan, const vast_macro_ctx *ctx,
                             vast_track_fn fn, void *user, vast_tracker **tracker);
void vast_tracker_free(vast_tracker *tracker);
void vast_tracker_seed(vast_tracker *tracker, uint64_t seed);
void vast_tracker_set_asset(vast_tracker *tracker, const char *asset_uri);
vast_err vast_tracker_set_player_state(vast_tracker *tracker, unsigned player_state);
vast_err vast_tracker_feed(vast_tracker *tracker, const vast_input *input);
vast_err vast_tracker_time(vast_tracker *tracker, double wall_time, double media_time);
vast_err vast_tracker_click(vast_tracker *tracker, double wall_time, double media_time,
                            const char *click_pos, char *out, size_t cap, size_t *out_len);
int vast_tracker_done(const vast_tracker *tracker);
const vast_plan *vast_tracker_plan(const vast_tracker *tracker);
void vast_tracker_report_untracked(vast_tracker *tracker, int on);
double vast_now(void);
typedef struct vast_selection { const vast_ad *const *chain; size_t n_chain; const vast_ad *ad;
  size_t creative; const vast_creative *cr; size_t n_playable; int vpaid_only; ...; }
  vast_selection;
vast_err vast_select_doc(const vast_doc *doc, size_t index, vast_selection *sel);
vast_err vast_select_chain(const struct vast_chain *chain, size_t index, vast_selection *sel);
vast_err vast_tracker_open_selected(const vast_selection *sel, const vast_macro_ctx *ctx,
                                    vast_track_fn fn, void *user, vast_tracker **tracker);
vast_err vast_tracker_loaded(vast_tracker *tracker, double wall);
vast_err vast_tracker_impression(vast_tracker *tracker, double wall);
vast_err vast_tracker_pause(vast_tracker *tracker, double wall, double media);
vast_err vast_tracker_resume(vast_tracker *tracker, double wall, double media);
vast_err vast_tracker_mute(vast_tracker *tracker, double wall, double media, int muted);
vast_err vast_tracker_skip(vast_tracker *tracker, double wall, double media);
vast_err vast_tracker_complete(vast_tracker *tracker, double wall, double media);
vast_err vast_tracker_close(vast_tracker *tracker, double wall, double media);
vast_err vast_tracker_error(vast_tracker *tracker, double wall, int code);
int vast_tracker_skippable(const vast_tracker *tracker);
double vast_tracker_played(const vast_tracker *tracker);
double vast_tracker_continuous(const vast_tracker *tracker);
double vast_tracker_discarded(const vast_tracker *tracker);
vast_err vast_tracker_set_trusted_positions(vast_tracker *tracker, int trusted);

/* net.h */
typedef struct { size_t size; int allow_private; long timeout_ms; long max_redirects;
  size_t max_bytes; const char *user_agent; ...; } vast_net_policy;
void vast_net_policy_init(vast_net_policy *p);
typedef struct vast_dispatcher vast_dispatcher;
typedef struct { const char *url; const char *event; double t; void *user; ...; } vast_beacon;
typedef struct { uint64_t id; const char *event; const char *url; double t; void *user;
  double queued_at; double sent_at; long status; double latency_ms; unsigned attempts;
  vast_err err; const char *error; ...; } vast_delivery;
typedef void (*vast_delivery_fn)(void *ctx, const vast_delivery *d);
typedef enum { VAST_PRIVATE_DEFAULT, VAST_PRIVATE_REFUSE, VAST_PRIVATE_ALLOW, ... }
  vast_private_policy;
typedef struct { size_t size; size_t max_queue; unsigned max_concurrent; long timeout_ms;
  unsigned retries; long retry_delay_ms; long max_redirects; const char *user_agent;
  vast_private_policy private_policy; int server_side; const char *device_ip;
  const char *device_ua; const char *device_referer; const char *device_accept_language;
  const char *device_requested_with; int forwarded_for; vast_delivery_fn on_delivery;
  void *ctx; int curl_only; const vast_net_policy *policy; ...; } vast_dispatch_opts;
void vast_dispatch_opts_init(vast_dispatch_opts *opts);
vast_err vast_dispatcher_create(const vast_dispatch_opts *opts, vast_dispatcher **d);
void vast_dispatcher_free(vast_dispatcher *d);
vast_err vast_dispatcher_submit(vast_dispatcher *d, const vast_beacon *beacons, size_t n);
vast_err vast_dispatcher_drain(vast_dispatcher *d, long timeout_ms);

typedef struct vast_chain vast_chain;
typedef struct { size_t size; unsigned max_wrappers; long first_timeout_ms;
  long hop_timeout_ms; long total_timeout_ms; long max_redirects; size_t max_bytes;
  const vast_limits *limits; const char *user_agent; int refuse_private; int allow_files;
  const vast_macro_ctx *macros; const vast_net_policy *policy; ...; } vast_resolve_opts;
void vast_resolve_opts_init(vast_resolve_opts *opts);
typedef struct { const char *url; int is_file; unsigned depth; int parent; long status;
  double latency_ms; size_t bytes; vast_err err; int iab_code; const char *message;
  const vast_doc *doc; const char *uri; ...; } vast_hop;
typedef struct { const vast_ad *const *ads; size_t n; const size_t *hops; int sequence; ...; }
  vast_resolved;
typedef struct { const vast_ad *const *ads; size_t n; int iab_code; vast_err err;
  const char *message; int sequence; ...; } vast_failure;
typedef struct { const char *url; int iab_code; ...; } vast_error_beacon;
vast_err vast_resolve_url(const char *url, const vast_resolve_opts *opts, vast_chain **chain,
                          vast_error *err);
vast_err vast_resolve_file(const char *path, const vast_resolve_opts *opts, vast_chain **chain,
                           vast_error *err);
vast_err vast_resolve_buffer(const char *buf, size_t len, const char *base,
                             const vast_resolve_opts *opts, vast_chain **chain,
                             vast_error *err);
void vast_chain_free(vast_chain *chain);
const vast_hop *vast_chain_hops(const vast_chain *chain, size_t *n);
const vast_resolved *vast_chain_ads(const vast_chain *chain, size_t *n);
const vast_failure *vast_chain_failures(const vast_chain *chain, size_t *n);
const vast_error_beacon *vast_chain_error_beacons(const vast_chain *chain, size_t *n);
double vast_chain_elapsed_ms(const vast_chain *chain);
vast_err vast_chain_write_json(const vast_chain *chain, vast_write_fn write, void *ctx);

/* collect.h: the report */
typedef enum { VAST_REPORT_TEXT, VAST_REPORT_JSON, VAST_REPORT_CSV, ... } vast_report_format;
typedef struct vast_report vast_report;
vast_err vast_report_load(const char *db_path, int64_t since_ms, vast_report **out,
                          vast_error *err);
vast_err vast_report_add_fired(vast_report *r, const char *log_path, size_t *lines_used,
                               vast_error *err);
vast_err vast_report_write(const vast_report *r, vast_report_format fmt, vast_write_fn write,
                           void *ctx);
void vast_report_free(vast_report *r);
vast_err vast_parse_since(const char *s, int64_t now_ms, int64_t *out_ms);

/* Glue (defined in SOURCE below): a growable byte buffer for the writers. */
typedef struct { char *data; size_t len, cap; int failed; } vastpy_buf;
int vastpy_buf_write(void *ctx, const char *data, size_t len);
void vastpy_buf_free(vastpy_buf *b);

/* Glue: vast_doc_parse and the document's roots in one call (one GIL release);
 * the out-parameters in one struct (one allocation in Python). */
typedef struct { vast_doc *doc[1]; const vast_vast *vast[1]; const vast_vmap *vmap[1]; }
  vastpy_parse_out;
vast_err vastpy_parse(const char *buf, size_t len, const vast_limits *limits, vast_doc **doc,
                      vast_error *err, const vast_vast **vast, const vast_vmap **vmap);

/* Callbacks into Python. */
extern "Python" void vastpy_on_beacon(void *user, const vast_track_beacon *beacon);
extern "Python" void vastpy_on_delivery(void *ctx, const vast_delivery *d);
"""

SOURCE = r"""
#include <stdlib.h>
#include <string.h>
#include "vastrack.h"

/* A vast_write_fn target: the JSON and report writers append here, without
 * the GIL, and Python reads the bytes once the call returned. */
typedef struct { char *data; size_t len, cap; int failed; } vastpy_buf;

static int vastpy_buf_write(void *ctx, const char *data, size_t len) {
  vastpy_buf *b = ctx;
  if (b->len + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + len + 1) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) { b->failed = 1; return 1; }
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = 0;
  return 0;
}

typedef struct { vast_doc *doc[1]; const vast_vast *vast[1]; const vast_vmap *vmap[1]; }
  vastpy_parse_out;

static vast_err vastpy_parse(const char *buf, size_t len, const vast_limits *limits,
                             vast_doc **doc, vast_error *err, const vast_vast **vast,
                             const vast_vmap **vmap) {
  vast_err rc = vast_doc_parse(buf, len, limits, doc, err);
  *vast = rc == VAST_OK ? vast_doc_vast(*doc) : NULL;
  *vmap = rc == VAST_OK ? vast_doc_vmap(*doc) : NULL;
  return rc;
}

static void vastpy_buf_free(vastpy_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
"""


def make_builder(source_tag="", include_dirs=(), extra_objects=(), libraries=(), library_dirs=(),
                 extra_link_args=(), runtime_library_dirs=()):
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    ffi.set_source(
        "vastrack._vastrack", SOURCE + "\n/* libvastrack: %s */\n" % source_tag,
        include_dirs=list(include_dirs), extra_objects=list(extra_objects),
        libraries=list(libraries), library_dirs=list(library_dirs),
        extra_link_args=list(extra_link_args),
        runtime_library_dirs=list(runtime_library_dirs),
        extra_compile_args=["-std=gnu11"])
    return ffi


ffibuilder = make_builder(**library_config()) if __name__ != "build_ffi" else None

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
