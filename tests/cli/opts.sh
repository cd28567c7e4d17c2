# opts: the one option parser of the subcommands (src/opts.c), driven through
# the real binary: the messages of an unknown option, a missing value, a bad
# number; --opt=value and --opt value alike; "--"; options after operands; and
# every option each --help lists is one the command accepts.
. tests/cli/lib.sh
S=$C/dailymotion__vast-client-js/spec/samples
V=tests/validate

# unknown option: named with the command, pointing at --help
expect_rc "unknown option is usage" 2 "$VASTRACK" validate --frobnicate "$S/sample.xml"
expect_grep "unknown option: message" "^vastrack: validate: unknown option '--frobnicate'; see 'vastrack validate --help'$" "$TMP/err"
expect_rc "unknown short option is usage" 2 "$VASTRACK" resolve -q "$S/sample.xml"
expect_grep "unknown short option: message" "^vastrack: resolve: unknown option '-q'" "$TMP/err"
expect_rc "unknown option of a mode" 2 "$VASTRACK" report --conformance --frob
expect_grep "unknown option of a mode: message" "^vastrack: report --conformance: unknown option '--frob'; see 'vastrack report --conformance --help'$" "$TMP/err"

# missing value, bad number, value given to a flag
expect_rc "missing value is usage" 2 "$VASTRACK" resolve "$S/sample.xml" --timeout
expect_grep "missing value: message" "^vastrack: resolve: option '--timeout' needs a value \(MS\)$" "$TMP/err"
expect_rc "bad number is usage" 2 "$VASTRACK" probe --jobs many "$S/sample.xml"
expect_grep "bad number: message" "^vastrack: probe: --jobs: 'many' is not a whole number from 0 to 64$" "$TMP/err"
expect_rc "number out of range is usage" 2 "$VASTRACK" tap --collector http://c --level 16 "$S/sample.xml"
expect_grep "out of range: message" "^vastrack: tap: --level: '16' is not a whole number from 0 to 15$" "$TMP/err"
expect_rc "bad decimal is usage" 2 "$VASTRACK" validate --duration-tolerance=-1 "$S/sample.xml"
expect_grep "bad decimal: message" "'-1' is not a number from 0 to 3600" "$TMP/err"
expect_rc "flag with a value is usage" 2 "$VASTRACK" inspect --json=yes "$S/sample.xml"
expect_grep "flag with a value: message" "^vastrack: inspect: option '--json' takes no value$" "$TMP/err"
expect_rc "bad choice is usage" 2 "$VASTRACK" validate --min-severity loud "$S/sample.xml"
expect_grep "bad choice: message" "'loud' is not one of info, warning, error" "$TMP/err"

# --opt=value is --opt value; options may follow operands; -- ends the options
"$VASTRACK" validate --json --profile ctv "$V/missing-quartile/bad.xml" > "$TMP/a" 2>&1
"$VASTRACK" validate "$V/missing-quartile/bad.xml" --profile=ctv --json > "$TMP/b" 2>&1
if [ -s "$TMP/a" ] && cmp -s "$TMP/a" "$TMP/b"; then ok "--opt=value after the operand: same output"
else nok "--opt=value after the operand: same output" "$(diff "$TMP/a" "$TMP/b" | head -3)"; fi
expect_grep "--profile=ctv applied" '"profile":"ctv"' "$TMP/b"
cp "$S/sample.xml" "$TMP/--json"
expect_rc "-- ends the options" 0 sh -c "cd '$TMP' && '$VASTRACK' inspect -- --json"
expect_grep "-- ends the options: a tree, not JSON" "Ad id=ad_id_0001" "$TMP/out"
expect_rc "- is standard input" 0 sh -c "'$VASTRACK' inspect - --json < '$S/sample.xml'"
expect_grep "- is standard input: JSON" '"ads":' "$TMP/out"
expect_rc "repeated --rule accumulates" 0 "$VASTRACK" validate --rule missing-quartile=off --rule=url-insecure=off "$V/missing-quartile/bad.xml"
expect_grep "repeated --rule: both reported" 'missing-quartile=off.*url-insecure=off' "$TMP/out"

# every option a --help lists is accepted by the command: "--opt --zz-a --zz-b" never
# says '--opt' is unknown (a flag leaves --zz-a unknown, a value option takes it). A
# mode (template --collector, report --conformance) goes last, after the others.
for cm in inspect validate audit errors template template:--collector play resolve tap \
          probe ssai serve report report:--conformance; do
  cmd=${cm%%:*}; mode=; [ "$cmd" != "$cm" ] && mode=${cm#*:}
  "$VASTRACK" $cmd --help $mode > "$TMP/help" 2>&1 || nok "$cm --help exits 0"
  grep -Eq '^  -h, --help' "$TMP/help" && ok "$cm --help lists -h, --help" || nok "$cm --help lists -h, --help"
  opts=$(grep -oE '^  (-[a-z], )?--[a-z][a-z0-9-]*|^  -[a-z] ' "$TMP/help" | sed 's/^  //; s/^-[a-z], //; s/ $//' | sort -u)
  bad=
  for o in $opts; do
    [ "$o" = --help ] && continue
    "$VASTRACK" $cmd $o --zz-a --zz-b $mode > "$TMP/o.out" 2> "$TMP/o.err" < /dev/null
    rc=$?
    if [ $rc -ne 2 ] || grep -q "unknown option '$o'" "$TMP/o.err"; then bad="$bad $o($rc)"; fi
  done
  [ -n "$opts" ] && [ -z "$bad" ] && ok "$cm: every option of --help is accepted" || nok "$cm: every option of --help is accepted" "$bad"
done

finish
