/*
 * bench-fire.c: how fast the dispatcher fires beacons, against the ceiling of
 * this machine, and how close together the Impressions of one ad leave.
 *
 * Starts nginx (temporary config, a free port on 127.0.0.1, one worker,
 * access_log off, keepalive_requests 1000000, `empty_gif` on /px/, stub_status
 * on /status), then in the same run, alternating short rounds of both sides so
 * that the load of a shared machine hits both alike:
 *   1. ROUNDS times: N/ROUNDS beacons through one vast_dispatcher (poll mode,
 *      one thread, 64 concurrent, keep-alive), then `wrk -t1 -c64 -d1s` on the
 *      same endpoint (one thread, 64 keep-alive connections): the ceiling.
 *      Reported: the best round of each, their ratio, and the median of the
 *      per-round ratios; CPU per request of both sides (getrusage; wrk's
 *      includes the shell that starts it); connections the dispatcher opened
 *      (nginx stub_status accepts: keep-alive means about 64, not N);
 *   2. the same with curl_only (every beacon through libcurl), fewer rounds:
 *      what the plain-http fast path gains;
 *   3. submits A ads of 4 Impressions each (one batch per ad) and measures the
 *      spread between the first and the last Impression leaving (sent_us, taken
 *      when the request is written), p50 and p99, warm pool.
 * Prints JSON lines. Targets: rate >= 50% of wrk; spread p99 < 1 ms.
 * Environment: BENCH_FIRE_N (default 60000), BENCH_FIRE_ROUNDS (default 5),
 * BENCH_FIRE_ADS (default 2000), BENCH_FIRE_CONC (default 64).
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
#include "bench-nginx.h"

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* nginx's count of accepted connections (stub_status), or -1. */
static long nginx_accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  long acc = -1;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
    const char *q = "GET /status HTTP/1.0\r\nHost: x\r\n\r\n";
    if (write(fd, q, strlen(q)) == (ssize_t)strlen(q)) {
      char buf[2048];
      size_t n = 0;
      ssize_t k;
      while (n < sizeof buf - 1 && (k = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)k;
      buf[n] = 0;
      char *p = strstr(buf, "requests\n");
      if (p) acc = strtol(p + 9, NULL, 10);
    }
  }
  close(fd);
  return acc;
}

static double cpu_of(int who) {
  struct rusage ru;
  getrusage(who, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
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

/* Fires n beacons keeping the queue fed; returns beacons/s, adds CPU seconds. */
static double fire_round(vast_dispatcher *d, const vast_beacon *b, long n, double *cpu) {
  double c0 = cpu_of(RUSAGE_SELF), t0 = mono();
  long sent = 0;
  while (sent < n || vast_dispatcher_step(d, 0) > 0) {
    while (sent < n && vast_dispatcher_submit(d, b, 1) == VAST_OK)
      sent++;
    vast_dispatcher_step(d, 5);
  }
  double wall = mono() - t0;
  *cpu += cpu_of(RUSAGE_SELF) - c0;
  return (double)n / wall;
}

typedef struct side {
  double best, cpu, ratios[32];
  long beacons;
  unsigned long bad;
} side;

/* Alternating rounds: dispatcher (curl_only or not), then wrk. */
static int measure(int port, const char *url, int conc, int curl_only, int rounds, long per_round,
                   side *s, double *wrk_best, double *wrk_cpu, double *wrk_reqs, long *conns) {
  counts c = {0};
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.max_concurrent = (unsigned)conc;
  o.max_queue = 8192;
  o.private_policy = VAST_PRIVATE_ALLOW;
  o.on_delivery = on_del;
  o.ctx = &c;
  o.curl_only = curl_only;
  vast_dispatcher *d = NULL;
  if (vast_dispatcher_create(&o, &d) != VAST_OK) return -1;
  vast_beacon b = {url, "bench", -1, NULL};
  /* connections nginx accepted while only the dispatcher ran (each stub_status
     request is one more) */
  long opened = 0, acc0 = nginx_accepts(port), acc1;
  for (int i = 0; i < 256; i++)
    vast_dispatcher_submit(d, &b, 1); /* warm-up: open the pool */
  vast_dispatcher_drain(d, 10000);
  c.ok = c.bad = 0;
  acc1 = nginx_accepts(port);
  opened += acc0 >= 0 && acc1 >= 0 ? acc1 - acc0 - 1 : 0;
  for (int r = 0; r < rounds; r++) {
    acc0 = nginx_accepts(port);
    double rate = fire_round(d, &b, per_round, &s->cpu);
    acc1 = nginx_accepts(port);
    opened += acc0 >= 0 && acc1 >= 0 ? acc1 - acc0 - 1 : 0;
    s->beacons += per_round;
    if (rate > s->best) s->best = rate;
    if (wrk_best) {
      double w0 = cpu_of(RUSAGE_CHILDREN);
      double w = run_wrk(port, 1, conc);
      *wrk_cpu += cpu_of(RUSAGE_CHILDREN) - w0;
      if (w > 0) *wrk_reqs += w; /* 1 s runs: requests ~ rate */
      if (w > *wrk_best) *wrk_best = w;
      s->ratios[r] = w > 0 ? rate / w : 0;
    }
  }
  if (conns) *conns = opened;
  s->bad = c.bad;
  vast_dispatcher_free(d);
  return 0;
}

int main(void) {
  long n = getenv("BENCH_FIRE_N") ? atol(getenv("BENCH_FIRE_N")) : 60000;
  long ads = getenv("BENCH_FIRE_ADS") ? atol(getenv("BENCH_FIRE_ADS")) : 2000;
  int rounds = getenv("BENCH_FIRE_ROUNDS") ? atoi(getenv("BENCH_FIRE_ROUNDS")) : 5;
  if (rounds < 1 || rounds > 32) rounds = 5;
  if (n < 1000 * rounds) n = 1000L * rounds;
  if (ads < 100) ads = 100;
  int conc = getenv("BENCH_FIRE_CONC") ? atoi(getenv("BENCH_FIRE_CONC")) : 64;
  if (conc < 1) conc = 64;
  int port = free_port();
  if (port <= 0 || start_nginx(port) != 0) {
    printf("{\"bench\":\"fire\",\"error\":\"cannot start nginx\"}\n");
    stop_nginx();
    return 1;
  }
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/px/b", port);

  /* 1. fast path vs wrk, alternating */
  side fast = {0}, curl = {0};
  double wrk = 0, wrk_cpu = 0, wrk_reqs = 0;
  long conns = -1;
  if (measure(port, url, conc, 0, rounds, n / rounds, &fast, &wrk, &wrk_cpu, &wrk_reqs, &conns)) {
    stop_nginx();
    return 1;
  }
  /* 2. libcurl only, for comparison (shorter) */
  int crounds = rounds > 2 ? 2 : rounds;
  measure(port, url, conc, 1, crounds, n / rounds, &curl, NULL, NULL, NULL, NULL);
  qsort(fast.ratios, (size_t)rounds, sizeof fast.ratios[0], cmp_dbl);

  /* 3. impression spread: 4 Impressions per ad, one batch each */
  counts c = {0};
  vast_dispatch_opts o;
  vast_dispatch_opts_init(&o);
  o.max_concurrent = (unsigned)conc;
  o.private_policy = VAST_PRIVATE_ALLOW;
  o.on_delivery = on_del;
  o.ctx = &c;
  vast_dispatcher *d = NULL;
  if (vast_dispatcher_create(&o, &d) != VAST_OK) {
    stop_nginx();
    return 1;
  }
  uint64_t *spread = calloc((size_t)ads, sizeof *spread);
  char u[4][128];
  vast_beacon imp[4];
  for (int k = 0; k < 4; k++) {
    snprintf(u[k], sizeof u[k], "http://127.0.0.1:%d/px/imp%d", port, k);
    imp[k] = (vast_beacon){u[k], "impression", 0, NULL};
  }
  for (int a = 0; a < 16; a++) { /* warm pool */
    vast_dispatcher_submit(d, imp, 4);
    vast_dispatcher_drain(d, 5000);
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
         "\"failed\":%lu,\"concurrency\":%d,\"rounds\":%d,\"cpu_us_per_beacon\":%.1f,"
         "\"connections_opened\":%ld,\"beacons_incl_warmup\":%ld,"
         "\"peer\":\"wrk -t1 -c%d -d1s (same nginx: 1 worker, keep-alive, access_log off, "
         "empty_gif; same run, rounds alternating with the dispatcher's)\","
         "\"peer_value\":%.0f,\"peer_cpu_us_per_request\":%.1f,"
         "\"ratio\":%.3f,\"ratio_median\":%.3f,\"method\":\"best round of each side\","
         "\"curl_only_value\":%.0f,\"curl_only_cpu_us_per_beacon\":%.1f,"
         "\"curl_only_failed\":%lu,\"target_ratio\":0.5}\n",
         fast.best, fast.beacons, fast.bad, conc, rounds, fast.cpu * 1e6 / (double)fast.beacons,
         conns, fast.beacons + 256, conc, wrk, wrk_reqs > 0 ? wrk_cpu * 1e6 / wrk_reqs : 0,
         wrk > 0 ? fast.best / wrk : 0, fast.ratios[rounds / 2], curl.best,
         curl.beacons ? curl.cpu * 1e6 / (double)curl.beacons : 0, curl.bad);
  printf("{\"bench\":\"fire\",\"metric\":\"impression_spread_us\",\"impressions_per_ad\":4,"
         "\"ads\":%ld,\"p50\":%llu,\"p99\":%llu,\"max\":%llu,\"target_p99_us\":1000,"
         "\"floor\":\"0 (a batch is written in one step)\",\"ratio_p99_to_target\":%.3f}\n",
         ads, (unsigned long long)p50, (unsigned long long)p99, (unsigned long long)mx,
         (double)p99 / 1000.0);
  return 0;
}
