//! The waveform cue: breaks at the level of samples — clicks where two waveforms were butted
//! together, steps of the DC offset, runs of exact digital silence pasted in.
//!
//! - **Clicks.** Speech at the native rate is smooth from sample to sample, so a fixed polynomial
//!   predictor (the second difference x[n] − 2x[n−1] + x[n−2], FLAC's order-2 fixed predictor;
//!   Robinson 1994, "SHORTEN", CUED/F-INFENG/TR.156) leaves a small residual; a cut without a
//!   crossfade leaves a jump in value or slope that the residual shows as a spike. Click detectors
//!   for audio restoration threshold a prediction residual against its local scale (Vaseghi &
//!   Rayner 1990, "Detection and suppression of impulsive noise in speech communication systems",
//!   IEE Proc. I 137(1); Godsill & Rayner 1998, *Digital Audio Restoration*, ch. 5). Here: in 8 ms
//!   blocks, the peak |residual| over the median of the neighbouring blocks' mean |residual|
//!   (±8 blocks), in units of [`CLICK_RATIO`].
//! - **DC steps.** Two recordings through different converters rarely share a DC offset. The mean
//!   of the signal over the 1 s before and after each block boundary; the absolute difference in
//!   units of [`DC_STEP`].
//! - **Digital silence.** A run of at least 5 ms of samples within half a 16-bit step of zero
//!   inside a clip is not recorded sound; its edges score [`SILENCE_EDGE_VALUE`]. Runs touching the
//!   clip's start or end are ordinary padding and ignored; when runs are frequent (a noise gate or
//!   suppressor zeroes every pause), they are ignored and the note says so.
//!
//! The track is the largest of the three per block, in multiples of each detector's threshold
//! (1.0 = at the threshold), so one number per instant fits the report's `waveform` key.
#![forbid(unsafe_code)]

use crate::cues::frames::TwoSided;
use crate::cues::{CueKey, CueTrack, CueUsability, SampleCue, median_in_place};
use crate::error::{Error, Result};

/// Block length, in seconds: the track's step.
const BLOCK_S: f64 = 0.008;

/// Blocks each side whose mean |residual| gives a block's local scale.
const SCALE_NEIGHBOUR_BLOCKS: usize = 8;

/// A block's peak |residual| this many times the local scale is a click at the threshold. The
/// local scale is the larger of the neighbours' median mean |residual| and the block's own mean
/// |residual| without its peak sample, so an onset after silence (loud against its neighbours,
/// not against itself) does not count. For Gaussian residuals the peak of 384 samples is about
/// 3.7 times the mean |residual|. Measured on 19 unedited LibriSpeech utterances (16 kHz, tuning
/// speakers) and two recordings at 44.1 and 48 kHz: the largest block reached 16–41 times the
/// local scale (one, with mouth clicks, 80); 30 puts the median clip's largest block just below
/// the threshold. Cuts without a crossfade at random mid-speech points of the same clips scored a
/// median of 9 times at 16 kHz: most such cuts leave no click, some a large one.
const CLICK_RATIO: f32 = 30.0;

/// The local scale never goes below this (a full-scale step is 1.0): in digital silence the
/// residual is 0 and any sample would be an infinite ratio. 2^−16 is a 16-bit step.
const MIN_SCALE: f32 = 1.0 / 65_536.0;

/// Length of each side's window for the DC offset, in seconds: 1 s averages a 100 Hz voice
/// harmonic of amplitude 0.3 down to about 0.001.
const DC_SIDE_S: f64 = 1.0;

/// The DC offset is measured as means over this many blocks (128 ms), whose spread within each
/// side tells a step from a wandering offset.
const DC_BLOCKS: usize = 16;

/// A DC step of this size is at the threshold: 0.004 of full scale (−48 dBFS), above what 1 s
/// means of unedited speech show (see the tests) and below the offsets of consumer converters.
const DC_STEP: f32 = 0.004;

/// A DC step must also exceed this many standard deviations of the 128 ms means within the two
/// windows: one corpus recording (LibriSpeech 445) sits at −0.25 and wanders by ±0.02, which is a
/// recording's character, not an edit.
const DC_SPREAD_FACTOR: f64 = 4.0;

/// Samples with |x| at most this are digital zeros: half a 16-bit step, so decoded 16-bit silence
/// and float zeros both count, while any recorded background (even dithered) does not.
const ZERO_TOLERANCE: f32 = 1.0 / 65_536.0;

/// The shortest run of digital zeros that counts as inserted silence, in seconds. Recorded
/// background noise never holds 5 ms of exact zeros.
const MIN_SILENCE_S: f64 = 0.005;

/// The value of an edge of an inserted silence run.
const SILENCE_EDGE_VALUE: f32 = 2.0;

/// More inner silence runs than this per minute (and at least [`GATED_MIN_RUNS`]) means a noise
/// gate zeroes the pauses: the runs are then no evidence of editing. Read speech pauses about 10–20
/// times a minute.
const GATED_RUNS_PER_MINUTE: f64 = 4.0;
const GATED_MIN_RUNS: usize = 4;

/// Silence runs remembered for scoring; past this the clip is gated anyway.
const MAX_SILENCE_RUNS: usize = 10_000;

/// The reference value of the track: 1.0, a detector at its threshold.
const SCALE: f32 = 1.0;

/// The waveform cue: clicks, DC steps and inserted digital silence in the native-rate signal.
///
/// One value per 8 ms block (time: the block's centre), the largest of the three detectors in
/// multiples of its threshold. Always usable on native-rate samples; confidence 1 everywhere.
/// Facts: `clicks` (blocks at or above the click threshold), `dc_steps` (distinct DC steps above
/// threshold), `silence_runs` (inner runs of digital silence), `gated` (true when the runs are
/// too frequent to be edits and were ignored). Reference scale 1.0.
pub struct WaveformCue {
    rate_hz: u32,
    block_len: usize,
    /// The last two samples before the current position (x[n−1], x[n−2]).
    previous: [f32; 2],
    /// Scratch for one block's |residual|.
    residual: Vec<f32>,
    /// The start of a block whose end has not been pushed yet.
    partial: Vec<f32>,
    position: u64,
    // The block being filled.
    in_block: usize,
    block_abs_sum: f32,
    block_peak: f32,
    block_sum: f64,
    // Blocks waiting for their local scale: mean |residual| and peak, ring by block index.
    ring_mean: Vec<f32>,
    ring_peak: Vec<f32>,
    ring_rest: Vec<f32>,
    /// The ring's mean |residual| values in order (by `f32::total_cmp`), for the median.
    sorted: Vec<f32>,
    blocks_done: u64,
    scratch: Vec<f32>,
    dc: TwoSided,
    /// Sum and count of the samples of the DC block being filled.
    dc_sum: f64,
    dc_samples: u64,
    // Digital silence.
    zero_run: u64,
    min_silence_samples: u64,
    silence_runs: Vec<(u64, u64)>,
    silence_run_count: usize,
    clicks: u64,
    dc_steps: u64,
    dc_above: bool,
    track: CueTrack,
}

impl WaveformCue {
    /// A waveform cue for the native-rate mono signal at `rate_hz`.
    ///
    /// # Errors
    /// [`Error::Config`] when `rate_hz` is below 1 kHz or above 768 kHz.
    pub fn new(rate_hz: u32) -> Result<WaveformCue> {
        if !(1_000..=crate::decode::MAX_SAMPLE_RATE_HZ).contains(&rate_hz) {
            return Err(Error::config(
                "waveform rate",
                format!("{rate_hz} Hz is outside 1000..=768000"),
            ));
        }
        let rate = f64::from(rate_hz);
        let block_len = (BLOCK_S * rate).round() as usize;
        let ring = 2 * SCALE_NEIGHBOUR_BLOCKS + 1;
        let block_s = block_len as f64 / rate;
        Ok(WaveformCue {
            rate_hz,
            block_len,
            previous: [0.0; 2],
            residual: vec![0.0; block_len],
            partial: Vec::with_capacity(block_len),
            position: 0,
            in_block: 0,
            block_abs_sum: 0.0,
            block_peak: 0.0,
            block_sum: 0.0,
            ring_mean: vec![0.0; ring],
            ring_peak: vec![0.0; ring],
            ring_rest: vec![0.0; ring],
            sorted: Vec::with_capacity(ring + 1),
            blocks_done: 0,
            scratch: Vec::with_capacity(2 * SCALE_NEIGHBOUR_BLOCKS),
            dc: TwoSided::new(
                1,
                (DC_SIDE_S / (block_s * DC_BLOCKS as f64)).round() as usize,
            ),
            dc_sum: 0.0,
            dc_samples: 0,
            zero_run: 0,
            min_silence_samples: (MIN_SILENCE_S * rate).ceil() as u64,
            silence_runs: Vec::new(),
            silence_run_count: 0,
            clicks: 0,
            dc_steps: 0,
            dc_above: false,
            track: new_track(block_len, rate),
        })
    }

    /// Reads one whole block (the last may be shorter): residuals, silence, then the block's
    /// statistics.
    fn read_block(&mut self, block: &[f32]) {
        let zeros = self.residuals(block);
        self.silence(block, zeros);
        self.position += block.len() as u64;
        self.in_block = block.len();
        self.close_block();
    }

    /// Reads the block gathered in `partial`.
    fn read_partial(&mut self) {
        let partial = std::mem::take(&mut self.partial);
        self.read_block(&partial);
        self.partial = partial;
        self.partial.clear();
    }

    /// Residual statistics and the sum of `chunk` (one block) into the block accumulators;
    /// returns how many of its samples are digital zeros (|x| ≤ [`ZERO_TOLERANCE`]). Written as three simple passes
    /// (residuals into a scratch buffer, then two reductions in eight lanes), which the compiler
    /// vectorises, where one fused loop it did not.
    fn residuals(&mut self, chunk: &[f32]) -> usize {
        let n = chunk.len();
        let residual = &mut self.residual[..n];
        let [p1, p2] = self.previous;
        // The first two samples need the previous chunk's tail.
        if n >= 1 {
            residual[0] = (chunk[0] - 2.0 * p1 + p2).abs();
        }
        if n >= 2 {
            residual[1] = (chunk[1] - 2.0 * chunk[0] + p1).abs();
            for (((e, &x), &y), &z) in residual[2..]
                .iter_mut()
                .zip(&chunk[2..])
                .zip(&chunk[1..n - 1])
                .zip(&chunk[..n - 2])
            {
                *e = (x - 2.0 * y + z).abs();
            }
        }
        let (abs_sum, peak) = sum_and_max(residual);
        self.block_abs_sum += abs_sum;
        self.block_peak = self.block_peak.max(peak);
        let (sum, zeros) = sum_and_zeros(chunk);
        self.block_sum += f64::from(sum);
        self.previous = match n {
            0 => [p1, p2],
            1 => [chunk[0], p1],
            _ => [chunk[n - 1], chunk[n - 2]],
        };
        zeros
    }

    /// Runs of digital zeros in `chunk`, which starts at sample `self.position` and holds
    /// `zeros` digital zeros. Quiet audio has a sample near zero in most blocks, so the chunk is
    /// scanned sample by sample only where a long enough run can be: to end a run already open,
    /// and when the chunk holds at least a minimum run's worth of zeros; otherwise only the zeros
    /// at its end (a run that may go on) are counted.
    fn silence(&mut self, chunk: &[f32], zeros: usize) {
        let is_zero = |x: &f32| x.abs() <= ZERO_TOLERANCE;
        let mut start = 0;
        if self.zero_run > 0 {
            let ended = chunk.iter().position(|x| !is_zero(x));
            let Some(end) = ended else {
                self.zero_run += chunk.len() as u64;
                return;
            };
            self.zero_run += end as u64;
            self.close_run(self.position + end as u64);
            start = end;
        }
        let rest = &chunk[start..];
        if ((zeros - start) as u64) < self.min_silence_samples {
            self.zero_run = rest.iter().rev().take_while(|x| is_zero(x)).count() as u64;
            return;
        }
        for (n, x) in rest.iter().enumerate() {
            if is_zero(x) {
                self.zero_run += 1;
            } else {
                self.close_run(self.position + (start + n) as u64);
            }
        }
    }

    /// Ends the current zero run (if any) just before sample `end`.
    fn close_run(&mut self, end: u64) {
        if self.zero_run >= self.min_silence_samples {
            let start = end - self.zero_run;
            // A run from the clip's first sample is leading padding, not an insertion.
            if start > 0 {
                self.silence_run_count += 1;
                if self.silence_runs.len() < MAX_SILENCE_RUNS {
                    self.silence_runs.push((start, end));
                }
            }
        }
        self.zero_run = 0;
    }

    /// Closes the current block: residual statistics into the ring, DC into the two-sided means.
    fn close_block(&mut self) {
        let n = self.in_block.max(1) as f32;
        let ring = self.ring_mean.len() as u64;
        let slot = (self.blocks_done % ring) as usize;
        let mean = self.block_abs_sum / n;
        // The sorted window follows the ring: the block leaving it out, this one in.
        if self.blocks_done >= ring {
            let old = self.ring_mean[slot];
            if let Ok(at) = self.sorted.binary_search_by(|x| x.total_cmp(&old)) {
                self.sorted.remove(at);
            }
        }
        let at = self.sorted.partition_point(|x| x.total_cmp(&mean).is_lt());
        self.sorted.insert(at, mean);
        self.ring_mean[slot] = mean;
        self.ring_peak[slot] = self.block_peak;
        // The block's own scale without its peak sample: a click is one or two samples.
        self.ring_rest[slot] = (self.block_abs_sum - self.block_peak).max(0.0) / (n - 1.0).max(1.0);
        self.dc_sum += self.block_sum;
        self.dc_samples += self.in_block as u64;
        self.blocks_done += 1;
        self.in_block = 0;
        self.block_abs_sum = 0.0;
        self.block_peak = 0.0;
        self.block_sum = 0.0;
        if self.blocks_done > SCALE_NEIGHBOUR_BLOCKS as u64 {
            self.score_click(self.blocks_done - 1 - SCALE_NEIGHBOUR_BLOCKS as u64, true);
        }
        if self.blocks_done.is_multiple_of(DC_BLOCKS as u64) {
            self.close_dc_block();
        }
    }

    /// Pushes the click value of `block`, whose neighbours (as far as they exist) are in the ring.
    /// `window_is_sorted`: the sorted window holds exactly `block` and its neighbours (true while
    /// streaming: the window ends `SCALE_NEIGHBOUR_BLOCKS` after `block`; not for the last blocks
    /// of the clip, whose neighbourhoods are cut short).
    fn score_click(&mut self, block: u64, window_is_sorted: bool) {
        let ring = self.ring_mean.len() as u64;
        let slot = (block % ring) as usize;
        let neighbours = if window_is_sorted && self.sorted.len() > 1 {
            // The upper median of the window without the block's own value (a copy of it if the
            // value occurs twice: the same multiset either way), as select_nth gives it below.
            let own = self.ring_mean[slot];
            let rank = self
                .sorted
                .binary_search_by(|x| x.total_cmp(&own))
                .unwrap_or_else(|at| at);
            let middle = (self.sorted.len() - 1) / 2;
            if middle < rank {
                self.sorted[middle]
            } else {
                self.sorted[middle + 1]
            }
        } else {
            self.scratch.clear();
            let first = block.saturating_sub(SCALE_NEIGHBOUR_BLOCKS as u64);
            let last = (block + SCALE_NEIGHBOUR_BLOCKS as u64).min(self.blocks_done - 1);
            for j in first..=last {
                if j != block {
                    self.scratch.push(self.ring_mean[(j % ring) as usize]);
                }
            }
            median_in_place(&mut self.scratch).unwrap_or(MIN_SCALE)
        };
        let peak = self.ring_peak[slot];
        // A click stands out against its neighbours and against the rest of its own block; an
        // onset (a plosive after silence) stands out only against the silence before it.
        let scale = neighbours.max(self.ring_rest[slot]).max(MIN_SCALE);
        let value = peak / scale / CLICK_RATIO;
        if value >= 1.0 {
            self.clicks += 1;
        }
        self.track.push(value, 1.0);
    }

    /// Pushes the mean of the last [`DC_BLOCKS`] blocks into the two-sided DC means.
    fn close_dc_block(&mut self) {
        if self.dc_samples == 0 {
            return;
        }
        let mean = (self.dc_sum / self.dc_samples as f64) as f32;
        self.dc_sum = 0.0;
        self.dc_samples = 0;
        if let Some(boundary) = self.dc.push(&[mean], 1.0) {
            self.score_dc(boundary);
        }
    }

    /// Raises the value of the block that starts DC boundary `boundary` to the DC step there.
    /// Its click value is already in the track: the DC windows (1 s) reach further ahead than the
    /// click's neighbours (64 ms).
    fn score_dc(&mut self, boundary: u64) {
        let (left, left_n) = (self.dc.left_mean(0), self.dc.left_weight());
        let (right, right_n) = (self.dc.right_mean(0), self.dc.right_weight());
        let spread = DC_SPREAD_FACTOR * self.dc.pooled_variance(0).sqrt();
        let value = if left_n < 1.0 || right_n < 1.0 {
            0.0
        } else {
            ((right - left).abs() / spread.max(f64::from(DC_STEP))) as f32
        };
        let boundary = boundary * DC_BLOCKS as u64;
        if value >= 1.0 && !self.dc_above {
            self.dc_steps += 1;
        }
        self.dc_above = value >= 1.0;
        if let Some(v) = self.track.values.get_mut(boundary as usize) {
            *v = v.max(value);
        }
    }

    fn reset(&mut self) {
        self.previous = [0.0; 2];
        self.partial.clear();
        self.position = 0;
        self.in_block = 0;
        self.block_abs_sum = 0.0;
        self.block_peak = 0.0;
        self.block_sum = 0.0;
        self.blocks_done = 0;
        self.sorted.clear();
        self.dc.reset();
        self.dc_sum = 0.0;
        self.dc_samples = 0;
        self.zero_run = 0;
        self.silence_runs.clear();
        self.silence_run_count = 0;
        self.clicks = 0;
        self.dc_steps = 0;
        self.dc_above = false;
    }
}

/// The sum and the largest value of non-negative `values`, in eight independent lanes.
fn sum_and_max(values: &[f32]) -> (f32, f32) {
    let (mut sums, mut peaks) = ([0.0_f32; 8], [0.0_f32; 8]);
    let mut lanes = values.chunks_exact(8);
    for lane in &mut lanes {
        for l in 0..8 {
            sums[l] += lane[l];
            peaks[l] = if lane[l] > peaks[l] {
                lane[l]
            } else {
                peaks[l]
            };
        }
    }
    for &v in lanes.remainder() {
        sums[0] += v;
        peaks[0] = peaks[0].max(v);
    }
    (sums.iter().sum(), peaks.iter().fold(0.0, |m, &p| m.max(p)))
}

/// The sum of `values` and how many are digital zeros, in eight independent lanes.
fn sum_and_zeros(values: &[f32]) -> (f32, usize) {
    let (mut sums, mut zeros) = ([0.0_f32; 8], [0_u32; 8]);
    let mut lanes = values.chunks_exact(8);
    for lane in &mut lanes {
        for l in 0..8 {
            sums[l] += lane[l];
            zeros[l] += u32::from(lane[l].abs() <= ZERO_TOLERANCE);
        }
    }
    for &v in lanes.remainder() {
        sums[0] += v;
        zeros[0] += u32::from(v.abs() <= ZERO_TOLERANCE);
    }
    (sums.iter().sum(), zeros.iter().map(|&z| z as usize).sum())
}

fn new_track(block_len: usize, rate: f64) -> CueTrack {
    let step_s = block_len as f64 / rate;
    CueTrack::new(
        CueKey::Waveform,
        "threshold multiples",
        0.5 * step_s,
        step_s,
        SCALE,
    )
}

impl SampleCue for WaveformCue {
    fn sample_rate_hz(&self) -> u32 {
        self.rate_hz
    }

    fn push(&mut self, samples: &[f32]) {
        let blocks = samples.len() / self.block_len + 1;
        self.track.reserve(blocks);
        // Whole blocks are read in place, each in one go, so the sums (in lanes) come out the
        // same to the bit however the samples are split into pushes; only a block straddling
        // two pushes is gathered in `partial` first.
        let mut rest = samples;
        if !self.partial.is_empty() {
            let n = (self.block_len - self.partial.len()).min(rest.len());
            self.partial.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if self.partial.len() == self.block_len {
                self.read_partial();
            }
        }
        while rest.len() >= self.block_len {
            let (block, tail) = rest.split_at(self.block_len);
            self.read_block(block);
            rest = tail;
        }
        self.partial.extend_from_slice(rest);
    }

    fn finish(&mut self) -> CueTrack {
        if !self.partial.is_empty() {
            self.read_partial();
        }
        self.close_dc_block();
        // Blocks still waiting for their right-hand neighbours.
        let waiting = self.blocks_done.min(SCALE_NEIGHBOUR_BLOCKS as u64);
        for block in self.blocks_done - waiting..self.blocks_done {
            self.score_click(block, false);
        }
        while let Some(boundary) = self.dc.pad() {
            self.score_dc(boundary);
        }
        // A run still open at the end is trailing padding: not counted.
        self.zero_run = 0;
        let minutes = self.position as f64 / f64::from(self.rate_hz) / 60.0;
        let runs = self.silence_run_count;
        let gated = runs >= GATED_MIN_RUNS && runs as f64 > GATED_RUNS_PER_MINUTE * minutes;
        let mut track = std::mem::replace(
            &mut self.track,
            new_track(self.block_len, f64::from(self.rate_hz)),
        );
        if !gated {
            for &(start, end) in &self.silence_runs {
                for edge in [start, end] {
                    let block = (edge / self.block_len as u64) as usize;
                    if let Some(v) = track.values.get_mut(block) {
                        *v = v.max(SILENCE_EDGE_VALUE);
                    }
                }
            }
        }
        let note = if gated {
            format!(
                "{runs} runs of digital silence ({:.1} per minute): pauses look noise-gated, the \
                 runs are not scored",
                runs as f64 / minutes.max(1e-9)
            )
        } else {
            String::new()
        };
        track.usability = CueUsability::usable(note)
            .with_fact("clicks", self.clicks)
            .with_fact("dc_steps", self.dc_steps)
            .with_fact("silence_runs", runs)
            .with_fact("gated", gated);
        if self.position == 0 {
            track.abstain(CueUsability::unusable("no audio"));
        }
        self.reset();
        track
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The click values computed the slow, obvious way: residuals sample by sample, each block's
    /// neighbours sorted.
    fn brute_force_clicks(samples: &[f32], block_len: usize) -> Vec<f32> {
        let residual: Vec<f32> = (0..samples.len())
            .map(|n| {
                let at = |k: isize| if k < 0 { 0.0 } else { samples[k as usize] };
                let n = n as isize;
                (at(n) - 2.0 * at(n - 1) + at(n - 2)).abs()
            })
            .collect();
        let blocks: Vec<(f32, f32, f32)> = residual
            .chunks(block_len)
            .map(|b| {
                let sum: f32 = b.iter().sum();
                let peak = b.iter().copied().fold(0.0, f32::max);
                let n = b.len() as f32;
                (sum / n, peak, (sum - peak).max(0.0) / (n - 1.0).max(1.0))
            })
            .collect();
        (0..blocks.len())
            .map(|j| {
                let first = j.saturating_sub(SCALE_NEIGHBOUR_BLOCKS);
                let last = (j + SCALE_NEIGHBOUR_BLOCKS).min(blocks.len() - 1);
                let mut neighbours: Vec<f32> = (first..=last)
                    .filter(|&k| k != j)
                    .map(|k| blocks[k].0)
                    .collect();
                neighbours.sort_by(f32::total_cmp);
                let median = neighbours
                    .get(neighbours.len() / 2)
                    .copied()
                    .unwrap_or(MIN_SCALE);
                let (_, peak, rest) = blocks[j];
                peak / median.max(rest).max(MIN_SCALE) / CLICK_RATIO
            })
            .collect()
    }

    #[test]
    fn silence_runs_are_found_whole_for_any_chunking() {
        // At 16 kHz a run must last 80 samples (5 ms). Runs: leading padding (ignored), 500
        // samples across two blocks, 50 samples (too short), 100 samples from a block boundary
        // (1280 = 10 · 128), and trailing padding (ignored).
        let mut samples: Vec<f32> = (0..8000)
            .map(|n| 0.01 * ((n as f32) * 0.7).sin() + 0.02)
            .collect();
        for range in [
            0..200,
            1000..1500,
            3000..3050,
            1280 * 4..1280 * 4 + 100,
            7900..8000,
        ] {
            samples[range].fill(0.0);
        }
        for chunk in [1, 7, 128, 383, 8000] {
            let mut cue = WaveformCue::new(16_000).expect("valid");
            for part in samples.chunks(chunk) {
                cue.push(part);
            }
            let track = cue.finish();
            assert_eq!(track.usability.facts["silence_runs"], 2, "chunk {chunk}");
            let edges: Vec<usize> = (0..track.len())
                .filter(|&i| track.values[i] >= SILENCE_EDGE_VALUE)
                .collect();
            // Blocks of 128 samples: edges at samples 1000, 1500, 5120 and 5220.
            assert_eq!(edges, vec![7, 11, 40], "chunk {chunk}");
        }
    }

    #[test]
    fn click_values_match_a_brute_force_computation_for_any_chunking() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let samples: Vec<f32> = (0..40_000)
            .map(|n| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let noise = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                // Bursts of different levels, and a click now and then.
                let level = [0.01, 0.2, 0.05][(n / 3000) % 3];
                let click = if n % 7919 == 7000 { 0.5 } else { 0.0 };
                level * noise + click
            })
            .collect();
        let expected = brute_force_clicks(&samples, 128);
        let mut first: Option<Vec<f32>> = None;
        for chunk in [1, 7, 128, 1000, 40_000] {
            let mut cue = WaveformCue::new(16_000).expect("valid");
            for part in samples.chunks(chunk) {
                cue.push(part);
            }
            let track = cue.finish();
            assert_eq!(track.len(), expected.len());
            for (i, (&got, &want)) in track.values.iter().zip(&expected).enumerate() {
                // The track is the largest detector: the DC detector may raise a block, never
                // lower it; where a click dominates, the value is the click's. (Lane-wise sums
                // differ from sequential ones in the last bits.)
                let tolerance = 1e-4 * want.max(1.0);
                assert!(
                    got >= want - tolerance,
                    "chunk {chunk}, block {i}: {got} < {want}"
                );
                if want >= 0.5 {
                    assert!((got - want).abs() <= tolerance, "chunk {chunk}, block {i}");
                }
            }
            // However the samples arrive, the track is the same to the bit.
            match &first {
                None => first = Some(track.values),
                Some(values) => assert_eq!(&track.values, values, "chunk {chunk}"),
            }
        }
        // Of the five clicks, three fall in the loudest bursts, where 0.5 stays under the
        // threshold; the one in the quietest burst is well above it.
        assert!(
            expected.iter().filter(|&&v| v >= 1.0).count() == 1,
            "the clicks are found: {:?}",
            expected.iter().filter(|&&v| v >= 0.5).collect::<Vec<_>>()
        );
    }
}
