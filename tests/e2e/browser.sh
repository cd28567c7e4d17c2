# Browser tests of the web inspector and dashboard (tests/browser/run.cjs) in
# Debian's chromium driven by playwright-core. Skipped, with a `#` line that
# says why, when chromium or node/npm is missing. Screenshots are kept in
# build/browser-artifacts/.
. tests/cli/lib.sh
V=${VASTRACK:?}
SPID=""
cleanup() {
  [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

if [ ! -x /usr/bin/chromium ]; then
  echo "# browser tests SKIPPED: chromium not installed (apt-get install chromium)"
  exit 0
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "# browser tests SKIPPED: node/npm not installed (apt-get install nodejs npm)"
  exit 0
fi
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$NODE_MAJOR" -lt 18 ]; then
  echo "# browser tests SKIPPED: node $NODE_MAJOR is older than playwright-core needs (18)"
  exit 0
fi
ROOT=$PWD
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  if ! (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund \
          > "$TMP/npm.log" 2>&1); then
    # The test tool could not be installed (no route to the npm registry): an
    # environment without the tool, like one without chromium, skips and says why.
    echo "# browser tests SKIPPED: npm ci failed in tests/browser: $(tail -1 "$TMP/npm.log")"
    exit 0
  fi
fi

"$V" serve --listen 127.0.0.1:0 --db "$TMP/hits.db" --threads 2 --quiet --allow-private \
  > "$TMP/serve.out" 2> "$TMP/serve.err" &
SPID=$!
i=0
while ! grep -q '^listening on ' "$TMP/serve.out" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 400 ] || ! kill -0 "$SPID" 2>/dev/null; then
    nok "vastrack serve starts" "$(head -c 300 "$TMP/serve.err")"
    finish
  fi
  sleep 0.05
done
ADDR=$(sed -n 's/^listening on //p' "$TMP/serve.out")

# The whole browser run is bounded: 150 s, then it is killed and fails.
BASE="http://$ADDR" VASTRACK="$V" CORPUS="$C" ARTIFACTS="$ROOT/build/browser-artifacts" \
  timeout -k 5 150 node tests/browser/run.cjs > "$TMP/run.out" 2>&1
rc=$?
cat "$TMP/run.out" | grep -E '^(ok|not ok|#)'
FAILS=$(grep -c '^not ok' "$TMP/run.out")
if [ $rc -ne 0 ] && [ "$FAILS" -eq 0 ]; then
  nok "browser run" "exit $rc: $(tail -5 "$TMP/run.out")"
fi
kill -TERM "$SPID" 2>/dev/null && wait "$SPID"
src=$?
SPID=""
[ $src -eq 0 ] && ok "serve drained after the browser run" || nok "serve drained after the browser run" "exit $src"
finish
