/*
 * buf.c: the growable output buffer of buf.h.
 */
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vast__buf_write(void *buf, const char *d, size_t n) {
  vast__buf *b = buf;
  if (b->fail) return -1;
  if (b->n + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->n + n + 1)
      nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) {
      b->fail = 1;
      return -1;
    }
    b->p = np;
    b->cap = nc;
  }
  if (n) memcpy(b->p + b->n, d, n);
  b->n += n;
  b->p[b->n] = 0;
  return 0;
}

void vast__buf_puts(vast__buf *b, const char *s) {
  vast__buf_write(b, s, strlen(s));
}

void vast__buf_printf(vast__buf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof tmp) {
    vast__buf_write(b, tmp, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    b->fail = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  vast__buf_write(b, big, (size_t)n);
  free(big);
}

void vast__buf_free(vast__buf *b) {
  if (!b) return;
  free(b->p);
  b->p = NULL;
  b->n = b->cap = 0;
  b->fail = 0;
}
