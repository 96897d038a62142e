#!/usr/bin/env bash
# The false-match hunt of the fingerprint issue: hours of queries made only from material the
# archive does not hold, against an archive of at least 10 hours, and every asserted match
# counted (all of them are false).
#
#   bash benches/false_match_hunt.sh [WORK_DIR]        # default target/hunt
#
# Needs espeak-ng, sox, ffmpeg and python3, and a full benchmark run first
# (`cargo run --release --example evaluate -- --corpus ../shared/corpus`), whose archived and
# unarchived masters it uses. HUNT_CHUNKS=N keeps N text chunks per side (a quick trial).
#
# - Text: the prose of the local cargo registry's crates (READMEs and doc comments), each
#   crate (all its versions) to one side, 3 of 5 crates to the archive's side; each sentence
#   once, and no query sentence sharing six words in a row with an archive sentence (the same
#   words from the same synthesiser in another voice are a re-rendering of archived audio,
#   not new audio: licence boilerplate spoken by both sides gave matches before this rule).
# - Archive: espeak-ng speech (`en-us`, 100 words/min) of 78 000 words of the archive's side
#   (about 12 h), plus the benchmark's archived recordings.
# - Queries: 46 000 words of the other side in two other voices (`en-gb` at 120, `en-us+f3`
#   at 160 with a higher pitch), and each unarchived benchmark recording plain, time-reversed,
#   tempo x0.8 and x1.25, pitch +-300 cents (sox), AAC 24 kb/s and Opus 16 kb/s (ffmpeg).
# Prints the hours of queries, the asserted false matches (runs shared with the clip itself are
# copies within it, not archive matches) and the rate with its exact Poisson 95 % interval.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/hunt}
bench=target/evaluate/full
[ -d "$bench/archive" ] && [ -d "$bench/unarchived" ] || {
    echo "run the full benchmark first: cargo run --release --example evaluate -- --corpus ../shared/corpus" >&2
    exit 2
}
rm -rf "$work"
mkdir -p "$work"/{atext,qtext,arch,q}
cargo build --release --example index --example analyze >&2

python3 - "$work" "${HUNT_CHUNKS:-0}" <<'EOF'
import glob, os, re, sys, zlib
work, keep = sys.argv[1], int(sys.argv[2])
ARCHIVE_WORDS, QUERY_WORDS, CHUNK = 78000, 46000, 1400

def clean(line):
    line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)
    line = re.sub(r"https?://\S+", " ", line)
    line = re.sub(r"[`*#>|_<>\[\]{}()=]", " ", line)
    return " ".join(w for w in line.split() if re.search("[A-Za-z]", w))

def paragraphs(lines):
    # Prose paragraphs of markdown lines, fenced code left out.
    par, code = [], False
    for line in lines:
        if line.strip().startswith("```"):
            code = not code
            continue
        text = "" if code else clean(line)
        if len(text.split()) >= 4:
            par.append(text)
        elif par:
            yield " ".join(par)
            par = []
    if par:
        yield " ".join(par)

def crate_text(folder):
    for readme in sorted(glob.glob(folder + "README*")):
        yield from paragraphs(open(readme, errors="ignore"))
    for source in sorted(glob.glob(folder + "**/*.rs", recursive=True)):
        matches = (re.match(r"\s*//[/!] ?(.*)", l) for l in open(source, errors="ignore"))
        lines = [m.group(1) if m else "" for m in matches]
        yield from paragraphs(lines)

def sentences(text):
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 4]

def shingles(sentence, n=6):
    w = re.sub(r"[^a-z0-9 ]", " ", sentence.lower()).split()
    return {" ".join(w[i:i + n]) for i in range(max(1, len(w) - n + 1))}

# Sides by crate name (all versions of a crate on one side), 3 of 5 to the archive.
folders = sorted(glob.glob(os.path.expanduser("~/.cargo/registry/src/*/*/")))
crate = lambda f: re.sub(r"-\d+\.\d+\.\d+.*$", "", os.path.basename(f.rstrip("/")))
side = lambda f: "atext" if zlib.crc32(crate(f).encode()) % 5 < 3 else "qtext"
seen, archive_shingles, out = set(), set(), {"atext": [], "qtext": []}
for name in ("atext", "qtext"):
    words = 0
    for f in folders:
        if side(f) != name:
            continue
        for par in crate_text(f):
            for s in sentences(par):
                key = s.lower()
                if key in seen:
                    continue
                seen.add(key)
                sh = shingles(s)
                # A query never speaks a sentence sharing six words in a row with the archive:
                # the same words from the same synthesiser are a re-rendering, not new audio.
                if name == "qtext" and sh & archive_shingles:
                    continue
                if name == "atext":
                    archive_shingles |= sh
                out[name].append(s)
                words += len(s.split())
        if words >= (ARCHIVE_WORDS if name == "atext" else QUERY_WORDS):
            break
for name, sents in out.items():
    words = " ".join(sents).split()
    limit = ARCHIVE_WORDS if name == "atext" else QUERY_WORDS
    words = words[:limit]
    chunks = [words[k:k + CHUNK] for k in range(0, len(words), CHUNK)]
    for n, chunk in enumerate(chunks[:keep or None]):
        open(f"{work}/{name}/{n:03d}.txt", "w").write(" ".join(chunk))
    print(name, len(words), "words", len(chunks), "chunks", file=sys.stderr)
EOF

export work
ls "$work"/atext/*.txt | xargs -P2 -I{} sh -c \
    'espeak-ng -v en-us -s 100 -w "$work/arch/tts-$(basename {} .txt).wav" -f {}'
ls "$work"/qtext/*.txt | xargs -P2 -I{} sh -c \
    'b=$(basename {} .txt); espeak-ng -v en-gb -s 120 -w "$work/q/tts-gb-$b.wav" -f {};
     espeak-ng -v en-us+f3 -s 160 -p 70 -w "$work/q/tts-usf-$b.wav" -f {}'
cp "$bench"/archive/*.wav "$work/arch/"
for f in "$bench"/unarchived/*.wav; do
    b=$(basename "$f" .wav)
    cp "$f" "$work/q/plain-$b.wav"
    sox -q "$f" "$work/q/rev-$b.wav" reverse
    sox -q "$f" "$work/q/tempo125-$b.wav" tempo 1.25
    sox -q "$f" "$work/q/tempo080-$b.wav" tempo 0.8
    sox -q "$f" "$work/q/pitch300-$b.wav" pitch 300
    sox -q "$f" "$work/q/pitchm300-$b.wav" pitch -300
    ffmpeg -v error -y -i "$f" -c:a aac -b:a 24k "$work/q/aac-$b.m4a"
    ffmpeg -v error -y -i "$f" -c:a libopus -b:a 16k "$work/q/opus-$b.ogg"
done

target/release/examples/index "$work/idx" add "$work/arch/" > "$work/index.log"
target/release/examples/analyze --index "$work/idx" --out "$work/out" "$work/q/" > "$work/analyze.log"

python3 - "$work" <<'EOF'
import glob, json, math, os, sys
work = sys.argv[1]
hours, false, archive_s = 0.0, [], 0.0
for line in open(f"{work}/index.log"):
    parts = line.split()
    if parts and parts[0] == "added":
        archive_s += float(parts[-1])
for f in sorted(glob.glob(f"{work}/out/*.json")):
    r = json.load(open(f))
    hours += r["duration_s"] / 3600
    stem = os.path.basename(f)[:-5]
    for m in r["matches"]:
        if m["confidence"] >= 0.5 and not m["reference"].startswith(stem):
            false.append((stem, m["reference"], m["clip_start_s"], m["clip_end_s"], m["confidence"]))

def poisson_bound(k, upper):
    # Exact Poisson 95 % bounds (Garwood 1936) by bisection on the CDF.
    def cdf(mu, k):
        return sum(math.exp(-mu) * mu ** i / math.factorial(i) for i in range(k + 1))
    lo, hi = 0.0, 10.0 * (k + 5)
    for _ in range(200):
        mid = (lo + hi) / 2
        p = cdf(mid, k) if upper else 1 - cdf(mid, k - 1)
        if (p > 0.025) == upper:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2

print(f"archive {archive_s / 3600:.2f} h; queries {hours:.2f} h; asserted false matches {len(false)}")
for x in false:
    print("  %s ~ %s  %.2f-%.2f s  confidence %.3f" % x)
k = len(false)
lo = 0.0 if k == 0 else poisson_bound(k, False)
hi = poisson_bound(k, True)
print(f"rate {k / hours:.3f}/h [{lo / hours:.3f}, {hi / hours:.3f}] (exact Poisson 95 %)")
EOF
