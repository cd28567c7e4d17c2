/*
 * validate-int.h: what the files of the validate module share (internal).
 * The rule table is an X-macro so the enum of rule indices, the public
 * vast_rule rows and docs/validate.md's list cannot drift apart.
 */
#ifndef VASTRACK_VALIDATE_INT_H
#define VASTRACK_VALIDATE_INT_H

#include "base/arena.h"
#include "vastrack/validate.h"
#include "vastrack/chain.h"

/* enum, id, category, IAB code, severity web/ctv/ssai/audio (E W I O), summary, fix */
#define VAST__RULES(X)                                                                             \
  X(XML_MALFORMED, "xml-malformed", "parse", 100, E, E, E, E,                                      \
    "the document is not well-formed XML",                                                         \
    "serve well-formed XML; put URLs in CDATA; make sure the server returns VAST, not HTML")       \
  X(INPUT_REFUSED, "input-refused", "parse", 100, E, E, E, E,                                      \
    "the document declares entities/DTD or exceeds a parse limit",                                 \
    "remove DOCTYPE and entity declarations; keep the tag within size and depth limits")           \
  X(NOT_VAST, "not-vast", "parse", 101, E, E, E, E,                                                \
    "the root element is not VAST, VideoAdServingTemplate or VMAP",                                \
    "make the root element <VAST version=\"4.x\"> (or <vmap:VMAP> for ad schedules)")              \
  X(VERSION_UNSUPPORTED, "version-unsupported", "structure", 102, E, E, E, E,                      \
    "the VAST version is not one of 2.0, 3.0, 4.0, 4.1, 4.2, 4.3",                                 \
    "declare a supported version, e.g. version=\"4.2\"")                                           \
  X(VERSION_MISSING, "version-missing", "structure", 102, E, E, E, E,                              \
    "the VAST root has no version attribute",                                                      \
    "add version=\"4.2\" (or the version the tag follows) to <VAST>")                              \
  X(VERSION_LEGACY, "version-legacy", "structure", 102, W, E, E, W,                                \
    "VAST 1.0 (VideoAdServingTemplate) is not supported by current players",                       \
    "re-issue the tag as VAST 3.0 or 4.x")                                                         \
  X(NO_AD, "no-ad", "structure", 303, I, I, I, I, "the response has no <Ad> (a no-ad response)",   \
    "nothing to fix in the tag if no fill was intended; its root Error URL receives 303")          \
  X(AD_EMPTY, "ad-empty", "structure", 101, E, E, E, E, "an <Ad> has neither InLine nor Wrapper",  \
    "put exactly one <InLine> or <Wrapper> in each <Ad>")                                          \
  X(AD_MULTIPLE_BODIES, "ad-multiple-bodies", "structure", 101, E, E, E, E,                        \
    "an <Ad> has more than one InLine/Wrapper (the parser kept the first)",                        \
    "split it into one <Ad> per InLine/Wrapper")                                                   \
  X(MISSING_ADSYSTEM, "missing-adsystem", "structure", 101, E, E, E, E,                            \
    "InLine or Wrapper without AdSystem", "add <AdSystem version=\"...\">name</AdSystem>")         \
  X(MISSING_ADTITLE, "missing-adtitle", "structure", 101, E, E, E, E, "InLine without AdTitle",    \
    "add <AdTitle>...</AdTitle>")                                                                  \
  X(MISSING_ADSERVINGID, "missing-adservingid", "structure", 101, E, E, E, E,                      \
    "VAST 4.1+ InLine without AdServingId",                                                        \
    "add <AdServingId> with a unique id per impression opportunity")                               \
  X(MISSING_IMPRESSION, "missing-impression", "events", 101, E, E, E, E,                           \
    "InLine or Wrapper without an Impression URL",                                                 \
    "add <Impression><![CDATA[https://...]]></Impression>: without it no impression is counted")   \
  X(MISSING_CREATIVES, "missing-creatives", "structure", 101, E, E, E, E,                          \
    "InLine without any Creative", "add <Creatives> with at least one <Creative>")                 \
  X(CREATIVE_EMPTY, "creative-empty", "structure", 101, W, W, W, W,                                \
    "Creative without Linear, NonLinearAds or CompanionAds",                                       \
    "give the Creative its Linear, NonLinearAds or CompanionAds, or remove it")                    \
  X(MISSING_DURATION, "missing-duration", "media", 101, E, E, E, E,                                \
    "InLine Linear without Duration",                                                              \
    "add <Duration>HH:MM:SS.mmm</Duration> with the real length")                                  \
  X(DURATION_MALFORMED, "duration-malformed", "media", 101, E, E, E, E,                            \
    "Duration is empty, 'undefined' or not HH:MM:SS[.mmm]",                                        \
    "write the duration as HH:MM:SS or HH:MM:SS.mmm")                                              \
  X(DURATION_ZERO, "duration-zero", "media", 202, E, E, E, E, "Duration is zero",                  \
    "write the creative's real length; quartiles cannot be computed from 0")                       \
  X(MISSING_MEDIAFILES, "missing-mediafiles", "media", 403, E, E, E, E,                            \
    "InLine Linear without any MediaFile",                                                         \
    "add <MediaFiles> with at least one progressive video/mp4")                                    \
  X(MEDIAFILE_EMPTY_URL, "mediafile-empty-url", "media", 401, E, E, E, E, "MediaFile with no URL", \
    "put the media URL in the MediaFile element (in CDATA)")                                       \
  X(MEDIAFILE_MISSING_DELIVERY, "mediafile-missing-delivery", "media", 101, E, E, E, E,            \
    "MediaFile without delivery attribute", "add delivery=\"progressive\" or \"streaming\"")       \
  X(MEDIA_MIME_MISSING, "media-mime-missing", "media", 403, E, E, E, E,                            \
    "MediaFile without type (MIME) attribute",                                                     \
    "add type=\"video/mp4\" (the file's real MIME type)")                                          \
  X(MEDIA_MIME_UNKNOWN, "media-mime-unknown", "media", 403, W, W, W, W,                            \
    "MediaFile type is not a known video/audio/streaming MIME type",                               \
    "use a standard MIME type: video/mp4, video/webm, application/x-mpegURL, audio/mp4...")        \
  X(MEDIA_SIZE_MISSING, "media-size-missing", "media", 101, E, E, E, I,                            \
    "MediaFile without width or height", "add width and height in pixels")                         \
  X(MEDIA_BITRATE_MISSING, "media-bitrate-missing", "media", 0, I, W, W, I,                        \
    "progressive MediaFile without bitrate (or min/maxBitrate)",                                   \
    "add bitrate=\"kbit/s\" so players can pick a rendition for the connection")                   \
  X(MEDIA_NO_MP4, "media-no-mp4", "media", 403, O, E, W, O, "no progressive H.264 MP4 MediaFile",  \
    "add a progressive video/mp4 H.264/AAC rendition")                                             \
  X(MEDIA_VPAID, "media-vpaid", "media", 901, I, W, W, I,                                          \
    "a VPAID/JavaScript or Flash MediaFile (deprecated since VAST 4)",                             \
    "serve plain video; use OMID for measurement and SIMID for interactivity")                     \
  X(MEDIA_VPAID_ONLY, "media-vpaid-only", "media", 901, W, E, E, E,                                \
    "every MediaFile is VPAID/JavaScript/Flash: nothing a CTV, SSAI or audio player can play",     \
    "add a progressive video/mp4 MediaFile next to the VPAID one")                                 \
  X(MEDIA_NO_AUDIO, "media-no-audio", "media", 403, O, O, O, E,                                    \
    "no audio/* MediaFile for an audio placement", "add an audio/mp4 or audio/mpeg MediaFile")     \
  X(SKIPOFFSET_MALFORMED, "skipoffset-malformed", "media", 101, E, E, E, E,                        \
    "skipoffset is not HH:MM:SS[.mmm] or n%", "write skipoffset=\"00:00:05\" or \"25%\"")          \
  X(SKIPOFFSET_BEYOND_DURATION, "skipoffset-beyond-duration", "media", 202, W, W, W, W,            \
    "skipoffset is at or after the end of the ad", "set skipoffset before the end, or remove it")  \
  X(COMPANION_MISSING_RESOURCE, "companion-missing-resource", "structure", 600, E, E, E, E,        \
    "Companion without StaticResource, IFrameResource or HTMLResource",                            \
    "give the Companion a resource, or remove it")                                                 \
  X(COMPANION_MISSING_SIZE, "companion-missing-size", "structure", 101, W, W, W, W,                \
    "Companion without width or height", "add width and height in pixels")                         \
  X(NONLINEAR_MISSING_RESOURCE, "nonlinear-missing-resource", "structure", 500, E, E, E, E,        \
    "InLine NonLinear without StaticResource, IFrameResource or HTMLResource",                     \
    "give the NonLinear a resource, or remove it")                                                 \
  X(MISSING_QUARTILE, "missing-quartile", "events", 0, E, E, E, E,                                 \
    "a core linear event (start, firstQuartile, midpoint, thirdQuartile, complete) has no "        \
    "Tracking: DSPs bill and report on them",                                                      \
    "add <Tracking event=\"...\"> for each of start, firstQuartile, midpoint, thirdQuartile, "     \
    "complete")                                                                                    \
  X(SKIP_TRACKING_MISSING, "skip-tracking-missing", "events", 0, E, E, E, E,                       \
    "skippable ad (skipoffset) without a skip Tracking event: skips are not reported to the DSP",  \
    "add <Tracking event=\"skip\"> so skips are counted")                                          \
  X(PROGRESS_NO_OFFSET, "progress-no-offset", "events", 101, E, E, E, E,                           \
    "progress Tracking without offset (players drop it)", "add offset=\"00:00:05\" or \"10%\"")    \
  X(OFFSET_MALFORMED, "offset-malformed", "events", 101, E, E, E, E,                               \
    "Tracking offset is not HH:MM:SS[.mmm] or n%", "write offset=\"00:00:05\" or \"10%\"")         \
  X(OFFSET_BEYOND_DURATION, "offset-beyond-duration", "events", 202, W, W, W, W,                   \
    "progress offset is after the end of the ad: it never fires",                                  \
    "use an offset inside the ad's Duration")                                                      \
  X(EVENT_UNKNOWN, "event-unknown", "events", 0, W, W, W, W,                                       \
    "Tracking event name is not a VAST event: players never fire it",                              \
    "use an event name from the VAST spec, or move vendor tracking to Extensions")                 \
  X(EVENT_NAME_CASE, "event-name-case", "events", 0, W, W, W, W,                                   \
    "Tracking event name differs from the VAST spelling only in letter case",                      \
    "spell the event exactly as the spec does (e.g. firstQuartile); strict players match case")    \
  X(EVENT_WRONG_CREATIVE, "event-wrong-creative", "events", 0, W, W, W, W,                         \
    "Tracking event not defined for this creative type (Linear, NonLinear, Companion)",            \
    "move the event to the creative type that defines it, or remove it")                           \
  X(EVENT_VERSION, "event-version", "events", 0, W, W, W, W,                                       \
    "Tracking event not defined in the declared VAST version",                                     \
    "raise the tag's version or use an event that version defines")                                \
  X(EVENT_DEPRECATED, "event-deprecated", "events", 0, I, I, I, I,                                 \
    "Tracking event deprecated in VAST 4 (fullscreen, expand, collapse, close on Linear...)",      \
    "use playerExpand/playerCollapse, adExpand/adCollapse, closeLinear")                           \
  X(URL_EMPTY, "url-empty", "urls", 0, W, W, W, W, "a URL element is empty",                       \
    "put the URL in the element, or remove the element")                                           \
  X(URL_NOT_HTTP, "url-not-http", "urls", 0, E, E, E, E, "URL scheme is not http or https",        \
    "use an https:// URL")                                                                         \
  X(URL_NOT_ABSOLUTE, "url-not-absolute", "urls", 0, W, E, E, W,                                   \
    "URL is relative (no scheme and host)",                                                        \
    "write an absolute https:// URL; relative URLs resolve differently in every player")           \
  X(URL_PROTOCOL_RELATIVE, "url-protocol-relative", "urls", 0, W, E, E, W,                         \
    "URL starts with // (protocol-relative): apps and servers have no page scheme to inherit",     \
    "write https:// explicitly")                                                                   \
  X(URL_WHITESPACE, "url-whitespace", "urls", 0, E, E, E, E,                                       \
    "URL contains whitespace inside (after trimming)",                                             \
    "percent-encode spaces as %20; remove line breaks inside the URL")                             \
  X(URL_XML_CHARS, "url-xml-chars", "urls", 0, W, W, E, W,                                         \
    "URL contains raw < or > or control characters (break XML outside CDATA and HTTP request "     \
    "lines)",                                                                                      \
    "percent-encode them (%3C %3E) and keep the URL in CDATA")                                     \
  X(URL_UNSAFE_CHARS, "url-unsafe-chars", "urls", 0, I, W, W, I,                                   \
    "URL contains characters not allowed unencoded in URLs (\" { } | \\ ^ ` or non-ASCII)",        \
    "percent-encode them")                                                                         \
  X(URL_BAD_PERCENT, "url-bad-percent", "urls", 0, W, W, E, W,                                     \
    "URL contains % not followed by two hex digits (invalid percent-encoding)",                    \
    "encode a literal % as %25; use [MACRO] or %%MACRO%% for macros")                              \
  X(ERROR_URL_NO_ERRORCODE, "error-url-no-errorcode", "urls", 0, W, W, W, W,                       \
    "Error URL without the [ERRORCODE] macro: the error is reported without its code",             \
    "add a parameter such as err=[ERRORCODE] to the Error URL")                                    \
  X(MACRO_UNKNOWN, "macro-unknown", "urls", 0, I, I, I, I,                                         \
    "[NAME] is not an IAB VAST macro: players leave it untouched",                                 \
    "use an IAB macro, or make sure your own server replaces it")                                  \
  X(MACRO_MISSPELLED, "macro-misspelled", "urls", 0, W, W, W, W,                                   \
    "[NAME] looks like a misspelled IAB macro: players leave it untouched",                        \
    "spell the macro exactly as the IAB list does (upper case, e.g. [CACHEBUSTING])")              \
  X(URL_DUPLICATE, "url-duplicate", "urls", 0, W, W, W, W,                                         \
    "the same URL is listed twice for one event: it is fired (and counted) twice",                 \
    "remove the duplicate")                                                                        \
  X(URL_INSECURE, "url-insecure", "urls", 0, I, W, W, I,                                           \
    "http:// URL where https is expected (blocked as mixed content, refused by CTV platforms)",    \
    "serve it over https://")                                                                      \
  X(WRAPPER_MISSING_URI, "wrapper-missing-uri", "wrapper", 300, E, E, E, E,                        \
    "Wrapper without VASTAdTagURI", "add <VASTAdTagURI><![CDATA[https://...]]></VASTAdTagURI>")    \
  X(WRAPPER_URI_INVALID, "wrapper-uri-invalid", "wrapper", 300, E, E, E, E,                        \
    "VASTAdTagURI is empty, has whitespace inside or is not an http(s) URL",                       \
    "put one absolute https:// URL in VASTAdTagURI")                                               \
  X(POD_DUPLICATE_SEQUENCE, "pod-duplicate-sequence", "pods", 0, W, W, E, W,                       \
    "two Ads of a pod share a sequence number: play order is undefined",                           \
    "number the Ads of a pod 1, 2, 3... without repeats")                                          \
  X(POD_MIXED_BUFFET, "pod-mixed-buffet", "pods", 0, I, W, W, I,                                   \
    "Ads with sequence (a pod) mixed with Ads without (a buffet): the latter are only fallbacks",  \
    "return either a pod or a buffet, unless fallbacks are intended")                              \
  X(VMAP_OFFSET_INVALID, "vmap-offset-invalid", "vmap", 0, E, E, E, E,                             \
    "AdBreak timeOffset is not start, end, HH:MM:SS[.mmm], n% or #n",                              \
    "write timeOffset=\"start\", \"end\", \"00:10:00.000\", \"50%\" or \"#1\"")                    \
  X(VMAP_BREAK_NO_SOURCE, "vmap-break-no-source", "vmap", 0, W, W, W, W,                           \
    "AdBreak without AdSource: the break can never be filled",                                     \
    "add an AdSource with AdTagURI or VASTAdData")                                                 \
  X(ELEMENT_UNKNOWN, "element-unknown", "model", 0, I, I, I, I,                                    \
    "element not in the VAST spec (ignored by players)",                                           \
    "remove it, or move vendor data to Extensions")                                                \
  X(ELEMENT_MISPLACED, "element-misplaced", "model", 101, W, W, W, W,                              \
    "known element in the wrong parent (ignored by strict players)",                               \
    "move the element to the parent the spec gives it")                                            \
  X(NUMBER_MALFORMED, "number-malformed", "model", 101, W, W, W, W,                                \
    "numeric attribute is not a number", "write a plain integer (no units, no spaces)")            \
  X(BOOLEAN_MALFORMED, "boolean-malformed", "model", 101, W, W, W, W,                              \
    "boolean attribute is none of true/false/1/0", "write true or false")                          \
  X(WRAPPER_LIMIT, "wrapper-limit", "wrapper", 302, E, E, E, E,                                    \
    "(--resolve) the wrapper chain needs more Wrappers than the limit allows",                     \
    "point the Wrapper at the final ad server; remove intermediaries (players stop at 5)")         \
  X(WRAPPER_LOOP, "wrapper-loop", "wrapper", 302, E, E, E, E,                                      \
    "(--resolve) the wrapper chain comes back to a document already on it",                        \
    "fix the VASTAdTagURI that points back up the chain")                                          \
  X(WRAPPER_DEPTH, "wrapper-depth", "wrapper", 302, W, W, W, W,                                    \
    "(--resolve) resolved through more than 5 Wrappers: most players give up (IAB 302)",           \
    "shorten the chain to 5 Wrappers or fewer")                                                    \
  X(WRAPPER_UNAVAILABLE, "wrapper-unavailable", "wrapper", 301, E, E, E, E,                        \
    "(--resolve) a VASTAdTagURI could not be fetched (timeout, HTTP error, unreadable, unusable "  \
    "URI)",                                                                                        \
    "make the URI an absolute https:// URL that answers 200 with VAST within the timeout")         \
  X(WRAPPER_NO_AD, "wrapper-no-ad", "wrapper", 303, W, W, W, W,                                    \
    "(--resolve) the wrapper chain ends in a response with no ad (no fill)",                       \
    "expected when the demand has no fill; otherwise check targeting at the last hop")             \
  X(WRAPPER_RESPONSE_INVALID, "wrapper-response-invalid", "wrapper", 100, E, E, E, E,              \
    "(--resolve) a document fetched through a Wrapper is not XML, not VAST or of an unsupported "  \
    "version",                                                                                     \
    "make the last hop return well-formed VAST 2.0-4.3 (IAB 100/101/102)")                         \
  X(WRAPPER_REFUSED, "wrapper-refused", "wrapper", 300, E, E, E, E,                                \
    "(--resolve) a Wrapper came back where the Wrapper above says "                                \
    "followAdditionalWrappers=\"false\"",                                                          \
    "return an InLine there, or allow further wrappers on the Wrapper above")                      \
  X(WRAPPER_CATEGORY_BLOCKED, "wrapper-category-blocked", "wrapper", 205, E, E, E, E,              \
    "(--resolve) the InLine's Category is on a Wrapper's BlockedAdCategories: the ad is refused "  \
    "(IAB 205)",                                                                                   \
    "serve an ad outside the blocked categories, or fix the InLine's Category")                    \
  X(URL_NOT_CDATA, "url-not-cdata", "urls", 0, W, W, W, W,                                         \
    "URL text is not in CDATA (VAST 4.x 2.3.3: URLs must be): one raw & makes the tag "            \
    "unparseable (IAB 100)",                                                                       \
    "wrap the URL in <![CDATA[...]]>")                                                             \
  X(MISSING_UNIVERSALADID, "missing-universaladid", "structure", 101, W, W, W, W,                  \
    "VAST 4.x InLine Creative without UniversalAdId (required since 4.0)",                         \
    "add <UniversalAdId idRegistry=\"ad-id.org\">CNPA0484000H</UniversalAdId> "                    \
    "(idRegistry=\"unknown\" value=\"unknown\" when there is none)")                               \
  X(POD_DUPLICATE_ADSERVINGID, "pod-duplicate-adservingid", "pods", 0, W, W, E, W,                 \
    "two Ads of one response share an AdServingId (it must be unique per ad)",                     \
    "give every Ad its own AdServingId")                                                           \
  X(MEDIA_NO_MEZZANINE, "media-no-mezzanine", "media", 406, O, O, W, O,                            \
    "VAST 4.x InLine Linear without Mezzanine: SSAI stitchers transcode from it (IAB 406)",        \
    "add <Mezzanine delivery=\"progressive\" type=\"video/mp4\" width=\"1920\" height=\"1080\"> "  \
    "with the high-quality source file")                                                           \
  X(IMPRESSION_ABOUT_BLANK, "impression-about-blank", "events", 0, I, I, I, I,                     \
    "Impression is about:blank: a placeholder, no impression is counted here (VAST 4.x 3.4.4)",    \
    "nothing to fix if this party does not count impressions; otherwise give its pixel URL")       \
  X(PROBE_UNREACHABLE, "probe-unreachable", "probe", 401, E, E, E, E,                              \
    "(--probe) a MediaFile cannot be fetched or read (HTTP error, timeout, refused address)",      \
    "serve the file over https, answering 200/206 within a few seconds")                           \
  X(PROBE_NOT_MEDIA, "probe-not-media", "probe", 405, E, E, E, E,                                  \
    "(--probe) a MediaFile is not media a player can read (garbage, HTML, truncated, unbounded)",  \
    "point the MediaFile at the real video; re-upload a truncated file")                           \
  X(PROBE_DURATION_MISMATCH, "probe-duration-mismatch", "probe", 202, W, E, E, W,                  \
    "(--probe) the file's duration differs from <Duration> by more than the tolerance (0.5 s)",    \
    "write the file's real length in <Duration>: quartiles are computed from it")                  \
  X(PROBE_MIME_MISMATCH, "probe-mime-mismatch", "probe", 403, W, E, E, W,                          \
    "(--probe) the MediaFile type (or the server's Content-Type) does not match the container",    \
    "declare the file's real MIME type (video/mp4 for MP4, video/webm for WebM...)")               \
  X(PROBE_CODEC_MISMATCH, "probe-codec-mismatch", "probe", 403, W, E, W, W,                        \
    "(--probe) the codec attribute names another codec than the file's",                           \
    "write the file's codec (e.g. avc1.64001F, mp4a.40.2) or remove the attribute")                \
  X(PROBE_SIZE_MISMATCH, "probe-size-mismatch", "probe", 203, W, W, W, O,                          \
    "(--probe) width/height differ from the file's resolution",                                    \
    "declare the file's real width and height in pixels")                                          \
  X(PROBE_BITRATE_MISMATCH, "probe-bitrate-mismatch", "probe", 0, W, W, W, W,                      \
    "(--probe) the measured bitrate is outside bitrate/minBitrate/maxBitrate (25% tolerance)",     \
    "declare the file's real bitrate in kbit/s, or re-encode to the declared one")                 \
  X(PROBE_FILESIZE_MISMATCH, "probe-filesize-mismatch", "probe", 0, W, W, W, W,                    \
    "(--probe) fileSize differs from the size the server reports",                                 \
    "declare the file's real size in bytes")                                                       \
  X(PROBE_CTV_CODEC, "probe-ctv-codec", "probe", 403, O, E, W, O,                                  \
    "(--probe) an MP4/HLS MediaFile that is not H.264 (High or lower) with AAC",                   \
    "encode the CTV renditions as H.264 High (or Main) with AAC-LC audio")                         \
  X(PROBE_CTV_CEILING, "probe-ctv-ceiling", "probe", 405, O, W, W, O,                              \
    "(--probe) above the CTV ceilings: 1920x1080, 60 fps, 20 Mbit/s, H.264 level 4.2",             \
    "add a rendition within 1080p, 60 fps, 20 Mbit/s and level 4.2")                               \
  X(PROBE_NOT_FAST_START, "probe-not-fast-start", "probe", 0, I, W, W, I,                          \
    "(--probe) an MP4 whose index (moov) follows the media data: played only once downloaded",     \
    "remux with the index first: ffmpeg -i in.mp4 -c copy -movflags +faststart out.mp4")           \
  X(PROBE_RANGE_IGNORED, "probe-range-ignored", "probe", 0, I, W, W, I,                            \
    "(--probe) the server answers byte-range requests with 200 and the whole file",                \
    "enable byte ranges (Accept-Ranges: bytes) on the media server or CDN")

typedef enum vast__rule_idx {
#define VAST__RULE_ENUM(e, id, cat, code, w, c, s, a, sum, fix) VAST__R_##e,
  VAST__RULES(VAST__RULE_ENUM)
#undef VAST__RULE_ENUM
      VAST__R__COUNT
} vast__rule_idx;

extern const vast_rule vast__rules[VAST__R__COUNT];

/* A findings list: items plus an arena for their strings, and the policy
 * that produced them (for the writers' reports). */
struct vast_findings {
  vast_finding *items;
  size_t n, cap;
  int oom;                       /* an append failed: the list is incomplete */
  int profile;                   /* -1: not known (a parse failure) */
  vast_rule_override *overrides; /* arena copies */
  size_t n_overrides;
  vast__arena arena;
};

vast_findings *vast__findings_new(void);
/* Appends a copy of *f (strings copied); 0 or -1 when out of memory. */
int vast__findings_add(vast_findings *list, const vast_finding *f);

/* Wrapper levels of the longest path of a resolved chain (resolved or failed). */
int vast__chain_wrapper_levels(const vast_chain *c);
/* opt->overrides (and their number) when opt is large enough to hold them. */
const vast_rule_override *vast__validate_overrides_opt(const vast_validate_options *opt, size_t *n);
/* opt->chain when opt is large enough to hold it, else NULL. */
const vast_chain *vast__validate_chain_opt(const vast_validate_options *opt);

#endif
