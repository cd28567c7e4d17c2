/*
 * test-parse.c: the parser against the shared corpus (expectations from its
 * MANIFEST.tsv, which was produced independently of vastrack), real-world
 * leniency, hostile input and limits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "harness.h"
#include "jsoncheck.h"
#include "vastrack.h"

static vast_doc *parse_ok(const char *xml) {
  vast_doc *doc = NULL;
  vast_error err;
  vast_err rc = vast_doc_parse(xml, strlen(xml), NULL, &doc, &err);
  if (rc != VAST_OK) fprintf(stderr, "  parse failed: %s (line %lu)\n", err.message, err.line);
  CHECK_INT(rc, VAST_OK);
  CHECK(doc != NULL);
  return doc;
}

static vast_err parse_fail(const char *xml, size_t len, const vast_limits *lim, vast_error *err) {
  vast_doc *doc = (vast_doc *)1;
  vast_err rc = vast_doc_parse(xml, len, lim, &doc, err);
  CHECK(rc != VAST_OK);
  CHECK(doc == NULL);
  return rc;
}

/* ---- corpus ---------------------------------------------------------------- */

typedef struct counts {
  size_t ads, inline_ads, wrapper_ads, impressions, tracking;
} counts;

/* Tracking elements kept inside raw Extension XML count too (the manifest counts
 * every <Tracking> element in the file), except an Ad's VAST 3 AdVerifications
 * Extension, whose Tracking is in the verifications already. */
static size_t raw_tracking(const vast_extension *x, size_t n, int ad_level) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (!ad_level || !x[i].type || strcasecmp(x[i].type, "AdVerifications"))
      for (const char *p = x[i].xml; p && (p = strstr(p, "<Tracking")); p++)
        k += p[9] == ' ' || p[9] == '>';
  return k;
}

static void count_vast(const vast_vast *v, counts *c) {
  for (size_t i = 0; i < v->n_ads; i++) {
    const vast_ad *a = &v->ads[i];
    c->ads++;
    c->inline_ads += a->kind == VAST_AD_INLINE;
    c->wrapper_ads += a->kind == VAST_AD_WRAPPER;
    c->impressions += a->n_impressions;
    c->tracking += raw_tracking(a->extensions, a->n_extensions, 1);
    for (size_t k = 0; k < a->n_verifications; k++)
      c->tracking += a->verifications[k].n_tracking;
    for (size_t k = 0; k < a->n_creatives; k++) {
      const vast_creative *cr = &a->creatives[k];
      c->tracking += raw_tracking(cr->extensions, cr->n_extensions, 0);
      if (cr->linear) c->tracking += cr->linear->n_tracking;
      if (cr->nonlinear) c->tracking += cr->nonlinear->n_tracking;
      if (cr->companions)
        for (size_t m = 0; m < cr->companions->n_companions; m++)
          c->tracking += cr->companions->companions[m].n_tracking;
    }
  }
}

static counts count_doc(const vast_doc *doc) {
  counts c = {0};
  if (vast_doc_vast(doc)) count_vast(vast_doc_vast(doc), &c);
  const vast_vmap *m = vast_doc_vmap(doc);
  for (size_t i = 0; m && i < m->n_breaks; i++) {
    c.tracking += m->breaks[i].n_tracking;
    if (m->breaks[i].vast) count_vast(m->breaks[i].vast, &c);
  }
  return c;
}

static size_t field(char *line, char **cols, size_t max) {
  size_t n = 0;
  cols[n++] = line;
  for (char *p = line; *p && n < max; p++)
    if (*p == '\t') {
      *p = 0;
      cols[n++] = p + 1;
    }
  return n;
}

/* Every XML file of the manifest that is present: what must happen to it. */
TEST(corpus_matches_manifest) {
  char path[4096];
  snprintf(path, sizeof path, "%s/MANIFEST.tsv", th_corpus());
  char *tsv = th_slurp(path, NULL);
  size_t checked = 0;
  char *save = NULL;
  strtok_r(tsv, "\n", &save); /* header */
  for (char *line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *col[32];
    if (field(line, col, 32) < 20) continue;
    const char *file = col[0], *root = col[9], *wf = col[10];
    if (!strstr(file, ".xml")) continue;
    snprintf(path, sizeof path, "%s/%s", th_corpus(), file);
    FILE *f = fopen(path, "rb");
    if (!f) continue; /* listed but not shipped here */
    fclose(f);
    size_t len;
    char *xml = th_slurp(path, &len);
    vast_doc *doc = NULL;
    vast_error err;
    vast_err rc = vast_doc_parse(xml, len, NULL, &doc, &err);
    int vastish = !strcmp(root, "VAST") || !strcmp(root, "VideoAdServingTemplate") ||
                  strstr(root, "VMAP") != NULL;
    fprintf(stderr, "  %s: rc=%d\n", file, rc);
    if (!strcmp(wf, "no")) {
      CHECK_INT(rc, VAST_E_XML);
      CHECK_INT(err.iab_code, 100);
      CHECK(err.line > 0);
    } else if (!vastish) {
      CHECK_INT(rc, VAST_E_NOT_VAST);
      CHECK_INT(err.iab_code, 101);
      CHECK_INT(err.line, 1);
    } else {
      CHECK_INT(rc, VAST_OK);
      counts c = count_doc(doc);
      CHECK_INT(c.ads, strtol(col[7], NULL, 10));
      CHECK_INT(c.impressions, strtol(col[16], NULL, 10));
      CHECK_INT(c.tracking, strtol(col[18], NULL, 10));
      CHECK_INT(c.inline_ads, strtol(col[13], NULL, 10));
      CHECK_INT(c.wrapper_ads, strtol(col[14], NULL, 10));
    }
    vast_doc_free(doc);
    free(xml);
    checked++;
  }
  CHECK(checked >= 40);
  free(tsv);
}

static vast_doc *parse_corpus(const char *rel) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", th_corpus(), rel);
  size_t len;
  char *xml = th_slurp(path, &len);
  vast_doc *doc = NULL;
  vast_error err;
  CHECK_INT(vast_doc_parse(xml, len, NULL, &doc, &err), VAST_OK);
  free(xml);
  return doc;
}

TEST(sample_xml_details) {
  vast_doc *doc = parse_corpus("dailymotion__vast-client-js/spec/samples/sample.xml");
  const vast_vast *v = vast_doc_vast(doc);
  CHECK_STR(v->version, "4.3");
  CHECK_INT(v->version_major, 4);
  CHECK_INT(v->version_minor, 3);
  const vast_ad *a = &v->ads[0];
  CHECK_STR(a->id, "ad_id_0001");
  CHECK_INT(a->sequence, 1);
  CHECK_STR(a->ad_serving_id, "a532d16d-4d7f-4440-bd29-2ec0e693fc80");
  CHECK_STR(a->ad_system, "AdServer");
  CHECK_STR(a->ad_system_version, "2.0");
  CHECK_STR(a->pricing->model, "CPM");
  CHECK_STR(a->pricing->value, "1.09");
  CHECK_STR(a->impressions[0].id, "sample-impression1");
  CHECK_INT(a->n_verifications, 2);
  CHECK_STR(a->verifications[0].js_resources[0].url, "http://example.com/omid1");
  CHECK_INT(a->verifications[0].js_resources[0].browser_optional, 1);
  CHECK_STR(a->verifications[1].parameters, "test-verification-parameter");
  const vast_creative *c = &a->creatives[0];
  CHECK_STR(c->ad_id, "adId345690");
  CHECK_STR(a->creatives[1].ad_id, "adId345691");        /* AdID */
  CHECK_STR(v->ads[1].creatives[0].ad_id, "adId221144"); /* adID */
  CHECK_STR(c->universal_ad_ids[0].id_registry, "daily-motion-L1");
  CHECK_STR(c->universal_ad_ids[0].id_value, "Linear-12345");
  const vast_linear *l = c->linear;
  CHECK_NEAR(l->duration, 90.123, 1e-9);
  CHECK_INT(l->n_tracking, 8);
  CHECK_INT(l->tracking_events_pos.line, 36);
  CHECK_INT(l->media_files_pos.line, 52);
  CHECK_INT(l->tracking[6].event, VAST_EV_PROGRESS);
  CHECK_INT(l->tracking[6].offset.kind, VAST_OFFSET_TIME);
  CHECK_NEAR(l->tracking[6].offset.value, 30, 1e-9);
  CHECK_INT(l->tracking[7].offset.kind, VAST_OFFSET_PERCENT);
  CHECK_NEAR(l->tracking[7].offset.value, 60, 1e-9);
  CHECK_INT(l->tracking[4].event, VAST_EV_CLOSE); /* kept as written */
  CHECK_INT(l->n_click_tracking, 2);
  CHECK_STR(l->click_through_id, "click-through");
  CHECK_INT(l->n_custom_clicks, 1);
  CHECK_INT(l->n_media_files, 2);
  CHECK_INT(l->media_files[0].bitrate, 849);
  CHECK_INT(l->media_files[0].scalable, 1);
  CHECK_STR(l->media_files[1].api_framework, "VPAID");
  CHECK_INT(l->n_mezzanines, 1);
  CHECK_STR(l->mezzanines[0].codec, "h264");
  CHECK_INT(l->n_icons, 1);
  CHECK_INT(l->icons[0].n_click_tracking, 2);
  CHECK_INT(l->icons[0].n_view_tracking, 1);
  CHECK_NEAR(l->icons[0].offset.value, 15, 1e-9);
  const vast_companion_ads *ca = a->creatives[1].companions;
  CHECK_INT(ca->n_companions, 3);
  CHECK_STR(ca->companions[0].alt_text, "Sample Alt Text Content!!!!");
  CHECK_INT(ca->companions[0].n_click_tracking, 2);
  CHECK_STR(ca->companions[1].click_through, "http://www.example.com/companion2-clickthrough");
  CHECK_INT(ca->companions[2].resources[0].kind, VAST_RES_HTML);
  const vast_nonlinear_ads *na = a->creatives[2].nonlinear;
  CHECK_INT(na->n_nonlinears, 1);
  CHECK_INT(na->nonlinears[0].scalable, 0);
  CHECK_INT(na->nonlinears[0].expanded_width, 600);
  CHECK_STR(na->nonlinears[0].ad_parameters, "{\"key\":\"value\"}");
  CHECK_INT(na->n_tracking, 6);
  CHECK_INT(a->n_extensions, 3);
  CHECK_STR(a->extensions[0].type, "Pricing");
  CHECK(strncmp(a->extensions[0].xml, "<Extension type=\"Pricing\">", 26) == 0);
  CHECK(strstr(a->extensions[0].xml, "</Price>") != NULL);
  CHECK(strcmp(a->extensions[0].xml + strlen(a->extensions[0].xml) - 12, "</Extension>") == 0);
  CHECK_INT(v->ads[1].creatives[0].linear->skipoffset.kind, VAST_OFFSET_TIME);
  CHECK_NEAR(v->ads[1].creatives[0].linear->skipoffset.value, 10, 1e-9);
  vast_doc_free(doc);
}

TEST(wrapper_attributes_any_boolean_spelling) {
  vast_doc *doc =
      parse_corpus("dailymotion__vast-client-js/spec/samples/wrapper-attributes-multiple-ads.xml");
  const vast_vast *v = vast_doc_vast(doc);
  CHECK_INT(v->n_ads, 4);
  CHECK_INT(v->ads[0].allow_multiple_ads, 0); /* defaults */
  CHECK_INT(v->ads[0].follow_additional_wrappers, 1);
  CHECK_INT(v->ads[1].allow_multiple_ads, 0);
  CHECK_INT(v->ads[1].follow_additional_wrappers, 0);
  CHECK_INT(v->ads[2].allow_multiple_ads, 1);         /* "1" */
  CHECK_INT(v->ads[2].follow_additional_wrappers, 1); /* "True" */
  CHECK_INT(v->ads[3].allow_multiple_ads, 1);
  CHECK_INT(v->ads[3].follow_additional_wrappers, 0);
  CHECK_STR(v->ads[0].vast_ad_tag_uri, "sample.xml");
  vast_doc_free(doc);
}

TEST(vast1_and_legacy_wrapper) {
  vast_doc *doc = parse_corpus("dailymotion__vast-client-js/spec/samples/outdated-vast.xml");
  CHECK_INT(vast_doc_kind_of(doc), VAST_DOC_VAST1);
  const vast_ad *a = &vast_doc_vast(doc)->ads[0];
  CHECK_INT(a->kind, VAST_AD_INLINE);
  CHECK_INT(a->n_creatives, 1);
  CHECK_STR(a->creatives[0].ad_id, "preroll-1");
  CHECK_NEAR(a->creatives[0].linear->duration, 15, 1e-9);
  CHECK_STR(a->creatives[0].linear->media_files[0].url, "http://example.com/ads/mediafile1.flv");
  CHECK_INT(a->creatives[0].linear->media_files[0].bitrate, 496);
  vast_doc_free(doc);
  doc = parse_corpus("dailymotion__vast-client-js/spec/samples/wrapper-legacy.xml");
  a = &vast_doc_vast(doc)->ads[0];
  CHECK_STR(a->vast_ad_tag_uri, "inline-linear.xml");
  CHECK_INT(vast_doc_vast(doc)->n_errors, 1);
  vast_doc_free(doc);
}

TEST(vast1_url_children_and_inline_tracking) {
  vast_doc *doc = parse_ok(
      "<VideoAdServingTemplate><Ad id='x'><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>"
      "<Impression><URL id='a'><![CDATA[ http://a/imp ]]></URL><URL id='b'>http://b/imp</URL>"
      "</Impression><TrackingEvents><Tracking event='start'><URL>http://a/start</URL>"
      "<URL>http://b/start</URL></Tracking></TrackingEvents><Video><Duration>00:00:30</Duration>"
      "<VideoClicks><ClickThrough><URL>http://click</URL></ClickThrough></VideoClicks>"
      "</Video></InLine></Ad></VideoAdServingTemplate>");
  const vast_ad *a = &vast_doc_vast(doc)->ads[0];
  CHECK_INT(a->n_impressions, 2);
  CHECK_STR(a->impressions[0].url, "http://a/imp");
  CHECK_STR(a->impressions[1].url, "http://b/imp");
  CHECK_INT(a->n_creatives, 1);
  CHECK_INT(a->creatives[0].linear->n_tracking, 2);
  CHECK_STR(a->creatives[0].linear->tracking[1].url, "http://b/start");
  CHECK_INT(a->creatives[0].linear->tracking[1].event, VAST_EV_START);
  CHECK_STR(a->creatives[0].linear->click_through, "http://click");
  CHECK_NEAR(a->creatives[0].linear->duration, 30, 1e-9);
  vast_doc_free(doc);
}

TEST(vmap_breaks) {
  vast_doc *doc = parse_corpus("dailymotion__vmap-js/spec/samples/correct-vmap.xml");
  CHECK_INT(vast_doc_kind_of(doc), VAST_DOC_VMAP);
  const vast_vmap *m = vast_doc_vmap(doc);
  CHECK(m->n_breaks >= 3);
  CHECK_INT(m->breaks[0].offset_kind, VAST_BREAK_START);
  CHECK_STR(m->breaks[0].break_id, "mypre");
  CHECK_INT(m->breaks[0].source_kind, VAST_SOURCE_VAST);
  CHECK(m->breaks[0].vast != NULL);
  CHECK_STR(m->breaks[0].vast->version, "3.0");
  CHECK_INT(m->breaks[0].allow_multiple_ads, 1);
  CHECK_INT(m->breaks[0].n_tracking, 4);
  CHECK_INT(m->breaks[0].tracking[0].event, VAST_EV_BREAK_START);
  CHECK_INT(m->breaks[0].tracking[3].event, VAST_EV_ERROR);
  CHECK_INT(m->breaks[1].offset_kind, VAST_BREAK_TIME);
  CHECK_NEAR(m->breaks[1].offset_value, 623.125, 1e-9);
  CHECK_INT(m->breaks[2].offset_kind, VAST_BREAK_END);
  CHECK_INT(m->breaks[2].source_kind, VAST_SOURCE_URI);
  CHECK_STR(m->breaks[2].ad_tag_uri, "http://server.com/vast.xml");
  vast_doc_free(doc);
  doc = parse_ok("<vmap:VMAP xmlns:vmap='http://www.iab.net/videosuite/vmap' version='1.0.1'>"
                 "<vmap:AdBreak timeOffset='50%' breakType='linear' repeatAfter='00:10:00'>"
                 "<vmap:AdSource><vmap:CustomAdData templateType='x'><a>b</a></vmap:CustomAdData>"
                 "</vmap:AdSource></vmap:AdBreak><vmap:AdBreak timeOffset='#2' breakType='linear'/>"
                 "</vmap:VMAP>");
  m = vast_doc_vmap(doc);
  CHECK_INT(m->n_breaks, 2);
  CHECK_INT(m->breaks[0].offset_kind, VAST_BREAK_PERCENT);
  CHECK_NEAR(m->breaks[0].offset_value, 50, 1e-9);
  CHECK_NEAR(m->breaks[0].repeat_after.value, 600, 1e-9);
  CHECK_INT(m->breaks[0].source_kind, VAST_SOURCE_CUSTOM);
  CHECK(strstr(m->breaks[0].custom_data, "<a>b</a>") != NULL);
  CHECK_INT(m->breaks[1].offset_kind, VAST_BREAK_POSITION);
  CHECK_NEAR(m->breaks[1].offset_value, 2, 1e-9);
  vast_doc_free(doc);
}

TEST(vmap_inline_ads) {
  vast_doc *doc = parse_corpus(
      "flipkart-incubator__madman-android/madman/src/test/assets/vmap_with_preroll.xml");
  const vast_vmap *m = vast_doc_vmap(doc);
  CHECK(m != NULL);
  CHECK(m->breaks[0].vast != NULL);
  CHECK_INT(m->breaks[0].vast->n_ads, 1);
  CHECK_INT(m->breaks[0].vast->ads[0].kind, VAST_AD_INLINE);
  vast_doc_free(doc);
}

/* ---- leniency ----------------------------------------------------------------- */

#define INLINE_HEAD                                                                                \
  "<VAST version='4.1'><Ad id='1'><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>"
#define INLINE_TAIL "</InLine></Ad></VAST>"

static const vast_linear *first_linear(vast_doc *doc) {
  return vast_doc_vast(doc)->ads[0].creatives[0].linear;
}

TEST(urls_are_trimmed) {
  vast_doc *doc = parse_ok(INLINE_HEAD "<Impression>\n   <![CDATA[\n\t http://x/i?a=1 \n ]]>\n "
                                       "</Impression><Error>  http://x/e  </Error>" INLINE_TAIL);
  CHECK_STR(vast_doc_vast(doc)->ads[0].impressions[0].url, "http://x/i?a=1");
  CHECK_STR(vast_doc_vast(doc)->ads[0].errors[0].url, "http://x/e");
  vast_doc_free(doc);
}

TEST(durations) {
  static const struct {
    const char *text;
    double want;
  } cases[] = {{"00:00:30", 30},  {"00:01:30.500", 90.5}, {"01:00:00", 3600},        {"", -1},
               {"undefined", -1}, {"00:00:61", -1},       {"  00:00:15.25 ", 15.25}, {"abc", -1}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char xml[1024];
    snprintf(xml, sizeof xml,
             INLINE_HEAD "<Creatives><Creative><Linear><Duration>%s</Duration></Linear></Creative>"
                         "</Creatives>" INLINE_TAIL,
             cases[i].text);
    vast_doc *doc = parse_ok(xml);
    CHECK_NEAR(first_linear(doc)->duration, cases[i].want, 1e-9);
    if (cases[i].want < 0) { /* reported, not fatal */
      size_t n;
      const vast_note *notes = vast_doc_notes(doc, &n);
      CHECK_INT(n, 1);
      CHECK_INT(notes[0].kind, VAST_NOTE_BAD_DURATION);
      CHECK_INT(notes[0].iab_code, 202);
      CHECK(strstr(notes[0].path, "/Linear/Duration") != NULL);
    }
    vast_doc_free(doc);
  }
}

TEST(time_and_offset_parsing) {
  CHECK_NEAR(vast_parse_time("00:00:05.5"), 5.5, 1e-9);
  CHECK_NEAR(vast_parse_time("1:02:03"), 3723, 1e-9);
  CHECK_NEAR(vast_parse_time("12"), 12, 1e-9);
  CHECK_NEAR(vast_parse_time("00:10"), 10, 1e-9);
  CHECK_NEAR(vast_parse_time("-1"), -1, 1e-9);
  CHECK_NEAR(vast_parse_time("00:00.5:01"), -1, 1e-9);
  CHECK_NEAR(vast_parse_time(NULL), -1, 1e-9);
  vast_offset o = vast_parse_offset("25%");
  CHECK_INT(o.kind, VAST_OFFSET_PERCENT);
  CHECK_NEAR(o.value, 25, 1e-9);
  CHECK_INT(vast_parse_offset("125%").kind, VAST_OFFSET_INVALID);
  CHECK_INT(vast_parse_offset("%").kind, VAST_OFFSET_INVALID);
  CHECK_INT(vast_parse_offset("00:00:05").kind, VAST_OFFSET_TIME);
  CHECK_INT(vast_parse_offset("soon").kind, VAST_OFFSET_INVALID);
  CHECK_INT(vast_parse_offset(NULL).kind, VAST_OFFSET_NONE);
}

TEST(booleans_and_ad_id_spellings) {
  const char *spell[] = {"adId", "AdID", "adID", "ADID"};
  for (int i = 0; i < 4; i++) {
    char xml[1024];
    snprintf(xml, sizeof xml,
             "<VAST version='3.0'><Ad><Wrapper followAdditionalWrappers='%s' allowMultipleAds='%s' "
             "fallbackOnNoAd='%s'><AdSystem>s</AdSystem><VASTAdTagURI>http://n</VASTAdTagURI>"
             "<Creatives><Creative %s='c%d'/></Creatives></Wrapper></Ad></VAST>",
             i % 2 ? "false" : "0", i % 2 ? "True" : "1", i % 2 ? "TRUE" : "true", spell[i], i);
    vast_doc *doc = parse_ok(xml);
    const vast_ad *a = &vast_doc_vast(doc)->ads[0];
    CHECK_INT(a->follow_additional_wrappers, 0);
    CHECK_INT(a->allow_multiple_ads, 1);
    CHECK_INT(a->fallback_on_no_ad, 1);
    char want[16];
    snprintf(want, sizeof want, "c%d", i);
    CHECK_STR(a->creatives[0].ad_id, want);
    vast_doc_free(doc);
  }
  vast_doc *doc = parse_ok("<VAST version='3.0'><Ad><Wrapper><AdSystem>s</AdSystem>"
                           "<VASTAdTagURI>http://n</VASTAdTagURI></Wrapper></Ad></VAST>");
  const vast_ad *a = &vast_doc_vast(doc)->ads[0];
  CHECK_INT(a->follow_additional_wrappers, 1); /* defaults */
  CHECK_INT(a->allow_multiple_ads, 0);
  CHECK_INT(a->fallback_on_no_ad, 0);
  vast_doc_free(doc);
}

TEST(unknown_elements_and_events_preserved) {
  vast_doc *doc = parse_ok(
      INLINE_HEAD "<Mystery a='1'><Impression>http://not/an/impression</Impression></Mystery>"
                  "<Creatives><Creative><Linear><TrackingEvents>"
                  "<Tracking event='vendorThing'>http://v</Tracking>"
                  "<Tracking event='FirstQuartile'>http://q</Tracking>"
                  "</TrackingEvents></Linear></Creative></Creatives>" INLINE_TAIL);
  const vast_ad *a = &vast_doc_vast(doc)->ads[0];
  CHECK_INT(a->n_impressions, 0);
  const vast_linear *l = first_linear(doc);
  CHECK_INT(l->tracking[0].event, VAST_EV_UNKNOWN);
  CHECK_STR(l->tracking[0].event_name, "vendorThing");
  CHECK_INT(l->tracking[1].event, VAST_EV_FIRST_QUARTILE);
  CHECK_STR(l->tracking[1].event_name, "FirstQuartile");
  size_t n;
  const vast_note *notes = vast_doc_notes(doc, &n);
  CHECK_INT(n, 1);
  CHECK_INT(notes[0].kind, VAST_NOTE_UNKNOWN_ELEMENT);
  CHECK_STR(notes[0].path, "/VAST/Ad/InLine/Mystery");
  CHECK_INT(notes[0].pos.line, 1);
  vast_doc_free(doc);
}

TEST(bom_and_prefixes) {
  const char *xml = "\xEF\xBB\xBF<?xml version='1.0' encoding='UTF-8'?>\n<VAST version='4.2' "
                    "xsi:noNamespaceSchemaLocation='vast.xsd'><Ad><InLine><AdSystem>s</AdSystem>"
                    "<v:AdTitle>t</v:AdTitle></InLine></Ad></VAST>";
  vast_doc *doc = parse_ok(xml);
  CHECK_STR(vast_doc_vast(doc)->ads[0].ad_title, "t");
  vast_doc_free(doc);
}

TEST(versions) {
  vast_error err;
  const char *v5 = "<VAST version='5.0'><Ad/></VAST>";
  CHECK_INT(parse_fail(v5, strlen(v5), NULL, &err), VAST_E_VERSION);
  CHECK_INT(err.iab_code, 102);
  CHECK_INT(err.line, 1);
  vast_doc *doc = parse_ok("<VAST><Ad/></VAST>");
  size_t n;
  vast_doc_notes(doc, &n);
  CHECK_INT(n, 1);
  vast_doc_free(doc);
  doc = parse_ok("<VAST version='2.0.1'/>");
  CHECK_INT(vast_doc_vast(doc)->version_major, 2);
  CHECK_INT(vast_doc_vast(doc)->version_minor, 0);
  vast_doc_free(doc);
}

TEST(not_vast_positions) {
  vast_error err;
  const char *x = "<?xml version='1.0'?>\n\n  <html><body/></html>";
  CHECK_INT(parse_fail(x, strlen(x), NULL, &err), VAST_E_NOT_VAST);
  CHECK_INT(err.iab_code, 101);
  CHECK_INT(err.line, 3);
  CHECK_INT(err.column, 3);
  const char *y = "<VAST version='4.0'>\n<Ad>\n<InLine></Ad></VAST>";
  CHECK_INT(parse_fail(y, strlen(y), NULL, &err), VAST_E_XML);
  CHECK_INT(err.iab_code, 100);
  CHECK_INT(err.line, 3);
  CHECK(strstr(err.message, "mismatched") != NULL);
  CHECK_INT(parse_fail("", 0, NULL, &err), VAST_E_XML);
}

/* ---- hostile input ---------------------------------------------------------- */

TEST(billion_laughs_refused) {
  const char *x =
      "<?xml version='1.0'?><!DOCTYPE VAST [<!ENTITY a 'aaaaaaaaaa'>"
      "<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'><!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;'>"
      "<!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>]><VAST version='4.0'><Error>&d;&d;"
      "&d;&d;</Error></VAST>";
  vast_error err;
  CHECK_INT(parse_fail(x, strlen(x), NULL, &err), VAST_E_ENTITY);
  CHECK_INT(err.iab_code, 100);
}

TEST(external_entity_never_loaded) {
  char path[] = "/tmp/vastrack-secretXXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK(write(fd, "TOPSECRET", 9) == 9);
  close(fd);
  char x[1024];
  snprintf(x, sizeof x,
           "<?xml version='1.0'?><!DOCTYPE VAST [<!ENTITY x SYSTEM 'file://%s'>]>"
           "<VAST version='4.0'><Error>&x;</Error></VAST>",
           path);
  vast_error err;
  vast_doc *doc = NULL;
  vast_err rc = vast_doc_parse(x, strlen(x), NULL, &doc, &err);
  CHECK(rc != VAST_OK);
  CHECK(doc == NULL);
  CHECK(strstr(err.message, "TOPSECRET") == NULL);
  /* A DOCTYPE pointing at an external DTD is not fetched either. */
  snprintf(x, sizeof x, "<!DOCTYPE VAST SYSTEM 'file://%s'><VAST version='4.0'/>", path);
  rc = vast_doc_parse(x, strlen(x), NULL, &doc, &err);
  CHECK_INT(rc, VAST_OK);
  vast_doc_free(doc);
  unlink(path);
}

TEST(deep_nesting_bounded) {
  size_t depth = 10000, len = 0;
  char *x = malloc(depth * 8 + 64);
  len += (size_t)sprintf(x, "<VAST version='4.0'>");
  for (size_t i = 0; i < depth; i++)
    len += (size_t)sprintf(x + len, "<a>");
  for (size_t i = 0; i < depth; i++)
    len += (size_t)sprintf(x + len, "</a>");
  len += (size_t)sprintf(x + len, "</VAST>");
  vast_error err;
  CHECK_INT(parse_fail(x, len, NULL, &err), VAST_E_LIMIT);
  CHECK_INT(err.iab_code, 100);
  CHECK(err.line == 1);
  free(x);
}

TEST(huge_document_refused_before_parsing) {
  size_t len = 100u << 20;
  char *x = malloc(len);
  CHECK(x != NULL);
  memset(x, ' ', len);
  memcpy(x, "<VAST version='4.0'>", 20);
  vast_error err;
  CHECK_INT(parse_fail(x, len, NULL, &err), VAST_E_LIMIT);
  CHECK(strstr(err.message, "limit") != NULL);
  free(x);
}

TEST(element_count_and_url_limits) {
  vast_limits lim;
  vast_limits_init(&lim);
  lim.max_elements = 10;
  const char *x = INLINE_HEAD "<Impression>a</Impression><Impression>b</Impression><Impression>c"
                              "</Impression><Impression>d</Impression><Impression>e</Impression>"
                              "<Impression>f</Impression>" INLINE_TAIL;
  vast_error err;
  CHECK_INT(parse_fail(x, strlen(x), &lim, &err), VAST_E_LIMIT);
  vast_limits_init(&lim);
  lim.max_url_len = 10;
  const char *y = INLINE_HEAD "<Impression>http://example.com/long</Impression>" INLINE_TAIL;
  CHECK_INT(parse_fail(y, strlen(y), &lim, &err), VAST_E_LIMIT);
  lim.max_url_len = 100;
  vast_doc *doc;
  CHECK_INT(vast_doc_parse(y, strlen(y), &lim, &doc, &err), VAST_OK);
  vast_doc_free(doc);
}

/* Every proper prefix of a tag is rejected cleanly, never crashes. */
TEST(truncated_at_every_byte) {
  char path[4096];
  snprintf(path, sizeof path, "%s/dailymotion__vast-client-js/spec/samples/inline-linear.xml",
           th_corpus());
  size_t len;
  char *xml = th_slurp(path, &len);
  while (len && (xml[len - 1] == '\n' || xml[len - 1] == ' '))
    len--;
  for (size_t cut = 0; cut < len; cut++) {
    char *copy = malloc(cut ? cut : 1); /* exact-size copy: ASan sees any over-read */
    memcpy(copy, xml, cut);
    vast_doc *doc = NULL;
    vast_error err;
    vast_err rc = vast_doc_parse(copy, cut, NULL, &doc, &err);
    CHECK(rc == VAST_E_XML);
    CHECK(doc == NULL);
    CHECK_INT(err.iab_code, 100);
    free(copy);
  }
  vast_doc *doc;
  CHECK_INT(vast_doc_parse(xml, len, NULL, &doc, NULL), VAST_OK);
  vast_doc_free(doc);
  free(xml);
}

/* ---- JSON ------------------------------------------------------------------- */

typedef struct sbuf {
  char *p;
  size_t n, cap;
} sbuf;

static int sbuf_write(void *ctx, const char *d, size_t n) {
  sbuf *b = ctx;
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
  }
  memcpy(b->p + b->n, d, n);
  b->n += n;
  b->p[b->n] = 0;
  return 0;
}

TEST(json_output_is_valid_for_whole_corpus) {
  const char *files[] = {
      "dailymotion__vast-client-js/spec/samples/sample.xml",
      "dailymotion__vast-client-js/spec/samples/wrapper-a.xml",
      "dailymotion__vmap-js/spec/samples/correct-vmap-with-extension.xml",
      "rs__vast/testdata/liverail-vast2-linear-companion.xml",
      "rs__vast/testdata/vast_adaptv_attempt_attr.xml",
      "flipkart-incubator__madman-android/madman/src/test/assets/vmap_with_preroll.xml"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    vast_doc *doc = parse_corpus(files[i]);
    sbuf b = {0};
    CHECK_INT(vast_doc_write_json(doc, sbuf_write, &b), VAST_OK);
    CHECK(th_json_valid(b.p));
    CHECK(strstr(b.p, "\"version\":") != NULL);
    sbuf t = {0};
    CHECK_INT(vast_doc_write_tree(doc, sbuf_write, &t), VAST_OK);
    CHECK(t.n > 0);
    free(t.p);
    free(b.p);
    vast_doc_free(doc);
  }
  /* escaping */
  vast_doc *doc =
      parse_ok(INLINE_HEAD "<Impression><![CDATA[http://x/\"q\"\\\tz]]></Impression>" INLINE_TAIL);
  sbuf b = {0};
  CHECK_INT(vast_doc_write_json(doc, sbuf_write, &b), VAST_OK);
  CHECK(th_json_valid(b.p));
  CHECK(strstr(b.p, "http://x/\\\"q\\\"\\\\\\tz") != NULL);
  free(b.p);
  vast_doc_free(doc);
}

TEST(events_table) {
  CHECK_STR(vast_event_name(VAST_EV_FIRST_QUARTILE), "firstQuartile");
  CHECK_INT(vast_event_from_name("thirdQuartile"), VAST_EV_THIRD_QUARTILE);
  CHECK_INT(vast_event_from_name("MUTE"), VAST_EV_MUTE);
  CHECK_INT(vast_event_from_name("nope"), VAST_EV_UNKNOWN);
  for (int i = 1; i < VAST_EV__COUNT; i++)
    CHECK_INT(vast_event_from_name(vast_event_name((vast_event)i)), i);
  CHECK_STR(vast_strerror(VAST_E_XML), "document is not well-formed XML");
  CHECK_STR(vast_errname(VAST_E_LIMIT), "VAST_E_LIMIT");
}

/* Parsing is reentrant: threads with their own spare parsers and arena blocks
 * (freed at thread exit, which LeakSanitizer checks) agree with one another. */
static void *parse_many(void *arg) {
  const char *xml = arg;
  size_t total = 0;
  for (int i = 0; i < 200; i++) {
    vast_doc *doc;
    if (vast_doc_parse(xml, strlen(xml), NULL, &doc, NULL) != VAST_OK) return NULL;
    total += vast_doc_vast(doc)->ads[0].creatives[0].linear->n_tracking;
    vast_doc_free(doc);
  }
  return (void *)total;
}

/* VAST 3 carries OMID in <Extension type="AdVerifications">: the model holds it
 * like the VAST 4 element (the tracker and validator see it), the raw XML kept. */
TEST(vast3_ad_verifications_extension) {
  static const char xml[] =
      "<VAST version=\"3.0\"><Ad id=\"a\"><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>"
      "<Impression>http://i/</Impression><Creatives/>"
      "<Extensions><Extension type=\"other\"><AdVerifications><Verification vendor=\"no\"/>"
      "</AdVerifications></Extension>"
      "<Extension type=\"AdVerifications\"><Vendor>x</Vendor><AdVerifications>"
      "<Verification vendor=\"iabtechlab.com-omid\">"
      "<JavaScriptResource apiFramework=\"omid\" browserOptional=\"true\">"
      "<![CDATA[https://v.example/omid.js]]></JavaScriptResource>"
      "<VerificationParameters><![CDATA[p=1]]></VerificationParameters>"
      "<TrackingEvents><Tracking event=\"verificationNotExecuted\">"
      "<![CDATA[https://v.example/vne?r=[REASON]]]></Tracking></TrackingEvents>"
      "</Verification></AdVerifications></Extension>"
      "<Extension type=\"AdVerifications\"/>"
      "</Extensions></InLine></Ad></VAST>";
  vast_doc *doc = NULL;
  CHECK_INT(vast_doc_parse(xml, strlen(xml), NULL, &doc, NULL), VAST_OK);
  const vast_ad *a = &vast_doc_vast(doc)->ads[0];
  CHECK_INT(a->n_verifications, 1);
  CHECK_STR(a->verifications[0].vendor, "iabtechlab.com-omid");
  CHECK_INT(a->verifications[0].n_js_resources, 1);
  CHECK_STR(a->verifications[0].js_resources[0].url, "https://v.example/omid.js");
  CHECK_STR(a->verifications[0].js_resources[0].api_framework, "omid");
  CHECK_STR(a->verifications[0].parameters, "p=1");
  CHECK_INT(a->verifications[0].n_tracking, 1);
  CHECK_STR(a->verifications[0].tracking[0].url, "https://v.example/vne?r=[REASON]");
  CHECK_INT(a->n_extensions, 3);
  CHECK_STR(a->extensions[1].type, "AdVerifications");
  CHECK(strncmp(a->extensions[1].xml, "<Extension type=\"AdVerifications\"><Vendor>", 42) == 0);
  CHECK(strcmp(a->extensions[1].xml + strlen(a->extensions[1].xml) - 12, "</Extension>") == 0);
  CHECK_STR(a->extensions[2].xml, "<Extension type=\"AdVerifications\"/>");
  size_t n_notes = 9;
  vast_doc_notes(doc, &n_notes);
  CHECK_INT(n_notes, 0); /* the Extension's own <Vendor> is no misplaced element */
  vast_doc_free(doc);
}

TEST(threads_parse_independently) {
  char path[4096];
  snprintf(path, sizeof path, "%s/dailymotion__vast-client-js/spec/samples/sample.xml",
           th_corpus());
  char *xml = th_slurp(path, NULL);
  pthread_t th[4];
  for (int i = 0; i < 4; i++)
    CHECK(pthread_create(&th[i], NULL, parse_many, xml) == 0);
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(th[i], &r);
    CHECK_INT((size_t)r, 200 * 8);
  }
  free(xml);
}

static const th_case cases[] = {
    TH(corpus_matches_manifest),
    TH(sample_xml_details),
    TH(wrapper_attributes_any_boolean_spelling),
    TH(vast1_and_legacy_wrapper),
    TH(vast1_url_children_and_inline_tracking),
    TH(vmap_breaks),
    TH(vmap_inline_ads),
    TH(urls_are_trimmed),
    TH(durations),
    TH(time_and_offset_parsing),
    TH(booleans_and_ad_id_spellings),
    TH(unknown_elements_and_events_preserved),
    TH(bom_and_prefixes),
    TH(versions),
    TH(not_vast_positions),
    TH(billion_laughs_refused),
    TH(external_entity_never_loaded),
    TH(deep_nesting_bounded),
    TH(huge_document_refused_before_parsing),
    TH(element_count_and_url_limits),
    TH(truncated_at_every_byte),
    TH(json_output_is_valid_for_whole_corpus),
    TH(events_table),
    TH(vast3_ad_verifications_extension),
    TH(threads_parse_independently),
    {0},
};

int main(int argc, char **argv) {
  return th_main(__FILE__, cases, argc, argv);
}
