#!/bin/sh
# seeds-probe.sh DIR: small media seeds for fuzz-probe (made, not committed).
D=$1
mkdir -p "$D"
g() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
V="-f lavfi -i testsrc2=size=64x36:rate=10 -f lavfi -i sine=sample_rate=8000 -t 0.5"
g $V -c:v libx264 -preset ultrafast -c:a aac -movflags +faststart "$D/fs.mp4"
g $V -c:v libx264 -preset ultrafast -c:a aac "$D/end.mp4"
g $V -c:v libvpx-vp9 -deadline realtime -c:a libopus "$D/vp9.webm"
g $V -c:v libx265 -preset ultrafast -x265-params log-level=error -c:a aac "$D/hevc.mp4"
g $V -c:v libx264 -preset ultrafast -c:a aac -f mpegts "$D/ts.ts"
g -f lavfi -i sine=sample_rate=8000 -t 0.5 -c:a aac "$D/audio.m4a"
