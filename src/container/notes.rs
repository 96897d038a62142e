//! Note helpers shared by the format readers: durations for people, track labels, and the
//! notes that apply to any container (tracks of different durations, editors among the
//! writers).
#![forbid(unsafe_code)]

use super::writers;
use super::{TrackFacts, TrackKind};

/// Audio and video tracks of one untouched recording end within a frame or two of each other
/// (under 0.1 s at any common frame rate, plus under 0.05 s of AAC padding); a larger spread
/// means one track was cut or replaced.
const MAX_TRACK_DURATION_SPREAD_S: f64 = 0.25;

/// "track 1 (audio)".
pub(crate) fn label(t: &TrackFacts) -> String {
    let kind = match t.kind {
        TrackKind::Audio => "audio",
        TrackKind::Video => "video",
        TrackKind::Subtitle => "subtitle",
        TrackKind::Data => "data",
    };
    format!("track {} ({kind})", t.index)
}

/// A duration for people: seconds up to two minutes, then minutes, hours, days.
pub(crate) fn human_s(s: f64) -> String {
    let s = s.abs();
    if s < 120.0 {
        let text = format!("{s:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        format!("{text} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86_400.0)
    }
}

/// A note when audio and video tracks differ in duration by more than
/// [`MAX_TRACK_DURATION_SPREAD_S`].
pub(crate) fn duration_spread(tracks: &[TrackFacts], n: &mut Vec<String>) {
    let av: Vec<&TrackFacts> = tracks
        .iter()
        .filter(|t| matches!(t.kind, TrackKind::Audio | TrackKind::Video) && !t.attached_picture)
        .filter(|t| t.duration_s.is_some_and(|d| d > 0.0))
        .collect();
    let durations = || av.iter().filter_map(|t| t.duration_s);
    let (Some(lo), Some(hi)) = (durations().reduce(f64::min), durations().reduce(f64::max)) else {
        return;
    };
    if hi - lo > MAX_TRACK_DURATION_SPREAD_S {
        let list: Vec<String> = av
            .iter()
            .map(|t| format!("{} {}", label(t), human_s(t.duration_s.unwrap_or(0.0))))
            .collect();
        n.push(format!("tracks differ in duration: {}", list.join(", ")));
    }
}

/// A note naming the editors among `names` (encoder tags, handler names, writing apps).
pub(crate) fn editors<'a>(names: impl IntoIterator<Item = &'a str>, n: &mut Vec<String>) {
    let mut found: Vec<String> = Vec::new();
    for name in names {
        let quoted = format!("'{name}'");
        if writers::family(name).is_some_and(|f| f.editor) && !found.contains(&quoted) {
            found.push(quoted);
        }
    }
    if !found.is_empty() {
        n.push(format!("written by an editor: {}", found.join(", ")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_s_picks_units() {
        assert_eq!(human_s(0.5), "0.5 s");
        assert_eq!(human_s(1.036), "1.036 s");
        assert_eq!(human_s(2.0), "2 s");
        assert_eq!(human_s(600.0), "10.0 min");
        assert_eq!(human_s(3.0 * 86_400.0), "3.0 days");
    }

    #[test]
    fn duration_spread_notes_large_gap_only() {
        let mut a = TrackFacts::new(TrackKind::Audio);
        a.duration_s = Some(10.2);
        let mut v = TrackFacts::new(TrackKind::Video);
        v.index = 1;
        v.duration_s = Some(8.0);
        let mut n = Vec::new();
        duration_spread(&[a.clone(), v.clone()], &mut n);
        assert_eq!(
            n,
            ["tracks differ in duration: track 0 (audio) 10.2 s, track 1 (video) 8 s"]
        );
        v.duration_s = Some(10.1);
        n.clear();
        duration_spread(&[a, v], &mut n);
        assert!(n.is_empty());
    }

    #[test]
    fn editors_named_once() {
        let mut n = Vec::new();
        editors(
            ["Adobe Premiere Pro", "Lavf59", "Adobe Premiere Pro"],
            &mut n,
        );
        assert_eq!(n, ["written by an editor: 'Adobe Premiere Pro'"]);
    }
}
