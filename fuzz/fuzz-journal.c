/*
 * fuzz-journal.c: libFuzzer target for journal recovery. The input is
 * written as a worker's journal file next to a collector database, and
 * vast__journal_recover replays it at start, as after a crash: torn, corrupt
 * or hostile records must end the valid part cleanly, never crash, over-read
 * or load a record that fails its checksum. The database is opened once and
 * reused across inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/collect-int.h"

static char dir[64], db[96], jpath[128];
static vast__store *store;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char msg[256];
  if (!store) {
    snprintf(dir, sizeof dir, "/tmp/vt-fuzz-journal-XXXXXX");
    if (!mkdtemp(dir)) abort();
    snprintf(db, sizeof db, "%s/hits.db", dir);
    snprintf(jpath, sizeof jpath, "%s/hits.db-journal-0.0", dir);
    if (vast__store_open(db, 0, &store, msg, sizeof msg) != VAST_OK) abort();
  }
  FILE *f = fopen(jpath, "wb");
  if (!f) abort();
  if (size && fwrite(data, 1, size, f) != size) abort();
  fclose(f);
  int lock = -1;
  vast__journal_report rep;
  memset(&rep, 0, sizeof rep);
  vast_err e = vast__journal_recover(store, db, 64, &lock, &rep, msg, sizeof msg);
  if (e == VAST_OK && (rep.loaded > rep.records || rep.files != 1)) abort();
  if (lock >= 0) close(lock);
  unlink(jpath);
  return 0;
}
