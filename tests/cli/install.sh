# install: `make install` lays out the header, libraries, vastrack.pc and binary; a
# program built with pkg-config against the installed tree links and runs; the shared
# library exports only vast_* symbols.
. tests/cli/lib.sh
d=$(dirname "$VASTRACK")
case "$d" in */asan) R=$(dirname "$d") ;; *) R=$d ;; esac
ROOT=$TMP/root
expect_rc "make install" 0 make -s --no-print-directory BUILDROOT="$R" install PREFIX=/usr/local DESTDIR="$ROOT"
for f in include/vastrack.h include/vastrack/doc.h lib/libvastrack.a lib/libvastrack.so \
         lib/libvastrack.so.0 lib/pkgconfig/vastrack.pc bin/vastrack; do
  if [ -e "$ROOT/usr/local/$f" ]; then ok "installed $f"; else nok "installed $f"; fi
done
cat > "$TMP/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <vastrack.h>
int main(void) {
  const char *x = "<VAST version='4.2'><Ad id='a'><InLine><AdSystem>s</AdSystem>"
                  "<AdTitle>t</AdTitle><Impression>http://i</Impression></InLine></Ad></VAST>";
  vast_doc *doc;
  vast_error err;
  if (vast_doc_parse(x, strlen(x), NULL, &doc, &err) != VAST_OK) return 1;
  printf("%s %s %zu\n", vast_version(), vast_doc_vast(doc)->ads[0].id,
         vast_doc_vast(doc)->ads[0].n_impressions);
  vast_doc_free(doc);
  return 0;
}
C
export PKG_CONFIG_PATH="$ROOT/usr/local/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$ROOT"
expect_rc "pkg-config knows vastrack" 0 pkg-config --exists vastrack
expect_rc "builds against the installed tree" 0 sh -c "cc -o '$TMP/prog' '$TMP/prog.c' \$(pkg-config --cflags --libs vastrack)"
expect_rc "runs with the shared library" 0 env LD_LIBRARY_PATH="$ROOT/usr/local/lib" "$TMP/prog"
expect_grep "library answers" '^[0-9.]+ a 1$' "$TMP/out"
nm -D --defined-only "$ROOT/usr/local/lib/libvastrack.so" | awk '$2 ~ /[TDBR]/ {print $3}' > "$TMP/syms"
if [ -s "$TMP/syms" ] && ! grep -v '^vast_' "$TMP/syms" | grep -q .; then ok "only vast_ symbols exported ($(wc -l < "$TMP/syms"))"
else nok "only vast_ symbols exported" "$(grep -v '^vast_' "$TMP/syms" | head -5)"; fi
finish
