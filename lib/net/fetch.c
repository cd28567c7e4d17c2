/*
 * fetch.c: one bounded HTTP GET over libcurl (vast_fetch), URL resolution of
 * VASTAdTagURIs against the holding document (vast_url_resolve), and the pieces
 * the resolver and the dispatcher share: libcurl initialisation, clocks, the
 * private-address guard and the common easy-handle options.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "net/net-int.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

static void curl_init_once(void) {
  curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int vast__curl_init(void) {
  pthread_once(&curl_once, curl_init_once);
  return curl_init_rc;
}

uint64_t vast__now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

double vast__wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *vast__user_agent(void) {
  return "vastrack/" VAST_VERSION_STRING;
}

/*
 * The special-purpose lists. IPv4: the IANA IPv4 Special-Purpose Address
 * Registry (RFC 6890 and its updates; every entry, the globally reachable
 * anycast ones included: no ad server lives there), plus multicast 224/4 (its
 * own registry). IPv6: the IANA IPv6 Special-Purpose Address Registry, plus the
 * deprecated IPv4-compatible ::/96 and site-local fec0::/10, and multicast
 * ff00::/8. Three IPv6 blocks embed an IPv4 address and are judged by it instead:
 * IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96 and 6to4 2002::/16.
 * tests/unit/test-net.c checks an address inside and just outside every entry.
 */
typedef struct prefix {
  uint8_t b[16];
  unsigned len; /* bits */
} prefix;

static const prefix v4_special[] = {
    {{0, 0, 0, 0}, 8},      /* "this network" (0.0.0.0/32 included), RFC 791 */
    {{10, 0, 0, 0}, 8},     /* private, RFC 1918 */
    {{100, 64, 0, 0}, 10},  /* shared address space (CGNAT), RFC 6598 */
    {{127, 0, 0, 0}, 8},    /* loopback, RFC 1122 */
    {{169, 254, 0, 0}, 16}, /* link local, RFC 3927 */
    {{172, 16, 0, 0}, 12},  /* private, RFC 1918 */
    {{192, 0, 0, 0}, 24},   /* IETF protocol assignments (DS-Lite, PCP, TURN, NAT64 discovery...) */
    {{192, 0, 2, 0}, 24},   /* documentation TEST-NET-1, RFC 5737 */
    {{192, 31, 196, 0}, 24}, /* AS112-v4, RFC 7535 */
    {{192, 52, 193, 0}, 24}, /* AMT, RFC 7450 */
    {{192, 88, 99, 0}, 24},  /* deprecated 6to4 relay anycast, RFC 7526 */
    {{192, 168, 0, 0}, 16},  /* private, RFC 1918 */
    {{192, 175, 48, 0}, 24}, /* direct delegation AS112, RFC 7534 */
    {{198, 18, 0, 0}, 15},   /* benchmarking, RFC 2544 */
    {{198, 51, 100, 0}, 24}, /* documentation TEST-NET-2, RFC 5737 */
    {{203, 0, 113, 0}, 24},  /* documentation TEST-NET-3, RFC 5737 */
    {{224, 0, 0, 0}, 4},     /* multicast, RFC 5771 */
    {{240, 0, 0, 0}, 4},     /* reserved, RFC 1112 (255.255.255.255 broadcast included) */
};

static const prefix v6_special[] = {
    {{0}, 96}, /* ::/128, ::1/128, IPv4-compatible ::/96 */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0},
     96},                                 /* IPv4-translated ::ffff:0:0:0/96, RFC 2765 */
    {{0, 0x64, 0xff, 0x9b, 0, 1}, 48},    /* local-use NAT64 64:ff9b:1::/48, RFC 8215 */
    {{1, 0}, 64},                         /* discard-only 100::/64, RFC 6666 */
    {{1, 0, 0, 0, 0, 0, 0, 1}, 64},       /* dummy prefix 100:0:0:1::/64, RFC 9780 */
    {{0x20, 0x01, 0, 0}, 23},             /* IETF protocol assignments 2001::/23 (Teredo,
                                             benchmarking, ORCHID, AMT, AS112...) */
    {{0x20, 0x01, 0x0d, 0xb8}, 32},       /* documentation 2001:db8::/32, RFC 3849 */
    {{0x26, 0x20, 0, 0x4f, 0x80, 0}, 48}, /* direct delegation AS112 2620:4f:8000::/48 */
    {{0x3f, 0xff}, 20},                   /* documentation 3fff::/20, RFC 9637 */
    {{0x5f, 0}, 16},                      /* SRv6 SIDs 5f00::/16, RFC 9602 */
    {{0xfc}, 7},                          /* unique local fc00::/7, RFC 4193 */
    {{0xfe, 0x80}, 10},                   /* link local fe80::/10, RFC 4291 */
    {{0xfe, 0xc0}, 10},                   /* deprecated site local fec0::/10, RFC 3879 */
    {{0xff}, 8},                          /* multicast ff00::/8, RFC 4291 */
};

static int in_prefix(const uint8_t *a, const prefix *p) {
  unsigned full = p->len / 8, rest = p->len % 8;
  if (memcmp(a, p->b, full) != 0) return 0;
  if (!rest) return 1;
  uint8_t mask = (uint8_t)(0xff << (8 - rest));
  return (a[full] & mask) == (p->b[full] & mask);
}

static int v4_special_bytes(const uint8_t *a) {
  for (size_t i = 0; i < sizeof v4_special / sizeof v4_special[0]; i++)
    if (in_prefix(a, &v4_special[i])) return 1;
  return 0;
}

static int v6_special_bytes(const uint8_t *a) {
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
  if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12)) return v4_special_bytes(a + 12);
  if (a[0] == 0x20 && a[1] == 0x02) return v4_special_bytes(a + 2); /* 6to4 */
  for (size_t i = 0; i < sizeof v6_special / sizeof v6_special[0]; i++)
    if (in_prefix(a, &v6_special[i])) return 1;
  return 0;
}

int vast_net_addr_special(const struct sockaddr *sa) {
  if (!sa) return 1;
  if (sa->sa_family == AF_INET)
    return v4_special_bytes((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr);
  if (sa->sa_family == AF_INET6)
    return v6_special_bytes(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
  return 1; /* unix sockets and the like: never a public destination */
}

int vast_net_ip_special(const char *text) {
  uint8_t a[16];
  if (!text) return -1;
  if (inet_pton(AF_INET, text, a) == 1) return v4_special_bytes(a);
  if (inet_pton(AF_INET6, text, a) == 1) return v6_special_bytes(a);
  return -1;
}

int vast__addr_private(const struct sockaddr *sa) {
  return vast_net_addr_special(sa);
}

void vast_net_policy_init(vast_net_policy *p) {
  if (!p) return;
  memset(p, 0, sizeof *p);
  p->size = sizeof *p;
  p->max_redirects = VAST_DEFAULT_MAX_REDIRECTS;
  p->max_bytes = VAST_DEFAULT_MAX_RESPONSE;
}

/* A copy of *p with every field the caller's struct does not have at its default. */
static void policy_copy(const vast_net_policy *p, vast_net_policy *out) {
  vast_net_policy_init(out);
  if (p) memcpy(out, p, p->size && p->size < sizeof *out ? p->size : sizeof *out);
  out->size = sizeof *out;
}

int vast_net_policy_refuses(const vast_net_policy *p, const struct sockaddr *sa) {
  vast_net_policy c;
  policy_copy(p, &c);
  return !c.allow_private && vast_net_addr_special(sa);
}

int vast__policy_refuse(const vast_net_policy *p, int legacy_refuse) {
  if (legacy_refuse) return 1;
  if (!p) return 0;
  vast_net_policy c;
  policy_copy(p, &c);
  return !c.allow_private;
}

long vast__policy_cap(long v, long cap) {
  if (cap > 0 && (v <= 0 || v > cap)) return cap;
  return v;
}

long vast__policy_timeout(const vast_net_policy *p, long v) {
  if (!p) return v;
  vast_net_policy c;
  policy_copy(p, &c);
  return vast__policy_cap(v, c.timeout_ms);
}

long vast__policy_redirects(const vast_net_policy *p, long v) {
  if (!p) return v;
  vast_net_policy c;
  policy_copy(p, &c);
  if (c.max_redirects > 0 && v > c.max_redirects) return c.max_redirects;
  return v;
}

size_t vast__policy_bytes(const vast_net_policy *p, size_t v) {
  if (!p) return v;
  vast_net_policy c;
  policy_copy(p, &c);
  if (c.max_bytes && (!v || v > c.max_bytes)) return c.max_bytes;
  return v;
}

const char *vast__policy_ua(const vast_net_policy *p, const char *ua) {
  if (ua || !p) return ua;
  vast_net_policy c;
  policy_copy(p, &c);
  return c.user_agent;
}

int vast_net_header_value_ok(const char *s) {
  if (!s) return 1;
  for (const unsigned char *c = (const unsigned char *)s; *c; c++)
    if ((*c < 0x20 && *c != '\t') || *c == 0x7f) return 0;
  return 1;
}

curl_socket_t vast__guard_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr) {
  vast__guard *g = clientp;
  if (g && g->refuse && vast__addr_private(&addr->addr)) {
    g->refused = 1;
    return CURL_SOCKET_BAD;
  }
  return socket(addr->family, addr->socktype, addr->protocol);
}

void vast__easy_common(CURL *easy, vast__guard *guard, const char *user_agent, long max_redirects) {
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, max_redirects > 0 ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, max_redirects > 0 ? max_redirects : 0L);
  curl_easy_setopt(easy, CURLOPT_PROXY, ""); /* never an environment proxy */
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, user_agent ? user_agent : vast__user_agent());
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, vast__guard_open);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, guard);
}

vast_err vast__curl_err(CURLcode rc, const vast__guard *guard, int too_large) {
  if (guard && guard->refused) return VAST_E_FORBIDDEN;
  if (too_large || rc == CURLE_FILESIZE_EXCEEDED) return VAST_E_TOO_LARGE;
  switch (rc) {
  case CURLE_OK:
    return VAST_OK;
  case CURLE_OPERATION_TIMEDOUT:
    return VAST_E_TIMEOUT;
  case CURLE_OUT_OF_MEMORY:
    return VAST_E_NOMEM;
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
    return VAST_E_URL;
  default:
    return VAST_E_HTTP;
  }
}

void vast_fetch_opts_init(vast_fetch_opts *o) {
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->timeout_ms = VAST_DEFAULT_FIRST_TIMEOUT_MS;
  o->max_redirects = VAST_DEFAULT_MAX_REDIRECTS;
  o->max_bytes = VAST_DEFAULT_MAX_RESPONSE;
}

size_t vast__sink_write(char *data, size_t sz, size_t nm, void *ud) {
  vast__sink *s = ud;
  size_t n = sz * nm;
  if (s->len + n > s->max) {
    s->too_large = 1;
    return 0; /* aborts the transfer */
  }
  if (s->len + n + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 16384;
    while (cap < s->len + n + 1)
      cap *= 2;
    char *nb = realloc(s->buf, cap);
    if (!nb) return 0;
    s->buf = nb;
    s->cap = cap;
  }
  memcpy(s->buf + s->len, data, n);
  s->len += n;
  s->buf[s->len] = 0;
  return n;
}

vast_err vast_fetch(const char *url, const vast_fetch_opts *opts, vast_fetch_result *res,
                    vast_error *err) {
  return vast_fetch_headers(url, opts, NULL, 0, res, err);
}

vast_err vast_fetch_headers(const char *url, const vast_fetch_opts *opts,
                            const char *const *headers, size_t n_headers, vast_fetch_result *res,
                            vast_error *err) {
  vast_fetch_opts o;
  vast_fetch_opts_init(&o);
  if (opts) memcpy(&o, opts, opts->size && opts->size < sizeof o ? opts->size : sizeof o);
  o.size = sizeof o;
  opts = &o;
  o.refuse_private = vast__policy_refuse(o.policy, o.refuse_private);
  o.timeout_ms = vast__policy_timeout(o.policy, o.timeout_ms);
  o.max_redirects = vast__policy_redirects(o.policy, o.max_redirects);
  o.max_bytes = vast__policy_bytes(o.policy, o.max_bytes);
  o.user_agent = vast__policy_ua(o.policy, o.user_agent);
  if (!res || !url) return VAST_E_INVAL;
  if (!vast_net_header_value_ok(o.user_agent)) { /* a CR LF would add headers */
    memset(res, 0, sizeof *res);
    return vast__error_set(err, VAST_E_INVAL, 0,
                           "cannot fetch '%.150s': the User-Agent holds a control character", url);
  }
  memset(res, 0, sizeof *res);
  if (!vast__is_http(url)) {
    return vast__error_set(err, VAST_E_URL, 301,
                           "cannot fetch '%.150s': only http and https URLs are fetched", url);
  }
  if (vast__curl_init() != 0) return VAST_E_HTTP;
  struct curl_slist *hdrs = NULL;
  for (size_t i = 0; i < n_headers; i++) { /* "Name: value", no header splitting */
    const char *h = headers ? headers[i] : NULL;
    const char *colon = h ? strchr(h, ':') : NULL;
    int ok = colon && colon > h && vast_net_header_value_ok(h);
    for (const char *q = h; ok && q < colon; q++)
      ok = isalnum((unsigned char)*q) || strchr("!#$%&'*+-.^_`|~", *q);
    struct curl_slist *nl = ok ? curl_slist_append(hdrs, h) : NULL;
    if (!nl) {
      curl_slist_free_all(hdrs);
      return vast__error_set(err, ok ? VAST_E_NOMEM : VAST_E_INVAL, 0,
                             "cannot fetch '%.150s': a request header is not \"Name: value\" "
                             "without control characters",
                             url);
    }
    hdrs = nl;
  }
  CURL *easy = curl_easy_init();
  if (!easy) {
    curl_slist_free_all(hdrs);
    return VAST_E_NOMEM;
  }
  if (hdrs) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hdrs);
  vast__guard guard = {opts->refuse_private, 0};
  vast__sink s = {NULL, 0, 0, opts->max_bytes ? opts->max_bytes : VAST_DEFAULT_MAX_RESPONSE, 0};
  char ebuf[CURL_ERROR_SIZE] = "";
  vast__easy_common(easy, &guard, opts->user_agent, opts->max_redirects);
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, opts->timeout_ms > 0 ? opts->timeout_ms : 0L);
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s.max);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, vast__sink_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, ebuf);
  CURLcode rc = curl_easy_perform(easy);
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  char *eff = NULL;
  curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &eff);
  res->status = status;
  if (eff) res->effective_url = strdup(eff);
  curl_easy_cleanup(easy);
  curl_slist_free_all(hdrs);
  vast_err e = vast__curl_err(rc, &guard, s.too_large);
  if (e == VAST_OK && (status < 200 || status > 299)) {
    e = VAST_E_HTTP;
    vast__error_set(err, e, 301, "cannot fetch '%.150s': HTTP status %ld", url, status);
  } else if (e != VAST_OK) {
    const char *why = e == VAST_E_FORBIDDEN   ? "destination address refused (private network)"
                      : e == VAST_E_TOO_LARGE ? "response exceeds the size limit"
                      : e == VAST_E_TIMEOUT   ? "timed out"
                      : ebuf[0]               ? ebuf
                                              : curl_easy_strerror(rc);
    vast__error_set(err, e, 301, "cannot fetch '%.150s': %.80s", url, why);
  }
  if (e != VAST_OK) {
    free(s.buf);
    return e;
  }
  if (!s.buf) {
    s.buf = calloc(1, 1);
    if (!s.buf) return VAST_E_NOMEM;
  }
  res->body = s.buf;
  res->len = s.len;
  return VAST_OK;
}
