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
  curl -s -L -o /dev/null -g "$u"
}

# at S: sleeps until S seconds after T0 (the play's start), so the time the
# curl calls take (a loaded machine) does not add up over the play.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
at() {
  left=$((T0 + $1 * 1000 - $(now_ms)))
  [ $left -gt 0 ] && sleep "$(awk -v l=$left 'BEGIN { printf "%.3f", l / 1000 }')"
  :
}

# play SID KIND: the scripted player over a 4 s ad behind one wrapper.
# KIND good: as the spec says. KIND bad: midpoint twice at the InLine, no
# thirdQuartile, the Wrapper's impression 3 s late, an Error with [ERRORCODE]
# left as is.
play() {
  play_url "http://127.0.0.1:$PORT/vast?sid=$1&wrapper=1&dur=4" "$2"
}
play_url() {
  set -- "" "$2" "$1"
  curl -s -o "$TMP/lv0.xml" "$3"
  rm -f "$TMP/lv1.xml"
  next=$(sed -n -e 's/.*<VASTAdTagURI><!\[CDATA\[\(.*\)\]\]><\/VASTAdTagURI>.*/\1/p' \
    -e 's/.*<VASTAdTagURI>\(.*\)<\/VASTAdTagURI>.*/\1/p' "$TMP/lv0.xml" | sed 's/&amp;/\&/g')
  curl -s -o "$TMP/lv1.xml" "$next"
  fire 1 impression 00:00:00.000
  [ "$2" = bad ] || fire 0 impression 00:00:00.000
  fire 0 start 00:00:00.000
  T0=$(now_ms) # the first start has arrived: media time 0 is no later than this
  fire 1 start 00:00:00.000
  at 1
  fire 0 firstQuartile 00:00:01.000; fire 1 firstQuartile 00:00:01.000
  at 2
  fire 0 midpoint 00:00:02.000; fire 1 midpoint 00:00:02.000
  [ "$2" = bad ] && fire 1 midpoint 00:00:02.000
  at 3
  if [ "$2" = bad ]; then
    fire 0 impression 00:00:03.000
    fire 1 error 00:00:03.000 raw
  else
    fire 0 thirdQuartile 00:00:03.000; fire 1 thirdQuartile 00:00:03.000
  fi
  at 4
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
[ -n "${CERTIFY_KEEP:-}" ] && cp "$DB" "$CERTIFY_KEEP"

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
if python3 tests/cli/jsonschema.py docs/json.md Conformance "$TMP/bad.json" 2> "$TMP/schema.err"; then
  ok "conformance JSON matches its schema (docs/json.md)"
else
  nok "conformance JSON matches its schema (docs/json.md)" "$(head -3 "$TMP/schema.err")"
fi
expect_rc "default session is the last served" 1 "$V" report --db "$DB" --conformance
expect_grep "default session is bad1" "^session bad1" "$TMP/out"
expect_rc "unknown session: exit 4" 4 "$V" report --db "$DB" --conformance nosuch
expect_rc "bad session id: exit 2" 2 "$V" report --db "$DB" --conformance 'a b'

# The web UI's page of the same report.
start_serve "$DB" "$TMP/serve2.out" || nok "serve restarts on the database"
curl -s -g -o /dev/null "http://127.0.0.1:$PORT/t/impression?sid=xss1&ad=%3Cscript%3Ealert(1)%3C/script%3E&ph=[X]"
sleep 0.3
curl -s -o "$TMP/page.html" "http://127.0.0.1:$PORT/conformance/bad1"
n=$(grep -c '<tr data-rule=' "$TMP/page.html")
[ "$n" = 5 ] && ok "/conformance/bad1 lists the 5 findings" || nok "/conformance/bad1 lists the 5 findings" "got $n"
expect_grep "/conformance page says not conformant" 'id="verdict" class="bad">not conformant: 5 findings' "$TMP/page.html"
curl -s -o "$TMP/page2.html" "http://127.0.0.1:$PORT/conformance/good1"
expect_grep "/conformance/good1 is conformant" 'id="verdict" class="good">conformant' "$TMP/page2.html"
curl -s -o "$TMP/page3.html" "http://127.0.0.1:$PORT/conformance/xss1"
if grep -q '<script>' "$TMP/page3.html"; then nok "/conformance escapes what the player sent"; else ok "/conformance escapes what the player sent"; fi
expect_grep "escaped ad id shown" '&lt;script&gt;alert' "$TMP/page3.html"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/conformance/nosuch")
[ "$code" = 404 ] && ok "/conformance of an unknown session: 404" || nok "/conformance unknown: 404" "got $code"
stop_serve

# The beacon tap: collector A taps the tags of a "real" ad server B (another
# collector's test ad server); the player fires at A, which records each hit
# and redirects it to B, so B still counts it.
start_serve "$TMP/b.db" "$TMP/b.out" || nok "ad server B starts"
BPID=$SPID; PB=$PORT
start_serve "$TMP/a.db" "$TMP/a.out" --allow-private || nok "tap A starts"
APID=$SPID; PA=$PORT
play_url "http://127.0.0.1:$PA/tap?sid=tap1&url=http://127.0.0.1:$PB/vast?sid=real1&wrapper=1&dur=4" good
expect_grep "tapped level 1 is tapped too" "http://127.0.0.1:$PA/r/tap1/impression\?ad=a1-w0&lv=1&d=4000&u=http://127.0.0.1:$PB/t/impression\?sid=real1&" "$TMP/lv1.xml"
hdr=$(curl -s -g -D - -o /dev/null -H 'X-Device-IP: 203.0.113.7' "http://127.0.0.1:$PA/r/tap2/click?ad=x&lv=0&u=http://127.0.0.1:$PB/t/click?sid=real2&ts=[TIMESTAMP]" | tr -d '\r')
echo "$hdr" | grep -q '^HTTP/1.1 302' && ok "tapped hit answers 302" || nok "tapped hit answers 302" "$hdr"
echo "$hdr" | grep -q "^Location: http://127.0.0.1:$PB/t/click?sid=real2&ts=\[TIMESTAMP\]\$" && ok "302 goes to the original, verbatim" || nok "302 goes to the original, verbatim" "$hdr"
echo "$hdr" | grep -q '^Content-Length: 0' && ok "302 has no body" || nok "302 has no body" "$hdr"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PA/r/tap2/click?ad=x&u=javascript:alert(1)")
[ "$code" = 400 ] && ok "tap refuses a non-http original" || nok "tap refuses a non-http original" "got $code"
SPID=$APID; stop_serve || nok "tap A stops"
SPID=$BPID; stop_serve || nok "ad server B stops"
n=$(sqlite3 "$TMP/b.db" "SELECT COUNT(*) FROM hits WHERE sid='real1' AND event<>'served'")
m=$(sqlite3 "$TMP/a.db" "SELECT COUNT(*) FROM hits WHERE sid='tap1'")
[ "$n" = 12 ] && [ "$m" = 12 ] && ok "every tapped hit reached the real server (12 = 12)" || nok "tapped hits forwarded" "A $m, B $n"
expect_rc "tapped good player: conformant" 0 "$V" report --db "$TMP/a.db" --conformance tap1
sqlite3 "$TMP/a.db" "SELECT device_ip, query FROM hits WHERE sid='tap2'" > "$TMP/tap2"
expect_grep "tapped hit keeps device header and the macros as sent" "^203.0.113.7\|sid=tap2&ad=x&lv=0&u=http://.*ts=\[TIMESTAMP\]" "$TMP/tap2"
expect_rc "server-side tapped hit without X-Device-User-Agent: finding" 1 "$V" report --db "$TMP/a.db" --conformance tap2
expect_grep "finding names the header" "missing-device-headers.*X-Device-User-Agent" "$TMP/out"
start_serve "$TMP/c.db" "$TMP/c.out" --tap-forward none || nok "serve --tap-forward none starts"
code=$(curl -s -o "$TMP/gif" -w '%{http_code}' "http://127.0.0.1:$PORT/r/s/start?ad=x&u=http://192.0.2.1/x")
[ "$code" = 200 ] && [ "$(wc -c < "$TMP/gif")" = 43 ] && ok "--tap-forward none answers the GIF" || nok "--tap-forward none answers the GIF" "got $code"
stop_serve
expect_rc "tap command" 0 "$V" tap --collector "http://127.0.0.1:9/" --session cli1 "$TMP/lv0.xml"
n=$(grep -c 'http://127.0.0.1:9/r/cli1/' "$TMP/out")
[ "$n" -gt 10 ] && ok "tap command rewrites the tracking URLs ($n)" || nok "tap command rewrites" "got $n"
expect_rc "tap without --collector: usage" 2 "$V" tap "$TMP/lv0.xml"
finish
