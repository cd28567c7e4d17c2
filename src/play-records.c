/*
 * play-records.c: the records of `vastrack play` (play.h) and their output.
 * Every line of output is a record kept in firing order: a beacon, an event
 * the tag does not track ("(no tracking URL)") or a click-through. In a dry
 * run a record is printed at once; with --fire the beacons of one moment are
 * submitted together to the dispatcher (net module, its own thread), and
 * records are printed in order as their deliveries complete, so the output
 * never reorders.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "play.h"

/* One record as a JSON line: the shape of --json and --log, dry or fired. */
static void rec_json(FILE *f, const play_rec *r) {
  fprintf(f, "{\"t\":%.3f,\"media\":", r->t);
  if (r->media >= 0)
    fprintf(f, "%.3f", r->media);
  else
    fputs("null", f);
  fputs(",\"event\":", f);
  cli_json_str(f, r->event);
  fputs(",\"url\":", f);
  cli_json_str(f, r->url);
  if (r->level != UINT32_MAX)
    fprintf(f, ",\"level\":%u", r->level);
  else
    fputs(",\"level\":null", f);
  fprintf(f, ",\"beacon\":%s,\"sent\":%s,\"status\":", r->beacon ? "true" : "false",
          r->sent ? "true" : "false");
  if (r->status)
    fprintf(f, "%ld", r->status);
  else
    fputs("null", f);
  fputs(",\"latencyMs\":", f);
  if (r->sent)
    fprintf(f, "%.3f", r->latency_ms);
  else
    fputs("null", f);
  fputs(",\"error\":", f);
  cli_json_str(f, r->error);
  fputs("}\n", f);
}

static void rec_text(FILE *f, const play_rec *r, int fire) {
  fprintf(f, "%.2f ", r->t);
  if (r->media >= 0)
    fprintf(f, "%.2f ", r->media);
  else
    fputs("- ", f);
  fputs(r->event, f);
  if (!r->url) {
    fputs(" (no tracking URL)\n", f);
    return;
  }
  if (r->beacon && r->error)
    fprintf(f, " error (%s)", r->error);
  else if (r->beacon && fire)
    fprintf(f, " %ld %.1fms", r->status, r->latency_ms);
  char *u = cli_tty_dup(r->url); /* received text: no control characters to the terminal */
  fprintf(f, " %s\n", u ? u : "?");
  free(u);
}

void play_print_ready(play_ctx *pc) {
  while (pc->printed < pc->n_recs && !pc->recs[pc->printed].pending) {
    const play_rec *r = &pc->recs[pc->printed++];
    if (pc->json)
      rec_json(pc->out, r);
    else
      rec_text(pc->out, r, pc->fire);
    if (pc->log && r->beacon) rec_json(pc->log, r);
  }
  fflush(pc->out);
  if (pc->log) fflush(pc->log);
}

/* A delivery came back (dispatcher thread): fill its record, print what is ready. */
void play_on_delivery(void *user, const vast_delivery *d) {
  play_ctx *pc = user;
  pthread_mutex_lock(&pc->mu);
  size_t i = (size_t)(uintptr_t)d->user;
  if (i < pc->n_recs) {
    play_rec *r = &pc->recs[i];
    r->pending = 0;
    r->sent = d->sent_at > 0;
    r->status = d->status;
    r->latency_ms = d->latency_ms;
    if (d->err) {
      pc->failed++;
      const char *why = d->error ? d->error : vast_strerror(d->err);
      size_t n = strlen(why) + 96;
      r->error = malloc(n);
      if (r->error)
        snprintf(r->error, n, "%s%s", why,
                 d->err == VAST_E_FORBIDDEN
                     ? "; --allow-private sends to private and loopback addresses"
                     : "");
    }
  }
  play_print_ready(pc);
  pthread_mutex_unlock(&pc->mu);
}

/* Submits the beacons of the moment just finished; waits while the queue is full. */
void play_flush(play_ctx *pc) {
  if (!pc->disp || !pc->n_batch) return;
  vast_err rc;
  while ((rc = vast_dispatcher_submit(pc->disp, pc->batch, pc->n_batch)) == VAST_E_FULL)
    vast_dispatcher_drain(pc->disp, 10);
  if (rc != VAST_OK) {
    cli_error("play: cannot fire a batch of %zu beacons: %s", pc->n_batch, vast_strerror(rc));
    pthread_mutex_lock(&pc->mu);
    for (size_t i = 0; i < pc->n_batch; i++) {
      play_rec *r = &pc->recs[(size_t)(uintptr_t)pc->batch[i].user];
      r->pending = 0;
      r->error = strdup(vast_strerror(rc));
      pc->failed++;
    }
    play_print_ready(pc);
    pthread_mutex_unlock(&pc->mu);
  }
  pc->n_batch = 0;
}

/* The one place output is made (play.h). */
void play_record(play_ctx *pc, const char *event, const char *url, double media, unsigned level,
                 int beacon) {
  double now_t = pc->t_base + pc->st.t;
  if (pc->disp && pc->n_batch && (pc->batch_t != now_t || pc->n_batch == MAX_BATCH)) play_flush(pc);
  pthread_mutex_lock(&pc->mu);
  if (pc->n_recs == pc->cap_recs) {
    size_t nc = pc->cap_recs ? pc->cap_recs * 2 : 64;
    play_rec *nr = realloc(pc->recs, nc * sizeof *nr);
    if (!nr) {
      pc->nomem = 1;
      pthread_mutex_unlock(&pc->mu);
      return;
    }
    pc->recs = nr;
    pc->cap_recs = nc;
  }
  size_t i = pc->n_recs;
  play_rec *r = &pc->recs[i];
  memset(r, 0, sizeof *r);
  r->t = pc->vmap ? pc->content_t : now_t; /* batches stay on the session clock */
  r->media = media;
  r->event = strdup(event);
  r->url = url ? strdup(url) : NULL;
  r->level = level;
  r->beacon = beacon && url;
  if (!r->event || (url && !r->url)) {
    free(r->event);
    free(r->url);
    pc->nomem = 1;
    pthread_mutex_unlock(&pc->mu);
    return;
  }
  pc->n_recs++;
  if (pc->disp && r->beacon) {
    if (cli_is_url(url)) {
      r->pending = 1;
      vast_beacon *b = &pc->batch[pc->n_batch++];
      b->url = r->url;
      b->event = r->event;
      b->t = media;
      b->user = (void *)(uintptr_t)i;
      pc->batch_t = now_t;
    } else {
      r->error = strdup("not an http(s) URL: not sent");
      pc->failed++;
    }
  }
  play_print_ready(pc);
  pthread_mutex_unlock(&pc->mu);
}
