#!/usr/bin/env python3
"""Where the matches' edges land against the true cuts: the error distribution issue 4 asks for.

    cargo run --release --example evaluate -- --corpus ../shared/corpus
    python3 examples/evaluate/boundary_errors.py target/evaluate/full [test|train]

For every archived piece of every clip of the split, the asserted archive match at the piece's
alignment (same reference, reference start minus speed times clip start within 0.1 s) is found;
the start error is measured at pieces that do not begin the clip, and the end error at pieces
that do not end it (by their order in the truth, not by time: a codec's padding makes the clip
longer than its last piece), against the true cut nearest to the piece's edge. Prints the count, median,
95th percentile and the fractions within 50 and 100 ms of the absolute errors, and the median of
the signed errors (positive: the match's edge lies after the cut), which shows a systematic lag.
Standard library only.
"""
import glob
import json
import os
import statistics
import sys


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "target/evaluate/full"
    split = sys.argv[2] if len(sys.argv) > 2 else "test"
    errors = {"start": [], "end": []}
    for path in sorted(glob.glob(os.path.join(root, "reports", split + "-*.json"))):
        stem = os.path.basename(path)[:-5]
        condition = stem.split("--")[1]
        truth = json.load(open(os.path.join(root, "clips", condition, stem + ".truth.json")))
        cuts = [s["time_s"] for s in truth["splices"]]
        if not cuts:
            continue
        report = json.load(open(path))
        asserted = [
            m for m in report["matches"] if m["confidence"] >= 0.5 and not m.get("within_clip")
        ]
        pieces = truth["pieces"]
        for index, piece in enumerate(pieces):
            if not piece.get("reference"):
                continue
            alignment = piece["source_start_s"] - piece["speed"] * piece["clip_start_s"]
            candidates = [
                m
                for m in asserted
                if m["reference"] == piece["reference"]
                and abs((m["reference_start_s"] - m["speed"] * m["clip_start_s"]) - alignment) < 0.1
            ]
            if not candidates:
                continue
            for edge, key in (("start", "clip_start_s"), ("end", "clip_end_s")):
                at = piece[key]
                # The clip's own ends are no cuts: the first piece's start and the last piece's
                # end (a lossy codec pads the file, so the last piece may end up to a frame
                # before `duration_s`; until session 6 such ends were measured against the
                # nearest cut, seconds away).
                first, last = index == 0, index == len(pieces) - 1
                if (edge == "start" and first) or (edge == "end" and last):
                    continue
                if at <= 0.01 or at >= truth["duration_s"] - 0.01:
                    continue
                cut = min(cuts, key=lambda c: abs(c - at))
                m = min(candidates, key=lambda m: abs(m[key] - cut))
                errors[edge].append(m[key] - cut)
    print(f"{split} split: match edges against the nearest true cut")
    print(
        "| edge | pieces | median abs error | 95th percentile | within 50 ms | within 100 ms "
        "| median signed error |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for edge, values in errors.items():
        a = [abs(v) for v in values]
        if not a:
            continue
        within = lambda t: sum(x <= t for x in a) / len(a)
        print(
            f"| {edge} | {len(a)} | {statistics.median(a) * 1000:.0f} ms | "
            f"{percentile(a, 0.95):.2f} s | {within(0.05):.3f} | {within(0.1):.3f} | "
            f"{statistics.median(values) * 1000:+.0f} ms |"
        )


if __name__ == "__main__":
    main()
