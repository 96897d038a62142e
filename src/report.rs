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
    /// The archive searched: absent when no index was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveInfo>,
    /// For each splice cue, whether it could be used on this clip, with its facts (e.g.
    /// `enf.nominal_hz`); absent when the cues did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cues: Option<std::collections::BTreeMap<CueKey, CueUsability>>,
    /// Every candidate match, archive and within-clip, strongest first, with its confidence;
    /// those at ≥ 0.5 are asserted.
    pub matches: Vec<Match>,
    /// The clip from 0 to `duration_s` split at the boundaries of asserted archive matches, with
    /// the reference where one covers the segment; absent when no index was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<Segment>>,
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

/// Splits `[0, duration_s]` at the boundaries of the asserted (confidence ≥ 0.5) archive matches,
/// strongest first where they overlap.
pub fn segments_from_matches(duration_s: f64, matches: &[Match]) -> Vec<Segment> {
    let mut asserted: Vec<&Match> = matches
        .iter()
        .filter(|m| m.confidence >= ASSERTED && !m.within_clip)
        .collect();
    asserted.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let mut cuts = vec![0.0, duration_s];
    for m in &asserted {
        cuts.push(m.clip_start_s.clamp(0.0, duration_s));
        cuts.push(m.clip_end_s.clamp(0.0, duration_s));
    }
    cuts.sort_by(f64::total_cmp);
    cuts.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
    cuts.windows(2)
        .map(|w| {
            let (start_s, end_s) = (w[0], w[1]);
            let middle = 0.5 * (start_s + end_s);
            let source = asserted
                .iter()
                .find(|m| m.clip_start_s <= middle && middle < m.clip_end_s);
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
            config: serde_json::json!({}),
            archive: None,
            cues: None,
            matches: Vec::new(),
            segments: None,
            warnings: vec!["the file is truncated".into()],
        }
    }

    fn matched(
        reference: &str,
        clip: (f64, f64),
        reference_start_s: f64,
        confidence: f64,
    ) -> Match {
        Match {
            clip_start_s: clip.0,
            clip_end_s: clip.1,
            reference: reference.into(),
            reference_start_s,
            reference_end_s: reference_start_s + clip.1 - clip.0,
            speed: 1.0,
            confidence,
            support: 40,
            within_clip: false,
        }
    }

    #[test]
    fn segments_cover_the_clip_and_split_at_asserted_matches_only() {
        let matches = vec![
            matched("a.mp3", (2.0, 5.0), 10.0, 0.99),
            matched("b.mp3", (6.0, 7.0), 0.0, 0.3),
        ];
        let segments = segments_from_matches(9.0, &matches);
        let spans: Vec<(f64, f64, Option<&str>)> = segments
            .iter()
            .map(|s| (s.start_s, s.end_s, s.reference.as_deref()))
            .collect();
        assert_eq!(
            spans,
            vec![
                (0.0, 2.0, None),
                (2.0, 5.0, Some("a.mp3")),
                (5.0, 9.0, None)
            ]
        );
        assert_eq!(segments[1].reference_start_s, Some(10.0));
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
