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

use crate::cues::{CueKey, CueTrack, median_in_place};
use crate::index::Match;

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
        // Match edges placed by frame signatures: two frames either side.
        CueKey::Archive => 0.032,
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
/// first) gives its middle. Shapes are read on the confidence-weighted values, not on the
/// strengths, which saturate towards 1 and would flatten a strong cue's peak into a plateau.
fn track_peaks(track: &CueTrack, options: &CandidateOptions) -> Vec<Peak> {
    let strengths: Vec<f32> = (0..track.len()).map(|i| track.strength(i)).collect();
    let levels: Vec<f32> = track
        .values
        .iter()
        .zip(&track.confidence)
        .map(|(&v, &c)| v * c)
        .collect();
    let mut speaking: Vec<f32> = strengths
        .iter()
        .zip(&track.confidence)
        .filter(|&(_, &c)| c > 0.0)
        .map(|(&s, _)| s)
        .collect();
    if speaking.is_empty() || track.step_s.is_nan() || track.step_s <= 0.0 {
        return Vec::new();
    }
    let median = median_in_place(&mut speaking).unwrap_or(0.0);
    let floor = options.min_strength.max(median + options.min_prominence);
    let radius = ((resolution_s(track.key) / track.step_s).round() as usize).max(1);
    let mut peaks = Vec::new();
    let mut i = 0;
    while i < strengths.len() {
        if strengths[i] < floor {
            i += 1;
            continue;
        }
        // The plateau this instant starts (levels within 2 % of its own), and its neighbourhood.
        let level = levels[i];
        let mut end = i;
        while end + 1 < levels.len()
            && (levels[end + 1] - level).abs() <= 0.02 * level
            && end + 1 - i < 4 * radius
        {
            end += 1;
        }
        let from = i.saturating_sub(radius);
        let to = (end + radius + 1).min(levels.len());
        let plateau_max = levels[i..=end].iter().copied().fold(0.0, f32::max);
        let is_peak = levels[from..to].iter().all(|&x| x <= plateau_max);
        if is_peak {
            let centre = (i + end) / 2;
            peaks.push(Peak {
                key: track.key,
                time_s: track.time_s(centre),
                strength: strengths[i..=end].iter().copied().fold(0.0, f32::max),
            });
            i = end + radius + 1;
        } else {
            i += 1;
        }
    }
    peaks
}

/// A splice point of the report: where the clip may have been cut, how sure we are, and from
/// which cues (DESIGN.md, `splices`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Splice {
    /// Where, in seconds on the clip's timeline.
    pub time_s: f64,
    /// The calibrated probability that a real splice lies within 50 ms of `time_s` (see
    /// [`FUSION`]); asserted at 0.5 and above.
    pub score: f64,
    /// The evidence at this instant: each cue's strength in [0, 1) where it is at least 0.05,
    /// and `archive` for a boundary of matched pieces (see [`archive_boundaries`]).
    pub cues: BTreeMap<CueKey, f32>,
}

/// A boundary of a matched piece, as splice evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArchiveBoundary {
    /// Where, seconds.
    pub time_s: f64,
    /// The `archive` cue value: for a boundary between two matched pieces (of different
    /// references, or of one reference at a jump) the smaller of their confidences, in [0.5, 1];
    /// for the edge of one piece next to unmatched audio, 0.45 × its confidence × how much of a
    /// piece the unmatched stretch beside it is (full from 1.5 s), in [0, 0.45].
    pub value: f32,
    /// Where the cut may lie, seconds: for a join, the gap or overlap between the two pieces'
    /// edges, where the archive cannot tell them apart (a pause both recordings share, room tone
    /// that matches either); `(time_s, time_s)` for a lone edge. [`fuse_splices`] places a join
    /// at the strongest precise acoustic evidence inside it.
    pub span_s: (f64, f64),
}

/// Matches whose edges are closer than this (seconds) meet at one boundary.
const ADJACENT_S: f64 = 1.0;
/// Edges this close to the clip's own ends (seconds) are the clip's ends, not splices.
const CLIP_END_MARGIN_S: f64 = 0.3;

/// Boundaries of the asserted matches (archive and within-clip), in time order: where two
/// pieces meet, the middle of the gap or overlap between them; elsewhere each edge of a piece
/// that lies inside the clip.
pub fn archive_boundaries(matches: &[Match], duration_s: f64) -> Vec<ArchiveBoundary> {
    let mut asserted: Vec<&Match> = matches
        .iter()
        .filter(|m| m.confidence >= crate::report::ASSERTED)
        .collect();
    asserted.sort_by(|a, b| a.clip_start_s.total_cmp(&b.clip_start_s));
    let inside = |t: f64| t > CLIP_END_MARGIN_S && t < duration_s - CLIP_END_MARGIN_S;
    let mut boundaries = Vec::new();
    let mut start_taken = vec![false; asserted.len()];
    for (i, m) in asserted.iter().enumerate() {
        // A later match that carries on this one's alignment in the same recording, across any
        // gap: the stretch between is this piece, matched poorly, not other audio.
        let carried_on = asserted
            .iter()
            .enumerate()
            .filter(|&(j, n)| {
                j != i && n.clip_start_s >= m.clip_end_s - ADJACENT_S && m.continues(n)
            })
            .min_by(|a, b| a.1.clip_start_s.total_cmp(&b.1.clip_start_s));
        if let Some((j, _)) = carried_on {
            start_taken[j] = true;
            continue;
        }
        // The piece that begins nearest this one's end, if they meet.
        let next = asserted
            .iter()
            .enumerate()
            .filter(|&(j, n)| j != i && (n.clip_start_s - m.clip_end_s).abs() <= ADJACENT_S)
            .min_by(|a, b| {
                (a.1.clip_start_s - m.clip_end_s)
                    .abs()
                    .total_cmp(&(b.1.clip_start_s - m.clip_end_s).abs())
            });
        match next {
            Some((j, n)) if !m.continues(n) => {
                let time_s = 0.5 * (m.clip_end_s + n.clip_start_s);
                if inside(time_s) {
                    boundaries.push(ArchiveBoundary {
                        time_s,
                        value: m.confidence.min(n.confidence) as f32,
                        span_s: (
                            m.clip_end_s.min(n.clip_start_s),
                            m.clip_end_s.max(n.clip_start_s),
                        ),
                    });
                }
                start_taken[j] = true;
            }
            Some((j, _)) => start_taken[j] = true,
            None if inside(m.clip_end_s) => {
                // Unmatched audio from this edge to the next piece, or to the clip's end.
                let next_start = asserted
                    .iter()
                    .map(|n| n.clip_start_s)
                    .filter(|&t| t > m.clip_end_s)
                    .fold(duration_s, f64::min);
                boundaries.push(ArchiveBoundary {
                    time_s: m.clip_end_s,
                    value: lone_edge_value(m.confidence, next_start - m.clip_end_s),
                    span_s: (m.clip_end_s, m.clip_end_s),
                });
            }
            None => {}
        }
    }
    for (m, taken) in asserted.iter().zip(start_taken) {
        if !taken && inside(m.clip_start_s) {
            let previous_end = asserted
                .iter()
                .map(|p| p.clip_end_s)
                .filter(|&t| t < m.clip_start_s)
                .fold(0.0, f64::max);
            boundaries.push(ArchiveBoundary {
                time_s: m.clip_start_s,
                value: lone_edge_value(m.confidence, m.clip_start_s - previous_end),
                span_s: (m.clip_start_s, m.clip_start_s),
            });
        }
    }
    boundaries.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    boundaries.dedup_by(|b, a| {
        let same = (a.time_s - b.time_s).abs() < resolution_s(CueKey::Archive);
        if same {
            a.value = a.value.max(b.value);
            a.span_s = (a.span_s.0.min(b.span_s.0), a.span_s.1.max(b.span_s.1));
        }
        same
    });
    boundaries
}

/// The unmatched stretch beside a lone edge counts fully from this long (seconds): a piece of
/// other audio that long is a piece, not the unmatched tail of a degraded match. 1.5 s separated
/// the training split's reassembled clips (50 of 74 had a longer unmatched stretch) from its
/// reused ones (0 of 169) when match edges were placed in clean audio; in noise at 10 dB SNR a
/// reused clip's match now often starts 1.5–1.9 s late, and every asserted false splice of the
/// training split (2) and of the test split (4 of 6) was such a lone edge. At 2 s the training
/// split has none (splice F1@50 of reassembled clips 0.565 → 0.560, verdict accuracy 0.792 →
/// 0.787); at 2.5 s F1 fell to 0.537.
const UNMATCHED_PIECE_S: f64 = 2.0;

/// The `archive` value of a lone edge: 0.45 × the match's confidence × the fraction of
/// [`UNMATCHED_PIECE_S`] that the unmatched stretch beside it reaches, below the 0.5 from which
/// values mean a join of two matched pieces.
fn lone_edge_value(confidence: f64, unmatched_s: f64) -> f32 {
    (0.45 * confidence * (unmatched_s / UNMATCHED_PIECE_S).clamp(0.0, 1.0)) as f32
}

/// The fusion: a logistic model of "a real splice within 50 ms" over the evidence at a
/// candidate, fitted on the training split of the project's benchmark (see
/// `examples/evaluate/fit_fusion.py`, which prints these numbers, and the README's
/// "Calibration"). Inputs, in order: the strength of each acoustic cue in [`CueKey::ALL`]
/// order, the `archive` value, whether the archive boundary joins two pieces (1) or not (0),
/// and each acoustic cue's strength above [`FUSION_HINGE`] (0 below it).
pub struct Fusion {
    /// The intercept.
    pub bias: f64,
    /// One weight per input.
    pub weights: [f64; FUSION_INPUTS],
}

/// Inputs of [`Fusion`].
pub const FUSION_INPUTS: usize = 14;

/// Where each acoustic cue's second, hinged input starts (see [`Fusion`]): a strength of 0.5,
/// the cue's reference value. A logistic model linear in a strength bends the odds the same
/// way at every strength, but a cue's peaks turn from mostly chance to mostly real over a
/// narrow range: on the training split, of the ENF peaks without archive evidence, 31 % were
/// real at strengths 0.5–0.6 and 84 % at 0.6–0.7, which one slope spread over 0–1 scored
/// 0.22 and 0.55. The hinge gives each cue a second slope above its reference value (a linear
/// spline with one knot; Hastie, Tibshirani & Friedman 2009, *The Elements of Statistical
/// Learning*, §5.2).
pub const FUSION_HINGE: f64 = 0.5;

/// The fitted fusion (see [`Fusion`]): `fit_fusion.py` on the reports of
/// `evaluate --corpus ../shared/corpus --config {"splice_min_score": 0}` (seed 20261127), training
/// split, 8070 candidates of which 1181 real (session 16: joins placed in their span by
/// [`fuse_splices`], and pieces of one recording cut less than a second apart joined by the
/// index's signatures). The archive cue weighs most, then ENF (steeply above its hinge), the
/// waveform cue; the noise floor comes out negative. On the test split (8424 candidates, 1134
/// real) the Brier score is 0.031, and of the candidates scored 0.7–0.8, 74 % are real (README,
/// "Calibration").
pub const FUSION: Fusion = Fusion {
    bias: -4.4813,
    weights: [
        -1.6861, 0.3236, 5.0850, 0.3971, 2.1454, 0.3988, 12.3849, -6.3925, 7.4566, -10.3041,
        15.9778, 0.0000, 0.7246, -1.8354,
    ],
};

impl Fusion {
    /// The calibrated score of one candidate's evidence.
    pub fn score(&self, inputs: &[f64; FUSION_INPUTS]) -> f64 {
        let z = self.bias
            + self
                .weights
                .iter()
                .zip(inputs)
                .map(|(w, x)| w * x)
                .sum::<f64>();
        1.0 / (1.0 + (-z).exp())
    }
}

/// The inputs of [`Fusion`] for a candidate's evidence.
pub fn fusion_inputs(cues: &BTreeMap<CueKey, f32>) -> [f64; FUSION_INPUTS] {
    let mut x = [0.0; FUSION_INPUTS];
    for (slot, key) in x.iter_mut().zip(CueKey::ALL) {
        *slot = f64::from(cues.get(&key).copied().unwrap_or(0.0));
    }
    let archive = f64::from(cues.get(&CueKey::Archive).copied().unwrap_or(0.0));
    x[6] = archive;
    x[7] = if archive >= 0.5 { 1.0 } else { 0.0 };
    for k in 0..CueKey::ALL.len() {
        x[8 + k] = (x[k] - FUSION_HINGE).max(0.0);
    }
    x
}

/// How candidates are found for the fusion: lower than [`CandidateOptions::default`], since
/// the fusion weighs every cue at each candidate.
const FUSION_CANDIDATES: CandidateOptions = CandidateOptions {
    min_strength: 0.3,
    min_prominence: 0.05,
};

/// Cue strengths below this are left out of a splice's `cues`.
const MIN_LISTED_STRENGTH: f32 = 0.05;

/// Splices from the cue tracks and the archive boundaries, each scored by [`FUSION`], in time
/// order; those scoring below `min_score` are left out.
pub fn fuse_splices(
    tracks: &[CueTrack],
    boundaries: &[ArchiveBoundary],
    min_score: f64,
) -> Vec<Splice> {
    let candidates = find_splice_candidates(tracks, &FUSION_CANDIDATES);
    let placed: Vec<(f64, f32)> = boundaries
        .iter()
        .map(|b| (place_in_span(b, &candidates), b.value))
        .collect();
    let mut times: Vec<(f64, Option<f32>)> = candidates.iter().map(|c| (c.time_s, None)).collect();
    // An archive boundary takes over the acoustic candidates near it: its time is the most
    // precise, and their cues are read at it.
    for &(time_s, _) in &placed {
        times.retain(|(t, _)| (t - time_s).abs() > 0.25);
    }
    times.extend(placed.iter().map(|&(t, value)| (t, Some(value))));
    times.sort_by(|a, b| a.0.total_cmp(&b.0));
    times
        .into_iter()
        .map(|(time_s, archive)| {
            let mut cues: BTreeMap<CueKey, f32> = tracks
                .iter()
                .filter(|t| t.usability.usable)
                .map(|t| (t.key, strength_near(t, time_s)))
                .filter(|&(_, s)| s >= MIN_LISTED_STRENGTH)
                .collect();
            if let Some(value) = archive {
                cues.insert(CueKey::Archive, value);
            }
            let score = FUSION.score(&fusion_inputs(&cues));
            Splice {
                time_s,
                score,
                cues,
            }
        })
        .filter(|s| s.score >= min_score)
        .collect()
}

/// Where a join's cut lies in its span (see [`ArchiveBoundary::span_s`]): at the acoustic
/// candidate inside the span that the fusion scores highest on its own cues, among those placed
/// by a precise cue (ENF or waveform, 0.1 s or finer); the middle of the span when there is
/// none. Archive pieces that meet are joined by the index's signatures (a zero span); what is
/// left wide is a join beside a within-clip match, which the index does not join (all 44 joins
/// of 50 ms or more on the benchmark's test split, none on its training split; before the
/// index joined pieces of one recording cut less than a second apart, 23 training joins that
/// wide held the cut more than 50 ms from their middle).
fn place_in_span(boundary: &ArchiveBoundary, candidates: &[SpliceCandidate]) -> f64 {
    let (lo, hi) = boundary.span_s;
    if hi - lo <= 2.0 * resolution_s(CueKey::Archive) {
        return boundary.time_s;
    }
    candidates
        .iter()
        .filter(|c| c.time_s >= lo && c.time_s <= hi)
        .filter(|c| {
            [CueKey::Enf, CueKey::Waveform]
                .iter()
                .any(|k| c.cues.contains_key(k))
        })
        .map(|c| (c.time_s, FUSION.score(&fusion_inputs(&c.cues))))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.total_cmp(&a.0)))
        .map_or(boundary.time_s, |(t, _)| t)
}

/// A track's strongest strength within its resolution of `time_s`.
fn strength_near(track: &CueTrack, time_s: f64) -> f32 {
    let reach = resolution_s(track.key);
    let (Some(from), Some(to)) = (
        track.index_at((time_s - reach).max(track.start_s)),
        track
            .index_at(time_s + reach)
            .or(track.len().checked_sub(1)),
    ) else {
        return 0.0;
    };
    (from..=to).map(|i| track.strength(i)).fold(0.0, f32::max)
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

    #[test]
    fn archive_boundaries_join_adjacent_pieces_and_mark_lone_edges() {
        let matches = [
            // Two pieces meeting with a 40 ms gap: one boundary in the middle.
            Match::at_speed_one("a.wav", (0.0, 4.0), 10.0, 0.99),
            Match::at_speed_one("b.wav", (4.04, 7.0), 3.0, 0.9),
            // A lone piece inside the clip: both its edges, by its confidence and the unmatched
            // stretch beside each.
            Match::at_speed_one("c.wav", (9.0, 11.0), 0.0, 0.8),
            // Not asserted: nothing.
            Match::at_speed_one("d.wav", (12.0, 13.0), 0.0, 0.3),
        ];
        let b = archive_boundaries(&matches, 14.0);
        let got: Vec<(f64, f32)> = b.iter().map(|b| (b.time_s, b.value)).collect();
        assert_eq!(got.len(), 4, "{got:?}");
        assert!((got[0].0 - 4.02).abs() < 1e-9 && (got[0].1 - 0.9).abs() < 1e-6);
        // 7.0–9.0 s is unmatched: 2 s, a whole piece.
        assert!((got[1].0 - 7.0).abs() < 1e-9 && (got[1].1 - 0.405).abs() < 1e-6);
        assert!((got[2].0 - 9.0).abs() < 1e-9 && (got[2].1 - 0.36).abs() < 1e-6);
        assert!((got[3].0 - 11.0).abs() < 1e-9);
    }

    #[test]
    fn a_lone_edge_beside_a_short_unmatched_stretch_is_weaker() {
        // A reused clip whose match starts 1.8 s in (its start lost in noise), against one
        // whose first 3 s are other audio.
        let late = [Match::at_speed_one("a.wav", (1.8, 12.0), 5.0, 1.0)];
        let other = [Match::at_speed_one("a.wav", (3.0, 12.0), 5.0, 1.0)];
        let value = |m: &[Match]| archive_boundaries(m, 12.0)[0].value;
        assert!((value(&late) - 0.45 * 0.9).abs() < 1e-6, "{}", value(&late));
        assert!((value(&other) - 0.45).abs() < 1e-6);
        let score = |v: f32| FUSION.score(&fusion_inputs(&BTreeMap::from([(CueKey::Archive, v)])));
        assert!(score(value(&late)) < score(value(&other)));
    }

    #[test]
    fn archive_boundaries_skip_a_pause_within_one_piece_and_the_clip_ends() {
        // One recording split by a pause: the reference carries on where the clip does.
        let matches = [
            Match::at_speed_one("a.wav", (0.1, 3.0), 10.0, 0.99),
            Match::at_speed_one("a.wav", (3.6, 6.0), 13.6, 0.99),
        ];
        assert!(archive_boundaries(&matches, 6.1).is_empty());
        // The same recording with a jump (a deletion): a boundary.
        let jumped = [
            Match::at_speed_one("a.wav", (0.1, 3.0), 10.0, 0.99),
            Match::at_speed_one("a.wav", (3.0, 6.0), 15.0, 0.99),
        ];
        let b = archive_boundaries(&jumped, 6.1);
        assert_eq!(b.len(), 1);
        assert!((b[0].time_s - 3.0).abs() < 1e-9);
    }

    #[test]
    fn archive_boundaries_skip_a_piece_split_into_drifting_lines_by_a_speed_change() {
        // One piece at 3 % slower, found as two lines 1.4 s apart whose speeds are 1.5 % off.
        let mut first = Match::at_speed_one("a.wav", (1.94, 4.26), 3.08, 0.99);
        first.speed = 0.955;
        first.reference_end_s = 3.08 + 0.955 * 2.32;
        let mut second = Match::at_speed_one("a.wav", (5.66, 7.14), 6.66, 0.99);
        second.speed = 0.96;
        let both = [first.clone(), second.clone()];
        assert_eq!(
            archive_boundaries(&both, 12.0).len(),
            2,
            "only the outer edges"
        );
        // A real jump of 1 s in the reference is a deletion: a boundary at each inner edge.
        let mut jumped = second.clone();
        jumped.reference_start_s += 1.0;
        assert_eq!(archive_boundaries(&[first, jumped], 12.0).len(), 4);
    }

    #[test]
    fn a_join_is_placed_at_the_strongest_precise_cue_inside_its_span() {
        let join = |span_s: (f64, f64)| ArchiveBoundary {
            time_s: 0.5 * (span_s.0 + span_s.1),
            value: 0.99,
            span_s,
        };
        // Waveform peaks at 3.12 (strong) and 3.25 (weaker), both inside the span 3.0–3.3; a
        // stronger channel peak (a coarse cue) inside it too; an ENF peak outside it at 3.6.
        let tracks = [
            track(CueKey::Waveform, 0.004, &[(3.12, 4.0), (3.25, 1.0)], 8.0),
            track(CueKey::Channel, 0.05, &[(3.2, 9.0)], 8.0),
            track(CueKey::Enf, 0.05, &[(3.6, 9.0)], 8.0),
        ];
        let time = |span_s: (f64, f64)| {
            let splices = fuse_splices(&tracks, &[join(span_s)], 0.0);
            let archive: Vec<f64> = splices
                .iter()
                .filter(|s| s.cues.contains_key(&CueKey::Archive))
                .map(|s| s.time_s)
                .collect();
            assert_eq!(archive.len(), 1, "{splices:?}");
            archive[0]
        };
        assert!(
            (time((3.0, 3.3)) - 3.12).abs() < 0.005,
            "{}",
            time((3.0, 3.3))
        );
        // Without the strong one in the span, the weaker waveform peak.
        assert!(
            (time((3.2, 3.3)) - 3.25).abs() < 0.005,
            "{}",
            time((3.2, 3.3))
        );
        // No precise peak inside: the middle of the span.
        assert!((time((4.0, 4.3)) - 4.15).abs() < 1e-9);
        // A span no wider than two of the archive's resolutions keeps its middle.
        assert!((time((3.1, 3.15)) - 3.125).abs() < 1e-9);
    }

    #[test]
    fn fusion_scores_an_archive_join_above_a_lone_edge_and_orders_by_time() {
        let boundaries = [
            ArchiveBoundary {
                time_s: 2.0,
                value: 0.99,
                span_s: (1.99, 2.01),
            },
            ArchiveBoundary {
                time_s: 1.0,
                value: 0.3,
                span_s: (1.0, 1.0),
            },
        ];
        let splices = fuse_splices(&[], &boundaries, 0.0);
        assert_eq!(splices.len(), 2);
        assert!(splices[0].time_s < splices[1].time_s);
        assert!(splices[1].score > splices[0].score, "{splices:?}");
        assert_eq!(splices[1].cues.get(&CueKey::Archive), Some(&0.99));
    }
}
