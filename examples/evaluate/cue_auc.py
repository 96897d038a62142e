#!/usr/bin/env python3
"""Per-cue ROC AUC: how well each raw cue track separates true cuts from other instants.

    cargo run --release --example cue_tracks -- CLIPS... > tracks.jsonl
    python3 examples/evaluate/cue_auc.py tracks.jsonl [--split train] [--hum yes|no|any]

For every clip in tracks.jsonl whose truth file (CLIP with .truth.json) exists, each cue's
strength (value/(value+scale) times confidence, as CueTrack::strength) is read as the maximum within
±TOL of every true cut (positives) and at every instant further than 1 s from any cut, sampled
every 0.25 s (negatives). Prints, per cue, AUC over all clips and over clips where the cue was
usable, with the counts. --hum keeps clips whose source pieces carry mains hum (yes) or none (no):
the benchmark's synthetic hum, or with --corpus also the recording's own hum (a long-FFT line test).
"""
import argparse
import json
import os
import subprocess

import numpy as np

TOL_S = 0.05
NEG_STEP_S = 0.25
NEG_GUARD_S = 1.0


# A recording carries hum of its own when a mains line (50/60 Hz or their 2nd/3rd harmonic) stands
# this many dB above the strongest bin 3-8 Hz below it in the whole recording's spectrum (0.5 Hz
# bins or finer): many LibriSpeech/LibriVox readings do.
INHERENT_HUM_DB = 12.0
_inherent = {}


def inherent_hum(corpus, recording):
    """True when the corpus recording itself carries mains hum (long-FFT line test)."""
    if recording not in _inherent:
        raw = subprocess.run(["ffmpeg", "-v", "quiet", "-i", os.path.join(corpus, recording),
                              "-ac", "1", "-ar", "16000", "-f", "s16le", "-"],
                             capture_output=True, check=True).stdout
        x = np.frombuffer(raw, dtype=np.int16).astype(float)
        power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2 + 1e-9
        f = np.fft.rfftfreq(len(x), 1 / 16000)
        best = -99.0
        for line in (50, 60, 100, 120, 150, 180):
            peak = power[(f >= line - 0.5) & (f < line + 0.5)].max()
            side = power[(f >= line - 8) & (f < line - 3)].max()
            best = max(best, 10 * np.log10(peak / side))
        _inherent[recording] = best >= INHERENT_HUM_DB
    return _inherent[recording]


def strength(track, i):
    v, c = track["values"][i], track["confidence"][i]
    s = track["scale"]
    return c * v / (v + s) if v > 0 and s > 0 else 0.0


def window_max(track, t0, t1):
    n = len(track["values"])
    a = max(0, int((t0 - track["start_s"]) / track["step_s"]))
    b = min(n - 1, int((t1 - track["start_s"]) / track["step_s"]) + 1)
    return max((strength(track, i) for i in range(a, b + 1)), default=0.0)


def auc(pos, neg):
    """Mann-Whitney AUC with ties counted half."""
    if not pos or not neg:
        return float("nan")
    allv = sorted([(v, 1) for v in pos] + [(v, 0) for v in neg])
    rank_sum, i = 0.0, 0
    while i < len(allv):
        j = i
        while j < len(allv) and allv[j][0] == allv[i][0]:
            j += 1
        mid = (i + j + 1) / 2.0
        rank_sum += mid * sum(1 for k in range(i, j) if allv[k][1])
        i = j
    n1, n0 = len(pos), len(neg)
    return (rank_sum - n1 * (n1 + 1) / 2.0) / (n1 * n0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tracks")
    ap.add_argument("--split", default="train")
    ap.add_argument("--hum", default="any", choices=["yes", "no", "any"])
    ap.add_argument("--kind", default="any", help="clip kind (deletion, reassembled, ...)")
    ap.add_argument("--corpus", help="corpus folder: count the recordings' own hum as hum")
    args = ap.parse_args()
    data = {}
    for line in open(args.tracks):
        rec = json.loads(line)
        truth_path = os.path.splitext(rec["clip"])[0] + ".truth.json"
        if not os.path.exists(truth_path):
            continue
        truth = json.load(open(truth_path))
        if truth["split"] != args.split:
            continue
        if args.kind != "any" and truth["kind"] != args.kind:
            continue
        hum = any(p["acoustics"]["hum"] for p in truth["pieces"])
        if args.corpus and not hum:
            hum = any(inherent_hum(args.corpus, p["recording"]) for p in truth["pieces"])
        if args.hum != "any" and hum != (args.hum == "yes"):
            continue
        cuts = [s["time_s"] for s in truth["splices"]]
        for track in rec["cues"]:
            d = data.setdefault(track["key"], {"pos": [], "neg": [], "upos": [], "uneg": []})
            usable = track["usability"]["usable"]
            pos = [window_max(track, c - TOL_S, c + TOL_S) for c in cuts]
            neg = []
            t = NEG_STEP_S
            while t < rec["duration_s"] - NEG_STEP_S:
                if all(abs(t - c) > NEG_GUARD_S for c in cuts):
                    neg.append(window_max(track, t - TOL_S, t + TOL_S))
                t += NEG_STEP_S
            d["pos"] += pos
            d["neg"] += neg
            if usable:
                d["upos"] += pos
                d["uneg"] += neg
    print(f"split {args.split}, hum {args.hum}, kind {args.kind}, ±{TOL_S * 1000:.0f} ms")
    print("| cue | cuts | AUC all | usable cuts | AUC usable |")
    print("|---|---:|---:|---:|---:|")
    for key, d in data.items():
        print(f"| {key} | {len(d['pos'])} | {auc(d['pos'], d['neg']):.3f} | "
              f"{len(d['upos'])} | {auc(d['upos'], d['uneg']):.3f} |")


if __name__ == "__main__":
    main()
