/*
 * chain.c: reading a resolved wrapper chain (vastrack/chain.h): the accessors,
 * vast_chain_free() and the JSON form (docs/json.md, "resolve"). The resolver
 * (lib/net/resolve.c) builds the chain; nothing here touches the network.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonw.h"
#include "parse/chain-int.h"

void vast_chain_free(vast_chain *c) {
  if (!c) return;
  for (size_t i = 0; i < c->n_hops; i++)
    vast_doc_free((vast_doc *)c->hops[i].doc);
  vast__arena_free(&c->arena);
  free(c);
}

const vast_hop *vast_chain_hops(const vast_chain *c, size_t *n) {
  if (n) *n = c ? c->n_hops : 0;
  return c ? c->hops : NULL;
}

const vast_resolved *vast_chain_ads(const vast_chain *c, size_t *n) {
  if (n) *n = c ? c->n_ads : 0;
  return c ? c->ads : NULL;
}

const vast_failure *vast_chain_failures(const vast_chain *c, size_t *n) {
  if (n) *n = c ? c->n_fails : 0;
  return c ? c->fails : NULL;
}

const vast_error_beacon *vast_chain_error_beacons(const vast_chain *c, size_t *n) {
  if (n) *n = c ? c->n_eb : 0;
  return c ? c->eb : NULL;
}

const char *vast_chain_transaction_id(const vast_chain *c) {
  return c && c->txid[0] ? c->txid : NULL;
}

double vast_chain_elapsed_ms(const vast_chain *c) {
  return c ? c->elapsed_ms : 0;
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct jw {
  vast_write_fn w;
  void *ctx;
  int failed;
} jw;

static void jraw(jw *j, const char *s, size_t n) {
  if (!j->failed && n && j->w(j->ctx, s, n) != 0) j->failed = 1;
}

static void jraw_out(void *u, const char *s, size_t n) {
  jraw(u, s, n);
}

/* Strings go through the library's one JSON escaper (jsonw.h). */
static void jstr(jw *j, const char *s) {
  if (!s)
    jraw(j, "null", 4);
  else
    vast__json_quote(s, strlen(s), jraw_out, j);
}

static void jf(jw *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jf(jw *j, const char *fmt, ...) {
  char b[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  if (n > 0) jraw(j, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
}

static void j_ads(jw *j, const vast_ad *const *ads, const size_t *hops, size_t n) {
  jraw(j, "[", 1);
  for (size_t i = 0; i < n; i++) {
    const vast_ad *a = ads[i];
    jraw(j, i ? ",{" : "{", i ? 2 : 1);
    if (hops)
      jf(j, "\"hop\":%zu,", hops[i]);
    else
      jraw(j, "\"hop\":null,", 11); /* a failure's levels carry no hop index */
    jraw(j, "\"id\":", 5);
    jstr(j, a->id);
    jraw(j, ",\"kind\":", 8);
    jstr(j, a->kind == VAST_AD_INLINE    ? "inline"
            : a->kind == VAST_AD_WRAPPER ? "wrapper"
                                         : "empty");
    jraw(j, ",\"adSystem\":", 12);
    jstr(j, a->ad_system);
    jraw(j, ",\"vastAdTagURI\":", 16); /* null for an InLine: keys are never left out */
    jstr(j, a->kind == VAST_AD_WRAPPER ? a->vast_ad_tag_uri : NULL);
    jf(j, ",\"impressions\":%zu,\"errors\":%zu}", a->n_impressions, a->n_errors);
  }
  jraw(j, "]", 1);
}

vast_err vast_chain_write_json(const vast_chain *c, vast_write_fn write, void *ctx) {
  if (!c || !write) return VAST_E_INVAL;
  jw j = {write, ctx, 0};
  jf(&j, "{\"ok\":%s,\"elapsedMs\":%.3f,\"hops\":[", c->n_ads ? "true" : "false", c->elapsed_ms);
  for (size_t i = 0; i < c->n_hops; i++) {
    const vast_hop *h = &c->hops[i];
    jraw(&j, i ? ",{\"url\":" : "{\"url\":", i ? 8 : 7);
    jstr(&j, h->url);
    /* camelCase, null for what does not apply (docs/json.md) */
    jf(&j, ",\"file\":%s,\"depth\":%u,\"parent\":", h->is_file ? "true" : "false", h->depth);
    if (h->parent < 0)
      jraw(&j, "null", 4);
    else
      jf(&j, "%d", h->parent);
    jraw(&j, ",\"status\":", 10);
    if (h->status <= 0)
      jraw(&j, "null", 4);
    else
      jf(&j, "%ld", h->status);
    jf(&j, ",\"latencyMs\":%.3f,\"bytes\":%zu,\"iabCode\":", h->latency_ms, h->bytes);
    if (h->iab_code)
      jf(&j, "%d", h->iab_code);
    else
      jraw(&j, "null", 4);
    jraw(&j, ",\"error\":", 9);
    jstr(&j, h->err ? (h->message ? h->message : vast_strerror(h->err)) : NULL);
    jraw(&j, "}", 1);
  }
  jraw(&j, "],\"ads\":[", 9);
  for (size_t i = 0; i < c->n_ads; i++) {
    jraw(&j, i ? ",{\"sequence\":" : "{\"sequence\":", i ? 13 : 12);
    if (c->ads[i].sequence < 0)
      jraw(&j, "null", 4);
    else
      jf(&j, "%d", c->ads[i].sequence);
    jraw(&j, ",\"chain\":", 9);
    j_ads(&j, c->ads[i].ads, c->ads[i].hops, c->ads[i].n);
    jraw(&j, "}", 1);
  }
  jraw(&j, "],\"failures\":[", 14);
  for (size_t i = 0; i < c->n_fails; i++) {
    const vast_failure *f = &c->fails[i];
    jf(&j, "%s{\"iabCode\":%d,\"error\":", i ? "," : "", f->iab_code);
    jstr(&j, vast_errname(f->err));
    jraw(&j, ",\"message\":", 11);
    jstr(&j, f->message);
    jraw(&j, ",\"chain\":", 9);
    j_ads(&j, f->ads, NULL, f->n);
    jraw(&j, "}", 1);
  }
  jraw(&j, "],\"errorsFired\":[", 17);
  for (size_t i = 0; i < c->n_eb; i++) {
    jf(&j, "%s{\"code\":%d,\"url\":", i ? "," : "", c->eb[i].iab_code);
    jstr(&j, c->eb[i].url);
    jraw(&j, "}", 1);
  }
  jraw(&j, "]}\n", 3);
  return j.failed ? VAST_E_IO : VAST_OK;
}
