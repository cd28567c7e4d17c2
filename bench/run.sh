#!/bin/sh
# Runs every benchmark: each build/bench/bench-* program, then each bench/bench-*.sh
# script (given the build directory). Each prints one JSON line per measurement.
B=${1:-build}
case "$B" in /*) ;; *) B="$PWD/$B" ;; esac
export VASTRACK="${VASTRACK:-$B/vastrack}"
export VASTRACK_CORPUS="${VASTRACK_CORPUS:-$PWD/../shared/corpus}"
# The JavaScript peer (@dailymotion/vast-client 6 with @xmldom/xmldom), installed from
# the npm registry into a scratch folder the first time; skipped without node/npm.
export VASTJS_DUMP="$PWD/../shared/tools/vastjs-dump.cjs"
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  if [ ! -d "$B/node/node_modules/@dailymotion/vast-client" ]; then
    mkdir -p "$B/node"
    (cd "$B/node" && npm install --silent --no-audit --no-fund @dailymotion/vast-client@6 @xmldom/xmldom >/dev/null 2>&1) \
      || echo '{"bench":"setup","warning":"npm install of the JavaScript peer failed"}'
  fi
  [ -d "$B/node/node_modules" ] && export VASTJS_NODE_PATH="$B/node/node_modules"
fi
rc=0
for b in "$B"/bench/bench-*; do
  [ -x "$b" ] || continue
  "$b" || { echo "{\"bench\":\"$(basename "$b")\",\"error\":\"exit $?\"}"; rc=1; }
done
for s in bench/bench-*.sh; do
  [ -f "$s" ] || continue
  sh "$s" "$B" || { echo "{\"bench\":\"$(basename "$s")\",\"error\":\"exit $?\"}"; rc=1; }
done
exit $rc
