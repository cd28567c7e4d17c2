#!/bin/sh
# Runs every test: the unit-test programs in BUILD/tests, then the shell tests in
# tests/cli and tests/e2e (given VASTRACK, the binary under test). Each test
# prints "ok - ..." or "not ok - ..." per case; the last line is the total,
# "N passed, N failed". Exits 1 when anything failed.
BUILD=${1:-build/asan}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
export VASTRACK="${VASTRACK:-$BUILD/vastrack}"
export VASTRACK_CORPUS="${VASTRACK_CORPUS:-$PWD/../shared/corpus}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
dir=$(mktemp -d)
log=$dir/tests.log
: > "$log"
run() {
  name=$1; shift
  "$@" > "$dir/out" 2>&1; rc=$?
  grep -E '^(ok|not ok|# .*SKIPPED)' "$dir/out" | tee -a "$log"
  if grep -q '^not ok' "$dir/out"; then
    grep -v '^ok' "$dir/out" | head -60 | sed 's/^/    /'
  elif [ $rc -ne 0 ]; then
    echo "not ok - $name: exited $rc" | tee -a "$log"
    tail -30 "$dir/out" | sed 's/^/    /'
  fi
}
for t in "$BUILD"/tests/test-*; do
  [ -x "$t" ] || continue
  run "$(basename "$t")" "$t"
done
for t in tests/cli/*.sh tests/e2e/*.sh; do
  [ -f "$t" ] || continue
  run "$(basename "$t")" sh "$t"
done
pass=$(grep -c '^ok' "$log")
fail=$(grep -c '^not ok' "$log")
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
