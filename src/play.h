/*
 * play.h: what the two halves of `vastrack play` share: the records of a play
 * (one per output line, in firing order) and the context that drives them.
 * cmd-play.c plays (options, pods, VMAP breaks, the simulation); play-records.c
 * keeps the records, hands beacons to the dispatcher with --fire and prints
 * each record when its turn comes.
 */
#ifndef VASTRACK_CLI_PLAY_H
#define VASTRACK_CLI_PLAY_H

#include <pthread.h>
#include <stdio.h>

#include "cli.h"

#define MAX_BATCH 256

/* One line of output, kept in firing order. */
typedef struct play_rec {
  double t, media;   /* session and media seconds (media < 0: unknown) */
  char *event, *url; /* url NULL: an event the tag does not track */
  unsigned level;    /* chain level of the URL; UINT32_MAX none */
  int beacon;        /* a request (would be) made */
  int pending;       /* submitted, delivery not seen yet */
  int sent;          /* the request left */
  long status;       /* HTTP status; 0 none */
  double latency_ms;
  char *error; /* why it got no response; NULL */
} play_rec;

typedef struct play_ctx {
  int json, fire, realtime;
  vast_play_state st; /* the clocks, kept current by vast_play_simulate */
  double t_base;      /* session seconds before the current ad (pods, VMAP) */
  int vmap;           /* a VMAP play: records are timed on the content */
  double content_t;   /* the content time of the break playing (VMAP) */
  double wall0;       /* wall time at session 0 */
  FILE *out, *log;
  vast_dispatcher *disp;
  pthread_mutex_t mu; /* recs, n_recs, printed: shared with the delivery thread */
  play_rec *recs;
  size_t n_recs, cap_recs, printed;
  vast_beacon batch[MAX_BATCH]; /* the beacons of the current moment */
  size_t n_batch;
  double batch_t;
  unsigned long failed; /* beacons without a response */
  int nomem;
} play_ctx;

/*
 * play_record: the one place output is made. Appends a record (firing order);
 * with --fire, a beacon joins the batch of its moment (sent when the moment
 * ends) and is printed once delivered; anything else prints when its turn comes.
 * level: the chain level of the URL (UINT32_MAX none); beacon: a request (would
 * be) made.
 */
void play_record(play_ctx *pc, const char *event, const char *url, double media, unsigned level,
                 int beacon);

/* Submits the beacons of the moment just finished; waits while the queue is full. */
void play_flush(play_ctx *pc);

/* Prints the records that are ready, in order. Called with pc->mu held. */
void play_print_ready(play_ctx *pc);

/* The dispatcher's on_delivery (its thread): fills the record, prints what is ready. */
void play_on_delivery(void *user, const vast_delivery *d);

#endif
