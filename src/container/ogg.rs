//! Ogg (RFC 3533): the first pages' identification and comment headers of each logical stream
//! (Vorbis I specification §4.2; Ogg Opus, RFC 7845 §5; Ogg FLAC mapping; Speex; Theora), and
//! the last pages' granule positions for the duration. Audio packets are not read.
#![forbid(unsafe_code)]

use std::io::{Read, Seek};

use super::flac;
use super::source::{Cursor, Source};
use super::vorbis_comment::{self, Comments};
use super::{ContainerFacts, TrackFacts, TrackKind, seconds};
use crate::error::{Error, Result};

/// Length of a page header before the segment table (RFC 3533 §6).
const PAGE_HEADER_BYTES: usize = 27;

/// Largest page: header, 255 lacing values, 255 segments of 255 bytes (RFC 3533 §6).
const MAX_PAGE_BYTES: u64 = 27 + 255 + 255 * 255;

/// Header pages read at the start before giving up on the comment headers: comment packets with
/// embedded pictures span many pages, but the vendor string is in the first.
const MAX_HEADER_PAGES: u32 = 256;

/// Logical streams accepted in the first link (ffmpeg has no limit; real files have one to
/// three).
const MAX_STREAMS: usize = 64;

/// Bytes of one comment packet gathered; beyond this the packet is parsed as cut.
const MAX_COMMENT_BYTES: usize = 1 << 20;

/// Bytes scanned at the end of the file for the last page of each stream: two of the largest
/// pages, so the start of the last page is always inside.
const END_SCAN_BYTES: u64 = 2 * MAX_PAGE_BYTES;

/// Header type flags (RFC 3533 §6).
const CONTINUED: u8 = 0x01;
const BOS: u8 = 0x02;
const EOS: u8 = 0x04;

/// The Ogg CRC-32 (RFC 3533 §6): polynomial 0x04c11db7, zero initial value, no reflection, no
/// final xor, computed over the page with its CRC field zeroed.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut r = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            r = if r & 0x8000_0000 != 0 {
                (r << 1) ^ 0x04c1_1db7
            } else {
                r << 1
            };
            bit += 1;
        }
        table[i] = r;
        i += 1;
    }
    table
};

fn crc(page: &[u8]) -> u32 {
    let mut c = 0u32;
    for (i, &b) in page.iter().enumerate() {
        // Bytes 22..26 hold the CRC itself and count as zero.
        let b = if (22..26).contains(&i) { 0 } else { b };
        c = (c << 8) ^ CRC_TABLE[((c >> 24) as u8 ^ b) as usize];
    }
    c
}

/// A parsed page: its flags, granule, serial, lacing values and body.
struct Page {
    flags: u8,
    serial: u32,
    lacing: Vec<u8>,
    body: Vec<u8>,
    crc_ok: bool,
    len: u64,
}

/// Reads the page at `pos`; `None` at the end of the file.
fn read_page<R: Read + Seek>(src: &mut Source<R>, pos: u64) -> Result<Option<Page>> {
    if src.len.saturating_sub(pos) < PAGE_HEADER_BYTES as u64 {
        return Ok(None);
    }
    let what = format!("{} (ogg page at byte {pos})", src.name);
    let mut h = [0u8; PAGE_HEADER_BYTES];
    src.read_exact_at(pos, &mut h)?;
    if &h[0..4] != b"OggS" {
        return Err(Error::malformed(what, "no capture pattern 'OggS'"));
    }
    if h[4] != 0 {
        return Err(Error::malformed(
            what,
            format!("stream structure version {} (not 0)", h[4]),
        ));
    }
    let mut c = Cursor::new(&h[5..], pos + 5, &what);
    let flags = c.u8()?;
    c.skip(8)?; // granule position
    let serial = c.u32_le()?;
    c.skip(8)?; // page sequence number, CRC
    let segments = u64::from(c.u8()?);
    let lacing = src
        .read_vec(pos + 27, segments, 255, "ogg segment table")
        .map_err(|_| Error::malformed(what.clone(), "truncated segment table"))?;
    let body_len: u64 = lacing.iter().map(|&l| u64::from(l)).sum();
    let body_at = pos + 27 + segments;
    if body_at + body_len > src.len {
        return Err(Error::malformed(
            what,
            format!("page body of {body_len} bytes runs past the end of the file"),
        ));
    }
    let body = src.read_vec(body_at, body_len, MAX_PAGE_BYTES, "ogg page")?;
    let mut whole = h.to_vec();
    whole.extend(&lacing);
    whole.extend(&body);
    let stored = u32::from_le_bytes([h[22], h[23], h[24], h[25]]);
    Ok(Some(Page {
        flags,
        serial,
        lacing,
        body,
        crc_ok: crc(&whole) == stored,
        len: 27 + segments + body_len,
    }))
}

/// One logical stream's headers as they arrive.
struct Stream {
    serial: u32,
    /// Packets completed so far (only the first two are kept).
    packets: Vec<Vec<u8>>,
    /// The packet being assembled.
    partial: Vec<u8>,
}

impl Stream {
    fn done(&self) -> bool {
        self.packets.len() >= 2
    }

    /// Adds a page's packets (lacing values of 255 continue a packet, RFC 3533 §5).
    fn add(&mut self, page: &Page) {
        let mut at = 0usize;
        for &lace in &page.lacing {
            if self.done() {
                return;
            }
            let part = page
                .body
                .get(at..at + usize::from(lace))
                .unwrap_or_default();
            at += usize::from(lace);
            if self.partial.len() < MAX_COMMENT_BYTES {
                self.partial.extend(part);
            }
            if lace < 255 {
                self.packets.push(std::mem::take(&mut self.partial));
            }
        }
    }
}

/// Reads the facts of an Ogg file.
pub(super) fn read<R: Read + Seek>(src: &mut Source<R>) -> Result<ContainerFacts> {
    let mut facts = ContainerFacts::new("ogg");
    let mut streams: Vec<Stream> = Vec::new();
    let mut notes = Vec::new();
    let mut pos = 0u64;
    let mut pages = 0u32;
    while let Some(page) = read_page(src, pos)? {
        if !page.crc_ok {
            notes.push(format!("page at byte {pos} fails its crc check"));
        }
        if page.flags & BOS != 0 {
            if streams.len() >= MAX_STREAMS {
                return Err(Error::limit(
                    format!("{}: number of ogg logical streams", src.name),
                    MAX_STREAMS as u64,
                    streams.len() as u64 + 1,
                ));
            }
            streams.push(Stream {
                serial: page.serial,
                packets: Vec::new(),
                partial: Vec::new(),
            });
        }
        if let Some(s) = streams.iter_mut().find(|s| s.serial == page.serial) {
            if page.flags & CONTINUED != 0 && s.partial.is_empty() && s.packets.is_empty() {
                notes.push(format!(
                    "stream {} starts with a continued page: cut from a longer stream",
                    page.serial
                ));
            }
            s.add(&page);
        }
        pos += page.len;
        pages += 1;
        if pages >= MAX_HEADER_PAGES || (!streams.is_empty() && streams.iter().all(Stream::done)) {
            break;
        }
    }
    if streams.is_empty() {
        return Err(src.malformed("ogg without a beginning-of-stream page"));
    }

    let mut encoder = None;
    let mut pictures = Vec::new();
    let mut rates = Vec::new();
    for s in &streams {
        let (mut t, comments) = identify(s);
        t.track_id = Some(u64::from(s.serial));
        if let Some(c) = comments {
            t.encoder = vorbis_comment::get(&c, "ENCODER").map(str::to_string);
            if let Some(v) = &c.vendor {
                facts.push_tag("vendor", v.clone());
                encoder = encoder.or_else(|| Some(v.clone()));
            }
            for (k, v) in &c.tags {
                facts.push_tag(k.clone(), v.clone());
            }
            if encoder.is_none() {
                encoder = vorbis_comment::get(&c, "ENCODER").map(str::to_string);
            }
            pictures.extend(c.pictures.iter().copied());
        }
        rates.push(granule_rate(&t));
        facts.push_layout(t.codec.clone().unwrap_or_else(|| "unknown".to_string()));
        facts.tracks.push(t);
    }
    facts.encoder = encoder;

    // The end: the last granule of each stream, and any stream the start did not announce
    // (chained files: one Ogg file appended to another, RFC 3533 §4).
    let tail = scan_tail(src)?;
    for (serial, granule, bos, eos) in &tail.last {
        let Some(i) = streams.iter().position(|s| s.serial == *serial) else {
            if *bos {
                notes.push(format!(
                    "a second logical stream ({serial}) begins later in the file: files joined end to end"
                ));
            }
            continue;
        };
        if let (Some(rate), Some(g)) = (rates[i], granule) {
            let t = &mut facts.tracks[i];
            let skip = t.encoder_delay_samples.unwrap_or(0);
            // RFC 7845 §4: the playable samples are the last granule minus the pre-skip.
            let samples = g.saturating_sub(skip);
            t.duration_s = seconds(samples, rate);
        }
        if !eos {
            notes.push(format!(
                "stream {serial} has no end-of-stream page: the file is truncated or was still being written"
            ));
        }
    }
    facts
        .tracks
        .extend(pictures.into_iter().map(TrackFacts::picture));
    facts.notes = notes;
    Ok(facts)
}

/// The granule rate of a track: 48 kHz for Opus (RFC 7845 §4), the sample rate otherwise.
fn granule_rate(t: &TrackFacts) -> Option<u64> {
    match t.codec.as_deref() {
        Some("opus") => Some(48_000),
        Some("vorbis" | "flac" | "speex") => t.sample_rate.map(u64::from),
        _ => None,
    }
}

/// Identifies a stream from its first packet and reads its comment packet.
fn identify(s: &Stream) -> (TrackFacts, Option<Comments>) {
    let first = s.packets.first().map(Vec::as_slice).unwrap_or(&s.partial);
    let second = s.packets.get(1).map(Vec::as_slice).unwrap_or_default();
    let le32 = |b: &[u8], i: usize| -> Option<u32> {
        Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
    };
    let mut t = TrackFacts::new(TrackKind::Data);
    let mut comments = None;
    if first.starts_with(b"\x01vorbis") {
        // Vorbis I §4.2.2: version (4), channels (1), rate (4), bitrates, block sizes.
        t.kind = TrackKind::Audio;
        t.codec = Some("vorbis".into());
        t.channels = first.get(11).map(|&c| u16::from(c)).filter(|&c| c > 0);
        t.sample_rate = le32(first, 12).filter(|&r| r > 0);
        if let Some(body) = second.strip_prefix(b"\x03vorbis") {
            comments = Some(vorbis_comment::parse(body));
        }
    } else if first.starts_with(b"OpusHead") {
        // RFC 7845 §5.1: version, channel count, pre-skip (u16), input rate (u32), gain, mapping.
        t.kind = TrackKind::Audio;
        t.codec = Some("opus".into());
        t.channels = first.get(9).map(|&c| u16::from(c)).filter(|&c| c > 0);
        t.sample_rate = Some(48_000);
        t.encoder_delay_samples = first
            .get(10..12)
            .map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])));
        if let Some(body) = second.strip_prefix(b"OpusTags") {
            comments = Some(vorbis_comment::parse(body));
        }
    } else if first.starts_with(b"\x7fFLAC") {
        // Ogg FLAC mapping: 0x7F "FLAC", version (2), header count (2), "fLaC", then the
        // STREAMINFO block with its 4-byte header.
        t.kind = TrackKind::Audio;
        t.codec = Some("flac".into());
        if let Some(info) = first.get(17..).and_then(flac::parse_streaminfo) {
            t.sample_rate = Some(info.sample_rate).filter(|&r| r > 0);
            t.channels = Some(u16::from(info.channels));
            t.bits_per_sample = Some(u16::from(info.bits_per_sample));
        }
        if second.first().is_some_and(|b| b & 0x7f == 4) {
            comments = second.get(4..).map(vorbis_comment::parse);
        }
    } else if first.starts_with(b"Speex   ") {
        // Speex header: rate at byte 36, channels at byte 48 (Speex manual, "Ogg file format").
        t.kind = TrackKind::Audio;
        t.codec = Some("speex".into());
        t.sample_rate = le32(first, 36).filter(|&r| r > 0);
        t.channels = le32(first, 48).and_then(|c| u16::try_from(c).ok());
        comments = Some(vorbis_comment::parse(second));
    } else if first.starts_with(b"\x80theora") {
        t.kind = TrackKind::Video;
        t.codec = Some("theora".into());
        if let Some(body) = second.strip_prefix(b"\x81theora") {
            comments = Some(vorbis_comment::parse(body));
        }
    }
    (t, comments)
}

/// What the end of the file says: for each serial, the last granule (if any page had one),
/// whether a BOS page was seen there, and whether the last page had EOS.
struct Tail {
    last: Vec<(u32, Option<u64>, bool, bool)>,
}

/// Scans the last [`END_SCAN_BYTES`] for pages that pass their CRC.
fn scan_tail<R: Read + Seek>(src: &mut Source<R>) -> Result<Tail> {
    let start = src.len.saturating_sub(END_SCAN_BYTES);
    let data = src.read_up_to(start, END_SCAN_BYTES)?;
    let mut out = Tail { last: Vec::new() };
    let mut i = 0usize;
    while i + PAGE_HEADER_BYTES <= data.len() {
        if &data[i..i + 4] != b"OggS" || data[i + 4] != 0 {
            i += 1;
            continue;
        }
        let segments = usize::from(data[i + 26]);
        let Some(lacing) = data.get(i + 27..i + 27 + segments) else {
            break;
        };
        let len = 27 + segments + lacing.iter().map(|&l| usize::from(l)).sum::<usize>();
        let Some(page) = data.get(i..i + len) else {
            i += 1;
            continue;
        };
        let stored = u32::from_le_bytes([page[22], page[23], page[24], page[25]]);
        if crc(page) != stored {
            i += 1;
            continue;
        }
        let flags = page[5];
        let granule = i64::from_le_bytes(page[6..14].try_into().unwrap_or_default());
        let serial = u32::from_le_bytes(page[14..18].try_into().unwrap_or_default());
        let entry = match out.last.iter_mut().find(|e| e.0 == serial) {
            Some(e) => e,
            None => {
                out.last.push((serial, None, false, false));
                out.last.last_mut().expect("an entry was just pushed")
            }
        };
        // A granule of -1 marks a page on which no packet ends (RFC 3533 §6).
        if granule >= 0 {
            entry.1 = Some(granule as u64);
        }
        entry.2 |= flags & BOS != 0;
        entry.3 = flags & EOS != 0;
        i += len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::read_facts;

    /// An Ogg page with a correct CRC holding whole `packets`.
    fn page(flags: u8, granule: i64, serial: u32, seq: u32, packets: &[&[u8]]) -> Vec<u8> {
        let mut lacing = Vec::new();
        let mut body: Vec<u8> = Vec::new();
        for p in packets {
            let mut n = p.len();
            while n >= 255 {
                lacing.push(255);
                n -= 255;
            }
            lacing.push(n as u8);
            body.extend(*p);
        }
        let mut out = b"OggS\0".to_vec();
        out.push(flags);
        out.extend(granule.to_le_bytes());
        out.extend(serial.to_le_bytes());
        out.extend(seq.to_le_bytes());
        out.extend([0u8; 4]);
        out.push(lacing.len() as u8);
        out.extend(lacing);
        out.extend(body);
        let c = crc(&out);
        out[22..26].copy_from_slice(&c.to_le_bytes());
        out
    }

    fn opus_head(pre_skip: u16) -> Vec<u8> {
        let mut h = b"OpusHead\x01\x02".to_vec();
        h.extend(pre_skip.to_le_bytes());
        h.extend(44_100u32.to_le_bytes());
        h.extend([0, 0, 0]);
        h
    }

    fn opus_tags(vendor: &str) -> Vec<u8> {
        let mut t = b"OpusTags".to_vec();
        t.extend((vendor.len() as u32).to_le_bytes());
        t.extend(vendor.as_bytes());
        t.extend(0u32.to_le_bytes());
        t
    }

    fn opus_file() -> Vec<u8> {
        [
            page(BOS, 0, 7, 0, &[&opus_head(312)]),
            page(0, 0, 7, 1, &[&opus_tags("libopus 1.3")]),
            page(EOS, 48_312, 7, 2, &[&[0xfc, 0xff, 0xfe]]),
        ]
        .concat()
    }

    /// The first page of testdata/container/opus-48k-mono.opus, as ffmpeg wrote it.
    const FFMPEG_FIRST_PAGE: [u8; 47] = [
        0x4f, 0x67, 0x67, 0x53, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xce,
        0x65, 0x86, 0xff, 0x00, 0x00, 0x00, 0x00, 0x8b, 0x61, 0x21, 0xad, 0x01, 0x13, 0x4f, 0x70,
        0x75, 0x73, 0x48, 0x65, 0x61, 0x64, 0x01, 0x01, 0x38, 0x01, 0x80, 0xbb, 0x00, 0x00, 0x00,
        0x00, 0x00,
    ];

    #[test]
    fn crc_matches_ffmpeg_page() {
        let p = FFMPEG_FIRST_PAGE;
        assert_eq!(crc(&p), u32::from_le_bytes([p[22], p[23], p[24], p[25]]));
    }

    #[test]
    fn ogg_opus_reads_head_tags_and_duration() {
        let f = read_facts(std::io::Cursor::new(opus_file()), "a.opus").unwrap();
        assert_eq!(f.format, "ogg");
        assert_eq!(f.encoder.as_deref(), Some("libopus 1.3"));
        let t = &f.tracks[0];
        assert_eq!(t.codec.as_deref(), Some("opus"));
        assert_eq!((t.sample_rate, t.channels), (Some(48_000), Some(2)));
        assert_eq!(t.encoder_delay_samples, Some(312));
        assert_eq!(t.duration_s, Some(1.0));
        assert_eq!(t.track_id, Some(7));
        assert!(f.notes.is_empty(), "{:?}", f.notes);
    }

    #[test]
    fn ogg_chained_file_is_noted() {
        let mut bytes = opus_file();
        bytes.extend(page(BOS, 0, 9, 0, &[&opus_head(312)]));
        bytes.extend(page(EOS, 960, 9, 1, &[&opus_tags("x")]));
        let f = read_facts(std::io::Cursor::new(bytes), "a.opus").unwrap();
        assert!(
            f.notes
                .iter()
                .any(|n| n.contains("files joined end to end")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn ogg_bad_crc_and_missing_eos_are_noted() {
        let mut bytes = opus_file();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        let f = read_facts(std::io::Cursor::new(bytes), "a.opus").unwrap();
        // The last page no longer passes its CRC, so the tail scan sees the tags page last.
        assert!(
            f.notes.iter().any(|n| n.contains("no end-of-stream page")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn ogg_page_past_end_is_malformed() {
        let mut bytes = opus_file();
        bytes.truncate(40);
        let err = read_facts(std::io::Cursor::new(bytes), "a.opus").unwrap_err();
        assert!(
            err.to_string().starts_with("a.opus (ogg page at byte 0)"),
            "{err}"
        );
    }

    #[test]
    fn ogg_truncated_at_every_length_never_panics() {
        let bytes = opus_file();
        for n in 0..bytes.len() {
            let _ = read_facts(std::io::Cursor::new(bytes[..n].to_vec()), "a.opus");
        }
    }
}
