//! What the spectrogram cues share: band levels per frame, a local noise floor, a class per frame
//! (digital silence, pause, speech), and the two-sided running means every two-sided cue uses.
#![forbid(unsafe_code)]

use std::collections::VecDeque;

use crate::cues::check_block;
use crate::error::Result;
use crate::spectrogram::{Spectrogram, SpectrogramConfig};

/// Number of bands each frame is reduced to. 20 mel-spaced bands, the filter-bank size of the
/// MFCC front end of Davis & Mermelstein (1980, IEEE TASSP 28(4)); enough to draw a spectral
/// envelope, few enough that a frame costs 20 numbers.
pub(crate) const BAND_COUNT: usize = 20;

/// Lower edge of the lowest band, in Hz: above the mains hum (50/60 Hz, read by the ENF cue) and
/// the rumble below 100 Hz that most recording chains filter anyway.
const BAND_LOW_HZ: f64 = 100.0;

/// Upper edge of the highest band, in Hz: just under the Nyquist frequency of the 16 kHz analysis
/// rate, where the resampler's anti-alias filter starts to roll off. Lower for lower rates.
const BAND_HIGH_HZ: f64 = 7800.0;

/// A frame whose mean band level is within this of the spectrogram's floor is digital silence:
/// every bin read as the floor (−120 dB, far below 16-bit quantisation noise).
const DIGITAL_SILENCE_MARGIN_DB: f32 = 1.0;

/// Half the length of the window, centred on each frame, in which the local noise floor is the
/// minimum frame level, in seconds. Martin (2001, "Noise power spectral density estimation based
/// on optimal smoothing and minimum statistics", IEEE TSAP 9(5), §II) searches for the minimum
/// over about 1.5 s: long enough to contain a speech pause, short enough to follow a changing
/// noise.
///
/// Known limit: right after a step of the background larger than [`PAUSE_MARGIN_DB`], the window
/// still reaches the quieter side, so the louder side's pauses within 0.75 s of the step do not
/// count; the noise-floor cue then localises the step only to within that stretch. Judging pauses
/// against the higher of the minima before and after each frame avoids that, but it also let the
/// short gaps of fluent speech pass as pauses: on the tuning speakers the largest value on
/// unedited speech rose (90th percentile 0.89 → 1.39) while joints did not, so it was not kept.
const FLOOR_HALF_WINDOW_S: f64 = 0.75;

/// A frame whose level is within this of the local floor is a pause (background only). 6 dB: the
/// level of broadband noise in 20 averaged bands fluctuates by about 1 dB from frame to frame, and
/// a word's weakest frames stand more than 6 dB above a quiet floor (measured on the corpus).
pub(crate) const PAUSE_MARGIN_DB: f32 = 6.0;

/// A frame whose level is at least this above the local floor carries speech (or another
/// foreground sound). 12 dB keeps out breaths and the decaying tails of words, so that the
/// frames are dominated by the source and the chain it went through.
pub(crate) const SPEECH_MARGIN_DB: f32 = 12.0;

/// Two-sided cues divide a band's difference of means by the pooled standard deviation within
/// the windows, but never by less than 1 dB (this variance, in dB²): the frame-to-frame
/// fluctuation of a stationary noise band, averaged over many bins, is below 1 dB, and dividing by
/// it would turn a tenth of a dB into a large value. So a value never exceeds the difference in dB.
pub(crate) const MIN_VARIANCE_DB2: f64 = 1.0;

/// What a frame holds, judged from its level against the local floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameClass {
    /// Every bin at the spectrogram's floor: exact (or near-exact) zeros.
    DigitalSilence,
    /// Within [`PAUSE_MARGIN_DB`] of the local floor: background noise only.
    Pause,
    /// At least [`SPEECH_MARGIN_DB`] above the local floor.
    Speech,
    /// In between: weak speech, breaths, decays.
    Other,
}

/// One frame as the spectrogram cues see it.
pub(crate) struct FrameView<'a> {
    /// The frame's index in the whole spectrogram.
    pub index: u64,
    /// Mean level in dB of each of the [`BAND_COUNT`] bands.
    pub bands_db: &'a [f32],
    /// Mean of `bands_db`, in dB.
    pub level_db: f32,
    /// The frame's class (against the local floor: the lowest non-silent `level_db` within
    /// ±0.75 s).
    pub class: FrameClass,
}

/// Band levels, local floor and class of every frame of a spectrogram stream, handed out with a
/// delay of [`FLOOR_HALF_WINDOW_S`] (the floor looks that far ahead).
pub(crate) struct FrameFeatures {
    sample_rate: u32,
    config: SpectrogramConfig,
    /// Bin range of each band, and 1 / its width.
    band_bins: Vec<(usize, usize)>,
    inverse_widths: Vec<f32>,
    /// Frames of look-ahead (and look-behind) of the floor.
    window_frames: usize,
    /// Band levels of the last `window_frames + 1` frames, ring by frame index.
    ring_bands: Vec<f32>,
    ring_level: Vec<f32>,
    /// Minimum level of the frames from the one being handed out to the newest (0.75 s ahead).
    leading: SlidingMin,
    /// Minimum level of the 0.75 s of frames up to the one being handed out.
    trailing: SlidingMin,
    /// Scratch row when a block's rows are not contiguous.
    row: Vec<f32>,
    /// Frames received.
    received: u64,
    /// Frames handed out.
    emitted: u64,
    /// Frames handed out per class, for the cues' usability.
    pub counts: ClassCounts,
}

/// Frames per class over the clip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ClassCounts {
    pub silence: u64,
    pub pause: u64,
    pub speech: u64,
    pub other: u64,
}

impl ClassCounts {
    pub fn total(&self) -> u64 {
        self.silence + self.pause + self.speech + self.other
    }
}

impl FrameFeatures {
    pub fn new(sample_rate: u32, config: &SpectrogramConfig) -> Result<FrameFeatures> {
        config.validate(sample_rate)?;
        let band_bins = band_bins(sample_rate, config);
        let inverse_widths = band_bins
            .iter()
            .map(|&(lo, hi)| 1.0 / (hi - lo) as f32)
            .collect();
        let hop_s = config.hop_samples as f64 / f64::from(sample_rate);
        let window_frames = ((FLOOR_HALF_WINDOW_S / hop_s).round() as usize).max(1);
        let slots = window_frames + 1;
        Ok(FrameFeatures {
            sample_rate,
            config: *config,
            band_bins,
            inverse_widths,
            window_frames,
            ring_bands: vec![0.0; slots * BAND_COUNT],
            ring_level: vec![0.0; slots],
            leading: SlidingMin::new(slots),
            trailing: SlidingMin::new(slots),
            row: vec![0.0; config.bins()],
            received: 0,
            emitted: 0,
            counts: ClassCounts::default(),
        })
    }

    /// Seconds between frames.
    pub fn hop_s(&self) -> f64 {
        self.config.hop_samples as f64 / f64::from(self.sample_rate)
    }

    /// Reads a block, handing every frame whose floor is known to `sink`.
    pub fn push<F>(&mut self, block: &Spectrogram, mut sink: F) -> Result<()>
    where
        F: FnMut(&FrameView<'_>),
    {
        check_block(block, self.sample_rate, &self.config, self.received)?;
        let slots = self.window_frames as u64 + 1;
        for row in block.data.outer_iter() {
            let values: &[f32] = match row.as_slice() {
                Some(values) => values,
                None => {
                    self.row
                        .iter_mut()
                        .zip(row.iter())
                        .for_each(|(r, &v)| *r = v);
                    &self.row
                }
            };
            let slot = (self.received % slots) as usize;
            let bands = &mut self.ring_bands[slot * BAND_COUNT..(slot + 1) * BAND_COUNT];
            let mut level = 0.0_f32;
            for ((band, &(lo, hi)), &inverse) in bands
                .iter_mut()
                .zip(&self.band_bins)
                .zip(&self.inverse_widths)
            {
                *band = lane_sum(&values[lo..hi]) * inverse;
                level += *band;
            }
            level /= BAND_COUNT as f32;
            self.ring_level[slot] = level;
            self.leading.push(self.received, floor_value(level));
            self.received += 1;
            if self.received > self.window_frames as u64 {
                self.emit(&mut sink);
            }
        }
        Ok(())
    }

    /// Hands out the frames still held (their floor window shortened by the end of the clip).
    pub fn finish<F>(&mut self, mut sink: F)
    where
        F: FnMut(&FrameView<'_>),
    {
        while self.emitted < self.received {
            self.emit(&mut sink);
        }
    }

    /// Forgets the clip, keeping buffers.
    pub fn reset(&mut self) {
        self.leading.clear();
        self.trailing.clear();
        self.received = 0;
        self.emitted = 0;
        self.counts = ClassCounts::default();
    }

    fn emit<F>(&mut self, sink: &mut F)
    where
        F: FnMut(&FrameView<'_>),
    {
        let index = self.emitted;
        let slots = self.window_frames as u64 + 1;
        let slot = (index % slots) as usize;
        let level_db = self.ring_level[slot];
        self.trailing.push(index, floor_value(level_db));
        let floor = self.leading.min_from(index).min(self.trailing.min_from(0));
        // Where only silence is in reach, the floor is the spectrogram's.
        let floor_db = if floor.is_finite() {
            floor
        } else {
            Spectrogram::FLOOR_DB
        };
        let class = if is_silent(level_db) {
            FrameClass::DigitalSilence
        } else if level_db <= floor_db + PAUSE_MARGIN_DB {
            FrameClass::Pause
        } else if level_db >= floor_db + SPEECH_MARGIN_DB {
            FrameClass::Speech
        } else {
            FrameClass::Other
        };
        match class {
            FrameClass::DigitalSilence => self.counts.silence += 1,
            FrameClass::Pause => self.counts.pause += 1,
            FrameClass::Speech => self.counts.speech += 1,
            FrameClass::Other => self.counts.other += 1,
        }
        let view = FrameView {
            index,
            bands_db: &self.ring_bands[slot * BAND_COUNT..(slot + 1) * BAND_COUNT],
            level_db,
            class,
        };
        sink(&view);
        self.emitted += 1;
    }
}

/// The value a frame contributes to the floor's minima: digital silence does not count, or it
/// would hide the real floor around it.
fn floor_value(level_db: f32) -> f32 {
    if is_silent(level_db) {
        f32::INFINITY
    } else {
        level_db
    }
}

fn is_silent(level_db: f32) -> bool {
    level_db <= Spectrogram::FLOOR_DB + DIGITAL_SILENCE_MARGIN_DB
}

/// The RMS over the [`BAND_COUNT`] bands of a band-level two-sided window's standardised
/// difference of means (see [`TwoSided::standardised_terms`], variances at least
/// [`MIN_VARIANCE_DB2`]): the distance the noise-floor and channel cues read at a boundary.
pub(crate) fn band_rms_distance(sides: &TwoSided) -> f64 {
    let mut terms = [0.0; BAND_COUNT];
    sides.standardised_terms(MIN_VARIANCE_DB2, &mut terms);
    let sum_sq = terms.iter().fold(0.0, |sum, &term| sum + term);
    (sum_sq / BAND_COUNT as f64).sqrt()
}

/// The bin range of each of the [`BAND_COUNT`] mel-spaced bands between [`BAND_LOW_HZ`] and
/// [`BAND_HIGH_HZ`] (or 97.5 % of the Nyquist frequency, if lower). Mel scale as in
/// O'Shaughnessy (1987), m = 2595 log10(1 + f / 700). Every band holds at least one bin.
pub(crate) fn band_bins(sample_rate: u32, config: &SpectrogramConfig) -> Vec<(usize, usize)> {
    let bin_hz = f64::from(sample_rate) / config.window_samples as f64;
    let bins = config.bins();
    let high_hz = BAND_HIGH_HZ.min(0.975 * f64::from(sample_rate) / 2.0);
    let mel = |f: f64| 2595.0 * (1.0 + f / 700.0).log10();
    let hz = |m: f64| 700.0 * (10f64.powf(m / 2595.0) - 1.0);
    let (m_lo, m_hi) = (mel(BAND_LOW_HZ), mel(high_hz));
    let edge_bin = |b: usize| {
        let f = hz(m_lo + (m_hi - m_lo) * b as f64 / BAND_COUNT as f64);
        ((f / bin_hz).round() as usize).clamp(1, bins - 1)
    };
    (0..BAND_COUNT)
        .map(|b| {
            let lo = edge_bin(b);
            let hi = edge_bin(b + 1).max(lo + 1).min(bins);
            (lo.min(hi - 1), hi)
        })
        .collect()
}

/// The sum of `values` in four independent lanes: a plain `f32` sum is one chain of additions,
/// each waiting for the last, which made the band sums the costliest part of a frame.
pub(crate) fn lane_sum(values: &[f32]) -> f32 {
    let mut lanes = [0.0_f32; 4];
    let mut quads = values.chunks_exact(4);
    for quad in &mut quads {
        for l in 0..4 {
            lanes[l] += quad[l];
        }
    }
    let tail: f32 = quads.remainder().iter().sum();
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

/// The minimum over a sliding window of the last `window` values pushed, by the monotone-deque
/// algorithm (each value enters and leaves once, so O(1) per value amortised). Allocation-free
/// after construction.
pub(crate) struct SlidingMin {
    window: u64,
    deque: VecDeque<(u64, f32)>,
}

impl SlidingMin {
    pub fn new(window: usize) -> SlidingMin {
        SlidingMin {
            window: window as u64,
            deque: VecDeque::with_capacity(window + 1),
        }
    }

    /// Pushes the value at `index` (indices increase by one).
    pub fn push(&mut self, index: u64, value: f32) {
        while self.deque.back().is_some_and(|&(_, v)| v >= value) {
            self.deque.pop_back();
        }
        self.deque.push_back((index, value));
        while self
            .deque
            .front()
            .is_some_and(|&(i, _)| i + self.window <= index)
        {
            self.deque.pop_front();
        }
    }

    /// The minimum of the values pushed at `from` or later (within the window); +∞ if none.
    pub fn min_from(&mut self, from: u64) -> f32 {
        while self.deque.front().is_some_and(|&(i, _)| i < from) {
            self.deque.pop_front();
        }
        self.deque.front().map_or(f32::INFINITY, |&(_, v)| v)
    }

    pub fn clear(&mut self) {
        self.deque.clear();
    }
}

/// Weighted means of a per-frame feature vector over two adjacent windows of `half` frames: the
/// left window `[i − half, i)` and the right window `[i, i + half)` of every boundary `i`.
///
/// Push frames in order with a weight (0 leaves the frame out; most frames of most cues are left
/// out — not a pause, not voiced, not loud — and cost nothing then); each push completes the right
/// window of one boundary, `pushed − half`, whose statistics can then be read. Sums are kept in
/// `f64`: a sum of up to a few thousand `f32` values of similar magnitude is exact there, so adding
/// and subtracting never drifts (sums of squares, which need 48 bits per term, drift by at most
/// about 1e−16 of their size per frame, far below any variance read from them). Allocation-free
/// after construction.
pub(crate) struct TwoSided {
    dims: usize,
    half: usize,
    ring_x: Vec<f32>,
    ring_w: Vec<f32>,
    sum_left: Vec<f64>,
    square_left: Vec<f64>,
    weight_left: f64,
    sum_right: Vec<f64>,
    square_right: Vec<f64>,
    weight_right: f64,
    /// 1 / weight of each window (0 when empty), for the current boundary.
    inverse_left: f64,
    inverse_right: f64,
    pushed: u64,
    /// The ring slot of the next frame pushed: `pushed % (2 · half)`, kept without a division.
    next_slot: usize,
    /// Real frames pushed (not padding).
    real: u64,
}

impl TwoSided {
    pub fn new(dims: usize, half: usize) -> TwoSided {
        let half = half.max(1);
        TwoSided {
            dims,
            half,
            ring_x: vec![0.0; 2 * half * dims],
            ring_w: vec![0.0; 2 * half],
            sum_left: vec![0.0; dims],
            square_left: vec![0.0; dims],
            weight_left: 0.0,
            sum_right: vec![0.0; dims],
            square_right: vec![0.0; dims],
            weight_right: 0.0,
            inverse_left: 0.0,
            inverse_right: 0.0,
            pushed: 0,
            next_slot: 0,
            real: 0,
        }
    }

    /// Pushes a frame with weight `w`; returns the boundary whose statistics are now complete,
    /// if any.
    pub fn push(&mut self, x: &[f32], w: f32) -> Option<u64> {
        self.real += 1;
        self.push_inner(x, w)
    }

    /// Pushes an empty frame past the end of the clip; returns the next boundary completed, or
    /// `None` once every boundary of the real frames has been completed.
    pub fn pad(&mut self) -> Option<u64> {
        if self.real == 0 || self.pushed + 1 > self.real + self.half as u64 - 1 {
            return None;
        }
        self.push_inner(&[], 0.0)
    }

    fn push_inner(&mut self, x: &[f32], w: f32) -> Option<u64> {
        let d = self.dims;
        let slots = 2 * self.half as u64;
        let new_slot = self.next_slot;
        self.next_slot = if new_slot + 1 == 2 * self.half {
            0
        } else {
            new_slot + 1
        };
        let (mut left_changed, mut right_changed) = (false, false);
        if self.pushed >= slots {
            // The frame at pushed − 2·half leaves the left window.
            let w = f64::from(self.ring_w[new_slot]);
            if w != 0.0 {
                let old = &self.ring_x[new_slot * d..(new_slot + 1) * d];
                for ((sum, square), &v) in
                    self.sum_left.iter_mut().zip(&mut self.square_left).zip(old)
                {
                    let v = f64::from(v);
                    *sum -= w * v;
                    *square -= w * v * v;
                }
                self.weight_left -= w;
                left_changed = true;
            }
        }
        if self.pushed >= self.half as u64 {
            // The frame at pushed − half moves from the right window to the left.
            // (pushed − half) mod 2·half, the slot half a ring from the new one.
            let slot = if new_slot >= self.half {
                new_slot - self.half
            } else {
                new_slot + self.half
            };
            let w = f64::from(self.ring_w[slot]);
            if w != 0.0 {
                let moving = &self.ring_x[slot * d..(slot + 1) * d];
                for (k, &v) in moving.iter().enumerate() {
                    let v = f64::from(v);
                    let (wx, wxx) = (w * v, w * v * v);
                    self.sum_right[k] -= wx;
                    self.square_right[k] -= wxx;
                    self.sum_left[k] += wx;
                    self.square_left[k] += wxx;
                }
                self.weight_right -= w;
                self.weight_left += w;
                (left_changed, right_changed) = (true, true);
            }
        }
        self.ring_w[new_slot] = w;
        if w != 0.0 {
            self.ring_x[new_slot * d..(new_slot + 1) * d].copy_from_slice(&x[..d]);
            let w = f64::from(w);
            for ((sum, square), &v) in self.sum_right.iter_mut().zip(&mut self.square_right).zip(x)
            {
                let v = f64::from(v);
                *sum += w * v;
                *square += w * v * v;
            }
            self.weight_right += w;
            right_changed = true;
        }
        self.pushed += 1;
        // Weights are sums of small integers or of exact f32 values: a tiny positive residue
        // would be an error, not data.
        let inverse = |weight: f64| if weight > 1e-9 { 1.0 / weight } else { 0.0 };
        // Only a window whose weight changed needs its inverse again.
        if left_changed {
            self.inverse_left = inverse(self.weight_left);
        }
        if right_changed {
            self.inverse_right = inverse(self.weight_right);
        }
        (self.pushed >= self.half as u64).then(|| self.pushed - self.half as u64)
    }

    /// Total weight of the left window of the current boundary.
    pub fn left_weight(&self) -> f64 {
        if self.inverse_left > 0.0 {
            self.weight_left
        } else {
            0.0
        }
    }

    /// Total weight of the right window of the current boundary.
    pub fn right_weight(&self) -> f64 {
        if self.inverse_right > 0.0 {
            self.weight_right
        } else {
            0.0
        }
    }

    /// Mean of dimension `k` over the left window (0 when empty).
    pub fn left_mean(&self, k: usize) -> f64 {
        self.sum_left[k] * self.inverse_left
    }

    /// Mean of dimension `k` over the right window (0 when empty).
    pub fn right_mean(&self, k: usize) -> f64 {
        self.sum_right[k] * self.inverse_right
    }

    /// The variance of dimension `k` over both windows together, about each window's own mean
    /// (the pooled within-window variance).
    pub fn pooled_variance(&self, k: usize) -> f64 {
        let weight = self.left_weight() + self.right_weight();
        if weight <= 0.0 {
            return 0.0;
        }
        let within = (self.square_left[k] - self.sum_left[k] * self.left_mean(k))
            + (self.square_right[k] - self.sum_right[k] * self.right_mean(k));
        (within / weight).max(0.0)
    }

    /// For each dimension, (right mean − left mean)² over the pooled variance (at least
    /// `min_variance`), into `terms` (one slot per dimension): the terms of a standardised
    /// distance between the two windows, each as [`TwoSided::left_mean`],
    /// [`TwoSided::right_mean`] and [`TwoSided::pooled_variance`] give it, in one pass over the
    /// dimensions without calls or branches, so that it vectorises (read dimension by
    /// dimension, the divisions were most of a two-sided cue's time).
    pub fn standardised_terms(&self, min_variance: f64, terms: &mut [f64]) {
        let weight = self.left_weight() + self.right_weight();
        let (inverse_left, inverse_right) = (self.inverse_left, self.inverse_right);
        let sides = self
            .sum_left
            .iter()
            .zip(&self.square_left)
            .zip(self.sum_right.iter().zip(&self.square_right));
        for (term, ((&sum_left, &square_left), (&sum_right, &square_right))) in
            terms.iter_mut().zip(sides)
        {
            let within = (square_left - sum_left * (sum_left * inverse_left))
                + (square_right - sum_right * (sum_right * inverse_right));
            let variance = if weight <= 0.0 {
                0.0
            } else {
                (within / weight).max(0.0)
            };
            let d = sum_right * inverse_right - sum_left * inverse_left;
            *term = d * d / variance.max(min_variance);
        }
    }

    pub fn reset(&mut self) {
        self.sum_left.fill(0.0);
        self.square_left.fill(0.0);
        self.weight_left = 0.0;
        self.sum_right.fill(0.0);
        self.square_right.fill(0.0);
        self.weight_right = 0.0;
        self.inverse_left = 0.0;
        self.inverse_right = 0.0;
        self.ring_w.fill(0.0);
        self.pushed = 0;
        self.next_slot = 0;
        self.real = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_min_follows_window() {
        let mut m = SlidingMin::new(3);
        let values = [5.0, 3.0, 4.0, 6.0, 7.0, 1.0];
        let mut mins = Vec::new();
        for (i, &v) in values.iter().enumerate() {
            m.push(i as u64, v);
            mins.push(m.min_from(0));
        }
        assert_eq!(mins, vec![5.0, 3.0, 3.0, 3.0, 4.0, 1.0]);
    }

    #[test]
    fn two_sided_means_match_direct_computation_including_padding() {
        let half = 3;
        let xs: Vec<f32> = (0..10).map(|i| (i * i) as f32).collect();
        let mut t = TwoSided::new(1, half);
        let mut got = Vec::new();
        for &x in &xs {
            if let Some(i) = t.push(&[x], 1.0) {
                got.push((i, t.left_mean(0), t.right_mean(0)));
            }
        }
        while let Some(i) = t.pad() {
            got.push((i, t.left_mean(0), t.right_mean(0)));
        }
        assert_eq!(got.len(), xs.len(), "one boundary per frame");
        for (i, left, right) in got {
            let i = i as usize;
            let mean = |r: std::ops::Range<usize>| {
                let v: Vec<f64> = xs[r].iter().map(|&x| f64::from(x)).collect();
                if v.is_empty() {
                    0.0
                } else {
                    v.iter().sum::<f64>() / v.len() as f64
                }
            };
            // Means are sums times a reciprocal: equal to the quotient within an ulp or two.
            assert!(
                (left - mean(i.saturating_sub(half)..i)).abs() < 1e-12,
                "left {i}"
            );
            assert!(
                (right - mean(i..(i + half).min(xs.len()))).abs() < 1e-12,
                "right {i}"
            );
        }
    }

    #[test]
    fn standardised_terms_equal_the_means_and_variances_read_one_by_one() {
        let (dims, half) = (3, 4);
        let mut t = TwoSided::new(dims, half);
        let mut checked = 0;
        for i in 0..20u32 {
            let x: Vec<f32> = (0..dims)
                .map(|k| ((i * 7 + k as u32 * 3) % 11) as f32 - 4.0)
                .collect();
            let w = if i % 5 == 3 {
                0.0
            } else {
                1.0 + (i % 3) as f32
            };
            if t.push(&x, w).is_some() && t.left_weight() > 0.0 && t.right_weight() > 0.0 {
                let mut terms = [0.0; 3];
                t.standardised_terms(0.5, &mut terms);
                for (k, &term) in terms.iter().enumerate() {
                    let d = t.right_mean(k) - t.left_mean(k);
                    let expected = d * d / t.pooled_variance(k).max(0.5);
                    assert_eq!(
                        term.to_bits(),
                        expected.to_bits(),
                        "frame {i}, dimension {k}"
                    );
                }
                checked += 1;
            }
        }
        assert!(checked >= 10, "{checked}");
    }

    #[test]
    fn band_bins_are_increasing_and_non_empty() {
        let config = SpectrogramConfig::default();
        let bands = band_bins(16_000, &config);
        assert_eq!(bands.len(), BAND_COUNT);
        assert!(bands.iter().all(|&(lo, hi)| lo < hi && hi <= config.bins()));
        assert!(bands.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(bands[0].0, 3, "100 Hz at 31.25 Hz per bin");
    }
}
