# A real player certified: tests/browser/player.cjs plays the test ad
# server's tags in Debian's chromium with @dailymotion/vast-client and a real
# <video> (media made here by ffmpeg), and checks the conformance report of
# each session. Skipped, with a `#` line that says why, when chromium,
# node/npm, ffmpeg or the npm packages are missing.
. tests/cli/lib.sh
V=${VASTRACK:?}
SPID=""
cleanup() {
  [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

for tool in /usr/bin/chromium ffmpeg node npm sqlite3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "# player tests SKIPPED: $tool not installed"
    exit 0
  fi
done
if [ ! -d tests/browser/node_modules/@dailymotion/vast-client ] ||
   [ ! -d tests/browser/node_modules/playwright-core ]; then
  if ! (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund \
          > "$TMP/npm.log" 2>&1); then
    echo "# player tests SKIPPED: npm ci failed in tests/browser: $(tail -1 "$TMP/npm.log")"
    exit 0
  fi
fi

# 4 s of test pattern and tone, VP8/Vorbis (what Debian's chromium plays).
if ! ffmpeg -v error -f lavfi -i testsrc=size=320x180:rate=25 -f lavfi -i sine=frequency=440 \
       -t 4 -c:v libvpx -b:v 300k -c:a libvorbis -shortest "$TMP/ad.webm" 2> "$TMP/ffmpeg.err"; then
  nok "ffmpeg makes the media" "$(tail -3 "$TMP/ffmpeg.err")"
  finish
fi

"$V" serve --listen 127.0.0.1:0 --db "$TMP/hits.db" --quiet > "$TMP/serve.out" 2> "$TMP/serve.err" &
SPID=$!
i=0
while ! grep -q '^listening on ' "$TMP/serve.out" 2>/dev/null; do
  i=$((i + 1))
  [ $i -gt 400 ] && { nok "serve starts"; finish; }
  sleep 0.05
done
PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$TMP/serve.out")

BASE="http://127.0.0.1:$PORT" VASTRACK="$V" DB="$TMP/hits.db" MEDIA="$TMP/ad.webm" \
  ARTIFACTS="$PWD/build/browser-artifacts" node tests/browser/player.cjs
rc=$?
kill -TERM "$SPID"; wait "$SPID"; SPID=""
[ $rc -eq 0 ] || FAILS=$((FAILS + 1))
finish
