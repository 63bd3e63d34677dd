//! Shared helpers for the imgsvc benchmarks: deterministic input data.

mod references;

pub use references::reference_mix;

/// `len` bytes of deterministic, incompressible-looking data (xorshift64), so that every run
/// and every machine hashes the same input.
pub fn pseudo_random(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}
