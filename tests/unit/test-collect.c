/*
 * test-collect.c: the beacon collector. The HTTP parser case by case; then a
 * collector started in-process on 127.0.0.1 port 0: exact counts under
 * concurrent pipelined load, each bad-input case over a raw socket, drain on
 * stop, journal replay after a crash (torn tail, exactly-once, another worker
 * count, bad checksum), journal rotation and lock, the Kafka sink against
 * librdkafka's mock cluster (consumed back), and the report over the
 * database the collector wrote.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <sqlite3.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <uv.h>

#include "vastrack.h"
#include "collect/collect-int.h"
#include "harness.h"

/* ---- parser ---- */

static const vast__http_limits LIM = {64, 256, 8};

static long parse(const char *s, vast__http_req *rq) {
  return vast__http_parse(s, strlen(s), &LIM, rq);
}

TEST(http_simple_get) {
  vast__http_req rq;
  const char *s = "GET /t/start?ad=1&cr=2 HTTP/1.1\r\nHost: x\r\nUser-Agent: UA/1\r\n\r\nGET";
  long n = parse(s, &rq);
  CHECK_INT(n, (long)strlen(s) - 3);
  CHECK_INT(rq.path.n, 8);
  CHECK(!memcmp(rq.path.p, "/t/start", 8));
  CHECK_INT(rq.query.n, 9);
  CHECK(rq.keep_alive);
  CHECK_INT(rq.user_agent.n, 4);
  CHECK_INT(rq.minor, 1);
}

TEST(http_incomplete_needs_more) {
  vast__http_req rq;
  CHECK_INT(parse("GET / HTTP/1.1\r\nHost: x\r\n", &rq), 0);
  CHECK_INT(parse("GET / HT", &rq), 0);
  CHECK_INT(parse("", &rq), 0);
}

TEST(http_limits) {
  vast__http_req rq;
  char line[200];
  snprintf(line, sizeof line, "GET /%0100d HTTP/1.1\r\n\r\n", 0);
  CHECK_INT(parse(line, &rq), -414);
  /* too long even before the newline arrives */
  snprintf(line, sizeof line, "GET /%0100d", 0);
  CHECK_INT(parse(line, &rq), -414);
  char big[600];
  snprintf(big, sizeof big, "GET / HTTP/1.1\r\nX-A: %0300d\r\n\r\n", 0);
  CHECK_INT(parse(big, &rq), -431);
  snprintf(big, sizeof big, "GET / HTTP/1.1\r\nX-A: %0300d", 0); /* unterminated */
  CHECK_INT(parse(big, &rq), -431);
  CHECK_INT(
      parse("GET / HTTP/1.1\r\na:1\r\nb:1\r\nc:1\r\nd:1\r\ne:1\r\nf:1\r\ng:1\r\nh:1\r\ni:1\r\n\r\n",
            &rq),
      -431);
}

TEST(http_garbage) {
  vast__http_req rq;
  CHECK_INT(parse("\x16\x03\x01\x02\x05\x01\x07\x01\xfc\x03\x03\r\n\r\n", &rq), -400);
  /* refused before any newline: a TLS ClientHello has none */
  CHECK_INT(parse("\x16\x03\x01\x02\x05\x01\x07", &rq), -400);
  CHECK_INT(parse("GE\x01", &rq), -400);
  CHECK_INT(parse("GET /a\x01", &rq), -400);
  CHECK_INT(parse("GET /t/start?ad=1 HTT", &rq), 0); /* a real one, still coming */
  CHECK_INT(parse("GET", &rq), 0);
  CHECK_INT(parse("GET\r\n\r\n", &rq), -400);
  CHECK_INT(parse("GET / HTTP/1.1\r\n folded\r\n\r\n", &rq), -400);
  CHECK_INT(parse("GET / HTTP/1.1\r\nNoColon\r\n\r\n", &rq), -400);
  CHECK_INT(parse("GET / HTTP/2.0\r\n\r\n", &rq), -505);
  CHECK_INT(parse("GET / FOO/1.1\r\n\r\n", &rq), -400);
  CHECK_INT(parse("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", &rq), -400);
}

TEST(http_connection_semantics) {
  vast__http_req rq;
  CHECK(parse("GET / HTTP/1.0\r\n\r\n", &rq) > 0);
  CHECK(!rq.keep_alive);
  CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &rq) > 0);
  CHECK(rq.keep_alive);
  CHECK(parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &rq) > 0);
  CHECK(!rq.keep_alive);
  /* bare LF line ends and a leading empty line are accepted */
  CHECK(parse("\r\nGET / HTTP/1.1\nHost: x\n\n", &rq) > 0);
  CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", &rq) > 0);
  CHECK(rq.has_body);
}

TEST(http_content_length) {
  vast__http_req rq;
  CHECK(parse("POST /api/x HTTP/1.1\r\nContent-Length: 1234\r\n\r\n", &rq) > 0);
  CHECK_INT(rq.content_length, 1234);
  CHECK(rq.has_body && !rq.chunked);
  CHECK(parse("POST /api/x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &rq) > 0);
  CHECK(!rq.has_body && rq.content_length == 0);
  CHECK(parse("POST /api/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &rq) > 0);
  CHECK(rq.chunked && rq.has_body);
  /* the same length twice is fine; two different ones are refused */
  CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &rq) > 0);
  CHECK_INT(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", &rq), -400);
  CHECK_INT(parse("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", &rq), -400);
  /* a huge length saturates instead of wrapping */
  CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n", &rq) > 0);
  CHECK(rq.content_length > ((uint64_t)1 << 40));
}

TEST(http_device_headers) {
  vast__http_req rq;
  CHECK(parse("GET /t/x HTTP/1.1\r\nX-Device-IP: 1.2.3.4\r\nx-device-user-agent: TV\r\n"
              "X-Device-Referer: r\r\nX-Forwarded-For: 5.6.7.8\r\n\r\n",
              &rq) > 0);
  CHECK_INT(rq.device_ip.n, 7);
  CHECK_INT(rq.device_ua.n, 2);
  CHECK_INT(rq.n_device, 1);
  CHECK(!memcmp(rq.device_name[0].p, "Referer", 7));
  CHECK_INT(rq.forwarded_for.n, 7);
}

TEST(url_decode) {
  char out[32];
  CHECK_INT(vast__url_decode("a%20b+c%2", 9, out, sizeof out), 7);
  CHECK_STR(out, "a b c%2");
  CHECK_INT(vast__url_decode("abcdef", 6, out, 4), -1);
}

TEST(parse_since) {
  int64_t ms = 0;
  CHECK_INT(vast_parse_since("1700000000", 0, &ms), VAST_OK);
  CHECK_INT(ms, 1700000000000LL);
  CHECK_INT(vast_parse_since("2024-05-01T12:00:00Z", 0, &ms), VAST_OK);
  CHECK_INT(ms, 1714564800000LL);
  CHECK_INT(vast_parse_since("2024-05-01", 0, &ms), VAST_OK);
  CHECK_INT(ms, 1714521600000LL);
  CHECK_INT(vast_parse_since("15m", 1000000000, &ms), VAST_OK);
  CHECK_INT(ms, 1000000000 - 900000);
  CHECK_INT(vast_parse_since("yesterday", 0, &ms), VAST_E_INVAL);
  CHECK_INT(vast_parse_since("5x", 0, &ms), VAST_E_INVAL);
}

/* ---- a collector in-process ---- */

static char tmpdir[64];
static char dbpath[128];

/* The socket I/O every start() asks for (epoll_backend sets it). */
static vast_io test_io = VAST_IO_AUTO;

static vast_collector *start(vast_collector_opts *o) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/vt-collect-XXXXXX");
  CHECK(mkdtemp(tmpdir) != NULL);
  snprintf(dbpath, sizeof dbpath, "%s/hits.db", tmpdir);
  o->listen = "127.0.0.1:0";
  if (o->io == VAST_IO_AUTO) o->io = test_io;
  if (!o->kafka) o->db_path = dbpath;
  vast_collector *c = NULL;
  vast_error err;
  vast_err e = vast_collector_start(o, &c, &err);
  if (e) fprintf(stderr, "  start: %s\n", err.message);
  CHECK_INT(e, VAST_OK);
  CHECK(vast_collector_port(c) > 0);
  return c;
}

static void cleanup(void) {
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd)) {
  }
}

static int dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* Clients retry EINTR throughout: with the server's io_uring loops in the
     same process, a blocked socket call here has been seen to return EINTR. */
  int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
  if (rc != 0 && errno == EINTR) { /* the connection goes on: wait for it */
    struct pollfd pw = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t el = sizeof err;
    while (poll(&pw, 1, 20000) < 0 && errno == EINTR) {
    }
    rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0 ? 0 : -1;
  }
  if (rc != 0) {
    close(fd);
    return -1;
  }
  struct timeval tv = {20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/* poll() that goes on after EINTR (a few ms more at worst). */
static int poll_nointr(struct pollfd *p, nfds_t n, int ms) {
  int r;
  while ((r = poll(p, n, ms)) < 0 && errno == EINTR) {
  }
  return r;
}

static int send_all(int fd, const char *s, size_t n) {
  while (n) {
    ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    s += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads until EOF (or timeout); returns bytes read into buf (NUL-terminated). */
static size_t read_all(int fd, char *buf, size_t cap) {
  size_t n = 0;
  for (;;) {
    ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
    if (n == cap - 1) break;
  }
  buf[n] = 0;
  return n;
}

/*
 * Reads `want` whole responses; counts status codes 200 and 204 into ok.
 * Returns the number of responses read.
 */
static int read_responses(int fd, int want, int *ok) {
  static __thread char buf[1 << 16];
  size_t have = 0;
  int got = 0;
  *ok = 0;
  while (got < want) {
    char *end = memmem(buf, have, "\r\n\r\n", 4);
    if (end) {
      size_t head = (size_t)(end - buf) + 4;
      size_t clen = 0;
      char *cl = memmem(buf, head, "Content-Length: ", 16);
      if (cl) clen = strtoul(cl + 16, NULL, 10);
      if (have >= head + clen) {
        if (!strncmp(buf, "HTTP/1.1 200 ", 13) || !strncmp(buf, "HTTP/1.1 204 ", 13)) (*ok)++;
        memmove(buf, buf + head + clen, have - head - clen);
        have -= head + clen;
        got++;
        continue;
      }
    }
    ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    have += (size_t)r;
  }
  return got;
}

/* Bytes of the last response read by get() or raw() (bodies may hold NULs). */
static size_t last_len;

/* True when the last response holds s (anywhere, NULs included). */
static int has(const char *buf, const char *s) {
  return buf && memmem(buf, last_len, s, strlen(s)) != NULL;
}

/* GET path on a new connection; returns the whole response (malloc'd). */
static char *get(int port, const char *path) {
  int fd = dial(port);
  if (fd < 0) return NULL;
  char req[512];
  snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
  send_all(fd, req, strlen(req));
  char *buf = malloc(1 << 16);
  last_len = read_all(fd, buf, 1 << 16);
  close(fd);
  return buf;
}

static int64_t db_count(const char *sql) {
  sqlite3 *db;
  sqlite3_stmt *st;
  int64_t n = -1;
  if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

enum { LOAD_THREADS = 8, LOAD_REQS = 400, LOAD_BURST = 25 };

typedef struct load {
  int port, id, ok, answered;
} load;

/* One client: LOAD_REQS hits in pipelined bursts over one keep-alive connection. */
static void *load_main(void *arg) {
  load *l = arg;
  int fd = dial(l->port);
  if (fd < 0) return NULL;
  char req[LOAD_BURST * 200];
  for (int i = 0; i < LOAD_REQS; i += LOAD_BURST) {
    size_t n = 0;
    for (int j = i; j < i + LOAD_BURST; j++)
      n += (size_t)snprintf(req + n, sizeof req - n,
                            "GET /t/%s?ad=a%d&cr=c&sid=%d%s HTTP/1.1\r\nHost: t\r\n"
                            "User-Agent: load\r\n\r\n",
                            j % 2 ? "start" : "impression", l->id, j, j % 5 ? "" : "&r=204");
    if (send_all(fd, req, n)) break;
    int ok = 0;
    l->answered += read_responses(fd, LOAD_BURST, &ok);
    l->ok += ok;
  }
  close(fd);
  return NULL;
}

static void run_load(vast_collector_opts *o, int *ok_total) {
  vast_collector *c = start(o);
  pthread_t t[LOAD_THREADS];
  load l[LOAD_THREADS];
  for (int i = 0; i < LOAD_THREADS; i++) {
    l[i] = (load){vast_collector_port(c), i, 0, 0};
    pthread_create(&t[i], NULL, load_main, &l[i]);
  }
  *ok_total = 0;
  for (int i = 0; i < LOAD_THREADS; i++) {
    pthread_join(t[i], NULL);
    *ok_total += l[i].ok;
  }
  vast_collector_stats st;
  vast_collector_get_stats(c, &st);
  CHECK_INT(st.hits, LOAD_THREADS * LOAD_REQS);
  vast_collector_free(c);
}

TEST(load_exact_counts_durable) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.threads = 2;
  int ok = 0;
  run_load(&o, &ok);
  CHECK_INT(ok, LOAD_THREADS * LOAD_REQS);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits"), LOAD_THREADS * LOAD_REQS);
  CHECK_INT(db_count("SELECT SUM(n) FROM rollup"), LOAD_THREADS * LOAD_REQS);
  CHECK_INT(db_count("SELECT COUNT(DISTINCT ad || '/' || sid) FROM hits"),
            LOAD_THREADS * LOAD_REQS);
  CHECK_INT(db_count("SELECT SUM(n) FROM rollup WHERE ad='a3' AND event='start'"), LOAD_REQS / 2);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ua='load' AND ip='127.0.0.1'"),
            LOAD_THREADS * LOAD_REQS);
  cleanup();
}

TEST(load_exact_counts_fast) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.ack = VAST_ACK_FAST;
  o.threads = 3;
  int ok = 0;
  run_load(&o, &ok);
  CHECK_INT(ok, LOAD_THREADS * LOAD_REQS);
  /* free() drained and flushed the writer */
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits"), LOAD_THREADS * LOAD_REQS);
  cleanup();
}

TEST(records_fields_and_device_headers) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.param_map = "adid=ad,err=code";
  vast_collector *c = start(&o);
  int fd = dial(vast_collector_port(c));
  const char *rq = "GET /t/error?adid=A%201&cr=C&sid=S&err=402 HTTP/1.1\r\nHost: t\r\n"
                   "User-Agent: SSAI/1\r\nX-Device-IP: 203.0.113.9\r\n"
                   "X-Device-User-Agent: Roku/9\r\nX-Device-Accept-Language: de\r\n\r\n"
                   "HEAD /t/start?ad=B HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  send_all(fd, rq, strlen(rq));
  char buf[4096];
  size_t n = read_all(fd, buf, sizeof buf);
  close(fd);
  CHECK(strstr(buf, "HTTP/1.1 200 OK\r\n") == buf);
  CHECK(strstr(buf, "Content-Type: image/gif") != NULL);
  CHECK(strstr(buf, "Content-Length: 43\r\n") != NULL);
  CHECK(strstr(buf, "Cache-Control: no-store") != NULL);
  CHECK(strstr(buf, "GIF89a") != NULL);
  /* the HEAD answer has no body and closes */
  char *second = memmem(buf + 4, n - 4, "HTTP/1.1 200 OK\r\n", 17);
  CHECK(second != NULL);
  CHECK(memmem(second, n - (size_t)(second - buf), "Connection: close", 17) != NULL);
  CHECK(memmem(second, n - (size_t)(second - buf), "GIF89a", 6) == NULL);
  vast_collector_free(c);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE event='error' AND ad='A 1' AND cr='C' "
                     "AND sid='S' AND code=402 AND ua='SSAI/1' AND device_ip='203.0.113.9' "
                     "AND device_ua='Roku/9' AND device LIKE '%\"accept-language\":\"de\"%'"),
            1);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE event='start' AND ad='B'"), 1);
  cleanup();
}

TEST(endpoints_stats_metrics_healthz) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  vast_collector *c = start(&o);
  int port = vast_collector_port(c);
  free(get(port, "/t/impression?ad=1"));
  free(get(port, "/t/impression?ad=2"));
  char *r = get(port, "/healthz");
  CHECK(r && strstr(r, "HTTP/1.1 200 OK") == r);
  free(r);
  r = get(port, "/stats");
  CHECK(r && strstr(r, "\"stored\":2") && strstr(r, "\"impression\":2"));
  free(r);
  /* answered once journalled; the loader puts them into SQLite within ~10 ms */
  for (int i = 0; i < 300; i++) {
    r = get(port, "/stats");
    int done = r && strstr(r, "\"loaded\":2,\"loadLag\":0,");
    free(r);
    if (done) break;
    usleep(10000);
  }
  r = get(port, "/metrics");
  CHECK(r && strstr(r, "vastrack_hits_stored_total 2\n"));
  CHECK(strstr(r, "vastrack_hits_loaded_total 2\n") && strstr(r, "vastrack_load_lag 0\n"));
  CHECK(strstr(r, "vastrack_batch_size_count") && strstr(r, "vastrack_queue_depth 0\n"));
  CHECK(strstr(r, "vastrack_hit_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
  free(r);
  r = get(port, "/nothing");
  CHECK(r && strstr(r, "HTTP/1.1 404 ") == r);
  free(r);
  r = get(port, "/t/bad%20event?ad=1");
  CHECK(r && strstr(r, "HTTP/1.1 400 ") == r);
  free(r);
  vast_collector_free(c);
  cleanup();
}

/* Sends raw bytes, reads until the server closes; returns the response. */
static char *raw(int port, const char *bytes, size_t n) {
  int fd = dial(port);
  if (fd < 0) return NULL;
  send_all(fd, bytes, n);
  char *buf = malloc(1 << 16);
  last_len = read_all(fd, buf, 1 << 16);
  close(fd);
  return buf;
}

TEST(bad_input_answered_and_closed) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.max_request_line = 1024;
  o.max_header_bytes = 4096;
  vast_collector *c = start(&o);
  int port = vast_collector_port(c);
  char *big = malloc(20000);
  /* oversized request line */
  int n = snprintf(big, 20000, "GET /t/start?ad=%05000d HTTP/1.1\r\nHost: t\r\n\r\n", 0);
  char *r = raw(port, big, (size_t)n);
  CHECK(r && strstr(r, "HTTP/1.1 414 ") == r && strstr(r, "Connection: close"));
  free(r);
  /* oversized headers */
  n = snprintf(big, 20000, "GET /t/start?ad=1 HTTP/1.1\r\nHost: t\r\nX-Big: %08000d\r\n\r\n", 0);
  r = raw(port, big, (size_t)n);
  CHECK(r && strstr(r, "HTTP/1.1 431 ") == r);
  free(r);
  /* garbage (a TLS hello) */
  r = raw(port, "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 15);
  CHECK(r && strstr(r, "HTTP/1.1 400 ") == r);
  free(r);
  /* a real ClientHello (no newline in it, the client then waits): 400 at once,
     not 408 after the 10 s header timeout */
  {
    static const char hello[] = "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x5e\x9c\x2d";
    int fd = dial(port);
    CHECK(fd >= 0);
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    CHECK_INT(send_all(fd, hello, sizeof hello - 1), 0);
    char buf[512];
    last_len = read_all(fd, buf, sizeof buf);
    close(fd);
    CHECK(strstr(buf, "HTTP/1.1 400 ") == buf);
  }
  /* a method other than GET/HEAD/POST, with a body, is refused */
  r = raw(port, "PUT /t/start HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 46);
  CHECK(r && strstr(r, "HTTP/1.1 405 ") == r);
  free(r);
  /* pipelined good request before garbage still answered, in order */
  r = raw(port, "GET /t/start?ad=ok HTTP/1.1\r\n\r\nBLAH\r\n\r\n", 39);
  CHECK(r && strstr(r, "HTTP/1.1 200 ") == r && has(r, "HTTP/1.1 400 "));
  free(r);
  free(big);
  vast_collector_stats st;
  vast_collector_get_stats(c, &st);
  CHECK_INT(st.bad_requests, 6);
  CHECK_INT(st.stored, 1);
  r = get(port, "/healthz"); /* still serving */
  CHECK(r && strstr(r, "HTTP/1.1 200 ") == r);
  free(r);
  vast_collector_free(c);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits"), 1);
  cleanup();
}

TEST(slow_client_header_timeout) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.header_timeout_ms = 300;
  vast_collector *c = start(&o);
  int fd = dial(vast_collector_port(c));
  send_all(fd, "GET /t/start?ad=1 HTTP/1.1\r\nHost:", 33);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  char buf[1024];
  read_all(fd, buf, sizeof buf);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  close(fd);
  CHECK(strstr(buf, "HTTP/1.1 408 ") == buf);
  double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  CHECK(dt >= 0.25 && dt < 10);
  vast_collector_stats st;
  vast_collector_get_stats(c, &st);
  CHECK_INT(st.timeouts, 1);
  CHECK_INT(st.hits, 0);
  vast_collector_free(c);
  cleanup();
}

TEST(too_many_connections) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.max_conns = 2;
  o.threads = 1;
  vast_collector *c = start(&o);
  int port = vast_collector_port(c);
  int a = dial(port), b = dial(port);
  /* make sure both are accepted before the third arrives */
  int ok = 0;
  send_all(a, "GET /healthz HTTP/1.1\r\n\r\n", 25);
  send_all(b, "GET /healthz HTTP/1.1\r\n\r\n", 25);
  CHECK_INT(read_responses(a, 1, &ok) + read_responses(b, 1, &ok), 2);
  char *r = raw(port, "GET /healthz HTTP/1.1\r\n\r\n", 25);
  CHECK(r && strstr(r, "HTTP/1.1 503 ") == r);
  free(r);
  vast_collector_stats st;
  vast_collector_get_stats(c, &st);
  CHECK_INT(st.conns_rejected, 1);
  close(a);
  close(b);
  /* once they are gone a new connection is served */
  for (int i = 0; i < 200; i++) {
    vast_collector_get_stats(c, &st);
    if (st.conns_open == 0) break;
    usleep(10000);
  }
  r = get(port, "/healthz");
  CHECK(r && strstr(r, "HTTP/1.1 200 ") == r);
  free(r);
  vast_collector_free(c);
  cleanup();
}

TEST(stop_drains_open_connections) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  vast_collector *c = start(&o);
  int fd = dial(vast_collector_port(c));
  int ok = 0;
  send_all(fd, "GET /t/complete?ad=z HTTP/1.1\r\n\r\n", 33);
  CHECK_INT(read_responses(fd, 1, &ok), 1);
  vast_collector_stop(c);
  vast_collector_wait(c);
  /* the idle keep-alive connection was closed */
  char buf[64];
  ssize_t eof;
  while ((eof = recv(fd, buf, sizeof buf, 0)) < 0 && errno == EINTR) {
  }
  CHECK_INT(eof, 0);
  close(fd);
  vast_collector_free(c);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE event='complete'"), 1);
  cleanup();
}

/* ---- Kafka via the mock cluster ---- */

/* Every ?k=v property of a kafka:// sink reaches librdkafka, not only the first:
 * an unknown second property is refused by name. */
TEST(kafka_sink_every_property) {
  vast__kafka *k = NULL;
  char msg[256] = "";
  CHECK_INT(
      vast__kafka_open("kafka://127.0.0.1:1/t?linger.ms=5&no.such.property=1", &k, msg, sizeof msg),
      VAST_E_INVAL);
  CHECK(k == NULL);
  CHECK(strstr(msg, "no.such.property") != NULL);
  msg[0] = 0;
  CHECK_INT(vast__kafka_open("kafka://127.0.0.1:1/t?linger.ms=5&client.id=vt", &k, msg, sizeof msg),
            VAST_OK);
  vast__kafka_close(k);
}

TEST(kafka_sink_mock_cluster) {
  char errstr[256];
  rd_kafka_conf_t *mconf = rd_kafka_conf_new();
  rd_kafka_conf_set(mconf, "log_level", "0", errstr, sizeof errstr);
  rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, errstr, sizeof errstr);
  CHECK(mrk != NULL);
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 3);
  CHECK(mc != NULL);
  CHECK_INT(rd_kafka_mock_topic_create(mc, "beacons", 4, 3), 0);
  const char *boot = rd_kafka_mock_cluster_bootstraps(mc);

  char uri[512];
  snprintf(uri, sizeof uri, "kafka://%s/beacons?log_level=0", boot);
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.kafka = uri;
  vast_collector *c = start(&o);
  int port = vast_collector_port(c);
  enum { N = 60 };
  int fd = dial(port);
  char req[256];
  int ok = 0;
  for (int i = 0; i < N; i++) {
    snprintf(req, sizeof req, "GET /t/midpoint?ad=ad%d&sid=s%d HTTP/1.1\r\nHost: t\r\n\r\n", i % 3,
             i);
    send_all(fd, req, strlen(req));
  }
  CHECK_INT(read_responses(fd, N, &ok), N);
  CHECK_INT(ok, N); /* durable: every answer means the broker acknowledged */
  close(fd);
  vast_collector_free(c);

  /* Consume it all back. */
  rd_kafka_conf_t *cconf = rd_kafka_conf_new();
  rd_kafka_conf_set(cconf, "bootstrap.servers", boot, errstr, sizeof errstr);
  rd_kafka_conf_set(cconf, "group.id", "test", errstr, sizeof errstr);
  rd_kafka_conf_set(cconf, "auto.offset.reset", "earliest", errstr, sizeof errstr);
  rd_kafka_conf_set(cconf, "log_level", "0", errstr, sizeof errstr);
  rd_kafka_t *cons = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, errstr, sizeof errstr);
  CHECK(cons != NULL);
  rd_kafka_poll_set_consumer(cons);
  rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, "beacons", RD_KAFKA_PARTITION_UA);
  CHECK_INT(rd_kafka_subscribe(cons, topics), 0);
  rd_kafka_topic_partition_list_destroy(topics);
  int seen[N] = {0}, got = 0, key_ok = 1;
  int32_t part_of_ad[3] = {-1, -1, -1};
  for (int tries = 0; got < N && tries < 300; tries++) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 100);
    if (!m) continue;
    if (!m->err) {
      char val[1024];
      snprintf(val, sizeof val, "%.*s", (int)m->len, (const char *)m->payload);
      char *sid = strstr(val, "\"sid\":\"s");
      int i = sid ? atoi(sid + 8) : -1;
      if (i >= 0 && i < N && !seen[i]) {
        seen[i] = 1;
        got++;
        char want[8];
        snprintf(want, sizeof want, "ad%d", i % 3);
        if (m->key_len != strlen(want) || memcmp(m->key, want, m->key_len)) key_ok = 0;
        if (!strstr(val, "\"event\":\"midpoint\"")) key_ok = 0;
        /* key = ad id: one partition per ad */
        if (part_of_ad[i % 3] < 0)
          part_of_ad[i % 3] = m->partition;
        else if (part_of_ad[i % 3] != m->partition)
          key_ok = 0;
      }
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(cons);
  rd_kafka_destroy(cons);
  CHECK_INT(got, N);
  CHECK(key_ok);
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(mrk);
  cleanup();
}

TEST(kafka_bad_uri) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.kafka = "kafka://nohost";
  o.listen = "127.0.0.1:0";
  vast_collector *c = NULL;
  vast_error err;
  CHECK_INT(vast_collector_start(&o, &c, &err), VAST_E_INVAL);
  CHECK(c == NULL);
  CHECK(strstr(err.message, "kafka://") != NULL);
}

/* ---- the journal: format, recovery ---- */

TEST(crc32c_known_vector) {
  CHECK_INT(vast__crc32c(0, "123456789", 9), 0xe3069283u);
  /* incremental equals one-shot */
  CHECK_INT(vast__crc32c(vast__crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
  CHECK_INT(vast__crc32c(0, "", 0), 0);
}

static vast__hit *mkhit(const char *event, const char *ad, int i) {
  char sid[32];
  snprintf(sid, sizeof sid, "s%d", i);
  size_t ne = strlen(event) + 1, na = strlen(ad) + 1, ns = strlen(sid) + 1;
  vast__hit *h = calloc(1, sizeof *h + ne + na + ns);
  memcpy(h->data, event, ne);
  memcpy(h->data + ne, ad, na);
  memcpy(h->data + ne + na, sid, ns);
  h->event = h->data;
  h->ad = h->data + ne;
  h->sid = h->data + ne + na;
  h->code = i % 3 ? -1 : 400 + i;
  h->t_ms = 1700000000000LL + i;
  atomic_init(&h->refs, 1);
  return h;
}

static void mk_tmpdir(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/vt-journal-XXXXXX");
  CHECK(mkdtemp(tmpdir) != NULL);
  snprintf(dbpath, sizeof dbpath, "%s/hits.db", tmpdir);
}

/*
 * Writes n hits (ad `ad`, sids from first) to worker idx's journal as a
 * crashed run would leave it, one append each; ends[i] = file size after
 * hit i. When nload > 0 the first nload of them are also put into SQLite
 * with the journal state, as the loader would have just before the crash.
 */
static void write_journal(unsigned idx, uint64_t first_seq, const char *ad, int first, int n,
                          int nload, long *ends) {
  vast__store *s = NULL;
  char msg[256];
  CHECK_INT(vast__store_open(dbpath, 0, &s, msg, sizeof msg), VAST_OK);
  vast__journal *j = NULL;
  CHECK_INT(vast__journal_open(dbpath, idx, first_seq, 0, &j, msg, sizeof msg), VAST_OK);
  vast__hit **hits = calloc((size_t)n, sizeof *hits);
  char path[200];
  snprintf(path, sizeof path, "%s-journal-%u.0", dbpath, idx);
  for (int i = 0; i < n; i++) {
    hits[i] = mkhit(i % 2 ? "start" : "impression", ad, first + i);
    CHECK_INT(vast__journal_append(j, hits[i], 1, msg, sizeof msg), VAST_OK);
    CHECK_INT(hits[i]->seq, first_seq + (uint64_t)i);
    struct stat st;
    CHECK_INT(stat(path, &st), 0);
    if (ends) ends[i] = (long)st.st_size;
  }
  if (nload > 0) {
    vast__jseq js = {idx, hits[nload - 1]->seq};
    CHECK_INT(vast__store_write(s, hits, (size_t)nload, &js, 1, msg, sizeof msg), VAST_OK);
  }
  for (int i = 0; i < n; i++)
    free(hits[i]);
  free(hits);
  vast__journal_close(j, 0); /* crash: the files stay */
  vast__store_close(s);
}

/* Starts and stops a collector on dbpath (recovery runs in start). */
static void restart(unsigned threads, const char *extra_get) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.listen = "127.0.0.1:0";
  o.db_path = dbpath;
  o.threads = threads;
  vast_collector *c = NULL;
  vast_error err;
  vast_err e = vast_collector_start(&o, &c, &err);
  if (e) fprintf(stderr, "  start: %s\n", err.message);
  CHECK_INT(e, VAST_OK);
  if (extra_get) {
    char *r = get(vast_collector_port(c), extra_get);
    CHECK(r && strstr(r, "HTTP/1.1 200 ") == r);
    free(r);
  }
  vast_collector_free(c);
}

static int journal_files(void) {
  char cmd[200];
  snprintf(cmd, sizeof cmd, "ls '%s' | grep -c -- '-journal-'", tmpdir);
  FILE *p = popen(cmd, "r");
  int n = -1;
  if (p && fscanf(p, "%d", &n) != 1) n = -1;
  if (p) pclose(p);
  return n;
}

TEST(journal_recovery_torn_tail) {
  mk_tmpdir();
  long ends[5];
  write_journal(0, 1, "T", 0, 5, 0, ends);
  char path[200];
  snprintf(path, sizeof path, "%s-journal-0.0", dbpath);
  /* the last record was being written when the process died */
  CHECK_INT(truncate(path, ends[3] + (ends[4] - ends[3]) / 2), 0);
  restart(2, NULL);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ad='T'"), 4);
  CHECK_INT(db_count("SELECT SUM(n) FROM rollup WHERE ad='T'"), 4);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ad='T' AND sid='s1' AND event='start' "
                     "AND code IS NULL AND t_ms=1700000000001 AND ua IS NULL"),
            1);
  CHECK_INT(db_count("SELECT code FROM hits WHERE sid='s0'"), 400);
  CHECK_INT(db_count("SELECT seq FROM journal_state WHERE worker=0"), 4);
  CHECK_INT(journal_files(), 0); /* clean stop: nothing left */
  /* only a header's worth, and garbage: nothing loads, nothing crashes */
  write_journal(1, 1, "G", 0, 1, 0, ends);
  snprintf(path, sizeof path, "%s-journal-1.0", dbpath);
  CHECK_INT(truncate(path, 7), 0);
  snprintf(path, sizeof path, "%s-journal-1.1", dbpath);
  FILE *f = fopen(path, "w");
  fputs("\xff\xff\xff\x7fnot a journal at all", f);
  fclose(f);
  restart(1, NULL);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ad='G'"), 0);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits"), 4);
  cleanup();
}

TEST(journal_recovery_exactly_once) {
  mk_tmpdir();
  /* crash after the loader committed 10 of 13, before any truncation */
  write_journal(0, 1, "E", 0, 13, 10, NULL);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits"), 10);
  restart(1, NULL);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ad='E'"), 13);
  CHECK_INT(db_count("SELECT COUNT(DISTINCT sid) FROM hits WHERE ad='E'"), 13);
  CHECK_INT(db_count("SELECT SUM(n) FROM rollup WHERE ad='E'"), 13);
  CHECK_INT(db_count("SELECT seq FROM journal_state WHERE worker=0"), 13);
  /* a new hit continues the worker's seq; restarting again adds nothing */
  restart(1, "/t/complete?ad=E&sid=new");
  CHECK_INT(db_count("SELECT seq FROM journal_state WHERE worker=0"), 14);
  restart(1, NULL);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ad='E'"), 14);
  /* the crash happened after everything was loaded: nothing twice */
  write_journal(0, 15, "F", 0, 6, 6, NULL);
  restart(1, NULL);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ad='F'"), 6);
  cleanup();
}

TEST(journal_recovery_other_worker_count) {
  mk_tmpdir();
  /* a run with 4 workers crashed; the next one has 1 */
  for (unsigned w = 0; w < 4; w++) {
    char ad[8];
    snprintf(ad, sizeof ad, "W%u", w);
    write_journal(w, 1, ad, 0, 5, 0, NULL);
  }
  restart(1, "/t/impression?ad=W0&sid=after");
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits"), 21);
  for (unsigned w = 0; w < 4; w++) {
    char sql[120];
    snprintf(sql, sizeof sql, "SELECT seq FROM journal_state WHERE worker=%u", w);
    CHECK_INT(db_count(sql), w == 0 ? 6 : 5);
  }
  CHECK_INT(journal_files(), 0);
  cleanup();
}

TEST(journal_recovery_bad_checksum_stops) {
  mk_tmpdir();
  long ends[5];
  write_journal(0, 1, "C", 0, 5, 0, ends);
  char path[200];
  snprintf(path, sizeof path, "%s-journal-0.0", dbpath);
  /* flip one byte inside the third record's strings */
  FILE *f = fopen(path, "r+b");
  CHECK(f != NULL);
  fseek(f, ends[2] - 2, SEEK_SET);
  int ch = fgetc(f);
  fseek(f, ends[2] - 2, SEEK_SET);
  fputc(ch ^ 0x20, f);
  fclose(f);
  restart(1, NULL);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ad='C'"), 2);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE sid='s2'"), 0);
  cleanup();
}

/* Two files per worker, switched past vast__journal_rotate_bytes: exact counts. */
TEST(journal_rotation_exact_counts) {
  size_t saved = vast__journal_rotate_bytes;
  vast__journal_rotate_bytes = 8192;
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.threads = 2;
  int ok = 0;
  run_load(&o, &ok);
  vast__journal_rotate_bytes = saved;
  CHECK_INT(ok, LOAD_THREADS * LOAD_REQS);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits"), LOAD_THREADS * LOAD_REQS);
  CHECK_INT(db_count("SELECT COUNT(DISTINCT ad || '/' || sid) FROM hits"),
            LOAD_THREADS * LOAD_REQS);
  cleanup();
}

/*
 * kill -9 right after the last answer, with files switched every 8 KiB: the
 * restart replays the journals and every answered hit is there, once.
 */
TEST(journal_crash_with_rotation_loses_nothing) {
  mk_tmpdir();
  int pfd[2];
  CHECK_INT(pipe(pfd), 0);
  pid_t pid = fork();
  if (pid == 0) {
    vast__journal_rotate_bytes = 8192;
    vast_collector_opts o;
    vast_collector_opts_init(&o);
    o.listen = "127.0.0.1:0";
    o.db_path = dbpath;
    o.threads = 2;
    vast_collector *c = NULL;
    int port = vast_collector_start(&o, &c, NULL) == VAST_OK ? vast_collector_port(c) : 0;
    if (write(pfd[1], &port, sizeof port) != sizeof port) _exit(1);
    for (;;)
      pause();
  }
  int port = 0;
  CHECK_INT(read(pfd[0], &port, sizeof port), (long)sizeof port);
  CHECK(port > 0);
  pthread_t t[LOAD_THREADS];
  load l[LOAD_THREADS];
  for (int i = 0; i < LOAD_THREADS; i++) {
    l[i] = (load){port, i, 0, 0};
    pthread_create(&t[i], NULL, load_main, &l[i]);
  }
  int ok = 0;
  for (int i = 0; i < LOAD_THREADS; i++) {
    pthread_join(t[i], NULL);
    ok += l[i].ok;
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  close(pfd[0]);
  close(pfd[1]);
  CHECK_INT(ok, LOAD_THREADS * LOAD_REQS);
  restart(1, NULL);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits"), LOAD_THREADS * LOAD_REQS);
  CHECK_INT(db_count("SELECT COUNT(DISTINCT ad || '/' || sid) FROM hits"),
            LOAD_THREADS * LOAD_REQS);
  CHECK_INT(db_count("SELECT SUM(n) FROM rollup"), LOAD_THREADS * LOAD_REQS);
  cleanup();
}

TEST(journal_lock_one_collector_per_db) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  vast_collector *c = start(&o);
  vast_collector_opts o2;
  vast_collector_opts_init(&o2);
  o2.listen = "127.0.0.1:0";
  o2.db_path = dbpath;
  vast_collector *c2 = NULL;
  vast_error err;
  CHECK_INT(vast_collector_start(&o2, &c2, &err), VAST_E_IO);
  CHECK(c2 == NULL);
  CHECK(strstr(err.message, "in use by another collector") != NULL);
  vast_collector_free(c);
  cleanup();
}

/* Open file descriptors of this process. */
static int count_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  while (readdir(d))
    n++;
  closedir(d);
  return n;
}

/* A port no one listens on (bound once, then closed). */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t l = sizeof a;
  CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
  CHECK(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

/* 1 when a socket without SO_REUSEPORT can listen on port: nobody else does. */
static int port_free(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 1) == 0;
  close(fd);
  return ok;
}

/*
 * A thread that cannot start (the writer, the first or the second event loop;
 * both socket backends): vast_collector_start fails with a message, and
 * leaves no listener bound, no descriptor open and no journal file behind;
 * the next start on the same port and database works.
 */
TEST(thread_start_failure_is_clean) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/vt-collect-XXXXXX");
  CHECK(mkdtemp(tmpdir) != NULL);
  snprintf(dbpath, sizeof dbpath, "%s/hits.db", tmpdir);
  static const vast_io ios[] = {VAST_IO_AUTO, VAST_IO_EPOLL};
  /* libuv opens a pipe for the whole process with the first loop: not counted */
  uv_loop_t once;
  uv_loop_init(&once);
  uv_loop_close(&once);
  for (size_t b = 0; b < 2; b++)
    for (int nth = 1; nth <= 3; nth++) {
      int port = free_port(), fds = count_fds();
      char listen[32];
      snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
      vast_collector_opts o;
      vast_collector_opts_init(&o);
      o.listen = listen;
      o.db_path = dbpath;
      o.threads = 2;
      o.io = ios[b];
      o.web = 1;
      vast_collector *c = (vast_collector *)1;
      vast_error err;
      vast__collect_fail_thread = nth;
      vast_err e = vast_collector_start(&o, &c, &err);
      vast__collect_fail_thread = 0;
      CHECK_INT(e, VAST_E_NOMEM);
      CHECK(c == NULL);
      CHECK(strstr(err.message, nth == 1 ? "cannot start the writer thread"
                                         : "cannot start event-loop thread") != NULL);
      CHECK(port_free(port));
      CHECK_INT(count_fds(), fds);
      char j[200];
      snprintf(j, sizeof j, "%s-journal-0.0", dbpath);
      CHECK(access(j, F_OK) != 0);
      /* the same port and database again, every thread starting */
      CHECK_INT(vast_collector_start(&o, &c, &err), VAST_OK);
      char *r = get(port, "/t/impression?ad=again");
      CHECK(has(r, "HTTP/1.1 200 OK"));
      free(r);
      vast_collector_free(c);
    }
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ad='again'"), 6);
  cleanup();
}

/*
 * Out of descriptors at every step of a start (the database, the journals,
 * the listeners, the loops, the rings; three loops): each start either works
 * or fails with a message, leaving no descriptor open and nothing listening
 * (before, a start that failed at the second loop left the first one's loop,
 * ring and listener behind).
 */
TEST(start_failure_at_every_descriptor_limit_is_clean) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/vt-collect-XXXXXX");
  CHECK(mkdtemp(tmpdir) != NULL);
  snprintf(dbpath, sizeof dbpath, "%s/hits.db", tmpdir);
  uv_loop_t once; /* libuv's process-wide pipe, opened with the first loop */
  uv_loop_init(&once);
  uv_loop_close(&once);
  static const vast_io ios[] = {VAST_IO_AUTO, VAST_IO_EPOLL};
  struct rlimit old;
  CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
  int failed = 0, worked = 0;
  for (size_t b = 0; b < 2; b++)
    for (int extra = 0; extra < 32; extra++) {
      int port = free_port(), fds = count_fds();
      char listen[32];
      snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
      vast_collector_opts o;
      vast_collector_opts_init(&o);
      o.listen = listen;
      o.db_path = dbpath;
      o.threads = 3;
      o.io = ios[b];
      vast_collector *c = NULL;
      vast_error err = {0};
      struct rlimit lim = old;
      lim.rlim_cur = (rlim_t)(fds + 1 + extra); /* count_fds saw its own directory */
      CHECK(setrlimit(RLIMIT_NOFILE, &lim) == 0);
      vast_err e = vast_collector_start(&o, &c, &err);
      CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
      if (e == VAST_OK) {
        worked++;
        vast_collector_free(c);
      } else {
        failed++;
        CHECK(c == NULL);
        CHECK(err.message[0] != 0);
      }
      CHECK(port_free(port));
      /* libuv 1.44 leaves its epoll descriptor open when uv_loop_init fails
         (seen here: anon_inode:[eventpoll]); everything of ours is closed */
      int uvleak = e != VAST_OK && strstr(err.message, "cannot start an event loop:") != NULL;
      CHECK(count_fds() == fds || (uvleak && count_fds() == fds + 1));
    }
  CHECK(failed > 4 && worked > 4); /* the limits spanned the start */
  cleanup();
}

/*
 * A second collector on a port another one listens on: refused with "Address
 * already in use", not let in by SO_REUSEPORT to split the traffic between
 * two databases; the first goes on answering and storing.
 */
TEST(port_in_use_refused) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.threads = 2;
  vast_collector *c = start(&o);
  int port = vast_collector_port(c);
  char listen[32], other[160];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
  snprintf(other, sizeof other, "%s/other.db", tmpdir);
  static const vast_io ios[] = {VAST_IO_AUTO, VAST_IO_EPOLL};
  for (size_t b = 0; b < 2; b++) {
    vast_collector_opts o2;
    vast_collector_opts_init(&o2);
    o2.listen = listen;
    o2.db_path = other;
    o2.io = ios[b];
    vast_collector *c2 = NULL;
    vast_error err;
    CHECK_INT(vast_collector_start(&o2, &c2, &err), VAST_E_IO);
    CHECK(c2 == NULL);
    CHECK(strstr(err.message, "Address already in use") != NULL);
    CHECK(strstr(err.message, listen) != NULL);
  }
  for (int i = 0; i < 20; i++) { /* both of the first one's loops */
    char *r = get(port, "/t/impression?ad=first");
    CHECK(has(r, "HTTP/1.1 200 OK"));
    free(r);
  }
  vast_collector_free(c);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ad='first'"), 20);
  cleanup();
}

/* ---- a site served from route tables (collect-int.h) ---- */

static void rt_hello(const vast__route_req *rq, vast__route_ans *a) {
  a->status = 200;
  a->ctype = "text/plain";
  a->body = "hi\n";
  a->len = 3;
}

static int rt_echo_match(const char *p, size_t n) {
  return n == 8 && !memcmp(p, "/echo/ok", 8);
}

static const char *rt_echo_admit(const vast__route_req *rq) {
  return rq->cn == 11 && !memcmp(rq->ctype, "text/x-test", 11) ? NULL : "wrong type\n";
}

/* On the pool: the body back, with the query and Host, all NUL-terminated. */
static void rt_echo(const vast__route_req *rq, vast__route_ans *a) {
  a->status = 201;
  a->ctype = "text/plain";
  a->owned = malloc(rq->bn + rq->qn + rq->hn + 3);
  a->len = (size_t)sprintf(a->owned, "%s|%s|%s", rq->body, rq->query, rq->host);
  a->body = a->owned;
}

/* A record: answered once the hit /t/served?sid=s1&kind=test is stored. */
static void rt_record(const vast__route_req *rq, vast__route_ans *a) {
  a->status = 200;
  a->ctype = "application/xml";
  a->body = "<VAST/>";
  a->len = 7;
  snprintf(a->event, sizeof a->event, "served");
  a->hitq = strdup("sid=s1&kind=test");
  a->hqn = strlen(a->hitq);
}

static const vast__route RT_A[] = {
    {"GET", "/hello", 0, NULL, NULL, NULL, rt_hello},
    {"POST", "/echo/", VAST__ROUTE_PREFIX | VAST__ROUTE_BODY | VAST__ROUTE_POOL, rt_echo_match,
     rt_echo_admit, NULL, rt_echo},
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
static const vast__route RT_B[] = {
    {"GET", "/hello", 0, NULL, NULL, NULL, rt_record}, /* the first table wins */
    {"GET", "/rec", 0, NULL, NULL, NULL, rt_record},
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
static const vast__route *const RT_TABLES[] = {RT_A, RT_B, NULL};
static const vast__site RT_SITE = {.tables = RT_TABLES, .headers = "X-Site: 1\r\n"};

/*
 * The collector serves what its route tables say, and nothing of them
 * without vast_collector_opts.web: a route on the loop, one on the thread
 * pool with a body (admitted, matched, copied), 405 and 404 around them with
 * the site's headers, tables in order, and a route whose answer waits for
 * its record to be stored.
 */
TEST(site_routes_from_tables) {
  for (int web = 1; web >= 0; web--) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vt-collect-XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    snprintf(dbpath, sizeof dbpath, "%s/hits.db", tmpdir);
    vast_collector_opts o;
    vast_collector_opts_init(&o);
    o.listen = "127.0.0.1:0";
    o.db_path = dbpath;
    o.web = web;
    o.io = test_io;
    vast_collector *c = NULL;
    vast_error err;
    CHECK_INT(vast__collector_start(&o, &RT_SITE, &c, &err), VAST_OK);
    int port = vast_collector_port(c);
    char *r = get(port, "/hello");
    CHECK(web ? has(r, "HTTP/1.1 200 ") && has(r, "\r\n\r\nhi\n") && has(r, "X-Site: 1\r\n")
              : has(r, "HTTP/1.1 404 ") && !has(r, "X-Site"));
    free(r);
    r = get(port, "/echo/ok");
    CHECK(has(r, web ? "HTTP/1.1 405 " : "HTTP/1.1 404 "));
    CHECK(!web || has(r, "use POST"));
    free(r);
    r = get(port, "/nothing");
    CHECK(has(r, "HTTP/1.1 404 ") && (web ? has(r, "X-Site: 1") : !has(r, "X-Site")));
    free(r);
    static const char post[] = "POST /echo/ok?q=1 HTTP/1.1\r\nHost: h:9\r\n"
                               "Content-Type: text/x-test\r\nContent-Length: 3\r\n"
                               "Connection: close\r\n\r\nabc";
    r = raw(port, post, sizeof post - 1);
    CHECK(web ? has(r, "HTTP/1.1 201 ") && has(r, "\r\n\r\nabc|q=1|h:9") && has(r, "X-Site: 1")
              : has(r, "HTTP/1.1 405 "));
    free(r);
    static const char refused[] = "POST /echo/ok HTTP/1.1\r\nHost: h\r\n"
                                  "Content-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc";
    r = raw(port, refused, sizeof refused - 1);
    CHECK(has(r, web ? "HTTP/1.1 415 " : "HTTP/1.1 405 "));
    CHECK(!web || (has(r, "wrong type") && has(r, "Connection: close")));
    free(r);
    static const char nope[] = "POST /echo/nope HTTP/1.1\r\nHost: h\r\nContent-Type: "
                               "text/x-test\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc";
    r = raw(port, nope, sizeof nope - 1);
    CHECK(has(r, web ? "HTTP/1.1 404 " : "HTTP/1.1 405 "));
    free(r);
    r = get(port, "/rec");
    CHECK(web ? has(r, "HTTP/1.1 200 ") && has(r, "<VAST/>") && has(r, "X-Site: 1")
              : has(r, "HTTP/1.1 404 "));
    free(r);
    vast_collector_free(c);
    CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE event='served' AND sid='s1' AND "
                       "query='sid=s1&kind=test'"),
              web);
    cleanup();
  }
}

/* ---- report ---- */

static int sink(void *ctx, const char *d, size_t n) {
  FILE *f = ctx;
  return fwrite(d, 1, n, f) == n ? 0 : -1;
}

TEST(report_funnel_and_fired_discrepancy) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  vast_collector *c = start(&o);
  int port = vast_collector_port(c);
  const char *paths[] = {"/t/impression?ad=X",    "/t/impression?ad=X", "/t/start?ad=X",
                         "/t/firstQuartile?ad=X", "/t/pause?ad=X",      "/t/error?ad=X&code=402",
                         "/t/impression?ad=Y"};
  for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
    free(get(port, paths[i]));
  vast_collector_free(c);

  char logp[160];
  snprintf(logp, sizeof logp, "%s/fired.jsonl", tmpdir);
  FILE *f = fopen(logp, "w");
  fprintf(f,
          "{\"t\":0,\"event\":\"impression\",\"url\":\"http://127.0.0.1:%d/t/impression?ad=X\","
          "\"status\":200,\"latency_ms\":1.5,\"error\":null}\n",
          port);
  fprintf(f,
          "{\"t\":0,\"event\":\"impression\",\"url\":\"http://127.0.0.1:%d/t/impression?ad=X\","
          "\"status\":200,\"latency_ms\":1,\"error\":null}\n",
          port);
  fprintf(f,
          "{\"t\":0.1,\"event\":\"start\",\"url\":\"http://127.0.0.1:%d/t/start?ad=X\","
          "\"status\":0,\"latency_ms\":0,\"error\":\"timeout\"}\n",
          port);
  fprintf(f,
          "{\"t\":0.1,\"event\":\"start\",\"url\":\"http://127.0.0.1:%d/t/start?ad=X&x=\\\"q\\\"\","
          "\"status\":200,\"latency_ms\":2,\"error\":null}\n",
          port);
  fprintf(f, "{\"t\":0.2,\"event\":\"start\",\"url\":\"http://other.example/pixel?ad=X\","
             "\"status\":200}\n");
  fprintf(f, "not json\n");
  fclose(f);

  vast_report *r = NULL;
  CHECK_INT(vast_report_load(dbpath, 0, &r, NULL), VAST_OK);
  size_t used = 0;
  CHECK_INT(vast_report_add_fired(r, logp, &used, NULL), VAST_OK);
  CHECK_INT(used, 4);
  uint64_t counted, fired, answered;
  CHECK_INT(vast_report_count(r, "X", "impression", &counted, &fired, &answered), VAST_OK);
  CHECK_INT(counted, 2);
  CHECK_INT(fired, 2);
  CHECK_INT(answered, 2);
  CHECK_INT(vast_report_count(r, "X", "start", &counted, &fired, &answered), VAST_OK);
  CHECK_INT(counted, 1);
  CHECK_INT(fired, 2);
  CHECK_INT(answered, 1);
  CHECK_INT(vast_report_count(r, "X", "error:402", &counted, NULL, NULL), VAST_OK);
  CHECK_INT(counted, 1);
  CHECK_INT(vast_report_count(r, "X", "complete", NULL, NULL, NULL), VAST_E_NOT_FOUND);

  char outp[160];
  snprintf(outp, sizeof outp, "%s/report.json", tmpdir);
  f = fopen(outp, "w");
  CHECK_INT(vast_report_write(r, VAST_REPORT_JSON, sink, f), VAST_OK);
  fclose(f);
  char *json = th_slurp(outp, NULL);
  CHECK(strstr(json, "{\"ad\":\"X\",\"impressions\":2,") != NULL);
  CHECK(strstr(json,
               "{\"event\":\"start\",\"code\":null,\"funnel\":true,\"counted\":1,\"rate\":0.5000,"
               "\"fired\":2,\"answered\":1,\"diff\":-1}") != NULL);
  CHECK(strstr(json, "{\"event\":\"error\",\"code\":402,\"funnel\":false,\"counted\":1") != NULL);
  CHECK(strstr(json, "{\"event\":\"pause\",\"code\":null,\"funnel\":false,\"counted\":1") != NULL);
  free(json);
  f = fopen(outp, "w");
  CHECK_INT(vast_report_write(r, VAST_REPORT_CSV, sink, f), VAST_OK);
  fclose(f);
  char *csv = th_slurp(outp, NULL);
  CHECK(strstr(csv, "ad,event,counted,fired,answered,diff,rate\n") == csv);
  CHECK(strstr(csv, "\nX,impression,2,2,2,0,1.0000\n") != NULL);
  CHECK(strstr(csv, "\nY,impression,1,0,0,1,1.0000\n") != NULL);
  free(csv);
  vast_report_free(r);

  /* --since in the future: nothing */
  CHECK_INT(vast_report_load(dbpath, (int64_t)time(NULL) * 1000 + 3600000, &r, NULL), VAST_OK);
  CHECK_INT(vast_report_count(r, "X", "impression", NULL, NULL, NULL), VAST_E_NOT_FOUND);
  vast_report_free(r);
  /* not a collector database */
  vast_error err;
  CHECK_INT(vast_report_load(logp, 0, &r, &err), VAST_E_DB);
  CHECK(r == NULL);
  cleanup();
}

/*
 * POST /api/validate with its body arriving in pieces, then a GET pipelined
 * behind it: answered in order on one connection; an oversized body is 413.
 */
TEST(web_post_body_in_pieces) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.web = 1;
  o.max_body = 4096;
  vast_collector *c = start(&o);
  int port = vast_collector_port(c);
  static const char doc[] =
      "<VAST version=\"4.2\"><Ad id=\"a\"><InLine><AdSystem>x</AdSystem><AdTitle>t</AdTitle>"
      "<Impression>https://i.example/i</Impression><Creatives></Creatives></InLine></Ad></VAST>";
  char head[256];
  int hn = snprintf(
      head, sizeof head,
      "POST /api/validate?profile=ctv HTTP/1.1\r\nHost: t\r\nContent-Type: application/xml\r\n"
      "Content-Length: %zu\r\n\r\n",
      sizeof doc - 1);
  int fd = dial(port);
  CHECK(fd >= 0);
  size_t half = (sizeof doc - 1) / 2;
  struct timespec pause = {0, 50 * 1000 * 1000};
  send_all(fd, head, (size_t)hn);
  nanosleep(&pause, NULL); /* separate segments: head, half the body, the rest */
  send_all(fd, doc, half);
  nanosleep(&pause, NULL);
  send_all(fd, doc + half, sizeof doc - 1 - half);
  static const char get[] = "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n";
  send_all(fd, get, sizeof get - 1);
  char *buf = malloc(1 << 16);
  read_all(fd, buf, 1 << 16);
  close(fd);
  CHECK(strstr(buf, "HTTP/1.1 200 ") == buf);
  CHECK(strstr(buf, "Content-Type: application/json") != NULL);
  char *json = strstr(buf, "{\"ok\":true,\"parsed\":true,\"profile\":\"ctv\"");
  char *second = strstr(buf, "\r\n\r\nok\n");
  CHECK(json != NULL && second != NULL && second > json);
  /* over the limit: 413 and closed, the body never read */
  char big[512];
  int bn = snprintf(big, sizeof big,
                    "POST /api/inspect HTTP/1.1\r\nContent-Type: text/xml\r\n"
                    "Content-Length: 5000\r\n\r\nxx");
  char *r = raw(port, big, (size_t)bn);
  CHECK(r && strstr(r, "HTTP/1.1 413 ") == r && has(r, "Connection: close"));
  free(r);
  free(buf);
  vast_collector_free(c);
  cleanup();
}

/*
 * 200 requests pipelined in one send with max_pipeline 4: reading pauses and
 * resumes many times (io_uring: the multishot receive is cancelled and armed
 * again); every request is answered, in order, and stored.
 */
TEST(pipeline_past_the_limit) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.threads = 1;
  o.max_pipeline = 4;
  vast_collector *c = start(&o);
  int fd = dial(vast_collector_port(c));
  CHECK(fd >= 0);
  enum { N = 200 };
  static char req[N * 96];
  size_t n = 0;
  for (int i = 0; i < N; i++)
    n += (size_t)snprintf(req + n, sizeof req - n,
                          "GET /t/start?ad=p&sid=%d%s HTTP/1.1\r\nHost: t\r\n\r\n", i,
                          i % 3 ? "" : "&r=204");
  CHECK_INT(send_all(fd, req, n), 0);
  int ok = 0;
  CHECK_INT(read_responses(fd, N, &ok), N);
  CHECK_INT(ok, N);
  /* one more on the same connection after all that */
  const char *one = "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  CHECK_INT(send_all(fd, one, strlen(one)), 0);
  char buf[512];
  last_len = read_all(fd, buf, sizeof buf);
  CHECK(has(buf, "200 OK") && has(buf, "ok"));
  close(fd);
  vast_collector_free(c);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ad='p'"), N);
  CHECK_INT(db_count("SELECT COUNT(DISTINCT sid) FROM hits WHERE ad='p'"), N);
  cleanup();
}

/* POST /t/<event> (navigator.sendBeacon): the body arrives in two pieces and
   is dropped; a GET pipelined behind it is answered too; chunked and
   oversized beacon bodies are refused. */
TEST(beacon_post) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.threads = 1;
  vast_collector *c = start(&o);
  int port = vast_collector_port(c);
  int fd = dial(port);
  CHECK(fd >= 0);
  const char *p1 = "POST /t/complete?ad=bp&sid=1 HTTP/1.1\r\nHost: t\r\n"
                   "Content-Type: text/plain\r\nContent-Length: 10\r\n\r\n01234";
  const char *p2 = "56789GET /t/start?ad=bp&sid=1&r=204 HTTP/1.1\r\nHost: t\r\n\r\n";
  CHECK_INT(send_all(fd, p1, strlen(p1)), 0);
  usleep(50000);
  CHECK_INT(send_all(fd, p2, strlen(p2)), 0);
  int ok = 0;
  CHECK_INT(read_responses(fd, 2, &ok), 2);
  CHECK_INT(ok, 2);
  close(fd);
  char *r = NULL;
  fd = dial(port);
  CHECK(fd >= 0);
  const char *chunked = "POST /t/start?ad=bp HTTP/1.1\r\nHost: t\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n";
  CHECK_INT(send_all(fd, chunked, strlen(chunked)), 0);
  r = malloc(4096);
  last_len = read_all(fd, r, 4096);
  CHECK(has(r, "411 "));
  close(fd);
  fd = dial(port);
  CHECK(fd >= 0);
  const char *big = "POST /t/start?ad=bp HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n";
  CHECK_INT(send_all(fd, big, strlen(big)), 0);
  last_len = read_all(fd, r, 4096);
  CHECK(has(r, "413 "));
  close(fd);
  free(r);
  vast_collector_free(c);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ad='bp'"), 2);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ad='bp' AND event='complete'"), 1);
  cleanup();
}

/*
 * Bodies being waited for are capped over all connections (64 MiB here, with
 * max_body 4 MiB): 15 uploads that announce 4 MiB (plus their heads) and send
 * nothing more hold nearly all of it, the 16th is answered 503 at once; when
 * one of the 15 goes away its share is free again.
 */
TEST(body_budget) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.threads = 1;
  o.web = 1;
  o.max_body = 4u << 20;
  vast_collector *c = start(&o);
  int port = vast_collector_port(c);
  char head[160];
  int hn = snprintf(head, sizeof head,
                    "POST /api/validate HTTP/1.1\r\nHost: t\r\n"
                    "X-Vastrack-Client: test\r\n"
                    "Content-Length: %u\r\n\r\n<VAST",
                    4u << 20);
  enum { N = 16 };
  int fds[N];
  for (int i = 0; i < N; i++) {
    fds[i] = dial(port);
    CHECK(fds[i] >= 0);
    CHECK_INT(send_all(fds[i], head, (size_t)hn), 0);
    if (i == N - 2) usleep(100000); /* the first 15 are in before the last */
  }
  char buf[512];
  struct timeval tv = {5, 0};
  setsockopt(fds[N - 1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  last_len = read_all(fds[N - 1], buf, sizeof buf);
  CHECK(has(buf, "503 ") && has(buf, "busy"));
  /* the others are still waiting for their bodies: nothing to read */
  struct pollfd pf[N - 1];
  for (int i = 0; i < N - 1; i++)
    pf[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
  CHECK_INT(poll_nointr(pf, N - 1, 200), 0);
  close(fds[0]);
  close(fds[N - 1]);
  usleep(100000);
  int fd = dial(port);
  CHECK(fd >= 0);
  CHECK_INT(send_all(fd, head, (size_t)hn), 0);
  struct pollfd one = {.fd = fd, .events = POLLIN};
  CHECK_INT(poll_nointr(&one, 1, 300), 0); /* accepted: waiting for its body */
  close(fd);
  for (int i = 1; i < N - 1; i++)
    close(fds[i]);
  vast_collector_free(c);
  cleanup();
}

/* CPU seconds (utime + stime) used so far by process pid. */
static double cpu_seconds(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  unsigned long ut = 0, st = 0;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
    return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/*
 * Out of file descriptors (EMFILE): a collector in a child process with a low
 * RLIMIT_NOFILE gets 60 connections. It answers what it can accept and does
 * not spin; every other connection is either answered later or closed
 * (libuv's epoll loop drops what it cannot accept; io_uring leaves it in the
 * backlog until descriptors are free), none hangs; once the clients hang up,
 * a new connection is answered.
 */
TEST(out_of_descriptors) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/vt-collect-XXXXXX");
  CHECK(mkdtemp(tmpdir) != NULL);
  snprintf(dbpath, sizeof dbpath, "%s/hits.db", tmpdir);
  int pfd[2];
  CHECK_INT(pipe(pfd), 0);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed check must not leave it behind */
    close(pfd[0]);
    /* The collector's own descriptors (database, rings, loop, pipes) take
       about 20; this leaves room for about 20 connections. */
    int open_fds = 0;
    for (int fd = 0; fd < 4096; fd++)
      open_fds += fcntl(fd, F_GETFD) != -1;
    struct rlimit rl = {(rlim_t)open_fds + 40, (rlim_t)open_fds + 40};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(4);
    vast_collector_opts o;
    vast_collector_opts_init(&o);
    o.threads = 1;
    o.listen = "127.0.0.1:0";
    o.db_path = dbpath;
    o.io = test_io;
    vast_collector *c = NULL;
    vast_error err;
    if (vast_collector_start(&o, &c, &err) != VAST_OK) _exit(3);
    int port = vast_collector_port(c);
    if (write(pfd[1], &port, sizeof port) != sizeof port) _exit(5);
    for (;;)
      pause();
  }
  close(pfd[1]);
  int port = 0;
  CHECK_INT(read(pfd[0], &port, sizeof port), (int)sizeof port);
  close(pfd[0]);
  enum { N = 60 };
  int fds[N], state[N] = {0}, nans = 0, ndone = 0; /* state: 1 answered, 2 closed */
  const char *req = "GET /t/impression?ad=emfile HTTP/1.1\r\nHost: t\r\n\r\n";
  for (int i = 0; i < N; i++) {
    fds[i] = dial(port);
    CHECK(fds[i] >= 0);
    CHECK_INT(send_all(fds[i], req, strlen(req)), 0);
  }
  /* COLLECT(ms): reads the answers (or EOFs) that arrive within ms */
#define COLLECT(ms)                                                                                \
  do {                                                                                             \
    struct pollfd pf[N];                                                                           \
    for (int i = 0; i < N; i++)                                                                    \
      pf[i] = (struct pollfd){.fd = state[i] ? -1 : fds[i], .events = POLLIN};                     \
    struct timespec t0_, t1_;                                                                      \
    clock_gettime(CLOCK_MONOTONIC, &t0_);                                                          \
    for (;;) {                                                                                     \
      clock_gettime(CLOCK_MONOTONIC, &t1_);                                                        \
      long el_ = (t1_.tv_sec - t0_.tv_sec) * 1000 + (t1_.tv_nsec - t0_.tv_nsec) / 1000000;         \
      if (ndone == N || el_ >= (ms)) break;                                                        \
      if (poll(pf, N, 50) <= 0) continue;                                                          \
      for (int i = 0; i < N; i++)                                                                  \
        if (pf[i].revents) {                                                                       \
          int ok = 0;                                                                              \
          state[i] = read_responses(fds[i], 1, &ok) == 1 && ok ? 1 : 2;                            \
          nans += state[i] == 1;                                                                   \
          ndone++;                                                                                 \
          pf[i].fd = -1;                                                                           \
        }                                                                                          \
    }                                                                                              \
  } while (0)
  COLLECT(1500);
  if (nans == 0 || nans == N) fprintf(stderr, "  answered %d of %d at first\n", nans, N);
  CHECK(nans > 0 && nans < N);
  /* while the rest wait, the server idles (no accept loop spinning) */
  double c0 = cpu_seconds(pid);
  usleep(1000000);
  double c1 = cpu_seconds(pid);
  CHECK(c0 >= 0 && c1 - c0 < 0.5);
  /* the clients that were answered hang up; then every other one is answered
     or closed by the server */
  for (int round = 0; round < 8 && ndone < N; round++) {
    for (int i = 0; i < N; i++)
      if (state[i] && fds[i] >= 0) close(fds[i]), fds[i] = -1;
    COLLECT(1000);
  }
#undef COLLECT
  CHECK_INT(ndone, N);
  for (int i = 0; i < N; i++)
    if (fds[i] >= 0) close(fds[i]);
  usleep(300000); /* a sweep of the accept retry */
  int fd = dial(port);
  CHECK(fd >= 0);
  CHECK_INT(send_all(fd, req, strlen(req)), 0);
  int ok = 0;
  CHECK_INT(read_responses(fd, 1, &ok), 1);
  CHECK_INT(ok, 1);
  close(fd);
  kill(pid, SIGKILL);
  int st = 0;
  waitpid(pid, &st, 0);
  cleanup();
}

/* report --map: fired URLs that name the ad with an operator parameter. */
TEST(report_map_fired) {
  char path[] = "/tmp/vt-fired-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  const char *log =
      "{\"event\":\"impression\",\"url\":\"http://c/t/impression?adid=7&cr=1\",\"status\":200}\n"
      "{\"event\":\"start\",\"url\":\"http://c/t/start?x=1&adid=7\",\"status\":500}\n"
      "{\"event\":\"start\",\"url\":\"http://c/t/start?ad=8\",\"status\":204}\n"
      "{\"event\":\"start\",\"url\":\"http://c/t/start?campaign=9\",\"status\":204}\n";
  CHECK(write(fd, log, strlen(log)) == (ssize_t)strlen(log));
  close(fd);
  vast_report *r = NULL;
  vast_error err;
  CHECK_INT(vast_report_new(&r), VAST_OK);
  CHECK_INT(vast_report_set_map(r, "adid=ad,x", &err), VAST_E_INVAL);
  CHECK_INT(vast_report_set_map(r, "adid=ad,err=code", &err), VAST_OK);
  size_t used = 0;
  CHECK_INT(vast_report_add_fired(r, path, &used, &err), VAST_OK);
  CHECK_INT(used, 3); /* campaign= names no ad */
  uint64_t counted = 9, fired = 0, answered = 0;
  CHECK_INT(vast_report_count(r, "7", "impression", &counted, &fired, &answered), VAST_OK);
  CHECK_INT(counted, 0);
  CHECK_INT(fired, 1);
  CHECK_INT(answered, 1);
  CHECK_INT(vast_report_count(r, "7", "start", NULL, &fired, &answered), VAST_OK);
  CHECK_INT(fired, 1);
  CHECK_INT(answered, 0);
  CHECK_INT(vast_report_count(r, "8", "start", NULL, &fired, NULL), VAST_OK);
  CHECK_INT(fired, 1);
  vast_report_free(r);
  unlink(path);
}

/*
 * 1200 keep-alive connections on one loop, each sending a hit at once: more
 * receives complete together than the loop has receive buffers (512 under
 * io_uring), so some find none and are armed again; every hit is answered
 * and stored all the same.
 */
TEST(many_connections_one_burst) {
  struct rlimit rl;
  int n = 1200;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)(2 * n + 200)) {
    n = ((int)rl.rlim_cur - 200) / 2;
    printf("# RLIMIT_NOFILE %llu: %d connections\n", (unsigned long long)rl.rlim_cur, n);
    fflush(stdout);
  }
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.threads = 1;
  vast_collector *c = start(&o);
  int port = vast_collector_port(c);
  int *fds = calloc((size_t)n, sizeof *fds);
  CHECK(fds != NULL);
  for (int i = 0; i < n; i++) {
    fds[i] = dial(port);
    CHECK(fds[i] >= 0);
  }
  char req[128];
  for (int i = 0; i < n; i++) {
    int len =
        snprintf(req, sizeof req, "GET /t/start?ad=burst&sid=%d HTTP/1.1\r\nHost: t\r\n\r\n", i);
    CHECK_INT(send_all(fds[i], req, (size_t)len), 0);
  }
  int answered = 0;
  for (int i = 0; i < n; i++) {
    int ok = 0;
    if (read_responses(fds[i], 1, &ok) == 1 && ok) answered++;
    close(fds[i]);
  }
  CHECK_INT(answered, n);
  char *m = get(port, "/metrics");
  const char *x = m ? strstr(m, "\nvastrack_receive_buffers_exhausted_total ") : NULL;
  CHECK(x != NULL);
  printf("# receives that found no buffer: %.*s\n",
         x ? (int)strcspn(strchr(x + 1, ' ') + 1, "\n") : 1, x ? strchr(x + 1, ' ') + 1 : "?");
  fflush(stdout);
  free(m);
  free(fds);
  vast_collector_free(c);
  CHECK_INT(db_count("SELECT COUNT(DISTINCT sid) FROM hits WHERE ad='burst'"), n);
  cleanup();
}

/* VAST_IO_URING either runs on io_uring or fails to start saying so; AUTO
   reports the backend it picked. */
TEST(io_backend_selection) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.threads = 1;
  o.listen = "127.0.0.1:0";
  o.db_path = NULL;
  o.kafka = NULL;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/vt-collect-XXXXXX");
  CHECK(mkdtemp(tmpdir) != NULL);
  snprintf(dbpath, sizeof dbpath, "%s/hits.db", tmpdir);
  o.db_path = dbpath;
  o.io = VAST_IO_URING;
  vast_collector *c = NULL;
  vast_error err;
  vast_err e = vast_collector_start(&o, &c, &err);
  if (e == VAST_OK) {
    CHECK_INT(vast_collector_io(c), VAST_IO_URING);
    char *r = get(vast_collector_port(c), "/t/impression?ad=sel");
    CHECK(has(r, "200 OK"));
    free(r);
    r = get(vast_collector_port(c), "/stats");
    CHECK(has(r, "\"io\":\"io_uring\""));
    free(r);
    vast_collector_free(c);
    CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ad='sel'"), 1);
  } else {
    CHECK_INT(e, VAST_E_IO);
    CHECK(strstr(err.message, "io_uring") != NULL);
    printf("# io_uring refused here (%s): the epoll tests still run\n", err.message);
    fflush(stdout);
  }
  o.io = VAST_IO_AUTO;
  CHECK_INT(vast_collector_start(&o, &c, &err), VAST_OK);
  vast_io io = vast_collector_io(c);
  CHECK(io == VAST_IO_URING || io == VAST_IO_EPOLL);
  vast_collector_free(c);
  o.io = VAST_IO_EPOLL;
  CHECK_INT(vast_collector_start(&o, &c, &err), VAST_OK);
  CHECK_INT(vast_collector_io(c), VAST_IO_EPOLL);
  char *st = get(vast_collector_port(c), "/stats");
  CHECK(has(st, "\"io\":\"epoll\""));
  free(st);
  vast_collector_free(c);
  cleanup();
}

/* The connection tests again on libuv's epoll loop (the default is io_uring
   where the kernel allows it). */
TEST(epoll_backend) {
  test_io = VAST_IO_EPOLL;
  load_exact_counts_durable();
  bad_input_answered_and_closed();
  slow_client_header_timeout();
  too_many_connections();
  stop_drains_open_connections();
  pipeline_past_the_limit();
  many_connections_one_burst();
  beacon_post();
  body_budget();
  out_of_descriptors();
  web_post_body_in_pieces();
  test_io = VAST_IO_AUTO;
}

/* ---- the database file deleted or replaced under a running collector ---- */

static char lost_log[8192];
static pthread_mutex_t lost_mu = PTHREAD_MUTEX_INITIALIZER;
static void lost_logger(void *ctx, const char *line) {
  pthread_mutex_lock(&lost_mu);
  size_t n = strlen(lost_log);
  snprintf(lost_log + n, sizeof lost_log - n, "%s\n", line);
  pthread_mutex_unlock(&lost_mu);
}

static int status_of(int port, const char *path) {
  char *r = get(port, path);
  int code = r && !strncmp(r, "HTTP/1.1 ", 9) ? atoi(r + 9) : -1;
  free(r);
  return code;
}

/*
 * Deleting (replace = 0) or replacing (1) the database file: hits answered 200
 * after that are all found after a restart (journals kept), new hits get 503 once
 * detected, /healthz says so, the log says so.
 */
static void db_lost_case(int replace, vast_ack ack) {
  lost_log[0] = 0;
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.threads = 1;
  o.ack = ack;
  o.log = lost_logger;
  vast_collector *c = start(&o);
  int port = vast_collector_port(c);
  char path[128];
  for (int i = 0; i < 5; i++) {
    snprintf(path, sizeof path, "/t/impression?ad=L&sid=before%d", i);
    CHECK_INT(status_of(port, path), 200);
  }
  for (int i = 0; i < 100 && db_count("SELECT COUNT(*) FROM hits") < 5; i++)
    usleep(20000);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits"), 5);
  if (replace) {
    char other[160];
    snprintf(other, sizeof other, "%s.new", dbpath);
    FILE *f = fopen(other, "w");
    CHECK(f != NULL);
    fclose(f);
    CHECK_INT(rename(other, dbpath), 0);
  } else {
    CHECK_INT(unlink(dbpath), 0);
  }
  /* answered before the collector noticed: each 200 must survive */
  int ok_after = 0;
  char sids[10][32];
  for (int i = 0; i < 10; i++) {
    snprintf(path, sizeof path, "/t/start?ad=L&sid=after%d", i);
    int st = status_of(port, path);
    CHECK(st == 200 || st == 503);
    if (st == 200) snprintf(sids[ok_after++], sizeof sids[0], "after%d", i);
  }
  usleep(1600 * 1000);
  CHECK_INT(status_of(port, "/t/complete?ad=L&sid=late"), 503);
  CHECK_INT(status_of(port, "/healthz"), 503);
  vast_collector_free(c);
  CHECK(strstr(lost_log, "deleted or replaced") != NULL);
  if (ack == VAST_ACK_DURABLE) {
    CHECK(journal_files() > 0); /* kept: their hits are in no database that exists */
    if (replace) unlink(dbpath);
    restart(1, NULL); /* recovery into a new database at the path */
    for (int i = 0; i < ok_after; i++) {
      char q[160];
      snprintf(q, sizeof q, "SELECT COUNT(*) FROM hits WHERE ad='L' AND sid='%s'", sids[i]);
      CHECK_INT(db_count(q), 1);
    }
    CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE sid='late'"), 0);
    CHECK_INT(journal_files(), 0);
  }
  cleanup();
}

TEST(db_deleted_under_collector) {
  db_lost_case(0, VAST_ACK_DURABLE);
}
TEST(db_replaced_under_collector) {
  db_lost_case(1, VAST_ACK_DURABLE);
}
TEST(db_deleted_under_collector_fast_ack) {
  db_lost_case(0, VAST_ACK_FAST);
}

/* ---- output that cannot be turned against its reader ---- */

static int buf_sink(void *ctx, const char *d, size_t n) {
  char *b = ctx;
  size_t l = strlen(b);
  if (l + n >= 4096) return -1;
  memcpy(b + l, d, n);
  b[l + n] = 0;
  return 0;
}

TEST(csv_cells_and_terminal_text_are_neutralised) {
  static const struct {
    const char *in, *out;
  } csv[] = {
      {"plain", "plain"},
      {"a,b", "\"a,b\""},
      {"say \"hi\"", "\"say \"\"hi\"\"\""},
      {"=1+2+cmd|' /C calc'!A0", "\"'=1+2+cmd|' /C calc'!A0\""},
      {"+1", "\"'+1\""},
      {"-2", "\"'-2\""},
      {"@SUM(A1)", "\"'@SUM(A1)\""},
      {"\tx", "\"'\tx\""},
      {"\rx", "\"'\rx\""},
      {"=\"q\"", "\"'=\"\"q\"\"\""},
      {"a=b", "a=b"},
      {"", ""},
  };
  for (size_t i = 0; i < sizeof csv / sizeof csv[0]; i++) {
    char b[4096] = "";
    CHECK_INT(vast_csv_write_cell(csv[i].in, buf_sink, b), VAST_OK);
    CHECK_STR(b, csv[i].out);
  }
  char t[64];
  CHECK_INT(vast_text_escape("evil\nFAKE,impression,999", t, sizeof t), 27);
  CHECK_STR(t, "evil\\x0aFAKE,impression,999");
  vast_text_escape("\x1b[31mred\x7f\\ \xc2\x9b"
                   "2J caf\xc3\xa9",
                   t, sizeof t);
  CHECK_STR(t, "\\x1b[31mred\\x7f\\\\ \\x9b2J caf\xc3\xa9");
  CHECK_INT(vast_text_escape("abcdef", t, 4), 6);
  CHECK_STR(t, "abc");
}

/* Hostile ad ids through the collector into report --csv and the text report;
   a %00 in a parameter is refused whole (400), never stored cut. */
TEST(report_output_is_safe_and_nul_refused) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  vast_collector *c = start(&o);
  int port = vast_collector_port(c);
  CHECK_INT(status_of(port, "/t/impression?ad==1%2B2%2Bcmd|%27%20/C%20calc%27!A0"), 200);
  CHECK_INT(status_of(port, "/t/impression?ad=evil%0aFAKE,impression,999"), 200);
  CHECK_INT(status_of(port, "/t/impression?ad=%1b[2Jx"), 200);
  CHECK_INT(status_of(port, "/t/impression?ad=pct%00nul"), 400);
  CHECK_INT(status_of(port, "/t/impression?ad=ok&sid=a%00b"), 400);
  CHECK_INT(status_of(port, "/t/imp%00ression?ad=ok"), 400);
  vast_collector_free(c);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits WHERE ad='pct' OR ad='ok'"), 0);
  CHECK_INT(db_count("SELECT COUNT(*) FROM hits"), 3);
  vast_report *r = NULL;
  CHECK_INT(vast_report_load(dbpath, 0, &r, NULL), VAST_OK);
  char outp[160];
  snprintf(outp, sizeof outp, "%s/report.csv", tmpdir);
  FILE *f = fopen(outp, "w");
  CHECK_INT(vast_report_write(r, VAST_REPORT_CSV, sink, f), VAST_OK);
  fclose(f);
  char *csv = th_slurp(outp, NULL);
  CHECK(strstr(csv, "\n\"'=1+2+cmd|' /C calc'!A0\",impression,1,") != NULL);
  CHECK(strstr(csv, "\n=") == NULL);
  CHECK(strstr(csv, "\n\"evil\nFAKE,impression,999\",impression,1,") != NULL);
  free(csv);
  f = fopen(outp, "w");
  CHECK_INT(vast_report_write(r, VAST_REPORT_TEXT, sink, f), VAST_OK);
  fclose(f);
  char *txt = th_slurp(outp, NULL);
  CHECK(strstr(txt, "ad evil\\x0aFAKE,impression,999\n") != NULL);
  CHECK(strstr(txt, "\nFAKE") == NULL);
  CHECK(strstr(txt, "ad \\x1b[2Jx\n") != NULL);
  CHECK(strchr(txt, 0x1b) == NULL);
  free(txt);
  vast_report_free(r);
  cleanup();
}

/* ---- the web pages and API against other web sites ---- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char WEB_DOC[] =
    "<VAST version=\"4.2\"><Ad id=\"a\"><InLine><AdSystem>x</AdSystem><AdTitle>t</AdTitle>"
    "<Impression>https://i.example/i</Impression><Creatives></Creatives></InLine></Ad></VAST>";

/* POST path with the given extra header lines and WEB_DOC as body; the response. */
static char *api_post(int port, const char *path, const char *hdrs) {
  char req[2048];
  int n = snprintf(
      req, sizeof req,
      "POST %s HTTP/1.1\r\nHost: t\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s", path,
      hdrs, sizeof WEB_DOC - 1, WEB_DOC);
  return raw(port, req, (size_t)n);
}

static int sec_headers(const char *r) {
  return has(r, "Content-Security-Policy: default-src 'none'; script-src 'self';") &&
         has(r, "frame-ancestors 'none'") && has(r, "X-Frame-Options: DENY\r\n") &&
         has(r, "X-Content-Type-Options: nosniff\r\n");
}

TEST(web_security_headers_and_content_types) {
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.threads = 1;
  o.web = 1;
  vast_collector *c = start(&o);
  int port = vast_collector_port(c);
  static const char *pages[] = {"/",           "/inspect",   "/style.css",
                                "/inspect.js", "/api/stats", "/api/errors"};
  for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
    char *r = get(port, pages[i]);
    CHECK(r && strstr(r, "HTTP/1.1 200 ") == r);
    if (!sec_headers(r)) fprintf(stderr, "  %s:\n%.600s\n", pages[i], r);
    CHECK(sec_headers(r));
    free(r);
  }
  /* what a form or a simple cross-site fetch() sends: refused, never run */
  static const char *refused[] = {"",
                                  "Content-Type: text/plain\r\n",
                                  "Content-Type: application/x-www-form-urlencoded\r\n",
                                  "Content-Type: multipart/form-data; boundary=x\r\n",
                                  "Content-Type: text/plain; a=application/xml\r\n",
                                  "Content-Type: application/xmlx\r\n"};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    char *r = api_post(port, "/api/inspect", refused[i]);
    if (!(r && strstr(r, "HTTP/1.1 415 ") == r)) fprintf(stderr, "  [%zu] %.300s\n", i, r);
    CHECK(r && strstr(r, "HTTP/1.1 415 ") == r);
    CHECK(sec_headers(r));
    CHECK(!has(r, "\"ok\""));
    free(r);
  }
  static const char *accepted[] = {"Content-Type: application/xml\r\n",
                                   "Content-Type: Application/XML; charset=utf-8\r\n",
                                   "Content-Type: text/xml\r\n",
                                   "Content-Type: application/json\r\n",
                                   "Content-Type: application/vast+xml\r\n",
                                   "X-Vastrack-Client: curl\r\nContent-Type: text/plain\r\n"};
  for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
    char *r = api_post(port, "/api/inspect", accepted[i]);
    if (!(r && strstr(r, "HTTP/1.1 200 ") == r)) fprintf(stderr, "  [%zu] %.300s\n", i, r);
    CHECK(r && strstr(r, "HTTP/1.1 200 ") == r);
    CHECK(has(r, "\"ok\":true"));
    CHECK(sec_headers(r));
    free(r);
  }
  vast_collector_free(c);
  cleanup();
}

/*
 * Eight /api/resolve of a chain that hangs (a listener that never accepts) do
 * not delay an /api/inspect: the work that waits on the network gets half of
 * libuv's pool at most, the rest is answered 503 at once.
 */
TEST(web_slow_work_cannot_starve_fast_work) {
  setenv("UV_THREADPOOL_SIZE", "4", 1);
  int hang = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK_INT(bind(hang, (struct sockaddr *)&a, sizeof a), 0);
  CHECK_INT(listen(hang, 64), 0);
  socklen_t al = sizeof a;
  getsockname(hang, (struct sockaddr *)&a, &al);
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.threads = 1;
  o.web = 1;
  o.web_allow_private = 1;
  vast_collector *c = start(&o);
  int port = vast_collector_port(c);
  enum { N = 8 };
  int fds[N];
  for (int i = 0; i < N; i++) {
    char req[512];
    int n = snprintf(req, sizeof req,
                     "POST /api/resolve?url=http://127.0.0.1:%d/tag%d.xml HTTP/1.1\r\nHost: t\r\n"
                     "Content-Type: application/xml\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n",
                     ntohs(a.sin_port), i);
    fds[i] = dial(port);
    CHECK(fds[i] >= 0);
    CHECK_INT(send_all(fds[i], req, (size_t)n), 0);
  }
  usleep(300000); /* the resolves are on the pool, waiting */
  double t0 = now_s();
  char *r = api_post(port, "/api/inspect", "Content-Type: application/xml\r\n");
  double dt = now_s() - t0;
  CHECK(r && strstr(r, "HTTP/1.1 200 ") == r);
  free(r);
  /* the hanging fetches take 8 s (the first-request timeout): far from this */
  if (dt >= 3.0) fprintf(stderr, "  /api/inspect took %.1f s\n", dt);
  CHECK(dt < 3.0);
  int busy = 0;
  for (int i = 0; i < N; i++) {
    struct pollfd p = {.fd = fds[i], .events = POLLIN};
    if (poll_nointr(&p, 1, 0) == 1) {
      char buf[1024];
      last_len = read_all(fds[i], buf, sizeof buf);
      busy += has(buf, "HTTP/1.1 503 ") && has(buf, "busy");
    }
  }
  CHECK_INT(busy, N - 2); /* half of the 4 threads for slow work */
  close(hang);            /* the two running resolves fail now (reset) */
  for (int i = 0; i < N; i++)
    close(fds[i]);
  vast_collector_free(c);
  cleanup();
}

static const th_case cases[] = {
    TH(web_security_headers_and_content_types),
    TH(web_slow_work_cannot_starve_fast_work),
    TH(csv_cells_and_terminal_text_are_neutralised),
    TH(report_output_is_safe_and_nul_refused),
    TH(db_deleted_under_collector),
    TH(db_replaced_under_collector),
    TH(db_deleted_under_collector_fast_ack),
    TH(http_simple_get),
    TH(http_incomplete_needs_more),
    TH(http_limits),
    TH(http_garbage),
    TH(http_connection_semantics),
    TH(http_content_length),
    TH(http_device_headers),
    TH(url_decode),
    TH(parse_since),
    TH(load_exact_counts_durable),
    TH(load_exact_counts_fast),
    TH(records_fields_and_device_headers),
    TH(endpoints_stats_metrics_healthz),
    TH(bad_input_answered_and_closed),
    TH(slow_client_header_timeout),
    TH(too_many_connections),
    TH(stop_drains_open_connections),
    TH(crc32c_known_vector),
    TH(journal_recovery_torn_tail),
    TH(journal_recovery_exactly_once),
    TH(journal_recovery_other_worker_count),
    TH(journal_recovery_bad_checksum_stops),
    TH(journal_rotation_exact_counts),
    TH(journal_crash_with_rotation_loses_nothing),
    TH(journal_lock_one_collector_per_db),
    TH(thread_start_failure_is_clean),
    TH(port_in_use_refused),
    TH(start_failure_at_every_descriptor_limit_is_clean),
    TH(site_routes_from_tables),
    TH(kafka_sink_mock_cluster),
    TH(kafka_sink_every_property),
    TH(kafka_bad_uri),
    TH(report_funnel_and_fired_discrepancy),
    TH(web_post_body_in_pieces),
    TH(pipeline_past_the_limit),
    TH(many_connections_one_burst),
    TH(beacon_post),
    TH(report_map_fired),
    TH(body_budget),
    TH(out_of_descriptors),
    TH(io_backend_selection),
    TH(epoll_backend),
    {0},
};

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  return th_main(__FILE__, cases, argc, argv);
}
