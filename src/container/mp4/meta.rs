//! Metadata: QuickTime `keys` and `ilst` items with their `data` boxes (QTFF "Metadata Atoms";
//! the iTunes-style `ilst` of MP4 files has the same `data` layout), QuickTime `udta` text atoms
//! (`©too`, `©swr`, …, QTFF "User Data Text Strings") and iTunes `iTunSMPB`.
#![forbid(unsafe_code)]

use super::super::picture_codec;
use super::super::source::{Cursor, text};
use crate::error::Result;

/// A `data` box value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    /// Text, or a number written as text.
    Text(String),
    /// Image data (cover art), with ffprobe's codec name when known.
    Picture(Option<&'static str>),
    /// Binary data we do not interpret (`trkn`, `disk`, …).
    Other,
}

/// Reads a `keys` body: version, flags, `entry_count`, then per key its size (including the
/// 8-byte size and namespace), namespace (`mdta`) and name.
pub(super) fn read_keys(c: &mut Cursor<'_>) -> Result<Vec<String>> {
    c.skip(4)?;
    let count = c.u32_be()?;
    if u64::from(count) * 8 > c.remaining() as u64 {
        return Err(c.error(format!("entry count {count} exceeds the box")));
    }
    let mut keys = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let at = c.file_pos();
        let size = c.u32_be()?;
        if size < 8 {
            return Err(c.error(format!("key at byte {at} has size {size}, below 8")));
        }
        c.skip(4)?; // namespace
        keys.push(text(c.take(size as usize - 8)?));
    }
    Ok(keys)
}

/// Interprets a `data` body (possibly cut to a prefix): a type indicator (a zero byte then the
/// 24-bit well-known type), a locale, then the value. Types from QTFF "Well-Known Types":
/// 1 UTF-8, 2 UTF-16 BE, 13 JPEG, 14 PNG, 27 BMP, 21 signed and 22 unsigned big-endian integers,
/// 0 "reserved" (binary, but some writers put text there).
pub(super) fn data_value(body: &[u8]) -> Value {
    let (Some(header), Some(value)) = (body.get(0..4), body.get(8..)) else {
        return Value::Other;
    };
    let kind = u32::from_be_bytes([0, header[1], header[2], header[3]]);
    match kind {
        1 => Value::Text(text(value)),
        2 => {
            let units: Vec<u16> = value
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            Value::Text(
                String::from_utf16_lossy(&units)
                    .trim_end_matches('\0')
                    .to_string(),
            )
        }
        13 | 14 | 27 => Value::Picture(picture_codec("", value).or(match kind {
            13 => Some("mjpeg"),
            14 => Some("png"),
            _ => Some("bmp"),
        })),
        21 | 22 if (1..=8).contains(&value.len()) => {
            let mut n: u64 = 0;
            for &b in value {
                n = (n << 8) | u64::from(b);
            }
            Value::Text(if kind == 21 {
                // Sign-extend from the value's width.
                let shift = 64 - 8 * value.len() as u32;
                (((n << shift) as i64) >> shift).to_string()
            } else {
                n.to_string()
            })
        }
        0 if picture_codec("", value).is_some() => Value::Picture(picture_codec("", value)),
        0 if !value.is_empty()
            && std::str::from_utf8(value).is_ok_and(|s| s.chars().all(|c| !c.is_control())) =>
        {
            Value::Text(text(value))
        }
        _ => Value::Other,
    }
}

/// A QuickTime `udta` text atom body: a 16-bit length, a 16-bit language code, then the text
/// (QTFF "User Data Text Strings and Language Codes"); some writers put an iTunes-style `data`
/// box there instead.
pub(super) fn udta_text(body: &[u8]) -> Option<String> {
    if body.get(4..8) == Some(b"data") {
        let size = u32::from_be_bytes(body.get(0..4)?.try_into().ok()?) as usize;
        return match data_value(body.get(8..size.min(body.len()))?) {
            Value::Text(t) if !t.is_empty() => Some(t),
            _ => None,
        };
    }
    let len = usize::from(u16::from_be_bytes(body.get(0..2)?.try_into().ok()?));
    let value = match body.get(4..4 + len) {
        Some(v) => text(v),
        // Not the counted form: take the body as text.
        None => text(body),
    };
    (!value.is_empty()).then_some(value)
}

/// Encoder priming and padding from an iTunes `iTunSMPB` value: space-separated hex words, the
/// second the priming samples and the third the padding samples (as written by iTunes and
/// Apple's encoders; described in Apple's "iTunes Metadata" notes).
pub(super) fn itunes_smpb(value: &str) -> Option<(u64, u64)> {
    let mut words = value.split_whitespace();
    words.next()?;
    let delay = u64::from_str_radix(words.next()?, 16).ok()?;
    let padding = u64::from_str_radix(words.next()?, 16).ok()?;
    Some((delay, padding))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_keys_apple_keys_in_order() {
        let mut b = vec![0, 0, 0, 0, 0, 0, 0, 2];
        for k in ["com.apple.quicktime.make", "com.apple.quicktime.model"] {
            b.extend(((k.len() + 8) as u32).to_be_bytes());
            b.extend(b"mdta");
            b.extend(k.as_bytes());
        }
        let keys = read_keys(&mut Cursor::new(&b, 0, "t")).unwrap();
        assert_eq!(
            keys,
            ["com.apple.quicktime.make", "com.apple.quicktime.model"]
        );
    }

    #[test]
    fn read_keys_absurd_count_or_size_is_error() {
        let b = [
            0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 8, b'm', b'd', b't', b'a',
        ];
        assert!(read_keys(&mut Cursor::new(&b, 0, "t")).is_err());
        let b = [
            0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 8, b'm', b'd', b't', b'a',
        ];
        assert!(read_keys(&mut Cursor::new(&b, 0, "t")).is_err());
        let b = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, b'm', b'd', b't', b'a'];
        assert!(read_keys(&mut Cursor::new(&b, 0, "t")).is_err());
    }

    #[test]
    fn data_value_types_are_interpreted() {
        assert_eq!(
            data_value(b"\0\0\0\x01\0\0\0\0Lavf59.27.100"),
            Value::Text("Lavf59.27.100".into())
        );
        assert_eq!(
            data_value(b"\0\0\0\x0d\0\0\0\0\xff\xd8\xff\xe0"),
            Value::Picture(Some("mjpeg"))
        );
        assert_eq!(
            data_value(b"\0\0\0\x15\0\0\0\0\xff"),
            Value::Text("-1".into())
        );
        assert_eq!(
            data_value(b"\0\0\0\x16\0\0\0\0\x01\x00"),
            Value::Text("256".into())
        );
        assert_eq!(
            data_value(b"\0\0\0\0\0\0\0\0\0\0\0\x01\0\x02"),
            Value::Other
        );
        assert_eq!(data_value(b"\0\0"), Value::Other);
    }

    #[test]
    fn udta_text_quicktime_counted_string() {
        assert_eq!(
            udta_text(b"\0\x0d\x55\xc4Lavf59.27.100").as_deref(),
            Some("Lavf59.27.100")
        );
        // A length past the body: not the counted form, read as plain text.
        assert_eq!(udta_text(b"Lavf").as_deref(), Some("Lavf"));
        assert_eq!(udta_text(b""), None);
    }

    #[test]
    fn itunes_smpb_reads_priming_and_padding() {
        let v = " 00000000 00000840 000001CA 00000000001CAE76 00000000 00000000";
        assert_eq!(itunes_smpb(v), Some((2112, 458)));
        assert_eq!(itunes_smpb("junk"), None);
    }
}
