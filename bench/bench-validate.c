/*
 * bench-validate.c: tags per second for parse + validate over the shared
 * corpus, against parse alone in the same run (the peer figure). The target is
 * a ratio of at least 0.90: validation costs less than a tenth of parsing.
 * Also reports validate alone over pre-parsed documents. One JSON line each.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "vastrack.h"

typedef struct file {
  char *buf;
  size_t len;
} file;

static file *files;
static size_t nfiles;

static void load(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    struct stat st;
    if (stat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      load(path);
      continue;
    }
    size_t l = strlen(de->d_name);
    if (l < 5 || strcmp(de->d_name + l - 4, ".xml") != 0) continue;
    FILE *f = fopen(path, "rb");
    if (!f) continue;
    char *b = malloc((size_t)st.st_size + 1);
    size_t n = b ? fread(b, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    vast_doc *doc = NULL;
    if (!b || vast_doc_parse(b, n, NULL, &doc, NULL) != VAST_OK) { /* only tags that parse */
      free(b);
      continue;
    }
    vast_doc_free(doc);
    files = realloc(files, (nfiles + 1) * sizeof *files);
    files[nfiles].buf = b;
    files[nfiles].len = n;
    nfiles++;
  }
  closedir(d);
}

/*
 * The clock: this thread's CPU time, not the wall clock. The machine the
 * benchmark runs on is shared (two cores, several builds and test runs): with
 * the wall clock, time other processes take from this one lands on whichever
 * side happened to be running and the ratio swung between 0.78 and 1.08 from
 * one run to the next. CPU time counts only this thread's work.
 */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t sink;

static int count_cb(void *ctx, const vast_finding *f) {
  (void)f;
  (*(size_t *)ctx)++;
  return 0;
}

/* Tags per second over `secs` seconds; validate=1 adds vast_validate. */
static double run(int validate, double secs) {
  size_t tags = 0;
  double t0 = now(), t;
  do {
    for (size_t i = 0; i < nfiles; i++) {
      vast_doc *doc = NULL;
      if (vast_doc_parse(files[i].buf, files[i].len, NULL, &doc, NULL) == VAST_OK) {
        if (validate) vast_validate(doc, NULL, count_cb, &sink);
        vast_doc_free(doc);
      }
      tags++;
    }
    t = now();
  } while (t - t0 < secs);
  return tags / (t - t0);
}

int main(void) {
  const char *c = getenv("VASTRACK_CORPUS");
  load(c && *c ? c : "../shared/corpus");
  if (!nfiles) {
    printf("{\"bench\":\"validate\",\"error\":\"no parseable corpus files\"}\n");
    return 1;
  }
  /* Alternate many short runs of the two loads (order flipped every round) and
   * keep the best of each: a burst of machine noise costs one short run of one
   * side, not the whole figure, and slow drift hits both sides alike. */
  double parse = 0, both = 0;
  for (int r = 0; r < 16; r++) {
    double p, v;
    if (r & 1)
      v = run(1, 0.1), p = run(0, 0.1);
    else
      p = run(0, 0.1), v = run(1, 0.1);
    if (p > parse) parse = p;
    if (v > both) both = v;
  }
  vast_doc **docs = calloc(nfiles, sizeof *docs);
  for (size_t i = 0; i < nfiles; i++)
    vast_doc_parse(files[i].buf, files[i].len, NULL, &docs[i], NULL);
  size_t tags = 0;
  double t0 = now(), t;
  do {
    for (size_t i = 0; i < nfiles; i++)
      vast_validate(docs[i], NULL, count_cb, &sink);
    tags += nfiles;
    t = now();
  } while (t - t0 < 0.5);
  double vonly = tags / (t - t0);
  size_t bytes = 0;
  for (size_t i = 0; i < nfiles; i++)
    bytes += files[i].len;
  printf("{\"bench\":\"validate\",\"metric\":\"tags_per_s\",\"files\":%zu,\"bytes\":%zu,"
         "\"parse_only\":%.0f,\"parse_validate\":%.0f,\"ratio\":%.3f,\"target_ratio\":0.90,"
         "\"meets_target\":%s,\"clock\":\"thread_cpu\"}\n",
         nfiles, bytes, parse, both, both / parse, both / parse >= 0.90 ? "true" : "false");
  printf(
      "{\"bench\":\"validate_only\",\"metric\":\"tags_per_s\",\"files\":%zu,\"validate_only\":%.0f,"
      "\"parse_only\":%.0f,\"ratio_validate_to_parse_cost\":%.3f}\n",
      nfiles, vonly, parse, parse / vonly);
  for (size_t i = 0; i < nfiles; i++) {
    vast_doc_free(docs[i]);
    free(files[i].buf);
  }
  free(docs);
  free(files);
  return 0;
}
