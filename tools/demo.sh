#!/bin/sh
# make demo: the whole system end to end on the embedded defaults.
#  1. starts the collector (`vastrack serve`) on 127.0.0.1 with a SQLite file;
#  2. plays examples/demo-tag.xml, whose beacons point at it, firing for real
#     (`vastrack play` with mute/pause/click events), with a delivery log;
#  3. prints the report: the funnel per ad and fired-versus-counted discrepancies.
set -u
B=${1:-build}
V="$B/vastrack"
work=$(mktemp -d)
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null; rm -rf "$work"' EXIT INT TERM
srv=""

echo "== vastrack inspect examples/demo-tag.xml"
"$V" inspect examples/demo-tag.xml || exit 1

if ! "$V" --help | grep -q '^  serve'; then
  echo "(this build has no collector yet: inspect only)"
  exit 0
fi

echo
echo "== vastrack serve --listen 127.0.0.1:0 --db $work/demo.db"
"$V" serve --listen 127.0.0.1:0 --db "$work/demo.db" > "$work/serve.out" 2>&1 &
srv=$!
addr=""
for i in $(seq 1 100); do
  addr=$(grep -oE '127\.0\.0\.1:[0-9]+' "$work/serve.out" | head -n 1)
  [ -n "$addr" ] && break
  sleep 0.05
done
[ -n "$addr" ] || { echo "vastrack: the collector did not start:"; cat "$work/serve.out"; exit 1; }
echo "collector at http://$addr"
sed "s/COLLECTOR/$addr/g" examples/demo-tag.xml > "$work/tag.xml"

echo
echo "== vastrack play --fire --fast --allow-private --events mute@3,unmute@6,pause@10,resume@10,click@12 --log fired.jsonl tag.xml"
"$V" play --fire --fast --allow-private --events "mute@3,unmute@6,pause@10,resume@10,click@12" \
     --log "$work/fired.jsonl" "$work/tag.xml" || exit 1

echo
echo "== vastrack report --db demo.db --fired fired.jsonl"
kill -TERM $srv; wait $srv 2>/dev/null; srv=""
"$V" report --db "$work/demo.db" --fired "$work/fired.jsonl"
