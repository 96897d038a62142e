//! `ftyp`: the file type box (ISO/IEC 14496-12 §4.3).
#![forbid(unsafe_code)]

use super::super::source::{Cursor, fourcc_str};
use crate::error::Result;

/// The most compatible brands kept; real files list fewer than ten.
const MAX_COMPATIBLE_BRANDS: usize = 32;

/// The brands of an `ftyp` box.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Ftyp {
    /// `major_brand`, e.g. `isom`, `M4A `, `qt  `.
    pub(super) major: String,
    /// `compatible_brands`, at most [`MAX_COMPATIBLE_BRANDS`].
    pub(super) compatible: Vec<String>,
}

/// Reads an `ftyp` body: `major_brand` (4), `minor_version` (4), then `compatible_brands[]`
/// (4 each) to the end of the box.
pub(super) fn read(c: &mut Cursor<'_>) -> Result<Ftyp> {
    let major = fourcc_str(&c.fourcc()?);
    let _minor_version = c.u32_be()?;
    let mut compatible = Vec::new();
    while c.remaining() >= 4 && compatible.len() < MAX_COMPATIBLE_BRANDS {
        compatible.push(fourcc_str(&c.fourcc()?));
    }
    Ok(Ftyp { major, compatible })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ftyp_m4a_brands_read_in_order() {
        let body = b"M4A \0\0\x02\0M4A isomiso2";
        let f = read(&mut Cursor::new(body, 8, "t")).unwrap();
        assert_eq!(f.major, "M4A ");
        assert_eq!(f.compatible, ["M4A ", "isom", "iso2"]);
    }

    #[test]
    fn ftyp_short_body_is_error() {
        assert!(read(&mut Cursor::new(b"isom\0\0", 8, "t")).is_err());
    }
}
