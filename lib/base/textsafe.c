/*
 * textsafe.c: output that cannot be turned against its reader. Data received
 * from the network (ad ids of collector hits, URLs and messages from tags)
 * ends up in CSV files opened by spreadsheets and on terminals; these two
 * helpers neutralise what a spreadsheet would run as a formula and what a
 * terminal would obey (newlines that forge rows, ESC sequences).
 */
#include <stdio.h>
#include <string.h>

#include "vastrack/base.h"

vast_err vast_csv_write_cell(const char *s, vast_write_fn write, void *ctx) {
  if (!write) return VAST_E_INVAL;
  if (!s) s = "";
  /* A leading = + - @ TAB or CR makes spreadsheets evaluate the cell (CSV
     injection, OWASP): a leading apostrophe makes it text. */
  int formula = strchr("=+-@\t\r", s[0]) != NULL && s[0] != 0;
  int quote = formula || strpbrk(s, ",\"\r\n") != NULL;
  if (quote && write(ctx, "\"", 1) != 0) return VAST_E_IO;
  if (formula && write(ctx, "'", 1) != 0) return VAST_E_IO;
  const char *run = s;
  for (const char *p = s; *p; p++) {
    if (*p != '"') continue;
    if (write(ctx, run, (size_t)(p - run + 1)) != 0) return VAST_E_IO; /* through the quote */
    if (write(ctx, "\"", 1) != 0) return VAST_E_IO;                    /* doubled */
    run = p + 1;
  }
  size_t rest = strlen(run);
  if (rest && write(ctx, run, rest) != 0) return VAST_E_IO;
  if (quote && write(ctx, "\"", 1) != 0) return VAST_E_IO;
  return VAST_OK;
}

size_t vast_text_escape(const char *s, char *out, size_t cap) {
  size_t n = 0;
  if (!s) s = "";
#define PUT(ch)                                                                                    \
  do {                                                                                             \
    if (n + 1 < cap) out[n] = (ch);                                                                \
    n++;                                                                                           \
  } while (0)
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    unsigned c = *p;
    /* C1 controls as UTF-8 (U+0080..U+009F: C2 80..C2 9F) act like ESC [ on some terminals */
    int c1 = c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
    if (c < 0x20 || c == 0x7f || c1) {
      if (c1) c = *++p;
      static const char hex[] = "0123456789abcdef";
      PUT('\\');
      PUT('x');
      PUT(hex[c >> 4]);
      PUT(hex[c & 15]);
    } else if (c == '\\') {
      PUT('\\');
      PUT('\\');
    } else {
      PUT((char)c);
    }
  }
#undef PUT
  if (cap) out[n < cap ? n : cap - 1] = 0;
  return n;
}
