#!/usr/bin/env bash
# Regenerates every file in testdata/ (fixtures, bad/, expected.tsv, bad/expected.tsv, README.md)
# from the shared speech corpus.
#
#   bash testdata/make_fixtures.sh [CORPUS_DIR]     # default: ../shared/corpus from the project root
#
# Needs ffmpeg/ffprobe (made with 5.1.9-0+deb12u1, Debian 12, with libx264, libmp3lame, libopus,
# libvorbis) and python3 (standard library only). Deterministic: two runs give byte-identical
# files with the same ffmpeg build. Another ffmpeg version may encode differently; then re-check
# expected.tsv (it is re-measured from whatever ffmpeg made, so it stays consistent).
#
# Every fact in expected.tsv comes from ffmpeg's own output (decoded PCM, ffprobe fields and
# `ffprobe -v trace` edit-list lines), never from the crate under test.
set -euo pipefail

FFMPEG_VERSION_USED="5.1.9-0+deb12u1"
SPEECH_FILE="speech/librispeech_1040-133433-0000.flac"
# The excerpt: 8.4 s to 11.9 s of the corpus file (3.5 s of continuous speech); the click goes
# 1.000 s into it, in the middle of a word. All sample counts below are exact integers at every
# rate used (16000, 32000, 44100, 48000).
EXCERPT_START_DS=84   # deciseconds
EXCERPT_END_DS=119

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
corpus="${1:-$root/../shared/corpus}"
corpus="$(cd "$corpus" && pwd)"
[ -f "$corpus/$SPEECH_FILE" ] || { echo "no $SPEECH_FILE under $corpus" >&2; exit 2; }

version="$(ffmpeg -version | head -1 | awk '{print $3}')"
if [ "$version" != "$FFMPEG_VERSION_USED" ]; then
  echo "warning: ffmpeg $version, fixtures were made with $FFMPEG_VERSION_USED" >&2
fi

cd "$here"
# Start clean: remove what the previous run wrote (the files its expected.tsv files list) and
# nothing else, so files other tests keep in testdata/ survive.
if [ -f expected.tsv ]; then tail -n +2 expected.tsv | cut -f1 | while read -r f; do rm -f -- "$f"; done; fi
if [ -f bad/expected.tsv ]; then tail -n +2 bad/expected.tsv | cut -f1 | while read -r f; do rm -f -- "bad/$f"; done; fi
rm -f expected.tsv bad/expected.tsv README.md
rm -rf _src
mkdir -p bad _src
trap 'rm -rf "$here/_src"' EXIT

MANIFEST=_src/manifest.tsv
BAD_MANIFEST=_src/bad-manifest.tsv
: > "$MANIFEST"
: > "$BAD_MANIFEST"

# Print a command as it can be pasted into a shell.
quote_cmd() {
  local out="" a
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=+,@%-]+$ ]]; then out+="$a "; else out+="'$a' "; fi
  done
  printf '%s' "${out% }"
}

# fixture NAME OFFSET EXTRA "what it exercises" COMMAND... : run COMMAND (which writes NAME) and
# note it for README.md. OFFSET and EXTRA are the claims the description makes: OFFSET =
# click_sample - click_source_sample (the codec delay ffmpeg leaves at the start of its output),
# EXTRA = ffmpeg_samples - source_samples (everything ffmpeg outputs beyond the source). The
# expected.tsv step fails when ffmpeg disagrees (the click may move by up to 3 samples for lossy
# codecs, which spread it), so the descriptions cannot silently go stale.
fixture() {
  local name="$1" offset="$2" extra="$3" what="$4"; shift 4
  "$@"
  [ -s "$name" ] || { echo "$name was not written" >&2; exit 1; }
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$offset" "$extra" "$what" "$(quote_cmd "$@")" >> "$MANIFEST"
}
# bad NAME "what it is" "how it was made" : note a file in bad/ for README.md.
bad() {
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$BAD_MANIFEST"
}

FF=(ffmpeg -nostdin -v error -y)
# No version strings, random ids or timestamps in the output.
BX=(-fflags +bitexact -flags:a +bitexact -flags:v +bitexact -map_metadata -1)
# A tiny video track (64x64, 5 fps, 3.5 s) for the MP4/MOV files that carry one.
VIDEO_IN=(-f lavfi -i testsrc=size=64x64:rate=5:duration=3.5)
X264=(-c:v libx264 -preset ultrafast -crf 40 -pix_fmt yuv420p -threads 1)
# README.md prints commands with these shorthands.
SHORTHANDS=_src/shorthands.tsv
printf '%s\t%s\n' FF "$(quote_cmd "${FF[@]}")" BX "$(quote_cmd "${BX[@]}")" \
  VIDEO_IN "$(quote_cmd "${VIDEO_IN[@]}")" X264 "$(quote_cmd "${X264[@]}")" > "$SHORTHANDS"

# ------------------------------------------------------------------ sources (not committed)
# _src/click-RATE-mono.wav / -stereo.wav: 32-bit float WAV, 3.5 s; speech * 0.5 plus a
# one-sample click of +0.9 at exactly 1.000 s (sample index = RATE); stereo: L = x, R = 0.5 * x.
for rate in 16000 32000 44100 48000; do
  case $rate in 16000) tag=16k ;; 32000) tag=32k ;; 44100) tag=44k1 ;; 48000) tag=48k ;; esac
  start=$((EXCERPT_START_DS * rate / 10)); end=$((EXCERPT_END_DS * rate / 10))
  "${FF[@]}" -i "$corpus/$SPEECH_FILE" -af "aresample=$rate,atrim=start_sample=$start:end_sample=$end" \
    -c:a pcm_f32le -f f32le "_src/speech-$tag.f32"
  python3 make_fixtures.py click "$rate" "_src/speech-$tag.f32" "_src/click-$tag-mono.wav" "_src/click-$tag-stereo.wav"
done

# ------------------------------------------------------------------ MP4 / M4A / MOV
fixture aac-lc-32k-mono-h264-video-first.mp4 0 640 \
  "like a Zoom recording: H.264 video track first, AAC-LC 32 kHz mono second (audio is stream 1), creation_time 2021-09-13T10:02:11Z; audio elst media_time 1024" \
  "${FF[@]}" "${VIDEO_IN[@]}" -i _src/click-32k-mono.wav -map 0:v -map 1:a "${X264[@]}" \
  -c:a aac -b:a 48k "${BX[@]}" -metadata creation_time=2021-09-13T10:02:11Z aac-lc-32k-mono-h264-video-first.mp4

fixture aac-lc-32k-mono-elst-1024.m4a 0 640 \
  "M4A, ffmpeg's AAC-LC encoder: elst media_time 1024 skips the priming; moov after mdat. ffmpeg does not trim the tail padding: it outputs the whole last frame, 640 samples more than the elst duration" \
  "${FF[@]}" -i _src/click-32k-mono.wav -c:a aac -b:a 48k "${BX[@]}" aac-lc-32k-mono-elst-1024.m4a

fixture aac-lc-32k-mono-elst-640-copy-cut-0.5s.m4a 0 640 \
  "stream-copied cut 0.5 s into the M4A above: the first kept packet starts 640 samples before the cut point, so elst media_time is 640, not 1024; the click is 0.5 s earlier than in the source" \
  "${FF[@]}" -ss 0.5 -i aac-lc-32k-mono-elst-1024.m4a -c copy "${BX[@]}" aac-lc-32k-mono-elst-640-copy-cut-0.5s.m4a

fixture aac-lc-44k1-stereo-elst-1024-faststart.m4a 0 274 \
  "M4A AAC-LC stereo 44.1 kHz, moov before mdat (-movflags +faststart); elst 1024; again the whole last frame is output (+274); bad/truncated-half.m4a is cut from it" \
  "${FF[@]}" -i _src/click-44k1-stereo.wav -c:a aac -b:a 96k -movflags +faststart "${BX[@]}" aac-lc-44k1-stereo-elst-1024-faststart.m4a

fixture pcm-s16le-48k-stereo-h264-video-first.mov 0 0 \
  "QuickTime MOV as cameras write it: H.264 video first, PCM s16le ('sowt') stereo 48 kHz second (audio is stream 1); elst media_time 0" \
  "${FF[@]}" "${VIDEO_IN[@]}" -i _src/click-48k-stereo.wav -map 0:v -map 1:a "${X264[@]}" \
  -c:a pcm_s16le "${BX[@]}" pcm-s16le-48k-stereo-h264-video-first.mov

# ------------------------------------------------------------------ MP3
fixture mp3-44k1-mono-lame-xing.mp3 0 0 \
  "MP3 (libmp3lame CBR 64 kb/s) with ffmpeg's Xing/LAME info frame: ffmpeg trims the encoder+decoder delay (1105) and the end padding, output = source length" \
  "${FF[@]}" -i _src/click-44k1-mono.wav -c:a libmp3lame -b:a 64k "${BX[@]}" mp3-44k1-mono-lame-xing.mp3

fixture mp3-44k1-mono-no-xing.mp3 1105 1170 \
  "MP3 without the info frame (-write_xing 0): no gapless info, ffmpeg outputs every decoded sample: the click is 1105 samples late (576 LAME encoder delay + 529 decoder delay) and 65 padding samples follow the source" \
  "${FF[@]}" -i _src/click-44k1-mono.wav -c:a libmp3lame -b:a 64k -write_xing 0 "${BX[@]}" mp3-44k1-mono-no-xing.mp3

# ------------------------------------------------------------------ Ogg / WebM
fixture vorbis-44k1-mono.ogg 0 0 \
  "Ogg Vorbis (libvorbis q3): granule positions give the exact start and end" \
  "${FF[@]}" -i _src/click-44k1-mono.wav -c:a libvorbis -q:a 3 "${BX[@]}" vorbis-44k1-mono.ogg

fixture opus-48k-mono.ogg 0 0 \
  "Ogg Opus (libopus 32 kb/s): OpusHead pre-skip 312 removed by ffmpeg, end trimmed by the last granule position" \
  "${FF[@]}" -i _src/click-48k-mono.wav -c:a libopus -b:a 32k "${BX[@]}" opus-48k-mono.ogg

fixture opus-48k-stereo.webm 0 0 \
  "Opus in WebM (libopus 64 kb/s stereo): CodecDelay 6500000 ns (= pre-skip 312) makes start_pts -7 ms; DiscardPadding on the last block trims the end; output = source length" \
  "${FF[@]}" -i _src/click-48k-stereo.wav -c:a libopus -b:a 64k "${BX[@]}" opus-48k-stereo.webm

fixture vorbis-48k-mono.webm 0 384 \
  "Vorbis in WebM (libvorbis q3): start exact, but no end trimming, ffmpeg outputs 384 samples more than the source" \
  "${FF[@]}" -i _src/click-48k-mono.wav -c:a libvorbis -q:a 3 "${BX[@]}" vorbis-48k-mono.webm

# ------------------------------------------------------------------ Matroska, ADTS
fixture aac-lc-48k-mono-no-codecdelay.mkv 1024 1984 \
  "AAC-LC in Matroska: ffmpeg's muxer writes no CodecDelay for AAC, so ffmpeg's output keeps the 1024 priming samples (click 1024 late) and the last frame's padding (960)" \
  "${FF[@]}" -i _src/click-48k-mono.wav -c:a aac -b:a 64k "${BX[@]}" aac-lc-48k-mono-no-codecdelay.mkv

fixture flac-16bit-44k1-mono.mkv 0 0 \
  "FLAC in Matroska (A_FLAC)" \
  "${FF[@]}" -i _src/click-44k1-mono.wav -c:a flac -sample_fmt s16 "${BX[@]}" flac-16bit-44k1-mono.mkv

fixture pcm-s16le-16k-mono.mkv 0 0 \
  "PCM in Matroska (A_PCM/INT/LIT)" \
  "${FF[@]}" -i _src/click-16k-mono.wav -c:a pcm_s16le "${BX[@]}" pcm-s16le-16k-mono.mkv

fixture aac-lc-44k1-mono-adts.aac 1024 1298 \
  "raw ADTS AAC-LC: no container timing at all, ffmpeg's output keeps the 1024 priming samples (click 1024 late) and the last frame's padding (274)" \
  "${FF[@]}" -i _src/click-44k1-mono.wav -c:a aac -b:a 64k "${BX[@]}" -f adts aac-lc-44k1-mono-adts.aac

# ------------------------------------------------------------------ FLAC
fixture flac-16bit-44k1-stereo.flac 0 0 \
  "native FLAC, 16-bit stereo (L = speech, R = speech * 0.5; click on both)" \
  "${FF[@]}" -i _src/click-44k1-stereo.wav -c:a flac -sample_fmt s16 "${BX[@]}" flac-16bit-44k1-stereo.flac

fixture flac-24bit-48k-mono.flac 0 0 \
  "native FLAC, 24-bit (ffmpeg: s32 sample format, 24 bits per raw sample)" \
  "${FF[@]}" -i _src/click-48k-mono.wav -c:a flac -sample_fmt s32 -bits_per_raw_sample 24 "${BX[@]}" flac-24bit-48k-mono.flac

# ------------------------------------------------------------------ WAV
fixture pcm-s16le-16k-mono.wav 0 0 \
  "WAV PCM 16-bit, plain WAVEFORMATEX (format tag 1)" \
  "${FF[@]}" -i _src/click-16k-mono.wav -c:a pcm_s16le "${BX[@]}" pcm-s16le-16k-mono.wav

fixture pcm-s16le-16k-stereo.wav 0 0 \
  "WAV PCM 16-bit stereo (L = speech, R = speech * 0.5; click on both)" \
  "${FF[@]}" -i _src/click-16k-stereo.wav -c:a pcm_s16le "${BX[@]}" pcm-s16le-16k-stereo.wav

fixture pcm-s24le-16k-mono-extensible.wav 0 0 \
  "WAV PCM 24-bit; ffmpeg writes WAVE_FORMAT_EXTENSIBLE (tag 0xFFFE) for more than 16 bits" \
  "${FF[@]}" -i _src/click-16k-mono.wav -c:a pcm_s24le "${BX[@]}" pcm-s24le-16k-mono-extensible.wav

fixture pcm-s32le-16k-mono-extensible.wav 0 0 \
  "WAV PCM 32-bit integer, WAVE_FORMAT_EXTENSIBLE" \
  "${FF[@]}" -i _src/click-16k-mono.wav -c:a pcm_s32le "${BX[@]}" pcm-s32le-16k-mono-extensible.wav

fixture pcm-f32le-16k-mono-extensible.wav 0 0 \
  "WAV 32-bit float, WAVE_FORMAT_EXTENSIBLE with the IEEE-float subformat" \
  "${FF[@]}" -i _src/click-16k-mono.wav -c:a pcm_f32le "${BX[@]}" pcm-f32le-16k-mono-extensible.wav

# ------------------------------------------------------------------ bad inputs (bad/)
: > bad/empty.mp4
bad empty.mp4 "empty file (0 bytes)" ": > bad/empty.mp4"

"${FF[@]}" -f lavfi -i color=c=red:size=16x16 -frames:v 1 -c:v mjpeg "${BX[@]}" -f mjpeg _src/tiny.jpg
cp _src/tiny.jpg bad/jpeg-renamed.mp4
bad jpeg-renamed.mp4 "a 16x16 JPEG image with an .mp4 name" \
  "$(quote_cmd "${FF[@]}" -f lavfi -i color=c=red:size=16x16 -frames:v 1 -c:v mjpeg "${BX[@]}" -f mjpeg _src/tiny.jpg); cp _src/tiny.jpg bad/jpeg-renamed.mp4"

size=$(stat -c %s aac-lc-44k1-stereo-elst-1024-faststart.m4a)
head -c $((size / 2)) aac-lc-44k1-stereo-elst-1024-faststart.m4a > bad/truncated-half.m4a
bad truncated-half.m4a "a truncated download: the first half ($((size / 2)) of $size bytes) of the faststart M4A, moov intact, mdat cut" \
  "head -c $((size / 2)) aac-lc-44k1-stereo-elst-1024-faststart.m4a > bad/truncated-half.m4a"

size=$(stat -c %s mp3-44k1-mono-lame-xing.mp3)
head -c $((size / 2)) mp3-44k1-mono-lame-xing.mp3 > bad/truncated-half.mp3
bad truncated-half.mp3 "the first half ($((size / 2)) of $size bytes) of mp3-44k1-mono-lame-xing.mp3: its Xing header promises twice the frames present" \
  "head -c $((size / 2)) mp3-44k1-mono-lame-xing.mp3 > bad/truncated-half.mp3"

"${FF[@]}" -f lavfi -i testsrc=size=64x64:rate=5:duration=1 "${X264[@]}" "${BX[@]}" bad/video-only.mp4
bad video-only.mp4 "MP4 with one H.264 video track and no audio track" \
  "$(quote_cmd "${FF[@]}" -f lavfi -i testsrc=size=64x64:rate=5:duration=1 "${X264[@]}" "${BX[@]}" bad/video-only.mp4)"

# A valid file whose codec the crate cannot decode (AC-3: no pure-Rust decoder in symphonia).
"${FF[@]}" -f lavfi -i sine=frequency=440:sample_rate=48000:duration=0.5 -c:a ac3 -b:a 96k "${BX[@]}" bad/ac3-in-matroska.mkv
bad ac3-in-matroska.mkv "a valid Matroska file with AC-3 audio (a 440 Hz tone, 0.5 s): a codec the crate cannot decode" \
  "$(quote_cmd "${FF[@]}" -f lavfi -i sine=frequency=440:sample_rate=48000:duration=0.5 -c:a ac3 -b:a 96k "${BX[@]}" bad/ac3-in-matroska.mkv)"

# A valid 16-bit mono 16 kHz WAV of 0.25 s (canonical 44-byte header), then one field edited.
"${FF[@]}" -i _src/click-16k-mono.wav -t 0.25 -c:a pcm_s16le "${BX[@]}" _src/valid.wav
python3 make_fixtures.py wavpatch _src/valid.wav bad/wav-zero-channels.wav channels 0
bad wav-zero-channels.wav "valid 0.25 s 16-bit WAV with the fmt channel count (byte 22) set to 0" \
  "$(quote_cmd "${FF[@]}" -i _src/click-16k-mono.wav -t 0.25 -c:a pcm_s16le "${BX[@]}" _src/valid.wav); python3 make_fixtures.py wavpatch _src/valid.wav bad/wav-zero-channels.wav channels 0"
python3 make_fixtures.py wavpatch _src/valid.wav bad/wav-absurd-rate.wav sample_rate 4000000000
bad wav-absurd-rate.wav "the same WAV with the fmt sample rate (byte 24) set to 4,000,000,000 Hz (above 2^31)" \
  "python3 make_fixtures.py wavpatch _src/valid.wav bad/wav-absurd-rate.wav sample_rate 4000000000"

printf 'This is a text file, not a WAV file.\nIt has a .wav name so that a decoder has to look inside.\n' > bad/not-media.wav
bad not-media.wav "a two-line ASCII text file with a .wav name" \
  "printf 'This is a text file, not a WAV file.\\nIt has a .wav name so that a decoder has to look inside.\\n' > bad/not-media.wav"

# ------------------------------------------------------------------ expected facts
python3 make_fixtures.py expected "$MANIFEST" > expected.tsv
(cd bad && python3 ../make_fixtures.py bad "../$BAD_MANIFEST") > bad/expected.tsv

# ------------------------------------------------------------------ README.md
{
cat <<EOF
# testdata

Small media files for the decode and container tests, each named by what it exercises, and the
numbers a reference decoder (ffmpeg) gives for them. **Generated — do not edit by hand:**
\`bash testdata/make_fixtures.sh [CORPUS_DIR]\` rewrites every file here, this README included.

- Made with ffmpeg **$version** (Debian 12 build with libx264, libmp3lame, libopus, libvorbis).
  The script is deterministic: two runs give byte-identical files with the same ffmpeg build.
- \`make_fixtures.sh\` runs the ffmpeg commands; \`make_fixtures.py\` (Python standard library
  only) adds the click, edits the bad WAV headers, measures ffmpeg's output into the .tsv files
  and writes the tables below. Nothing here is fetched or generated at test time.
- \`bad/README.md\` lists the hostile inputs of \`bad/\` that \`tests/bad_files.rs\` runs (empty and
  non-media files, truncations, lying sizes, impossible parameters, non-finite samples,
  corrupted payloads, an hour of silence), each with what is wrong with it; \`bad/make_bad.py\`
  makes them from the fixtures here.
- \`expected.tsv\`: one row per fixture; \`bad/expected.tsv\`: one row per bad input. Both are
  measured from ffmpeg's output (decoded PCM, ffprobe fields, \`ffprobe -v trace\` edit-list
  lines; the edit lists are cross-checked against a direct read of the \`elst\` box), never from
  the crate under test.
- Timeline (DESIGN.md): sample 0 is the first sample \`ffmpeg -i FILE -map 0:a:0 -f f32le -\`
  outputs; the length is that output's length (\`ffmpeg_samples\`, per channel).

## Source signal and licence

All fixtures are encoded from one 3.5 s excerpt of real speech:

- Speech: \`$SPEECH_FILE\` from the project's shared corpus (\`../shared/corpus\` from the
  project root; see its CORPUS.md), seconds 8.4–11.9. LibriSpeech train-clean-100 utterance 1040-133433-0000, reader
  1040 John Garvin (male), via the resemble-ai/Resemblyzer repository.
  **Licence: CC BY 4.0. Attribution: LibriSpeech ASR corpus (c) 2014 Vassil Panayotov et al.,
  from LibriVox recordings.** (Changes: excerpted, resampled, attenuated by 6 dB, a click added,
  re-encoded.)
- The video tracks are ffmpeg's synthetic \`testsrc\` pattern; the bad JPEG is a flat red image.
- Processing (\`make_fixtures.sh\`, "sources"): ffmpeg resamples the corpus file to 16000,
  32000, 44100 or 48000 Hz (\`aresample\`, default swr) and cuts 8.4–11.9 s by sample index
  (\`atrim\`), exact at each rate; \`make_fixtures.py click\` scales the speech by 0.5 (speech
  peak about 0.2) and sets **one sample to +0.9 at exactly 1.000 s** (sample index = rate), and
  writes \`_src/click-RATE-mono.wav\` and \`_src/click-RATE-stereo.wav\` (32-bit float, not
  committed). Stereo: L = x, R = 0.5 * x (speech and click alike), so channels differ by 6 dB.
- \`click_sample\` is the argmax of |x| on channel 0 of ffmpeg's f32 output. For lossless files
  it is the source position exactly; for lossy codecs the click is spread over a few samples and
  the peak lands within a few samples of the source position plus whatever delay ffmpeg does not
  remove (see the table). \`other_peak\` in expected.tsv is the loudest sample farther than 10 ms
  from it (the speech); the script fails if the click is not at least twice that.
- The \`aac-lc-32k-mono-elst-640-copy-cut-0.5s.m4a\` source position is 0.5 s earlier
  (sample 16000), since the cut starts 0.5 s into its input.

## What ffmpeg $version does with delay and padding (what a decoder must match)

Measured on these files; each fixture's description states its start offset and extra samples,
and the script fails if ffmpeg's output disagrees, so these lines are checked on every run.
- MP4/M4A/MOV: the edit list's \`media_time\` is honoured at the start (AAC priming 1024, or 640
  after the stream-copied cut), but **not its \`segment_duration\` at the end**: ffmpeg outputs
  the whole last AAC frame, 274–640 samples more than the elst (and ffprobe's duration) says.
- MP3: with the Xing/LAME info frame, ffmpeg trims the 1105-sample delay and the end padding
  (output = source length), though ffprobe's stated duration still counts every frame (+1170);
  without it, nothing is trimmed (+1105 at the start, +65 at the end), and ffprobe's stated
  duration is a bit-rate estimate.
- Ogg: Vorbis and Opus are exact (Opus pre-skip 312 removed, end cut at the last granule
  position); ffprobe's stated Opus duration includes the 312 pre-skip samples.
- WebM: Opus is exact (CodecDelay = 312 samples, start_pts -7 ms; DiscardPadding trims the end);
  Vorbis starts exactly but its last packet is not trimmed (+384).
- Matroska AAC and raw ADTS AAC: nothing is trimmed: 1024 priming samples first (the click is
  1024 samples late) and the last frame's padding at the end.
- PCM (WAV, MOV, MKV) and FLAC (native, MKV): exact.

EOF
python3 make_fixtures.py readme "$MANIFEST" expected.tsv "$BAD_MANIFEST" bad/expected.tsv "$SHORTHANDS"
} > README.md

# The hostile inputs of bad/ (tests/bad_files.rs): cut and edited from the fixtures above.
python3 bad/make_bad.py

echo "wrote $(wc -l < "$MANIFEST") fixtures, $(wc -l < "$BAD_MANIFEST") bad inputs; $(du -sh --exclude=_src . | cut -f1) in testdata/" >&2
