//! AIFF and AIFF-C (Apple "Audio Interchange File Format" 1.3 and the AIFF-C draft of 1991):
//! the `COMM` chunk for codec, rate, channels and length, text chunks and `ID3 ` tags. The sound
//! data (`SSND`) is never read.
#![forbid(unsafe_code)]

use std::io::{Read, Seek};

use super::source::{Cursor, Source, fourcc_str, text};
use super::{ContainerFacts, TrackFacts, TrackKind, id3v2, seconds};
use crate::error::{Error, Result};

/// Most chunks walked.
const MAX_CHUNKS: u64 = 100_000;

/// Largest metadata chunk read whole (`COMM`, text, `ID3 `).
const MAX_CHUNK_BYTES: u64 = 1 << 20;

/// Decodes an 80-bit IEEE 754 extended float (the `COMM` sample rate): sign and 15-bit exponent
/// (bias 16383), then a 64-bit mantissa with an explicit integer bit.
fn extended(b: &[u8; 10]) -> f64 {
    let exp = i32::from(u16::from_be_bytes([b[0], b[1]]) & 0x7fff);
    let mantissa = u64::from_be_bytes([b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]]);
    if exp == 0 && mantissa == 0 {
        return 0.0;
    }
    let v = mantissa as f64 * 2f64.powi(exp - 16_383 - 63);
    if b[0] & 0x80 != 0 { -v } else { v }
}

/// ffprobe's codec name for an AIFF-C compression type (ffmpeg's `ff_codec_aiff_tags`), or for
/// plain AIFF (`NONE`) by sample size.
fn codec(compression: &[u8; 4], bits: i16) -> Option<&'static str> {
    Some(match compression {
        b"NONE" | b"twos" => match bits {
            1..=8 => "pcm_s8",
            9..=16 => "pcm_s16be",
            17..=24 => "pcm_s24be",
            25..=32 => "pcm_s32be",
            _ => return None,
        },
        b"sowt" => "pcm_s16le",
        b"fl32" | b"FL32" => "pcm_f32be",
        b"fl64" | b"FL64" => "pcm_f64be",
        b"alaw" | b"ALAW" => "pcm_alaw",
        b"ulaw" | b"ULAW" => "pcm_mulaw",
        b"in24" => "pcm_s24be",
        b"in32" => "pcm_s32be",
        b"raw " => "pcm_u8",
        b"ima4" => "adpcm_ima_qt",
        b"MAC3" => "mace3",
        b"MAC6" => "mace6",
        b"GSM " => "gsm",
        b"QDM2" => "qdm2",
        _ => return None,
    })
}

/// Reads the facts of an AIFF or AIFF-C file.
pub(super) fn read<R: Read + Seek>(src: &mut Source<R>) -> Result<ContainerFacts> {
    let mut head = [0u8; 12];
    src.read_exact_at(0, &mut head)?;
    let aifc = &head[8..12] == b"AIFC";
    let form_end = 8 + u64::from(u32::from_be_bytes([head[4], head[5], head[6], head[7]]));
    let mut facts = ContainerFacts::new("aiff");
    let mut notes = Vec::new();
    let end = if form_end > src.len {
        notes.push(format!(
            "file is truncated: the form chunk claims {} bytes but the file has {}",
            form_end, src.len
        ));
        src.len
    } else {
        form_end
    };
    let mut comm: Option<(u16, u32, i16, f64, [u8; 4])> = None;
    let mut ssnd: Option<u64> = None;
    let mut pictures = Vec::new();
    let mut pos = 12u64;
    let mut chunks = 0u64;
    while end.saturating_sub(pos) >= 8 {
        src.count(&mut chunks, MAX_CHUNKS, "number of chunks")?;
        let mut h = [0u8; 8];
        src.read_exact_at(pos, &mut h)?;
        let id = [h[0], h[1], h[2], h[3]];
        let size = u64::from(u32::from_be_bytes([h[4], h[5], h[6], h[7]]));
        let name = fourcc_str(&id);
        let body = pos + 8;
        let what = format!("{} ({name} chunk at byte {pos})", src.name);
        facts.push_layout(name.clone());
        if body + size > end {
            if &id == b"SSND" {
                notes.push(format!(
                    "file is truncated: the SSND chunk claims {size} bytes but only {} remain",
                    end - body
                ));
                ssnd = Some((end - body).saturating_sub(8));
                break;
            }
            return Err(Error::malformed(
                what,
                format!("chunk size {size} runs past the end of the file"),
            ));
        }
        match &id {
            b"COMM" => {
                let data = src.read_vec(body, size, MAX_CHUNK_BYTES, "COMM chunk size")?;
                let mut c = Cursor::new(&data, body, &what);
                let channels = c.u16_be()?;
                let frames = c.u32_be()?;
                let bits = c.i16_be()?;
                let rate: [u8; 10] = c.take(10)?.try_into().expect("take(10) returns 10 bytes");
                let compression = if aifc { c.fourcc()? } else { *b"NONE" };
                comm = Some((channels, frames, bits, extended(&rate), compression));
            }
            b"SSND" => ssnd = Some(size.saturating_sub(8)),
            b"NAME" | b"AUTH" | b"(c) " | b"ANNO" => {
                let data = src.read_vec(body, size, MAX_CHUNK_BYTES, "text chunk size")?;
                facts.push_tag(name.clone(), text(&data));
            }
            b"ID3 " | b"id3 " => {
                let data = src.read_up_to(body, size.min(MAX_CHUNK_BYTES))?;
                let (tags, pics) = id3v2::parse_bytes(&data);
                facts.tags.extend(tags);
                pictures.extend(pics);
            }
            _ => {}
        }
        // IFF chunks are padded to an even size.
        pos = body + size + (size & 1);
    }
    let (channels, frames, bits, rate, compression) =
        comm.ok_or_else(|| src.malformed("aiff without a COMM chunk"))?;
    let mut t = TrackFacts::new(TrackKind::Audio);
    t.codec = codec(&compression, bits).map(str::to_string);
    t.codec_tag = Some(fourcc_str(&compression));
    t.channels = (channels > 0).then_some(channels);
    let rate_hz = (rate.is_finite() && rate >= 1.0 && rate <= f64::from(u32::MAX))
        .then(|| rate.round() as u32);
    t.sample_rate = rate_hz;
    t.bits_per_sample = u16::try_from(bits)
        .ok()
        .filter(|&b| b > 0 && t.codec.as_deref().is_some_and(|c| c.starts_with("pcm_")));
    t.duration_s = rate_hz.and_then(|r| seconds(u64::from(frames), u64::from(r)));
    if let (Some(data), Some(b)) = (ssnd, t.bits_per_sample)
        && compression == *b"NONE"
    {
        let frame_bytes = u64::from(channels) * u64::from(b.div_ceil(8));
        if frame_bytes > 0 && data / frame_bytes != u64::from(frames) {
            notes.push(format!(
                "the COMM chunk says {frames} sample frames but the sound data holds {}",
                data / frame_bytes
            ));
        }
    }
    facts.duration_s = t.duration_s;
    facts.tracks.push(t);
    facts.tracks.extend(pictures);
    facts.encoder = id3v2::encoder(&facts.tags);
    facts.notes = notes;
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::read_facts;

    /// 8000.0 as an 80-bit extended float (exponent 16383 + 12, mantissa 8000 << 51).
    const RATE_8000: [u8; 10] = [0x40, 0x0b, 0xfa, 0, 0, 0, 0, 0, 0, 0];

    fn aiff(frames: u32, data_bytes: usize) -> Vec<u8> {
        let mut comm = Vec::new();
        comm.extend(1u16.to_be_bytes());
        comm.extend(frames.to_be_bytes());
        comm.extend(16i16.to_be_bytes());
        comm.extend(RATE_8000);
        let mut ssnd = vec![0u8; 8];
        ssnd.extend(vec![0u8; data_bytes]);
        let mut body = b"AIFF".to_vec();
        for (id, data) in [(b"COMM", comm), (b"SSND", ssnd)] {
            body.extend(id);
            body.extend((data.len() as u32).to_be_bytes());
            body.extend(data);
        }
        let mut out = b"FORM".to_vec();
        out.extend((body.len() as u32).to_be_bytes());
        out.extend(body);
        out
    }

    #[test]
    fn extended_decodes_common_rates() {
        assert_eq!(extended(&RATE_8000), 8000.0);
        // 44100: exponent 16383 + 15, mantissa 0xAC44 << 48.
        assert_eq!(
            extended(&[0x40, 0x0e, 0xac, 0x44, 0, 0, 0, 0, 0, 0]),
            44_100.0
        );
    }

    #[test]
    fn aiff_reads_comm() {
        let f = read_facts(std::io::Cursor::new(aiff(2000, 4000)), "a.aiff").unwrap();
        let t = &f.tracks[0];
        assert_eq!(t.codec.as_deref(), Some("pcm_s16be"));
        assert_eq!((t.sample_rate, t.channels), (Some(8000), Some(1)));
        assert_eq!(t.duration_s, Some(0.25));
        assert!(f.notes.is_empty(), "{:?}", f.notes);
    }

    #[test]
    fn aiff_frame_count_disagreeing_with_data_is_noted() {
        let f = read_facts(std::io::Cursor::new(aiff(3000, 4000)), "a.aiff").unwrap();
        assert!(
            f.notes
                .iter()
                .any(|n| n.starts_with("the COMM chunk says 3000")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn aiff_truncated_at_every_length_never_panics() {
        let bytes = aiff(10, 20);
        for n in 0..bytes.len() {
            let _ = read_facts(std::io::Cursor::new(bytes[..n].to_vec()), "a.aiff");
        }
    }
}
