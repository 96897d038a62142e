//! Hostile input: every file of `testdata/bad/` made by `make_bad.py` (listed, with what is wrong
//! with it, in `testdata/bad/README.md`), truncations of every fixture at many offsets, an hour of
//! silence, and a directory named like a media file. Each gives a specific [`Error`] naming the
//! file, or the decodable part with a warning: never a panic, never unbounded memory.
//!
//! Lengths of salvaged files are compared with what ffmpeg salvages (`testdata/bad/hostile.tsv`,
//! measured by `make_bad.py`), never with the decoder under test.
use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use clip_provenance::{Analyzer, Audio, Config, DecodeOptions, Error, decode_path, decode_reader};

mod common;

/// Every allocation of this test binary counts against this ceiling; one past it aborts the
/// binary, so a header whose claimed size is allocated fails the suite. Tests run in parallel, so
/// it bounds their sum: far above what decoding these small files needs (a few MB each), far
/// below what a trusted 4-billion-entry table or 2 GB packet would take.
const MEMORY_CEILING_BYTES: usize = 1 << 30;

#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> =
    cap::Cap::new(std::alloc::System, MEMORY_CEILING_BYTES);

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn bad(name: &str) -> PathBuf {
    testdata(&format!("bad/{name}"))
}

/// The rows of a tab-separated table with a header line, keyed by their first column (`file`).
fn read_table(path: &Path) -> HashMap<String, HashMap<String, String>> {
    common::read_table(path)
        .into_iter()
        .map(|row| (row["file"].clone(), row))
        .collect()
}

/// Samples per channel ffmpeg writes for `file` of `testdata/bad/hostile.tsv`.
fn ffmpeg_samples(table: &HashMap<String, HashMap<String, String>>, file: &str) -> u64 {
    table
        .get(file)
        .unwrap_or_else(|| panic!("{file} is listed in hostile.tsv"))["ffmpeg_samples"]
        .parse()
        .expect("a number")
}

/// What a file must give.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// [`Error::Malformed`] naming the file, its detail containing the text.
    Malformed(&'static str),
    /// [`Error::Unsupported`] naming the file, containing the text.
    Unsupported(&'static str),
    /// Exactly as many samples as ffmpeg salvages from the file named (usually itself, or an
    /// intact sibling holding the same audio), and a warning containing the text (`None`: no
    /// warning at all).
    Like(&'static str, Option<&'static str>),
    /// Within `ms` milliseconds of what ffmpeg salvages from the file itself (where a damaged
    /// stream ends is a judgement call: a partial last frame), with a warning containing the text.
    Near(u64, &'static str),
    /// Fewer samples than ffmpeg gives for the intact sibling named, but some, with a warning
    /// containing the text.
    Shorter(&'static str, &'static str),
    /// Within 10 % of what ffmpeg gives for the intact sibling named (damaged packets become
    /// silence of the length their damaged headers state), with a warning containing the text.
    Around(&'static str, &'static str),
    /// ADTS AAC whose frame headers are intact: 1024 samples for each header in the file, with a
    /// warning containing the text.
    AdtsFrames(&'static str),
}

use Outcome::*;

/// Every file `make_bad.py` writes, with its outcome. `hostile_files_all_have_an_outcome` checks
/// that this list and `hostile.tsv` agree.
const HOSTILE: &[(&str, Outcome)] = &[
    // Empty and non-media files under media names.
    ("empty.mp3", Malformed("empty file")),
    ("empty.wav", Malformed("empty file")),
    ("empty.flac", Malformed("empty file")),
    ("empty.ogg", Malformed("empty file")),
    ("empty.opus", Malformed("empty file")),
    ("empty.mkv", Malformed("empty file")),
    ("empty.webm", Malformed("empty file")),
    ("empty.m4a", Malformed("empty file")),
    ("empty.mov", Malformed("empty file")),
    (
        "html-error-page.m4a",
        Unsupported("starts with 3c 21 44 4f"),
    ),
    ("png-renamed.mp3", Unsupported("starts with 89 50 4e 47")),
    (
        "random-bytes.flac",
        Unsupported("not a recognised audio or video container"),
    ),
    ("zeros.mov", Unsupported("starts with 00 00 00 00")),
    ("text.ogg", Malformed("stream structure version 32")),
    ("text.mkv", Unsupported("starts with 4a 75 73 74")),
    ("riff-avi.wav", Unsupported("starts with 52 49 46 46")),
    // Truncations: header, index and data of each container.
    ("mp4-truncated-in-ftyp.m4a", Malformed("no moov box")),
    (
        "mp4-moov-first-truncated-in-moov.m4a",
        Malformed("runs past the end of its parent"),
    ),
    (
        "mp4-moov-first-truncated-after-mdat-header.m4a",
        Malformed("no audio could be decoded"),
    ),
    (
        "mp4-moov-first-truncated-at-90-percent.m4a",
        Like(
            "mp4-moov-first-truncated-at-90-percent.m4a",
            Some("the file is truncated"),
        ),
    ),
    (
        "mp4-mdat-first-truncated-in-mdat.m4a",
        Malformed("no moov box"),
    ),
    (
        "mp4-mdat-first-truncated-in-moov.m4a",
        Malformed("runs past the end of its parent"),
    ),
    (
        "wav-truncated-in-fmt.wav",
        Malformed("runs past the end of the file"),
    ),
    (
        "wav-truncated-in-data.wav",
        Like("wav-truncated-in-data.wav", Some("the file is truncated")),
    ),
    (
        "wav-truncated-mid-sample.wav",
        Like(
            "wav-truncated-mid-sample.wav",
            Some("the file is truncated"),
        ),
    ),
    (
        "mp3-truncated-in-xing-frame.mp3",
        Unsupported("starts with ff fb"),
    ),
    (
        "mp3-truncated-mid-frame.mp3",
        Near(50, "probably truncated"),
    ),
    (
        "flac-truncated-in-streaminfo.flac",
        Malformed("runs past the end of the file"),
    ),
    (
        "flac-truncated-in-metadata.flac",
        Malformed("runs past the end of the file"),
    ),
    (
        "flac-truncated-mid-frame.flac",
        Like(
            "flac-truncated-mid-frame.flac",
            Some("the file is truncated"),
        ),
    ),
    (
        "ogg-vorbis-truncated-in-setup-header.ogg",
        Malformed("runs past the end of the file"),
    ),
    (
        "ogg-vorbis-truncated-mid-page.ogg",
        Like(
            "ogg-vorbis-truncated-mid-page.ogg",
            Some("the file is truncated"),
        ),
    ),
    (
        "ogg-opus-truncated-after-opushead.opus",
        Malformed("the file ends before its header does"),
    ),
    (
        "ogg-opus-truncated-mid-page.opus",
        Like(
            "ogg-opus-truncated-mid-page.opus",
            Some("the file is truncated"),
        ),
    ),
    (
        "mkv-truncated-in-ebml-header.webm",
        Malformed("unexpected end of file"),
    ),
    (
        "mkv-truncated-in-tracks.webm",
        Malformed("runs past the end of the segment"),
    ),
    (
        "mkv-truncated-in-cluster.webm",
        Like(
            "mkv-truncated-in-cluster.webm",
            Some("the file is truncated"),
        ),
    ),
    // Sizes and counts that lie.
    (
        "mp4-moov-size-4gb.m4a",
        Malformed("claims 4294967308 bytes"),
    ),
    (
        "mp4-mdat-largesize-2e62.m4a",
        Like("mp4-mdat-largesize-2e62.m4a", None),
    ),
    (
        "mp4-stsz-count-4e9.m4a",
        Malformed("unexpected end of atom"),
    ),
    (
        "mp4-stco-count-4e9.m4a",
        Malformed("unexpected end of atom"),
    ),
    (
        "mp4-stts-count-4e9.m4a",
        Malformed("unexpected end of atom"),
    ),
    (
        "mp4-stsc-count-4e9.m4a",
        Malformed("unexpected end of atom"),
    ),
    ("mp4-stsz-sample-2gb.m4a", Near(50, "the file is truncated")),
    (
        "mp4-stco-offset-past-end.m4a",
        Malformed("no audio could be decoded"),
    ),
    (
        "mp4-mdhd-size-4.m4a",
        Malformed("box size 4 is smaller than its header"),
    ),
    // ffmpeg refuses the 27-hour packet durations; the packets themselves are intact.
    (
        "mp4-stts-delta-4e9.m4a",
        Like("mp4-mdat-largesize-2e62.m4a", None),
    ),
    (
        "wav-data-size-4gb.wav",
        Malformed("chunk length exceeds parent"),
    ),
    ("wav-riff-size-4gb.wav", Like("wav-riff-size-4gb.wav", None)),
    (
        "wav-chunk-before-data-2gb.wav",
        Malformed("chunk size 2147483632 runs past the end"),
    ),
    (
        "wav-fmt-size-4gb.wav",
        Malformed("chunk size 4294967040 runs past the end"),
    ),
    (
        "mp3-xing-frames-4e9.mp3",
        Like("mp3-xing-frames-4e9.mp3", Some("probably truncated")),
    ),
    // ffmpeg gives up on the tag; the frames after it are intact.
    (
        "mp3-id3v2-size-256mb.mp3",
        Like("mp3-xing-frames-4e9.mp3", None),
    ),
    (
        "flac-streaminfo-length-16mb.flac",
        Malformed("block length 16777215 runs past the end"),
    ),
    (
        "flac-vorbis-comment-length-16mb.flac",
        Malformed("block length 16777200 runs past the end"),
    ),
    (
        "flac-total-samples-2e36.flac",
        Like(
            "flac-total-samples-2e36.flac",
            Some("the file is truncated"),
        ),
    ),
    (
        "ogg-opus-granule-2e62.opus",
        Like("ogg-opus-granule-2e62.opus", Some("probably truncated")),
    ),
    (
        "ogg-vorbis-comment-vendor-length-4e9.ogg",
        Like("ogg-vorbis-comment-vendor-length-4e9.ogg", None),
    ),
    (
        "mkv-ebml-header-size-2gb.webm",
        Malformed("ebml header size 2147483648"),
    ),
    (
        "mkv-tracks-size-128mb.webm",
        Malformed("element size 134217728 runs past the end"),
    ),
    (
        "mkv-codecprivate-size-4gb.webm",
        Malformed("without a valid OpusHead"),
    ),
    (
        "mkv-cluster-size-1tb.webm",
        Malformed("no audio could be decoded"),
    ),
    (
        "mkv-simpleblock-size-4gb.webm",
        Malformed("invalid ebml element id"),
    ),
    // Impossible parameters.
    ("mp4-mdhd-timescale-0.m4a", Malformed("timescale is zero")),
    // ffmpeg and symphonia take the channel count from the AAC stream itself.
    (
        "mp4-aac-channels-0.m4a",
        Like("mp4-aac-channels-0.m4a", None),
    ),
    ("mp4-aac-rate-0.m4a", Malformed("sample rate of 0 Hz")),
    ("wav-1000-channels.wav", Malformed("declares 1000 channels")),
    (
        "wav-65535-channels.wav",
        Malformed("declares 65535 channels"),
    ),
    ("wav-rate-0.wav", Malformed("sample rate of 0 Hz")),
    ("wav-7-bit.wav", Malformed("must be 8, 16, 24 or 32 bits")),
    ("wav-33-bit.wav", Malformed("must be 8, 16, 24 or 32 bits")),
    ("wav-0-bit.wav", Malformed("must be 8, 16, 24 or 32 bits")),
    ("wav-float-16-bit.wav", Malformed("must be 32 or 64 bits")),
    (
        "flac-streaminfo-rate-0.flac",
        Malformed("sample rate out of bounds"),
    ),
    (
        "flac-streaminfo-1-bit.flac",
        Malformed("bits per sample are out of bounds"),
    ),
    (
        "ogg-opus-channels-0.opus",
        Malformed("states no valid channel count"),
    ),
    (
        "ogg-opus-255-channels.opus",
        Malformed("declares 255 channels"),
    ),
    (
        "ogg-vorbis-rate-0.ogg",
        Malformed("states no valid channel count or sample rate"),
    ),
    (
        "ogg-vorbis-channels-0.ogg",
        Malformed("states no valid channel count"),
    ),
    (
        "mkv-channels-0.webm",
        Malformed("invalid (0) audio channels"),
    ),
    (
        "mkv-sampling-frequency-0.webm",
        Malformed("audio sampling frequency"),
    ),
    (
        "mkv-pcm-sampling-frequency-1e12.mkv",
        Malformed("sample rate of 4294967295 Hz"),
    ),
    (
        "mkv-pcm-200-channels.mkv",
        Malformed("declares 200 channels"),
    ),
    // Non-finite samples: replaced by 0, with a warning.
    (
        "wav-float-nan-inf.wav",
        Like(
            "wav-float-nan-inf.wav",
            Some("3 samples were NaN or infinite"),
        ),
    ),
    (
        "wav-float-all-nan.wav",
        Like(
            "wav-float-all-nan.wav",
            Some("800 samples were NaN or infinite"),
        ),
    ),
    // Too short for one analysis frame.
    (
        "wav-0-samples.wav",
        Like("wav-0-samples.wav", Some("the audio track is empty")),
    ),
    ("wav-1-sample.wav", Like("wav-1-sample.wav", None)),
    ("wav-10-samples.wav", Like("wav-10-samples.wav", None)),
    // Corrupted payloads. Damaged AAC packets become silence of their length, so the length is
    // the intact stream's (mp4-mdat-largesize-2e62.m4a holds the same packets).
    (
        "aac-garbage-in-mdat.m4a",
        Like(
            "mp4-mdat-largesize-2e62.m4a",
            Some("8 damaged packet(s) replaced by silence"),
        ),
    ),
    // MP3 has no checksum: scrambled main data decodes as noise, undetectably (ffmpeg agrees).
    (
        "mp3-garbage-in-frames.mp3",
        Like("mp3-garbage-in-frames.mp3", None),
    ),
    ("mp3-garbage-run.mp3", Near(50, "probably truncated")),
    (
        "adts-garbage-in-frames.aac",
        AdtsFrames("7 damaged packet(s) replaced by silence"),
    ),
    (
        "flac-damaged-frame-headers.flac",
        Shorter(
            "flac-total-samples-2e36.flac",
            "gap(s) in the packet timestamps",
        ),
    ),
    (
        "flac-garbage-in-frame.flac",
        Like(
            "flac-garbage-in-frame.flac",
            Some("gap(s) in the packet timestamps, 0.072 s in all"),
        ),
    ),
    (
        "ogg-vorbis-bad-page-checksum.ogg",
        Like(
            "ogg-vorbis-bad-page-checksum.ogg",
            Some("gap(s) in the packet timestamps, 0.128 s"),
        ),
    ),
    (
        "ogg-opus-garbage-packets.opus",
        Around(
            "ogg-opus-granule-2e62.opus",
            "10 damaged packet(s) replaced by silence",
        ),
    ),
    // The first audio page is damaged: symphonia's Ogg reader fails while opening the stream.
    (
        "ogg-opus-bad-page-checksums.opus",
        Malformed("crc mismatch"),
    ),
    // The long file has its own test below.
    (
        "flac-silence-1h-16k.flac",
        Like("flac-silence-1h-16k.flac", None),
    ),
];

/// The outcomes that need no decode of an hour of audio (debug builds take seconds for it).
fn short_cases() -> impl Iterator<Item = &'static (&'static str, Outcome)> {
    HOSTILE
        .iter()
        .filter(|(name, _)| *name != "flac-silence-1h-16k.flac")
}

#[test]
fn hostile_files_all_have_an_outcome() {
    let table = read_table(&bad("hostile.tsv"));
    let mut listed: Vec<&str> = table.keys().map(String::as_str).collect();
    let mut covered: Vec<&str> = HOSTILE.iter().map(|(name, _)| *name).collect();
    listed.sort_unstable();
    covered.sort_unstable();
    assert_eq!(
        listed, covered,
        "HOSTILE and hostile.tsv list the same files"
    );
    let bytes: u64 = listed
        .iter()
        .map(|n| std::fs::metadata(bad(n)).expect("committed").len())
        .sum();
    assert!(
        bytes < 300_000,
        "the hostile files stay small: {bytes} bytes"
    );
}

/// Checks `result` against `outcome`; returns what failed, if anything.
fn check(
    name: &str,
    outcome: Outcome,
    result: &Result<(u64, u32, Vec<String>), Error>,
    table: &HashMap<String, HashMap<String, String>>,
) -> Option<String> {
    let has_warning = |warnings: &[String], text: &str| warnings.iter().any(|w| w.contains(text));
    match (outcome, result) {
        (Malformed(text), Err(Error::Malformed { what, detail }))
            if what.contains(name) && detail.contains(text) =>
        {
            None
        }
        (Unsupported(text), Err(Error::Unsupported { what }))
            if what.contains(name) && what.contains(text) =>
        {
            None
        }
        (Like(like, warning), Ok((frames, _, warnings))) => {
            let expected = ffmpeg_samples(table, like);
            let warned = match warning {
                Some(text) => has_warning(warnings, text),
                None => warnings.is_empty(),
            };
            (*frames != expected || !warned).then(|| {
                format!("{frames} samples (ffmpeg: {expected} from {like}), warnings {warnings:?}")
            })
        }
        (Near(ms, text), Ok((frames, rate, warnings))) => {
            let expected = ffmpeg_samples(table, name);
            let tolerance = u64::from(*rate) * ms / 1000;
            (frames.abs_diff(expected) > tolerance || !has_warning(warnings, text)).then(|| {
                format!(
                    "{frames} samples (ffmpeg: {expected} ± {tolerance}), warnings {warnings:?}"
                )
            })
        }
        (Shorter(intact, text), Ok((frames, _, warnings))) => {
            let full = ffmpeg_samples(table, intact);
            (*frames == 0 || *frames >= full || !has_warning(warnings, text))
                .then(|| format!("{frames} samples (intact: {full}), warnings {warnings:?}"))
        }
        (Around(intact, text), Ok((frames, _, warnings))) => {
            let full = ffmpeg_samples(table, intact);
            (frames.abs_diff(full) > full / 10 || !has_warning(warnings, text))
                .then(|| format!("{frames} samples (intact: {full}), warnings {warnings:?}"))
        }
        (AdtsFrames(text), Ok((frames, _, warnings))) => {
            let expected = 1024 * adts_frame_count(&bad(name));
            (*frames != expected || !has_warning(warnings, text)).then(|| {
                format!("{frames} samples ({expected} in the ADTS headers), warnings {warnings:?}")
            })
        }
        (_, Ok((frames, _, warnings))) => Some(format!(
            "expected {outcome:?}, got {frames} samples with warnings {warnings:?}"
        )),
        (_, Err(e)) => Some(format!("expected {outcome:?}, got {e:?}")),
    }
}

/// The ADTS frames of a file, by walking their headers (ISO/IEC 14496-3 §1.A.2.2: the 13-bit
/// frame length at bits 30..43 of the header).
fn adts_frame_count(path: &Path) -> u64 {
    let bytes = std::fs::read(path).expect("committed");
    let (mut at, mut count) = (0, 0);
    while at + 7 <= bytes.len() && bytes[at] == 0xff && bytes[at + 1] & 0xf6 == 0xf0 {
        let length = (usize::from(bytes[at + 3] & 3) << 11)
            | (usize::from(bytes[at + 4]) << 3)
            | usize::from(bytes[at + 5] >> 5);
        assert!(length >= 7, "a valid ADTS frame length");
        at += length;
        count += 1;
    }
    assert_eq!(at, bytes.len(), "the headers chain to the end of the file");
    count
}

#[test]
fn hostile_files_decode_to_the_exact_outcome() {
    let table = read_table(&bad("hostile.tsv"));
    let failures: Vec<String> = short_cases()
        .filter_map(|&(name, outcome)| {
            let result = decode_path(bad(name), &DecodeOptions::default())
                .map(|a| (a.frames(), a.info.sample_rate, a.warnings));
            check(name, outcome, &result, &table).map(|f| format!("{name}: {f}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn hostile_files_analyze_to_the_exact_outcome() {
    // End to end: the analyzer gives the decoder's outcome, and a report for what decodes.
    let table = read_table(&bad("hostile.tsv"));
    let analyzer = Analyzer::new(Config::default()).expect("defaults are valid");
    let failures: Vec<String> = short_cases()
        .filter_map(|&(name, outcome)| {
            let result = analyzer.analyze_path(bad(name)).map(|r| {
                let frames = (r.duration_s * f64::from(r.audio.sample_rate)).round() as u64;
                assert!(r.to_json().contains("\"schema\""), "{name}: a JSON report");
                (frames, r.audio.sample_rate, r.warnings)
            });
            check(name, outcome, &result, &table).map(|f| format!("{name}: {f}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn non_finite_samples_do_not_reach_the_report() {
    // The NaN/Inf file against the same file with those three samples written as 0.0: the
    // reports agree in everything but the input name and the warning.
    let path = bad("wav-float-nan-inf.wav");
    let mut clean = std::fs::read(&path).expect("committed");
    let data = clean
        .windows(4)
        .position(|w| w == b"data")
        .expect("a data chunk")
        + 8;
    for index in [100, 200, 300] {
        let at = data + 4 * index;
        assert!(!f32::from_le_bytes(clean[at..at + 4].try_into().unwrap()).is_finite());
        clean[at..at + 4].copy_from_slice(&0f32.to_le_bytes());
    }
    let analyzer = Analyzer::new(Config::default()).expect("valid");
    let dirty = analyzer.analyze_path(&path).expect("analyses");
    let clean = analyzer
        .analyze_reader(Cursor::new(clean), "clean.wav")
        .expect("analyses")
        .report;
    assert_eq!(
        dirty.warnings,
        ["3 samples were NaN or infinite and are replaced by 0, the first at 0.006 s"]
    );
    assert!(clean.warnings.is_empty(), "{:?}", clean.warnings);
    let strip = |r: &clip_provenance::Report| {
        let mut v: serde_json::Value = serde_json::from_str(&r.to_json()).expect("JSON");
        v["input"] = serde_json::Value::Null;
        v["warnings"] = serde_json::Value::Null;
        v
    };
    assert_eq!(strip(&dirty), strip(&clean));

    // Audio handed in directly takes the same path.
    let mut samples: Vec<f32> = (0..16_000).map(|n| (n as f32 * 0.03).sin() * 0.3).collect();
    samples[500] = f32::NAN;
    samples[900] = f32::NEG_INFINITY;
    let audio = Audio::from_interleaved(samples, 16_000, 1).expect("valid");
    let report = analyzer
        .analyze_audio(&audio, "tone")
        .expect("analyses")
        .report;
    assert_eq!(
        report.warnings,
        ["2 samples of the mono mix were NaN or infinite and are replaced by 0"]
    );
}

#[test]
fn an_hour_of_silence_streams_in_bounded_memory() {
    // 57.6 million samples (230 MB as f32) in 12 KB of FLAC, read as the analyzer reads it:
    // decoded in blocks, mixed and resampled to the analysis rate. The blocks stay small and the
    // allocator ceiling holds. (The whole analysis of this file is measured in release builds,
    // where it takes seconds; in a debug build it would take minutes of CI.)
    let table = read_table(&bad("hostile.tsv"));
    let name = "flac-silence-1h-16k.flac";
    let reader = clip_provenance::AudioReader::open_path(bad(name), &DecodeOptions::default())
        .expect("opens");
    let mut stream = clip_provenance::AnalysisStream::new(reader, 16_000).expect("valid rate");
    let (mut total, mut largest) = (0u64, 0usize);
    while let Some(block) = stream.next_block().expect("decodes") {
        assert!(block.iter().all(|&x| x == 0.0), "digital silence");
        total += block.len() as u64;
        largest = largest.max(block.len());
    }
    assert_eq!(total, ffmpeg_samples(&table, name));
    assert_eq!(stream.native_samples(), 3600 * 16_000);
    assert!(stream.warnings().is_empty(), "{:?}", stream.warnings());
    assert!(
        largest <= 1 << 20,
        "blocks of at most a million samples: {largest}"
    );
}

#[test]
fn a_directory_named_like_a_media_file_is_an_io_error_naming_it() {
    let dir = std::env::temp_dir().join(format!(
        "clip-provenance-bad-dir-{}/clip.mp4",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    let decoded = decode_path(&dir, &DecodeOptions::default());
    assert!(
        matches!(&decoded, Err(Error::Io { path, source }) if path == &dir && source.kind() == std::io::ErrorKind::IsADirectory),
        "{decoded:?}"
    );
    let analyzed = Analyzer::new(Config::default())
        .expect("valid")
        .analyze_path(&dir);
    assert!(
        matches!(&analyzed, Err(Error::Io { path, .. }) if path == &dir),
        "{analyzed:?}"
    );
    std::fs::remove_dir_all(dir.parent().expect("a parent")).expect("clean up");
}

/// Cut points in a file of `len` bytes: every byte of the first 64 (the headers), then every
/// `len / 40` bytes to the end.
fn cut_points(len: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = (0..len.min(64)).collect();
    cuts.extend((64..len).step_by((len / 40).max(1)));
    cuts
}

#[test]
fn every_fixture_cut_anywhere_gives_a_warning_or_a_specific_error() {
    // Each fixture of testdata/, cut in memory at ~100 points through header, index and data:
    // an error that says the file is damaged or unreadable, or the audio before the cut with a
    // warning whenever more than 5 % of the audio is lost, never more audio than the whole file
    // gives, and never a panic or an I/O error.
    let table = read_table(&testdata("expected.tsv"));
    // An MP3 without an info frame states no length (ffprobe estimates one from the bit rate and
    // the file size, which shrinks with the cut): a cut at or inside a frame is undetectable,
    // for ffmpeg as for us.
    let states_no_length = ["mp3-44k1-mono-no-xing.mp3"];
    let mut failures = Vec::new();
    let mut salvaged = 0;
    let mut names: Vec<&String> = table.keys().collect();
    names.sort();
    for name in names {
        let whole = std::fs::read(testdata(name)).expect("committed");
        let full: u64 = table[name]["ffmpeg_samples"].parse().expect("a number");
        for cut in cut_points(whole.len()) {
            let bytes = whole[..cut].to_vec();
            match decode_reader(Cursor::new(bytes), name, &DecodeOptions::default()) {
                Err(Error::Malformed { .. } | Error::Unsupported { .. }) => {}
                Err(e) => failures.push(format!("{name} cut at {cut}: {e:?}")),
                Ok(audio) => {
                    salvaged += 1;
                    if audio.frames() > full {
                        failures.push(format!(
                            "{name} cut at {cut}: {} samples, the whole file has {full}",
                            audio.frames()
                        ));
                    }
                    if audio.frames() < full - full / 20
                        && audio.warnings.is_empty()
                        && !states_no_length.contains(&name.as_str())
                    {
                        failures.push(format!(
                            "{name} cut at {cut}: {} of {full} samples without a warning",
                            audio.frames()
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        salvaged > 500,
        "most cuts past the headers salvage audio: {salvaged}"
    );
}

#[test]
fn analysis_time_limit_stops_a_real_clip_with_a_limit_error() {
    let config = Config {
        max_analysis_s: Some(1e-6),
        ..Config::default()
    };
    let path = testdata("opus-48k-mono.ogg");
    match Analyzer::new(config).expect("valid").analyze_path(&path) {
        Err(Error::Limit {
            what,
            limit,
            actual,
        }) => {
            assert!(what.contains("opus-48k-mono.ogg"), "{what}");
            assert!(what.contains("max_analysis_s"), "{what}");
            assert_eq!(limit, 0, "1 µs is 0 whole milliseconds");
            assert!(actual >= limit);
        }
        other => panic!("expected Error::Limit, got {other:?}"),
    }
    // A generous limit changes nothing.
    let config = Config {
        max_analysis_s: Some(3600.0),
        ..Config::default()
    };
    let report = Analyzer::new(config)
        .expect("valid")
        .analyze_path(&path)
        .expect("well within an hour");
    assert_eq!(report.duration_s, 3.5);
}
