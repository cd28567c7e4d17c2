#!/bin/sh
# tools/format.sh [--check]: formats every C file of the tree with the repository's
# .clang-format (clang-format from Debian's clang-format package). With --check it
# changes nothing and exits 1, naming the files, when one is not formatted.
cd "$(dirname "$0")/.." || exit 2
files=$(ls include/*.h include/vastrack/*.h lib/*/*.c lib/*/*.h src/*.c src/*.h \
        tests/unit/*.c tests/helpers/*.c tests/*.h fuzz/*.c bench/*.c bench/*.h examples/*.c 2>/dev/null)
if [ "$1" = --check ]; then
  bad=0
  for f in $files; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || { echo "not formatted: $f"; bad=1; }
  done
  exit $bad
fi
clang-format -i $files
