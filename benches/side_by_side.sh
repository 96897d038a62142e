#!/usr/bin/env bash
# Ingest of a 10-minute AAC file, side by side: Chromaprint's `fpcalc -length 0` (decode +
# fingerprint of the whole file) against our `index DIR add FILE` (decode + fingerprint + write the
# index segment and manifest, fsynced) into a fresh index each run.
#
# usage: benches/side_by_side.sh [CORPUS_DIR]
#
#   CORPUS_DIR  real speech to make the file from (default: ../shared/corpus from the project
#               root, else /work/shared/corpus); not needed when the file already exists.
#   AAC=FILE    use this file instead of making one (any length; the figures are per file).
#   RUNS=N      timed runs per command (default 10; 2 warm-up runs before them).
#
# Makes target/bench/ten-minute-aac-32k-mono.m4a when absent: every CORPUS_DIR/speech/*.flac in
# name order, resampled to 32 kHz mono (ffmpeg's default swr), concatenated (15.7 min of speech)
# and cut at exactly 600 s, encoded with ffmpeg's native AAC-LC at 48 kb/s. Needs ffmpeg, fpcalc
# (libchromaprint-tools), hyperfine and python3; builds the `index` example in release mode.
# Writes target/bench/side_by_side.{json,md} (hyperfine's exports) and prints the time ratio and
# each command's peak RSS (/usr/bin/time -v).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/target/bench
RUNS=${RUNS:-10}
mkdir -p "$OUT"

for tool in ffmpeg fpcalc hyperfine python3; do
    command -v "$tool" >/dev/null || { echo "side_by_side.sh: $tool not found on PATH" >&2; exit 2; }
done

FILE=${AAC:-$OUT/ten-minute-aac-32k-mono.m4a}
if [ ! -s "$FILE" ]; then
    CORPUS=${1:-$ROOT/../shared/corpus}
    [ -d "$CORPUS/speech" ] || CORPUS=/work/shared/corpus
    [ -d "$CORPUS/speech" ] || { echo "side_by_side.sh: no speech corpus; give CORPUS_DIR" >&2; exit 2; }
    NORM=$OUT/side_by_side-norm
    rm -rf "$NORM"
    mkdir -p "$NORM"
    : > "$NORM/list.txt"
    for f in "$CORPUS"/speech/*.flac; do
        wav=$NORM/$(basename "${f%.flac}").wav
        ffmpeg -v error -nostdin -y -i "$f" -ac 1 -ar 32000 -c:a pcm_s16le "$wav"
        echo "file '$wav'" >> "$NORM/list.txt"
    done
    ffmpeg -v error -nostdin -y -f concat -safe 0 -i "$NORM/list.txt" -t 600 \
        -c:a aac -b:a 48k "$FILE"
    rm -rf "$NORM"
fi
echo "file: $FILE"
ffprobe -v error -show_entries format=duration:stream=codec_name,sample_rate,channels \
    -of compact=p=0:nk=0 "$FILE"

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --example index
OURS=$ROOT/target/release/examples/index
IDX=$OUT/side_by_side-index

# fpcalc 1.5.1 with FFmpeg 5 exits with status 3 ("Error decoding audio frame (End of file)") at
# the end of every M4A here, after printing the whole fingerprint; hence -i, and each command is
# checked once by hand first.
{ fpcalc -length 0 "$FILE" 2>/dev/null || true; } | grep -q '^FINGERPRINT=' \
    || { echo "side_by_side.sh: fpcalc printed no fingerprint" >&2; exit 1; }
rm -rf "$IDX"
"$OURS" "$IDX" add "$FILE" >/dev/null
rm -rf "$IDX"

hyperfine -N -i -w 2 -r "$RUNS" \
    --prepare true --prepare "rm -rf $IDX" \
    --export-json "$OUT/side_by_side.json" --export-markdown "$OUT/side_by_side.md" \
    -n "fpcalc -length 0" "fpcalc -length 0 $FILE" \
    -n "index add (ours)" "$OURS $IDX add $FILE"

python3 - "$OUT/side_by_side.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
f, o = r["fpcalc -length 0"], r["index add (ours)"]
cpu = lambda x: x["user"] + x["system"]
print("wall: fpcalc %.3f s ± %.3f, ours %.3f s ± %.3f; ours / fpcalc = %.2f (medians %.2f)"
      % (f["mean"], f["stddev"], o["mean"], o["stddev"], o["mean"] / f["mean"],
         o["median"] / f["median"]))
# CPU time (user + system) is less disturbed than wall time on a busy machine.
print("cpu:  fpcalc %.3f s, ours %.3f s; ours / fpcalc = %.2f" % (cpu(f), cpu(o), cpu(o) / cpu(f)))
PY

peak() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}'; }
rm -rf "$IDX"
echo "peak RSS: fpcalc $(peak fpcalc -length 0 "$FILE") KiB; ours $(peak "$OURS" "$IDX" add "$FILE") KiB"
rm -rf "$IDX"
