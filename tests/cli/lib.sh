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
# start_nginx DIR BASEPORT: runs nginx on DIR/conf.in with PORT replaced, on the first
# free port from BASEPORT (ten tries; nginx refuses a taken port); sets NGPID and port.
# When nginx cannot start, reports "nginx started" as failed and ends the script.
start_nginx() {
  port=$2
  for try in 1 2 3 4 5 6 7 8 9 10; do
    sed "s/PORT/$port/" "$1/conf.in" > "$1/nginx.conf"
    nginx -p "$1" -c "$1/nginx.conf" 2> "$1/start.err" &
    NGPID=$!
    up=0
    for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
      [ -s "$1/nginx.pid" ] && { up=1; break; }
      kill -0 $NGPID 2>/dev/null || break
      sleep 0.1
    done
    [ $up = 1 ] && return 0
    NGPID=
    port=$((port + 1))
  done
  nok "nginx started" "$(cat "$1/start.err" "$1/error.log" 2>/dev/null | head -5)"
  finish
}
