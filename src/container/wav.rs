//! WAV: RIFF `WAVE` files (Microsoft "Multimedia Programming Interface and Data Specifications
//! 1.0", RIFF and WAVE chunks), RF64/BW64 with their `ds64` chunk (EBU Tech 3306 §3, ITU-R
//! BS.2088), the Broadcast Wave `bext` chunk (EBU Tech 3285) and `LIST`/`INFO` tags.
//!
//! Chunks are walked by their headers; `data` is never read.
#![forbid(unsafe_code)]

use std::io::{Read, Seek};

use super::source::{Cursor, Source, fourcc_str, text};
use super::{ContainerFacts, TrackFacts, TrackKind, id3v2, seconds, xmp};
use crate::error::{Error, Result};

/// Most chunks walked. Real files have a handful; a file of millions of empty chunks is hostile.
const MAX_CHUNKS: u64 = 100_000;

/// Largest metadata chunk read whole (`fmt `, `LIST`, `bext`, `ds64`, `_PMX`).
const MAX_CHUNK_BYTES: u64 = 1 << 20;

/// RIFF sizes of this value (or 0) in a `data` chunk mean "unknown": the file was written as a
/// stream, and the data runs to the end of the file (as ffmpeg reads it). In RF64 the real size
/// is in `ds64` (EBU Tech 3306 §3.2).
const SIZE_UNSET: u32 = u32::MAX;

/// `WAVE_FORMAT_EXTENSIBLE`: the real format tag is the first two bytes of `SubFormat`.
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xfffe;

/// The `fmt ` chunk (WAVEFORMATEX, with WAVEFORMATEXTENSIBLE's SubFormat resolved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Format {
    /// `wFormatTag` (1 PCM, 3 IEEE float, 6 A-law, 7 µ-law, 0x55 MP3, …).
    pub(crate) tag: u16,
    /// `nChannels`.
    pub(crate) channels: u16,
    /// `nSamplesPerSec`.
    pub(crate) sample_rate: u32,
    /// `nBlockAlign`: bytes per sample frame.
    pub(crate) block_align: u16,
    /// `wBitsPerSample`.
    pub(crate) bits: u16,
}

/// Reads a `fmt ` body.
pub(crate) fn read_fmt(c: &mut Cursor<'_>) -> Result<Format> {
    let mut tag = c.u16_le()?;
    let channels = c.u16_le()?;
    let sample_rate = c.u32_le()?;
    c.skip(4)?; // nAvgBytesPerSec
    let block_align = c.u16_le()?;
    let bits = if c.remaining() >= 2 { c.u16_le()? } else { 0 };
    if tag == WAVE_FORMAT_EXTENSIBLE && c.remaining() >= 2 + 22 {
        c.skip(2 + 2 + 4)?; // cbSize, wValidBitsPerSample, dwChannelMask
        tag = c.u16_le()?;
    }
    Ok(Format {
        tag,
        channels,
        sample_rate,
        block_align,
        bits,
    })
}

impl Format {
    /// ffprobe's codec name, as ffmpeg's `ff_codec_wav_tags` and `ff_wav_codec_get_id` map
    /// format tags (PCM by whole bytes per sample).
    pub(crate) fn codec(&self) -> Option<&'static str> {
        let bytes = self.bits.div_ceil(8);
        Some(match self.tag {
            0x0001 => match bytes {
                1 => "pcm_u8",
                2 => "pcm_s16le",
                3 => "pcm_s24le",
                4 => "pcm_s32le",
                8 => "pcm_s64le",
                _ => return None,
            },
            0x0003 => match bytes {
                4 => "pcm_f32le",
                8 => "pcm_f64le",
                _ => return None,
            },
            0x0002 => "adpcm_ms",
            0x0006 => "pcm_alaw",
            0x0007 => "pcm_mulaw",
            0x0011 => "adpcm_ima_wav",
            0x0031 => "gsm_ms",
            0x0050 => "mp2",
            0x0055 => "mp3",
            0x00ff | 0x1600 | 0x1601 | 0x706d => "aac",
            0x0161 => "wmav2",
            0x2000 => "ac3",
            0x2001 => "dts",
            0xf1ac => "flac",
            _ => return None,
        })
    }

    /// True for PCM and float, whose duration follows from the data size.
    fn is_pcm(&self) -> bool {
        matches!(self.tag, 0x0001 | 0x0003 | 0x0006 | 0x0007)
    }
}

/// Reads the facts of a WAV file.
pub(super) fn read<R: Read + Seek>(src: &mut Source<R>) -> Result<ContainerFacts> {
    let mut head = [0u8; 12];
    src.read_exact_at(0, &mut head)?;
    let rf64 = &head[0..4] != b"RIFF";
    let riff_size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let mut facts = ContainerFacts::new("wav");
    let mut notes = Vec::new();
    if rf64 {
        notes.push(format!(
            "{} file (64-bit sizes in ds64)",
            fourcc_str(&head[0..4]).to_lowercase()
        ));
    }
    let declared_end = 8 + u64::from(riff_size);
    let end = if rf64 || riff_size == SIZE_UNSET {
        src.len
    } else {
        if declared_end < src.len {
            let extra = src.len - declared_end;
            let mut tail = [0u8; 3];
            let what = if src.read_exact_at(declared_end, &mut tail).is_ok() && &tail == b"ID3" {
                " (an ID3 tag appended by a tagger)"
            } else {
                ""
            };
            notes.push(format!(
                "{extra} bytes after the end of the riff chunk{what}"
            ));
        }
        declared_end.min(src.len)
    };

    let mut fmt: Option<Format> = None;
    let mut data: Option<(u64, u64)> = None; // (start, size in bytes)
    let mut ds64_data: Option<u64> = None;
    let mut fact_samples: Option<u32> = None;
    let mut after_data: Vec<String> = Vec::new();
    let mut padding: Vec<String> = Vec::new();
    let mut pictures = Vec::new();
    let mut pos = 12u64;
    let mut chunks = 0u64;
    while end.saturating_sub(pos) >= 8 {
        src.count(&mut chunks, MAX_CHUNKS, "number of chunks")?;
        let mut h = [0u8; 8];
        src.read_exact_at(pos, &mut h)?;
        let id = [h[0], h[1], h[2], h[3]];
        let size32 = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        let name = fourcc_str(&id);
        let body = pos + 8;
        let what = format!("{} ({name} chunk at byte {pos})", src.name);
        facts.push_layout(name.clone());
        if data.is_some() && &id != b"data" {
            after_data.push(name.clone());
        }
        let mut size = u64::from(size32);
        if &id == b"data" {
            if let (true, Some(real)) = (size32 == SIZE_UNSET, ds64_data) {
                size = real;
            } else if size32 == SIZE_UNSET || size32 == 0 {
                notes.push(
                    "data chunk size is unset: written as a stream, the data runs to the end of the file"
                        .to_string(),
                );
                size = end - body;
            }
            if body + size > end {
                notes.push(format!(
                    "file is truncated: the data chunk claims {size} bytes but only {} remain",
                    end - body
                ));
            }
            data = Some((body, size));
            pos = body.saturating_add(size).saturating_add(size & 1);
            continue;
        }
        if body + size > end {
            return Err(Error::malformed(
                what,
                format!(
                    "chunk size {size} runs past the end of the file (by {} bytes)",
                    body + size - end
                ),
            ));
        }
        match &id {
            b"fmt " => {
                let bytes = src.read_vec(body, size, MAX_CHUNK_BYTES, "fmt chunk size")?;
                fmt = Some(read_fmt(&mut Cursor::new(&bytes, body, &what))?);
            }
            b"ds64" => {
                let bytes = src.read_vec(body, size, MAX_CHUNK_BYTES, "ds64 chunk size")?;
                let mut c = Cursor::new(&bytes, body, &what);
                c.skip(8)?; // riffSize
                ds64_data = Some(c.u64_le()?);
            }
            b"fact" if size >= 4 => {
                let bytes = src.read_vec(body, 4, 4, "fact chunk")?;
                fact_samples = Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]));
            }
            b"LIST" => {
                let bytes = src.read_vec(body, size, MAX_CHUNK_BYTES, "LIST chunk size")?;
                read_info(&bytes, &mut facts);
            }
            b"bext" => {
                let bytes = src.read_vec(body, size, MAX_CHUNK_BYTES, "bext chunk size")?;
                read_bext(&bytes, &mut facts);
            }
            b"id3 " | b"ID3 " => {
                let bytes = src.read_up_to(body, size.min(MAX_CHUNK_BYTES))?;
                let (tags, pics) = id3v2::parse_bytes(&bytes);
                facts.tags.extend(tags);
                pictures.extend(pics);
            }
            b"_PMX" => {
                let bytes = src.read_up_to(body, size.min(MAX_CHUNK_BYTES))?;
                if let Some(x) = xmp::xmp(&bytes) {
                    xmp::notes(&x, &mut notes);
                }
            }
            b"JUNK" | b"junk" | b"PAD " | b"FLLR" | b"free" | b"filr" => {
                padding.push(format!("'{name}' ({size} bytes) at byte {pos}"));
            }
            _ => {}
        }
        // RIFF chunks are padded to an even size (RIFF specification, "Chunks").
        pos = body + size + (size & 1);
    }

    let fmt = fmt.ok_or_else(|| src.malformed("wav without a fmt chunk"))?;
    let mut t = TrackFacts::new(TrackKind::Audio);
    t.codec = fmt.codec().map(str::to_string);
    t.codec_tag = Some(format!("0x{:04x}", fmt.tag));
    t.sample_rate = (fmt.sample_rate > 0).then_some(fmt.sample_rate);
    t.channels = (fmt.channels > 0).then_some(fmt.channels);
    if fmt.is_pcm() {
        t.bits_per_sample = (fmt.bits > 0).then_some(fmt.bits);
    }
    if let Some((_, size)) = data {
        if fmt.is_pcm() && fmt.block_align > 0 {
            let frames = size / u64::from(fmt.block_align);
            t.duration_s = seconds(frames, u64::from(fmt.sample_rate));
            if size % u64::from(fmt.block_align) != 0 {
                notes.push(format!(
                    "data size {size} is not a whole number of sample frames ({} bytes each)",
                    fmt.block_align
                ));
            }
        } else if let Some(n) = fact_samples {
            t.duration_s = seconds(u64::from(n), u64::from(fmt.sample_rate));
        }
    } else {
        notes.push("no data chunk".to_string());
    }
    facts.duration_s = t.duration_s;
    facts.tracks.push(t);
    facts.tracks.extend(pictures);
    facts.encoder = facts
        .tag("ISFT")
        .map(str::to_string)
        .or_else(|| id3v2::encoder(&facts.tags));
    if !after_data.is_empty() {
        notes.push(format!(
            "chunks after the data: {} (metadata appended after recording)",
            after_data.join(", ")
        ));
    }
    if !padding.is_empty() {
        notes.push(format!("padding: {}", padding.join(", ")));
    }
    if let Some(orig) = facts.tag("bext:Originator")
        && let Some(sw) = facts.tag("ISFT")
        && !orig.is_empty()
        && !sw.contains(orig)
        && !orig.contains(sw)
    {
        notes.push(format!(
            "bext originator '{orig}' differs from the software tag '{sw}'"
        ));
    }
    facts.notes = notes;
    Ok(facts)
}

/// `LIST`/`INFO` sub-chunks: a four-character id, a 32-bit size, NUL-terminated text.
fn read_info(bytes: &[u8], facts: &mut ContainerFacts) {
    if bytes.get(0..4) != Some(b"INFO") {
        return;
    }
    let mut pos = 4;
    while let Some(h) = bytes.get(pos..pos + 8) {
        let id = fourcc_str(&h[0..4]);
        let size = u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize;
        let Some(value) = bytes.get(pos + 8..(pos + 8).saturating_add(size)) else {
            break;
        };
        let value = text(value);
        if !value.is_empty() {
            facts.push_tag(id, value);
        }
        pos += 8 + size + (size & 1);
    }
}

/// `bext` (EBU Tech 3285 §2.3): Description (256), Originator (32), OriginatorReference (32),
/// OriginationDate (10), OriginationTime (8), TimeReference (u64), Version, UMID, loudness,
/// reserved — 602 bytes — then CodingHistory.
fn read_bext(bytes: &[u8], facts: &mut ContainerFacts) {
    let field = |range: std::ops::Range<usize>| bytes.get(range).map(text).unwrap_or_default();
    for (key, value) in [
        ("bext:Description", field(0..256)),
        ("bext:Originator", field(256..288)),
        ("bext:OriginatorReference", field(288..320)),
        ("bext:OriginationDate", field(320..330)),
        ("bext:OriginationTime", field(330..338)),
        ("bext:CodingHistory", field(602..bytes.len().max(602))),
    ] {
        if !value.is_empty() {
            facts.push_tag(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::read_facts;

    /// A WAV file from its chunks.
    fn wav(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
        let mut body = b"WAVE".to_vec();
        for (id, data) in chunks {
            body.extend(*id);
            body.extend((data.len() as u32).to_le_bytes());
            body.extend(data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut out = b"RIFF".to_vec();
        out.extend((body.len() as u32).to_le_bytes());
        out.extend(body);
        out
    }

    fn fmt_pcm(channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let align = channels * bits / 8;
        let mut b = Vec::new();
        b.extend(1u16.to_le_bytes());
        b.extend(channels.to_le_bytes());
        b.extend(rate.to_le_bytes());
        b.extend((rate * u32::from(align)).to_le_bytes());
        b.extend(align.to_le_bytes());
        b.extend(bits.to_le_bytes());
        b
    }

    fn facts(bytes: &[u8]) -> Result<ContainerFacts> {
        read_facts(std::io::Cursor::new(bytes.to_vec()), "clip.wav")
    }

    #[test]
    fn wav_pcm24_stereo_reads_codec_and_duration() {
        let f = facts(&wav(&[
            (b"fmt ", fmt_pcm(2, 48_000, 24)),
            (b"data", vec![0; 6 * 4800]),
        ]))
        .unwrap();
        let t = &f.tracks[0];
        assert_eq!(t.codec.as_deref(), Some("pcm_s24le"));
        assert_eq!((t.sample_rate, t.channels), (Some(48_000), Some(2)));
        assert_eq!(t.duration_s, Some(0.1));
        assert_eq!(f.layout, ["fmt ", "data"]);
    }

    #[test]
    fn wav_info_isft_is_encoder_and_trailing_list_is_noted() {
        let mut list = b"INFO".to_vec();
        list.extend(b"ISFT");
        list.extend(14u32.to_le_bytes());
        list.extend(b"Lavf59.27.100\0");
        let f = facts(&wav(&[
            (b"fmt ", fmt_pcm(1, 8000, 16)),
            (b"data", vec![0; 16]),
            (b"LIST", list),
        ]))
        .unwrap();
        assert_eq!(f.encoder.as_deref(), Some("Lavf59.27.100"));
        assert!(
            f.notes
                .iter()
                .any(|n| n.starts_with("chunks after the data: LIST")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn wav_extensible_float_uses_subformat() {
        let mut fmt = Vec::new();
        fmt.extend(0xfffeu16.to_le_bytes());
        fmt.extend(2u16.to_le_bytes());
        fmt.extend(44_100u32.to_le_bytes());
        fmt.extend((44_100u32 * 8).to_le_bytes());
        fmt.extend(8u16.to_le_bytes());
        fmt.extend(32u16.to_le_bytes());
        fmt.extend(22u16.to_le_bytes());
        fmt.extend(32u16.to_le_bytes());
        fmt.extend(3u32.to_le_bytes());
        fmt.extend([
            3, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
        ]);
        let f = facts(&wav(&[(b"fmt ", fmt), (b"data", vec![0; 8])])).unwrap();
        assert_eq!(f.tracks[0].codec.as_deref(), Some("pcm_f32le"));
    }

    #[test]
    fn wav_truncated_data_is_noted_and_chunk_past_end_is_malformed() {
        let mut bytes = wav(&[(b"fmt ", fmt_pcm(1, 8000, 16)), (b"data", vec![0; 16])]);
        bytes.truncate(bytes.len() - 6);
        // The RIFF size now overstates the file; the data chunk is cut.
        let f = facts(&bytes).unwrap();
        assert!(
            f.notes.iter().any(|n| n.starts_with("file is truncated")),
            "{:?}",
            f.notes
        );
        let mut bytes = wav(&[(b"fmt ", fmt_pcm(1, 8000, 16)), (b"data", vec![0; 16])]);
        bytes[16] = 0xff; // fmt size 255: past the end
        let err = facts(&bytes).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("clip.wav (fmt  chunk at byte 12)"),
            "{err}"
        );
    }

    #[test]
    fn wav_without_fmt_is_malformed() {
        let err = facts(&wav(&[(b"data", vec![0; 4])])).unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }), "{err}");
    }

    #[test]
    fn wav_truncated_at_every_length_never_panics() {
        let bytes = wav(&[
            (b"fmt ", fmt_pcm(1, 8000, 16)),
            (b"bext", vec![b'x'; 610]),
            (b"data", vec![0; 16]),
        ]);
        for n in 0..bytes.len() {
            let _ = facts(&bytes[..n]);
        }
    }
}
