/*
 * certify.c: the collector's player-certification routes. GET /vast and
 * GET /vmap answer the test ad server's tags (adserver.c) for the base URL
 * the player used (its Host header) and record each served response as a
 * hit with event "served" in the session, its query holding the parameters,
 * so the conformance report knows what was served.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certify-int.h"

void vast__cert_ans_free(vast__cert_ans *a) {
  if (!a) return;
  free(a->body);
  free(a->hitq);
  a->body = a->hitq = NULL;
}

static void text(vast__cert_ans *a, int status, const char *msg) {
  a->status = status;
  a->ctype = "text/plain; charset=utf-8";
  a->body = strdup(msg);
  a->blen = a->body ? strlen(a->body) : 0;
}

typedef struct sbuf {
  char *p;
  size_t n, cap;
  int fail;
} sbuf;

static int sbuf_put(void *u, const char *d, size_t n) {
  sbuf *b = u;
  if (b->fail) return -1;
  if (b->n + n + 1 > b->cap) {
    size_t nc = (b->n + n + 1) * 2;
    char *np = realloc(b->p, nc);
    if (!np) return b->fail = -1;
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->n, d, n);
  b->n += n;
  b->p[b->n] = 0;
  return 0;
}

/* A Host header fit to build URLs from: host, [v6] or host:port characters. */
static int host_ok(const char *h, size_t n) {
  if (n == 0 || n > 255) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = h[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
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
  snprintf(out, cap, "s%llx-%llx", (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000, n);
}

static int adserver(int vmap, const char *q, size_t qn, const char *host, size_t hn,
                    vast__cert_ans *a) {
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
  sbuf b = {0};
  char msg[256];
  int status = 200;
  vast_err e = vast_adserver_write(vmap ? VAST_ADSERVER_VMAP : VAST_ADSERVER_VAST, base, sid, qz,
                                   sbuf_put, &b, &status, msg, sizeof msg);
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
    vast__cert_ans_free(a);
    text(a, 503, "out of memory\n");
    return 1;
  }
  a->hqn = (size_t)snprintf(a->hitq, hq, "sid=%s&kind=%s%s%s", sid, vmap ? "vmap" : "vast",
                            qn ? "&" : "", qz);
  free(qz);
  snprintf(a->event, sizeof a->event, "served");
  return 1;
}

int vast__certify_route(const char *path, size_t pn, const char *query, size_t qn,
                        const char *host, size_t hn, vast__cert_ans *a) {
  memset(a, 0, sizeof *a);
  if (pn == 5 && !memcmp(path, "/vast", 5)) return adserver(0, query, qn, host, hn, a);
  if (pn == 5 && !memcmp(path, "/vmap", 5)) return adserver(1, query, qn, host, hn, a);
  return 0;
}
