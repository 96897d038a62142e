//! The noise-floor cue: the background level in pauses, band by band, before and after each
//! instant; a step between the two sides is a cue.
//!
//! Two recordings rarely share a background: room tone, microphone self-noise and preamp hiss
//! differ in level and colour, and so does the noise of one recording at two distant moments.
//! Pan, Zhang & Lyu (2012, "Detecting splicing in digital audios using local noise level
//! estimation", ICASSP) detect splices as inconsistencies of the local noise level; here the level
//! is read where it can be read cleanly, in pauses. A frame is a pause when its level is within
//! 6 dB of the local floor, the minimum over ±0.75 s (minimum statistics, Martin 2001), and
//! belongs to a run of such frames at least 0.1 s long (shorter dips inside fluent speech do not
//! reach the background). The cue compares the mean band levels of the pause frames in the 2 s
//! before and after each instant: per band, the difference of the means over the pooled
//! within-window standard deviation (at least 1 dB), and the RMS of that over the 20 bands. For a
//! stationary background the value is the level step in dB; a background that fluctuates by
//! itself needs a larger step to score as high. Means rather than minima: a step in the
//! background then gives a triangle whose apex is the step (or, when the pauses lie away from the
//! step, a plateau between the last pause before it and the first after it).
#![forbid(unsafe_code)]

use crate::cues::frames::{
    BAND_COUNT, FrameClass, FrameFeatures, FrameView, TwoSided, band_rms_distance,
};
use crate::cues::{CueKey, CueTrack, CueUsability, FrameCue, spectrogram_cue};
use crate::spectrogram::SpectrogramConfig;

/// Length of each side's window, in seconds. 2 s hold several pauses of read or conversational
/// speech (pauses recur every 1–3 s; Campione & Véronis 2002, "A large-scale multilingual study
/// of silent pause duration", Speech Prosody), so both sides usually have a floor to measure.
const SIDE_S: f64 = 2.0;

/// Pause time a side needs before its mean counts at all, in seconds: 0.1 s (12 frames at 8 ms)
/// averages out the frame-to-frame fluctuation of a noise band (about 1 dB) to a few tenths.
const MIN_PAUSE_SIDE_S: f64 = 0.1;

/// Pause time per side at which the confidence reaches 1, in seconds.
const FULL_PAUSE_SIDE_S: f64 = 0.5;

/// Total pause time a clip needs for the cue to be usable, in seconds.
const MIN_PAUSE_TOTAL_S: f64 = 1.0;

/// A pause must last at least this long, in seconds: the gaps inside fluent speech (stop
/// closures, 50–100 ms) rarely fall to the background, while a real pause between words or
/// phrases lasts 100 ms or more (Campione & Véronis 2002 count silent pauses from 200 ms).
const MIN_PAUSE_RUN_S: f64 = 0.1;

/// The reference value of the track: 1.5 (1.5 dB for a stationary background). On 19 unedited
/// LibriSpeech utterances of the tuning speakers (readers below 500) the track's largest
/// confidence-weighted value had median 0.46 and maximum 1.32; at joints of two of them it reached
/// 2–6 where their backgrounds differed.
const SCALE: f32 = 1.5;

/// Band levels of pause frames, before and after each instant.
pub(crate) struct NoiseFloor {
    hop_s: f64,
    sides: TwoSided,
    /// Band levels of the pause-like frames of the current run, until the run is long enough to
    /// count (then later frames of the run pass straight through).
    run: Vec<f32>,
    run_frames: usize,
    min_run_frames: usize,
    track: CueTrack,
}

impl NoiseFloor {
    pub fn new(hop_s: f64, _sample_rate: u32, _config: &SpectrogramConfig) -> NoiseFloor {
        let min_run_frames = ((MIN_PAUSE_RUN_S / hop_s).round() as usize).max(1);
        NoiseFloor {
            hop_s,
            sides: TwoSided::new(BAND_COUNT, (SIDE_S / hop_s).round() as usize),
            run: Vec::with_capacity(min_run_frames * BAND_COUNT),
            run_frames: 0,
            min_run_frames,
            track: new_track(hop_s),
        }
    }

    fn emit(&mut self) {
        let (value, confidence) = step(&self.sides, self.hop_s);
        self.track.push(value, confidence);
    }

    /// Pushes one frame into the two-sided means with `weight` (1 = a pause frame).
    fn push_sides(&mut self, bands: &[f32], weight: f32) {
        if self.sides.push(bands, weight).is_some() {
            self.emit();
        }
    }

    /// Pushes the frames held back in `run` with `weight`.
    fn release_run(&mut self, weight: f32) {
        let run = std::mem::take(&mut self.run);
        for bands in run.chunks_exact(BAND_COUNT) {
            self.push_sides(bands, weight);
        }
        self.run = run;
        self.run.clear();
    }
}

fn new_track(hop_s: f64) -> CueTrack {
    // Boundary i lies between frames i − 1 and i: half a hop before frame i's centre.
    CueTrack::new(CueKey::NoiseFloor, "sd", -0.5 * hop_s, hop_s, SCALE)
}

/// The RMS over bands of the standardised difference of the two sides' mean pause levels, and
/// its confidence.
fn step(sides: &TwoSided, hop_s: f64) -> (f32, f32) {
    let pause_s = sides.left_weight().min(sides.right_weight()) * hop_s;
    if pause_s < MIN_PAUSE_SIDE_S {
        return (0.0, 0.0);
    }
    let value = band_rms_distance(sides) as f32;
    (value, (pause_s / FULL_PAUSE_SIDE_S).min(1.0) as f32)
}

impl FrameCue for NoiseFloor {
    fn reserve(&mut self, frames: usize) {
        self.track.reserve(frames);
    }

    fn push_frame(&mut self, frame: &FrameView<'_>) {
        if frame.class != FrameClass::Pause {
            // A run too short to be a pause does not count.
            self.release_run(0.0);
            self.run_frames = 0;
            self.push_sides(frame.bands_db, 0.0);
            return;
        }
        self.run_frames += 1;
        if self.run_frames > self.min_run_frames {
            self.push_sides(frame.bands_db, 1.0);
        } else {
            self.run.extend_from_slice(frame.bands_db);
            if self.run_frames == self.min_run_frames {
                self.release_run(1.0);
            }
        }
    }

    fn finish_frames(&mut self, frames: &FrameFeatures) -> CueTrack {
        self.release_run(0.0);
        self.run_frames = 0;
        while self.sides.pad().is_some() {
            self.emit();
        }
        let mut track = std::mem::replace(&mut self.track, new_track(self.hop_s));
        self.sides.reset();
        let counts = frames.counts;
        let pause_s = counts.pause as f64 * self.hop_s;
        let silence_s = counts.silence as f64 * self.hop_s;
        let facts = |u: CueUsability| {
            u.with_fact("pause_s", round3(pause_s))
                .with_fact("digital_silence_s", round3(silence_s))
        };
        if counts.total() == 0 {
            track.abstain(CueUsability::unusable("no audio"));
        } else if counts.silence > counts.pause {
            track.abstain(facts(CueUsability::unusable(
                "pauses are digital silence (a noise gate or noise suppression): no background \
                 to compare",
            )));
        } else if pause_s < MIN_PAUSE_TOTAL_S {
            track.abstain(facts(CueUsability::unusable(format!(
                "too few pauses to measure the background noise in ({pause_s:.2} s)"
            ))));
        } else {
            track.usability = facts(CueUsability::usable(""));
        }
        track
    }
}

/// Rounds to milliseconds for the report.
pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

spectrogram_cue! {
    /// The noise-floor cue on its own: the background level in pauses, band by band, in the 2 s
    /// before and after each instant; the track is the RMS over 20 mel bands of the difference
    /// of the means in units of their pooled standard deviation (at least 1 dB), unit `sd` (the
    /// step in dB for a stationary background), one value per spectrogram frame boundary (time
    /// `(i − 0.5) · hop`).
    ///
    /// Abstains (confidence 0) where either side has less than 0.1 s of pauses; unusable when the
    /// clip has less than 1 s of pauses in all, or when its pauses are digital silence (a noise
    /// gate). Facts: `pause_s`, `digital_silence_s`. Reference scale 1.5.
    ///
    /// Within a [`crate::CueSet`] the band analysis is shared with the other spectrogram cues.
    NoiseFloorCue,
    NoiseFloor
}
