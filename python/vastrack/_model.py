"""The parsed document as Python objects: read-only views over libvastrack's model.

Nothing is copied at parse time. Each object below wraps a pointer into the
document's arena (include/vastrack/doc.h) and reads its fields when an attribute
is asked for. Every object holds a reference to the object that owns the arena
(a Document, or the Chain a resolution returned), so the arena lives as long as
any object, list or string taken from it is reachable: there is no way to hold a
dangling pointer from Python.

Attribute names are the keys of `vastrack inspect --json` (docs/json.md), with
the same values (absent values None, lists always lists). Objects that come
from an XML element also carry `line` and `column` (1-based, 0 when unknown).
URL lists hold `Url` strings: plain `str` values that also carry the element's
position and attributes.
"""
from ._vastrack import ffi, lib

_NULL = ffi.NULL
_string = ffi.string


def _s(p):
    """A C string as str, None for NULL. Text is UTF-8 (expat's output)."""
    return _string(p).decode() if p else None


def _str_prop(field, doc=None):
    """A property reading the C string field `field` of the view's struct."""
    ns = {"_string": _string}
    exec("def get(s):\n    p = s[0].%s\n    return _string(p).decode() if p else None\n"
         % field, ns)
    return property(ns["get"], doc=doc)


def _num_prop(field, doc=None):
    """A property reading a number field; -1 (absent) reads as None."""
    ns = {}
    exec("def get(s):\n    v = s[0].%s\n    return None if v < 0 else v\n" % field, ns)
    return property(ns["get"], doc=doc)


def _opt(v):
    """libvastrack writes -1 for an absent number; None here, as in the JSON."""
    return None if v < 0 else v


def _bool(v):
    return None if v < 0 else bool(v)


def _offset(o):
    """A vast_offset as the JSON has it: seconds, the raw "n%" text, or None."""
    if o.kind == lib.VAST_OFFSET_NONE:
        return None
    if o.kind == lib.VAST_OFFSET_TIME:
        return o.value
    return _s(o.raw)


class Url(str):
    """A URL from the document: a str, plus where it was and its attributes.

    line, column: position of the element (1-based; 0 when unknown);
    id: the element's id attribute (Impression@id, ClickTracking@id...) or None.
    Mezzanine, InteractiveCreativeFile, ClosedCaptionFile and JavaScriptResource
    URLs carry their attributes too (type, codec, apiFramework...). Compares and
    hashes as the plain URL.
    """

    # _m: (line, column, id), or (vast_url struct, owner) read when asked for
    line = property(lambda s: s._m[0] if len(s._m) == 3 else s._m[0].pos.line)
    column = property(lambda s: s._m[1] if len(s._m) == 3 else s._m[0].pos.column)
    id = property(lambda s: s._m[2] if len(s._m) == 3 else _s(getattr(s._m[0], "id", _NULL)))

    def __getattr__(self, name):
        extra = self.__dict__.get("_x")
        if extra and name in extra:
            return extra[name]
        raise AttributeError(name)


_str_new = str.__new__


def _url(text, line=0, column=0, id=None, extra=None):
    u = _str_new(Url, text if text is not None else "")
    u._m = (line, column, id)
    if extra:
        u._x = extra
    return u


def _urls(arr, n, owner):
    """A vast_url array as a list of Url (their position read when asked for, so
    each keeps the owner of the arena alive)."""
    if not n:
        return []
    out = []
    for u in arr[0:n]:
        p = u.url
        x = _str_new(Url, _string(p).decode() if p else "")
        x._m = (u, owner)
        out.append(x)
    return out


class Node(tuple):
    """Base of the model classes: a view of one struct in a document's arena.

    Built as (struct pointer, owner): the owner (the Document or Chain the arena
    belongs to) is referenced for as long as the view exists. Created by the
    library only (a tuple subclass, so that making one costs no Python call).
    """

    __slots__ = ()
    _fields = ()  # the inspect --json keys, in its order

    _p = property(lambda s: s[0])
    _owner = property(lambda s: s[1])
    line = property(lambda s: s[0].pos.line)
    column = property(lambda s: s[0].pos.column)
    # byte offset of the element's '<' in Document.source (when line is not 0)
    offset = property(lambda s: s[0].pos.offset)

    def to_dict(self):
        """This object as plain dicts, lists and scalars (the inspect --json shape)."""
        return {k: _plain(getattr(self, k)) for k in self._fields}

    def __eq__(self, other):
        if isinstance(other, Node):
            return type(self) is type(other) and _addr(self[0]) == _addr(other[0])
        return NotImplemented

    def __ne__(self, other):
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    def __hash__(self):
        return hash(_addr(self[0]))

    def __repr__(self):
        shown = []
        for k in self._fields[:4]:
            v = getattr(self, k)
            if v is not None and not isinstance(v, (list, Node)):
                shown.append("%s=%r" % (k, v))
        return "<vastrack.%s %s line %d>" % (type(self).__name__, " ".join(shown), self.line)


def _addr(p):
    """Address of the struct a view shows (views hold a pointer or a struct reference)."""
    return int(ffi.cast("uintptr_t", p if ffi.typeof(p).kind == "pointer" else ffi.addressof(p)))


def _plain(v):
    if isinstance(v, Node):
        return v.to_dict()
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, Url):
        return str(v)
    return v


def _nodes(cls, arr, n, owner):
    return [cls((p, owner)) for p in arr[0:n]] if n else []


class Tracking(Node):
    """<Tracking event offset>URL</Tracking>. event: the name as written in the tag."""
    __slots__ = ()
    _fields = ("event", "offset", "url")
    event = _str_prop("event_name")
    offset = property(lambda s: _offset(s[0].offset))
    @property
    def url(self):
        p = self[0].url
        x = _str_new(Url, _string(p).decode() if p else "")
        x._m = self  # (struct, owner): the position is read when asked for
        return x


class Resource(Node):
    """StaticResource / IFrameResource / HTMLResource. kind: static, iframe, html."""
    __slots__ = ()
    _fields = ("kind", "creativeType", "content")
    _KINDS = {lib.VAST_RES_STATIC: "static", lib.VAST_RES_IFRAME: "iframe",
              lib.VAST_RES_HTML: "html"}
    kind = property(lambda s: Resource._KINDS.get(s[0].kind, "html"))
    creativeType = _str_prop("creative_type")
    content = _str_prop("content")


class MediaFile(Node):
    """<MediaFile>. Numbers absent from the tag are None."""
    __slots__ = ()
    _fields = ("url", "type", "width", "height", "bitrate", "codec", "delivery", "apiFramework")
    url = _str_prop("url")
    id = _str_prop("id")
    type = _str_prop("type")
    width = _num_prop("width")
    height = _num_prop("height")
    bitrate = _num_prop("bitrate")
    minBitrate = _num_prop("min_bitrate")
    maxBitrate = _num_prop("max_bitrate")
    scalable = property(lambda s: _bool(s[0].scalable))
    maintainAspectRatio = property(lambda s: _bool(s[0].maintain_aspect_ratio))
    codec = _str_prop("codec")
    delivery = _str_prop("delivery")
    apiFramework = _str_prop("api_framework")
    fileSize = _num_prop("file_size")
    mediaType = _str_prop("media_type")


class Icon(Node):
    """<Icon> of a Linear."""
    __slots__ = ()
    _fields = ("program", "width", "height", "resources", "clickThrough", "clickTracking",
               "viewTracking")
    program = _str_prop("program")
    width = _num_prop("width")
    height = _num_prop("height")
    xPosition = _str_prop("x_position")
    yPosition = _str_prop("y_position")
    duration = _num_prop("duration")
    offset = property(lambda s: _offset(s[0].offset))
    apiFramework = _str_prop("api_framework")
    resources = property(lambda s: _nodes(Resource, s[0].resources, s[0].n_resources, s[1]))
    clickThrough = _str_prop("click_through")
    clickTracking = property(lambda s: _urls(s[0].click_tracking, s[0].n_click_tracking, s[1]))
    viewTracking = property(lambda s: _urls(s[0].view_tracking, s[0].n_view_tracking, s[1]))


def _file_urls(arr, n, attrs):
    out = []
    for f in arr[0:n] if n else ():
        out.append(_url(_s(f.url), f.pos.line, f.pos.column, _s(getattr(f, "id", _NULL)),
                        {k: _s(getattr(f, c)) for k, c in attrs}))
    return out


class Linear(Node):
    """<Linear>: duration (seconds, None when unknown), skipoffset, tracking, media."""
    __slots__ = ()
    _fields = ("duration", "skipoffset", "tracking", "mediaFiles", "mezzanines",
               "interactiveCreativeFiles", "closedCaptionFiles", "clickThrough",
               "clickTracking", "customClicks", "adParameters", "icons")
    duration = _num_prop("duration")
    durationRaw = _str_prop("duration_raw")
    skipoffset = property(lambda s: _offset(s[0].skipoffset))
    tracking = property(lambda s: _nodes(Tracking, s[0].tracking, s[0].n_tracking, s[1]))
    mediaFiles = property(lambda s: _nodes(MediaFile, s[0].media_files, s[0].n_media_files,
                                           s[1]))
    mezzanines = property(lambda s: _file_urls(
        s[0].mezzanines, s[0].n_mezzanines,
        (("id", "id"), ("delivery", "delivery"), ("type", "type"), ("codec", "codec"))))
    interactiveCreativeFiles = property(lambda s: _file_urls(
        s[0].interactive_files, s[0].n_interactive_files,
        (("type", "type"), ("apiFramework", "api_framework"))))
    closedCaptionFiles = property(lambda s: _file_urls(
        s[0].closed_captions, s[0].n_closed_captions,
        (("type", "type"), ("language", "language"))))
    clickThrough = _str_prop("click_through")
    clickTracking = property(lambda s: _urls(s[0].click_tracking, s[0].n_click_tracking, s[1]))
    customClicks = property(lambda s: _urls(s[0].custom_clicks, s[0].n_custom_clicks, s[1]))
    adParameters = _str_prop("ad_parameters")
    icons = property(lambda s: _nodes(Icon, s[0].icons, s[0].n_icons, s[1]))


class NonLinear(Node):
    """One <NonLinear> variation."""
    __slots__ = ()
    _fields = ("id", "width", "height", "resources", "clickThrough", "clickTracking")
    id = _str_prop("id")
    width = _num_prop("width")
    height = _num_prop("height")
    expandedWidth = _num_prop("expanded_width")
    expandedHeight = _num_prop("expanded_height")
    minSuggestedDuration = property(lambda s: _offset(s[0].min_suggested_duration))
    apiFramework = _str_prop("api_framework")
    resources = property(lambda s: _nodes(Resource, s[0].resources, s[0].n_resources, s[1]))
    clickThrough = _str_prop("click_through")
    clickTracking = property(lambda s: _urls(s[0].click_tracking, s[0].n_click_tracking, s[1]))
    adParameters = _str_prop("ad_parameters")


class NonLinearAds(Node):
    """<NonLinearAds>: tracking and variations."""
    __slots__ = ()
    _fields = ("tracking", "variations")
    tracking = property(lambda s: _nodes(Tracking, s[0].tracking, s[0].n_tracking, s[1]))
    variations = property(lambda s: _nodes(NonLinear, s[0].nonlinears, s[0].n_nonlinears,
                                           s[1]))


class Companion(Node):
    """One <Companion> variation."""
    __slots__ = ()
    _fields = ("id", "width", "height", "resources", "altText", "clickThrough",
               "clickTracking", "tracking")
    id = _str_prop("id")
    width = _num_prop("width")
    height = _num_prop("height")
    assetWidth = _num_prop("asset_width")
    assetHeight = _num_prop("asset_height")
    apiFramework = _str_prop("api_framework")
    adSlotId = _str_prop("ad_slot_id")
    renderingMode = _str_prop("render_mode")
    resources = property(lambda s: _nodes(Resource, s[0].resources, s[0].n_resources, s[1]))
    altText = _str_prop("alt_text")
    clickThrough = _str_prop("click_through")
    clickTracking = property(lambda s: _urls(s[0].click_tracking, s[0].n_click_tracking, s[1]))
    tracking = property(lambda s: _nodes(Tracking, s[0].tracking, s[0].n_tracking, s[1]))
    adParameters = _str_prop("ad_parameters")


class CompanionAds(Node):
    """<CompanionAds>: required ("all", "any", "none" or None) and variations."""
    __slots__ = ()
    _fields = ("required", "variations")
    required = _str_prop("required")
    variations = property(lambda s: _nodes(Companion, s[0].companions, s[0].n_companions,
                                           s[1]))


class _Plain(dict):
    """A small JSON object without a position (pricing, universalAdIds...)."""

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k) from None


class Creative(Node):
    """<Creative>. type: linear, nonlinear, companion or unknown; the matching one of
    linear / nonlinear / companions is set, the others are None."""
    __slots__ = ()
    _fields = ("type", "id", "adId", "sequence", "apiFramework", "universalAdIds")
    _TYPES = {lib.VAST_CREATIVE_LINEAR: "linear", lib.VAST_CREATIVE_NONLINEAR: "nonlinear",
              lib.VAST_CREATIVE_COMPANION: "companion"}
    type = property(lambda s: Creative._TYPES.get(s[0].kind, "unknown"))
    id = _str_prop("id")
    adId = _str_prop("ad_id")
    sequence = _num_prop("sequence")
    apiFramework = _str_prop("api_framework")
    universalAdIds = property(lambda s: [
        _Plain(idRegistry=_s(u.id_registry), value=_s(u.id_value))
        for u in s[0].universal_ad_ids[0:s[0].n_universal_ad_ids]]
        if s[0].n_universal_ad_ids else [])
    linear = property(lambda s: Linear((s[0].linear, s[1])) if s[0].linear != _NULL else None)
    nonlinear = property(lambda s: NonLinearAds((s[0].nonlinear, s[1]))
                         if s[0].nonlinear != _NULL else None)
    companions = property(lambda s: CompanionAds((s[0].companions, s[1]))
                          if s[0].companions != _NULL else None)
    extensions = property(lambda s: _nodes(Extension, s[0].extensions, s[0].n_extensions,
                                           s[1]))

    def to_dict(self):
        d = Node.to_dict(self)
        for k in ("linear", "nonlinear", "companions"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v.to_dict()
        return d


class Extension(Node):
    """<Extension> / <CreativeExtension>: type and the raw XML of the element."""
    __slots__ = ()
    _fields = ("type", "xml")
    type = _str_prop("type")
    xml = _str_prop("xml")


class Verification(Node):
    """<Verification> (AdVerifications)."""
    __slots__ = ()
    _fields = ("vendor", "javaScriptResources", "parameters", "tracking")
    vendor = _str_prop("vendor")
    javaScriptResources = property(lambda s: [
        _url(_s(r.url), extra=dict(apiFramework=_s(r.api_framework),
                                   browserOptional=_bool(r.browser_optional)))
        for r in s[0].js_resources[0:s[0].n_js_resources]] if s[0].n_js_resources else [])
    parameters = _str_prop("parameters")
    tracking = property(lambda s: _nodes(Tracking, s[0].tracking, s[0].n_tracking, s[1]))


class Ad(Node):
    """<Ad>. type: inline, wrapper or empty. wrapper (the Wrapper's attributes) is
    None for an InLine; vastAdTagURI is the Wrapper's URI."""
    __slots__ = ()
    _fields = ("id", "sequence", "type", "adSystem", "adSystemVersion", "adTitle",
               "adServingId", "adType", "description", "advertiser", "pricing",
               "impressions", "errors", "viewableImpression", "verifications", "extensions",
               "vastAdTagURI")
    _TYPES = {lib.VAST_AD_INLINE: "inline", lib.VAST_AD_WRAPPER: "wrapper"}
    id = _str_prop("id")
    sequence = _num_prop("sequence")
    type = property(lambda s: Ad._TYPES.get(s[0].kind, "empty"))
    adSystem = _str_prop("ad_system")
    adSystemVersion = _str_prop("ad_system_version")
    adTitle = _str_prop("ad_title")
    adServingId = _str_prop("ad_serving_id")
    adType = _str_prop("ad_type")
    description = _str_prop("description")
    advertiser = _str_prop("advertiser")
    survey = _str_prop("survey")
    expires = _str_prop("expires")
    conditionalAd = property(lambda s: _bool(s[0].conditional_ad))

    @property
    def pricing(self):
        p = self._p.pricing
        if p == _NULL:
            return None
        return _Plain(model=_s(p.model), currency=_s(p.currency), value=_s(p.value))

    categories = property(lambda s: [
        _Plain(authority=_s(c.authority), code=_s(c.code))
        for c in s[0].categories[0:s[0].n_categories]] if s[0].n_categories else [])
    impressions = property(lambda s: _urls(s[0].impressions, s[0].n_impressions, s[1]))
    errors = property(lambda s: _urls(s[0].errors, s[0].n_errors, s[1]))

    @property
    def viewableImpression(self):
        p = self._p
        o = self[1]
        return _Plain(viewable=_urls(p.viewable, p.n_viewable, o),
                      notViewable=_urls(p.not_viewable, p.n_not_viewable, o),
                      viewUndetermined=_urls(p.view_undetermined, p.n_view_undetermined, o))

    verifications = property(lambda s: _nodes(Verification, s[0].verifications,
                                              s[0].n_verifications, s[1]))
    extensions = property(lambda s: _nodes(Extension, s[0].extensions, s[0].n_extensions,
                                           s[1]))
    vastAdTagURI = _str_prop("vast_ad_tag_uri")

    @property
    def wrapper(self):
        p = self._p
        if p.kind != lib.VAST_AD_WRAPPER:
            return None
        return _Plain(followAdditionalWrappers=_bool(p.follow_additional_wrappers),
                      allowMultipleAds=_bool(p.allow_multiple_ads),
                      fallbackOnNoAd=_bool(p.fallback_on_no_ad))

    creatives = property(lambda s: _nodes(Creative, s[0].creatives, s[0].n_creatives, s[1]))

    def to_dict(self):
        d = Node.to_dict(self)
        if self._p.kind == lib.VAST_AD_WRAPPER:
            d["wrapper"] = dict(self.wrapper)
        d["creatives"] = [c.to_dict() for c in self.creatives]
        return d


class Vast(Node):
    """A <VAST> element embedded in a VMAP AdSource (version, errors, ads)."""
    __slots__ = ()
    _fields = ("version", "errors", "ads")
    version = _str_prop("version")
    errors = property(lambda s: _urls(s[0].errors, s[0].n_errors, s[1]))
    ads = property(lambda s: _nodes(Ad, s[0].ads, s[0].n_ads, s[1]))


class AdSource(Node):
    """The <vmap:AdSource> of a break: kind vast (see vast), uri (adTagURI) or custom."""
    __slots__ = ()
    _fields = ("id", "allowMultipleAds", "followRedirects", "kind", "adTagURI",
               "templateType", "customData", "vast")
    _KINDS = {lib.VAST_SOURCE_VAST: "vast", lib.VAST_SOURCE_URI: "uri"}
    id = _str_prop("source_id")
    allowMultipleAds = property(lambda s: _bool(s[0].allow_multiple_ads))
    followRedirects = property(lambda s: _bool(s[0].follow_redirects))
    kind = property(lambda s: AdSource._KINDS.get(s[0].source_kind, "custom"))
    adTagURI = _str_prop("ad_tag_uri")
    templateType = _str_prop("template_type")
    customData = _str_prop("custom_data")
    vast = property(lambda s: Vast((s[0].vast, s[1])) if s[0].vast != _NULL else None)


class Break(Node):
    """A VMAP <vmap:AdBreak>."""
    __slots__ = ()
    _fields = ("breakId", "breakType", "timeOffset", "offsetKind", "offsetValue",
               "repeatAfter", "adSource", "tracking")
    _KINDS = {lib.VAST_BREAK_START: "start", lib.VAST_BREAK_END: "end",
              lib.VAST_BREAK_TIME: "time", lib.VAST_BREAK_PERCENT: "percent",
              lib.VAST_BREAK_POSITION: "position"}
    breakId = _str_prop("break_id")
    breakType = _str_prop("break_type")
    timeOffset = _str_prop("time_offset")
    offsetKind = property(lambda s: Break._KINDS.get(s[0].offset_kind, "invalid"))
    offsetValue = property(lambda s: s[0].offset_value if s[0].offset_kind in (
        lib.VAST_BREAK_TIME, lib.VAST_BREAK_PERCENT, lib.VAST_BREAK_POSITION) else None)
    repeatAfter = property(lambda s: _offset(s[0].repeat_after))
    adSource = property(lambda s: AdSource((s[0], s[1]))
                        if s[0].source_kind != lib.VAST_SOURCE_NONE else None)
    tracking = property(lambda s: _nodes(Tracking, s[0].tracking, s[0].n_tracking, s[1]))
    extensions = property(lambda s: _nodes(Extension, s[0].extensions, s[0].n_extensions,
                                           s[1]))


class Note(Node):
    """What the parser accepted leniently (docs/parser.md): path, message, iabCode."""
    __slots__ = ()
    _fields = ("line", "column", "path", "message", "iabCode")
    path = _str_prop("path")
    message = _str_prop("message")
    iabCode = property(lambda s: s[0].iab_code or None)
