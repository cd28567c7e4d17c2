/*
 * cmd-ssai.c: `vastrack ssai`, the server-side beaconing service. A thin
 * wrapper over vast_ssai_create and vast_ssai_serve (vastrack/ssai.h):
 * options, signals, and the final drain.
 */
static const char usage_text[] =
    "usage: vastrack ssai --listen ADDR:PORT [--state DIR] [options]\n"
    "\n"
    "Fires the beacons of server-side ad insertion on behalf of the devices: an\n"
    "SSAI stitcher creates a session per viewer (device IP, User-Agent...), adds\n"
    "ad breaks (a VAST or VMAP URL or document: the answer is the timeline) and\n"
    "reports what each player consumed (positions or segment requests); every\n"
    "beacon due is sent with X-Device-IP / X-Device-User-Agent, in order per ad,\n"
    "retried on timeouts and 5xx until its deadline, journalled in DIR so none is\n"
    "lost across a crash. API, model and guarantees: docs/ssai.md.\n";

static const char epilog[] =
    "SIGTERM or SIGINT stops accepting, waits up to 5 s for the beacons due and\n"
    "exits 0. Exit status: 2 usage, 4 cannot start (the reason is printed).\n";

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"

static volatile int stop_flag;

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

static void on_ready(void *u, int port) {
  (void)u;
  printf("listening on port %d\n", port);
  fflush(stdout);
}

int cmd_ssai(int argc, char **argv) {
  vast_ssai_opts o;
  vast_ssai_opts_init(&o);
  const char *listen = NULL;
  const char *source = NULL;
  vast_net_policy *pol = cli_net_policy();
  pol->allow_private = 0;
  int allow_private = 0;
  const cli_opt table[] = {
      CLI_STRING("listen", "ADDR:PORT", listen, "the HTTP/JSON API (IPv4; port 0: any, printed)"),
      CLI_STRING("state", "DIR", o.state_dir,
                 "the journal of sessions and beacons (created); none:\n"
                 "nothing survives a restart"),
      CLI_DOUBLE("idle-timeout", "S", o.idle_timeout_s, 0.01, 86400, 0,
                 "a session with no call for S seconds ends (default 60)"),
      CLI_INT("deadline", "MS", o.deadline_ms, 1, 86400000,
              "a beacon unanswered MS after due expires (default 30000)"),
      CLI_INT("retry-base", "MS", o.retry_base_ms, 1, 600000,
              "first retry delay, doubled each time (default 250)"),
      CLI_INT("per-host", "N", o.per_host, 1, 100000,
              "requests in flight per destination host (default 32)"),
      CLI_INT("max-concurrent", "N", o.max_concurrent, 1, 100000,
              "requests in flight in all (default 512)"),
      CLI_INT("timeout", "MS", o.timeout_ms, 1, 600000, "one beacon request (default 5000)"),
      CLI_STRING("source", "kafka://BROKERS/TOPIC", source,
                 "also consume sessions, breaks, reports, events and ends\n"
                 "from Kafka, keyed by session id, in consumer group\n"
                 "vastrack-ssai (?group=G to change; other ?k=v are\n"
                 "librdkafka properties); instances in one group share the\n"
                 "partitions; the consumer's figures join /metrics\n"
                 "(vastrack_ssai_kafka_*; docs/ssai.md)"),
      CLI_FLAG("forwarded-for", o.forwarded_for, "also send X-Forwarded-For: the device IP"),
      CLI_FLAG("allow-private", allow_private,
               "let tags and beacons reach loopback/private addresses\n"
               "(tests only; refused by default)"),
      CLI_END};
  const cli_cmd cmd = {"ssai", usage_text, table, epilog};
  int n = cli_opts_parse(&cmd, argc, argv);
  if (n < 0) return cli_opts_exit(n);
  if (n > 0) {
    cli_error("ssai: unexpected argument '%s' (see vastrack ssai --help)", argv[1]);
    return CLI_USAGE;
  }
  if (allow_private) pol->allow_private = 1;
  if (!listen) {
    cli_error("--listen ADDR:PORT is required (see vastrack ssai --help)");
    return CLI_USAGE;
  }
  o.policy = pol;
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  char msg[512];
  vast_ssai *s = NULL;
  vast_err rc = vast_ssai_create(&o, &s, msg, sizeof msg);
  if (rc != VAST_OK) {
    cli_error("cannot start: %s", msg[0] ? msg : vast_strerror(rc));
    return CLI_FAIL;
  }
  vast_ssai_figures st;
  vast_ssai_stats(s, &st);
  vast_ssai_figures2 st2 = {sizeof st2, 0, 0, 0, 0, 0, 0, 0};
  vast_ssai_stats2(s, &st2);
  if (st.recovered || st.expired || st2.sessions_restored)
    fprintf(stderr,
            "vastrack ssai: journal: %llu sessions restored, %llu beacons to send again, "
            "%llu expired\n",
            (unsigned long long)st2.sessions_restored, (unsigned long long)st.recovered,
            (unsigned long long)st.expired);
  vast_ssai_kafka *kafka = NULL;
  if (source) {
    rc = vast_ssai_kafka_start(s, source, o.idle_timeout_s, &kafka, msg, sizeof msg);
    if (rc != VAST_OK) {
      cli_error("cannot start: %s", msg[0] ? msg : vast_strerror(rc));
      vast_ssai_free(s);
      return rc == VAST_E_INVAL ? CLI_USAGE : CLI_FAIL;
    }
  }
  rc = vast_ssai_serve(s, listen, &stop_flag, on_ready, NULL, msg, sizeof msg);
  vast_ssai_kafka_stop(kafka); /* leaves the group: the partitions go to the others */
  if (rc != VAST_OK) {
    cli_error("%s", msg[0] ? msg : vast_strerror(rc));
    vast_ssai_free(s);
    return rc == VAST_E_INVAL ? CLI_USAGE : CLI_FAIL;
  }
  vast_ssai_drain(s, 5000);
  vast_ssai_free(s);
  return CLI_OK;
}
