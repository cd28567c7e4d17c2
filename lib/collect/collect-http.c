/*
 * collect-http.c: the collector's HTTP/1.1 request-head parser.
 *
 * Hand-written and bounded: it never reads past len, never allocates, and
 * refuses a request line longer than max_request_line (414), a head longer
 * than max_header_bytes or with more than max_headers lines (431), obsolete
 * line folding, control characters and malformed lines (400), and versions
 * other than HTTP/1.x (505). Only the headers the collector records are
 * picked out; the rest are checked for syntax and skipped.
 */
#include <string.h>
#include <strings.h>

#include "collect/collect-int.h"

static int is_tchar(unsigned char c) {
  if (c >= 'a' && c <= 'z') return 1;
  if (c >= 'A' && c <= 'Z') return 1;
  if (c >= '0' && c <= '9') return 1;
  return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int name_is(vast__str n, const char *lit) {
  size_t l = strlen(lit);
  return n.n == l && strncasecmp(n.p, lit, l) == 0;
}

/* True when the comma-separated header value v contains token tok. */
static int has_token(vast__str v, const char *tok) {
  size_t tl = strlen(tok), i = 0;
  while (i < v.n) {
    while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
      i++;
    size_t s = i;
    while (i < v.n && v.p[i] != ',')
      i++;
    size_t e = i;
    while (e > s && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'))
      e--;
    if (e - s == tl && strncasecmp(v.p + s, tok, tl) == 0) return 1;
  }
  return 0;
}

long vast__http_parse(const char *buf, size_t len, const vast__http_limits *lim,
                      vast__http_req *req) {
  size_t pos = 0;
  /* RFC 9112 2.2: ignore at least one empty line before a request. */
  while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n')) {
    if (pos > 8) return -400;
    pos++;
  }
  size_t start = pos;
  const char *p = buf + pos;
  size_t avail = len - pos;
  size_t scan = avail < lim->max_request_line + 2 ? avail : lim->max_request_line + 2;
  const char *nl = memchr(p, '\n', scan);
  /* What is there of the request line must already look like one: a method of
     token characters, a space, a target without controls. Non-HTTP bytes (a TLS
     ClientHello starts with 0x16) get 400 at once, not 408 after the header
     timeout while waiting for a newline that never comes. */
  size_t upto = nl ? (size_t)(nl - p) : scan, m = 0;
  while (m < upto && is_tchar((unsigned char)p[m]))
    m++;
  if (m < upto && (m == 0 || p[m] != ' ')) return -400;
  for (size_t t = m + 1; t < upto; t++) {
    unsigned char ch = (unsigned char)p[t];
    if (ch == ' ') break;
    if (ch < 0x20 || ch == 0x7f) return -400;
  }
  if (!nl) return avail > lim->max_request_line + 1 ? -414 : 0;
  size_t ll = (size_t)(nl - p);
  if (ll && p[ll - 1] == '\r') ll--;
  if (ll > lim->max_request_line) return -414;

  memset(req, 0, sizeof *req);
  /* method SP target SP HTTP/1.x */
  size_t i = 0;
  while (i < ll && is_tchar((unsigned char)p[i]))
    i++;
  if (i == 0 || i >= ll || p[i] != ' ') return -400;
  req->method = (vast__str){p, i};
  size_t ts = ++i;
  while (i < ll && p[i] != ' ') {
    unsigned char c = (unsigned char)p[i];
    if (c <= 0x20 || c == 0x7f) return -400;
    i++;
  }
  if (i == ts || i >= ll) return -400;
  req->target = (vast__str){p + ts, i - ts};
  i++;
  if (ll - i != 8 || memcmp(p + i, "HTTP/", 5) != 0 || p[i + 6] != '.' || p[i + 5] < '0' ||
      p[i + 5] > '9' || p[i + 7] < '0' || p[i + 7] > '9')
    return -400;
  if (p[i + 5] != '1') return -505;
  req->minor = p[i + 7] - '0';
  req->keep_alive = req->minor >= 1;
  const char *q = memchr(req->target.p, '?', req->target.n);
  if (q) {
    req->path = (vast__str){req->target.p, (size_t)(q - req->target.p)};
    req->query = (vast__str){q + 1, req->target.n - (size_t)(q - req->target.p) - 1};
  } else {
    req->path = req->target;
  }

  /* Header lines up to the empty line. */
  size_t hp = (size_t)(nl - buf) + 1;
  unsigned nh = 0;
  vast__str conn = {0};
  int seen_cl = 0;
  for (;;) {
    size_t room = lim->max_header_bytes + start > hp ? lim->max_header_bytes + start - hp : 0;
    size_t left = len - hp;
    const char *l = buf + hp;
    const char *e = memchr(l, '\n', left < room + 1 ? left : room + 1);
    if (!e) return left > room ? -431 : 0;
    size_t n = (size_t)(e - l);
    if (n && l[n - 1] == '\r') n--;
    hp = (size_t)(e - buf) + 1;
    if (n == 0) break;
    if (++nh > lim->max_headers) return -431;
    if (l[0] == ' ' || l[0] == '\t') return -400; /* obs-fold */
    size_t c = 0;
    while (c < n && is_tchar((unsigned char)l[c]))
      c++;
    if (c == 0 || c >= n || l[c] != ':') return -400;
    vast__str name = {l, c};
    size_t vs = c + 1, ve = n;
    while (vs < ve && (l[vs] == ' ' || l[vs] == '\t'))
      vs++;
    while (ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t'))
      ve--;
    for (size_t k = vs; k < ve; k++) {
      unsigned char ch = (unsigned char)l[k];
      if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return -400;
    }
    vast__str val = {l + vs, ve - vs};
    switch (name.p[0] | 0x20) {
    case 'c':
      if (name_is(name, "connection"))
        conn = val;
      else if (name_is(name, "content-type"))
        req->content_type = val;
      else if (name_is(name, "content-length")) {
        uint64_t cl = 0;
        if (val.n == 0) return -400;
        for (size_t k = 0; k < val.n; k++) {
          if (val.p[k] < '0' || val.p[k] > '9') return -400;
          if (val.p[k] != '0') req->has_body = 1;
          cl = cl > UINT64_MAX / 20 ? UINT64_MAX / 2 : cl * 10 + (uint64_t)(val.p[k] - '0');
        }
        /* Two different lengths: a smuggling attempt (RFC 9112 6.3). */
        if (seen_cl && cl != req->content_length) return -400;
        seen_cl = 1;
        req->content_length = cl;
      }
      break;
    case 'h':
      if (name_is(name, "host")) req->host = val;
      break;
    case 't':
      if (name_is(name, "transfer-encoding")) req->has_body = req->chunked = 1;
      break;
    case 'u':
      if (name_is(name, "user-agent")) req->user_agent = val;
      break;
    case 'x':
      if (name.n > 9 && strncasecmp(name.p, "x-device-", 9) == 0) {
        vast__str sub = {name.p + 9, name.n - 9};
        if (name_is(sub, "ip"))
          req->device_ip = val;
        else if (name_is(sub, "user-agent"))
          req->device_ua = val;
        else if (req->n_device < VAST__MAX_DEVICE_HDRS) {
          req->device_name[req->n_device] = sub;
          req->device_val[req->n_device++] = val;
        }
      } else if (name_is(name, "x-forwarded-for")) {
        req->forwarded_for = val;
      } else if (name_is(name, "x-vastrack-client")) {
        req->api_client = 1;
      }
      break;
    default:
      break;
    }
  }
  if (conn.n) {
    if (has_token(conn, "close"))
      req->keep_alive = 0;
    else if (has_token(conn, "keep-alive"))
      req->keep_alive = 1;
  }
  return (long)hp;
}
