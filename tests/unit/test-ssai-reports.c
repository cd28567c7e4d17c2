/*
 * test-ssai-reports.c: the in-place reader of report batches
 * (lib/ssai/ssai-reports.c) against jansson, read as the HTTP front reads a
 * body (JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, then the report
 * keys as do_report takes them). Whatever the fast reader accepts, jansson
 * must accept too and mean the same reports; what it declines, jansson then
 * reads or refuses. Checked on hand-written bodies and on 20,000 random
 * mutations of a valid one.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ssai/ssai-int.h"

/* The reference: jansson, then do_report's decisions (lib/ssai/ssai-http.c). */
static int ref_num(const json_t *o, const char *k, double *out) {
  const json_t *v = json_object_get(o, k);
  if (!v || json_is_null(v)) return 0;
  if (!json_is_number(v)) return -1;
  *out = json_number_value(v);
  return 1;
}

static vast_err ref_report(const json_t *o, const char **sid, vast_ssai_consumption *r) {
  double ad = -1, v;
  const json_t *js = json_object_get(o, "sessionId");
  *sid = json_is_string(js) ? json_string_value(js) : NULL;
  vast_ssai_consumption z = {0, 0, 0, -1, 0, 0};
  *r = z;
  if (ref_num(o, "ad", &ad) != 1 || ad < 0 || ad > 1e6 || ad != floor(ad)) return VAST_E_INVAL;
  r->ad = (unsigned)ad;
  if (ref_num(o, "wallTime", &v) == 1) r->wall_time = v;
  int seg = ref_num(o, "segment", &v);
  if (seg == 1) {
    if (v < 0 || v > 1e7 || v != floor(v)) return VAST_E_INVAL;
    r->segment = 1;
    r->index = (unsigned)v;
    if (ref_num(o, "segmentDuration", &r->seg_duration) != 1) return VAST_E_INVAL;
  } else if (seg == 0 && ref_num(o, "mediaTime", &r->media_time) == 1) {
  } else {
    return VAST_E_INVAL;
  }
  return VAST_OK;
}

/* 1 when the fast reader declined, or agrees with jansson; 0 on a disagreement. */
static int agrees(const char *body, size_t n, int *taken) {
  vast__ssai_rep *v = NULL;
  size_t cnt = 0;
  *taken = vast__ssai_reports_read(body, n, &v, &cnt);
  if (!*taken) return 1;
  json_error_t e;
  json_t *o = json_loadb(body, n, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &e);
  int ok = o && json_is_object(o) && json_object_size(o) == 1;
  const json_t *list = ok ? json_object_get(o, "reports") : NULL;
  ok = ok && json_is_array(list) && json_array_size(list) == cnt;
  for (size_t i = 0; ok && i < cnt; i++) {
    const json_t *it = json_array_get(list, i);
    const char *sid;
    vast_ssai_consumption r;
    vast_err rc = ref_report(it, &sid, &r);
    ok = json_is_object(it) && rc == v[i].rc;
    if (ok && rc == VAST_OK) {
      ok = r.ad == v[i].r.ad && r.segment == v[i].r.segment && r.index == v[i].r.index &&
           r.media_time == v[i].r.media_time && r.wall_time == v[i].r.wall_time &&
           r.seg_duration == v[i].r.seg_duration;
      ok = ok && (sid ? v[i].sid && strlen(sid) == v[i].sid_n && !memcmp(sid, v[i].sid, v[i].sid_n)
                      : !v[i].sid);
    }
  }
  if (!ok) fprintf(stderr, "# disagreement on: %.*s\n", (int)n, body);
  json_decref(o);
  free(v);
  return ok;
}

static int taken_str(const char *body) {
  vast__ssai_rep *v = NULL;
  size_t cnt = 0;
  int t = vast__ssai_reports_read(body, strlen(body), &v, &cnt);
  free(v);
  return t;
}

TEST(reads_the_plain_shape) {
  const char *b = " {\"reports\" : [ {\"sessionId\":\"s-1\",\"ad\":0,\"mediaTime\":12.5},\n"
                  "{\"ad\":2,\"segment\":3,\"segmentDuration\":2,\"sessionId\":\"s2\","
                  "\"wallTime\":1700000000.25},{\"sessionId\":\"s3\",\"ad\":1.5,\"mediaTime\":1},"
                  "{\"sessionId\":\"s4\",\"ad\":1,\"mediaTime\":null},{}] } ";
  vast__ssai_rep *v = NULL;
  size_t n = 0;
  CHECK_INT(vast__ssai_reports_read(b, strlen(b), &v, &n), 1);
  CHECK_INT(n, 5);
  CHECK_INT(v[0].rc, VAST_OK);
  CHECK_INT(v[0].sid_n, 3);
  CHECK(!memcmp(v[0].sid, "s-1", 3));
  CHECK(v[0].r.media_time == 12.5 && !v[0].r.segment && v[0].r.wall_time == -1);
  CHECK_INT(v[1].rc, VAST_OK);
  CHECK(v[1].r.segment == 1 && v[1].r.index == 3 && v[1].r.seg_duration == 2);
  CHECK(v[1].r.ad == 2 && v[1].r.wall_time == 1700000000.25);
  CHECK_INT(v[2].rc, VAST_E_INVAL); /* ad 1.5 */
  CHECK_INT(v[3].rc, VAST_E_INVAL); /* mediaTime null */
  CHECK_INT(v[4].rc, VAST_E_INVAL); /* nothing */
  free(v);
  int taken;
  CHECK(agrees(b, strlen(b), &taken) && taken);
  CHECK_INT(taken_str("{\"reports\":[]}"), 1);
}

TEST(declines_what_jansson_must_judge) {
  static const char *const no[] = {
      "{\"reports\":[{\"sessionId\":\"s\\u0031\",\"ad\":0,\"mediaTime\":1}]}", /* an escape */
      "{\"reports\":[{\"sessionId\":\"\xc3\xa9\",\"ad\":0,\"mediaTime\":1}]}", /* past ASCII */
      "{\"reports\":[{\"ad\":0,\"ad\":1,\"mediaTime\":1}]}",                   /* twice */
      "{\"reports\":[{\"ad\":0,\"mediaTime\":1,\"x\":1}]}",                    /* another key */
      "{\"reports\":[{\"ad\":+1,\"mediaTime\":1}]}",
      "{\"reports\":[{\"ad\":01,\"mediaTime\":1}]}",
      "{\"reports\":[{\"ad\":.5,\"mediaTime\":1}]}",
      "{\"reports\":[{\"ad\":1.,\"mediaTime\":1}]}",
      "{\"reports\":[{\"ad\":1e,\"mediaTime\":1}]}",
      "{\"reports\":[{\"ad\":NaN,\"mediaTime\":1}]}",
      "{\"reports\":[{\"ad\":1e999,\"mediaTime\":1}]}",
      "{\"reports\":[{\"ad\":\"0\",\"mediaTime\":1}]}",
      "{\"reports\":[{\"ad\":0,\"mediaTime\":1}],}",
      "{\"reports\":[{\"ad\":0,\"mediaTime\":1},]}",
      "{\"reports\":[{\"ad\":0,\"mediaTime\":1}]} x",
      "{\"reports\":[{\"ad\":0,\"mediaTime\":1}]",
      "{\"reports\":[[1]]}",
      "{\"reports\":{}}",
      "{\"reports\":[],\"reports\":[]}",
      "{\"other\":[]}",
      "[{\"ad\":0}]",
      "",
  };
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
    int t = taken_str(no[i]);
    if (t) fprintf(stderr, "# taken: %s\n", no[i]);
    CHECK_INT(t, 0);
  }
}

TEST(random_mutations_agree_with_jansson) {
  const char *seed = "{\"reports\":[{\"sessionId\":\"a1\",\"ad\":0,\"mediaTime\":12.5,"
                     "\"wallTime\":1700000000.125},{\"sessionId\":\"b2\",\"ad\":3,\"segment\":4,"
                     "\"segmentDuration\":2.002},{\"sessionId\":\"c3\",\"ad\":1,\"mediaTime\":-0,"
                     "\"segment\":null}]}";
  static const char alphabet[] = "{}[]\":,.-+eE0123456789 \\nulaxs\t";
  size_t sl = strlen(seed);
  char buf[512];
  unsigned long rng = 12345;
  int taken_n = 0, ok = 1;
  for (int it = 0; it < 20000 && ok; it++) {
    memcpy(buf, seed, sl);
    size_t n = sl;
    int edits = 1 + (int)(rng % 3);
    for (int k = 0; k < edits; k++) {
      rng = rng * 6364136223846793005ul + 1442695040888963407ul;
      size_t at = (size_t)(rng >> 33) % n;
      char c = alphabet[(rng >> 20) % (sizeof alphabet - 1)];
      switch ((rng >> 10) % 3) {
      case 0:
        buf[at] = c;
        break;
      case 1:
        if (n + 1 < sizeof buf) {
          memmove(buf + at + 1, buf + at, n - at);
          buf[at] = c;
          n++;
        }
        break;
      default:
        memmove(buf + at, buf + at + 1, n - at - 1);
        n--;
      }
    }
    int taken;
    ok = agrees(buf, n, &taken);
    taken_n += taken;
  }
  CHECK(ok);
  fprintf(stderr, "# %d of 20000 mutations read by the fast reader, all as jansson reads them\n",
          taken_n);
  CHECK(taken_n > 100); /* the property was exercised, not only declined */
}

static const th_case cases[] = {
    TH(reads_the_plain_shape),
    TH(declines_what_jansson_must_judge),
    TH(random_mutations_agree_with_jansson),
    {0},
};

int main(int argc, char **argv) {
  return th_main(__FILE__, cases, argc, argv);
}
