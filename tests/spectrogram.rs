//! The spectrogram on signals whose answer is known by construction.
#![forbid(unsafe_code)]

use std::f64::consts::PI;

use clip_provenance::{Error, Spectrogram, SpectrogramConfig, SpectrogramStream, Window};

const RATE_HZ: u32 = 16_000;

/// A sine of `amplitude` at `frequency_hz`, `seconds` long, at [`RATE_HZ`].
fn sine(frequency_hz: f64, amplitude: f64, seconds: f64) -> Vec<f32> {
    let samples = (seconds * f64::from(RATE_HZ)) as usize;
    (0..samples)
        .map(|n| {
            (amplitude * (2.0 * PI * frequency_hz * n as f64 / f64::from(RATE_HZ)).sin()) as f32
        })
        .collect()
}

/// Frames whose whole window lies inside a signal of `samples` samples (no padding involved).
fn interior_frames(config: &SpectrogramConfig, samples: usize) -> std::ops::Range<usize> {
    let half = config.window_samples / 2;
    let first = half.div_ceil(config.hop_samples);
    let last = (samples - (config.window_samples - half)) / config.hop_samples;
    first..last + 1
}

/// A fixed-seed xorshift64 generator (Marsaglia 2003), so tests need no RNG crate.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }
}

fn peak_bin(row: ndarray::ArrayView1<f32>) -> usize {
    row.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(bin, _)| bin)
        .unwrap()
}

#[test]
fn spectrogram_tone_on_bin_centre_reads_its_amplitude_in_db() {
    let config = SpectrogramConfig::default();
    // Bin 64 of a 512-point FFT at 16 kHz: 64 · 31.25 Hz = 2 kHz.
    let signal = sine(2000.0, 0.5, 1.0);
    let spectrogram = Spectrogram::compute(&signal, RATE_HZ, &config).unwrap();
    assert_eq!(spectrogram.bins(), 257);
    assert_eq!(spectrogram.bin_hz(64), 2000.0);
    let expected_db = 20.0 * 0.5_f32.log10();
    for frame in interior_frames(&config, signal.len()) {
        let row = spectrogram.data.row(frame);
        assert_eq!(peak_bin(row), 64, "frame {frame}");
        assert!(
            (row[64] - expected_db).abs() < 0.01,
            "frame {frame}: {}",
            row[64]
        );
        // Periodic Hann on a bin centre: the neighbours get exactly half the amplitude, −6.02 dB.
        assert!(
            (row[63] - (expected_db - 6.0206)).abs() < 0.02,
            "{}",
            row[63]
        );
        assert!(
            (row[65] - (expected_db - 6.0206)).abs() < 0.02,
            "{}",
            row[65]
        );
        // Two bins away the periodic Hann transform is zero: only rounding noise remains.
        assert!(row[61] < expected_db - 90.0, "{}", row[61]);
    }
}

#[test]
fn spectrogram_full_scale_sine_is_zero_db_for_every_window() {
    for window in [
        Window::Hann,
        Window::Hamming,
        Window::BlackmanHarris,
        Window::Rectangular,
    ] {
        let config = SpectrogramConfig {
            window,
            ..SpectrogramConfig::default()
        };
        let signal = sine(1000.0, 1.0, 0.5);
        let spectrogram = Spectrogram::compute(&signal, RATE_HZ, &config).unwrap();
        let frame = interior_frames(&config, signal.len()).start + 3;
        let level_db = spectrogram.data[[frame, 32]];
        assert!(level_db.abs() < 0.01, "{window:?}: {level_db}");
    }
}

#[test]
fn spectrogram_tone_between_bins_peaks_at_a_neighbour_within_scalloping_loss() {
    let config = SpectrogramConfig::default();
    // Half-way between bins 32 and 33.
    let signal = sine(32.5 * 31.25, 1.0, 1.0);
    let spectrogram = Spectrogram::compute(&signal, RATE_HZ, &config).unwrap();
    for frame in interior_frames(&config, signal.len()) {
        let row = spectrogram.data.row(frame);
        let peak = peak_bin(row);
        assert!(peak == 32 || peak == 33, "frame {frame}: {peak}");
        // Hann's worst-case scalloping loss is 1.42 dB (Harris 1978, table 1).
        assert!(
            row[peak] < 0.0 && row[peak] > -1.43,
            "frame {frame}: {}",
            row[peak]
        );
    }
}

#[test]
fn spectrogram_two_tones_give_two_peaks_twenty_db_apart() {
    let config = SpectrogramConfig::default();
    let loud = sine(1000.0, 0.8, 1.0);
    let quiet = sine(5000.0, 0.08, 1.0);
    let signal: Vec<f32> = loud.iter().zip(&quiet).map(|(a, b)| a + b).collect();
    let spectrogram = Spectrogram::compute(&signal, RATE_HZ, &config).unwrap();
    for frame in interior_frames(&config, signal.len()) {
        let row = spectrogram.data.row(frame);
        // The two local maxima above −60 dB are the two tones.
        let peaks: Vec<usize> = (1..row.len() - 1)
            .filter(|&b| row[b] > -60.0 && row[b] > row[b - 1] && row[b] > row[b + 1])
            .collect();
        assert_eq!(peaks, vec![32, 160], "frame {frame}");
        let difference_db = row[32] - row[160];
        assert!((difference_db - 20.0).abs() < 0.02, "{difference_db}");
    }
}

#[test]
fn spectrogram_linear_sweep_peak_follows_instantaneous_frequency() {
    let config = SpectrogramConfig::default();
    let (start_hz, end_hz, seconds) = (200.0, 7000.0, 4.0);
    let samples = (seconds * f64::from(RATE_HZ)) as usize;
    let rate_hz_per_s = (end_hz - start_hz) / seconds;
    // Phase of a linear chirp: 2π (f0 t + k t² / 2), so the frequency at t is f0 + k t.
    let signal: Vec<f32> = (0..samples)
        .map(|n| {
            let t = n as f64 / f64::from(RATE_HZ);
            (0.5 * (2.0 * PI * (start_hz * t + rate_hz_per_s * t * t / 2.0)).sin()) as f32
        })
        .collect();
    let spectrogram = Spectrogram::compute(&signal, RATE_HZ, &config).unwrap();
    let bin_hz = spectrogram.bin_hz(1);
    for frame in interior_frames(&config, signal.len()) {
        let time_s = spectrogram.frame_time_s(frame as u64);
        let expected_bin = (start_hz + rate_hz_per_s * time_s) / bin_hz;
        let peak = peak_bin(spectrogram.data.row(frame));
        assert!(
            (peak as f64 - expected_bin).abs() <= 1.0,
            "frame {frame} at {time_s} s: peak {peak}, expected {expected_bin:.2}"
        );
    }
}

#[test]
fn spectrogram_silence_is_the_floor() {
    let config = SpectrogramConfig::default();
    let spectrogram = Spectrogram::compute(&vec![0.0; 5000], RATE_HZ, &config).unwrap();
    assert!(spectrogram.data.iter().all(|&v| v == Spectrogram::FLOOR_DB));
}

#[test]
fn spectrogram_nan_samples_read_as_floor_not_nan() {
    let config = SpectrogramConfig::default();
    let mut signal = sine(1000.0, 0.5, 0.2);
    signal[1000] = f32::NAN;
    let spectrogram = Spectrogram::compute(&signal, RATE_HZ, &config).unwrap();
    assert!(spectrogram.data.iter().all(|v| v.is_finite()));
}

#[test]
fn spectrogram_frames_are_centred_on_multiples_of_the_hop() {
    let config = SpectrogramConfig::default();
    for (samples, frames) in [
        (0, 0),
        (1, 1),
        (127, 1),
        (128, 1),
        (129, 2),
        (1000, 8),
        (1024, 8),
    ] {
        let spectrogram = Spectrogram::compute(&vec![0.1; samples], RATE_HZ, &config).unwrap();
        assert_eq!(spectrogram.frames(), frames, "{samples} samples");
        assert_eq!(config.frame_count(samples as u64), frames as u64);
        assert_eq!(spectrogram.data.shape(), &[frames, 257]);
    }
    // An impulse at sample 5 · hop sits at the centre of frame 5's window, where Hann is 1: the
    // frame reads a flat spectrum at 20·log10(2/Σw) = 20·log10(1/128) in every interior bin, and
    // its neighbours, one hop off-centre, read less.
    let mut signal = vec![0.0_f32; 4000];
    signal[5 * 128] = 1.0;
    let spectrogram = Spectrogram::compute(&signal, RATE_HZ, &config).unwrap();
    assert_eq!(spectrogram.frame_sample(5), 640);
    assert_eq!(spectrogram.frame_time_s(5), 0.04);
    let expected_db = 20.0 * (1.0_f32 / 128.0).log10();
    for bin in 1..256 {
        assert!((spectrogram.data[[5, bin]] - expected_db).abs() < 1e-3);
    }
    assert!(spectrogram.data[[4, 10]] < expected_db - 1.0);
    assert!(spectrogram.data[[6, 10]] < expected_db - 1.0);
    // An impulse at sample 0 is the centre of frame 0 (the left pad puts it there).
    let mut signal = vec![0.0_f32; 4000];
    signal[0] = 1.0;
    let spectrogram = Spectrogram::compute(&signal, RATE_HZ, &config).unwrap();
    assert!((spectrogram.data[[0, 100]] - expected_db).abs() < 1e-3);
}

/// Concatenates the blocks of a stream fed in random-sized pushes.
fn stream_in_random_pushes(
    signal: &[f32],
    config: &SpectrogramConfig,
    block_frames: usize,
    rng: &mut XorShift,
    stream: &mut SpectrogramStream,
) -> (Vec<f32>, u64) {
    let mut values = Vec::new();
    let mut next_first_frame = 0_u64;
    let mut sink = |block: &Spectrogram| {
        assert_eq!(block.first_frame, next_first_frame);
        assert!(block.frames() >= 1 && block.frames() <= block_frames);
        assert_eq!(block.config, *config);
        next_first_frame = block.end_frame();
        values.extend(block.data.iter().copied());
        Ok(())
    };
    let mut at = 0;
    while at < signal.len() {
        // Mostly small pushes, sometimes empty, sometimes several windows at once.
        let size = match rng.below(10) {
            0 => 0,
            1..=6 => rng.below(300) as usize,
            _ => rng.below(40_000) as usize,
        };
        let end = (at + size).min(signal.len());
        stream.push(&signal[at..end], &mut sink).unwrap();
        at = end;
    }
    stream.finish(&mut sink).unwrap();
    (values, next_first_frame)
}

#[test]
fn stream_in_random_pushes_equals_whole_bit_for_bit() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let configs = [
        SpectrogramConfig::default(),
        SpectrogramConfig {
            window_samples: 401,
            hop_samples: 100,
            window: Window::BlackmanHarris,
        },
        SpectrogramConfig {
            window_samples: 64,
            hop_samples: 64,
            window: Window::Hamming,
        },
        SpectrogramConfig {
            window_samples: 2,
            hop_samples: 1,
            window: Window::Rectangular,
        },
    ];
    for config in configs {
        for signal_samples in [0, 1, 255, 256, 257, 5_000, 100_003] {
            let signal: Vec<f32> = (0..signal_samples).map(|_| rng.unit()).collect();
            let whole = Spectrogram::compute(&signal, RATE_HZ, &config).unwrap();
            for block_frames in [1, 7, 1000] {
                let mut stream = SpectrogramStream::new(RATE_HZ, &config, block_frames).unwrap();
                // Twice through one stream: `finish` must leave it ready for a new signal.
                for _ in 0..2 {
                    let (values, frames) = stream_in_random_pushes(
                        &signal,
                        &config,
                        block_frames,
                        &mut rng,
                        &mut stream,
                    );
                    assert_eq!(
                        frames,
                        whole.frames() as u64,
                        "{config:?}, {signal_samples}"
                    );
                    assert!(
                        values.iter().eq(whole.data.iter()),
                        "{config:?}, {signal_samples} samples, blocks of {block_frames}"
                    );
                }
            }
        }
    }
}

#[test]
fn stream_with_levels_up_to_a_bin_equals_whole_below_it_and_reads_the_floor_above() {
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let config = SpectrogramConfig::default();
    let bins = config.bins();
    let signal: Vec<f32> = (0..40_000).map(|_| rng.unit()).collect();
    let whole = Spectrogram::compute(&signal, RATE_HZ, &config).unwrap();
    for highest in [0, 129, bins - 1, bins + 10] {
        let mut stream = SpectrogramStream::new(RATE_HZ, &config, 7)
            .unwrap()
            .with_levels_up_to_bin(highest);
        let (values, frames) = stream_in_random_pushes(&signal, &config, 7, &mut rng, &mut stream);
        assert_eq!(frames, whole.frames() as u64);
        for (row, whole_row) in values.chunks_exact(bins).zip(whole.data.rows()) {
            for (b, (&v, &w)) in row.iter().zip(whole_row).enumerate() {
                if b <= highest {
                    assert_eq!(v.to_bits(), w.to_bits(), "bin {b} of {highest}");
                } else {
                    assert_eq!(v, Spectrogram::FLOOR_DB, "bin {b} of {highest}");
                }
            }
        }
    }
}

#[test]
fn stream_sink_error_is_returned_and_stream_stays_usable() {
    let config = SpectrogramConfig::default();
    let mut stream = SpectrogramStream::new(RATE_HZ, &config, 4).unwrap();
    let signal = sine(440.0, 0.5, 0.5);
    let failing = |_: &Spectrogram| {
        Err(Error::Config {
            field: "test".into(),
            detail: "sink refused".into(),
        })
    };
    assert!(matches!(
        stream.push(&signal, failing),
        Err(Error::Config { .. })
    ));
    stream.reset();
    let mut frames = 0;
    stream
        .push(&signal, |b| {
            frames += b.frames();
            Ok(())
        })
        .unwrap();
    stream
        .finish(|b| {
            frames += b.frames();
            Ok(())
        })
        .unwrap();
    assert_eq!(frames as u64, config.frame_count(signal.len() as u64));
}

#[test]
fn config_out_of_range_is_config_error() {
    let bad = [
        SpectrogramConfig {
            window_samples: 1,
            ..SpectrogramConfig::default()
        },
        SpectrogramConfig {
            hop_samples: 0,
            ..SpectrogramConfig::default()
        },
        SpectrogramConfig {
            hop_samples: 513,
            ..SpectrogramConfig::default()
        },
    ];
    for config in bad {
        assert!(matches!(
            Spectrogram::compute(&[0.0; 100], RATE_HZ, &config),
            Err(Error::Config { .. })
        ));
        assert!(matches!(
            SpectrogramStream::new(RATE_HZ, &config, 16),
            Err(Error::Config { .. })
        ));
    }
    let config = SpectrogramConfig::default();
    assert!(matches!(
        Spectrogram::compute(&[0.0; 100], 0, &config),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        SpectrogramStream::new(RATE_HZ, &config, 0),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        SpectrogramStream::new(RATE_HZ, &config, usize::MAX),
        Err(Error::Config { .. })
    ));
}

#[test]
fn config_from_json_fills_missing_fields_with_defaults() {
    let config: SpectrogramConfig =
        serde_json::from_str(r#"{"hop_samples": 256, "window": "blackman_harris"}"#).unwrap();
    assert_eq!(config.window_samples, 512);
    assert_eq!(config.hop_samples, 256);
    assert_eq!(config.window, Window::BlackmanHarris);
}
