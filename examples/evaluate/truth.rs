//! Ground truth of one clip, written as `<clip>.truth.json` next to it: the splice times, each
//! piece's source and offsets and speed, the processing chain, the expected label and the split.
//!
//! Times are seconds on the clip's own timeline (DESIGN.md: t = 0 is the first sample ffmpeg
//! outputs), or on the source recording's timeline for `source_*` fields.

use serde::{Deserialize, Serialize};

use crate::acoustics::Acoustics;
use crate::dsp::Placement;

/// The schema identifier of a truth file.
pub const TRUTH_SCHEMA: &str = "clip-provenance-benchmark-truth/1";

/// Train (thresholds are set here) or test (accuracy is reported here). A speaker's recordings
/// all lie on one side, so no voice and no recording is on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// For calibration.
    Train,
    /// For reporting.
    Test,
}

impl Split {
    /// Both, in report order.
    pub const ALL: [Split; 2] = [Split::Test, Split::Train];

    /// `train` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

/// How a clip was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipKind {
    /// A continuous stretch of a recording that is not in the archive.
    Authentic,
    /// A continuous stretch of an archive recording.
    Reused,
    /// Stretches of one recording with the audio between them cut out.
    Deletion,
    /// 2–5 pieces of several recordings, at least one from the archive.
    Reassembled,
}

impl ClipKind {
    /// All kinds, in table order.
    pub const ALL: [ClipKind; 4] = [
        ClipKind::Authentic,
        ClipKind::Reused,
        ClipKind::Deletion,
        ClipKind::Reassembled,
    ];

    /// Its name in file names and tables.
    pub fn name(self) -> &'static str {
        match self {
            ClipKind::Authentic => "authentic",
            ClipKind::Reused => "reused",
            ClipKind::Deletion => "deletion",
            ClipKind::Reassembled => "reassembled",
        }
    }
}

/// The verdict label (DESIGN.md, `verdict.label`): the crate's own, which also gives the label
/// DESIGN.md prescribes for a clip's true splices and archived pieces
/// ([`Label::from_evidence`]).
pub use clip_provenance::Label;

/// Which recordings a splice joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Join {
    /// Two places in one recording (a deletion): same room, same noise, same hum.
    WithinRecording,
    /// Two recordings of one speaker.
    SameSpeaker,
    /// Two speakers.
    OtherSpeaker,
    /// A clip whose splices are of several joins.
    Mixed,
}

impl Join {
    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Join::WithinRecording => "within recording",
            Join::SameSpeaker => "same speaker",
            Join::OtherSpeaker => "other speaker",
            Join::Mixed => "mixed",
        }
    }
}

/// Crossfade classes for the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fade {
    /// A hard cut (0 ms).
    Hard,
    /// 1–10 ms, a de-click fade.
    Short,
    /// 10–50 ms, an audible blend.
    Long,
}

impl Fade {
    /// Upper end of the short class in seconds.
    pub const SHORT_MAX_S: f64 = 0.010;

    /// The class of a crossfade of `crossfade_s`.
    pub fn of(crossfade_s: f64) -> Fade {
        if crossfade_s <= 0.0 {
            Fade::Hard
        } else if crossfade_s <= Fade::SHORT_MAX_S {
            Fade::Short
        } else {
            Fade::Long
        }
    }

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Fade::Hard => "hard cut (0 ms)",
            Fade::Short => "crossfade 1-10 ms",
            Fade::Long => "crossfade 10-50 ms",
        }
    }
}

/// One splice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpliceTruth {
    /// The middle of the crossfade (the cut itself for a hard cut), in clip seconds.
    pub time_s: f64,
    /// Which recordings it joins.
    pub join: Join,
    /// Where the cut lies in the speech on its two sides.
    pub placement: Placement,
    /// Crossfade length in clip seconds (0 for a hard cut).
    pub crossfade_s: f64,
}

/// One piece of the clip, a stretch of one source recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PieceTruth {
    /// The source recording's path in the corpus.
    pub recording: String,
    /// Its speaker.
    pub speaker: String,
    /// The name under which the source is in the archive (`<stem>.wav`); `None` when it is in no
    /// archive.
    pub reference: Option<String>,
    /// The source's master (the recording with its room, noise and hum, as the clip was cut
    /// from it), relative to the benchmark folder: `archive/<stem>.wav` or
    /// `unarchived/<stem>.wav`.
    pub master: String,
    /// Where the piece starts and ends in the clip (crossfades included), in seconds.
    pub clip_start_s: f64,
    /// See `clip_start_s`.
    pub clip_end_s: f64,
    /// Where the piece starts and ends in the source recording, in seconds.
    pub source_start_s: f64,
    /// See `source_start_s`.
    pub source_end_s: f64,
    /// Source seconds per clip second (DESIGN.md's `speed`): 1.03 plays the source 3 % faster.
    pub speed: f64,
    /// The source recording's room, background and hum.
    pub acoustics: Acoustics,
    /// The mains hum the recording carried before any was added: its strongest line (50, 60 Hz or
    /// their 2nd or 3rd harmonic) over its neighbourhood in the whole recording's spectrum, in dB
    /// ([`crate::corpus::Recording::own_hum_db`]). Many LibriSpeech and LibriVox readings carry
    /// hum of their own.
    #[serde(default)]
    pub own_hum_db: f64,
}

impl PieceTruth {
    /// Whether the piece's source carries mains hum: added by the benchmark, or its own (a line
    /// at least [`crate::corpus::OWN_HUM_DB`] above its neighbourhood).
    pub fn has_hum(&self) -> bool {
        self.acoustics.hum.is_some() || self.own_hum_db >= crate::corpus::OWN_HUM_DB
    }

    /// Its length in clip seconds.
    pub fn duration_s(&self) -> f64 {
        self.clip_end_s - self.clip_start_s
    }

    /// The source time that plays at clip time `clip_s`.
    pub fn source_at(&self, clip_s: f64) -> f64 {
        self.source_start_s + (clip_s - self.clip_start_s) * self.speed
    }
}

/// How the generated audio was checked against this truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alignment {
    /// What was compared, e.g. "decoded by ffmpeg vs the signal before the chain".
    pub method: String,
    /// The rate the comparison ran at, in Hz.
    pub rate_hz: u32,
    /// Lag of the cross-correlation peak in samples at that rate (0: aligned).
    pub lag_samples: i64,
    /// Normalised peak of the cross-correlation.
    pub peak: f64,
}

/// The ground truth of one rendered clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipTruth {
    /// Always [`TRUTH_SCHEMA`].
    pub schema: String,
    /// The clip's stem, unique in the benchmark: `<clip id>--<condition>`.
    pub clip: String,
    /// The clip id shared by its renderings in every condition.
    pub clip_id: String,
    /// The clip's file name.
    pub file: String,
    /// Train or test.
    pub split: Split,
    /// How it was made.
    pub kind: ClipKind,
    /// The label a correct analysis gives (with the archive as the index).
    pub label: Label,
    /// The condition (chain) name.
    pub condition: String,
    /// Every processing step after assembly, in order.
    pub chain: Vec<String>,
    /// Length of the clip's decoded audio in seconds.
    pub duration_s: f64,
    /// Sample rate of the clip file in Hz.
    pub sample_rate_hz: u32,
    /// The splices in time order.
    pub splices: Vec<SpliceTruth>,
    /// The pieces in clip order.
    pub pieces: Vec<PieceTruth>,
    /// The check of the audio against this truth, where one was made after the chain.
    pub alignment: Option<Alignment>,
}

impl ClipTruth {
    /// Whether every piece's source carries mains hum ([`PieceTruth::has_hum`]): the clips whose
    /// cuts the ENF cue can see.
    pub fn has_hum(&self) -> bool {
        !self.pieces.is_empty() && self.pieces.iter().all(PieceTruth::has_hum)
    }

    /// The join shared by all splices (`Mixed` when they differ; `None` without splices).
    pub fn join(&self) -> Option<Join> {
        common(self.splices.iter().map(|s| s.join), Join::Mixed)
    }

    /// The placement shared by all splices.
    pub fn placement(&self) -> Option<Placement> {
        common(self.splices.iter().map(|s| s.placement), Placement::Mixed)
    }

    /// The crossfade class shared by all splices.
    pub fn fade(&self) -> Option<Fade> {
        let classes: Vec<Fade> = self
            .splices
            .iter()
            .map(|s| Fade::of(s.crossfade_s))
            .collect();
        match classes.first() {
            Some(first) if classes.iter().all(|c| c == first) => Some(*first),
            Some(_) => None,
            None => None,
        }
    }

    /// True for clips without any cut (authentic and reused).
    pub fn is_unedited(&self) -> bool {
        self.splices.is_empty()
    }

    /// The same clip played `speed` times faster: clip times divided by `speed`, piece speeds
    /// multiplied by it (source times unchanged).
    pub fn sped_up(mut self, speed: f64) -> ClipTruth {
        self.duration_s /= speed;
        for s in &mut self.splices {
            s.time_s /= speed;
            s.crossfade_s /= speed;
        }
        for p in &mut self.pieces {
            p.clip_start_s /= speed;
            p.clip_end_s /= speed;
            p.speed *= speed;
        }
        self
    }
}

/// The value all items share, `mixed` when they differ, `None` for no items.
fn common<T: PartialEq + Copy>(mut items: impl Iterator<Item = T>, mixed: T) -> Option<T> {
    let first = items.next()?;
    Some(if items.all(|x| x == first) {
        first
    } else {
        mixed
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fade_classes_split_at_zero_and_ten_ms() {
        assert_eq!(Fade::of(0.0), Fade::Hard);
        assert_eq!(Fade::of(0.004), Fade::Short);
        assert_eq!(Fade::of(0.010), Fade::Short);
        assert_eq!(Fade::of(0.030), Fade::Long);
    }
}
