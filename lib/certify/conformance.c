/*
 * conformance.c: the conformance report of one session (vast_conformance_run).
 *
 * Reads the session's hits from a collector database: the "served" records of
 * the test ad server (what the player was given: duration, skip offset, pod,
 * wrapper levels, the failure asked for) and the player's beacons (arrival
 * time, event, ad, chain level lv=, the macros it expanded, device headers).
 * From the beacons alone it derives the player's media timeline per ad: the
 * start, the pauses (pause..resume), how far the ad got (complete, the
 * ADPLAYHEAD values it sent, the time played). Then it applies the rules of
 * docs/conformance.md, each a short function below, and keeps the findings.
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "certify/certify-int.h"
#include "base/jsonw.h"

typedef struct chit {
  long long t; /* arrival, ms since the epoch */
  char *event, *ad, *query, *device_ip, *device_ua, *device;
  int code; /* -1: none */
  int lv;   /* chain level (lv=), 0 when absent */
  long ph;  /* ADPLAYHEAD sent (ms), -1 when absent or not expanded */
} chit;

typedef struct cad {
  char id[64];
  int served;  /* a served InLine named it */
  long dur_ms; /* -1: unknown */
  long skip_ms;
  int maxlv;      /* deepest level served (its InLine), -1 unknown */
  int expect_err; /* a served failure: the code expected, else 0 */
  /* derived timeline */
  long long t_start;   /* first start, -1 none */
  long long paused_ms; /* total paused (pause..resume) */
  long reached_ms;     /* how far the ad got, -1 unknown */
  int played;          /* any beacon for it */
} cad;

struct vast_conformance {
  char session[80];
  vast_conformance_opts o;
  chit *h;
  size_t nh;
  cad *ads;
  size_t nads;
  vast_conformance_finding *f;
  size_t nf, fcap;
  int served_tags;
};

void vast_conformance_opts_init(vast_conformance_opts *o) {
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->early_tol_ms = 300;
  o->late_tol_ms = 2000;
  o->order_tol_ms = 100;
  o->spread_ms = 1000;
}

static char *dupz(const unsigned char *s) {
  return s ? strdup((const char *)s) : NULL;
}

/* Adds a finding unless the same (rule, ad, event, level) is there. */
static void add(vast_conformance *r, const char *rule, const char *ad, const char *event, int lv,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void add(vast_conformance *r, const char *rule, const char *ad, const char *event, int lv,
                const char *fmt, ...) {
  for (size_t i = 0; i < r->nf; i++)
    if (!strcmp(r->f[i].rule, rule) && !strcmp(r->f[i].ad, ad ? ad : "") &&
        !strcmp(r->f[i].event, event) && r->f[i].level == lv &&
        strcmp(rule, "unexpanded-macro") != 0)
      return;
  if (r->nf == r->fcap) {
    size_t nc = r->fcap ? r->fcap * 2 : 16;
    vast_conformance_finding *nf = realloc(r->f, nc * sizeof *nf);
    if (!nf) return;
    r->f = nf;
    r->fcap = nc;
  }
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  vast_conformance_finding *x = &r->f[r->nf];
  x->rule = rule;
  x->ad = strdup(ad ? ad : "");
  x->event = strdup(event);
  x->level = lv;
  x->message = strdup(msg);
  if (!x->ad || !x->event || !x->message) {
    free((char *)x->ad);
    free((char *)x->event);
    free((char *)x->message);
    return;
  }
  r->nf++;
}

/* "HH:MM:SS.mmm" (or "HH:MM:SS") to ms; -1 otherwise. */
static long timecode_ms(const char *s) {
  unsigned h, m, sec, ms = 0;
  int n = 0;
  if (sscanf(s, "%u:%u:%u%n", &h, &m, &sec, &n) != 3) return -1;
  if (s[n] == '.') {
    const char *p = s + n + 1;
    unsigned scale = 100;
    for (; *p >= '0' && *p <= '9'; p++) {
      ms += (unsigned)(*p - '0') * scale;
      scale /= 10;
    }
    if (*p) return -1;
  } else if (s[n]) {
    return -1;
  }
  return (long)h * 3600000 + (long)m * 60000 + (long)sec * 1000 + (long)ms;
}

static cad *ad_get(vast_conformance *r, const char *id) {
  for (size_t i = 0; i < r->nads; i++)
    if (!strcmp(r->ads[i].id, id)) return &r->ads[i];
  cad *na = realloc(r->ads, (r->nads + 1) * sizeof *na);
  if (!na) return NULL;
  r->ads = na;
  cad *a = &r->ads[r->nads++];
  memset(a, 0, sizeof *a);
  snprintf(a->id, sizeof a->id, "%s", id);
  a->dur_ms = a->skip_ms = a->reached_ms = -1;
  a->maxlv = -1;
  a->t_start = -1;
  return a;
}

/* What the served records say: per ad, duration, skip offset, levels, failure. */
static void load_served(vast_conformance *r) {
  for (size_t i = 0; i < r->nh; i++) {
    chit *h = &r->h[i];
    if (strcmp(h->event, "served") || !h->query) continue;
    char kind[8];
    vast__query_get(h->query, strlen(h->query), "kind", kind, sizeof kind);
    if (strcmp(kind, "vast")) continue;
    r->served_tags++;
    vast__adspec s;
    char msg[160];
    if (vast__adspec_parse(h->query, strlen(h->query), &s, msg, sizeof msg)) continue;
    if (s.wrapper > 0) continue; /* a hop: the InLine (or failure) behind it says more */
    for (int k = 1; k <= (s.fail ? 1 : s.pod); k++) {
      char id[64];
      vast__adspec_ad_id(&s, k, id, sizeof id);
      cad *a = ad_get(r, id);
      if (!a) return;
      a->served = 1;
      a->dur_ms = s.dur_ms;
      a->skip_ms = s.skip_ms;
      a->maxlv = s.fail == VAST__FAIL_NOAD ? s.lv : s.fail ? s.lv - 1 : s.lv;
      a->expect_err = vast__adspec_expected_error(&s);
    }
  }
}

static int is(const char *a, const char *b) {
  return !strcmp(a, b);
}

static const char *const QUARTS[3] = {"firstQuartile", "midpoint", "thirdQuartile"};
static const char *const ORDER[5] = {"start", "firstQuartile", "midpoint", "thirdQuartile",
                                     "complete"};
/* Fired at most once per ad and level. */
static const char *const ONCE[] = {"impression",    "creativeView", "loaded",        "start",
                                   "firstQuartile", "midpoint",     "thirdQuartile", "complete",
                                   "skip",          "closeLinear"};
/* Events of the linear ad's life: none may follow its end. */
static const char *const LINEAR[] = {
    "impression",  "creativeView",  "loaded",         "start",      "firstQuartile",
    "midpoint",    "thirdQuartile", "complete",       "progress",   "pause",
    "resume",      "mute",          "unmute",         "rewind",     "skip",
    "closeLinear", "playerExpand",  "playerCollapse", "fullscreen", "exitFullscreen"};

static int in(const char *e, const char *const *set, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (is(e, set[i])) return 1;
  return 0;
}

/* First arrival of event for ad at level (lv < 0: any level); -1 if none. */
static long long first_at(const vast_conformance *r, const char *ad, const char *ev, int lv) {
  for (size_t i = 0; i < r->nh; i++) {
    const chit *h = &r->h[i];
    if (h->ad && is(h->ad, ad) && is(h->event, ev) && (lv < 0 || h->lv == lv)) return h->t;
  }
  return -1;
}

static int count_at(const vast_conformance *r, const char *ad, const char *ev, int lv) {
  int n = 0;
  for (size_t i = 0; i < r->nh; i++) {
    const chit *h = &r->h[i];
    if (h->ad && is(h->ad, ad) && is(h->event, ev) && h->lv == lv) n++;
  }
  return n;
}

/* Time played between the start and t: wall time less the pauses before t. */
static long long active_ms(const vast_conformance *r, const cad *a, long long t) {
  if (a->t_start < 0) return -1;
  long long paused = 0, since = -1;
  for (size_t i = 0; i < r->nh && r->h[i].t <= t; i++) {
    const chit *h = &r->h[i];
    if (!h->ad || !is(h->ad, a->id) || h->t < a->t_start) continue;
    if (is(h->event, "pause") && since < 0)
      since = h->t;
    else if (is(h->event, "resume") && since >= 0)
      paused += h->t - since, since = -1;
  }
  if (since >= 0) paused += t - since;
  return t - a->t_start - paused;
}

/* The levels at which ad has beacons, as a bit set; plus the served ones. */
static unsigned levels_of(const vast_conformance *r, const cad *a) {
  unsigned m = 0;
  for (int l = 0; l <= a->maxlv && l < 16; l++)
    m |= 1u << l;
  for (size_t i = 0; i < r->nh; i++)
    if (r->h[i].ad && is(r->h[i].ad, a->id) && r->h[i].lv >= 0 && r->h[i].lv < 16)
      m |= 1u << r->h[i].lv;
  return m;
}

/* A tapped ad (no served record): Duration and skipoffset from the d= and so=
   the tap wrote into its URLs (tap.c), the deepest level seen. */
static void tapped_spec(vast_conformance *r, cad *a) {
  for (size_t i = 0; i < r->nh; i++) {
    const chit *h = &r->h[i];
    if (!h->ad || !is(h->ad, a->id) || !h->query) continue;
    /* only the tap's own parameters, before u= */
    const char *u = strstr(h->query, "&u=");
    size_t qn = u ? (size_t)(u - h->query) : strlen(h->query);
    char v[32];
    if (vast__query_get(h->query, qn, "d", v, sizeof v) && atol(v) > 0) a->dur_ms = atol(v);
    if (vast__query_get(h->query, qn, "so", v, sizeof v) && atol(v) >= 0) a->skip_ms = atol(v);
  }
}

/* The timeline the beacons show: start, pauses, how far the ad got. */
static void derive(vast_conformance *r, cad *a) {
  a->t_start = first_at(r, a->id, "start", -1);
  long reached = -1;
  long long last = -1;
  int complete = 0;
  for (size_t i = 0; i < r->nh; i++) {
    const chit *h = &r->h[i];
    if (!h->ad || !is(h->ad, a->id) || is(h->event, "served")) continue;
    a->played = 1;
    if (!in(h->event, LINEAR, sizeof LINEAR / sizeof *LINEAR)) continue;
    if (h->ph > reached) reached = h->ph;
    if (h->t > last) last = h->t;
    if (is(h->event, "complete")) complete = 1;
  }
  if (a->t_start >= 0 && last >= 0) {
    long long act = active_ms(r, a, last);
    if (act > reached) reached = (long)act;
    a->paused_ms = last - a->t_start - act;
  }
  if (a->dur_ms >= 0 && (complete || reached > a->dur_ms)) reached = a->dur_ms;
  a->reached_ms = reached;
}

static void rule_missing(vast_conformance *r, cad *a, unsigned lvs) {
  int complete = first_at(r, a->id, "complete", -1) >= 0;
  int any_play = a->t_start >= 0 || complete;
  for (int q = 0; q < 3; q++)
    any_play |= first_at(r, a->id, QUARTS[q], -1) >= 0;
  if (!any_play) {
    if (a->expect_err) {
      for (int l = 0; l < 16; l++)
        if ((lvs >> l & 1) && first_at(r, a->id, "error", l) < 0)
          add(r, "missing", a->id, "error", l,
              "no Error beacon: the tag failed (%d expected) and every Error URL of the chain "
              "must be fired",
              a->expect_err);
    }
    return;
  }
  for (int l = 0; l < 16; l++) {
    if (!(lvs >> l & 1)) continue;
    if (first_at(r, a->id, "impression", l) < 0)
      add(r, "missing", a->id, "impression", l,
          "the ad played but the Impression of level %d was not fired", l);
    if (first_at(r, a->id, "start", l) < 0)
      add(r, "missing", a->id, "start", l, "the ad played but start was not fired");
    for (int q = 0; q < 3; q++) {
      long at = a->dur_ms >= 0 ? a->dur_ms * (q + 1) / 4 : -1;
      int due = complete || (at >= 0 && a->reached_ms >= at + 1000);
      if (due && first_at(r, a->id, QUARTS[q], l) < 0)
        add(r, "missing", a->id, QUARTS[q], l,
            "the ad played past %s (%.3f s) but %s was not fired", QUARTS[q],
            at >= 0 ? (double)at / 1000 : 0.0, QUARTS[q]);
    }
  }
}

static void rule_duplicated(vast_conformance *r, cad *a, unsigned lvs) {
  for (int l = 0; l < 16; l++) {
    if (!(lvs >> l & 1)) continue;
    for (size_t e = 0; e < sizeof ONCE / sizeof *ONCE; e++) {
      int n = count_at(r, a->id, ONCE[e], l);
      if (n > 1)
        add(r, "duplicated", a->id, ONCE[e], l, "%s fired %d times; it counts once per ad", ONCE[e],
            n);
    }
  }
}

static void rule_timing(vast_conformance *r, cad *a, unsigned lvs) {
  if (a->t_start < 0 || a->dur_ms < 0) return;
  const vast_conformance_opts *o = &r->o;
  for (int l = 0; l < 16; l++) {
    if (!(lvs >> l & 1)) continue;
    for (int q = 0; q < 4; q++) {
      const char *ev = q < 3 ? QUARTS[q] : "complete";
      long at = a->dur_ms * (q + 1) / 4;
      const chit *h = NULL;
      for (size_t i = 0; i < r->nh && !h; i++)
        if (r->h[i].ad && is(r->h[i].ad, a->id) && is(r->h[i].event, ev) && r->h[i].lv == l)
          h = &r->h[i];
      if (!h) continue;
      long long act = active_ms(r, a, h->t);
      if (act < at - o->early_tol_ms || (h->ph >= 0 && h->ph < at - o->early_tol_ms))
        add(r, "early", a->id, ev, l,
            "%s arrived %.3f s into the ad (ADPLAYHEAD %s), before %.3f s", ev, (double)act / 1000,
            h->ph >= 0 ? "sent" : "not sent", (double)at / 1000);
      else if (act > at + o->late_tol_ms)
        add(r, "late", a->id, ev, l, "%s arrived %.3f s into the ad, due at %.3f s", ev,
            (double)act / 1000, (double)at / 1000);
    }
  }
}

static void rule_order(vast_conformance *r, cad *a, unsigned lvs) {
  for (int l = 0; l < 16; l++) {
    if (!(lvs >> l & 1)) continue;
    long long prev_t = -1;
    const char *prev = NULL;
    for (int i = 0; i < 5; i++) {
      long long t = first_at(r, a->id, ORDER[i], l);
      if (t < 0) continue;
      if (prev && t + r->o.order_tol_ms < prev_t)
        add(r, "out-of-order", a->id, ORDER[i], l, "%s arrived %lld ms before %s", ORDER[i],
            prev_t - t, prev);
      if (t > prev_t) prev_t = t, prev = ORDER[i];
    }
  }
}

static void rule_after_terminal(vast_conformance *r, cad *a) {
  static const char *const TERM[] = {"complete", "skip", "closeLinear"};
  long long tt = -1;
  const char *term = NULL;
  for (int i = 0; i < 3; i++) {
    long long t = first_at(r, a->id, TERM[i], -1);
    if (t >= 0 && (tt < 0 || t < tt)) tt = t, term = TERM[i];
  }
  if (!term) return;
  for (size_t i = 0; i < r->nh; i++) {
    const chit *h = &r->h[i];
    if (!h->ad || !is(h->ad, a->id) || is(h->event, term)) continue;
    if (!in(h->event, LINEAR, sizeof LINEAR / sizeof *LINEAR)) continue;
    if (h->t > tt + r->o.order_tol_ms)
      add(r, "after-terminal", a->id, h->event, h->lv, "%s arrived %lld ms after %s ended the ad",
          h->event, h->t - tt, term);
  }
}

static void rule_spread(vast_conformance *r, cad *a, unsigned lvs) {
  long long lo = -1;
  for (int l = 0; l < 16; l++) {
    long long t = (lvs >> l & 1) ? first_at(r, a->id, "impression", l) : -1;
    if (t >= 0 && (lo < 0 || t < lo)) lo = t;
  }
  if (lo < 0) return;
  for (int l = 0; l < 16; l++) {
    long long t = (lvs >> l & 1) ? first_at(r, a->id, "impression", l) : -1;
    if (t >= 0 && t - lo > r->o.spread_ms)
      add(r, "impression-spread", a->id, "impression", l,
          "the Impression of level %d arrived %lld ms after the chain's first (more than %d ms "
          "apart: fire them together)",
          l, t - lo, r->o.spread_ms);
  }
}

/* Macros still in brackets in what the player sent: [NAME] or %5BNAME%5D. */
static int rule_macros(vast_conformance *r, const chit *h) {
  int found = 0;
  const char *q = h->query;
  for (const char *p = q; p && *p; p++) {
    const char *s = NULL;
    size_t open = 0;
    if (*p == '[')
      s = p + 1, open = 1;
    else if (!strncasecmp(p, "%5B", 3))
      s = p + 3, open = 3;
    if (!s) continue;
    const char *e = s;
    while ((*e >= 'A' && *e <= 'Z') || (*e >= '0' && *e <= '9') || *e == '_')
      e++;
    if (e == s || !(*e == ']' || !strncasecmp(e, "%5D", 3))) continue;
    char name[64];
    snprintf(name, sizeof name, "[%.*s]", (int)(e - s), s);
    int seen = 0;
    for (size_t i = 0; i < r->nf && !seen; i++)
      seen = !strcmp(r->f[i].rule, "unexpanded-macro") && !strcmp(r->f[i].event, h->event) &&
             !strcmp(r->f[i].ad, h->ad ? h->ad : "") && r->f[i].level == h->lv &&
             strstr(r->f[i].message, name) != NULL;
    if (!seen)
      add(r, "unexpanded-macro", h->ad, h->event, h->lv,
          "%s sent with %s literally: the player must replace it", h->event, name);
    found = 1;
    p = e;
    (void)open;
  }
  return found;
}

static void rule_errorcode(vast_conformance *r, const chit *h, int unexpanded) {
  if (!is(h->event, "error")) return;
  const cad *a = NULL;
  for (size_t i = 0; h->ad && i < r->nads; i++)
    if (is(r->ads[i].id, h->ad)) a = &r->ads[i];
  if (h->code < 0) {
    if (!unexpanded)
      add(r, "wrong-errorcode", h->ad, "error", h->lv, "error fired without a numeric ERRORCODE");
  } else if (!vast_iab_error_find(h->code)) {
    add(r, "wrong-errorcode", h->ad, "error", h->lv, "ERRORCODE %d is not an IAB VAST error code",
        h->code);
  } else if (a && a->expect_err && h->code != a->expect_err) {
    add(r, "wrong-errorcode", h->ad, "error", h->lv, "ERRORCODE %d, but the tag served makes it %d",
        h->code, a->expect_err);
  }
}

static void rule_device(vast_conformance *r, const chit *h) {
  int server = r->o.server_side || h->device_ip || h->device_ua || h->device;
  if (!server || (h->device_ip && h->device_ua)) return;
  add(r, "missing-device-headers", h->ad, h->event, h->lv, "server-side %s without %s%s%s",
      h->event, h->device_ip ? "" : "X-Device-IP", !h->device_ip && !h->device_ua ? " and " : "",
      h->device_ua ? "" : "X-Device-User-Agent");
}

static vast_err load(vast_conformance *r, const char *db_path, const char *session, char *msg,
                     size_t cap) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  vast_err e = VAST_OK;
  if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    snprintf(msg, cap, "cannot open '%s': %s", db_path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return VAST_E_DB;
  }
  sqlite3_busy_timeout(db, 2000);
  if (!session) {
    if (sqlite3_prepare_v2(db,
                           "SELECT sid FROM hits WHERE event='served' AND sid IS NOT NULL "
                           "ORDER BY t_ms DESC, id DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
      goto dberr;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
      snprintf(r->session, sizeof r->session, "%s", sqlite3_column_text(st, 0));
    else if (rc != SQLITE_DONE)
      goto dberr;
    sqlite3_finalize(st);
    st = NULL;
    if (!r->session[0]) {
      snprintf(msg, cap, "no served tag in '%s': give the session", db_path);
      sqlite3_close(db);
      return VAST_E_NOT_FOUND;
    }
  } else {
    snprintf(r->session, sizeof r->session, "%s", session);
  }
  if (sqlite3_prepare_v2(db,
                         "SELECT t_ms, event, ad, code, device_ip, device_ua, device, query "
                         "FROM hits WHERE sid=?1 ORDER BY t_ms, id",
                         -1, &st, NULL) != SQLITE_OK)
    goto dberr;
  sqlite3_bind_text(st, 1, r->session, -1, SQLITE_STATIC);
  size_t hcap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (r->nh == hcap) {
      size_t nc = hcap ? hcap * 2 : 64;
      chit *nh = realloc(r->h, nc * sizeof *nh);
      if (!nh) {
        e = VAST_E_NOMEM;
        break;
      }
      r->h = nh;
      hcap = nc;
    }
    chit *h = &r->h[r->nh++];
    memset(h, 0, sizeof *h);
    h->t = sqlite3_column_int64(st, 0);
    h->event = dupz(sqlite3_column_text(st, 1));
    h->ad = dupz(sqlite3_column_text(st, 2));
    h->code = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 3);
    h->device_ip = dupz(sqlite3_column_text(st, 4));
    h->device_ua = dupz(sqlite3_column_text(st, 5));
    h->device = dupz(sqlite3_column_text(st, 6));
    h->query = dupz(sqlite3_column_text(st, 7));
    if (!h->event) h->event = strdup("");
    char v[64];
    h->lv = 0;
    h->ph = -1;
    if (h->query) {
      const char *u = strstr(h->query, "&u=");
      size_t qn = u ? (size_t)(u - h->query) : strlen(h->query);
      if (vast__query_get(h->query, qn, "lv", v, sizeof v)) h->lv = atoi(v);
      if (vast__query_get(h->query, qn, "ph", v, sizeof v)) h->ph = timecode_ms(v);
    }
    if (h->lv < 0 || h->lv > 15) h->lv = 0;
  }
  if (e == VAST_OK && rc != SQLITE_DONE) goto dberr;
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (e == VAST_OK && r->nh == 0) {
    snprintf(msg, cap, "session '%s' has no hit in '%s'", r->session, db_path);
    return VAST_E_NOT_FOUND;
  }
  return e;
dberr:
  snprintf(msg, cap, "cannot read '%s': %s", db_path, sqlite3_errmsg(db));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return VAST_E_DB;
}

vast_err vast_conformance_run(const char *db_path, const char *session,
                              const vast_conformance_opts *o, vast_conformance **out, char *msg,
                              size_t cap) {
  if (out) *out = NULL;
  if (cap) msg[0] = 0;
  if (!db_path || !out) return VAST_E_INVAL;
  vast_conformance *r = calloc(1, sizeof *r);
  if (!r) return VAST_E_NOMEM;
  vast_conformance_opts_init(&r->o);
  if (o) memcpy(&r->o, o, o->size < sizeof r->o ? o->size : sizeof r->o);
  r->o.size = sizeof r->o;
  vast_err e = load(r, db_path, session, msg, cap);
  if (e != VAST_OK) {
    vast_conformance_free(r);
    return e;
  }
  load_served(r);
  for (size_t i = 0; i < r->nh; i++)
    if (r->h[i].ad && r->h[i].ad[0] && !is(r->h[i].event, "served") && !ad_get(r, r->h[i].ad)) {
      vast_conformance_free(r);
      return VAST_E_NOMEM;
    }
  for (size_t i = 0; i < r->nads; i++) {
    cad *a = &r->ads[i];
    if (!a->served) tapped_spec(r, a);
    derive(r, a);
    unsigned lvs = levels_of(r, a);
    rule_missing(r, a, lvs);
    rule_duplicated(r, a, lvs);
    rule_timing(r, a, lvs);
    rule_order(r, a, lvs);
    rule_after_terminal(r, a);
    rule_spread(r, a, lvs);
  }
  for (size_t i = 0; i < r->nh; i++) {
    const chit *h = &r->h[i];
    if (is(h->event, "served")) continue;
    int unexpanded = rule_macros(r, h);
    rule_errorcode(r, h, unexpanded);
    rule_device(r, h);
  }
  *out = r;
  return VAST_OK;
}

const char *vast_conformance_session(const vast_conformance *r) {
  return r ? r->session : NULL;
}
size_t vast_conformance_count(const vast_conformance *r) {
  return r ? r->nf : 0;
}
const vast_conformance_finding *vast_conformance_at(const vast_conformance *r, size_t i) {
  return r && i < r->nf ? &r->f[i] : NULL;
}

void vast_conformance_free(vast_conformance *r) {
  if (!r) return;
  for (size_t i = 0; i < r->nh; i++) {
    chit *h = &r->h[i];
    free(h->event);
    free(h->ad);
    free(h->query);
    free(h->device_ip);
    free(h->device_ua);
    free(h->device);
  }
  for (size_t i = 0; i < r->nf; i++) {
    free((char *)r->f[i].ad);
    free((char *)r->f[i].event);
    free((char *)r->f[i].message);
  }
  free(r->h);
  free(r->ads);
  free(r->f);
  free(r);
}

/* ---- output ---- */

/* The player's hits: all but the served records. */
static size_t beacons(const vast_conformance *r) {
  size_t n = 0;
  for (size_t i = 0; i < r->nh; i++)
    n += !is(r->h[i].event, "served");
  return n;
}

typedef struct tw {
  vast_write_fn write;
  void *ctx;
  int fail;
} tw;

static void tputf(tw *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tputf(tw *t, const char *fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
  char safe[8192];
  size_t sn = vast_text_escape(buf, safe, sizeof safe);
  if (sn >= sizeof safe) sn = sizeof safe - 1;
  /* keep the line ends the format asked for */
  while (sn >= 4 && !memcmp(safe + sn - 4, "\\x0a", 4))
    sn -= 4;
  if (!t->fail &&
      (t->write(t->ctx, safe, sn) || (n && buf[n - 1] == '\n' && t->write(t->ctx, "\n", 1))))
    t->fail = 1;
}

vast_err vast_conformance_write_text(const vast_conformance *r, vast_write_fn write, void *ctx) {
  if (!r || !write) return VAST_E_INVAL;
  tw t = {write, ctx, 0};
  tputf(&t, "session %s: %zu beacons, %d tags served\n", r->session, beacons(r), r->served_tags);
  for (size_t i = 0; i < r->nads; i++) {
    const cad *a = &r->ads[i];
    tputf(&t, "ad %s: %s", a->id, a->played ? "played" : "not played");
    if (a->dur_ms >= 0) tputf(&t, ", duration %.3f s", (double)a->dur_ms / 1000);
    if (a->reached_ms >= 0) tputf(&t, ", reached %.3f s", (double)a->reached_ms / 1000);
    if (a->paused_ms > 0) tputf(&t, ", paused %.3f s", (double)a->paused_ms / 1000);
    tputf(&t, "\n");
  }
  for (size_t i = 0; i < r->nf; i++) {
    const vast_conformance_finding *f = &r->f[i];
    if (f->level >= 0)
      tputf(&t, "  %s: ad %s level %d %s: %s\n", f->rule, f->ad[0] ? f->ad : "-", f->level,
            f->event, f->message);
    else
      tputf(&t, "  %s: ad %s %s: %s\n", f->rule, f->ad[0] ? f->ad : "-", f->event, f->message);
  }
  if (r->nf)
    tputf(&t, "%zu finding%s: not conformant\n", r->nf, r->nf == 1 ? "" : "s");
  else
    tputf(&t, "conformant: no finding\n");
  return t.fail ? VAST_E_IO : VAST_OK;
}

vast_err vast_conformance_write_json(const vast_conformance *r, vast_write_fn write, void *ctx) {
  if (!r || !write) return VAST_E_INVAL;
  vast__jw w;
  vast__jw_init(&w, write, ctx);
  vast__jw_obj_begin(&w);
  vast__jw_kstr(&w, "session", r->session);
  vast__jw_kbool_opt(&w, "conformant", r->nf == 0);
  vast__jw_kint(&w, "beacons", (long long)beacons(r));
  vast__jw_kint(&w, "servedTags", r->served_tags);
  vast__jw_key(&w, "ads");
  vast__jw_arr_begin(&w);
  for (size_t i = 0; i < r->nads; i++) {
    const cad *a = &r->ads[i];
    vast__jw_obj_begin(&w);
    vast__jw_kstr(&w, "ad", a->id);
    vast__jw_kbool_opt(&w, "served", a->served);
    vast__jw_kbool_opt(&w, "played", a->played);
    vast__jw_kint_opt(&w, "durationMs", a->dur_ms);
    vast__jw_kint_opt(&w, "reachedMs", a->reached_ms);
    vast__jw_kint(&w, "pausedMs", a->paused_ms);
    vast__jw_obj_end(&w);
  }
  vast__jw_arr_end(&w);
  vast__jw_key(&w, "findings");
  vast__jw_arr_begin(&w);
  for (size_t i = 0; i < r->nf; i++) {
    const vast_conformance_finding *f = &r->f[i];
    vast__jw_obj_begin(&w);
    vast__jw_kstr(&w, "rule", f->rule);
    vast__jw_kstr(&w, "ad", f->ad[0] ? f->ad : NULL);
    vast__jw_kstr(&w, "event", f->event);
    vast__jw_kint_opt(&w, "level", f->level);
    vast__jw_kstr(&w, "message", f->message);
    vast__jw_obj_end(&w);
  }
  vast__jw_arr_end(&w);
  vast__jw_obj_end(&w);
  vast__jw_raw(&w, "\n", 1);
  return vast__jw_finish(&w) ? VAST_E_IO : VAST_OK;
}
