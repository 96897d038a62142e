//! The channel cue: the long-term spectral shape of voiced speech before and after each instant;
//! a change of microphone, room or codec chain changes it.
//!
//! A recording chain acts on speech as a filter, which adds a constant to every frame's log
//! spectrum. Averaged over seconds, the speech itself averages towards the speaker's long-term
//! spectrum while the chain's curve stays: the idea of cepstral mean subtraction (Atal 1974,
//! "Effectiveness of linear prediction characteristics of the speech wave for automatic speaker
//! identification and verification", JASA 55(6)) and of the long-term average spectrum used to
//! compare recordings in forensic phonetics. Change detection between two windows of such
//! features with a Gaussian model is the classic detector of speaker, environment and channel
//! changes (Chen & Gopalakrishnan 1998, "Speaker, environment and channel change detection and
//! clustering via the Bayesian information criterion", DARPA Broadcast News Workshop).
//!
//! The cue takes sonorant speech frames only: at least 12 dB above the local floor (the
//! background does not colour them) and at least 10 dB stronger below 1.9 kHz than above 3.6 kHz
//! (vowels and voiced consonants; fricatives and bursts, whose spectra swing by tens of dB from
//! one to the next, would drown the chain's curve in a few seconds' average). Each frame's mean
//! level is removed (a change of loudness is not a change of channel). Per band, the difference
//! of the mean shapes of the 4 s before and after each instant, over the pooled within-window
//! standard deviation (at least 1 dB); the track is the RMS of that over the 20 bands.
//!
//! Measured on joints of two LibriSpeech utterances of different readers against the same
//! utterances unedited (tuning speakers, readers below 500): with all speech frames and 3 s
//! windows, 6 of 19 joints scored above the highest value of any unedited utterance; with sonorant
//! frames, 4 s windows and the standardisation, 15 of 19.
#![forbid(unsafe_code)]

use crate::cues::frames::{
    BAND_COUNT, FrameClass, FrameFeatures, FrameView, TwoSided, band_rms_distance,
};
use crate::cues::noise_floor::round3;
use crate::cues::{CueKey, CueTrack, CueUsability, FrameCue, spectrogram_cue};
use crate::spectrogram::SpectrogramConfig;

/// Length of each side's window, in seconds: 4 s holds about 1.5–2 s of sonorant frames in read
/// speech; 3 s separated joints from unedited speech half as often (see the module docs), longer
/// windows risk spanning two edits.
const SIDE_S: f64 = 4.0;

/// A speech frame is sonorant when its mean level in bands 0–9 (100–1940 Hz) exceeds that in
/// bands 14–19 (3.6–7.8 kHz) by at least this, in dB. Vowels and nasals put most of their energy
/// below 2 kHz; /s/, /ʃ/, /f/ and bursts do not. 10 dB separated best among 5, 10 and 15 dB on
/// the tuning speakers.
const SONORANT_TILT_DB: f32 = 10.0;
const LOW_BANDS: std::ops::Range<usize> = 0..10;
const HIGH_BANDS: std::ops::Range<usize> = 14..BAND_COUNT;

/// Speech time a side needs before its mean counts at all, in seconds.
const MIN_SPEECH_SIDE_S: f64 = 0.3;

/// Speech time per side at which the confidence reaches 1, in seconds.
const FULL_SPEECH_SIDE_S: f64 = 1.5;

/// Total speech time a clip needs for the cue to be usable, in seconds.
const MIN_SPEECH_TOTAL_S: f64 = 2.0;

/// The reference value of the track: 0.75. On the tuning speakers the largest confidence-weighted
/// value of an unedited utterance had median 0.48 and maximum 0.69; joints of two readers had
/// median 0.90.
const SCALE: f32 = 0.75;

/// Mean-removed band levels of speech frames, before and after each instant.
pub(crate) struct Channel {
    hop_s: f64,
    sides: TwoSided,
    shape: [f32; BAND_COUNT],
    sonorant_frames: u64,
    track: CueTrack,
}

impl Channel {
    pub fn new(hop_s: f64, _sample_rate: u32, _config: &SpectrogramConfig) -> Channel {
        Channel {
            hop_s,
            sides: TwoSided::new(BAND_COUNT, (SIDE_S / hop_s).round() as usize),
            shape: [0.0; BAND_COUNT],
            sonorant_frames: 0,
            track: new_track(hop_s),
        }
    }

    fn emit(&mut self) {
        let speech_s = self.sides.left_weight().min(self.sides.right_weight()) * self.hop_s;
        if speech_s < MIN_SPEECH_SIDE_S {
            self.track.push(0.0, 0.0);
            return;
        }
        let value = band_rms_distance(&self.sides) as f32;
        let confidence = (speech_s / FULL_SPEECH_SIDE_S).min(1.0) as f32;
        self.track.push(value, confidence);
    }
}

fn new_track(hop_s: f64) -> CueTrack {
    CueTrack::new(CueKey::Channel, "sd", -0.5 * hop_s, hop_s, SCALE)
}

/// True for a frame whose low bands outweigh its high bands by [`SONORANT_TILT_DB`].
fn is_sonorant(bands_db: &[f32]) -> bool {
    let mean = |range: std::ops::Range<usize>| {
        let n = range.len() as f32;
        bands_db[range].iter().sum::<f32>() / n
    };
    mean(LOW_BANDS) - mean(HIGH_BANDS) >= SONORANT_TILT_DB
}

impl FrameCue for Channel {
    fn reserve(&mut self, frames: usize) {
        self.track.reserve(frames);
    }

    fn push_frame(&mut self, frame: &FrameView<'_>) {
        let weight = if frame.class == FrameClass::Speech && is_sonorant(frame.bands_db) {
            1.0
        } else {
            0.0
        };
        for (s, &b) in self.shape.iter_mut().zip(frame.bands_db) {
            *s = b - frame.level_db;
        }
        if weight > 0.0 {
            self.sonorant_frames += 1;
        }
        if self.sides.push(&self.shape, weight).is_some() {
            self.emit();
        }
    }

    fn finish_frames(&mut self, frames: &FrameFeatures) -> CueTrack {
        while self.sides.pad().is_some() {
            self.emit();
        }
        let mut track = std::mem::replace(&mut self.track, new_track(self.hop_s));
        self.sides.reset();
        let _ = frames;
        let speech_s = self.sonorant_frames as f64 * self.hop_s;
        if speech_s < MIN_SPEECH_TOTAL_S {
            track.abstain(
                CueUsability::unusable(format!(
                    "too little voiced speech to compare spectral envelopes ({speech_s:.2} s)"
                ))
                .with_fact("voiced_s", round3(speech_s)),
            );
        } else {
            track.usability = CueUsability::usable("").with_fact("voiced_s", round3(speech_s));
        }
        self.sonorant_frames = 0;
        track
    }
}

spectrogram_cue! {
    /// The channel cue on its own: the mean spectral shape (20 mel bands, each frame's mean level
    /// removed) of the sonorant speech frames in the 4 s before and after each instant; the track
    /// is the RMS over bands of the difference of the means in units of their pooled standard
    /// deviation (at least 1 dB), unit `sd`, one value per spectrogram frame boundary (time
    /// `(i − 0.5) · hop`).
    ///
    /// Abstains where either side has less than 0.3 s of voiced speech; unusable with less than
    /// 2 s of it in the clip. Facts: `voiced_s`. Reference scale 0.75.
    ChannelCue,
    Channel
}
