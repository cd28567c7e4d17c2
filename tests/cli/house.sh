# The guard rails of docs/architecture.md: the code is formatted with .clang-format,
# modules include and call each other only in the allowed directions, no source file
# reaches 1,200 lines, and the exported ABI matches the committed list.
. tests/cli/lib.sh
BUILD=$(dirname "$VASTRACK")
if command -v clang-format >/dev/null; then
  if sh tools/format.sh --check > "$TMP/fmt" 2>&1; then ok "every C file is formatted (tools/format.sh)"
  else nok "every C file is formatted (run make format)" "$(head -5 "$TMP/fmt")"; fi
else
  nok "clang-format installed (make deps)"
fi
# Module directions: includes, and the symbols each module's objects really use.
if CHECK_SIZES=0 python3 tools/check-layers.py "$BUILD" > "$TMP/layers" 2>&1; then
  ok "modules use each other only as docs/architecture.md allows: $(tail -1 "$TMP/layers")"
else nok "modules use each other only as docs/architecture.md allows" "$(head -8 "$TMP/layers")"; fi
# The checker must see a wrong-way include: a copy of the tree where base includes net.
mkdir -p "$TMP/tree/tools" "$TMP/tree/lib/base" "$TMP/tree/include/vastrack"
cp tools/check-layers.py "$TMP/tree/tools/"
printf '#include "net/net-int.h"\n' > "$TMP/tree/lib/base/bad.c"
if ! CHECK_SIZES=0 python3 "$TMP/tree/tools/check-layers.py" > "$TMP/layers2" 2>&1 &&
   grep -q "base may not use net" "$TMP/layers2"; then ok "layer check catches a wrong-way include"
else nok "layer check catches a wrong-way include" "$(head -3 "$TMP/layers2")"; fi
# The ABI of the release build (the one installed); the sanitizer build exports the same.
for b in "$BUILD/.." "$BUILD"; do [ -f "$b/libvastrack.so" ] && { SO=$b; break; }; done
if [ -n "${SO:-}" ]; then
  if sh tools/abi.sh "$SO" --check abi/vastrack.abi > "$TMP/abi" 2>&1; then
    ok "ABI: no symbol removed, no public struct resized under soname $(head -1 abi/vastrack.abi | cut -d' ' -f2)"
  else nok "ABI matches abi/vastrack.abi" "$(head -8 "$TMP/abi")"; fi
else
  nok "ABI: libvastrack.so built"
fi
# tools/abi.sh must catch a break: a recorded struct one byte bigger than the build's.
sed 's/^struct vast_limits \([0-9]*\)/struct vast_limits 9\1/' abi/vastrack.abi > "$TMP/broken.abi"
if [ -n "${SO:-}" ] && ! sh tools/abi.sh "$SO" --check "$TMP/broken.abi" > "$TMP/abi2" 2>&1 &&
   grep -q "vast_limits" "$TMP/abi2"; then ok "ABI check catches a resized struct"
else nok "ABI check catches a resized struct" "$(head -3 "$TMP/abi2")"; fi
finish
