#!/bin/sh
# fuzz-seeds.sh: every libFuzzer target (fuzz/fuzz-*.c) built with clang, ASan and
# UBSan halting on the first report, and run once over its seeds (fuzz/seeds-*,
# where each finding's input is kept, plus the corpus for the parser). A seed that
# crashes or trips a sanitizer fails here, before anyone fuzzes. Skipped, with a
# `#` line, without clang.
. tests/cli/lib.sh
CLANG=$(command -v clang-14 || command -v clang)
if [ -z "$CLANG" ]; then
  echo "# fuzz seeds SKIPPED: clang not installed"
  exit 0
fi
if make --no-print-directory -f fuzz/fuzz.mk seeds FB="$TMP/fz" CORPUS="$C" > "$TMP/log" 2>&1; then
  for t in fuzz/fuzz-*.c; do
    n=$(basename "$t" .c)
    if grep -q 'DONE' "$TMP/fz/$n.seeds.log"; then ok "$n: every seed runs clean"
    else nok "$n: every seed runs clean" "$(tail -5 "$TMP/fz/$n.seeds.log")"; fi
  done
else
  nok "fuzz targets build and run their seeds" "$(tail -30 "$TMP/log")"
fi
grep -q 'fno-sanitize-recover' fuzz/fuzz.mk && ok "fuzz builds halt on UBSan reports" ||
  nok "fuzz builds halt on UBSan reports"
finish
