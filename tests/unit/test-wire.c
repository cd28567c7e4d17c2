/*
 * test-wire.c: the collector's wire contract (lib/collect/wire.h), the one
 * table the server, the report, the test ad server and the web UI share.
 */
#include <string.h>

#include "collect/wire.h"
#include "harness.h"

TEST(map_parse) {
  vast__wire_map m;
  CHECK_INT(vast__wire_map_parse(NULL, &m), 0);
  CHECK_INT(m.n, 0);
  CHECK_INT(vast__wire_map_parse("adid=ad,creative=cr,,err=code,", &m), 0);
  CHECK_INT(m.n, 3);
  CHECK_STR(m.m[1].name, "creative");
  CHECK_INT(m.m[1].field, VAST__WIRE_CR);
  static const char *const bad[] = {
      "adid", "=ad", "adid=", "adid=bogus", "adid=ad,x", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=ad"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_INT(vast__wire_map_parse(bad[i], &m), -1);
    CHECK_INT(m.n, 0); /* nothing half-parsed */
  }
  char many[512] = "";
  for (int i = 0; i < 17; i++)
    snprintf(many + strlen(many), sizeof many - strlen(many), "%sa%d=ad", i ? "," : "", i);
  CHECK_INT(vast__wire_map_parse(many, &m), -1); /* 16 names at most */
}

TEST(fields_and_funnel) {
  vast__wire_map m;
  CHECK_INT(vast__wire_map_parse("adid=ad,sid=cr", &m), 0);
  CHECK_INT(vast__wire_field_of(&m, "adid", 4), VAST__WIRE_AD);
  CHECK_INT(vast__wire_field_of(&m, "sid", 3), VAST__WIRE_CR); /* the map comes first */
  CHECK_INT(vast__wire_field_of(NULL, "sid", 3), VAST__WIRE_SID);
  CHECK_INT(vast__wire_field_of(NULL, "r", 1), VAST__WIRE_R);
  CHECK_INT(vast__wire_field_of(NULL, "code", 3), VAST__WIRE_NFIELDS); /* "cod" */
  CHECK_INT(vast__wire_funnel_step("impression"), 0);
  CHECK_INT(vast__wire_funnel_step("thirdQuartile"), 4);
  CHECK_INT(vast__wire_funnel_step("complete"), VAST__WIRE_FUNNEL_N - 1);
  CHECK_INT(vast__wire_funnel_step("error"), -1);
  CHECK(vast__wire_event_ok("firstQuartile", 13));
  CHECK(vast__wire_event_ok("a.b-c_9", 7));
  CHECK(!vast__wire_event_ok("", 0));
  CHECK(!vast__wire_event_ok("a b", 3));
  CHECK(!vast__wire_event_ok("x", VAST__WIRE_EVENT_MAX + 1));
}

TEST(parse_url) {
  char ev[64], ad[64];
  CHECK_INT(vast__wire_parse_url(NULL, "http://c:8080/t/start?cr=1&ad=A%20B#x", ev, sizeof ev, ad,
                                 sizeof ad),
            0);
  CHECK_STR(ev, "start");
  CHECK_STR(ad, "A B");
  CHECK_INT(vast__wire_parse_url(NULL, "/pre/t/x/t/midpoint?ad=Z", ev, sizeof ev, ad, sizeof ad),
            0); /* the last /t/: a collector behind a path prefix */
  CHECK_STR(ev, "midpoint");
  vast__wire_map m;
  CHECK_INT(vast__wire_map_parse("adid=ad", &m), 0);
  CHECK_INT(vast__wire_parse_url(&m, "https://c/t/complete?adid=7", ev, sizeof ev, ad, sizeof ad),
            0);
  CHECK_STR(ad, "7");
  static const char *const no[] = {
      "http://c/t/start",    "http://c/t/start?cr=1", "http://c/x?ad=1",       "http://c/t/?ad=1",
      "http://c/t/a/b?ad=1", "t/start?ad=1",          "http://c/t/start#?ad=1"};
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    CHECK_INT(vast__wire_parse_url(NULL, no[i], ev, sizeof ev, ad, sizeof ad), -1);
  CHECK_INT(vast__wire_parse_url(&m, "https://c/t/complete?adid=7", ev, sizeof ev, ad, sizeof ad),
            0);
}

static const th_case cases[] = {
    TH(map_parse),
    TH(fields_and_funnel),
    TH(parse_url),
    {0},
};

int main(int argc, char **argv) {
  return th_main(__FILE__, cases, argc, argv);
}
