# End to end: the web API and pages of `vastrack serve` over 127.0.0.1 with curl.
# Each API answer is compared with what the command line prints for the same
# input (same library calls); body limits, methods, the private-address guard,
# --no-web, and the dashboard's /api/stats after some beacons.
. tests/cli/lib.sh
V=${VASTRACK:?}
S=$C/dailymotion__vast-client-js/spec/samples
PIDS=""
cleanup() {
  for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# start_serve OUT [ARGS...]: the collector on a free port; sets SPID, URL.
start_serve() {
  out=$1; shift
  "$V" serve --listen 127.0.0.1:0 --db "$TMP/hits-$$.db" --threads 2 --quiet "$@" > "$out" 2> "$out.err" &
  SPID=$!
  PIDS="$PIDS $SPID"
  i=0
  while ! grep -q '^listening on ' "$out" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 400 ] || ! kill -0 "$SPID" 2>/dev/null; then return 1; fi
    sleep 0.05
  done
  URL="http://$(sed -n 's/^listening on //p' "$out")"
}
# The API takes XML or JSON content types only (docs/security.md): every curl
# here says application/xml unless a test sets its own.
curl() { command curl -H 'Content-Type: application/xml' "$@"; }
# status METHOD PATH [CURL ARGS]: prints the HTTP status
status() {
  m=$1; p=$2; shift 2
  curl -s -m 20 -o "$TMP/body" -w '%{http_code}' -X "$m" "$@" "$URL$p"
}
# same NAME A B: files A and B hold the same bytes (newlines dropped)
same() {
  if [ "$(tr -d '\n' < "$2")" = "$(tr -d '\n' < "$3")" ] && [ -s "$2" ]; then ok "$1"
  else nok "$1" "$(head -c 200 "$2") vs $(head -c 200 "$3")"; fi
}

expect_rc "serve --help" 0 "$V" serve --help
expect_grep "serve --help documents --allow-private" "--allow-private" "$TMP/out"
expect_grep "serve --help documents --no-web" "--no-web" "$TMP/out"
expect_rc "serve bad --max-body" 2 "$V" serve --max-body lots

start_serve "$TMP/s1" --max-body 100000 || nok "serve starts" "$(cat "$TMP/s1.err")"

# Pages are built in.
[ "$(status GET /)" = 200 ] && grep -q '/dashboard.js' "$TMP/body" && ok "GET / is the dashboard" || nok "GET / is the dashboard"
[ "$(status GET /inspect)" = 200 ] && grep -q 'id="source"' "$TMP/body" && ok "GET /inspect is the inspector" || nok "GET /inspect is the inspector"
ct=$(curl -s -o /dev/null -w '%{content_type}' "$URL/style.css")
case "$ct" in text/css*) ok "style.css is text/css" ;; *) nok "style.css is text/css" "$ct" ;; esac
[ "$(status GET /inspect.js)" = 200 ] && ok "inspect.js served" || nok "inspect.js served"

# /api/validate = vastrack validate --json, per profile.
for p in web ctv; do
  f=$S/inline-linear.xml
  "$V" validate --json --profile $p "$f" | sed 's/^{"file":"[^"]*",//' > "$TMP/cli"
  curl -s --data-binary @"$f" "$URL/api/validate?profile=$p" | tr -d '\n' |
    sed 's/.*"result":{"file":"input",//; s/,"codes":\[.*//' > "$TMP/api"
  same "api/validate profile $p = vastrack validate --json" "$TMP/cli" "$TMP/api"
done
[ "$(status POST '/api/validate?profile=tv' --data-binary @"$S/sample.xml")" = 400 ] &&
  ok "api/validate unknown profile is 400" || nok "api/validate unknown profile is 400"
curl -s --data-binary @"$S/invalid-xmlfile.xml" "$URL/api/validate" > "$TMP/api"
expect_grep "api/validate of malformed XML reports xml-malformed" '"parsed":false.*"rule":"xml-malformed"' "$TMP/api"
expect_grep "api/validate lists the cheat-sheet entry of code 100" '"codes":\[\{"code":100,' "$TMP/api"

# /api/inspect = vastrack inspect --json (the "doc" member).
"$V" inspect --json "$S/sample.xml" > "$TMP/cli"
curl -s --data-binary @"$S/sample.xml" "$URL/api/inspect" | tr -d '\n' |
  sed 's/^{"ok":true,"kind":"vast","source":null,"doc"://; s/,"coverage":\[.*//' > "$TMP/api"
same "api/inspect doc = vastrack inspect --json" "$TMP/cli" "$TMP/api"
curl -s --data-binary @"$S/inline-linear.xml" "$URL/api/inspect" > "$TMP/api"
expect_grep "api/inspect coverage per creative" '"coverage":\[\{"adIndex":0,.*"kind":"linear","events":\{' "$TMP/api"
curl -s --data-binary 'not xml' "$URL/api/inspect" > "$TMP/api"
expect_grep "api/inspect of non-XML: ok false with a position" '^\{"ok":false,"error":\{"message":.*"line":1' "$TMP/api"

# /api/play = vastrack play --dry-run (events, in order).
"$V" play --dry-run --json --seed 1 --events mute@2,unmute@3 "$S/sample.xml" |
  grep -o '"event":"[^"]*","url":"[^"]*"' > "$TMP/cli"
curl -s --data-binary @"$S/sample.xml" "$URL/api/play?seed=1&events=mute@2,unmute@3" |
  grep -o '"event":"[^"]*","level":[0-9]*,"url":"[^"]*"' | sed 's/"level":[0-9]*,//' > "$TMP/api"
same "api/play beacons = vastrack play --dry-run" "$TMP/cli" "$TMP/api"
# the same pick as the command (vast_select_doc): a pod plays in sequence order, so the
# second ad of the document (sequence 1) plays first; its Linear, not the Companion before it
cat > "$TMP/pod.xml" <<'EOF2'
<VAST version="4.1"><Ad id="two" sequence="2"><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>
<Impression><![CDATA[http://127.0.0.1:9/imp2]]></Impression><Creatives><Creative><Linear>
<Duration>00:00:04</Duration><TrackingEvents><Tracking event="start"><![CDATA[http://127.0.0.1:9/start2]]></Tracking>
</TrackingEvents><MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="640" height="360">
<![CDATA[http://127.0.0.1:9/2.mp4]]></MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad>
<Ad id="one" sequence="1"><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>
<Impression><![CDATA[http://127.0.0.1:9/imp1]]></Impression><Creatives><Creative><CompanionAds><Companion width="300" height="250">
<StaticResource creativeType="image/png"><![CDATA[http://127.0.0.1:9/c.png]]></StaticResource></Companion></CompanionAds></Creative>
<Creative><Linear><Duration>00:00:04</Duration><TrackingEvents><Tracking event="start"><![CDATA[http://127.0.0.1:9/start1]]></Tracking>
</TrackingEvents><MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="640" height="360">
<![CDATA[http://127.0.0.1:9/1.mp4]]></MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>
EOF2
"$V" play --dry-run --json "$TMP/pod.xml" 2>/dev/null | grep -o '"url":"[^"]*"' | head -2 > "$TMP/cli"
curl -s --data-binary @"$TMP/pod.xml" "$URL/api/play" > "$TMP/api.json"
grep -o '"url":"[^"]*"' "$TMP/api.json" | head -2 > "$TMP/api"
same "api/play picks the ad and creative vastrack play picks" "$TMP/cli" "$TMP/api"
expect_grep "api/play plays the pod's sequence 1, its Linear" '"creative":1,.*"url":"http://127.0.0.1:9/imp1"' "$TMP/api.json"
[ "$(status POST '/api/play?events=dance@2' --data-binary @"$S/sample.xml")" = 400 ] &&
  ok "api/play unknown event is 400" || nok "api/play unknown event is 400"

# The private-address guard is on by default (resolve, and url= inputs).
curl -s -X POST "$URL/api/resolve?url=$URL/inspect" > "$TMP/api"
expect_grep "api/resolve refuses loopback by default" '"ok":false.*refused' "$TMP/api"
curl -s -X POST "$URL/api/inspect?url=$URL/inspect" > "$TMP/api"
expect_grep "api/inspect url= refuses loopback by default" '"ok":false.*refused' "$TMP/api"
curl -s --data-binary @"$S/wrapper-a.xml" "$URL/api/resolve" > "$TMP/api"
expect_grep "api/resolve never reads the server's files" '"ok":false.*not a usable http' "$TMP/api"

# Methods, limits.
[ "$(status GET /api/validate)" = 405 ] && ok "GET /api/validate is 405" || nok "GET /api/validate is 405"
[ "$(status POST /api/nothing --data-binary x)" = 404 ] && ok "POST unknown endpoint is 404" || nok "POST unknown endpoint is 404"
[ "$(status POST "/t/click?ad=W1" --data-binary x)" = 200 ] && ok "POST to a beacon URL (sendBeacon) is a hit" || nok "POST to a beacon URL (sendBeacon) is a hit"
[ "$(status PUT /t/start --data-binary x)" = 405 ] && ok "PUT to a beacon URL is 405" || nok "PUT to a beacon URL is 405"
head -c 100001 /dev/zero > "$TMP/big"
[ "$(status POST /api/inspect --data-binary @"$TMP/big")" = 413 ] && ok "body over --max-body is 413" || nok "body over --max-body is 413"
[ "$(status POST /api/inspect -H 'Transfer-Encoding: chunked' --data-binary @"$S/sample.xml")" = 411 ] &&
  ok "chunked body is 411" || nok "chunked body is 411"
[ "$(status POST /api/validate -H 'Expect:' --data-binary '')" = 400 ] && ok "no document is 400" || nok "no document is 400"
# Keep-alive: a POST then a GET on one connection.
curl -s -o "$TMP/k1" --data-binary @"$S/sample.xml" "$URL/api/validate" --next -o "$TMP/k2" "$URL/healthz" \
  -w '%{num_connects}\n' > "$TMP/nc"
grep -q '"ok":true' "$TMP/k1" && grep -q '^ok' "$TMP/k2" && [ "$(tail -1 "$TMP/nc")" = 0 ] &&
  ok "POST then GET on one keep-alive connection" || nok "POST then GET on one keep-alive connection" "$(cat "$TMP/nc")"

# Dashboard counts.
for e in impression impression start firstQuartile; do curl -s -o /dev/null "$URL/t/$e?ad=W1"; done
curl -s -o /dev/null "$URL/t/error?ad=W1&code=303"
curl -s "$URL/api/stats" > "$TMP/st"
expect_grep "api/stats funnel" '"funnel":\[\{"event":"impression","n":2\},\{"event":"start","n":1\},\{"event":"firstQuartile","n":1\},\{"event":"midpoint","n":0\}' "$TMP/st"
expect_grep "api/stats per ad" '"ads":\[\{"ad":"W1","impression":2,"start":1,"firstQuartile":1,.*"error":1,' "$TMP/st"
expect_grep "api/stats error codes" '"errors":\[\{"code":303,"n":1\}\]' "$TMP/st"
curl -s "$URL/api/errors" > "$TMP/err"
expect_grep "api/errors has the IAB table" '"code":303,"name":' "$TMP/err"
kill -TERM "$SPID" && wait "$SPID" && ok "serve drains with web requests done" || nok "serve drains with web requests done"

# --no-web: no pages, no API.
start_serve "$TMP/s2" --no-web || nok "serve --no-web starts"
[ "$(status GET /)" = 404 ] && ok "--no-web: GET / is 404" || nok "--no-web: GET / is 404"
[ "$(status POST /api/validate --data-binary @"$S/sample.xml")" = 405 ] && ok "--no-web: POST is 405" || nok "--no-web: POST is 405"
kill -TERM "$SPID" && wait "$SPID"
finish
