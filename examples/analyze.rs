//! Analyses clips and writes their reports: the main job, from a shell.
//!
//! ```text
//! cargo run --release --example analyze                      # the bundled clip and archive in testdata/
//! cargo run --release --example analyze -- [--index DIR] [--config FILE] [--json FILE] [--png FILE] CLIP
//! cargo run --release --example analyze -- [--index DIR] [--config FILE] --out DIR CLIP|FOLDER...
//! ```
//! The human summary of each clip goes to stdout (to stderr when an output is `-`). With no
//! clip, the bundled demo is analysed: `testdata/demo/zoom-call-reassembled.mp4`, a Zoom-like
//! MP4 reassembled from two archived recordings and one that is not archived, searched against
//! the bundled archive (the recordings `testdata/demo/archive.txt` names, indexed into
//! `target/analyze/demo-archive/` on first use), and its report written to
//! `target/analyze/<stem>.json` and `.png`. Folders are walked recursively in sorted path order,
//! keeping media files by extension; two inputs with the same stem get `stem`, `stem-2`, …
//! Several clips are analysed in parallel (one per core) with a progress bar over the clips on
//! stderr; one clip gets a bar over its seconds (`Analyzer::with_progress`). Summaries come out
//! in input order. Exit status: 0 when every input gave a report, 1 when any
//! gave an error (one line on stderr each; the others are still processed), 2 for a usage
//! error. The command line is a contract (DESIGN.md): flags are added, never renamed.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use clip_provenance::{Analyzer, Config, Index, IndexSettings, Progress};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

/// The clip analysed when none is given: a Zoom-like MP4 (a video stream, then AAC audio)
/// reassembled from older recordings (`testdata/demo/make_demo.sh`).
const BUNDLED_CLIP: &str = "testdata/demo/zoom-call-reassembled.mp4";
/// The bundled archive: one file name of `testdata/speech/` per line.
const BUNDLED_ARCHIVE: &str = "testdata/demo/archive.txt";
/// Where the bundled archive is indexed, under the project.
const BUNDLED_INDEX: &str = "target/analyze/demo-archive";

#[derive(Parser)]
#[command(
    about = "Was this clip assembled from older audio? Analyse clips and write their reports."
)]
struct Args {
    /// An archive index (built with the `index` example) to search the clips against.
    #[arg(long, value_name = "DIR")]
    index: Option<PathBuf>,
    /// A JSON file of Config fields; missing fields take their defaults.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Write the JSON report to FILE (`-` for stdout); one clip only.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the PNG picture to FILE (`-` for stdout); one clip only.
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
    /// Write DIR/<stem>.json and DIR/<stem>.png for each clip.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["json", "png"])]
    out: Option<PathBuf>,
    /// Clips, or folders to walk for clips. None: the bundled clip.
    inputs: Vec<PathBuf>,
}

/// Where one clip's outputs go.
struct Outputs {
    json: Option<PathBuf>,
    png: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match &args.config {
        None => Config::default(),
        Some(path) => match Config::from_json_file(path) {
            Ok(config) => config,
            Err(e) => return usage_error(&e.to_string()),
        },
    };
    let analyzer = match Analyzer::new(config) {
        Ok(analyzer) => analyzer,
        Err(e) => return usage_error(&e.to_string()),
    };
    let bundled = args.inputs.is_empty();
    // Relative to the project when run from it (as the README does), so paths read short.
    let root = if Path::new(BUNDLED_CLIP).exists() {
        PathBuf::new()
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    };
    let index = match (&args.index, bundled) {
        (Some(dir), _) => Index::open(dir).map(Some),
        (None, true) => bundled_index(&root).map(Some),
        (None, false) => Ok(None),
    };
    let index = match index {
        Ok(index) => index,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let analyzer = match &index {
        Some(index) => analyzer.with_index(index),
        None => analyzer,
    };
    let mut failed = false;
    let (clips, mut out_dir) = if bundled {
        let default_out = (args.json.is_none() && args.png.is_none() && args.out.is_none())
            .then(|| root.join("target/analyze"));
        (
            vec![root.join(BUNDLED_CLIP)],
            args.out.clone().or(default_out),
        )
    } else {
        let mut clips = Vec::new();
        for input in &args.inputs {
            match collect_inputs(input) {
                Ok(found) => clips.extend(found),
                Err(message) => {
                    eprintln!("{}: {message}", input.display());
                    failed = true;
                }
            }
        }
        (clips, args.out.clone())
    };
    if clips.len() > 1 && (args.json.is_some() || args.png.is_some()) {
        return usage_error("--json and --png name one file: with several clips, use --out DIR");
    }
    if let Some(dir) = out_dir.as_mut()
        && let Err(e) = std::fs::create_dir_all(&*dir)
    {
        eprintln!("{}: {e}", dir.display());
        return ExitCode::from(1);
    }
    let summary_to_stderr = [&args.json, &args.png]
        .iter()
        .any(|o| o.as_deref() == Some(Path::new("-")));
    let stems = unique_stems(&clips);
    let progress = if clips.len() > 1 {
        let bar = ProgressBar::new(clips.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} clips, {elapsed} ({eta} left)")
                .expect("a valid template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    // One clip: a bar over its seconds (indicatif draws nothing when stderr is not a terminal).
    let seconds = if clips.len() == 1 {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} s {msg} {elapsed} ({eta} left)")
                .expect("a valid template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let show_seconds = |p: Progress| {
        if let Some(total_s) = p.total_s {
            seconds.set_length(total_s.ceil() as u64);
        }
        seconds.set_position(p.decoded_s as u64);
        if p.decoded {
            seconds.set_message("decoded; searching the archive");
        }
    };
    let analyzer = analyzer.with_progress(&show_seconds);
    // In parallel, each clip's summary kept for printing in input order.
    let results: Vec<Result<String, String>> = clips
        .par_iter()
        .zip(&stems)
        .map(|(clip, stem)| {
            let outputs = match &out_dir {
                Some(dir) => Outputs {
                    json: Some(dir.join(format!("{stem}.json"))),
                    png: Some(dir.join(format!("{stem}.png"))),
                },
                None => Outputs {
                    json: args.json.clone(),
                    png: args.png.clone(),
                },
            };
            let result = analyze_one(&analyzer, clip, &outputs).map_err(|e| error_line(clip, &e));
            progress.inc(1);
            result
        })
        .collect();
    progress.finish_and_clear();
    seconds.finish_and_clear();
    for result in results {
        match result {
            Ok(summary) if summary_to_stderr => eprint!("{summary}"),
            Ok(summary) => print!("{summary}"),
            Err(line) => {
                eprintln!("{line}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The one stderr line for a clip that failed: the error, prefixed with the clip's path unless
/// the error already names it.
fn error_line(clip: &Path, error: &clip_provenance::Error) -> String {
    let text = error.to_string();
    let path = clip.display().to_string();
    if text.contains(&path) {
        text
    } else {
        format!("{path}: {text}")
    }
}

/// The bundled archive's index: reused when it holds exactly the recordings `archive.txt`
/// names, otherwise built anew (a few seconds).
fn bundled_index(root: &Path) -> clip_provenance::Result<Index> {
    let list_path = root.join(BUNDLED_ARCHIVE);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| clip_provenance::Error::Io { path, source }
    };
    let list = std::fs::read_to_string(&list_path).map_err(io(&list_path))?;
    let names: Vec<&str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let dir = root.join(BUNDLED_INDEX);
    if let Ok(index) = Index::open(&dir) {
        let mut have: Vec<&str> = index.list().iter().map(|e| e.name.as_str()).collect();
        let mut want = names.clone();
        have.sort_unstable();
        want.sort_unstable();
        if have == want {
            return Ok(index);
        }
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
    }
    eprintln!(
        "indexing the bundled archive ({} recordings) into {}",
        names.len(),
        dir.display()
    );
    let mut index = Index::create(&dir, IndexSettings::default())?;
    for name in names {
        index.add_path(root.join("testdata/speech").join(name), None, false)?;
    }
    Ok(index)
}

/// Analyses one clip, writes its outputs and returns its summary (with the outputs' paths).
fn analyze_one(
    analyzer: &Analyzer,
    clip: &Path,
    outputs: &Outputs,
) -> clip_provenance::Result<String> {
    let analysis = analyzer.analyze_path_with_picture(clip)?;
    if let Some(path) = &outputs.json {
        analysis.report.write_json(path)?;
    }
    if let Some(path) = &outputs.png {
        analysis.write_png(path)?;
    }
    let mut summary = analysis.report.summary();
    for (kind, path) in [("report", &outputs.json), ("picture", &outputs.png)] {
        if let Some(path) = path.as_ref().filter(|p| p.as_os_str() != "-") {
            summary.push_str(&format!("  {kind}: {}\n", path.display()));
        }
    }
    Ok(summary)
}

/// The clips an input stands for: itself, or the media files below a folder in sorted order.
fn collect_inputs(input: &Path) -> Result<Vec<PathBuf>, String> {
    if !input.is_dir() {
        return Ok(vec![input.to_path_buf()]);
    }
    let found = clip_provenance::media_files_in(input).map_err(|e| e.to_string())?;
    if found.is_empty() {
        return Err("no media file in this folder".into());
    }
    Ok(found)
}

/// `stem`, `stem-2`, `stem-3`, … in input order.
fn unique_stems(clips: &[PathBuf]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    clips
        .iter()
        .map(|clip| {
            let stem = clip
                .file_stem()
                .map_or_else(|| "clip".into(), |s| s.to_string_lossy().into_owned());
            let count = seen.entry(stem.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                stem
            } else {
                format!("{stem}-{count}")
            }
        })
        .collect()
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}
