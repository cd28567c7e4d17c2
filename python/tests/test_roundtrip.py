"""The corpus round trip: for every corpus file, the Python model equals
`vastrack inspect --json` of the same file, key by key, and parse errors carry
the position and IAB code the CLI prints."""
import json
import re
import subprocess

import pytest

import vastrack
from vastrack import Node
from conftest import corpus_dir, corpus_files

FILES = corpus_files()


def test_corpus_present():
    assert len(FILES) >= 40, "corpus not found at %s" % corpus_dir()


def same(model, js, where):
    """Every key of the JSON is an attribute of the model with an equal value.
    Numbers: the JSON writer keeps 3 decimals."""
    if isinstance(js, dict):
        assert model is not None, "%s: model has None, JSON has an object" % where
        for k, v in js.items():
            if isinstance(model, dict):
                assert k in model, "%s.%s missing from the model" % (where, k)
                got = model[k]
            else:
                assert hasattr(model, k), "%s.%s missing from the model" % (where, k)
                got = getattr(model, k)
            same(got, v, "%s.%s" % (where, k))
    elif isinstance(js, list):
        assert isinstance(model, list), "%s: model has %r, JSON a list" % (where, type(model))
        assert len(model) == len(js), "%s: %d items, JSON %d" % (where, len(model), len(js))
        for i, (m, j) in enumerate(zip(model, js)):
            same(m, j, "%s[%d]" % (where, i))
    elif isinstance(js, bool) or js is None or isinstance(js, str):
        assert not isinstance(model, Node), "%s: model has an object" % where
        assert model == js and isinstance(model, bool) == isinstance(js, bool), \
            "%s: model %r, JSON %r" % (where, model, js)
    else:
        assert isinstance(model, (int, float)) and not isinstance(model, bool), \
            "%s: model %r, JSON %r" % (where, model, js)
        assert abs(model - js) <= 0.0005 + 1e-9, "%s: model %r, JSON %r" % (where, model, js)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(corpus_dir())) for p in FILES])
def test_model_equals_inspect_json(path, vastrack_bin):
    r = subprocess.run([vastrack_bin, "inspect", "--json", str(path)], capture_output=True)
    data = path.read_bytes()
    if r.returncode != 0:
        # the CLI says "FILE:LINE:COL: message [VAST code N]"; the binding raises the same
        assert r.returncode == 3, r.stderr
        m = re.search(rb":(\d+):(\d+): (.*) \[VAST code (\d+)\]", r.stderr)
        assert m, r.stderr
        with pytest.raises(vastrack.ParseError) as e:
            vastrack.parse(data)
        assert (e.value.line, e.value.column, e.value.iab_code) == \
            (int(m.group(1)), int(m.group(2)), int(m.group(4)))
        assert e.value.message == m.group(3).decode()
        return
    js = json.loads(r.stdout)
    doc = vastrack.parse(data)
    same(doc, js, "doc")
    # the model's own dict form is the same JSON, and so is the library's writer
    assert doc.to_dict() == js
    same(doc.to_dict(), js, "to_dict")
