/*
 * fuzz-probe.c: libFuzzer target for the probe's reader glue (lib/probe/probe.c): the
 * block cache behind the AVIOContext (read, seek, size, end of file), the MP4 box
 * walk (fast start, truncation), the budget, and what is read back out of
 * libavformat (profile/level from extradata, container names). The input is the
 * media file, handed over as a memfd so the local-file path reads it with pread;
 * a small read-ahead makes libavformat's reads cross and evict blocks. Nested
 * opens (HLS) are off: a fuzzed playlist would otherwise reach the network.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vastrack/probe.h"

static int sink(void *ctx, const char *d, size_t n) {
  (void)ctx, (void)d, (void)n;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("probe", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (size && write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  vast_probe_opts o;
  vast_probe_opts_init(&o);
  o.read_ahead = 4096;
  o.max_bytes = 1 << 20;
  o.timeout_ms = 2000;
  o.max_nested = 0; /* a fuzzed playlist must not send the fuzzer onto the network */
  vast_media_info in;
  vast_error e;
  vast_err rc = vast_media_probe(path, &o, &in, &e);
  if (in.bytes_read > o.max_bytes) abort(); /* the budget holds */
  if (rc == VAST_OK && (in.content_length != (int64_t)size || !in.container[0])) abort();
  vast_media_info_write_json(path, &in, rc, &e, sink, NULL);
  close(fd);
  return 0;
}
