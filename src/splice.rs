//! Splice candidates from the cue tracks: **raw, uncalibrated evidence**.
//!
//! This is the first, coarse step of the fusion (issue 5, item 2: frame scores → candidates →
//! refined times): each usable cue track's peaks, then peaks of different cues that point at the
//! same instant gathered into one candidate, with the time taken from the most precise cue that
//! contributed. A candidate's `raw_strength` is the strongest contribution's
//! [`CueTrack::strength`] — the cue's value against its reference scale, weighted by its
//! confidence. **It is not a probability.** The calibrated `score` of the report's `splices`
//! (DESIGN.md: of the splices reported at 0.8, about 80 % are real) will come from a fusion fitted
//! on a training split of the project's benchmark and checked on a separate split; until then
//! nothing here may be asserted as a splice. Candidates are for the picture, for an examiner who
//! wants to see where the cues point, and as the input the calibrated fusion will rank.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cues::{CueKey, CueTrack};

/// How finely a cue places a discontinuity, in seconds: half the width of its response to an
/// isolated step in the known-answer tests (`tests/cues.rs`). Peaks of one cue closer than this
/// are one peak; a candidate's time comes from its most precise contributor; peaks of two cues
/// gather when they are closer than the coarser one's resolution.
fn resolution_s(key: CueKey) -> f64 {
    match key {
        // One 8 ms block.
        CueKey::Waveform => 0.008,
        // One 50 ms block at best; 0.1 s on real speech.
        CueKey::Enf => 0.1,
        // One 43 ms read frame, but only loud frames count: 0.25 s on real speech.
        CueKey::Codec => 0.25,
        // Between the last pause before and the first after: up to about 0.5 s.
        CueKey::NoiseFloor => 0.5,
        // Sonorant frames come in syllables; 4 s windows: 0.25 s on real joints, broad triangles.
        CueKey::Channel => 0.5,
        // Speech offsets are sparse: 0.75 s on real speech.
        CueKey::Reverb => 0.75,
    }
}

/// How to pick candidates from the tracks.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateOptions {
    /// A cue's peak counts when its [`CueTrack::strength`] reaches this, in [0, 1). The default
    /// 0.5 is a full-confidence value at the cue's reference scale.
    pub min_strength: f32,
    /// A peak must also stand this far above the track's own median strength over the instants
    /// where the cue speaks, so that a clip whose cue runs high everywhere (a noisy background, a
    /// fluctuating channel) does not yield a candidate at every bump: the edit is an anomaly
    /// against the clip's own unedited audio. Default 0.1.
    pub min_prominence: f32,
}

impl Default for CandidateOptions {
    fn default() -> Self {
        CandidateOptions {
            min_strength: 0.5,
            min_prominence: 0.1,
        }
    }
}

/// A place where one or more cues point to a possible splice. Raw evidence, not calibrated (see
/// the module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpliceCandidate {
    /// Where, in seconds on the clip's timeline: the peak time of the most precise contributing
    /// cue.
    pub time_s: f64,
    /// The strongest contribution, in [0, 1). **Not a probability.**
    pub raw_strength: f32,
    /// Each contributing cue's strength at its peak.
    pub cues: BTreeMap<CueKey, f32>,
}

/// One cue's peak.
#[derive(Debug, Clone, Copy)]
struct Peak {
    key: CueKey,
    time_s: f64,
    strength: f32,
}

/// Splice candidates from cue tracks, in time order (see the module docs: raw evidence, not
/// calibrated). Unusable tracks contribute nothing.
pub fn find_splice_candidates(
    tracks: &[CueTrack],
    options: &CandidateOptions,
) -> Vec<SpliceCandidate> {
    let mut peaks: Vec<Peak> = tracks
        .iter()
        .filter(|t| t.usability.usable)
        .flat_map(|t| track_peaks(t, options))
        .collect();
    // Strongest first, so each candidate is anchored on its strongest evidence; ties by time and
    // key keep the result independent of the tracks' order.
    peaks.sort_by(|a, b| {
        b.strength
            .total_cmp(&a.strength)
            .then(a.time_s.total_cmp(&b.time_s))
            .then(a.key.cmp(&b.key))
    });
    struct Gathered {
        /// Time and resolution of the most precise contributor so far.
        time_s: f64,
        resolution_s: f64,
        cues: BTreeMap<CueKey, f32>,
    }
    let mut gathered: Vec<Gathered> = Vec::new();
    for peak in peaks {
        let resolution = resolution_s(peak.key);
        let home = gathered.iter_mut().find(|g| {
            !g.cues.contains_key(&peak.key)
                && (g.time_s - peak.time_s).abs() <= g.resolution_s.max(resolution)
        });
        match home {
            Some(g) => {
                g.cues.insert(peak.key, peak.strength);
                if resolution < g.resolution_s {
                    g.time_s = peak.time_s;
                    g.resolution_s = resolution;
                }
            }
            None => gathered.push(Gathered {
                time_s: peak.time_s,
                resolution_s: resolution,
                cues: BTreeMap::from([(peak.key, peak.strength)]),
            }),
        }
    }
    let mut candidates: Vec<SpliceCandidate> = gathered
        .into_iter()
        .map(|g| SpliceCandidate {
            time_s: g.time_s,
            raw_strength: g.cues.values().copied().fold(0.0, f32::max),
            cues: g.cues,
        })
        .collect();
    candidates.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    candidates
}

/// The peaks of one track: strengths at least `min_strength` and `min_prominence` above the
/// track's median, local maxima within the cue's resolution; a plateau (values within 2 % of its
/// maximum) gives its middle.
fn track_peaks(track: &CueTrack, options: &CandidateOptions) -> Vec<Peak> {
    let strengths: Vec<f32> = (0..track.len()).map(|i| track.strength(i)).collect();
    let mut speaking: Vec<f32> = strengths
        .iter()
        .zip(&track.confidence)
        .filter(|&(_, &c)| c > 0.0)
        .map(|(&s, _)| s)
        .collect();
    if speaking.is_empty() || track.step_s.is_nan() || track.step_s <= 0.0 {
        return Vec::new();
    }
    let middle = speaking.len() / 2;
    let median = *speaking.select_nth_unstable_by(middle, f32::total_cmp).1;
    let floor = options.min_strength.max(median + options.min_prominence);
    let radius = ((resolution_s(track.key) / track.step_s).round() as usize).max(1);
    let mut peaks = Vec::new();
    let mut i = 0;
    while i < strengths.len() {
        let s = strengths[i];
        if s < floor {
            i += 1;
            continue;
        }
        // The plateau this instant starts, and its neighbourhood.
        let mut end = i;
        while end + 1 < strengths.len()
            && strengths[end + 1] >= 0.98 * s
            && end + 1 - i < 4 * radius
        {
            end += 1;
        }
        let from = i.saturating_sub(radius);
        let to = (end + radius + 1).min(strengths.len());
        let plateau_max = strengths[i..=end].iter().copied().fold(0.0, f32::max);
        let is_peak = strengths[from..to].iter().all(|&x| x <= plateau_max);
        if is_peak {
            let centre = (i + end) / 2;
            peaks.push(Peak {
                key: track.key,
                time_s: track.time_s(centre),
                strength: plateau_max,
            });
            i = end + radius + 1;
        } else {
            i += 1;
        }
    }
    peaks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cues::CueUsability;

    fn track(key: CueKey, step_s: f64, bumps: &[(f64, f32)], len_s: f64) -> CueTrack {
        let n = (len_s / step_s) as usize;
        let mut values = vec![0.1_f32; n];
        for &(at_s, value) in bumps {
            let at = (at_s / step_s).round() as usize;
            // A triangle two resolutions wide.
            let half = ((resolution_s(key) / step_s).round() as usize).max(1) * 2;
            for (k, v) in values.iter_mut().enumerate() {
                let d = (k as f64 - at as f64).abs() / half as f64;
                if d < 1.0 {
                    *v = v.max(value * (1.0 - d as f32));
                }
            }
        }
        CueTrack {
            key,
            unit: "x",
            start_s: 0.0,
            step_s,
            confidence: vec![1.0; n],
            values,
            scale: 1.0,
            usability: CueUsability::usable(""),
        }
    }

    #[test]
    fn candidates_gather_cues_at_one_joint_and_take_the_precise_time() {
        let tracks = [
            track(CueKey::Channel, 0.008, &[(6.2, 3.0)], 12.0),
            track(CueKey::Waveform, 0.008, &[(6.004, 2.0)], 12.0),
            track(CueKey::NoiseFloor, 0.008, &[(9.0, 4.0)], 12.0),
        ];
        let candidates = find_splice_candidates(&tracks, &CandidateOptions::default());
        assert_eq!(candidates.len(), 2, "{candidates:?}");
        let joint = &candidates[0];
        assert!((joint.time_s - 6.0).abs() < 0.01, "{joint:?}");
        assert_eq!(
            joint.cues.keys().copied().collect::<Vec<_>>(),
            vec![CueKey::Channel, CueKey::Waveform]
        );
        assert!((joint.raw_strength - 0.75).abs() < 0.01, "3 / (3 + 1)");
        assert_eq!(candidates[1].cues.len(), 1);
    }

    #[test]
    fn candidates_ignore_weak_peaks_unusable_tracks_and_a_high_baseline() {
        let weak = track(CueKey::Channel, 0.008, &[(3.0, 0.5)], 8.0);
        let mut unusable = track(CueKey::Enf, 0.05, &[(4.0, 5.0)], 8.0);
        unusable.abstain(CueUsability::unusable("no mains hum at 50 or 60 Hz"));
        let mut high = track(CueKey::Reverb, 0.008, &[], 8.0);
        high.values.iter_mut().for_each(|v| *v = 2.0);
        let candidates =
            find_splice_candidates(&[weak, unusable, high], &CandidateOptions::default());
        assert!(candidates.is_empty(), "{candidates:?}");
    }

    #[test]
    fn candidates_take_the_middle_of_a_plateau() {
        let mut flat = track(CueKey::NoiseFloor, 0.008, &[], 10.0);
        for k in 500..600 {
            flat.values[k] = 3.0;
        }
        let candidates = find_splice_candidates(&[flat], &CandidateOptions::default());
        assert_eq!(candidates.len(), 1);
        assert!(
            (candidates[0].time_s - 4.396).abs() < 0.01,
            "{candidates:?}"
        );
    }
}
