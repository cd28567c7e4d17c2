# End to end: `vastrack serve` and `vastrack report` over 127.0.0.1 with curl.
# Exact counts under concurrent keep-alive load, kill -9 under load then
# restart (every answered hit is in the database), oversized requests, SIGTERM
# drain, and the report with a fired log.
. tests/cli/lib.sh
V=${VASTRACK:?}
PIDS=""
cleanup() {
  for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# start_serve DB OUT [ARGS...]: starts the collector on a free port; sets SPID, PORT.
start_serve() {
  db=$1; out=$2; shift 2
  "$V" serve --listen 127.0.0.1:0 --db "$db" --quiet "$@" > "$out" 2> "$out.err" &
  SPID=$!
  PIDS="$PIDS $SPID"
  i=0
  while ! grep -q '^listening on ' "$out" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 400 ] || ! kill -0 "$SPID" 2>/dev/null; then return 1; fi
    sleep 0.05
  done
  PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out")
}

# stop_serve: SIGTERM, wait; returns the exit status.
stop_serve() {
  kill -TERM "$SPID"
  wait "$SPID"
}

expect_rc "serve --help" 0 "$V" serve --help
expect_grep "serve --help documents --ack" "--ack durable\|fast" "$TMP/out"
expect_rc "serve bad option" 2 "$V" serve --bogus
expect_rc "serve bad ack" 2 "$V" serve --ack sometimes
expect_rc "report --help" 0 "$V" report --help
expect_rc "report bad option" 2 "$V" report --bogus
expect_rc "report missing db" 4 "$V" report --db "$TMP/none/x.db"
expect_grep "report missing db message" "^vastrack: cannot open" "$TMP/err"

# ---- exact counts under concurrent load ----
DB=$TMP/a.db
if start_serve "$DB" "$TMP/a.out"; then ok "serve prints its port"; else nok "serve prints its port" "$(cat "$TMP/a.out.err")"; fi
for j in 1 2 3 4; do
  curl -s -w '%{http_code}\n' "http://127.0.0.1:$PORT/t/impression?ad=c$j&sid=[1-250]&r=204" > "$TMP/c$j.log" &
  CPIDS="${CPIDS:-} $!"
done
for p in $CPIDS; do wait "$p"; done
n204=$(cat "$TMP"/c*.log | grep -c '^204$')
[ "$n204" -eq 1000 ] && ok "1000 concurrent hits answered" || nok "1000 concurrent hits answered" "got $n204"
curl -s "http://127.0.0.1:$PORT/stats" > "$TMP/stats.json"
expect_grep "stats counts stored hits" '"stored":1000' "$TMP/stats.json"
curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/metrics.txt"
expect_grep "metrics in Prometheus text" '^vastrack_hits_stored_total 1000$' "$TMP/metrics.txt"
if stop_serve; then ok "SIGTERM exits 0"; else nok "SIGTERM exits 0"; fi
expect_grep "drain logs the totals" "stopped; 1000 hits, 1000 stored" "$TMP/a.out.err"
"$V" report --db "$DB" --csv > "$TMP/a.csv"
bad=0
for j in 1 2 3 4; do grep -q "^c$j,impression,250," "$TMP/a.csv" || bad=1; done
[ $bad -eq 0 ] && ok "report: exact count per ad" || nok "report: exact count per ad" "$(head -c 400 "$TMP/a.csv")"

# ---- a second serve on a port in use fails; the first keeps working ----
# (SO_REUSEPORT would otherwise let it in and split the hits between two databases)
DB=$TMP/p1.db
start_serve "$DB" "$TMP/p1.out" || nok "port test: serve starts"
expect_rc "second serve on the same port exits 4" 4 \
  "$V" serve --listen "127.0.0.1:$PORT" --db "$TMP/p2.db" --quiet
expect_grep "second serve says the address is in use" \
  "^vastrack: cannot start the collector: cannot listen on 127.0.0.1:$PORT: Address already in use" "$TMP/err"
codes=$(for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' "http://127.0.0.1:$PORT/t/impression?ad=p1"; done)
[ "$codes" = "200 200 200 200 200 200 " ] && ok "first serve keeps answering" || nok "first serve keeps answering" "$codes"
stop_serve
"$V" report --db "$DB" --csv > "$TMP/p1.csv"
expect_grep "first serve stored every hit" "^p1,impression,6," "$TMP/p1.csv"
[ ! -e "$TMP/p2.db-journal-0.0" ] && ok "second serve left no journal" || nok "second serve left no journal"

# ---- kill -9 under load, restart: every answered hit is stored ----
DB=$TMP/k.db
start_serve "$DB" "$TMP/k.out" || nok "kill test: serve starts"
CPIDS=""
for j in 1 2 3 4; do
  curl -s -w '%{http_code} %{url_effective}\n' \
    "http://127.0.0.1:$PORT/t/impression?ad=k$j-[1-4000]&r=204" > "$TMP/k$j.log" 2>/dev/null &
  CPIDS="$CPIDS $!"
done
i=0
while [ "$(cat "$TMP"/k?.log | grep -c '^204 ')" -lt 600 ] && [ $i -lt 600 ]; do
  i=$((i + 1)); sleep 0.02
done
kill -9 "$SPID"
wait "$SPID" 2>/dev/null
for p in $CPIDS; do wait "$p"; done
grep -h '^204 ' "$TMP"/k?.log | sed 's/.*[?&]ad=\([^&]*\).*/\1/' | sort -u > "$TMP/answered"
nans=$(wc -l < "$TMP/answered")
# Restart on the same database (WAL recovery), then read it back.
if start_serve "$DB" "$TMP/k2.out"; then ok "restart after kill -9"; else nok "restart after kill -9" "$(cat "$TMP/k2.out.err")"; fi
stop_serve
"$V" report --db "$DB" --csv | awk -F, '$2 == "impression" && $3 > 0 { print $1 }' | sort -u > "$TMP/stored"
missing=$(comm -23 "$TMP/answered" "$TMP/stored" | wc -l)
if [ "$nans" -ge 600 ] && [ "$missing" -eq 0 ]; then
  ok "kill -9: all $nans answered hits stored"
else
  nok "kill -9: all answered hits stored" "answered $nans, missing $missing: $(comm -23 "$TMP/answered" "$TMP/stored" | head -5 | tr '\n' ' ')"
fi

# ---- oversized requests, report with a fired log ----
DB=$TMP/b.db
start_serve "$DB" "$TMP/b.out" || nok "bad input: serve starts"
long=$(printf '%09000d' 0)
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/t/start?ad=$long")
[ "$code" = 414 ] && ok "oversized request line: 414" || nok "oversized request line: 414" "got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $long$long" "http://127.0.0.1:$PORT/t/start?ad=1")
[ "$code" = 431 ] && ok "oversized headers: 431" || nok "oversized headers: 431" "got $code"
code=$(curl -s -o "$TMP/pixel" -w '%{http_code}' "http://127.0.0.1:$PORT/t/impression?ad=F")
size=$(wc -c < "$TMP/pixel")
[ "$code" = 200 ] && [ "$size" -eq 43 ] && ok "200 with the 43-byte GIF" || nok "200 with the 43-byte GIF" "$code $size"
curl -s -o /dev/null "http://127.0.0.1:$PORT/t/start?ad=F"
curl -s -o /dev/null "http://127.0.0.1:$PORT/t/error?ad=F&code=405"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
[ "$code" = 200 ] && ok "still healthy after bad input" || nok "still healthy after bad input" "got $code"
stop_serve
U="http://127.0.0.1:$PORT/t"
cat > "$TMP/fired.jsonl" <<EOF
{"t":0,"event":"impression","url":"$U/impression?ad=F","status":200,"latency_ms":1.2,"error":null}
{"t":0,"event":"start","url":"$U/start?ad=F","status":200,"latency_ms":1.0,"error":null}
{"t":15,"event":"midpoint","url":"$U/midpoint?ad=F","status":0,"latency_ms":0,"error":"connection refused"}
{"t":15,"event":"midpoint","url":"http://elsewhere.example/px?e=mid","status":200,"latency_ms":3,"error":null}
EOF
"$V" report --db "$DB" --fired "$TMP/fired.jsonl" > "$TMP/rep.txt"
expect_grep "report: funnel header" "^ad F$" "$TMP/rep.txt"
expect_grep "report: start counted and fired" "^  start +1 +100.0% +1 +1 +\+0$" "$TMP/rep.txt"
expect_grep "report: midpoint fired but not counted" "^  midpoint +0 +0.0% +1 +0 +-1$" "$TMP/rep.txt"
expect_grep "report: error code" "^  error code 405 +1" "$TMP/rep.txt"
"$V" report --db "$DB" --json > "$TMP/rep.json"
expect_grep "report --json" '^\{"sinceMs":0,"firedLog":false,"ads":\[\{"ad":"F","impressions":1,' "$TMP/rep.json"
"$V" report --db "$DB" --since 1h --csv > "$TMP/rep.csv"
expect_grep "report --since 1h --csv" "^F,impression,1,0,0,1,1.0000$" "$TMP/rep.csv"
expect_rc "report bad --since" 2 "$V" report --db "$DB" --since tomorrow
# ---- the database file deleted under the running collector (issue 12) ----
DB=$TMP/d.db
start_serve "$DB" "$TMP/d.out" || nok "lost db: serve starts"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/t/impression?ad=D&sid=1")
[ "$code" = 200 ] && ok "lost db: a hit before" || nok "lost db: a hit before" "got $code"
sleep 0.3
rm -f "$DB"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/t/impression?ad=D&sid=2")
ans2=$code
sleep 1.5
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/t/impression?ad=D&sid=3")
[ "$code" = 503 ] && ok "lost db: hits answered 503 once detected" || nok "lost db: hits answered 503 once detected" "got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
[ "$code" = 503 ] && ok "lost db: /healthz 503" || nok "lost db: /healthz 503" "got $code"
stop_serve
expect_grep "lost db: logged loudly, even with --quiet" 'ALERT: database file .*d\.db. was deleted or replaced' "$TMP/d.out.err"
n=$(ls "$TMP" | grep -c '^d\.db-journal-')
[ "$n" -gt 0 ] && ok "lost db: journals kept" || nok "lost db: journals kept" "$(ls "$TMP")"
start_serve "$DB" "$TMP/d2.out" || nok "lost db: restart"
stop_serve
c=$("$V" report --db "$DB" --csv | sed -n 's/^D,impression,\([0-9]*\),.*/\1/p')
# sid 1 (loaded into the deleted file, still in the journal) and sid 2 when it was answered 200
exp=1; [ "$ans2" = 200 ] && exp=2
[ "$c" = "$exp" ] && ok "lost db: every hit answered 200 is in the new database" ||
  nok "lost db: every hit answered 200 is in the new database" "counted $c, expected $exp"

finish
