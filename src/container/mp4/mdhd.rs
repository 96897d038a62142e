//! `mdhd`: the media header (ISO/IEC 14496-12 §8.4.2).
#![forbid(unsafe_code)]

use super::super::source::Cursor;
use crate::error::Result;

/// The fields of `mdhd` we use.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Mdhd {
    /// Seconds since 1904-01-01 UTC; 0 when unset.
    pub(super) creation: u64,
    /// Seconds since 1904-01-01 UTC; 0 when unset.
    pub(super) modification: u64,
    /// Media units per second (the sample rate, for most audio).
    pub(super) timescale: u32,
    /// Media duration in `timescale` units (all ones: unknown).
    pub(super) duration: u64,
    /// ISO 639-2/T code, or `None` for a QuickTime Macintosh language code.
    pub(super) language: Option<String>,
}

/// Reads an `mdhd` body: version, flags, creation, modification, timescale, duration (64-bit
/// times and duration in version 1), then the packed language.
pub(super) fn read(c: &mut Cursor<'_>) -> Result<Mdhd> {
    let (creation, modification, timescale, duration) = super::mvhd::read_times(c)?;
    // QuickTime writers sometimes end the box before the language; it is optional to us.
    let language = if c.remaining() >= 2 {
        language(c.u16_be()?)
    } else {
        None
    };
    Ok(Mdhd {
        creation,
        modification,
        timescale,
        duration,
        language,
    })
}

/// Decodes the packed language: a pad bit then three 5-bit letters, each `letter - 0x60`
/// (§8.4.2.3). Values below 0x400 are QuickTime Macintosh language codes (QTFF "Language Code
/// Values"), which we do not translate.
fn language(packed: u16) -> Option<String> {
    if packed < 0x400 || packed == 0x7fff {
        return None;
    }
    let letters: Option<String> = [10u16, 5, 0]
        .iter()
        .map(|&shift| {
            let v = ((packed >> shift) & 0x1f) as u8;
            (1..=26).contains(&v).then(|| char::from(v + 0x60))
        })
        .collect();
    letters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mdhd_version0_reads_timescale_duration_language() {
        let mut body = vec![0, 0, 0, 0];
        for v in [0u32, 0, 44_100, 45_124] {
            body.extend(v.to_be_bytes());
        }
        body.extend(0x55c4u16.to_be_bytes()); // "und"
        body.extend([0, 0]);
        let m = read(&mut Cursor::new(&body, 8, "t")).unwrap();
        assert_eq!((m.timescale, m.duration), (44_100, 45_124));
        assert_eq!(m.language.as_deref(), Some("und"));
    }

    #[test]
    fn language_mac_code_is_none() {
        assert_eq!(language(0), None);
        assert_eq!(language(0x15c7).as_deref(), Some("eng"));
    }
}
