//! Spectrogram throughput on a generated 60 s signal at 16 kHz, in audio seconds per second
//! (criterion's "elements" are seconds of audio).
#![forbid(unsafe_code)]

use std::f64::consts::PI;
use std::hint::black_box;

use clip_provenance::{Spectrogram, SpectrogramConfig, SpectrogramStream};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const RATE_HZ: u32 = 16_000;
const SECONDS: u64 = 60;

/// A deterministic speech-like test signal: a 120 Hz harmonic series with a slow vibrato, plus
/// low-level noise from a fixed-seed xorshift (Marsaglia 2003).
fn signal() -> Vec<f32> {
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    (0..SECONDS * u64::from(RATE_HZ))
        .map(|n| {
            let t = n as f64 / f64::from(RATE_HZ);
            let f0 = 120.0 + 10.0 * (2.0 * PI * 0.5 * t).sin();
            let voice: f64 = (1..=20)
                .map(|h| (2.0 * PI * f0 * f64::from(h) * t).sin() / f64::from(h))
                .sum();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state >> 40) as f64 / (1u64 << 24) as f64 - 0.5;
            (0.1 * voice + 0.01 * noise) as f32
        })
        .collect()
}

fn spectrogram(c: &mut Criterion) {
    let samples = signal();
    let config = SpectrogramConfig::default();
    let mut group = c.benchmark_group("spectrogram");
    group.throughput(Throughput::Elements(SECONDS));
    group.sample_size(10);
    group.bench_function("compute_60s_16k_512_128", |b| {
        b.iter(|| Spectrogram::compute(black_box(&samples), RATE_HZ, &config).unwrap())
    });
    let mut stream = SpectrogramStream::new(RATE_HZ, &config, 256).unwrap();
    group.bench_function("stream_60s_16k_512_128_blocks_256", |b| {
        b.iter(|| {
            let mut checksum = 0.0_f32;
            let mut sink = |block: &Spectrogram| {
                checksum += block.data[[0, 0]];
                Ok(())
            };
            for chunk in black_box(&samples).chunks(4096) {
                stream.push(chunk, &mut sink).unwrap();
            }
            stream.finish(&mut sink).unwrap();
            checksum
        })
    });
    group.finish();
}

criterion_group!(benches, spectrogram);
criterion_main!(benches);
