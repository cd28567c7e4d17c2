/*
 * opts.h: the one option parser of the vastrack subcommands. Each command
 * describes its options in a table (long name, short name, the kind of value,
 * where it goes, its help text); cli_opts_parse reads argv against it and
 * cli_opts_help prints the "options:" part of `--help` from the same table, so
 * the help cannot drift from what the code accepts.
 *
 * Accepted forms: --name VALUE, --name=VALUE, -x VALUE, flags alone, "--" ends
 * the options, "-" is an operand (standard input). Options and operands may be
 * mixed; the operands keep their order. -h and --help are always there.
 * Errors are printed git-style on stderr, naming the command and the option:
 *   vastrack: play: unknown option '--frob'; see 'vastrack play --help'
 *   vastrack: play: option '--timeout' needs a value (MS)
 *   vastrack: play: --timeout: 'x' is not a whole number from 1 to 3600000
 */
#ifndef VASTRACK_CLI_OPTS_H
#define VASTRACK_CLI_OPTS_H

#include <stddef.h>
#include <stdio.h>

typedef enum cli_opt_type {
  CLI_OPT_END = 0, /* the zeroed entry that ends a table */
  CLI_OPT_FLAG,    /* no value: stores `value` (1 unless given) in the int at dest */
  CLI_OPT_INT,     /* a whole number in [min, max] into the integer at dest (size bytes) */
  CLI_OPT_DOUBLE,  /* a finite number in [min, max] ((min, max] with CLI_OPT_ABOVE_MIN) */
  CLI_OPT_STRING,  /* const char * at dest (into argv); a repeat replaces the value */
  CLI_OPT_LIST,    /* each occurrence appended to the cli_list at dest */
  CLI_OPT_CHOICE,  /* one of choices[].name; its value into the integer at dest */
  CLI_OPT_CALL,    /* fn(ctx, value) decides (value NULL for a flag: arg NULL) */
  CLI_OPT_TEXT     /* no option: help is printed as it is, a heading or a note */
} cli_opt_type;

/* flags */
#define CLI_OPT_ABOVE_MIN 1u /* CLI_OPT_DOUBLE: min itself is refused */
#define CLI_OPT_NOCASE 2u    /* CLI_OPT_CHOICE: names match in any case */

typedef struct cli_choice {
  const char *name;
  int value;
} cli_choice;

/* The values of a repeatable option, in command-line order; cli_opts_free frees v. */
typedef struct cli_list {
  const char **v;
  size_t n;
} cli_list;

/* A callback option: returns 0, or -1 after printing why (cli_error). */
typedef int (*cli_opt_fn)(void *ctx, const char *value);

typedef struct cli_opt {
  const char *name; /* long name without "--"; NULL for a short-only option */
  char short_name;  /* 'o' for -o; 0 none */
  cli_opt_type type;
  const char *arg;  /* the value's name in the help ("MS", "FILE"); NULL: a flag */
  const char *help; /* pre-wrapped lines separated by '\n' */
  void *dest;
  size_t size;     /* sizeof *dest for INT and CHOICE (1, 2, 4 or 8) */
  double min, max; /* INT, DOUBLE: the accepted range */
  unsigned flags;
  int value;                 /* FLAG: the value stored */
  const cli_choice *choices; /* CHOICE: ends with {NULL, 0} */
  cli_opt_fn fn;             /* CALL */
  void *ctx;                 /* CALL */
} cli_opt;

/* Table entries. Every destination is named as an lvalue (the macro takes its address). */
#define CLI_FLAG(nm, var, hl)                                                                      \
  { .name = nm, .type = CLI_OPT_FLAG, .help = hl, .dest = &(var), .size = sizeof(var), .value = 1 }
#define CLI_FLAG_VAL(nm, var, val, hl)                                                             \
  {                                                                                                \
    .name = nm, .type = CLI_OPT_FLAG, .help = hl, .dest = &(var), .size = sizeof(var),             \
    .value = (val)                                                                                 \
  }
#define CLI_INT(nm, ar, var, lo, hi, hl)                                                           \
  {                                                                                                \
    .name = nm, .type = CLI_OPT_INT, .arg = ar, .help = hl, .dest = &(var), .size = sizeof(var),   \
    .min = (lo), .max = (hi)                                                                       \
  }
#define CLI_DOUBLE(nm, ar, var, lo, hi, fl, hl)                                                    \
  {                                                                                                \
    .name = nm, .type = CLI_OPT_DOUBLE, .arg = ar, .help = hl, .dest = &(var),                     \
    .size = sizeof(var), .min = (lo), .max = (hi), .flags = (fl)                                   \
  }
#define CLI_STRING(nm, ar, var, hl)                                                                \
  { .name = nm, .type = CLI_OPT_STRING, .arg = ar, .help = hl, .dest = &(var), .size = sizeof(var) }
#define CLI_LIST(nm, ar, var, hl)                                                                  \
  { .name = nm, .type = CLI_OPT_LIST, .arg = ar, .help = hl, .dest = &(var), .size = sizeof(var) }
#define CLI_CHOICE(nm, ar, var, ch, fl, hl)                                                        \
  {                                                                                                \
    .name = nm, .type = CLI_OPT_CHOICE, .arg = ar, .help = hl, .dest = &(var),                     \
    .size = sizeof(var), .choices = ch, .flags = (fl)                                              \
  }
#define CLI_CALL(nm, ar, f, c, hl)                                                                 \
  { .name = nm, .type = CLI_OPT_CALL, .arg = ar, .help = hl, .fn = f, .ctx = c }
#define CLI_TEXT(hl)                                                                               \
  { .type = CLI_OPT_TEXT, .help = hl }
#define CLI_END                                                                                    \
  { .type = CLI_OPT_END }

/* A command: its name for messages, and its help around the options. */
typedef struct cli_cmd {
  const char *name;    /* "validate", or "report --conformance" */
  const char *usage;   /* the usage lines and the description, printed before */
  const cli_opt *opts; /* ends with CLI_END */
  const char *epilog;  /* printed after the options (exit status...); may be NULL */
} cli_cmd;

/* What cli_opts_parse returns besides an operand count. */
enum { CLI_OPTS_HELP = -1, CLI_OPTS_USAGE = -2 };

/*
 * cli_opts_parse: reads argv[1..argc) against cmd->opts, storing each value.
 * The operands are moved to argv[1..n], in their order, and n is returned.
 * --help prints the help on stdout and returns CLI_OPTS_HELP; an error is
 * printed on stderr and CLI_OPTS_USAGE returned. Call cli_opts_free afterwards
 * in every case (it frees the lists).
 */
int cli_opts_parse(const cli_cmd *cmd, int argc, char **argv);

/* The exit status for a negative cli_opts_parse result: 0 for help, 2 for usage. */
int cli_opts_exit(int rc);

/* The whole help of cmd (usage, options, epilog) on out. */
void cli_opts_help(const cli_cmd *cmd, FILE *out);

/* Frees the lists the table's CLI_OPT_LIST entries hold. */
void cli_opts_free(const cli_cmd *cmd);

/* 1 when argv[1..argc) holds option --name before any "--" (for commands that
   hand over to another mode, like template --collector). */
int cli_opts_has(int argc, char **argv, const char *name);

#endif
