//! Builds and inspects an archive index of reference recordings.
//!
//! ```text
//! cargo run --release --example index -- DIR add [--replace] FILE|FOLDER...   # creates the index at DIR when absent
//! cargo run --release --example index -- DIR list            # name<TAB>duration_s<TAB>added (RFC 3339)
//! cargo run --release --example index -- DIR remove NAME...
//! cargo run --release --example index -- DIR compact         # merge segments, drop removed postings
//! ```
//! Adding a folder walks it recursively in sorted path order, keeping media files by extension,
//! with a progress bar; a file that cannot be added gets one line on stderr and the rest go on.
//! Exit status: 0 when everything succeeded, 1 when any file failed, 2 for a usage error.
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use clip_provenance::Index;

#[derive(Parser)]
#[command(about = "Build and inspect an archive index of reference recordings")]
struct Args {
    /// The index directory.
    dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add recordings (files, or folders walked for media files); creates the index when absent.
    Add {
        /// Replace a reference of the same name instead of failing for that file.
        #[arg(long)]
        replace: bool,
        /// Files or folders.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// One line per reference: name, duration in seconds, when added.
    List,
    /// Remove references by name.
    Remove {
        /// Reference names, as `list` shows them.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Merge all segments into one and drop removed references' postings.
    Compact,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("{}: {e}", args.dir.display());
            ExitCode::from(1)
        }
    }
}

/// Ok(false) when some input failed (already reported).
fn run(args: &Args) -> clip_provenance::Result<bool> {
    match &args.command {
        Command::Add { replace, inputs } => {
            let mut index = Index::open_or_create(&args.dir)?;
            let mut files = Vec::new();
            let mut ok = true;
            for input in inputs {
                if input.is_dir() {
                    let found = clip_provenance::media_files_in(input)?;
                    if found.is_empty() {
                        eprintln!("{}: no media file in this folder", input.display());
                        ok = false;
                    }
                    files.extend(found);
                } else {
                    files.push(input.clone());
                }
            }
            let bar = indicatif::ProgressBar::new(files.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}")
                    .expect("a valid template"),
            );
            for file in &files {
                bar.set_message(file.display().to_string());
                match index.add_path(file, None, *replace) {
                    // Printed through suspend: indicatif's println is silent off a terminal.
                    Ok(entry) => {
                        bar.suspend(|| println!("added {}\t{:.3}", entry.name, entry.duration_s))
                    }
                    Err(e) => {
                        bar.suspend(|| eprintln!("{}: {e}", file.display()));
                        ok = false;
                    }
                }
                bar.inc(1);
            }
            bar.finish_and_clear();
            Ok(ok)
        }
        Command::List => {
            let index = Index::open(&args.dir)?;
            for entry in index.list() {
                println!("{}\t{:.3}\t{}", entry.name, entry.duration_s, entry.added);
            }
            Ok(true)
        }
        Command::Remove { names } => {
            let mut index = Index::open(&args.dir)?;
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            index.remove(&names)?;
            Ok(true)
        }
        Command::Compact => {
            Index::open(&args.dir)?.compact()?;
            Ok(true)
        }
    }
}
