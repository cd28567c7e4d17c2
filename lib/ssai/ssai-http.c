/*
 * ssai-http.c: the HTTP/JSON front of the SSAI service (vast_ssai_serve). One
 * thread, poll(), keep-alive, request heads parsed by the collector's bounded
 * parser (lib/collect/collect-http.c), bodies by Content-Length only (at most 1 MiB),
 * and a small JSON reader for the request bodies. Routes: docs/ssai.md.
 *
 * Adding a break resolves a VAST tag (wrapper hops, each up to the fetch
 * timeout): that runs in a pool of RESOLVERS threads. The connection that
 * asked waits (its next pipelined requests stay buffered, so answers keep
 * their order); every other connection goes on being served. A finished
 * resolution comes back through a pipe the poll() loop watches.
 *
 * With a state directory, answers leave only once what the request
 * journalled is on disk (the journal's group commit, every few ms): a 200 to
 * a report means its beacons and position survive a kill -9.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "collect/collect-int.h"
#include "base/jsonw.h"
#include "ssai/ssai-int.h"
#include "vastrack/ssai.h"

#define MAX_CONNS 4096
#define MAX_BODY (1u << 20)
#define RESOLVERS 4

/* ---- a small JSON reader ---------------------------------------------------- */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jkind;

typedef struct jv {
  jkind k;
  double num;
  char *str;       /* J_STR (decoded, NUL-terminated) */
  struct jv *kids; /* J_ARR, J_OBJ */
  char **keys;     /* J_OBJ */
  size_t n, cap;
} jv;

typedef struct jp {
  const char *p, *e;
  int depth;
} jp;

static void jv_free(jv *v) {
  if (!v) return;
  for (size_t i = 0; i < v->n; i++) {
    jv_free(&v->kids[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->kids);
  free(v->keys);
  free(v->str);
}

static void ws(jp *p) {
  while (p->p < p->e && (*p->p == ' ' || *p->p == '\t' || *p->p == '\n' || *p->p == '\r'))
    p->p++;
}

static int utf8(char *o, unsigned c) {
  if (c < 0x80) return o[0] = (char)c, 1;
  if (c < 0x800) return o[0] = (char)(0xc0 | c >> 6), o[1] = (char)(0x80 | (c & 63)), 2;
  o[0] = (char)(0xe0 | c >> 12);
  o[1] = (char)(0x80 | ((c >> 6) & 63));
  o[2] = (char)(0x80 | (c & 63));
  return 3;
}

static int jstr(jp *p, char **out) {
  if (p->p >= p->e || *p->p != '"') return -1;
  p->p++;
  char *o = malloc((size_t)(p->e - p->p) + 1), *w = o;
  if (!o) return -1;
  while (p->p < p->e && *p->p != '"') {
    unsigned char c = (unsigned char)*p->p++;
    if (c < 0x20) goto bad;
    if (c != '\\') {
      *w++ = (char)c;
      continue;
    }
    if (p->p >= p->e) goto bad;
    c = (unsigned char)*p->p++;
    switch (c) {
    case '"':
    case '\\':
    case '/':
      *w++ = (char)c;
      break;
    case 'n':
      *w++ = '\n';
      break;
    case 't':
      *w++ = '\t';
      break;
    case 'r':
      *w++ = '\r';
      break;
    case 'b':
      *w++ = '\b';
      break;
    case 'f':
      *w++ = '\f';
      break;
    case 'u': {
      if (p->e - p->p < 4) goto bad;
      unsigned u = 0;
      for (int i = 0; i < 4; i++) {
        char h = *p->p++;
        u = u * 16 + (unsigned)(h >= '0' && h <= '9'   ? h - '0'
                                : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                       : 99);
        if (u > 0xffff) goto bad;
      }
      if (!u || (u >= 0xd800 && u <= 0xdfff)) goto bad; /* no NUL, no surrogates */
      w += utf8(w, u);
      break;
    }
    default:
      goto bad;
    }
  }
  if (p->p >= p->e) goto bad;
  p->p++;
  *w = 0;
  *out = o;
  return 0;
bad:
  free(o);
  return -1;
}

static int jval(jp *p, jv *v) {
  memset(v, 0, sizeof *v);
  ws(p);
  if (p->p >= p->e || ++p->depth > 16) return -1;
  int rc = -1;
  char c = *p->p;
  if (c == '{' || c == '[') {
    int obj = c == '{';
    v->k = obj ? J_OBJ : J_ARR;
    p->p++;
    ws(p);
    if (p->p < p->e && *p->p == (obj ? '}' : ']')) {
      p->p++;
      rc = 0;
      goto out;
    }
    for (;;) {
      if (v->n >= 100000) goto out;
      if (v->n == v->cap) { /* grown geometrically: a batch holds thousands */
        size_t nc = v->cap ? v->cap * 2 : 4;
        jv *nk = realloc(v->kids, nc * sizeof *nk);
        if (!nk) goto out;
        v->kids = nk;
        if (obj) {
          char **nkeys = realloc(v->keys, nc * sizeof *nkeys);
          if (!nkeys) goto out;
          v->keys = nkeys;
        }
        v->cap = nc;
      }
      memset(&v->kids[v->n], 0, sizeof *v->kids);
      if (obj) {
        v->keys[v->n] = NULL;
        ws(p);
        if (jstr(p, &v->keys[v->n]) != 0) {
          v->n++;
          goto out;
        }
        ws(p);
        if (p->p >= p->e || *p->p != ':') {
          v->n++;
          goto out;
        }
        p->p++;
      }
      int k = jval(p, &v->kids[v->n]);
      v->n++;
      if (k != 0) goto out;
      ws(p);
      if (p->p < p->e && *p->p == ',') {
        p->p++;
        continue;
      }
      if (p->p < p->e && *p->p == (obj ? '}' : ']')) {
        p->p++;
        rc = 0;
      }
      goto out;
    }
  } else if (c == '"') {
    v->k = J_STR;
    rc = jstr(p, &v->str);
  } else if (p->e - p->p >= 4 && !memcmp(p->p, "true", 4)) {
    v->k = J_BOOL, v->num = 1, p->p += 4, rc = 0;
  } else if (p->e - p->p >= 5 && !memcmp(p->p, "false", 5)) {
    v->k = J_BOOL, p->p += 5, rc = 0;
  } else if (p->e - p->p >= 4 && !memcmp(p->p, "null", 4)) {
    v->k = J_NULL, p->p += 4, rc = 0;
  } else {
    char tmp[64];
    size_t n = 0;
    while (p->p + n < p->e && n < sizeof tmp - 1 && strchr("+-0123456789.eE", p->p[n]))
      n++;
    memcpy(tmp, p->p, n);
    tmp[n] = 0;
    char *end;
    v->k = J_NUM;
    v->num = strtod(tmp, &end);
    if (n && end == tmp + n && isfinite(v->num)) {
      p->p += n;
      rc = 0;
    }
  }
out:
  p->depth--;
  return rc;
}

static int json_parse(const char *s, size_t n, jv *v) {
  jp p = {s, s + n, 0};
  if (jval(&p, v) != 0) {
    jv_free(v);
    return -1;
  }
  ws(&p);
  if (p.p != p.e) {
    jv_free(v);
    return -1;
  }
  return 0;
}

static const jv *jget(const jv *o, const char *key) {
  if (!o || o->k != J_OBJ) return NULL;
  for (size_t i = 0; i < o->n; i++)
    if (o->keys[i] && !strcmp(o->keys[i], key)) return &o->kids[i];
  return NULL;
}

static const char *jgets(const jv *o, const char *key) {
  const jv *v = jget(o, key);
  return v && v->k == J_STR ? v->str : NULL;
}

/* 1 and *out when key is a number; 0 absent or null; -1 wrong type. */
static int jgetn(const jv *o, const char *key, double *out) {
  const jv *v = jget(o, key);
  if (!v || v->k == J_NULL) return 0;
  if (v->k != J_NUM) return -1;
  *out = v->num;
  return 1;
}

/* ---- connections --------------------------------------------------------------- */

typedef struct conn {
  int fd;
  char *in;
  size_t n, cap;
  char *out;
  size_t on, ocap, off;
  int close_after;
  int pending;       /* a break being resolved: answer it before reading on */
  uint64_t wait_seq; /* answers leave once the journal is on disk up to here */
  uint64_t gen;      /* identifies the connection to its pending job */
} conn;

/* A break to resolve in the pool, and its answer. */
typedef struct job {
  struct job *next;
  uint64_t gen;
  char sid[80];
  char *url, *doc;
  vast__buf out;
  vast_err rc;
  vast_error err;
} job;

typedef struct pool {
  vast_ssai *s;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  job *todo, *todo_tail, *done;
  int stop;
  int wake[2]; /* written by a worker when a job is done */
  pthread_t thr[RESOLVERS];
  int n_thr;
} pool;

static void job_free(job *j) {
  if (!j) return;
  free(j->url);
  free(j->doc);
  free(j->out.p);
  free(j);
}

static void *resolver_main(void *arg) {
  pool *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->todo && !p->stop)
      pthread_cond_wait(&p->cv, &p->mu);
    if (p->stop) break;
    job *j = p->todo;
    p->todo = j->next;
    if (!p->todo) p->todo_tail = NULL;
    pthread_mutex_unlock(&p->mu);
    memset(&j->err, 0, sizeof j->err);
    j->rc = vast_ssai_break_add(p->s, j->sid, j->url, j->doc, j->doc ? strlen(j->doc) : 0,
                                vast__buf_write, &j->out, &j->err);
    pthread_mutex_lock(&p->mu);
    j->next = p->done;
    p->done = j;
    char one = 1;
    if (write(p->wake[1], &one, 1) < 0) { /* the pipe is full: the loop wakes anyway */
    }
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

static const char *reason(int st) {
  switch (st) {
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 409:
    return "Conflict";
  case 411:
    return "Length Required";
  case 413:
    return "Content Too Large";
  case 422:
    return "Unprocessable Content";
  case 502:
    return "Bad Gateway";
  default:
    return "Error";
  }
}

static void reply(conn *c, int status, const char *type, const char *body, size_t len) {
  char h[256];
  int hl =
      snprintf(h, sizeof h, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
               status, reason(status), type, len, c->close_after ? "Connection: close\r\n" : "");
  vast__buf b = {c->out, c->on, c->ocap, 0};
  if (vast__buf_write(&b, h, (size_t)hl) != 0 || vast__buf_write(&b, body, len) != 0)
    c->close_after = 1;
  c->out = b.p, c->on = b.n, c->ocap = b.cap;
}

static void reply_error(conn *c, int status, const char *msg) {
  vast__buf b = {0};
  vast__jw w;
  vast__jw_init(&w, vast__buf_write, &b);
  vast__jw_obj_begin(&w);
  vast__jw_kstr(&w, "error", msg);
  vast__jw_obj_end(&w);
  vast__jw_finish(&w);
  reply(c, status, "application/json", b.p ? b.p : "{}", b.p ? b.n : 2);
  free(b.p);
}

static int status_of(vast_err e) {
  switch (e) {
  case VAST_OK:
    return 200;
  case VAST_E_NOT_FOUND:
    return 404;
  case VAST_E_STATE:
    return 409;
  case VAST_E_INVAL:
    return 400;
  case VAST_E_NOMEM:
    return 503;
  default:
    return 502; /* resolution failed upstream */
  }
}

/* One report object of a consumption request. */
static vast_err do_report(vast_ssai *s, const char *sid, const jv *o) {
  double ad = -1, v;
  if (!sid && !(sid = jgets(o, "sessionId"))) return VAST_E_INVAL;
  vast_ssai_consumption r = {0, 0, 0, -1, 0, 0};
  if (jgetn(o, "ad", &ad) != 1 || ad < 0 || ad > 1e6 || ad != floor(ad)) return VAST_E_INVAL;
  r.ad = (unsigned)ad;
  if (jgetn(o, "wallTime", &v) == 1) r.wall_time = v;
  int seg = jgetn(o, "segment", &v);
  if (seg == 1) {
    if (v < 0 || v > 1e7 || v != floor(v)) return VAST_E_INVAL;
    r.segment = 1;
    r.index = (unsigned)v;
    if (jgetn(o, "segmentDuration", &r.seg_duration) != 1) return VAST_E_INVAL;
  } else if (seg == 0 && jgetn(o, "mediaTime", &r.media_time) == 1) {
  } else {
    return VAST_E_INVAL;
  }
  return vast_ssai_report(s, sid, &r);
}

static void route(vast_ssai *s, pool *pl, conn *c, const vast__http_req *rq, const char *body,
                  size_t blen) {
  char path[256];
  if (rq->path.n >= sizeof path) {
    reply_error(c, 404, "no such route");
    return;
  }
  memcpy(path, rq->path.p, rq->path.n);
  path[rq->path.n] = 0;
  int get = rq->method.n == 3 && !memcmp(rq->method.p, "GET", 3);
  int post = rq->method.n == 4 && !memcmp(rq->method.p, "POST", 4);
  int del = rq->method.n == 6 && !memcmp(rq->method.p, "DELETE", 6);
  if (!strcmp(path, "/healthz")) {
    reply(c, 200, "application/json", "{\"ok\":true}", 11);
    return;
  }
  if (!strcmp(path, "/metrics")) {
    vast__buf b = {0};
    vast_ssai_write_metrics(s, vast__buf_write, &b);
    reply(c, 200, "text/plain; version=0.0.4", b.p ? b.p : "", b.n);
    free(b.p);
    return;
  }
  jv body_v;
  memset(&body_v, 0, sizeof body_v);
  if (post && (!blen || json_parse(body, blen, &body_v) != 0 || body_v.k != J_OBJ)) {
    jv_free(&body_v);
    reply_error(c, 400, "the body must be one JSON object");
    return;
  }
  vast__buf out = {0};
  if (post && !strcmp(path, "/v1/reports")) { /* reports of many sessions */
    const jv *list = jget(&body_v, "reports");
    if (!list || list->k != J_ARR) {
      reply_error(c, 400, "reports (an array of reports with their sessionId) is required");
      goto done;
    }
    vast__jw w;
    vast__jw_init(&w, vast__buf_write, &out);
    vast__jw_obj_begin(&w);
    vast__jw_key(&w, "results");
    vast__jw_arr_begin(&w);
    size_t okn = 0;
    for (size_t i = 0; i < list->n; i++) {
      vast_err rc = do_report(s, NULL, &list->kids[i]);
      okn += rc == VAST_OK;
      vast__jw_str(&w, rc == VAST_OK ? "ok" : vast_errname(rc));
    }
    vast__jw_arr_end(&w);
    vast__jw_kint(&w, "accepted", (long long)okn);
    vast__jw_obj_end(&w);
    vast__jw_finish(&w);
    reply(c, 200, "application/json", out.p, out.n);
    goto done;
  }
  if (post && !strcmp(path, "/v1/sessions")) {
    vast_device d = {sizeof d,
                     jgets(&body_v, "deviceIp"),
                     jgets(&body_v, "userAgent"),
                     jgets(&body_v, "referer"),
                     jgets(&body_v, "acceptLanguage"),
                     jgets(&body_v, "requestedWith"),
                     0};
    char id[65];
    vast_err rc = vast_ssai_session_create(s, jgets(&body_v, "sessionId"), &d, id, sizeof id);
    if (rc != VAST_OK) {
      reply_error(c, status_of(rc),
                  rc == VAST_E_STATE   ? "session id already in use"
                  : rc == VAST_E_INVAL ? "deviceIp (an IP address) and userAgent are required; "
                                         "sessionId is 1-64 of [A-Za-z0-9._-]; no control "
                                         "characters"
                                       : vast_strerror(rc));
    } else {
      vast__jw w;
      vast__jw_init(&w, vast__buf_write, &out);
      vast__jw_obj_begin(&w);
      vast__jw_kstr(&w, "sessionId", id);
      vast__jw_obj_end(&w);
      vast__jw_finish(&w);
      reply(c, 201, "application/json", out.p, out.n);
    }
    goto done;
  }
  if (strncmp(path, "/v1/sessions/", 13) != 0) {
    reply_error(c, 404, "no such route");
    goto done;
  }
  char sid[80];
  const char *rest = path + 13, *slash = strchr(rest, '/');
  size_t sl = slash ? (size_t)(slash - rest) : strlen(rest);
  if (!sl || sl >= sizeof sid) {
    reply_error(c, 404, "no such session");
    goto done;
  }
  memcpy(sid, rest, sl);
  sid[sl] = 0;
  const char *sub = slash ? slash : "";
  if (del && !*sub) {
    vast_err rc = vast_ssai_session_end(s, sid);
    if (rc)
      reply_error(c, status_of(rc), "no such session");
    else
      reply(c, 200, "application/json", "{\"ended\":true}", 14);
  } else if (post && !strcmp(sub, "/breaks")) {
    const char *url = jgets(&body_v, "url"), *doc = jgets(&body_v, "vast");
    if (!url == !doc) {
      reply_error(c, 400, "give one of url (a VAST URL) or vast (a VAST document)");
      goto done;
    }
    job *j = calloc(1, sizeof *j);
    if (!j || !(url ? (j->url = strdup(url)) : (j->doc = strdup(doc)))) {
      job_free(j);
      reply_error(c, 503, "out of memory");
      goto done;
    }
    snprintf(j->sid, sizeof j->sid, "%s", sid);
    j->gen = c->gen;
    c->pending = 1; /* answered when the pool is done (resolved_answer) */
    pthread_mutex_lock(&pl->mu);
    if (pl->todo_tail)
      pl->todo_tail->next = j;
    else
      pl->todo = j;
    pl->todo_tail = j;
    pthread_cond_signal(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
  } else if (post && !strcmp(sub, "/reports")) {
    const jv *list = jget(&body_v, "reports");
    size_t n = list && list->k == J_ARR ? list->n : 1;
    vast__jw w;
    vast__jw_init(&w, vast__buf_write, &out);
    vast__jw_obj_begin(&w);
    vast__jw_key(&w, "results");
    vast__jw_arr_begin(&w);
    size_t okn = 0;
    int missing = 0;
    for (size_t i = 0; i < n; i++) {
      vast_err rc = do_report(s, sid, list && list->k == J_ARR ? &list->kids[i] : &body_v);
      if (rc == VAST_E_NOT_FOUND && i == 0 && n == 1) missing = 1;
      okn += rc == VAST_OK;
      vast__jw_str(&w, rc == VAST_OK ? "ok" : vast_errname(rc));
    }
    vast__jw_arr_end(&w);
    vast__jw_kint(&w, "accepted", (long long)okn);
    vast__jw_obj_end(&w);
    vast__jw_finish(&w);
    if (missing)
      reply_error(c, 404, "no such session or ad");
    else
      reply(c, 200, "application/json", out.p, out.n);
  } else if (post && !strcmp(sub, "/events")) {
    double ad = -1, media = -1, code = 0;
    const char *ev = jgets(&body_v, "event");
    if (jgetn(&body_v, "ad", &ad) != 1 || ad < 0 || ad > 1e6 || !ev ||
        jgetn(&body_v, "mediaTime", &media) < 0 || jgetn(&body_v, "code", &code) < 0) {
      reply_error(c, 400, "ad (a number) and event (a name) are required");
      goto done;
    }
    vast_err rc = vast_ssai_event(s, sid, (unsigned)ad, ev, media, (int)code);
    if (rc == VAST_OK || rc == VAST_E_NOT_PLAYED)
      reply(c, 200, "application/json", "{\"ok\":true}", 11);
    else
      reply_error(c, status_of(rc),
                  rc == VAST_E_STATE   ? "event not valid now"
                  : rc == VAST_E_INVAL ? "unknown or refused event"
                                       : "no such session or ad");
  } else if (get || post || del) {
    reply_error(c, 404, "no such route");
  } else {
    reply_error(c, 405, "method not allowed");
  }
done:
  free(out.p);
  jv_free(&body_v);
}

/* The answer of a break resolved in the pool. */
static void resolved_answer(conn *c, job *j) {
  if (j->rc == VAST_OK) {
    reply(c, 200, "application/json", j->out.p, j->out.n);
  } else {
    char m[600];
    snprintf(m, sizeof m, "%s%s%s",
             j->rc == VAST_E_NOT_FOUND ? "no such session" : vast_strerror(j->rc),
             j->err.message[0] ? ": " : "", j->err.message);
    reply_error(c, status_of(j->rc), m);
  }
  c->pending = 0;
}

/* Handles the complete requests buffered on c (none while a break of c is
   being resolved). 0 keep going, -1 close. */
static int serve_input(vast_ssai *s, pool *pl, conn *c) {
  static const vast__http_limits lim = {8192, 16384, 64};
  for (;;) {
    if (c->pending) return 0;
    vast__http_req rq;
    long k = vast__http_parse(c->in, c->n, &lim, &rq);
    if (k == 0) return 0;
    if (k < 0) {
      c->close_after = 1;
      reply_error(c, (int)-k, "bad request");
      return 0;
    }
    if (rq.chunked) {
      c->close_after = 1;
      reply_error(c, 411, "send the body with a Content-Length");
      return 0;
    }
    if (rq.content_length > MAX_BODY) {
      c->close_after = 1;
      reply_error(c, 413, "body larger than 1 MiB");
      return 0;
    }
    size_t need = (size_t)k + (size_t)rq.content_length;
    if (c->n < need) return 0;
    if (!rq.keep_alive) c->close_after = 1;
    route(s, pl, c, &rq, c->in + k, (size_t)rq.content_length);
    c->wait_seq = vast__ssai_journal_seq(s, 0);
    memmove(c->in, c->in + need, c->n - need);
    c->n -= need;
    if (c->close_after) return 0;
  }
}

vast_err vast_ssai_serve(vast_ssai *s, const char *addr, volatile int *stop,
                         void (*ready)(void *u, int port), void *u, char *msg, size_t cap) {
  char dummy[8];
  if (!msg || !cap) msg = dummy, cap = sizeof dummy;
  msg[0] = 0;
  if (!s || !addr || !stop) return VAST_E_INVAL;
  char host[128];
  const char *colon = strrchr(addr, ':');
  if (!colon || (size_t)(colon - addr) >= sizeof host) {
    snprintf(msg, cap, "listen address '%s' is not HOST:PORT", addr);
    return VAST_E_INVAL;
  }
  memcpy(host, addr, (size_t)(colon - addr));
  host[colon - addr] = 0;
  int port = atoi(colon + 1);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (port < 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    snprintf(msg, cap, "listen address '%s' is not IPv4:PORT", addr);
    return VAST_E_INVAL;
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 1024) != 0) {
    snprintf(msg, cap, "cannot listen on '%s': %s", addr, strerror(errno));
    if (lfd >= 0) close(lfd);
    return VAST_E_IO;
  }
  socklen_t sl = sizeof sa;
  getsockname(lfd, (struct sockaddr *)&sa, &sl);
  if (ready) ready(u, ntohs(sa.sin_port));
  conn *cs = calloc(MAX_CONNS, sizeof *cs);
  struct pollfd *pf = calloc(MAX_CONNS + 2, sizeof *pf);
  pool pl = {.s = s, .wake = {-1, -1}};
  pthread_mutex_init(&pl.mu, NULL);
  pthread_cond_init(&pl.cv, NULL);
  int pok = cs && pf && pipe2(pl.wake, O_NONBLOCK | O_CLOEXEC) == 0;
  for (int i = 0; pok && i < RESOLVERS; i++)
    if (pthread_create(&pl.thr[i], NULL, resolver_main, &pl) == 0) pl.n_thr++;
  if (!pok || !pl.n_thr) {
    snprintf(msg, cap, "cannot start the resolver threads");
    free(cs), free(pf), close(lfd);
    if (pl.wake[0] >= 0) close(pl.wake[0]), close(pl.wake[1]);
    return VAST_E_NOMEM;
  }
  size_t nc = 0;
  uint64_t gen = 0;
  while (!*stop) {
    uint64_t synced = vast__ssai_journal_seq(s, 1);
    int holding = 0;
    pf[0].fd = lfd;
    pf[0].events = nc < MAX_CONNS ? POLLIN : 0;
    pf[1].fd = pl.wake[0];
    pf[1].events = POLLIN;
    pf[1].revents = 0;
    for (size_t i = 0; i < nc; i++) {
      int out = cs[i].on > cs[i].off, hold = out && cs[i].wait_seq > synced;
      holding |= hold;
      pf[i + 2].fd = cs[i].fd;
      pf[i + 2].events = (short)(out && !hold ? POLLOUT : cs[i].pending ? 0 : POLLIN);
      pf[i + 2].revents = 0;
    }
    int r = poll(pf, nc + 2, holding ? 1 : 10);
    synced = vast__ssai_journal_seq(s, 1);
    vast_ssai_tick(s);
    if (r <= 0) continue;
    if (pf[1].revents & POLLIN) { /* breaks resolved: answer, then serve what waited */
      char drain[256];
      while (read(pl.wake[0], drain, sizeof drain) > 0) {
      }
      pthread_mutex_lock(&pl.mu);
      job *done = pl.done;
      pl.done = NULL;
      pthread_mutex_unlock(&pl.mu);
      while (done) {
        job *j = done;
        done = j->next;
        for (size_t i = 0; i < nc; i++)
          if (cs[i].gen == j->gen && cs[i].pending) {
            resolved_answer(&cs[i], j);
            cs[i].wait_seq = vast__ssai_journal_seq(s, 0);
            serve_input(s, &pl, &cs[i]);
            break;
          }
        job_free(j); /* its connection closed meanwhile: dropped */
      }
    }
    if (pf[0].revents & POLLIN) {
      for (;;) {
        if (nc >= MAX_CONNS) break;
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        memset(&cs[nc], 0, sizeof cs[nc]);
        cs[nc].fd = fd;
        cs[nc].gen = ++gen;
        pf[nc + 2].revents = 0;
        nc++;
      }
    }
    for (size_t i = 0; i < nc; i++) {
      conn *c = &cs[i];
      short ev = pf[i + 2].revents;
      int dead = 0;
      if (ev & (POLLERR | POLLNVAL)) dead = 1;
      if (!dead && (ev & (POLLIN | POLLHUP))) {
        if (c->n + 65536 > c->cap) {
          size_t ncap = c->cap ? c->cap * 2 : 65536;
          if (ncap > MAX_BODY + 65536 + 65536) ncap = MAX_BODY + 65536 + 65536;
          char *np = ncap > c->cap ? realloc(c->in, ncap) : NULL;
          if (np) c->in = np, c->cap = ncap;
        }
        ssize_t k = c->cap > c->n ? recv(c->fd, c->in + c->n, c->cap - c->n, 0) : -1;
        if (k > 0) {
          c->n += (size_t)k;
          serve_input(s, &pl, c);
        } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
          dead = 1;
        }
      }
      if (!dead && c->on > c->off && c->wait_seq <= synced) {
        ssize_t k = send(c->fd, c->out + c->off, c->on - c->off, MSG_NOSIGNAL);
        if (k > 0)
          c->off += (size_t)k;
        else if (k < 0 && errno != EAGAIN && errno != EINTR)
          dead = 1;
        if (c->off == c->on) {
          c->off = c->on = 0;
          if (c->close_after) dead = 1;
        }
      }
      if (dead) {
        close(c->fd);
        free(c->in);
        free(c->out);
        cs[i] = cs[nc - 1];
        pf[i + 2] = pf[nc + 1];
        nc--;
        i--;
      }
    }
  }
  pthread_mutex_lock(&pl.mu);
  pl.stop = 1;
  pthread_cond_broadcast(&pl.cv);
  pthread_mutex_unlock(&pl.mu);
  for (int i = 0; i < pl.n_thr; i++) /* each finishes the resolution it runs */
    pthread_join(pl.thr[i], NULL);
  for (job *j = pl.todo, *nj; j; j = nj)
    nj = j->next, job_free(j);
  for (job *j = pl.done, *nj; j; j = nj)
    nj = j->next, job_free(j);
  close(pl.wake[0]);
  close(pl.wake[1]);
  pthread_mutex_destroy(&pl.mu);
  pthread_cond_destroy(&pl.cv);
  for (size_t i = 0; i < nc; i++)
    close(cs[i].fd), free(cs[i].in), free(cs[i].out);
  free(cs);
  free(pf);
  close(lfd);
  return VAST_OK;
}
