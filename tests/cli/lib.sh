# Helpers for shell tests: each check prints "ok - file: name" or "not ok - ...".
# VASTRACK is the binary under test, VASTRACK_CORPUS the shared corpus.
T=$(basename "$0" .sh)
C=${VASTRACK_CORPUS:-../shared/corpus}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
ok()  { echo "ok - $T: $1"; }
nok() { echo "not ok - $T: $1"; [ -n "${2:-}" ] && echo "#   $2"; FAILS=$((FAILS+1)); }
# expect_rc NAME RC CMD...: runs CMD, checks its exit status
expect_rc() {
  name=$1; want=$2; shift 2
  "$@" > "$TMP/out" 2> "$TMP/err"; got=$?
  if [ "$got" -eq "$want" ]; then ok "$name"; else nok "$name" "exit $got, expected $want: $(head -c 300 "$TMP/err")"; fi
}
# expect_grep NAME PATTERN FILE: FILE contains PATTERN (extended regex)
expect_grep() {
  if grep -Eq -- "$2" "$3"; then ok "$1"; else nok "$1" "'$2' not found in $(head -c 300 "$3")"; fi
}
finish() { exit $FAILS; }
