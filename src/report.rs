//! The report: schema `provenance-report/1` (DESIGN.md), as JSON and as a human summary.
//!
//! Field names are a contract: fields may be added, never renamed or removed. Times are seconds
//! on the clip's own timeline as ffmpeg shows it. Parts of the schema that a run did not compute
//! (no archive index given, an analysis stage not run) are left out of the JSON rather than
//! written empty, so that an empty list always means "looked, found nothing".
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::container::ContainerFacts;
use crate::cues::{CueKey, CueUsability};
use crate::decode::AudioInfo;
use crate::error::Result;
use crate::index::Match;
use crate::splice::Splice;
use crate::verdict::Verdict;

/// The schema identifier written in every report.
pub const SCHEMA: &str = "provenance-report/1";

/// One analysis of one clip.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The crate version that wrote the report (with `config`, it makes a run reproducible).
    pub crate_version: &'static str,
    /// The input as given (a path, or the name given with a reader).
    pub input: String,
    /// Length of the decoded audio in seconds: samples / sample rate, on ffmpeg's timeline.
    pub duration_s: f64,
    /// The decoded audio stream.
    pub audio: AudioInfo,
    /// Facts read from the container without decoding; absent when the container reader does not
    /// know the format (the audio may still decode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerFacts>,
    /// The configuration the run used, as JSON (the analyzer's `Config`).
    pub config: serde_json::Value,
    /// The label, its calibrated score and the sentence to quote.
    pub verdict: Verdict,
    /// The archive searched: absent when no index was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveInfo>,
    /// For each splice cue, whether it could be used on this clip, with its facts (e.g.
    /// `enf.nominal_hz`); absent when the cues did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cues: Option<std::collections::BTreeMap<CueKey, CueUsability>>,
    /// Every splice candidate scoring at least the config's `splice_min_score`, in time order,
    /// with its calibrated score and the cues behind it; those at ≥ 0.5 are asserted.
    pub splices: Vec<Splice>,
    /// Every candidate match, archive and within-clip, strongest first, with its confidence;
    /// those at ≥ 0.5 are asserted.
    pub matches: Vec<Match>,
    /// The clip from 0 to `duration_s` split at the asserted splices, each with the archive
    /// reference whose asserted match covers most of it (`None` where none does).
    pub segments: Vec<Segment>,
    /// What went wrong without stopping the analysis (a truncated file, damaged packets, …).
    pub warnings: Vec<String>,
}

/// The archive a clip was searched against (an addition to the schema).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArchiveInfo {
    /// Recordings in the index.
    pub references: usize,
    /// Their total duration, in seconds.
    pub duration_s: f64,
}

/// A stretch of the clip between boundaries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// The archive recording it comes from, or `None` where no asserted match covers it.
    pub reference: Option<String>,
    /// Where in the reference the segment starts, seconds.
    pub reference_start_s: Option<f64>,
}

/// Splits `[0, duration_s]` at the asserted (score ≥ 0.5) splices and where an asserted archive
/// match (confidence ≥ 0.5, not within the clip) begins or ends, so that each segment has one
/// source; each takes the asserted match that covers most of it, if one covers at least half.
/// A match edge within [`MERGE_CUTS_S`] of an asserted splice is that splice.
pub fn segments_from_splices(
    duration_s: f64,
    splices: &[Splice],
    matches: &[Match],
) -> Vec<Segment> {
    let asserted: Vec<&Match> = matches.iter().filter(|m| m.is_asserted_archive()).collect();
    let inside = |t: f64| t > MERGE_CUTS_S && t < duration_s - MERGE_CUTS_S;
    let splice_cuts: Vec<f64> = splices
        .iter()
        .filter(|s| s.score >= ASSERTED && inside(s.time_s))
        .map(|s| s.time_s)
        .collect();
    let mut cuts = vec![0.0, duration_s];
    cuts.extend(&splice_cuts);
    for m in &asserted {
        for edge in [m.clip_start_s, m.clip_end_s] {
            if inside(edge) && splice_cuts.iter().all(|c| (c - edge).abs() > MERGE_CUTS_S) {
                cuts.push(edge);
            }
        }
    }
    cuts.sort_by(f64::total_cmp);
    // Edges of two matches that meet, a few frames apart, are one cut.
    cuts.dedup_by(|a, b| (*a - *b).abs() < MERGE_CUTS_S);
    cuts.windows(2)
        .map(|w| {
            let (start_s, end_s) = (w[0], w[1]);
            let overlap =
                |m: &Match| (end_s.min(m.clip_end_s) - start_s.max(m.clip_start_s)).max(0.0);
            let source = asserted
                .iter()
                .filter(|m| overlap(m) >= 0.5 * (end_s - start_s))
                .max_by(|a, b| overlap(a).total_cmp(&overlap(b)));
            Segment {
                start_s,
                end_s,
                reference: source.map(|m| m.reference.clone()),
                reference_start_s: source
                    .map(|m| m.reference_start_s + m.speed * (start_s - m.clip_start_s)),
            }
        })
        .collect()
}

/// Cuts closer than this (seconds) are one: the archive boundaries' own resolution, a few frames
/// either side of where two matched pieces meet.
const MERGE_CUTS_S: f64 = 0.3;

/// Scores and confidences at or above this are asserted (DESIGN.md).
pub const ASSERTED: f64 = 0.5;

impl Report {
    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .expect("a report serialises: it holds no maps with non-string keys")
    }

    /// Writes the JSON report to `path` (`-` for stdout), through a temporary file renamed into
    /// place when `path` is a regular file or does not exist yet.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when the file cannot be written.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        let mut text = self.to_json();
        text.push('\n');
        crate::output::write_atomic(path, text.as_bytes())
    }

    /// A human summary: a few lines a reader can take in at a glance.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let a = &self.audio;
        let _ = writeln!(s, "{}", self.input);
        let _ = writeln!(
            s,
            "  audio: {} {} Hz, {} channel(s), stream {}, {} ({:.3} s)",
            a.codec,
            a.sample_rate,
            a.channels,
            a.track,
            format_clock(self.duration_s),
            self.duration_s
        );
        if let Some(c) = &self.container {
            let mut line = format!("  container: {}", c.format);
            if let Some(e) = &c.encoder {
                let _ = write!(line, ", written by {e}");
            }
            if let Some(t) = &c.creation_time {
                let _ = write!(line, ", created {t}");
            }
            let _ = writeln!(s, "{line}");
            for note in &c.notes {
                let _ = writeln!(s, "  note: {note}");
            }
        }
        if let Some(a) = &self.archive {
            let _ = writeln!(
                s,
                "  archive: {} recording(s), {}",
                a.references,
                format_clock(a.duration_s)
            );
        }
        let _ = writeln!(
            s,
            "  verdict: {} (score {:.2}): {}",
            self.verdict.label.as_str(),
            self.verdict.score,
            self.verdict.summary
        );
        self.write_segment_table(&mut s);
        let asserted: Vec<&Match> = self
            .matches
            .iter()
            .filter(|m| m.confidence >= ASSERTED)
            .collect();
        for m in &asserted {
            let _ = writeln!(
                s,
                "  {} {}–{} = {} {}–{} (speed {:.3}, confidence {:.2})",
                if m.within_clip { "repeat:" } else { "match: " },
                format_clock(m.clip_start_s),
                format_clock(m.clip_end_s),
                if m.within_clip {
                    "earlier in the clip"
                } else {
                    m.reference.as_str()
                },
                format_clock(m.reference_start_s),
                format_clock(m.reference_end_s),
                m.speed,
                m.confidence
            );
        }
        if asserted.is_empty() && self.archive.is_some() {
            let _ = writeln!(s, "  no stretch of the clip was found in the archive");
        }
        for w in &self.warnings {
            let _ = writeln!(s, "  warning: {w}");
        }
        s
    }
}

impl Report {
    /// The segments as a table: start–end, the source (or "no match"), and the score of the
    /// splice at the segment's end.
    fn write_segment_table(&self, s: &mut String) {
        let _ = writeln!(s, "  segments:");
        let _ = writeln!(
            s,
            "    {:<21}  {:<40}  splice score at end",
            "start–end", "source"
        );
        for g in &self.segments {
            let source = match (&g.reference, g.reference_start_s) {
                (Some(r), Some(at)) => format!("{r} @ {}", format_clock(at)),
                (Some(r), None) => r.clone(),
                _ => "no match".to_string(),
            };
            // The strongest splice candidate at the boundary, asserted or not.
            let at_end = self
                .splices
                .iter()
                .filter(|x| (x.time_s - g.end_s).abs() < MERGE_CUTS_S)
                .max_by(|a, b| a.score.total_cmp(&b.score))
                .map(|x| {
                    let weak = if x.score < ASSERTED {
                        " (not asserted)"
                    } else {
                        ""
                    };
                    format!("{:.2}{weak}", x.score)
                })
                .unwrap_or_else(|| "—".to_string());
            let span = format!("{}–{}", format_clock(g.start_s), format_clock(g.end_s));
            let _ = writeln!(s, "    {span:<21}  {source:<40}  {at_end}");
        }
    }
}

/// `h:mm:ss.cc` or `m:ss.cc` for a time in seconds.
pub fn format_clock(time_s: f64) -> String {
    let centis = (time_s.max(0.0) * 100.0).round() as u64;
    let (h, rest) = (centis / 360_000, centis % 360_000);
    let (m, rest) = (rest / 6000, rest % 6000);
    let (sec, cs) = (rest / 100, rest % 100);
    if h > 0 {
        format!("{h}:{m:02}:{sec:02}.{cs:02}")
    } else {
        format!("{m}:{sec:02}.{cs:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            schema: SCHEMA,
            crate_version: env!("CARGO_PKG_VERSION"),
            input: "clip.m4a".into(),
            duration_s: 3.008,
            audio: AudioInfo {
                codec: "aac".into(),
                sample_rate: 32_000,
                channels: 1,
                track: 1,
            },
            container: None,
            verdict: Verdict {
                label: crate::verdict::Label::Authentic,
                score: 0.01,
                summary: "No sign of editing or reuse.".into(),
            },
            config: serde_json::json!({}),
            archive: None,
            cues: None,
            splices: Vec::new(),
            matches: Vec::new(),
            segments: Vec::new(),
            warnings: vec!["the file is truncated".into()],
        }
    }

    #[test]
    fn segments_split_at_asserted_splices_and_take_the_covering_match() {
        let matches = vec![
            Match::at_speed_one("a.mp3", (2.0, 5.0), 10.0, 0.99),
            Match::at_speed_one("b.mp3", (6.0, 7.0), 0.0, 0.3),
        ];
        let splice = |time_s: f64, score: f64| Splice {
            time_s,
            score,
            cues: Default::default(),
        };
        let splices = [
            splice(2.02, 0.9),
            splice(5.0, 0.7),
            splice(6.0, 0.2),
            splice(9.0, 0.9),
        ];
        let segments = segments_from_splices(9.0, &splices, &matches);
        let spans: Vec<(f64, f64, Option<&str>)> = segments
            .iter()
            .map(|s| (s.start_s, s.end_s, s.reference.as_deref()))
            .collect();
        assert_eq!(
            spans,
            vec![
                (0.0, 2.02, None),
                (2.02, 5.0, Some("a.mp3")),
                (5.0, 9.0, None)
            ]
        );
        assert_eq!(segments[1].reference_start_s, Some(10.02));
    }

    #[test]
    fn format_clock_minutes_and_hours() {
        assert_eq!(format_clock(12.345), "0:12.35");
        assert_eq!(format_clock(3725.5), "1:02:05.50");
    }

    #[test]
    fn report_json_has_schema_and_audio_keys() {
        let v: serde_json::Value = serde_json::from_str(&report().to_json()).expect("valid json");
        assert_eq!(v["schema"], "provenance-report/1");
        assert_eq!(v["audio"]["codec"], "aac");
        assert_eq!(v["audio"]["track"], 1);
        assert!(
            v.get("container").is_none(),
            "absent facts are left out, not null"
        );
    }

    #[test]
    fn report_summary_names_input_codec_and_warnings() {
        let s = report().summary();
        assert!(
            s.contains("clip.m4a")
                && s.contains("aac 32000 Hz")
                && s.contains("warning: the file is truncated")
        );
    }
}
