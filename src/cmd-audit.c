/*
 * cmd-audit.c: `vastrack audit`, one summary row per tag (vast_audit_doc) for
 * many tags: a terminal table, CSV or JSON. A DIR operand audits every *.xml
 * file below it. The options and the rule policy are shared with validate
 * (check.c).
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "check.h"
#include "opts.h"

typedef struct row {
  char *tag;
  vast_audit a;
} row;

typedef struct rows {
  row *r;
  size_t n, cap;
} rows;

static const char *const columns[] = {"tag",
                                      "version",
                                      "ad_type",
                                      "ads",
                                      "impressions",
                                      "events_present",
                                      "events_missing",
                                      "wrapper_hops",
                                      "ctv_compatible",
                                      "ctv_reason",
                                      "errors",
                                      "warnings",
                                      "issues"};
#define NCOL (sizeof columns / sizeof columns[0])
/* The same columns in JSON (camelCase, docs/json.md). */
static const char *const json_keys[NCOL] = {
    "tag",           "version",       "adType",      "ads",           "impressions",
    "eventsPresent", "eventsMissing", "wrapperHops", "ctvCompatible", "ctvReason",
    "errors",        "warnings",      "issues"};

/* Column c of a row as text in tmp (or a pointer into the row). */
static const char *cell(const row *r, size_t c, char *tmp, size_t cap) {
  const vast_audit *a = &r->a;
  switch (c) {
  case 0:
    return r->tag;
  case 1:
    return a->version;
  case 2:
    return a->ad_type ? a->ad_type : "";
  case 3:
    snprintf(tmp, cap, "%zu", a->ads);
    return tmp;
  case 4:
    snprintf(tmp, cap, "%zu", a->impressions);
    return tmp;
  case 5:
    return a->events_present;
  case 6:
    return a->events_missing;
  case 7:
    snprintf(tmp, cap, "%d", a->wrapper_hops);
    return tmp;
  case 8:
    return a->ctv_compatible ? "yes" : "no";
  case 9:
    return a->ctv_reason;
  case 10:
    snprintf(tmp, cap, "%zu", a->errors);
    return tmp;
  case 11:
    snprintf(tmp, cap, "%zu", a->warnings);
    return tmp;
  default:
    return a->issues;
  }
}

/* One CSV cell: RFC 4180 quoting, and text a spreadsheet would run as a
 * formula neutralised (tag names and messages come from the tags). */
static void csv_field(const char *s) {
  vast_csv_write_cell(s, cli_write_file, stdout);
}

/* "a b c" as ["a","b","c"]. */
static void json_words(const char *s) {
  putchar('[');
  int first = 1;
  while (*s) {
    size_t n = strcspn(s, " ");
    if (n) {
      char w[128];
      snprintf(w, sizeof w, "%.*s", (int)(n < 127 ? n : 127), s);
      if (!first) putchar(',');
      cli_json_str(stdout, w);
      first = 0;
    }
    s += n;
    while (*s == ' ')
      s++;
  }
  putchar(']');
}

/* "rule(3); other(1); ..." as [{"rule":"rule","count":3},...]; the "..." of a cut list is dropped.
 */
static void json_issues(const char *s) {
  putchar('[');
  int first = 1;
  while (*s) {
    size_t n = strcspn(s, ";");
    const char *open = memchr(s, '(', n);
    if (open) {
      char id[128];
      snprintf(id, sizeof id, "%.*s", (int)(open - s < 127 ? open - s : 127), s);
      fputs(first ? "{\"rule\":" : ",{\"rule\":", stdout);
      cli_json_str(stdout, id);
      printf(",\"count\":%ld}", strtol(open + 1, NULL, 10));
      first = 0;
    }
    s += n;
    while (*s == ';' || *s == ' ')
      s++;
  }
  putchar(']');
}

static void emit_row(const check_opts *o, const row *r, size_t index) {
  char tmp[32];
  if (o->csv) {
    for (size_t c = 0; c < NCOL; c++) {
      if (c) putchar(',');
      csv_field(cell(r, c, tmp, sizeof tmp));
    }
    fputs("\r\n", stdout);
  } else if (o->json) {
    fputs(index ? ",\n{" : "{", stdout);
    for (size_t c = 0; c < NCOL; c++) {
      printf("%s\"%s\":", c ? "," : "", json_keys[c]);
      switch (c) {
      case 3:
      case 4:
      case 7:
      case 10:
      case 11:
        fputs(cell(r, c, tmp, sizeof tmp), stdout);
        break;
      case 1: /* null when unknown */
        if (r->a.version[0])
          cli_json_str(stdout, r->a.version);
        else
          fputs("null", stdout);
        break;
      case 5:
        json_words(r->a.events_present);
        break;
      case 6:
        json_words(r->a.events_missing);
        break;
      case 8:
        fputs(r->a.ctv_compatible ? "true" : "false", stdout);
        break;
      case 9:
        if (r->a.ctv_reason[0])
          cli_json_str(stdout, r->a.ctv_reason);
        else
          fputs("null", stdout);
        break;
      case 12:
        json_issues(r->a.issues);
        break;
      default:
        cli_json_str(stdout, cell(r, c, tmp, sizeof tmp));
      }
    }
    putchar('}');
  }
}

/* --probe: the probe findings folded into the audit row (vastrack/probe.h). */
static vast_err probe_audit(check_opts *o, const char *name, const vast_doc *doc, vast_audit *a) {
  vast_findings *l = NULL;
  vast_err e = vast_validate_list(doc, &o->vo, &l);
  size_t from = vast_findings_count(l);
  if (e == VAST_OK) e = vast_probe_check(doc, strcmp(name, "-") ? name : NULL, &o->vo, &o->pco, l);
  if (e == VAST_OK) e = vast_audit_add_probe(a, l, from);
  vast_findings_free(l);
  return e;
}

static int audit_one(check_opts *o, const char *name, rows *rs, size_t *count, int *any_err) {
  char *buf = NULL;
  size_t len = 0;
  if (cli_read_input(name, &buf, &len) != 0) return -1;
  row r;
  memset(&r, 0, sizeof r);
  vast_doc *doc = NULL;
  vast_error perr;
  memset(&perr, 0, sizeof perr);
  vast_err e = vast_doc_parse(buf, len, NULL, &doc, &perr);
  if (e == VAST_OK) {
    o->vo.chain = check_resolve_input(o, name, buf, len, doc);
    e = vast_audit_doc(doc, &o->vo, &r.a);
    if (e == VAST_OK && o->probe) e = probe_audit(o, name, doc, &r.a);
    vast_chain_free((vast_chain *)o->vo.chain);
    o->vo.chain = NULL;
  } else if (e != VAST_E_NOMEM)
    vast_audit_parse_error(&perr, &r.a), e = VAST_OK;
  vast_doc_free(doc);
  free(buf);
  if (e != VAST_OK) {
    cli_error("cannot audit '%s': %s", name, vast_strerror(e));
    return -1;
  }
  if (r.a.errors) *any_err = 1;
  if (o->csv || o->json) {
    r.tag = (char *)name;
    emit_row(o, &r, (*count)++);
    return 0;
  }
  if (rs->n == rs->cap) {
    size_t cap = rs->cap ? rs->cap * 2 : 64;
    row *nr = realloc(rs->r, cap * sizeof *nr);
    if (!nr) return -1;
    rs->r = nr;
    rs->cap = cap;
  }
  r.tag = strdup(name);
  if (!r.tag) return -1;
  rs->r[rs->n++] = r;
  (*count)++;
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.xml file below dir, sorted, audited in turn. */
static int audit_dir(check_opts *o, const char *dir, rows *rs, size_t *count, int *any_err) {
  DIR *d = opendir(dir);
  if (!d) {
    cli_error("cannot open directory '%s'", dir);
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 32;
      char **nn = realloc(names, cap * sizeof *nn);
      if (!nn) break;
      names = nn;
    }
    size_t l = strlen(dir) + strlen(de->d_name) + 2;
    names[n] = malloc(l);
    if (!names[n]) break;
    snprintf(names[n], l, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", de->d_name);
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (stat(names[i], &st) == 0 && S_ISDIR(st.st_mode)) {
      if (audit_dir(o, names[i], rs, count, any_err) != 0) rc = -1;
    } else {
      size_t l = strlen(names[i]);
      if (l > 4 && strcasecmp(names[i] + l - 4, ".xml") == 0 &&
          audit_one(o, names[i], rs, count, any_err) != 0)
        rc = -1;
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

/*
 * The terminal table: the columns a person scans, fitted to 120 columns (the
 * tag is shortened from the left, issues cut at the right); events and the
 * full issue list are in --csv and --json.
 */
#define TABLE_WIDTH 120
static const size_t table_cols[] = {0, 1, 2, 3, 4, 7, 8, 10, 11, 12};
static const char *const table_heads[] = {"tag",  "version", "type",   "ads",      "imps",
                                          "hops", "ctv",     "errors", "warnings", "issues"};
#define NTAB (sizeof table_cols / sizeof table_cols[0])

static void print_table(const rows *rs) {
  size_t w[NTAB];
  char tmp[32];
  for (size_t c = 0; c < NTAB; c++)
    w[c] = strlen(table_heads[c]);
  for (size_t i = 0; i < rs->n; i++)
    for (size_t c = 0; c + 1 < NTAB; c++) {
      size_t l = vast_text_escape(cell(&rs->r[i], table_cols[c], tmp, sizeof tmp), NULL, 0);
      if (l > w[c]) w[c] = l;
    }
  size_t fixed = 0; /* everything but tag and issues, with the 2-space gaps */
  for (size_t c = 1; c + 1 < NTAB; c++)
    fixed += w[c] + 2;
  size_t room = TABLE_WIDTH - fixed - 2;       /* tag + issues */
  size_t tag_max = room > 52 ? room - 32 : 20; /* leave issues at least 30 */
  if (w[0] > tag_max) w[0] = tag_max;
  size_t iw = TABLE_WIDTH > fixed + w[0] + 2 ? TABLE_WIDTH - fixed - w[0] - 2 : 10;
  for (size_t c = 0; c + 1 < NTAB; c++)
    printf("%-*s  ", (int)w[c], table_heads[c]);
  printf("%s\n", table_heads[NTAB - 1]);
  for (size_t i = 0; i < rs->n; i++)
    for (size_t c = 0; c < NTAB; c++) {
      char safe[1200];
      vast_text_escape(cell(&rs->r[i], table_cols[c], tmp, sizeof tmp), safe, sizeof safe);
      const char *shown = *safe ? safe : "-";
      size_t l = strlen(shown);
      if (c == 0 && l > w[0]) /* keep the file name: cut the directories */
        printf("...%-*s  ", (int)w[0] - 3, shown + l - (w[0] - 3));
      else if (c + 1 < NTAB)
        printf("%-*s  ", (int)w[c], shown);
      else if (l > iw)
        printf("%.*s...\n", (int)(iw > 3 ? iw - 3 : 0), shown);
      else
        printf("%s\n", shown);
    }
}

int cmd_audit(int argc, char **argv) {
  check_opts o;
  int n = check_parse(argc, argv, &o, 1);
  if (n < 0) {
    check_free(&o);
    return cli_opts_exit(n);
  }
  rows rs = {0};
  size_t count = 0;
  int any_err = 0, io = 0;
  if (o.csv) {
    for (size_t c = 0; c < NCOL; c++)
      printf("%s%s", c ? "," : "", columns[c]);
    fputs("\r\n", stdout);
  } else if (o.json) {
    putchar('[');
  }
  for (int i = 1; i <= n; i++) {
    struct stat st;
    int rc;
    if (strcmp(argv[i], "-") != 0 && !cli_is_url(argv[i]) && stat(argv[i], &st) == 0 &&
        S_ISDIR(st.st_mode))
      rc = audit_dir(&o, argv[i], &rs, &count, &any_err);
    else
      rc = audit_one(&o, argv[i], &rs, &count, &any_err);
    if (rc != 0) io = 1;
  }
  if (o.json)
    fputs("]\n", stdout);
  else if (!o.csv)
    print_table(&rs);
  for (size_t i = 0; i < rs.n; i++)
    free(rs.r[i].tag);
  free(rs.r);
  fflush(stdout);
  check_free(&o);
  if (io) return CLI_FAIL;
  return any_err ? CLI_FINDINGS : CLI_OK;
}
