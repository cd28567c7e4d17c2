/*
 * collect.c: the beacon collector server's lifecycle: options, start, stop,
 * wait, free; and the event-loop workers.
 *
 * Threads: N event-loop workers, each with its own listening socket bound to
 * the same address with SO_REUSEPORT, so the kernel spreads new connections
 * over the cores with no shared accept lock; each runs libuv, with its socket
 * I/O on io_uring (loop-uring.c) or libuv's epoll (loop-epoll.c). One writer
 * thread makes hits durable or, in journal mode, loads the loops' journals
 * into SQLite (writer.c). Connections (conn.c) and routing (route.c) are the
 * same code on both backends. server-int.h has the map of the files.
 *
 * Lifetime of a hit: allocated by a worker (refs 2 in durable mode: the slot
 * and the writer; 1 in fast mode), resolved by the writer (journal mode: by
 * its worker, then loaded by the loader), freed by the last
 * vast__hit_unref. A worker closes its wake handle only when it has no
 * connections and no hit in flight, so the writer never wakes a dead loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/error.h"
#include "collect/server-int.h"

void vast__clog(vast_collector *c, const char *fmt, ...) {
  if (!c->o.log) return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  c->o.log(c->o.log_ctx, line);
}

/* ---- worker ---- */

static void on_handle_closed(uv_handle_t *h) {
  (void)h;
}

/* Closes the worker's own handles once draining is complete. */
void vast__worker_maybe_finish(worker *w) {
  if (!w->draining || w->closed_handles || w->nconns || atomic_load(&w->inflight)) return;
  w->closed_handles = 1;
  uv_close((uv_handle_t *)&w->wake, on_handle_closed);
  uv_close((uv_handle_t *)&w->sweep, on_handle_closed);
  uv_close((uv_handle_t *)&w->commit, on_handle_closed);
}

static void worker_drain(worker *w) {
  if (w->draining) return;
  w->draining = 1;
  w->drain_deadline = uv_now(&w->loop) + w->c->o.drain_timeout_ms;
  if (w->listener_open) {
    w->listener_open = 0;
    w->io->unlisten(w);
  }
  for (conn *k = w->conns, *nx; k; k = nx) {
    nx = k->next;
    if (k->closing) continue;
    vast__conn_pause(k);
    if (!k->scount && !k->wlen && !k->writing) {
      vast__conn_close(k);
    } else {
      k->close_after = 1;
      k->eof = 1; /* close without lingering once answered */
      vast__conn_flush(k);
    }
  }
  vast__worker_maybe_finish(w);
}

static void on_wake(uv_async_t *a) {
  worker *w = a->data;
  if (atomic_load(&w->c->stopping)) worker_drain(w);
  for (conn *k = w->waiting, *nx; k; k = nx) {
    nx = k->wnext;
    vast__conn_flush(k);
  }
  vast__worker_maybe_finish(w);
}

static void on_sweep(uv_timer_t *t) {
  worker *w = t->data;
  vast_collector *c = w->c;
  uint64_t now = uv_now(&w->loop);
  if (w->io->sweep) w->io->sweep(w);
  for (conn *k = w->conns, *nx; k; k = nx) {
    nx = k->next;
    if (k->closing) continue;
    if (w->draining && now >= w->drain_deadline) {
      vast__conn_close(k);
    } else if (k->lingering) {
      if (now - k->linger_start > 2000) vast__conn_close(k);
    } else if (k->req_start && k->reading && now - k->req_start > c->o.header_timeout_ms) {
      atomic_fetch_add(&c->timeouts, 1);
      WINC(w, bad);
      vast__clog(c, "header timeout from %s after %u ms", k->ip, c->o.header_timeout_ms);
      k->plen = 0;
      k->req_start = 0;
      vast__respond(k, 408, "text/plain", "request timeout\n", 16, 0, 1, 0);
      vast__conn_pause(k);
      vast__conn_flush(k);
    } else if (!k->req_start && !k->scount && !k->wlen && !k->writing &&
               now - k->last_active > c->o.idle_timeout_ms) {
      vast__conn_close(k);
    }
  }
  vast__worker_maybe_finish(w);
}

static void *worker_main(void *arg) {
  worker *w = arg;
  w->io->run(w);
  return NULL;
}
/* ---- lifecycle ---- */

void vast_collector_opts_init(vast_collector_opts *o) {
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->listen = "127.0.0.1:8080";
  o->ack = VAST_ACK_DURABLE;
  o->max_conns = 10000;
  o->max_request_line = 8192;
  o->max_header_bytes = 16384;
  o->max_headers = 100;
  o->header_timeout_ms = 10000;
  o->idle_timeout_ms = 60000;
  o->max_pipeline = 64;
  o->batch_max = 8192;
  o->max_queue = 1000000;
  o->drain_timeout_ms = 5000;
  o->max_body = 2u << 20;
}

static void set_err(vast_error *err, vast_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(vast_error *err, vast_err code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vast__error_setv(err, code, 0, fmt, ap); /* base/error.h; the collector has no IAB code */
  va_end(ap);
}

/* Splits "HOST:PORT", "[V6]:PORT" or ":PORT". */
static int split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap) {
  const char *colon;
  if (s[0] == '[') {
    const char *rb = strchr(s, ']');
    if (!rb || rb[1] != ':') return -1;
    if ((size_t)(rb - s - 1) >= hcap) return -1;
    memcpy(host, s + 1, (size_t)(rb - s - 1));
    host[rb - s - 1] = 0;
    colon = rb + 1;
  } else {
    colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= hcap) return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
  }
  if (!colon[1] || strlen(colon + 1) >= pcap) return -1;
  for (const char *p = colon + 1; *p; p++)
    if (*p < '0' || *p > '9') return -1;
  strcpy(port, colon + 1);
  return 0;
}
/* A listening socket with SO_REUSEPORT on addr; returns the fd or -errno. */
static int make_listener(const struct sockaddr *addr, socklen_t alen) {
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
      bind(fd, addr, alen) != 0 || listen(fd, 4096) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

/*
 * 0 when no socket listens on addr yet; else the errno of a bind without
 * SO_REUSEPORT (EADDRINUSE). The listeners below share their address with
 * SO_REUSEPORT, which the kernel grants to any socket of the same user that
 * asks for it: a second collector on the same port would silently take half
 * of the connections into its own database. A socket without SO_REUSEPORT
 * cannot bind an address anybody listens on, so binding one first (and
 * closing it) refuses the port when it is taken. Two collectors started in
 * the same instant could both pass; nothing else can.
 */
static int port_taken(const struct sockaddr *addr, socklen_t alen) {
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0; /* the listener's own socket() reports it */
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* TIME_WAIT is no user */
  int e = bind(fd, addr, alen) == 0 ? 0 : errno;
  close(fd);
  return e == EADDRINUSE ? e : 0;
}

/* Tests: the Nth thread vast_collector_start creates (1: the writer, 2 and
   on: the event loops) fails to start, as when the process is out of threads;
   0: never. */
int vast__collect_fail_thread;

static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg, int *nth) {
  if (vast__collect_fail_thread && ++*nth == vast__collect_fail_thread) return EAGAIN;
  return pthread_create(t, NULL, fn, arg);
}

static void collector_free_parts(vast_collector *c) {
  if (c->workers) {
    for (unsigned i = 0; i < c->nworkers; i++) {
      worker *w = c->workers[i];
      if (!w) continue;
      if (w->handles) {
        /* A start that failed half way left them open (after a run they are
           closed): close them, so the loop and its descriptors can go. */
        uv_handle_t *hs[4] = {(uv_handle_t *)&w->listener, (uv_handle_t *)&w->wake,
                              (uv_handle_t *)&w->sweep, (uv_handle_t *)&w->commit};
        for (int j = 0; j < 4; j++)
          if (!uv_is_closing(hs[j])) uv_close(hs[j], NULL);
        uv_run(&w->loop, UV_RUN_DEFAULT);
      }
      if (w->io) w->io->destroy(w);
      if (w->loop.data) uv_loop_close(&w->loop);
      vast__journal_close(w->jr, 0);
      free(w->scratch);
      free(w);
    }
    free(c->workers);
  }
  free((void *)c->loaded_seq);
  if (c->jlock >= 0) close(c->jlock);
  /* Hits left in the queue (writer never started). */
  while (c->qhead) {
    vast__hit *h = c->qhead;
    c->qhead = h->next;
    free(h);
  }
  vast__store_close(c->store);
  vast__kafka_close(c->kafka);
  pthread_mutex_destroy(&c->qmu);
  pthread_cond_destroy(&c->qcv);
  pthread_mutex_destroy(&c->emu);
  pthread_mutex_destroy(&c->waitmu);
  free(c->s_listen);
  free(c->s_db);
  free(c->s_kafka);
  free(c);
}

vast_err vast__collector_start(const vast_collector_opts *opts, const vast__site *site,
                               vast_collector **out, vast_error *err) {
  *out = NULL;
  vast_collector_opts def;
  vast_collector_opts_init(&def);
  if (opts) {
    size_t n = opts->size && opts->size < sizeof def ? opts->size : sizeof def;
    memcpy(&def, opts, n);
    def.size = sizeof def;
  }
  vast_collector *c = calloc(1, sizeof *c);
  if (!c) return VAST_E_NOMEM;
  pthread_mutex_init(&c->qmu, NULL);
  pthread_cond_init(&c->qcv, NULL);
  pthread_mutex_init(&c->emu, NULL);
  pthread_mutex_init(&c->waitmu, NULL);
  c->qtail = &c->qhead;
  c->jlock = -1;
  c->o = def;
  c->site = c->o.web ? site : NULL;
  if (!c->o.max_pipeline) c->o.max_pipeline = 1;
  if (!c->o.batch_max) c->o.batch_max = 1;
  if (!c->o.max_request_line) c->o.max_request_line = 8192;
  if (c->o.max_header_bytes < c->o.max_request_line) c->o.max_header_bytes = c->o.max_request_line;
  if (!c->o.header_timeout_ms) c->o.header_timeout_ms = 10000;
  if (!c->o.idle_timeout_ms) c->o.idle_timeout_ms = 60000;
  if (!c->o.max_body) c->o.max_body = 2u << 20;
  c->body_cap = c->o.max_body * 4 > (64u << 20) ? c->o.max_body * 4 : (64u << 20);
  c->s_listen = strdup(def.listen ? def.listen : "127.0.0.1:8080");
  c->s_db = def.db_path ? strdup(def.db_path) : NULL;
  c->s_kafka = def.kafka ? strdup(def.kafka) : NULL;
  if (!c->s_listen || (def.db_path && !c->s_db) || (def.kafka && !c->s_kafka)) {
    collector_free_parts(c);
    return VAST_E_NOMEM;
  }
  c->o.listen = c->s_listen;
  c->o.db_path = c->s_db;
  c->o.kafka = c->s_kafka;
  c->o.param_map = NULL;
  if (def.param_map && vast__wire_map_parse(def.param_map, &c->map) != 0) {
    set_err(err, VAST_E_INVAL,
            "invalid parameter map '%s' (want NAME=FIELD,... with FIELD "
            "ad, cr, sid, code or r)",
            def.param_map);
    collector_free_parts(c);
    return VAST_E_INVAL;
  }
  if (c->o.ack != VAST_ACK_DURABLE && c->o.ack != VAST_ACK_FAST) {
    set_err(err, VAST_E_INVAL, "invalid ack mode");
    collector_free_parts(c);
    return VAST_E_INVAL;
  }

  /* Sinks. */
  char msg[512] = "";
  vast_err e;
  if (c->s_db && (e = vast__store_open(c->s_db, c->o.sync_full, &c->store, msg, sizeof msg))) {
    set_err(err, e, "%s", msg);
    collector_free_parts(c);
    return e;
  }
  if (c->s_kafka && (e = vast__kafka_open(c->s_kafka, &c->kafka, msg, sizeof msg))) {
    set_err(err, e, "%s", msg);
    collector_free_parts(c);
    return e;
  }
  /* Replay what the journals of the last run hold (whatever the mode now). */
  const char *dbfile = c->store ? vast__store_filename(c->store) : "";
  if (*dbfile) {
    vast__journal_report rep;
    e = vast__journal_recover(c->store, dbfile, c->o.batch_max, &c->jlock, &rep, msg, sizeof msg);
    if (e != VAST_OK) {
      set_err(err, e, "journal recovery: %s", msg);
      collector_free_parts(c);
      return e;
    }
    if (rep.records)
      vast__clog(c,
                 "journal recovery: %u files, %llu records, %llu loaded into SQLite (%llu were "
                 "already there), %u with a torn tail",
                 rep.files, (unsigned long long)rep.records, (unsigned long long)rep.loaded,
                 (unsigned long long)(rep.records - rep.loaded), rep.torn);
  }

  /* Address. */
  char host[256], port[16];
  if (split_hostport(c->s_listen, host, sizeof host, port, sizeof port) != 0) {
    set_err(err, VAST_E_INVAL, "invalid listen address '%s' (want HOST:PORT)", c->s_listen);
    collector_free_parts(c);
    return VAST_E_INVAL;
  }
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int gr = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
  if (gr != 0 || !ai) {
    set_err(err, VAST_E_INVAL, "cannot resolve '%s': %s", c->s_listen, gai_strerror(gr));
    collector_free_parts(c);
    return VAST_E_INVAL;
  }
  struct sockaddr_storage addr;
  socklen_t alen = (socklen_t)ai->ai_addrlen;
  memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
  freeaddrinfo(ai);

  int taken = ((struct sockaddr_in *)&addr)->sin_port != 0 /* same offset in sockaddr_in6 */
                  ? port_taken((struct sockaddr *)&addr, alen)
                  : 0;
  if (taken) {
    set_err(err, VAST_E_IO, "cannot listen on %s: %s (another process listens on that port)",
            c->s_listen, strerror(taken));
    collector_free_parts(c);
    return VAST_E_IO;
  }

  unsigned nw = c->o.threads;
  if (!nw) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    nw = n > 0 ? (unsigned)n : 1;
  }
  if (nw > 256) nw = 256;
  c->nworkers = nw;
  c->io_used = VAST_IO_URING;
  c->workers = calloc(nw, sizeof *c->workers);
  /* Durable acks with SQLite (a file) alone: each event loop journals its own
     hits and the writer thread loads them into SQLite. Kafka waits for the
     broker and fast mode answers first, so those keep the writer thread. */
  c->journal = c->o.ack == VAST_ACK_DURABLE && c->store && !c->kafka && *dbfile;
  /* libuv's pool has UV_THREADPOOL_SIZE threads (4 by default): the /api/ work
     that may wait on the network gets half of them at most */
  const char *tps = getenv("UV_THREADPOOL_SIZE");
  long pool = tps ? strtol(tps, NULL, 10) : 4;
  if (pool < 1) pool = 4;
  if (pool > 1024) pool = 1024;
  c->slow_max = pool / 2 > 0 ? (int)(pool / 2) : 1;
  vast__responses_init();
  c->loaded_seq = calloc(nw, sizeof *c->loaded_seq);
  if (!c->workers || !c->loaded_seq) {
    collector_free_parts(c);
    return VAST_E_NOMEM;
  }
  for (unsigned i = 0; i < nw; i++) {
    worker *w = calloc(1, sizeof *w);
    if (!w) {
      collector_free_parts(c);
      return VAST_E_NOMEM;
    }
    c->workers[i] = w;
    w->c = c;
    w->idx = (int)i;
    w->ltail = &w->lhead;
    atomic_init(&w->inflight, 0);
    if (c->journal) {
      uint64_t seq = 0;
      if ((e = vast__store_journal_seq(c->store, i, &seq)) != VAST_OK ||
          (e = vast__journal_open(dbfile, i, seq + 1, c->o.sync_full, &w->jr, msg, sizeof msg)) !=
              VAST_OK) {
        set_err(err, e, "%s", e == VAST_E_DB ? "cannot read journal_state" : msg);
        collector_free_parts(c);
        return e;
      }
      atomic_init(&c->loaded_seq[i], seq);
    }
    int fd = make_listener((struct sockaddr *)&addr, alen);
    if (fd < 0) {
      set_err(err, VAST_E_IO, "cannot listen on %s: %s", c->s_listen, strerror(-fd));
      collector_free_parts(c);
      return VAST_E_IO;
    }
    if (i == 0) {
      /* Port 0: the others bind to the port the first one got. */
      socklen_t l = sizeof addr;
      getsockname(fd, (struct sockaddr *)&addr, &l);
      alen = l;
      char ip[64] = "";
      if (addr.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&addr;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        c->port = ntohs(a->sin_port);
        snprintf(c->address, sizeof c->address, "%s:%d", ip, c->port);
      } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        c->port = ntohs(a->sin6_port);
        snprintf(c->address, sizeof c->address, "[%s]:%d", ip, c->port);
      }
    }
    int ue = uv_loop_init(&w->loop);
    if (ue != 0) {
      set_err(err, VAST_E_IO, "cannot start an event loop: %s", uv_strerror(ue));
      close(fd);
      collector_free_parts(c);
      return VAST_E_IO;
    }
    w->loop.data = w;
    w->io = &vast__io_epoll;
    if (c->o.io != VAST_IO_EPOLL) {
      int ur = vast__io_uring.init(w);
      if (ur == 0) {
        w->io = &vast__io_uring;
      } else if (c->o.io == VAST_IO_URING) {
        set_err(err, VAST_E_IO, "io_uring unavailable: %s", strerror(-ur));
        close(fd);
        uv_loop_close(&w->loop);
        w->loop.data = NULL;
        collector_free_parts(c);
        return VAST_E_IO;
      }
    }
    if (w->io != &vast__io_uring)
      c->io_used = VAST_IO_EPOLL; /* io_uring only if every loop has it */
    if ((ue = uv_async_init(&w->loop, &w->wake, on_wake)) != 0) { /* its eventfd */
      set_err(err, VAST_E_IO, "cannot start an event loop (wake-up): %s", uv_strerror(ue));
      close(fd);
      collector_free_parts(c);
      return VAST_E_IO;
    }
    w->wake.data = w;
    uv_tcp_init(&w->loop, &w->listener);
    w->listener.data = w;
    uv_timer_init(&w->loop, &w->sweep);
    w->sweep.data = w;
    uv_prepare_init(&w->loop, &w->commit);
    w->commit.data = w;
    w->handles = 1;
    if (w->io->listen(w, fd) != 0) {
      set_err(err, VAST_E_IO, "cannot listen on %s", c->s_listen);
      collector_free_parts(c);
      return VAST_E_IO;
    }
    w->listener_open = 1;
    uint64_t iv = c->o.header_timeout_ms / 4;
    if (iv > 250) iv = 250;
    if (iv < 5) iv = 5;
    uv_timer_start(&w->sweep, on_sweep, iv, iv);
  }
  /* A thread that cannot start: everything started is stopped and freed, as
     vast_collector_free does (the loops without a thread drain here), so no
     listener stays bound and unserved. */
  int nth = 0, rc = start_thread(&c->writer, vast__writer_main, c, &nth);
  if (rc != 0) {
    set_err(err, VAST_E_NOMEM, "cannot start the writer thread: %s", strerror(rc));
    vast_collector_free(c);
    return VAST_E_NOMEM;
  }
  c->writer_started = 1;
  for (unsigned i = 0; i < nw; i++) {
    worker *w = c->workers[i];
    if ((rc = start_thread(&w->tid, worker_main, w, &nth)) != 0) {
      set_err(err, VAST_E_NOMEM, "cannot start event-loop thread %u: %s", i, strerror(rc));
      vast_collector_free(c);
      return VAST_E_NOMEM;
    }
    w->started = 1;
  }
  *out = c;
  return VAST_OK;
}

const char *vast_collector_address(const vast_collector *c) {
  return c ? c->address : "";
}
vast_io vast_collector_io(const vast_collector *c) {
  return c ? c->io_used : VAST_IO_EPOLL;
}
int vast_collector_port(const vast_collector *c) {
  return c ? c->port : 0;
}

void vast_collector_stop(vast_collector *c) {
  if (!c || atomic_exchange(&c->stopping, 1)) return;
  for (unsigned i = 0; i < c->nworkers; i++)
    uv_async_send(&c->workers[i]->wake);
}

void vast_collector_wait(vast_collector *c) {
  if (!c) return;
  pthread_mutex_lock(&c->waitmu);
  if (!c->waited) {
    for (unsigned i = 0; i < c->nworkers; i++) {
      worker *w = c->workers[i];
      if (w->started)
        pthread_join(w->tid, NULL);
      else {
        /* Thread never started: drain it here. */
        atomic_store(&c->stopping, 1);
        worker_drain(w);
        worker_main(w);
      }
    }
    pthread_mutex_lock(&c->qmu);
    c->writer_quit = 1;
    pthread_cond_signal(&c->qcv);
    pthread_mutex_unlock(&c->qmu);
    if (c->writer_started) pthread_join(c->writer, NULL);
    /* Journal mode: the loader drained, so the journals can go, unless
       some hits could not be loaded: then the next start replays them. */
    for (unsigned i = 0; c->journal && i < c->nworkers; i++) {
      worker *w = c->workers[i];
      /* checked again here: never delete a journal whose hits went into a file
         that is no longer the database */
      int all = !c->load_failed && !vast__db_check(c) &&
                atomic_load(&c->loaded_seq[i]) >= vast__journal_last_seq(w->jr);
      if (!all) vast__clog(c, "journal of worker %u kept: it holds hits not in SQLite yet", i);
      vast__journal_close(w->jr, all);
      w->jr = NULL;
    }
    c->waited = 1;
  }
  pthread_mutex_unlock(&c->waitmu);
}

void vast_collector_free(vast_collector *c) {
  if (!c) return;
  vast_collector_stop(c);
  vast_collector_wait(c);
  collector_free_parts(c);
}
