/*
 * validate-template.c: vast_template_write(_opts), a complete and valid VAST
 * 4.1+ tag to start a new one from: an InLine linear ad (every linear
 * Tracking event its version defines, https URLs with IAB macros, progressive
 * H.264 MP4 and WebM renditions with bitrates and sizes, a Mezzanine) or a
 * Wrapper, optionally with an OMID verification, each element preceded by a
 * comment saying what it is for. Both pass every rule of the web, ctv and
 * ssai profiles.
 */
#include <stdio.h>
#include <string.h>

#include "vastrack/validate.h"

#define TRACK "https://track.example.com/v1/"

typedef struct tw {
  vast_write_fn write;
  void *ctx;
  int failed;
  int comments;
} tw;

static void put(tw *t, const char *s) {
  if (!t->failed && t->write(t->ctx, s, strlen(s)) != 0) t->failed = 1;
}

/* An explanatory comment line at an indentation (when comments are on). */
static void note(tw *t, int indent, const char *text) {
  if (!t->comments) return;
  char line[512];
  snprintf(line, sizeof line, "%*s<!-- %s -->\n", indent, "", text);
  put(t, line);
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

void vast_template_options_init(vast_template_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->version = "4.3";
  o->comments = 1;
}

/* What each linear event is for, for the comment above the TrackingEvents. */
static void event_notes(tw *t, int skippable) {
  note(t, 14,
       "start, firstQuartile, midpoint, thirdQuartile, complete: the minimum every DSP "
       "needs (most bill on midpoint; completion rate comes from complete)");
  note(t, 14,
       "loaded/creativeView: the player has the ad; mute..otherAdInteraction: engagement; "
       "progress fires once at its offset");
  if (skippable) note(t, 14, "skip: required on a skippable ad, or skips are not reported");
}

static void omid(tw *t) {
  note(t, 6,
       "AdVerifications (VAST 4.1+): the OMID verification script measurement vendors "
       "(IAS, DoubleVerify, Moat) load in the player");
  put(t, "      <AdVerifications>\n"
         "        <Verification vendor=\"example.com-omid\">\n"
         "          <JavaScriptResource apiFramework=\"omid\" browserOptional=\"true\">"
         "<![CDATA[https://verification.example.com/omid/verify.js]]></JavaScriptResource>\n");
  note(t, 10, "VerificationParameters: passed to the script as is");
  put(t,
      "          "
      "<VerificationParameters><![CDATA[{\"campaign\":\"example\"}]]></VerificationParameters>\n");
  note(t, 10,
       "verificationNotExecuted: fired with [REASON] (1 rejected, 2 not supported, "
       "3 load error) when the player does not run the script");
  put(t, "          <TrackingEvents>\n"
         "            <Tracking event=\"verificationNotExecuted\"><![CDATA[" TRACK
         "verification?reason=[REASON]&ad=[ADSERVINGID]]]></Tracking>\n"
         "          </TrackingEvents>\n"
         "        </Verification>\n"
         "      </AdVerifications>\n");
}

static void wrapper(tw *t, const vast_template_options *o) {
  note(t, 4,
       "Wrapper: a redirect to another VAST response (VASTAdTagURI). Players follow "
       "at most about 5 of them; each hop adds latency. followAdditionalWrappers=false "
       "forbids a further Wrapper, fallbackOnNoAd lets the player try the next ad");
  put(t, "    <Wrapper followAdditionalWrappers=\"true\" allowMultipleAds=\"false\" "
         "fallbackOnNoAd=\"false\">\n");
  note(t, 6, "AdSystem: who served this layer (required)");
  put(t, "      <AdSystem version=\"1.0\">vastrack template</AdSystem>\n");
  note(t, 6,
       "Error: fired with [ERRORCODE] when the chain or the ad fails (303: no ad "
       "after the wrappers)");
  put(t, "      <Error><![CDATA[" TRACK
         "error?code=[ERRORCODE]&ad=[ADSERVINGID]&ts=[TIMESTAMP]]]></Error>\n");
  note(t, 6,
       "Impression: this layer's pixel, fired together with the InLine's and every "
       "other Wrapper's (required)");
  put(t, "      <Impression id=\"wrapper-imp-1\"><![CDATA[" TRACK
         "impression?layer=wrapper&ad=[ADSERVINGID]&cb=[CACHEBUSTING]]]></Impression>\n");
  note(t, 6, "VASTAdTagURI: the next hop, an absolute https URL in CDATA (required)");
  put(t, "      <VASTAdTagURI><![CDATA[https://ads.example.com/vast?"
         "placement=example&cb=[CACHEBUSTING]]]></VASTAdTagURI>\n");
  if (o->omid) omid(t);
  note(t, 6, "Creatives: tracking this layer adds; it fires alongside the InLine's");
  put(t, "      <Creatives>\n"
         "        <Creative>\n"
         "          <Linear>\n"
         "            <TrackingEvents>\n");
  static const char *const events[] = {"start", "firstQuartile", "midpoint", "thirdQuartile",
                                       "complete"};
  for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
    tracking(t, events[i], NULL);
  put(t, "            </TrackingEvents>\n"
         "            <VideoClicks>\n"
         "              <ClickTracking id=\"wrapper-click-1\"><![CDATA[" TRACK
         "click?layer=wrapper&ad=[ADSERVINGID]]]></ClickTracking>\n"
         "            </VideoClicks>\n"
         "          </Linear>\n"
         "        </Creative>\n"
         "      </Creatives>\n"
         "    </Wrapper>\n");
}

static void inline_ad(tw *t, const vast_template_options *o, int minor) {
  note(t, 4,
       "InLine: the ad itself. Required: AdSystem, AdTitle, AdServingId (4.1+), "
       "Impression, Creatives");
  put(t, "    <InLine>\n");
  note(t, 6, "AdSystem: the ad server that returned the ad");
  put(t, "      <AdSystem version=\"1.0\">vastrack template</AdSystem>\n");
  note(t, 6,
       "Error: fired with [ERRORCODE] when the player cannot play the ad "
       "(vastrack errors lists the codes)");
  put(t, "      <Error><![CDATA[" TRACK
         "error?code=[ERRORCODE]&ad=[ADSERVINGID]&ts=[TIMESTAMP]]]></Error>\n");
  note(t, 6,
       "Impression: fired when the ad starts to render: this is what is counted and "
       "billed. URLs in CDATA, so & needs no escaping");
  put(t, "      <Impression id=\"imp-1\"><![CDATA[" TRACK
         "impression?ad=[ADSERVINGID]&cb=[CACHEBUSTING]]]></Impression>\n");
  note(t, 6, "AdServingId: unique per response, so every party can join its logs");
  put(t, "      <AdServingId>replace-with-a-unique-id-per-response</AdServingId>\n");
  note(t, 6, "AdTitle, Advertiser, Category: what the ad is, for reporting and brand safety");
  put(t, "      <AdTitle>Template ad: replace the title</AdTitle>\n"
         "      <Advertiser>Example Advertiser</Advertiser>\n"
         "      <Category authority=\"https://www.iabtechlab.com/categoryteam\">IAB1</Category>\n");
  note(t, 6, "ViewableImpression: fired once the player knows whether the ad was viewable");
  put(t, "      <ViewableImpression id=\"viewable-1\">\n"
         "        <Viewable><![CDATA[" TRACK "viewable?ad=[ADSERVINGID]]]></Viewable>\n"
         "        <NotViewable><![CDATA[" TRACK "notviewable?ad=[ADSERVINGID]]]></NotViewable>\n"
         "        <ViewUndetermined><![CDATA[" TRACK
         "viewundetermined?ad=[ADSERVINGID]]]></ViewUndetermined>\n"
         "      </ViewableImpression>\n");
  if (o->omid) omid(t);
  put(t, "      <Creatives>\n"
         "        <Creative id=\"creative-1\" adId=\"creative-1\" sequence=\"1\">\n");
  note(t, 10,
       "UniversalAdId: the creative's id in a registry (Ad-ID, clearcast), kept "
       "across ad servers (required in 4.x)");
  put(t, "          <UniversalAdId idRegistry=\"ad-id.org\">ABCD0000000H</UniversalAdId>\n");
  note(t, 10,
       o->skippable ? "Linear: a video ad; skipoffset shows the skip button after 5 s"
                    : "Linear: a video ad (skipoffset=\"00:00:05\" makes it skippable)");
  put(t,
      o->skippable ? "          <Linear skipoffset=\"00:00:05.000\">\n" : "          <Linear>\n");
  note(t, 12,
       "Duration: the real length of the media file, HH:MM:SS.mmm (quartiles are "
       "computed from it)");
  put(t, "            <Duration>00:00:30.000</Duration>\n"
         "            <TrackingEvents>\n");
  event_notes(t, o->skippable);
  static const char *const events[] = {
      "loaded",       "creativeView",   "start",       "firstQuartile",
      "midpoint",     "thirdQuartile",  "complete",    "mute",
      "unmute",       "pause",          "resume",      "rewind",
      "playerExpand", "playerCollapse", "closeLinear", "otherAdInteraction"};
  for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
    tracking(t, events[i], NULL);
  tracking(t, "progress", "00:00:10.000");
  if (o->skippable) tracking(t, "skip", NULL);
  if (minor >= 2) tracking(t, "interactiveStart", NULL);
  if (minor >= 3) tracking(t, "notUsed", NULL);
  put(t, "            </TrackingEvents>\n");
  note(t, 12,
       "VideoClicks: ClickThrough opens the landing page, ClickTracking counts the "
       "click (CTV remotes rarely click)");
  put(t, "            <VideoClicks>\n"
         "              <ClickThrough "
         "id=\"click-1\"><![CDATA[https://www.example.com/landing-page]]></ClickThrough>\n"
         "              <ClickTracking id=\"click-1\"><![CDATA[" TRACK
         "click?ad=[ADSERVINGID]&cb=[CACHEBUSTING]]]></ClickTracking>\n"
         "            </VideoClicks>\n");
  note(t, 12,
       "MediaFiles: the player picks one it can play. A progressive H.264 MP4 "
       "(video/mp4) plays everywhere, CTV included; bitrate in kbit/s");
  put(t, "            <MediaFiles>\n"
         "              <MediaFile id=\"mp4-1080\" delivery=\"progressive\" type=\"video/mp4\" "
         "width=\"1920\" height=\"1080\" "
         "codec=\"avc1.640028\" bitrate=\"4500\" scalable=\"true\" maintainAspectRatio=\"true\">"
         "<![CDATA[https://cdn.example.com/creative/ad-0001-1080p.mp4]]></MediaFile>\n"
         "              <MediaFile id=\"mp4-720\" delivery=\"progressive\" type=\"video/mp4\" "
         "width=\"1280\" height=\"720\" "
         "codec=\"avc1.4d401f\" bitrate=\"2500\" scalable=\"true\" maintainAspectRatio=\"true\">"
         "<![CDATA[https://cdn.example.com/creative/ad-0001-720p.mp4]]></MediaFile>\n"
         "              <MediaFile id=\"webm-720\" delivery=\"progressive\" type=\"video/webm\" "
         "width=\"1280\" height=\"720\" "
         "codec=\"vp9\" bitrate=\"2000\" scalable=\"true\" maintainAspectRatio=\"true\">"
         "<![CDATA[https://cdn.example.com/creative/ad-0001-720p.webm]]></MediaFile>\n");
  note(t, 14,
       "Mezzanine: the high-quality source server-side stitchers transcode from "
       "(SSAI answers 406 without it)");
  put(t, "              <Mezzanine delivery=\"progressive\" type=\"video/mp4\" width=\"1920\" "
         "height=\"1080\">"
         "<![CDATA[https://cdn.example.com/creative/ad-0001-mezzanine.mp4]]></Mezzanine>\n"
         "            </MediaFiles>\n"
         "          </Linear>\n"
         "        </Creative>\n"
         "      </Creatives>\n"
         "    </InLine>\n");
}

vast_err vast_template_write_opts(const vast_template_options *o, vast_write_fn write, void *ctx) {
  vast_template_options def;
  if (!o) {
    vast_template_options_init(&def);
    o = &def;
  }
  if (!write) return VAST_E_INVAL;
  const char *version = o->version ? o->version : "4.3";
  int minor;
  if (!strcmp(version, "4.1"))
    minor = 1;
  else if (!strcmp(version, "4.2"))
    minor = 2;
  else if (!strcmp(version, "4.3"))
    minor = 3;
  else
    return VAST_E_VERSION;
  tw t = {write, ctx, 0, o->comments};
  char buf[512];
  put(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  note(&t, 0,
       "A vastrack template: replace the example.com URLs, the ids and the title, "
       "then check it with 'vastrack validate'");
  snprintf(buf, sizeof buf, "<VAST version=\"%s\" xmlns=\"http://www.iab.com/VAST\">\n", version);
  put(&t, buf);
  note(&t, 2, "Ad: one ad; several Ads with sequence=\"1\", \"2\"... form a pod");
  put(&t, o->wrapper ? "  <Ad id=\"wrapper-0001\">\n" : "  <Ad id=\"ad-0001\" adType=\"video\">\n");
  if (o->wrapper)
    wrapper(&t, o);
  else
    inline_ad(&t, o, minor);
  put(&t, "  </Ad>\n"
          "</VAST>\n");
  return t.failed ? VAST_E_IO : VAST_OK;
}

vast_err vast_template_write(const char *version, int skippable, vast_write_fn write, void *ctx) {
  vast_template_options o;
  vast_template_options_init(&o);
  o.version = version;
  o.skippable = skippable;
  o.comments = 0;
  return vast_template_write_opts(&o, write, ctx);
}
