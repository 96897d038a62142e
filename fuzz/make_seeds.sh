#!/usr/bin/env bash
# Makes the fuzz targets' seed corpora in fuzz/seeds/<target>/ (committed; rerun to remake):
# 0.4 s of real speech (testdata/speech/cmu_goforward.flac, from 0.6 s) in every format the
# crate reads, a few bytes each, each prefixed with the hint byte that names its extension (see
# EXTENSIONS in src/lib.rs); the small files of testdata/bad/; and, for the index targets, inputs
# built from an index of the speech file (made by running the instrumented index_open binary
# once, so build the targets first: cargo afl build --release).
#
# Needs ffmpeg (with libmp3lame, libopus, libvorbis) and python3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
speech="$root/testdata/speech/cmu_goforward.flac"
media="$(mktemp -d)"
trap 'rm -rf "$media"' EXIT

cut=(-hide_banner -loglevel error -y -ss 0.6 -t 0.4 -i "$speech" -ac 1 -ar 8000 -map_metadata -1 -fflags +bitexact -flags:a +bitexact)
ffmpeg "${cut[@]}" -c:a pcm_s16le "$media/0-pcm-s16le.wav"
ffmpeg "${cut[@]}" -c:a pcm_f32le -rf64 never -write_bext 0 "$media/0-pcm-f32le.wav"
ffmpeg "${cut[@]}" -c:a libmp3lame -b:a 32k "$media/1-mp3-xing.mp3"
ffmpeg "${cut[@]}" -c:a libmp3lame -b:a 32k -write_xing 0 "$media/1-mp3-no-xing.mp3"
ffmpeg "${cut[@]}" -c:a aac -b:a 24k -movflags +faststart "$media/2-aac-faststart.m4a"
ffmpeg "${cut[@]}" -c:a aac -b:a 24k "$media/3-aac-moov-last.mp4"
ffmpeg "${cut[@]}" -c:a pcm_s16be "$media/4-pcm-s16be.mov"
ffmpeg "${cut[@]}" -c:a alac "$media/2-alac.m4a"
ffmpeg "${cut[@]}" -c:a flac "$media/5-flac.flac"
ffmpeg "${cut[@]}" -c:a libvorbis -q:a 0 "$media/6-vorbis.ogg"
ffmpeg "${cut[@]}" -c:a libopus -b:a 16k "$media/7-opus.opus"
ffmpeg "${cut[@]}" -c:a pcm_s16le "$media/8-pcm-s16le.mkv"
ffmpeg "${cut[@]}" -c:a flac "$media/8-flac.mkv"
ffmpeg "${cut[@]}" -c:a libopus -b:a 16k "$media/9-opus.webm"
ffmpeg "${cut[@]}" -c:a aac -b:a 24k "$media/10-adts.aac"
ffmpeg "${cut[@]}" -c:a pcm_s16be "$media/11-pcm-s16be.aiff"
ffmpeg "${cut[@]}" -c:a pcm_s16le "$media/12-pcm-s16le.caf"
ffmpeg "${cut[@]}" -c:a flac "$media/14-flac.oga"
for f in not-media.wav jpeg-renamed.mp4 video-only.mp4 wav-zero-channels.wav wav-absurd-rate.wav ac3-in-matroska.mkv; do
  ext="${f##*.}"
  case "$ext" in wav) hint=0 ;; mp4) hint=3 ;; mkv) hint=8 ;; esac
  cp "$root/testdata/bad/$f" "$media/$hint-bad-$f"
done

python3 - "$media" "$here/seeds" <<'PY'
import os, sys
media, seeds = sys.argv[1], sys.argv[2]
for target in ("decode_analyze", "container"):
    out = os.path.join(seeds, target)
    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(media)):
        hint, rest = name.split("-", 1)
        with open(os.path.join(media, name), "rb") as f:
            data = f.read()
        with open(os.path.join(out, rest), "wb") as f:
            f.write(bytes([int(hint)]) + data)
PY

# The index targets: the index the instrumented binary builds from the speech file.
scratch="${TMPDIR:-/tmp}/clip-provenance-fuzz-index_open"
: | "$here/target/release/index_open" >/dev/null
python3 - "$scratch/intact" "$here/seeds" <<'PY'
import os, struct, sys
template, seeds = sys.argv[1], sys.argv[2]
out = os.path.join(seeds, "index_open")
os.makedirs(out, exist_ok=True)
manifest = open(os.path.join(template, "MANIFEST"), "rb").read()
first, body = manifest.split(b"\n", 1)
seg = [f for f in os.listdir(template) if f.endswith(".cpi")][0]
segment = open(os.path.join(template, seg), "rb").read()
def write(dir, name, data):
    with open(os.path.join(dir, name), "wb") as f:
        f.write(data)
write(out, "manifest-whole", b"\x00" + manifest)
write(out, "manifest-body", b"\x02" + body)
patch = lambda offset, value: struct.pack("<II", offset, value)
refs = struct.unpack_from("<I", segment, 16)[0]
postings = struct.unpack_from("<Q", segment, 24)[0]
buckets_at = 64 + 4 * refs
postings_at = buckets_at + 4 * ((1 << 19) + 1)
write(out, "segment-flip-unfixed", b"\x01" + patch(postings_at, 0xdeadbeef))
write(out, "segment-ref-frames", b"\x03" + patch(64, 7))
write(out, "segment-posting", b"\x03" + patch(postings_at + 6, 0x00ff0000))
write(out, "segment-bucket", b"\x03" + patch(buckets_at + 4 * 1000, 3))
write(out, "segment-refs-counted", b"\x07" + patch(16, 2) + patch(0xffffffff, len(segment) + 4))
write(out, "segment-truncated", b"\x07" + patch(0xffffffff, len(segment) - 6) + patch(24, postings - 1))

# index_query: the frame count, then landmarks taken from the segment's own postings (which
# match), and a few that match nothing.
out = os.path.join(seeds, "index_query")
os.makedirs(out, exist_ok=True)
landmarks = []
for h in range(1 << 19):
    start, end = struct.unpack_from("<II", segment, buckets_at + 4 * h)
    for i in range(start, end):
        local, packed = struct.unpack_from("<HI", segment, postings_at + 6 * i)
        landmarks.append((h, packed >> 8, packed & 0xff))
landmarks.sort(key=lambda l: l[1])
frames = max(l[1] for l in landmarks) + 1
def query(ls, frames):
    return struct.pack("<I", frames) + b"".join(struct.pack("<IIHBB", h, f, s, 1, 0) for h, f, s in ls)
write(out, "reference-landmarks", query(landmarks[40:200], frames))
write(out, "reference-landmarks-shifted", query([(h, f + 1000, s) for h, f, s in landmarks[:120]], frames + 1000))
write(out, "unsorted", query(list(reversed(landmarks[:60])), 300))
write(out, "nothing", query([(1, 2, 3), (0xffffffff, 0xffffffff, 0xffff)], 0))
PY
ls -l "$here"/seeds/*
