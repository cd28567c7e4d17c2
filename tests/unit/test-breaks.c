/*
 * test-breaks.c: pods (play order, buffet), VMAP schedules (content times,
 * [BREAKPOSITION]), break-level tracking and the inline VASTAdData source.
 */
#include "harness.h"
#include "vastrack.h"

static vast_doc *parse(const char *xml) {
  vast_doc *d = NULL;
  vast_error e;
  if (vast_doc_parse(xml, strlen(xml), NULL, &d, &e) != VAST_OK) {
    fprintf(stderr, "parse: %s\n", e.message);
    return NULL;
  }
  return d;
}

#define AD(id, seq)                                                                                \
  "<Ad id=\"" id "\"" seq "><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>"                    \
  "<Impression>http://t/imp?ps=[PODSEQUENCE]&amp;n=[ADCOUNT]</"                                    \
  "Impression><Creatives><Creative><Linear>"                                                       \
  "<Duration>00:00:10</Duration><MediaFiles><MediaFile delivery=\"progressive\" "                  \
  "type=\"video/mp4\" width=\"1\" height=\"1\">http://t/" id ".mp4</MediaFile>"                    \
  "</MediaFiles></Linear></Creative></Creatives></InLine></Ad>"

TEST(pod_plays_in_sequence_order_with_buffet_apart) {
  vast_doc *d = parse("<VAST version=\"4.2\">" AD("c", " sequence=\"3\"") AD("b1", "") AD(
      "a", " sequence=\"1\"") AD("b2", "") AD("m", " sequence=\"2\"") "</VAST>");
  CHECK(d);
  vast_pod pod;
  CHECK_INT(vast_pod_from_vast(vast_doc_vast(d), &pod), VAST_OK);
  CHECK_INT(pod.n_ads, 3);
  CHECK_STR(pod.ads[0].sel.ad->id, "a");
  CHECK_STR(pod.ads[1].sel.ad->id, "m");
  CHECK_STR(pod.ads[2].sel.ad->id, "c");
  CHECK_INT(pod.ads[2].sequence, 3);
  CHECK_INT(pod.ads[0].sel.n_playable, 3);
  CHECK_INT(pod.n_buffet, 2);
  CHECK_STR(pod.buffet[0].sel.ad->id, "b1");
  CHECK_STR(pod.buffet[1].sel.ad->id, "b2");
  vast_pod_clear(&pod);
  CHECK(pod.ads == NULL && pod.n_ads == 0);
  vast_pod_clear(NULL);
  vast_doc_free(d);
}

TEST(no_pod_plays_the_first_standalone_ad) {
  vast_doc *d = parse("<VAST version=\"4.2\">" AD("x", "") AD("y", "") "</VAST>");
  CHECK(d);
  vast_pod pod;
  CHECK_INT(vast_pod_from_vast(vast_doc_vast(d), &pod), VAST_OK);
  CHECK_INT(pod.n_ads, 1);
  CHECK_STR(pod.ads[0].sel.ad->id, "x");
  CHECK_INT(pod.ads[0].sequence, -1);
  CHECK_INT(pod.n_buffet, 1);
  CHECK_STR(pod.buffet[0].sel.ad->id, "y");
  vast_pod_clear(&pod);
  vast_doc_free(d);
  CHECK_INT(vast_pod_from_vast(NULL, &pod), VAST_OK);
  CHECK_INT(pod.n_ads, 0);
  CHECK_INT(vast_pod_from_vast(NULL, NULL), VAST_E_INVAL);
}

#define BREAK(id, off, src, trk)                                                                   \
  "<vmap:AdBreak breakType=\"linear\" breakId=\"" id "\" timeOffset=\"" off "\">" src              \
  "<vmap:TrackingEvents>" trk "</vmap:TrackingEvents></vmap:AdBreak>"
#define URI_SRC "<vmap:AdSource><vmap:AdTagURI>http://t/vast.xml</vmap:AdTagURI></vmap:AdSource>"

TEST(schedule_places_breaks_on_the_content) {
  vast_doc *d =
      parse("<vmap:VMAP xmlns:vmap=\"http://www.iab.net/videosuite/vmap\" version=\"1.0\">" BREAK(
          "post", "end", URI_SRC, "") BREAK("half", "50%", URI_SRC, "")
                BREAK("late", "00:05:00", URI_SRC, "") BREAK("pre", "start", URI_SRC, "")
                    BREAK("cue", "#2", URI_SRC, "")
                        BREAK("t10", "00:00:10.500", URI_SRC, "") "</vmap:VMAP>");
  CHECK(d);
  vast_break_slot s[8];
  size_t n = 0;
  vast_schedule_opts o;
  vast_schedule_opts_init(&o);
  o.content = 60;
  CHECK_INT(vast_vmap_schedule_opts(vast_doc_vmap(d), &o, s, 8, &n), VAST_OK);
  CHECK_INT(n, 6);
  CHECK_STR(s[0].brk->break_id, "pre");
  CHECK_INT(s[0].position, VAST_BREAKPOS_PREROLL);
  CHECK(s[0].at == 0);
  CHECK_STR(s[1].brk->break_id, "t10");
  CHECK(s[1].at == 10.5);
  CHECK_INT(s[1].position, VAST_BREAKPOS_MIDROLL);
  CHECK_STR(s[2].brk->break_id, "half");
  CHECK(s[2].at == 30);
  CHECK_INT(s[2].position, VAST_BREAKPOS_MIDROLL);
  CHECK_STR(s[3].brk->break_id, "post"); /* document order among postrolls */
  CHECK_INT(s[3].position, VAST_BREAKPOS_POSTROLL);
  CHECK(s[3].at == 60);
  CHECK_STR(s[4].brk->break_id, "late"); /* past the end: a postroll at the end */
  CHECK_INT(s[4].position, VAST_BREAKPOS_POSTROLL);
  CHECK(s[4].at == 60);
  CHECK_STR(s[5].brk->break_id, "cue");
  CHECK_INT(s[5].position, 0);
  CHECK(s[5].at < 0 && s[5].why != NULL);
  /* unknown content duration: n% cannot be placed, end still is a postroll */
  CHECK_INT(vast_vmap_schedule(vast_doc_vmap(d), -1, s, 8, &n), VAST_OK);
  int half_unplaced = 0;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(s[i].brk->break_id, "half")) half_unplaced = s[i].position == 0 && s[i].why;
  CHECK(half_unplaced);
  CHECK_INT(vast_vmap_schedule_opts(vast_doc_vmap(d), &o, s, 3, &n), VAST_E_NOSPACE);
  CHECK_INT(n, 6);
  CHECK_INT(vast_vmap_schedule_opts(NULL, &o, s, 8, &n), VAST_E_INVAL);
  CHECK_INT(vast_vmap_schedule(NULL, 60, s, 8, &n), VAST_E_INVAL);
  /* the cue points place #2 at the second one */
  double cues[] = {0, 20, 45};
  o.cues = cues;
  o.n_cues = 3;
  CHECK_INT(vast_vmap_schedule_opts(vast_doc_vmap(d), &o, s, 8, &n), VAST_OK);
  CHECK_STR(s[2].brk->break_id, "cue");
  CHECK(s[2].at == 20);
  CHECK_INT(s[2].position, VAST_BREAKPOS_MIDROLL);
  CHECK(s[2].why == NULL);
  o.n_cues = 1; /* #2 beyond the cue points: not placed, said why */
  CHECK_INT(vast_vmap_schedule_opts(vast_doc_vmap(d), &o, s, 8, &n), VAST_OK);
  CHECK_STR(s[5].brk->break_id, "cue");
  CHECK(s[5].position == 0 && s[5].why && strstr(s[5].why, "fewer cue points"));
  double bad[] = {30, 10}; /* not ascending */
  o.cues = bad;
  o.n_cues = 2;
  CHECK_INT(vast_vmap_schedule_opts(vast_doc_vmap(d), &o, s, 8, &n), VAST_E_INVAL);
  o.size = 3;
  CHECK_INT(vast_vmap_schedule_opts(vast_doc_vmap(d), &o, s, 8, &n), VAST_E_INVAL);
  vast_doc_free(d);
}

#define RBREAK(id, off, rep)                                                                       \
  "<vmap:AdBreak breakType=\"linear\" breakId=\"" id "\" timeOffset=\"" off                        \
  "\" repeatAfter=\"" rep "\">" URI_SRC "</vmap:AdBreak>"

TEST(schedule_repeats_breaks_until_the_content_ends) {
  vast_doc *d =
      parse("<vmap:VMAP xmlns:vmap=\"http://www.iab.net/videosuite/vmap\" "
            "version=\"1.0\">" RBREAK("every20", "00:00:10", "00:00:20")
                BREAK("at30", "00:00:30", URI_SRC, "") RBREAK("pre", "start", "00:00:25")
                    RBREAK("post", "end", "00:00:05") RBREAK("bad", "#1", "junk") "</vmap:VMAP>");
  CHECK(d);
  vast_schedule_opts o;
  vast_schedule_opts_init(&o);
  o.content = 60;
  double cue[] = {40};
  o.cues = cue;
  o.n_cues = 1;
  vast_break_slot s[16];
  size_t n = 0;
  /* every20: 10, 30, 50 (70 is past the end); pre: 0, 25, 50; at30 once; post
     once (nothing after the end); bad at the cue, its repeatAfter unusable */
  CHECK_INT(vast_vmap_schedule_opts(vast_doc_vmap(d), &o, NULL, 0, &n), VAST_E_NOSPACE);
  CHECK_INT(n, 9);
  CHECK_INT(vast_vmap_schedule_opts(vast_doc_vmap(d), &o, s, 16, &n), VAST_OK);
  CHECK_INT(n, 9);
  static const char *const id[] = {"pre", "every20", "pre", "every20", "at30",
                                   "bad", "every20", "pre", "post"};
  static const double at[] = {0, 10, 25, 30, 30, 40, 50, 50, 60};
  static const unsigned rep[] = {0, 0, 1, 1, 0, 0, 2, 2, 0};
  static const int pos[] = {1, 2, 2, 2, 2, 2, 2, 2, 3};
  for (size_t i = 0; i < 9 && i < n; i++) {
    CHECK_STR(s[i].brk->break_id, id[i]);
    CHECK(s[i].at == at[i]);
    CHECK_INT(s[i].repeat, rep[i]);
    CHECK_INT(s[i].position, pos[i]);
  }
  CHECK(s[5].why && strstr(s[5].why, "repeatAfter")); /* placed, plays once */
  CHECK(s[0].why == NULL && s[8].why == NULL);
  /* duration unknown: each break once, why says repeatAfter needs it */
  o.content = -1;
  CHECK_INT(vast_vmap_schedule_opts(vast_doc_vmap(d), &o, s, 16, &n), VAST_OK);
  CHECK_INT(n, 5);
  CHECK_STR(s[0].brk->break_id, "pre");
  CHECK(s[0].why && strstr(s[0].why, "content duration"));
  vast_doc_free(d);
}

typedef struct got {
  char url[8][512];
  int n;
} got;

static void on_url(void *user, const char *event, const char *url, const char *tmpl) {
  got *g = user;
  (void)event;
  (void)tmpl;
  if (g->n < 8) snprintf(g->url[g->n++], 512, "%s", url);
}

TEST(break_tracking_fills_position_and_codes) {
  vast_doc *d =
      parse("<vmap:VMAP xmlns:vmap=\"http://www.iab.net/videosuite/vmap\" version=\"1.0\">" BREAK(
          "b", "start", URI_SRC,
          "<vmap:Tracking "
          "event=\"breakStart\">http://t/bs?p=[BREAKPOSITION]&amp;ip=[DEVICEIP]</vmap:Tracking>"
          "<vmap:Tracking event=\"breakEnd\">http://t/be1</vmap:Tracking>"
          "<vmap:Tracking event=\"breakEnd\">http://t/be2?p=[BREAKPOSITION]</vmap:Tracking>"
          "<vmap:Tracking event=\"error\">http://t/err?c=[ERRORCODE]</vmap:Tracking>") "</"
                                                                                       "vmap:"
                                                                                       "VMAP>");
  CHECK(d);
  const vast_ad_break *b = &vast_doc_vmap(d)->breaks[0];
  vast_macro_ctx ctx;
  vast_macro_ctx_init(&ctx);
  vast_macro_ctx_set(&ctx, VAST_MACRO_DEVICEIP, "192.0.2.1");
  got g = {0};
  CHECK_INT(vast_break_track(b, "breakStart", VAST_BREAKPOS_MIDROLL, 0, &ctx, on_url, &g), 1);
  CHECK_STR(g.url[0], "http://t/bs?p=2&ip=192.0.2.1");
  g.n = 0;
  CHECK_INT(vast_break_track(b, "breakEnd", VAST_BREAKPOS_POSTROLL, 0, NULL, on_url, &g), 2);
  CHECK_STR(g.url[0], "http://t/be1");
  CHECK_STR(g.url[1], "http://t/be2?p=3");
  g.n = 0;
  CHECK_INT(vast_break_track(b, "error", 1, 1008, NULL, on_url, &g), 1);
  CHECK_STR(g.url[0], "http://t/err?c=1008");
  g.n = 0;
  CHECK_INT(vast_break_track(b, "error", 1, 303, NULL, on_url, &g), 1);
  CHECK_STR(g.url[0], "http://t/err?c=303");
  CHECK_INT(vast_break_track(NULL, "error", 1, 303, NULL, on_url, &g), -1);
  vast_doc_free(d);
}

TEST(inline_source_is_sliced_and_resolves_without_network) {
  vast_doc *d =
      parse("<vmap:VMAP xmlns:vmap=\"http://www.iab.net/videosuite/vmap\" version=\"1.0\">" BREAK(
          "pre", "start",
          "<vmap:AdSource><vmap:VASTAdData><VAST version=\"3.0\">" AD("p1", " sequence=\"1\"")
              AD("p2", " sequence=\"2\"") "</VAST></vmap:VASTAdData></vmap:AdSource>",
          "") BREAK("c", "end",
                    "<vmap:AdSource><vmap:CustomAdData "
                    "templateType=\"x\">z</vmap:CustomAdData></vmap:AdSource>",
                    "") "</vmap:VMAP>");
  CHECK(d);
  const vast_vmap *m = vast_doc_vmap(d);
  const char *buf;
  size_t len;
  CHECK_INT(vast_break_vast_source(d, &m->breaks[0], &buf, &len), VAST_OK);
  CHECK(len > 20 && !strncmp(buf, "<VAST", 5) && !strncmp(buf + len - 7, "</VAST>", 7));
  vast_chain *ch = NULL;
  vast_error e;
  CHECK_INT(vast_break_resolve(d, &m->breaks[0], 1, NULL, NULL, &ch, &e), VAST_OK);
  vast_pod pod;
  CHECK_INT(vast_pod_from_chain(ch, &pod), VAST_OK);
  CHECK_INT(pod.n_ads, 2);
  CHECK_STR(pod.ads[0].sel.ad->id, "p1");
  CHECK_INT(pod.ads[1].sequence, 2);
  vast_pod_clear(&pod);
  vast_chain_free(ch);
  CHECK_INT(vast_break_resolve(d, &m->breaks[1], 3, NULL, NULL, &ch, &e), VAST_E_NOT_FOUND);
  CHECK(ch == NULL);
  CHECK_INT(e.iab_code, 1005);
  CHECK(strstr(e.message, "CustomAdData") != NULL);
  CHECK_INT(vast_break_vast_source(d, &m->breaks[1], &buf, &len), VAST_E_INVAL);
  vast_doc_free(d);
}

/* An inline Wrapper's </VASTAdTagURI> is not the end of its <VAST>. */
TEST(inline_wrapper_source_is_sliced_whole) {
  vast_doc *d =
      parse("<vmap:VMAP xmlns:vmap=\"http://www.iab.net/videosuite/vmap\" version=\"1.0\">"
            "<vmap:AdBreak timeOffset=\"start\" breakType=\"linear\"><vmap:AdSource>"
            "<vmap:VASTAdData><VAST version=\"4.2\"><Ad id=\"w\"><Wrapper>"
            "<AdSystem>w</AdSystem><VASTAdTagURI>http://t/a.xml</VASTAdTagURI>"
            "<Impression>http://t/imp</Impression></Wrapper></Ad></VAST>"
            "</vmap:VASTAdData></vmap:AdSource></vmap:AdBreak></vmap:VMAP>");
  CHECK(d);
  const vast_vmap *m = vast_doc_vmap(d);
  const char *buf;
  size_t len;
  CHECK_INT(vast_break_vast_source(d, &m->breaks[0], &buf, &len), VAST_OK);
  CHECK(!strncmp(buf, "<VAST", 5) && !strncmp(buf + len - 7, "</VAST>", 7));
  CHECK(memmem(buf, len, "</Wrapper>", 10) != NULL);
  vast_doc_free(d);
}

/* What vast_play_response reported, one line per beacon or ad start. */
typedef struct played {
  char line[16][160];
  int n;
} played;

static int on_play_note(void *user, const vast_play_note *n) {
  played *p = user;
  if (p->n >= 16) return 0;
  if (n->kind == VAST_NOTE_AD_BEGIN)
    snprintf(p->line[p->n++], 160, "%d.%d begin seq %d%s", n->brk, n->ad, n->sequence,
             n->replacement ? " buffet" : "");
  else if ((n->kind == VAST_NOTE_BEACON &&
            (!strcmp(n->name, "impression") || !strcmp(n->name, "complete"))) ||
           n->kind == VAST_NOTE_BREAK_BEACON)
    snprintf(p->line[p->n++], 160, "%d.%d t=%g c=%g m=%g %s %s", n->brk, n->ad, n->t, n->content,
             n->media, n->name, n->url);
  return 0;
}

TEST(response_play_reports_each_beacon_with_its_break_ad_and_times) {
  /* a pod: ad 1 fails before it is shown (error@0), the buffet ad replaces it */
  vast_doc *d = parse("<VAST version=\"4.2\">" AD("a", " sequence=\"1\"") AD("x", "")
                          AD("b", " sequence=\"2\"") "</VAST>");
  CHECK(d);
  vast_pod pod;
  CHECK_INT(vast_pod_from_vast(vast_doc_vast(d), &pod), VAST_OK);
  vast_play_event ev[2];
  size_t nev = 0;
  CHECK_INT(vast_play_events_parse("error@0:403", ev, 2, &nev, NULL, 0), VAST_OK);
  vast_play_group g = {0, 1, ev, nev};
  played p;
  memset(&p, 0, sizeof p);
  vast_response_opts o;
  vast_response_opts_init(&o);
  o.groups = &g;
  o.n_groups = 1;
  o.report_untracked = 1; /* complete without a URL is reported too */
  o.on_note = on_play_note;
  o.user = &p;
  CHECK_INT(vast_play_response(NULL, &pod, &o), VAST_OK);
  CHECK_INT(p.n, 7);
  CHECK_STR(p.line[0], "0.1 begin seq 1");
  CHECK_STR(p.line[1], "0.1 begin seq 1 buffet");
  CHECK_STR(p.line[2], "0.1 t=0 c=-1 m=0 impression http://t/imp?ps=1&n=1");
  CHECK_STR(p.line[3], "0.1 t=10 c=-1 m=10 complete (null)");
  CHECK_STR(p.line[4], "0.2 begin seq 2");
  CHECK_STR(p.line[5], "0.2 t=10 c=-1 m=0 impression http://t/imp?ps=2&n=2");
  CHECK_STR(p.line[6], "0.2 t=20 c=-1 m=10 complete (null)");
  /* misuse */
  CHECK_INT(vast_play_response(d, &pod, &o), VAST_E_INVAL); /* not a VMAP */
  CHECK_INT(vast_play_response(NULL, NULL, &o), VAST_E_INVAL);
  o.on_note = NULL;
  CHECK_INT(vast_play_response(NULL, &pod, &o), VAST_E_INVAL);
  vast_pod_clear(&pod);
  vast_doc_free(d);

  /* a VMAP: a preroll pod of two, a midroll at 30 s of content; the session
     clock runs through the content between them */
  d = parse("<vmap:VMAP xmlns:vmap=\"http://www.iab.net/videosuite/vmap\" version=\"1.0\">" BREAK(
      "pre", "start",
      "<vmap:AdSource><vmap:VASTAdData><VAST version=\"3.0\">" AD("p1", " sequence=\"1\"")
          AD("p2", " sequence=\"2\"") "</VAST></vmap:VASTAdData></vmap:AdSource>",
      "<vmap:Tracking event=\"breakStart\">http://t/bs?p=[BREAKPOSITION]</vmap:Tracking>")
                BREAK("mid", "00:00:30",
                      "<vmap:AdSource><vmap:VASTAdData><VAST version=\"3.0\">" AD(
                          "m", "") "</VAST></vmap:VASTAdData></vmap:AdSource>",
                      "<vmap:Tracking event=\"breakEnd\">http://t/be?p=[BREAKPOSITION]</"
                      "vmap:Tracking>") "</vmap:VMAP>");
  CHECK(d);
  vast_schedule_opts so;
  vast_schedule_opts_init(&so);
  so.content = 60;
  memset(&p, 0, sizeof p);
  vast_response_opts_init(&o);
  o.schedule = &so;
  o.report_untracked = 1;
  o.on_note = on_play_note;
  o.user = &p;
  CHECK_INT(vast_play_response(d, NULL, &o), VAST_OK);
  CHECK_INT(p.n, 11);
  CHECK_STR(p.line[0], "1.0 t=0 c=0 m=-1 breakStart http://t/bs?p=1");
  CHECK_STR(p.line[1], "1.1 begin seq 1");
  CHECK_STR(p.line[2], "1.1 t=0 c=0 m=0 impression http://t/imp?ps=1&n=1");
  CHECK_STR(p.line[4], "1.2 begin seq 2");
  CHECK_STR(p.line[5], "1.2 t=10 c=0 m=0 impression http://t/imp?ps=2&n=2");
  CHECK_STR(p.line[6], "1.2 t=20 c=0 m=10 complete (null)");
  CHECK_STR(p.line[7], "2.1 begin seq -1");
  CHECK_STR(p.line[8], "2.1 t=50 c=30 m=0 impression http://t/imp?ps=-1&n=1");
  CHECK_STR(p.line[9], "2.1 t=60 c=30 m=10 complete (null)");
  CHECK_STR(p.line[10], "2.0 t=60 c=30 m=-1 breakEnd http://t/be?p=2");
  vast_doc_free(d);
}

static void on_beacon(void *user, const vast_track_beacon *b) {
  got *g = user;
  if (b->kind == VAST_BEACON_IMPRESSION && g->n < 8) snprintf(g->url[g->n++], 512, "%s", b->url);
}

TEST(pod_sequence_of_a_wrapper_reaches_the_inline_plan) {
  /* a Wrapper in a pod, its InLine without sequence: [PODSEQUENCE] is the wrapper's */
  vast_doc *w = parse(
      "<VAST version=\"4.2\"><Ad id=\"w\" sequence=\"2\"><Wrapper><AdSystem>s</AdSystem>"
      "<VASTAdTagURI>http://t/x</VASTAdTagURI><Impression>http://t/wi?ps=[PODSEQUENCE]</Impression>"
      "</Wrapper></Ad></VAST>");
  vast_doc *i = parse("<VAST version=\"4.2\">" AD("in", "") "</VAST>");
  CHECK(w && i);
  const vast_ad *chain[2] = {&vast_doc_vast(w)->ads[0], &vast_doc_vast(i)->ads[0]};
  vast_plan *plan = NULL;
  CHECK_INT(vast_plan_create(chain, 2, 0, 0, &plan), VAST_OK);
  got g = {0};
  vast_tracker *t = NULL;
  vast_macro_ctx ctx;
  vast_macro_ctx_init(&ctx);
  vast_macro_ctx_set(&ctx, VAST_MACRO_ADCOUNT, "1");
  CHECK_INT(vast_tracker_create(plan, &ctx, on_beacon, &g, &t), VAST_OK);
  CHECK_INT(vast_tracker_impression(t, 1000), VAST_OK);
  CHECK_INT(g.n, 2);
  CHECK_STR(g.url[0], "http://t/wi?ps=2");
  CHECK_STR(g.url[1], "http://t/imp?ps=2&n=1");
  vast_tracker_free(t);
  vast_plan_free(plan);
  vast_doc_free(w);
  vast_doc_free(i);
}

TEST(resolve_headers_are_checked) {
  const char *xml = "<VAST version=\"4.2\">" AD("x", "") "</VAST>";
  vast_resolve_opts o;
  vast_resolve_opts_init(&o);
  const char *good[2] = {"X-Device-IP: 192.0.2.1", "X-Device-User-Agent: TV/1 (x)"};
  o.headers = good;
  o.n_headers = 2;
  vast_chain *c = NULL;
  vast_error e;
  CHECK_INT(vast_resolve_buffer(xml, strlen(xml), NULL, &o, &c, &e), VAST_OK);
  CHECK(c != NULL);
  vast_chain_free(c);
  const char *bad[][1] = {{"X-Device-IP: 1.2.3.4\r\nX-Evil: 1"},
                          {"No colon"},
                          {"Bad Name: v"},
                          {": empty name"},
                          {NULL}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    o.headers = bad[i];
    o.n_headers = 1;
    c = (vast_chain *)1;
    CHECK_INT(vast_resolve_buffer(xml, strlen(xml), NULL, &o, &c, &e), VAST_E_INVAL);
    CHECK(c == NULL);
    CHECK(strstr(e.message, "request header 0") != NULL);
    /* vast_fetch checks them the same way, before any connection */
    vast_fetch_opts fo;
    vast_fetch_opts_init(&fo);
    vast_fetch_result fr;
    CHECK_INT(vast_fetch_headers("http://192.0.2.1/x", &fo, bad[i], 1, &fr, &e), VAST_E_INVAL);
    CHECK(fr.body == NULL);
    CHECK(strstr(e.message, "request header") != NULL);
  }
}

TEST(transaction_ids_are_v4_uuids) {
  char a[37], b[37];
  CHECK_INT(vast_transaction_id(a, sizeof a), VAST_OK);
  CHECK_INT(vast_transaction_id(b, sizeof b), VAST_OK);
  CHECK_INT(strlen(a), 36);
  CHECK(a[8] == '-' && a[13] == '-' && a[14] == '4' && a[18] == '-' && a[23] == '-');
  CHECK(strchr("89ab", a[19]) != NULL);
  CHECK(strcmp(a, b) != 0);
  CHECK_INT(vast_transaction_id(a, 36), VAST_E_NOSPACE);
}

static char *X(const char *tmpl, const vast_macro_ctx *c, const vast_macro_vars *v) {
  static char out[1024];
  vast_macro_expand(tmpl, strlen(tmpl), c, v, out, sizeof out, NULL);
  return out;
}

TEST(macro_values_latlong_playback_methods) {
  vast_macro_ctx c;
  vast_macro_ctx_init(&c);
  vast_macro_ctx_set(&c, VAST_MACRO_LATLONG, "51.5074,-0.1278");
  vast_macro_ctx_set(&c, VAST_MACRO_PLAYBACKMETHODS, "2");
  vast_macro_ctx_set(&c, VAST_MACRO_ADCATEGORIES, "IAB1 x,IAB2");
  CHECK_STR(X("[LATLONG]|[PLAYBACKMETHODS]|[ADCATEGORIES]", &c, NULL),
            "51.5074,-0.1278|2|IAB1%20x,IAB2");
  vast_macro_ctx_set(&c, VAST_MACRO_PLAYBACKMETHODS, "1,2"); /* one integer: a comma is data */
  CHECK_STR(X("[PLAYBACKMETHODS]", &c, NULL), "1%2C2");
  CHECK(vast_macro_flags(VAST_MACRO_BLOCKEDADCATEGORIES) & VAST_MF_ENGINE);
  CHECK(!(vast_macro_flags(VAST_MACRO_ADCATEGORIES) & VAST_MF_ENGINE));
}

static void on_any(void *user, const vast_track_beacon *b) {
  got *g = user;
  if (g->n < 8 && b->url) snprintf(g->url[g->n++], 512, "%s", b->url);
}

TEST(tracker_category_and_asset_macros) {
  vast_doc *w = parse("<VAST version=\"4.2\"><Ad id=\"w\"><Wrapper><AdSystem>s</AdSystem>"
                      "<VASTAdTagURI>http://t/x</VASTAdTagURI>"
                      "<BlockedAdCategories authority=\"iab\">IAB25</BlockedAdCategories>"
                      "<BlockedAdCategories authority=\"iab\">IAB26</BlockedAdCategories>"
                      "</Wrapper></Ad></VAST>");
  vast_doc *i =
      parse("<VAST version=\"4.2\"><Ad id=\"in\"><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>"
            "<Category authority=\"iab\">IAB3</Category>"
            "<Impression>http://t/i?b=[BLOCKEDADCATEGORIES]&amp;c=[ADCATEGORIES]&amp;a=[ASSETURI]</"
            "Impression>"
            "<Creatives><Creative><Linear><Duration>00:00:10</Duration><MediaFiles>"
            "<MediaFile delivery=\"progressive\" type=\"application/javascript\" "
            "apiFramework=\"VPAID\" width=\"1\" height=\"1\">http://t/v.js</MediaFile>"
            "<MediaFile delivery=\"streaming\" type=\"video/mp4\" width=\"1\" "
            "height=\"1\">http://t/s.mp4</MediaFile>"
            "<MediaFile delivery=\"progressive\" type=\"video/mp4\" width=\"1\" "
            "height=\"1\">http://t/p.mp4</MediaFile>"
            "</MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>");
  CHECK(w && i);
  const vast_ad *chain[2] = {&vast_doc_vast(w)->ads[0], &vast_doc_vast(i)->ads[0]};
  vast_plan *plan = NULL;
  CHECK_INT(vast_plan_create(chain, 2, 0, 0, &plan), VAST_OK);
  got g = {0};
  vast_tracker *t = NULL;
  CHECK_INT(vast_tracker_create(plan, NULL, on_any, &g, &t), VAST_OK);
  CHECK_INT(vast_tracker_impression(t, 1000), VAST_OK);
  CHECK_INT(g.n, 1);
  /* blocked from the wrapper; ADCATEGORIES is not the InLine's Category; the progressive mp4 */
  CHECK_STR(g.url[0], "http://t/i?b=IAB25,IAB26&c=-1&a=http%3A%2F%2Ft%2Fp.mp4");
  vast_tracker_free(t);
  vast_macro_ctx c;
  vast_macro_ctx_init(&c);
  vast_macro_ctx_set(&c, VAST_MACRO_ADCATEGORIES, "IAB1");
  g.n = 0;
  CHECK_INT(vast_tracker_create(plan, &c, on_any, &g, &t), VAST_OK);
  vast_tracker_set_asset(t, "http://t/s.mp4");
  CHECK_INT(vast_tracker_impression(t, 1000), VAST_OK);
  CHECK_STR(g.url[0], "http://t/i?b=IAB25,IAB26&c=IAB1&a=http%3A%2F%2Ft%2Fs.mp4");
  vast_tracker_free(t);
  vast_plan_free(plan);
  vast_doc_free(w);
  vast_doc_free(i);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  fputs(text, f);
  fclose(f);
}

TEST(blocked_category_fails_with_205) {
  char dir[] = "/tmp/vastrack-breaks-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char wp[128], ip[128], jp[128];
  snprintf(wp, sizeof wp, "%s/w.xml", dir);
  snprintf(ip, sizeof ip, "%s/in.xml", dir);
  snprintf(jp, sizeof jp, "%s/ok.xml", dir);
  write_file(wp, "<VAST version=\"4.2\"><Ad id=\"w\"><Wrapper><AdSystem>s</AdSystem>"
                 "<VASTAdTagURI>in.xml</VASTAdTagURI><Error>http://t/werr?c=[ERRORCODE]</Error>"
                 "<BlockedAdCategories authority=\"iab\">IAB25</BlockedAdCategories>"
                 "</Wrapper></Ad><Ad id=\"w2\"><Wrapper><AdSystem>s</AdSystem>"
                 "<VASTAdTagURI>ok.xml</VASTAdTagURI>"
                 "<BlockedAdCategories>IAB25</BlockedAdCategories></Wrapper></Ad></VAST>");
  write_file(
      ip, "<VAST version=\"4.2\"><Ad id=\"bad\"><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>"
          "<Category authority=\"iab\">IAB25</Category><Error>http://t/ierr?c=[ERRORCODE]</Error>"
          "<Impression>http://t/i</Impression><Creatives><Creative><Linear><Duration>00:00:05</"
          "Duration>"
          "</Linear></Creative></Creatives></InLine></Ad></VAST>");
  write_file(
      jp, "<VAST version=\"4.2\"><Ad id=\"fine\"><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>"
          "<Category authority=\"iab\">IAB3</Category>"
          "<Impression>http://t/i</Impression><Creatives><Creative><Linear><Duration>00:00:05</"
          "Duration>"
          "</Linear></Creative></Creatives></InLine></Ad></VAST>");
  vast_chain *c = NULL;
  vast_error e;
  CHECK_INT(vast_resolve_file(wp, NULL, &c, &e), VAST_OK); /* the buffet's second ad plays */
  size_t na = 0, nf = 0, nb = 0;
  const vast_resolved *a = vast_chain_ads(c, &na);
  const vast_failure *f = vast_chain_failures(c, &nf);
  const vast_error_beacon *b = vast_chain_error_beacons(c, &nb);
  CHECK_INT(na, 1);
  CHECK_STR(a[0].ads[1]->id, "fine");
  CHECK_INT(nf, 1);
  CHECK_INT(f[0].iab_code, 205);
  CHECK(strstr(f[0].message, "IAB25") != NULL);
  int ierr = 0, werr = 0;
  for (size_t k = 0; k < nb; k++) {
    ierr |= !strcmp(b[k].url, "http://t/ierr?c=205");
    werr |= !strcmp(b[k].url, "http://t/werr?c=205");
  }
  CHECK(ierr && werr);
  vast_chain_free(c);
  remove(wp);
  remove(ip);
  remove(jp);
  rmdir(dir);
}

typedef struct icons_got {
  char url[16][256];
  unsigned level[16];
  int n;
} icons_got;

static void on_icon(void *user, const vast_track_beacon *b) {
  icons_got *g = user;
  if (g->n < 16 && b->url && b->kind == VAST_BEACON_ICON_VIEW) {
    snprintf(g->url[g->n], 256, "%s", b->url);
    g->level[g->n++] = b->level;
  }
}

TEST(wrapper_click_through_and_icons_reach_the_plan) {
  vast_doc *w = parse("<VAST version=\"4.2\"><Ad id=\"w\"><Wrapper><AdSystem>s</AdSystem>"
                      "<VASTAdTagURI>http://t/x</VASTAdTagURI><Creatives><Creative><Linear>"
                      "<VideoClicks><ClickThrough>http://t/outer-land</ClickThrough></VideoClicks>"
                      "</Linear></Creative></Creatives></Wrapper></Ad></VAST>");
  vast_doc *w2 =
      parse("<VAST version=\"4.2\"><Ad id=\"w2\"><Wrapper><AdSystem>s</AdSystem>"
            "<VASTAdTagURI>http://t/y</VASTAdTagURI><Creatives><Creative><Linear>"
            "<Icons><Icon program=\"AdChoices\" width=\"1\" height=\"1\"><StaticResource "
            "creativeType=\"image/png\">http://t/a.png</StaticResource>"
            "<IconClicks><IconClickThrough>http://t/choices</IconClickThrough></IconClicks>"
            "<IconViewTracking>http://t/w2-view</IconViewTracking></Icon></Icons>"
            "<VideoClicks><ClickThrough>http://t/inner-land</ClickThrough></VideoClicks>"
            "</Linear></Creative></Creatives></Wrapper></Ad></VAST>");
  vast_doc *i = parse("<VAST version=\"4.2\">" AD("in", "") "</VAST>");
  CHECK(w && w2 && i);
  const vast_ad *chain[3] = {&vast_doc_vast(w)->ads[0], &vast_doc_vast(w2)->ads[0],
                             &vast_doc_vast(i)->ads[0]};
  vast_plan *plan = NULL;
  CHECK_INT(vast_plan_create(chain, 3, 0, 0, &plan), VAST_OK);
  CHECK_INT(vast_plan_icon_count(plan), 1); /* the wrapper's AdChoices icon */
  icons_got g = {0};
  vast_tracker *t = NULL;
  CHECK_INT(vast_tracker_create(plan, NULL, on_icon, &g, &t), VAST_OK);
  CHECK_INT(vast_tracker_impression(t, 1000), VAST_OK);
  char out[256];
  CHECK_INT(vast_tracker_click(t, 1000, 0, NULL, out, sizeof out, NULL), VAST_OK);
  CHECK_STR(out, "http://t/inner-land"); /* the wrapper closest to the InLine */
  vast_input in;
  memset(&in, 0, sizeof in);
  in.kind = VAST_IN_ICON_VIEW;
  in.wall_time = 1000;
  in.media_time = 0;
  in.icon = 0;
  CHECK_INT(vast_tracker_feed(t, &in), VAST_OK);
  CHECK_INT(g.n, 1);
  CHECK_STR(g.url[0], "http://t/w2-view");
  CHECK_INT(g.level[0], 1);
  CHECK_INT(vast_tracker_icon_click(t, 1000, 0, 0, NULL, out, sizeof out, NULL), VAST_OK);
  CHECK_STR(out, "http://t/choices");
  vast_tracker_free(t);
  vast_plan_free(plan);
  vast_doc_free(w);
  vast_doc_free(w2);
  vast_doc_free(i);
}

static void on_comp(void *user, const vast_track_beacon *b) {
  icons_got *g = user;
  if (g->n < 16 && b->url) {
    snprintf(g->url[g->n], 256, "%s", b->url);
    g->level[g->n++] = b->level;
  }
}

#define COMP(slot, w, h, view, click)                                                              \
  "<Companion id=\"" slot "\" adSlotID=\"" slot "\" width=\"" w "\" height=\"" h "\">"             \
  "<StaticResource creativeType=\"image/png\">http://t/c.png</StaticResource>"                     \
  "<TrackingEvents><Tracking event=\"creativeView\">" view "</Tracking></TrackingEvents>"          \
  "<CompanionClickThrough>" click "</CompanionClickThrough></Companion>"

/* A Companion only a Wrapper shows joins the ad's companions, planned at its level;
 * a slot the InLine shows stays the InLine's (merged with the Wrapper's). */
TEST(wrapper_only_companions_are_planned_at_their_level) {
  vast_doc *w =
      parse("<VAST version=\"4.2\"><Ad id=\"w\"><Wrapper><AdSystem>s</AdSystem>"
            "<VASTAdTagURI>http://t/x</VASTAdTagURI><Creatives><Creative><CompanionAds>" COMP(
                "side", "300", "250", "http://t/w-side", "http://t/w-side-land")
                COMP("banner", "728", "90", "http://t/w-banner",
                     "http://t/w-banner-land") "</CompanionAds></Creative></Creatives></Wrapper></"
                                               "Ad></VAST>");
  vast_doc *i =
      parse("<VAST version=\"4.2\"><Ad id=\"in\"><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>"
            "<Impression>http://t/imp</Impression><Creatives><Creative><Linear><Duration>00:00:05"
            "</Duration><MediaFiles><MediaFile delivery=\"progressive\" type=\"video/mp4\" "
            "width=\"1\" height=\"1\">http://t/m.mp4</MediaFile></MediaFiles></Linear></Creative>"
            "<Creative><CompanionAds>" COMP(
                "side", "300", "250", "http://t/i-side",
                "http://t/i-land") "</CompanionAds></Creative></Creatives></InLine></Ad></VAST>");
  CHECK(w && i);
  const vast_ad *chain[2] = {&vast_doc_vast(w)->ads[0], &vast_doc_vast(i)->ads[0]};
  vast_companion_ref refs[4];
  size_t n = 0;
  CHECK_INT(vast_chain_companions(chain, 2, refs, 4, &n), VAST_OK);
  CHECK_INT(n, 2);
  CHECK_INT(refs[0].level, 1); /* the InLine's side */
  CHECK_INT(refs[0].creative, 1);
  CHECK_STR(refs[0].companion->ad_slot_id, "side");
  CHECK_INT(refs[1].level, 0); /* the Wrapper-only banner */
  CHECK_INT(refs[1].variation, 1);
  CHECK_STR(refs[1].companion->ad_slot_id, "banner");
  CHECK_INT(vast_chain_companions(chain, 2, refs, 1, &n), VAST_E_NOSPACE);
  CHECK_INT(n, 2);
  static const char *const want_url[2][2] = {{"http://t/w-side", "http://t/i-side"},
                                             {"http://t/w-banner", ""}};
  static const unsigned want_level[2][2] = {{0, 1}, {0, 0}};
  static const char *const land[2] = {"http://t/i-land", "http://t/w-banner-land"};
  for (int k = 0; k < 2; k++) {
    vast_plan *plan = NULL;
    CHECK_INT(vast_plan_create_companion(chain, 2, &refs[k], &plan), VAST_OK);
    CHECK_INT(vast_plan_kind(plan), VAST_CREATIVE_COMPANION);
    icons_got g = {0};
    vast_tracker *t = NULL;
    CHECK_INT(vast_tracker_create(plan, NULL, on_comp, &g, &t), VAST_OK);
    vast_input in;
    memset(&in, 0, sizeof in);
    in.kind = VAST_IN_CREATIVE_VIEW;
    in.wall_time = 1000;
    CHECK_INT(vast_tracker_feed(t, &in), VAST_OK);
    CHECK_INT(g.n, k ? 1 : 2);
    for (int j = 0; j < g.n && j < 2; j++) {
      CHECK_STR(g.url[j], want_url[k][j]);
      CHECK_INT(g.level[j], want_level[k][j]);
    }
    char out[256];
    CHECK_INT(vast_tracker_click(t, 1000, 0, NULL, out, sizeof out, NULL), VAST_OK);
    CHECK_STR(out, land[k]);
    vast_tracker_free(t);
    vast_plan_free(plan);
  }
  vast_companion_ref bad = refs[1];
  bad.variation = 9;
  vast_plan *p = NULL;
  CHECK_INT(vast_plan_create_companion(chain, 2, &bad, &p), VAST_E_NOT_FOUND);
  bad.level = 5;
  CHECK_INT(vast_plan_create_companion(chain, 2, &bad, &p), VAST_E_INVAL);
  CHECK(p == NULL);
  vast_doc_free(w);
  vast_doc_free(i);
}

/* One [TRANSACTIONID] per resolve: the hop it tried and the Error URL it fired
 * carry the chain's UUID; a caller's value wins; a withheld one stays -2. */
TEST(resolve_makes_one_transaction_id) {
  static const char w[] = "<VAST version=\"4.2\"><Ad id=\"w\"><Wrapper><AdSystem>s</AdSystem>"
                          "<VASTAdTagURI>http://127.0.0.1:9/next?tx=[TRANSACTIONID]</VASTAdTagURI>"
                          "<Error>http://t/err?c=[ERRORCODE]&amp;tx=[TRANSACTIONID]</Error>"
                          "<Impression>http://t/imp</Impression></Wrapper></Ad></VAST>";
  vast_resolve_opts o;
  vast_resolve_opts_init(&o);
  o.refuse_private = 1; /* the hop is refused: no network needed */
  char want[160];
  for (int round = 0; round < 3; round++) {
    vast_macro_ctx m;
    vast_macro_ctx_init(&m);
    if (round == 1) vast_macro_ctx_set(&m, VAST_MACRO_TRANSACTIONID, "caller-tx");
    if (round == 2) vast_macro_ctx_withhold(&m, VAST_MACRO_TRANSACTIONID);
    o.macros = &m;
    vast_chain *ch = NULL;
    vast_error e;
    CHECK(vast_resolve_buffer(w, sizeof w - 1, NULL, &o, &ch, &e) != VAST_OK);
    CHECK(ch != NULL);
    const char *tx = vast_chain_transaction_id(ch);
    if (round == 0) CHECK(tx && strlen(tx) == 36 && tx[14] == '4');
    if (round == 1) CHECK_STR(tx, "caller-tx");
    if (round == 2) CHECK(tx == NULL);
    size_t nh = 0, ne = 0;
    const vast_hop *h = vast_chain_hops(ch, &nh);
    const vast_error_beacon *eb = vast_chain_error_beacons(ch, &ne);
    CHECK_INT(nh, 2);
    CHECK_INT(ne, 1);
    snprintf(want, sizeof want, "http://127.0.0.1:9/next?tx=%s", tx ? tx : "-2");
    if (nh == 2) CHECK_STR(h[1].url, want);
    snprintf(want, sizeof want, "http://t/err?c=301&tx=%s", tx ? tx : "-2");
    if (ne == 1) CHECK_STR(eb[0].url, want);
    vast_chain_free(ch);
  }
  /* two resolutions, two transactions */
  vast_chain *c1 = NULL, *c2 = NULL;
  o.macros = NULL;
  vast_resolve_buffer(w, sizeof w - 1, NULL, &o, &c1, NULL);
  vast_resolve_buffer(w, sizeof w - 1, NULL, &o, &c2, NULL);
  CHECK(vast_chain_transaction_id(c1) && vast_chain_transaction_id(c2));
  CHECK(strcmp(vast_chain_transaction_id(c1), vast_chain_transaction_id(c2)) != 0);
  vast_chain_free(c1);
  vast_chain_free(c2);
  CHECK(vast_chain_transaction_id(NULL) == NULL);
}

static const th_case cases[] = {TH(wrapper_click_through_and_icons_reach_the_plan),
                                TH(inline_wrapper_source_is_sliced_whole),
                                TH(macro_values_latlong_playback_methods),
                                TH(tracker_category_and_asset_macros),
                                TH(blocked_category_fails_with_205),
                                TH(resolve_headers_are_checked),
                                TH(transaction_ids_are_v4_uuids),
                                TH(resolve_makes_one_transaction_id),
                                TH(wrapper_only_companions_are_planned_at_their_level),
                                TH(pod_plays_in_sequence_order_with_buffet_apart),
                                TH(no_pod_plays_the_first_standalone_ad),
                                TH(schedule_places_breaks_on_the_content),
                                TH(schedule_repeats_breaks_until_the_content_ends),
                                TH(break_tracking_fills_position_and_codes),
                                TH(inline_source_is_sliced_and_resolves_without_network),
                                TH(pod_sequence_of_a_wrapper_reaches_the_inline_plan),
                                TH(response_play_reports_each_beacon_with_its_break_ad_and_times),
                                {0}};

int main(int argc, char **argv) {
  return th_main(__FILE__, cases, argc, argv);
}
