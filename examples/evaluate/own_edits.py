#!/usr/bin/env python3
"""Edits already inside the corpus's recordings: phase jumps of a recording's own mains hum.

    python3 examples/evaluate/own_edits.py ../shared/corpus

A recording read aloud for LibriVox (and the LibriSpeech utterances cut from such recordings) is
edited by its reader: a retake spliced in leaves the recording's own hum jumping in phase. The
benchmark calls clips cut from one recording "authentic", so a stretch holding such an edit would
count a true finding as a false splice; `corpus.rs` (OWN_EDITS) keeps each listed recording only
up to its first edit. This scan is independent of the library's ENF cue: for each speech file
with a hum line (the strongest of 50 or 60 Hz ± 0.3 Hz, at least 10 dB over its neighbours at
± 3 and 4 Hz), the line is demodulated (0.2 s moving average, 100 phases a second), straight lines
are fitted to the unwrapped phase over 0.2–2 s each side of every instant (every 50 ms), and a
jump is reported where the two lines disagree at the instant by more than 30 degrees and by more
than three times the larger fit's residual (standard deviation), with neither residual above 15
degrees (a line that wanders, as on tape, is not read).
Needs numpy and ffmpeg.
"""
import glob
import os
import subprocess
import sys

import numpy as np

RATE_HZ = 2000
MIN_LINE_DB = 10.0
MIN_JUMP_DEG = 30.0
MAX_RESIDUAL_DEG = 15.0
JUMP_OVER_RESIDUAL = 3.0


def load(path):
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", path, "-ac", "1", "-ar", str(RATE_HZ), "-f", "f32le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.float32).astype(float)


def line(x):
    """The strongest hum line (its frequency) and its level over the neighbours, in dB."""
    t = np.arange(len(x)) / RATE_HZ
    power = lambda f: abs(np.mean(x * np.exp(-2j * np.pi * f * t))) ** 2
    best = None
    for nominal in (50.0, 60.0):
        freqs = np.arange(nominal - 0.3, nominal + 0.301, 0.01)
        powers = [power(f) for f in freqs]
        side = np.mean([power(nominal + o) for o in (-4, -3, 3, 4)])
        db = 10 * np.log10(max(powers) / side)
        if best is None or db > best[1]:
            best = (freqs[int(np.argmax(powers))], db)
    return best


def jumps(x, freq):
    t = np.arange(len(x)) / RATE_HZ
    n = int(0.2 * RATE_HZ)
    z = np.convolve(x * np.exp(-2j * np.pi * freq * t), np.ones(n) / n, "same")[:: RATE_HZ // 100]
    phase = np.unwrap(np.angle(z))
    tt = np.arange(len(z)) * 0.01
    rows = []
    for at in np.arange(2.0, tt[-1] - 2.0, 0.05):
        left = (tt > at - 2) & (tt < at - 0.2)
        right = (tt > at + 0.2) & (tt < at + 2)
        fl = np.polyfit(tt[left], phase[left], 1)
        fr = np.polyfit(tt[right], phase[right], 1)
        jump = (np.polyval(fr, at) - np.polyval(fl, at) + np.pi) % (2 * np.pi) - np.pi
        residual = max(
            np.std(phase[left] - np.polyval(fl, tt[left])),
            np.std(phase[right] - np.polyval(fr, tt[right])),
        )
        rows.append((abs(np.degrees(jump)), np.degrees(residual), at))
    found = []
    for i, (jump, residual, at) in enumerate(rows):
        peak = max(r[0] for r in rows[max(0, i - 20) : i + 21])
        if (
            jump > max(MIN_JUMP_DEG, JUMP_OVER_RESIDUAL * residual)
            and residual < MAX_RESIDUAL_DEG
            and jump == peak
        ):
            found.append((at, jump, residual))
    return found


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus"
    for path in sorted(glob.glob(os.path.join(corpus, "speech", "*"))):
        x = load(path)
        if len(x) < 5 * RATE_HZ:
            continue
        freq, db = line(x)
        if db < MIN_LINE_DB:
            continue
        found = jumps(x, freq)
        if found:
            listed = "; ".join(f"{at:.2f} s: {j:.0f} deg (residual {r:.0f})" for at, j, r in found)
            print(f"{os.path.basename(path)}: hum {freq:.2f} Hz, {db:.1f} dB: {listed}")


if __name__ == "__main__":
    main()
