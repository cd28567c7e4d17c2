#!/usr/bin/env python3
# Regenerates tests/validate/<rule-id>/{bad,good}.xml (and `profile` where a
# rule only runs in one profile). Each case is a small valid tag with one
# mutation: bad.xml must yield the rule, good.xml (the same tag, fixed, often
# a near miss) must not. The generated files are committed; tests do not need
# python. Run from the repository root: python3 tests/validate/make-cases.py
import os, re

BASE = '''<?xml version="1.0" encoding="UTF-8"?>
<VAST version="4.2">
  <Ad id="a1">
    <InLine>
      <AdSystem>s</AdSystem>
      <AdTitle>t</AdTitle>
      <AdServingId>id-1</AdServingId>
      <Impression><![CDATA[https://t.example.com/imp]]></Impression>
      <Error><![CDATA[https://t.example.com/err?c=[ERRORCODE]]]></Error>
      <!--INLINE-->
      <Creatives>
        <Creative id="c1">
          <UniversalAdId idRegistry="ad-id.org">ABCD0001000H</UniversalAdId>
          <Linear>
            <Duration>00:00:15</Duration>
            <TrackingEvents>
              <Tracking event="start"><![CDATA[https://t.example.com/start]]></Tracking>
              <Tracking event="firstQuartile"><![CDATA[https://t.example.com/q1]]></Tracking>
              <Tracking event="midpoint"><![CDATA[https://t.example.com/mid]]></Tracking>
              <Tracking event="thirdQuartile"><![CDATA[https://t.example.com/q3]]></Tracking>
              <Tracking event="complete"><![CDATA[https://t.example.com/complete]]></Tracking>
              <!--TRACK-->
            </TrackingEvents>
            <MediaFiles>
              <MediaFile delivery="progressive" type="video/mp4" width="640" height="360" bitrate="800"><![CDATA[https://cdn.example.com/a.mp4]]></MediaFile>
              <!--MEDIA-->
            </MediaFiles>
          </Linear>
        </Creative>
        <!--CREATIVES-->
      </Creatives>
    </InLine>
  </Ad>
  <!--ADS-->
</VAST>
'''

WRAPPER = '''<?xml version="1.0" encoding="UTF-8"?>
<VAST version="4.2">
  <Ad id="w1">
    <Wrapper>
      <AdSystem>s</AdSystem>
      <!--URI-->
      <Impression><![CDATA[https://t.example.com/imp]]></Impression>
    </Wrapper>
  </Ad>
</VAST>
'''

VMAP = '''<?xml version="1.0" encoding="UTF-8"?>
<vmap:VMAP xmlns:vmap="http://www.iab.net/videosuite/vmap" version="1.0">
  <vmap:AdBreak timeOffset="OFFSET" breakType="linear" breakId="pre">
    <!--SOURCE-->
  </vmap:AdBreak>
</vmap:VMAP>
'''

SRC = ('<vmap:AdSource id="s1" allowMultipleAds="false" followRedirects="true">'
       '<vmap:AdTagURI templateType="vast4"><![CDATA[https://ads.example.com/vast]]></vmap:AdTagURI></vmap:AdSource>')
MF = '<MediaFile delivery="progressive" type="video/mp4" width="640" height="360" bitrate="800"><![CDATA[https://cdn.example.com/a.mp4]]></MediaFile>'
VPAID = '<MediaFile delivery="progressive" type="application/javascript" apiFramework="VPAID" width="640" height="360"><![CDATA[https://cdn.example.com/vpaid.js]]></MediaFile>'
AUDIO = '<MediaFile delivery="progressive" type="audio/mp4" width="0" height="0" bitrate="128"><![CDATA[https://cdn.example.com/a.m4a]]></MediaFile>'
SKIP = '<Tracking event="skip"><![CDATA[https://t.example.com/skip]]></Tracking>'
COMP = ('<Creative id="c2"><CompanionAds><Companion width="300" height="250">RES</Companion></CompanionAds></Creative>')
PNG = '<StaticResource creativeType="image/png"><![CDATA[https://cdn.example.com/c.png]]></StaticResource>'
NONLIN = ('<Creative id="c2"><NonLinearAds><NonLinear width="480" height="70">RES</NonLinear></NonLinearAds></Creative>')

def T(url, ev='mute', extra=''):
    return '<Tracking event="%s"%s><![CDATA[%s]]></Tracking>' % (ev, extra, url)

def tr(url, ev='mute', extra=''):
    return [('<!--TRACK-->', T(url, ev, extra))]

VER = '<VAST version="4.2">'
OK = 'https://t.example.com/mute'

AD_BLOCK = BASE[BASE.index('  <Ad id="a1">'):BASE.index('  <!--ADS-->')]
MEZZ = '<Mezzanine delivery="progressive" type="video/mp4" width="1920" height="1080"><![CDATA[https://cdn.example.com/m.mp4]]></Mezzanine>'
NONLIN_EV = ('<Creative id="c2"><NonLinearAds><NonLinear width="480" height="70">' + PNG +
             '</NonLinear><TrackingEvents>EVENTS</TrackingEvents></NonLinearAds></Creative>')
def NL(*evs):
    return NONLIN_EV.replace('EVENTS', ''.join(T('https://t.example.com/nl-%s' % e, e) for e in evs))

# rule id (or rule-id+variant for a further pair): (base, bad replacements, good replacements, profile)
CASES = {
  'xml-malformed': (BASE, [('</VAST>', '')], [], None),
  'input-refused': (BASE, [('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0"?><!DOCTYPE VAST [<!ENTITY e "x">]>')], [], None),
  'not-vast': (BASE, [(VER, '<VASTX version="4.2">'), ('</VAST>', '</VASTX>')], [], None),
  'version-unsupported': (BASE, [(VER, '<VAST version="5.1">')], [(VER, '<VAST version="4.3">')], None),
  'version-missing': (BASE, [(VER, '<VAST>')], [(VER, '<VAST version="4.0">')], None),
  'version-legacy': ('''<?xml version="1.0"?>
<VideoAdServingTemplate>
  <Ad id="p1"><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>
    <Impression><URL><![CDATA[https://t.example.com/imp]]></URL></Impression>
    <Video><Duration>00:00:15</Duration><MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="640" height="360" bitrate="800"><URL><![CDATA[https://cdn.example.com/a.mp4]]></URL></MediaFile></MediaFiles></Video>
  </InLine></Ad>
</VideoAdServingTemplate>
''', [], None, None),
  'no-ad': ('<?xml version="1.0"?>\n<VAST version="4.2">\n  <Error><![CDATA[https://t.example.com/err?c=[ERRORCODE]]]></Error>\n</VAST>\n', [], None, None),
  'ad-empty': (BASE, [('<!--ADS-->', '<Ad id="a2"></Ad>')], [], None),
  'ad-multiple-bodies': (BASE, [('</InLine>', '</InLine><Wrapper><AdSystem>s</AdSystem><VASTAdTagURI><![CDATA[https://a.example.com/v]]></VASTAdTagURI><Impression><![CDATA[https://t.example.com/i2]]></Impression></Wrapper>')], [], None),
  'missing-adsystem': (BASE, [('<AdSystem>s</AdSystem>', '')], [], None),
  'missing-adtitle': (BASE, [('<AdTitle>t</AdTitle>', '')], [], None),
  'missing-adservingid': (BASE, [('<AdServingId>id-1</AdServingId>', '')], [('<AdServingId>id-1</AdServingId>', ''), (VER, '<VAST version="4.0">')], None),
  'missing-impression': (BASE, [('<Impression><![CDATA[https://t.example.com/imp]]></Impression>', '')], [], None),
  'missing-creatives': (BASE, [('re:<Creatives>.*</Creatives>', '')], [], None),
  'creative-empty': (BASE, [('<!--CREATIVES-->', '<Creative id="c2"></Creative>')], [('<!--CREATIVES-->', COMP.replace('RES', PNG))], None),
  'missing-duration': (BASE, [('<Duration>00:00:15</Duration>', '')], [], None),
  'duration-malformed': (BASE, [('<Duration>00:00:15</Duration>', '<Duration>undefined</Duration>')], [('<Duration>00:00:15</Duration>', '<Duration>00:00:15.500</Duration>')], None),
  'duration-zero': (BASE, [('<Duration>00:00:15</Duration>', '<Duration>00:00:00</Duration>')], [('<Duration>00:00:15</Duration>', '<Duration>00:00:01</Duration>')], None),
  'missing-mediafiles': (BASE, [(MF, '')], [], None),
  'mediafile-empty-url': (BASE, [(MF, MF.replace('https://cdn.example.com/a.mp4', ''))], [], None),
  'mediafile-missing-delivery': (BASE, [('delivery="progressive" type="video/mp4"', 'type="video/mp4"')], [('delivery="progressive" type="video/mp4"', 'delivery="streaming" type="video/mp4"')], None),
  'media-mime-missing': (BASE, [('type="video/mp4" ', '')], [], None),
  'media-mime-unknown': (BASE, [('type="video/mp4"', 'type="video/x-unknown"')], [('type="video/mp4"', 'type="video/webm"')], None),
  'media-size-missing': (BASE, [('width="640" ', '')], [], None),
  'media-bitrate-missing': (BASE, [('bitrate="800"', '')], [('bitrate="800"', 'minBitrate="500" maxBitrate="900"')], None),
  'media-no-mp4': (BASE, [('type="video/mp4"', 'type="video/webm"')], [('<!--MEDIA-->', MF.replace('video/mp4', 'video/webm'))], 'ctv'),
  'media-vpaid': (BASE, [('<!--MEDIA-->', VPAID)], [], None),
  'media-vpaid-only': (BASE, [(MF, VPAID)], [('<!--MEDIA-->', VPAID)], None),
  'media-no-audio': (BASE, [], [(MF, AUDIO)], 'audio'),
  'skipoffset-malformed': (BASE, [('<Linear>', '<Linear skipoffset="soon">')] + [('<!--TRACK-->', SKIP)], [('<Linear>', '<Linear skipoffset="25%">'), ('<!--TRACK-->', SKIP)], None),
  'skipoffset-beyond-duration': (BASE, [('<Linear>', '<Linear skipoffset="00:00:20">'), ('<!--TRACK-->', SKIP)], [('<Linear>', '<Linear skipoffset="00:00:05">'), ('<!--TRACK-->', SKIP)], None),
  'companion-missing-resource': (BASE, [('<!--CREATIVES-->', COMP.replace('RES', ''))], [('<!--CREATIVES-->', COMP.replace('RES', PNG))], None),
  'companion-missing-size': (BASE, [('<!--CREATIVES-->', COMP.replace('RES', PNG).replace(' height="250"', ''))], [('<!--CREATIVES-->', COMP.replace('RES', PNG))], None),
  'nonlinear-missing-resource': (BASE, [('<!--CREATIVES-->', NONLIN.replace('RES', ''))], [('<!--CREATIVES-->', NONLIN.replace('RES', PNG))], None),
  'missing-quartile': (BASE, [('<Tracking event="midpoint"><![CDATA[https://t.example.com/mid]]></Tracking>', '')], [], None),
  'skip-tracking-missing': (BASE, [('<Linear>', '<Linear skipoffset="00:00:05">')], [('<Linear>', '<Linear skipoffset="00:00:05">'), ('<!--TRACK-->', SKIP)], None),
  'progress-no-offset': (BASE, tr(OK, 'progress'), tr(OK, 'progress', ' offset="00:00:05"'), None),
  'offset-malformed': (BASE, tr(OK, 'progress', ' offset="soon"'), tr(OK, 'progress', ' offset="10%"'), None),
  'offset-beyond-duration': (BASE, tr(OK, 'progress', ' offset="00:00:30"'), tr(OK, 'progress', ' offset="00:00:14"'), None),
  'event-unknown': (BASE, tr(OK, 'viewable_impression'), tr(OK, 'mute'), None),
  'event-name-case': (BASE, tr(OK, 'Mute'), tr(OK, 'mute'), None),
  'event-wrong-creative': (BASE, tr(OK, 'acceptInvitation'), tr(OK, 'playerExpand'), None),
  'event-version': (BASE, [(VER, '<VAST version="4.1">')] + tr(OK, 'interactiveStart'), tr(OK, 'interactiveStart'), None),
  'event-deprecated': (BASE, tr(OK, 'fullscreen'), [(VER, '<VAST version="3.0">')] + tr(OK, 'fullscreen'), None),
  'url-empty': (BASE, tr(''), tr(OK), None),
  'url-not-http': (BASE, tr('ftp://t.example.com/mute'), tr(OK), None),
  'url-not-absolute': (BASE, tr('/track/mute'), tr(OK), None),
  'url-protocol-relative': (BASE, tr('//t.example.com/mute'), tr(OK), None),
  'url-whitespace': (BASE, tr('https://t.example.com/mute?a=b c'), tr('https://t.example.com/mute?a=b%20c'), None),
  'url-xml-chars': (BASE, tr('https://t.example.com/mute?v=<v>'), tr('https://t.example.com/mute?v=%3Cv%3E'), None),
  'url-unsafe-chars': (BASE, tr('https://t.example.com/mute?v={v}'), tr('https://t.example.com/mute?v=%7Bv%7D'), None),
  'url-bad-percent': (BASE, tr('https://t.example.com/mute?p=50%'), tr('https://t.example.com/mute?p=50%25&u=%%USER_ID%%'), None),
  'error-url-no-errorcode': (BASE, [('c=[ERRORCODE]', 'c=')], [], None),
  'macro-unknown': (BASE, tr('https://t.example.com/mute?x=[FOOBAR]'), tr('https://t.example.com/mute?x=[CACHEBUSTING]'), None),
  'macro-misspelled': (BASE, tr('https://t.example.com/mute?x=[CACHEBUSTER]'), tr('https://t.example.com/mute?x=[CACHEBUSTING]'), None),
  'url-duplicate': (BASE, [('<!--TRACK-->', T(OK) + T(OK))], [('<!--TRACK-->', T(OK) + T(OK + '2'))], None),
  'url-insecure': (BASE, tr('http://t.example.com/mute'), tr(OK), None),
  'wrapper-missing-uri': (WRAPPER, [], [('<!--URI-->', '<VASTAdTagURI><![CDATA[https://a.example.com/vast]]></VASTAdTagURI>')], None),
  'wrapper-uri-invalid': (WRAPPER, [('<!--URI-->', '<VASTAdTagURI><![CDATA[javascript:alert(1)]]></VASTAdTagURI>')], [('<!--URI-->', '<VASTAdTagURI><![CDATA[https://a.example.com/vast]]></VASTAdTagURI>')], None),
  'pod-duplicate-sequence': (BASE, [('<Ad id="a1">', '<Ad id="a1" sequence="1">'), ('<!--ADS-->', '<Ad id="a2" sequence="1"><Wrapper><AdSystem>s</AdSystem><VASTAdTagURI><![CDATA[https://a.example.com/v]]></VASTAdTagURI><Impression><![CDATA[https://t.example.com/i2]]></Impression></Wrapper></Ad>')],
                             [('<Ad id="a1">', '<Ad id="a1" sequence="1">'), ('<!--ADS-->', '<Ad id="a2" sequence="2"><Wrapper><AdSystem>s</AdSystem><VASTAdTagURI><![CDATA[https://a.example.com/v]]></VASTAdTagURI><Impression><![CDATA[https://t.example.com/i2]]></Impression></Wrapper></Ad>')], None),
  'pod-mixed-buffet': (BASE, [('<Ad id="a1">', '<Ad id="a1" sequence="1">'), ('<!--ADS-->', '<Ad id="a2"><Wrapper><AdSystem>s</AdSystem><VASTAdTagURI><![CDATA[https://a.example.com/v]]></VASTAdTagURI><Impression><![CDATA[https://t.example.com/i2]]></Impression></Wrapper></Ad>')],
                       [('<Ad id="a1">', '<Ad id="a1" sequence="1">'), ('<!--ADS-->', '<Ad id="a2" sequence="2"><Wrapper><AdSystem>s</AdSystem><VASTAdTagURI><![CDATA[https://a.example.com/v]]></VASTAdTagURI><Impression><![CDATA[https://t.example.com/i2]]></Impression></Wrapper></Ad>')], None),
  'vmap-offset-invalid': (VMAP, [('OFFSET', 'soon'), ('<!--SOURCE-->', SRC)], [('OFFSET', '00:10:00.000'), ('<!--SOURCE-->', SRC)], None),
  'vmap-break-no-source': (VMAP, [('OFFSET', 'start')], [('OFFSET', 'start'), ('<!--SOURCE-->', SRC)], None),
  'element-unknown': (BASE, [('<!--INLINE-->', '<Foo>x</Foo>')], [('<!--INLINE-->', '<Extensions><Extension type="x"><Foo>x</Foo></Extension></Extensions>')], None),
  'element-misplaced': (BASE, [('<Duration>00:00:15</Duration>', '<Duration>00:00:15</Duration><AdTitle>x</AdTitle>')], [], None),
  'number-malformed': (BASE, [('width="640"', 'width="640px"')], [], None),
  'boolean-malformed': (BASE, [('bitrate="800"', 'bitrate="800" scalable="yes"')], [('bitrate="800"', 'bitrate="800" scalable="true"')], None),
  # issue 14: the checks the spec and the practitioner guide ask for
  'url-not-cdata': (BASE, [('<!--TRACK-->', '<Tracking event="mute">https://t.example.com/mute?a=1&amp;b=2</Tracking>')],
                    [('<!--TRACK-->', '<Tracking event="mute"><![CDATA[https://t.example.com/mute?a=1&b=2]]></Tracking>')], None),
  'xml-malformed+ampersand': (BASE, [('<!--TRACK-->', '<Tracking event="mute">https://t.example.com/mute?a=1&b=2</Tracking>')],
                              [('<!--TRACK-->', '<Tracking event="mute"><![CDATA[https://t.example.com/mute?a=1&b=2]]></Tracking>')], None),
  'missing-universaladid': (BASE, [('<UniversalAdId idRegistry="ad-id.org">ABCD0001000H</UniversalAdId>', '')],
                            [('<UniversalAdId idRegistry="ad-id.org">ABCD0001000H</UniversalAdId>', ''), (VER, '<VAST version="3.0">'), ('<AdServingId>id-1</AdServingId>', '')], None),
  'pod-duplicate-adservingid': (BASE, [('<!--ADS-->', AD_BLOCK.replace('"a1"', '"a2"'))],
                                [('<!--ADS-->', AD_BLOCK.replace('"a1"', '"a2"').replace('id-1', 'id-2'))], None),
  'media-no-mezzanine': (BASE, [], [('<!--MEDIA-->', MEZZ)], 'ssai'),
  'impression-about-blank': (BASE, [('https://t.example.com/imp', 'about:blank')], [], None),
  'event-wrong-creative+nonlinear': (BASE, [(VER, '<VAST version="4.3">'), ('<!--CREATIVES-->', NL('start', 'closeLinear'))],
                                     [(VER, '<VAST version="4.3">'), ('<!--CREATIVES-->', NL('loaded', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'skip', 'notUsed', 'creativeView', 'acceptInvitation'))], None),
  'macro-misspelled+one-typo': (BASE, tr('https://t.example.com/mute?x=[CACHEBUSTNG]'), tr('https://t.example.com/mute?x=[BREAKMINDURATION]'), None),
  'macro-unknown+not-a-typo': (BASE, tr('https://t.example.com/mute?x=[BREAKMINDURATION]'), tr('https://t.example.com/mute?x=[BREAKMAXDURATION]'), None),
}

def apply(base, reps):
    s = base
    for old, new in reps:
        if old.startswith('re:'):
            s2 = re.sub(old[3:], new, s, flags=re.S)
        else:
            s2 = s.replace(old, new, 1)
        if s2 == s:
            raise SystemExit('replacement had no effect: %r' % old)
        s = s2
    return s

here = os.path.dirname(os.path.abspath(__file__))
for rule, (base, bad, good, profile) in CASES.items():
    d = os.path.join(here, rule)
    os.makedirs(d, exist_ok=True)
    bad_doc = apply(base, bad) if bad else base
    good_doc = BASE if good is None else (apply(base, good) if good else base)
    if bad_doc == good_doc:
        raise SystemExit('%s: bad and good are the same' % rule)
    open(os.path.join(d, 'bad.xml'), 'w').write(bad_doc)
    open(os.path.join(d, 'good.xml'), 'w').write(good_doc)
    pf = os.path.join(d, 'profile')
    if profile:
        open(pf, 'w').write(profile + '\n')
    elif os.path.exists(pf):
        os.remove(pf)
