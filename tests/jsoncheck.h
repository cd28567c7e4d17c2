/*
 * jsoncheck.h: a strict JSON syntax checker for tests (RFC 8259 grammar, no
 * semantics), so JSON output is proven well-formed without jq or python.
 */
#ifndef VASTRACK_TEST_JSONCHECK_H
#define VASTRACK_TEST_JSONCHECK_H

#include <string.h>

static inline const char *js_ws(const char *s) {
  while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
    s++;
  return s;
}
static inline const char *js_value(const char *s, int depth);
static inline const char *js_string(const char *s) {
  if (*s++ != '"') return NULL;
  while (*s && *s != '"') {
    if ((unsigned char)*s < 0x20) return NULL;
    if (*s == '\\') {
      s++;
      if (*s == 'u') {
        for (int i = 1; i <= 4; i++)
          if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i]) return NULL;
        s += 4;
      } else if (!strchr("\"\\/bfnrt", *s) || !*s) {
        return NULL;
      }
    }
    s++;
  }
  return *s == '"' ? s + 1 : NULL;
}
static inline const char *js_value(const char *s, int depth) {
  if (depth > 64) return NULL;
  s = js_ws(s);
  if (*s == '{' || *s == '[') {
    char close = *s == '{' ? '}' : ']';
    int obj = *s == '{';
    s = js_ws(s + 1);
    if (*s == close) return s + 1;
    for (;;) {
      if (obj) {
        s = js_string(js_ws(s));
        if (!s) return NULL;
        s = js_ws(s);
        if (*s++ != ':') return NULL;
      }
      s = js_value(s, depth + 1);
      if (!s) return NULL;
      s = js_ws(s);
      if (*s == ',') {
        s++;
        continue;
      }
      return *s == close ? s + 1 : NULL;
    }
  }
  if (*s == '"') return js_string(s);
  if (!strncmp(s, "true", 4)) return s + 4;
  if (!strncmp(s, "false", 5)) return s + 5;
  if (!strncmp(s, "null", 4)) return s + 4;
  const char *st = s;
  if (*s == '-') s++;
  if (!(*s >= '0' && *s <= '9')) return NULL;
  while ((*s >= '0' && *s <= '9') || *s == '.' || *s == 'e' || *s == 'E' || *s == '+' ||
         (*s == '-' && s != st))
    s++;
  return s;
}
static inline int th_json_valid(const char *s) {
  const char *e = js_value(s, 0);
  return e && *js_ws(e) == 0;
}

#endif
