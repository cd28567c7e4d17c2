/*
 * test-probe.c: vast_media_probe, vast_probe_check and the bounded reader, against
 * media generated here with Debian's ffmpeg (a few seconds each, nothing committed)
 * and served by a small HTTP/1.1 server on 127.0.0.1 that honours Range (or, on
 * some routes, ignores it, trickles, never ends, or answers garbage). The "probe"
 * rule cases of tests/validate/probe-* run here, with the server's URL put in.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"
#include "vastrack.h"

static char media_dir[512];
static int srv_fd = -1, srv_port;
static int n_conns, n_reqs;
static pthread_mutex_t srv_mu = PTHREAD_MUTEX_INITIALIZER;

static double mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int send_all(int fd, const void *b, size_t n) {
  const char *p = b;
  while (n) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) return -1;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

static const char *ctype_of(const char *name) {
  const char *dot = strrchr(name, '.');
  if (!dot) return "application/octet-stream";
  if (!strcmp(dot, ".mp4")) return "video/mp4";
  if (!strcmp(dot, ".webm")) return "video/webm";
  if (!strcmp(dot, ".m4a")) return "audio/mp4";
  if (!strcmp(dot, ".m3u8")) return "application/vnd.apple.mpegurl";
  if (!strcmp(dot, ".ts")) return "video/mp2t";
  return "application/octet-stream";
}

/* Serves media_dir/name, honouring "Range: bytes=a-b" unless no_range. */
static int serve_file(int fd, const char *name, const char *hdrs, int no_range) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", media_dir, name);
  FILE *f = strstr(name, "..") ? NULL : fopen(path, "rb");
  if (!f) {
    const char *h =
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\nnot found";
    return send_all(fd, h, strlen(h));
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  long a = 0, b = size - 1;
  int partial = 0;
  const char *r = no_range ? NULL : strcasestr(hdrs, "\nRange: bytes=");
  if (r) {
    r += 14;
    char *e;
    a = strtol(r, &e, 10);
    b = *e == '-' && e[1] >= '0' && e[1] <= '9' ? strtol(e + 1, NULL, 10) : size - 1;
    if (b >= size) b = size - 1;
    partial = 1;
    if (a >= size) {
      char h[256];
      int hl = snprintf(h, sizeof h,
                        "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes "
                        "*/%ld\r\nContent-Length: 0\r\n\r\n",
                        size);
      fclose(f);
      return send_all(fd, h, (size_t)hl);
    }
  }
  char h[512];
  int hl = partial ? snprintf(h, sizeof h,
                              "HTTP/1.1 206 Partial Content\r\nContent-Type: %s\r\nContent-Range: "
                              "bytes %ld-%ld/%ld\r\nContent-Length: %ld\r\n\r\n",
                              ctype_of(name), a, b, size, b - a + 1)
                   : snprintf(h, sizeof h,
                              "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %ld\r\n\r\n",
                              ctype_of(name), size);
  int rc = send_all(fd, h, (size_t)hl);
  fseek(f, a, SEEK_SET);
  char buf[65536];
  long left = b - a + 1;
  while (rc == 0 && left > 0) {
    size_t k = fread(buf, 1, left < (long)sizeof buf ? (size_t)left : sizeof buf, f);
    if (!k) break;
    rc = send_all(fd, buf, k);
    left -= (long)k;
  }
  fclose(f);
  return rc;
}

static void *conn_main(void *arg) {
  int fd = (int)(intptr_t)arg;
  char buf[8192];
  size_t n = 0;
  for (;;) {
    char *end;
    while (!(end = memmem(buf, n, "\r\n\r\n", 4))) {
      if (n == sizeof buf - 1) goto out;
      ssize_t k = recv(fd, buf + n, sizeof buf - 1 - n, 0);
      if (k <= 0) goto out;
      n += (size_t)k;
    }
    size_t hl = (size_t)(end - buf) + 4;
    char req[8192];
    memcpy(req, buf, hl);
    req[hl] = 0;
    memmove(buf, buf + hl, n - hl);
    n -= hl;
    char path[512] = "";
    sscanf(req, "%*s %511s", path);
    pthread_mutex_lock(&srv_mu);
    n_reqs++;
    pthread_mutex_unlock(&srv_mu);
    if (!strncmp(path, "/m/", 3)) {
      if (serve_file(fd, path + 3, req, 0)) goto out;
    } else if (!strncmp(path, "/norange/", 9)) {
      if (serve_file(fd, path + 9, req, 1)) goto out;
    } else if (!strcmp(path, "/trickle.mp4")) { /* one byte every 100 ms */
      const char *h = "HTTP/1.1 206 Partial Content\r\nContent-Type: video/mp4\r\nContent-Range: "
                      "bytes 0-65535/10000000\r\nContent-Length: 65536\r\n\r\n";
      if (send_all(fd, h, strlen(h))) goto out;
      for (int i = 0; i < 300; i++) {
        if (send_all(fd, "\0", 1)) goto out;
        usleep(100000);
      }
      goto out;
    } else if (!strcmp(path, "/endless.mp4")) { /* 200, no length, an mdat that never ends */
      const char *h = "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nConnection: close\r\n\r\n";
      static const unsigned char boxes[] = {0, 0, 0, 16, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm',
                                            0, 0, 2, 0,  0,   0,   0,   0,   'm', 'd', 'a', 't'};
      if (send_all(fd, h, strlen(h)) || send_all(fd, boxes, sizeof boxes)) goto out;
      static char zeros[65536];
      for (int i = 0; i < 16384; i++) /* 1 GiB at most */
        if (send_all(fd, zeros, sizeof zeros)) goto out;
      goto out;
    } else if (!strcmp(path, "/html.mp4")) {
      const char *h = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                      "27\r\n\r\n<html><body>hi</body></html>";
      if (send_all(fd, h, strlen(h))) goto out;
    } else {
      const char *h = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
      if (send_all(fd, h, strlen(h))) goto out;
    }
  }
out:
  close(fd);
  return NULL;
}

static void *accept_main(void *arg) {
  (void)arg;
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
    pthread_create(&t, NULL, conn_main, (void *)(intptr_t)c);
    pthread_detach(t);
  }
}

static void srv_start(void) {
  srv_fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(srv_fd, (struct sockaddr *)&a, sizeof a) || listen(srv_fd, 64)) _exit(3);
  socklen_t al = sizeof a;
  getsockname(srv_fd, (struct sockaddr *)&a, &al);
  srv_port = ntohs(a.sin_port);
  pthread_t t;
  pthread_create(&t, NULL, accept_main, NULL);
  pthread_detach(t);
}

static const char *url(const char *path) {
  static char b[8][256];
  static int i;
  char *o = b[i++ % 8];
  snprintf(o, 256, "http://127.0.0.1:%d%s", srv_port, path);
  return o;
}

static long file_size(const char *name) {
  char p[1024];
  snprintf(p, sizeof p, "%s/%s", media_dir, name);
  struct stat st;
  return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static vast_probe_opts popts(void) {
  vast_probe_opts o;
  vast_probe_opts_init(&o);
  return o;
}

/* ---- what a probe says ------------------------------------------------------- */

TEST(faststart_mp4_over_http) {
  srv_start();
  vast_probe_opts o = popts();
  vast_media_info in;
  vast_error e;
  CHECK_INT(vast_media_probe(url("/m/fs.mp4"), &o, &in, &e), VAST_OK);
  CHECK_INT(in.status, 206);
  CHECK_STR(in.content_type, "video/mp4");
  CHECK_INT(in.content_length, file_size("fs.mp4"));
  CHECK_INT(in.range_ignored, 0);
  CHECK_STR(in.container, "mp4");
  CHECK_NEAR(in.duration, 2.0, 0.1);
  CHECK_STR(in.video_codec, "h264");
  CHECK_STR(in.video_profile, "High");
  CHECK(in.video_level[0] != 0);
  CHECK_INT(in.width, 320);
  CHECK_INT(in.height, 180);
  CHECK_NEAR(in.frame_rate, 25.0, 0.01);
  CHECK(in.bit_rate > 50000 && in.video_bit_rate > 0);
  CHECK_STR(in.audio_codec, "aac");
  CHECK_STR(in.audio_profile, "LC");
  CHECK_INT(in.channels, 1);
  CHECK_INT(in.sample_rate, 44100);
  CHECK_INT(in.fast_start, 1);
  /* the first ranged request of 64 KiB holds everything */
  CHECK_INT(in.requests, 1);
  CHECK(in.bytes_read <= VAST_DEFAULT_PROBE_READ_AHEAD);
  CHECK(in.bytes_read < (uint64_t)in.content_length);
}

TEST(moov_at_end_reads_start_and_end_only) {
  srv_start();
  vast_probe_opts o = popts();
  o.read_ahead = 16384;
  vast_media_info in;
  CHECK_INT(vast_media_probe(url("/m/end.mp4"), &o, &in, NULL), VAST_OK);
  CHECK_INT(in.fast_start, 0);
  CHECK_STR(in.video_codec, "h264");
  CHECK_NEAR(in.duration, 2.0, 0.1);
  CHECK(in.requests >= 2);
  if (in.bytes_read >= (uint64_t)in.content_length / 2)
    fprintf(stderr, "  read %llu of %lld in %u requests\n", (unsigned long long)in.bytes_read,
            (long long)in.content_length, in.requests);
  CHECK(in.bytes_read < (uint64_t)in.content_length / 2);
}

TEST(other_codecs_and_containers) {
  srv_start();
  vast_probe_opts o = popts();
  vast_media_info in;
  CHECK_INT(vast_media_probe(url("/m/vp9.webm"), &o, &in, NULL), VAST_OK);
  CHECK_STR(in.container, "webm");
  CHECK_STR(in.video_codec, "vp9");
  CHECK_STR(in.audio_codec, "opus");
  CHECK_INT(in.fast_start, -1);
  CHECK_NEAR(in.duration, 2.0, 0.1);
  CHECK_INT(vast_media_probe(url("/m/hevc.mp4"), &o, &in, NULL), VAST_OK);
  CHECK_STR(in.video_codec, "hevc");
  CHECK_STR(in.video_profile, "Main");
  CHECK_INT(in.width, 320);
  CHECK_INT(vast_media_probe(url("/m/silent.mp4"), &o, &in, NULL), VAST_OK);
  CHECK_INT(in.has_video, 1);
  CHECK_INT(in.has_audio, 0);
  CHECK_INT(vast_media_probe(url("/m/audio.m4a"), &o, &in, NULL), VAST_OK);
  CHECK_STR(in.container, "m4a");
  CHECK_INT(in.has_video, 0);
  CHECK_STR(in.audio_codec, "aac");
  CHECK_NEAR(in.duration, 2.0, 0.1);
}

TEST(hls_through_nested_readers) {
  srv_start();
  vast_probe_opts o = popts();
  vast_media_info in;
  vast_error e;
  vast_err rc = vast_media_probe(url("/m/hls/master.m3u8"), &o, &in, &e);
  if (rc != VAST_OK) fprintf(stderr, "  %s\n", e.message);
  CHECK_INT(rc, VAST_OK);
  CHECK_STR(in.container, "hls");
  CHECK_STR(in.content_type, "application/vnd.apple.mpegurl");
  CHECK_NEAR(in.duration, 2.0, 0.2);
  CHECK_STR(in.video_codec, "h264");
  CHECK_INT(in.width, 320);
  CHECK_STR(in.audio_codec, "aac");
  CHECK_INT(in.fast_start, -1);
  CHECK_INT(in.bit_rate, 400000); /* the variant's BANDWIDTH, not the playlist's size */
  CHECK(in.requests >= 3);        /* master, variant, a segment */
  CHECK(in.bytes_read <= o.max_bytes);
  /* a playlist pointing at a local file: refused, never read */
  CHECK_INT(vast_media_probe(url("/m/hls/evil.m3u8"), &o, &in, &e), VAST_E_NOT_MEDIA);
  CHECK_INT(e.iab_code, 405);
  /* no nested opens allowed: the playlist's variant is refused and named */
  o.max_nested = 0;
  CHECK_INT(vast_media_probe(url("/m/hls/master.m3u8"), &o, &in, &e), VAST_E_NOT_MEDIA);
  CHECK(strstr(e.message, "index.m3u8', which may not be opened") != NULL);
}

TEST(local_file) {
  char p[1024];
  snprintf(p, sizeof p, "%s/fs.mp4", media_dir);
  vast_media_info in;
  CHECK_INT(vast_media_probe(p, NULL, &in, NULL), VAST_OK);
  CHECK_INT(in.is_file, 1);
  CHECK_INT(in.requests, 0);
  CHECK_INT(in.content_length, file_size("fs.mp4"));
  CHECK_STR(in.video_codec, "h264");
  vast_probe_opts o = popts();
  o.allow_files = 0;
  vast_error e;
  CHECK_INT(vast_media_probe(p, &o, &in, &e), VAST_E_URL);
  CHECK_INT(vast_media_probe("/dev/zero", NULL, &in, &e), VAST_E_IO);
  CHECK(strstr(e.message, "not a regular file") != NULL);
  CHECK_INT(vast_media_probe("file:///etc/passwd", NULL, &in, &e), VAST_E_URL);
}

TEST(range_ignored_still_probes_within_budget) {
  srv_start();
  vast_probe_opts o = popts();
  vast_media_info in;
  CHECK_INT(vast_media_probe(url("/norange/fs.mp4"), &o, &in, NULL), VAST_OK);
  CHECK_INT(in.status, 200);
  CHECK_INT(in.range_ignored, 1);
  CHECK_INT(in.content_length, file_size("fs.mp4"));
  CHECK_STR(in.video_codec, "h264");
  /* moov at the end with a server that ignores ranges: each far block re-reads from 0 */
  o.max_bytes = 200000;
  vast_error e;
  vast_err rc = vast_media_probe(url("/norange/end.mp4"), &o, &in, &e);
  CHECK(rc == VAST_OK || rc == VAST_E_TOO_LARGE);
  CHECK(in.bytes_read <= o.max_bytes);
}

/* ---- hostile media: each ends with a clear error inside the limits ------------ */

TEST(http_errors) {
  srv_start();
  vast_media_info in;
  vast_error e;
  CHECK_INT(vast_media_probe(url("/m/missing.mp4"), NULL, &in, &e), VAST_E_HTTP);
  CHECK_INT(in.status, 404);
  CHECK_INT(e.iab_code, 401);
  CHECK(strstr(e.message, "404") != NULL);
  CHECK_INT(vast_media_probe(url("/html.mp4"), NULL, &in, &e), VAST_E_NOT_MEDIA);
  CHECK_STR(in.content_type, "text/html");
  CHECK_INT(e.iab_code, 405);
  CHECK_INT(vast_media_probe("ftp://127.0.0.1/x.mp4", NULL, &in, &e), VAST_E_URL);
}

TEST(garbage_with_video_type) {
  srv_start();
  vast_probe_opts o = popts();
  o.max_bytes = 1 << 20;
  vast_media_info in;
  vast_error e;
  CHECK_INT(vast_media_probe(url("/m/garbage.mp4"), &o, &in, &e), VAST_E_NOT_MEDIA);
  CHECK_STR(in.content_type, "video/mp4");
  CHECK(strstr(e.message, "not a media file") != NULL);
  CHECK(in.bytes_read <= o.max_bytes);
}

TEST(truncated_files) {
  srv_start();
  vast_media_info in;
  vast_error e;
  CHECK_INT(vast_media_probe(url("/m/trunc-fs.mp4"), NULL, &in, &e), VAST_E_NOT_MEDIA);
  CHECK(strstr(e.message, "truncated") != NULL);
  CHECK_INT(vast_media_probe(url("/m/trunc-end.mp4"), NULL, &in, &e), VAST_E_NOT_MEDIA);
  CHECK_INT(e.iab_code, 405);
}

TEST(trickling_server_times_out) {
  srv_start();
  vast_probe_opts o = popts();
  o.timeout_ms = 700;
  vast_media_info in;
  vast_error e;
  double t0 = mono_ms();
  CHECK_INT(vast_media_probe(url("/trickle.mp4"), &o, &in, &e), VAST_E_TIMEOUT);
  double took = mono_ms() - t0;
  CHECK(took >= 600 && took < 3000);
  CHECK_INT(e.iab_code, 402);
  CHECK(in.bytes_read < 100);
}

TEST(endless_body_stops_at_budget) {
  srv_start();
  vast_probe_opts o = popts();
  o.max_bytes = 1 << 20;
  vast_media_info in;
  vast_error e;
  vast_err rc = vast_media_probe(url("/endless.mp4"), &o, &in, &e);
  CHECK(rc == VAST_E_TOO_LARGE || rc == VAST_E_NOT_MEDIA);
  CHECK(in.bytes_read <= o.max_bytes);
  CHECK_INT(in.content_length, -1);
  CHECK(in.elapsed_ms < 5000);
}

TEST(private_addresses_refused) {
  srv_start();
  vast_probe_opts o = popts();
  o.refuse_private = 1;
  vast_media_info in;
  vast_error e;
  CHECK_INT(vast_media_probe(url("/m/fs.mp4"), &o, &in, &e), VAST_E_FORBIDDEN);
  CHECK_INT(in.bytes_read, 0);
  CHECK_INT(n_reqs, 0);
}

TEST(network_policy_applies) {
  srv_start();
  vast_net_policy pol;
  vast_net_policy_init(&pol); /* refuses special-purpose addresses */
  vast_probe_opts o = popts();
  o.policy = &pol;
  vast_media_info in;
  vast_error e;
  CHECK_INT(vast_media_probe(url("/m/fs.mp4"), &o, &in, &e), VAST_E_FORBIDDEN);
  CHECK_INT(n_reqs, 0);
  pol.allow_private = 1;
  CHECK_INT(vast_media_probe(url("/m/fs.mp4"), &o, &in, &e), VAST_OK);
  /* its ceiling on one response body: a server ignoring ranges sends it all at once */
  pol.max_bytes = 30000;
  CHECK_INT(vast_media_probe(url("/norange/fs.mp4"), &o, &in, &e), VAST_E_TOO_LARGE);
  CHECK(strstr(e.message, "policy") != NULL);
  CHECK(in.bytes_read <= 30000);
  /* ranged responses stay under it */
  o.read_ahead = 16384;
  CHECK_INT(vast_media_probe(url("/m/fs.mp4"), &o, &in, &e), VAST_OK);
}

/* A caller's User-Agent with CR/LF would inject headers: refused before any request. */
TEST(user_agent_with_control_characters_refused) {
  srv_start();
  int before = n_reqs;
  vast_probe_opts o = popts();
  o.user_agent = "probe\r\nX-Injected: 1";
  vast_prober *p = NULL;
  CHECK_INT(vast_prober_create(&o, &p), VAST_E_INVAL);
  CHECK(p == NULL);
  vast_media_info in;
  CHECK(vast_media_probe(url("/m/fs.mp4"), &o, &in, NULL) != VAST_OK);
  CHECK_INT(n_reqs, before);
  o.user_agent = "probe/1.0";
  CHECK_INT(vast_media_probe(url("/m/fs.mp4"), &o, &in, NULL), VAST_OK);
}

/* ---- reuse and concurrency ----------------------------------------------------- */

TEST(prober_reuses_its_connection) {
  srv_start();
  vast_prober *p = NULL;
  CHECK_INT(vast_prober_create(NULL, &p), VAST_OK);
  vast_media_info in;
  for (int i = 0; i < 5; i++)
    CHECK_INT(vast_prober_run(p, url("/m/fs.mp4"), &in, NULL), VAST_OK);
  CHECK_INT(vast_prober_run(p, url("/m/end.mp4"), &in, NULL), VAST_OK);
  vast_prober_free(p);
  CHECK_INT(n_conns, 1);
}

TEST(many_in_order) {
  srv_start();
  const char *t[] = {url("/m/fs.mp4"),    url("/m/missing.mp4"), url("/m/vp9.webm"),
                     url("/m/audio.m4a"), url("/m/end.mp4"),     url("/m/hevc.mp4")};
  vast_media_info in[6];
  vast_err rc[6];
  vast_error e[6];
  CHECK_INT(vast_media_probe_many(t, 6, NULL, 3, in, rc, e), VAST_OK);
  CHECK_INT(rc[0], VAST_OK);
  CHECK_INT(rc[1], VAST_E_HTTP);
  CHECK_STR(in[2].video_codec, "vp9");
  CHECK_STR(in[3].container, "m4a");
  CHECK_INT(in[4].fast_start, 0);
  CHECK_STR(in[5].video_codec, "hevc");
  CHECK(n_conns <= 3);
}

typedef struct sbuf {
  char p[8192];
  size_t n;
} sbuf;

static int sbuf_write(void *ctx, const char *d, size_t n) {
  sbuf *b = ctx;
  if (b->n + n >= sizeof b->p) return -1;
  memcpy(b->p + b->n, d, n);
  b->n += n;
  b->p[b->n] = 0;
  return 0;
}

TEST(json_output) {
  srv_start();
  vast_media_info in;
  vast_error e;
  sbuf b = {.n = 0};
  vast_err rc = vast_media_probe(url("/m/fs.mp4"), NULL, &in, &e);
  CHECK_INT(vast_media_info_write_json("fs", &in, rc, &e, sbuf_write, &b), VAST_OK);
  CHECK(strstr(b.p, "\"target\":\"fs\",\"ok\":true,\"error\":null") != NULL);
  CHECK(strstr(b.p, "\"contentType\":\"video/mp4\"") != NULL);
  CHECK(strstr(b.p, "\"video\":{\"codec\":\"h264\",\"profile\":\"High\"") != NULL);
  CHECK(strstr(b.p, "\"fastStart\":true") != NULL);
  CHECK(strstr(b.p, "\"sampleRate\":44100") != NULL);
  b.n = 0;
  rc = vast_media_probe(url("/m/missing.mp4"), NULL, &in, &e);
  CHECK_INT(vast_media_info_write_json("m", &in, rc, &e, sbuf_write, &b), VAST_OK);
  CHECK(strstr(b.p, "\"ok\":false") != NULL && strstr(b.p, "\"iabCode\":401") != NULL);
  CHECK(strstr(b.p, "\"video\":null") != NULL && strstr(b.p, "\"fastStart\":null") != NULL);
}

/* ---- the rule cases --------------------------------------------------------------- */

/* The case's XML with http://MEDIA/ and http://NORANGE/ pointing at the server. */
static char *case_xml(const char *path, size_t *len) {
  char *x = th_slurp(path, NULL);
  char media[128], norange[128];
  snprintf(media, sizeof media, "http://127.0.0.1:%d/m/", srv_port);
  snprintf(norange, sizeof norange, "http://127.0.0.1:%d/norange/", srv_port);
  size_t cap = strlen(x) + 4096, n = 0;
  char *o = malloc(cap);
  for (const char *s = x; *s;) {
    if (!strncmp(s, "http://MEDIA/", 13)) {
      n += (size_t)sprintf(o + n, "%s", media);
      s += 13;
    } else if (!strncmp(s, "http://NORANGE/", 15)) {
      n += (size_t)sprintf(o + n, "%s", norange);
      s += 15;
    } else {
      o[n++] = *s++;
    }
  }
  o[n] = 0;
  free(x);
  *len = n;
  return o;
}

static vast_findings *probe_findings(const char *path, vast_profile p) {
  size_t n;
  char *xml = case_xml(path, &n);
  vast_doc *doc = NULL;
  CHECK_INT(vast_doc_parse(xml, n, NULL, &doc, NULL), VAST_OK);
  vast_validate_options vo;
  vast_validate_options_init(&vo);
  vo.profile = p;
  vast_findings *l = NULL;
  CHECK_INT(vast_validate_list(doc, &vo, &l), VAST_OK);
  vast_probe_check_opts po;
  vast_probe_check_opts_init(&po);
  po.probe.timeout_ms = 5000;
  CHECK_INT(vast_probe_check(doc, NULL, &vo, &po, l), VAST_OK);
  vast_doc_free(doc);
  free(xml);
  return l;
}

TEST(probe_rule_cases) {
  srv_start();
  int seen = 0, failed = 0;
  for (size_t i = 0; i < vast_rule_count(); i++) {
    const vast_rule *r = vast_rule_at(i);
    if (strcmp(r->category, "probe")) continue;
    char path[512];
    snprintf(path, sizeof path, "tests/validate/%s/probe", r->id);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    vast_profile p = VAST_PROFILE_WEB;
    snprintf(path, sizeof path, "tests/validate/%s/profile", r->id);
    FILE *pf = fopen(path, "r");
    if (pf) {
      char name[32] = {0};
      if (fscanf(pf, "%31s", name) == 1) CHECK_INT(vast_profile_from_name(name, &p), VAST_OK);
      fclose(pf);
    }
    for (int good = 0; good <= 1; good++) {
      snprintf(path, sizeof path, "tests/validate/%s/%s.xml", r->id, good ? "good" : "bad");
      vast_findings *l = probe_findings(path, p);
      int has = vast_findings_has(l, r->id), other = 0;
      for (size_t k = 0; k < vast_findings_count(l); k++) {
        const vast_finding *f = vast_findings_at(l, k);
        if (!strcmp(f->rule->category, "probe")) {
          if (strcmp(f->rule_id, r->id)) other++;
          if (f->line == 0 || f->path[0] != '/' || !strstr(f->path, "MediaFile")) failed++;
          if (good || strcmp(f->rule_id, r->id))
            fprintf(stderr, "  %s: %s: %s\n", path, f->rule_id, f->message);
        }
      }
      /* bad: the rule; good: no probe finding at all (the file matches the tag) */
      if (good ? (has || other) : !has) {
        fprintf(stderr, "  %s: %s\n", path, good ? "has probe findings" : "misses the rule");
        failed++;
      }
      vast_findings_free(l);
    }
    seen++;
  }
  CHECK_INT(failed, 0);
  CHECK(seen >= 12);
}

TEST(probe_check_mezzanine_and_disable) {
  srv_start();
  char xml[2048];
  int n = snprintf(
      xml, sizeof xml,
      "<VAST version=\"4.2\"><Ad><InLine><AdSystem>x</AdSystem><AdTitle>t</AdTitle>"
      "<Impression>https://x/i</Impression><Creatives><Creative><Linear>"
      "<Duration>00:00:09</Duration><MediaFiles>"
      "<Mezzanine delivery=\"progressive\" type=\"video/mp4\" width=\"320\" height=\"180\">"
      "http://127.0.0.1:%d/m/fs.mp4</Mezzanine></MediaFiles></Linear></Creative>"
      "</Creatives></InLine></Ad></VAST>",
      srv_port);
  vast_doc *doc = NULL;
  CHECK_INT(vast_doc_parse(xml, (size_t)n, NULL, &doc, NULL), VAST_OK);
  vast_validate_options vo;
  vast_validate_options_init(&vo);
  vast_findings *l = NULL;
  CHECK_INT(vast_validate_list(doc, &vo, &l), VAST_OK);
  size_t before = vast_findings_count(l);
  CHECK_INT(vast_probe_check(doc, NULL, &vo, NULL, l), VAST_OK);
  CHECK(vast_findings_has(l, "probe-duration-mismatch"));
  const vast_finding *f = vast_findings_at(l, before);
  CHECK(f && strstr(f->path, "Mezzanine[1]") && f->iab_code == 202);
  vast_findings_free(l);
  const char *off[] = {"probe-duration-mismatch"};
  vo.disabled = off;
  vo.n_disabled = 1;
  CHECK_INT(vast_validate_list(doc, &vo, &l), VAST_OK);
  CHECK_INT(vast_probe_check(doc, NULL, &vo, NULL, l), VAST_OK);
  CHECK(!vast_findings_has(l, "probe-duration-mismatch"));
  /* audit: the probe findings (those after `from`) folded into the row */
  vast_findings_free(l);
  vo.disabled = NULL;
  vo.n_disabled = 0;
  vast_audit a;
  CHECK_INT(vast_audit_doc(doc, &vo, &a), VAST_OK);
  size_t w0 = a.warnings;
  CHECK_INT(vast_validate_list(doc, &vo, &l), VAST_OK);
  size_t from = vast_findings_count(l);
  CHECK_INT(vast_probe_check(doc, NULL, &vo, NULL, l), VAST_OK);
  CHECK_INT(vast_audit_add_probe(&a, l, from), VAST_OK);
  CHECK_INT(a.warnings, w0 + 1);
  CHECK(strstr(a.issues, "probe-duration-mismatch(1)") != NULL);
  vast_findings_free(l);
  vast_doc_free(doc);
}

TEST(probe_check_through_the_chain) {
  srv_start();
  char path[1024], xml[2048];
  snprintf(path, sizeof path, "%s/inline.xml", media_dir);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  fprintf(f, "<VAST version=\"4.2\"><Ad><InLine><AdSystem>x</AdSystem><AdTitle>t</AdTitle>"
             "<Impression>https://x/i</Impression><Creatives><Creative><Linear>"
             "<Duration>00:00:15</Duration><MediaFiles><MediaFile delivery=\"progressive\" "
             "type=\"video/mp4\" width=\"320\" height=\"180\">fs.mp4</MediaFile></MediaFiles>"
             "</Linear></Creative></Creatives></InLine></Ad></VAST>");
  fclose(f);
  int n = snprintf(xml, sizeof xml,
                   "<VAST version=\"4.2\"><Ad><Wrapper><AdSystem>w</AdSystem>"
                   "<VASTAdTagURI>http://127.0.0.1:%d/m/inline.xml</VASTAdTagURI>"
                   "<Impression>https://x/w</Impression></Wrapper></Ad></VAST>",
                   srv_port);
  vast_doc *doc = NULL;
  CHECK_INT(vast_doc_parse(xml, (size_t)n, NULL, &doc, NULL), VAST_OK);
  vast_chain *chain = NULL;
  CHECK_INT(vast_resolve_buffer(xml, (size_t)n, NULL, NULL, &chain, NULL), VAST_OK);
  vast_validate_options vo;
  vast_validate_options_init(&vo);
  vast_findings *l = NULL;
  CHECK_INT(vast_validate_list(doc, &vo, &l), VAST_OK);
  CHECK_INT(vast_probe_check(doc, NULL, &vo, NULL, l), VAST_OK); /* no chain: nothing to probe */
  CHECK(!vast_findings_has(l, "probe-duration-mismatch"));
  vo.chain = chain;
  CHECK_INT(vast_probe_check(doc, NULL, &vo, NULL, l), VAST_OK);
  const vast_finding *fd = NULL;
  for (size_t i = 0; i < vast_findings_count(l); i++)
    if (!strcmp(vast_findings_at(l, i)->rule_id, "probe-duration-mismatch"))
      fd = vast_findings_at(l, i);
  if (!fd)
    for (size_t i = 0; i < vast_findings_count(l); i++)
      fprintf(stderr, "  %s: %s\n", vast_findings_at(l, i)->rule_id,
              vast_findings_at(l, i)->message);
  CHECK(fd != NULL);
  CHECK_STR(fd->path, "/VAST/Ad[1]/Wrapper");
  CHECK(fd->line == 1 && fd->column > 0);
  CHECK(strstr(fd->message, "/m/inline.xml Ad[1] MediaFile[1]: the file lasts") != NULL);
  vast_findings_free(l);
  vast_chain_free(chain);
  vast_doc_free(doc);
}

/* ---- media ---------------------------------------------------------------------- */

static int sh(const char *cmd) {
  int rc = system(cmd);
  if (rc != 0) fprintf(stderr, "test-probe: failed (%d): %s\n", rc, cmd);
  return rc;
}

/* Generates the media into media_dir with ffmpeg (about 2 s in all). */
static int make_media(void) {
  static const char *const gen[] = {
      "-f lavfi -i testsrc2=size=320x180:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 "
      "-t 2 "
      "-c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -c:a aac -b:a 64k "
      "-movflags +faststart fs.mp4",
      "-f lavfi -i testsrc2=size=320x180:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 "
      "-t 2 "
      "-c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -c:a aac -b:a 64k end.mp4",
      "-f lavfi -i testsrc2=size=320x180:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 "
      "-t 2 "
      "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 200k -c:a libopus vp9.webm",
      "-f lavfi -i testsrc2=size=320x180:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 "
      "-t 2 "
      "-c:v libx265 -preset ultrafast -x265-params log-level=error -tag:v hvc1 -c:a aac "
      "-movflags +faststart hevc.mp4",
      "-f lavfi -i testsrc2=size=320x180:rate=25 -t 2 -c:v libx264 -preset veryfast -pix_fmt "
      "yuv420p "
      "-movflags +faststart silent.mp4",
      "-f lavfi -i sine=frequency=440:sample_rate=44100 -t 2 -c:a aac -b:a 64k audio.m4a",
      "-f lavfi -i testsrc2=size=320x180:rate=120 -f lavfi -i sine=frequency=440:sample_rate=44100 "
      "-t 2 "
      "-c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -c:a aac -movflags "
      "+faststart "
      "hifps.mp4",
  };
  char cmd[1024];
  for (size_t i = 0; i < sizeof gen / sizeof gen[0]; i++) {
    snprintf(cmd, sizeof cmd, "cd '%s' && ffmpeg -nostdin -hide_banner -loglevel error -y %s",
             media_dir, gen[i]);
    if (sh(cmd)) return -1;
  }
  snprintf(
      cmd, sizeof cmd,
      "cd '%s' && mkdir -p hls && ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi "
      "-i testsrc2=size=320x180:rate=25 -f lavfi -i sine=sample_rate=44100 -t 2 -c:v libx264 "
      "-preset veryfast -pix_fmt yuv420p -c:a aac -f hls -hls_time 1 -hls_playlist_type vod "
      "hls/index.m3u8 && printf '#EXTM3U\\n#EXT-X-STREAM-INF:BANDWIDTH=400000\\nindex.m3u8\\n' "
      "> hls/master.m3u8 && printf '#EXTM3U\\n#EXT-X-TARGETDURATION:1\\n#EXTINF:1,\\n"
      "file:///etc/passwd\\n#EXT-X-ENDLIST\\n' > hls/evil.m3u8",
      media_dir);
  if (sh(cmd)) return -1;
  snprintf(cmd, sizeof cmd,
           "cd '%s' && head -c 200000 /dev/urandom > garbage.mp4 && "
           "head -c $(( $(stat -c %%s fs.mp4) * 2 / 3 )) fs.mp4 > trunc-fs.mp4 && "
           "head -c $(( $(stat -c %%s end.mp4) * 2 / 3 )) end.mp4 > trunc-end.mp4",
           media_dir);
  return sh(cmd);
}

static const th_case cases[] = {
    TH(faststart_mp4_over_http),
    TH(moov_at_end_reads_start_and_end_only),
    TH(other_codecs_and_containers),
    TH(hls_through_nested_readers),
    TH(local_file),
    TH(range_ignored_still_probes_within_budget),
    TH(http_errors),
    TH(garbage_with_video_type),
    TH(truncated_files),
    TH(trickling_server_times_out),
    TH(endless_body_stops_at_budget),
    TH(private_addresses_refused),
    TH(network_policy_applies),
    TH(user_agent_with_control_characters_refused),
    TH(prober_reuses_its_connection),
    TH(many_in_order),
    TH(json_output),
    TH(probe_rule_cases),
    TH(probe_check_mezzanine_and_disable),
    TH(probe_check_through_the_chain),
    {0},
};

int main(int argc, char **argv) {
  snprintf(media_dir, sizeof media_dir, "%s/vastrack-probe-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(media_dir)) return 2;
  int rc;
  if (make_media() != 0) {
    printf("not ok - test-probe.c: media generated with ffmpeg (make deps)\n");
    rc = 1;
  } else {
    rc = th_main(__FILE__, cases, argc, argv);
  }
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", media_dir);
  if (system(cmd) != 0) rc = 1;
  return rc;
}
