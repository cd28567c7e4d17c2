/*
 * cli.c: what the subcommands share: error reporting, input reading (files,
 * standard input, http(s) URLs fetched under the command's network policy),
 * and text for the terminal.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

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

/*
 * The command's network policy. The command line's default allows private
 * addresses (an operator resolving a tag on their own machine or LAN); a command
 * that acts for others tightens it once, before its first request (play refuses
 * unless --allow-private; resolve --refuse-private), and hands the same pointer
 * to every options struct.
 */
vast_net_policy *cli_net_policy(void) {
  static vast_net_policy p;
  static int ready;
  if (!ready) {
    vast_net_policy_init(&p);
    p.allow_private = 1;
    ready = 1;
  }
  return &p;
}

/* An http(s) input: one vast_fetch under the command's policy. */
static int fetch_url(const char *url, char **out, size_t *len) {
  vast_fetch_result res;
  vast_error e;
  vast_fetch_opts fo;
  vast_fetch_opts_init(&fo);
  fo.policy = cli_net_policy();
  vast_err rc = vast_fetch(url, &fo, &res, &e);
  free(res.effective_url);
  if (rc != VAST_OK) {
    cli_error("%s", e.message);
    return -1;
  }
  *out = res.body;
  *len = res.len;
  return 0;
}

char *cli_tty_dup(const char *s) {
  size_t n = vast_text_escape(s, NULL, 0);
  char *o = malloc(n + 1);
  if (o) vast_text_escape(s, o, n + 1);
  return o;
}

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
  if (cli_is_url(arg)) return fetch_url(arg, out, len);
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

void cli_md_cell(const char *s) {
  for (; *s; s++) {
    if (*s == '|')
      fputs("\\|", stdout);
    else if (*s == '<')
      fputs("&lt;", stdout);
    else if (*s == '>')
      fputs("&gt;", stdout);
    else if (*s == '\n' || *s == '\r')
      putchar(' ');
    else
      putchar(*s);
  }
}

const char *cli_break_position_name(int p) {
  return p == VAST_BREAKPOS_PREROLL    ? "preroll"
         : p == VAST_BREAKPOS_MIDROLL  ? "midroll"
         : p == VAST_BREAKPOS_POSTROLL ? "postroll"
                                       : "unplaced";
}

const char *cli_source_name(vast_source_kind k) {
  return k == VAST_SOURCE_VAST     ? "VASTAdData"
         : k == VAST_SOURCE_URI    ? "AdTagURI"
         : k == VAST_SOURCE_CUSTOM ? "CustomAdData"
                                   : "none";
}

void cli_session_id(char *buf, size_t cap, char prefix) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(buf, cap, "%c%lx%05lx", prefix, (unsigned long)ts.tv_sec,
           (unsigned long)((ts.tv_nsec / 1000) ^ (unsigned long)getpid()) & 0xfffff);
}

void cli_base_url(char *buf, size_t cap, const char *url) {
  snprintf(buf, cap, "%s", url);
  size_t n = strlen(buf);
  while (n && buf[n - 1] == '/')
    buf[--n] = 0;
}
