#!/usr/bin/env python3
"""Writes the hostile inputs of testdata/bad/ that tests/bad_files.rs runs, with README.md and
hostile.tsv beside them.

    python3 testdata/bad/make_bad.py        # from anywhere; make_fixtures.sh runs it last

Needs python3 (standard library only) and ffmpeg/ffprobe. Deterministic: every source is cut or
re-encoded with ffmpeg's bitexact flags from a committed fixture in testdata/, then edited here
byte by byte; two runs give byte-identical files with the same ffmpeg build.

Each file is one defect, named by it (`wav-data-size-4gb.wav`), and listed in README.md with what
is wrong with it. hostile.tsv holds what ffmpeg does with each (exit status, samples out, first
error line), measured here: a reference for what a decoder can salvage, never the crate's output.
The nine older files of bad/ (bad/expected.tsv) are made by make_fixtures.sh.
"""

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.dirname(HERE)
sys.path.insert(0, TESTDATA)
import make_fixtures  # noqa: E402  (ffmpeg_f32, ffprobe_json, md_cell: the same measurements)

FF = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
BX = ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]

# Sizes that lie. 0xFFFFFFF0 is near the top of a 32-bit field without being the all-ones value
# some formats reserve (WAV streaming, "to the end" in MP4), so it is read as a real size.
HUGE_U32 = 0xFFFFFFF0

ENTRIES = []  # (file, class, what is wrong)


def emit(name, data, cls, what):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    ENTRIES.append((name, cls, what))


def ffmpeg(*args):
    subprocess.run(FF + list(args), check=True)


def put_u32be(b, at, v):
    b[at:at + 4] = struct.pack(">I", v)


def with_u32be(data, at, v):
    """`data` with the big-endian u32 at `at` replaced by `v`."""
    b = bytearray(data)
    put_u32be(b, at, v)
    return bytes(b)


def put_u16le(b, at, v):
    b[at:at + 2] = struct.pack("<H", v)


def put_u32le(b, at, v):
    b[at:at + 4] = struct.pack("<I", v)


def scramble(b, start, end, seed):
    """Overwrites b[start:end] with bytes of a fixed linear congruential sequence."""
    x = seed
    for i in range(start, end):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        b[i] = (x >> 16) & 0xFF


# ---------------------------------------------------------------- MP4 (ISO/IEC 14496-12)

CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta"}


def mp4_boxes(b, start=0, end=None, path=""):
    """{path: (offset, header_size, size)} for the boxes we edit, e.g. 'moov/trak/.../stsz'."""
    found = {}
    for typ, data, box_end in make_fixtures._boxes(b, start, len(b) if end is None else end):
        p = path + "/" + typ if path else typ
        at = next(at for at in (data - 8, data - 16) if b[at + 4:at + 8] == typ.encode("latin-1"))
        found.setdefault(p, (at, data - at, box_end - at))
        if typ.encode("latin-1") in CONTAINER_BOXES:
            found.update(mp4_boxes(b, data, box_end, p))
        if typ == "stsd":  # full box + entry count, then the sample entries
            found.update(mp4_boxes(b, data + 8, box_end, p))
    return found


def make_mp4(src):
    fast = open(os.path.join(src, "moov-first.m4a"), "rb").read()
    late = open(os.path.join(src, "mdat-first.m4a"), "rb").read()
    fb, lb = mp4_boxes(fast), mp4_boxes(late)
    stbl = "moov/trak/mdia/minf/stbl"
    moov_at, _, moov_size = fb["moov"]
    mdat_at, _, mdat_size = fb["mdat"]
    cls = "truncated"
    emit("mp4-truncated-in-ftyp.m4a", fast[:20], cls,
         "the first 20 bytes of the moov-first M4A: cut inside `ftyp`")
    cut = fb[stbl + "/stsz"][0] + 30
    emit("mp4-moov-first-truncated-in-moov.m4a", fast[:cut], cls,
         "the moov-first M4A cut at byte %d, inside `stsz`: no complete sample table" % cut)
    cut = mdat_at + 8
    emit("mp4-moov-first-truncated-after-mdat-header.m4a", fast[:cut], cls,
         "the moov-first M4A cut right after the `mdat` header (%d bytes): an index, no audio data" % cut)
    cut = mdat_at + 8 + (mdat_size - 8) * 9 // 10
    emit("mp4-moov-first-truncated-at-90-percent.m4a", fast[:cut], cls,
         "the moov-first M4A cut at byte %d, 90 %% into `mdat`" % cut)
    l_mdat_at, _, l_mdat_size = lb["mdat"]
    cut = l_mdat_at + l_mdat_size // 2
    emit("mp4-mdat-first-truncated-in-mdat.m4a", late[:cut], cls,
         "the mdat-first M4A cut at byte %d, half-way through `mdat`: the `moov` index at the end is lost" % cut)
    cut = lb["moov"][0] + 300
    emit("mp4-mdat-first-truncated-in-moov.m4a", late[:cut], cls,
         "the mdat-first M4A cut at byte %d, 300 bytes into the `moov` at its end" % cut)

    cls = "lying size"
    emit("mp4-moov-size-4gb.m4a", with_u32be(fast, moov_at, HUGE_U32), cls,
         "`moov` size set to 0x%X (4 GB) in a %d-byte file" % (HUGE_U32, len(fast)))
    # The 8-byte `free` box before `mdat` becomes the first half of a 16-byte `mdat` header with a
    # 64-bit size of 2^62, so the data keeps its offsets.
    free_at = fb["free"][0]
    assert free_at + 8 == mdat_at
    b = bytearray(fast)
    b[free_at:mdat_at + 8] = struct.pack(">I4sQ", 1, b"mdat", 1 << 62)
    emit("mp4-mdat-largesize-2e62.m4a", bytes(b), cls,
         "`mdat` with a 64-bit size of 2^62 bytes (the `free` box before it turned into the extra header bytes)")
    for box, field_at, what in [
        ("stsz", 16, "`stsz` sample_count"),
        ("stco", 12, "`stco` entry_count"),
        ("stts", 12, "`stts` entry_count"),
        ("stsc", 12, "`stsc` entry_count"),
    ]:
        emit("mp4-%s-count-4e9.m4a" % box, with_u32be(fast, fb[stbl + "/" + box][0] + field_at, HUGE_U32), cls,
             "%s set to %d (4 billion entries) in a box of %d bytes" % (what, HUGE_U32, fb[stbl + "/" + box][2]))
    emit("mp4-stsz-sample-2gb.m4a", with_u32be(fast, fb[stbl + "/stsz"][0] + 20 + 4 * 10, 0x7FFFFFF0), cls,
         "the 11th sample's size in `stsz` set to 0x7FFFFFF0 (2 GB): a packet that would run past the end")
    emit("mp4-stco-offset-past-end.m4a", with_u32be(fast, fb[stbl + "/stco"][0] + 16, HUGE_U32), cls,
         "the only chunk offset in `stco` set to 0x%X, past the end of the file" % HUGE_U32)
    emit("mp4-mdhd-size-4.m4a", with_u32be(fast, fb["moov/trak/mdia/mdhd"][0], 4), cls,
         "`mdhd` size set to 4, smaller than a box header")
    emit("mp4-stts-delta-4e9.m4a", with_u32be(fast, fb[stbl + "/stts"][0] + 20, HUGE_U32), cls,
         "the `stts` sample delta set to %d: every packet claims 27 hours" % HUGE_U32)

    cls = "impossible parameter"
    mdhd_at = fb["moov/trak/mdia/mdhd"][0]
    b = bytearray(fast)
    put_u32be(b, mdhd_at + 20, 0)  # version 0: size, type, version/flags, ctime, mtime, timescale
    emit("mp4-mdhd-timescale-0.m4a", bytes(b), cls, "`mdhd` timescale set to 0")
    mp4a_at = fb[stbl + "/stsd/mp4a"][0]
    b = bytearray(fast)
    # AudioSampleEntry: 8 header, 6 reserved, 2 data_reference_index, 8 reserved, then channelcount
    # (u16 at +24), samplesize (+26), 4 reserved, samplerate 16.16 (+32).
    b[mp4a_at + 24:mp4a_at + 26] = struct.pack(">H", 0)
    esds = bytes(b).find(b"\x05\x80\x80\x80\x02", mp4a_at)
    if esds < 0:
        esds = bytes(b).find(b"\x05\x02", mp4a_at) - 3
    asc_at = esds + 5
    # AudioSpecificConfig: 5 bits object type, 4 bits rate index, 4 bits channel configuration.
    asc = struct.unpack(">H", b[asc_at:asc_at + 2])[0]
    asc &= ~(0xF << 3)
    b[asc_at:asc_at + 2] = struct.pack(">H", asc)
    emit("mp4-aac-channels-0.m4a", bytes(b), cls,
         "channel count 0 in both the `mp4a` sample entry and the AAC AudioSpecificConfig")
    b = bytearray(fast)
    asc = struct.unpack(">H", b[asc_at:asc_at + 2])[0]
    asc |= 0xF << 7  # rate index 15: "explicit rate follows", but nothing follows in 2 bytes
    b[asc_at:asc_at + 2] = struct.pack(">H", asc)
    b[mp4a_at + 32:mp4a_at + 36] = struct.pack(">I", 0)
    emit("mp4-aac-rate-0.m4a", bytes(b), cls,
         "sample rate 0 in the `mp4a` sample entry and an AudioSpecificConfig rate index of 15 (explicit rate) with no rate after it")

    cls = "corrupted payload"
    b = bytearray(late)
    start = l_mdat_at + 8 + l_mdat_size // 3
    scramble(b, start, start + 2000, 1)
    emit("aac-garbage-in-mdat.m4a", bytes(b), cls,
         "the mdat-first M4A with 2000 bytes of pseudo-random garbage a third into `mdat` (AAC frames)")


# ---------------------------------------------------------------- WAV

def wav_bytes(fmt_tag, channels, rate, bits, data, block_align=None, extra=b""):
    block_align = channels * bits // 8 if block_align is None else block_align
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * block_align & 0xFFFFFFFF,
                      block_align & 0xFFFF, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def make_wav(src):
    pcm = open(os.path.join(TESTDATA, "pcm-s16le-16k-mono.wav"), "rb").read()
    assert pcm[36:40] == b"data"
    speech = pcm[44:]
    # 0.05 s of the fixture's speech from 1.5 s on (16-bit mono 16 kHz): 1600 bytes.
    clip = speech[2 * 24000:2 * 24800]
    good = wav_bytes(1, 1, 16000, 16, clip)
    data_size_at = 40
    cls = "truncated"
    emit("wav-truncated-in-fmt.wav", good[:30], cls, "the first 30 bytes of a 0.05 s WAV: cut inside `fmt `")
    emit("wav-truncated-in-data.wav", good[:44 + 800], cls,
         "a 0.05 s WAV cut half-way through `data` (the header says 1600 bytes, 800 follow)")
    emit("wav-truncated-mid-sample.wav", good[:44 + 801], cls,
         "a 0.05 s WAV cut one byte into a 16-bit sample (801 of 1600 data bytes)")

    cls = "lying size"
    b = bytearray(good)
    put_u32le(b, data_size_at, HUGE_U32)
    emit("wav-data-size-4gb.wav", bytes(b), cls,
         "`data` size set to 0x%X (4 GB, 37 hours) over 1600 bytes of samples" % HUGE_U32)
    b = bytearray(good)
    put_u32le(b, 4, HUGE_U32)
    emit("wav-riff-size-4gb.wav", bytes(b), cls, "RIFF size set to 0x%X in a %d-byte file" % (HUGE_U32, len(b)))
    junk = b"LIST" + struct.pack("<I", 0x7FFFFFF0) + b"INFOISFT" + struct.pack("<I", 6) + b"Lavf\x00\x00"
    emit("wav-chunk-before-data-2gb.wav", wav_bytes(1, 1, 16000, 16, clip, extra=junk), cls,
         "a `LIST` chunk before `data` whose size is 0x7FFFFFF0 (2 GB): the `data` chunk lies inside it")
    b = bytearray(good)
    put_u32le(b, 16, 0xFFFFFF00)
    emit("wav-fmt-size-4gb.wav", bytes(b), cls, "`fmt ` chunk size set to 0xFFFFFF00")

    cls = "impossible parameter"
    emit("wav-1000-channels.wav", wav_bytes(1, 1000, 16000, 16, clip), cls,
         "1000 channels (block align 2000, consistent), 1600 bytes of data")
    emit("wav-65535-channels.wav", wav_bytes(1, 65535, 16000, 16, clip), cls,
         "65535 channels, block align truncated to 16 bits")
    emit("wav-rate-0.wav", wav_bytes(1, 1, 0, 16, clip), cls, "sample rate 0 Hz")
    emit("wav-7-bit.wav", wav_bytes(1, 1, 16000, 7, clip, block_align=1), cls,
         "7 bits per sample, block align 1")
    emit("wav-33-bit.wav", wav_bytes(1, 1, 16000, 33, clip, block_align=5), cls,
         "33 bits per sample, block align 5")
    emit("wav-0-bit.wav", wav_bytes(1, 1, 16000, 0, clip, block_align=0), cls,
         "0 bits per sample, block align 0")
    emit("wav-float-16-bit.wav", wav_bytes(3, 1, 16000, 16, clip), cls,
         "IEEE float format tag (3) with 16 bits per sample (float WAV is 32 or 64 bits)")

    cls = "non-finite samples"
    # 0.1 s of 32-bit float speech with NaN, +Inf and -Inf at samples 100, 200 and 300: long
    # enough for a dozen analysis frames.
    longer = speech[2 * 24000:2 * 25600]
    floats = [struct.unpack("<h", longer[i:i + 2])[0] / 32768.0 for i in range(0, len(longer), 2)]
    data = bytearray(struct.pack("<%df" % len(floats), *floats))
    for index, value in [(100, float("nan")), (200, float("inf")), (300, float("-inf"))]:
        data[4 * index:4 * index + 4] = struct.pack("<f", value)
    emit("wav-float-nan-inf.wav", wav_bytes(3, 1, 16000, 32, bytes(data)), cls,
         "0.1 s of 32-bit float speech with NaN at sample 100, +Inf at 200, -Inf at 300")
    emit("wav-float-all-nan.wav", wav_bytes(3, 1, 16000, 32, struct.pack("<f", float("nan")) * 800), cls,
         "0.05 s of 32-bit float samples that are all NaN")

    cls = "too short"
    emit("wav-0-samples.wav", wav_bytes(1, 1, 16000, 16, b""), cls, "a valid header and an empty `data` chunk")
    emit("wav-1-sample.wav", wav_bytes(1, 1, 16000, 16, clip[:2]), cls, "one 16-bit sample")
    emit("wav-10-samples.wav", wav_bytes(1, 1, 16000, 16, clip[:20]), cls, "ten 16-bit samples")


# ---------------------------------------------------------------- MP3

def make_mp3(src):
    mp3 = open(os.path.join(src, "xing.mp3"), "rb").read()
    cls = "truncated"
    emit("mp3-truncated-in-xing-frame.mp3", mp3[:100], cls,
         "the first 100 bytes of a 0.5 s MP3: cut inside its Xing/LAME info frame")
    # Frame boundaries: 64 kb/s at 44.1 kHz gives 208 or 209 bytes per frame; cut mid-frame.
    emit("mp3-truncated-mid-frame.mp3", mp3[:len(mp3) // 2 + 101], cls,
         "a 0.5 s MP3 cut at byte %d, inside a frame, with a Xing header counting every frame" % (len(mp3) // 2 + 101))

    cls = "lying size"
    xing = mp3.find(b"Info")
    if xing < 0:
        xing = mp3.find(b"Xing")
    assert xing > 0
    flags = struct.unpack(">I", mp3[xing + 4:xing + 8])[0]
    assert flags & 1, "the Xing header carries a frame count"
    emit("mp3-xing-frames-4e9.mp3", with_u32be(mp3, xing + 8, HUGE_U32), cls,
         "the Xing header's frame count set to %d (30 years at 44.1 kHz)" % HUGE_U32)
    # An ID3v2.4 tag header claiming 0x0FFFFFFF bytes (syncsafe 7F 7F 7F 7F), with nothing after it
    # but the MP3 itself.
    tag = b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f"
    emit("mp3-id3v2-size-256mb.mp3", tag + mp3, cls,
         "an ID3v2.4 tag header claiming 256 MB (syncsafe 7F 7F 7F 7F) in front of a 0.5 s MP3")

    cls = "corrupted payload"
    # Garbage inside frames: every 3rd frame from the 3rd on keeps its 4-byte header and its first
    # 32 bytes (side information) but the rest of its payload is scrambled.
    b = bytearray(mp3)
    at, n, damaged = 0, 0, 0
    while at + 4 <= len(b):
        if b[at] != 0xFF or (b[at + 1] & 0xE0) != 0xE0:
            break
        padding = (b[at + 2] >> 1) & 1
        size = 144 * 64000 // 44100 + padding
        if n >= 3 and n % 3 == 0:
            scramble(b, at + 36, min(at + size, len(b)), n)
            damaged += 1
        at += size
        n += 1
    assert damaged >= 5
    emit("mp3-garbage-in-frames.mp3", bytes(b), cls,
         "a 0.5 s MP3 with the main data of %d frames (every 3rd from the 3rd) scrambled, headers kept" % damaged)
    b = bytearray(mp3)
    scramble(b, len(b) // 3, len(b) // 3 + 1500, 7)
    emit("mp3-garbage-run.mp3", bytes(b), cls,
         "a 0.5 s MP3 with 1500 bytes (about 7 frames, headers included) overwritten from a third of the way in")
    adts = open(os.path.join(src, "adts.aac"), "rb").read()
    b = bytearray(adts)
    at, n, damaged = 0, 0, 0
    while at + 7 <= len(b) and b[at] == 0xFF and (b[at + 1] & 0xF6) == 0xF0:
        size = ((b[at + 3] & 3) << 11) | (b[at + 4] << 3) | (b[at + 5] >> 5)
        if n >= 3 and n % 3 == 0 and size > 12:
            scramble(b, at + 9, at + size, n)
            damaged += 1
        at += size
        n += 1
    assert damaged >= 5
    emit("adts-garbage-in-frames.aac", bytes(b), cls,
         "a 0.5 s ADTS AAC stream with the payload of %d frames (every 3rd) scrambled, ADTS headers kept" % damaged)


# ---------------------------------------------------------------- FLAC

def crc8(data):
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def flac_frames(b, start):
    """Offsets of frame headers: a sync code whose header CRC-8 checks (FLAC spec, FRAME_HEADER)."""
    out = []
    for i in range(start, len(b) - 16):
        if b[i] == 0xFF and b[i + 1] in (0xF8, 0xF9):
            # Fixed-blocksize frames from ffmpeg: 4 fixed bytes, a UTF-8 frame number, then the
            # optional block size / rate bytes, then CRC-8. Try the plausible header lengths.
            for length in range(5, 16):
                if crc8(b[i:i + length]) == b[i + length]:
                    out.append(i)
                    break
    return out


def flac_metadata(b):
    """[(offset, type, length)] of the metadata blocks and the offset of the first frame."""
    blocks, at = [], 4
    while True:
        header = b[at]
        length = int.from_bytes(b[at + 1:at + 4], "big")
        blocks.append((at, header & 0x7F, length))
        at += 4 + length
        if header & 0x80:
            return blocks, at


def flac_without_padding(flac):
    """The FLAC file without its PADDING blocks (ffmpeg writes 8 KB of them): smaller fixtures."""
    blocks, first_frame = flac_metadata(flac)
    kept = [flac[at:at + 4 + length] for at, kind, length in blocks if kind != 1]
    kept = [bytes([k[0] & 0x7F]) + k[1:] for k in kept]
    kept[-1] = bytes([kept[-1][0] | 0x80]) + kept[-1][1:]
    return flac[:4] + b"".join(kept) + flac[first_frame:]


def make_flac(src, hour):
    flac = open(os.path.join(src, "short.flac"), "rb").read()
    blocks, first_frame = flac_metadata(flac)
    cls = "truncated"
    emit("flac-truncated-in-streaminfo.flac", flac[:20], cls,
         "the first 20 bytes of a 0.25 s FLAC: cut inside STREAMINFO")
    vc = next(b for b in blocks if b[1] == 4)
    emit("flac-truncated-in-metadata.flac", flac[:vc[0] + 10], cls,
         "a 0.25 s FLAC cut 10 bytes into its VORBIS_COMMENT block")
    frames = flac_frames(flac, first_frame)
    assert len(frames) >= 4
    cut = (frames[len(frames) // 2] + frames[len(frames) // 2 + 1]) // 2
    emit("flac-truncated-mid-frame.flac", flac[:cut], cls,
         "a 0.25 s FLAC cut at byte %d, inside frame %d of %d" % (cut, len(frames) // 2, len(frames)))

    cls = "lying size"
    b = bytearray(flac)
    b[5:8] = b"\xff\xff\xff"
    emit("flac-streaminfo-length-16mb.flac", bytes(b), cls,
         "STREAMINFO block length set to 0xFFFFFF (16 MB; it is 34 bytes)")
    b = bytearray(flac)
    b[vc[0] + 1:vc[0] + 4] = b"\xff\xff\xf0"
    emit("flac-vorbis-comment-length-16mb.flac", bytes(b), cls,
         "VORBIS_COMMENT block length set to 0xFFFFF0, past the end of the file")
    b = bytearray(flac)
    # STREAMINFO: min/max block (4), min/max frame (6), then 20 bits rate, 3 channels-1,
    # 5 bits-1 and 36 bits total samples (bytes 18..25 of the file).
    si = 8
    packed = int.from_bytes(b[si + 10:si + 18], "big")
    packed |= (1 << 36) - 1
    b[si + 10:si + 18] = packed.to_bytes(8, "big")
    emit("flac-total-samples-2e36.flac", bytes(b), cls,
         "STREAMINFO total samples set to 2^36 - 1 (49 days at 16 kHz) over 0.5 s of frames")

    cls = "impossible parameter"
    b = bytearray(flac)
    packed = int.from_bytes(b[si + 10:si + 18], "big")
    packed &= ~(((1 << 20) - 1) << 44)
    b[si + 10:si + 18] = packed.to_bytes(8, "big")
    emit("flac-streaminfo-rate-0.flac", bytes(b), cls, "STREAMINFO sample rate set to 0 Hz")
    b = bytearray(flac)
    packed = int.from_bytes(b[si + 10:si + 18], "big")
    packed &= ~(0x1F << 36)  # bits per sample - 1 = 0: 1 bit per sample
    b[si + 10:si + 18] = packed.to_bytes(8, "big")
    emit("flac-streaminfo-1-bit.flac", bytes(b), cls,
         "STREAMINFO bits per sample set to 1 (the format allows 4 to 32)")

    cls = "corrupted payload"
    b = bytearray(flac)
    for k, at in enumerate(frames[2:len(frames) - 1:3]):
        b[at + 4] ^= 0xA5  # inside the header: its CRC-8 no longer matches
    emit("flac-damaged-frame-headers.flac", bytes(b), cls,
         "a 0.25 s FLAC with the header of every 3rd frame from the 3rd damaged (one byte flipped, CRC-8 fails)")
    b = bytearray(flac)
    mid = frames[len(frames) // 2]
    scramble(b, mid + 20, frames[len(frames) // 2 + 1] - 4, 3)
    emit("flac-garbage-in-frame.flac", bytes(b), cls,
         "a 0.25 s FLAC with the body of frame %d scrambled (header intact, CRC-16 fails)" % (len(frames) // 2))

    emit("flac-silence-1h-16k.flac", hour, "long",
         "one hour of digital silence, 16-bit mono 16 kHz, 65535-sample frames (FLAC stores each as one constant)")


# ---------------------------------------------------------------- Ogg (RFC 3533)

def ogg_crc(page):
    crc = 0
    for byte in page:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def ogg_pages(b):
    """[(offset, length)] of the pages."""
    out, at = [], 0
    while at + 27 <= len(b) and b[at:at + 4] == b"OggS":
        n = b[at + 26]
        length = 27 + n + sum(b[at + 27:at + 27 + n])
        out.append((at, length))
        at += length
    return out


def ogg_fix_crc(b, page_at, length):
    b[page_at + 22:page_at + 26] = b"\0\0\0\0"
    b[page_at + 22:page_at + 26] = struct.pack("<I", ogg_crc(bytes(b[page_at:page_at + length])))


def make_ogg(src):
    vorbis = open(os.path.join(src, "short.ogg"), "rb").read()
    opus = open(os.path.join(src, "short.opus"), "rb").read()
    vp, op = ogg_pages(vorbis), ogg_pages(opus)
    assert len(vp) >= 4 and len(op) >= 4
    cls = "truncated"
    # Page 0: identification header; page 1: comment and setup headers (libvorbis via ffmpeg).
    emit("ogg-vorbis-truncated-in-setup-header.ogg", vorbis[:vp[1][0] + vp[1][1] // 2], cls,
         "a 0.5 s Ogg Vorbis file cut half-way through its second page (comment and setup headers)")
    cut = vp[len(vp) // 2][0] + vp[len(vp) // 2][1] // 2
    emit("ogg-vorbis-truncated-mid-page.ogg", vorbis[:cut], cls,
         "a 0.5 s Ogg Vorbis file cut at byte %d, inside audio page %d of %d" % (cut, len(vp) // 2, len(vp)))
    emit("ogg-opus-truncated-after-opushead.opus", opus[:op[0][1]], cls,
         "a 0.5 s Ogg Opus file cut after its first page (OpusHead): no OpusTags, no audio")
    cut = op[len(op) // 2][0] + op[len(op) // 2][1] // 2
    emit("ogg-opus-truncated-mid-page.opus", opus[:cut], cls,
         "a 0.5 s Ogg Opus file cut at byte %d, inside page %d of %d" % (cut, len(op) // 2, len(op)))

    cls = "lying size"
    b = bytearray(opus)
    last_at, last_len = op[-1]
    b[last_at + 6:last_at + 14] = struct.pack("<q", (1 << 62))
    ogg_fix_crc(b, last_at, last_len)
    emit("ogg-opus-granule-2e62.opus", bytes(b), cls,
         "the last page's granule position set to 2^62 (checksum recomputed): a stated length of 3 million years")
    b = bytearray(vorbis)
    # The comment header is the first packet of page 1: 7 bytes "\x03vorbis", vendor length (u32).
    at = vp[1][0] + 27 + vorbis[vp[1][0] + 26]
    assert b[at:at + 7] == b"\x03vorbis"
    put_u32le(b, at + 7, HUGE_U32)
    ogg_fix_crc(b, *vp[1])
    emit("ogg-vorbis-comment-vendor-length-4e9.ogg", bytes(b), cls,
         "the Vorbis comment header's vendor length set to %d (checksum recomputed)" % HUGE_U32)

    cls = "impossible parameter"
    head = op[0][0] + 27 + opus[26]
    assert opus[head:head + 8] == b"OpusHead"
    b = bytearray(opus)
    b[head + 9] = 0
    ogg_fix_crc(b, *op[0])
    emit("ogg-opus-channels-0.opus", bytes(b), cls, "OpusHead channel count set to 0 (checksum recomputed)")
    b = bytearray(opus)
    b[head + 9] = 255
    b[head + 18] = 255
    ogg_fix_crc(b, *op[0])
    emit("ogg-opus-255-channels.opus", bytes(b), cls,
         "OpusHead with 255 channels and mapping family 255, without the mapping table that must follow (checksum recomputed)")
    ident = vp[0][0] + 27 + vorbis[26]
    assert vorbis[ident:ident + 7] == b"\x01vorbis"
    b = bytearray(vorbis)
    put_u32le(b, ident + 12, 0)  # version (4) after the 7-byte magic, channels (1), rate (4)
    ogg_fix_crc(b, *vp[0])
    emit("ogg-vorbis-rate-0.ogg", bytes(b), cls, "Vorbis identification header rate set to 0 Hz (checksum recomputed)")
    b = bytearray(vorbis)
    b[ident + 11] = 0
    ogg_fix_crc(b, *vp[0])
    emit("ogg-vorbis-channels-0.ogg", bytes(b), cls, "Vorbis identification header channel count set to 0 (checksum recomputed)")

    cls = "corrupted payload"
    b = bytearray(vorbis)
    page_at, length = vp[len(vp) // 2]
    b[page_at + length - 10] ^= 0xFF
    emit("ogg-vorbis-bad-page-checksum.ogg", bytes(b), cls,
         "a 0.5 s Ogg Vorbis file with one byte flipped in audio page %d of %d: its CRC-32 no longer matches" % (len(vp) // 2, len(vp)))
    b = bytearray(opus)
    for page_at, length in op[2:len(op) - 1:2]:
        b[page_at + length - 5] ^= 0xFF
    emit("ogg-opus-bad-page-checksums.opus", bytes(b), cls,
         "a 0.5 s Ogg Opus file with one byte flipped in every 2nd audio page: their CRC-32s no longer match")
    b = bytearray(opus)
    for page_at, length in op[2:len(op) - 1]:
        n = b[page_at + 26]
        scramble(b, page_at + 27 + n + 1, page_at + length, page_at)
        ogg_fix_crc(b, page_at, length)
    emit("ogg-opus-garbage-packets.opus", bytes(b), cls,
         "a 0.5 s Ogg Opus file whose audio packets are scrambled after their TOC byte, with valid page checksums")


# ---------------------------------------------------------------- Matroska / WebM

def ebml_id(b, at):
    first, n, mask = b[at], 1, 0x80
    while n <= 4 and not first & mask:
        n, mask = n + 1, mask >> 1
    return int.from_bytes(b[at:at + n], "big"), n


def ebml_size(b, at):
    first, n, mask = b[at], 1, 0x80
    while n <= 8 and not first & mask:
        n, mask = n + 1, mask >> 1
    value = first & (mask - 1)
    for k in range(1, n):
        value = (value << 8) | b[at + k]
    return value, n


MASTERS = {0x18538067, 0x1654AE6B, 0xAE, 0xE1, 0x1F43B675}


def ebml_elements(b, start=0, end=None, path=""):
    """{path: (offset, id_length, size_length, size)}; the first of each path."""
    end = len(b) if end is None else end
    found = {}
    while start < end:
        eid, il = ebml_id(b, start)
        size, sl = ebml_size(b, start + il)
        p = "%s/%X" % (path, eid)
        found.setdefault(p, (start, il, sl, size))
        if eid in MASTERS:
            found.update(ebml_elements(b, start + il + sl, min(end, start + il + sl + size), p))
        if eid == 0x1F43B675:
            break
        start += il + sl + size
    return found


def set_size(b, element, value):
    """Rewrites an element's size in place, keeping the width of its size field."""
    at, il, sl, _ = element
    assert value < (1 << (7 * sl)) - 1, "fits and is not the reserved 'unknown' value"
    b[at + il:at + il + sl] = (value | (1 << (7 * sl))).to_bytes(sl, "big")


def set_size_wide(b, element, value, parents=()):
    """Gives an element an 8-byte size field holding `value`; each of `parents` (the elements
    that enclose it, all before it in the file) grows by the bytes added. Offsets of what follows
    shift by those bytes, which only the SeekHead and Cues record."""
    at, il, sl, _ = element
    assert value < (1 << 56) - 1
    b[at + il:at + il + sl] = (value | (1 << 56)).to_bytes(8, "big")
    for parent in parents:
        set_size(b, parent, parent[3] + 8 - sl)
    return bytes(b)


def make_matroska(src):
    webm = open(os.path.join(src, "short.webm"), "rb").read()
    e = ebml_elements(webm)
    seg = "/18538067"
    tracks, entry = seg + "/1654AE6B", seg + "/1654AE6B/AE"
    audio = entry + "/E1"
    cluster = seg + "/1F43B675"
    cls = "truncated"
    emit("mkv-truncated-in-ebml-header.webm", webm[:20], cls,
         "the first 20 bytes of a 0.3 s WebM (Opus): cut inside the EBML header")
    cut = e[entry][0] + 40
    emit("mkv-truncated-in-tracks.webm", webm[:cut], cls,
         "a 0.3 s WebM cut at byte %d, inside its TrackEntry" % cut)
    blocks = e[cluster + "/A3"]
    cut = len(webm) // 2
    emit("mkv-truncated-in-cluster.webm", webm[:cut], cls,
         "a 0.3 s WebM cut at byte %d, inside a SimpleBlock of its Cluster" % cut)
    assert cut > blocks[0]

    cls = "lying size"
    wide = "(its size field widened to 8 bytes, the enclosing elements' sizes adjusted)"
    emit("mkv-ebml-header-size-2gb.webm", set_size_wide(bytearray(webm), e["/1A45DFA3"], 1 << 31), cls,
         "the EBML header's size set to 2^31 bytes %s" % wide)
    emit("mkv-tracks-size-128mb.webm", set_size_wide(bytearray(webm), e[tracks], 1 << 27, [e[seg]]), cls,
         "the Tracks element's size set to 2^27 bytes (128 MB) %s" % wide)
    emit("mkv-codecprivate-size-4gb.webm",
         set_size_wide(bytearray(webm), e[entry + "/63A2"], HUGE_U32, [e[seg], e[tracks], e[entry]]), cls,
         "CodecPrivate (the OpusHead) size set to 0x%X %s" % (HUGE_U32, wide))
    b = bytearray(webm)
    emit("mkv-cluster-size-1tb.webm", set_size_wide(bytearray(webm), e[cluster], 1 << 40, [e[seg]]), cls,
         "the first Cluster's size set to 2^40 bytes %s" % wide)
    emit("mkv-simpleblock-size-4gb.webm",
         set_size_wide(bytearray(webm), blocks, HUGE_U32, [e[seg], e[cluster]]), cls,
         "the first SimpleBlock's size set to 0x%X, past the end of the file %s" % (HUGE_U32, wide))

    cls = "impossible parameter"
    channels = e[audio + "/9F"]
    b = bytearray(webm)
    b[channels[0] + 2] = 0
    emit("mkv-channels-0.webm", bytes(b), cls, "Audio Channels set to 0 (the OpusHead in CodecPrivate still says 2)")
    freq = e[audio + "/B5"]
    assert freq[3] in (4, 8)
    b = bytearray(webm)
    at = freq[0] + freq[1] + freq[2]
    b[at:at + freq[3]] = struct.pack(">f" if freq[3] == 4 else ">d", 0.0)
    emit("mkv-sampling-frequency-0.webm", bytes(b), cls, "Audio SamplingFrequency set to 0.0")
    mkv = open(os.path.join(src, "short-pcm.mkv"), "rb").read()
    m = ebml_elements(mkv)
    freq = m[audio + "/B5"]
    b = bytearray(mkv)
    at = freq[0] + freq[1] + freq[2]
    b[at:at + freq[3]] = struct.pack(">f" if freq[3] == 4 else ">d", 1e12)
    emit("mkv-pcm-sampling-frequency-1e12.mkv", bytes(b), cls,
         "PCM in Matroska with SamplingFrequency 1e12 Hz")
    ch = m[audio + "/9F"]
    assert ch[3] == 1
    b = bytearray(mkv)
    b[ch[0] + 2] = 200
    emit("mkv-pcm-200-channels.mkv", bytes(b), cls, "PCM in Matroska with 200 channels")


# ---------------------------------------------------------------- non-media under media names

def make_non_media():
    cls = "not media"
    for ext in ["mp3", "wav", "flac", "ogg", "opus", "mkv", "webm", "m4a", "mov"]:
        emit("empty.%s" % ext, b"", "empty", "an empty file (0 bytes) named .%s" % ext)
    emit("html-error-page.m4a",
         b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
         b"<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>\n",
         cls, "an HTML error page saved under an .m4a name (a failed download)")
    png = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR"
           + struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    png += struct.pack(">I", zlib.crc32(png[12:]) & 0xFFFFFFFF)
    idat = zlib.compress(b"\x00\x00", 9)
    png += struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat) & 0xFFFFFFFF)
    png += struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND") & 0xFFFFFFFF)
    emit("png-renamed.mp3", png, cls, "a 1x1 grey PNG image under an .mp3 name")
    b = bytearray(4096)
    scramble(b, 0, 4096, 42)
    emit("random-bytes.flac", bytes(b), cls, "4096 pseudo-random bytes under a .flac name")
    emit("zeros.mov", bytes(4096), cls, "4096 zero bytes under a .mov name")
    emit("text.ogg", b"OggS is how an Ogg page starts, but this is a text file.\n", cls,
         "a text file that starts with the Ogg capture pattern `OggS`")
    emit("text.mkv", b"Just a note, not a Matroska file.\n", cls, "a one-line text file under an .mkv name")
    emit("riff-avi.wav", b"RIFF" + struct.pack("<I", 4 + 12) + b"AVI LIST" + struct.pack("<I", 4) + b"hdrl",
         cls, "the start of a RIFF AVI file (form type `AVI `, not `WAVE`) under a .wav name")


# ---------------------------------------------------------------- sources, tables, README

def make_sources(src):
    """Short sources, cut or re-encoded by ffmpeg from the committed fixtures."""
    t = lambda name: os.path.join(TESTDATA, name)
    s = lambda name: os.path.join(src, name)
    ffmpeg("-i", t("aac-lc-32k-mono-elst-1024.m4a"), "-t", "0.5", "-c", "copy",
           "-movflags", "+faststart", *BX, s("moov-first.m4a"))
    ffmpeg("-i", t("aac-lc-32k-mono-elst-1024.m4a"), "-t", "0.5", "-c", "copy", *BX, s("mdat-first.m4a"))
    ffmpeg("-i", t("mp3-44k1-mono-lame-xing.mp3"), "-t", "0.5", "-c", "copy", *BX, "-id3v2_version", "0", s("xing.mp3"))
    ffmpeg("-i", t("aac-lc-44k1-mono-adts.aac"), "-t", "0.5", "-c", "copy", *BX, "-f", "adts", s("adts.aac"))
    ffmpeg("-i", t("pcm-s16le-16k-mono.wav"), "-t", "0.25", "-c:a", "flac", *BX, s("short.flac"))
    ffmpeg("-i", t("pcm-s16le-16k-mono.wav"), "-t", "0.5", "-c:a", "libvorbis", "-q:a", "0", *BX,
           "-page_duration", "100000", s("short.ogg"))
    ffmpeg("-i", t("opus-48k-mono.ogg"), "-t", "0.5", "-c", "copy", *BX,
           "-page_duration", "100000", "-f", "ogg", s("short.opus"))
    ffmpeg("-i", t("opus-48k-stereo.webm"), "-t", "0.3", "-c", "copy", *BX, s("short.webm"))
    ffmpeg("-i", t("pcm-s16le-16k-mono.wav"), "-t", "0.05", "-c:a", "pcm_s16le", *BX, s("short-pcm.mkv"))
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "3600", "-c:a", "flac",
           "-sample_fmt", "s16", "-frame_size", "65535", *BX, s("hour.flac"))
    for name in ["short.flac", "hour.flac"]:
        with open(s(name), "rb") as f:
            flac = f.read()
        with open(s(name), "wb") as f:
            f.write(flac_without_padding(flac))
    return open(s("hour.flac"), "rb").read()


def measure(name):
    path = os.path.join(HERE, name)
    if os.path.getsize(path) == 0:
        return "1", "0", "(empty file)"
    cwd = os.getcwd()
    os.chdir(HERE)
    try:
        raw, rc, err = make_fixtures.ffmpeg_f32(name)
        first = next((l.strip() for l in err.splitlines() if l.strip()), "-")
        first = first.replace("\t", " ")
        import re
        first = re.sub(r" @ 0x[0-9a-fA-F]+\]", "]", first)
        samples = "0"
        if raw:
            streams = make_fixtures.ffprobe_json(name)["streams"]
            ch = int(next(s for s in streams if s["codec_type"] == "audio")["channels"])
            samples = str(len(raw) // 4 // max(ch, 1))
    finally:
        os.chdir(cwd)
    return str(rc), samples, first[:160]


def main():
    old = os.path.join(HERE, "hostile.tsv")
    if os.path.exists(old):
        for line in open(old, encoding="utf-8").read().splitlines()[1:]:
            name = line.split("\t")[0]
            if name and os.path.exists(os.path.join(HERE, name)):
                os.remove(os.path.join(HERE, name))
    src = tempfile.mkdtemp(prefix="make_bad.")
    try:
        hour = make_sources(src)
        make_non_media()
        make_mp4(src)
        make_wav(src)
        make_mp3(src)
        make_flac(src, hour)
        make_ogg(src)
        make_matroska(src)
    finally:
        shutil.rmtree(src)
    rows = []
    for name, cls, what in ENTRIES:
        rc, samples, first = measure(name)
        size = os.path.getsize(os.path.join(HERE, name))
        rows.append((name, cls, str(size), rc, samples, first, what))
    with open(old, "w", encoding="utf-8") as f:
        f.write("file\tclass\tbytes\tffmpeg_exit\tffmpeg_samples\tffmpeg_first_error\n")
        for r in rows:
            f.write("\t".join(r[:6]) + "\n")
    total = sum(int(r[2]) for r in rows)
    md = make_fixtures.md_cell
    out = ["# Hostile inputs (`testdata/bad/`)", "",
           "**Generated — do not edit by hand:** `python3 testdata/bad/make_bad.py` rewrites the files",
           "listed here, this README and `hostile.tsv` (`make_fixtures.sh` runs it last). Each file",
           "has one defect, named by it; `tests/bad_files.rs` asserts what the crate does with each",
           "(a specific error, or the decodable part with a warning; never a panic). The sources are",
           "cut or re-encoded by ffmpeg (bitexact) from the fixtures in `testdata/`, then edited byte",
           "by byte (see the script: one function per container). The older files of `bad/` are",
           "made by `make_fixtures.sh` and listed in `../README.md`.", "",
           "*ffmpeg*: what `ffmpeg -nostdin -v error -i FILE -map 0:a:0 -f f32le -` does with the file",
           "(exit status, samples per channel written, first error line; from `hostile.tsv`), a",
           "reference for what can be salvaged. %d files, %d bytes in all." % (len(rows), total), ""]
    out.append("| file | class | what is wrong | bytes | ffmpeg exit | samples out | ffmpeg's first error line |")
    out.append("|---|---|---|---|---|---|---|")
    for name, cls, size, rc, samples, first, what in rows:
        out.append("| `%s` | %s | %s | %s | %s | %s | `%s` |" % (name, cls, md(what), size, rc, samples, md(first)))
    out.append("")
    out.append("Not a file here: a directory named like a media file (`foo.mp4/`) is made by the test.")
    out.append("")
    with open(os.path.join(HERE, "README.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    print("wrote %d hostile inputs, %d bytes" % (len(rows), total), file=sys.stderr)


if __name__ == "__main__":
    main()
