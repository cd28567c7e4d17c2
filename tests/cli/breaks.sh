#!/bin/sh
# vastrack play on pods and VMAP schedules (no network): every ad of a pod in
# sequence order, buffet replacement, [PODSEQUENCE] [ADCOUNT] [BREAKPOSITION]
# value by value, break events at the break edges, event addressing, corpus VMAPs.
. tests/cli/lib.sh
M=$C/dailymotion__vmap-js/spec/samples
F=$C/flipkart-incubator__madman-android/madman/src/test/assets

cat > "$TMP/pod.xml" <<'XML'
<VAST version="4.2">
<Ad id="third" sequence="3"><InLine><AdSystem>s</AdSystem><AdTitle>t3</AdTitle>
 <Impression><![CDATA[http://t/imp3?ps=[PODSEQUENCE]&n=[ADCOUNT]&bp=[BREAKPOSITION]]]></Impression>
 <Error><![CDATA[http://t/err3?c=[ERRORCODE]]]></Error>
 <Creatives><Creative><Linear><Duration>00:00:04</Duration>
 <TrackingEvents><Tracking event="complete">http://t/c3</Tracking></TrackingEvents>
 <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://t/3.mp4</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad>
<Ad id="buffet"><InLine><AdSystem>s</AdSystem><AdTitle>tb</AdTitle>
 <Impression><![CDATA[http://t/impb?ps=[PODSEQUENCE]&n=[ADCOUNT]]]></Impression>
 <Creatives><Creative><Linear><Duration>00:00:02</Duration>
 <TrackingEvents><Tracking event="complete">http://t/cb</Tracking></TrackingEvents>
 <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://t/b.mp4</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad>
<Ad id="first" sequence="1"><InLine><AdSystem>s</AdSystem><AdTitle>t1</AdTitle>
 <Impression><![CDATA[http://t/imp1?ps=[PODSEQUENCE]&n=[ADCOUNT]]]></Impression>
 <Creatives><Creative><Linear skipoffset="00:00:01"><Duration>00:00:04</Duration>
 <TrackingEvents><Tracking event="complete">http://t/c1</Tracking><Tracking event="skip">http://t/s1</Tracking></TrackingEvents>
 <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://t/1.mp4</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad>
<Ad id="second" sequence="2"><InLine><AdSystem>s</AdSystem><AdTitle>t2</AdTitle>
 <Impression><![CDATA[http://t/imp2?ps=[PODSEQUENCE]&n=[ADCOUNT]]]></Impression>
 <Error><![CDATA[http://t/err2?c=[ERRORCODE]]]></Error>
 <Creatives><Creative><Linear><Duration>00:00:04</Duration>
 <TrackingEvents><Tracking event="complete">http://t/c2</Tracking></TrackingEvents>
 <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://t/2.mp4</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad>
</VAST>
XML
cat > "$TMP/vmap.xml" <<'XML'
<vmap:VMAP xmlns:vmap="http://www.iab.net/videosuite/vmap" version="1.0">
 <vmap:AdBreak breakType="linear" breakId="pre" timeOffset="start">
  <vmap:AdSource id="s1" allowMultipleAds="true"><vmap:VASTAdData>
   <VAST version="4.2">
    <Ad id="p2" sequence="2"><InLine><AdSystem>s</AdSystem><AdTitle>p2</AdTitle>
     <Impression><![CDATA[http://t/p2/imp?ps=[PODSEQUENCE]&n=[ADCOUNT]&bp=[BREAKPOSITION]]]></Impression>
     <Creatives><Creative><Linear><Duration>00:00:02</Duration>
     <TrackingEvents><Tracking event="complete">http://t/p2/complete</Tracking></TrackingEvents>
     <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://t/p2.mp4</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad>
    <Ad id="p1" sequence="1"><InLine><AdSystem>s</AdSystem><AdTitle>p1</AdTitle>
     <Impression><![CDATA[http://t/p1/imp?ps=[PODSEQUENCE]&n=[ADCOUNT]&bp=[BREAKPOSITION]]]></Impression>
     <Creatives><Creative><Linear><Duration>00:00:02</Duration>
     <TrackingEvents><Tracking event="complete">http://t/p1/complete</Tracking></TrackingEvents>
     <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://t/p1.mp4</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad>
   </VAST></vmap:VASTAdData></vmap:AdSource>
  <vmap:TrackingEvents>
   <vmap:Tracking event="breakStart"><![CDATA[http://t/pre/start?bp=[BREAKPOSITION]]]></vmap:Tracking>
   <vmap:Tracking event="breakEnd"><![CDATA[http://t/pre/end?bp=[BREAKPOSITION]]]></vmap:Tracking>
  </vmap:TrackingEvents>
 </vmap:AdBreak>
 <vmap:AdBreak breakType="linear" breakId="mid" timeOffset="50%">
  <vmap:AdSource id="s2"><vmap:CustomAdData templateType="x">nope</vmap:CustomAdData></vmap:AdSource>
  <vmap:TrackingEvents>
   <vmap:Tracking event="error"><![CDATA[http://t/mid/error?c=[ERRORCODE]&bp=[BREAKPOSITION]]]></vmap:Tracking>
  </vmap:TrackingEvents>
 </vmap:AdBreak>
 <vmap:AdBreak breakType="linear" breakId="post" timeOffset="end">
  <vmap:AdSource id="s3"><vmap:VASTAdData>
   <VAST version="3.0"><Ad id="q"><InLine><AdSystem>s</AdSystem><AdTitle>q</AdTitle>
     <Impression><![CDATA[http://t/q/imp?ps=[PODSEQUENCE]&n=[ADCOUNT]&bp=[BREAKPOSITION]]]></Impression>
     <Creatives><Creative><Linear skipoffset="00:00:01"><Duration>00:00:03</Duration>
     <TrackingEvents><Tracking event="skip">http://t/q/skip</Tracking></TrackingEvents>
     <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://t/q.mp4</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>
  </vmap:VASTAdData></vmap:AdSource>
  <vmap:TrackingEvents>
   <vmap:Tracking event="breakStart"><![CDATA[http://t/post/start?bp=[BREAKPOSITION]]]></vmap:Tracking>
   <vmap:Tracking event="breakEnd"><![CDATA[http://t/post/end?bp=[BREAKPOSITION]]]></vmap:Tracking>
  </vmap:TrackingEvents>
 </vmap:AdBreak>
</vmap:VMAP>
XML

# --- pods ---------------------------------------------------------------
expect_rc "pod plays" 0 "$VASTRACK" play --seed 1 --events '1/skip@2,2/error@0:405' "$TMP/pod.xml"
expect_grep "pod header" '^# pod: 3 ads in sequence order, 1 buffet ad$' "$TMP/out"
grep '^# ad ' "$TMP/out" | sed 's/^# ad \([a-z]*\).*/\1/' | tr '\n' ' ' > "$TMP/order"
expect_grep "sequence order, buffet in the failed slot" '^first second buffet third $' "$TMP/order"
expect_grep "ad 1: PODSEQUENCE 1 ADCOUNT 1" '^0\.00 0\.00 impression http://t/imp1\?ps=1&n=1$' "$TMP/out"
expect_grep "ad 1 skipped at its own 2 s" '^2\.00 2\.00 skip http://t/s1$' "$TMP/out"
expect_grep "ad 2 fails before it is shown" '^2\.00 - error http://t/err2\?c=405$' "$TMP/out"
expect_grep "buffet ad announced" '^# pod ad 2 of 3, sequence 2, a buffet ad replacing the failed one$' "$TMP/out"
expect_grep "buffet ad: slot's PODSEQUENCE, ADCOUNT 2" '^2\.00 0\.00 impression http://t/impb\?ps=2&n=2$' "$TMP/out"
expect_grep "ad 3: ADCOUNT 3, BREAKPOSITION unknown" '^4\.00 0\.00 impression http://t/imp3\?ps=3&n=3&bp=-1$' "$TMP/out"
expect_grep "ad 3 completes on the session clock" '^8\.00 4\.00 complete http://t/c3$' "$TMP/out"
n=$(grep -c ' impression ' "$TMP/out")
[ "$n" = 3 ] && ok "three impressions (the failed ad has none)" || nok "three impressions" "got $n"

expect_rc "caller ADCOUNT wins" 0 "$VASTRACK" play --seed 1 --macro ADCOUNT=7 "$TMP/pod.xml"
expect_grep "ADCOUNT from --macro" 'imp1\?ps=1&n=7$' "$TMP/out"
expect_rc "no buffet left" 0 "$VASTRACK" play --events '2/error@0,3/error@0' "$TMP/pod.xml"
expect_grep "no buffet ad left said" '^# no buffet ad left to replace pod ad 3$' "$TMP/out"
expect_rc "events for a missing ad are reported" 0 "$VASTRACK" play --events '9/mute@1' "$TMP/pod.xml"
expect_grep "missing ad named" 'events for ad 9 ignored: the response has 3 ads' "$TMP/err"
expect_rc "BREAK.AD outside a VMAP refused" 2 "$VASTRACK" play --events '1.1/mute@1' "$TMP/pod.xml"
expect_rc "--content-duration refused for VAST" 2 "$VASTRACK" play --content-duration 5 "$TMP/pod.xml"
expect_rc "bad address" 2 "$VASTRACK" play --events '0/mute@1' "$TMP/pod.xml"

# --json keeps one record per line for a pod
expect_rc "pod --json" 0 "$VASTRACK" play --json --seed 1 "$TMP/pod.xml"
n=$(grep -c '"event":"impression"' "$TMP/out")
[ "$n" = 3 ] && ok "pod --json: three impressions" || nok "pod --json: three impressions" "got $n"

# --- VMAP ---------------------------------------------------------------
expect_rc "vmap plays (a CustomAdData break is a finding)" 1 "$VASTRACK" play --seed 1 --content-duration 60 --events 3.1/skip@2 "$TMP/vmap.xml"
expect_grep "vmap header" '^# vmap: 3 breaks, content given$' "$TMP/out"
expect_grep "preroll break line" '^# break 1 of 3: preroll at content 0\.000 s \(session 0\.000 s\), timeOffset start, breakId pre, breakType linear, source VASTAdData$' "$TMP/out"
expect_grep "preroll breakStart first, BREAKPOSITION 1" '^0\.00 - breakStart http://t/pre/start\?bp=1$' "$TMP/out"
expect_grep "preroll pod ad 1" '^0\.00 0\.00 impression http://t/p1/imp\?ps=1&n=1&bp=1$' "$TMP/out"
expect_grep "preroll pod ad 2 (content time: still 0)" '^0\.00 0\.00 impression http://t/p2/imp\?ps=2&n=2&bp=1$' "$TMP/out"
expect_grep "preroll breakEnd after the last ad" '^0\.00 - breakEnd http://t/pre/end\?bp=1$' "$TMP/out"
expect_grep "midroll at 50% of 60 s" '^# break 2 of 3: midroll at content 30\.000 s \(session 34\.000 s\)' "$TMP/out"
expect_grep "CustomAdData: break error 1005 at content 30 s, BREAKPOSITION 2" '^30\.00 - error http://t/mid/error\?c=1005&bp=2$' "$TMP/out"
expect_grep "CustomAdData said unsupported" 'break 2: CustomAdData is not supported' "$TMP/err"
expect_grep "postroll at the end" '^# break 3 of 3: postroll at content 60\.000 s \(session 64\.000 s\)' "$TMP/out"
expect_grep "postroll BREAKPOSITION 3, no pod" '^60\.00 0\.00 impression http://t/q/imp\?ps=-1&n=1&bp=3$' "$TMP/out"
expect_grep "postroll ad skipped by address" '^60\.00 2\.00 skip http://t/q/skip$' "$TMP/out"
expect_grep "postroll breakEnd" '^60\.00 - breakEnd http://t/post/end\?bp=3$' "$TMP/out"
a=$(grep -n 'breakStart http://t/post' "$TMP/out" | cut -d: -f1); b=$(grep -n 'q/imp' "$TMP/out" | cut -d: -f1)
[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] && ok "breakStart before the break's first impression" || nok "breakStart before the break's first impression" "$a $b"

expect_rc "vmap events need an address" 2 "$VASTRACK" play --content-duration 60 --events skip@2 "$TMP/vmap.xml"
expect_grep "address syntax explained" 'BREAK\.AD/NAME@T' "$TMP/err"
expect_rc "vmap without duration" 1 "$VASTRACK" play "$TMP/vmap.xml"
expect_grep "50% unplaced without duration" 'break 3 \(mid, timeOffset 50%\) not played: a percent offset needs the content duration' "$TMP/err"

# --- #n cue points and repeatAfter -----------------------------------------
cat > "$TMP/rep.xml" <<'XML'
<vmap:VMAP xmlns:vmap="http://www.iab.net/videosuite/vmap" version="1.0">
 <vmap:AdBreak breakType="linear" breakId="every" timeOffset="00:00:10" repeatAfter="00:00:20">
  <vmap:AdSource id="r"><vmap:VASTAdData><VAST version="4.2"><Ad id="r1"><InLine><AdSystem>s</AdSystem><AdTitle>r</AdTitle>
   <Impression><![CDATA[http://t/r/imp?bp=[BREAKPOSITION]&n=[ADCOUNT]&mph=[MEDIAPLAYHEAD]&st=[PLAYERSTATE]]]></Impression>
   <Creatives><Creative><Linear><Duration>00:00:02</Duration>
   <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://t/r.mp4</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>
  </vmap:VASTAdData></vmap:AdSource>
  <vmap:TrackingEvents><vmap:Tracking event="breakStart"><![CDATA[http://t/r/start?bp=[BREAKPOSITION]]]></vmap:Tracking></vmap:TrackingEvents>
 </vmap:AdBreak>
 <vmap:AdBreak breakType="linear" breakId="cue2" timeOffset="#2">
  <vmap:AdSource id="c"><vmap:VASTAdData><VAST version="4.2"><Ad id="c1"><InLine><AdSystem>s</AdSystem><AdTitle>c</AdTitle>
   <Impression><![CDATA[http://t/c/imp?bp=[BREAKPOSITION]]]></Impression>
   <Creatives><Creative><Linear><Duration>00:00:01</Duration>
   <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://t/c.mp4</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>
  </vmap:VASTAdData></vmap:AdSource>
 </vmap:AdBreak>
</vmap:VMAP>
XML
expect_rc "repeatAfter and #n play" 0 "$VASTRACK" play --content-duration 60 --cue-points 5,35 "$TMP/rep.xml"
expect_grep "four breaks: 10, 30, 35 (#2), 50" '^# vmap: 4 breaks, content given$' "$TMP/out"
expect_grep "the break itself at 10 s" '^# break 1 of 4: midroll at content 10\.000 s .*timeOffset 00:00:10, breakId every' "$TMP/out"
expect_grep "repeat 1 at 30 s" '^# break 2 of 4: midroll at content 30\.000 s .*timeOffset 00:00:10, repeat 1 \(repeatAfter 00:00:20\), breakId every' "$TMP/out"
expect_grep "#2 at the second cue point" '^# break 3 of 4: midroll at content 35\.000 s .*timeOffset #2, breakId cue2' "$TMP/out"
expect_grep "repeat 2 at 50 s (70 is past the end)" '^# break 4 of 4: midroll at content 50\.000 s .*repeat 2 ' "$TMP/out"
n=$(grep -c 'breakStart http://t/r/start?bp=2$' "$TMP/out")
[ "$n" = 3 ] && ok "each repetition fires its breakStart, BREAKPOSITION 2" || nok "three breakStarts" "got $n"
n=$(grep -c 'impression http://t/r/imp?bp=2&n=1&' "$TMP/out")
[ "$n" = 3 ] && ok "each repetition plays its ad, ADCOUNT 1 again" || nok "three repeated impressions" "got $n"
expect_grep "MEDIAPLAYHEAD: the content's playhead at the break" '^30\.00 0\.00 impression http://t/r/imp\?bp=2&n=1&mph=00%3A00%3A30\.000&st=$' "$TMP/out"

# --events in a VMAP: without an address, content times changing the player's state
expect_rc "content-time mute" 0 "$VASTRACK" play --content-duration 60 --cue-points 5,35 --events 'mute@20,fullscreen@40,4.1/unmute@1' "$TMP/rep.xml"
expect_grep "mute at content 20 said" '^# content 20\.000 s: mute \(the player.s state for the ads that follow\)$' "$TMP/out"
expect_grep "break 1 (10 s) before the mute" '^10\.00 0\.00 impression http://t/r/imp\?bp=2&n=1&mph=00%3A00%3A10\.000&st=$' "$TMP/out"
expect_grep "break 2 (30 s) starts muted, no mute beacon" '^30\.00 0\.00 impression http://t/r/imp\?bp=2&n=1&mph=00%3A00%3A30\.000&st=muted$' "$TMP/out"
expect_grep "break 4 (50 s) muted and fullscreen" '^50\.00 0\.00 impression http://t/r/imp\?bp=2&n=1&mph=00%3A00%3A50\.000&st=muted,fullscreen$' "$TMP/out"
expect_grep "an ad-relative unmute in break 4 (at content 50, ad time 1)" '^50\.00 1\.00 unmute \(no tracking URL\)$' "$TMP/out"
n=$(grep -Ec '^[0-9.]+ [0-9.-]+ mute ' "$TMP/out")
[ "$n" = 0 ] && ok "a content-time mute fires no mute beacon" || nok "no mute beacon" "got $n"
expect_rc "content-time skip refused" 2 "$VASTRACK" play --content-duration 60 --events 'skip@20' "$TMP/rep.xml"
expect_grep "content-time events explained" 'can only change the player.s state' "$TMP/err"
expect_rc "#n without cue points is a finding" 1 "$VASTRACK" play --content-duration 60 "$TMP/rep.xml"
expect_grep "#n unplaced, the option named" 'break 4 \(cue2, timeOffset #2\) not played: a #n offset names a cue point of the content, and no cue points are known \(--cue-points' "$TMP/err"
expect_rc "repeatAfter without the duration plays once" 1 "$VASTRACK" play "$TMP/rep.xml"
expect_grep "repeatAfter needs the duration, said" 'break 1 \(every, repeatAfter 00:00:20\): repeatAfter needs the content duration: the break plays once' "$TMP/err"
expect_rc "cue points must ascend" 2 "$VASTRACK" play --cue-points 9,3 "$TMP/rep.xml"
expect_rc "cue points are for a VMAP" 2 "$VASTRACK" play --cue-points 3 "$TMP/pod.xml"
if [ -f "$F/vmap_with_preroll.xml" ]; then
  "$VASTRACK" play --content-duration 120 --cue-points 42 "$F/vmap_with_preroll.xml" > "$TMP/out" 2> "$TMP/err" # AdTagURIs on the Internet: any outcome
  expect_grep "madman: #1 at the first cue point" '^# break [0-9] of 5: midroll at content 42\.000 s .*timeOffset #1, breakId midrolls2' "$TMP/out"
fi

# corpus VMAPs: an empty inline VAST is no ad; an unreachable AdTagURI is a break error
expect_rc "corpus vmap" 1 "$VASTRACK" play --content-duration 60 "$M/correct-vmap.xml"
expect_grep "corpus: empty preroll has no ad" '^# break 1: no ad to play$' "$TMP/out"
expect_grep "corpus: 00:10:23.125 past a 60 s content is a postroll" 'postroll at content 60\.000 s.*breakId myid' "$TMP/out"
expect_grep "corpus: AdTagURI refused (private guard or DNS) reported" 'play: break [23]: ' "$TMP/err"
if [ -f "$F/vmap.xml" ]; then
  "$VASTRACK" play --content-duration 120 "$F/vmap.xml" > "$TMP/out" 2> "$TMP/err" # AdTagURIs on the Internet: any outcome
  expect_grep "madman: breaks listed" '^# vmap: 4 breaks, content given$' "$TMP/out"
  expect_grep "madman: 70% of 120 s" '^# break 2 of 4: midroll at content 84\.000 s' "$TMP/out"
fi
finish
