#!/usr/bin/env python3
"""Helper for make_fixtures.sh (standard library only, no numpy).

Every number this script writes comes from ffmpeg/ffprobe output (decoded PCM, ffprobe fields,
`ffprobe -v trace` edit-list lines), never from the crate under test. The small MP4 box reader
below is only a cross-check of the trace lines: when the two disagree the script fails.

Sub-commands (all paths relative to the current directory):
  click RATE IN.f32 MONO.wav STEREO.wav   add the click to resampled speech, write float WAVs
  wavpatch IN.wav OUT.wav FIELD VALUE     rewrite one fmt-chunk field (channels | sample_rate)
  expected MANIFEST                       expected.tsv (header + one row per fixture) on stdout
  bad MANIFEST                            bad/expected.tsv on stdout (run inside testdata/bad)
  readme MANIFEST EXPECTED BAD_MANIFEST BAD_EXPECTED SHORTHANDS   README tables on stdout
"""

import array
import json
import re
import struct
import subprocess
import sys

# The click: one sample at CLICK_AMPLITUDE, exactly CLICK_TIME_S into the source (sample
# index CLICK_TIME_S * rate, an integer for every rate used). The speech is scaled by
# SPEECH_GAIN first, so its peak (0.40 in the corpus file's excerpt) becomes about 0.20 and the
# click stays the loudest sample even after a lossy codec spreads it over a few samples.
CLICK_TIME_S = 1
SOURCE_LENGTH_S_X10 = 35  # 3.5 s; tenths keep every length an exact integer at every rate
CLICK_AMPLITUDE = 0.9
SPEECH_GAIN = 0.5
# The stereo sources are L = x, R = RIGHT_GAIN * x (speech and click alike), so the channels
# can be told apart and channel order checked.
RIGHT_GAIN = 0.5
# Samples either side of the click that are left out when measuring the loudest *other* sample
# (10 ms: longer than any codec's smear of the click seen in these files, see README).
OTHER_PEAK_GUARD_S = 0.010


def write_float_wav(path, rate, channels, samples):
    """WAVE_FORMAT_IEEE_FLOAT (tag 3), 32-bit, interleaved `samples` (array('f'))."""
    data = samples.tobytes()
    if sys.byteorder != "little":
        swapped = array.array("f", samples)
        swapped.byteswap()
        data = swapped.tobytes()
    fmt = struct.pack("<HHIIHH", 3, channels, rate, rate * channels * 4, channels * 4, 32)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"data" + struct.pack("<I", len(data)) + data)


def read_f32(data):
    a = array.array("f")
    a.frombytes(data[: len(data) // 4 * 4])
    if sys.byteorder != "little":
        a.byteswap()
    return a


def cmd_click(rate, src, mono_path, stereo_path):
    rate = int(rate)
    with open(src, "rb") as f:
        x = read_f32(f.read())
    x = array.array("f", (v * SPEECH_GAIN for v in x))
    click = CLICK_TIME_S * rate
    x[click] = CLICK_AMPLITUDE
    write_float_wav(mono_path, rate, 1, x)
    st = array.array("f", bytes(8 * len(x)))
    st[0::2] = x
    st[1::2] = array.array("f", (v * RIGHT_GAIN for v in x))
    write_float_wav(stereo_path, rate, 2, st)


def cmd_wavpatch(src, dst, field, value):
    """Rewrite a field of the first fmt chunk of a canonical WAV (fmt chunk at byte 12)."""
    with open(src, "rb") as f:
        b = bytearray(f.read())
    assert b[0:4] == b"RIFF" and b[8:12] == b"WAVE" and b[12:16] == b"fmt ", "not a canonical WAV"
    offsets = {"channels": (22, "<H"), "sample_rate": (24, "<I")}
    off, fmt = offsets[field]
    struct.pack_into(fmt, b, off, int(value))
    with open(dst, "wb") as f:
        f.write(b)


# ---------------------------------------------------------------- MP4 box cross-check

def _boxes(b, start, end):
    pos = start
    while pos + 8 <= end:
        size, typ = struct.unpack(">I4s", b[pos : pos + 8])
        hdr = 8
        if size == 1:
            size = struct.unpack(">Q", b[pos + 8 : pos + 16])[0]
            hdr = 16
        elif size == 0:
            size = end - pos
        if size < hdr or pos + size > end:
            return
        yield typ.decode("latin-1"), pos + hdr, pos + size
        pos += size


def mp4_tracks(path):
    """[(handler, media_timescale, [(segment_duration, media_time, rate)])] per trak, and the
    mvhd timescale; read directly from the boxes."""
    with open(path, "rb") as f:
        b = f.read()
    tracks, movie_ts = [], None
    for typ, s, e in _boxes(b, 0, len(b)):
        if typ != "moov":
            continue
        for t2, s2, e2 in _boxes(b, s, e):
            if t2 == "mvhd":
                v = b[s2]
                movie_ts = struct.unpack(">I", b[s2 + (20 if v == 1 else 12) : s2 + (24 if v == 1 else 16)])[0]
            if t2 != "trak":
                continue
            handler, media_ts, elst = None, None, []
            for t3, s3, e3 in _boxes(b, s2, e2):
                if t3 == "edts":
                    for t4, s4, e4 in _boxes(b, s3, e3):
                        if t4 == "elst":
                            v = b[s4]
                            n = struct.unpack(">I", b[s4 + 4 : s4 + 8])[0]
                            p = s4 + 8
                            for _ in range(n):
                                if v == 1:
                                    d, m = struct.unpack(">Qq", b[p : p + 16])
                                    p += 16
                                else:
                                    d, m = struct.unpack(">Ii", b[p : p + 8])
                                    p += 8
                                ri, rf = struct.unpack(">hh", b[p : p + 4])
                                p += 4
                                elst.append((d, m, ri + rf / 65536))
                if t3 == "mdia":
                    for t4, s4, e4 in _boxes(b, s3, e3):
                        if t4 == "mdhd":
                            v = b[s4]
                            o = s4 + (20 if v == 1 else 12)
                            media_ts = struct.unpack(">I", b[o : o + 4])[0]
                        if t4 == "hdlr":
                            handler = b[s4 + 8 : s4 + 12].decode("latin-1")
            tracks.append((handler, media_ts, elst))
    return tracks, movie_ts


def trace_elst(path):
    """Edit lists as `ffprobe -v trace` prints them: {stream index: [(duration, time, rate)]},
    and the mvhd time scale it prints."""
    p = subprocess.run(["ffprobe", "-v", "trace", "-i", path], capture_output=True, text=True)
    out, cur, movie_ts = {}, None, None
    for line in p.stderr.splitlines():
        body = line.split("] ", 1)[-1].strip()
        if body.startswith("time scale = ") and movie_ts is None:
            movie_ts = int(body.split("=")[1])
        elif body.startswith("track[") and ".edit_count = " in body:
            cur = int(body[6 : body.index("]")])
            out[cur] = []
        elif body.startswith("duration=") and " time=" in body and " rate=" in body and cur is not None:
            kv = dict(x.split("=") for x in body.split())
            out[cur].append((int(kv["duration"]), int(kv["time"]), float(kv["rate"])))
    return out, movie_ts


# ---------------------------------------------------------------- expected.tsv

COLUMNS = [
    ("file", "fixture file name"),
    ("format", "ffprobe format_name"),
    ("codec", "ffprobe codec_name of the first audio stream"),
    ("profile", "ffprobe profile (- when none)"),
    ("codec_tag", "ffprobe codec_tag_string (for WAV the format tag, or for WAVE_FORMAT_EXTENSIBLE the subformat's: [1][0][0][0] PCM, [3][0][0][0] IEEE float; for MOV/MP4 the sample entry: sowt, mp4a)"),
    ("sample_fmt", "ffprobe sample_fmt (the decoder's native output format)"),
    ("bits", "ffprobe bits_per_raw_sample, else bits_per_sample (0 = not stated)"),
    ("stream_count", "number of streams ffprobe lists"),
    ("audio_stream_index", "ffprobe index of the first audio stream (what `-map 0:a:0` picks)"),
    ("sample_rate", "Hz"),
    ("channels", "channel count"),
    ("ffmpeg_samples", "per-channel samples `ffmpeg -v error -i FILE -map 0:a:0 -f f32le -` writes (bytes / 4 / channels)"),
    ("source_samples", "length of the source signal the fixture was encoded from (3.5 s at the fixture's rate; 3.0 s for the 0.5 s cut)"),
    ("click_sample", "index of max |x| on channel 0 of that output: where the click lands on ffmpeg's timeline"),
    ("click_source_sample", "where the click is in that source (1.000 s at the fixture's rate; 0.500 s for the cut)"),
    ("click_peak", "|x| at click_sample"),
    ("other_peak", "largest |x| on channel 0 more than 10 ms away from click_sample (the speech)"),
    ("stated_samples", "the duration as the container states it, in samples at sample_rate, rounded: ffprobe's stream duration, else its format duration (Matroska: the Segment Duration, in ms; ADTS and MP3 without Xing: ffmpeg's estimate from the bit rate)"),
    ("start_pts", "ffprobe start_pts of the audio stream, in stream time_base"),
    ("time_base", "ffprobe time_base of the audio stream (for MP4/MOV: 1/mdhd timescale)"),
    ("movie_timescale", "MP4/MOV mvhd timescale (the unit of elst_segment_duration); - otherwise"),
    ("elst_media_time", "MP4/MOV edit list of the audio track: media_time of each entry (media timescale), comma-separated; - when no elst"),
    ("elst_segment_duration", "segment_duration of each entry (movie timescale)"),
]


def ffprobe_json(path):
    p = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", "-i", path],
        capture_output=True, text=True, check=True)
    return json.loads(p.stdout)


def ffmpeg_f32(path):
    """(bytes, exit status, stderr) of `ffmpeg -v error -i FILE -map 0:a:0 -f f32le -`."""
    p = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-f", "f32le", "-"],
        capture_output=True)
    return p.stdout, p.returncode, p.stderr.decode("utf-8", "replace")


def find_click(x, channels, rate):
    ch0 = x[0::channels] if channels > 1 else x
    best, best_i = -1.0, -1
    for i, v in enumerate(ch0):
        a = v if v >= 0 else -v
        if a > best:
            best, best_i = a, i
    guard = int(round(OTHER_PEAK_GUARD_S * rate))
    other = 0.0
    for i, v in enumerate(ch0):
        if abs(i - best_i) > guard:
            a = v if v >= 0 else -v
            if a > other:
                other = a
    return best_i, best, other


# The stream-copied cut starts this far into its input, as its name says (`...-copy-cut-0.5s...`).
def cut_start_s(name):
    return float(name.split("-cut-")[1].split("s")[0]) if "-cut-" in name else 0.0


def source_facts(name, rate):
    """(click sample, length in samples) of the source signal the fixture was encoded from, at
    the fixture's rate: 3.5 s with the click at 1.000 s, minus the cut for the cut fixture."""
    cut = int(round(cut_start_s(name) * rate))
    return CLICK_TIME_S * rate - cut, SOURCE_LENGTH_S_X10 * rate // 10 - cut


def fmt_num(v):
    return "%.4f" % v


def expected_row(path):
    name = path.rsplit("/", 1)[-1]
    pj = ffprobe_json(path)
    streams = pj["streams"]
    audio = [s for s in streams if s["codec_type"] == "audio"]
    if not audio:
        raise SystemExit("%s: no audio stream" % path)
    a = audio[0]
    rate, ch = int(a["sample_rate"]), int(a["channels"])
    raw, rc, err = ffmpeg_f32(path)
    if rc != 0 or err.strip():
        raise SystemExit("%s: ffmpeg exit %d: %s" % (path, rc, err.strip()))
    if len(raw) % (4 * ch):
        raise SystemExit("%s: ffmpeg output not a whole number of frames" % path)
    x = read_f32(raw)
    n = len(raw) // 4 // ch
    click, peak, other = find_click(x, ch, rate)
    if peak < 2 * other:
        raise SystemExit("%s: click (%.3f) not clearly above the speech (%.3f)" % (path, peak, other))
    src_click, src_len = source_facts(name, rate)

    num, den = (int(v) for v in a["time_base"].split("/"))
    if "duration_ts" in a:
        stated = round(int(a["duration_ts"]) * num * rate / den)
    elif "duration" in a:
        stated = round(float(a["duration"]) * rate)
    else:
        stated = round(float(pj["format"]["duration"]) * rate)

    fmt = pj["format"]["format_name"]
    movie_ts, mt, sd = "-", "-", "-"
    if fmt.startswith("mov,"):
        tr, tr_movie_ts = trace_elst(path)
        boxes, box_movie_ts = mp4_tracks(path)
        idx = int(a["index"])
        handler, media_ts, box_elst = boxes[idx]
        assert handler == "soun", (path, handler)
        assert tr_movie_ts == box_movie_ts, (path, tr_movie_ts, box_movie_ts)
        assert "1/%d" % media_ts == a["time_base"], (path, media_ts, a["time_base"])
        tr_elst = tr.get(idx, [])
        assert [(d, m) for d, m, _ in box_elst] == [(d, m) for d, m, _ in tr_elst], (path, box_elst, tr_elst)
        assert all(r == 1.0 for _, _, r in tr_elst), (path, tr_elst)
        movie_ts = str(tr_movie_ts)
        if tr_elst:
            mt = ",".join(str(m) for _, m, _ in tr_elst)
            sd = ",".join(str(d) for d, _, _ in tr_elst)
        if "-elst-" in name:
            want = name.split("-elst-")[1].split("-")[0].split(".")[0]
            if mt != want:
                raise SystemExit("%s: name says elst %s, ffprobe trace says %s" % (path, want, mt))

    if fmt == "wav":
        # ffprobe shows the subformat's tag for WAVE_FORMAT_EXTENSIBLE, so check the name's
        # "-extensible" claim against the fmt chunk itself.
        with open(path, "rb") as f:
            head = f.read(64)
        tag = struct.unpack("<H", head[20:22])[0] if head[12:16] == b"fmt " else None
        want = 0xFFFE if "-extensible" in name else (3 if a["codec_name"] == "pcm_f32le" else 1)
        if tag != want:
            raise SystemExit("%s: fmt format tag %r, expected %#x" % (path, tag, want))

    bits = a.get("bits_per_raw_sample") or a.get("bits_per_sample") or 0
    row = [
        name, fmt, a["codec_name"], a.get("profile", "-").replace(" ", "_"),
        a.get("codec_tag_string", "-"),
        a["sample_fmt"], str(bits), str(len(streams)), str(a["index"]), str(rate), str(ch),
        str(n), str(src_len), str(click), str(src_click), fmt_num(peak), fmt_num(other),
        str(stated), str(a.get("start_pts", "-")), a["time_base"], movie_ts, mt, sd,
    ]
    assert len(row) == len(COLUMNS)
    return row


LOSSLESS = ("pcm_", "flac")
# A lossy codec spreads the one-sample click over a few samples; its peak may move by a sample
# or two between encoder versions.
LOSSY_CLICK_TOLERANCE_SAMPLES = 3


def cmd_expected(manifest):
    """Measure every fixture in the manifest and check the two claims its description makes:
    where ffmpeg puts the click (relative to the source) and how many samples ffmpeg outputs
    beyond the source length."""
    print("\t".join(c for c, _ in COLUMNS))
    for name, offset, extra, _what, _how in read_manifest(manifest):
        row = expected_row(name)
        print("\t".join(row))
        r = dict(zip((c for c, _ in COLUMNS), row))
        got = int(r["click_sample"]) - int(r["click_source_sample"])
        tol = 0 if r["codec"].startswith(LOSSLESS) else LOSSY_CLICK_TOLERANCE_SAMPLES
        if abs(got - int(offset)) > tol:
            raise SystemExit("%s: the description says the click is %s samples late, ffmpeg puts it %d late"
                             % (name, offset, got))
        got = int(r["ffmpeg_samples"]) - int(r["source_samples"])
        if got != int(extra):
            raise SystemExit("%s: the description says ffmpeg outputs %s samples more than the source, it outputs %d more"
                             % (name, extra, got))


# ---------------------------------------------------------------- bad inputs

def cmd_bad(manifest):
    print("\t".join(["file", "bytes", "ffprobe_format", "ffmpeg_exit", "ffmpeg_samples", "ffmpeg_first_error"]))
    for name, _what, _how in read_manifest(manifest):
        raw, rc, err = ffmpeg_f32(name)
        first = next((l.strip() for l in err.splitlines() if l.strip()), "-")
        # ffmpeg names the component with its address ("[aac @ 0x55f2...]"); drop the address,
        # which changes from run to run.
        first = re.sub(r" @ 0x[0-9a-fA-F]+\]", "]", first)
        with open(name, "rb") as f:
            size = len(f.read())
        # Per-channel samples, with ffprobe's channel count, when ffmpeg wrote anything.
        n = "0"
        if raw:
            ch = int(next(s for s in ffprobe_json(name)["streams"] if s["codec_type"] == "audio")["channels"])
            n = str(len(raw) // 4 // ch)
        p = subprocess.run(["ffprobe", "-v", "quiet", "-show_entries", "format=format_name", "-of",
                            "default=nw=1:nk=1", "-i", name], capture_output=True, text=True)
        probed = p.stdout.strip() if p.returncode == 0 and p.stdout.strip() else "-"
        print("\t".join([name, str(size), probed, str(rc), n, first]))


# ---------------------------------------------------------------- README

def read_tsv(path):
    lines = [l.rstrip("\n").split("\t") for l in open(path, encoding="utf-8") if l.strip()]
    return [dict(zip(lines[0], l)) for l in lines[1:]]


def read_manifest(path):
    return [tuple(l.rstrip("\n").split("\t")) for l in open(path, encoding="utf-8") if l.strip()]


def md_cell(s):
    return s.replace("|", "\\|")


def with_diff(value, reference):
    d = int(value) - int(reference)
    return value if d == 0 else "%s (%+d)" % (value, d)


def cmd_readme(manifest, expected, bad_manifest, bad_expected, shorthands):
    man = read_manifest(manifest)
    exp = {r["file"]: r for r in read_tsv(expected)}
    bman = read_manifest(bad_manifest)
    bexp = {r["file"]: r for r in read_tsv(bad_expected)}
    short = read_manifest(shorthands)

    def shorten(cmd):
        for k, v in sorted(short, key=lambda kv: -len(kv[1])):
            cmd = cmd.replace(v, "$" + k)
        return cmd

    out = ["## Fixtures\n"]
    out.append("Facts from `expected.tsv`. *samples*: per-channel samples ffmpeg outputs, with the "
               "difference from the source length (3.5 s at the fixture's rate; 3.0 s for the cut) "
               "when there is one. *stated*: the container's own duration in samples, with the "
               "difference from ffmpeg's output. *click*: sample index of the click in ffmpeg's "
               "output, with the difference from its source position. *elst*: `media_time / "
               "segment_duration` of the audio track's edit list, in media / movie timescale. "
               "*made by*: the exact command (shorthands below), run in `testdata/` after "
               "`make_fixtures.sh` has built `_src/`.\n")
    out.append("| file | exercises | codec, rate, channels | audio stream | samples | stated | click | elst | made by |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for name, _offset, _extra, what, how in man:
        r = exp[name]
        elst = "-"
        if r["elst_media_time"] != "-":
            elst = "%s / %s (1/%s s / 1/%s s)" % (r["elst_media_time"], r["elst_segment_duration"],
                                              r["time_base"].split("/")[1], r["movie_timescale"])
        out.append("| `%s` | %s | %s %s, %s Hz, %s ch | %s of %s | %s | %s | %s | %s | `%s` |" % (
            name, md_cell(what), r["codec"], r["sample_fmt"], r["sample_rate"], r["channels"],
            r["audio_stream_index"], r["stream_count"],
            with_diff(r["ffmpeg_samples"], r["source_samples"]),
            with_diff(r["stated_samples"], r["ffmpeg_samples"]),
            with_diff(r["click_sample"], r["click_source_sample"]), elst, md_cell(shorten(how))))
    out.append("")
    out.append("Shorthands in the commands (as defined in `make_fixtures.sh`):\n")
    for k, v in short:
        out.append("- `$%s` = `%s`" % (k, v))
    out.append("")
    out.append("## Bad inputs (`bad/`)\n")
    out.append("Facts from `bad/expected.tsv`: what `ffmpeg -nostdin -v error -i FILE -map 0:a:0 -f f32le -` "
               "does with each file, run inside `bad/` (so messages name the bare file; the "
               "`@ 0x...` address in ffmpeg's `[component @ 0x...]` prefix is dropped). *ffprobe "
               "format*: what ffprobe recognises the file as (- when it cannot open it). Exit 0 "
               "with samples out: ffmpeg decodes what is there and reports success.\n")
    out.append("| file | what it is | made by | bytes | ffprobe format | ffmpeg exit | samples out | ffmpeg's first error line |")
    out.append("|---|---|---|---|---|---|---|---|")
    for name, what, how in bman:
        r = bexp[name]
        out.append("| `bad/%s` | %s | `%s` | %s | %s | %s | %s | `%s` |" % (
            name, md_cell(what), md_cell(shorten(how)), r["bytes"], r["ffprobe_format"], r["ffmpeg_exit"],
            r["ffmpeg_samples"], md_cell(r["ffmpeg_first_error"])))
    out.append("")
    out.append("## expected.tsv columns\n")
    for c, d in COLUMNS:
        out.append("- `%s`: %s" % (c, d))
    out.append("")
    print("\n".join(out))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "click":
        cmd_click(*args)
    elif cmd == "wavpatch":
        cmd_wavpatch(*args)
    elif cmd == "expected":
        cmd_expected(*args)
    elif cmd == "bad":
        cmd_bad(*args)
    elif cmd == "readme":
        cmd_readme(*args)
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main()
