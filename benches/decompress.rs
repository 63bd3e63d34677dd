//! `decompress`: streaming gzip and zstd decoding of a 32 MiB layer tar through
//! imgsvc-distribution's `decompress::decoder`, side by side with the raw `flate2` and `zstd`
//! decoders on the same blob.
//!
//! The tar mixes text (configuration and source-like lines) with binary files that compress
//! about as well as executables do, so the ratio and the decoder's work resemble a real
//! layer. Both sides read into the same 128 KiB buffer; throughput is in uncompressed bytes.
//! The gap between a pair is the cost of our wrapper: magic-byte detection, the replayed
//! prefix, and a boxed reader.
//!
//! Run with `cargo xtask bench` (or `cargo bench -p imgsvc-benches --bench decompress`).
#![expect(
    clippy::panic,
    reason = "a benchmark that decoded the wrong content must stop loudly"
)]
#![expect(clippy::expect_used, reason = "benchmark setup fails loudly")]

use std::hint::black_box;
use std::io::{Read, Write};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imgsvc_distribution::decompress::{self, Compression};
use imgsvc_distribution::digest::Digest;

const LEN: usize = 32 << 20;
const CHUNK: usize = 128 << 10;

const WORDS: [&str; 24] = [
    "the", "layer", "config", "value", "return", "if", "else", "for", "import", "static", "const",
    "void", "int", "string", "error", "nil", "func", "self", "true", "false", "path", "usr", "lib",
    "share",
];

/// A text file: lines of words with numbers, like configuration files and sources.
fn text_file(size: usize, seed: &mut u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 80);
    while out.len() < size {
        let words = 3 + next(seed) % 9;
        for _ in 0..words {
            let word = WORDS[(next(seed) % WORDS.len() as u64) as usize];
            out.extend_from_slice(word.as_bytes());
            out.push(if next(seed).is_multiple_of(7) {
                b'_'
            } else {
                b' '
            });
        }
        let _ = write!(out, "{}", next(seed) % 10_000);
        out.push(b'\n');
    }
    out.truncate(size);
    out
}

/// A binary file that compresses like an executable: zero padding, repeated short
/// sequences, and stretches of high-entropy bytes.
fn binary_file(size: usize, seed: &mut u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 256);
    while out.len() < size {
        match next(seed) % 4 {
            0 => out.resize(out.len() + (next(seed) % 256) as usize, 0),
            1 if out.len() > 4096 => {
                let from = out.len() - 1 - (next(seed) % 4096) as usize;
                let len = 8 + (next(seed) % 56) as usize;
                for i in 0..len {
                    out.push(out[from + i % (out.len() - from)]);
                }
            }
            _ => {
                for _ in 0..(16 + next(seed) % 112) {
                    out.push((next(seed) >> 24) as u8);
                }
            }
        }
    }
    out.truncate(size);
    out
}

fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// A ustar archive of about `total` bytes: files from 200 bytes to 2 MiB, half text, half
/// binary by size.
fn layer_tar(total: usize) -> Vec<u8> {
    let sizes = [200usize, 1500, 6 << 10, 40 << 10, 300 << 10, 2 << 20];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut out = Vec::with_capacity(total + (4 << 20));
    let mut i = 0usize;
    while out.len() < total {
        let size = sizes[i % sizes.len()];
        let (name, data) = if i.is_multiple_of(2) {
            (
                format!("usr/share/doc/pkg{}/file{i}.txt", i % 40),
                text_file(size, &mut seed),
            )
        } else {
            (
                format!("usr/lib/pkg{}/lib{i}.so", i % 40),
                binary_file(size, &mut seed),
            )
        };
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..107].copy_from_slice(b"0000644");
        header[108..115].copy_from_slice(b"0000000");
        header[116..123].copy_from_slice(b"0000000");
        header[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        header[136..147].copy_from_slice(b"14247674400");
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&data);
        out.resize(out.len().next_multiple_of(512), 0);
        i += 1;
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// Reads `reader` to the end through a `CHUNK` buffer; returns the byte count.
fn drain(mut reader: impl Read, scratch: &mut [u8]) -> usize {
    let mut total = 0;
    loop {
        match reader.read(scratch) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(err) => panic!("the blob must decode: {err}"),
        }
    }
}

fn decompress(c: &mut Criterion) {
    let tar = layer_tar(LEN);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).expect("compressing into memory");
    let gzip = gz.finish().expect("compressing into memory");
    let zstd = zstd::stream::encode_all(&tar[..], 3).expect("compressing into memory");
    eprintln!(
        "decompress: tar {} bytes, gzip {} ({:.2}x), zstd {} ({:.2}x)",
        tar.len(),
        gzip.len(),
        tar.len() as f64 / gzip.len() as f64,
        zstd.len(),
        tar.len() as f64 / zstd.len() as f64,
    );

    let mut scratch = vec![0u8; CHUNK];
    let len = tar.len();
    for (name, blob) in [("gzip", &gzip), ("zstd", &zstd)] {
        let mut group = c.benchmark_group(format!("decompress_{name}"));
        group.throughput(Throughput::Bytes(len as u64));
        group.sample_size(10);
        let digest = Digest::from_bytes(blob);
        group.bench_function("raw", |b| {
            b.iter(|| {
                let n = match name {
                    "gzip" => drain(
                        flate2::read::MultiGzDecoder::new(black_box(&blob[..])),
                        &mut scratch,
                    ),
                    _ => drain(
                        zstd::stream::read::Decoder::new(black_box(&blob[..]))
                            .expect("a zstd context"),
                        &mut scratch,
                    ),
                };
                assert_eq!(n, len);
            })
        });
        group.bench_function("imgsvc", |b| {
            b.iter(|| {
                let hint = Some(if name == "gzip" {
                    Compression::Gzip
                } else {
                    Compression::Zstd
                });
                let reader = decompress::decoder(black_box(&blob[..]), hint, digest)
                    .expect("a supported blob");
                assert_eq!(drain(reader, &mut scratch), len);
            })
        });
        group.finish();
    }
}

criterion_group!(benches, decompress);
criterion_main!(benches);
