#!/usr/bin/env python3
"""Checks JSON output against the schemas documented in docs/json.md.

usage: jsonschema.py DOC.md NAME FILE [--lines]

The schemas are the blocks of DOC.md that follow a line "<!-- schema: NAME -->".
FILE holds one JSON document (or one per line with --lines). Exit 0 when every
document is valid UTF-8, parses, and matches schema NAME; otherwise the problems
go to stderr (the first few, with their JSON path) and the exit status is 1.

The schema language is a small subset of JSON Schema, enough to pin a style:
  "type": "object"|"array"|"string"|"integer"|"number"|"boolean"|"null", or a list
  "properties": {...}  an object with exactly these keys (all present: missing
                       values are null, never left out), each checked
  "values": schema     an object used as a map (any keys), each value checked
  "items": schema      each element of an array
  "enum": [...]        one of these values
  "oneOf": [...]       matches one of the schemas (tried in order)
  "$ref": "Name"       another schema block of the document
  "signed": true       a number that may be negative (otherwise >= 0: no -1 for
                       "missing")
Every property name in a schema must be camelCase ([a-z][a-zA-Z0-9]*).
"""
import json, re, sys

def load_schemas(doc_path):
    text = open(doc_path, encoding="utf-8").read()
    out = {}
    for m in re.finditer(r"<!-- schema: (\w+) -->\s*```json\n(.*?)```", text, re.S):
        try:
            out[m.group(1)] = json.loads(m.group(2))
        except ValueError as e:
            sys.exit("%s: schema %s does not parse: %s" % (doc_path, m.group(1), e))
    return out

CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")

def check_style(schemas):
    bad = []
    def walk(s, where):
        if isinstance(s, dict):
            for k, v in s.get("properties", {}).items():
                if not CAMEL.match(k):
                    bad.append("%s: property '%s' is not camelCase" % (where, k))
                walk(v, where + "." + k)
            for key in ("values", "items"):
                if key in s:
                    walk(s[key], where + "[]")
            for alt in s.get("oneOf", []):
                walk(alt, where)
    for name, s in schemas.items():
        walk(s, name)
    return bad

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}

def validate(v, s, schemas, path, errs):
    if len(errs) > 20:
        return
    if "$ref" in s:
        return validate(v, schemas[s["$ref"]], schemas, path, errs)
    if "oneOf" in s:
        for alt in s["oneOf"]:
            e = []
            validate(v, alt, schemas, path, e)
            if not e:
                return
        errs.append("%s: matches none of the alternatives (%s)" % (path, json.dumps(v)[:120]))
        return
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(TYPES[t](v) for t in types):
            errs.append("%s: %s is not %s" % (path, json.dumps(v)[:80], "|".join(types)))
            return
    if "enum" in s and v not in s["enum"]:
        errs.append("%s: %s is not one of %s" % (path, json.dumps(v), s["enum"]))
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0 and not s.get("signed"):
        errs.append("%s: negative value %s (missing values are null)" % (path, v))
    if isinstance(v, dict):
        if "properties" in s:
            props = s["properties"]
            for k in v:
                if k not in props:
                    errs.append("%s: undocumented key '%s'" % (path, k))
            for k, ps in props.items():
                if k not in v:
                    errs.append("%s: key '%s' is missing (null, not left out)" % (path, k))
                else:
                    validate(v[k], ps, schemas, path + "." + k, errs)
        if "values" in s:
            for k, x in v.items():
                validate(x, s["values"], schemas, path + "." + k, errs)
    if isinstance(v, list) and "items" in s:
        for i, x in enumerate(v):
            validate(x, s["items"], schemas, "%s[%d]" % (path, i), errs)

def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    doc, name, path = sys.argv[1:4]
    lines = "--lines" in sys.argv[4:]
    schemas = load_schemas(doc)
    style = check_style(schemas)
    if style:
        print("\n".join(style), file=sys.stderr)
        return 1
    if name not in schemas:
        print("%s: no schema named %s" % (doc, name), file=sys.stderr)
        return 1
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        print("%s: not valid UTF-8: %s" % (path, e), file=sys.stderr)
        return 1
    docs = [l for l in text.split("\n") if l.strip()] if lines else [text]
    if not docs:
        print("%s: empty" % path, file=sys.stderr)
        return 1
    errs = []
    for i, d in enumerate(docs):
        try:
            v = json.loads(d)
        except ValueError as e:
            errs.append("document %d: does not parse: %s" % (i + 1, e))
            continue
        validate(v, schemas[name], schemas, "$" if not lines else "$%d" % (i + 1), errs)
    if errs:
        print("\n".join(errs[:12]), file=sys.stderr)
        return 1
    return 0

if __name__ == "__main__":
    sys.exit(main())
