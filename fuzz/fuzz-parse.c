/*
 * fuzz-parse.c: libFuzzer target for vast_doc_parse and the JSON/tree writers.
 * Any crash, leak, sanitizer report or over-read is a finding; the input is
 * copied to an exact-size buffer so reads past the end are caught.
 */
#include <stdlib.h>
#include <string.h>

#include "vastrack.h"

static int sink(void *ctx, const char *d, size_t n) {
  (void)d;
  *(size_t *)ctx += n;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vast_limits lim;
  vast_limits_init(&lim);
  lim.max_depth = 32;
  vast_doc *doc = NULL;
  vast_error err;
  if (vast_doc_parse((const char *)data, size, &lim, &doc, &err) == VAST_OK) {
    size_t n = 0;
    vast_doc_write_json(doc, sink, &n);
    vast_doc_write_tree(doc, sink, &n);
    vast_doc_free(doc);
  } else if (doc != NULL || err.message[sizeof err.message - 1] != 0) {
    abort();
  }
  return 0;
}
