/*
 * vastrack/base.h: error numbers, limits and version of libvastrack.
 *
 * Conventions used by every module:
 *  - fallible calls return a vast_err (VAST_OK is 0);
 *  - results go to out-parameters marked OUT, set to NULL on failure;
 *  - calls that parse or fetch fill an optional caller-owned vast_error with the
 *    position, a message and the IAB VAST error code; there is no global error state;
 *  - destructors accept NULL.
 */
#ifndef VASTRACK_BASE_H
#define VASTRACK_BASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define VAST_API __attribute__((visibility("default")))
#else
#define VAST_API
#endif

#define VAST_VERSION_STRING "0.1.0"

/*
 * The error table. One row per error: enum suffix, number, message. Numbers are
 * never reused; new rows go at the end.
 */
#define VAST_ERRNO_MAP(XX)                                                                         \
  XX(OK, 0, "success")                                                                             \
  XX(NOMEM, 1, "out of memory")                                                                    \
  XX(INVAL, 2, "invalid argument")                                                                 \
  XX(XML, 3, "document is not well-formed XML")                                                    \
  XX(NOT_VAST, 4, "document is not VAST or VMAP")                                                  \
  XX(VERSION, 5, "VAST version not supported")                                                     \
  XX(LIMIT, 6, "document exceeds a parse limit")                                                   \
  XX(ENTITY, 7, "document declares entities or a DTD subset (refused)")                            \
  XX(IO, 8, "input/output error")                                                                  \
  XX(HTTP, 9, "HTTP request failed")                                                               \
  XX(TIMEOUT, 10, "request timed out")                                                             \
  XX(WRAPPER_LIMIT, 11, "wrapper limit reached")                                                   \
  XX(NO_AD, 12, "no ad after following wrappers")                                                  \
  XX(LOOP, 13, "wrapper chain loops")                                                              \
  XX(URL, 14, "invalid URL")                                                                       \
  XX(FORBIDDEN, 15, "destination refused by policy")                                               \
  XX(FULL, 16, "queue is full")                                                                    \
  XX(STATE, 17, "call not valid in the current state")                                             \
  XX(NOSPACE, 18, "output buffer too small")                                                       \
  XX(DB, 19, "database error")                                                                     \
  XX(KAFKA, 20, "Kafka error")                                                                     \
  XX(NOT_FOUND, 21, "not found")                                                                   \
  XX(TOO_LARGE, 22, "response exceeds the size limit")                                             \
  XX(NOT_PLAYED, 23, "media time not counted as played (a jump, or faster than real time)")        \
  XX(NOT_MEDIA, 24, "not a media file that can be read")

typedef enum vast_err {
#define VAST__ERR_ENUM(name, num, msg) VAST_E_##name = num,
  VAST_ERRNO_MAP(VAST__ERR_ENUM)
#undef VAST__ERR_ENUM
} vast_err;

#define VAST_OK VAST_E_OK

/* Message for an error number; never NULL, static storage. */
VAST_API const char *vast_strerror(vast_err err);
/* Name of an error number ("VAST_E_XML"); never NULL, static storage. */
VAST_API const char *vast_errname(vast_err err);

/*
 * vast_error: where and why a parse or fetch failed. Owned by the caller, filled
 * by the library, never allocated. iab_code is the IAB VAST error code the
 * failure corresponds to (100 XML, 101 schema, 102 version, 301, 302, 303...) or
 * 0 when none applies. line and column are 1-based; 0 when not applicable.
 */
typedef struct vast_error {
  vast_err code;
  int iab_code;
  unsigned long line;
  unsigned long column;
  size_t offset; /* byte offset in the input */
  char message[256];
} vast_error;

/*
 * vast_limits: bounds on hostile input. Always initialise with
 * vast_limits_init() and then change fields; `size` lets the struct grow.
 */
typedef struct vast_limits {
  size_t size;         /* sizeof(vast_limits), set by vast_limits_init */
  size_t max_bytes;    /* input size; default 16 MiB */
  unsigned max_depth;  /* element nesting; default 64 */
  size_t max_elements; /* elements in one document; default 200000 */
  size_t max_url_len;  /* bytes in one URL after trimming; default 16 KiB */
  size_t max_text_len; /* bytes of text in one element; default 1 MiB */
} vast_limits;

/* Fills *limits with the safe defaults above. */
VAST_API void vast_limits_init(vast_limits *limits);

/*
 * vast_url_resolve: resolves `ref` (a VASTAdTagURI as written) against `base`
 * (the URL, or local file path, of the document that holds it) into *out
 * (release it with vast_free()). An absolute http(s) ref is returned as is; a relative
 * ref against an http(s) base follows RFC 3986 section 5.2 (string work, no
 * network); against a local path base it becomes a path relative to that
 * file's directory. Other schemes (file:, javascript:, data:...) give
 * VAST_E_URL. *is_file (optional) tells which kind.
 */
VAST_API vast_err vast_url_resolve(const char *base, const char *ref, char **out /* OUT */,
                                   int *is_file /* OUT, optional */);

/* An output sink: receives output in pieces; returns 0 to go on, non-zero to stop
 * (the writer then returns VAST_E_IO). */
typedef int (*vast_write_fn)(void *ctx, const char *data, size_t len);

/* ------------------------------------------------------------------ */
/* Output safety (lib/base/textsafe.c)                                      */
/* ------------------------------------------------------------------ */

/*
 * vast_csv_write_cell: writes s (NULL: empty) as one RFC 4180 CSV cell that a
 * spreadsheet cannot run: quoted (quotes doubled) when it holds a comma, quote,
 * CR or LF; and when it starts with '=', '+', '-', '@', TAB or CR (read as a
 * formula: CSV injection) it is quoted and prefixed with an apostrophe, so
 * "=1+2" is written "\"'=1+2\"". Use it for every cell that holds received
 * text. Returns VAST_E_IO when write fails. Thread-safe.
 */
VAST_API vast_err vast_csv_write_cell(const char *s, vast_write_fn write, void *ctx);

/*
 * vast_text_escape: s (NULL: empty) made safe for a terminal: every control
 * character (below 0x20, DEL, and the C1 range U+0080..U+009F in UTF-8) written
 * as \xNN and a backslash as \\, so received data cannot start a new line
 * or send escape sequences. Writes at most cap bytes to out, always
 * NUL-terminated when cap > 0 (out may be NULL when cap is 0); returns the length
 * of the whole escaped string (as snprintf: a result >= cap means it was cut).
 * Thread-safe.
 */
VAST_API size_t vast_text_escape(const char *s, char *out, size_t cap);

/*
 * vast_free: releases memory the library handed to the caller as its own (the
 * strings and bodies documented "release with vast_free()": vast_url_resolve's
 * result, vast_fetch's body and effective URL, ...). Use it rather than free():
 * the library and the caller may not share one allocator (static builds with a
 * custom malloc, other runtimes through the binding). Objects with their own
 * destructor (vast_doc_free, vast_chain_free, ...) keep it. Accepts NULL.
 */
VAST_API void vast_free(void *p);

/* Library version string, e.g. "0.1.0". */
VAST_API const char *vast_version(void);

#ifdef __cplusplus
}
#endif
#endif
