#!/usr/bin/env python3
"""Independent ISO BMFF / QuickTime box dump, used to write the expected facts in README.md.

Written separately from the Rust walker (and in another language) so that the expected values
in the tests are not taken from the code under test. Prints one line per box: depth, type, byte
offset, size, and for a few boxes the fields the tests check. Standard library only.

usage: python3 boxdump.py FILE
"""
import struct
import sys

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta", b"dinf", b"ilst",
              b"mvex", b"moof", b"traf", b"wave"}


def fixed(v):
    return v / 65536.0


def dump(f, start, end, depth, parent=b""):
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        size, kind = struct.unpack(">I4s", f.read(8))
        header = 8
        if size == 1:
            size = struct.unpack(">Q", f.read(8))[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            print("  " * depth + f"{kind!r} at {pos}: bad size {size}")
            return
        body = pos + header
        extra = ""
        f.seek(body)
        if kind == b"ftyp":
            data = f.read(size - header)
            extra = f"major={data[:4]!r} minor={struct.unpack('>I', data[4:8])[0]} compat={[data[i:i+4] for i in range(8, len(data), 4)]}"
        elif kind in (b"mvhd", b"mdhd", b"tkhd"):
            vf = struct.unpack(">I", f.read(4))[0]
            ver = vf >> 24
            if ver == 1:
                c, m = struct.unpack(">QQ", f.read(16))
            else:
                c, m = struct.unpack(">II", f.read(8))
            if kind == b"tkhd":
                if ver == 1:
                    tid, _, dur = struct.unpack(">IIQ", f.read(16))
                else:
                    tid, _, dur = struct.unpack(">III", f.read(12))
                extra = f"v{ver} created={c} modified={m} track_id={tid} duration={dur}"
            else:
                ts = struct.unpack(">I", f.read(4))[0]
                dur = struct.unpack(">Q" if ver == 1 else ">I", f.read(8 if ver == 1 else 4))[0]
                extra = f"v{ver} created={c} modified={m} timescale={ts} duration={dur}"
        elif kind == b"elst":
            vf, n = struct.unpack(">II", f.read(8))
            ver = vf >> 24
            entries = []
            for _ in range(min(n, 50)):
                if ver == 1:
                    d, t = struct.unpack(">Qq", f.read(16))
                else:
                    d, t = struct.unpack(">Ii", f.read(8))
                r = struct.unpack(">i", f.read(4))[0]
                entries.append((d, t, fixed(r)))
            extra = f"v{ver} entries={entries}"
        elif kind == b"hdlr":
            data = f.read(size - header)
            extra = f"type={data[8:12]!r} name={data[24:]!r}"
        elif kind == b"data":
            data = f.read(size - header)
            extra = f"value={data[8:80]!r}"
        elif kind == b"stsd":
            f.read(8)
            data = f.read(min(size - header - 8, 64))
            extra = f"first entry={data[4:8]!r}"
        elif kind == b"keys":
            vf, n = struct.unpack(">II", f.read(8))
            keys = []
            for _ in range(n):
                ks, ns = struct.unpack(">I4s", f.read(8))
                keys.append(f.read(ks - 8))
            extra = f"keys={keys}"
        print("  " * depth + f"{kind.decode('latin-1')} at {pos} size {size} {extra}".rstrip())
        if kind in CONTAINERS or parent == b"ilst":
            dump(f, body, pos + size, depth + 1, kind)
        elif kind == b"meta":
            f.seek(body)
            peek = f.read(8)
            inner = body if peek[4:8] == b"hdlr" else body + 4
            dump(f, inner, pos + size, depth + 1, kind)
        pos += size


with open(sys.argv[1], "rb") as fh:
    fh.seek(0, 2)
    dump(fh, 0, fh.tell(), 0)
