//! `digest_hash`: SHA-256 throughput of imgsvc-digest's `Digester` and `VerifyingReader` on
//! 64 MiB, side by side with raw `sha2::Sha256` on the same buffer.
//!
//! Two pairs are measured, each against a baseline doing the same memory traffic:
//! - `sha2_update` vs `digester_update`: one call over the whole buffer;
//! - `sha2_read_loop` vs `verifying_reader`: the buffer read through `io::Read` into a
//!   128 KiB scratch buffer, hashing each chunk (the shape of a blob download).
//!
//! Run with `cargo xtask bench` (or `cargo bench -p imgsvc-benches --bench digest_hash`).
#![expect(
    clippy::panic,
    reason = "a benchmark that hashed the wrong content must stop loudly"
)]

use std::hint::black_box;
use std::io::Read;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imgsvc_digest::{Digest, Digester, VerifyingReader};
use sha2::Digest as _;

const LEN: usize = 64 << 20;
const CHUNK: usize = 128 << 10;

fn digest_hash(c: &mut Criterion) {
    report_sha_extensions();
    let data = imgsvc_benches::pseudo_random(LEN);
    let expected = Digest::from_bytes(&data);

    let mut group = c.benchmark_group("digest_hash");
    group.throughput(Throughput::Bytes(LEN as u64));
    group.sample_size(20);

    group.bench_function("sha2_update", |b| {
        b.iter(|| black_box(sha2::Sha256::digest(black_box(&data))))
    });
    group.bench_function("digester_update", |b| {
        b.iter(|| {
            let mut digester = Digester::default();
            digester.update(black_box(&data));
            black_box(digester.finish())
        })
    });

    let mut scratch = vec![0u8; CHUNK];
    group.bench_function("sha2_read_loop", |b| {
        b.iter(|| {
            let mut source = black_box(&data[..]);
            let mut hasher = sha2::Sha256::new();
            loop {
                let n = source.read(&mut scratch).unwrap_or(0);
                if n == 0 {
                    break;
                }
                hasher.update(&scratch[..n]);
            }
            black_box(hasher.finalize())
        })
    });
    group.bench_function("verifying_reader", |b| {
        b.iter(|| {
            let mut reader = VerifyingReader::with_size(black_box(&data[..]), expected, LEN as u64);
            loop {
                match reader.read(&mut scratch) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(err) => panic!("the buffer's own digest must verify: {err}"),
                }
            }
            black_box(reader.is_verified())
        })
    });
    group.finish();
}

/// Says whether this CPU offers the SHA extensions that `sha2` picks at run time.
fn report_sha_extensions() {
    #[cfg(target_arch = "x86_64")]
    {
        let sha = std::arch::is_x86_feature_detected!("sha");
        let sse41 = std::arch::is_x86_feature_detected!("sse4.1");
        eprintln!(
            "digest_hash: CPU SHA extensions (sha + sse4.1): {}",
            sha && sse41
        );
    }
}

criterion_group!(benches, digest_hash);
criterion_main!(benches);
