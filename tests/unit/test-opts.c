/*
 * test-opts.c: the option parser of the vastrack command (src/opts.c): every
 * kind of value, both spellings (--opt VALUE, --opt=VALUE), short options,
 * "--" and "-", operands kept in order among options, the errors (unknown
 * option, missing value, bad or out-of-range number, a value given to a flag,
 * a bad choice) with the messages the user sees, and --help generated from
 * the same table.
 */
#include "harness.h"
#include "opts.h"
#include "cli.h"

/* Runs cli_opts_parse on a copy of the words, stderr and stdout captured. */
static char err_text[4096], out_text[16384];
static char *args[32];

static int parse(const cli_cmd *cmd, const char *const *words) {
  int argc = 0;
  args[argc++] = (char *)cmd->name;
  for (; *words; words++)
    args[argc++] = (char *)*words;
  args[argc] = NULL;
  fflush(stdout);
  fflush(stderr);
  FILE *e = tmpfile(), *o = tmpfile();
  if (!e || !o) _exit(1);
  int save_err = dup(2), save_out = dup(1);
  dup2(fileno(e), 2);
  dup2(fileno(o), 1);
  int rc = cli_opts_parse(cmd, argc, args);
  fflush(stdout);
  fflush(stderr);
  dup2(save_err, 2);
  dup2(save_out, 1);
  close(save_err);
  close(save_out);
  rewind(e);
  rewind(o);
  size_t n = fread(err_text, 1, sizeof err_text - 1, e);
  err_text[n] = 0;
  n = fread(out_text, 1, sizeof out_text - 1, o);
  out_text[n] = 0;
  fclose(e);
  fclose(o);
  return rc;
}

#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The destinations of the test table. */
static int json, level;
static long timeout;
static unsigned jobs;
static size_t bytes;
static double rate, tolerance;
static const char *out_path, *name;
static cli_list rules;
static int mode;
static int called;
static const char *called_with;

static int on_call(void *ctx, const char *v) {
  (void)ctx;
  called++;
  called_with = v;
  if (v && !strcmp(v, "bad")) {
    cli_error("t: --call: 'bad' refused");
    return -1;
  }
  return 0;
}

static const cli_choice modes[] = {{"fast", 1}, {"durable", 2}, {NULL, 0}};

static cli_opt table[] = {
    CLI_FLAG("json", json, "JSON output"),
    CLI_FLAG_VAL("quiet", level, 7, "set level 7"),
    CLI_INT("timeout", "MS", timeout, 1, 600000, "per request\n(default 5000)"),
    CLI_INT("jobs", "N", jobs, 0, 64, "at once"),
    CLI_INT("max-bytes", "N", bytes, 0, 1e15, "bytes"),
    CLI_DOUBLE("rate", "R", rate, 0, 1e6, CLI_OPT_ABOVE_MIN, "playback rate"),
    CLI_DOUBLE("tolerance", "S", tolerance, 0, 3600, 0, "seconds"),
    CLI_STRING("name", "NAME", name, "a name"),
    CLI_LIST("rule", "ID=LEVEL", rules, "repeatable"),
    CLI_CHOICE("mode", "fast|durable", mode, modes, CLI_OPT_NOCASE, "how"),
    CLI_CALL("call", "X", on_call, NULL, "a callback"),
    CLI_CALL("ping", NULL, on_call, NULL, "a callback flag"),
    CLI_TEXT("A heading line:"),
    {.short_name = 'o',
     .type = CLI_OPT_STRING,
     .arg = "FILE",
     .help = "write there",
     .dest = &out_path},
    CLI_END};

static const cli_cmd cmd = {"t", "usage: vastrack t [options] FILE...\n", table,
                            "exit status: 0 ok\n"};

TEST(flags_and_values_both_spellings) {
  int n = parse(&cmd, WORDS("--json", "--timeout", "250", "--jobs=8", "--name=a=b", "--quiet",
                            "--max-bytes", "1099511627776", "-o", "x.out"));
  CHECK_INT(n, 0);
  CHECK_INT(json, 1);
  CHECK_INT(level, 7);
  CHECK_INT(timeout, 250);
  CHECK_INT(jobs, 8);
  CHECK_INT(bytes, 1099511627776LL);
  CHECK_STR(name, "a=b");
  CHECK_STR(out_path, "x.out");
  CHECK_STR(err_text, "");
}

TEST(operands_keep_their_order_among_options) {
  int n =
      parse(&cmd, WORDS("a.xml", "--json", "-", "--timeout", "9", "b.xml", "--", "--json", "-o"));
  CHECK_INT(n, 5);
  CHECK_STR(args[1], "a.xml");
  CHECK_STR(args[2], "-");
  CHECK_STR(args[3], "b.xml");
  CHECK_STR(args[4], "--json");
  CHECK_STR(args[5], "-o");
  CHECK_INT(timeout, 9);
}

TEST(doubles_and_ranges) {
  CHECK_INT(parse(&cmd, WORDS("--rate", "0.5", "--tolerance=0")), 0);
  CHECK_NEAR(rate, 0.5, 1e-12);
  CHECK_NEAR(tolerance, 0, 1e-12);
  CHECK_INT(parse(&cmd, WORDS("--rate", "0")), CLI_OPTS_USAGE);
  CHECK(strstr(err_text, "vastrack: t: --rate: '0' is not a number above 0, at most 1e+06"));
  CHECK_INT(parse(&cmd, WORDS("--tolerance", "nan")), CLI_OPTS_USAGE);
  CHECK_INT(parse(&cmd, WORDS("--tolerance", "1e400")), CLI_OPTS_USAGE);
  CHECK_INT(parse(&cmd, WORDS("--tolerance", "")), CLI_OPTS_USAGE);
  CHECK(strstr(err_text, "is not a number from 0 to 3600"));
}

TEST(bad_and_out_of_range_numbers) {
  CHECK_INT(parse(&cmd, WORDS("--timeout", "12x")), CLI_OPTS_USAGE);
  CHECK_STR(err_text, "vastrack: t: --timeout: '12x' is not a whole number from 1 to 600000\n");
  CHECK_INT(parse(&cmd, WORDS("--timeout=0")), CLI_OPTS_USAGE);
  CHECK_INT(parse(&cmd, WORDS("--jobs", "65")), CLI_OPTS_USAGE);
  CHECK_INT(parse(&cmd, WORDS("--jobs", "-1")), CLI_OPTS_USAGE);
  CHECK_INT(parse(&cmd, WORDS("--jobs", "99999999999999999999")), CLI_OPTS_USAGE);
  CHECK(strstr(err_text, "is not a whole number from 0 to 64"));
  CHECK_INT(jobs, 0); /* nothing stored on error */
}

TEST(unknown_option_names_it_and_the_command) {
  CHECK_INT(parse(&cmd, WORDS("a.xml", "--frobnicate")), CLI_OPTS_USAGE);
  CHECK_STR(err_text, "vastrack: t: unknown option '--frobnicate'; see 'vastrack t --help'\n");
  CHECK_INT(parse(&cmd, WORDS("-x")), CLI_OPTS_USAGE);
  CHECK(strstr(err_text, "unknown option '-x'"));
  /* no abbreviations, and the = form of a long name must match it whole */
  CHECK_INT(parse(&cmd, WORDS("--time=5")), CLI_OPTS_USAGE);
  CHECK(strstr(err_text, "unknown option '--time=5'"));
  /* a control character in the option is escaped, not sent to the terminal */
  CHECK_INT(parse(&cmd, WORDS("--a\x1b[2J")), CLI_OPTS_USAGE);
  CHECK(strstr(err_text, "'--a\\x1b[2J'"));
}

TEST(missing_value_and_value_given_to_a_flag) {
  CHECK_INT(parse(&cmd, WORDS("a.xml", "--timeout")), CLI_OPTS_USAGE);
  CHECK_STR(err_text, "vastrack: t: option '--timeout' needs a value (MS)\n");
  CHECK_INT(parse(&cmd, WORDS("-o")), CLI_OPTS_USAGE);
  CHECK_STR(err_text, "vastrack: t: option '-o' needs a value (FILE)\n");
  CHECK_INT(parse(&cmd, WORDS("--json=yes")), CLI_OPTS_USAGE);
  CHECK_STR(err_text, "vastrack: t: option '--json' takes no value\n");
  /* a value that looks like an option is still the value */
  CHECK_INT(parse(&cmd, WORDS("--name", "--json")), 0);
  CHECK_STR(name, "--json");
  CHECK_INT(json, 0);
}

TEST(repeated_list_options_accumulate) {
  CHECK_INT(parse(&cmd, WORDS("--rule", "a=off", "x", "--rule=b=error", "--rule", "c=info")), 1);
  CHECK_INT(rules.n, 3);
  CHECK_STR(rules.v[0], "a=off");
  CHECK_STR(rules.v[1], "b=error");
  CHECK_STR(rules.v[2], "c=info");
  cli_opts_free(&cmd);
  CHECK_INT(rules.n, 0);
  CHECK(rules.v == NULL);
}

TEST(a_repeated_value_replaces_the_earlier) {
  CHECK_INT(parse(&cmd, WORDS("--timeout", "1", "--timeout=2", "--name", "a", "--name", "b")), 0);
  CHECK_INT(timeout, 2);
  CHECK_STR(name, "b");
}

TEST(choices_and_callbacks) {
  CHECK_INT(parse(&cmd, WORDS("--mode", "DURABLE")), 0);
  CHECK_INT(mode, 2);
  CHECK_INT(parse(&cmd, WORDS("--mode=slow")), CLI_OPTS_USAGE);
  CHECK_STR(err_text, "vastrack: t: --mode: 'slow' is not one of fast, durable\n");
  CHECK_INT(parse(&cmd, WORDS("--call", "v1", "--ping")), 0);
  CHECK_INT(called, 2);
  CHECK(called_with == NULL); /* the flag form passes no value */
  CHECK_INT(parse(&cmd, WORDS("--call=bad")), CLI_OPTS_USAGE);
  CHECK_STR(err_text, "vastrack: t: --call: 'bad' refused\n");
  CHECK_INT(parse(&cmd, WORDS("--ping=1")), CLI_OPTS_USAGE);
}

TEST(help_is_generated_from_the_table) {
  CHECK_INT(parse(&cmd, WORDS("x", "--help", "--frob")), CLI_OPTS_HELP);
  CHECK_INT(cli_opts_exit(CLI_OPTS_HELP), CLI_OK);
  CHECK_INT(cli_opts_exit(CLI_OPTS_USAGE), CLI_USAGE);
  CHECK_STR(err_text, "");
  CHECK(!strncmp(out_text, "usage: vastrack t [options] FILE...\n\noptions:\n", 45));
  /* every option of the table, each once, in the table's order */
  const char *want[] = {
      "--json",   "--quiet",       "--timeout MS",    "--jobs N",        "--max-bytes N",
      "--rate R", "--tolerance S", "--name NAME",     "--rule ID=LEVEL", "--mode fast|durable",
      "--call X", "--ping",        "A heading line:", "-o FILE",         "-h, --help"};
  const char *at = out_text;
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const char *p = strstr(at, want[i]);
    if (!p) fprintf(stderr, "  missing or out of order: %s\n", want[i]);
    CHECK(p != NULL);
    at = p;
  }
  /* the help column is shared, continuation lines are indented to it */
  CHECK(strstr(out_text, "\n  --timeout MS      per request\n"
                         "                    (default 5000)\n"));
  CHECK(strstr(out_text, "\n  --rule ID=LEVEL   repeatable\n"));
  CHECK(strstr(out_text, "\n  --mode fast|durable  how\n")); /* longer than the column */
  CHECK(strstr(out_text, "\n  -h, --help        this text\n\nexit status: 0 ok\n"));
  CHECK_INT(parse(&cmd, WORDS("-h")), CLI_OPTS_HELP);
}

TEST(has_finds_an_option_before_the_end_of_options) {
  char *v1[] = {"t", "--db", "x", "--conformance", NULL};
  char *v2[] = {"t", "--", "--conformance", NULL};
  char *v3[] = {"t", "--conformance=s1", NULL};
  char *v4[] = {"t", "--conformance-x", NULL};
  CHECK_INT(cli_opts_has(4, v1, "conformance"), 1);
  CHECK_INT(cli_opts_has(3, v2, "conformance"), 0);
  CHECK_INT(cli_opts_has(2, v3, "conformance"), 1);
  CHECK_INT(cli_opts_has(2, v4, "conformance"), 0);
}

static const th_case cases[] = {TH(flags_and_values_both_spellings),
                                TH(operands_keep_their_order_among_options),
                                TH(doubles_and_ranges),
                                TH(bad_and_out_of_range_numbers),
                                TH(unknown_option_names_it_and_the_command),
                                TH(missing_value_and_value_given_to_a_flag),
                                TH(repeated_list_options_accumulate),
                                TH(a_repeated_value_replaces_the_earlier),
                                TH(choices_and_callbacks),
                                TH(help_is_generated_from_the_table),
                                TH(has_finds_an_option_before_the_end_of_options),
                                {0}};

int main(int argc, char **argv) {
  return th_main(__FILE__, cases, argc, argv);
}
