/*
 * cli.c: input reading and error reporting shared by the subcommands.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("vastrack: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

int cli_is_url(const char *s) {
  return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

/* Fetching URLs is provided by the network module; weak so the CLI builds without it. */
int cli_fetch_url(const char *url, char **out, size_t *len) __attribute__((weak));

static int read_stream(FILE *f, char **out, size_t *len) {
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  if (!buf) return -1;
  for (;;) {
    if (n == cap) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) {
        free(buf);
        return -1;
      }
      buf = nb;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) break;
  }
  if (ferror(f)) {
    free(buf);
    return -1;
  }
  *out = buf;
  *len = n;
  return 0;
}

int cli_read_input(const char *arg, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  if (strcmp(arg, "-") == 0) {
    if (read_stream(stdin, out, len) != 0) {
      cli_error("cannot read standard input: %s", strerror(errno));
      return -1;
    }
    return 0;
  }
  if (cli_is_url(arg)) {
    if (!cli_fetch_url) {
      cli_error("cannot fetch '%s': this build has no network support", arg);
      return -1;
    }
    return cli_fetch_url(arg, out, len);
  }
  FILE *f = fopen(arg, "rb");
  if (!f) {
    cli_error("cannot open '%s': %s", arg, strerror(errno));
    return -1;
  }
  int rc = read_stream(f, out, len);
  int e = errno;
  fclose(f);
  if (rc != 0) {
    cli_error("cannot read '%s': %s", arg, strerror(e));
    return -1;
  }
  return 0;
}

int cli_write_file(void *ctx, const char *data, size_t len) {
  return fwrite(data, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

void cli_json_str(FILE *f, const char *s) {
  vast_json_write_string(s, cli_write_file, f);
}
