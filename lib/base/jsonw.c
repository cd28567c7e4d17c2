/*
 * jsonw.c: the streaming JSON writer of jsonw.h.
 */
#include "base/jsonw.h"

#include <stdio.h>
#include <string.h>

void vast__jw_init(vast__jw *w, vast_write_fn write, void *ctx) {
  memset(w, 0, offsetof(vast__jw, buf));
  w->write = write;
  w->ctx = ctx;
  w->first[0] = 1;
}

static void escaped(vast__jw *w, const char *s, size_t n);

static void flush(vast__jw *w) {
  if (w->n && !w->failed && w->write(w->ctx, w->buf, w->n) != 0) w->failed = 1;
  w->n = 0;
}

void vast__jw_raw(vast__jw *w, const char *s, size_t n) {
  while (n) {
    if (w->n == sizeof w->buf) flush(w);
    size_t k = sizeof w->buf - w->n;
    if (k > n) k = n;
    memcpy(w->buf + w->n, s, k);
    w->n += k;
    s += k;
    n -= k;
  }
}

static void put(vast__jw *w, char c) {
  if (w->n == sizeof w->buf) flush(w);
  w->buf[w->n++] = c;
}

int vast__jw_finish(vast__jw *w) {
  flush(w);
  return w->failed ? -1 : 0;
}

/* Called before every value or key: writes the separating comma. */
static void sep(vast__jw *w) {
  if (w->depth >= 0 && w->depth < 64) {
    if (!w->first[w->depth]) put(w, ',');
    w->first[w->depth] = 0;
  }
}

void vast__jw_key(vast__jw *w, const char *key) {
  sep(w);
  escaped(w, key, strlen(key));
  put(w, ':');
  if (w->depth < 64) w->first[w->depth] = 2; /* next value takes no comma */
}

static void value_sep(vast__jw *w) {
  if (w->depth < 64 && w->first[w->depth] == 2) {
    w->first[w->depth] = 0;
    return;
  }
  sep(w);
}

static void open(vast__jw *w, char c) {
  value_sep(w);
  put(w, c);
  w->depth++;
  if (w->depth < 64) w->first[w->depth] = 1;
}

static void close_(vast__jw *w, char c) {
  w->depth--;
  put(w, c);
}

void vast__jw_obj_begin(vast__jw *w) {
  open(w, '{');
}
void vast__jw_obj_end(vast__jw *w) {
  close_(w, '}');
}
void vast__jw_arr_begin(vast__jw *w) {
  open(w, '[');
}
void vast__jw_arr_end(vast__jw *w) {
  close_(w, ']');
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when the
 * bytes there are not valid UTF-8 (stray continuation byte, truncated
 * sequence, overlong form, surrogate, or above U+10FFFF).
 */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len;
  unsigned min;
  if (c >= 0xc2 && c <= 0xdf)
    len = 2, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef)
    len = 3, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4)
    len = 4, min = 0x10000;
  else
    return 0;
  if (len > n) return 0;
  unsigned cp = c & (0x7f >> len);
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

void vast__json_quote(const char *str, size_t n, void (*out)(void *u, const char *p, size_t n),
                      void *u) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)str;
  out(u, "\"", 1);
  size_t run = 0, i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      i++;
      continue;
    }
    if (c >= 0x80) {
      size_t k = utf8_len(s + i, n - i);
      if (k) {
        i += k;
        continue;
      }
    }
    if (i > run) out(u, str + run, i - run);
    char e[6] = {'\\', 0, 0, 0, 0, 0};
    size_t el = 2;
    switch (c) {
    case '"':
      e[1] = '"';
      break;
    case '\\':
      e[1] = '\\';
      break;
    case '\n':
      e[1] = 'n';
      break;
    case '\r':
      e[1] = 'r';
      break;
    case '\t':
      e[1] = 't';
      break;
    default:
      if (c >= 0x80) { /* invalid UTF-8: U+FFFD REPLACEMENT CHARACTER */
        memcpy(e, "\xef\xbf\xbd", 3);
        el = 3;
      } else {
        e[1] = 'u';
        e[2] = '0';
        e[3] = '0';
        e[4] = hex[c >> 4];
        e[5] = hex[c & 15];
        el = 6;
      }
    }
    out(u, e, el);
    i++;
    run = i;
  }
  if (n > run) out(u, str + run, n - run);
  out(u, "\"", 1);
}

static void jw_out(void *u, const char *p, size_t n) {
  vast__jw_raw(u, p, n);
}

static void escaped(vast__jw *w, const char *s, size_t n) {
  vast__json_quote(s, n, jw_out, w);
}

void vast__jw_str(vast__jw *w, const char *s) {
  value_sep(w);
  if (!s)
    vast__jw_raw(w, "null", 4);
  else
    escaped(w, s, strlen(s));
}

void vast__jw_strn(vast__jw *w, const char *s, size_t n) {
  value_sep(w);
  if (!s)
    vast__jw_raw(w, "null", 4);
  else
    escaped(w, s, n);
}

void vast__jw_value(vast__jw *w, const char *json, size_t n) {
  value_sep(w);
  vast__jw_raw(w, json, n);
}

void vast__jw_uint(vast__jw *w, unsigned long long v) {
  char b[32];
  value_sep(w);
  vast__jw_raw(w, b, (size_t)snprintf(b, sizeof b, "%llu", v));
}

void vast__jw_int(vast__jw *w, long long v) {
  char b[32];
  value_sep(w);
  vast__jw_raw(w, b, (size_t)snprintf(b, sizeof b, "%lld", v));
}

void vast__jw_num(vast__jw *w, double v) {
  char b[48];
  value_sep(w);
  int n = snprintf(b, sizeof b, "%.3f", v);
  while (n > 1 && b[n - 1] == '0')
    n--; /* 30.000 -> 30 */
  if (n > 1 && b[n - 1] == '.') n--;
  vast__jw_raw(w, b, (size_t)n);
}

void vast__jw_bool(vast__jw *w, int v) {
  value_sep(w);
  vast__jw_raw(w, v ? "true" : "false", v ? 4 : 5);
}

void vast__jw_null(vast__jw *w) {
  value_sep(w);
  vast__jw_raw(w, "null", 4);
}

void vast__jw_kstr(vast__jw *w, const char *k, const char *s) {
  vast__jw_key(w, k);
  vast__jw_str(w, s);
}
void vast__jw_kint(vast__jw *w, const char *k, long long v) {
  vast__jw_key(w, k);
  vast__jw_int(w, v);
}
void vast__jw_kint_opt(vast__jw *w, const char *k, long long v) {
  vast__jw_key(w, k);
  if (v < 0)
    vast__jw_null(w);
  else
    vast__jw_int(w, v);
}
void vast__jw_knum_opt(vast__jw *w, const char *k, double v) {
  vast__jw_key(w, k);
  if (v < 0)
    vast__jw_null(w);
  else
    vast__jw_num(w, v);
}
void vast__jw_kbool_opt(vast__jw *w, const char *k, int v) {
  vast__jw_key(w, k);
  if (v < 0)
    vast__jw_null(w);
  else
    vast__jw_bool(w, v);
}

static void buf_out(void *u, const char *p, size_t n) {
  vast__buf_write(u, p, n);
}

void vast__json_buf_strn(vast__buf *b, const char *s, size_t n) {
  if (!s)
    vast__buf_write(b, "null", 4);
  else
    vast__json_quote(s, n, buf_out, b);
}

void vast__json_buf_str(vast__buf *b, const char *s) {
  vast__json_buf_strn(b, s, s ? strlen(s) : 0);
}

/* The public face of the escaper (vastrack/doc.h), for the command and callers. */
typedef struct pub_out {
  vast_write_fn write;
  void *ctx;
  int failed;
} pub_out;

static void pub_put(void *u, const char *p, size_t n) {
  pub_out *o = u;
  if (!o->failed && n && o->write(o->ctx, p, n) != 0) o->failed = 1;
}

vast_err vast_json_write_string(const char *s, vast_write_fn write, void *ctx) {
  if (!write) return VAST_E_INVAL;
  pub_out o = {write, ctx, 0};
  if (!s)
    pub_put(&o, "null", 4);
  else
    vast__json_quote(s, strlen(s), pub_put, &o);
  return o.failed ? VAST_E_IO : VAST_OK;
}
