"""Per tool: share of archived pieces >= 2 s that an asserted match lands on (same reference,
reference position within 0.25 s at a time both cover, wherever the match starts), and the
landed matches' start and end errors, for the speed conditions and all others together.

usage: python3 benches/peer_piece_errors.py TRUTH_DIR NAME=REPORTS_DIR...

TRUTH_DIR   folder searched (recursively) for the benchmark's *.truth.json
            (target/evaluate/full/clips after `cargo run --release --example evaluate`)
REPORTS_DIR one CLIP.json per clip (ours: target/evaluate/full/reports; a peer: what
            ../shared/tools/peers/run_peer.py wrote)
"""
import json, glob, os, sys, statistics as st
if len(sys.argv) < 3:
    sys.exit(__doc__)
tools = dict(a.split("=", 1) for a in sys.argv[2:])
truths = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(sys.argv[1], "**", "*.truth.json"), recursive=True))]
def q(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(p * len(v)))] if v else float("nan")
for name, d in tools.items():
    rows = {}
    for t in truths:
        rep = json.load(open(os.path.join(d, t["clip"] + ".json")))
        ms = [m for m in rep.get("matches", []) if m.get("confidence", 0) >= 0.5 and not m.get("within_clip")]
        for p in t["pieces"]:
            if not p["reference"] or p["clip_end_s"] - p["clip_start_s"] < 2.0: continue
            cond = t["condition"] if t["condition"].startswith("speed") else "other"
            r = rows.setdefault(cond, [0, 0, [], []]); r[0] += 1
            best = None
            for m in ms:
                if m["reference"] != p["reference"]: continue
                lo = max(p["clip_start_s"], m["clip_start_s"]); hi = min(p["clip_end_s"], m["clip_end_s"])
                if hi <= lo: continue
                truth_src = p["source_start_s"] + (lo - p["clip_start_s"]) * p["speed"]
                match_ref = m["reference_start_s"] + (lo - m["clip_start_s"]) * m.get("speed", 1.0)
                if abs(truth_src - match_ref) <= 0.25 and (best is None or hi - lo > best[0]):
                    best = (hi - lo, m)
            if best:
                m = best[1]; r[1] += 1
                r[2].append(m["clip_start_s"] - p["clip_start_s"]); r[3].append(m["clip_end_s"] - p["clip_end_s"])
    for cond in sorted(rows):
        n, f, s, e = rows[cond]
        print("%-18s %-9s pieces %4d landed %4d (%.3f)  start err median %+.3f s, |err| median %.3f p95 %.3f; end err median %+.3f, |err| p95 %.3f"
              % (name, cond, n, f, f / n, st.median(s) if s else float('nan'), q([abs(x) for x in s], .5), q([abs(x) for x in s], .95),
                 st.median(e) if e else float('nan'), q([abs(x) for x in e], .95)))
