# One JSON style: every JSON-producing command over every corpus file, and every
# endpoint of `vastrack serve` (with beacons whose query strings are not UTF-8),
# checked against the schemas of docs/json.md by tests/cli/jsonschema.py: valid
# UTF-8, parses, camelCase keys, every key present, null (never -1) for missing.
. tests/cli/lib.sh
V=${VASTRACK:?}
SPID=""
cleanup() {
  [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
if ! command -v python3 >/dev/null 2>&1; then
  echo "ok - $T: JSON schemas # skip no python3"
  exit 0
fi
# schema NAME FILE [--lines]: FILE matches schema NAME; returns its status
schema() { python3 tests/cli/jsonschema.py docs/json.md "$@" 2> "$TMP/schema.err"; }
# check LABEL NAME FILE [--lines]
check() {
  label=$1; shift
  if schema "$@"; then ok "$label"; else nok "$label" "$(head -5 "$TMP/schema.err")"; fi
}

# the checker itself rejects what the style forbids
printf '{"file":"x","profile":"web","overrides":[],"errors":0,"warnings":0,"infos":0,"findings":[],"iab_code":1}\n' > "$TMP/x1"
schema Validate "$TMP/x1" --lines && nok "checker: an undocumented snake_case key fails" || ok "checker: an undocumented snake_case key fails"
printf '{"file":"x","profile":"web","overrides":[],"errors":-1,"warnings":0,"infos":0,"findings":[]}\n' > "$TMP/x2"
schema Validate "$TMP/x2" --lines && nok "checker: -1 for missing fails" || ok "checker: -1 for missing fails"
printf '{"file":"x","profile":"web","overrides":[],"errors":0,"warnings":0,"findings":[]}\n' > "$TMP/x3"
schema Validate "$TMP/x3" --lines && nok "checker: a left-out key fails" || ok "checker: a left-out key fails"
printf '{"file":"\377","profile":"web","overrides":[],"errors":0,"warnings":0,"infos":0,"findings":[]}\n' > "$TMP/x4"
schema Validate "$TMP/x4" --lines && nok "checker: invalid UTF-8 fails" || ok "checker: invalid UTF-8 fails"

# every corpus file through inspect, validate and resolve
n=0; plays=0; bad=""
find "$C" -name '*.xml' | sort > "$TMP/files"
while read -r f; do
  n=$((n + 1))
  if "$V" inspect --json "$f" > "$TMP/i.json" 2>/dev/null; then
    schema Inspect "$TMP/i.json" || bad="$bad inspect:$f:$(head -1 "$TMP/schema.err")"
  fi
  "$V" validate --json --profile ctv "$f" > "$TMP/v.json" 2>/dev/null
  schema Validate "$TMP/v.json" --lines || bad="$bad validate:$f:$(head -1 "$TMP/schema.err")"
  "$V" resolve --json "$f" > "$TMP/r.json" 2>/dev/null
  if [ -s "$TMP/r.json" ]; then schema Resolve "$TMP/r.json" || bad="$bad resolve:$f:$(head -1 "$TMP/schema.err")"; fi
  if "$V" play --dry-run --json "$f" > "$TMP/p.json" 2>/dev/null && [ -s "$TMP/p.json" ]; then
    plays=$((plays + 1))
    schema Play "$TMP/p.json" --lines || bad="$bad play:$f:$(head -1 "$TMP/schema.err")"
  fi
done < "$TMP/files"
[ -z "$bad" ] && ok "inspect, validate, resolve, play --json over $n corpus files ($plays played) match docs/json.md" ||
  nok "inspect, validate, resolve, play --json over the corpus match docs/json.md" "$(echo "$bad" | head -c 900)"
[ "$plays" -ge 10 ] && ok "play --dry-run ran on $plays corpus tags" || nok "play --dry-run ran on corpus tags" "$plays"
[ "$n" -ge 40 ] && ok "the corpus has $n files" || nok "the corpus has files" "$n"

"$V" audit --json "$C" > "$TMP/a.json"; check "audit --json over the corpus" Audit "$TMP/a.json"
"$V" audit --json --resolve "$C/dailymotion__vast-client-js/spec/samples/wrapper-a.xml" > "$TMP/a2.json"
check "audit --resolve --json" Audit "$TMP/a2.json"
"$V" errors --json > "$TMP/e.json"; check "errors --json" Errors "$TMP/e.json"
"$V" errors --json 303 > "$TMP/e1.json"; check "errors --json CODE" IabError "$TMP/e1.json"

# the server: every endpoint, and beacons that are not UTF-8
DB=$TMP/hits.db
"$V" serve --listen 127.0.0.1:0 --db "$DB" --threads 2 --quiet --allow-private > "$TMP/s.out" 2> "$TMP/s.err" &
SPID=$!
i=0
while ! grep -q '^listening on ' "$TMP/s.out" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 400 ] || ! kill -0 "$SPID" 2>/dev/null; then break; fi
  sleep 0.05
done
URL="http://$(sed -n 's/^listening on //p' "$TMP/s.out")"
if [ "$URL" = "http://" ]; then
  nok "serve starts" "$(cat "$TMP/s.err")"
  finish
fi
S=$C/dailymotion__vast-client-js/spec/samples
bad=""
for f in sample.xml inline-linear.xml invalid-xmlfile.xml wrapper-legacy.xml empty-no-ad.xml; do
  curl -s -H 'Content-Type: application/xml' --data-binary @"$S/$f" "$URL/api/inspect" > "$TMP/ai.json"
  schema ApiInspect "$TMP/ai.json" || bad="$bad api/inspect:$f:$(head -1 "$TMP/schema.err")"
  curl -s -H 'Content-Type: application/xml' --data-binary @"$S/$f" "$URL/api/validate?profile=ctv" > "$TMP/av.json"
  schema ApiValidate "$TMP/av.json" || bad="$bad api/validate:$f:$(head -1 "$TMP/schema.err")"
  curl -s -H 'Content-Type: application/xml' --data-binary @"$S/$f" "$URL/api/resolve" > "$TMP/ar.json"
  schema ApiResolve "$TMP/ar.json" || bad="$bad api/resolve:$f:$(head -1 "$TMP/schema.err")"
  curl -s -H 'Content-Type: application/xml' --data-binary @"$S/$f" "$URL/api/play" > "$TMP/ap.json"
  schema ApiPlay "$TMP/ap.json" || bad="$bad api/play:$f:$(head -1 "$TMP/schema.err")"
done
[ -z "$bad" ] && ok "api/inspect, validate, resolve, play match docs/json.md" ||
  nok "api/inspect, validate, resolve, play match docs/json.md" "$(echo "$bad" | head -c 900)"
curl -s "$URL/api/errors" > "$TMP/ae.json"; check "api/errors" ApiErrors "$TMP/ae.json"
# beacons: one with bytes that are not UTF-8 in ad, cr and the error code
for e in impression start firstQuartile; do curl -s -o /dev/null "$URL/t/$e?ad=A%FF%C3&cr=%FE&sid=1"; done
curl -s -o /dev/null "$URL/t/error?ad=W1&code=303"
curl -s -o /dev/null "$URL/t/error?ad=W1&code=x%FFy"
curl -s -o /dev/null "$URL/t/error?ad=W1"
# controls, DEL, a newline and an invalid byte: one escaping in every output
curl -s -o /dev/null "$URL/t/start?ad=c%01%7F%0A%FF%22"
i=0
while :; do
  curl -s "$URL/stats" > "$TMP/st.json"
  grep -q '"stored":7' "$TMP/st.json" && break
  i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.05
done
check "/stats" Stats "$TMP/st.json"
curl -s "$URL/api/stats" > "$TMP/as.json"; check "api/stats with a non-UTF-8 ad" ApiStats "$TMP/as.json"
grep -q "A$(printf '\357\277\275\357\277\275')" "$TMP/as.json" && ok "api/stats: invalid bytes become U+FFFD" ||
  nok "api/stats: invalid bytes become U+FFFD" "$(head -c 300 "$TMP/as.json")"
kill "$SPID"; wait "$SPID" 2>/dev/null; SPID=""
"$V" report --db "$DB" --json > "$TMP/rep.json"; check "report --json with a non-UTF-8 ad" Report "$TMP/rep.json"
# the same bytes from the collector's /api/stats and from report (docs/json.md)
ESC=$(printf '"c\\u0001\\u007f\\n\357\277\275\\""')
for out in as.json rep.json; do
  grep -qF "\"ad\":$ESC" "$TMP/$out" && ok "$out: controls, DEL, newline and invalid UTF-8 escaped as docs/json.md says" ||
    nok "$out: controls, DEL, newline and invalid UTF-8 escaped as docs/json.md says" "$(head -c 400 "$TMP/$out")"
done
finish
