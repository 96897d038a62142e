//! The code paths the fuzz targets drive, one function per target.
//!
//! Shared with the crate's `tests/fuzz_replay.rs` (which includes this file by path), so every
//! input a fuzzer ever crashed on is replayed through exactly the code the fuzzer ran, by an
//! ordinary `cargo test` (as hound's `fuzz_crashes_should_be_fixed` does). Each function returns
//! normally for any input; a panic is a bug in the library, and so is a failed `assert!` here,
//! which states what a consistent result is.

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use clip_provenance::{
    Analyzer, Audio, AudioReader, Config, DecodeOptions, FineOffsets, Fingerprint, Index,
    IndexSettings, Landmark, Match, read_facts, within_clip_matches,
};

/// File-name hints a fuzz input's first byte chooses among (`byte % len`), so that name-guided
/// probing reaches every demuxer: the formats of `MEDIA_EXTENSIONS`, and one the crate does not
/// know.
pub const EXTENSIONS: [&str; 16] = [
    "wav", "mp3", "m4a", "mp4", "mov", "flac", "ogg", "opus", "mkv", "webm", "aac", "aiff", "caf",
    "m4v", "oga", "bin",
];

/// The longest audio a fuzz input may decode to, in seconds: long enough for every analysis stage
/// (the splice cues look at windows of a few seconds), short enough that no input runs for long.
pub const MAX_DURATION_S: f64 = 12.0;

/// The short real speech recording the index fixtures are built from, relative to the crate root
/// (2.8 s of CMU's "go forward" prompt; see testdata/speech/README.md).
pub const SPEECH_FILE: &str = "testdata/speech/cmu_goforward.flac";

/// The name of the index fixture's one segment file (the form `Index` writes).
pub const FIXTURE_SEGMENT: &str = "seg-0000000001-1.cpi";

/// Splits an input into its file-name hint and the file's bytes.
fn named(data: &[u8]) -> Option<(String, &[u8])> {
    let (&hint, bytes) = data.split_first()?;
    let extension = EXTENSIONS[usize::from(hint) % EXTENSIONS.len()];
    Some((format!("fuzz.{extension}"), bytes))
}

/// Target `decode_analyze`: the bytes (after the hint byte) as a clip, through the whole analysis
/// (decode, resampling, spectrogram, cues, fingerprint, report, picture).
pub fn decode_analyze(data: &[u8]) {
    let Some((name, bytes)) = named(data) else {
        return;
    };
    let options = DecodeOptions {
        track: None,
        max_duration_s: MAX_DURATION_S,
    };
    // Decoding on this thread first, so a decoder panic is a panic here too (the analyzer decodes
    // on a thread of its own and reports a panic there as an error).
    if let Ok(mut reader) = AudioReader::open(Cursor::new(bytes.to_vec()), &name, &options) {
        let info = reader.info().clone();
        while let Ok(Some(block)) = reader.next_block() {
            assert_eq!(
                block.samples.len(),
                block.frames() * usize::from(info.channels),
                "a block holds whole frames"
            );
        }
    } else {
        // The analyzer opens the same way, and fails the same way.
        return;
    }
    let analyzer = Analyzer::new(Config {
        max_duration_s: MAX_DURATION_S,
        ..Config::default()
    })
    .expect("the default configuration with a positive duration limit is valid");
    if let Ok(analysis) = analyzer.analyze_reader(Cursor::new(bytes.to_vec()), &name) {
        let report = &analysis.report;
        assert!(
            report.duration_s.is_finite() && report.duration_s >= 0.0,
            "duration {}",
            report.duration_s
        );
        check_matches(&report.matches, &[&name]);
        serde_json::to_string(report).expect("a report serialises");
        let _ = analysis.render();
    }
}

/// Target `container`: the bytes (after the hint byte) through the container reader.
pub fn container(data: &[u8]) {
    let Some((name, bytes)) = named(data) else {
        return;
    };
    if let Ok(facts) = read_facts(Cursor::new(bytes), &name) {
        for (i, track) in facts.tracks.iter().enumerate() {
            assert_eq!(track.index, i, "tracks are numbered in order");
        }
        serde_json::to_string(&facts).expect("container facts serialise");
    }
}

/// Asserts what any list of matches must satisfy: each names a known reference, and its times,
/// speed and confidence are numbers in range.
fn check_matches(matches: &[Match], names: &[&str]) {
    for m in matches {
        assert!(
            names.contains(&m.reference.as_str()),
            "match of an unknown reference: {m:?}"
        );
        assert!(
            m.clip_start_s.is_finite()
                && m.clip_end_s.is_finite()
                && m.reference_start_s.is_finite()
                && m.reference_end_s.is_finite()
                && m.speed.is_finite(),
            "non-finite match: {m:?}"
        );
        assert!(
            0.0 <= m.clip_start_s && m.clip_start_s <= m.clip_end_s,
            "clip times out of order: {m:?}"
        );
        assert!(
            (0.0..=1.0).contains(&m.confidence),
            "confidence out of [0, 1]: {m:?}"
        );
    }
}

/// A valid index built once from [`SPEECH_FILE`] and kept in memory, file by file, with a clip
/// to query it with; each `index_open` input writes a damaged copy of it to a working directory.
pub struct IndexFixture {
    /// The manifest's bytes.
    manifest: Vec<u8>,
    /// The one segment file's bytes, named [`FIXTURE_SEGMENT`].
    segment: Vec<u8>,
    /// Where each input's copy is written; emptied before each.
    work: PathBuf,
    /// The intact index, opened.
    intact: Index,
    /// The first 1.5 s of the speech, the clip that is queried.
    clip: Audio,
    /// The clip's query fingerprint, made with the index's settings.
    fingerprint: Fingerprint,
}

impl IndexFixture {
    /// Builds the index from `speech` (a path to [`SPEECH_FILE`]) under `scratch` (created;
    /// anything there is deleted first).
    pub fn new(speech: &Path, scratch: &Path) -> IndexFixture {
        let _ = fs::remove_dir_all(scratch);
        let template = scratch.join("template");
        let mut index =
            Index::create(&template, IndexSettings::default()).expect("creates an empty index");
        let entry = index
            .add_path(speech, None, false)
            .expect("the speech file indexes");
        drop(index);
        // The segment's name holds the writing process's id; the fixture renames it, so that
        // inputs made from one run's manifest name the segment of every run.
        let mut segment = None;
        for item in fs::read_dir(&template).expect("reads the index directory") {
            let path = item.expect("lists the index directory").path();
            if path.extension().is_some_and(|e| e == "cpi") {
                assert!(segment.is_none(), "one reference added: one segment");
                segment = Some(fs::read(&path).expect("reads the segment"));
            }
        }
        let segment = segment.expect("the index has a segment");
        let written = fs::read(template.join("MANIFEST")).expect("reads the manifest");
        let manifest = edited_manifest(&written, |json| {
            json["segments"][0]["file"] = FIXTURE_SEGMENT.into();
            json["references"][0]["segment"] = FIXTURE_SEGMENT.into();
        });
        let intact_dir = scratch.join("intact");
        fs::create_dir_all(&intact_dir).expect("creates a directory");
        fs::write(intact_dir.join(FIXTURE_SEGMENT), &segment).expect("writes the segment");
        fs::write(intact_dir.join("MANIFEST"), &manifest).expect("writes the manifest");
        let audio = clip_provenance::decode_path(speech, &DecodeOptions::default())
            .expect("the speech file decodes");
        let keep = (audio.info.sample_rate as usize * 3 / 2) * usize::from(audio.info.channels);
        let clip = Audio::from_interleaved(
            audio.samples[..keep.min(audio.samples.len())].to_vec(),
            audio.info.sample_rate,
            audio.info.channels,
        )
        .expect("an excerpt of decoded audio is valid audio");
        let intact = Index::open(&intact_dir).expect("the renamed index opens");
        let fingerprint = query_fingerprint(&intact, &clip);
        let matches = intact.query(&fingerprint).expect("the fresh index answers");
        assert!(
            matches.iter().any(|m| m.reference == entry.name),
            "the fresh index finds the clip in its source"
        );
        IndexFixture {
            manifest,
            segment,
            work: scratch.join("work"),
            intact,
            clip,
            fingerprint,
        }
    }

    /// Target `index_open`. The first byte chooses what the rest damages:
    /// - bit 0 clear: the rest is the manifest. With bit 1 set, it is the manifest's JSON body and
    ///   gets a correct first line (tag, version, checksum), so the damage reaches the parser;
    ///   otherwise it is the whole file.
    /// - bit 0 set: the rest is patches to the segment file, 8 bytes each: a little-endian u32
    ///   offset and u32 value, the value written at `offset % length`; offset `u32::MAX` resizes
    ///   the file to `value % (2 × length)` bytes (zero-filled). With bit 1 set the segment's
    ///   two checksums are then recomputed, and with bit 2 set the manifest's reference and
    ///   posting counts are made to agree with the damaged header, so the damage reaches the
    ///   checks behind them.
    ///
    /// Then the copy is opened and, if it opens, queried with the clip two ways: its fingerprint
    /// made with the intact settings, and its audio fingerprinted with the copy's settings.
    pub fn index_open(&self, data: &[u8]) {
        let Some((&mode, rest)) = data.split_first() else {
            return;
        };
        let mut manifest = self.manifest.clone();
        let mut segment = self.segment.clone();
        if mode & 1 == 0 {
            manifest = if mode & 2 != 0 {
                manifest_with_body(rest)
            } else {
                rest.to_vec()
            };
        } else {
            patch_segment(&mut segment, rest, mode & 2 != 0);
            if mode & 4 != 0
                && let Some((refs, postings)) = header_counts(&segment)
            {
                // The manifest's record of its one segment agrees with the damaged header.
                manifest = edited_manifest(&self.manifest, |json| {
                    json["segments"][0]["refs"] = refs.into();
                    json["segments"][0]["postings"] = postings.into();
                });
            }
        }
        let _ = fs::remove_dir_all(&self.work);
        fs::create_dir_all(&self.work).expect("creates the working directory");
        fs::write(self.work.join(FIXTURE_SEGMENT), &segment).expect("writes the segment");
        fs::write(self.work.join("MANIFEST"), &manifest).expect("writes the manifest");
        let Ok(index) = Index::open(&self.work) else {
            return;
        };
        let names: Vec<&str> = index.list().iter().map(|e| e.name.as_str()).collect();
        let _ = (index.total_duration_s(), index.size_bytes());
        if let Ok(matches) = index.query(&self.fingerprint) {
            check_matches(&matches, &names);
        }
        if let Ok(matches) = index.query_audio(&self.clip) {
            check_matches(&matches, &names);
        }
    }

    /// Target `index_query`: a fingerprint made of the input queried against the intact index,
    /// and searched for repeats within itself. Bytes 0..4: the frame count (u32, little-endian);
    /// then 12 bytes per landmark: hash (u32), anchor frame (u32), span (u16), primary (a byte,
    /// odd for true), and a byte whose top bit set makes the fingerprint's hop its low 7 bits.
    /// Landmarks come in input order, not sorted as the builder sorts them: a query must not
    /// depend on that.
    pub fn index_query(&self, data: &[u8]) {
        if data.len() < 4 {
            return;
        }
        let (head, body) = data.split_at(4);
        let mut fingerprint = Fingerprint {
            frames: u64::from(u32::from_le_bytes(head.try_into().expect("4 bytes"))),
            peaks: 0,
            landmarks: Vec::new(),
            ..self.fingerprint.clone()
        };
        for chunk in body.chunks_exact(12) {
            let word = |at: usize| u32::from_le_bytes(chunk[at..at + 4].try_into().expect("4"));
            fingerprint.landmarks.push(Landmark {
                hash: word(0),
                frame: word(4),
                span_frames: u16::from_le_bytes([chunk[8], chunk[9]]),
                primary: chunk[10] & 1 == 1,
                fine: FineOffsets {
                    ratio: (chunk[10] >> 1) as i8 - 32,
                    d12: (chunk[11] & 0x3f) as i8 - 8,
                    d13: chunk[10].rotate_left(3) as i8,
                },
            });
            if chunk[11] & 0x80 != 0 {
                fingerprint.hop_samples = usize::from(chunk[11] & 0x7f);
            }
        }
        fingerprint.peaks = fingerprint.landmarks.len();
        let names: Vec<&str> = self.intact.list().iter().map(|e| e.name.as_str()).collect();
        if let Ok(matches) = self.intact.query(&fingerprint) {
            check_matches(&matches, &names);
        }
        let name = "fuzz-clip";
        check_matches(&within_clip_matches(&fingerprint, name), &[name]);
    }
}

/// The query fingerprint of `clip` with `index`'s settings, as `Index::query_audio` makes it.
fn query_fingerprint(index: &Index, clip: &Audio) -> Fingerprint {
    let settings = index.settings();
    let mono = clip.to_mono();
    let mut resampled = Vec::new();
    let mut resampler =
        clip_provenance::MonoResampler::new(clip.info.sample_rate, settings.analysis_rate_hz)
            .expect("the speech rate resamples");
    resampler.push(&mono, &mut resampled);
    resampler.finish(&mut resampled);
    let spectrogram = clip_provenance::Spectrogram::compute(
        &resampled,
        settings.analysis_rate_hz,
        &settings.spectrogram,
    )
    .expect("the default spectrogram computes");
    let mut builder =
        clip_provenance::FingerprintBuilder::for_spectrogram(&settings.fingerprint, &spectrogram)
            .expect("the default fingerprint settings are valid")
            .expanded_for_query();
    builder.push(&spectrogram);
    builder.finish()
}

/// A manifest whose body is `body`, with a correct first line (the format of `write_manifest` in
/// src/index.rs).
fn manifest_with_body(body: &[u8]) -> Vec<u8> {
    let mut text = format!(
        "clip-provenance-index 1 crc32={:08x}\n",
        crc32fast::hash(body)
    )
    .into_bytes();
    text.extend_from_slice(body);
    text
}

/// `manifest` with its JSON body changed by `edit`, and a correct first line.
fn edited_manifest(manifest: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let text = String::from_utf8_lossy(manifest);
    let (_, body) = text
        .split_once('\n')
        .expect("the manifest has a first line");
    let mut json: serde_json::Value = serde_json::from_str(body).expect("the manifest parses");
    edit(&mut json);
    let body = format!(
        "{}\n",
        serde_json::to_string_pretty(&json).expect("serialises")
    );
    manifest_with_body(body.as_bytes())
}

/// The reference and posting counts of a segment header.
fn header_counts(segment: &[u8]) -> Option<(u32, u64)> {
    let refs = u32::from_le_bytes(segment.get(16..20)?.try_into().ok()?);
    let postings = u64::from_le_bytes(segment.get(24..32)?.try_into().ok()?);
    Some((refs, postings))
}

/// Applies `patches` (see [`IndexFixture::index_open`]) to a segment file.
fn patch_segment(segment: &mut Vec<u8>, patches: &[u8], fix_checksums: bool) {
    for patch in patches.chunks_exact(8) {
        let offset = u32::from_le_bytes(patch[0..4].try_into().expect("4 bytes"));
        let value = u32::from_le_bytes(patch[4..8].try_into().expect("4 bytes"));
        if offset == u32::MAX {
            let length = value as usize % (2 * segment.len()).max(1);
            segment.resize(length, 0);
        } else if !segment.is_empty() {
            let at = offset as usize % segment.len();
            let end = (at + 4).min(segment.len());
            segment[at..end].copy_from_slice(&value.to_le_bytes()[..end - at]);
        }
    }
    // The layout of src/index/segment.rs: a 64-byte header, body CRC at 32, header CRC at 36
    // (taken over the header with that field zeroed).
    if fix_checksums && segment.len() >= 64 {
        let body = crc32fast::hash(&segment[64..]);
        segment[32..36].copy_from_slice(&body.to_le_bytes());
        segment[36..40].fill(0);
        let header = crc32fast::hash(&segment[..64]);
        segment[36..40].copy_from_slice(&header.to_le_bytes());
    }
}
