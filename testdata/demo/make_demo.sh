#!/usr/bin/env bash
# Makes the bundled demo clip: a "Zoom call" reassembled from two archived recordings and one
# recording that is not in the archive, as a Zoom-like MP4 (video stream first, AAC 32 kb/s mono).
# Run from the project root: bash testdata/demo/make_demo.sh
# The archive of the demo is the list in testdata/demo/archive.txt (files in testdata/speech/).
set -euo pipefail
cd "$(dirname "$0")/../.."
s=testdata/speech
out=testdata/demo/zoom-call-reassembled.mp4
# Pieces (seconds in the source):
#   0.00–4.00   jfk_inaugural_1961_excerpt.flac      2.00–6.00   (in the archive)
#   4.00–8.50   librispeech_198-209-0000.flac        3.00–7.50   (in the archive)
#   8.50–12.50  vctk_p286_011.flac                   1.00–5.00   (not in the archive)
ffmpeg -v error -y \
  -i "$s/jfk_inaugural_1961_excerpt.flac" \
  -i "$s/librispeech_198-209-0000.flac" \
  -i "$s/vctk_p286_011.flac" \
  -f lavfi -i "testsrc=size=160x90:rate=10:duration=12.5" \
  -filter_complex "\
[0:a]aresample=16000,atrim=start=2:end=6,asetpts=PTS-STARTPTS[a0];\
[1:a]aresample=16000,atrim=start=3:end=7.5,asetpts=PTS-STARTPTS[a1];\
[2:a]aresample=16000,atrim=start=1:end=5,asetpts=PTS-STARTPTS[a2];\
[a0][a1][a2]concat=n=3:v=0:a=1,aresample=32000[a]" \
  -map 3:v -map "[a]" -c:v libx264 -preset veryslow -crf 40 -pix_fmt yuv420p \
  -c:a aac -b:a 32k -ac 1 -ar 32000 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
  -movflags +faststart "$out"
ls -l "$out"
