/*
 * examples/track.c: the common case of a player, in a few calls. Parse a tag,
 * open a tracker on its ad (vast_tracker_open picks the ad and creative and
 * plans the wrapper-free chain), report the impression, the time updates of a
 * normal play with a mute, and the end; print each beacon the player must
 * request. A real player sends them (net.h) and passes its real clocks.
 * Built by `make` (build/examples/track), run by `make test`
 * (tests/cli/example.sh).   usage: track TAG.xml
 */
#include <stdio.h>

#include "vastrack.h"

static void on_beacon(void *user, const vast_track_beacon *b) {
  (void)user;
  printf("%-13s %s\n", b->name, b->url); /* a player would request b->url now */
}

int main(int argc, char **argv) {
  static char xml[1 << 20];
  FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
  size_t len = f ? fread(xml, 1, sizeof xml, f) : 0;
  if (f) fclose(f);
  vast_doc *doc = NULL;
  vast_tracker *t = NULL;
  if (vast_doc_parse(xml, len, NULL, &doc, NULL) != VAST_OK ||
      vast_tracker_open(doc, NULL, on_beacon, NULL, &t) != VAST_OK) {
    fprintf(stderr, "track: no ad to play in '%s'\n", argc > 1 ? argv[1] : "(no file)");
    vast_doc_free(doc);
    return 1;
  }
  double t0 = vast_now(), end = vast_plan_duration(vast_tracker_plan(t));
  vast_tracker_impression(t, t0);
  for (double m = 0; m <= end; m += 0.25) { /* the player's timeupdates, 4 Hz */
    vast_tracker_time(t, t0 + m, m);
    if (m == 2) vast_tracker_mute(t, t0 + m, m, 1);
  }
  vast_tracker_complete(t, t0 + end, end);
  vast_tracker_free(t); /* and the plan it opened */
  vast_doc_free(doc);
  return 0;
}
