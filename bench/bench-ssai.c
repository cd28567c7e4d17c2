/*
 * bench-ssai.c: two modes (BENCH_SSAI_MODE=core|http|both, default both).
 *
 * http: the service as deployed: `vastrack ssai` ($VASTRACK, else
 * build/vastrack) in its own process with --state, driven through its HTTP
 * API on one keep-alive connection, requests pipelined: sessions created, a
 * break added per ad (POST /v1/sessions/ID/breaks, the VAST document inline),
 * and every session's position once per second in batches across sessions
 * (POST /v1/reports, BENCH_SSAI_SLICES batches a second, default 50: one per
 * 20 ms, 2,000 reports each at 100,000 sessions; the beacons of one batch are
 * due together, so larger batches queue them longer). Same load shape as core.
 * Reported: sessions, reports/s, the service's lateness p50/p99 (its
 * /metrics histogram), how late the driver's batches were answered (p99),
 * the service's RSS growth per session, beacons/s and the ratio to wrk on
 * the same nginx, in the same run.
 *
 * core: the SSAI service core (vast_ssai, in process, journal on) held
 * at BENCH_SSAI_SESSIONS concurrent ad plays (default 100000), each reporting
 * its position once per second, for BENCH_SSAI_SECONDS (default two ads), while
 * the beacons go to nginx (empty_gif, 1 worker, access_log off) on loopback:
 * the tag's impression to 127.0.0.1, its events to 127.0.0.2-4, as a tag's
 * ad server and measurement vendors would be four hosts (each with its
 * --per-host slots).
 * Each session plays ads of BENCH_SSAI_AD_SECONDS (default 30; impression,
 * start, quartiles, complete: 6 beacons each) back to back, adding a new
 * break (a parsed VAST document) when one ends; sessions start staggered over
 * the first ad's length, then every session is playing. Then, in the same
 * run, `wrk -t1 -c64 -d2s` against the same nginx: the ceiling.
 * BENCH_SSAI_PER_HOST sets the per-host limit (default the service's, 32).
 *
 * Prints one JSON line: sessions, beacons, beacons/s and its ratio to wrk's
 * requests/s, lateness (due -> request left) p50/p99 from the service's
 * histogram (bucket upper bounds) and the share sent within 20 ms, whether
 * the load was offered on time (keptUp: the driver finished its
 * BENCH_SSAI_SECONDS within a second of them), the load average when the run
 * began (what else used the two cores), how late the driver itself ran (p99),
 * memory per session (RSS growth over the sessions, their parsed documents
 * included), and whether every beacon was answered. The HTTP API is not in
 * the loop: this measures the core and the dispatcher.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vastrack.h"
#include "bench-nginx.h"

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    fclose(f);
  }
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static double run_wrk(int port) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "wrk -t1 -c64 -d2s http://127.0.0.1:%d/px/wrk 2>/dev/null", port);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  char line[512];
  double rps = -1;
  while (fgets(line, sizeof line, p))
    if (!strncmp(line, "Requests/sec:", 13)) rps = atof(line + 13);
  pclose(p);
  return rps;
}

static int nop_write(void *ctx, const char *d, size_t n) {
  (void)ctx, (void)d, (void)n;
  return 0;
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Upper bound (ms) of the bucket holding quantile q of the lateness histogram. */
static double hist_q(const vast_ssai_figures *st, double q) {
  static const double edge[12] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 1e9};
  uint64_t tot = 0, c = 0;
  for (int i = 0; i < 12; i++)
    tot += st->lateness_ms[i];
  for (int i = 0; i < 12; i++) {
    c += st->lateness_ms[i];
    if (tot && (double)c >= q * (double)tot) return edge[i];
  }
  return -1;
}

/* The share of beacons sent within 20 ms of becoming due (the p99
   goal holds when this is at least 0.99). */
static double hist_within20(const vast_ssai_figures *st) {
  uint64_t tot = 0, in = 0;
  for (int i = 0; i < 12; i++)
    tot += st->lateness_ms[i], in += i <= 4 ? st->lateness_ms[i] : 0;
  return tot ? (double)in / (double)tot : -1;
}

/* The journal's directory: under BENCH_SSAI_STATE_BASE (default /tmp, the
   machine's disk; /dev/shm takes the disk's fdatasync out of the figure). */
static void state_template(char *out, size_t cap, const char *what) {
  const char *base = getenv("BENCH_SSAI_STATE_BASE");
  snprintf(out, cap, "%s/vastrack-bench-ssai-%s-XXXXXX", base && *base ? base : "/tmp", what);
}

/* The 1-minute load average when the run began: what else used the cores. */
static double loadavg(void) {
  double l = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &l) != 1) l = -1;
    fclose(f);
  }
  return l;
}

/* ---- http mode ---------------------------------------------------------------- */

typedef struct hconn {
  int fd;
  char *in;
  size_t n, cap;
} hconn;

static int hconn_open(hconn *c, int port) {
  memset(c, 0, sizeof *c);
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one);
  c->cap = 1 << 20;
  c->in = malloc(c->cap);
  return c->in && connect(c->fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : -1;
}

static int send_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Appends one request to a growable buffer. */
typedef struct obuf {
  char *p;
  size_t n, cap;
} obuf;

static void ob_add(obuf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
    if (!b->p) abort();
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

static void ob_req(obuf *b, const char *method, const char *path, const char *body, size_t bl) {
  char h[256];
  int hl = snprintf(h, sizeof h,
                    "%s %s HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
                    "Content-Length: %zu\r\n\r\n",
                    method, path, bl);
  ob_add(b, h, (size_t)hl);
  ob_add(b, body, bl);
}

/* Reads one response: its status, and the body (NUL-terminated, valid until
   the next call) in *body. -1 on a broken connection. */
static int read_resp(hconn *c, char **body, size_t *blen) {
  static size_t consumed;
  memmove(c->in, c->in + consumed, c->n - consumed);
  c->n -= consumed;
  consumed = 0;
  for (;;) {
    char *e = c->n ? memmem(c->in, c->n, "\r\n\r\n", 4) : NULL;
    if (e) {
      size_t hl = (size_t)(e - c->in) + 4;
      char *cl = memmem(c->in, hl, "Content-Length: ", 16);
      size_t len = cl ? (size_t)atol(cl + 16) : 0;
      if (c->n >= hl + len) {
        int st = atoi(c->in + 9);
        if (c->n == c->cap) return -1;
        char save = c->in[hl + len];
        (void)save;
        *body = c->in + hl;
        *blen = len;
        consumed = hl + len;
        return st;
      }
    }
    if (c->n == c->cap) {
      c->cap *= 2;
      c->in = realloc(c->in, c->cap);
      if (!c->in) return -1;
    }
    ssize_t k = recv(c->fd, c->in + c->n, c->cap - c->n, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    c->n += (size_t)k;
  }
}

static long proc_rss_kib(pid_t pid) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/statm", (int)pid);
  FILE *f = fopen(p, "r");
  long pages = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    fclose(f);
  }
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* One figure of the service's /metrics ("name value" line), -1 absent. */
static double metric_of(const char *m, const char *name) {
  size_t nl = strlen(name);
  for (const char *p = m; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
    if (!strncmp(p, name, nl) && p[nl] == ' ') return atof(p + nl + 1);
  return -1;
}

static int get_metrics(hconn *c, char **out) {
  obuf b = {0};
  ob_req(&b, "GET", "/metrics", "", 0);
  int rc = send_all(c->fd, b.p, b.n);
  free(b.p);
  size_t bl;
  char *body;
  if (rc != 0 || read_resp(c, &body, &bl) != 200) return -1;
  *out = strndup(body, bl);
  return *out ? 0 : -1;
}

/* Quantile q of the lateness histogram in /metrics, as a bucket upper bound (ms). */
static double metrics_q(const char *m, double q) {
  static const char *le[11] = {"0.001", "0.002", "0.005", "0.01", "0.02", "0.05",
                               "0.1",   "0.2",   "0.5",   "1",    "5"};
  double tot = metric_of(m, "vastrack_ssai_lateness_seconds_count");
  if (tot <= 0) return -1;
  for (int i = 0; i < 11; i++) {
    char nm[96];
    snprintf(nm, sizeof nm, "vastrack_ssai_lateness_seconds_bucket{le=\"%s\"}", le[i]);
    if (metric_of(m, nm) >= q * tot) return atof(le[i]) * 1000.0;
  }
  return 1e9;
}

static double metrics_within20(const char *m) {
  double tot = metric_of(m, "vastrack_ssai_lateness_seconds_count");
  double in = metric_of(m, "vastrack_ssai_lateness_seconds_bucket{le=\"0.02\"}");
  return tot > 0 ? in / tot : -1;
}

static int run_http(long n, int secs, int ad_s, int port, const char *doc, size_t dl) {
  double load0 = loadavg();
  const char *bin = getenv("VASTRACK");
  if (!bin || !*bin) bin = "build/vastrack";
  char state[600];
  state_template(state, sizeof state, "http");
  if (!mkdtemp(state)) return 1;
  int pfd[2];
  if (pipe(pfd) != 0) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pfd[1], 1);
    close(pfd[0]);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 2);
    const char *ph = getenv("BENCH_SSAI_PER_HOST");
    execl(bin, "vastrack", "ssai", "--listen", "127.0.0.1:0", "--state", state, "--allow-private",
          "--idle-timeout", "600", "--per-host", ph && atoi(ph) > 0 ? ph : "32", (char *)NULL);
    _exit(127);
  }
  close(pfd[1]);
  FILE *pf = fdopen(pfd[0], "r");
  char line[128];
  int sport = 0;
  if (pf && fgets(line, sizeof line, pf)) sscanf(line, "listening on port %d", &sport);
  hconn c;
  if (!sport || hconn_open(&c, sport) != 0) {
    printf("{\"bench\":\"ssai\",\"mode\":\"http\",\"error\":\"cannot start %s ssai\"}\n", bin);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 1;
  }
  /* the document as a JSON string: the bench document has no backslash,
     control character or non-ASCII byte, only quotes to escape */
  obuf jdoc = {0};
  ob_add(&jdoc, "{\"vast\":\"", 9);
  for (size_t i = 0; i < dl; i++)
    ob_add(&jdoc, doc[i] == '"' ? "\\\"" : doc + i, doc[i] == '"' ? 2 : 1);
  ob_add(&jdoc, "\"}", 2);
  long rss0 = proc_rss_kib(pid), bad = 0;
  /* sessions, pipelined 1000 at a time */
  for (long i = 0; i < n; i += 1000) {
    obuf b = {0};
    long m = i + 1000 < n ? 1000 : n - i;
    for (long k = i; k < i + m; k++) {
      char body[160];
      int bl = snprintf(body, sizeof body,
                        "{\"sessionId\":\"s%ld\",\"deviceIp\":\"10.%ld.%ld.%ld\","
                        "\"userAgent\":\"bench-%ld\"}",
                        k, (k >> 16) & 255, (k >> 8) & 255, k & 255, k);
      ob_req(&b, "POST", "/v1/sessions", body, (size_t)bl);
    }
    if (send_all(c.fd, b.p, b.n) != 0) bad += m;
    free(b.p);
    for (long k = 0; k < m; k++) {
      char *body;
      size_t bl;
      if (read_resp(&c, &body, &bl) != 201) bad++;
    }
  }
  long rss_created = proc_rss_kib(pid);
  double t0 = vast_now() + 0.2;
  const char *se = getenv("BENCH_SSAI_SLICES"); /* batches a second (default 50) */
  int slices = se && atoi(se) > 0 && atoi(se) <= 1000 ? atoi(se) : 50;
  size_t nl = (size_t)secs * (size_t)slices, kl = 0;
  double *late = malloc(nl * sizeof *late);
  unsigned *adno = calloc((size_t)n, sizeof *adno);
  long reports = 0, accepted = 0, breaks = 0;
  for (int k = 0; k < secs; k++) {
    for (int j = 0; j < slices; j++) {
      double due = t0 + k + (double)j / slices, now = vast_now();
      if (now < due) usleep((useconds_t)((due - now) * 1e6));
      obuf b = {0}, rb = {0};
      long nb = 0, nr = 0;
      ob_add(&rb, "{\"reports\":[", 12);
      for (long i = (long)j * n / slices; i < (long)(j + 1) * n / slices; i++) {
        int media = (int)((k + i % (ad_s + 1)) % (ad_s + 1));
        if (media == 0) {
          char path[64];
          snprintf(path, sizeof path, "/v1/sessions/s%ld/breaks", i);
          ob_req(&b, "POST", path, jdoc.p, jdoc.n);
          adno[i]++;
          nb++;
        }
        if (!adno[i]) continue;
        char r[96];
        int rl = snprintf(r, sizeof r, "%s{\"sessionId\":\"s%ld\",\"ad\":%u,\"mediaTime\":%d}",
                          nr ? "," : "", i, adno[i] - 1, media);
        ob_add(&rb, r, (size_t)rl);
        nr++;
      }
      ob_add(&rb, "]}", 2);
      if (nr) ob_req(&b, "POST", "/v1/reports", rb.p, rb.n);
      if (send_all(c.fd, b.p, b.n) != 0) bad++;
      for (long q = 0; q < nb + (nr > 0); q++) {
        char *body;
        size_t bl;
        int st = read_resp(&c, &body, &bl);
        if (st != 200) {
          bad++;
          if (st < 0) break;
        } else if (q == nb) {
          char *a = memmem(body, bl, "\"accepted\":", 11);
          accepted += a ? atol(a + 11) : 0;
        }
      }
      late[kl++] = (vast_now() - due) * 1000.0; /* the slice answered */
      breaks += nb;
      reports += nr;
      free(b.p);
      free(rb.p);
    }
  }
  double t1 = vast_now();
  long rss1 = proc_rss_kib(pid);
  char *m = NULL;
  double pending = -1;
  for (int i = 0; i < 600; i++) { /* drain: up to 60 s */
    free(m);
    m = NULL;
    if (get_metrics(&c, &m) != 0) break;
    pending = metric_of(m, "vastrack_ssai_beacons_pending");
    if (pending == 0) break;
    usleep(100000);
  }
  double t2 = vast_now();
  qsort(late, kl, sizeof *late, cmp_dbl);
  double wrk = run_wrk(port);
  double sent = m ? metric_of(m, "vastrack_ssai_beacons_sent_total") : -1;
  double due_n = m ? metric_of(m, "vastrack_ssai_beacons_due_total") : -1;
  double rate = sent / (t2 - t0);
  printf("{\"bench\":\"ssai\",\"mode\":\"http\",\"metric\":\"concurrent_plays\","
         "\"sessions\":%ld,\"seconds\":%.1f,\"reportsPerSecond\":%.0f,\"reportsAccepted\":%ld,"
         "\"reportsSent\":%ld,\"breaksAdded\":%ld,\"requestErrors\":%ld,\"beaconsDue\":%.0f,"
         "\"beaconsSent\":%.0f,\"allAnswered\":%s,\"beaconsPerSecond\":%.0f,"
         "\"wrkRequestsPerSecond\":%.0f,\"ratioToWrk\":%.3f,\"latenessP50MsAtMost\":%g,"
         "\"latenessP99MsAtMost\":%g,\"latenessWithin20msShare\":%.4f,"
         "\"batchAnsweredLateP99Ms\":%.1f,\"loadSeconds\":%d,\"keptUp\":%s,"
         "\"batchesPerSecond\":%d,\"loadAverageAtStart\":%.2f,"
         "\"serviceBytesPerSession\":%.0f,\"serviceBytesPerSessionCreated\":%.0f,"
         "\"sessionBytes\":%.0f,\"breakBytes\":%.0f,\"adSeconds\":%d,"
         "\"note\":\"vastrack ssai in its own process, journal on, driven over HTTP (one "
         "connection, pipelined; reports in cross-session batches); "
         "lateness from its /metrics histogram (bucket upper bounds)\"}\n",
         n, t1 - t0, (double)reports / (t1 - t0), accepted, reports, breaks, bad, due_n, sent,
         pending == 0 ? "true" : "false", rate, wrk, wrk > 0 ? rate / wrk : 0,
         m ? metrics_q(m, 0.5) : -1, m ? metrics_q(m, 0.99) : -1, m ? metrics_within20(m) : -1,
         kl ? late[(size_t)((double)kl * 0.99)] : -1, secs,
         t1 - t0 <= secs + 1.0 ? "true" : "false", slices, load0,
         (double)(rss1 - rss0) * 1024.0 / (double)n,
         (double)(rss_created - rss0) * 1024.0 / (double)n,
         m ? metric_of(m, "vastrack_ssai_session_bytes") / (double)n : -1,
         m ? metric_of(m, "vastrack_ssai_break_bytes") : -1, ad_s);
  free(m);
  free(late);
  free(adno);
  free(jdoc.p);
  close(c.fd);
  free(c.in);
  kill(pid, SIGTERM); /* it drains (nothing is pending) and exits */
  waitpid(pid, NULL, 0);
  if (pf) fclose(pf);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", state);
  return system(cmd) != 0;
}

int main(void) {
  const char *e = getenv("BENCH_SSAI_SESSIONS");
  long n = e ? atol(e) : 100000; /* the figure */
  e = getenv("BENCH_SSAI_AD_SECONDS");
  int ad_s = e ? atoi(e) : 30;
  e = getenv("BENCH_SSAI_SECONDS"); /* two ads each, after the staggered start */
  int secs = e ? atoi(e) : 2 * (ad_s + 1);
  if (n < 1 || ad_s < 4 || ad_s > 3600 || secs < 2 * (ad_s + 1)) {
    printf("{\"bench\":\"ssai\",\"error\":\"BENCH_SSAI_SESSIONS >= 1, BENCH_SSAI_AD_SECONDS "
           ">= 4, BENCH_SSAI_SECONDS >= 2 * (ad + 1)\"}\n");
    return 1;
  }
  int port = free_port();
  if (start_nginx(port) != 0) {
    printf("{\"bench\":\"ssai\",\"error\":\"cannot start nginx\"}\n");
    stop_nginx();
    return 1;
  }
  char doc[2048];
  int dl = snprintf(doc, sizeof doc,
                    "<VAST version=\"4.2\"><Ad id=\"a\"><InLine><AdSystem>b</AdSystem><AdTitle>b"
                    "</AdTitle><Impression>http://127.0.0.1:%d/px/imp?ip=[DEVICEIP]</Impression>"
                    "<Creatives><Creative><Linear><Duration>00:%02d:%02d</Duration><TrackingEvents>"
                    "<Tracking event=\"start\">http://127.0.0.2:%d/px/start</Tracking>"
                    "<Tracking event=\"firstQuartile\">http://127.0.0.3:%d/px/q1</Tracking>"
                    "<Tracking event=\"midpoint\">http://127.0.0.4:%d/px/mid</Tracking>"
                    "<Tracking event=\"thirdQuartile\">http://127.0.0.3:%d/px/q3</Tracking>"
                    "<Tracking event=\"complete\">http://127.0.0.2:%d/px/complete</Tracking>"
                    "</TrackingEvents><MediaFiles><MediaFile delivery=\"progressive\" "
                    "type=\"video/mp4\" width=\"640\" height=\"360\">http://cdn/a.mp4</MediaFile>"
                    "</MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>",
                    port, ad_s / 60, ad_s % 60, port, port, port, port, port);
  e = getenv("BENCH_SSAI_MODE");
  const char *mode = e && *e ? e : "both";
  int hrc = 0;
  if (!strcmp(mode, "http") || !strcmp(mode, "both"))
    hrc = run_http(n, secs, ad_s, port, doc, (size_t)dl);
  if (strcmp(mode, "core") != 0 && strcmp(mode, "both") != 0) {
    stop_nginx();
    return hrc;
  }
  char state[600];
  state_template(state, sizeof state, "state");
  if (!mkdtemp(state)) return 1;
  vast_net_policy pol;
  vast_net_policy_init(&pol);
  pol.allow_private = 1;
  vast_ssai_opts o;
  vast_ssai_opts_init(&o);
  o.policy = &pol;
  o.state_dir = state;
  o.idle_timeout_s = 600;
  e = getenv("BENCH_SSAI_PER_HOST"); /* default the service's (32) */
  if (e && atoi(e) > 0) o.per_host = (unsigned)atoi(e);
  e = getenv("BENCH_SSAI_JOURNAL_MAX");
  if (e && atoll(e) > 0) o.journal_max_bytes = (size_t)atoll(e);
  vast_ssai *s = NULL;
  char msg[256];
  if (vast_ssai_create(&o, &s, msg, sizeof msg) != VAST_OK) {
    printf("{\"bench\":\"ssai\",\"error\":\"%s\"}\n", msg);
    stop_nginx();
    return 1;
  }
  double load0 = loadavg();
  long rss0 = rss_kib();
  char(*ids)[24] = calloc((size_t)n, sizeof *ids);
  for (long i = 0; i < n; i++) {
    char ip[32], ua[32];
    snprintf(ip, sizeof ip, "10.%ld.%ld.%ld", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    snprintf(ua, sizeof ua, "bench-%ld", i);
    vast_device d = {sizeof d, ip, ua, NULL, NULL, NULL, 0};
    char out[65];
    snprintf(ids[i], sizeof ids[i], "s%ld", i);
    if (vast_ssai_session_create(s, ids[i], &d, out, sizeof out) != VAST_OK) {
      printf("{\"bench\":\"ssai\",\"error\":\"setup failed at session %ld\"}\n", i);
      stop_nginx();
      return 1;
    }
  }
  /* the load: session i reports at t0 + k + i/n for k = 0..secs-1; its ads
     run on a clock shifted by i % (ad_s + 1) seconds (media 0..ad_s, a new
     break at each 0), so beacons are spread evenly; it joins at its first 0 */
  double t0 = vast_now() + 0.2;
  size_t nl = (size_t)n * (size_t)secs, kl = 0;
  double *late = malloc(nl * sizeof *late);
  unsigned *adno = calloc((size_t)n, sizeof *adno); /* ads started + 1; 0: not joined */
  long failed = 0;
  for (int k = 0; k < secs; k++) {
    for (long i = 0; i < n; i++) {
      double due = t0 + k + (double)i / (double)n, now = vast_now();
      if (now < due) {
        usleep((useconds_t)((due - now) * 1e6));
        now = vast_now();
      }
      late[kl++] = (now - due) * 1000.0;
      int media = (int)((k + i % (ad_s + 1)) % (ad_s + 1));
      if (media == 0) { /* a new ad: a new break */
        if (vast_ssai_break_add(s, ids[i], NULL, doc, (size_t)dl, nop_write, NULL, NULL) !=
            VAST_OK) {
          failed++;
          continue;
        }
        adno[i]++;
      }
      if (!adno[i]) continue;
      vast_ssai_consumption r = {adno[i] - 1, 0, (double)media, -1, 0, 0};
      if (vast_ssai_report(s, ids[i], &r) != VAST_OK) failed++;
    }
    vast_ssai_tick(s);
  }
  double t1 = vast_now();
  long rss1 = rss_kib();
  vast_ssai_figures st0;
  vast_ssai_stats(s, &st0);
  vast_err drained = vast_ssai_drain(s, 30000);
  double t2 = vast_now();
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  qsort(late, kl, sizeof *late, cmp_dbl);
  double drv_p99 = late[(size_t)((double)kl * 0.99)];
  double wrk = run_wrk(port);
  uint64_t beacons = st.sent + st.failed + st.expired;
  double rate = (double)beacons / (t2 - t0);
  printf(
      "{\"bench\":\"ssai\",\"mode\":\"core\",\"metric\":\"concurrent_plays\",\"sessions\":%ld,"
      "\"seconds\":%.1f,"
      "\"reportsPerSecond\":%ld,\"beacons\":%llu,\"beaconsDue\":%llu,\"failed\":%llu,"
      "\"expired\":%llu,\"allAnswered\":%s,\"reportErrors\":%ld,"
      "\"beaconsPerSecond\":%.0f,\"wrkRequestsPerSecond\":%.0f,\"ratioToWrk\":%.3f,"
      "\"latenessP50MsAtMost\":%g,\"latenessP99MsAtMost\":%g,\"latenessWithin20msShare\":%.4f,"
      "\"driverLateP99Ms\":%.2f,\"loadSeconds\":%d,\"keptUp\":%s,\"loadAverageAtStart\":%.2f,"
      "\"memoryPerSessionBytes\":%.0f,\"coreBytesPerSession\":%.0f,\"adSeconds\":%d,\"perHost\":%u,"
      "\"note\":\"in-process core + dispatcher, journal on; beacons/s is the offered load "
      "(not saturated): wrk's figure is the ceiling of the same nginx; memory includes "
      "the parsed document of the break playing (freed when its ads end)\"}\n",
      n, t1 - t0, n, (unsigned long long)beacons, (unsigned long long)st.due,
      (unsigned long long)st.failed, (unsigned long long)st.expired,
      drained == VAST_OK && st.pending == 0 ? "true" : "false", failed, rate, wrk,
      wrk > 0 ? rate / wrk : 0, hist_q(&st, 0.5), hist_q(&st, 0.99), hist_within20(&st), drv_p99,
      secs, t1 - t0 <= secs + 1.0 ? "true" : "false", load0,
      (double)(rss1 - rss0) * 1024.0 / (double)n, (double)st0.memory / (double)n, ad_s, o.per_host);
  free(late);
  free(adno);
  free(ids);
  vast_ssai_free(s);
  stop_nginx();
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", state);
  if (system(cmd) != 0) return 1;
  return hrc;
}
