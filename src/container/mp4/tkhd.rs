//! `tkhd`: the track header (ISO/IEC 14496-12 §8.3.2).
#![forbid(unsafe_code)]

use super::super::source::Cursor;
use crate::error::Result;

/// The fields of `tkhd` we use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Tkhd {
    /// Seconds since 1904-01-01 UTC; 0 when unset.
    pub(super) creation: u64,
    /// Seconds since 1904-01-01 UTC; 0 when unset.
    pub(super) modification: u64,
    /// `track_ID`.
    pub(super) track_id: u32,
    /// Duration in movie timescale units (the sum of the edit list's segments).
    pub(super) duration: u64,
}

/// Reads a `tkhd` body: version, flags, then creation, modification, track_ID, a reserved
/// 32-bit word and duration (64-bit times and duration in version 1).
pub(super) fn read(c: &mut Cursor<'_>) -> Result<Tkhd> {
    let version = c.u8()?;
    c.skip(3)?;
    let (creation, modification, track_id, duration) = match version {
        0 => {
            let creation = u64::from(c.u32_be()?);
            let modification = u64::from(c.u32_be()?);
            let track_id = c.u32_be()?;
            c.skip(4)?;
            (creation, modification, track_id, u64::from(c.u32_be()?))
        }
        1 => {
            let creation = c.u64_be()?;
            let modification = c.u64_be()?;
            let track_id = c.u32_be()?;
            c.skip(4)?;
            (creation, modification, track_id, c.u64_be()?)
        }
        v => return Err(c.error(format!("version {v} is not defined (0 or 1)"))),
    };
    Ok(Tkhd {
        creation,
        modification,
        track_id,
        duration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tkhd_version0_reads_track_id_and_duration() {
        let mut body = vec![0, 0, 0, 3];
        for v in [10u32, 11, 2, 0, 1000] {
            body.extend(v.to_be_bytes());
        }
        let t = read(&mut Cursor::new(&body, 8, "t")).unwrap();
        assert_eq!(
            (t.creation, t.modification, t.track_id, t.duration),
            (10, 11, 2, 1000)
        );
    }

    #[test]
    fn tkhd_truncated_is_error() {
        assert!(read(&mut Cursor::new(&[1, 0, 0, 0, 0, 0], 8, "t")).is_err());
    }
}
