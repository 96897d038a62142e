//! Decoding speed: the fixtures of each lossy codec and FLAC, decoded on ffmpeg's timeline
//! (native rate, all channels) and to the mono 16 kHz analysis signal.
//!
//! Throughput is in elements = milliseconds of audio, so 1 Kelem/s is 1× realtime and
//! 1 Melem/s is 1000× realtime.
use std::hint::black_box;
use std::path::{Path, PathBuf};

use clip_provenance::{
    AnalysisStream, AudioReader, DEFAULT_ANALYSIS_RATE_HZ, DecodeOptions, decode_path,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// One fixture per codec family the issue names (AAC in MP4, MP3, Opus, FLAC).
const FIXTURES: [&str; 4] = [
    "aac-lc-32k-mono-h264-video-first.mp4",
    "mp3-44k1-mono-lame-xing.mp3",
    "opus-48k-mono.ogg",
    "flac-24bit-48k-mono.flac",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for name in FIXTURES {
        let path = fixture(name);
        let audio = decode_path(&path, &DecodeOptions::default()).expect("fixture decodes");
        group.throughput(Throughput::Elements(
            (audio.duration_s() * 1000.0).round() as u64
        ));
        group.bench_function(format!("native/{name}"), |b| {
            b.iter(|| {
                decode_path(black_box(&path), &DecodeOptions::default())
                    .expect("decodes")
                    .samples
                    .len()
            })
        });
        group.bench_function(format!("mono16k/{name}"), |b| {
            b.iter(|| {
                let reader = AudioReader::open_path(black_box(&path), &DecodeOptions::default())
                    .expect("opens");
                let stream =
                    AnalysisStream::new(reader, DEFAULT_ANALYSIS_RATE_HZ).expect("valid rate");
                clip_provenance::read_analysis_signal(stream)
                    .expect("decodes")
                    .0
                    .len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
