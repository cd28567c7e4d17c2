# The SSAI service's page (/ of `vastrack ssai`) in Debian's chromium
# (tests/browser/ssai.cjs): one session plays an ad whose beacons the service
# itself answers (its /healthz), then the page must show the figures of
# /metrics. Skipped, with a `#` line that says why, without chromium or node.
. tests/cli/lib.sh
V=${VASTRACK:?}
SPID=""
MPID=""
trap '[ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null; [ -n "$MPID" ] && kill "$MPID" 2>/dev/null; rm -rf "$TMP"' EXIT
if [ ! -x /usr/bin/chromium ]; then
  echo "# ssai page tests SKIPPED: chromium not installed"
  exit 0
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "# ssai page tests SKIPPED: node/npm not installed"
  exit 0
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  if ! (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund \
          > "$TMP/npm.log" 2>&1); then
    echo "# ssai page tests SKIPPED: npm ci failed in tests/browser: $(tail -1 "$TMP/npm.log")"
    exit 0
  fi
fi
# a Kafka source too (librdkafka's mock cluster in tests/helpers/kafka-mock),
# so the page shows the consumer's figures
MOCK=${KAFKA_MOCK:-$(dirname "$V")/tests/helpers/kafka-mock}
[ -x "$MOCK" ] || { nok "the kafka-mock helper is built" "$MOCK: make tests-bin"; finish; }
"$MOCK" cluster pg:2 > "$TMP/mock.out" 2> "$TMP/mock.err" &
MPID=$!
for i in $(seq 1 50); do
  BOOT=$(sed -n 's/^bootstrap //p' "$TMP/mock.out")
  [ -n "$BOOT" ] && break
  sleep 0.1
done
"$V" ssai --listen 127.0.0.1:0 --state "$TMP/state" --allow-private \
  --source "kafka://$BOOT/pg?log_level=0" > "$TMP/ssai.out" 2> "$TMP/ssai.err" &
SPID=$!
for i in $(seq 1 100); do
  SP=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$TMP/ssai.out")
  [ -n "$SP" ] && break
  sleep 0.1
done
S=http://127.0.0.1:$SP
px="http://127.0.0.1:$SP/healthz?e="
doc="<VAST version=\\\"4.2\\\"><Ad id=\\\"p\\\"><InLine><AdSystem>t</AdSystem><AdTitle>t</AdTitle><Impression>${px}imp</Impression><Creatives><Creative><Linear><Duration>00:00:20</Duration><TrackingEvents><Tracking event=\\\"start\\\">${px}start</Tracking><Tracking event=\\\"midpoint\\\">${px}mid</Tracking><Tracking event=\\\"complete\\\">${px}complete</Tracking></TrackingEvents><MediaFiles><MediaFile delivery=\\\"progressive\\\" type=\\\"video/mp4\\\" width=\\\"640\\\" height=\\\"360\\\">http://cdn.example/p.mp4</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>"
code() { curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$2" "$S$1"; }
c1=$(code /v1/sessions '{"sessionId":"p1","deviceIp":"192.0.2.5","userAgent":"UA-p"}')
c2=$(code /v1/sessions/p1/breaks "{\"vast\":\"$doc\"}")
c3=$(code /v1/sessions/p1/reports '{"reports":[{"ad":0,"mediaTime":0},{"ad":0,"mediaTime":10},{"ad":0,"mediaTime":20}]}')
[ "$c1 $c2 $c3" = "201 200 200" ] && ok "a session played" || nok "a session played" "$c1 $c2 $c3"
for i in $(seq 1 100); do
  [ "$(curl -sS "$S/metrics" | sed -n 's/^vastrack_ssai_beacons_pending //p')" = 0 ] && break
  sleep 0.1
done
SENT=$(curl -sS "$S/metrics" | sed -n 's/^vastrack_ssai_beacons_sent_total //p')
[ "$SENT" = 4 ] && ok "4 beacons sent" || nok "4 beacons sent" "$SENT"
echo 'x not-json' | "$MOCK" produce "$BOOT" pg > /dev/null
for i in $(seq 1 150); do # the consumer joins its group (about 3 s), refuses the message
  [ "$(curl -sS "$S/metrics" | sed -n 's/^vastrack_ssai_kafka_refused_total //p')" = 1 ] && break
  sleep 0.1
done
KP=$(curl -sS "$S/metrics" | sed -n 's/^vastrack_ssai_kafka_partitions //p')
[ "$KP" = 2 ] && ok "kafka source: 2 partitions, a message refused" || nok "kafka source" "$(curl -sS "$S/metrics" | grep kafka_)"
c=$(curl -sS -o "$TMP/page.html" -w '%{http_code} %{content_type}' "$S/")
expect_grep "served at /" '<title>vastrack ssai</title>' "$TMP/page.html"
BASE="$S" SENT="$SENT" KAFKA_PARTITIONS="$KP" ARTIFACTS="$PWD/build/browser-artifacts" \
  timeout -k 5 90 node tests/browser/ssai.cjs > "$TMP/run.out" 2>&1
rc=$?
grep -E '^(ok|not ok|#)' "$TMP/run.out"
[ $rc -ne 0 ] && [ "$(grep -c '^not ok' "$TMP/run.out")" -eq 0 ] && nok "browser run" "exit $rc: $(tail -5 "$TMP/run.out")"
finish
