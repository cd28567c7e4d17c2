# demo: `make demo`'s script end to end (collector, real firing, report): every beacon the
# play fired was answered and counted, and the funnel is complete for the demo ad.
. tests/cli/lib.sh
d=$(dirname "$VASTRACK")
expect_rc "demo runs" 0 timeout 120 sh tools/demo.sh "$d"
cp "$TMP/out" "$TMP/demo.out"
expect_grep "collector started" '^collector at http://127\.0\.0\.1:[0-9]+' "$TMP/demo.out"
expect_grep "impression fired and answered" '^0\.00 0\.00 impression 200 ' "$TMP/demo.out"
expect_grep "report names the demo ad" '^ad demo-ad' "$TMP/demo.out"
for ev in impression start firstQuartile midpoint thirdQuartile complete mute unmute pause resume click; do
  # columns: event counted [rate] fired answered diff; counted == fired == answered, diff +0
  if awk -v ev="$ev" '$1 == ev && $NF == "+0" { n = NF; if ($2 == $(n-2) && $(n-2) == $(n-1) && $2 > 0) found = 1 }
                      END { exit !found }' "$TMP/demo.out"; then ok "report: $ev counted as fired"
  else nok "report: $ev counted as fired" "$(grep -E "^ +$ev " "$TMP/demo.out")"; fi
done
expect_grep "second party counted apart" '^ad demo-verifier' "$TMP/demo.out"
finish
