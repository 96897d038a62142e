//! Arbitrary bytes, with a first byte choosing the file-name hint, through the whole analysis.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        clip_provenance_fuzz::decode_analyze(data);
    });
}
