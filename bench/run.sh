#!/bin/sh
# Runs every benchmark: each build/bench/bench-* program, then each bench/bench-*.sh
# script (given the build directory). Each prints one JSON line per measurement.
B=${1:-build}
export VASTRACK="${VASTRACK:-$PWD/$B/vastrack}"
export VASTRACK_CORPUS="${VASTRACK_CORPUS:-$PWD/../shared/corpus}"
rc=0
for b in "$B"/bench/bench-*; do
  [ -x "$b" ] || continue
  "$b" || { echo "{\"bench\":\"$(basename "$b")\",\"error\":\"exit $?\"}"; rc=1; }
done
for s in bench/bench-*.sh; do
  [ -f "$s" ] || continue
  sh "$s" "$B" || { echo "{\"bench\":\"$(basename "$s")\",\"error\":\"exit $?\"}"; rc=1; }
done
exit $rc
