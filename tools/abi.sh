#!/bin/sh
# tools/abi.sh BUILD [--check FILE]: the ABI of libvastrack as text, one line each:
#   soname libvastrack.so.N
#   func vast_x            every symbol BUILD/libvastrack.so exports
#   struct vast_y SIZE ALIGN   every struct of include/vastrack/*.h
# Without --check it prints the list (make abi writes it to abi/vastrack.abi).
# With --check it compares with FILE: a symbol that disappeared, or a struct whose
# size or alignment changed, is an ABI break (exit 1) unless the soname changed
# too; additions are listed and pass (record them with make abi).
# docs/architecture.md, "ABI", says why.
set -e
BUILD=$1
[ -f "$BUILD/libvastrack.so" ] || { echo "abi: no $BUILD/libvastrack.so (build it first)" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
{
  printf 'soname %s\n' "$(objdump -p "$BUILD/libvastrack.so" | awk '$1 == "SONAME" {print $2}')"
  nm -D --defined-only "$BUILD/libvastrack.so" | awk '$2 ~ /[TDBRVW]/ {print "func " $3}' | sort -u
  structs=$(sed -n 's/^typedef struct \(vast_[a-z0-9_]*\) {.*/\1/p' "$ROOT"/include/vastrack/*.h | sort -u)
  {
    echo '#include <stdio.h>'
    echo '#include <stdalign.h>'
    echo '#include "vastrack.h"'
    echo 'int main(void) {'
    for s in $structs; do
      printf '  printf("struct %s %%zu %%zu\\n", sizeof(%s), alignof(%s));\n' "$s" "$s" "$s"
    done
    echo '  return 0;'
    echo '}'
  } > "$TMP/abi.c"
  ${CC:-cc} -std=gnu11 -I"$ROOT/include" -o "$TMP/abi" "$TMP/abi.c"
  "$TMP/abi"
} > "$TMP/now"
if [ "${2:-}" != --check ]; then cat "$TMP/now"; exit 0; fi
FILE=$3
if [ "$(head -1 "$FILE")" != "$(head -1 "$TMP/now")" ]; then
  echo "abi: soname changed ($(head -1 "$FILE") -> $(head -1 "$TMP/now")): a new ABI, record it with make abi"
  exit 0
fi
# Lines of the recorded ABI that are not in the built one: removals and changes.
sort "$FILE" > "$TMP/was"
sort "$TMP/now" > "$TMP/is"
comm -23 "$TMP/was" "$TMP/is" > "$TMP/gone"
comm -13 "$TMP/was" "$TMP/is" > "$TMP/new"
if [ -s "$TMP/gone" ]; then
  echo "abi: break against $FILE without a new soname (bump SOVER in the Makefile, then make abi):"
  while read -r kind name rest; do
    now=$(grep "^$kind $name " "$TMP/is" || grep "^$kind $name\$" "$TMP/is" || true)
    echo "  was: $kind $name $rest   now: ${now:-(gone)}"
  done < "$TMP/gone"
  exit 1
fi
if [ -s "$TMP/new" ]; then echo "abi: $(wc -l < "$TMP/new") additions not yet recorded (make abi):"; sed 's/^/  /' "$TMP/new"; fi
exit 0
