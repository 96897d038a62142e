//! Turns what the box walk found into [`ContainerFacts`]: format and brands, times, the encoder
//! and device from the metadata, and one [`TrackFacts`] per stream with its codec parameters
//! taken from the sample entry and its codec configuration.
#![forbid(unsafe_code)]

use super::super::source::fourcc_str;
use super::super::{ContainerFacts, TrackFacts, TrackKind, seconds, time};
use super::{Raw, Stream, TrackRaw, notes, stsd};

/// Turns what the walk found into facts and notes.
pub(super) fn finish(raw: Raw) -> ContainerFacts {
    let format = match &raw.ftyp {
        Some(f) if f.major == "qt  " => "mov",
        Some(_) => "mp4",
        None => "mov",
    };
    let mut facts = ContainerFacts::new(format);
    if let Some(f) = &raw.ftyp {
        facts.brand = Some(f.major.clone());
        facts.compatible_brands = f.compatible.clone();
    }
    for entry in &raw.layout {
        facts.push_layout(entry.clone());
    }
    facts.tags = raw.tags.clone();
    if let Some((_, start, claimed, _)) = &raw.truncated {
        facts.claimed_bytes = start.checked_add(*claimed);
    }
    let movie_timescale = raw.mvhd.map(|m| m.timescale).filter(|&t| t > 0);
    if let Some(m) = raw.mvhd {
        facts.creation_time = mac_time(m.creation);
        facts.modification_time = mac_time(m.modification);
        if m.duration != u64::MAX && m.duration > 0 {
            facts.duration_s = seconds(m.duration, u64::from(m.timescale));
        }
    }
    if facts.duration_s.is_none()
        && let (Some(d), Some(ts)) = (raw.mehd_duration, movie_timescale)
    {
        facts.duration_s = seconds(d, u64::from(ts));
    }
    facts.encoder = [
        "©too",
        "©swr",
        "©enc",
        "encoder",
        "com.apple.quicktime.software.encoder",
    ]
    .iter()
    .find_map(|k| facts.tag(k))
    .map(str::to_string);
    facts.device = device(&facts);
    if facts.creation_time.is_none() {
        facts.creation_time = facts
            .tag("com.apple.quicktime.creationdate")
            .and_then(time::unix_from_iso8601)
            .and_then(time::rfc3339_from_unix);
    }
    let mut first_audio = true;
    for stream in &raw.streams {
        let t = match stream {
            Stream::Picture(codec) => TrackFacts::picture(*codec),
            Stream::Track(t) => {
                let mut track = track_facts(t, movie_timescale);
                if track.kind == TrackKind::Audio && first_audio {
                    first_audio = false;
                    if let Some((delay, padding)) = raw.itunes_smpb {
                        track.encoder_delay_samples = Some(delay);
                        track.padding_samples = Some(padding);
                    }
                }
                track
            }
        };
        facts.tracks.push(t);
    }
    for (i, track) in facts.tracks.iter_mut().enumerate() {
        track.index = i;
    }
    facts.notes = notes::notes(&raw, &facts);
    facts
}

/// RFC 3339 of a 1904-based time; `None` for zero (unset).
fn mac_time(t: u64) -> Option<String> {
    (t != 0)
        .then(|| time::rfc3339_from_unix(time::unix_from_mac(t)))
        .flatten()
}

/// "Make Model" from Apple keys or QuickTime `©mak`/`©mod`, without repeating the make.
fn device(facts: &ContainerFacts) -> Option<String> {
    let make = facts
        .tag("com.apple.quicktime.make")
        .or_else(|| facts.tag("©mak"));
    let model = facts
        .tag("com.apple.quicktime.model")
        .or_else(|| facts.tag("©mod"));
    match (make, model) {
        (Some(make), Some(model)) if model.to_lowercase().starts_with(&make.to_lowercase()) => {
            Some(model.to_string())
        }
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (Some(one), None) | (None, Some(one)) => Some(one.to_string()),
        (None, None) => None,
    }
}

/// The facts of one track.
fn track_facts(t: &TrackRaw, movie_timescale: Option<u32>) -> TrackFacts {
    let kind = match t.hdlr.as_ref().map(|h| &h.handler_type) {
        Some(b"soun") => TrackKind::Audio,
        Some(b"vide") => TrackKind::Video,
        Some(b"sbtl" | b"subt" | b"text" | b"subp" | b"clcp") => TrackKind::Subtitle,
        _ => TrackKind::Data,
    };
    let mut f = TrackFacts::new(kind);
    f.handler_name = t.hdlr.as_ref().and_then(|h| h.name.clone());
    f.movie_timescale = movie_timescale;
    if let Some(tk) = t.tkhd {
        f.track_id = Some(u64::from(tk.track_id));
        f.creation_time = mac_time(tk.creation);
        f.modification_time = mac_time(tk.modification);
    }
    if let Some(m) = &t.mdhd {
        f.timescale = Some(m.timescale);
        f.language = m.language.clone();
        if m.duration != u64::MAX {
            f.media_duration_s = seconds(m.duration, u64::from(m.timescale));
        }
    }
    f.edit_list = t.edits.clone().unwrap_or_default();
    let presented: u64 = f
        .edit_list
        .iter()
        .filter(|e| e.media_time >= 0)
        .map(|e| e.segment_duration)
        .fold(0u64, u64::saturating_add);
    f.duration_s = match (f.edit_list.is_empty(), movie_timescale) {
        (false, Some(ts)) if presented > 0 => seconds(presented, u64::from(ts)),
        _ => f.media_duration_s,
    };
    if let Some(e) = &t.entry {
        f.codec_tag = Some(fourcc_str(&e.fourcc));
        f.codec = e.codec().map(str::to_string);
        f.encoder = e.compressor.clone();
        if kind == TrackKind::Audio {
            audio_params(e, &mut f);
        }
    }
    if f.encoder.is_none() {
        f.encoder = t
            .tags
            .iter()
            .find(|tag| tag.key == "©too" || tag.key == "encoder")
            .map(|tag| tag.value.clone());
    }
    if let Some(r) = &t.roll {
        f.roll_distance = Some(r.roll_distance);
        f.roll_grouping_type = Some(r.grouping_type.clone());
        f.roll_sample_count = t.roll_mapped;
    }
    f
}

/// Rate, channels and bits of an audio track, preferring the codec's own configuration over the
/// sample entry (which QuickTime v0 entries cannot fill for rates above 65535 Hz, and which
/// ffmpeg also overrides from the codec configuration).
fn audio_params(e: &stsd::SampleEntry, f: &mut TrackFacts) {
    let entry_rate = e
        .sample_rate
        .filter(|r| r.is_finite() && *r >= 1.0 && *r <= f64::from(u32::MAX))
        .map(|r| r.round() as u32);
    f.sample_rate = entry_rate;
    f.channels = e
        .channels
        .filter(|&c| c > 0)
        .and_then(|c| u16::try_from(c).ok());
    if let Some(asc) = e.esds.and_then(|x| x.asc) {
        f.aac_object_type = Some(asc.object_type);
        f.sample_rate = asc.sample_rate.or(f.sample_rate);
        f.channels = asc.channels.or(f.channels);
    }
    if let Some(o) = e.opus {
        // Opus always decodes at 48 kHz (RFC 6716 §2; ISO BMFF Opus encapsulation §4.3).
        f.sample_rate = Some(48_000);
        f.channels = Some(u16::from(o.channels));
        f.encoder_delay_samples = Some(u64::from(o.pre_skip));
    }
    if let Some(s) = e.flac {
        f.sample_rate = Some(s.sample_rate);
        f.channels = Some(u16::from(s.channels));
        f.bits_per_sample = Some(u16::from(s.bits_per_sample));
    }
    if let Some((bits, channels, rate)) = e.alac {
        f.bits_per_sample = Some(u16::from(bits));
        f.channels = Some(u16::from(channels));
        f.sample_rate = Some(rate);
    }
    if e.is_lossless() && f.bits_per_sample.is_none() {
        f.bits_per_sample = e
            .pcm_bits
            .map(u32::from)
            .or(e.sample_size)
            .and_then(|b| u16::try_from(b).ok());
    }
}
