//! Conditions: the processing chains every clip goes through after assembly — resampling, mono,
//! gain, noise and speed in Rust, and lossy round-trips and a conferencing chain with ffmpeg
//! (cached, and checked to keep the timeline: the truth's times must stay exact).

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use clip_provenance::MonoResampler;
use serde::{Deserialize, Serialize};

use crate::acoustics::{add_at_level, pink_noise};
use crate::corpus::{GEN_RATE_HZ, Recording};
use crate::dsp::{active_level_db, rms_db, without_dc, xcorr_peak};
use crate::files::write_atomic;
use crate::rng::{Rng, fnv1a64};
use crate::truth::{Alignment, ClipTruth};

/// An ffmpeg output must line up with its input within this many samples at its own rate: one
/// sample, i.e. 31 µs at 32 kHz — far inside the 20 ms splice tolerance.
const ALIGN_TOLERANCE_SAMPLES: i64 = 1;

/// The alignment check searches lags up to this, in seconds: beyond any codec or filter delay
/// (AAC priming is 1024 samples, afftdn's window tens of milliseconds).
const ALIGN_MAX_LAG_S: f64 = 0.25;

/// The alignment check's correlation must reach this normalised peak: the chains change the
/// waveform (the conferencing chain gates pauses and levels the gain) but keep the speech.
const ALIGN_MIN_PEAK: f64 = 0.5;

/// Bumped whenever what the cache records, or how an encode is checked, changes: old entries
/// then no longer match and are redone.
const CACHE_VERSION: u32 = 3;

/// Right channel gain of the stereo step: a dual-mono file whose channels differ in level, as a
/// mixer's pan leaves it (−1 dB).
const STEREO_RIGHT_GAIN: f32 = 0.891;

/// The conferencing chain's filters, approximating what Zoom does to a talker's audio before it
/// is recorded: noise suppression (afftdn, tracking the noise), a gate that drops the pauses by
/// 26 dB (agate), and automatic gain (dynaudnorm). Zoom does not publish its settings; these were
/// set by ear to make its typical pumping, gated pauses. Mono first, 32 kHz last: Zoom's local
/// recordings are AAC at 32 kHz mono.
const CONFERENCE_FILTERS: &str = "pan=mono|c0=0.5*c0+0.5*c1,\
afftdn=nr=20:nf=-45:tn=1,\
agate=threshold=0.02:ratio=6:range=0.05:attack=10:release=150,\
dynaudnorm=f=200:g=15:p=0.9,\
aresample=32000";

/// A processing step in Rust.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// Multiply by a gain in dB.
    Gain(f64),
    /// Resample to a rate in Hz (MonoResampler: the timeline in seconds is kept).
    Resample(u32),
    /// Play faster by a factor per mille (resampled and kept at the same rate: clip times shrink).
    Speed(u32),
    /// Add noise at an SNR in dB re the active speech level.
    Noise(f64),
    /// Add pink noise at an SNR in dB re the active speech level.
    Pink(f64),
    /// Add babble — [`BABBLE_TALKERS`] readings no archive holds, none of the clip's own —
    /// at an SNR in dB re the active speech level.
    Babble(f64),
    /// Duplicate into two channels (the right 1 dB lower): the analysis mixes to mono.
    Stereo,
}

impl Step {
    /// A description for the truth's `chain`.
    pub fn describe(&self) -> String {
        match self {
            Step::Gain(db) => format!("gain {db:+.1} dB"),
            Step::Resample(hz) => format!("resample to {hz} Hz (rubato via MonoResampler)"),
            Step::Speed(pm) => format!("speed x{:.3} by resampling", f64::from(*pm) / 1000.0),
            Step::Noise(snr) => format!("noise at {snr:.0} dB SNR re active speech level"),
            Step::Pink(snr) => format!("pink noise at {snr:.0} dB SNR re active speech level"),
            Step::Babble(snr) => format!(
                "babble of {BABBLE_TALKERS} talkers at {snr:.0} dB SNR re active speech level"
            ),
            Step::Stereo => "stereo (dual mono, right -1 dB)".to_string(),
        }
    }
}

/// An ffmpeg encode.
#[derive(Debug, Clone, PartialEq)]
pub struct Encode {
    /// The output file's extension, which picks the container.
    pub ext: &'static str,
    /// Codec arguments.
    pub args: &'static [&'static str],
    /// Filters before the encoder, whose delay is measured and compensated.
    pub filters: Option<&'static str>,
    /// Rate of the encoded (and decoded) audio in Hz.
    pub rate_hz: u32,
}

/// A condition: Rust steps, then WAV or an ffmpeg encode.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Its name in file names and tables.
    pub name: &'static str,
    /// Part of `--quick` (never true for ffmpeg conditions).
    pub quick: bool,
    /// Steps in Rust, in order.
    pub steps: Vec<Step>,
    /// The ffmpeg encode, or `None` for 16-bit WAV.
    pub encode: Option<Encode>,
}

impl Condition {
    /// The output file's extension.
    pub fn ext(&self) -> &'static str {
        self.encode.as_ref().map_or("wav", |e| e.ext)
    }
}

/// Every condition, in table order.
pub fn conditions() -> Vec<Condition> {
    vec![
        Condition {
            name: "clean",
            quick: true,
            steps: vec![],
            encode: None,
        },
        Condition {
            name: "resample-44k1-stereo-gain",
            quick: true,
            steps: vec![Step::Gain(-6.0), Step::Resample(44_100), Step::Stereo],
            encode: None,
        },
        Condition {
            name: "speed+4%",
            quick: true,
            steps: vec![Step::Speed(1040)],
            encode: None,
        },
        Condition {
            name: "speed-3%",
            quick: false,
            steps: vec![Step::Speed(970)],
            encode: None,
        },
        Condition {
            name: "noise-snr10",
            quick: true,
            steps: vec![Step::Noise(10.0)],
            encode: None,
        },
        Condition {
            name: "aac-24k",
            quick: false,
            steps: vec![],
            encode: Some(Encode {
                ext: "m4a",
                args: &["-c:a", "aac", "-b:a", "24k"],
                filters: None,
                rate_hz: 16_000,
            }),
        },
        Condition {
            name: "aac-64k",
            quick: false,
            steps: vec![Step::Resample(44_100)],
            encode: Some(Encode {
                ext: "m4a",
                args: &["-c:a", "aac", "-b:a", "64k"],
                filters: None,
                rate_hz: 44_100,
            }),
        },
        Condition {
            name: "mp3-64k",
            quick: false,
            steps: vec![Step::Resample(44_100)],
            encode: Some(Encode {
                ext: "mp3",
                args: &["-c:a", "libmp3lame", "-b:a", "64k"],
                filters: None,
                rate_hz: 44_100,
            }),
        },
        Condition {
            name: "opus-24k",
            quick: false,
            steps: vec![Step::Resample(48_000)],
            encode: Some(Encode {
                ext: "ogg",
                args: &["-c:a", "libopus", "-b:a", "24k"],
                filters: None,
                rate_hz: 48_000,
            }),
        },
        // The fingerprint issue's own degradations: ±12 dB of gain (the louder one clips where
        // the speech peaks pass full scale, as a hot recording does) and Opus at 16 kb/s.
        Condition {
            name: "gain+12dB",
            quick: false,
            steps: vec![Step::Gain(12.0)],
            encode: None,
        },
        Condition {
            name: "gain-12dB",
            quick: false,
            steps: vec![Step::Gain(-12.0)],
            encode: None,
        },
        Condition {
            name: "opus-16k",
            quick: false,
            steps: vec![Step::Resample(48_000)],
            encode: Some(Encode {
                ext: "ogg",
                args: &["-c:a", "libopus", "-b:a", "16k"],
                filters: None,
                rate_hz: 48_000,
            }),
        },
        Condition {
            name: "pink-snr10",
            quick: false,
            steps: vec![Step::Pink(10.0)],
            encode: None,
        },
        Condition {
            name: "babble-snr10",
            quick: false,
            steps: vec![Step::Babble(10.0)],
            encode: None,
        },
        Condition {
            name: "conference",
            quick: false,
            steps: vec![Step::Resample(48_000), Step::Stereo],
            encode: Some(Encode {
                ext: "mp4",
                args: &["-c:a", "aac", "-b:a", "48k", "-ac", "1"],
                filters: Some(CONFERENCE_FILTERS),
                rate_hz: 32_000,
            }),
        },
    ]
}

/// Audio between steps: interleaved samples, rate, channels.
#[derive(Debug, Clone)]
pub struct Signal {
    /// Interleaved samples.
    pub samples: Vec<f32>,
    /// Rate in Hz.
    pub rate_hz: u32,
    /// Channel count (1 or 2).
    pub channels: u16,
}

impl Signal {
    /// The first channel (the mono signal before the stereo step).
    pub fn first_channel(&self) -> Vec<f32> {
        self.samples
            .iter()
            .step_by(usize::from(self.channels.max(1)))
            .copied()
            .collect()
    }
}

/// Talkers in a babble: six, the number at which single voices stop being intelligible and
/// babble becomes a noise (Krishnamurthy & Hansen 2009, "Babble noise: modeling, analysis, and
/// applications", IEEE TASLP 17(7)).
pub const BABBLE_TALKERS: usize = 6;

/// What the noise steps draw from.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoiseSources<'a> {
    /// Background noise recordings ([`Step::Noise`]).
    pub noise: &'a [Recording],
    /// Speech recordings no archive holds ([`Step::Babble`]): babble of archived speech would
    /// be matched, truly, to the archive.
    pub talkers: &'a [Recording],
}

/// Runs the Rust steps on a clean clip; returns the signal and the truth with times scaled by any
/// speed change.
pub fn apply_steps(
    samples: &[f32],
    truth: ClipTruth,
    steps: &[Step],
    sources: NoiseSources<'_>,
    seed: u64,
) -> (Signal, ClipTruth) {
    let mut signal = Signal {
        samples: samples.to_vec(),
        rate_hz: GEN_RATE_HZ,
        channels: 1,
    };
    let mut truth = truth;
    for step in steps {
        match *step {
            Step::Gain(db) => {
                let gain = 10f64.powf(db / 20.0) as f32;
                signal.samples.iter_mut().for_each(|v| *v *= gain);
            }
            Step::Resample(hz) => {
                signal.samples = resample(&signal.first_channel(), signal.rate_hz, hz);
                signal.rate_hz = hz;
                signal.channels = 1;
            }
            Step::Speed(per_mille) => {
                signal.samples = resample(&signal.first_channel(), per_mille, 1000);
                signal.channels = 1;
                truth = truth.sped_up(f64::from(per_mille) / 1000.0);
            }
            Step::Noise(snr_db) | Step::Pink(snr_db) | Step::Babble(snr_db) => {
                let mono = signal.first_channel();
                let speech_db = active_level_db(&mono, signal.rate_hz).unwrap_or(rms_db(&mono));
                let (len, rate) = (mono.len(), signal.rate_hz);
                let bed = match *step {
                    Step::Noise(_) => noise_bed(len, rate, sources.noise, seed, &truth.clip),
                    Step::Pink(_) => pink_noise(
                        len,
                        Rng::derive(seed, &format!("pink-step/{}", truth.clip)).next_u64(),
                    ),
                    _ => babble_bed(len, rate, sources.talkers, seed, &truth),
                };
                let mut noisy = mono;
                add_at_level(&mut noisy, &bed, speech_db - snr_db);
                signal.samples = noisy;
                signal.channels = 1;
            }
            Step::Stereo => {
                let mono = signal.first_channel();
                signal.samples = mono
                    .iter()
                    .flat_map(|v| [*v, *v * STEREO_RIGHT_GAIN])
                    .collect();
                signal.channels = 2;
            }
        }
        truth.chain.push(step.describe());
    }
    truth.duration_s =
        signal.samples.len() as f64 / f64::from(signal.channels.max(1)) / f64::from(signal.rate_hz);
    truth.sample_rate_hz = signal.rate_hz;
    (signal, truth)
}

/// Resamples mono `x` from `in_hz` to `out_hz`.
fn resample(x: &[f32], in_hz: u32, out_hz: u32) -> Vec<f32> {
    let mut resampler =
        MonoResampler::new(in_hz, out_hz).expect("the conditions' rates are valid resampler rates");
    let mut out = Vec::with_capacity(x.len());
    resampler.push(x, &mut out);
    resampler.finish(&mut out);
    out
}

/// Background noise for the noise step: a stretch of a noise recording long enough (at 16 kHz,
/// resampled), or pink noise.
/// Babble of `len` samples at `rate_hz`: [`BABBLE_TALKERS`] talkers, each a chain of random
/// readings from `talkers` (none of the clip's own recordings), from a random point of the first,
/// brought to one level and summed. Pink noise when no talker is left to draw from.
fn babble_bed(
    len: usize,
    rate_hz: u32,
    talkers: &[Recording],
    seed: u64,
    truth: &ClipTruth,
) -> Vec<f32> {
    let mut rng = Rng::derive(seed, &format!("babble-step/{}", truth.clip));
    let others: Vec<&Recording> = talkers
        .iter()
        .filter(|t| truth.pieces.iter().all(|p| p.recording != t.rel_path))
        .collect();
    if others.is_empty() {
        return pink_noise(len, rng.next_u64());
    }
    let need = (len as f64 * f64::from(GEN_RATE_HZ) / f64::from(rate_hz)).ceil() as usize + 1;
    let mut bed = vec![0.0f32; need];
    for _ in 0..BABBLE_TALKERS {
        let mut voice: Vec<f32> = Vec::with_capacity(need);
        while voice.len() < need {
            let Some(reading) = rng.choose(&others) else {
                break;
            };
            let from = if voice.is_empty() {
                rng.below(reading.samples.len())
            } else {
                0
            };
            voice.extend_from_slice(&reading.samples[from..]);
        }
        voice.truncate(need);
        let gain = 10f64.powf(-rms_db(&voice) / 20.0) as f32;
        for (b, v) in bed.iter_mut().zip(&voice) {
            *b += gain * v;
        }
    }
    let mut bed = resample(&bed, GEN_RATE_HZ, rate_hz);
    bed.resize(len, 0.0);
    bed
}

fn noise_bed(len: usize, rate_hz: u32, noise: &[Recording], seed: u64, clip: &str) -> Vec<f32> {
    let mut rng = Rng::derive(seed, &format!("noise-step/{clip}"));
    let need = (len as f64 * f64::from(GEN_RATE_HZ) / f64::from(rate_hz)).ceil() as usize + 1;
    let long: Vec<&Recording> = noise.iter().filter(|n| n.samples.len() >= need).collect();
    match rng.choose(&long) {
        Some(n) => {
            let start = rng.below(n.samples.len() - need + 1);
            // Played backwards: the masters' backgrounds come from the same recordings, and a
            // clip carrying the very noise an archive master carries shares audio with it:
            // before this, all four asserted matches to recordings a clip did not come from
            // (session 9's run, both splits) were `noise-snr10` clips matching the two archive
            // masters whose backgrounds are the exercise bike. Reversed, the noise keeps its
            // spectrum and level but shares no fingerprint: a landmark pair reversed in time is
            // another hash.
            let backwards: Vec<f32> = n.samples[start..start + need]
                .iter()
                .rev()
                .copied()
                .collect();
            let mut bed = resample(&backwards, GEN_RATE_HZ, rate_hz);
            bed.resize(len, 0.0);
            bed
        }
        None => pink_noise(len, rng.next_u64()),
    }
}

/// A 16-bit PCM WAV of `signal`, in memory.
pub fn wav_bytes(signal: &Signal) -> Result<Vec<u8>, String> {
    let spec = hound::WavSpec {
        channels: signal.channels,
        sample_rate: signal.rate_hz,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut cursor, spec).map_err(|e| e.to_string())?;
    for v in &signal.samples {
        let q = (v.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        writer.write_sample(q).map_err(|e| e.to_string())?;
    }
    writer.finalize().map_err(|e| e.to_string())?;
    Ok(cursor.into_inner())
}

/// ffmpeg on PATH: its version line, or `None`.
pub fn ffmpeg_version() -> Option<String> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-version"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(str::to_string)
}

/// Runs ffmpeg with `args` (after `-nostdin -hide_banner -loglevel error -y`), returning stdout.
fn run_ffmpeg(args: &[String]) -> Result<Vec<u8>, String> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ffmpeg {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// Decodes `path` with ffmpeg — the reference for every clip's timeline (DESIGN.md) — to mono f32
/// at its own rate.
fn ffmpeg_decode(path: &Path) -> Result<Vec<f32>, String> {
    let bytes = run_ffmpeg(&[
        "-i".into(),
        path.display().to_string(),
        "-map".into(),
        "0:a:0".into(),
        "-ac".into(),
        "1".into(),
        "-f".into(),
        "f32le".into(),
        "-".into(),
    ])?;
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// The measured delay of a filter chain, cached per filter string and ffmpeg version.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DelayCache {
    key: u64,
    filters: String,
    ffmpeg: String,
    delay_samples: i64,
    peak: f64,
}

/// The delay, in output samples, that `filters` add, measured by running them on `probe` (mono at
/// 16 kHz) and cross-correlating the output with the probe; cached in `cache_dir`.
///
/// # Errors
/// ffmpeg failing, or a correlation too weak to trust.
pub fn measure_filter_delay(
    encode: &Encode,
    filters: &str,
    pre_steps: &[Step],
    probe: &[f32],
    cache_dir: &Path,
    ffmpeg: &str,
) -> Result<i64, String> {
    let key = fnv1a64(
        format!(
            "{CACHE_VERSION}\n{filters}\n{ffmpeg}\n{pre_steps:?}\n{}",
            probe.len()
        )
        .as_bytes(),
    ) ^ fnv1a64(bytemuck_f32(probe).as_slice());
    let cache_path = cache_dir.join(format!("delay-{key:016x}.json"));
    if let Ok(text) = std::fs::read_to_string(&cache_path)
        && let Ok(cached) = serde_json::from_str::<DelayCache>(&text)
        && cached.key == key
    {
        return Ok(cached.delay_samples);
    }
    let (signal, _) = apply_steps(probe, empty_truth(), pre_steps, NoiseSources::default(), 0);
    let input = cache_dir.join(format!("delay-{key:016x}.probe.wav"));
    write_atomic(&input, &wav_bytes(&signal)?)?;
    let output = cache_dir.join(format!("delay-{key:016x}.probe-out.wav"));
    run_ffmpeg(&[
        "-i".into(),
        input.display().to_string(),
        "-af".into(),
        filters.into(),
        "-c:a".into(),
        "pcm_f32le".into(),
        output.display().to_string(),
    ])?;
    let decoded = ffmpeg_decode(&output)?;
    let _ = std::fs::remove_file(&input);
    let _ = std::fs::remove_file(&output);
    let reference = without_dc(&resample(probe, GEN_RATE_HZ, encode.rate_hz));
    let max_lag = (ALIGN_MAX_LAG_S * f64::from(encode.rate_hz)) as usize;
    let (lag, peak) = xcorr_peak(&without_dc(&decoded), &reference, max_lag);
    if peak < ALIGN_MIN_PEAK {
        return Err(format!(
            "measuring the delay of {filters:?}: correlation peak {peak:.3} is too weak to trust"
        ));
    }
    let cached = DelayCache {
        key,
        filters: filters.into(),
        ffmpeg: ffmpeg.into(),
        delay_samples: lag,
        peak,
    };
    let text = serde_json::to_string_pretty(&cached).map_err(|e| e.to_string())?;
    write_atomic(&cache_path, text.as_bytes())?;
    Ok(lag)
}

/// f32 samples as little-endian bytes (for hashing).
fn bytemuck_f32(x: &[f32]) -> Vec<u8> {
    x.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A truth with nothing in it, for probe signals.
fn empty_truth() -> ClipTruth {
    ClipTruth {
        schema: String::new(),
        clip: "probe".into(),
        clip_id: "probe".into(),
        file: String::new(),
        split: crate::truth::Split::Train,
        kind: crate::truth::ClipKind::Authentic,
        label: crate::truth::Label::Authentic,
        condition: String::new(),
        chain: Vec::new(),
        duration_s: 0.0,
        sample_rate_hz: GEN_RATE_HZ,
        splices: Vec::new(),
        pieces: Vec::new(),
        alignment: None,
    }
}

/// What the cache remembers of one encode.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EncodeCache {
    key: u64,
    alignment: Alignment,
    decoded_samples: u64,
}

/// Encodes `signal` with ffmpeg into `output` — unless the cache in `cache_dir` says this input
/// and command made the file already — and checks that the decoded output lines up with the input
/// (the truth's times stay exact). `delay` is the filters' measured delay, compensated by padding
/// the input's end and trimming the output's start.
///
/// Returns the alignment found and the decoded length in samples, and whether ffmpeg ran.
///
/// # Errors
/// ffmpeg failing, or an output whose timeline has moved.
pub fn encode_cached(
    signal: &Signal,
    encode: &Encode,
    delay_samples: i64,
    output: &Path,
    cache_dir: &Path,
    ffmpeg: &str,
) -> Result<(Alignment, u64, bool), String> {
    let wav = wav_bytes(signal)?;
    let args = encode_args(signal, encode, delay_samples);
    let key = fnv1a64(&wav)
        ^ fnv1a64(format!("{CACHE_VERSION}\n{args:?}\n{ffmpeg}").as_bytes()).rotate_left(17);
    let stem = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cache_path = cache_dir.join(format!("{stem}.json"));
    if output.is_file()
        && let Ok(text) = std::fs::read_to_string(&cache_path)
        && let Ok(cached) = serde_json::from_str::<EncodeCache>(&text)
        && cached.key == key
    {
        return Ok((cached.alignment, cached.decoded_samples, false));
    }
    let input = cache_dir.join(format!("{stem}.input.wav"));
    write_atomic(&input, &wav)?;
    let temp = temp_sibling(output);
    let mut full_args = vec!["-i".to_string(), input.display().to_string()];
    full_args.extend(args);
    full_args.push(temp.display().to_string());
    let result = run_ffmpeg(&full_args);
    let _ = std::fs::remove_file(&input);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    std::fs::rename(&temp, output).map_err(|e| format!("{}: {e}", output.display()))?;
    let decoded = ffmpeg_decode(output)?;
    let mono = signal.first_channel();
    // Codecs drop a DC offset (some corpus recordings have a large one): compare without it.
    let reference = without_dc(&resample(&mono, signal.rate_hz, encode.rate_hz));
    let max_lag = (ALIGN_MAX_LAG_S * f64::from(encode.rate_hz)) as usize;
    let (lag, peak) = xcorr_peak(&without_dc(&decoded), &reference, max_lag);
    let alignment = Alignment {
        method: "the file decoded by ffmpeg, cross-correlated with the signal before encoding"
            .into(),
        rate_hz: encode.rate_hz,
        lag_samples: lag,
        peak,
    };
    if lag.abs() > ALIGN_TOLERANCE_SAMPLES || peak < ALIGN_MIN_PEAK {
        return Err(format!(
            "{}: the encoded timeline moved: lag {lag} samples at {} Hz (peak {peak:.3}); the \
             truth would be wrong",
            output.display(),
            encode.rate_hz
        ));
    }
    let cached = EncodeCache {
        key,
        alignment: alignment.clone(),
        decoded_samples: decoded.len() as u64,
    };
    let text = serde_json::to_string_pretty(&cached).map_err(|e| e.to_string())?;
    write_atomic(&cache_path, text.as_bytes())?;
    Ok((alignment, decoded.len() as u64, true))
}

/// ffmpeg arguments after the input for `encode`, with the delay compensation: the input padded
/// at its end by the delay, the output trimmed by it at its start and to the input's length, and
/// timestamps restarted at 0 so the container adds no offset.
fn encode_args(signal: &Signal, encode: &Encode, delay_samples: i64) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(filters) = encode.filters {
        let frames = signal.samples.len() / usize::from(signal.channels.max(1));
        let out_len = (frames as u128 * u128::from(encode.rate_hz)
            + u128::from(signal.rate_hz) / 2)
            / u128::from(signal.rate_hz);
        let graph = if delay_samples > 0 {
            let pad = (delay_samples as u128 * u128::from(signal.rate_hz))
                .div_ceil(u128::from(encode.rate_hz))
                + u128::from(signal.rate_hz / 100);
            format!(
                "apad=pad_len={pad},{filters},atrim=start_sample={delay_samples}:end_sample={},\
                 asetpts=PTS-STARTPTS",
                delay_samples as u128 + out_len
            )
        } else {
            format!("{filters},atrim=end_sample={out_len},asetpts=PTS-STARTPTS")
        };
        args.extend(["-af".to_string(), graph]);
    }
    args.extend(encode.args.iter().map(|a| a.to_string()));
    args.extend([
        "-ar".to_string(),
        encode.rate_hz.to_string(),
        "-map_metadata".into(),
        "-1".into(),
    ]);
    args
}

/// `dir/.name.tmp.ext`: a temporary name beside `path` that keeps its extension (ffmpeg picks the
/// container from it).
pub fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}.{ext}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth() -> ClipTruth {
        let mut t = empty_truth();
        t.splices.push(crate::truth::SpliceTruth {
            time_s: 1.0,
            join: crate::truth::Join::OtherSpeaker,
            placement: crate::dsp::Placement::Pause,
            crossfade_s: 0.0,
        });
        t
    }

    #[test]
    fn the_noise_bed_plays_its_recording_backwards() {
        // A rising ramp as the noise recording: played backwards, every bed falls.
        let ramp: Vec<f32> = (0..64_000).map(|n| n as f32 / 64_000.0).collect();
        let noise = [Recording::new(
            "noise/ramp.flac".to_string(),
            "ramp".to_string(),
            String::new(),
            ramp,
        )];
        for seed in 0..8 {
            let bed = noise_bed(16_000, GEN_RATE_HZ, &noise, seed, "clip");
            assert_eq!(bed.len(), 16_000);
            let (early, late) = (bed[1_000], bed[15_000]);
            assert!(early > late + 0.2, "seed {seed}: {early} then {late}");
        }
    }

    #[test]
    fn babble_leaves_out_the_clips_own_recording_and_fills_the_clip() {
        let reading = |rel_path: &str, samples: Vec<f32>| {
            let name = rel_path.to_string();
            Recording::new(name.clone(), name.clone(), name, samples)
        };
        // The clip's own reading is a constant (DC); the other talker is a tone without DC.
        let own = reading("speech/own.flac", vec![1.0; 8_000]);
        let other = reading(
            "speech/other.flac",
            (0..8_000).map(|n| (n as f32 * 0.3).sin()).collect(),
        );
        let mut t = truth();
        t.pieces.push(crate::truth::PieceTruth {
            recording: own.rel_path.clone(),
            speaker: own.speaker.clone(),
            reference: None,
            master: "unarchived/own.wav".into(),
            clip_start_s: 0.0,
            clip_end_s: 2.0,
            source_start_s: 0.0,
            source_end_s: 2.0,
            speed: 1.0,
            acoustics: crate::acoustics::Acoustics::default(),
            own_hum_db: 0.0,
        });
        let talkers = [own, other];
        let bed = babble_bed(32_000, GEN_RATE_HZ, &talkers, 5, &t);
        assert_eq!(bed.len(), 32_000);
        let mean = bed.iter().map(|&v| f64::from(v)).sum::<f64>() / bed.len() as f64;
        let rms =
            (bed.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / bed.len() as f64).sqrt();
        assert!(rms > 1.0, "six talkers at unit level: {rms}");
        assert!(
            mean.abs() < 0.05 * rms,
            "the clip's own reading leaked in: mean {mean}"
        );
    }

    #[test]
    fn apply_steps_speed_scales_the_truth_and_the_length() {
        let x: Vec<f32> = (0..16_000).map(|n| (n as f32 * 0.01).sin()).collect();
        let (signal, t) = apply_steps(
            &x,
            truth(),
            &[Step::Speed(1040)],
            NoiseSources::default(),
            1,
        );
        assert_eq!(signal.samples.len(), 15_385); // round(16000 / 1.04)
        assert!((t.splices[0].time_s - 1.0 / 1.04).abs() < 1e-12);
        assert!((t.duration_s - 15_385.0 / 16_000.0).abs() < 1e-12);
    }

    #[test]
    fn apply_steps_resample_and_stereo_keep_the_timeline() {
        let mut rng = Rng::new(2);
        let x: Vec<f32> = (0..16_000).map(|_| rng.normal() as f32 * 0.1).collect();
        let steps = [Step::Gain(-6.0), Step::Resample(44_100), Step::Stereo];
        let (signal, t) = apply_steps(&x, truth(), &steps, NoiseSources::default(), 1);
        assert_eq!((signal.rate_hz, signal.channels), (44_100, 2));
        assert_eq!(t.splices[0].time_s, 1.0);
        let back = resample(&signal.first_channel(), 44_100, 16_000);
        let (lag, peak) = xcorr_peak(&back, &x, 50);
        assert_eq!(lag, 0);
        // White noise loses its top few hundred hertz to the resampler's anti-alias filter.
        assert!(peak > 0.98, "{peak}");
    }

    #[test]
    fn conditions_have_unique_names_and_quick_ones_need_no_ffmpeg() {
        let all = conditions();
        let mut names: Vec<&str> = all.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(all.iter().filter(|c| c.quick).all(|c| c.encode.is_none()));
    }

    #[test]
    fn encode_args_compensate_a_filter_delay() {
        let signal = Signal {
            samples: vec![0.0; 48_000 * 2],
            rate_hz: 48_000,
            channels: 2,
        };
        let encode = conditions()
            .into_iter()
            .find(|c| c.name == "conference")
            .and_then(|c| c.encode)
            .expect("the conference condition encodes");
        let args = encode_args(&signal, &encode, 800).join(" ");
        assert!(args.contains("apad=pad_len=1680,"), "{args}");
        assert!(
            args.contains("atrim=start_sample=800:end_sample=32800,asetpts=PTS-STARTPTS"),
            "{args}"
        );
    }
}
