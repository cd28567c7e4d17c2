/*
 * test-ssai.c: the SSAI service core (include/vastrack/ssai.h) against a real
 * HTTP server on 127.0.0.1 started here: timelines, consumption by segments
 * and positions, device headers, per-ad order, client events, retries until
 * the deadline, no retry for 4xx, the idle timeout, the journal's recovery.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "ssai/ssai-int.h"
#include "vastrack.h"

typedef struct req {
  char path[512];
  char headers[2048];
} req;

static int srv_port, srv_fd = -1;
static req reqs[4096];
static int n_reqs;
static int flaky_left = 2; /* /flaky/ answers 503 this many times, then 204 */
static pthread_mutex_t srv_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *wrapped_doc; /* served at /inline.xml */
static int slow_now, slow_max;  /* /slow/ requests being answered (100 ms each), the peak */
static const char *doc_path[8], *doc_body[8]; /* more documents served, by path (no query) */

static int write_all(int fd, const char *b, size_t n) {
  while (n) {
    ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
    if (k <= 0) return -1;
    b += k;
    n -= (size_t)k;
  }
  return 0;
}

static void respond(int fd, int status, const char *body) {
  char h[256];
  size_t len = strlen(body);
  int hl = snprintf(h, sizeof h, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n\r\n", status, len);
  if (write_all(fd, h, (size_t)hl) == 0) write_all(fd, body, len);
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
    sscanf(buf, "%*s %511s", r.path);
    char *hs = memchr(buf, '\n', hl);
    size_t hlen = hs ? (size_t)(end - hs) + 1 : 0;
    if (hlen >= sizeof r.headers) hlen = sizeof r.headers - 1;
    if (hs) memcpy(r.headers, hs + 1, hlen);
    memmove(buf, buf + hl, n - hl);
    n -= hl;
    int status = 204;
    pthread_mutex_lock(&srv_mu);
    if (n_reqs < 4096) reqs[n_reqs++] = r;
    if (!strncmp(r.path, "/flaky/", 7) && flaky_left > 0) {
      flaky_left--;
      status = 503;
    }
    pthread_mutex_unlock(&srv_mu);
    if (!strncmp(r.path, "/slow/", 6)) {
      pthread_mutex_lock(&srv_mu);
      if (++slow_now > slow_max) slow_max = slow_now;
      pthread_mutex_unlock(&srv_mu);
      usleep(100000);
      pthread_mutex_lock(&srv_mu);
      slow_now--;
      pthread_mutex_unlock(&srv_mu);
    }
    if (!strncmp(r.path, "/dead/", 6)) status = 503;
    if (!strncmp(r.path, "/gone/", 6)) status = 404;
    if (!strcmp(r.path, "/inline.xml")) {
      respond(fd, 200, wrapped_doc);
      continue;
    }
    const char *served = NULL;
    for (int i = 0; i < 8 && doc_path[i]; i++)
      if (!strncmp(r.path, doc_path[i], strlen(doc_path[i])) &&
          (!r.path[strlen(doc_path[i])] || r.path[strlen(doc_path[i])] == '?'))
        served = doc_body[i];
    if (served) {
      respond(fd, 200, served);
      continue;
    }
    respond(fd, status, "");
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
    pthread_t t;
    pthread_create(&t, NULL, conn_main, (void *)(intptr_t)c);
    pthread_detach(t);
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

/* Index of the first request whose path starts with prefix, -1 none. */
static int first_req(const char *prefix) {
  pthread_mutex_lock(&srv_mu);
  int at = -1;
  for (int i = 0; i < n_reqs && at < 0; i++)
    if (!strncmp(reqs[i].path, prefix, strlen(prefix))) at = i;
  pthread_mutex_unlock(&srv_mu);
  return at;
}

static int count_reqs(const char *prefix) {
  pthread_mutex_lock(&srv_mu);
  int c = 0;
  for (int i = 0; i < n_reqs; i++)
    c += !strncmp(reqs[i].path, prefix, strlen(prefix));
  pthread_mutex_unlock(&srv_mu);
  return c;
}

typedef struct buf {
  char *p;
  size_t n;
} buf;

static int to_buf(void *ctx, const char *d, size_t n) {
  buf *b = ctx;
  b->p = realloc(b->p, b->n + n + 1);
  memcpy(b->p + b->n, d, n);
  b->n += n;
  b->p[b->n] = 0;
  return 0;
}

static char *inline_doc(const char *tag, const char *px) {
  char *d = NULL;
  if (asprintf(&d,
               "<VAST version=\"4.2\"><Ad id=\"%s\"><InLine><AdSystem>t</AdSystem>"
               "<AdTitle>t</AdTitle><Impression>http://127.0.0.1:%d/%s/%s/imp</Impression>"
               "<Error>http://127.0.0.1:%d/%s/%s/err?c=[ERRORCODE]</Error>"
               "<Creatives><Creative><Linear skipoffset=\"00:00:05\"><Duration>00:00:30</Duration>"
               "<TrackingEvents>"
               "<Tracking event=\"start\">http://127.0.0.1:%d/%s/%s/start</Tracking>"
               "<Tracking event=\"firstQuartile\">http://127.0.0.1:%d/%s/%s/q1</Tracking>"
               "<Tracking event=\"midpoint\">http://127.0.0.1:%d/%s/%s/mid</Tracking>"
               "<Tracking event=\"thirdQuartile\">http://127.0.0.1:%d/%s/%s/q3</Tracking>"
               "<Tracking event=\"complete\">http://127.0.0.1:%d/%s/%s/complete</Tracking>"
               "<Tracking event=\"mute\">http://127.0.0.1:%d/%s/%s/mute</Tracking>"
               "<Tracking event=\"skip\">http://127.0.0.1:%d/%s/%s/skip</Tracking>"
               "</TrackingEvents><VideoClicks><ClickTracking>http://127.0.0.1:%d/%s/%s/click"
               "</ClickTracking></VideoClicks>"
               "<MediaFiles><MediaFile delivery=\"progressive\" type=\"video/mp4\" width=\"640\" "
               "height=\"360\">http://x/a.mp4</MediaFile></MediaFiles></Linear></Creative>"
               "</Creatives></InLine></Ad></VAST>",
               tag, srv_port, px, tag, srv_port, px, tag, srv_port, px, tag, srv_port, px, tag,
               srv_port, px, tag, srv_port, px, tag, srv_port, px, tag, srv_port, px, tag, srv_port,
               px, tag, srv_port, px, tag) < 0)
    _exit(3);
  return d;
}

/* Options of a test service: private addresses allowed (the test server is
   on 127.0.0.1), the journal in dir (NULL: none). */
static void test_opts(vast_ssai_opts *o, const char *dir) {
  static vast_net_policy pol;
  vast_net_policy_init(&pol);
  pol.allow_private = 1;
  vast_ssai_opts_init(o);
  o->policy = &pol;
  o->state_dir = dir;
}

static vast_ssai *service(const char *dir, long deadline_ms, double idle) {
  vast_ssai_opts o;
  test_opts(&o, dir);
  o.retry_base_ms = 50;
  if (deadline_ms) o.deadline_ms = deadline_ms;
  if (idle > 0) o.idle_timeout_s = idle;
  vast_ssai *s = NULL;
  char msg[256];
  vast_err rc = vast_ssai_create(&o, &s, msg, sizeof msg);
  if (rc != VAST_OK) fprintf(stderr, "create: %s\n", msg);
  return s;
}

static void session(vast_ssai *s, const char *id) {
  vast_device d = {sizeof d, "203.0.113.7", "Roku/DVP-9.10", NULL, "fr-FR", NULL, 0};
  char out[65];
  CHECK_INT(vast_ssai_session_create(s, id, &d, out, sizeof out), VAST_OK);
  CHECK_STR(out, id);
}

TEST(wrapper_break_segments_fire_in_order_with_device_headers) {
  srv_start();
  wrapped_doc = inline_doc("in1", "px");
  vast_ssai *s = service(NULL, 0, 0);
  CHECK(s != NULL);
  session(s, "s1");
  char *wrapper = NULL;
  if (asprintf(&wrapper,
               "<VAST version=\"4.2\"><Ad id=\"w1\"><Wrapper><AdSystem>w</AdSystem>"
               "<VASTAdTagURI>http://127.0.0.1:%d/inline.xml</VASTAdTagURI>"
               "<Impression>http://127.0.0.1:%d/px/w1/imp?ip=[DEVICEIP]</Impression>"
               "<Creatives><Creative><Linear><TrackingEvents>"
               "<Tracking event=\"firstQuartile\">http://127.0.0.1:%d/px/w1/q1</Tracking>"
               "</TrackingEvents></Linear></Creative></Creatives></Wrapper></Ad></VAST>",
               srv_port, srv_port, srv_port) < 0)
    _exit(3);
  buf tl = {0};
  vast_error err;
  CHECK_INT(vast_ssai_break_add(s, "s1", NULL, wrapper, strlen(wrapper), to_buf, &tl, &err),
            VAST_OK);
  CHECK(tl.p && strstr(tl.p, "\"sessionId\":\"s1\""));
  CHECK(strstr(tl.p, "\"chain\":[\"w1\",\"in1\"]") != NULL);
  CHECK(strstr(tl.p, "\"duration\":30") != NULL);
  CHECK(strstr(tl.p, "{\"event\":\"firstQuartile\",\"time\":7.5,\"urls\":[") != NULL);
  CHECK(strstr(tl.p, "/px/w1/q1") != NULL);
  CHECK(strstr(tl.p, "{\"event\":\"mute\",\"time\":null") != NULL);
  CHECK_INT(vast_ssai_break_add(s, "nope", NULL, wrapper, strlen(wrapper), to_buf, &tl, NULL),
            VAST_E_NOT_FOUND);
  /* segments of 6 s: 0 → impressions + start, 1 → q1 (7.5), 2 → mid, 3 → q3, 4 → complete */
  for (unsigned i = 0; i < 5; i++) {
    vast_ssai_consumption r = {0, 1, 0, -1, i, 6.0};
    CHECK_INT(vast_ssai_report(s, "s1", &r), VAST_OK);
  }
  vast_ssai_consumption again = {0, 1, 0, -1, 5, 6.0};
  CHECK_INT(vast_ssai_report(s, "s1", &again), VAST_E_STATE);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  const char *order[] = {"/px/in1/imp", "/px/in1/start", "/px/in1/q1",
                         "/px/in1/mid", "/px/in1/q3",    "/px/in1/complete"};
  for (int i = 0; i < 6; i++)
    CHECK_INT(count_reqs(order[i]), 1);
  for (int i = 1; i < 6; i++)
    CHECK(first_req(order[i - 1]) < first_req(order[i]));
  CHECK_INT(count_reqs("/px/w1/imp?ip=203.0.113.7"), 1);
  CHECK_INT(count_reqs("/px/w1/q1"), 1);
  CHECK(first_req("/px/w1/q1") > first_req("/px/in1/start"));
  int at = first_req("/px/in1/mid");
  CHECK(strstr(reqs[at].headers, "X-Device-IP: 203.0.113.7\r\n") != NULL);
  CHECK(strstr(reqs[at].headers, "X-Device-User-Agent: Roku/DVP-9.10\r\n") != NULL);
  CHECK(strstr(reqs[at].headers, "X-Device-Accept-Language: fr-FR\r\n") != NULL);
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  CHECK_INT((long)st.due, 8);
  CHECK_INT((long)st.sent, 8);
  CHECK_INT((long)st.pending, 0);
  buf m = {0};
  CHECK_INT(vast_ssai_write_metrics(s, to_buf, &m), VAST_OK);
  CHECK(strstr(m.p, "vastrack_ssai_beacons_sent_total 8\n") != NULL);
  CHECK(strstr(m.p, "vastrack_ssai_lateness_seconds_count 8\n") != NULL);
  free(m.p);
  free(tl.p);
  free(wrapper);
  vast_ssai_free(s);
}

/* Sessions given the same documents share one break (its chain, plans and
   timelines): a wrapper resolved per session and deduplicated by content, an
   inline document found by its bytes without parsing; each session's beacons
   still carry its own device. The break goes when its last ad ends. */
TEST(breaks_are_shared_between_sessions) {
  srv_start();
  wrapped_doc = inline_doc("in3", "px");
  vast_ssai *s = service(NULL, 0, 0);
  CHECK(s != NULL);
  char *wrapper = NULL;
  if (asprintf(&wrapper,
               "<VAST version=\"4.2\"><Ad id=\"w3\"><Wrapper><AdSystem>w</AdSystem>"
               "<VASTAdTagURI>http://127.0.0.1:%d/inline.xml</VASTAdTagURI>"
               "<Impression>http://127.0.0.1:%d/px/w3/imp?ip=[DEVICEIP]</Impression>"
               "</Wrapper></Ad></VAST>",
               srv_port, srv_port) < 0)
    _exit(3);
  char *d = inline_doc("a3", "px");
  const char *ips[3] = {"203.0.113.1", "203.0.113.2", "203.0.113.3"};
  for (int i = 0; i < 3; i++) {
    vast_device dev = {sizeof dev, ips[i], "UA", NULL, NULL, NULL, 0};
    char id[16], out[65];
    snprintf(id, sizeof id, "x%d", i);
    CHECK_INT(vast_ssai_session_create(s, id, &dev, out, sizeof out), VAST_OK);
    buf tl = {0};
    CHECK_INT(vast_ssai_break_add(s, id, NULL, wrapper, strlen(wrapper), to_buf, &tl, NULL),
              VAST_OK);
    CHECK(tl.p && strstr(tl.p, "\"ad\":0,\"adId\":\"in3\"") != NULL);
    free(tl.p);
    tl = (buf){0};
    CHECK_INT(vast_ssai_break_add(s, id, NULL, d, strlen(d), to_buf, &tl, NULL), VAST_OK);
    CHECK(tl.p && strstr(tl.p, "\"break\":1,\"ads\":[{\"ad\":1,\"adId\":\"a3\"") != NULL);
    free(tl.p);
  }
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  vast_ssai_figures2 st2 = {sizeof st2, 0, 0, 0, 0, 0, 0, 0};
  vast_ssai_stats2(s, &st2);
  CHECK_INT((long)st2.breaks, 2);
  CHECK_INT((long)st2.break_misses, 2);
  CHECK_INT((long)st2.break_hits, 4);
  CHECK(st2.break_bytes > 0);
  CHECK(st.memory < 3 * 2048); /* the sessions themselves: small */
  for (int i = 0; i < 3; i++) {
    char id[16];
    snprintf(id, sizeof id, "x%d", i);
    for (unsigned ad = 0; ad < 2; ad++) {
      vast_ssai_consumption r = {ad, 0, 30.0, -1, 0, 0};
      CHECK_INT(vast_ssai_report(s, id, &r), VAST_OK);
    }
  }
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  for (int i = 0; i < 3; i++) {
    char path[64];
    snprintf(path, sizeof path, "/px/w3/imp?ip=%s", ips[i]);
    CHECK_INT(count_reqs(path), 1);
  }
  CHECK_INT(count_reqs("/px/in3/complete"), 3);
  CHECK_INT(count_reqs("/px/a3/complete"), 3);
  vast_ssai_stats2(s, &st2);
  CHECK_INT((long)st2.breaks, 0); /* every ad ended: released */
  CHECK_INT((long)st2.break_bytes, 0);
  free(d);
  free(wrapper);
  vast_ssai_free(s);
}

/* Sessions, their breaks and positions survive a restart on the same state
   directory: the break is rebuilt from its saved documents (nothing fetched
   again), the tracker resumes at the journalled position (nothing fired
   twice), and the ad goes on to complete. */
TEST(sessions_survive_a_restart) {
  srv_start();
  wrapped_doc = inline_doc("in5", "px");
  char dir[] = "/tmp/vastrack-ssai-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  vast_ssai *s = service(dir, 0, 0);
  CHECK(s != NULL);
  session(s, "r1");
  char *wrapper = NULL;
  if (asprintf(&wrapper,
               "<VAST version=\"4.2\"><Ad id=\"w5\"><Wrapper><AdSystem>w</AdSystem>"
               "<VASTAdTagURI>http://127.0.0.1:%d/inline.xml</VASTAdTagURI>"
               "<Impression>http://127.0.0.1:%d/px/w5/imp</Impression>"
               "</Wrapper></Ad></VAST>",
               srv_port, srv_port) < 0)
    _exit(3);
  buf tl = {0};
  CHECK_INT(vast_ssai_break_add(s, "r1", NULL, wrapper, strlen(wrapper), to_buf, &tl, NULL),
            VAST_OK);
  vast_ssai_consumption r = {0, 0, 10.0, -1, 0, 0};
  CHECK_INT(vast_ssai_report(s, "r1", &r), VAST_OK);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  vast_ssai_free(s); /* a stop: sessions are not ended */
  int fetched = count_reqs("/inline.xml");
  CHECK_INT(fetched, 1);
  s = service(dir, 0, 0);
  CHECK(s != NULL);
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  vast_ssai_figures2 st2 = {sizeof st2, 0, 0, 0, 0, 0, 0, 0};
  vast_ssai_stats2(s, &st2);
  CHECK_INT((long)st.sessions, 1);
  CHECK_INT((long)st2.sessions_restored, 1);
  CHECK_INT((long)st.ads_open, 1);
  CHECK_INT((long)st2.breaks, 1);
  CHECK_INT(count_reqs("/inline.xml"), fetched); /* rebuilt from DIR/breaks */
  r.media_time = 16;
  CHECK_INT(vast_ssai_report(s, "r1", &r), VAST_OK);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  vast_ssai_free(s); /* and once more, mid-ad */
  s = service(dir, 0, 0);
  CHECK(s != NULL);
  r.media_time = 30;
  CHECK_INT(vast_ssai_report(s, "r1", &r), VAST_OK);
  CHECK_INT(vast_ssai_report(s, "r1", &r), VAST_E_STATE);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  const char *once[] = {"/px/w5/imp",  "/px/in5/imp", "/px/in5/start",   "/px/in5/q1",
                        "/px/in5/mid", "/px/in5/q3",  "/px/in5/complete"};
  for (int i = 0; i < 7; i++)
    CHECK_INT(count_reqs(once[i]), 1);
  vast_ssai_stats2(s, &st2);
  CHECK_INT((long)st2.breaks, 0);
  CHECK(st2.journal_syncs > 0);
  CHECK_INT((long)st2.journal_errors, 0);
  CHECK_INT(vast_ssai_session_end(s, "r1"), VAST_OK);
  vast_ssai_free(s);
  s = service(dir, 0, 0); /* ended: gone for good, and its break file too */
  vast_ssai_stats(s, &st);
  CHECK_INT((long)st.sessions, 0);
  vast_ssai_free(s);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "ls %s/breaks | wc -l", dir);
  FILE *p = popen(cmd, "r");
  int files = -1;
  CHECK(p && fscanf(p, "%d", &files) == 1);
  pclose(p);
  CHECK_INT(files, 0);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK_INT(system(cmd), 0);
  free(tl.p);
  free(wrapper);
}

/* A VMAP given inline is split into breaks, in content order: each one a
   break of the session with its own timeline and ad numbers; a break that
   cannot be resolved (CustomAdData) is listed in failures. */
TEST(vmap_is_split_into_breaks) {
  srv_start();
  vast_ssai *s = service(NULL, 0, 0);
  CHECK(s != NULL);
  session(s, "m1");
  char *pre = inline_doc("pre", "px"), *mid = inline_doc("mid", "px");
  char *vmap = NULL;
  if (asprintf(&vmap,
               "<vmap:VMAP xmlns:vmap=\"http://www.iab.net/videosuite/vmap\" version=\"1.0\">"
               "<vmap:AdBreak timeOffset=\"00:10:00\" breakType=\"linear\" breakId=\"m\">"
               "<vmap:AdSource><vmap:VASTAdData>%s</vmap:VASTAdData></vmap:AdSource></vmap:AdBreak>"
               "<vmap:AdBreak timeOffset=\"start\" breakType=\"linear\" breakId=\"p\">"
               "<vmap:AdSource><vmap:VASTAdData>%s</vmap:VASTAdData></vmap:AdSource></vmap:AdBreak>"
               "<vmap:AdBreak timeOffset=\"end\" breakType=\"linear\" breakId=\"c\">"
               "<vmap:AdSource><vmap:CustomAdData templateType=\"x\">x</vmap:CustomAdData>"
               "</vmap:AdSource></vmap:AdBreak></vmap:VMAP>",
               mid, pre) < 0)
    _exit(3);
  buf tl = {0};
  CHECK_INT(vast_ssai_break_add(s, "m1", NULL, vmap, strlen(vmap), to_buf, &tl, NULL), VAST_OK);
  CHECK(tl.p && strstr(tl.p, "{\"sessionId\":\"m1\",\"breaks\":[{\"sessionId\":\"m1\","
                             "\"break\":0,\"ads\":[{\"ad\":0,\"adId\":\"pre\"") != NULL);
  CHECK(strstr(tl.p, "\"break\":1,\"ads\":[{\"ad\":1,\"adId\":\"mid\"") != NULL);
  CHECK(strstr(tl.p, "\"failures\":[{\"breakId\":\"c\",\"timeOffset\":\"end\"") != NULL);
  for (unsigned ad = 0; ad < 2; ad++) {
    vast_ssai_consumption r = {ad, 0, 30.0, -1, 0, 0};
    CHECK_INT(vast_ssai_report(s, "m1", &r), VAST_OK);
  }
  vast_ssai_consumption r = {2, 0, 1.0, -1, 0, 0};
  CHECK_INT(vast_ssai_report(s, "m1", &r), VAST_E_NOT_FOUND);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  CHECK_INT(count_reqs("/px/pre/complete"), 1);
  CHECK_INT(count_reqs("/px/mid/complete"), 1);
  free(tl.p);
  free(vmap);
  free(pre);
  free(mid);
  vast_ssai_free(s);
}

TEST(positions_and_client_events) {
  srv_start();
  vast_ssai *s = service(NULL, 0, 0);
  session(s, "s2");
  char *d = inline_doc("a2", "px");
  buf tl = {0};
  CHECK_INT(vast_ssai_break_add(s, "s2", NULL, d, strlen(d), to_buf, &tl, NULL), VAST_OK);
  vast_ssai_consumption r = {0, 0, 2.0, -1, 0, 0};
  CHECK_INT(vast_ssai_report(s, "s2", &r), VAST_OK);
  CHECK_INT(vast_ssai_event(s, "s2", 0, "mute", -1, 0), VAST_OK);
  CHECK_INT(vast_ssai_event(s, "s2", 0, "skip", 3.0, 0), VAST_E_STATE); /* skipoffset 5 s */
  r.media_time = 6.0;
  CHECK_INT(vast_ssai_report(s, "s2", &r), VAST_OK);
  CHECK_INT(vast_ssai_event(s, "s2", 0, "click", -1, 0), VAST_OK);
  CHECK_INT(vast_ssai_event(s, "s2", 0, "skip", -1, 0), VAST_OK);
  CHECK_INT(vast_ssai_event(s, "s2", 0, "time", -1, 0), VAST_E_INVAL);
  CHECK_INT(vast_ssai_event(s, "s2", 0, "dance", -1, 0), VAST_E_INVAL);
  CHECK_INT(vast_ssai_event(s, "s2", 7, "mute", -1, 0), VAST_E_NOT_FOUND);
  r.media_time = 20;
  CHECK_INT(vast_ssai_report(s, "s2", &r), VAST_E_STATE); /* skipped: over */
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  CHECK_INT(count_reqs("/px/a2/mute"), 1);
  CHECK_INT(count_reqs("/px/a2/click"), 1);
  CHECK_INT(count_reqs("/px/a2/skip"), 1);
  CHECK_INT(count_reqs("/px/a2/q1"), 0);
  CHECK(first_req("/px/a2/mute") < first_req("/px/a2/click"));
  free(d);
  free(tl.p);
  vast_ssai_free(s);
}

TEST(retries_5xx_until_deadline_never_4xx) {
  srv_start();
  vast_ssai *s = service(NULL, 700, 0);
  session(s, "s3");
  char *a = inline_doc("f", "flaky"), *b = inline_doc("g", "gone"), *c = inline_doc("x", "dead");
  buf tl = {0};
  CHECK_INT(vast_ssai_break_add(s, "s3", NULL, a, strlen(a), to_buf, &tl, NULL), VAST_OK);
  CHECK_INT(vast_ssai_break_add(s, "s3", NULL, b, strlen(b), to_buf, &tl, NULL), VAST_OK);
  CHECK_INT(vast_ssai_break_add(s, "s3", NULL, c, strlen(c), to_buf, &tl, NULL), VAST_OK);
  for (unsigned ad = 0; ad < 3; ad++) {
    vast_ssai_consumption r = {ad, 1, 0, -1, 0, 6.0};
    CHECK_INT(vast_ssai_report(s, "s3", &r), VAST_OK);
  }
  CHECK_INT(vast_ssai_drain(s, 10000), VAST_OK);
  CHECK_INT(count_reqs("/flaky/f/imp"), 3);   /* 503, 503, 204 */
  CHECK_INT(count_reqs("/flaky/f/start"), 1); /* after the impression is answered */
  CHECK_INT(count_reqs("/gone/g/imp"), 1);    /* 404: final */
  CHECK_INT(count_reqs("/gone/g/start"), 1);
  CHECK(count_reqs("/dead/x/imp") >= 3); /* 50, 100, 200, 400 ms... until 700 ms */
  CHECK(count_reqs("/dead/x/imp") <= 5);
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  CHECK_INT((long)st.failed, 2);  /* the 404s */
  CHECK_INT((long)st.expired, 2); /* /dead/ imp and start */
  CHECK((long)st.retried >= 2 + 4);
  free(a), free(b), free(c), free(tl.p);
  vast_ssai_free(s);
}

TEST(idle_session_ends_without_complete) {
  srv_start();
  vast_ssai *s = service(NULL, 0, 0.3);
  session(s, "s4");
  char *d = inline_doc("i4", "px");
  buf tl = {0};
  CHECK_INT(vast_ssai_break_add(s, "s4", NULL, d, strlen(d), to_buf, &tl, NULL), VAST_OK);
  vast_ssai_consumption r = {0, 1, 0, -1, 2, 6.0};
  CHECK_INT(vast_ssai_report(s, "s4", &r), VAST_OK);
  usleep(500000);
  vast_ssai_tick(s);
  r.index = 4;
  CHECK_INT(vast_ssai_report(s, "s4", &r), VAST_E_NOT_FOUND);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  CHECK_INT(count_reqs("/px/i4/mid"), 1);
  CHECK_INT(count_reqs("/px/i4/complete"), 0);
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  CHECK_INT((long)st.sessions, 0);
  CHECK_INT((long)st.sessions_idle, 1);
  CHECK_INT(vast_ssai_session_end(s, "s4"), VAST_E_NOT_FOUND);
  free(d), free(tl.p);
  vast_ssai_free(s);
}

TEST(journal_unanswered_beacons_are_sent_once_after_restart) {
  srv_start();
  char dir[] = "/tmp/vastrack-ssai-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[256];
  snprintf(path, sizeof path, "%s/beacons.journal", dir);
  FILE *f = fopen(path, "w");
  double now = vast_now();
  /* 1 answered, 2 and 3 outstanding (one batch of ad k/0), 4 past its deadline,
     5 a torn last line (never acknowledged to anyone) */
  for (int i = 1; i <= 4; i++)
    fprintf(f,
            "D\t%d\t%d\tk/0\t%.3f\t%.3f\t198.51.100.1\tUA x\t\t\t\t0\tstart\t"
            "http://127.0.0.1:%d/j/%d\n",
            i, i == 3 ? 2 : i, now, i == 4 ? now - 1 : now + 30, srv_port, i);
  fprintf(f, "A\t1\t204\n");
  fprintf(f, "D\t5\t5\tk/0\t%.3f", now);
  fclose(f);
  vast_ssai *s = service(dir, 0, 0);
  CHECK(s != NULL);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  CHECK_INT(count_reqs("/j/1"), 0);
  CHECK_INT(count_reqs("/j/2"), 1);
  CHECK_INT(count_reqs("/j/3"), 1);
  CHECK_INT(count_reqs("/j/4"), 0);
  CHECK_INT(count_reqs("/j/5"), 0);
  int at = first_req("/j/2");
  CHECK(strstr(reqs[at].headers, "X-Device-IP: 198.51.100.1\r\n") != NULL);
  CHECK(strstr(reqs[at].headers, "X-Device-User-Agent: UA x\r\n") != NULL);
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  CHECK_INT((long)st.recovered, 2);
  CHECK_INT((long)st.expired, 1);
  vast_ssai_free(s);
  /* a second restart sends nothing again */
  s = service(dir, 0, 0);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  vast_ssai_stats(s, &st);
  CHECK_INT((long)st.recovered, 0);
  vast_ssai_free(s);
  CHECK_INT(count_reqs("/j/2"), 1);
  CHECK_INT(count_reqs("/j/3"), 1);
  unlink(path);
  rmdir(dir);
}

TEST(journal_is_compacted_and_keeps_what_is_pending) {
  srv_start();
  char dir[] = "/tmp/vastrack-ssai-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  vast_ssai_opts o;
  test_opts(&o, dir);
  o.journal_max_bytes = 512;
  o.retry_base_ms = 100;
  vast_ssai *s = NULL;
  CHECK_INT(vast_ssai_create(&o, &s, NULL, 0), VAST_OK);
  session(s, "c1");
  char *ok = inline_doc("c", "px"), *dead = inline_doc("d", "dead");
  buf tl = {0};
  CHECK_INT(vast_ssai_break_add(s, "c1", NULL, ok, strlen(ok), to_buf, &tl, NULL), VAST_OK);
  CHECK_INT(vast_ssai_break_add(s, "c1", NULL, dead, strlen(dead), to_buf, &tl, NULL), VAST_OK);
  for (unsigned i = 0; i < 5; i++) {
    vast_ssai_consumption r = {0, 1, 0, -1, i, 6.0};
    CHECK_INT(vast_ssai_report(s, "c1", &r), VAST_OK);
  }
  vast_ssai_consumption r = {1, 1, 0, -1, 0, 6.0}; /* /dead/: impression retried for 30 s */
  CHECK_INT(vast_ssai_report(s, "c1", &r), VAST_OK);
  for (int i = 0; i < 50 && count_reqs("/px/c/complete") == 0; i++) {
    vast_ssai_tick(s);
    usleep(20000);
  }
  usleep(50000);
  vast_ssai_tick(s);
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  CHECK(st.compactions >= 1);
  CHECK_INT((long)st.pending, 2); /* the dead impression, and start queued behind it */
  char path[256];
  snprintf(path, sizeof path, "%s/beacons.journal", dir);
  struct stat sb;
  CHECK(stat(path, &sb) == 0 && sb.st_size < 1024);
  vast_ssai_free(s); /* like a crash: the dead impression is not settled */
  int before = count_reqs("/dead/d/imp");
  o.journal_max_bytes = 0;
  CHECK_INT(vast_ssai_create(&o, &s, NULL, 0), VAST_OK);
  vast_ssai_stats(s, &st);
  CHECK_INT((long)st.recovered, 2);
  for (int i = 0; i < 20 && count_reqs("/dead/d/imp") == before; i++)
    usleep(20000);
  CHECK(count_reqs("/dead/d/imp") > before);
  CHECK_INT(count_reqs("/px/c/complete"), 1);
  vast_ssai_free(s);
  unlink(path);
  rmdir(dir);
  free(ok), free(dead), free(tl.p);
}

TEST(per_host_limit_holds) {
  srv_start();
  vast_ssai_opts o;
  test_opts(&o, NULL);
  o.per_host = 3;
  vast_ssai *s = NULL;
  CHECK_INT(vast_ssai_create(&o, &s, NULL, 0), VAST_OK);
  char *d = inline_doc("h", "slow");
  buf tl = {0};
  for (int i = 0; i < 8; i++) {
    char id[16];
    snprintf(id, sizeof id, "h%d", i);
    session(s, id);
    CHECK_INT(vast_ssai_break_add(s, id, NULL, d, strlen(d), to_buf, &tl, NULL), VAST_OK);
    vast_ssai_consumption r = {0, 1, 0, -1, 0, 6.0};
    CHECK_INT(vast_ssai_report(s, id, &r), VAST_OK);
  }
  CHECK_INT(vast_ssai_drain(s, 10000), VAST_OK);
  CHECK_INT(count_reqs("/slow/h/imp"), 8);
  CHECK_INT(count_reqs("/slow/h/start"), 8);
  CHECK_INT(slow_max, 3); /* 16 requests, never more than 3 at once */
  free(d), free(tl.p);
  vast_ssai_free(s);
}

TEST(bad_sessions_are_refused) {
  vast_ssai *s = service(NULL, 0, 0);
  char out[65];
  vast_device d = {sizeof d, "not-an-ip", "UA", NULL, NULL, NULL, 0};
  CHECK_INT(vast_ssai_session_create(s, NULL, &d, out, sizeof out), VAST_E_INVAL);
  d.ip = "192.0.2.1";
  d.user_agent = "a\r\nX-Evil: 1";
  CHECK_INT(vast_ssai_session_create(s, NULL, &d, out, sizeof out), VAST_E_INVAL);
  d.user_agent = "ok";
  CHECK_INT(vast_ssai_session_create(s, "bad id", &d, out, sizeof out), VAST_E_INVAL);
  CHECK_INT(vast_ssai_session_create(s, NULL, &d, out, sizeof out), VAST_OK);
  CHECK_INT((long)strlen(out), 16);
  CHECK_INT(vast_ssai_session_create(s, "dup", &d, out, sizeof out), VAST_OK);
  CHECK_INT(vast_ssai_session_create(s, "dup", &d, out, sizeof out), VAST_E_STATE);
  CHECK_INT(vast_ssai_session_end(s, "dup"), VAST_OK);
  vast_ssai_free(s);
}

/* The idle scan reads sessions least recently active first and stops at the
   first active one: a session created first but active since must survive
   one created later that went quiet. */
TEST(idle_scan_ends_only_the_idle_sessions) {
  srv_start();
  vast_ssai *s = service(NULL, 0, 0.4);
  char *d = inline_doc("i9", "px");
  buf tl = {0};
  session(s, "idle-a"); /* first in the list, kept active */
  session(s, "idle-b"); /* goes quiet */
  session(s, "idle-c"); /* kept active */
  CHECK_INT(vast_ssai_break_add(s, "idle-a", NULL, d, strlen(d), to_buf, &tl, NULL), VAST_OK);
  CHECK_INT(vast_ssai_break_add(s, "idle-c", NULL, d, strlen(d), to_buf, &tl, NULL), VAST_OK);
  vast_ssai_consumption r = {0, 0, 0, -1, 0, 0};
  for (int i = 1; i <= 6; i++) {
    usleep(100000);
    r.media_time = i;
    CHECK_INT(vast_ssai_report(s, "idle-a", &r), VAST_OK);
    CHECK_INT(vast_ssai_report(s, "idle-c", &r), VAST_OK);
    vast_ssai_tick(s);
  }
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  CHECK_INT((long)st.sessions, 2);
  CHECK_INT((long)st.sessions_idle, 1);
  CHECK_INT(vast_ssai_session_end(s, "idle-b"), VAST_E_NOT_FOUND);
  r.media_time = 7;
  CHECK_INT(vast_ssai_report(s, "idle-a", &r), VAST_OK);
  CHECK_INT(vast_ssai_report(s, "idle-c", &r), VAST_OK);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  free(d), free(tl.p);
  vast_ssai_free(s);
}

/* DIR/breaks/KEY of a break whose ads all ended goes while the service runs
   (once the journal says they ended), not only at the next start. */
static int files_in(const char *dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "ls '%s/breaks' 2>/dev/null | wc -l", dir);
  FILE *p = popen(cmd, "r");
  int n = -1;
  if (p) {
    if (fscanf(p, "%d", &n) != 1) n = -1;
    pclose(p);
  }
  return n;
}

TEST(break_files_go_when_their_ads_end) {
  srv_start();
  char dir[] = "/tmp/vastrack-ssai-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  vast_ssai *s = service(dir, 0, 0);
  CHECK(s != NULL);
  session(s, "bf1");
  session(s, "bf2");
  char *d1 = inline_doc("bf-a", "px"), *d2 = inline_doc("bf-b", "px");
  buf tl = {0};
  CHECK_INT(vast_ssai_break_add(s, "bf1", NULL, d1, strlen(d1), to_buf, &tl, NULL), VAST_OK);
  CHECK_INT(vast_ssai_break_add(s, "bf2", NULL, d2, strlen(d2), to_buf, &tl, NULL), VAST_OK);
  CHECK_INT(vast_ssai_sync(s, 5000), VAST_OK);
  CHECK_INT(files_in(dir), 2);
  vast_ssai_consumption r = {0, 0, 30.0, -1, 0, 0}; /* to the end: complete */
  CHECK_INT(vast_ssai_report(s, "bf1", &r), VAST_OK);
  CHECK_INT(vast_ssai_sync(s, 5000), VAST_OK);
  for (int i = 0; i < 100 && files_in(dir) != 1; i++) /* the sweep follows the sync */
    usleep(10000);
  CHECK_INT(files_in(dir), 1); /* bf2's break still plays */
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  vast_ssai_free(s);
  s = service(dir, 0, 0); /* and a restart brings bf2 back from its file */
  CHECK(s != NULL);
  r.media_time = 5;
  CHECK_INT(vast_ssai_report(s, "bf2", &r), VAST_OK);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  vast_ssai_free(s);
  free(d1), free(d2), free(tl.p);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK_INT(system(cmd), 0);
}

/* The VMAP of the VMAP-by-URL tests: a preroll given inline and a midroll by
   AdTagURI (/inline.xml), each with its break-level tracking under /bt/. */
static char *vmap_doc(const char *pre) {
  char *vmap = NULL;
  if (asprintf(
          &vmap,
          "<vmap:VMAP xmlns:vmap=\"http://www.iab.net/videosuite/vmap\" version=\"1.0\">"
          "<vmap:AdBreak timeOffset=\"start\" breakType=\"linear\" breakId=\"p\">"
          "<vmap:AdSource><vmap:VASTAdData>%s</vmap:VASTAdData></vmap:AdSource>"
          "<vmap:TrackingEvents>"
          "<vmap:Tracking event=\"breakStart\">http://127.0.0.1:%d/bt/p/start?bp=[BREAKPOSITION]"
          "&amp;ip=[DEVICEIP]</vmap:Tracking>"
          "<vmap:Tracking event=\"breakEnd\">http://127.0.0.1:%d/bt/p/end?bp=[BREAKPOSITION]"
          "</vmap:Tracking>"
          "<vmap:Tracking event=\"error\">http://127.0.0.1:%d/bt/p/error?c=[ERRORCODE]"
          "</vmap:Tracking></vmap:TrackingEvents></vmap:AdBreak>"
          "<vmap:AdBreak timeOffset=\"00:05:00\" breakType=\"linear\" breakId=\"m\">"
          "<vmap:AdSource><vmap:AdTagURI templateType=\"vast4\">"
          "http://127.0.0.1:%d/inline.xml</vmap:AdTagURI></vmap:AdSource>"
          "<vmap:TrackingEvents>"
          "<vmap:Tracking event=\"breakStart\">http://127.0.0.1:%d/bt/m/start?bp=[BREAKPOSITION]"
          "</vmap:Tracking>"
          "<vmap:Tracking event=\"breakEnd\">http://127.0.0.1:%d/bt/m/end?bp=[BREAKPOSITION]"
          "</vmap:Tracking></vmap:TrackingEvents></vmap:AdBreak></vmap:VMAP>",
          pre, srv_port, srv_port, srv_port, srv_port, srv_port, srv_port) < 0)
    _exit(3);
  return vmap;
}

/* The header block of the first request whose path starts with prefix. */
static int req_has_header(const char *prefix, const char *header) {
  int at = first_req(prefix);
  pthread_mutex_lock(&srv_mu);
  int ok = at >= 0 && strstr(reqs[at].headers, header) != NULL;
  pthread_mutex_unlock(&srv_mu);
  return ok;
}

static void report_ad(vast_ssai *s, const char *sid, unsigned ad, double pos) {
  vast_ssai_consumption r = {ad, 0, pos, -1, 0, 0};
  CHECK_INT(vast_ssai_report(s, sid, &r), VAST_OK);
}

/* A VMAP given by URL is fetched once, with the device's macros and
   headers, and split into the same breaks (the same timelines) as the same
   VMAP given inline; each break's breakStart fires once, before its first
   ad's Impressions, and its breakEnd once, after its last ad's complete. */
TEST(vmap_by_url_is_split_and_fires_break_tracking) {
  srv_start();
  wrapped_doc = inline_doc("mid", "px");
  char *pre = inline_doc("pre", "px"), *vmap = vmap_doc(pre);
  doc_path[0] = "/vmap.xml";
  doc_body[0] = vmap;
  vast_ssai *s = service(NULL, 0, 0);
  CHECK(s != NULL);
  session(s, "u1");
  session(s, "i1");
  char url[200];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/vmap.xml?ip=[DEVICEIP]", srv_port);
  buf tu = {0}, ti = {0};
  vast_error err;
  CHECK_INT(vast_ssai_break_add(s, "u1", url, NULL, 0, to_buf, &tu, &err), VAST_OK);
  CHECK_INT(vast_ssai_break_add(s, "i1", NULL, vmap, strlen(vmap), to_buf, &ti, NULL), VAST_OK);
  CHECK_INT(count_reqs("/vmap.xml"), 1);
  CHECK(first_req("/vmap.xml?ip=203.0.113.7") >= 0); /* the device's macros */
  CHECK(req_has_header("/vmap.xml", "X-Device-IP: 203.0.113.7"));
  CHECK(req_has_header("/vmap.xml", "X-Device-User-Agent: Roku/DVP-9.10"));
  CHECK(req_has_header("/inline.xml", "X-Device-IP: 203.0.113.7"));
  CHECK(tu.p && strstr(tu.p, "{\"sessionId\":\"u1\",\"breaks\":[{\"sessionId\":\"u1\","
                             "\"break\":0,\"ads\":[{\"ad\":0,\"adId\":\"pre\"") != NULL);
  CHECK(strstr(tu.p, "\"break\":1,\"ads\":[{\"ad\":1,\"adId\":\"mid\"") != NULL);
  CHECK(strstr(tu.p, "\"breakEvents\":[{\"event\":\"breakStart\",\"urls\":[\"http://127.0.0.1:") !=
        NULL);
  CHECK(strstr(tu.p, "/bt/p/start?bp=[BREAKPOSITION]&ip=[DEVICEIP]\"]},{\"event\":\"breakEnd\"") !=
        NULL);
  CHECK(strstr(tu.p, "\"failures\":[]}") != NULL);
  /* the same timelines as inline, but for the session id */
  CHECK(ti.p != NULL);
  for (char *p = ti.p; (p = strstr(p, "\"i1\"")); p++)
    p[1] = 'u';
  CHECK_STR(tu.p, ti.p);
  /* the midroll (the same AdTagURI, the same answer) is shared with the inline
     VMAP's; the preroll is not: its document comes from another place (the
     VMAP's URL, against which its relative URIs would resolve) */
  vast_ssai_figures2 st2;
  vast_ssai_stats2(s, &st2);
  CHECK_INT((long)st2.breaks, 3);
  for (unsigned ad = 0; ad < 2; ad++) {
    report_ad(s, "u1", ad, 10);
    report_ad(s, "u1", ad, 30);
  }
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  CHECK_INT(count_reqs("/bt/p/start"), 1);
  CHECK_INT(count_reqs("/bt/p/end"), 1);
  CHECK_INT(count_reqs("/bt/m/start"), 1);
  CHECK_INT(count_reqs("/bt/m/end"), 1);
  CHECK_INT(count_reqs("/bt/p/error"), 0);
  CHECK(first_req("/bt/p/start?bp=1&ip=203.0.113.7") >= 0);
  CHECK(first_req("/bt/m/end?bp=2") >= 0);
  CHECK(req_has_header("/bt/p/start", "X-Device-IP: 203.0.113.7"));
  CHECK(req_has_header("/bt/p/end", "X-Device-User-Agent: Roku/DVP-9.10"));
  CHECK(first_req("/bt/p/start") < first_req("/px/pre/imp"));
  CHECK(first_req("/px/pre/complete") < first_req("/bt/p/end"));
  CHECK(first_req("/bt/m/start") < first_req("/px/mid/imp"));
  CHECK(first_req("/px/mid/complete") < first_req("/bt/m/end"));
  vast_ssai_free(s);
  free(tu.p);
  free(ti.p);
  free(vmap);
  free(pre);
}

/* A skip ends a break too (breakEnd), an idle timeout does not. */
TEST(vmap_break_end_on_skip_not_on_idle) {
  srv_start();
  wrapped_doc = inline_doc("mid", "px");
  char *pre = inline_doc("pre", "px"), *vmap = vmap_doc(pre);
  vast_ssai *s = service(NULL, 0, 0.3);
  CHECK(s != NULL);
  session(s, "k1");
  buf t = {0};
  CHECK_INT(vast_ssai_break_add(s, "k1", NULL, vmap, strlen(vmap), to_buf, &t, NULL), VAST_OK);
  report_ad(s, "k1", 0, 6);
  CHECK_INT(vast_ssai_event(s, "k1", 0, "skip", 6, 0), VAST_OK);
  report_ad(s, "k1", 1, 6); /* the midroll starts, then the session goes idle */
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  usleep(600000);
  vast_ssai_tick(s);
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  CHECK_INT((long)st.sessions, 0);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  CHECK_INT(count_reqs("/px/pre/skip"), 1);
  CHECK_INT(count_reqs("/bt/p/start"), 1);
  CHECK_INT(count_reqs("/bt/p/end"), 1);
  CHECK(first_req("/px/pre/skip") < first_req("/bt/p/end"));
  CHECK_INT(count_reqs("/bt/m/start"), 1);
  CHECK_INT(count_reqs("/bt/m/end"), 0);
  vast_ssai_free(s);
  free(t.p);
  free(vmap);
  free(pre);
}

/* A VMAP URL that fails, answers something that is not XML, or holds no
   break is an error with its IAB code; a VMAP whose only break cannot be
   resolved is an error too, and that break's error tracking fires. */
TEST(vmap_url_errors_are_clear) {
  srv_start();
  doc_path[0] = "/text";
  doc_body[0] = "hello, not XML";
  doc_path[1] = "/empty-vmap.xml";
  doc_body[1] = "<vmap:VMAP xmlns:vmap=\"http://www.iab.net/videosuite/vmap\" version=\"1.0\">"
                "</vmap:VMAP>";
  char custom[1024];
  snprintf(custom, sizeof custom,
           "<vmap:VMAP xmlns:vmap=\"http://www.iab.net/videosuite/vmap\" version=\"1.0\">"
           "<vmap:AdBreak timeOffset=\"start\" breakType=\"linear\" breakId=\"c\">"
           "<vmap:AdSource><vmap:CustomAdData templateType=\"x\">x</vmap:CustomAdData>"
           "</vmap:AdSource><vmap:TrackingEvents><vmap:Tracking event=\"error\">"
           "http://127.0.0.1:%d/bt/c/error?c=[ERRORCODE]</vmap:Tracking>"
           "</vmap:TrackingEvents></vmap:AdBreak></vmap:VMAP>",
           srv_port);
  doc_path[2] = "/custom-vmap.xml";
  doc_body[2] = custom;
  vast_ssai *s = service(NULL, 0, 0);
  CHECK(s != NULL);
  session(s, "e1");
  char url[200];
  buf t = {0};
  vast_error err;
  snprintf(url, sizeof url, "http://127.0.0.1:%d/gone/vmap.xml", srv_port);
  CHECK_INT(vast_ssai_break_add(s, "e1", url, NULL, 0, to_buf, &t, &err), VAST_E_HTTP);
  CHECK_INT(err.iab_code, 301);
  CHECK(strstr(err.message, "/gone/vmap.xml") != NULL);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/text", srv_port);
  CHECK_INT(vast_ssai_break_add(s, "e1", url, NULL, 0, to_buf, &t, &err), VAST_E_XML);
  CHECK_INT(err.iab_code, 100);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/empty-vmap.xml", srv_port);
  CHECK_INT(vast_ssai_break_add(s, "e1", url, NULL, 0, to_buf, &t, &err), VAST_E_NO_AD);
  CHECK(strstr(err.message, "no AdBreak") != NULL);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/custom-vmap.xml", srv_port);
  CHECK_INT(vast_ssai_break_add(s, "e1", url, NULL, 0, to_buf, &t, &err), VAST_E_NO_AD);
  CHECK_INT(err.iab_code, 1005);
  const char *broken = "<vmap:VMAP xmlns:vmap=\"http://www.iab.net/videosuite/vmap\" "
                       "version=\"1.0\"><vmap:AdBreak>";
  CHECK_INT(vast_ssai_break_add(s, "e1", NULL, broken, strlen(broken), to_buf, &t, &err),
            VAST_E_XML);
  CHECK_INT(err.iab_code, 1002); /* VMAP parsing error */
  snprintf(url, sizeof url, "ftp://127.0.0.1:%d/vmap.xml", srv_port);
  CHECK_INT(vast_ssai_break_add(s, "e1", url, NULL, 0, to_buf, &t, &err), VAST_E_URL);
  CHECK_INT(err.iab_code, 301);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  CHECK_INT(count_reqs("/bt/c/error?c=1005"), 1);
  CHECK(req_has_header("/bt/c/error", "X-Device-IP: 203.0.113.7"));
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  CHECK_INT((long)st.sent, 1);
  vast_ssai_free(s);
  free(t.p);
}

/* A session given a VMAP by URL comes back after a restart from its break
   files, fetching nothing: the ad playing ends with its complete and its
   break's breakEnd, no breakStart again; the next break starts as usual. */
TEST(vmap_by_url_survives_a_restart_without_refetch) {
  srv_start();
  wrapped_doc = inline_doc("mid", "px");
  char *pre = inline_doc("pre", "px"), *vmap = vmap_doc(pre);
  doc_path[0] = "/vmap.xml";
  doc_body[0] = vmap;
  char dir[] = "/tmp/test-ssai-vmapXXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  vast_ssai *s = service(dir, 0, 0);
  CHECK(s != NULL);
  session(s, "r1");
  char url[200];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/vmap.xml", srv_port);
  buf t1 = {0}, t2 = {0};
  CHECK_INT(vast_ssai_break_add(s, "r1", url, NULL, 0, to_buf, &t1, NULL), VAST_OK);
  report_ad(s, "r1", 0, 10);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  CHECK_INT(count_reqs("/bt/p/start"), 1);
  vast_ssai_free(s);
  int fetched = count_reqs("/vmap.xml") + count_reqs("/inline.xml");
  CHECK_INT(fetched, 2);
  s = service(dir, 0, 0);
  CHECK(s != NULL);
  CHECK_INT(count_reqs("/vmap.xml") + count_reqs("/inline.xml"), fetched); /* nothing fetched */
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  CHECK_INT((long)st.sessions, 1);
  report_ad(s, "r1", 0, 30);
  report_ad(s, "r1", 1, 30);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  CHECK_INT(count_reqs("/px/pre/imp"), 1);
  CHECK_INT(count_reqs("/px/pre/complete"), 1);
  CHECK_INT(count_reqs("/bt/p/start"), 1);
  CHECK_INT(count_reqs("/bt/p/end?bp=1"), 1);
  CHECK_INT(count_reqs("/bt/m/start?bp=2"), 1);
  CHECK_INT(count_reqs("/bt/m/end?bp=2"), 1);
  CHECK(first_req("/px/pre/complete") < first_req("/bt/p/end"));
  CHECK_INT(count_reqs("/vmap.xml") + count_reqs("/inline.xml"), fetched);
  /* and a second session given the same VMAP inline shares the breaks rebuilt */
  session(s, "r2");
  CHECK_INT(vast_ssai_break_add(s, "r2", NULL, vmap, strlen(vmap), to_buf, &t2, NULL), VAST_OK);
  vast_ssai_free(s);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK_INT(system(cmd), 0);
  free(t1.p);
  free(t2.p);
  free(vmap);
  free(pre);
}

/* An inline VASTAdData of a VMAP by URL whose Wrapper points at a relative
   URI (against the VMAP's URL) comes back after a restart too. */
TEST(vmap_by_url_relative_wrapper_survives_a_restart) {
  srv_start();
  char *in = inline_doc("rel", "px"), vmap[1024];
  snprintf(vmap, sizeof vmap,
           "<vmap:VMAP xmlns:vmap=\"http://www.iab.net/videosuite/vmap\" version=\"1.0\">"
           "<vmap:AdBreak timeOffset=\"start\" breakType=\"linear\" breakId=\"p\">"
           "<vmap:AdSource><vmap:VASTAdData><VAST version=\"4.2\"><Ad id=\"rw\"><Wrapper>"
           "<AdSystem>w</AdSystem><VASTAdTagURI>w.xml</VASTAdTagURI>"
           "<Impression>http://127.0.0.1:%d/px/rw/imp</Impression></Wrapper></Ad></VAST>"
           "</vmap:VASTAdData></vmap:AdSource><vmap:TrackingEvents>"
           "<vmap:Tracking event=\"breakEnd\">http://127.0.0.1:%d/bt/rel/end</vmap:Tracking>"
           "</vmap:TrackingEvents></vmap:AdBreak></vmap:VMAP>",
           srv_port, srv_port);
  doc_path[0] = "/rel/vmap.xml";
  doc_body[0] = vmap;
  doc_path[1] = "/rel/w.xml";
  doc_body[1] = in;
  char dir[] = "/tmp/test-ssai-relXXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  vast_ssai *s = service(dir, 0, 0);
  session(s, "w1");
  char url[200];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/rel/vmap.xml", srv_port);
  buf t = {0};
  vast_error err;
  CHECK_INT(vast_ssai_break_add(s, "w1", url, NULL, 0, to_buf, &t, &err), VAST_OK);
  CHECK(t.p && strstr(t.p, "\"chain\":[\"rw\",\"rel\"]") != NULL);
  report_ad(s, "w1", 0, 10);
  vast_ssai_free(s);
  CHECK_INT(count_reqs("/rel/"), 2);
  s = service(dir, 0, 0);
  report_ad(s, "w1", 0, 30);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  CHECK_INT(count_reqs("/rel/"), 2);
  CHECK_INT(count_reqs("/px/rel/complete"), 1);
  CHECK_INT(count_reqs("/bt/rel/end"), 1);
  vast_ssai_free(s);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK_INT(system(cmd), 0);
  free(t.p);
  free(in);
}

/* The oldest batch not settled is the head of the service's live list, kept
   in batch-id order even when recovery meets an older id after a newer one
   (the Kafka source commits by it). */
TEST(oldest_unsettled_batch_in_order_after_recovery) {
  char dir[] = "/tmp/vastrack-ssai-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[256];
  snprintf(path, sizeof path, "%s/beacons.journal", dir);
  FILE *f = fopen(path, "w");
  double now = vast_now();
  /* two ads' beacons, the newer batch first in the file; port 1 refuses, so
     they stay pending (retried until their deadline) */
  fprintf(f, "D\t1\t7\ta/0\t%.3f\t%.3f\t198.51.100.1\tUA\t\t\t\t0\tstart\thttp://127.0.0.1:1/x\n",
          now, now + 60);
  fprintf(f, "D\t2\t4\tb/0\t%.3f\t%.3f\t198.51.100.1\tUA\t\t\t\t0\tstart\thttp://127.0.0.1:1/y\n",
          now, now + 60);
  fclose(f);
  vast_ssai *s = service(dir, 60000, 0);
  CHECK(s != NULL);
  uint64_t next = 0;
  CHECK_INT((long)vast__ssai_oldest_batch(s, &next), 4);
  CHECK_INT((long)next, 7);
  vast_ssai_free(s);
  /* a fresh service: none pending, then one batch per event as they come */
  char dir2[] = "/tmp/vastrack-ssai-XXXXXX";
  CHECK(mkdtemp(dir2) != NULL);
  srv_start();
  s = service(dir2, 0, 0);
  CHECK(vast__ssai_oldest_batch(s, &next) == UINT64_MAX);
  session(s, "ob1");
  char *d = inline_doc("ob", "px");
  buf tl = {0};
  CHECK_INT(vast_ssai_break_add(s, "ob1", NULL, d, strlen(d), to_buf, &tl, NULL), VAST_OK);
  vast_ssai_consumption r = {0, 0, 30.0, -1, 0, 0};
  CHECK_INT(vast_ssai_report(s, "ob1", &r), VAST_OK);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  CHECK(vast__ssai_oldest_batch(s, &next) == UINT64_MAX); /* all settled */
  CHECK(next >= 6); /* impression, creativeView/start, quartiles, complete: a batch each */
  vast_ssai_free(s);
  free(d), free(tl.p);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, dir2);
  CHECK_INT(system(cmd), 0);
}

/* vast_ssai_stats' memory is kept as sessions, ads and queues come and go
   (no walk under the lock): it must equal a walk at every step. */
static int mem_agrees(vast_ssai *s) {
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  size_t w = vast__ssai_mem_walk(s);
  if ((size_t)st.memory != w) fprintf(stderr, "# memory %zu, walked %zu\n", (size_t)st.memory, w);
  return (size_t)st.memory == w;
}

TEST(memory_figure_is_kept_exactly) {
  srv_start();
  char dir[] = "/tmp/vastrack-ssai-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  vast_ssai *s = service(dir, 0, 0.3);
  CHECK(mem_agrees(s));
  char *d = inline_doc("mm", "px");
  buf tl = {0};
  session(s, "mm1");
  session(s, "mm2");
  session(s, "mm3");
  CHECK(mem_agrees(s));
  for (int k = 0; k < 3; k++) /* three breaks: the ads array grows */
    CHECK_INT(vast_ssai_break_add(s, "mm1", NULL, d, strlen(d), to_buf, &tl, NULL), VAST_OK);
  CHECK_INT(vast_ssai_break_add(s, "mm2", NULL, d, strlen(d), to_buf, &tl, NULL), VAST_OK);
  CHECK(mem_agrees(s));
  vast_ssai_consumption r = {0, 0, 10.0, -1, 0, 0};
  CHECK_INT(vast_ssai_report(s, "mm1", &r), VAST_OK); /* a delivery queue */
  r.media_time = 30;                                  /* the end: its tracker goes */
  CHECK_INT(vast_ssai_report(s, "mm1", &r), VAST_OK);
  r.ad = 1;
  CHECK_INT(vast_ssai_report(s, "mm1", &r), VAST_OK);
  CHECK(mem_agrees(s));
  CHECK_INT(vast_ssai_session_end(s, "mm1"), VAST_OK);
  CHECK_INT(vast_ssai_drain(s, 5000), VAST_OK);
  CHECK(mem_agrees(s));
  vast_ssai_free(s);
  s = service(dir, 0, 0.3); /* restored: counted the same way */
  CHECK(mem_agrees(s));
  usleep(400000);
  vast_ssai_tick(s); /* idle: every session ends */
  CHECK(mem_agrees(s));
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  CHECK_INT((long)st.sessions, 0);
  CHECK_INT((long)st.memory, 0);
  vast_ssai_free(s);
  free(d), free(tl.p);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK_INT(system(cmd), 0);
}

/* The journal is rewritten in slices while reports go on (1,200 sessions:
   two slices each time, sessions made active behind the cursor, others
   ended): after a stop and a restart every session is where it was, so the
   rest of its ad fires only what is new, once. */
TEST(journal_rewrite_in_slices_keeps_every_session) {
  srv_start();
  char dir[] = "/tmp/vastrack-ssai-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  vast_ssai_opts o;
  test_opts(&o, dir);
  o.journal_max_bytes = 48 << 10; /* a rewrite every few hundred reports */
  vast_ssai *s = NULL;
  CHECK_INT(vast_ssai_create(&o, &s, NULL, 0), VAST_OK);
  char *d = NULL;
  if (asprintf(&d,
               "<VAST version=\"4.2\"><Ad id=\"rw\"><InLine><AdSystem>t</AdSystem><AdTitle>t"
               "</AdTitle><Impression>http://127.0.0.1:%d/rw/imp</Impression><Creatives>"
               "<Creative><Linear><Duration>00:00:30</Duration><TrackingEvents>"
               "<Tracking event=\"midpoint\">http://127.0.0.1:%d/rw/mid</Tracking>"
               "<Tracking event=\"complete\">http://127.0.0.1:%d/rw/complete</Tracking>"
               "</TrackingEvents><MediaFiles><MediaFile delivery=\"progressive\" "
               "type=\"video/mp4\" width=\"640\" height=\"360\">http://cdn/a.mp4</MediaFile>"
               "</MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>",
               srv_port, srv_port, srv_port) < 0)
    _exit(3);
  enum { N = 1200 };
  char id[32];
  buf tl = {0};
  for (int i = 0; i < N; i++) {
    snprintf(id, sizeof id, "rw%d", i);
    session(s, id);
    CHECK_INT(vast_ssai_break_add(s, id, NULL, d, strlen(d), to_buf, &tl, NULL), VAST_OK);
    tl.n = 0;
  }
  int bad = 0;
  for (int t = 1; t <= 16; t++) /* impression, then midpoint at 15 */
    for (int i = 0; i < N; i++) {
      snprintf(id, sizeof id, "rw%d", i);
      vast_ssai_consumption r = {0, 0, (double)t, -1, 0, 0};
      bad += vast_ssai_report(s, id, &r) != VAST_OK;
      if (i % 7 == 0 && t == 16) bad += vast_ssai_session_end(s, id) != VAST_OK;
    }
  CHECK_INT(bad, 0);
  CHECK_INT(vast_ssai_drain(s, 20000), VAST_OK);
  CHECK_INT(vast_ssai_sync(s, 5000), VAST_OK);
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  fprintf(stderr, "# %llu journal rewrites while reporting\n", (unsigned long long)st.compactions);
  CHECK(st.compactions >= 3);
  vast_ssai_free(s); /* a stop: the sessions stay */
  s = NULL;
  CHECK_INT(vast_ssai_create(&o, &s, NULL, 0), VAST_OK);
  vast_ssai_stats(s, &st);
  int live = N - (N + 6) / 7;
  CHECK_INT((long)st.sessions, live);
  for (int i = 0; i < N; i++) { /* the rest of the ad */
    snprintf(id, sizeof id, "rw%d", i);
    vast_ssai_consumption r = {0, 0, 30.0, -1, 0, 0};
    bad += vast_ssai_report(s, id, &r) != (i % 7 == 0 ? VAST_E_NOT_FOUND : VAST_OK);
  }
  CHECK_INT(bad, 0);
  CHECK_INT(vast_ssai_drain(s, 20000), VAST_OK);
  CHECK_INT(count_reqs("/rw/imp"), N); /* none again after the restart */
  CHECK_INT(count_reqs("/rw/mid"), N);
  CHECK_INT(count_reqs("/rw/complete"), live);
  vast_ssai_free(s);
  free(d), free(tl.p);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK_INT(system(cmd), 0);
}

static const th_case cases[] = {TH(wrapper_break_segments_fire_in_order_with_device_headers),
                                TH(positions_and_client_events),
                                TH(retries_5xx_until_deadline_never_4xx),
                                TH(idle_session_ends_without_complete),
                                TH(journal_unanswered_beacons_are_sent_once_after_restart),
                                TH(journal_is_compacted_and_keeps_what_is_pending),
                                TH(per_host_limit_holds),
                                TH(bad_sessions_are_refused),
                                TH(breaks_are_shared_between_sessions),
                                TH(sessions_survive_a_restart),
                                TH(vmap_is_split_into_breaks),
                                TH(idle_scan_ends_only_the_idle_sessions),
                                TH(break_files_go_when_their_ads_end),
                                TH(oldest_unsettled_batch_in_order_after_recovery),
                                TH(memory_figure_is_kept_exactly),
                                TH(journal_rewrite_in_slices_keeps_every_session),
                                TH(vmap_by_url_is_split_and_fires_break_tracking),
                                TH(vmap_break_end_on_skip_not_on_idle),
                                TH(vmap_url_errors_are_clear),
                                TH(vmap_by_url_survives_a_restart_without_refetch),
                                TH(vmap_by_url_relative_wrapper_survives_a_restart),
                                {0}};

int main(int c, char **v) {
  return th_main(__FILE__, cases, c, v);
}
