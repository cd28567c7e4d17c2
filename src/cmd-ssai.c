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
    "ad breaks (a VAST URL or document: the answer is the break's timeline) and\n"
    "reports what each player consumed (positions or segment requests); every\n"
    "beacon due is sent with X-Device-IP / X-Device-User-Agent, in order per ad,\n"
    "retried on timeouts and 5xx until its deadline, journalled in DIR so none is\n"
    "lost across a crash. API, model and guarantees: docs/ssai.md.\n"
    "\n"
    "options:\n"
    "  --listen ADDR:PORT   the HTTP/JSON API (IPv4; port 0: any, printed)\n"
    "  --state DIR          the journal of sessions and beacons (created); none:\n"
    "                       nothing survives a restart\n"
    "  --idle-timeout S     a session with no call for S seconds ends (default 60)\n"
    "  --deadline MS        a beacon unanswered MS after due expires (default 30000)\n"
    "  --retry-base MS      first retry delay, doubled each time (default 250)\n"
    "  --per-host N         requests in flight per destination host (default 32)\n"
    "  --max-concurrent N   requests in flight in all (default 512)\n"
    "  --timeout MS         one beacon request (default 5000)\n"
    "  --forwarded-for      also send X-Forwarded-For: the device IP\n"
    "  --allow-private      let tags and beacons reach loopback/private addresses\n"
    "                       (tests only; refused by default)\n"
    "  -h, --help           this text\n"
    "\n"
    "SIGTERM or SIGINT stops accepting, waits up to 5 s for the beacons due and\n"
    "exits 0. Exit status: 2 usage, 4 cannot start (the reason is printed).\n";

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

static int num_arg(const char *opt, const char *v, double min, double max, double *out) {
  char *end;
  double d = v ? strtod(v, &end) : 0;
  if (!v || !*v || *end || d < min || d > max) {
    cli_error("%s needs a number from %g to %g", opt, min, max);
    return -1;
  }
  *out = d;
  return 0;
}

int cmd_ssai(int argc, char **argv) {
  vast_ssai_opts o;
  vast_ssai_opts_init(&o);
  const char *listen = NULL;
  vast_net_policy *pol = cli_net_policy();
  pol->allow_private = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    double d;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(usage_text, stdout);
      return CLI_OK;
    } else if (!strcmp(a, "--listen") && v) {
      listen = v, i++;
    } else if (!strcmp(a, "--state") && v) {
      o.state_dir = v, i++;
    } else if (!strcmp(a, "--idle-timeout")) {
      if (num_arg(a, v, 0.01, 86400, &d)) return CLI_USAGE;
      o.idle_timeout_s = d, i++;
    } else if (!strcmp(a, "--deadline")) {
      if (num_arg(a, v, 1, 86400000, &d)) return CLI_USAGE;
      o.deadline_ms = (long)d, i++;
    } else if (!strcmp(a, "--retry-base")) {
      if (num_arg(a, v, 1, 600000, &d)) return CLI_USAGE;
      o.retry_base_ms = (long)d, i++;
    } else if (!strcmp(a, "--per-host")) {
      if (num_arg(a, v, 1, 100000, &d)) return CLI_USAGE;
      o.per_host = (unsigned)d, i++;
    } else if (!strcmp(a, "--max-concurrent")) {
      if (num_arg(a, v, 1, 100000, &d)) return CLI_USAGE;
      o.max_concurrent = (unsigned)d, i++;
    } else if (!strcmp(a, "--timeout")) {
      if (num_arg(a, v, 1, 600000, &d)) return CLI_USAGE;
      o.timeout_ms = (long)d, i++;
    } else if (!strcmp(a, "--forwarded-for")) {
      o.forwarded_for = 1;
    } else if (!strcmp(a, "--allow-private")) {
      pol->allow_private = 1;
    } else {
      cli_error("unknown or incomplete option '%s' (see vastrack ssai --help)", a);
      return CLI_USAGE;
    }
  }
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
  rc = vast_ssai_serve(s, listen, &stop_flag, on_ready, NULL, msg, sizeof msg);
  if (rc != VAST_OK) {
    cli_error("%s", msg[0] ? msg : vast_strerror(rc));
    vast_ssai_free(s);
    return rc == VAST_E_INVAL ? CLI_USAGE : CLI_FAIL;
  }
  vast_ssai_drain(s, 5000);
  vast_ssai_free(s);
  return CLI_OK;
}
