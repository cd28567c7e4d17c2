#!/bin/sh
# The Python binding (python/): installs it with pip into a scratch virtualenv (the
# way users do, against the release build's build/libvastrack_pic.a) and runs its
# pytest suite, one "ok - python: TEST" line per test. Skipped, with the reason, when
# PYTHON (default /usr/bin/python3, Debian's) or its cffi, pytest or venv is missing.
# Then the same suite again against the ASan+UBSan build of the library (BUILD/asan
# objects linked into the module, the sanitizer runtime preloaded into python):
# "ok - python-asan: TEST".
# VASTRACK (the CLI the model is compared with) and VASTRACK_CORPUS come from tests/run.sh.
PYTHON=${PYTHON:-/usr/bin/python3}
skip() { echo "# python SKIPPED: $*"; exit 0; }
[ -x "$PYTHON" ] || skip "no $PYTHON (set PYTHON; Debian: make deps)"
for m in cffi pytest venv ensurepip; do
  "$PYTHON" -c "import $m" 2>/dev/null || skip "$PYTHON cannot import $m (Debian: make deps)"
done
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" -m venv --system-site-packages "$tmp/venv" >"$tmp/venv.log" 2>&1 ||
  { echo "not ok - python: venv"; sed 's/^/    /' "$tmp/venv.log"; exit 1; }
if "$tmp/venv/bin/pip" install --no-build-isolation --no-deps --no-index "$root/python" \
    >"$tmp/pip.log" 2>&1; then
  echo "ok - python: pip install ./python"
else
  echo "not ok - python: pip install ./python"
  tail -30 "$tmp/pip.log" | sed 's/^/    /'
  exit 1
fi
# The sdist carries the C tree and builds libvastrack itself, without this checkout.
if (cd "$root/python" && "$PYTHON" setup.py -q sdist -d "$tmp/dist") >"$tmp/sdist.log" 2>&1 &&
   "$PYTHON" -m venv --system-site-packages "$tmp/sdvenv" >>"$tmp/sdist.log" 2>&1 &&
   (cd "$tmp" && env -u VASTRACK_SRC -u VASTRACK_BUILD "$tmp/sdvenv/bin/pip" install \
      -v --no-build-isolation --no-deps --no-index "$tmp"/dist/vastrack-*.tar.gz) \
      >>"$tmp/sdist.log" 2>&1 &&
   grep -q "_csrc/build/libvastrack_pic.a" "$tmp/sdist.log" &&
   (cd "$tmp" && "$tmp/sdvenv/bin/python" -c \
      'import vastrack; assert vastrack.parse(b"<VAST version=\"4.2\"/>").version == "4.2"') \
      >>"$tmp/sdist.log" 2>&1; then
  echo "ok - python: the sdist builds libvastrack itself"
else
  echo "not ok - python: the sdist builds libvastrack itself"
  tail -30 "$tmp/sdist.log" | sed 's/^/    /'
fi
# Run from a scratch folder so that `import vastrack` is the installed package.
cp -r "$root/python/tests" "$tmp/tests"
cd "$tmp" || exit 1
VASTRACK_TAP="$tmp/tap" ASAN_OPTIONS=detect_leaks=0 \
  "$tmp/venv/bin/python" -m pytest -q -p no:cacheprovider tests >"$tmp/pytest.log" 2>&1
rc=$?
cat "$tmp/tap" 2>/dev/null
if [ $rc -ne 0 ]; then
  grep -q '^not ok' "$tmp/tap" 2>/dev/null || echo "not ok - python: pytest exited $rc"
  tail -40 "$tmp/pytest.log" | sed 's/^/    /'
  exit 1
fi

# Under the sanitizers: the boundary (views, callbacks, buffers) is where a binding
# goes wrong. Python's own allocations go through malloc so ASan sees them too.
asan_rt=$(${CC:-cc} -print-file-name=libasan.so 2>/dev/null)
case "$asan_rt" in /*) [ -f "$asan_rt" ] || asan_rt="" ;; *) asan_rt="" ;; esac
if [ -z "$asan_rt" ]; then
  echo "# python-asan SKIPPED: ${CC:-cc} has no libasan.so"
  exit 0
fi
"$PYTHON" -m venv --system-site-packages "$tmp/asvenv" >"$tmp/asan.log" 2>&1
if ! (cd "$root/python" && VASTRACK_FLAVOUR=asan "$tmp/asvenv/bin/pip" install \
      --no-build-isolation --no-deps --no-index .) >>"$tmp/asan.log" 2>&1; then
  echo "not ok - python-asan: pip install with VASTRACK_FLAVOUR=asan"
  tail -30 "$tmp/asan.log" | sed 's/^/    /'
  exit 1
fi
VASTRACK_TAP="$tmp/tap-asan" VASTRACK_TAP_NAME=python-asan LD_PRELOAD="$asan_rt" \
  PYTHONMALLOC=malloc ASAN_OPTIONS=detect_leaks=0 \
  "$tmp/asvenv/bin/python" -m pytest -q -p no:cacheprovider tests >"$tmp/pytest-asan.log" 2>&1
rc=$?
cat "$tmp/tap-asan" 2>/dev/null
if [ $rc -ne 0 ]; then
  grep -q '^not ok' "$tmp/tap-asan" 2>/dev/null || echo "not ok - python-asan: pytest exited $rc"
  grep -A30 -m1 'ERROR: AddressSanitizer\|runtime error' "$tmp/pytest-asan.log" | sed 's/^/    /'
  tail -30 "$tmp/pytest-asan.log" | sed 's/^/    /'
  exit 1
fi
