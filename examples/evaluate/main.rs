//! The accuracy benchmark: generated spliced and reassembled clips with ground truth, scored by
//! one command.
//!
//! ```text
//! cargo run --release --example evaluate -- [--quick] [--corpus DIR] [--out DIR] [--reports DIR] [--config FILE] [--index DIR]
//! ```
//! From real speech (`--corpus DIR`, default the speech bundled in `testdata/speech/`) it builds,
//! with a fixed seed, an archive of reference recordings and clips — authentic, reused, cut inside
//! one recording, reassembled from several — through a set of processing chains, each clip with
//! its truth; runs the analysis on every clip (or, with `--reports DIR`, scores reports already
//! written, found by clip stem anywhere under DIR); and prints splice, verdict, attribution and
//! false-detection tables for the test split. Everything goes under `--out` (default
//! `target/evaluate/`), in `quick/` or `full/`. `--quick` makes a few short clips in conditions
//! that need no ffmpeg, so it gives the same numbers wherever it runs.
//!
//! Exit status: 0 when every clip was generated, analysed (or had a report) and scored; 1 when any
//! failed (one line on stderr each; the rest are still scored); 2 for a usage error. The command
//! line is a contract (DESIGN.md): flags are added, never renamed.
// Built as a test target too (Cargo.toml: evaluate_units), where `main` is not the entry point.
#![cfg_attr(test, allow(dead_code))]
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use clip_provenance::{Analyzer, Config, Index, IndexSettings};
use rayon::prelude::*;
use serde::Serialize;

mod acoustics;
mod chains;
mod corpus;
mod dsp;
mod files;
mod generate;
mod rng;
mod score;
mod tables;
mod truth;

use chains::{Condition, Signal};
use corpus::{Corpus, Recording};
use files::{prune, write_atomic, write_json};
use generate::Benchmark;
use score::{Asserted, ClipScore, parse_report, score_clip};
use truth::{ClipTruth, Split};

/// The benchmark's seed. Fixed, so every run on the same corpus builds the same clips; changing
/// it is changing the benchmark (the date it was first set, 2026-11-27, as a number).
const SEED: u64 = 20_261_127;

/// The corpus used without `--corpus`: the speech bundled in the repository.
const DEFAULT_CORPUS: &str = "testdata/speech";

/// The output folder used without `--out` (DESIGN.md).
const DEFAULT_OUT: &str = "target/evaluate";

/// The schema identifier of `results.json`.
const RESULTS_SCHEMA: &str = "clip-provenance-benchmark-results/1";

/// The per-hour false-detection rates are meaningful from this much unedited audio on (issue 7:
/// at least an hour).
const MIN_UNEDITED_HOURS: f64 = 1.0;

#[derive(Parser)]
#[command(
    about = "The accuracy benchmark: generated clips with ground truth, analysed and scored."
)]
struct Args {
    /// A few short clips in conditions that need no ffmpeg: deterministic wherever it runs.
    #[arg(long)]
    quick: bool,
    /// A folder of speech (searched recursively for audio; `noise/` holds noise; an optional
    /// `speakers.tsv` maps file to speaker). Default: testdata/speech.
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// Where the clips, cache, reports and results go (in `quick/` or `full/`). Default:
    /// target/evaluate.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Score the reports in DIR (found by clip stem, `<stem>.json`, anywhere below it) instead of
    /// running the analysis.
    #[arg(long, value_name = "DIR")]
    reports: Option<PathBuf>,
    /// The analysis `Config` as a JSON object (missing fields take their defaults), e.g.
    /// `{"splice_min_score": 0}` to list every splice candidate for `fit_fusion.py`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Query this archive index instead of building one from the benchmark's archive. It must
    /// hold every archive recording under its file name and may hold more (recordings no clip
    /// comes from): matching measured against a large archive, e.g. a bench archive of 100 h
    /// with the benchmark's recordings added (`index DIR add target/evaluate/full/archive`).
    #[arg(long, value_name = "DIR")]
    index: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

/// The names of the archive's recordings, sorted, and their files.
fn archive_names(archive_dir: &Path) -> Result<(Vec<String>, Vec<PathBuf>), String> {
    let files = clip_provenance::media_files_in(archive_dir).map_err(|e| e.to_string())?;
    let mut names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok((names, files))
}

/// An index given with `--index`, checked to hold every recording under `archive_dir`.
fn open_given_index(archive_dir: &Path, index_dir: &Path) -> Result<(Index, String), String> {
    let (names, _) = archive_names(archive_dir)?;
    let index = Index::open(index_dir).map_err(|e| format!("--index: {e}"))?;
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !index.list().iter().any(|e| &e.name == *n))
        .collect();
    if let Some(first) = missing.first() {
        return Err(format!(
            "--index {}: {} of the archive's {} recordings are missing (first: {first}); add \
             them with `index DIR add {}`",
            index_dir.display(),
            missing.len(),
            names.len(),
            archive_dir.display()
        ));
    }
    let status = archive_status(&index, &format!("given: {}", index_dir.display()));
    Ok((index, status))
}

/// The archive's index, at `index_dir`: reused when it holds exactly the recordings under
/// `archive_dir` (a rerun), built afresh otherwise; with the status line the run prints.
fn build_index(archive_dir: &Path, index_dir: &Path) -> Result<(Index, String), String> {
    let (names, files) = archive_names(archive_dir)?;
    if let Ok(index) = Index::open(index_dir) {
        let mut held: Vec<String> = index.list().iter().map(|e| e.name.clone()).collect();
        held.sort();
        if held == names {
            let status = archive_status(&index, "reused");
            return Ok((index, status));
        }
    }
    let _ = std::fs::remove_dir_all(index_dir);
    let mut index =
        Index::create(index_dir, IndexSettings::default()).map_err(|e| e.to_string())?;
    for file in &files {
        index
            .add_path(file, None, false)
            .map_err(|e| format!("{}: {e}", file.display()))?;
    }
    let status = archive_status(&index, "built");
    Ok((index, status))
}

fn archive_status(index: &Index, how: &str) -> String {
    format!(
        "archive matching: index {how} ({} recordings, {:.1} min, {:.1} MB)",
        index.list().len(),
        index.total_duration_s() / 60.0,
        index.size_bytes() as f64 / 1e6
    )
}

/// One rendered clip: its truth (with its file) and path.
struct Rendered {
    truth: ClipTruth,
    path: PathBuf,
}

/// Seconds spent in each stage.
#[derive(Debug, Default, Serialize)]
struct Timing {
    corpus_s: f64,
    generate_s: f64,
    render_s: f64,
    analyse_s: f64,
    score_s: f64,
    total_s: f64,
    /// Audio analysed (or scored), in hours.
    audio_h: f64,
    /// Audio seconds analysed per second of wall time (0 when scoring existing reports).
    analysis_speed_x_realtime: f64,
    /// ffmpeg encodes run (the rest came from the cache).
    ffmpeg_encodes: u64,
    threads: usize,
}

/// The whole run; `Ok(false)` when some clips failed.
fn run(args: &Args) -> Result<bool, String> {
    let started = Instant::now();
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus_dir = args
        .corpus
        .clone()
        .unwrap_or_else(|| manifest_dir.join(DEFAULT_CORPUS));
    let mode = if args.quick { "quick" } else { "full" };
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| manifest_dir.join(DEFAULT_OUT))
        .join(mode);
    let mut timing = Timing {
        threads: rayon::current_num_threads(),
        ..Timing::default()
    };
    let mut failures: Vec<String> = Vec::new();

    let stage = Instant::now();
    let corpus = Corpus::load(&corpus_dir)?;
    timing.corpus_s = stage.elapsed().as_secs_f64();
    println!("clip-provenance accuracy benchmark ({mode}), seed {SEED}");
    println!(
        "corpus: {}: {} recordings, {} speakers, {:.1} s of speech; {} noise recording(s){}",
        corpus_dir.display(),
        corpus.speech.len(),
        corpus.speakers(),
        corpus.speech_s(),
        corpus.noise.len(),
        if corpus.unlisted > 0 {
            format!(
                "; {} file(s) not in speakers.tsv, each taken as its own speaker",
                corpus.unlisted
            )
        } else {
            String::new()
        }
    );

    let stage = Instant::now();
    let bench = generate::generate(&corpus, SEED, args.quick)?;
    write_masters(&bench, &dir)?;
    timing.generate_s = stage.elapsed().as_secs_f64();
    print_benchmark_summary(&bench);

    let ffmpeg = if args.quick {
        None
    } else {
        chains::ffmpeg_version()
    };
    let conditions: Vec<Condition> = chains::conditions()
        .into_iter()
        .filter(|c| {
            if args.quick {
                c.quick
            } else {
                c.encode.is_none() || ffmpeg.is_some()
            }
        })
        .collect();
    if !args.quick && ffmpeg.is_none() {
        println!("ffmpeg: not found on PATH: the lossy and conferencing conditions are left out");
    }
    println!(
        "conditions: {}",
        conditions
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", ")
    );

    let stage = Instant::now();
    let (rendered, encodes) = render_all(
        &bench,
        &corpus,
        &conditions,
        &dir,
        ffmpeg.as_deref(),
        &mut failures,
    )?;
    timing.render_s = stage.elapsed().as_secs_f64();
    timing.ffmpeg_encodes = encodes;
    write_manifest(&bench, &conditions, &rendered, &corpus, &dir, mode)?;

    let stage = Instant::now();
    let mut archive_line = String::from("scored existing reports");
    let reports: Vec<Option<Asserted>> = match &args.reports {
        Some(reports_dir) => {
            println!(
                "reports: scoring the reports under {}",
                reports_dir.display()
            );
            load_reports(reports_dir, &rendered, &mut failures)?
        }
        None => {
            let (index, status) = match &args.index {
                Some(given) => open_given_index(&dir.join("archive"), given)?,
                None => build_index(&dir.join("archive"), &dir.join("index"))?,
            };
            println!("{status}");
            archive_line = status;
            let config = match &args.config {
                Some(path) => Config::from_json_file(path).map_err(|e| e.to_string())?,
                None => Config::default(),
            };
            let analyzer = Analyzer::new(config)
                .map_err(|e| e.to_string())?
                .with_index(&index);
            analyse_all(&analyzer, &rendered, &dir.join("reports"), &mut failures)
        }
    };
    timing.analyse_s = stage.elapsed().as_secs_f64();
    timing.audio_h = rendered.iter().map(|r| r.truth.duration_s).sum::<f64>() / 3600.0;
    if args.reports.is_none() && timing.analyse_s > 0.0 {
        timing.analysis_speed_x_realtime = timing.audio_h * 3600.0 / timing.analyse_s;
    }

    let stage = Instant::now();
    let scores: Vec<ClipScore> = rendered
        .iter()
        .zip(&reports)
        .map(|(r, a)| score_clip(&r.truth, a.as_ref()))
        .collect();
    let condition_names: Vec<&str> = conditions.iter().map(|c| c.name).collect();
    let mut sections = Vec::new();
    for split in ["test", "train", "all"] {
        let scored: Vec<tables::Scored<'_>> = rendered
            .iter()
            .zip(&scores)
            .filter(|(r, _)| tables::split_filter(split).is_none_or(|s| r.truth.split == s))
            .map(|(r, s)| (&r.truth, s))
            .collect();
        sections.push(tables::measure(split, &scored, &condition_names));
    }
    timing.score_s = stage.elapsed().as_secs_f64();
    timing.total_s = started.elapsed().as_secs_f64();

    let unedited_h: f64 = rendered
        .iter()
        .filter(|r| r.truth.is_unedited())
        .map(|r| r.truth.duration_s)
        .sum::<f64>()
        / 3600.0;
    let test_unedited_h: f64 = rendered
        .iter()
        .filter(|r| r.truth.is_unedited() && r.truth.split == Split::Test)
        .map(|r| r.truth.duration_s)
        .sum::<f64>()
        / 3600.0;
    let mut markdown = format!(
        "# clip-provenance accuracy benchmark ({mode})\n\nseed {SEED}; corpus {} ({} recordings, \
         {} speakers); {} clips in {} conditions; {}\n\n",
        corpus_dir.display(),
        corpus.speech.len(),
        corpus.speakers(),
        bench.clips.len(),
        conditions.len(),
        archive_line,
    );
    println!();
    for section in &sections {
        let section_tables = tables::tables(section);
        let _ = std::fmt::Write::write_fmt(
            &mut markdown,
            format_args!("## {} split\n\n", section.split),
        );
        for t in &section_tables {
            if section.split == "test" {
                println!("{}", t.to_text());
            }
            markdown += &t.to_markdown();
            markdown.push('\n');
        }
    }
    let coverage = format!(
        "unedited audio: {unedited_h:.2} h in all ({test_unedited_h:.2} h in the test split); \
         the per-hour rates need at least {MIN_UNEDITED_HOURS} h: {}",
        if test_unedited_h >= MIN_UNEDITED_HOURS {
            "met"
        } else {
            "not met (run the full benchmark on the shared corpus)"
        }
    );
    println!("{coverage}");
    println!("train split: results.json and results.md hold it (thresholds are set there).");
    let timing_table = timing_table(&timing);
    println!("\n{}", timing_table.to_text());
    markdown += &format!("{coverage}\n\n");
    markdown += &timing_table.to_markdown();

    #[derive(Serialize)]
    struct Results<'a> {
        schema: &'static str,
        mode: &'a str,
        seed: u64,
        corpus: String,
        archive: &'a str,
        conditions: Vec<&'a str>,
        clips: usize,
        rendered_clips: usize,
        unedited_hours: f64,
        splits: &'a [tables::SplitResults],
        failures: &'a [String],
        timing: &'a Timing,
    }
    let results = Results {
        schema: RESULTS_SCHEMA,
        mode,
        seed: SEED,
        corpus: corpus_dir.display().to_string(),
        archive: &archive_line,
        conditions: condition_names.clone(),
        clips: bench.clips.len(),
        rendered_clips: rendered.len(),
        unedited_hours: unedited_h,
        splits: &sections,
        failures: &failures,
        timing: &timing,
    };
    write_json(&dir.join("results.json"), &results)?;
    write_atomic(&dir.join("results.md"), markdown.as_bytes())?;
    println!("results: {}", dir.join("results.json").display());
    println!("tables: {}", dir.join("results.md").display());
    for failure in &failures {
        eprintln!("{failure}");
    }
    Ok(failures.is_empty())
}

/// Writes every master: `archive/<stem>.wav` (the archive) and `unarchived/<stem>.wav` (kept for
/// checking the truth), removing masters of an earlier benchmark.
fn write_masters(bench: &Benchmark, dir: &Path) -> Result<(), String> {
    for archived in [true, false] {
        let folder = dir.join(if archived { "archive" } else { "unarchived" });
        let mut keep = BTreeSet::new();
        for source in bench.sources.iter().filter(|s| s.archived == archived) {
            let signal = Signal {
                samples: source.master.clone(),
                rate_hz: corpus::GEN_RATE_HZ,
                channels: 1,
            };
            write_atomic(
                &folder.join(source.file_name()),
                &chains::wav_bytes(&signal)?,
            )?;
            keep.insert(source.file_name());
        }
        prune(&folder, &keep);
    }
    Ok(())
}

/// Prints how many clips of each kind and how the archive was split.
fn print_benchmark_summary(bench: &Benchmark) {
    for split in Split::ALL {
        let sources: Vec<_> = bench.sources.iter().filter(|s| s.split == split).collect();
        let speakers: BTreeSet<&str> = sources.iter().map(|s| s.speaker.as_str()).collect();
        let archived = sources.iter().filter(|s| s.archived).count();
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for clip in bench.clips.iter().filter(|c| c.truth.split == split) {
            *kinds.entry(clip.truth.kind.name()).or_default() += 1;
        }
        println!(
            "{} split: {} speakers, {} recordings ({} in the archive); clips: {}",
            split.name(),
            speakers.len(),
            sources.len(),
            archived,
            kinds
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// Renders every clip in every condition (clips in parallel, results in a fixed order), writing
/// each file and its `.truth.json` under `clips/<condition>/`. Returns the rendered clips and the
/// number of ffmpeg encodes that ran.
fn render_all(
    bench: &Benchmark,
    corpus: &Corpus,
    conditions: &[Condition],
    dir: &Path,
    ffmpeg: Option<&str>,
    failures: &mut Vec<String>,
) -> Result<(Vec<Rendered>, u64), String> {
    let mut rendered = Vec::new();
    let mut encodes = 0;
    // Babble talks with the readings no archive holds.
    let talkers: Vec<Recording> = corpus
        .speech
        .iter()
        .filter(|r| {
            bench
                .sources
                .iter()
                .any(|s| s.rel_path == r.rel_path && !s.archived)
        })
        .cloned()
        .collect();
    for condition in conditions {
        let clip_dir = dir.join("clips").join(condition.name);
        let cache_dir = dir.join("cache").join(condition.name);
        let delay = match (&condition.encode, ffmpeg) {
            (Some(encode), Some(version)) => match encode.filters {
                Some(filters) => {
                    std::fs::create_dir_all(&cache_dir)
                        .map_err(|e| format!("{}: {e}", cache_dir.display()))?;
                    let probe = delay_probe(bench);
                    let delay = chains::measure_filter_delay(
                        encode,
                        filters,
                        &condition.steps,
                        &probe,
                        &cache_dir,
                        version,
                    )?;
                    println!(
                        "{}: the filters delay the audio by {delay} samples at {} Hz; compensated",
                        condition.name, encode.rate_hz
                    );
                    delay
                }
                None => 0,
            },
            _ => 0,
        };
        std::fs::create_dir_all(&clip_dir).map_err(|e| format!("{}: {e}", clip_dir.display()))?;
        if condition.encode.is_some() {
            std::fs::create_dir_all(&cache_dir)
                .map_err(|e| format!("{}: {e}", cache_dir.display()))?;
        }
        let results: Vec<Result<(Rendered, bool), String>> = bench
            .clips
            .par_iter()
            .map(|clip| {
                let (signal, mut truth) = chains::apply_steps(
                    &clip.samples,
                    clip.truth.clone(),
                    &condition.steps,
                    chains::NoiseSources {
                        noise: &corpus.noise,
                        talkers: &talkers,
                    },
                    SEED,
                );
                let stem = format!("{}--{}", clip.id, condition.name);
                let file = format!("{stem}.{}", condition.ext());
                let path = clip_dir.join(&file);
                truth.clip = stem.clone();
                truth.file = file;
                truth.condition = condition.name.to_string();
                let mut ran = false;
                match (&condition.encode, ffmpeg) {
                    (Some(encode), Some(version)) => {
                        let (alignment, decoded, did_run) = chains::encode_cached(
                            &signal, encode, delay, &path, &cache_dir, version,
                        )
                        .map_err(|e| format!("{stem}: {e}"))?;
                        ran = did_run;
                        truth.chain.push(format!(
                            "ffmpeg {}{}",
                            encode.args.join(" "),
                            encode
                                .filters
                                .map(|f| format!(
                                    " after the filters {f} (their {delay}-sample delay \
                                     compensated)"
                                ))
                                .unwrap_or_default()
                        ));
                        truth.sample_rate_hz = encode.rate_hz;
                        truth.duration_s = decoded as f64 / f64::from(encode.rate_hz);
                        truth.alignment = Some(alignment);
                    }
                    _ => write_atomic(&path, &chains::wav_bytes(&signal)?)?,
                }
                write_json(&clip_dir.join(format!("{stem}.truth.json")), &truth)?;
                Ok((Rendered { truth, path }, ran))
            })
            .collect();
        let mut keep = BTreeSet::new();
        for result in results {
            match result {
                Ok((r, ran)) => {
                    encodes += u64::from(ran);
                    keep.insert(r.truth.file.clone());
                    keep.insert(format!("{}.truth.json", r.truth.clip));
                    rendered.push(r);
                }
                Err(e) => failures.push(e),
            }
        }
        prune(&clip_dir, &keep);
        eprintln!("rendered {} ({} clips)", condition.name, bench.clips.len());
    }
    Ok((rendered, encodes))
}

/// The signal the filter delay is measured on: up to 10 s of the longest master (real speech, so
/// the noise suppressor and the gate behave as on the clips).
fn delay_probe(bench: &Benchmark) -> Vec<f32> {
    /// Probe length in samples at 16 kHz: 10 s.
    const PROBE_SAMPLES: usize = 160_000;
    bench
        .sources
        .iter()
        .max_by_key(|s| s.master.len())
        .map(|s| s.master[..s.master.len().min(PROBE_SAMPLES)].to_vec())
        .unwrap_or_default()
}

/// Writes `benchmark.json`: the seed, the corpus, each recording's split, archive role and
/// acoustics, the conditions and the clips.
fn write_manifest(
    bench: &Benchmark,
    conditions: &[Condition],
    rendered: &[Rendered],
    corpus: &Corpus,
    dir: &Path,
    mode: &str,
) -> Result<(), String> {
    #[derive(Serialize)]
    struct SourceEntry<'a> {
        recording: &'a str,
        speaker: &'a str,
        split: Split,
        archived: bool,
        master: String,
        duration_s: f64,
        acoustics: &'a acoustics::Acoustics,
        acoustics_summary: String,
    }
    #[derive(Serialize)]
    struct ConditionEntry {
        name: &'static str,
        steps: Vec<String>,
        encode: Option<String>,
    }
    #[derive(Serialize)]
    struct Manifest<'a> {
        schema: &'static str,
        mode: &'a str,
        seed: u64,
        corpus: String,
        sources: Vec<SourceEntry<'a>>,
        conditions: Vec<ConditionEntry>,
        clips: Vec<String>,
    }
    let manifest = Manifest {
        schema: "clip-provenance-benchmark/1",
        mode,
        seed: SEED,
        corpus: corpus.dir.display().to_string(),
        sources: bench
            .sources
            .iter()
            .map(|s| SourceEntry {
                recording: &s.rel_path,
                speaker: &s.speaker,
                split: s.split,
                archived: s.archived,
                master: s.master_path(),
                duration_s: s.master.len() as f64 / f64::from(corpus::GEN_RATE_HZ),
                acoustics: &s.acoustics,
                acoustics_summary: s.acoustics.describe(),
            })
            .collect(),
        conditions: conditions
            .iter()
            .map(|c| ConditionEntry {
                name: c.name,
                steps: c.steps.iter().map(|s| s.describe()).collect(),
                encode: c.encode.as_ref().map(|e| e.args.join(" ")),
            })
            .collect(),
        clips: rendered
            .iter()
            .map(|r| format!("clips/{}/{}", r.truth.condition, r.truth.file))
            .collect(),
    };
    write_json(&dir.join("benchmark.json"), &manifest)
}

/// Analyses every clip (in parallel, results in a fixed order), writing `reports/<stem>.json`, and
/// reads back what each report asserts.
fn analyse_all(
    analyzer: &Analyzer<'_>,
    rendered: &[Rendered],
    reports_dir: &Path,
    failures: &mut Vec<String>,
) -> Vec<Option<Asserted>> {
    if let Err(e) = std::fs::create_dir_all(reports_dir) {
        failures.push(format!("{}: {e}", reports_dir.display()));
        return rendered.iter().map(|_| None).collect();
    }
    let results: Vec<Result<Asserted, String>> = rendered
        .par_iter()
        .map(|r| {
            let report = analyzer
                .analyze_path(&r.path)
                .map_err(|e| format!("{}: {e}", r.path.display()))?;
            let path = reports_dir.join(format!("{}.json", r.truth.clip));
            report.write_json(&path).map_err(|e| e.to_string())?;
            let value =
                serde_json::to_value(&report).map_err(|e| format!("{}: {e}", path.display()))?;
            parse_report(&value).map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect();
    let keep: BTreeSet<String> = rendered
        .iter()
        .map(|r| format!("{}.json", r.truth.clip))
        .collect();
    prune(reports_dir, &keep);
    results
        .into_iter()
        .map(|r| match r {
            Ok(a) => Some(a),
            Err(e) => {
                failures.push(e);
                None
            }
        })
        .collect()
}

/// Reads the reports under `reports_dir` (any depth, `<clip stem>.json`) for the rendered clips.
/// A missing or unreadable report is a failure, and its clip is scored as asserting nothing.
fn load_reports(
    reports_dir: &Path,
    rendered: &[Rendered],
    failures: &mut Vec<String>,
) -> Result<Vec<Option<Asserted>>, String> {
    if !reports_dir.is_dir() {
        return Err(format!("{}: not a folder", reports_dir.display()));
    }
    let wanted: BTreeSet<&str> = rendered.iter().map(|r| r.truth.clip.as_str()).collect();
    let mut found: BTreeMap<String, PathBuf> = BTreeMap::new();
    for entry in walkdir::WalkDir::new(reports_dir).follow_links(true) {
        let entry = entry.map_err(|e| format!("{}: {e}", reports_dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        if entry.file_type().is_file()
            && wanted.contains(stem)
            && let Some(other) = found.insert(stem.to_string(), entry.path().to_path_buf())
        {
            return Err(format!(
                "{}: two reports for clip {stem}: {} and {}",
                reports_dir.display(),
                other.display(),
                entry.path().display()
            ));
        }
    }
    Ok(rendered
        .iter()
        .map(|r| {
            let Some(path) = found.get(&r.truth.clip) else {
                failures.push(format!("{}: no report for this clip", r.truth.clip));
                return None;
            };
            let parsed = std::fs::read(path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
                .and_then(|value| parse_report(&value));
            match parsed {
                Ok(a) => Some(a),
                Err(e) => {
                    failures.push(format!("{}: {e}", path.display()));
                    None
                }
            }
        })
        .collect())
}

/// The time table.
fn timing_table(t: &Timing) -> tables::Table {
    let mut table = tables::Table {
        title: format!("Time taken ({} threads)", t.threads),
        headers: vec!["stage".into(), "seconds".into()],
        ..tables::Table::default()
    };
    for (name, seconds) in [
        ("read corpus", t.corpus_s),
        ("generate sources and clips", t.generate_s),
        ("render conditions (ffmpeg, cached)", t.render_s),
        ("analyse (or read reports)", t.analyse_s),
        ("score", t.score_s),
        ("total", t.total_s),
    ] {
        table.rows.push(vec![name.into(), format!("{seconds:.1}")]);
    }
    table.notes.push(format!(
        "{:.2} h of clips; analysis at {:.0}x real time; {} ffmpeg encodes run (others cached).",
        t.audio_h, t.analysis_speed_x_realtime, t.ffmpeg_encodes
    ));
    table
}

#[cfg(test)]
mod tests {
    //! The scorer tests itself: reports made from the truth score 1.0 everywhere, empty reports
    //! score 0 recall, and the generator's truth is checked against its audio.
    use super::*;
    use serde_json::{Value, json};

    /// The quick benchmark of the bundled corpus and its truth in every quick condition (in
    /// memory), made once for all tests.
    fn quick_truths() -> &'static (Benchmark, Vec<ClipTruth>, Vec<&'static str>) {
        static QUICK: std::sync::OnceLock<(Benchmark, Vec<ClipTruth>, Vec<&'static str>)> =
            std::sync::OnceLock::new();
        QUICK.get_or_init(|| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CORPUS);
            let corpus = Corpus::load(&dir).expect("the bundled corpus loads");
            let bench = generate::generate(&corpus, SEED, true).expect("generates");
            let conditions: Vec<Condition> = chains::conditions()
                .into_iter()
                .filter(|c| c.quick)
                .collect();
            let mut truths = Vec::new();
            for c in &conditions {
                for clip in &bench.clips {
                    let (_, mut t) = chains::apply_steps(
                        &clip.samples,
                        clip.truth.clone(),
                        &c.steps,
                        chains::NoiseSources::default(),
                        SEED,
                    );
                    t.condition = c.name.to_string();
                    truths.push(t);
                }
            }
            (bench, truths, conditions.iter().map(|c| c.name).collect())
        })
    }

    /// A report asserting exactly the truth, with `shift_s` added to every splice time.
    fn report_from_truth(t: &ClipTruth, shift_s: f64) -> Value {
        let splices: Vec<Value> = t
            .splices
            .iter()
            .map(|s| json!({"time_s": s.time_s + shift_s, "score": 0.99, "cues": {}}))
            .collect();
        let matches: Vec<Value> = t
            .pieces
            .iter()
            .filter_map(|p| {
                let reference = p.reference.as_ref()?;
                Some(json!({
                    "clip_start_s": p.clip_start_s, "clip_end_s": p.clip_end_s,
                    "reference": reference, "reference_start_s": p.source_start_s,
                    "reference_end_s": p.source_end_s, "speed": p.speed, "confidence": 0.99
                }))
            })
            .collect();
        let score = if t.label == truth::Label::Authentic {
            0.02
        } else {
            0.98
        };
        json!({
            "schema": "provenance-report/1",
            "splices": splices,
            "matches": matches,
            "verdict": {"label": t.label.as_str(), "score": score, "summary": "from the truth"}
        })
    }

    fn measure_all(
        truths: &[ClipTruth],
        conditions: &[&str],
        report: impl Fn(&ClipTruth) -> Value,
    ) -> Vec<tables::SplitResults> {
        let scores: Vec<ClipScore> = truths
            .iter()
            .map(|t| {
                let asserted = parse_report(&report(t)).expect("a valid report");
                score_clip(t, Some(&asserted))
            })
            .collect();
        ["test", "train", "all"]
            .iter()
            .map(|split| {
                let scored: Vec<tables::Scored<'_>> = truths
                    .iter()
                    .zip(&scores)
                    .filter(|(t, _)| tables::split_filter(split).is_none_or(|s| t.split == s))
                    .collect();
                tables::measure(split, &scored, conditions)
            })
            .collect()
    }

    #[test]
    fn scorer_reports_from_the_truth_score_one_everywhere() {
        let (_, truths, conditions) = quick_truths();
        for r in measure_all(truths, conditions, |t| report_from_truth(t, 0.0)) {
            for (group, s) in r.splices_by_condition.iter().chain(&r.splices_by_kind) {
                assert!(s.splices > 0, "{} {group}: the benchmark has cuts", r.split);
                for c in &s.at {
                    assert_eq!(
                        (c.precision(), c.recall(), c.f1()),
                        (Some(1.0), Some(1.0), Some(1.0)),
                        "{} {group}",
                        r.split
                    );
                }
            }
            for (group, v) in &r.verdicts_by_condition {
                assert_eq!(v.accuracy, Some(1.0), "{} {group}", r.split);
                assert_eq!(v.auc, Some(1.0), "{} {group}", r.split);
            }
            for (group, a) in &r.attribution_by_condition {
                assert!(a.pieces[0] > 0, "{group}: archived pieces of 2 s exist");
                assert_eq!(a.found, a.pieces, "{} {group}", r.split);
            }
            for (group, f) in &r.false_rates_by_condition {
                assert!(f.stats.hours > 0.0);
                assert_eq!(
                    (f.stats.false_splices, f.stats.false_matches),
                    (0, 0),
                    "{} {group}",
                    r.split
                );
            }
        }
    }

    #[test]
    fn scorer_empty_reports_score_zero_recall_and_no_verdict() {
        let (_, truths, conditions) = quick_truths();
        let empty = |_: &ClipTruth| json!({"schema": "provenance-report/1", "duration_s": 1.0});
        for r in measure_all(truths, conditions, empty) {
            for (group, s) in &r.splices_by_condition {
                for c in &s.at {
                    assert_eq!((c.recall(), c.precision()), (Some(0.0), None), "{group}");
                }
            }
            for (_, v) in &r.verdicts_by_condition {
                assert_eq!((v.accuracy, v.auc), (None, None));
            }
            for (_, a) in &r.attribution_by_condition {
                assert_eq!(a.found, [0, 0, 0]);
            }
        }
    }

    #[test]
    fn scorer_splices_off_by_30_ms_count_at_50_ms_but_not_at_20() {
        let (_, truths, conditions) = quick_truths();
        let results = measure_all(truths, conditions, |t| report_from_truth(t, 0.030));
        let (_, all) = results[2]
            .splices_by_condition
            .last()
            .expect("an `all` row");
        assert_eq!(all.at[0].recall(), Some(0.0));
        assert_eq!(all.at[0].precision(), Some(0.0));
        assert_eq!(all.at[1].recall(), Some(1.0));
        assert_eq!(all.at[2].f1(), Some(1.0));
    }

    #[test]
    fn generator_truth_matches_the_audio_and_a_wrong_offset_is_caught() {
        let (bench, _, _) = quick_truths();
        let mut checked = 0;
        for clip in &bench.clips {
            generate::check_clip(&clip.samples, &clip.truth, &bench.sources)
                .expect("the truth holds");
            let mut wrong = clip.truth.clone();
            let piece = wrong.pieces.last_mut().expect("a piece");
            piece.source_start_s += 0.005; // 80 samples off
            assert!(
                generate::check_clip(&clip.samples, &wrong, &bench.sources).is_err(),
                "{}: an offset 5 ms off must fail the check",
                clip.id
            );
            checked += 1;
        }
        assert_eq!(checked, 8, "one clip of each kind per split");
    }

    #[test]
    fn generator_is_deterministic_and_splits_speakers_and_recordings() {
        let (a, _, _) = quick_truths();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CORPUS);
        let corpus = Corpus::load(&dir).expect("the bundled corpus loads");
        let b = generate::generate(&corpus, SEED, true).expect("generates");
        assert_eq!(
            a.clips.iter().map(|c| &c.truth).collect::<Vec<_>>(),
            b.clips.iter().map(|c| &c.truth).collect::<Vec<_>>()
        );
        assert!(
            a.clips
                .iter()
                .zip(&b.clips)
                .all(|(x, y)| x.samples == y.samples)
        );
        // No speaker, so no recording, on both sides.
        let side = |split| {
            a.sources
                .iter()
                .filter(|s| s.split == split)
                .map(|s| s.speaker.as_str())
                .collect::<BTreeSet<_>>()
        };
        assert!(side(Split::Test).is_disjoint(&side(Split::Train)));
        // Every clip's pieces come from its own split.
        for clip in &a.clips {
            for piece in &clip.truth.pieces {
                let source = a
                    .sources
                    .iter()
                    .find(|s| s.rel_path == piece.recording)
                    .expect("a source");
                assert_eq!(source.split, clip.truth.split, "{}", clip.id);
            }
        }
    }
}
