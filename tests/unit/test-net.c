/*
 * test-net.c: the resolver, fetch and dispatcher over real HTTP on 127.0.0.1.
 *
 * Each case starts its own in-process HTTP/1.1 server (a thread per connection,
 * plain sockets, port 0) with a table of routes: documents, 404, delays, hangs,
 * slow drips, connection drops, chunked and unframed bodies, interim 100
 * responses, connections closed right after a response, and /px/... beacon
 * endpoints. The server records every request (path and headers) and counts
 * the connections it accepted, so the beacon checks can count exactly.
 *
 * The dispatcher cases run twice: on the plain-http fast path (the default for
 * 127.0.0.1 URLs) and with curl_only (every beacon through libcurl).
 * Bodies may contain {BASE}, replaced by "http://127.0.0.1:<port>".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <time.h>

#include "harness.h"
#include "vastrack.h"

/* ------------------------------------------------------------------------ */
/* Test server                                                               */
/* ------------------------------------------------------------------------ */

enum {
  R_BODY,
  R_HANG,
  R_DRIP,
  R_DROP,
  R_DIR,
  R_REDIR,
  R_CHUNKED,
  R_NOLEN,
  R_CLOSE_AFTER,
  R_CONTINUE,
  R_GARBAGE
};

typedef struct route {
  char path[128];
  int kind;
  int status;
  int delay_ms;
  char *body;
} route;

typedef struct req {
  char path[512];
  char headers[2048];
  double at; /* monotonic seconds when the request was read */
} req;

static route routes[64];
static int n_routes;
static int srv_port, srv_fd = -1;
static req reqs[4096];
static int n_reqs;
static int n_conns; /* connections accepted */
static pthread_mutex_t srv_mu = PTHREAD_MUTEX_INITIALIZER;
static char srv_dir[1024];

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add_route(const char *path, int kind, int status, int delay_ms, const char *fmt, ...) {
  route *r = &routes[n_routes++];
  snprintf(r->path, sizeof r->path, "%s", path);
  r->kind = kind;
  r->status = status;
  r->delay_ms = delay_ms;
  r->body = NULL;
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&r->body, fmt, ap) < 0) _exit(3);
    va_end(ap);
  }
}

static void doc(const char *path, const char *fmt, ...) {
  char *b;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&b, fmt, ap) < 0) _exit(3);
  va_end(ap);
  add_route(path, R_BODY, 200, 0, "%s", b);
  free(b);
}

static char *subst_base(const char *body) {
  char base[64];
  snprintf(base, sizeof base, "http://127.0.0.1:%d", srv_port);
  size_t cap = strlen(body) * 4 + 64, n = 0;
  char *o = malloc(cap);
  for (const char *p = body; *p;) {
    if (strncmp(p, "{BASE}", 6) == 0) {
      n += (size_t)sprintf(o + n, "%s", base);
      p += 6;
    } else {
      o[n++] = *p++;
    }
  }
  o[n] = 0;
  return o;
}

static int write_all(int fd, const char *b, size_t n) {
  while (n) {
    ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
    if (k <= 0) return -1;
    b += k;
    n -= (size_t)k;
  }
  return 0;
}

static void respond(int fd, int status, const char *body, size_t len) {
  char h[256];
  int hl = snprintf(h, sizeof h,
                    "HTTP/1.1 %d X\r\nContent-Type: text/xml\r\nContent-Length: %zu\r\n\r\n",
                    status, len);
  if (write_all(fd, h, (size_t)hl) == 0) write_all(fd, body, len);
}

static const route *find_route(const char *path) {
  char p[512];
  snprintf(p, sizeof p, "%s", path);
  char *q = strchr(p, '?');
  if (q) *q = 0;
  for (int i = 0; i < n_routes; i++) {
    size_t l = strlen(routes[i].path);
    if (routes[i].kind == R_DIR || routes[i].path[l - 1] == '*') {
      size_t m = routes[i].kind == R_DIR ? l : l - 1;
      if (strncmp(p, routes[i].path, m) == 0) return &routes[i];
    } else if (strcmp(p, routes[i].path) == 0) {
      return &routes[i];
    }
  }
  return NULL;
}

static void *conn_main(void *arg) {
  int fd = (int)(intptr_t)arg;
  char buf[16384];
  size_t n = 0;
  for (;;) {
    char *end;
    while (!(end = memmem(buf, n, "\r\n\r\n", 4))) {
      if (n == sizeof buf) goto out;
      ssize_t k = recv(fd, buf + n, sizeof buf - n, 0);
      if (k <= 0) goto out;
      n += (size_t)k;
    }
    size_t hl = (size_t)(end - buf) + 4;
    req r;
    memset(&r, 0, sizeof r);
    r.at = mono();
    sscanf(buf, "%*s %511s", r.path);
    char *hs = memchr(buf, '\n', hl);
    size_t hlen = hs ? (size_t)(end - hs) + 1 : 0;
    if (hlen >= sizeof r.headers) hlen = sizeof r.headers - 1;
    if (hs) memcpy(r.headers, hs + 1, hlen);
    memmove(buf, buf + hl, n - hl);
    n -= hl;
    pthread_mutex_lock(&srv_mu);
    if (n_reqs < (int)(sizeof reqs / sizeof reqs[0])) reqs[n_reqs++] = r;
    pthread_mutex_unlock(&srv_mu);
    const route *rt = find_route(r.path);
    if (!rt) {
      respond(fd, 404, "not found", 9);
      continue;
    }
    if (rt->delay_ms) usleep((useconds_t)rt->delay_ms * 1000);
    if (rt->kind == R_HANG) {
      sleep(30);
      goto out;
    }
    if (rt->kind == R_DROP) goto out;
    if (rt->kind == R_REDIR) { /* body = Location */
      char *loc = subst_base(rt->body);
      char h[512];
      int rl = snprintf(h, sizeof h,
                        "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n", loc);
      free(loc);
      if (write_all(fd, h, (size_t)rl)) goto out;
      continue;
    }
    if (rt->kind == R_CHUNKED) { /* three chunks, an extension, a trailer */
      const char *h = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "6\r\nGIF89a\r\n1;ext=1\r\nx\r\n10\r\n0123456789abcdef\r\n"
                      "0\r\nX-Trailer: t\r\n\r\n";
      if (write_all(fd, h, strlen(h))) goto out;
      continue;
    }
    if (rt->kind == R_NOLEN) { /* HTTP/1.0 style: the body ends when the server closes */
      const char *h = "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n\r\nGIF89a...";
      write_all(fd, h, strlen(h));
      goto out;
    }
    if (rt->kind == R_CLOSE_AFTER) { /* keep-alive response, then the server closes */
      respond(fd, 200, "ok", 2);
      goto out;
    }
    if (rt->kind == R_GARBAGE) { /* not HTTP at all */
      const char *h = "garbage\r\nmore: garbage\r\n\r\n";
      write_all(fd, h, strlen(h));
      goto out;
    }
    if (rt->kind == R_CONTINUE) {
      const char *h = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
      if (write_all(fd, h, strlen(h))) goto out;
      continue;
    }
    if (rt->kind == R_DRIP) {
      const char *h = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n";
      if (write_all(fd, h, strlen(h))) goto out;
      for (int i = 0; i < 600; i++) {
        if (write_all(fd, " ", 1)) goto out;
        usleep(50000);
      }
      goto out;
    }
    if (rt->kind == R_DIR) {
      char path[2048];
      snprintf(path, sizeof path, "%s/%s", srv_dir, r.path + strlen(rt->path));
      char *q = strchr(path, '?');
      if (q) *q = 0;
      FILE *f = fopen(path, "rb");
      if (!f) {
        respond(fd, 404, "no", 2);
        continue;
      }
      static char fb[1 << 20];
      size_t fl = fread(fb, 1, sizeof fb, f);
      fclose(f);
      respond(fd, 200, fb, fl);
      continue;
    }
    char *body = subst_base(rt->body ? rt->body : "");
    respond(fd, rt->status, body, strlen(body));
    free(body);
  }
out:
  close(fd);
  return NULL;
}

static void *accept_main(void *arg) {
  for (;;) {
    int c = accept(srv_fd, NULL, NULL);
    if (c < 0) {
      if (errno == EINTR) continue;
      return NULL;
    }
    pthread_mutex_lock(&srv_mu);
    n_conns++;
    pthread_mutex_unlock(&srv_mu);
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_create(&t, &at, conn_main, (void *)(intptr_t)c);
    pthread_attr_destroy(&at);
  }
}

static void srv_start(void) {
  srv_fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(srv_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(srv_fd, (struct sockaddr *)&a, sizeof a) || listen(srv_fd, 512)) _exit(3);
  socklen_t al = sizeof a;
  getsockname(srv_fd, (struct sockaddr *)&a, &al);
  srv_port = ntohs(a.sin_port);
  pthread_t t;
  pthread_create(&t, NULL, accept_main, NULL);
  pthread_detach(t);
}

static char *url(const char *path) {
  static char b[8][256];
  static int i;
  char *o = b[i++ % 8];
  snprintf(o, 256, "http://127.0.0.1:%d%s", srv_port, path);
  return o;
}

/* Requests whose path starts with prefix. */
static int count_reqs(const char *prefix) {
  int c = 0;
  pthread_mutex_lock(&srv_mu);
  for (int i = 0; i < n_reqs; i++)
    c += strncmp(reqs[i].path, prefix, strlen(prefix)) == 0;
  pthread_mutex_unlock(&srv_mu);
  return c;
}

static const req *find_req(const char *prefix) {
  const req *r = NULL;
  pthread_mutex_lock(&srv_mu);
  for (int i = 0; i < n_reqs && !r; i++)
    if (strncmp(reqs[i].path, prefix, strlen(prefix)) == 0) r = &reqs[i];
  pthread_mutex_unlock(&srv_mu);
  return r;
}

/* A closed local port: bound, then closed, so connections are refused. */
static int dead_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, (struct sockaddr *)&a, sizeof a);
  socklen_t al = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &al);
  close(fd);
  return ntohs(a.sin_port);
}

/* ------------------------------------------------------------------------ */
/* Documents                                                                 */
/* ------------------------------------------------------------------------ */

#define INLINE(id, extra)                                                                          \
  "<VAST version=\"4.2\"><Ad id=\"" id "\"><InLine><AdSystem>T</AdSystem><AdTitle>t</AdTitle>"     \
  "<Impression>{BASE}/px/imp-" id "</Impression>"                                                  \
  "<Error>{BASE}/err/" id "?c=[ERRORCODE]</Error>" extra                                           \
  "<Creatives><Creative><Linear><Duration>00:00:10</Duration><MediaFiles>"                         \
  "<MediaFile delivery=\"progressive\" type=\"video/mp4\" width=\"1\" height=\"1\">"               \
  "http://m/x.mp4</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>"

static void wrapper_doc(const char *path, const char *id, const char *attrs, const char *uri) {
  doc(path,
      "<VAST version=\"4.2\"><Ad id=\"%s\"><Wrapper %s><AdSystem>T</AdSystem>"
      "<VASTAdTagURI><![CDATA[%s]]></VASTAdTagURI>"
      "<Error>{BASE}/err/%s?c=[ERRORCODE]</Error><Impression>{BASE}/px/imp-%s</Impression>"
      "</Wrapper></Ad></VAST>",
      id, attrs, uri, id, id);
}

static vast_chain *resolve(const char *path, vast_resolve_opts *o, vast_err *rc, vast_error *e) {
  vast_chain *c = NULL;
  *rc = vast_resolve_url(url(path), o, &c, e);
  return c;
}

static int has_error_beacon(const vast_chain *c, const char *needle, int code) {
  size_t n;
  const vast_error_beacon *b = vast_chain_error_beacons(c, &n);
  for (size_t i = 0; i < n; i++)
    if (strstr(b[i].url, needle) && b[i].iab_code == code) return 1;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* URL resolution and fetch                                                  */
/* ------------------------------------------------------------------------ */

TEST(url_resolve_relative_and_schemes) {
  char *o = NULL;
  int f = -1;
  CHECK_INT(vast_url_resolve("http://a.b/x/y.xml?q=1", "z.xml", &o, &f), VAST_OK);
  CHECK_STR(o, "http://a.b/x/z.xml");
  CHECK_INT(f, 0);
  free(o);
  CHECK_INT(vast_url_resolve("https://a.b/x/y.xml", "/r?x=1", &o, NULL), VAST_OK);
  CHECK_STR(o, "https://a.b/r?x=1");
  free(o);
  CHECK_INT(vast_url_resolve("https://a.b/x/y.xml", "//c.d/e", &o, NULL), VAST_OK);
  CHECK_STR(o, "https://c.d/e");
  free(o);
  CHECK_INT(vast_url_resolve("http://a.b/", "  \n http://c.d/v?x=[CACHEBUSTING]\n ", &o, NULL),
            VAST_OK);
  CHECK_STR(o, "http://c.d/v?x=[CACHEBUSTING]");
  free(o);
  CHECK_INT(vast_url_resolve("dir/sub/w.xml", "b.xml", &o, &f), VAST_OK);
  CHECK_STR(o, "dir/sub/b.xml");
  CHECK_INT(f, 1);
  free(o);
  CHECK_INT(vast_url_resolve("w.xml", "b.xml", &o, &f), VAST_OK);
  CHECK_STR(o, "b.xml");
  free(o);
  CHECK_INT(vast_url_resolve("http://a.b/", "javascript:alert(1)", &o, NULL), VAST_E_URL);
  CHECK(o == NULL);
  CHECK_INT(vast_url_resolve("http://a.b/", "file:///etc/passwd", &o, NULL), VAST_E_URL);
  CHECK_INT(vast_url_resolve("dir/w.xml", "ftp://x/y", &o, NULL), VAST_E_URL);
  CHECK_INT(vast_url_resolve(NULL, "rel.xml", &o, NULL), VAST_E_URL);
  CHECK_INT(vast_url_resolve("http://a.b/", "   ", &o, NULL), VAST_E_URL);
}

/* RFC 3986 section 5.4: every normal and abnormal example with an http result, and
 * the cases tags add (spaces, protocol-relative). No network, no libcurl. */
TEST(url_resolve_rfc3986_examples) {
  static const char *const ex[][2] = {
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g/"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q#s"},
      {"g#s", "http://a/b/c/g#s"},
      {"g?y#s", "http://a/b/c/g?y#s"},
      {";x", "http://a/b/c/;x"},
      {"g;x", "http://a/b/c/g;x"},
      {"g;x?y#s", "http://a/b/c/g;x?y#s"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../", "http://a/"},
      {"../../g", "http://a/g"},
      {"../../../g", "http://a/g"},
      {"../../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},
      {".g", "http://a/b/c/.g"},
      {"g..", "http://a/b/c/g.."},
      {"..g", "http://a/b/c/..g"},
      {"./../g", "http://a/b/g"},
      {"./g/.", "http://a/b/c/g/"},
      {"g/./h", "http://a/b/c/g/h"},
      {"g/../h", "http://a/b/c/h"},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
      {"g;x=1/../y", "http://a/b/c/y"},
      {"g?y/./x", "http://a/b/c/g?y/./x"},
      {"g?y/../x", "http://a/b/c/g?y/../x"},
      {"g#s/./x", "http://a/b/c/g#s/./x"},
      {"g#s/../x", "http://a/b/c/g#s/../x"},
      {"my ad.xml?a b", "http://a/b/c/my%20ad.xml?a%20b"},
  };
  for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
    char *o = NULL;
    CHECK_INT(vast_url_resolve("http://a/b/c/d;p?q", ex[i][0], &o, NULL), VAST_OK);
    if (!o || strcmp(o, ex[i][1])) fprintf(stderr, "  %s -> %s\n", ex[i][0], o ? o : "(null)");
    CHECK_STR(o, ex[i][1]);
    vast_free(o);
  }
  char *o = NULL;
  CHECK_INT(vast_url_resolve("HTTPS://h.example", "v.xml", &o, NULL), VAST_OK);
  CHECK_STR(o, "https://h.example/v.xml");
  vast_free(o);
  CHECK_INT(vast_url_resolve("http://h/a", "b\nc", &o, NULL), VAST_E_URL);
  CHECK(o == NULL);
}

TEST(fetch_ok_404_size_timeout) {
  add_route("/a", R_BODY, 200, 0, "hello");
  add_route("/big", R_BODY, 200, 0, "%0200d", 7);
  add_route("/slow", R_BODY, 200, 1500, "late");
  srv_start();
  vast_fetch_result res;
  vast_error e;
  CHECK_INT(vast_fetch(url("/a"), NULL, &res, &e), VAST_OK);
  CHECK_INT(res.status, 200);
  CHECK_INT(res.len, 5);
  CHECK_STR(res.body, "hello");
  free(res.body);
  free(res.effective_url);
  CHECK_INT(vast_fetch(url("/nope"), NULL, &res, &e), VAST_E_HTTP);
  CHECK_INT(res.status, 404);
  CHECK_INT(e.iab_code, 301);
  CHECK(strstr(e.message, "404") != NULL);
  CHECK(res.body == NULL);
  free(res.effective_url);
  vast_fetch_opts o;
  vast_fetch_opts_init(&o);
  o.max_bytes = 100;
  CHECK_INT(vast_fetch(url("/big"), &o, &res, &e), VAST_E_TOO_LARGE);
  free(res.effective_url);
  o.max_bytes = 1000;
  o.timeout_ms = 200;
  double t = mono();
  CHECK_INT(vast_fetch(url("/slow"), &o, &res, &e), VAST_E_TIMEOUT);
  CHECK(mono() - t < 1.2);
  free(res.effective_url);
  CHECK_INT(vast_fetch("ftp://127.0.0.1/x", NULL, &res, &e), VAST_E_URL);
  o.refuse_private = 1;
  o.timeout_ms = 2000;
  CHECK_INT(vast_fetch(url("/a"), &o, &res, &e), VAST_E_FORBIDDEN);
  free(res.effective_url);
  CHECK_INT(count_reqs("/slow"), 1);
}

/* ------------------------------------------------------------------------ */
/* Chains                                                                    */
/* ------------------------------------------------------------------------ */

/* /c/N is a wrapper pointing to /c/N-1 (relative URI); /c/0 is the InLine. */
static void chain_routes(int n) {
  doc("/c/0", INLINE("c0", ""));
  for (int i = 1; i <= n; i++) {
    char p[32], id[32], uri[32];
    snprintf(p, sizeof p, "/c/%d", i);
    snprintf(id, sizeof id, "c%d", i);
    snprintf(uri, sizeof uri, "%d", i - 1);
    wrapper_doc(p, id, "", uri);
  }
}

TEST(chains_of_1_to_5_wrappers_resolve) {
  chain_routes(6);
  srv_start();
  for (int n = 0; n <= 5; n++) {
    char p[32];
    snprintf(p, sizeof p, "/c/%d", n);
    vast_err rc;
    vast_error e;
    vast_chain *c = resolve(p, NULL, &rc, &e);
    CHECK_INT(rc, VAST_OK);
    size_t na, nh;
    const vast_resolved *ads = vast_chain_ads(c, &na);
    const vast_hop *hops = vast_chain_hops(c, &nh);
    CHECK_INT(na, 1);
    CHECK_INT(ads[0].n, n + 1);
    CHECK_INT(nh, n + 1);
    char id[16];
    snprintf(id, sizeof id, "c%d", n);
    CHECK_STR(ads[0].ads[0]->id, id);
    CHECK_STR(ads[0].ads[n]->id, "c0");
    CHECK_INT(ads[0].ads[n]->kind, VAST_AD_INLINE);
    for (int i = 0; i < n; i++)
      CHECK_INT(ads[0].ads[i]->kind, VAST_AD_WRAPPER);
    CHECK_INT(hops[n].depth, n);
    CHECK_INT(hops[n].status, 200);
    CHECK(hops[n].bytes > 100);
    CHECK(hops[n].doc != NULL);
    CHECK_INT(ads[0].hops[n], n);
    size_t nf;
    vast_chain_failures(c, &nf);
    CHECK_INT(nf, 0);
    vast_chain_free(c);
  }
}

TEST(six_wrappers_hit_the_limit_302) {
  chain_routes(6);
  srv_start();
  vast_err rc;
  vast_error e;
  vast_chain *c = resolve("/c/6", NULL, &rc, &e);
  CHECK_INT(rc, VAST_E_WRAPPER_LIMIT);
  CHECK_INT(e.iab_code, 302);
  size_t na, nh, nf, nb;
  vast_chain_ads(c, &na);
  vast_chain_hops(c, &nh);
  const vast_failure *f = vast_chain_failures(c, &nf);
  vast_chain_error_beacons(c, &nb);
  CHECK_INT(na, 0);
  CHECK_INT(nh, 6); /* /c/6 .. /c/1 fetched, /c/0 never */
  CHECK_INT(nf, 1);
  CHECK_INT(f[0].iab_code, 302);
  CHECK_INT(f[0].n, 6);
  CHECK_INT(nb, 6); /* every wrapper reached */
  for (int i = 1; i <= 6; i++) {
    char needle[32];
    snprintf(needle, sizeof needle, "/err/c%d?c=302", i);
    CHECK(has_error_beacon(c, needle, 302));
  }
  CHECK_INT(count_reqs("/c/0"), 0);
  vast_chain_free(c);
  /* a larger limit resolves it */
  vast_resolve_opts o;
  vast_resolve_opts_init(&o);
  o.max_wrappers = 6;
  c = resolve("/c/6", &o, &rc, &e);
  CHECK_INT(rc, VAST_OK);
  vast_chain_free(c);
  o.max_wrappers = 0;
  c = resolve("/c/1", &o, &rc, &e);
  CHECK_INT(rc, VAST_E_WRAPPER_LIMIT);
  vast_chain_free(c);
}

TEST(failure_modes_map_to_iab_codes) {
  wrapper_doc("/w404", "w404", "", "/missing");
  wrapper_doc("/whang", "whang", "", "/hang");
  add_route("/hang", R_HANG, 0, 0, NULL);
  wrapper_doc("/wdrip", "wdrip", "", "/drip");
  add_route("/drip", R_DRIP, 0, 0, NULL);
  wrapper_doc("/wempty", "wempty", "", "/empty");
  doc("/empty", "<VAST version=\"4.2\"><Error>{BASE}/err/root?c=[ERRORCODE]</Error></VAST>");
  wrapper_doc("/wblank", "wblank", "", "/blank");
  add_route("/blank", R_BODY, 200, 0, "");
  wrapper_doc("/wbad", "wbad", "", "/bad");
  doc("/bad", "<VAST version=\"4.2\"><Ad><InLine></VAST>");
  wrapper_doc("/wloop", "wloop", "", "/wloop");
  wrapper_doc("/la", "la", "", "lb");
  wrapper_doc("/lb", "lb", "", "{BASE}/la");
  wrapper_doc("/wjs", "wjs", "", "javascript:alert(1)");
  srv_start();
  struct {
    const char *path;
    vast_err rc;
    int iab;
    const char *err_needle;
  } cases[] = {
      {"/w404", VAST_E_HTTP, 301, "/err/w404?c=301"},
      {"/whang", VAST_E_TIMEOUT, 301, "/err/whang?c=301"},
      {"/wdrip", VAST_E_TIMEOUT, 301, "/err/wdrip?c=301"},
      {"/wempty", VAST_E_NO_AD, 303, "/err/wempty?c=303"},
      {"/wblank", VAST_E_NO_AD, 303, "/err/wblank?c=303"},
      {"/wbad", VAST_E_XML, 100, "/err/wbad?c=100"},
      {"/wloop", VAST_E_LOOP, 302, "/err/wloop?c=302"},
      {"/la", VAST_E_LOOP, 302, "/err/lb?c=302"},
      {"/wjs", VAST_E_URL, 301, "/err/wjs?c=301"},
  };
  vast_resolve_opts o;
  vast_resolve_opts_init(&o);
  o.first_timeout_ms = 400;
  o.hop_timeout_ms = 400;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    vast_err rc;
    vast_error e;
    double t = mono();
    vast_chain *c = resolve(cases[i].path, &o, &rc, &e);
    if (rc != cases[i].rc) fprintf(stderr, "  case %s: %s\n", cases[i].path, e.message);
    CHECK_INT(rc, cases[i].rc);
    CHECK_INT(e.iab_code, cases[i].iab);
    CHECK(mono() - t < 2.0);
    CHECK(has_error_beacon(c, cases[i].err_needle, cases[i].iab));
    size_t na;
    vast_chain_ads(c, &na);
    CHECK_INT(na, 0);
    vast_chain_free(c);
  }
  /* the no-ad response's own root Error gets 303 too */
  vast_err rc;
  vast_error e;
  vast_chain *c = resolve("/wempty", &o, &rc, &e);
  CHECK(has_error_beacon(c, "/err/root?c=303", 303));
  vast_chain_free(c);
  /* the root document itself failing: no chain of ads, hop recorded */
  c = resolve("/nothing-here", &o, &rc, &e);
  CHECK_INT(rc, VAST_E_HTTP);
  CHECK_INT(e.iab_code, 301);
  size_t nh;
  const vast_hop *h = vast_chain_hops(c, &nh);
  CHECK_INT(nh, 1);
  CHECK_INT(h[0].status, 404);
  vast_chain_free(c);
}

TEST(total_budget_bounds_the_whole_resolution) {
  doc("/t/0", INLINE("t0", ""));
  for (int i = 1; i <= 4; i++) {
    char p[16], id[16], uri[16];
    snprintf(p, sizeof p, "/t/%d", i);
    snprintf(id, sizeof id, "t%d", i);
    snprintf(uri, sizeof uri, "%d", i - 1);
    wrapper_doc(p, id, "", uri);
    routes[n_routes - 1].delay_ms = 150;
  }
  srv_start();
  vast_resolve_opts o;
  vast_resolve_opts_init(&o);
  o.total_timeout_ms = 400;
  vast_err rc;
  vast_error e;
  double t = mono();
  vast_chain *c = resolve("/t/4", &o, &rc, &e);
  double took = mono() - t;
  CHECK_INT(rc, VAST_E_TIMEOUT);
  CHECK_INT(e.iab_code, 301);
  CHECK(took < 1.0);
  vast_chain_free(c);
  o.total_timeout_ms = 5000;
  c = resolve("/t/4", &o, &rc, &e);
  CHECK_INT(rc, VAST_OK);
  CHECK(vast_chain_elapsed_ms(c) >= 450);
  vast_chain_free(c);
}

TEST(buffet_falls_back_to_the_next_ad) {
  doc("/in", INLINE("in", ""));
  doc("/buffet",
      "<VAST version=\"4.2\">"
      "<Ad id=\"b1\"><Wrapper><AdSystem>T</AdSystem><VASTAdTagURI>/missing</VASTAdTagURI>"
      "<Error>{BASE}/err/b1?c=[ERRORCODE]</Error><Impression>{BASE}/px/b1</Impression></Wrapper></"
      "Ad>"
      "<Ad id=\"b2\"><Wrapper><AdSystem>T</AdSystem><VASTAdTagURI>/in</VASTAdTagURI>"
      "<Error>{BASE}/err/b2?c=[ERRORCODE]</Error><Impression>{BASE}/px/b2</Impression></Wrapper></"
      "Ad>"
      "<Ad id=\"b3\"><Wrapper><AdSystem>T</AdSystem><VASTAdTagURI>/in</VASTAdTagURI>"
      "<Impression>{BASE}/px/b3</Impression></Wrapper></Ad>"
      "</VAST>");
  srv_start();
  vast_err rc;
  vast_error e;
  vast_chain *c = resolve("/buffet", NULL, &rc, &e);
  CHECK_INT(rc, VAST_OK);
  size_t na, nf, nb;
  const vast_resolved *a = vast_chain_ads(c, &na);
  const vast_failure *f = vast_chain_failures(c, &nf);
  vast_chain_error_beacons(c, &nb);
  CHECK_INT(na, 1); /* a buffet plays one ad */
  CHECK_STR(a[0].ads[0]->id, "b2");
  CHECK_STR(a[0].ads[1]->id, "in");
  CHECK_INT(nf, 1);
  CHECK_STR(f[0].ads[0]->id, "b1");
  CHECK_INT(f[0].iab_code, 301);
  CHECK_INT(nb, 1);
  CHECK(has_error_beacon(c, "/err/b1?c=301", 301));
  CHECK_INT(count_reqs("/in"), 1);
  vast_chain_free(c);
}

TEST(fallback_on_no_ad_decides_whether_the_buffet_is_used) {
  doc("/in", INLINE("in", ""));
  doc("/empty", "<VAST version=\"4.2\"/>");
  const char *t = "<VAST version=\"4.2\">"
                  "<Ad id=\"f1\"><Wrapper fallbackOnNoAd=\"%s\"><AdSystem>T</AdSystem>"
                  "<VASTAdTagURI>/empty</VASTAdTagURI><Impression>{BASE}/px/f1</Impression>"
                  "<Error>{BASE}/err/f1?c=[ERRORCODE]</Error></Wrapper></Ad>"
                  "<Ad id=\"f2\"><InLine><AdSystem>T</AdSystem><AdTitle>t</AdTitle>"
                  "<Impression>{BASE}/px/f2</Impression><Creatives/></InLine></Ad></VAST>";
  doc("/yes", t, "true");
  doc("/no", t, "false");
  srv_start();
  vast_err rc;
  vast_error e;
  vast_chain *c = resolve("/yes", NULL, &rc, &e);
  CHECK_INT(rc, VAST_OK);
  size_t na;
  const vast_resolved *a = vast_chain_ads(c, &na);
  CHECK_INT(na, 1);
  CHECK_STR(a[0].ads[0]->id, "f2");
  CHECK_INT(a[0].n, 1);
  vast_chain_free(c);
  c = resolve("/no", NULL, &rc, &e);
  CHECK_INT(rc, VAST_E_NO_AD);
  CHECK_INT(e.iab_code, 303);
  vast_chain_ads(c, &na);
  CHECK_INT(na, 0);
  CHECK(has_error_beacon(c, "/err/f1?c=303", 303));
  vast_chain_free(c);
}

TEST(pod_resolves_every_ad_in_sequence_order) {
  doc("/in", INLINE("in", ""));
  doc("/in2", INLINE("in2", ""));
  doc("/pod",
      "<VAST version=\"4.2\">"
      "<Ad id=\"p2\" "
      "sequence=\"2\"><Wrapper><AdSystem>T</AdSystem><VASTAdTagURI>/in2</VASTAdTagURI>"
      "<Impression>{BASE}/px/p2</Impression></Wrapper></Ad>"
      "<Ad id=\"p1\" sequence=\"1\"><Wrapper><AdSystem>T</AdSystem><VASTAdTagURI>/in</VASTAdTagURI>"
      "<Impression>{BASE}/px/p1</Impression></Wrapper></Ad>"
      "<Ad id=\"p3\" "
      "sequence=\"3\"><Wrapper><AdSystem>T</AdSystem><VASTAdTagURI>/gone</VASTAdTagURI>"
      "<Impression>{BASE}/px/p3</Impression></Wrapper></Ad>"
      "<Ad id=\"s\"><InLine><AdSystem>T</AdSystem><AdTitle>t</AdTitle>"
      "<Impression>{BASE}/px/s</Impression><Creatives/></InLine></Ad>"
      "</VAST>");
  /* a wrapper whose response is a pod: allowMultipleAds decides */
  wrapper_doc("/wm1", "wm1", "allowMultipleAds=\"true\"", "/pod");
  wrapper_doc("/wm0", "wm0", "", "/pod");
  srv_start();
  vast_err rc;
  vast_error e;
  vast_chain *c = resolve("/pod", NULL, &rc, &e);
  CHECK_INT(rc, VAST_OK);
  size_t na;
  const vast_resolved *a = vast_chain_ads(c, &na);
  CHECK_INT(na, 3);
  CHECK_STR(a[0].ads[0]->id, "p1");
  CHECK_INT(a[0].sequence, 1);
  CHECK_STR(a[1].ads[0]->id, "p2");
  CHECK_INT(a[1].sequence, 2);
  CHECK_STR(a[2].ads[0]->id, "s"); /* replaced the failed p3 from the buffet */
  CHECK_INT(a[2].sequence, 3);
  vast_chain_free(c);
  c = resolve("/wm1", NULL, &rc, &e);
  a = vast_chain_ads(c, &na);
  CHECK_INT(na, 3);
  CHECK_STR(a[0].ads[0]->id, "wm1");
  CHECK_STR(a[0].ads[1]->id, "p1");
  CHECK_INT(a[0].n, 3);
  vast_chain_free(c);
  c = resolve("/wm0", NULL, &rc, &e);
  a = vast_chain_ads(c, &na);
  CHECK_INT(na, 1); /* allowMultipleAds=false: the standalone ad only */
  CHECK_STR(a[0].ads[1]->id, "s");
  vast_chain_free(c);
}

TEST(follow_additional_wrappers_false_refuses_wrappers_below) {
  doc("/in", INLINE("in", ""));
  wrapper_doc("/w2", "w2", "", "/in");
  wrapper_doc("/w1", "w1", "followAdditionalWrappers=\"false\"", "/w2");
  wrapper_doc("/v1", "v1", "followAdditionalWrappers=\"false\"", "/in");
  srv_start();
  vast_err rc;
  vast_error e;
  vast_chain *c = resolve("/w1", NULL, &rc, &e);
  CHECK(rc != VAST_OK);
  /* issue 15: the Wrapper below is ignored, not failed: no ad (303), w2 silent */
  CHECK_INT(e.iab_code, 303);
  CHECK(has_error_beacon(c, "/err/w1?c=303", 303));
  CHECK(!has_error_beacon(c, "/err/w2?c=300", 300));
  CHECK(!has_error_beacon(c, "/err/w2?c=303", 303));
  CHECK_INT(count_reqs("/in"), 0);
  vast_chain_free(c);
  c = resolve("/v1", NULL, &rc, &e);
  CHECK_INT(rc, VAST_OK);
  vast_chain_free(c);
}

static int fetch_calls;
static vast_err mem_fetch(void *ctx, const char *u, long timeout_ms, size_t max,
                          vast_fetch_result *res) {
  fetch_calls++;
  CHECK(timeout_ms > 0 && timeout_ms <= 8000);
  if (strcmp(u, "http://x.test/b.xml") != 0) {
    res->status = 404;
    return VAST_E_HTTP;
  }
  res->body = strdup("<VAST version=\"3.0\"><Ad id=\"m\"><InLine><AdSystem>m</AdSystem>"
                     "<AdTitle>m</AdTitle><Impression>http://x.test/i</Impression>"
                     "<Creatives/></InLine></Ad></VAST>");
  res->len = strlen(res->body);
  res->status = 200;
  return VAST_OK;
}

TEST(fetch_callback_replaces_libcurl) {
  const char *root = "<VAST version=\"3.0\"><Ad id=\"w\"><Wrapper><AdSystem>w</AdSystem>"
                     "<VASTAdTagURI>b.xml</VASTAdTagURI><Impression>http://x.test/wi</Impression>"
                     "</Wrapper></Ad></VAST>";
  vast_resolve_opts o;
  vast_resolve_opts_init(&o);
  o.fetch = mem_fetch;
  vast_chain *c = NULL;
  vast_error e;
  CHECK_INT(vast_resolve_buffer(root, strlen(root), "http://x.test/a/../a.xml", &o, &c, &e),
            VAST_OK);
  CHECK_INT(fetch_calls, 1);
  size_t na, nh;
  const vast_resolved *a = vast_chain_ads(c, &na);
  const vast_hop *h = vast_chain_hops(c, &nh);
  CHECK_INT(na, 1);
  CHECK_INT(a[0].n, 2);
  CHECK_STR(a[0].ads[1]->id, "m");
  CHECK_STR(h[1].url, "http://x.test/b.xml");
  vast_chain_free(c);
  /* a buffer with no base cannot follow a relative URI */
  CHECK_INT(vast_resolve_buffer(root, strlen(root), NULL, &o, &c, &e), VAST_E_URL);
  CHECK_INT(e.iab_code, 301);
  vast_chain_free(c);
}

static void check_corpus_chain(vast_chain *c, int files) {
  size_t na, nh;
  const vast_resolved *a = vast_chain_ads(c, &na);
  const vast_hop *h = vast_chain_hops(c, &nh);
  CHECK_INT(na, 1);
  CHECK_INT(a[0].n, 3);
  CHECK_STR(a[0].ads[0]->id, "4321");
  CHECK_STR(a[0].ads[1]->id, "1234");
  /* wrapper-b does not allow multiple ads: sample.xml's standalone ad */
  CHECK_STR(a[0].ads[2]->id, "ad_id_0002");
  CHECK_INT(a[0].ads[2]->kind, VAST_AD_INLINE);
  CHECK_INT(nh, 3);
  CHECK(strstr(h[1].url, "wrapper-b.xml") != NULL);
  CHECK(strstr(h[2].url, "sample.xml") != NULL);
  for (size_t i = 0; i < nh; i++) {
    CHECK_INT(h[i].is_file, files);
    CHECK_INT(h[i].status, files ? 0 : 200);
    CHECK(h[i].bytes > 0);
  }
}

TEST(corpus_chain_over_http) {
  snprintf(srv_dir, sizeof srv_dir, "%s/dailymotion__vast-client-js/spec/samples", th_corpus());
  add_route("/s/", R_DIR, 200, 0, NULL);
  srv_start();
  vast_err rc;
  vast_error e;
  vast_chain *c = resolve("/s/wrapper-a.xml", NULL, &rc, &e);
  CHECK_INT(rc, VAST_OK);
  check_corpus_chain(c, 0);
  vast_chain_free(c);
}

TEST(corpus_chain_from_disk) {
  char p[1024];
  snprintf(p, sizeof p, "%s/dailymotion__vast-client-js/spec/samples/wrapper-a.xml", th_corpus());
  vast_chain *c = NULL;
  vast_error e;
  CHECK_INT(vast_resolve_file(p, NULL, &c, &e), VAST_OK);
  check_corpus_chain(c, 1);
  vast_chain_free(c);
  /* the same tag from a buffer without allow_files cannot read files */
  size_t len;
  char *buf = th_slurp(p, &len);
  vast_resolve_opts o;
  vast_resolve_opts_init(&o);
  o.allow_files = 0;
  CHECK(vast_resolve_buffer(buf, len, p, &o, &c, &e) != VAST_OK);
  vast_chain_free(c);
  free(buf);
  CHECK_INT(vast_resolve_file("/nonexistent/x.xml", NULL, &c, &e), VAST_E_IO);
  CHECK(c == NULL);
}

static int cli_write(void *ctx, const char *data, size_t len) {
  return fwrite(data, 1, len, ctx) == len ? 0 : -1;
}

TEST(json_output_lists_hops_and_ads) {
  chain_routes(2);
  srv_start();
  vast_err rc;
  vast_error e;
  vast_chain *c = resolve("/c/2", NULL, &rc, &e);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  CHECK_INT(vast_chain_write_json(c, cli_write, f), VAST_OK);
  fclose(f);
  CHECK(strstr(buf, "\"ok\":true") != NULL);
  CHECK(strstr(buf, "/c/1\",\"file\":false,\"depth\":1") != NULL);
  CHECK(strstr(buf, "\"id\":\"c0\",\"kind\":\"inline\"") != NULL);
  free(buf);
  vast_chain_free(c);
}

/* ------------------------------------------------------------------------ */
/* Dispatcher                                                                */
/* ------------------------------------------------------------------------ */

typedef struct log_t {
  vast_delivery d[256];
  char url[256][256];
  char err[256][64];
  char ev[256][32];
  int n;
} log_t;

static void on_del(void *ctx, const vast_delivery *d) {
  log_t *l = ctx;
  if (l->n >= 256) return;
  l->d[l->n] = *d;
  snprintf(l->url[l->n], sizeof l->url[0], "%s", d->url);
  snprintf(l->err[l->n], sizeof l->err[0], "%s", d->error ? d->error : "");
  snprintf(l->ev[l->n], sizeof l->ev[0], "%s", d->event);
  l->d[l->n].event = l->ev[l->n];
  l->d[l->n].url = l->url[l->n];
  l->d[l->n].error = l->err[l->n];
  l->n++;
}

static int g_curl_only; /* set by the *_curl cases */

static vast_dispatcher *disp(vast_dispatch_opts *o, log_t *l) {
  vast_dispatcher *d = NULL;
  o->curl_only = g_curl_only;
  o->on_delivery = on_del;
  o->ctx = l;
  CHECK_INT(vast_dispatcher_create(o, &d), VAST_OK);
  return d;
}

TEST(impressions_leave_together_and_arrive_once) {
  add_route("/px/*", R_BODY, 200, 0, "GIF89a");
  srv_start();
  static log_t l;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  vast_dispatcher *d = disp(&o, &l);
  vast_beacon b[4] = {
      {url("/px/i1"), "impression", 0, NULL},
      {url("/px/i2"), "impression", 0, NULL},
      {url("/px/i3"), "impression", 0, NULL},
      {url("/px/i4?x=1"), "impression", 0, (void *)&l},
  };
  CHECK_INT(vast_dispatcher_submit(d, b, 4), VAST_OK);
  CHECK_INT(vast_dispatcher_drain(d, 5000), VAST_OK);
  CHECK_INT(l.n, 4);
  uint64_t lo = UINT64_MAX, hi = 0;
  for (int i = 0; i < 4; i++) {
    CHECK_INT(l.d[i].status, 200);
    CHECK_INT(l.d[i].err, VAST_OK);
    CHECK_INT(l.d[i].attempts, 1);
    CHECK(l.d[i].sent_us > 0);
    CHECK(l.d[i].latency_ms >= 0);
    if (l.d[i].sent_us < lo) lo = l.d[i].sent_us;
    if (l.d[i].sent_us > hi) hi = l.d[i].sent_us;
  }
  CHECK(hi - lo < 2000000); /* sanity only: timing targets live in bench-fire */
  for (int i = 1; i <= 4; i++) {
    char p[32];
    snprintf(p, sizeof p, "/px/i%d", i);
    CHECK_INT(count_reqs(p), 1);
  }
  const req *r = find_req("/px/i1");
  CHECK(strstr(r->headers, "User-Agent: vastrack/" VAST_VERSION_STRING) != NULL);
  CHECK(strstr(r->headers, "X-Device-IP") == NULL);
  vast_dispatch_stats st;
  vast_dispatcher_stats(d, &st);
  CHECK_INT(st.submitted, 4);
  CHECK_INT(st.delivered, 4);
  vast_dispatcher_free(d);
}

TEST(server_side_headers_and_private_guard) {
  add_route("/px/*", R_BODY, 204, 0, "");
  srv_start();
  static log_t l;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.server_side = 1;
  o.device_ip = "203.0.113.7";
  o.device_ua = "Mozilla/5.0 (TV)";
  o.device_referer = "https://pub.example/";
  o.device_accept_language = "fr-FR";
  o.device_requested_with = "com.example.app";
  o.forwarded_for = 1;
  /* default policy in server-side mode: loopback refused, nothing sent */
  vast_dispatcher *d = disp(&o, &l);
  vast_beacon b = {url("/px/ssai"), "start", 1.5, NULL};
  CHECK_INT(vast_dispatcher_submit(d, &b, 1), VAST_OK);
  CHECK_INT(vast_dispatcher_drain(d, 5000), VAST_OK);
  CHECK_INT(l.n, 1);
  CHECK_INT(l.d[0].err, VAST_E_FORBIDDEN);
  CHECK_INT(l.d[0].status, 0);
  CHECK_INT(l.d[0].attempts, 1); /* a refusal is not retried */
  CHECK_INT(count_reqs("/px/ssai"), 0);
  vast_dispatcher_free(d);
  /* allowed: the headers arrive */
  o.private_policy = VAST_PRIVATE_ALLOW;
  l.n = 0;
  d = disp(&o, &l);
  CHECK_INT(vast_dispatcher_submit(d, &b, 1), VAST_OK);
  CHECK_INT(vast_dispatcher_drain(d, 5000), VAST_OK);
  CHECK_INT(l.n, 1);
  CHECK_INT(l.d[0].status, 204);
  CHECK_NEAR(l.d[0].t, 1.5, 1e-9);
  const req *r = find_req("/px/ssai");
  CHECK(r != NULL);
  CHECK_INT(count_reqs("/px/ssai"), 1);
  CHECK(strstr(r->headers, "X-Device-IP: 203.0.113.7\r\n") != NULL);
  CHECK(strstr(r->headers, "X-Device-User-Agent: Mozilla/5.0 (TV)\r\n") != NULL);
  CHECK(strstr(r->headers, "X-Device-Referer: https://pub.example/\r\n") != NULL);
  CHECK(strstr(r->headers, "X-Device-Accept-Language: fr-FR\r\n") != NULL);
  CHECK(strstr(r->headers, "X-Device-Requested-With: com.example.app\r\n") != NULL);
  if (!strstr(r->headers, "X-Forwarded-For: 203.0.113.7\r\n")) fprintf(stderr, "%s\n", r->headers);
  CHECK(strstr(r->headers, "X-Forwarded-For: 203.0.113.7\r\n") != NULL);
  CHECK(strstr(r->headers, "User-Agent: vastrack/") != NULL);
  vast_dispatcher_free(d);
  /* server-side without the device is refused at creation */
  o.device_ip = NULL;
  vast_dispatcher *bad = NULL;
  CHECK_INT(vast_dispatcher_create(&o, &bad), VAST_E_INVAL);
  CHECK(bad == NULL);
}

TEST(queue_back_pressure) {
  add_route("/px/*", R_BODY, 200, 0, "");
  srv_start();
  static log_t l;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.max_queue = 2;
  vast_dispatcher *d = disp(&o, &l);
  vast_beacon b[3] = {{url("/px/q1"), "a", -1, NULL},
                      {url("/px/q2"), "b", -1, NULL},
                      {url("/px/q3"), "c", -1, NULL}};
  CHECK_INT(vast_dispatcher_submit(d, b, 3), VAST_E_FULL);
  CHECK_INT(vast_dispatcher_submit(d, b, 2), VAST_OK);
  CHECK_INT(vast_dispatcher_submit(d, b + 2, 1), VAST_E_FULL);
  vast_beacon bad = {"file:///etc/passwd", "x", -1, NULL};
  CHECK_INT(vast_dispatcher_submit(d, &bad, 1), VAST_E_URL);
  CHECK_INT(vast_dispatcher_drain(d, 5000), VAST_OK);
  CHECK_INT(vast_dispatcher_submit(d, b + 2, 1), VAST_OK);
  CHECK_INT(vast_dispatcher_drain(d, 5000), VAST_OK);
  CHECK_INT(l.n, 3);
  CHECK_INT(count_reqs("/px/q"), 3);
  vast_dispatcher_free(d);
}

TEST(retry_on_connection_failure_only) {
  add_route("/px/500", R_BODY, 500, 0, "");
  add_route("/px/drop", R_DROP, 0, 0, NULL);
  add_route("/px/slow", R_BODY, 200, 1000, "");
  srv_start();
  static log_t l;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.retries = 2;
  o.retry_delay_ms = 10;
  o.timeout_ms = 300;
  vast_dispatcher *d = disp(&o, &l);
  char dead[64];
  snprintf(dead, sizeof dead, "http://127.0.0.1:%d/px", dead_port());
  vast_beacon b[4] = {{dead, "dead", -1, NULL},
                      {url("/px/500"), "e500", -1, NULL},
                      {url("/px/drop"), "drop", -1, NULL},
                      {url("/px/slow"), "slow", -1, NULL}};
  CHECK_INT(vast_dispatcher_submit(d, b, 4), VAST_OK);
  CHECK_INT(vast_dispatcher_drain(d, 5000), VAST_OK);
  CHECK_INT(l.n, 4);
  for (int i = 0; i < 4; i++) {
    if (!strcmp(l.d[i].event, "dead")) { /* never connected: retried */
      CHECK_INT(l.d[i].attempts, 3);
      CHECK_INT(l.d[i].err, VAST_E_HTTP);
      CHECK(l.err[i][0] != 0);
    } else if (!strcmp(l.d[i].event, "e500")) { /* a response: never retried */
      CHECK_INT(l.d[i].attempts, 1);
      CHECK_INT(l.d[i].status, 500);
      CHECK_INT(l.d[i].err, VAST_OK);
    } else if (!strcmp(l.d[i].event, "drop")) { /* the request left: not retried */
      CHECK_INT(l.d[i].attempts, 1);
      CHECK(l.d[i].err != VAST_OK);
    } else {
      CHECK_INT(l.d[i].attempts, 1);
      CHECK_INT(l.d[i].err, VAST_E_TIMEOUT);
    }
  }
  CHECK_INT(count_reqs("/px/500"), 1);
  CHECK_INT(count_reqs("/px/drop"), 1);
  CHECK_INT(count_reqs("/px/slow"), 1);
  vast_dispatch_stats st;
  vast_dispatcher_stats(d, &st);
  CHECK_INT(st.retried, 2);
  vast_dispatcher_free(d);
}

TEST(own_thread_mode_and_many_beacons) {
  add_route("/px/*", R_BODY, 200, 0, "");
  srv_start();
  static log_t l;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.max_concurrent = 8;
  vast_dispatcher *d = disp(&o, &l);
  CHECK_INT(vast_dispatcher_start(d), VAST_OK);
  CHECK_INT(vast_dispatcher_start(d), VAST_E_STATE);
  CHECK_INT(vast_dispatcher_step(d, 0), -1);
  char urls[200][300];
  for (int i = 0; i < 200; i++) {
    snprintf(urls[i], sizeof urls[i], "%s%d", url("/px/m"), i);
    vast_beacon b = {urls[i], "x", i, NULL};
    CHECK_INT(vast_dispatcher_submit(d, &b, 1), VAST_OK);
  }
  vast_err dr = vast_dispatcher_drain(d, 10000);
  if (dr) {
    vast_dispatch_stats s0;
    vast_dispatcher_stats(d, &s0);
    fprintf(stderr, "  sub %lu del %lu fail %lu q %zu fl %zu reqs %d logged %d\n",
            (unsigned long)s0.submitted, (unsigned long)s0.delivered, (unsigned long)s0.failed,
            s0.queued, s0.in_flight, count_reqs("/px/m"), l.n);
  }
  CHECK_INT(dr, VAST_OK);
  CHECK_INT(count_reqs("/px/m"), 200);
  vast_dispatch_stats st;
  vast_dispatcher_stats(d, &st);
  CHECK_INT(st.delivered, 200);
  vast_dispatcher_free(d);
  CHECK_INT(l.n, 200);
  /* exactly once each */
  for (int i = 0; i < 200; i += 37) {
    char p[32];
    snprintf(p, sizeof p, "/px/m%d", i);
    int c = 0;
    pthread_mutex_lock(&srv_mu);
    for (int k = 0; k < n_reqs; k++)
      c += strcmp(reqs[k].path, p) == 0;
    pthread_mutex_unlock(&srv_mu);
    CHECK_INT(c, 1);
  }
}

TEST(free_cancels_what_is_in_flight) {
  add_route("/px/hang", R_HANG, 0, 0, NULL);
  srv_start();
  static log_t l;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  vast_dispatcher *d = disp(&o, &l);
  vast_beacon b[2] = {{url("/px/hang"), "h", -1, NULL}, {url("/px/hang"), "h", -1, NULL}};
  CHECK_INT(vast_dispatcher_submit(d, b, 2), VAST_OK);
  CHECK(vast_dispatcher_step(d, 50) == 2);
  CHECK_INT(vast_dispatcher_drain(d, 100), VAST_E_TIMEOUT);
  vast_dispatcher_free(d);
  CHECK_INT(l.n, 2);
  CHECK_INT(l.d[0].err, VAST_E_STATE);
}

TEST(resolver_fires_error_urls_through_the_dispatcher) {
  wrapper_doc("/w404", "w404", "", "/missing");
  add_route("/err/*", R_BODY, 200, 0, "");
  srv_start();
  static log_t l;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  vast_dispatcher *d = disp(&o, &l);
  vast_resolve_opts ro;
  vast_resolve_opts_init(&ro);
  ro.errors_to = d;
  vast_err rc;
  vast_error e;
  vast_chain *c = resolve("/w404", &ro, &rc, &e);
  CHECK_INT(rc, VAST_E_HTTP);
  CHECK_INT(vast_dispatcher_drain(d, 5000), VAST_OK);
  CHECK_INT(count_reqs("/err/w404?c=301"), 1);
  CHECK_INT(l.n, 1);
  CHECK_STR(l.d[0].event, "error");
  vast_chain_free(c);
  vast_dispatcher_free(d);
}

TEST(macros_in_tag_uris_and_error_urls) {
  doc("/in", INLINE("in", ""));
  wrapper_doc("/wm", "wm", "", "/in?cb=[CACHEBUSTING]&ip=[DEVICEIP]&x=[NOTAMACRO]");
  wrapper_doc("/wcb", "wcb", "", "/wcb?cb=[CACHEBUSTING]");
  srv_start();
  vast_macro_ctx mc;
  vast_macro_ctx_init(&mc);
  vast_macro_ctx_set(&mc, VAST_MACRO_DEVICEIP, "203.0.113.1");
  vast_resolve_opts o;
  vast_resolve_opts_init(&o);
  o.macros = &mc;
  vast_err rc;
  vast_error e;
  vast_chain *c = resolve("/wm", &o, &rc, &e);
  CHECK_INT(rc, VAST_OK);
  size_t nh;
  const vast_hop *h = vast_chain_hops(c, &nh);
  CHECK_INT(nh, 2);
  CHECK(strstr(h[1].uri, "cb=[CACHEBUSTING]&ip=[DEVICEIP]&x=[NOTAMACRO]") != NULL);
  CHECK(strstr(h[1].url, "&ip=203.0.113.1&x=[NOTAMACRO]") != NULL);
  const req *r = find_req("/in?cb=");
  CHECK(r != NULL);
  CHECK_INT(strlen(r->path), strlen("/in?cb=12345678&ip=203.0.113.1&x=[NOTAMACRO]"));
  vast_chain_free(c);
  /* a self-reference through a cache-buster is still a loop */
  c = resolve("/wcb", &o, &rc, &e);
  CHECK_INT(rc, VAST_E_LOOP);
  h = vast_chain_hops(c, &nh);
  CHECK_INT(nh, 2);
  CHECK(has_error_beacon(c, "/err/wcb?c=302", 302));
  vast_chain_free(c);
}

TEST(redirects_are_bounded_and_private_hosts_can_be_refused) {
  doc("/in", INLINE("in", ""));
  add_route("/r1", R_REDIR, 302, 0, "{BASE}/r2");
  add_route("/r2", R_REDIR, 302, 0, "/r3");
  add_route("/r3", R_REDIR, 302, 0, "/in");
  add_route("/rf", R_REDIR, 302, 0, "file:///etc/passwd");
  wrapper_doc("/w", "w", "", "/r1");
  srv_start();
  vast_err rc;
  vast_error e;
  vast_chain *c = resolve("/w", NULL, &rc, &e);
  CHECK_INT(rc, VAST_OK); /* 3 redirects, not wrappers */
  size_t nh;
  const vast_hop *h = vast_chain_hops(c, &nh);
  CHECK_INT(nh, 2);
  vast_chain_free(c);
  vast_resolve_opts o;
  vast_resolve_opts_init(&o);
  o.max_redirects = 2;
  c = resolve("/w", &o, &rc, &e);
  CHECK_INT(rc, VAST_E_HTTP);
  CHECK_INT(e.iab_code, 301);
  CHECK(has_error_beacon(c, "/err/w?c=301", 301));
  vast_chain_free(c);
  vast_fetch_result res;
  CHECK(vast_fetch(url("/rf"), NULL, &res, &e) != VAST_OK); /* no redirect to file: */
  free(res.effective_url);
  CHECK(res.body == NULL);
  o.max_redirects = 5;
  o.refuse_private = 1;
  c = resolve("/w", &o, &rc, &e);
  CHECK_INT(rc, VAST_E_FORBIDDEN);
  h = vast_chain_hops(c, &nh);
  CHECK_INT(nh, 1);
  CHECK_INT(h[0].err, VAST_E_FORBIDDEN);
  vast_chain_free(c);
  CHECK_INT(count_reqs("/w"), 2); /* the refused attempt never reached the server */
}

/* ------------------------------------------------------------------------ */
/* Keep-alive, framing and redirects (both paths)                            */
/* ------------------------------------------------------------------------ */

static int conns(void) {
  pthread_mutex_lock(&srv_mu);
  int c = n_conns;
  pthread_mutex_unlock(&srv_mu);
  return c;
}

/* Submits one beacon and waits for its record. */
static void fire_one(vast_dispatcher *d, const char *u, const char *ev) {
  vast_beacon b = {u, ev, -1, NULL};
  CHECK_INT(vast_dispatcher_submit(d, &b, 1), VAST_OK);
  CHECK_INT(vast_dispatcher_drain(d, 5000), VAST_OK);
}

TEST(keep_alive_connections_are_reused) {
  add_route("/px/*", R_BODY, 200, 0, "GIF89a");
  srv_start();
  static log_t l;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.max_concurrent = 4;
  vast_dispatcher *d = disp(&o, &l);
  char urls[120][300];
  for (int i = 0; i < 120; i++) {
    snprintf(urls[i], sizeof urls[i], "%s%d", url("/px/k"), i);
    vast_beacon b = {urls[i], "k", i, NULL};
    CHECK_INT(vast_dispatcher_submit(d, &b, 1), VAST_OK);
    if (i % 40 == 39) CHECK_INT(vast_dispatcher_drain(d, 5000), VAST_OK);
  }
  CHECK_INT(l.n, 120);
  for (int i = 0; i < l.n; i++) {
    CHECK_INT(l.d[i].status, 200);
    CHECK_INT(l.d[i].attempts, 1);
  }
  CHECK_INT(count_reqs("/px/k"), 120);
  CHECK(conns() <= 8); /* 4 at once; never a connection per beacon */
  vast_dispatcher_free(d);
}

TEST(chunked_unframed_and_interim_responses) {
  add_route("/px/chunked", R_CHUNKED, 200, 0, NULL);
  add_route("/px/nolen", R_NOLEN, 200, 0, NULL);
  add_route("/px/continue", R_CONTINUE, 204, 0, NULL);
  add_route("/px/ok*", R_BODY, 200, 0, "GIF89a");
  srv_start();
  static log_t l;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.max_concurrent = 1;
  o.timeout_ms = 3000;
  vast_dispatcher *d = disp(&o, &l);
  fire_one(d, url("/px/chunked"), "chunked");
  fire_one(d, url("/px/ok1"), "ok1");       /* same connection after a chunked body */
  fire_one(d, url("/px/continue"), "cont"); /* 100 then 204 */
  fire_one(d, url("/px/ok2"), "ok2");
  fire_one(d, url("/px/nolen"), "nolen"); /* body until close: connection not kept */
  fire_one(d, url("/px/ok3"), "ok3");
  CHECK_INT(l.n, 6);
  long want[6] = {200, 200, 204, 200, 200, 200};
  for (int i = 0; i < 6; i++) {
    CHECK_INT(l.d[i].status, want[i]);
    CHECK_INT(l.d[i].err, VAST_OK);
    CHECK_INT(l.d[i].attempts, 1);
  }
  CHECK_INT(count_reqs("/px/chunked"), 1);
  CHECK_INT(count_reqs("/px/continue"), 1);
  CHECK_INT(count_reqs("/px/nolen"), 1);
  CHECK_INT(count_reqs("/px/ok"), 3);
  CHECK_INT(conns(), 2); /* one up to the unframed body, one after */
  vast_dispatcher_free(d);
}

TEST(malformed_responses_fail_without_retry) {
  add_route("/px/garbage", R_GARBAGE, 0, 0, NULL);
  srv_start();
  static log_t l;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.retries = 2;
  vast_dispatcher *d = disp(&o, &l);
  fire_one(d, url("/px/garbage"), "g");
  CHECK_INT(l.n, 1);
  CHECK(l.d[0].err != VAST_OK);
  CHECK_INT(l.d[0].status, 0);
  CHECK_INT(l.d[0].attempts, 1); /* the request left */
  CHECK(l.err[0][0] != 0);
  CHECK_INT(count_reqs("/px/garbage"), 1);
  vast_dispatcher_free(d);
}

/* Delivery callback that submits the next beacon at once, so it starts on the
   connection the server is closing (before its FIN is noticed). */
typedef struct chain_ctx {
  log_t l;
  vast_dispatcher *d;
  int left;
} chain_ctx;

static void on_del_chain(void *ctx, const vast_delivery *r) {
  chain_ctx *c = ctx;
  on_del(&c->l, r);
  if (c->left-- > 0) {
    vast_beacon b = {url("/px/closing"), "again", -1, NULL};
    vast_dispatcher_submit(c->d, &b, 1);
  }
}

TEST(server_closing_keep_alive_connections) {
  add_route("/px/closing", R_CLOSE_AFTER, 200, 0, NULL);
  srv_start();
  static chain_ctx c;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.max_concurrent = 1;
  o.curl_only = g_curl_only;
  o.on_delivery = on_del_chain;
  o.ctx = &c;
  CHECK_INT(vast_dispatcher_create(&o, &c.d), VAST_OK);
  c.left = 9;
  vast_beacon b = {url("/px/closing"), "first", -1, NULL};
  CHECK_INT(vast_dispatcher_submit(c.d, &b, 1), VAST_OK);
  CHECK_INT(vast_dispatcher_drain(c.d, 10000), VAST_OK);
  CHECK_INT(c.l.n, 10);
  for (int i = 0; i < c.l.n; i++) {
    CHECK_INT(c.l.d[i].status, 200);
    CHECK_INT(c.l.d[i].err, VAST_OK);
    CHECK_INT(c.l.d[i].attempts, 1);
  }
  CHECK_INT(count_reqs("/px/closing"), 10); /* each exactly once */
  CHECK_INT(conns(), 10);
  vast_dispatcher_free(c.d);
}

TEST(slow_responses_and_timeouts) {
  add_route("/px/slow", R_BODY, 200, 200, "GIF89a");
  add_route("/px/slower", R_BODY, 200, 900, "GIF89a");
  srv_start();
  static log_t l;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.timeout_ms = 500;
  vast_dispatcher *d = disp(&o, &l);
  vast_beacon b[2] = {{url("/px/slow"), "slow", -1, NULL}, {url("/px/slower"), "slower", -1, NULL}};
  CHECK_INT(vast_dispatcher_submit(d, b, 2), VAST_OK);
  CHECK_INT(vast_dispatcher_drain(d, 5000), VAST_OK);
  CHECK_INT(l.n, 2);
  for (int i = 0; i < 2; i++) {
    CHECK_INT(l.d[i].attempts, 1); /* the request left: never retried */
    if (!strcmp(l.d[i].event, "slow")) {
      CHECK_INT(l.d[i].status, 200);
      CHECK(l.d[i].latency_ms >= 150);
    } else {
      CHECK_INT(l.d[i].err, VAST_E_TIMEOUT);
      CHECK_INT(l.d[i].status, 0);
      CHECK(l.d[i].latency_ms >= 450 && l.d[i].latency_ms < 900);
      CHECK(l.err[i][0] != 0);
    }
  }
  CHECK_INT(count_reqs("/px/slower"), 1);
  vast_dispatcher_free(d);
}

TEST(beacon_redirects_are_followed_and_bounded) {
  add_route("/px/r", R_REDIR, 302, 0, "/px/target");
  add_route("/px/rf", R_REDIR, 302, 0, "file:///etc/passwd");
  add_route("/px/target", R_BODY, 200, 0, "GIF89a");
  srv_start();
  static log_t l;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  vast_dispatcher *d = disp(&o, &l);
  fire_one(d, url("/px/r"), "r");
  fire_one(d, url("/px/rf"), "rf");
  CHECK_INT(l.n, 2);
  CHECK_INT(l.d[0].status, 200);
  CHECK_INT(l.d[0].err, VAST_OK);
  CHECK(strstr(l.d[0].url, "/px/r") != NULL && !strstr(l.d[0].url, "target"));
  CHECK(l.d[0].sent_us > 0);
  CHECK_INT(l.d[1].status, 302);
  CHECK_INT(l.d[1].err, VAST_E_URL);
  CHECK_INT(count_reqs("/px/target"), 1);
  CHECK_INT(count_reqs("/px/r"), 2); /* /px/r and /px/rf */
  vast_dispatcher_free(d);
  /* max_redirects 0: the 3xx is the answer */
  o.max_redirects = 0;
  l.n = 0;
  d = disp(&o, &l);
  fire_one(d, url("/px/r"), "r0");
  CHECK_INT(l.n, 1);
  CHECK_INT(l.d[0].status, 302);
  CHECK_INT(l.d[0].err, VAST_OK);
  CHECK_INT(count_reqs("/px/target"), 1);
  vast_dispatcher_free(d);
}

TEST(host_names_resolved_by_libcurl_are_reused) {
  add_route("/px/*", R_BODY, 200, 0, "GIF89a");
  srv_start();
  static log_t l;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.max_concurrent = 1;
  vast_dispatcher *d = disp(&o, &l);
  char u[4][128];
  for (int i = 0; i < 4; i++) {
    snprintf(u[i], sizeof u[i], "http://localhost:%d/px/h%d", srv_port, i);
    fire_one(d, u[i], "h");
  }
  CHECK_INT(l.n, 4);
  for (int i = 0; i < 4; i++) {
    CHECK_INT(l.d[i].status, 200);
    CHECK_INT(l.d[i].attempts, 1);
  }
  CHECK_INT(count_reqs("/px/h"), 4);
  const req *r = find_req("/px/h3");
  CHECK(r && strstr(r->headers, "Host: localhost:") != NULL);
  /* libcurl's connection for the first, then one fast-path connection */
  CHECK_INT(conns(), g_curl_only ? 1 : 2);
  vast_dispatcher_free(d);
}

/* ------------------------------------------------------------------------ */
/* Network policy (issue 12)                                                 */
/* ------------------------------------------------------------------------ */

/* Every entry of the IANA IPv4 and IPv6 special-purpose registries (and
   multicast), an address inside it and addresses just outside. */
TEST(special_purpose_registry_every_entry) {
  static const struct {
    const char *ip;
    int special;
  } t[] = {
      /* IPv4 */
      {"0.0.0.0", 1},
      {"0.255.255.255", 1},
      {"1.0.0.0", 0},
      {"10.0.0.1", 1},
      {"10.255.255.255", 1},
      {"11.0.0.0", 0},
      {"9.255.255.255", 0},
      {"100.64.0.1", 1},
      {"100.127.255.255", 1},
      {"100.63.255.255", 0},
      {"100.128.0.0", 0},
      {"127.0.0.1", 1},
      {"127.255.255.254", 1},
      {"128.0.0.0", 0},
      {"169.254.169.254", 1},
      {"169.253.255.255", 0},
      {"169.255.0.0", 0},
      {"172.16.0.1", 1},
      {"172.31.255.255", 1},
      {"172.15.255.255", 0},
      {"172.32.0.0", 0},
      {"192.0.0.0", 1},
      {"192.0.0.8", 1},
      {"192.0.0.9", 1},
      {"192.0.0.10", 1},
      {"192.0.0.170", 1},
      {"192.0.0.171", 1},
      {"192.0.0.255", 1},
      {"192.0.1.0", 0},
      {"192.0.2.1", 1},
      {"192.0.3.0", 0},
      {"192.31.196.1", 1},
      {"192.31.197.0", 0},
      {"192.52.193.1", 1},
      {"192.52.194.0", 0},
      {"192.88.99.1", 1},
      {"192.88.100.0", 0},
      {"192.168.1.1", 1},
      {"192.167.255.255", 0},
      {"192.169.0.0", 0},
      {"192.175.48.1", 1},
      {"192.175.49.0", 0},
      {"198.18.0.1", 1},
      {"198.19.255.255", 1},
      {"198.17.255.255", 0},
      {"198.20.0.0", 0},
      {"198.51.100.1", 1},
      {"198.51.101.0", 0},
      {"203.0.113.1", 1},
      {"203.0.112.255", 0},
      {"203.0.114.0", 0},
      {"224.0.0.1", 1},
      {"239.255.255.255", 1},
      {"240.0.0.1", 1},
      {"255.255.255.255", 1},
      {"223.255.255.255", 0},
      {"8.8.8.8", 0},
      {"93.184.216.34", 0},
      /* IPv6 */
      {"::", 1},
      {"::1", 1},
      {"::127.0.0.1", 1},
      {"::8.8.8.8", 1},
      {"::ffff:127.0.0.1", 1},
      {"::ffff:10.1.2.3", 1},
      {"::ffff:8.8.8.8", 0},
      {"::ffff:0:8.8.8.8", 1},
      {"64:ff9b::7f00:1", 1},
      {"64:ff9b::a00:1", 1},
      {"64:ff9b::c000:201", 1},
      {"64:ff9b::808:808", 0},
      {"64:ff9b:1::1", 1},
      {"64:ff9b:2::1", 0},
      {"100::1", 1},
      {"100::ffff:ffff:ffff:ffff", 1},
      {"100:0:0:1::1", 1},
      {"100:0:0:2::", 0},
      {"2001::1", 1},
      {"2001:1::1", 1},
      {"2001:1::2", 1},
      {"2001:1::3", 1},
      {"2001:2::1", 1},
      {"2001:3::1", 1},
      {"2001:4:112::1", 1},
      {"2001:10::1", 1},
      {"2001:20::1", 1},
      {"2001:30::1", 1},
      {"2001:1ff:ffff::", 1},
      {"2001:200::1", 0},
      {"2001:db8::1", 1},
      {"2001:db8:ffff::1", 1},
      {"2001:db9::1", 0},
      {"2002:7f00:1::1", 1},
      {"2002:a00:1::", 1},
      {"2002:c0a8:101::1", 1},
      {"2002:808:808::1", 0},
      {"2620:4f:8000::1", 1},
      {"2620:4f:8001::1", 0},
      {"3fff::1", 1},
      {"3fff:fff::1", 1},
      {"3fff:1000::1", 0},
      {"5f00::1", 1},
      {"5f01::1", 0},
      {"fc00::1", 1},
      {"fdff::1", 1},
      {"fe80::1", 1},
      {"febf::1", 1},
      {"fec0::1", 1},
      {"feff::1", 1},
      {"ff02::1", 1},
      {"2606:4700::1111", 0},
      {"2a00:1450:4001::1", 0},
      /* not addresses */
      {"localhost", -1},
      {"1.2.3.4\r\nX: 1", -1},
      {"", -1},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    int got = vast_net_ip_special(t[i].ip);
    if (got != t[i].special) fprintf(stderr, "  %s: %d, expected %d\n", t[i].ip, got, t[i].special);
    CHECK_INT(got, t[i].special);
  }
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
  inet_pton(AF_INET6, "64:ff9b::7f00:1", &a6.sin6_addr);
  CHECK_INT(vast_net_addr_special((struct sockaddr *)&a6), 1);
  vast_net_policy p;
  vast_net_policy_init(&p);
  CHECK_INT(vast_net_policy_refuses(&p, (struct sockaddr *)&a6), 1);
  CHECK_INT(vast_net_policy_refuses(NULL, (struct sockaddr *)&a6), 1);
  p.allow_private = 1;
  CHECK_INT(vast_net_policy_refuses(&p, (struct sockaddr *)&a6), 0);
  struct sockaddr un = {.sa_family = AF_UNIX};
  CHECK_INT(vast_net_addr_special(&un), 1);
}

/*
 * One policy covers fetch, every wrapper hop and the Error URLs the resolver
 * submits, even to a dispatcher whose own policy allows private addresses and
 * which holds a pooled keep-alive connection to the same host:port.
 */
TEST(policy_guards_fetch_hops_and_error_urls) {
  doc("/in", INLINE("in", ""));
  add_route("/px/*", R_BODY, 200, 0, "");
  add_route("/err/*", R_BODY, 200, 0, "");
  srv_start();
  vast_net_policy pol;
  vast_net_policy_init(&pol); /* refuses special-purpose addresses */
  vast_fetch_opts fo;
  vast_fetch_opts_init(&fo);
  fo.policy = &pol;
  vast_fetch_result res;
  vast_error e;
  CHECK_INT(vast_fetch(url("/in"), &fo, &res, &e), VAST_E_FORBIDDEN);
  free(res.effective_url);
  CHECK_INT(count_reqs("/in"), 0);
  /* a wrapper read from a buffer (no request) whose hop points at loopback */
  char w[1024];
  snprintf(w, sizeof w,
           "<VAST version=\"4.2\"><Ad id=\"w\"><Wrapper><AdSystem>T</AdSystem>"
           "<VASTAdTagURI><![CDATA[%s]]></VASTAdTagURI><Error>%s?c=[ERRORCODE]</Error>"
           "<Impression>http://example.com/i</Impression></Wrapper></Ad></VAST>",
           url("/in"), url("/err/w"));
  static log_t l;
  vast_dispatch_opts dopt;
  vast_dispatch_opts_init(&dopt);
  dopt.private_policy = VAST_PRIVATE_ALLOW; /* the dispatcher itself allows loopback */
  vast_dispatcher *d = disp(&dopt, &l);
  fire_one(d, url("/err/warm"), "x"); /* leaves a pooled connection to the server */
  CHECK_INT(vast_dispatcher_drain(d, 5000), VAST_OK);
  CHECK_INT(l.n, 1);
  CHECK_INT(l.d[0].status, 200);
  vast_resolve_opts ro;
  vast_resolve_opts_init(&ro);
  ro.policy = &pol;
  ro.errors_to = d;
  vast_chain *c = NULL;
  CHECK_INT(vast_resolve_buffer(w, strlen(w), NULL, &ro, &c, &e), VAST_E_FORBIDDEN);
  size_t nh;
  const vast_hop *h = vast_chain_hops(c, &nh);
  CHECK_INT(nh, 2);
  CHECK_INT(h[1].err, VAST_E_FORBIDDEN);
  CHECK(has_error_beacon(c, "/err/w?c=301", 301));
  CHECK_INT(vast_dispatcher_drain(d, 5000), VAST_OK);
  CHECK_INT(l.n, 2);
  CHECK_INT(l.d[1].err, VAST_E_FORBIDDEN);
  CHECK_INT(count_reqs("/err/w?"), 0);
  CHECK_INT(count_reqs("/in"), 0);
  vast_chain_free(c);
  /* the same policy allowing private addresses: the hop is fetched */
  pol.allow_private = 1;
  CHECK_INT(vast_resolve_buffer(w, strlen(w), NULL, &ro, &c, &e), VAST_OK);
  CHECK_INT(count_reqs("/in"), 1);
  vast_chain_free(c);
  vast_dispatcher_free(d);
  /* the policy's ceilings: one redirect at most, a 10-byte body */
  add_route("/r1", R_REDIR, 302, 0, "/r2");
  add_route("/r2", R_REDIR, 302, 0, "/in");
  pol.max_redirects = 1;
  CHECK_INT(vast_fetch(url("/r1"), &fo, &res, &e), VAST_E_HTTP);
  free(res.effective_url);
  pol.max_redirects = 0;
  pol.max_bytes = 10;
  CHECK_INT(vast_fetch(url("/in"), &fo, &res, &e), VAST_E_TOO_LARGE);
  free(res.effective_url);
}

/* A dispatcher whose policy refuses: the guard on both paths. */
TEST(dispatcher_policy_refuses_private) {
  add_route("/px/*", R_BODY, 200, 0, "");
  srv_start();
  static log_t l;
  vast_net_policy pol;
  vast_net_policy_init(&pol);
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o); /* client side: would allow loopback without a policy */
  o.policy = &pol;
  vast_dispatcher *d = disp(&o, &l);
  fire_one(d, url("/px/p"), "start");
  CHECK_INT(vast_dispatcher_drain(d, 5000), VAST_OK);
  CHECK_INT(l.n, 1);
  CHECK_INT(l.d[0].err, VAST_E_FORBIDDEN);
  CHECK_INT(count_reqs("/px/p"), 0);
  vast_dispatcher_free(d);
}

/* Caller-provided header values cannot add headers (fast path and libcurl alike:
   the dispatcher refuses them at creation). */
TEST(device_headers_refuse_control_characters) {
  add_route("/px/*", R_BODY, 200, 0, "");
  srv_start();
  static log_t l;
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.server_side = 1;
  o.private_policy = VAST_PRIVATE_ALLOW;
  o.curl_only = g_curl_only;
  o.on_delivery = on_del;
  o.ctx = &l;
  vast_dispatcher *d = NULL;
  static const char *bad_ip[] = {"1.2.3.4\r\nX-Inj: 1", "1.2.3.4 ", "example.com", "", "1.2.3"};
  o.device_ua = "TV";
  for (size_t i = 0; i < sizeof bad_ip / sizeof bad_ip[0]; i++) {
    o.device_ip = bad_ip[i];
    CHECK_INT(vast_dispatcher_create(&o, &d), VAST_E_INVAL);
    CHECK(d == NULL);
  }
  o.device_ip = "2001:db8::7";
  static const char *bad_val[] = {"evil\r\nX-Other: 1", "a\nb", "a\rb", "a\001b", "a\177b"};
  for (size_t i = 0; i < sizeof bad_val / sizeof bad_val[0]; i++) {
    for (int field = 0; field < 5; field++) {
      vast_dispatch_opts x = o;
      const char **f[] = {&x.device_ua, &x.device_referer, &x.device_accept_language,
                          &x.device_requested_with, &x.user_agent};
      *f[field] = bad_val[i];
      CHECK_INT(vast_dispatcher_create(&x, &d), VAST_E_INVAL);
      CHECK(d == NULL);
    }
  }
  CHECK_INT(vast_net_header_value_ok("Mozilla/5.0 (X11; Linux)\tok"), 1);
  /* fetch and the resolver: their User-Agent too (also from a policy) */
  vast_fetch_opts fo;
  vast_fetch_opts_init(&fo);
  fo.user_agent = "ua\r\nX-Inj: 1";
  vast_fetch_result res;
  vast_error e;
  CHECK_INT(vast_fetch(url("/px/f"), &fo, &res, &e), VAST_E_INVAL);
  CHECK(res.body == NULL && res.effective_url == NULL);
  vast_net_policy pol;
  vast_net_policy_init(&pol);
  pol.allow_private = 1;
  pol.user_agent = "ua\nX-Inj: 1";
  vast_resolve_opts ro;
  vast_resolve_opts_init(&ro);
  ro.policy = &pol;
  vast_chain *ch = NULL;
  CHECK_INT(vast_resolve_url(url("/px/r"), &ro, &ch, &e), VAST_E_INVAL);
  CHECK(ch == NULL);
  CHECK_INT(count_reqs("/px/f"), 0);
  CHECK_INT(count_reqs("/px/r"), 0);
  CHECK_INT(vast_net_header_value_ok("a\r\nb"), 0);
  /* valid values go out as they are */
  o.device_ua = "Mozilla/5.0 (TV)";
  CHECK_INT(vast_dispatcher_create(&o, &d), VAST_OK);
  fire_one(d, url("/px/h"), "start");
  CHECK_INT(vast_dispatcher_drain(d, 5000), VAST_OK);
  const req *r = find_req("/px/h");
  CHECK(r != NULL);
  CHECK(strstr(r->headers, "X-Device-IP: 2001:db8::7\r\n") != NULL);
  CHECK(strstr(r->headers, "X-Inj") == NULL);
  /* a URL with CR LF (a tag's, after expansion) cannot add a header either */
  char bad_url[300];
  snprintf(bad_url, sizeof bad_url, "%s\r\nX-Inj: 1\r\nX-Pad: ", url("/px/u"));
  vast_beacon b = {bad_url, "start", -1, NULL};
  CHECK_INT(vast_dispatcher_submit(d, &b, 1), VAST_E_URL);
  pthread_mutex_lock(&srv_mu);
  for (int i = 0; i < n_reqs; i++)
    CHECK(strstr(reqs[i].headers, "X-Inj") == NULL);
  pthread_mutex_unlock(&srv_mu);
  vast_dispatcher_free(d);
}

/* The dispatcher cases again with every beacon through libcurl. */
#define CURL_TOO(name)                                                                             \
  TEST(name##_curl) {                                                                              \
    g_curl_only = 1;                                                                               \
    name();                                                                                        \
  }
CURL_TOO(impressions_leave_together_and_arrive_once)
CURL_TOO(server_side_headers_and_private_guard)
CURL_TOO(queue_back_pressure)
CURL_TOO(retry_on_connection_failure_only)
CURL_TOO(own_thread_mode_and_many_beacons)
CURL_TOO(free_cancels_what_is_in_flight)
CURL_TOO(keep_alive_connections_are_reused)
CURL_TOO(chunked_unframed_and_interim_responses)
CURL_TOO(server_closing_keep_alive_connections)
CURL_TOO(slow_responses_and_timeouts)
CURL_TOO(beacon_redirects_are_followed_and_bounded)
CURL_TOO(host_names_resolved_by_libcurl_are_reused)
CURL_TOO(malformed_responses_fail_without_retry)
CURL_TOO(policy_guards_fetch_hops_and_error_urls)
CURL_TOO(dispatcher_policy_refuses_private)
CURL_TOO(device_headers_refuse_control_characters)

static const th_case cases[] = {TH(redirects_are_bounded_and_private_hosts_can_be_refused),
                                TH(macros_in_tag_uris_and_error_urls),
                                TH(url_resolve_relative_and_schemes),
                                TH(url_resolve_rfc3986_examples),
                                TH(fetch_ok_404_size_timeout),
                                TH(chains_of_1_to_5_wrappers_resolve),
                                TH(six_wrappers_hit_the_limit_302),
                                TH(failure_modes_map_to_iab_codes),
                                TH(total_budget_bounds_the_whole_resolution),
                                TH(buffet_falls_back_to_the_next_ad),
                                TH(fallback_on_no_ad_decides_whether_the_buffet_is_used),
                                TH(pod_resolves_every_ad_in_sequence_order),
                                TH(follow_additional_wrappers_false_refuses_wrappers_below),
                                TH(fetch_callback_replaces_libcurl),
                                TH(corpus_chain_over_http),
                                TH(corpus_chain_from_disk),
                                TH(json_output_lists_hops_and_ads),
                                TH(impressions_leave_together_and_arrive_once),
                                TH(server_side_headers_and_private_guard),
                                TH(queue_back_pressure),
                                TH(retry_on_connection_failure_only),
                                TH(own_thread_mode_and_many_beacons),
                                TH(free_cancels_what_is_in_flight),
                                TH(resolver_fires_error_urls_through_the_dispatcher),
                                TH(keep_alive_connections_are_reused),
                                TH(chunked_unframed_and_interim_responses),
                                TH(server_closing_keep_alive_connections),
                                TH(slow_responses_and_timeouts),
                                TH(beacon_redirects_are_followed_and_bounded),
                                TH(host_names_resolved_by_libcurl_are_reused),
                                TH(malformed_responses_fail_without_retry),
                                TH(impressions_leave_together_and_arrive_once_curl),
                                TH(server_side_headers_and_private_guard_curl),
                                TH(queue_back_pressure_curl),
                                TH(retry_on_connection_failure_only_curl),
                                TH(own_thread_mode_and_many_beacons_curl),
                                TH(free_cancels_what_is_in_flight_curl),
                                TH(keep_alive_connections_are_reused_curl),
                                TH(chunked_unframed_and_interim_responses_curl),
                                TH(server_closing_keep_alive_connections_curl),
                                TH(slow_responses_and_timeouts_curl),
                                TH(beacon_redirects_are_followed_and_bounded_curl),
                                TH(host_names_resolved_by_libcurl_are_reused_curl),
                                TH(malformed_responses_fail_without_retry_curl),
                                TH(special_purpose_registry_every_entry),
                                TH(policy_guards_fetch_hops_and_error_urls),
                                TH(dispatcher_policy_refuses_private),
                                TH(device_headers_refuse_control_characters),
                                TH(policy_guards_fetch_hops_and_error_urls_curl),
                                TH(dispatcher_policy_refuses_private_curl),
                                TH(device_headers_refuse_control_characters_curl),
                                {0}};

int main(int c, char **v) {
  return th_main(__FILE__, cases, c, v);
}
