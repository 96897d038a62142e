//! CAF (Apple "Core Audio Format Specification" 1.0): the `desc` chunk for codec, rate and
//! channels, `pakt` for the valid frame count, priming and remainder, `info` for tags. The audio
//! data is never read.
#![forbid(unsafe_code)]

use std::io::{Read, Seek};

use super::source::{Cursor, Source, fourcc_str, text};
use super::{ContainerFacts, TrackFacts, TrackKind, seconds};
use crate::error::{Error, Result};

/// Most chunks walked.
const MAX_CHUNKS: u64 = 100_000;

/// Largest metadata chunk read whole (`desc`, `info`, the `pakt` header).
const MAX_CHUNK_BYTES: u64 = 1 << 20;

/// `mFormatFlags` of linear PCM (CAF specification, "Audio Description Chunk"):
/// `kCAFLinearPCMFormatFlagIsFloat` and `kCAFLinearPCMFormatFlagIsLittleEndian`.
const FLAG_FLOAT: u32 = 1;
const FLAG_LITTLE_ENDIAN: u32 = 2;

/// The `desc` chunk.
#[derive(Debug, Clone, Copy)]
struct Desc {
    rate: f64,
    format: [u8; 4],
    flags: u32,
    bytes_per_packet: u32,
    frames_per_packet: u32,
    channels: u32,
    bits: u32,
}

impl Desc {
    /// ffprobe's codec name (ffmpeg's `ff_codec_caf_tags`, PCM by flags and bits).
    fn codec(&self) -> Option<&'static str> {
        let le = self.flags & FLAG_LITTLE_ENDIAN != 0;
        Some(match &self.format {
            b"lpcm" => match (self.flags & FLAG_FLOAT != 0, self.bits, le) {
                (true, 32, true) => "pcm_f32le",
                (true, 32, false) => "pcm_f32be",
                (true, 64, true) => "pcm_f64le",
                (true, 64, false) => "pcm_f64be",
                (false, 8, _) => "pcm_s8",
                (false, 16, true) => "pcm_s16le",
                (false, 16, false) => "pcm_s16be",
                (false, 24, true) => "pcm_s24le",
                (false, 24, false) => "pcm_s24be",
                (false, 32, true) => "pcm_s32le",
                (false, 32, false) => "pcm_s32be",
                _ => return None,
            },
            b"aac " => "aac",
            b"alac" => "alac",
            b"ulaw" => "pcm_mulaw",
            b"alaw" => "pcm_alaw",
            b".mp3" => "mp3",
            b".mp2" => "mp2",
            b"opus" => "opus",
            b"flac" => "flac",
            b"ima4" => "adpcm_ima_qt",
            b"ac-3" => "ac3",
            b"samr" => "amr_nb",
            _ => return None,
        })
    }
}

/// Reads the facts of a CAF file.
pub(super) fn read<R: Read + Seek>(src: &mut Source<R>) -> Result<ContainerFacts> {
    let mut facts = ContainerFacts::new("caf");
    let mut notes = Vec::new();
    let mut desc: Option<Desc> = None;
    let mut data_bytes: Option<u64> = None;
    let mut pakt: Option<(i64, i32, i32)> = None;
    let mut pos = 8u64; // "caff", version, flags
    let mut chunks = 0u64;
    while src.len.saturating_sub(pos) >= 12 {
        src.count(&mut chunks, MAX_CHUNKS, "number of chunks")?;
        let mut h = [0u8; 12];
        src.read_exact_at(pos, &mut h)?;
        let id = [h[0], h[1], h[2], h[3]];
        let size = i64::from_be_bytes([h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11]]);
        let name = fourcc_str(&id);
        let body = pos + 12;
        let what = format!("{} ({name} chunk at byte {pos})", src.name);
        facts.push_layout(name.clone());
        let left = src.len - body;
        // Only the data chunk may have size -1: "to the end of the file".
        let size = match (u64::try_from(size), &id) {
            (Ok(s), _) if s <= left => s,
            (Err(_), b"data") if size == -1 => left,
            (Ok(s), b"data") => {
                notes.push(format!(
                    "file is truncated: the data chunk claims {s} bytes but only {left} remain"
                ));
                left
            }
            _ => {
                return Err(Error::malformed(
                    what,
                    format!("chunk size {size} runs past the end of the file"),
                ));
            }
        };
        match &id {
            b"desc" => {
                let d = src.read_vec(body, size, MAX_CHUNK_BYTES, "desc chunk size")?;
                let mut c = Cursor::new(&d, body, &what);
                desc = Some(Desc {
                    rate: c.f64_be()?,
                    format: c.fourcc()?,
                    flags: c.u32_be()?,
                    bytes_per_packet: c.u32_be()?,
                    frames_per_packet: c.u32_be()?,
                    channels: c.u32_be()?,
                    bits: c.u32_be()?,
                });
            }
            b"data" => data_bytes = Some(size.saturating_sub(4)), // after mEditCount
            b"pakt" => {
                let d = src.read_vec(body, size.min(24), 24, "pakt header")?;
                let mut c = Cursor::new(&d, body, &what);
                c.skip(8)?; // mNumberPackets
                let valid = c.i64_be()?;
                let priming = c.i32_be()?;
                let remainder = c.i32_be()?;
                pakt = Some((valid, priming, remainder));
            }
            b"info" => {
                let d = src.read_vec(body, size, MAX_CHUNK_BYTES, "info chunk size")?;
                // mNumEntries, then NUL-terminated key and value strings.
                let mut parts = d.get(4..).unwrap_or_default().split(|&b| b == 0);
                while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
                    if !k.is_empty() {
                        facts.push_tag(text(k), text(v));
                    }
                }
            }
            b"free" => notes.push(format!("padding: 'free' ({size} bytes) at byte {pos}")),
            _ => {}
        }
        pos = body + size;
    }
    let d = desc.ok_or_else(|| src.malformed("caf without a desc chunk"))?;
    let mut t = TrackFacts::new(TrackKind::Audio);
    t.codec = d.codec().map(str::to_string);
    t.codec_tag = Some(fourcc_str(&d.format));
    let rate = (d.rate.is_finite() && d.rate >= 1.0 && d.rate <= f64::from(u32::MAX))
        .then(|| d.rate.round() as u32);
    t.sample_rate = rate;
    t.channels = u16::try_from(d.channels).ok().filter(|&c| c > 0);
    if &d.format == b"lpcm" {
        t.bits_per_sample = u16::try_from(d.bits).ok();
    }
    let r = u64::from(rate.unwrap_or(0));
    if let Some((valid, priming, remainder)) = pakt {
        t.encoder_delay_samples = u64::try_from(priming).ok();
        t.padding_samples = u64::try_from(remainder).ok();
        if let Ok(v) = u64::try_from(valid) {
            t.duration_s = seconds(v, r);
        }
    } else if let (Some(bytes), true) = (data_bytes, d.bytes_per_packet > 0) {
        let frames = bytes / u64::from(d.bytes_per_packet) * u64::from(d.frames_per_packet);
        t.duration_s = seconds(frames, r);
    }
    facts.duration_s = t.duration_s;
    facts.tracks.push(t);
    facts.encoder = facts.tag("encoder").map(str::to_string);
    facts.notes = notes;
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::read_facts;

    fn caf(data: &[u8]) -> Vec<u8> {
        let mut out = b"caff\x00\x01\x00\x00".to_vec();
        let mut desc = 8000f64.to_be_bytes().to_vec();
        desc.extend(b"lpcm");
        for v in [FLAG_LITTLE_ENDIAN, 2, 1, 1, 16] {
            desc.extend(v.to_be_bytes());
        }
        for (id, body) in [(b"desc", desc), (b"data", data.to_vec())] {
            out.extend(id);
            out.extend((body.len() as i64).to_be_bytes());
            out.extend(body);
        }
        out
    }

    #[test]
    fn caf_lpcm_reads_desc_and_duration() {
        let mut data = vec![0u8; 4];
        data.extend(vec![0u8; 4000]);
        let f = read_facts(std::io::Cursor::new(caf(&data)), "a.caf").unwrap();
        let t = &f.tracks[0];
        assert_eq!(t.codec.as_deref(), Some("pcm_s16le"));
        assert_eq!(t.duration_s, Some(0.25));
    }

    #[test]
    fn caf_chunk_past_end_is_malformed() {
        let mut bytes = caf(&[0u8; 8]);
        bytes[8 + 4 + 7] = 0xff; // desc size
        let err = read_facts(std::io::Cursor::new(bytes), "a.caf").unwrap_err();
        assert!(
            err.to_string().starts_with("a.caf (desc chunk at byte 8)"),
            "{err}"
        );
    }

    #[test]
    fn caf_truncated_at_every_length_never_panics() {
        let bytes = caf(&[0u8; 20]);
        for n in 0..bytes.len() {
            let _ = read_facts(std::io::Cursor::new(bytes[..n].to_vec()), "a.caf");
        }
    }
}
