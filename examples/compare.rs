//! Where does recording A occur in recording B, and B in A?
//!
//! ```text
//! cargo run --release --example compare -- A B
//! ```
//! Each direction is a query of one file against a temporary index of the other; every match is
//! printed with both time intervals, the speed and the confidence (matches at ≥ 0.5 are asserted).
//! Exit status: 0 on success (whether or not anything matched), 1 on an error, 2 for a usage error.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use clip_provenance::{Index, IndexSettings, format_clock};

#[derive(Parser)]
#[command(about = "Where does recording A occur in recording B, and B in A?")]
struct Args {
    /// The first recording.
    a: PathBuf,
    /// The second recording.
    b: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut ok = true;
    for (query, reference) in [(&args.a, &args.b), (&args.b, &args.a)] {
        if let Err(e) = compare(query, reference) {
            eprintln!("{}: {e}", query.display());
            ok = false;
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn compare(query: &Path, reference: &Path) -> clip_provenance::Result<()> {
    let dir = std::env::temp_dir().join(format!("clip-provenance-compare-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let result = (|| {
        let mut index = Index::create(&dir, IndexSettings::default())?;
        index.add_path(reference, None, false)?;
        let matches = index.query_path(query)?;
        println!("{} in {}:", query.display(), reference.display());
        if matches.is_empty() {
            println!("  no match");
        }
        for m in matches {
            println!(
                "  {}–{} = {}–{}  speed {:.3}  confidence {:.3}  ({} landmarks agree){}",
                format_clock(m.clip_start_s),
                format_clock(m.clip_end_s),
                format_clock(m.reference_start_s),
                format_clock(m.reference_end_s),
                m.speed,
                m.confidence,
                m.support,
                if m.confidence >= 0.5 {
                    ""
                } else {
                    "  (weak, not asserted)"
                }
            );
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
