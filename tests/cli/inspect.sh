# inspect: exit codes, tree and JSON output, errors on stderr with position.
. tests/cli/lib.sh
S=$C/dailymotion__vast-client-js/spec/samples

expect_rc "sample parses" 0 "$VASTRACK" inspect "$S/sample.xml"
expect_grep "tree names the ad" "Ad id=ad_id_0001" "$TMP/out"
expect_grep "tree lists tracking" "firstQuartile  http://example.com/linear-firstQuartile" "$TMP/out"

expect_rc "json" 0 "$VASTRACK" inspect --json "$S/inline-linear.xml"
expect_grep "json version" '"version":"4.3"' "$TMP/out"
expect_grep "json duration in seconds" '"duration":[0-9]' "$TMP/out"
expect_grep "json tracking objects" '\{"event":"firstQuartile","offset":null,"url":"http://example.com/tracking/firstQuartile"\}' "$TMP/out"

expect_rc "stdin" 0 sh -c "\"$VASTRACK\" inspect --json - < \"$S/wrapper-b.xml\""
expect_grep "stdin wrapper uri" '"vastAdTagURI":"sample.xml"' "$TMP/out"

expect_rc "not XML exits 3" 3 "$VASTRACK" inspect "$S/invalid-xmlfile.xml"
expect_grep "not XML: position and code" 'invalid-xmlfile.xml:1:1: .*\[VAST code 100\]' "$TMP/err"

expect_rc "wrong root exits 3" 3 "$VASTRACK" inspect "$C/dailymotion__vmap-js/spec/samples/incorrect-vmap.xml"
expect_grep "wrong root: code 101" 'VAST code 101' "$TMP/err"

expect_rc "missing file" 4 "$VASTRACK" inspect "$TMP/nope.xml"
expect_grep "git-style error" "^vastrack: cannot open '.*nope.xml': No such file or directory" "$TMP/err"

expect_rc "usage" 2 "$VASTRACK" inspect
expect_rc "unknown option" 2 "$VASTRACK" inspect --frobnicate x.xml
expect_rc "help" 0 "$VASTRACK" inspect --help
expect_grep "help text" "usage: vastrack inspect" "$TMP/out"
expect_rc "unknown command" 2 "$VASTRACK" frobnicate
expect_rc "version" 0 "$VASTRACK" --version

expect_rc "vmap" 0 "$VASTRACK" inspect --json "$C/dailymotion__vmap-js/spec/samples/correct-vmap.xml"
expect_grep "vmap breaks" '"breaks":\[\{"breakId":"mypre"' "$TMP/out"
# The tree goes to a terminal: a newline, DEL or C1 control in the tag's text is
# escaped, so a tag cannot forge lines or send escape sequences (docs/security.md).
printf '<VAST version="4.2"><Ad id="x"><InLine><AdSystem>s</AdSystem><AdTitle>evil&#10;FAKE Ad id=forged\177\302\233</AdTitle><Impression><![CDATA[https://t.example/i]]></Impression></InLine></Ad></VAST>' > "$TMP/ctl.xml"
expect_rc "control characters: parses" 0 "$VASTRACK" inspect "$TMP/ctl.xml"
expect_grep "control characters: newline escaped" 'title: evil\\x0aFAKE Ad id=forged\\x7f\\x9b' "$TMP/out"
if grep -q '^ *FAKE' "$TMP/out"; then nok "control characters: no forged line" "$(cat "$TMP/out")"; else ok "control characters: no forged line"; fi

finish
