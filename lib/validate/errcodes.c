/*
 * errcodes.c: the IAB VAST error-code table (VAST 2.0-4.3) as library data.
 * Each row says what a player reporting the code means, what usually causes
 * it in real tags, how to fix it and how to test for it. `vastrack errors`
 * prints this table; validation rules point at rows by code.
 */
#include "vastrack/validate.h"

static const vast_iab_error iab_errors[] = {
    {100, "XML parsing error", "The player could not parse the response as XML.",
     "HTML or JSON error page instead of VAST, truncated response, unescaped '&' or '<' in a URL "
     "outside CDATA, a byte-order mark or text before the XML declaration, wrong encoding.",
     "Serve well-formed XML with Content-Type text/xml or application/xml; put every URL in "
     "CDATA; check the ad server's error path returns VAST (with a root Error), not HTML.",
     "vastrack validate TAG (exit 3 and 'xml-malformed' with line:col); curl the tag URL and "
     "inspect the first bytes."},
    {101, "VAST schema validation error",
     "The XML parsed but is not a valid VAST structure: wrong root, missing required element "
     "or attribute.",
     "Root element misspelled or namespaced (VAST-1, vmap:WRONG), InLine without AdSystem, "
     "AdTitle, Impression or Creatives, MediaFile without type/width/height/delivery.",
     "Follow the required elements and attributes of the declared VAST version; start from "
     "'vastrack template'.",
     "vastrack validate TAG: structure rules (missing-*, ad-empty, mediafile-*) report 101."},
    {102, "VAST version of response not supported",
     "The player does not support the version the response declares.",
     "version attribute missing, misspelled (\"4\", \"v3\"), VAST 1.0 root "
     "VideoAdServingTemplate, or a version newer than the player knows.",
     "Declare version=\"2.0\"..\"4.3\" on the VAST root; ask the player which versions it "
     "accepts ([VASTVERSIONS] macro) and serve one of them.",
     "vastrack validate TAG (rules version-missing, version-unsupported, version-legacy)."},
    {200, "Trafficking error",
     "The player received an ad type it was not expecting or cannot display.",
     "A NonLinear ad sent to a linear-only placement, VPAID to a player without VPAID, a "
     "wrong adType (audio to a video slot).",
     "Match the creative type and adType to the placement; check the placement settings at "
     "the ad server.",
     "vastrack audit TAG shows ad_type and the creative kinds; validate with --profile ctv or "
     "audio for the target device."},
    {201, "Video player expecting different linearity",
     "The player expected a linear ad and got a nonlinear one, or the reverse.",
     "Overlay (NonLinear) creative trafficked into a pre-roll slot or the reverse.",
     "Traffic Linear creatives to linear breaks and NonLinear ones to overlay slots.",
     "vastrack inspect TAG shows each Creative's kind."},
    {202, "Video player expecting different duration",
     "The ad's duration does not fit the slot (too long, or not what the player expected).",
     "30 s creative in a 15 s slot; Duration empty, zero or malformed so the player cannot "
     "check it.",
     "Set Duration to the real length (HH:MM:SS.mmm) and traffic it to slots that allow it.",
     "vastrack validate TAG (rules duration-malformed, duration-zero, "
     "offset-beyond-duration)."},
    {203, "Video player expecting different size", "The creative's size does not fit the player.",
     "MediaFile or NonLinear width/height missing or far from the player size; only 4K or "
     "only tiny renditions.",
     "Offer several renditions with correct width and height attributes.",
     "vastrack validate TAG (rule media-size-missing); inspect the MediaFile list."},
    {204, "Ad category was required but not provided",
     "The publisher requires an ad Category and the ad has none.",
     "Category element missing in a 4.x InLine served to a publisher that requires it.",
     "Add <Category authority=\"...\">code</Category> to the InLine.",
     "vastrack inspect TAG --json and check categories."},
    {205, "Inline category violates wrapper BlockedAdCategories",
     "An InLine's Category is blocked by a Wrapper's BlockedAdCategories in the chain.",
     "Demand partner returned an ad from a category the publisher blocked.",
     "Honour BlockedAdCategories when selecting demand; fix category mapping.",
     "Resolve the chain (vastrack resolve) and compare categories with the blocked list."},
    {206, "Ad break shortened; ad was not served",
     "The player shortened the break (e.g. the user seeked) and skipped this ad.",
     "Normal behaviour with long pods; frequent when pods are longer than the break.",
     "Nothing to fix in the tag; reduce pod duration or count if it happens often.",
     "Observe error beacons with code 206 in the collector (vastrack report)."},
    {300, "General Wrapper error",
     "A Wrapper could not be followed for a reason not covered by 301-304.",
     "VASTAdTagURI missing, empty or not a URL; wrapper response unusable.",
     "Give every Wrapper one absolute https VASTAdTagURI in CDATA.",
     "vastrack validate TAG (rules wrapper-missing-uri, wrapper-uri-invalid)."},
    {301, "Timeout of VAST URI provided in Wrapper",
     "The VASTAdTagURI of a Wrapper did not answer in time or was unavailable (DNS, 4xx, 5xx, "
     "TLS).",
     "Slow or dead demand endpoint, http URL blocked as mixed content, wrong host.",
     "Fix or remove the endpoint; use https; keep responses under the player's per-wrapper "
     "timeout (IMA: 8 s first request, 4 s per wrapper).",
     "vastrack resolve TAG --timeout N reports each hop's time and status."},
    {302, "Wrapper limit reached",
     "Too many Wrapper responses were followed without reaching an InLine.",
     "Daisy-chained resellers; a wrapper pointing at itself; chains longer than the player "
     "allows (spec recommends at most 5; IMA allows 4 redirects).",
     "Shorten the chain: buy closer to the source; remove loops.",
     "vastrack resolve TAG (hop count against the limit)."},
    {303, "No VAST response after one or more Wrappers",
     "The chain ended in an empty response (no Ad): a no-fill. Also the code for the root "
     "Error of a no-ad response.",
     "No demand for this request; targeting mismatch; the last server returned <VAST/>.",
     "Nothing wrong with the tag itself; use fallbackOnNoAd / buffets to fill; check targeting.",
     "vastrack validate TAG reports 'no-ad' (info) for a no-ad response."},
    {304, "InLine response returned ad unit that failed to result in ad display",
     "The ad was selected but did not display within the ad display timeout.",
     "Slow media or interactive unit, creative that never starts, player stalls.",
     "Serve lighter media from a fast CDN; avoid VPAID; start playback promptly.",
     "Compare impressions and start beacons in the collector (vastrack report)."},
    {400, "General Linear error",
     "The player could not display the Linear ad for a reason not covered by 401-411.",
     "Corrupt media, unsupported codec profile, decoder failure.",
     "Re-encode as H.264 MP4 (and WebM/HLS) at common bitrates; test in the target player.",
     "Play the MediaFile URL in the target device; vastrack validate --profile ctv."},
    {401, "File not found",
     "The MediaFile URL could not be fetched (404, DNS failure, expired CDN link).",
     "Creative removed from the CDN, signed URL expired, typo in the URL.",
     "Fix the MediaFile URL; keep creatives online for the campaign's duration.",
     "curl -I the MediaFile URL; vastrack validate TAG checks URL syntax."},
    {402, "Timeout of MediaFile URI", "The MediaFile did not load in time.",
     "Slow CDN, very large files, high bitrate on slow networks.",
     "Serve several bitrates from a fast CDN; keep files small.",
     "Measure download time of each MediaFile from the target network."},
    {403, "Couldn't find MediaFile that is supported by this video player",
     "No MediaFile has a MIME type, codec or size the player can play.",
     "Only VPAID/JavaScript or Flash media; type attribute missing; only WebM on Safari; "
     "no progressive MP4 on CTV.",
     "Add a progressive video/mp4 (H.264/AAC) MediaFile with type, width, height, bitrate.",
     "vastrack validate TAG --profile ctv (rules media-mime-missing, media-mime-unknown, "
     "media-no-mp4, media-vpaid-only)."},
    {405, "Problem displaying MediaFile", "The player found a MediaFile but playback failed.",
     "Codec/profile mismatch with the declared type, corrupt file, wrong dimensions.",
     "Re-encode to a standard profile; make type and codec attributes true to the file.",
     "Play the file in the target device; ffprobe the file and compare with the attributes."},
    {406, "Mezzanine is required but not provided",
     "An SSAI or CTV platform needs the high-quality Mezzanine file to transcode and it is "
     "missing.",
     "InLine without <Mezzanine> served to a transcoding SSAI platform.",
     "Add a Mezzanine element pointing at the high-quality source file.",
     "vastrack inspect TAG --json and check the mezzanines of each Linear."},
    {407, "Mezzanine download in progress",
     "The mezzanine is being downloaded/transcoded; the ad is not ready this time (SSAI "
     "sends this).",
     "First time a creative is seen by the SSAI platform.",
     "Nothing to fix; the ad plays once transcoded. Pre-register creatives if possible.",
     "Watch for 407 error beacons on first serves in the collector."},
    {408, "Conditional ad rejected", "The player rejected an ad marked conditionalAd=\"true\".",
     "Conditional (VPAID-decision) ads served to players that do not support them.",
     "Do not mark ads conditional unless the player supports it.",
     "vastrack inspect TAG shows conditionalAd."},
    {409, "Interactive unit in the InteractiveCreativeFile node was not executed",
     "The player did not run the interactive (SIMID) file.",
     "Player without SIMID support, wrong apiFramework or type.",
     "Keep a plain MediaFile that plays without interactivity; declare apiFramework=\"SIMID\".",
     "vastrack inspect TAG lists InteractiveCreativeFile entries."},
    {410, "Verification unit in the Verification node was not executed",
     "The player did not run a verification script (OMID).",
     "Player without OMID support, script URL unreachable, vendor not allowed.",
     "Provide verificationNotExecuted tracking with [REASON]; use https script URLs.",
     "vastrack validate TAG checks Verification URLs."},
    {411, "Mezzanine provided but not to spec",
     "The Mezzanine file does not meet the platform's specification.",
     "Low resolution, wrong codec or container, audio missing.",
     "Deliver the mezzanine at the platform's specification (usually 1080p high-bitrate).",
     "ffprobe the mezzanine and compare with the platform's requirements."},
    {500, "General NonLinear ads error", "The player could not display a NonLinear (overlay) ad.",
     "Resource missing or broken, unsupported resource type.",
     "Give each NonLinear one working StaticResource/IFrameResource/HTMLResource.",
     "vastrack validate TAG (rule nonlinear-missing-resource)."},
    {501, "Unable to display NonLinear ad because creative dimensions do not align",
     "The overlay does not fit the video area.",
     "NonLinear larger than the player, wrong width/height.",
     "Provide overlay sizes that fit common players (e.g. 480x70, 728x90).",
     "Compare NonLinear width/height with the player size."},
    {502, "Unable to fetch NonLinear resource", "The NonLinear resource URL could not be loaded.",
     "Dead or http-only URL, expired link.", "Fix the resource URL; use https.",
     "curl the resource URL; vastrack validate TAG checks URL syntax."},
    {503, "Couldn't find NonLinear resource with supported type",
     "No NonLinear resource has a type the player supports.", "Only Flash or unknown creativeType.",
     "Use image/png, image/jpeg, image/gif or HTML resources.",
     "vastrack inspect TAG lists resource types."},
    {600, "General CompanionAds error", "The player could not display a companion.",
     "Companion without a resource; broken markup.",
     "Give each Companion a resource and correct width/height.",
     "vastrack validate TAG (rule companion-missing-resource)."},
    {601, "Unable to display Companion because creative dimensions do not fit",
     "No companion slot on the page matches the companion's size.",
     "Companion sizes that the publisher's page does not have.",
     "Offer standard sizes (300x250, 728x90) or match the publisher's slots.",
     "Compare Companion width/height with the page's slots."},
    {602, "Unable to display required Companion",
     "CompanionAds required=\"all\" or \"any\" could not be satisfied.",
     "Required companions without a matching slot.",
     "Only mark companions required when the publisher guarantees the slot.",
     "vastrack inspect TAG shows CompanionAds@required."},
    {603, "Unable to fetch Companion resource", "A companion resource URL could not be loaded.",
     "Dead or http-only URL.", "Fix the resource URL; use https.", "curl the resource URL."},
    {604, "Couldn't find Companion resource with supported type",
     "No companion resource has a type the page can show.",
     "Flash companions, unknown creativeType.", "Use image or HTML/iframe resources.",
     "vastrack inspect TAG lists resource types."},
    {900, "Undefined error",
     "An error the player could not classify; also the value of [ERRORCODE] when unknown.",
     "Anything; often player bugs or network errors outside the VAST flow.",
     "Collect more context (player logs, other beacons) to classify it.",
     "Look at the distribution of codes in the collector (vastrack report)."},
    {901, "General VPAID error",
     "A VPAID (JavaScript) unit failed: did not load, timed out or reported AdError.",
     "VPAID on CTV/SSAI where it cannot run, blocked scripts, slow unit.",
     "Serve a plain video MediaFile; VPAID is deprecated since VAST 4.",
     "vastrack validate TAG --profile ctv (rules media-vpaid, media-vpaid-only)."},
    {902, "General InteractiveCreativeFile error code",
     "The interactive creative file (SIMID) failed.", "Interactive unit error, unsupported API.",
     "Keep a plain MediaFile; test the SIMID unit in the target player.",
     "vastrack inspect TAG lists InteractiveCreativeFile entries."},
};

size_t vast_iab_error_count(void) {
  return sizeof iab_errors / sizeof iab_errors[0];
}

const vast_iab_error *vast_iab_error_at(size_t i) {
  return i < vast_iab_error_count() ? &iab_errors[i] : NULL;
}

const vast_iab_error *vast_iab_error_find(int code) {
  for (size_t i = 0; i < vast_iab_error_count(); i++)
    if (iab_errors[i].code == code) return &iab_errors[i];
  return NULL;
}
