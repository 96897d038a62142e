//! Splice cues: one streaming consumer per kind of discontinuity, each turning the signal into a
//! per-frame score track that says where the clip may have been cut — and saying when it has
//! nothing to say.
//!
//! A cue reads what it needs once, in blocks, and keeps a few numbers per frame (DESIGN.md,
//! "Decode once, transform once"):
//!
//! | key | cue | reads | value unit |
//! |---|---|---|---|
//! | `noise_floor` | [`NoiseFloorCue`]: background level in pauses, each side of an instant | spectrogram | `sd` (dB for a steady background) |
//! | `channel` | [`ChannelCue`]: long-term spectral shape of voiced speech, each side | spectrogram | `sd` |
//! | `enf` | [`EnfCue`]: mains hum (50/60 Hz and harmonics) tracked in phase | analysis-rate samples | `rad` |
//! | `codec` | [`CodecCue`]: bands left dead by an earlier lossy encoding, each side | native-rate samples | `fraction` of bands |
//! | `waveform` | [`WaveformCue`]: clicks, DC steps, inserted digital silence | native-rate samples | `threshold multiples` |
//! | `reverb` | [`ReverbCue`]: decay rate after speech offsets, each side | spectrogram | `octaves` |
//!
//! `sd`: per band, the difference of the two sides' means over their pooled standard deviation
//! (at least 1 dB), RMS over the bands.
//!
//! Every cue gives a [`CueTrack`]: values ≥ 0 in the cue's own unit, high where a discontinuity
//! is, a confidence in [0, 1] per value (0 where the cue abstains), and a [`CueUsability`] for the
//! whole clip (no hum, no pauses, no band above 8 kHz, too few speech offsets…), which is what the
//! report's `cues` object shows. [`CueTrack::strength`] maps a value into [0, 1) with the cue's
//! reference scale for drawing and for ranking candidates; **it is not a probability**: the
//! calibrated splice scores come from the fusion in `splice`, fitted on the project's benchmark.
//!
//! [`CueSet`] runs all six on one clip, sharing the per-frame band levels of the spectrogram
//! between the three spectrogram cues.
//!
//! Two-sided statistics (noise floor, channel, codec, reverb, DC steps) compare the *means* of a
//! per-frame feature over a window before and after each instant. A step in the feature then gives
//! a triangle whose apex is the step, where a minimum or a median over the windows would give a
//! plateau (a window holding both sides takes the lower side's minimum, or the majority's median).
#![forbid(unsafe_code)]

mod channel;
mod codec;
mod enf;
mod frames;
mod noise_floor;
mod reverb;
mod waveform;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::spectrogram::{Spectrogram, SpectrogramConfig};

pub use channel::ChannelCue;
pub use codec::CodecCue;
pub use enf::EnfCue;
pub(crate) use enf::NULL_INFLATION_FACT;
pub use noise_floor::NoiseFloorCue;
pub use reverb::ReverbCue;
pub use waveform::WaveformCue;

use frames::{FrameFeatures, FrameView};

/// Which cue a track or a splice contribution comes from. Serialised as the report's cue keys
/// (DESIGN.md): `noise_floor`, `channel`, `enf`, `codec`, `waveform`, `reverb`, `archive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CueKey {
    /// Background-noise level in pauses.
    NoiseFloor,
    /// Long-term spectral envelope of speech (microphone, room, codec chain).
    Channel,
    /// Electric network frequency: mains hum in phase and frequency.
    Enf,
    /// Traces of an earlier lossy encoding above the speech band.
    Codec,
    /// Sample-level breaks: clicks, DC steps, inserted digital silence.
    Waveform,
    /// Reverberation decay after speech offsets.
    Reverb,
    /// A boundary of a piece found in the archive (or copied within the clip): not an acoustic
    /// track but a splice cue of its own, from the matches (DESIGN.md).
    Archive,
}

impl CueKey {
    /// Every acoustic cue (each has a track), in the order of DESIGN.md; [`CueKey::Archive`]
    /// comes from the matches instead.
    pub const ALL: [CueKey; 6] = [
        CueKey::NoiseFloor,
        CueKey::Channel,
        CueKey::Enf,
        CueKey::Codec,
        CueKey::Waveform,
        CueKey::Reverb,
    ];

    /// The report's name for the cue, e.g. `noise_floor`.
    pub fn as_str(self) -> &'static str {
        match self {
            CueKey::NoiseFloor => "noise_floor",
            CueKey::Channel => "channel",
            CueKey::Enf => "enf",
            CueKey::Codec => "codec",
            CueKey::Waveform => "waveform",
            CueKey::Reverb => "reverb",
            CueKey::Archive => "archive",
        }
    }
}

impl std::fmt::Display for CueKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a cue could be used on this clip, why not, and what it found out on the way.
///
/// Serialises as one entry of the report's `cues` object: `{"usable": false, "note": "no mains
/// hum at 50 or 60 Hz"}`, with `facts` flattened in (e.g. `"nominal_hz": 50` for ENF). An empty
/// note is left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CueUsability {
    /// True when the cue had something to measure on this clip. A usable cue may still abstain
    /// in stretches of it (its track's confidence is 0 there).
    pub usable: bool,
    /// Why the cue is unusable, or a short remark on what it measured; may be empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// What the cue measured on the whole clip (e.g. `nominal_hz`, `pause_s`), flattened into the
    /// JSON object.
    #[serde(flatten)]
    pub facts: serde_json::Map<String, serde_json::Value>,
}

impl CueUsability {
    /// A usable cue with a note.
    pub fn usable(note: impl Into<String>) -> CueUsability {
        CueUsability {
            usable: true,
            note: note.into(),
            facts: serde_json::Map::new(),
        }
    }

    /// An unusable cue, with the reason.
    pub fn unusable(note: impl Into<String>) -> CueUsability {
        CueUsability {
            usable: false,
            note: note.into(),
            facts: serde_json::Map::new(),
        }
    }

    /// Adds a fact (builder style); a non-finite number is stored as null.
    pub fn with_fact(mut self, name: &str, value: impl Into<serde_json::Value>) -> CueUsability {
        self.facts.insert(name.to_string(), value.into());
        self
    }
}

/// One cue's score along the clip.
///
/// `values[i]` and `confidence[i]` belong to the instant `start_s + i · step_s` (seconds on the
/// clip's timeline). A value is ≥ 0 in [`CueTrack::unit`]; high means "a discontinuity here". A
/// confidence is in [0, 1]: 0 where the cue abstains (no pause in reach, no hum, too few
/// offsets…), in which case the value is 0 too. When the cue is unusable on the whole clip every
/// confidence is 0.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CueTrack {
    /// Which cue.
    pub key: CueKey,
    /// The unit of `values`, e.g. `dB` or `rad`.
    pub unit: &'static str,
    /// The time of `values[0]`, in seconds (may be slightly negative: a two-sided statistic's
    /// first instant lies half a frame before the first frame's centre).
    pub start_s: f64,
    /// The time between values, in seconds.
    pub step_s: f64,
    /// The score at each instant, ≥ 0, in `unit`.
    pub values: Vec<f32>,
    /// How far the score can be trusted at each instant, in [0, 1]; 0 where the cue abstains.
    pub confidence: Vec<f32>,
    /// A reference value in `unit`: a clear discontinuity of this kind, as the cue's known-answer
    /// tests produce it (documented per cue). [`CueTrack::strength`] maps it to 0.5. **Not
    /// calibrated** on the benchmark.
    pub scale: f32,
    /// Whether the cue could be used on this clip, and its facts.
    pub usability: CueUsability,
}

impl CueTrack {
    /// An empty track for `key`, with the instants' grid and the reference scale.
    pub(crate) fn new(
        key: CueKey,
        unit: &'static str,
        start_s: f64,
        step_s: f64,
        scale: f32,
    ) -> CueTrack {
        CueTrack {
            key,
            unit,
            start_s,
            step_s,
            values: Vec::new(),
            confidence: Vec::new(),
            scale,
            usability: CueUsability::usable(""),
        }
    }

    /// Makes room for `additional` more instants.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.values.reserve(additional);
        self.confidence.reserve(additional);
    }

    /// Appends one instant. Non-finite or negative values are stored as 0, confidence is clamped
    /// to [0, 1], and a zero confidence zeroes the value.
    pub(crate) fn push(&mut self, value: f32, confidence: f32) {
        let confidence = if confidence.is_finite() {
            confidence.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let value = if value.is_finite() && value > 0.0 && confidence > 0.0 {
            value
        } else {
            0.0
        };
        self.values.push(value);
        self.confidence.push(confidence);
    }

    /// Marks the whole track unusable: every confidence and value becomes 0.
    pub(crate) fn abstain(&mut self, usability: CueUsability) {
        self.values.iter_mut().for_each(|v| *v = 0.0);
        self.confidence.iter_mut().for_each(|c| *c = 0.0);
        self.usability = CueUsability {
            usable: false,
            ..usability
        };
    }

    /// The number of instants.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the track has no instants.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The time of instant `index`, in seconds.
    pub fn time_s(&self, index: usize) -> f64 {
        self.start_s + index as f64 * self.step_s
    }

    /// The instant nearest to `time_s`, if the track covers it (within half a step).
    pub fn index_at(&self, time_s: f64) -> Option<usize> {
        if self.values.is_empty()
            || self.step_s.is_nan()
            || self.step_s <= 0.0
            || !time_s.is_finite()
        {
            return None;
        }
        let position = ((time_s - self.start_s) / self.step_s).round();
        if position < 0.0 || position >= self.values.len() as f64 {
            None
        } else {
            Some(position as usize)
        }
    }

    /// The strength of instant `index` in [0, 1): `v / (v + scale)` weighted by the confidence,
    /// 0.5 for a full-confidence value at the reference scale. For drawing and ranking; **not a
    /// probability**. 0 out of range.
    pub fn strength(&self, index: usize) -> f32 {
        match (self.values.get(index), self.confidence.get(index)) {
            (Some(&v), Some(&c)) if v > 0.0 && self.scale > 0.0 => c * v / (v + self.scale),
            _ => 0.0,
        }
    }

    /// The instant with the highest confidence-weighted strength: `(time_s, value)`, or `None`
    /// when every strength is 0.
    pub fn peak(&self) -> Option<(f64, f32)> {
        let mut best: Option<(usize, f32)> = None;
        for index in 0..self.values.len() {
            let s = self.strength(index);
            if s > 0.0 && best.is_none_or(|(_, b)| s > b) {
                best = Some((index, s));
            }
        }
        best.map(|(index, _)| (self.time_s(index), self.values[index]))
    }

    /// The track as a score panel for the report picture: strengths, with gaps (NaN) where the
    /// cue abstains.
    pub fn to_render_track(&self) -> crate::render::Track {
        crate::render::Track {
            name: self.key.as_str().to_string(),
            start_s: self.start_s,
            step_s: self.step_s,
            values: (0..self.values.len())
                .map(|i| {
                    if self.confidence[i] > 0.0 {
                        self.strength(i)
                    } else {
                        f32::NAN
                    }
                })
                .collect(),
            threshold: None,
        }
    }
}

/// The report's `cues` object: each track's usability by key, in the order of DESIGN.md.
pub fn cue_usability(tracks: &[CueTrack]) -> BTreeMap<CueKey, CueUsability> {
    tracks
        .iter()
        .map(|track| (track.key, track.usability.clone()))
        .collect()
}

/// A cue fed spectrogram blocks (the shared analysis spectrogram, in order).
pub trait SpectrogramCue {
    /// Reads the next block of frames.
    ///
    /// # Errors
    /// [`Error::Config`] when the block's rate or framing differs from the one the cue was made
    /// for, or when it does not start where the previous block ended.
    fn push(&mut self, block: &Spectrogram) -> Result<()>;

    /// Ends the clip: the cue's track. The cue is reset for a new clip.
    fn finish(&mut self) -> CueTrack;
}

/// A cue fed mono samples at a fixed rate (the analysis signal or the native-rate mono mix).
pub trait SampleCue {
    /// The rate the cue expects, in Hz.
    fn sample_rate_hz(&self) -> u32;

    /// Reads the next samples, in [−1, 1].
    fn push(&mut self, samples: &[f32]);

    /// Ends the clip: the cue's track. The cue is reset for a new clip.
    fn finish(&mut self) -> CueTrack;
}

/// Checks that `block` continues the stream a spectrogram cue expects.
/// The median of `values` (the upper one of an even count), reordering them; `None` when empty.
pub(crate) fn median_in_place(values: &mut [f32]) -> Option<f32> {
    let middle = values.len() / 2;
    (!values.is_empty()).then(|| *values.select_nth_unstable_by(middle, f32::total_cmp).1)
}

pub(crate) fn check_block(
    block: &Spectrogram,
    sample_rate: u32,
    config: &SpectrogramConfig,
    next_frame: u64,
) -> Result<()> {
    if block.sample_rate != sample_rate || block.config != *config {
        return Err(Error::config(
            "cues spectrogram",
            format!(
                "block at {} Hz with {}/{} framing, cue made for {} Hz with {}/{}",
                block.sample_rate,
                block.config.window_samples,
                block.config.hop_samples,
                sample_rate,
                config.window_samples,
                config.hop_samples
            ),
        ));
    }
    if block.first_frame != next_frame {
        return Err(Error::config(
            "cues spectrogram",
            format!(
                "block starts at frame {}, expected frame {next_frame}",
                block.first_frame
            ),
        ));
    }
    Ok(())
}

/// The three spectrogram cues behind one shared per-frame band analysis.
trait FrameCue {
    /// Makes room in the track for `frames` more values, so the per-frame loop never grows it.
    fn reserve(&mut self, frames: usize);
    fn push_frame(&mut self, frame: &FrameView<'_>);
    /// Ends the clip (every frame has been pushed): the track. Resets the cue.
    fn finish_frames(&mut self, frames: &FrameFeatures) -> CueTrack;
}

/// Defines the public, standalone form of a spectrogram cue: its own [`FrameFeatures`] feeding
/// the shared-frame implementation `$inner`.
macro_rules! spectrogram_cue {
    ($(#[$doc:meta])* $name:ident, $inner:ty) => {
        $(#[$doc])*
        pub struct $name {
            frames: crate::cues::frames::FrameFeatures,
            inner: $inner,
        }

        impl $name {
            /// A cue for spectrogram blocks of a signal at `sample_rate` Hz with framing `config`.
            ///
            /// # Errors
            /// [`crate::Error::Config`] when the framing is invalid.
            pub fn new(
                sample_rate: u32,
                config: &crate::spectrogram::SpectrogramConfig,
            ) -> crate::error::Result<$name> {
                let frames = crate::cues::frames::FrameFeatures::new(sample_rate, config)?;
                let inner = <$inner>::new(frames.hop_s(), sample_rate, config);
                Ok($name { frames, inner })
            }
        }

        impl crate::cues::SpectrogramCue for $name {
            fn push(
                &mut self,
                block: &crate::spectrogram::Spectrogram,
            ) -> crate::error::Result<()> {
                crate::cues::FrameCue::reserve(&mut self.inner, block.frames());
                let inner = &mut self.inner;
                self.frames
                    .push(block, |frame| crate::cues::FrameCue::push_frame(inner, frame))
            }

            fn finish(&mut self) -> crate::cues::CueTrack {
                let inner = &mut self.inner;
                self.frames
                    .finish(|frame| crate::cues::FrameCue::push_frame(inner, frame));
                let track = crate::cues::FrameCue::finish_frames(inner, &self.frames);
                self.frames.reset();
                track
            }
        }
    };
}
pub(crate) use spectrogram_cue;

/// All six cues on one clip: feed the shared spectrogram, the analysis-rate samples and (where
/// available) the native-rate mono samples, then [`CueSet::finish`].
///
/// The spectrogram's band levels and frame classes (pause, speech, digital silence) are computed
/// once here and shared by the noise-floor, channel and reverberation cues. Without native-rate
/// samples the codec and waveform cues abstain.
///
/// ```
/// use clip_provenance::{CueSet, Spectrogram, SpectrogramConfig};
///
/// let rate = 16_000;
/// let noise: Vec<f32> = (0..rate * 4).map(|n| ((n * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.01).collect();
/// let config = SpectrogramConfig::default();
/// let mut cues = CueSet::new(rate, &config, Some(rate))?;
/// cues.push_spectrogram(&Spectrogram::compute(&noise, rate, &config)?)?;
/// cues.push_analysis(&noise);
/// cues.push_native(&noise);
/// let tracks = cues.finish();
/// assert_eq!(tracks.len(), 6);
/// # Ok::<(), clip_provenance::Error>(())
/// ```
pub struct CueSet {
    frames: FrameFeatures,
    noise_floor: noise_floor::NoiseFloor,
    channel: channel::Channel,
    reverb: reverb::Reverb,
    enf: EnfCue,
    codec: Option<CodecCue>,
    waveform: Option<WaveformCue>,
}

impl CueSet {
    /// Cues for a clip whose analysis signal runs at `analysis_rate_hz` with spectrogram framing
    /// `spectrogram`, and whose native-rate mono samples (if they will be fed) run at
    /// `native_rate_hz`.
    ///
    /// # Errors
    /// [`Error::Config`] when a rate is out of range or the framing is invalid.
    pub fn new(
        analysis_rate_hz: u32,
        spectrogram: &SpectrogramConfig,
        native_rate_hz: Option<u32>,
    ) -> Result<CueSet> {
        let frames = FrameFeatures::new(analysis_rate_hz, spectrogram)?;
        let hop_s = frames.hop_s();
        let (codec, waveform) = match native_rate_hz {
            Some(rate) => (Some(CodecCue::new(rate)?), Some(WaveformCue::new(rate)?)),
            None => (None, None),
        };
        Ok(CueSet {
            noise_floor: noise_floor::NoiseFloor::new(hop_s, analysis_rate_hz, spectrogram),
            channel: channel::Channel::new(hop_s, analysis_rate_hz, spectrogram),
            reverb: reverb::Reverb::new(hop_s, analysis_rate_hz, spectrogram),
            enf: EnfCue::new(analysis_rate_hz)?,
            frames,
            codec,
            waveform,
        })
    }

    /// Reads the next block of the shared spectrogram.
    ///
    /// # Errors
    /// As [`SpectrogramCue::push`].
    pub fn push_spectrogram(&mut self, block: &Spectrogram) -> Result<()> {
        self.noise_floor.reserve(block.frames());
        self.channel.reserve(block.frames());
        self.reverb.reserve(block.frames());
        let (noise_floor, channel, reverb) =
            (&mut self.noise_floor, &mut self.channel, &mut self.reverb);
        self.frames.push(block, |frame| {
            noise_floor.push_frame(frame);
            channel.push_frame(frame);
            reverb.push_frame(frame);
        })
    }

    /// Reads the next samples of the mono analysis signal (at `analysis_rate_hz`).
    pub fn push_analysis(&mut self, samples: &[f32]) {
        self.enf.push(samples);
    }

    /// Reads the next samples of the native-rate mono mix; ignored when the set was made without
    /// a native rate.
    pub fn push_native(&mut self, samples: &[f32]) {
        // The waveform cue reads every sample in order (the prefetcher keeps up); the codec cue
        // then reads a quarter of them, from cache. The other order stalls the codec cue on
        // memory (measured: its frame reads were two thirds of its time).
        if let Some(waveform) = &mut self.waveform {
            waveform.push(samples);
        }
        if let Some(codec) = &mut self.codec {
            codec.push(samples);
        }
    }

    /// Ends the clip: one track per cue, in the order of [`CueKey::ALL`]. The set is reset.
    pub fn finish(&mut self) -> Vec<CueTrack> {
        let (noise_floor, channel, reverb) =
            (&mut self.noise_floor, &mut self.channel, &mut self.reverb);
        self.frames.finish(|frame| {
            noise_floor.push_frame(frame);
            channel.push_frame(frame);
            reverb.push_frame(frame);
        });
        let missing_native = |key| {
            let mut track = CueTrack::new(key, "", 0.0, 1.0, 1.0);
            track.abstain(CueUsability::unusable(
                "native-rate samples were not provided to this cue",
            ));
            track
        };
        let tracks = vec![
            self.noise_floor.finish_frames(&self.frames),
            self.channel.finish_frames(&self.frames),
            self.enf.finish(),
            match &mut self.codec {
                Some(codec) => codec.finish(),
                None => missing_native(CueKey::Codec),
            },
            match &mut self.waveform {
                Some(waveform) => waveform.finish(),
                None => missing_native(CueKey::Waveform),
            },
            self.reverb.finish_frames(&self.frames),
        ];
        self.frames.reset();
        tracks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usability_serialises_facts_flat_and_skips_empty_note() {
        let enf = CueUsability::unusable("no mains hum at 50 or 60 Hz");
        let noise = CueUsability::usable("").with_fact("pause_s", 3.5);
        let v = serde_json::to_value(&enf).expect("serialises");
        assert_eq!(
            v,
            serde_json::json!({"usable": false, "note": "no mains hum at 50 or 60 Hz"})
        );
        let v = serde_json::to_value(&noise).expect("serialises");
        assert_eq!(v, serde_json::json!({"usable": true, "pause_s": 3.5}));
    }

    #[test]
    fn cue_usability_map_keys_are_report_names_in_design_order() {
        let tracks: Vec<CueTrack> = CueKey::ALL
            .iter()
            .rev()
            .map(|&key| CueTrack::new(key, "dB", 0.0, 0.01, 1.0))
            .collect();
        let text = serde_json::to_string(&cue_usability(&tracks)).expect("serialises");
        let order: Vec<usize> = CueKey::ALL
            .iter()
            .map(|k| text.find(&format!("\"{}\"", k.as_str())).expect("present"))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn track_push_zeroes_values_without_confidence_and_strength_is_half_at_scale() {
        let mut track = CueTrack::new(CueKey::Channel, "dB", -0.004, 0.008, 2.0);
        track.push(2.0, 1.0);
        track.push(5.0, 0.0);
        track.push(f32::NAN, 1.0);
        assert_eq!(track.values, vec![2.0, 0.0, 0.0]);
        assert_eq!(track.strength(0), 0.5);
        assert_eq!(track.peak(), Some((-0.004, 2.0)));
        assert_eq!(track.index_at(0.0125), Some(2));
        assert_eq!(track.index_at(1.0), None);
    }
}
