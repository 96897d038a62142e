#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
// `deny`, not `forbid`: index/segment.rs maps files (the crate's one `unsafe`) and must be able to
// allow it. Every other module forbids it itself (checked by the test below).
#![deny(unsafe_code)]

mod analyzer;
mod container;
mod cues;
mod decode;
mod error;
mod fingerprint;
mod index;
mod output;
mod render;
mod report;
mod signal;
mod spectrogram;
mod splice;
mod verdict;

pub use analyzer::{Analysis, Analyzer, Config, Progress};
pub use container::{
    ContainerFacts, Edit, Tag, TrackFacts, TrackKind, read_facts, read_facts_path,
};
pub use cues::{
    ChannelCue, CodecCue, CueKey, CueSet, CueTrack, CueUsability, EnfCue, NoiseFloorCue, ReverbCue,
    SampleCue, SpectrogramCue, WaveformCue, cue_usability,
};
pub use decode::{
    Audio, AudioBlock, AudioInfo, AudioReader, DEFAULT_MAX_DURATION_S, DecodeOptions, MAX_CHANNELS,
    MAX_SAMPLE_RATE_HZ, MEDIA_EXTENSIONS, TrackInfo, decode_path, decode_reader, is_media_path,
    media_files_in,
};
pub use error::{Error, Result};
pub use fingerprint::{
    FineOffsets, FineTolerance, Fingerprint, FingerprintBuilder, FingerprintConfig, HashFields,
    Landmark, Peak, SIGNATURE_BITS, SIGNATURE_FRAMES, fingerprint_samples, signature_agreement,
    signature_count,
};
pub use index::{Index, IndexEntry, IndexSettings, Match, Metadata, within_clip_matches};
pub use output::write_atomic;
pub use render::{
    Band, ColorMap, Layout, Marker, Picture, PixelRect, Pooling, RenderOptions, Track, write_png,
};
pub use report::{Report, SCHEMA, format_clock};
pub use signal::{
    AnalysisStream, DEFAULT_ANALYSIS_RATE_HZ, MonoResampler, mix_to_mono, read_analysis_signal,
};
pub use spectrogram::{Spectrogram, SpectrogramConfig, SpectrogramStream, Window};
pub use splice::{
    ArchiveBoundary, CandidateOptions, FUSION, FUSION_HINGE, FUSION_INPUTS, Fusion, Splice,
    SpliceCandidate, archive_boundaries, find_splice_candidates, fuse_splices, fusion_inputs,
};
pub use verdict::{Evidence, Label, VERDICT_MODEL, Verdict, VerdictModel, decide};

#[cfg(test)]
mod tests {
    /// Files that cannot forbid `unsafe_code`: the memory-mapped segment reader, and the
    /// modules it sits in (a `forbid` there would forbid it in the segment reader too).
    const MAY_NOT_FORBID_UNSAFE: [&str; 3] = ["lib.rs", "index.rs", "index/segment.rs"];

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src lists") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_module_but_the_segment_map_forbids_unsafe_code() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        assert!(files.len() > 40, "{} files under src", files.len());
        for file in files {
            let relative = file
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&file).expect("readable");
            let forbids = text.contains("#![forbid(unsafe_code)]");
            if MAY_NOT_FORBID_UNSAFE.contains(&relative.as_str()) {
                assert!(
                    text.contains("#![deny(unsafe_code)]") || relative == "index/segment.rs",
                    "{relative} denies unsafe code"
                );
            } else {
                assert!(forbids, "{relative} starts with #![forbid(unsafe_code)]");
            }
        }
    }
}
