/*
 * test-ssai-kafka.c: the SSAI service fed from Kafka (vast_ssai_kafka_start)
 * against librdkafka's mock cluster: two instances in one consumer group,
 * one leaves midway, the other picks its sessions up from the events; every
 * beacon reaches a real HTTP receiver on 127.0.0.1, duplicates are counted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "vastrack.h"

enum { N = 40, EVENTS = 6 };
static const char *const ev_names[EVENTS] = {"imp", "start", "q1", "mid", "q3", "complete"};
static int srv_port, srv_fd = -1;
static int counts[N][EVENTS], others;
static pthread_mutex_t srv_mu = PTHREAD_MUTEX_INITIALIZER;

static void count_path(const char *path) {
  int sn = -1;
  char ev[32] = "";
  pthread_mutex_lock(&srv_mu);
  if (sscanf(path, "/k/s%d/%31[a-z0-9]", &sn, ev) == 2 && sn >= 0 && sn < N) {
    int hit = 0;
    for (int i = 0; i < EVENTS; i++)
      if (!strcmp(ev, ev_names[i])) counts[sn][i]++, hit = 1;
    others += !hit;
  } else {
    others++;
  }
  pthread_mutex_unlock(&srv_mu);
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
    char path[512] = "";
    sscanf(buf, "%*s %511s", path);
    memmove(buf, buf + hl, n - hl);
    n -= hl;
    count_path(path);
    static const char ok[] = "HTTP/1.1 204 X\r\nContent-Length: 0\r\n\r\n";
    if (send(fd, ok, sizeof ok - 1, MSG_NOSIGNAL) < 0) goto out;
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

static int seen_all(int ev) {
  pthread_mutex_lock(&srv_mu);
  int c = 0;
  for (int i = 0; i < N; i++)
    c += counts[i][ev] > 0;
  pthread_mutex_unlock(&srv_mu);
  return c == N;
}

static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Waits (ticking the services) until every session fired ev; 0 or -1 after 15 s. */
static int wait_event(int ev, vast_ssai *a, vast_ssai *b) {
  for (int i = 0; i < 1500; i++) {
    if (seen_all(ev)) return 0;
    if (a) vast_ssai_tick(a);
    if (b) vast_ssai_tick(b);
    nap_ms(10);
  }
  return -1;
}

static rd_kafka_t *producer(const char *boot) {
  char e[256];
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  rd_kafka_conf_set(c, "bootstrap.servers", boot, e, sizeof e);
  rd_kafka_conf_set(c, "linger.ms", "1", e, sizeof e);
  rd_kafka_conf_set(c, "log_level", "0", e, sizeof e);
  return rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
}

static void produce(rd_kafka_t *p, int sn, const char *json) {
  char key[16];
  snprintf(key, sizeof key, "s%d", sn);
  rd_kafka_resp_err_t e =
      rd_kafka_producev(p, RD_KAFKA_V_TOPIC("ssai"), RD_KAFKA_V_KEY(key, strlen(key)),
                        RD_KAFKA_V_VALUE((void *)json, strlen(json)),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  CHECK_INT(e, 0);
}

static void produce_phase(rd_kafka_t *p, int phase) {
  char js[4096];
  for (int i = 0; i < N; i++) {
    if (phase == 0) {
      snprintf(js, sizeof js,
               "{\"type\":\"session\",\"sessionId\":\"s%d\",\"deviceIp\":\"203.0.113.9\","
               "\"userAgent\":\"Roku/DVP-9.10\"}",
               i);
      produce(p, i, js);
      char u[64];
      snprintf(u, sizeof u, "http://127.0.0.1:%d/k/s%d", srv_port, i);
      snprintf(js, sizeof js,
               "{\"type\":\"break\",\"sessionId\":\"s%d\",\"vast\":\"<VAST version=\\\"4.2\\\">"
               "<Ad id=\\\"a\\\"><InLine><AdSystem>t</AdSystem><AdTitle>t</AdTitle>"
               "<Impression>%s/imp</Impression><Creatives><Creative><Linear>"
               "<Duration>00:00:30</Duration><TrackingEvents>"
               "<Tracking event=\\\"start\\\">%s/start</Tracking>"
               "<Tracking event=\\\"firstQuartile\\\">%s/q1</Tracking>"
               "<Tracking event=\\\"midpoint\\\">%s/mid</Tracking>"
               "<Tracking event=\\\"thirdQuartile\\\">%s/q3</Tracking>"
               "<Tracking event=\\\"complete\\\">%s/complete</Tracking></TrackingEvents>"
               "<MediaFiles><MediaFile delivery=\\\"progressive\\\" type=\\\"video/mp4\\\" "
               "width=\\\"640\\\" height=\\\"360\\\">http://x/a.mp4</MediaFile></MediaFiles>"
               "</Linear></Creative></Creatives></InLine></Ad></VAST>\"}",
               i, u, u, u, u, u, u);
      produce(p, i, js);
      snprintf(js, sizeof js,
               "{\"type\":\"report\",\"sessionId\":\"s%d\",\"ad\":0,\"mediaTime\":10}", i);
    } else if (phase == 1) {
      snprintf(js, sizeof js,
               "{\"type\":\"report\",\"sessionId\":\"s%d\",\"ad\":0,\"segment\":3,"
               "\"segmentDuration\":5}",
               i);
    } else {
      snprintf(js, sizeof js,
               "{\"type\":\"report\",\"sessionId\":\"s%d\",\"ad\":0,\"mediaTime\":30}", i);
      produce(p, i, js);
      snprintf(js, sizeof js, "{\"type\":\"end\",\"sessionId\":\"s%d\"}", i);
    }
    produce(p, i, js);
  }
  CHECK_INT(rd_kafka_flush(p, 10000), 0);
}

/* Collects what a vast_write_fn writes (metrics text). */
typedef struct text {
  char b[8192];
  size_t n;
} text;

static int text_write(void *ctx, const char *d, size_t n) {
  text *t = ctx;
  if (t->n + n >= sizeof t->b) return -1;
  memcpy(t->b + t->n, d, n);
  t->n += n;
  t->b[t->n] = 0;
  return 0;
}

static vast_ssai *service(void) {
  static vast_net_policy pol;
  vast_net_policy_init(&pol);
  pol.allow_private = 1;
  vast_ssai_opts o;
  vast_ssai_opts_init(&o);
  o.policy = &pol;
  vast_ssai *s = NULL;
  char msg[256];
  CHECK_INT(vast_ssai_create(&o, &s, msg, sizeof msg), VAST_OK);
  return s;
}

static vast_ssai_kafka *consumer(vast_ssai *s, const char *boot) {
  char uri[512], msg[256];
  snprintf(uri, sizeof uri,
           "kafka://%s/ssai?group=g&log_level=0&session.timeout.ms=6000&"
           "heartbeat.interval.ms=100",
           boot);
  vast_ssai_kafka *k = NULL;
  vast_err rc = vast_ssai_kafka_start(s, uri, 60, &k, msg, sizeof msg);
  if (rc) fprintf(stderr, "kafka: %s\n", msg);
  CHECK_INT(rc, VAST_OK);
  return k;
}

TEST(rebalance_hands_sessions_over_without_losing_beacons) {
  srv_start();
  char e[256];
  rd_kafka_conf_t *mconf = rd_kafka_conf_new();
  rd_kafka_conf_set(mconf, "log_level", "0", e, sizeof e);
  rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, e, sizeof e);
  CHECK(mrk != NULL);
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
  CHECK(mc != NULL);
  CHECK_INT(rd_kafka_mock_topic_create(mc, "ssai", 4, 1), 0);
  const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
  rd_kafka_t *p = producer(boot);
  CHECK(p != NULL);

  vast_ssai *sa = service(), *sb = service();
  vast_ssai_kafka *ka = consumer(sa, boot), *kb = consumer(sb, boot);
  vast_ssai_kafka_figures fa, fb;
  for (int i = 0; i < 1500; i++) { /* both members joined: each got an assignment */
    vast_ssai_kafka_stats(ka, &fa);
    vast_ssai_kafka_stats(kb, &fb);
    if (fa.rebalances && fb.rebalances) break;
    nap_ms(10);
  }
  CHECK(fa.rebalances && fb.rebalances);

  produce_phase(p, 0); /* sessions, breaks, 10 s played: imp, start, q1 */
  CHECK_INT(wait_event(2, sa, sb), 0);
  produce_phase(p, 1); /* segment 3 of 5 s: 20 s: mid */
  CHECK_INT(wait_event(3, sa, sb), 0);
  CHECK_INT(vast_ssai_drain(sa, 5000), VAST_OK);
  CHECK_INT(vast_ssai_drain(sb, 5000), VAST_OK);
  vast_ssai_figures st;
  vast_ssai_stats(sa, &st);
  long live_a = (long)st.sessions;
  vast_ssai_stats(sb, &st);
  CHECK_INT(live_a + (long)st.sessions, N);
  CHECK(live_a > 0 && live_a < N); /* the partitions were shared */

  /* librdkafka's mock cluster refuses offset commits while the group
     rebalances (a broker accepts the commit of a revoke), so both instances
     get to commit their caught-up state (when idle, within 50 ms) first. */
  nap_ms(300);
  vast_ssai_kafka_stop(ka); /* A commits and leaves: B takes every partition */
  vast_ssai_stats(sa, &st);
  CHECK_INT((long)st.sessions, 0); /* A's sessions ended there, without beacons */
  for (int i = 0; i < 1500; i++) {
    vast_ssai_stats(sb, &st);
    if (st.sessions == N) break;
    vast_ssai_tick(sb);
    nap_ms(10);
  }
  CHECK_INT((long)st.sessions, N); /* B replayed A's live sessions from the events */

  produce_phase(p, 2); /* to the end: q3, complete; then end */
  CHECK_INT(wait_event(5, sa, sb), 0);
  CHECK_INT(vast_ssai_drain(sb, 5000), VAST_OK);
  CHECK_INT(vast_ssai_drain(sa, 5000), VAST_OK);
  nap_ms(300);

  int missing = 0, dups = 0;
  pthread_mutex_lock(&srv_mu);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < EVENTS; j++) {
      missing += counts[i][j] == 0;
      if (counts[i][j] > 1) {
        dups += counts[i][j] - 1;
        fprintf(stderr, "  s%d %s x%d\n", i, ev_names[j], counts[i][j]);
      }
    }
  int stray = others;
  pthread_mutex_unlock(&srv_mu);
  vast_ssai_kafka_stats(kb, &fb);
  fprintf(stderr,
          "kafka rebalance: %d sessions, %ld live on A at the handover, %d beacons expected, "
          "%d missing, %d duplicates; B replayed %llu messages quietly, %llu refused, "
          "%llu commits, %llu failed\n",
          N, live_a, N * EVENTS, missing, dups, (unsigned long long)fb.replayed_quietly,
          (unsigned long long)fb.refused, (unsigned long long)fb.commits,
          (unsigned long long)fb.commit_errors);
  CHECK_INT(missing, 0);
  CHECK_INT(stray, 0);
  CHECK(dups <= live_a); /* measured: 0 (what A applied, B replayed quietly) */
  CHECK(fb.replayed_quietly >= (unsigned long long)live_a * 4);
  CHECK_INT((long)fb.refused, 0);

  /* the same figures in Prometheus text, with the partitions held (all 4) */
  text t = {.n = 0};
  CHECK_INT(vast_ssai_kafka_write_metrics(kb, text_write, &t), VAST_OK);
  char want[160];
  snprintf(want, sizeof want, "\nvastrack_ssai_kafka_replayed_total %llu\n",
           (unsigned long long)fb.replayed_quietly);
  CHECK(strstr(t.b, want) != NULL);
  CHECK(strstr(t.b, "# TYPE vastrack_ssai_kafka_messages_total counter\n") != NULL);
  CHECK(strstr(t.b, "# HELP vastrack_ssai_kafka_partitions ") != NULL);
  CHECK(strstr(t.b, "\nvastrack_ssai_kafka_partitions 4\n") != NULL);
  CHECK(strstr(t.b, "\nvastrack_ssai_kafka_lag_messages 0\n") != NULL);
  CHECK(strstr(t.b, "\nvastrack_ssai_kafka_refused_total 0\n") != NULL);
  CHECK_INT(vast_ssai_kafka_write_metrics(NULL, text_write, &t), VAST_E_INVAL);

  vast_ssai_kafka_stop(kb);
  vast_ssai_free(sa);
  vast_ssai_free(sb);
  rd_kafka_destroy(p);
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(mrk);
}

TEST(bad_source_uri_is_refused) {
  vast_ssai *s = service();
  vast_ssai_kafka *k = (vast_ssai_kafka *)1;
  char msg[256];
  CHECK_INT(vast_ssai_kafka_start(s, "http://x/t", 0, &k, msg, sizeof msg), VAST_E_INVAL);
  CHECK(k == NULL);
  CHECK(strstr(msg, "kafka://BROKERS/TOPIC") != NULL);
  CHECK_INT(vast_ssai_kafka_start(s, "kafka://127.0.0.1:9/", 0, &k, msg, sizeof msg), VAST_E_INVAL);
  CHECK_INT(
      vast_ssai_kafka_start(s, "kafka://127.0.0.1:9/t?nosuch.property=1", 0, &k, msg, sizeof msg),
      VAST_E_INVAL);
  CHECK(strstr(msg, "nosuch.property") != NULL);
  vast_ssai_kafka_stop(NULL);
  vast_ssai_free(s);
}

static const th_case cases[] = {
    TH(rebalance_hands_sessions_over_without_losing_beacons), TH(bad_source_uri_is_refused), {0}};

int main(int c, char **v) {
  return th_main(__FILE__, cases, c, v);
}
