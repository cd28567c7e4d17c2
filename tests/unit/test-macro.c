/*
 * test-macro.c: IAB macro expansion: the -1/-2 rules, RFC 3986 encoding per
 * value with unencoded commas in lists, %%NAME%%, [RANDOM], the engine's
 * formats (TIMESTAMP, ADPLAYHEAD, CACHEBUSTING, ERRORCODE) and the buffer bound.
 */
#include "harness.h"
#include "vastrack.h"

static char out[1024];

static const char *X(const char *tmpl, const vast_macro_ctx *ctx, const vast_macro_vars *vars) {
  size_t n = 0;
  vast_err e = vast_macro_expand(tmpl, strlen(tmpl), ctx, vars, out, sizeof out, &n);
  CHECK_INT(e, VAST_OK);
  CHECK_INT(n, strlen(out));
  return out;
}

TEST(unknown_listed_is_minus_one) {
  CHECK_STR(X("http://a/?ifa=[IFA]&ip=[DEVICEIP]", NULL, NULL), "http://a/?ifa=-1&ip=-1");
  vast_macro_ctx c;
  vast_macro_ctx_init(&c);
  CHECK_STR(X("x[PAGEURL]y", &c, NULL), "x-1y");
}

TEST(withheld_is_minus_two_and_wins_over_engine) {
  vast_macro_ctx c;
  vast_macro_ctx_init(&c);
  CHECK_INT(vast_macro_ctx_withhold(&c, VAST_MACRO_IFA), VAST_OK);
  CHECK_INT(vast_macro_ctx_withhold(&c, VAST_MACRO_ADSERVINGID), VAST_OK);
  vast_macro_vars v;
  vast_macro_vars_init(&v);
  v.ad_serving_id = "abc";
  CHECK_STR(X("[IFA]/[ADSERVINGID]/[LATLONG]", &c, &v), "-2/-2/-1");
  CHECK_INT(vast_macro_ctx_set(&c, (vast_macro)VAST_MACRO__COUNT, "x"), VAST_E_INVAL);
}

TEST(unlisted_and_malformed_untouched) {
  const char *cases[] = {"[FOO]",
                         "[foo bar]",
                         "[",
                         "]",
                         "[IFA",
                         "IFA]",
                         "%%",
                         "%",
                         "%%FOO%%",
                         "%%IFA%",
                         "[[",
                         "[timestamp]",
                         "a%20b",
                         "[CACHEBUSTER]",
                         "[AVERYLONGNAMETHATISNOTAMACROATALL]",
                         ""};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    CHECK_STR(X(cases[i], NULL, NULL), cases[i]);
  CHECK_STR(X("[[IFA]]", NULL, NULL), "[-1]");
  CHECK_STR(X("%%%IFA%%", NULL, NULL), "%-1");
}

TEST(percent_form_accepted) {
  vast_macro_ctx c;
  vast_macro_ctx_init(&c);
  vast_macro_ctx_set(&c, VAST_MACRO_DOMAIN, "example.com");
  CHECK_STR(X("d=%%DOMAIN%%&e=[DOMAIN]", &c, NULL), "d=example.com&e=example.com");
}

TEST(values_encoded_rfc3986) {
  vast_macro_ctx c;
  vast_macro_ctx_init(&c);
  vast_macro_ctx_set(&c, VAST_MACRO_PAGEURL, "https://a.b/c?d=e f&g=h,i~j_k-l.m");
  vast_macro_ctx_set(&c, VAST_MACRO_DEVICEUA, "Mozilla/5.0 (X11; Linux)");
  CHECK_STR(X("[PAGEURL]", &c, NULL), "https%3A%2F%2Fa.b%2Fc%3Fd%3De%20f%26g%3Dh%2Ci~j_k-l.m");
  CHECK_STR(X("[DEVICEUA]", &c, NULL), "Mozilla%2F5.0%20%28X11%3B%20Linux%29");
  vast_macro_ctx_set(&c, VAST_MACRO_PAGEURL, "\xc3\xa9");
  CHECK_STR(X("[PAGEURL]", &c, NULL), "%C3%A9");
}

TEST(array_values_keep_commas) {
  vast_macro_ctx c;
  vast_macro_ctx_init(&c);
  vast_macro_ctx_set(&c, VAST_MACRO_VASTVERSIONS, "2,3,4,4.1");
  vast_macro_ctx_set(&c, VAST_MACRO_APIFRAMEWORKS, "a b,c/d");
  vast_macro_ctx_set(&c, VAST_MACRO_IFA, "a,b"); /* scalar: comma encoded */
  CHECK_STR(X("[VASTVERSIONS]|[APIFRAMEWORKS]|[IFA]", &c, NULL), "2,3,4,4.1|a%20b,c%2Fd|a%2Cb");
  CHECK(vast_macro_flags(VAST_MACRO_VASTVERSIONS) & VAST_MF_ARRAY);
  CHECK(!(vast_macro_flags(VAST_MACRO_IFA) & VAST_MF_ARRAY));
}

TEST(serverside_setter) {
  vast_macro_ctx c;
  vast_macro_ctx_init(&c);
  CHECK_INT(vast_macro_ctx_set_serverside(&c, 3), VAST_E_INVAL);
  CHECK_INT(vast_macro_ctx_set_serverside(&c, -1), VAST_E_INVAL);
  CHECK_STR(X("[SERVERSIDE]", &c, NULL), "-1");
  CHECK_INT(vast_macro_ctx_set_serverside(&c, 2), VAST_OK);
  CHECK_STR(X("[SERVERSIDE]", &c, NULL), "2");
  CHECK_INT(vast_macro_ctx_set_serverside(&c, 0), VAST_OK);
  CHECK_STR(X("[SERVERSIDE]", &c, NULL), "0");
}

TEST(cachebusting_and_random) {
  vast_macro_vars v;
  vast_macro_vars_init(&v);
  CHECK_STR(X("[CACHEBUSTING]", NULL, &v), "-1");
  v.cachebust = 1234;
  CHECK_STR(X("[CACHEBUSTING]/[RANDOM]/[random]/%%CACHEBUSTING%%", NULL, &v),
            "00001234/00001234/00001234/00001234");
  v.cachebust = 987654321;
  CHECK_STR(X("[CACHEBUSTING]", NULL, &v), "87654321");
}

TEST(timestamp_iso8601_ms_zone) {
  char b[64];
  CHECK_INT(vast_format_timestamp(0, 0, b, sizeof b), 29);
  CHECK_STR(b, "1970-01-01T00:00:00.000+00:00");
  vast_format_timestamp(1700000000.123, 0, b, sizeof b);
  CHECK_STR(b, "2023-11-14T22:13:20.123+00:00");
  vast_format_timestamp(1700000000.123, -300, b, sizeof b);
  CHECK_STR(b, "2023-11-14T17:13:20.123-05:00");
  vast_format_timestamp(951782400.5, 330, b, sizeof b); /* 2000-02-29 00:00 UTC */
  CHECK_STR(b, "2000-02-29T05:30:00.500+05:30");
  vast_format_timestamp(1735689599.999, 0, b, sizeof b);
  CHECK_STR(b, "2024-12-31T23:59:59.999+00:00");
  CHECK_INT(vast_format_timestamp(-1, 0, b, sizeof b), 0);
  CHECK_INT(vast_format_timestamp(0, 0, b, 29), 0);
  vast_macro_vars v;
  vast_macro_vars_init(&v);
  v.wall_time = 1700000000.123;
  vast_macro_ctx c;
  vast_macro_ctx_init(&c);
  c.tz_offset_min = 60;
  CHECK_STR(X("[TIMESTAMP]", &c, &v), "2023-11-14T23%3A13%3A20.123%2B01%3A00");
}

TEST(adplayhead_timecode) {
  char b[32];
  vast_format_timecode(3725.5, b, sizeof b);
  CHECK_STR(b, "01:02:05.500");
  vast_format_timecode(0, b, sizeof b);
  CHECK_STR(b, "00:00:00.000");
  vast_format_timecode(7.9996, b, sizeof b);
  CHECK_STR(b, "00:00:08.000");
  vast_format_timecode(360000, b, sizeof b);
  CHECK_STR(b, "100:00:00.000");
  vast_macro_vars v;
  vast_macro_vars_init(&v);
  CHECK_STR(X("[ADPLAYHEAD]", NULL, &v), "-1");
  v.ad_playhead = 15.25;
  CHECK_STR(X("[ADPLAYHEAD]", NULL, &v), "00%3A00%3A15.250");
}

TEST(errorcode_three_digits) {
  vast_macro_vars v;
  vast_macro_vars_init(&v);
  CHECK_STR(X("e=[ERRORCODE]", NULL, &v), "e=-1");
  v.error_code = 405;
  CHECK_STR(X("e=[ERRORCODE]", NULL, &v), "e=405");
  v.error_code = 42;
  CHECK_STR(X("e=[ERRORCODE]", NULL, &v), "e=900");
  v.error_code = 1200;
  CHECK_STR(X("e=%%ERRORCODE%%", NULL, &v), "e=900");
  v.error_code = -3;
  CHECK_STR(X("e=[ERRORCODE]", NULL, &v), "e=900");
}

TEST(engine_values) {
  vast_macro_vars v;
  vast_macro_vars_init(&v);
  vast_universal_ad_id u[2] = {{"ad-id.org", "CNPA0484000H"}, {"other reg", "v/2"}};
  vast_category cat[2] = {{"iab", "IAB1-1"}, {NULL, "IAB2"}};
  v.universal_ad_ids = u;
  v.n_universal_ad_ids = 2;
  v.categories = cat;
  v.n_categories = 2;
  v.asset_uri = "https://cdn/x.mp4";
  v.ad_type = "video";
  v.pod_sequence = 2;
  v.reason = 3;
  v.click_pos = "10,20";
  CHECK_STR(X("[UNIVERSALADID]", NULL, &v), "ad-id.org%20CNPA0484000H,other%20reg%20v%2F2");
  CHECK_STR(X("[ADCATEGORIES]|[ASSETURI]|[ADTYPE]|[PODSEQUENCE]|[REASON]|[CLICKPOS]", NULL, &v),
            "IAB1-1,IAB2|https%3A%2F%2Fcdn%2Fx.mp4|video|2|3|10,20");
  v.has_player_state = 1;
  v.player_state = VAST_PLAYER_MUTED | VAST_PLAYER_FULLSCREEN;
  CHECK_STR(X("[PLAYERSTATE]", NULL, &v), "muted,fullscreen");
  vast_macro_ctx c;
  vast_macro_ctx_init(&c);
  vast_macro_ctx_set(&c, VAST_MACRO_PLAYERSTATE, "autoplayed,muted");
  CHECK_STR(X("[PLAYERSTATE]", &c, &v), "autoplayed,muted"); /* caller first */
  vast_macro_ctx_set(&c, VAST_MACRO_ASSETURI, "ignored");
  CHECK_STR(X("[ASSETURI]", &c, &v), "https%3A%2F%2Fcdn%2Fx.mp4"); /* engine first */
  v.asset_uri = NULL;
  CHECK_STR(X("[ASSETURI]", &c, &v), "ignored");
}

TEST(every_listed_name_round_trips) {
  for (int m = 0; m < VAST_MACRO__COUNT; m++) {
    const char *n = vast_macro_name((vast_macro)m);
    CHECK(*n);
    CHECK_INT(vast_macro_lookup(n, strlen(n)), m);
    char t[64];
    snprintf(t, sizeof t, "[%s]", n);
    size_t len;
    vast_macro_expand(t, strlen(t), NULL, NULL, out, sizeof out, &len);
    CHECK_STR(out, "-1");
  }
  CHECK_INT(vast_macro_lookup("RANDOM", 6), VAST_MACRO_CACHEBUSTING);
  CHECK_INT(vast_macro_lookup("Random", 6), -1);
  CHECK_INT(vast_macro_lookup("IFAX", 4), -1);
  CHECK_STR(vast_macro_name((vast_macro)-1), "");
}

TEST(truncation_bounded) {
  vast_macro_ctx c;
  vast_macro_ctx_init(&c);
  vast_macro_ctx_set(&c, VAST_MACRO_PAGEURL, "https://example.com/page");
  const char *t = "http://x/?p=[PAGEURL]&q=[IFA]";
  size_t full = 0;
  vast_macro_expand(t, strlen(t), &c, NULL, out, sizeof out, &full);
  CHECK_STR(out, "http://x/?p=https%3A%2F%2Fexample.com%2Fpage&q=-1");
  char small[64];
  for (size_t cap = 0; cap <= full + 2; cap++) {
    memset(small, 'Z', sizeof small);
    size_t n = 0;
    vast_err e = vast_macro_expand(t, strlen(t), &c, NULL, small, cap, &n);
    CHECK_INT(n, full);
    CHECK_INT(e, cap > full ? VAST_OK : VAST_E_NOSPACE);
    for (size_t i = cap; i < sizeof small; i++)
      CHECK(small[i] == 'Z'); /* no write past cap */
    if (cap) {
      CHECK_INT(strlen(small), cap - 1 < full ? cap - 1 : full);
      CHECK(!memcmp(small, out, strlen(small)));
    }
  }
  CHECK_INT(vast_macro_expand(NULL, 0, NULL, NULL, out, 1, NULL), VAST_E_INVAL);
}

/* Random templates built from macro pieces never overflow and leave no listed macro. */
TEST(random_templates_bounded_and_complete) {
  static const char *pieces[] = {"[IFA]",       "[TIMESTAMP]", "%%CACHEBUSTING%%",
                                 "[",           "]",           "%",
                                 "%%",          "abc",         "[FOO]",
                                 "[ERRORCODE]", "[PAGEURL]",   "é",
                                 ",",           "[[",          "[UNIVERSALADID]",
                                 "[random]"};
  vast_macro_ctx c;
  vast_macro_ctx_init(&c);
  vast_macro_ctx_set(&c, VAST_MACRO_PAGEURL, "[IFA]"); /* values are encoded, never re-expanded */
  vast_macro_vars v;
  vast_macro_vars_init(&v);
  v.wall_time = 1.5e9;
  v.cachebust = 12345678;
  unsigned seed = 7;
  for (int iter = 0; iter < 2000; iter++) {
    char t[256] = "";
    int np = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 12;
    for (int i = 0; i < np; i++)
      strcat(
          t,
          pieces[((seed = seed * 1103515245u + 12345u) >> 16) % (sizeof pieces / sizeof *pieces)]);
    char buf[128];
    size_t cap = ((seed = seed * 1103515245u + 12345u) >> 16) % 100;
    memset(buf, 'Z', sizeof buf);
    size_t n;
    vast_macro_expand(t, strlen(t), &c, &v, buf, cap, &n);
    for (size_t i = cap; i < sizeof buf; i++)
      CHECK(buf[i] == 'Z');
    vast_macro_expand(t, strlen(t), &c, &v, out, sizeof out, &n);
    for (int m = 0; m < VAST_MACRO__COUNT; m++) {
      char pat[40];
      snprintf(pat, sizeof pat, "[%s]", vast_macro_name((vast_macro)m));
      CHECK(!strstr(out, pat) || strstr(t, "[[")); /* "[[IFA]]" legitimately leaves brackets */
    }
  }
}

TEST(old_small_ctx_is_safe) {
  vast_macro_ctx c;
  vast_macro_ctx_init(&c);
  vast_macro_ctx_set(&c, VAST_MACRO_GPPSECTIONID, "2,6");
  CHECK_STR(X("[GPPSECTIONID]", &c, NULL), "2,6");
  c.size = offsetof(vast_macro_ctx, value) + 2 * sizeof(char *); /* an older, shorter struct */
  CHECK_STR(X("[GPPSECTIONID]", &c, NULL), "-1");
  CHECK_INT(vast_macro_ctx_set(&c, VAST_MACRO_GPPSECTIONID, "1"), VAST_E_INVAL);
}

static const th_case cases[] = {
    TH(unknown_listed_is_minus_one),
    TH(withheld_is_minus_two_and_wins_over_engine),
    TH(unlisted_and_malformed_untouched),
    TH(percent_form_accepted),
    TH(values_encoded_rfc3986),
    TH(array_values_keep_commas),
    TH(serverside_setter),
    TH(cachebusting_and_random),
    TH(timestamp_iso8601_ms_zone),
    TH(adplayhead_timecode),
    TH(errorcode_three_digits),
    TH(engine_values),
    TH(every_listed_name_round_trips),
    TH(truncation_bounded),
    TH(random_templates_bounded_and_complete),
    TH(old_small_ctx_is_safe),
    {0},
};

int main(int argc, char **argv) {
  return th_main(__FILE__, cases, argc, argv);
}
