//! Vorbis comments (the Vorbis I specification §5, "comment field and header specification"; the
//! same block is FLAC's VORBIS_COMMENT, RFC 9639 §8.6, and Opus's OpusTags, RFC 7845 §5.2): a
//! vendor string and `KEY=value` pairs, all lengths 32-bit little endian.
#![forbid(unsafe_code)]

use super::source::text;
use super::{MAX_PICTURES, MAX_TAGS, picture_codec};

/// What a comment block holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Comments {
    /// The vendor string (the encoding library, e.g. `Lavf59.27.100`, `reference libFLAC 1.3.3`).
    pub(crate) vendor: Option<String>,
    /// `KEY=value` pairs in order, keys as written.
    pub(crate) tags: Vec<(String, String)>,
    /// Codecs of `METADATA_BLOCK_PICTURE` pictures, which ffprobe lists as streams.
    pub(crate) pictures: Vec<Option<&'static str>>,
}

/// Longest comment value kept; longer values (embedded pictures aside) are cut.
const MAX_VALUE_CHARS: usize = 4096;

/// Parses a comment block. Reading stops quietly at the first length that runs past the data:
/// callers may pass a block cut to a size limit, and the vendor string and early tags are what
/// matter.
pub(crate) fn parse(data: &[u8]) -> Comments {
    let mut out = Comments::default();
    let mut pos = 0usize;
    let field = |pos: &mut usize| -> Option<&[u8]> {
        let len = u32::from_le_bytes(data.get(*pos..*pos + 4)?.try_into().ok()?) as usize;
        let start = *pos + 4;
        let value = data.get(start..start.checked_add(len)?)?;
        *pos = start + len;
        Some(value)
    };
    let Some(vendor) = field(&mut pos) else {
        return out;
    };
    let vendor = text(vendor);
    out.vendor = (!vendor.is_empty()).then_some(vendor);
    let Some(count) = data
        .get(pos..pos + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    else {
        return out;
    };
    pos += 4;
    for _ in 0..count {
        if out.tags.len() >= MAX_TAGS {
            break;
        }
        let Some(entry) = field(&mut pos) else {
            break;
        };
        let Some(eq) = entry.iter().position(|&b| b == b'=') else {
            continue;
        };
        let key = text(&entry[..eq]);
        let value = &entry[eq + 1..];
        if key.eq_ignore_ascii_case("METADATA_BLOCK_PICTURE") {
            if out.pictures.len() < MAX_PICTURES {
                out.pictures.push(picture_from_base64(value));
            }
            continue;
        }
        let mut value = text(value);
        if value.len() > MAX_VALUE_CHARS {
            let mut cut = MAX_VALUE_CHARS;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            value.truncate(cut);
        }
        out.tags.push((key, value));
    }
    out
}

/// The codec of a base64 `METADATA_BLOCK_PICTURE` (a FLAC PICTURE block, RFC 9639 §8.8): only
/// the start is decoded, enough for the MIME type.
fn picture_from_base64(b64: &[u8]) -> Option<&'static str> {
    let head = decode_base64(&b64[..b64.len().min(512)]);
    picture_block_codec(&head)
}

/// The codec of a FLAC PICTURE block (picture type, MIME length and MIME type, description,
/// four 32-bit sizes, data length, data; all big endian), from its MIME type or data.
pub(crate) fn picture_block_codec(block: &[u8]) -> Option<&'static str> {
    let u32_at = |i: usize| -> Option<usize> {
        Some(u32::from_be_bytes(block.get(i..i + 4)?.try_into().ok()?) as usize)
    };
    let mime_len = u32_at(4)?;
    let mime = String::from_utf8_lossy(block.get(8..8usize.checked_add(mime_len)?)?).to_string();
    let desc_at = 8 + mime_len;
    let data_at = u32_at(desc_at).and_then(|d| desc_at.checked_add(4 + d + 16 + 4));
    let data = data_at.and_then(|at| block.get(at..)).unwrap_or_default();
    picture_codec(&mime, data)
}

/// Standard base64 (RFC 4648 §4), stopping at padding or the first byte outside the alphabet.
fn decode_base64(input: &[u8]) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in input {
        let Some(v) = value(c) else { break };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// The first value of `key` (case-insensitive, as the specification says keys are).
pub(crate) fn get<'a>(c: &'a Comments, key: &str) -> Option<&'a str> {
    c.tags
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(vendor: &str, tags: &[&str]) -> Vec<u8> {
        let mut b = (vendor.len() as u32).to_le_bytes().to_vec();
        b.extend(vendor.as_bytes());
        b.extend((tags.len() as u32).to_le_bytes());
        for t in tags {
            b.extend((t.len() as u32).to_le_bytes());
            b.extend(t.as_bytes());
        }
        b
    }

    #[test]
    fn parse_vendor_and_tags() {
        let c = parse(&block(
            "Lavf59.27.100",
            &["encoder=Lavc59.37.100 libopus", "TITLE=x"],
        ));
        assert_eq!(c.vendor.as_deref(), Some("Lavf59.27.100"));
        assert_eq!(get(&c, "ENCODER"), Some("Lavc59.37.100 libopus"));
        assert_eq!(c.tags.len(), 2);
    }

    #[test]
    fn parse_absurd_counts_and_cuts_stop_quietly() {
        let mut b = block("v", &[]);
        b.truncate(b.len() - 4);
        b.extend(u32::MAX.to_le_bytes());
        b.extend(u32::MAX.to_le_bytes());
        let c = parse(&b);
        assert_eq!(c.vendor.as_deref(), Some("v"));
        assert!(c.tags.is_empty());
        let full = block("vendor", &["A=1", "B=2"]);
        for n in 0..full.len() {
            let _ = parse(&full[..n]);
        }
    }

    #[test]
    fn picture_from_base64_reads_mime() {
        // type 3, mime "image/png", empty description.
        let mut pic = 3u32.to_be_bytes().to_vec();
        pic.extend(9u32.to_be_bytes());
        pic.extend(b"image/png");
        pic.extend(0u32.to_be_bytes());
        pic.extend([0u8; 20]);
        let b64: String = {
            const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            pic.chunks(3)
                .flat_map(|ch| {
                    let n = ch.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b))
                        << (8 * (3 - ch.len()));
                    (0..=ch.len()).map(move |i| A[(n >> (18 - 6 * i) & 63) as usize] as char)
                })
                .collect()
        };
        let tag = format!("METADATA_BLOCK_PICTURE={b64}");
        let c = parse(&block("v", &[&tag]));
        assert_eq!(c.pictures, [Some("png")]);
    }
}
