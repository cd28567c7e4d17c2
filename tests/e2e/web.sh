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
# a whole response: every ad of the pod, every break of a VMAP, like the command
"$V" play --dry-run --json --seed 1 --events 2/mute@1 "$TMP/pod.xml" 2>/dev/null |
  grep '"beacon":true' | grep -o '"event":"[^"]*","url":"[^"]*"' > "$TMP/cli"
curl -s --data-binary @"$TMP/pod.xml" "$URL/api/play?seed=1&events=2/mute@1" > "$TMP/api.json"
grep -o '"event":"[^"]*","level":[0-9]*,"url":"[^"]*"' "$TMP/api.json" | sed 's/"level":[0-9]*,//' > "$TMP/api"
same "api/play plays both ads of the pod, as vastrack play does" "$TMP/cli" "$TMP/api"
expect_grep "api/play lists the pod's ads" '"ads":\[\{"break":null,"ad":1,"id":"one",.*\},\{"break":null,"ad":2,"id":"two",' "$TMP/api.json"
cat > "$TMP/vmap.xml" <<'EOF2'
<vmap:VMAP xmlns:vmap="http://www.iab.net/videosuite/vmap" version="1.0">
 <vmap:AdBreak breakType="linear" breakId="pre" timeOffset="start"><vmap:AdSource id="a"><vmap:VASTAdData>
  <VAST version="4.2"><Ad id="p"><InLine><AdSystem>s</AdSystem><AdTitle>p</AdTitle>
  <Impression><![CDATA[http://127.0.0.1:9/p-imp?bp=[BREAKPOSITION]&mph=[MEDIAPLAYHEAD]]]></Impression>
  <Creatives><Creative><Linear><Duration>00:00:02</Duration><TrackingEvents>
  <Tracking event="complete"><![CDATA[http://127.0.0.1:9/p-complete]]></Tracking></TrackingEvents>
  <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1"><![CDATA[http://127.0.0.1:9/p.mp4]]></MediaFile></MediaFiles>
  </Linear></Creative></Creatives></InLine></Ad></VAST></vmap:VASTAdData></vmap:AdSource>
  <vmap:TrackingEvents><vmap:Tracking event="breakStart"><![CDATA[http://127.0.0.1:9/pre-bs?bp=[BREAKPOSITION]]]></vmap:Tracking>
  <vmap:Tracking event="breakEnd"><![CDATA[http://127.0.0.1:9/pre-be]]></vmap:Tracking></vmap:TrackingEvents></vmap:AdBreak>
 <vmap:AdBreak breakType="linear" breakId="mid" timeOffset="50%"><vmap:AdSource id="b"><vmap:VASTAdData>
  <VAST version="4.2"><Ad id="m1" sequence="1"><InLine><AdSystem>s</AdSystem><AdTitle>m</AdTitle>
  <Impression><![CDATA[http://127.0.0.1:9/m1-imp?bp=[BREAKPOSITION]&n=[ADCOUNT]&mph=[MEDIAPLAYHEAD]]]></Impression>
  <Creatives><Creative><Linear skipoffset="00:00:01"><Duration>00:00:03</Duration><TrackingEvents>
  <Tracking event="skip"><![CDATA[http://127.0.0.1:9/m1-skip]]></Tracking></TrackingEvents>
  <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1"><![CDATA[http://127.0.0.1:9/m.mp4]]></MediaFile></MediaFiles>
  </Linear></Creative></Creatives></InLine></Ad>
  <Ad id="m2" sequence="2"><InLine><AdSystem>s</AdSystem><AdTitle>m</AdTitle>
  <Impression><![CDATA[http://127.0.0.1:9/m2-imp?n=[ADCOUNT]&ps=[PODSEQUENCE]]]></Impression>
  <Creatives><Creative><Linear><Duration>00:00:01</Duration>
  <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1"><![CDATA[http://127.0.0.1:9/m.mp4]]></MediaFile></MediaFiles>
  </Linear></Creative></Creatives></InLine></Ad></VAST></vmap:VASTAdData></vmap:AdSource>
  <vmap:TrackingEvents><vmap:Tracking event="breakStart"><![CDATA[http://127.0.0.1:9/mid-bs?bp=[BREAKPOSITION]]]></vmap:Tracking></vmap:TrackingEvents></vmap:AdBreak>
 <vmap:AdBreak breakType="linear" breakId="post" timeOffset="end"><vmap:AdSource id="c"><vmap:CustomAdData templateType="x">no</vmap:CustomAdData></vmap:AdSource>
  <vmap:TrackingEvents><vmap:Tracking event="error"><![CDATA[http://127.0.0.1:9/post-err?c=[ERRORCODE]&bp=[BREAKPOSITION]]]></vmap:Tracking></vmap:TrackingEvents></vmap:AdBreak>
</vmap:VMAP>
EOF2
"$V" play --dry-run --json --seed 1 --content-duration 60 --events 'mute@10,2.1/skip@2' "$TMP/vmap.xml" 2>/dev/null |
  grep '"beacon":true' | grep -o '"t":[0-9.]*,"media":[0-9.a-z]*,"event":"[^"]*","url":"[^"]*"' > "$TMP/cli"
curl -s --data-binary @"$TMP/vmap.xml" "$URL/api/play?seed=1&content=60&events=mute@10,2.1/skip@2" > "$TMP/api.json"
grep -o '"t":[0-9.]*,"media":[0-9.a-z]*,"event":"[^"]*","level":[0-9a-z]*,"url":"[^"]*"' "$TMP/api.json" |
  sed 's/"level":[0-9a-z]*,//' > "$TMP/api"
same "api/play plays the VMAP break by break, as vastrack play does (content times)" "$TMP/cli" "$TMP/api"
expect_grep "api/play vmap: preroll breakStart first, BREAKPOSITION 1" '"beacons":\[\{"t":0\.000,"media":null,"event":"breakStart","level":null,"url":"http://127\.0\.0\.1:9/pre-bs\?bp=1","break":1,"ad":null\}' "$TMP/api.json"
expect_grep "api/play vmap: midroll at content 30, MEDIAPLAYHEAD, ad 1 of break 2" '"t":30\.000,"media":0\.000,"event":"impression","level":0,"url":"http://127\.0\.0\.1:9/m1-imp\?bp=2&n=1&mph=00%3A00%3A30\.000","break":2,"ad":1' "$TMP/api.json"
expect_grep "api/play vmap: the addressed skip" '"event":"skip","level":0,"url":"http://127\.0\.0\.1:9/m1-skip","break":2,"ad":1' "$TMP/api.json"
expect_grep "api/play vmap: pod ad 2, ADCOUNT 2" '"url":"http://127\.0\.0\.1:9/m2-imp\?n=2&ps=2","break":2,"ad":2' "$TMP/api.json"
expect_grep "api/play vmap: CustomAdData postroll fires error 1005" '"t":60\.000,"media":null,"event":"error","level":null,"url":"http://127\.0\.0\.1:9/post-err\?c=1005&bp=3","break":3' "$TMP/api.json"
expect_grep "api/play vmap: breaks listed" '"breaks":\[\{"break":1,"timeOffset":"start","breakId":"pre","repeat":0,"position":1,"at":0\.000,"error":null\},\{"break":2,.*"position":2,"at":30\.000,"error":null\},\{"break":3,.*"position":3,"at":60\.000,"error":"CustomAdData' "$TMP/api.json"
[ "$(status POST '/api/play?events=skip@2' --data-binary @"$TMP/vmap.xml")" = 400 ] &&
  ok "api/play vmap: an unaddressed skip is 400" || nok "api/play vmap: an unaddressed skip is 400"
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
