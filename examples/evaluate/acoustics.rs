//! Where a recording was made: a synthetic room, a noise background and mains hum, drawn once per
//! recording and baked into its "master" — the version that the archive holds and that clips are
//! cut from. Pieces of different recordings therefore carry different rooms, noise and hum, as
//! real reassembled clips do; cuts inside one recording do not.

use serde::{Deserialize, Serialize};

use crate::corpus::{GEN_RATE_HZ, Recording};
use crate::dsp::{active_level_db, convolve_truncated, rms_db};
use crate::rng::Rng;

/// RT60 range of the synthetic rooms, in seconds: 0.2 s (a furnished small office or studio) to
/// 0.8 s (a lecture hall); typical values in Kuttruff, *Room Acoustics* (5th ed., 2009), ch. 5.
const RT60_RANGE_S: (f64, f64) = (0.2, 0.8);

/// Direct-to-reverberant energy ratio range in dB: about 0 dB at a few metres in a reverberant
/// room to 10 dB close to the talker (Kuttruff, as above, on the critical distance).
const DRR_RANGE_DB: (f64, f64) = (0.0, 10.0);

/// The impulse response is cut where its envelope has fallen this many times RT60: 1.2 RT60 is
/// 72 dB down, below the 16-bit noise floor of the masters.
const RIR_LENGTH_RT60: f64 = 1.2;

/// Gap between the direct sound and the diffuse tail: 3 ms, the first reflection of a talker
/// about a metre from a wall.
const RIR_PREDELAY_S: f64 = 0.003;

/// ln(10^3): an envelope exp(−RT60_DECAY · t / RT60) has fallen 60 dB at t = RT60 (Sabine's
/// definition of the reverberation time).
const RT60_DECAY: f64 = 6.907_755_278_982_137;

/// Background noise levels, as SNR in dB re the active speech level: from a quiet room to a noisy
/// kitchen.
const BACKGROUND_SNR_RANGE_DB: (f64, f64) = (10.0, 35.0);

/// Mains hum fundamental level below the active speech level, in dB: 30–45 dB (issue 7), the range
/// in which ENF is measurable yet barely audible.
const HUM_BELOW_SPEECH_RANGE_DB: (f64, f64) = (30.0, 45.0);

/// 2nd and 3rd harmonics of the hum relative to its fundamental, in dB: transformers and
/// rectifiers put a few dB to about 20 dB less in the harmonics (Grigoras, "Applications of ENF
/// criterion in forensic audio, video, computer and telecommunication analysis", Forensic Science
/// International 167, 2007).
const HUM_HARMONIC_RANGE_DB: (f64, f64) = (-20.0, -6.0);

/// The hum's frequency changes once a second by a normal step of this standard deviation, in Hz.
/// Grid frequency wanders by a few hundredths of a hertz over seconds to minutes (ENTSO-E
/// frequency records; Grigoras 2005, "Digital audio recording analysis: the electric network
/// frequency criterion", Int. J. Speech, Language and the Law 12).
const HUM_DRIFT_STEP_HZ: f64 = 0.01;

/// The hum's drift is held within ± this many hertz of the nominal frequency.
const HUM_DRIFT_LIMIT_HZ: f64 = 0.05;

/// Seconds between random-walk steps of the hum frequency.
const HUM_STEP_S: f64 = 1.0;

/// Masters are scaled so the active speech level is −26 dB re full scale, the reference level of
/// ITU-T P.56 measurements and of most speech test material.
const MASTER_LEVEL_DB: f64 = -26.0;

/// No master sample exceeds this magnitude after scaling (headroom for 16-bit WAV).
const MASTER_PEAK_LIMIT: f32 = 0.95;

/// Probability that a recording was made in a reverberant room (else close-miked, dry).
const ROOM_PROBABILITY: f64 = 0.6;

/// Probability of an audible noise background.
const BACKGROUND_PROBABILITY: f64 = 0.5;

/// Probability of mains hum in a recording.
const HUM_PROBABILITY: f64 = 0.4;

/// A synthetic room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Room {
    /// Reverberation time in seconds.
    pub rt60_s: f64,
    /// Direct-to-reverberant ratio in dB.
    pub drr_db: f64,
    /// Seed of the impulse response's noise.
    pub seed: u64,
}

/// A background noise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Background {
    /// SNR in dB re the active speech level.
    pub snr_db: f64,
    /// The noise recording (stem) and the second it starts at; `None`: synthetic pink noise,
    /// used when no noise recording is long enough.
    pub source: Option<(String, f64)>,
    /// Seed of the synthetic noise.
    pub seed: u64,
}

/// Mains hum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hum {
    /// 50 or 60 Hz.
    pub nominal_hz: f64,
    /// Fundamental level below the active speech level, in dB.
    pub below_speech_db: f64,
    /// 2nd and 3rd harmonic relative to the fundamental, in dB.
    pub harmonics_db: [f64; 2],
    /// Seed of the frequency's random walk and the phase.
    pub seed: u64,
}

/// Where a recording was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Acoustics {
    /// The room, or `None` for a dry, close-miked recording.
    pub room: Option<Room>,
    /// The noise background, if any.
    pub background: Option<Background>,
    /// Mains hum, if any.
    pub hum: Option<Hum>,
}

impl Acoustics {
    /// Draws the acoustics of a recording of `duration_s`, given the noise recordings.
    pub fn draw(rng: &mut Rng, duration_s: f64, noise: &[Recording]) -> Acoustics {
        let room = rng.chance(ROOM_PROBABILITY).then(|| Room {
            rt60_s: rng.uniform(RT60_RANGE_S.0, RT60_RANGE_S.1),
            drr_db: rng.uniform(DRR_RANGE_DB.0, DRR_RANGE_DB.1),
            seed: rng.next_u64(),
        });
        let background = rng.chance(BACKGROUND_PROBABILITY).then(|| {
            let snr_db = rng.uniform(BACKGROUND_SNR_RANGE_DB.0, BACKGROUND_SNR_RANGE_DB.1);
            // A noise file must cover the whole recording: looping it would put a seam in the
            // background, a discontinuity no real recording has.
            let long: Vec<&Recording> = noise
                .iter()
                .filter(|n| n.duration_s() >= duration_s)
                .collect();
            let source = rng.choose(&long).map(|n| {
                let slack_s = n.duration_s() - duration_s;
                (
                    n.stem.clone(),
                    (rng.uniform(0.0, slack_s) * 100.0).floor() / 100.0,
                )
            });
            Background {
                snr_db,
                source,
                seed: rng.next_u64(),
            }
        });
        let hum = rng.chance(HUM_PROBABILITY).then(|| Hum {
            nominal_hz: if rng.chance(0.5) { 50.0 } else { 60.0 },
            below_speech_db: rng.uniform(HUM_BELOW_SPEECH_RANGE_DB.0, HUM_BELOW_SPEECH_RANGE_DB.1),
            harmonics_db: [
                rng.uniform(HUM_HARMONIC_RANGE_DB.0, HUM_HARMONIC_RANGE_DB.1),
                rng.uniform(HUM_HARMONIC_RANGE_DB.0, HUM_HARMONIC_RANGE_DB.1),
            ],
            seed: rng.next_u64(),
        });
        Acoustics {
            room,
            background,
            hum,
        }
    }

    /// A short description for tables and logs, e.g. `room 0.45 s, noise 18 dB, hum 50 Hz`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        match &self.room {
            Some(r) => parts.push(format!("room RT60 {:.2} s", r.rt60_s)),
            None => parts.push("dry".to_string()),
        }
        if let Some(b) = &self.background {
            parts.push(format!("noise {:.0} dB SNR", b.snr_db));
        }
        if let Some(h) = &self.hum {
            parts.push(format!("hum {:.0} Hz", h.nominal_hz));
        }
        parts.join(", ")
    }

    /// The master of `dry` speech: room, then background and hum at their levels re the speech,
    /// then scaled to −26 dB active level (peaks within 0.95).
    pub fn render(&self, dry: &[f32], noise: &[Recording]) -> Vec<f32> {
        let mut x = match &self.room {
            Some(room) => convolve_truncated(dry, &room_impulse_response(room, GEN_RATE_HZ)),
            None => dry.to_vec(),
        };
        let speech_db = active_level_db(&x, GEN_RATE_HZ).unwrap_or_else(|| rms_db(&x));
        if let Some(b) = &self.background {
            let bed = match &b.source {
                Some((stem, start_s)) => noise
                    .iter()
                    .find(|n| &n.stem == stem)
                    .map(|n| {
                        let start = (start_s * f64::from(GEN_RATE_HZ)) as usize;
                        n.samples
                            .get(start..start + x.len())
                            .map(<[f32]>::to_vec)
                            .unwrap_or_else(|| pink_noise(x.len(), b.seed))
                    })
                    .unwrap_or_else(|| pink_noise(x.len(), b.seed)),
                None => pink_noise(x.len(), b.seed),
            };
            add_at_level(&mut x, &bed, speech_db - b.snr_db);
        }
        if let Some(h) = &self.hum {
            let hum = mains_hum(x.len(), GEN_RATE_HZ, h);
            add_at_level(&mut x, &hum, speech_db - h.below_speech_db);
        }
        let level = active_level_db(&x, GEN_RATE_HZ).unwrap_or_else(|| rms_db(&x));
        let mut gain = 10f64.powf((MASTER_LEVEL_DB - level) / 20.0) as f32;
        let peak = x.iter().fold(0f32, |m, v| m.max(v.abs())) * gain;
        if peak > MASTER_PEAK_LIMIT {
            gain *= MASTER_PEAK_LIMIT / peak;
        }
        x.iter_mut().for_each(|v| *v *= gain);
        x
    }
}

/// Adds `noise` to `x`, scaled so its RMS is `level_db` re full scale.
pub fn add_at_level(x: &mut [f32], noise: &[f32], level_db: f64) {
    let gain = 10f64.powf((level_db - rms_db(noise)) / 20.0) as f32;
    for (v, n) in x.iter_mut().zip(noise) {
        *v += gain * n;
    }
}

/// A room impulse response after Polack's statistical model (Polack, "Playing billiards in the
/// concert hall: the mathematical foundations of geometrical room acoustics", Applied Acoustics
/// 38, 1993): the direct sound at sample 0 (so the room adds no delay), then Gaussian noise under
/// an exponential envelope that falls 60 dB in RT60, scaled to the drawn direct-to-reverberant
/// ratio.
pub fn room_impulse_response(room: &Room, rate_hz: u32) -> Vec<f32> {
    let rate = f64::from(rate_hz);
    let len = ((RIR_LENGTH_RT60 * room.rt60_s * rate) as usize).max(2);
    let predelay = ((RIR_PREDELAY_S * rate) as usize).clamp(1, len - 1);
    let mut rng = Rng::new(room.seed);
    let mut h = vec![0f32; len];
    for (n, v) in h.iter_mut().enumerate().skip(predelay) {
        let t_s = n as f64 / rate;
        *v = (rng.normal() * (-RT60_DECAY * t_s / room.rt60_s).exp()) as f32;
    }
    let tail_energy: f64 = h.iter().map(|v| f64::from(*v).powi(2)).sum();
    let want_energy = 10f64.powf(-room.drr_db / 10.0); // direct energy is 1
    let scale = if tail_energy > 0.0 {
        (want_energy / tail_energy).sqrt() as f32
    } else {
        0.0
    };
    h.iter_mut().for_each(|v| *v *= scale);
    h[0] = 1.0;
    h
}

/// Pink (1/f) noise by Paul Kellet's economy filter of white noise (three first-order sections,
/// within ±0.5 dB of 1/f above 40 Hz at 44.1 kHz; musicdsp.org, "Pink noise filter", 2000).
pub fn pink_noise(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let (mut b0, mut b1, mut b2) = (0f64, 0f64, 0f64);
    (0..len)
        .map(|_| {
            let white = rng.normal();
            b0 = 0.99765 * b0 + white * 0.0990460;
            b1 = 0.96300 * b1 + white * 0.2965164;
            b2 = 0.57000 * b2 + white * 1.0526913;
            (b0 + b1 + b2 + white * 0.1848) as f32
        })
        .collect()
}

/// Mains hum with its 2nd and 3rd harmonics, its frequency a random walk around the nominal
/// frequency (steps every second, linearly interpolated between, held within ±0.05 Hz), the
/// phase integrated from the frequency so it stays continuous. Unit RMS scale is left to the
/// caller.
pub fn mains_hum(len: usize, rate_hz: u32, hum: &Hum) -> Vec<f32> {
    let rate = f64::from(rate_hz);
    let mut rng = Rng::new(hum.seed);
    let steps = (len as f64 / rate / HUM_STEP_S).ceil() as usize + 2;
    let mut drift = Vec::with_capacity(steps);
    let mut offset_hz = 0.0f64;
    for _ in 0..steps {
        drift.push(offset_hz);
        offset_hz = (offset_hz + HUM_DRIFT_STEP_HZ * rng.normal())
            .clamp(-HUM_DRIFT_LIMIT_HZ, HUM_DRIFT_LIMIT_HZ);
    }
    let amplitudes = [
        1.0,
        10f64.powf(hum.harmonics_db[0] / 20.0),
        10f64.powf(hum.harmonics_db[1] / 20.0),
    ];
    let mut phase = rng.uniform(0.0, std::f64::consts::TAU);
    (0..len)
        .map(|n| {
            let position = n as f64 / rate / HUM_STEP_S;
            let i = position as usize;
            let frac = position - i as f64;
            let d0 = drift.get(i).copied().unwrap_or(0.0);
            let d1 = drift.get(i + 1).copied().unwrap_or(d0);
            let f_hz = hum.nominal_hz + d0 + (d1 - d0) * frac;
            let value: f64 = amplitudes
                .iter()
                .enumerate()
                .map(|(k, a)| a * ((k + 1) as f64 * phase).sin())
                .sum();
            phase = (phase + std::f64::consts::TAU * f_hz / rate) % std::f64::consts::TAU;
            value as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_impulse_response_has_its_direct_path_first_and_decays() {
        let room = Room {
            rt60_s: 0.5,
            drr_db: 3.0,
            seed: 1,
        };
        let h = room_impulse_response(&room, 16_000);
        assert_eq!(h[0], 1.0);
        let energy = |s: &[f32]| s.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>();
        let tail = energy(&h[1..]);
        assert!((10.0 * tail.log10() + 3.0).abs() < 0.01, "DRR as drawn");
        // 60 dB down after RT60: compare 50 ms windows at 0.05 s and 0.55 s.
        let (a, b) = (energy(&h[800..1600]), energy(&h[8800..9600]));
        let fall_db = 10.0 * (a / b).log10();
        assert!((fall_db - 60.0).abs() < 6.0, "{fall_db}");
    }

    #[test]
    fn mains_hum_stays_near_its_nominal_frequency() {
        let hum = Hum {
            nominal_hz: 50.0,
            below_speech_db: 35.0,
            harmonics_db: [-100.0, -100.0],
            seed: 3,
        };
        let rate = 16_000;
        let x = mains_hum(rate as usize * 10, rate, &hum);
        // Count upward zero crossings over 10 s: 500 ± 0.05 Hz · 10 s, plus one for the phase.
        let crossings = x.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        assert!((499..=501).contains(&crossings), "{crossings}");
    }

    #[test]
    fn render_sets_the_active_level_and_keeps_the_timeline() {
        let mut rng = Rng::new(4);
        let dry: Vec<f32> = (0..32_000).map(|_| rng.normal() as f32 * 0.05).collect();
        let acoustics = Acoustics {
            room: None,
            background: Some(Background {
                snr_db: 60.0,
                source: None,
                seed: 5,
            }),
            hum: None,
        };
        let master = acoustics.render(&dry, &[]);
        assert_eq!(master.len(), dry.len());
        let level = active_level_db(&master, 16_000).expect("long enough");
        assert!((level - MASTER_LEVEL_DB).abs() < 0.5, "{level}");
        let (lag, peak) = crate::dsp::xcorr_peak(&master, &dry, 100);
        assert_eq!(lag, 0);
        assert!(peak > 0.99);
    }
}
