/*
 * kafka-mock.c: a test helper for tests/e2e/ssai-kafka.sh (not a test itself).
 *
 *   kafka-mock cluster TOPIC:PARTITIONS...
 *       runs librdkafka's mock cluster (one broker, listening on 127.0.0.1),
 *       creates the topics, prints "bootstrap HOST:PORT" and serves until
 *       SIGTERM or SIGINT; other processes reach it like a broker.
 *   kafka-mock produce BOOTSTRAP TOPIC [GAP_MS] < LINES
 *       produces one message per line "KEY VALUE" (KEY up to the first space),
 *       waiting GAP_MS between messages, then waits for every delivery; prints
 *       "produced N" and exits 0, or 1 when a message was not delivered.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static long failed;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static int cluster(int argc, char **argv) {
  char e[256];
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  rd_kafka_conf_set(c, "log_level", "0", e, sizeof e);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
  if (!rk) {
    fprintf(stderr, "kafka-mock: %s\n", e);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
  if (!mc) {
    fprintf(stderr, "kafka-mock: cannot start the mock cluster\n");
    return 1;
  }
  for (int i = 0; i < argc; i++) {
    char name[256];
    int parts = 0;
    if (sscanf(argv[i], "%255[^:]:%d", name, &parts) != 2 || parts < 1 ||
        rd_kafka_mock_topic_create(mc, name, parts, 1)) {
      fprintf(stderr, "kafka-mock: cannot create topic '%s' (NAME:PARTITIONS)\n", argv[i]);
      return 1;
    }
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);
  while (!stop)
    pause();
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk, (void)opaque;
  if (m->err) {
    fprintf(stderr, "kafka-mock: not delivered: %s\n", rd_kafka_err2str(m->err));
    failed++;
  }
}

static int produce(const char *boot, const char *topic, long gap_ms) {
  char e[256];
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  if (rd_kafka_conf_set(c, "bootstrap.servers", boot, e, sizeof e) ||
      rd_kafka_conf_set(c, "linger.ms", "0", e, sizeof e) ||
      rd_kafka_conf_set(c, "log_level", "0", e, sizeof e)) {
    fprintf(stderr, "kafka-mock: %s\n", e);
    return 1;
  }
  rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
  rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
  if (!p) {
    fprintf(stderr, "kafka-mock: %s\n", e);
    return 1;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  long n = 0;
  struct timespec gap = {gap_ms / 1000, (gap_ms % 1000) * 1000000L};
  while ((len = getline(&line, &cap, stdin)) > 0) {
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = 0;
    char *sp = strchr(line, ' ');
    if (!sp || sp == line) continue;
    size_t klen = (size_t)(sp - line);
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(line, klen),
                                    RD_KAFKA_V_VALUE(sp + 1, strlen(sp + 1)),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(p, 10);
    if (err) {
      fprintf(stderr, "kafka-mock: cannot produce: %s\n", rd_kafka_err2str(err));
      failed++;
    }
    n++;
    rd_kafka_poll(p, 0);
    if (gap_ms > 0) nanosleep(&gap, NULL);
  }
  free(line);
  if (rd_kafka_flush(p, 20000)) {
    fprintf(stderr, "kafka-mock: %d messages not delivered in 20 s\n", rd_kafka_outq_len(p));
    failed++;
  }
  rd_kafka_destroy(p);
  printf("produced %ld\n", n);
  return failed ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "cluster")) return cluster(argc - 2, argv + 2);
  if ((argc == 4 || argc == 5) && !strcmp(argv[1], "produce"))
    return produce(argv[2], argv[3], argc == 5 ? atol(argv[4]) : 0);
  fprintf(stderr, "usage: kafka-mock cluster TOPIC:PARTITIONS...\n"
                  "       kafka-mock produce BOOTSTRAP TOPIC [GAP_MS] < 'KEY VALUE' lines\n");
  return 2;
}
