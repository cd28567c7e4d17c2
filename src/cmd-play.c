/*
 * cmd-play.c: `vastrack play`, a simulated playback of one ad through the
 * tracking engine (lib/track.c), printing every beacon it would request.
 *
 * The flow: read and parse the tag; pick the ad (an InLine, or a Wrapper
 * resolved to its InLine by the resolver); build a plan and a tracker; drive
 * the tracker with the library's simulated player (vast_play_simulate: a 4 Hz
 * media clock and the injected --events, parsed by vast_play_events_parse).
 * Every beacon goes through one function, play_emit(), which prints it
 * (--dry-run) or queues it for the dispatcher (net module).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "cli.h"

static const char usage_text[] =
    "usage: vastrack play [--dry-run] [--json] [--watch SECONDS] [--events LIST]\n"
    "                     [--realtime] [--creative N] [--macro NAME=VALUE]... [--seed N]\n"
    "                     [--muted] [--fullscreen]\n"
    "                     FILE|URL|-\n"
    "\n"
    "Simulates the playback of the first InLine ad of a tag (a Wrapper is first\n"
    "resolved to its InLine) and prints every tracking beacon the IAB rules require,\n"
    "with macros expanded, one per line as `T EVENT URL` (T: seconds since the ad\n"
    "began), or with --json one object per line {\"t\":..,\"media\":..,\"event\":..,\"url\":..}.\n"
    "The click-through of a click is printed as event clickThrough (not a beacon).\n"
    "\n"
    "  --dry-run         request nothing, only print the beacons\n"
    "Without --dry-run every beacon is requested (net module dispatcher) and each\n"
    "delivery is printed when done: `T EVENT STATUS LATENCYms URL`, or with --json\n"
    "{\"t\":..,\"event\":..,\"url\":..,\"status\":N,\"latency_ms\":X,\"error\":null|\"..\"}\n"
    "(T: media seconds). Beacons of one moment (all the Impressions) leave together.\n"
    "  --log FILE        also write the delivery records to FILE as JSON lines\n"
    "                    (the format `vastrack report --fired FILE` reads)\n"
    "  --ssai            fire as a server on behalf of a device: X-Device-IP and\n"
    "                    X-Device-User-Agent headers, [SERVERSIDE]=1; needs:\n"
    "  --device-ip IP    the device's IP (also [DEVICEIP], X-Forwarded-For with --xff)\n"
    "  --device-ua UA    the device's User-Agent (also [DEVICEUA])\n"
    "  --xff             also send X-Forwarded-For: IP (deprecated header)\n"
    "  --allow-private   fire to, and fetch wrapper hops from, loopback/private/link-local\n"
    "                    and other special-purpose addresses too (refused by default: a\n"
    "                    tag must not reach into the local network; docs/security.md)\n"
    "  --timeout MS      per beacon request (default 5000)\n"
    "  --json            JSON lines\n"
    "  --watch SECONDS   play from 0 to SECONDS of media time; without it, play to the\n"
    "                    end and fire complete\n"
    "  --events LIST     player events at times, comma-separated NAME@T[:ARG], e.g.\n"
    "                    mute@5,unmute@8,pause@10,resume@12,skip@20,click@3,error@4:405,\n"
    "                    seek@6:2 (ARG: error code, seek target, real duration, reason).\n"
    "                    Names: mute unmute pause resume seek skip click close error\n"
    "                    notUsed playerExpand playerCollapse creativeView interactiveStart\n"
    "                    otherAdInteraction acceptInvitation adExpand adCollapse minimize\n"
    "                    overlayViewDuration viewable notViewable viewUndetermined\n"
    "                    verificationNotExecuted duration, iconView (ARG: icon index,\n"
    "                    default 0; IconViewTracking once per icon), iconClick (ARG: icon\n"
    "                    index; IconClickTracking, then its iconClickThrough is printed),\n"
    "                    customClick (every CustomClick). T is on the session clock,\n"
    "                    which equals media time until a pause (media stops while paused).\n"
    "  --realtime        pace the clock at normal speed (default: as fast as possible)\n"
    "  --creative N      play the N-th creative of the InLine (0-based; default the first\n"
    "                    Linear)\n"
    "  --macro NAME=VALUE  a caller value for an IAB macro (DEVICEIP, PAGEURL, ...),\n"
    "                    repeatable; VALUE -2 marks it withheld\n"
    "  --seed N          seed CACHEBUSTING for reproducible output\n"
    "  --muted           the player starts muted: no mute beacon, unmute fires\n"
    "                    unmute, [PLAYERSTATE] says muted (--fullscreen alike)\n"
    "\n"
    "exit status: 0 played (and every beacon got a response), 1 some beacons failed,\n"
    "2 usage, 3 not valid VAST, 4 nothing playable or failure\n";

#define MAX_EVENTS 256

typedef struct play_ctx {
  int json;
  int dry_run;
  int realtime;
  vast_play_state st; /* the clocks, kept current by vast_play_simulate */
  FILE *out;
  /* Firing (without --dry-run): beacons of one moment are batched, then submitted. */
  vast_dispatcher *disp;
  FILE *log;
  vast_beacon batch[256];
  size_t n_batch;
  double batch_t;
  unsigned long failed; /* deliveries without a response */
} play_ctx;

/* Writes s as a JSON string body (without quotes). */
static void json_str(FILE *f, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
    else fputc(*p, f);
  }
}

/*
 * Firing. Beacons emitted at the same session time (the Impressions of every
 * level, start, creativeView...) are collected into one batch and submitted
 * together, so the dispatcher starts them in one step. The dispatcher runs on
 * its own thread; deliveries are printed from there as they complete.
 */
static void play_json_delivery(FILE *f, const vast_delivery *d) {
  fprintf(f, "{\"t\":%.3f,\"event\":\"", d->t < 0 ? 0 : d->t);
  json_str(f, d->event);
  fputs("\",\"url\":\"", f);
  json_str(f, d->url);
  fprintf(f, "\",\"status\":%ld,\"latency_ms\":%.3f,\"error\":", d->status, d->latency_ms);
  if (d->err) {
    fputc('"', f);
    json_str(f, d->error ? d->error : vast_strerror(d->err));
    fputs("\"}\n", f);
  } else {
    fputs("null}\n", f);
  }
}

static void on_delivery(void *user, const vast_delivery *d) {
  play_ctx *pc = user;
  if (d->err) pc->failed++;
  if (pc->json)
    play_json_delivery(pc->out, d);
  else {
    char *u = cli_tty_dup(d->url); /* issue 12: no control characters to the terminal */
    if (d->err)
      fprintf(pc->out, "%.2f %s error (%s) %s\n", d->t < 0 ? 0 : d->t, d->event,
              d->error ? d->error : vast_strerror(d->err), u ? u : "?");
    else
      fprintf(pc->out, "%.2f %s %ld %.1fms %s\n", d->t < 0 ? 0 : d->t, d->event, d->status,
              d->latency_ms, u ? u : "?");
    free(u);
  }
  fflush(pc->out);
  if (pc->log) {
    play_json_delivery(pc->log, d);
    fflush(pc->log);
  }
}

/* Submits the batch being collected; waits while the queue is full (back-pressure). */
static void play_flush(play_ctx *pc) {
  if (!pc->disp || !pc->n_batch) return;
  vast_err rc;
  while ((rc = vast_dispatcher_submit(pc->disp, pc->batch, pc->n_batch)) == VAST_E_FULL)
    vast_dispatcher_drain(pc->disp, 10);
  if (rc != VAST_OK) cli_error("play: cannot fire a batch of %zu beacons: %s", pc->n_batch,
                               vast_strerror(rc));
  for (size_t i = 0; i < pc->n_batch; i++) {
    free((char *)pc->batch[i].url);
    free((char *)pc->batch[i].event);
  }
  pc->n_batch = 0;
}

static void play_queue(play_ctx *pc, const char *event, const char *url, double media) {
  if (pc->n_batch &&
      (pc->batch_t != pc->st.t || pc->n_batch == sizeof pc->batch / sizeof pc->batch[0]))
    play_flush(pc);
  vast_beacon *b = &pc->batch[pc->n_batch];
  b->url = strdup(url);
  b->event = strdup(event);
  b->t = media < 0 ? pc->st.media : media;
  b->user = NULL;
  if (!b->url || !b->event) {
    free((char *)b->url);
    free((char *)b->event);
    cli_error("play: out of memory");
    return;
  }
  pc->batch_t = pc->st.t;
  pc->n_batch++;
}

/*
 * play_emit: the one place beacons leave `play`. In --dry-run it prints; the
 * network module's firing goes here too (submit url + event to a dispatcher).
 */
static void play_emit(play_ctx *pc, const char *event, const char *url, double media,
                      int is_beacon) {
  if (pc->disp && is_beacon) {
    if ((!strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8))) {
      play_queue(pc, event, url, media);
      return;
    }
  }
  if (pc->json) {
    fprintf(pc->out, "{\"t\":%.3f,\"media\":%.3f,\"event\":\"", pc->st.t, media < 0 ? 0 : media);
    json_str(pc->out, event);
    fputs("\",\"url\":\"", pc->out);
    json_str(pc->out, url);
    fprintf(pc->out, "\"%s}\n", is_beacon ? "" : ",\"beacon\":false");
  } else {
    char *u = cli_tty_dup(url); /* issue 12: no control characters to the terminal */
    fprintf(pc->out, "%.2f %s %s\n", pc->st.t, event, u ? u : "?");
    free(u);
  }
}

static void on_beacon(void *user, const vast_track_beacon *b) {
  play_emit(user, b->name, b->url, b->media_time, 1);
}

static double now_wall(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static void sleep_until(double wall) {
  double d = wall - now_wall();
  if (d <= 0) return;
  struct timespec ts = {(time_t)d, (long)((d - floor(d)) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static void on_click_through(void *user, const vast_play_state *st, const char *name,
                             const char *url) {
  play_emit(user, name, url, st->media, 0);
}

/* Refused events are reported but do not stop the play. */
static void on_refused(void *user, const vast_play_state *st, const vast_play_event *e,
                       vast_err rc, const char *reason) {
  if (rc == VAST_E_STATE)
    cli_error("play: %s at %.2f s ignored: %s", e->name, st->t,
              e->kind == VAST_IN_SKIP ? "the ad is not skippable yet" : reason);
  else
    cli_error("play: %s at %.2f s: %s", e->name, st->t, reason);
}

/* A new moment: the beacons of the previous one leave together; --realtime waits. */
static void on_step(void *user, const vast_play_state *st) {
  play_ctx *pc = user;
  play_flush(pc);
  if (pc->realtime) sleep_until(st->wall0 + st->t);
}

/* Index of the creative to play: --creative, else the first Linear, else 0. */
static long pick_creative(const vast_ad *ad, long want) {
  if (want >= 0) return want < (long)ad->n_creatives ? want : -1;
  for (size_t i = 0; i < ad->n_creatives; i++)
    if (ad->creatives[i].kind == VAST_CREATIVE_LINEAR) return (long)i;
  return ad->n_creatives ? 0 : -1;
}

/* Runs the simulation: returns an exit status. */
static int simulate(play_ctx *pc, vast_tracker *tr, const vast_plan *plan, double watch,
                    const vast_play_event *ev, size_t nev) {
  double dur = vast_plan_duration(plan);
  double end = watch >= 0 ? (dur > 0 && watch > dur ? dur : watch) : dur;
  if (!(end >= 0)) {
    cli_error("play: the ad declares no duration; give --watch SECONDS");
    return CLI_FAIL;
  }
  vast_play_opts po;
  vast_play_opts_init(&po);
  po.end = end;
  po.fire_ended = dur > 0 && end >= dur;
  po.duration = dur;
  po.events = ev;
  po.n_events = nev;
  po.on_refused = on_refused;
  po.on_step = on_step;
  po.on_click_through = on_click_through;
  po.user = pc;
  vast_err rc = vast_play_simulate(tr, &po, &pc->st);
  if (rc != VAST_OK) {
    cli_error("play: cannot simulate: %s", vast_strerror(rc));
    return CLI_FAIL;
  }
  if (pc->st.stop == VAST_PLAY_PAUSED)
    cli_error("play: paused at %.2f s with no resume; stopping", pc->st.t);
  play_flush(pc);
  fflush(pc->out);
  return CLI_OK;
}

int cmd_play(int argc, char **argv) {
  play_ctx pc;
  memset(&pc, 0, sizeof pc);
  pc.out = stdout;
  double watch = -1;
  unsigned player_state = 0;
  long creative = -1;
  const char *events = NULL;
  const char *input = NULL;
  unsigned long long seed = 0;
  int has_seed = 0;
  vast_macro_ctx mctx;
  vast_macro_ctx_init(&mctx);
  vast_dispatch_opts dopt;
  vast_dispatch_opts_init(&dopt);
  dopt.private_policy = VAST_PRIVATE_REFUSE;
  /* One network policy for every request of the command: the input URL, wrapper
     hops, beacons. Private destinations refused unless --allow-private. */
  vast_net_policy *policy = cli_net_policy();
  policy->allow_private = 0;
  dopt.policy = policy;
  vast_resolve_opts ropt;
  vast_resolve_opts_init(&ropt);
  ropt.policy = policy;
  const char *log_path = NULL;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    char *end;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage_text, stdout);
      return CLI_OK;
    } else if (!strcmp(a, "--dry-run")) {
      pc.dry_run = 1;
    } else if (!strcmp(a, "--ssai")) {
      dopt.server_side = 1;
    } else if (!strcmp(a, "--xff")) {
      dopt.forwarded_for = 1;
    } else if (!strcmp(a, "--allow-private")) {
      dopt.private_policy = VAST_PRIVATE_ALLOW;
      policy->allow_private = 1;
    } else if (!strcmp(a, "--device-ip") && val) {
      dopt.device_ip = argv[++i];
    } else if (!strcmp(a, "--device-ua") && val) {
      dopt.device_ua = argv[++i];
    } else if (!strcmp(a, "--log") && val) {
      log_path = argv[++i];
    } else if (!strcmp(a, "--timeout") && val) {
      dopt.timeout_ms = strtol(val, &end, 10);
      if (end == val || *end || dopt.timeout_ms <= 0) {
        cli_error("play: bad --timeout '%s'", val);
        return CLI_USAGE;
      }
      i++;
    } else if (!strcmp(a, "--json")) {
      pc.json = 1;
    } else if (!strcmp(a, "--realtime")) {
      pc.realtime = 1;
    } else if (!strcmp(a, "--muted")) {
      player_state |= VAST_PLAYER_MUTED;
    } else if (!strcmp(a, "--fullscreen")) {
      player_state |= VAST_PLAYER_FULLSCREEN;
    } else if (!strcmp(a, "--watch") && val) {
      watch = strtod(val, &end);
      if (end == val || *end || !(watch >= 0) || !isfinite(watch)) {
        cli_error("play: bad --watch '%s'", val);
        return CLI_USAGE;
      }
      i++;
    } else if (!strcmp(a, "--events") && val) {
      events = argv[++i];
    } else if (!strcmp(a, "--creative") && val) {
      creative = strtol(val, &end, 10);
      if (end == val || *end || creative < 0) {
        cli_error("play: bad --creative '%s'", val);
        return CLI_USAGE;
      }
      i++;
    } else if (!strcmp(a, "--seed") && val) {
      seed = strtoull(val, &end, 10);
      if (end == val || *end) {
        cli_error("play: bad --seed '%s'", val);
        return CLI_USAGE;
      }
      has_seed = 1;
      i++;
    } else if (!strcmp(a, "--macro") && val) {
      const char *eq = strchr(val, '=');
      int m = eq ? vast_macro_lookup(val, (size_t)(eq - val)) : -1;
      if (m < 0) {
        cli_error("play: bad --macro '%s' (NAME=VALUE with an IAB macro name)", val);
        return CLI_USAGE;
      }
      if (!strcmp(eq + 1, "-2")) vast_macro_ctx_withhold(&mctx, (vast_macro)m);
      else vast_macro_ctx_set(&mctx, (vast_macro)m, eq + 1);
      i++;
    } else if (a[0] == '-' && a[1]) {
      cli_error("play: unknown option or missing value '%s'", a);
      fputs(usage_text, stderr);
      return CLI_USAGE;
    } else if (!input) {
      input = a;
    } else {
      cli_error("play: one input only");
      return CLI_USAGE;
    }
  }
  if (!input) {
    fputs(usage_text, stderr);
    return CLI_USAGE;
  }
  vast_play_event ev[MAX_EVENTS];
  size_t nev = 0;
  char msg[512];
  vast_err prc = vast_play_events_parse(events, ev, MAX_EVENTS, &nev, msg, sizeof msg);
  if (prc != VAST_OK) {
    cli_error("play: %s", msg);
    return prc == VAST_E_NOMEM ? CLI_FAIL : CLI_USAGE;
  }
  if (dopt.server_side && (!dopt.device_ip || !dopt.device_ua)) {
    cli_error("play: --ssai needs --device-ip IP and --device-ua UA");
    return CLI_USAGE;
  }
  if (dopt.server_side && vast_net_ip_special(dopt.device_ip) < 0) {
    cli_error("play: --device-ip is not an IPv4 or IPv6 address");
    return CLI_USAGE;
  }
  if (dopt.server_side && !vast_net_header_value_ok(dopt.device_ua)) {
    cli_error("play: --device-ua holds a control character (CR, LF...)");
    return CLI_USAGE;
  }
  if (!dopt.server_side && !pc.dry_run && !mctx.value[VAST_MACRO_SERVERSIDE])
    vast_macro_ctx_set_serverside(&mctx, 0); /* firing from here, as the client */
  if (dopt.server_side) {
    vast_macro_ctx_set_serverside(&mctx, 1);
    if (!mctx.value[VAST_MACRO_DEVICEIP]) vast_macro_ctx_set(&mctx, VAST_MACRO_DEVICEIP, dopt.device_ip);
    if (!mctx.value[VAST_MACRO_DEVICEUA]) vast_macro_ctx_set(&mctx, VAST_MACRO_DEVICEUA, dopt.device_ua);
  }
  if (!pc.dry_run) {
    if (log_path && !(pc.log = fopen(log_path, "w"))) {
      cli_error("cannot open '%s': %s", log_path, strerror(errno));
      return CLI_FAIL;
    }
    dopt.on_delivery = on_delivery;
    dopt.ctx = &pc;
    vast_err drc = vast_dispatcher_create(&dopt, &pc.disp);
    if (drc == VAST_OK) drc = vast_dispatcher_start(pc.disp);
    if (drc != VAST_OK) {
      cli_error("play: cannot start the dispatcher: %s", vast_strerror(drc));
      vast_dispatcher_free(pc.disp);
      if (pc.log) fclose(pc.log);
      return CLI_FAIL;
    }
  }

  char *buf;
  size_t len;
  int status = CLI_FAIL;
  vast_doc *doc = NULL;
  vast_chain *chain = NULL;
  vast_plan *plan = NULL;
  vast_tracker *tr = NULL;
  if (cli_read_input(input, &buf, &len) != 0) goto out;
  vast_error err;
  vast_err rc = vast_doc_parse(buf, len, NULL, &doc, &err);
  if (rc != VAST_OK) {
    free(buf);
    cli_error("%s:%lu:%lu: %s [VAST code %d]", input, err.line, err.column, err.message,
              err.iab_code);
    status = rc == VAST_E_NOMEM ? CLI_FAIL : CLI_NOT_VAST;
    goto out;
  }
  const vast_vast *v = vast_doc_vast(doc);
  const vast_ad *inline_ad = NULL, *first_wrapper = NULL;
  for (size_t i = 0; v && i < v->n_ads; i++) {
    if (!inline_ad && v->ads[i].kind == VAST_AD_INLINE) inline_ad = &v->ads[i];
    if (!first_wrapper && v->ads[i].kind == VAST_AD_WRAPPER) first_wrapper = &v->ads[i];
  }
  const vast_ad *const *ads = NULL;
  size_t n_ads = 0;
  const vast_ad *single[1];
  if (inline_ad) {
    single[0] = inline_ad;
    ads = single;
    n_ads = 1;
    free(buf);
  } else if (first_wrapper) {
    /* Resolve the wrapper chain (fetches tag documents, never beacons). */
    vast_error rerr;
    memset(&rerr, 0, sizeof rerr);
    if (!strcmp(input, "-"))
      rc = vast_resolve_buffer(buf, len, NULL, &ropt, &chain, &rerr);
    else if (cli_is_url(input))
      rc = vast_resolve_url(input, &ropt, &chain, &rerr);
    else
      rc = vast_resolve_file(input, &ropt, &chain, &rerr);
    free(buf);
    size_t n = 0;
    const vast_resolved *res = chain ? vast_chain_ads(chain, &n) : NULL;
    if (rc != VAST_OK || !n) {
      cli_error("cannot resolve the wrapper chain of '%s': %s", input,
                rerr.message[0] ? rerr.message : vast_strerror(rc));
      goto out;
    }
    ads = res[0].ads;
    n_ads = res[0].n;
  } else {
    free(buf);
    cli_error("'%s' holds no ad to play", input);
    goto out;
  }
  const vast_ad *ad = ads[n_ads - 1];
  long ci = pick_creative(ad, creative);
  if (ci < 0) {
    cli_error("'%s': no creative %ld to play", input, creative);
    goto out;
  }
  rc = vast_plan_create(ads, n_ads, (size_t)ci, 0, &plan);
  if (rc == VAST_OK) rc = vast_tracker_create(plan, &mctx, on_beacon, &pc, &tr);
  if (rc != VAST_OK) {
    cli_error("'%s': cannot track creative %ld: %s", input, ci, vast_strerror(rc));
    goto out;
  }
  if (has_seed) vast_tracker_seed(tr, seed);
  vast_tracker_set_player_state(tr, player_state);
  status = simulate(&pc, tr, plan, watch, ev, nev);
  if (pc.disp) {
    if (vast_dispatcher_drain(pc.disp, dopt.timeout_ms * 4 + 1000) != VAST_OK)
      cli_error("play: beacons still in flight at exit");
    if (status == CLI_OK && pc.failed) status = CLI_FINDINGS;
  }
out:
  vast_dispatcher_free(pc.disp);
  if (pc.log) fclose(pc.log);
  vast_tracker_free(tr);
  vast_plan_free(plan);
  vast_chain_free(chain);
  vast_doc_free(doc);
  return status;
}
