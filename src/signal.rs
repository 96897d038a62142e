//! From decoded audio to the analysis signal: mono mix and resampling to an analysis rate.
//!
//! Every later stage reads one mono signal at a fixed rate, so that spectrogram bins, fingerprint
//! hashes and cue tracks mean the same thing whatever the file's native rate and layout were.
//! Resampling uses rubato's synchronous FFT resampler (fixed ratio, the quality of a long sinc
//! filter at a fraction of its cost), in chunks, so memory does not grow with the input.
#![forbid(unsafe_code)]

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler as _};

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::container::ContainerFacts;
use crate::decode::{AudioInfo, AudioReader, MAX_SAMPLE_RATE_HZ};
use crate::error::{Error, Result};

/// Default analysis rate in Hz. 16 kHz keeps the speech band (up to 8 kHz) where fingerprints and
/// most splice cues live, and is the rate of most of the speech corpus; codec-trace cues that need
/// the band above 8 kHz read their own view.
pub const DEFAULT_ANALYSIS_RATE_HZ: u32 = 16_000;

/// Input frames per resampler call: about 64 ms at 16 kHz, small enough to keep the resampler's
/// delay and buffers small, large enough that the FFTs are efficient (rubato's README suggests a
/// few hundred to a few thousand frames).
const RESAMPLER_CHUNK_FRAMES: usize = 1024;

/// Appends the mono mix (the mean of the channels) of `interleaved` to `out`.
pub fn mix_to_mono(interleaved: &[f32], channels: u16, out: &mut Vec<f32>) {
    match channels {
        0 => {}
        1 => out.extend_from_slice(interleaved),
        n => {
            let scale = 1.0 / f32::from(n);
            out.extend(
                interleaved
                    .chunks_exact(usize::from(n))
                    .map(|frame| frame.iter().sum::<f32>() * scale),
            );
        }
    }
}

/// A streaming mono resampler with a fixed ratio.
///
/// Push samples in blocks of any size; the output is the input resampled, with the resampler's
/// delay removed, so output sample `k` lies at input time `k · in_hz / out_hz`. After
/// [`MonoResampler::finish`] the output holds `round(input_len · out_hz / in_hz)` samples.
pub struct MonoResampler {
    inner: Option<Fft<f32>>,
    in_hz: u32,
    out_hz: u32,
    /// Input waiting for a full chunk.
    pending: Vec<f32>,
    /// Input frames per resampler call.
    chunk_in: usize,
    /// Scratch for one chunk's output.
    chunk_out: Vec<f32>,
    /// Output samples still to drop (the resampler's delay).
    delay_remaining: usize,
    input_total: u64,
    output_total: u64,
}

impl MonoResampler {
    /// A resampler from `in_hz` to `out_hz`; equal rates pass samples through unchanged.
    ///
    /// # Errors
    /// [`Error::Config`] when a rate is 0 or above [`MAX_SAMPLE_RATE_HZ`].
    pub fn new(in_hz: u32, out_hz: u32) -> Result<MonoResampler> {
        for (field, hz) in [("input rate", in_hz), ("output rate", out_hz)] {
            if hz == 0 || hz > MAX_SAMPLE_RATE_HZ {
                return Err(Error::config(
                    field,
                    format!("{hz} Hz is outside 1..={MAX_SAMPLE_RATE_HZ}"),
                ));
            }
        }
        let inner = if in_hz == out_hz {
            None
        } else {
            let fft = Fft::new(
                in_hz as usize,
                out_hz as usize,
                RESAMPLER_CHUNK_FRAMES,
                1,
                FixedSync::Both,
            )
            .map_err(|e| Error::config("resampler", e.to_string()))?;
            Some(fft)
        };
        let delay_remaining = inner.as_ref().map_or(0, |r| r.output_delay());
        let chunk_out = vec![0.0; inner.as_ref().map_or(0, |r| r.output_frames_max())];
        let chunk_in = inner
            .as_ref()
            .map_or(RESAMPLER_CHUNK_FRAMES, |r| r.input_frames_next());
        Ok(MonoResampler {
            inner,
            in_hz,
            out_hz,
            pending: Vec::with_capacity(chunk_in),
            chunk_in,
            chunk_out,
            delay_remaining,
            input_total: 0,
            output_total: 0,
        })
    }

    /// Resamples `input`, appending what is ready to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) {
        self.input_total += input.len() as u64;
        if self.inner.is_none() {
            self.output_total += input.len() as u64;
            out.extend_from_slice(input);
            return;
        }
        let mut rest = input;
        while !rest.is_empty() {
            let take = (self.chunk_in - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == self.chunk_in {
                self.process_pending(None, out);
            }
        }
    }

    /// Flushes the input still held and the resampler's delay line, appending to `out`.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        if self.inner.is_none() {
            return;
        }
        let expected = (self.input_total as u128 * u128::from(self.out_hz)
            + u128::from(self.in_hz) / 2)
            / u128::from(self.in_hz);
        let expected = expected as u64;
        // Feed partial then empty chunks until the delayed output has all come out.
        let mut guard = 0;
        while self.output_total < expected && guard < 64 {
            let partial = self.pending.len();
            self.pending.resize(self.chunk_in, 0.0);
            self.process_pending(Some(partial), out);
            guard += 1;
        }
        if self.output_total > expected {
            let excess = (self.output_total - expected) as usize;
            out.truncate(out.len().saturating_sub(excess));
            self.output_total = expected;
        }
    }

    fn process_pending(&mut self, partial_len: Option<usize>, out: &mut Vec<f32>) {
        let resampler = self
            .inner
            .as_mut()
            .expect("process_pending is called only when resampling");
        let frames_in = self.pending.len();
        let input = InterleavedSlice::new(&self.pending[..], 1, frames_in)
            .expect("a mono buffer fits its length");
        let frames_out = self.chunk_out.len();
        let mut output = InterleavedSlice::new_mut(&mut self.chunk_out[..], 1, frames_out)
            .expect("a mono buffer fits its length");
        let indexing = partial_len.map(|n| Indexing {
            partial_len: Some(n),
            ..Indexing::default()
        });
        let (_, produced) = resampler
            .process_into_buffer(&input, &mut output, indexing.as_ref())
            .expect("chunk sizes follow input_frames_next and output_frames_max");
        self.pending.clear();
        let drop = self.delay_remaining.min(produced);
        self.delay_remaining -= drop;
        out.extend_from_slice(&self.chunk_out[drop..produced]);
        self.output_total += (produced - drop) as u64;
    }
}

/// Mono samples per block sent from the decoding thread: about 1 s at 16 kHz, so the channel
/// carries few messages while the blocks in flight stay small.
const PIPELINE_BLOCK_SAMPLES: usize = 16_384;

/// Blocks in flight between the decoding thread and the consumer: enough that neither waits
/// for the other's uneven pace (ingest of a 10-minute AAC file, hyperfine, one run: 4, 8, 16
/// and 32 blocks here and in the fingerprint's channel took 1.16–1.19, 1.11, 1.10 and 1.03–1.05 ×
/// fpcalc's wall time), few enough that memory stays at about 2 MB (64 kB a block).
const PIPELINE_DEPTH_BLOCKS: usize = 32;

/// What the decoding thread sends.
enum Message {
    Block(Vec<f32>),
    /// The end: the native samples per channel decoded, and the decoder's warnings.
    End(u64, Vec<String>),
    Failed(Error),
}

/// The analysis signal in blocks: an [`AudioReader`]'s output mixed to mono and resampled to the
/// analysis rate.
///
/// Decoding runs on a thread of its own and hands mono blocks to the caller's thread, which
/// resamples them: on two cores the two stages overlap. The output is the same, sample for
/// sample, as decoding and resampling one after the other; at most
/// `PIPELINE_DEPTH_BLOCKS` blocks are in flight, so memory does not grow with the input.
pub struct AnalysisStream {
    info: AudioInfo,
    facts: Option<ContainerFacts>,
    receiver: Option<Receiver<Message>>,
    worker: Option<JoinHandle<()>>,
    resampler: MonoResampler,
    rate_hz: u32,
    block: Vec<f32>,
    /// The native-rate mono samples behind the latest block.
    native: Vec<f32>,
    warnings: Vec<String>,
    native_samples: u64,
    finished: bool,
}

impl AnalysisStream {
    /// Wraps `reader`, producing mono audio at `rate_hz`.
    ///
    /// # Errors
    /// [`Error::Config`] when `rate_hz` is 0 or above [`MAX_SAMPLE_RATE_HZ`]; [`Error::Io`] when
    /// the decoding thread cannot be started.
    pub fn new(reader: AudioReader, rate_hz: u32) -> Result<AnalysisStream> {
        let resampler = MonoResampler::new(reader.info().sample_rate, rate_hz)?;
        let info = reader.info().clone();
        let facts = reader.container_facts().cloned();
        let (sender, receiver) = sync_channel(PIPELINE_DEPTH_BLOCKS);
        let worker = std::thread::Builder::new()
            .name("clip-provenance-decode".into())
            .spawn(move || decode_worker(reader, &sender))
            .map_err(|e| Error::io("decoding thread", e))?;
        Ok(AnalysisStream {
            info,
            facts,
            receiver: Some(receiver),
            worker: Some(worker),
            resampler,
            rate_hz,
            block: Vec::new(),
            native: Vec::new(),
            warnings: Vec::new(),
            native_samples: 0,
            finished: false,
        })
    }

    /// The analysis rate in Hz.
    pub fn rate_hz(&self) -> u32 {
        self.rate_hz
    }

    /// What is being decoded.
    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// The container facts the decoder read, where the container reader knows the format.
    pub fn container_facts(&self) -> Option<&ContainerFacts> {
        self.facts.as_ref()
    }

    /// The mono samples at the native rate that the latest [`AnalysisStream::next_block`] call
    /// consumed (for analyses that need the full band or every sample: codec traces, clicks).
    /// Blocks of the two rates do not line up exactly (the resampler holds a few samples back),
    /// but their concatenations are the whole signal at each rate.
    pub fn native_block(&self) -> &[f32] {
        &self.native
    }

    /// The decoder's warnings; complete once [`AnalysisStream::next_block`] has returned `None`.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Samples per channel decoded at the native rate; complete once
    /// [`AnalysisStream::next_block`] has returned `None`.
    pub fn native_samples(&self) -> u64 {
        self.native_samples
    }

    /// Takes the warnings out of the stream.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// The next block of mono samples at the analysis rate, or `None` at the end.
    ///
    /// # Errors
    /// As [`AudioReader::next_block`].
    pub fn next_block(&mut self) -> Result<Option<&[f32]>> {
        self.block.clear();
        self.native.clear();
        while self.block.is_empty() && !self.finished {
            let message = match self.receiver.as_ref().map(Receiver::recv) {
                Some(Ok(message)) => message,
                // The worker ended without a last word: it panicked.
                _ => Message::Failed(Error::malformed(
                    &self.info.codec,
                    "the decoder stopped unexpectedly",
                )),
            };
            match message {
                Message::Block(mono) => {
                    self.resampler.push(&mono, &mut self.block);
                    self.native.extend_from_slice(&mono);
                }
                Message::End(native_samples, warnings) => {
                    self.native_samples = native_samples;
                    self.warnings = warnings;
                    self.resampler.finish(&mut self.block);
                    self.finish_worker();
                }
                Message::Failed(e) => {
                    self.finish_worker();
                    return Err(e);
                }
            }
        }
        Ok(if self.block.is_empty() {
            None
        } else {
            Some(&self.block)
        })
    }

    fn finish_worker(&mut self) {
        self.finished = true;
        self.receiver = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Drop for AnalysisStream {
    fn drop(&mut self) {
        // Dropping the receiver makes the worker's next send fail, so it stops promptly.
        self.finish_worker();
    }
}

fn decode_worker(mut reader: AudioReader, sender: &SyncSender<Message>) {
    let mut mono = Vec::with_capacity(PIPELINE_BLOCK_SAMPLES);
    loop {
        match reader.next_block() {
            Ok(Some(block)) => {
                mix_to_mono(block.samples, block.channels, &mut mono);
                if mono.len() >= PIPELINE_BLOCK_SAMPLES {
                    let full =
                        std::mem::replace(&mut mono, Vec::with_capacity(PIPELINE_BLOCK_SAMPLES));
                    if sender.send(Message::Block(full)).is_err() {
                        return;
                    }
                }
            }
            Ok(None) => {
                if !mono.is_empty() && sender.send(Message::Block(mono)).is_err() {
                    return;
                }
                let _ = sender.send(Message::End(
                    reader.position_samples(),
                    reader.take_warnings(),
                ));
                return;
            }
            Err(e) => {
                let _ = sender.send(Message::Failed(e));
                return;
            }
        }
    }
}

/// The whole analysis signal of a stream, with the decoded track's info and the warnings.
///
/// # Errors
/// As [`AudioReader::next_block`].
pub fn read_analysis_signal(
    mut stream: AnalysisStream,
) -> Result<(Vec<f32>, AudioInfo, Vec<String>)> {
    let mut samples = Vec::new();
    while let Some(block) = stream.next_block()? {
        samples.extend_from_slice(block);
    }
    Ok((samples, stream.info.clone(), stream.take_warnings()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq_hz: f64, rate_hz: u32, len: usize) -> Vec<f32> {
        (0..len)
            .map(|n| {
                (2.0 * std::f64::consts::PI * freq_hz * n as f64 / f64::from(rate_hz)).sin() as f32
            })
            .collect()
    }

    #[test]
    fn mix_to_mono_stereo_is_mean() {
        let mut out = Vec::new();
        mix_to_mono(&[1.0, 0.0, 0.5, 0.5, -1.0, 1.0], 2, &mut out);
        assert_eq!(out, vec![0.5, 0.5, 0.0]);
    }

    #[test]
    fn resampler_same_rate_passes_through() {
        let mut r = MonoResampler::new(16_000, 16_000).expect("valid");
        let mut out = Vec::new();
        r.push(&[1.0, 2.0, 3.0], &mut out);
        r.finish(&mut out);
        assert_eq!(out, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn resampler_length_is_rounded_ratio_for_any_block_sizes() {
        for (in_hz, out_hz, len) in [
            (48_000, 16_000, 48_001),
            (44_100, 16_000, 12_345),
            (8_000, 16_000, 777),
        ] {
            let input = sine(440.0, in_hz, len);
            let mut r = MonoResampler::new(in_hz, out_hz).expect("valid");
            let mut out = Vec::new();
            for chunk in input.chunks(333) {
                r.push(chunk, &mut out);
            }
            r.finish(&mut out);
            let expected =
                ((len as u64 * u64::from(out_hz)) as f64 / f64::from(in_hz)).round() as usize;
            assert_eq!(out.len(), expected, "{in_hz}->{out_hz}");
        }
    }

    #[test]
    fn resampler_keeps_timing_and_level_of_a_tone() {
        // A 1 kHz tone at 48 kHz resampled to 16 kHz must equal the tone generated at 16 kHz:
        // same phase (the delay is removed) and same level.
        let input = sine(1000.0, 48_000, 48_000);
        let mut r = MonoResampler::new(48_000, 16_000).expect("valid");
        let mut out = Vec::new();
        r.push(&input, &mut out);
        r.finish(&mut out);
        let reference = sine(1000.0, 16_000, 16_000);
        let err = out[800..15_200]
            .iter()
            .zip(&reference[800..15_200])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 0.01, "max error {err}");
    }

    #[test]
    fn resampler_zero_rate_is_config_error() {
        assert!(matches!(
            MonoResampler::new(0, 16_000),
            Err(Error::Config { .. })
        ));
        assert!(matches!(
            MonoResampler::new(16_000, 4_000_000),
            Err(Error::Config { .. })
        ));
    }
}
