//! Analyses clips and writes their reports: the main job, from a shell.
//!
//! ```text
//! cargo run --release --example analyze                      # the bundled clip in testdata/
//! cargo run --release --example analyze -- [--index DIR] [--config FILE] [--json FILE] [--png FILE] CLIP
//! cargo run --release --example analyze -- [--index DIR] [--config FILE] --out DIR CLIP|FOLDER...
//! ```
//! The human summary of each clip goes to stdout (to stderr when an output is `-`). With no
//! clip, the bundled one is analysed and its report written to `target/analyze/<stem>.json` and
//! `.png`. Folders are walked recursively in sorted path order, keeping media files by extension;
//! two inputs with the same stem get `stem`, `stem-2`, … Exit status: 0 when every input gave a
//! report, 1 when any gave an error (one line on stderr each; the others are still processed),
//! 2 for a usage error. The command line is a contract (DESIGN.md): flags are added, never renamed.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use clip_provenance::{Analyzer, Config, Index};

/// The clip analysed when none is given: a Zoom-like MP4 (a video stream, then AAC audio).
const BUNDLED_CLIP: &str = "testdata/aac-lc-32k-mono-h264-video-first.mp4";

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
    let index = match args.index.as_deref().map(Index::open).transpose() {
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
    let (clips, mut out_dir) = if args.inputs.is_empty() {
        // Relative to the project when run from it (as the README does), so paths read short.
        let root = if Path::new(BUNDLED_CLIP).exists() {
            PathBuf::new()
        } else {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        };
        let bundled = root.join(BUNDLED_CLIP);
        let default_out = (args.json.is_none() && args.png.is_none() && args.out.is_none())
            .then(|| root.join("target/analyze"));
        (vec![bundled], args.out.clone().or(default_out))
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
    for (clip, stem) in clips.iter().zip(&stems) {
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
        if let Err(e) = analyze_one(&analyzer, clip, &outputs, summary_to_stderr) {
            eprintln!("{}: {e}", clip.display());
            failed = true;
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn analyze_one(
    analyzer: &Analyzer,
    clip: &Path,
    outputs: &Outputs,
    summary_to_stderr: bool,
) -> clip_provenance::Result<()> {
    let analysis = analyzer.analyze_path_with_picture(clip)?;
    if let Some(path) = &outputs.json {
        analysis.report.write_json(path)?;
    }
    if let Some(path) = &outputs.png {
        analysis.write_png(path)?;
    }
    let summary = analysis.report.summary();
    if summary_to_stderr {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    for (kind, path) in [("report", &outputs.json), ("picture", &outputs.png)] {
        if let Some(path) = path.as_ref().filter(|p| p.as_os_str() != "-") {
            let line = format!("  {kind}: {}", path.display());
            if summary_to_stderr {
                eprintln!("{line}")
            } else {
                println!("{line}")
            }
        }
    }
    Ok(())
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
