#!/bin/sh
# ssai.sh: `vastrack ssai` end to end over loopback: a real nginx on 127.0.0.1
# serves a pod (a two-wrapper chain, then an InLine) and receives the beacons.
# SSAI_SESSIONS sessions (default 1000; bench/bench-ssai.c holds more) each add
# the break and report every segment of both ads in one batch: every expected
# beacon must reach nginx exactly once, with the session's X-Device-IP and
# X-Device-User-Agent, in order per ad. Then kill -9 with reports just
# accepted, a restart on the same --state: nothing missing, repeats counted.
. tests/cli/lib.sh
N=${SSAI_SESSIONS:-1000}
command -v nginx > /dev/null || { nok "nginx installed" "nginx not found (make deps)"; finish; }
command -v curl > /dev/null || { nok "curl installed" "curl not found"; finish; }

NG=$TMP/ng
mkdir -p "$NG/s"
chmod 755 "$TMP" "$NG" "$NG/s" # nginx workers read the tags
cat > "$NG/conf.in" <<CONF
worker_processes 1;
daemon off;
pid $NG/nginx.pid;
error_log $NG/error.log;
events { worker_connections 1024; }
http {
  log_format beacon '\$request_uri|\$http_x_device_ip|\$http_x_device_user_agent';
  access_log off;
  client_body_temp_path $NG/cb; proxy_temp_path $NG/pt; fastcgi_temp_path $NG/ft;
  uwsgi_temp_path $NG/ut; scgi_temp_path $NG/st;
  keepalive_requests 100000;
  # the kill -9 round (devices 10.1.40.*) is slowed to 100 beacons/s, so beacons
  # are still queued and in flight when the service is killed
  map \$http_x_device_ip \$slow { "~^10[.]1[.]40[.]" "k"; default ""; }
  limit_req_zone \$slow zone=slow:1m rate=100r/s;
  server {
    listen 127.0.0.1:PORT;
    location /s/ { alias $NG/s/; }
    location /px/ { limit_req zone=slow burst=100000; empty_gif; access_log $NG/beacons.log beacon; }
  }
}
CONF
NGPID=; SPID=
trap '[ -n "$NGPID" ] && kill $NGPID 2>/dev/null; [ -n "$SPID" ] && kill -9 $SPID 2>/dev/null; rm -rf "$TMP"' EXIT
start_nginx "$NG" $((20000 + $$ % 20000))
B=http://127.0.0.1:$port
px() { echo "$B/px/$1/$2?ip=[DEVICEIP]"; }
lin() { # an InLine with the five progress events
  cat <<XML
<Linear><Duration>00:00:30</Duration><TrackingEvents>
<Tracking event="start">$(px $1 start)</Tracking>
<Tracking event="firstQuartile">$(px $1 q1)</Tracking>
<Tracking event="midpoint">$(px $1 mid)</Tracking>
<Tracking event="thirdQuartile">$(px $1 q3)</Tracking>
<Tracking event="complete">$(px $1 complete)</Tracking>
</TrackingEvents><MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="640" height="360">http://cdn.example/$1.mp4</MediaFile></MediaFiles></Linear>
XML
}
umask 022
cat > "$NG/s/pod.xml" <<XML
<VAST version="4.2">
<Ad id="w1" sequence="1"><Wrapper><AdSystem>w</AdSystem><VASTAdTagURI>$B/s/w2.xml</VASTAdTagURI>
<Impression>$(px w1 imp)</Impression><Creatives><Creative><Linear><TrackingEvents>
<Tracking event="midpoint">$(px w1 mid)</Tracking></TrackingEvents></Linear></Creative></Creatives></Wrapper></Ad>
<Ad id="b" sequence="2"><InLine><AdSystem>t</AdSystem><AdTitle>b</AdTitle><Impression>$(px b imp)</Impression>
<Creatives><Creative>$(lin b)</Creative></Creatives></InLine></Ad>
</VAST>
XML
cat > "$NG/s/w2.xml" <<XML
<VAST version="4.2"><Ad id="w2"><Wrapper><AdSystem>w</AdSystem><VASTAdTagURI>$B/s/a.xml</VASTAdTagURI>
<Impression>$(px w2 imp)</Impression></Wrapper></Ad></VAST>
XML
cat > "$NG/s/a.xml" <<XML
<VAST version="4.2"><Ad id="a"><InLine><AdSystem>t</AdSystem><AdTitle>a</AdTitle><Impression>$(px a imp)</Impression>
<Creatives><Creative>$(lin a)</Creative></Creatives></InLine></Ad></VAST>
XML

STATE=$TMP/state
start_ssai() {
  "$VASTRACK" ssai --listen 127.0.0.1:0 --state "$STATE" --allow-private "$@" > "$TMP/ssai.out" 2> "$TMP/ssai.err" &
  SPID=$!
  SP=
  for i in $(seq 1 100); do
    SP=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$TMP/ssai.out")
    [ -n "$SP" ] && break
    sleep 0.1
  done
  S=http://127.0.0.1:$SP
}
post() { curl -sS -o "$TMP/resp" -w '%{http_code}' -H 'Content-Type: application/json' -d "$2" "$S$1"; }
metric() { curl -sS "$S/metrics" | sed -n "s/^$1 //p"; }
wait_idle() {
  for i in $(seq 1 300); do
    [ "$(metric vastrack_ssai_beacons_pending)" = 0 ] && return 0
    sleep 0.1
  done
  return 1
}
ALL='{"reports":[{"ad":0,"segment":0,"segmentDuration":6},{"ad":0,"segment":1,"segmentDuration":6},{"ad":0,"segment":2,"segmentDuration":6},{"ad":0,"segment":3,"segmentDuration":6},{"ad":0,"segment":4,"segmentDuration":6},{"ad":1,"segment":0,"segmentDuration":6},{"ad":1,"segment":1,"segmentDuration":6},{"ad":1,"segment":2,"segmentDuration":6},{"ad":1,"segment":3,"segmentDuration":6},{"ad":1,"segment":4,"segmentDuration":6}]}'
# play SESSIONS FIRST: sessions FIRST.. with device IP 10.1.x.y, the whole pod;
# one curl per session (three requests on one connection); prints the failures
play() {
  i=$2
  while [ $i -lt $(($2 + $1)) ]; do
    ip=10.1.$((i / 250)).$((i % 250 + 1))
    curl -sS -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
      -d "{\"sessionId\":\"s$i\",\"deviceIp\":\"$ip\",\"userAgent\":\"UA-$i\"}" "$S/v1/sessions" --next \
      -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
      -d "{\"url\":\"$B/s/pod.xml\"}" "$S/v1/sessions/s$i/breaks" --next \
      -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
      -d "$ALL" "$S/v1/sessions/s$i/reports"
    i=$((i + 1))
  done | grep -cv '^20[01]$'
}
# check FIRST N: every beacon of sessions FIRST.. once (or at least once with
# ATLEAST=1), headers matching, order per ad; prints "missing dup badhdr badorder"
check() {
  awk -F'|' -v first=$1 -v n=$2 -v atleast=${3:-0} '
    { split($1, a, "?"); split(a[1], p, "/"); ip = substr(a[2], 4)
      if (ip == "192.0.2.1") next   # session t0 of the API checks
      ad = p[3]; ev = p[4]; key = ip SUBSEP ad SUBSEP ev
      cnt[key]++; if (!(key in pos)) pos[key] = NR
      if ($2 != ip) badhdr++
      split(ip, o, "."); i = o[3] * 250 + o[4] - 1
      if ($3 != "UA-" i) badhdr++ }
    END {
      split("a:imp start q1 mid q3 complete|b:imp start q1 mid q3 complete|w1:imp|w1:mid|w2:imp", ads, "|")
      for (i = first; i < first + n; i++) {
        ip = "10.1." int(i / 250) "." (i % 250 + 1)
        for (k in ads) {
          split(ads[k], x, ":"); m = split(x[2], evs, " ")
          for (e = 1; e <= m; e++) {
            key = ip SUBSEP x[1] SUBSEP evs[e]
            if (!(key in cnt)) missing++
            else if (cnt[key] > 1) dup += cnt[key] - 1
            if (e > 1 && (key in pos) && (ip SUBSEP x[1] SUBSEP evs[e-1]) in pos &&
                pos[ip SUBSEP x[1] SUBSEP evs[e-1]] > pos[key]) badorder++
          }
        }
      }
      printf "%d %d %d %d\n", missing, dup, badhdr, badorder
    }' "$NG/beacons.log"
}

start_ssai
[ -n "$SP" ] && ok "ssai listening" || { nok "ssai listening" "$(cat "$TMP/ssai.err")"; finish; }
c=$(curl -sS -o "$TMP/resp" -w '%{http_code}' "$S/healthz"); [ "$c" = 200 ] && ok "healthz" || nok "healthz" "$c"
c=$(post /v1/sessions '{"deviceIp":"nope","userAgent":"x"}'); [ "$c" = 400 ] && ok "bad device is 400" || nok "bad device is 400" "$c"
c=$(post /v1/sessions/none/reports '{"ad":0,"mediaTime":1}'); [ "$c" = 404 ] && ok "unknown session is 404" || nok "unknown session is 404" "$c"
c=$(post /v1/sessions 'not json'); [ "$c" = 400 ] && ok "bad JSON is 400" || nok "bad JSON is 400" "$c"

c=$(post /v1/sessions '{"sessionId":"t0","deviceIp":"192.0.2.1","userAgent":"UA-t"}')
c=$(post /v1/sessions/t0/breaks "{\"url\":\"$B/s/pod.xml\"}"); cp "$TMP/resp" "$TMP/timeline.json"
[ "$c" = 200 ] && ok "break added: the timeline" || nok "break added" "$c $(cat "$TMP/resp")"
c=$(post /v1/sessions/t0/reports '{"ad":0,"mediaTime":0.5}'); [ "$c" = 200 ] && ok "a position report" || nok "a position report" "$c"
c=$(post /v1/sessions/t0/events '{"ad":0,"event":"mute"}'); [ "$c" = 200 ] && ok "a player event" || nok "a player event" "$c"
c=$(post /v1/sessions/t0/events '{"ad":0,"event":"dance"}'); [ "$c" = 400 ] && ok "an unknown event is 400" || nok "unknown event" "$c"
c=$(post /v1/sessions/t0/events '{"ad":9,"event":"mute"}'); [ "$c" = 404 ] && ok "an unknown ad is 404" || nok "unknown ad" "$c"
c=$(post /v1/sessions/t0/reports '{"reports":[{"ad":1,"segment":4,"segmentDuration":6},{"ad":1,"segment":5,"segmentDuration":6}]}')
expect_grep "batch: the second report of an ad already over is refused" '"results":\["ok","VAST_E_STATE"\],"accepted":1' "$TMP/resp"
c=$(post /v1/reports '{"reports":[{"sessionId":"t0","ad":1,"mediaTime":1},{"sessionId":"none","ad":0,"mediaTime":1},{"ad":0,"mediaTime":1}]}')
expect_grep "cross-session batch: a result per report" '"results":\["VAST_E_STATE","VAST_E_NOT_FOUND","VAST_E_INVAL"\],"accepted":0' "$TMP/resp"
# a break whose tag answers after 2 s does not hold the others up
python3 -c '
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(2)
        b = open(sys.argv[1], "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_port, flush=True)
s.serve_forever()' "$NG/s/a.xml" > "$TMP/slow.port" &
PYPID=$!
for i in $(seq 1 50); do [ -s "$TMP/slow.port" ] && break; sleep 0.1; done
post /v1/sessions '{"sessionId":"t1","deviceIp":"192.0.2.1","userAgent":"UA-t"}' > /dev/null
curl -sS -o "$TMP/slow.json" -w '%{http_code} %{time_total}' -H 'Content-Type: application/json' \
  -d "{\"url\":\"http://127.0.0.1:$(cat "$TMP/slow.port")/slow.xml\"}" "$S/v1/sessions/t1/breaks" > "$TMP/slow.code" &
SLOWPID=$!
sleep 0.5
t=$(curl -sS -o /dev/null -w '%{time_total}' "$S/healthz")
c=$(post /v1/sessions/t0/reports '{"ad":0,"mediaTime":1}')
wait $SLOWPID
kill $PYPID 2>/dev/null; wait $PYPID 2>/dev/null
set -- $(cat "$TMP/slow.code")
awk -v t="$t" -v s="$2" 'BEGIN { exit !(t < 1.0 && s >= 1.5) }' && [ "$c" = 200 ] \
  && ok "a slow break resolves aside: healthz in ${t}s, report $c, the break in ${2}s" \
  || nok "a slow break resolves aside" "healthz ${t}s report $c break $*"
[ "$1" = 200 ] && grep -q '"adId":"a"' "$TMP/slow.json" && ok "the slow break answers its timeline" \
  || nok "the slow break answers" "$* $(cat "$TMP/slow.json")"
curl -sS -o /dev/null -X DELETE "$S/v1/sessions/t1"
# a VMAP by URL is split into breaks (no report here: no beacon is due)
cat > "$NG/s/vmap.xml" <<XML
<vmap:VMAP xmlns:vmap="http://www.iab.net/videosuite/vmap" version="1.0">
<vmap:AdBreak timeOffset="start" breakType="linear" breakId="pre"><vmap:AdSource>
<vmap:AdTagURI templateType="vast4">$B/s/a.xml</vmap:AdTagURI></vmap:AdSource><vmap:TrackingEvents>
<vmap:Tracking event="breakStart">$B/bt/pre/start</vmap:Tracking></vmap:TrackingEvents></vmap:AdBreak>
<vmap:AdBreak timeOffset="00:10:00" breakType="linear" breakId="mid"><vmap:AdSource>
<vmap:AdTagURI templateType="vast4">$B/s/pod.xml</vmap:AdTagURI></vmap:AdSource></vmap:AdBreak>
</vmap:VMAP>
XML
post /v1/sessions '{"sessionId":"v0","deviceIp":"192.0.2.1","userAgent":"UA-t"}' > /dev/null
c=$(post /v1/sessions/v0/breaks "{\"url\":\"$B/s/vmap.xml\"}")
[ "$c" = 200 ] && grep -q '"break":0,"ads":\[{"ad":0,"adId":"a"' "$TMP/resp" \
  && grep -q '"break":1,"ads":\[{"ad":1,"adId":"a",.*"chain":\["w1","w2","a"\]' "$TMP/resp" \
  && grep -qF "\"breakEvents\":[{\"event\":\"breakStart\",\"urls\":[\"$B/bt/pre/start\"]}]" "$TMP/resp" \
  && python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["breaks"][0], open(sys.argv[2], "w"))' \
       "$TMP/resp" "$TMP/vmap-break.json" \
  && python3 tests/cli/jsonschema.py docs/json.md SsaiTimeline "$TMP/vmap-break.json" 2> "$TMP/schema.err" \
  && ok "a VMAP by URL: two breaks, their timelines, breakEvents" || nok "a VMAP by URL" "$c $(cat "$TMP/resp" "$TMP/schema.err")"
c=$(post /v1/sessions/v0/breaks "{\"url\":\"$B/s/none.xml\"}")
[ "$c" = 502 ] && grep -q '(IAB error 301)' "$TMP/resp" && ok "a break URL that 404s: 502 with its IAB code" \
  || nok "a break URL that 404s" "$c $(cat "$TMP/resp")"
curl -sS -o /dev/null -X DELETE "$S/v1/sessions/v0"
# the same inline VAST document for two sessions: the second is the cached break,
# answered on the API thread (no trip through the resolver pool), same timeline
python3 -c 'import json,sys; print(json.dumps({"vast": open(sys.argv[1]).read()}))' "$NG/s/a.xml" > "$TMP/inline.json"
post /v1/sessions '{"sessionId":"i1","deviceIp":"192.0.2.1","userAgent":"UA-t"}' > /dev/null
post /v1/sessions '{"sessionId":"i2","deviceIp":"192.0.2.2","userAgent":"UA-u"}' > /dev/null
c1=$(post /v1/sessions/i1/breaks "$(cat "$TMP/inline.json")"); sed 's/"sessionId":"i1"//' "$TMP/resp" > "$TMP/i1.json"
c2=$(post /v1/sessions/i2/breaks "$(cat "$TMP/inline.json")"); sed 's/"sessionId":"i2"//' "$TMP/resp" > "$TMP/i2.json"
[ "$c1" = 200 ] && [ "$c2" = 200 ] && grep -q '"adId":"a"' "$TMP/i2.json" && cmp -s "$TMP/i1.json" "$TMP/i2.json" \
  && ok "an inline VAST twice: the cached break, the same timeline" || nok "inline VAST twice" "$c1 $c2 $(cat "$TMP/i1.json" "$TMP/i2.json")"
curl -sS -o /dev/null -X DELETE "$S/v1/sessions/i1"; curl -sS -o /dev/null -X DELETE "$S/v1/sessions/i2"
c=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$S/v1/sessions/t0"); [ "$c" = 200 ] && ok "session ended" || nok "session ended" "$c"
bad=$(play $N 0)
[ "$bad" = 0 ] && ok "$N sessions: created, break added, reports accepted" || nok "$N sessions accepted" "$bad requests failed"
expect_grep "timeline: the pod, wrapper chain first" '"chain":\["w1","w2","a"\]' "$TMP/timeline.json"
expect_grep "timeline: second ad starts at 30 s" '"ad":1,"adId":"b","adSystem":"t","sequence":2,"offset":30,"duration":30' "$TMP/timeline.json"
python3 tests/cli/jsonschema.py docs/json.md SsaiTimeline "$TMP/timeline.json" 2> "$TMP/schema.err" \
  && ok "timeline: matches SsaiTimeline in docs/json.md" || nok "timeline schema" "$(cat "$TMP/schema.err")"
expect_grep "timeline: quartile time and URLs" '\{"event":"midpoint","time":15,"urls":\[' "$TMP/timeline.json"
wait_idle && ok "every beacon answered" || nok "every beacon answered" "pending $(metric vastrack_ssai_beacons_pending)"
r=$(check 0 $N)
[ "$r" = "0 0 0 0" ] && ok "$N sessions: every beacon exactly once, right headers, in order per ad" || nok "exactly once, headers, order" "missing dup badhdr badorder: $r"
want=$((N * 15 + 10)) # + t0: ad 0 three impressions and start, ad 1 all six
[ "$(metric vastrack_ssai_beacons_sent_total)" = $want ] && ok "metrics: $want sent" || nok "metrics: sent" "$(metric vastrack_ssai_beacons_sent_total), want $want"
curl -sS "$S/metrics" > "$TMP/metrics"
expect_grep "metrics: lateness histogram" "^vastrack_ssai_lateness_seconds_count $want\$" "$TMP/metrics"

# a session mid-ad when the service is killed: it must survive the restart
post /v1/sessions '{"sessionId":"k1","deviceIp":"192.0.2.1","userAgent":"UA-t"}' > /dev/null
post /v1/sessions/k1/breaks "{\"url\":\"$B/s/a.xml\"}" > /dev/null
post /v1/sessions/k1/reports '{"ad":0,"segment":0,"segmentDuration":6}' > /dev/null
for i in $(seq 1 50); do
  [ "$(grep -c '^/px/a/start?ip=192.0.2.1|' "$NG/beacons.log")" = 2 ] && break
  sleep 0.1
done
# kill -9 right after reports were accepted, restart on the same journal
K=${SSAI_KILL_SESSIONS:-100}
bad=$(play $K 10000)
kill -9 $SPID; wait $SPID 2>/dev/null; SPID=
[ "$bad" = 0 ] && ok "kill -9 round: reports accepted" || nok "kill -9 round" "$bad requests failed"
start_ssai
[ -n "$SP" ] && ok "restarted on the journal" || nok "restarted" "$(cat "$TMP/ssai.err")"
wait_idle && ok "after restart: every beacon answered" || nok "after restart: answered" "pending $(metric vastrack_ssai_beacons_pending)"
r=$(check 10000 $K 1)
set -- $r
[ "$1" = 0 ] && ok "kill -9: no beacon missing ($((K * 15)) due)" || nok "kill -9: none missing" "missing $1"
[ "$3 $4" = "0 0" ] && ok "kill -9: headers and order kept" || nok "kill -9: headers/order" "$r"
echo "# kill -9: $2 repeats of $((K * 15)) beacons; $(grep journal "$TMP/ssai.err" || echo nothing left in the journal)"
[ "$2" -le 32 ] && ok "kill -9: repeats ($2) at most the in-flight limit (32 per host)" || nok "kill -9 repeats" "$2"
c=$(post /v1/sessions/k1/reports '{"reports":[{"ad":0,"segment":1,"segmentDuration":6},{"ad":0,"segment":4,"segmentDuration":6}]}')
expect_grep "restart: the session mid-ad plays on" '"results":\["ok","ok"\]' "$TMP/resp"
wait_idle
n1=$(grep -c '^/px/a/complete?ip=192.0.2.1|' "$NG/beacons.log"); n2=$(grep -c '^/px/a/imp?ip=192.0.2.1|' "$NG/beacons.log")
[ "$n1 $n2" = "1 2" ] && ok "restart: complete once, no impression again" || nok "restart: resumed" "complete $n1, impressions $n2 (t0 + k1: 2)"

# request bodies are strict JSON (jansson): an emoji as a surrogate pair reaches
# the beacon's X-Device-User-Agent as UTF-8 (nginx logs its bytes as \xF0...)
c=$(post /v1/sessions '{"sessionId":"u1","deviceIp":"192.0.2.7","userAgent":"UA-\ud83d\ude00"}')
[ "$c" = 201 ] && ok "a surrogate-pair emoji in userAgent is accepted" || nok "emoji userAgent" "$c $(cat "$TMP/resp")"
post /v1/sessions/u1/breaks "{\"url\":\"$B/s/a.xml\"}" > /dev/null
c=$(post /v1/sessions/u1/reports '{"ad":0,"mediaTime":0.5}')
wait_idle
grep -qF '/px/a/imp?ip=192.0.2.7|192.0.2.7|UA-\xF0\x9F\x98\x80' "$NG/beacons.log" \
  && ok "the emoji is sent on as UTF-8 in X-Device-User-Agent" \
  || nok "emoji sent as UTF-8" "$c $(grep 192.0.2.7 "$NG/beacons.log" | head -3)"
bad_body() { # NAME BODY-FILE WANT: a 400 naming what is wrong
  c=$(curl -sS -o "$TMP/resp" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$2" "$S/v1/sessions/u1/reports")
  [ "$c" = 400 ] && grep -q "the body must be one JSON object: .*$3" "$TMP/resp" && ok "$1: 400" || nok "$1: 400" "$c $(cat "$TMP/resp")"
}
printf '{"ad":0,"mediaTime":+1}' > "$TMP/b1"; bad_body "a number +1" "$TMP/b1" "invalid token"
printf '{"ad":0,"mediaTime":.5}' > "$TMP/b2"; bad_body "a number .5" "$TMP/b2" "invalid token"
printf '{"ad":0,"mediaTime":1.}' > "$TMP/b3"; bad_body "a number 1." "$TMP/b3" "invalid token"
printf '{"ad":0,"mediaTime":1,"mediaTime":2}' > "$TMP/b4"; bad_body "a duplicate key" "$TMP/b4" "duplicate object key"
printf '{"ad":0,"mediaTime":1,"x":"\377"}' > "$TMP/b5"; bad_body "invalid UTF-8" "$TMP/b5" "not UTF-8"
printf '{"ad":0,"mediaTime":1,"x":"\\ud83d"}' > "$TMP/b6"; bad_body "a lone surrogate" "$TMP/b6" "invalid Unicode"
printf '{"ad":0,"mediaTime":1,"x":"\\u0000"}' > "$TMP/b7"; bad_body "a \\u0000" "$TMP/b7" "u0000 is not allowed"
c=$(post /v1/sessions/u1/reports '{"ad":0,"mediaTime":1e0}'); [ "$c" = 200 ] && ok "a number 1e0 is fine" || nok "1e0" "$c $(cat "$TMP/resp")"
kill $SPID; wait $SPID 2>/dev/null; SPID=
finish
