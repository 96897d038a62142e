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
use crate::cues::{CueKey, CueTrack, CueUsability, SampleCue};
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
            position: 0,
            in_block: 0,
            block_abs_sum: 0.0,
            block_peak: 0.0,
            block_sum: 0.0,
            ring_mean: vec![0.0; ring],
            ring_peak: vec![0.0; ring],
            ring_rest: vec![0.0; ring],
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

    /// Residual statistics and the sum of `chunk` (all inside one block) into the block
    /// accumulators, in one pass; returns the smallest |sample| of the chunk.
    fn residuals(&mut self, chunk: &[f32]) -> f32 {
        let [mut p1, mut p2] = self.previous;
        let mut smallest = f32::INFINITY;
        let mut sum = 0.0_f32;
        // The first two samples need the previous chunk's tail.
        let head = chunk.len().min(2);
        for &x in &chunk[..head] {
            let e = (x - 2.0 * p1 + p2).abs();
            self.block_abs_sum += e;
            self.block_peak = self.block_peak.max(e);
            smallest = smallest.min(x.abs());
            sum += x;
            p2 = p1;
            p1 = x;
        }
        if chunk.len() > 2 {
            // Eight independent lanes, so the compiler can vectorise.
            let (mut sums, mut peaks) = ([0.0_f32; 8], [0.0_f32; 8]);
            let (mut totals, mut smallests) = ([0.0_f32; 8], [f32::INFINITY; 8]);
            let (a, b, c) = (
                &chunk[2..],
                &chunk[1..chunk.len() - 1],
                &chunk[..chunk.len() - 2],
            );
            let whole = a.len() / 8 * 8;
            for ((x, y), z) in a[..whole]
                .chunks_exact(8)
                .zip(b[..whole].chunks_exact(8))
                .zip(c[..whole].chunks_exact(8))
            {
                for l in 0..8 {
                    let e = (x[l] - 2.0 * y[l] + z[l]).abs();
                    sums[l] += e;
                    peaks[l] = if e > peaks[l] { e } else { peaks[l] };
                    totals[l] += x[l];
                    let m = x[l].abs();
                    smallests[l] = if m < smallests[l] { m } else { smallests[l] };
                }
            }
            for ((&x, &y), &z) in a[whole..].iter().zip(&b[whole..]).zip(&c[whole..]) {
                let e = (x - 2.0 * y + z).abs();
                sums[0] += e;
                peaks[0] = peaks[0].max(e);
                totals[0] += x;
                smallests[0] = smallests[0].min(x.abs());
            }
            self.block_abs_sum += sums.iter().sum::<f32>();
            self.block_peak = peaks.iter().fold(self.block_peak, |m, &p| m.max(p));
            sum += totals.iter().sum::<f32>();
            smallest = smallests.iter().fold(smallest, |m, &p| m.min(p));
            p1 = chunk[chunk.len() - 1];
            p2 = chunk[chunk.len() - 2];
        }
        self.previous = [p1, p2];
        self.block_sum += f64::from(sum);
        smallest
    }

    /// Runs of digital zeros in `chunk`, which starts at sample `self.position`; `smallest` is
    /// the chunk's smallest |sample|.
    fn silence(&mut self, chunk: &[f32], smallest: f32) {
        if smallest > ZERO_TOLERANCE {
            self.close_run(self.position);
            return;
        }
        for (n, &x) in chunk.iter().enumerate() {
            if x.abs() <= ZERO_TOLERANCE {
                self.zero_run += 1;
            } else {
                self.close_run(self.position + n as u64);
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
        let slot = (self.blocks_done % self.ring_mean.len() as u64) as usize;
        self.ring_mean[slot] = self.block_abs_sum / n;
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
            self.score_click(self.blocks_done - 1 - SCALE_NEIGHBOUR_BLOCKS as u64);
        }
        if self.blocks_done.is_multiple_of(DC_BLOCKS as u64) {
            self.close_dc_block();
        }
    }

    /// Pushes the click value of `block`, whose neighbours (as far as they exist) are in the ring.
    fn score_click(&mut self, block: u64) {
        let ring = self.ring_mean.len() as u64;
        self.scratch.clear();
        let first = block.saturating_sub(SCALE_NEIGHBOUR_BLOCKS as u64);
        let last = (block + SCALE_NEIGHBOUR_BLOCKS as u64).min(self.blocks_done - 1);
        for j in first..=last {
            if j != block {
                self.scratch.push(self.ring_mean[(j % ring) as usize]);
            }
        }
        let neighbours = if self.scratch.is_empty() {
            MIN_SCALE
        } else {
            let middle = self.scratch.len() / 2;
            let (_, median, _) = self.scratch.select_nth_unstable_by(middle, f32::total_cmp);
            *median
        };
        let slot = (block % ring) as usize;
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
        if let Some(boundary) = self.dc.push(&[mean], &[1.0]) {
            self.score_dc(boundary);
        }
    }

    /// Raises the value of the block that starts DC boundary `boundary` to the DC step there.
    /// Its click value is already in the track: the DC windows (1 s) reach further ahead than the
    /// click's neighbours (64 ms).
    fn score_dc(&mut self, boundary: u64) {
        let (left, left_n) = self.dc.left(0);
        let (right, right_n) = self.dc.right(0);
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
        self.position = 0;
        self.in_block = 0;
        self.block_abs_sum = 0.0;
        self.block_peak = 0.0;
        self.block_sum = 0.0;
        self.blocks_done = 0;
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
        self.track.values.reserve(blocks);
        self.track.confidence.reserve(blocks);
        let mut rest = samples;
        while !rest.is_empty() {
            let n = (self.block_len - self.in_block).min(rest.len());
            let (chunk, tail) = rest.split_at(n);
            let smallest = self.residuals(chunk);
            self.silence(chunk, smallest);
            self.position += n as u64;
            self.in_block += n;
            rest = tail;
            if self.in_block == self.block_len {
                self.close_block();
            }
        }
    }

    fn finish(&mut self) -> CueTrack {
        if self.in_block > 0 {
            self.close_block();
        }
        self.close_dc_block();
        // Blocks still waiting for their right-hand neighbours.
        let waiting = self.blocks_done.min(SCALE_NEIGHBOUR_BLOCKS as u64);
        for block in self.blocks_done - waiting..self.blocks_done {
            self.score_click(block);
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
