"""pytest setup for the vastrack binding.

VASTRACK: the `vastrack` binary to compare with (default: ../build/vastrack);
VASTRACK_CORPUS: the shared corpus of real tags (default: ../../shared/corpus).
VASTRACK_TAP: when set, a file that gets one "ok - python: NAME" or
"not ok - python: NAME" line per test, for tests/run.sh (VASTRACK_TAP_NAME replaces
"python").
"""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def vastrack_bin():
    b = os.environ.get("VASTRACK") or str(ROOT / "build" / "vastrack")
    if not os.access(b, os.X_OK):
        pytest.fail("no vastrack binary at %s (run make, or set VASTRACK)" % b)
    return b


def corpus_dir():
    return pathlib.Path(os.environ.get("VASTRACK_CORPUS") or ROOT.parent / "shared" / "corpus")


def corpus_files():
    d = corpus_dir()
    return sorted(p for p in d.rglob("*.xml")) if d.is_dir() else []


_tap = None


def pytest_runtest_logreport(report):
    global _tap
    path = os.environ.get("VASTRACK_TAP")
    if not path:
        return
    if _tap is None:
        _tap = open(path, "a")
    name = report.nodeid.split("::", 1)[-1]
    tag = os.environ.get("VASTRACK_TAP_NAME", "python")
    if report.when == "call" or report.outcome == "failed" or (
            report.when == "setup" and report.skipped):
        if report.passed:
            line = "ok - %s: %s" % (tag, name)
        elif report.skipped:
            line = "# %s: %s SKIPPED" % (tag, name)
        else:
            line = "not ok - %s: %s (%s)" % (tag, name, report.when)
        _tap.write(line + "\n")
        _tap.flush()
