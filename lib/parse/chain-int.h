/*
 * parse/chain-int.h: the inside of a vast_chain (vastrack/chain.h), for the
 * resolver that fills it (lib/net/resolve.c) and lib/parse/chain.c that reads,
 * frees and writes it. All memory lives in the arena, plus the parsed
 * documents of the hops.
 */
#ifndef VASTRACK_PARSE_CHAIN_INT_H
#define VASTRACK_PARSE_CHAIN_INT_H

#include "vastrack/chain.h"
#include "base/arena.h"

struct vast_chain {
  vast__arena arena;
  vast_hop *hops;
  size_t n_hops;
  vast_resolved *ads;
  size_t n_ads;
  vast_failure *fails;
  size_t n_fails;
  vast_error_beacon *eb;
  size_t n_eb;
  double elapsed_ms;
  char txid[64]; /* [TRANSACTIONID] of the resolution ("" withheld) */
};

#endif
