//! Signal helpers for the generator and its checks: FFT convolution and cross-correlation, speech
//! levels, and the energy-based pause finder that places cuts in pauses or mid-speech.

use realfft::RealFftPlanner;

use crate::rng::{Rng, splitmix64};

/// Length of the frames the level and pause measures use: 20 ms, the usual short-time analysis
/// frame for speech (stationary over 10–30 ms; Rabiner and Schafer, *Digital Processing of Speech
/// Signals*, 1978, ch. 4).
pub const LEVEL_FRAME_S: f64 = 0.020;

/// Hop between level frames: 10 ms, half a frame.
pub const LEVEL_HOP_S: f64 = 0.010;

/// Level floor in dB re full scale, so digital silence has a finite level.
const SILENCE_DB: f64 = -120.0;

/// Frames counted as active speech lie within this many dB of the loudest frames (the 95th
/// percentile): a simplified ITU-T P.56 active speech level, whose threshold sits 15.9 dB above
/// the noise-like envelope; 30 dB below the peaks keeps weak consonants and drops pauses.
const ACTIVE_BELOW_PEAK_DB: f64 = 30.0;

/// Frames quieter than the loudest frames by this much are pause frames. 35 dB is below the
/// weakest fricatives of read speech relative to its vowels (about 30 dB; Fant, *Speech Sounds and
/// Features*, 1973) yet above the floor of the corpus's studio recordings.
const PAUSE_BELOW_PEAK_DB: f64 = 35.0;

/// The recording's noise floor: the level that 10 % of its frames stay below.
const PAUSE_FLOOR_QUANTILE: f64 = 0.10;

/// Frames within this many dB of the noise floor count as pause: 6 dB, twice the floor's power,
/// above the frame-to-frame spread of stationary noise in 20 ms frames.
const PAUSE_ABOVE_FLOOR_DB: f64 = 6.0;

/// Half the longest crossfade (50 ms): a cut in a pause stays this far inside it.
const PAUSE_CUT_GUARD_S: f64 = 0.025;

/// A pause must last this long to take a cut: 150 ms. Shorter silences are mostly stop closures
/// inside words; silent pauses between words and phrases in read speech mostly last longer than
/// 200 ms (Campione and Véronis, "A large-scale multilingual study of silent pause duration",
/// Speech Prosody 2002).
const MIN_PAUSE_S: f64 = 0.150;

/// Mid-speech cuts go where a frame is within this many dB of the loudest frames: inside vowels
/// and voiced stretches, where a cut is hardest to hide.
const SPEECH_BELOW_PEAK_DB: f64 = 12.0;

/// Convolves `x` with `h` by FFT, keeping the first `x.len()` samples (output sample n is
/// Σ h[k] x[n − k], so an `h` whose direct path is at k = 0 adds no delay).
pub fn convolve_truncated(x: &[f32], h: &[f32]) -> Vec<f32> {
    if x.is_empty() || h.is_empty() {
        return vec![0.0; x.len()];
    }
    let n = (x.len() + h.len() - 1).next_power_of_two();
    let mut out = spectral_product(x, h, n, false);
    let scale = 1.0 / n as f32;
    out.truncate(x.len());
    out.iter_mut().for_each(|v| *v *= scale);
    out
}

/// IFFT(FFT(a) · FFT(b)) over `n` points (zero-padded), or with `conjugate_b` IFFT(FFT(a) ·
/// conj(FFT(b))): linear convolution or cross-correlation when `n` covers both signals. Not
/// normalised: every value is `n` times the true one (realfft's inverse does not scale).
fn spectral_product(a: &[f32], b: &[f32], n: usize, conjugate_b: bool) -> Vec<f32> {
    let mut planner = RealFftPlanner::<f32>::new();
    let forward = planner.plan_fft_forward(n);
    let inverse = planner.plan_fft_inverse(n);
    let spectrum = |signal: &[f32]| {
        let mut input = forward.make_input_vec();
        input[..signal.len()].copy_from_slice(signal);
        let mut out = forward.make_output_vec();
        forward
            .process(&mut input, &mut out)
            .expect("buffers come from the plan");
        out
    };
    let (sa, sb) = (spectrum(a), spectrum(b));
    let mut product: Vec<_> = sa
        .iter()
        .zip(&sb)
        .map(|(x, y)| if conjugate_b { x * y.conj() } else { x * y })
        .collect();
    zero_edge_imaginary(&mut product);
    let mut out = inverse.make_output_vec();
    inverse
        .process(&mut product, &mut out)
        .expect("buffers come from the plan");
    out
}

/// The DC and Nyquist bins of a real signal's spectrum are real; rounding can leave a tiny
/// imaginary part that realfft's inverse refuses.
fn zero_edge_imaginary(spectrum: &mut [realfft::num_complex::Complex<f32>]) {
    if let Some(first) = spectrum.first_mut() {
        first.im = 0.0;
    }
    if let Some(last) = spectrum.last_mut() {
        last.im = 0.0;
    }
}

/// Where `b` best matches `a`: the lag `l` in −max_lag..=max_lag maximising
/// Σ a[n + l] · b[n], and that peak normalised by the energies of the overlapping parts (1.0 for
/// an exact copy). A positive lag means `b`'s content occurs later in `a`.
pub fn xcorr_peak(a: &[f32], b: &[f32], max_lag: usize) -> (i64, f64) {
    if a.is_empty() || b.is_empty() {
        return (0, 0.0);
    }
    let n = (a.len() + b.len() + max_lag).next_power_of_two();
    let corr = spectral_product(a, b, n, true);
    // corr[l] · n = Σ a[n + l] b[n] for l ≥ 0 (realfft's inverse is not normalised); negative
    // lags wrap to the end.
    let at = |lag: i64| -> f64 {
        let index = if lag >= 0 {
            lag as usize
        } else {
            n - lag.unsigned_abs() as usize
        };
        f64::from(corr[index]) / n as f64
    };
    let max_lag = max_lag as i64;
    let mut best = (0i64, f64::NEG_INFINITY);
    for lag in -max_lag..=max_lag {
        let value = at(lag);
        if value > best.1 {
            best = (lag, value);
        }
    }
    let (lag, peak) = best;
    // Energies of the parts that overlap at this lag.
    let (a_from, b_from) = if lag >= 0 {
        (lag as usize, 0)
    } else {
        (0, lag.unsigned_abs() as usize)
    };
    let overlap = a
        .len()
        .saturating_sub(a_from)
        .min(b.len().saturating_sub(b_from));
    let energy = |s: &[f32]| s.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>();
    let ea = energy(&a[a_from.min(a.len())..(a_from + overlap).min(a.len())]);
    let eb = energy(&b[b_from.min(b.len())..(b_from + overlap).min(b.len())]);
    let norm = (ea * eb).sqrt();
    (lag, if norm > 0.0 { peak / norm } else { 0.0 })
}

/// AC power (the variance: a DC offset is not sound) in dB re full scale of each 20 ms frame,
/// every 10 ms. Some corpus recordings carry a large DC offset (one LibriSpeech file sits at
/// −0.26), which would otherwise hide every pause.
pub fn frame_levels_db(x: &[f32], rate_hz: u32) -> Vec<f64> {
    let frame = ((LEVEL_FRAME_S * f64::from(rate_hz)) as usize).max(1);
    let hop = ((LEVEL_HOP_S * f64::from(rate_hz)) as usize).max(1);
    let mut levels = Vec::new();
    let mut start = 0;
    while start + frame <= x.len() {
        levels.push(power_db(variance(&x[start..start + frame])));
        start += hop;
    }
    levels
}

/// The variance of `x` (its power about its mean); 0 for no samples.
fn variance(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let n = x.len() as f64;
    let mean = x.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
    x.iter()
        .map(|v| (f64::from(*v) - mean).powi(2))
        .sum::<f64>()
        / n
}

/// `x` with its mean removed: codecs and filters drop a DC offset, so comparisons of waveforms
/// across a chain leave it out.
pub fn without_dc(x: &[f32]) -> Vec<f32> {
    if x.is_empty() {
        return Vec::new();
    }
    let mean = (x.iter().map(|v| f64::from(*v)).sum::<f64>() / x.len() as f64) as f32;
    x.iter().map(|v| v - mean).collect()
}

/// `10 log10(power)`, floored at −120 dB.
pub fn power_db(power: f64) -> f64 {
    if power > 0.0 {
        (10.0 * power.log10()).max(SILENCE_DB)
    } else {
        SILENCE_DB
    }
}

/// The `q`-quantile (0..=1) of `values`, by the nearest rank; `None` for none.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64).round()) as usize;
    sorted.get(rank).copied()
}

/// Active speech level in dB re full scale: the mean power of the frames within 30 dB of the
/// loudest (a simplified ITU-T P.56). `None` for a signal shorter than a frame.
pub fn active_level_db(x: &[f32], rate_hz: u32) -> Option<f64> {
    let levels = frame_levels_db(x, rate_hz);
    let peak = quantile(&levels, 0.95)?;
    let active: Vec<f64> = levels
        .iter()
        .copied()
        .filter(|l| *l >= peak - ACTIVE_BELOW_PEAK_DB)
        .collect();
    let mean_power =
        active.iter().map(|l| 10f64.powf(l / 10.0)).sum::<f64>() / active.len().max(1) as f64;
    Some(power_db(mean_power))
}

/// AC RMS level (about the mean) in dB re full scale.
pub fn rms_db(x: &[f32]) -> f64 {
    if x.is_empty() {
        return SILENCE_DB;
    }
    power_db(variance(x))
}

/// Where a cut lies in the speech.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Inside a silent pause of at least 150 ms.
    Pause,
    /// Inside loud speech (a vowel or voiced stretch).
    MidSpeech,
    /// The cut's two sides differ (one in a pause, one in speech), or a clip's cuts differ.
    Mixed,
}

/// Candidate cut positions in one recording, from its dry speech.
#[derive(Debug, Clone, Default)]
pub struct PauseMap {
    /// Silent pauses, as sample ranges [start, end).
    pub pauses: Vec<(usize, usize)>,
    /// Centres of loud-speech frames, in samples, ascending.
    pub speech: Vec<usize>,
    /// Samples between the frames' centres (one level hop).
    pub hop: usize,
    /// A pause cut keeps this far from the pause's ends (samples), so that half of the longest
    /// crossfade still lies in the pause.
    pub guard: usize,
}

impl PauseMap {
    /// Finds the pauses and the loud speech of `x` at `rate_hz`.
    pub fn new(x: &[f32], rate_hz: u32) -> PauseMap {
        let levels = frame_levels_db(x, rate_hz);
        let Some(peak) = quantile(&levels, 0.95) else {
            return PauseMap::default();
        };
        let hop = ((LEVEL_HOP_S * f64::from(rate_hz)) as usize).max(1);
        let frame = ((LEVEL_FRAME_S * f64::from(rate_hz)) as usize).max(1);
        // A recording's own noise floor can sit less than 35 dB under its speech: then a pause is
        // anything within 6 dB of that floor (thresholds set from the silence level, as in
        // Rabiner and Sambur's endpoint detector, Bell System Technical Journal 54, 1975).
        let floor = quantile(&levels, PAUSE_FLOOR_QUANTILE).unwrap_or(peak);
        let threshold = (peak - PAUSE_BELOW_PEAK_DB).max(floor + PAUSE_ABOVE_FLOOR_DB);
        let min_pause_frames = (MIN_PAUSE_S / LEVEL_HOP_S).ceil() as usize;
        let mut pauses = Vec::new();
        let mut run_start: Option<usize> = None;
        for (i, level) in levels
            .iter()
            .chain(std::iter::once(&f64::INFINITY))
            .enumerate()
        {
            let quiet = *level < threshold && *level < peak - SPEECH_BELOW_PEAK_DB;
            match (quiet, run_start) {
                (true, None) => run_start = Some(i),
                (false, Some(start)) => {
                    if i - start >= min_pause_frames {
                        // The run's frames cover [start·hop, (i − 1)·hop + frame).
                        pauses.push((start * hop, ((i - 1) * hop + frame).min(x.len())));
                    }
                    run_start = None;
                }
                _ => {}
            }
        }
        let speech = levels
            .iter()
            .enumerate()
            .filter(|(_, l)| **l >= peak - SPEECH_BELOW_PEAK_DB)
            .map(|(i, _)| i * hop + frame / 2)
            .collect();
        let guard = (PAUSE_CUT_GUARD_S * f64::from(rate_hz)) as usize;
        PauseMap {
            pauses,
            speech,
            hop,
            guard,
        }
    }

    /// A cut position in lo..hi of the wanted placement: inside a pause (25 ms from its ends, or
    /// its middle third if it is shorter than 75 ms), or a
    /// loud-speech frame; `None` when there is none there.
    pub fn pick(&self, want: Placement, lo: usize, hi: usize, rng: &mut Rng) -> Option<usize> {
        match want {
            Placement::Pause => {
                let inside: Vec<(usize, usize)> = self
                    .pauses
                    .iter()
                    .map(|&(s, e)| {
                        let guard = self.guard.min((e - s) / 3);
                        (s + guard, e - guard)
                    })
                    .filter(|&(s, e)| s >= lo && e <= hi && e > s)
                    .collect();
                let &(s, e) = rng.choose(&inside)?;
                Some(s + rng.below(e - s))
            }
            Placement::MidSpeech => {
                let inside: Vec<usize> = self
                    .speech
                    .iter()
                    .copied()
                    .filter(|&c| c >= lo && c < hi)
                    .collect();
                let centre = *rng.choose(&inside)?;
                // Anywhere within the frame's hop, not on the 10 ms grid of frame centres: a
                // deletion between two grid points removes a whole number of 10 ms, i.e. of half
                // periods of 50 Hz hum, so its hum would jump by exactly 0 or 180 degrees (no
                // editor cuts on such a grid). The offset is a hash of the position, so the random
                // stream, and every other draw of the benchmark, stays as it was.
                let offset = (splitmix64(centre as u64) % self.hop.max(1) as u64) as usize;
                Some(
                    (centre + offset)
                        .saturating_sub(self.hop / 2)
                        .clamp(lo, hi - 1),
                )
            }
            Placement::Mixed => None,
        }
    }

    /// The placement of a cut at `at`: in a pause, or else mid-speech (in loud or weaker speech).
    pub fn placement_at(&self, at: usize) -> Placement {
        if self.pauses.iter().any(|&(s, e)| at >= s && at < e) {
            Placement::Pause
        } else {
            Placement::MidSpeech
        }
    }
}

/// Equal-power crossfade gains at step `i` of `n`: (fade-out, fade-in), cos and sin of a quarter
/// turn, so the summed power of two uncorrelated signals stays constant through the fade (the
/// usual editor's crossfade for unrelated material).
pub fn crossfade_gains(i: usize, n: usize) -> (f32, f32) {
    let phase = (i as f64 + 0.5) / n.max(1) as f64 * std::f64::consts::FRAC_PI_2;
    (phase.cos() as f32, phase.sin() as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(len: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..len).map(|_| rng.normal() as f32 * 0.1).collect()
    }

    #[test]
    fn convolve_truncated_with_a_delayed_impulse_delays() {
        let x = noise(1000, 1);
        let y = convolve_truncated(&x, &[0.0, 0.0, 0.5]);
        assert_eq!(y.len(), x.len());
        for n in 2..x.len() {
            assert!((y[n] - 0.5 * x[n - 2]).abs() < 1e-5);
        }
    }

    #[test]
    fn xcorr_peak_finds_a_known_shift_both_ways() {
        let a = noise(8000, 2);
        let b = a[300..2300].to_vec();
        let (lag, peak) = xcorr_peak(&a, &b, 400);
        assert_eq!(lag, 300);
        assert!(peak > 0.999 && peak < 1.001, "{peak}");
        let (lag, _) = xcorr_peak(&b, &a[..4000], 400);
        assert_eq!(lag, -300);
    }

    #[test]
    fn pause_map_finds_the_silence_between_two_bursts() {
        let rate = 16_000;
        let mut x = noise(8000, 3); // 0.5 s of "speech"
        x.extend(std::iter::repeat_n(0.0, 4800)); // 0.3 s of silence
        x.extend(noise(8000, 4));
        let map = PauseMap::new(&x, rate);
        assert_eq!(map.pauses.len(), 1, "{:?}", map.pauses);
        let (s, e) = map.pauses[0];
        assert!(s >= 8000 && e <= 12_800 + 320, "{s}..{e}");
        let mut rng = Rng::new(5);
        let cut = map
            .pick(Placement::Pause, 0, x.len(), &mut rng)
            .expect("a pause");
        assert_eq!(map.placement_at(cut), Placement::Pause);
        let loud = map
            .pick(Placement::MidSpeech, 0, 8000, &mut rng)
            .expect("speech");
        assert_eq!(map.placement_at(loud), Placement::MidSpeech);
    }

    #[test]
    fn mid_speech_cuts_fall_anywhere_in_a_frame_not_on_the_frame_grid() {
        let rate = 16_000;
        let x = noise(16_000, 7); // one second of "speech"
        let map = PauseMap::new(&x, rate);
        let mut rng = Rng::new(9);
        let cuts: Vec<usize> = (0..64)
            .map(|_| {
                map.pick(Placement::MidSpeech, 1000, 15_000, &mut rng)
                    .expect("speech")
            })
            .collect();
        assert!(cuts.iter().all(|c| (1000..15_000).contains(c)), "{cuts:?}");
        // Deletions between grid points would remove whole half periods of 50 Hz hum.
        let phases: std::collections::BTreeSet<usize> = cuts.iter().map(|c| c % map.hop).collect();
        assert!(phases.len() > 16, "{phases:?}");
    }

    #[test]
    fn crossfade_gains_keep_power() {
        for i in 0..10 {
            let (a, b) = crossfade_gains(i, 10);
            assert!((a * a + b * b - 1.0).abs() < 1e-6);
        }
    }
}
