#!/bin/sh
# vastrack play --dry-run: beacons of a simulated playback, from corpus tags and
# a tag written here with every event, skipoffset and macros.
. tests/cli/lib.sh
S=$C/dailymotion__vast-client-js/spec/samples

cat > "$TMP/ad.xml" <<'XML'
<VAST version="4.2"><Ad id="a1"><InLine>
 <AdSystem>t</AdSystem><AdTitle>t</AdTitle><AdServingId>srv-9</AdServingId>
 <Impression><![CDATA[http://t/imp?cb=[CACHEBUSTING]&ts=[TIMESTAMP]&ip=[DEVICEIP]]]></Impression>
 <Error><![CDATA[http://t/err?c=[ERRORCODE]&ph=[ADPLAYHEAD]]]></Error>
 <Creatives><Creative><Linear skipoffset="00:00:05">
  <Duration>00:00:20</Duration>
  <TrackingEvents>
   <Tracking event="start">http://t/start</Tracking>
   <Tracking event="firstQuartile"><![CDATA[http://t/q1?ph=[ADPLAYHEAD]]]></Tracking>
   <Tracking event="midpoint">http://t/q2</Tracking>
   <Tracking event="thirdQuartile">http://t/q3</Tracking>
   <Tracking event="complete">http://t/complete</Tracking>
   <Tracking event="skip">http://t/skip</Tracking>
   <Tracking event="mute">http://t/mute</Tracking>
   <Tracking event="unmute">http://t/unmute</Tracking>
   <Tracking event="pause">http://t/pause</Tracking>
   <Tracking event="resume">http://t/resume</Tracking>
   <Tracking event="rewind">http://t/rewind</Tracking>
   <Tracking event="creativeView">http://t/cv</Tracking>
   <Tracking event="progress" offset="00:00:03">http://t/p3</Tracking>
   <Tracking event="progress" offset="90%">http://t/p90</Tracking>
  </TrackingEvents>
  <VideoClicks><ClickThrough><![CDATA[http://t/land?s=[ADSERVINGID]]]></ClickThrough>
   <ClickTracking>http://t/click</ClickTracking></VideoClicks>
  <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://t/a.mp4</MediaFile></MediaFiles>
 </Linear></Creative></Creatives>
</InLine></Ad></VAST>
XML

expect_rc help 0 "$VASTRACK" play --help
expect_grep help_fire '--fire +send the beacons' "$TMP/out"
expect_grep help_fast '--fast +with --fire: compress time' "$TMP/out"
expect_grep help_dry_run_default "^unless --fire is given" "$TMP/out"
expect_rc no_input 2 "$VASTRACK" play
# Printing is the default: nothing is requested without --fire (host "t" would not
# resolve: a request would fail and exit 1), --dry-run is a no-op alias.
expect_rc dry_by_default 0 "$VASTRACK" play --timeout 1000 "$TMP/ad.xml"
expect_grep dry_by_default_header '^# ad a1 "t", chain depth 1 \(0 wrappers\), creative 0 \(linear, 20\.000 s\), [0-9]+ beacon URLs; dry run: nothing sent \(--fire sends\)$' "$TMP/out"
expect_grep dry_by_default_line '^0\.00 0\.00 impression http://t/imp' "$TMP/out"
cp "$TMP/out" "$TMP/default.out"
expect_rc dry_run_alias 0 "$VASTRACK" play --dry-run --timeout 1000 "$TMP/ad.xml"
if diff "$TMP/default.out" "$TMP/out" | grep -v 'ts=\|cb=' | grep -q '^[<>]'; then
  nok dry_run_alias_same_output; else ok dry_run_alias_same_output; fi
expect_rc fire_and_dry_run 2 "$VASTRACK" play --fire --dry-run "$TMP/ad.xml"
expect_rc fast_needs_fire 2 "$VASTRACK" play --fast "$TMP/ad.xml"
# --fire sends: host "t" does not resolve, so every delivery fails (nothing leaves the
# machine) and play reports each in order, with exit 1.
expect_rc fires_with_fire 1 "$VASTRACK" play --fire --fast --timeout 1000 --watch 1 "$TMP/ad.xml"
expect_grep fires_with_fire_header 'firing, time compressed \(--fast\)$' "$TMP/out"
expect_grep fires_with_fire_message '^0\.00 0\.00 impression error \(.*\) http://t/imp' "$TMP/out"
expect_rc bad_option 2 "$VASTRACK" play --frobnicate "$TMP/ad.xml"
expect_rc unknown_event 2 "$VASTRACK" play --events 'bogus@3' "$TMP/ad.xml"
expect_rc earned_event 2 "$VASTRACK" play --events 'midpoint@3' "$TMP/ad.xml"
expect_grep earned_event_message "event 'midpoint' cannot be injected: earned by 50% played continuously" "$TMP/err"
expect_rc bad_event_time 2 "$VASTRACK" play --events 'mute@x' "$TMP/ad.xml"
expect_rc missing_file 4 "$VASTRACK" play "$TMP/nope.xml"
expect_grep missing_file_message "cannot open '.*nope.xml'" "$TMP/err"
printf 'not xml' > "$TMP/bad.xml"
expect_rc not_vast 3 "$VASTRACK" play "$TMP/bad.xml"

# a full play of the corpus inline tag: quartiles of a 16 s ad; events the tag does
# not track still show
expect_rc inline_linear 0 "$VASTRACK" play "$S/inline-linear.xml"
cp "$TMP/out" "$TMP/inline.out"
expect_grep inline_header '^# ad 20001 "iabtechlab video ad", chain depth 1 \(0 wrappers\), creative 0 id 5480 \(linear, 16\.000 s\)' "$TMP/inline.out"
expect_grep inline_q1_at_4 '^4.00 4.00 firstQuartile http://example.com/tracking/firstQuartile$' "$TMP/inline.out"
expect_grep inline_mid_at_8 '^8.00 8.00 midpoint ' "$TMP/inline.out"
expect_grep inline_q3_at_12 '^12.00 12.00 thirdQuartile ' "$TMP/inline.out"
expect_grep inline_complete_at_16 '^16.00 16.00 complete ' "$TMP/inline.out"
expect_grep inline_untracked_creative_view '^0.00 0.00 creativeView \(no tracking URL\)$' "$TMP/inline.out"
[ "$(grep -vc '(no tracking URL)\|^#' "$TMP/inline.out")" -eq 6 ] && ok inline_six_beacons || nok inline_six_beacons "$(cat "$TMP/inline.out")"

# the hand-written tag: macros, once-only, toggles, progress; session and media time
expect_rc full 0 "$VASTRACK" play --seed 7 --macro DEVICEIP=10.1.2.3 \
  --events 'mute@2,mute@3,unmute@4,pause@6,pause@6.5,resume@8,click@9' "$TMP/ad.xml"
cp "$TMP/out" "$TMP/full.out"
expect_grep imp_macros '^0.00 0.00 impression http://t/imp\?cb=[0-9]{8}&ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}%3A[0-9]{2}%3A[0-9]{2}\.[0-9]{3}%2B00%3A00&ip=10.1.2.3$' "$TMP/full.out"
expect_grep creative_view_with_impression '^0.00 0.00 creativeView http://t/cv$' "$TMP/full.out"
[ "$(grep -c ' mute ' "$TMP/full.out")" -eq 1 ] && ok mute_once || nok mute_once "$(cat "$TMP/full.out")"
[ "$(grep -c ' pause ' "$TMP/full.out")" -eq 1 ] && ok pause_once || nok pause_once
expect_grep q1_playhead '^5.00 5.00 firstQuartile http://t/q1\?ph=00%3A00%3A05.000$' "$TMP/full.out"
expect_grep progress_3s '^3.00 3.00 progress http://t/p3$' "$TMP/full.out"
expect_grep progress_90pct '^20.00 18.00 progress http://t/p90$' "$TMP/full.out"
expect_grep click_tracking '^9.00 7.00 click http://t/click$|^9.00 7.00 clickTracking http://t/click$' "$TMP/full.out"
expect_grep click_through '^9.00 7.00 clickThrough http://t/land\?s=srv-9$' "$TMP/full.out"
expect_grep complete_after_pause '^22.00 20.00 complete http://t/complete$' "$TMP/full.out"
if grep -Eq '\[(TIMESTAMP|CACHEBUSTING|ERRORCODE|ADPLAYHEAD|DEVICEIP|ADSERVINGID)\]' "$TMP/full.out"; then
  nok no_macro_left "$(cat "$TMP/full.out")"; else ok no_macro_left; fi
"$VASTRACK" play --seed 7 --macro DEVICEIP=10.1.2.3 \
  --events 'mute@2,mute@3,unmute@4,pause@6,pause@6.5,resume@8,click@9' "$TMP/ad.xml" > "$TMP/full2.out" 2>&1
if diff "$TMP/full.out" "$TMP/full2.out" | grep -v 'ts=' | grep -q '^[<>]'; then
  nok seed_reproducible; else ok seed_reproducible; fi
# records come in firing order: session times never go back
awk '!/^#/ { if ($1 + 0 < last) bad = 1; last = $1 + 0 } END { exit bad }' "$TMP/full.out" &&
  ok firing_order || nok firing_order

# skip only once skippable, nothing of the playback after it
expect_rc skip 0 "$VASTRACK" play --events 'skip@3,skip@6' "$TMP/ad.xml"
expect_grep skip_refused_early 'skip at 3.00 s ignored' "$TMP/err"
expect_grep skip_at_6 '^6.00 6.00 skip http://t/skip$' "$TMP/out"
awk '!/^#/ && $1 > 6' "$TMP/out" > "$TMP/after"
[ ! -s "$TMP/after" ] && ok nothing_after_skip || nok nothing_after_skip "$(cat "$TMP/after")"

# error to the Error URL with its code; terminal
expect_rc error 0 "$VASTRACK" play --events 'error@4:405' "$TMP/ad.xml"
expect_grep error_code '^4.00 4.00 error http://t/err\?c=405&ph=00%3A00%3A04.000$' "$TMP/out"
[ "$(grep -v '^#' "$TMP/out" | tail -n 1 | cut -d' ' -f3)" = error ] && ok error_is_last || nok error_is_last
# an error before the impression (403: no supported media): no impression, playhead unknown
expect_rc error_before_impression 0 "$VASTRACK" play --events 'error@0:403' "$TMP/ad.xml"
expect_grep error_403 '^0.00 - error http://t/err\?c=403&ph=-1$' "$TMP/out"
if grep -q ' impression \| start ' "$TMP/out"; then nok no_impression_after_403; else ok no_impression_after_403; fi
# notUsed at 0: before the impression, and nothing else
expect_rc not_used 0 "$VASTRACK" play --events 'notUsed@0' "$TMP/ad.xml"
[ "$(grep -vc '^#' "$TMP/out")" -eq 1 ] && grep -q '^0.00 - notUsed (no tracking URL)$' "$TMP/out" &&
  ok not_used_alone || nok not_used_alone "$(cat "$TMP/out")"

# seeking forward earns nothing; rewind fires rewind; the replay earns nothing new
expect_rc seek 0 "$VASTRACK" play --watch 12 --events 'seek@1:9,seek@2:1' "$TMP/ad.xml"
expect_grep rewind_fired '^2.00 1.00 rewind http://t/rewind$' "$TMP/out"
if grep -q ' complete ' "$TMP/out"; then nok watch_stops_before_end; else ok watch_stops_before_end; fi
# issue 11: seek@6:0 fired midpoint at playhead 4 (6 + 4 s summed)
expect_rc rewind_replay 0 "$VASTRACK" play --events 'seek@6:0' "$TMP/ad.xml"
expect_grep rewind_replay_midpoint_at_10 '^16.00 10.00 midpoint http://t/q2$' "$TMP/out"
[ "$(grep -c ' midpoint ' "$TMP/out")" -eq 1 ] && ok rewind_replay_midpoint_once || nok rewind_replay_midpoint_once
expect_rc rewind_name 0 "$VASTRACK" play --events 'rewind@6' "$TMP/ad.xml"
expect_grep rewind_name_fires '^6.00 0.00 rewind http://t/rewind$' "$TMP/out"
# pause, seek forward, resume: not bridged (the old engine fired firstQuartile at 14)
expect_rc pause_seek_resume 0 "$VASTRACK" play --events 'pause@2,seek@3:8,resume@4' "$TMP/ad.xml"
if grep -q 'firstQuartile\|midpoint\|complete' "$TMP/out"; then nok pause_seek_resume_not_bridged "$(cat "$TMP/out")"
else ok pause_seek_resume_not_bridged; fi
# after complete: end card click and closeLinear (close on this tag), playback refused
expect_rc after_end 0 "$VASTRACK" play --events 'click@21,pause@22,closeLinear@23' "$TMP/ad.xml"
expect_grep after_end_click '^21.00 20.00 clickThrough http://t/land' "$TMP/out"
expect_grep after_end_close '^23.00 20.00 closeLinear \(no tracking URL\)$' "$TMP/out"
expect_grep after_end_pause_refused 'pause at 22.00 s ignored' "$TMP/err"

# playback rate: at 2x nothing past the start is earned (the old engine fired every
# quartile and complete), and the last line says how much was thrown away
expect_rc rate_2x 0 "$VASTRACK" play --rate 2 "$TMP/ad.xml"
if grep -q 'firstQuartile\|midpoint\|thirdQuartile\|complete\|p90' "$TMP/out"; then nok rate_2x_earns_nothing "$(cat "$TMP/out")"
else ok rate_2x_earns_nothing; fi
expect_grep rate_2x_footer '^# played continuously from 0: 0\.50 s; played in all: 0\.50 s; thrown away: 19\.50 s \(faster than real time, or a jump\)$' "$TMP/out"
expect_rc rate_1x_footer 0 "$VASTRACK" play "$TMP/ad.xml"
expect_grep rate_1x_footer_line '^# played continuously from 0: 20\.00 s; played in all: 20\.00 s; thrown away: 0\.00 s$' "$TMP/out"
expect_rc bad_rate 2 "$VASTRACK" play --rate 0 "$TMP/ad.xml"
# --ssai: trusted positions, SERVERSIDE=1, a dry run unless --fire
expect_rc ssai_dry 0 "$VASTRACK" play --ssai --device-ip 198.51.100.9 --device-ua 'TV/1.0' --watch 6 "$TMP/ad.xml"
expect_grep ssai_dry_q1 '^5.00 5.00 firstQuartile ' "$TMP/out"

# JSON lines: one shape, dry or fired (camelCase)
expect_rc json 0 "$VASTRACK" play --json --watch 6 "$TMP/ad.xml"
if grep -vEq '^\{"t":[0-9]+\.[0-9]{3},"media":([0-9]+\.[0-9]{3}|null),"event":"[A-Za-z]+","url":("[^"]*"|null),"level":([0-9]+|null),"beacon":(true|false),"sent":false,"status":null,"latencyMs":null,"error":null\}$' "$TMP/out"; then
  nok json_lines "$(head -3 "$TMP/out")"; else ok json_lines; fi
expect_grep json_header_on_stderr '^# ad a1' "$TMP/err"
expect_grep json_q1 '"event":"firstQuartile","url":"http://t/q1\?ph=00%3A00%3A05.000","level":0,"beacon":true' "$TMP/out"
expect_grep json_untracked '"event":"loaded","url":null,"level":null,"beacon":false' "$TMP/out"
expect_rc json_fired 1 "$VASTRACK" play --json --fire --fast --timeout 1000 --watch 1 --log "$TMP/log.jsonl" "$TMP/ad.xml"
if grep -vEq '^\{"t":[0-9]+\.[0-9]{3},"media":([0-9]+\.[0-9]{3}|null),"event":"[A-Za-z]+","url":("[^"]*"|null),"level":([0-9]+|null),"beacon":(true|false),"sent":(true|false),"status":([0-9]+|null),"latencyMs":([0-9.]+|null),"error":("[^"]*"|null)\}$' "$TMP/out"; then
  nok json_fired_same_shape "$(head -3 "$TMP/out")"; else ok json_fired_same_shape; fi
expect_grep json_fired_error '"event":"impression","url":"http://t/imp[^"]*","level":0,"beacon":true,"sent":false,"status":null,"latencyMs":null,"error":"' "$TMP/out"
grep '"beacon":true' "$TMP/out" > "$TMP/beacons.jsonl"
cmp -s "$TMP/beacons.jsonl" "$TMP/log.jsonl" && ok log_is_the_beacon_records || nok log_is_the_beacon_records

# a wrapper chain of local files: impressions of every level; the VPAID warning
expect_rc wrapper_chain 0 "$VASTRACK" play --watch 1 "$S/wrapper-a.xml"
expect_grep wrapper_header '^# ad ad_id_0002 "Ad title 2", chain depth 3 \(2 wrappers\)' "$TMP/out"
expect_grep wrapper_a_impression '^0.00 0.00 impression http://example.com/wrapperA-impression$' "$TMP/out"
expect_grep wrapper_b_impression '^0.00 0.00 impression http://example.com/wrapperB-impression2$' "$TMP/out"
expect_grep vpaid_warning 'warning: the only media of creative 0 is VPAID' "$TMP/err"
# a VAST 3 tag's OMID verification in <Extension type="AdVerifications">: its
# verificationNotExecuted beacon fires like the VAST 4 element's
cat > "$TMP/v3omid.xml" <<'XML'
<VAST version="3.0"><Ad id="v3"><InLine><AdSystem>s</AdSystem><AdTitle>t</AdTitle>
 <Impression>http://t/imp</Impression>
 <Creatives><Creative><Linear><Duration>00:00:10</Duration><MediaFiles>
  <MediaFile delivery="progressive" type="video/mp4" width="640" height="360">http://t/a.mp4</MediaFile>
 </MediaFiles></Linear></Creative></Creatives>
 <Extensions><Extension type="AdVerifications"><AdVerifications>
  <Verification vendor="iabtechlab.com-omid">
   <JavaScriptResource apiFramework="omid" browserOptional="true">https://v.example/omid.js</JavaScriptResource>
   <TrackingEvents><Tracking event="verificationNotExecuted"><![CDATA[http://t/vne?r=[REASON]]]></Tracking></TrackingEvents>
  </Verification></AdVerifications></Extension></Extensions>
</InLine></Ad></VAST>
XML
expect_rc vast3_omid 0 "$VASTRACK" play --events verificationNotExecuted@1:2 "$TMP/v3omid.xml"
expect_grep vast3_omid_beacon '^1\.00 1\.00 verificationNotExecuted http://t/vne\?r=2$' "$TMP/out"
finish
