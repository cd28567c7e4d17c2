/*
 * base/url.h: URL syntax, below every module that reads or writes URLs (the
 * validator, the resolver, the collector). No network here: resolving a
 * reference (RFC 3986 section 5) and decoding a query are string work.
 * The public part is vast_url_resolve() in vastrack/base.h.
 */
#ifndef VASTRACK_BASE_URL_H
#define VASTRACK_BASE_URL_H

#include <stddef.h>

/* 1 when s starts with http:// or https:// (any case). */
int vast__is_http(const char *s);

/* Percent- and '+'-decodes s[0..n) into out (cap bytes, NUL-terminated). Returns the
 * decoded length, or -1 when it does not fit or decodes to a NUL byte (%00). */
long vast__url_decode(const char *s, size_t n, char *out, size_t cap);

#endif
