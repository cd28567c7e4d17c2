/*
 * fire.c: the beacon dispatcher. One libcurl multi handle (so connections are
 * pooled and reused), a bounded FIFO of beacons waiting to start, and the
 * transfers in flight. Beacons submitted together (a batch: the Impressions of
 * one ad) are added to the multi handle in the same step and started by the same
 * curl_multi_perform() call, so they leave together; the moment each request
 * leaves is taken in CURLOPT_PREREQFUNCTION (connection up, request about to be
 * written) and reported in the delivery record.
 *
 * Plain-http beacons whose destination address is known without a DNS lookup
 * (an IP literal, or a host name libcurl resolved for an earlier beacon in the
 * last 60 s) take the fast path instead: lib/net/h1.c, a minimal HTTP/1.1 client
 * with its own keep-alive pool on one epoll set. libcurl's per-transfer work
 * is most of a beacon's CPU cost; the fast path gives the same delivery record,
 * timeout, retry rule and private-address guard. https, host names not yet
 * resolved, unusual URLs and redirects (a 3xx with Location is followed by
 * libcurl) stay with libcurl.
 *
 * Locking: the queue and counters are under `mu`; the multi handle, the fast
 * path and the transfers belong to whichever thread steps (the caller in poll
 * mode, the dispatcher's thread after vast_dispatcher_start). Callbacks run
 * without the lock.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "net/h1.h"
#include "net/net-int.h"

#define DNS_TTL_US 60000000u /* like libcurl's DNS cache */
#define DNS_SLOTS 64

typedef struct xfer {
  struct xfer *next;          /* waiting list */
  struct xfer *fprev, *fnext; /* in-flight list (stepping thread only) */
  vast_dispatcher *d;
  CURL *easy;
  vast__guard guard;
  uint64_t id, batch;
  char *url, *event;
  double t;
  void *user;
  double queued_at, sent_at;
  uint64_t start_us, sent_us, not_before;
  unsigned attempts;
  int fast;       /* in flight on the fast path */
  int refuse;     /* the submitter's guard (vast__dispatcher_submit_guarded) */
  char *redirect; /* a fast-path 3xx: Location, continued by libcurl */
  vast__h1_req h1;
  struct curl_slist *hdrs; /* per-device headers (vast_dispatcher_submit_device), or NULL */
  char *tail;              /* the fast-path request tail for them, or NULL */
  size_t tail_len;
  char errbuf[CURL_ERROR_SIZE];
} xfer;

/* A host name libcurl resolved, for the fast path. */
typedef struct dns_entry {
  char key[300]; /* "host:port" */
  struct sockaddr_storage addr;
  socklen_t len;
  uint64_t expires;
} dns_entry;

struct vast_dispatcher {
  vast_dispatch_opts o;
  char *ua, *dev_ip, *dev_ua, *dev_ref, *dev_lang, *dev_rw;
  int refuse;
  CURLM *multi;
  struct curl_slist *headers;
  pthread_mutex_t mu;
  pthread_cond_t idle;
  xfer *head, *tail; /* waiting to start */
  xfer *flight;      /* in the multi handle; touched by the stepping thread only */
  size_t n_pend, n_flight;
  uint64_t next_id, next_batch;
  vast_dispatch_stats st;
  pthread_t th;
  int threaded, stop;
  /* 1 from a submitter's curl_multi_wakeup() until the thread's next round
     takes the queue: one wake-up per round, not one write() per submit */
  atomic_int woken;
  vast__h1 *h1;   /* NULL with curl_only */
  char *req_tail; /* request headers after Host, through the empty line */
  size_t req_tail_len;
  xfer *h1_done; /* fast-path transfers that ended, to settle */
  size_t n_curl; /* transfers in the multi handle */
  dns_entry dns[DNS_SLOTS];
};

void vast_dispatch_opts_init(vast_dispatch_opts *o) {
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->max_queue = 4096;
  o->max_concurrent = 64;
  o->timeout_ms = 5000;
  o->retries = 1;
  o->retry_delay_ms = 100;
  o->max_redirects = 3;
}

static char *sdup(const char *s, int *bad) {
  if (!s) return NULL;
  char *d = strdup(s);
  if (!d) *bad = 1;
  return d;
}

/* Adds "Name: value" to the header list when value is set. */
static int add_header(struct curl_slist **l, const char *name, const char *value) {
  if (!value || !*value) return 0;
  size_t n = strlen(name) + strlen(value) + 3;
  char *h = malloc(n);
  if (!h) return -1;
  snprintf(h, n, "%s: %s", name, value);
  struct curl_slist *nl = curl_slist_append(*l, h);
  free(h);
  if (!nl) return -1;
  *l = nl;
  return 0;
}

static void h1_done(void *ctx, vast__h1_req *r);

/* The request lines after Host, as libcurl sends them: User-Agent, Accept,
   the device headers, the empty line. NULL when out of memory. */
static char *build_tail_of(vast_dispatcher *d, const struct curl_slist *hl, size_t *len) {
  size_t cap = 64 + strlen(d->ua);
  for (const struct curl_slist *h = hl; h; h = h->next)
    cap += strlen(h->data) + 2;
  char *t = malloc(cap);
  if (!t) return NULL;
  size_t n = (size_t)snprintf(t, cap, "User-Agent: %s\r\nAccept: */*\r\n", d->ua);
  for (const struct curl_slist *h = hl; h; h = h->next)
    n += (size_t)snprintf(t + n, cap - n, "%s\r\n", h->data);
  n += (size_t)snprintf(t + n, cap - n, "\r\n");
  *len = n;
  return t;
}

static char *build_tail(vast_dispatcher *d, size_t *len) {
  return build_tail_of(d, d->headers, len);
}

/* The X-Device-* header list of one device, checked as vast_dispatcher_create
   checks its own: -1 bad value (VAST_E_INVAL), -2 out of memory. */
static int device_headers(const vast_device *dev, struct curl_slist **l) {
  if (!dev->ip || !*dev->ip || !dev->user_agent || !*dev->user_agent ||
      vast_net_ip_special(dev->ip) < 0 || !vast_net_header_value_ok(dev->user_agent) ||
      !vast_net_header_value_ok(dev->referer) || !vast_net_header_value_ok(dev->accept_language) ||
      !vast_net_header_value_ok(dev->requested_with))
    return -1;
  int bad = add_header(l, "X-Device-IP", dev->ip) != 0;
  bad |= add_header(l, "X-Device-User-Agent", dev->user_agent) != 0;
  bad |= add_header(l, "X-Device-Referer", dev->referer) != 0;
  bad |= add_header(l, "X-Device-Accept-Language", dev->accept_language) != 0;
  bad |= add_header(l, "X-Device-Requested-With", dev->requested_with) != 0;
  if (dev->forwarded_for) bad |= add_header(l, "X-Forwarded-For", dev->ip) != 0;
  return bad ? -2 : 0;
}

vast_err vast_dispatcher_create(const vast_dispatch_opts *opts, vast_dispatcher **out) {
  if (!out) return VAST_E_INVAL;
  *out = NULL;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  if (opts) memcpy(&o, opts, opts->size && opts->size < sizeof o ? opts->size : sizeof o);
  o.size = sizeof o;
  if (o.server_side && (!o.device_ip || !*o.device_ip || !o.device_ua || !*o.device_ua))
    return VAST_E_INVAL;
  /* Caller-provided header values: an IP address for X-Device-IP, and no control
     character anywhere (a CR or LF would add headers or split the request). */
  if (o.server_side && vast_net_ip_special(o.device_ip) < 0) return VAST_E_INVAL;
  if (!vast_net_header_value_ok(o.user_agent) || !vast_net_header_value_ok(o.device_ua) ||
      !vast_net_header_value_ok(o.device_referer) ||
      !vast_net_header_value_ok(o.device_accept_language) ||
      !vast_net_header_value_ok(o.device_requested_with))
    return VAST_E_INVAL;
  o.timeout_ms = vast__policy_timeout(o.policy, o.timeout_ms);
  o.max_redirects = vast__policy_redirects(o.policy, o.max_redirects);
  o.user_agent = vast__policy_ua(o.policy, o.user_agent);
  if (!vast_net_header_value_ok(o.user_agent)) return VAST_E_INVAL;
  if (!o.max_queue) o.max_queue = 4096;
  if (!o.max_concurrent) o.max_concurrent = 64;
  if (vast__curl_init() != 0) return VAST_E_HTTP;
  vast_dispatcher *d = calloc(1, sizeof *d);
  if (!d) return VAST_E_NOMEM;
  int bad = 0;
  d->o = o;
  d->ua = sdup(o.user_agent ? o.user_agent : vast__user_agent(), &bad);
  d->dev_ip = sdup(o.device_ip, &bad);
  d->dev_ua = sdup(o.device_ua, &bad);
  d->dev_ref = sdup(o.device_referer, &bad);
  d->dev_lang = sdup(o.device_accept_language, &bad);
  d->dev_rw = sdup(o.device_requested_with, &bad);
  d->refuse = vast__policy_refuse(o.policy,
                                  o.private_policy == VAST_PRIVATE_REFUSE ||
                                      (o.private_policy == VAST_PRIVATE_DEFAULT && o.server_side));
  d->o.policy = NULL; /* not kept: everything it says is applied above */
  if (o.server_side) {
    bad |= add_header(&d->headers, "X-Device-IP", d->dev_ip) != 0;
    bad |= add_header(&d->headers, "X-Device-User-Agent", d->dev_ua) != 0;
    bad |= add_header(&d->headers, "X-Device-Referer", d->dev_ref) != 0;
    bad |= add_header(&d->headers, "X-Device-Accept-Language", d->dev_lang) != 0;
    bad |= add_header(&d->headers, "X-Device-Requested-With", d->dev_rw) != 0;
    if (o.forwarded_for) bad |= add_header(&d->headers, "X-Forwarded-For", d->dev_ip) != 0;
  }
  pthread_mutex_init(&d->mu, NULL);
  pthread_cond_init(&d->idle, NULL);
  d->multi = curl_multi_init();
  if (bad || !d->multi) {
    vast_dispatcher_free(d);
    return VAST_E_NOMEM;
  }
  /* Keep enough idle connections for a full window of concurrent beacons. */
  curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS, (long)o.max_concurrent * 2);
  if (!o.curl_only) {
    d->req_tail = build_tail(d, &d->req_tail_len);
    d->h1 = vast__h1_create((size_t)o.max_concurrent * 2, h1_done, d);
    if (!d->req_tail || !d->h1) {
      vast_dispatcher_free(d);
      return VAST_E_NOMEM;
    }
  }
  *out = d;
  return VAST_OK;
}

static void xfer_free(xfer *x) {
  if (!x) return;
  if (x->easy) curl_easy_cleanup(x->easy);
  free(x->redirect);
  free(x->h1.msg);
  free(x->h1.location);
  free(x->url);
  free(x->event);
  if (x->hdrs) curl_slist_free_all(x->hdrs);
  free(x->tail);
  free(x);
}

/* Called by libcurl when the connection is up and the request is about to leave. */
static int on_prereq(void *clientp, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port) {
  xfer *x = clientp;
  if (x->sent_us && x->redirect) { /* left on the fast path; libcurl follows a 3xx */
    if (x->guard.refuse && vast_net_ip_special(conn_primary_ip) != 0) {
      x->guard.refused = 1;
      return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
  }
  /* The guard again, on the connection this transfer really uses: a pooled one
     opened for a beacon another submitter's guard allowed skips the open-socket
     callback. */
  if (x->guard.refuse && vast_net_ip_special(conn_primary_ip) != 0) {
    x->guard.refused = 1;
    return CURL_PREREQFUNC_ABORT;
  }
  x->sent_us = vast__now_us();
  x->sent_at = vast__wall();
  return CURL_PREREQFUNC_OK;
}

static size_t discard(char *p, size_t s, size_t n, void *u) {
  return s * n;
}

static int setup_easy(vast_dispatcher *d, xfer *x) {
  if (!x->easy && !(x->easy = curl_easy_init())) return -1;
  x->guard.refuse = d->refuse || x->refuse;
  x->guard.refused = 0;
  x->errbuf[0] = 0;
  CURL *e = x->easy;
  if (x->redirect) { /* the fast path got a 3xx: libcurl follows it */
    vast__easy_common(e, &x->guard, d->ua, 1);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, d->o.max_redirects - 1);
    curl_easy_setopt(e, CURLOPT_URL, x->redirect);
  } else {
    x->sent_us = 0;
    x->sent_at = 0;
    vast__easy_common(e, &x->guard, d->ua, d->o.max_redirects);
    curl_easy_setopt(e, CURLOPT_URL, x->url);
  }
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, d->o.timeout_ms > 0 ? d->o.timeout_ms : 0L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(e, CURLOPT_PRIVATE, x);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
  curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
  if (x->hdrs)
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
  else if (d->headers)
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->headers);
  return 0;
}

static void deliver(vast_dispatcher *d, xfer *x, long status, vast_err err, const char *msg) {
  uint64_t now = vast__now_us();
  vast_delivery r;
  memset(&r, 0, sizeof r);
  r.id = x->id;
  r.event = x->event;
  r.url = x->url;
  r.t = x->t;
  r.user = x->user;
  r.queued_at = x->queued_at;
  r.sent_at = x->sent_at;
  r.sent_us = x->sent_us;
  r.status = status;
  r.latency_ms = x->start_us ? (double)(now - x->start_us) / 1000.0 : 0;
  r.attempts = x->attempts;
  r.err = err;
  r.error = msg;
  if (d->o.on_delivery) d->o.on_delivery(d->o.ctx, &r);
}

static vast_err submit(vast_dispatcher *d, const vast_beacon *b, size_t n, int refuse,
                       const vast_device *dev);

vast_err vast_dispatcher_submit(vast_dispatcher *d, const vast_beacon *b, size_t n) {
  return submit(d, b, n, 0, NULL);
}

vast_err vast__dispatcher_submit_guarded(vast_dispatcher *d, const vast_beacon *b, size_t n,
                                         int refuse) {
  return submit(d, b, n, refuse, NULL);
}

vast_err vast_dispatcher_submit_device(vast_dispatcher *d, const vast_beacon *b, size_t n,
                                       const vast_device *dev) {
  if (!dev) return VAST_E_INVAL;
  return submit(d, b, n, 0, dev);
}

static vast_err submit(vast_dispatcher *d, const vast_beacon *b, size_t n, int refuse,
                       const vast_device *dev) {
  if (!d || (!b && n)) return VAST_E_INVAL;
  if (!n) return VAST_OK;
  if (dev) { /* checked once for the batch, before anything is queued */
    struct curl_slist *l = NULL;
    int rc = device_headers(dev, &l);
    if (l) curl_slist_free_all(l);
    if (rc) return rc == -1 ? VAST_E_INVAL : VAST_E_NOMEM;
  }
  for (size_t i = 0; i < n; i++) /* http(s), and no control character (CR LF...) */
    if (!vast__is_http(b[i].url) || !vast_net_header_value_ok(b[i].url) || strchr(b[i].url, '\t'))
      return VAST_E_URL;
  pthread_mutex_lock(&d->mu);
  int full = d->n_pend + d->n_flight + n > d->o.max_queue;
  pthread_mutex_unlock(&d->mu);
  if (full) return VAST_E_FULL;
  xfer *first = NULL, *last = NULL;
  double now = vast__wall();
  for (size_t i = 0; i < n; i++) {
    xfer *x = calloc(1, sizeof *x);
    if (x) {
      x->d = d;
      x->url = strdup(b[i].url);
      x->event = strdup(b[i].event ? b[i].event : "");
      x->t = b[i].t;
      x->user = b[i].user;
      x->queued_at = now;
      x->refuse = refuse;
      if (dev && (device_headers(dev, &x->hdrs) != 0 ||
                  (!d->o.curl_only && !(x->tail = build_tail_of(d, x->hdrs, &x->tail_len))))) {
        free(x->url);
        x->url = NULL;
      }
    }
    if (!x || !x->url || !x->event) {
      xfer_free(x);
      while (first) {
        xfer *nx = first->next;
        xfer_free(first);
        first = nx;
      }
      return VAST_E_NOMEM;
    }
    if (last)
      last->next = x;
    else
      first = x;
    last = x;
  }
  pthread_mutex_lock(&d->mu);
  if (d->n_pend + d->n_flight + n > d->o.max_queue) { /* lost a race with another submitter */
    pthread_mutex_unlock(&d->mu);
    while (first) {
      xfer *nx = first->next;
      xfer_free(first);
      first = nx;
    }
    return VAST_E_FULL;
  }
  uint64_t batch = ++d->next_batch;
  for (xfer *x = first; x; x = x->next) {
    x->id = ++d->next_id;
    x->batch = batch;
  }
  if (d->tail)
    d->tail->next = first;
  else
    d->head = first;
  d->tail = last;
  d->n_pend += n;
  d->st.submitted += n;
  pthread_mutex_unlock(&d->mu);
  if (d->threaded && !atomic_exchange(&d->woken, 1)) curl_multi_wakeup(d->multi);
  return VAST_OK;
}

/* ---- fast path: which beacons take it, and their request ------------------ */

/* A plain-http URL split for the fast path. */
typedef struct target {
  char key[300];     /* lower-case host ":" port */
  char hosthdr[300]; /* Host header value */
  char host[256];
  int v6;
  unsigned port;
  const char *path; /* up to '#' */
  size_t path_len;
} target;

/* 1 when url is http:// with a plain host (name or IP literal, no user info),
   an optional port and printable ASCII: the URLs the fast path may send. */
static int parse_target(const char *url, target *t) {
  if (strncasecmp(url, "http://", 7) != 0) return 0;
  const char *a = url + 7, *e = a + strcspn(a, "/?#"), *hp, *he, *pp = NULL;
  if (e == a || e - a > 255 || memchr(a, '@', (size_t)(e - a))) return 0;
  if (*a == '[') {
    const char *rb = memchr(a, ']', (size_t)(e - a));
    if (!rb) return 0;
    hp = a + 1;
    he = rb;
    t->v6 = 1;
    if (rb + 1 < e) {
      if (rb[1] != ':') return 0;
      pp = rb + 2;
    }
  } else {
    const char *colon = memchr(a, ':', (size_t)(e - a));
    hp = a;
    he = colon ? colon : e;
    t->v6 = 0;
    if (colon) pp = colon + 1;
    for (const char *c = hp; c < he; c++)
      if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.') return 0;
  }
  if (he == hp) return 0;
  t->port = 80;
  if (pp) {
    if (pp == e || e - pp > 5) return 0;
    unsigned p = 0;
    for (const char *c = pp; c < e; c++) {
      if (*c < '0' || *c > '9') return 0;
      p = p * 10 + (unsigned)(*c - '0');
    }
    if (!p || p > 65535) return 0;
    t->port = p;
  }
  size_t hl = (size_t)(he - hp);
  memcpy(t->host, hp, hl);
  t->host[hl] = 0;
  for (size_t i = 0; i < hl; i++)
    t->host[i] = (char)tolower((unsigned char)t->host[i]);
  snprintf(t->key, sizeof t->key, "%s:%u", t->host, t->port);
  if (t->port == 80)
    snprintf(t->hosthdr, sizeof t->hosthdr, t->v6 ? "[%s]" : "%s", t->host);
  else
    snprintf(t->hosthdr, sizeof t->hosthdr, t->v6 ? "[%s]:%u" : "%s:%u", t->host, t->port);
  t->path = e;
  t->path_len = strcspn(e, "#");
  if (t->path_len > 16384) return 0;
  for (size_t i = 0; i < t->path_len; i++)
    if ((unsigned char)e[i] <= 0x20 || (unsigned char)e[i] >= 0x7f) return 0;
  return 1;
}

static int dns_lookup(vast_dispatcher *d, const char *key, uint64_t now,
                      struct sockaddr_storage *out, socklen_t *len) {
  for (int i = 0; i < DNS_SLOTS; i++)
    if (d->dns[i].expires > now && strcmp(d->dns[i].key, key) == 0) {
      *out = d->dns[i].addr;
      *len = d->dns[i].len;
      return 1;
    }
  return 0;
}

/* Records the address libcurl connected to for a plain-http host name. */
static void dns_learn(vast_dispatcher *d, const char *url, const char *ip, long port) {
  target t;
  struct sockaddr_storage a;
  socklen_t len;
  if (!ip || !*ip || port <= 0 || !parse_target(url, &t) || (long)t.port != port) return;
  memset(&a, 0, sizeof a);
  struct in_addr v4;
  struct in6_addr v6;
  if (inet_pton(AF_INET, t.host, &v4) == 1 || inet_pton(AF_INET6, t.host, &v6) == 1)
    return; /* a literal needs no lookup */
  if (inet_pton(AF_INET, ip, &v4) == 1) {
    struct sockaddr_in *s = (struct sockaddr_in *)&a;
    s->sin_family = AF_INET;
    s->sin_port = htons((uint16_t)port);
    s->sin_addr = v4;
    len = sizeof *s;
  } else if (inet_pton(AF_INET6, ip, &v6) == 1) {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons((uint16_t)port);
    s->sin6_addr = v6;
    len = sizeof *s;
  } else {
    return;
  }
  uint64_t now = vast__now_us();
  int slot = 0;
  for (int i = 0; i < DNS_SLOTS; i++) {
    if (strcmp(d->dns[i].key, t.key) == 0) {
      slot = i;
      break;
    }
    if (d->dns[i].expires < d->dns[slot].expires) slot = i;
  }
  snprintf(d->dns[slot].key, sizeof d->dns[slot].key, "%s", t.key);
  d->dns[slot].addr = a;
  d->dns[slot].len = len;
  d->dns[slot].expires = now + DNS_TTL_US;
}

/* Prepares x for the fast path when it qualifies: address, request, deadline. */
static int fast_prepare(vast_dispatcher *d, xfer *x, uint64_t now) {
  target t;
  if (!parse_target(x->url, &t)) return 0;
  vast__h1_req *r = &x->h1;
  memset(&r->addr, 0, sizeof r->addr);
  if (t.v6) {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&r->addr;
    if (inet_pton(AF_INET6, t.host, &s->sin6_addr) != 1) return 0;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons((uint16_t)t.port);
    r->addrlen = sizeof *s;
  } else {
    struct sockaddr_in *s = (struct sockaddr_in *)&r->addr;
    if (inet_pton(AF_INET, t.host, &s->sin_addr) == 1) {
      s->sin_family = AF_INET;
      s->sin_port = htons((uint16_t)t.port);
      r->addrlen = sizeof *s;
    } else if (!dns_lookup(d, t.key, now, &r->addr, &r->addrlen)) {
      return 0;
    }
  }
  size_t hh = strlen(t.hosthdr), slash = t.path_len == 0 || t.path[0] != '/';
  const char *tail = x->tail ? x->tail : d->req_tail;
  size_t tail_len = x->tail ? x->tail_len : d->req_tail_len;
  size_t n = 4 + slash + t.path_len + 17 + hh + 2 + tail_len;
  free(r->msg);
  r->msg = malloc(n + 1);
  if (!r->msg) return 0;
  char *m = r->msg;
  memcpy(m, "GET ", 4);
  m += 4;
  if (slash) *m++ = '/';
  memcpy(m, t.path, t.path_len);
  m += t.path_len;
  memcpy(m, " HTTP/1.1\r\nHost: ", 17);
  m += 17;
  memcpy(m, t.hosthdr, hh);
  m += hh;
  memcpy(m, "\r\n", 2);
  m += 2;
  memcpy(m, tail, tail_len);
  m += tail_len;
  *m = 0;
  r->msg_len = (size_t)(m - r->msg);
  snprintf(r->key, sizeof r->key, "%s", t.key);
  r->deadline_us = d->o.timeout_ms > 0 ? now + (uint64_t)d->o.timeout_ms * 1000u : 0;
  r->refuse_private = d->refuse || x->refuse;
  free(r->location);
  r->location = NULL;
  return 1;
}

static void h1_done(void *ctx, vast__h1_req *r) {
  vast_dispatcher *d = ctx;
  xfer *x = (xfer *)(void *)((char *)r - offsetof(xfer, h1));
  x->next = d->h1_done;
  d->h1_done = x;
}

static void flight_link(vast_dispatcher *d, xfer *x) {
  x->fprev = NULL;
  x->fnext = d->flight;
  if (d->flight) d->flight->fprev = x;
  d->flight = x;
}

static void flight_unlink(vast_dispatcher *d, xfer *x) {
  if (x->fprev)
    x->fprev->fnext = x->fnext;
  else
    d->flight = x->fnext;
  if (x->fnext) x->fnext->fprev = x->fprev;
  x->fprev = x->fnext = NULL;
}

/*
 * Moves waiting beacons into flight: whole batches, while fewer than
 * max_concurrent are in flight; beacons waiting for a retry delay stay queued.
 * libcurl transfers are added to the multi handle (started by the next
 * curl_multi_perform); fast-path requests are written right after the lock is
 * released, one batch after the other. Returns the earliest retry time still
 * waiting (0 when none).
 */
static uint64_t start_pending(vast_dispatcher *d) {
  uint64_t now = vast__now_us(), wait_until = 0;
  xfer *fast = NULL, **fast_tail = &fast;
  pthread_mutex_lock(&d->mu);
  xfer **pp = &d->head, *prev = NULL;
  uint64_t cur_batch = 0;
  while (*pp) {
    xfer *x = *pp;
    if (x->not_before > now) {
      if (!wait_until || x->not_before < wait_until) wait_until = x->not_before;
      prev = x;
      pp = &x->next;
      continue;
    }
    if (d->n_flight >= d->o.max_concurrent && x->batch != cur_batch) break;
    *pp = x->next;
    if (d->tail == x) d->tail = prev;
    d->n_pend--;
    x->next = NULL;
    if (d->h1 && fast_prepare(d, x, now)) {
      x->fast = 1;
      *fast_tail = x;
      fast_tail = &x->next;
    } else if (setup_easy(d, x) != 0 || curl_multi_add_handle(d->multi, x->easy) != CURLM_OK) {
      /* out of memory: report it and drop the beacon */
      d->st.failed++;
      pthread_mutex_unlock(&d->mu);
      deliver(d, x, 0, VAST_E_NOMEM, "out of memory");
      xfer_free(x);
      pthread_mutex_lock(&d->mu);
      pp = &d->head; /* restart: the list may have changed meanwhile */
      prev = NULL;
      continue;
    } else {
      d->n_curl++;
    }
    x->start_us = now;
    x->attempts++;
    flight_link(d, x);
    d->n_flight++;
    cur_batch = x->batch;
  }
  pthread_mutex_unlock(&d->mu);
  for (xfer *x = fast, *nx; x; x = nx) {
    nx = x->next; /* done() may reuse next */
    x->next = NULL;
    vast__h1_start(d->h1, &x->h1);
  }
  return wait_until;
}

static int retryable(CURLcode rc, const xfer *x) {
  if (x->guard.refused || x->sent_us) return 0; /* refused, or the request left */
  return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
         rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SEND_ERROR;
}

/*
 * A transfer ended (x already out of the flight list). When retry is set and
 * attempts remain, x is queued again (first in line, after retry_delay_ms);
 * otherwise its record is delivered and x freed.
 */
static void settle(vast_dispatcher *d, xfer *x, long status, vast_err e, const char *msg,
                   int retry) {
  if (retry && x->attempts <= d->o.retries) {
    pthread_mutex_lock(&d->mu);
    d->n_flight--;
    d->n_pend++;
    d->st.retried++;
    x->not_before =
        vast__now_us() + (uint64_t)(d->o.retry_delay_ms > 0 ? d->o.retry_delay_ms : 0) * 1000u;
    x->next = d->head; /* retries go first */
    d->head = x;
    if (!d->tail) d->tail = x;
    pthread_mutex_unlock(&d->mu);
    return;
  }
  deliver(d, x, status, e, msg);
  pthread_mutex_lock(&d->mu);
  d->n_flight--;
  if (e == VAST_OK)
    d->st.delivered++;
  else if (e == VAST_E_FORBIDDEN)
    d->st.refused++;
  else
    d->st.failed++;
  if (!d->n_flight && !d->n_pend) pthread_cond_broadcast(&d->idle);
  pthread_mutex_unlock(&d->mu);
  xfer_free(x);
}

/* Handles finished libcurl transfers: delivery records, retries, counters. */
static void reap(vast_dispatcher *d) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(d->multi, &left))) {
    if (m->msg != CURLMSG_DONE) continue;
    xfer *x = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
    CURLcode rc = m->data.result;
    curl_multi_remove_handle(d->multi, x->easy);
    d->n_curl--;
    flight_unlink(d, x);
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    if (d->h1 && status > 0 && !x->redirect) {
      long redirects = 0, port = 0;
      char *ip = NULL;
      curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_COUNT, &redirects);
      curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_IP, &ip);
      curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_PORT, &port);
      if (!redirects) dns_learn(d, x->url, ip, port);
    }
    int retry = rc != CURLE_OK && status == 0 && retryable(rc, x);
    vast_err e = VAST_OK;
    const char *msg = NULL;
    if (rc != CURLE_OK && status == 0) {
      e = vast__curl_err(rc, &x->guard, 0);
      msg = e == VAST_E_FORBIDDEN ? "destination address refused (private network)"
            : x->errbuf[0]        ? x->errbuf
                                  : curl_easy_strerror(rc);
    } else if (rc != CURLE_OK) { /* a response came, then the transfer failed */
      msg = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
      e = vast__curl_err(rc, &x->guard, 0);
    }
    settle(d, x, status, e, msg, retry);
  }
}

/* Handles fast-path requests that ended; a 3xx with Location goes on in libcurl. */
static void reap_h1(vast_dispatcher *d) {
  while (d->h1_done) {
    xfer *x = d->h1_done;
    d->h1_done = x->next;
    x->next = NULL;
    x->fast = 0;
    flight_unlink(d, x);
    vast__h1_req *r = &x->h1;
    x->sent_us = r->sent_us;
    x->sent_at = r->sent_at;
    switch (r->result) {
    case VAST__H1_OK:
      if (r->location && d->o.max_redirects > 0 && r->status != 304) {
        char *abs = NULL;
        int is_file = 0;
        if (vast_url_resolve(x->url, r->location, &abs, &is_file) != VAST_OK || is_file) {
          free(abs);
          settle(d, x, r->status, VAST_E_URL, "redirect to a URL that is not http(s)", 0);
          break;
        }
        x->redirect = abs;
        if (setup_easy(d, x) != 0 || curl_multi_add_handle(d->multi, x->easy) != CURLM_OK) {
          settle(d, x, r->status, VAST_E_NOMEM, "out of memory", 0);
          break;
        }
        d->n_curl++;
        flight_link(d, x);
        break;
      }
      settle(d, x, r->status, VAST_OK, NULL, 0);
      break;
    case VAST__H1_CONNECT:
      settle(d, x, 0, VAST_E_HTTP, r->error, 1);
      break;
    case VAST__H1_REFUSED:
      settle(d, x, 0, VAST_E_FORBIDDEN, r->error, 0);
      break;
    case VAST__H1_TIMEOUT:
      settle(d, x, r->status, VAST_E_TIMEOUT, r->error, !r->sent_us && !r->status);
      break;
    case VAST__H1_NOMEM:
      settle(d, x, r->status, VAST_E_NOMEM, r->error, 0);
      break;
    default:
      settle(d, x, r->status, VAST_E_HTTP, r->error, 0);
      break;
    }
  }
}

static size_t outstanding(vast_dispatcher *d) {
  pthread_mutex_lock(&d->mu);
  size_t n = d->n_pend + d->n_flight;
  pthread_mutex_unlock(&d->mu);
  return n;
}

/* Progresses both paths without waiting and settles what ended. */
static void progress(vast_dispatcher *d) {
  int running = 0;
  if (d->h1) {
    vast__h1_run(d->h1, 0);
    reap_h1(d); /* may hand redirects to libcurl */
  }
  if (d->n_curl) {
    curl_multi_perform(d->multi, &running);
    reap(d);
  }
}

/* One round: start waiting beacons, wait for activity up to timeout_ms, progress. */
static void step_once(vast_dispatcher *d, int timeout_ms) {
  /* cleared before the queue is read: a submit after this point wakes the
     poll below again, one before it is started now */
  atomic_store(&d->woken, 0);
  uint64_t wake = start_pending(d);
  progress(d);
  pthread_mutex_lock(&d->mu);
  int busy = d->n_flight > 0, waiting = d->n_pend > 0;
  /* Transfers that finished just now freed slots for beacons still waiting:
     start those at once rather than sleeping in the poll below. */
  int startable = waiting && d->n_flight < d->o.max_concurrent;
  pthread_mutex_unlock(&d->mu);
  if (!busy && !waiting && !d->threaded) return;
  if (startable && !wake) timeout_ms = 0;
  uint64_t deadline = d->h1 ? vast__h1_next_deadline(d->h1) : 0;
  if (deadline && (!wake || deadline < wake)) wake = deadline;
  if (wake) {
    uint64_t now = vast__now_us();
    int until = wake > now ? (int)((wake - now) / 1000) + 1 : 0;
    if (until < timeout_ms) timeout_ms = until;
  }
  if (timeout_ms > 0) {
    if (d->h1 && !d->n_curl && !d->threaded) {
      vast__h1_run(d->h1, timeout_ms); /* only fast-path work can be pending */
    } else {
      struct curl_waitfd w = {.fd = d->h1 ? vast__h1_fd(d->h1) : -1, .events = CURL_WAIT_POLLIN};
      curl_multi_poll(d->multi, d->h1 ? &w : NULL, d->h1 ? 1u : 0u, timeout_ms, NULL);
    }
  }
  progress(d);
}

long vast_dispatcher_step(vast_dispatcher *d, int timeout_ms) {
  if (!d) return -1;
  if (d->threaded) return -1;
  step_once(d, timeout_ms);
  return (long)outstanding(d);
}

vast_err vast_dispatcher_drain(vast_dispatcher *d, long timeout_ms) {
  if (!d) return VAST_E_INVAL;
  uint64_t end = timeout_ms >= 0 ? vast__now_us() + (uint64_t)timeout_ms * 1000u : 0;
  if (d->threaded) {
    pthread_mutex_lock(&d->mu);
    while (d->n_pend + d->n_flight) {
      if (end) {
        uint64_t now = vast__now_us();
        if (now >= end) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (end - now) * 1000u;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&d->idle, &d->mu, &ts);
      } else {
        pthread_cond_wait(&d->idle, &d->mu);
      }
    }
    size_t n = d->n_pend + d->n_flight;
    pthread_mutex_unlock(&d->mu);
    return n ? VAST_E_TIMEOUT : VAST_OK;
  }
  while (outstanding(d)) {
    int slice = 100;
    if (end) {
      uint64_t now = vast__now_us();
      if (now >= end) return VAST_E_TIMEOUT;
      if ((end - now) / 1000 < (uint64_t)slice) slice = (int)((end - now) / 1000) + 1;
    }
    step_once(d, slice);
  }
  return VAST_OK;
}

static void *thread_main(void *arg) {
  vast_dispatcher *d = arg;
  for (;;) {
    pthread_mutex_lock(&d->mu);
    int stop = d->stop;
    pthread_mutex_unlock(&d->mu);
    if (stop) break;
    step_once(d, 1000);
  }
  return NULL;
}

vast_err vast_dispatcher_start(vast_dispatcher *d) {
  if (!d) return VAST_E_INVAL;
  if (d->threaded) return VAST_E_STATE;
  d->threaded = 1;
  if (pthread_create(&d->th, NULL, thread_main, d) != 0) {
    d->threaded = 0;
    return VAST_E_NOMEM;
  }
  return VAST_OK;
}

void vast_dispatcher_stats(vast_dispatcher *d, vast_dispatch_stats *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!d) return;
  pthread_mutex_lock(&d->mu);
  *out = d->st;
  out->queued = d->n_pend;
  out->in_flight = d->n_flight;
  pthread_mutex_unlock(&d->mu);
}

void vast_dispatcher_free(vast_dispatcher *d) {
  if (!d) return;
  if (d->threaded) {
    pthread_mutex_lock(&d->mu);
    d->stop = 1;
    pthread_mutex_unlock(&d->mu);
    curl_multi_wakeup(d->multi);
    pthread_join(d->th, NULL);
    d->threaded = 0;
  }
  for (xfer *x = d->flight; x;) {
    xfer *nx = x->fnext;
    if (x->fast)
      vast__h1_cancel(d->h1, &x->h1);
    else if (x->easy)
      curl_multi_remove_handle(d->multi, x->easy);
    deliver(d, x, 0, VAST_E_STATE, "cancelled");
    xfer_free(x);
    x = nx;
  }
  for (xfer *x = d->head; x;) {
    xfer *nx = x->next;
    deliver(d, x, 0, VAST_E_STATE, "cancelled");
    xfer_free(x);
    x = nx;
  }
  if (d->multi) curl_multi_cleanup(d->multi);
  pthread_mutex_destroy(&d->mu);
  pthread_cond_destroy(&d->idle);
  vast__h1_free(d->h1);
  free(d->req_tail);
  curl_slist_free_all(d->headers);
  free(d->ua);
  free(d->dev_ip);
  free(d->dev_ua);
  free(d->dev_ref);
  free(d->dev_lang);
  free(d->dev_rw);
  free(d);
}
