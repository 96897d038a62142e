//! The main job end to end on real speech: one clip per verdict label, built from the bundled
//! speech so that the answer is known by construction, analysed against an archive index of
//! bundled recordings.
use std::path::{Path, PathBuf};

use clip_provenance::{
    Analyzer, Audio, Config, DecodeOptions, Index, IndexSettings, Label, Report, decode_path,
};

mod common;

/// Splice times within this many seconds (issue 6).
const TIME_TOLERANCE_S: f64 = 0.1;

fn speech(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/speech")
        .join(name)
}

/// Mono 16 kHz samples of `name` between `start_s` and `end_s` (the bundled speech is 16 kHz).
fn excerpt(name: &str, start_s: f64, end_s: f64) -> Vec<f32> {
    let audio = decode_path(speech(name), &DecodeOptions::default()).expect("decodes");
    assert_eq!(audio.info.sample_rate, 16_000);
    let mono = audio.to_mono();
    mono[(start_s * 16_000.0) as usize..(end_s * 16_000.0) as usize].to_vec()
}

/// The archive: three recordings. `vctk_p286_011.flac` and the cmu_arctic recordings are not in
/// it.
fn archive(name: &str) -> (Index, PathBuf) {
    let dir = common::scratch("verdict", name);
    let _ = std::fs::remove_dir_all(&dir);
    let mut index = Index::create(&dir, IndexSettings::default()).expect("creates");
    for file in [
        "jfk_inaugural_1961_excerpt.flac",
        "librispeech_198-209-0000.flac",
        "librispeech_1081-125237-0000.flac",
    ] {
        index.add_path(speech(file), None, false).expect("adds");
    }
    (index, dir)
}

fn analyse(index: &Index, samples: Vec<f32>) -> Report {
    let audio = Audio::from_interleaved(samples, 16_000, 1).expect("valid audio");
    Analyzer::new(Config::default())
        .expect("default config")
        .with_index(index)
        .analyze_audio(&audio, "clip.wav")
        .expect("analyses")
        .report
}

fn asserted_splices(report: &Report) -> Vec<f64> {
    report
        .splices
        .iter()
        .filter(|s| s.score >= 0.5)
        .map(|s| s.time_s)
        .collect()
}

fn asserted_references(report: &Report) -> Vec<&str> {
    let mut r: Vec<&str> = report
        .matches
        .iter()
        .filter(|m| m.confidence >= 0.5 && !m.within_clip)
        .map(|m| m.reference.as_str())
        .collect();
    r.sort_unstable();
    r.dedup();
    r
}

#[test]
fn verdict_reassembled_from_two_archived_speeches_names_both_and_the_joint() {
    let (index, dir) = archive("reassembled");
    let mut clip = excerpt("jfk_inaugural_1961_excerpt.flac", 1.0, 4.0);
    clip.extend(excerpt("librispeech_198-209-0000.flac", 5.0, 8.5));
    let report = analyse(&index, clip);
    assert_eq!(
        report.verdict.label,
        Label::Reassembled,
        "{}",
        report.summary()
    );
    assert!(report.verdict.score >= 0.5, "{}", report.verdict.score);
    assert_eq!(
        asserted_references(&report),
        vec![
            "jfk_inaugural_1961_excerpt.flac",
            "librispeech_198-209-0000.flac"
        ]
    );
    let splices = asserted_splices(&report);
    assert_eq!(splices.len(), 1, "{}", report.summary());
    assert!((splices[0] - 3.0).abs() <= TIME_TOLERANCE_S, "{splices:?}");
    // Two segments, each with its source, split at the splice.
    let sources: Vec<Option<&str>> = report
        .segments
        .iter()
        .map(|s| s.reference.as_deref())
        .collect();
    assert_eq!(
        sources,
        vec![
            Some("jfk_inaugural_1961_excerpt.flac"),
            Some("librispeech_198-209-0000.flac")
        ]
    );
    assert!(report.verdict.summary.contains("2 of 2 segment(s)"));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn verdict_reused_archive_speech_is_one_piece_without_a_splice() {
    let (index, dir) = archive("reused");
    let report = analyse(&index, excerpt("librispeech_198-209-0000.flac", 2.0, 9.0));
    assert_eq!(report.verdict.label, Label::Reused, "{}", report.summary());
    assert!(asserted_splices(&report).is_empty(), "{}", report.summary());
    assert_eq!(
        asserted_references(&report),
        vec!["librispeech_198-209-0000.flac"]
    );
    let m = &report.matches[0];
    assert!(
        (m.reference_start_s - 2.0 - m.clip_start_s).abs() <= 0.02,
        "{m:?}"
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn verdict_authentic_speech_outside_the_archive_says_what_was_checked() {
    let (index, dir) = archive("authentic");
    let report = analyse(&index, excerpt("vctk_p286_011.flac", 0.0, 6.5));
    assert_eq!(
        report.verdict.label,
        Label::Authentic,
        "{}",
        report.summary()
    );
    assert!(report.verdict.score < 0.5, "{}", report.verdict.score);
    assert!(asserted_references(&report).is_empty());
    let summary = &report.verdict.summary;
    assert!(summary.contains("Not proof"), "{summary}");
    assert!(summary.contains("archive (3 recording(s)"), "{summary}");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn verdict_edited_a_sentence_repeated_outside_the_archive_is_found_where_it_was_copied() {
    let (index, dir) = archive("edited");
    // Speech not in the archive, with 1.0–3.5 s copied again after 6.5 s.
    let vctk = excerpt("vctk_p286_011.flac", 0.0, 6.5);
    let mut clip = vctk.clone();
    clip.extend_from_slice(&vctk[16_000..56_000]);
    let report = analyse(&index, clip);
    assert_eq!(report.verdict.label, Label::Edited, "{}", report.summary());
    assert!(asserted_references(&report).is_empty());
    let copy = report
        .matches
        .iter()
        .find(|m| m.within_clip && m.confidence >= 0.5)
        .unwrap_or_else(|| panic!("no repeat found: {}", report.summary()));
    assert!(
        (copy.clip_start_s - 6.5).abs() <= TIME_TOLERANCE_S
            && (copy.reference_start_s - 1.0).abs() <= TIME_TOLERANCE_S,
        "{copy:?}"
    );
    // The copy's start is a splice candidate in the report, from the `archive` cue.
    assert!(
        report
            .splices
            .iter()
            .any(|s| (s.time_s - 6.5).abs() <= TIME_TOLERANCE_S
                && s.cues.contains_key(&clip_provenance::CueKey::Archive)),
        "{:?}",
        report.splices
    );
    assert!(report.verdict.summary.contains("repeated within the clip"));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn verdict_edited_a_deletion_in_a_recording_with_mains_hum_is_found_by_its_hum() {
    // LibriSpeech 1723 carries 50 Hz hum of its own and is not in the archive. Removing 0.37 s
    // at 6 s (18.5 cycles of 50 Hz) jumps the hum's phase by about π; nothing else marks the
    // cut — one speaker, one room, one microphone.
    let (index, dir) = archive("edited-hum");
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/cues/librispeech-1723-141149-0000-16k-12s-mains-hum-50hz.flac");
    let audio = decode_path(&path, &DecodeOptions::default()).expect("decodes");
    assert_eq!(audio.info.sample_rate, 16_000);
    let speech = audio.to_mono();
    let (cut, gap) = (6 * 16_000, (0.37 * 16_000.0) as usize);
    let mut clip = speech[..cut].to_vec();
    clip.extend_from_slice(&speech[cut + gap..]);
    let report = analyse(&index, clip);
    assert_eq!(report.verdict.label, Label::Edited, "{}", report.summary());
    assert!(asserted_references(&report).is_empty());
    let at_cut: Vec<_> = report
        .splices
        .iter()
        .filter(|s| s.score >= 0.5 && (s.time_s - 6.0).abs() <= TIME_TOLERANCE_S)
        .collect();
    assert_eq!(at_cut.len(), 1, "{}", report.summary());
    assert!(
        at_cut[0].cues.contains_key(&clip_provenance::CueKey::Enf),
        "{:?}",
        at_cut[0]
    );
    // The unedited recording: no asserted splice.
    let report = analyse(&index, speech);
    assert!(asserted_splices(&report).is_empty(), "{}", report.summary());
    let _ = std::fs::remove_dir_all(dir);
}
