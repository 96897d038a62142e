//! A valid index with its manifest or segment damaged by the input, opened and queried.
use std::path::Path;

// `fuzz_nohook`: a panic that reaches this closure aborts (a finding); one the library catches
// itself (a dependency's, see `unpanicked` in src/decode.rs) is no finding.
fn main() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let fixture = clip_provenance_fuzz::IndexFixture::new(
        &root.join(clip_provenance_fuzz::SPEECH_FILE),
        &std::env::temp_dir().join("clip-provenance-fuzz-index_open"),
    );
    afl::fuzz_nohook!(|data: &[u8]| {
        fixture.index_open(data);
    });
}
