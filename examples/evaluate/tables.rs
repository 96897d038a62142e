//! Results: scores grouped by condition and by kind of cut, as aligned plain-text tables (printed),
//! Markdown (`results.md`) and JSON (`results.json`).

use std::fmt::Write as _;

use serde::Serialize;

use crate::dsp::Placement;
use crate::score::{
    ATTRIBUTION_MIN_PIECE_S, AttributionStats, CONFIDENCE, ClipScore, FalseRates, SpliceStats,
    TOLERANCES_S, VerdictStats, ratio,
};
use crate::truth::{ClipKind, ClipTruth, Fade, Join, Label, Split};

/// A table: a title, column headers, rows of cells, and notes under it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Table {
    /// The title.
    pub title: String,
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows of cells, one per header.
    pub rows: Vec<Vec<String>>,
    /// Lines printed under the table.
    pub notes: Vec<String>,
}

impl Table {
    fn new(title: impl Into<String>, headers: &[&str]) -> Table {
        Table {
            title: title.into(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            ..Table::default()
        }
    }

    /// Plain text: columns padded to their widest cell, the first left-aligned, the others right.
    pub fn to_text(&self) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|c| {
                std::iter::once(&self.headers[c])
                    .chain(self.rows.iter().filter_map(|r| r.get(c)))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (c, width) in widths.iter().enumerate() {
                let cell = cells.get(c).map_or("", String::as_str);
                let pad = width.saturating_sub(cell.chars().count());
                if c == 0 {
                    let _ = write!(s, "{cell}{}", " ".repeat(pad));
                } else {
                    let _ = write!(s, "  {}{cell}", " ".repeat(pad));
                }
            }
            s.trim_end().to_string()
        };
        let mut out = format!("{}\n", self.title);
        out += &line(&self.headers);
        out.push('\n');
        let total: usize = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
        out += &"-".repeat(total);
        out.push('\n');
        for row in &self.rows {
            out += &line(row);
            out.push('\n');
        }
        for note in &self.notes {
            let _ = writeln!(out, "  {note}");
        }
        out
    }

    /// A Markdown pipe table under a level-3 heading.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("### {}\n\n", self.title);
        let _ = writeln!(out, "| {} |", self.headers.join(" | "));
        let _ = writeln!(
            out,
            "|{}",
            self.headers
                .iter()
                .enumerate()
                .map(|(c, _)| if c == 0 { "---|" } else { "---:|" })
                .collect::<String>()
        );
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for note in &self.notes {
                let _ = writeln!(out, "{note}  ");
            }
        }
        out
    }
}

/// A ratio with three decimals, or `n/a`.
fn fmt(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.3}"))
}

/// A rate with its interval: `1.23 [0.50, 2.54]`.
fn fmt_rate(rate: Option<(f64, f64, f64)>) -> String {
    rate.map_or_else(
        || "n/a".to_string(),
        |(r, lo, hi)| format!("{r:.2} [{lo:.2}, {hi:.2}]"),
    )
}

/// One scored clip.
pub type Scored<'a> = (&'a ClipTruth, &'a ClipScore);

/// Everything measured on one split, for `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct SplitResults {
    /// `test`, `train` or `all`.
    pub split: String,
    /// Splice detection per condition (and `all`).
    pub splices_by_condition: Vec<(String, SpliceStats)>,
    /// Splice detection per kind of cut, over all conditions.
    pub splices_by_kind: Vec<(String, SpliceStats)>,
    /// Verdicts per condition (and `all`).
    pub verdicts_by_condition: Vec<(String, VerdictRow)>,
    /// Verdicts over all conditions for the edited clips with and without hum, and for all
    /// clips but the edited ones without hum (whose cut only an unusable cue could reveal).
    pub verdicts_by_kind: Vec<(String, VerdictRow)>,
    /// Attribution per condition (and `all`).
    pub attribution_by_condition: Vec<(String, AttributionStats)>,
    /// False detections per hour of unedited audio, per condition (and `all`).
    pub false_rates_by_condition: Vec<(String, FalseRateRow)>,
}

/// Verdict numbers for JSON.
#[derive(Debug, Clone, Serialize)]
pub struct VerdictRow {
    /// The counts.
    #[serde(flatten)]
    pub stats: VerdictStats,
    /// Accuracy (clips without a verdict count as wrong).
    pub accuracy: Option<f64>,
    /// ROC AUC of `verdict.score`.
    pub auc: Option<f64>,
}

/// False-rate numbers for JSON.
#[derive(Debug, Clone, Serialize)]
pub struct FalseRateRow {
    /// The counts.
    #[serde(flatten)]
    pub stats: FalseRates,
    /// False splices per hour, with the 95 % interval.
    pub false_splices_per_hour: Option<(f64, f64, f64)>,
    /// False matches per hour, with the 95 % interval.
    pub false_matches_per_hour: Option<(f64, f64, f64)>,
}

/// The kinds of cut the splice table breaks down by: clip kind, join, placement, crossfade. A
/// clip counts under a value when all its splices share it (clips keep one style, so precision is
/// well defined per row: a false splice belongs to its clip's style).
/// Whether a clip belongs to a group.
type Belongs = Box<dyn Fn(&ClipTruth) -> bool>;

fn kinds() -> Vec<(String, Belongs)> {
    let mut rows: Vec<(String, Belongs)> = Vec::new();
    for kind in [ClipKind::Deletion, ClipKind::Reassembled] {
        rows.push((
            format!("clip: {}", kind.name()),
            Box::new(move |t: &ClipTruth| t.kind == kind),
        ));
    }
    for join in [
        Join::WithinRecording,
        Join::SameSpeaker,
        Join::OtherSpeaker,
        Join::Mixed,
    ] {
        rows.push((
            format!("join: {}", join.name()),
            Box::new(move |t: &ClipTruth| t.join() == Some(join)),
        ));
    }
    for (hum, name) in [(true, "hum"), (false, "no hum")] {
        rows.push((
            format!("within recording, {name}"),
            Box::new(move |t: &ClipTruth| {
                t.join() == Some(Join::WithinRecording) && t.has_hum() == hum
            }),
        ));
    }
    for (placement, name) in [
        (Placement::Pause, "in pauses"),
        (Placement::MidSpeech, "mid-speech"),
        (Placement::Mixed, "mixed"),
    ] {
        rows.push((
            format!("cut: {name}"),
            Box::new(move |t: &ClipTruth| t.placement() == Some(placement)),
        ));
    }
    for fade in [Fade::Hard, Fade::Short, Fade::Long] {
        rows.push((
            fade.name().to_string(),
            Box::new(move |t: &ClipTruth| t.fade() == Some(fade)),
        ));
    }
    rows
}

/// The clip groups the verdict table adds to its conditions: edited clips (a deletion in a
/// recording the archive does not hold) with and without mains hum, and every clip but the
/// edited ones without hum, whose cut only an unusable cue could reveal (issue 6).
fn verdict_kinds() -> Vec<(String, Belongs)> {
    let edited_without_hum = |t: &ClipTruth| t.label == Label::Edited && !t.has_hum();
    vec![
        (
            "edited, hum".into(),
            Box::new(|t: &ClipTruth| t.label == Label::Edited && t.has_hum()),
        ),
        (
            "edited, no hum (no usable cue)".into(),
            Box::new(edited_without_hum),
        ),
        (
            "all but edited without hum".into(),
            Box::new(move |t: &ClipTruth| !edited_without_hum(t)),
        ),
    ]
}

/// Measures `scored` (one split, or all) per condition (in `conditions` order) and per kind.
pub fn measure(split: &str, scored: &[Scored<'_>], conditions: &[&str]) -> SplitResults {
    let mut groups: Vec<String> = conditions.iter().map(|c| c.to_string()).collect();
    groups.push("all".into());
    let in_group = |g: &str, t: &ClipTruth| g == "all" || t.condition == g;
    let mut results = SplitResults {
        split: split.to_string(),
        splices_by_condition: Vec::new(),
        splices_by_kind: Vec::new(),
        verdicts_by_condition: Vec::new(),
        verdicts_by_kind: Vec::new(),
        attribution_by_condition: Vec::new(),
        false_rates_by_condition: Vec::new(),
    };
    for g in &groups {
        let mut splices = SpliceStats::default();
        let mut verdicts = VerdictStats::default();
        let mut attribution = AttributionStats::default();
        let mut false_rates = FalseRates::default();
        for (t, s) in scored.iter().filter(|(t, _)| in_group(g, t)) {
            splices.add(t, s);
            verdicts.add(t, s);
            attribution.add(s);
            false_rates.add(t, s);
        }
        results.splices_by_condition.push((g.clone(), splices));
        let (accuracy, auc) = (verdicts.accuracy(), verdicts.auc());
        results.verdicts_by_condition.push((
            g.clone(),
            VerdictRow {
                stats: verdicts,
                accuracy,
                auc,
            },
        ));
        results
            .attribution_by_condition
            .push((g.clone(), attribution));
        let row = FalseRateRow {
            false_splices_per_hour: false_rates.per_hour(false_rates.false_splices),
            false_matches_per_hour: false_rates.per_hour(false_rates.false_matches),
            stats: false_rates,
        };
        results.false_rates_by_condition.push((g.clone(), row));
    }
    for (name, belongs) in verdict_kinds() {
        let mut verdicts = VerdictStats::default();
        for (t, s) in scored.iter().filter(|(t, _)| belongs(t)) {
            verdicts.add(t, s);
        }
        let (accuracy, auc) = (verdicts.accuracy(), verdicts.auc());
        results.verdicts_by_kind.push((
            name,
            VerdictRow {
                stats: verdicts,
                accuracy,
                auc,
            },
        ));
    }
    for (name, belongs) in kinds() {
        let mut stats = SpliceStats::default();
        for (t, s) in scored.iter().filter(|(t, _)| belongs(t)) {
            stats.add(t, s);
        }
        if stats.clips > 0 {
            results.splices_by_kind.push((name, stats));
        }
    }
    results
}

/// The splice table's columns.
fn splice_headers(first: &'static str) -> Vec<&'static str> {
    vec![
        first, "clips", "cuts", "asserted", "P@20ms", "R@20ms", "F1@20ms", "P@50ms", "R@50ms",
        "F1@50ms", "P@100ms", "R@100ms", "F1@100ms",
    ]
}

fn splice_row(name: &str, s: &SpliceStats) -> Vec<String> {
    let mut row = vec![
        name.to_string(),
        s.clips.to_string(),
        s.splices.to_string(),
        s.asserted.to_string(),
    ];
    for c in &s.at {
        row.extend([fmt(c.precision()), fmt(c.recall()), fmt(c.f1())]);
    }
    row
}

/// The tables of one split, in print order.
pub fn tables(r: &SplitResults) -> Vec<Table> {
    let split = &r.split;
    let mut out = Vec::new();
    let mut t = Table::new(
        format!("Splices by condition ({split} split)"),
        &splice_headers("condition"),
    );
    t.rows = r
        .splices_by_condition
        .iter()
        .map(|(g, s)| splice_row(g, s))
        .collect();
    t.notes.push(format!(
        "Asserted splices (score >= 0.5) matched one to one to real cuts within {} ms; \
         P = n/a when nothing was asserted.",
        TOLERANCES_S
            .map(|x| (x * 1000.0).round() as u32)
            .map(|x| x.to_string())
            .join("/")
    ));
    out.push(t);
    let mut t = Table::new(
        format!("Splices by kind of cut, all conditions ({split} split)"),
        &splice_headers("kind of cut"),
    );
    t.rows = r
        .splices_by_kind
        .iter()
        .map(|(g, s)| splice_row(g, s))
        .collect();
    t.notes.push(
        "A clip counts under a kind when all its cuts share it; false splices count against \
         the kind of the clip they were asserted in."
            .into(),
    );
    out.push(t);
    let mut t = Table::new(
        format!("Clip verdicts ({split} split)"),
        &["condition", "clips", "with verdict", "accuracy", "ROC AUC"],
    );
    t.rows = r
        .verdicts_by_condition
        .iter()
        .chain(&r.verdicts_by_kind)
        .map(|(g, v)| {
            vec![
                g.clone(),
                v.stats.clips.to_string(),
                v.stats.with_label.to_string(),
                fmt(v.accuracy),
                fmt(v.auc),
            ]
        })
        .collect();
    t.notes.push(
        "Accuracy counts a clip without a verdict as wrong; AUC of verdict.score for \
         'not authentic' (n/a without scores). The last three rows are over all conditions: \
         'edited' clips are deletions in recordings the archive does not hold, 'hum' as in the \
         splice table (added or the recording's own)."
            .into(),
    );
    out.push(t);
    if let Some((_, all)) = r.verdicts_by_condition.last() {
        let reported: Vec<String> = Label::ALL
            .iter()
            .map(|l| l.as_str().to_string())
            .chain(std::iter::once("none".to_string()))
            .collect();
        let mut headers = vec!["expected \\ reported"];
        headers.extend(reported.iter().map(String::as_str));
        let mut t = Table::new(
            format!("Verdict confusion, all conditions ({split} split)"),
            &headers,
        );
        for expected in Label::ALL {
            let mut row = vec![expected.as_str().to_string()];
            for rep in &reported {
                let n: u64 = all
                    .stats
                    .confusion
                    .iter()
                    .filter(|(e, r, _)| e == expected.as_str() && r == rep)
                    .map(|(_, _, n)| n)
                    .sum();
                row.push(n.to_string());
            }
            t.rows.push(row);
        }
        out.push(t);
    }
    let mut t = Table::new(
        format!("Attribution of archived pieces ({split} split)"),
        &[
            "condition",
            "pieces >=2s",
            "found",
            "recall >=2s",
            "pieces >=3s",
            "found ",
            "recall >=3s",
            "pieces >=5s",
            "found  ",
            "recall >=5s",
        ],
    );
    t.rows = r
        .attribution_by_condition
        .iter()
        .map(|(g, a)| {
            vec![
                g.clone(),
                a.pieces[0].to_string(),
                a.found[0].to_string(),
                fmt(ratio(a.found[0], a.pieces[0])),
                a.pieces[1].to_string(),
                a.found[1].to_string(),
                fmt(ratio(a.found[1], a.pieces[1])),
                a.pieces[2].to_string(),
                a.found[2].to_string(),
                fmt(ratio(a.found[2], a.pieces[2])),
            ]
        })
        .collect();
    t.notes.push(format!(
        "Found: an asserted match names the piece's reference, with clip and reference starts \
         within 250 ms (pieces of at least {} s, {} s and {} s).",
        ATTRIBUTION_MIN_PIECE_S[0], ATTRIBUTION_MIN_PIECE_S[1], ATTRIBUTION_MIN_PIECE_S[2]
    ));
    out.push(t);
    let mut t = Table::new(
        format!("False detections per hour of unedited audio ({split} split)"),
        &[
            "condition",
            "clips",
            "hours",
            "false splices",
            "per hour [95% CI]",
            "false matches",
            "per hour [95% CI] ",
        ],
    );
    t.rows = r
        .false_rates_by_condition
        .iter()
        .map(|(g, f)| {
            vec![
                g.clone(),
                f.stats.clips.to_string(),
                format!("{:.3}", f.stats.hours),
                f.stats.false_splices.to_string(),
                fmt_rate(f.false_splices_per_hour),
                f.stats.false_matches.to_string(),
                fmt_rate(f.false_matches_per_hour),
            ]
        })
        .collect();
    t.notes.push(format!(
        "Unedited clips: authentic and reused (no cut); each recording through each condition \
         counts. Intervals: exact Poisson (Garwood 1936), {:.0} %.",
        CONFIDENCE * 100.0
    ));
    out.push(t);
    out
}

/// Which split a results section is for.
pub fn split_filter(name: &str) -> Option<Split> {
    Split::ALL.into_iter().find(|s| s.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_text_aligns_columns_and_markdown_has_a_rule() {
        let mut t = Table::new("T", &["name", "n"]);
        t.rows.push(vec!["a".into(), "10".into()]);
        t.rows.push(vec!["longer".into(), "2".into()]);
        let text = t.to_text();
        assert_eq!(text, "T\nname     n\n----------\na       10\nlonger   2\n");
        let md = t.to_markdown();
        assert!(md.contains("| name | n |\n|---|---:|\n| a | 10 |"), "{md}");
    }
}
