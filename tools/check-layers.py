#!/usr/bin/env python3
"""check-layers.py [BUILD]: the module rules of docs/architecture.md, checked.

lib/ has one folder per module. A module may use another only when the table
below allows it, and only through that module's public header
(include/vastrack/*.h) or a named internal header (lib/<module>/*.h). Two checks:

  includes  every #include "..." in lib/*/*.[ch] and include/vastrack/*.h;
  symbols   with BUILD (a build directory, e.g. build/asan): every undefined
            symbol of BUILD/obj/lib/<m>/*.o defined by another module's objects
            (what the linker will really pull in, whatever the includes say).

Also: no file of lib/, src/ or include/ reaches MAX_LINES lines. Prints one line
per violation and exits 1 when there is any.
"""
import collections
import glob
import os
import re
import subprocess
import sys

# Lowest first. A module may use the modules listed for it, nothing else.
ALLOWED = {
    "base": [],
    "parse": ["base"],
    "track": ["base", "parse"],
    "validate": ["base", "parse"],
    "net": ["base", "parse", "track"],
    "breaks": ["base", "parse", "track", "net"],
    "probe": ["base", "parse", "net", "validate"],
    "collect": ["base", "parse", "track"],
    "certify": ["base", "parse", "track", "validate", "net", "collect"],
    "web": ["base", "parse", "track", "validate", "net", "breaks", "probe", "collect", "certify"],
    "ssai": ["base", "parse", "track", "net", "breaks", "collect"],
}
# The module that owns each public header. vastrack.h (the umbrella) is for
# callers of the library: a module includes the headers it uses.
PUBLIC = {
    "base": "base", "doc": "parse", "chain": "parse", "track": "track",
    "validate": "validate", "net": "net", "breaks": "breaks", "probe": "probe",
    "collect": "collect", "certify": "certify", "ssai": "ssai",
}
UMBRELLA_OK = {"web"}  # the top module may take the whole API
MAX_LINES = 1200

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
bad = []


def may(a, b):
    return a == b or b in ALLOWED.get(a, [])


def check_includes():
    for path in sorted(glob.glob(os.path.join(ROOT, "lib/*/*.[ch]")) +
                       glob.glob(os.path.join(ROOT, "include/vastrack/*.h"))):
        rel = os.path.relpath(path, ROOT)
        parts = rel.split("/")
        if parts[0] == "lib":
            mod = parts[1]
            if mod not in ALLOWED:
                bad.append("%s: folder lib/%s is not a module of docs/architecture.md" % (rel, mod))
                continue
        else:
            mod = PUBLIC.get(parts[2][:-2])
            if mod is None:
                bad.append("%s: public header with no module in tools/check-layers.py" % rel)
                continue
        for n, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            inc = m.group(1)
            if parts[0] == "include":  # a public header includes its neighbours by name
                inc = "vastrack/" + inc if "/" not in inc else inc
            if inc == "vastrack.h":
                if mod not in UMBRELLA_OK:
                    bad.append("%s:%d: includes the umbrella vastrack.h; include the module "
                               "headers it uses" % (rel, n))
                continue
            top, _, rest = inc.partition("/")
            if top == "vastrack":
                owner = PUBLIC.get(rest[:-2])
                if owner is None:
                    bad.append("%s:%d: unknown public header %s" % (rel, n, inc))
                elif not may(mod, owner):
                    bad.append("%s:%d: %s may not use %s (includes %s)" % (rel, n, mod, owner, inc))
            elif top in ALLOWED and rest:
                if not may(mod, top):
                    bad.append("%s:%d: %s may not use %s (includes %s)" % (rel, n, mod, top, inc))
            elif "/" not in inc and parts[0] == "lib" and \
                    not os.path.exists(os.path.join(os.path.dirname(path), inc)) and \
                    inc not in ("web-assets.h",):
                bad.append("%s:%d: include \"%s\" names no module (write \"<module>/%s\")"
                           % (rel, n, inc, inc))


def check_symbols(build):
    objs = sorted(glob.glob(os.path.join(build, "obj/lib/*/*.o")))
    if not objs:
        bad.append("%s: no objects under obj/lib (build it first)" % build)
        return 0
    defs, undef = {}, collections.defaultdict(set)
    for o in objs:
        mod = o.split("/")[-2]
        out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDBRCVW":
                defs[p[2]] = mod
            elif len(p) == 2 and p[0] == "U":
                undef[(mod, os.path.basename(o))].add(p[1])
    edges = 0
    for (mod, obj), syms in sorted(undef.items()):
        for s in sorted(syms):
            owner = defs.get(s)
            if owner and owner != mod:
                edges += 1
                if not may(mod, owner):
                    bad.append("lib/%s/%s: calls %s of module %s, which %s may not use"
                               % (mod, obj[:-2] + ".c", s, owner, mod))
    return edges


def check_sizes():
    for path in sorted(glob.glob(os.path.join(ROOT, "lib/*/*.[ch]")) +
                       glob.glob(os.path.join(ROOT, "src/*.[ch]")) +
                       glob.glob(os.path.join(ROOT, "include/vastrack/*.h"))):
        n = sum(1 for _ in open(path, encoding="utf-8", errors="replace"))
        if n >= MAX_LINES:
            bad.append("%s: %d lines (at most %d)" % (os.path.relpath(path, ROOT), n, MAX_LINES - 1))


check_includes()
edges = check_symbols(sys.argv[1]) if len(sys.argv) > 1 else 0
if os.environ.get("CHECK_SIZES", "1") != "0":
    check_sizes()
for b in bad:
    print(b)
print("layers: %d modules, %d cross-module symbol references checked, %d violations"
      % (len(ALLOWED), edges, len(bad)))
sys.exit(1 if bad else 0)
