//! The codec cue: the band limit and dead bands that an earlier lossy encoding leaves above the
//! speech band, and where they change along the clip.
//!
//! MP3 and AAC encoders low-pass their input to spend their bits where they are heard (LAME's
//! low-pass at 64 kbit/s mono is about 16 kHz, at 128 kbit/s about 20 kHz; ffmpeg's AAC encoder at
//! 32 kbit/s cuts at about 12 kHz — measured on the corpus with the ffmpeg 5.1 build of this
//! machine), and at low rates they zero whole scale-factor bands below that limit in some frames
//! ("spectral holes"). Decoding leaves exact zeros there, and a later encoding at a higher limit
//! keeps them, so a clip made of a piece that went through a 64 kbit/s MP3 and a piece that did
//! not has bands that are dead in one piece and alive in the other. Band-limit and zeroed-band
//! statistics are the classic features for detecting earlier compression (Yang, Shi & Huang 2009,
//! "Detecting MP3 audio recompression"; Liu, Sung & Qiao 2010, "Detection of double MP3
//! compression", Cognitive Computation 2(4); Luo, Li & Huang 2014, "Identification of AAC
//! compressed audio", on band limits and holes).
//!
//! The cue needs the native-rate signal (the band above 8 kHz is gone at the 16 kHz analysis
//! rate). It reads short Hann frames (about 10 ms, a power of two) every fourth frame length
//! (about 40 ms): band limits are properties of whole stretches, so reading a quarter of the
//! signal is enough, and it keeps the cue cheap. In each loud frame (its 1–4 kHz level within
//! 25 dB of the loudest in the last 3 s: speech, not pauses, in which a codec zeroes everything),
//! each 250 Hz band from 4 kHz to 98 % of the Nyquist frequency is *dead* when its mean bin level
//! is below −110 dB re full scale, else alive. The track is the mean over bands of the absolute
//! difference between the dead fractions of the 2 s before and after each instant: 0 where both
//! sides have the same band limit and holes, up to 1.
//!
//! Measured on VCTK p286 (48 kHz, studio) against the same utterance through ffmpeg's libmp3lame
//! and aac encoders: unedited clips (original, MP3 64k, MP3 128k, AAC 32k) reached at most 0.10;
//! the original joined to its 128 kbit/s MP3 scored 0.19 at the joint, to its 64 kbit/s MP3 0.47.
//! With band levels (relative to 1–4 kHz) instead of dead fractions, speech content (fricatives)
//! moved unedited clips almost as much as a joint.
#![forbid(unsafe_code)]

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use crate::cues::frames::{SlidingMin, TwoSided};
use crate::cues::noise_floor::round3;
use crate::cues::{CueKey, CueTrack, CueUsability, SampleCue};
use crate::error::{Error, Result};

/// Frame length target, in seconds: about 10 ms gives 100 Hz resolution, fine for 250 Hz bands.
const FRAME_S: f64 = 0.010;

/// Frames are read every this many frame lengths (see the module docs).
const HOP_FRAMES: usize = 4;

/// Lowest analysed frequency, in Hz: the codec's own bands start mattering above 4 kHz, and the
/// channel cue covers the speech band below.
const LOW_HZ: f64 = 4000.0;

/// Highest analysed frequency as a fraction of the Nyquist frequency: above it the resampler or
/// converter anti-alias filters of any chain cut, with or without a codec.
const HIGH_FRACTION_OF_NYQUIST: f64 = 0.98;

/// Width of the analysed bands, in Hz: MP3's scale-factor bands above 4 kHz at 44.1/48 kHz are
/// 0.4–3 kHz wide, AAC's long-window bands about 0.3–1 kHz; 250 Hz resolves a band limit to
/// within a band of either.
const BAND_HZ: f64 = 250.0;

/// The reference band whose level a frame's bands are measured against, in Hz.
const REFERENCE_LOW_HZ: f64 = 1000.0;
const REFERENCE_HIGH_HZ: f64 = 4000.0;

/// A band whose mean bin level is below this, in dB re a full-scale sine, is dead: 16-bit
/// quantisation noise reads about −125 dB per bin at these frame lengths, so a live band of any
/// real recording stands above it, while a band a codec zeroed reads the floor.
const DEAD_DB: f32 = -110.0;

/// A frame counts when its reference level is within this of the loudest in the last
/// [`LOUDNESS_WINDOW_S`]: speech, not pauses (in which a codec zeroes everything).
const ACTIVE_RANGE_DB: f32 = 25.0;
const LOUDNESS_WINDOW_S: f64 = 3.0;

/// Length of each side's window, in seconds.
const SIDE_S: f64 = 2.0;

/// Active time a side needs, and the time at which the confidence reaches 1, in seconds.
const MIN_ACTIVE_SIDE_S: f64 = 0.3;
const FULL_ACTIVE_SIDE_S: f64 = 1.0;

/// Active time a clip needs for the cue to be usable, in seconds.
const MIN_ACTIVE_TOTAL_S: f64 = 2.0;

/// The lowest native rate the cue reads, in Hz: it needs a band above 8 kHz.
const MIN_RATE_HZ: u32 = 22_050;

/// A clip whose band ends below this (its last encoding's low-pass) hides every earlier band
/// limit, which lie higher: the cue is unusable.
const MIN_BAND_LIMIT_HZ: f64 = 8000.0;

/// A band is alive in the clip when it is alive in at least this fraction of loud frames; the
/// clip's band limit is the top of the highest such band.
const ALIVE_FRACTION: f64 = 0.5;

/// The reference value of the track (a fraction of bands): 0.2, what the original speech joined
/// to its own 128 kbit/s MP3 scores (band limit 23.5 against 20.5 kHz), twice the most an
/// unedited clip reached in the measurements above.
const SCALE: f32 = 0.2;

/// The codec cue: which bands above 4 kHz a lossy encoding left dead, before and after each
/// instant, in the native-rate signal.
///
/// The track holds one value per read frame boundary (about every 40 ms): the mean over 250 Hz
/// bands of the difference between the two sides' fractions of loud frames in which the band is
/// dead (unit `fraction`, 0–1). Abstains where a side has less than 0.3 s of loud frames; unusable
/// below 22.05 kHz native rate, with less than 2 s of loud frames, or when the clip's own band
/// ends below 8 kHz. Facts: `band_limit_hz` (the top of the highest band alive in at least half
/// the loud frames: the clip's band limit, often its last encoding's low-pass), `nyquist_hz`.
/// Reference scale 0.2.
pub struct CodecCue {
    rate_hz: u32,
    frame_len: usize,
    hop_len: usize,
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    power_scale: f32,
    /// Samples of the frame being filled.
    pending: Vec<f32>,
    /// Samples still to skip before the next frame starts.
    skip: usize,
    band_bins: Vec<(usize, usize)>,
    reference_bins: (usize, usize),
    loudest: SlidingMin,
    frames_read: u64,
    sides: TwoSided,
    /// 1.0 for each dead band of the current frame, else 0.0.
    dead: Vec<f32>,
    /// Loud frames in which each band was dead.
    dead_frames: Vec<u64>,
    active_frames: u64,
    track: CueTrack,
}

impl CodecCue {
    /// A codec cue for the native-rate mono signal at `rate_hz`.
    ///
    /// # Errors
    /// [`Error::Config`] when `rate_hz` is below 8 kHz or above 768 kHz.
    pub fn new(rate_hz: u32) -> Result<CodecCue> {
        if !(8_000..=crate::decode::MAX_SAMPLE_RATE_HZ).contains(&rate_hz) {
            return Err(Error::config(
                "codec rate",
                format!("{rate_hz} Hz is outside 8000..=768000"),
            ));
        }
        let rate = f64::from(rate_hz);
        let frame_len = 1usize << ((rate * FRAME_S).log2().round() as u32);
        let hop_len = frame_len * HOP_FRAMES;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(frame_len);
        // Periodic Hann (Harris 1978): a full-scale sine on a bin centre reads |X| = Σw / 2.
        let window: Vec<f32> = (0..frame_len)
            .map(|n| {
                let phase = 2.0 * std::f64::consts::PI * n as f64 / frame_len as f64;
                (0.5 - 0.5 * phase.cos()) as f32
            })
            .collect();
        let window_sum: f64 = window.iter().map(|&w| f64::from(w)).sum();
        let bin_hz = rate / frame_len as f64;
        let bins = frame_len / 2 + 1;
        let bin = |f: f64| ((f / bin_hz).round() as usize).min(bins - 1);
        let high_hz = HIGH_FRACTION_OF_NYQUIST * rate / 2.0;
        let mut band_bins = Vec::new();
        let mut lo_hz = LOW_HZ;
        while lo_hz + BAND_HZ <= high_hz {
            let (lo, hi) = (bin(lo_hz), bin(lo_hz + BAND_HZ));
            if hi > lo {
                band_bins.push((lo, hi));
            }
            lo_hz += BAND_HZ;
        }
        let hop_s = hop_len as f64 / rate;
        let dims = band_bins.len().max(1);
        Ok(CodecCue {
            rate_hz,
            frame_len,
            hop_len,
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
            window,
            power_scale: (1.0 / (0.25 * window_sum * window_sum)) as f32,
            pending: Vec::with_capacity(frame_len),
            skip: 0,
            reference_bins: (bin(REFERENCE_LOW_HZ), bin(REFERENCE_HIGH_HZ)),
            loudest: SlidingMin::new(((LOUDNESS_WINDOW_S / hop_s).round() as usize).max(1)),
            frames_read: 0,
            sides: TwoSided::new(dims, (SIDE_S / hop_s).round() as usize),
            dead: vec![0.0; dims],
            dead_frames: vec![0; dims],
            active_frames: 0,
            track: new_track(frame_len, hop_len, rate),
            band_bins,
        })
    }

    fn hop_s(&self) -> f64 {
        self.hop_len as f64 / f64::from(self.rate_hz)
    }

    /// Analyses one frame: `frame` when given (a frame wholly inside a pushed chunk, read in
    /// place), else the frame gathered in `pending`.
    fn read_frame(&mut self, frame: Option<&[f32]>) {
        let samples = frame.unwrap_or(&self.pending);
        for ((x, &s), &w) in self.input.iter_mut().zip(samples).zip(&self.window) {
            *x = s * w;
        }
        self.fft
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .expect("buffers were made by the plan, so their lengths match it");
        let mean_power = |spectrum: &[Complex<f32>], (lo, hi): (usize, usize)| {
            let mut lanes = [0.0_f32; 4];
            let mut quads = spectrum[lo..hi].chunks_exact(4);
            for quad in &mut quads {
                for l in 0..4 {
                    lanes[l] += quad[l].norm_sqr();
                }
            }
            let tail: f32 = quads.remainder().iter().map(|c| c.norm_sqr()).sum();
            let power = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail;
            power * self.power_scale / (hi - lo).max(1) as f32
        };
        // 1e-15 (−150 dB) keeps log10 finite for exact zeros.
        let reference_db = 10.0
            * mean_power(&self.spectrum, self.reference_bins)
                .max(1e-15)
                .log10();
        // The sliding minimum of the negated level is the loudest recent level.
        self.loudest.push(self.frames_read, -reference_db);
        let loudest_db = -self.loudest.min_from(0);
        let active = reference_db > DEAD_DB + 30.0 && reference_db >= loudest_db - ACTIVE_RANGE_DB;
        // Dead bands are found in the power domain: no logarithm per band.
        let dead_power = 10f32.powf(DEAD_DB / 10.0);
        for (k, &band) in self.band_bins.iter().enumerate() {
            self.dead[k] = if mean_power(&self.spectrum, band) <= dead_power {
                1.0
            } else {
                0.0
            };
        }
        let weight = if active { 1.0 } else { 0.0 };
        if active {
            self.active_frames += 1;
            for (count, &d) in self.dead_frames.iter_mut().zip(&self.dead) {
                *count += d as u64;
            }
        }
        self.frames_read += 1;
        if self.sides.push(&self.dead, weight).is_some() {
            self.emit();
        }
    }

    fn emit(&mut self) {
        let active_s = self.sides.left_weight().min(self.sides.right_weight()) * self.hop_s();
        if active_s < MIN_ACTIVE_SIDE_S || self.band_bins.is_empty() {
            self.track.push(0.0, 0.0);
            return;
        }
        let total: f64 = (0..self.band_bins.len())
            .map(|k| (self.sides.right_mean(k) - self.sides.left_mean(k)).abs())
            .sum();
        let value = (total / self.band_bins.len() as f64) as f32;
        self.track
            .push(value, (active_s / FULL_ACTIVE_SIDE_S).min(1.0) as f32);
    }

    /// The top of the highest band alive in at least [`ALIVE_FRACTION`] of the loud frames, in
    /// Hz ([`LOW_HZ`] if none).
    fn band_limit_hz(&self) -> f64 {
        let n = self.active_frames.max(1) as f64;
        let bin_hz = f64::from(self.rate_hz) / self.frame_len as f64;
        self.dead_frames
            .iter()
            .zip(&self.band_bins)
            .filter(|&(&dead, _)| 1.0 - dead as f64 / n >= ALIVE_FRACTION)
            .map(|(_, &(_, hi))| hi as f64 * bin_hz)
            .fold(LOW_HZ, f64::max)
    }

    fn reset(&mut self) {
        self.pending.clear();
        self.skip = 0;
        self.loudest.clear();
        self.frames_read = 0;
        self.sides.reset();
        self.dead_frames.fill(0);
        self.active_frames = 0;
    }
}

fn new_track(frame_len: usize, hop_len: usize, rate: f64) -> CueTrack {
    // Boundary i lies between frames i − 1 and i, whose centres are at (i − 1)·hop + N/2 and
    // i·hop + N/2 samples.
    let start_s = (frame_len as f64 / 2.0 - hop_len as f64 / 2.0) / rate;
    CueTrack::new(
        CueKey::Codec,
        "fraction",
        start_s,
        hop_len as f64 / rate,
        SCALE,
    )
}

impl SampleCue for CodecCue {
    fn sample_rate_hz(&self) -> u32 {
        self.rate_hz
    }

    fn push(&mut self, samples: &[f32]) {
        self.track.reserve(samples.len() / self.hop_len + 1);
        let mut rest = samples;
        while !rest.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(rest.len());
                self.skip -= n;
                rest = &rest[n..];
                continue;
            }
            if self.pending.is_empty() && rest.len() >= self.frame_len {
                self.read_frame(Some(&rest[..self.frame_len]));
                rest = &rest[self.frame_len..];
                self.skip = self.hop_len - self.frame_len;
                continue;
            }
            let n = (self.frame_len - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if self.pending.len() == self.frame_len {
                self.read_frame(None);
                self.pending.clear();
                self.skip = self.hop_len - self.frame_len;
            }
        }
    }

    fn finish(&mut self) -> CueTrack {
        // A last partial frame is read zero-padded when it holds at least half a frame.
        if self.pending.len() >= self.frame_len / 2 {
            self.pending.resize(self.frame_len, 0.0);
            self.read_frame(None);
        }
        while self.sides.pad().is_some() {
            self.emit();
        }
        let rate = f64::from(self.rate_hz);
        let mut track = std::mem::replace(
            &mut self.track,
            new_track(self.frame_len, self.hop_len, rate),
        );
        let nyquist_hz = rate / 2.0;
        let band_limit_hz = self.band_limit_hz();
        let facts = |u: CueUsability| {
            u.with_fact("band_limit_hz", band_limit_hz.round())
                .with_fact("nyquist_hz", nyquist_hz)
        };
        if self.rate_hz < MIN_RATE_HZ {
            track.abstain(CueUsability::unusable(format!(
                "native rate {} Hz: no band above 8 kHz to read codec traces in",
                self.rate_hz
            )));
        } else if self.active_frames as f64 * self.hop_s() < MIN_ACTIVE_TOTAL_S {
            track.abstain(facts(CueUsability::unusable(format!(
                "too little loud audio to read the band above 4 kHz ({:.2} s)",
                round3(self.active_frames as f64 * self.hop_s())
            ))));
        } else if band_limit_hz < MIN_BAND_LIMIT_HZ {
            track.abstain(facts(CueUsability::unusable(format!(
                "the clip's band ends at {band_limit_hz:.0} Hz (its last encoding): earlier band \
                 limits cannot show above it"
            ))));
        } else {
            track.usability = facts(CueUsability::usable(""));
        }
        self.reset();
        track
    }
}
