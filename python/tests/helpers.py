"""Real parts for the tests: a loopback HTTP server (port 0) that serves tags and
records the beacon requests it gets, and a tag builder."""
import http.server
import threading
import time


class Server:
    """HTTP/1.1 on 127.0.0.1:0. pages: path -> (status, body bytes); every GET is
    recorded in hits (path with query). delay: seconds to wait before answering."""

    def __init__(self, pages=None, delay=0.0):
        self.pages = dict(pages or {})
        self.hits = []
        self.delay = delay
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                with outer.lock:
                    outer.hits.append(self.path)
                if outer.delay:
                    time.sleep(outer.delay)
                status, body = outer.pages.get(self.path.split("?")[0], (200, b""))
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


EVENTS = ["start", "firstQuartile", "midpoint", "thirdQuartile", "complete", "pause",
          "resume", "mute", "unmute", "skip"]


def inline(base, duration="00:00:20", skipoffset="00:00:05", ad_id="7"):
    """A VAST 4.2 InLine linear ad whose every URL points at `base`."""
    tracking = "".join('<Tracking event="%s"><![CDATA[%s/t/%s?ad=%s]]></Tracking>'
                       % (e, base, e, ad_id) for e in EVENTS)
    return ("""<?xml version="1.0" encoding="UTF-8"?>
<VAST version="4.2">
  <Ad id="%(ad)s">
    <InLine>
      <AdSystem>test</AdSystem>
      <AdTitle>Python test</AdTitle>
      <Impression id="imp1"><![CDATA[%(b)s/t/impression?ad=%(ad)s&cb=[CACHEBUSTING]]]></Impression>
      <Error><![CDATA[%(b)s/t/error?ad=%(ad)s&code=[ERRORCODE]]]></Error>
      <Creatives>
        <Creative id="c1">
          <Linear skipoffset="%(skip)s">
            <Duration>%(dur)s</Duration>
            <TrackingEvents>%(tr)s</TrackingEvents>
            <VideoClicks>
              <ClickThrough><![CDATA[https://advertiser.example/landing]]></ClickThrough>
              <ClickTracking><![CDATA[%(b)s/t/click?ad=%(ad)s]]></ClickTracking>
            </VideoClicks>
            <MediaFiles>
              <MediaFile delivery="progressive" type="video/mp4" width="1280" height="720"
                bitrate="2000"><![CDATA[https://cdn.example/ad.mp4]]></MediaFile>
            </MediaFiles>
          </Linear>
        </Creative>
      </Creatives>
    </InLine>
  </Ad>
</VAST>
""" % dict(ad=ad_id, b=base, skip=skipoffset, dur=duration, tr=tracking)).encode()


def wrapper(uri, base, ad_id="w1"):
    return ("""<VAST version="4.2"><Ad id="%s"><Wrapper>
<AdSystem>wrap</AdSystem>
<Impression><![CDATA[%s/t/impression?ad=wrapper]]></Impression>
<VASTAdTagURI><![CDATA[%s]]></VASTAdTagURI>
<Creatives><Creative><Linear><TrackingEvents>
<Tracking event="start"><![CDATA[%s/t/start?ad=wrapper]]></Tracking>
</TrackingEvents></Linear></Creative></Creatives>
</Wrapper></Ad></VAST>""" % (ad_id, base, uri, base)).encode()
