#!/bin/sh
# CLI tests for `vastrack validate`, `audit`, `errors` and `template`: exit
# codes, the text layout (sorted, fixes, summary, collapsing), rule overrides
# and config files, the JSON and SARIF formats, audit CSV columns.
. tests/cli/lib.sh
V=tests/validate
S=flipkart-incubator__madman-android/madman/src/test/assets

# JSON well-formedness with whatever checker the machine has; a visible skip otherwise.
json_ok() { # NAME FILE [JQ-EXPR]
  if command -v jq >/dev/null 2>&1; then
    if jq -e "${3:-.}" "$2" >/dev/null 2>&1; then ok "$1"; else nok "$1" "jq: $(jq -e "${3:-.}" "$2" 2>&1 | head -c 200)"; fi
  elif command -v python3 >/dev/null 2>&1; then
    if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$2" 2>/dev/null; then ok "$1"; else nok "$1" "not valid JSON"; fi
  else
    echo "ok - $T: $1 # skip no jq or python3"
  fi
}

# usage and help
expect_rc "validate --help exits 0" 0 "$VASTRACK" validate --help
expect_grep "validate --help shows usage" '^usage: vastrack validate' "$TMP/out"
expect_rc "validate without input is usage" 2 "$VASTRACK" validate
expect_rc "unknown option is usage" 2 "$VASTRACK" validate --frobnicate x.xml
expect_rc "unknown profile is usage" 2 "$VASTRACK" validate --profile tv "$V/missing-quartile/good.xml"
expect_rc "unknown rule in --disable is usage" 2 "$VASTRACK" validate --disable no-such-rule "$V/missing-quartile/good.xml"
expect_rc "--max-wrappers needs a number" 2 "$VASTRACK" validate --resolve --max-wrappers x "$V/missing-quartile/good.xml"

# exit codes and the compiler-style line
"$VASTRACK" template > "$TMP/t.xml"
expect_rc "template validates: exit 0" 0 "$VASTRACK" validate "$TMP/t.xml"
if [ "$(cat "$TMP/out")" = "$TMP/t.xml: no findings (profile web)" ]; then ok "clean tag: one line, no findings"
else nok "clean tag: one line, no findings" "$(head -3 "$TMP/out")"; fi
expect_rc "error finding: exit 1" 1 "$VASTRACK" validate "$V/missing-impression/bad.xml"
expect_grep "compiler-style line" "^$V/missing-impression/bad.xml:[0-9]+:[0-9]+: error: .+ \[missing-impression, VAST code 101\]$" "$TMP/out"
expect_rc "missing quartile: an error (exit 1)" 1 "$VASTRACK" validate "$V/missing-quartile/bad.xml"
expect_grep "missing quartile says what breaks" ': error: no .midpoint. Tracking event: most DSPs bill on midpoint: no billing signal \[missing-quartile\]$' "$TMP/out"
expect_grep "the fix on an indented line" '^    fix: add <Tracking event=' "$TMP/out"
expect_grep "summary last" "^1 error, 0 warnings, 0 notes in $V/missing-quartile/bad.xml \(profile web\)\$" "$TMP/out"
last=$(tail -1 "$TMP/out"); case "$last" in "1 error, 0 warnings"*) ok "summary is the last line";; *) nok "summary is the last line" "$last";; esac
for p in web ctv ssai audio; do
  expect_rc "skip tracking missing: an error on $p" 1 "$VASTRACK" validate --profile $p "$V/skip-tracking-missing/bad.xml"
done
expect_grep "skip tracking missing says what breaks" 'skips are not reported to the DSP' "$TMP/out"

# the rule table of docs/validate.md is the code's
"$VASTRACK" validate --list-rules --markdown > "$TMP/rules.md"
awk '/^\| rule \| category/ { on = 1 } on && /^\|/ { print; next } on { exit }' docs/validate.md > "$TMP/rules.doc"
if cmp -s "$TMP/rules.md" "$TMP/rules.doc"; then ok "docs/validate.md rule table matches the code"
else nok "docs/validate.md rule table matches the code" "$(diff "$TMP/rules.doc" "$TMP/rules.md" | head -4)"; fi

# rule overrides: --rule, --config, ./.vastrack.toml; reported in the output
expect_rc "--rule ID=off" 0 "$VASTRACK" validate --rule missing-quartile=off "$V/missing-quartile/bad.xml"
expect_grep "--rule is reported" '\(profile web; rules: missing-quartile=off from --rule\)$' "$TMP/out"
expect_rc "--rule ID=warning: exit 0" 0 "$VASTRACK" validate --rule=missing-quartile=warning "$V/missing-quartile/bad.xml"
expect_grep "--rule ID=warning: a warning" ': warning: no .midpoint.' "$TMP/out"
expect_rc "--rule raises a note to an error" 1 "$VASTRACK" validate --rule url-insecure=error "$V/url-insecure/bad.xml"
expect_rc "--rule unknown id is usage" 2 "$VASTRACK" validate --rule no-such-rule=error "$V/url-insecure/bad.xml"
expect_grep "--rule unknown id: message" "unknown rule 'no-such-rule'" "$TMP/err"
expect_rc "--rule unknown level is usage" 2 "$VASTRACK" validate --rule url-insecure=loud "$V/url-insecure/bad.xml"
expect_rc "--rule without = is usage" 2 "$VASTRACK" validate --rule url-insecure "$V/url-insecure/bad.xml"
printf '# team policy\nprofile = "ctv"\n[rules]\nmissing-quartile = "warning"\n' > "$TMP/policy.toml"
expect_rc "--config FILE" 0 "$VASTRACK" validate --config "$TMP/policy.toml" "$V/missing-quartile/bad.xml"
expect_grep "--config: profile and rule reported with their source" "\\(profile ctv; rules: missing-quartile=warning from $TMP/policy.toml:4\\)\$" "$TMP/out"
expect_rc "--rule wins over --config" 1 "$VASTRACK" validate --config "$TMP/policy.toml" --rule missing-quartile=error "$V/missing-quartile/bad.xml"
expect_rc "--profile wins over the config's profile" 0 "$VASTRACK" validate --config "$TMP/policy.toml" --profile web --json "$V/missing-quartile/bad.xml"
json_ok "--json reports profile and overrides" "$TMP/out" '.profile == "web" and .overrides[0].rule == "missing-quartile" and .overrides[0].severity == "warning"'
printf '[rules]\nmissing-quartile = "fatal"\n' > "$TMP/bad.toml"
expect_rc "--config with a bad level is usage" 2 "$VASTRACK" validate --config "$TMP/bad.toml" "$V/missing-quartile/bad.xml"
expect_grep "--config error names file and line" "^vastrack: $TMP/bad.toml:2: unknown level 'fatal'" "$TMP/err"
expect_rc "--config missing file is usage" 2 "$VASTRACK" validate --config "$TMP/nope.toml" "$V/missing-quartile/bad.xml"
mkdir -p "$TMP/proj" && cp "$TMP/policy.toml" "$TMP/proj/.vastrack.toml" && cp "$V/missing-quartile/bad.xml" "$TMP/proj/tag.xml"
expect_rc ".vastrack.toml in the current directory" 0 sh -c "cd '$TMP/proj' && '$VASTRACK' validate tag.xml"
expect_grep ".vastrack.toml is reported" 'from \.vastrack\.toml:4\)$' "$TMP/out"
expect_rc "--no-config ignores .vastrack.toml" 1 sh -c "cd '$TMP/proj' && '$VASTRACK' validate --no-config tag.xml"
expect_rc "--list-rules shows overrides" 0 "$VASTRACK" validate --list-rules --rule url-insecure=error
expect_grep "--list-rules marks the override" '^url-insecure +error\* ' "$TMP/out"

# repeated findings collapse; --all expands; colour only on a terminal
LL="$C/rs__vast/testdata/vast_inline_linear.xml"
"$VASTRACK" validate "$LL" > "$TMP/out" 2>&1
expect_grep "collapsed: one line with count and first positions" '\[url-insecure\] \([0-9]+ times; first at [0-9]+:[0-9]+, [0-9]+:[0-9]+, [0-9]+:[0-9]+, \.\.\.; --all lists each\)$' "$TMP/out"
n1=$(grep -c 'url-insecure' "$TMP/out")
"$VASTRACK" validate --all "$LL" > "$TMP/out" 2>&1
n2=$(grep -c 'url-insecure' "$TMP/out")
[ "$n1" -eq 1 ] && [ "$n2" -gt 3 ] && ok "--all lists each ($n2 lines, 1 collapsed)" || nok "--all lists each" "$n1 / $n2"
awk -F: '/^\// { if ($2 + 0 < last) bad = 1; last = $2 + 0 } END { exit bad }' "$TMP/out" && ok "findings sorted by line" || nok "findings sorted by line"
if grep -q "$(printf '\033')" "$TMP/out"; then nok "no colour when not a terminal"; else ok "no colour when not a terminal"; fi
if command -v script >/dev/null 2>&1; then
  script -qec "'$VASTRACK' validate '$V/missing-quartile/bad.xml'" /dev/null > "$TMP/tty" 2>&1
  grep -q "$(printf '\033')\[1;31merror" "$TMP/tty" && ok "colour on a terminal" || nok "colour on a terminal" "$(head -2 "$TMP/tty")"
  NO_COLOR=1 script -qec "'$VASTRACK' validate '$V/missing-quartile/bad.xml'" /dev/null > "$TMP/tty" 2>&1
  if grep -q "$(printf '\033')" "$TMP/tty"; then nok "NO_COLOR switches colour off"; else ok "NO_COLOR switches colour off"; fi
else
  echo "ok - $T: colour on a terminal # skip no script(1)"
fi
expect_rc "--disable switches a rule off" 0 "$VASTRACK" validate --disable missing-impression "$V/missing-impression/bad.xml"
expect_rc "not XML: exit 3" 3 "$VASTRACK" validate "$C/dailymotion__vast-client-js/spec/samples/invalid-xmlfile.xml"
expect_grep "not XML: IAB 100 with position" ':1:[0-9]+: error: .*\[xml-malformed, VAST code 100\]' "$TMP/out"
expect_rc "root VAST-1: exit 3" 3 "$VASTRACK" validate "$C/$S/corrupt_vast.xml"
expect_grep "root VAST-1: IAB 101" '\[not-vast, VAST code 101\]' "$TMP/out"
expect_rc "mismatched VMAP tags: exit 3" 3 "$VASTRACK" validate "$C/$S/corrupt_vmap.xml"
expect_rc "not VAST wins over errors" 3 "$VASTRACK" validate "$V/missing-impression/bad.xml" "$C/$S/corrupt_vast.xml"
expect_rc "missing file: exit 4" 4 "$VASTRACK" validate "$TMP/nope.xml"
expect_grep "missing file: git-style message" "^vastrack: cannot open '.*nope.xml': No such file or directory$" "$TMP/err"
expect_rc "standard input" 1 sh -c "\"$VASTRACK\" validate - < $V/missing-impression/bad.xml"
expect_grep "standard input is named -" '^-:[0-9]+:[0-9]+: error: ' "$TMP/out"
expect_rc "profiles: VPAID-only is a warning on the web" 0 "$VASTRACK" validate "$V/media-vpaid-only/bad.xml"
expect_rc "profiles: VPAID-only is an error on ctv" 1 "$VASTRACK" validate --profile ctv "$V/media-vpaid-only/bad.xml"
expect_rc "--list-rules" 0 "$VASTRACK" validate --list-rules --profile ssai
nrules=$(($(wc -l < "$TMP/out") - 1))
[ "$nrules" -ge 60 ] && ok "--list-rules lists $nrules rules" || nok "--list-rules lists rules" "$nrules"

# --resolve: wrapper chains followed from disk
SA="$C/dailymotion__vast-client-js/spec/samples"
expect_rc "--resolve: corpus chain wrapper-a -> wrapper-b -> sample resolves" 0 "$VASTRACK" validate --resolve "$SA/wrapper-a.xml"
if grep -q 'wrapper-\(limit\|depth\|unavailable\|no-ad\|response-invalid\|loop\|refused\)' "$TMP/out"; then
  nok "--resolve: no chain finding for a chain that resolves" "$(grep 'wrapper-' "$TMP/out" | head -2)"
else ok "--resolve: no chain finding for a chain that resolves"; fi
expect_rc "--resolve: unavailable URI is an error" 1 "$VASTRACK" validate --resolve "$SA/wrapper-unavailable-url.xml"
expect_grep "--resolve: unavailable URI names the hop" "^$SA/wrapper-unavailable-url.xml:4:5: error: .*after 1 Wrapper at '$SA/invalid-url': .*\[wrapper-unavailable, VAST code 301\]$" "$TMP/out"
expect_rc "without --resolve the chain is not followed" 0 "$VASTRACK" validate "$SA/wrapper-unavailable-url.xml"
# a 6-deep chain written here: limit 5 -> 302; limit 10 -> resolves with a depth warning
i=1; while [ $i -le 6 ]; do
  printf '<VAST version="4.2"><Ad id="w%d"><Wrapper><AdSystem>s</AdSystem><VASTAdTagURI>w%d.xml</VASTAdTagURI><Impression>https://t.example.com/i</Impression></Wrapper></Ad></VAST>\n' $i $((i+1)) > "$TMP/w$i.xml"
  i=$((i+1))
done
cp "$V/wrapper-limit/inline.xml" "$TMP/w7.xml"
expect_rc "--resolve: 6 Wrappers over the default limit" 1 "$VASTRACK" validate --resolve "$TMP/w1.xml"
expect_grep "--resolve: wrapper-limit 302 at the 6th" "after 6 Wrappers at '.*/w6.xml': wrapper limit of 5 reached \[wrapper-limit, VAST code 302\]" "$TMP/out"
expect_rc "--resolve --max-wrappers 10: resolves" 0 "$VASTRACK" validate --resolve --max-wrappers 10 "$TMP/w1.xml"
expect_grep "--resolve --max-wrappers 10: depth warning" "warning: .*6 Wrappers .*\[wrapper-depth, VAST code 302\]" "$TMP/out"
expect_rc "--resolve: 5 Wrappers are fine" 0 "$VASTRACK" validate --resolve "$TMP/w2.xml"
expect_rc "--resolve --json" 1 "$VASTRACK" validate --resolve --json "$TMP/w1.xml"
cp "$TMP/out" "$TMP/r.json"
json_ok "--resolve --json names the rule and code" "$TMP/r.json" 'any(.findings[]; .rule == "wrapper-limit" and .iabCode == 302)'
expect_rc "audit --resolve" 1 "$VASTRACK" audit --resolve --csv "$SA/wrapper-a.xml" "$SA/sample.xml" "$TMP/w1.xml" "$SA/wrapper-unavailable-url.xml"
expect_grep "audit --resolve: wrapper-a has 2 hops" "^$SA/wrapper-a.xml,[^,]*,wrapper,([^,]*,){4}2," "$TMP/out"
expect_grep "audit --resolve: InLine has 0 hops" "^$SA/sample.xml,[^,]*,inline,([^,]*,){4}0," "$TMP/out"
expect_grep "audit --resolve: 6-deep chain counts 6" "/w1.xml,[^,]*,wrapper,([^,]*,){4}6,.*wrapper-limit" "$TMP/out"
expect_grep "audit --resolve: unavailable chain" "^$SA/wrapper-unavailable-url.xml,.*wrapper-unavailable\(1\)" "$TMP/out"
# the seed's "4 impression pixels": wrapper-a -> wrapper-b -> sample.xml fires every level's Impression
expect_rc "audit --resolve --json" 0 "$VASTRACK" audit --resolve --json "$SA/wrapper-a.xml"
cp "$TMP/out" "$TMP/ar.json"
na=$(grep -c '<Impression' "$SA/wrapper-a.xml")
"$VASTRACK" audit --json "$SA/wrapper-a.xml" > "$TMP/a0.json"
json_ok "audit without --resolve: the document's own impressions" "$TMP/a0.json" ".[0].impressions == $na"
# the resolved ad 4321 -> 1234 -> ad_id_0002: 1 + 2 + 1 Impression (resolve shows the path)
json_ok "audit --resolve: impressions of the merged chain (4 pixels)" "$TMP/ar.json" ".[0].impressions == 4"
expect_rc "audit without --resolve" 0 "$VASTRACK" audit --csv "$SA/wrapper-a.xml"
expect_grep "audit without --resolve: 1 for a Wrapper" "^$SA/wrapper-a.xml,[^,]*,wrapper,([^,]*,){4}1," "$TMP/out"

# JSON and SARIF
expect_rc "--json" 1 "$VASTRACK" validate --json "$V/missing-impression/bad.xml"
cp "$TMP/out" "$TMP/v.json"
json_ok "--json is JSON" "$TMP/v.json" '.findings[0].rule == "missing-impression" and .findings[0].line > 0 and .errors == 1'
expect_rc "--sarif over two files" 1 "$VASTRACK" validate --sarif "$V/missing-impression/bad.xml" "$V/url-whitespace/bad.xml"
cp "$TMP/out" "$TMP/v.sarif"
json_ok "--sarif is JSON" "$TMP/v.sarif"
json_ok "--sarif structure" "$TMP/v.sarif" ".version == \"2.1.0\" and (.runs[0].tool.driver.rules | length) == $nrules
  and all(.runs[0].tool.driver.rules[]; .id and .helpUri and .fullDescription.text)
  and (.runs[0].results | length) >= 2
  and all(.runs[0].results[]; .ruleId and .level and .message.text
      and .locations[0].physicalLocation.artifactLocation.uri
      and .locations[0].physicalLocation.region.startLine >= 1
      and .locations[0].physicalLocation.region.startColumn >= 1)"
expect_grep "--sarif names both files" '"uri":"tests/validate/url-whitespace/bad.xml"' "$TMP/v.sarif"
expect_rc "--sarif for a non-VAST input still exits 3" 3 "$VASTRACK" validate --sarif "$C/$S/corrupt_vast.xml"
expect_grep "--sarif carries the parse finding" '"ruleId":"not-vast"' "$TMP/out"

# audit
expect_rc "audit --help" 0 "$VASTRACK" audit --help
expect_rc "audit --csv over the corpus" 1 "$VASTRACK" audit --csv "$C"
cp "$TMP/out" "$TMP/a.csv"
head -1 "$TMP/a.csv" | tr -d '\r' > "$TMP/hdr"
if [ "$(cat "$TMP/hdr")" = "tag,version,ad_type,ads,impressions,events_present,events_missing,wrapper_hops,ctv_compatible,ctv_reason,errors,warnings,issues" ]; then
  ok "audit CSV header"; else nok "audit CSV header" "$(cat "$TMP/hdr")"; fi
nxml=$(find "$C" -name '*.xml' | wc -l)
nrows=$(($(wc -l < "$TMP/a.csv") - 1))
[ "$nrows" -eq "$nxml" ] && ok "audit: one row per tag ($nrows)" || nok "audit: one row per tag" "$nrows rows, $nxml files"
if command -v python3 >/dev/null 2>&1; then
  bad=$(python3 -c 'import csv,sys; print([r for r in csv.reader(open(sys.argv[1], newline="")) if len(r) != 13][:2] or "")' "$TMP/a.csv")
  [ -z "$bad" ] && ok "audit: 13 columns per row (RFC 4180 reader)" || nok "audit: 13 columns per row" "$bad"
else
  echo "ok - $T: audit: 13 columns per row # skip no python3"
fi
expect_grep "audit: CRLF line ends (RFC 4180)" "$(printf '\r')\$" "$TMP/a.csv"
expect_grep "audit: wrapper row" 'wrapper-b.xml,4.3,wrapper,1,2,.*,1,(yes|no),.*,0,' "$TMP/a.csv"
expect_grep "audit: invalid row" 'corrupt_vast.xml,,invalid,0,0,,,0,no,not-vast: the tag does not parse,1,0,not-vast\(1\)' "$TMP/a.csv"
expect_grep "audit: inline row with missing events and the ctv reason" 'vast_inline_linear-duration_undefined.xml,2.0,inline,1,0,,start firstQuartile midpoint thirdQuartile complete,0,no,"missing-impression: InLine has no Impression; also [^"]*",7,' "$TMP/a.csv"
expect_grep "audit: a no-ad response is not CTV-compatible" 'empty-no-ad.xml,4.3,no-ad,0,0,,,0,no,no ad in the response \(no fill\): nothing to play,0,' "$TMP/a.csv"
cp "$TMP/t.xml" "$TMP/a,b.xml"
expect_rc "audit: clean tag exits 0" 0 "$VASTRACK" audit --csv "$TMP/a,b.xml"
expect_grep "audit: RFC 4180 quoting of a comma" '^"[^"]*a,b\.xml",4\.3,inline,1,1,' "$TMP/out"
expect_grep "audit: clean tag is ctv compatible, no reason" ',yes,,0,0,' "$TMP/out"
expect_rc "audit --json" 1 "$VASTRACK" audit --json "$C"
cp "$TMP/out" "$TMP/a.json"
json_ok "audit --json is JSON" "$TMP/a.json" "length == $nxml and all(.[]; has(\"tag\") and has(\"issues\") and (.errors|type) == \"number\")"
json_ok "audit --json: camelCase, lists as arrays" "$TMP/a.json" 'all(.[]; (.eventsPresent|type) == "array" and (.eventsMissing|type) == "array"
  and (.issues|type) == "array" and all(.issues[]; (.rule|type) == "string" and (.count|type) == "number")
  and (.ctvCompatible|type) == "boolean" and (.ctvCompatible or (.ctvReason|type) == "string")
  and (has("ad_type")|not) and (.wrapperHops|type) == "number")'
json_ok "audit --json: no -1, null version for an invalid tag" "$TMP/a.json" 'all(.[]; .adType != "invalid" or .version == null) and ([.. | numbers | select(. < 0)] | length) == 0'
expect_rc "audit table" 1 "$VASTRACK" audit "$C"
expect_grep "audit table header" '^tag +version +type +ads +imps +hops +ctv +errors +warnings +issues$' "$TMP/out"
long=$(awk 'length($0) > 120' "$TMP/out" | head -2)
[ -z "$long" ] && ok "audit table fits 120 columns" || nok "audit table fits 120 columns" "$long"
# many tags in one process: 20 passes over the corpus (leaks show under ASan)
set -- ; i=0; while [ $i -lt 20 ]; do set -- "$@" "$C"; i=$((i+1)); done
expect_rc "audit: $((20 * nxml)) tags in one process" 1 "$VASTRACK" audit --csv "$@"
n=$(($(wc -l < "$TMP/out") - 1))
[ "$n" -eq $((20 * nxml)) ] && ok "audit: one row per tag over 20 passes" || nok "audit: one row per tag over 20 passes" "$n"
expect_rc "audit: unreadable input exits 4" 4 "$VASTRACK" audit --csv "$TMP/nope.xml"

# errors
expect_rc "errors" 0 "$VASTRACK" errors
n=$(grep -cE '^[0-9]{3}  ' "$TMP/out")
[ "$n" -eq 38 ] && ok "errors lists 38 codes" || nok "errors lists 38 codes" "$n"
expect_rc "errors 302" 0 "$VASTRACK" errors 302
expect_grep "errors 302: meaning, cause, fix, test" '^    test: ' "$TMP/out"
expect_grep "errors 302: title" '^302  Wrapper limit reached' "$TMP/out"
expect_rc "errors 404 is not a code" 1 "$VASTRACK" errors 404
expect_rc "errors abc is usage" 2 "$VASTRACK" errors abc
expect_rc "errors --json" 0 "$VASTRACK" errors --json
cp "$TMP/out" "$TMP/e.json"
json_ok "errors --json is JSON" "$TMP/e.json" 'length == 38 and all(.[]; .code and .meaning and .cause and .fix and .test)'

# errors --markdown: the seed's cheat sheet
expect_rc "errors --markdown" 0 "$VASTRACK" errors --markdown
expect_grep "errors --markdown: table header" '^\| Code \| Error \| Meaning \| Cause \| Fix \| Test method \|$' "$TMP/out"
n=$(grep -cE '^\| [0-9]{3} \| ' "$TMP/out")
[ "$n" -eq 38 ] && ok "errors --markdown: 38 rows" || nok "errors --markdown: 38 rows" "$n"
bad=$(grep -E '^\| [0-9]{3} \| ' "$TMP/out" | sed 's/\\|//g' | awk -F'|' 'NF != 8' | head -2)
[ -z "$bad" ] && ok "errors --markdown: 6 cells per row" || nok "errors --markdown: 6 cells per row" "$bad"
expect_grep "errors --markdown: 303 row with a test method" '^\| 303 \| .*vastrack' "$TMP/out"
expect_rc "errors --markdown 401" 0 "$VASTRACK" errors --markdown 401
n=$(grep -cE '^\| [0-9]{3} \| ' "$TMP/out")
[ "$n" -eq 1 ] && ok "errors --markdown CODE: one row" || nok "errors --markdown CODE: one row" "$n"
expect_rc "errors --json --markdown is usage" 2 "$VASTRACK" errors --json --markdown

# template --wrapper / --omid / comments
for v in "--wrapper" "--omid" "--wrapper --omid" "--no-comments"; do
  "$VASTRACK" template $v > "$TMP/t3.xml" || nok "template $v"
  for p in web ctv ssai; do
    if "$VASTRACK" validate --profile $p "$TMP/t3.xml" > "$TMP/out" 2>&1 &&
       [ "$(cat "$TMP/out")" = "$TMP/t3.xml: no findings (profile $p)" ]; then ok "template $v: no findings ($p)"
    else nok "template $v: no findings ($p)" "$(head -3 "$TMP/out")"; fi
  done
done
"$VASTRACK" template --wrapper --omid > "$TMP/t3.xml"
expect_grep "template --wrapper: a Wrapper with VASTAdTagURI" '<VASTAdTagURI><!\[CDATA\[https://' "$TMP/t3.xml"
expect_grep "template --omid: OMID verification" 'apiFramework="omid"' "$TMP/t3.xml"
"$VASTRACK" template > "$TMP/t3.xml"
n=$(grep -c '<!-- ' "$TMP/t3.xml")
[ "$n" -ge 15 ] && ok "template explains its elements ($n comments)" || nok "template explains its elements" "$n"
expect_rc "template --wrapper --skippable is usage" 2 "$VASTRACK" template --wrapper --skippable

# template: every version, skippable or not, validates clean under web, ctv and ssai
for ver in 4.1 4.2 4.3; do
  for sk in "" --skippable; do
    "$VASTRACK" template --version $ver $sk > "$TMP/t2.xml" || nok "template $ver $sk"
    for p in web ctv ssai; do
      if "$VASTRACK" validate --profile $p "$TMP/t2.xml" > "$TMP/out" 2>&1 &&
         [ "$(cat "$TMP/out")" = "$TMP/t2.xml: no findings (profile $p)" ]; then
        ok "template $ver $sk: no findings ($p)"
      else
        nok "template $ver $sk: no findings ($p)" "$(head -3 "$TMP/out")"
      fi
    done
  done
done
grep -q 'skipoffset=' "$TMP/t2.xml" && ok "template --skippable sets skipoffset" || nok "template --skippable sets skipoffset"
expect_rc "template --version 3.0 is usage" 2 "$VASTRACK" template --version 3.0
expect_rc "template --help" 0 "$VASTRACK" template --help
finish
