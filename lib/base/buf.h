/*
 * buf.h: the library's one growable output buffer (internal). A vast__buf is
 * filled through vast__buf_write, which has the shape of vast_write_fn, so any
 * writer of the library (JSON, reports, conformance text) can write into
 * memory. The text is always NUL-terminated. After a failed allocation the
 * buffer keeps what it had, sets fail, and refuses further writes (-1).
 * Zero-initialise it ({0}); free its p with free() or vast__buf_free.
 */
#ifndef VAST_LIB_BUF_H
#define VAST_LIB_BUF_H

#include <stddef.h>

typedef struct vast__buf {
  char *p;    /* the bytes, NUL-terminated (NULL until the first write) */
  size_t n;   /* bytes written, not counting the NUL */
  size_t cap; /* bytes allocated */
  int fail;   /* an allocation failed: the content is incomplete */
} vast__buf;

/* Appends n bytes of d (a vast_write_fn): 0, or -1 once an allocation failed. */
int vast__buf_write(void *buf, const char *d, size_t n);
/* Appends the string s. */
void vast__buf_puts(vast__buf *b, const char *s);
/* Appends printf-formatted text, of any length. */
void vast__buf_printf(vast__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees the bytes and empties the buffer. Accepts NULL. */
void vast__buf_free(vast__buf *b);

#endif
