//! `sgpd` and `sbgp`: sample group descriptions and sample-to-group maps (ISO/IEC 14496-12
//! §8.9.3 and §8.9.2), read for the `roll` and `prol` groups (§10.1, "roll recovery") that
//! ffmpeg and Apple write for AAC and Opus.
#![forbid(unsafe_code)]

use super::super::source::{Cursor, fourcc_str};
use crate::error::Result;

/// The first roll distance of a `roll`/`prol` group description.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RollGroup {
    /// `roll` or `prol`.
    pub(super) grouping_type: String,
    /// `roll_distance` of the first entry, in samples (negative: pre-roll).
    pub(super) roll_distance: i16,
}

/// Reads an `sgpd` body; `None` for grouping types other than `roll`/`prol` or no entries.
///
/// Layout: version, flags, `grouping_type`; version 1 adds `default_length`, version ≥ 2
/// `default_sample_description_index`; then `entry_count`, and per entry (version 1 with
/// `default_length` 0) a `description_length`, then the entry (for roll: `roll_distance`, i16).
pub(super) fn read_sgpd(c: &mut Cursor<'_>) -> Result<Option<RollGroup>> {
    let version = c.u8()?;
    c.skip(3)?;
    let grouping_type = c.fourcc()?;
    if &grouping_type != b"roll" && &grouping_type != b"prol" {
        return Ok(None);
    }
    let default_length = if version == 1 { c.u32_be()? } else { 0 };
    if version >= 2 {
        c.skip(4)?;
    }
    let count = c.u32_be()?;
    if count == 0 {
        return Ok(None);
    }
    if version == 1 && default_length == 0 {
        let _description_length = c.u32_be()?;
    }
    Ok(Some(RollGroup {
        grouping_type: fourcc_str(&grouping_type),
        roll_distance: c.i16_be()?,
    }))
}

/// Reads an `sbgp` body: the grouping type and the number of samples mapped to a group
/// description (entries with `group_description_index` ≠ 0). `None` for other grouping types.
///
/// Layout: version, flags, `grouping_type`, (version 1) `grouping_type_parameter`,
/// `entry_count`, then `sample_count` and `group_description_index` (u32 each) per entry.
pub(super) fn read_sbgp(c: &mut Cursor<'_>) -> Result<Option<(String, u64)>> {
    let version = c.u8()?;
    c.skip(3)?;
    let grouping_type = c.fourcc()?;
    if &grouping_type != b"roll" && &grouping_type != b"prol" {
        return Ok(None);
    }
    if version == 1 {
        c.skip(4)?;
    }
    let count = c.u32_be()?;
    if u64::from(count) * 8 > c.remaining() as u64 {
        return Err(c.error(format!("entry count {count} exceeds the box")));
    }
    let mut mapped = 0u64;
    for _ in 0..count {
        let samples = c.u32_be()?;
        if c.u32_be()? != 0 {
            mapped += u64::from(samples);
        }
    }
    Ok(Some((fourcc_str(&grouping_type), mapped)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgpd_ffmpeg_aac_roll_minus_one_is_read() {
        // As ffmpeg writes it for AAC: version 1, 'roll', default_length 2, one entry of -1.
        let b = [
            0x01, 0, 0, 0, b'r', b'o', b'l', b'l', 0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0xff,
        ];
        let r = read_sgpd(&mut Cursor::new(&b, 8, "t")).unwrap().unwrap();
        assert_eq!(r.grouping_type, "roll");
        assert_eq!(r.roll_distance, -1);
    }

    #[test]
    fn sgpd_other_grouping_is_none() {
        let b = [0, 0, 0, 0, b's', b'y', b'n', b'c', 0, 0, 0, 0];
        assert_eq!(read_sgpd(&mut Cursor::new(&b, 8, "t")).unwrap(), None);
    }

    #[test]
    fn sbgp_counts_mapped_samples() {
        let mut b = vec![0, 0, 0, 0, b'r', b'o', b'l', b'l', 0, 0, 0, 2];
        b.extend([0, 0, 0, 1, 0, 0, 0, 1]);
        b.extend([0, 0, 0, 43, 0, 0, 0, 0]);
        assert_eq!(
            read_sbgp(&mut Cursor::new(&b, 8, "t")).unwrap(),
            Some(("roll".to_string(), 1))
        );
    }

    #[test]
    fn sbgp_absurd_count_is_error() {
        let b = [
            0, 0, 0, 0, b'r', b'o', b'l', b'l', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
        ];
        assert!(read_sbgp(&mut Cursor::new(&b, 8, "t")).is_err());
    }
}
