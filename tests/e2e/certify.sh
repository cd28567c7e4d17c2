# End to end: certify a player. `vastrack serve` answers the test ad server's
# tags (GET /vast, /vmap), a scripted player follows the wrapper chain with
# curl and fires the beacons in real time, and `vastrack report --conformance`
# judges it: a correct player is conformant (exit 0); a deliberately wrong one
# (midpoint twice, no thirdQuartile, one impression 3 s late, [ERRORCODE] sent
# unexpanded) gets exactly those findings (exit 1).
. tests/cli/lib.sh
V=${VASTRACK:?}
PIDS=""
cleanup() {
  for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

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
stop_serve() { kill -TERM "$SPID"; wait "$SPID"; }

# url_of FILE EVENT: the tracking URL of EVENT in a served tag (impression and
# error are the <Impression> and <Error> elements).
url_of() {
  case $2 in
    impression) sed -n 's/.*<Impression[^>]*><!\[CDATA\[\(.*\)\]\]>.*/\1/p' "$1" ;;
    error) sed -n 's/.*<Error><!\[CDATA\[\(.*\)\]\]><\/Error>.*/\1/p' "$1" ;;
    *) sed -n "s/.*<Tracking event=\"$2\"><!\[CDATA\[\(.*\)\]\]>.*/\1/p" "$1" ;;
  esac | head -1
}

# fire LEVEL EVENT PLAYHEAD [raw]: what a player does: expand the macros (all
# but [ERRORCODE] with "raw") and GET the URL.
fire() {
  u=$(url_of "$TMP/lv$1.xml" "$2")
  [ -n "$u" ] || { nok "tag has a URL for $2 at level $1"; return; }
  u=$(printf '%s' "$u" | sed -e "s/\[ADPLAYHEAD\]/$3/" -e "s/\[TIMESTAMP\]/2026-01-01T00%3A00%3A00.000Z/" \
      -e "s/\[CACHEBUSTING\]/$$$(date +%N | cut -c1-3)/")
  [ "${4:-}" = raw ] || u=$(printf '%s' "$u" | sed 's/\[ERRORCODE\]/405/')
  curl -s -o /dev/null -g "$u"
}

# play SID KIND: the scripted player over a 4 s ad behind one wrapper.
# KIND good: as the spec says. KIND bad: midpoint twice at the InLine, no
# thirdQuartile, the Wrapper's impression 3 s late, an Error with [ERRORCODE]
# left as is.
play() {
  curl -s -o "$TMP/lv0.xml" "http://127.0.0.1:$PORT/vast?sid=$1&wrapper=1&dur=4"
  next=$(sed -n 's/.*<VASTAdTagURI>\(.*\)<\/VASTAdTagURI>.*/\1/p' "$TMP/lv0.xml" | sed 's/&amp;/\&/g')
  curl -s -o "$TMP/lv1.xml" "$next"
  fire 1 impression 00:00:00.000
  [ "$2" = bad ] || fire 0 impression 00:00:00.000
  fire 0 start 00:00:00.000; fire 1 start 00:00:00.000
  sleep 1
  fire 0 firstQuartile 00:00:01.000; fire 1 firstQuartile 00:00:01.000
  sleep 1
  fire 0 midpoint 00:00:02.000; fire 1 midpoint 00:00:02.000
  [ "$2" = bad ] && fire 1 midpoint 00:00:02.000
  sleep 1
  if [ "$2" = bad ]; then
    fire 0 impression 00:00:03.000
    fire 1 error 00:00:03.000 raw
  else
    fire 0 thirdQuartile 00:00:03.000; fire 1 thirdQuartile 00:00:03.000
  fi
  sleep 1
  fire 0 complete 00:00:04.000; fire 1 complete 00:00:04.000
}

DB=$TMP/c.db
start_serve "$DB" "$TMP/serve.out" || nok "serve starts"

# The test ad server.
code=$(curl -s -o "$TMP/t.xml" -w '%{http_code}' "http://127.0.0.1:$PORT/vast?sid=t1&pod=3&skip=5")
[ "$code" = 200 ] && ok "GET /vast answers 200" || nok "GET /vast answers 200" "got $code"
expect_rc "served pod validates (no error)" 0 "$V" validate "$TMP/t.xml"
n=$(grep -c '<Ad id=' "$TMP/t.xml")
[ "$n" = 3 ] && ok "pod=3 serves 3 ads" || nok "pod=3 serves 3 ads" "got $n"
bad=$(grep -o 'CDATA\[http[^]]*' "$TMP/t.xml" | grep -v '/t/' | grep -v 'example.com' | wc -l)
[ "$bad" = 0 ] && ok "every tracking URL points at the collector" || nok "every tracking URL points at the collector" "$bad others"
expect_grep "URLs carry the session and the event" "/t/firstQuartile\?sid=t1&ad=a2&" "$TMP/t.xml"
expect_grep "skipoffset served" 'skipoffset="00:00:05.000"' "$TMP/t.xml"
code=$(curl -s -o "$TMP/e.txt" -w '%{http_code}' "http://127.0.0.1:$PORT/vast?pod=2&wrapper=1")
[ "$code" = 400 ] && ok "bad parameters answer 400" || nok "bad parameters answer 400" "got $code"
curl -s -o "$TMP/m.xml" "http://127.0.0.1:$PORT/vmap?sid=t2&dur=6"
n=$(grep -c '<vmap:AdBreak' "$TMP/m.xml")
[ "$n" = 3 ] && ok "GET /vmap has pre, mid and post breaks" || nok "GET /vmap has 3 breaks" "got $n"
expect_rc "served vmap validates" 0 "$V" validate "$TMP/m.xml"
expect_rc "wrapper chain of 3 resolves through the same server" 0 \
  "$V" resolve "http://127.0.0.1:$PORT/vast?sid=t3&wrapper=3"
expect_grep "resolve went 4 hops deep" "lv=3" "$TMP/out"
curl -s -o "$TMP/n.xml" "http://127.0.0.1:$PORT/vast?sid=t4&fail=noad"
expect_grep "no-ad response has a root Error" "<Error><!\[CDATA\[http://127.0.0.1:$PORT/t/error\?sid=t4" "$TMP/n.xml"
"$V" template --collector "http://127.0.0.1:$PORT/" --session t1 --params 'pod=3&skip=5' > "$TMP/tt.xml" 2>/dev/null
cmp -s "$TMP/t.xml" "$TMP/tt.xml" && ok "template --collector prints the served tag" || nok "template --collector prints the served tag"

play good1 good
play bad1 bad
stop_serve || nok "serve stops cleanly"

n=$(sqlite3 "$DB" "SELECT COUNT(*) FROM hits WHERE event='served' AND sid='good1'")
[ "$n" = 2 ] && ok "each served hop is recorded with its session" || nok "served hops recorded" "got $n"

expect_rc "good player: conformant, exit 0" 0 "$V" report --db "$DB" --conformance good1
expect_grep "good player: report says conformant" "^conformant" "$TMP/out"
expect_rc "wrong player: findings, exit 1" 1 "$V" report --db "$DB" --conformance bad1 --json
cp "$TMP/out" "$TMP/bad.json"
got=$(python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))
print(" ".join(sorted("%s/%s/%s" % (f["rule"], f["event"], f["level"]) for f in r["findings"])))' "$TMP/bad.json")
want="duplicated/midpoint/1 impression-spread/impression/0 missing/thirdQuartile/0 missing/thirdQuartile/1 unexpanded-macro/error/1"
[ "$got" = "$want" ] && ok "wrong player: exactly its findings" || nok "wrong player: exactly its findings" "got: $got"
expect_rc "default session is the last served" 1 "$V" report --db "$DB" --conformance
expect_grep "default session is bad1" "^session bad1" "$TMP/out"
expect_rc "unknown session: exit 4" 4 "$V" report --db "$DB" --conformance nosuch
expect_rc "bad session id: exit 2" 2 "$V" report --db "$DB" --conformance 'a b'
finish
