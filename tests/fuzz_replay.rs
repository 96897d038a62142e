//! Every input a fuzz target ever crashed on, and a few from its corpus that reach deep code, kept
//! in `testdata/fuzz/<target>/` and replayed here through the very code the target runs
//! (`fuzz/src/lib.rs`, included by path), so `cargo test` checks them with no fuzzer installed
//! (as hound's `fuzz_crashes_should_be_fixed` does). See fuzz/README.md.

#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// A target: its name (its folder in testdata/fuzz/) and what it runs on an input.
type Target<'a> = (&'a str, &'a dyn Fn(&[u8]));

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/fuzz")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("lists the directory").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn fuzz_inputs_should_be_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = std::env::temp_dir().join(format!(
        "clip-provenance-fuzz-replay-{}",
        std::process::id()
    ));
    let fixture = harness::IndexFixture::new(&root.join(harness::SPEECH_FILE), &scratch);
    let targets: [Target; 4] = [
        ("decode_analyze", &harness::decode_analyze),
        ("container", &harness::container),
        ("index_open", &|d| fixture.index_open(d)),
        ("index_query", &|d| fixture.index_query(d)),
    ];
    let mut failed = Vec::new();
    let mut replayed = 0;
    for (target, run) in targets {
        let files = inputs(target);
        assert!(!files.is_empty(), "testdata/fuzz/{target}/ holds no inputs");
        for file in files {
            let data = std::fs::read(&file).expect("reads a fuzz input");
            // A panic that escapes the library. (`decode_analyze` decodes on this thread before
            // the analyzer decodes on a thread of its own, so a decoder panic escapes here too.)
            if panic::catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
                failed.push(file.display().to_string());
            }
            replayed += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        failed.is_empty(),
        "{} of {replayed} fuzz inputs panicked: {failed:#?}",
        failed.len()
    );
}
