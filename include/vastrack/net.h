/*
 * vastrack/net.h: vastrack over the wire. Three facilities, all on libcurl:
 *
 *  - fetch:      one bounded GET (http/https only), used by the resolver and the CLI;
 *  - resolver:   follows VAST wrapper chains to the InLine ads (vast_resolve_*),
 *                keeping every fetched document alive in a vast_chain;
 *  - dispatcher: fires tracking beacons concurrently (vast_dispatcher_*), client-side
 *                or server-side on behalf of a device (SSAI), with one delivery
 *                record per beacon.
 *
 * Defaults (see docs/net.md for the reasoning):
 *   wrappers      at most 5 Wrapper documents followed per ad (VAST_DEFAULT_MAX_WRAPPERS).
 *                 What counts: each Wrapper <Ad> whose VASTAdTagURI is fetched counts
 *                 one, the outermost included; the InLine document that ends the chain
 *                 does not count. With the limit 5, a chain of 5 wrappers + 1 InLine
 *                 resolves; a 6th wrapper fails with IAB 302. 0 means: do not follow
 *                 any wrapper.
 *   timeouts      8 s for the first request (the tag URL itself, or the first wrapper's
 *                 URI when starting from a file or buffer), 4 s for every later request,
 *                 30 s for the whole resolution (all hops and ads of a pod together).
 *   redirects     at most 5 HTTP redirects per request (they do not count as wrappers).
 *   size          at most 1 MiB per response body; larger responses are aborted while
 *                 downloading (VAST_E_TOO_LARGE, IAB 301).
 *   dispatcher    5 s per beacon, 64 transfers at once, 4096 beacons queued or in
 *                 flight, 1 retry on connection failure.
 *
 * Thread safety: a vast_chain is immutable after resolution and may be read from
 * any thread. Resolution calls are reentrant (no shared state). A vast_dispatcher
 * is used from one thread in poll mode; after vast_dispatcher_start() only
 * vast_dispatcher_submit*() and vast_dispatcher_stats() may be called from other
 * threads (they lock), and the delivery callback runs on the dispatcher's thread.
 */
#ifndef VASTRACK_NET_H
#define VASTRACK_NET_H

#include <sys/socket.h>

#include "base.h"
#include "doc.h"
#include "track.h"
#include "chain.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VAST_DEFAULT_MAX_WRAPPERS 5u
#define VAST_DEFAULT_FIRST_TIMEOUT_MS 8000L
#define VAST_DEFAULT_HOP_TIMEOUT_MS 4000L
#define VAST_DEFAULT_TOTAL_TIMEOUT_MS 30000L
#define VAST_DEFAULT_MAX_REDIRECTS 5L
#define VAST_DEFAULT_MAX_RESPONSE (1u << 20)

/* ------------------------------------------------------------------------ */
/* Network policy                                                            */
/* ------------------------------------------------------------------------ */

/*
 * vast_net_policy: the rules for every request the library makes on behalf of a
 * tag: the tag itself, wrapper hops and their redirects (vast_fetch,
 * vast_resolve_*), Error URLs and tracking beacons (vast_dispatcher), media probes
 * (vast_probe_opts.policy).
 * A program sets one policy per command or service and hands the same pointer to
 * every options struct (vast_fetch_opts.policy, vast_resolve_opts.policy,
 * vast_dispatch_opts.policy); the policy must outlive the calls and dispatchers
 * using it (it is read, never copied, by fetch and resolve; a dispatcher copies it
 * at creation).
 *
 * The guard: unless allow_private is set, a connection to a special-purpose
 * address (vast_net_addr_special: loopback, private, link-local, CGNAT,
 * documentation, benchmarking, reserved, multicast, NAT64/6to4 embedding one of
 * those...) is refused with VAST_E_FORBIDDEN. It is checked on the address each
 * connection actually goes to (after DNS, on every redirect, and again when a
 * pooled connection is reused), so DNS rebinding and redirects cannot get round it.
 *
 * The limits are ceilings: each facility keeps its own defaults (8 s / 4 s for
 * wrapper hops, 5 s per beacon...), and a policy value lower than those wins.
 * 0 leaves a limit as the facility sets it.
 *
 * Which rule wins when both a policy and a facility's older field
 * (vast_fetch_opts.refuse_private, vast_resolve_opts.refuse_private,
 * vast_dispatch_opts.private_policy) are set: the stricter one. Without a policy
 * the older fields alone decide (their defaults allow private addresses, except
 * for a server-side dispatcher): pass a policy.
 */
typedef struct vast_net_policy {
  size_t size;            /* sizeof(vast_net_policy) */
  int allow_private;      /* 0 (default): refuse special-purpose addresses; 1: allow all */
  long timeout_ms;        /* ceiling on one request, ms; default 0 (the facility's own) */
  long max_redirects;     /* ceiling on redirects per request; default VAST_DEFAULT_MAX_REDIRECTS */
  size_t max_bytes;       /* ceiling on one response body; default VAST_DEFAULT_MAX_RESPONSE */
  const char *user_agent; /* NULL: "vastrack/<version>" (a facility's own user_agent wins) */
} vast_net_policy;

/* Fills *p with the defaults above: private addresses refused. */
VAST_API void vast_net_policy_init(vast_net_policy *p);

/*
 * vast_net_addr_special: 1 when the address (AF_INET or AF_INET6 sockaddr) is in
 * the IANA IPv4 or IPv6 Special-Purpose Address Registry, or is multicast or
 * broadcast: not a place a tag may send the library. IPv4-mapped (::ffff:0:0/96),
 * NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses are judged by the IPv4
 * address they embed. Any other family (AF_UNIX...) is special. Thread-safe.
 * The list and its sources: docs/security.md.
 */
VAST_API int vast_net_addr_special(const struct sockaddr *sa);

/*
 * vast_net_ip_special: the same for an address written as text ("10.0.0.1",
 * "64:ff9b::7f00:1"). Returns 1 special, 0 global, -1 when text is not an IP address.
 */
VAST_API int vast_net_ip_special(const char *text);

/*
 * vast_net_policy_refuses: 1 when the policy refuses a connection to sa (policy
 * NULL: the default policy, which refuses special-purpose addresses).
 */
VAST_API int vast_net_policy_refuses(const vast_net_policy *p, const struct sockaddr *sa);

/*
 * vast_net_header_value_ok: 1 when s may be sent as an HTTP header value: no
 * control character (CR, LF, NUL, TAB excepted) and no DEL. The dispatcher refuses
 * device headers that fail it (VAST_E_INVAL), so a caller-provided value cannot add
 * headers or split the request.
 */
VAST_API int vast_net_header_value_ok(const char *s);

/* ------------------------------------------------------------------------ */
/* Fetch                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * vast_fetch_result: what one fetch produced. body is malloc'd and NUL-terminated
 * (len excludes the NUL); the receiver releases it with vast_free(). status is the final
 * HTTP status (0 when no response, or for local files); effective_url the URL after
 * redirects (malloc'd, may be NULL: then the requested URL is used).
 */
typedef struct vast_fetch_result {
  char *body;
  size_t len;
  long status;
  char *effective_url;
} vast_fetch_result;

/*
 * vast_fetch_fn: a replacement for libcurl (embedding, tests). Called with an
 * absolute http(s) URL, the time it may take and the largest body allowed. Fills
 * *res and returns VAST_OK, or returns VAST_E_TIMEOUT, VAST_E_HTTP (no response, or
 * a status that is not 2xx: set res->status), VAST_E_TOO_LARGE, VAST_E_URL...
 * Whatever it stores in *res is released by the caller with vast_free(), even on failure.
 */
typedef vast_err (*vast_fetch_fn)(void *ctx, const char *url, long timeout_ms, size_t max_bytes,
                                  vast_fetch_result *res /* OUT */);

/* Options of one fetch. Initialise with vast_fetch_opts_init() then change fields. */
typedef struct vast_fetch_opts {
  size_t size;                   /* sizeof(vast_fetch_opts) */
  long timeout_ms;               /* whole request; default VAST_DEFAULT_FIRST_TIMEOUT_MS */
  long max_redirects;            /* default VAST_DEFAULT_MAX_REDIRECTS; 0 = do not follow */
  size_t max_bytes;              /* body limit; default VAST_DEFAULT_MAX_RESPONSE */
  const char *user_agent;        /* NULL: "vastrack/<version>" */
  int refuse_private;            /* 1: refuse special-purpose addresses (resolved IPs) */
  const vast_net_policy *policy; /* the command's policy (guard and ceilings); NULL: none */
} vast_fetch_opts;

VAST_API void vast_fetch_opts_init(vast_fetch_opts *opts);

/*
 * vast_fetch: GET one http:// or https:// URL with libcurl.
 *   opts  NULL for the defaults.
 *   res   OUT: body (vast_free() it), length, status, effective URL (vast_free() it).
 *   err   optional; on failure code, IAB code (301) and a message naming the URL.
 * Returns VAST_OK only for a 2xx response within the limits; VAST_E_URL (not an
 * http(s) URL), VAST_E_TIMEOUT, VAST_E_HTTP (connection failure or non-2xx status,
 * res->status set), VAST_E_TOO_LARGE, VAST_E_FORBIDDEN, VAST_E_NOMEM, VAST_E_INVAL
 * (a User-Agent or header with a control character: vast_net_header_value_ok,
 * or a header name that is not an HTTP token: nothing is sent).
 * Reentrant; each call uses its own connection.
 */
VAST_API vast_err vast_fetch(const char *url, const vast_fetch_opts *opts,
                             vast_fetch_result *res /* OUT */, vast_error *err);
/*
 * vast_fetch_headers: vast_fetch with extra request headers, "Name: value",
 * sent with the request and its redirects: the X-Device-* of a server-side
 * request (VAST 4.x 1.1.3), checked like vast_resolve_opts.headers (a name
 * that is not an HTTP token, or a control character: VAST_E_INVAL, nothing
 * sent). headers borrowed for the call; n_headers 0: vast_fetch.
 */
VAST_API vast_err vast_fetch_headers(const char *url, const vast_fetch_opts *opts,
                                     const char *const *headers, size_t n_headers,
                                     vast_fetch_result *res /* OUT */, vast_error *err);

/* ------------------------------------------------------------------------ */
/* Dispatcher                                                                */
/* ------------------------------------------------------------------------ */

typedef struct vast_dispatcher vast_dispatcher;

/* A beacon to fire. Strings are copied at submission. */
typedef struct vast_beacon {
  const char *url;   /* absolute http(s) URL, macros already expanded */
  const char *event; /* "impression", "start", "error", ... (for the record) */
  double t;          /* media time in seconds at which it fired; -1 when none */
  void *user;        /* handed back in the delivery record */
} vast_beacon;

/*
 * vast_delivery: the record of one beacon, passed to the delivery callback once
 * the beacon is done (response, failure, refusal or timeout). Pointers are valid
 * during the callback only.
 */
typedef struct vast_delivery {
  uint64_t id; /* submission order, from 1 */
  const char *event;
  const char *url;
  double t; /* as submitted */
  void *user;
  double queued_at;  /* wall clock (Unix seconds) when submitted */
  double sent_at;    /* wall clock when the request left (after connect); 0 if never */
  uint64_t sent_us;  /* the same on the monotonic clock, microseconds; 0 if never */
  long status;       /* HTTP status; 0 when no response */
  double latency_ms; /* from the start of the transfer to its end */
  unsigned attempts; /* 1 + retries made */
  vast_err err;      /* VAST_OK when a response came (any status) */
  const char *error; /* NULL on success, else a message */
} vast_delivery;

typedef void (*vast_delivery_fn)(void *ctx, const vast_delivery *d);

/* Which destinations the dispatcher refuses (checked on the resolved IPs). */
typedef enum vast_private_policy {
  VAST_PRIVATE_DEFAULT = 0, /* refuse in server-side mode, allow client-side */
  VAST_PRIVATE_REFUSE,      /* always refuse loopback/private/link-local/unspecified */
  VAST_PRIVATE_ALLOW        /* never refuse */
} vast_private_policy;

/*
 * Dispatcher options. Initialise with vast_dispatch_opts_init(); strings are copied
 * at vast_dispatcher_create().
 */
typedef struct vast_dispatch_opts {
  size_t size;             /* sizeof(vast_dispatch_opts) */
  size_t max_queue;        /* beacons queued + in flight; default 4096 */
  unsigned max_concurrent; /* transfers at once; default 64 */
  long timeout_ms;         /* per request; default 5000 */
  unsigned retries;        /* retries after a connection failure; default 1. Never
                              retried once any response (even an error status) came */
  long retry_delay_ms;     /* default 100 */
  long max_redirects;      /* default 3 */
  const char *user_agent;  /* NULL: "vastrack/<version>" */
  vast_private_policy private_policy;
  /* Server-side (SSAI) firing on behalf of a device. */
  int server_side;                    /* 1: send the X-Device-* headers below */
  const char *device_ip;              /* X-Device-IP (required when server_side): an IPv4 or
                                         IPv6 address, anything else is VAST_E_INVAL */
  const char *device_ua;              /* X-Device-User-Agent (required when server_side) */
  const char *device_referer;         /* X-Device-Referer, optional */
  const char *device_accept_language; /* X-Device-Accept-Language, optional */
  const char *device_requested_with;  /* X-Device-Requested-With, optional */
  int forwarded_for;                  /* 1: also X-Forwarded-For: device_ip (deprecated) */
  vast_delivery_fn on_delivery;       /* may be NULL */
  void *ctx;
  int curl_only;                 /* 1: every beacon through libcurl. Default 0: plain-http
                                    beacons to an IP literal, or to a host libcurl resolved
                                    in the last 60 s, use the built-in HTTP/1.1 keep-alive
                                    client (same records, limits, retries and guard) */
  const vast_net_policy *policy; /* the command's policy (copied at creation); NULL: none */
} vast_dispatch_opts;

VAST_API void vast_dispatch_opts_init(vast_dispatch_opts *opts);

/*
 * vast_dispatcher_create: a dispatcher with its own libcurl multi handle and
 * connection pool, and (unless opts->curl_only) its own HTTP/1.1 keep-alive pool
 * for plain-http beacons whose address is known (see curl_only above). Returns
 * VAST_E_INVAL (server_side without device_ip/device_ua, a device_ip that is not an
 * IP address, a device or User-Agent header value with a control character: see
 * vast_net_header_value_ok),
 * VAST_E_NOMEM, VAST_E_HTTP (libcurl failed to initialise).
 */
VAST_API vast_err vast_dispatcher_create(const vast_dispatch_opts *opts,
                                         vast_dispatcher **d /* OUT */);

/*
 * vast_dispatcher_free: stops the thread if started, aborts the transfers still in
 * flight (each gets a delivery record with err VAST_E_STATE, "cancelled") and frees.
 * Call vast_dispatcher_drain() first to let them finish. Accepts NULL.
 */
VAST_API void vast_dispatcher_free(vast_dispatcher *d);

/*
 * vast_dispatcher_submit: queues n beacons that must leave together (the
 * Impressions of one ad, the tracking URLs of one event across a wrapper chain).
 * All or nothing: returns VAST_E_FULL when fewer than n places are free (nothing
 * queued: back-pressure, the caller retries after stepping), VAST_E_URL when a URL
 * is not http(s) or holds a control character (nothing queued). The batch is started in one go at
 * the next step, even beyond max_concurrent. Never blocks on the network; thread-safe.
 */
VAST_API vast_err vast_dispatcher_submit(vast_dispatcher *d, const vast_beacon *beacons, size_t n);

/*
 * vast_device: the device a server fires on behalf of, for one submission
 * (vast_dispatcher_submit_device). Strings are copied at submission.
 */
typedef struct vast_device {
  size_t size;                 /* sizeof(vast_device) */
  const char *ip;              /* X-Device-IP: an IPv4 or IPv6 address (required) */
  const char *user_agent;      /* X-Device-User-Agent (required) */
  const char *referer;         /* X-Device-Referer, optional */
  const char *accept_language; /* X-Device-Accept-Language, optional */
  const char *requested_with;  /* X-Device-Requested-With, optional */
  int forwarded_for;           /* 1: also X-Forwarded-For: ip (deprecated) */
} vast_device;

/*
 * vast_dispatcher_submit_device: vast_dispatcher_submit with the X-Device-*
 * headers of `dev` instead of the dispatcher's own (one dispatcher serves many
 * devices: an SSAI service). The same checks as vast_dispatcher_create: a
 * missing or non-IP ip, a missing user_agent or a value with a control
 * character is VAST_E_INVAL (nothing queued). Otherwise as
 * vast_dispatcher_submit; thread-safe.
 */
VAST_API vast_err vast_dispatcher_submit_device(vast_dispatcher *d, const vast_beacon *beacons,
                                                size_t n, const vast_device *dev);

/*
 * vast_dispatcher_step: poll mode. Starts queued beacons, waits up to timeout_ms
 * for network activity, progresses transfers and calls on_delivery for each one
 * done. Returns the number of beacons still queued or in flight (>= 0), or -1 when
 * the dispatcher runs its own thread (then stepping is its job).
 */
VAST_API long vast_dispatcher_step(vast_dispatcher *d, int timeout_ms);

/*
 * vast_dispatcher_drain: steps (poll mode) or waits (thread mode) until nothing is
 * queued or in flight, or timeout_ms passes (-1: no limit). VAST_OK or VAST_E_TIMEOUT.
 */
VAST_API vast_err vast_dispatcher_drain(vast_dispatcher *d, long timeout_ms);

/*
 * vast_dispatcher_start: runs the dispatcher on its own thread from now on. The
 * delivery callback is then called on that thread. VAST_E_STATE when started twice.
 */
VAST_API vast_err vast_dispatcher_start(vast_dispatcher *d);

/* Counters since creation. Thread-safe. */
typedef struct vast_dispatch_stats {
  uint64_t submitted, delivered, failed, refused, retried;
  size_t queued, in_flight;
} vast_dispatch_stats;

VAST_API void vast_dispatcher_stats(vast_dispatcher *d, vast_dispatch_stats *out /* OUT */);

/* ------------------------------------------------------------------------ */
/* Resolver                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Resolution options. Initialise with vast_resolve_opts_init(). The limits are
 * described at the top of this file.
 */
typedef struct vast_resolve_opts {
  size_t size;               /* sizeof(vast_resolve_opts) */
  unsigned max_wrappers;     /* Wrapper documents followed per ad; default 5 */
  long first_timeout_ms;     /* default 8000 */
  long hop_timeout_ms;       /* default 4000 */
  long total_timeout_ms;     /* default 30000 */
  long max_redirects;        /* HTTP redirects per request; default 5 */
  size_t max_bytes;          /* per response; default 1 MiB */
  const vast_limits *limits; /* parse limits; NULL for the defaults */
  const char *user_agent;    /* NULL: "vastrack/<version>" */
  int refuse_private;        /* 1: refuse fetching from private addresses */
  int allow_files;           /* 1: relative URIs in a document read from a local
                                file resolve to files (default 1 for
                                vast_resolve_file, ignored elsewhere) */
  vast_fetch_fn fetch;       /* NULL: libcurl */
  void *fetch_ctx;
  vast_dispatcher *errors_to;    /* when set, Error URLs are submitted to it as they
                                    are decided; always recorded in the chain */
  const vast_macro_ctx *macros;  /* caller values for the IAB macros expanded in
                                    VASTAdTagURIs and Error URLs (DEVICEIP, ...); NULL:
                                    all unknown. Must outlive the call. */
  const vast_net_policy *policy; /* the command's policy: guard and ceilings of every
                                    fetch, and the guard of the Error URLs submitted
                                    to errors_to (whatever that dispatcher's own
                                    policy); NULL: none */
  const char *const *headers;    /* extra request headers, "Name: value", sent with every
                                    request of the resolution (the tag and each
                                    VASTAdTagURI, and their redirects): the X-Device-*
                                    headers of a server-side chain (VAST 4.x 1.1.3).
                                    A name that is not an HTTP token, or a value with a
                                    control character (vast_net_header_value_ok), gives
                                    VAST_E_INVAL and no chain. Not passed to opts->fetch.
                                    Borrowed for the call. NULL: none */
  size_t n_headers;
} vast_resolve_opts;

VAST_API void vast_resolve_opts_init(vast_resolve_opts *opts);

/*
 * vast_resolve_url: fetches `url` (http/https) and resolves it.
 * vast_resolve_file: reads the local file `path` (a tag saved to disk); relative
 *   VASTAdTagURIs in it (and in documents read through it) are read from disk
 *   relative to the holding file when opts->allow_files (the default here).
 * vast_resolve_buffer: resolves `len` bytes at `buf`; `base` is the URL (or, with
 *   allow_files, the file path) relative URIs resolve against; may be NULL.
 *
 *   opts   NULL for the defaults.
 *   chain  OUT: the result, owned by the caller (vast_chain_free). Set whenever the
 *          return is VAST_OK or a resolution failure, so the hops can be inspected.
 *   err    optional; the first failure of the resolution.
 *
 * Top-level selection: when the response holds a pod (ads with sequence), every
 * pod ad is resolved in sequence order; a pod ad that fails is replaced by the
 * next unused standalone ad (buffet) if any. Without a pod, standalone ads are
 * tried in document order until one resolves (buffet). Inside a wrapper's
 * response: allowMultipleAds=false keeps only the standalone ads (first that
 * resolves); true accepts a pod too. followAdditionalWrappers=false ignores Wrapper
 * ads in the response (no Error URL fired for them; a response of Wrappers only is
 * a response without ads, 303). A response without ads, or with none usable,
 * fails with 303 and passes to the next buffet ad of the level above only when
 * the wrapper says fallbackOnNoAd="true"; other failures (timeout, 404, bad XML)
 * always pass to the next buffet ad. A URI already on the path is a loop (IAB 302,
 * VAST_E_LOOP).
 *
 * Returns VAST_OK when at least one ad resolved; VAST_E_NO_AD (303),
 * VAST_E_WRAPPER_LIMIT (302), VAST_E_LOOP (302), VAST_E_TIMEOUT (301), VAST_E_HTTP
 * (301), VAST_E_XML / VAST_E_NOT_VAST / VAST_E_VERSION (100/101/102) when none did
 * (the code of the first failure); VAST_E_INVAL (also: a User-Agent with a control
 * character, no chain), VAST_E_NOMEM, VAST_E_IO (the root
 * file cannot be read; no chain).
 */
VAST_API vast_err vast_resolve_url(const char *url, const vast_resolve_opts *opts,
                                   vast_chain **chain /* OUT */, vast_error *err);
VAST_API vast_err vast_resolve_file(const char *path, const vast_resolve_opts *opts,
                                    vast_chain **chain /* OUT */, vast_error *err);
VAST_API vast_err vast_resolve_buffer(const char *buf, size_t len, const char *base,
                                      const vast_resolve_opts *opts, vast_chain **chain /* OUT */,
                                      vast_error *err);

/*
 * vast_transaction_id: a new random UUID (version 4, "xxxxxxxx-xxxx-4xxx-yxxx-
 * xxxxxxxxxxxx", lower case) for [TRANSACTIONID], from /dev/urandom. The
 * resolver makes one per resolution (vast_chain_transaction_id); a caller that
 * expands URLs before the resolution (a VMAP AdTagURI) makes its own and
 * passes it in opts->macros. cap >= 37. Returns VAST_OK, VAST_E_NOSPACE,
 * VAST_E_IO (no random source).
 */
VAST_API vast_err vast_transaction_id(char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
