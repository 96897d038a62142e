//! The archive index: fingerprints of reference recordings on disk, and the query that finds
//! which stretches of a clip come from which reference, where, at what speed.
//!
//! # On disk
//! A directory holding immutable *segment* files (sorted postings, see `index/segment.rs`) and
//! a `MANIFEST` naming the live segments and references. The shape follows a measurement made for
//! this access pattern (1 M postings of a 32-bit hash → reference and time): sorted segment files
//! and a manifest built in ~0.1 s at ~12 B per posting with ~0.06 µs lookups, against ~25 s and
//! 71 B per posting for an embedded B-tree's multimap table.
//!
//! - **Crash-safe writes.** A change writes a new segment (fsync), then a new manifest to a
//!   temporary file (fsync), renames it over `MANIFEST` and fsyncs the directory. A process killed
//!   at any point leaves the old manifest or the new one; files no manifest names are deleted by
//!   the next writer.
//! - **One writer at a time** under an exclusive OS advisory lock on `LOCK`, which the kernel
//!   releases when the process dies, so a writer killed with SIGKILL blocks nobody.
//! - **Readers take no lock**: they read the manifest and map the segments it names. A segment is
//!   never changed once named, and a writer deletes only segments that no manifest names any more
//!   (on Unix a reader's mapping outlives the deletion).
//! - **Checksums**: the manifest carries a CRC-32 of its text, each segment of its header and
//!   body; a bit flip or truncation is reported as [`Error::Index`], never used.
//! - **Versioned**: a manifest or segment of a newer format is refused with a clear error.
//! - Removing a reference drops it from the manifest (its postings are ignored from then on);
//!   merging segments drops its postings for good. New segments are merged size-tiered (like a
//!   binary counter), so adding many files one by one costs O(n log n) posting copies.
//! - **Merges stream**: the merged segment is written bucket by bucket from the sources' maps,
//!   so a merge (and [`Index::compact`]) holds one bucket's postings in memory, not the
//!   segment: compacting a 1000 h archive (466 M postings, 3.3 GB) takes 7 MB of anonymous
//!   memory (`benches/README.md`, session 7).
// `deny`, not `forbid`, only so that the segment reader below may map its files.
#![deny(unsafe_code)]

mod candidates;
mod matching;
mod refine;
mod segment;

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::container::ContainerFacts;
use crate::decode::{Audio, AudioInfo, AudioReader, DecodeOptions};
use crate::error::{Error, Result};
use crate::fingerprint::{
    BackgroundFingerprint, FINE_STEPS, FineOffsets, Fingerprint, FingerprintBuilder,
    FingerprintConfig, Landmark, SIGNATURE_FRAMES,
};
use crate::report::ASSERTED;
use crate::signal::{AnalysisStream, DEFAULT_ANALYSIS_RATE_HZ, MonoResampler, mix_to_mono};
use crate::spectrogram::{SpectrogramConfig, SpectrogramStream};

use candidates::CandidateVote;
use matching::{Hit, LineSearch};
use rayon::prelude::*;
use refine::{ClipSignatures, Joint};
use segment::{
    HASH_BITS, MAX_REFS_PER_SEGMENT, MAX_SEGMENT_FRAMES, MAX_SPAN, Posting, STOP_FRACTION, Segment,
    StopList,
};

const MANIFEST: &str = "MANIFEST";
const LOCK: &str = "LOCK";
/// The first line of a manifest starts with this.
const MANIFEST_TAG: &str = "clip-provenance-index";
/// The manifest format this build writes and reads.
const MANIFEST_VERSION: u32 = 1;
/// Size-tiered merging: the two newest segments are merged while the newer holds at least this
/// fraction of the older's postings (a binary counter when it is 1/2).
const MERGE_RATIO: f64 = 0.5;
/// Frames per spectrogram block while fingerprinting a reference.
const INGEST_BLOCK_FRAMES: usize = 256;
/// How often a reader retries when a writer replaced the manifest under it.
const OPEN_RETRIES: usize = 8;

/// What fingerprints in an index are made with. Queries must use the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexSettings {
    /// Rate of the mono analysis signal, in Hz.
    pub analysis_rate_hz: u32,
    /// The STFT the fingerprints are taken from.
    pub spectrogram: SpectrogramConfig,
    /// Peak picking and hashing.
    pub fingerprint: FingerprintConfig,
}

impl IndexSettings {
    /// Checks every field, and that an index can store the fingerprints' spans.
    fn validate(&self) -> Result<()> {
        self.fingerprint.validate()?;
        self.spectrogram.validate(self.analysis_rate_hz)?;
        if self.fingerprint.zone_max_frames > u32::from(MAX_SPAN) {
            return Err(Error::config(
                "fingerprint.zone_max_frames",
                format!("an index stores spans of at most {MAX_SPAN} frames"),
            ));
        }
        Ok(())
    }

    /// A fingerprint builder for spectrogram blocks made with these settings.
    pub(crate) fn fingerprint_builder(&self) -> Result<FingerprintBuilder> {
        self.validate()?;
        let bin_hz = f64::from(self.analysis_rate_hz) / self.spectrogram.window_samples as f64;
        FingerprintBuilder::new(
            &self.fingerprint,
            self.analysis_rate_hz,
            self.spectrogram.hop_samples,
            self.spectrogram.bins(),
            bin_hz,
        )
    }
}

impl Default for IndexSettings {
    fn default() -> Self {
        IndexSettings {
            analysis_rate_hz: DEFAULT_ANALYSIS_RATE_HZ,
            spectrogram: SpectrogramConfig::default(),
            fingerprint: FingerprintConfig::default(),
        }
    }
}

/// A reference recording in the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The name it was added under (the file's base name by default), as reports show it.
    pub name: String,
    /// Its duration in seconds (decoded samples / rate).
    pub duration_s: f64,
    /// When it was added, RFC 3339 UTC.
    pub added: String,
    /// The path it was added from, as given.
    pub source: Option<String>,
    /// The decoded audio stream.
    pub audio: Option<AudioInfo>,
    /// Its container facts, where known.
    pub container: Option<ContainerFacts>,
    /// Landmarks stored.
    pub landmarks: u64,
    segment: String,
    local: u16,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SegmentEntry {
    file: String,
    refs: usize,
    postings: usize,
    /// Frames of all its references (removed ones too), so that merges stay within
    /// [`MAX_SEGMENT_FRAMES`].
    #[serde(default)]
    frames: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Manifest {
    generation: u64,
    settings: IndexSettings,
    segments: Vec<SegmentEntry>,
    references: Vec<IndexEntry>,
}

/// A stretch of a clip found in a reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    /// Start in the clip, seconds.
    pub clip_start_s: f64,
    /// End in the clip, seconds.
    pub clip_end_s: f64,
    /// The reference's name in the index.
    pub reference: String,
    /// Start in the reference, seconds.
    pub reference_start_s: f64,
    /// End in the reference, seconds.
    pub reference_end_s: f64,
    /// Reference seconds per clip second: 1.03 means the clip plays the reference 3 % faster.
    pub speed: f64,
    /// How sure the match is real, in [0, 1]: 1 − the probability of so many aligned hits by
    /// chance, or of so much agreement of the frame signatures along the line without a copy,
    /// whichever is smaller (each corrected for the alignments searched). Matches at ≥ 0.5 are
    /// asserted.
    pub confidence: f64,
    /// Clip landmarks that support the match.
    pub support: usize,
    /// True when the "reference" is the clip itself: the stretch occurs twice in the clip
    /// (copy-move), the earlier occurrence at `reference_start_s`. Evidence of editing, not of
    /// archive reuse.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub within_clip: bool,
}

/// Two adjacent pieces of one reference whose reference times continue within this (seconds)
/// are one piece split by a pause, not a splice.
const CONTINUES_S: f64 = 0.1;

/// A speed estimate may be off by this fraction (the matcher's coarse speed cell, 2 %), so the
/// alignment of two matches of one piece may drift apart by this much per second of gap.
const SPEED_TOLERANCE: f64 = 0.02;

impl Match {
    /// True for an asserted match with an archive recording (not a copy inside the clip).
    pub(crate) fn is_asserted_archive(&self) -> bool {
        !self.within_clip && self.confidence >= ASSERTED
    }

    /// Moves the clip start to `start`, the reference start with it along the match's line.
    fn set_clip_start(&mut self, start: f64) {
        self.reference_start_s += self.speed * (start - self.clip_start_s);
        self.clip_start_s = start;
    }

    /// Moves the clip end to `end`, the reference end with it along the match's line.
    fn set_clip_end(&mut self, end: f64) {
        self.reference_end_s = self.reference_start_s + self.speed * (end - self.clip_start_s);
        self.clip_end_s = end;
    }

    /// True when `next` carries on where this match stops in the same recording: a pause, or a
    /// stretch the matcher lost (noise, a speed change that split one piece into several lines),
    /// between two matches of one piece. A deletion makes the reference jump further than the
    /// drift allows. The one rule for "one piece": the report's boundaries, the verdict's count
    /// of pieces and the index's joins all read it.
    pub(crate) fn continues(&self, next: &Match) -> bool {
        let gap_s = (next.clip_start_s - self.clip_end_s).abs();
        let speed = 0.5 * (self.speed + next.speed);
        self.reference == next.reference
            && self.within_clip == next.within_clip
            && ((next.reference_start_s - self.reference_end_s)
                - speed * (next.clip_start_s - self.clip_end_s))
                .abs()
                <= CONTINUES_S + SPEED_TOLERANCE * gap_s
    }

    /// The match of a run of hits, times converted from frames of `frame_s` seconds.
    /// A start whose line falls before the reference's beginning (an edge placed a frame or two
    /// early at the very start of what it copies, such as a loop's second pass) is moved to the
    /// clip time where the reference begins, so that both intervals stay one piece of audio.
    fn from_run(run: &matching::Run, frame_s: f64, reference: &str, within_clip: bool) -> Match {
        let reference_at = |tq: f64| (run.speed * tq + run.offset).max(0.0) * frame_s;
        let begins = if run.speed > 0.0 {
            -run.offset / run.speed
        } else {
            0.0
        };
        let start = f64::from(run.tq_start)
            .max(begins)
            .min(f64::from(run.tq_end));
        Match {
            clip_start_s: start * frame_s,
            clip_end_s: f64::from(run.tq_end) * frame_s,
            reference: reference.to_string(),
            reference_start_s: reference_at(start),
            reference_end_s: reference_at(f64::from(run.tq_end)),
            speed: run.speed,
            confidence: 1.0 - 10f64.powf(run.log10_chance),
            support: run.support,
            within_clip,
        }
    }

    /// The run this match was made from ([`Match::from_run`]), up to rounding: its line and clip
    /// interval in frames of `frame_s` (the run's chance is not kept: 0).
    fn line(&self, frame_s: f64) -> matching::Run {
        matching::Run {
            speed: self.speed,
            offset: (self.reference_start_s - self.speed * self.clip_start_s) / frame_s,
            tq_start: (self.clip_start_s / frame_s).round() as u32,
            tq_end: (self.clip_end_s / frame_s).round() as u32,
            support: self.support,
            log10_chance: 0.0,
        }
    }

    /// A match at speed 1 of `reference` for the clip interval `clip`, starting at
    /// `reference_start_s` (for the unit tests of the stages that read matches).
    #[cfg(test)]
    pub(crate) fn at_speed_one(
        reference: &str,
        clip: (f64, f64),
        reference_start_s: f64,
        confidence: f64,
    ) -> Match {
        Match {
            clip_start_s: clip.0,
            clip_end_s: clip.1,
            reference: reference.into(),
            reference_start_s,
            reference_end_s: reference_start_s + clip.1 - clip.0,
            speed: 1.0,
            confidence,
            support: 30,
            within_clip: false,
        }
    }

    /// Orders matches strongest first: by confidence, then by support.
    pub(crate) fn strongest_first(a: &Match, b: &Match) -> std::cmp::Ordering {
        b.confidence
            .total_cmp(&a.confidence)
            .then(b.support.cmp(&a.support))
    }
}

/// An archive index on disk. See the module docs for the format and its guarantees.
pub struct Index {
    dir: PathBuf,
    manifest: Manifest,
    segments: Vec<Segment>,
    /// The hashes queries skip, counted over all segments.
    stop: StopList,
    /// [`FINE_FILTER_MIN_POSTINGS`] (a field so that tests can filter a small index).
    fine_filter_min_postings: usize,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("dir", &self.dir)
            .field("generation", &self.manifest.generation)
            .field("references", &self.manifest.references.len())
            .field("segments", &self.segments.len())
            .finish()
    }
}

/// The exclusive writer lock, released on drop (and by the kernel if the process dies).
struct WriterLock {
    file: File,
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

impl Index {
    /// Creates an empty index at `dir` (created if absent) with `settings`.
    ///
    /// # Errors
    /// [`Error::Index`] when `dir` already holds an index; [`Error::Io`] when it cannot be written.
    pub fn create(dir: impl AsRef<Path>, settings: IndexSettings) -> Result<Index> {
        let dir = dir.as_ref();
        settings.validate()?;
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let _lock = lock(dir)?;
        if dir.join(MANIFEST).exists() {
            return Err(Error::index(dir, "an index already exists here"));
        }
        let manifest = Manifest {
            generation: 0,
            settings,
            segments: Vec::new(),
            references: Vec::new(),
        };
        write_manifest(dir, &manifest)?;
        Ok(Index {
            dir: dir.to_path_buf(),
            manifest,
            segments: Vec::new(),
            stop: StopList::default(),
            fine_filter_min_postings: FINE_FILTER_MIN_POSTINGS,
        })
    }

    /// Opens the index at `dir`, verifying the manifest and every segment's checksums.
    ///
    /// # Errors
    /// [`Error::Index`] naming the file at fault when `dir` holds no index, or a damaged one (a
    /// checksum that does not match, a segment truncated or missing), or one of a newer format;
    /// [`Error::Io`] when it cannot be read.
    pub fn open(dir: impl AsRef<Path>) -> Result<Index> {
        let dir = dir.as_ref();
        let mut manifest = read_manifest(dir)?;
        for _ in 0..OPEN_RETRIES {
            match open_segments(dir, &manifest) {
                Ok(segments) => {
                    return Ok(Index {
                        dir: dir.to_path_buf(),
                        manifest,
                        stop: StopList::of(&segments, STOP_FRACTION),
                        fine_filter_min_postings: FINE_FILTER_MIN_POSTINGS,
                        segments,
                    });
                }
                Err(Error::Io { source, path })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    // Either a writer replaced the manifest and deleted the segment between our
                    // two reads (then the manifest is new: try again), or the segment is gone.
                    let now = read_manifest(dir)?;
                    if now == manifest {
                        return Err(Error::index(
                            path,
                            "missing: the manifest names this segment but it is not there",
                        ));
                    }
                    manifest = now;
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::index(
            dir,
            "the manifest kept changing while the index was opened",
        ))
    }

    /// Opens the index at `dir`, creating it with default settings when there is none.
    ///
    /// # Errors
    /// As [`Index::open`] and [`Index::create`].
    pub fn open_or_create(dir: impl AsRef<Path>) -> Result<Index> {
        let dir = dir.as_ref();
        if dir.join(MANIFEST).exists() {
            Index::open(dir)
        } else {
            match Index::create(dir, IndexSettings::default()) {
                // Another process created it in between.
                Err(Error::Index { .. }) if dir.join(MANIFEST).exists() => Index::open(dir),
                other => other,
            }
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The settings fingerprints must be made with to query this index.
    pub fn settings(&self) -> &IndexSettings {
        &self.manifest.settings
    }

    /// The references, in the order they were added.
    pub fn list(&self) -> &[IndexEntry] {
        &self.manifest.references
    }

    /// Total duration of the references, in seconds.
    pub fn total_duration_s(&self) -> f64 {
        self.manifest.references.iter().map(|r| r.duration_s).sum()
    }

    /// Bytes of the segment files on disk.
    pub fn size_bytes(&self) -> u64 {
        self.segments
            .iter()
            .filter_map(|s| fs::metadata(s.path()).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Re-reads the manifest to see what other writers did.
    ///
    /// # Errors
    /// As [`Index::open`].
    pub fn reload(&mut self) -> Result<()> {
        *self = Index::open(&self.dir)?;
        Ok(())
    }

    /// Decodes and fingerprints the file at `path` and adds it under `name` (its base name when
    /// `None`). Memory stays bounded whatever the file's length: decoding and the spectrogram
    /// stream; only the landmarks (a few dozen per second) are kept.
    ///
    /// # Errors
    /// [`Error::Index`] when the name is taken and `replace` is false; decoding errors as
    /// [`AudioReader::open_path`]; [`Error::Limit`] for a reference longer than a segment can
    /// count (9 544 hours).
    pub fn add_path(
        &mut self,
        path: impl AsRef<Path>,
        name: Option<&str>,
        replace: bool,
    ) -> Result<IndexEntry> {
        let path = path.as_ref();
        let name = match name {
            Some(n) => n.to_string(),
            None => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| {
                    Error::config("name", format!("{} has no file name", path.display()))
                })?,
        };
        self.check_name(&name, replace)?;
        let reader = AudioReader::open_path(path, &DecodeOptions::default())?;
        let facts = reader.container_facts().cloned();
        let (fingerprint, audio, native_samples) =
            fingerprint_reader(reader, &self.manifest.settings, false)?;
        let duration_s = native_samples as f64 / f64::from(audio.sample_rate.max(1));
        let entry = self.add_fingerprint(
            &name,
            &fingerprint,
            Metadata {
                duration_s,
                source: Some(path.display().to_string()),
                audio: Some(audio),
                container: facts,
            },
            replace,
        )?;
        Ok(entry)
    }

    /// Adds an already computed fingerprint under `name`.
    ///
    /// # Errors
    /// [`Error::Index`] when the name is taken and `replace` is false, or the fingerprint was made
    /// at another rate or hop than the index's settings.
    pub fn add_fingerprint(
        &mut self,
        name: &str,
        fingerprint: &Fingerprint,
        metadata: Metadata,
        replace: bool,
    ) -> Result<IndexEntry> {
        self.check_fingerprint(fingerprint)?;
        let frames = u32::try_from(fingerprint.frames)
            .ok()
            .filter(|&f| u64::from(f) <= MAX_SEGMENT_FRAMES)
            .ok_or_else(|| {
                Error::limit(
                    format!("{name}: reference frames"),
                    MAX_SEGMENT_FRAMES,
                    fingerprint.frames,
                )
            })?;
        let _lock = lock(&self.dir)?;
        let mut manifest = read_manifest_to_write(&self.dir)?;
        check_name_in(&manifest, &self.dir, name, replace)?;
        manifest.references.retain(|r| r.name != name);
        let generation = manifest.generation + 1;
        let file = segment_name(generation);
        let postings: Vec<Posting> = fingerprint
            .landmarks
            .iter()
            .map(|l| Posting {
                hash: l.hash,
                span: l.span_frames.min(u16::from(MAX_SPAN)) as u8,
                fine: l.fine.stored(),
                local: 0,
                frame: l.frame,
            })
            .collect();
        let count = postings.len();
        Segment::write(
            &self.dir.join(&file),
            &[frames],
            &[&fingerprint.signatures],
            postings,
        )?;
        manifest.segments.push(SegmentEntry {
            file: file.clone(),
            refs: 1,
            postings: count,
            frames: u64::from(frames),
        });
        let entry = IndexEntry {
            name: name.to_string(),
            duration_s: metadata.duration_s,
            added: now_rfc3339(),
            source: metadata.source,
            audio: metadata.audio,
            container: metadata.container,
            landmarks: count as u64,
            segment: file,
            local: 0,
        };
        manifest.references.push(entry.clone());
        manifest.generation = generation;
        merge_tiers(&self.dir, &mut manifest)?;
        let entry = manifest
            .references
            .iter()
            .find(|r| r.name == name)
            .cloned()
            .unwrap_or(entry);
        self.commit(manifest)?;
        Ok(entry)
    }

    /// Removes references by name.
    ///
    /// # Errors
    /// [`Error::Index`] naming the first name that is not in the index (nothing is removed then).
    pub fn remove(&mut self, names: &[&str]) -> Result<()> {
        let _lock = lock(&self.dir)?;
        let mut manifest = read_manifest_to_write(&self.dir)?;
        for name in names {
            if !manifest.references.iter().any(|r| r.name == *name) {
                return Err(Error::index(
                    &self.dir,
                    format!("no reference named {name:?}"),
                ));
            }
        }
        manifest
            .references
            .retain(|r| !names.contains(&r.name.as_str()));
        manifest.generation += 1;
        self.commit(manifest)
    }

    /// Merges every segment into one, dropping removed references' postings for good.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails (the index is then unchanged).
    pub fn compact(&mut self) -> Result<()> {
        let _lock = lock(&self.dir)?;
        let mut manifest = read_manifest_to_write(&self.dir)?;
        let all = manifest.segments.len();
        if all > 1
            || manifest
                .segments
                .iter()
                .any(|s| s.refs > live_refs(&manifest, &s.file))
        {
            manifest.generation += 1;
            merge_range(&self.dir, &mut manifest, 0..all)?;
        }
        self.commit(manifest)
    }

    /// Finds where the clip whose (query) fingerprint is `fingerprint` matches references.
    /// `fingerprint` should be made with [`FingerprintBuilder::expanded_for_query`] and this
    /// index's settings. Matches come strongest first.
    ///
    /// # Errors
    /// [`Error::Index`] when the fingerprint was made at another rate or hop.
    pub fn query(&self, fingerprint: &Fingerprint) -> Result<Vec<Match>> {
        self.query_within(fingerprint, MAX_QUERY_HITS)
    }

    /// [`Index::query`] holding at most about `budget` hits at once (see [`MAX_QUERY_HITS`]).
    fn query_within(&self, fingerprint: &Fingerprint, budget: u64) -> Result<Vec<Match>> {
        self.check_fingerprint(fingerprint)?;
        let frame_s = fingerprint.frame_s();
        let clip_frames = u32::try_from(fingerprint.frames).unwrap_or(u32::MAX);
        let search = LineSearch {
            frames_per_s: 1.0 / frame_s,
            searched_frames: self.searched_frames(clip_frames),
            ..LineSearch::default()
        };
        let quiet = refine::quiet_signatures(&fingerprint.signature_loudest_db);
        let levels = refine::signature_levels(&fingerprint.signature_loudest_db);
        let clip = clip_signatures(fingerprint, &quiet, &levels);
        let mut matches = Vec::new();
        // The signatures of each reference that gave a match, read once for its edges and kept
        // for where two matches meet.
        let mut signatures_of: HashMap<String, Vec<u16>> = HashMap::new();
        let mut vote = CandidateVote::default();
        let mut near = Vec::new();
        for (segment_index, segment) in self.segments.iter().enumerate() {
            let file = &self.manifest.segments[segment_index].file;
            // Which live reference each local id of this segment is (removed ones stay None).
            let mut live: Vec<Option<&IndexEntry>> = vec![None; segment.refs()];
            for r in self
                .manifest
                .references
                .iter()
                .filter(|r| &r.segment == file)
            {
                if let Some(slot) = live.get_mut(usize::from(r.local)) {
                    *slot = Some(r);
                }
            }
            // In a large segment only the hits whose fine offsets agree with the clip's count
            // (see `FINE_FILTER_MIN_POSTINGS`).
            let lookup = Lookup {
                segment,
                stop: &self.stop,
                search: &search,
                fine: segment.postings() > self.fine_filter_min_postings,
            };
            let reference_search = ReferenceSearch {
                segment,
                search: &search,
                clip,
                clip_frames,
                frame_s,
            };
            // One reference after another. (Searched on every thread of the pool, the 10-minute
            // clip against the 100 h bench archive took about 60 ms less of about 800; not kept,
            // so that a long query holds one reference's search at a time: session 15 could not
            // tell its effect on a 3-hour query's peak memory from the spread between runs.)
            for_each_reference_hits(&lookup, fingerprint, budget, |first, lists| {
                for (offset, list) in lists.into_iter().enumerate() {
                    let local = first + offset;
                    let Some(entry) = live.get(local).copied().flatten() else {
                        continue;
                    };
                    let Some(found) =
                        reference_search.one(local, entry, &list, &mut vote, &mut near)
                    else {
                        continue;
                    };
                    matches.extend(found.matches);
                    signatures_of.insert(found.name, found.signatures);
                }
            });
        }
        matches.sort_by(Match::strongest_first);
        let pair_s = SIGNATURE_FRAMES as f64 * frame_s;
        let claimed = |m: &Match| claimed_interval(m, clip.quiet, pair_s);
        let mut matches = suppress_covered(matches, claimed);
        yield_quiet_runs(&mut matches, claimed);
        meet_adjacent(&mut matches, clip, &signatures_of, frame_s);
        Ok(matches)
    }

    /// The alignments a query of `clip_frames` frames tests in this index, in frames: each live
    /// reference's frames plus the clip's (see [`LineSearch::searched_frames`]).
    fn searched_frames(&self, clip_frames: u32) -> f64 {
        let mut total = 0.0;
        for (segment, file) in self.segments.iter().zip(&self.manifest.segments) {
            for r in self
                .manifest
                .references
                .iter()
                .filter(|r| r.segment == file.file)
            {
                let frames = if usize::from(r.local) < segment.refs() {
                    segment.ref_frames(usize::from(r.local))
                } else {
                    0
                };
                total += f64::from(frames) + f64::from(clip_frames);
            }
        }
        total
    }

    /// Decodes and fingerprints the clip at `path` with this index's settings and queries it.
    ///
    /// # Errors
    /// Decoding errors as [`AudioReader::open_path`].
    pub fn query_path(&self, path: impl AsRef<Path>) -> Result<Vec<Match>> {
        let reader = AudioReader::open_path(path, &DecodeOptions::default())?;
        let (fingerprint, _, _) = fingerprint_reader(reader, &self.manifest.settings, true)?;
        self.query(&fingerprint)
    }

    /// Queries decoded (or generated) audio, fingerprinted with this index's settings.
    ///
    /// # Errors
    /// [`Error::Config`] for an audio rate outside the accepted range.
    pub fn query_audio(&self, audio: &Audio) -> Result<Vec<Match>> {
        self.query(&fingerprint_audio(audio, &self.manifest.settings, true)?)
    }

    /// Adds decoded (or generated) audio under `name`.
    ///
    /// # Errors
    /// As [`Index::add_fingerprint`].
    pub fn add_audio(&mut self, name: &str, audio: &Audio, replace: bool) -> Result<IndexEntry> {
        self.check_name(name, replace)?;
        let fingerprint = fingerprint_audio(audio, &self.manifest.settings, false)?;
        let metadata = Metadata {
            duration_s: audio.duration_s(),
            audio: Some(audio.info.clone()),
            ..Metadata::default()
        };
        self.add_fingerprint(name, &fingerprint, metadata, replace)
    }

    fn check_name(&self, name: &str, replace: bool) -> Result<()> {
        check_name_in(&self.manifest, &self.dir, name, replace)
    }

    fn check_fingerprint(&self, fingerprint: &Fingerprint) -> Result<()> {
        let s = &self.manifest.settings;
        if fingerprint.sample_rate != s.analysis_rate_hz
            || fingerprint.hop_samples != s.spectrogram.hop_samples
        {
            return Err(Error::index(
                &self.dir,
                format!(
                    "fingerprint made at {} Hz with a hop of {}, the index uses {} Hz and {}",
                    fingerprint.sample_rate,
                    fingerprint.hop_samples,
                    s.analysis_rate_hz,
                    s.spectrogram.hop_samples
                ),
            ));
        }
        Ok(())
    }

    /// Writes `manifest`, deletes segments it no longer names, and maps the new ones.
    ///
    /// Segments this index has mapped already are kept, not verified again: a named segment
    /// never changes, and reading every segment back on every add would make an add cost the
    /// whole index's size.
    fn commit(&mut self, manifest: Manifest) -> Result<()> {
        write_manifest(&self.dir, &manifest)?;
        delete_unnamed_segments(&self.dir, &manifest);
        let is_mapped = |file: &str| self.manifest.segments.iter().any(|s| s.file == file);
        // Fallible part first, so that an error leaves this index as it was.
        let mut fresh: Vec<Option<Segment>> = manifest
            .segments
            .iter()
            .map(|s| {
                if is_mapped(&s.file) {
                    Ok(None)
                } else {
                    open_segment(&self.dir, s).map(Some)
                }
            })
            .collect::<Result<_>>()?;
        let mut mapped: Vec<(String, Segment)> = self
            .manifest
            .segments
            .iter()
            .map(|s| s.file.clone())
            .zip(std::mem::take(&mut self.segments))
            .collect();
        for (entry, slot) in manifest.segments.iter().zip(fresh.iter_mut()) {
            if slot.is_none() {
                let at = mapped
                    .iter()
                    .position(|(file, _)| *file == entry.file)
                    .expect("a segment not opened above is one this index has mapped");
                *slot = Some(mapped.swap_remove(at).1);
            }
        }
        self.segments = fresh
            .into_iter()
            .map(|s| s.expect("every segment was opened or taken over"))
            .collect();
        self.stop = StopList::of(&self.segments, STOP_FRACTION);
        self.manifest = manifest;
        Ok(())
    }
}

/// Two matches whose edges are this close (seconds, a gap or an overlap) meet at one boundary
/// (see [`meet_adjacent`]).
const MEET_S: f64 = 1.0;

/// A hash found at more places than this in one clip is common in it (about one occurrence per
/// 10 s of a 3-minute clip, while a copied stretch needs each of its hashes twice): the
/// within-clip search pairs each of its landmarks with only the
/// [`NEAREST_PLACES_OF_COMMON_HASH`] nearest earlier places. (Until session 17 such hashes were
/// left out, so a stretch looped more than 16 times was never found: 2 s of speech played 25
/// times read as authentic.)
const MAX_OCCURRENCES_IN_CLIP: usize = 16;

/// The earlier places a landmark of a common hash is paired with (see
/// [`MAX_OCCURRENCES_IN_CLIP`]): the nearest one, a loop's previous pass. So the search's
/// memory stays linear in the clip's length and small: a 3-hour clip holds about 1.4 M
/// landmarks at its own speed and 7.7 M with the expanded ones, whose hashes are mostly common
/// there; pairing each of the former with its two nearest places, its search (2.6 M hits and
/// their votes) raised the analysis's peak from 245 to 407 MB.
const NEAREST_PLACES_OF_COMMON_HASH: usize = 1;

/// A stretch repeated within a clip must lie at least this many seconds from its copy: closer
/// repeats are the same sounds seen twice by overlapping triplets, or a sustained sound.
const MIN_COPY_DISTANCE_S: f64 = 1.0;

/// Hits a query holds at once in one segment: 16 M, about 200 MB (12 bytes a hit). A 30 s clip
/// gathers about 20 000 chance hits per hour of archive in a segment searched whole, about 4 700
/// in one whose lookups keep only hits near the clip's fine offsets
/// ([`FINE_FILTER_MIN_POSTINGS`]; 2.0 M and 4.7 M at the 100 h and 1000 h bench archives), so a
/// 10-minute clip reaches it at about 40 h of archive whole or 180 h filtered, a 3-hour clip at
/// about 2 h or 10 h. Measured before format 5: a 10-minute clip
/// against the 100 h bench archive peaked at 1.47 GB resident before the budget and 0.70 GB
/// with it (of which about 0.33 GB are the segment files' mapped pages), with the same matches.
const MAX_QUERY_HITS: u64 = 1 << 24;

/// Postings of a segment above which its lookups keep only the hits whose fine offsets lie near
/// the clip's ([`crate::fingerprint::FineOffsets::admits`]): 20 M, about 43 hours of speech.
///
/// What the filter buys, measured in one run each (criterion, 30 s clip, the bench archives,
/// filter on against format 4's code): 10 h 21.0 → 22.2 ms, 100 h 97.7 → 83.1 ms, 1000 h
/// 1.01 → 0.43 s (hits 39.8 M → 4.7 M); past the caches a lookup's cost is the bucket it reads
/// more than the hits it keeps. Unfiltered, format 5 costs 15–25 % more than format 4 at 100 h
/// (locating each hit's reference from its frame). What it costs: supports that the fine window
/// misses (a low-bit-rate codec moves peaks), so a few short pieces fewer asserted: against the
/// 100 h accuracy archive, pieces of at least 2 / 3 / 5 s found on the training split
/// 0.887 / 0.933 / 0.985 → 0.879 / 0.927 / 0.983, test split 0.940 / 0.959 / 0.969 →
/// 0.938 / 0.958 / 0.972; against the benchmark's own 7.7-minute archive, training 0.927 /
/// 0.951 / 0.985 → 0.922 / 0.948 / 0.985, test 0.969 / 0.971 / 0.969 → 0.970 / 0.975 / 0.972.
/// So a small archive, where a query is cheap anyway, is searched whole. (Filtered hits
/// choosing the candidate references and every hit of those then searched kept recall whole but
/// read the candidates' buckets twice: slower than no filter at 10, 100 and 1000 h on a clip
/// that matches.)
const FINE_FILTER_MIN_POSTINGS: usize = 20_000_000;

/// What one segment's references are searched with, once their hits are collected.
struct ReferenceSearch<'a> {
    segment: &'a Segment,
    search: &'a LineSearch,
    clip: ClipSignatures<'a>,
    clip_frames: u32,
    frame_s: f64,
}

/// The matches found in one reference, and its signatures (read for its edges, kept for where
/// two matches meet).
struct ReferenceFound {
    name: String,
    matches: Vec<Match>,
    signatures: Vec<u16>,
}

impl ReferenceSearch<'_> {
    /// The matches of one reference (local id `local`) from its whole hits `list`, or `None`
    /// when no run is found.
    fn one(
        &self,
        local: usize,
        entry: &IndexEntry,
        list: &[Vec<Hit>],
        vote: &mut CandidateVote,
        near: &mut Vec<Hit>,
    ) -> Option<ReferenceFound> {
        let (search, clip, clip_frames) = (self.search, self.clip, self.clip_frames);
        let ref_frames = self.segment.ref_frames(local);
        // The line search only where a cheap vote finds far more hits than chance.
        vote.select_parts(list, clip_frames, ref_frames, search, near);
        if near.is_empty() {
            return None;
        }
        let hits = list.iter().map(Vec::len).sum();
        let mut runs =
            matching::find_runs(std::mem::take(near), hits, clip_frames, ref_frames, search);
        if runs.is_empty() {
            return None;
        }
        let signatures = self.segment.signatures(local);
        let log10_lines = search.lines_tested(clip_frames, ref_frames).log10();
        for run in &mut runs {
            if refine_run(run, clip, &signatures, search) {
                // The signatures along the line are evidence of their own: a piece with too few
                // landmarks for its length can still agree in hundreds of bits.
                let by_signatures =
                    refine::signature_log10_chance(run, clip, &signatures) + log10_lines;
                run.log10_chance = run.log10_chance.min(by_signatures.min(0.0));
            }
        }
        let matches = join_collinear(runs, search)
            .iter()
            .map(|run| Match::from_run(run, self.frame_s, &entry.name, false))
            .collect();
        Some(ReferenceFound {
            name: entry.name.clone(),
            matches,
            signatures,
        })
    }
}

/// What a query looks hashes up in: one segment, skipping the index's stop list, keeping the
/// spans `search` allows.
struct Lookup<'a> {
    segment: &'a Segment,
    stop: &'a StopList,
    search: &'a LineSearch,
    /// Keep only the postings whose fine offsets lie near the landmark's.
    fine: bool,
}

/// Calls `found` with each posting of each of the clip's distinct landmarks (the expanded hashes
/// of one triplet follow each other and are looked up once) whose span fits a speed `search`
/// covers (see `matching::span_fits`) and whose fine offsets lie near the landmark's
/// ([`crate::fingerprint::FineOffsets::admits`]): any other supports no line, and the vote and
/// the line search would only pass over it. They are most chance hits: a hash's span class is
/// an octave wide, the speeds searched ±8 %, and a hash cell wider than the fine offsets'
/// window.
fn for_each_posting(
    lookup: &Lookup<'_>,
    landmarks: &[Landmark],
    mut found: impl FnMut(&Landmark, u16, u32, u8),
) {
    let mut last = None;
    let mut ranges = Vec::new();
    let mut buckets = Vec::with_capacity(LOOKAHEAD_LANDMARKS);
    let mut touched = 0u8;
    for (i, l) in landmarks.iter().enumerate() {
        if i % LOOKAHEAD_LANDMARKS == 0 {
            // Start reading the next landmarks' buckets together (see `LOOKAHEAD_LANDMARKS`).
            let ahead = &landmarks[i..landmarks.len().min(i + LOOKAHEAD_LANDMARKS)];
            buckets.clear();
            buckets.extend(ahead.iter().map(|l| lookup.segment.bucket_range(l.hash)));
            for &bucket in &buckets {
                touched ^= lookup.segment.touch_postings(bucket, LOOKAHEAD_LINES);
            }
        }
        // Unfiltered, two triplets of one hash, anchor and span find the same postings; filtered,
        // their fine offsets may differ.
        let fine = if lookup.fine {
            l.fine
        } else {
            FineOffsets::default()
        };
        let key = Some((l.hash, l.frame, l.span_frames, fine));
        if last == key {
            continue;
        }
        last = key;
        if lookup.stop.stops(l.hash) {
            continue;
        }
        let deviation = lookup.search.max_speed_deviation;
        let tolerance = &lookup.search.fine_tolerance;
        let steps = if lookup.fine {
            l.fine.ratio_steps(l.span_frames, tolerance)
        } else {
            Some((0, FINE_STEPS - 1))
        };
        let Some((first_step, last_step)) = steps else {
            continue;
        };
        let admitted = lookup
            .fine
            .then(|| l.fine.admitted(l.span_frames, tolerance));
        // Per span that fits, the keys of the ratio steps that may be admitted: a bucket is
        // ordered by span, then ratio step (see `segment::Posting`).
        ranges.clear();
        ranges.extend(
            matching::spans_fitting(l.span_frames, deviation)
                .filter(|&span| matching::span_fits(l.span_frames, u16::from(span), deviation))
                .map(|span| segment::ratio_keys(span, first_step, last_step)),
        );
        lookup
            .segment
            .lookup_keys(l.hash, &ranges, |span, fine, at| {
                if admitted.is_none_or(|a| a.admits(fine)) {
                    let (local, frame) = lookup.segment.locate(at);
                    found(l, local, frame, span);
                }
            });
    }
    // The bytes read ahead are used only for their loads; keep them from being optimised away.
    std::hint::black_box(touched);
}

/// Landmarks whose buckets [`for_each_posting`] reads ahead together before looking them up: a
/// lookup's time is its cache misses (the bucket's bounds, then its postings in a file of
/// hundreds of megabytes), and loads that do not depend on each other overlap, so the misses of
/// 32 lookups cost about what one does when waited for one by one. Safe code has no prefetch
/// instruction, so each is a real load of a byte of each cache line. The 10-minute clip
/// against the 100 h bench archive: 16, 32 and 64 landmarks saved about the same, a fifth of
/// the lookups' time (`benches/README.md`, session 15).
const LOOKAHEAD_LANDMARKS: usize = 32;
/// Cache lines of a bucket's postings read ahead (64 bytes each): a bucket of the 100 h bench
/// archive holds about 200 postings of 6 bytes where a query looks (the buckets of common
/// hashes are the ones most looked up), about 19 lines.
const LOOKAHEAD_LINES: usize = 32;

/// Parts of the clip's landmarks gauge each reference's hits on the first of this many pieces
/// of theirs (see [`collect_hits_in_parts`]).
const HEAD_PARTS: usize = 16;

/// The hits of one lookup pass as they are gathered: when the hits kept pass the budget, the
/// last reference still kept is given up (its hits freed, only counted from then on), so the
/// pass ends with the whole hits of the leading references that fit and the counts of all, for
/// [`hit_groups`] to plan the passes of the rest. (Until session 7 a pass over the budget freed
/// every hit and counted only, so a query over the budget read the segment once more than now.)
struct Gathering {
    /// The hits of references `first`, `first + 1`, … still kept whole.
    hits: Vec<Vec<Hit>>,
    /// The hits of every reference of the pass, counted.
    counts: Vec<u64>,
    first: usize,
    kept: u64,
    budget: u64,
}

impl Gathering {
    /// A pass over the references `locals`, in `prepared` lists when given (one per reference).
    fn new(locals: std::ops::Range<usize>, budget: u64, prepared: Option<Vec<Vec<Hit>>>) -> Self {
        Gathering {
            hits: prepared.unwrap_or_else(|| vec![Vec::new(); locals.len()]),
            counts: vec![0; locals.len()],
            first: locals.start,
            kept: 0,
            budget,
        }
    }

    /// Looks up `landmarks` (the next ones of the clip, in order) and gathers their hits.
    fn gather(&mut self, lookup: &Lookup<'_>, landmarks: &[Landmark]) {
        for_each_posting(lookup, landmarks, |l, local, frame, span| {
            self.add(l, local, frame, span);
        });
    }

    fn add(&mut self, l: &Landmark, local: u16, frame: u32, span: u8) {
        let Some(i) = usize::from(local)
            .checked_sub(self.first)
            .filter(|&i| i < self.counts.len())
        else {
            return;
        };
        self.counts[i] += 1;
        let Some(list) = self.hits.get_mut(i) else {
            return;
        };
        list.push(Hit {
            tq: l.frame,
            sq: l.span_frames,
            tr: frame,
            sr: u16::from(span),
        });
        self.kept += 1;
        while self.kept > self.budget {
            let Some(given_up) = self.hits.pop() else {
                break;
            };
            self.kept -= given_up.len() as u64;
        }
    }
}

/// The whole hits of consecutive references gathered on several threads: for each reference,
/// its hits in consecutive parts of the clip, one list per part (in clip order one after
/// another).
type PartedHits = Vec<Vec<Vec<Hit>>>;

/// The hits of the references `locals` of the segment, over the clip's landmarks cut into
/// `parts` consecutive parts (one per thread of the current rayon pool), each part's lookups on
/// a thread of its own with an equal share of `budget` (see [`Gathering`]): the same hits in the
/// same order as one pass over all landmarks, each reference's held in one list per part (the
/// parts are cut where the anchor frame changes, so no landmark a part skips as a repeat of the
/// one before is looked up twice); only the leading references kept whole may be fewer.
/// Lookups are bound by memory latency, not bandwidth, so two threads read about twice as many
/// buckets in the same time (session 8 found no gain in the same cut with one list per
/// reference joined after: copying the lists and more passes over the budget ate it).
///
/// Every list is made on the calling thread, so that each pass's lists come from (and go back
/// to) one allocator arena instead of one per pool thread, each keeping what it freed (reasoned,
/// not measured: session 15's peaks of a 3-hour query spread by 0.3 GB between runs): from
/// `room`, an earlier pass's counts of the same parts, when given; else each part first gathers
/// the hits of the first sixteenth of its landmarks, which says how many each reference will gather,
/// and its lists are given room for them at once (and a quarter more) instead of growing by
/// doubling, each time copied into new memory the kernel must first map and clear (a fifth of
/// a 10-minute query against the 100 h bench archive went there). Room not used is address
/// space, never touched.
fn collect_hits_in_parts(
    lookup: &Lookup<'_>,
    landmarks: &[Landmark],
    locals: std::ops::Range<usize>,
    budget: u64,
    parts: usize,
    room: Option<&[Vec<u64>]>,
) -> PartsCollected {
    let parts = landmark_parts(landmarks, parts);
    let share = budget / parts.len() as u64;
    let sized = room.is_some_and(|room| room.len() == parts.len());
    let mut gatherings: Vec<Gathering> = (0..parts.len())
        .map(|part| {
            let prepared = room.filter(|_| sized).map(|room| {
                let lists = locals.clone().map(|local| {
                    let counted = room[part].get(local).copied().unwrap_or(0);
                    Vec::with_capacity(usize::try_from(counted).unwrap_or(0))
                });
                lists.collect()
            });
            Gathering::new(locals.clone(), share, prepared)
        })
        .collect();
    let heads: Vec<usize> = parts
        .iter()
        .map(|part| {
            let head = landmark_parts(part, HEAD_PARTS);
            head.first().map_or(0, |head| head.len())
        })
        .collect();
    gatherings
        .par_iter_mut()
        .zip(&parts)
        .zip(&heads)
        .for_each(|((gathering, part), &head)| gathering.gather(lookup, &part[..head]));
    for ((gathering, part), &head) in gatherings.iter_mut().zip(&parts).zip(&heads) {
        if !sized && head > 0 && head < part.len() {
            let scale = part.len() as f64 / head as f64 * 1.25;
            for list in &mut gathering.hits {
                // A new list, not `reserve`: glibc's realloc keeps a block in its own arena.
                let expected = (list.len() as f64 * scale) as usize;
                let mut resized = Vec::with_capacity(expected.max(list.len()));
                resized.extend_from_slice(list);
                *list = resized;
            }
        }
    }
    gatherings
        .par_iter_mut()
        .zip(&parts)
        .zip(&heads)
        .for_each(|((gathering, part), &head)| gathering.gather(lookup, &part[head..]));
    let kept = gatherings.iter().map(|g| g.hits.len()).min().unwrap_or(0);
    let mut counts = vec![0u64; locals.len()];
    let mut hits: PartedHits = (0..kept).map(|_| Vec::new()).collect();
    let mut part_counts = Vec::with_capacity(gatherings.len());
    for part in gatherings {
        for (into, from) in counts.iter_mut().zip(&part.counts) {
            *into += from;
        }
        for (reference, list) in hits.iter_mut().zip(part.hits) {
            reference.push(list);
        }
        part_counts.push(part.counts);
    }
    PartsCollected {
        hits,
        counts,
        part_counts,
    }
}

/// What [`collect_hits_in_parts`] gathered.
struct PartsCollected {
    /// The whole hits of the leading references, in parts.
    hits: PartedHits,
    /// The hits of every reference asked for, counted.
    counts: Vec<u64>,
    /// The same, per part.
    part_counts: Vec<Vec<u64>>,
}

/// `landmarks` (in anchor order) cut into at most `parts` consecutive slices of about equal
/// length, each cut where the anchor frame changes; never an empty slice, one slice for no
/// landmarks.
fn landmark_parts(landmarks: &[Landmark], parts: usize) -> Vec<&[Landmark]> {
    let mut slices = Vec::new();
    let mut rest = landmarks;
    for left in (2..=parts.max(1)).rev() {
        let mut cut = rest.len() / left;
        while cut > 0 && cut < rest.len() && rest[cut].frame == rest[cut - 1].frame {
            cut += 1;
        }
        if cut == 0 || cut >= rest.len() {
            continue;
        }
        let (head, tail) = rest.split_at(cut);
        slices.push(head);
        rest = tail;
    }
    slices.push(rest);
    slices
}

/// Calls `each(first, lists)` with the whole hits of consecutive references of the segment,
/// `lists[i]` those of reference `first + i` (in parts, see [`collect_hits_in_parts`]), in
/// reference order, holding at most about `budget` hits at once: all of them when they fit (one
/// pass), else groups of consecutive references that do, each collected in a pass of its own,
/// so memory stays bounded whatever the clip's length and the archive's size.
fn for_each_reference_hits(
    lookup: &Lookup<'_>,
    fingerprint: &Fingerprint,
    budget: u64,
    mut each: impl FnMut(usize, PartedHits),
) {
    let (landmarks, threads) = (&fingerprint.landmarks, rayon::current_num_threads());
    let all = 0..lookup.segment.refs();
    let first_pass = collect_hits_in_parts(lookup, landmarks, all, budget, threads, None);
    let kept = first_pass.hits.len();
    each(0, first_pass.hits);
    for range in hit_groups(&first_pass.counts[kept..], budget) {
        let range = kept + range.start..kept + range.end;
        let first = range.start;
        let room = Some(first_pass.part_counts.as_slice());
        let pass = collect_hits_in_parts(lookup, landmarks, range, u64::MAX, threads, room);
        each(first, pass.hits);
    }
}

/// Consecutive references grouped so that each group's hits stay within `budget` (a reference
/// that alone exceeds it is a group of its own).
fn hit_groups(counts: &[u64], budget: u64) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let (mut start, mut total) = (0, 0u64);
    for (local, &n) in counts.iter().enumerate() {
        if local > start && total + n > budget {
            groups.push(start..local);
            (start, total) = (local, 0);
        }
        total += n;
    }
    if start < counts.len() {
        groups.push(start..counts.len());
    }
    groups
}

/// Stretches of a clip that occur twice in it (copy-move: a loop, a repeated sentence), from the
/// clip's own query fingerprint (made with [`FingerprintBuilder::expanded_for_query`]). Each is
/// reported at its later occurrence, with the earlier one as `reference_start_s`..`_end_s` and
/// `reference` = `name`. Pauses hold no peaks (see the fingerprint's level envelope), so room
/// tone repeated in pauses does not count as a copy.
pub fn within_clip_matches(fingerprint: &Fingerprint, name: &str) -> Vec<Match> {
    let frame_s = fingerprint.frame_s();
    let frames = u32::try_from(fingerprint.frames).unwrap_or(u32::MAX);
    let min_distance = (MIN_COPY_DISTANCE_S / frame_s).round() as u32;
    let mut own: HashMap<u32, Vec<(u32, u16)>> = HashMap::new();
    for l in fingerprint.landmarks.iter().filter(|l| l.primary) {
        own.entry(l.hash)
            .or_default()
            .push((l.frame, l.span_frames));
    }
    // A hash that recurs very often within one clip (a speaker's most common sound patterns)
    // says little and would cost quadratically: each of its landmarks made at the clip's own
    // speed is paired with its nearest earlier place only (as audfprint caps its bucket
    // sizes), its expanded ones with none. A loop is still found (each pass copies the one
    // before), and so is a copy of anything whose hashes are rarer.
    let mut hits = Vec::new();
    for l in &fingerprint.landmarks {
        let places = own.get(&l.hash).map(Vec::as_slice).unwrap_or(&[]);
        // The places at least `min_distance` before this landmark (places are in frame order).
        let before =
            places.partition_point(|&(frame, _)| l.frame >= frame.saturating_add(min_distance));
        let nearest = if places.len() <= MAX_OCCURRENCES_IN_CLIP {
            0
        } else if l.primary {
            before.saturating_sub(NEAREST_PLACES_OF_COMMON_HASH)
        } else {
            before
        };
        for &(frame, span) in &places[nearest..before] {
            hits.push(Hit {
                tq: l.frame,
                sq: l.span_frames,
                tr: frame,
                sr: span,
            });
        }
    }
    let search = LineSearch {
        frames_per_s: 1.0 / frame_s,
        ..LineSearch::default()
    };
    // No quiet stretches: a repeat inside the clip does not run on into a pause.
    let own = clip_signatures(fingerprint, &[], &[]);
    let matches = matching::find_runs(hits, 0, frames, frames, &search)
        .into_iter()
        .map(|mut run| {
            let _ = refine_run(&mut run, own, own.bits, &search);
            Match::from_run(&run, frame_s, name, true)
        })
        .collect();
    suppress_covered(matches, |m: &Match| (m.clip_start_s, m.clip_end_s))
}

/// Runs of one reference on one line whose placed edges meet or overlap, joined into one. The
/// line search splits a line's supports where the clip has no landmark for 2 s (a long pause);
/// when the signatures then carry both edges across that gap, nothing in it is other audio,
/// and it is one piece: two matches would claim an edit inside it.
fn join_collinear(mut runs: Vec<matching::Run>, search: &LineSearch) -> Vec<matching::Run> {
    runs.sort_by_key(|r| r.tq_start);
    let mut joined: Vec<matching::Run> = Vec::with_capacity(runs.len());
    for run in runs {
        let at = f64::from(run.tq_start);
        let meets = |earlier: &matching::Run| {
            let apart = (earlier.speed * at + earlier.offset - (run.speed * at + run.offset)).abs();
            run.tq_start <= earlier.tq_end && apart <= search.support_frames
        };
        // Other runs (other lines, chance) may lie between two halves of one piece.
        match joined.iter_mut().find(|earlier| meets(earlier)) {
            Some(earlier) => {
                earlier.tq_end = earlier.tq_end.max(run.tq_end);
                earlier.support += run.support;
                earlier.log10_chance = earlier.log10_chance.min(run.log10_chance);
            }
            None => joined.push(run),
        }
    }
    joined
}

/// Signatures searched beyond the two edges for where the evidence turns (see
/// [`meet_adjacent`]): each edge placed alone may stand a signature past the cut (its
/// signatures straddling the cut agree with its own side as often as with the other), and a
/// search between the two edges only cannot go back over it. Joins of two recordings of noise
/// (the test `joins_of_two_noise_recordings_are_placed_at_the_cut`) lay 9.1 ms after the cut on
/// average with no margin, 3.4 ms with one signature, 3.3 ms with two (with the agreement
/// counted unweighted, as until session 19: 7.4, 0.3 and 0.1 ms, and on the benchmark's
/// training split splice F1@50 0.682, 0.686 and 0.681).
const JOIN_MARGIN_SIGNATURES: usize = 1;

/// Places the boundary between each two asserted archive matches that meet (within [`MEET_S`],
/// overlapping or apart) where, between their two edges, the clip's signatures change from
/// agreeing more with the first's reference to agreeing more with the second's
/// (`refine::joint_split`); `signatures` holds each matched reference's. Where the two edges
/// leave a gap that agrees with neither reference (audio from elsewhere, `refine::Joint::Apart`)
/// the gap stays, each edge where its piece's own evidence puts it. Two matches of one
/// alignment (one piece split by a pause) are left as they are.
fn meet_adjacent(
    matches: &mut [Match],
    clip: ClipSignatures<'_>,
    signatures: &HashMap<String, Vec<u16>>,
    frame_s: f64,
) {
    let mut order: Vec<usize> = (0..matches.len())
        .filter(|&i| matches[i].is_asserted_archive())
        .collect();
    order.sort_by(|&a, &b| matches[a].clip_start_s.total_cmp(&matches[b].clip_start_s));
    for pair in order.windows(2) {
        let (a, b) = (&matches[pair[0]], &matches[pair[1]]);
        let (first, second) = (a.line(frame_s), b.line(frame_s));
        let nested = b.clip_end_s <= a.clip_end_s;
        // One piece split by a pause, by the rule that finds the report's boundaries
        // (`Match::continues`): a cut that deletes less than MEET_S of one recording still
        // makes two pieces (21 of the 49 deletions of the benchmark's training split were that
        // short, and their joins were left where each edge stopped alone).
        let one_piece = a.continues(b);
        if nested || one_piece || (b.clip_start_s - a.clip_end_s).abs() > MEET_S {
            continue;
        }
        let (Some(first_signatures), Some(second_signatures)) =
            (signatures.get(&a.reference), signatures.get(&b.reference))
        else {
            continue;
        };
        // Between the two edges (each already stands where its own piece's evidence ends) and
        // a signature beyond them.
        let lo = a.clip_end_s.min(b.clip_start_s).max(a.clip_start_s);
        let hi = a.clip_end_s.max(b.clip_start_s).min(b.clip_end_s);
        if hi < lo {
            continue;
        }
        let window = (refine::split_index(lo / frame_s).ceil() as usize)
            .saturating_sub(JOIN_MARGIN_SIGNATURES)
            ..refine::split_index(hi / frame_s).floor() as usize + JOIN_MARGIN_SIGNATURES;
        let Some(joint) = refine::joint_split(
            (&first, first_signatures),
            (&second, second_signatures),
            clip,
            window,
        ) else {
            continue;
        };
        let (end, start) = match joint {
            // Both pieces meet in the middle of the stretch where the evidence turns (a pause
            // when it is wide). Leaving that stretch as a gap between them, for
            // `splice::fuse_splices` to place the cut at an ENF or waveform peak inside it,
            // found 8 fewer of the training split's 1725 cuts within 50 ms (3 more of the test
            // split's 1590).
            Joint::Meet(k) => {
                let t = refine::split_frame((k.start() + k.end()) / 2) * frame_s;
                (t, t)
            }
            // Audio from elsewhere between them.
            Joint::Apart { end, start } => (
                refine::split_frame(end) * frame_s,
                refine::split_frame(start) * frame_s,
            ),
        };
        matches[pair[0]].set_clip_end(end);
        matches[pair[1]].set_clip_start(start);
    }
}

/// A clip fingerprint's signatures, with their reliable bits, for placing edges.
fn clip_signatures<'a>(
    fingerprint: &'a Fingerprint,
    quiet: &'a [bool],
    levels: &'a [u8],
) -> ClipSignatures<'a> {
    ClipSignatures {
        bits: &fingerprint.signatures,
        reliable: &fingerprint.signature_reliable,
        quiet,
        levels,
    }
}

/// Moves a run's edges to where the frame signatures place them (unchanged without signatures).
fn refine_run(
    run: &mut matching::Run,
    clip: ClipSignatures<'_>,
    reference: &[u16],
    search: &LineSearch,
) -> bool {
    if let Some((start, end)) = refine::refine_edges(run, clip, reference, search.frames_per_s) {
        run.tq_start = start;
        run.tq_end = end;
        true
    } else {
        false
    }
}

/// Fraction of a candidate's clip interval that stronger matches may cover before it is dropped.
/// A stretch of the clip is one piece of audio: a weaker line over the same stretch is leftover
/// hits of the stronger one (jitter, the speaker's self-similarity), not a second source.
const MAX_COVERED_FRACTION: f64 = 0.5;

/// Drops matches (sorted strongest first) whose clip interval stronger kept matches mostly cover,
/// each kept match covering the part of its interval that `claimed` gives (see
/// [`claimed_interval`]).
fn suppress_covered(matches: Vec<Match>, claimed: impl Fn(&Match) -> (f64, f64)) -> Vec<Match> {
    let mut kept: Vec<Match> = Vec::with_capacity(matches.len());
    for m in matches {
        let length = (m.clip_end_s - m.clip_start_s).max(1e-9);
        let covered: f64 = kept
            .iter()
            .map(|k| {
                let (start, end) = claimed(k);
                (m.clip_end_s.min(end) - m.clip_start_s.max(start)).max(0.0)
            })
            .sum();
        if covered / length <= MAX_COVERED_FRACTION {
            kept.push(m);
        }
    }
    kept
}

/// The part of a match's clip interval its own evidence claims: without the quiet stretch through
/// which it runs to the clip's start or end, if it does (`refine::refine_edges` lets a piece run
/// through one, to keep a reused clip's leading or trailing pause). `quiet` holds the clip's
/// signatures' quiet flags, one per `pair_s` seconds.
///
/// A piece more than `refine::QUIET_DB` quieter than the clip's loud level reads as quiet too:
/// after a louder piece, the louder piece's match ran over it to the clip's end, covered it and
/// dropped its own match (30 hard joins of bundled speech recordings, the second piece turned
/// down by 20 dB: 5 read `reused`, none at equal levels).
fn claimed_interval(m: &Match, quiet: &[bool], pair_s: f64) -> (f64, f64) {
    let (mut start, mut end) = (m.clip_start_s, m.clip_end_s);
    let clip_s = quiet.len() as f64 * pair_s;
    if quiet.is_empty() || pair_s <= 0.0 {
        return (start, end);
    }
    if start <= 0.5 * pair_s {
        let mut k = 0;
        while k < quiet.len() && quiet[k] && (k as f64 * pair_s) < end {
            k += 1;
        }
        start = (k as f64 * pair_s).min(end);
    }
    if end >= clip_s - 0.5 * pair_s {
        let mut k = quiet.len();
        while k > 0 && quiet[k - 1] && ((k - 1) as f64 * pair_s) > start {
            k -= 1;
        }
        end = (k as f64 * pair_s).max(start);
    }
    (start, end)
}

/// Where an asserted match runs through a quiet stretch to the clip's start or end (see
/// [`claimed_interval`]) over another asserted match, it yields that stretch: its edge moves
/// back to the other match's edge (no further than its claimed interval), its reference
/// interval with it.
fn yield_quiet_runs(matches: &mut [Match], claimed: impl Fn(&Match) -> (f64, f64)) {
    let asserted: Vec<usize> = (0..matches.len())
        .filter(|&i| matches[i].is_asserted_archive())
        .collect();
    for &i in &asserted {
        let (own_start, own_end) = claimed(&matches[i]);
        for &j in &asserted {
            if i == j {
                continue;
            }
            let (other_start, other_end) = (matches[j].clip_start_s, matches[j].clip_end_s);
            let m = &mut matches[i];
            if own_end < m.clip_end_s && other_start < m.clip_end_s && other_end > own_end {
                m.set_clip_end(other_start.max(own_end));
            }
            if own_start > m.clip_start_s && other_end > m.clip_start_s && other_start < own_start {
                m.set_clip_start(other_end.min(own_start));
            }
        }
    }
}

/// What is recorded about a reference besides its fingerprint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    /// Duration in seconds.
    pub duration_s: f64,
    /// The path it came from.
    pub source: Option<String>,
    /// The decoded audio stream.
    pub audio: Option<AudioInfo>,
    /// Container facts.
    pub container: Option<ContainerFacts>,
}

/// Streams mono blocks at the analysis rate into a fingerprint made with `settings`: the STFT
/// on the caller's thread, the peaks, triplets and signatures on a [`BackgroundFingerprint`].
struct Fingerprinter {
    spectrogram: SpectrogramStream,
    peaks: BackgroundFingerprint,
}

impl Fingerprinter {
    fn new(settings: &IndexSettings, expand: bool) -> Result<Fingerprinter> {
        let rate = settings.analysis_rate_hz;
        let mut builder = settings.fingerprint_builder()?;
        if expand {
            builder = builder.expanded_for_query();
        }
        let spectrogram = SpectrogramStream::new(rate, &settings.spectrogram, INGEST_BLOCK_FRAMES)?
            .with_levels_up_to_bin(builder.highest_bin_read());
        Ok(Fingerprinter {
            spectrogram,
            peaks: BackgroundFingerprint::start(builder),
        })
    }

    fn push(&mut self, samples: &[f32]) -> Result<()> {
        let peaks = &mut self.peaks;
        self.spectrogram.push(samples, |s| {
            peaks.push(s);
            Ok(())
        })
    }

    fn finish(mut self) -> Result<Fingerprint> {
        let peaks = &mut self.peaks;
        self.spectrogram.finish(|s| {
            peaks.push(s);
            Ok(())
        })?;
        Ok(self.peaks.finish())
    }
}

/// Fingerprints everything `reader` decodes with `settings`; also returns the audio info and the
/// native sample count. Three stages run at once: the reader's decoding thread, this thread
/// (mixing, resampling and the STFT) and the [`Fingerprinter`]'s peaks thread.
pub(crate) fn fingerprint_reader(
    reader: AudioReader,
    settings: &IndexSettings,
    expand: bool,
) -> Result<(Fingerprint, AudioInfo, u64)> {
    let mut stream = AnalysisStream::new(reader, settings.analysis_rate_hz)?;
    let mut fingerprinter = Fingerprinter::new(settings, expand)?;
    while let Some(block) = stream.next_block()? {
        fingerprinter.push(block)?;
    }
    Ok((
        fingerprinter.finish()?,
        stream.info().clone(),
        stream.native_samples(),
    ))
}

/// Fingerprints decoded (or generated) audio with `settings`.
pub(crate) fn fingerprint_audio(
    audio: &Audio,
    settings: &IndexSettings,
    expand: bool,
) -> Result<Fingerprint> {
    let mut resampler = MonoResampler::new(audio.info.sample_rate, settings.analysis_rate_hz)?;
    let mut fingerprinter = Fingerprinter::new(settings, expand)?;
    let (mut mono, mut resampled) = (Vec::new(), Vec::new());
    let frame = usize::from(audio.info.channels.max(1));
    // In blocks of about a second, so memory stays small for long audio.
    for chunk in audio.samples.chunks(frame * 65_536) {
        mono.clear();
        resampled.clear();
        mix_to_mono(chunk, audio.info.channels, &mut mono);
        resampler.push(&mono, &mut resampled);
        fingerprinter.push(&resampled)?;
    }
    resampled.clear();
    resampler.finish(&mut resampled);
    fingerprinter.push(&resampled)?;
    fingerprinter.finish()
}

/// The current time, RFC 3339 UTC (the index records when each reference was added).
fn now_rfc3339() -> String {
    let unix_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    crate::container::rfc3339_from_unix(unix_s).unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

fn check_name_in(manifest: &Manifest, dir: &Path, name: &str, replace: bool) -> Result<()> {
    if name.is_empty() || name.contains('\n') {
        return Err(Error::config(
            "name",
            "a reference name must be non-empty and on one line",
        ));
    }
    if !replace && manifest.references.iter().any(|r| r.name == name) {
        return Err(Error::index(
            dir,
            format!("a reference named {name:?} is already there (use replace)"),
        ));
    }
    Ok(())
}

fn segment_name(generation: u64) -> String {
    format!("seg-{generation:010}-{}.cpi", std::process::id())
}

fn live_refs(manifest: &Manifest, file: &str) -> usize {
    manifest
        .references
        .iter()
        .filter(|r| r.segment == file)
        .count()
}

/// Merges the two newest segments while the newer is at least `MERGE_RATIO` of the older.
fn merge_tiers(dir: &Path, manifest: &mut Manifest) -> Result<()> {
    while manifest.segments.len() >= 2 {
        let n = manifest.segments.len();
        let (older, newer) = (&manifest.segments[n - 2], &manifest.segments[n - 1]);
        let fits = older.refs + newer.refs <= MAX_REFS_PER_SEGMENT
            && older.frames + newer.frames <= MAX_SEGMENT_FRAMES;
        if !fits || (newer.postings as f64) < MERGE_RATIO * older.postings as f64 {
            break;
        }
        merge_range(dir, manifest, n - 2..n)?;
    }
    Ok(())
}

/// Replaces the segments in `range` by one merged segment holding their live references.
///
/// A streaming merge: the sources are read through their maps bucket by bucket, and the merged
/// segment written as it is made ([`Segment::write_buckets`]), so memory holds one bucket's
/// postings and one reference's signatures, not the merged segment (which at 1000 hours would
/// be half a billion postings).
fn merge_range(dir: &Path, manifest: &mut Manifest, range: std::ops::Range<usize>) -> Result<()> {
    let sources: Vec<SegmentEntry> = manifest.segments[range.clone()].to_vec();
    let file = format!(
        "seg-{:010}-{}-m{}.cpi",
        manifest.generation,
        std::process::id(),
        range.start
    );
    let mut segments = Vec::with_capacity(sources.len());
    // For each source, the new local id of each of its local ids (None: removed).
    let mut maps: Vec<Vec<Option<u16>>> = Vec::with_capacity(sources.len());
    let mut frames = Vec::new();
    // Where each new reference comes from: (source, old local id).
    let mut origins: Vec<(usize, u16)> = Vec::new();
    let mut renamed: Vec<(String, u16, u16)> = Vec::new();
    for (s, source) in sources.iter().enumerate() {
        let segment = Segment::open(&dir.join(&source.file))?;
        // New local ids for the live references of this source, in order.
        let mut map = vec![None; segment.refs()];
        for r in manifest
            .references
            .iter()
            .filter(|r| r.segment == source.file)
        {
            let new_local = u16::try_from(frames.len()).map_err(|_| {
                Error::limit(
                    "index segment: references",
                    MAX_REFS_PER_SEGMENT as u64,
                    frames.len() as u64,
                )
            })?;
            frames.push(segment.ref_frames(usize::from(r.local)));
            if let Some(slot) = map.get_mut(usize::from(r.local)) {
                *slot = Some(new_local);
            }
            origins.push((s, r.local));
            renamed.push((source.file.clone(), r.local, new_local));
        }
        segments.push(segment);
        maps.push(map);
    }
    let live = |s: usize, local: u16| maps[s].get(usize::from(local)).copied().flatten();
    let mut counts = vec![0u32; 1 << HASH_BITS];
    for (s, segment) in segments.iter().enumerate() {
        for p in segment.all_postings() {
            if live(s, p.local).is_some() {
                counts[p.hash as usize] += 1;
            }
        }
    }
    let count: usize = counts.iter().map(|&c| c as usize).sum();
    Segment::write_buckets(
        &dir.join(&file),
        &frames,
        &counts,
        |hash, out| {
            for (s, segment) in segments.iter().enumerate() {
                segment.lookup(hash, |p| {
                    if let Some(local) = live(s, p.local) {
                        out.push(Posting { local, ..p });
                    }
                });
            }
        },
        |r, out| {
            if let Some(&(s, local)) = origins.get(r) {
                out.extend(segments[s].signatures(usize::from(local)));
            }
        },
    )?;
    for r in manifest.references.iter_mut() {
        if let Some((_, _, new_local)) = renamed
            .iter()
            .find(|(f, l, _)| *f == r.segment && *l == r.local)
        {
            r.segment = file.clone();
            r.local = *new_local;
        }
    }
    manifest.segments.splice(
        range,
        [SegmentEntry {
            file,
            refs: frames.len(),
            postings: count,
            frames: frames.iter().map(|&f| u64::from(f)).sum(),
        }],
    );
    Ok(())
}

fn lock(dir: &Path) -> Result<WriterLock> {
    let path = dir.join(LOCK);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    file.lock().map_err(|e| Error::io(&path, e))?;
    Ok(WriterLock { file })
}

fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::index(dir, "no index here (no MANIFEST)"));
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(Error::index(&path, "the manifest is not text: damaged"));
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    let (first, body) = text
        .split_once('\n')
        .ok_or_else(|| Error::index(&path, "the manifest is truncated"))?;
    let mut words = first.split(' ');
    if words.next() != Some(MANIFEST_TAG) {
        return Err(Error::index(&path, "not a clip-provenance index manifest"));
    }
    let version: u32 = words
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Error::index(&path, "no format version"))?;
    let crc = words
        .next()
        .and_then(|w| w.strip_prefix("crc32="))
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or_else(|| Error::index(&path, "no checksum"))?;
    if crc32fast::hash(body.as_bytes()) != crc {
        return Err(Error::index(
            &path,
            "checksum does not match: the manifest is damaged",
        ));
    }
    if version > MANIFEST_VERSION {
        return Err(Error::index(
            &path,
            format!(
                "written by a newer format version ({version}); this build reads up to {MANIFEST_VERSION}"
            ),
        ));
    }
    let manifest: Manifest = serde_json::from_str(body)
        .map_err(|e| Error::index(&path, format!("the manifest does not parse: {e}")))?;
    check_manifest(&path, &manifest)?;
    Ok(manifest)
}

/// What a manifest that parses must also hold before it is used: settings that
/// [`Index::create`] accepts (queries size their buffers by them), and segment files named by
/// plain file names, so nothing outside the index directory is read.
fn check_manifest(path: &Path, manifest: &Manifest) -> Result<()> {
    let s = &manifest.settings;
    s.fingerprint
        .validate()
        .and_then(|()| s.spectrogram.validate(s.analysis_rate_hz))
        .map_err(|e| Error::index(path, format!("the manifest's settings are invalid: {e}")))?;
    for segment in &manifest.segments {
        let mut parts = Path::new(&segment.file).components();
        if !matches!(
            (parts.next(), parts.next()),
            (Some(std::path::Component::Normal(_)), None)
        ) {
            return Err(Error::index(
                path,
                format!(
                    "segment file {:?} is not a plain file name in the index directory",
                    segment.file
                ),
            ));
        }
    }
    Ok(())
}

/// Reads the manifest for a writer holding the lock, and deletes what writers that died left
/// behind first: a restarted writer may have the dead one's process id (a container's first
/// process always does) and start from the same manifest, so it would pick the same file names.
fn read_manifest_to_write(dir: &Path) -> Result<Manifest> {
    let manifest = read_manifest(dir)?;
    delete_unnamed_segments(dir, &manifest);
    Ok(manifest)
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<()> {
    let body =
        serde_json::to_string_pretty(manifest).expect("a manifest serialises: plain fields only");
    let text = format!(
        "{MANIFEST_TAG} {MANIFEST_VERSION} crc32={:08x}\n{body}\n",
        crc32fast::hash(format!("{body}\n").as_bytes())
    );
    let temporary = dir.join(format!(".{MANIFEST}.{}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = File::create(&temporary)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&temporary, dir.join(MANIFEST))?;
        // The rename is durable once the directory entry is.
        File::open(dir)?.sync_all()
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&temporary);
        Error::io(dir.join(MANIFEST), e)
    })
}

fn open_segments(dir: &Path, manifest: &Manifest) -> Result<Vec<Segment>> {
    manifest
        .segments
        .iter()
        .map(|s| open_segment(dir, s))
        .collect()
}

/// Maps and verifies the segment `entry` names, and checks it holds what the entry says.
fn open_segment(dir: &Path, entry: &SegmentEntry) -> Result<Segment> {
    let segment = Segment::open(&dir.join(&entry.file))?;
    if segment.refs() != entry.refs || segment.postings() != entry.postings {
        return Err(Error::index(
            dir.join(&entry.file),
            "does not hold what the manifest says",
        ));
    }
    Ok(segment)
}

/// Deletes segment files and stray temporaries that `manifest` does not name (left by merges
/// or by writers that died). Best effort: a failure leaves a file to try again next time.
fn delete_unnamed_segments(dir: &Path, manifest: &Manifest) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stray_segment = name.starts_with("seg-")
            && name.ends_with(".cpi")
            && !manifest.segments.iter().any(|s| s.file == name);
        let stray_temporary = name.starts_with(&format!(".{MANIFEST}.")) && name.ends_with(".tmp");
        if stray_segment || stray_temporary {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hits of the references `locals` of `segment`, in one lookup pass on the calling thread,
    /// keeping at most about `budget` of them: the whole hits of the leading references that fit
    /// and the counts of all (see [`Gathering`]).
    fn collect_hits(
        lookup: &Lookup<'_>,
        landmarks: &[Landmark],
        locals: std::ops::Range<usize>,
        budget: u64,
    ) -> Gathering {
        let mut gathering = Gathering::new(locals, budget, None);
        gathering.gather(lookup, landmarks);
        gathering
    }

    #[test]
    fn a_match_starting_before_its_reference_begins_starts_where_it_begins() {
        // A loop's second pass copies the clip from its first frame: a start placed three
        // frames early would map before the reference's beginning. Both intervals start where
        // the reference begins, so the lag between them is the line's own.
        let run = matching::Run {
            speed: 1.0,
            offset: -250.0,
            tq_start: 247,
            tq_end: 1_000,
            support: 10,
            log10_chance: -9.0,
        };
        let m = Match::from_run(&run, 0.008, "clip.wav", true);
        assert!((m.clip_start_s - 2.0).abs() < 1e-9, "{m:?}");
        assert_eq!(m.reference_start_s, 0.0);
        assert!((m.clip_end_s - 8.0).abs() < 1e-9 && (m.reference_end_s - 6.0).abs() < 1e-9);
        // A start inside the reference is left where it is.
        let inside = Match::from_run(
            &matching::Run {
                tq_start: 300,
                ..run
            },
            0.008,
            "clip.wav",
            true,
        );
        assert!(
            (inside.clip_start_s - 2.4).abs() < 1e-9
                && (inside.reference_start_s - 0.4).abs() < 1e-9
        );
    }

    #[test]
    fn collinear_runs_that_meet_are_joined_across_other_runs() {
        let search = LineSearch::default();
        let run = |tq_start, tq_end, offset, log10_chance| matching::Run {
            speed: 1.0,
            offset,
            tq_start,
            tq_end,
            support: 10,
            log10_chance,
        };
        let runs = vec![
            run(5_000, 9_000, 1_000.0, -9.0),
            run(0, 5_100, 1_000.0, -20.0),
            // A chance run on another line between them, and a piece of the same reference
            // 2 s later in it (a deletion) that meets the second: neither is joined.
            run(2_000, 2_100, 40_000.0, -0.1),
            run(9_000, 12_000, 1_250.0, -12.0),
        ];
        let joined = join_collinear(runs, &search);
        assert_eq!(joined.len(), 3, "{joined:?}");
        assert_eq!((joined[0].tq_start, joined[0].tq_end), (0, 9_000));
        assert_eq!((joined[0].support, joined[0].log10_chance), (20, -20.0));
        assert!(
            joined
                .iter()
                .any(|r| r.offset == 1_250.0 && r.tq_start == 9_000)
        );
    }

    #[test]
    fn hit_groups_stay_within_the_budget_and_cover_every_reference() {
        assert_eq!(hit_groups(&[3, 3, 3, 3], 6), vec![0..2, 2..4]);
        // A reference over the budget alone is a group of its own; empty input, no group.
        assert_eq!(hit_groups(&[2, 10, 1, 1], 5), vec![0..1, 1..2, 2..4]);
        assert_eq!(hit_groups(&[], 5), Vec::<std::ops::Range<usize>>::new());
    }

    /// An index of four recordings of testdata (in a fresh folder named after `name`) and a clip
    /// of the first 6 s of the second followed by 5 s of the first, from 2 s, with `noise`
    /// times a white noise added.
    fn index_and_two_piece_clip(name: &str, noise: f32) -> (Index, PathBuf, Audio) {
        let dir =
            std::env::temp_dir().join(format!("clip-provenance-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let speech = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/speech");
        let mut index = Index::create(&dir, IndexSettings::default()).expect("creates");
        for name in [
            "jfk_inaugural_1961_excerpt.flac",
            "librispeech_198-209-0000.flac",
            "librispeech_39-121914-0000.flac",
            "vctk_p286_011.flac",
        ] {
            index
                .add_path(speech.join(name), None, false)
                .expect("adds");
        }
        let a = crate::decode_path(
            speech.join("librispeech_198-209-0000.flac"),
            &DecodeOptions::default(),
        )
        .expect("decodes");
        let b = crate::decode_path(
            speech.join("jfk_inaugural_1961_excerpt.flac"),
            &DecodeOptions::default(),
        )
        .expect("decodes");
        let rate = a.info.sample_rate as usize;
        assert_eq!(rate, b.info.sample_rate as usize);
        let mut samples = a.to_mono()[..6 * rate].to_vec();
        samples.extend_from_slice(&b.to_mono()[2 * rate..7 * rate]);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for x in &mut samples {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *x += noise * ((state >> 40) as f32 / (1u64 << 23) as f32 - 1.0);
        }
        let clip = Audio {
            samples,
            info: AudioInfo {
                channels: 1,
                ..a.info.clone()
            },
            warnings: Vec::new(),
        };
        (index, dir, clip)
    }

    #[test]
    fn the_fine_filter_keeps_a_fraction_of_the_hits_and_both_pieces_in_noise() {
        // Noise at about 12 dB under the speech's RMS (the excerpts' RMS is near 0.06).
        let (mut index, dir, clip) = index_and_two_piece_clip("fine-filter", 0.03);
        let fingerprint = fingerprint_audio(&clip, index.settings(), true).expect("fingerprints");
        // The hits of the two recordings the clip does not hold: chance hits, all of them.
        let chance_hits = |index: &Index, fine: bool| -> u64 {
            let mut total = 0;
            for (segment, entry) in index.segments.iter().zip(&index.manifest.segments) {
                let lookup = Lookup {
                    segment,
                    stop: &index.stop,
                    search: &LineSearch::default(),
                    fine,
                };
                let counts =
                    collect_hits(&lookup, &fingerprint.landmarks, 0..segment.refs(), 0).counts;
                total += index
                    .list()
                    .iter()
                    .filter(|r| r.segment == entry.file)
                    .filter(|r| r.name.starts_with("vctk") || r.name.starts_with("librispeech_39"))
                    .map(|r| counts[usize::from(r.local)])
                    .sum::<u64>();
            }
            total
        };
        let (every, kept) = (chance_hits(&index, false), chance_hits(&index, true));
        assert!(
            every > 0 && kept * 3 < every,
            "kept {kept} of {every} chance hits"
        );
        index.fine_filter_min_postings = 0;
        let matches = index.query(&fingerprint).expect("queries");
        let _ = fs::remove_dir_all(&dir);
        // Each piece found at its offset (reference time − clip time), over at least half of it
        // (the excerpt's first second, in noise, is too quiet to place an edge in).
        for (reference, piece, offset) in [
            ("librispeech_198-209-0000.flac", (0.0, 6.0), 0.0),
            ("jfk_inaugural_1961_excerpt.flac", (6.0, 11.0), -4.0),
        ] {
            assert!(
                matches.iter().any(|m| m.reference == reference
                    && m.confidence >= ASSERTED
                    && (m.reference_start_s - m.clip_start_s - offset).abs() < 0.05
                    && m.clip_end_s.min(piece.1) - m.clip_start_s.max(piece.0)
                        >= 0.5 * (piece.1 - piece.0)),
                "{reference} not found: {matches:#?}"
            );
        }
    }

    #[test]
    fn hits_collected_in_parts_are_those_of_one_pass_in_the_same_order() {
        let (mut index, dir, clip) = index_and_two_piece_clip("query-parts", 0.01);
        let fingerprint = fingerprint_audio(&clip, index.settings(), true).expect("fingerprints");
        let _ = fs::remove_dir_all(&dir);
        let landmarks = &fingerprint.landmarks;
        // Parts are cut where the anchor frame changes, cover every landmark, none is empty.
        for parts in 1..=5 {
            let cut = landmark_parts(landmarks, parts);
            assert_eq!(cut.len(), parts);
            assert_eq!(cut.concat(), *landmarks);
            for pair in cut.windows(2) {
                assert_ne!(
                    pair[0].last().map(|l| l.frame),
                    pair[1].first().map(|l| l.frame)
                );
            }
        }
        assert_eq!(landmark_parts(&[], 3), vec![&[] as &[Landmark]]);
        for fine_filter_min_postings in [0, usize::MAX] {
            index.fine_filter_min_postings = fine_filter_min_postings;
            let segment = index
                .segments
                .iter()
                .max_by_key(|s| s.refs())
                .expect("a segment");
            assert!(segment.refs() >= 2);
            let lookup = Lookup {
                segment,
                stop: &index.stop,
                search: &LineSearch::default(),
                fine: segment.postings() > index.fine_filter_min_postings,
            };
            let whole = collect_hits(&lookup, landmarks, 0..segment.refs(), u64::MAX);
            assert!(whole.hits.iter().all(|list| !list.is_empty()));
            let refs = segment.refs();
            for parts in 1..=3 {
                let all = collect_hits_in_parts(&lookup, landmarks, 0..refs, u64::MAX, parts, None);
                assert_eq!(all.counts, whole.counts);
                assert_eq!(all.part_counts.len(), parts);
                let joined: Vec<Vec<Hit>> = all.hits.iter().map(|lists| lists.concat()).collect();
                assert_eq!(joined, whole.hits, "{parts} parts");
                // With a budget only the leading references fit: those kept are whole.
                let budget = whole.counts[0] + whole.counts[1] / 2;
                let first = collect_hits_in_parts(&lookup, landmarks, 0..refs, budget, parts, None);
                assert_eq!(first.counts, whole.counts);
                assert_eq!(first.part_counts, all.part_counts);
                assert!(first.hits.len() < refs);
                assert!(parts > 1 || first.hits.len() == 1);
                for (lists, list) in first.hits.iter().zip(&whole.hits) {
                    assert_eq!(lists.concat(), *list);
                }
                // A later pass over the others, in lists sized from the first pass's counts:
                // the same hits, each list filled to exactly its room.
                let rest = first.hits.len()..refs;
                let room = Some(first.part_counts.as_slice());
                let pass = collect_hits_in_parts(&lookup, landmarks, rest, u64::MAX, parts, room);
                assert_eq!(pass.hits.len(), refs - first.hits.len());
                for (lists, list) in pass.hits.iter().zip(&whole.hits[first.hits.len()..]) {
                    assert_eq!(lists.concat(), *list);
                    assert!(lists.iter().all(|l| l.capacity() == l.len()));
                }
            }
        }
    }

    #[test]
    fn a_query_in_passes_over_groups_of_references_finds_what_one_pass_finds() {
        let (index, dir, clip) = index_and_two_piece_clip("query-passes", 0.0);
        let fingerprint = fingerprint_audio(&clip, index.settings(), true).expect("fingerprints");
        let whole = index.query_within(&fingerprint, u64::MAX).expect("queries");
        let largest = index
            .segments
            .iter()
            .flat_map(|segment| {
                // A budget of 0: the hits of each reference are counted, not kept.
                let lookup = Lookup {
                    segment,
                    stop: &index.stop,
                    search: &LineSearch::default(),
                    fine: true,
                };
                let collected = collect_hits(&lookup, &fingerprint.landmarks, 0..segment.refs(), 0);
                assert!(collected.hits.is_empty());
                collected.counts
            })
            .max()
            .expect("references");
        // A budget below every reference's hits: one pass per reference.
        let passes = index
            .query_within(&fingerprint, largest / 2)
            .expect("queries");
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(whole.len(), 2, "{whole:?}");
        assert_eq!(whole, passes);
    }
}
