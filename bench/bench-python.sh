#!/bin/sh
# Parse throughput of the Python binding (bench/bench-python.py): installs python/
# with pip into BUILD/python-venv (Debian's /usr/bin/python3, or PYTHON) and runs
# it; one JSON line. Skipped (a JSON line saying why) without python3 and cffi.
B=${1:-build}
case "$B" in /*) ;; *) B="$PWD/$B" ;; esac
PYTHON=${PYTHON:-/usr/bin/python3}
say() { echo "{\"bench\":\"python-parse\",\"skipped\":\"$*\"}"; exit 0; }
[ -x "$PYTHON" ] || say "no $PYTHON"
"$PYTHON" -c "import cffi, venv, ensurepip" 2>/dev/null || say "$PYTHON has no cffi or venv (make deps)"
v="$B/python-venv"
[ -x "$v/bin/python" ] || "$PYTHON" -m venv --system-site-packages "$v" >/dev/null 2>&1 ||
  say "cannot create a virtualenv"
"$v/bin/pip" install -q --no-build-isolation --no-deps --no-index --force-reinstall ./python \
  >"$v/pip.log" 2>&1 || { echo '{"bench":"python-parse","error":"pip install ./python failed"}'; exit 1; }
(cd "$v" && "$v/bin/python" "$OLDPWD/bench/bench-python.py")
