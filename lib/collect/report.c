/*
 * report.c: `vastrack report`, the counts of a collector database.
 *
 * Loads per (ad, event) counts from the rollup table (or from the raw hits
 * when --since falls inside a minute), the error codes of `error` hits, and
 * optionally delivery logs of `vastrack play --log`, and writes a funnel per
 * ad: impression -> start -> firstQuartile -> midpoint -> thirdQuartile ->
 * complete with each step's rate against impressions, the other events, the
 * error codes, and fired/answered/diff columns when a log was added.
 */
#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "base/jsonw.h"
#include "collect/collect-int.h"
#include "collect/wire.h"

typedef struct entry {
  char *ad, *event; /* event "error:CODE" rows hold error codes */
  uint64_t counted, fired, answered;
} entry;

struct vast_report {
  entry *e;
  size_t n, cap;
  size_t *tab; /* hash: index+1, 0 empty */
  size_t tcap;
  int have_fired, have_db;
  int64_t since_ms;
  vast__wire_map map; /* the collector's --map: query names of the ad id */
};

static uint64_t hash2(const char *a, const char *b) {
  uint64_t h = 1469598103934665603ull;
  for (; *a; a++)
    h = (h ^ (unsigned char)*a) * 1099511628211ull;
  h = (h ^ 0xff) * 1099511628211ull;
  for (; *b; b++)
    h = (h ^ (unsigned char)*b) * 1099511628211ull;
  return h;
}

static int rehash(vast_report *r, size_t ncap) {
  size_t *t = calloc(ncap, sizeof *t);
  if (!t) return -1;
  for (size_t i = 0; i < r->n; i++) {
    size_t k = (size_t)hash2(r->e[i].ad, r->e[i].event) & (ncap - 1);
    while (t[k])
      k = (k + 1) & (ncap - 1);
    t[k] = i + 1;
  }
  free(r->tab);
  r->tab = t;
  r->tcap = ncap;
  return 0;
}

/* The entry for (ad, event), created when create is set; NULL if none/OOM. */
static entry *get(vast_report *r, const char *ad, const char *event, int create) {
  if (r->tcap) {
    size_t k = (size_t)hash2(ad, event) & (r->tcap - 1);
    while (r->tab[k]) {
      entry *e = &r->e[r->tab[k] - 1];
      if (!strcmp(e->ad, ad) && !strcmp(e->event, event)) return e;
      k = (k + 1) & (r->tcap - 1);
    }
  }
  if (!create) return NULL;
  if ((r->n + 1) * 2 > r->tcap && rehash(r, r->tcap ? r->tcap * 2 : 64)) return NULL;
  if (r->n == r->cap) {
    size_t nc = r->cap ? r->cap * 2 : 32;
    entry *ne = realloc(r->e, nc * sizeof *ne);
    if (!ne) return NULL;
    r->e = ne;
    r->cap = nc;
  }
  entry *e = &r->e[r->n];
  memset(e, 0, sizeof *e);
  e->ad = strdup(ad);
  e->event = strdup(event);
  if (!e->ad || !e->event) {
    free(e->ad);
    free(e->event);
    return NULL;
  }
  r->n++;
  size_t k = (size_t)hash2(ad, event) & (r->tcap - 1);
  while (r->tab[k])
    k = (k + 1) & (r->tcap - 1);
  r->tab[k] = r->n;
  return e;
}

vast_err vast_report_new(vast_report **out) {
  *out = calloc(1, sizeof **out);
  return *out ? VAST_OK : VAST_E_NOMEM;
}

void vast_report_free(vast_report *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n; i++) {
    free(r->e[i].ad);
    free(r->e[i].event);
  }
  free(r->e);
  free(r->tab);
  free(r);
}

static vast_err run_query(vast_report *r, sqlite3 *db, const char *sql, int64_t arg, int errors,
                          vast_error *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    vast__error_set(err, VAST_E_DB, 0, "not a collector database: %s", sqlite3_errmsg(db));
    return VAST_E_DB;
  }
  sqlite3_bind_int64(st, 1, arg);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *ad = (const char *)sqlite3_column_text(st, 0);
    char ev[64];
    if (errors) {
      if (sqlite3_column_type(st, 1) == SQLITE_NULL)
        snprintf(ev, sizeof ev, "error:none");
      else
        snprintf(ev, sizeof ev, "error:%lld", (long long)sqlite3_column_int64(st, 1));
    } else {
      snprintf(ev, sizeof ev, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    entry *e = get(r, ad ? ad : "", ev, 1);
    if (!e) {
      sqlite3_finalize(st);
      return VAST_E_NOMEM;
    }
    e->counted += (uint64_t)sqlite3_column_int64(st, 2);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    vast__error_set(err, VAST_E_DB, 0, "%s", sqlite3_errmsg(db));
    return VAST_E_DB;
  }
  return VAST_OK;
}

vast_err vast_report_load(const char *db_path, int64_t since_ms, vast_report **out,
                          vast_error *err) {
  *out = NULL;
  vast_report *r;
  if (vast_report_new(&r)) return VAST_E_NOMEM;
  r->have_db = 1;
  r->since_ms = since_ms;
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    vast__error_set(err, VAST_E_DB, 0, "cannot open '%s': %s", db_path,
                    db ? sqlite3_errmsg(db) : "no memory");
    sqlite3_close(db);
    vast_report_free(r);
    return VAST_E_DB;
  }
  sqlite3_busy_timeout(db, 5000);
  vast_err e;
  if (since_ms % 60000 == 0)
    e = run_query(r, db,
                  "SELECT ad, event, SUM(n) FROM rollup WHERE minute >= ?1 "
                  "GROUP BY ad, event",
                  since_ms / 60000, 0, err);
  else
    e = run_query(r, db,
                  "SELECT COALESCE(ad,''), event, COUNT(*) FROM hits WHERE t_ms >= ?1 "
                  "GROUP BY 1, 2",
                  since_ms, 0, err);
  if (e == VAST_OK)
    e = run_query(r, db,
                  "SELECT COALESCE(ad,''), code, COUNT(*) FROM hits "
                  "WHERE event = 'error' AND t_ms >= ?1 GROUP BY 1, 2",
                  since_ms, 1, err);
  sqlite3_close(db);
  if (e != VAST_OK) {
    vast_report_free(r);
    return e;
  }
  *out = r;
  return VAST_OK;
}

/* ---- the fired log ---- */

/*
 * Picks "url" and "status" out of one line of a delivery log (JSON lines,
 * read with jansson). Returns 0 when the line is an object with a non-empty
 * string url; status is 0 when absent or not an integer.
 */
static int parse_fired_line(const char *line, char *url, size_t cap, long *status) {
  *status = 0;
  url[0] = 0;
  json_t *o = json_loads(line, JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, NULL);
  if (!json_is_object(o)) {
    json_decref(o);
    return -1;
  }
  json_t *u = json_object_get(o, "url"), *st = json_object_get(o, "status");
  if (json_is_string(u)) snprintf(url, cap, "%s", json_string_value(u));
  if (json_is_integer(st)) *status = (long)json_integer_value(st);
  json_decref(o);
  return url[0] ? 0 : -1;
}

vast_err vast_report_set_map(vast_report *r, const char *map, vast_error *err) {
  vast__wire_map m;
  if (vast__wire_map_parse(map, &m) != 0)
    return vast__error_set(err, VAST_E_INVAL, 0,
                           "invalid parameter map '%s' (want " VAST__WIRE_MAP_SYNTAX ")", map);
  r->map = m;
  return VAST_OK;
}

vast_err vast_report_add_fired(vast_report *r, const char *log_path, size_t *lines_used,
                               vast_error *err) {
  if (lines_used) *lines_used = 0;
  FILE *f = fopen(log_path, "r");
  if (!f) {
    return vast__error_set(err, VAST_E_IO, 0, "cannot open '%s': %s", log_path, strerror(errno));
  }
  r->have_fired = 1;
  char *line = NULL;
  size_t lcap = 0;
  ssize_t n;
  size_t used = 0;
  char url[8192], ad[1024], ev[64];
  vast_err rc = VAST_OK;
  while ((n = getline(&line, &lcap, f)) > 0) {
    long status;
    if (parse_fired_line(line, url, sizeof url, &status)) continue;
    if (vast__wire_parse_url(&r->map, url, ev, sizeof ev, ad, sizeof ad)) continue;
    entry *e = get(r, ad, ev, 1);
    if (!e) {
      rc = VAST_E_NOMEM;
      break;
    }
    e->fired++;
    if (status >= 200 && status <= 299) e->answered++;
    used++;
  }
  free(line);
  fclose(f);
  if (lines_used) *lines_used = used;
  return rc;
}

vast_err vast_report_count(const vast_report *r, const char *ad, const char *event,
                           uint64_t *counted, uint64_t *fired, uint64_t *answered) {
  entry *e = get((vast_report *)r, ad ? ad : "", event, 0);
  if (counted) *counted = e ? e->counted : 0;
  if (fired) *fired = e ? e->fired : 0;
  if (answered) *answered = e ? e->answered : 0;
  return e ? VAST_OK : VAST_E_NOT_FOUND;
}

/* ---- output ---- */

typedef struct out {
  vast_write_fn fn;
  void *ctx;
  int failed;
} out;

static void emit(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void emit(out *o, const char *fmt, ...) {
  if (o->failed) return;
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
  if (o->fn(o->ctx, buf, (size_t)n) != 0) o->failed = 1;
}

/* One CSV cell of received text: quoted as needed, never a formula. */
static void emit_csv_str(out *o, const char *s) {
  if (!o->failed && vast_csv_write_cell(s, o->fn, o->ctx) != VAST_OK) o->failed = 1;
}

/* Received text for the terminal: control characters escaped (\xNN). */
static const char *safe(const char *s, char *buf, size_t cap) {
  vast_text_escape(s, buf, cap);
  return buf;
}

/* qsort_r (glibc): the report is the comparison's context, so concurrent writers of
 * different reports never share state. */
static int cmp_entry(const void *a, const void *b, void *ctx) {
  const vast_report *r = ctx;
  const entry *x = &r->e[*(const size_t *)a], *y = &r->e[*(const size_t *)b];
  int c = strcmp(x->ad, y->ad);
  if (c) return c;
  int fx = vast__wire_funnel_step(x->event), fy = vast__wire_funnel_step(y->event);
  int ex = !strncmp(x->event, "error:", 6), ey = !strncmp(y->event, "error:", 6);
  /* funnel steps first, in order; then other events; then error codes */
  int kx = fx >= 0 ? 0 : ex ? 2 : 1, ky = fy >= 0 ? 0 : ey ? 2 : 1;
  if (kx != ky) return kx - ky;
  if (kx == 0) return fx - fy;
  return strcmp(x->event, y->event);
}

vast_err vast_report_write(const vast_report *r, vast_report_format fmt, vast_write_fn write,
                           void *ctx) {
  out o = {write, ctx, 0};
  size_t *idx = malloc((r->n ? r->n : 1) * sizeof *idx);
  if (!idx) return VAST_E_NOMEM;
  for (size_t i = 0; i < r->n; i++)
    idx[i] = i;
  qsort_r(idx, r->n, sizeof *idx, cmp_entry, (void *)r);
  int fired = r->have_fired;

  /* JSON goes through the library's one writer (jsonw.h): invalid UTF-8 from a
     beacon's query string (ad=%FF) becomes U+FFFD, never invalid JSON. */
  vast__jw w;
  vast__jw_init(&w, write, ctx);
  if (fmt == VAST_REPORT_CSV) {
    emit(&o, "ad,event,counted,fired,answered,diff,rate\n");
  } else if (fmt == VAST_REPORT_JSON) {
    vast__jw_obj_begin(&w);
    vast__jw_kint(&w, "sinceMs", (long long)r->since_ms);
    vast__jw_kbool_opt(&w, "firedLog", fired != 0);
    vast__jw_key(&w, "ads");
    vast__jw_arr_begin(&w);
  }

  size_t i = 0;
  int first_ad = 1;
  while (i < r->n) {
    const char *ad = r->e[idx[i]].ad;
    size_t j = i;
    while (j < r->n && !strcmp(r->e[idx[j]].ad, ad))
      j++;
    /* impressions: the base of every rate */
    uint64_t imp = 0;
    const entry *ie = get((vast_report *)r, ad, "impression", 0);
    if (ie) imp = ie->counted;

    if (fmt == VAST_REPORT_TEXT) {
      char sad[2048];
      emit(&o, "%sad %s\n", first_ad ? "" : "\n", ad[0] ? safe(ad, sad, sizeof sad) : "(none)");
      emit(&o, "  %-22s %10s %8s", "event", "counted", "rate");
      if (fired) emit(&o, " %10s %10s %8s", "fired", "answered", "diff");
      emit(&o, "\n");
    } else if (fmt == VAST_REPORT_JSON) {
      vast__jw_obj_begin(&w);
      vast__jw_kstr(&w, "ad", ad);
      vast__jw_key(&w, "impressions");
      vast__jw_uint(&w, imp);
      vast__jw_key(&w, "events");
      vast__jw_arr_begin(&w);
    }
    first_ad = 0;
    /* funnel rows always (zeros included), then what the ad has */
    int shown[VAST__WIRE_FUNNEL_N] = {0};
    for (int pass = 0; pass < 2; pass++) {
      size_t count = pass == 0 ? VAST__WIRE_FUNNEL_N : j - i;
      for (size_t k = 0; k < count; k++) {
        const entry *e;
        entry zero = {0};
        const char *name;
        if (pass == 0) {
          name = vast__wire_funnel[k];
          e = get((vast_report *)r, ad, name, 0);
          shown[k] = 1;
          if (!e) {
            zero.event = (char *)name;
            e = &zero;
          }
        } else {
          e = &r->e[idx[i + k]];
          name = e->event;
          if (vast__wire_funnel_step(name) >= 0) continue;
        }
        int is_err = !strncmp(name, "error:", 6);
        int64_t diff = (int64_t)e->counted - (int64_t)e->fired;
        double rate = imp ? (double)e->counted / (double)imp : -1;
        int in_funnel = pass == 0;
        if (fmt == VAST_REPORT_TEXT) {
          char label[300], sname[256];
          snprintf(label, sizeof label, "%s%s", is_err ? "error code " : "",
                   safe(is_err ? name + 6 : name, sname, sizeof sname));
          emit(&o, "  %-22s %10llu", label, (unsigned long long)e->counted);
          if (in_funnel && rate >= 0)
            emit(&o, " %7.1f%%", rate * 100);
          else
            emit(&o, " %8s", "");
          if (fired && !is_err)
            emit(&o, " %10llu %10llu %+8lld", (unsigned long long)e->fired,
                 (unsigned long long)e->answered, (long long)diff);
          emit(&o, "\n");
        } else if (fmt == VAST_REPORT_CSV) {
          emit_csv_str(&o, ad);
          emit(&o, ",");
          emit_csv_str(&o, name);
          emit(&o, ",%llu,%llu,%llu,%lld,", (unsigned long long)e->counted,
               (unsigned long long)e->fired, (unsigned long long)e->answered, (long long)diff);
          if (rate >= 0) emit(&o, "%.4f", rate);
          emit(&o, "\n");
        } else {
          vast__jw_obj_begin(&w);
          vast__jw_kstr(&w, "event", is_err ? "error" : name);
          vast__jw_key(&w, "code");
          const char *cd = is_err ? name + 6 : "";
          if (!is_err || !strcmp(cd, "none") || !*cd) /* a number, null for "none" */
            vast__jw_null(&w);
          else if (strspn(cd, "0123456789") == strlen(cd) && strlen(cd) < 10 &&
                   (cd[0] != '0' || !cd[1]))
            vast__jw_value(&w, cd, strlen(cd));
          else /* the text as sent */
            vast__jw_str(&w, cd);
          vast__jw_kbool_opt(&w, "funnel", in_funnel);
          vast__jw_key(&w, "counted");
          vast__jw_uint(&w, e->counted);
          vast__jw_key(&w, "rate");
          if (rate >= 0) {
            char num[32];
            vast__jw_value(&w, num, (size_t)snprintf(num, sizeof num, "%.4f", rate));
          } else {
            vast__jw_null(&w);
          }
          if (fired && !is_err) {
            vast__jw_key(&w, "fired");
            vast__jw_uint(&w, e->fired);
            vast__jw_key(&w, "answered");
            vast__jw_uint(&w, e->answered);
            vast__jw_kint(&w, "diff", (long long)diff);
          } else { /* no fired log, or an error row: null, never left out */
            vast__jw_key(&w, "fired");
            vast__jw_null(&w);
            vast__jw_key(&w, "answered");
            vast__jw_null(&w);
            vast__jw_key(&w, "diff");
            vast__jw_null(&w);
          }
          vast__jw_obj_end(&w);
        }
      }
    }
    (void)shown;
    if (fmt == VAST_REPORT_JSON) {
      vast__jw_arr_end(&w);
      vast__jw_obj_end(&w);
    }
    i = j;
  }
  if (fmt == VAST_REPORT_JSON) {
    vast__jw_arr_end(&w);
    vast__jw_obj_end(&w);
    vast__jw_raw(&w, "\n", 1);
    if (vast__jw_finish(&w)) o.failed = 1;
  } else if (fmt == VAST_REPORT_TEXT && r->n == 0) {
    emit(&o, "no hits\n");
  }
  free(idx);
  return o.failed ? VAST_E_IO : VAST_OK;
}

/* ---- --since ---- */

vast_err vast_parse_since(const char *s, int64_t now_ms, int64_t *out_ms) {
  if (!s || !*s) return VAST_E_INVAL;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (end != s && v >= 0) {
    if (!*end) {
      *out_ms = (int64_t)v * 1000;
      return VAST_OK;
    }
    if (!end[1]) {
      long long mul = end[0] == 's'   ? 1
                      : end[0] == 'm' ? 60
                      : end[0] == 'h' ? 3600
                      : end[0] == 'd' ? 86400
                                      : 0;
      if (mul) {
        *out_ms = now_ms - (int64_t)(v * mul * 1000);
        return VAST_OK;
      }
    }
  }
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *rest = strptime(s, "%Y-%m-%d", &tm);
  if (!rest) return VAST_E_INVAL;
  if (*rest == 'T' || *rest == ' ') {
    rest = strptime(rest + 1, "%H:%M", &tm);
    if (!rest) return VAST_E_INVAL;
    if (*rest == ':') {
      rest = strptime(rest + 1, "%S", &tm);
      if (!rest) return VAST_E_INVAL;
    }
  }
  if (*rest == 'Z') rest++;
  if (*rest) return VAST_E_INVAL;
  *out_ms = (int64_t)timegm(&tm) * 1000;
  return VAST_OK;
}
