//! FLAC: the `fLaC` marker and metadata blocks (RFC 9639 §8): STREAMINFO for rate, channels,
//! bits and length, VORBIS_COMMENT for vendor and tags, PICTURE for attached pictures.
//! Audio frames are not read.
#![forbid(unsafe_code)]

use std::io::{Read, Seek};

use super::source::Source;
use super::vorbis_comment::{self, Comments};
use super::{ContainerFacts, Tag, TrackFacts, TrackKind, seconds};
use crate::error::{Error, Result};

/// Most metadata blocks walked: a real file has a handful (a few more with many pictures).
const MAX_BLOCKS: u32 = 1024;

/// Bytes of a VORBIS_COMMENT block read; the vendor string and tags come first, embedded
/// pictures (which can be megabytes) are cut.
const MAX_COMMENT_BYTES: u64 = 1 << 20;

/// Bytes of a PICTURE block read: enough for its MIME type and the data's first bytes.
const PICTURE_PREFIX_BYTES: u64 = 4096;

/// STREAMINFO (RFC 9639 §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamInfo {
    /// Hz.
    pub(crate) sample_rate: u32,
    /// Channel count (1–8).
    pub(crate) channels: u8,
    /// Bits per sample (4–32).
    pub(crate) bits_per_sample: u8,
    /// Samples per channel; 0 when the encoder did not know.
    pub(crate) total_samples: u64,
    /// True when the MD5 of the audio is all zero (not computed).
    pub(crate) md5_unset: bool,
}

/// Parses a 34-byte STREAMINFO body: minimum and maximum block size (16 bits each), minimum
/// and maximum frame size (24 bits each), then 20 bits of sample rate, 3 of channels − 1, 5 of
/// bits per sample − 1, 36 of total samples, and a 128-bit MD5.
pub(crate) fn parse_streaminfo(data: &[u8]) -> Option<StreamInfo> {
    let d = data.get(..34)?;
    let packed = u64::from_be_bytes(d[10..18].try_into().ok()?);
    let sample_rate = (packed >> 44) as u32;
    Some(StreamInfo {
        sample_rate,
        channels: ((packed >> 41) & 0x7) as u8 + 1,
        bits_per_sample: ((packed >> 36) & 0x1f) as u8 + 1,
        total_samples: packed & 0xf_ffff_ffff,
        md5_unset: d[18..34].iter().all(|&b| b == 0),
    })
}

/// Reads the facts of a FLAC stream whose `fLaC` marker is at `start` (after `id3` tags, which
/// come first in `facts.tags`).
pub(super) fn read<R: Read + Seek>(
    src: &mut Source<R>,
    start: u64,
    id3: Vec<Tag>,
) -> Result<ContainerFacts> {
    let mut facts = ContainerFacts::new("flac");
    facts.tags = id3;
    let mut info: Option<StreamInfo> = None;
    let mut comments = Comments::default();
    let mut pictures = Vec::new();
    let mut pos = start + 4;
    let mut blocks = 0;
    loop {
        blocks += 1;
        if blocks > MAX_BLOCKS {
            return Err(Error::limit(
                format!("{}: number of flac metadata blocks", src.name),
                u64::from(MAX_BLOCKS),
                u64::from(blocks),
            ));
        }
        let mut h = [0u8; 4];
        src.read_exact_at(pos, &mut h).map_err(|_| {
            Error::malformed(
                format!("{} (flac metadata block at byte {pos})", src.name),
                "truncated block header",
            )
        })?;
        let last = h[0] & 0x80 != 0;
        let kind = h[0] & 0x7f;
        let len = u64::from(u32::from_be_bytes([0, h[1], h[2], h[3]]));
        let body = pos + 4;
        let what = format!("{} (flac metadata block {kind} at byte {pos})", src.name);
        if body + len > src.len {
            return Err(Error::malformed(
                what,
                format!("block length {len} runs past the end of the file"),
            ));
        }
        facts.push_layout(block_name(kind).to_string());
        match kind {
            0 => {
                let bytes = src.read_vec(body, len.min(34), 34, "streaminfo")?;
                info =
                    Some(parse_streaminfo(&bytes).ok_or_else(|| {
                        Error::malformed(what, "streaminfo shorter than 34 bytes")
                    })?);
            }
            4 => {
                let bytes = src.read_up_to(body, len.min(MAX_COMMENT_BYTES))?;
                let c = vorbis_comment::parse(&bytes);
                pictures.extend(c.pictures.iter().copied());
                comments = c;
            }
            6 if pictures.len() < super::MAX_PICTURES => {
                let bytes = src.read_up_to(body, len.min(PICTURE_PREFIX_BYTES))?;
                pictures.push(vorbis_comment::picture_block_codec(&bytes));
            }
            127 => return Err(Error::malformed(what, "block type 127 is invalid")),
            _ => {}
        }
        pos = body + len;
        if last {
            break;
        }
    }
    let info = info.ok_or_else(|| src.malformed("flac without a streaminfo block"))?;
    let mut t = TrackFacts::new(TrackKind::Audio);
    t.codec = Some("flac".to_string());
    t.sample_rate = (info.sample_rate > 0).then_some(info.sample_rate);
    t.channels = Some(u16::from(info.channels));
    t.bits_per_sample = Some(u16::from(info.bits_per_sample));
    if info.total_samples > 0 {
        t.duration_s = seconds(info.total_samples, u64::from(info.sample_rate));
    } else {
        facts
            .notes
            .push("streaminfo total sample count is zero: written as a stream".to_string());
    }
    if info.md5_unset {
        facts
            .notes
            .push("streaminfo md5 is unset: the encoder did not checksum the audio".to_string());
    }
    // The first frame should start right after the metadata (RFC 9639 §9.1: sync code
    // 0b111111111111100).
    let mut sync = [0u8; 2];
    if src.read_exact_at(pos, &mut sync).is_err() {
        facts
            .notes
            .push("no audio frames after the metadata".to_string());
    } else if sync[0] != 0xff || sync[1] & 0xfe != 0xf8 {
        facts.notes.push(format!(
            "no frame sync code after the metadata, at byte {pos}"
        ));
    }
    facts.duration_s = t.duration_s;
    facts.tracks.push(t);
    facts
        .tracks
        .extend(pictures.into_iter().map(TrackFacts::picture));
    if let Some(v) = &comments.vendor {
        facts.push_tag("vendor", v.clone());
    }
    for (k, v) in &comments.tags {
        facts.push_tag(k.clone(), v.clone());
    }
    facts.encoder = vorbis_comment::get(&comments, "ENCODER")
        .map(str::to_string)
        .or(comments.vendor);
    Ok(facts)
}

/// The block type names of RFC 9639 §8 (Table 1), for the layout.
fn block_name(kind: u8) -> &'static str {
    match kind {
        0 => "STREAMINFO",
        1 => "PADDING",
        2 => "APPLICATION",
        3 => "SEEKTABLE",
        4 => "VORBIS_COMMENT",
        5 => "CUESHEET",
        6 => "PICTURE",
        _ => "reserved",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::read_facts;

    /// STREAMINFO of flac-8k-mono-s16.flac (from `xxd`): 8000 Hz, mono, 16 bits, 4000 samples.
    const STREAMINFO: [u8; 34] = [
        0x02, 0x40, 0x02, 0x40, 0x00, 0x00, 0xfe, 0x00, 0x01, 0x20, 0x01, 0xf4, 0x00, 0xf0, 0x00,
        0x00, 0x0f, 0xa0, 0x87, 0xff, 0x37, 0x5d, 0x21, 0x83, 0xcc, 0xd4, 0x13, 0x3f, 0x36, 0xfd,
        0x93, 0xd7, 0x32, 0x62,
    ];

    fn flac(blocks: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut b = b"fLaC".to_vec();
        for (i, (kind, data)) in blocks.iter().enumerate() {
            let last = if i + 1 == blocks.len() { 0x80 } else { 0 };
            b.push(last | kind);
            b.extend(&(data.len() as u32).to_be_bytes()[1..]);
            b.extend(data);
        }
        b.extend([0xff, 0xf8, 0x69, 0x08]);
        b
    }

    #[test]
    fn parse_streaminfo_reads_fields() {
        let s = parse_streaminfo(&STREAMINFO).unwrap();
        assert_eq!(
            (s.sample_rate, s.channels, s.bits_per_sample),
            (8000, 1, 16)
        );
        assert_eq!(s.total_samples, 4000);
        assert!(!s.md5_unset);
        assert_eq!(parse_streaminfo(&STREAMINFO[..33]), None);
    }

    #[test]
    fn flac_reads_streaminfo_and_encoder_tag() {
        let mut vc = 6u32.to_le_bytes().to_vec();
        vc.extend(b"vendor");
        vc.extend(1u32.to_le_bytes());
        vc.extend(21u32.to_le_bytes());
        vc.extend(b"encoder=Lavf59.27.100");
        let bytes = flac(&[(0, STREAMINFO.to_vec()), (4, vc), (1, vec![0; 10])]);
        let f = read_facts(std::io::Cursor::new(bytes), "a.flac").unwrap();
        assert_eq!(f.format, "flac");
        assert_eq!(f.encoder.as_deref(), Some("Lavf59.27.100"));
        assert_eq!(f.tracks[0].duration_s, Some(0.5));
        assert_eq!(f.layout, ["STREAMINFO", "VORBIS_COMMENT", "PADDING"]);
        assert!(f.notes.is_empty(), "{:?}", f.notes);
    }

    #[test]
    fn flac_block_past_end_is_malformed() {
        let mut bytes = flac(&[(0, STREAMINFO.to_vec())]);
        bytes[5] = 0x7f;
        let err = read_facts(std::io::Cursor::new(bytes), "a.flac").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("a.flac (flac metadata block 0 at byte 4)"),
            "{err}"
        );
    }

    #[test]
    fn flac_truncated_at_every_length_never_panics() {
        let bytes = flac(&[(0, STREAMINFO.to_vec()), (6, vec![0; 40])]);
        for n in 0..bytes.len() {
            let _ = read_facts(std::io::Cursor::new(bytes[..n].to_vec()), "a.flac");
        }
    }
}
