/*
 * h1.c: the dispatcher's plain-http fast path (see h1.h). A beacon is one GET
 * whose answer is thrown away, so the whole client is: find an idle keep-alive
 * connection for host:port (or connect a new non-blocking one), write the
 * prepared request, read one response bounded by its framing, and put the
 * connection back in the pool when the response allows it.
 *
 * Every connection stays registered in one epoll set (level-triggered EPOLLIN,
 * plus EPOLLOUT only while connecting or while a write is incomplete), so a
 * request costs a send() and a recv() and no epoll_ctl. An idle connection that
 * becomes readable (the server closed it, or sent something unasked) is closed.
 *
 * A reused connection that turns out dead before the request could be written,
 * or that closes without a single response byte, is replaced by a new one and
 * the request is sent again (once): that is what libcurl does too, the server
 * never answered on that connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "net/h1.h"
#include "net/net-int.h"

#define H1_BUF 16384              /* the status line and headers must fit in this */
#define H1_MAX_IDLE_US 118000000u /* not reused after idling this long (libcurl's MAXAGE_CONN) */

enum { C_CONNECTING, C_SENDING, C_READING, C_IDLE };
enum { P_HEAD, P_LEN, P_CHUNK_SIZE, P_CHUNK_DATA, P_CHUNK_CRLF, P_TRAILER, P_EOF, P_DONE };

struct vast__h1_conn {
  vast__h1_conn *prev, *next; /* idle list (MRU first) or busy list */
  int fd;
  int state;
  int out;             /* EPOLLOUT registered */
  uint64_t served;     /* responses completed on this connection */
  uint64_t idle_since; /* monotonic us, while idle */
  vast__h1_req *req;
  size_t woff;
  /* response parsing */
  int phase, keep, got_any;
  uint64_t remain;
  char line[80]; /* chunk-size or trailer line being collected */
  size_t line_len;
  size_t n;
  char key[300];
  char buf[H1_BUF];
};

struct vast__h1 {
  int ep;
  vast__h1_done_fn done;
  void *ctx;
  size_t max_idle, n_idle, n_busy;
  vast__h1_conn *idle, *idle_tail, *busy;
  uint64_t opened, reused;
};

vast__h1 *vast__h1_create(size_t max_idle, vast__h1_done_fn done, void *ctx) {
  vast__h1 *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->ep = epoll_create1(EPOLL_CLOEXEC);
  if (h->ep < 0) {
    free(h);
    return NULL;
  }
  h->max_idle = max_idle;
  h->done = done;
  h->ctx = ctx;
  return h;
}

int vast__h1_fd(const vast__h1 *h) {
  return h->ep;
}
size_t vast__h1_busy(const vast__h1 *h) {
  return h->n_busy;
}

void vast__h1_counts(const vast__h1 *h, uint64_t *opened, uint64_t *reused) {
  if (opened) *opened = h->opened;
  if (reused) *reused = h->reused;
}

static void list_del(vast__h1_conn **head, vast__h1_conn **tail, vast__h1_conn *c) {
  if (c->prev)
    c->prev->next = c->next;
  else
    *head = c->next;
  if (c->next)
    c->next->prev = c->prev;
  else if (tail)
    *tail = c->prev;
  c->prev = c->next = NULL;
}

static void list_push(vast__h1_conn **head, vast__h1_conn **tail, vast__h1_conn *c) {
  c->prev = NULL;
  c->next = *head;
  if (*head)
    (*head)->prev = c;
  else if (tail)
    *tail = c;
  *head = c;
}

/* Unlinks a connection from whichever list holds it, and closes it. */
static void conn_close(vast__h1 *h, vast__h1_conn *c) {
  if (c->state == C_IDLE) {
    list_del(&h->idle, &h->idle_tail, c);
    h->n_idle--;
  } else {
    list_del(&h->busy, NULL, c);
    h->n_busy--;
  }
  if (c->req) c->req->conn = NULL;
  close(c->fd); /* also leaves the epoll set */
  free(c);
}

static void set_out(vast__h1 *h, vast__h1_conn *c, int on) {
  if (c->out == on) return;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u), .data.ptr = c};
  epoll_ctl(h->ep, EPOLL_CTL_MOD, c->fd, &ev);
  c->out = on;
}

static void finish(vast__h1 *h, vast__h1_req *r, int result, const char *why) {
  r->result = result;
  if (why && !r->error[0]) snprintf(r->error, sizeof r->error, "%s", why);
  r->conn = NULL;
  h->done(h->ctx, r);
}

/* Fails the request on c and closes c. */
static void conn_fail(vast__h1 *h, vast__h1_conn *c, int result, const char *why) {
  vast__h1_req *r = c->req;
  c->req = NULL;
  conn_close(h, c);
  if (r) finish(h, r, result, why);
}

static int send_more(vast__h1 *h, vast__h1_conn *c);
static void start_on(vast__h1 *h, vast__h1_req *r, vast__h1_conn *c);

/* Opens a new connection for r (non-blocking connect) and starts it. */
static void connect_new(vast__h1 *h, vast__h1_req *r) {
  if (r->refuse_private && vast__addr_private((const struct sockaddr *)&r->addr)) {
    finish(h, r, VAST__H1_REFUSED, "destination address refused (private network)");
    return;
  }
  vast__h1_conn *c = malloc(sizeof *c);
  if (!c) {
    finish(h, r, VAST__H1_NOMEM, "out of memory");
    return;
  }
  memset(c, 0, offsetof(vast__h1_conn, buf));
  c->fd = socket(r->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    free(c);
    snprintf(r->error, sizeof r->error, "socket: %s", strerror(errno));
    finish(h, r, VAST__H1_CONNECT, NULL);
    return;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  snprintf(c->key, sizeof c->key, "%s", r->key);
  int rc = connect(c->fd, (const struct sockaddr *)&r->addr, r->addrlen);
  if (rc != 0 && errno != EINPROGRESS) {
    snprintf(r->error, sizeof r->error, "Failed to connect to %s: %s", r->key, strerror(errno));
    close(c->fd);
    free(c);
    finish(h, r, VAST__H1_CONNECT, NULL);
    return;
  }
  h->opened++;
  c->state = rc == 0 ? C_SENDING : C_CONNECTING;
  c->out = 1;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(h->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
    close(c->fd);
    free(c);
    finish(h, r, VAST__H1_NOMEM, "epoll_ctl failed");
    return;
  }
  list_push(&h->busy, NULL, c);
  h->n_busy++;
  c->req = r;
  r->conn = c;
  if (c->state == C_SENDING) {
    c->woff = 0;
    send_more(h, c);
  }
}

/* A reused connection died before answering: start r again on a new one. */
static void retry_fresh(vast__h1 *h, vast__h1_conn *c) {
  vast__h1_req *r = c->req;
  c->req = NULL;
  conn_close(h, c);
  r->fresh_retries++;
  r->sent_us = 0;
  r->sent_at = 0;
  r->status = 0;
  connect_new(h, r);
}

/* Writes what is left of the request. Returns -1 when c was closed. */
static int send_more(vast__h1 *h, vast__h1_conn *c) {
  vast__h1_req *r = c->req;
  if (c->woff == 0 && !r->sent_us) {
    r->sent_us = vast__now_us();
    r->sent_at = vast__wall();
  }
  while (c->woff < r->msg_len) {
    ssize_t k = send(c->fd, r->msg + c->woff, r->msg_len - c->woff, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      set_out(h, c, 1);
      return 0;
    }
    if (k <= 0) {
      if (c->served && c->woff == 0 && !r->fresh_retries) {
        retry_fresh(h, c);
        return -1;
      }
      snprintf(r->error, sizeof r->error, "Send failure: %s", strerror(errno));
      conn_fail(h, c, VAST__H1_IO, NULL);
      return -1;
    }
    c->woff += (size_t)k;
  }
  c->state = C_READING;
  c->phase = P_HEAD;
  c->n = 0;
  c->got_any = 0;
  set_out(h, c, 0);
  return 0;
}

static void start_on(vast__h1 *h, vast__h1_req *r, vast__h1_conn *c) {
  list_del(&h->idle, &h->idle_tail, c);
  h->n_idle--;
  list_push(&h->busy, NULL, c);
  h->n_busy++;
  c->state = C_SENDING;
  c->req = r;
  c->woff = 0;
  r->conn = c;
  send_more(h, c);
}

void vast__h1_start(vast__h1 *h, vast__h1_req *r) {
  r->result = VAST__H1_OK;
  r->status = 0;
  r->sent_us = 0;
  r->sent_at = 0;
  r->error[0] = 0;
  r->conn = NULL;
  r->fresh_retries = 0;
  /* checked before the pool too: an idle connection to this host:port may have
     been opened for a request without the guard */
  if (r->refuse_private && vast__addr_private((const struct sockaddr *)&r->addr)) {
    finish(h, r, VAST__H1_REFUSED, "destination address refused (private network)");
    return;
  }
  uint64_t now = h->n_idle ? vast__now_us() : 0;
  for (vast__h1_conn *c = h->idle, *nx; c; c = nx) {
    nx = c->next;
    if (strcmp(c->key, r->key) != 0) continue;
    if (now - c->idle_since > H1_MAX_IDLE_US) { /* may have been dropped silently */
      conn_close(h, c);
      continue;
    }
    start_on(h, r, c);
    return;
  }
  connect_new(h, r);
}

void vast__h1_cancel(vast__h1 *h, vast__h1_req *r) {
  vast__h1_conn *c = r->conn;
  if (!c) return;
  c->req = NULL;
  r->conn = NULL;
  conn_close(h, c);
}

/* The response is complete: report it, keep or close the connection. */
static void complete(vast__h1 *h, vast__h1_conn *c, size_t leftover) {
  vast__h1_req *r = c->req;
  c->req = NULL;
  r->conn = NULL;
  if (c->served) h->reused++;
  c->served++;
  if (!c->keep || leftover) {
    conn_close(h, c);
  } else {
    list_del(&h->busy, NULL, c);
    h->n_busy--;
    c->state = C_IDLE;
    c->idle_since = vast__now_us();
    list_push(&h->idle, &h->idle_tail, c);
    h->n_idle++; /* the pool is trimmed at the end of vast__h1_run */
  }
  finish(h, r, VAST__H1_OK, NULL);
}

static int hdr_is(const char *line, size_t len, const char *name) {
  size_t n = strlen(name);
  return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

/* The header value (trimmed) into out. */
static void hdr_value(const char *line, size_t len, size_t name_len, char *out, size_t cap) {
  const char *v = line + name_len + 1, *e = line + len;
  while (v < e && (*v == ' ' || *v == '\t'))
    v++;
  while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
    e--;
  size_t n = (size_t)(e - v);
  if (n >= cap) n = cap - 1;
  memcpy(out, v, n);
  out[n] = 0;
}

/*
 * Parses the status line and headers in c->buf[0..hl) (hl includes the empty
 * line). Sets status, the body framing and keep-alive. Returns 0, 1 for an
 * interim (1xx) response to skip, -1 when malformed.
 */
static int parse_head(vast__h1_conn *c, size_t hl) {
  vast__h1_req *r = c->req;
  const char *b = c->buf;
  int minor;
  long status;
  if (hl < 12 || memcmp(b, "HTTP/1.", 7) != 0) return -1;
  minor = b[7] - '0';
  if (b[8] != ' ' || b[9] < '1' || b[9] > '5' || b[10] < '0' || b[10] > '9' || b[11] < '0' ||
      b[11] > '9')
    return -1;
  status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
  int keep = minor >= 1, chunked = 0, has_len = 0;
  uint64_t len = 0;
  char loc[2048];
  loc[0] = 0;
  const char *p = memchr(b, '\n', hl);
  while (p && (size_t)(p - b) + 1 < hl) {
    const char *line = p + 1;
    const char *nl = memchr(line, '\n', hl - (size_t)(line - b));
    if (!nl) break;
    size_t ll = (size_t)(nl - line);
    if (ll && line[ll - 1] == '\r') ll--;
    if (!ll) break;
    char v[256];
    if (hdr_is(line, ll, "content-length")) {
      hdr_value(line, ll, 14, v, sizeof v);
      char *end;
      errno = 0;
      unsigned long long x = strtoull(v, &end, 10);
      if (!*v || *end || errno || (has_len && x != len)) return -1;
      len = x;
      has_len = 1;
    } else if (hdr_is(line, ll, "transfer-encoding")) {
      hdr_value(line, ll, 17, v, sizeof v);
      if (strcasestr(v, "chunked"))
        chunked = 1;
      else
        return -1; /* another coding without chunked: no framing we can trust */
    } else if (hdr_is(line, ll, "connection")) {
      hdr_value(line, ll, 10, v, sizeof v);
      if (strcasestr(v, "close"))
        keep = 0;
      else if (strcasestr(v, "keep-alive"))
        keep = 1;
    } else if (hdr_is(line, ll, "location")) {
      hdr_value(line, ll, 8, loc, sizeof loc);
    }
    p = nl;
  }
  if (status < 200) {
    if (status == 101) return -1;
    return 1;
  }
  r->status = status;
  free(r->location);
  r->location = NULL;
  if (loc[0] && status >= 300 && status < 400) r->location = strdup(loc);
  c->keep = keep;
  if (status == 204 || status == 304) {
    c->phase = P_DONE;
  } else if (chunked) {
    c->phase = P_CHUNK_SIZE;
    c->line_len = 0;
  } else if (has_len) {
    c->remain = len;
    c->phase = len ? P_LEN : P_DONE;
  } else {
    c->phase = P_EOF; /* until the server closes */
    c->keep = 0;
  }
  return 0;
}

/* Collects one CRLF-terminated line into c->line; returns bytes used, sets *done. */
static size_t take_line(vast__h1_conn *c, const char *p, size_t n, int *done, int *bad) {
  size_t i = 0;
  *done = 0;
  for (; i < n; i++) {
    if (p[i] == '\n') {
      *done = 1;
      i++;
      break;
    }
    if (c->line_len + 1 >= sizeof c->line) {
      *bad = 1;
      return i;
    }
    c->line[c->line_len++] = p[i];
  }
  if (*done) {
    if (c->line_len && c->line[c->line_len - 1] == '\r') c->line_len--;
    c->line[c->line_len] = 0;
  }
  return i;
}

/* Consumes body bytes; returns how many were used (the rest is leftover). */
static size_t body(vast__h1_conn *c, const char *p, size_t n, int *bad) {
  size_t used = 0;
  while (used < n && c->phase != P_DONE) {
    const char *q = p + used;
    size_t left = n - used;
    int done = 0;
    switch (c->phase) {
    case P_EOF:
      return n;
    case P_LEN:
    case P_CHUNK_DATA: {
      size_t k = left < c->remain ? left : (size_t)c->remain;
      c->remain -= k;
      used += k;
      if (!c->remain) {
        c->phase = c->phase == P_LEN ? P_DONE : P_CHUNK_CRLF;
        c->line_len = 0;
      }
      break;
    }
    case P_CHUNK_CRLF:
    case P_CHUNK_SIZE:
    case P_TRAILER:
      used += take_line(c, q, left, &done, bad);
      if (*bad) return used;
      if (!done) break;
      if (c->phase == P_CHUNK_CRLF) {
        if (c->line_len) {
          *bad = 1;
          return used;
        }
        c->phase = P_CHUNK_SIZE;
      } else if (c->phase == P_CHUNK_SIZE) {
        char *end;
        errno = 0;
        unsigned long long sz = strtoull(c->line, &end, 16);
        if (end == c->line || errno || (*end && *end != ';' && *end != ' ' && *end != '\t')) {
          *bad = 1;
          return used;
        }
        c->remain = sz;
        c->phase = sz ? P_CHUNK_DATA : P_TRAILER;
      } else if (!c->line_len) {
        c->phase = P_DONE; /* the empty line after the trailers */
      }
      c->line_len = 0;
      break;
    }
  }
  return used;
}

/* Reads what the socket has and advances the response. */
static void on_readable(vast__h1 *h, vast__h1_conn *c) {
  vast__h1_req *r = c->req;
  for (;;) {
    char tmp[H1_BUF];
    char *dst = c->phase == P_HEAD ? c->buf + c->n : tmp;
    size_t cap = c->phase == P_HEAD ? H1_BUF - c->n : sizeof tmp;
    if (!cap) {
      conn_fail(h, c, VAST__H1_PROTOCOL, "response header too large");
      return;
    }
    ssize_t k = recv(c->fd, dst, cap, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (k <= 0) {
      if (c->phase == P_EOF) {
        c->keep = 0;
        complete(h, c, 0);
        return;
      }
      if (!c->got_any && c->served && !r->fresh_retries) { /* stale keep-alive connection */
        retry_fresh(h, c);
        return;
      }
      if (k < 0)
        snprintf(r->error, sizeof r->error, "Recv failure: %s", strerror(errno));
      else
        snprintf(r->error, sizeof r->error,
                 c->got_any ? "connection closed before the response ended"
                            : "Empty reply from server");
      conn_fail(h, c, VAST__H1_IO, NULL);
      return;
    }
    c->got_any = 1;
    int bad = 0;
    size_t leftover = 0;
    if (c->phase == P_HEAD) {
      c->n += (size_t)k;
      for (;;) {
        char *end = memmem(c->buf, c->n, "\r\n\r\n", 4);
        size_t hl;
        if (end) {
          hl = (size_t)(end - c->buf) + 4;
        } else {
          char *e2 = memmem(c->buf, c->n, "\n\n", 2);
          if (!e2) break;
          hl = (size_t)(e2 - c->buf) + 2;
        }
        int pr = parse_head(c, hl);
        if (pr < 0) {
          conn_fail(h, c, VAST__H1_PROTOCOL, "malformed response");
          return;
        }
        memmove(c->buf, c->buf + hl, c->n - hl);
        c->n -= hl;
        if (pr == 1) continue; /* 1xx: the real response follows */
        size_t used = body(c, c->buf, c->n, &bad);
        leftover = c->n - used;
        c->n = 0;
        break;
      }
      if (c->phase == P_HEAD) continue;
    } else {
      size_t used = body(c, tmp, (size_t)k, &bad);
      leftover = (size_t)k - used;
    }
    if (bad) {
      conn_fail(h, c, VAST__H1_PROTOCOL, "malformed chunked body");
      return;
    }
    if (c->phase == P_DONE) {
      complete(h, c, leftover);
      return;
    }
    if ((size_t)k < cap) return; /* drained for now; level-triggered epoll calls again */
  }
}

static void on_event(vast__h1 *h, vast__h1_conn *c, uint32_t ev) {
  if (c->state == C_IDLE) { /* closed by the server, or unexpected bytes */
    conn_close(h, c);
    return;
  }
  if (c->state == C_CONNECTING) {
    if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) {
      snprintf(c->req->error, sizeof c->req->error, "Failed to connect to %s: %s", c->key,
               strerror(err));
      conn_fail(h, c, VAST__H1_CONNECT, NULL);
      return;
    }
    c->state = C_SENDING;
    c->woff = 0;
  }
  if (c->state == C_SENDING) {
    if (send_more(h, c) < 0) return;
    if (c->state == C_SENDING) return;
  }
  if (c->state == C_READING && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
    on_readable(h, c);
}

static void expire(vast__h1 *h) {
  uint64_t now = vast__now_us();
  for (vast__h1_conn *c = h->busy, *nx; c; c = nx) {
    nx = c->next;
    vast__h1_req *r = c->req;
    if (r && r->deadline_us && now >= r->deadline_us) {
      snprintf(r->error, sizeof r->error, "Operation timed out (%s)",
               r->sent_us ? "no complete response" : "request not sent");
      conn_fail(h, c, VAST__H1_TIMEOUT, NULL);
    }
  }
}

void vast__h1_run(vast__h1 *h, int timeout_ms) {
  struct epoll_event ev[64];
  int n = epoll_wait(h->ep, ev, 64, timeout_ms);
  /* Handling one event closes at most that event's connection (done() must not
     start requests), so later events in the batch still point to live ones. */
  for (int i = 0; i < n; i++)
    on_event(h, ev[i].data.ptr, ev[i].events);
  if (h->n_busy) expire(h);
  while (h->n_idle > h->max_idle)
    conn_close(h, h->idle_tail);
}

uint64_t vast__h1_next_deadline(const vast__h1 *h) {
  uint64_t m = 0;
  for (const vast__h1_conn *c = h->busy; c; c = c->next)
    if (c->req && c->req->deadline_us && (!m || c->req->deadline_us < m)) m = c->req->deadline_us;
  return m;
}

void vast__h1_free(vast__h1 *h) {
  if (!h) return;
  while (h->busy) {
    h->busy->req = NULL;
    conn_close(h, h->busy);
  }
  while (h->idle)
    conn_close(h, h->idle);
  close(h->ep);
  free(h);
}
