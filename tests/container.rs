//! The public surface of the `container` module: `read_facts_path`, `read_facts` and the facts
//! they return for the files in `testdata/container/`.
//!
//! Expected values come from `ffprobe -show_format -show_streams` and from the independent box
//! dump `testdata/container/boxdump.py`, as recorded in `testdata/container/README.md`; they are
//! not taken from the code under test.
#![forbid(unsafe_code)]

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use clip_provenance::{ContainerFacts, Edit, Error, TrackKind, read_facts, read_facts_path};

fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/container")
        .join(name)
}

fn facts(name: &str) -> ContainerFacts {
    read_facts_path(&path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn has_note(f: &ContainerFacts, start: &str) -> bool {
    f.notes.iter().any(|n| n.starts_with(start))
}

fn edit(segment_duration: u64, media_time: i64) -> Edit {
    Edit {
        segment_duration,
        media_time,
        media_rate: 1.0,
    }
}

/// Every media file in testdata/container.
fn media_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(path(""))
        .expect("testdata/container exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            !matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("md" | "py" | "sh")
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn read_facts_path_m4a_aac_lc_elst_1024_and_lavf_encoder() {
    let f = facts("aac-lc-44k-mono-elst-1024.m4a");
    assert_eq!(f.format, "mp4");
    assert_eq!(f.brand.as_deref(), Some("M4A "));
    assert_eq!(f.compatible_brands, ["M4A ", "isom", "iso2"]);
    assert_eq!(f.encoder.as_deref(), Some("Lavf59.27.100"));
    assert_eq!(f.creation_time, None);
    assert_eq!(f.duration_s, Some(1.0));
    assert_eq!(f.layout, ["ftyp", "free", "mdat", "moov"]);
    assert_eq!(f.tracks.len(), 1);
    let t = &f.tracks[0];
    assert_eq!((t.index, t.kind), (0, TrackKind::Audio));
    assert_eq!(t.codec.as_deref(), Some("aac"));
    assert_eq!(t.codec_tag.as_deref(), Some("mp4a"));
    assert_eq!(t.aac_object_type, Some(2));
    assert_eq!(t.handler_name.as_deref(), Some("SoundHandler"));
    assert_eq!((t.sample_rate, t.channels), (Some(44_100), Some(1)));
    assert_eq!(t.timescale, Some(44_100));
    assert_eq!(t.movie_timescale, Some(1000));
    assert_eq!(t.edit_list, [edit(1000, 1024)]);
    assert_eq!(t.duration_s, Some(1.0));
    assert_eq!(t.media_duration_s, Some(45_124.0 / 44_100.0));
    assert_eq!(t.language.as_deref(), Some("und"));
    assert_eq!(t.roll_distance, Some(-1));
    assert_eq!(t.roll_grouping_type.as_deref(), Some("roll"));
    assert_eq!(t.roll_sample_count, Some(45));
    assert!(has_note(&f, "moov after mdat"), "{:?}", f.notes);
    assert!(has_note(&f, "creation time is zero"), "{:?}", f.notes);
    assert!(
        f.notes
            .iter()
            .any(|n| n == "padding: 'free' (8 bytes) at byte 28"),
        "{:?}",
        f.notes
    );
    // 1024 samples of priming is the AAC encoder delay, not a cut.
    assert!(
        !f.notes.iter().any(|n| n.contains("into its media")),
        "{:?}",
        f.notes
    );
}

#[test]
fn read_facts_path_mp4_video_first_puts_audio_at_index_1() {
    let f = facts("h264-aac-video-first-moov-last.mp4");
    assert_eq!(f.brand.as_deref(), Some("isom"));
    let kinds: Vec<TrackKind> = f.tracks.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, [TrackKind::Video, TrackKind::Audio]);
    let v = &f.tracks[0];
    assert_eq!(v.codec.as_deref(), Some("h264"));
    assert_eq!(v.handler_name.as_deref(), Some("VideoHandler"));
    assert_eq!(v.encoder.as_deref(), Some("Lavc59.37.100 libx264"));
    assert_eq!(v.edit_list, [edit(1000, 0)]);
    assert_eq!(v.track_id, Some(1));
    let a = &f.tracks[1];
    assert_eq!(a.index, 1);
    assert_eq!(a.codec.as_deref(), Some("aac"));
    assert_eq!((a.sample_rate, a.channels), (Some(8000), Some(1)));
    assert_eq!(a.edit_list, [edit(1000, 1024)]);
    assert_eq!(a.track_id, Some(2));
    assert_eq!(f.layout, ["ftyp", "free", "mdat", "moov"]);
    assert!(has_note(&f, "moov after mdat"), "{:?}", f.notes);
}

#[test]
fn read_facts_path_faststart_mp4_notes_moov_before_mdat() {
    let f = facts("h264-aac-faststart.mp4");
    assert_eq!(f.layout, ["ftyp", "moov", "free", "mdat"]);
    assert!(has_note(&f, "moov before mdat"), "{:?}", f.notes);
    assert!(!has_note(&f, "moov after mdat"), "{:?}", f.notes);
    assert_eq!(f.tracks[1].kind, TrackKind::Audio);
}

#[test]
fn read_facts_path_mov_creation_time_is_read() {
    let f = facts("aac-8k-creation-time-2021.mov");
    assert_eq!(f.format, "mov");
    assert_eq!(f.brand.as_deref(), Some("qt  "));
    assert_eq!(f.creation_time.as_deref(), Some("2021-09-13T10:02:11Z"));
    assert_eq!(f.modification_time.as_deref(), Some("2021-09-13T10:02:11Z"));
    assert_eq!(f.encoder.as_deref(), Some("Lavf59.27.100")); // udta ©swr
    assert_eq!(f.layout, ["ftyp", "wide", "mdat", "moov"]);
    let t = &f.tracks[0];
    assert_eq!(t.creation_time.as_deref(), Some("2021-09-13T10:02:11Z"));
    assert_eq!(t.handler_name.as_deref(), Some("SoundHandler")); // a QuickTime counted string
    assert!(!has_note(&f, "creation time is zero"), "{:?}", f.notes);
}

#[test]
fn read_facts_path_iphone_keys_with_lavf_encoder_are_noted() {
    let f = facts("aac-8k-iphone-keys-lavf-encoder.mov");
    assert_eq!(f.device.as_deref(), Some("Apple iPhone 12"));
    assert_eq!(f.encoder.as_deref(), Some("Lavf59.27.100"));
    let tag = |k: &str| f.tags.iter().find(|t| t.key == k).map(|t| t.value.as_str());
    assert_eq!(tag("com.apple.quicktime.software"), Some("15.0"));
    assert_eq!(
        tag("com.apple.quicktime.creationdate"),
        Some("2021-09-13T12:02:11+0200")
    );
    assert!(
        has_note(
            &f,
            "encoder tag 'Lavf59.27.100' names ffmpeg, not the recording device (Apple iPhone 12)"
        ),
        "{:?}",
        f.notes
    );
    assert!(
        has_note(&f, "handler name 'SoundHandler' is ffmpeg's"),
        "{:?}",
        f.notes
    );
}

#[test]
fn read_facts_path_stream_copy_cut_edit_lists_skip_into_media() {
    let f = facts("h264-aac-stream-copy-cut-elst-skip-0.5s.mp4");
    assert_eq!(f.duration_s, Some(1.1));
    let (v, a) = (&f.tracks[0], &f.tracks[1]);
    assert_eq!(v.edit_list, [edit(1100, 5120)]);
    assert_eq!(a.edit_list, [edit(1036, 4000)]);
    assert_eq!(v.duration_s, Some(1.1));
    assert_eq!(a.duration_s, Some(1.036));
    assert!(
        has_note(&f, "track 0 (video) edit list starts 0.5 s into its media"),
        "{:?}",
        f.notes
    );
    assert!(
        has_note(&f, "track 1 (audio) edit list starts 0.5 s into its media"),
        "{:?}",
        f.notes
    );
}

#[test]
fn read_facts_path_m4a_cover_art_is_stream_1() {
    let f = facts("aac-8k-cover-art.m4a");
    assert_eq!(f.tracks.len(), 2);
    assert_eq!(f.tracks[0].kind, TrackKind::Audio);
    let p = &f.tracks[1];
    assert_eq!((p.index, p.kind), (1, TrackKind::Video));
    assert!(p.attached_picture);
    assert_eq!(p.codec.as_deref(), Some("mjpeg"));
}

#[test]
fn read_facts_path_mkv_reads_info_and_tracks() {
    let f = facts("h264-aac-creation-time.mkv");
    assert_eq!(f.format, "matroska");
    assert_eq!(f.encoder.as_deref(), Some("Lavf59.27.100"));
    assert_eq!(f.creation_time.as_deref(), Some("2021-09-13T10:02:11Z"));
    assert_eq!(f.duration_s, Some(1.128));
    assert_eq!(f.tracks.len(), 2);
    let (v, a) = (&f.tracks[0], &f.tracks[1]);
    assert_eq!(
        (v.kind, v.codec.as_deref()),
        (TrackKind::Video, Some("h264"))
    );
    assert_eq!(v.encoder.as_deref(), Some("Lavc59.37.100 libx264"));
    assert_eq!(
        (a.kind, a.codec.as_deref()),
        (TrackKind::Audio, Some("aac"))
    );
    assert_eq!((a.sample_rate, a.channels), (Some(8000), Some(1)));
    assert_eq!(a.aac_object_type, Some(2));
    assert_eq!(a.duration_s, Some(1.128));
    assert_eq!(a.track_id, Some(2));
    assert!(f.layout.ends_with(&[
        "Info".into(),
        "Tracks".into(),
        "Tags".into(),
        "Cluster".into()
    ]));
}

#[test]
fn read_facts_path_webm_opus_codec_delay() {
    let f = facts("opus-48k-mono.webm");
    assert_eq!(f.format, "webm");
    assert_eq!(f.duration_s, Some(1.008));
    let t = &f.tracks[0];
    assert_eq!(t.codec.as_deref(), Some("opus"));
    assert_eq!((t.sample_rate, t.channels), (Some(48_000), Some(1)));
    // CodecDelay 6 500 000 ns at 48 kHz (ffprobe: start_time -0.007 on a 1 ms time base).
    assert_eq!(t.encoder_delay_samples, Some(312));
    assert_eq!(t.encoder.as_deref(), Some("Lavc59.37.100 libopus"));
}

#[test]
fn read_facts_path_ogg_opus_vendor_pre_skip_and_duration() {
    let f = facts("opus-48k-mono.opus");
    assert_eq!(f.format, "ogg");
    assert_eq!(f.encoder.as_deref(), Some("Lavf59.27.100"));
    let t = &f.tracks[0];
    assert_eq!(t.codec.as_deref(), Some("opus"));
    assert_eq!((t.sample_rate, t.channels), (Some(48_000), Some(1)));
    assert_eq!(t.encoder_delay_samples, Some(312));
    assert_eq!(t.encoder.as_deref(), Some("Lavc59.37.100 libopus"));
    // Last granule 48312 minus pre-skip 312 (RFC 7845 §4): what ffmpeg decodes.
    assert_eq!(t.duration_s, Some(1.0));
    assert!(f.notes.is_empty(), "{:?}", f.notes);
}

#[test]
fn read_facts_path_ogg_vorbis() {
    let f = facts("vorbis-8k-mono.ogg");
    let t = &f.tracks[0];
    assert_eq!(t.codec.as_deref(), Some("vorbis"));
    assert_eq!((t.sample_rate, t.channels), (Some(8000), Some(1)));
    assert_eq!(t.duration_s, Some(1.0));
    assert_eq!(t.encoder.as_deref(), Some("Lavc59.37.100 libvorbis"));
}

#[test]
fn read_facts_path_flac_streaminfo_and_encoder() {
    let f = facts("flac-8k-mono-s16.flac");
    assert_eq!(f.format, "flac");
    assert_eq!(f.encoder.as_deref(), Some("Lavf59.27.100"));
    let t = &f.tracks[0];
    assert_eq!(t.codec.as_deref(), Some("flac"));
    assert_eq!(
        (t.sample_rate, t.channels, t.bits_per_sample),
        (Some(8000), Some(1), Some(16))
    );
    assert_eq!(t.duration_s, Some(0.5));
}

#[test]
fn read_facts_path_wav_fmt_data_and_isft() {
    let f = facts("pcm-s16le-8k-mono-isft.wav");
    assert_eq!(f.format, "wav");
    assert_eq!(f.encoder.as_deref(), Some("Lavf59.27.100"));
    let t = &f.tracks[0];
    assert_eq!(t.codec.as_deref(), Some("pcm_s16le"));
    assert_eq!(
        (t.sample_rate, t.channels, t.bits_per_sample),
        (Some(8000), Some(1), Some(16))
    );
    assert_eq!(t.duration_s, Some(0.5));
    assert!(f.notes.is_empty(), "{:?}", f.notes);
}

#[test]
fn read_facts_path_mp3_lame_tag_delay_padding() {
    let f = facts("mp3-8k-mono-lame-tag.mp3");
    assert_eq!(f.format, "mp3");
    assert_eq!(f.encoder.as_deref(), Some("Lavf59.27.100")); // ID3v2 TSSE
    let t = &f.tracks[0];
    assert_eq!(t.codec.as_deref(), Some("mp3"));
    assert_eq!((t.sample_rate, t.channels), (Some(8000), Some(1)));
    assert_eq!(t.encoder.as_deref(), Some("Lavc59.37"));
    assert_eq!(
        (t.encoder_delay_samples, t.padding_samples),
        (Some(576), Some(640))
    );
    // 16 frames of 576 samples minus delay and padding: the 8000 samples ffmpeg decodes.
    assert_eq!(t.duration_s, Some(1.0));
    assert!(f.notes.is_empty(), "{:?}", f.notes);
}

#[test]
fn read_facts_path_mp3_id3v23_cover_is_stream_1() {
    let f = facts("mp3-8k-id3v23-cover-art.mp3");
    assert_eq!(f.tracks.len(), 2);
    assert_eq!(f.tracks[0].codec.as_deref(), Some("mp3"));
    assert!(f.tracks[1].attached_picture);
    assert_eq!(f.tracks[1].codec.as_deref(), Some("mjpeg"));
}

#[test]
fn read_facts_path_adts_header_without_duration() {
    let f = facts("aac-lc-8k-mono.aac");
    assert_eq!(f.format, "aac");
    let t = &f.tracks[0];
    assert_eq!(t.codec.as_deref(), Some("aac"));
    assert_eq!(t.aac_object_type, Some(2));
    assert_eq!((t.sample_rate, t.channels), (Some(8000), Some(1)));
    // ffprobe estimates 1.151819 s from the bitrate; we do not guess.
    assert_eq!(t.duration_s, None);
    assert_eq!(f.duration_s, None);
}

#[test]
fn read_facts_path_aiff_and_caf() {
    let f = facts("pcm-s16be-8k-mono.aiff");
    assert_eq!(f.format, "aiff");
    assert_eq!(f.tracks[0].codec.as_deref(), Some("pcm_s16be"));
    assert_eq!(f.tracks[0].duration_s, Some(0.25));
    let f = facts("pcm-s16le-8k-mono.caf");
    assert_eq!(f.format, "caf");
    assert_eq!(f.encoder.as_deref(), Some("Lavf59.27.100"));
    assert_eq!(f.tracks[0].codec.as_deref(), Some("pcm_s16le"));
    assert_eq!(f.tracks[0].duration_s, Some(0.25));
}

#[test]
fn read_facts_path_jpeg_renamed_mp4_is_unsupported() {
    let err = read_facts_path(&path("jpeg-image-renamed.mp4")).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("looks like a JPEG image"), "{err}");
    assert!(err.to_string().contains("jpeg-image-renamed.mp4"), "{err}");
}

#[test]
fn read_facts_path_text_file_is_unsupported_and_empty_is_malformed() {
    let err = read_facts_path(&path("text-file-renamed.mp4")).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("looks like text"), "{err}");
    let err = read_facts_path(&path("empty.mp4")).unwrap_err();
    assert!(matches!(err, Error::Malformed { .. }), "{err}");
    assert!(err.is_bad_input());
}

#[test]
fn read_facts_path_missing_file_is_io() {
    let err = read_facts_path(&path("no-such-file.mp4")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

#[test]
fn read_facts_reader_matches_path() {
    for p in media_files() {
        let by_path = read_facts_path(&p);
        let bytes = std::fs::read(&p).expect("test file is readable");
        let by_reader = read_facts(Cursor::new(bytes), &p.display().to_string());
        match (by_path, by_reader) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", p.display()),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("{}: {a:?} vs {b:?}", p.display()),
        }
    }
}

#[test]
fn read_facts_every_test_file_truncated_at_every_length_never_panics() {
    for p in media_files() {
        let bytes = std::fs::read(&p).expect("test file is readable");
        for n in 0..bytes.len() {
            // Ok or Err are both fine; a panic fails the test.
            let _ = read_facts(Cursor::new(&bytes[..n]), "cut");
        }
    }
}

#[test]
fn read_facts_facts_serialise_with_lower_case_kinds() {
    let f = facts("h264-aac-video-first-moov-last.mp4");
    let json = serde_json::to_value(&f).expect("facts serialise");
    assert_eq!(json["format"], "mp4");
    assert_eq!(json["tracks"][0]["kind"], "video");
    assert_eq!(json["tracks"][1]["kind"], "audio");
    assert_eq!(json["tracks"][1]["edit_list"][0]["media_time"], 1024);
}

/// A reader that presents a file of `len` bytes made of a few real parts and zeros elsewhere,
/// and counts the bytes actually read.
struct Sparse {
    parts: Vec<(u64, Vec<u8>)>,
    len: u64,
    pos: u64,
    bytes_read: u64,
}

impl Read for Sparse {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.len.saturating_sub(self.pos)) as usize;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            let at = self.pos + i as u64;
            *b = self
                .parts
                .iter()
                .find(|(start, data)| at >= *start && at < start + data.len() as u64)
                .map_or(0, |(start, data)| data[(at - start) as usize]);
        }
        self.pos += n as u64;
        self.bytes_read += n as u64;
        Ok(n)
    }
}

impl Seek for Sparse {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(p) => p,
            SeekFrom::End(d) => self.len.saturating_add_signed(d),
            SeekFrom::Current(d) => self.pos.saturating_add_signed(d),
        };
        Ok(self.pos)
    }
}

#[test]
fn read_facts_three_hour_mdat_is_seeked_over_not_read() {
    // The m4a's ftyp and free, then a 64-bit mdat of 1.5 GB (3 hours at 128 kbit/s), then the
    // m4a's own moov.
    let m4a = std::fs::read(path("aac-lc-44k-mono-elst-1024.m4a")).expect("readable");
    let (head, moov) = (m4a[..36].to_vec(), m4a[4190..].to_vec());
    let mdat_len: u64 = 3 * 3600 * 16_000;
    let mut mdat = 1u32.to_be_bytes().to_vec();
    mdat.extend(b"mdat");
    mdat.extend(mdat_len.to_be_bytes());
    let moov_at = 36 + mdat_len;
    let mut reader = Sparse {
        parts: vec![(0, head), (36, mdat), (moov_at, moov.clone())],
        len: moov_at + moov.len() as u64,
        pos: 0,
        bytes_read: 0,
    };
    let f = read_facts(&mut reader, "long.m4a").expect("facts of the long file");
    assert_eq!(f.layout, ["ftyp", "free", "mdat", "moov"]);
    assert_eq!(f.tracks[0].edit_list, [edit(1000, 1024)]);
    assert!(
        reader.bytes_read < 16 << 10,
        "read {} bytes",
        reader.bytes_read
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Magic prefixes that route arbitrary bytes into each reader.
    const PREFIXES: &[&[u8]] = &[
        b"\0\0\0\x18ftypisom\0\0\0\0isom",
        b"\x1a\x45\xdf\xa3",
        b"OggS\0\x02",
        b"RIFF\xff\xff\xff\x7fWAVE",
        b"RF64\xff\xff\xff\xffWAVE",
        b"fLaC",
        b"FORM\xff\xff\xff\x7fAIFC",
        b"caff\0\x01\0\0",
        b"ID3\x04\0\0\0\0\0\x20",
        b"\xff\xfb\x90\x64",
        b"\xff\xf1\x6c\x40",
        b"",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn read_facts_arbitrary_bytes_never_panic(
            prefix in 0..PREFIXES.len(),
            tail in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let mut bytes = PREFIXES[prefix].to_vec();
            bytes.extend(tail);
            let _ = read_facts(Cursor::new(bytes), "fuzz");
        }

        #[test]
        fn read_facts_mutated_test_files_never_panic(
            file in 0..64usize,
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        ) {
            let files = media_files();
            let p = &files[file % files.len()];
            let mut bytes = std::fs::read(p).expect("test file is readable");
            if !bytes.is_empty() {
                for (at, value) in flips {
                    let i = at.index(bytes.len());
                    bytes[i] = value;
                }
            }
            let _ = read_facts(Cursor::new(bytes), "fuzz");
        }
    }
}
