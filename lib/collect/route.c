/*
 * route.c: the collector's request routing. A tracking request (GET, HEAD or
 * a beacon POST of /t/<event>) becomes a hit record handed to the writer (or
 * this loop's journal); /healthz, /stats and /metrics are answered here. With
 * the web UI the routes of the site (vast__site, collect-int.h: the web UI's
 * pages and API, lib/web; player certification, lib/certify) are looked up in
 * its tables and answered on the loop or run on libuv's thread pool, their
 * POST bodies read against the collector's body budget. The collector knows
 * those modules only through the tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/server-int.h"

/* A thread-pool job: a POOL route's request, or a --tap-forward fire. */
struct webjob {
  uv_work_t req;
  conn *k; /* NULL once the connection is gone (a fire has none) */
  vast_collector *c;
  const vast__route *rt; /* NULL: fire rq.query with site->forward */
  int slow;              /* counted in slow_busy */
  vast__route_req rq;    /* NUL-terminated copies, in mem */
  char *mem;
  vast__route_ans ans;
};

void vast__route_ans_free(vast__route_ans *a) {
  if (!a) return;
  free(a->owned);
  free(a->hitq);
  a->owned = a->hitq = NULL;
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
  if (evn < 0 || !vast__wire_event_ok(ev, (size_t)evn)) {
    *bad = 1;
    return NULL;
  }
  vast__str val[VAST__WIRE_NFIELDS] = {{0}};
  int have[VAST__WIRE_NFIELDS] = {0};
  const char *q = rq->query.p, *qe = q + rq->query.n;
  while (q && q < qe) {
    const char *amp = memchr(q, '&', (size_t)(qe - q));
    const char *pe = amp ? amp : qe;
    const char *eq = memchr(q, '=', (size_t)(pe - q));
    const char *ke = eq ? eq : pe;
    int f = vast__wire_field_of(&c->map, q, (size_t)(ke - q));
    if (f != VAST__WIRE_NFIELDS && !have[f]) {
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
  for (int f = VAST__WIRE_AD; f <= VAST__WIRE_SID; f++) {
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
  if (have[VAST__WIRE_CODE] && val[VAST__WIRE_CODE].n > 0 && val[VAST__WIRE_CODE].n < 10) {
    code = 0;
    for (size_t i = 0; i < val[VAST__WIRE_CODE].n; i++) {
      char ch = val[VAST__WIRE_CODE].p[i];
      if (ch < '0' || ch > '9') {
        code = -1;
        break;
      }
      code = code * 10 + (ch - '0');
    }
  }
  if (have[VAST__WIRE_R] && val[VAST__WIRE_R].n == 3 && memcmp(val[VAST__WIRE_R].p, "204", 3) == 0)
    *r204 = 1;
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

/*
 * A tracking request (GET, HEAD, or a beacon POST whose body was read). With
 * ok (a whole response, malloc'd, owned from here on), the hit is answered
 * with it instead of the GIF once stored (okcode its status): the test ad
 * server's tags and the tap's redirects (a route's record: answer() below).
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

/* ---- the site's routes ---- */

/*
 * The route of the site for a POST (post) or GET and the path p[0..n); NULL
 * when none. With use_match a route's match callback must agree too.
 */
static const vast__route *lookup(const vast__site *site, int post, const char *p, size_t n,
                                 int use_match) {
  for (const vast__route *const *t = site->tables; *t; t++)
    for (const vast__route *r = *t; r->method; r++) {
      if ((r->method[0] == 'P') != post) continue;
      size_t rl = strlen(r->path);
      int hit = r->flags & VAST__ROUTE_PREFIX ? n > rl && memcmp(p, r->path, rl) == 0
                                              : n == rl && memcmp(p, r->path, n) == 0;
      if (hit && (!use_match || !r->match || r->match(p, n))) return r;
    }
  return NULL;
}

/* The request as a route sees it (slices of rq; body[0..bn)). */
static void route_req_of(conn *k, const vast__http_req *rq, const char *body, size_t bn,
                         vast__route_req *out) {
  vast_collector *c = k->w->c;
  *out = (vast__route_req){.path = rq->path.p,
                           .pn = rq->path.n,
                           .query = rq->query.n ? rq->query.p : "",
                           .qn = rq->query.n,
                           .host = rq->host.n ? rq->host.p : "",
                           .hn = rq->host.n,
                           .body = bn ? body : "",
                           .bn = bn,
                           .ctype = rq->content_type.n ? rq->content_type.p : "",
                           .cn = rq->content_type.n,
                           .api_client = rq->api_client,
                           .db_path = c->o.db_path,
                           .allow_private = c->o.web_allow_private};
}

/*
 * A job for the thread pool with copies of rq's path, query, host and body
 * (one allocation, each NUL-terminated); NULL when out of memory.
 */
static webjob *job_new(vast_collector *c, const vast__route *rt, const vast__route_req *rq,
                       int slow) {
  webjob *j = calloc(1, sizeof *j);
  char *m = malloc(rq->pn + rq->qn + rq->hn + rq->bn + 4);
  if (!j || !m) {
    free(j);
    free(m);
    return NULL;
  }
  j->c = c;
  j->rt = rt;
  j->slow = slow;
  j->mem = m;
  j->rq = *rq;
  j->rq.ctype = "";
  j->rq.cn = 0;
  const char **dst[4] = {&j->rq.path, &j->rq.query, &j->rq.host, &j->rq.body};
  const char *src[4] = {rq->path, rq->query, rq->host, rq->body};
  size_t len[4] = {rq->pn, rq->qn, rq->hn, rq->bn};
  for (int i = 0; i < 4; i++) {
    if (len[i]) memcpy(m, src[i], len[i]);
    m[len[i]] = 0;
    *dst[i] = m;
    m += len[i] + 1;
  }
  j->req.data = j;
  return j;
}

static void job_free(webjob *j) {
  vast__route_ans_free(&j->ans);
  free(j->mem);
  free(j);
}

/* On the pool: the route, or a --tap-forward fire (query: the URL; body:
   the device address, NUL, the device User-Agent). */
static void job_work(uv_work_t *req) {
  webjob *j = req->data;
  if (j->rt) {
    j->rt->run(&j->rq, &j->ans);
    return;
  }
  long st = 0;
  char msg[256];
  j->c->site->forward(j->rq.query, j->rq.body, j->rq.body + strlen(j->rq.body) + 1,
                      j->rq.allow_private, &st, msg, sizeof msg);
  if (st < 200 || st > 399)
    vast__clog(j->c, "--tap-forward server: %s answered %ld%s%s", j->rq.query, st,
               msg[0] ? ": " : "", msg);
}

/* Back on the loop: the answer takes the job's slot; the connection flushes. */
static void job_after(uv_work_t *req, int status) {
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
      int code = status == UV_ECANCELED ? 503 : j->ans.status ? j->ans.status : 500;
      size_t cap = 0;
      vast__count_status(k->w, code);
      s->job = NULL;
      if (code >= 400) WINC(k->w, bad);
      if (vast__build_response(&s->bytes, &s->len, &cap, code,
                               j->ans.ctype ? j->ans.ctype : "text/plain", j->ans.body, j->ans.len,
                               s->head, s->close, s->v10, j->c->site->headers))
        vast__conn_close(k);
      else
        vast__conn_flush(k);
    }
  }
  job_free(j);
}

void vast__job_detach(webjob *j) {
  j->k = NULL; /* job_after frees it */
}

/*
 * Runs route r for rq on the thread pool; its answer takes a slot of k, in
 * order. Work that may wait on the network (VAST__ROUTE_SLOW, or r->slow)
 * gets half the pool at most, so it cannot starve the fast routes: past that
 * it is answered 503.
 */
static void pool_job(conn *k, const vast__route *r, const vast__route_req *rq, int head, int close,
                     int v10) {
  vast_collector *c = k->w->c;
  int slow = (r->flags & VAST__ROUTE_SLOW) || (r->slow && r->slow(rq));
  if (slow && atomic_fetch_add(&c->slow_busy, 1) >= c->slow_max) {
    atomic_fetch_sub(&c->slow_busy, 1);
    static const char m[] = "busy: too many requests waiting on the network, retry later\n";
    static const char ma[] = "busy: too many API requests waiting on the network, retry later\n";
    int api = r->flags & VAST__ROUTE_BODY;
    vast__respond_web(k, 503, "text/plain", api ? ma : m, api ? sizeof ma - 1 : sizeof m - 1, head,
                      close, v10);
    return;
  }
  webjob *j = job_new(c, r, rq, slow);
  slot sl = {.job = j,
             .head = (unsigned char)head,
             .close = (unsigned char)close,
             .v10 = (unsigned char)v10};
  if (!j || vast__slot_push(k, sl) != 0) {
    if (j) job_free(j);
    if (slow) atomic_fetch_sub(&c->slow_busy, 1);
    vast__respond_web(k, 503, "text/plain", "out of memory\n", 14, 0, 1, v10);
    return;
  }
  j->k = k;
  if (close) k->close_after = 1;
  if (uv_queue_work(&k->w->loop, &j->req, job_work, job_after) != 0) {
    /* cannot happen with a valid loop; answer instead of hanging */
    j->ans.status = 503;
    job_after(&j->req, 0);
  }
}

/*
 * --tap-forward server: fires the original URL of a tapped hit from the
 * collector (thread pool, under the slow-work cap; past it the forward is
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
  char *dev = malloc(ipn + 1 + ua->n);
  webjob *j = NULL;
  if (dev) {
    memcpy(dev, ip, ipn);
    dev[ipn] = 0;
    if (ua->n) memcpy(dev + ipn + 1, ua->p, ua->n);
    vast__route_req fq = {.path = "",
                          .query = url,
                          .qn = un,
                          .host = "",
                          .body = dev,
                          .bn = ipn + 1 + ua->n,
                          .ctype = "",
                          .allow_private = c->o.web_allow_private};
    j = job_new(c, NULL, &fq, 1);
    free(dev);
  }
  if (!j) {
    atomic_fetch_sub(&c->slow_busy, 1);
    vast__clog(c, "--tap-forward server: out of memory, not forwarded: %.*s", (int)un, url);
    return;
  }
  if (uv_queue_work(&k->w->loop, &j->req, job_work, job_after) != 0) job_after(&j->req, 0);
}

/*
 * The answer of a route run on the loop. One with a record is stored like a
 * hit and sent once the hit is stored, so a collector that answered a served
 * tag has it; one with a location too is answered 302 to it, or (tap_forward)
 * like a plain hit, the original fired from here with tap_forward 2.
 */
static void answer(conn *k, const vast__http_req *rq, vast__route_ans *a, int head, int close,
                   int v10) {
  vast_collector *c = k->w->c;
  if (!a->event[0]) {
    vast__respond_web(k, a->status, a->ctype, a->body, a->len, head, close, v10);
    vast__route_ans_free(a);
    return;
  }
  char *b = NULL;
  size_t len = 0, cap = 0;
  char path[80];
  int pn = snprintf(path, sizeof path, "/t/%s", a->event);
  vast__http_req r2 = *rq;
  r2.path = (vast__str){path, (size_t)pn};
  r2.query = (vast__str){a->hitq, a->hqn};
  if (a->location && c->o.tap_forward) { /* none or server: a plain hit */
    handle_hit(k, &r2, head, close, v10);
    if (c->o.tap_forward == 2 && c->site->forward) forward_job(k, rq, a->location, a->locn);
    vast__route_ans_free(a);
    return;
  }
  int fail;
  if (a->location) {
    /* 302 to the original, no body: what the player's request would have got */
    char h[320];
    int hn = snprintf(
        h, sizeof h, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n%s%s%sLocation: ", NO_CACHE,
        close ? "Connection: close\r\n" : "", !close && v10 ? "Connection: keep-alive\r\n" : "");
    fail = vast__bput(&b, &len, &cap, h, (size_t)hn) ||
           vast__bput(&b, &len, &cap, a->location, a->locn) ||
           vast__bput(&b, &len, &cap, "\r\n\r\n", 4);
  } else {
    fail = vast__build_response(&b, &len, &cap, a->status, a->ctype, a->body, a->len, head, close,
                                v10, c->site->headers);
  }
  if (fail) {
    free(b);
    vast__route_ans_free(a);
    vast__conn_close(k);
    return;
  }
  handle_hit_x(k, &r2, head, close, v10, b, len, a->status);
  vast__route_ans_free(a);
}

/* GET or HEAD of a path of the site (or of none: 404; of a POST route: 405). */
static void site_get(conn *k, const vast__http_req *rq, int head, int close, int v10) {
  const vast__site *site = k->w->c->site;
  const vast__route *r = lookup(site, 0, rq->path.p, rq->path.n, 1);
  if (!r) {
    if (lookup(site, 1, rq->path.p, rq->path.n, 1))
      vast__respond_web(k, 405, "text/plain", "use POST\n", 9, head, close, v10);
    else
      vast__respond_web(k, 404, "text/plain", "not found\n", 10, head, close, v10);
    return;
  }
  vast__route_req q;
  route_req_of(k, rq, NULL, 0, &q);
  if (r->flags & VAST__ROUTE_POOL) {
    pool_job(k, r, &q, head, close, v10);
    return;
  }
  vast__route_ans a;
  memset(&a, 0, sizeof a);
  r->run(&q, &a);
  answer(k, rq, &a, head, close, v10);
}

/*
 * A POST to a body route r whose head is parsed: data[0..avail) follows the
 * head. Returns the body bytes consumed, or -1 when the body is not all
 * there yet (k->body_need then says how much the whole request takes).
 */
static long site_post(conn *k, const vast__route *r, const vast__http_req *rq, size_t head_len,
                      const char *data, size_t avail) {
  vast_collector *c = k->w->c;
  int close = !rq->keep_alive || k->w->draining, v10 = rq->minor == 0;
  vast__route_req q;
  route_req_of(k, rq, NULL, 0, &q);
  const char *refused = r->admit ? r->admit(&q) : NULL;
  if (refused) {
    /* e.g. what another web site can make a browser send without asking:
       refused before the body is read, and the connection closed */
    WINC(k->w, requests);
    WINC(k->w, bad);
    vast__respond_web(k, 415, "text/plain", refused, strlen(refused), 0, 1, v10);
    return 0;
  }
  int rr = post_body(k, rq, head_len, avail, c->o.max_body);
  if (rr <= 0) return rr;
  size_t blen = (size_t)rq->content_length;
  if (r->match && !r->match(rq->path.p, rq->path.n)) {
    vast__respond_web(k, 404, "text/plain", "not found\n", 10, 0, close, v10);
    return (long)blen;
  }
  q.body = blen ? data : "";
  q.bn = blen;
  pool_job(k, r, &q, 0, close, v10);
  return (long)blen;
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
  } else if (c->site && n == 10 && memcmp(p, "/api/stats", 10) == 0) {
    char *b = NULL; /* the dashboard's numbers: the collector's own */
    size_t len = 0, cap = 0;
    vast__stats_web(c, &b, &len, &cap);
    vast__respond_web(k, 200, "application/json", b, len, head, close, v10);
    free(b);
  } else if (c->site) {
    site_get(k, rq, head, close, v10);
  } else {
    vast__respond(k, 404, "text/plain", "not found\n", 10, head, close, v10);
  }
}

long vast__route_request(conn *k, const vast__http_req *rq, size_t head_len, const char *data,
                         size_t avail) {
  int post = rq->method.n == 4 && memcmp(rq->method.p, "POST", 4) == 0;
  if (post && rq->path.n > 3 && memcmp(rq->path.p, "/t/", 3) == 0)
    return beacon_post(k, rq, head_len, avail);
  const vast__site *site = k->w->c->site;
  const vast__route *r = post && site ? lookup(site, 1, rq->path.p, rq->path.n, 0) : NULL;
  if (r) return site_post(k, r, rq, head_len, data, avail);
  handle_request(k, rq);
  return 0;
}
