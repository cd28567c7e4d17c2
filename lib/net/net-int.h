/*
 * netint.h: what lib/net/fetch.c, lib/net/resolve.c and lib/net/fire.c share (internal):
 * libcurl initialisation, clocks, the private-address guard and the common
 * easy-handle setup.
 */
#ifndef VASTRACK_NETINT_H
#define VASTRACK_NETINT_H

#include <curl/curl.h>
#include <stdint.h>
#include <sys/socket.h>

#include "vastrack/net.h"
#include "base/url.h"

/* curl_global_init once per process (thread-safe). Returns 0 or -1. */
int vast__curl_init(void);

/* Monotonic clock in microseconds; wall clock in Unix seconds. */
uint64_t vast__now_us(void);
double vast__wall(void);

/* vast_net_addr_special() (the name the fast path and the guard use). */
int vast__addr_private(const struct sockaddr *sa);

/*
 * Applying a vast_net_policy (p may be NULL: then the facility's values stand).
 * vast__policy_refuse: 1 when either the facility's own setting or the policy
 * refuses special-purpose addresses (the stricter wins). The others apply the
 * policy's ceilings to a facility's value.
 */
int vast__policy_refuse(const vast_net_policy *p, int legacy_refuse);
long vast__policy_cap(long v, long cap);
long vast__policy_timeout(const vast_net_policy *p, long v);
long vast__policy_redirects(const vast_net_policy *p, long v);
size_t vast__policy_bytes(const vast_net_policy *p, size_t v);
const char *vast__policy_ua(const vast_net_policy *p, const char *ua);

/*
 * The guard: set as CURLOPT_OPENSOCKETDATA with vast__guard_open as
 * CURLOPT_OPENSOCKETFUNCTION. When refuse is set, connections to private
 * addresses fail and refused is set to 1 (the transfer then fails with
 * CURLE_COULDNT_CONNECT, which callers map to VAST_E_FORBIDDEN).
 */
typedef struct vast__guard {
  int refuse;
  int refused;
} vast__guard;

curl_socket_t vast__guard_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr);

/*
 * Options every vastrack easy handle gets: http/https only (also on redirects),
 * no proxy from the environment, no signals, the guard, the User-Agent.
 */
void vast__easy_common(CURL *easy, vast__guard *guard, const char *user_agent, long max_redirects);

/*
 * vast_dispatcher_submit with a guard of the submitter's: when refuse is set,
 * these beacons are refused at special-purpose addresses even if the dispatcher
 * itself allows them (the resolver's Error URLs under its own policy).
 */
vast_err vast__dispatcher_submit_guarded(vast_dispatcher *d, const vast_beacon *b, size_t n,
                                         int refuse);

/* A response body being received, bounded by max (too_large set when exceeded). */
typedef struct vast__sink {
  char *buf;
  size_t len, cap, max;
  int too_large;
} vast__sink;

/* CURLOPT_WRITEFUNCTION for a vast__sink; aborts the transfer past max. */
size_t vast__sink_write(char *data, size_t sz, size_t nm, void *ud);

/* Default User-Agent, "vastrack/<version>". */
const char *vast__user_agent(void);

/* 1 when s starts with http:// or https:// (case-insensitive). */

/* Maps a failed transfer to a vast_err (guard refusal, timeout, size, other). */
vast_err vast__curl_err(CURLcode rc, const vast__guard *guard, int too_large);

#endif
