//! The accuracy benchmark's command line (`examples/evaluate/`), run as a user runs it: `--quick`
//! is deterministic and independent of the thread count, its truth agrees with the audio files it
//! wrote, and `--reports` scores reports made from that truth as perfect.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

mod common;

/// The `evaluate` example.
fn evaluate() -> Command {
    common::example("evaluate")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "clip-provenance-evaluate-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run_quick(out: &Path, threads: &str, extra: &[&str]) -> Output {
    evaluate()
        .arg("--quick")
        .arg("--out")
        .arg(out)
        .args(extra)
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .expect("the example runs")
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file under `dir`, relative, sorted; the archive index is left out (a cache whose
/// segment files are named after the process that wrote them).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(dir).expect("below").to_path_buf())
        .filter(|p| !p.starts_with("quick/index"))
        .collect();
    files.sort();
    files
}

/// `results.json` without what depends on the machine (timing, paths).
fn comparable_results(dir: &Path) -> Value {
    let mut v = read_json(&dir.join("quick/results.json"));
    let object = v.as_object_mut().expect("an object");
    object.remove("timing");
    object.remove("corpus");
    v
}

/// Each truth file's clip, as `(truth, path of the clip)`, in the clean condition.
fn clean_truths(dir: &Path) -> Vec<(Value, PathBuf)> {
    let clean = dir.join("quick/clips/clean");
    files_under(&clean)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".truth.json"))
        .map(|p| {
            let truth = read_json(&clean.join(&p));
            let file = truth["file"].as_str().expect("a file name").to_string();
            (truth, clean.join(file))
        })
        .collect()
}

fn read_wav_mono(path: &Path) -> (Vec<f32>, u32) {
    let mut reader =
        hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = reader.spec();
    assert_eq!(spec.channels, 1, "{}", path.display());
    let samples = reader
        .samples::<i16>()
        .map(|s| f32::from(s.expect("a sample")) / 32767.0)
        .collect();
    (samples, spec.sample_rate)
}

#[test]
fn evaluate_quick_is_deterministic_whatever_the_thread_count() {
    let (a, b) = (scratch("quick-a"), scratch("quick-b"));
    let out_a = run_quick(&a, "1", &[]);
    assert!(out_a.status.success(), "{}", text(&out_a.stderr));
    let stdout = text(&out_a.stdout);
    for title in [
        "Splices by condition (test split)",
        "Splices by kind of cut",
        "Clip verdicts (test split)",
        "Attribution of archived pieces (test split)",
        "False detections per hour of unedited audio (test split)",
        "Time taken",
        "archive matching: index built (",
    ] {
        assert!(stdout.contains(title), "{title} missing from:\n{stdout}");
    }
    let out_b = run_quick(&b, "2", &[]);
    assert!(out_b.status.success(), "{}", text(&out_b.stderr));
    assert_eq!(comparable_results(&a), comparable_results(&b));
    let (files_a, files_b) = (files_under(&a), files_under(&b));
    assert_eq!(files_a, files_b);
    for f in files_a.iter().filter(|f| {
        let s = f.to_string_lossy();
        s.ends_with(".wav") || s.ends_with(".truth.json")
    }) {
        assert!(
            std::fs::read(a.join(f)).expect("reads") == std::fs::read(b.join(f)).expect("reads"),
            "{} differs between runs",
            f.display()
        );
    }
    for dir in [a, b] {
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}

#[test]
fn evaluate_quick_truth_agrees_with_the_audio_files_it_wrote() {
    let dir = scratch("truth");
    let out = run_quick(&dir, "2", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let truths = clean_truths(&dir);
    assert_eq!(truths.len(), 8, "one clip of each kind per split");
    let mut checked = 0;
    for (truth, clip_path) in &truths {
        let (clip, rate) = read_wav_mono(clip_path);
        let rate_f = f64::from(rate);
        for piece in truth["pieces"].as_array().expect("pieces") {
            if piece["speed"].as_f64() != Some(1.0) {
                continue;
            }
            let master_path = dir
                .join("quick")
                .join(piece["master"].as_str().expect("master"));
            let (master, master_rate) = read_wav_mono(&master_path);
            assert_eq!(master_rate, rate);
            let clip_start_s = piece["clip_start_s"].as_f64().expect("a number");
            let clip_end_s = piece["clip_end_s"].as_f64().expect("a number");
            let source_start_s = piece["source_start_s"].as_f64().expect("a number");
            // A quarter second from the middle of the piece, away from any crossfade.
            let len = (0.25 * rate_f) as usize;
            let mid_s = 0.5 * (clip_start_s + clip_end_s);
            let start = (mid_s * rate_f) as usize - len / 2;
            let excerpt = &clip[start..start + len];
            let at =
                ((source_start_s + start as f64 / rate_f - clip_start_s) * rate_f).round() as i64;
            // Brute-force correlation over ±80 samples (5 ms): the peak must be at lag 0.
            let mut best = (i64::MIN, f64::NEG_INFINITY);
            for lag in -80..=80i64 {
                let from = at + lag;
                if from < 0 || from as usize + len > master.len() {
                    continue;
                }
                let from = from as usize;
                let c: f64 = excerpt
                    .iter()
                    .zip(&master[from..from + len])
                    .map(|(x, y)| f64::from(*x) * f64::from(*y))
                    .sum();
                if c > best.1 {
                    best = (lag, c);
                }
            }
            assert_eq!(
                best.0,
                0,
                "{}: piece from {} is not where the truth says",
                clip_path.display(),
                piece["recording"]
            );
            // A copy at 16 bits: the samples are equal.
            let from = at as usize;
            assert!(
                excerpt
                    .iter()
                    .zip(&master[from..from + len])
                    .all(|(x, y)| (x - y).abs() < 1e-6),
                "{}: not a sample-exact copy",
                clip_path.display()
            );
            checked += 1;
        }
        // Splices lie inside the clip, in order.
        let times: Vec<f64> = truth["splices"]
            .as_array()
            .expect("splices")
            .iter()
            .map(|s| s["time_s"].as_f64().expect("a time"))
            .collect();
        let duration_s = truth["duration_s"].as_f64().expect("a duration");
        assert!(times.windows(2).all(|w| w[0] < w[1]));
        assert!(times.iter().all(|t| *t > 0.0 && *t < duration_s));
    }
    assert!(checked >= 8, "{checked} pieces checked");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn evaluate_reports_made_from_the_truth_score_one_and_a_missing_report_fails() {
    let dir = scratch("reports");
    let out = run_quick(&dir, "2", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Reports asserting exactly the truth, for every clip in every condition.
    let reports = dir.join("perfect");
    let clips = dir.join("quick/clips");
    for rel in files_under(&clips) {
        let name = rel.to_string_lossy().into_owned();
        if !name.ends_with(".truth.json") {
            continue;
        }
        let t = read_json(&clips.join(&rel));
        let splices: Vec<Value> = t["splices"]
            .as_array()
            .expect("splices")
            .iter()
            .map(|s| json!({"time_s": s["time_s"], "score": 0.9}))
            .collect();
        let matches: Vec<Value> = t["pieces"]
            .as_array()
            .expect("pieces")
            .iter()
            .filter(|p| !p["reference"].is_null())
            .map(|p| {
                json!({"reference": p["reference"], "clip_start_s": p["clip_start_s"],
                       "clip_end_s": p["clip_end_s"], "reference_start_s": p["source_start_s"],
                       "reference_end_s": p["source_end_s"], "speed": p["speed"],
                       "confidence": 0.9})
            })
            .collect();
        let authentic = t["label"] == "authentic";
        let report = json!({
            "schema": "provenance-report/1",
            "splices": splices,
            "matches": matches,
            "verdict": {"label": t["label"], "score": if authentic { 0.1 } else { 0.9 }},
        });
        let stem = t["clip"].as_str().expect("a stem");
        // Nested folders: reports are found by stem at any depth.
        let path = reports
            .join(t["condition"].as_str().expect("a condition"))
            .join(format!("{stem}.json"));
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        std::fs::write(&path, report.to_string()).expect("writes");
    }
    let out = run_quick(&dir, "2", &["--reports", reports.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let results = read_json(&dir.join("quick/results.json"));
    for split in results["splits"].as_array().expect("splits") {
        let all = |table: &str| {
            split[table]
                .as_array()
                .and_then(|rows| rows.last())
                .map(|row| row[1].clone())
                .expect("an `all` row")
        };
        let splices = all("splices_by_condition");
        for at in splices["at"].as_array().expect("tolerances") {
            assert!(at["tp"].as_u64().expect("tp") > 0);
            assert_eq!(
                (at["fp"].as_u64(), at["missed"].as_u64()),
                (Some(0), Some(0))
            );
        }
        let verdicts = all("verdicts_by_condition");
        assert_eq!(verdicts["accuracy"], 1.0);
        assert_eq!(verdicts["auc"], 1.0);
        let attribution = all("attribution_by_condition");
        assert_eq!(attribution["found"], attribution["pieces"]);
        let false_rates = all("false_rates_by_condition");
        assert_eq!(false_rates["false_splices"], 0);
        assert_eq!(false_rates["false_matches"], 0);
    }
    // One report fewer: that clip fails (exit 1, named on stderr) and the rest are still scored.
    let victim = reports.join("clean/test-deletion-01--clean.json");
    std::fs::remove_file(&victim).expect("removes");
    let out = run_quick(&dir, "2", &["--reports", reports.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("test-deletion-01--clean: no report for this clip"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("Splices by condition"));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn evaluate_with_a_missing_corpus_fails_and_with_a_bad_flag_is_a_usage_error() {
    let out = evaluate()
        .args(["--quick", "--corpus", "no/such/folder"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no/such/folder: not a folder"));
    let out = evaluate().arg("--no-such-flag").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
}
