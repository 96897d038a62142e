//! ISO BMFF (MP4, M4A, 3GP) and QuickTime (MOV): a bounds-checked walk of the box tree.
//!
//! The walk follows the tree of ISO/IEC 14496-12 (§4.2 box structure, §8 box definitions) and
//! the QuickTime File Format specification, one file per box family in `mp4/`. It reads box
//! headers and seeks over bodies it does not need — above all `mdat`, so a 3-hour file costs a
//! few hundred small reads. Every box size is checked against its parent (or, at the top level,
//! against the file), every leaf box read into memory is checked against [`MAX_BOX_BYTES`], every
//! count against the bytes of its box, and nesting against [`MAX_BOX_DEPTH`].
//!
//! Besides the facts, the walk records what the notes need: top-level box order, padding, boxes
//! it does not know or finds in unexpected places, and a truncated last box.
#![forbid(unsafe_code)]

mod elst;
mod esds;
mod facts;
mod ftyp;
mod hdlr;
mod mdhd;
mod meta;
mod mvhd;
mod notes;
mod sgpd;
mod stsd;
mod stts;
mod tkhd;

use std::io::{Read, Seek};

use super::source::{Cursor, Source, fourcc_str};
use super::{ContainerFacts, Edit, MAX_PICTURES, MAX_TAGS, Tag, xmp};
use crate::error::{Error, Result};

/// Deepest box nesting followed. The deepest path in the specifications is about nine boxes
/// (`moov/trak/mdia/minf/stbl/stsd/mp4a/wave/esds`); anything far deeper is hostile.
pub(crate) const MAX_BOX_DEPTH: u32 = 16;

/// Most boxes visited in one file. A fragmented 3-hour recording with 0.1 s fragments has about
/// 220 000 top-level boxes; past a million the file is hostile or broken.
pub(crate) const MAX_BOXES: u64 = 1_000_000;

/// Most tracks accepted (ffmpeg has no limit; real files have a handful).
pub(crate) const MAX_TRACKS: usize = 1024;

/// Largest leaf box read into memory whole (`ftyp`, `mvhd`, `elst`, `stsd`, `keys`, …). An edit
/// list this size holds 87 000 edits; real ones hold a few.
pub(crate) const MAX_BOX_BYTES: u64 = 1 << 20;

/// Bytes of a metadata value read (`data` in `ilst`, QuickTime `©xxx`); longer values are cut.
const MAX_TAG_VALUE_BYTES: u64 = 64 << 10;

/// `data` boxes read per `ilst` item (one is normal; `covr` may hold a few pictures).
const MAX_ITEM_VALUES: usize = 16;

/// Bytes of an XMP packet searched for the creator tool.
const MAX_XMP_BYTES: u64 = 1 << 20;

/// Boxes listed individually in a note (padding, unknown boxes); the rest are counted.
const MAX_LISTED: usize = 8;

/// The UUID of an XMP packet box (Adobe XMP Specification Part 3, §1.1.4 "MPEG-4").
const XMP_UUID: [u8; 16] = [
    0xbe, 0x7a, 0xcf, 0xcb, 0x97, 0xa9, 0x42, 0xe8, 0x9c, 0x71, 0x99, 0x94, 0x91, 0xe3, 0xaf, 0xac,
];

/// Box types that may start a file, for format detection (ISO/IEC 14496-12 §4.3 wants `ftyp`
/// first, but QuickTime files may start with any top-level atom).
const FIRST_BOX_TYPES: [&[u8; 4]; 9] = [
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"styp", b"PICT",
];

/// True when `head` starts with a plausible top-level box header of a known type.
pub(super) fn looks_like_box(head: &[u8]) -> bool {
    let (Some(size), Some(kind)) = (head.get(0..4), head.get(4..8)) else {
        return false;
    };
    let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]);
    (size == 0 || size == 1 || size >= 8) && FIRST_BOX_TYPES.iter().any(|t| &t[..] == kind)
}

/// A box header: where the box starts, where its body starts and where it ends.
#[derive(Debug, Clone, Copy)]
struct Header {
    kind: [u8; 4],
    start: u64,
    body: u64,
    end: u64,
    uuid: Option<[u8; 16]>,
}

impl Header {
    fn name(&self) -> String {
        fourcc_str(&self.kind)
    }
    fn body_len(&self) -> u64 {
        self.end - self.body
    }
}

/// The next child box inside a slice (sample entry children, `wave`), or `None` when fewer than
/// eight bytes are left (QuickTime ends some lists with a 32-bit zero).
///
/// # Errors
/// [`Error::Malformed`] when the size is smaller than the header or runs past the slice.
pub(super) fn next_child<'a>(c: &mut Cursor<'a>) -> Result<Option<([u8; 4], Cursor<'a>)>> {
    if c.remaining() < 8 {
        c.rest();
        return Ok(None);
    }
    let start = c.file_pos();
    let size = c.u32_be()?;
    let kind = c.fourcc()?;
    let (size, header) = match size {
        0 => (c.remaining() as u64 + 8, 8),
        1 => (c.u64_be()?, 16),
        s => (u64::from(s), 8),
    };
    if size < header {
        return Err(c.error(format!(
            "box '{}' at byte {start} has size {size}, smaller than its header",
            fourcc_str(&kind)
        )));
    }
    let body_len = size - header;
    if body_len > c.remaining() as u64 {
        return Err(c.error(format!(
            "box '{}' at byte {start} has size {size}, past the end of its parent",
            fourcc_str(&kind)
        )));
    }
    let base = c.file_pos();
    let body = c.take(body_len as usize)?;
    Ok(Some((kind, c.sub(body, base))))
}

/// Where the walk is in the tree; decides how a child box is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Top,
    Moov,
    Trak,
    Edts,
    Mdia,
    Minf,
    Stbl,
    Mvex,
    Udta(Owner),
    Meta(Owner),
    Ilst(Owner),
    /// A container in a place the specifications do not put it: walked only for depth and
    /// padding, its contents not used.
    Other,
}

/// Whose metadata a `udta`/`meta` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Movie,
    Track,
}

impl Ctx {
    fn name(self) -> &'static str {
        match self {
            Ctx::Top => "the file",
            Ctx::Moov => "moov",
            Ctx::Trak => "trak",
            Ctx::Edts => "edts",
            Ctx::Mdia => "mdia",
            Ctx::Minf => "minf",
            Ctx::Stbl => "stbl",
            Ctx::Mvex => "mvex",
            Ctx::Udta(_) => "udta",
            Ctx::Meta(_) => "meta",
            Ctx::Ilst(_) => "ilst",
            Ctx::Other => "an unexpected box",
        }
    }
}

/// Container types walked when found in an unexpected place.
const CONTAINER_TYPES: [&[u8; 4]; 12] = [
    b"moov", b"trak", b"edts", b"mdia", b"minf", b"stbl", b"mvex", b"udta", b"dinf", b"moof",
    b"traf", b"mfra",
];

/// A stream as ffprobe would list it: a track, or a cover picture from `covr`.
#[derive(Debug)]
enum Stream {
    Track(Box<TrackRaw>),
    Picture(Option<&'static str>),
}

/// What the walk found in one `trak`.
#[derive(Debug, Default)]
struct TrackRaw {
    tkhd: Option<tkhd::Tkhd>,
    mdhd: Option<mdhd::Mdhd>,
    hdlr: Option<hdlr::Hdlr>,
    edits: Option<Vec<Edit>>,
    stsd: Option<Header>,
    entry: Option<stsd::SampleEntry>,
    roll: Option<sgpd::RollGroup>,
    roll_mapped: Option<u64>,
    first_delta: Option<u32>,
    first_ctts: Option<i64>,
    tags: Vec<Tag>,
}

/// A box listed in a note: its type, where it was, its size.
#[derive(Debug, Clone)]
struct Seen {
    kind: String,
    parent: &'static str,
    start: u64,
    size: u64,
}

/// What the walk gathers before it is turned into facts and notes.
#[derive(Debug, Default)]
struct Raw {
    ftyp: Option<ftyp::Ftyp>,
    mvhd: Option<mvhd::Mvhd>,
    mehd_duration: Option<u64>,
    streams: Vec<Stream>,
    tags: Vec<Tag>,
    layout: Vec<String>,
    moov_at: Option<u64>,
    mdat_at: Vec<u64>,
    moof_count: u64,
    padding: Vec<Seen>,
    padding_count: usize,
    unknown: Vec<Seen>,
    unknown_count: usize,
    misplaced: Vec<Seen>,
    uuids: Vec<(String, u64)>,
    /// (box type, start, claimed size, bytes actually left in the file)
    truncated: Option<(String, u64, u64, u64)>,
    trailing_bytes: Option<(u64, u64)>,
    xmp: Option<xmp::Xmp>,
    /// Priming and padding from iTunes `iTunSMPB`.
    itunes_smpb: Option<(u64, u64)>,
    compressed_moov: bool,
    /// Cover pictures listed so far.
    pictures: usize,
}

/// The walk: the source, a box counter and what has been found.
struct Walker<'s, R> {
    src: &'s mut Source<R>,
    boxes: u64,
    raw: Raw,
    /// The `keys` of the `meta` being walked (QuickTime metadata, keyed by 1-based index).
    keys: Vec<String>,
}

/// Reads the facts of an ISO BMFF / QuickTime file.
pub(super) fn read<R: Read + Seek>(src: &mut Source<R>) -> Result<ContainerFacts> {
    let len = src.len;
    let mut w = Walker {
        src,
        boxes: 0,
        raw: Raw::default(),
        keys: Vec::new(),
    };
    w.walk(Ctx::Top, 0, len, 0)?;
    let raw = w.raw;
    if raw.compressed_moov {
        return Err(Error::unsupported(format!(
            "{}: compressed movie header (cmov) in mov",
            src.name
        )));
    }
    let image_brand = raw.ftyp.as_ref().is_some_and(|f| {
        std::iter::once(&f.major).chain(&f.compatible).any(|b| {
            matches!(
                b.as_str(),
                "mif1" | "msf1" | "heic" | "heix" | "avif" | "avis"
            )
        })
    });
    if raw.moov_at.is_none() && image_brand {
        return Err(Error::unsupported(format!(
            "{}: not a supported media container (looks like a HEIF/AVIF image)",
            src.name
        )));
    }
    if raw.moov_at.is_none() {
        return Err(src.malformed(if raw.moof_count > 0 {
            "no moov box (a fragment of a fragmented file without its header)"
        } else {
            "no moov box: the file holds no track information (truncated before the end, or not an mp4)"
        }));
    }
    Ok(facts::finish(raw))
}

impl<R: Read + Seek> Walker<'_, R> {
    fn what(&self, kind: &str, at: u64) -> String {
        format!("{} ({kind} at byte {at})", self.src.name)
    }

    /// Reads the box header at `pos`, inside a parent ending at `end`. `None` when fewer than
    /// eight bytes are left.
    fn header(&mut self, pos: u64, end: u64, top: bool) -> Result<Option<Header>> {
        let left = end - pos;
        if left < 8 {
            if top {
                self.raw.trailing_bytes = Some((pos, left));
            }
            return Ok(None);
        }
        let mut buf = [0u8; 8];
        self.src.read_exact_at(pos, &mut buf)?;
        let size32 = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let kind = [buf[4], buf[5], buf[6], buf[7]];
        let name = fourcc_str(&kind);
        let (size, mut body) = match size32 {
            // §4.2: size 0 means "to the end of the file"; QuickTime and real files use it for
            // a last `mdat`, and inside a parent we read it as "to the end of the parent".
            0 => (left, pos + 8),
            1 => {
                if left < 16 {
                    return Err(Error::malformed(
                        self.what(&name, pos),
                        format!("64-bit size needs 16 header bytes, {left} left"),
                    ));
                }
                let mut large = [0u8; 8];
                self.src.read_exact_at(pos + 8, &mut large)?;
                (u64::from_be_bytes(large), pos + 16)
            }
            s => (u64::from(s), pos + 8),
        };
        if size < body - pos {
            return Err(Error::malformed(
                self.what(&name, pos),
                format!("box size {size} is smaller than its header"),
            ));
        }
        let mut box_end = pos.saturating_add(size);
        if box_end > end {
            if top {
                // The last box of a truncated recording: keep what is there and say so.
                self.raw.truncated = Some((name.clone(), pos, size, left));
                box_end = end;
            } else {
                return Err(Error::malformed(
                    self.what(&name, pos),
                    format!(
                        "box size {size} runs past the end of its parent (by {} bytes)",
                        box_end - end
                    ),
                ));
            }
        }
        let mut uuid = None;
        if &kind == b"uuid" {
            if box_end - body < 16 {
                return Err(Error::malformed(
                    self.what(&name, pos),
                    "uuid box too small for its 16-byte extended type",
                ));
            }
            let mut u = [0u8; 16];
            self.src.read_exact_at(body, &mut u)?;
            uuid = Some(u);
            body += 16;
        }
        Ok(Some(Header {
            kind,
            start: pos,
            body,
            end: box_end,
            uuid,
        }))
    }

    /// Reads a whole leaf box body (at most [`MAX_BOX_BYTES`]).
    fn body(&mut self, h: &Header) -> Result<Vec<u8>> {
        let what = format!("{} box at byte {} size", h.name(), h.start);
        self.src
            .read_vec(h.body, h.body_len(), MAX_BOX_BYTES, &what)
    }

    /// Reads at most `max` bytes of a box body.
    fn body_prefix(&mut self, h: &Header, max: u64) -> Result<Vec<u8>> {
        self.src
            .read_vec(h.body, h.body_len().min(max), max, "box prefix")
    }

    /// Parses a leaf box with `parse`, errors naming the file, box and offset.
    fn leaf<T>(
        &mut self,
        h: &Header,
        parse: impl FnOnce(&mut Cursor<'_>) -> Result<T>,
    ) -> Result<T> {
        let data = self.body(h)?;
        let what = self.what(&h.name(), h.start);
        parse(&mut Cursor::new(&data, h.body, &what))
    }

    /// Like [`Self::leaf`] on at most `max` bytes of the body.
    fn leaf_prefix<T>(
        &mut self,
        h: &Header,
        max: u64,
        parse: impl FnOnce(&mut Cursor<'_>) -> Result<T>,
    ) -> Result<T> {
        let data = self.body_prefix(h, max)?;
        let what = self.what(&h.name(), h.start);
        parse(&mut Cursor::new(&data, h.body, &what))
    }

    /// Walks the children of a box (or of the file) between `start` and `end`.
    fn walk(&mut self, ctx: Ctx, start: u64, end: u64, depth: u32) -> Result<()> {
        if depth > MAX_BOX_DEPTH {
            return Err(Error::limit(
                format!("{} (box at byte {start}): box nesting depth", self.src.name),
                u64::from(MAX_BOX_DEPTH),
                u64::from(depth),
            ));
        }
        let mut pos = start;
        while pos < end {
            let Some(h) = self.header(pos, end, ctx == Ctx::Top)? else {
                break;
            };
            self.count_box()?;
            self.visit(ctx, &h, depth)?;
            pos = h.end;
        }
        Ok(())
    }

    /// Counts a visited box against [`MAX_BOXES`].
    fn count_box(&mut self) -> Result<()> {
        self.boxes += 1;
        if self.boxes > MAX_BOXES {
            return Err(Error::limit(
                format!("{}: number of boxes", self.src.name),
                MAX_BOXES,
                self.boxes,
            ));
        }
        Ok(())
    }

    fn track(&mut self) -> Option<&mut TrackRaw> {
        self.raw.streams.iter_mut().rev().find_map(|s| match s {
            Stream::Track(t) => Some(t.as_mut()),
            Stream::Picture(_) => None,
        })
    }

    fn seen(&self, ctx: Ctx, h: &Header) -> Seen {
        Seen {
            kind: h.name(),
            parent: ctx.name(),
            start: h.start,
            size: h.end - h.start,
        }
    }

    fn padding(&mut self, ctx: Ctx, h: &Header) {
        self.raw.padding_count += 1;
        if self.raw.padding.len() < MAX_LISTED {
            let s = self.seen(ctx, h);
            self.raw.padding.push(s);
        }
    }

    fn unknown(&mut self, ctx: Ctx, h: &Header) {
        self.raw.unknown_count += 1;
        if self.raw.unknown.len() < MAX_LISTED {
            let s = self.seen(ctx, h);
            self.raw.unknown.push(s);
        }
    }

    /// Handles one box according to where it is.
    fn visit(&mut self, ctx: Ctx, h: &Header, depth: u32) -> Result<()> {
        let k = &h.kind;
        // Padding and uuid boxes may sit anywhere.
        if matches!(k, b"free" | b"skip" | b"wide") {
            if ctx == Ctx::Top {
                self.push_layout(h.name());
            }
            self.padding(ctx, h);
            return Ok(());
        }
        if k == b"uuid" {
            return self.visit_uuid(ctx, h);
        }
        match ctx {
            Ctx::Top => {
                self.push_layout(h.name());
                match k {
                    b"ftyp" => {
                        if self.raw.ftyp.is_none() {
                            self.raw.ftyp = Some(self.leaf(h, ftyp::read)?);
                        }
                    }
                    b"moov" => {
                        if self.raw.moov_at.is_some() {
                            self.raw.misplaced.push(self.seen(ctx, h));
                            return Ok(());
                        }
                        self.raw.moov_at = Some(h.start);
                        self.walk(Ctx::Moov, h.body, h.end, depth + 1)?;
                    }
                    b"mdat" => self.raw.mdat_at.push(h.start),
                    b"moof" => self.raw.moof_count += 1,
                    b"mfra" | b"sidx" | b"ssix" | b"styp" | b"emsg" | b"prft" | b"meta"
                    | b"pnot" | b"PICT" | b"junk" | b"meco" | b"pdin" => {}
                    _ => self.unknown(ctx, h),
                }
            }
            Ctx::Moov => match k {
                b"mvhd" => self.raw.mvhd = Some(self.leaf(h, mvhd::read)?),
                b"trak" => {
                    let tracks = self.raw.streams.len();
                    if tracks >= MAX_TRACKS {
                        return Err(Error::limit(
                            format!("{}: number of tracks", self.src.name),
                            MAX_TRACKS as u64,
                            tracks as u64 + 1,
                        ));
                    }
                    self.raw.streams.push(Stream::Track(Box::default()));
                    self.walk(Ctx::Trak, h.body, h.end, depth + 1)?;
                    self.finish_trak()?;
                }
                b"udta" => self.walk(Ctx::Udta(Owner::Movie), h.body, h.end, depth + 1)?,
                b"meta" => self.visit_meta(Owner::Movie, h, depth)?,
                b"mvex" => self.walk(Ctx::Mvex, h.body, h.end, depth + 1)?,
                b"cmov" => self.raw.compressed_moov = true,
                b"iods" | b"prfl" | b"clip" | b"ctab" | b"htka" | b"pssh" => {}
                _ => self.other(ctx, h, depth)?,
            },
            Ctx::Trak => match k {
                b"tkhd" => {
                    let v = self.leaf(h, tkhd::read)?;
                    if let Some(t) = self.track() {
                        t.tkhd = Some(v);
                    }
                }
                b"edts" => self.walk(Ctx::Edts, h.body, h.end, depth + 1)?,
                b"mdia" => self.walk(Ctx::Mdia, h.body, h.end, depth + 1)?,
                b"udta" => self.walk(Ctx::Udta(Owner::Track), h.body, h.end, depth + 1)?,
                b"meta" => self.visit_meta(Owner::Track, h, depth)?,
                b"tref" | b"tapt" | b"load" | b"imap" | b"matt" | b"kmat" | b"clip" | b"txas"
                | b"ssrc" | b"trgr" | b"sgpd" => {}
                _ => self.other(ctx, h, depth)?,
            },
            Ctx::Edts => match k {
                b"elst" => {
                    let v = self.leaf(h, elst::read)?;
                    if let Some(t) = self.track() {
                        // A second elst in one track is not defined; keep the first.
                        t.edits.get_or_insert(v);
                    }
                }
                _ => self.other(ctx, h, depth)?,
            },
            Ctx::Mdia => match k {
                b"mdhd" => {
                    let v = self.leaf(h, mdhd::read)?;
                    if let Some(t) = self.track() {
                        t.mdhd = Some(v);
                    }
                }
                b"hdlr" => {
                    let v = self.leaf(h, hdlr::read)?;
                    if let Some(t) = self.track() {
                        t.hdlr.get_or_insert(v);
                    }
                }
                b"minf" => self.walk(Ctx::Minf, h.body, h.end, depth + 1)?,
                b"elng" => {}
                _ => self.other(ctx, h, depth)?,
            },
            Ctx::Minf => match k {
                b"stbl" => self.walk(Ctx::Stbl, h.body, h.end, depth + 1)?,
                b"smhd" | b"vmhd" | b"nmhd" | b"sthd" | b"hmhd" | b"gmhd" | b"dinf" | b"hdlr" => {}
                _ => self.other(ctx, h, depth)?,
            },
            Ctx::Stbl => self.visit_stbl(ctx, h, depth)?,
            Ctx::Mvex => match k {
                b"mehd" => {
                    let d = self.leaf(h, |c| {
                        let version = c.u8()?;
                        c.skip(3)?;
                        if version == 1 {
                            c.u64_be()
                        } else {
                            c.u32_be().map(u64::from)
                        }
                    })?;
                    self.raw.mehd_duration = Some(d);
                }
                b"trex" | b"leva" | b"trep" => {}
                _ => self.other(ctx, h, depth)?,
            },
            Ctx::Udta(owner) => self.visit_udta(owner, h, depth)?,
            Ctx::Meta(owner) => match k {
                b"keys" => self.keys = self.leaf(h, meta::read_keys)?,
                b"ilst" => self.walk(Ctx::Ilst(owner), h.body, h.end, depth + 1)?,
                b"xml " => {
                    let data = self.body_prefix(h, MAX_XMP_BYTES)?;
                    if let Some(x) = xmp::xmp(&data) {
                        self.raw.xmp.get_or_insert(x);
                    }
                }
                b"hdlr" | b"iinf" | b"iloc" | b"pitm" | b"iprp" | b"idat" | b"iref" | b"dinf"
                | b"bxml" | b"grpl" | b"ipro" => {}
                _ => self.other(ctx, h, depth)?,
            },
            Ctx::Ilst(owner) => self.visit_item(owner, h, depth)?,
            Ctx::Other => {
                if CONTAINER_TYPES.contains(&k) {
                    self.walk(Ctx::Other, h.body, h.end, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    /// A box the context does not define: a known container in the wrong place is walked (for
    /// depth and padding) and noted; anything else is noted as unknown.
    fn other(&mut self, ctx: Ctx, h: &Header, depth: u32) -> Result<()> {
        if CONTAINER_TYPES.iter().any(|t| **t == h.kind) {
            if self.raw.misplaced.len() < MAX_LISTED {
                let s = self.seen(ctx, h);
                self.raw.misplaced.push(s);
            }
            self.walk(Ctx::Other, h.body, h.end, depth + 1)
        } else {
            self.unknown(ctx, h);
            Ok(())
        }
    }

    fn push_layout(&mut self, entry: String) {
        if self.raw.layout.len() <= super::MAX_LAYOUT_ENTRIES {
            self.raw.layout.push(entry);
        }
    }

    fn visit_uuid(&mut self, ctx: Ctx, h: &Header) -> Result<()> {
        let uuid = h.uuid.unwrap_or_default();
        let hex: String = uuid.iter().map(|b| format!("{b:02x}")).collect();
        if ctx == Ctx::Top {
            self.push_layout(format!("uuid:{hex}"));
        }
        if uuid == XMP_UUID {
            let data = self.body_prefix(h, MAX_XMP_BYTES)?;
            if let Some(x) = xmp::xmp(&data) {
                self.raw.xmp.get_or_insert(x);
            }
        } else if self.raw.uuids.len() < MAX_LISTED {
            self.raw.uuids.push((hex, h.start));
        }
        Ok(())
    }

    fn visit_stbl(&mut self, ctx: Ctx, h: &Header, depth: u32) -> Result<()> {
        match &h.kind {
            b"stsd" => {
                if let Some(t) = self.track() {
                    t.stsd.get_or_insert(*h);
                }
            }
            b"stts" => {
                let v = self.leaf_prefix(h, stts::FIRST_ENTRY_BYTES, stts::first_delta)?;
                if let Some(t) = self.track() {
                    t.first_delta = v;
                }
            }
            b"ctts" => {
                let v = self.leaf_prefix(h, stts::FIRST_ENTRY_BYTES, stts::first_offset)?;
                if let Some(t) = self.track() {
                    t.first_ctts = v;
                }
            }
            b"sgpd" => {
                let v = self.leaf(h, sgpd::read_sgpd)?;
                if let (Some(v), Some(t)) = (v, self.track()) {
                    t.roll.get_or_insert(v);
                }
            }
            b"sbgp" => {
                // One entry per run of samples: small for the roll groups writers use, but a
                // per-sample map of a long file can exceed what we read whole; skip it then.
                if h.body_len() <= MAX_BOX_BYTES {
                    let v = self.leaf(h, sgpd::read_sbgp)?;
                    if let (Some((_, mapped)), Some(t)) = (v, self.track()) {
                        t.roll_mapped.get_or_insert(mapped);
                    }
                }
            }
            b"stsz" | b"stz2" | b"stsc" | b"stco" | b"co64" | b"stss" | b"stps" | b"sdtp"
            | b"cslg" | b"subs" | b"saiz" | b"saio" | b"padb" | b"stsh" | b"stdp" | b"senc" => {}
            _ => self.other(ctx, h, depth)?,
        }
        Ok(())
    }

    /// Parses the recorded `stsd` once the whole `trak` (and so its handler) is known.
    fn finish_trak(&mut self) -> Result<()> {
        let Some(t) = self.track() else {
            return Ok(());
        };
        let Some(h) = t.stsd else {
            return Ok(());
        };
        let kind = match t.hdlr.as_ref().map(|h| &h.handler_type) {
            Some(b"soun") => stsd::EntryKind::Audio,
            Some(b"vide") => stsd::EntryKind::Visual,
            _ => stsd::EntryKind::Other,
        };
        let entry = self.leaf(&h, |c| stsd::read(c, kind))?;
        if let Some(t) = self.track() {
            t.entry = entry;
        }
        Ok(())
    }

    /// `meta`: a full box in ISO files (version and flags before the children), a plain atom in
    /// QuickTime files (QTFF "Metadata Atoms"), told apart by where the `hdlr` child starts.
    fn visit_meta(&mut self, owner: Owner, h: &Header, depth: u32) -> Result<()> {
        let mut peek = [0u8; 8];
        let start = if h.body_len() >= 8 {
            self.src.read_exact_at(h.body, &mut peek)?;
            if &peek[4..8] == b"hdlr" || peek[0..4] != [0; 4] {
                h.body
            } else {
                h.body + 4
            }
        } else {
            h.end
        };
        self.keys.clear();
        self.walk(Ctx::Meta(owner), start, h.end, depth + 1)
    }

    fn push_tag(&mut self, owner: Owner, key: String, value: String) {
        let tag = Tag { key, value };
        match owner {
            Owner::Movie if self.raw.tags.len() < MAX_TAGS => self.raw.tags.push(tag),
            Owner::Track => {
                if let Some(t) = self.track()
                    && t.tags.len() < MAX_TAGS
                {
                    t.tags.push(tag);
                }
            }
            Owner::Movie => {}
        }
    }

    /// `udta` children: QuickTime `©xxx` text atoms, `meta`, XMP, 3GPP and maker boxes.
    fn visit_udta(&mut self, owner: Owner, h: &Header, depth: u32) -> Result<()> {
        match &h.kind {
            b"meta" => self.visit_meta(owner, h, depth)?,
            b"XMP_" => {
                let data = self.body_prefix(h, MAX_XMP_BYTES)?;
                if let Some(x) = xmp::xmp(&data) {
                    self.raw.xmp.get_or_insert(x);
                }
            }
            [0xa9, ..] | b"name" => {
                let data = self.body_prefix(h, MAX_TAG_VALUE_BYTES)?;
                if let Some(v) = meta::udta_text(&data) {
                    self.push_tag(owner, h.name(), v);
                }
            }
            // 3GPP TS 26.244 §8 user data, hint and chapter boxes: known, not used.
            b"cprt" | b"titl" | b"dscp" | b"perf" | b"auth" | b"gnre" | b"rtng" | b"clsf"
            | b"kywd" | b"loci" | b"albm" | b"yrrc" | b"tsel" | b"strk" | b"ludt" | b"hnti"
            | b"hinf" | b"chpl" | b"Xtra" => {}
            _ => self.unknown(Ctx::Udta(owner), h),
        }
        Ok(())
    }

    /// One `ilst` item: its key from the box type (or from `keys`, or a freeform `name`), and its
    /// `data` children.
    fn visit_item(&mut self, owner: Owner, h: &Header, depth: u32) -> Result<()> {
        if depth + 1 > MAX_BOX_DEPTH {
            return Err(Error::limit(
                format!(
                    "{} (box at byte {}): box nesting depth",
                    self.src.name, h.start
                ),
                u64::from(MAX_BOX_DEPTH),
                u64::from(depth + 1),
            ));
        }
        let mut key = match (&h.kind, self.keys.is_empty()) {
            (_, false) => {
                let index = u32::from_be_bytes(h.kind) as usize;
                match index.checked_sub(1).and_then(|i| self.keys.get(i)) {
                    Some(k) => k.clone(),
                    None => format!("key {index}"),
                }
            }
            _ => h.name(),
        };
        let mut values = Vec::new();
        let mut pos = h.body;
        while let Some(child) = self.header(pos, h.end, false)? {
            self.count_box()?;
            pos = child.end;
            match &child.kind {
                b"data" if values.len() < MAX_ITEM_VALUES => {
                    let data = self.body_prefix(&child, 8 + MAX_TAG_VALUE_BYTES)?;
                    values.push(meta::data_value(&data));
                }
                b"name" if &h.kind == b"----" => {
                    let data = self.body_prefix(&child, MAX_TAG_VALUE_BYTES)?;
                    key = super::source::text(data.get(4..).unwrap_or_default());
                }
                _ => {}
            }
        }
        for v in values {
            match v {
                meta::Value::Text(text) => {
                    if key == "iTunSMPB" {
                        self.raw.itunes_smpb = meta::itunes_smpb(&text);
                    }
                    self.push_tag(owner, key.clone(), text);
                }
                meta::Value::Picture(codec)
                    if &h.kind == b"covr" && self.raw.pictures < MAX_PICTURES =>
                {
                    self.raw.pictures += 1;
                    // ffmpeg's mov demuxer makes each cover an attached-picture stream when it
                    // reads it, so it takes the next stream index.
                    self.raw.streams.push(Stream::Picture(codec));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::{TrackKind, read_facts};

    /// A box of `kind` around `body`.
    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend(kind);
        b.extend(body);
        b
    }

    fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    fn mvhd(creation: u32, modification: u32) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0];
        for v in [creation, modification, 1000, 1000] {
            b.extend(v.to_be_bytes());
        }
        b.extend([0u8; 80]);
        bx(b"mvhd", &b)
    }

    fn elst(entries: &[(u32, i32)]) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0];
        b.extend((entries.len() as u32).to_be_bytes());
        for &(d, t) in entries {
            b.extend(d.to_be_bytes());
            b.extend(t.to_be_bytes());
            b.extend(0x0001_0000u32.to_be_bytes());
        }
        bx(b"elst", &b)
    }

    /// An audio `trak`: 8 kHz PCM (`sowt`, no priming), one second of media.
    fn trak(edits: &[(u32, i32)]) -> Vec<u8> {
        let mut tkhd = vec![0, 0, 0, 3];
        for v in [0u32, 0, 1, 0, 1000] {
            tkhd.extend(v.to_be_bytes());
        }
        tkhd.extend([0u8; 60]);
        let mut mdhd = vec![0, 0, 0, 0];
        for v in [0u32, 0, 8000, 8000] {
            mdhd.extend(v.to_be_bytes());
        }
        mdhd.extend([0x55, 0xc4, 0, 0]);
        let mut hdlr = vec![0u8; 8];
        hdlr.extend(b"soun");
        hdlr.extend([0u8; 12]);
        hdlr.extend(b"Core Media Audio\0");
        let mut entry = vec![0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        entry.extend([0, 1, 0, 16, 0, 0, 0, 0, 0x1f, 0x40, 0, 0]);
        let mut stsd = vec![0, 0, 0, 0, 0, 0, 0, 1];
        stsd.extend(bx(b"sowt", &entry));
        let stbl = bx(b"stbl", &bx(b"stsd", &stsd));
        let minf = bx(b"minf", &stbl);
        let mdia = bx(
            b"mdia",
            &cat(&[bx(b"mdhd", &mdhd), bx(b"hdlr", &hdlr), minf]),
        );
        let mut parts = vec![bx(b"tkhd", &tkhd)];
        if !edits.is_empty() {
            parts.push(bx(b"edts", &elst(edits)));
        }
        parts.push(mdia);
        bx(b"trak", &cat(&parts))
    }

    fn ftyp() -> Vec<u8> {
        bx(b"ftyp", b"isom\0\0\x02\0isomiso2")
    }

    fn file(moov_children: &[Vec<u8>]) -> Vec<u8> {
        cat(&[
            ftyp(),
            bx(b"mdat", &[0u8; 32]),
            bx(b"moov", &cat(moov_children)),
        ])
    }

    fn facts(bytes: &[u8]) -> Result<ContainerFacts> {
        read_facts(std::io::Cursor::new(bytes.to_vec()), "clip.mp4")
    }

    #[test]
    fn walk_minimal_file_reads_track() {
        let f = facts(&file(&[mvhd(0, 0), trak(&[(1000, 0)])])).unwrap();
        assert_eq!(f.format, "mp4");
        assert_eq!(f.layout, ["ftyp", "mdat", "moov"]);
        let t = &f.tracks[0];
        assert_eq!(t.kind, TrackKind::Audio);
        assert_eq!(t.codec.as_deref(), Some("pcm_s16le"));
        assert_eq!(
            (t.sample_rate, t.channels, t.bits_per_sample),
            (Some(8000), Some(1), Some(16))
        );
        assert_eq!(t.handler_name.as_deref(), Some("Core Media Audio"));
        assert_eq!(t.duration_s, Some(1.0));
        assert!(f.notes.iter().any(|n| n.starts_with("moov after mdat")));
    }

    #[test]
    fn walk_box_past_parent_is_malformed_with_offset() {
        let mut bytes = file(&[mvhd(0, 0), trak(&[])]);
        // Grow the mvhd's size field by 64 KiB: it now runs past the moov.
        let at = bytes.windows(4).position(|w| w == b"mvhd").unwrap() - 4;
        bytes[at + 1] += 1;
        let err = facts(&bytes).unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("clip.mp4 (mvhd at byte {at}): box size")),
            "{msg}"
        );
        assert!(msg.contains("past the end of its parent"), "{msg}");
    }

    #[test]
    fn walk_elst_absurd_count_is_malformed_naming_box_and_offset() {
        let mut bytes = file(&[mvhd(0, 0), trak(&[(1000, 0)])]);
        let at = bytes.windows(4).position(|w| w == b"elst").unwrap() - 4;
        bytes[at + 12..at + 16].copy_from_slice(&u32::MAX.to_be_bytes());
        let err = facts(&bytes).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "clip.mp4 (elst at byte {at}): entry count 4294967295 exceeds the box"
            )),
            "{err}"
        );
    }

    #[test]
    fn walk_truncated_last_box_is_a_note() {
        let mut bytes = cat(&[ftyp(), bx(b"moov", &cat(&[mvhd(0, 0), trak(&[])]))]);
        let mdat_at = bytes.len();
        // An mdat that claims a megabyte but holds 16 bytes: a recording cut short.
        bytes.extend((1u32 << 20).to_be_bytes());
        bytes.extend(b"mdat");
        bytes.extend([0u8; 16]);
        let f = facts(&bytes).unwrap();
        assert!(
            f.notes.iter().any(|n| n
                == &format!("file is truncated: 'mdat' at byte {mdat_at} claims 1048576 bytes but only 24 remain")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn walk_size_zero_and_64_bit_sizes_are_read() {
        let moov = bx(b"moov", &cat(&[mvhd(0, 0), trak(&[])]));
        // A 64-bit-size mdat, then a size-0 ("to the end of the file") free box.
        let mut large = 1u32.to_be_bytes().to_vec();
        large.extend(b"mdat");
        large.extend(32u64.to_be_bytes());
        large.extend([0u8; 16]);
        let mut to_end = 0u32.to_be_bytes().to_vec();
        to_end.extend(b"free");
        to_end.extend([0u8; 100]);
        let f = facts(&cat(&[ftyp(), moov, large, to_end])).unwrap();
        assert_eq!(f.layout, ["ftyp", "moov", "mdat", "free"]);
        assert!(
            f.notes.iter().any(|n| n.contains("'free' (108 bytes)")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn walk_64_bit_size_smaller_than_header_is_malformed() {
        let mut bad = 1u32.to_be_bytes().to_vec();
        bad.extend(b"mdat");
        bad.extend(8u64.to_be_bytes());
        let err = facts(&cat(&[ftyp(), bad])).unwrap_err();
        assert!(err.to_string().contains("smaller than its header"), "{err}");
    }

    #[test]
    fn walk_deep_nesting_hits_depth_limit() {
        let mut inner = mvhd(0, 0);
        for _ in 0..100 {
            inner = bx(b"edts", &inner);
        }
        let err = facts(&cat(&[ftyp(), bx(b"moov", &inner)])).unwrap_err();
        assert!(matches!(err, Error::Limit { .. }), "{err}");
        assert!(err.to_string().contains("nesting depth"), "{err}");
    }

    #[test]
    fn walk_without_moov_is_malformed() {
        let err = facts(&cat(&[ftyp(), bx(b"mdat", &[0; 8])])).unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }));
        assert!(err.to_string().contains("no moov box"), "{err}");
    }

    #[test]
    fn walk_many_tags_are_capped() {
        let mut data = vec![0, 0, 0, 1, 0, 0, 0, 0];
        data.extend(b"x");
        let item = bx(b"\xa9nam", &bx(b"data", &data));
        let ilst = bx(b"ilst", &item.repeat(MAX_TAGS + 500));
        let mut hdlr = vec![0u8; 8];
        hdlr.extend(b"mdir");
        hdlr.extend([0u8; 13]);
        let mut meta = vec![0, 0, 0, 0];
        meta.extend(bx(b"hdlr", &hdlr));
        meta.extend(ilst);
        let udta = bx(b"udta", &bx(b"meta", &meta));
        let f = facts(&file(&[mvhd(0, 0), trak(&[]), udta])).unwrap();
        assert_eq!(f.tags.len(), MAX_TAGS);
    }

    #[test]
    fn walk_million_tiny_boxes_hit_box_limit() {
        let mut bytes = ftyp();
        bytes.extend(bx(b"free", &[]).repeat(MAX_BOXES as usize + 1));
        let err = facts(&bytes).unwrap_err();
        assert!(matches!(err, Error::Limit { .. }), "{err}");
        assert!(err.to_string().contains("number of boxes"), "{err}");
    }

    #[test]
    fn walk_heif_image_is_unsupported() {
        let bytes = cat(&[bx(b"ftyp", b"heic\0\0\0\0mif1heic"), bx(b"meta", &[0; 12])]);
        let err = facts(&bytes).unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        assert!(err.to_string().contains("HEIF/AVIF image"), "{err}");
    }

    #[test]
    fn walk_unknown_and_misplaced_boxes_are_noted() {
        let bytes = file(&[
            mvhd(0, 0),
            bx(b"zzzz", &[1, 2, 3]),
            trak(&[]),
            bx(b"trak", &[]),
        ]);
        let f = facts(&bytes).unwrap();
        assert!(
            f.notes
                .iter()
                .any(|n| n.starts_with("unrecognised boxes: 'zzzz' in moov")),
            "{:?}",
            f.notes
        );
        // A second, empty trak is still a stream for ffprobe.
        assert_eq!(f.tracks.len(), 2);
        let bytes = file(&[mvhd(0, 0), bx(b"edts", &[])]);
        let f = facts(&bytes).unwrap();
        assert!(
            f.notes
                .iter()
                .any(|n| n.starts_with("boxes out of place: 'edts' in moov")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn walk_edit_list_gap_and_segments_are_noted() {
        let f = facts(&file(&[
            mvhd(0, 0),
            trak(&[(500, -1), (400, 0), (400, 4000)]),
        ]))
        .unwrap();
        let notes = f.notes.join("\n");
        assert!(
            notes.contains("track 0 (audio) starts with an empty edit of 0.5 s"),
            "{notes}"
        );
        assert!(
            notes.contains("track 0 (audio) edit list has 2 segments"),
            "{notes}"
        );
        assert_eq!(f.tracks[0].duration_s, Some(0.8));
    }

    #[test]
    fn walk_pcm_edit_skipping_into_media_is_noted() {
        // PCM has no priming: any media_time > 0 skips audio.
        let f = facts(&file(&[mvhd(0, 0), trak(&[(500, 4000)])])).unwrap();
        let notes = f.notes.join("\n");
        assert!(
            notes.contains("track 0 (audio) edit list starts 0.5 s into its media"),
            "{notes}"
        );
        assert!(!notes.contains("stops"), "{notes}");
    }

    #[test]
    fn walk_creation_after_modification_is_noted() {
        let f = facts(&file(&[mvhd(3_714_372_131, 3_614_372_131), trak(&[])])).unwrap();
        assert_eq!(f.creation_time.as_deref(), Some("2021-09-13T10:02:11Z"));
        assert!(
            f.notes
                .iter()
                .any(|n| n
                    .starts_with("creation time 2021-09-13T10:02:11Z is after modification time")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn walk_xmp_uuid_creator_tool_is_noted() {
        let mut body = XMP_UUID.to_vec();
        body.extend(br#"<rdf:Description xmp:CreatorTool="Adobe Premiere Pro 2021.0"/>"#);
        let bytes = cat(&[file(&[mvhd(0, 0), trak(&[])]), bx(b"uuid", &body)]);
        let f = facts(&bytes).unwrap();
        assert!(
            f.notes
                .iter()
                .any(|n| n == "xmp metadata names the creator tool 'Adobe Premiere Pro 2021.0'"),
            "{:?}",
            f.notes
        );
        assert!(f.layout.last().unwrap().starts_with("uuid:be7acfcb"));
    }

    #[test]
    fn walk_truncated_at_every_length_never_panics() {
        let bytes = file(&[mvhd(0, 0), trak(&[(500, -1), (500, 0)])]);
        for n in 0..bytes.len() {
            let _ = facts(&bytes[..n]);
        }
    }

    #[test]
    fn walk_arbitrary_sizes_never_panic() {
        let bytes = file(&[mvhd(0, 0), trak(&[(1000, 0)])]);
        // Overwrite each size field in turn with hostile values.
        for at in 0..bytes.len() - 4 {
            for v in [0u32, 1, 7, 8, 9, u32::MAX, 0x8000_0000] {
                let mut b = bytes.clone();
                b[at..at + 4].copy_from_slice(&v.to_be_bytes());
                let _ = facts(&b);
            }
        }
    }

    #[test]
    fn looks_like_box_needs_known_type_and_sane_size() {
        assert!(looks_like_box(b"\0\0\0\x08wide"));
        assert!(looks_like_box(b"\0\0\0\x01mdat"));
        assert!(!looks_like_box(b"\0\0\0\x04wide"));
        assert!(!looks_like_box(b"this is text"));
    }
}
