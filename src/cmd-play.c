/*
 * cmd-play.c: `vastrack play`, a simulated playback of one ad through the
 * tracking engine (lib/track/track.c), printing every beacon the player would
 * request, and sending them only when asked (--fire).
 *
 * The flow: read and parse the tag; make its pod (vast_pod_from_vast, or
 * vast_pod_from_chain once the Wrappers are resolved) or take the VMAP; play
 * it with the library's one call, vast_play_response (every ad on its own
 * tracker and the simulated player: a 4 Hz media clock and the injected
 * --events; a VMAP's breaks against the content), turning each note it
 * reports into output (on_note). Every line of output is a record
 * (play_rec) kept in firing order by play-records.c: printed at once in a dry
 * run; with --fire the beacons of one moment are submitted together to the
 * dispatcher as the moment happens (real time unless --fast), and records are
 * printed in order as their deliveries complete.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "opts.h"
#include "play.h"

static const char usage_text[] =
    "usage: vastrack play [--fire [--fast]] [--json] [--log FILE] [--watch SECONDS] [--rate R]\n"
    "                     [--events LIST] [--creative N] [--macro NAME=VALUE]...\n"
    "                     [--seed N] [--muted] [--fullscreen] [--ssai --device-ip IP\n"
    "                     --device-ua UA [--xff] [--device-referer URL]\n"
    "                     [--device-accept-language L] [--device-requested-with APP]]\n"
    "                     [--allow-private] [--timeout MS]\n"
    "                     [--content-duration S] [--cue-points T,T,...] FILE|URL|-\n"
    "\n"
    "Plays a whole response on a simulated player and prints every tracking beacon\n"
    "the IAB rules require, macros expanded, in firing order: one ad, or every ad of a\n"
    "pod in sequence order (each on its own tracker; an ad failing with error@0 is\n"
    "replaced by the next buffet ad), or a VMAP schedule break by break (Wrappers\n"
    "first resolved to their InLine). Nothing is sent\n"
    "unless --fire is given.\n"
    "\n"
    "Output: a header line (# ad, chain depth, creative played, a warning when the\n"
    "only media is VPAID), then one line per record:\n"
    "  T MEDIA EVENT URL                      a beacon (dry run)\n"
    "  T MEDIA EVENT STATUS LATENCYms URL     a beacon sent (--fire)\n"
    "  T MEDIA EVENT error (REASON) URL       a beacon that got no response\n"
    "  T MEDIA EVENT (no tracking URL)        the event happened; the tag tracks none\n"
    "  T MEDIA clickThrough URL               the landing page of a click (not a beacon)\n"
    "T: session seconds since the first ad loaded; for a VMAP, the content time (the\n"
    "content's playhead, still during a break); MEDIA: seconds into the ad (they\n"
    "differ after a pause or a seek; - when unknown). A pod prints '# pod ad N of M'\n"
    "before each ad, a\n"
    "VMAP '# break N of M: preroll|midroll|postroll at content S s ...' before each\n"
    "break, then its breakStart, the ads, its breakEnd ('error' when it cannot play).\n"
    "A last line per ad (# on stdout, stderr with --json) says how much media was\n"
    "played continuously from 0, played in all, and thrown away (faster than real\n"
    "time, or a jump).\n";

static const char epilog[] =
    "exit status: 0 played (and with --fire every beacon got a response), 1 some\n"
    "beacons failed, 2 usage, 3 not valid VAST, 4 nothing playable or failure\n";

/* --macro NAME=VALUE: a caller value for an IAB macro; VALUE -2 withholds it. */
static int on_macro(void *ctx, const char *val) {
  const char *eq = strchr(val, '=');
  int m = eq ? vast_macro_lookup(val, (size_t)(eq - val)) : -1;
  if (m < 0) {
    cli_error("play: bad --macro '%s' (NAME=VALUE with an IAB macro name)", val);
    return -1;
  }
  if (!strcmp(eq + 1, "-2"))
    vast_macro_ctx_withhold(ctx, (vast_macro)m);
  else
    vast_macro_ctx_set(ctx, (vast_macro)m, eq + 1);
  return 0;
}

#define MAX_EVENTS 256
#define MAX_CUES 256

static double now_wall(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static double real_clock(void *user) {
  (void)user;
  return now_wall();
}

static void sleep_until(double wall) {
  double d = wall - now_wall();
  if (d <= 0) return;
  struct timespec ts = {(time_t)d, (long)((d - floor(d)) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static const char *kind_name(vast_creative_kind k) {
  return k == VAST_CREATIVE_LINEAR      ? "linear"
         : k == VAST_CREATIVE_NONLINEAR ? "nonlinear"
         : k == VAST_CREATIVE_COMPANION ? "companion"
                                        : "unknown";
}

/* The header: which ad, how deep, which creative, how it will run. */
static void header(const play_ctx *pc, const vast_selection *sel, long ci, const vast_plan *plan,
                   int fast) {
  FILE *f = pc->json ? stderr : pc->out;
  const vast_creative *cr = &sel->ad->creatives[ci];
  fprintf(f, "# ad %s", sel->ad->id ? sel->ad->id : "(no id)");
  if (sel->ad->ad_title) fprintf(f, " \"%s\"", sel->ad->ad_title);
  fprintf(f, ", chain depth %zu (%zu wrapper%s), creative %ld", sel->n_chain, sel->n_chain - 1,
          sel->n_chain == 2 ? "" : "s", ci);
  if (cr->id) fprintf(f, " id %s", cr->id);
  fprintf(f, " (%s", kind_name(cr->kind));
  if (vast_plan_duration(plan) > 0) fprintf(f, ", %.3f s", vast_plan_duration(plan));
  fprintf(f, "), %zu beacon URLs; %s\n", vast_plan_url_count(plan),
          !pc->fire ? "dry run: nothing sent (--fire sends)"
          : fast    ? "firing, time compressed (--fast)"
                    : "firing in real time");
  if (sel->vpaid_only && (long)sel->creative == ci)
    cli_error("play: warning: the only media of creative %ld is VPAID: a video player cannot "
              "play it (the beacons below assume it played)",
              ci);
  fflush(f);
}

/* ---- pods and breaks ---- */

#define MAX_GROUPS 64

/* The --events addressed to one ad: break (1-based in schedule order; 0 outside
 * a VMAP) and ad (1-based in play order of its break). */
typedef struct ev_group {
  int brk, ad;
  char *list; /* the items, "NAME@T[:ARG],..." */
  vast_play_event *ev;
  size_t n;
} ev_group;

typedef struct play_plan {
  ev_group g[MAX_GROUPS];
  size_t n_groups;
  long creative;
  double watch;
  int has_seed, ssai;
  unsigned long long seed;
  unsigned player_state;
  int fast;
  double rate;
} play_plan;

static int state_event(const vast_play_event *e);

/* Splits --events into per-ad groups and parses each. Returns 0, or prints
 * why and returns the exit status. */
static int group_events(play_plan *pp, const char *list, int vmap) {
  if (!list) return 0;
  char *copy = strdup(list);
  if (!copy) return CLI_FAIL;
  int rc = 0;
  for (char *save = NULL, *item = strtok_r(copy, ",", &save); item && !rc;
       item = strtok_r(NULL, ",", &save)) {
    int brk = -1, ad = 1;
    size_t skip = vast_play_event_address(item, &brk, &ad);
    if (skip && ad < 1) {
      cli_error("play: bad ad address in '%s' (ads count from 1)", item);
      rc = CLI_USAGE;
      break;
    }
    if (vmap && skip && brk < 1) {
      cli_error("play: '%s': in a VMAP play address an ad as BREAK.AD/NAME@T (e.g. 2.1/skip@6)",
                item);
      rc = CLI_USAGE;
      break;
    }
    if (vmap && !skip) ad = 0; /* a content time: group (0, 0) */
    if (!vmap && skip && brk >= 0) {
      cli_error("play: '%s': BREAK.AD/ addresses are for a VMAP; address a pod ad as AD/NAME@T",
                item);
      rc = CLI_USAGE;
      break;
    }
    if (!vmap || !skip) brk = 0;
    ev_group *g = NULL;
    for (size_t i = 0; i < pp->n_groups; i++)
      if (pp->g[i].brk == brk && pp->g[i].ad == ad) g = &pp->g[i];
    if (!g) {
      if (pp->n_groups == MAX_GROUPS) {
        cli_error("play: events for more than %d ads", MAX_GROUPS);
        rc = CLI_USAGE;
        break;
      }
      g = &pp->g[pp->n_groups++];
      g->brk = brk;
      g->ad = ad;
    }
    const char *text = item + skip;
    size_t old = g->list ? strlen(g->list) : 0;
    char *nl = realloc(g->list, old + strlen(text) + 2);
    if (!nl) {
      rc = CLI_FAIL;
      break;
    }
    if (old) nl[old++] = ',';
    strcpy(nl + old, text);
    g->list = nl;
  }
  free(copy);
  for (size_t i = 0; i < pp->n_groups && !rc; i++) {
    ev_group *g = &pp->g[i];
    g->ev = calloc(MAX_EVENTS, sizeof *g->ev);
    if (!g->ev) return CLI_FAIL;
    char msg[512];
    vast_err prc = vast_play_events_parse(g->list, g->ev, MAX_EVENTS, &g->n, msg, sizeof msg);
    if (prc != VAST_OK) {
      cli_error("play: %s", msg);
      rc = prc == VAST_E_NOMEM ? CLI_FAIL : CLI_USAGE;
    }
    for (size_t k = 0; k < g->n && !rc && !g->ad; k++) /* content times: the player's state */
      if (!state_event(&g->ev[k])) {
        cli_error("play: '%s@%g': in a VMAP play an event without an address is at a content "
                  "time and can only change the player's state (mute, unmute, fullscreen, "
                  "exitFullscreen); address an ad's event as BREAK.AD/NAME@T (T seconds "
                  "into that ad, e.g. 2.1/skip@6)",
                  g->ev[k].name, g->ev[k].at);
        rc = CLI_USAGE;
      }
  }
  return rc;
}

/* 1 for an event that changes the player's state (mute, unmute, playerExpand,
 * playerCollapse): the only ones a VMAP play takes at content times. */
static int state_event(const vast_play_event *e) {
  return e->kind == VAST_IN_MUTE || e->kind == VAST_IN_UNMUTE || e->kind == VAST_IN_PLAYER_EXPAND ||
         e->kind == VAST_IN_PLAYER_COLLAPSE;
}

#define MAX_BREAKS 10000 /* slots of one schedule, repetitions included */

static int worse(int a, int b) {
  return a > b ? a : b;
}

/* One play of a whole response (vast_play_response): what the notes need. */
typedef struct cli_run {
  play_ctx *pc;
  const play_plan *pp;
  const char *input;
  double content; /* VMAP: the content's duration; < 0 unknown */
  int status;
  size_t n_breaks; /* VMAP: slots of the schedule */
  int why_brk;     /* the break whose repeatAfter warning was printed */
  int said;        /* the failure was reported */
} cli_run;

/* A placed break's repeatAfter that was not expanded, said once. */
static void break_why(cli_run *r, const vast_play_note *n) {
  const vast_break_slot *s = n->slot;
  if (!s || !s->why || r->why_brk == n->brk) return;
  r->why_brk = n->brk;
  cli_error("play: break %d (%s, repeatAfter %s): %s", n->brk,
            s->brk->break_id ? s->brk->break_id : "no id", s->brk->repeat_after.raw, s->why);
}

/* The ad has played: where it stopped, and how much media was played. */
static void ad_end(cli_run *r, const vast_play_note *n) {
  play_ctx *pc = r->pc;
  if (n->state->stop == VAST_PLAY_PAUSED)
    cli_error("play: paused at %.2f s with no resume; stopping", n->state->t);
  play_flush(pc);
  if (pc->nomem) {
    cli_error("play: out of memory: some records were lost");
    r->status = worse(r->status, CLI_FAIL);
    return;
  }
  if (pc->disp) vast_dispatcher_drain(pc->disp, 30000); /* after every record of the ad */
  pthread_mutex_lock(&pc->mu);
  FILE *f = pc->json ? stderr : pc->out;
  fprintf(f, "# played continuously from 0: %.2f s; played in all: %.2f s; thrown away: %.2f s%s\n",
          vast_tracker_continuous(n->tracker), vast_tracker_played(n->tracker),
          vast_tracker_discarded(n->tracker),
          vast_tracker_discarded(n->tracker) > 0 ? " (faster than real time, or a jump)" : "");
  fflush(f);
  pthread_mutex_unlock(&pc->mu);
}

static void ad_failed(cli_run *r, const vast_play_note *n) {
  switch (n->code) {
  case VAST_AD_FAIL_CREATIVE:
    cli_error("'%s': no creative %ld to play", r->input, r->pp->creative);
    break;
  case VAST_AD_FAIL_TRACK:
    cli_error("'%s': cannot track creative %ld: %s", r->input, n->creative, vast_strerror(n->rc));
    break;
  case VAST_AD_FAIL_DURATION:
    cli_error("play: the ad declares no duration; give --watch SECONDS");
    break;
  default:
    cli_error("play: cannot simulate: %s", vast_strerror(n->rc));
  }
  r->status = worse(r->status, CLI_FAIL);
}

/* A break is about to be resolved: its header line. */
static void break_start(cli_run *r, const vast_play_note *n, FILE *f) {
  const vast_break_slot *s = n->slot;
  const vast_ad_break *b = s->brk;
  break_why(r, n);
  fprintf(f, "# break %d of %zu: %s at content %.3f s (session %.3f s), timeOffset %s", n->brk,
          r->n_breaks, cli_break_position_name(s->position), s->at, n->t_base,
          b->time_offset ? b->time_offset : "");
  if (s->repeat) fprintf(f, ", repeat %u (repeatAfter %s)", s->repeat, b->repeat_after.raw);
  if (b->break_id) fprintf(f, ", breakId %s", b->break_id);
  if (b->break_type) fprintf(f, ", breakType %s", b->break_type);
  fprintf(f, ", source %s\n", cli_source_name(b->source_kind));
  fflush(f);
}

/*
 * Every note of vast_play_response becomes output: beacons become records
 * (play_record: the session clock, the content time in a VMAP), the structure
 * of the play comment lines, and each moment (VAST_NOTE_STEP) sends what the
 * last one queued and, in real time, waits until the next is due.
 */
static int on_note(void *user, const vast_play_note *n) {
  cli_run *r = user;
  play_ctx *pc = r->pc;
  FILE *f = pc->json ? stderr : pc->out;
  pc->t_base = n->t_base;
  if (n->state)
    pc->st = *n->state;
  else
    memset(&pc->st, 0, sizeof pc->st);
  if (n->content >= 0) pc->content_t = n->content;
  switch (n->kind) {
  case VAST_NOTE_BEACON:
    play_record(pc, n->name, n->url, n->media, n->level, 1);
    return 0;
  case VAST_NOTE_BREAK_BEACON:
    play_record(pc, n->name, n->url, -1, UINT32_MAX, 1);
    return 0;
  case VAST_NOTE_CLICK_THROUGH:
    play_record(pc, n->name, n->url, n->media, UINT32_MAX, 0);
    return 0;
  case VAST_NOTE_REFUSED: /* reported; the play goes on */
    if (n->rc == VAST_E_STATE)
      cli_error("play: %s at %.2f s ignored: %s", n->name, n->state->t,
                n->event->kind == VAST_IN_SKIP ? "the ad is not skippable yet" : n->message);
    else
      cli_error("play: %s at %.2f s: %s", n->name, n->state->t, n->message);
    return 0;
  case VAST_NOTE_STEP: /* a new moment: the previous one's beacons leave together */
    play_flush(pc);
    if (pc->realtime) sleep_until(n->state->wall0 + n->state->t);
    return 0;
  default:
    break;
  }
  play_flush(pc); /* what the last moment queued leaves before the next part */
  switch (n->kind) {
  case VAST_NOTE_POD:
    if (n->count > 1 || n->buffet)
      fprintf(f, "# pod: %zu ad%s in sequence order, %zu buffet ad%s\n", n->count,
              n->count == 1 ? "" : "s", n->buffet, n->buffet == 1 ? "" : "s");
    break;
  case VAST_NOTE_AD_BEGIN:
    if (n->count > 1 || n->replacement) {
      fprintf(f, "# pod ad %d of %zu", n->ad, n->count);
      if (n->sequence >= 0) fprintf(f, ", sequence %d", n->sequence);
      if (n->replacement) fputs(", a buffet ad replacing the failed one", f);
      fputc('\n', f);
    }
    break;
  case VAST_NOTE_AD_START:
    header(pc, n->sel, n->creative, n->plan, r->pp->fast);
    break;
  case VAST_NOTE_AD_FAILED:
    ad_failed(r, n);
    break;
  case VAST_NOTE_AD_END:
    ad_end(r, n);
    break;
  case VAST_NOTE_NO_BUFFET:
    if (n->buffet) fprintf(f, "# no buffet ad left to replace pod ad %d\n", n->ad);
    break;
  case VAST_NOTE_AD_IGNORED:
    cli_error("play: events for ad %d ignored: %s%d ad%s to play", n->ad,
              n->brk ? "the break has " : "the response has ", (int)n->count,
              n->count == 1 ? "" : "s");
    break;
  case VAST_NOTE_VMAP:
    r->n_breaks = n->count;
    r->said = n->rc != VAST_OK;
    if (n->rc == VAST_E_NOSPACE)
      cli_error("play: the VMAP schedules %zu breaks (repeatAfter included): more than %d",
                n->count, MAX_BREAKS);
    else if (n->rc != VAST_OK)
      cli_error("play: cannot schedule the VMAP: %s", vast_strerror(n->rc));
    else
      fprintf(f, "# vmap: %zu break%s, content %s\n", n->count, n->count == 1 ? "" : "s",
              r->content >= 0 ? "given" : "duration unknown (--content-duration S)");
    break;
  case VAST_NOTE_BREAK_SKIPPED: {
    const vast_ad_break *b = n->slot->brk;
    cli_error("play: break %d (%s, timeOffset %s) not played: %s%s", n->brk,
              b->break_id ? b->break_id : "no id", b->time_offset ? b->time_offset : "absent",
              n->slot->why ? n->slot->why
                           : "the content duration is unknown (--content-duration S)",
              b->offset_kind == VAST_BREAK_POSITION ? " (--cue-points T,T,...)" : "");
    r->status = worse(r->status, CLI_FINDINGS);
    break;
  }
  case VAST_NOTE_CONTENT_EVENT: /* the player's state changed while the content played */
    break_why(r, n);
    fprintf(f, "# content %.3f s: %s (the player's state for the ads that follow)\n", n->event->at,
            n->name);
    break;
  case VAST_NOTE_BREAK_START:
    break_start(r, n, f);
    break;
  case VAST_NOTE_BREAK_NO_AD:
    fprintf(f, "# break %d: no ad to play\n", n->brk);
    break;
  case VAST_NOTE_BREAK_ERROR:
    cli_error("play: break %d: %s", n->brk, n->message);
    r->status = worse(r->status, CLI_FINDINGS);
    break;
  case VAST_NOTE_CONTENT_LEFT: /* after the last break: nothing left to play */
    cli_error("play: %s at content %.2f s changes nothing: no break follows", n->name,
              n->event->at);
    break;
  case VAST_NOTE_BREAK_IGNORED:
    cli_error("play: events for break %d ignored: the VMAP has %zu breaks", n->brk, n->count);
    break;
  default:
    break;
  }
  return 0;
}

/*
 * Plays a whole response with vast_play_response: a pod (pod, doc NULL), or a
 * VMAP (doc) against the content described by sched, its breaks resolved with
 * ropt. Returns an exit status.
 */
static int play_response(play_ctx *pc, const play_plan *pp, const vast_doc *doc,
                         const vast_pod *pod, const vast_macro_ctx *mctx,
                         const vast_resolve_opts *ropt, const char *input,
                         const vast_schedule_opts *sched) {
  vast_play_group groups[MAX_GROUPS];
  for (size_t i = 0; i < pp->n_groups; i++) {
    groups[i].brk = pp->g[i].brk;
    groups[i].ad = pp->g[i].ad;
    groups[i].ev = pp->g[i].ev;
    groups[i].n = pp->g[i].n;
  }
  cli_run r;
  memset(&r, 0, sizeof r);
  r.pc = pc;
  r.pp = pp;
  r.input = input;
  r.content = sched ? sched->content : -1;
  vast_response_opts o;
  vast_response_opts_init(&o);
  o.groups = groups;
  o.n_groups = pp->n_groups;
  o.creative = pp->creative;
  o.watch = pp->watch;
  o.rate = pp->rate;
  o.has_seed = pp->has_seed;
  o.seed = pp->seed;
  o.player_state = pp->player_state;
  o.report_untracked = 1;
  o.ssai = pp->ssai;
  if (pc->fire) o.clock = real_clock;
  o.wall0 = pc->wall0;
  o.macros = mctx;
  o.schedule = sched;
  o.max_breaks = MAX_BREAKS;
  o.resolve = ropt;
  o.base = !strcmp(input, "-") ? NULL : input;
  o.on_note = on_note;
  o.user = &r;
  pc->vmap = doc != NULL;
  vast_err rc = vast_play_response(doc, pod, &o);
  play_flush(pc);
  if (rc != VAST_OK) {
    if (!r.said) cli_error("play: cannot play: %s", vast_strerror(rc));
    return CLI_FAIL;
  }
  return r.status;
}

int cmd_play(int argc, char **argv) {
  play_ctx pc;
  memset(&pc, 0, sizeof pc);
  pthread_mutex_init(&pc.mu, NULL);
  pc.out = stdout;
  double watch = -1, content_duration = -1, rate = 1;
  double cues[MAX_CUES];
  size_t n_cues = 0;
  const char *cue_arg = NULL;
  play_plan pp;
  memset(&pp, 0, sizeof pp);
  unsigned player_state = 0;
  long creative = -1;
  const char *events = NULL;
  const char *input = NULL;
  unsigned long long seed = 0;
  int has_seed = 0, dry_run = 0, fast = 0, ssai = 0;
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
  int status = CLI_USAGE;

  int allow_private = 0, muted = 0, fullscreen = 0;
  const char *seed_arg = NULL;
  const cli_opt table[] = {
      CLI_FLAG("fire", pc.fire,
               "send the beacons (HTTP GET through the net module). Without it\n"
               "nothing leaves the machine (a dry run)"),
      CLI_FLAG("dry-run", dry_run, "the default: nothing is sent (accepted, changes nothing)"),
      CLI_FLAG("fast", fast,
               "with --fire: compress time (no waiting). By default a fired\n"
               "play runs in real time, each beacon leaving at the moment of\n"
               "its playback event; [TIMESTAMP] is the real send time"),
      CLI_FLAG("realtime", pc.realtime, "pace a dry run in real time too"),
      CLI_FLAG("json", pc.json,
               "JSON lines, one record each: {\"t\",\"media\",\"event\",\"url\",\n"
               "\"level\",\"beacon\",\"sent\",\"status\",\"latencyMs\",\"error\"}, the same\n"
               "shape for dry and fired runs (docs/tracking.md); the header\n"
               "line goes to stderr"),
      CLI_STRING("log", "FILE", log_path,
                 "also write the beacon records to FILE as JSON lines (the\n"
                 "format `vastrack report --fired FILE` reads; give it a --fire log)"),
      CLI_FLAG("allow-private", allow_private,
               "send to (with --fire), and fetch wrapper hops from,\n"
               "loopback/private/link-local and other special-purpose addresses\n"
               "too (refused by default: a tag must not reach into the local\n"
               "network; docs/security.md)"),
      CLI_INT("timeout", "MS", dopt.timeout_ms, 1, 86400000, "per beacon request (default 5000)"),
      CLI_FLAG("ssai", ssai,
               "play as a server-side ad insertion server: reported positions\n"
               "are trusted as delivered media (vast_tracker_set_trusted_positions),\n"
               "[SERVERSIDE]=1, and with --fire the X-Device-IP and\n"
               "X-Device-User-Agent headers; needs:"),
      CLI_STRING("device-ip", "IP", dopt.device_ip,
                 "the device's IP (also [DEVICEIP], X-Forwarded-For with --xff)"),
      CLI_STRING("device-ua", "UA", dopt.device_ua, "the device's User-Agent (also [DEVICEUA])"),
      CLI_FLAG("xff", dopt.forwarded_for, "also send X-Forwarded-For: IP (deprecated header)"),
      CLI_STRING("device-referer", "URL", dopt.device_referer,
                 "with --ssai: the optional X-Device-Referer header"),
      CLI_STRING("device-accept-language", "L", dopt.device_accept_language,
                 "with --ssai: the optional X-Device-Accept-Language header"),
      CLI_STRING("device-requested-with", "APP", dopt.device_requested_with,
                 "with --ssai: the optional X-Device-Requested-With header"),
      CLI_TEXT(
          "                    In --ssai mode every tag request (the tag, each VASTAdTagURI, a\n"
          "                    VMAP's AdTagURIs) carries the X-Device-* headers too, fired or not\n"
          "  Macros play fills: [SERVERSIDE] 0 (1 with --ssai), [SERVERUA] vastrack's\n"
          "                    User-Agent, [TRANSACTIONID] one UUID per resolution (a VMAP:\n"
          "                    per break), shared by its tag requests, Error URLs and beacons,\n"
          "                    [ADCOUNT] [PODSEQUENCE] [BREAKPOSITION];\n"
          "                    [CLIENTUA] names your player: --macro CLIENTUA=player/1.0"),
      CLI_DOUBLE("watch", "SECONDS", watch, 0, HUGE_VAL, 0,
                 "play from 0 to SECONDS of media time; without it, play to the\n"
                 "end and fire complete"),
      CLI_DOUBLE("rate", "R", rate, 0, HUGE_VAL, CLI_OPT_ABOVE_MIN,
                 "playback rate (media seconds per second; default 1). Quartiles\n"
                 "and complete need normal speed: at 2x nothing past the start\n"
                 "is earned (VAST 4.x 3.14.1)"),
      CLI_STRING("events", "LIST", events,
                 "player events at session times, comma-separated NAME@T[:ARG],\n"
                 "e.g. mute@5,unmute@8,pause@10,resume@12,skip@20,click@3,\n"
                 "error@4:405,seek@6:2,rewind@9,closeLinear@31 (ARG: error code,\n"
                 "seek target, real duration, icon index, reason). Names: every\n"
                 "player action of the spec: mute unmute pause resume seek rewind\n"
                 "(back to ARG, default 0) skip click (clickThrough) customClick\n"
                 "close closeLinear error notUsed playerExpand playerCollapse\n"
                 "fullscreen exitFullscreen expand collapse creativeView\n"
                 "interactiveStart otherAdInteraction acceptInvitation\n"
                 "(acceptInvitationLinear) adExpand adCollapse minimize\n"
                 "overlayViewDuration viewable notViewable viewUndetermined\n"
                 "verificationNotExecuted duration iconView iconClick.\n"
                 "notUsed@0 and error@0:CODE happen before the impression (an ad\n"
                 "dropped or failing before it is shown). After complete or skip\n"
                 "only closeLinear/close, a viewability verdict,\n"
                 "verificationNotExecuted and clicks (an end card) are taken.\n"
                 "Quartiles, start, complete and progress are earned by the\n"
                 "playback, not injected. T is in seconds since the ad loaded.\n"
                 "Address an item to an ad with a prefix: AD/NAME@T for the\n"
                 "AD-th ad of a pod (1-based, play order; no prefix: the first),\n"
                 "BREAK.AD/NAME@T in a VMAP (BREAK: 1-based, content order), e.g.\n"
                 "2/skip@6 or 2.1/error@0:403 (a pod ad failing: the buffet\n"
                 "replaces it). In a VMAP an item without an address is at a\n"
                 "content time and changes the player's state for the breaks\n"
                 "that follow: mute@20, unmute, fullscreen, exitFullscreen"),
      CLI_DOUBLE("content-duration", "S", content_duration, 0, HUGE_VAL, 0,
                 "for a VMAP: the content's length, placing n% and end\n"
                 "breaks ([BREAKPOSITION] 1 preroll, 2 midroll, 3 postroll) and\n"
                 "repeating a break with repeatAfter until the content ends"),
      CLI_STRING("cue-points", "T,T,...", cue_arg,
                 "for a VMAP: the content's break opportunities (ascending\n"
                 "content seconds); timeOffset #n plays at the n-th. Without\n"
                 "them a #n break is not played (reported)"),
      CLI_INT("creative", "N", creative, 0, 1000000000,
              "play the N-th creative of the InLine (0-based; default the first\n"
              "Linear)"),
      CLI_CALL("macro", "NAME=VALUE", on_macro, &mctx,
               "a caller value for an IAB macro (DEVICEIP, PAGEURL, ...),\n"
               "repeatable; VALUE -2 marks it withheld"),
      CLI_STRING("seed", "N", seed_arg, "seed CACHEBUSTING for reproducible output"),
      CLI_FLAG("muted", muted,
               "the player starts muted: no mute beacon, unmute fires\n"
               "unmute, [PLAYERSTATE] says muted"),
      CLI_FLAG("fullscreen", fullscreen, "the player starts fullscreen ([PLAYERSTATE])"),
      CLI_END};
  const cli_cmd cmd = {"play", usage_text, table, epilog};
  int n_ops = cli_opts_parse(&cmd, argc, argv);
  if (n_ops < 0) {
    status = cli_opts_exit(n_ops);
    goto done;
  }
  if (n_ops != 1) {
    if (n_ops > 1)
      cli_error("play: one input only");
    else
      cli_opts_help(&cmd, stderr);
    goto done;
  }
  input = argv[1];
  if (allow_private) {
    dopt.private_policy = VAST_PRIVATE_ALLOW;
    policy->allow_private = 1;
  }
  if (muted) player_state |= VAST_PLAYER_MUTED;
  if (fullscreen) player_state |= VAST_PLAYER_FULLSCREEN;
  for (const char *p = cue_arg; p && *p;) {
    char *end;
    double c = strtod(p, &end);
    if (end == p || (*end && *end != ',') || !(c >= 0) || !isfinite(c) || n_cues == MAX_CUES ||
        (n_cues && c < cues[n_cues - 1])) {
      cli_error("play: bad --cue-points '%s' (at most %d ascending content seconds, "
                "comma-separated)",
                cue_arg, MAX_CUES);
      goto done;
    }
    cues[n_cues++] = c;
    p = *end ? end + 1 : end;
  }
  if (seed_arg) {
    char *end;
    seed = strtoull(seed_arg, &end, 10);
    if (end == seed_arg || *end) {
      cli_error("play: bad --seed '%s'", seed_arg);
      goto done;
    }
    has_seed = 1;
  }
  if (dry_run && pc.fire) {
    cli_error("play: --dry-run and --fire contradict each other (a dry run is the default)");
    goto done;
  }
  if (fast && !pc.fire) {
    cli_error("play: --fast compresses the time of a fired play; give --fire (a dry run "
              "never waits)");
    goto done;
  }
  if (pc.fire && !fast) pc.realtime = 1;
  pp.creative = creative;
  pp.watch = watch;
  pp.has_seed = has_seed;
  pp.seed = seed;
  pp.ssai = ssai;
  pp.player_state = player_state;
  pp.fast = fast;
  pp.rate = rate;
  if (ssai && (!dopt.device_ip || !dopt.device_ua)) {
    cli_error("play: --ssai needs --device-ip IP and --device-ua UA");
    goto done;
  }
  if (ssai && vast_net_ip_special(dopt.device_ip) < 0) {
    cli_error("play: --device-ip is not an IPv4 or IPv6 address");
    goto done;
  }
  if (ssai && !vast_net_header_value_ok(dopt.device_ua)) {
    cli_error("play: --device-ua holds a control character (CR, LF...)");
    goto done;
  }
  const char *opt_hdr[3] = {dopt.device_referer, dopt.device_accept_language,
                            dopt.device_requested_with};
  for (int k = 0; k < 3; k++)
    if (opt_hdr[k] && (!ssai || !vast_net_header_value_ok(opt_hdr[k]))) {
      cli_error(!ssai ? "play: the --device-* headers are for --ssai"
                      : "play: a --device-* value holds a control character (CR, LF...)");
      goto done;
    }
  dopt.server_side = ssai && pc.fire;
  if (!ssai && !mctx.value[VAST_MACRO_SERVERSIDE])
    vast_macro_ctx_set_serverside(&mctx, 0); /* playing here, as the client */
  /* [SERVERUA]: our own User-Agent; [CLIENTUA] comes from --macro; [TRANSACTIONID]
     is one per resolution (the resolver's, a VMAP break's), unless --macro gives one */
  char ua[64], txid[40];
  snprintf(ua, sizeof ua, "vastrack/%s", vast_version());
  if (!mctx.value[VAST_MACRO_SERVERUA])
    vast_macro_ctx_set(&mctx, VAST_MACRO_SERVERUA, policy->user_agent ? policy->user_agent : ua);
  ropt.macros = &mctx; /* [DEVICEIP], [SERVERSIDE]... in VASTAdTagURIs too */
  /* SSAI (VAST 4.x 1.1.3): every tag request carries the device headers too */
  char hbuf[5][1100];
  const char *hdrs[5];
  size_t nh = 0;
  if (ssai) {
    const char *names[5] = {"X-Device-IP", "X-Device-User-Agent", "X-Device-Referer",
                            "X-Device-Accept-Language", "X-Device-Requested-With"};
    const char *vals[5] = {dopt.device_ip, dopt.device_ua, opt_hdr[0], opt_hdr[1], opt_hdr[2]};
    for (int k = 0; k < 5; k++) {
      if (!vals[k]) continue;
      if (strlen(vals[k]) > 1024) {
        cli_error("play: the %s value is longer than 1024 bytes", names[k]);
        goto done;
      }
      snprintf(hbuf[nh], sizeof hbuf[nh], "%s: %s", names[k], vals[k]);
      hdrs[nh] = hbuf[nh];
      nh++;
    }
    ropt.headers = hdrs;
    ropt.n_headers = nh;
  }
  if (ssai) {
    vast_macro_ctx_set_serverside(&mctx, 1);
    if (!mctx.value[VAST_MACRO_DEVICEIP])
      vast_macro_ctx_set(&mctx, VAST_MACRO_DEVICEIP, dopt.device_ip);
    if (!mctx.value[VAST_MACRO_DEVICEUA])
      vast_macro_ctx_set(&mctx, VAST_MACRO_DEVICEUA, dopt.device_ua);
  }
  status = CLI_FAIL;
  if (log_path && !(pc.log = fopen(log_path, "w"))) {
    cli_error("cannot open '%s': %s", log_path, strerror(errno));
    goto done;
  }
  if (pc.fire) {
    dopt.on_delivery = play_on_delivery;
    dopt.ctx = &pc;
    vast_err drc = vast_dispatcher_create(&dopt, &pc.disp);
    if (drc == VAST_OK) drc = vast_dispatcher_start(pc.disp);
    if (drc != VAST_OK) {
      cli_error("play: cannot start the dispatcher: %s", vast_strerror(drc));
      vast_dispatcher_free(pc.disp);
      goto done;
    }
  }

  char *buf;
  size_t len;
  vast_doc *doc = NULL;
  vast_chain *chain = NULL;
  vast_pod pod;
  memset(&pod, 0, sizeof pod);
  if (cli_is_url(input)) {
    /* the first request like every later hop: the command's policy, and in
       --ssai mode the X-Device-* headers (VAST 4.x 1.1.3) */
    vast_fetch_opts fo;
    vast_fetch_opts_init(&fo);
    fo.policy = policy;
    vast_fetch_result fr;
    vast_error ferr;
    memset(&ferr, 0, sizeof ferr);
    vast_err frc = vast_fetch_headers(input, &fo, ropt.headers, ropt.n_headers, &fr, &ferr);
    free(fr.effective_url);
    if (frc != VAST_OK) {
      cli_error("%s%s", ferr.message[0] ? ferr.message : vast_strerror(frc),
                frc == VAST_E_FORBIDDEN ? "; --allow-private fetches from private and loopback "
                                          "addresses"
                                        : "");
      goto out;
    }
    buf = fr.body;
    len = fr.len;
  } else if (cli_read_input(input, &buf, &len) != 0) {
    goto out;
  }
  vast_error err;
  vast_err rc = vast_doc_parse(buf, len, NULL, &doc, &err);
  if (rc != VAST_OK) {
    free(buf);
    cli_error("%s:%lu:%lu: %s [VAST code %d]", input, err.line, err.column, err.message,
              err.iab_code);
    status = rc == VAST_E_NOMEM ? CLI_FAIL : CLI_NOT_VAST;
    goto out;
  }
  const vast_vmap *vm = vast_doc_vmap(doc);
  int gst = group_events(&pp, events, vm != NULL);
  if (gst) {
    free(buf);
    status = gst;
    goto out;
  }
  pc.wall0 = now_wall();
  if (vm) {
    free(buf);
    if (content_duration < 0)
      cli_error("play: warning: no --content-duration: n%% breaks cannot be placed and the "
                "postroll plays right after the last break");
    vast_schedule_opts so;
    vast_schedule_opts_init(&so);
    so.content = content_duration;
    so.cues = cues;
    so.n_cues = n_cues;
    status = play_response(&pc, &pp, doc, NULL, &mctx, &ropt, input, &so);
    goto drain;
  }
  if (content_duration >= 0 || cue_arg) {
    free(buf);
    cli_error("play: --content-duration and --cue-points are for a VMAP; '%s' is a VAST response",
              input);
    status = CLI_USAGE;
    goto out;
  }
  const vast_vast *v = vast_doc_vast(doc);
  int has_wrapper = 0;
  for (size_t i = 0; v && i < v->n_ads; i++)
    has_wrapper |= v->ads[i].kind == VAST_AD_WRAPPER;
  if (has_wrapper) {
    /* Resolve the wrapper chains (fetches tag documents, never beacons); the
       resolver orders the pod and replaces failed pod ads from the buffet. */
    vast_error rerr;
    memset(&rerr, 0, sizeof rerr);
    if (!strcmp(input, "-"))
      rc = vast_resolve_buffer(buf, len, NULL, &ropt, &chain, &rerr);
    else if (cli_is_url(input)) /* fetched once, above; its hops resolve against it */
      rc = vast_resolve_buffer(buf, len, input, &ropt, &chain, &rerr);
    else
      rc = vast_resolve_file(input, &ropt, &chain, &rerr);
    free(buf);
    if (rc == VAST_OK) rc = vast_pod_from_chain(chain, &pod);
    /* the beacons share the resolution's [TRANSACTIONID] */
    if (!mctx.value[VAST_MACRO_TRANSACTIONID] && vast_chain_transaction_id(chain))
      vast_macro_ctx_set(&mctx, VAST_MACRO_TRANSACTIONID, vast_chain_transaction_id(chain));
    if (rc != VAST_OK || !pod.n_ads) {
      cli_error("cannot resolve the wrapper chain of '%s': %s", input,
                rerr.message[0] ? rerr.message
                : rc != VAST_OK ? vast_strerror(rc)
                                : "no playable ad");
      goto out;
    }
  } else {
    free(buf);
    /* no resolution: the document is the transaction */
    if (!mctx.value[VAST_MACRO_TRANSACTIONID] && vast_transaction_id(txid, sizeof txid) == VAST_OK)
      vast_macro_ctx_set(&mctx, VAST_MACRO_TRANSACTIONID, txid);
    rc = vast_pod_from_vast(v, &pod);
    if (rc != VAST_OK || !pod.n_ads) {
      cli_error("'%s' holds no ad to play", input);
      goto out;
    }
  }
  status = play_response(&pc, &pp, NULL, &pod, &mctx, &ropt, input, NULL);
drain:
  if (pc.disp) {
    if (vast_dispatcher_drain(pc.disp, dopt.timeout_ms * 4 + 1000) != VAST_OK)
      cli_error("play: beacons still in flight at exit");
    if (status == CLI_OK && pc.failed) status = CLI_FINDINGS;
  }
out:
  vast_dispatcher_free(pc.disp); /* undelivered records get their "cancelled" delivery */
  pc.disp = NULL;
  pthread_mutex_lock(&pc.mu);
  for (size_t i = pc.printed; i < pc.n_recs; i++)
    pc.recs[i].pending = 0;
  play_print_ready(&pc);
  pthread_mutex_unlock(&pc.mu);
  vast_pod_clear(&pod);
  vast_chain_free(chain);
  vast_doc_free(doc);
done:
  for (size_t i = 0; i < pp.n_groups; i++) {
    free(pp.g[i].list);
    free(pp.g[i].ev);
  }
  if (pc.log) fclose(pc.log);
  for (size_t i = 0; i < pc.n_recs; i++) {
    free(pc.recs[i].event);
    free(pc.recs[i].url);
    free(pc.recs[i].error);
  }
  free(pc.recs);
  pthread_mutex_destroy(&pc.mu);
  return status;
}
