/*
 * fuzz-http.c: libFuzzer target for the collector's request parser
 * (vast__http_parse) and percent-decoder (vast__url_decode), which read
 * bytes straight off the network. The input is copied to an exact-size
 * buffer so reads past the end are caught; the parser is run over the whole
 * input as a pipelined stream, as the server does, and every slice it
 * returns must lie inside the buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "collect/collect-int.h"

static void inside(const char *buf, size_t len, vast__str s) {
  if (s.n && (s.p < buf || s.p + s.n > buf + len)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = malloc(size ? size : 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  vast__http_limits lim = {1024, 4096, 32};
  size_t off = 0;
  while (off < size) {
    vast__http_req rq;
    long r = vast__http_parse(buf + off, size - off, &lim, &rq);
    if (r <= 0) break; /* needs more, or refused with a status */
    if ((size_t)r > size - off) abort();
    const char *b = buf + off;
    inside(b, (size_t)r, rq.method);
    inside(b, (size_t)r, rq.target);
    inside(b, (size_t)r, rq.path);
    inside(b, (size_t)r, rq.query);
    inside(b, (size_t)r, rq.user_agent);
    inside(b, (size_t)r, rq.device_ip);
    inside(b, (size_t)r, rq.device_ua);
    inside(b, (size_t)r, rq.forwarded_for);
    inside(b, (size_t)r, rq.content_type);
    if (rq.n_device > VAST__MAX_DEVICE_HDRS) abort();
    for (unsigned i = 0; i < rq.n_device; i++) {
      inside(b, (size_t)r, rq.device_name[i]);
      inside(b, (size_t)r, rq.device_val[i]);
    }
    char out[256];
    long d = vast__url_decode(rq.query.p, rq.query.n, out, sizeof out);
    if (d > (long)rq.query.n || d >= (long)sizeof out) abort();
    off += (size_t)r;
    if (rq.has_body) break; /* the server reads or refuses the body next */
  }
  free(buf);
  return 0;
}
