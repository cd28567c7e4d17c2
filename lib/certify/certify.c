/*
 * certify.c: the collector's player-certification routes. GET /vast and
 * GET /vmap answer the test ad server's tags (adserver.c) for the base URL
 * the player used (its Host header) and record each served response as a
 * hit with event "served" in the session, its query holding the parameters,
 * so the conformance report knows what was served. GET /tap fetches a real
 * tag and answers it rewritten (tap.c; on the thread pool), and GET
 * /r/<session>/<event>?...&u=URL records the tapped hit and answers 302 to
 * URL. The collector serves them through vast__certify_routes, the route
 * table at the end (collect-int.h).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/buf.h"
#include "certify/certify-int.h"

/* The answer to one request of a certification route. */
typedef struct cert_ans {
  int status;        /* HTTP status */
  const char *ctype; /* static */
  char *body;        /* malloc'd (or NULL) */
  size_t blen;
  char event[64]; /* "": answer only; else record a hit with this event... */
  char *hitq;     /* ...and this raw query (sid=...&...), malloc'd */
  size_t hqn;
  const char *location; /* 302 to this (points into the request's query) */
  size_t locn;
} cert_ans;

static void cert_ans_free(cert_ans *a) {
  if (!a) return;
  free(a->body);
  free(a->hitq);
  a->body = a->hitq = NULL;
}

static void text(cert_ans *a, int status, const char *msg) {
  a->status = status;
  a->ctype = "text/plain; charset=utf-8";
  a->body = strdup(msg);
  a->blen = a->body ? strlen(a->body) : 0;
}

/* A Host header fit to build URLs from: host, [v6] or host:port characters. */
static int host_ok(const char *h, size_t n) {
  if (n == 0 || n > 255) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = h[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
      return 0;
  }
  return 1;
}

/* A new session id: time, process-wide counter. */
static void new_sid(char *out, size_t cap) {
  static atomic_uint_fast64_t counter;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  unsigned long long n = (unsigned long long)atomic_fetch_add(&counter, 1);
  snprintf(out, cap, "s%llx-%llx",
           (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000, n);
}

static int adserver(int vmap, const char *q, size_t qn, const char *host, size_t hn, cert_ans *a) {
  if (!host_ok(host, hn)) {
    text(a, 400, "the test ad server needs a Host header (host or host:port)\n");
    return 1;
  }
  char sid[80], base[300];
  if (vast__query_get(q, qn, "sid", sid, sizeof sid)) {
    if (!vast_session_id_valid(sid)) {
      text(a, 400, "sid: 1-64 characters of A-Za-z0-9_.-\n");
      return 1;
    }
  } else {
    new_sid(sid, sizeof sid);
  }
  snprintf(base, sizeof base, "http://%.*s", (int)hn, host);
  char *qz = malloc(qn + 1);
  if (!qz) {
    text(a, 503, "out of memory\n");
    return 1;
  }
  if (qn) memcpy(qz, q, qn);
  qz[qn] = 0;
  vast__buf b = {0};
  char msg[256];
  int status = 200;
  vast_err e = vast_adserver_write(vmap ? VAST_ADSERVER_VMAP : VAST_ADSERVER_VAST, base, sid, qz,
                                   vast__buf_write, &b, &status, msg, sizeof msg);
  if (e == VAST_E_INVAL) {
    free(b.p);
    free(qz);
    char m[300];
    snprintf(m, sizeof m, "%s\n", msg);
    text(a, 400, m);
    return 1;
  }
  if (e != VAST_OK || b.fail) {
    free(b.p);
    free(qz);
    text(a, 503, "cannot build the tag\n");
    return 1;
  }
  a->status = status;
  a->ctype = status == 200 ? "application/xml; charset=utf-8" : "text/plain; charset=utf-8";
  a->body = b.p;
  a->blen = b.n;
  /* The record: sid first (the collector's sid field), then what was asked. */
  size_t hq = strlen(sid) + qn + 32;
  a->hitq = malloc(hq);
  if (!a->hitq) {
    free(qz);
    cert_ans_free(a);
    text(a, 503, "out of memory\n");
    return 1;
  }
  a->hqn = (size_t)snprintf(a->hitq, hq, "sid=%s&kind=%s%s%s", sid, vmap ? "vmap" : "vast",
                            qn ? "&" : "", qz);
  free(qz);
  snprintf(a->event, sizeof a->event, "served");
  return 1;
}

/* The verbatim value of the last parameter "key=" (url= or u=): everything
   after it. A value that starts with an encoded scheme (http%3A) is to be
   decoded by the caller. NULL when absent. */
static const char *tail_param(const char *q, size_t qn, const char *key, size_t *n) {
  size_t kl = strlen(key);
  for (size_t i = 0; i + kl <= qn; i++) {
    if ((i == 0 || q[i - 1] == '&') && !memcmp(q + i, key, kl)) {
      *n = qn - i - kl;
      return q + i + kl;
    }
  }
  return NULL;
}

static int loc_ok(const char *u, size_t n) {
  if (!((n > 7 && !strncasecmp(u, "http://", 7)) || (n > 8 && !strncasecmp(u, "https://", 8))))
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f) return 0;
  return 1;
}

/* GET /r/<session>/<event>?ad=..&lv=..&u=URL: a tapped hit. */
static int tapped_hit(const char *path, size_t pn, const char *q, size_t qn, cert_ans *a) {
  const char *s = path + 3, *e = path + pn;
  const char *slash = memchr(s, '/', (size_t)(e - s));
  char sid[80];
  if (!slash || (size_t)(slash - s) >= sizeof sid || slash + 1 >= e ||
      (size_t)(e - slash - 1) >= sizeof a->event) {
    text(a, 400, "use /r/<session>/<event>?...&u=<URL>\n");
    return 1;
  }
  memcpy(sid, s, (size_t)(slash - s));
  sid[slash - s] = 0;
  if (!vast_session_id_valid(sid)) {
    text(a, 400, "session: 1-64 characters of A-Za-z0-9_.-\n");
    return 1;
  }
  size_t un = 0;
  const char *u = tail_param(q, qn, "u=", &un);
  if (!u || !loc_ok(u, un)) {
    text(a, 400, "u=: the original http(s) URL, last, without spaces or control characters\n");
    return 1;
  }
  memcpy(a->event, slash + 1, (size_t)(e - slash - 1));
  a->event[e - slash - 1] = 0;
  size_t hq = strlen(sid) + qn + 8;
  a->hitq = malloc(hq);
  if (!a->hitq) {
    a->event[0] = 0;
    text(a, 503, "out of memory\n");
    return 1;
  }
  a->hqn = (size_t)snprintf(a->hitq, hq, "sid=%s&%.*s", sid, (int)qn, q);
  a->status = 302;
  a->location = u;
  a->locn = un;
  return 1;
}

void vast__certify_tap(const char *q, size_t qn, const char *host, size_t hn, int allow_private,
                       int *status, const char **ctype, char **body, size_t *blen) {
  cert_ans a = {0};
  char sid[80], lvs[16], base[300], chain_ad[128] = "";
  int lv = 0;
  *body = NULL;
  *blen = 0;
  *ctype = "text/plain; charset=utf-8";
  size_t un = 0;
  const char *u = tail_param(q, qn, "url=", &un);
  if (!host_ok(host, hn)) {
    text(&a, 400, "the tap needs a Host header (host or host:port)\n");
    goto done;
  }
  if (!u || !un) {
    text(&a, 400, "use /tap?url=<tag URL> (url= last)\n");
    goto done;
  }
  if (vast__query_get(q, qn - un - 4, "sid", sid, sizeof sid)) {
    if (!vast_session_id_valid(sid)) {
      text(&a, 400, "sid: 1-64 characters of A-Za-z0-9_.-\n");
      goto done;
    }
  } else {
    new_sid(sid, sizeof sid);
  }
  if (vast__query_get(q, qn - un - 4, "lv", lvs, sizeof lvs)) {
    lv = atoi(lvs);
    if (lv < 0 || lv > 15) {
      text(&a, 400, "lv: 0 to 15\n");
      goto done;
    }
  }
  vast__query_get(q, qn - un - 4, "ad", chain_ad, sizeof chain_ad);
  char *url = malloc(un + 1);
  if (!url) {
    text(&a, 503, "out of memory\n");
    goto done;
  }
  if (!strncasecmp(u, "http%3A", 7) || !strncasecmp(u, "https%3A", 8)) {
    char key[] = "url";
    char *dec = malloc(un + 1);
    if (dec && vast__query_get(u - 4, un + 4, key, dec, un + 1)) {
      free(url);
      url = dec;
    } else {
      free(dec);
      memcpy(url, u, un);
      url[un] = 0;
    }
  } else {
    memcpy(url, u, un);
    url[un] = 0;
  }
  vast_net_policy pol;
  vast_net_policy_init(&pol);
  pol.allow_private = allow_private;
  vast_fetch_opts fo;
  vast_fetch_opts_init(&fo);
  fo.policy = &pol;
  vast_fetch_result res = {0};
  vast_error err = {0};
  vast_err e = vast_fetch(url, &fo, &res, &err);
  if (e != VAST_OK) {
    char m[700];
    snprintf(m, sizeof m, "cannot fetch the tag: %s\n",
             err.message[0] ? err.message : vast_strerror(e));
    text(&a, 502, m);
    free(res.body);
    free(res.effective_url);
    free(url);
    goto done;
  }
  snprintf(base, sizeof base, "http://%.*s", (int)hn, host);
  vast__buf b = {0};
  char msg[256];
  e = vast_tap_rewrite(res.body, res.len, res.effective_url ? res.effective_url : url, base, sid,
                       lv, chain_ad, vast__buf_write, &b, NULL, msg, sizeof msg);
  free(res.body);
  free(res.effective_url);
  free(url);
  if (e != VAST_OK || b.fail) {
    free(b.p);
    text(&a, 502, "cannot rewrite the tag\n");
    goto done;
  }
  a.status = 200;
  a.ctype = "application/xml; charset=utf-8";
  a.body = b.p ? b.p : strdup("");
  a.blen = b.n;
done:
  *status = a.status;
  *ctype = a.ctype;
  *body = a.body;
  *blen = a.blen;
  free(a.hitq);
}

/* ---- GET /conformance/<session> ---- */

static void html(vast__buf *b, const char *s) {
  for (; s && *s; s++) {
    const char *e = NULL;
    switch (*s) {
    case '<':
      e = "&lt;";
      break;
    case '>':
      e = "&gt;";
      break;
    case '&':
      e = "&amp;";
      break;
    case '"':
      e = "&quot;";
      break;
    case '\'':
      e = "&#39;";
      break;
    default:
      break;
    }
    if (e)
      vast__buf_write(b, e, strlen(e));
    else if ((unsigned char)*s < 0x20 && *s != '\n')
      vast__buf_write(b, "?", 1);
    else
      vast__buf_write(b, s, 1);
  }
}

static void raw(vast__buf *b, const char *s) {
  vast__buf_write(b, s, strlen(s));
}

void vast__certify_page(const char *db, const char *path, size_t pn, int *status,
                        const char **ctype, char **body, size_t *blen) {
  cert_ans a = {0};
  char sid[80] = "";
  *body = NULL;
  *blen = 0;
  if (pn > 13) {
    if (pn - 13 >= sizeof sid) {
      text(&a, 400, "session: 1-64 characters of A-Za-z0-9_.-\n");
      goto done;
    }
    memcpy(sid, path + 13, pn - 13);
    sid[pn - 13] = 0;
    if (!vast_session_id_valid(sid)) {
      text(&a, 400, "session: 1-64 characters of A-Za-z0-9_.-\n");
      goto done;
    }
  }
  if (!db) {
    text(&a, 404, "the conformance report needs the collector's database (--db)\n");
    goto done;
  }
  vast_conformance *r = NULL;
  char msg[512];
  vast_err e = vast_conformance_run(db, sid[0] ? sid : NULL, NULL, &r, msg, sizeof msg);
  if (e != VAST_OK) {
    char m[600];
    snprintf(m, sizeof m, "%s\n", msg[0] ? msg : vast_strerror(e));
    text(&a, e == VAST_E_NOT_FOUND ? 404 : 500, m);
    goto done;
  }
  vast__buf b = {0};
  size_t n = vast_conformance_count(r);
  raw(&b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<title>vastrack: conformance of ");
  html(&b, vast_conformance_session(r));
  raw(&b, "</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n<link rel=\"icon\" "
          "href=\"data:,\">\n</head>\n<body>\n<header>\n  <h1>vastrack conformance</h1>\n"
          "  <nav><a href=\"/\">Dashboard</a><a href=\"/inspect\">Inspector</a></nav>\n"
          "</header>\n<main>\n<section>\n<h2>Session <span id=\"session\">");
  html(&b, vast_conformance_session(r));
  raw(&b, "</span></h2>\n");
  char line[256];
  snprintf(line, sizeof line, "<p id=\"verdict\" class=\"%s\">%s", n ? "bad" : "good",
           n ? "not conformant: " : "conformant: no finding");
  raw(&b, line);
  if (n) {
    snprintf(line, sizeof line, "%zu finding%s", n, n == 1 ? "" : "s");
    raw(&b, line);
  }
  raw(&b, "</p>\n");
  /* the text report, for the timeline per ad */
  vast__buf t = {0};
  vast_conformance_write_text(r, vast__buf_write, &t);
  raw(&b, "<pre id=\"report\">");
  html(&b, t.p);
  raw(&b, "</pre>\n");
  free(t.p);
  if (n) {
    raw(&b, "<table id=\"findings\">\n<thead><tr><th>rule</th><th>ad</th><th>level</th>"
            "<th>event</th><th>finding</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < n; i++) {
      const vast_conformance_finding *f = vast_conformance_at(r, i);
      raw(&b, "<tr data-rule=\"");
      html(&b, f->rule);
      raw(&b, "\"><td>");
      html(&b, f->rule);
      raw(&b, "</td><td>");
      html(&b, f->ad);
      raw(&b, "</td><td>");
      if (f->level >= 0) {
        snprintf(line, sizeof line, "%d", f->level);
        raw(&b, line);
      }
      raw(&b, "</td><td>");
      html(&b, f->event);
      raw(&b, "</td><td>");
      html(&b, f->message);
      raw(&b, "</td></tr>\n");
    }
    raw(&b, "</tbody>\n</table>\n");
  }
  raw(&b, "<p>Rules and the spec text they come from: docs/conformance.md. The same report: "
          "<code>vastrack report --conformance ");
  html(&b, vast_conformance_session(r));
  raw(&b, "</code></p>\n</section>\n</main>\n</body>\n</html>\n");
  vast_conformance_free(r);
  if (b.fail) {
    free(b.p);
    text(&a, 503, "out of memory\n");
    goto done;
  }
  a.status = 200;
  a.ctype = "text/html; charset=utf-8";
  a.body = b.p;
  a.blen = b.n;
done:
  *status = a.status;
  *ctype = a.ctype;
  *body = a.body;
  *blen = a.blen;
}

/* ---- --tap-forward server ---- */

typedef struct fwd {
  long status;
  char *msg;
  size_t cap;
} fwd;

static void fwd_done(void *ctx, const vast_delivery *d) {
  fwd *f = ctx;
  f->status = d->status;
  if (d->error) snprintf(f->msg, f->cap, "%s", d->error);
}

void vast__certify_forward(const char *url, const char *device_ip, const char *device_ua,
                           int allow_private, long *status, char *msg, size_t msgcap) {
  fwd f = {0, msg, msgcap};
  if (msgcap) msg[0] = 0;
  *status = 0;
  vast_net_policy pol;
  vast_net_policy_init(&pol);
  pol.allow_private = allow_private;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.policy = &pol;
  o.private_policy = allow_private ? VAST_PRIVATE_ALLOW : VAST_PRIVATE_REFUSE;
  o.server_side = 1;
  o.device_ip = device_ip;
  o.device_ua = device_ua && device_ua[0] ? device_ua : "unknown";
  o.max_queue = 1;
  o.on_delivery = fwd_done;
  o.ctx = &f;
  vast_dispatcher *d = NULL;
  vast_err e = vast_dispatcher_create(&o, &d);
  if (e == VAST_OK) {
    vast_beacon b = {url, "tap", -1, NULL};
    e = vast_dispatcher_submit(d, &b, 1);
    if (e == VAST_OK) e = vast_dispatcher_drain(d, 5000);
  }
  vast_dispatcher_free(d);
  if (e != VAST_OK && msgcap && !msg[0]) snprintf(msg, msgcap, "%s", vast_strerror(e));
  *status = f.status;
}

/* ---- the routes the collector serves (collect-int.h) ---- */

static void to_route(cert_ans *c, vast__route_ans *a) {
  a->status = c->status;
  a->ctype = c->ctype;
  a->body = a->owned = c->body;
  a->len = c->blen;
  memcpy(a->event, c->event, sizeof a->event);
  a->hitq = c->hitq;
  a->hqn = c->hqn;
  a->location = c->location;
  a->locn = c->locn;
}

static void route_vast(const vast__route_req *rq, vast__route_ans *out) {
  cert_ans a = {0};
  adserver(0, rq->query, rq->qn, rq->host, rq->hn, &a);
  to_route(&a, out);
}

static void route_vmap(const vast__route_req *rq, vast__route_ans *out) {
  cert_ans a = {0};
  adserver(1, rq->query, rq->qn, rq->host, rq->hn, &a);
  to_route(&a, out);
}

static void route_tapped_hit(const vast__route_req *rq, vast__route_ans *out) {
  cert_ans a = {0};
  tapped_hit(rq->path, rq->pn, rq->query, rq->qn, &a);
  to_route(&a, out);
}

static void route_tap(const vast__route_req *rq, vast__route_ans *out) {
  vast__certify_tap(rq->query, rq->qn, rq->host, rq->hn, rq->allow_private, &out->status,
                    &out->ctype, &out->owned, &out->len);
  out->body = out->owned;
}

static void route_page(const vast__route_req *rq, vast__route_ans *out) {
  vast__certify_page(rq->db_path, rq->path, rq->pn, &out->status, &out->ctype, &out->owned,
                     &out->len);
  out->body = out->owned;
}

/* /conformance/<session> (the prefix route: longer than /conformance) */
static int conformance_session(const char *path, size_t n) {
  return path[12] == '/';
}

const vast__route vast__certify_routes[] = {
    {"GET", "/r/", VAST__ROUTE_PREFIX, NULL, NULL, NULL, route_tapped_hit},
    {"GET", "/tap", VAST__ROUTE_POOL | VAST__ROUTE_SLOW, NULL, NULL, NULL, route_tap},
    {"GET", "/conformance", VAST__ROUTE_POOL | VAST__ROUTE_SLOW, NULL, NULL, NULL, route_page},
    {"GET", "/conformance", VAST__ROUTE_PREFIX | VAST__ROUTE_POOL | VAST__ROUTE_SLOW,
     conformance_session, NULL, NULL, route_page},
    {"GET", "/vast", 0, NULL, NULL, NULL, route_vast},
    {"GET", "/vmap", 0, NULL, NULL, NULL, route_vmap},
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
