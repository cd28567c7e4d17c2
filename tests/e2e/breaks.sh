#!/bin/sh
# breaks.sh: a VMAP whose midroll is an AdTagURI served over loopback by a
# real nginx started here, played with its break events and each ad's beacons
# checked value by value; and an SSAI wrapper chain whose every hop must
# receive the X-Device-* headers (nginx logs the request headers).
. tests/cli/lib.sh
command -v nginx > /dev/null || { nok "nginx installed" "nginx not found (make deps)"; finish; }

NG=$TMP/ng
W=$TMP/www
mkdir -p "$NG" "$W"
chmod 755 "$TMP" "$W" # nginx's worker reads the tags
cat > "$NG/conf.in" <<EOF
worker_processes 1;
daemon off;
pid $NG/nginx.pid;
error_log $NG/error.log;
events { worker_connections 256; }
http {
  log_format hdrs '\$request_uri|\$http_x_device_ip|\$http_x_device_user_agent|\$http_x_device_referer|\$http_x_device_accept_language|\$http_x_device_requested_with';
  access_log off;
  client_body_temp_path $NG/cb; proxy_temp_path $NG/pt; fastcgi_temp_path $NG/ft;
  uwsgi_temp_path $NG/ut; scgi_temp_path $NG/st;
  server {
    listen 127.0.0.1:PORT;
    location /s/ { alias $W/; access_log $NG/tags.log hdrs; }
    location /px/ { empty_gif; access_log $NG/beacons.log hdrs; }
  }
}
EOF
NGPID=
trap '[ -n "$NGPID" ] && kill $NGPID 2>/dev/null; rm -rf "$TMP"' EXIT
start_nginx "$NG" $((20000 + ($$ * 7) % 20000))
B=http://127.0.0.1:$port

# The midroll: a wrapper (served) -> an inline (served), macros in each URI.
cat > "$W/mid-wrapper.xml" <<EOF
<VAST version="4.2"><Ad id="mw" sequence="1"><Wrapper><AdSystem>T</AdSystem>
<VASTAdTagURI><![CDATA[$B/s/mid-inline.xml?ip=[DEVICEIP]&ua=[DEVICEUA]&ss=[SERVERSIDE]&tx=[TRANSACTIONID]]]></VASTAdTagURI>
<Impression><![CDATA[$B/px/mw-imp?ps=[PODSEQUENCE]&n=[ADCOUNT]&bp=[BREAKPOSITION]&tx=[TRANSACTIONID]]]></Impression>
</Wrapper></Ad></VAST>
EOF
cat > "$W/mid-inline.xml" <<EOF
<VAST version="4.2"><Ad id="mi"><InLine><AdSystem>T</AdSystem><AdTitle>mid</AdTitle>
<Impression><![CDATA[$B/px/mi-imp?ps=[PODSEQUENCE]&n=[ADCOUNT]&bp=[BREAKPOSITION]&tx=[TRANSACTIONID]&sua=[SERVERUA]&cua=[CLIENTUA]]]></Impression>
<Creatives><Creative><Linear><Duration>00:00:02</Duration>
<TrackingEvents><Tracking event="complete"><![CDATA[$B/px/mi-complete?ss=[SERVERSIDE]]]></Tracking></TrackingEvents>
<MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://cdn.invalid/m.mp4</MediaFile></MediaFiles>
</Linear></Creative></Creatives></InLine></Ad></VAST>
EOF
cat > "$TMP/vmap.xml" <<EOF
<vmap:VMAP xmlns:vmap="http://www.iab.net/videosuite/vmap" version="1.0">
 <vmap:AdBreak breakType="linear" breakId="pre" timeOffset="start">
  <vmap:AdSource id="a"><vmap:VASTAdData><VAST version="3.0"><Ad id="pre1"><InLine><AdSystem>T</AdSystem><AdTitle>pre</AdTitle>
   <Impression><![CDATA[$B/px/pre-imp?bp=[BREAKPOSITION]&n=[ADCOUNT]&ps=[PODSEQUENCE]&tx=[TRANSACTIONID]]]></Impression>
   <Creatives><Creative><Linear><Duration>00:00:01</Duration>
   <TrackingEvents><Tracking event="complete"><![CDATA[$B/px/pre-complete]]></Tracking></TrackingEvents>
   <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://cdn.invalid/p.mp4</MediaFile></MediaFiles>
   </Linear></Creative></Creatives></InLine></Ad></VAST></vmap:VASTAdData></vmap:AdSource>
  <vmap:TrackingEvents>
   <vmap:Tracking event="breakStart"><![CDATA[$B/px/pre-bs?bp=[BREAKPOSITION]]]></vmap:Tracking>
   <vmap:Tracking event="breakEnd"><![CDATA[$B/px/pre-be?bp=[BREAKPOSITION]]]></vmap:Tracking>
  </vmap:TrackingEvents>
 </vmap:AdBreak>
 <vmap:AdBreak breakType="linear" breakId="mid" timeOffset="50%">
  <vmap:AdSource id="b"><vmap:AdTagURI templateType="vast4"><![CDATA[$B/s/mid-wrapper.xml?bp=[BREAKPOSITION]&ip=[DEVICEIP]&tx=[TRANSACTIONID]]]></vmap:AdTagURI></vmap:AdSource>
  <vmap:TrackingEvents>
   <vmap:Tracking event="breakStart"><![CDATA[$B/px/mid-bs?bp=[BREAKPOSITION]]]></vmap:Tracking>
   <vmap:Tracking event="breakEnd"><![CDATA[$B/px/mid-be?bp=[BREAKPOSITION]]]></vmap:Tracking>
  </vmap:TrackingEvents>
 </vmap:AdBreak>
 <vmap:AdBreak breakType="linear" breakId="gone" timeOffset="00:00:40">
  <vmap:AdSource id="c"><vmap:AdTagURI><![CDATA[$B/s/missing.xml]]></vmap:AdTagURI></vmap:AdSource>
  <vmap:TrackingEvents>
   <vmap:Tracking event="error"><![CDATA[$B/px/gone-error?c=[ERRORCODE]&bp=[BREAKPOSITION]]]></vmap:Tracking>
  </vmap:TrackingEvents>
 </vmap:AdBreak>
 <vmap:AdBreak breakType="linear" breakId="post" timeOffset="end">
  <vmap:AdSource id="d"><vmap:VASTAdData><VAST version="4.2"><Ad id="post1"><InLine><AdSystem>T</AdSystem><AdTitle>post</AdTitle>
   <Impression><![CDATA[$B/px/post-imp?bp=[BREAKPOSITION]]]></Impression>
   <Creatives><Creative><Linear><Duration>00:00:01</Duration>
   <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://cdn.invalid/q.mp4</MediaFile></MediaFiles>
   </Linear></Creative></Creatives></InLine></Ad></VAST></vmap:VASTAdData></vmap:AdSource>
  <vmap:TrackingEvents>
   <vmap:Tracking event="breakStart"><![CDATA[$B/px/post-bs?bp=[BREAKPOSITION]]]></vmap:Tracking>
   <vmap:Tracking event="breakEnd"><![CDATA[$B/px/post-be?bp=[BREAKPOSITION]]]></vmap:Tracking>
  </vmap:TrackingEvents>
 </vmap:AdBreak>
</vmap:VMAP>
EOF

chmod 644 "$W"/*.xml
# --- VMAP, fired, SSAI: every hop and beacon, value by value ------------------
: > "$NG/tags.log"; : > "$NG/beacons.log"
expect_rc "vmap plays (one break fails: a finding)" 1 "$VASTRACK" play --fire --fast --allow-private \
  --ssai --device-ip 203.0.113.7 --device-ua "Dev/1 (tv)" --device-referer http://pub.example/p \
  --device-accept-language fr-CA --device-requested-with com.example.app \
  --macro CLIENTUA=myplayer/2.0 --content-duration 60 "$TMP/vmap.xml"
H='203\.0\.113\.7\|Dev/1 \(tv\)\|http://pub\.example/p\|fr-CA\|com\.example\.app$'
n=$(grep -c "|$H" "$NG/tags.log")
t=$(wc -l < "$NG/tags.log")
[ "$n" = 3 ] && [ "$t" = 3 ] && ok "every tag request (AdTagURI, wrapper hop, 404) got the five device headers" \
  || nok "every tag request got the device headers" "$n of $t: $(cat "$NG/tags.log")"
tx=$(sed -n 's#^/s/mid-wrapper\.xml?bp=2&ip=203\.0\.113\.7&tx=\([0-9a-f-]*\)|.*#\1#p' "$NG/tags.log")
echo "$tx" | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' \
  && ok "AdTagURI: BREAKPOSITION 2, DEVICEIP, a UUID TRANSACTIONID" || nok "AdTagURI macros" "$(cat "$NG/tags.log")"
expect_grep "wrapper hop: DEVICEIP DEVICEUA SERVERSIDE TRANSACTIONID expanded" "^/s/mid-inline\\.xml\\?ip=203\\.0\\.113\\.7&ua=Dev%2F1%20%28tv%29&ss=1&tx=$tx\\|" "$NG/tags.log"
expect_grep "pre: breakStart BREAKPOSITION 1" "^/px/pre-bs\\?bp=1\\|$H" "$NG/beacons.log"
expect_grep "pre: impression ADCOUNT 1, no pod" "^/px/pre-imp\\?bp=1&n=1&ps=-1&tx=" "$NG/beacons.log"
ptx=$(sed -n 's#^/px/pre-imp?.*&tx=\([0-9a-f-]*\)|.*#\1#p' "$NG/beacons.log")
echo "$ptx" | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' && [ "$ptx" != "$tx" ] \
  && ok "each break is its own transaction: the preroll's TRANSACTIONID differs" || nok "per-break TRANSACTIONID" "pre '$ptx' mid '$tx'"
expect_grep "pre: breakEnd" "^/px/pre-be\\?bp=1\\|" "$NG/beacons.log"
expect_grep "mid: breakStart BREAKPOSITION 2" "^/px/mid-bs\\?bp=2\\|" "$NG/beacons.log"
expect_grep "mid: wrapper impression, PODSEQUENCE from the wrapper, same TRANSACTIONID" "^/px/mw-imp\\?ps=1&n=1&bp=2&tx=$tx\\|$H" "$NG/beacons.log"
expect_grep "mid: inline impression, SERVERUA and CLIENTUA" "^/px/mi-imp\\?ps=1&n=1&bp=2&tx=$tx&sua=vastrack%2F[0-9.]+&cua=myplayer%2F2\\.0\\|" "$NG/beacons.log"
expect_grep "mid: complete SERVERSIDE 1" "^/px/mi-complete\\?ss=1\\|" "$NG/beacons.log"
expect_grep "mid: breakEnd" "^/px/mid-be\\?bp=2\\|" "$NG/beacons.log"
expect_grep "gone: 404 AdTagURI fires the break error, VMAP code 1008" "^/px/gone-error\\?c=1008&bp=2\\|" "$NG/beacons.log"
expect_grep "post: at the end" "^/px/post-imp\\?bp=3\\|" "$NG/beacons.log"
expect_grep "post: breakEnd" "^/px/post-be\\?bp=3\\|" "$NG/beacons.log"
n=$(wc -l < "$NG/beacons.log")
[ "$n" = 13 ] && ok "13 beacons, no more" || nok "13 beacons, no more" "$n: $(cut -d'|' -f1 "$NG/beacons.log" | tr '\n' ' ')"
n=$(grep -c "|$H" "$NG/beacons.log")
[ "$n" = 13 ] && ok "every beacon carried the device headers" || nok "every beacon carried the device headers" "$n"
order=$(cut -d'|' -f1 "$NG/beacons.log" | sed 's|^/px/||; s|?.*||' | tr '\n' ' ')
echo "$order" | grep -q '^pre-bs pre-imp pre-complete pre-be mid-bs mw-imp mi-imp mi-complete mid-be gone-error post-bs post-imp post-be' \
  && ok "break edges around their ads, breaks in content order" || nok "beacon order" "$order"

# a wrapper tag played on its own: the resolution's TRANSACTIONID reaches the beacons
: > "$NG/tags.log"; : > "$NG/beacons.log"
expect_rc "wrapper tag plays" 0 "$VASTRACK" play --fire --fast --allow-private "$B/s/mid-wrapper.xml"
wtx=$(sed -n 's#^/s/mid-inline\.xml?.*&tx=\([0-9a-f-]*\)|.*#\1#p' "$NG/tags.log")
echo "$wtx" | grep -Eq '^[0-9a-f-]{36}$' && ok "wrapper hop: the resolver's UUID" || nok "wrapper hop UUID" "$(cat "$NG/tags.log")"
n=$(grep -c "^/px/m[wi]-imp?.*&tx=$wtx[|&]" "$NG/beacons.log")
[ "$n" = 2 ] && ok "both impressions carry the resolution's TRANSACTIONID" || nok "beacons share the TRANSACTIONID" "$(cat "$NG/beacons.log")"
n=$(grep -c '^/s/mid-wrapper\.xml|' "$NG/tags.log")
[ "$n" = 1 ] && ok "a wrapper URL input is fetched once" || nok "wrapper URL fetched once" "$(cat "$NG/tags.log")"
# --ssai on a URL input: the first request carries the device headers like every hop
: > "$NG/tags.log"; : > "$NG/beacons.log"
expect_rc "ssai play of a URL input" 0 "$VASTRACK" play --fire --fast --allow-private --ssai \
  --device-ip 203.0.113.7 --device-ua "Dev/1 (tv)" --device-referer http://pub.example/p \
  --device-accept-language fr-CA --device-requested-with com.example.app "$B/s/mid-wrapper.xml"
expect_grep "the input URL request got the five device headers" "^/s/mid-wrapper\\.xml\\|$H" "$NG/tags.log"
n=$(grep -c "|$H" "$NG/tags.log"); t=$(wc -l < "$NG/tags.log")
[ "$n" = 2 ] && [ "$t" = 2 ] && ok "input and hop: two tag requests, both with the headers" || nok "two tag requests with headers" "$(cat "$NG/tags.log")"
cp "$TMP/vmap.xml" "$W/vmap-in.xml"; chmod 644 "$W/vmap-in.xml"
: > "$NG/tags.log"
expect_rc "ssai play of a VMAP URL" 1 "$VASTRACK" play --allow-private --ssai --device-ip 203.0.113.7 \
  --device-ua "Dev/1 (tv)" --content-duration 60 "$B/s/vmap-in.xml"
expect_grep "the VMAP URL request got the device headers" '^/s/vmap-in\.xml\|203\.0\.113\.7\|Dev/1 \(tv\)\|' "$NG/tags.log"
expect_rc "caller TRANSACTIONID wins" 0 "$VASTRACK" play --fire --fast --allow-private --macro TRANSACTIONID=given-1 "$B/s/mid-wrapper.xml"
expect_grep "caller TRANSACTIONID on the hop" '^/s/mid-inline\.xml\?.*&tx=given-1\|' "$NG/tags.log"
expect_grep "caller TRANSACTIONID on the beacon" '^/px/mi-imp\?.*&tx=given-1&' "$NG/beacons.log"

# the client side: no device headers on the hops, SERVERSIDE 0
: > "$NG/tags.log"
expect_rc "client-side dry run of the vmap" 1 "$VASTRACK" play --allow-private --content-duration 60 "$TMP/vmap.xml"
n=$(grep -c '^/s/.*|-|-|-|-|-$' "$NG/tags.log")
[ "$n" = 3 ] && ok "client side: no X-Device headers on tag requests" || nok "client side: no X-Device headers" "$(cat "$NG/tags.log")"
expect_grep "client side: SERVERSIDE 0 in the wrapper URI" '^/s/mid-inline\.xml\?ip=-1&ua=-1&ss=0&tx=' "$NG/tags.log"
expect_grep "dry run prints the break error" '^[0-9.]+ - error http://127\.0\.0\.1:[0-9]+/px/gone-error\?c=1008&bp=2$' "$TMP/out"

# --- resolve on the VMAP: each break's chain hop by hop -------------------------
chmod 644 "$W"/*.xml
expect_rc "resolve a vmap" 0 "$VASTRACK" resolve "$TMP/vmap.xml"
expect_grep "resolve: break 2 header" '^break 2: timeOffset 50% \(midroll\), breakType linear, breakId mid, source AdTagURI$' "$TMP/out"
expect_grep "resolve: break 2 chain" '^ad 1 \(sequence 1\): mw \(wrapper\) -> mi \(inline\)$' "$TMP/out"
expect_grep "resolve: break 3 failed 301" '^break 3 failed \[301\]' "$TMP/out"
expect_grep "resolve: summary" '^3 of 4 breaks resolved$' "$TMP/out"
cp "$TMP/vmap.xml" "$W/vmap.xml"; chmod 644 "$W/vmap.xml"
expect_rc "resolve a vmap over http" 0 "$VASTRACK" resolve --json "$B/s/vmap.xml"
expect_grep "resolve --json: vmap with breaks" '^\{"vmap":true,"version":"1\.0","breaks":\[\{"index":0,"timeOffset":"start"' "$TMP/out"

# --- resolve headers refused when they could split a request -----------------
expect_rc "ssai device value with CR refused" 2 "$VASTRACK" play --ssai --device-ip 1.2.3.4 --device-ua ua \
  --device-referer "$(printf 'a\rb')" "$TMP/vmap.xml"
expect_rc "--device-referer needs --ssai" 2 "$VASTRACK" play --device-referer http://x/ "$TMP/vmap.xml"
finish
