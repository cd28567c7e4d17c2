/*
 * bench-fire.c: how fast the dispatcher fires beacons, against the ceiling of
 * this machine, and how close together the Impressions of one ad leave.
 *
 * Starts nginx (temporary config, a free port on 127.0.0.1, access_log off,
 * `empty_gif` on /px/), then in the same run:
 *   1. fires N beacons through one vast_dispatcher (poll mode, one thread,
 *      64 concurrent, keep-alive) and measures beacons/s;
 *   2. runs `wrk -t1 -c64` against the same endpoint for the same kind of
 *      request (one thread, 64 connections): the ceiling;
 *   3. submits A ads of 4 Impressions each (one batch per ad) and measures the
 *      spread between the first and the last Impression leaving (sent_us, taken
 *      when the request is written), p50 and p99, warm pool.
 * Prints JSON lines. Targets: rate >= 50% of wrk; spread p99 < 1 ms.
 * Environment: BENCH_FIRE_N (default 30000), BENCH_FIRE_ADS (default 2000).
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vastrack.h"

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
  socklen_t al = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &al);
  close(fd);
  return ntohs(a.sin_port);
}

static int port_open(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

static char dir[256];
static pid_t nginx_pid;

static void stop_nginx(void) {
  if (nginx_pid > 0) {
    kill(nginx_pid, SIGTERM);
    waitpid(nginx_pid, NULL, 0);
    nginx_pid = 0;
  }
  if (dir[0]) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench-fire: cannot remove %s\n", dir);
  }
}

static int start_nginx(int port) {
  snprintf(dir, sizeof dir, "/tmp/vastrack-bench-fire-XXXXXX");
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
    int st;
    if (waitpid(nginx_pid, &st, WNOHANG) == nginx_pid) {
      nginx_pid = 0;
      return -1;
    }
    usleep(20000);
  }
  return -1;
}

/* Requests/sec reported by wrk, or -1. */
static double run_wrk(int port, int seconds, int conc) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "wrk -t1 -c%d -d%ds http://127.0.0.1:%d/px/wrk 2>/dev/null", conc,
           seconds, port);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  char line[512];
  double rps = -1;
  while (fgets(line, sizeof line, p))
    if (sscanf(line, "Requests/sec: %lf", &rps) == 1) break;
  while (fgets(line, sizeof line, p)) {
  }
  pclose(p);
  return rps;
}

typedef struct counts {
  unsigned long ok, bad;
  uint64_t lo, hi; /* sent_us range of the current ad */
} counts;

static void on_del(void *ctx, const vast_delivery *d) {
  counts *c = ctx;
  if (d->err == VAST_OK && d->status == 200)
    c->ok++;
  else
    c->bad++;
  if (d->sent_us) {
    if (!c->lo || d->sent_us < c->lo) c->lo = d->sent_us;
    if (d->sent_us > c->hi) c->hi = d->sent_us;
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

int main(void) {
  long n = getenv("BENCH_FIRE_N") ? atol(getenv("BENCH_FIRE_N")) : 30000;
  long ads = getenv("BENCH_FIRE_ADS") ? atol(getenv("BENCH_FIRE_ADS")) : 2000;
  if (n < 1000) n = 1000;
  if (ads < 100) ads = 100;
  int conc = getenv("BENCH_FIRE_CONC") ? atoi(getenv("BENCH_FIRE_CONC")) : 64;
  if (conc < 1) conc = 64;
  int port = free_port();
  if (port <= 0 || start_nginx(port) != 0) {
    printf("{\"bench\":\"fire\",\"error\":\"cannot start nginx\"}\n");
    stop_nginx();
    return 1;
  }
  counts c = {0};
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.max_concurrent = conc;
  o.max_queue = 8192;
  o.private_policy = VAST_PRIVATE_ALLOW;
  o.on_delivery = on_del;
  o.ctx = &c;
  vast_dispatcher *d = NULL;
  if (vast_dispatcher_create(&o, &d) != VAST_OK) {
    stop_nginx();
    return 1;
  }
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/px/b", port);
  vast_beacon b = {url, "bench", -1, NULL};

  /* warm-up: open the pool */
  for (int i = 0; i < 256; i++) vast_dispatcher_submit(d, &b, 1);
  vast_dispatcher_drain(d, 10000);
  c.ok = c.bad = 0;

  /* 1. throughput: keep the queue fed, step until all are delivered */
  struct rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  double t0 = mono();
  long sent = 0;
  while (sent < n || vast_dispatcher_step(d, 0) > 0) {
    while (sent < n && vast_dispatcher_submit(d, &b, 1) == VAST_OK) sent++;
    vast_dispatcher_step(d, 5);
  }
  double wall = mono() - t0, rate = (double)n / wall;
  getrusage(RUSAGE_SELF, &ru1);
  double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
                        ru0.ru_stime.tv_sec) +
               (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec -
                        ru0.ru_stime.tv_usec) / 1e6;
  unsigned long bad = c.bad;

  /* 2. the ceiling: wrk, same endpoint, one thread, 64 connections */
  double wrk = run_wrk(port, 3, conc);

  /* 3. impression spread: 4 Impressions per ad, one batch each */
  uint64_t *spread = calloc((size_t)ads, sizeof *spread);
  char u[4][128];
  vast_beacon imp[4];
  for (int k = 0; k < 4; k++) {
    snprintf(u[k], sizeof u[k], "http://127.0.0.1:%d/px/imp%d", port, k);
    imp[k] = (vast_beacon){u[k], "impression", 0, NULL};
  }
  for (long a = 0; a < ads; a++) {
    c.lo = c.hi = 0;
    vast_dispatcher_submit(d, imp, 4);
    vast_dispatcher_drain(d, 5000);
    spread[a] = c.hi - c.lo;
  }
  qsort(spread, (size_t)ads, sizeof *spread, cmp_u64);
  uint64_t p50 = spread[ads / 2], p99 = spread[(ads * 99) / 100], mx = spread[ads - 1];
  vast_dispatcher_free(d);
  free(spread);
  stop_nginx();

  printf("{\"bench\":\"fire\",\"metric\":\"beacons_per_s\",\"value\":%.0f,\"beacons\":%ld,"
         "\"failed\":%lu,\"concurrency\":%d,\"cpu_us_per_beacon\":%.1f,"
         "\"peer\":\"wrk -t1 -c%d (same nginx empty_gif, same run)\","
         "\"peer_value\":%.0f,\"ratio\":%.3f,\"target_ratio\":0.5}\n",
         rate, n, bad, conc, cpu * 1e6 / (double)n, conc, wrk, wrk > 0 ? rate / wrk : 0);
  printf("{\"bench\":\"fire\",\"metric\":\"impression_spread_us\",\"impressions_per_ad\":4,"
         "\"ads\":%ld,\"p50\":%llu,\"p99\":%llu,\"max\":%llu,\"target_p99_us\":1000,"
         "\"floor\":\"0 (all written in one curl_multi_perform)\",\"ratio_p99_to_target\":%.3f}\n",
         ads, (unsigned long long)p50, (unsigned long long)p99, (unsigned long long)mx,
         (double)p99 / 1000.0);
  return 0;
}
