/*
 * wire.c: the collector's wire contract of wire.h: event names, query fields
 * and the operator's map, the funnel, and reading a beacon URL back.
 */
#include "collect/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/url.h"

const char *const vast__wire_field_names[VAST__WIRE_NFIELDS] = {"ad", "cr", "sid", "code", "r"};

const char *const vast__wire_funnel[VAST__WIRE_COLUMNS_N] = {
    "impression",    "start",    "firstQuartile", "midpoint",
    "thirdQuartile", "complete", "error",         "other"};

int vast__wire_event_ok(const char *e, size_t n) {
  if (n == 0 || n > VAST__WIRE_EVENT_MAX) return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = e[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '-' || ch == '.'))
      return 0;
  }
  return 1;
}

int vast__wire_map_parse(const char *map, vast__wire_map *out) {
  memset(out, 0, sizeof *out);
  if (!map) return 0;
  char *copy = strdup(map), *save = NULL;
  if (!copy) return -1;
  for (char *p = copy, *tok; (tok = strtok_r(p, ",", &save)); p = NULL) {
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok || out->n == sizeof out->m / sizeof out->m[0] ||
        (size_t)(eq - tok) >= sizeof out->m[0].name)
      goto bad;
    *eq = 0;
    int f = VAST__WIRE_NFIELDS;
    for (int i = 0; i < VAST__WIRE_NFIELDS; i++)
      if (!strcmp(eq + 1, vast__wire_field_names[i])) f = i;
    if (f == VAST__WIRE_NFIELDS) goto bad;
    snprintf(out->m[out->n].name, sizeof out->m[0].name, "%s", tok);
    out->m[out->n++].field = f;
  }
  free(copy);
  return 0;
bad:
  free(copy);
  memset(out, 0, sizeof *out);
  return -1;
}

int vast__wire_field_of(const vast__wire_map *map, const char *key, size_t n) {
  for (unsigned i = 0; map && i < map->n; i++)
    if (strlen(map->m[i].name) == n && memcmp(map->m[i].name, key, n) == 0) return map->m[i].field;
  for (int f = 0; f < VAST__WIRE_NFIELDS; f++)
    if (strlen(vast__wire_field_names[f]) == n && memcmp(vast__wire_field_names[f], key, n) == 0)
      return f;
  return VAST__WIRE_NFIELDS;
}

int vast__wire_funnel_step(const char *event) {
  for (int i = 0; i < VAST__WIRE_FUNNEL_N; i++)
    if (!strcmp(event, vast__wire_funnel[i])) return i;
  return -1;
}

int vast__wire_parse_url(const vast__wire_map *map, const char *url, char *ev, size_t evcap,
                         char *ad, size_t adcap) {
  const char *s = strstr(url, "://");
  s = s ? strchr(s + 3, '/') : (url[0] == '/' ? url : NULL);
  if (!s) return -1;
  size_t plen = strcspn(s, "?#");
  const size_t pre = sizeof VAST__WIRE_PREFIX - 1;
  const char *t = NULL;
  for (const char *p = s; p + pre <= s + plen; p++)
    if (!memcmp(p, VAST__WIRE_PREFIX, pre)) t = p; /* the last /t/ in the path */
  if (!t || t + pre >= s + plen) return -1;
  const char *e0 = t + pre;
  if (memchr(e0, '/', (size_t)(s + plen - e0))) return -1;
  if (vast__url_decode(e0, (size_t)(s + plen - e0), ev, evcap) <= 0) return -1;
  if (s[plen] != '?') return -1;
  const char *q = s + plen + 1;
  size_t qlen = strcspn(q, "#");
  while (qlen) {
    size_t pl = strcspn(q, "&");
    if (pl > qlen) pl = qlen;
    const char *eq = memchr(q, '=', pl);
    if (eq && vast__wire_field_of(map, q, (size_t)(eq - q)) == VAST__WIRE_AD) {
      size_t vl = pl - (size_t)(eq - q) - 1;
      return vast__url_decode(eq + 1, vl, ad, adcap) < 0 ? -1 : 0;
    }
    if (pl == qlen) break;
    q += pl + 1;
    qlen -= pl + 1;
  }
  return -1;
}
