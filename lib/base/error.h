/*
 * error.h: the one way the library fills a caller's vast_error (internal).
 * Every module that reports a failure through an optional vast_error uses
 * vast__error_set instead of zeroing and filling the struct by hand.
 */
#ifndef VAST_LIB_ERROR_H
#define VAST_LIB_ERROR_H

#include <stdarg.h>

#include "vastrack/base.h"

/*
 * Fills err when it is not NULL: zeroes it (no line, column or offset), sets
 * code and iab_code (0 when none applies) and formats the message, cut to fit
 * err->message. Returns code, so that `return vast__error_set(...)` reads as
 * the failure it reports.
 */
vast_err vast__error_set(vast_error *err, vast_err code, int iab, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
vast_err vast__error_setv(vast_error *err, vast_err code, int iab, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
