//! Matroska and WebM (RFC 9559; EBML, RFC 8794): the EBML header's `DocType`, and the
//! Segment's `SeekHead`, `Info`, `Tracks`, `Tags` and `Attachments`. Clusters are never read:
//! the linear walk stops at the first one and the `SeekHead` points at anything written later.
#![forbid(unsafe_code)]

use std::io::{Read, Seek};

use super::notes::{self, duration_spread};
use super::source::{Cursor, Source};
use super::{ContainerFacts, TrackFacts, TrackKind, asc, picture_codec, time, wav, writers};
use crate::error::{Error, Result};

// Element IDs (RFC 9559 §5.1 and RFC 8794 §11.2), with their length markers as EBML IDs keep them.
const EBML: u32 = 0x1a45_dfa3;
const DOC_TYPE: u32 = 0x4282;
const SEGMENT: u32 = 0x1853_8067;
const SEEK_HEAD: u32 = 0x114d_9b74;
const SEEK: u32 = 0x4dbb;
const SEEK_ID: u32 = 0x53ab;
const SEEK_POSITION: u32 = 0x53ac;
const INFO: u32 = 0x1549_a966;
const TIMESTAMP_SCALE: u32 = 0x2a_d7b1;
const DURATION: u32 = 0x4489;
const DATE_UTC: u32 = 0x4461;
const TITLE: u32 = 0x7ba9;
const MUXING_APP: u32 = 0x4d80;
const WRITING_APP: u32 = 0x5741;
const TRACKS: u32 = 0x1654_ae6b;
const TRACK_ENTRY: u32 = 0xae;
const TRACK_NUMBER: u32 = 0xd7;
const TRACK_UID: u32 = 0x73c5;
const TRACK_TYPE: u32 = 0x83;
const CODEC_ID: u32 = 0x86;
const CODEC_PRIVATE: u32 = 0x63a2;
const CODEC_DELAY: u32 = 0x56aa;
const LANGUAGE: u32 = 0x22_b59c;
const AUDIO: u32 = 0xe1;
const SAMPLING_FREQUENCY: u32 = 0xb5;
const OUTPUT_SAMPLING_FREQUENCY: u32 = 0x78b5;
const CHANNELS: u32 = 0x9f;
const BIT_DEPTH: u32 = 0x6264;
const CLUSTER: u32 = 0x1f43_b675;
const SIMPLE_BLOCK: u32 = 0xa3;
const BLOCK_GROUP: u32 = 0xa0;
const BLOCK: u32 = 0xa1;
const DISCARD_PADDING: u32 = 0x75a2;
const TAGS: u32 = 0x1254_c367;
const TAG: u32 = 0x7373;
const TARGETS: u32 = 0x63c0;
const TAG_TRACK_UID: u32 = 0x63c5;
const SIMPLE_TAG: u32 = 0x67c8;
const TAG_NAME: u32 = 0x45a3;
const TAG_STRING: u32 = 0x4487;
const ATTACHMENTS: u32 = 0x1941_a469;
const ATTACHED_FILE: u32 = 0x61a7;
const FILE_MIME_TYPE: u32 = 0x4660;
const FILE_DATA: u32 = 0x465c;

/// Track types (RFC 9559 §5.1.4.1.3) that ffmpeg turns into streams; others it skips.
const TRACK_TYPE_VIDEO: u64 = 1;
const TRACK_TYPE_AUDIO: u64 = 2;
const TRACK_TYPE_SUBTITLE: u64 = 0x11;
const TRACK_TYPE_METADATA: u64 = 0x21;

/// `TimestampScale` default: nanoseconds per tick (RFC 9559 §5.1.2.1).
const DEFAULT_TIMESTAMP_SCALE: u64 = 1_000_000;

/// Largest EBML header read.
const MAX_EBML_HEADER_BYTES: u64 = 4096;

/// Largest `SeekHead`, `Info`, `Tracks` or `Tags` read whole. `Tracks` carries codec private data
/// (kilobytes); `Tags` can carry binary values. Larger `Tags` are skipped with a note.
const MAX_MASTER_BYTES: u64 = 16 << 20;

/// `Tags` elements read (ffmpeg writes one; each may be up to [`MAX_MASTER_BYTES`]).
const MAX_TAGS_ELEMENTS: usize = 4;

/// Segment children walked before the first cluster (real files have under twenty).
const MAX_TOP_ELEMENTS: u32 = 10_000;

/// Attachments listed (each is an ffprobe stream).
const MAX_ATTACHMENTS: usize = 256;

/// Nesting followed inside an element read into memory (`Tags` → `Tag` → `SimpleTag` → nested
/// `SimpleTag` is the deepest used, at four).
const MAX_DEPTH: u32 = 8;

/// Reads an EBML variable-length integer (RFC 8794 §4): the count of leading zero bits of the
/// first byte gives the extra bytes. For IDs the marker bit is kept; for sizes it is removed and
/// all ones means "unknown".
fn vint(bytes: &[u8], keep_marker: bool) -> Option<(u64, usize, bool)> {
    let first = *bytes.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let mut v = u64::from(if keep_marker {
        first
    } else {
        first & (0xffu32 >> len) as u8
    });
    for &b in bytes.get(1..len)? {
        v = (v << 8) | u64::from(b);
    }
    let all_ones = !keep_marker && v == (1u64 << (7 * len)) - 1;
    Some((v, len, all_ones))
}

/// The next element inside a slice: its ID and a cursor over its data. An unknown size extends
/// to the end of the slice.
fn next_element<'a>(c: &mut Cursor<'a>) -> Result<Option<(u32, Cursor<'a>)>> {
    if c.remaining() == 0 {
        return Ok(None);
    }
    let at = c.file_pos();
    let head = c.clone().take(c.remaining().min(12))?;
    let bad = |what: &str| c.error(format!("invalid element {what} at byte {at}"));
    let (id, id_len, _) = vint(head, true)
        .filter(|v| v.1 <= 4)
        .ok_or_else(|| bad("id"))?;
    let (size, size_len, unknown) = vint(&head[id_len..], false).ok_or_else(|| bad("size"))?;
    c.skip(id_len + size_len)?;
    let size = if unknown { c.remaining() as u64 } else { size };
    if size > c.remaining() as u64 {
        return Err(c.error(format!(
            "element 0x{id:x} at byte {at} has size {size}, past the end of its parent"
        )));
    }
    let base = c.file_pos();
    let data = c.take(size as usize)?;
    Ok(Some((id as u32, c.sub(data, base))))
}

fn uint(c: &Cursor<'_>) -> u64 {
    c.clone()
        .rest()
        .iter()
        .take(8)
        .fold(0, |v, &b| (v << 8) | u64::from(b))
}

fn float(c: &Cursor<'_>) -> Option<f64> {
    let b = c.clone().rest();
    match b.len() {
        4 => Some(f64::from(f32::from_be_bytes(b.try_into().ok()?))),
        8 => Some(f64::from_be_bytes(b.try_into().ok()?)),
        _ => None,
    }
}

fn string(c: &Cursor<'_>) -> String {
    super::source::text(c.clone().rest())
}

/// A top-level element header read from the file.
#[derive(Debug, Clone, Copy)]
struct Header {
    id: u32,
    start: u64,
    data: u64,
    /// `None` for an unknown size.
    size: Option<u64>,
}

fn read_header<R: Read + Seek>(src: &mut Source<R>, pos: u64) -> Result<Header> {
    let head = src.read_up_to(pos, 12)?;
    let what = || format!("{} (ebml element at byte {pos})", src.name);
    let (id, id_len, _) = vint(&head, true)
        .filter(|v| v.1 <= 4)
        .ok_or_else(|| Error::malformed(what(), "invalid element id"))?;
    let (size, size_len, unknown) = head
        .get(id_len..)
        .and_then(|h| vint(h, false))
        .ok_or_else(|| Error::malformed(what(), "invalid or truncated element size"))?;
    Ok(Header {
        id: id as u32,
        start: pos,
        data: pos + (id_len + size_len) as u64,
        size: (!unknown).then_some(size),
    })
}

/// What the walk gathers.
#[derive(Default)]
struct Found {
    info: Option<Vec<u8>>,
    info_at: u64,
    tracks: Option<Vec<u8>>,
    tracks_at: u64,
    tags: Vec<(Vec<u8>, u64)>,
    attachments: Option<Header>,
    seeks: Vec<(u32, u64)>,
}

/// Reads the facts of a Matroska or WebM file.
pub(super) fn read<R: Read + Seek>(src: &mut Source<R>) -> Result<ContainerFacts> {
    let ebml = read_header(src, 0)?;
    if ebml.id != EBML {
        return Err(src.malformed("no ebml header at byte 0"));
    }
    let size = ebml
        .size
        .ok_or_else(|| src.malformed("ebml header of unknown size"))?;
    let body = src.read_vec(ebml.data, size, MAX_EBML_HEADER_BYTES, "ebml header size")?;
    let what = format!("{} (ebml header)", src.name);
    let mut c = Cursor::new(&body, ebml.data, &what);
    let mut doc_type = None;
    while let Some((id, v)) = next_element(&mut c)? {
        if id == DOC_TYPE {
            doc_type = Some(string(&v));
        }
    }
    let format = match doc_type.as_deref() {
        Some("webm") => "webm",
        Some("matroska") | None => "matroska",
        Some(other) => {
            return Err(Error::unsupported(format!(
                "{}: ebml document type '{other}' is not matroska or webm",
                src.name
            )));
        }
    };
    let mut facts = ContainerFacts::new(format);
    let mut notes = Vec::new();

    // Find the Segment (normally right after the header).
    let mut pos = ebml.data + size;
    let segment = loop {
        if src.len.saturating_sub(pos) < 2 {
            return Err(src.malformed("no segment element"));
        }
        let h = read_header(src, pos)?;
        if h.id == SEGMENT {
            break h;
        }
        pos = h.data.saturating_add(h.size.ok_or_else(|| {
            src.malformed(format!(
                "element of unknown size at byte {pos} before the segment"
            ))
        })?);
    };
    let seg_end = match segment.size {
        None => {
            notes.push("segment size is unknown: written as a live stream".to_string());
            src.len
        }
        Some(s) if segment.data.saturating_add(s) > src.len => {
            facts.claimed_bytes = segment.data.checked_add(s);
            notes.push(format!(
                "file is truncated: the segment claims {s} bytes but only {} remain",
                src.len - segment.data
            ));
            src.len
        }
        Some(s) => segment.data + s,
    };

    let mut found = Found::default();
    walk_segment(src, &segment, seg_end, &mut found, &mut facts, &mut notes)?;
    // Anything the linear walk did not reach (written after the clusters), via the SeekHead.
    let seeks = found.seeks.clone();
    for (id, rel) in seeks {
        let at = segment.data.saturating_add(rel);
        let wanted = match id {
            INFO => found.info.is_none(),
            TRACKS => found.tracks.is_none(),
            TAGS => found.tags.is_empty(),
            ATTACHMENTS => found.attachments.is_none(),
            _ => false,
        };
        if !wanted || at >= seg_end {
            continue;
        }
        let h = read_header(src, at)?;
        if h.id != id {
            notes.push(format!(
                "seek head points at byte {at} for element 0x{id:x} but finds 0x{:x}",
                h.id
            ));
            continue;
        }
        take_element(src, &h, seg_end, &mut found, &mut notes)?;
    }

    let info = found
        .info
        .take()
        .ok_or_else(|| src.malformed("matroska segment without an info element"))?;
    read_info(src, &info, found.info_at, &mut facts, &mut notes)?;
    let uids = match found.tracks.take() {
        Some(t) => read_tracks(src, &t, found.tracks_at, &mut facts, &mut notes)?,
        None => {
            notes.push("no tracks element".to_string());
            Vec::new()
        }
    };
    for (data, at) in &found.tags {
        read_tags(src, data, *at, &uids, &mut facts)?;
    }
    if let Some(h) = found.attachments {
        read_attachments(src, &h, seg_end, &mut facts)?;
    }

    facts.encoder = facts.tag("WritingApp").map(str::to_string);
    if let (Some(mux), Some(write)) = (facts.tag("MuxingApp"), facts.tag("WritingApp")) {
        let (m, w) = (writers::family(mux), writers::family(write));
        if let (Some(m), Some(w)) = (m, w)
            && m.name != w.name
        {
            notes.push(format!(
                "muxing app '{mux}' and writing app '{write}' name different programs"
            ));
        }
    }
    if let (Some(enc), Some(write)) = (facts.tag("ENCODER"), facts.tag("WritingApp"))
        && let (Some(e), Some(w)) = (writers::family(enc), writers::family(write))
        && e.name != w.name
    {
        notes.push(format!(
            "encoder tag '{enc}' and writing app '{write}' name different programs"
        ));
    }
    let names: Vec<String> = ["MuxingApp", "WritingApp", "ENCODER"]
        .iter()
        .filter_map(|k| facts.tag(k).map(str::to_string))
        .collect();
    notes::editors(names.iter().map(String::as_str), &mut notes);
    if let Some((number, padding_ns)) = last_block_discard_padding(src, &segment, seg_end)
        && let Some(track) = facts.tracks.iter_mut().find(|t| t.track_id == Some(number))
        && let Some(rate) = track.sample_rate
    {
        // Opus always decodes at 48 kHz (RFC 7845), whatever SamplingFrequency says.
        let rate = if track.codec.as_deref() == Some("opus") {
            48_000
        } else {
            rate
        };
        track.padding_samples = Some((padding_ns as f64 * f64::from(rate) / 1e9).round() as u64);
    }
    duration_spread(&facts.tracks, &mut notes);
    facts.notes = notes;
    Ok(facts)
}

/// Clusters stepped over on the way to the last one: one header read each, so even a long file
/// with a cluster per second (10,800 for 3 hours) is cheap; more is treated as hostile.
const MAX_CLUSTERS: u32 = 1_000_000;

/// The largest last cluster read whole to find its final block (audio clusters are tens of
/// kilobytes; a video cluster may be megabytes).
const MAX_LAST_CLUSTER_BYTES: u64 = 64 << 20;

/// The `DiscardPadding` (in ns) of the last block of the file when that block belongs to a
/// BlockGroup carrying one, with the block's track number (Matroska spec §5.1.3.5.7). ffmpeg
/// drops that many samples from the end of the stream; symphonia reads the element but does not
/// apply it. `None` when the clusters cannot be stepped over (unknown sizes: a live recording)
/// or the last block has no padding.
fn last_block_discard_padding<R: Read + Seek>(
    src: &mut Source<R>,
    segment: &Header,
    seg_end: u64,
) -> Option<(u64, i64)> {
    let mut pos = segment.data;
    let mut last_cluster = None;
    for _ in 0..MAX_CLUSTERS {
        if seg_end.saturating_sub(pos) < 2 {
            break;
        }
        let h = read_header(src, pos).ok()?;
        let size = h.size?;
        if h.id == CLUSTER {
            last_cluster = Some((h.data, size));
        }
        pos = h.data.checked_add(size)?;
    }
    let (data_at, size) = last_cluster?;
    if data_at.saturating_add(size) > seg_end {
        return None;
    }
    let body = src
        .read_vec(data_at, size, MAX_LAST_CLUSTER_BYTES, "last cluster size")
        .ok()?;
    let what = format!("{} (last cluster)", src.name);
    let mut c = Cursor::new(&body, data_at, &what);
    let mut last = None;
    while let Ok(Some((id, mut child))) = next_element(&mut c) {
        match id {
            SIMPLE_BLOCK => last = block_track(child.clone().rest()).map(|t| (t, 0)),
            BLOCK_GROUP => {
                let (mut track, mut padding) = (None, 0);
                while let Ok(Some((id, v))) = next_element(&mut child) {
                    match id {
                        BLOCK => track = block_track(v.clone().rest()),
                        DISCARD_PADDING => padding = signed(&v),
                        _ => {}
                    }
                }
                last = track.map(|t| (t, padding));
            }
            _ => {}
        }
    }
    last.filter(|(_, padding)| *padding > 0)
}

/// The track number a (Simple)Block's data starts with.
fn block_track(data: &[u8]) -> Option<u64> {
    vint(data, false).map(|(n, _, _)| n)
}

/// A signed big-endian integer element (1 to 8 bytes).
fn signed(c: &Cursor<'_>) -> i64 {
    let bytes = c.clone().rest();
    if bytes.is_empty() || bytes.len() > 8 {
        return 0;
    }
    let mut v: i64 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
    for b in bytes {
        v = (v << 8) | i64::from(*b);
    }
    v
}

/// Walks the Segment's children up to the first Cluster.
fn walk_segment<R: Read + Seek>(
    src: &mut Source<R>,
    segment: &Header,
    seg_end: u64,
    found: &mut Found,
    facts: &mut ContainerFacts,
    notes: &mut Vec<String>,
) -> Result<()> {
    let mut pos = segment.data;
    let mut count = 0;
    while seg_end.saturating_sub(pos) >= 2 {
        count += 1;
        if count > MAX_TOP_ELEMENTS {
            return Err(Error::limit(
                format!("{}: matroska elements before the first cluster", src.name),
                u64::from(MAX_TOP_ELEMENTS),
                u64::from(count),
            ));
        }
        let h = read_header(src, pos)?;
        facts.push_layout(element_name(h.id));
        if h.id == CLUSTER {
            break;
        }
        take_element(src, &h, seg_end, found, notes)?;
        let Some(size) = h.size else {
            break;
        };
        pos = h.data.saturating_add(size);
    }
    Ok(())
}

/// Reads (or remembers) one Segment child.
fn take_element<R: Read + Seek>(
    src: &mut Source<R>,
    h: &Header,
    seg_end: u64,
    found: &mut Found,
    notes: &mut Vec<String>,
) -> Result<()> {
    let what = |n: &str| format!("{} {n} size", element_name(h.id));
    let size = || {
        h.size.ok_or_else(|| {
            Error::malformed(
                format!("{} ({} at byte {})", src.name, element_name(h.id), h.start),
                "unknown size",
            )
        })
    };
    if !matches!(h.id, SEEK_HEAD | INFO | TRACKS | TAGS | ATTACHMENTS) {
        return Ok(());
    }
    let size = size()?;
    if h.data.saturating_add(size) > seg_end {
        return Err(Error::malformed(
            format!("{} ({} at byte {})", src.name, element_name(h.id), h.start),
            format!("element size {size} runs past the end of the segment"),
        ));
    }
    match h.id {
        SEEK_HEAD => {
            let data = src.read_vec(h.data, size, MAX_MASTER_BYTES, &what("element"))?;
            let w = format!("{} (SeekHead at byte {})", src.name, h.start);
            let mut c = Cursor::new(&data, h.data, &w);
            while let Some((id, mut seek)) = next_element(&mut c)? {
                if id != SEEK {
                    continue;
                }
                let (mut target, mut position) = (None, None);
                while let Some((id, v)) = next_element(&mut seek)? {
                    match id {
                        SEEK_ID => target = Some(uint(&v) as u32),
                        SEEK_POSITION => position = Some(uint(&v)),
                        _ => {}
                    }
                }
                if let (Some(t), Some(p)) = (target, position)
                    && found.seeks.len() < 1024
                {
                    found.seeks.push((t, p));
                }
            }
        }
        INFO if found.info.is_none() => {
            found.info = Some(src.read_vec(h.data, size, MAX_MASTER_BYTES, &what("element"))?);
            found.info_at = h.data;
        }
        TRACKS if found.tracks.is_none() => {
            found.tracks = Some(src.read_vec(h.data, size, MAX_MASTER_BYTES, &what("element"))?);
            found.tracks_at = h.data;
        }
        TAGS if found.tags.len() >= MAX_TAGS_ELEMENTS => {
            notes.push(format!(
                "more than {MAX_TAGS_ELEMENTS} tags elements; the rest not read"
            ));
        }
        TAGS => {
            if size > MAX_MASTER_BYTES {
                notes.push(format!("tags element of {size} bytes not read"));
            } else {
                found.tags.push((
                    src.read_vec(h.data, size, MAX_MASTER_BYTES, "tags")?,
                    h.data,
                ));
            }
        }
        ATTACHMENTS if found.attachments.is_none() => found.attachments = Some(*h),
        _ => {}
    }
    Ok(())
}

/// Info: timestamp scale, duration, date, title, muxing and writing apps.
fn read_info<R: Read + Seek>(
    src: &Source<R>,
    data: &[u8],
    at: u64,
    facts: &mut ContainerFacts,
    notes: &mut Vec<String>,
) -> Result<()> {
    let w = format!("{} (Info at byte {at})", src.name);
    let mut c = Cursor::new(data, at, &w);
    let mut scale = DEFAULT_TIMESTAMP_SCALE;
    let mut duration = None;
    while let Some((id, v)) = next_element(&mut c)? {
        match id {
            TIMESTAMP_SCALE => scale = uint(&v).max(1),
            DURATION => duration = float(&v),
            DATE_UTC => {
                let ns = uint(&v) as i64;
                let unix = time::MATROSKA_EPOCH_UNIX_S.saturating_add(ns.div_euclid(1_000_000_000));
                facts.creation_time = time::rfc3339_from_unix(unix);
                facts.push_tag("DateUTC", facts.creation_time.clone().unwrap_or_default());
            }
            TITLE => facts.push_tag("Title", string(&v)),
            MUXING_APP => facts.push_tag("MuxingApp", string(&v)),
            WRITING_APP => facts.push_tag("WritingApp", string(&v)),
            _ => {}
        }
    }
    match duration {
        Some(d) if d.is_finite() && d >= 0.0 => {
            facts.duration_s = Some(d * scale as f64 / 1e9);
        }
        _ => notes.push("info has no duration: written as a live stream".to_string()),
    }
    Ok(())
}

/// Tracks, in TrackEntry order as ffmpeg lists them. Returns each listed track's UID, for tags.
fn read_tracks<R: Read + Seek>(
    src: &Source<R>,
    data: &[u8],
    at: u64,
    facts: &mut ContainerFacts,
    notes: &mut Vec<String>,
) -> Result<Vec<u64>> {
    let w = format!("{} (Tracks at byte {at})", src.name);
    let mut c = Cursor::new(data, at, &w);
    let mut uids = Vec::new();
    while let Some((id, mut entry)) = next_element(&mut c)? {
        if id != TRACK_ENTRY {
            continue;
        }
        let mut e = Entry::default();
        while let Some((id, v)) = next_element(&mut entry)? {
            match id {
                TRACK_NUMBER => e.number = uint(&v),
                TRACK_UID => e.uid = uint(&v),
                TRACK_TYPE => e.kind = uint(&v),
                CODEC_ID => e.codec_id = Some(string(&v)),
                CODEC_PRIVATE => e.private = v.clone().rest().to_vec(),
                CODEC_DELAY => e.codec_delay_ns = Some(uint(&v)),
                LANGUAGE => e.language = Some(string(&v)),
                AUDIO => {
                    let mut a = v.clone();
                    while let Some((id, v)) = next_element(&mut a)? {
                        match id {
                            SAMPLING_FREQUENCY => e.rate = float(&v),
                            OUTPUT_SAMPLING_FREQUENCY => e.output_rate = float(&v),
                            CHANNELS => e.channels = Some(uint(&v)),
                            BIT_DEPTH => e.bits = Some(uint(&v)),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        let kind = match e.kind {
            TRACK_TYPE_VIDEO => TrackKind::Video,
            TRACK_TYPE_AUDIO => TrackKind::Audio,
            TRACK_TYPE_SUBTITLE => TrackKind::Subtitle,
            TRACK_TYPE_METADATA => TrackKind::Data,
            other => {
                notes.push(format!(
                    "track number {} of type {other} is not a stream ffprobe lists",
                    e.number
                ));
                continue;
            }
        };
        let Some(codec_id) = e.codec_id.clone() else {
            notes.push(format!(
                "track number {} has no codec id and is not a stream ffprobe lists",
                e.number
            ));
            continue;
        };
        facts.tracks.push(e.facts(kind, &codec_id));
        uids.push(e.uid);
    }
    Ok(uids)
}

/// A TrackEntry's fields.
#[derive(Default)]
struct Entry {
    number: u64,
    uid: u64,
    kind: u64,
    codec_id: Option<String>,
    private: Vec<u8>,
    codec_delay_ns: Option<u64>,
    language: Option<String>,
    rate: Option<f64>,
    output_rate: Option<f64>,
    channels: Option<u64>,
    bits: Option<u64>,
}

impl Entry {
    fn facts(&self, kind: TrackKind, codec_id: &str) -> TrackFacts {
        let mut t = TrackFacts::new(kind);
        t.track_id = Some(self.number);
        t.codec_tag = Some(codec_id.to_string());
        t.language = self.language.clone();
        if kind == TrackKind::Audio {
            // RFC 9559 §5.1.4.1.28.2: SamplingFrequency defaults to 8000 Hz, Channels to 1.
            let rate = self.output_rate.or(self.rate).unwrap_or(8000.0);
            t.sample_rate = (rate.is_finite() && rate >= 1.0 && rate <= f64::from(u32::MAX))
                .then(|| rate.round() as u32);
            t.channels = u16::try_from(self.channels.unwrap_or(1)).ok();
            t.bits_per_sample = self.bits.and_then(|b| u16::try_from(b).ok());
        }
        t.codec = codec_name(codec_id, self.bits, &self.private).map(str::to_string);
        if codec_id.starts_with("A_AAC")
            && let Some(a) = asc::parse(&self.private)
        {
            t.aac_object_type = Some(a.object_type);
            if self.output_rate.is_none() {
                t.sample_rate = a.sample_rate.or(t.sample_rate);
            }
        }
        if codec_id == "A_OPUS" {
            // Opus always decodes at 48 kHz (RFC 6716 §2).
            t.sample_rate = Some(48_000);
        }
        if let (Some(ns), Some(rate)) = (self.codec_delay_ns, t.sample_rate) {
            // CodecDelay is in nanoseconds (RFC 9559 §5.1.4.1.16).
            t.encoder_delay_samples = Some((ns as f64 * f64::from(rate) / 1e9).round() as u64);
        }
        t
    }
}

/// ffprobe's codec name of a Matroska CodecID (RFC 9559 §5.1.4.1.21; the Matroska codec
/// registry), as ffmpeg's `ff_mkv_codec_tags` maps them.
fn codec_name(id: &str, bits: Option<u64>, private: &[u8]) -> Option<&'static str> {
    Some(match id {
        _ if id.starts_with("A_AAC") => "aac",
        "A_MPEG/L3" => "mp3",
        "A_MPEG/L2" => "mp2",
        "A_MPEG/L1" => "mp1",
        "A_AC3" | "A_AC3/BSID9" | "A_AC3/BSID10" => "ac3",
        "A_EAC3" => "eac3",
        "A_DTS" => "dts",
        "A_TRUEHD" => "truehd",
        "A_OPUS" => "opus",
        "A_VORBIS" => "vorbis",
        "A_FLAC" => "flac",
        "A_ALAC" => "alac",
        "A_TTA1" => "tta",
        "A_WAVPACK4" => "wavpack",
        "A_PCM/INT/LIT" => match bits? {
            8 => "pcm_u8",
            16 => "pcm_s16le",
            24 => "pcm_s24le",
            32 => "pcm_s32le",
            _ => return None,
        },
        "A_PCM/INT/BIG" => match bits? {
            8 => "pcm_u8",
            16 => "pcm_s16be",
            24 => "pcm_s24be",
            32 => "pcm_s32be",
            _ => return None,
        },
        "A_PCM/FLOAT/IEEE" => match bits? {
            32 => "pcm_f32le",
            64 => "pcm_f64le",
            _ => return None,
        },
        "A_MS/ACM" => {
            let what = "";
            return wav::read_fmt(&mut Cursor::new(private, 0, what))
                .ok()
                .and_then(|f| f.codec());
        }
        "V_MPEG4/ISO/AVC" => "h264",
        "V_MPEGH/ISO/HEVC" => "hevc",
        "V_AV1" => "av1",
        "V_VP8" => "vp8",
        "V_VP9" => "vp9",
        "V_MPEG4/ISO/ASP" | "V_MPEG4/ISO/SP" | "V_MPEG4/ISO/AP" => "mpeg4",
        "V_MPEG1" => "mpeg1video",
        "V_MPEG2" => "mpeg2video",
        "V_MJPEG" => "mjpeg",
        "V_THEORA" => "theora",
        "V_PRORES" => "prores",
        "V_FFV1" => "ffv1",
        "V_UNCOMPRESSED" => "rawvideo",
        "S_TEXT/UTF8" => "subrip",
        "S_TEXT/ASS" | "S_ASS" | "S_TEXT/SSA" | "S_SSA" => "ass",
        "S_TEXT/WEBVTT" => "webvtt",
        "S_VOBSUB" => "dvd_subtitle",
        "S_HDMV/PGS" => "hdmv_pgs_subtitle",
        "S_DVBSUB" => "dvb_subtitle",
        _ => return None,
    })
}

/// Tags: global ones become facts tags; a track's `DURATION` and `ENCODER` (as ffmpeg writes
/// them) become its duration and encoder.
fn read_tags<R: Read + Seek>(
    src: &Source<R>,
    data: &[u8],
    at: u64,
    uids: &[u64],
    facts: &mut ContainerFacts,
) -> Result<()> {
    let w = format!("{} (Tags at byte {at})", src.name);
    let mut c = Cursor::new(data, at, &w);
    while let Some((id, mut tag)) = next_element(&mut c)? {
        if id != TAG {
            continue;
        }
        let mut track_uid = None;
        let mut pairs = Vec::new();
        while let Some((id, v)) = next_element(&mut tag)? {
            match id {
                TARGETS => {
                    let mut t = v.clone();
                    while let Some((id, v)) = next_element(&mut t)? {
                        if id == TAG_TRACK_UID {
                            track_uid = Some(uint(&v));
                        }
                    }
                }
                SIMPLE_TAG => simple_tag(v, &mut pairs, 0)?,
                _ => {}
            }
        }
        let track = track_uid
            .filter(|&u| u != 0)
            .and_then(|u| uids.iter().position(|&x| x == u));
        for (name, value) in pairs {
            match track.and_then(|i| facts.tracks.get_mut(i)) {
                Some(t) => match name.to_ascii_uppercase().as_str() {
                    "DURATION" => t.duration_s = parse_duration(&value),
                    "ENCODER" => t.encoder = Some(value),
                    _ => {}
                },
                None => facts.push_tag(name, value),
            }
        }
    }
    Ok(())
}

fn simple_tag(mut c: Cursor<'_>, out: &mut Vec<(String, String)>, depth: u32) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(c.error("simple tags nested too deep"));
    }
    let (mut name, mut value) = (None, None);
    while let Some((id, v)) = next_element(&mut c)? {
        match id {
            TAG_NAME => name = Some(string(&v)),
            TAG_STRING => value = Some(string(&v)),
            SIMPLE_TAG => simple_tag(v, out, depth + 1)?,
            _ => {}
        }
    }
    if let (Some(n), Some(v)) = (name, value) {
        out.push((n, v));
    }
    Ok(())
}

/// Parses ffmpeg's `HH:MM:SS.nnnnnnnnn` duration tag.
fn parse_duration(s: &str) -> Option<f64> {
    let mut parts = s.trim().split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let sec: f64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(h >= 0.0 && m >= 0.0 && sec >= 0.0) {
        return None;
    }
    Some(h * 3600.0 + m * 60.0 + sec)
}

/// Attachments, walked by header so that file data is never read. ffmpeg lists each as a
/// stream after the tracks: images as attached pictures, the rest as attachments (here Data).
fn read_attachments<R: Read + Seek>(
    src: &mut Source<R>,
    h: &Header,
    seg_end: u64,
    facts: &mut ContainerFacts,
) -> Result<()> {
    let end = h.data.saturating_add(h.size.unwrap_or(0)).min(seg_end);
    let mut pos = h.data;
    let mut count = 0;
    while end.saturating_sub(pos) >= 2 && count < MAX_ATTACHMENTS {
        let file = read_header(src, pos)?;
        let file_end = file.data.saturating_add(file.size.unwrap_or(0)).min(end);
        if file.id == ATTACHED_FILE {
            count += 1;
            let mut mime = String::new();
            let mut p = file.data;
            while file_end.saturating_sub(p) >= 2 {
                let child = read_header(src, p)?;
                let size = child.size.unwrap_or(0);
                if child.id == FILE_MIME_TYPE && size <= 256 {
                    mime =
                        super::source::text(&src.read_vec(child.data, size, 256, "mime type")?);
                }
                if child.id == FILE_DATA && mime.is_empty() {
                    // The MIME type normally comes first; nothing to learn from the data.
                }
                p = child.data.saturating_add(size);
            }
            facts.tracks.push(if mime.starts_with("image/") {
                TrackFacts::picture(picture_codec(&mime, &[]))
            } else {
                let mut t = TrackFacts::new(TrackKind::Data);
                t.codec = match mime.as_str() {
                    "application/x-truetype-font" | "font/ttf" | "application/x-font-ttf" => {
                        Some("ttf".to_string())
                    }
                    "application/vnd.ms-opentype" | "font/otf" => Some("otf".to_string()),
                    _ => None,
                };
                t
            });
        }
        let Some(size) = file.size else { break };
        pos = file.data.saturating_add(size);
    }
    Ok(())
}

/// Names of Segment children for the layout.
fn element_name(id: u32) -> String {
    match id {
        SEEK_HEAD => "SeekHead".into(),
        INFO => "Info".into(),
        TRACKS => "Tracks".into(),
        CLUSTER => "Cluster".into(),
        TAGS => "Tags".into(),
        ATTACHMENTS => "Attachments".into(),
        0x1c53_bb6b => "Cues".into(),
        0x1043_a770 => "Chapters".into(),
        0xec => "Void".into(),
        0xbf => "CRC-32".into(),
        other => format!("0x{other:x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::read_facts;

    /// An element with a one-to-eight-byte size, as EBML writes them.
    fn el(id: u32, body: &[u8]) -> Vec<u8> {
        let mut out: Vec<u8> = id
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|&b| b == 0)
            .collect();
        let len = body.len() as u64;
        out.push(0x01);
        out.extend(&len.to_be_bytes()[1..]);
        out.extend(body);
        out
    }

    fn uint_el(id: u32, v: u64) -> Vec<u8> {
        el(id, &v.to_be_bytes())
    }

    fn file(doc_type: &str, segment: &[Vec<u8>]) -> Vec<u8> {
        [
            el(EBML, &el(DOC_TYPE, doc_type.as_bytes())),
            el(SEGMENT, &segment.concat()),
        ]
        .concat()
    }

    fn opus_track(number: u64, uid: u64) -> Vec<u8> {
        el(
            TRACK_ENTRY,
            &[
                uint_el(TRACK_NUMBER, number),
                uint_el(TRACK_UID, uid),
                uint_el(TRACK_TYPE, 2),
                el(CODEC_ID, b"A_OPUS"),
                uint_el(CODEC_DELAY, 6_500_000),
                el(
                    AUDIO,
                    &[
                        el(SAMPLING_FREQUENCY, &48_000f64.to_be_bytes()),
                        uint_el(CHANNELS, 2),
                    ]
                    .concat(),
                ),
            ]
            .concat(),
        )
    }

    fn info() -> Vec<u8> {
        el(
            INFO,
            &[
                uint_el(TIMESTAMP_SCALE, 1_000_000),
                el(DURATION, &1008f64.to_be_bytes()),
                el(MUXING_APP, b"Lavf59.27.100"),
                el(WRITING_APP, b"Lavf59.27.100"),
                el(DATE_UTC, &653_220_131_000_000_000i64.to_be_bytes()),
            ]
            .concat(),
        )
    }

    #[test]
    fn vint_reads_ids_sizes_and_unknown() {
        assert_eq!(
            vint(&[0x1a, 0x45, 0xdf, 0xa3], true),
            Some((0x1a45_dfa3, 4, false))
        );
        assert_eq!(vint(&[0x81], false), Some((1, 1, false)));
        assert_eq!(vint(&[0x40, 0x02], false), Some((2, 2, false)));
        assert_eq!(vint(&[0xff], false), Some((0x7f, 1, true)));
        assert!(
            vint(&[0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], false)
                .unwrap()
                .2
        );
        assert_eq!(vint(&[0x00], false), None);
        assert_eq!(vint(&[0x40], false), None);
    }

    #[test]
    fn webm_opus_reads_info_tracks_and_tags() {
        let tags = el(
            TAGS,
            &el(
                TAG,
                &[
                    el(TARGETS, &uint_el(TAG_TRACK_UID, 77)),
                    el(
                        SIMPLE_TAG,
                        &[
                            el(TAG_NAME, b"DURATION"),
                            el(TAG_STRING, b"00:00:01.008000000"),
                        ]
                        .concat(),
                    ),
                ]
                .concat(),
            ),
        );
        let bytes = file(
            "webm",
            &[
                info(),
                el(TRACKS, &opus_track(1, 77)),
                tags,
                el(CLUSTER, &[0; 4]),
            ],
        );
        let f = read_facts(std::io::Cursor::new(bytes), "a.webm").unwrap();
        assert_eq!(f.format, "webm");
        assert_eq!(f.encoder.as_deref(), Some("Lavf59.27.100"));
        assert_eq!(f.creation_time.as_deref(), Some("2021-09-13T10:02:11Z"));
        assert_eq!(f.duration_s, Some(1.008));
        assert_eq!(f.layout, ["Info", "Tracks", "Tags", "Cluster"]);
        let t = &f.tracks[0];
        assert_eq!(t.codec.as_deref(), Some("opus"));
        assert_eq!((t.sample_rate, t.channels), (Some(48_000), Some(2)));
        assert_eq!(t.encoder_delay_samples, Some(312));
        assert_eq!(t.duration_s, Some(1.008));
        assert!(f.notes.is_empty(), "{:?}", f.notes);
    }

    #[test]
    fn matroska_unknown_track_type_is_skipped_and_noted() {
        let odd = el(
            TRACK_ENTRY,
            &[
                uint_el(TRACK_NUMBER, 1),
                uint_el(TRACK_TYPE, 0x12),
                el(CODEC_ID, b"B_X"),
            ]
            .concat(),
        );
        let bytes = file(
            "matroska",
            &[info(), el(TRACKS, &[odd, opus_track(2, 5)].concat())],
        );
        let f = read_facts(std::io::Cursor::new(bytes), "a.mkv").unwrap();
        assert_eq!(f.tracks.len(), 1);
        assert_eq!(f.tracks[0].track_id, Some(2));
        assert!(
            f.notes.iter().any(|n| n.contains("of type 18")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn matroska_other_doc_type_is_unsupported() {
        let err = read_facts(std::io::Cursor::new(file("mka-like", &[])), "a.mkv").unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    }

    #[test]
    fn matroska_element_past_parent_is_malformed() {
        let mut bytes = file("matroska", &[info(), el(TRACKS, &opus_track(1, 1))]);
        let at = bytes.windows(2).position(|w| w == [0x86, 0x01]).unwrap();
        bytes[at + 8] = 0x7f; // CodecID size → 127
        let err = read_facts(std::io::Cursor::new(bytes), "a.mkv").unwrap_err();
        assert!(
            err.to_string().contains("past the end of its parent"),
            "{err}"
        );
    }

    #[test]
    fn matroska_truncated_at_every_length_never_panics() {
        let bytes = file(
            "webm",
            &[info(), el(TRACKS, &opus_track(1, 77)), el(CLUSTER, &[0; 4])],
        );
        for n in 0..bytes.len() {
            let _ = read_facts(std::io::Cursor::new(bytes[..n].to_vec()), "a.webm");
        }
    }

    #[test]
    fn parse_duration_reads_ffmpeg_tag() {
        assert_eq!(parse_duration("00:00:01.128000000"), Some(1.128));
        assert_eq!(parse_duration("01:02:03.5"), Some(3723.5));
        assert_eq!(parse_duration("1.5"), None);
        assert_eq!(parse_duration("-1:00:00"), None);
    }
}
