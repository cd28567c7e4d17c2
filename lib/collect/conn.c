/*
 * conn.c: the collector's connections. A connection keeps a FIFO of response
 * slots so pipelined requests are answered in order: in durable mode a
 * tracking hit's slot waits until its hit is stored (or failed, answered
 * 503); a thread-pool job's slot until the job is done; every other answer
 * queues behind earlier slots. Reading pauses while max_pipeline slots are
 * open. Also here: building the answers (the ones to durable hits built once
 * per process, so answering a hit is one memcpy), the parse loop over the
 * bytes received, and lingering close. Reading, writing, shutdown and close
 * go through the worker's socket backend (w->io).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/jsonw.h"
#include "collect/server-int.h"

const unsigned char vast__gif[43] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xff, 0xff,
    0xff, 0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

static void conn_process(conn *k, const char *data, size_t len, int from_partial);

/* Counts an answer by status for /metrics. */
void vast__count_status(worker *w, int code) {
  for (size_t i = 0; i < NSTATUS; i++)
    if (vast__status_codes[i] == code) {
      WINC(w, status[i]);
      return;
    }
}

void vast__hit_unref(vast__hit *h) {
  if (h && atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) == 1) free(h);
}

static const char *reason(int code) {
  switch (code) {
  case 200:
    return "OK";
  case 204:
    return "No Content";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 411:
    return "Length Required";
  case 413:
    return "Content Too Large";
  case 414:
    return "URI Too Long";
  case 431:
    return "Request Header Fields Too Large";
  case 501:
    return "Not Implemented";
  case 503:
    return "Service Unavailable";
  case 505:
    return "HTTP Version Not Supported";
  default:
    return "Error";
  }
}

int vast__bput(char **b, size_t *len, size_t *cap, const void *p, size_t n) {
  if (*len + n > *cap) {
    size_t nc = *cap ? *cap : 1024;
    while (nc < *len + n)
      nc *= 2;
    char *nb = realloc(*b, nc);
    if (!nb) return -1;
    *b = nb;
    *cap = nc;
  }
  memcpy(*b + *len, p, n);
  *len += n;
  return 0;
}

/*
 * Builds a whole response into *b. Tracking answers (the GIF, 204) and errors
 * carry the no-cache headers; close adds "Connection: close", v10 with
 * keep-alive adds "Connection: keep-alive".
 */
int vast__build_response(char **b, size_t *len, size_t *cap, int code, const char *ctype,
                         const void *body, size_t blen, int head, int close, int v10,
                         const char *headers) {
  char h[1024];
  int n = snprintf(h, sizeof h, "HTTP/1.1 %d %s\r\n", code, reason(code));
  if (ctype) n += snprintf(h + n, sizeof h - (size_t)n, "Content-Type: %s\r\n", ctype);
  if (code != 204) n += snprintf(h + n, sizeof h - (size_t)n, "Content-Length: %zu\r\n", blen);
  n += snprintf(h + n, sizeof h - (size_t)n, "%s%s%s\r\n", NO_CACHE,
                close ? "Connection: close\r\n" : "",
                !close && v10 ? "Connection: keep-alive\r\n" : "");
  if (headers) { /* the site's answers: its headers before the empty line */
    n -= 2;
    n += snprintf(h + n, sizeof h - (size_t)n, "%s\r\n", headers);
  }
  if (vast__bput(b, len, cap, h, (size_t)n)) return -1;
  if (!head && blen && code != 204) return vast__bput(b, len, cap, body, blen);
  return 0;
}

/*
 * The answers to durable tracking hits (200 vast__gif, 204, 503) for each HEAD,
 * close and HTTP/1.0 combination, built once so the hot path is one memcpy.
 */
enum { HIT_RESP_MAX = 384 };
static char hit_resp_buf[3][2][2][2][HIT_RESP_MAX];
static size_t hit_resp_len[3][2][2][2]; /* 0: not built, use vast__build_response */

static void hit_resp_init(void) {
  static const int codes[3] = {200, 204, 503};
  for (int ci = 0; ci < 3; ci++)
    for (int h = 0; h < 2; h++)
      for (int cl = 0; cl < 2; cl++)
        for (int v = 0; v < 2; v++) {
          char *b = NULL;
          size_t len = 0, cap = 0;
          int gif = codes[ci] == 200;
          if (vast__build_response(&b, &len, &cap, codes[ci], gif ? "image/gif" : NULL,
                                   gif ? vast__gif : NULL, gif ? sizeof vast__gif : 0, h, cl, v,
                                   NULL) == 0 &&
              len <= HIT_RESP_MAX) {
            memcpy(hit_resp_buf[ci][h][cl][v], b, len);
            hit_resp_len[ci][h][cl][v] = len;
          }
          free(b);
        }
}

static pthread_once_t hit_resp_once = PTHREAD_ONCE_INIT;

void vast__responses_init(void) {
  pthread_once(&hit_resp_once, hit_resp_init);
}

static int put_hit_response(char **b, size_t *len, size_t *cap, int code, int head, int close,
                            int v10) {
  int ci = code == 200 ? 0 : code == 204 ? 1 : 2;
  head = !!head, close = !!close, v10 = !!v10;
  size_t n = hit_resp_len[ci][head][close][v10];
  if (n) return vast__bput(b, len, cap, hit_resp_buf[ci][head][close][v10], n);
  int gif = code == 200;
  return vast__build_response(b, len, cap, code, gif ? "image/gif" : NULL, gif ? vast__gif : NULL,
                              gif ? sizeof vast__gif : 0, head, close, v10, NULL);
}

static void wait_add(conn *k) {
  if (k->in_wait) return;
  worker *w = k->w;
  k->in_wait = 1;
  k->wprev = NULL;
  k->wnext = w->waiting;
  if (w->waiting) w->waiting->wprev = k;
  w->waiting = k;
}

static void wait_del(conn *k) {
  if (!k->in_wait) return;
  worker *w = k->w;
  k->in_wait = 0;
  if (k->wprev)
    k->wprev->wnext = k->wnext;
  else
    w->waiting = k->wnext;
  if (k->wnext) k->wnext->wprev = k->wprev;
}

/* Gives back what the connection reserved of the body budget. */
void vast__body_release(conn *k) {
  if (!k->body_held) return;
  atomic_fetch_sub(&k->w->c->body_bytes, k->body_held);
  k->body_held = 0;
}

/* Reserves the bytes of a POST request that has to be waited for against the
   collector-wide budget, so many slow uploads cannot take all memory.
   Returns 0, or -1 (answer 503) when the budget is spent. */
int vast__body_reserve(conn *k, size_t want) {
  if (k->body_held >= want) return 0;
  vast_collector *c = k->w->c;
  size_t add = want - k->body_held;
  if (atomic_fetch_add(&c->body_bytes, add) + add > c->body_cap) {
    atomic_fetch_sub(&c->body_bytes, add);
    return -1;
  }
  k->body_held = want;
  return 0;
}

/* Frees a closed connection: what libuv's close callback does (epoll), and
   what the io_uring loop does once no operation of the connection is in
   flight. */
void vast__conn_free(conn *k) {
  worker *w = k->w;
  vast__body_release(k);
  for (size_t i = 0; i < k->scount; i++) {
    slot *s = &k->slots[(k->shead + i) & (k->scap - 1)];
    vast__hit_unref(s->hit);
    free(s->bytes);
    if (s->job) vast__job_detach(s->job); /* it frees itself when done */
  }
  if (k->prev)
    k->prev->next = k->next;
  else
    w->conns = k->next;
  if (k->next) k->next->prev = k->prev;
  w->nconns--;
  atomic_fetch_sub(&w->c->open, 1);
  free(k->slots);
  free(k->partial);
  free(k->wbuf);
  free(k->fbuf);
  if (k->fd >= 0) close(k->fd); /* io_uring's socket (epoll: libuv closed it) */
  free(k);
  vast__worker_maybe_finish(w);
}

void vast__conn_close(conn *k) {
  if (k->closing) return;
  k->closing = 1;
  wait_del(k);
  k->w->io->close(k);
}

int vast__slot_push(conn *k, slot s) {
  if (k->scount == k->scap) {
    size_t nc = k->scap ? k->scap * 2 : 8;
    slot *ns = malloc(nc * sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < k->scount; i++)
      ns[i] = k->slots[(k->shead + i) & (k->scap - 1)];
    free(k->slots);
    k->slots = ns;
    k->scap = nc;
    k->shead = 0;
  }
  k->slots[(k->shead + k->scount) & (k->scap - 1)] = s;
  k->scount++;
  return 0;
}

/*
 * Queues a ready response: straight into the write buffer when nothing is
 * waiting ahead of it, else as a slot behind the waiting ones.
 */
static void respond_x(conn *k, int code, const char *ctype, const void *body, size_t blen, int head,
                      int close, int v10, const char *headers) {
  vast__count_status(k->w, code);
  if (close) k->close_after = 1;
  if (k->scount == 0) {
    if (vast__build_response(&k->wbuf, &k->wlen, &k->wcap, code, ctype, body, blen, head, close,
                             v10, headers))
      vast__conn_close(k);
    return;
  }
  slot s = {0};
  size_t cap = 0;
  if (vast__build_response(&s.bytes, &s.len, &cap, code, ctype, body, blen, head, close, v10,
                           headers) ||
      vast__slot_push(k, s)) {
    free(s.bytes);
    vast__conn_close(k);
  }
}

/* Queues a whole response built elsewhere (malloc'd; owned from here on). */
void vast__respond_raw(conn *k, int code, char *bytes, size_t len, int close) {
  vast__count_status(k->w, code);
  if (close) k->close_after = 1;
  if (k->scount == 0) {
    if (vast__bput(&k->wbuf, &k->wlen, &k->wcap, bytes, len)) vast__conn_close(k);
    free(bytes);
    return;
  }
  slot s = {.bytes = bytes, .len = len};
  if (vast__slot_push(k, s)) {
    free(bytes);
    vast__conn_close(k);
  }
}

void vast__respond(conn *k, int code, const char *ctype, const void *body, size_t blen, int head,
                   int close, int v10) {
  respond_x(k, code, ctype, body, blen, head, close, v10, NULL);
}

/* An answer of the site (the web UI, certification): with its headers. */
void vast__respond_web(conn *k, int code, const char *ctype, const void *body, size_t blen,
                       int head, int close, int v10) {
  const vast__site *site = k->w->c->site;
  respond_x(k, code, ctype, body, blen, head, close, v10, site ? site->headers : NULL);
}

/* Starts reading (io_uring: a multishot receive, unless one is armed). */
static void conn_read_start(conn *k) {
  k->reading = 1;
  if (k->w->io->read_start(k) != 0) k->reading = 0;
}

/* Sends FIN (lingering close), then goes on discarding input until EOF. */
static void conn_shutdown(conn *k) {
  if (k->w->io->shutdown(k) != 0) {
    vast__conn_close(k);
    return;
  }
  if (!k->reading) conn_read_start(k);
}

/* Writes what is in wbuf, then, once everything is answered and written,
   starts the lingering close when the connection is to close. */
static void conn_write(conn *k) {
  if (k->closing || k->writing) return;
  if (k->wlen && k->w->io->write(k) != 0) return; /* in flight, or closed */
  if (k->close_after && k->scount == 0 && !k->lingering) {
    if (k->eof) {
      vast__conn_close(k);
      return;
    }
    /* Lingering close: send FIN, discard input until EOF or 2 s. */
    k->lingering = 1;
    k->linger_start = uv_now(&k->w->loop);
    conn_shutdown(k);
  }
}

static void conn_resume(conn *k) {
  if (k->closing || k->reading || k->close_after) return;
  conn_read_start(k);
}

void vast__conn_pause(conn *k) {
  if (!k->reading) return;
  k->reading = 0;
  k->w->io->read_stop(k);
}

/*
 * Moves resolved slots into the write buffer, writes, and resumes reading
 * when the pipeline has room again.
 */
void vast__conn_flush(conn *k) {
  if (k->closing) return;
  vast_collector *c = k->w->c;
  uint64_t now = 0;
  while (k->scount) {
    slot *s = &k->slots[k->shead];
    if (s->hit) {
      int st = atomic_load_explicit(&s->hit->state, memory_order_acquire);
      if (st == VAST__HIT_PENDING) break;
      int code = st == VAST__HIT_OK ? (s->bytes ? s->okcode : s->r204 ? 204 : 200) : 503;
      vast__count_status(k->w, code);
      if (code == 503) s->close = 1, k->close_after = 1;
      int rc =
          st == VAST__HIT_OK && s->bytes
              ? vast__bput(&k->wbuf, &k->wlen, &k->wcap, s->bytes, s->len)
              : put_hit_response(&k->wbuf, &k->wlen, &k->wcap, code, s->head, s->close, s->v10);
      free(s->bytes);
      s->bytes = NULL;
      if (!now) now = uv_hrtime();
      histo_add1(&k->w->st.lat, LAT_B, NLAT, (double)(now - s->t0) / 1e9, now - s->t0);
      vast__hit_unref(s->hit);
      s->hit = NULL;
      if (rc) {
        vast__conn_close(k);
        return;
      }
    } else if (s->job) {
      break; /* still running */
    } else {
      int rc = vast__bput(&k->wbuf, &k->wlen, &k->wcap, s->bytes, s->len);
      free(s->bytes);
      s->bytes = NULL;
      if (rc) {
        vast__conn_close(k);
        return;
      }
    }
    k->shead = (k->shead + 1) & (k->scap - 1);
    k->scount--;
  }
  if (k->scount)
    wait_add(k);
  else
    wait_del(k);
  conn_write(k);
  if (k->closing) return;
  if (k->paused && k->scount < c->o.max_pipeline) {
    k->paused = 0;
    if (k->plen) {
      /* Parse what was left buffered while paused. */
      conn_process(k, k->partial, k->plen, 1);
      if (k->closing) return;
    }
    if (!k->paused) conn_resume(k);
  }
}

/* The worker scratch as an output of the library's one JSON escaper. */
typedef struct jsink {
  char **b;
  size_t *len, *cap;
  int fail;
} jsink;

static void jsink_put(void *u, const char *p, size_t n) {
  jsink *j = u;
  if (!j->fail && vast__bput(j->b, j->len, j->cap, p, n)) j->fail = 1;
}

/* Appends a JSON string (quoted, escaped, invalid UTF-8 as U+FFFD: jsonw.h). */
int vast__json_str(char **b, size_t *len, size_t *cap, const char *s, size_t n) {
  jsink j = {b, len, cap, 0};
  vast__json_quote(s, n, jsink_put, &j);
  return j.fail ? -1 : 0;
}

/* Hands the hits gathered in this callback to the writer in one lock. */
static void worker_push_hits(worker *w) {
  if (!w->ln || w->c->journal) return; /* journal mode: on_prepare takes them */
  vast_collector *c = w->c;
  pthread_mutex_lock(&c->qmu);
  *c->qtail = w->lhead;
  c->qtail = w->ltail;
  atomic_fetch_add(&c->qlen, w->ln);
  pthread_cond_signal(&c->qcv);
  pthread_mutex_unlock(&c->qmu);
  w->lhead = NULL;
  w->ltail = &w->lhead;
  w->ln = 0;
}

/*
 * Parses and handles every complete request in data[0..len); keeps the rest
 * in k->partial. from_partial says data is k->partial itself.
 */
static void conn_process(conn *k, const char *data, size_t len, int from_partial) {
  worker *w = k->w;
  vast_collector *c = w->c;
  vast__http_limits lim = {c->o.max_request_line, c->o.max_header_bytes, c->o.max_headers};
  size_t off = 0;
  while (off < len && !k->close_after && !k->closing) {
    if (k->scount >= c->o.max_pipeline) {
      k->paused = 1;
      vast__conn_pause(k);
      break;
    }
    vast__http_req rq;
    long r = vast__http_parse(data + off, len - off, &lim, &rq);
    if (r == 0) break;
    if (r < 0) {
      int code = (int)-r;
      WINC(w, bad);
      vast__clog(c, "bad request from %s: %d %s", k->ip, code, reason(code));
      vast__respond(k, code, "text/plain", reason(code), strlen(reason(code)), 0, 1, 0);
      off = len;
      break;
    }
    long used = vast__route_request(k, &rq, (size_t)r, data + off + r, len - off - (size_t)r);
    if (used < 0) break; /* body incomplete: wait for more */
    off += (size_t)r + (size_t)used;
  }
  worker_push_hits(w);
  if (k->closing) return;
  size_t rest = len - off;
  if (k->close_after) rest = 0;
  if (from_partial) {
    if (rest && off) memmove(k->partial, k->partial + off, rest);
    k->plen = rest;
  } else if (rest) {
    k->plen = 0;
    if (vast__bput(&k->partial, &k->plen, &k->pcap, data + off, rest)) {
      vast__conn_close(k);
      return;
    }
  }
  if (!rest)
    k->req_start = 0;
  else if (off || !k->req_start)
    k->req_start = uv_now(&w->loop);
  if (k->close_after) vast__conn_pause(k);
  vast__conn_flush(k);
}

/* The peer sent EOF. */
void vast__conn_eof(conn *k) {
  if (!k->lingering && (k->scount || k->wlen || k->writing)) {
    /* Half-closed client: answer what it sent, then close. */
    k->eof = 1;
    k->close_after = 1;
    vast__conn_pause(k);
    vast__conn_flush(k);
    return;
  }
  vast__conn_close(k);
}

/* Bytes received: parsed straight from the receive buffer, or appended to
   what is left of an incomplete request. */
void vast__conn_input(conn *k, const char *data, size_t nread) {
  k->last_active = uv_now(&k->w->loop);
  if (k->lingering || k->close_after) return; /* discard */
  vast_collector *c = k->w->c;
  if (k->plen) {
    size_t limit = (c->o.max_header_bytes + c->o.max_request_line + sizeof k->w->rbuf) * 4;
    if (k->body_need && k->body_need + sizeof k->w->rbuf > limit)
      limit = k->body_need + sizeof k->w->rbuf;
    if (k->plen + nread > limit || vast__bput(&k->partial, &k->plen, &k->pcap, data, nread)) {
      vast__conn_close(k);
      return;
    }
    conn_process(k, k->partial, k->plen, 1);
  } else {
    conn_process(k, data, nread, 0);
  }
}

/* A new connection, k, linked and counted: refuses it when over the limit or
   draining, else sets it up and starts reading. */
void vast__conn_accepted(conn *k) {
  worker *w = k->w;
  vast_collector *c = w->c;
  if (atomic_load(&c->open) > c->o.max_conns || w->draining) {
    atomic_fetch_add(&c->rejected, 1);
    vast__count_status(w, 503);
    vast__clog(c, "too many connections (%u): refusing one", c->o.max_conns);
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                               "Connection: close\r\nRetry-After: 1\r\n\r\n";
    w->io->send_now(k, busy, sizeof busy - 1); /* best effort: closed either way */
    vast__conn_close(k);
    return;
  }
  atomic_fetch_add(&c->accepted, 1);
  struct sockaddr_storage ss = {0};
  w->io->accepted(k, &ss);
  if (ss.ss_family == AF_INET)
    uv_ip4_name((struct sockaddr_in *)&ss, k->ip, sizeof k->ip);
  else if (ss.ss_family == AF_INET6)
    uv_ip6_name((struct sockaddr_in6 *)&ss, k->ip, sizeof k->ip);
  k->last_active = uv_now(&w->loop);
  conn_resume(k);
}

conn *vast__conn_new(worker *w) {
  conn *k = calloc(1, sizeof *k);
  if (!k) return NULL;
  k->w = w;
  k->fd = -1;
  k->next = w->conns;
  if (w->conns) w->conns->prev = k;
  w->conns = k;
  w->nconns++;
  atomic_fetch_add(&w->c->open, 1);
  return k;
}
