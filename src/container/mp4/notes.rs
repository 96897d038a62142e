//! Notes on MP4/MOV oddities: box order and padding, times, writers, edit lists, tracks.
//!
//! Each note is one short lower-case sentence stating what the file shows and, where the
//! reading is standard, what it usually means. Thresholds are named constants with their reason.
#![forbid(unsafe_code)]

use super::super::notes::{self, duration_spread, human_s, label};
use super::super::writers::{self, Family};
use super::super::{ContainerFacts, TrackFacts, TrackKind, time, xmp};
use super::{Raw, Seen, Stream, TrackRaw};

/// Largest AAC encoder priming in common use, in samples at the core rate: Apple's encoder
/// primes 2112 samples (QuickTime File Format, Appendix G "Audio Priming - Handling Encoder
/// Delay in AAC"); ffmpeg and FDK prime 1024. An edit list starting further into the media
/// skips real audio.
const AAC_MAX_PRIMING_SAMPLES: u64 = 2112;

/// Largest Opus pre-skip expected, at 48 kHz: RFC 7845 §4.2 recommends at least 3840 samples
/// (80 ms) when encoding starts mid-stream; libopus itself uses 312.
const OPUS_MAX_PRE_SKIP_SAMPLES: u64 = 3840;

/// Largest MP3 priming expected: LAME's 576-sample encoder delay plus the 529-sample decoder
/// delay (LAME technical FAQ), rounded up to two MPEG-1 layer III frames.
const MP3_MAX_PRIMING_SAMPLES: u64 = 2 * 1152;

/// Extra samples an encoder may append to fill its last frame: at most one frame, 2048 samples
/// for HE-AAC at the output rate (ISO/IEC 14496-3 SBR frames are 2048 output samples).
const MAX_FRAME_PADDING_SAMPLES: u64 = 2048;

/// A gap between modification and creation time, beyond the file's duration, below which the
/// two count as "written together": recorders stamp the start and finish writing when
/// recording stops.
const REWRITE_SLACK_S: f64 = 60.0;

/// Track and movie times closer than this count as equal (writers round differently).
const TIME_TOLERANCE_S: i64 = 1;

/// All notes for an MP4/MOV file.
pub(super) fn notes(raw: &Raw, facts: &ContainerFacts) -> Vec<String> {
    let mut n = Vec::new();
    layout(raw, &mut n);
    times(raw, facts, &mut n);
    writer(raw, facts, &mut n);
    for (stream, track) in raw.streams.iter().zip(&facts.tracks) {
        if let Stream::Track(t) = stream {
            edits(t, track, &mut n);
            if let Some(e) = &t.entry
                && e.entry_count > 1
            {
                n.push(format!(
                    "{} has {} sample descriptions: codec settings change mid-track",
                    label(track),
                    e.entry_count
                ));
            }
        }
    }
    duration_spread(&facts.tracks, &mut n);
    n
}

fn listed(items: &[Seen], total: usize, with_size: bool) -> String {
    let mut parts: Vec<String> = items
        .iter()
        .map(|s| {
            let size = if with_size {
                format!(" ({} bytes)", s.size)
            } else {
                String::new()
            };
            if s.parent == "the file" {
                format!("'{}'{size} at byte {}", s.kind, s.start)
            } else {
                format!("'{}'{size} in {} at byte {}", s.kind, s.parent, s.start)
            }
        })
        .collect();
    if total > items.len() {
        parts.push(format!("and {} more", total - items.len()));
    }
    parts.join(", ")
}

fn layout(raw: &Raw, n: &mut Vec<String>) {
    if let (Some(moov), Some(&mdat)) = (raw.moov_at, raw.mdat_at.first()) {
        n.push(if moov < mdat {
            "moov before mdat (faststart layout, as rewritten for streaming)".to_string()
        } else {
            "moov after mdat (as a recorder or a muxer without faststart writes it)".to_string()
        });
    }
    if raw.ftyp.is_some() && raw.layout.first().map(String::as_str) != Some("ftyp") {
        n.push("ftyp is not the first box".to_string());
    }
    if raw.mdat_at.len() > 1 {
        n.push(format!("{} mdat boxes", raw.mdat_at.len()));
    }
    if raw.moof_count > 0 {
        n.push(format!(
            "fragmented file: {} moof boxes (a streaming or live-recording layout)",
            raw.moof_count
        ));
    }
    if raw.padding_count > 0 {
        n.push(format!(
            "padding: {}",
            listed(&raw.padding, raw.padding_count, true)
        ));
    }
    if raw.unknown_count > 0 {
        n.push(format!(
            "unrecognised boxes: {}",
            listed(&raw.unknown, raw.unknown_count, false)
        ));
    }
    if !raw.misplaced.is_empty() {
        n.push(format!(
            "boxes out of place: {}",
            listed(&raw.misplaced, raw.misplaced.len(), false)
        ));
    }
    if !raw.uuids.is_empty() {
        let list: Vec<String> = raw
            .uuids
            .iter()
            .map(|(hex, at)| format!("{hex} at byte {at}"))
            .collect();
        n.push(format!("uuid boxes: {}", list.join(", ")));
    }
    if let Some((kind, start, claimed, left)) = &raw.truncated {
        n.push(format!(
            "file is truncated: '{kind}' at byte {start} claims {claimed} bytes but only {left} remain"
        ));
    }
    if let Some((at, count)) = raw.trailing_bytes {
        n.push(format!(
            "{count} stray bytes after the last box, at byte {at}"
        ));
    }
}

fn times(raw: &Raw, facts: &ContainerFacts, n: &mut Vec<String>) {
    let Some(m) = raw.mvhd else {
        return;
    };
    let duration_s = facts.duration_s.unwrap_or(0.0);
    if m.creation == 0 {
        n.push("creation time is zero (1904-01-01): the writer did not set it".to_string());
    }
    if m.creation != 0 && m.modification != 0 {
        let (c, mo) = (
            time::unix_from_mac(m.creation),
            time::unix_from_mac(m.modification),
        );
        if c > mo + TIME_TOLERANCE_S {
            n.push(format!(
                "creation time {} is after modification time {}",
                facts.creation_time.as_deref().unwrap_or("?"),
                facts.modification_time.as_deref().unwrap_or("?")
            ));
        } else if (mo - c) as f64 > duration_s + REWRITE_SLACK_S {
            n.push(format!(
                "modification time is {} after creation time: the file was rewritten after recording",
                human_s((mo - c) as f64)
            ));
        }
    }
    if m.creation != 0 {
        let movie = time::unix_from_mac(m.creation);
        for (stream, track) in raw.streams.iter().zip(&facts.tracks) {
            let Stream::Track(t) = stream else { continue };
            let Some(tk) = t.tkhd.filter(|tk| tk.creation != 0) else {
                continue;
            };
            if (time::unix_from_mac(tk.creation) - movie).abs() > TIME_TOLERANCE_S {
                n.push(format!(
                    "{} creation time {} differs from the movie's {}",
                    label(track),
                    track.creation_time.as_deref().unwrap_or("?"),
                    facts.creation_time.as_deref().unwrap_or("?")
                ));
            }
        }
        if let Some(apple) = facts
            .tag("com.apple.quicktime.creationdate")
            .and_then(time::unix_from_iso8601)
        {
            let gap = (apple - movie).abs() as f64;
            if gap > duration_s + REWRITE_SLACK_S {
                n.push(format!(
                    "apple creationdate and mvhd creation time differ by {}",
                    human_s(gap)
                ));
            }
        }
    }
}

/// The family of the recording device, from its make or from platform keys.
fn device_family(facts: &ContainerFacts) -> Option<&'static str> {
    let make = facts
        .tag("com.apple.quicktime.make")
        .or_else(|| facts.tag("©mak"));
    if let Some(f) = make.and_then(writers::device_family) {
        return Some(f);
    }
    if facts.tags.iter().any(|t| {
        t.key.starts_with("com.apple.quicktime.") && t.key != "com.apple.quicktime.creationdate"
    }) {
        return Some("apple");
    }
    if facts.tag("com.android.version").is_some() {
        return Some("android");
    }
    None
}

fn writer(raw: &Raw, facts: &ContainerFacts, n: &mut Vec<String>) {
    let device = facts.device.clone().or_else(|| {
        facts
            .tag("com.apple.quicktime.software")
            .map(|s| format!("software {s}"))
    });
    let device_fam = device_family(facts);
    let encoder = facts
        .encoder
        .as_deref()
        .and_then(|e| writers::family(e).map(|f| (e, f)));
    let handlers: Vec<(&str, Family)> = {
        let mut v: Vec<(&str, Family)> = Vec::new();
        for t in &facts.tracks {
            if let Some(h) = t.handler_name.as_deref()
                && let Some(f) = writers::family(h)
                && !v.iter().any(|(_, g)| g.name == f.name)
            {
                v.push((h, f));
            }
        }
        v
    };
    if let (Some(device), Some((enc, fam))) = (&device, encoder)
        && Some(fam.name) != device_fam
    {
        n.push(format!(
            "encoder tag '{enc}' names {}, not the recording device ({device}): re-muxed after recording",
            fam.name
        ));
    }
    if let (Some(device), Some(df)) = (&device, device_fam) {
        for (h, f) in &handlers {
            if f.name != df {
                n.push(format!(
                    "handler name '{h}' is {}'s, not the recording device's ({device})",
                    f.name
                ));
            }
        }
    }
    if handlers.len() > 1 {
        let list: Vec<String> = handlers
            .iter()
            .map(|(h, f)| format!("'{h}' ({})", f.name))
            .collect();
        n.push(format!(
            "tracks have handler names of different programs: {}",
            list.join(", ")
        ));
    } else if device.is_none()
        && let (Some((enc, ef)), Some((h, hf))) = (encoder, handlers.first())
        && ef.name != hf.name
    {
        n.push(format!(
            "encoder tag '{enc}' ({}) and handler name '{h}' ({}) name different programs",
            ef.name, hf.name
        ));
    }
    if let Some(x) = &raw.xmp {
        xmp::notes(x, n);
    }
    let names = facts
        .encoder
        .iter()
        .chain(facts.tracks.iter().filter_map(|t| t.handler_name.as_ref()))
        .chain(
            raw.xmp
                .iter()
                .flat_map(|x| x.creator_tool.iter().chain(&x.agents)),
        )
        .map(String::as_str);
    notes::editors(names, n);
}

/// How far into its media an untouched track's first edit may start, in media timescale units:
/// the codec's priming for audio, the composition offset of the first frame (plus one frame)
/// for video.
fn start_allowance(t: &TrackRaw, track: &TrackFacts) -> Option<u64> {
    let timescale = u64::from(track.timescale.filter(|&ts| ts > 0)?);
    match track.kind {
        TrackKind::Audio => {
            let entry = t.entry.as_ref()?;
            let samples = if entry.is_lossless() {
                0
            } else {
                match track.codec.as_deref() {
                    Some("aac") if matches!(track.aac_object_type, Some(5 | 29)) => {
                        2 * AAC_MAX_PRIMING_SAMPLES
                    }
                    Some("opus") => OPUS_MAX_PRE_SKIP_SAMPLES,
                    Some("mp3") => MP3_MAX_PRIMING_SAMPLES,
                    _ => AAC_MAX_PRIMING_SAMPLES,
                }
            };
            let rate = u64::from(track.sample_rate.filter(|&r| r > 0).unwrap_or(1));
            // Samples at the output rate → media units (the timescale is usually the rate).
            Some(if track.sample_rate.is_some() {
                samples.saturating_mul(timescale).div_ceil(rate)
            } else {
                samples
            })
        }
        TrackKind::Video => {
            let shift = u64::try_from(t.first_ctts.unwrap_or(0).max(0)).unwrap_or(0);
            Some(shift + u64::from(t.first_delta.unwrap_or(0)))
        }
        _ => None,
    }
}

fn edits(t: &TrackRaw, track: &TrackFacts, n: &mut Vec<String>) {
    let list = &track.edit_list;
    if list.is_empty() {
        return;
    }
    let who = label(track);
    let movie_ts = track.movie_timescale.filter(|&ts| ts > 0).map(u64::from);
    let media_ts = track.timescale.filter(|&ts| ts > 0).map(u64::from);
    let movie_s = |d: u64| movie_ts.map_or(0.0, |ts| d as f64 / ts as f64);
    for (i, e) in list.iter().enumerate() {
        if e.media_time == -1 {
            n.push(if i == 0 {
                format!(
                    "{who} starts with an empty edit of {} (a gap before its media)",
                    human_s(movie_s(e.segment_duration))
                )
            } else {
                format!(
                    "{who} edit list has an empty edit of {} after segment {i} (a gap)",
                    human_s(movie_s(e.segment_duration))
                )
            });
        }
    }
    let segments: Vec<_> = list.iter().filter(|e| e.media_time >= 0).collect();
    if segments.len() > 1 {
        n.push(format!(
            "{who} edit list has {} segments: media joined without re-encoding",
            segments.len()
        ));
    }
    if let Some(e) = segments.iter().find(|e| e.media_rate != 1.0) {
        n.push(format!(
            "{who} edit list plays a segment at rate {}",
            e.media_rate
        ));
    }
    let (Some(first), Some(allow), Some(media_ts)) =
        (segments.first(), start_allowance(t, track), media_ts)
    else {
        return;
    };
    let start = first.media_time as u64;
    if start > allow {
        n.push(format!(
            "{who} edit list starts {} into its media: a cut made without re-encoding",
            human_s(start as f64 / media_ts as f64)
        ));
    }
    // Where the last segment stops in the media, against the media's end.
    let (Some(last), Some(movie_ts), Some(media_dur)) = (
        segments.last(),
        movie_ts,
        t.mdhd
            .as_ref()
            .map(|m| m.duration)
            .filter(|&d| d != u64::MAX),
    ) else {
        return;
    };
    let used = (last.segment_duration as f64 * media_ts as f64 / movie_ts as f64).round() as u64;
    let stop = (last.media_time as u64).saturating_add(used);
    let tolerance = match track.kind {
        TrackKind::Audio => {
            let frame = MAX_FRAME_PADDING_SAMPLES.saturating_mul(media_ts)
                / u64::from(track.sample_rate.filter(|&r| r > 0).unwrap_or(1)).max(1);
            allow + frame.max(1)
        }
        _ => allow + u64::from(t.first_delta.unwrap_or(0)),
    };
    if media_dur > stop.saturating_add(tolerance) {
        n.push(format!(
            "{who} edit list stops {} before the end of its media: the end was cut without re-encoding",
            human_s((media_dur - stop) as f64 / media_ts as f64)
        ));
    }
}
