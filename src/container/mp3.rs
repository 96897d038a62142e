//! MP3 (and MPEG-1/2 layer I/II audio): the first frame header (ISO/IEC 11172-3 §2.4.2.3,
//! ISO/IEC 13818-3 §2.4.2.3, and the unofficial MPEG-2.5 extension), and the Xing/Info or VBRI
//! header in the first frame with its LAME extension: encoder version, delay and padding
//! (LAME's "Mp3 info tag rev 1" specification). Audio frames after the first are not read.
#![forbid(unsafe_code)]

use std::io::{Read, Seek};

use super::source::{Source, text};
use super::{ContainerFacts, Tag, TrackFacts, TrackKind, id3v2, seconds};
use crate::error::Result;

/// Bytes searched after the ID3v2 tags for the first frame: some writers leave padding or junk
/// between the tag and the audio; ffmpeg searches a similar window.
const SYNC_SEARCH_BYTES: u64 = 64 << 10;

/// Largest MPEG audio frame: layer II at 384 kbit/s and 8 kHz (MPEG-2.5) is 6913 bytes.
const MAX_FRAME_BYTES: u64 = 8 << 10;

/// Bitrates in kbit/s by version family and layer (ISO/IEC 11172-3 Table 2.4.2.3; 13818-3
/// Table 2.4.2.3 for MPEG-2 and MPEG-2.5). Index 0 is "free format", 15 is invalid.
const BITRATES: [[[u16; 15]; 3]; 2] = [
    [
        [
            0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ],
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ],
        [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ],
    ],
    [
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
        ],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ],
];

/// Sample rates for MPEG-1; MPEG-2 halves them, MPEG-2.5 quarters them.
const MPEG1_RATES_HZ: [u32; 3] = [44_100, 48_000, 32_000];

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// 1 for MPEG-1, 2 for MPEG-2, 25 for MPEG-2.5.
    version: u8,
    /// 1, 2 or 3.
    layer: u8,
    sample_rate: u32,
    channels: u16,
    /// Frame length in bytes, padding included.
    len: u32,
    /// Samples per channel in one frame.
    samples: u32,
    crc: bool,
}

/// Decodes a frame header; `None` when it is not a valid one (or free format).
pub(crate) fn parse_header(b: &[u8]) -> Option<FrameHeader> {
    let h = u32::from_be_bytes(b.get(0..4)?.try_into().ok()?);
    if h >> 21 != 0x7ff {
        return None;
    }
    let version = match (h >> 19) & 3 {
        0 => 25,
        2 => 2,
        3 => 1,
        _ => return None,
    };
    let layer = match (h >> 17) & 3 {
        1 => 3,
        2 => 2,
        3 => 1,
        _ => return None,
    };
    let bitrate_index = ((h >> 12) & 0xf) as usize;
    let rate_index = ((h >> 10) & 3) as usize;
    if bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    let family = usize::from(version != 1);
    let kbps = u32::from(BITRATES[family][usize::from(layer - 1)][bitrate_index]);
    let sample_rate = MPEG1_RATES_HZ[rate_index]
        / match version {
            1 => 1,
            2 => 2,
            _ => 4,
        };
    let padding = (h >> 9) & 1;
    let (len, samples) = match (layer, version) {
        (1, _) => ((12 * kbps * 1000 / sample_rate + padding) * 4, 384),
        (2, _) => (144 * kbps * 1000 / sample_rate + padding, 1152),
        (_, 1) => (144 * kbps * 1000 / sample_rate + padding, 1152),
        _ => (72 * kbps * 1000 / sample_rate + padding, 576),
    };
    Some(FrameHeader {
        version,
        layer,
        sample_rate,
        channels: if (h >> 6) & 3 == 3 { 1 } else { 2 },
        len,
        samples,
        crc: (h >> 16) & 1 == 0,
    })
}

/// What the Xing/Info (or VBRI) header and its LAME extension say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct InfoTag {
    /// `Xing`, `Info` or `VBRI`.
    kind: String,
    frames: Option<u32>,
    bytes: Option<u32>,
    encoder: Option<String>,
    delay: Option<u32>,
    padding: Option<u32>,
}

/// Reads the Xing/Info header after the side information of the first frame, or the VBRI header
/// 32 bytes after the frame header.
fn info_tag(frame: &[u8], h: &FrameHeader) -> Option<InfoTag> {
    let side = match (h.version == 1, h.channels == 1) {
        (true, true) => 17,
        (true, false) => 32,
        (false, true) => 9,
        (false, false) => 17,
    };
    let be32 = |i: usize| -> Option<u32> {
        Some(u32::from_be_bytes(frame.get(i..i + 4)?.try_into().ok()?))
    };
    let offsets = [4 + side, 4 + side + 2 * usize::from(h.crc)];
    if let Some(&at) = offsets
        .iter()
        .find(|&&at| matches!(frame.get(at..at + 4), Some(b"Xing" | b"Info")))
    {
        let mut t = InfoTag {
            kind: text(&frame[at..at + 4]),
            ..InfoTag::default()
        };
        let flags = be32(at + 4)?;
        let mut p = at + 8;
        if flags & 1 != 0 {
            t.frames = be32(p);
            p += 4;
        }
        if flags & 2 != 0 {
            t.bytes = be32(p);
            p += 4;
        }
        if flags & 4 != 0 {
            p += 100; // TOC
        }
        if flags & 8 != 0 {
            p += 4; // quality
        }
        // The LAME extension, which ffmpeg also trusts when the encoder is libavcodec.
        if let Some(version) = frame.get(p..p + 9)
            && (version.starts_with(b"LAME")
                || version.starts_with(b"Lavc")
                || version.starts_with(b"Lavf"))
        {
            t.encoder = Some(text(version));
            if let Some(d) = frame.get(p + 21..p + 24) {
                t.delay = Some((u32::from(d[0]) << 4) | (u32::from(d[1]) >> 4));
                t.padding = Some((u32::from(d[1] & 0xf) << 8) | u32::from(d[2]));
            }
        }
        return Some(t);
    }
    // VBRI (Fraunhofer): version, delay, quality, bytes, frames, … at 32 bytes after the header.
    let at = 4 + 32;
    if frame.get(at..at + 4) == Some(b"VBRI") {
        return Some(InfoTag {
            kind: "VBRI".into(),
            bytes: be32(at + 10),
            frames: be32(at + 14),
            ..InfoTag::default()
        });
    }
    None
}

/// Reads the facts of an MPEG audio stream whose data starts at or after `start`; `None` when
/// no two consecutive valid frame headers (or one frame ending the file) are found.
pub(super) fn read<R: Read + Seek>(
    src: &mut Source<R>,
    start: u64,
    id3: &[Tag],
) -> Result<Option<ContainerFacts>> {
    let window = src.read_up_to(start, SYNC_SEARCH_BYTES + MAX_FRAME_BYTES)?;
    let Some((offset, h)) = find_first_frame(&window, src.len - start) else {
        return Ok(None);
    };
    let frame_at = start + offset as u64;
    let frame = &window[offset..(offset + h.len as usize).min(window.len())];
    let mut facts = ContainerFacts::new("mp3");
    let mut t = TrackFacts::new(TrackKind::Audio);
    t.codec = Some(
        match h.layer {
            3 => "mp3",
            2 => "mp2",
            _ => "mp1",
        }
        .to_string(),
    );
    t.sample_rate = Some(h.sample_rate);
    t.channels = Some(h.channels);
    if offset > 0 {
        facts.notes.push(format!(
            "{offset} bytes of junk before the first frame at byte {frame_at}"
        ));
    }
    if start > 0 {
        facts.push_layout("ID3v2".to_string());
    }
    if let Some(info) = info_tag(frame, &h) {
        facts.push_layout(info.kind.clone());
        if let Some(frames) = info.frames {
            facts.push_tag(format!("{} frames", info.kind), frames.to_string());
        }
        if let Some(e) = &info.encoder {
            facts.push_tag("LAME", e.clone());
        }
        t.encoder = info.encoder.clone();
        t.encoder_delay_samples = info.delay.map(u64::from);
        t.padding_samples = info.padding.map(u64::from);
        if let Some(frames) = info.frames {
            let total = u64::from(frames) * u64::from(h.samples);
            let trim = u64::from(info.delay.unwrap_or(0)) + u64::from(info.padding.unwrap_or(0));
            t.duration_s = seconds(total.saturating_sub(trim), u64::from(h.sample_rate));
        }
        if let Some(bytes) = info.bytes {
            let audio_end = audio_end(src)?;
            let actual = audio_end.saturating_sub(frame_at);
            if u64::from(bytes) != actual {
                facts.notes.push(format!(
                    "{} header says {bytes} audio bytes but the file holds {actual}: cut or joined after encoding",
                    info.kind.to_lowercase()
                ));
            }
        }
    } else {
        facts.push_layout("frames".to_string());
    }
    facts.encoder = id3v2::encoder(id3).or_else(|| t.encoder.clone());
    facts.duration_s = t.duration_s;
    facts.tracks.push(t);
    Ok(Some(facts))
}

/// The first offset in `window` holding a frame header followed by another valid header of the
/// same version, layer and rate (or by the end of the stream, `stream_len` bytes from the
/// window's start).
fn find_first_frame(window: &[u8], stream_len: u64) -> Option<(usize, FrameHeader)> {
    let limit = window.len().min(SYNC_SEARCH_BYTES as usize + 1);
    (0..limit).find_map(|i| {
        let h = parse_header(&window[i..])?;
        let next = i + h.len as usize;
        let confirmed = match window.get(next..).and_then(parse_header) {
            Some(n) => {
                n.version == h.version && n.layer == h.layer && n.sample_rate == h.sample_rate
            }
            None => next as u64 == stream_len,
        };
        confirmed.then_some((i, h))
    })
}

/// Where the audio ends: before an ID3v1 tag (`TAG`, the last 128 bytes) and an APEv2 tag
/// (a 32-byte footer `APETAGEX`, its size, and a 32-byte header when flagged).
fn audio_end<R: Read + Seek>(src: &mut Source<R>) -> Result<u64> {
    let mut end = src.len;
    if end >= 128 {
        let mut tag = [0u8; 3];
        src.read_exact_at(end - 128, &mut tag)?;
        if &tag == b"TAG" {
            end -= 128;
        }
    }
    if end >= 32 {
        let mut footer = [0u8; 32];
        src.read_exact_at(end - 32, &mut footer)?;
        if &footer[0..8] == b"APETAGEX" {
            let size = u64::from(u32::from_le_bytes([
                footer[12], footer[13], footer[14], footer[15],
            ]));
            let flags = u32::from_le_bytes([footer[20], footer[21], footer[22], footer[23]]);
            let header = if flags & 0x8000_0000 != 0 { 32 } else { 0 };
            end = end.saturating_sub(size + header);
        }
    }
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::read_facts;

    /// mp3-8k-mono-lame-tag.mp3 (see testdata/container/README.md): a 45-byte ID3v2 tag, then
    /// an MPEG-2.5 layer III Info frame with a "Lavc59.37" LAME extension, as ffmpeg wrote it.
    const FFMPEG_MP3: &[u8] = include_bytes!("../../testdata/container/mp3-8k-mono-lame-tag.mp3");

    fn ffmpeg_info_frame() -> Vec<u8> {
        FFMPEG_MP3[45..45 + 216].to_vec()
    }

    #[test]
    fn parse_header_mpeg25_layer3_8k_mono() {
        // Bitrate index 3: 24 kbit/s, so 72 * 24000 / 8000 = 216 bytes.
        let h = parse_header(&[0xff, 0xe3, 0x38, 0xc0]).unwrap();
        assert_eq!(
            (h.version, h.layer, h.sample_rate, h.channels),
            (25, 3, 8000, 1)
        );
        assert_eq!((h.len, h.samples), (216, 576));
        assert_eq!(parse_header(&[0xff, 0xd8, 0xff, 0xe0]), None);
        assert_eq!(parse_header(&[0xff, 0xfb, 0xf0, 0x00]), None); // bitrate index 15
    }

    #[test]
    fn info_tag_reads_frames_bytes_and_lame_extension() {
        let f = ffmpeg_info_frame();
        let h = parse_header(&f).unwrap();
        let t = info_tag(&f, &h).unwrap();
        assert_eq!(t.kind, "Info");
        assert_eq!((t.frames, t.bytes), (Some(16), Some(1368)));
        assert_eq!(t.encoder.as_deref(), Some("Lavc59.37"));
        assert_eq!((t.delay, t.padding), (Some(576), Some(640)));
    }

    #[test]
    fn mp3_without_second_frame_is_not_mp3() {
        let mut bytes = vec![0xff, 0xfb, 0x90, 0x64];
        bytes.extend([0u8; 100]);
        let err = read_facts(std::io::Cursor::new(bytes), "a.mp3").unwrap_err();
        assert!(
            err.to_string().contains("no valid MP3 or ADTS frames"),
            "{err}"
        );
    }

    #[test]
    fn mp3_truncated_at_every_length_never_panics() {
        let bytes = &FFMPEG_MP3[..600];
        for n in 0..bytes.len() {
            let _ = read_facts(std::io::Cursor::new(bytes[..n].to_vec()), "a.mp3");
        }
    }
}
