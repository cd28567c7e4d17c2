/*
 * vastrack/chain.h: the model of a resolved wrapper chain: every document
 * fetched (hops), the ads that reached an InLine (outermost Wrapper first), the
 * ads that failed with their IAB codes, and the Error URLs fired for them.
 * The resolver (vastrack/net.h, vast_resolve_*) builds a chain; the validator,
 * the tracker's ad picking and the reports only read it, so this model sits
 * with the document model, below the network module (docs/architecture.md).
 *
 * Thread safety: a vast_chain is immutable after resolution and may be read
 * from any thread.
 */
#ifndef VASTRACK_CHAIN_H
#define VASTRACK_CHAIN_H

#include "base.h"
#include "doc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vast_chain vast_chain;

/* One document fetched (or attempted). */
typedef struct vast_hop {
  const char *url; /* absolute URL or file path as fetched */
  int is_file;     /* 1 when read from disk */
  unsigned depth;  /* wrappers followed before this document (root 0) */
  int parent;      /* index of the hop holding the Wrapper, -1 for the root */
  long status;     /* HTTP status, 0 without response or for files */
  double latency_ms;
  size_t bytes;
  vast_err err;        /* VAST_OK when fetched and parsed */
  int iab_code;        /* 0, or 301/100/101/102... when this hop failed */
  const char *message; /* NULL, or why it failed */
  const vast_doc *doc; /* parsed document, owned by the chain; NULL on failure */
  const char *uri;     /* the VASTAdTagURI resolved against its holder, before
                          macro expansion (url is after); the root: as given */
} vast_hop;

/*
 * One final ad: the InLine ad and the Wrapper ads that led to it, in the form the
 * tracker takes: ads[0] is the outermost Wrapper, ads[n-1] the InLine. hops[i] is
 * the index in vast_chain_hops() of the document holding ads[i].
 */
typedef struct vast_resolved {
  const vast_ad *const *ads;
  size_t n;
  const size_t *hops;
  int sequence; /* pod position of the top-level ad, -1 when standalone */
} vast_resolved;

/*
 * One ad that failed: the levels reached (outermost first; the last is the ad
 * whose resolution failed, or the Wrapper whose URI failed), the IAB code and
 * a message. Its Error URLs, and those of every level reached, were fired.
 */
typedef struct vast_failure {
  const vast_ad *const *ads;
  size_t n;
  int iab_code;
  vast_err err;
  const char *message;
  int sequence;
} vast_failure;

/* One Error URL fired (or to fire), its macros expanded by vast_macro_expand()
 * ([ERRORCODE] the 3-digit code, [TIMESTAMP], [CACHEBUSTING], opts->macros). */
typedef struct vast_error_beacon {
  const char *url;
  int iab_code;
} vast_error_beacon;

/* Frees the chain and every document in it. Accepts NULL. */
VAST_API void vast_chain_free(vast_chain *chain);

/* Every document fetched or attempted, in fetch order; hops[0] is the root. */
VAST_API const vast_hop *vast_chain_hops(const vast_chain *chain, size_t *n /* OUT */);
/* The ads that resolved to an InLine, in play order (pod order). */
VAST_API const vast_resolved *vast_chain_ads(const vast_chain *chain, size_t *n /* OUT */);
/* The ads that failed, in the order they failed. */
VAST_API const vast_failure *vast_chain_failures(const vast_chain *chain, size_t *n /* OUT */);
/* The Error URLs fired because of the failures, [ERRORCODE] expanded. */
VAST_API const vast_error_beacon *vast_chain_error_beacons(const vast_chain *chain,
                                                           size_t *n /* OUT */);
/* Wall time the resolution took, milliseconds. */
VAST_API double vast_chain_elapsed_ms(const vast_chain *chain);
/*
 * vast_chain_transaction_id: the [TRANSACTIONID] of the resolution: the
 * caller's (vast_resolve_opts.macros) when it gave one, else a UUID generated
 * once per resolve and used in every VASTAdTagURI request and Error URL of it.
 * Put it in the macro context of the trackers of the chain's ads, so their
 * beacons carry the same. NULL when withheld (or for a NULL chain). Owned by
 * the chain.
 */
VAST_API const char *vast_chain_transaction_id(const vast_chain *chain);

/*
 * vast_chain_write_json: the chain as one JSON object: {"ok":..,"elapsed_ms":..,
 * "hops":[{url,status,latency_ms,bytes,depth,error,iab_code}...],
 * "ads":[{"sequence":..,"chain":[{"hop":..,"id":..,"kind":"wrapper"|"inline",
 * "ad_system":..}...]}...], "failures":[...], "errors_fired":[{url,code}...]}.
 */
VAST_API vast_err vast_chain_write_json(const vast_chain *chain, vast_write_fn write, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
