#!/usr/bin/env bash
# Rebuilds the cue fixtures from the project's shared speech corpus (see README.md here).
# Usage: bash testdata/cues/make_fixtures.sh [CORPUS_DIR]   (default: ../shared/corpus)
# Deterministic for a given ffmpeg build; cuts are by sample index (atrim start_sample/end_sample).
set -euo pipefail
corpus="${1:-../shared/corpus}/speech"
out="$(cd "$(dirname "$0")" && pwd)"
ff() { ffmpeg -nostdin -v error -y "$@"; }
# flac16 OUTPUT INPUT-AND-FILTER-ARGS...: 16-bit FLAC without metadata.
flac16() {
  local output="$1"
  shift
  ff "$@" -c:a flac -sample_fmt s16 -compression_level 8 -map_metadata -1 -fflags +bitexact "$output"
}

# 16 kHz LibriSpeech readers (held out from tuning: reader IDs >= 500).
flac16 "$out/librispeech-1867-148436-0000-16k-12s.flac" \
  -i "$corpus/librispeech_1867-148436-0000.flac" -af atrim=end_sample=192000
flac16 "$out/librispeech-1578-140045-0000-16k-6s.flac" \
  -i "$corpus/librispeech_1578-140045-0000.flac" -af atrim=end_sample=96000
flac16 "$out/librispeech-1723-141149-0000-16k-12s-mains-hum-50hz.flac" \
  -i "$corpus/librispeech_1723-141149-0000.flac" -af atrim=end_sample=192000

# Dry studio speech for the synthetic rooms: three CMU ARCTIC aew utterances back to back.
flac16 "$out/cmu-arctic-aew-a0001-a0003-16k.flac" \
  -i "$corpus/cmu_arctic_us_aew_a0001.flac" -i "$corpus/cmu_arctic_us_aew_a0002.flac" \
  -i "$corpus/cmu_arctic_us_aew_a0003.flac" \
  -filter_complex '[0:a][1:a][2:a]concat=n=3:v=0:a=1[a]' -map '[a]'

# 48 kHz full-band speech, and the same through a 64 kbit/s MP3 (LAME), decoded at 48 kHz.
flac16 "$out/vctk-p286-011-48k.flac" -i "$corpus/vctk_p286_011.flac"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
ff -i "$corpus/vctk_p286_011.flac" -c:a libmp3lame -b:a 64k "$tmp/p286.mp3"
samples="$(ffprobe -v error -show_entries stream=duration_ts -of csv=p=0 "$corpus/vctk_p286_011.flac")"
flac16 "$out/vctk-p286-011-48k-via-mp3-64k.flac" -i "$tmp/p286.mp3" -af "atrim=end_sample=$samples"
ffmpeg -version | head -n 1
