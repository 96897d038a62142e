//! Arbitrary bytes, with a first byte choosing the file-name hint, through the whole analysis.
// `fuzz_nohook`: a panic that reaches this closure aborts (a finding); one the library catches
// itself (a dependency's, see `unpanicked` in src/decode.rs) is no finding.
fn main() {
    afl::fuzz_nohook!(|data: &[u8]| {
        clip_provenance_fuzz::decode_analyze(data);
    });
}
