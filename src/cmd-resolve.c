/*
 * cmd-resolve.c: `vastrack resolve`, follow a wrapper chain to the InLine ads and
 * show every hop.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"

static const char usage_text[] =
    "usage: vastrack resolve [--json] [--max-wrappers N] [--timeout MS] [--total-timeout MS]\n"
    "                        [--max-bytes N] [--fire-errors] [--refuse-private] FILE|URL|-\n"
    "\n"
    "Follows the VASTAdTagURI of every Wrapper until each selected ad ends in an\n"
    "InLine, and prints each document fetched (URL, HTTP status, latency, bytes),\n"
    "each resolved chain (outermost Wrapper first, InLine last), each failure with\n"
    "its IAB code, and the Error URLs that the failures fire ([ERRORCODE] expanded).\n"
    "\n"
    "A URL is fetched over http or https. A FILE is read from disk and relative\n"
    "VASTAdTagURIs in it are read from disk too, relative to the file holding them\n"
    "(so a saved chain wrapper-a.xml -> wrapper-b.xml -> sample.xml resolves offline);\n"
    "absolute http(s) URIs are fetched. '-' reads standard input (relative URIs fail).\n"
    "\n"
    "A VMAP is resolved break by break: each AdBreak's timeOffset, breakType, breakId\n"
    "and AdSource (inline VASTAdData resolved like a tag, AdTagURI fetched with\n"
    "[BREAKPOSITION] expanded, CustomAdData reported as unsupported), then its chain.\n"
    "With --json: {\"vmap\":true,\"breaks\":[{...,\"chain\":{...}}]}.\n";

static const char epilog[] =
    "exit status: 0 at least one ad resolved, 1 none did, 2 usage, 4 input unreadable\n";

/* Text from tags and servers, for the terminal: control characters as \xNN. */
static const char *tty(const char *s, char *buf, size_t cap) {
  vast_text_escape(s ? s : "", buf, cap);
  return buf;
}

static const char *kind_name(const vast_ad *a) {
  return a->kind == VAST_AD_INLINE ? "inline" : a->kind == VAST_AD_WRAPPER ? "wrapper" : "empty";
}

static void print_levels(const vast_ad *const *ads, size_t n) {
  char b[512];
  for (size_t k = 0; k < n; k++)
    printf("%s%s (%s)", k ? " -> " : "", ads[k]->id ? tty(ads[k]->id, b, sizeof b) : "?",
           kind_name(ads[k]));
}

static void print_text(const vast_chain *c) {
  size_t nh, na, nf, nb;
  const vast_hop *h = vast_chain_hops(c, &nh);
  const vast_resolved *a = vast_chain_ads(c, &na);
  const vast_failure *f = vast_chain_failures(c, &nf);
  const vast_error_beacon *b = vast_chain_error_beacons(c, &nb);
  char t1[4096], t2[1024];
  for (size_t i = 0; i < nh; i++) {
    printf("hop %zu  depth %u  ", i, h[i].depth);
    if (h[i].is_file)
      printf("file");
    else
      printf("%3ld ", h[i].status);
    printf("  %8.1f ms  %7zu B  %s", h[i].latency_ms, h[i].bytes, tty(h[i].url, t1, sizeof t1));
    if (h[i].err) printf("  [%d: %s]", h[i].iab_code, tty(h[i].message, t2, sizeof t2));
    putchar('\n');
  }
  for (size_t i = 0; i < na; i++) {
    printf("ad %zu", i + 1);
    if (a[i].sequence >= 0) printf(" (sequence %d)", a[i].sequence);
    printf(": ");
    print_levels(a[i].ads, a[i].n);
    putchar('\n');
  }
  for (size_t i = 0; i < nf; i++) {
    printf("failed [%d]: %s: ", f[i].iab_code, tty(f[i].message, t2, sizeof t2));
    print_levels(f[i].ads, f[i].n);
    putchar('\n');
  }
  for (size_t i = 0; i < nb; i++)
    printf("error URL [%d]: %s\n", b[i].iab_code, tty(b[i].url, t1, sizeof t1));
  printf("%zu ad%s resolved, %zu failure%s, %zu document%s, %.1f ms\n", na, na == 1 ? "" : "s", nf,
         nf == 1 ? "" : "s", nh, nh == 1 ? "" : "s", vast_chain_elapsed_ms(c));
}

static void on_error_delivery(void *ctx, const vast_delivery *d) {
  char u[4096], m[512];
  tty(d->url, u, sizeof u);
  if (d->err)
    fprintf(stderr, "error URL %s: %s\n", u,
            tty(d->error ? d->error : vast_strerror(d->err), m, sizeof m));
  else
    fprintf(stderr, "error URL %s: %ld (%.1f ms)\n", u, d->status, d->latency_ms);
}

/* ---- VMAP: every break's AdSource (issue 15) ---- */

/*
 * resolve_vmap: a VMAP input. Each AdBreak in document order: its timeOffset,
 * breakType, breakId and AdSource, then its chain hop by hop (inline VASTAdData
 * resolved like a tag, AdTagURI fetched, CustomAdData reported unsupported).
 * [BREAKPOSITION] in an AdTagURI: 1 start or 0, 3 end, 2 otherwise (no content
 * duration here). Returns the exit status: 0 when some break resolved an ad.
 */
static int resolve_vmap(const char *input, const vast_doc *doc, const vast_resolve_opts *o,
                        int json) {
  const vast_vmap *m = vast_doc_vmap(doc);
  const char *base = strcmp(input, "-") ? input : NULL;
  size_t ok = 0;
  char t1[1024];
  if (json)
    printf("{\"vmap\":true,\"version\":"), cli_json_str(stdout, m->version),
        printf(",\"breaks\":[");
  for (size_t i = 0; i < m->n_breaks; i++) {
    const vast_ad_break *b = &m->breaks[i];
    int pos = b->offset_kind == VAST_BREAK_START ||
                      (b->offset_kind == VAST_BREAK_TIME && b->offset_value <= 0)
                  ? VAST_BREAKPOS_PREROLL
              : b->offset_kind == VAST_BREAK_END ? VAST_BREAKPOS_POSTROLL
                                                 : VAST_BREAKPOS_MIDROLL;
    vast_chain *c = NULL;
    vast_error e;
    memset(&e, 0, sizeof e);
    vast_err rc = vast_break_resolve(doc, b, pos, base, o, &c, &e);
    if (rc == VAST_OK) ok++;
    if (json) {
      printf("%s{\"index\":%zu,\"timeOffset\":", i ? "," : "", i);
      cli_json_str(stdout, b->time_offset);
      printf(",\"breakType\":");
      cli_json_str(stdout, b->break_type);
      printf(",\"breakId\":");
      cli_json_str(stdout, b->break_id);
      printf(",\"breakPosition\":%d,\"source\":", pos);
      cli_json_str(stdout, cli_source_name(b->source_kind));
      printf(",\"ok\":%s,\"error\":", rc == VAST_OK ? "true" : "false");
      if (rc == VAST_OK)
        printf("null,\"iabCode\":null");
      else
        cli_json_str(stdout, e.message[0] ? e.message : vast_strerror(rc)),
            printf(",\"iabCode\":%d", e.iab_code);
      printf(",\"chain\":");
      if (c)
        vast_chain_write_json(c, cli_write_file, stdout);
      else
        printf("null");
      printf("}");
    } else {
      printf("break %zu: timeOffset %s (%s), breakType %s, breakId %s, source %s\n", i + 1,
             tty(b->time_offset ? b->time_offset : "(none)", t1, sizeof t1),
             cli_break_position_name(pos), b->break_type ? b->break_type : "(none)",
             b->break_id ? b->break_id : "(none)", cli_source_name(b->source_kind));
      if (c) print_text(c);
      if (rc != VAST_OK)
        printf("break %zu failed [%d]: %s\n", i + 1, e.iab_code,
               tty(e.message[0] ? e.message : vast_strerror(rc), t1, sizeof t1));
    }
    vast_chain_free(c);
  }
  if (json)
    printf("]}\n");
  else
    printf("%zu of %zu break%s resolved\n", ok, m->n_breaks, m->n_breaks == 1 ? "" : "s");
  fflush(stdout);
  return ok ? CLI_OK : CLI_FINDINGS;
}

/* The input is a VMAP: read it (again, for a URL) and resolve its breaks. */
static int maybe_vmap(const char *input, const vast_resolve_opts *o, int json, int *handled) {
  char *buf;
  size_t len;
  *handled = 0;
  if (cli_read_input(input, &buf, &len) != 0) return CLI_FAIL;
  vast_doc *doc = NULL;
  vast_err rc = vast_doc_parse(buf, len, o->limits, &doc, NULL);
  free(buf);
  if (rc != VAST_OK || !vast_doc_vmap(doc)) {
    vast_doc_free(doc);
    return CLI_OK;
  }
  *handled = 1;
  int st = resolve_vmap(input, doc, o, json);
  vast_doc_free(doc);
  return st;
}

int cmd_resolve(int argc, char **argv) {
  vast_resolve_opts o;
  vast_resolve_opts_init(&o);
  vast_net_policy *policy = cli_net_policy();
  o.policy = policy;
  int json = 0, fire = 0, refuse = 0;
  long timeout = -1;
  const cli_opt table[] = {
      CLI_FLAG("json", json, "one JSON object (hops, ads, failures, errorsFired)"),
      CLI_INT("max-wrappers", "N", o.max_wrappers, 0, 1000000,
              "Wrapper documents followed per ad (default 5; 0 = none)"),
      CLI_INT("timeout", "MS", timeout, 0, 86400000,
              "per request (default 8000 for the first, 4000 after)"),
      CLI_INT("total-timeout", "MS", o.total_timeout_ms, 0, 86400000,
              "for the whole resolution (default 30000)"),
      CLI_INT("max-bytes", "N", o.max_bytes, 0, 1e12,
              "largest response accepted (default 1048576)"),
      CLI_FLAG("fire-errors", fire, "also request the Error URLs (default: only list them)"),
      CLI_FLAG("refuse-private", refuse,
               "refuse special-purpose addresses (loopback, private, link-local,\n"
               "documentation...: docs/security.md) for the tag, its wrapper\n"
               "hops and redirects, and the Error URLs of --fire-errors"),
      CLI_END};
  const cli_cmd cmd = {"resolve", usage_text, table, epilog};
  int n = cli_opts_parse(&cmd, argc, argv);
  cli_opts_free(&cmd);
  if (n < 0) return cli_opts_exit(n);
  if (n != 1) {
    if (n > 1)
      cli_error("resolve: one input only");
    else
      cli_opts_help(&cmd, stderr);
    return CLI_USAGE;
  }
  const char *input = argv[1];
  if (refuse) policy->allow_private = 0;
  if (timeout >= 0) o.first_timeout_ms = o.hop_timeout_ms = timeout;
  vast_dispatcher *d = NULL;
  if (fire) {
    vast_dispatch_opts dopt;
    vast_dispatch_opts_init(&dopt);
    dopt.on_delivery = on_error_delivery;
    dopt.policy = policy; /* the Error URLs under the same guard as the hops */
    if (vast_dispatcher_create(&dopt, &d) != VAST_OK) {
      cli_error("resolve: cannot start the dispatcher");
      return CLI_FAIL;
    }
    o.errors_to = d;
  }
  vast_chain *c = NULL;
  vast_error e;
  vast_err rc;
  if (!cli_is_url(input) && strcmp(input, "-")) { /* a VMAP file: its breaks */
    int handled, st = maybe_vmap(input, &o, json, &handled);
    if (handled) {
      vast_dispatcher_free(d);
      return st;
    }
  }
  if (cli_is_url(input)) {
    rc = vast_resolve_url(input, &o, &c, &e);
  } else if (!strcmp(input, "-")) {
    char *buf;
    size_t len;
    if (cli_read_input(input, &buf, &len) != 0) {
      vast_dispatcher_free(d);
      return CLI_FAIL;
    }
    rc = vast_resolve_buffer(buf, len, NULL, &o, &c, &e);
    free(buf);
  } else {
    rc = vast_resolve_file(input, &o, &c, &e);
  }
  size_t nh0 = 0;
  const vast_hop *h0 = c ? vast_chain_hops(c, &nh0) : NULL;
  if (rc != VAST_OK && cli_is_url(input) && nh0 == 1 && h0[0].err == VAST_E_NOT_VAST &&
      h0[0].message && strstr(h0[0].message, "VMAP")) { /* a VMAP URL: its breaks */
    vast_chain_free(c);
    int handled, st = maybe_vmap(input, &o, json, &handled);
    vast_dispatcher_free(d);
    return handled ? st : CLI_FAIL;
  }
  if (!c) {
    cli_error("cannot resolve '%s': %s", input, e.message);
    vast_dispatcher_free(d);
    return CLI_FAIL;
  }
  if (json)
    vast_chain_write_json(c, cli_write_file, stdout);
  else
    print_text(c);
  fflush(stdout);
  if (rc != VAST_OK)
    cli_error("no ad resolved from '%s': %s [VAST code %d]", input, e.message, e.iab_code);
  if (d) {
    if (vast_dispatcher_drain(d, 10000) != VAST_OK) cli_error("resolve: Error URLs still pending");
    vast_dispatcher_free(d);
  }
  vast_chain_free(c);
  return rc == VAST_OK ? CLI_OK : CLI_FINDINGS;
}
