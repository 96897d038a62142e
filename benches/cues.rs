//! Splice-cue throughput on a generated 10-minute clip, in audio seconds per second (criterion's
//! "elements" are seconds of audio). The cues are given what the analyzer hands them: the shared
//! 16 kHz spectrogram in blocks of 256 frames, the 16 kHz analysis signal, and the native-rate
//! (48 kHz) mono signal, all computed before timing. The target for all six together is
//! 5000 × realtime on one core (0.12 s for the 10 minutes).
#![forbid(unsafe_code)]

use std::f64::consts::PI;
use std::hint::black_box;

use clip_provenance::{
    ChannelCue, CodecCue, CueSet, EnfCue, MonoResampler, NoiseFloorCue, ReverbCue, SampleCue,
    Spectrogram, SpectrogramConfig, SpectrogramCue, SpectrogramStream, WaveformCue,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const NATIVE_HZ: u32 = 48_000;
const ANALYSIS_HZ: u32 = 16_000;
const SECONDS: u64 = 600;
/// The clip repeats a 10 s pattern of voice-like bursts; the noise and hum run on.
const PATTERN_S: usize = 10;
/// Samples per push, as the analyzer's decoding pipeline delivers them (about 1 s at 16 kHz).
const CHUNK: usize = 16_384;

/// A fixed-seed xorshift64 generator (Marsaglia 2003).
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }
}

/// A deterministic 10-minute 48 kHz clip: voice-like harmonic bursts (syllables of 250 ms,
/// pauses between phrases) over room noise, with 50 Hz mains hum and its harmonics, so that every
/// cue has something to measure (none abstains).
fn native_signal() -> Vec<f32> {
    let rate = f64::from(NATIVE_HZ);
    let pattern: Vec<f32> = (0..PATTERN_S * NATIVE_HZ as usize)
        .map(|n| {
            let t = n as f64 / rate;
            let syllable = (t / 0.3).fract();
            let in_phrase = (t / 2.5).fract() < 0.8;
            if !(in_phrase && syllable < 0.8) {
                return 0.0;
            }
            let envelope = (PI * syllable / 0.8).sin();
            let f0 = 120.0 + 15.0 * (2.0 * PI * 0.7 * t).sin();
            let voice: f64 = (1..=30)
                .map(|h| (2.0 * PI * f0 * f64::from(h) * t).sin() / f64::from(h))
                .sum();
            (0.08 * envelope * voice) as f32
        })
        .collect();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    (0..SECONDS as usize * NATIVE_HZ as usize)
        .map(|n| {
            let t = n as f64 / rate;
            let hum = 0.002 * (2.0 * PI * 50.0 * t).sin() + 0.001 * (2.0 * PI * 150.0 * t).sin();
            pattern[n % pattern.len()] + 0.002 * rng.uniform() + hum as f32
        })
        .collect()
}

fn cues(c: &mut Criterion) {
    let native = native_signal();
    let mut analysis = Vec::new();
    let mut resampler = MonoResampler::new(NATIVE_HZ, ANALYSIS_HZ).expect("valid rates");
    resampler.push(&native, &mut analysis);
    resampler.finish(&mut analysis);
    let config = SpectrogramConfig::default();
    let mut blocks = Vec::new();
    let mut stream = SpectrogramStream::new(ANALYSIS_HZ, &config, 256).expect("valid");
    stream
        .push(&analysis, |block: &Spectrogram| {
            blocks.push(block.clone());
            Ok(())
        })
        .expect("no sink error");
    stream
        .finish(|block: &Spectrogram| {
            blocks.push(block.clone());
            Ok(())
        })
        .expect("no sink error");

    let mut group = c.benchmark_group("cues_10min_48k");
    group.throughput(Throughput::Elements(SECONDS));
    group.sample_size(10);

    fn spectrogram_cue<C: SpectrogramCue>(mut cue: C, blocks: &[Spectrogram]) -> usize {
        for block in blocks {
            cue.push(block).expect("same framing");
        }
        cue.finish().len()
    }
    fn sample_cue<C: SampleCue>(mut cue: C, samples: &[f32]) -> usize {
        for chunk in samples.chunks(CHUNK) {
            cue.push(chunk);
        }
        cue.finish().len()
    }

    group.bench_function("noise_floor", |b| {
        b.iter(|| {
            let cue = NoiseFloorCue::new(ANALYSIS_HZ, &config).expect("valid");
            spectrogram_cue(cue, black_box(&blocks))
        })
    });
    group.bench_function("channel", |b| {
        b.iter(|| {
            let cue = ChannelCue::new(ANALYSIS_HZ, &config).expect("valid");
            spectrogram_cue(cue, black_box(&blocks))
        })
    });
    group.bench_function("reverb", |b| {
        b.iter(|| {
            let cue = ReverbCue::new(ANALYSIS_HZ, &config).expect("valid");
            spectrogram_cue(cue, black_box(&blocks))
        })
    });
    group.bench_function("enf", |b| {
        b.iter(|| {
            sample_cue(
                EnfCue::new(ANALYSIS_HZ).expect("valid"),
                black_box(&analysis),
            )
        })
    });
    group.bench_function("codec", |b| {
        b.iter(|| sample_cue(CodecCue::new(NATIVE_HZ).expect("valid"), black_box(&native)))
    });
    group.bench_function("waveform", |b| {
        b.iter(|| {
            sample_cue(
                WaveformCue::new(NATIVE_HZ).expect("valid"),
                black_box(&native),
            )
        })
    });
    group.bench_function("all_six_cue_set", |b| {
        b.iter(|| {
            let mut set = CueSet::new(ANALYSIS_HZ, &config, Some(NATIVE_HZ)).expect("valid");
            for block in black_box(&blocks) {
                set.push_spectrogram(block).expect("same framing");
            }
            for chunk in black_box(&analysis).chunks(CHUNK) {
                set.push_analysis(chunk);
            }
            for chunk in black_box(&native).chunks(CHUNK) {
                set.push_native(chunk);
            }
            let tracks = set.finish();
            assert!(
                tracks.iter().all(|t| t.usability.usable),
                "every cue has work"
            );
            tracks.len()
        })
    });
    group.finish();
}

criterion_group!(benches, cues);
criterion_main!(benches);
