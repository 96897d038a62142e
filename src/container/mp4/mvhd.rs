//! `mvhd`: the movie header (ISO/IEC 14496-12 §8.2.2; QuickTime File Format "Movie Header Atom").
#![forbid(unsafe_code)]

use super::super::source::Cursor;
use crate::error::Result;

/// The fields of `mvhd` we use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Mvhd {
    /// Seconds since 1904-01-01 UTC; 0 when the writer did not set it.
    pub(super) creation: u64,
    /// Seconds since 1904-01-01 UTC.
    pub(super) modification: u64,
    /// Units per second of the movie's durations and of edit-list segment durations.
    pub(super) timescale: u32,
    /// The movie's duration in `timescale` units (all ones: unknown).
    pub(super) duration: u64,
}

/// Reads the version, flags, creation and modification times, timescale and duration that begin
/// both `mvhd` and `mdhd` (ISO/IEC 14496-12 §8.2.2 and §8.4.2): 32-bit times and duration in
/// version 0 (a duration of all ones meaning unknown, kept as `u64::MAX`), 64-bit in version 1.
pub(super) fn read_times(c: &mut Cursor<'_>) -> Result<(u64, u64, u32, u64)> {
    let version = c.u8()?;
    c.skip(3)?; // flags
    Ok(match version {
        0 => (
            u64::from(c.u32_be()?),
            u64::from(c.u32_be()?),
            c.u32_be()?,
            match c.u32_be()? {
                u32::MAX => u64::MAX,
                d => u64::from(d),
            },
        ),
        1 => (c.u64_be()?, c.u64_be()?, c.u32_be()?, c.u64_be()?),
        v => return Err(c.error(format!("version {v} is not defined (0 or 1)"))),
    })
}

/// Reads an `mvhd` body (after the box header): version 1 has 64-bit times and duration,
/// version 0 32-bit ones.
pub(super) fn read(c: &mut Cursor<'_>) -> Result<Mvhd> {
    let (creation, modification, timescale, duration) = read_times(c)?;
    Ok(Mvhd {
        creation,
        modification,
        timescale,
        duration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mvhd_version0_reads_times_and_timescale() {
        let mut body = vec![0, 0, 0, 0];
        for v in [3_714_372_131u32, 3_714_372_132, 1000, 1500] {
            body.extend(v.to_be_bytes());
        }
        let m = read(&mut Cursor::new(&body, 8, "t")).unwrap();
        assert_eq!(
            m,
            Mvhd {
                creation: 3_714_372_131,
                modification: 3_714_372_132,
                timescale: 1000,
                duration: 1500
            }
        );
    }

    #[test]
    fn mvhd_version1_reads_64_bit_fields() {
        let mut body = vec![1, 0, 0, 0];
        body.extend(5u64.to_be_bytes());
        body.extend(6u64.to_be_bytes());
        body.extend(600u32.to_be_bytes());
        body.extend((1u64 << 40).to_be_bytes());
        let m = read(&mut Cursor::new(&body, 8, "t")).unwrap();
        assert_eq!(m.duration, 1 << 40);
        assert_eq!(m.timescale, 600);
    }

    #[test]
    fn mvhd_unknown_version_is_malformed() {
        let body = [2u8; 40];
        let err = read(&mut Cursor::new(&body, 8, "clip.mp4 (mvhd at byte 0)")).unwrap_err();
        assert!(err.to_string().contains("version 2"), "{err}");
    }
}
