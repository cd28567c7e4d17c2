"""Parse throughput from Python over the corpus, in one run against
 (a) a pure-Python parse with the standard library's xml.etree.ElementTree (its C
     accelerator, as any script gets it) extracting the same fields, and
 (b) @dailymotion/vast-client 6 under node (VASTJS_NODE_PATH, VASTJS_DUMP), when
     installed (bench/run.sh installs it into BUILD/node).
The fields are those ../shared/tools/vastjs-dump.cjs shows of each ad: id, sequence,
type, AdSystem, AdTitle, Impression and Error URLs, VASTAdTagURI, and per creative
type, id, adId, sequence, and for a Linear its duration, tracking URLs per event,
media files (url, type, width, height, bitrate, codec, delivery), ClickThrough and
ClickTracking. The three run in alternating short rounds and each keeps its best, so
load from other processes penalises all alike. Files: every corpus file whose root is
<VAST> and that libvastrack parses (VMAP is left out: the JavaScript client does not
parse it). Prints JSON lines. fields_equal_etree counts the files where both Python
readings agree; where they do not, plain etree reads less than libvastrack (the legacy
<VASTAdTagURL> spelling, a default xmlns on <VAST>), so etree's figure is, if anything,
flattered.
"""
import json
import os
import pathlib
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import vastrack


def view_vastrack(data):
    doc = vastrack.parse(data)
    ads = []
    for ad in doc.ads:
        crs = []
        for c in ad.creatives:
            v = {"type": c.type, "id": c.id, "adId": c.adId, "sequence": c.sequence}
            lin = c.linear
            if lin is not None:
                tr = {}
                for t in lin.tracking:
                    tr.setdefault(t.event, []).append(t.url)
                v.update(duration=lin.duration, tracking=tr,
                         mediaFiles=[(m.url, m.type, m.width, m.height, m.bitrate, m.codec,
                                      m.delivery) for m in lin.mediaFiles],
                         clickThrough=lin.clickThrough,
                         clickTracking=lin.clickTracking)
            crs.append(v)
        ads.append({"id": ad.id, "sequence": ad.sequence, "type": ad.type,
                    "adSystem": ad.adSystem, "adTitle": ad.adTitle,
                    "impressions": ad.impressions,  # lists of str (Url)
                    "errors": ad.errors, "vastAdTagURI": ad.vastAdTagURI,
                    "creatives": crs})
    return {"version": doc.version, "ads": ads}


def _text(e):
    if e is None:
        return None
    return (e.text or "").strip()


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _time(s):
    if not s:
        return None
    try:
        parts = [float(p) for p in s.strip().split(":")]
    except ValueError:
        return None
    sec = 0.0
    for p in parts:
        sec = sec * 60 + p
    return sec


def view_etree(data):
    root = ET.fromstring(data)
    ads = []
    for ad in root.findall("Ad"):
        body = ad.find("InLine")
        kind = "inline"
        if body is None:
            body = ad.find("Wrapper")
            kind = "wrapper" if body is not None else "empty"
        crs = []
        if body is not None:
            for c in body.findall("Creatives/Creative"):
                lin = c.find("Linear")
                ctype = ("linear" if lin is not None else
                         "nonlinear" if c.find("NonLinearAds") is not None else
                         "companion" if c.find("CompanionAds") is not None else "unknown")
                v = {"type": ctype, "id": c.get("id"),
                     "adId": c.get("adId") or c.get("AdID") or c.get("adID"),
                     "sequence": _int(c.get("sequence"))}
                if lin is not None:
                    tr = {}
                    for t in lin.findall("TrackingEvents/Tracking"):
                        tr.setdefault(t.get("event"), []).append(_text(t))
                    v.update(duration=_time(_text(lin.find("Duration"))), tracking=tr,
                             mediaFiles=[(_text(m), m.get("type"), _int(m.get("width")),
                                          _int(m.get("height")), _int(m.get("bitrate")),
                                          m.get("codec"), m.get("delivery"))
                                         for m in lin.findall("MediaFiles/MediaFile")],
                             clickThrough=_text(lin.find("VideoClicks/ClickThrough")),
                             clickTracking=[_text(u) for u in
                                            lin.findall("VideoClicks/ClickTracking")])
                crs.append(v)
        get = (lambda p: _text(body.find(p))) if body is not None else (lambda p: None)
        ads.append({"id": ad.get("id"), "sequence": _int(ad.get("sequence")), "type": kind,
                    "adSystem": get("AdSystem"), "adTitle": get("AdTitle"),
                    "impressions": [_text(u) for u in body.findall("Impression")]
                    if body is not None else [],
                    "errors": [_text(u) for u in body.findall("Error")]
                    if body is not None else [],
                    "vastAdTagURI": get("VASTAdTagURI"), "creatives": crs})
    return {"version": root.get("version"), "ads": ads}


def best_rate(fn, files, seconds):
    """Docs per second of fn over the files, for about `seconds`."""
    n = 0
    t0 = time.perf_counter()
    while True:
        for x in files:
            fn(x)
        n += len(files)
        el = time.perf_counter() - t0
        if el >= seconds:
            return n / el


def node_rate(paths, rounds):
    tool, np = os.environ.get("VASTJS_DUMP"), os.environ.get("VASTJS_NODE_PATH")
    if not tool or not np:
        return None
    env = dict(os.environ, NODE_PATH=np)
    r = subprocess.run(["node", tool, "--bench", str(rounds)] + paths, env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout.splitlines()[-1])["docs_per_s"]


def main():
    corpus = pathlib.Path(os.environ.get("VASTRACK_CORPUS", "../shared/corpus"))
    paths, files = [], []
    for p in sorted(corpus.rglob("*.xml")):
        data = p.read_bytes()
        try:
            doc = vastrack.parse(data)
        except vastrack.ParseError:
            continue
        if doc.kind != "vast" or b"<VAST" not in data:
            continue  # VMAP and VAST 1.0 VideoAdServingTemplate left out
        try:
            ET.fromstring(data)
        except ET.ParseError:
            continue  # etree refuses it: no like-for-like comparison
        paths.append(str(p))
        files.append(data)
    if not files:
        print(json.dumps({"bench": "python-parse", "error": "no corpus files"}))
        return 1
    same = sum(view_vastrack(x) == view_etree(x) for x in files)
    parse_only = lambda x: vastrack.parse(x)
    best = {"vastrack": 0.0, "vastrack_parse_only": 0.0, "etree": 0.0, "vastjs": None}
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    for _ in range(rounds):
        best["vastrack"] = max(best["vastrack"], best_rate(view_vastrack, files, 0.3))
        best["vastrack_parse_only"] = max(best["vastrack_parse_only"],
                                          best_rate(parse_only, files, 0.3))
        best["etree"] = max(best["etree"], best_rate(view_etree, files, 0.3))
        r = node_rate(paths, 40)
        if r is not None:
            best["vastjs"] = max(best["vastjs"] or 0.0, r)
    nbytes = sum(map(len, files))
    out = {
        "bench": "python-parse", "files": len(files), "bytes": nbytes,
        "python": sys.version.split()[0],
        "fields_equal_etree": "%d/%d" % (same, len(files)),
        "vastrack_docs_per_s": round(best["vastrack"]),
        "vastrack_mb_per_s": round(best["vastrack"] * nbytes / len(files) / 1e6, 1),
        "vastrack_parse_only_docs_per_s": round(best["vastrack_parse_only"]),
        "etree_docs_per_s": round(best["etree"]),
        "ratio_to_etree": round(best["vastrack"] / best["etree"], 2),
        "vastjs": "@dailymotion/vast-client 6 + @xmldom/xmldom (node)"
        if best["vastjs"] else None,
        "vastjs_docs_per_s": round(best["vastjs"]) if best["vastjs"] else None,
        "ratio_to_vastjs": round(best["vastrack"] / best["vastjs"], 2) if best["vastjs"] else None,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
