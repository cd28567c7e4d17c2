#!/bin/sh
# probe.sh: `vastrack probe`, `validate --probe` and `audit --probe` driven end to
# end: media generated here with ffmpeg (2 s each), served by a real nginx on
# 127.0.0.1 (byte ranges on), tags pointing at it.
. tests/cli/lib.sh

command -v nginx > /dev/null || { nok "nginx installed" "nginx not found (make deps)"; finish; }
command -v ffmpeg > /dev/null || { nok "ffmpeg installed" "ffmpeg not found (make deps)"; finish; }

M=$TMP/media
mkdir -p "$M"
chmod 755 "$TMP" "$M" # nginx workers run as another user
gen() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@" 2> "$TMP/ffmpeg.err" || nok "ffmpeg $*" "$(head -3 "$TMP/ffmpeg.err")"; }
V="-f lavfi -i testsrc2=size=320x180:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 -t 2"
X="-c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -c:a aac -b:a 64k"
gen $V $X -movflags +faststart "$M/fs.mp4"
gen $V $X "$M/end.mp4"
head -c 100000 /dev/urandom > "$M/garbage.mp4"

NG=$TMP/ng
mkdir -p "$NG"
cat > "$NG/conf.in" <<EOF
worker_processes 1;
daemon off;
pid $NG/nginx.pid;
error_log $NG/error.log;
events { worker_connections 64; }
http {
  access_log off;
  types { video/mp4 mp4; text/xml xml; }
  client_body_temp_path $NG/cb; proxy_temp_path $NG/pt; fastcgi_temp_path $NG/ft;
  uwsgi_temp_path $NG/ut; scgi_temp_path $NG/st;
  server {
    listen 127.0.0.1:PORT;
    location /m/ { alias $M/; }
  }
}
EOF
NGPID=
trap '[ -n "$NGPID" ] && kill $NGPID 2>/dev/null; rm -rf "$TMP"' EXIT
start_nginx "$NG" $((21000 + $$ % 20000))
B=http://127.0.0.1:$port/m

# tag DURATION TYPE WIDTH HEIGHT BITRATE URL...: a VAST 4.2 InLine with one MediaFile per URL
tag() {
  d=$1 t=$2 w=$3 h=$4 br=$5; shift 5
  printf '<VAST version="4.2"><Ad id="a"><InLine><AdSystem>t</AdSystem><AdTitle>t</AdTitle>'
  printf '<AdServingId>x</AdServingId><Impression><![CDATA[https://t.example/i]]></Impression>'
  printf '<Creatives><Creative><UniversalAdId idRegistry="ad-id.org">ABCD0000000H</UniversalAdId>'
  printf '<Linear><Duration>%s</Duration><TrackingEvents>' "$d"
  for ev in start firstQuartile midpoint thirdQuartile complete; do
    printf '<Tracking event="%s"><![CDATA[https://t.example/%s]]></Tracking>' $ev $ev
  done
  printf '</TrackingEvents><MediaFiles>'
  for u in "$@"; do
    printf '<MediaFile delivery="progressive" type="%s" width="%s" height="%s" bitrate="%s"><![CDATA[%s]]></MediaFile>' \
      "$t" "$w" "$h" "$br" "$u"
  done
  printf '</MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>\n'
}

# --- probe URL / FILE ------------------------------------------------------------
expect_rc "probe a fast-start MP4 over http" 0 "$VASTRACK" probe "$B/fs.mp4"
expect_grep "status, type and ranges" '^  http       206 video/mp4, [0-9]+ bytes, ranges ok$' "$TMP/out"
expect_grep "container and fast start" '^  container  mp4, fast start' "$TMP/out"
expect_grep "video line" '^  video      h264 High [0-9.]+, 320x180, 25 fps' "$TMP/out"
expect_grep "audio line" '^  audio      aac LC, 1 ch, 44100 Hz' "$TMP/out"
expect_grep "bytes read" '^  read       [0-9]+ bytes \([0-9.]+%\) in 1 request,' "$TMP/out"

expect_rc "probe --json" 0 "$VASTRACK" probe --json "$B/end.mp4" "$M/fs.mp4"
n=$(jq -c 'select(.ok == true and .container == "mp4" and .video.codec == "h264")' "$TMP/out" | wc -l)
[ "$n" = 2 ] && ok "two JSON lines, camelCase keys" || nok "two JSON lines" "$(cat "$TMP/out")"
[ "$(jq -r 'select(.status == 206) | .fastStart' "$TMP/out")" = false ] && ok "moov at the end: fastStart false" \
  || nok "fastStart false" "$(cat "$TMP/out")"
[ "$(jq -r 'select(.status == null) | .requests' "$TMP/out")" = 0 ] && ok "local file: no request" \
  || nok "local file: no request" "$(cat "$TMP/out")"

expect_rc "probe a missing file" 4 "$VASTRACK" probe "$B/missing.mp4"
expect_grep "404 named" "error      cannot probe .*: HTTP status 404" "$TMP/out"
expect_rc "probe garbage served as video/mp4" 4 "$VASTRACK" probe "$B/garbage.mp4"
expect_grep "not media named" "not a media file" "$TMP/out"
expect_rc "probe --help" 0 "$VASTRACK" probe --help
expect_grep "--help names fast start" "fast-start" "$TMP/out"
expect_rc "probe bad option" 2 "$VASTRACK" probe --jobs x "$B/fs.mp4"

# --- probe TAG ----------------------------------------------------------------------
tag 00:00:02 video/mp4 320 180 500 "$B/fs.mp4" "$B/end.mp4" "$B/missing.mp4" > "$M/tag.xml"
expect_rc "probe TAG: one failure among three" 4 "$VASTRACK" probe --jobs 2 "$M/tag.xml"
n=$(grep -c '^.*tag.xml MediaFile [123] (video/mp4): ' "$TMP/out")
[ "$n" = 3 ] && ok "every MediaFile probed, in order" || nok "every MediaFile probed" "$(cat "$TMP/out")"
expect_rc "probe TAG URL (XML answer) --json" 4 "$VASTRACK" probe --json "$B/tag.xml"
[ "$(jq -r '.probe.ok' "$TMP/out" | tr '\n' ' ')" = "true true false " ] && ok "tag URL recognised, JSON per MediaFile" \
  || nok "tag URL recognised" "$(cat "$TMP/out")"

# --- validate --probe / audit --probe ----------------------------------------------------
tag 00:00:02.000 video/mp4 320 180 300 "$B/fs.mp4" > "$TMP/good.xml"
expect_rc "validate --probe: a matching file" 0 "$VASTRACK" validate --probe "$TMP/good.xml"
grep -q 'probe-' "$TMP/out" && nok "no probe finding for a matching file" "$(cat "$TMP/out")" || ok "no probe finding for a matching file"

tag 00:00:30.000 video/webm 1920 1080 9000 "$B/end.mp4" > "$TMP/bad.xml"
expect_rc "validate --probe: a file that disagrees" 1 "$VASTRACK" validate --probe --profile ctv "$TMP/bad.xml"
expect_grep "duration (202)" 'lasts 2\.[0-9]+ s but <Duration> says 30\.000 s .*\[probe-duration-mismatch, VAST code 202\]' "$TMP/out"
expect_grep "mime (403)" 'type="video/webm" but the file is mp4 \[probe-mime-mismatch, VAST code 403\]' "$TMP/out"
expect_grep "size (203)" 'the tag says 1920x1080, the file is 320x180 \[probe-size-mismatch, VAST code 203\]' "$TMP/out"
expect_grep "bitrate" 'bitrate="9000" .*\[probe-bitrate-mismatch\]' "$TMP/out"
expect_grep "not fast start (ctv warning)" 'warning: moov comes after mdat.*\[probe-not-fast-start\]' "$TMP/out"
expect_grep "placed on the MediaFile" "bad.xml:1:[0-9]+: error: " "$TMP/out"

expect_rc "validate --probe --duration-tolerance 30" 1 "$VASTRACK" validate --probe --profile ctv --duration-tolerance 30 "$TMP/bad.xml"
grep -q 'probe-duration-mismatch' "$TMP/out" && nok "a 28 s difference within a 30 s tolerance" "$(grep probe-duration "$TMP/out")" \
  || ok "a 28 s difference within a 30 s tolerance"
expect_rc "--duration-tolerance needs seconds" 2 "$VASTRACK" validate --probe --duration-tolerance soon "$TMP/bad.xml"
expect_rc "validate --probe --json" 1 "$VASTRACK" validate --probe --profile ctv --json "$TMP/bad.xml"
[ "$(jq '[.findings[] | select(.rule | startswith("probe-"))] | length' "$TMP/out")" -ge 4 ] && ok "probe findings in JSON" \
  || nok "probe findings in JSON" "$(cat "$TMP/out")"

expect_rc "audit --probe --json" 1 "$VASTRACK" audit --probe --profile ctv --json "$TMP/good.xml" "$TMP/bad.xml"
[ "$(jq '[.[1].issues[] | select(.rule == "probe-duration-mismatch" and .count == 1)] | length' "$TMP/out")" = 1 ] && ok "audit issues name the probe rules" \
  || nok "audit issues name the probe rules" "$(cat "$TMP/out")"
[ "$(jq '[.[0].issues[] | select(.rule | startswith("probe-"))] | length' "$TMP/out")" = 0 ] && ok "audit: matching tag has no probe issue" \
  || nok "audit: matching tag has no probe issue" "$(cat "$TMP/out")"
tag 00:00:30.000 video/mp4 320 180 300 "$B/fs.mp4" > "$TMP/long.xml"
expect_rc "audit --probe: a tag clean but for its file (web: a warning)" 0 "$VASTRACK" audit --probe --json "$TMP/long.xml"
[ "$(jq -r '.[0].ctvCompatible' "$TMP/out")" = false ] && jq -r '.[0].ctvReason' "$TMP/out" | grep -q '^probe-duration-mismatch: the file lasts 2\.' \
  && ok "audit --probe: ctvReason names the probe finding" || nok "ctvReason names the probe finding" "$(cat "$TMP/out")"

# --resolve --probe: the media of the InLine behind a Wrapper, reported on the Wrapper
cp "$TMP/bad.xml" "$M/inline-bad.xml"
printf '<VAST version="4.2"><Ad id="w"><Wrapper><AdSystem>w</AdSystem><VASTAdTagURI><![CDATA[%s]]></VASTAdTagURI><Impression><![CDATA[https://t.example/w]]></Impression></Wrapper></Ad></VAST>\n' \
  "$B/inline-bad.xml" > "$TMP/wrapper.xml"
expect_rc "validate --resolve --probe on a Wrapper" 0 "$VASTRACK" validate --resolve --probe "$TMP/wrapper.xml"
expect_grep "the InLine's media, reported on the Wrapper" \
  "wrapper.xml:1:[0-9]+: warning: through the Wrapper, $B/inline-bad.xml Ad\[1\] MediaFile\[1\]: the file lasts 2\.[0-9]+ s but <Duration> says 30\.000 s" "$TMP/out"
expect_rc "probe --resolve TAG: the InLine's media" 0 "$VASTRACK" probe --resolve "$TMP/wrapper.xml"
expect_grep "headed by the hop" "^$B/inline-bad.xml MediaFile 1 \(video/webm\): $B/end.mp4\$" "$TMP/out"
expect_rc "validate --probe without --resolve: the Wrapper has no media" 0 "$VASTRACK" validate --probe "$TMP/wrapper.xml"
grep -q 'probe-' "$TMP/out" && nok "no probe finding without the chain" "$(cat "$TMP/out")" || ok "no probe finding without the chain"

# --- the web inspector's probe (POST /api/validate?probe=1) --------------------------
# start_serve OUT [ARGS...]: vastrack serve on a free port; sets SPID, URL.
start_serve() {
  out=$1; shift
  "$VASTRACK" serve --listen 127.0.0.1:0 --db "$TMP/hits-$$.db" --threads 1 --quiet "$@" > "$out" 2> "$out.err" &
  SPID=$!
  i=0
  while ! grep -q '^listening on ' "$out" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 400 ] || ! kill -0 "$SPID" 2>/dev/null; then return 1; fi
    sleep 0.05
  done
  URL="http://$(sed -n 's/^listening on //p' "$out")"
}
if start_serve "$TMP/s1" --allow-private; then
  curl -s -H "Content-Type: application/xml" --data-binary @"$TMP/bad.xml" "$URL/api/validate?profile=ctv&probe=1" > "$TMP/api"
  [ "$(jq '[.result.findings[] | select(.rule == "probe-duration-mismatch" and .iabCode == 202)] | length' "$TMP/api")" = 1 ] \
    && ok "api/validate?probe=1 reports the probe findings" || nok "api/validate?probe=1" "$(head -c 300 "$TMP/api")"
  curl -s -H "Content-Type: application/xml" --data-binary @"$TMP/bad.xml" "$URL/api/validate?profile=ctv" > "$TMP/api"
  [ "$(jq '[.result.findings[] | select(.rule | startswith("probe-"))] | length' "$TMP/api")" = 0 ] \
    && ok "api/validate without probe=1 probes nothing" || nok "api/validate without probe" "$(head -c 300 "$TMP/api")"
  kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null
else
  nok "serve starts" "$(cat "$TMP/s1.err")"
fi
if start_serve "$TMP/s2"; then
  curl -s -H "Content-Type: application/xml" --data-binary @"$TMP/good.xml" "$URL/api/validate?probe=1" > "$TMP/api"
  [ "$(jq -r '[.result.findings[] | select(.rule == "probe-unreachable") | .message][0]' "$TMP/api" | grep -c 'refused')" = 1 ] \
    && ok "api/validate?probe=1: loopback media refused by the service's guard" || nok "guard on probes" "$(head -c 400 "$TMP/api")"
  kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null
else
  nok "serve starts (guarded)" "$(cat "$TMP/s2.err")"
fi
finish
