/*
 * netint.h: what lib/fetch.c, lib/resolve.c and lib/fire.c share (internal):
 * libcurl initialisation, clocks, the private-address guard and the common
 * easy-handle setup.
 */
#ifndef VASTRACK_NETINT_H
#define VASTRACK_NETINT_H

#include <curl/curl.h>
#include <stdint.h>
#include <sys/socket.h>

#include "vastrack/net.h"

/* curl_global_init once per process (thread-safe). Returns 0 or -1. */
int vast__curl_init(void);

/* Monotonic clock in microseconds; wall clock in Unix seconds. */
uint64_t vast__now_us(void);
double vast__wall(void);

/* 1 when the address is loopback, private, link-local, CGNAT, unspecified or multicast. */
int vast__addr_private(const struct sockaddr *sa);

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
void vast__easy_common(CURL *easy, vast__guard *guard, const char *user_agent,
                       long max_redirects);

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
int vast__is_http(const char *s);

/* Maps a failed transfer to a vast_err (guard refusal, timeout, size, other). */
vast_err vast__curl_err(CURLcode rc, const vast__guard *guard, int too_large);

#endif
