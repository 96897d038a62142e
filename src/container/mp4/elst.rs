//! `elst`: the edit list (ISO/IEC 14496-12 §8.6.6; QuickTime "Edit List Atom").
#![forbid(unsafe_code)]

use super::super::Edit;
use super::super::source::Cursor;
use crate::error::Result;

/// Reads an `elst` body: version, flags, `entry_count`, then per entry `segment_duration` and
/// `media_time` (32-bit in version 0, 64-bit in version 1) and `media_rate` as 16.16 fixed point
/// (`media_rate_integer`, `media_rate_fraction`).
///
/// The count is checked against the bytes in the box before anything is allocated.
pub(super) fn read(c: &mut Cursor<'_>) -> Result<Vec<Edit>> {
    let version = c.u8()?;
    c.skip(3)?;
    let entry_len: u64 = match version {
        0 => 12,
        1 => 20,
        v => return Err(c.error(format!("version {v} is not defined (0 or 1)"))),
    };
    let count = c.u32_be()?;
    if u64::from(count) * entry_len > c.remaining() as u64 {
        return Err(c.error(format!(
            "entry count {count} exceeds the box ({} bytes hold at most {} entries)",
            c.remaining(),
            c.remaining() as u64 / entry_len
        )));
    }
    // Bounded by the check above: the box itself was read under MAX_BOX_BYTES.
    let mut edits = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let (segment_duration, media_time) = if version == 1 {
            (c.u64_be()?, c.i64_be()?)
        } else {
            (u64::from(c.u32_be()?), i64::from(c.i32_be()?))
        };
        let media_rate = f64::from(c.i32_be()?) / 65_536.0;
        edits.push(Edit {
            segment_duration,
            media_time,
            media_rate,
        });
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn elst_version0_reads_entries_with_empty_edit() {
        let mut b = vec![0, 0, 0, 0, 0, 0, 0, 2];
        b.extend(500u32.to_be_bytes());
        b.extend((-1i32).to_be_bytes());
        b.extend(0x0001_0000u32.to_be_bytes());
        b.extend(1000u32.to_be_bytes());
        b.extend(1024i32.to_be_bytes());
        b.extend(0x0001_0000u32.to_be_bytes());
        let e = read(&mut Cursor::new(&b, 8, "t")).unwrap();
        assert_eq!(
            e,
            [
                Edit {
                    segment_duration: 500,
                    media_time: -1,
                    media_rate: 1.0
                },
                Edit {
                    segment_duration: 1000,
                    media_time: 1024,
                    media_rate: 1.0
                }
            ]
        );
    }

    #[test]
    fn elst_version1_reads_64_bit_entries() {
        let mut b = vec![1, 0, 0, 0, 0, 0, 0, 1];
        b.extend((1u64 << 33).to_be_bytes());
        b.extend(2112i64.to_be_bytes());
        b.extend(0x0000_8000u32.to_be_bytes());
        let e = read(&mut Cursor::new(&b, 8, "t")).unwrap();
        assert_eq!(e[0].segment_duration, 1 << 33);
        assert_eq!(e[0].media_time, 2112);
        assert_eq!(e[0].media_rate, 0.5);
    }

    #[test]
    fn elst_absurd_count_is_malformed_not_allocation() {
        let mut b = vec![0, 0, 0, 0];
        b.extend(u32::MAX.to_be_bytes());
        b.extend([0u8; 12]);
        let err = read(&mut Cursor::new(&b, 1242, "clip.mp4 (elst at byte 1234)")).unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }));
        assert!(
            err.to_string().starts_with(
                "clip.mp4 (elst at byte 1234): entry count 4294967295 exceeds the box"
            ),
            "{err}"
        );
    }
}
