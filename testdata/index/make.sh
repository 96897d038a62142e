#!/usr/bin/env bash
# Regenerates the degraded query clips of tests/index.rs from the bundled speech. Each is a
# 5-second excerpt of testdata/speech/jfk_inaugural_1961_excerpt.flac starting at 3.000 s
# (the reference, indexed by the tests), sent through one degradation the index must survive.
# The expected answer is known by construction: reference start 3.000 s, clip start 0, and the
# speed (reference seconds per clip second) given below. Run from the project root; needs ffmpeg
# (made with ffmpeg 5.1.9).
set -euo pipefail
cd "$(dirname "$0")"
SRC=../speech/jfk_inaugural_1961_excerpt.flac
FF="ffmpeg -v error -y"
# The excerpt, 16 kHz mono: 3.000 s to 8.000 s of the reference.
EX="-ss 3 -t 5 -i $SRC -map_metadata -1 -fflags +bitexact -ac 1"
$FF $EX -ar 32000 -c:a aac -b:a 24k -flags:a +bitexact jfk-3s-5s-aac-24k.m4a            # speed 1.00
$FF $EX -ar 44100 -c:a libmp3lame -b:a 64k jfk-3s-5s-mp3-64k.mp3                        # speed 1.00
$FF $EX -ar 48000 -c:a libopus -b:a 16k jfk-3s-5s-opus-16k.ogg                          # speed 1.00
$FF $EX -af atempo=1.05 -ar 16000 -c:a flac jfk-3s-5s-tempo-1.05.flac                   # speed 1.05 (pitch kept)
$FF $EX -af atempo=0.95 -ar 16000 -c:a flac jfk-3s-5s-tempo-0.95.flac                   # speed 0.95 (pitch kept)
