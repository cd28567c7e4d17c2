/*
 * jsonw.c: the streaming JSON writer of jsonw.h.
 */
#include "jsonw.h"

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

void vast__jw_obj_begin(vast__jw *w) { open(w, '{'); }
void vast__jw_obj_end(vast__jw *w) { close_(w, '}'); }
void vast__jw_arr_begin(vast__jw *w) { open(w, '['); }
void vast__jw_arr_end(vast__jw *w) { close_(w, ']'); }

static void escaped(vast__jw *w, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  put(w, '"');
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    vast__jw_raw(w, s + run, i - run);
    run = i + 1;
    put(w, '\\');
    switch (c) {
    case '"': put(w, '"'); break;
    case '\\': put(w, '\\'); break;
    case '\n': put(w, 'n'); break;
    case '\r': put(w, 'r'); break;
    case '\t': put(w, 't'); break;
    default:
      vast__jw_raw(w, "u00", 3);
      put(w, hex[c >> 4]);
      put(w, hex[c & 15]);
    }
  }
  vast__jw_raw(w, s + run, n - run);
  put(w, '"');
}

void vast__jw_str(vast__jw *w, const char *s) {
  value_sep(w);
  if (!s)
    vast__jw_raw(w, "null", 4);
  else
    escaped(w, s, strlen(s));
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
  while (n > 1 && b[n - 1] == '0') n--; /* 30.000 -> 30 */
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
