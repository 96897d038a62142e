//! The raw splice-cue tracks of clips, as JSON lines: for studying the cues (per-cue AUCs,
//! thresholds) outside the fusion.
//!
//! ```text
//! cargo run --release --example cue_tracks -- [--config FILE] CLIP... > tracks.jsonl
//! ```
//! One line per clip: `{"clip": PATH, "duration_s": …, "cues": [CueTrack…]}`, the tracks in the
//! order of `CueKey::ALL`, each with its grid (`start_s`, `step_s`), `values`, `confidence`,
//! `scale` and `usability`. No archive is consulted. A clip that fails gives an error line on
//! standard error and the rest go on; exit status 1 if any failed, 2 for a usage error.
//! `examples/evaluate/cue_auc.py` reads this output against the benchmark's truth files.
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use clip_provenance::{Analyzer, Config};
use rayon::prelude::*;

#[derive(Parser)]
#[command(about = "Dump the raw splice-cue tracks of clips as JSON lines")]
struct Args {
    /// Analysis settings (JSON, as the analyze example's --config).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The clips.
    #[arg(required = true)]
    clips: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match args.config.as_deref().map(Config::from_json_file) {
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
        None => Config::default(),
    };
    let analyzer = match Analyzer::new(config) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let lines: Vec<Result<String, String>> = args
        .clips
        .par_iter()
        .map(|clip| {
            let analysis = analyzer
                .analyze_path_with_picture(clip)
                .map_err(|e| format!("{}: {e}", clip.display()))?;
            let line = serde_json::json!({
                "clip": clip.display().to_string(),
                "duration_s": analysis.report.duration_s,
                "cues": analysis.cues,
            });
            Ok(line.to_string())
        })
        .collect();
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for line in lines {
        match line {
            Ok(l) => {
                if writeln!(out, "{l}").is_err() {
                    return ExitCode::from(1);
                }
            }
            Err(e) => {
                eprintln!("{e}");
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
