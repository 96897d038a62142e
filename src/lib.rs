#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
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

pub use analyzer::{Analysis, Analyzer, Config};
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
    Fingerprint, FingerprintBuilder, FingerprintConfig, HashFields, Landmark, Peak, SIGNATURE_BITS,
    SIGNATURE_FRAMES, fingerprint_samples, signature_agreement, signature_count,
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
    ArchiveBoundary, CandidateOptions, FUSION, FUSION_INPUTS, Fusion, Splice, SpliceCandidate,
    archive_boundaries, find_splice_candidates, fuse_splices, fusion_inputs,
};
pub use verdict::{Evidence, Label, VERDICT_MODEL, Verdict, VerdictModel, decide};
