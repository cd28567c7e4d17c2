/*
 * route.c: the collector's request routing. A tracking request (GET, HEAD or
 * a beacon POST of /t/<event>) becomes a hit record handed to the writer (or
 * this loop's journal); /healthz, /stats and /metrics are answered here; with
 * the web UI, its pages and API (lib/web) and the player-certification routes
 * (lib/certify) are answered on the loop or run on libuv's thread pool, and
 * their POST bodies are read against the collector's body budget.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/server-int.h"
#include "web/web-int.h"
#include "certify/certify-int.h"

/* A POST /api/... request handed to libuv's thread pool. */
struct webjob {
  uv_work_t req;
  conn *k; /* NULL once the connection is gone */
  vast_collector *c;
  char *path, *query, *body; /* one allocation: path\0query\0body */
  int slow;                  /* counted in slow_busy */
  size_t pn, qn, bn;
  vast__web_resp resp;
};

static int field_of(vast_collector *c, const char *key, size_t n) {
  for (unsigned i = 0; i < c->nmap; i++)
    if (strlen(c->map[i].name) == n && memcmp(c->map[i].name, key, n) == 0) return c->map[i].field;
  static const char *names[] = {"ad", "cr", "sid", "code", "r"};
  for (int f = 0; f < F_NONE; f++)
    if (strlen(names[f]) == n && memcmp(names[f], key, n) == 0) return f;
  return F_NONE;
}

static int valid_event(const char *e, size_t n) {
  if (n == 0 || n > 47) return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = e[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '-' || ch == '.'))
      return 0;
  }
  return 1;
}

/*
 * Builds the hit record of a tracking request, or returns NULL (out of
 * memory, or bad event name: *bad set).
 */
static vast__hit *make_hit(conn *k, const vast__http_req *rq, int *r204, int *bad) {
  vast_collector *c = k->w->c;
  *bad = 0;
  *r204 = 0;
  /* decoded values: event, ad, cr, sid */
  char ev[64];
  long evn = vast__url_decode(rq->path.p + 3, rq->path.n - 3, ev, sizeof ev);
  if (evn < 0 || !valid_event(ev, (size_t)evn)) {
    *bad = 1;
    return NULL;
  }
  vast__str val[F_NONE] = {{0}};
  int have[F_NONE] = {0};
  const char *q = rq->query.p, *qe = q + rq->query.n;
  while (q && q < qe) {
    const char *amp = memchr(q, '&', (size_t)(qe - q));
    const char *pe = amp ? amp : qe;
    const char *eq = memchr(q, '=', (size_t)(pe - q));
    const char *ke = eq ? eq : pe;
    int f = field_of(c, q, (size_t)(ke - q));
    if (f != F_NONE && !have[f]) {
      have[f] = 1;
      val[f] = eq ? (vast__str){eq + 1, (size_t)(pe - eq - 1)} : (vast__str){pe, 0};
    }
    q = amp ? amp + 1 : NULL;
  }
  /* Lay the strings out in the scratch buffer, then copy into the hit. */
  size_t len = 0;
  char **sb = &k->w->scratch;
  size_t *scap = &k->w->scratch_cap;
  size_t off[10];
  enum { O_EV, O_AD, O_CR, O_SID, O_IP, O_UA, O_DIP, O_DUA, O_DEV, O_Q };
  int present[10] = {0};
  size_t need =
      (size_t)evn + rq->target.n + rq->user_agent.n + rq->device_ip.n + rq->device_ua.n + 256;
  if (*scap < need) {
    char *nb = realloc(*sb, need);
    if (!nb) return NULL;
    *sb = nb;
    *scap = need;
  }
#define ADD_RAW(idx, p, n)                                                                         \
  do {                                                                                             \
    off[idx] = len;                                                                                \
    present[idx] = 1;                                                                              \
    if (vast__bput(sb, &len, scap, (p), (n)) || vast__bput(sb, &len, scap, "", 1)) return NULL;    \
  } while (0)
  ADD_RAW(O_EV, ev, (size_t)evn);
  for (int f = F_AD; f <= F_SID; f++) {
    if (!have[f]) continue;
    int idx = O_AD + f;
    if (*scap < len + val[f].n + 1) {
      size_t nc = (len + val[f].n + 1) * 2;
      char *nb = realloc(*sb, nc);
      if (!nb) return NULL;
      *sb = nb;
      *scap = nc;
    }
    long dn = vast__url_decode(val[f].p, val[f].n, *sb + len, *scap - len);
    if (dn < 0) { /* room was made above: only a %00 gets here */
      *bad = 2;
      return NULL;
    }
    off[idx] = len;
    present[idx] = 1;
    len += (size_t)dn + 1;
  }
  int code = -1;
  if (have[F_CODE] && val[F_CODE].n > 0 && val[F_CODE].n < 10) {
    code = 0;
    for (size_t i = 0; i < val[F_CODE].n; i++) {
      char ch = val[F_CODE].p[i];
      if (ch < '0' || ch > '9') {
        code = -1;
        break;
      }
      code = code * 10 + (ch - '0');
    }
  }
  if (have[F_R] && val[F_R].n == 3 && memcmp(val[F_R].p, "204", 3) == 0) *r204 = 1;
  ADD_RAW(O_IP, k->ip, strlen(k->ip));
  if (rq->user_agent.n) ADD_RAW(O_UA, rq->user_agent.p, rq->user_agent.n);
  if (rq->device_ip.n) ADD_RAW(O_DIP, rq->device_ip.p, rq->device_ip.n);
  if (rq->device_ua.n) ADD_RAW(O_DUA, rq->device_ua.p, rq->device_ua.n);
  if (rq->n_device || rq->forwarded_for.n) {
    off[O_DEV] = len;
    present[O_DEV] = 1;
    int fail = vast__bput(sb, &len, scap, "{", 1);
    for (unsigned i = 0; i < rq->n_device && !fail; i++) {
      char name[64];
      size_t nn = rq->device_name[i].n < sizeof name ? rq->device_name[i].n : sizeof name - 1;
      for (size_t j = 0; j < nn; j++) {
        char ch = rq->device_name[i].p[j];
        name[j] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
      }
      fail = (i && vast__bput(sb, &len, scap, ",", 1)) ||
             vast__json_str(sb, &len, scap, name, nn) || vast__bput(sb, &len, scap, ":", 1) ||
             vast__json_str(sb, &len, scap, rq->device_val[i].p, rq->device_val[i].n);
    }
    if (!fail && rq->forwarded_for.n)
      fail = (rq->n_device && vast__bput(sb, &len, scap, ",", 1)) ||
             vast__bput(sb, &len, scap, "\"x-forwarded-for\":", 18) ||
             vast__json_str(sb, &len, scap, rq->forwarded_for.p, rq->forwarded_for.n);
    if (fail || vast__bput(sb, &len, scap, "}", 2)) return NULL;
  }
  if (rq->query.n) ADD_RAW(O_Q, rq->query.p, rq->query.n);
#undef ADD_RAW
  vast__hit *h = malloc(sizeof *h + len);
  if (!h) return NULL;
  memset(h, 0, sizeof *h);
  memcpy(h->data, *sb, len);
  const char **dst[10] = {&h->event, &h->ad,        &h->cr,        &h->sid,    &h->ip,
                          &h->ua,    &h->device_ip, &h->device_ua, &h->device, &h->query};
  for (int i = 0; i < 10; i++)
    *dst[i] = present[i] ? h->data + off[i] : NULL;
  h->code = code;
  h->t_ms = wall_ms();
  h->owner = k->w;
  return h;
}

/* GET of the web pages and the cheap JSON (run here, on the loop). */
static void handle_web_get(conn *k, const char *p, size_t n, int head, int close, int v10) {
  vast_collector *c = k->w->c;
  const char *ctype;
  const unsigned char *data;
  size_t dlen;
  if (n == 10 && memcmp(p, "/api/stats", 10) == 0) {
    char *b = NULL;
    size_t len = 0, cap = 0;
    vast__stats_web(c, &b, &len, &cap);
    vast__respond_web(k, 200, "application/json", b, len, head, close, v10);
    free(b);
  } else if (n == 11 && memcmp(p, "/api/errors", 11) == 0) {
    vast__web_resp r;
    vast__web_errors(&r);
    vast__respond_web(k, r.status, r.ctype, r.body, r.len, head, close, v10);
    vast__web_resp_free(&r);
  } else if (vast__web_api_known(p, n)) {
    vast__respond_web(k, 405, "text/plain", "use POST\n", 9, head, close, v10);
  } else if (vast__web_asset(p, n, &ctype, &data, &dlen)) {
    vast__respond_web(k, 200, ctype, data, dlen, head, close, v10);
  } else {
    vast__respond_web(k, 404, "text/plain", "not found\n", 10, head, close, v10);
  }
}

/*
 * A tracking request (GET, HEAD, or a beacon POST whose body was read). With
 * ok (a whole response, malloc'd, owned from here on), the hit is answered
 * with it instead of the GIF once stored (okcode its status): the test ad
 * server's tags and the tap's redirects (certify.c).
 */
static void handle_hit_x(conn *k, const vast__http_req *rq, int head, int close, int v10, char *ok,
                         size_t oklen, int okcode) {
  worker *w = k->w;
  vast_collector *c = w->c;
  int r204 = 0, bad = 0;
  if (atomic_load_explicit(&c->qlen, memory_order_relaxed) >= c->o.max_queue) {
    free(ok);
    vast__respond(k, 503, "text/plain", "queue full\n", 11, head, close, v10);
    return;
  }
  if (atomic_load_explicit(&c->db_lost, memory_order_relaxed)) {
    free(ok);
    vast__respond(k, 503, "text/plain", "database file lost\n", 19, head, close, v10);
    return;
  }
  vast__hit *h = make_hit(k, rq, &r204, &bad);
  if (!h) {
    free(ok);
    if (bad == 2) {
      WINC(w, bad);
      vast__clog(c, "bad request from %s: NUL byte (%%00) in a parameter", k->ip);
      vast__respond(k, 400, "text/plain", "NUL byte in a parameter\n", 24, head, close, v10);
    } else if (bad) {
      WINC(w, bad);
      vast__clog(c, "bad request from %s: invalid event name", k->ip);
      vast__respond(k, 400, "text/plain", "invalid event name\n", 19, head, close, v10);
    } else {
      vast__respond(k, 503, "text/plain", "out of memory\n", 14, head, close, v10);
    }
    return;
  }
  WINC(w, hits);
  int durable = c->o.ack == VAST_ACK_DURABLE;
  atomic_init(&h->refs, durable ? 2 : 1);
  atomic_init(&h->state, VAST__HIT_PENDING);
  h->next = NULL;
  *w->ltail = h;
  w->ltail = &h->next;
  w->ln++;
  if (durable) {
    atomic_fetch_add(&w->inflight, 1);
    slot s = {.hit = h,
              .t0 = uv_hrtime(),
              .r204 = (unsigned char)r204,
              .head = (unsigned char)head,
              .close = (unsigned char)close,
              .v10 = (unsigned char)v10,
              .bytes = ok,
              .len = oklen,
              .okcode = okcode};
    if (close) k->close_after = 1;
    if (vast__slot_push(k, s)) {
      vast__hit_unref(h);
      free(ok);
      vast__conn_close(k);
    }
  } else if (ok) {
    vast__respond_raw(k, okcode, ok, oklen, close);
  } else if (r204) {
    vast__respond(k, 204, NULL, NULL, 0, head, close, v10);
  } else {
    vast__respond(k, 200, "image/gif", vast__gif, sizeof vast__gif, head, close, v10);
  }
}

static void handle_hit(conn *k, const vast__http_req *rq, int head, int close, int v10) {
  handle_hit_x(k, rq, head, close, v10, NULL, 0, 0);
}

/*
 * The player-certification routes (lib/certify/certify.c): GET /vast, /vmap (the
 * test ad server). Returns 0 when the path is not one of them. An answer
 * that comes with a record (a served tag) is stored like a hit and sent
 * once the hit is stored, so a collector that answered a tag has it.
 */
static void tap_job(conn *k, const vast__http_req *rq, int close, int v10);
static void forward_job(conn *k, const vast__http_req *rq, const char *url, size_t un);
static int certify_route(conn *k, const vast__http_req *rq, int head, int close, int v10) {
  vast_collector *c = k->w->c;
  vast__cert_ans a;
  if (!vast__certify_route(rq->path.p, rq->path.n, rq->query.p, rq->query.n, rq->host.p, rq->host.n,
                           &a))
    return 0;
  if (a.tap_job) {
    tap_job(k, rq, close, v10);
    return 1;
  }
  if (!a.event[0]) {
    vast__respond_web(k, a.status, a.ctype, a.body, a.blen, head, close, v10);
    vast__cert_ans_free(&a);
    return 1;
  }
  char *b = NULL;
  size_t len = 0, cap = 0;
  char path[80];
  if (a.location && c->o.tap_forward) { /* none or server: a plain hit */
    vast__http_req r2 = *rq;
    int pn = snprintf(path, sizeof path, "/t/%s", a.event);
    r2.path = (vast__str){path, (size_t)pn};
    r2.query = (vast__str){a.hitq, a.hqn};
    handle_hit(k, &r2, head, close, v10);
    if (c->o.tap_forward == 2) forward_job(k, rq, a.location, a.locn);
    vast__cert_ans_free(&a);
    return 1;
  }
  if (a.location) {
    /* 302 to the original, no body: what the player's request would have got */
    char h[320];
    int hn = snprintf(
        h, sizeof h, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n%s%s%sLocation: ", NO_CACHE,
        close ? "Connection: close\r\n" : "", !close && v10 ? "Connection: keep-alive\r\n" : "");
    if (vast__bput(&b, &len, &cap, h, (size_t)hn) ||
        vast__bput(&b, &len, &cap, a.location, a.locn) ||
        vast__bput(&b, &len, &cap, "\r\n\r\n", 4)) {
      free(b);
      vast__cert_ans_free(&a);
      vast__conn_close(k);
      return 1;
    }
  }
  int pn = snprintf(path, sizeof path, "/t/%s", a.event);
  vast__http_req r2 = *rq;
  r2.path = (vast__str){path, (size_t)pn};
  r2.query = (vast__str){a.hitq, a.hqn};
  if (!a.location && vast__build_response(&b, &len, &cap, a.status, a.ctype, a.body, a.blen, head,
                                          close, v10, 1)) {
    free(b);
    vast__cert_ans_free(&a);
    vast__conn_close(k);
    return 1;
  }
  handle_hit_x(k, &r2, head, close, v10, b, len, a.status);
  vast__cert_ans_free(&a);
  return 1;
}

/*
 * The body of a POST whose head (head_len bytes) is parsed, avail bytes of it
 * there: 1 when the whole body is there; -1 when it must be waited for (its
 * bytes are reserved against the body budget, and k->body_need says how much
 * the request takes); 0 when it was refused and answered, closing: chunked
 * 411, longer than limit 413, budget spent 503. Counts the request unless -1.
 */
static int post_body(conn *k, const vast__http_req *rq, size_t head_len, size_t avail,
                     size_t limit) {
  vast_collector *c = k->w->c;
  size_t blen = (size_t)rq->content_length;
  int code = 0;
  const char *msg = NULL;
  if (rq->chunked) {
    code = 411, msg = "send a Content-Length\n";
  } else if (rq->content_length > limit) {
    code = 413, msg = "request body too large\n";
    vast__clog(c, "request body from %s refused: %llu bytes (limit %zu)", k->ip,
               (unsigned long long)rq->content_length, limit);
  } else if (avail < blen) {
    if (vast__body_reserve(k, head_len + blen) == 0) {
      k->body_need = head_len + blen;
      return -1;
    }
    code = 503, msg = "server busy\n";
    vast__clog(c, "request body from %s refused: %zu bytes of bodies already in flight", k->ip,
               (size_t)atomic_load(&c->body_bytes));
  }
  WINC(k->w, requests);
  if (code) {
    WINC(k->w, bad);
    vast__respond(k, code, "text/plain", msg, strlen(msg), 0, 1, rq->minor == 0);
    return 0;
  }
  k->body_need = 0;
  vast__body_release(k);
  return 1;
}

/*
 * POST /t/<event>: a beacon sent with navigator.sendBeacon() or fetch(). The
 * hit is what the URL says, as for GET; the body (up to BEACON_MAX_BODY) is
 * read and dropped. Returns the body bytes consumed, or -1 when the body is
 * not all there yet (k->body_need then says how much the request takes).
 */
#define BEACON_MAX_BODY 65536
static long beacon_post(conn *k, const vast__http_req *rq, size_t head_len, size_t avail) {
  int r = post_body(k, rq, head_len, avail, BEACON_MAX_BODY);
  if (r <= 0) return r;
  handle_hit(k, rq, 0, !rq->keep_alive || k->w->draining, rq->minor == 0);
  return (long)rq->content_length;
}

static void handle_request(conn *k, const vast__http_req *rq) {
  worker *w = k->w;
  vast_collector *c = w->c;
  WINC(w, requests);
  int head = rq->method.n == 4 && memcmp(rq->method.p, "HEAD", 4) == 0;
  int get = rq->method.n == 3 && memcmp(rq->method.p, "GET", 3) == 0;
  int close = !rq->keep_alive || w->draining;
  int v10 = rq->minor == 0;
  if (!get && !head) {
    WINC(w, bad);
    vast__respond(k, 405, "text/plain", "method not allowed\n", 19, 0, close || rq->has_body, v10);
    return;
  }
  if (rq->has_body) {
    WINC(w, bad);
    vast__respond(k, 400, "text/plain", "request body not accepted\n", 26, head, 1, v10);
    return;
  }
  const char *p = rq->path.p;
  size_t n = rq->path.n;
  if (n > 3 && memcmp(p, "/t/", 3) == 0) {
    handle_hit(k, rq, head, close, v10);
    return;
  }
  if (c->o.web && certify_route(k, rq, head, close, v10)) return;
  if (n == 8 && memcmp(p, "/healthz", 8) == 0) {
    if (atomic_load_explicit(&c->db_lost, memory_order_relaxed))
      vast__respond(k, 503, "text/plain", "database file deleted or replaced\n", 34, head, close,
                    v10);
    else
      vast__respond(k, 200, "text/plain", "ok\n", 3, head, close, v10);
  } else if (n == 6 && memcmp(p, "/stats", 6) == 0) {
    char *b = NULL;
    size_t len = 0, cap = 0;
    vast__stats_json(c, &b, &len, &cap);
    vast__respond(k, 200, "application/json", b, len, head, close, v10);
    free(b);
  } else if (n == 8 && memcmp(p, "/metrics", 8) == 0) {
    char *b = NULL;
    size_t len = 0, cap = 0;
    vast__stats_metrics(c, &b, &len, &cap);
    vast__respond(k, 200, "text/plain; version=0.0.4", b, len, head, close, v10);
    free(b);
  } else if (c->o.web) {
    handle_web_get(k, p, n, head, close, v10);
  } else {
    vast__respond(k, 404, "text/plain", "not found\n", 10, head, close, v10);
  }
}

/* ---- POST /api/...: bodies, and work on the thread pool ---- */

static void web_work(uv_work_t *req) {
  webjob *j = req->data;
  if (j->pn == 4 && !memcmp(j->path, "/tap", 4)) { /* GET /tap: the host is in body */
    vast__certify_tap(j->query, j->qn, j->body, j->bn, j->c->o.web_allow_private, &j->resp.status,
                      &j->resp.ctype, &j->resp.body, &j->resp.len);
    return;
  }
  if (j->pn == 4 && !memcmp(j->path, "/fwd", 4)) { /* query: URL; body: ip NUL ua */
    long st = 0;
    char msg[256];
    vast__certify_forward(j->query, j->body, j->body + strlen(j->body) + 1,
                          j->c->o.web_allow_private, &st, msg, sizeof msg);
    if (st < 200 || st > 399)
      vast__clog(j->c, "--tap-forward server: %s answered %ld%s%s", j->query, st,
                 msg[0] ? ": " : "", msg);
    return;
  }
  if (j->pn >= 12 && !memcmp(j->path, "/conformance", 12)) {
    vast__certify_page(j->c->o.db_path, j->path, j->pn, &j->resp.status, &j->resp.ctype,
                       &j->resp.body, &j->resp.len);
    return;
  }
  vast__web_api(j->path, j->pn, j->query, j->qn, j->body, j->bn, j->c->o.web_allow_private,
                &j->resp);
}

/* Back on the loop: the answer takes the job's slot; the connection flushes. */
static void web_after(uv_work_t *req, int status) {
  webjob *j = req->data;
  conn *k = j->k;
  if (j->slow) atomic_fetch_sub(&j->c->slow_busy, 1);
  if (k && !k->closing) {
    slot *s = NULL;
    for (size_t i = 0; i < k->scount && !s; i++) {
      slot *t = &k->slots[(k->shead + i) & (k->scap - 1)];
      if (t->job == j) s = t;
    }
    if (s) {
      int code = status == UV_ECANCELED ? 503 : j->resp.status ? j->resp.status : 500;
      size_t cap = 0;
      vast__count_status(k->w, code);
      s->job = NULL;
      if (code >= 400) WINC(k->w, bad);
      if (vast__build_response(&s->bytes, &s->len, &cap, code,
                               j->resp.ctype ? j->resp.ctype : "text/plain", j->resp.body,
                               j->resp.len, s->head, s->close, s->v10, 1))
        vast__conn_close(k);
      else
        vast__conn_flush(k);
    }
  }
  vast__web_resp_free(&j->resp);
  free(j->path);
  free(j);
}

/*
 * GET /tap and GET /conformance/<session>: the fetch and rewrite, or the
 * SQLite read, run on the thread pool as a slow /api/ call does (same cap);
 * the Host header travels as the job's body.
 */
static void tap_job(conn *k, const vast__http_req *rq, int close, int v10) {
  vast_collector *c = k->w->c;
  if (atomic_fetch_add(&c->slow_busy, 1) >= c->slow_max) {
    atomic_fetch_sub(&c->slow_busy, 1);
    static const char m[] = "busy: too many requests waiting on the network, retry later\n";
    vast__respond_web(k, 503, "text/plain", m, sizeof m - 1, 0, close, v10);
    return;
  }
  webjob *j = calloc(1, sizeof *j);
  char *mem = malloc(rq->path.n + rq->query.n + rq->host.n + 3);
  slot sl = {.head = 0, .close = (unsigned char)close, .v10 = (unsigned char)v10};
  sl.job = j;
  if (!j || !mem || vast__slot_push(k, sl) != 0) {
    free(j);
    free(mem);
    atomic_fetch_sub(&c->slow_busy, 1);
    vast__respond_web(k, 503, "text/plain", "out of memory\n", 14, 0, 1, v10);
    return;
  }
  j->slow = 1;
  j->k = k;
  j->c = c;
  j->path = mem;
  j->pn = rq->path.n;
  memcpy(mem, rq->path.p, rq->path.n);
  mem[rq->path.n] = 0;
  j->query = mem + rq->path.n + 1;
  j->qn = rq->query.n;
  if (rq->query.n) memcpy(j->query, rq->query.p, rq->query.n);
  j->query[rq->query.n] = 0;
  j->body = j->query + rq->query.n + 1;
  j->bn = rq->host.n;
  if (rq->host.n) memcpy(j->body, rq->host.p, rq->host.n);
  j->body[rq->host.n] = 0;
  j->req.data = j;
  if (close) k->close_after = 1;
  if (uv_queue_work(&k->w->loop, &j->req, web_work, web_after) != 0) {
    j->resp.status = 503;
    web_after(&j->req, 0);
  }
}

/*
 * --tap-forward server: fires the original URL of a tapped hit from the
 * collector (thread pool, under the slow-call cap; past it the forward is
 * dropped and logged) with the player's address or X-Device-IP and its
 * User-Agent or X-Device-User-Agent. Not tied to the connection.
 */
static void forward_job(conn *k, const vast__http_req *rq, const char *url, size_t un) {
  vast_collector *c = k->w->c;
  const char *ip = rq->device_ip.n ? rq->device_ip.p : k->ip;
  size_t ipn = rq->device_ip.n ? rq->device_ip.n : strlen(k->ip);
  const vast__str *ua = rq->device_ua.n ? &rq->device_ua : &rq->user_agent;
  if (atomic_fetch_add(&c->slow_busy, 1) >= c->slow_max) {
    atomic_fetch_sub(&c->slow_busy, 1);
    vast__clog(c, "--tap-forward server: busy, not forwarded: %.*s", (int)un, url);
    return;
  }
  webjob *j = calloc(1, sizeof *j);
  char *mem = malloc(5 + un + 1 + ipn + 1 + ua->n + 1);
  if (!j || !mem) {
    free(j);
    free(mem);
    atomic_fetch_sub(&c->slow_busy, 1);
    vast__clog(c, "--tap-forward server: out of memory, not forwarded: %.*s", (int)un, url);
    return;
  }
  j->slow = 1;
  j->c = c;
  j->path = mem;
  j->pn = 4;
  memcpy(mem, "/fwd", 5);
  j->query = mem + 5;
  memcpy(j->query, url, un);
  j->query[un] = 0;
  j->qn = un;
  j->body = j->query + un + 1;
  memcpy(j->body, ip, ipn);
  j->body[ipn] = 0;
  memcpy(j->body + ipn + 1, ua->p, ua->n);
  j->body[ipn + 1 + ua->n] = 0;
  j->bn = ipn + 1 + ua->n;
  j->req.data = j;
  if (uv_queue_work(&k->w->loop, &j->req, web_work, web_after) != 0) web_after(&j->req, 0);
}

/*
 * A POST to /api/... whose head is parsed: data[0..avail) follows the head.
 * Returns the body bytes consumed, or -1 when the body is not all there yet
 * (k->body_need then says how much the whole request takes).
 */
static long web_post(conn *k, const vast__http_req *rq, size_t head_len, const char *data,
                     size_t avail) {
  vast_collector *c = k->w->c;
  int close = !rq->keep_alive || k->w->draining, v10 = rq->minor == 0;
  if (!vast__web_api_ctype_ok(rq->content_type.p, rq->content_type.n, rq->api_client)) {
    /* what another web site can make a browser send without asking: refused
       before the body is read, and the connection closed */
    static const char m[] = "send Content-Type: application/xml or application/json "
                            "(or an X-Vastrack-Client header)\n";
    WINC(k->w, requests);
    WINC(k->w, bad);
    vast__respond_web(k, 415, "text/plain", m, sizeof m - 1, 0, 1, v10);
    return 0;
  }
  int r = post_body(k, rq, head_len, avail, c->o.max_body);
  if (r <= 0) return r;
  size_t blen = (size_t)rq->content_length;
  if (!vast__web_api_known(rq->path.p, rq->path.n)) {
    vast__respond_web(k, 404, "text/plain", "not found\n", 10, 0, close, v10);
    return (long)blen;
  }
  int slow = vast__web_api_slow(rq->path.p, rq->path.n, rq->query.p, rq->query.n, data, blen);
  if (slow && atomic_fetch_add(&c->slow_busy, 1) >= c->slow_max) {
    atomic_fetch_sub(&c->slow_busy, 1);
    static const char m[] = "busy: too many API requests waiting on the network, retry later\n";
    vast__respond_web(k, 503, "text/plain", m, sizeof m - 1, 0, close, v10);
    return (long)blen;
  }
  webjob *j = calloc(1, sizeof *j);
  char *mem = malloc(rq->path.n + rq->query.n + blen + 3);
  slot sl = {.head = 0, .close = (unsigned char)close, .v10 = (unsigned char)v10};
  sl.job = j;
  if (!j || !mem || vast__slot_push(k, sl) != 0) {
    free(j);
    free(mem);
    if (slow) atomic_fetch_sub(&c->slow_busy, 1);
    vast__respond_web(k, 503, "text/plain", "out of memory\n", 14, 0, 1, v10);
    return (long)blen;
  }
  j->slow = slow;
  j->k = k;
  j->c = c;
  j->path = mem;
  j->pn = rq->path.n;
  memcpy(mem, rq->path.p, rq->path.n);
  mem[rq->path.n] = 0;
  j->query = mem + rq->path.n + 1;
  j->qn = rq->query.n;
  if (rq->query.n) memcpy(j->query, rq->query.p, rq->query.n);
  j->query[rq->query.n] = 0;
  j->body = j->query + rq->query.n + 1;
  j->bn = blen;
  if (blen) memcpy(j->body, data, blen);
  j->body[blen] = 0;
  j->req.data = j;
  if (close) k->close_after = 1;
  if (uv_queue_work(&k->w->loop, &j->req, web_work, web_after) != 0) {
    /* cannot happen with a valid loop; answer instead of hanging */
    j->resp.status = 503;
    web_after(&j->req, 0);
  }
  return (long)blen;
}

void vast__job_detach(webjob *j) {
  j->k = NULL; /* web_after frees it */
}

long vast__route(conn *k, const vast__http_req *rq, size_t head_len, const char *data,
                 size_t avail) {
  if (rq->method.n == 4 && rq->path.n > 3 && memcmp(rq->method.p, "POST", 4) == 0 &&
      memcmp(rq->path.p, "/t/", 3) == 0)
    return beacon_post(k, rq, head_len, avail);
  if (rq->method.n == 4 && rq->method.p[0] == 'P' && k->w->c->o.web && rq->path.n > 5 &&
      memcmp(rq->method.p, "POST", 4) == 0 && memcmp(rq->path.p, "/api/", 5) == 0)
    return web_post(k, rq, head_len, data, avail);
  handle_request(k, rq);
  return 0;
}
