#!/bin/sh
# bench-collector.sh BUILD: wrk (2 threads, 64 connections, 3 s) against
# `vastrack serve --ack durable` recording into SQLite in a temp dir, and in
# the same run against nginx's empty_gif (access_log off) on a free port, run
# as the current user with a temp prefix.
#
# Fairness: both servers get the same number of workers (BENCH_WORKERS,
# default the number of online CPUs: `--threads N` and `worker_processes N`;
# without BENCH_WORKERS, a second pass then runs with one worker each).
# The machine is shared and noisy, so both servers stay up and wrk runs
# BENCH_ROUNDS (default 3) times against each, alternating which goes first;
# the figures are the medians, with the range of the per-round ratios.
# The same rounds also run against a second `vastrack serve --io epoll` (libuv's
# epoll loop instead of io_uring), so the choice of socket I/O is measured too
# (BENCH_EPOLL=0 skips it).
# Prints one JSON line per server and a comparison line: req/s, p99 latency,
# ratio to nginx, and the stored count against the number of 200 answers
# (the server's own count, the 1 s warm-up included; wrk_200 counts the rounds only, and
# wrk's own count can also be lower by the requests in flight
# when it stops). Total time about 3 * rounds * BENCH_SECONDS + 3 s per pass
# (about 53 s for both passes with the defaults).
B=${1:-build}
V=${VASTRACK:-$PWD/$B/vastrack}
DUR=${BENCH_SECONDS:-3}
ROUNDS=${BENCH_ROUNDS:-3}
W=${BENCH_WORKERS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
T=$(mktemp -d)
SPID=""
NPID=""
EPID=""
EPOLL=${BENCH_EPOLL:-1}
cleanup() {
  [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
  [ -n "$EPID" ] && kill -9 "$EPID" 2>/dev/null
  [ -n "$NPID" ] && kill "$NPID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "{\"bench\":\"collector\",\"error\":\"$1\"}"; exit 1; }
command -v wrk > /dev/null || fail "wrk not installed"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || fail "nginx not installed"

# cpu_ticks PID...: utime + stime of the processes, in clock ticks.
cpu_ticks() {
  t=0
  for p in "$@"; do
    v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)

# wrk_run URL NAME PID...: runs wrk, appends "rps p99_ms requests non2xx
# server_cpu_us_per_request" to $T/NAME.res (the CPU time the server's
# processes used during the run, over the requests wrk completed).
wrk_run() {
  u=$1 n=$2
  shift 2
  c0=$(cpu_ticks "$@")
  wrk -t2 -c64 -d"${DUR}s" --latency "$u" > "$T/$n.wrk" 2>&1
  c1=$(cpu_ticks "$@")
  set -- "$u" "$n"
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$T/$2.wrk")
  p99=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
         f = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1; printf "%.3f", v * f }' "$T/$2.wrk")
  reqs=$(awk '/requests in/ { print $1 }' "$T/$2.wrk")
  non=$(awk '/Non-2xx/ { print $NF }' "$T/$2.wrk")
  cpu=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v n="${reqs:-0}" 'BEGIN { if (n > 0) printf "%.2f", c * 1e6 / hz / n; else print 0 }')
  echo "${rps:-0} ${p99:-0} ${reqs:-0} ${non:-0} $cpu" >> "$T/$2.res"
}

# median FILE COLUMN
median() {
  sort -g -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END {
    if (NR == 0) { print 0; exit } if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# start_serve NAME ARGS...: starts `vastrack serve --ack durable` on a free
# port with its own database T/NAME.db; sets PID_NAME and PORT_NAME.
start_serve() {
  n=$1
  shift
  "$V" serve --listen 127.0.0.1:0 --db "$T/$n.db" --ack durable --threads "$W" --quiet "$@" \
    > "$T/$n.out" 2> "$T/$n.err" &
  eval "PID_$n=\$!"
  i=0
  while ! grep -q '^listening on ' "$T/$n.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 200 ] && return 1; sleep 0.05
  done
  eval "PORT_$n=\$(sed -n 's/^listening on .*:\([0-9]*\)\$/\1/p' \"\$T/\$n.out\")"
}

# ---- vastrack serve, durable (and the same on libuv's epoll loop) ----
start_serve bench || fail "vastrack serve did not start"
SPID=$PID_bench VPORT=$PORT_bench
VIO=$(sed -n 's/.*, io \([a-z_]*\))$/\1/p' "$T/bench.err")
if [ "$EPOLL" = 1 ]; then
  start_serve epoll --io epoll || fail "vastrack serve --io epoll did not start"
  EPID=$PID_epoll EPORT=$PORT_epoll
fi

# ---- nginx empty_gif ----
mkdir -p "$T/ngx/logs"
NPORT=""
for try in 1 2 3 4 5 6 7 8; do
  port=$((20000 + ($$ * 7 + try * 7919) % 40000))
  cat > "$T/ngx/nginx.conf" <<EOF
worker_processes $W;
daemon off;
pid $T/ngx/nginx.pid;
error_log $T/ngx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $T/ngx/body; proxy_temp_path $T/ngx/proxy;
  fastcgi_temp_path $T/ngx/fcgi; uwsgi_temp_path $T/ngx/uwsgi; scgi_temp_path $T/ngx/scgi;
  server { listen 127.0.0.1:$port; location / { empty_gif; add_header Cache-Control no-store; } }
}
EOF
  "$NGINX" -p "$T/ngx" -c "$T/ngx/nginx.conf" -e "$T/ngx/logs/error.log" 2> "$T/ngx/start.err" &
  NPID=$!
  i=0
  while [ $i -lt 40 ]; do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then NPORT=$port; break; fi
    kill -0 "$NPID" 2>/dev/null || break
    i=$((i + 1)); sleep 0.05
  done
  [ -n "$NPORT" ] && break
  kill "$NPID" 2>/dev/null; wait "$NPID" 2>/dev/null; NPID=""
done
[ -n "$NPORT" ] || fail "nginx did not start: $(head -c 200 "$T/ngx/start.err" | tr '\"\n' "' ")"
NWPIDS=$(pgrep -P "$NPID" | tr '\n' ' ') # the workers (the master only waits)

# ---- alternating rounds, after a 1 s warm-up of each server (first
# connections, database and journal files, page cache) ----
PATH_Q="/t/impression?ad=bench&cr=c1&sid=s1"
for p in $VPORT $NPORT $([ "$EPOLL" = 1 ] && echo "$EPORT"); do
  wrk -t2 -c64 -d1s "http://127.0.0.1:$p$PATH_Q" > /dev/null 2>&1
done
r=0
while [ $r -lt "$ROUNDS" ]; do
  if [ $((r % 2)) -eq 0 ]; then
    wrk_run "http://127.0.0.1:$VPORT$PATH_Q" vastrack "$SPID"
    wrk_run "http://127.0.0.1:$NPORT$PATH_Q" nginx $NWPIDS
  else
    wrk_run "http://127.0.0.1:$NPORT$PATH_Q" nginx $NWPIDS
    wrk_run "http://127.0.0.1:$VPORT$PATH_Q" vastrack "$SPID"
  fi
  [ "$EPOLL" = 1 ] && wrk_run "http://127.0.0.1:$EPORT$PATH_Q" epoll "$EPID"
  r=$((r + 1))
done
kill "$NPID"; wait "$NPID" 2>/dev/null; NPID=""
if [ "$EPOLL" = 1 ]; then
  kill -TERM "$EPID"; wait "$EPID"; EPID=""
fi

served200=$(curl -s "http://127.0.0.1:$VPORT/metrics" | awk -F' ' '/^vastrack_responses_total\{code="200"\}/ { print $2 }')
kill -TERM "$SPID"; wait "$SPID"; SPID=""
stored=$(sqlite3 "$T/bench.db" 'SELECT COUNT(*) FROM hits' 2>/dev/null ||
         "$V" report --db "$T/bench.db" --csv | awk -F, '$2 == "impression" { print $3 }')
wrk200=$(awk '{ s += $3 - $4 } END { print s + 0 }' "$T/vastrack.res") # without the warm-up

v_rps=$(median "$T/vastrack.res" 1) v_p99=$(median "$T/vastrack.res" 2) v_cpu=$(median "$T/vastrack.res" 5)
n_rps=$(median "$T/nginx.res" 1) n_p99=$(median "$T/nginx.res" 2) n_cpu=$(median "$T/nginx.res" 5)
v_all=$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), $1 }' "$T/vastrack.res")
n_all=$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), $1 }' "$T/nginx.res")
ratio=$(awk -v a="$v_rps" -v b="$n_rps" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }')
# per-round ratios (round i of each server), their min and max
range=$(paste -d' ' "$T/vastrack.res" "$T/nginx.res" | awk '$6 > 0 { x = $1 / $6;
  if (NR == 1 || x < lo) lo = x; if (NR == 1 || x > hi) hi = x } END { printf "[%.3f,%.3f]", lo, hi }')
echo "{\"bench\":\"collector\",\"server\":\"vastrack serve --ack durable --threads $W (sqlite, io ${VIO:-?})\",\"req_per_s\":$v_rps,\"p99_ms\":$v_p99,\"cpu_us_per_req\":$v_cpu,\"rounds_req_per_s\":[$v_all],\"wrk_200\":$wrk200,\"served_200\":${served200:-0},\"stored\":${stored:-0}}"
echo "{\"bench\":\"collector\",\"server\":\"nginx empty_gif (access_log off, worker_processes $W)\",\"req_per_s\":$n_rps,\"p99_ms\":$n_p99,\"cpu_us_per_req\":$n_cpu,\"rounds_req_per_s\":[$n_all]}"
if [ "$EPOLL" = 1 ]; then
  e_rps=$(median "$T/epoll.res" 1) e_p99=$(median "$T/epoll.res" 2) e_cpu=$(median "$T/epoll.res" 5)
  e_all=$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), $1 }' "$T/epoll.res")
  e_ratio=$(awk -v a="$e_rps" -v b="$n_rps" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }')
  echo "{\"bench\":\"collector\",\"server\":\"vastrack serve --ack durable --threads $W (sqlite, io epoll)\",\"req_per_s\":$e_rps,\"p99_ms\":$e_p99,\"cpu_us_per_req\":$e_cpu,\"rounds_req_per_s\":[$e_all],\"ratio_to_nginx\":$e_ratio}"
fi
cpu_ratio=$(awk -v a="$v_cpu" -v b="$n_cpu" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }')
echo "{\"bench\":\"collector\",\"metric\":\"server CPU per request ratio vastrack/nginx (medians; lower is better)\",\"value\":$cpu_ratio,\"vastrack_us\":$v_cpu,\"nginx_us\":$n_cpu}"
echo "{\"bench\":\"collector\",\"metric\":\"req_per_s ratio vastrack/nginx (medians)\",\"value\":$ratio,\"round_ratio_range\":$range,\"target\":1.0,\"stored_equals_served_200\":$([ "${stored:-0}" = "${served200:-x}" ] && echo true || echo false),\"workers\":$W,\"rounds\":$ROUNDS,\"wrk\":\"-t2 -c64 -d${DUR}s\"}"

# Then the same with one worker each (unless BENCH_WORKERS was given): on a
# machine this small, wrk's two threads and two workers of each server
# oversubscribe the cores, and one worker each shows the per-core cost.
if [ -z "${BENCH_WORKERS:-}" ] && [ "$W" -gt 1 ]; then
  trap - EXIT
  cleanup
  BENCH_WORKERS=1 BENCH_EPOLL=0 exec sh "$0" "$B"
fi
