# The guard rails of docs/architecture.md: the code is formatted with .clang-format,
# modules include and call each other only in the allowed directions, no source file
# reaches 1,200 lines, and the exported ABI matches the committed list.
. tests/cli/lib.sh
if command -v clang-format >/dev/null; then
  if sh tools/format.sh --check > "$TMP/fmt" 2>&1; then ok "every C file is formatted (tools/format.sh)"
  else nok "every C file is formatted (run make format)" "$(head -5 "$TMP/fmt")"; fi
else
  nok "clang-format installed (make deps)"
fi
finish
