/*
 * jsonw.h: a small streaming JSON writer (internal). Output is buffered and
 * handed to a vast_write_fn; commas and nesting are tracked so callers just
 * say key/value. Strings are escaped per RFC 8259: " and \\ escaped,
 * \n \r \t short, other control characters and DEL (0x7f) as \u00XX, and
 * each byte that is not part of valid UTF-8 replaced by U+FFFD, so the output
 * is always valid JSON in valid UTF-8 whatever the input bytes were (beacon
 * query strings, tag text). vast__json_quote is the one string escaper of
 * the library and the command: every JSON producer uses it, directly or
 * through the writer.
 */
#ifndef VASTRACK_JSONW_H
#define VASTRACK_JSONW_H

#include <stddef.h>

#include "base/buf.h"
#include "vastrack/base.h"

typedef struct vast__jw {
  vast_write_fn write;
  void *ctx;
  int failed;
  int depth;
  unsigned char first[64]; /* per nesting level: no element written yet */
  size_t n;
  char buf[8192];
} vast__jw;

/* Writes s[0..n) as a quoted JSON string through out (see above). */
void vast__json_quote(const char *s, size_t n, void (*out)(void *u, const char *p, size_t n),
                      void *u);

/* Appends s[0..n) (or the C string s) to b as a quoted JSON string, the same
   bytes as vast__json_quote; a NULL s appends null. For JSON built in a vast__buf. */
void vast__json_buf_strn(vast__buf *b, const char *s, size_t n);
void vast__json_buf_str(vast__buf *b, const char *s);

/* The writer writes through write(ctx, ...): a vast__buf with vast__buf_write. */
void vast__jw_init(vast__jw *w, vast_write_fn write, void *ctx);
int vast__jw_finish(vast__jw *w); /* flushes; 0 on success */
void vast__jw_key(vast__jw *w, const char *key);
void vast__jw_obj_begin(vast__jw *w);
void vast__jw_obj_end(vast__jw *w);
void vast__jw_arr_begin(vast__jw *w);
void vast__jw_arr_end(vast__jw *w);
void vast__jw_str(vast__jw *w, const char *s);            /* NULL writes null */
void vast__jw_strn(vast__jw *w, const char *s, size_t n); /* NULL writes null */
void vast__jw_uint(vast__jw *w, unsigned long long v);
/* A value already in JSON form (a number in a format of the schema's, an object
   built elsewhere), written as is where a value goes: commas kept, no escaping. */
void vast__jw_value(vast__jw *w, const char *json, size_t n);
void vast__jw_int(vast__jw *w, long long v);
void vast__jw_num(vast__jw *w, double v); /* %.17g-free: up to 3 decimals */
void vast__jw_bool(vast__jw *w, int v);
void vast__jw_null(vast__jw *w);
void vast__jw_raw(vast__jw *w, const char *s, size_t n); /* raw bytes, no comma logic */
/* key + value helpers; *_opt skip nothing: NULL strings and -1 ints write null */
void vast__jw_kstr(vast__jw *w, const char *key, const char *s);
void vast__jw_kint(vast__jw *w, const char *key, long long v);
void vast__jw_kint_opt(vast__jw *w, const char *key, long long v); /* <0 → null */
void vast__jw_knum_opt(vast__jw *w, const char *key, double v);    /* <0 → null */
void vast__jw_kbool_opt(vast__jw *w, const char *key, int v);      /* <0 → null */

#endif
