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
    if p == _NULL:
        return None
    return _string(p).decode("utf-8", "surrogateescape")


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
    Mezzanine, InteractiveCreativeFile and ClosedCaptionFile URLs carry their
    attributes too (type, codec...). Compares and hashes as the plain URL.
    """

    def __new__(cls, text, line=0, column=0, **attrs):
        self = str.__new__(cls, text)
        self.line = line
        self.column = column
        self.__dict__.update(attrs)
        return self


def _urls(arr, n):
    return [Url(_s(u.url), u.pos.line, u.pos.column, id=_s(u.id)) for u in arr[0:n]] if n else []


class Node:
    """Base of the model classes: a view of one struct in a document's arena."""

    __slots__ = ("_p", "_owner")
    _fields = ()  # the inspect --json keys, in its order

    def __init__(self, p, owner):
        self._p = p
        self._owner = owner

    @property
    def line(self):
        return self._p.pos.line

    @property
    def column(self):
        return self._p.pos.column

    def to_dict(self):
        """This object as plain dicts, lists and scalars (the inspect --json shape)."""
        return {k: _plain(getattr(self, k)) for k in self._fields}

    def __eq__(self, other):
        if isinstance(other, Node):
            return type(self) is type(other) and self._p == other._p
        return NotImplemented

    def __hash__(self):
        return hash(self._p)

    def __repr__(self):
        shown = []
        for k in self._fields[:4]:
            v = getattr(self, k)
            if v is not None and not isinstance(v, (list, Node)):
                shown.append("%s=%r" % (k, v))
        return "<vastrack.%s %s line %d>" % (type(self).__name__, " ".join(shown), self.line)


def _plain(v):
    if isinstance(v, Node):
        return v.to_dict()
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, Url):
        return str(v)
    return v


def _nodes(cls, arr, n, owner):
    return [cls(arr + i, owner) for i in range(n)] if n else []


class Tracking(Node):
    """<Tracking event offset>URL</Tracking>. event: the name as written in the tag."""
    __slots__ = ()
    _fields = ("event", "offset", "url")
    event = property(lambda s: _s(s._p.event_name))
    offset = property(lambda s: _offset(s._p.offset))
    url = property(lambda s: Url(_s(s._p.url), s._p.pos.line, s._p.pos.column))


class Resource(Node):
    """StaticResource / IFrameResource / HTMLResource. kind: static, iframe, html."""
    __slots__ = ()
    _fields = ("kind", "creativeType", "content")
    _KINDS = {lib.VAST_RES_STATIC: "static", lib.VAST_RES_IFRAME: "iframe",
              lib.VAST_RES_HTML: "html"}
    kind = property(lambda s: Resource._KINDS.get(s._p.kind, "html"))
    creativeType = property(lambda s: _s(s._p.creative_type))
    content = property(lambda s: _s(s._p.content))


class MediaFile(Node):
    """<MediaFile>. Numbers absent from the tag are None."""
    __slots__ = ()
    _fields = ("url", "type", "width", "height", "bitrate", "codec", "delivery", "apiFramework")
    url = property(lambda s: _s(s._p.url))
    id = property(lambda s: _s(s._p.id))
    type = property(lambda s: _s(s._p.type))
    width = property(lambda s: _opt(s._p.width))
    height = property(lambda s: _opt(s._p.height))
    bitrate = property(lambda s: _opt(s._p.bitrate))
    minBitrate = property(lambda s: _opt(s._p.min_bitrate))
    maxBitrate = property(lambda s: _opt(s._p.max_bitrate))
    scalable = property(lambda s: _bool(s._p.scalable))
    maintainAspectRatio = property(lambda s: _bool(s._p.maintain_aspect_ratio))
    codec = property(lambda s: _s(s._p.codec))
    delivery = property(lambda s: _s(s._p.delivery))
    apiFramework = property(lambda s: _s(s._p.api_framework))
    fileSize = property(lambda s: _opt(s._p.file_size))
    mediaType = property(lambda s: _s(s._p.media_type))


class Icon(Node):
    """<Icon> of a Linear."""
    __slots__ = ()
    _fields = ("program", "width", "height", "resources", "clickThrough", "clickTracking",
               "viewTracking")
    program = property(lambda s: _s(s._p.program))
    width = property(lambda s: _opt(s._p.width))
    height = property(lambda s: _opt(s._p.height))
    xPosition = property(lambda s: _s(s._p.x_position))
    yPosition = property(lambda s: _s(s._p.y_position))
    duration = property(lambda s: _opt(s._p.duration))
    offset = property(lambda s: _offset(s._p.offset))
    apiFramework = property(lambda s: _s(s._p.api_framework))
    resources = property(lambda s: _nodes(Resource, s._p.resources, s._p.n_resources, s._owner))
    clickThrough = property(lambda s: _s(s._p.click_through))
    clickTracking = property(lambda s: _urls(s._p.click_tracking, s._p.n_click_tracking))
    viewTracking = property(lambda s: _urls(s._p.view_tracking, s._p.n_view_tracking))


def _file_urls(arr, n, attrs):
    out = []
    for f in arr[0:n] if n else ():
        out.append(Url(_s(f.url), f.pos.line, f.pos.column,
                       **{k: _s(getattr(f, c)) for k, c in attrs}))
    return out


class Linear(Node):
    """<Linear>: duration (seconds, None when unknown), skipoffset, tracking, media."""
    __slots__ = ()
    _fields = ("duration", "skipoffset", "tracking", "mediaFiles", "mezzanines",
               "interactiveCreativeFiles", "closedCaptionFiles", "clickThrough",
               "clickTracking", "customClicks", "adParameters", "icons")
    duration = property(lambda s: _opt(s._p.duration))
    durationRaw = property(lambda s: _s(s._p.duration_raw))
    skipoffset = property(lambda s: _offset(s._p.skipoffset))
    tracking = property(lambda s: _nodes(Tracking, s._p.tracking, s._p.n_tracking, s._owner))
    mediaFiles = property(lambda s: _nodes(MediaFile, s._p.media_files, s._p.n_media_files,
                                           s._owner))
    mezzanines = property(lambda s: _file_urls(
        s._p.mezzanines, s._p.n_mezzanines,
        (("id", "id"), ("delivery", "delivery"), ("type", "type"), ("codec", "codec"))))
    interactiveCreativeFiles = property(lambda s: _file_urls(
        s._p.interactive_files, s._p.n_interactive_files,
        (("type", "type"), ("apiFramework", "api_framework"))))
    closedCaptionFiles = property(lambda s: _file_urls(
        s._p.closed_captions, s._p.n_closed_captions,
        (("type", "type"), ("language", "language"))))
    clickThrough = property(lambda s: _s(s._p.click_through))
    clickTracking = property(lambda s: _urls(s._p.click_tracking, s._p.n_click_tracking))
    customClicks = property(lambda s: _urls(s._p.custom_clicks, s._p.n_custom_clicks))
    adParameters = property(lambda s: _s(s._p.ad_parameters))
    icons = property(lambda s: _nodes(Icon, s._p.icons, s._p.n_icons, s._owner))


class NonLinear(Node):
    """One <NonLinear> variation."""
    __slots__ = ()
    _fields = ("id", "width", "height", "resources", "clickThrough", "clickTracking")
    id = property(lambda s: _s(s._p.id))
    width = property(lambda s: _opt(s._p.width))
    height = property(lambda s: _opt(s._p.height))
    expandedWidth = property(lambda s: _opt(s._p.expanded_width))
    expandedHeight = property(lambda s: _opt(s._p.expanded_height))
    minSuggestedDuration = property(lambda s: _offset(s._p.min_suggested_duration))
    apiFramework = property(lambda s: _s(s._p.api_framework))
    resources = property(lambda s: _nodes(Resource, s._p.resources, s._p.n_resources, s._owner))
    clickThrough = property(lambda s: _s(s._p.click_through))
    clickTracking = property(lambda s: _urls(s._p.click_tracking, s._p.n_click_tracking))
    adParameters = property(lambda s: _s(s._p.ad_parameters))


class NonLinearAds(Node):
    """<NonLinearAds>: tracking and variations."""
    __slots__ = ()
    _fields = ("tracking", "variations")
    tracking = property(lambda s: _nodes(Tracking, s._p.tracking, s._p.n_tracking, s._owner))
    variations = property(lambda s: _nodes(NonLinear, s._p.nonlinears, s._p.n_nonlinears,
                                           s._owner))


class Companion(Node):
    """One <Companion> variation."""
    __slots__ = ()
    _fields = ("id", "width", "height", "resources", "altText", "clickThrough",
               "clickTracking", "tracking")
    id = property(lambda s: _s(s._p.id))
    width = property(lambda s: _opt(s._p.width))
    height = property(lambda s: _opt(s._p.height))
    assetWidth = property(lambda s: _opt(s._p.asset_width))
    assetHeight = property(lambda s: _opt(s._p.asset_height))
    apiFramework = property(lambda s: _s(s._p.api_framework))
    adSlotId = property(lambda s: _s(s._p.ad_slot_id))
    renderingMode = property(lambda s: _s(s._p.render_mode))
    resources = property(lambda s: _nodes(Resource, s._p.resources, s._p.n_resources, s._owner))
    altText = property(lambda s: _s(s._p.alt_text))
    clickThrough = property(lambda s: _s(s._p.click_through))
    clickTracking = property(lambda s: _urls(s._p.click_tracking, s._p.n_click_tracking))
    tracking = property(lambda s: _nodes(Tracking, s._p.tracking, s._p.n_tracking, s._owner))
    adParameters = property(lambda s: _s(s._p.ad_parameters))


class CompanionAds(Node):
    """<CompanionAds>: required ("all", "any", "none" or None) and variations."""
    __slots__ = ()
    _fields = ("required", "variations")
    required = property(lambda s: _s(s._p.required))
    variations = property(lambda s: _nodes(Companion, s._p.companions, s._p.n_companions,
                                           s._owner))


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
    type = property(lambda s: Creative._TYPES.get(s._p.kind, "unknown"))
    id = property(lambda s: _s(s._p.id))
    adId = property(lambda s: _s(s._p.ad_id))
    sequence = property(lambda s: _opt(s._p.sequence))
    apiFramework = property(lambda s: _s(s._p.api_framework))
    universalAdIds = property(lambda s: [
        _Plain(idRegistry=_s(u.id_registry), value=_s(u.id_value))
        for u in s._p.universal_ad_ids[0:s._p.n_universal_ad_ids]]
        if s._p.n_universal_ad_ids else [])
    linear = property(lambda s: Linear(s._p.linear, s._owner) if s._p.linear != _NULL else None)
    nonlinear = property(lambda s: NonLinearAds(s._p.nonlinear, s._owner)
                         if s._p.nonlinear != _NULL else None)
    companions = property(lambda s: CompanionAds(s._p.companions, s._owner)
                          if s._p.companions != _NULL else None)
    extensions = property(lambda s: _nodes(Extension, s._p.extensions, s._p.n_extensions,
                                           s._owner))

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
    type = property(lambda s: _s(s._p.type))
    xml = property(lambda s: _s(s._p.xml))


class Verification(Node):
    """<Verification> (AdVerifications)."""
    __slots__ = ()
    _fields = ("vendor", "javaScriptResources", "parameters", "tracking")
    vendor = property(lambda s: _s(s._p.vendor))
    javaScriptResources = property(lambda s: [
        Url(_s(r.url), apiFramework=_s(r.api_framework),
            browserOptional=_bool(r.browser_optional))
        for r in s._p.js_resources[0:s._p.n_js_resources]] if s._p.n_js_resources else [])
    parameters = property(lambda s: _s(s._p.parameters))
    tracking = property(lambda s: _nodes(Tracking, s._p.tracking, s._p.n_tracking, s._owner))


class Ad(Node):
    """<Ad>. type: inline, wrapper or empty. wrapper (the Wrapper's attributes) is
    None for an InLine; vastAdTagURI is the Wrapper's URI."""
    __slots__ = ()
    _fields = ("id", "sequence", "type", "adSystem", "adSystemVersion", "adTitle",
               "adServingId", "adType", "description", "advertiser", "pricing",
               "impressions", "errors", "viewableImpression", "verifications", "extensions",
               "vastAdTagURI")
    _TYPES = {lib.VAST_AD_INLINE: "inline", lib.VAST_AD_WRAPPER: "wrapper"}
    id = property(lambda s: _s(s._p.id))
    sequence = property(lambda s: _opt(s._p.sequence))
    type = property(lambda s: Ad._TYPES.get(s._p.kind, "empty"))
    adSystem = property(lambda s: _s(s._p.ad_system))
    adSystemVersion = property(lambda s: _s(s._p.ad_system_version))
    adTitle = property(lambda s: _s(s._p.ad_title))
    adServingId = property(lambda s: _s(s._p.ad_serving_id))
    adType = property(lambda s: _s(s._p.ad_type))
    description = property(lambda s: _s(s._p.description))
    advertiser = property(lambda s: _s(s._p.advertiser))
    survey = property(lambda s: _s(s._p.survey))
    expires = property(lambda s: _s(s._p.expires))
    conditionalAd = property(lambda s: _bool(s._p.conditional_ad))

    @property
    def pricing(self):
        p = self._p.pricing
        if p == _NULL:
            return None
        return _Plain(model=_s(p.model), currency=_s(p.currency), value=_s(p.value))

    categories = property(lambda s: [
        _Plain(authority=_s(c.authority), code=_s(c.code))
        for c in s._p.categories[0:s._p.n_categories]] if s._p.n_categories else [])
    impressions = property(lambda s: _urls(s._p.impressions, s._p.n_impressions))
    errors = property(lambda s: _urls(s._p.errors, s._p.n_errors))

    @property
    def viewableImpression(self):
        p = self._p
        return _Plain(viewable=_urls(p.viewable, p.n_viewable),
                      notViewable=_urls(p.not_viewable, p.n_not_viewable),
                      viewUndetermined=_urls(p.view_undetermined, p.n_view_undetermined))

    verifications = property(lambda s: _nodes(Verification, s._p.verifications,
                                              s._p.n_verifications, s._owner))
    extensions = property(lambda s: _nodes(Extension, s._p.extensions, s._p.n_extensions,
                                           s._owner))
    vastAdTagURI = property(lambda s: _s(s._p.vast_ad_tag_uri))

    @property
    def wrapper(self):
        p = self._p
        if p.kind != lib.VAST_AD_WRAPPER:
            return None
        return _Plain(followAdditionalWrappers=_bool(p.follow_additional_wrappers),
                      allowMultipleAds=_bool(p.allow_multiple_ads),
                      fallbackOnNoAd=_bool(p.fallback_on_no_ad))

    creatives = property(lambda s: _nodes(Creative, s._p.creatives, s._p.n_creatives, s._owner))

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
    version = property(lambda s: _s(s._p.version))
    errors = property(lambda s: _urls(s._p.errors, s._p.n_errors))
    ads = property(lambda s: _nodes(Ad, s._p.ads, s._p.n_ads, s._owner))


class AdSource(Node):
    """The <vmap:AdSource> of a break: kind vast (see vast), uri (adTagURI) or custom."""
    __slots__ = ()
    _fields = ("id", "allowMultipleAds", "followRedirects", "kind", "adTagURI",
               "templateType", "customData", "vast")
    _KINDS = {lib.VAST_SOURCE_VAST: "vast", lib.VAST_SOURCE_URI: "uri"}
    id = property(lambda s: _s(s._p.source_id))
    allowMultipleAds = property(lambda s: _bool(s._p.allow_multiple_ads))
    followRedirects = property(lambda s: _bool(s._p.follow_redirects))
    kind = property(lambda s: AdSource._KINDS.get(s._p.source_kind, "custom"))
    adTagURI = property(lambda s: _s(s._p.ad_tag_uri))
    templateType = property(lambda s: _s(s._p.template_type))
    customData = property(lambda s: _s(s._p.custom_data))
    vast = property(lambda s: Vast(s._p.vast, s._owner) if s._p.vast != _NULL else None)


class Break(Node):
    """A VMAP <vmap:AdBreak>."""
    __slots__ = ()
    _fields = ("breakId", "breakType", "timeOffset", "offsetKind", "offsetValue",
               "repeatAfter", "adSource", "tracking")
    _KINDS = {lib.VAST_BREAK_START: "start", lib.VAST_BREAK_END: "end",
              lib.VAST_BREAK_TIME: "time", lib.VAST_BREAK_PERCENT: "percent",
              lib.VAST_BREAK_POSITION: "position"}
    breakId = property(lambda s: _s(s._p.break_id))
    breakType = property(lambda s: _s(s._p.break_type))
    timeOffset = property(lambda s: _s(s._p.time_offset))
    offsetKind = property(lambda s: Break._KINDS.get(s._p.offset_kind, "invalid"))
    offsetValue = property(lambda s: s._p.offset_value if s._p.offset_kind in (
        lib.VAST_BREAK_TIME, lib.VAST_BREAK_PERCENT, lib.VAST_BREAK_POSITION) else None)
    repeatAfter = property(lambda s: _offset(s._p.repeat_after))
    adSource = property(lambda s: AdSource(s._p, s._owner)
                        if s._p.source_kind != lib.VAST_SOURCE_NONE else None)
    tracking = property(lambda s: _nodes(Tracking, s._p.tracking, s._p.n_tracking, s._owner))
    extensions = property(lambda s: _nodes(Extension, s._p.extensions, s._p.n_extensions,
                                           s._owner))


class Note(Node):
    """What the parser accepted leniently (docs/parser.md): path, message, iabCode."""
    __slots__ = ()
    _fields = ("line", "column", "path", "message", "iabCode")
    path = property(lambda s: _s(s._p.path))
    message = property(lambda s: _s(s._p.message))
    iabCode = property(lambda s: s._p.iab_code or None)
