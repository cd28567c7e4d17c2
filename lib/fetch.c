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

#include "netint.h"

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

const char *vast__user_agent(void) { return "vastrack/" VAST_VERSION_STRING; }

int vast__is_http(const char *s) {
  return s && (strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0);
}

static int v4_private(uint32_t a /* host order */) {
  uint8_t b0 = (uint8_t)(a >> 24), b1 = (uint8_t)(a >> 16);
  return b0 == 0 || b0 == 10 || b0 == 127 || (b0 == 100 && (b1 & 0xc0) == 64) ||
         (b0 == 169 && b1 == 254) || (b0 == 172 && (b1 & 0xf0) == 16) ||
         (b0 == 192 && b1 == 168) || b0 >= 224;
}

int vast__addr_private(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    return v4_private(ntohl(in->sin_addr.s_addr));
  }
  if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    const uint8_t *b = a->s6_addr;
    if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a)) return 1;
    if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
      uint32_t v4 = ((uint32_t)b[12] << 24) | ((uint32_t)b[13] << 16) |
                    ((uint32_t)b[14] << 8) | b[15];
      return v4_private(v4);
    }
    if ((b[0] & 0xfe) == 0xfc) return 1;                  /* fc00::/7 unique local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return 1;  /* fe80::/10 link-local */
    if (b[0] == 0xff) return 1;                           /* multicast */
    return 0;
  }
  return 1; /* unix sockets and the like: never a public destination */
}

curl_socket_t vast__guard_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr) {
  vast__guard *g = clientp;
  if (g && g->refuse && vast__addr_private(&addr->addr)) {
    g->refused = 1;
    return CURL_SOCKET_BAD;
  }
  return socket(addr->family, addr->socktype, addr->protocol);
}

void vast__easy_common(CURL *easy, vast__guard *guard, const char *user_agent,
                       long max_redirects) {
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
  case CURLE_OK: return VAST_OK;
  case CURLE_OPERATION_TIMEDOUT: return VAST_E_TIMEOUT;
  case CURLE_OUT_OF_MEMORY: return VAST_E_NOMEM;
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL: return VAST_E_URL;
  default: return VAST_E_HTTP;
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
    while (cap < s->len + n + 1) cap *= 2;
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

static void set_err(vast_error *err, vast_err code, int iab, const char *fmt, const char *a,
                    const char *b) {
  if (!err) return;
  memset(err, 0, sizeof *err);
  err->code = code;
  err->iab_code = iab;
  snprintf(err->message, sizeof err->message, fmt, a, b);
}

vast_err vast_fetch(const char *url, const vast_fetch_opts *opts, vast_fetch_result *res,
                    vast_error *err) {
  vast_fetch_opts def;
  if (!opts) {
    vast_fetch_opts_init(&def);
    opts = &def;
  }
  if (!res || !url) return VAST_E_INVAL;
  memset(res, 0, sizeof *res);
  if (!vast__is_http(url)) {
    set_err(err, VAST_E_URL, 301, "cannot fetch '%.150s': only http and https URLs are fetched%s",
            url, "");
    return VAST_E_URL;
  }
  if (vast__curl_init() != 0) return VAST_E_HTTP;
  CURL *easy = curl_easy_init();
  if (!easy) return VAST_E_NOMEM;
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
  vast_err e = vast__curl_err(rc, &guard, s.too_large);
  if (e == VAST_OK && (status < 200 || status > 299)) {
    e = VAST_E_HTTP;
    char st[32];
    snprintf(st, sizeof st, "%ld", status);
    set_err(err, e, 301, "cannot fetch '%.150s': HTTP status %.20s", url, st);
  } else if (e != VAST_OK) {
    const char *why = e == VAST_E_FORBIDDEN   ? "destination address refused (private network)"
                      : e == VAST_E_TOO_LARGE ? "response exceeds the size limit"
                      : e == VAST_E_TIMEOUT   ? "timed out"
                      : ebuf[0]               ? ebuf
                                              : curl_easy_strerror(rc);
    set_err(err, e, 301, "cannot fetch '%.150s': %.80s", url, why);
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

/* Length of the scheme ("http" in "http://x") when s starts with one, else 0. */
static size_t scheme_len(const char *s) {
  if (!isalpha((unsigned char)s[0])) return 0;
  size_t i = 1;
  while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.') i++;
  return s[i] == ':' ? i : 0;
}

vast_err vast_url_resolve(const char *base, const char *ref, char **out, int *is_file) {
  if (out) *out = NULL;
  if (is_file) *is_file = 0;
  if (!ref || !out) return VAST_E_INVAL;
  while (isspace((unsigned char)*ref)) ref++;
  size_t rl = strlen(ref);
  while (rl && isspace((unsigned char)ref[rl - 1])) rl--;
  if (!rl) return VAST_E_URL;
  char *r = strndup(ref, rl);
  if (!r) return VAST_E_NOMEM;
  size_t sl = scheme_len(r);
  if (sl) { /* absolute: http(s) only */
    if (!vast__is_http(r)) {
      free(r);
      return VAST_E_URL;
    }
    *out = r;
    return VAST_OK;
  }
  if (!base || !*base) {
    free(r);
    return VAST_E_URL;
  }
  if (vast__is_http(base)) {
    if (vast__curl_init() != 0) {
      free(r);
      return VAST_E_HTTP;
    }
    CURLU *u = curl_url();
    vast_err e = VAST_E_URL;
    char *full = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, r, CURLU_ALLOW_SPACE) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK) {
      *out = strdup(full);
      e = *out ? VAST_OK : VAST_E_NOMEM;
    }
    if (full) curl_free(full);
    curl_url_cleanup(u);
    free(r);
    return e;
  }
  /* The base is a local path. */
  if (r[0] == '/' && r[1] == '/') { /* protocol-relative reference: https */
    size_t n = strlen(r) + 7;
    char *o = malloc(n);
    if (!o) {
      free(r);
      return VAST_E_NOMEM;
    }
    snprintf(o, n, "https:%s", r);
    free(r);
    *out = o;
    return VAST_OK;
  }
  if (is_file) *is_file = 1;
  if (r[0] == '/') {
    *out = r;
    return VAST_OK;
  }
  const char *slash = strrchr(base, '/');
  size_t dl = slash ? (size_t)(slash - base) + 1 : 0;
  char *o = malloc(dl + strlen(r) + 1);
  if (!o) {
    free(r);
    return VAST_E_NOMEM;
  }
  memcpy(o, base, dl);
  strcpy(o + dl, r);
  free(r);
  *out = o;
  return VAST_OK;
}
