//! ID3v2 tags (id3.org "ID3 tag version 2.3.0" and "ID3 tag version 2.4.0 - Main Structure"),
//! which precede MP3 and sometimes ADTS AAC or FLAC: text frames (`TSSE` is the encoder),
//! `TXXX`, `COMM`, and `APIC` pictures, which ffprobe lists as streams.
#![forbid(unsafe_code)]

use std::io::{Read, Seek};

use super::source::{Source, text};
use super::{MAX_PICTURES, MAX_TAGS, Tag, TrackFacts, picture_codec};
use crate::error::{Error, Result};

/// Largest tag read into memory. Tags with cover art run to a few megabytes; a bigger one is
/// skipped (the audio after it is still found) and its frames are not read.
const MAX_TAG_BYTES: u64 = 16 << 20;

/// Consecutive tags followed (some taggers prepend a new tag instead of rewriting the old).
const MAX_CONSECUTIVE_TAGS: u32 = 16;

/// Longest text value kept.
const MAX_TEXT_CHARS: usize = 4096;

/// Decodes a syncsafe integer: four bytes of seven bits (ID3v2.4 §6.2).
fn syncsafe(b: &[u8]) -> u32 {
    b.iter()
        .take(4)
        .fold(0, |v, &x| (v << 7) | u32::from(x & 0x7f))
}

/// Reads every ID3v2 tag at the start of the file. Returns where the data after them starts,
/// the text frames as tags, and one attached-picture track per `APIC`/`PIC` frame.
pub(super) fn read_all<R: Read + Seek>(
    src: &mut Source<R>,
) -> Result<(u64, Vec<Tag>, Vec<TrackFacts>)> {
    let mut pos = 0u64;
    let mut tags = Vec::new();
    let mut pictures = Vec::new();
    for _ in 0..MAX_CONSECUTIVE_TAGS {
        let head = src.read_up_to(pos, 10)?;
        if head.len() < 10 || &head[0..3] != b"ID3" {
            break;
        }
        let what = format!("{} (id3v2 tag at byte {pos})", src.name);
        let (major, flags) = (head[3], head[5]);
        if !(2..=4).contains(&major) || head[6..10].iter().any(|&b| b & 0x80 != 0) {
            return Err(Error::malformed(
                what,
                format!("invalid header (version 2.{major})"),
            ));
        }
        let size = u64::from(syncsafe(&head[6..10]));
        let footer = if major == 4 && flags & 0x10 != 0 {
            10
        } else {
            0
        };
        let end = pos + 10 + size + footer;
        if end > src.len {
            return Err(Error::malformed(
                what,
                format!("tag size {size} runs past the end of the file"),
            ));
        }
        if size <= MAX_TAG_BYTES {
            let mut body = src.read_vec(pos + 10, size, MAX_TAG_BYTES, "id3v2 tag size")?;
            // Whole-tag unsynchronisation (v2.3 §5; in v2.4 it is per frame, flag bit 1).
            if flags & 0x80 != 0 && major < 4 {
                body = unsynchronise(&body);
            }
            frames(&body, major, flags, &mut tags, &mut pictures);
        } else {
            tags.push(Tag {
                key: "ID3".into(),
                value: format!("tag of {size} bytes not read"),
            });
        }
        pos = end;
    }
    Ok((pos, tags, pictures))
}

/// Parses a whole ID3v2 tag held in memory (the `ID3 ` chunk of AIFF and WAV files); nothing
/// when it is not one.
pub(super) fn parse_bytes(tag: &[u8]) -> (Vec<Tag>, Vec<TrackFacts>) {
    let mut tags = Vec::new();
    let mut pictures = Vec::new();
    if tag.len() >= 10 && &tag[0..3] == b"ID3" && (2..=4).contains(&tag[3]) {
        let size = syncsafe(&tag[6..10]) as usize;
        let body = &tag[10..tag.len().min(10usize.saturating_add(size))];
        let (major, flags) = (tag[3], tag[5]);
        let body = if flags & 0x80 != 0 && major < 4 {
            unsynchronise(body)
        } else {
            body.to_vec()
        };
        frames(&body, major, flags, &mut tags, &mut pictures);
    }
    (tags, pictures)
}

/// Undoes unsynchronisation: every `FF 00` becomes `FF`.
fn unsynchronise(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut prev = 0u8;
    for &b in data {
        if !(prev == 0xff && b == 0) {
            out.push(b);
        }
        prev = b;
    }
    out
}

/// Walks the frames of a tag body.
fn frames(body: &[u8], major: u8, flags: u8, tags: &mut Vec<Tag>, pictures: &mut Vec<TrackFacts>) {
    let mut pos = 0usize;
    // Extended header: v2.3 gives its size without the size field, v2.4 with it (syncsafe).
    if flags & 0x40 != 0 && major >= 3 {
        let Some(size) = body.get(0..4) else { return };
        pos = match major {
            3 => 4 + u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize,
            _ => syncsafe(size) as usize,
        };
    }
    let header_len = if major == 2 { 6 } else { 10 };
    while let Some(h) = body.get(pos..pos + header_len) {
        if h[0] == 0 {
            break; // padding
        }
        let (id, size, frame_flags) = if major == 2 {
            (
                &h[0..3],
                u32::from_be_bytes([0, h[3], h[4], h[5]]) as usize,
                0u16,
            )
        } else {
            let size = if major == 4 {
                syncsafe(&h[4..8])
            } else {
                u32::from_be_bytes([h[4], h[5], h[6], h[7]])
            };
            (&h[0..4], size as usize, u16::from_be_bytes([h[8], h[9]]))
        };
        let start = pos + header_len;
        let Some(mut data) = body
            .get(start..start.saturating_add(size))
            .map(<[u8]>::to_vec)
        else {
            break;
        };
        pos = start + size;
        let (compressed, encrypted, grouped, unsync, length_indicator) = match major {
            3 => (
                frame_flags & 0x80 != 0,
                frame_flags & 0x40 != 0,
                frame_flags & 0x20 != 0,
                false,
                false,
            ),
            4 => (
                frame_flags & 0x08 != 0,
                frame_flags & 0x04 != 0,
                frame_flags & 0x40 != 0,
                frame_flags & 0x02 != 0,
                frame_flags & 0x01 != 0,
            ),
            _ => (false, false, false, false, false),
        };
        if compressed || encrypted {
            continue;
        }
        let mut skip = 0;
        if grouped {
            skip += 1;
        }
        if length_indicator {
            skip += 4;
        }
        data = data.get(skip..).unwrap_or_default().to_vec();
        if unsync {
            data = unsynchronise(&data);
        }
        let id = String::from_utf8_lossy(id).to_string();
        frame(&id, &data, major, tags, pictures);
    }
}

/// Interprets one frame.
fn frame(id: &str, data: &[u8], major: u8, tags: &mut Vec<Tag>, pictures: &mut Vec<TrackFacts>) {
    let Some((&encoding, rest)) = data.split_first() else {
        return;
    };
    let mut push = |key: String, value: String| {
        let mut value = value;
        if value.len() > MAX_TEXT_CHARS {
            let mut cut = MAX_TEXT_CHARS;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            value.truncate(cut);
        }
        if !value.is_empty() && tags.len() < MAX_TAGS {
            tags.push(Tag { key, value });
        }
    };
    match id {
        "TXXX" | "TXX" => {
            let (desc, value) = split_encoded(rest, encoding);
            push(
                format!("TXXX:{}", decode(desc, encoding)),
                decode(value, encoding),
            );
        }
        "COMM" | "COM" => {
            let rest = rest.get(3..).unwrap_or_default(); // language
            let (_, value) = split_encoded(rest, encoding);
            push(id.to_string(), decode(value, encoding));
        }
        "APIC" | "PIC" if pictures.len() >= MAX_PICTURES => {}
        "APIC" => {
            // Encoding, MIME type (Latin-1, NUL-terminated), picture type, description, data.
            let nul = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let mime = text(&rest[..nul]);
            let after = rest.get(nul + 2..).unwrap_or_default();
            let (_, picture) = split_encoded(after, encoding);
            pictures.push(TrackFacts::picture(picture_codec(&mime, picture)));
        }
        "PIC" if major == 2 => {
            // Encoding, a three-letter image format, picture type, description, data.
            let format = text(rest.get(0..3).unwrap_or_default());
            let (_, picture) = split_encoded(rest.get(4..).unwrap_or_default(), encoding);
            pictures.push(TrackFacts::picture(picture_codec(&format, picture)));
        }
        _ if id.starts_with('T') => push(id.to_string(), decode(rest, encoding)),
        _ => {}
    }
}

/// Splits at the first terminator of the encoding (one NUL, or two aligned NULs for UTF-16).
fn split_encoded(data: &[u8], encoding: u8) -> (&[u8], &[u8]) {
    if encoding == 1 || encoding == 2 {
        let mut i = 0;
        while i + 1 < data.len() {
            if data[i] == 0 && data[i + 1] == 0 {
                return (&data[..i], &data[i + 2..]);
            }
            i += 2;
        }
        (data, &[])
    } else {
        match data.iter().position(|&b| b == 0) {
            Some(i) => (&data[..i], &data[i + 1..]),
            None => (data, &[]),
        }
    }
}

/// Decodes text: 0 ISO-8859-1, 1 UTF-16 with BOM, 2 UTF-16BE, 3 UTF-8 (v2.4 §4). Multiple
/// NUL-separated values (v2.4) are joined with "; ".
fn decode(data: &[u8], encoding: u8) -> String {
    let s = match encoding {
        1 | 2 => {
            let (big, body) = match data {
                [0xff, 0xfe, rest @ ..] => (false, rest),
                [0xfe, 0xff, rest @ ..] => (true, rest),
                _ => (encoding == 2, data),
            };
            let units: Vec<u16> = body
                .chunks_exact(2)
                .map(|p| {
                    if big {
                        u16::from_be_bytes([p[0], p[1]])
                    } else {
                        u16::from_le_bytes([p[0], p[1]])
                    }
                })
                .collect();
            String::from_utf16_lossy(&units)
        }
        3 => String::from_utf8_lossy(data).to_string(),
        _ => data.iter().map(|&b| char::from(b)).collect(),
    };
    s.split('\0')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The encoder tag: `TSSE` ("software/hardware and settings used for encoding"), `TSS` in v2.2.
pub(super) fn encoder(tags: &[Tag]) -> Option<String> {
    tags.iter()
        .find(|t| t.key == "TSSE" || t.key == "TSS")
        .map(|t| t.value.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::TrackKind;

    /// An ID3v2.4 tag with the given frames.
    fn tag(frames: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (id, data) in frames {
            body.extend(id.as_bytes());
            let n = data.len() as u32;
            body.extend([
                (n >> 21) as u8 & 0x7f,
                (n >> 14) as u8 & 0x7f,
                (n >> 7) as u8 & 0x7f,
                n as u8 & 0x7f,
            ]);
            body.extend([0, 0]);
            body.extend(data);
        }
        body.extend([0u8; 16]); // padding
        let n = body.len() as u32;
        let mut out = b"ID3\x04\x00\x00".to_vec();
        out.extend([
            (n >> 21) as u8 & 0x7f,
            (n >> 14) as u8 & 0x7f,
            (n >> 7) as u8 & 0x7f,
            n as u8 & 0x7f,
        ]);
        out.extend(body);
        out
    }

    fn read(bytes: Vec<u8>) -> Result<(u64, Vec<Tag>, Vec<TrackFacts>)> {
        let mut src = Source::new(std::io::Cursor::new(bytes), "a.mp3")?;
        read_all(&mut src)
    }

    #[test]
    fn read_all_text_and_picture_frames() {
        let mut apic = b"\x00image/jpeg\x00\x03cover\x00".to_vec();
        apic.extend([0xff, 0xd8, 0xff, 0xe0]);
        let bytes = tag(&[
            ("TSSE", b"\x03Lavf59.27.100".to_vec()),
            ("TIT2", b"\x01\xff\xfeh\x00i\x00".to_vec()),
            ("APIC", apic),
        ]);
        let len = bytes.len() as u64;
        let (end, tags, pics) = read(bytes).unwrap();
        assert_eq!(end, len);
        assert_eq!(encoder(&tags).as_deref(), Some("Lavf59.27.100"));
        assert_eq!(tags[1].value, "hi");
        assert_eq!(pics.len(), 1);
        assert_eq!(pics[0].kind, TrackKind::Video);
        assert_eq!(pics[0].codec.as_deref(), Some("mjpeg"));
    }

    #[test]
    fn read_all_tag_past_end_is_malformed() {
        let mut bytes = tag(&[("TSSE", b"\x03x".to_vec())]);
        bytes[8] = 0x7f;
        let err = read(bytes).unwrap_err();
        assert!(
            err.to_string().starts_with("a.mp3 (id3v2 tag at byte 0)"),
            "{err}"
        );
    }

    #[test]
    fn read_all_truncated_at_every_length_never_panics() {
        let bytes = tag(&[
            ("TSSE", b"\x03Lavf".to_vec()),
            ("TXXX", b"\x00a\x00b".to_vec()),
        ]);
        for n in 0..bytes.len() {
            let _ = read(bytes[..n].to_vec());
        }
    }

    #[test]
    fn unsynchronise_drops_stuffed_zeros() {
        assert_eq!(unsynchronise(&[0xff, 0x00, 0xe0, 0x01]), [0xff, 0xe0, 0x01]);
    }
}
