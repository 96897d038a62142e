//! The verdict: one label, a calibrated score and a sentence a journalist can quote, from the
//! asserted splices and matches (DESIGN.md, `verdict`).
//!
//! The label follows from asserted evidence only (score or confidence ≥ 0.5):
//! - `reassembled`: asserted splices, or two or more separate archive pieces (two recordings,
//!   or a jump within one), and at least one piece found in the archive;
//! - `reused`: one continuous piece found in the archive, no asserted splice;
//! - `edited`: asserted splices, or a stretch copied within the clip, but nothing in the archive;
//! - `authentic`: none of these. Not proof: the summary says what was checked and what could not
//!   be.
//!
//! Container facts (an editor's or ffmpeg's name, edit lists, creation times) are named in the
//! summary as context but never decide the label: re-encoding is what every upload does.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::cues::{CueKey, CueUsability, NULL_INFLATION_FACT};
use crate::index::Match;
use crate::report::{ASSERTED, ArchiveInfo, Segment, format_clock};
use crate::splice::Splice;

/// What the clip is, by the asserted evidence (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// No asserted splice and no archive match.
    Authentic,
    /// Asserted splices (or a copy within the clip), nothing in the archive.
    Edited,
    /// One continuous archive piece, no splice: old audio presented as new.
    Reused,
    /// Pieces joined at asserted splices, or two or more separate archive pieces; at least one
    /// found in the archive.
    Reassembled,
}

impl Label {
    /// Every label, in the order of DESIGN.md's table.
    pub const ALL: [Label; 4] = [
        Label::Authentic,
        Label::Edited,
        Label::Reused,
        Label::Reassembled,
    ];

    /// The label DESIGN.md gives a clip with (asserted) splices or not, and with pieces in the
    /// archive or not.
    pub fn from_evidence(spliced: bool, archived: bool) -> Label {
        match (spliced, archived) {
            (true, true) => Label::Reassembled,
            (true, false) => Label::Edited,
            (false, true) => Label::Reused,
            (false, false) => Label::Authentic,
        }
    }

    /// The label the report spells `name`, if it is one of the four.
    pub fn from_name(name: &str) -> Option<Label> {
        Label::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// The report's name for the label.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Authentic => "authentic",
            Label::Edited => "edited",
            Label::Reused => "reused",
            Label::Reassembled => "reassembled",
        }
    }
}

/// The report's `verdict`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The label.
    pub label: Label,
    /// The calibrated probability that the clip is *not* authentic (see [`VERDICT_MODEL`]).
    pub score: f64,
    /// One sentence naming the evidence, what was checked and what could not be.
    pub summary: String,
}

/// The verdict score: a logistic model of "not authentic" over the logits of the strongest
/// splice score, the strongest archive-match confidence and the strongest within-clip copy
/// confidence, fitted on the training split of the project's benchmark
/// (`examples/evaluate/fit_fusion.py` prints it).
pub struct VerdictModel {
    /// The intercept.
    pub bias: f64,
    /// Weights of the three logits.
    pub weights: [f64; 3],
}

/// The fitted verdict model (see [`VerdictModel`]): `fit_fusion.py` on the training split's 1335
/// clips (1050 not authentic, session 13), with the logits clamped at ±12 (absent evidence is
/// −12). On the test split (1185 clips) the Brier score is 0.080 and the ROC AUC 0.92: a clip without asserted
/// evidence scores about 0.4, because cuts inside one recording without hum often leave no cue
/// the fusion can assert (README, "Calibration").
pub const VERDICT_MODEL: VerdictModel = VerdictModel {
    bias: 11.0606,
    weights: [0.2208, 0.8731, 0.0005],
};

/// Logits are clamped to this, so that a confidence of 1 − 1e−300 does not outweigh all else.
const MAX_LOGIT: f64 = 12.0;

fn logit(p: f64) -> f64 {
    let p = p.clamp(0.0, 1.0);
    ((p / (1.0 - p)).ln()).clamp(-MAX_LOGIT, MAX_LOGIT)
}

impl VerdictModel {
    /// The score from the strongest splice score, archive confidence and copy confidence (0 when
    /// there is none).
    pub fn score(&self, splice: f64, archive: f64, copy: f64) -> f64 {
        let z = self.bias
            + self.weights[0] * logit(splice)
            + self.weights[1] * logit(archive)
            + self.weights[2] * logit(copy);
        1.0 / (1.0 + (-z).exp())
    }
}

/// What the verdict is made from.
pub struct Evidence<'a> {
    /// Every reported splice.
    pub splices: &'a [Splice],
    /// Every reported match.
    pub matches: &'a [Match],
    /// The segments (split at asserted splices).
    pub segments: &'a [Segment],
    /// Which cues could be used.
    pub cues: &'a BTreeMap<CueKey, CueUsability>,
    /// The archive searched, if any.
    pub archive: Option<&'a ArchiveInfo>,
    /// Container notes (re-encoding, edit lists…), named as context.
    pub container_notes: &'a [String],
}

/// The verdict for the evidence.
pub fn decide(evidence: &Evidence<'_>) -> Verdict {
    let strongest = |it: &mut dyn Iterator<Item = f64>| it.fold(0.0, f64::max);
    let splice_p = strongest(&mut evidence.splices.iter().map(|s| s.score));
    let archive_p = strongest(
        &mut evidence
            .matches
            .iter()
            .filter(|m| !m.within_clip)
            .map(|m| m.confidence),
    );
    let copy_p = strongest(
        &mut evidence
            .matches
            .iter()
            .filter(|m| m.within_clip)
            .map(|m| m.confidence),
    );
    let asserted_splices: Vec<&Splice> = evidence
        .splices
        .iter()
        .filter(|s| s.score >= ASSERTED)
        .collect();
    let archived = archive_p >= ASSERTED;
    let copied = copy_p >= ASSERTED;
    // A stretch copied within the clip is editing, unless the archive already says more. Two
    // archive pieces that do not carry on one from the other (two recordings, or a jump within
    // one) are not the "one continuous piece" of `reused`, however precisely the matcher placed
    // the boundary between them (a splice's score is the probability of a cut within 50 ms).
    let pieces = archive_pieces(evidence.matches);
    let spliced = !asserted_splices.is_empty() || (copied && !archived) || pieces >= 2;
    let label = Label::from_evidence(spliced, archived);
    let score = VERDICT_MODEL.score(splice_p, archive_p, copy_p);
    Verdict {
        label,
        score,
        summary: summary(label, evidence, &asserted_splices, pieces),
    }
}

/// How many separate pieces the asserted archive matches hold: in clip order, a new piece
/// wherever a match does not carry on where the previous one stopped ([`Match::continues`]).
fn archive_pieces(matches: &[Match]) -> usize {
    let mut asserted: Vec<&Match> = matches.iter().filter(|m| m.is_asserted_archive()).collect();
    asserted.sort_by(|a, b| a.clip_start_s.total_cmp(&b.clip_start_s));
    let joins = asserted
        .windows(2)
        .filter(|w| !w[0].continues(w[1]))
        .count();
    asserted.len().min(1) + joins
}

/// The one-sentence summary (several clauses joined by semicolons).
fn summary(label: Label, evidence: &Evidence<'_>, asserted: &[&Splice], pieces: usize) -> String {
    let mut s = String::new();
    let matched: Vec<&Segment> = evidence
        .segments
        .iter()
        .filter(|g| g.reference.is_some())
        .collect();
    let references: BTreeSet<&str> = matched
        .iter()
        .filter_map(|g| g.reference.as_deref())
        .collect();
    let copies = evidence
        .matches
        .iter()
        .filter(|m| m.within_clip && m.confidence >= ASSERTED)
        .count();
    let _ = write!(s, "{}: ", label_phrase(label));
    match label {
        Label::Reassembled | Label::Reused => {
            let _ = write!(
                s,
                "{} of {} segment(s) occur in archive recording(s) {}",
                matched.len(),
                evidence.segments.len(),
                join(references.iter().copied())
            );
        }
        Label::Edited | Label::Authentic => {
            let _ = write!(
                s,
                "{}",
                match evidence.archive {
                    Some(a) => format!(
                        "nothing found in the archive ({} recording(s), {})",
                        a.references,
                        format_clock(a.duration_s)
                    ),
                    None => "no archive was searched".to_string(),
                }
            );
        }
    }
    if asserted.is_empty() {
        if pieces >= 2 {
            let _ = write!(s, "; {pieces} separate archive pieces, joined");
        }
        let weak = evidence
            .splices
            .iter()
            .max_by(|a, b| a.score.total_cmp(&b.score));
        match weak {
            Some(w) => {
                let _ = write!(
                    s,
                    "; no splice point scored 0.5 or more (strongest {:.2} at {})",
                    w.score,
                    format_clock(w.time_s)
                );
            }
            None => s.push_str("; no splice point found"),
        }
    } else {
        let top = asserted
            .iter()
            .max_by(|a, b| a.score.total_cmp(&b.score))
            .expect("not empty");
        let mut cues: Vec<(&CueKey, &f32)> = top.cues.iter().collect();
        cues.sort_by(|a, b| b.1.total_cmp(a.1));
        let _ = write!(
            s,
            "; {} splice point(s), strongest at {} ({}, score {:.2})",
            asserted.len(),
            format_clock(top.time_s),
            join(cues.iter().take(3).map(|(k, _)| k.as_str())),
            top.score
        );
    }
    if copies > 0 {
        let _ = write!(s, "; {copies} stretch(es) repeated within the clip");
    }
    let (usable, unusable): (Vec<_>, Vec<_>) = evidence.cues.iter().partition(|(_, u)| u.usable);
    let _ = write!(
        s,
        "; checked with {} of {} acoustic cues",
        usable.len(),
        evidence.cues.len()
    );
    if !unusable.is_empty() {
        let _ = write!(
            s,
            " ({})",
            join(unusable.iter().map(|(k, u)| {
                if u.note.is_empty() {
                    format!("{k} unusable")
                } else {
                    format!("{k}: {}", u.note)
                }
            }))
        );
    }
    let wander = evidence
        .cues
        .get(&CueKey::Enf)
        .filter(|u| u.usable)
        .and_then(|u| u.facts.get(NULL_INFLATION_FACT))
        .and_then(serde_json::Value::as_f64);
    if let Some(inflation) = wander {
        let _ = write!(
            s,
            "; the mains hum wanders (as on tape): ENF read at 1/{inflation:.1} of its strength"
        );
    }
    if !evidence.container_notes.is_empty() {
        let _ = write!(
            s,
            "; container: {}",
            join(evidence.container_notes.iter().take(2))
        );
    }
    let enf_usable = evidence.cues.get(&CueKey::Enf).is_some_and(|u| u.usable);
    match label {
        Label::Authentic if !enf_usable => s.push_str(
            ". Undecidable for cuts inside one recording: without mains hum, audio removed from \
             a single recording leaves no cue this analysis can assert. Not proof of \
             authenticity: such a cut, or audio from outside the archive, would not show.",
        ),
        Label::Authentic => s.push_str(
            ". Not proof of authenticity: a cut that only an unusable cue could reveal, or audio \
             from outside the archive, would not show.",
        ),
        Label::Edited => s.push_str(
            ". Where the pieces come from is unknown: none of them is in the archive searched.",
        ),
        Label::Reused | Label::Reassembled => s.push('.'),
    }
    s
}

fn label_phrase(label: Label) -> &'static str {
    match label {
        Label::Authentic => "No sign of editing or reuse",
        Label::Edited => "Edited",
        Label::Reused => "Reused old audio",
        Label::Reassembled => "Reassembled from older audio",
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    let items: Vec<String> = items.map(|i| i.to_string()).collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn splice(time_s: f64, score: f64, key: CueKey) -> Splice {
        Splice {
            time_s,
            score,
            cues: BTreeMap::from([(key, 0.8)]),
        }
    }

    fn segment(start_s: f64, end_s: f64, reference: Option<&str>) -> Segment {
        Segment {
            start_s,
            end_s,
            reference: reference.map(String::from),
            reference_start_s: reference.map(|_| 10.0),
        }
    }

    fn verdict(splices: &[Splice], matches: &[Match], segments: &[Segment]) -> Verdict {
        let enf = CueUsability::unusable("no mains hum at 50 or 60 Hz");
        verdict_with_enf(splices, matches, segments, enf)
    }

    fn verdict_with_enf(
        splices: &[Splice],
        matches: &[Match],
        segments: &[Segment],
        enf: CueUsability,
    ) -> Verdict {
        let cues = BTreeMap::from([
            (CueKey::NoiseFloor, CueUsability::usable("")),
            (CueKey::Enf, enf),
        ]);
        let archive = ArchiveInfo {
            references: 3,
            duration_s: 600.0,
        };
        decide(&Evidence {
            splices,
            matches,
            segments,
            cues: &cues,
            archive: Some(&archive),
            container_notes: &[],
        })
    }

    #[test]
    fn separate_archive_pieces_are_reassembled_without_an_asserted_splice() {
        // Two recordings meeting at 3 s, the join's splice scored below 0.5: not one continuous
        // piece, so not `reused`.
        let weak_join = [splice(3.0, 0.14, CueKey::Archive)];
        let two_recordings = [
            Match::at_speed_one("a.mp3", (0.0, 3.0), 10.0, 0.99),
            Match::at_speed_one("b.mp3", (3.0, 8.0), 40.0, 0.76),
        ];
        let halves = [
            segment(0.0, 3.0, Some("a.mp3")),
            segment(3.0, 8.0, Some("b.mp3")),
        ];
        let v = verdict(&weak_join, &two_recordings, &halves);
        assert_eq!(v.label, Label::Reassembled);
        assert!(
            v.summary.contains("2 separate archive pieces, joined"),
            "{}",
            v.summary
        );
        // A jump within one recording (a deletion) is two pieces too.
        let jump = [
            Match::at_speed_one("a.mp3", (0.0, 3.0), 10.0, 0.99),
            Match::at_speed_one("a.mp3", (3.0, 8.0), 20.0, 0.99),
        ];
        assert_eq!(verdict(&[], &jump, &halves).label, Label::Reassembled);
        // One piece the matcher found as two lines (a lost stretch between them) is one piece;
        // a weak match (below 0.5) counts for nothing.
        let one_piece = [
            Match::at_speed_one("a.mp3", (0.0, 3.0), 10.0, 0.99),
            Match::at_speed_one("a.mp3", (3.5, 8.0), 13.5, 0.99),
            Match::at_speed_one("b.mp3", (8.0, 9.0), 50.0, 0.3),
        ];
        let all = [segment(0.0, 9.0, Some("a.mp3"))];
        assert_eq!(verdict(&[], &one_piece, &all).label, Label::Reused);
    }

    #[test]
    fn a_wandering_hum_is_named_in_the_summary() {
        let whole = [segment(0.0, 8.0, None)];
        let wandering = CueUsability::usable("").with_fact("null_inflation", 4.45);
        let v = verdict_with_enf(&[], &[], &whole, wandering);
        assert_eq!(v.label, Label::Authentic);
        let named = "the mains hum wanders (as on tape): ENF read at 1/4.5 of its strength";
        assert!(v.summary.contains(named), "{}", v.summary);
        let steady = verdict_with_enf(&[], &[], &whole, CueUsability::usable(""));
        assert!(!steady.summary.contains("wanders"), "{}", steady.summary);
    }

    #[test]
    fn labels_follow_the_asserted_evidence_only() {
        let whole = [segment(0.0, 8.0, None)];
        let v = verdict(&[splice(3.0, 0.3, CueKey::Channel)], &[], &whole);
        assert_eq!(v.label, Label::Authentic);
        assert!(
            v.summary.contains("strongest 0.30 at 0:03.00"),
            "{}",
            v.summary
        );
        assert!(v.summary.contains("Not proof"), "{}", v.summary);
        assert!(v.summary.contains("enf: no mains hum"), "{}", v.summary);
        assert!(
            v.summary
                .contains("Undecidable for cuts inside one recording"),
            "{}",
            v.summary
        );

        let cut = [splice(3.0, 0.8, CueKey::Waveform)];
        let halves = [segment(0.0, 3.0, None), segment(3.0, 8.0, None)];
        assert_eq!(verdict(&cut, &[], &halves).label, Label::Edited);

        let m = [Match::at_speed_one("old.mp3", (0.0, 8.0), 10.0, 0.99)];
        let all = [segment(0.0, 8.0, Some("old.mp3"))];
        let v = verdict(&[], &m, &all);
        assert_eq!(v.label, Label::Reused);
        assert!(
            v.summary
                .contains("1 of 1 segment(s) occur in archive recording(s) old.mp3")
        );

        let two = [segment(0.0, 3.0, Some("old.mp3")), segment(3.0, 8.0, None)];
        let v = verdict(&cut, &m, &two);
        assert_eq!(v.label, Label::Reassembled);
        assert!(
            v.summary
                .contains("1 splice point(s), strongest at 0:03.00 (waveform"),
            "{}",
            v.summary
        );

        // A weak match decides nothing.
        let weak = [Match::at_speed_one("old.mp3", (0.0, 8.0), 10.0, 0.4)];
        assert_eq!(verdict(&[], &weak, &whole).label, Label::Authentic);
    }

    #[test]
    fn label_from_evidence_follows_design_and_names_round_trip() {
        assert_eq!(Label::from_evidence(false, false), Label::Authentic);
        assert_eq!(Label::from_evidence(false, true), Label::Reused);
        assert_eq!(Label::from_evidence(true, false), Label::Edited);
        assert_eq!(Label::from_evidence(true, true), Label::Reassembled);
        assert_eq!(Label::from_name("reused"), Some(Label::Reused));
        assert_eq!(Label::from_name("fake"), None);
    }

    #[test]
    fn score_rises_with_the_evidence() {
        let none = VERDICT_MODEL.score(0.0, 0.0, 0.0);
        let some = VERDICT_MODEL.score(0.6, 0.0, 0.0);
        let strong = VERDICT_MODEL.score(0.6, 0.99, 0.0);
        assert!(none < some && some < strong, "{none} {some} {strong}");
    }

    #[test]
    fn join_lists_like_prose() {
        assert_eq!(join(["a"].iter()), "a");
        assert_eq!(join(["a", "b", "c"].iter()), "a, b and c");
    }
}
