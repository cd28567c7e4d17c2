/*
 * test-json.c: every JSON producer of the library escapes a string the same
 * way, through the one writer of lib/base/jsonw.c (docs/json.md): " and \
 * escaped, \n \r \t short, other controls and DEL as \u00XX, each byte that is
 * not valid UTF-8 as U+FFFD, valid UTF-8 as is. One hostile string goes
 * through each output (the raw escaper, the streaming writer, the vast__buf
 * helper, the public vast_json_write_string, a collector hit as sent to
 * Kafka, report --json, validate --json and SARIF) and must come out as the
 * same bytes. The delivery log that report reads back is parsed with jansson.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/jsonw.h"
#include "collect/collect-int.h"
#include "harness.h"
#include "validate/validate-int.h"
#include "vastrack.h"

/* quote, backslash, the three short escapes, two controls, DEL, a stray
   continuation byte, a truncated sequence, then valid 2-, 3- and 4-byte UTF-8 */
static const char HOSTILE[] =
    "a\"b\\c\n\r\t\x01\x1f\x7f\x80\xc3(\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
#define FFFD "\xef\xbf\xbd"
static const char ESCAPED[] = "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f\\u007f" FFFD FFFD
                              "(\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"";

static void quote_out(void *u, const char *p, size_t n) {
  vast__buf_write(u, p, n);
}

/* True when hay contains needle. */
static int has(const char *hay, const char *needle) {
  return hay && strstr(hay, needle) != NULL;
}

TEST(escaper_and_writer_agree) {
  vast__buf b = {0};
  vast__json_quote(HOSTILE, strlen(HOSTILE), quote_out, &b);
  CHECK_STR(b.p, ESCAPED);
  vast__buf_free(&b);

  vast__json_buf_str(&b, HOSTILE);
  CHECK_STR(b.p, ESCAPED);
  vast__buf_free(&b);
  vast__json_buf_strn(&b, NULL, 3);
  CHECK_STR(b.p, "null");
  vast__buf_free(&b);

  CHECK_INT(vast_json_write_string(HOSTILE, vast__buf_write, &b), VAST_OK);
  CHECK_STR(b.p, ESCAPED);
  vast__buf_free(&b);

  vast__jw w;
  vast__jw_init(&w, vast__buf_write, &b);
  vast__jw_arr_begin(&w);
  vast__jw_str(&w, HOSTILE);
  vast__jw_strn(&w, HOSTILE, strlen(HOSTILE));
  vast__jw_value(&w, "1.2500", 6);
  vast__jw_uint(&w, 18446744073709551615ull);
  vast__jw_arr_end(&w);
  CHECK_INT(vast__jw_finish(&w), 0);
  char want[256];
  snprintf(want, sizeof want, "[%s,%s,1.2500,18446744073709551615]", ESCAPED, ESCAPED);
  CHECK_STR(b.p, want);
  vast__buf_free(&b);
}

/* The JSON record of a collector hit (Kafka's value): same escaping, every key. */
TEST(hit_record) {
  vast__hit h;
  memset(&h, 0, sizeof h);
  h.t_ms = 1700000000123;
  h.code = -1;
  h.event = "start";
  h.ad = HOSTILE;
  h.device = "{\"x\":1}";
  vast__buf b = {0};
  CHECK_INT(vast__hit_json(&h, &b), 0);
  char want[512];
  snprintf(want, sizeof want,
           "{\"t_ms\":1700000000123,\"event\":\"start\",\"ad\":%s,\"cr\":null,\"sid\":null,"
           "\"code\":null,\"ip\":null,\"ua\":null,\"device_ip\":null,\"device_ua\":null,"
           "\"device\":{\"x\":1},\"query\":null}",
           ESCAPED);
  CHECK_STR(b.p, want);
  h.code = 303;
  h.device = NULL;
  b.n = 0;
  CHECK_INT(vast__hit_json(&h, &b), 0);
  CHECK(has(b.p, "\"code\":303,"));
  CHECK(has(b.p, "\"device\":null,"));
  vast__buf_free(&b);
}

/* A report of the fired log text alone (no database); *used: lines that counted. */
static vast_report *report_of_log(const char *log, size_t *used) {
  char path[] = "/tmp/test-json-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK(write(fd, log, strlen(log)) == (ssize_t)strlen(log));
  close(fd);
  vast_report *r = NULL;
  CHECK_INT(vast_report_new(&r), VAST_OK);
  CHECK_INT(vast_report_add_fired(r, path, used, NULL), VAST_OK);
  unlink(path);
  return r;
}

/* report --json: an ad named by a beacon URL of the fired log (percent-decoded). */
TEST(report_json) {
  static const char line[] =
      "{\"t\":0,\"url\":\"http://c/t/start?ad=a%22b%5Cc%0A%0D%09%01%1F%7F%80%C3(%C3%A9%E2%82%AC"
      "%F0%9F%98%80\",\"status\":204}\n";
  size_t used = 0;
  vast_report *r = report_of_log(line, &used);
  CHECK_INT(used, 1);
  vast__buf b = {0};
  CHECK_INT(vast_report_write(r, VAST_REPORT_JSON, vast__buf_write, &b), VAST_OK);
  char want[256];
  snprintf(want, sizeof want, "{\"ad\":%s,\"impressions\":0,", ESCAPED);
  CHECK(has(b.p, want));
  CHECK(has(b.p, "{\"event\":\"start\",\"code\":null,\"funnel\":true,\"counted\":0,\"rate\":null,"
                 "\"fired\":1,\"answered\":1,\"diff\":-1}"));
  CHECK(b.p[b.n - 1] == '\n');
  vast__buf_free(&b);
  vast_report_free(r);
}

/* The delivery log is read with jansson: any key order, escapes decoded, junk
   lines skipped, a status that is not an integer not counted as answered. */
TEST(fired_log_reader) {
  static const char log[] = "{\"url\":\"http://c/t/start?ad=A\",\"status\":204}\n"
                            "{\"status\":200,\"t\":1.5,\"x\":[{\"y\":\"}\"}],\"url\":\"http:\\/\\/"
                            "c\\/t\\/complete?ad=A\"}\n"
                            "not json\n"
                            "{\"url\":null,\"status\":200}\n"
                            "[\"http://c/t/start?ad=A\"]\n"
                            "{\"url\":\"http://c/t/start?ad=A\",\"status\":\"200\"}\n"
                            "{\"url\":\"http://c/t/midpoint?ad=\\u00e9\",\"status\":500}\n"
                            "{\"url\":\"http://c/t/firstQuartile?ad=A\",\"status\":299} trailing\n"
                            "{\"url\":\"http://c/t/start?ad=A\",\"status\":204\n";
  size_t used = 0;
  vast_report *r = report_of_log(log, &used);
  CHECK_INT(used, 5);
  uint64_t counted, fired, answered;
  CHECK_INT(vast_report_count(r, "A", "start", &counted, &fired, &answered), VAST_OK);
  CHECK_INT(fired, 2);
  CHECK_INT(answered, 1);
  CHECK_INT(vast_report_count(r, "A", "complete", &counted, &fired, &answered), VAST_OK);
  CHECK_INT(fired, 1);
  CHECK_INT(answered, 1);
  CHECK_INT(vast_report_count(r, "\xc3\xa9", "midpoint", &counted, &fired, &answered), VAST_OK);
  CHECK_INT(fired, 1);
  CHECK_INT(answered, 0);
  CHECK_INT(vast_report_count(r, "A", "firstQuartile", &counted, &fired, &answered), VAST_OK);
  CHECK_INT(answered, 1);
  vast_report_free(r);
}

/* validate --json and SARIF: a finding whose message holds the hostile bytes. */
TEST(findings_json_and_sarif) {
  vast_findings l;
  memset(&l, 0, sizeof l);
  vast_finding f;
  memset(&f, 0, sizeof f);
  f.rule = &vast__rules[0];
  f.rule_id = vast__rules[0].id;
  f.severity = VAST_SEV_ERROR;
  f.message = HOSTILE;
  f.path = HOSTILE;
  f.line = 3;
  l.items = &f;
  l.n = 1;
  l.profile = VAST_PROFILE_WEB;
  vast__buf b = {0};
  CHECK_INT(vast_findings_write_json(&l, "x.xml", vast__buf_write, &b), VAST_OK);
  char want[256];
  snprintf(want, sizeof want, "\"message\":%s,", ESCAPED);
  CHECK(has(b.p, want));
  vast__buf_free(&b);

  int state = 0;
  CHECK_INT(vast_sarif_begin(VAST_PROFILE_WEB, vast__buf_write, &b, &state), VAST_OK);
  CHECK_INT(vast_sarif_add(&l, "a b.xml", vast__buf_write, &b, &state), VAST_OK);
  CHECK_INT(vast_sarif_add(&l, NULL, vast__buf_write, &b, &state), VAST_OK);
  CHECK_INT(vast_sarif_end(vast__buf_write, &b, &state), VAST_OK);
  snprintf(want, sizeof want, "\"message\":{\"text\":%s}", ESCAPED);
  CHECK(has(b.p, want));
  snprintf(want, sizeof want, "\"fullyQualifiedName\":%s,", ESCAPED);
  CHECK(has(b.p, want));
  CHECK(has(b.p, "\"uri\":\"a%20b.xml\"}"));
  CHECK(has(b.p, "\"region\":{\"startLine\":3}},"));
  CHECK(has(b.p, "\"properties\":{\"iabCode\":0}},{\"ruleId\":"));            /* two results */
  CHECK(has(b.p, "]}},\"properties\":{\"profile\":\"web\"},\"results\":[{")); /* one run */
  CHECK_INT(state, 2);
  vast__buf_free(&b);
}

static const th_case cases[] = {
    TH(escaper_and_writer_agree),
    TH(hit_record),
    TH(report_json),
    TH(fired_log_reader),
    TH(findings_json_and_sarif),
    {0},
};

int main(int argc, char **argv) {
  return th_main(__FILE__, cases, argc, argv);
}
