/*
 * web.c: the JSON API behind the web inspector (docs/web.md). Each endpoint is
 * the library call the command line makes, with its output wrapped in one
 * JSON object:
 *
 *   POST /api/inspect   vast_doc_parse + vast_doc_write_json, plus the event
 *                       coverage of every creative
 *   POST /api/validate  vast_validate_list (profile=) + vast_findings_write_json,
 *                       plus the IAB error-code entries of the codes found;
 *                       probe=1 adds vast_probe_check (the media files probed
 *                       under the service's policy, never from disk)
 *   POST /api/resolve   vast_resolve_url / vast_resolve_buffer (private-range
 *                       guard on unless the server allows it, never files)
 *                       + vast_chain_write_json
 *   POST /api/play      a whole response played dry on a 4 Hz media clock by
 *                       vast_play_response, the call `vastrack play` makes:
 *                       every ad of a pod (vast_pod_from_*), every break of
 *                       a VMAP, each ad on its own tracker; the notes become
 *                       the JSON answer
 *
 * The document is the request body, or is fetched from url= (vast_fetch with
 * the same limits and guard). Options come in the query string. A problem with
 * the document (not VAST, fetch refused, no ad) is an answer, not an HTTP
 * error: 200 with "ok":false. 400 is for a malformed API request.
 *
 * Everything here may block on the network and runs on libuv's thread pool
 * (lib/collect/route.c, through the route table at the end); it keeps no
 * state and is reentrant.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vastrack.h"
#include "base/buf.h"
#include "collect/collect-int.h"
#include "collect/wire.h"
#include "base/jsonw.h"
#include "web/web-int.h"

#define WEB_RESOLVE_TOTAL_MS 15000L /* a whole resolution started from the web */
#define WEB_MAX_BEACONS 20000       /* beacons listed by one /api/play */
#define WEB_MAX_EVENTS 64
#define WEB_MAX_WATCH 3600.0
#define WEB_MAX_STEPS 999999UL /* clock steps of one /api/play (paused far ahead) */

/* The service's network policy (the guard and limits of every fetch made for an
   API request: the tag, its wrapper hops, their redirects), from --allow-private. */
static const vast_net_policy *web_policy(int allow_private) {
  static const vast_net_policy refuse = {
      sizeof(vast_net_policy), 0, 0, VAST_DEFAULT_MAX_REDIRECTS, VAST_DEFAULT_MAX_RESPONSE, NULL};
  static const vast_net_policy allow = {
      sizeof(vast_net_policy), 1, 0, VAST_DEFAULT_MAX_REDIRECTS, VAST_DEFAULT_MAX_RESPONSE, NULL};
  return allow_private ? &allow : &refuse;
}

/* ---- output buffer (buf.h), JSON strings by jsonw.h ---- */

static void finish(vast__web_resp *out, int status, vast__buf *b) {
  if (b->fail) {
    free(b->p);
    memset(out, 0, sizeof *out);
    out->status = 503;
    out->ctype = "text/plain";
    out->body = strdup("out of memory\n");
    out->len = out->body ? strlen(out->body) : 0;
    return;
  }
  vast__buf_write(b, "\n", 1);
  out->status = status;
  out->ctype = "application/json";
  out->body = b->p;
  out->len = b->n;
}

/* {"ok":false,"error":{"message":..,"iabCode":..,"line":..,"column":..}}, null when 0 */
static void fail_json(vast__web_resp *out, int status, const char *msg, int iab, unsigned long line,
                      unsigned long col, const char *source, size_t slen) {
  vast__buf b = {0};
  vast__buf_puts(&b, "{\"ok\":false,\"error\":{\"message\":");
  vast__json_buf_str(&b, msg);
  vast__buf_puts(&b, ",\"iabCode\":");
  if (iab)
    vast__buf_printf(&b, "%d", iab);
  else
    vast__buf_puts(&b, "null");
  if (line)
    vast__buf_printf(&b, ",\"line\":%lu,\"column\":%lu}", line, col);
  else
    vast__buf_puts(&b, ",\"line\":null,\"column\":null}");
  vast__buf_puts(&b, ",\"source\":"); /* null when there is none: keys are never left out */
  vast__json_buf_strn(&b, source, slen);
  vast__buf_puts(&b, "}");
  finish(out, status, &b);
}

void vast__web_resp_free(vast__web_resp *r) {
  if (!r) return;
  free(r->body);
  r->body = NULL;
}

/* ---- request options ---- */

/*
 * Value of query parameter `name`, percent-decoded into out[0..cap). Returns
 * its length, or -1 when absent (or too long).
 */
static long qparam(const char *q, size_t qn, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  const char *p = q, *e = q + qn;
  while (p && p < e) {
    const char *amp = memchr(p, '&', (size_t)(e - p));
    const char *pe = amp ? amp : e;
    const char *eq = memchr(p, '=', (size_t)(pe - p));
    const char *ke = eq ? eq : pe;
    if ((size_t)(ke - p) == nl && memcmp(p, name, nl) == 0) {
      if (!eq) {
        if (cap) out[0] = 0;
        return 0;
      }
      return vast__url_decode(eq + 1, (size_t)(pe - eq - 1), out, cap);
    }
    p = amp ? amp + 1 : NULL;
  }
  return -1;
}

/* The document of a request: the body, or what url= points to. */
typedef struct web_input {
  const char *buf;
  size_t len;
  char *fetched;    /* malloc'd when fetched */
  char url[4096];   /* "" when none */
  const char *name; /* for findings: the URL or "input" */
} web_input;

/*
 * Fills *in. Returns 1 when the input is there; 0 after filling *out with the
 * answer (a fetch that failed, or no input at all).
 */
static int get_input(const char *q, size_t qn, const char *body, size_t bn, int allow_private,
                     int fetch, web_input *in, vast__web_resp *out) {
  memset(in, 0, sizeof *in);
  in->name = "input";
  long ul = qparam(q, qn, "url", in->url, sizeof in->url);
  if (ul < 0) in->url[0] = 0;
  if (bn) {
    in->buf = body;
    in->len = bn;
    if (in->url[0]) in->name = in->url;
    return 1;
  }
  if (!in->url[0]) {
    fail_json(out, 400, "no document: send it as the request body, or give url=", 0, 0, 0, NULL, 0);
    return 0;
  }
  in->name = in->url;
  if (!fetch) return 1;
  vast_fetch_opts fo;
  vast_fetch_opts_init(&fo);
  fo.policy = web_policy(allow_private);
  vast_fetch_result res;
  memset(&res, 0, sizeof res);
  vast_error err;
  memset(&err, 0, sizeof err);
  vast_err rc = vast_fetch(in->url, &fo, &res, &err);
  free(res.effective_url);
  if (rc != VAST_OK) {
    free(res.body);
    fail_json(out, 200, err.message[0] ? err.message : vast_strerror(rc),
              err.iab_code ? err.iab_code : 301, 0, 0, NULL, 0);
    return 0;
  }
  in->fetched = res.body;
  in->buf = res.body ? res.body : "";
  in->len = res.body ? res.len : 0;
  return 1;
}

/* Parses the input; on failure fills *out (ok:false with the position). */
static vast_doc *parse_input(const web_input *in, vast__web_resp *out) {
  vast_doc *doc = NULL;
  vast_error err;
  memset(&err, 0, sizeof err);
  vast_err rc = vast_doc_parse(in->buf, in->len, NULL, &doc, &err);
  if (rc == VAST_OK) return doc;
  fail_json(out, 200, err.message[0] ? err.message : vast_strerror(rc), err.iab_code, err.line,
            err.column, in->fetched ? in->buf : NULL, in->len);
  return NULL;
}

/* ---- /api/inspect ---- */

typedef struct evtally {
  const char *name;
  unsigned n;
} evtally;

static void tally(evtally *t, size_t *nt, size_t cap, const char *name, unsigned n) {
  if (!name || !n) return;
  for (size_t i = 0; i < *nt; i++)
    if (!strcmp(t[i].name, name)) {
      t[i].n += n;
      return;
    }
  if (*nt < cap) t[(*nt)++] = (evtally){name, n};
}

static void tally_tracking(evtally *t, size_t *nt, size_t cap, const vast_tracking *tr, size_t n) {
  for (size_t i = 0; i < n; i++)
    tally(t, nt, cap, tr[i].event_name ? tr[i].event_name : vast_event_name(tr[i].event), 1);
}

static void coverage_row(vast__buf *b, const vast_ad *ad, size_t ai, const vast_creative *cr,
                         size_t ci, int *first) {
  evtally t[64];
  size_t nt = 0;
  tally(t, &nt, 64, "impression", (unsigned)ad->n_impressions);
  tally(t, &nt, 64, "error", (unsigned)ad->n_errors);
  const char *kind = "none";
  if (cr) {
    switch (cr->kind) {
    case VAST_CREATIVE_LINEAR:
      kind = "linear";
      if (cr->linear) {
        tally_tracking(t, &nt, 64, cr->linear->tracking, cr->linear->n_tracking);
        tally(t, &nt, 64, "clickTracking", (unsigned)cr->linear->n_click_tracking);
      }
      break;
    case VAST_CREATIVE_NONLINEAR:
      kind = "nonlinear";
      if (cr->nonlinear) {
        tally_tracking(t, &nt, 64, cr->nonlinear->tracking, cr->nonlinear->n_tracking);
        for (size_t i = 0; i < cr->nonlinear->n_nonlinears; i++)
          tally(t, &nt, 64, "clickTracking",
                (unsigned)cr->nonlinear->nonlinears[i].n_click_tracking);
      }
      break;
    case VAST_CREATIVE_COMPANION:
      kind = "companion";
      if (cr->companions)
        for (size_t i = 0; i < cr->companions->n_companions; i++) {
          const vast_companion *co = &cr->companions->companions[i];
          tally_tracking(t, &nt, 64, co->tracking, co->n_tracking);
          tally(t, &nt, 64, "clickTracking", (unsigned)co->n_click_tracking);
        }
      break;
    default:
      kind = "unknown";
    }
  }
  vast__buf_puts(b, *first ? "{" : ",{");
  *first = 0;
  vast__buf_printf(b, "\"adIndex\":%zu,\"ad\":", ai);
  vast__json_buf_str(b, ad->id);
  vast__buf_printf(b, ",\"adType\":\"%s\",\"creativeIndex\":",
                   ad->kind == VAST_AD_INLINE    ? "inline"
                   : ad->kind == VAST_AD_WRAPPER ? "wrapper"
                                                 : "empty");
  if (cr)
    vast__buf_printf(b, "%zu", ci);
  else
    vast__buf_puts(b, "null");
  vast__buf_puts(b, ",\"creative\":");
  vast__json_buf_str(b, cr ? cr->id : NULL);
  vast__buf_printf(b, ",\"kind\":\"%s\",\"events\":{", kind);
  for (size_t i = 0; i < nt; i++) {
    if (i) vast__buf_puts(b, ",");
    vast__json_buf_str(b, t[i].name);
    vast__buf_printf(b, ":%u", t[i].n);
  }
  vast__buf_puts(b, "},\"missing\":[");
  /* What an InLine linear must track for its funnel to be measured (wire.h). */
  int nm = 0;
  if (ad->kind == VAST_AD_INLINE && cr && cr->kind == VAST_CREATIVE_LINEAR) {
    for (size_t k = 0; k < VAST__WIRE_FUNNEL_N; k++) {
      int have = 0;
      for (size_t i = 0; i < nt; i++)
        have |= !strcmp(t[i].name, vast__wire_funnel[k]);
      if (!have) vast__buf_printf(b, "%s\"%s\"", nm++ ? "," : "", vast__wire_funnel[k]);
    }
  } else if (ad->kind == VAST_AD_INLINE && !ad->n_impressions) {
    vast__buf_puts(b, "\"impression\"");
  }
  vast__buf_puts(b, "]}");
}

/* "coverage":[one row per creative (or per ad without creatives)] */
static void write_coverage(vast__buf *b, const vast_doc *doc) {
  vast__buf_puts(b, "[");
  const vast_vast *v = vast_doc_vast(doc);
  int first = 1;
  for (size_t i = 0; v && i < v->n_ads; i++) {
    const vast_ad *ad = &v->ads[i];
    if (!ad->n_creatives) coverage_row(b, ad, i, NULL, 0, &first);
    for (size_t j = 0; j < ad->n_creatives; j++)
      coverage_row(b, ad, i, &ad->creatives[j], j, &first);
  }
  vast__buf_puts(b, "]");
}

static void api_inspect(const web_input *in, vast__web_resp *out) {
  vast_doc *doc = parse_input(in, out);
  if (!doc) return;
  vast__buf b = {0};
  vast__buf_printf(&b, "{\"ok\":true,\"kind\":\"%s\",\"source\":",
                   vast_doc_kind_of(doc) == VAST_DOC_VMAP ? "vmap" : "vast");
  if (in->fetched)
    vast__json_buf_strn(&b, in->buf, in->len);
  else
    vast__buf_puts(&b, "null");
  vast__buf_puts(&b, ",\"doc\":");
  if (vast_doc_write_json(doc, vast__buf_write, &b) != VAST_OK) b.fail = 1;
  vast__buf_puts(&b, ",\"coverage\":");
  write_coverage(&b, doc);
  vast__buf_puts(&b, "}");
  vast_doc_free(doc);
  finish(out, 200, &b);
}

/* ---- /api/validate ---- */

static void write_iab(vast__buf *b, const vast_iab_error *e) {
  vast__buf_printf(b, "{\"code\":%d,\"name\":", e->code);
  vast__json_buf_str(b, e->name);
  vast__buf_puts(b, ",\"meaning\":");
  vast__json_buf_str(b, e->meaning);
  vast__buf_puts(b, ",\"cause\":");
  vast__json_buf_str(b, e->cause);
  vast__buf_puts(b, ",\"fix\":");
  vast__json_buf_str(b, e->fix);
  vast__buf_puts(b, ",\"test\":");
  vast__json_buf_str(b, e->test);
  vast__buf_puts(b, "}");
}

void vast__web_errors(vast__web_resp *out) {
  vast__buf b = {0};
  vast__buf_puts(&b, "{\"ok\":true,\"codes\":[");
  for (size_t i = 0; i < vast_iab_error_count(); i++) {
    if (i) vast__buf_puts(&b, ",");
    write_iab(&b, vast_iab_error_at(i));
  }
  vast__buf_puts(&b, "]}");
  finish(out, 200, &b);
}

static void api_validate(const web_input *in, const char *q, size_t qn, int allow_private,
                         vast__web_resp *out) {
  char pname[32] = "web";
  vast_validate_options opt;
  vast_validate_options_init(&opt);
  if (qparam(q, qn, "profile", pname, sizeof pname) >= 0 && pname[0] &&
      vast_profile_from_name(pname, &opt.profile) != VAST_OK) {
    fail_json(out, 400, "unknown profile (web, ctv, ssai or audio)", 0, 0, 0, NULL, 0);
    return;
  }
  vast_doc *doc = NULL;
  vast_error err;
  memset(&err, 0, sizeof err);
  vast_findings *list = NULL;
  vast_err rc = vast_doc_parse(in->buf, in->len, NULL, &doc, &err);
  if (rc == VAST_OK)
    rc = vast_validate_list(doc, &opt, &list);
  else if (rc != VAST_E_NOMEM)
    rc = vast_findings_from_parse_error(&err, &list);
  char probe[8];
  if (rc == VAST_OK && doc && qparam(q, qn, "probe", probe, sizeof probe) >= 0 &&
      !strcmp(probe, "1")) { /* the media behind the tag (vastrack/probe.h) */
    vast_probe_check_opts pco;
    vast_probe_check_opts_init(&pco);
    pco.probe.policy = web_policy(allow_private);
    pco.probe.allow_files = 0; /* never read the server's disk */
    rc = vast_probe_check(doc, in->url[0] ? in->url : NULL, &opt, &pco, list);
  }
  if (rc != VAST_OK) {
    vast_doc_free(doc);
    fail_json(out, 503, vast_strerror(rc), 0, 0, 0, NULL, 0);
    return;
  }
  vast__buf b = {0};
  vast__buf_printf(&b, "{\"ok\":true,\"parsed\":%s,\"profile\":\"%s\",\"source\":",
                   doc ? "true" : "false", vast_profile_name(opt.profile));
  if (in->fetched)
    vast__json_buf_strn(&b, in->buf, in->len);
  else
    vast__buf_puts(&b, "null");
  vast__buf_puts(&b, ",\"result\":");
  if (vast_findings_write_json(list, in->name, vast__buf_write, &b) != VAST_OK) b.fail = 1;
  /* The cheat sheet: each IAB code the findings carry, once, in order. */
  vast__buf_puts(&b, ",\"codes\":[");
  int seen[1000] = {0}, nc = 0;
  for (size_t i = 0; i < vast_findings_count(list); i++) {
    int code = vast_findings_at(list, i)->iab_code;
    if (code <= 0 || code >= 1000 || seen[code]) continue;
    seen[code] = 1;
    const vast_iab_error *e = vast_iab_error_find(code);
    if (!e) continue;
    if (nc++) vast__buf_puts(&b, ",");
    write_iab(&b, e);
  }
  vast__buf_puts(&b, "]}");
  vast_findings_free(list);
  vast_doc_free(doc);
  finish(out, 200, &b);
}

/* ---- /api/resolve ---- */

static void resolve_opts(vast_resolve_opts *ro, int allow_private) {
  vast_resolve_opts_init(ro);
  ro->policy = web_policy(allow_private);
  ro->allow_files = 0; /* never read the server's disk */
  if (ro->total_timeout_ms > WEB_RESOLVE_TOTAL_MS) ro->total_timeout_ms = WEB_RESOLVE_TOTAL_MS;
}

static void api_resolve(const web_input *in, const char *q, size_t qn, int allow_private,
                        vast__web_resp *out) {
  vast_resolve_opts ro;
  resolve_opts(&ro, allow_private);
  char base[4096];
  if (qparam(q, qn, "base", base, sizeof base) < 0) base[0] = 0;
  vast_chain *chain = NULL;
  vast_error err;
  memset(&err, 0, sizeof err);
  vast_err rc;
  if (in->buf)
    rc = vast_resolve_buffer(in->buf, in->len,
                             base[0]      ? base
                             : in->url[0] ? in->url
                                          : NULL,
                             &ro, &chain, &err);
  else
    rc = vast_resolve_url(in->url, &ro, &chain, &err);
  vast__buf b = {0};
  vast__buf_printf(&b, "{\"ok\":%s,\"error\":", rc == VAST_OK ? "true" : "false");
  if (rc == VAST_OK) {
    vast__buf_puts(&b, "null");
  } else {
    vast__buf_puts(&b, "{\"message\":");
    vast__json_buf_str(&b, err.message[0] ? err.message : vast_strerror(rc));
    if (err.iab_code)
      vast__buf_printf(&b, ",\"iabCode\":%d}", err.iab_code);
    else
      vast__buf_puts(&b, ",\"iabCode\":null}");
  }
  vast__buf_puts(&b, ",\"chain\":");
  if (chain) {
    if (vast_chain_write_json(chain, vast__buf_write, &b) != VAST_OK) b.fail = 1;
  } else {
    vast__buf_puts(&b, "null");
  }
  vast__buf_puts(&b, "}");
  vast_chain_free(chain);
  finish(out, 200, &b);
}

/* ---- /api/play ---- */

#define WEB_MAX_GROUPS 16  /* ads the events of one request may address */
#define WEB_MAX_BREAKS 256 /* slots of one VMAP schedule played from the web */

/* The events addressed to one ad (brk 0 outside a VMAP; ad 0: content times). */
typedef struct web_group {
  int brk, ad;
  vast_play_event ev[WEB_MAX_EVENTS];
  size_t n;
} web_group;

/* One /api/play: where the output goes and where the play stands. */
typedef struct play_sim {
  vast__buf *b;     /* "beacons" */
  vast__buf *ads;   /* "ads" */
  vast__buf *notes; /* "refused" */
  vast__buf *brks;  /* "breaks" */
  size_t n, n_ads;
  int nn, nb;
  int vmap; /* a VMAP: records on the content clock */
  web_group *g;
  size_t n_g;
  long creative; /* creative= of the request, -1 the pick */
  double watch;
  int has_seed;
  unsigned long long seed;
  long first_creative; /* the first ad played: the one-ad summary on top */
  double first_duration, first_watched;
  size_t first_levels;
  const char *fail_msg;
} play_sim;

/* The time of a record: the session's, the content's in a VMAP. */
static double sim_t(const play_sim *s, const vast_play_note *n) {
  return s->vmap ? n->content : n->t;
}

static void beacon_head(play_sim *s, const vast_play_note *n, double media, long level) {
  vast__buf_puts(s->b, s->n++ ? ",{" : "{");
  vast__buf_printf(s->b, "\"t\":%.3f,\"media\":", sim_t(s, n));
  if (media >= 0)
    vast__buf_printf(s->b, "%.3f", media);
  else
    vast__buf_puts(s->b, "null");
  vast__buf_puts(s->b, ",\"event\":");
  vast__json_buf_str(s->b, n->name);
  if (level >= 0)
    vast__buf_printf(s->b, ",\"level\":%ld,\"url\":", level);
  else
    vast__buf_puts(s->b, ",\"level\":null,\"url\":");
  vast__json_buf_strn(s->b, n->url, n->url_len);
  if (n->brk)
    vast__buf_printf(s->b, ",\"break\":%d,\"ad\":", n->brk);
  else
    vast__buf_puts(s->b, ",\"break\":null,\"ad\":");
  if (n->ad)
    vast__buf_printf(s->b, "%d}", n->ad);
  else
    vast__buf_puts(s->b, "null}");
}

/* The tracker refused an injected event: listed in "refused". */
static void refused(play_sim *s, const vast_play_note *n) {
  vast__buf_puts(s->notes, s->nn++ ? ",{" : "{");
  vast__buf_printf(s->notes, "\"t\":%.3f,\"event\":", sim_t(s, n));
  vast__json_buf_str(s->notes, n->name);
  vast__buf_puts(s->notes, ",\"message\":");
  vast__json_buf_str(s->notes, n->message);
  if (n->brk)
    vast__buf_printf(s->notes, ",\"break\":%d,\"ad\":%d}", n->brk, n->ad);
  else
    vast__buf_printf(s->notes, ",\"break\":null,\"ad\":%d}", n->ad);
}

/* An ad starts: its entry in "ads" (the first one also on top). */
static void ad_entry(play_sim *s, const vast_play_note *n) {
  double dur = vast_plan_duration(n->plan);
  if (!s->n_ads) {
    s->first_creative = n->creative;
    s->first_duration = dur;
    s->first_watched = n->stop;
    s->first_levels = n->sel->n_chain;
  }
  vast__buf_puts(s->ads, s->n_ads++ ? ",{" : "{");
  if (n->brk)
    vast__buf_printf(s->ads, "\"break\":%d", n->brk);
  else
    vast__buf_puts(s->ads, "\"break\":null");
  vast__buf_printf(s->ads, ",\"ad\":%d,\"id\":", n->ad);
  vast__json_buf_str(s->ads, n->sel->ad->id);
  vast__buf_printf(s->ads, ",\"creative\":%ld,\"duration\":", n->creative);
  if (dur >= 0)
    vast__buf_printf(s->ads, "%.3f", dur);
  else
    vast__buf_puts(s->ads, "null");
  vast__buf_printf(s->ads, ",\"watched\":%.3f,\"levels\":%zu}", n->stop, n->sel->n_chain);
}

/* A break's entry in "breaks", up to its "error" (what follows says it). */
static void break_entry(play_sim *s, const vast_play_note *n) {
  const vast_break_slot *sl = n->slot;
  vast__buf_puts(s->brks, s->nb++ ? ",{" : "{");
  vast__buf_printf(s->brks, "\"break\":%d,\"timeOffset\":", n->brk);
  vast__json_buf_str(s->brks, sl->brk->time_offset);
  vast__buf_puts(s->brks, ",\"breakId\":");
  vast__json_buf_str(s->brks, sl->brk->break_id);
  vast__buf_printf(s->brks, ",\"repeat\":%u,\"position\":", sl->repeat);
  if (n->kind == VAST_NOTE_BREAK_SKIPPED) {
    vast__buf_puts(s->brks, "null,\"at\":null,\"error\":");
    vast__json_buf_str(s->brks, sl->why ? sl->why : "the content duration is unknown");
    vast__buf_puts(s->brks, "}");
  } else {
    vast__buf_printf(s->brks, "%d,\"at\":%.3f,\"error\":", sl->position, sl->at);
  }
}

/* What vast_play_response reports becomes the answer; an ad that cannot play
 * stops it (the answer is then an error). */
static int on_note(void *user, const vast_play_note *n) {
  play_sim *s = user;
  switch (n->kind) {
  case VAST_NOTE_BEACON:
    if (s->n < WEB_MAX_BEACONS && n->url)
      beacon_head(s, n, n->media < 0 && n->state ? n->state->media : n->media, (long)n->level);
    break;
  case VAST_NOTE_BREAK_BEACON:
    if (s->n < WEB_MAX_BEACONS) beacon_head(s, n, -1, -1);
    break;
  case VAST_NOTE_REFUSED:
    refused(s, n);
    break;
  case VAST_NOTE_AD_START:
    if (n->stop >= 0) ad_entry(s, n);
    break;
  case VAST_NOTE_AD_FAILED:
    s->fail_msg = n->code == VAST_AD_FAIL_CREATIVE   ? "no such creative to play"
                  : n->code == VAST_AD_FAIL_TRACK    ? "cannot track the creative"
                  : n->code == VAST_AD_FAIL_DURATION ? "the ad declares no duration: give "
                                                       "watch=SECONDS"
                                                     : vast_strerror(n->rc);
    return 1;
  case VAST_NOTE_VMAP:
    if (n->rc != VAST_OK)
      s->fail_msg = n->rc == VAST_E_NOSPACE ? "the VMAP schedules more than 256 breaks"
                    : n->rc == VAST_E_NOMEM ? "out of memory"
                                            : "cannot schedule the VMAP (bad cues=?)";
    break;
  case VAST_NOTE_BREAK_SKIPPED:
  case VAST_NOTE_BREAK_START:
    break_entry(s, n);
    break;
  case VAST_NOTE_POD: /* a break resolved to ads */
    if (n->brk) vast__buf_puts(s->brks, "null}");
    break;
  case VAST_NOTE_BREAK_NO_AD:
    vast__buf_puts(s->brks, "\"no ad to play\"}");
    break;
  case VAST_NOTE_BREAK_ERROR:
    vast__json_buf_str(s->brks, n->message);
    vast__buf_puts(s->brks, "}");
    break;
  default:
    break;
  }
  return 0;
}

static web_group *find_group(play_sim *s, int brk, int ad) {
  for (size_t i = 0; i < s->n_g; i++)
    if (s->g[i].brk == brk && s->g[i].ad == ad) return &s->g[i];
  return NULL;
}

/*
 * Splits events= into per-ad groups, with `vastrack play --events` syntax:
 * NAME@T (the first ad), AD/NAME@T (a pod's AD-th ad), BREAK.AD/NAME@T (a
 * VMAP's); in a VMAP an item without an address is at a content time and may
 * only change the player's state. Returns 0, or fills msg.
 */
static int group_events(play_sim *s, const char *list, int vmap, char *msg, size_t cap) {
  char item[256];
  for (const char *p = list; p && *p;) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n >= sizeof item) {
      snprintf(msg, cap, "event item too long");
      return -1;
    }
    memcpy(item, p, n);
    item[n] = 0;
    p = e ? e + 1 : p + n;
    if (!n) continue;
    int brk = -1, ad = 1;
    size_t skip = vast_play_event_address(item, &brk, &ad);
    if ((skip && ad < 1) || (vmap && skip && brk < 1) || (!vmap && skip && brk >= 0)) {
      snprintf(msg, cap,
               "bad address in '%.64s': AD/NAME@T for a pod's ads, BREAK.AD/NAME@T in a VMAP "
               "(1-based)",
               item);
      return -1;
    }
    if (!skip && vmap) ad = 0;
    if (!vmap || !skip) brk = 0;
    web_group *g = find_group(s, brk, ad);
    if (!g) {
      if (s->n_g == WEB_MAX_GROUPS) {
        snprintf(msg, cap, "events for more than %d ads", WEB_MAX_GROUPS);
        return -1;
      }
      g = &s->g[s->n_g++];
      g->brk = brk;
      g->ad = ad;
    }
    vast_play_event one;
    size_t got = 0;
    if (vast_play_events_parse(item + skip, &one, 1, &got, msg, cap) != VAST_OK) return -1;
    if (!got) continue;
    if (g->n == WEB_MAX_EVENTS) {
      snprintf(msg, cap, "more than %d events for one ad", WEB_MAX_EVENTS);
      return -1;
    }
    if (!ad && one.kind != VAST_IN_MUTE && one.kind != VAST_IN_UNMUTE &&
        one.kind != VAST_IN_PLAYER_EXPAND && one.kind != VAST_IN_PLAYER_COLLAPSE) {
      snprintf(msg, cap,
               "'%.64s': in a VMAP an event without an address is at a content time and can "
               "only change the player's state (mute, unmute, fullscreen, exitFullscreen); "
               "address an ad's event as BREAK.AD/NAME@T",
               item);
      return -1;
    }
    size_t k = g->n++; /* keep time order, stable */
    while (k > 0 && g->ev[k - 1].at > one.at) {
      g->ev[k] = g->ev[k - 1];
      k--;
    }
    g->ev[k] = one;
  }
  return 0;
}

/*
 * Plays a pod (doc NULL) or a VMAP (doc, against so) with vast_play_response,
 * as `vastrack play` does. Returns 0, or -1 with s->fail_msg set.
 */
static int play_run(play_sim *s, const vast_doc *doc, const vast_pod *pod,
                    const vast_macro_ctx *mctx, const vast_schedule_opts *so, const web_input *in,
                    int allow_private) {
  vast_play_group groups[WEB_MAX_GROUPS];
  for (size_t i = 0; i < s->n_g; i++) {
    groups[i].brk = s->g[i].brk;
    groups[i].ad = s->g[i].ad;
    groups[i].ev = s->g[i].ev;
    groups[i].n = s->g[i].n;
  }
  vast_resolve_opts ro;
  resolve_opts(&ro, allow_private);
  vast_response_opts o;
  vast_response_opts_init(&o);
  o.groups = groups;
  o.n_groups = s->n_g;
  o.creative = s->creative;
  o.watch = s->watch;
  o.max_watch = WEB_MAX_WATCH;
  o.max_steps = WEB_MAX_STEPS;
  o.has_seed = s->has_seed;
  o.seed = s->seed;
  o.macros = mctx;
  o.schedule = so;
  o.max_breaks = WEB_MAX_BREAKS;
  o.resolve = &ro;
  o.base = in->url[0] ? in->url : NULL;
  o.on_note = on_note;
  o.user = s;
  s->vmap = doc != NULL;
  vast_err rc = vast_play_response(doc, pod, &o);
  if (rc == VAST_OK) return 0;
  if (!s->fail_msg) s->fail_msg = vast_strerror(rc);
  return -1;
}

/* Reads "T,T,..." (ascending seconds) into cues; returns the count, -1 bad. */
static long parse_cues(const char *v, double *cues, size_t max) {
  size_t n = 0;
  for (const char *p = v; *p;) {
    char *end;
    double c = strtod(p, &end);
    if (end == p || (*end && *end != ',') || !(c >= 0) || c > 1e9 || n == max ||
        (n && c < cues[n - 1]))
      return -1;
    cues[n++] = c;
    p = *end ? end + 1 : end;
  }
  return (long)n;
}

static void api_play(const web_input *in, const char *q, size_t qn, int allow_private,
                     vast__web_resp *out) {
  char val[1024], evs[1024] = "", msg[320] = "";
  play_sim sim;
  memset(&sim, 0, sizeof sim);
  sim.creative = -1;
  sim.watch = -1;
  double content = -1, cues[64];
  long n_cues = 0;
  char *end;
  if (qparam(q, qn, "creative", val, sizeof val) > 0) {
    sim.creative = strtol(val, &end, 10);
    if (*end || sim.creative < 0) snprintf(msg, sizeof msg, "bad creative '%.64s'", val);
  }
  if (qparam(q, qn, "watch", val, sizeof val) > 0) {
    sim.watch = strtod(val, &end);
    if (*end || !(sim.watch >= 0) || sim.watch > WEB_MAX_WATCH)
      snprintf(msg, sizeof msg, "bad watch '%.64s' (0 to %.0f seconds)", val, WEB_MAX_WATCH);
  }
  if (qparam(q, qn, "content", val, sizeof val) > 0) {
    content = strtod(val, &end);
    if (*end || !(content >= 0) || content > 1e7)
      snprintf(msg, sizeof msg, "bad content '%.64s' (the content's duration in seconds)", val);
  }
  if (qparam(q, qn, "cues", val, sizeof val) > 0 &&
      (n_cues = parse_cues(val, cues, sizeof cues / sizeof *cues)) < 0)
    snprintf(msg, sizeof msg, "bad cues '%.64s' (ascending content seconds, comma-separated)", val);
  if (qparam(q, qn, "seed", val, sizeof val) > 0) {
    sim.seed = strtoull(val, &end, 10);
    sim.has_seed = 1;
    if (*end) snprintf(msg, sizeof msg, "bad seed '%.64s'", val);
  }
  if (qparam(q, qn, "events", evs, sizeof evs) < 0) evs[0] = 0;
  web_group *groups = calloc(WEB_MAX_GROUPS, sizeof *groups);
  if (!groups) {
    fail_json(out, 503, "out of memory", 0, 0, 0, NULL, 0);
    return;
  }
  sim.g = groups;
  vast_doc *doc = NULL;
  if (!msg[0]) {
    /* the events' meaning depends on the kind of document: parse it first, but
       answer a bad event list with 400 whatever the document */
    vast_error perr;
    memset(&perr, 0, sizeof perr);
    if (vast_doc_parse(in->buf, in->len, NULL, &doc, &perr) != VAST_OK) doc = NULL;
    group_events(&sim, evs, doc && vast_doc_vmap(doc), msg, sizeof msg);
  }
  if (msg[0]) {
    vast_doc_free(doc);
    free(groups);
    fail_json(out, 400, msg, 0, 0, 0, NULL, 0);
    return;
  }
  if (!doc && !(doc = parse_input(in, out))) {
    free(groups);
    return;
  }
  vast__buf b = {0}, ads = {0}, notes = {0}, brks = {0};
  sim.b = &b;
  sim.ads = &ads;
  sim.notes = &notes;
  sim.brks = &brks;
  vast_macro_ctx mctx;
  vast_macro_ctx_init(&mctx);
  vast_macro_ctx_set_serverside(&mctx, 0);
  vast_chain *chain = NULL;
  vast_pod pod;
  memset(&pod, 0, sizeof pod);
  int rc_play = 0, resolved = 0;
  if (vast_doc_vmap(doc)) {
    vast_schedule_opts so;
    vast_schedule_opts_init(&so);
    so.content = content;
    so.cues = cues;
    so.n_cues = (size_t)n_cues;
    rc_play = play_run(&sim, doc, NULL, &mctx, &so, in, allow_private);
  } else {
    /* The ads: the library's one pick (vast_pod_from_vast, or from the chain
       once the Wrappers are resolved), as `vastrack play` does. */
    const vast_vast *v = vast_doc_vast(doc);
    int have_wrapper = 0;
    for (size_t i = 0; v && i < v->n_ads; i++)
      have_wrapper |= v->ads[i].kind == VAST_AD_WRAPPER;
    char tx[40];
    if (have_wrapper) {
      vast_resolve_opts ro;
      resolve_opts(&ro, allow_private);
      ro.macros = &mctx;
      vast_error err;
      memset(&err, 0, sizeof err);
      vast_err rc =
          vast_resolve_buffer(in->buf, in->len, in->url[0] ? in->url : NULL, &ro, &chain, &err);
      if (rc == VAST_OK) rc = vast_pod_from_chain(chain, &pod);
      if (rc != VAST_OK || !pod.n_ads) {
        snprintf(msg, sizeof msg, "cannot resolve the wrapper chain: %.200s",
                 err.message[0] ? err.message : vast_strerror(rc != VAST_OK ? rc : VAST_E_NO_AD));
        fail_json(out, 200, msg, err.iab_code, 0, 0, NULL, 0);
        goto done;
      }
      resolved = 1;
      if (vast_chain_transaction_id(chain))
        vast_macro_ctx_set(&mctx, VAST_MACRO_TRANSACTIONID, vast_chain_transaction_id(chain));
    } else {
      if (vast_pod_from_vast(v, &pod) != VAST_OK || !pod.n_ads) {
        fail_json(out, 200, "the document holds no ad to play", 303, 0, 0, NULL, 0);
        goto done;
      }
      if (vast_transaction_id(tx, sizeof tx) == VAST_OK)
        vast_macro_ctx_set(&mctx, VAST_MACRO_TRANSACTIONID, tx);
    }
    rc_play = play_run(&sim, NULL, &pod, &mctx, NULL, in, allow_private);
  }
  if (rc_play != 0) {
    fail_json(out, 200, sim.fail_msg ? sim.fail_msg : "cannot play", 0, 0, 0, NULL, 0);
    goto done;
  }
  {
    /* the first ad's summary on top (the one-ad shape), then every ad */
    vast__buf res = {0};
    vast__buf_puts(&res, "{\"ok\":true,");
    if (sim.n_ads) {
      vast__buf_printf(&res, "\"creative\":%ld,\"duration\":", sim.first_creative);
      if (sim.first_duration >= 0)
        vast__buf_printf(&res, "%.3f", sim.first_duration);
      else
        vast__buf_puts(&res, "null");
      vast__buf_printf(&res, ",\"watched\":%.3f,\"levels\":%zu", sim.first_watched,
                       sim.first_levels);
    } else {
      vast__buf_puts(&res, "\"creative\":null,\"duration\":null,\"watched\":0,\"levels\":0");
    }
    vast__buf_printf(&res,
                     ",\"resolved\":%s,\"kind\":\"%s\",\"content\":", resolved ? "true" : "false",
                     sim.vmap ? "vmap" : "vast");
    if (content >= 0)
      vast__buf_printf(&res, "%.3f", content);
    else
      vast__buf_puts(&res, "null");
    vast__buf_puts(&res, ",\"beacons\":[");
    if (b.n) vast__buf_write(&res, b.p, b.n);
    vast__buf_printf(&res, "],\"truncated\":%s,\"ads\":[",
                     sim.n >= WEB_MAX_BEACONS ? "true" : "false");
    if (ads.n) vast__buf_write(&res, ads.p, ads.n);
    vast__buf_puts(&res, "],\"breaks\":[");
    if (brks.n) vast__buf_write(&res, brks.p, brks.n);
    vast__buf_puts(&res, "],\"refused\":[");
    if (notes.n) vast__buf_write(&res, notes.p, notes.n);
    vast__buf_puts(&res, "]}");
    if (b.fail || ads.fail || notes.fail || brks.fail) res.fail = 1;
    finish(out, 200, &res);
  }
done:
  free(b.p);
  free(ads.p);
  free(notes.p);
  free(brks.p);
  vast_pod_clear(&pod);
  vast_chain_free(chain);
  vast_doc_free(doc);
  free(groups);
}

/* ---- routing ---- */

static const char *const API[] = {"/api/inspect", "/api/validate", "/api/resolve", "/api/play"};

const char vast__web_sec_headers[] =
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'\r\n"
    "X-Frame-Options: DENY\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n";

int vast__web_api_ctype_ok(const char *ct, size_t n, int api_client) {
  if (api_client) return 1;
  size_t e = 0;
  while (e < n && ct[e] != ';' && ct[e] != ' ' && ct[e] != '\t')
    e++;
  static const char *const ok[] = {"application/xml", "text/xml", "application/json"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (strlen(ok[i]) == e && strncasecmp(ct, ok[i], e) == 0) return 1;
  /* application/<x>+xml, application/<x>+json */
  if (e > 12 && strncasecmp(ct, "application/", 12) == 0 && !memchr(ct + 12, '/', e - 12)) {
    if (e >= 16 && strncasecmp(ct + e - 4, "+xml", 4) == 0) return 1;
    if (e >= 17 && strncasecmp(ct + e - 5, "+json", 5) == 0) return 1;
  }
  return 0;
}

int vast__web_api_slow(const char *path, size_t pn, const char *query, size_t qn, const char *body,
                       size_t bn) {
  if (pn == 12 && memcmp(path, "/api/resolve", 12) == 0) return 1;
  char u[4096];
  if (qparam(query, qn, "url", u, sizeof u) > 0) return 1;
  if (qparam(query, qn, "probe", u, sizeof u) >= 0 && !strcmp(u, "1")) return 1; /* media */
  if (pn == 9 && memcmp(path, "/api/play", 9) == 0 &&
      (memmem(body, bn, "Wrapper", 7) || memmem(body, bn, "AdTagURI", 8)))
    return 1; /* resolves (a VMAP's AdTagURI breaks too) */
  return 0;
}

int vast__web_api_known(const char *path, size_t n) {
  for (size_t i = 0; i < sizeof API / sizeof API[0]; i++)
    if (strlen(API[i]) == n && memcmp(API[i], path, n) == 0) return 1;
  return 0;
}

void vast__web_api(const char *path, size_t pn, const char *query, size_t qn, const char *body,
                   size_t bn, int allow_private, vast__web_resp *out) {
  memset(out, 0, sizeof *out);
  int which = -1;
  for (size_t i = 0; i < sizeof API / sizeof API[0]; i++)
    if (strlen(API[i]) == pn && memcmp(API[i], path, pn) == 0) which = (int)i;
  if (which < 0) {
    fail_json(out, 404, "no such endpoint", 0, 0, 0, NULL, 0);
    return;
  }
  web_input in;
  /* resolve fetches through the resolver itself; the others fetch here */
  if (!get_input(query, qn, body, bn, allow_private, which != 2, &in, out)) return;
  switch (which) {
  case 0:
    api_inspect(&in, out);
    break;
  case 1:
    api_validate(&in, query, qn, allow_private, out);
    break;
  case 2:
    api_resolve(&in, query, qn, allow_private, out);
    break;
  default:
    api_play(&in, query, qn, allow_private, out);
    break;
  }
  free(in.fetched);
}

/* ---- the routes the collector serves (collect-int.h) ---- */

static void from_resp(vast__web_resp *r, vast__route_ans *out) {
  out->status = r->status;
  out->ctype = r->ctype;
  out->body = out->owned = r->body;
  out->len = r->len;
}

/* GET /api/errors: the IAB error-code table. */
static void route_errors(const vast__route_req *rq, vast__route_ans *out) {
  vast__web_resp r;
  vast__web_errors(&r);
  from_resp(&r, out);
}

static int route_asset_match(const char *path, size_t n) {
  const char *ctype;
  const unsigned char *data;
  size_t len;
  return vast__web_asset(path, n, &ctype, &data, &len);
}

/* GET of a page or asset built into the library (static bytes). */
static void route_asset(const vast__route_req *rq, vast__route_ans *out) {
  const unsigned char *data = NULL;
  if (!vast__web_asset(rq->path, rq->pn, &out->ctype, &data, &out->len)) {
    out->status = 404;
    out->ctype = "text/plain";
    out->body = "not found\n";
    out->len = 10;
    return;
  }
  out->status = 200;
  out->body = (const char *)data;
}

static const char *route_api_admit(const vast__route_req *rq) {
  if (vast__web_api_ctype_ok(rq->ctype, rq->cn, rq->api_client)) return NULL;
  return "send Content-Type: application/xml or application/json "
         "(or an X-Vastrack-Client header)\n";
}

static int route_api_slow(const vast__route_req *rq) {
  return vast__web_api_slow(rq->path, rq->pn, rq->query, rq->qn, rq->body, rq->bn);
}

/* POST /api/<endpoint>, on the thread pool. */
static void route_api(const vast__route_req *rq, vast__route_ans *out) {
  vast__web_resp r;
  vast__web_api(rq->path, rq->pn, rq->query, rq->qn, rq->body, rq->bn, rq->allow_private, &r);
  from_resp(&r, out);
}

const vast__route vast__web_routes[] = {
    {"GET", "/api/errors", 0, NULL, NULL, NULL, route_errors},
    {"POST", "/api/", VAST__ROUTE_PREFIX | VAST__ROUTE_BODY | VAST__ROUTE_POOL, vast__web_api_known,
     route_api_admit, route_api_slow, route_api},
    {"GET", "", VAST__ROUTE_PREFIX, route_asset_match, NULL, NULL, route_asset},
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
