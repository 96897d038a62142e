//! Facts about a media file read from its container, without decoding any audio.
//!
//! [`read_facts_path`] and [`read_facts`] return a [`ContainerFacts`]: the format, the codec,
//! rate and channels of each track, the encoder and handler names, creation and modification
//! times, MP4 edit lists, and `notes` — short sentences on oddities that betray re-muxing or
//! editing software (an encoder tag that differs from the recording device, a stream-copied cut
//! in an edit list, a creation time after the modification time, `moov` before `mdat`, …).
//! The verdict weighs these facts; they are never proof on their own.
//!
//! # Formats
//! The format is detected from the content (magic bytes), never from the file name:
//!
//! | `format` | detected by | reader |
//! |---|---|---|
//! | `mp4`, `mov` | an ISO BMFF / QuickTime box at byte 0 (`ftyp`, `moov`, `mdat`, `free`, `wide`, …); `mov` when the major brand is `qt  ` or there is no `ftyp` | `mp4.rs` and `mp4/*.rs` |
//! | `matroska`, `webm` | the EBML magic `1A 45 DF A3`, then the EBML `DocType` | `matroska.rs` |
//! | `ogg` | `OggS` | `ogg.rs` |
//! | `wav` | `RIFF`/`RF64`/`BW64` … `WAVE` | `wav.rs` |
//! | `flac` | `fLaC` (after an optional ID3v2 tag) | `flac.rs` |
//! | `mp3` | two consecutive MPEG audio frame headers (after an optional ID3v2 tag) | `mp3.rs` |
//! | `aac` | an ADTS header (ADTS AAC, after an optional ID3v2 tag) | `adts.rs` |
//! | `aiff` | `FORM` … `AIFF`/`AIFC` | `aiff.rs` |
//! | `caf` | `caff` | `caf.rs` |
//!
//! ffprobe names all ISO BMFF files `mov,mp4,m4a,3gp,3g2,mj2`; we report `mov` for QuickTime and
//! `mp4` for every ISO brand (M4A, 3GP and others included — `brand` tells them apart).
//!
//! # Errors
//! An empty file, or a file whose magic bytes we recognise but whose structure is broken (a box
//! running past its parent, a count that exceeds its box, a truncated header) is
//! [`Error::Malformed`]: the file is damaged. A non-empty file whose magic bytes match no format
//! above (a JPEG renamed `.mp4`, a text file, an ASF/WMA file) is [`Error::Unsupported`]: it may be
//! a perfectly good file, just not one this crate reads; the message says what it looks like when
//! we can tell. A size or count past one of this module's named limits is [`Error::Limit`].
//!
//! # Why our own MP4 box walk
//! The `mp4-atom` crate (0.17) would give `©too`, the times and the edit lists, but not what the
//! notes need: the order of the top-level boxes, `free`/`skip` padding, and boxes it does not
//! know. Its parsers also size some allocations from counts in the file. Our walk (`mp4.rs`)
//! reports every box it passes, seeks over `mdat` (a 3-hour file is never read), and checks every
//! size and count against the bytes left in the parent box and against named limits before it
//! allocates, so a hostile file costs an error message, not memory.
//!
//! Other formats get small bounds-checked header readers: nothing here decodes audio, and nothing
//! reads Matroska clusters or Ogg pages beyond the headers (and one look at the end of an Ogg
//! file for its duration).
#![forbid(unsafe_code)]

mod adts;
mod aiff;
mod asc;
mod caf;
mod flac;
mod id3v2;
mod matroska;
mod mp3;
mod mp4;
mod notes;
mod ogg;
mod source;
mod time;
mod vorbis_comment;
mod wav;
mod writers;
mod xmp;

pub(crate) use time::rfc3339_from_unix;

use std::io::{BufReader, Read, Seek};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use source::Source;

/// What the container says about a media file, read without decoding audio.
///
/// Fields that the container does not state are `None` (or empty), never guessed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerFacts {
    /// Short format name, like ffprobe's: `mp4`, `mov`, `matroska`, `webm`, `ogg`, `mp3`, `wav`,
    /// `flac`, `aac` (ADTS), `aiff` or `caf`.
    pub format: String,
    /// The MP4 `ftyp` major brand (`isom`, `M4A `, `qt  `, …), trailing spaces kept as in ffprobe.
    pub brand: Option<String>,
    /// The MP4 `ftyp` compatible brands, in file order.
    pub compatible_brands: Vec<String>,
    /// The program that wrote the file as the file names it: MP4 `©too` (or QuickTime `©swr`,
    /// `©enc`), Matroska `WritingApp`, the Ogg vendor string (the muxer; else the `ENCODER`
    /// comment), the FLAC `ENCODER` comment (the application; else the vendor string, the
    /// library), WAV `ISFT`, MP3 ID3v2 `TSSE` (else the LAME/Xing encoder string), CAF
    /// `encoder`. Per-track encoders (`Lavc… libopus`) are in [`TrackFacts::encoder`].
    pub encoder: Option<String>,
    /// The recording device as the file names it: make and model (`Apple iPhone 12`) from Apple
    /// QuickTime keys or `©mak`/`©mod`.
    pub device: Option<String>,
    /// When the file says it was created, RFC 3339 in UTC (`2021-09-13T10:02:11Z`): MP4 `mvhd`
    /// (or Apple `com.apple.quicktime.creationdate` when `mvhd` holds zero), Matroska `DateUTC`.
    /// `None` when the file gives no time or gives one without a time zone (WAV `bext`, ID3).
    pub creation_time: Option<String>,
    /// When the file says it was last modified, RFC 3339 in UTC (MP4 `mvhd`).
    pub modification_time: Option<String>,
    /// The file's duration in seconds as the container states it (MP4 `mvhd`, Matroska `Duration`,
    /// the longest track otherwise), or `None`.
    pub duration_s: Option<f64>,
    /// Metadata tags in file order, keyed as in the file (`©too`, `com.apple.quicktime.make`,
    /// `ENCODER`, `ISFT`, `TSSE`, `vendor`, …). Large binary values (cover art) are left out.
    pub tags: Vec<Tag>,
    /// The top-level structure in file order: MP4 box types (`ftyp`, `free`, `mdat`, `moov`),
    /// WAV/AIFF/CAF chunk ids, Matroska segment children (`SeekHead`, `Info`, …). At most 64
    /// entries; a last entry `…` means more followed.
    pub layout: Vec<String>,
    /// The tracks (streams), in ffprobe's stream order.
    pub tracks: Vec<TrackFacts>,
    /// Oddities that betray re-muxing or editing software, each one short lower-case sentence.
    pub notes: Vec<String>,
    /// The file length in bytes that its structure claims, when that is more than the file holds
    /// (a truncated download: the last box or element runs past the end). `None` otherwise.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub claimed_bytes: Option<u64>,
}

/// One metadata tag, as the file spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// The key (`©too`, `com.apple.quicktime.make`, `ENCODER`, `ISFT`, `TSSE`, …).
    pub key: String,
    /// The value as text.
    pub value: String,
}

/// What the container says about one track (stream).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackFacts {
    /// ffprobe's stream index: 0-based, in container order. Attached pictures (cover art) count,
    /// as they do in ffprobe.
    pub index: usize,
    /// What the track carries.
    pub kind: TrackKind,
    /// ffprobe's `codec_name` where known: `aac`, `mp3`, `opus`, `vorbis`, `flac`, `pcm_s16le`,
    /// `alac`, `h264`, `hevc`, …
    pub codec: Option<String>,
    /// The codec's four-character code as stored (MP4 sample entry type, e.g. `mp4a`), or the
    /// Matroska `CodecID`.
    pub codec_tag: Option<String>,
    /// The MP4 `hdlr` name of the track (`SoundHandler`, `Core Media Audio`, …).
    pub handler_name: Option<String>,
    /// The encoder the track names: the MP4 visual sample entry's compressor name
    /// (`Lavc59.37.100 libx264`), or the Matroska track's `ENCODER` tag.
    pub encoder: Option<String>,
    /// Audio sample rate in Hz. For AAC this is the rate the AudioSpecificConfig signals
    /// (explicit SBR included); implicit SBR cannot be known without decoding.
    pub sample_rate: Option<u32>,
    /// Audio channel count.
    pub channels: Option<u16>,
    /// Bits per sample, for PCM and lossless codecs.
    pub bits_per_sample: Option<u16>,
    /// The MP4 media timescale (`mdhd`), in units per second.
    pub timescale: Option<u32>,
    /// The track's duration in seconds: for MP4 the edit list's non-empty segments (as ffprobe
    /// shows it) or else the media duration; Matroska the track's `DURATION` tag; otherwise the
    /// container's stated length.
    pub duration_s: Option<f64>,
    /// The MP4 media duration in seconds (`mdhd`), before the edit list.
    pub media_duration_s: Option<f64>,
    /// MP4/MOV `elst` entries, in order. `segment_duration` is in `movie_timescale` units and
    /// `media_time` in `timescale` units.
    pub edit_list: Vec<Edit>,
    /// The MP4 movie timescale (`mvhd`), in which edit-list segment durations count.
    pub movie_timescale: Option<u32>,
    /// The track id (MP4 `tkhd` track_ID, Matroska `TrackNumber`, Ogg bitstream serial number).
    pub track_id: Option<u64>,
    /// The track language (ISO 639-2, `und` when unset), where the container stores one.
    pub language: Option<String>,
    /// Track creation time (MP4 `tkhd`), RFC 3339 UTC; `None` when zero.
    pub creation_time: Option<String>,
    /// Track modification time (MP4 `tkhd`), RFC 3339 UTC; `None` when zero.
    pub modification_time: Option<String>,
    /// The MPEG-4 audio object type of AAC (2 = LC, 5 = HE-AAC/SBR, 29 = HE-AAC v2/PS), from the
    /// MP4 `esds`, the Matroska `CodecPrivate` or the ADTS header.
    pub aac_object_type: Option<u8>,
    /// The MP4 `sgpd` roll distance (in samples, usually -1 for AAC) when the track has a
    /// `roll` or `prol` sample group description.
    pub roll_distance: Option<i16>,
    /// The grouping type of that description: `roll` or `prol`.
    pub roll_grouping_type: Option<String>,
    /// How many samples the `sbgp` box maps to a roll group, when it is present.
    pub roll_sample_count: Option<u64>,
    /// Samples the encoder put before the audio (per channel): the LAME tag's encoder delay,
    /// the Opus pre-skip, Matroska `CodecDelay` in samples, iTunes `iTunSMPB` or CAF `pakt`
    /// priming. For MP4 AAC the delay is the edit list's `media_time` instead.
    pub encoder_delay_samples: Option<u64>,
    /// Samples the encoder appended after the audio (LAME tag, `iTunSMPB`, CAF `pakt`).
    pub padding_samples: Option<u64>,
    /// True for an attached picture (cover art), which ffprobe lists as a video stream.
    pub attached_picture: bool,
}

/// One entry of an MP4/QuickTime edit list (`elst`, ISO/IEC 14496-12 §8.6.6).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Edit {
    /// Length of this segment of the presentation, in movie timescale units.
    pub segment_duration: u64,
    /// Where the segment starts in the media, in media timescale units; -1 for an empty edit (a
    /// gap in the presentation).
    pub media_time: i64,
    /// Playback rate of the segment (1.0 normally, 0.0 for a dwell).
    pub media_rate: f64,
}

/// What a track carries, as ffprobe's `codec_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackKind {
    /// Sound.
    Audio,
    /// Pictures, including attached cover art.
    Video,
    /// Subtitles and timed text.
    Subtitle,
    /// Anything else: timecode, metadata, hint tracks, attachments.
    Data,
}

/// The most entries [`ContainerFacts::layout`] keeps; fragmented MP4 files have thousands of
/// top-level boxes and the pattern shows in the first few dozen.
pub(crate) const MAX_LAYOUT_ENTRIES: usize = 64;

/// Most tags kept per file: real files carry a few dozen; a hostile one could carry millions of
/// tiny ones, so parsing stops keeping them here.
pub(crate) const MAX_TAGS: usize = 1024;

/// Most attached pictures listed per file (each is a stream for ffprobe; real files have one or
/// two).
pub(crate) const MAX_PICTURES: usize = 64;

/// Bytes read from the start of a file to detect its format: enough for the longest magic
/// (`RIFF` size `WAVE`, an MP4 box header with a 64-bit size) and an ADTS or MPEG frame header.
const SNIFF_BYTES: u64 = 16;

/// Reads the container facts of the file at `path`.
///
/// The file is opened, read through a buffer and closed; only headers and metadata are read
/// (a few kilobytes for most files), whatever the file's length.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened or read; otherwise as [`read_facts`].
///
/// # Example
/// ```
/// let facts = clip_provenance::read_facts_path(std::path::Path::new(
///     "testdata/container/aac-lc-44k-mono-elst-1024.m4a",
/// ))?;
/// assert_eq!(facts.format, "mp4");
/// assert_eq!(facts.encoder.as_deref(), Some("Lavf59.27.100"));
/// assert_eq!(facts.tracks[0].edit_list[0].media_time, 1024);
/// # Ok::<(), clip_provenance::Error>(())
/// ```
pub fn read_facts_path(path: &Path) -> Result<ContainerFacts> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    read_facts(BufReader::new(file), &path.display().to_string())
}

/// Reads the container facts from `reader`; `name` (usually the file name) is used in error
/// messages.
///
/// The reader is seeked freely; its position afterwards is unspecified.
///
/// # Errors
/// - [`Error::Malformed`]: the file is empty, or its format is recognised but its structure is
///   broken (a box past its parent, a count exceeding its box, a truncated header). The message
///   names the file, the box or chunk, and the byte offset.
/// - [`Error::Unsupported`]: the content matches no supported format (see the module docs).
/// - [`Error::Limit`]: a size or count is past a named limit (nesting depth, box count, the size
///   of a metadata box we read into memory).
/// - [`Error::Io`]: reading or seeking failed.
pub fn read_facts<R: Read + Seek>(reader: R, name: &str) -> Result<ContainerFacts> {
    let mut src = Source::new(reader, name)?;
    if src.len == 0 {
        return Err(src.malformed("empty file"));
    }
    let head = src.read_up_to(0, SNIFF_BYTES)?;
    let mut facts = match sniff(&head) {
        Sniffed::Mp4 => mp4::read(&mut src)?,
        Sniffed::Matroska => matroska::read(&mut src)?,
        Sniffed::Ogg => ogg::read(&mut src)?,
        Sniffed::Wav => wav::read(&mut src)?,
        Sniffed::Flac => flac::read(&mut src, 0, Vec::new())?,
        Sniffed::Aiff => aiff::read(&mut src)?,
        Sniffed::Caf => caf::read(&mut src)?,
        Sniffed::Id3v2 | Sniffed::MpegSync => read_mpeg_family(&mut src)?,
        Sniffed::Other(what) => {
            return Err(Error::unsupported(format!(
                "{name}: not a supported media container ({what})"
            )));
        }
    };
    for (i, track) in facts.tracks.iter_mut().enumerate() {
        track.index = i;
    }
    if facts.duration_s.is_none() {
        facts.duration_s = facts
            .tracks
            .iter()
            .filter(|t| !t.attached_picture)
            .filter_map(|t| t.duration_s)
            .reduce(f64::max);
    }
    Ok(facts)
}

/// What the first bytes say.
#[derive(Debug, PartialEq)]
enum Sniffed {
    Mp4,
    Matroska,
    Ogg,
    Wav,
    Flac,
    Aiff,
    Caf,
    /// An ID3v2 tag, before MP3, ADTS AAC or FLAC.
    Id3v2,
    /// An MPEG audio or ADTS sync word; confirmed by the reader.
    MpegSync,
    /// Something else, described for the error message.
    Other(&'static str),
}

/// Detects the format from the first bytes of the file.
fn sniff(head: &[u8]) -> Sniffed {
    let at = |i: usize, magic: &[u8]| head.get(i..i + magic.len()) == Some(magic);
    if at(4, b"ftyp") || mp4::looks_like_box(head) {
        return Sniffed::Mp4;
    }
    if at(0, &[0x1a, 0x45, 0xdf, 0xa3]) {
        return Sniffed::Matroska;
    }
    if at(0, b"OggS") {
        return Sniffed::Ogg;
    }
    if (at(0, b"RIFF") || at(0, b"RF64") || at(0, b"BW64")) && at(8, b"WAVE") {
        return Sniffed::Wav;
    }
    if at(0, b"fLaC") {
        return Sniffed::Flac;
    }
    if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        return Sniffed::Aiff;
    }
    if at(0, b"caff") {
        return Sniffed::Caf;
    }
    if at(0, b"ID3") {
        return Sniffed::Id3v2;
    }
    if head.len() >= 2 && head[0] == 0xff && head[1] & 0xe0 == 0xe0 {
        return Sniffed::MpegSync;
    }
    Sniffed::Other(describe_unsupported(head))
}

/// Names a few common non-media or unsupported files, for the error message.
fn describe_unsupported(head: &[u8]) -> &'static str {
    let at = |i: usize, magic: &[u8]| head.get(i..i + magic.len()) == Some(magic);
    if at(0, &[0xff, 0xd8, 0xff]) {
        "looks like a JPEG image"
    } else if at(0, b"\x89PNG") {
        "looks like a PNG image"
    } else if at(0, b"GIF8") {
        "looks like a GIF image"
    } else if at(0, b"%PDF") {
        "looks like a PDF document"
    } else if at(0, &[0x30, 0x26, 0xb2, 0x75]) {
        "looks like ASF (WMA/WMV)"
    } else if at(0, b"#!AMR") {
        "looks like AMR"
    } else if at(0, b"RIFF") {
        "a RIFF file that is not WAVE"
    } else if at(0, b"PK\x03\x04") {
        "looks like a ZIP archive"
    } else if head
        .iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        "looks like text"
    } else {
        "unknown magic bytes"
    }
}

/// ID3v2 and/or an MPEG-style sync word: FLAC, MP3 or ADTS AAC behind it.
fn read_mpeg_family<R: Read + Seek>(src: &mut Source<R>) -> Result<ContainerFacts> {
    let (start, tags, pictures) = id3v2::read_all(src)?;
    let head = src.read_up_to(start, 4)?;
    if head.starts_with(b"fLaC") {
        let mut facts = flac::read(src, start, tags)?;
        facts.tracks.extend(pictures);
        return Ok(facts);
    }
    if let Some(facts) = mp3::read(src, start, &tags)? {
        let mut facts = facts;
        facts.tags.splice(0..0, tags);
        facts.tracks.extend(pictures);
        return Ok(facts);
    }
    if let Some(mut facts) = adts::read(src, start)? {
        if facts.encoder.is_none() {
            facts.encoder = id3v2::encoder(&tags);
        }
        facts.tags.splice(0..0, tags);
        facts.tracks.extend(pictures);
        return Ok(facts);
    }
    if start > 0 {
        Err(Error::unsupported(format!(
            "{}: not a supported media container (an ID3v2 tag followed by neither MP3, ADTS AAC nor FLAC at byte {start})",
            src.name
        )))
    } else {
        Err(Error::unsupported(format!(
            "{}: not a supported media container (an MPEG sync word but no valid MP3 or ADTS frames)",
            src.name
        )))
    }
}

impl ContainerFacts {
    /// The duration the container states for track `track` (or, failing that, for the file), in
    /// seconds; `None` when it states none (or a non-finite or non-positive one).
    pub fn stated_duration_s(&self, track: usize) -> Option<f64> {
        self.tracks
            .iter()
            .find(|t| t.index == track)
            .and_then(|t| t.duration_s)
            .or(self.duration_s)
            .filter(|d| d.is_finite() && *d > 0.0)
    }

    /// Empty facts for `format`.
    fn new(format: &str) -> Self {
        ContainerFacts {
            format: format.to_string(),
            brand: None,
            compatible_brands: Vec::new(),
            encoder: None,
            device: None,
            creation_time: None,
            modification_time: None,
            duration_s: None,
            tags: Vec::new(),
            layout: Vec::new(),
            tracks: Vec::new(),
            notes: Vec::new(),
            claimed_bytes: None,
        }
    }

    /// Appends a layout entry, keeping at most [`MAX_LAYOUT_ENTRIES`].
    fn push_layout(&mut self, entry: String) {
        match self.layout.len() {
            n if n < MAX_LAYOUT_ENTRIES => self.layout.push(entry),
            MAX_LAYOUT_ENTRIES => self.layout.push("…".to_string()),
            _ => {}
        }
    }

    /// Appends a tag, keeping at most [`MAX_TAGS`].
    fn push_tag(&mut self, key: impl Into<String>, value: impl Into<String>) {
        if self.tags.len() >= MAX_TAGS {
            return;
        }
        self.tags.push(Tag {
            key: key.into(),
            value: value.into(),
        });
    }

    /// The value of the first tag whose key equals `key`, ignoring ASCII case.
    fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key.eq_ignore_ascii_case(key))
            .map(|t| t.value.as_str())
    }
}

impl TrackFacts {
    /// An empty track of `kind`.
    fn new(kind: TrackKind) -> Self {
        TrackFacts {
            index: 0,
            kind,
            codec: None,
            codec_tag: None,
            handler_name: None,
            encoder: None,
            sample_rate: None,
            channels: None,
            bits_per_sample: None,
            timescale: None,
            duration_s: None,
            media_duration_s: None,
            edit_list: Vec::new(),
            movie_timescale: None,
            track_id: None,
            language: None,
            creation_time: None,
            modification_time: None,
            aac_object_type: None,
            roll_distance: None,
            roll_grouping_type: None,
            roll_sample_count: None,
            encoder_delay_samples: None,
            padding_samples: None,
            attached_picture: false,
        }
    }

    /// An attached picture (cover art) with the codec its MIME type or magic bytes name.
    fn picture(codec: Option<&str>) -> Self {
        let mut t = TrackFacts::new(TrackKind::Video);
        t.codec = codec.map(str::to_string);
        t.attached_picture = true;
        t
    }
}

/// ffprobe's codec name of a picture, from its MIME type or, failing that, its first bytes.
fn picture_codec(mime: &str, data: &[u8]) -> Option<&'static str> {
    let mime = mime.to_ascii_lowercase();
    if mime.contains("jpeg") || mime.contains("jpg") || data.starts_with(&[0xff, 0xd8]) {
        Some("mjpeg")
    } else if mime.contains("png") || data.starts_with(b"\x89PNG") {
        Some("png")
    } else if mime.contains("bmp") || data.starts_with(b"BM") {
        Some("bmp")
    } else if mime.contains("gif") || data.starts_with(b"GIF8") {
        Some("gif")
    } else if mime.contains("webp") {
        Some("webp")
    } else {
        None
    }
}

/// Seconds from a count of units at `rate` units per second; `None` when the rate is zero.
fn seconds(count: u64, rate: u64) -> Option<f64> {
    (rate != 0).then(|| count as f64 / rate as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_magic_bytes_pick_formats() {
        assert_eq!(sniff(b"\0\0\0\x20ftypisom"), Sniffed::Mp4);
        assert_eq!(sniff(b"\x1a\x45\xdf\xa3\x9f"), Sniffed::Matroska);
        assert_eq!(sniff(b"OggS\0\x02"), Sniffed::Ogg);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), Sniffed::Wav);
        assert_eq!(sniff(b"RF64\xff\xff\xff\xffWAVEds64"), Sniffed::Wav);
        assert_eq!(sniff(b"fLaC\0\0\0\x22"), Sniffed::Flac);
        assert_eq!(sniff(b"FORM\0\0\0\x10AIFF"), Sniffed::Aiff);
        assert_eq!(sniff(b"caff\0\x01\0\0"), Sniffed::Caf);
        assert_eq!(sniff(b"ID3\x04\0\0"), Sniffed::Id3v2);
        assert_eq!(sniff(&[0xff, 0xfb, 0x90, 0x64]), Sniffed::MpegSync);
    }

    #[test]
    fn sniff_non_media_is_described() {
        assert_eq!(
            sniff(&[0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F']),
            Sniffed::Other("looks like a JPEG image")
        );
        assert_eq!(
            sniff(b"this is not a media file\n"),
            Sniffed::Other("looks like text")
        );
        assert_eq!(
            sniff(b"RIFF\0\0\0\0AVI LIST"),
            Sniffed::Other("a RIFF file that is not WAVE")
        );
    }

    #[test]
    fn read_facts_empty_input_is_malformed() {
        let err = read_facts(std::io::Cursor::new(Vec::<u8>::new()), "empty.mp4").unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }), "{err}");
        assert_eq!(err.to_string(), "empty.mp4: empty file");
    }

    #[test]
    fn read_facts_unknown_bytes_is_unsupported() {
        let err = read_facts(std::io::Cursor::new(b"hello world".to_vec()), "a.mp4").unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        assert!(err.to_string().contains("a.mp4"), "{err}");
    }

    #[test]
    fn push_layout_caps_entries_with_ellipsis() {
        let mut f = ContainerFacts::new("mp4");
        for _ in 0..MAX_LAYOUT_ENTRIES + 10 {
            f.push_layout("moof".into());
        }
        assert_eq!(f.layout.len(), MAX_LAYOUT_ENTRIES + 1);
        assert_eq!(f.layout.last().unwrap(), "…");
    }

    #[test]
    fn track_kind_serialises_lower_case() {
        assert_eq!(
            serde_json::to_string(&TrackKind::Subtitle).unwrap(),
            "\"subtitle\""
        );
    }
}
