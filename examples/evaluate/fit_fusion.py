#!/usr/bin/env python3
"""Fits the splice fusion and the verdict score on the benchmark's training split, and checks
their calibration on the test split.

    cargo run --release --example evaluate -- --corpus ../shared/corpus   # with the config below
    python3 examples/evaluate/fit_fusion.py target/evaluate/full

The reports must list every splice candidate: run the benchmark once with
`splice_min_score` 0 (evaluate's `--config FILE`, a JSON `{"splice_min_score": 0}`). Needs
numpy. Prints the constants for `src/splice.rs` (FUSION) and `src/verdict.rs` (VERDICT_MODEL),
and for each split a reliability table (reported score bin, count, fraction real) and the
Brier score.

A candidate is real when a true splice lies within 50 ms of it (the benchmark's middle
tolerance); each true splice makes at most one candidate real (the nearest).
"""
import glob
import json
import os
import sys

import numpy as np

CUES = ["noise_floor", "channel", "enf", "codec", "waveform", "reverb"]
TOLERANCE_S = 0.05
MAX_LOGIT = 12.0
# Each acoustic cue's strength above this is a second input (src/splice.rs, FUSION_HINGE).
HINGE = 0.5


def inputs(splice):
    c = splice["cues"]
    x = [float(c.get(k, 0.0)) for k in CUES]
    a = float(c.get("archive", 0.0))
    return x + [a, 1.0 if a >= 0.5 else 0.0] + [max(0.0, v - HINGE) for v in x]


def load(root):
    rows = {"train": [], "test": []}
    clips = {"train": [], "test": []}
    for path in sorted(glob.glob(os.path.join(root, "reports", "*.json"))):
        stem = os.path.basename(path)[:-5]
        split = stem.split("-")[0]
        condition = stem.split("--")[1]
        truth_path = os.path.join(root, "clips", condition, stem + ".truth.json")
        truth = json.load(open(truth_path))
        report = json.load(open(path))
        true_times = [s["time_s"] for s in truth["splices"]]
        splices = report.get("splices", [])
        # One-to-one: each true splice makes its nearest candidate within tolerance real.
        real = [False] * len(splices)
        for t in true_times:
            best = None
            for i, s in enumerate(splices):
                d = abs(s["time_s"] - t)
                if d <= TOLERANCE_S and not real[i] and (best is None or d < best[0]):
                    best = (d, i)
            if best:
                real[best[1]] = True
        for s, r in zip(splices, real):
            rows[split].append((inputs(s), r))
        matches = report.get("matches", [])
        archive = max([m["confidence"] for m in matches if not m.get("within_clip")] + [0.0])
        copy = max([m["confidence"] for m in matches if m.get("within_clip")] + [0.0])
        clips[split].append(
            {
                "inputs": [inputs(s) for s in splices],
                "archive": archive,
                "copy": copy,
                "edited": truth["label"] != "authentic",
                "condition": condition,
            }
        )
    return rows, clips


def fit_logistic(x, y, l2=1e-3, iterations=50):
    """Newton-Raphson (IRLS) for a logistic model with an intercept and a small L2 penalty."""
    x = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-x @ w))
        g = x.T @ (p - y) + l2 * np.r_[0, w[1:]]
        h = x.T @ (x * (p * (1 - p))[:, None]) + l2 * np.diag(np.r_[0, np.ones(len(w) - 1)])
        step = np.linalg.solve(h, g)
        w -= step
        if np.max(np.abs(step)) < 1e-9:
            break
    return w


def predict(w, x):
    return 1 / (1 + np.exp(-(w[0] + np.asarray(x) @ w[1:])))


def reliability(p, y, title):
    print(f"\n{title}: {len(p)} items, {int(y.sum())} real, Brier {np.mean((p - y) ** 2):.4f}")
    print("| score | count | mean score | fraction real |")
    print("|---|---:|---:|---:|")
    edges = np.linspace(0, 1, 11)
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
        if m.sum():
            print(f"| {lo:.1f}–{hi:.1f} | {m.sum()} | {p[m].mean():.3f} | {y[m].mean():.3f} |")


def logit(p):
    p = np.clip(p, 0.0, 1.0)
    with np.errstate(divide="ignore"):
        return np.clip(np.log(p) - np.log1p(-p), -MAX_LOGIT, MAX_LOGIT)


def verdict_inputs(clips, w):
    xs, ys = [], []
    for c in clips:
        splice = max([predict(w, i) for i in c["inputs"]] + [0.0])
        xs.append([logit(splice), logit(c["archive"]), logit(c["copy"])])
        ys.append(1.0 if c["edited"] else 0.0)
    return np.array(xs), np.array(ys)


def auc(p, y):
    pos, neg = p[y == 1], p[y == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return greater + 0.5 * ties


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "target/evaluate/full"
    rows, clips = load(root)
    x = np.array([r[0] for r in rows["train"]])
    y = np.array([1.0 if r[1] else 0.0 for r in rows["train"]])
    w = fit_logistic(x, y)
    print("FUSION (src/splice.rs), fitted on", len(y), "training candidates,", int(y.sum()), "real:")
    print(f"    bias: {w[0]:.4f},")
    print("    weights: [" + ", ".join(f"{v:.4f}" for v in w[1:]) + "],")
    for split in ["train", "test"]:
        xs = np.array([r[0] for r in rows[split]])
        ys = np.array([1.0 if r[1] else 0.0 for r in rows[split]])
        reliability(predict(w, xs), ys, f"splice scores, {split} split")
    vx, vy = verdict_inputs(clips["train"], w)
    v = fit_logistic(vx, vy, l2=1e-2)
    print("\nVERDICT_MODEL (src/verdict.rs), fitted on", len(vy), "training clips:")
    print(f"    bias: {v[0]:.4f},")
    print("    weights: [" + ", ".join(f"{t:.4f}" for t in v[1:]) + "],")
    for split in ["train", "test"]:
        tx, ty = verdict_inputs(clips[split], w)
        p = predict(v, tx)
        reliability(p, ty, f"verdict scores, {split} split")
        print(f"ROC AUC {auc(p, ty):.4f}")


if __name__ == "__main__":
    main()
