#!/bin/sh
# net.sh: `vastrack resolve` and `vastrack play` (firing) end to end against a
# real nginx on 127.0.0.1 started here: the corpus chain over HTTP and from
# disk, failure codes, every beacon received exactly once with the right
# headers, the private-address guard, SSAI headers, the --log records.
. tests/cli/lib.sh
S=$C/dailymotion__vast-client-js/spec/samples
case "$S" in /*) ;; *) S=$PWD/$S ;; esac

command -v nginx > /dev/null || { nok "nginx installed" "nginx not found (make deps)"; finish; }

NG=$TMP/ng
mkdir -p "$NG"
cat > "$NG/conf.in" <<EOF
worker_processes 1;
daemon off;
pid $NG/nginx.pid;
error_log $NG/error.log;
events { worker_connections 256; }
http {
  log_format beacon '\$request_uri|\$http_user_agent|\$http_x_device_ip|\$http_x_device_user_agent|\$http_x_forwarded_for';
  access_log off;
  client_body_temp_path $NG/cb; proxy_temp_path $NG/pt; fastcgi_temp_path $NG/ft;
  uwsgi_temp_path $NG/ut; scgi_temp_path $NG/st;
  server {
    listen 127.0.0.1:PORT;
    location /s/ { alias $S/; access_log $NG/tags.log beacon; }
    location /px/ { empty_gif; access_log $NG/beacons.log beacon; }
    location /slow/ { return 404; }
  }
}
EOF
NGPID=
trap '[ -n "$NGPID" ] && kill $NGPID 2>/dev/null; rm -rf "$TMP"' EXIT
start_nginx "$NG" $((20000 + $$ % 20000))
B=http://127.0.0.1:$port

# --- resolve -------------------------------------------------------------
expect_rc "resolve corpus chain over http" 0 "$VASTRACK" resolve "$B/s/wrapper-a.xml"
expect_grep "http chain outermost first" '^ad 1: 4321 \(wrapper\) -> 1234 \(wrapper\) -> ad_id_0002 \(inline\)$' "$TMP/out"
n=$(grep -c '^hop [0-9]  depth [0-9]  200 ' "$TMP/out")
[ "$n" = 3 ] && ok "three hops with status 200" || nok "three hops with status 200" "got $n"

expect_rc "resolve corpus chain from disk" 0 "$VASTRACK" resolve "$S/wrapper-a.xml"
expect_grep "disk chain" '^ad 1: 4321 \(wrapper\) -> 1234 \(wrapper\) -> ad_id_0002 \(inline\)$' "$TMP/out"

expect_rc "resolve --json" 0 "$VASTRACK" resolve --json "$B/s/wrapper-b.xml"
expect_grep "json hop status" '"status":200' "$TMP/out"

expect_rc "404 fails" 1 "$VASTRACK" resolve --json "$B/s/nope.xml"
expect_grep "404 is IAB 301" 'VAST code 301' "$TMP/err"

expect_rc "wrapper limit" 1 "$VASTRACK" resolve --max-wrappers 1 "$B/s/wrapper-b.xml" --max-wrappers 0
expect_grep "limit is IAB 302" '^failed \[302\]' "$TMP/out"
expect_grep "limit fires the wrapper's Error URL" 'error URL \[302\]: http://example.com/wrapperB-error' "$TMP/out"
# wrapper-a is a buffet: with one wrapper allowed, 4321 -> 1234 fails (302), 2032 -> vpaid.xml plays
expect_rc "buffet after a limit" 0 "$VASTRACK" resolve --max-wrappers 1 "$B/s/wrapper-a.xml"
expect_grep "buffet picks the next ad" '^ad 1: 2032 \(wrapper\) -> VPAID \(inline\)$' "$TMP/out"
expect_grep "buffet records the failure" '^failed \[302\]: wrapper limit of 1 reached: 4321 \(wrapper\) -> 1234 \(wrapper\)$' "$TMP/out"
expect_grep "failed levels fire with 302" 'error URL \[302\]: http://example.com/wrapperA-error' "$TMP/out"

expect_rc "no ad after wrapper" 1 "$VASTRACK" resolve "$B/s/wrapper-empty.xml"
expect_grep "no ad is IAB 303" 'error URL \[303\]: http://example.com/wrapper-empty_wrapper-error' "$TMP/out"

expect_rc "resolve --help" 0 "$VASTRACK" resolve --help
expect_rc "resolve bad option" 2 "$VASTRACK" resolve --bogus x
expect_rc "resolve bad number" 2 "$VASTRACK" resolve --timeout abc x

# URL inputs of other commands go through cli_fetch_url
expect_rc "inspect reads a URL" 0 "$VASTRACK" inspect "$B/s/sample.xml"
expect_rc "inspect 404 URL" 4 "$VASTRACK" inspect "$B/s/missing.xml"
expect_grep "fetch error names the URL" "cannot fetch '$B/s/missing.xml': HTTP status 404" "$TMP/err"

# --- play (firing) ----------------------------------------------------------
cat > "$TMP/inline.xml" <<EOF
<VAST version="4.2"><Ad id="i1"><InLine><AdSystem>T</AdSystem><AdTitle>t</AdTitle>
<Impression><![CDATA[$B/px/imp1?cb=[CACHEBUSTING]]]></Impression>
<Impression><![CDATA[$B/px/imp2]]></Impression>
<Creatives><Creative><Linear><Duration>00:00:04</Duration>
<TrackingEvents>
<Tracking event="start"><![CDATA[$B/px/start]]></Tracking>
<Tracking event="firstQuartile"><![CDATA[$B/px/q1]]></Tracking>
<Tracking event="midpoint"><![CDATA[$B/px/mid]]></Tracking>
<Tracking event="thirdQuartile"><![CDATA[$B/px/q3]]></Tracking>
<Tracking event="complete"><![CDATA[$B/px/complete?ss=[SERVERSIDE]]]></Tracking>
</TrackingEvents>
<MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="640" height="360">http://cdn.invalid/a.mp4</MediaFile></MediaFiles>
</Linear></Creative></Creatives></InLine></Ad></VAST>
EOF
cat > "$TMP/wrapper.xml" <<EOF
<VAST version="4.2"><Ad id="w1"><Wrapper><AdSystem>T</AdSystem>
<VASTAdTagURI>inline.xml</VASTAdTagURI>
<Impression><![CDATA[$B/px/wimp]]></Impression>
<Creatives><Creative><Linear><TrackingEvents>
<Tracking event="start"><![CDATA[$B/px/wstart]]></Tracking>
</TrackingEvents></Linear></Creative></Creatives>
</Wrapper></Ad></VAST>
EOF

: > "$NG/beacons.log"
expect_rc "play fires a wrapper chain" 0 "$VASTRACK" play --fire --fast --allow-private --log "$TMP/fired.jsonl" "$TMP/wrapper.xml"
for p in wimp imp1 imp2 start wstart q1 mid q3 complete; do
  n=$(grep -c "^/px/$p[?|]" "$NG/beacons.log")
  [ "$n" = 1 ] && ok "beacon $p received once" || nok "beacon $p received once" "received $n times"
done
n=$(wc -l < "$NG/beacons.log")
[ "$n" = 9 ] && ok "nothing else received" || nok "nothing else received" "$n requests"
expect_grep "own User-Agent" "^/px/imp2\\|vastrack/[0-9.]+\\|-\\|" "$NG/beacons.log"
expect_grep "client-side SERVERSIDE=0" '^/px/complete\?ss=0\|' "$NG/beacons.log"
n=$(grep -c '"status":200,"latencyMs":[0-9.]*,"error":null}$' "$TMP/fired.jsonl")
[ "$n" = 9 ] && ok "log has 9 delivered records" || nok "log has 9 delivered records" "$n"
expect_grep "log record fields" '^\{"t":0\.000,"media":0\.000,"event":"impression","url":"http://127\.0\.0\.1:[0-9]+/px/wimp","level":0,"beacon":true,"sent":true,"status":200,"latencyMs":[0-9.]+,"error":null\}$' "$TMP/fired.jsonl"
expect_grep "log has media time of complete" '"t":4\.000,"media":4\.000,"event":"complete"' "$TMP/fired.jsonl"
expect_grep "printed delivery" '^0\.00 0\.00 impression 200 [0-9.]+ms http' "$TMP/out"

: > "$NG/beacons.log"
expect_rc "private destinations refused by default" 1 "$VASTRACK" play --fire --fast "$TMP/inline.xml"
expect_grep "refusal printed" 'impression error \(destination address refused.*--allow-private' "$TMP/out"
n=$(wc -l < "$NG/beacons.log")
[ "$n" = 0 ] && ok "refused beacons never sent" || nok "refused beacons never sent" "$n requests"

: > "$NG/beacons.log"
expect_rc "play --ssai" 0 "$VASTRACK" play --fire --fast --ssai --device-ip 198.51.100.9 --device-ua "TV/1.0 (x)" --xff --allow-private --json "$TMP/inline.xml"
n=$(grep -c '|vastrack/[0-9.]*|198\.51\.100\.9|TV/1\.0 (x)|198\.51\.100\.9$' "$NG/beacons.log")
[ "$n" = 7 ] && ok "ssai headers on every beacon" || nok "ssai headers on every beacon" "$n of 7: $(head -3 "$NG/beacons.log")"
expect_grep "ssai SERVERSIDE=1" '^/px/complete\?ss=1\|' "$NG/beacons.log"
expect_grep "json delivery lines" '^\{"t":[0-9.]+,"media":[0-9.]+,"event":"start","url":"[^"]+","level":[0-9]+,"beacon":true,"sent":true,"status":200,' "$TMP/out"

expect_rc "ssai needs the device" 2 "$VASTRACK" play --ssai --device-ip 1.2.3.4 "$TMP/inline.xml"
expect_rc "dry run sends nothing" 0 "$VASTRACK" play --dry-run --allow-private "$TMP/inline.xml"

# --- one policy for every request (issue 12) ----------------------------------
# A wrapper on disk (a "public" tag) whose VASTAdTagURI points at loopback.
cat > "$TMP/wrapper-lb.xml" <<EOF
<VAST version="4.2"><Ad id="wl"><Wrapper><AdSystem>T</AdSystem>
<VASTAdTagURI><![CDATA[$B/s/sample.xml]]></VASTAdTagURI>
<Error><![CDATA[$B/px/err?c=[ERRORCODE]]]></Error>
<Impression><![CDATA[$B/px/wlimp]]></Impression>
</Wrapper></Ad></VAST>
EOF
: > "$NG/tags.log"
: > "$NG/beacons.log"
expect_rc "play: wrapper hop to loopback refused" 4 "$VASTRACK" play --dry-run "$TMP/wrapper-lb.xml"
expect_grep "play: hop refusal named" 'destination address refused' "$TMP/err"
n=$(wc -l < "$NG/tags.log")
[ "$n" = 0 ] && ok "play: refused hop never fetched" || nok "play: refused hop never fetched" "$n requests"
expect_rc "play --ssai: wrapper hop refused" 4 "$VASTRACK" play --ssai --device-ip 198.51.100.9 --device-ua TV "$TMP/wrapper-lb.xml"
n=$(wc -l < "$NG/tags.log")
[ "$n" = 0 ] && ok "play --ssai: refused hop never fetched" || nok "play --ssai: refused hop never fetched" "$n requests"
expect_rc "play --allow-private follows the hop" 0 "$VASTRACK" play --dry-run --allow-private "$TMP/wrapper-lb.xml"
n=$(wc -l < "$NG/tags.log")
[ "$n" = 1 ] && ok "play --allow-private: hop fetched once" || nok "play --allow-private: hop fetched once" "$n requests"

: > "$NG/tags.log"
: > "$NG/beacons.log"
expect_rc "resolve --refuse-private --fire-errors" 1 "$VASTRACK" resolve --refuse-private --fire-errors "$TMP/wrapper-lb.xml"
expect_grep "resolve: Error URL listed" "error URL \\[301\\]: $B/px/err\\?c=301" "$TMP/out"
expect_grep "resolve: Error URL refused" "error URL $B/px/err\\?c=301: destination address refused" "$TMP/err"
n=$(cat "$NG/tags.log" "$NG/beacons.log" | wc -l)
[ "$n" = 0 ] && ok "resolve --refuse-private: nothing reached loopback" || nok "resolve --refuse-private: nothing reached loopback" "$n requests"
expect_rc "resolve without the guard follows the hop" 0 "$VASTRACK" resolve --fire-errors "$TMP/wrapper-lb.xml"

# --- header injection (issue 12) ----------------------------------------------
: > "$NG/beacons.log"
CRLF=$(printf '\r\nX-Inj: 1')
expect_rc "play --ssai: device IP with CRLF refused" 2 "$VASTRACK" play --ssai --device-ip "1.2.3.4$CRLF" --device-ua TV --allow-private "$TMP/inline.xml"
expect_rc "play --ssai: device UA with CRLF refused" 2 "$VASTRACK" play --ssai --device-ip 1.2.3.4 --device-ua "evil$CRLF" --allow-private "$TMP/inline.xml"
expect_rc "play --ssai: device IP not an address" 2 "$VASTRACK" play --ssai --device-ip example.com --device-ua TV --allow-private "$TMP/inline.xml"
n=$(wc -l < "$NG/beacons.log")
[ "$n" = 0 ] && ok "injected headers never sent" || nok "injected headers never sent" "$n requests"

# --- terminal output of received data (issue 12) ------------------------------
# XML 1.0 allows DEL and the C1 controls (U+009B is a CSI on some terminals).
cat > "$TMP/ctl.xml" <<EOF2
<VAST version="4.2"><Ad id="c1"><InLine><AdSystem>T</AdSystem><AdTitle>t</AdTitle>
<Impression><![CDATA[http://example.com/a]]>&#x9b;2J&#x7f;b</Impression>
<Error><![CDATA[http://example.com/e]]>&#x9b;31m?c=[ERRORCODE]</Error>
<Creatives><Creative><Linear><Duration>00:00:04</Duration>
<MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://cdn.invalid/a.mp4</MediaFile></MediaFiles>
</Linear></Creative></Creatives></InLine></Ad></VAST>
EOF2
expect_rc "play --dry-run with control characters in a URL" 0 "$VASTRACK" play --dry-run "$TMP/ctl.xml"
expect_grep "play: C1 and DEL escaped" '^0\.00 0\.00 impression http://example\.com/a\\x9b2J\\x7fb$' "$TMP/out"
if LC_ALL=C grep -q "$(printf '\302\233')" "$TMP/out"; then nok "play: no raw C1 on the terminal"; else ok "play: no raw C1 on the terminal"; fi
cat > "$TMP/ctlw.xml" <<EOF2
<VAST version="4.2"><Ad id="w&#x9b;2J"><Wrapper><AdSystem>T</AdSystem>
<VASTAdTagURI><![CDATA[$B/s/missing-tag.xml]]></VASTAdTagURI>
<Error><![CDATA[http://example.com/e]]>&#x9b;31m?c=[ERRORCODE]</Error>
</Wrapper></Ad></VAST>
EOF2
expect_rc "resolve with control characters in the tag" 1 "$VASTRACK" resolve "$TMP/ctlw.xml"
expect_grep "resolve: ad id escaped" 'w\\x9b2J \(wrapper\)' "$TMP/out"
expect_grep "resolve: Error URL escaped" 'error URL \[301\]: http://example\.com/e(\\x9b|%C2%9B)31m' "$TMP/out"
if LC_ALL=C grep -q "$(printf '\302\233')" "$TMP/out"; then nok "resolve: no raw C1 on the terminal"; else ok "resolve: no raw C1 on the terminal"; fi

finish
