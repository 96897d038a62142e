//! Segment files: immutable, sorted postings of a set of references, memory-mapped for reading.
//!
//! Layout (little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `CPIXSEG1` |
//! | 8 | 4 | format version (4; older versions hashed or ordered differently and are refused) |
//! | 12 | 4 | hash bits (19) |
//! | 16 | 4 | reference count `R` |
//! | 20 | 4 | reserved (0) |
//! | 24 | 8 | posting count `P` |
//! | 32 | 4 | CRC-32 of everything after the header |
//! | 36 | 4 | CRC-32 of the 64-byte header with this field zeroed |
//! | 40 | 8 | signature count `S` |
//! | 48 | 16 | reserved (0) |
//! | 64 | 4·R | frames of each reference (u32) |
//! | … | 4·(2^19 + 1) | bucket table: index of the first posting of each hash, then `P` |
//! | … | 6·P | postings: span (7 bits) over fine offsets (9 bits) in a u16, then the anchor's frame counted through the references in order (u32); by hash, then span |
//! | … | 2·S | frame signatures (u16) of each reference in turn, `ceil(frames / 2)` each |
//!
//! A posting is 6 bytes; the hash is implied by its bucket, the reference by its frame (each
//! reference's frames follow the previous one's, so a segment holds at most 2^32 frames, 9 544
//! hours; [`Segment::locate`]). The fine offsets ([`crate::fingerprint::FineOffsets::stored`])
//! let a lookup keep only the postings whose triplet lies near the query's inside the hash's
//! cells. Signatures cost 2 bytes per two frames (450 kB per hour) and place the edges of a
//! match (see `crate::fingerprint`). A dense table costs 2 MiB per segment, which is why small
//! segments are merged as they accumulate (see `Index`).
#![allow(unsafe_code)]

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::error::{Error, Result};
use crate::fingerprint::{FINE_BITS, FINE_RATIO_SHIFT};

const MAGIC: &[u8; 8] = b"CPIXSEG1";
/// The segment format this build writes and reads. Version 3 changed the hashes' frequency
/// difference cells (see [`crate::fingerprint::HashFields`]): the postings of versions 1 and 2
/// are under other hashes. Version 4 orders each bucket's postings by span
/// ([`Segment::lookup_spans`] depends on it). Older segments are refused and their references
/// must be added again. Version 5 stores fine offsets and counts frames through the segment
/// instead of a reference id per posting.
pub(crate) const SEGMENT_VERSION: u32 = 5;
/// Hash bits, as [`crate::fingerprint::HashFields`] packs them.
pub(crate) const HASH_BITS: u32 = 19;
const BUCKETS: usize = 1 << HASH_BITS;
const HEADER_BYTES: usize = 64;
const POSTING_BYTES: usize = 6;
/// Frames of all of a segment's references together: a posting's frame is a u32 counted through
/// them (2^32 frames of 8 ms are 9 544 hours). A longer reference is refused, and segments
/// whose sum would pass this are not merged.
pub(crate) const MAX_SEGMENT_FRAMES: u64 = u32::MAX as u64;
/// The longest span a posting holds (7 bits); the fingerprint's default target zone reaches 80.
pub(crate) const MAX_SPAN: u8 = 127;
/// References per segment: the local id is a u16.
pub(crate) const MAX_REFS_PER_SEGMENT: usize = u16::MAX as usize;

/// CRC-32 of a 64-byte header with its checksum field (bytes 36..40) taken as zero.
fn header_checksum(header: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&header[..36]);
    hasher.update(&[0; 4]);
    hasher.update(&header[40..HEADER_BYTES]);
    hasher.finalize()
}

/// Bodies up to this many bytes are checksummed on the calling thread.
const PARALLEL_CRC_BYTES: usize = 32 << 20;

/// The CRC-32 of `bytes`, in one piece per core for a large body (a 1000 h segment is 3.3 GB:
/// its check was most of the time to open the index), combined in order: the same value as
/// `crc32fast::hash`.
fn parallel_crc32(bytes: &[u8]) -> u32 {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if bytes.len() <= PARALLEL_CRC_BYTES || threads < 2 {
        return crc32fast::hash(bytes);
    }
    let piece = bytes.len().div_ceil(threads);
    let parts: Vec<crc32fast::Hasher> = std::thread::scope(|scope| {
        let handles: Vec<_> = bytes
            .chunks(piece)
            .map(|chunk| {
                scope.spawn(move || {
                    let mut hasher = crc32fast::Hasher::new();
                    hasher.update(chunk);
                    hasher
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut whole = crc32fast::Hasher::new();
    for part in &parts {
        whole.combine(part);
    }
    whole.finalize()
}

/// Signatures of a reference of `frames` frames.
fn signature_count_of(frames: u32) -> usize {
    crate::fingerprint::signature_count(u64::from(frames)) as usize
}

/// One posting: where a hash occurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Posting {
    // The field order is the sort order of a segment's postings: by hash, and within a bucket
    // by key (span, then fine offsets, ratio step first), so that a lookup can take the spans a
    // query's speeds allow, and their ratio steps, by a binary search.
    pub hash: u32,
    pub span: u8,
    /// [`crate::fingerprint::FineOffsets::stored`].
    pub fine: u16,
    pub local: u16,
    pub frame: u32,
}

impl Posting {
    /// The posting's first two bytes: span over fine offsets.
    fn key(&self) -> u16 {
        (u16::from(self.span.min(MAX_SPAN)) << FINE_BITS) | (self.fine & FINE_MASK)
    }
}

/// Fine offsets' share of a posting's key.
const FINE_MASK: u16 = (1 << FINE_BITS) - 1;

/// The keys (inclusive) of the postings of `span` whose stored ratio step is in
/// `first_step..=last_step`: within a span, keys are ordered by ratio step first (see
/// [`crate::fingerprint::FineOffsets::stored`]).
pub(crate) fn ratio_keys(span: u8, first_step: u16, last_step: u16) -> (u16, u16) {
    let at = u16::from(span.min(MAX_SPAN)) << FINE_BITS;
    let below_ratio = (1 << FINE_RATIO_SHIFT) - 1;
    (
        at | (first_step << FINE_RATIO_SHIFT),
        at | (last_step << FINE_RATIO_SHIFT) | below_ratio,
    )
}

/// A writer that keeps the CRC-32 of what passes through it.
struct Checksummed<W: Write> {
    out: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Checksummed<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.crc.update(bytes);
        self.out.write_all(bytes)
    }
}

/// A segment file, mapped.
pub(crate) struct Segment {
    path: PathBuf,
    map: Mmap,
    refs: usize,
    postings: usize,
    buckets_at: usize,
    postings_at: usize,
    /// Byte offset of each reference's signatures, and one past the last.
    signatures_at: Vec<usize>,
    /// Where each reference's frames start when counted through the segment.
    frames: FrameMap,
}

/// Frames per block of [`FrameMap`]'s table, as a power of two: 4096 frames (33 s), so a
/// 1000 h segment's table is 110 000 entries, and a reference of 33 s or more is found at once.
const LOCATE_BLOCK_BITS: u32 = 12;

/// A segment's references' frames counted one after another: where each starts, and which
/// reference a frame so counted belongs to ([`FrameMap::locate`]).
#[derive(Debug, Default)]
struct FrameMap {
    /// The first frame of each reference.
    starts: Vec<u32>,
    /// For each block of [`LOCATE_BLOCK_BITS`] frames, the reference its first frame belongs to:
    /// `locate` searches from there.
    block_refs: Vec<u32>,
}

impl FrameMap {
    /// The map of references of `ref_frames` frames each; `None` when together they hold more
    /// than [`MAX_SEGMENT_FRAMES`].
    fn new(ref_frames: &[u32]) -> Option<FrameMap> {
        let mut at = 0u32;
        let mut starts = Vec::with_capacity(ref_frames.len());
        for &f in ref_frames {
            starts.push(at);
            at = at.checked_add(f)?;
        }
        let blocks = at.div_ceil(1 << LOCATE_BLOCK_BITS);
        let block_refs = (0..blocks)
            .map(|b| {
                let first = b << LOCATE_BLOCK_BITS;
                starts.partition_point(|&s| s <= first).saturating_sub(1) as u32
            })
            .collect();
        Some(FrameMap { starts, block_refs })
    }

    /// Where reference `local` starts.
    fn start(&self, local: usize) -> u32 {
        self.starts.get(local).copied().unwrap_or(0)
    }

    /// The reference (local id) and its own frame of a frame counted through the segment.
    fn locate(&self, at: u32) -> (u16, u32) {
        // From the reference holding the first frame of `at`'s block, step on to the one that
        // holds `at`: none to step over for a reference of a block or more.
        let mut local = self
            .block_refs
            .get((at >> LOCATE_BLOCK_BITS) as usize)
            .map_or(0, |&r| r as usize);
        while self.starts.get(local + 1).is_some_and(|&s| s <= at) {
            local += 1;
        }
        (local as u16, at - self.start(local))
    }
}

/// A stored posting's span, fine offsets and frame counted through the segment.
fn decode(p: &[u8]) -> (u8, u16, u32) {
    let key = u16::from_le_bytes([p[0], p[1]]);
    (
        (key >> FINE_BITS) as u8,
        key & FINE_MASK,
        u32::from_le_bytes([p[2], p[3], p[4], p[5]]),
    )
}

/// The stop list's share of an index's postings: the hashes whose buckets, summed over the
/// index's segments, are the largest and together hold at most this fraction are not looked up
/// (see [`StopList`]).
///
/// Speech fills the hash space unevenly: a few shapes (a harmonic pair under a high anchor, two
/// partners in one frame) recur in every voice. A lookup costs the postings of its bucket, so
/// chance hits grow with the square of a bucket's share while true hits grow with the share
/// alone: dropping common hashes is the stop list of text retrieval (the
/// inverse-document-frequency argument; Wang 2003 keeps only distinctive landmarks for the same
/// reason). Measured on the false-match hunt's 11.2 h archive: with the first hash layout (all
/// far partners in one clamped cell, segment version 2) the largest buckets holding 10 % of the
/// postings were 103 of 103 000 non-empty buckets and gave 79 % of the chance hits of a query
/// drawn from the same speech; with the band-relative layout (version 3) they are 365 of
/// 131 000 and give 45 %, and a lookup meets 245 chance hits instead of 1 352. A true match
/// loses about 10 % of its hits.
pub(crate) const STOP_FRACTION: f64 = 0.10;
/// Buckets of at most this many postings are always looked up: in a small index nothing is
/// common enough to be worth skipping.
const MIN_STOP_BUCKET: usize = 32;

/// The bucket size above which lookups are skipped, from each bucket's size: the smallest size `s`
/// (at least [`MIN_STOP_BUCKET`]) such that the buckets larger than `s` hold at most
/// `fraction` of all postings.
fn stop_above(sizes: impl Iterator<Item = usize>, fraction: f64) -> usize {
    let mut large: Vec<usize> = Vec::new();
    let mut total = 0usize;
    for size in sizes {
        total += size;
        if size > MIN_STOP_BUCKET {
            large.push(size);
        }
    }
    large.sort_unstable_by(|a, b| b.cmp(a));
    let allowed = (fraction * total as f64) as usize;
    let mut skipped = 0usize;
    let mut threshold = large.first().copied().unwrap_or(MIN_STOP_BUCKET);
    let mut i = 0;
    // Take whole groups of equal size, so that the threshold never splits a tie.
    while i < large.len() {
        let size = large[i];
        let group = large[i..].iter().take_while(|&&s| s == size).count();
        if skipped + group * size > allowed {
            break;
        }
        skipped += group * size;
        i += group;
        threshold = large.get(i).copied().unwrap_or(MIN_STOP_BUCKET);
    }
    threshold.max(MIN_STOP_BUCKET)
}

/// The hashes a query does not look up: the most common of an index, counted over all its
/// segments (see [`STOP_FRACTION`]). Counted per index rather than per segment, a hash is common
/// or not whichever segment its postings landed in: a small segment of fresh references would
/// otherwise look up every hash, and a large one skip what the whole archive does not find
/// common.
#[derive(Debug, Clone, Default)]
pub(crate) struct StopList {
    /// One bit per hash.
    words: Vec<u64>,
}

impl StopList {
    /// The stop list of an index made of `segments`, skipping at most `fraction` of its
    /// postings.
    pub(crate) fn of(segments: &[Segment], fraction: f64) -> StopList {
        let mut sizes = vec![0u32; BUCKETS];
        for segment in segments {
            // One pass over the bucket table.
            let mut starts = segment.bucket_starts();
            let mut start = starts.next().unwrap_or(0);
            for (size, next) in sizes.iter_mut().zip(starts) {
                *size = size.saturating_add(next.saturating_sub(start));
                start = next;
            }
        }
        let above = stop_above(sizes.iter().map(|&n| n as usize), fraction);
        let mut words = vec![0u64; BUCKETS.div_ceil(64)];
        for (hash, &size) in sizes.iter().enumerate() {
            if size as usize > above {
                words[hash / 64] |= 1 << (hash % 64);
            }
        }
        StopList { words }
    }

    /// Whether `hash` is on the list.
    pub(crate) fn stops(&self, hash: u32) -> bool {
        let h = hash as usize;
        self.words
            .get(h / 64)
            .is_some_and(|w| (w >> (h % 64)) & 1 == 1)
    }
}

impl Segment {
    /// Writes a segment of `ref_frames.len()` references with `postings` (any order) and each
    /// reference's signatures (cut or padded to `ceil(frames / 2)`) to `path`, flushed to disk
    /// before returning. The file must not exist.
    pub(crate) fn write(
        path: &Path,
        ref_frames: &[u32],
        signatures: &[&[u16]],
        mut postings: Vec<Posting>,
    ) -> Result<()> {
        postings.sort_unstable();
        let mut counts = vec![0u32; BUCKETS];
        for p in &postings {
            counts[p.hash as usize] += 1;
        }
        let mut next = 0;
        Segment::write_buckets(
            path,
            ref_frames,
            &counts,
            |hash, out| {
                let n = counts[hash as usize] as usize;
                out.extend_from_slice(&postings[next..next + n]);
                next += n;
            },
            |r, out| out.extend_from_slice(signatures.get(r).copied().unwrap_or(&[])),
        )
    }

    /// Writes a segment bucket by bucket, so that memory stays at one bucket's postings and one
    /// reference's signatures whatever the segment's size (a merge of segments streams through
    /// here). `counts[h]` is the number of postings of hash `h`; `fill(h, out)` appends them
    /// (in any order) to the empty `out`, for every hash in turn; `signatures_of(r, out)` appends
    /// reference `r`'s signatures (cut or padded to `ceil(frames / 2)`). The body goes to disk
    /// as it is made; the header, with its checksums, last, then everything is flushed to disk
    /// before returning. The file must not exist.
    ///
    /// # Errors
    /// [`Error::Limit`] past [`MAX_REFS_PER_SEGMENT`] references; [`Error::Index`] when `fill`
    /// gives another number of postings than `counts` says (the file is then left unnamed in
    /// the manifest, for the next writer to delete); [`Error::Io`] when writing fails.
    pub(crate) fn write_buckets(
        path: &Path,
        ref_frames: &[u32],
        counts: &[u32],
        mut fill: impl FnMut(u32, &mut Vec<Posting>),
        mut signatures_of: impl FnMut(usize, &mut Vec<u16>),
    ) -> Result<()> {
        if ref_frames.len() > MAX_REFS_PER_SEGMENT {
            return Err(Error::limit(
                "index segment: references",
                MAX_REFS_PER_SEGMENT as u64,
                ref_frames.len() as u64,
            ));
        }
        let Some(map) = FrameMap::new(ref_frames) else {
            return Err(Error::limit(
                "index segment: frames",
                MAX_SEGMENT_FRAMES,
                ref_frames.iter().map(|&f| u64::from(f)).sum(),
            ));
        };
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let mut out = Checksummed {
            out: BufWriter::with_capacity(1 << 20, &file),
            crc: crc32fast::Hasher::new(),
        };
        let io = |e| Error::io(path, e);
        out.out.write_all(&[0; HEADER_BYTES]).map_err(io)?;
        for f in ref_frames {
            out.write(&f.to_le_bytes()).map_err(io)?;
        }
        let mut total = 0u64;
        let mut bytes = Vec::with_capacity(4 * (BUCKETS + 1));
        bytes.extend_from_slice(&0u32.to_le_bytes());
        for h in 0..BUCKETS {
            total += u64::from(counts.get(h).copied().unwrap_or(0));
            let start = u32::try_from(total)
                .map_err(|_| Error::limit("index segment: postings", u64::from(u32::MAX), total))?;
            bytes.extend_from_slice(&start.to_le_bytes());
        }
        out.write(&bytes).map_err(io)?;
        let mut bucket = Vec::new();
        for h in 0..BUCKETS as u32 {
            bucket.clear();
            fill(h, &mut bucket);
            let expected = counts.get(h as usize).copied().unwrap_or(0) as usize;
            if bucket.len() != expected {
                return Err(Error::index(
                    path,
                    format!(
                        "bucket {h}: {} postings where {expected} were counted",
                        bucket.len()
                    ),
                ));
            }
            if bucket.is_empty() {
                continue;
            }
            bucket.sort_unstable();
            bytes.clear();
            for p in &bucket {
                let start = map.start(usize::from(p.local));
                let frames = ref_frames.get(usize::from(p.local)).copied().unwrap_or(0);
                bytes.extend_from_slice(&p.key().to_le_bytes());
                // A frame past its reference's end (none the fingerprint makes) is kept at its
                // last frame rather than let into the next reference.
                let frame = p.frame.min(frames.saturating_sub(1));
                bytes.extend_from_slice(&(start + frame).to_le_bytes());
            }
            out.write(&bytes).map_err(io)?;
        }
        let mut signature_count = 0u64;
        let mut own = Vec::new();
        for (r, &frames) in ref_frames.iter().enumerate() {
            own.clear();
            signatures_of(r, &mut own);
            let count = signature_count_of(frames);
            own.resize(count, 0);
            bytes.clear();
            for s in &own {
                bytes.extend_from_slice(&s.to_le_bytes());
            }
            out.write(&bytes).map_err(io)?;
            signature_count += count as u64;
        }
        let mut header = [0u8; HEADER_BYTES];
        header[0..8].copy_from_slice(MAGIC);
        header[8..12].copy_from_slice(&SEGMENT_VERSION.to_le_bytes());
        header[12..16].copy_from_slice(&HASH_BITS.to_le_bytes());
        header[16..20].copy_from_slice(&(ref_frames.len() as u32).to_le_bytes());
        header[24..32].copy_from_slice(&total.to_le_bytes());
        header[40..48].copy_from_slice(&signature_count.to_le_bytes());
        let Checksummed { out: mut body, crc } = out;
        header[32..36].copy_from_slice(&crc.finalize().to_le_bytes());
        let header_crc = header_checksum(&header);
        header[36..40].copy_from_slice(&header_crc.to_le_bytes());
        body.flush().map_err(io)?;
        drop(body);
        // The header last, in place: a writer that dies before this leaves a file whose header
        // is zeros, which `open` refuses (and no manifest names it).
        (&file).seek(SeekFrom::Start(0)).map_err(io)?;
        (&file).write_all(&header).map_err(io)?;
        file.sync_all().map_err(io)
    }

    /// Maps and verifies the segment at `path`.
    ///
    /// # Errors
    /// [`Error::Index`] for a damaged or truncated file, another format version, or a checksum
    /// that does not match; [`Error::Io`] when it cannot be read.
    pub(crate) fn open(path: &Path) -> Result<Segment> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: segment files are immutable once their manifest names them: writers create new
        // files (create_new) and only delete files no manifest names any more. A reader holding
        // an old mapping keeps the unlinked file's pages on Unix. A file truncated by an outside
        // hand could still fault on access; every access below is first checked against the
        // length the map had when it was verified.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        let bad = |detail: String| Error::index(path, detail);
        if map.len() < HEADER_BYTES || &map[0..8] != MAGIC {
            return Err(bad(
                "not a segment file (bad magic or shorter than its header)".into(),
            ));
        }
        let u32_at =
            |at: usize| u32::from_le_bytes([map[at], map[at + 1], map[at + 2], map[at + 3]]);
        if header_checksum(&map[..HEADER_BYTES]) != u32_at(36) {
            return Err(bad(
                "header checksum does not match: the file is damaged".into()
            ));
        }
        let version = u32_at(8);
        if version > SEGMENT_VERSION {
            return Err(bad(format!(
                "segment format version {version} is newer than this build reads ({SEGMENT_VERSION})"
            )));
        }
        if version < SEGMENT_VERSION {
            return Err(bad(format!(
                "segment format version {version} was written by an older build, which hashed or \
                 ordered landmarks differently; this build reads version {SEGMENT_VERSION}: \
                 create a new index and add the references again"
            )));
        }
        if u32_at(12) != HASH_BITS {
            return Err(bad(format!(
                "unsupported segment layout (version {version}, hash bits {})",
                u32_at(12)
            )));
        }
        let refs = u32_at(16) as usize;
        let postings = u64::from_le_bytes(map[24..32].try_into().expect("8 bytes")) as usize;
        let buckets_at = HEADER_BYTES + 4 * refs;
        let postings_at = buckets_at + 4 * (BUCKETS + 1);
        let signatures = u64::from_le_bytes(map[40..48].try_into().expect("8 bytes")) as usize;
        let expected_len = postings
            .checked_mul(POSTING_BYTES)
            .and_then(|n| n.checked_add(postings_at))
            .and_then(|n| n.checked_add(signatures.checked_mul(2)?))
            .ok_or_else(|| bad("posting or signature count overflows".into()))?;
        if map.len() != expected_len {
            return Err(bad(format!(
                "{} bytes, but the header describes {expected_len}: truncated or damaged",
                map.len()
            )));
        }
        if parallel_crc32(&map[HEADER_BYTES..]) != u32_at(32) {
            return Err(bad(
                "body checksum does not match: the file is damaged".into()
            ));
        }
        let mut segment = Segment {
            path: path.to_path_buf(),
            map,
            refs,
            postings,
            buckets_at,
            postings_at,
            signatures_at: Vec::new(),
            frames: FrameMap::default(),
        };
        let frames: Vec<u32> = (0..refs).map(|r| segment.ref_frames(r)).collect();
        segment.frames = FrameMap::new(&frames).ok_or_else(|| {
            bad("its references hold more frames than a segment can count".into())
        })?;
        // Each reference's signatures follow from its frame count; they must fill the section
        // exactly.
        let mut at = postings_at + POSTING_BYTES * postings;
        segment.signatures_at.push(at);
        for r in 0..refs {
            at += 2 * signature_count_of(segment.ref_frames(r));
            segment.signatures_at.push(at);
        }
        if at != segment.map.len() {
            return Err(bad(
                "signature count does not match the references' frames".into()
            ));
        }
        // The bucket table must be monotonic and end at the posting count.
        let mut previous = 0;
        for (b, v) in segment.bucket_starts().enumerate() {
            let v = v as usize;
            if v < previous || v > postings {
                return Err(bad(format!("bucket table is not monotonic at hash {b}")));
            }
            previous = v;
        }
        if previous != postings {
            return Err(bad("bucket table does not end at the posting count".into()));
        }
        Ok(segment)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn refs(&self) -> usize {
        self.refs
    }

    pub(crate) fn postings(&self) -> usize {
        self.postings
    }

    pub(crate) fn ref_frames(&self, local: usize) -> u32 {
        let at = HEADER_BYTES + 4 * local;
        u32::from_le_bytes(self.map[at..at + 4].try_into().expect("4 bytes"))
    }

    /// The frame signatures of reference `local`.
    pub(crate) fn signatures(&self, local: usize) -> Vec<u16> {
        match (
            self.signatures_at.get(local),
            self.signatures_at.get(local + 1),
        ) {
            (Some(&from), Some(&to)) => self.map[from..to]
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The bucket table in order: where each hash's postings start, then the posting count.
    fn bucket_starts(&self) -> impl Iterator<Item = u32> + '_ {
        self.map[self.buckets_at..self.postings_at]
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn bucket(&self, hash: usize) -> usize {
        let at = self.buckets_at + 4 * hash;
        u32::from_le_bytes(self.map[at..at + 4].try_into().expect("4 bytes")) as usize
    }

    /// Calls `f(posting)` for every posting of `hash` (for merging segments).
    pub(crate) fn lookup(&self, hash: u32, mut f: impl FnMut(Posting)) {
        self.lookup_spans(hash, 0..=MAX_SPAN, |span, fine, at| {
            let (local, frame) = self.locate(at);
            f(Posting {
                hash,
                span,
                fine,
                local,
                frame,
            });
        });
    }

    /// Calls `f(span, fine, at)` for every posting of `hash` whose span is within `spans` (a
    /// bucket's postings are ordered by span: a binary search finds the first); `at` is the
    /// frame counted through the segment, for [`Segment::locate`].
    pub(crate) fn lookup_spans(
        &self,
        hash: u32,
        spans: std::ops::RangeInclusive<u8>,
        f: impl FnMut(u8, u16, u32),
    ) {
        let first = u16::from(*spans.start()) << FINE_BITS;
        let last = (u16::from((*spans.end()).min(MAX_SPAN)) << FINE_BITS) | FINE_MASK;
        self.lookup_keys(hash, &[(first, last)], f);
    }

    /// Calls `f(span, fine, at)` for every posting of `hash` whose key (span over fine offsets,
    /// see [`Posting`]) lies in one of `ranges` (inclusive, in ascending order, not
    /// overlapping). One binary search finds where the first range starts in the bucket; the
    /// postings from there to the end of the last are read in order, skipping those between the
    /// ranges. (A binary search per range read fewer postings but touched more cache lines, and
    /// a lookup's cost is its cache misses: measured slower on the 10 h and 100 h bench archives.)
    pub(crate) fn lookup_keys(
        &self,
        hash: u32,
        ranges: &[(u16, u16)],
        mut f: impl FnMut(u8, u16, u32),
    ) {
        let Some(&(first, _)) = ranges.first() else {
            return;
        };
        let (start, end) = self.bucket_range(hash);
        let bytes = &self.map
            [self.postings_at + POSTING_BYTES * start..self.postings_at + POSTING_BYTES * end];
        let key_of = |p: &[u8]| u16::from_le_bytes([p[0], p[1]]);
        let (mut lo, mut hi) = (0, end - start);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if key_of(&bytes[POSTING_BYTES * mid..]) < first {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let mut range = 0;
        for p in bytes[POSTING_BYTES * lo..].chunks_exact(POSTING_BYTES) {
            let key = key_of(p);
            while key > ranges[range].1 {
                range += 1;
                if range == ranges.len() {
                    return;
                }
            }
            if key >= ranges[range].0 {
                let (span, fine, at) = decode(p);
                f(span, fine, at);
            }
        }
    }

    /// Where the postings of `hash` lie: positions `[start, end)` among the segment's postings
    /// (empty for a hash out of range).
    pub(crate) fn bucket_range(&self, hash: u32) -> (usize, usize) {
        let h = hash as usize;
        if h >= BUCKETS {
            return (0, 0);
        }
        (self.bucket(h), self.bucket(h + 1))
    }

    /// Reads one byte of each cache line of the postings `[start, end)`, at most `max_lines`
    /// lines from the start, and returns them folded together: loads that bring the lines into
    /// the cache for a lookup that follows (see `index::LOOKAHEAD_LANDMARKS`).
    pub(crate) fn touch_postings(&self, (start, end): (usize, usize), max_lines: usize) -> u8 {
        let from = self.postings_at + POSTING_BYTES * start;
        let to = (self.postings_at + POSTING_BYTES * end).min(from + 64 * max_lines);
        self.map.get(from..to).map_or(0, |bytes| {
            bytes.iter().step_by(64).fold(0, |acc, &b| acc ^ b)
        })
    }

    /// The reference (local id) and its own frame of a frame counted through the segment.
    pub(crate) fn locate(&self, at: u32) -> (u16, u32) {
        self.frames.locate(at)
    }

    /// Every posting, in hash order (for merging segments).
    pub(crate) fn all_postings(&self) -> impl Iterator<Item = Posting> + '_ {
        // Walks the postings, moving to the next non-empty bucket as each one ends: one pass
        // over the table, however few postings (open checked that it is monotonic).
        let mut hash = 0;
        let postings =
            &self.map[self.postings_at..self.postings_at + POSTING_BYTES * self.postings];
        postings
            .chunks_exact(POSTING_BYTES)
            .enumerate()
            .map(move |(i, p)| {
                while self.bucket(hash + 1) <= i {
                    hash += 1;
                }
                let (span, fine, at) = decode(p);
                let (local, frame) = self.locate(at);
                Posting {
                    hash: hash as u32,
                    span,
                    fine,
                    local,
                    frame,
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "clip-provenance-segment-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir.join("seg.cpi")
    }

    #[test]
    fn segment_write_open_lookup_round_trips() {
        let path = temp("roundtrip");
        let posting = |hash, local, frame, span, fine| Posting {
            hash,
            span,
            fine,
            local,
            frame,
        };
        let postings = vec![
            posting(7, 1, 100, 20, 0x1ff),
            posting(7, 0, 5, 9, 3),
            // The last frame of the last reference: the largest frame counted through.
            posting((1 << 19) - 1, 2, 1999, MAX_SPAN, 0),
            posting((1 << 19) - 1, 1, 0, 9, 0x100),
        ];
        let frames = [1000, 0, 2000];
        Segment::write(&path, &frames, &[&[7, 8], &[], &[9]], postings.clone()).expect("writes");
        let seg = Segment::open(&path).expect("opens");
        assert_eq!((seg.refs(), seg.postings()), (3, 4));
        assert_eq!(seg.ref_frames(2), 2000);
        let signatures = seg.signatures(0);
        assert_eq!((signatures.len(), &signatures[..3]), (500, &[7, 8, 0][..]));
        assert_eq!(seg.signatures(2)[0], 9);
        assert_eq!(seg.signatures(2).len(), 1000);
        // Local 1 holds no frames: its postings (past its end, which the writer keeps at its
        // last frame) land at the first frame of the reference after it.
        let moved = |p: Posting| Posting {
            local: 2,
            frame: 0,
            ..p
        };
        let mut found = Vec::new();
        seg.lookup(7, |p| found.push(p));
        assert_eq!(found, vec![postings[1], moved(postings[0])]);
        found.clear();
        seg.lookup((1 << 19) - 1, |p| found.push(p));
        assert_eq!(found, vec![moved(postings[3]), postings[2]]);
        let mut sorted: Vec<Posting> = postings
            .into_iter()
            .map(|p| if p.local == 1 { moved(p) } else { p })
            .collect();
        sorted.sort_unstable();
        assert_eq!(seg.all_postings().collect::<Vec<_>>(), sorted);
        for (at, expected) in [
            (0, (0, 0)),
            (999, (0, 999)),
            (1000, (2, 0)),
            (2999, (2, 1999)),
        ] {
            assert_eq!(seg.locate(at), expected, "{at}");
        }
    }

    #[test]
    fn locate_finds_every_frame_s_reference_across_blocks() {
        let path = temp("locate");
        let frames = [5000, 10, 9000, 0, 4096, 1, 1, 3];
        Segment::write(&path, &frames, &[], Vec::new()).expect("writes");
        let seg = Segment::open(&path).expect("opens");
        std::fs::remove_file(&path).ok();
        let mut at = 0u32;
        for (local, &n) in frames.iter().enumerate() {
            for frame in 0..n {
                assert_eq!(seg.locate(at), (local as u16, frame), "at {at}");
                at += 1;
            }
        }
    }

    #[test]
    fn a_segment_past_the_frames_a_u32_counts_is_refused() {
        let path = temp("frames");
        let frames = [u32::MAX, 1];
        match Segment::write(&path, &frames, &[], Vec::new()) {
            Err(Error::Limit { .. }) => {}
            other => panic!("expected Error::Limit, got {other:?}"),
        }
        assert!(!path.exists());
    }

    #[test]
    fn parallel_crc32_is_the_crc32_of_the_whole() {
        let bytes: Vec<u8> = (0..PARALLEL_CRC_BYTES + 12_345)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3])
            .collect();
        for len in [0, 1, 1000, PARALLEL_CRC_BYTES, bytes.len()] {
            assert_eq!(
                parallel_crc32(&bytes[..len]),
                crc32fast::hash(&bytes[..len]),
                "{len}"
            );
        }
    }

    #[test]
    fn a_bucket_filled_with_other_than_its_count_is_an_error_and_never_a_segment() {
        let path = temp("miscounted");
        let mut counts = vec![0u32; BUCKETS];
        counts[5] = 2;
        let fill = |hash: u32, out: &mut Vec<Posting>| {
            if hash == 5 {
                out.push(Posting {
                    hash,
                    span: 9,
                    fine: 0,
                    local: 0,
                    frame: 3,
                });
            }
        };
        match Segment::write_buckets(&path, &[100], &counts, fill, |_, _| {}) {
            Err(Error::Index { detail, .. }) => {
                assert!(detail.contains("bucket 5: 1 postings where 2"), "{detail}")
            }
            other => panic!("expected Error::Index, got {other:?}"),
        }
        // What was written before the error has no header: it does not open as a segment.
        assert!(Segment::open(&path).is_err());
        let _ = std::fs::remove_file(&path);
    }

    /// `n` postings of `hash` over `refs` references, every span and fine value, in scrambled
    /// order (n below 7919).
    fn scrambled_bucket(hash: u32, n: u32, refs: u32) -> Vec<Posting> {
        (0..n)
            .map(|i| {
                let k = (i * 7919) % n;
                Posting {
                    hash,
                    span: (k % 128) as u8,
                    fine: (k * 131 % 512) as u16,
                    local: (k % refs) as u16,
                    frame: k,
                }
            })
            .collect()
    }

    #[test]
    fn lookup_spans_finds_exactly_the_postings_of_a_span_range() {
        let path = temp("spans");
        // One bucket of 300 postings, spans 0..=127 and repeats, written in scrambled order.
        let postings = scrambled_bucket(42, 300, 3);
        Segment::write(&path, &[1000, 1000, 1000], &[], postings.clone()).expect("writes");
        let seg = Segment::open(&path).expect("opens");
        for (lo, hi) in [
            (0u8, 127u8),
            (10, 20),
            (0, 0),
            (120, 127),
            (44, 44),
            (100, 60),
        ] {
            let mut found = Vec::new();
            seg.lookup_spans(42, lo..=hi, |s, fine, at| {
                let (l, f) = seg.locate(at);
                found.push((l, f, s, fine))
            });
            let mut expected: Vec<(u16, u32, u8, u16)> = postings
                .iter()
                .filter(|p| (lo..=hi).contains(&p.span))
                .map(|p| (p.local, p.frame, p.span, p.fine))
                .collect();
            found.sort_unstable();
            expected.sort_unstable();
            assert_eq!(found, expected, "spans {lo}..={hi}");
        }
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn lookup_keys_finds_exactly_the_postings_of_its_key_ranges() {
        let path = temp("keys");
        // One bucket of 2 000 postings over spans 0..=127 and every fine value, scrambled.
        let postings = scrambled_bucket(9, 2000, 2);
        Segment::write(&path, &[5000, 5000], &[], postings.clone()).expect("writes");
        let seg = Segment::open(&path).expect("opens");
        let cases: [&[(u8, u16, u16)]; 4] = [
            &[(0, 0, 7)],
            &[(10, 2, 3), (11, 0, 0), (12, 7, 7)],
            &[(127, 1, 6)],
            &[(40, 3, 3), (90, 0, 7)],
        ];
        for ranges in cases {
            let keys: Vec<(u16, u16)> = ranges
                .iter()
                .map(|&(span, a, b)| ratio_keys(span, a, b))
                .collect();
            let mut found = Vec::new();
            seg.lookup_keys(9, &keys, |span, fine, at| {
                let (l, f) = seg.locate(at);
                found.push((l, f, span, fine))
            });
            let mut expected: Vec<(u16, u32, u8, u16)> = postings
                .iter()
                .filter(|p| {
                    let step = p.fine >> FINE_RATIO_SHIFT;
                    ranges
                        .iter()
                        .any(|&(span, a, b)| p.span == span && (a..=b).contains(&step))
                })
                .map(|p| (p.local, p.frame, p.span, p.fine))
                .collect();
            assert!(!expected.is_empty(), "{ranges:?}");
            found.sort_unstable();
            expected.sort_unstable();
            assert_eq!(found, expected, "{ranges:?}");
        }
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn stop_list_holds_the_largest_buckets_within_its_share() {
        // 11 800 postings, 10 % = 1 180: the bucket of 1 000 fits, the two of 400 together
        // would not (ties are never split), so buckets above 400 are skipped.
        let sizes = [1000, 400, 400]
            .into_iter()
            .chain(std::iter::repeat_n(10, 1000));
        assert_eq!(stop_above(sizes, 0.1), 400);
        // Nothing above the floor: nothing is skipped.
        assert_eq!(
            stop_above(std::iter::repeat_n(MIN_STOP_BUCKET, 100), 0.1),
            MIN_STOP_BUCKET
        );
        assert_eq!(stop_above(std::iter::empty(), 0.1), MIN_STOP_BUCKET);
    }

    #[test]
    fn stop_list_counts_a_hash_over_every_segment() {
        // Hash 7 holds 30 postings in each of two segments of 300: within one segment it is at
        // the floor of MIN_STOP_BUCKET, nothing to skip; over the index it holds 60 of 600
        // (10 %), the one common hash. Every other hash holds one posting.
        let write = |name: &str, hashes: std::ops::Range<u32>| {
            let path = temp(name);
            let mut postings: Vec<Posting> = (0..30)
                .map(|frame| Posting {
                    hash: 7,
                    fine: 0,
                    local: 0,
                    frame,
                    span: 10,
                })
                .collect();
            postings.extend(hashes.map(|h| Posting {
                hash: h,
                fine: 0,
                local: 0,
                frame: h,
                span: 10,
            }));
            Segment::write(&path, &[5000], &[], postings).expect("writes");
            let segment = Segment::open(&path).expect("opens");
            std::fs::remove_file(&path).ok();
            segment
        };
        let segments = [write("stop-a", 100..370), write("stop-b", 370..640)];
        let stop = StopList::of(&segments, 0.1);
        assert!(stop.stops(7));
        assert!(!stop.stops(100) && !stop.stops(639) && !stop.stops(8));
        assert!(!StopList::of(&segments[..1], 0.1).stops(7));
        assert!(!StopList::of(&segments, 0.0).stops(7));
        assert!(!StopList::default().stops(7));
    }

    #[test]
    fn segment_bit_flip_or_truncation_is_detected() {
        let path = temp("damage");
        Segment::write(
            &path,
            &[10],
            &[&[1, 2, 3]],
            vec![Posting {
                hash: 3,
                fine: 0,
                local: 0,
                frame: 1,
                span: 6,
            }],
        )
        .expect("writes");
        let good = std::fs::read(&path).expect("read");
        for at in [9, 40, HEADER_BYTES + 2, good.len() - 1] {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            std::fs::write(&path, &bad).expect("write");
            assert!(
                matches!(Segment::open(&path), Err(Error::Index { .. })),
                "flip at {at}"
            );
        }
        std::fs::write(&path, &good[..good.len() - 3]).expect("write");
        assert!(matches!(Segment::open(&path), Err(Error::Index { .. })));
    }

    #[test]
    fn segment_newer_or_older_version_is_refused_clearly() {
        let path = temp("version");
        Segment::write(&path, &[10], &[], Vec::new()).expect("writes");
        let good = std::fs::read(&path).expect("read");
        for (version, says) in [
            (SEGMENT_VERSION + 1, "newer"),
            (2, "add the references again"),
        ] {
            let mut bytes = good.clone();
            bytes[8..12].copy_from_slice(&version.to_le_bytes());
            let crc = header_checksum(&bytes);
            bytes[36..40].copy_from_slice(&crc.to_le_bytes());
            std::fs::write(&path, &bytes).expect("write");
            match Segment::open(&path) {
                Err(Error::Index { detail, .. }) => assert!(detail.contains(says), "{detail}"),
                other => panic!("expected a version error, got {:?}", other.map(|_| ())),
            }
        }
    }
}
