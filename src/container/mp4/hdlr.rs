//! `hdlr`: the handler reference (ISO/IEC 14496-12 §8.4.3; QuickTime "Handler Reference Atom").
#![forbid(unsafe_code)]

use super::super::source::{Cursor, text};
use crate::error::Result;

/// The fields of `hdlr` we use.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Hdlr {
    /// `handler_type`: `soun`, `vide`, `text`, `tmcd`, `mdir`, `mdta`, …
    pub(super) handler_type: [u8; 4],
    /// The handler's name (`SoundHandler`, `Core Media Audio`), `None` when empty.
    pub(super) name: Option<String>,
}

/// Reads an `hdlr` body: version, flags, `pre_defined` (QuickTime: component type), the handler
/// type, 12 reserved bytes (QuickTime: manufacturer and flags), then the name — NUL-terminated
/// UTF-8 in ISO files, a Pascal string (length byte first) in QuickTime files.
pub(super) fn read(c: &mut Cursor<'_>) -> Result<Hdlr> {
    c.skip(4)?; // version, flags
    c.skip(4)?; // pre_defined / component type
    let handler_type = c.fourcc()?;
    c.skip(12)?;
    let raw = c.rest();
    let name = match raw.split_first() {
        // QuickTime's counted string, recognised as ffmpeg does: the length byte counts exactly
        // the bytes that follow (or all but a trailing NUL).
        Some((&n, rest)) if usize::from(n) == rest.len() || usize::from(n) + 1 == rest.len() => {
            text(&rest[..usize::from(n)])
        }
        _ => text(raw),
    };
    Ok(Hdlr {
        handler_type,
        name: (!name.is_empty()).then_some(name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(handler: &[u8; 4], name: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 8];
        b.extend(handler);
        b.extend([0u8; 12]);
        b.extend(name);
        b
    }

    #[test]
    fn hdlr_iso_c_string_name_is_read() {
        let b = body(b"soun", b"SoundHandler\0");
        let h = read(&mut Cursor::new(&b, 8, "t")).unwrap();
        assert_eq!(&h.handler_type, b"soun");
        assert_eq!(h.name.as_deref(), Some("SoundHandler"));
    }

    #[test]
    fn hdlr_quicktime_pascal_name_is_read() {
        let b = body(b"soun", b"\x0cSoundHandler");
        let h = read(&mut Cursor::new(&b, 8, "t")).unwrap();
        assert_eq!(h.name.as_deref(), Some("SoundHandler"));
    }

    #[test]
    fn hdlr_empty_name_is_none() {
        let b = body(b"mdir", b"\0");
        assert_eq!(read(&mut Cursor::new(&b, 8, "t")).unwrap().name, None);
    }
}
