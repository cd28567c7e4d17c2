/*
 * wire.h: the collector's wire contract (internal), in one place for every
 * side of it: the server that counts beacons (route.c), the report that
 * reads fired URLs back (report.c), the test ad server that writes beacon
 * URLs (certify), and the dashboard and inspector (web). docs/collector.md
 * is its prose.
 *
 *   GET /t/EVENT?ad=AD&cr=CR&sid=SID&code=CODE&r=204
 *
 * EVENT is 1..47 characters of [A-Za-z0-9_.-]; the parameters are the fields
 * below, under their canonical names or the operator's --map names; the
 * funnel is the six steps every report and dashboard shows per ad.
 */
#ifndef VAST_LIB_COLLECT_WIRE_H
#define VAST_LIB_COLLECT_WIRE_H

#include <stddef.h>

/* A beacon's path is this prefix and the event name. */
#define VAST__WIRE_PREFIX "/t/"
#define VAST__WIRE_EVENT_MAX 47

/* 1 when e[0..n) is a valid event name of a beacon path. */
int vast__wire_event_ok(const char *e, size_t n);

/* The query fields the collector keeps, in this order. */
typedef enum vast__wire_field {
  VAST__WIRE_AD,   /* "ad": ad id */
  VAST__WIRE_CR,   /* "cr": creative id */
  VAST__WIRE_SID,  /* "sid": session / impression id */
  VAST__WIRE_CODE, /* "code": error code of an error beacon */
  VAST__WIRE_R,    /* "r": r=204 answers 204 instead of the GIF */
  VAST__WIRE_NFIELDS
} vast__wire_field;

extern const char *const vast__wire_field_names[VAST__WIRE_NFIELDS];

/* The operator's names for fields (--map NAME=FIELD,...), at most 16. */
typedef struct vast__wire_map {
  struct {
    char name[32];
    int field; /* vast__wire_field */
  } m[16];
  unsigned n;
} vast__wire_map;

/* Parses NAME=FIELD,... (NULL or "" is the empty map) into *out; -1 when it
   is not one (out is then the empty map). */
int vast__wire_map_parse(const char *map, vast__wire_map *out);
/* The field of query name key[0..n): the map first (may be NULL), then the
   canonical names; VAST__WIRE_NFIELDS when none. */
int vast__wire_field_of(const vast__wire_map *map, const char *key, size_t n);
/* What --map must look like, for error messages. */
#define VAST__WIRE_MAP_SYNTAX "NAME=FIELD,... with FIELD ad, cr, sid, code or r"

/* The funnel, in order: impression, start, the quartiles, complete (the first
   VAST__WIRE_FUNNEL_N names); then the two other columns the dashboard counts per
   ad (/api/stats): error beacons, and every other event. */
#define VAST__WIRE_FUNNEL_N 6
#define VAST__WIRE_COLUMNS_N 8
extern const char *const vast__wire_funnel[VAST__WIRE_COLUMNS_N];
/* The step of an event name, -1 when it is not a funnel step. */
int vast__wire_funnel_step(const char *event);

/*
 * Reads a beacon URL as the collector would count it (absolute, or a path
 * starting with '/'; the last /t/ of the path is taken, so a collector behind
 * a path prefix works): the percent-decoded event into ev, the decoded value
 * of the ad field (by map) into ad. Returns 0, or -1 when url is not a beacon
 * URL with an ad (or a value does not fit).
 */
int vast__wire_parse_url(const vast__wire_map *map, const char *url, char *ev, size_t evcap,
                         char *ad, size_t adcap);

#endif
