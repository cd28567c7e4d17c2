/*
 * bench-ssai.c: the SSAI service core (vast_ssai, in process, journal on) held
 * at BENCH_SSAI_SESSIONS concurrent ad plays (default 20000), each reporting
 * its position once per second, for BENCH_SSAI_SECONDS (default 40), while
 * the beacons go to nginx (empty_gif, 1 worker, access_log off) on 127.0.0.1.
 * Each session plays ads of BENCH_SSAI_AD_SECONDS (default 15; impression,
 * start, quartiles, complete: 6 beacons each) back to back, adding a new
 * break (a parsed VAST document) when one ends; sessions start staggered over
 * the first ad's length, then every session is playing. Then, in the same
 * run, `wrk -t1 -c64 -d2s` against the same nginx: the ceiling.
 * BENCH_SSAI_PER_HOST sets the per-host limit (default the service's, 32).
 *
 * Prints one JSON line: sessions, beacons, beacons/s and its ratio to wrk's
 * requests/s, lateness (due -> request left) p50/p99 from the service's
 * histogram (bucket upper bounds), how late the driver itself ran (p99),
 * memory per session (RSS growth over the sessions, their parsed documents
 * included), and whether every beacon was answered. The HTTP API is not in
 * the loop: this measures the core and the dispatcher.
 */
#include <arpa/inet.h>
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

static char dir[256];
static pid_t nginx_pid;

static int port_open(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, (struct sockaddr *)&a, sizeof a);
  socklen_t l = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &l);
  close(fd);
  return ntohs(a.sin_port);
}

static void stop_nginx(void) {
  if (nginx_pid > 0) {
    kill(nginx_pid, SIGTERM);
    waitpid(nginx_pid, NULL, 0);
    nginx_pid = 0;
  }
  if (dir[0]) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench-ssai: cannot remove %s\n", dir);
  }
}

static int start_nginx(int port) {
  snprintf(dir, sizeof dir, "/tmp/vastrack-bench-ssai-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  char conf[512];
  snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
  FILE *f = fopen(conf, "w");
  if (!f) return -1;
  fprintf(f,
          "worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
          "events { worker_connections 4096; }\n"
          "http {\n  access_log off;\n  keepalive_requests 1000000;\n"
          "  client_body_temp_path %s/cb; proxy_temp_path %s/pt; fastcgi_temp_path %s/ft;\n"
          "  uwsgi_temp_path %s/ut; scgi_temp_path %s/st;\n"
          "  server { listen 127.0.0.1:%d; location /px/ { empty_gif; } }\n}\n",
          dir, dir, dir, dir, dir, dir, dir, port);
  fclose(f);
  nginx_pid = fork();
  if (nginx_pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 2);
    execlp("nginx", "nginx", "-p", dir, "-c", conf, (char *)NULL);
    execl("/usr/sbin/nginx", "nginx", "-p", dir, "-c", conf, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 100; i++) {
    if (port_open(port)) return 0;
    usleep(20000);
  }
  return -1;
}

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

int main(void) {
  const char *e = getenv("BENCH_SSAI_SESSIONS");
  long n = e ? atol(e) : 20000;
  e = getenv("BENCH_SSAI_SECONDS");
  int secs = e ? atoi(e) : 40;
  e = getenv("BENCH_SSAI_AD_SECONDS");
  int ad_s = e ? atoi(e) : 15;
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
                    "<Tracking event=\"start\">http://127.0.0.1:%d/px/start</Tracking>"
                    "<Tracking event=\"firstQuartile\">http://127.0.0.1:%d/px/q1</Tracking>"
                    "<Tracking event=\"midpoint\">http://127.0.0.1:%d/px/mid</Tracking>"
                    "<Tracking event=\"thirdQuartile\">http://127.0.0.1:%d/px/q3</Tracking>"
                    "<Tracking event=\"complete\">http://127.0.0.1:%d/px/complete</Tracking>"
                    "</TrackingEvents><MediaFiles><MediaFile delivery=\"progressive\" "
                    "type=\"video/mp4\" width=\"640\" height=\"360\">http://cdn/a.mp4</MediaFile>"
                    "</MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>",
                    port, ad_s / 60, ad_s % 60, port, port, port, port, port);
  char state[] = "/tmp/vastrack-bench-ssai-state-XXXXXX";
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
  vast_ssai *s = NULL;
  char msg[256];
  if (vast_ssai_create(&o, &s, msg, sizeof msg) != VAST_OK) {
    printf("{\"bench\":\"ssai\",\"error\":\"%s\"}\n", msg);
    stop_nginx();
    return 1;
  }
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
      "{\"bench\":\"ssai\",\"metric\":\"concurrent_plays\",\"sessions\":%ld,\"seconds\":%.1f,"
      "\"reportsPerSecond\":%ld,\"beacons\":%llu,\"beaconsDue\":%llu,\"failed\":%llu,"
      "\"expired\":%llu,\"allAnswered\":%s,\"reportErrors\":%ld,"
      "\"beaconsPerSecond\":%.0f,\"wrkRequestsPerSecond\":%.0f,\"ratioToWrk\":%.3f,"
      "\"latenessP50MsAtMost\":%g,\"latenessP99MsAtMost\":%g,\"driverLateP99Ms\":%.2f,"
      "\"memoryPerSessionBytes\":%.0f,\"coreBytesPerSession\":%.0f,\"adSeconds\":%d,\"perHost\":%u,"
      "\"note\":\"in-process core + dispatcher, journal on; beacons/s is the offered load "
      "(not saturated): wrk's figure is the ceiling of the same nginx; memory includes "
      "the parsed document of the break playing (freed when its ads end)\"}\n",
      n, t1 - t0, n, (unsigned long long)beacons, (unsigned long long)st.due,
      (unsigned long long)st.failed, (unsigned long long)st.expired,
      drained == VAST_OK && st.pending == 0 ? "true" : "false", failed, rate, wrk,
      wrk > 0 ? rate / wrk : 0, hist_q(&st, 0.5), hist_q(&st, 0.99), drv_p99,
      (double)(rss1 - rss0) * 1024.0 / (double)n, (double)st0.memory / (double)n, ad_s, o.per_host);
  free(late);
  free(adno);
  free(ids);
  vast_ssai_free(s);
  stop_nginx();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", state);
  if (system(cmd) != 0) return 1;
  return 0;
}
