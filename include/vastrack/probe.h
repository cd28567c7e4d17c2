/*
 * vastrack/probe.h: the media behind a tag. Reads a MediaFile (an http(s) URL or
 * a local file) with libavformat through a bounded reader and reports what the
 * file really is: container, duration, codecs, profile and level, resolution,
 * frame rate, bitrates, audio layout, whether an MP4 is fast-start, and what the
 * server did (status, Content-Type, size, range support).
 *
 * Nothing is downloaded whole. libavformat is only ever handed the bounded
 * reader: every read and seek becomes a ranged GET (Range: bytes=a-b) of
 * read_ahead bytes through libcurl, with the resolver's protections (http/https
 * only, also on redirects; no environment proxy; the special-address guard of
 * the network policy, or refuse_private), one deadline for the whole probe and a
 * byte budget.
 * What a demuxer opens besides the file (the variant playlists and segments of
 * an HLS playlist) goes through readers of the same kind under the same
 * deadline and budget: http(s) URLs only, at most max_nested per probe; anything else
 * (local files, other protocols, MOV external references) is refused. A local
 * file is read the same way with pread().
 *
 * Defaults (docs/probe.md explains them):
 *   timeout     10 s for the whole probe (all requests together);
 *   bytes       at most 8 MiB read per probe (network body bytes, or file bytes);
 *   read-ahead  64 KiB per ranged request; up to 4 blocks are kept, so
 *               libavformat's small back-and-forth reads cost no request.
 *
 * Thread safety: a vast_prober is used by one thread at a time; different probers
 * may run at once. vast_media_probe and vast_media_probe_many are reentrant.
 *
 * Process-wide: the first prober created sets libav*'s log level to quiet (the
 * library writes nothing to standard error), or to the AV_LOG_* number in the
 * environment variable VASTRACK_AV_LOG. A program that wants libav* logs sets its
 * own level after that.
 */
#ifndef VASTRACK_PROBE_H
#define VASTRACK_PROBE_H

#include "base.h"
#include "doc.h"
#include "validate.h"
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VAST_DEFAULT_PROBE_TIMEOUT_MS 10000L
#define VAST_DEFAULT_PROBE_MAX_BYTES (8u << 20)
#define VAST_DEFAULT_PROBE_READ_AHEAD (64u << 10)

/* Options of a probe. Initialise with vast_probe_opts_init() then change fields. */
typedef struct vast_probe_opts {
  size_t size;                   /* sizeof(vast_probe_opts) */
  long timeout_ms;               /* whole probe, every request together; default 10000 */
  size_t max_bytes;              /* bytes read per probe; default 8 MiB */
  size_t read_ahead;             /* bytes asked per ranged request; default 64 KiB
                                    (at least 4 KiB, at most max_bytes) */
  long max_redirects;            /* per request; default 5 */
  const char *user_agent;        /* NULL: "vastrack/<version>" */
  int refuse_private;            /* 1: refuse loopback/private/link-local addresses
                                    (checked on the resolved IPs, on every connection) */
  int allow_files;               /* 1 (default): a target that is not http(s) is a
                                    local path read from disk; 0: VAST_E_URL */
  const vast_net_policy *policy; /* NULL, or the program's network policy
                              (vastrack/net.h), applied when a prober is created:
                              its guard refuses special-purpose addresses unless
                              allow_private (the stricter of it and refuse_private
                              wins); its timeout caps timeout_ms, its redirects
                              max_redirects, its max_bytes each response body; its
                              user agent is used when user_agent is NULL */
  unsigned max_nested;           /* URLs a demuxer may open per probe (HLS variant
                                    playlists, segments); default 32, at most 32; 0: none */
} vast_probe_opts;

VAST_API void vast_probe_opts_init(vast_probe_opts *opts);

/*
 * vast_media_info: what a probe found. Owned by the caller (no pointers inside);
 * filled as far as the probe got, also on failure (status, content_type and
 * bytes_read of a 404, for example). Unknown numbers are -1 (0 for bitrates),
 * unknown strings "".
 */
typedef struct vast_media_info {
  int is_file;            /* 1: read from disk */
  long status;            /* HTTP status of the first response; 0 for files or none */
  char content_type[128]; /* Content-Type of the first response, as sent */
  int64_t content_length; /* size of the whole file (Content-Range total,
                             Content-Length of a 200, or the file size); -1 unknown */
  int range_ignored;      /* 1: the server answered a range request with 200 and
                             the whole body (works, but a player downloads it all) */
  char container[32];     /* "mp4", "m4a", "mov", "webm", "matroska", "mpegts",
                             "hls", "mp3", "aac", "ogg", "flv", "avi", "wav", ...
                             ("" when the file is not media) */
  double duration;        /* seconds; -1 unknown */
  int64_t bit_rate;       /* overall, bit/s (file size * 8 / duration when the
                             container does not say); 0 unknown */
  int has_video;
  char video_codec[32];   /* libavcodec's name: "h264", "hevc", "vp9", "av1"... */
  char video_profile[40]; /* "High", "Main", "Constrained Baseline"...; "" unknown */
  char video_level[8];    /* "4.0", "4.1" (H.264, HEVC); "" unknown */
  int width, height;      /* pixels; -1 unknown */
  double frame_rate;      /* frames per second; -1 unknown */
  int64_t video_bit_rate; /* bit/s; 0 unknown */
  int has_audio;
  char audio_codec[32];   /* "aac", "opus", "mp3", "vorbis"... */
  char audio_profile[40]; /* "LC", "HE-AAC"...; "" unknown */
  int channels;           /* -1 unknown */
  int sample_rate;        /* Hz; -1 unknown */
  int64_t audio_bit_rate; /* bit/s; 0 unknown */
  int fast_start;         /* MP4/MOV/M4A: 1 moov before mdat (playback can start at
                             once), 0 moov after mdat; -1 not MP4 or unknown */
  uint64_t bytes_read;    /* body bytes received (or read from disk) */
  unsigned requests;      /* HTTP requests made (0 for files) */
  double elapsed_ms;      /* wall time of the probe */
} vast_media_info;

/* A prober: one libcurl handle reused across probes (connection reuse). */
typedef struct vast_prober vast_prober;

/* Creates a prober with copies of opts (NULL: defaults). VAST_E_NOMEM, VAST_E_HTTP
 * (libcurl failed to initialise). */
VAST_API vast_err vast_prober_create(const vast_probe_opts *opts, vast_prober **out /* OUT */);
/* Frees the prober and closes its connections. Accepts NULL. */
VAST_API void vast_prober_free(vast_prober *p);

/*
 * vast_prober_run: probes one http(s) URL, or a local path when allow_files.
 *   info  OUT: filled as far as the probe got (see vast_media_info), even on failure.
 *   err   optional; on failure the code, the IAB code a player would report and a
 *         message naming the target.
 * Returns VAST_OK when the file was opened as media; otherwise
 *   VAST_E_URL       not http(s) (and not a file when files are refused);
 *   VAST_E_IO        the local file cannot be read (IAB 401);
 *   VAST_E_HTTP      no response, or a status that is not 2xx (info->status; IAB 401);
 *   VAST_E_FORBIDDEN the guard refused the address;
 *   VAST_E_TIMEOUT   the deadline passed (IAB 402);
 *   VAST_E_TOO_LARGE the byte budget ran out before libavformat was done (IAB 405);
 *   VAST_E_NOT_FOUND the bytes are not media libavformat can read, or the container
 *                    needs other files (HLS segments) (IAB 405);
 *   VAST_E_NOMEM.
 */
VAST_API vast_err vast_prober_run(vast_prober *p, const char *target,
                                  vast_media_info *info /* OUT */, vast_error *err);

/* One probe with a prober of its own: create, run, free. */
VAST_API vast_err vast_media_probe(const char *target, const vast_probe_opts *opts,
                                   vast_media_info *info /* OUT */, vast_error *err);

/*
 * vast_media_probe_many: probes n targets with at most `concurrency` (1..64; 0: 4)
 * at once, each worker thread reusing one prober. infos[i] and rcs[i] are the
 * result of targets[i]; errs (optional, n entries) the errors.
 * Returns VAST_OK (each probe's outcome is in rcs), VAST_E_INVAL or VAST_E_NOMEM.
 */
VAST_API vast_err vast_media_probe_many(const char *const *targets, size_t n,
                                        const vast_probe_opts *opts, unsigned concurrency,
                                        vast_media_info *infos /* OUT, n */,
                                        vast_err *rcs /* OUT, n */, vast_error *errs);

/*
 * vast_media_info_write_json: one JSON object with camelCase keys:
 * {"target","ok","error","iabCode","status","contentType","contentLength",
 *  "rangeIgnored","container","duration","bitRate",
 *  "video":{"codec","profile","level","width","height","frameRate","bitRate"}|null,
 *  "audio":{"codec","profile","channels","sampleRate","bitRate"}|null,
 *  "fastStart":true|false|null,"bytesRead","requests","elapsedMs"}.
 * err may be NULL (then "error" is null). No newline. VAST_OK or VAST_E_IO.
 */
VAST_API vast_err vast_media_info_write_json(const char *target, const vast_media_info *info,
                                             vast_err rc, const vast_error *err,
                                             vast_write_fn write, void *ctx);

/* ------------------------------------------------------------------------ */
/* Checks: the tag against its media                                         */
/* ------------------------------------------------------------------------ */

/* Options of vast_probe_check. Initialise with vast_probe_check_opts_init(). */
typedef struct vast_probe_check_opts {
  size_t size;               /* sizeof(vast_probe_check_opts) */
  vast_probe_opts probe;     /* how each file is read */
  unsigned concurrency;      /* probes at once; default 4 */
  double duration_tolerance; /* seconds, real vs <Duration>; default 0.5 */
  double bitrate_tolerance;  /* fraction, measured vs declared bitrate; default 0.25 */
  int mezzanines;            /* 1 (default): probe <Mezzanine> files too */
} vast_probe_check_opts;

VAST_API void vast_probe_check_opts_init(vast_probe_check_opts *opts);

/*
 * vast_probe_check: probes every MediaFile (and Mezzanine) of the InLine Linears
 * of `doc`, opts->concurrency at a time, and appends to `list` (from
 * vast_validate_list) one finding per disagreement between the tag and its media,
 * under vo's profile, disabled rules and minimum severity (vo NULL: defaults).
 * The "probe" rules (category "probe" in the rule table; docs/probe.md):
 *   probe-unreachable (401)        cannot be fetched or read (HTTP error, timeout, refused)
 *   probe-not-media (405)          not media (garbage, HTML, truncated, budget spent)
 *   probe-duration-mismatch (202)  real duration vs <Duration> beyond the tolerance
 *   probe-mime-mismatch (403)      type (or a text/ Content-Type) vs the container
 *   probe-codec-mismatch (403)     codec attribute vs the real codecs
 *   probe-size-mismatch (203)      width/height vs the real resolution
 *   probe-bitrate-mismatch         measured bitrate vs bitrate / minBitrate..maxBitrate
 *   probe-filesize-mismatch        fileSize vs the size the server reports
 *   probe-ctv-codec (403)          MP4/HLS MediaFile not H.264 <= High + AAC in MP4/HLS
 *   probe-ctv-ceiling (405)        above 1920x1080, 60 fps, 20 Mbit/s, H.264 level 4.2
 *   probe-not-fast-start           MP4 with moov after mdat
 *   probe-range-ignored            the server answers a range request with the whole body
 * HLS MediaFiles are probed through their playlists; DASH (by type) is not.
 * With vo->chain (the wrapper chain resolved from this document, see
 * vast_validate_options), the media of every InLine reached through a Wrapper of
 * `doc` is probed too; those findings are placed on that Wrapper and their
 * message names the hop URL, the Ad and the MediaFile. Relative media URLs
 * resolve against `base` (the tag's URL or file path; NULL: none). A tag whose
 * files match what it declares gets no finding.
 * Returns VAST_OK, VAST_E_INVAL (NULL doc or list, bad profile) or VAST_E_NOMEM.
 */
VAST_API vast_err vast_probe_check(const vast_doc *doc, const char *base,
                                   const vast_validate_options *vo,
                                   const vast_probe_check_opts *opts, vast_findings *list);

/*
 * vast_audit_add_probe: folds the findings that vast_probe_check appended to
 * `list` (those from index `from` on: the list's count before the call) into an
 * audit row from vast_audit_doc: the error, warning and info counts,
 * ctv_compatible (0 when a finding's rule is an error under ctv; ctv_reason names
 * it, "rule-id: message", or appends "; also rule-id"; only the findings made
 * under the profile used count: probe-ctv-* are off under web, so run the check
 * with the ctv profile for them) and the issues
 * column ("rule-id(n)" appended, most severe first). VAST_OK or VAST_E_INVAL.
 */
VAST_API vast_err vast_audit_add_probe(vast_audit *a, const vast_findings *list, size_t from);

#ifdef __cplusplus
}
#endif
#endif
