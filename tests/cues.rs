//! The splice cues on signals whose answer is known by construction, and on real speech.
//!
//! Each cue has a known-answer test (a step, jump or change at a known instant: the track's peak
//! must land there, within a stated tolerance, and stay low elsewhere), a test on real speech
//! from `testdata/cues/` (two recordings joined, or one cut: a peak at the joint; one unedited
//! recording: no strong peak), and a test of its abstention. The real recordings come from readers
//! that were not used to choose the cues' constants (see testdata/cues/README.md).
#![forbid(unsafe_code)]

mod common;

use std::collections::BTreeMap;
use std::f64::consts::PI;

use clip_provenance::{
    AnalysisStream, AudioReader, ChannelCue, CodecCue, CueKey, CueSet, CueTrack, DecodeOptions,
    EnfCue, Error, FUSION, NoiseFloorCue, ReverbCue, SampleCue, Spectrogram, SpectrogramConfig,
    SpectrogramCue, SpectrogramStream, WaveformCue, cue_usability, decode_path, fusion_inputs,
    read_analysis_signal,
};

const RATE_HZ: u32 = 16_000;

/// A fixed-seed xorshift64 generator (Marsaglia 2003) with Box–Muller normals, so tests need no
/// RNG crate and are deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-300);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (2.0 * PI * v).cos()
    }
}

/// Mono samples of a fixture in testdata/cues, with its rate.
fn fixture(name: &str) -> (Vec<f32>, u32) {
    let audio = decode_path(
        format!("testdata/cues/{name}.flac"),
        &DecodeOptions::default(),
    )
    .expect("fixture decodes");
    (audio.to_mono(), audio.info.sample_rate)
}

fn spectrogram_track<C: SpectrogramCue>(mut cue: C, samples: &[f32]) -> CueTrack {
    let spectrogram =
        Spectrogram::compute(samples, RATE_HZ, &SpectrogramConfig::default()).expect("computes");
    cue.push(&spectrogram).expect("block fits the cue");
    cue.finish()
}

fn noise_floor(samples: &[f32]) -> CueTrack {
    spectrogram_track(
        NoiseFloorCue::new(RATE_HZ, &SpectrogramConfig::default()).expect("valid"),
        samples,
    )
}

fn channel(samples: &[f32]) -> CueTrack {
    spectrogram_track(
        ChannelCue::new(RATE_HZ, &SpectrogramConfig::default()).expect("valid"),
        samples,
    )
}

fn reverb(samples: &[f32]) -> CueTrack {
    spectrogram_track(
        ReverbCue::new(RATE_HZ, &SpectrogramConfig::default()).expect("valid"),
        samples,
    )
}

fn sample_track<C: SampleCue>(mut cue: C, samples: &[f32]) -> CueTrack {
    // Odd-sized chunks, so block boundaries inside the cues fall everywhere.
    for chunk in samples.chunks(3001) {
        cue.push(chunk);
    }
    cue.finish()
}

/// The largest confidence-weighted value in `[from_s, to_s]`, and its time.
fn weighted_peak(track: &CueTrack, from_s: f64, to_s: f64) -> (f64, f32) {
    (0..track.len())
        .filter(|&i| (from_s..=to_s).contains(&track.time_s(i)))
        .map(|i| (track.time_s(i), track.values[i] * track.confidence[i]))
        .fold(
            (f64::NAN, 0.0),
            |best, x| if x.1 > best.1 { x } else { best },
        )
}

/// The largest confidence-weighted value farther than `guard_s` from `time_s`.
fn weighted_max_away_from(track: &CueTrack, time_s: f64, guard_s: f64) -> f32 {
    (0..track.len())
        .filter(|&i| (track.time_s(i) - time_s).abs() > guard_s)
        .map(|i| track.values[i] * track.confidence[i])
        .fold(0.0, f32::max)
}

/// Speech-like bursts: 200 ms harmonic complexes (a 140–160 Hz voice with 25 harmonics) every
/// 400 ms, silent in between.
fn syllables(seconds: f64) -> Vec<f32> {
    let n = (seconds * f64::from(RATE_HZ)) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(RATE_HZ);
            let phase = (t / 0.4).fract();
            if phase < 0.5 {
                let envelope = (PI * phase / 0.5).sin();
                let f0 = 150.0 + 10.0 * (1.3 * t).sin();
                let voice: f64 = (1..=25)
                    .map(|h| (2.0 * PI * f0 * f64::from(h) * t).sin() / f64::from(h))
                    .sum();
                (0.05 * envelope * voice) as f32
            } else {
                0.0
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Noise floor
// ---------------------------------------------------------------------------------------------

/// Tone bursts over white noise whose level steps by `step_db` at `at_s`.
fn noise_step(at_s: f64, step_db: f64) -> Vec<f32> {
    let mut rng = Rng(12_345);
    let mut signal = syllables(10.0);
    let at = (at_s * f64::from(RATE_HZ)) as usize;
    for (i, s) in signal.iter_mut().enumerate() {
        let sigma = if i < at {
            0.001
        } else {
            0.001 * 10f64.powf(step_db / 20.0)
        };
        *s += (sigma * rng.normal()) as f32;
    }
    signal
}

#[test]
fn noise_floor_step_of_4_db_peaks_at_the_step() {
    // The step falls in the middle of a pause (pauses span 5.0–5.2 s).
    let track = noise_floor(&noise_step(5.1, 4.0));
    assert!(track.usability.usable, "{:?}", track.usability);
    let (time_s, value) = weighted_peak(&track, 0.0, 10.0);
    // Tolerance: two frame boundaries (16 ms).
    assert!((time_s - 5.1).abs() <= 0.016, "peak at {time_s} s");
    assert!(value > track.scale, "value {value}");
    let elsewhere = weighted_max_away_from(&track, 5.1, 2.2);
    assert!(elsewhere < 0.5 * track.scale, "elsewhere {elsewhere}");
}

#[test]
fn noise_floor_step_of_12_db_is_found_on_a_plateau_of_at_most_a_second() {
    // A step larger than the 6 dB pause margin: the louder side's pauses within 0.75 s of it
    // are not taken as pauses (the local floor still reaches the quieter side), so the track
    // has a plateau from the last pause before the step to the first counted after it, instead
    // of a sharp apex. The step lies on it.
    let track = noise_floor(&noise_step(5.1, 12.0));
    let (_, value) = weighted_peak(&track, 0.0, 10.0);
    assert!(value > 2.0 * track.scale, "value {value}");
    let near_peak: Vec<f64> = (0..track.len())
        .filter(|&i| track.values[i] * track.confidence[i] >= 0.9 * value)
        .map(|i| track.time_s(i))
        .collect();
    let (first, last) = (near_peak[0], near_peak[near_peak.len() - 1]);
    assert!(
        first <= 5.1 + 0.016 && 5.1 - 0.016 <= last,
        "{first}..{last}"
    );
    assert!(last - first <= 1.1, "plateau {first}..{last}");
}

#[test]
fn noise_floor_gated_pauses_abstain() {
    // Pauses of exact digital silence, as a noise gate leaves them.
    let track = noise_floor(&syllables(8.0));
    assert!(!track.usability.usable);
    assert!(
        track.usability.note.contains("digital silence"),
        "{}",
        track.usability.note
    );
    assert!(track.confidence.iter().all(|&c| c == 0.0));
}

#[test]
fn noise_floor_real_join_of_two_readers_peaks_at_the_joint() {
    let (a, _) = fixture("librispeech-1867-148436-0000-16k-12s");
    let (b, _) = fixture("librispeech-1578-140045-0000-16k-6s");
    let mut joined = a[..6 * RATE_HZ as usize].to_vec();
    joined.extend_from_slice(&b);
    let track = noise_floor(&joined);
    let (time_s, value) = weighted_peak(&track, 0.0, 12.0);
    // The evidence lies between the last pause before the joint and the first after it: within
    // half a second here.
    assert!((time_s - 6.0).abs() < 0.5, "peak at {time_s} s");
    assert!(value > track.scale, "value {value}");
    let elsewhere = weighted_max_away_from(&track, 6.0, 2.0);
    assert!(
        elsewhere < 0.5 * value,
        "elsewhere {elsewhere}, peak {value}"
    );
}

#[test]
fn noise_floor_real_unedited_reading_stays_below_its_scale() {
    let (a, _) = fixture("librispeech-1867-148436-0000-16k-12s");
    let track = noise_floor(&a);
    assert!(track.usability.usable);
    let (time_s, value) = weighted_peak(&track, 0.0, 12.0);
    assert!(value < track.scale, "{value} at {time_s} s");
}

// ---------------------------------------------------------------------------------------------
// Channel
// ---------------------------------------------------------------------------------------------

/// An RBJ audio-EQ-cookbook peaking filter (Bristow-Johnson, "Cookbook formulae for audio
/// equalizer biquad filter coefficients").
struct Peaking {
    b: [f64; 3],
    a: [f64; 2],
    x: [f64; 2],
    y: [f64; 2],
}

impl Peaking {
    fn new(frequency_hz: f64, gain_db: f64, q: f64) -> Peaking {
        let a = 10f64.powf(gain_db / 40.0);
        let w = 2.0 * PI * frequency_hz / f64::from(RATE_HZ);
        let alpha = w.sin() / (2.0 * q);
        let a0 = 1.0 + alpha / a;
        Peaking {
            b: [
                (1.0 + alpha * a) / a0,
                -2.0 * w.cos() / a0,
                (1.0 - alpha * a) / a0,
            ],
            a: [-2.0 * w.cos() / a0, (1.0 - alpha / a) / a0],
            x: [0.0; 2],
            y: [0.0; 2],
        }
    }

    fn process(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

#[test]
fn channel_equaliser_change_peaks_at_the_change() {
    // Bursts of low-passed noise (a voice-like tilt), through a +9 dB peak at 1.5 kHz from
    // 5.0 s on: a change of microphone or room response.
    let mut rng = Rng(777);
    let mut low = 0.0;
    let mut eq = Peaking::new(1500.0, 9.0, 1.0);
    let signal: Vec<f32> = (0..10 * RATE_HZ as usize)
        .map(|i| {
            let t = i as f64 / f64::from(RATE_HZ);
            // One-pole low-pass at about 400 Hz.
            low += 0.15 * (rng.normal() - low);
            let burst = if (t / 0.3).fract() < 0.6 {
                0.2 * low
            } else {
                0.0
            };
            let filtered = eq.process(burst);
            let out = if t >= 5.0 { filtered } else { burst };
            (out + 1e-4 * rng.normal()) as f32
        })
        .collect();
    let track = channel(&signal);
    assert!(track.usability.usable, "{:?}", track.usability);
    let (time_s, value) = weighted_peak(&track, 0.0, 10.0);
    // Tolerance: a tenth of a second (the sonorant frames come in 180 ms bursts).
    assert!((time_s - 5.0).abs() <= 0.1, "peak at {time_s} s");
    let elsewhere = weighted_max_away_from(&track, 5.0, 3.0);
    assert!(
        value > 3.0 * elsewhere,
        "peak {value}, elsewhere {elsewhere}"
    );
}

#[test]
fn channel_real_join_of_two_readers_peaks_at_the_joint() {
    let (a, _) = fixture("librispeech-1867-148436-0000-16k-12s");
    let (b, _) = fixture("librispeech-1578-140045-0000-16k-6s");
    let mut joined = a[..6 * RATE_HZ as usize].to_vec();
    joined.extend_from_slice(&b);
    let track = channel(&joined);
    let (time_s, value) = weighted_peak(&track, 0.0, 12.0);
    assert!((time_s - 6.0).abs() < 0.25, "peak at {time_s} s");
    assert!(value > track.scale, "value {value}");
    let elsewhere = weighted_max_away_from(&track, 6.0, 2.0);
    assert!(
        elsewhere < 0.6 * value,
        "elsewhere {elsewhere}, peak {value}"
    );
}

#[test]
fn channel_real_unedited_reading_stays_below_its_scale() {
    let (a, _) = fixture("librispeech-1867-148436-0000-16k-12s");
    let track = channel(&a);
    let (time_s, value) = weighted_peak(&track, 0.0, 12.0);
    assert!(value < track.scale, "{value} at {time_s} s");
}

#[test]
fn channel_without_voiced_speech_abstains() {
    let mut rng = Rng(5);
    let noise: Vec<f32> = (0..5 * RATE_HZ as usize)
        .map(|_| (0.01 * rng.normal()) as f32)
        .collect();
    let track = channel(&noise);
    assert!(!track.usability.usable);
    assert!(track.usability.note.contains("voiced speech"));
}

// ---------------------------------------------------------------------------------------------
// ENF
// ---------------------------------------------------------------------------------------------

/// Mains hum at `nominal_hz` with 2nd and 3rd harmonics (amplitudes 1, 0.5, 0.3 × `amplitude`),
/// its frequency a random walk (steps of 2 mHz every 0.1 s, within ±50 mHz: the grid's wander),
/// and a phase jump of `jump_rad` at `jump_s`.
fn hum(samples: usize, nominal_hz: f64, amplitude: f64, jump_s: f64, jump_rad: f64) -> Vec<f32> {
    let wander = Wander {
        step_hz: 0.002,
        max_hz: 0.05,
        seed: 31_337,
    };
    wandering_hum(samples, nominal_hz, amplitude, &wander, jump_s, jump_rad)
}

/// A random walk of a hum's frequency: a normal step of `step_hz` standard deviation every 0.1 s,
/// held within ±`max_hz`.
struct Wander {
    step_hz: f64,
    max_hz: f64,
    seed: u64,
}

/// [`hum`] with its frequency wandering as `wander` says.
fn wandering_hum(
    samples: usize,
    nominal_hz: f64,
    amplitude: f64,
    wander: &Wander,
    jump_s: f64,
    jump_rad: f64,
) -> Vec<f32> {
    let mut rng = Rng(wander.seed);
    let (mut phase, mut deviation_hz) = (0.0_f64, 0.0_f64);
    (0..samples)
        .map(|i| {
            if i % (RATE_HZ as usize / 10) == 0 {
                deviation_hz = (deviation_hz + wander.step_hz * rng.normal())
                    .clamp(-wander.max_hz, wander.max_hz);
            }
            phase += 2.0 * PI * (nominal_hz + deviation_hz) / f64::from(RATE_HZ);
            let t = i as f64 / f64::from(RATE_HZ);
            let p = phase + if t >= jump_s { jump_rad } else { 0.0 };
            let value = p.sin() + 0.5 * (2.0 * p + 0.3).sin() + 0.3 * (3.0 * p + 1.0).sin();
            (amplitude * value) as f32
        })
        .collect()
}

fn white(samples: usize, sigma: f64, seed: u64) -> Vec<f32> {
    let mut rng = Rng(seed);
    (0..samples)
        .map(|_| (sigma * rng.normal()) as f32)
        .collect()
}

/// [`hum`] at amplitude 0.003 in white noise of the same standard deviation.
fn hum_in_noise(n: usize, nominal_hz: f64, jump_s: f64, jump_rad: f64, seed: u64) -> Vec<f32> {
    let hum = hum(n, nominal_hz, 0.003, jump_s, jump_rad);
    white(n, 0.003, seed)
        .iter()
        .zip(&hum)
        .map(|(a, b)| a + b)
        .collect()
}

fn enf(samples: &[f32]) -> CueTrack {
    sample_track(EnfCue::new(RATE_HZ).expect("valid"), samples)
}

#[test]
fn enf_phase_jump_in_hum_peaks_at_the_jump() {
    let n = 20 * RATE_HZ as usize;
    let jump_rad = 1.5;
    let signal = hum_in_noise(n, 50.0, 10.3, jump_rad, 7);
    let track = enf(&signal);
    assert!(track.usability.usable, "{:?}", track.usability);
    assert_eq!(track.usability.facts["nominal_hz"], 50.0);
    let (time_s, value) = weighted_peak(&track, 0.0, 20.0);
    // Tolerance: one 50 ms block.
    assert!((time_s - 10.3).abs() <= 0.05 + 1e-9, "peak at {time_s} s");
    // The three lines jump by 1.5, 3.0 and 4.5 ≡ −1.78 rad together: far beyond the reference
    // jump of 70° on one line, so far above the reference scale.
    assert!(value > 4.0 * track.scale, "value {value}");
    // Away from the jump the track keeps only small peaks: the rate measured on a 25 s window
    // that holds the jump is tilted by it, which leaves flanks of about a fifth of the jump's
    // peak where the hum is this strong.
    let elsewhere = weighted_max_away_from(&track, 10.3, 2.5);
    assert!(
        elsewhere < 0.25 * value,
        "elsewhere {elsewhere}, peak {value}"
    );
}

#[test]
fn enf_hum_of_a_sped_up_clip_is_read_at_its_speed() {
    // A clip played 4 % fast: its 50 Hz hum sits at 52 Hz (and 104, 156 Hz), where a 1 s frame
    // at 50 Hz has the null of its window. The cue finds the speed and the jump.
    let n = 20 * RATE_HZ as usize;
    let signal = hum_in_noise(n, 52.0, 10.3, 1.5, 12);
    let track = enf(&signal);
    assert!(track.usability.usable, "{:?}", track.usability);
    let facts = &track.usability.facts;
    assert_eq!(facts["nominal_hz"], 50.0);
    let speed = facts["speed"].as_f64().expect("a speed");
    assert!((speed - 1.04).abs() <= 0.0025 + 1e-9, "speed {speed}");
    let frequency_hz = facts["frequency_hz"].as_f64().expect("number");
    assert!((frequency_hz - 52.0).abs() < 0.05, "{frequency_hz}");
    let (time_s, value) = weighted_peak(&track, 0.0, 20.0);
    assert!((time_s - 10.3).abs() <= 0.05 + 1e-9, "peak at {time_s} s");
    assert!(value > 4.0 * track.scale, "value {value}");
    let elsewhere = weighted_max_away_from(&track, 10.3, 2.5);
    assert!(
        elsewhere < 0.25 * value,
        "elsewhere {elsewhere}, peak {value}"
    );
    // At its own speed the same hum has no `speed` fact.
    let track = enf(&hum_in_noise(n, 50.0, 10.3, 1.5, 12));
    assert!(!track.usability.facts.contains_key("speed"));
}

#[test]
fn enf_continuous_wandering_hum_stays_low_and_reports_its_frequency() {
    let n = 20 * RATE_HZ as usize;
    let signal = hum_in_noise(n, 60.0, f64::INFINITY, 0.0, 8);
    let track = enf(&signal);
    let facts = &track.usability.facts;
    assert_eq!(facts["nominal_hz"], 60.0);
    assert_eq!(
        facts["harmonics_hz"],
        serde_json::json!([60.0, 120.0, 180.0])
    );
    let frequency_hz = facts["frequency_hz"].as_f64().expect("number");
    assert!((frequency_hz - 60.0).abs() < 0.05, "{frequency_hz}");
    // Strong hum (as loud as the noise over the whole band) reads each side's phase to within
    // the model's error, so what is left is the grid's wander: under half the reference.
    let (time_s, value) = weighted_peak(&track, 0.0, 20.0);
    assert!(value < 0.5 * track.scale, "{value} at {time_s} s");
}

/// `samples` played `percent` % fast: taken as recorded at `RATE_HZ · (100 + percent) / 100` and
/// resampled to `RATE_HZ`.
fn played_fast(samples: &[f32], percent: u32) -> Vec<f32> {
    common::resample(samples, RATE_HZ * (100 + percent) / 100, RATE_HZ)
}

#[test]
fn enf_short_real_clip_played_4_percent_fast_is_read_at_its_speed() {
    // Six seconds of LibriSpeech 1723 with its own 50 Hz hum, played 4 % fast (hum at 52 Hz):
    // too few pulse pairs for the speed search's coherence test, which needs about 11 s, so the
    // search finds the lines by the frames that hold them. Before, such a clip read as having
    // no hum. Removing 0.36 s at 3 s (18.7 cycles of 52 Hz) jumps the hum's phase.
    let (speech, rate) = fixture("librispeech-1723-141149-0000-16k-12s-mains-hum-50hz");
    assert_eq!(rate, RATE_HZ);
    let fast = played_fast(&speech[..6 * RATE_HZ as usize], 4);
    let track = enf(&fast);
    assert!(track.usability.usable, "{:?}", track.usability);
    assert_eq!(track.usability.facts["nominal_hz"], 50.0);
    let speed = track.usability.facts["speed"].as_f64().expect("a speed");
    assert!((speed - 1.04).abs() <= 0.005 + 1e-9, "speed {speed}");
    let (_, unedited) = weighted_peak(&track, 0.0, 6.0);
    let cut = 3 * RATE_HZ as usize;
    let gap = (0.36 * f64::from(RATE_HZ)) as usize;
    let mut edited = fast[..cut].to_vec();
    edited.extend_from_slice(&fast[cut + gap..]);
    let track = enf(&edited);
    assert!(track.usability.usable, "{:?}", track.usability);
    let (time_s, value) = weighted_peak(&track, 0.0, 6.0);
    assert!((time_s - 3.0).abs() <= 0.1, "peak at {time_s} s");
    assert!(
        value > 0.5 * track.scale && value > 4.0 * unedited,
        "value {value}, unedited {unedited}"
    );
}

#[test]
fn enf_short_real_clip_without_hum_finds_no_hum_at_any_speed() {
    // The same search on six seconds of speech without hum (LibriSpeech 1867), as recorded and
    // played 4 % fast: no line holds 0.9 of the frames at any speed.
    let (speech, rate) = fixture("librispeech-1867-148436-0000-16k-12s");
    assert_eq!(rate, RATE_HZ);
    let short = &speech[..6 * RATE_HZ as usize];
    for clip in [short.to_vec(), played_fast(short, 4)] {
        let track = enf(&clip);
        assert!(!track.usability.usable, "{:?}", track.usability);
        assert_eq!(track.usability.note, "no mains hum at 50 or 60 Hz");
    }
}

#[test]
fn enf_without_hum_abstains_with_the_report_note() {
    let track = enf(&white(15 * RATE_HZ as usize, 0.003, 9));
    assert!(!track.usability.usable);
    assert_eq!(track.usability.note, "no mains hum at 50 or 60 Hz");
    assert!(track.confidence.iter().all(|&c| c == 0.0));
    let json = serde_json::to_value(&track.usability).expect("serialises");
    assert_eq!(json["usable"], false);
    assert_eq!(json["note"], "no mains hum at 50 or 60 Hz");
}

#[test]
fn enf_real_recording_with_mains_hum_cut_peaks_at_the_cut() {
    // LibriSpeech 1723 carries 50 Hz hum from its recording. Removing 0.37 s (18.5 cycles of
    // 50 Hz) jumps the hum's phase by about π at the cut.
    let (speech, _) = fixture("librispeech-1723-141149-0000-16k-12s-mains-hum-50hz");
    let cut = 6 * RATE_HZ as usize;
    let gap = (0.37 * f64::from(RATE_HZ)) as usize;
    let mut edited = speech[..cut].to_vec();
    edited.extend_from_slice(&speech[cut + gap..]);
    let track = enf(&edited);
    assert_eq!(track.usability.facts["nominal_hz"], 50.0);
    let (time_s, value) = weighted_peak(&track, 0.0, 12.0);
    assert!((time_s - 6.0).abs() <= 0.1, "peak at {time_s} s");
    assert!(value > track.scale, "value {value}");
}

#[test]
fn enf_real_recording_played_3_percent_fast_is_read_and_its_cut_found() {
    // LibriSpeech 1723 with its own 50 Hz hum, played 3 % fast (its 16 kHz samples taken as
    // 16 480 Hz and resampled to 16 kHz): the hum sits at 51.5 Hz. Removing 0.36 s of the
    // sped-up clip at 5.5 s (18.54 cycles of 51.5 Hz) jumps the hum's phase by about π.
    let (speech, rate) = fixture("librispeech-1723-141149-0000-16k-12s-mains-hum-50hz");
    assert_eq!(rate, RATE_HZ);
    let fast = played_fast(&speech, 3);
    let track = enf(&fast);
    assert!(track.usability.usable, "{:?}", track.usability);
    let speed = track.usability.facts["speed"].as_f64().expect("a speed");
    assert!((speed - 1.03).abs() <= 0.0025 + 1e-9, "speed {speed}");
    let (_, unedited) = weighted_peak(&track, 0.0, 11.0);
    assert!(unedited < 0.25 * track.scale, "unedited {unedited}");
    let cut = (5.5 * f64::from(RATE_HZ)) as usize;
    let gap = (0.36 * f64::from(RATE_HZ)) as usize;
    let mut edited = fast[..cut].to_vec();
    edited.extend_from_slice(&fast[cut + gap..]);
    let track = enf(&edited);
    let (time_s, value) = weighted_peak(&track, 0.0, 11.0);
    assert!((time_s - 5.5).abs() <= 0.1, "peak at {time_s} s");
    assert!(value > track.scale, "value {value}");
}

#[test]
fn enf_real_recording_with_mains_hum_unedited_stays_low() {
    let (speech, _) = fixture("librispeech-1723-141149-0000-16k-12s-mains-hum-50hz");
    let track = enf(&speech);
    assert!(track.usability.usable);
    let (time_s, value) = weighted_peak(&track, 0.0, 12.0);
    assert!(value < 0.25 * track.scale, "{value} at {time_s} s");
}

#[test]
fn enf_synthetic_hum_on_real_speech_cut_peaks_at_the_cut() {
    // A reading without hum of its own, with 50 Hz hum 30 dB below the speech's RMS added, then
    // 0.235 s cut out at 7.0 s: 11.75 cycles of 50 Hz, so the three lines jump by −π/2, π and
    // π/2 (a whole or half number of cycles would leave the 100 Hz line unmoved).
    let (speech, _) = fixture("librispeech-1867-148436-0000-16k-12s");
    assert!(
        !enf(&speech).usability.usable,
        "the reading itself has no hum"
    );
    let rms =
        (speech.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / speech.len() as f64).sqrt();
    let amplitude = rms * 10f64.powf(-30.0 / 20.0) * 2f64.sqrt();
    let hum = hum(speech.len(), 50.0, amplitude, f64::INFINITY, 0.0);
    let with_hum: Vec<f32> = speech.iter().zip(&hum).map(|(a, b)| a + b).collect();
    let cut = 7 * RATE_HZ as usize;
    let gap = (0.235 * f64::from(RATE_HZ)) as usize;
    let mut edited = with_hum[..cut].to_vec();
    edited.extend_from_slice(&with_hum[cut + gap..]);
    let track = enf(&edited);
    assert_eq!(track.usability.facts["nominal_hz"], 50.0);
    let (time_s, value) = weighted_peak(&track, 0.0, 12.0);
    assert!((time_s - 7.0).abs() <= 0.1, "peak at {time_s} s");
    assert!(value > 0.5 * track.scale, "value {value}");
    let elsewhere = weighted_max_away_from(&track, 7.0, 2.5);
    assert!(elsewhere < 0.5 * value, "elsewhere {elsewhere}");
}

#[test]
fn enf_cut_near_the_clip_start_is_read() {
    // A side needs only half a second of hum: a jump 0.8 s into the clip is found where it is.
    let n = 10 * RATE_HZ as usize;
    let signal = hum_in_noise(n, 60.0, 0.8, 2.0, 11);
    let track = enf(&signal);
    let (time_s, value) = weighted_peak(&track, 0.0, 10.0);
    assert!((time_s - 0.8).abs() <= 0.05 + 1e-9, "peak at {time_s} s");
    assert!(value > track.scale, "value {value}");
    assert!(track.confidence[track.index_at(0.3).expect("covered")] == 0.0);
}

/// Hum on a worn tape: its frequency wanders ten times as fast as the grid's (steps of 20 mHz
/// every 0.1 s, within ±0.25 Hz), faster than the cue's model allows.
const WORN_TAPE: Wander = Wander {
    step_hz: 0.02,
    max_hz: 0.25,
    seed: 4_242,
};

#[test]
fn enf_hum_that_wanders_everywhere_is_scaled_down_and_says_so() {
    let n = 20 * RATE_HZ as usize;
    let signal: Vec<f32> = white(n, 0.003, 21)
        .iter()
        .zip(&wandering_hum(
            n,
            50.0,
            0.003,
            &WORN_TAPE,
            f64::INFINITY,
            0.0,
        ))
        .map(|(a, b)| a + b)
        .collect();
    let track = enf(&signal);
    assert!(track.usability.usable, "{:?}", track.usability);
    let inflation = track.usability.facts["null_inflation"]
        .as_f64()
        .expect("the clip's statistic ran high");
    assert!(inflation > 1.5, "{inflation}");
    let (time_s, value) = weighted_peak(&track, 0.0, 20.0);
    assert!(value < track.scale, "{value} at {time_s} s");
    // Steady hum is left as it is: no inflation fact.
    let steady = enf(&hum_in_noise(n, 50.0, 10.3, 1.5, 7));
    assert!(!steady.usability.facts.contains_key("null_inflation"));
}

#[test]
fn enf_real_tape_recording_unedited_is_never_asserted_as_cut() {
    // JFK's inaugural address (1961): the recording's own 60 Hz hum wanders with the tape. Each
    // side's phasor is read over 2 s, so the wander shows as steps of up to 1.4 × the reference
    // (two peaks, unscaled: its lower quartile stays under the inflation level) — short of what
    // the fusion asserts on ENF evidence alone. Read as the analyzer reads it: mono at the
    // analysis rate.
    let reader = AudioReader::open_path(
        "testdata/speech/jfk_inaugural_1961_excerpt.flac",
        &DecodeOptions::default(),
    )
    .expect("opens");
    let stream = AnalysisStream::new(reader, RATE_HZ).expect("valid rate");
    let (speech, _, _) = read_analysis_signal(stream).expect("decodes");
    let track = enf(&speech);
    assert!(track.usability.usable, "{:?}", track.usability);
    assert_eq!(track.usability.facts["nominal_hz"], 60.0);
    let strongest = (0..track.len())
        .map(|i| track.strength(i))
        .fold(0.0, f32::max);
    let fused = FUSION.score(&fusion_inputs(&BTreeMap::from([(CueKey::Enf, strongest)])));
    assert!(fused < 0.5, "strength {strongest}, fused {fused}");
    let (time_s, value) = weighted_peak(&track, 0.0, 11.0);
    assert!(value < 2.0 * track.scale, "{value} at {time_s} s");
}

#[test]
fn enf_two_grids_in_one_recording_are_both_read() {
    // LibriSpeech 1723 carries 50 Hz hum of its own; a chain adds 60 Hz hum 35 dB below the
    // speech, and the cut (0.37 s removed at 6 s: 22.2 cycles of 60 Hz, 18.5 of 50 Hz) jumps both.
    let (speech, _) = fixture("librispeech-1723-141149-0000-16k-12s-mains-hum-50hz");
    let rms =
        (speech.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / speech.len() as f64).sqrt();
    let amplitude = rms * 10f64.powf(-35.0 / 20.0) * 2f64.sqrt();
    let added = hum(speech.len(), 60.0, amplitude, f64::INFINITY, 0.0);
    let with_hum: Vec<f32> = speech.iter().zip(&added).map(|(a, b)| a + b).collect();
    let track = enf(&with_hum);
    let harmonics = track.usability.facts["harmonics_hz"].clone();
    assert!(
        harmonics
            .as_array()
            .is_some_and(|h| h.contains(&50.0.into()) && h.contains(&60.0.into())),
        "{harmonics}"
    );
    // Speech crossing the 60 and 120 Hz lines (35 dB below it) moves their phase a little.
    let (_, unedited) = weighted_peak(&track, 0.0, 12.0);
    assert!(unedited < track.scale, "unedited {unedited}");
    let cut = 6 * RATE_HZ as usize;
    let gap = (0.37 * f64::from(RATE_HZ)) as usize;
    let mut edited = with_hum[..cut].to_vec();
    edited.extend_from_slice(&with_hum[cut + gap..]);
    let track = enf(&edited);
    let (time_s, value) = weighted_peak(&track, 0.0, 12.0);
    assert!((time_s - 6.0).abs() <= 0.05 + 1e-9, "peak at {time_s} s");
    assert!(value > track.scale.max(2.0 * unedited), "value {value}");
}

// ---------------------------------------------------------------------------------------------
// Codec
// ---------------------------------------------------------------------------------------------

/// White noise at 48 kHz whose spectrum above `cutoff_hz` is zeroed (an ideal codec low-pass)
/// from `from_s` on.
fn band_limited_noise(seconds: f64, from_s: f64, cutoff_hz: f64) -> Vec<f32> {
    use realfft::RealFftPlanner;
    let rate = 48_000usize;
    let noise = white((seconds * rate as f64) as usize, 0.05, 11);
    let from = (from_s * rate as f64) as usize;
    let mut tail: Vec<f64> = noise[from..].iter().map(|&v| f64::from(v)).collect();
    let n = tail.len();
    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(n);
    let inverse = planner.plan_fft_inverse(n);
    let mut spectrum = forward.make_output_vec();
    forward
        .process(&mut tail, &mut spectrum)
        .expect("sizes match");
    for (k, c) in spectrum.iter_mut().enumerate() {
        if k as f64 * rate as f64 / n as f64 > cutoff_hz {
            *c = realfft::num_complex::Complex::new(0.0, 0.0);
        }
    }
    // The imaginary parts of the DC and Nyquist bins must be zero for the inverse.
    spectrum[0].im = 0.0;
    if let Some(last) = spectrum.last_mut() {
        last.im = 0.0;
    }
    let mut out = inverse.make_output_vec();
    inverse
        .process(&mut spectrum, &mut out)
        .expect("sizes match");
    let mut signal = noise[..from].to_vec();
    signal.extend(out.iter().map(|&v| (v / n as f64) as f32));
    // Bursts, so there are loud and quiet frames as in speech.
    for (i, s) in signal.iter_mut().enumerate() {
        if (i as f64 / rate as f64 / 0.5).fract() > 0.7 {
            *s *= 0.01;
        }
    }
    signal
}

#[test]
fn codec_band_limit_change_peaks_at_the_change() {
    // The change falls inside a burst (4.0–4.35 s), where loud frames are read on both sides.
    let signal = band_limited_noise(8.0, 4.2, 16_000.0);
    let track = sample_track(CodecCue::new(48_000).expect("valid"), &signal);
    assert!(track.usability.usable, "{:?}", track.usability);
    let (time_s, value) = weighted_peak(&track, 0.0, 8.0);
    // Tolerance: one read-frame hop (42.7 ms at 48 kHz).
    assert!((time_s - 4.2).abs() <= 0.043, "peak at {time_s} s");
    // Bands from 16 to 23.5 kHz are dead on one side only: 30 of the 78 bands, 0.385 (a little
    // less: frames at the bursts' edges splatter above 16 kHz).
    assert!((0.3..=0.4).contains(&value), "value {value}");
    assert!(weighted_max_away_from(&track, 4.2, 2.1) < 0.02);
}

#[test]
fn codec_at_16_khz_abstains() {
    let track = sample_track(
        CodecCue::new(16_000).expect("valid"),
        &white(5 * RATE_HZ as usize, 0.05, 3),
    );
    assert!(!track.usability.usable);
    assert!(track.usability.note.contains("no band above 8 kHz"));
}

#[test]
fn codec_real_speech_joined_to_its_mp3_peaks_at_the_joint() {
    let (original, rate) = fixture("vctk-p286-011-48k");
    let (mp3, _) = fixture("vctk-p286-011-48k-via-mp3-64k");
    let joint = 3 * rate as usize;
    let mut joined = original[..joint].to_vec();
    joined.extend_from_slice(&mp3[joint..]);
    let track = sample_track(CodecCue::new(rate).expect("valid"), &joined);
    let (time_s, value) = weighted_peak(&track, 0.0, 7.0);
    // Tolerance: a quarter of a second (the dead bands show only in loud frames).
    assert!((time_s - 3.0).abs() <= 0.25, "peak at {time_s} s");
    assert!(value > 2.0 * track.scale, "value {value}");
    for clip in [&original, &mp3] {
        let unedited = sample_track(CodecCue::new(rate).expect("valid"), clip);
        let (at_s, v) = weighted_peak(&unedited, 0.0, 7.0);
        assert!(v < 0.5 * track.scale, "unedited {v} at {at_s} s");
    }
}

#[test]
fn codec_band_limit_fact_tells_the_mp3_from_the_original() {
    let band_limit = |name: &str| {
        let (samples, rate) = fixture(name);
        let track = sample_track(CodecCue::new(rate).expect("valid"), &samples);
        track.usability.facts["band_limit_hz"]
            .as_f64()
            .expect("number")
    };
    let original = band_limit("vctk-p286-011-48k");
    let mp3 = band_limit("vctk-p286-011-48k-via-mp3-64k");
    assert!(original > 22_000.0, "{original}");
    // LAME's low-pass at 64 kbit/s is near 16 kHz, with holes below it.
    assert!((13_000.0..=16_500.0).contains(&mp3), "{mp3}");
}

// ---------------------------------------------------------------------------------------------
// Waveform
// ---------------------------------------------------------------------------------------------

fn waveform(samples: &[f32], rate: u32) -> CueTrack {
    sample_track(WaveformCue::new(rate).expect("valid"), samples)
}

/// A 440 Hz tone with a little noise at 48 kHz.
fn tone(seconds: f64) -> Vec<f32> {
    let mut rng = Rng(21);
    (0..(seconds * 48_000.0) as usize)
        .map(|i| {
            let t = i as f64 / 48_000.0;
            (0.3 * (2.0 * PI * 440.0 * t).sin() + 0.001 * rng.normal()) as f32
        })
        .collect()
}

#[test]
fn waveform_inserted_click_peaks_at_the_click() {
    let mut signal = tone(3.0);
    let click = (1.2345 * 48_000.0) as usize;
    signal[click] += 0.3;
    let track = waveform(&signal, 48_000);
    let (time_s, value) = weighted_peak(&track, 0.0, 3.0);
    // Tolerance: the 8 ms block holding the click (its centre is within 4 ms).
    assert!(
        (time_s - 1.2345).abs() <= 0.004 + 1e-9,
        "peak at {time_s} s"
    );
    // The click's residual (0.6) against the tone's and the noise's (about 0.004 including the
    // click's own neighbours): about 150 times, 5 times the threshold.
    assert!(value > 3.0, "value {value}");
    // Nothing else reaches the threshold.
    assert!(weighted_max_away_from(&track, 1.2345, 0.01) < 1.0);
    assert_eq!(track.usability.facts["clicks"], 1);
}

#[test]
fn waveform_inserted_digital_silence_marks_both_edges() {
    let mut signal = white(4 * 48_000, 0.01, 4);
    signal[96_000..110_400].fill(0.0); // 2.0 s to 2.3 s
    let track = waveform(&signal, 48_000);
    assert_eq!(track.usability.facts["silence_runs"], 1);
    for edge_s in [2.0, 2.3] {
        let (time_s, value) = weighted_peak(&track, edge_s - 0.01, edge_s + 0.01);
        assert!(value >= 2.0, "edge {edge_s}: {value} at {time_s}");
    }
    assert!(weighted_max_away_from(&track, 2.15, 0.17) < 1.0);
}

#[test]
fn waveform_dc_step_peaks_at_the_step() {
    let mut signal = white(6 * 48_000, 0.01, 5);
    signal[3 * 48_000..].iter_mut().for_each(|s| *s += 0.01);
    let track = waveform(&signal, 48_000);
    let (time_s, value) = weighted_peak(&track, 0.0, 6.0);
    // Tolerance: one 128 ms DC block.
    assert!((time_s - 3.0).abs() <= 0.128, "peak at {time_s} s");
    // 0.01 against the 0.004 threshold.
    assert!((value - 2.5).abs() < 0.3, "value {value}");
    assert_eq!(track.usability.facts["dc_steps"], 1);
}

#[test]
fn waveform_noise_gated_pauses_are_not_scored() {
    let mut signal = white(60 * 48_000, 0.01, 6);
    // A gate closing for 0.3 s every 2 s, as conferencing noise suppression does in pauses.
    for start in (1..30).map(|k| k * 2 * 48_000) {
        signal[start..start + 14_400].fill(0.0);
    }
    let track = waveform(&signal, 48_000);
    assert_eq!(track.usability.facts["gated"], true);
    assert!(track.usability.note.contains("noise-gated"));
    assert!(track.values.iter().all(|&v| v < 2.0));
}

#[test]
fn waveform_real_cut_without_crossfade_peaks_at_the_cut() {
    let (speech, rate) = fixture("vctk-p286-011-48k");
    let unedited = waveform(&speech, rate);
    let unedited_max = weighted_peak(&unedited, 0.0, 7.0).1;
    assert_eq!(unedited.usability.facts["silence_runs"], 0);
    assert_eq!(unedited.usability.facts["dc_steps"], 0);
    let cut = (2.5 * f64::from(rate)) as usize;
    let gap = (0.123 * f64::from(rate)) as usize;
    let mut edited = speech[..cut].to_vec();
    edited.extend_from_slice(&speech[cut + gap..]);
    let track = waveform(&edited, rate);
    let (time_s, value) = weighted_peak(&track, 0.0, 7.0);
    assert!((time_s - 2.5).abs() <= 0.008, "peak at {time_s} s");
    assert!(
        value > 1.5 * unedited_max,
        "cut {value}, unedited {unedited_max}"
    );
}

// ---------------------------------------------------------------------------------------------
// Reverberation
// ---------------------------------------------------------------------------------------------

/// Linear convolution by FFT.
fn convolve(x: &[f32], h: &[f32]) -> Vec<f32> {
    use realfft::RealFftPlanner;
    let n = (x.len() + h.len()).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(n);
    let inverse = planner.plan_fft_inverse(n);
    let pad = |v: &[f32]| -> Vec<f64> {
        let mut out: Vec<f64> = v.iter().map(|&s| f64::from(s)).collect();
        out.resize(n, 0.0);
        out
    };
    let (mut a, mut b) = (pad(x), pad(h));
    let (mut fa, mut fb) = (forward.make_output_vec(), forward.make_output_vec());
    forward.process(&mut a, &mut fa).expect("sizes match");
    forward.process(&mut b, &mut fb).expect("sizes match");
    fa.iter_mut().zip(&fb).for_each(|(u, v)| *u *= v);
    let mut out = inverse.make_output_vec();
    inverse.process(&mut fa, &mut out).expect("sizes match");
    out[..x.len()]
        .iter()
        .map(|&v| (v / n as f64) as f32)
        .collect()
}

/// A synthetic room: a direct path plus exponentially decaying Gaussian noise whose energy falls
/// 60 dB in `rt60_s` (Polack's statistical model of a diffuse tail).
fn room(rt60_s: f64, seed: u64) -> Vec<f32> {
    let mut rng = Rng(seed);
    let rate = f64::from(RATE_HZ);
    let n = (1.2 * rt60_s * rate) as usize;
    // Amplitude falls by 10^(−3) (60 dB) in rt60_s: exp(−3 ln 10 · t / rt60).
    let decay = 3.0 * 10f64.ln() / (rt60_s * rate);
    let mut h: Vec<f32> = (0..n)
        .map(|i| (rng.normal() * (-decay * i as f64).exp()) as f32)
        .collect();
    let energy = h.iter().map(|v| v * v).sum::<f32>().sqrt();
    h.iter_mut().for_each(|v| *v /= energy);
    h[0] += 1.0;
    h
}

/// 150 ms noise bursts every 0.5 s: abrupt offsets after which only the room is heard.
fn bursts(seconds: f64) -> Vec<f32> {
    let mut rng = Rng(99);
    (0..(seconds * f64::from(RATE_HZ)) as usize)
        .map(|i| {
            let t = i as f64 / f64::from(RATE_HZ);
            if (t / 0.5).fract() < 0.3 {
                (0.1 * rng.normal()) as f32
            } else {
                0.0
            }
        })
        .collect()
}

/// `source` through room `a` until `at_s`, through room `b` after, with a faint noise floor.
fn two_rooms(source: &[f32], a: f64, b: f64, at_s: f64) -> Vec<f32> {
    let first = convolve(source, &room(a, 1));
    let second = convolve(source, &room(b, 2));
    let at = (at_s * f64::from(RATE_HZ)) as usize;
    let mut rng = Rng(3);
    first[..at]
        .iter()
        .chain(&second[at..])
        .map(|&v| v + (1e-5 * rng.normal()) as f32)
        .collect()
}

#[test]
fn reverb_rt60_change_peaks_at_the_change() {
    let signal = two_rooms(&bursts(16.0), 0.25, 0.7, 8.0);
    let track = reverb(&signal);
    assert!(track.usability.usable, "{:?}", track.usability);
    let (time_s, value) = weighted_peak(&track, 0.0, 16.0);
    // Tolerance: a quarter of a second (decays come every 0.5 s).
    assert!((time_s - 8.0).abs() <= 0.25, "peak at {time_s} s");
    // log2(0.7 / 0.25) = 1.49 octaves.
    assert!((1.0..=1.8).contains(&value), "value {value}");
    assert!(weighted_max_away_from(&track, 8.0, 4.5) < 0.3);
}

#[test]
fn reverb_one_room_stays_low_and_estimates_its_rt60() {
    for rt60_s in [0.3, 0.7] {
        let signal = two_rooms(&bursts(16.0), rt60_s, rt60_s, 8.0);
        let track = reverb(&signal);
        let (time_s, value) = weighted_peak(&track, 0.0, 16.0);
        assert!(value < 0.3, "RT60 {rt60_s}: {value} at {time_s} s");
        let estimate = track.usability.facts["decay_rt60_s"]
            .as_f64()
            .expect("number");
        // Within 15 % of the room's RT60.
        assert!(
            (estimate / rt60_s - 1.0).abs() < 0.15,
            "RT60 {rt60_s}: estimate {estimate}"
        );
    }
}

#[test]
fn reverb_real_speech_moved_to_another_room_peaks_near_the_change() {
    let (speech, _) = fixture("cmu-arctic-aew-a0001-a0003-16k");
    let at_s = speech.len() as f64 / f64::from(RATE_HZ) / 2.0;
    let edited = two_rooms(&speech, 0.25, 0.7, at_s);
    let track = reverb(&edited);
    let (time_s, value) = weighted_peak(&track, 0.0, 12.0);
    // Tolerance: 0.75 s — speech offsets are sparse and irregular.
    assert!(
        (time_s - at_s).abs() <= 0.75,
        "peak at {time_s} s, change at {at_s}"
    );
    // log2(0.7 / 0.25) = 1.49 octaves in the ideal case.
    assert!(value > track.scale, "value {value}");
    let same_room = reverb(&two_rooms(&speech, 0.4, 0.4, at_s));
    let (t, v) = weighted_peak(&same_room, 0.0, 12.0);
    assert!(v < 0.5 * track.scale, "one room: {v} at {t} s");
}

#[test]
fn reverb_without_offsets_abstains() {
    let track = reverb(&white(6 * RATE_HZ as usize, 0.01, 12));
    assert!(!track.usability.usable);
    assert!(track.usability.note.contains("too few speech offsets"));
}

// ---------------------------------------------------------------------------------------------
// The set of cues
// ---------------------------------------------------------------------------------------------

#[test]
fn cue_set_gives_six_tracks_in_design_order_and_the_report_object() {
    let (speech, _) = fixture("librispeech-1723-141149-0000-16k-12s-mains-hum-50hz");
    let config = SpectrogramConfig::default();
    let mut cues = CueSet::new(RATE_HZ, &config, None).expect("valid");
    cues.push_spectrogram(&Spectrogram::compute(&speech, RATE_HZ, &config).expect("computes"))
        .expect("fits");
    cues.push_analysis(&speech);
    let tracks = cues.finish();
    let keys: Vec<CueKey> = tracks.iter().map(|t| t.key).collect();
    assert_eq!(keys, CueKey::ALL.to_vec());
    let report = serde_json::to_value(cue_usability(&tracks)).expect("serialises");
    assert_eq!(report["enf"]["usable"], true);
    assert_eq!(report["enf"]["nominal_hz"], 50.0);
    assert_eq!(report["noise_floor"]["usable"], true);
    // No native-rate samples were given: the two cues that need them abstain.
    for key in ["codec", "waveform"] {
        assert_eq!(report[key]["usable"], false, "{key}");
        assert!(
            report[key]["note"]
                .as_str()
                .unwrap()
                .contains("native-rate")
        );
    }
}

#[test]
fn cue_set_streamed_in_blocks_equals_whole_signal() {
    let (speech, _) = fixture("librispeech-1867-148436-0000-16k-12s");
    let config = SpectrogramConfig::default();
    let whole = {
        let mut cues = CueSet::new(RATE_HZ, &config, Some(RATE_HZ)).expect("valid");
        cues.push_spectrogram(&Spectrogram::compute(&speech, RATE_HZ, &config).expect("ok"))
            .expect("fits");
        cues.push_analysis(&speech);
        cues.push_native(&speech);
        cues.finish()
    };
    let mut cues = CueSet::new(RATE_HZ, &config, Some(RATE_HZ)).expect("valid");
    let mut stream = SpectrogramStream::new(RATE_HZ, &config, 37).expect("valid");
    for chunk in speech.chunks(1111) {
        stream
            .push(chunk, |block| cues.push_spectrogram(block))
            .expect("fits");
        cues.push_analysis(chunk);
        cues.push_native(chunk);
    }
    stream
        .finish(|block| cues.push_spectrogram(block))
        .expect("fits");
    let streamed = cues.finish();
    assert_eq!(streamed, whole);
    // And the set is reset: a second clip gives the same tracks again.
    cues.push_spectrogram(&Spectrogram::compute(&speech, RATE_HZ, &config).expect("ok"))
        .expect("fits");
    cues.push_analysis(&speech);
    cues.push_native(&speech);
    assert_eq!(cues.finish(), whole);
}

#[test]
fn spectrogram_cue_refuses_a_block_of_another_framing() {
    let mut cue = NoiseFloorCue::new(RATE_HZ, &SpectrogramConfig::default()).expect("valid");
    let other = SpectrogramConfig {
        hop_samples: 256,
        ..SpectrogramConfig::default()
    };
    let block = Spectrogram::compute(&[0.0; 4096], RATE_HZ, &other).expect("computes");
    assert!(matches!(cue.push(&block), Err(Error::Config { .. })));
}

// ---------------------------------------------------------------------------------------------
// Uncalibrated splice candidates
// ---------------------------------------------------------------------------------------------

fn all_cues(samples: &[f32]) -> Vec<CueTrack> {
    let config = SpectrogramConfig::default();
    let mut cues = CueSet::new(RATE_HZ, &config, Some(RATE_HZ)).expect("valid");
    cues.push_spectrogram(&Spectrogram::compute(samples, RATE_HZ, &config).expect("computes"))
        .expect("fits");
    cues.push_analysis(samples);
    cues.push_native(samples);
    cues.finish()
}

#[test]
fn splice_candidates_find_the_joint_of_two_readers_and_nothing_in_one() {
    let (a, _) = fixture("librispeech-1867-148436-0000-16k-12s");
    let (b, _) = fixture("librispeech-1578-140045-0000-16k-6s");
    let mut joined = a[..6 * RATE_HZ as usize].to_vec();
    joined.extend_from_slice(&b);
    let options = clip_provenance::CandidateOptions::default();
    let candidates = clip_provenance::find_splice_candidates(&all_cues(&joined), &options);
    let at_joint: Vec<_> = candidates
        .iter()
        .filter(|c| (c.time_s - 6.0).abs() <= 0.5)
        .collect();
    assert_eq!(at_joint.len(), 1, "{candidates:?}");
    assert!(
        at_joint[0].cues.contains_key(&CueKey::Channel),
        "{candidates:?}"
    );
    let unedited = clip_provenance::find_splice_candidates(&all_cues(&a), &options);
    assert!(unedited.is_empty(), "{unedited:?}");
}
