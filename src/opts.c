/*
 * opts.c: the option parser and help writer of the subcommands (opts.h). One
 * table per command drives both, so every command accepts the same forms and
 * reports the same errors, and its --help lists exactly what it accepts.
 */
#include "opts.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

static int is_opt(const cli_opt *o) {
  return o->type != CLI_OPT_END && o->type != CLI_OPT_TEXT;
}

static int takes_value(const cli_opt *o) {
  return o->type != CLI_OPT_FLAG && !(o->type == CLI_OPT_CALL && !o->arg);
}

/* "--name" or "-x" as the user would write it, for messages. */
static const char *spelled(const cli_opt *o, char *buf, size_t cap) {
  if (o->name)
    snprintf(buf, cap, "--%s", o->name);
  else
    snprintf(buf, cap, "-%c", o->short_name);
  return buf;
}

/* Stores v in the integer of `size` bytes at dest. */
static void store_int(void *dest, size_t size, long long v) {
  switch (size) {
  case 1: {
    int8_t x = (int8_t)v;
    memcpy(dest, &x, 1);
    break;
  }
  case 2: {
    int16_t x = (int16_t)v;
    memcpy(dest, &x, 2);
    break;
  }
  case 4: {
    int32_t x = (int32_t)v;
    memcpy(dest, &x, 4);
    break;
  }
  default: {
    int64_t x = (int64_t)v;
    memcpy(dest, &x, 8);
  }
  }
}

/* The range of an INT entry: the table's, or what the destination holds. */
static void int_range(const cli_opt *o, double *lo, double *hi) {
  *lo = o->min;
  *hi = o->max;
  if (*lo == 0 && *hi == 0) {
    *lo = o->size >= 8 ? -9.2e18 : o->size == 4 ? -2147483648.0 : o->size == 2 ? -32768 : -128;
    *hi = o->size >= 8 ? 9.2e18 : o->size == 4 ? 2147483647.0 : o->size == 2 ? 32767 : 127;
  }
}

static int bad_value(const cli_cmd *cmd, const char *opt, const char *val, const char *what) {
  char *v = cli_tty_dup(val);
  cli_error("%s: %s: '%s' is not %s", cmd->name, opt, v ? v : "?", what);
  free(v);
  return -1;
}

/* Applies one occurrence of o with val (NULL for a flag). Returns 0 or -1 (printed). */
static int apply(const cli_cmd *cmd, const cli_opt *o, const char *opt, const char *val) {
  char what[160];
  switch (o->type) {
  case CLI_OPT_FLAG:
    store_int(o->dest, o->size, o->value);
    return 0;
  case CLI_OPT_INT: {
    double lo, hi;
    int_range(o, &lo, &hi);
    char *end;
    errno = 0;
    long long v = strtoll(val, &end, 10);
    if (!*val || *end || errno == ERANGE || (double)v < lo || (double)v > hi) {
      snprintf(what, sizeof what, "a whole number from %.0f to %.0f", lo, hi);
      return bad_value(cmd, opt, val, what);
    }
    store_int(o->dest, o->size, v);
    return 0;
  }
  case CLI_OPT_DOUBLE: {
    char *end;
    double v = strtod(val, &end);
    int low = (o->flags & CLI_OPT_ABOVE_MIN) ? !(v > o->min) : !(v >= o->min);
    if (!*val || *end || !isfinite(v) || low || v > o->max) {
      int above = (o->flags & CLI_OPT_ABOVE_MIN) != 0, open = o->max == HUGE_VAL;
      if (above && open)
        snprintf(what, sizeof what, "a number above %g", o->min);
      else if (above)
        snprintf(what, sizeof what, "a number above %g, at most %g", o->min, o->max);
      else if (open)
        snprintf(what, sizeof what, "a number from %g up", o->min);
      else
        snprintf(what, sizeof what, "a number from %g to %g", o->min, o->max);
      return bad_value(cmd, opt, val, what);
    }
    *(double *)o->dest = v;
    return 0;
  }
  case CLI_OPT_STRING:
    *(const char **)o->dest = val;
    return 0;
  case CLI_OPT_LIST: {
    cli_list *l = o->dest;
    const char **nv = realloc(l->v, (l->n + 1) * sizeof *nv);
    if (!nv) {
      cli_error("out of memory");
      return -1;
    }
    l->v = nv;
    l->v[l->n++] = val;
    return 0;
  }
  case CLI_OPT_CHOICE: {
    size_t off = 0;
    for (const cli_choice *c = o->choices; c->name; c++) {
      if ((o->flags & CLI_OPT_NOCASE) ? !strcasecmp(val, c->name) : !strcmp(val, c->name)) {
        store_int(o->dest, o->size, c->value);
        return 0;
      }
      off += (size_t)snprintf(what + off, off < sizeof what ? sizeof what - off : 0, "%s%s",
                              c == o->choices ? "one of " : ", ", c->name);
      if (off >= sizeof what) off = sizeof what - 1;
    }
    return bad_value(cmd, opt, val, what);
  }
  case CLI_OPT_CALL:
    return o->fn(o->ctx, val);
  default:
    return -1;
  }
}

static const cli_opt *find_long(const cli_opt *t, const char *name, size_t n) {
  for (; t->type != CLI_OPT_END; t++)
    if (is_opt(t) && t->name && strlen(t->name) == n && !strncmp(t->name, name, n)) return t;
  return NULL;
}

static const cli_opt *find_short(const cli_opt *t, char c) {
  for (; t->type != CLI_OPT_END; t++)
    if (is_opt(t) && t->short_name == c) return t;
  return NULL;
}

int cli_opts_parse(const cli_cmd *cmd, int argc, char **argv) {
  int n_ops = 0, only_operands = 0;
  for (int i = 1; i < argc; i++) {
    char *a = argv[i];
    if (only_operands || a[0] != '-' || !a[1]) {
      argv[1 + n_ops++] = a; /* never ahead of i: operands move down only */
      continue;
    }
    if (!strcmp(a, "--")) {
      only_operands = 1;
      continue;
    }
    const cli_opt *o;
    const char *val = NULL;
    char opt[128];
    if (a[1] == '-') {
      const char *name = a + 2, *eq = strchr(name, '=');
      size_t n = eq ? (size_t)(eq - name) : strlen(name);
      o = find_long(cmd->opts, name, n);
      if (!o && n == 4 && !strncmp(name, "help", 4) && !eq) {
        cli_opts_help(cmd, stdout);
        return CLI_OPTS_HELP;
      }
      if (eq) val = eq + 1;
    } else {
      o = a[2] ? NULL : find_short(cmd->opts, a[1]);
      if (!o && !strcmp(a, "-h")) {
        cli_opts_help(cmd, stdout);
        return CLI_OPTS_HELP;
      }
    }
    if (!o) {
      char *u = cli_tty_dup(a);
      cli_error("%s: unknown option '%s'; see 'vastrack %s --help'", cmd->name, u ? u : "?",
                cmd->name);
      free(u);
      return CLI_OPTS_USAGE;
    }
    spelled(o, opt, sizeof opt);
    if (!takes_value(o)) {
      if (val) {
        cli_error("%s: option '%s' takes no value", cmd->name, opt);
        return CLI_OPTS_USAGE;
      }
    } else if (!val) {
      if (i + 1 >= argc) {
        cli_error("%s: option '%s' needs a value (%s)", cmd->name, opt, o->arg ? o->arg : "?");
        return CLI_OPTS_USAGE;
      }
      val = argv[++i];
    }
    if (apply(cmd, o, opt, val) != 0) return CLI_OPTS_USAGE;
  }
  return n_ops;
}

int cli_opts_exit(int rc) {
  return rc == CLI_OPTS_HELP ? CLI_OK : CLI_USAGE;
}

/* "-o, --output FILE" as the help shows it. */
static size_t label(const cli_opt *o, char *buf, size_t cap) {
  int n;
  if (o->name && o->short_name)
    n = snprintf(buf, cap, "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
  else if (o->name)
    n = snprintf(buf, cap, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
  else
    n = snprintf(buf, cap, "-%c%s%s", o->short_name, o->arg ? " " : "", o->arg ? o->arg : "");
  return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* The help column, after the 2-space indent: one for every command, so their
   help texts wrap alike. A longer label is followed by two spaces and its help. */
#define HELP_COL 18

static void entry(FILE *out, const char *lab, const char *help) {
  int len = fprintf(out, "  %s", lab) - 2;
  const char *h = help ? help : "";
  int first = 1;
  do {
    size_t n = strcspn(h, "\n");
    if (first)
      fprintf(out, "%*s%.*s\n", len + 2 <= HELP_COL ? HELP_COL - len : 2, "", (int)n, h);
    else
      fprintf(out, "%*s%.*s\n", HELP_COL + 2, "", (int)n, h);
    first = 0;
    h += n;
    if (*h == '\n') h++;
  } while (*h);
}

void cli_opts_help(const cli_cmd *cmd, FILE *out) {
  char lab[160];
  fputs(cmd->usage, out);
  fputs("\noptions:\n", out);
  for (const cli_opt *o = cmd->opts; o->type != CLI_OPT_END; o++) {
    if (o->type == CLI_OPT_TEXT) {
      fprintf(out, "%s\n", o->help);
    } else if (o->help) {
      label(o, lab, sizeof lab);
      entry(out, lab, o->help);
    }
  }
  if (!find_long(cmd->opts, "help", 4)) entry(out, "-h, --help", "this text");
  if (cmd->epilog) {
    fputc('\n', out);
    fputs(cmd->epilog, out);
  }
}

void cli_opts_free(const cli_cmd *cmd) {
  for (const cli_opt *o = cmd->opts; o->type != CLI_OPT_END; o++)
    if (o->type == CLI_OPT_LIST) {
      cli_list *l = o->dest;
      free(l->v);
      l->v = NULL;
      l->n = 0;
    }
}

int cli_opts_has(int argc, char **argv, const char *name) {
  size_t n = strlen(name);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--")) return 0;
    if (!strncmp(argv[i], "--", 2) && !strncmp(argv[i] + 2, name, n) &&
        (argv[i][2 + n] == 0 || argv[i][2 + n] == '='))
      return 1;
  }
  return 0;
}
