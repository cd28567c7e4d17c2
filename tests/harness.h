/*
 * harness.h: the unit-test harness. Each test file lists its cases in a table
 * and calls th_main(); every case runs in its own forked process so a crash or
 * sanitizer report fails that case only. Output is one line per case,
 * "ok - file: name" or "not ok - file: name", which tests/run.sh counts.
 *
 *   TEST(parses_minimal) { CHECK(x == 1); CHECK_STR(a, "b"); }
 *   static const th_case cases[] = { TH(parses_minimal), {0} };
 *   int main(int c, char **v) { return th_main(__FILE__, cases, c, v); }
 */
#ifndef VASTRACK_TEST_HARNESS_H
#define VASTRACK_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct th_case {
  const char *name;
  void (*fn)(void);
} th_case;

#define TEST(name) static void name(void)
#define TH(name)                                                                                   \
  { #name, name }

static int th__checks;

static inline void th_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, what);
  fflush(stderr);
  _exit(1);
}

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    th__checks++;                                                                                  \
    if (!(cond)) th_fail(__FILE__, __LINE__, #cond);                                               \
  } while (0)

#define CHECK_INT(a, b)                                                                            \
  do {                                                                                             \
    long long th_a = (long long)(a), th_b = (long long)(b);                                        \
    th__checks++;                                                                                  \
    if (th_a != th_b) {                                                                            \
      fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, th_a, th_b); \
      _exit(1);                                                                                    \
    }                                                                                              \
  } while (0)

#define CHECK_STR(a, b)                                                                            \
  do {                                                                                             \
    const char *th_a = (a), *th_b = (b);                                                           \
    th__checks++;                                                                                  \
    if (!th_a || !th_b || strcmp(th_a, th_b) != 0) {                                               \
      fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,          \
              th_a ? th_a : "(null)", th_b ? th_b : "(null)");                                     \
      _exit(1);                                                                                    \
    }                                                                                              \
  } while (0)

#define CHECK_NEAR(a, b, eps)                                                                      \
  do {                                                                                             \
    double th_a = (a), th_b = (b);                                                                 \
    th__checks++;                                                                                  \
    if (!(th_a - th_b <= (eps) && th_b - th_a <= (eps))) {                                         \
      fprintf(stderr, "  %s:%d: %s == %g, expected %g\n", __FILE__, __LINE__, #a, th_a, th_b);     \
      _exit(1);                                                                                    \
    }                                                                                              \
  } while (0)

/* Reads a whole file into a malloc'd buffer; aborts the case on failure. */
static inline char *th_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "  cannot open '%s'\n", path);
    _exit(1);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) _exit(1);
  b[n] = 0;
  fclose(f);
  if (len) *len = (size_t)n;
  return b;
}

/* Path of the shared corpus, from VASTRACK_CORPUS or ../shared/corpus. */
static inline const char *th_corpus(void) {
  const char *c = getenv("VASTRACK_CORPUS");
  return c && *c ? c : "../shared/corpus";
}

/*
 * Runs every case (or only those named on the command line) in a child
 * process. A case passes when it exits 0 having made at least one check.
 */
static inline int th_main(const char *file, const th_case *cases, int argc, char **argv) {
  int failed = 0;
  const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
  for (const th_case *c = cases; c->name; c++) {
    if (argc > 1) {
      int want = 0;
      for (int i = 1; i < argc; i++)
        want |= strcmp(argv[i], c->name) == 0;
      if (!want) continue;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      th__checks = 0;
      c->fn();
      if (th__checks == 0) {
        fprintf(stderr, "  %s: made no checks\n", c->name);
        _exit(1);
      }
      _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!ok) failed++;
    printf("%s - %s: %s\n", ok ? "ok" : "not ok", base, c->name);
    if (!ok && WIFSIGNALED(st)) printf("#   killed by signal %d\n", WTERMSIG(st));
  }
  return failed ? 1 : 0;
}

#endif
