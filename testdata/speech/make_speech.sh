#!/usr/bin/env bash
# Rebuilds testdata/speech/ from the project's shared corpus (CORPUS.md): a selection of its
# speech, and a 12 s excerpt of one noise file, as 16 kHz mono 16-bit FLAC. The benchmark
# (`cargo run --example evaluate`) reads this folder when no --corpus is given.
#
#   testdata/speech/make_speech.sh [CORPUS_DIR]     # default ../shared/corpus from the repo root
#
# 16 kHz is the analysis rate and the native rate of most of the corpus: files already at 16 kHz
# are copied sample for sample; the JFK (44.1 kHz) and VCTK (48 kHz) files are resampled by
# ffmpeg's default resampler. `-fflags +bitexact` and no metadata keep the bytes reproducible.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
corpus="${1:-$here/../../../shared/corpus}"
speech=(
  cmu_arctic_us_aew_a0001 cmu_arctic_us_aew_a0002 cmu_arctic_us_aew_a0003
  cmu_arctic_us_axb_a0004 cmu_arctic_us_axb_a0006
  cmu_goforward cmu_cards_005
  librivox_sense_and_sensibility_01_0870 librivox_sense_and_sensibility_01_0890
  librivox_sense_and_sensibility_01_0920
  librispeech_198-209-0000 librispeech_39-121914-0000 librispeech_730-358-0000
  librispeech_1081-125237-0000
  jfk_inaugural_1961_excerpt vctk_p286_011
)
flac=(-map_metadata -1 -fflags +bitexact -ar 16000 -ac 1 -sample_fmt s16 -compression_level 12)
for name in "${speech[@]}"; do
  ffmpeg -nostdin -hide_banner -loglevel error -y -i "$corpus/speech/$name.flac" "${flac[@]}" \
    "$here/$name.flac"
done
mkdir -p "$here/noise"
ffmpeg -nostdin -hide_banner -loglevel error -y -ss 10 -t 12 \
  -i "$corpus/noise/speech_commands_doing_the_dishes.flac" "${flac[@]}" \
  "$here/noise/speech_commands_doing_the_dishes_10s-22s.flac"
