/*
 * url.c: URL syntax without the network. vast_url_resolve() turns a
 * VASTAdTagURI (or a redirect's Location) into an absolute http(s) URL or a
 * local path, with RFC 3986 section 5.2 reference resolution: the validator
 * uses it on chains it never fetched, so it must not need libcurl.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vastrack/base.h"
#include "base/url.h"

int vast__is_http(const char *s) {
  return s && (strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

long vast__url_decode(const char *s, size_t n, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '+')
      c = ' ';
    else if (c == '%' && i + 2 < n) {
      int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
      if (h >= 0 && l >= 0) {
        c = (char)(h * 16 + l);
        if (!c) return -1; /* %00: a C string would end there; refused, never cut */
        i += 2;
      }
    }
    if (o + 1 >= cap) return -1;
    out[o++] = c;
  }
  out[o] = 0;
  return (long)o;
}

/* Length of the scheme ("http" in "http://x") when s starts with one, else 0. */
static size_t scheme_len(const char *s) {
  if (!isalpha((unsigned char)s[0])) return 0;
  size_t i = 1;
  while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
    i++;
  return s[i] == ':' ? i : 0;
}

/* A span of a string: p, n bytes; p NULL when the component is absent. */
typedef struct span {
  const char *p;
  size_t n;
} span;

/* The components of an absolute http(s) URL or of a relative reference. */
typedef struct parts {
  span scheme, authority, path, query, fragment;
} parts;

static void split(const char *s, parts *u) {
  memset(u, 0, sizeof *u);
  size_t sl = scheme_len(s);
  if (sl) {
    u->scheme = (span){s, sl};
    s += sl + 1;
  }
  if (s[0] == '/' && s[1] == '/') {
    s += 2;
    size_t a = strcspn(s, "/?#");
    u->authority = (span){s, a};
    s += a;
  }
  size_t p = strcspn(s, "?#");
  u->path = (span){s, p};
  s += p;
  if (*s == '?') {
    size_t q = strcspn(s + 1, "#");
    u->query = (span){s + 1, q};
    s += 1 + q;
  }
  if (*s == '#') u->fragment = (span){s + 1, strlen(s + 1)};
}

/*
 * RFC 3986 5.2.4: removes "." and ".." segments from the path in b[0..*n),
 * in place (the output never grows).
 */
static void remove_dots(char *b, size_t *n) {
  char *in = b, *end = b + *n, *out = b;
  while (in < end) {
    size_t left = (size_t)(end - in);
    if (left >= 3 && !memcmp(in, "../", 3))
      in += 3;
    else if (left >= 2 && !memcmp(in, "./", 2))
      in += 2;
    else if (left >= 3 && !memcmp(in, "/./", 3))
      in += 2;
    else if (left == 2 && !memcmp(in, "/.", 2)) {
      in[1] = '/'; /* "/." at the end: becomes "/" */
      in += 1;
    } else if ((left >= 4 && !memcmp(in, "/../", 4)) || (left == 3 && !memcmp(in, "/..", 3))) {
      if (left == 3) {
        in[2] = '/';
        in += 2;
      } else
        in += 3;
      while (out > b && *--out != '/')
        ;
    } else if ((left == 1 && in[0] == '.') || (left == 2 && !memcmp(in, "..", 2)))
      in = end;
    else {
      do
        *out++ = *in++;
      while (in < end && *in != '/');
    }
  }
  *n = (size_t)(out - b);
}

/* Appends s[0..n) to the buffer at *o (room is sized by the caller), a space as
 * %20: tags write "my ad.xml" and servers expect it encoded. */
static void put(char **o, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] == ' ') {
      memcpy(*o, "%20", 3);
      *o += 3;
    } else
      *(*o)++ = s[i];
  }
}

/* ref (no scheme) against base (absolute http/https): RFC 3986 5.2.2. */
static char *resolve_http(const char *base, const char *ref) {
  parts b, r;
  split(base, &b);
  split(ref, &r);
  /* The path under construction: merge(base, ref) is at most both paths plus '/'. */
  size_t cap = 3 * (b.scheme.n + b.authority.n + r.authority.n + b.path.n + r.path.n + b.query.n +
                    r.query.n + r.fragment.n) +
               16; /* x3: a space becomes %20 */
  char *out = malloc(cap), *path = malloc(b.path.n + r.path.n + 2);
  if (!out || !path) {
    free(out);
    free(path);
    return NULL;
  }
  span auth = b.authority, query = r.query;
  size_t pn = 0;
  if (r.authority.p) {
    auth = r.authority;
    memcpy(path, r.path.p, pn = r.path.n);
    remove_dots(path, &pn);
  } else if (!r.path.n) {
    memcpy(path, b.path.p, pn = b.path.n);
    if (!r.query.p) query = b.query;
  } else if (r.path.p[0] == '/') {
    memcpy(path, r.path.p, pn = r.path.n);
    remove_dots(path, &pn);
  } else {
    if (b.authority.p && !b.path.n)
      path[pn++] = '/';
    else {
      size_t keep = b.path.n;
      while (keep && b.path.p[keep - 1] != '/')
        keep--;
      memcpy(path, b.path.p, keep);
      pn = keep;
    }
    memcpy(path + pn, r.path.p, r.path.n);
    pn += r.path.n;
    remove_dots(path, &pn);
  }
  char *o = out;
  for (size_t i = 0; i < b.scheme.n; i++) /* the scheme is case-insensitive: lower it */
    *o++ = (char)tolower((unsigned char)b.scheme.p[i]);
  put(&o, "://", 3);
  put(&o, auth.p ? auth.p : "", auth.n);
  if (!pn || path[0] != '/') *o++ = '/';
  put(&o, path, pn);
  if (query.p) {
    *o++ = '?';
    put(&o, query.p, query.n);
  }
  if (r.fragment.p) {
    *o++ = '#';
    put(&o, r.fragment.p, r.fragment.n);
  }
  *o = 0;
  free(path);
  return out;
}

vast_err vast_url_resolve(const char *base, const char *ref, char **out, int *is_file) {
  if (out) *out = NULL;
  if (is_file) *is_file = 0;
  if (!ref || !out) return VAST_E_INVAL;
  while (isspace((unsigned char)*ref))
    ref++;
  size_t rl = strlen(ref);
  while (rl && isspace((unsigned char)ref[rl - 1]))
    rl--;
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
    if (base[strcspn(base, " \t\r\n")] || strpbrk(r, "\t\r\n")) { /* not a URL: refused */
      free(r);
      return VAST_E_URL;
    }
    *out = resolve_http(base, r);
    free(r);
    return *out ? VAST_OK : VAST_E_NOMEM;
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
