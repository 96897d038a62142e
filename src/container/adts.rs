//! ADTS AAC: the first frame header (ISO/IEC 13818-7 §6.2.1 "adts_fixed_header" and
//! "adts_variable_header"; ISO/IEC 14496-3 §1.A.2.2). Nothing after it is read, so the duration
//! is not known.
#![forbid(unsafe_code)]

use std::io::{Read, Seek};

use super::asc::{SAMPLE_RATES_HZ, channels_of_config};
use super::source::Source;
use super::{ContainerFacts, TrackFacts, TrackKind};
use crate::error::Result;

/// Bytes searched for the first header after any ID3v2 tags.
const SYNC_SEARCH_BYTES: u64 = 64 << 10;

/// Largest ADTS frame (`frame_length` is 13 bits).
const MAX_FRAME_BYTES: u64 = 8192;

/// A decoded ADTS header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AdtsHeader {
    /// MPEG-4 audio object type (profile + 1).
    object_type: u8,
    sample_rate: u32,
    channel_config: u8,
    /// Frame length in bytes, header included.
    len: usize,
}

/// Decodes an ADTS header: syncword 0xFFF, ID, layer (must be 0), protection_absent, profile (2
/// bits), sampling_frequency_index (4), private bit, channel_configuration (3), four flag bits,
/// frame_length (13), buffer fullness (11), raw data blocks (2).
pub(crate) fn parse_header(b: &[u8]) -> Option<AdtsHeader> {
    let b = b.get(0..7)?;
    if b[0] != 0xff || b[1] & 0xf6 != 0xf0 {
        return None;
    }
    let rate_index = usize::from((b[2] >> 2) & 0xf);
    let len = (usize::from(b[3] & 3) << 11) | (usize::from(b[4]) << 3) | usize::from(b[5] >> 5);
    let header_len = if b[1] & 1 == 0 { 9 } else { 7 };
    if len < header_len {
        return None;
    }
    Some(AdtsHeader {
        object_type: (b[2] >> 6) + 1,
        sample_rate: *SAMPLE_RATES_HZ.get(rate_index)?,
        channel_config: ((b[2] & 1) << 2) | (b[3] >> 6),
        len,
    })
}

/// Reads the facts of an ADTS stream starting at or after `start`; `None` when no header is
/// confirmed by the next one (or by the end of the file).
pub(super) fn read<R: Read + Seek>(
    src: &mut Source<R>,
    start: u64,
) -> Result<Option<ContainerFacts>> {
    let window = src.read_up_to(start, SYNC_SEARCH_BYTES + MAX_FRAME_BYTES)?;
    let stream_len = src.len - start;
    let limit = window.len().min(SYNC_SEARCH_BYTES as usize + 1);
    let found = (0..limit).find_map(|i| {
        let h = parse_header(&window[i..])?;
        let next = i + h.len;
        let confirmed = match window.get(next..).and_then(parse_header) {
            Some(n) => n.sample_rate == h.sample_rate && n.object_type == h.object_type,
            None => next as u64 == stream_len,
        };
        confirmed.then_some((i, h))
    });
    let Some((offset, h)) = found else {
        return Ok(None);
    };
    let mut facts = ContainerFacts::new("aac");
    if offset > 0 {
        facts.notes.push(format!(
            "{offset} bytes of junk before the first frame at byte {}",
            start + offset as u64
        ));
    }
    let mut t = TrackFacts::new(TrackKind::Audio);
    t.codec = Some("aac".to_string());
    t.aac_object_type = Some(h.object_type);
    t.sample_rate = Some(h.sample_rate);
    t.channels = channels_of_config(h.channel_config);
    facts.tracks.push(t);
    Ok(Some(facts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::read_facts;

    /// The first ADTS header of aac-lc-8k-mono.aac as ffmpeg wrote it: AAC LC, 8 kHz, mono,
    /// a 310-byte frame.
    const FFMPEG_HEADER: [u8; 7] = [0xff, 0xf1, 0x6c, 0x40, 0x26, 0xdf, 0xfc];

    #[test]
    fn parse_header_ffmpeg_lc_8k_mono() {
        let h = parse_header(&FFMPEG_HEADER).unwrap();
        assert_eq!(
            (h.object_type, h.sample_rate, h.channel_config),
            (2, 8000, 1)
        );
        assert_eq!(h.len, 310);
        assert_eq!(parse_header(&[0xff, 0xfb, 0x90, 0x64, 0, 0, 0]), None); // MPEG layer III
    }

    #[test]
    fn adts_two_frames_read_as_aac() {
        let mut bytes = FFMPEG_HEADER.to_vec();
        bytes.resize(310, 0);
        bytes.extend(FFMPEG_HEADER);
        bytes.resize(620, 0);
        let f = read_facts(std::io::Cursor::new(bytes), "a.aac").unwrap();
        assert_eq!(f.format, "aac");
        assert_eq!(f.tracks[0].sample_rate, Some(8000));
        assert_eq!(f.tracks[0].duration_s, None);
    }

    #[test]
    fn adts_truncated_at_every_length_never_panics() {
        let mut bytes = FFMPEG_HEADER.to_vec();
        bytes.resize(330, 0);
        for n in 0..bytes.len() {
            let _ = read_facts(std::io::Cursor::new(bytes[..n].to_vec()), "a.aac");
        }
    }
}
