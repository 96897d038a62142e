//! The MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1), shared by the MP4 `esds` and the
//! Matroska `A_AAC` `CodecPrivate`, and the AAC sampling-frequency and channel tables that ADTS
//! headers index too.
#![forbid(unsafe_code)]

/// `samplingFrequencyIndex` → Hz (ISO/IEC 14496-3 §1.6.3.4, Table 1.18); 13 and 14 reserved,
/// 15 escape.
pub(crate) const SAMPLE_RATES_HZ: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
    7_350,
];

/// Channels of a `channelConfiguration` (ISO/IEC 14496-3 §1.6.3.5 Table 1.19, extended by
/// ISO/IEC 23001-8); 0 means "defined in a program config element", unknown to us.
pub(crate) fn channels_of_config(config: u8) -> Option<u16> {
    match config {
        1..=6 => Some(u16::from(config)),
        7 | 12 | 14 => Some(8),
        11 => Some(7),
        13 => Some(24),
        _ => None,
    }
}

/// What an AudioSpecificConfig says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AudioSpecificConfig {
    /// The signalled `audioObjectType`: 2 = AAC LC, 5 = SBR (HE-AAC), 29 = PS (HE-AAC v2), …
    pub(crate) object_type: u8,
    /// The output rate: the SBR extension rate when SBR is signalled explicitly, else the core
    /// rate.
    pub(crate) sample_rate: Option<u32>,
    /// Output channels (parametric stereo makes a mono core stereo).
    pub(crate) channels: Option<u16>,
}

/// A big-endian bit reader over a byte slice; `None` when the bits run out.
struct Bits<'a> {
    data: &'a [u8],
    bit: usize,
}

impl Bits<'_> {
    fn read(&mut self, n: u32) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = *self.data.get(self.bit / 8)?;
            v = (v << 1) | u32::from((byte >> (7 - self.bit % 8)) & 1);
            self.bit += 1;
        }
        Some(v)
    }

    /// `GetAudioObjectType()`: 5 bits, 31 escapes to 32 + 6 bits.
    fn object_type(&mut self) -> Option<u32> {
        match self.read(5)? {
            31 => Some(32 + self.read(6)?),
            t => Some(t),
        }
    }

    /// A sampling frequency index with its 24-bit escape.
    fn rate(&mut self) -> Option<Option<u32>> {
        match self.read(4)? {
            15 => Some(Some(self.read(24)?)),
            i => Some(SAMPLE_RATES_HZ.get(i as usize).copied()),
        }
    }
}

/// Parses the start of an AudioSpecificConfig; `None` when it is too short.
///
/// Explicit hierarchical SBR/PS signalling (object type 5 or 29 first) is followed; backward
/// compatible signalling in a trailing sync extension and implicit SBR are not, so for those
/// files the core rate is reported.
pub(crate) fn parse(data: &[u8]) -> Option<AudioSpecificConfig> {
    let mut b = Bits { data, bit: 0 };
    let object_type = b.object_type()?;
    let mut sample_rate = b.rate()?;
    let config = b.read(4)? as u8;
    let mut channels = channels_of_config(config);
    if object_type == 5 || object_type == 29 {
        if let Some(ext) = b.rate()? {
            sample_rate = Some(ext);
        }
        if object_type == 29 && config == 1 {
            channels = Some(2);
        }
    }
    Some(AudioSpecificConfig {
        object_type: u8::try_from(object_type).ok()?,
        sample_rate,
        channels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_lc_44100_mono() {
        // ffmpeg's AAC-LC 44.1 kHz mono: 0x12 0x08.
        let a = parse(&[0x12, 0x08]).unwrap();
        assert_eq!(
            a,
            AudioSpecificConfig {
                object_type: 2,
                sample_rate: Some(44_100),
                channels: Some(1)
            }
        );
    }

    #[test]
    fn parse_he_aac_explicit_sbr_reports_extension_rate() {
        // AOT 5, core 24 kHz (index 6), stereo, extension 48 kHz (index 3), then AOT 2.
        // 00101 0110 0010 0011 00010 …
        let a = parse(&[0x2b, 0x11, 0x88]).unwrap();
        assert_eq!(a.object_type, 5);
        assert_eq!(a.sample_rate, Some(48_000));
        assert_eq!(a.channels, Some(2));
    }

    #[test]
    fn parse_escape_rate_and_truncation() {
        // AOT 2, index 15, 24-bit rate 8000, config 1.
        let a = parse(&[0x17, 0x80, 0x0f, 0xa0, 0x08]).unwrap();
        assert_eq!(a.sample_rate, Some(8000));
        assert_eq!(parse(&[0x17, 0x80]), None);
        assert_eq!(parse(&[]), None);
    }
}
