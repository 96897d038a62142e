//! `esds`: the MPEG-4 elementary stream descriptor (ISO/IEC 14496-14 §5.6; the descriptors are
//! ISO/IEC 14496-1 §7.2.6.5 ES_Descriptor, §7.2.6.6 DecoderConfigDescriptor and §7.2.6.7
//! DecoderSpecificInfo).
#![forbid(unsafe_code)]

use super::super::asc::{self, AudioSpecificConfig};
use super::super::source::Cursor;
use crate::error::Result;

/// ES_DescrTag (ISO/IEC 14496-1 §7.2.2.1, Table 1).
const ES_DESCR_TAG: u8 = 0x03;
/// DecoderConfigDescrTag.
const DECODER_CONFIG_DESCR_TAG: u8 = 0x04;
/// DecSpecificInfoTag.
const DEC_SPECIFIC_INFO_TAG: u8 = 0x05;

/// What the `esds` says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Esds {
    /// `objectTypeIndication` (MP4RA "object types": 0x40 MPEG-4 audio, 0x6B MPEG-1 audio, …).
    pub(super) object_type: u8,
    /// The AudioSpecificConfig in the DecoderSpecificInfo, for MPEG-4 audio.
    pub(super) asc: Option<AudioSpecificConfig>,
}

/// Reads a descriptor header: tag and the expandable size (up to four bytes of seven bits,
/// ISO/IEC 14496-1 §8.3.3). Returns the tag and a cursor over the payload, clamped to what is
/// left (writers are known to overstate it).
fn descriptor<'a>(c: &mut Cursor<'a>) -> Result<(u8, Cursor<'a>)> {
    let tag = c.u8()?;
    let mut size = 0usize;
    for _ in 0..4 {
        let b = c.u8()?;
        size = (size << 7) | usize::from(b & 0x7f);
        if b & 0x80 == 0 {
            break;
        }
    }
    let base = c.file_pos();
    let body = c.take(size.min(c.remaining()))?;
    Ok((tag, c.sub(body, base)))
}

/// Reads an `esds` body (version, flags, then the ES_Descriptor). `None` when there is no
/// DecoderConfigDescriptor.
pub(super) fn read(c: &mut Cursor<'_>) -> Result<Option<Esds>> {
    c.skip(4)?;
    let (tag, mut body) = descriptor(c)?;
    let mut config = match tag {
        ES_DESCR_TAG => {
            body.skip(2)?; // ES_ID
            let flags = body.u8()?;
            if flags & 0x80 != 0 {
                body.skip(2)?; // dependsOn_ES_ID
            }
            if flags & 0x40 != 0 {
                let url_len = body.u8()?;
                body.skip(usize::from(url_len))?;
            }
            if flags & 0x20 != 0 {
                body.skip(2)?; // OCR_ES_Id
            }
            let (tag, config) = descriptor(&mut body)?;
            if tag != DECODER_CONFIG_DESCR_TAG {
                return Ok(None);
            }
            config
        }
        DECODER_CONFIG_DESCR_TAG => body,
        _ => return Ok(None),
    };
    let object_type = config.u8()?;
    // streamType/upStream (1), bufferSizeDB (3), maxBitrate (4), avgBitrate (4).
    config.skip(12)?;
    let mut asc = None;
    if config.remaining() > 0 {
        let (tag, mut info) = descriptor(&mut config)?;
        if tag == DEC_SPECIFIC_INFO_TAG {
            asc = asc::parse(info.rest());
        }
    }
    Ok(Some(Esds { object_type, asc }))
}

/// ffprobe's codec name for an `objectTypeIndication` (MP4RA object types, as ffmpeg's
/// `ff_mp4_obj_type` maps them).
pub(super) fn codec_of_object_type(oti: u8) -> Option<&'static str> {
    Some(match oti {
        0x40 | 0x66..=0x68 => "aac",
        0x69 | 0x6b => "mp3",
        0xa5 => "ac3",
        0xa6 => "eac3",
        0xa9..=0xac => "dts",
        0xad => "opus",
        0xdd => "vorbis",
        0xe1 => "qcelp",
        0x20 => "mpeg4",
        0x21 => "h264",
        0x23 => "hevc",
        0x60..=0x65 => "mpeg2video",
        0x6a => "mpeg1video",
        0x6c => "mjpeg",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The esds body ffmpeg wrote for AAC-LC 44.1 kHz mono (from aac-lc-44k-mono-elst-1024.m4a).
    const FFMPEG_ESDS: &[u8] = &[
        0x00, 0x00, 0x00, 0x00, 0x03, 0x80, 0x80, 0x80, 0x25, 0x00, 0x01, 0x00, 0x04, 0x80, 0x80,
        0x80, 0x17, 0x40, 0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7e, 0x9f, 0x00, 0x00, 0x7e, 0x9f,
        0x05, 0x80, 0x80, 0x80, 0x05, 0x12, 0x08, 0x56, 0xe5, 0x00, 0x06, 0x80, 0x80, 0x80, 0x01,
        0x02,
    ];

    #[test]
    fn esds_ffmpeg_aac_lc_reads_object_type_and_asc() {
        let e = read(&mut Cursor::new(FFMPEG_ESDS, 0, "t"))
            .unwrap()
            .unwrap();
        assert_eq!(e.object_type, 0x40);
        let asc = e.asc.unwrap();
        assert_eq!(
            (asc.object_type, asc.sample_rate, asc.channels),
            (2, Some(44_100), Some(1))
        );
    }

    #[test]
    fn esds_truncated_at_every_length_never_panics() {
        for n in 0..FFMPEG_ESDS.len() {
            let _ = read(&mut Cursor::new(&FFMPEG_ESDS[..n], 0, "t"));
        }
    }

    #[test]
    fn codec_of_object_type_maps_audio_types() {
        assert_eq!(codec_of_object_type(0x40), Some("aac"));
        assert_eq!(codec_of_object_type(0x6b), Some("mp3"));
        assert_eq!(codec_of_object_type(0x01), None);
    }
}
