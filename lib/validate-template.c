/*
 * validate-template.c: vast_template_write, a complete and valid VAST 4.1+
 * InLine linear tag to start a new tag from. It carries every linear
 * Tracking event its version defines, https URLs with IAB macros, a
 * progressive H.264 MP4 and a WebM rendition with bitrates and sizes, so it
 * passes every rule of the web, ctv and ssai profiles.
 */
#include <stdio.h>
#include <string.h>

#include "vastrack.h"

#define TRACK "https://track.example.com/v1/"

typedef struct tw {
  vast_write_fn write;
  void *ctx;
  int failed;
} tw;

static void put(tw *t, const char *s) {
  if (!t->failed && t->write(t->ctx, s, strlen(s)) != 0) t->failed = 1;
}

static void tracking(tw *t, const char *event, const char *offset) {
  char line[512];
  snprintf(line, sizeof line,
           "              <Tracking event=\"%s\"%s%s%s><![CDATA[" TRACK
           "event?e=%s%s%s&ad=[ADSERVINGID]&pos=[ADPLAYHEAD]&cb=[CACHEBUSTING]]]></Tracking>\n",
           event, offset ? " offset=\"" : "", offset ? offset : "", offset ? "\"" : "", event,
           offset ? "&o=" : "", offset ? offset : "");
  put(t, line);
}

vast_err vast_template_write(const char *version, int skippable, vast_write_fn write, void *ctx) {
  if (!write) return VAST_E_INVAL;
  if (!version) version = "4.3";
  int minor;
  if (!strcmp(version, "4.1")) minor = 1;
  else if (!strcmp(version, "4.2")) minor = 2;
  else if (!strcmp(version, "4.3")) minor = 3;
  else return VAST_E_VERSION;
  tw t = {write, ctx, 0};
  char buf[512];
  put(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  snprintf(buf, sizeof buf, "<VAST version=\"%s\" xmlns=\"http://www.iab.com/VAST\">\n", version);
  put(&t, buf);
  put(&t, "  <Ad id=\"ad-0001\" adType=\"video\">\n"
          "    <InLine>\n"
          "      <AdSystem version=\"1.0\">vastrack template</AdSystem>\n"
          "      <Error><![CDATA[" TRACK "error?code=[ERRORCODE]&ad=[ADSERVINGID]&ts=[TIMESTAMP]]]></Error>\n"
          "      <Impression id=\"imp-1\"><![CDATA[" TRACK "impression?ad=[ADSERVINGID]&cb=[CACHEBUSTING]]]></Impression>\n"
          "      <AdServingId>replace-with-a-unique-id-per-response</AdServingId>\n"
          "      <AdTitle>Template ad: replace the title</AdTitle>\n"
          "      <Advertiser>Example Advertiser</Advertiser>\n"
          "      <Category authority=\"https://www.iabtechlab.com/categoryteam\">IAB1</Category>\n"
          "      <ViewableImpression id=\"viewable-1\">\n"
          "        <Viewable><![CDATA[" TRACK "viewable?ad=[ADSERVINGID]]]></Viewable>\n"
          "        <NotViewable><![CDATA[" TRACK "notviewable?ad=[ADSERVINGID]]]></NotViewable>\n"
          "        <ViewUndetermined><![CDATA[" TRACK "viewundetermined?ad=[ADSERVINGID]]]></ViewUndetermined>\n"
          "      </ViewableImpression>\n"
          "      <Creatives>\n"
          "        <Creative id=\"creative-1\" adId=\"creative-1\" sequence=\"1\">\n"
          "          <UniversalAdId idRegistry=\"ad-id.org\">ABCD0000000H</UniversalAdId>\n");
  put(&t, skippable ? "          <Linear skipoffset=\"00:00:05.000\">\n" : "          <Linear>\n");
  put(&t, "            <Duration>00:00:30.000</Duration>\n"
          "            <TrackingEvents>\n");
  static const char *const events[] = {
      "loaded", "creativeView", "start", "firstQuartile", "midpoint", "thirdQuartile", "complete",
      "mute", "unmute", "pause", "resume", "rewind", "playerExpand", "playerCollapse",
      "closeLinear", "otherAdInteraction"};
  for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) tracking(&t, events[i], NULL);
  tracking(&t, "progress", "00:00:10.000");
  if (skippable) tracking(&t, "skip", NULL);
  if (minor >= 2) tracking(&t, "interactiveStart", NULL);
  if (minor >= 3) tracking(&t, "notUsed", NULL);
  put(&t, "            </TrackingEvents>\n"
          "            <VideoClicks>\n"
          "              <ClickThrough id=\"click-1\"><![CDATA[https://www.example.com/landing-page]]></ClickThrough>\n"
          "              <ClickTracking id=\"click-1\"><![CDATA[" TRACK "click?ad=[ADSERVINGID]&cb=[CACHEBUSTING]]]></ClickTracking>\n"
          "            </VideoClicks>\n"
          "            <MediaFiles>\n"
          "              <MediaFile id=\"mp4-1080\" delivery=\"progressive\" type=\"video/mp4\" width=\"1920\" height=\"1080\" "
          "codec=\"avc1.640028\" bitrate=\"4500\" scalable=\"true\" maintainAspectRatio=\"true\">"
          "<![CDATA[https://cdn.example.com/creative/ad-0001-1080p.mp4]]></MediaFile>\n"
          "              <MediaFile id=\"mp4-720\" delivery=\"progressive\" type=\"video/mp4\" width=\"1280\" height=\"720\" "
          "codec=\"avc1.4d401f\" bitrate=\"2500\" scalable=\"true\" maintainAspectRatio=\"true\">"
          "<![CDATA[https://cdn.example.com/creative/ad-0001-720p.mp4]]></MediaFile>\n"
          "              <MediaFile id=\"webm-720\" delivery=\"progressive\" type=\"video/webm\" width=\"1280\" height=\"720\" "
          "codec=\"vp9\" bitrate=\"2000\" scalable=\"true\" maintainAspectRatio=\"true\">"
          "<![CDATA[https://cdn.example.com/creative/ad-0001-720p.webm]]></MediaFile>\n"
          "              <Mezzanine delivery=\"progressive\" type=\"video/mp4\" width=\"1920\" height=\"1080\">"
          "<![CDATA[https://cdn.example.com/creative/ad-0001-mezzanine.mp4]]></Mezzanine>\n"
          "            </MediaFiles>\n"
          "          </Linear>\n"
          "        </Creative>\n"
          "      </Creatives>\n"
          "    </InLine>\n"
          "  </Ad>\n"
          "</VAST>\n");
  return t.failed ? VAST_E_IO : VAST_OK;
}
