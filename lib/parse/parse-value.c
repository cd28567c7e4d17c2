/*
 * parse-value.c: the value parsers of vastrack/doc.h (clock times and
 * offsets), the accessors of a parsed document, and the event names.
 */
#include <string.h>
#include <strings.h>
#include <stdlib.h>

#include "parse/parse-int.h"
#include "vastrack/doc.h"

/* ---- value parsers --------------------------------------------------------- */

double vast_parse_time(const char *s) {
  if (!s) return -1;
  while (is_space(*s))
    s++;
  double parts[3];
  int n = 0;
  const char *q = s;
  for (;;) {
    char *end;
    if (*q < '0' || *q > '9') return -1;
    double v = strtod(q, &end);
    if (end == q || n == 3) return -1;
    parts[n++] = v;
    q = end;
    if (*q == ':') {
      if (memchr(s, '.', (size_t)(q - s))) return -1; /* fraction only in the last field */
      q++;
      continue;
    }
    break;
  }
  while (is_space(*q))
    q++;
  if (*q) return -1;
  if (n == 1) return parts[0];
  if (n == 2) return parts[1] >= 60 ? -1 : parts[0] * 60 + parts[1];
  if (parts[1] >= 60 || parts[2] >= 60) return -1;
  return parts[0] * 3600 + parts[1] * 60 + parts[2];
}

vast_offset vast_parse_offset(const char *s) {
  vast_offset o = {VAST_OFFSET_NONE, 0, s};
  if (!s) return o;
  const char *t = s;
  while (is_space(*t))
    t++;
  size_t n = strlen(t);
  while (n && is_space(t[n - 1]))
    n--;
  if (n > 1 && t[n - 1] == '%') {
    char *end;
    double v = strtod(t, &end);
    if (end == t + n - 1 && v >= 0 && v <= 100 && *t >= '0' && *t <= '9') {
      o.kind = VAST_OFFSET_PERCENT;
      o.value = v;
      return o;
    }
    o.kind = VAST_OFFSET_INVALID;
    return o;
  }
  double v = vast_parse_time(t);
  if (v >= 0 && n > 0) {
    o.kind = VAST_OFFSET_TIME;
    o.value = v;
  } else {
    o.kind = VAST_OFFSET_INVALID;
  }
  return o;
}

/* ---- accessors ------------------------------------------------------------ */

vast_doc_kind vast_doc_kind_of(const vast_doc *doc) {
  return doc->kind;
}
const vast_vast *vast_doc_vast(const vast_doc *doc) {
  return doc->vast;
}
const vast_vmap *vast_doc_vmap(const vast_doc *doc) {
  return doc->vmap;
}

const vast_note *vast_doc_notes(const vast_doc *doc, size_t *n) {
  *n = doc->n_notes;
  return doc->notes;
}

const char *vast_doc_source(const vast_doc *doc, size_t *len) {
  if (len) *len = doc->source_len;
  return doc->source;
}

size_t vast_doc_memory(const vast_doc *doc) {
  return doc->arena.used + sizeof *doc;
}

/* ---- events --------------------------------------------------------------- */

static const char *const event_names[VAST_EV__COUNT] = {
#define X(name, str) [VAST_EV_##name] = str,
    VAST_EVENT_MAP(X)
#undef X
};

const char *vast_event_name(vast_event ev) {
  return (unsigned)ev < VAST_EV__COUNT ? event_names[ev] : "";
}

vast_event vast_event_from_name(const char *name) {
  if (!name) return VAST_EV_UNKNOWN;
  for (int i = 1; i < VAST_EV__COUNT; i++)
    if (!strcmp(name, event_names[i])) return (vast_event)i;
  for (int i = 1; i < VAST_EV__COUNT; i++)
    if (!strcasecmp(name, event_names[i])) return (vast_event)i;
  return VAST_EV_UNKNOWN;
}
