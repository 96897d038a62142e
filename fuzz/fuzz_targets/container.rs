//! Arbitrary bytes, with a first byte choosing the file-name hint, through the container reader.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        clip_provenance_fuzz::container(data);
    });
}
