/*
 * cmd-serve.c: `vastrack serve`, the beacon collector (lib/collect/, lib/web/serve.c).
 *
 * usage: vastrack serve [options]
 *   --listen ADDR:PORT   address to listen on (default 127.0.0.1:8080; port 0
 *                        picks a free port); the address actually bound is
 *                        printed as "listening on ADDR:PORT"
 *   --db PATH            SQLite database (default vastrack.db; "none" for none)
 *   --sink URI           also send hits to kafka://BROKER[,BROKER]/TOPIC[?prop=val&..]
 *   --ack durable|fast   answer once the hit is durable (default: in the
 *                        journal, or committed by every sink) or at once
 *   --sync full|normal   full: fsync every durable write (journal, SQLite), so
 *                        it survives a power loss; normal (default): survives
 *                        a crash of the process
 *   --threads N          event-loop threads (default: one per CPU)
 *   --io auto|uring|epoll socket I/O: io_uring (Linux 6.0+; auto falls back
 *                        to epoll when the kernel refuses it) or libuv's epoll
 *   --max-conns N        open connections (default 10000)
 *   --header-timeout MS  a request head must arrive within MS (default 10000)
 *   --idle-timeout MS    idle keep-alive connections are closed (default 60000)
 *   --map NAME=FIELD,..  operator query names, FIELD one of ad,cr,sid,code,r
 *   --quiet              do not log bad requests to stderr
 *   --no-web             do not serve the web inspector and dashboard
 *   --allow-private      let the web API fetch from loopback/private addresses
 *   --max-body BYTES     largest POST body of the web API (default 2 MiB)
 *   --help               this text
 * SIGTERM or SIGINT drains: stops accepting, answers what was read, commits,
 * and exits 0.
 */
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char USAGE[] =
    "usage: vastrack serve [options]\n"
    "  --listen ADDR:PORT   address to listen on (default 127.0.0.1:8080; port 0 picks\n"
    "                       a free port); prints \"listening on ADDR:PORT\"\n"
    "  --db PATH            SQLite database (default vastrack.db; \"none\" for none)\n"
    "  --sink URI           also send hits to kafka://BROKER[,BROKER]/TOPIC[?prop=val&..]\n"
    "  --ack durable|fast   answer once the hit is durable (default: journalled, or\n"
    "                       committed by every sink) or at once\n"
    "  --sync full|normal   full: fsync every durable write (journal, SQLite), survives\n"
    "                       a power loss; normal (default): survives a process crash\n"
    "  --threads N          event-loop threads (default: one per CPU)\n"
    "  --io auto|uring|epoll socket I/O: io_uring (Linux 6.0+; auto falls back to\n"
    "                       epoll when the kernel refuses it) or libuv's epoll\n"
    "  --max-conns N        open connections (default 10000)\n"
    "  --header-timeout MS  a request head must arrive within MS (default 10000)\n"
    "  --idle-timeout MS    idle keep-alive connections are closed after MS (default 60000)\n"
    "  --map NAME=FIELD,..  operator query names; FIELD is ad, cr, sid, code or r\n"
    "  --quiet              do not log bad requests to stderr (storage problems and a\n"
    "                       lost database file are always logged)\n"
    "Web inspector (/inspect) and live dashboard (/), JSON API under /api/ (docs/web.md):\n"
    "  --no-web             do not serve them (404; POST to them answered 405)\n"
    "  --allow-private      let the API fetch tags from loopback, private and link-local\n"
    "                       addresses (refused by default: the server must not be a way\n"
    "                       into its own network)\n"
    "  --max-body BYTES     largest request body the API accepts (default 2097152; more\n"
    "                       is answered 413)\n"
    "  The API takes POSTs with Content-Type application/xml or application/json (or an\n"
    "  X-Vastrack-Client header) only; it has no authentication: keep --listen on\n"
    "  127.0.0.1, or use --no-web on a public address (docs/security.md)\n"
    "Player certification (docs/conformance.md), served with the web UI: the test ad\n"
    "server GET /vast and /vmap, the beacon tap GET /tap?url=TAG and its hits /r/...:\n"
    "  --tap-forward redirect|none|server  answer a tapped hit 302 to the original URL\n"
    "                       so the real ad server counts it (default); or a GIF and\n"
    "                       nothing forwarded (none, offline QA); or a GIF and the\n"
    "                       collector fires the original with the player's X-Device-IP\n"
    "                       and X-Device-User-Agent (server)\n"
    "  --help               this text\n"
    "SIGTERM or SIGINT drains, flushes and exits 0. URL scheme: docs/collector.md\n";

/* ctx: non-NULL with --quiet, which drops what clients cause (bad requests,
   refused bodies, header timeouts, connection limits) but never what concerns
   the data: storage errors, kept journals, a lost database file. */
static void log_stderr(void *ctx, const char *line) {
  static const char *const client[] = {"bad request from ", "request body from ",
                                       "header timeout from ", "too many connections"};
  if (ctx)
    for (size_t i = 0; i < sizeof client / sizeof client[0]; i++)
      if (!strncmp(line, client[i], strlen(client[i]))) return;
  fprintf(stderr, "vastrack serve: %s\n", line);
}

static int num(const char *s, unsigned *out) {
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (!*s || *end || v > 100000000ul) return -1;
  *out = (unsigned)v;
  return 0;
}

int cmd_serve(int argc, char **argv) {
  /* SQLite's memory statistics cost a global mutex per allocation (the loader
     inserts hundreds of rows per transaction). This must run before SQLite is
     initialised, which only the program can promise (the library cannot:
     its caller may already use SQLite); a failure just keeps them on. */
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  vast_collector_opts o;
  vast_collector_opts_init(&o);
  o.db_path = "vastrack.db";
  o.log = log_stderr;
  o.web = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(USAGE, stdout);
      return CLI_OK;
    }
    if (!strcmp(a, "--quiet")) {
      o.log_ctx = &o; /* any non-NULL: quiet */
      continue;
    }
    if (!strcmp(a, "--no-web")) {
      o.web = 0;
      continue;
    }
    if (!strcmp(a, "--allow-private")) {
      o.web_allow_private = 1;
      continue;
    }
    if (!v) {
      cli_error("serve: unknown or incomplete option '%s'", a);
      fputs(USAGE, stderr);
      return CLI_USAGE;
    }
    i++;
    int bad = 0;
    if (!strcmp(a, "--listen"))
      o.listen = v;
    else if (!strcmp(a, "--db"))
      o.db_path = strcmp(v, "none") ? v : NULL;
    else if (!strcmp(a, "--sink"))
      o.kafka = v;
    else if (!strcmp(a, "--map"))
      o.param_map = v;
    else if (!strcmp(a, "--tap-forward")) {
      if (!strcmp(v, "redirect"))
        o.tap_forward = 0;
      else if (!strcmp(v, "none"))
        o.tap_forward = 1;
      else if (!strcmp(v, "server"))
        o.tap_forward = 2;
      else
        bad = 1;
    } else if (!strcmp(a, "--ack")) {
      if (!strcmp(v, "durable"))
        o.ack = VAST_ACK_DURABLE;
      else if (!strcmp(v, "fast"))
        o.ack = VAST_ACK_FAST;
      else
        bad = 1;
    } else if (!strcmp(a, "--sync")) {
      if (!strcmp(v, "full"))
        o.sync_full = 1;
      else if (!strcmp(v, "normal"))
        o.sync_full = 0;
      else
        bad = 1;
    } else if (!strcmp(a, "--io")) {
      if (!strcmp(v, "auto"))
        o.io = VAST_IO_AUTO;
      else if (!strcmp(v, "uring"))
        o.io = VAST_IO_URING;
      else if (!strcmp(v, "epoll"))
        o.io = VAST_IO_EPOLL;
      else
        bad = 1;
    } else if (!strcmp(a, "--threads"))
      bad = num(v, &o.threads);
    else if (!strcmp(a, "--max-conns"))
      bad = num(v, &o.max_conns) || !o.max_conns;
    else if (!strcmp(a, "--header-timeout"))
      bad = num(v, &o.header_timeout_ms) || !o.header_timeout_ms;
    else if (!strcmp(a, "--idle-timeout"))
      bad = num(v, &o.idle_timeout_ms) || !o.idle_timeout_ms;
    else if (!strcmp(a, "--max-body")) {
      unsigned mb = 0;
      bad = num(v, &mb) || !mb;
      o.max_body = mb;
    } else {
      cli_error("serve: unknown option '%s'", a);
      fputs(USAGE, stderr);
      return CLI_USAGE;
    }
    if (bad) {
      cli_error("serve: invalid value '%s' for %s", v, a);
      return CLI_USAGE;
    }
  }
  if (!o.db_path && !o.kafka) {
    cli_error("serve: --db none needs a --sink");
    return CLI_USAGE;
  }

  /* Every thread inherits this mask; the main thread takes the signals. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  vast_collector *c = NULL;
  vast_error err;
  vast_err e = vast_collector_start(&o, &c, &err);
  if (e != VAST_OK) {
    cli_error("cannot start the collector: %s", err.message[0] ? err.message : vast_strerror(e));
    return e == VAST_E_INVAL ? CLI_USAGE : CLI_FAIL;
  }
  printf("listening on %s\n", vast_collector_address(c));
  fflush(stdout);
  fprintf(stderr, "vastrack serve: listening on %s (ack %s, db %s%s%s, io %s)\n",
          vast_collector_address(c), o.ack == VAST_ACK_DURABLE ? "durable" : "fast",
          o.db_path ? o.db_path : "none", o.kafka ? ", sink " : "", o.kafka ? o.kafka : "",
          vast_collector_io(c) == VAST_IO_URING ? "io_uring" : "epoll");

  int sig = 0;
  sigwait(&set, &sig);
  fprintf(stderr, "vastrack serve: signal %d, draining\n", sig);
  vast_collector_stop(c);
  vast_collector_wait(c);
  vast_collector_stats st;
  vast_collector_get_stats(c, &st);
  fprintf(stderr, "vastrack serve: stopped; %llu hits, %llu stored, %llu failed\n",
          (unsigned long long)st.hits, (unsigned long long)st.stored,
          (unsigned long long)st.failed);
  vast_collector_free(c);
  return CLI_OK;
}
