//! Arbitrary fingerprints queried against a valid index.
use std::path::Path;

fn main() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let fixture = clip_provenance_fuzz::IndexFixture::new(
        &root.join(clip_provenance_fuzz::SPEECH_FILE),
        &std::env::temp_dir().join("clip-provenance-fuzz-index_query"),
    );
    afl::fuzz!(|data: &[u8]| {
        fixture.index_query(data);
    });
}
