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
expect_grep help_mentions_dry_run 'dry-run' "$TMP/out"
expect_rc no_input 2 "$VASTRACK" play --dry-run
# Without --dry-run beacons are requested for real; host "t" does not resolve, so every
# delivery fails (nothing leaves the machine) and play reports it with exit 1.
expect_rc fires_without_dry_run 1 "$VASTRACK" play --timeout 1000 "$TMP/ad.xml"
expect_grep fires_without_dry_run_message 'impression error' "$TMP/out"
expect_rc bad_option 2 "$VASTRACK" play --dry-run --frobnicate "$TMP/ad.xml"
expect_rc unknown_event 2 "$VASTRACK" play --dry-run --events 'bogus@3' "$TMP/ad.xml"
expect_rc bad_event_time 2 "$VASTRACK" play --dry-run --events 'mute@x' "$TMP/ad.xml"
expect_rc missing_file 4 "$VASTRACK" play --dry-run "$TMP/nope.xml"
expect_grep missing_file_message "cannot open '.*nope.xml'" "$TMP/err"
printf 'not xml' > "$TMP/bad.xml"
expect_rc not_vast 3 "$VASTRACK" play --dry-run "$TMP/bad.xml"

# a full play of the corpus inline tag: quartiles of a 16 s ad
expect_rc inline_linear 0 "$VASTRACK" play --dry-run "$S/inline-linear.xml"
cp "$TMP/out" "$TMP/inline.out"
expect_grep inline_q1_at_4 '^4.00 firstQuartile http://example.com/tracking/firstQuartile$' "$TMP/inline.out"
expect_grep inline_mid_at_8 '^8.00 midpoint ' "$TMP/inline.out"
expect_grep inline_q3_at_12 '^12.00 thirdQuartile ' "$TMP/inline.out"
expect_grep inline_complete_at_16 '^16.00 complete ' "$TMP/inline.out"
[ "$(wc -l < "$TMP/inline.out")" -eq 6 ] && ok inline_six_beacons || nok inline_six_beacons "$(cat "$TMP/inline.out")"

# the hand-written tag: macros, once-only, toggles, progress
expect_rc full 0 "$VASTRACK" play --dry-run --seed 7 --macro DEVICEIP=10.1.2.3 \
  --events 'mute@2,mute@3,unmute@4,pause@6,pause@6.5,resume@8,click@9' "$TMP/ad.xml"
cp "$TMP/out" "$TMP/full.out"
expect_grep imp_macros '^0.00 impression http://t/imp\?cb=[0-9]{8}&ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}%3A[0-9]{2}%3A[0-9]{2}\.[0-9]{3}%2B00%3A00&ip=10.1.2.3$' "$TMP/full.out"
expect_grep creative_view_with_impression '^0.00 creativeView http://t/cv$' "$TMP/full.out"
[ "$(grep -c ' mute ' "$TMP/full.out")" -eq 1 ] && ok mute_once || nok mute_once "$(cat "$TMP/full.out")"
[ "$(grep -c ' pause ' "$TMP/full.out")" -eq 1 ] && ok pause_once || nok pause_once
expect_grep q1_playhead '^5.00 firstQuartile http://t/q1\?ph=00%3A00%3A05.000$' "$TMP/full.out"
expect_grep progress_3s '^3.00 progress http://t/p3$' "$TMP/full.out"
expect_grep progress_90pct '^20.00 progress http://t/p90$' "$TMP/full.out"
expect_grep click_through '^9.00 clickThrough http://t/land\?s=srv-9$' "$TMP/full.out"
expect_grep complete_after_pause '^22.00 complete http://t/complete$' "$TMP/full.out"
if grep -Eq '\[(TIMESTAMP|CACHEBUSTING|ERRORCODE|ADPLAYHEAD|DEVICEIP|ADSERVINGID)\]' "$TMP/full.out"; then
  nok no_macro_left "$(cat "$TMP/full.out")"; else ok no_macro_left; fi
"$VASTRACK" play --dry-run --seed 7 --macro DEVICEIP=10.1.2.3 \
  --events 'mute@2,mute@3,unmute@4,pause@6,pause@6.5,resume@8,click@9' "$TMP/ad.xml" > "$TMP/full2.out" 2>&1
if diff "$TMP/full.out" "$TMP/full2.out" | grep -v 'ts=' | grep -q '^[<>]'; then
  nok seed_reproducible; else ok seed_reproducible; fi

# skip only once skippable, nothing after it
expect_rc skip 0 "$VASTRACK" play --dry-run --events 'skip@3,skip@6' "$TMP/ad.xml"
expect_grep skip_refused_early 'skip at 3.00 s ignored' "$TMP/err"
expect_grep skip_at_6 '^6.00 skip http://t/skip$' "$TMP/out"
awk '$1 > 6' "$TMP/out" > "$TMP/after"
[ ! -s "$TMP/after" ] && ok nothing_after_skip || nok nothing_after_skip "$(cat "$TMP/after")"

# error to the Error URL with its code; terminal
expect_rc error 0 "$VASTRACK" play --dry-run --events 'error@4:405' "$TMP/ad.xml"
expect_grep error_code '^4.00 error http://t/err\?c=405&ph=00%3A00%3A04.000$' "$TMP/out"
[ "$(tail -n 1 "$TMP/out" | cut -d' ' -f2)" = error ] && ok error_is_last || nok error_is_last

# seeking forward earns nothing; rewind fires rewind
expect_rc seek 0 "$VASTRACK" play --dry-run --watch 12 --events 'seek@1:9,seek@2:1' "$TMP/ad.xml"
expect_grep rewind_fired '^2.00 rewind http://t/rewind$' "$TMP/out"
if grep -q ' complete ' "$TMP/out"; then nok watch_stops_before_end; else ok watch_stops_before_end; fi

# JSON lines
expect_rc json 0 "$VASTRACK" play --dry-run --json --watch 6 "$TMP/ad.xml"
if grep -vEq '^\{"t":[0-9]+\.[0-9]{3},"media":[0-9]+\.[0-9]{3},"event":"[A-Za-z]+","url":"[^"]*"(,"beacon":false)?\}$' "$TMP/out"; then
  nok json_lines "$(head -3 "$TMP/out")"; else ok json_lines; fi
expect_grep json_q1 '"event":"firstQuartile","url":"http://t/q1\?ph=00%3A00%3A05.000"' "$TMP/out"

# a wrapper chain of local files: impressions of every level
expect_rc wrapper_chain 0 "$VASTRACK" play --dry-run --watch 1 "$S/wrapper-a.xml"
expect_grep wrapper_a_impression '^0.00 impression http://example.com/wrapperA-impression$' "$TMP/out"
expect_grep wrapper_b_impression '^0.00 impression http://example.com/wrapperB-impression2$' "$TMP/out"
finish
