//! `stsd`: the sample description box and its first sample entry (ISO/IEC 14496-12 §8.5.2, audio
//! and visual sample entries §12.2.3 and §12.1.3; QuickTime "Sound Sample Description" versions
//! 0, 1 and 2), with the codec configuration boxes inside the entry: `esds`, `dOps`, `dfLa`,
//! `alac`, `pcmC`, and QuickTime's `wave`/`enda`.
#![forbid(unsafe_code)]

use super::super::flac::{self, StreamInfo};
use super::super::source::{Cursor, text};
use super::esds::{self, Esds};
use super::next_child;
use crate::error::Result;

/// Bytes of the common sample entry header after the box header: six reserved bytes and
/// `data_reference_index` (§8.5.2.2).
const SAMPLE_ENTRY_FIELDS: usize = 8;

/// Opus specific box `dOps` ("Encapsulation of Opus in ISO Base Media File Format" §4.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OpusConfig {
    /// `OutputChannelCount`.
    pub(super) channels: u8,
    /// `PreSkip`, in 48 kHz samples.
    pub(super) pre_skip: u16,
}

/// The first sample entry of a track, with what its configuration boxes say.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct SampleEntry {
    /// The entry's box type (`mp4a`, `avc1`, `sowt`, …).
    pub(super) fourcc: [u8; 4],
    /// `entry_count` of the `stsd`: more than one means the codec settings change mid-track.
    pub(super) entry_count: u32,
    /// Audio `channelcount` (QuickTime v2: `numAudioChannels`).
    pub(super) channels: Option<u32>,
    /// Audio `samplesize` in bits (QuickTime v2: `constBitsPerChannel`).
    pub(super) sample_size: Option<u32>,
    /// Audio `samplerate` (16.16 fixed point; QuickTime v2: a double).
    pub(super) sample_rate: Option<f64>,
    /// QuickTime v2 `formatSpecificFlags` (Core Audio LPCM flags: 1 float, 2 big endian,
    /// 4 signed integer).
    pub(super) lpcm_flags: Option<u32>,
    /// The visual sample entry's `compressorname`.
    pub(super) compressor: Option<String>,
    /// `esds`, wherever it sits (directly or inside QuickTime `wave`).
    pub(super) esds: Option<Esds>,
    /// `dOps`.
    pub(super) opus: Option<OpusConfig>,
    /// The STREAMINFO of `dfLa`.
    pub(super) flac: Option<StreamInfo>,
    /// `alac`: bit depth, channels, sample rate.
    pub(super) alac: Option<(u8, u8, u32)>,
    /// Byte order from `enda` (QuickTime) or `pcmC` (ISO/IEC 23003-5): true for little endian.
    pub(super) little_endian: Option<bool>,
    /// `PCM_sample_size` of `pcmC`.
    pub(super) pcm_bits: Option<u8>,
}

/// What kind of sample entry to expect, from the track's handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EntryKind {
    /// `soun`.
    Audio,
    /// `vide`.
    Visual,
    /// Anything else: only the box type is read.
    Other,
}

/// Reads an `stsd` body and its first entry; `None` when it has no entries.
pub(super) fn read(c: &mut Cursor<'_>, kind: EntryKind) -> Result<Option<SampleEntry>> {
    c.skip(4)?; // version, flags
    let entry_count = c.u32_be()?;
    // Each entry is at least a box header and the common fields.
    if u64::from(entry_count) * (8 + SAMPLE_ENTRY_FIELDS as u64) > c.remaining() as u64 {
        return Err(c.error(format!("entry count {entry_count} exceeds the box")));
    }
    let Some((fourcc, mut entry)) = next_child(c)? else {
        return Ok(None);
    };
    let mut out = SampleEntry {
        fourcc,
        entry_count,
        ..SampleEntry::default()
    };
    entry.skip(SAMPLE_ENTRY_FIELDS)?;
    match kind {
        EntryKind::Audio => read_audio(&mut entry, &mut out)?,
        EntryKind::Visual => read_visual(&mut entry, &mut out)?,
        EntryKind::Other => return Ok(Some(out)),
    }
    read_config_boxes(&mut entry, &mut out, 0)?;
    Ok(Some(out))
}

/// The audio sample entry fields (QTFF "Sound Sample Description"; ISO §12.2.3 is version 0):
/// version, revision, vendor, channels, sample size, compression id, packet size, 16.16 rate;
/// version 1 adds four 32-bit fields; version 2 replaces them with a double rate, 32-bit
/// channels, bits and LPCM flags.
fn read_audio(c: &mut Cursor<'_>, out: &mut SampleEntry) -> Result<()> {
    let version = c.u16_be()?;
    c.skip(6)?; // revision, vendor
    let channels = c.u16_be()?;
    let sample_size = c.u16_be()?;
    c.skip(4)?; // compression id, packet size
    let rate = c.u32_be()?;
    out.channels = Some(u32::from(channels));
    out.sample_size = Some(u32::from(sample_size));
    out.sample_rate = Some(f64::from(rate >> 16) + f64::from(rate & 0xffff) / 65_536.0);
    match version {
        1 => c.skip(16)?, // samples per packet, bytes per packet, bytes per frame, bytes per sample
        2 => {
            c.skip(4)?; // sizeOfStructOnly
            out.sample_rate = Some(c.f64_be()?);
            out.channels = Some(c.u32_be()?);
            c.skip(4)?; // always 0x7F000000
            out.sample_size = Some(c.u32_be()?);
            out.lpcm_flags = Some(c.u32_be()?);
            c.skip(8)?; // bytes per packet, frames per packet
        }
        _ => {}
    }
    Ok(())
}

/// The visual sample entry fields (§12.1.3.2): 16 bytes of pre-defined/reserved, width, height,
/// resolutions, reserved, frame count, the 32-byte `compressorname` (a length byte, then the
/// name), depth and a pre-defined -1.
fn read_visual(c: &mut Cursor<'_>, out: &mut SampleEntry) -> Result<()> {
    c.skip(16 + 4 + 8 + 4 + 2)?;
    let name = c.take(32)?;
    let len = usize::from(name[0]).min(31);
    let compressor = text(&name[1..1 + len]);
    out.compressor = (!compressor.is_empty()).then_some(compressor);
    c.skip(4)?;
    Ok(())
}

/// The most nesting followed inside a sample entry: QuickTime's `wave` holds `esds` one level
/// down (QTFF "Sound Sample Description Extensions"); nothing deeper is defined.
const MAX_CONFIG_DEPTH: u32 = 2;

/// Reads the codec configuration boxes that follow the entry's fields.
fn read_config_boxes(c: &mut Cursor<'_>, out: &mut SampleEntry, depth: u32) -> Result<()> {
    while let Some((kind, mut body)) = next_child(c)? {
        match &kind {
            b"esds" if out.esds.is_none() => out.esds = esds::read(&mut body)?,
            b"dOps" => {
                body.skip(1)?; // Version
                let channels = body.u8()?;
                let pre_skip = body.u16_be()?;
                out.opus = Some(OpusConfig { channels, pre_skip });
            }
            b"dfLa" => {
                body.skip(4)?; // version, flags
                // A metadata block header (last flag and type, 24-bit length), then STREAMINFO.
                let header = body.u32_be()?;
                if header >> 24 & 0x7f == 0 {
                    out.flac = flac::parse_streaminfo(body.rest());
                }
            }
            b"alac" => {
                body.skip(4)?; // version, flags
                body.skip(5)?; // frameLength, compatibleVersion
                let bits = body.u8()?;
                body.skip(3)?; // pb, mb, kb
                let channels = body.u8()?;
                body.skip(10)?; // maxRun, maxFrameBytes, avgBitRate
                out.alac = Some((bits, channels, body.u32_be()?));
            }
            b"enda" => out.little_endian = Some(body.u16_be()? != 0),
            b"pcmC" => {
                body.skip(4)?;
                out.little_endian = Some(body.u8()? & 1 != 0);
                out.pcm_bits = Some(body.u8()?);
            }
            b"wave" if depth < MAX_CONFIG_DEPTH => read_config_boxes(&mut body, out, depth + 1)?,
            _ => {}
        }
    }
    Ok(())
}

impl SampleEntry {
    /// ffprobe's codec name for this entry, as ffmpeg's `mov` demuxer maps sample entry types
    /// (`ff_codec_movaudio_tags`, `ff_codec_movvideo_tags`, `ff_codec_movsubtitle_tags`).
    pub(super) fn codec(&self) -> Option<&'static str> {
        let bits = self.sample_size.unwrap_or(0);
        let le = self.little_endian.unwrap_or(false);
        Some(match &self.fourcc {
            b"mp4a" => self
                .esds
                .and_then(|e| esds::codec_of_object_type(e.object_type))
                .unwrap_or("aac"),
            b"mp4v" => self
                .esds
                .and_then(|e| esds::codec_of_object_type(e.object_type))
                .unwrap_or("mpeg4"),
            b".mp3" | b"ms\x00\x55" => "mp3",
            b"Opus" => "opus",
            b"fLaC" => "flac",
            b"alac" => "alac",
            b"ac-3" => "ac3",
            b"ec-3" => "eac3",
            b"ac-4" => "ac4",
            b"dtsc" | b"dtsh" | b"dtsl" | b"dtse" => "dts",
            b"samr" => "amr_nb",
            b"sawb" => "amr_wb",
            b"ulaw" => "pcm_mulaw",
            b"alaw" => "pcm_alaw",
            b"ima4" => "adpcm_ima_qt",
            b"raw " if bits <= 8 => "pcm_u8",
            b"twos" if bits == 8 => "pcm_s8",
            b"twos" => "pcm_s16be",
            b"sowt" if bits == 8 => "pcm_s8",
            b"sowt" => "pcm_s16le",
            b"in24" if le => "pcm_s24le",
            b"in24" => "pcm_s24be",
            b"in32" if le => "pcm_s32le",
            b"in32" => "pcm_s32be",
            b"fl32" if le => "pcm_f32le",
            b"fl32" => "pcm_f32be",
            b"fl64" if le => "pcm_f64le",
            b"fl64" => "pcm_f64be",
            b"lpcm" => return self.lpcm_codec(),
            b"ipcm" => match (self.pcm_bits?, le) {
                (16, true) => "pcm_s16le",
                (16, false) => "pcm_s16be",
                (24, true) => "pcm_s24le",
                (24, false) => "pcm_s24be",
                (32, true) => "pcm_s32le",
                (32, false) => "pcm_s32be",
                _ => return None,
            },
            b"fpcm" => match (self.pcm_bits?, le) {
                (32, true) => "pcm_f32le",
                (32, false) => "pcm_f32be",
                (64, true) => "pcm_f64le",
                (64, false) => "pcm_f64be",
                _ => return None,
            },
            b"avc1" | b"avc2" | b"avc3" | b"avc4" => "h264",
            b"hvc1" | b"hev1" | b"dvh1" | b"dvhe" => "hevc",
            b"av01" => "av1",
            b"vp08" => "vp8",
            b"vp09" => "vp9",
            b"jpeg" | b"mjpa" | b"mjpb" => "mjpeg",
            b"apch" | b"apcn" | b"apcs" | b"apco" | b"ap4h" | b"ap4x" => "prores",
            b"s263" | b"h263" => "h263",
            b"png " => "png",
            b"tx3g" | b"text" => "mov_text",
            b"wvtt" => "webvtt",
            b"stpp" => "ttml",
            b"c608" => "eia_608",
            _ => return None,
        })
    }

    /// The PCM codec of a QuickTime v2 `lpcm` entry from its Core Audio flags and bit depth.
    fn lpcm_codec(&self) -> Option<&'static str> {
        let flags = self.lpcm_flags?;
        let (float, big, signed) = (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0);
        Some(match (float, signed, self.sample_size?, big) {
            (true, _, 32, true) => "pcm_f32be",
            (true, _, 32, false) => "pcm_f32le",
            (true, _, 64, true) => "pcm_f64be",
            (true, _, 64, false) => "pcm_f64le",
            (false, true, 8, _) => "pcm_s8",
            (false, false, 8, _) => "pcm_u8",
            (false, true, 16, true) => "pcm_s16be",
            (false, true, 16, false) => "pcm_s16le",
            (false, true, 24, true) => "pcm_s24be",
            (false, true, 24, false) => "pcm_s24le",
            (false, true, 32, true) => "pcm_s32be",
            (false, true, 32, false) => "pcm_s32le",
            _ => return None,
        })
    }

    /// True for uncompressed or lossless audio, which has no encoder priming.
    pub(super) fn is_lossless(&self) -> bool {
        matches!(self.codec(), Some(c) if c.starts_with("pcm_") || c == "alac" || c == "flac")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stsd body of aac-lc-44k-mono-elst-1024.m4a's audio track up to the esds (as ffmpeg
    /// wrote it), followed by that esds.
    fn ffmpeg_mp4a_stsd() -> Vec<u8> {
        let esds: &[u8] = &[
            0x00, 0x00, 0x00, 0x00, 0x03, 0x80, 0x80, 0x80, 0x25, 0x00, 0x01, 0x00, 0x04, 0x80,
            0x80, 0x80, 0x17, 0x40, 0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7e, 0x9f, 0x00, 0x00,
            0x7e, 0x9f, 0x05, 0x80, 0x80, 0x80, 0x05, 0x12, 0x08, 0x56, 0xe5, 0x00, 0x06, 0x80,
            0x80, 0x80, 0x01, 0x02,
        ];
        let mut entry = Vec::new();
        entry.extend([0, 0, 0, 0, 0, 0, 0, 1]); // reserved, data_reference_index
        entry.extend([0, 0, 0, 0, 0, 0, 0, 0]); // version, revision, vendor
        entry.extend([0, 1, 0, 16, 0, 0, 0, 0]); // channels 1, 16 bits
        entry.extend([0xac, 0x44, 0, 0]); // 44100.0
        entry.extend(((esds.len() + 8) as u32).to_be_bytes());
        entry.extend(b"esds");
        entry.extend(esds);
        let mut stsd = vec![0, 0, 0, 0, 0, 0, 0, 1];
        stsd.extend(((entry.len() + 8) as u32).to_be_bytes());
        stsd.extend(b"mp4a");
        stsd.extend(entry);
        stsd
    }

    #[test]
    fn stsd_ffmpeg_mp4a_reads_rate_channels_and_esds() {
        let b = ffmpeg_mp4a_stsd();
        let e = read(&mut Cursor::new(&b, 0, "t"), EntryKind::Audio)
            .unwrap()
            .unwrap();
        assert_eq!(&e.fourcc, b"mp4a");
        assert_eq!(e.channels, Some(1));
        assert_eq!(e.sample_rate, Some(44_100.0));
        assert_eq!(e.codec(), Some("aac"));
        assert_eq!(e.esds.unwrap().asc.unwrap().object_type, 2);
    }

    #[test]
    fn stsd_truncated_at_every_length_never_panics() {
        let b = ffmpeg_mp4a_stsd();
        for n in 0..b.len() {
            let _ = read(&mut Cursor::new(&b[..n], 0, "t"), EntryKind::Audio);
        }
    }

    #[test]
    fn stsd_absurd_entry_count_is_error() {
        let b = [
            0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 16, b'm', b'p', b'4', b'a',
        ];
        assert!(read(&mut Cursor::new(&b, 0, "t"), EntryKind::Audio).is_err());
    }

    #[test]
    fn codec_lpcm_flags_pick_pcm_variant() {
        let e = SampleEntry {
            fourcc: *b"lpcm",
            lpcm_flags: Some(4),
            sample_size: Some(24),
            ..SampleEntry::default()
        };
        assert_eq!(e.codec(), Some("pcm_s24le"));
        let e = SampleEntry {
            fourcc: *b"in24",
            little_endian: Some(true),
            ..SampleEntry::default()
        };
        assert_eq!(e.codec(), Some("pcm_s24le"));
    }
}
