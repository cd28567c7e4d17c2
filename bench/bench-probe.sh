#!/bin/sh
# bench-probe.sh: `vastrack probe` against the ffprobe command line, same run, same
# files, same nginx on 127.0.0.1. The media is made here with ffmpeg: a 30 s
# 1920x1080 H.264/AAC MP4 at about 5 Mbit/s, once fast-start and once with the
# moov at the end. Prints JSON lines:
#   probe_bytes  bytes read per probe as a fraction of the file (nginx's own count of
#                body bytes sent, for vastrack and for ffprobe), both layouts;
#   probe_rate   probes per second, BENCH_PROBES (default 40) sequential probes of
#                the fast-start file: vastrack in one process (one connection
#                reused) vs one ffprobe process per probe; ratio = vastrack / ffprobe.
B=${1:-build}
VASTRACK=${VASTRACK:-$B/vastrack}
N=${BENCH_PROBES:-40}
fail() { echo "{\"bench\":\"probe\",\"error\":\"$1\"}"; exit 1; }
command -v ffmpeg > /dev/null || fail "ffmpeg not installed"
command -v ffprobe > /dev/null || fail "ffprobe not installed"
command -v nginx > /dev/null || fail "nginx not installed"
T=$(mktemp -d)
NGPID=
trap '[ -n "$NGPID" ] && kill $NGPID 2>/dev/null; rm -rf "$T"' EXIT
chmod 755 "$T"
mkdir -p "$T/m" "$T/ng"
chmod 755 "$T/m"
t0=$(date +%s.%N)
ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 \
  -f lavfi -i sine=frequency=440:sample_rate=48000 -t 30 -c:v libx264 -preset ultrafast \
  -b:v 5M -maxrate 5M -bufsize 10M -pix_fmt yuv420p -c:a aac -b:a 128k "$T/m/end.mp4" \
  || fail "ffmpeg failed"
ffmpeg -nostdin -hide_banner -loglevel error -y -i "$T/m/end.mp4" -c copy -movflags +faststart \
  "$T/m/fs.mp4" || fail "ffmpeg remux failed"
gen_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

cat > "$T/ng/conf.in" <<EOF
worker_processes 1;
daemon off;
pid $T/ng/nginx.pid;
error_log $T/ng/error.log;
events { worker_connections 256; }
http {
  log_format bytes '\$body_bytes_sent';
  access_log $T/ng/access.log bytes;
  types { video/mp4 mp4; }
  keepalive_requests 100000;
  client_body_temp_path $T/ng/cb; proxy_temp_path $T/ng/pt; fastcgi_temp_path $T/ng/ft;
  uwsgi_temp_path $T/ng/ut; scgi_temp_path $T/ng/st;
  server { listen 127.0.0.1:PORT; location /m/ { alias $T/m/; } }
}
EOF
port=$((22000 + $$ % 20000))
for try in 1 2 3 4 5 6 7 8; do
  sed "s/PORT/$port/" "$T/ng/conf.in" > "$T/ng/nginx.conf"
  nginx -p "$T/ng" -c "$T/ng/nginx.conf" 2> /dev/null &
  NGPID=$!
  up=0
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    [ -s "$T/ng/nginx.pid" ] && { up=1; break; }
    kill -0 $NGPID 2>/dev/null || break
    sleep 0.1
  done
  [ $up = 1 ] && break
  NGPID=
  port=$((port + 1))
done
[ -n "$NGPID" ] || fail "nginx did not start"
U=http://127.0.0.1:$port/m

# logged_bytes: body bytes nginx sent since the last call.
seen=0
logged_bytes() {
  total=$(awk '{s += $1} END {print s + 0}' "$T/ng/access.log")
  echo $((total - seen))
  seen=$total
}

for f in fs end; do
  size=$(stat -c %s "$T/m/$f.mp4")
  logged_bytes > /dev/null
  "$VASTRACK" probe --json "$U/$f.mp4" > "$T/v.json" || fail "vastrack probe $f.mp4 failed"
  vb=$(logged_bytes)
  vreq=$(sed 's/.*"requests":\([0-9]*\).*/\1/' "$T/v.json")
  ffprobe -v error -show_format -show_streams "$U/$f.mp4" > /dev/null || fail "ffprobe $f.mp4 failed"
  fb=$(logged_bytes)
  layout=$([ $f = fs ] && echo faststart || echo moov_at_end)
  awk -v l="$layout" -v s="$size" -v v="$vb" -v r="$vreq" -v f="$fb" 'BEGIN {
    printf "{\"bench\":\"probe_bytes\",\"file\":\"%s-1080p-30s.mp4\",\"size\":%d,", l, s
    printf "\"vastrack_bytes\":%d,\"vastrack_fraction\":%.5f,\"vastrack_requests\":%d,", v, v / s, r
    printf "\"ffprobe_bytes\":%d,\"ffprobe_fraction\":%.5f,\"ratio\":%.4f}\n", f, f / s, (f ? v / f : 0) }'
done

urls=""
i=0
while [ $i -lt "$N" ]; do urls="$urls $U/fs.mp4"; i=$((i + 1)); done
s0=$(date +%s.%N)
"$VASTRACK" probe --jobs 1 --json $urls > "$T/many.json" || fail "vastrack probe x$N failed"
s1=$(date +%s.%N)
okn=$(grep -c '"ok":true' "$T/many.json")
[ "$okn" = "$N" ] || fail "vastrack probed $okn of $N"
i=0
while [ $i -lt "$N" ]; do
  ffprobe -v error -show_format -show_streams "$U/fs.mp4" > /dev/null || fail "ffprobe failed"
  i=$((i + 1))
done
s2=$(date +%s.%N)
awk -v n="$N" -v a="$s0" -v b="$s1" -v c="$s2" -v g="$gen_s" 'BEGIN {
  v = n / (b - a); f = n / (c - b)
  printf "{\"bench\":\"probe_rate\",\"file\":\"faststart-1080p-30s.mp4\",\"probes\":%d,", n
  printf "\"vastrack_per_s\":%.1f,\"ffprobe_per_s\":%.1f,\"ratio\":%.2f,\"media_gen_s\":%.1f}\n", v, f, v / f, g }'
