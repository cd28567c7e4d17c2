"""vastrack: IAB VAST 1.0-4.3 and VMAP for Python, on libvastrack.

    import vastrack
    doc = vastrack.parse(open("tag.xml", "rb").read())
    for ad in doc.ads:
        for c in ad.creatives:
            if c.linear:
                print(ad.adTitle, c.linear.duration, [m.url for m in c.linear.mediaFiles])
    findings = vastrack.validate(doc, profile="ctv")
    chain = vastrack.resolve("https://ads.example/tag.xml", timeout=5)
    tr = vastrack.Tracker(chain)
    beacons = tr.impression() + tr.progress(0) + tr.progress(8.0)
    deliveries = vastrack.fire(beacons)
    rows = vastrack.report("hits.db", since="1h")      # pandas.DataFrame(rows)

Everything is done by the C library; this package only converts values. Every
call into it releases the GIL (parse, validate, resolve, firing, report), so
threads run them in parallel. Thread safety is that of the C headers: parsed
documents and resolved chains are immutable and may be read from any thread;
a Tracker serialises its own calls with a lock (one play, one state machine).
See docs/python.md.
"""
import collections
import json
import threading
import time

from ._vastrack import ffi, lib
from ._model import (Ad, AdSource, Break, Companion, CompanionAds, Creative, Extension, Icon,
                     Linear, MediaFile, Node, NonLinear, NonLinearAds, Note, Resource,
                     Tracking, Url, Vast, Verification, _s, _urls, _nodes)

__version__ = _s(lib.vast_version())
__all__ = [
    "parse", "parse_file", "validate", "rules", "resolve", "Tracker", "fire", "report",
    "Document", "Chain", "Hop", "Resolved", "Failure", "Beacon", "Beacons", "Delivery",
    "Finding", "VastError", "ParseError",
    "ResolveError", "StateError", "Url", "Ad", "Creative", "Linear", "MediaFile", "Tracking",
    "Icon", "Resource", "NonLinear", "NonLinearAds", "Companion", "CompanionAds",
    "Extension", "Verification", "Vast", "Break", "AdSource", "Note", "Node",
]


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

class VastError(Exception):
    """A libvastrack call failed. errno: the vast_err number; name: "VAST_E_XML"...;
    message: what went wrong."""

    def __init__(self, errno, message=None):
        self.errno = errno
        self.name = _s(lib.vast_errname(errno))
        self.message = message or _s(lib.vast_strerror(errno))
        super().__init__(self.message)


class ParseError(VastError, ValueError):
    """The input is not a VAST/VMAP document libvastrack accepts.

    line, column: 1-based position of the problem (0 when not applicable);
    offset: byte offset; iab_code: the IAB VAST error code a player would report
    (100 not well-formed or refused input, 101 not VAST/VMAP, 102 version)."""

    def __init__(self, err):
        self.iab_code = err.iab_code
        self.line = err.line
        self.column = err.column
        self.offset = err.offset
        VastError.__init__(self, err.code, _s(err.message))

    def __str__(self):
        return "line %d, column %d: %s [VAST code %d]" % (self.line, self.column, self.message,
                                                          self.iab_code)


class ResolveError(VastError):
    """No ad resolved. iab_code: the code of the first failure (301 timeout or HTTP,
    302 wrapper limit or loop, 303 no ad, 100-102 a bad response); chain: the
    Chain with every hop tried (None when nothing could be fetched)."""

    def __init__(self, err, chain):
        self.iab_code = err.iab_code
        self.chain = chain
        VastError.__init__(self, err.code, _s(err.message))

    def __str__(self):
        return "%s [VAST code %d]" % (self.message, self.iab_code)


class StateError(VastError):
    """A Tracker refused a player event that is not valid now (skip before the
    skip offset, anything after a terminal event...); nothing fired."""


def _check(rc, what=None):
    if rc != lib.VAST_E_OK:
        if rc == lib.VAST_E_STATE:
            raise StateError(rc, what)
        if rc == lib.VAST_E_NOMEM:
            raise MemoryError(_s(lib.vast_strerror(rc)))
        raise VastError(rc, ("%s: %s" % (what, _s(lib.vast_strerror(rc)))) if what else None)


def _bytes(data):
    """Input as immutable bytes (the C call runs without the GIL: a bytearray
    could be resized meanwhile, so it is copied)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError("expected XML as bytes or str, not %s" % type(data).__name__)


_BUF_WRITE = ffi.addressof(lib, "vastpy_buf_write")


def _collect(fn, *args):
    """Runs a vast_write_fn writer into a C buffer (no GIL) and returns the bytes."""
    buf = ffi.new("vastpy_buf *")
    try:
        rc = fn(*args, _BUF_WRITE, buf)
        if buf.failed:
            raise MemoryError("out of memory")
        _check(rc)
        return ffi.buffer(buf.data, buf.len)[:] if buf.len else b""
    finally:
        lib.vastpy_buf_free(buf)


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------

_LIMITS = ("max_bytes", "max_depth", "max_elements", "max_url_len", "max_text_len")


class Document:
    """A parsed VAST or VMAP document (vast_doc). Attributes as `inspect --json`:

    kind      "vast" or "vmap"
    version   the version as written ("4.2"; "1.0" for VideoAdServingTemplate)
    errors    root-level <Error> URLs (a no-ad response)
    ads       the <Ad> elements (Ad objects); empty for VMAP
    breaks    VMAP ad breaks (Break objects); empty for VAST
    notes     what the parser accepted leniently (Note objects)

    Immutable; may be read from any number of threads. Freed when neither it nor
    any object taken from it is reachable any more.
    """

    __slots__ = ("_d", "_owner", "_vast", "_vmap", "__weakref__")

    def __init__(self, ptr, owner=None, roots=None):
        self._d = ptr
        self._owner = owner  # a Chain when the chain owns the document
        # the document is immutable: its roots are read once
        self._vast, self._vmap = roots or (lib.vast_doc_vast(ptr), lib.vast_doc_vmap(ptr))

    @property
    def kind(self):
        return "vmap" if self._vmap else "vast"

    @property
    def version(self):
        v = self._vast
        return _s(v.version) if v else _s(self._vmap.version)

    @property
    def errors(self):
        v = self._vast
        return _urls(v.errors, v.n_errors, self) if v else []

    @property
    def ads(self):
        v = self._vast
        return _nodes(Ad, v.ads, v.n_ads, self) if v else []

    @property
    def breaks(self):
        m = self._vmap
        return _nodes(Break, m.breaks, m.n_breaks, self) if m else []

    @property
    def notes(self):
        n = ffi.new("size_t *")
        p = lib.vast_doc_notes(self._d, n)
        return _nodes(Note, p, n[0], self)

    @property
    def line(self):
        return (self._vast or self._vmap).pos.line

    @property
    def column(self):
        return (self._vast or self._vmap).pos.column

    @property
    def source(self):
        """The input bytes the document was parsed from."""
        n = ffi.new("size_t *")
        p = lib.vast_doc_source(self._d, n)
        return ffi.buffer(p, n[0])[:]

    @property
    def memory(self):
        """Bytes the document uses (model, strings and the copy of the input)."""
        return lib.vast_doc_memory(self._d)

    def to_json(self):
        """The document as `vastrack inspect --json` writes it (a str)."""
        return _collect(lib.vast_doc_write_json, self._d).decode("utf-8")

    def to_dict(self):
        """json.loads(self.to_json())."""
        return json.loads(self.to_json())

    def tree(self):
        """The readable tree of `vastrack inspect`."""
        return _collect(lib.vast_doc_write_tree, self._d).decode("utf-8")

    def __repr__(self):
        return "<vastrack.Document %s %s, %d ads>" % (self.kind, self.version,
                                                      len(self.ads) or len(self.breaks))


def parse(xml, **limits):
    """Parses a VAST 1.0-4.3 or VMAP document.

    xml     the document: bytes (any encoding the XML declaration names) or str
            (encoded as UTF-8 first)
    limits  optional bounds on hostile input: max_bytes (16 MiB), max_depth (64),
            max_elements (200000), max_url_len (16 KiB), max_text_len (1 MiB)
    Returns a Document. Raises ParseError (line, column, iab_code) when the input is
    not well-formed, not VAST/VMAP, of an unsupported version, declares entities or
    exceeds a limit; TypeError/ValueError for bad arguments. The GIL is released
    while the C parser runs. No DTD, entity or network resource is ever loaded.
    """
    rc, doc, err = _parse(_bytes(xml), limits)
    if rc != lib.VAST_E_OK:
        if rc == lib.VAST_E_NOMEM:
            raise MemoryError("out of memory")
        raise ParseError(err)
    return doc


def _parse(data, limits=None):
    """vast_doc_parse: (rc, Document or None, vast_error)."""
    lim = ffi.NULL
    if limits:
        lim = ffi.new("vast_limits *")
        lib.vast_limits_init(lim)
        for k, v in limits.items():
            if k not in _LIMITS:
                raise TypeError("parse() got an unexpected keyword argument %r" % k)
            setattr(lim, k, int(v))
    out = ffi.new("vastpy_parse_out *")
    err = ffi.new("vast_error *")
    rc = lib.vastpy_parse(data, len(data), lim, out.doc, err, out.vast, out.vmap)
    if rc != lib.VAST_E_OK:
        return rc, None, err
    return rc, Document(ffi.gc(out.doc[0], lib.vast_doc_free), None,
                        (out.vast[0], out.vmap[0])), err


def parse_file(path, **limits):
    """parse() of a file's bytes."""
    with open(path, "rb") as f:
        return parse(f.read(), **limits)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------

Finding = collections.namedtuple(
    "Finding", "severity rule code message fix path line column")
Finding.__doc__ = """One validation finding.

severity  "error", "warning" or "info"
rule      the stable rule id ("missing-quartile"); docs/validate.md lists them
code      the IAB VAST error code a player would report, 0 when none applies
message   what is wrong here; fix: how to fix it
path      element path ("/VAST/Ad[1]/InLine/Impression[2]"); line, column: 1-based"""


def rules():
    """Every validation rule: dicts with id, category, iab_code, summary, fix."""
    out = []
    for i in range(lib.vast_rule_count()):
        r = lib.vast_rule_at(i)
        out.append(dict(id=_s(r.id), category=_s(r.category), iab_code=r.iab_code,
                        summary=_s(r.summary), fix=_s(r.fix)))
    return out


def _severity(name):
    out = ffi.new("vast_severity *")
    if not isinstance(name, str) or lib.vast_severity_from_name(name.encode(), out) != 0:
        raise ValueError("unknown severity %r (off, info, warning, error)" % (name,))
    return out[0]


def validate(doc_or_xml, profile=None, rules=None, min_severity="info", chain=None,
             config=None):
    """Checks a tag against the rules of a profile (docs/validate.md).

    doc_or_xml    a Document, or the XML (bytes/str). XML that does not parse
                  gives the one finding of the parse rule (xml-malformed, not-vast,
                  version-unsupported, input-refused) instead of raising.
    profile       "web" (the default), "ctv", "ssai" or "audio"
    rules         severity overrides, {rule_id: level}: "off", "info", "warning" or
                  "error" (a team policy such as {"url-insecure": "error"}); False
                  is "off", True leaves the rule as the profile has it. Unknown rule
                  ids or levels raise ValueError.
    min_severity  "info" (default), "warning" or "error": findings below are left out
    chain         a Chain resolved from this same document (vastrack.resolve), to
                  check the wrapper rules that need one (wrapper-limit, -loop...)
    config        a `.vastrack.toml` file (profile and [rules], as `vastrack
                  validate --config` reads); `profile` and `rules` given here win
    Returns a list of Finding, in document order per check. GIL released.
    """
    if isinstance(doc_or_xml, Document):
        doc = doc_or_xml
    else:
        rc, doc, err = _parse(_bytes(doc_or_xml))
        if rc == lib.VAST_E_NOMEM:
            raise MemoryError("out of memory")
        if doc is None:
            lst = ffi.new("vast_findings **")
            _check(lib.vast_findings_from_parse_error(err, lst))
            return _findings(ffi.gc(lst[0], lib.vast_findings_free))
    opt = ffi.new("vast_validate_options *")
    lib.vast_validate_options_init(opt)
    keep = []
    if config is not None:
        with open(config, "rb") as f:
            text = f.read()
        cfg = ffi.gc(lib.vast_validate_config_new(), lib.vast_validate_config_free)
        if cfg == ffi.NULL:
            raise MemoryError("out of memory")
        err = ffi.new("vast_error *")
        if lib.vast_validate_config_load(cfg, text, len(text), str(config).encode(), err) != 0:
            raise ValueError("%s:%d: %s" % (config, err.line, _s(err.message)))
        lib.vast_validate_config_apply(cfg, opt, 0)
        keep.append(cfg)
    if profile is not None:
        prof = ffi.new("vast_profile *")
        if lib.vast_profile_from_name(str(profile).encode(), prof) != lib.VAST_E_OK:
            raise ValueError("unknown profile %r (web, ctv, ssai, audio)" % (profile,))
        opt.profile = prof[0]
    opt.min_severity = _severity(min_severity)
    if rules:
        ov = []
        n_cfg = opt.n_overrides
        for rid, level in dict(rules).items():
            if lib.vast_rule_find(str(rid).encode()) == ffi.NULL:
                raise ValueError("unknown rule %r (see vastrack.rules())" % (rid,))
            if level is True:
                continue
            ov.append((ffi.new("char[]", str(rid).encode()),
                       _severity("off" if level is False else level)))
        arr = ffi.new("vast_rule_override[]", n_cfg + len(ov) or 1)
        for i in range(n_cfg):  # the config's first: later entries win
            arr[i] = opt.overrides[i]
        for i, (name, sev) in enumerate(ov):
            arr[n_cfg + i].rule_id = name
            arr[n_cfg + i].severity = sev
            arr[n_cfg + i].source = _SOURCE_PY
        keep += [ov, arr]  # alive until the C call returned
        opt.overrides = arr
        opt.n_overrides = n_cfg + len(ov)
    if chain is not None:
        if not isinstance(chain, Chain):
            raise TypeError("chain must be a vastrack.Chain")
        opt.chain = chain._c
    lst = ffi.new("vast_findings **")
    _check(lib.vast_validate_list(doc._d, opt, lst), "validate")
    del keep
    return _findings(ffi.gc(lst[0], lib.vast_findings_free))


_SOURCE_PY = ffi.new("char[]", b"rules=")


def _findings(lst):
    out = []
    for i in range(lib.vast_findings_count(lst)):
        f = lib.vast_findings_at(lst, i)
        out.append(Finding(_s(lib.vast_severity_name(f.severity)), _s(f.rule_id), f.iab_code,
                           _s(f.message), _s(f.fix), _s(f.path), f.line, f.column))
    return out


# --------------------------------------------------------------------------
# Macros shared by resolve and Tracker
# --------------------------------------------------------------------------

_MACRO_ALIASES = {"ip": "DEVICEIP", "ua": "DEVICEUA", "user_agent": "DEVICEUA"}


class _Macros:
    """A vast_macro_ctx and the C strings it borrows (kept alive here)."""

    def __init__(self, values):
        self.ctx = ffi.new("vast_macro_ctx *")
        self._keep = []
        lib.vast_macro_ctx_init(self.ctx)
        for name, value in (values or {}).items():
            key = _MACRO_ALIASES.get(name, name).strip("[]%").upper().encode()
            m = lib.vast_macro_lookup(key, len(key))
            if m < 0:
                raise ValueError("unknown IAB macro %r" % (name,))
            if value is None:
                _check(lib.vast_macro_ctx_withhold(self.ctx, m))
                continue
            s = ffi.new("char[]", str(value).encode("utf-8"))
            self._keep.append(s)
            self.ctx.value[m] = s


def _policy(allow_private, keep):
    """A vast_net_policy: special-purpose addresses refused unless allow_private."""
    p = ffi.new("vast_net_policy *")
    lib.vast_net_policy_init(p)
    p.allow_private = 1 if allow_private else 0
    keep.append(p)
    return p


# --------------------------------------------------------------------------
# Resolution
# --------------------------------------------------------------------------

Hop = collections.namedtuple(
    "Hop", "url uri is_file depth parent status latency_ms bytes error iab_code message doc")
Hop.__doc__ = """One document fetched (or attempted) while resolving. error: None when
fetched and parsed, else the vast_err name; doc: its Document or None."""

Resolved = collections.namedtuple("Resolved", "ads sequence hops")
Resolved.__doc__ = """One ad that resolved: ads[0] the outermost Wrapper ... ads[-1] the
InLine (Ad objects); sequence: pod position, None when standalone; hops: index of the
hop holding each ad."""

Failure = collections.namedtuple("Failure", "ads iab_code error message sequence")


class Chain:
    """The result of resolve(): every document fetched, the ads that resolved and the
    ones that failed (vast_chain). Owns its documents; immutable."""

    __slots__ = ("_c", "_docs", "__weakref__")

    def __init__(self, ptr):
        self._c = ptr
        self._docs = {}

    def _doc(self, p):
        if p == ffi.NULL:
            return None
        key = int(ffi.cast("uintptr_t", p))
        d = self._docs.get(key)
        if d is None:
            d = self._docs[key] = Document(ffi.cast("vast_doc *", p), owner=self)
        return d

    def _ads(self, arr, n, hops=None):
        hl = self.hops
        out = []
        for i in range(n):
            if hops is not None:
                doc = hl[hops[i]].doc
            else:
                doc = self._owner_doc(arr[i])
            out.append(Ad((arr[i], doc)))
        return out

    def _owner_doc(self, ad):
        # every ad of a failure belongs to one of the chain's documents; any of them
        # keeps the chain (and so every document) alive
        for h in self.hops:
            if h.doc is not None:
                return h.doc
        return self

    @property
    def hops(self):
        n = ffi.new("size_t *")
        p = lib.vast_chain_hops(self._c, n)
        out = []
        for h in p[0:n[0]] if n[0] else ():
            out.append(Hop(_s(h.url), _s(h.uri), bool(h.is_file), h.depth, h.parent, h.status,
                           h.latency_ms, h.bytes,
                           None if h.err == lib.VAST_E_OK else _s(lib.vast_errname(h.err)),
                           h.iab_code, _s(h.message), self._doc(h.doc)))
        return out

    @property
    def ads(self):
        n = ffi.new("size_t *")
        p = lib.vast_chain_ads(self._c, n)
        out = []
        for r in p[0:n[0]] if n[0] else ():
            hops = [r.hops[i] for i in range(r.n)]
            out.append(Resolved(self._ads(r.ads, r.n, hops), None if r.sequence < 0 else r.sequence,
                                hops))
        return out

    @property
    def failures(self):
        n = ffi.new("size_t *")
        p = lib.vast_chain_failures(self._c, n)
        return [Failure(self._ads(f.ads, f.n), f.iab_code, _s(lib.vast_errname(f.err)),
                        _s(f.message), None if f.sequence < 0 else f.sequence)
                for f in (p[0:n[0]] if n[0] else ())]

    @property
    def error_beacons(self):
        """Error URLs fired (or to fire) because of failures: (url, iab_code) pairs."""
        n = ffi.new("size_t *")
        p = lib.vast_chain_error_beacons(self._c, n)
        return [(_s(e.url), e.iab_code) for e in (p[0:n[0]] if n[0] else ())]

    @property
    def elapsed_ms(self):
        return lib.vast_chain_elapsed_ms(self._c)

    @property
    def ok(self):
        return bool(self.ads)

    def to_json(self):
        """The chain as `vastrack resolve --json` writes it."""
        return _collect(lib.vast_chain_write_json, self._c).decode("utf-8")

    def __repr__(self):
        return "<vastrack.Chain %d hops, %d ads, %d failures>" % (
            len(self.hops), len(self.ads), len(self.failures))


def resolve(source, timeout=None, max_wrappers=5, device=None, user_agent=None,
            allow_private=False, base=None, max_bytes=None):
    """Follows the wrapper chain of a tag to its InLine ads (docs/net.md).

    source        an http(s) URL; a local file path (relative VASTAdTagURIs in it are
                  read from disk); or the XML itself as bytes or a Document (relative
                  URIs resolve against `base`)
    timeout       seconds for the whole resolution (default 30); no single request
                  takes longer than the defaults of 8 s (first) and 4 s (later) either
    max_wrappers  Wrapper documents followed per ad (default 5; 0: none)
    device        IAB macro values for the VASTAdTagURIs and Error URLs, e.g.
                  {"ip": "203.0.113.7", "ua": "...", "IFA": "..."} ("ip" and "ua"
                  stand for DEVICEIP and DEVICEUA; None withholds a value)
    user_agent    the HTTP User-Agent (default "vastrack/<version>")
    allow_private  also fetch from loopback, private, link-local and other
                  special-purpose addresses (refused by default: a tag must not be
                  a way into the local network; docs/security.md)
    Returns a Chain. Raises ResolveError (iab_code, chain) when no ad resolved,
    OSError when a local file cannot be read. The GIL is released meanwhile.
    """
    opt = ffi.new("vast_resolve_opts *")
    lib.vast_resolve_opts_init(opt)
    opt.max_wrappers = int(max_wrappers)
    if timeout is not None:
        ms = max(1, int(timeout * 1000))
        opt.total_timeout_ms = ms
        opt.first_timeout_ms = min(opt.first_timeout_ms, ms)
        opt.hop_timeout_ms = min(opt.hop_timeout_ms, ms)
    if max_bytes is not None:
        opt.max_bytes = int(max_bytes)
    keep = []
    if user_agent:
        keep.append(ffi.new("char[]", user_agent.encode()))
        opt.user_agent = keep[-1]
    opt.policy = _policy(allow_private, keep)
    macros = _Macros(device) if device else None
    if macros:
        opt.macros = macros.ctx
    out = ffi.new("vast_chain **")
    err = ffi.new("vast_error *")
    if isinstance(source, Document):
        source = source.source
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = _bytes(source)
        b = ffi.new("char[]", base.encode()) if base else ffi.NULL
        rc = lib.vast_resolve_buffer(data, len(data), b, opt, out, err)
    elif isinstance(source, str) and source.startswith(("http://", "https://")):
        rc = lib.vast_resolve_url(source.encode(), opt, out, err)
    elif isinstance(source, str):
        rc = lib.vast_resolve_file(source.encode(), opt, out, err)
    else:
        raise TypeError("resolve() takes a URL, a path, XML bytes or a Document")
    chain = Chain(ffi.gc(out[0], lib.vast_chain_free)) if out[0] != ffi.NULL else None
    if rc != lib.VAST_E_OK:
        if rc == lib.VAST_E_NOMEM:
            raise MemoryError("out of memory")
        if rc == lib.VAST_E_IO and chain is None:
            raise OSError("cannot read %r: %s" % (source, _s(err.message)))
        raise ResolveError(err, chain)
    return chain


# --------------------------------------------------------------------------
# Tracking
# --------------------------------------------------------------------------

Beacon = collections.namedtuple("Beacon", "event url media_time level kind template wall_time")
Beacon.__doc__ = """One tracking URL due now.

event       "impression", "start", "firstQuartile", "clickTracking", "error"...
url         the URL with its IAB macros expanded
media_time  the ad playhead when it became due, seconds (None when unknown)
level       index in the chain of the ad the URL comes from (the InLine is last)
kind        "tracking", "impression", "error", "clickTracking", "viewable",
            "notViewable", "viewUndetermined", "iconView", "iconClick", "customClick"
template    the URL as written in the document; wall_time: Unix seconds
With Tracker(report_untracked=True), an event the tag has no URL for comes with url,
template and level None: a record of what happened, never a request."""

_BEACON_KINDS = {1: "tracking", 2: "impression", 3: "error", 4: "clickTracking",
                 5: "viewable", 6: "notViewable", 7: "viewUndetermined", 8: "iconView",
                 9: "iconClick", 10: "customClick"}


class Beacons(list):
    """The beacons one player event made due (a list of Beacon). click() also sets
    click_through: the landing page with its macros expanded ("" when none). A time
    update the engine did not count as played (a jump, faster than real time) has
    not_played True."""
    click_through = None
    not_played = False  # True: this time update was not counted as played (see discarded)


_now = lib.vast_now
_UNTRACKED = 0xFFFFFFFF  # level of an event reported without a URL


@ffi.def_extern()
def vastpy_on_beacon(user, b):
    tracker = ffi.from_handle(user)
    mt = b.media_time
    url = ffi.string(b.url, b.url_len).decode("utf-8", "surrogateescape") if b.url else None
    tracker._pending.append(Beacon(
        _s(b.name), url, None if mt < 0 else mt,
        None if b.level == _UNTRACKED else b.level, _BEACON_KINDS.get(b.kind, "tracking"),
        _s(b.tmpl), b.wall_time))


def _ptr(p):
    """A struct pointer for a model view (views hold a pointer or a struct reference)."""
    return p if ffi.typeof(p).kind == "pointer" else ffi.addressof(p)


class Tracker:
    """One play of one ad: turns player events into the beacons due (vast_tracker).

    source     a Chain or a Document: the ad to play is chosen by the library
               (vast_select_chain / vast_select_doc): `ad` is its index in play
               order (pod sequence order; 0 for a buffet) and the creative is the
               first Linear, else NonLinear, else Companion. A Document must hold
               an InLine (resolve() a Wrapper first). Or an explicit chain: an Ad,
               or a list of Ads (Wrappers from the outermost, the InLine last).
    creative   index of the creative played among the InLine's creatives, instead
               of the library's choice
    variation  for a NonLinear/Companion creative, the variation shown
    macros     values of the IAB macros only the player knows, e.g.
               {"DEVICEIP": "...", "PAGEURL": "...", "GDPRCONSENT": "..."}
    seed       CACHEBUSTING seed, for reproducible URLs
    asset      the MediaFile URL played (ASSETURI)
    muted      the ad starts muted (autoplay): a later unmute() fires unmute
    trusted_positions  take every media position as media delivered (server-side
               insertion learning progress per segment): no speed test applies
    report_untracked  also return events the tag has no URL for, as Beacons with
               url None and level None (to show what happened; never to send)

    Each event method returns a Beacons list, in firing order. Events that are not
    valid now raise StateError (nothing fired). `t` is the media time in seconds
    (None: unknown or unchanged), `wall` the Unix time (None: now). One play is
    one state machine: calls from several threads are serialised by a lock.
    """

    def __init__(self, source, creative=None, variation=0, ad=0, macros=None, seed=None,
                 asset=None, muted=False, trusted_positions=False, report_untracked=False):
        self._source = source  # keeps the documents the plan points into alive
        self._macros = _Macros(macros)
        self._handle = ffi.new_handle(self)
        self._pending = []
        self._lock = threading.Lock()
        self._plan = None
        tr = ffi.new("vast_tracker **")
        sel = self._select(source, ad)
        if sel is not None and creative is None and variation == 0:
            # the common case: the library picks the creative; the tracker owns its plan
            rc = lib.vast_tracker_open_selected(sel, self._macros.ctx, lib.vastpy_on_beacon,
                                                self._handle, tr)
            _check(rc, "cannot track the ad")
        else:
            if sel is not None:
                chain = sel.chain if sel.chain else ffi.new("const vast_ad *[]", [sel.ad])
                n = sel.n_chain
                creative = sel.creative if creative is None else creative
            else:
                ads = self._explicit_chain(source)
                chain = ffi.new("const vast_ad *[]", [_ptr(a._p) for a in ads])
                n = len(ads)
                creative = 0 if creative is None else creative
            plan = ffi.new("vast_plan **")
            rc = lib.vast_plan_create(chain, n, creative, variation, plan)
            if rc == lib.VAST_E_NOT_FOUND:
                raise ValueError("no creative %d (variation %d) to track in this ad"
                                 % (creative, variation))
            _check(rc, "cannot plan the ad")
            self._plan = ffi.gc(plan[0], lib.vast_plan_free)
            _check(lib.vast_tracker_create(self._plan, self._macros.ctx, lib.vastpy_on_beacon,
                                           self._handle, tr))
        self._t = ffi.gc(tr[0], lib.vast_tracker_free)
        if seed is not None:
            lib.vast_tracker_seed(self._t, seed)
        if asset is not None:
            self._asset = ffi.new("char[]", asset.encode())
            lib.vast_tracker_set_asset(self._t, self._asset)
        if muted:
            _check(lib.vast_tracker_set_player_state(self._t, 1))
        if trusted_positions:
            _check(lib.vast_tracker_set_trusted_positions(self._t, 1))
        if report_untracked:
            lib.vast_tracker_report_untracked(self._t, 1)

    @staticmethod
    def _select(source, index):
        """The library's choice of ad and creative for a Chain or a Document."""
        if not isinstance(source, (Chain, Document)):
            return None
        sel = ffi.new("vast_selection *")
        if isinstance(source, Chain):
            rc = lib.vast_select_chain(source._c, index, sel)
        else:
            rc = lib.vast_select_doc(source._d, index, sel)
        if rc == lib.VAST_E_NOT_FOUND:
            what = "the chain" if isinstance(source, Chain) else "the document"
            raise ValueError("%s has no playable InLine ad %d (a Wrapper must be resolved "
                             "first, a no-ad response has none)" % (what, index))
        _check(rc, "cannot select an ad")
        return sel

    @staticmethod
    def _explicit_chain(source):
        if isinstance(source, Ad):
            return [source]
        if isinstance(source, (list, tuple)) and source and all(isinstance(a, Ad) for a in source):
            return list(source)
        raise TypeError("Tracker() takes a Chain, a Document, an Ad or a list of Ads")

    @property
    def duration(self):
        """Declared duration of the Linear, seconds (None when unknown)."""
        d = lib.vast_plan_duration(lib.vast_tracker_plan(self._t))
        return None if d < 0 else d

    @property
    def done(self):
        """True once a terminal event (complete, skip, close, error, notUsed) happened."""
        return bool(lib.vast_tracker_done(self._t))

    @property
    def skippable(self):
        return bool(lib.vast_tracker_skippable(self._t))

    @property
    def played(self):
        """Normal-speed seconds played wherever they were, replays included."""
        return lib.vast_tracker_played(self._t)

    @property
    def continuous(self):
        """End of the unbroken stretch watched from 0 at normal speed: quartiles,
        percent progress offsets and complete are earned from it."""
        return lib.vast_tracker_continuous(self._t)

    @property
    def discarded(self):
        """Forward media seconds not counted: steps faster than real time, jumps
        reported as time updates, media moving while paused."""
        return lib.vast_tracker_discarded(self._t)

    def _run(self, fn, *args):
        with self._lock:
            self._pending = []
            rc = fn(*args)
            got = Beacons(self._pending)
            self._pending = []
        if rc == lib.VAST_E_NOT_PLAYED:
            got.not_played = True
            return got
        if rc not in (lib.VAST_E_OK, lib.VAST_E_NOSPACE):
            if rc == lib.VAST_E_STATE:
                raise StateError(rc, "not valid now: nothing fired")
            err = VastError(rc)
            err.beacons = got  # what did fire before the failure
            raise err
        return got

    def event(self, name, t=None, wall=None, code=0, value=0.0, vendor=None, icon=0):
        """Any player event by its `vastrack play --events` name ("playerExpand",
        "acceptInvitation", "iconView", "viewable", ...): one vast_tracker_feed.
        code: the error code or reason; value: a real duration; vendor: for
        verificationNotExecuted; icon: the icon index. See docs/tracking.md."""
        kind = lib.vast_input_from_name(name.encode())
        if kind == 0:
            raise ValueError("unknown player event %r" % (name,))
        inp = ffi.new("vast_input *")
        inp.kind = kind
        inp.wall_time = _now() if wall is None else wall
        inp.media_time = -1.0 if t is None else t
        inp.value = value
        inp.code = code
        v = ffi.new("char[]", vendor.encode()) if vendor else ffi.NULL
        inp.vendor = v
        inp.icon = icon
        return self._run(lib.vast_tracker_feed, self._t, inp)

    # The usual path, each one of the library's one-line helpers (vastrack/track.h).

    def loaded(self, wall=None):
        """The media is buffered and ready: "loaded"."""
        return self._run(lib.vast_tracker_loaded, self._t, _now() if wall is None else wall)

    def impression(self, wall=None):
        """The first frame is shown: every Impression of the chain, and creativeView."""
        return self._run(lib.vast_tracker_impression, self._t, _now() if wall is None else wall)

    def progress(self, t, wall=None):
        """A media time update, t seconds into the ad: start, quartiles, progress
        offsets, as they become due."""
        return self._run(lib.vast_tracker_time, self._t, _now() if wall is None else wall, t)

    def pause(self, t=None, wall=None):
        return self._run(lib.vast_tracker_pause, self._t, _now() if wall is None else wall,
                         -1.0 if t is None else t)

    def resume(self, t=None, wall=None):
        return self._run(lib.vast_tracker_resume, self._t, _now() if wall is None else wall,
                         -1.0 if t is None else t)

    def mute(self, t=None, wall=None, muted=True):
        """mute, or unmute with muted=False; fires only on a change."""
        return self._run(lib.vast_tracker_mute, self._t, _now() if wall is None else wall,
                         -1.0 if t is None else t, 1 if muted else 0)

    def unmute(self, t=None, wall=None):
        return self.mute(t, wall, muted=False)

    def seek(self, t, wall=None):
        """The position jumped to t (backwards fires rewind)."""
        return self.event("seek", t, wall)

    def skip(self, t=None, wall=None):
        """The skip button: refused (StateError) before the skip offset."""
        return self._run(lib.vast_tracker_skip, self._t, _now() if wall is None else wall,
                         -1.0 if t is None else t)

    def close(self, t=None, wall=None):
        """closeLinear / NonLinear close; also after complete or skip."""
        return self._run(lib.vast_tracker_close, self._t, _now() if wall is None else wall,
                         -1.0 if t is None else t)

    def complete(self, t=None, wall=None):
        """The media ended at t (default: the declared duration): complete when it
        was played to the end; terminal either way."""
        if t is None:
            t = self.duration
        return self._run(lib.vast_tracker_complete, self._t, _now() if wall is None else wall,
                         -1.0 if t is None else t)

    def error(self, code, wall=None):
        """The player failed with IAB code `code` (0: 900): every Error URL with
        [ERRORCODE]; also before the impression (403: no supported media); terminal."""
        return self._run(lib.vast_tracker_error, self._t, _now() if wall is None else wall,
                         int(code))

    def click(self, t=None, wall=None, pos=None):
        """A click: every ClickTracking; .click_through of the result is the landing
        page (macros expanded). pos: "x,y" for [CLICKPOS]."""
        cap = 65536
        out = ffi.new("char[]", cap)
        n = ffi.new("size_t *")
        p = ffi.new("char[]", pos.encode()) if pos else ffi.NULL
        got = self._run(lib.vast_tracker_click, self._t, _now() if wall is None else wall,
                        -1.0 if t is None else t, p, out, cap, n)
        got.click_through = ffi.string(out).decode("utf-8", "surrogateescape")
        return got


# --------------------------------------------------------------------------
# Firing
# --------------------------------------------------------------------------

Delivery = collections.namedtuple(
    "Delivery", "event url media_time status latency_ms attempts ok error")
Delivery.__doc__ = """What became of one fired beacon. status: the HTTP status (0 when
no response); ok: True when a response came (any status); error: None or why not."""


class _Deliveries:
    def __init__(self):
        self.rows = {}


@ffi.def_extern()
def vastpy_on_delivery(ctx, d):
    sink = ffi.from_handle(ctx)
    t = d.t
    sink.rows[d.id] = Delivery(_s(d.event), _s(d.url), None if t < 0 else t, d.status,
                               d.latency_ms, d.attempts, d.err == lib.VAST_E_OK, _s(d.error))


def fire(beacons, timeout=5.0, wait=None, concurrency=64, retries=1, user_agent=None,
         server_side=False, device_ip=None, device_ua=None, allow_private=False):
    """Requests tracking URLs concurrently and waits for the answers (vast_dispatcher).

    beacons      Beacon objects (from a Tracker), URL strings, (event, url) pairs or
                 dicts with url (and event, media_time)
    timeout      seconds per request (default 5); wait: seconds for all (default:
                 no limit beyond the per-request timeouts and retries)
    concurrency  transfers at once (64); retries after a connection failure (1)
    server_side  fire on behalf of a device (SSAI): device_ip and device_ua are
                 required and sent as X-Device-IP / X-Device-User-Agent
    allow_private  also fire to loopback, private, link-local and other special-
                 purpose addresses (refused by default: the delivery says so)
    Returns one Delivery per beacon, in the order given. ValueError for a URL that is
    not http(s) (nothing fired). The GIL is released while waiting.
    """
    items = []
    for b in beacons:
        if isinstance(b, Beacon):
            items.append((b.event, b.url, b.media_time))
        elif isinstance(b, str):
            items.append(("beacon", b, None))
        elif isinstance(b, dict):
            items.append((b.get("event", "beacon"), b["url"], b.get("media_time")))
        else:
            ev, url = b
            items.append((ev, url, None))
    if not items:
        return []
    opt = ffi.new("vast_dispatch_opts *")
    lib.vast_dispatch_opts_init(opt)
    opt.max_queue = max(opt.max_queue, len(items))
    opt.max_concurrent = int(concurrency)
    opt.timeout_ms = max(1, int(timeout * 1000))
    opt.retries = int(retries)
    keep = []

    def cstr(s):
        keep.append(ffi.new("char[]", s.encode("utf-8")))
        return keep[-1]

    if user_agent:
        opt.user_agent = cstr(user_agent)
    if server_side:
        if not device_ip or not device_ua:
            raise ValueError("server_side firing needs device_ip and device_ua")
        opt.server_side = 1
        opt.device_ip = cstr(device_ip)
        opt.device_ua = cstr(device_ua)
    opt.policy = _policy(allow_private, keep)
    if allow_private:
        opt.private_policy = lib.VAST_PRIVATE_ALLOW
    sink = _Deliveries()
    handle = ffi.new_handle(sink)
    opt.on_delivery = lib.vastpy_on_delivery
    opt.ctx = handle
    d = ffi.new("vast_dispatcher **")
    _check(lib.vast_dispatcher_create(opt, d), "cannot create the dispatcher")
    disp = d[0]
    try:
        one = ffi.new("vast_beacon *")
        for ev, url, mt in items:
            one.url = cstr(url)
            one.event = cstr(ev or "beacon")
            one.t = -1.0 if mt is None else mt
            rc = lib.vast_dispatcher_submit(disp, one, 1)
            if rc == lib.VAST_E_URL:
                raise ValueError("not an absolute http(s) URL: %r (nothing fired)" % (url,))
            _check(rc, "submit")
        rc = lib.vast_dispatcher_drain(disp, -1 if wait is None else max(0, int(wait * 1000)))
    finally:
        # while `handle` is alive: freeing reports what is still queued or in flight
        # ("cancelled") through the callback
        lib.vast_dispatcher_free(disp)
    if rc not in (lib.VAST_E_OK, lib.VAST_E_TIMEOUT):
        _check(rc, "fire")
    return [sink.rows[i + 1] for i in range(len(items))]


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------



def report(db_path, since=None, fired_log=None):
    """The counts of a collector database (`vastrack serve --db`), as rows.

    since      hits at or after: None (all), Unix seconds, a datetime, or a string
               as `vastrack report --since` takes it ("1700000000", "2024-05-01",
               "2024-05-01T12:00:00Z", "90s", "15m", "2h", "7d")
    fired_log  a `vastrack play --log` file, to compare fired with counted
    Returns a list of dicts, one per (ad, event), that loads straight into
    pandas.DataFrame: ad, impressions (of that ad), event, code (error hits: the
    IAB code, None when the hit had none; other events None), funnel (True for
    impression..complete), counted, rate (counted / impressions; None without
    impressions), and with fired_log also fired, answered, diff.
    Raises VastError (name VAST_E_DB) when the file is not a collector database.
    """
    since_ms = 0
    if since is not None:
        if isinstance(since, str):
            out = ffi.new("int64_t *")
            if lib.vast_parse_since(since.encode(), int(time.time() * 1000), out) != 0:
                raise ValueError("cannot read since=%r" % (since,))
            since_ms = out[0]
        elif hasattr(since, "timestamp"):
            since_ms = int(since.timestamp() * 1000)
        else:
            since_ms = int(float(since) * 1000)
    rep = ffi.new("vast_report **")
    err = ffi.new("vast_error *")
    rc = lib.vast_report_load(str(db_path).encode(), since_ms, rep, err)
    if rc != lib.VAST_E_OK:
        raise VastError(rc, _s(err.message) or None)
    r = ffi.gc(rep[0], lib.vast_report_free)
    if fired_log is not None:
        rc = lib.vast_report_add_fired(r, str(fired_log).encode(), ffi.NULL, err)
        if rc != lib.VAST_E_OK:
            raise VastError(rc, _s(err.message) or None)
    data = json.loads(_collect(lib.vast_report_write, r, lib.VAST_REPORT_JSON))
    rows = []
    for a in data["ads"]:
        for e in a["events"]:
            row = {"ad": a["ad"], "impressions": a["impressions"], "event": e["event"],
                   "code": e.get("code"), "funnel": e["funnel"], "counted": e["counted"],
                   "rate": e["rate"]}
            if data.get("fired_log"):
                for k in ("fired", "answered", "diff"):
                    row[k] = e.get(k)
            rows.append(row)
    return rows
