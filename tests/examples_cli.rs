//! The examples' command lines (DESIGN.md) run as a user runs them: exit codes, files written,
//! one error line per failed input.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::example;

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("cli", name)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the example runs")
}

#[test]
fn analyze_one_clip_writes_json_and_png_and_prints_the_summary() {
    let dir = scratch("one");
    let (json, png) = (dir.join("r.json"), dir.join("r.png"));
    let out = run(example("analyze")
        .arg("--json")
        .arg(&json)
        .arg("--png")
        .arg(&png)
        .arg(testdata("opus-48k-mono.ogg")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("opus 48000 Hz"),
        "{}",
        text(&out.stdout)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json written")).expect("valid JSON");
    assert_eq!(report["schema"], "provenance-report/1");
    assert_eq!(report["audio"]["codec"], "opus");
    assert_eq!(report["duration_s"], 3.5);
    let picture = image::open(&png).expect("a PNG");
    assert!(picture.width() >= 800 && picture.height() >= 300);
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn analyze_json_to_stdout_moves_the_summary_to_stderr() {
    let out = run(example("analyze")
        .args(["--json", "-"])
        .arg(testdata("pcm-s16le-16k-mono.wav")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is the JSON report alone");
    assert_eq!(report["audio"]["sample_rate"], 16000);
    assert!(text(&out.stderr).contains("pcm_s16le"));
}

#[test]
fn analyze_folder_with_out_dir_names_outputs_by_stem_and_reports_bad_files() {
    let dir = scratch("folder");
    let inputs = dir.join("in");
    std::fs::create_dir_all(inputs.join("sub")).expect("mkdir");
    std::fs::copy(testdata("pcm-s16le-16k-mono.wav"), inputs.join("a.wav")).expect("copy");
    std::fs::copy(testdata("pcm-s16le-16k-mono.mkv"), inputs.join("sub/a.mkv")).expect("copy");
    std::fs::copy(testdata("bad/jpeg-renamed.mp4"), inputs.join("broken.mp4")).expect("copy");
    std::fs::write(inputs.join("notes.txt"), "not media").expect("write");
    let out_dir = dir.join("out");
    let out = run(example("analyze").arg("--out").arg(&out_dir).arg(&inputs));
    assert_eq!(
        out.status.code(),
        Some(1),
        "a bad file makes the exit status 1"
    );
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one error line: {stderr}");
    assert!(stderr.contains("broken.mp4"), "{stderr}");
    // Sorted path order: a.wav, broken.mp4, sub/a.mkv; the second "a" becomes a-2.
    for name in ["a.json", "a.png", "a-2.json", "a-2.png"] {
        assert!(out_dir.join(name).exists(), "{name} written");
    }
    let second: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("a-2.json")).expect("read"))
            .expect("JSON");
    assert!(
        second["input"]
            .as_str()
            .expect("a string")
            .ends_with("a.mkv")
    );
    assert!(!out_dir.join("notes.json").exists());
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn analyze_usage_errors_exit_2_and_empty_folders_exit_1() {
    let two = run(example("analyze")
        .args(["--json", "x.json"])
        .arg(testdata("pcm-s16le-16k-mono.wav"))
        .arg(testdata("opus-48k-mono.ogg")));
    assert_eq!(
        two.status.code(),
        Some(2),
        "--json with two clips is a usage error"
    );
    let flag = run(example("analyze").arg("--no-such-flag"));
    assert_eq!(flag.status.code(), Some(2));
    let dir = scratch("empty");
    let bad_config = dir.join("config.json");
    std::fs::write(&bad_config, r#"{"analysis_rate_hz": 0}"#).expect("write");
    let config = run(example("analyze")
        .arg("--config")
        .arg(&bad_config)
        .arg(testdata("pcm-s16le-16k-mono.wav")));
    assert_eq!(config.status.code(), Some(2), "{}", text(&config.stderr));
    let empty = run(example("analyze").arg(&dir));
    assert_eq!(
        empty.status.code(),
        Some(1),
        "a folder without media is an error"
    );
    assert!(text(&empty.stderr).contains("no media file"));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn analyze_config_file_is_applied_and_recorded_in_the_report() {
    let dir = scratch("config");
    let config = dir.join("config.json");
    std::fs::write(&config, r#"{"analysis_rate_hz": 22050}"#).expect("write");
    let out = run(example("analyze")
        .arg("--config")
        .arg(&config)
        .args(["--json", "-"])
        .arg(testdata("pcm-s16le-16k-mono.wav")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["config"]["analysis_rate_hz"], 22050);
    assert_eq!(
        report["config"]["spectrogram"]["hop_samples"], 128,
        "missing fields take defaults"
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn decode_example_writes_ffmpeg_comparable_f32le() {
    let dir = scratch("decode");
    let raw = dir.join("out.f32");
    let out = run(example("decode")
        .arg("--f32le")
        .arg(&raw)
        .arg(testdata("flac-16bit-44k1-stereo.flac")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&raw).expect("written");
    assert_eq!(
        bytes.len(),
        154_350 * 2 * 4,
        "3.5 s of 44.1 kHz stereo f32, as ffmpeg outputs"
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn index_add_list_remove_and_analyze_with_index() {
    let dir = scratch("index");
    let archive = dir.join("archive");
    let speech = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/speech")
            .join(name)
    };
    let add = run(example("index")
        .arg(&archive)
        .arg("add")
        .arg(speech("jfk_inaugural_1961_excerpt.flac"))
        .arg(speech("vctk_p286_011.flac"))
        .arg(testdata("bad/jpeg-renamed.mp4")));
    assert_eq!(
        add.status.code(),
        Some(1),
        "a bad file makes the exit status 1, the rest is added"
    );
    assert_eq!(
        text(&add.stderr)
            .lines()
            .filter(|l| l.contains("jpeg-renamed.mp4"))
            .count(),
        1,
        "{}",
        text(&add.stderr)
    );
    let list = run(example("index").arg(&archive).arg("list"));
    assert!(list.status.success());
    let lines: Vec<String> = text(&list.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let fields: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(fields[0], "jfk_inaugural_1961_excerpt.flac");
    assert_eq!(fields[1], "11.000");
    assert!(fields[2].ends_with('Z'), "RFC 3339: {}", fields[2]);
    // A clip that is a stretch of an archive recording: matched in the report.
    let out = run(example("analyze")
        .arg("--index")
        .arg(&archive)
        .args(["--json", "-"])
        .arg(speech("vctk_p286_011.flac")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["matches"][0]["reference"], "vctk_p286_011.flac");
    assert!(
        report["matches"][0]["confidence"]
            .as_f64()
            .expect("a number")
            >= 0.5
    );
    assert_eq!(report["segments"][0]["reference"], "vctk_p286_011.flac");
    assert_eq!(report["archive"]["references"], 2);
    let remove = run(example("index")
        .arg(&archive)
        .args(["remove", "vctk_p286_011.flac"]));
    assert!(remove.status.success());
    let missing = run(example("index")
        .arg(&archive)
        .args(["remove", "vctk_p286_011.flac"]));
    assert_eq!(missing.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn compare_finds_a_excerpt_in_its_source() {
    let out = run(example("compare")
        .arg(testdata("index/jfk-3s-5s-mp3-64k.mp3"))
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("testdata/speech/jfk_inaugural_1961_excerpt.flac"),
        ));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let first = stdout.lines().nth(1).expect("a match line");
    assert!(
        first.contains("= 0:03.") && first.contains("speed 1.00"),
        "{stdout}"
    );
}

#[test]
fn analyze_bad_files_exit_1_with_one_line_each_and_the_others_still_written() {
    // The exit-status contract (DESIGN.md) over hostile inputs: each input that errors gives one
    // stderr line naming it and the error; a truncated file is a report with a warning (a
    // success); the good files around them are still analysed and written.
    let dir = scratch("bad-files");
    let named_like_media = dir.join("folder.mp4");
    std::fs::create_dir_all(&named_like_media).expect("mkdir");
    let out_dir = dir.join("out");
    let erroring = [
        "bad/empty.mp4",
        "bad/wav-65535-channels.wav",
        "bad/mp4-stsz-count-4e9.m4a",
        "bad/png-renamed.mp3",
    ];
    let out = run(example("analyze")
        .arg("--out")
        .arg(&out_dir)
        .arg(testdata("pcm-s16le-16k-mono.wav"))
        .args(erroring.map(testdata))
        .arg(testdata("bad/truncated-half.m4a"))
        .arg(&named_like_media)
        .arg(testdata("bad/wav-float-nan-inf.wav")));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        erroring.len() + 1,
        "one line per failed input: {stderr}"
    );
    // Inputs are collected first (a folder without media fails there), then analysed in order.
    assert!(
        lines[0].contains("folder.mp4") && lines[0].contains("no media file"),
        "{}",
        lines[0]
    );
    for (line, name) in lines[1..].iter().zip(erroring) {
        assert!(line.contains(name), "{line} names {name}");
    }
    assert!(lines[1].contains("empty file"), "{}", lines[1]);
    assert!(lines[2].contains("declares 65535 channels"), "{}", lines[2]);
    assert!(lines[3].contains("unexpected end of atom"), "{}", lines[3]);
    assert!(lines[4].contains("unsupported"), "{}", lines[4]);
    for stem in ["pcm-s16le-16k-mono", "truncated-half", "wav-float-nan-inf"] {
        assert!(out_dir.join(format!("{stem}.json")).exists(), "{stem}.json");
        assert!(out_dir.join(format!("{stem}.png")).exists(), "{stem}.png");
    }
    for stem in ["empty", "wav-65535-channels", "png-renamed"] {
        assert!(
            !out_dir.join(format!("{stem}.json")).exists(),
            "{stem}.json"
        );
    }
    let truncated: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("truncated-half.json")).expect("read"))
            .expect("JSON");
    assert!(
        truncated["warnings"][0]
            .as_str()
            .expect("a warning")
            .contains("truncated"),
        "{truncated}"
    );

    // Alone, the warned reports are successes.
    let warned = run(example("analyze")
        .arg("--out")
        .arg(&out_dir)
        .arg(testdata("bad/truncated-half.m4a"))
        .arg(testdata("bad/wav-float-nan-inf.wav")));
    assert!(warned.status.success(), "{}", text(&warned.stderr));
    assert!(text(&warned.stderr).is_empty(), "{}", text(&warned.stderr));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[cfg(unix)]
#[test]
fn analyze_json_to_dev_stdout_writes_directly() {
    // /dev/stdout is not a regular file: written in place, not through a temporary file renamed
    // over it (which would fail, or replace the device). Here it is the pipe to this test.
    let out = run(example("analyze")
        .args(["--json", "/dev/stdout"])
        .arg(testdata("pcm-s16le-16k-mono.wav")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let json_end = stdout.rfind('}').expect("a JSON object");
    let report: serde_json::Value =
        serde_json::from_str(&stdout[..=json_end]).expect("the JSON report comes first");
    assert_eq!(report["audio"]["codec"], "pcm_s16le");
    assert!(
        stdout[json_end..].contains("pcm_s16le 16000 Hz"),
        "the summary follows on stdout: {stdout}"
    );
}

#[test]
fn cue_tracks_writes_one_json_line_per_clip_and_an_error_line_for_a_bad_one() {
    let out = run(example("cue_tracks")
        .arg(testdata("speech/jfk_inaugural_1961_excerpt.flac"))
        .arg(testdata("bad/empty.mp4")));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let line: serde_json::Value = serde_json::from_str(lines[0]).expect("valid JSON");
    let keys: Vec<&str> = line["cues"]
        .as_array()
        .expect("cues")
        .iter()
        .map(|c| c["key"].as_str().expect("key"))
        .collect();
    assert_eq!(
        keys,
        [
            "noise_floor",
            "channel",
            "enf",
            "codec",
            "waveform",
            "reverb"
        ]
    );
    // The 1961 broadcast carries 60 Hz hum: the ENF track is usable, one value per 50 ms.
    let enf = &line["cues"][2];
    assert_eq!(enf["usability"]["usable"], true, "{}", enf["usability"]);
    let values = enf["values"].as_array().expect("values").len();
    assert!((215..=225).contains(&values), "{values}");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("empty.mp4"), "{stderr}");
}
