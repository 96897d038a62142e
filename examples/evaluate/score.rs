//! The scorer: any `provenance-report/1` JSON, read as plain JSON so it measures whatever the
//! pipeline writes today (absent `splices`, `matches` or `verdict` count as "nothing asserted"),
//! against the truth.
//!
//! Only asserted evidence counts (DESIGN.md: score / confidence ≥ 0.5). Splices are matched to
//! the truth one to one, greedily by distance, within 20, 50 and 100 ms.

use serde::Serialize;
use serde_json::Value;

use crate::truth::{ClipTruth, Label};

/// DESIGN.md: splices and matches at or above this score are asserted.
pub const ASSERTED_AT: f64 = 0.5;

/// Splice tolerances in seconds: 20 ms (about a spectrogram frame pair at the default hop; a
/// tight edit-point estimate), 50 ms (a syllable fragment) and 100 ms (what an examiner can find
/// by listening around a marker).
pub const TOLERANCES_S: [f64; 3] = [0.020, 0.050, 0.100];

/// A piece counts as attributed when a match's clip start and reference start both lie within
/// this of the truth (issue 7).
pub const ATTRIBUTION_TOLERANCE_S: f64 = 0.250;

/// Attribution is reported for pieces at least this long, in clip seconds (issue 7).
pub const ATTRIBUTION_MIN_PIECE_S: [f64; 3] = [2.0, 3.0, 5.0];

/// The schema a report must declare.
const REPORT_SCHEMA: &str = "provenance-report/1";

/// An asserted match, as the scorer needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchView {
    /// The archive recording it names.
    pub reference: String,
    /// Where it starts in the clip, seconds.
    pub clip_start_s: f64,
    /// Where it ends in the clip, seconds.
    pub clip_end_s: f64,
    /// Where it starts in the reference, seconds.
    pub reference_start_s: f64,
}

/// What a report asserts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Asserted {
    /// Asserted splice times, seconds.
    pub splices: Vec<f64>,
    /// Asserted archive matches (copy-move matches within the clip are left out).
    pub matches: Vec<MatchView>,
    /// The verdict's label, when the report has one.
    pub label: Option<Label>,
    /// The verdict's score (probability of "not authentic"), when present.
    pub score: Option<f64>,
}

/// Reads what a report asserts.
///
/// A splice or match without a score is taken as asserted (the report lists it as found).
///
/// # Errors
/// A message for a report of another schema or with fields of the wrong type.
pub fn parse_report(v: &Value) -> Result<Asserted, String> {
    match v.get("schema").and_then(Value::as_str) {
        Some(REPORT_SCHEMA) => {}
        other => return Err(format!("schema is {other:?}, expected {REPORT_SCHEMA:?}")),
    }
    let list = |key: &str| -> Result<Vec<Value>, String> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(_) => Err(format!("{key} is not a list")),
        }
    };
    let number = |item: &Value, key: &str, what: &str| -> Result<f64, String> {
        item.get(key)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("a {what} without a number {key}"))
    };
    let asserted = |item: &Value, key: &str| {
        item.get(key)
            .and_then(Value::as_f64)
            .is_none_or(|s| s >= ASSERTED_AT)
    };
    let mut out = Asserted::default();
    for s in list("splices")? {
        if asserted(&s, "score") {
            out.splices.push(number(&s, "time_s", "splice")?);
        }
    }
    for m in list("matches")? {
        let within = m.get("within_clip").and_then(Value::as_bool) == Some(true);
        if within || !asserted(&m, "confidence") {
            continue;
        }
        out.matches.push(MatchView {
            reference: m
                .get("reference")
                .and_then(Value::as_str)
                .ok_or("a match without a reference")?
                .to_string(),
            clip_start_s: number(&m, "clip_start_s", "match")?,
            clip_end_s: number(&m, "clip_end_s", "match")?,
            reference_start_s: number(&m, "reference_start_s", "match")?,
        });
    }
    if let Some(verdict) = v.get("verdict").filter(|x| !x.is_null()) {
        out.label = verdict
            .get("label")
            .and_then(Value::as_str)
            .and_then(Label::from_name);
        out.score = verdict.get("score").and_then(Value::as_f64);
    }
    Ok(out)
}

/// Two reference names are the same recording when equal, or when their stems are (an index may
/// keep `x.wav` as `x.wav` or as `x`).
pub fn same_reference(a: &str, b: &str) -> bool {
    let stem = |s: &str| {
        let base = s.rsplit(['/', '\\']).next().unwrap_or(s);
        base.rsplit_once('.')
            .map_or(base, |(stem, _)| stem)
            .to_string()
    };
    a == b || stem(a) == stem(b)
}

/// True, false and missed detections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Asserted and real.
    pub tp: u64,
    /// Asserted, not real.
    pub fp: u64,
    /// Real, not asserted.
    pub missed: u64,
}

impl Counts {
    /// TP / (TP + FP); `None` when nothing was asserted.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }

    /// TP / (TP + missed); `None` when nothing was real.
    pub fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.missed)
    }

    /// Harmonic mean of precision and recall; 0 when nothing was asserted but something was real.
    pub fn f1(&self) -> Option<f64> {
        let denominator = 2 * self.tp + self.fp + self.missed;
        ratio(2 * self.tp, denominator)
    }

    fn add(&mut self, other: Counts) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.missed += other.missed;
    }
}

/// `a / b`, `None` for b = 0.
pub fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Greedy one-to-one matching of `predicted` to `truth` times within `tolerance_s`: pairs in order
/// of distance (ties by index), each time used once.
pub fn match_splices(truth: &[f64], predicted: &[f64], tolerance_s: f64) -> Counts {
    let mut pairs = Vec::new();
    for (i, t) in truth.iter().enumerate() {
        for (j, p) in predicted.iter().enumerate() {
            let d = (t - p).abs();
            if d <= tolerance_s + 1e-9 {
                pairs.push((d, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut truth_used = vec![false; truth.len()];
    let mut predicted_used = vec![false; predicted.len()];
    let mut tp = 0;
    for (_, i, j) in pairs {
        if !truth_used[i] && !predicted_used[j] {
            truth_used[i] = true;
            predicted_used[j] = true;
            tp += 1;
        }
    }
    Counts {
        tp,
        fp: predicted.len() as u64 - tp,
        missed: truth.len() as u64 - tp,
    }
}

/// One clip's scores.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipScore {
    /// Splice counts at each tolerance.
    pub splices: [Counts; 3],
    /// Asserted splices.
    pub asserted_splices: u64,
    /// Asserted matches that agree with no piece of the truth.
    pub false_matches: u64,
    /// For each archived piece: its clip length and whether it was attributed.
    pub attributed: Vec<(f64, bool)>,
    /// The verdict label, when given.
    pub label: Option<Label>,
    /// The verdict score, when given.
    pub score: Option<f64>,
    /// Whether a report was there to score.
    pub has_report: bool,
}

/// Scores one clip; `report` is `None` when no report was found (scored as asserting nothing).
pub fn score_clip(truth: &ClipTruth, report: Option<&Asserted>) -> ClipScore {
    let empty = Asserted::default();
    let asserted = report.unwrap_or(&empty);
    let truth_times: Vec<f64> = truth.splices.iter().map(|s| s.time_s).collect();
    let splices = TOLERANCES_S.map(|tol| match_splices(&truth_times, &asserted.splices, tol));
    let agrees = |m: &MatchView| {
        truth.pieces.iter().any(|p| {
            p.reference
                .as_deref()
                .is_some_and(|r| same_reference(r, &m.reference))
                && m.clip_start_s < p.clip_end_s
                && m.clip_end_s > p.clip_start_s
                && (p.source_at(m.clip_start_s) - m.reference_start_s).abs()
                    <= ATTRIBUTION_TOLERANCE_S
        })
    };
    let false_matches = asserted.matches.iter().filter(|m| !agrees(m)).count() as u64;
    let attributed = truth
        .pieces
        .iter()
        .filter_map(|p| {
            let reference = p.reference.as_deref()?;
            let found = asserted.matches.iter().any(|m| {
                same_reference(reference, &m.reference)
                    && (m.clip_start_s - p.clip_start_s).abs() <= ATTRIBUTION_TOLERANCE_S
                    && (m.reference_start_s - p.source_start_s).abs() <= ATTRIBUTION_TOLERANCE_S
            });
            Some((p.duration_s(), found))
        })
        .collect();
    ClipScore {
        splices,
        asserted_splices: asserted.splices.len() as u64,
        false_matches,
        attributed,
        label: asserted.label,
        score: asserted.score,
        has_report: report.is_some(),
    }
}

/// Splice detection over a group of clips.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SpliceStats {
    /// Clips in the group.
    pub clips: u64,
    /// Real splices.
    pub splices: u64,
    /// Asserted splices.
    pub asserted: u64,
    /// Counts at 20, 50 and 100 ms.
    pub at: [Counts; 3],
}

impl SpliceStats {
    /// Adds one clip.
    pub fn add(&mut self, truth: &ClipTruth, score: &ClipScore) {
        self.clips += 1;
        self.splices += truth.splices.len() as u64;
        self.asserted += score.asserted_splices;
        for (a, b) in self.at.iter_mut().zip(score.splices) {
            a.add(b);
        }
    }
}

/// Verdicts over a group of clips.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VerdictStats {
    /// Clips.
    pub clips: u64,
    /// Clips whose report has a verdict label.
    pub with_label: u64,
    /// Clips whose label is the expected one.
    pub correct: u64,
    /// Confusion counts: expected label, reported label (or "none").
    pub confusion: Vec<(String, String, u64)>,
    /// (score, is not authentic) for each clip with a score.
    #[serde(skip)]
    pub scored: Vec<(f64, bool)>,
}

impl VerdictStats {
    /// Adds one clip.
    pub fn add(&mut self, truth: &ClipTruth, score: &ClipScore) {
        self.clips += 1;
        if let Some(label) = score.label {
            self.with_label += 1;
            self.correct += u64::from(label == truth.label);
        }
        let reported = score.label.map_or("none", Label::as_str).to_string();
        let expected = truth.label.as_str().to_string();
        match self
            .confusion
            .iter_mut()
            .find(|(e, r, _)| *e == expected && *r == reported)
        {
            Some(entry) => entry.2 += 1,
            None => self.confusion.push((expected, reported, 1)),
        }
        self.confusion.sort();
        if let Some(s) = score.score {
            self.scored.push((s, truth.label != Label::Authentic));
        }
    }

    /// Correct labels over all clips (a clip without a verdict counts as wrong); `None` when no
    /// report has a verdict.
    pub fn accuracy(&self) -> Option<f64> {
        (self.with_label > 0)
            .then(|| ratio(self.correct, self.clips))
            .flatten()
    }

    /// ROC AUC of the verdict score for "not authentic".
    pub fn auc(&self) -> Option<f64> {
        roc_auc(&self.scored)
    }
}

/// Attribution over a group of clips, for pieces of at least 2 s, 3 s and 5 s.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AttributionStats {
    /// Archived pieces at least 2 s, 3 s and 5 s long.
    pub pieces: [u64; 3],
    /// Of those, attributed.
    pub found: [u64; 3],
}

impl AttributionStats {
    /// Adds one clip.
    pub fn add(&mut self, score: &ClipScore) {
        for (k, min_s) in ATTRIBUTION_MIN_PIECE_S.iter().enumerate() {
            for &(duration_s, found) in &score.attributed {
                if duration_s >= *min_s {
                    self.pieces[k] += 1;
                    self.found[k] += u64::from(found);
                }
            }
        }
    }
}

/// False detections per hour of unedited audio (authentic and reused clips: no cut at all).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FalseRates {
    /// Unedited clips.
    pub clips: u64,
    /// Their audio in hours.
    pub hours: f64,
    /// Asserted splices in them (all false).
    pub false_splices: u64,
    /// Asserted matches in them that agree with no piece of the truth.
    pub false_matches: u64,
}

impl FalseRates {
    /// Adds one clip if it is unedited.
    pub fn add(&mut self, truth: &ClipTruth, score: &ClipScore) {
        if !truth.is_unedited() {
            return;
        }
        self.clips += 1;
        self.hours += truth.duration_s / 3600.0;
        self.false_splices += score.asserted_splices;
        self.false_matches += score.false_matches;
    }

    /// A count per hour with its 95 % interval; `None` without audio.
    pub fn per_hour(&self, count: u64) -> Option<(f64, f64, f64)> {
        if self.hours <= 0.0 {
            return None;
        }
        let (lo, hi) = poisson_interval(count, CONFIDENCE);
        Some((count as f64 / self.hours, lo / self.hours, hi / self.hours))
    }
}

/// Confidence level of the rate intervals.
pub const CONFIDENCE: f64 = 0.95;

/// The exact (Garwood, "Fiducial limits for the Poisson distribution", Biometrika 28, 1936)
/// two-sided interval for the mean of a Poisson count `k` at `confidence`: the means at which
/// P(X ≥ k) and P(X ≤ k) are each (1 − confidence) / 2, found by bisection on the Poisson CDF.
pub fn poisson_interval(k: u64, confidence: f64) -> (f64, f64) {
    let tail = (1.0 - confidence) / 2.0;
    let upper_end = k as f64 + 20.0 * (k as f64).sqrt() + 50.0;
    // P(X ≤ k; μ) falls from 1 to 0 as μ grows.
    let upper = bisect(|mu| poisson_cdf(k, mu) - tail, 0.0, upper_end);
    let lower = if k == 0 {
        0.0
    } else {
        bisect(|mu| (1.0 - poisson_cdf(k - 1, mu)) - tail, 0.0, upper_end).max(0.0)
    };
    (lower, upper)
}

/// The root of `f` in [lo, hi], for `f` monotonic with a sign change there.
fn bisect(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let rising = f(hi) > f(lo);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if (f(mid) > 0.0) == rising {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    0.5 * (lo + hi)
}

/// P(X ≤ k) for X ~ Poisson(μ), summed in log space.
pub fn poisson_cdf(k: u64, mu: f64) -> f64 {
    if mu <= 0.0 {
        return 1.0;
    }
    let ln_mu = mu.ln();
    let mut log_term = -mu; // j = 0
    let mut log_sum = log_term;
    for j in 1..=k {
        log_term += ln_mu - (j as f64).ln();
        let (a, b) = if log_sum > log_term {
            (log_sum, log_term)
        } else {
            (log_term, log_sum)
        };
        log_sum = a + (b - a).exp().ln_1p();
    }
    log_sum.exp().min(1.0)
}

/// ROC AUC by the Mann–Whitney statistic (ties count half); `None` without both classes.
pub fn roc_auc(scored: &[(f64, bool)]) -> Option<f64> {
    let positives: Vec<f64> = scored.iter().filter(|s| s.1).map(|s| s.0).collect();
    let negatives: Vec<f64> = scored.iter().filter(|s| !s.1).map(|s| s.0).collect();
    if positives.is_empty() || negatives.is_empty() {
        return None;
    }
    let mut wins = 0.0;
    for p in &positives {
        for n in &negatives {
            wins += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    Some(wins / (positives.len() * negatives.len()) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_splices_is_one_to_one_and_greedy_by_distance() {
        let c = match_splices(&[1.0, 2.0], &[1.01, 1.015, 2.2], 0.05);
        assert_eq!(
            c,
            Counts {
                tp: 1,
                fp: 2,
                missed: 1
            }
        );
        let c = match_splices(&[1.0, 1.04], &[1.03], 0.05);
        assert_eq!(c.tp, 1);
        assert_eq!(c.missed, 1);
        assert_eq!(c.precision(), Some(1.0));
        assert_eq!(c.recall(), Some(0.5));
    }

    #[test]
    fn counts_without_predictions_have_no_precision_and_zero_recall() {
        let c = match_splices(&[1.0], &[], 0.1);
        assert_eq!(c.precision(), None);
        assert_eq!(c.recall(), Some(0.0));
        assert_eq!(c.f1(), Some(0.0));
        assert_eq!(match_splices(&[], &[], 0.1).f1(), None);
    }

    #[test]
    fn poisson_interval_matches_published_tables() {
        // Garwood intervals at 95 % (e.g. Ulm, Am. J. Epidemiol. 131, 1990, table 1).
        let (lo, hi) = poisson_interval(0, 0.95);
        assert_eq!(lo, 0.0);
        assert!((hi - 3.689).abs() < 1e-3, "{hi}");
        let (lo, hi) = poisson_interval(1, 0.95);
        assert!((lo - 0.0253).abs() < 1e-4 && (hi - 5.572).abs() < 1e-3);
        let (lo, hi) = poisson_interval(10, 0.95);
        assert!((lo - 4.795).abs() < 1e-3 && (hi - 18.390).abs() < 1e-3);
    }

    #[test]
    fn roc_auc_counts_ties_half_and_needs_both_classes() {
        assert_eq!(roc_auc(&[(0.9, true), (0.1, false)]), Some(1.0));
        assert_eq!(roc_auc(&[(0.5, true), (0.5, false)]), Some(0.5));
        assert_eq!(roc_auc(&[(0.5, true)]), None);
    }

    #[test]
    fn parse_report_keeps_only_asserted_evidence() {
        let v = serde_json::json!({
            "schema": "provenance-report/1",
            "splices": [{"time_s": 1.0, "score": 0.9}, {"time_s": 2.0, "score": 0.2}],
            "matches": [
                {"reference": "a.wav", "clip_start_s": 0.0, "clip_end_s": 1.0,
                 "reference_start_s": 3.0, "confidence": 0.7},
                {"reference": "clip.wav", "clip_start_s": 0.0, "clip_end_s": 1.0,
                 "reference_start_s": 3.0, "confidence": 0.9, "within_clip": true},
                {"reference": "b.wav", "clip_start_s": 0.0, "clip_end_s": 1.0,
                 "reference_start_s": 3.0, "confidence": 0.1}
            ],
            "verdict": {"label": "edited", "score": 0.8}
        });
        let a = parse_report(&v).expect("valid");
        assert_eq!(a.splices, [1.0]);
        assert_eq!(a.matches.len(), 1);
        assert_eq!(a.label, Some(Label::Edited));
        assert_eq!(a.score, Some(0.8));
    }

    #[test]
    fn parse_report_of_today_without_evidence_is_empty_and_other_schemas_fail() {
        let v = serde_json::json!({"schema": "provenance-report/1", "duration_s": 3.0});
        assert_eq!(parse_report(&v).expect("valid"), Asserted::default());
        assert!(parse_report(&serde_json::json!({"schema": "x"})).is_err());
        let bad = serde_json::json!({"schema": "provenance-report/1", "splices": [{"score": 1}]});
        assert!(parse_report(&bad).is_err());
    }

    #[test]
    fn same_reference_compares_names_or_stems() {
        assert!(same_reference("a.wav", "a.wav"));
        assert!(same_reference("a.wav", "a"));
        assert!(same_reference("dir/a.wav", "a.flac"));
        assert!(!same_reference("a.wav", "b.wav"));
    }
}
