//! Short-time Fourier transform into a log-magnitude spectrogram, whole or in blocks.
//!
//! Every later stage (fingerprints, cues, the picture) reads the one spectrogram that this module
//! computes (DESIGN.md, "Decode once, transform once"), so its conventions are a contract:
//!
//! - **Frames are centred.** Frame `k` is centred on sample `k · hop_samples`: the signal is
//!   zero-padded by `window_samples / 2` (rounded down) on the left, as librosa's `center=True`
//!   does, so frame `k` covers samples `k·hop − window/2 .. k·hop − window/2 + window` and its time
//!   is `k · hop_samples / sample_rate` seconds. Samples outside the signal are zeros.
//! - **The last frame** is the last one whose centre lies inside the signal: a signal of `n`
//!   samples has `ceil(n / hop_samples)` frames (none for an empty signal).
//! - **Bins.** The FFT size equals the window length (no zero padding: padding to a power of two
//!   would only interpolate the spectrum, while changing the bin spacing that other modules read
//!   from [`Spectrogram::bin_hz`]; realfft plans any length). There are `window/2 + 1` bins, bin
//!   `b` at `b · sample_rate / window_samples` Hz.
//! - **Level.** Values are dB re full scale: **0 dB is a sine of amplitude 1.0 whose frequency is
//!   a bin centre**, read in that bin (the magnitude is divided by the window's coherent gain
//!   `Σw/2`, Harris 1978, §3). Bin 0 (and the Nyquist bin of an even window) is divided by `Σw`
//!   instead, so a constant of value `a` reads `20·log10 |a|` there. Magnitudes below
//!   [`Spectrogram::FLOOR_DB`] read as the floor, so silence gives a finite value.
#![forbid(unsafe_code)]

use std::f64::consts::PI;
use std::sync::Arc;

use ndarray::Array2;
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// dB per doubling of power: 10 · log10 2.
const DB_PER_OCTAVE_OF_POWER: f32 = 10.0 * std::f32::consts::LOG10_2;

/// How many input samples a [`SpectrogramStream`] copies into its buffer at a time. Bounds the
/// buffer at `window_samples + STREAM_CHUNK_SAMPLES` whatever slice the caller pushes; with 2^14,
/// moving the unconsumed tail (under one window) to the front after each chunk copies at most
/// `window_samples / 2^14` extra per sample, 3 % for the default window.
const STREAM_CHUNK_SAMPLES: usize = 1 << 14;

/// The window applied to each frame before the FFT.
///
/// All windows are *periodic* (DFT-even, Harris 1978, §2): `w[n]` for `n` in `0..N` uses the
/// period `N`, not `N − 1`, so that overlapped windows at hops of `N/4` or `N/2` sum to a constant
/// (for Hann) and the peak sits on the frame's centre sample `N/2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Window {
    /// Hann (raised cosine): first side lobe −31 dB, main lobe ±2 bins. The default: a good
    /// balance of frequency resolution and leakage for speech.
    #[default]
    Hann,
    /// Hamming (0.54 − 0.46 cos): first side lobe −43 dB, but side lobes fall slowly.
    Hamming,
    /// 4-term Blackman–Harris (Harris 1978, table 1, "−92 dB"): side lobes below −92 dB, main lobe
    /// ±4 bins. For looking at faint components (mains hum, noise floors) next to loud ones.
    BlackmanHarris,
    /// Rectangular (no window): the narrowest main lobe, −13 dB side lobes. For tests and
    /// for signals whose frequencies are known to sit on bin centres.
    Rectangular,
}

impl Window {
    /// The periodic window of `len` samples, peak 1.0 (for Hann and Hamming, at `len / 2`).
    fn samples(self, len: usize) -> Vec<f32> {
        // Cosine-sum coefficients from Harris 1978, "On the use of windows for harmonic analysis
        // with the discrete Fourier transform", Proc. IEEE 66(1), table 1.
        let coefficients: &[f64] = match self {
            Window::Hann => &[0.5, 0.5],
            Window::Hamming => &[0.54, 0.46],
            Window::BlackmanHarris => &[0.35875, 0.48829, 0.14128, 0.01168],
            Window::Rectangular => &[1.0],
        };
        (0..len)
            .map(|n| {
                let phase = 2.0 * PI * n as f64 / len as f64;
                let value: f64 = coefficients
                    .iter()
                    .enumerate()
                    .map(|(k, a)| {
                        let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
                        sign * a * (k as f64 * phase).cos()
                    })
                    .sum();
                value as f32
            })
            .collect()
    }
}

/// How to cut a signal into frames: window, window length and hop.
///
/// The default, 512-sample Hann windows every 128 samples, is meant for speech at 16 kHz: 32 ms
/// windows are within the 20–40 ms over which speech is quasi-stationary (Rabiner & Schafer,
/// *Theory and Applications of Digital Speech Processing*, 2011, ch. 6) and give 31.25 Hz bins,
/// fine enough to separate the harmonics of a 100 Hz voice; an 8 ms hop (75 % overlap, where
/// periodic Hann sums to a constant) resolves splice times to well under a syllable.
///
/// Deserialising fills missing fields from the default, so a configuration file can name only
/// what it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpectrogramConfig {
    /// Window length and FFT size, in samples; 2 ..= [`Self::MAX_WINDOW_SAMPLES`].
    pub window_samples: usize,
    /// Distance between frame centres, in samples; 1 ..= `window_samples`.
    pub hop_samples: usize,
    /// The window applied to each frame.
    pub window: Window,
}

impl Default for SpectrogramConfig {
    fn default() -> Self {
        SpectrogramConfig {
            window_samples: 512,
            hop_samples: 128,
            window: Window::Hann,
        }
    }
}

impl SpectrogramConfig {
    /// The largest accepted window, in samples. Configurations may come from a user's JSON file, and
    /// the window sizes every buffer; 2^20 samples is 65 s at 16 kHz, far past any useful STFT window.
    pub const MAX_WINDOW_SAMPLES: usize = 1 << 20;

    /// Checks the configuration for a signal at `sample_rate` Hz.
    ///
    /// # Errors
    /// [`Error::Config`] when `window_samples` is below 2 or above [`Self::MAX_WINDOW_SAMPLES`],
    /// `hop_samples` is 0 or larger than `window_samples`, or `sample_rate` is 0.
    pub fn validate(&self, sample_rate: u32) -> Result<()> {
        if self.window_samples < 2 || self.window_samples > Self::MAX_WINDOW_SAMPLES {
            return Err(Error::config(
                "spectrogram.window_samples",
                format!(
                    "{} is outside 2..={}",
                    self.window_samples,
                    Self::MAX_WINDOW_SAMPLES
                ),
            ));
        }
        if self.hop_samples == 0 || self.hop_samples > self.window_samples {
            return Err(Error::config(
                "spectrogram.hop_samples",
                format!(
                    "{} is outside 1..={} (window_samples)",
                    self.hop_samples, self.window_samples
                ),
            ));
        }
        if sample_rate == 0 {
            return Err(Error::config(
                "spectrogram.sample_rate",
                "must be above 0 Hz",
            ));
        }
        Ok(())
    }

    /// The number of frequency bins per frame: `window_samples / 2 + 1`.
    pub fn bins(&self) -> usize {
        self.window_samples / 2 + 1
    }

    /// The number of frames of a signal of `signal_samples` samples: `ceil(signal_samples /
    /// hop_samples)`, the frames whose centre lies inside the signal (0 for an empty signal, or if
    /// `hop_samples` is 0).
    pub fn frame_count(&self, signal_samples: u64) -> u64 {
        match self.hop_samples as u64 {
            0 => 0,
            hop => signal_samples.div_ceil(hop),
        }
    }
}

/// A log-magnitude spectrogram, or one block of consecutive frames of one.
///
/// `data[[i, b]]` is the level in dB re full scale (see the module docs and [`Self::FLOOR_DB`]) of
/// bin `b` in frame `first_frame + i`, centred on sample `(first_frame + i) · hop_samples`.
#[derive(Debug, PartialEq)]
pub struct Spectrogram {
    /// The sample rate of the analysed signal, in Hz.
    pub sample_rate: u32,
    /// The framing that produced it.
    pub config: SpectrogramConfig,
    /// The index of the first row in the whole signal's frame sequence (0 for a whole
    /// spectrogram or the first block of a stream).
    pub first_frame: u64,
    /// Levels in dB, shape (frames × bins), rows in time order.
    pub data: Array2<f32>,
}

impl Clone for Spectrogram {
    fn clone(&self) -> Self {
        Spectrogram {
            sample_rate: self.sample_rate,
            config: self.config,
            first_frame: self.first_frame,
            data: self.data.clone(),
        }
    }

    /// Keeps `self`'s allocation when it is large enough (ndarray's `clone_from` does): a block
    /// handed to another thread is copied into one that thread has finished with.
    fn clone_from(&mut self, source: &Self) {
        self.sample_rate = source.sample_rate;
        self.config = source.config;
        self.first_frame = source.first_frame;
        self.data.clone_from(&source.data);
    }
}

impl Spectrogram {
    /// The level given to magnitudes below it, and so to silence, in dB re full scale.
    ///
    /// −120 dB lies 22 dB under the quantisation noise of 16-bit audio (6.02·16 + 1.76 ≈ 98 dB
    /// below a full-scale sine, Bennett 1948), so real recordings stay above it while digital
    /// silence gets a finite value that arithmetic on levels can use.
    pub const FLOOR_DB: f32 = -120.0;

    /// The spectrogram of a whole signal: mono samples in [−1, 1] at `sample_rate` Hz.
    ///
    /// Holds `ceil(samples.len() / hop_samples) × bins` values; for long signals use
    /// [`SpectrogramStream`], which yields the same values in blocks.
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration is invalid ([`SpectrogramConfig::validate`]);
    /// [`Error::Limit`] when the result would not fit in memory's address space.
    pub fn compute(
        samples: &[f32],
        sample_rate: u32,
        config: &SpectrogramConfig,
    ) -> Result<Spectrogram> {
        config.validate(sample_rate)?;
        let mut transform = FrameTransform::new(config);
        let frames_u64 = config.frame_count(samples.len() as u64);
        let bins = config.bins();
        let values = usize::try_from(frames_u64)
            .ok()
            .and_then(|frames| frames.checked_mul(bins));
        let Some(values) = values else {
            return Err(Error::limit(
                "spectrogram values (frames × bins)",
                usize::MAX as u64,
                frames_u64.saturating_mul(bins as u64),
            ));
        };
        let mut levels_db = vec![0.0_f32; values];
        let half = config.window_samples / 2;
        for (frame, row) in levels_db.chunks_exact_mut(bins).enumerate() {
            // Frame `frame` covers signal samples `start .. start + window`, where `start` may lie
            // before 0 (the centring pad) and the end past the signal (zeros).
            let start = (frame * config.hop_samples) as i64 - half as i64;
            let lead_zeros = (-start).max(0) as usize;
            let from = start.max(0) as usize;
            let to = (start + config.window_samples as i64).min(samples.len() as i64) as usize;
            transform.process_into(lead_zeros, &samples[from..to], row);
        }
        let frames = values / bins;
        let data = Array2::from_shape_vec((frames, bins), levels_db)
            .expect("the buffer holds exactly frames × bins values");
        Ok(Spectrogram {
            sample_rate,
            config: *config,
            first_frame: 0,
            data,
        })
    }

    /// The centre frequency of `bin`, in Hz: `bin · sample_rate / window_samples`.
    pub fn bin_hz(&self, bin: usize) -> f64 {
        bin as f64 * f64::from(self.sample_rate) / self.config.window_samples as f64
    }

    /// The sample index on which frame `frame` (counted in the whole signal, not in this block)
    /// is centred: `frame · hop_samples`.
    pub fn frame_sample(&self, frame: u64) -> u64 {
        frame * self.config.hop_samples as u64
    }

    /// The time of frame `frame` (counted in the whole signal, not in this block), in seconds:
    /// `frame · hop_samples / sample_rate`, the time of its centre sample.
    pub fn frame_time_s(&self, frame: u64) -> f64 {
        self.frame_sample(frame) as f64 / f64::from(self.sample_rate)
    }

    /// The number of frames (rows) held here.
    pub fn frames(&self) -> usize {
        self.data.nrows()
    }

    /// The number of bins (columns) per frame: `window_samples / 2 + 1`.
    pub fn bins(&self) -> usize {
        self.data.ncols()
    }

    /// One past the index of the last frame held here: `first_frame + frames()`.
    pub fn end_frame(&self) -> u64 {
        self.first_frame + self.frames() as u64
    }
}

/// A streaming STFT: push mono samples in blocks of any size, receive the spectrogram in blocks
/// of at most `block_frames` frames.
///
/// The blocks, concatenated, equal [`Spectrogram::compute`] on the whole signal, bit for bit
/// (both run the same per-frame code on the same samples). Memory is bounded whatever the input
/// length: one block, the window, and a buffer of `window_samples + 16 384` samples. The FFT plan,
/// window and scratch buffers are made once in [`SpectrogramStream::new`]; after the first block,
/// pushing allocates nothing.
///
/// Blocks are handed to a sink closure by reference, and the block's buffer is reused for the next
/// one: a sink that keeps a block clones it (or the part it needs). A sink's error stops the
/// `push` or `finish` and is returned; the block it was given is not sent again, and the stream
/// stays usable.
///
/// ```
/// use clip_provenance::{Spectrogram, SpectrogramConfig, SpectrogramStream};
///
/// let config = SpectrogramConfig::default();
/// let tone: Vec<f32> = (0..16_000).map(|n| (n as f32 * 0.1).sin()).collect();
/// let mut stream = SpectrogramStream::new(16_000, &config, 50)?;
/// let mut frames = 0;
/// for chunk in tone.chunks(1000) {
///     stream.push(chunk, |block: &Spectrogram| {
///         frames += block.frames();
///         Ok(())
///     })?;
/// }
/// stream.finish(|block: &Spectrogram| {
///     frames += block.frames();
///     Ok(())
/// })?;
/// assert_eq!(frames, 125); // ceil(16 000 / 128)
/// # Ok::<(), clip_provenance::Error>(())
/// ```
pub struct SpectrogramStream {
    sample_rate: u32,
    config: SpectrogramConfig,
    transform: FrameTransform,
    block_frames: usize,
    /// Signal samples from `buffer_start` on; always begins at or before the next frame's start.
    buffer: Vec<f32>,
    /// The signal index of `buffer[0]`.
    buffer_start: u64,
    /// Samples pushed since the start (or the last `finish`).
    pushed_samples: u64,
    /// The frame to compute next.
    next_frame: u64,
    /// The block being filled, row-major, `block_frames × bins` capacity.
    block: Vec<f32>,
    /// Levels are computed for bins below this one; the others read [`Spectrogram::FLOOR_DB`].
    computed_bins: usize,
}

impl SpectrogramStream {
    /// The largest block a [`SpectrogramStream`] accepts, in values (frames × bins). A block is a
    /// working buffer; 2^26 `f32` values are 256 MiB, well inside the 400 MB that DESIGN.md budgets
    /// for analysing a 3-hour clip, and typical blocks (a few hundred frames) are far smaller.
    pub const MAX_BLOCK_VALUES: usize = 1 << 26;

    /// A stream for a signal at `sample_rate` Hz, emitting blocks of at most `block_frames` frames.
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration is invalid ([`SpectrogramConfig::validate`]), when
    /// `block_frames` is 0, or when a block would hold more than [`Self::MAX_BLOCK_VALUES`] values.
    pub fn new(
        sample_rate: u32,
        config: &SpectrogramConfig,
        block_frames: usize,
    ) -> Result<SpectrogramStream> {
        config.validate(sample_rate)?;
        let bins = config.bins();
        if block_frames == 0 || block_frames.saturating_mul(bins) > Self::MAX_BLOCK_VALUES {
            return Err(Error::config(
                "spectrogram stream block_frames",
                format!(
                    "{block_frames} is outside 1..={} ({} values / {bins} bins)",
                    Self::MAX_BLOCK_VALUES / bins,
                    Self::MAX_BLOCK_VALUES
                ),
            ));
        }
        Ok(SpectrogramStream {
            sample_rate,
            config: *config,
            transform: FrameTransform::new(config),
            block_frames,
            buffer: Vec::with_capacity(config.window_samples + STREAM_CHUNK_SAMPLES),
            buffer_start: 0,
            pushed_samples: 0,
            next_frame: 0,
            block: Vec::with_capacity(block_frames * bins),
            computed_bins: bins,
        })
    }

    /// Computes levels only up to bin `highest_bin` (inclusive); the bins above read
    /// [`Spectrogram::FLOOR_DB`]. For a consumer that reads a low band only (the fingerprint
    /// reads up to 4 kHz of the 8 kHz at 16 kHz), this skips half of the per-bin work; the
    /// bins it reads are the same to the bit.
    #[must_use]
    pub fn with_levels_up_to_bin(mut self, highest_bin: usize) -> SpectrogramStream {
        self.computed_bins = (highest_bin + 1).min(self.config.bins());
        self
    }

    /// Appends `samples` to the signal, handing every block that fills up to `sink`.
    ///
    /// # Errors
    /// Whatever `sink` returns; the stream stays usable.
    pub fn push<F>(&mut self, samples: &[f32], mut sink: F) -> Result<()>
    where
        F: FnMut(&Spectrogram) -> Result<()>,
    {
        for chunk in samples.chunks(STREAM_CHUNK_SAMPLES) {
            self.buffer.extend_from_slice(chunk);
            self.pushed_samples += chunk.len() as u64;
            // A frame can be computed once its whole window has arrived.
            let window = self.config.window_samples as i64;
            while self.frame_start(self.next_frame) + window <= self.pushed_samples as i64 {
                self.emit_frame(&mut sink)?;
            }
            self.drop_consumed_samples();
        }
        Ok(())
    }

    /// Ends the signal: computes the remaining frames (zero-padded past the end), hands them to
    /// `sink` in blocks of at most `block_frames`, and resets the stream for a new signal, keeping
    /// its plan and buffers.
    ///
    /// # Errors
    /// Whatever `sink` returns; the stream is reset all the same.
    pub fn finish<F>(&mut self, mut sink: F) -> Result<()>
    where
        F: FnMut(&Spectrogram) -> Result<()>,
    {
        let result = self.flush_tail(&mut sink);
        self.reset();
        result
    }

    /// Forgets the signal pushed so far (including frames not yet handed out), ready for a new
    /// one, keeping the plan and buffers.
    pub fn reset(&mut self) {
        self.buffer.clear();
        self.buffer_start = 0;
        self.pushed_samples = 0;
        self.next_frame = 0;
        self.block.clear();
    }

    /// Samples pushed since the stream was made or last finished.
    pub fn pushed_samples(&self) -> u64 {
        self.pushed_samples
    }

    /// Frames computed so far (handed out or waiting in the current block).
    pub fn computed_frames(&self) -> u64 {
        self.next_frame
    }

    fn flush_tail<F>(&mut self, sink: &mut F) -> Result<()>
    where
        F: FnMut(&Spectrogram) -> Result<()>,
    {
        let frames = self.config.frame_count(self.pushed_samples);
        while self.next_frame < frames {
            self.emit_frame(sink)?;
        }
        if !self.block.is_empty() {
            self.emit_block(sink)?;
        }
        Ok(())
    }

    /// The signal index where frame `frame`'s window starts (negative inside the left pad).
    fn frame_start(&self, frame: u64) -> i64 {
        (frame * self.config.hop_samples as u64) as i64 - (self.config.window_samples / 2) as i64
    }

    /// Computes frame `next_frame` from the buffer into the block; hands the block out when full.
    fn emit_frame<F>(&mut self, sink: &mut F) -> Result<()>
    where
        F: FnMut(&Spectrogram) -> Result<()>,
    {
        let start = self.frame_start(self.next_frame);
        let end = (start + self.config.window_samples as i64).min(self.pushed_samples as i64);
        let lead_zeros = (-start).max(0) as usize;
        let from = (start.max(0) as u64 - self.buffer_start) as usize;
        let to = (end as u64 - self.buffer_start) as usize;
        let bins = self.config.bins();
        let row_start = self.block.len();
        self.block.resize(row_start + bins, 0.0);
        let (computed, floor) = self.block[row_start..].split_at_mut(self.computed_bins);
        self.transform
            .process_into(lead_zeros, &self.buffer[from..to], computed);
        floor.fill(Spectrogram::FLOOR_DB);
        self.next_frame += 1;
        if self.block.len() == self.block_frames * bins {
            self.emit_block(sink)?;
        }
        Ok(())
    }

    /// Hands the current block to `sink` and takes its buffer back for the next block.
    fn emit_block<F>(&mut self, sink: &mut F) -> Result<()>
    where
        F: FnMut(&Spectrogram) -> Result<()>,
    {
        let bins = self.config.bins();
        let frames = self.block.len() / bins;
        let data = Array2::from_shape_vec((frames, bins), std::mem::take(&mut self.block))
            .expect("the block holds whole rows of `bins` values");
        let block = Spectrogram {
            sample_rate: self.sample_rate,
            config: self.config,
            first_frame: self.next_frame - frames as u64,
            data,
        };
        let result = sink(&block);
        let (mut buffer, _) = block.data.into_raw_vec_and_offset();
        buffer.clear();
        self.block = buffer;
        result
    }

    /// Drops buffered samples that lie before the next frame's window.
    fn drop_consumed_samples(&mut self) {
        let keep_from = self.frame_start(self.next_frame).max(0) as u64;
        let drop = (keep_from.saturating_sub(self.buffer_start) as usize).min(self.buffer.len());
        self.buffer.drain(..drop);
        self.buffer_start += drop as u64;
    }
}

/// The per-frame work shared by [`Spectrogram::compute`] and [`SpectrogramStream`], so both give
/// identical values: window, FFT, level in dB. Plan and buffers are made once.
struct FrameTransform {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    /// Per-bin factor from squared magnitude to power re a full-scale sine (see the module docs).
    power_scale: Vec<f32>,
    /// [`Spectrogram::FLOOR_DB`] as a power ratio.
    floor_power: f32,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
}

impl FrameTransform {
    fn new(config: &SpectrogramConfig) -> FrameTransform {
        let len = config.window_samples;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(len);
        let window = config.window.samples(len);
        let window_sum: f64 = window.iter().map(|&w| f64::from(w)).sum();
        let bins = config.bins();
        let power_scale = (0..bins)
            .map(|bin| {
                // A sine of amplitude a on a bin centre gives |X| = a·Σw/2 there; a constant a
                // gives |X[0]| = a·Σw (and likewise an alternating ±a at Nyquist).
                let is_edge = bin == 0 || (len.is_multiple_of(2) && bin == len / 2);
                let gain = if is_edge {
                    window_sum
                } else {
                    window_sum / 2.0
                };
                (1.0 / (gain * gain)) as f32
            })
            .collect();
        FrameTransform {
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
            window,
            power_scale,
            floor_power: 10f32.powf(Spectrogram::FLOOR_DB / 10.0),
        }
    }

    /// Levels in dB of the frame made of `lead_zeros` zeros, then `samples`, then zeros up to the
    /// window length, into `levels_db` (its first bins, at most `bins`).
    fn process_into(&mut self, lead_zeros: usize, samples: &[f32], levels_db: &mut [f32]) {
        let (head, rest) = self.input.split_at_mut(lead_zeros);
        head.fill(0.0);
        let (body, tail) = rest.split_at_mut(samples.len());
        for ((x, &s), &w) in body.iter_mut().zip(samples).zip(&self.window[lead_zeros..]) {
            *x = s * w;
        }
        tail.fill(0.0);
        self.fft
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .expect("buffers were made by the plan, so their lengths match it");
        for ((level, c), &scale) in levels_db
            .iter_mut()
            .zip(&self.spectrum)
            .zip(&self.power_scale)
        {
            let power = c.norm_sqr() * scale;
            // Written as comparisons so that silence reads exactly FLOOR_DB, a NaN power (from
            // NaN samples) reads as the floor rather than spreading, and an infinite one as
            // infinity. 10 · log10 p as (10 · log10 2) · log2 p, the logarithm inline (a call to
            // glibc's log2f per bin was a tenth of an ingest's time).
            let db = DB_PER_OCTAVE_OF_POWER * log2_finite(power);
            *level = if power > self.floor_power {
                if power <= f32::MAX { db } else { f32::INFINITY }
            } else {
                Spectrogram::FLOOR_DB
            };
        }
    }
}

/// `log2 x` of a positive, normal, finite `x`, within 1e-5 of the exact value (single precision's
/// rounding of a result near ±127); other inputs give a finite number of no meaning (the caller
/// selects). Written without calls or branches so that a
/// loop over a frame's bins vectorises. `x = m · 2^e` with `m` moved into `[√½, √2)`, and
/// `ln m = 2 atanh t = 2 (t + t³/3 + t⁵/5 + …)` with `t = (m − 1)/(m + 1)`, `|t| ≤ 0.172`: the
/// terms past `t⁹/9` are below 1e-9 (Abramowitz & Stegun 4.1.28).
#[inline]
fn log2_finite(x: f32) -> f32 {
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32 - 127;
    let mantissa = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let high = mantissa > std::f32::consts::SQRT_2;
    let m = if high { mantissa * 0.5 } else { mantissa };
    let exponent = exponent + i32::from(high);
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let series = 1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0))));
    exponent as f32 + 2.0 * std::f32::consts::LOG2_E * t * series
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_finite_agrees_with_the_library_over_the_normal_range() {
        // Every 99 037th float (97 · 1021) from the smallest normal to the largest finite one,
        // and around powers of two and √2 where the range reduction switches.
        let mut worst = 0.0f32;
        let mut check = |x: f32| {
            let err = (log2_finite(x) - f64::from(x).log2() as f32).abs();
            worst = worst.max(err);
        };
        let mut bits = f32::MIN_POSITIVE.to_bits();
        while bits < f32::MAX.to_bits() {
            check(f32::from_bits(bits));
            bits += 97 * 1021;
        }
        for e in -126..128 {
            let p = 2f32.powi(e);
            for x in [
                p,
                p * std::f32::consts::SQRT_2,
                f32::from_bits(p.to_bits() - 1),
            ] {
                if x.is_normal() {
                    check(x);
                }
            }
        }
        check(f32::MAX);
        assert!(worst < 1e-5, "worst error {worst}");
    }

    #[test]
    fn window_hann_periodic_peaks_at_centre_and_starts_at_zero() {
        let w = Window::Hann.samples(8);
        assert_eq!(w[0], 0.0);
        assert!((w[4] - 1.0).abs() < 1e-7);
        // Periodic: symmetric around N/2, so w[1] == w[7].
        assert!((w[1] - w[7]).abs() < 1e-7);
    }

    #[test]
    fn validate_bad_fields_name_the_field() {
        let bad = [
            (1, 1, "window_samples"),
            (
                SpectrogramConfig::MAX_WINDOW_SAMPLES + 1,
                1,
                "window_samples",
            ),
            (512, 0, "hop_samples"),
            (512, 513, "hop_samples"),
        ];
        for (window_samples, hop_samples, field) in bad {
            let config = SpectrogramConfig {
                window_samples,
                hop_samples,
                window: Window::Hann,
            };
            match config.validate(16_000) {
                Err(Error::Config { field: f, .. }) => assert!(f.ends_with(field), "{f}"),
                other => panic!("{window_samples}/{hop_samples}: {other:?}"),
            }
        }
        assert!(matches!(
            SpectrogramConfig::default().validate(0),
            Err(Error::Config { .. })
        ));
    }

    #[test]
    fn frame_count_follows_centre_convention() {
        let config = SpectrogramConfig::default();
        assert_eq!(config.frame_count(0), 0);
        assert_eq!(config.frame_count(1), 1);
        assert_eq!(config.frame_count(128), 1);
        assert_eq!(config.frame_count(129), 2);
        assert_eq!(config.frame_count(1000), 8);
    }

    #[test]
    fn stream_buffer_never_grows_past_its_reservation() {
        let config = SpectrogramConfig::default();
        let mut stream = SpectrogramStream::new(16_000, &config, 7).unwrap();
        let capacity = stream.buffer.capacity();
        let signal = vec![0.25_f32; 100_000];
        stream.push(&signal, |_| Ok(())).unwrap();
        stream.push(&signal[..3], |_| Ok(())).unwrap();
        assert_eq!(stream.buffer.capacity(), capacity);
        assert!(stream.buffer.len() < config.window_samples);
    }
}
