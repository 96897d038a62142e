#!/usr/bin/env python3
"""Per-cue ROC AUC: how well each raw cue track separates true cuts from other instants.

    cargo run --release --example cue_tracks -- CLIPS... > tracks.jsonl
    python3 examples/evaluate/cue_auc.py tracks.jsonl [--split train] [--hum yes|no|any]

For every clip in tracks.jsonl whose truth file (CLIP with .truth.json) exists, each cue's
strength (value/(value+scale) times confidence, as CueTrack::strength) is read as the maximum within
±TOL of every true cut (positives) and at every instant further than 1 s from any cut, sampled
every 0.25 s (negatives). Prints, per cue, AUC over all clips and over clips where the cue was
usable, with the counts, and where the cue's peak near each cut lies. --hum keeps clips whose source pieces carry mains hum (yes) or none (no):
the hum the benchmark added, or the recording's own (the truth's `own_hum_db`).
"""
import argparse
import json
import os

TOL_S = 0.05
# Peak placement: the strongest instant within this of a cut, counted when at least PEAK_STRENGTH.
PEAK_REACH_S = 0.5
PEAK_STRENGTH = 0.3
NEG_STEP_S = 0.25
NEG_GUARD_S = 1.0


# A piece's recording carries hum of its own at this many dB and more (the benchmark's truth
# records it as `own_hum_db`; corpus.rs, OWN_HUM_DB).
OWN_HUM_DB = 12.0


def has_hum(piece):
    """Whether the piece's source carries mains hum: added by the benchmark, or its own."""
    return bool(piece["acoustics"]["hum"]) or piece.get("own_hum_db", 0.0) >= OWN_HUM_DB


def strength(track, i):
    v, c = track["values"][i], track["confidence"][i]
    s = track["scale"]
    return c * v / (v + s) if v > 0 and s > 0 else 0.0


def window_max(track, t0, t1):
    n = len(track["values"])
    a = max(0, int((t0 - track["start_s"]) / track["step_s"]))
    b = min(n - 1, int((t1 - track["start_s"]) / track["step_s"]) + 1)
    return max((strength(track, i) for i in range(a, b + 1)), default=0.0)


def peak_error(track, cut):
    """|time − cut| of the track's strongest instant within PEAK_REACH_S of `cut`, or None when
    that instant is weaker than PEAK_STRENGTH."""
    best = None
    for i in range(len(track["values"])):
        t = track["start_s"] + i * track["step_s"]
        if abs(t - cut) <= PEAK_REACH_S and (best is None or strength(track, i) > best[0]):
            best = (strength(track, i), abs(t - cut))
    return best[1] if best and best[0] > PEAK_STRENGTH else None


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
        hum = any(has_hum(p) for p in truth["pieces"])
        if args.hum != "any" and hum != (args.hum == "yes"):
            continue
        cuts = [s["time_s"] for s in truth["splices"]]
        for track in rec["cues"]:
            d = data.setdefault(track["key"],
                                {"pos": [], "neg": [], "upos": [], "uneg": [], "errors": []})
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
                d["errors"] += [e for e in (peak_error(track, c) for c in cuts) if e is not None]
    print(f"split {args.split}, hum {args.hum}, kind {args.kind}, ±{TOL_S * 1000:.0f} ms")
    print("| cue | cuts | AUC all | usable cuts | AUC usable |")
    print("|---|---:|---:|---:|---:|")
    for key, d in data.items():
        print(f"| {key} | {len(d['pos'])} | {auc(d['pos'], d['neg']):.3f} | "
              f"{len(d['upos'])} | {auc(d['upos'], d['uneg']):.3f} |")
    print()
    print(f"Peak placement where usable: the strongest instant within ±{PEAK_REACH_S} s of each cut, "
          f"when its strength is at least {PEAK_STRENGTH}")
    print("| cue | peaks | median error (ms) | within 50 ms | within 100 ms |")
    print("|---|---:|---:|---:|---:|")
    for key, d in data.items():
        e = sorted(d["errors"])
        if not e:
            print(f"| {key} | 0 | n/a | n/a | n/a |")
            continue
        mid = len(e) // 2
        median = e[mid] if len(e) % 2 else (e[mid - 1] + e[mid]) / 2
        share = lambda tol: sum(x <= tol for x in e) / len(e)
        print(f"| {key} | {len(e)} | {median * 1000:.0f} | {share(0.05):.2f} | {share(0.1):.2f} |")


if __name__ == "__main__":
    main()
