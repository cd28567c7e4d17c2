/*
 * vastrack/ssai.h: the server-side beaconing service (`vastrack ssai`).
 *
 * An SSAI stitcher hands over sessions (one per viewer, with the device
 * context), ad breaks (a VAST URL or document, resolved with the device's
 * macros) and what each player consumed (positions, or segment requests).
 * The service plays one tracker per ad in trusted-position mode and fires
 * every beacon due through one dispatcher, on behalf of the device
 * (X-Device-IP, X-Device-User-Agent...), under one vast_net_policy.
 *
 * Delivery (docs/ssai.md):
 *   - the beacons of one ad leave in the order they became due: a group of
 *     beacons of one event (the Impressions of the chain, a quartile's URLs
 *     at every wrapper level) leaves together; the next group of the same ad
 *     leaves once the previous one is answered or given up;
 *   - a timeout, a connection failure or a 5xx is retried with exponential
 *     backoff until the beacon's deadline (due + deadline_ms), then counted as
 *     expired; any other answer (2xx, 3xx, 4xx) is final; a refusal by the
 *     policy is final and counted as failed;
 *   - at most per_host requests in flight per destination host (a batch
 *     larger than per_host goes alone).
 * Durability: with a state directory every beacon is journalled with a stable
 * id (a 64-bit number) when it becomes due, and sent only once its line is on
 * disk (group commit: one fdatasync for every beacon due meanwhile, on the
 * journal thread); it is marked when answered, failed or expired. Sessions,
 * their breaks (the documents fetched, saved once per break in DIR/breaks)
 * and each ad's position are journalled the same way. vast_ssai_create()
 * reads the journal: sessions come back with their ads at the journalled
 * positions (trackers resume without firing again), and the beacons never
 * marked are sent again (once), in their order per ad; only the ones in
 * flight at a crash may repeat. Player state that is not a position (muted,
 * paused) is not kept.
 *
 * Sharing: sessions whose breaks resolved to the same documents share one
 * break (documents, plans, timelines); a session holds its device and one
 * small tracker per ad.
 *
 * Thread safety: every call may be made from any thread (one lock); the
 * dispatcher and the journal run on their own threads.
 */
#ifndef VASTRACK_SSAI_H
#define VASTRACK_SSAI_H

#include "base.h"
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vast_ssai vast_ssai;

typedef struct vast_ssai_opts {
  size_t size;                   /* sizeof(vast_ssai_opts) */
  const char *state_dir;         /* journal directory (created); NULL: no journal */
  double idle_timeout_s;         /* a session with no call for this long ends; default 60 */
  long deadline_ms;              /* a beacon not answered this long after due expires; 30000 */
  long retry_base_ms;            /* first retry delay, doubled each time; default 250 */
  unsigned per_host;             /* requests in flight per destination host; default 32 */
  unsigned max_concurrent;       /* requests in flight in all; default 512 */
  long timeout_ms;               /* one request; default 5000 */
  int forwarded_for;             /* 1: also X-Forwarded-For: device IP */
  const vast_net_policy *policy; /* guard and ceilings of every fetch and beacon;
                                    NULL: the default policy (private refused) */
  vast_fetch_fn fetch;           /* resolver fetch replacement (tests); NULL: libcurl */
  void *fetch_ctx;
  size_t journal_max_bytes; /* past this, tick() rewrites the journal with only the
                               beacons not settled; default 256 MiB */
} vast_ssai_opts;

/* Defaults above. */
VAST_API void vast_ssai_opts_init(vast_ssai_opts *opts);

/*
 * vast_ssai_create: a service. With opts->state_dir, opens (creates) the
 * journal DIR/beacons.journal, restores the sessions it holds and queues the
 * beacons it holds unanswered.
 *   msg  optional caller buffer (cap bytes) for the reason of a failure
 * Returns VAST_OK, VAST_E_INVAL, VAST_E_IO (the directory or journal cannot be
 * used; msg says which), VAST_E_NOMEM, VAST_E_HTTP (libcurl failed).
 */
VAST_API vast_err vast_ssai_create(const vast_ssai_opts *opts, vast_ssai **out /* OUT */, char *msg,
                                   size_t cap);
/* Stops the dispatcher (beacons in flight are abandoned, and stay unanswered in
 * the journal), frees every session (not ended: with a state directory they
 * come back at the next vast_ssai_create). Accepts NULL. */
VAST_API void vast_ssai_free(vast_ssai *s);

/*
 * vast_ssai_session_create: a session for one device.
 *   id   the caller's id (1-64 characters [A-Za-z0-9._-]), or NULL: one is made
 *   dev  the device: ip and user_agent required (as vast_dispatcher_submit_device
 *        checks them; a TAB is refused too); copied
 *   out  OUT: the session id, NUL-terminated (cap >= 65)
 * Returns VAST_OK, VAST_E_INVAL (bad id or device), VAST_E_STATE (id taken),
 * VAST_E_NOMEM.
 */
VAST_API vast_err vast_ssai_session_create(vast_ssai *s, const char *id, const vast_device *dev,
                                           char *out, size_t cap);
/* Ends a session now: open ads end without further beacons (no complete is
 * invented); beacons already due are still delivered. VAST_E_NOT_FOUND. */
VAST_API vast_err vast_ssai_session_end(vast_ssai *s, const char *id);

/*
 * vast_ssai_break_add: resolves an ad break for a session and writes its
 * timeline as one JSON object through write:
 *   {"sessionId","break","ads":[{"ad","adId","adSystem","sequence","offset",
 *    "duration","chain":[ids...],"events":[{"event","time","urls":[...]}...]}],
 *    "duration","failures":[{"code","message"}],"breakEvents":[{"event","urls"}]}
 * `ad` is the number to report consumption with (session-wide, from 0);
 * offset the start of the ad in the break (seconds), time the media time an
 * event fires at (null: fired by a player event: mute, click...), urls the
 * templates as written (macros not expanded).
 *   url       a VAST or VMAP URL (fetched once, with the session's macros
 *             expanded in it and its X-Device-* headers), or NULL with doc/len:
 *             a VAST or VMAP document
 *   err       optional: why resolution failed (iab_code: the IAB code, if any)
 * Macros [DEVICEIP], [DEVICEUA], [CLIENTUA], [SERVERSIDE] (1) are the session's.
 * A VMAP (given as doc, or the answer of url) is split: each of its breaks (in
 * content order) becomes one break of the session, and the answer is
 * {"sessionId","breaks":[one object as above per break],"failures":[{"breakId",
 * "timeOffset","code","message"}]} (the breaks that could not be resolved).
 * A VMAP break's own tracking (breakEvents: breakStart, breakEnd, error) is
 * fired by the service: breakStart with its first ad's first report, breakEnd
 * once its ads have ended, error when it cannot be resolved.
 * Sessions given the same documents share the break (see above).
 * Returns VAST_OK, VAST_E_NOT_FOUND (no session), VAST_E_INVAL, the fetch's or
 * the resolver's error when no ad resolved (a VMAP with no break: VAST_E_NO_AD),
 * VAST_E_NOMEM, VAST_E_IO (write failed).
 */
VAST_API vast_err vast_ssai_break_add(vast_ssai *s, const char *sid, const char *url,
                                      const char *doc, size_t len, vast_write_fn write, void *ctx,
                                      vast_error *err);

/* One consumption report. */
typedef struct vast_ssai_consumption {
  unsigned ad;         /* the timeline's `ad` */
  int segment;         /* 1: a segment request (index, seg_duration); 0: a position */
  double media_time;   /* position: seconds into the ad */
  double wall_time;    /* Unix seconds; < 0: now */
  unsigned index;      /* segment: 0-based index within the ad */
  double seg_duration; /* segment: seconds (> 0) */
} vast_ssai_consumption;

/*
 * vast_ssai_report: one report. The first report of an ad fires its
 * Impressions (all together) and creativeView, then start; a position (or the
 * end of the segment requested: (index + 1) * seg_duration) moves the tracker
 * (trusted positions): quartiles, progress; reaching the declared duration
 * fires complete. Returns VAST_OK, VAST_E_NOT_FOUND (no session or ad),
 * VAST_E_INVAL (bad values), VAST_E_STATE (the ad is over).
 */
VAST_API vast_err vast_ssai_report(vast_ssai *s, const char *sid, const vast_ssai_consumption *r);

/*
 * vast_ssai_event: a player event only the client knows: "mute", "unmute",
 * "pause", "resume", "click", "skip", "close", "playerExpand",
 * "playerCollapse", "error" (code: IAB code, 0 for 900), and the other
 * vast_input_from_name() names except those consumption drives (loaded,
 * impression, time, ended, duration, seek). media: seconds into the ad (< 0:
 * the last reported). Returns as vast_tracker_feed (VAST_E_STATE refused),
 * or VAST_E_NOT_FOUND, VAST_E_INVAL (unknown or refused name).
 */
VAST_API vast_err vast_ssai_event(vast_ssai *s, const char *sid, unsigned ad, const char *name,
                                  double media, int code);

/* Waits until everything the calls so far journalled is on disk (group
 * commit: the journal thread syncs every few ms), or timeout_ms (-1: none).
 * With a state directory, a session, break, report or event is durable only
 * then (the HTTP front answers each request only then). VAST_OK at once
 * without a state directory; VAST_E_TIMEOUT. */
VAST_API vast_err vast_ssai_sync(vast_ssai *s, long timeout_ms);

/* Timers: ends idle sessions, sends retries that are due. Call every few ms. */
VAST_API void vast_ssai_tick(vast_ssai *s);
/* Waits until no beacon is queued or in flight, or timeout_ms (-1: none).
 * VAST_OK or VAST_E_TIMEOUT. Calls vast_ssai_tick meanwhile. */
VAST_API vast_err vast_ssai_drain(vast_ssai *s, long timeout_ms);

typedef struct vast_ssai_figures {
  uint64_t sessions, sessions_total, sessions_idle, ads_open;
  uint64_t due, sent, failed, expired, retried, recovered, pending, in_flight;
  uint64_t compactions;     /* journal rewrites since start */
  uint64_t lateness_ms[12]; /* sent - due, first attempt: <=1,2,5,10,20,50,100,
                               200,500,1000,5000 ms, more */
  size_t memory;            /* bytes held by the sessions (not the breaks they share) */
} vast_ssai_figures;

VAST_API void vast_ssai_stats(vast_ssai *s, vast_ssai_figures *out /* OUT */);

/* More figures: the shared breaks and the journal. */
typedef struct vast_ssai_figures2 {
  size_t size;                /* sizeof(vast_ssai_figures2), set by the caller */
  size_t breaks;              /* resolved breaks held, shared by the sessions */
  size_t break_bytes;         /* their documents and plans */
  uint64_t break_hits;        /* break added: the same documents were held already */
  uint64_t break_misses;      /* break added: resolved into a new shared break */
  uint64_t sessions_restored; /* sessions rebuilt from the journal at start */
  uint64_t journal_syncs;     /* group commits (one fdatasync each) */
  uint64_t journal_errors;    /* failed journal writes or syncs, break files not saved */
} vast_ssai_figures2;

/* Fills out->size bytes of *out (fields past them are not written). */
VAST_API void vast_ssai_stats2(vast_ssai *s, vast_ssai_figures2 *out /* OUT */);
/* The figures in Prometheus text format (vastrack_ssai_*). */
VAST_API vast_err vast_ssai_write_metrics(vast_ssai *s, vast_write_fn write, void *ctx);

/*
 * vast_ssai_serve: the HTTP/JSON API on addr ("127.0.0.1:8090"), until *stop
 * becomes non-zero (checked every 10 ms). docs/ssai.md and docs/ssai.yaml list
 * the routes. ready (optional) is called once listening, with the port.
 * Returns VAST_OK on stop, VAST_E_IO (cannot listen; msg says why), VAST_E_INVAL.
 */
VAST_API vast_err vast_ssai_serve(vast_ssai *s, const char *addr, volatile int *stop,
                                  void (*ready)(void *u, int port), void *u, char *msg, size_t cap);

/*
 * Scale-out on Kafka (docs/ssai.md, "Kafka source"). A consumer thread reads
 * JSON messages keyed by session id from uri, kafka://BROKERS/TOPIC[?group=G&
 * property=value...] (group.id "vastrack-ssai" unless given; the other
 * properties are librdkafka's), and applies each through the calls above:
 *   {"type":"session","sessionId","deviceIp","userAgent",...}
 *   {"type":"break","sessionId","url"|"vast"}
 *   {"type":"report","sessionId","ad","mediaTime"|"segment","segmentDuration"}
 *   {"type":"event","sessionId","ad","event","mediaTime","code"}
 *   {"type":"end","sessionId"}
 * Instances in one group share the partitions. Offsets are committed (when
 * caught up, every 200 ms, on a revoke; the journal synced first) as of the
 * newest moment whose beacons are all settled (answered, failed, expired): at
 * the first message of the oldest session then live in the partition, with the offset
 * applied by then as metadata; the next owner replays the live sessions from
 * their creation without firing what the previous owner applied, then fires. A revoked
 * partition that comes back unchanged goes on where it was; the sessions of the others end
 * here (no beacon invented). idle_s: the service's idle timeout (a
 * session silent that long is no longer replayed); <= 0: 60. Returns VAST_OK, VAST_E_INVAL (bad URI
 * or property; msg says which), VAST_E_KAFKA, VAST_E_NOMEM.
 */
typedef struct vast_ssai_kafka vast_ssai_kafka;
typedef struct vast_ssai_kafka_figures {
  uint64_t messages;             /* applied (fired or quiet) */
  uint64_t replayed_quietly;     /* applied without firing: the previous owner had */
  uint64_t refused;              /* the call refused it (bad JSON, unknown session...) */
  uint64_t rebalances;           /* partition assignments received */
  uint64_t sessions_handed_over; /* ended here on a revoke */
  uint64_t commits, commit_errors, consume_errors;
} vast_ssai_kafka_figures;

VAST_API vast_err vast_ssai_kafka_start(vast_ssai *s, const char *uri, double idle_s,
                                        vast_ssai_kafka **out /* OUT */, char *msg, size_t cap);
/* Commits, leaves the group (the partitions go to the other instances; the
 * sessions held end here), frees. Call before vast_ssai_free. Accepts NULL. */
VAST_API void vast_ssai_kafka_stop(vast_ssai_kafka *k);
VAST_API void vast_ssai_kafka_stats(vast_ssai_kafka *k, vast_ssai_kafka_figures *out /* OUT */);
/* The consumer's figures in Prometheus text (with HELP and TYPE lines):
 * vastrack_ssai_kafka_{messages,replayed,refused,commits,commit_errors,
 * consume_errors,rebalances,sessions_handed_over}_total (replayed: applied
 * quietly), and the gauges vastrack_ssai_kafka_partitions (assigned now) and
 * vastrack_ssai_kafka_lag_messages (not applied yet, by the high watermark of
 * the last fetch; no request to the broker). The HTTP front's /metrics of
 * the service k feeds adds them. VAST_OK, VAST_E_INVAL, VAST_E_IO. */
VAST_API vast_err vast_ssai_kafka_write_metrics(vast_ssai_kafka *k, vast_write_fn write, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
