//! Decoding real clips onto ffmpeg's timeline.
//!
//! Every expected number comes from ffmpeg (testdata/expected.tsv, written by
//! testdata/make_fixtures.sh), never from the decoder under test.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use clip_provenance::{
    AnalysisStream, AudioReader, DecodeOptions, Error, decode_path, decode_reader,
};

mod common;

use common::read_table;

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn num(row: &HashMap<String, String>, key: &str) -> u64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key} is a number in {}", row["file"]))
}

/// Index of the largest absolute sample on channel 0.
fn click_position(samples: &[f32], channels: usize) -> usize {
    samples
        .iter()
        .step_by(channels)
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map(|(i, _)| i)
        .expect("samples are not empty")
}

#[test]
fn decode_every_fixture_matches_ffmpeg_start_and_length_within_1ms() {
    let rows = read_table(&testdata("expected.tsv"));
    assert!(rows.len() >= 20, "the fixture table lists every fixture");
    let mut failures = Vec::new();
    for row in &rows {
        let file = &row["file"];
        let audio = match decode_path(testdata(file), &DecodeOptions::default()) {
            Ok(audio) => audio,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        assert!(
            audio.warnings.is_empty(),
            "{file}: an intact file decodes without warnings: {:?}",
            audio.warnings
        );
        let rate = num(row, "sample_rate");
        let tolerance = rate / 1000; // 1 ms
        let channels = num(row, "channels") as usize;
        assert_eq!(audio.info.codec, row["codec"], "{file}: codec");
        assert_eq!(u64::from(audio.info.sample_rate), rate, "{file}: rate");
        assert_eq!(
            usize::from(audio.info.channels),
            channels,
            "{file}: channels"
        );
        assert_eq!(
            audio.info.track as u64,
            num(row, "audio_stream_index"),
            "{file}: stream index"
        );
        let length = audio.frames();
        let expected_length = num(row, "ffmpeg_samples");
        if length.abs_diff(expected_length) > tolerance {
            failures.push(format!("{file}: length {length}, ffmpeg {expected_length}"));
        }
        let click = click_position(&audio.samples, channels) as u64;
        let expected_click = num(row, "click_sample");
        if click.abs_diff(expected_click) > tolerance {
            failures.push(format!("{file}: click at {click}, ffmpeg {expected_click}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) off ffmpeg's timeline:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn decode_lossless_and_non_opus_fixtures_match_ffmpeg_length_exactly() {
    // Only Opus differs from ffmpeg's own decoder in its samples (ropus follows libopus; ffmpeg
    // has a native decoder); the timeline rules are exact for every container.
    for row in read_table(&testdata("expected.tsv")) {
        let file = &row["file"];
        let audio =
            decode_path(testdata(file), &DecodeOptions::default()).expect("fixture decodes");
        assert_eq!(
            audio.frames(),
            num(&row, "ffmpeg_samples"),
            "{file}: length to the sample"
        );
        if row["codec"] != "opus" {
            let click = click_position(&audio.samples, usize::from(audio.info.channels)) as u64;
            assert_eq!(
                click,
                num(&row, "click_sample"),
                "{file}: click to the sample"
            );
        }
    }
}

#[test]
fn decode_reader_equals_decode_path() {
    let path = testdata("aac-lc-32k-mono-h264-video-first.mp4");
    let from_path = decode_path(&path, &DecodeOptions::default()).expect("decodes");
    let bytes = std::fs::read(&path).expect("readable");
    let from_reader =
        decode_reader(Cursor::new(bytes), "zoom.mp4", &DecodeOptions::default()).expect("decodes");
    assert_eq!(from_path.samples, from_reader.samples);
    assert_eq!(from_path.info, from_reader.info);
}

#[test]
fn decode_track_option_selects_by_ffprobe_index() {
    let path = testdata("aac-lc-32k-mono-h264-video-first.mp4");
    let options = DecodeOptions {
        track: Some(1),
        ..DecodeOptions::default()
    };
    assert_eq!(
        decode_path(&path, &options)
            .expect("stream 1 is audio")
            .info
            .track,
        1
    );
    let video = DecodeOptions {
        track: Some(0),
        ..DecodeOptions::default()
    };
    match decode_path(&path, &video) {
        Err(Error::Config { field, detail }) => {
            assert_eq!(field, "track");
            assert!(detail.contains("not an audio stream"), "{detail}");
        }
        other => panic!("stream 0 is video: expected Error::Config, got {other:?}"),
    }
    let missing = DecodeOptions {
        track: Some(7),
        ..DecodeOptions::default()
    };
    assert!(matches!(
        decode_path(&path, &missing),
        Err(Error::Config { .. })
    ));
}

#[test]
fn decode_streaming_blocks_are_contiguous_and_equal_the_whole() {
    let path = testdata("mp3-44k1-mono-lame-xing.mp3");
    let whole = decode_path(&path, &DecodeOptions::default()).expect("decodes");
    let mut reader = AudioReader::open_path(&path, &DecodeOptions::default()).expect("opens");
    let mut joined = Vec::new();
    while let Some(block) = reader.next_block().expect("decodes") {
        assert_eq!(
            block.start_samples,
            joined.len() as u64,
            "blocks follow each other"
        );
        joined.extend_from_slice(block.samples);
    }
    assert_eq!(joined, whole.samples);
}

#[test]
fn analysis_stream_is_mono_at_the_analysis_rate_with_the_click_in_place() {
    // The stereo 44.1 kHz AAC fixture, mixed and resampled to 16 kHz: the click (at a known
    // sample of ffmpeg's native output) lands at the same time in the analysis signal.
    let rows = read_table(&testdata("expected.tsv"));
    let row = rows
        .iter()
        .find(|r| r["file"] == "aac-lc-44k1-stereo-elst-1024-faststart.m4a")
        .expect("listed");
    let reader =
        AudioReader::open_path(testdata(&row["file"]), &DecodeOptions::default()).expect("opens");
    let stream = AnalysisStream::new(reader, 16_000).expect("valid rate");
    let (mono, info, warnings) = clip_provenance::read_analysis_signal(stream).expect("decodes");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(info.channels, 2);
    let native = num(row, "ffmpeg_samples") as f64;
    assert_eq!(mono.len(), (native * 16_000.0 / 44_100.0).round() as usize);
    let click_s = num(row, "click_sample") as f64 / 44_100.0;
    let found_s = click_position(&mono, 1) as f64 / 16_000.0;
    assert!(
        (found_s - click_s).abs() < 0.001,
        "click at {found_s} s, expected {click_s} s"
    );
}

#[test]
fn decode_bad_inputs_give_the_expected_outcome() {
    // (file, expected outcome). A truncated download decodes what it holds, with a warning.
    let empty = decode_path(testdata("bad/empty.mp4"), &DecodeOptions::default());
    assert!(
        matches!(&empty, Err(Error::Malformed { detail, .. }) if detail == "empty file"),
        "{empty:?}"
    );

    let jpeg = decode_path(testdata("bad/jpeg-renamed.mp4"), &DecodeOptions::default());
    assert!(
        matches!(&jpeg, Err(Error::Unsupported { what }) if what.contains("ff d8 ff")),
        "{jpeg:?}"
    );

    let text = decode_path(testdata("bad/not-media.wav"), &DecodeOptions::default());
    assert!(
        matches!(
            &text,
            Err(Error::Unsupported { .. }) | Err(Error::Malformed { .. })
        ),
        "{text:?}"
    );

    let video = decode_path(testdata("bad/video-only.mp4"), &DecodeOptions::default());
    assert!(
        matches!(&video, Err(Error::Unsupported { what }) if what.contains("no audio track")),
        "{video:?}"
    );

    // A valid file whose codec cannot be decoded here: the error names codec and container.
    let ac3 = decode_path(
        testdata("bad/ac3-in-matroska.mkv"),
        &DecodeOptions::default(),
    );
    assert!(
        matches!(&ac3, Err(Error::Unsupported { what }) if what.contains("codec ac3 in matroska")),
        "{ac3:?}"
    );

    let zero = decode_path(
        testdata("bad/wav-zero-channels.wav"),
        &DecodeOptions::default(),
    );
    assert!(matches!(&zero, Err(Error::Malformed { .. })), "{zero:?}");

    let rate = decode_path(
        testdata("bad/wav-absurd-rate.wav"),
        &DecodeOptions::default(),
    );
    assert!(matches!(&rate, Err(Error::Malformed { .. })), "{rate:?}");

    let missing = decode_path(testdata("bad/no-such-file.mp4"), &DecodeOptions::default());
    assert!(
        matches!(&missing, Err(Error::Io { path, .. }) if path.ends_with("no-such-file.mp4")),
        "{missing:?}"
    );

    let dir = decode_path(testdata("bad"), &DecodeOptions::default());
    assert!(matches!(&dir, Err(Error::Io { .. })), "{dir:?}");
}

#[test]
fn decode_truncated_downloads_give_the_decodable_part_and_a_warning() {
    let table = read_table(&testdata("bad/expected.tsv"));
    for name in ["truncated-half.m4a", "truncated-half.mp3"] {
        let row = table.iter().find(|r| r["file"] == name).expect("listed");
        let audio = decode_path(testdata(&format!("bad/{name}")), &DecodeOptions::default())
            .unwrap_or_else(|e| panic!("{name}: a truncated file still decodes: {e}"));
        assert!(!audio.warnings.is_empty(), "{name}: says it is truncated");
        let ffmpeg = num(row, "ffmpeg_samples");
        let rate = u64::from(audio.info.sample_rate);
        // Where a truncated file ends is a judgement call (a partial last packet); within 50 ms
        // of what ffmpeg salvages.
        assert!(
            audio.frames().abs_diff(ffmpeg) <= rate / 20,
            "{name}: {} samples, ffmpeg {ffmpeg}",
            audio.frames()
        );
    }
}

#[test]
fn decode_duration_limit_is_an_error_past_it() {
    let options = DecodeOptions {
        max_duration_s: 1.0,
        ..DecodeOptions::default()
    };
    match decode_path(testdata("pcm-s16le-16k-mono.wav"), &options) {
        Err(Error::Limit { limit, .. }) => assert_eq!(limit, 1),
        other => panic!("expected Error::Limit, got {other:?}"),
    }
}

#[test]
fn decode_mp4_whose_stts_sample_counts_overflow_stops_with_a_warning_not_a_panic() {
    // Found by fuzz/ (target decode_analyze): an `stts` entry's sample count flipped to near
    // 2^32 made symphonia's isomp4 demuxer overflow a u32 sum while timing the first sample (a
    // panic in debug builds). The input file is a fuzz input: a hint byte, then the MP4.
    let input = std::fs::read(testdata(
        "fuzz/decode_analyze/crash-isomp4-stts-sample-count-sum-overflows",
    ))
    .expect("read");
    let outcome = clip_provenance::decode_reader(
        std::io::Cursor::new(input[1..].to_vec()),
        "stts-overflow.m4a",
        &DecodeOptions::default(),
    );
    // The packets before the damaged entry decode; the rest is lost, with a warning: the
    // demuxer's panic where overflow is checked (debug builds), its own error where the sum
    // wraps (release builds).
    let audio = outcome.expect("the packets before the damage decode");
    assert!(audio.frames() > 0, "{:?}", audio.info);
    assert!(
        audio.warnings.len() == 1
            && (audio.warnings[0].contains("the demuxer panicked on damaged data")
                || audio.warnings[0].contains("the container is damaged")),
        "{:?}",
        audio.warnings
    );
}
