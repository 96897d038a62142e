//! `stts` and `ctts`: decoding and composition time-to-sample tables (ISO/IEC 14496-12 §8.6.1.2
//! and §8.6.1.3). Only the first entry is read: the first sample's duration and composition
//! offset tell what an edit list's `media_time` should be for an untouched file.
#![forbid(unsafe_code)]

use super::super::source::Cursor;
use crate::error::Result;

/// Bytes of a table box read: version/flags, `entry_count` and one entry.
pub(super) const FIRST_ENTRY_BYTES: u64 = 16;

/// The first `sample_delta` of an `stts` body (version, flags, `entry_count`, then
/// `sample_count`, `sample_delta`), or `None` for an empty table.
pub(super) fn first_delta(c: &mut Cursor<'_>) -> Result<Option<u32>> {
    c.skip(4)?;
    if c.u32_be()? == 0 {
        return Ok(None);
    }
    c.skip(4)?;
    Ok(Some(c.u32_be()?))
}

/// The first `sample_offset` of a `ctts` body (unsigned in version 0, signed in version 1).
pub(super) fn first_offset(c: &mut Cursor<'_>) -> Result<Option<i64>> {
    let version = c.u8()?;
    c.skip(3)?;
    if c.u32_be()? == 0 {
        return Ok(None);
    }
    c.skip(4)?;
    let raw = c.u32_be()?;
    Ok(Some(if version == 0 {
        i64::from(raw)
    } else {
        i64::from(raw as i32)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stts_first_delta_is_read() {
        let b = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 8, 0];
        assert_eq!(
            first_delta(&mut Cursor::new(&b, 0, "t")).unwrap(),
            Some(2048)
        );
    }

    #[test]
    fn ctts_version1_offset_is_signed() {
        let b = [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xfc, 0x18];
        assert_eq!(
            first_offset(&mut Cursor::new(&b, 0, "t")).unwrap(),
            Some(-1000)
        );
    }

    #[test]
    fn stts_empty_table_is_none() {
        let b = [0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(first_delta(&mut Cursor::new(&b, 0, "t")).unwrap(), None);
    }
}
