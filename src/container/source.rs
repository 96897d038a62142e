//! Bounds-checked reading: [`Source`] reads byte ranges of the file, [`Cursor`] reads numbers out
//! of a byte slice that came from it.
//!
//! Every container reader goes through these two types, so that no length or count from a file is
//! trusted: a range is checked against the file length and a named limit before a buffer is
//! allocated, and every read from a slice is checked against the bytes left in it.
#![forbid(unsafe_code)]

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use crate::error::{Error, Result};

/// A seekable input with its name (for messages) and its length in bytes.
pub(crate) struct Source<R> {
    inner: R,
    /// The name used in error messages, usually the file name as given.
    pub(crate) name: String,
    /// The length of the input in bytes, learnt by seeking to its end once.
    pub(crate) len: u64,
}

impl<R: Read + Seek> Source<R> {
    /// Wraps `inner`, learning its length.
    ///
    /// # Errors
    /// [`Error::Io`] when seeking fails.
    pub(crate) fn new(mut inner: R, name: &str) -> Result<Self> {
        let len = inner
            .seek(SeekFrom::End(0))
            .map_err(|e| Error::io(PathBuf::from(name), e))?;
        Ok(Source {
            inner,
            name: name.to_string(),
            len,
        })
    }

    /// An [`Error::Malformed`] about this file as a whole.
    pub(crate) fn malformed(&self, detail: impl Into<String>) -> Error {
        Error::malformed(self.name.clone(), detail)
    }

    /// Fills `buf` from byte `offset`.
    ///
    /// # Errors
    /// [`Error::Malformed`] when the range runs past the end of the file, [`Error::Io`] when the
    /// read fails.
    pub(crate) fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let want = buf.len() as u64;
        if offset.checked_add(want).is_none_or(|end| end > self.len) {
            return Err(self.malformed(format!(
                "unexpected end of file: {want} bytes needed at byte {offset}, the file has {}",
                self.len
            )));
        }
        self.inner
            .seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io(PathBuf::from(&self.name), e))?;
        self.inner.read_exact(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                // The file shrank after we measured it, or the reader lied about its length.
                Error::malformed(
                    self.name.clone(),
                    format!("unexpected end of file reading {want} bytes at byte {offset}"),
                )
            } else {
                Error::io(PathBuf::from(&self.name), e)
            }
        })
    }

    /// Counts one more structural element (a chunk, a box) in `counter`, against `limit`: a file
    /// of millions of tiny elements is refused instead of walked.
    ///
    /// # Errors
    /// [`Error::Limit`] once `counter` exceeds `limit` (`what` names the count).
    pub(crate) fn count(&self, counter: &mut u64, limit: u64, what: &str) -> Result<()> {
        *counter += 1;
        if *counter > limit {
            return Err(Error::limit(
                format!("{}: {what}", self.name),
                limit,
                *counter,
            ));
        }
        Ok(())
    }

    /// Reads `len` bytes from `offset` into a new buffer, after checking `len` against `limit`
    /// and against the file.
    ///
    /// # Errors
    /// [`Error::Limit`] when `len > limit` (`what` names the limit), [`Error::Malformed`] when the
    /// range runs past the end of the file, [`Error::Io`] when the read fails.
    pub(crate) fn read_vec(
        &mut self,
        offset: u64,
        len: u64,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>> {
        // The file first: a size past its end is damage (a lying header), not a limit to raise.
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(self.malformed(format!(
                "unexpected end of file: {what} {len} needs bytes {offset}.. but the file has {}",
                self.len
            )));
        }
        if len > limit {
            return Err(Error::limit(format!("{}: {what}", self.name), limit, len));
        }
        let size = usize::try_from(len)
            .map_err(|_| Error::limit(format!("{}: {what}", self.name), limit, len))?;
        let mut buf = vec![0; size];
        self.read_exact_at(offset, &mut buf)?;
        Ok(buf)
    }

    /// Reads at most `max` bytes from `offset`, fewer when the file ends first.
    ///
    /// # Errors
    /// [`Error::Io`] when the read fails.
    pub(crate) fn read_up_to(&mut self, offset: u64, max: u64) -> Result<Vec<u8>> {
        let available = self.len.saturating_sub(offset).min(max);
        // `max` is always one of our own named limits, so this allocation is bounded.
        let size = usize::try_from(available).unwrap_or(usize::MAX);
        let mut buf = vec![0; size];
        self.read_exact_at(offset, &mut buf)?;
        Ok(buf)
    }
}

/// Reads numbers from a byte slice, checking every read against the bytes left.
///
/// `what` names the file and the structure being read (e.g. `clip.mp4 (elst at byte 1234)`) and
/// becomes the `what` of the [`Error::Malformed`] a short read produces; `base` is the file offset
/// of the slice's first byte, so messages can give file offsets.
#[derive(Clone)]
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    what: &'a str,
}

impl<'a> Cursor<'a> {
    /// A cursor over `data`, whose first byte is at file offset `base`.
    pub(crate) fn new(data: &'a [u8], base: u64, what: &'a str) -> Self {
        Cursor {
            data,
            pos: 0,
            base,
            what,
        }
    }

    /// A cursor over `data` (a part of this cursor's slice starting at file offset `base`) that
    /// names the same structure in its errors.
    pub(crate) fn sub(&self, data: &'a [u8], base: u64) -> Cursor<'a> {
        Cursor::new(data, base, self.what)
    }

    /// Bytes not yet read.
    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// The file offset of the next byte.
    pub(crate) fn file_pos(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// An [`Error::Malformed`] naming this cursor's structure.
    pub(crate) fn error(&self, detail: impl Into<String>) -> Error {
        Error::malformed(self.what, detail)
    }

    /// Takes the next `n` bytes.
    ///
    /// # Errors
    /// [`Error::Malformed`] when fewer than `n` bytes are left.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.error(format!(
                "truncated: {n} bytes needed at byte {}, {} left",
                self.file_pos(),
                self.remaining()
            )));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Takes everything left.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let out = &self.data[self.pos..];
        self.pos = self.data.len();
        out
    }

    /// Skips `n` bytes.
    ///
    /// # Errors
    /// [`Error::Malformed`] when fewer than `n` bytes are left.
    pub(crate) fn skip(&mut self, n: usize) -> Result<()> {
        self.take(n).map(|_| ())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let bytes = self.take(N)?;
        let mut out = [0; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Reads a byte.
    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a big-endian `u16`.
    pub(crate) fn u16_be(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `i16`.
    pub(crate) fn i16_be(&mut self) -> Result<i16> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `u32`.
    pub(crate) fn u32_be(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `i32`.
    pub(crate) fn i32_be(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `u64`.
    pub(crate) fn u64_be(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `i64`.
    pub(crate) fn i64_be(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian IEEE 754 double.
    pub(crate) fn f64_be(&mut self) -> Result<f64> {
        Ok(f64::from_be_bytes(self.array()?))
    }

    /// Reads a little-endian `u16`.
    pub(crate) fn u16_le(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian `u32`.
    pub(crate) fn u32_le(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian `u64`.
    pub(crate) fn u64_le(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads a four-character code.
    pub(crate) fn fourcc(&mut self) -> Result<[u8; 4]> {
        self.array()
    }
}

/// A four-character code as text, with bytes outside printable ASCII shown as `\xNN` (Latin-1 `©`
/// is kept, as in `©too`).
pub(crate) fn fourcc_str(code: &[u8]) -> String {
    let mut out = String::new();
    for &b in code {
        match b {
            0x20..=0x7e => out.push(char::from(b)),
            0xa9 => out.push('©'),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// Text from bytes: UTF-8 when valid, else Latin-1; trailing NULs and surrounding whitespace
/// removed. Media tags are mostly UTF-8, and Latin-1 never fails, so nothing is lost.
pub(crate) fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let bytes = &bytes[..end];
    let s = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    };
    s.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_short_read_names_structure_and_offset() {
        let data = [0u8; 3];
        let mut c = Cursor::new(&data, 100, "clip.mp4 (elst at byte 100)");
        let err = c.u32_be().unwrap_err().to_string();
        assert!(
            err.starts_with("clip.mp4 (elst at byte 100): truncated"),
            "{err}"
        );
        assert!(err.contains("at byte 100"), "{err}");
    }

    #[test]
    fn cursor_reads_numbers_in_order() {
        let data = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        let mut c = Cursor::new(&data, 0, "x");
        assert_eq!(c.u8().unwrap(), 1);
        assert_eq!(c.u16_be().unwrap(), 0x0203);
        assert_eq!(c.u16_le().unwrap(), 0x0504);
        assert_eq!(c.u32_be().unwrap(), 0x0607_0809);
        assert_eq!(c.remaining(), 0);
    }

    #[test]
    fn source_read_vec_over_limit_is_limit_error() {
        let mut s = Source::new(std::io::Cursor::new(vec![0u8; 20]), "a.bin").unwrap();
        let err = s.read_vec(0, 11, 8, "box payload").unwrap_err();
        assert!(matches!(err, Error::Limit { .. }), "{err}");
    }

    #[test]
    fn source_read_vec_past_the_end_and_over_limit_is_malformed() {
        // A size that the file cannot hold is a lying header, whatever the limit.
        let mut s = Source::new(std::io::Cursor::new(vec![0u8; 10]), "a.bin").unwrap();
        let err = s.read_vec(0, 1 << 31, 8, "box payload").unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }), "{err}");
    }

    #[test]
    fn source_read_past_end_is_malformed() {
        let mut s = Source::new(std::io::Cursor::new(vec![0u8; 10]), "a.bin").unwrap();
        let err = s.read_vec(8, 4, 100, "box payload").unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }), "{err}");
        assert!(s.read_exact_at(u64::MAX, &mut [0u8; 2]).is_err());
    }

    #[test]
    fn text_invalid_utf8_falls_back_to_latin1() {
        assert_eq!(text(b"caf\xe9\0\0"), "café");
        assert_eq!(text(b" Lavf58.76.100 "), "Lavf58.76.100");
    }

    #[test]
    fn fourcc_str_copyright_sign_is_kept() {
        assert_eq!(fourcc_str(b"\xa9too"), "©too");
        assert_eq!(fourcc_str(b"\x00\x00\x00\x01"), "\\x00\\x00\\x00\\x01");
    }
}
