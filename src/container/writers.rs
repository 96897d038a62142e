//! Which program family wrote a name found in a file: encoder tags, MP4 handler names, XMP
//! creator tools. Used by the notes to spot a file touched by more than one program (a phone
//! recording re-muxed by ffmpeg, a clip exported by an editor).
//!
//! The table holds names as the programs write them, observed in files they produced; it names
//! families, not versions, and an unknown name gives `None` (no note), never a guess.
#![forbid(unsafe_code)]

/// A program family and whether it is an editor (as opposed to a recorder or a muxer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Family {
    /// Short name for notes (`ffmpeg`, `apple`, `android`, `adobe`, …).
    pub(crate) name: &'static str,
    /// True for video and audio editors.
    pub(crate) editor: bool,
}

const fn fam(name: &'static str, editor: bool) -> Family {
    Family { name, editor }
}

/// Exact handler names (MP4 `hdlr`) of known writers.
const HANDLERS: &[(&str, Family)] = &[
    // libavformat's mov/mp4 muxer defaults (movenc.c).
    ("SoundHandler", fam("ffmpeg", false)),
    ("VideoHandler", fam("ffmpeg", false)),
    ("SubtitleHandler", fam("ffmpeg", false)),
    ("DataHandler", fam("ffmpeg", false)),
    ("TimeCodeHandler", fam("ffmpeg", false)),
    // AVFoundation / Core Media: iPhone, iPad and Mac recordings and Apple exports.
    ("Core Media Audio", fam("apple", false)),
    ("Core Media Video", fam("apple", false)),
    ("Core Media Metadata", fam("apple", false)),
    ("Core Media Time Code", fam("apple", false)),
    ("Core Media Closed Caption", fam("apple", false)),
    ("Core Media Text", fam("apple", false)),
    ("Apple Sound Media Handler", fam("apple", false)),
    ("Apple Video Media Handler", fam("apple", false)),
    // Android MediaMuxer / MPEG4Writer (stagefright).
    ("SoundHandle", fam("android", false)),
    ("VideoHandle", fam("android", false)),
    ("MetaHandle", fam("android", false)),
];

/// Name prefixes (case-insensitive) of known writers, for handler names, encoder tags and XMP
/// creator tools.
const PREFIXES: &[(&str, Family)] = &[
    ("lavf", fam("ffmpeg", false)),
    ("lavc", fam("ffmpeg", false)),
    ("ffmpeg", fam("ffmpeg", false)),
    ("gpac", fam("gpac", false)),
    ("l-smash", fam("l-smash", false)),
    ("bento4", fam("bento4", false)),
    ("mainconcept", fam("mainconcept", false)),
    ("iso media file produced by google", fam("google", false)),
    ("handbrake", fam("handbrake", false)),
    ("mkvmerge", fam("mkvtoolnix", false)),
    ("libebml", fam("mkvtoolnix", false)),
    ("lame", fam("lame", false)),
    ("reference libflac", fam("libflac", false)),
    ("xiph.org libvorbis", fam("libvorbis", false)),
    ("libopus", fam("libopus", false)),
    ("adobe", fam("adobe", true)),
    ("premiere", fam("adobe", true)),
    ("davinci resolve", fam("davinci resolve", true)),
    ("blackmagic", fam("davinci resolve", true)),
    ("final cut", fam("apple final cut", true)),
    ("imovie", fam("apple imovie", true)),
    ("capcut", fam("capcut", true)),
    ("audacity", fam("audacity", true)),
    ("kdenlive", fam("kdenlive", true)),
    ("shotcut", fam("shotcut", true)),
    ("openshot", fam("openshot", true)),
    ("vegas", fam("vegas", true)),
    ("camtasia", fam("camtasia", true)),
    ("filmora", fam("filmora", true)),
    ("avid", fam("avid", true)),
    ("pro tools", fam("avid", true)),
    ("reaper", fam("reaper", true)),
    ("logic pro", fam("apple logic", true)),
    ("garageband", fam("apple garageband", true)),
];

/// The family of a writer name, if known.
pub(crate) fn family(name: &str) -> Option<Family> {
    let trimmed = name.trim();
    if let Some((_, f)) = HANDLERS.iter().find(|(h, _)| *h == trimmed) {
        return Some(*f);
    }
    let lower = trimmed.to_ascii_lowercase();
    PREFIXES
        .iter()
        .find(|(p, _)| lower.starts_with(p))
        .map(|(_, f)| *f)
}

/// The family of a recording device from its make (`Apple`, `samsung`, `Google`, …): Apple
/// devices write through Core Media, others through Android's MediaMuxer.
pub(crate) fn device_family(make: &str) -> Option<&'static str> {
    let m = make.trim().to_ascii_lowercase();
    if m.is_empty() {
        None
    } else if m == "apple" {
        Some("apple")
    } else if [
        "samsung", "google", "xiaomi", "huawei", "oneplus", "oppo", "vivo", "motorola", "lge",
        "nokia", "realme", "honor", "asus",
    ]
    .contains(&m.as_str())
    {
        Some("android")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_known_names_map() {
        assert_eq!(family("Lavf58.76.100").unwrap().name, "ffmpeg");
        assert_eq!(family("SoundHandler").unwrap().name, "ffmpeg");
        assert_eq!(family("Core Media Audio").unwrap().name, "apple");
        assert_eq!(family("SoundHandle").unwrap().name, "android");
        let f = family("Adobe Premiere Pro 2021.0 (Windows)").unwrap();
        assert!(f.editor);
    }

    #[test]
    fn family_unknown_name_is_none() {
        assert_eq!(family("My Recorder 1.0"), None);
        assert_eq!(family(""), None);
        assert_eq!(family("Sound"), None);
    }

    #[test]
    fn device_family_apple_and_android() {
        assert_eq!(device_family("Apple"), Some("apple"));
        assert_eq!(device_family("samsung"), Some("android"));
        assert_eq!(device_family("Canon"), None);
    }
}
