#!/bin/sh
# bench-tap.sh BUILD: what the beacon tap costs the collector. One
# `vastrack serve --ack durable` (SQLite in a temp dir); wrk (2 threads, 64
# connections, BENCH_SECONDS each) alternates BENCH_ROUNDS times between a
# plain tracking hit (GET /t/start?...) and a tapped hit (GET /r/<session>/
# start?...&u=<original URL>: stored the same way, answered 302 to the
# original), so the noise of the shared machine hits both alike. Prints one
# JSON line: req/s and the server's CPU time per request (utime + stime from
# /proc over the requests wrk completed), medians of the rounds, and the ratio
# tapped / plain (the issue's bound: at most 1.5).
B=${1:-build}
V=${VASTRACK:-$PWD/$B/vastrack}
DUR=${BENCH_SECONDS:-3}
ROUNDS=${BENCH_ROUNDS:-3}
W=${BENCH_WORKERS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
T=$(mktemp -d)
SPID=""
cleanup() {
  [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "{\"bench\":\"tap\",\"error\":\"$1\"}"; exit 1; }
command -v wrk > /dev/null || fail "wrk not installed"
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

"$V" serve --listen 127.0.0.1:0 --db "$T/b.db" --ack durable --threads "$W" --quiet \
  > "$T/s.out" 2> "$T/s.err" &
SPID=$!
i=0
while ! grep -q '^listening on ' "$T/s.out" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 200 ] && fail "vastrack serve did not start"; sleep 0.05
done
PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$T/s.out")
BASE="http://127.0.0.1:$PORT"
PLAIN="$BASE/t/start?sid=bench1&ad=a1&cr=a1-c&lv=0&ph=00%3A00%3A00.000&cb=12345678"
TAPPED="$BASE/r/bench1/start?ad=a1&lv=0&d=15000&u=https://ads.example.com/t/start?sid=bench1&ad=a1&cr=a1-c&ph=00%3A00%3A00.000&cb=12345678"
code=$(curl -s -o /dev/null -w '%{http_code}' "$TAPPED")
[ "$code" = 302 ] || fail "tapped hit answered $code, not 302"

# run URL NAME: one wrk round; appends "rps cpu_us_per_request" to T/NAME
run() {
  c0=$(cpu_ticks "$SPID")
  wrk -t2 -c64 -d"${DUR}s" "$1" > "$T/$2.wrk" 2>&1
  c1=$(cpu_ticks "$SPID")
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$T/$2.wrk")
  reqs=$(awk '/requests in/ { print $1 }' "$T/$2.wrk")
  awk -v r="${rps:-0}" -v c=$((c1 - c0)) -v hz="$HZ" -v n="${reqs:-0}" \
    'BEGIN { printf "%s %.3f\n", r, (n > 0 ? c * 1e6 / hz / n : 0) }' >> "$T/$2"
}
median() {
  sort -g -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END {
    if (NR == 0) { print 0; exit } if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
wrk -t2 -c64 -d1s "$PLAIN" > /dev/null 2>&1 # warm-up
r=1
while [ $r -le "$ROUNDS" ]; do
  if [ $((r % 2)) = 1 ]; then run "$PLAIN" plain; run "$TAPPED" tapped
  else run "$TAPPED" tapped; run "$PLAIN" plain; fi
  r=$((r + 1))
done
kill -TERM "$SPID"; wait "$SPID"; SPID=""
prps=$(median "$T/plain" 1); pcpu=$(median "$T/plain" 2)
trps=$(median "$T/tapped" 1); tcpu=$(median "$T/tapped" 2)
awk -v pr="$prps" -v pc="$pcpu" -v tr="$trps" -v tc="$tcpu" -v w="$W" -v rounds="$ROUNDS" \
  'BEGIN { printf "{\"bench\":\"tap\",\"workers\":%d,\"rounds\":%d,\"plainRps\":%.0f,\"tappedRps\":%.0f,\"plainCpuUsPerRequest\":%.2f,\"tappedCpuUsPerRequest\":%.2f,\"cpuRatio\":%.3f,\"rpsRatio\":%.3f,\"bound\":1.5}\n", w, rounds, pr, tr, pc, tc, (pc > 0 ? tc / pc : 0), (pr > 0 ? tr / pr : 0) }'
