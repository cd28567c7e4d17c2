/*
 * cmd-serve.c: `vastrack serve`, the beacon collector (lib/collect/, lib/web/serve.c):
 * options (see --help), signals, and the drain on SIGTERM or SIGINT.
 */
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"

static const char usage_text[] = "usage: vastrack serve [options]\n";

static const cli_choice acks[] = {
    {"durable", VAST_ACK_DURABLE}, {"fast", VAST_ACK_FAST}, {NULL, 0}};
static const cli_choice syncs[] = {{"full", 1}, {"normal", 0}, {NULL, 0}};
static const cli_choice ios[] = {
    {"auto", VAST_IO_AUTO}, {"uring", VAST_IO_URING}, {"epoll", VAST_IO_EPOLL}, {NULL, 0}};
static const cli_choice forwards[] = {{"redirect", 0}, {"none", 1}, {"server", 2}, {NULL, 0}};

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
  int quiet = 0, no_web = 0;
  const cli_opt table[] = {
      CLI_STRING("listen", "ADDR:PORT", o.listen,
                 "address to listen on (default 127.0.0.1:8080; port 0 picks\n"
                 "a free port); prints \"listening on ADDR:PORT\""),
      CLI_STRING("db", "PATH", o.db_path,
                 "SQLite database (default vastrack.db; \"none\" for none)"),
      CLI_STRING("sink", "URI", o.kafka,
                 "also send hits to kafka://BROKER[,BROKER]/TOPIC[?prop=val&..]"),
      CLI_CHOICE("ack", "durable|fast", o.ack, acks, 0,
                 "answer once the hit is durable (default: journalled, or\n"
                 "committed by every sink) or at once"),
      CLI_CHOICE("sync", "full|normal", o.sync_full, syncs, 0,
                 "full: fsync every durable write (journal, SQLite), survives\n"
                 "a power loss; normal (default): survives a process crash"),
      CLI_INT("threads", "N", o.threads, 0, 100000000, "event-loop threads (default: one per CPU)"),
      CLI_CHOICE("io", "auto|uring|epoll", o.io, ios, 0,
                 "socket I/O: io_uring (Linux 6.0+; auto falls back to\n"
                 "epoll when the kernel refuses it) or libuv's epoll"),
      CLI_INT("max-conns", "N", o.max_conns, 1, 100000000, "open connections (default 10000)"),
      CLI_INT("header-timeout", "MS", o.header_timeout_ms, 1, 100000000,
              "a request head must arrive within MS (default 10000)"),
      CLI_INT("idle-timeout", "MS", o.idle_timeout_ms, 1, 100000000,
              "idle keep-alive connections are closed after MS (default 60000)"),
      CLI_STRING("map", "NAME=FIELD,..", o.param_map,
                 "operator query names; FIELD is ad, cr, sid, code or r"),
      CLI_FLAG("quiet", quiet,
               "do not log bad requests to stderr (storage problems and a\n"
               "lost database file are always logged)"),
      CLI_TEXT("Web inspector (/inspect) and live dashboard (/), JSON API under /api/ "
               "(docs/web.md):"),
      CLI_FLAG("no-web", no_web, "do not serve them (404; POST to them answered 405)"),
      CLI_FLAG("allow-private", o.web_allow_private,
               "let the API fetch tags from loopback, private and link-local\n"
               "addresses (refused by default: the server must not be a way\n"
               "into its own network)"),
      CLI_INT("max-body", "BYTES", o.max_body, 1, 100000000,
              "largest request body the API accepts (default 2097152; more\n"
              "is answered 413)"),
      CLI_TEXT(
          "  The API takes POSTs with Content-Type application/xml or application/json (or an\n"
          "  X-Vastrack-Client header) only; it has no authentication: keep --listen on\n"
          "  127.0.0.1, or use --no-web on a public address (docs/security.md)\n"
          "Player certification (docs/conformance.md), served with the web UI: the test ad\n"
          "server GET /vast and /vmap, the beacon tap GET /tap?url=TAG and its hits /r/...:"),
      CLI_CHOICE("tap-forward", "redirect|none|server", o.tap_forward, forwards, 0,
                 "answer a tapped hit 302 to the original URL\n"
                 "so the real ad server counts it (default); or a GIF and\n"
                 "nothing forwarded (none, offline QA); or a GIF and the\n"
                 "collector fires the original with the player's X-Device-IP\n"
                 "and X-Device-User-Agent (server)"),
      CLI_END};
  const cli_cmd cmd = {"serve", usage_text, table,
                       "SIGTERM or SIGINT drains, flushes and exits 0. URL scheme: "
                       "docs/collector.md\n"};
  int n = cli_opts_parse(&cmd, argc, argv);
  if (n < 0) return cli_opts_exit(n);
  if (n > 0) {
    cli_error("serve: unexpected argument '%s'; see 'vastrack serve --help'", argv[1]);
    return CLI_USAGE;
  }
  if (quiet) o.log_ctx = &o; /* any non-NULL: quiet */
  if (no_web) o.web = 0;
  if (o.db_path && !strcmp(o.db_path, "none")) o.db_path = NULL;
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
