/*
 * error.c: messages and names for vast_err, generated from VAST_ERRNO_MAP so
 * the enum, the names and the messages never drift apart; and vast__error_set,
 * the one filler of a caller's vast_error (error.h).
 */
#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vastrack/base.h"

const char *vast_strerror(vast_err err) {
  switch (err) {
#define X(name, num, msg)                                                                          \
  case VAST_E_##name:                                                                              \
    return msg;
    VAST_ERRNO_MAP(X)
#undef X
  }
  return "unknown error";
}

const char *vast_errname(vast_err err) {
  switch (err) {
#define X(name, num, msg)                                                                          \
  case VAST_E_##name:                                                                              \
    return "VAST_E_" #name;
    VAST_ERRNO_MAP(X)
#undef X
  }
  return "VAST_E_UNKNOWN";
}

const char *vast_version(void) {
  return VAST_VERSION_STRING;
}

void vast_limits_init(vast_limits *l) {
  l->size = sizeof *l;
  l->max_bytes = 16u << 20;
  l->max_depth = 64;
  l->max_elements = 200000;
  l->max_url_len = 16u << 10;
  l->max_text_len = 1u << 20;
}

void vast_free(void *p) {
  free(p);
}

vast_err vast__error_setv(vast_error *err, vast_err code, int iab, const char *fmt, va_list ap) {
  if (!err) return code;
  memset(err, 0, sizeof *err);
  err->code = code;
  err->iab_code = iab;
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  return code;
}

vast_err vast__error_set(vast_error *err, vast_err code, int iab, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vast__error_setv(err, code, iab, fmt, ap);
  va_end(ap);
  return code;
}
