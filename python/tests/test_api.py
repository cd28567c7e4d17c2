"""The binding's API against real parts: parse errors, the model, validate, resolve
over loopback HTTP, the tracker, firing, and lifetimes."""
import gc
import threading
import time
import weakref

import pytest

import vastrack
from conftest import corpus_files
from helpers import Server, inline, wrapper

BASE = "http://127.0.0.1:9"  # URLs that are only planned, never requested


def test_parse_model_and_positions():
    doc = vastrack.parse(inline(BASE))
    assert doc.kind == "vast" and doc.version == "4.2"
    ad = doc.ads[0]
    assert (ad.id, ad.type, ad.adTitle) == ("7", "inline", "Python test")
    assert ad.impressions == [BASE + "/t/impression?ad=7&cb=[CACHEBUSTING]"]
    assert ad.impressions[0].id == "imp1" and ad.impressions[0].line == 7
    lin = ad.creatives[0].linear
    assert lin.duration == 20 and lin.skipoffset == 5
    assert [t.event for t in lin.tracking][:2] == ["start", "firstQuartile"]
    mf = lin.mediaFiles[0]
    assert (mf.url, mf.width, mf.height, mf.bitrate, mf.delivery) == \
        ("https://cdn.example/ad.mp4", 1280, 720, 2000, "progressive")
    assert mf.line > lin.line > ad.line > 0 and mf.column > 0
    assert doc.source[mf.offset:].startswith(b"<MediaFile ")
    assert ad.creatives[0].nonlinear is None and ad.wrapper is None


def test_parse_str_and_bytes_agree():
    x = inline(BASE)
    assert vastrack.parse(x.decode()).to_dict() == vastrack.parse(x).to_dict()
    assert vastrack.parse(bytearray(x)).ads[0].id == "7"


@pytest.mark.parametrize("xml,iab,line,col", [
    (b"<VAST version='4.2'><Ad>", 100, 1, 25),
    (b"<html><body/></html>", 101, 1, 1),
    (b"<VAST version='9.0'></VAST>", 102, 1, 1),
    (b"<!DOCTYPE x [<!ENTITY a 'b'>]><VAST version='4.0'/>", 100, 1, None),
])
def test_parse_error_carries_position_and_iab_code(xml, iab, line, col):
    with pytest.raises(vastrack.ParseError) as e:
        vastrack.parse(xml)
    assert e.value.iab_code == iab and e.value.line == line
    if col is not None:
        assert e.value.column == col
    assert e.value.message and "VAST code %d" % iab in str(e.value)
    assert isinstance(e.value, ValueError) and isinstance(e.value, vastrack.VastError)


def test_parse_limits():
    with pytest.raises(vastrack.ParseError) as e:
        vastrack.parse(inline(BASE), max_depth=3)
    assert e.value.name == "VAST_E_LIMIT"
    with pytest.raises(TypeError):
        vastrack.parse(inline(BASE), max_dept=3)
    with pytest.raises(TypeError):
        vastrack.parse(42)


def test_objects_keep_their_document_alive():
    doc = vastrack.parse(inline(BASE))
    ref = weakref.ref(doc)
    mf = doc.ads[0].creatives[0].linear.mediaFiles[0]
    imps = doc.ads[0].impressions
    del doc
    gc.collect()
    assert ref() is not None  # the media file still holds it
    # churn the allocator: freed arenas would be reused by these
    for _ in range(200):
        vastrack.parse(inline("http://other.example"))
    assert mf.url == "https://cdn.example/ad.mp4" and imps[0].startswith(BASE)
    del mf
    gc.collect()
    assert ref() is not None  # a Url reads its position from the document
    assert imps[0].startswith(BASE) and imps[0].line == 7 and imps[0].id == "imp1"
    plain = str(imps[0])
    del imps
    gc.collect()
    assert ref() is None and plain.startswith(BASE)


def test_document_freed_when_unreachable():
    doc = vastrack.parse(inline(BASE))
    ref = weakref.ref(doc)
    ad = doc.ads[0]
    del doc
    gc.collect()
    assert ref() is not None
    del ad
    gc.collect()
    assert ref() is None


def test_validate_profiles_rules_and_parse_errors():
    x = inline(BASE).replace(b'type="video/mp4"',
                             b'type="application/javascript" apiFramework="VPAID"')
    web = vastrack.validate(x)
    ctv = vastrack.validate(vastrack.parse(x), profile="ctv")
    assert all(isinstance(f, vastrack.Finding) for f in ctv)
    sev = lambda fs: {(f.rule, f.severity) for f in fs}
    assert ("media-vpaid-only", "error") in sev(ctv)
    assert ("media-vpaid-only", "warning") in sev(web)
    f = ctv[0]
    assert f.severity in ("error", "warning", "info") and f.line > 0 and f.message and f.fix
    one = ctv[0].rule
    assert one not in {g.rule for g in vastrack.validate(x, profile="ctv", rules={one: False})}
    assert vastrack.validate(x, profile="ctv", rules={one: True}) == ctv
    raised = vastrack.validate(x, profile="ctv", rules={"missing-adservingid": "error"})
    assert ("missing-adservingid", "error") in sev(raised)
    with pytest.raises(ValueError):
        vastrack.validate(x, rules={"missing-adservingid": "fatal"})
    assert all(g.severity == "error" for g in vastrack.validate(x, "ctv", min_severity="error"))
    with pytest.raises(ValueError):
        vastrack.validate(x, rules={"no-such-rule": False})
    with pytest.raises(ValueError):
        vastrack.validate(x, profile="radio")
    bad = vastrack.validate(b"<VAST version='4.2'><Ad>")
    assert [(b.rule, b.code, b.line) for b in bad] == [("xml-malformed", 100, 1)]
    assert any(r["id"] == one for r in vastrack.rules())


VAST_FILES = [p for p in corpus_files() if "vmap" not in str(p)]


@pytest.mark.parametrize("path", VAST_FILES, ids=[p.name for p in VAST_FILES])
def test_validate_matches_the_cli(path, vastrack_bin):
    import json
    import subprocess
    r = subprocess.run([vastrack_bin, "validate", "--json", "--profile", "ctv", str(path)],
                       capture_output=True)
    cli = json.loads(r.stdout)["findings"]
    got = vastrack.validate(path.read_bytes(), profile="ctv")
    assert [(f["rule"], f["severity"], f["message"], f["line"], f["column"]) for f in cli] == \
        [(f.rule, f.severity, f.message, f.line, f.column) for f in got]


def test_resolve_wrapper_chain_over_http():
    with Server() as s:
        s.pages["/inline.xml"] = (200, inline(s.base))
        s.pages["/wrap.xml"] = (200, wrapper(s.base + "/inline.xml?ip=[DEVICEIP]", s.base))
        chain = vastrack.resolve(s.base + "/wrap.xml", timeout=5, device={"ip": "203.0.113.7"},
                                 allow_private=True)
        assert "/inline.xml?ip=203.0.113.7" in s.hits
    assert chain.ok and len(chain.hops) == 2
    assert chain.hops[0].status == 200 and chain.hops[1].doc.ads[0].id == "7"
    r = chain.ads[0]
    assert [a.type for a in r.ads] == ["wrapper", "inline"]
    assert '"hops"' in chain.to_json()
    # the chain's documents outlive the chain object itself
    ad = r.ads[-1]
    del chain, r
    gc.collect()
    assert ad.creatives[0].linear.mediaFiles[0].url == "https://cdn.example/ad.mp4"


def test_validate_config_file(tmp_path):
    x = inline(BASE)
    cfg = tmp_path / "team.toml"
    cfg.write_text('profile = "ctv"\n[rules]\nmissing-adservingid = "error"\n')
    got = vastrack.validate(x, config=cfg)
    assert ("missing-adservingid", "error") in {(f.rule, f.severity) for f in got}
    # arguments win over the file
    got = vastrack.validate(x, config=cfg, rules={"missing-adservingid": "off"})
    assert "missing-adservingid" not in {f.rule for f in got}
    cfg.write_text("[rules]\nno-such-rule = \"error\"\n")
    with pytest.raises(ValueError) as e:
        vastrack.validate(x, config=cfg)
    assert "team.toml:2" in str(e.value)


def test_private_addresses_refused_unless_allowed():
    with Server() as s:
        s.pages["/inline.xml"] = (200, inline(s.base))
        with pytest.raises(vastrack.ResolveError) as e:
            vastrack.resolve(s.base + "/inline.xml", timeout=5)
        assert e.value.chain.hops[0].error == "VAST_E_FORBIDDEN"
        got = vastrack.fire([s.base + "/t/start"], timeout=5)
        assert not got[0].ok and got[0].error
        assert s.hits == []  # nothing reached the server


def test_resolve_failures_raise_with_the_chain():
    with Server() as s:
        s.pages["/wrap.xml"] = (200, wrapper(s.base + "/missing.xml", s.base))
        s.pages["/missing.xml"] = (404, b"")
        with pytest.raises(vastrack.ResolveError) as e:
            vastrack.resolve(s.base + "/wrap.xml", timeout=5, allow_private=True)
        assert e.value.iab_code == 301 and e.value.chain is not None
        assert e.value.chain.hops[1].status == 404
        with pytest.raises(vastrack.ResolveError) as e:
            vastrack.resolve(s.base + "/wrap.xml", max_wrappers=0, allow_private=True)
        assert e.value.iab_code == 302
    with pytest.raises(OSError):
        vastrack.resolve("/nonexistent/tag.xml")


def test_resolve_releases_the_gil():
    # while one thread waits on a slow server inside the C resolver, this thread
    # keeps running Python code
    with Server(delay=0.5) as s:
        s.pages["/inline.xml"] = (200, inline(s.base))
        out = {}
        th = threading.Thread(target=lambda: out.setdefault(
            "chain", vastrack.resolve(s.base + "/inline.xml", timeout=5, allow_private=True)))
        th.start()
        spins = 0
        while not s.hits:
            time.sleep(0.001)
        while th.is_alive():
            spins += 1
        th.join()
    assert out["chain"].ok and spins > 1000


W0 = 1700000000.0


def run(tr, t0, t1):
    """Plays from t0 to t1 at 4 Hz, wall clock in step: the beacons due meanwhile."""
    got = []
    t = t0
    while t < t1 - 1e-9:
        t = min(t1, t + 0.25)
        got += tr.progress(t, wall=W0 + t)
    return got


def play(x=None):
    doc = vastrack.parse(x or inline(BASE))
    return vastrack.Tracker(doc, seed=1, macros={"DEVICEIP": "198.51.100.1"})


def test_tracker_fires_what_the_spec_requires():
    tr = play()
    assert tr.duration == 20
    imp = tr.impression(wall=1700000000)
    assert [b.event for b in imp] == ["impression"]
    b = imp[0]
    assert b.kind == "impression" and b.level == 0 and "[CACHEBUSTING]" in b.template
    assert "[CACHEBUSTING]" not in b.url and b.url.startswith(BASE + "/t/impression?ad=7&cb=")
    assert [x.event for x in tr.progress(0)] == ["start"]
    assert run(tr, 0, 4.75) == []
    with pytest.raises(vastrack.StateError):
        tr.skip(t=4.75)
    assert [x.event for x in run(tr, 4.75, 5.25)] == ["firstQuartile"]
    assert tr.progress(5.25, wall=W0 + 5.25) == []
    w = W0 + 5.25
    assert [x.event for x in tr.pause(wall=w)] == ["pause"]
    assert tr.pause(wall=w) == []  # a second pause fires nothing
    assert [x.event for x in tr.resume(wall=w)] == ["resume"]
    assert [x.event for x in tr.mute(wall=w)] == ["mute"]
    c = tr.click(wall=w)
    assert [x.event for x in c] == ["clickTracking"]
    assert c.click_through == "https://advertiser.example/landing"
    assert [x.event for x in run(tr, 5.25, 10.25)] == ["midpoint"]
    assert tr.skippable
    assert [x.event for x in tr.skip(wall=W0 + 10.25)] == ["skip"]
    assert tr.done
    with pytest.raises(vastrack.StateError):
        tr.progress(15)


def test_tracker_jumps_are_not_played_unless_positions_are_trusted():
    tr = play()
    tr.impression(wall=W0)
    tr.progress(0, wall=W0)
    jump = tr.progress(6, wall=W0 + 0.2)  # 6 s of media in 0.2 s: a jump
    assert jump == [] and jump.not_played and tr.discarded > 5 and tr.continuous < 1
    ssai = vastrack.Tracker(vastrack.parse(inline(BASE)), seed=1, trusted_positions=True)
    ssai.impression(wall=W0)
    ssai.progress(0, wall=W0)
    seg = ssai.progress(6, wall=W0 + 0.2)
    assert [b.event for b in seg] == ["firstQuartile"] and not seg.not_played
    assert ssai.continuous == 6 and ssai.discarded == 0


def test_tracker_complete_and_error():
    tr = play()
    tr.impression()
    tr.progress(0, wall=W0)
    assert [x.event for x in run(tr, 0, 20)] == ["firstQuartile", "midpoint", "thirdQuartile"]
    assert [x.event for x in tr.complete(wall=W0 + 20)] == ["complete"]
    tr = play()
    tr.impression()
    err = tr.error(405)
    assert [x.event for x in err] == ["error"] and err[0].url.endswith("code=405")


def test_tracker_matches_vastrack_play(tmp_path, vastrack_bin):
    import json
    import subprocess
    p = tmp_path / "tag.xml"
    p.write_bytes(inline(BASE))
    r = subprocess.run([vastrack_bin, "play", "--dry-run", "--json", "--seed", "1",
                        "--events", "mute@3", str(p)], capture_output=True, check=True)
    cli = [(j["event"], j["url"], j["level"]) for j in map(json.loads, r.stdout.splitlines())
           if j.get("event")]
    assert ("loaded", None, None) in cli  # events without a URL are listed too
    tr = vastrack.Tracker(vastrack.parse_file(str(p)), seed=1, report_untracked=True)
    got = tr.loaded(wall=W0) + tr.impression(wall=W0) + tr.progress(0, wall=W0)
    got += run(tr, 0, 3) + tr.mute(3, wall=W0 + 3) + run(tr, 3, 20) + tr.complete(wall=W0 + 20)
    assert [(b.event, b.url, b.level) for b in got] == cli


def test_tracker_from_chain_merges_wrapper_tracking():
    with Server() as s:
        s.pages["/inline.xml"] = (200, inline(s.base))
        s.pages["/wrap.xml"] = (200, wrapper(s.base + "/inline.xml", s.base))
        chain = vastrack.resolve(s.base + "/wrap.xml", timeout=5, allow_private=True)
    tr = vastrack.Tracker(chain, seed=3)
    imps = tr.impression()
    assert sorted(b.level for b in imps) == [0, 1]
    starts = tr.progress(0)
    assert sorted((b.event, b.level) for b in starts) == [("start", 0), ("start", 1)]
    with pytest.raises(ValueError):
        vastrack.Tracker(vastrack.parse(wrapper("http://x.example/a", BASE)))
    with pytest.raises(ValueError):
        vastrack.Tracker(vastrack.parse(inline(BASE)), creative=5)
    with pytest.raises(ValueError):
        vastrack.Tracker(vastrack.parse(inline(BASE)), macros={"NOPE": "1"})


def test_fire_requests_every_beacon():
    with Server() as s:
        tr = vastrack.Tracker(vastrack.parse(inline(s.base)), seed=1)
        beacons = tr.impression() + tr.progress(0)
        got = vastrack.fire(beacons + [s.base + "/t/custom?ad=7", ("mine", s.base + "/x")],
                            timeout=5, allow_private=True)
        assert [d.event for d in got] == ["impression", "start", "beacon", "mine"]
        assert all(d.ok and d.status == 200 and d.error is None for d in got)
        paths = sorted(h.split("?")[0] for h in s.hits)
        assert paths == ["/t/custom", "/t/impression", "/t/start", "/x"]
    with pytest.raises(ValueError):
        vastrack.fire(["javascript:alert(1)"])
    with pytest.raises(ValueError):
        vastrack.fire(["http://127.0.0.1:9/x"], server_side=True)
    assert vastrack.fire([]) == []


def test_fire_reports_failures():
    with Server() as s:
        port = s.port
    # the server is gone: connection refused, recorded, nothing raised
    got = vastrack.fire(["http://127.0.0.1:%d/t/start" % port], timeout=2, retries=0,
                        allow_private=True)
    assert len(got) == 1 and not got[0].ok and got[0].status == 0 and got[0].error


def test_threads_share_documents_and_parse_in_parallel():
    files = [p.read_bytes() for p in corpus_files()][:20]
    docs = []
    for x in files:
        try:
            docs.append(vastrack.parse(x))
        except vastrack.ParseError:
            pass
    want = [d.to_dict() for d in docs]
    errors = []

    def work():
        try:
            for _ in range(5):
                for d, w in zip(docs, want):
                    assert d.to_dict() == w  # one document read by every thread
                    assert vastrack.parse(d.source).to_dict() == w
        except Exception as e:  # reported below
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[0]


def test_views_compare_by_element():
    doc = vastrack.parse(inline(BASE))
    a, b = doc.ads[0], doc.ads[0]
    assert a == b and hash(a) == hash(b) and a is not b
    assert doc.ads[0].creatives[0] != a
    assert a != vastrack.parse(inline(BASE)).ads[0]  # another document
    assert "adSystem='test'" in repr(a) and "line %d" % a.line in repr(a)


def test_fire_wait_cancels_what_is_left():
    with Server(delay=2.0) as s:
        got = vastrack.fire([s.base + "/slow"], timeout=5, wait=0.2, allow_private=True)
    assert len(got) == 1 and not got[0].ok and got[0].error
    # a bad URL after good ones: nothing fired, the dispatcher freed cleanly
    with pytest.raises(ValueError):
        vastrack.fire([BASE + "/a", "ftp://x.example/b"], allow_private=True)
    gc.collect()
