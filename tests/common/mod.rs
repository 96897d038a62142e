//! Helpers shared by the integration tests: the example binaries, scratch directories, the
//! committed tables of testdata/, slices of the bundled speech to fill an index with, and a
//! resampler for mono signals.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use clip_provenance::{Audio, DecodeOptions, decode_path};

/// The example binary `name`, built by `cargo test` next to the test's own binary, to run from
/// the project root (as the csv crate's cookbook tests run its examples).
pub fn example(name: &str) -> Command {
    let mut dir = std::env::current_exe().expect("the test binary has a path");
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let exe = dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(exe.exists(), "{} is built by cargo test", exe.display());
    let mut cmd = Command::new(exe);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// A fresh, empty scratch directory for one test (per process, so parallel runs do not meet).
pub fn scratch(prefix: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "clip-provenance-{prefix}-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir
}

/// Length of the speech slices the index tests add as references, in seconds: long enough that a
/// query with the slice itself is an asserted match, short enough that an add is quick.
pub const SLICE_S: f64 = 2.0;
/// Where slicing starts in each file, in seconds: past the leading silence of the recordings.
const SLICE_FROM_S: f64 = 0.4;

/// The bundled speech recordings (testdata/speech/*.flac), in file-name order.
pub fn bundled_speech() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/speech");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testdata/speech is there")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "flac"))
        .collect();
    files.sort();
    files
}

/// Every whole, non-overlapping `SLICE_S` stretch of the bundled speech (testdata/speech, in
/// file-name order, from `SLICE_FROM_S` on) as 16 kHz mono audio: distinct real speech, so the
/// fingerprint of each matches only itself. About 40 slices.
pub fn speech_slices() -> Vec<Audio> {
    let mut slices = Vec::new();
    for file in bundled_speech() {
        let audio = decode_path(&file, &DecodeOptions::default()).expect("bundled speech decodes");
        let rate = audio.info.sample_rate;
        let mono = audio.to_mono();
        let step = (SLICE_S * f64::from(rate)) as usize;
        let mut start = (SLICE_FROM_S * f64::from(rate)) as usize;
        while start + step <= mono.len() {
            let piece = mono[start..start + step].to_vec();
            slices.push(Audio::from_interleaved(piece, rate, 1).expect("valid audio"));
            start += step;
        }
    }
    slices
}

/// The rows of a tab-separated table with a header line, as maps from column to value.
pub fn read_table(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).expect("the table is committed");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header line").split('\t').collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            header
                .iter()
                .map(|h| h.to_string())
                .zip(l.split('\t').map(str::to_string))
                .collect()
        })
        .collect()
}

/// Mono `samples` at `from_hz` resampled to `to_hz` (the crate's resampler, flushed). Taken as
/// recorded at a higher rate than they were and resampled back, they play faster.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Vec<f32> {
    let mut r = clip_provenance::MonoResampler::new(from_hz, to_hz).expect("valid rates");
    let mut out = Vec::new();
    r.push(samples, &mut out);
    r.finish(&mut out);
    out
}
