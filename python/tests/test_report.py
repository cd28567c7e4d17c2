"""report() over a real collector database: `vastrack serve` receives beacons fired by
vastrack.fire(), then the rows are read back."""
import json
import signal
import subprocess
import time

import pytest

import vastrack
from helpers import inline


@pytest.fixture
def collector(tmp_path, vastrack_bin):
    db = tmp_path / "hits.db"
    p = subprocess.Popen([vastrack_bin, "serve", "--listen", "127.0.0.1:0", "--db", str(db),
                          "--threads", "1", "--quiet", "--no-web"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("listening on "), line + p.stderr.read()
        yield "http://" + line.split()[-1], db, p
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=20)


def stop(p):
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=20) == 0


W0 = 1700000000.0


def test_report_rows_from_fired_beacons(collector, tmp_path, vastrack_bin):
    base, db, proc = collector
    doc = vastrack.parse(inline(base, ad_id="42"))
    beacons = []
    for _ in range(2):
        tr = vastrack.Tracker(doc, seed=5)
        beacons += tr.impression(wall=W0) + tr.progress(0, wall=W0)
    tr = vastrack.Tracker(doc, seed=6)
    beacons += tr.impression(wall=W0) + tr.error(402)
    got = vastrack.fire(beacons, timeout=5, allow_private=True)
    assert all(d.status in (200, 204) for d in got), got
    stop(proc)
    rows = vastrack.report(db)
    by = {(r["ad"], r["event"], r["code"]): r for r in rows}
    assert by[("42", "impression", None)]["counted"] == 3
    assert by[("42", "start", None)]["counted"] == 2
    assert by[("42", "start", None)]["rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert by[("42", "start", None)]["funnel"] is True
    assert by[("42", "complete", None)]["counted"] == 0
    assert by[("42", "error", 402)]["counted"] == 1
    assert all(set(r) == {"ad", "impressions", "event", "code", "funnel", "counted", "rate"}
               for r in rows)
    # the same numbers as `vastrack report --json`
    cli = json.loads(subprocess.run([vastrack_bin, "report", "--json", "--db", str(db)],
                                    capture_output=True, check=True).stdout)
    assert sum(e["counted"] for a in cli["ads"] for e in a["events"]) == \
        sum(r["counted"] for r in rows)
    # since: hits are recorded with the collector's clock, so the future has none
    assert all(r["counted"] == 0 for r in vastrack.report(db, since=time.time() + 3600))
    assert vastrack.report(db, since="7d") == rows
    with pytest.raises(ValueError):
        vastrack.report(db, since="yesterday-ish")
    try:
        import pandas
    except ImportError:
        return
    df = pandas.DataFrame(rows)
    assert int(df[df.event == "impression"].counted.sum()) == 3


def test_report_refuses_what_is_not_a_collector_db(tmp_path):
    p = tmp_path / "x.db"
    p.write_bytes(b"not sqlite")
    with pytest.raises(vastrack.VastError) as e:
        vastrack.report(p)
    assert e.value.name == "VAST_E_DB"
