#!/bin/sh
# examples/track.c (the common case in a few calls), built next to the binary under
# test: the beacons of a normal play of the demo tag with a mute, in order, once.
. tests/cli/lib.sh
X=$(dirname "$VASTRACK")/examples/track
expect_rc example_runs 0 "$X" examples/demo-tag.xml
cut -d' ' -f1 "$TMP/out" | tr '\n' ' ' > "$TMP/names"
want="impression impression creativeView start mute progress firstQuartile midpoint thirdQuartile complete "
[ "$(cat "$TMP/names")" = "$want" ] && ok example_beacons_in_order || nok example_beacons_in_order "$(cat "$TMP/names")"
expect_grep example_playhead '^start +http://COLLECTOR/t/start\?ad=demo-ad&cr=demo-cr&t=00%3A00%3A00\.000$' "$TMP/out"
expect_rc example_no_file 1 "$X" "$TMP/nope.xml"
expect_grep example_no_file_message "track: no ad to play in '.*nope.xml'" "$TMP/err"
finish
