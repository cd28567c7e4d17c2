/*
 * test-conformance.c: the test ad server's tags (vast_adserver_write: parsed
 * back with vast_doc_parse, every URL at the collector) and the conformance
 * rules, one case per rule, over sessions written into a real SQLite
 * collector database through the collector's own store (lib/collect/store.c).
 */
#include <stdlib.h>
#include <string.h>

#include "vastrack.h"
#include "collect/collect-int.h"
#include "harness.h"

/* ---- the tags ---- */

typedef struct buf {
  char p[262144];
  size_t n;
} buf;

static int put(void *ctx, const char *d, size_t n) {
  buf *b = ctx;
  if (b->n + n >= sizeof b->p) return -1;
  memcpy(b->p + b->n, d, n);
  b->n += n;
  b->p[b->n] = 0;
  return 0;
}

static vast_err gen(vast_adserver_kind k, const char *q, buf *b, int *status) {
  char msg[256];
  b->n = 0;
  b->p[0] = 0;
  return vast_adserver_write(k, "http://127.0.0.1:9", "S1", q, put, b, status, msg, sizeof msg);
}

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p++)
    n++;
  return n;
}

TEST(adserver_inline_parses_and_points_back) {
  static buf b;
  int st;
  CHECK_INT(gen(VAST_ADSERVER_VAST, "dur=15&skip=5&v=4.3", &b, &st), VAST_OK);
  CHECK_INT(st, 200);
  vast_doc *d = NULL;
  CHECK_INT(vast_doc_parse(b.p, b.n, NULL, &d, NULL), VAST_OK);
  vast_doc_free(d);
  CHECK(strstr(b.p, "<VAST version=\"4.3\"") != NULL);
  CHECK(strstr(b.p, "<Duration>00:00:15.000</Duration>") != NULL);
  CHECK(strstr(b.p, "skipoffset=\"00:00:05.000\"") != NULL);
  /* every http URL but the example.com resources is a /t/ URL with the session */
  size_t urls = count(b.p, "CDATA[http://127.0.0.1:9/");
  CHECK(urls > 20);
  CHECK_INT(count(b.p, "CDATA[http://127.0.0.1:9/t/"), urls);
  CHECK_INT(count(b.p, "?sid=S1&ad=a1&"), urls);
  CHECK(strstr(b.p, "/t/error?sid=S1&ad=a1&cr=-&lv=0&code=[ERRORCODE]") != NULL);
  CHECK(strstr(b.p, "<Tracking event=\"skip\">") != NULL);
}

TEST(adserver_pod_wrapper_noad_vmap) {
  static buf b;
  int st;
  CHECK_INT(gen(VAST_ADSERVER_VAST, "pod=4", &b, &st), VAST_OK);
  CHECK_INT(count(b.p, "<Ad id="), 4);
  CHECK(strstr(b.p, "sequence=\"4\"") != NULL);
  CHECK_INT(gen(VAST_ADSERVER_VAST, "wrapper=2&dur=7", &b, &st), VAST_OK);
  CHECK(strstr(b.p, "<Wrapper>") != NULL);
  CHECK(strstr(b.p, "<VASTAdTagURI>http://127.0.0.1:9/vast?sid=S1&amp;v=4.2&amp;dur=7.000&amp;"
                    "pod=1&amp;wrapper=1&amp;lv=1</VASTAdTagURI>") != NULL);
  CHECK_INT(gen(VAST_ADSERVER_VAST, "fail=noad", &b, &st), VAST_OK);
  CHECK_INT(count(b.p, "<Ad"), 0);
  CHECK(strstr(b.p, "<Error>") != NULL);
  CHECK_INT(gen(VAST_ADSERVER_VAST, "fail=http&lv=1", &b, &st), VAST_OK);
  CHECK_INT(st, 404);
  CHECK_INT(gen(VAST_ADSERVER_VMAP, "dur=5&content=120", &b, &st), VAST_OK);
  CHECK_INT(count(b.p, "<vmap:AdBreak "), 3);
  CHECK(strstr(b.p, "timeOffset=\"00:01:00.000\"") != NULL);
  CHECK(strstr(b.p, "&brk=post]]>") != NULL);
}

TEST(adserver_refuses_bad_parameters) {
  static buf b;
  int st;
  static const char *const bad[] = {"pod=0",           "pod=11",        "wrapper=6",
                                    "dur=0.5",         "skip=20",       "v=5.0",
                                    "fail=x",          "media=ftp://x", "media=http://a/b]]>c",
                                    "pod=2&wrapper=1", "fail=xml"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK_INT(gen(VAST_ADSERVER_VAST, bad[i], &b, &st), VAST_E_INVAL);
  char msg[64];
  CHECK_INT(vast_adserver_write(VAST_ADSERVER_VAST, "http://x", "bad sid", "", put, &b, &st, msg,
                                sizeof msg),
            VAST_E_INVAL);
  CHECK(!vast_session_id_valid(""));
  CHECK(vast_session_id_valid("a-b_c.9"));
}

/* ---- the rules ---- */

static char dbpath[256];
static vast__store *store;
static long long t0 = 1700000000000LL;

static void open_db(void) {
  snprintf(dbpath, sizeof dbpath, "/tmp/vastrack-conf-%d.db", (int)getpid());
  unlink(dbpath);
  char msg[256];
  CHECK_INT(vast__store_open(dbpath, 0, &store, msg, sizeof msg), VAST_OK);
}

/* Records one hit of session S at t0 + ms, as the collector would. */
static void hit(long ms, const char *event, const char *ad, const char *query, int code,
                const char *dip, const char *dua) {
  size_t need = 1024 + strlen(query);
  vast__hit *h = calloc(1, sizeof *h + need);
  char *p = h->data;
#define S(field, v)                                                                                \
  do {                                                                                             \
    if (v) {                                                                                       \
      h->field = strcpy(p, v);                                                                     \
      p += strlen(v) + 1;                                                                          \
    }                                                                                              \
  } while (0)
  S(event, event);
  S(ad, ad);
  S(sid, "S");
  S(ip, "127.0.0.1");
  S(device_ip, dip);
  S(device_ua, dua);
  S(query, query);
#undef S
  h->t_ms = t0 + ms;
  h->code = code;
  atomic_init(&h->refs, 1);
  char msg[256];
  CHECK_INT(vast__store_write(store, &h, 1, NULL, 0, msg, sizeof msg), VAST_OK);
  vast__hit_unref(h);
}

static void served(const char *q) {
  hit(0, "served", NULL, q, -1, NULL, NULL);
}

/* A beacon of ad a1 at level lv, playhead ph (ms; -1: the macro left as is). */
static void beacon(long ms, const char *event, int lv, long ph) {
  char q[256];
  if (ph >= 0)
    snprintf(q, sizeof q, "sid=S&ad=a1&lv=%d&ph=00%%3A00%%3A%02ld.%03ld", lv, ph / 1000, ph % 1000);
  else
    snprintf(q, sizeof q, "sid=S&ad=a1&lv=%d&ph=[ADPLAYHEAD]", lv);
  hit(ms, event, "a1", q, -1, NULL, NULL);
}

/* A correct play of a 4 s ad at levels 0..levels-1, the impression of the
   last level imp_late ms late. */
static void play(int levels, long imp_late) {
  static const char *const ev[] = {"start", "firstQuartile", "midpoint", "thirdQuartile",
                                   "complete"};
  for (int l = 0; l < levels; l++)
    beacon(10 + (l == levels - 1 ? imp_late : 0), "impression", l, 0);
  for (int i = 0; i < 5; i++)
    for (int l = 0; l < levels; l++)
      beacon(10 + i * 1000 + l, ev[i], l, i * 1000);
}
static void good_play(int levels) {
  play(levels, 0);
}

static vast_conformance *run(void) {
  vast__store_close(store);
  store = NULL;
  vast_conformance *r = NULL;
  char msg[256];
  CHECK_INT(vast_conformance_run(dbpath, "S", NULL, &r, msg, sizeof msg), VAST_OK);
  unlink(dbpath);
  return r;
}

/* The findings as "rule/event/level ..." in order. */
static const char *summary(const vast_conformance *r) {
  static char s[2048];
  s[0] = 0;
  for (size_t i = 0; i < vast_conformance_count(r); i++) {
    const vast_conformance_finding *f = vast_conformance_at(r, i);
    snprintf(s + strlen(s), sizeof s - strlen(s), "%s%s/%s/%d", i ? " " : "", f->rule, f->event,
             f->level);
  }
  return s;
}

#define EXPECT(want)                                                                               \
  do {                                                                                             \
    vast_conformance *r_ = run();                                                                  \
    CHECK_STR(summary(r_), want);                                                                  \
    vast_conformance_free(r_);                                                                     \
  } while (0)

TEST(clean_play_is_conformant) {
  open_db();
  served("sid=S&kind=vast&dur=4&wrapper=1");
  served("sid=S&kind=vast&dur=4&wrapper=0&lv=1");
  good_play(2);
  EXPECT("");
}

TEST(missing_duplicated) {
  open_db();
  served("sid=S&kind=vast&dur=4");
  beacon(10, "impression", 0, 0);
  beacon(10, "start", 0, 0);
  beacon(1010, "firstQuartile", 0, 1000);
  beacon(2010, "midpoint", 0, 2000);
  beacon(2020, "midpoint", 0, 2000);
  beacon(4010, "complete", 0, 4000);
  EXPECT("missing/thirdQuartile/0 duplicated/midpoint/0");
}

TEST(early_late_and_pauses) {
  open_db();
  served("sid=S&kind=vast&dur=8");
  beacon(0, "impression", 0, 0);
  beacon(0, "start", 0, 0);
  beacon(900, "firstQuartile", 0, 900); /* due at 2 s */
  beacon(1000, "pause", 0, 1000);
  beacon(6000, "resume", 0, 1000); /* 5 s paused: midpoint at 9 s wall is on time */
  beacon(9000, "midpoint", 0, 4000);
  beacon(13200, "thirdQuartile", 0, 8200); /* due at 6 s played, sent at 8.2 s */
  beacon(13600, "complete", 0, 8000);
  EXPECT("early/firstQuartile/0 late/thirdQuartile/0");
}

TEST(out_of_order_and_after_terminal) {
  open_db();
  served("sid=S&kind=vast&dur=4");
  beacon(0, "impression", 0, 0);
  beacon(0, "start", 0, 0);
  beacon(2000, "midpoint", 0, 2000);
  beacon(2300, "firstQuartile", 0, 1000);
  beacon(3000, "thirdQuartile", 0, 3000);
  beacon(4000, "complete", 0, 4000);
  beacon(4500, "pause", 0, 4000);
  EXPECT("out-of-order/midpoint/0 after-terminal/pause/0");
}

TEST(skip_before_quartiles_expects_none_after) {
  open_db();
  served("sid=S&kind=vast&dur=8&skip=2");
  beacon(0, "impression", 0, 0);
  beacon(0, "start", 0, 0);
  beacon(2000, "firstQuartile", 0, 2000);
  beacon(3000, "skip", 0, 3000);
  EXPECT("");
}

TEST(impression_spread_and_missing_level) {
  open_db();
  served("sid=S&kind=vast&dur=4&wrapper=2");
  served("sid=S&kind=vast&dur=4&wrapper=0&lv=2");
  play(2, 1200); /* level 2 never fired, level 1's impression 1.2 s late */
  beacon(3100, "impression", 1, 3000);
  EXPECT("missing/impression/2 missing/start/2 missing/firstQuartile/2 missing/midpoint/2 "
         "missing/thirdQuartile/2 duplicated/impression/1 impression-spread/impression/1");
}

TEST(macros_and_error_codes) {
  open_db();
  served("sid=S&kind=vast&wrapper=0&lv=1&fail=noad");
  hit(100, "error", "a1", "sid=S&ad=a1&lv=1&code=[ERRORCODE]", -1, NULL, NULL);
  hit(100, "error", "a1", "sid=S&ad=a1&lv=0&code=402", 402, NULL, NULL);
  hit(200, "Viewable", "a1", "sid=S&ad=a1&lv=0&ts=%5BTIMESTAMP%5D&x=[CACHEBUSTING]", -1, NULL,
      NULL);
  hit(300, "error", "a2", "sid=S&ad=a2&lv=0&code=999", 999, NULL, NULL);
  EXPECT("unexpanded-macro/error/1 wrong-errorcode/error/0 unexpanded-macro/Viewable/0 "
         "unexpanded-macro/Viewable/0 wrong-errorcode/error/0");
}

TEST(noad_error_missing) {
  open_db();
  served("sid=S&kind=vast&wrapper=1&fail=noad");
  served("sid=S&kind=vast&wrapper=0&lv=1&fail=noad");
  hit(100, "error", "a1", "sid=S&ad=a1&lv=1&code=303", 303, NULL, NULL);
  EXPECT("missing/error/0");
}

TEST(device_headers_on_server_side_hits) {
  open_db();
  hit(0, "impression", "x", "sid=S&ad=x", -1, "203.0.113.9", NULL);
  hit(0, "start", "x", "sid=S&ad=x", -1, "203.0.113.9", "Roku/1");
  vast_conformance *r = run();
  CHECK_STR(summary(r), "missing-device-headers/impression/0");
  CHECK(strstr(vast_conformance_at(r, 0)->message, "X-Device-User-Agent") != NULL);
  vast_conformance_free(r);
}

TEST(report_outputs_and_errors) {
  open_db();
  served("sid=S&kind=vast&dur=4");
  good_play(1);
  beacon(2500, "midpoint", 0, 2500);
  vast__store_close(store);
  vast_conformance *r = NULL;
  char msg[256];
  CHECK_INT(vast_conformance_run(dbpath, NULL, NULL, &r, msg, sizeof msg), VAST_OK);
  CHECK_STR(vast_conformance_session(r), "S");
  static buf b;
  b.n = 0;
  CHECK_INT(vast_conformance_write_json(r, put, &b), VAST_OK);
  CHECK(strstr(b.p, "\"conformant\":false") != NULL);
  CHECK(strstr(b.p, "\"rule\":\"duplicated\",\"ad\":\"a1\",\"event\":\"midpoint\",\"level\":0") !=
        NULL);
  CHECK(strstr(b.p, "\"durationMs\":4000") != NULL);
  b.n = 0;
  CHECK_INT(vast_conformance_write_text(r, put, &b), VAST_OK);
  CHECK(strstr(b.p, "1 finding: not conformant\n") != NULL);
  vast_conformance_free(r);
  CHECK_INT(vast_conformance_run(dbpath, "other", NULL, &r, msg, sizeof msg), VAST_E_NOT_FOUND);
  CHECK(r == NULL);
  unlink(dbpath);
  CHECK_INT(vast_conformance_run("/nonexistent/x.db", "S", NULL, &r, msg, sizeof msg), VAST_E_DB);
}

static const th_case cases[] = {TH(adserver_inline_parses_and_points_back),
                                TH(adserver_pod_wrapper_noad_vmap),
                                TH(adserver_refuses_bad_parameters),
                                TH(clean_play_is_conformant),
                                TH(missing_duplicated),
                                TH(early_late_and_pauses),
                                TH(out_of_order_and_after_terminal),
                                TH(skip_before_quartiles_expects_none_after),
                                TH(impression_spread_and_missing_level),
                                TH(macros_and_error_codes),
                                TH(noad_error_missing),
                                TH(device_headers_on_server_side_hits),
                                TH(report_outputs_and_errors),
                                {0}};

int main(int argc, char **argv) {
  return th_main(__FILE__, cases, argc, argv);
}
