//! `tar_split`: the layer-registration and tar-stream paths of imgsvc-layerstore on a 64 MiB
//! in-memory tar of about 4,000 files of mixed sizes (empty to 256 KiB, 15 KiB on average, like
//! a distribution's `/usr`), reported in MB/s of tar.
//!
//! - `read`: the tar reader alone, every entry's data read into a 128 KiB buffer and dropped;
//! - `pack_plain` / `pack_gzip`: the same while a `Packer` records tar-split metadata (CRC-64
//!   of every file, JSON lines, and gzip as Docker stores it) — the registration pass minus
//!   hashing and writing files;
//! - `assemble`: rebuilding the tar from the gzip'd metadata and the files (from memory, as
//!   from the page cache), with every CRC checked — the `TarStream` path.
//!
//! Run with `cargo xtask bench` (or `cargo bench -p imgsvc-benches --bench tar_split`).
#![expect(
    clippy::panic,
    reason = "a benchmark that did not rebuild its input exactly must stop loudly"
)]

use std::collections::HashMap;
use std::hint::black_box;
use std::io::{self, Read};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imgsvc_layerstore::tar::{Observer, Reader};
use imgsvc_layerstore::tarsplit::{self, FileEntry, Packer, Unpacker};

const TAR_SIZE: usize = 64 << 20;
const BUFFER: usize = 128 << 10;

fn tar_split(c: &mut Criterion) {
    let (tar, files) = layer();
    let metadata = pack(&tar, Packer::new_gzip(Vec::new()));
    let plain = pack(&tar, Packer::new(Vec::new()));
    let rebuilt = assemble(&metadata, &files);
    if rebuilt != tar.len() as u64 {
        panic!("assembly produced {rebuilt} bytes, not {}", tar.len());
    }
    eprintln!(
        "tar_split: {} MiB tar, {} files; tar-split metadata {} KiB gzip'd ({} KiB plain)",
        tar.len() >> 20,
        files.len(),
        metadata.len() >> 10,
        plain.len() >> 10
    );

    let mut group = c.benchmark_group("tar_split");
    group.throughput(Throughput::Bytes(tar.len() as u64));
    group.sample_size(20);
    group.bench_function("read", |b| b.iter(|| read(black_box(&tar), ())));
    group.bench_function("pack_plain", |b| {
        b.iter(|| pack(black_box(&tar), Packer::new(Vec::with_capacity(4 << 20))))
    });
    group.bench_function("pack_gzip", |b| {
        b.iter(|| {
            pack(
                black_box(&tar),
                Packer::new_gzip(Vec::with_capacity(1 << 20)),
            )
        })
    });
    group.bench_function("assemble", |b| {
        b.iter(|| assemble(black_box(&metadata), &files))
    });
    group.finish();
}

/// Reads every entry's data into a buffer and drops it; returns the observer.
fn read<O: Observer>(tar: &[u8], observer: O) -> O {
    let mut reader = Reader::with_observer(tar, observer);
    let mut buf = vec![0u8; BUFFER];
    while let Some(mut entry) = reader
        .next_entry()
        .unwrap_or_else(|err| panic!("the generated tar is valid: {err}"))
    {
        loop {
            match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    black_box(&buf[..n]);
                }
                Err(err) => panic!("the generated tar is valid: {err}"),
            }
        }
    }
    reader.into_parts().1
}

/// Packs the tar's metadata; returns it.
fn pack(tar: &[u8], packer: Packer<Vec<u8>>) -> Vec<u8> {
    read(tar, packer)
        .finish()
        .unwrap_or_else(|err| panic!("writing to memory: {err}"))
}

/// Rebuilds the tar and returns its length.
fn assemble(metadata: &[u8], files: &HashMap<Vec<u8>, Vec<u8>>) -> u64 {
    let mut stream = tarsplit::assemble(Unpacker::new_gzip(metadata), |file: &FileEntry| {
        files
            .get(&file.name)
            .map(|data| &data[..])
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    });
    let mut buf = vec![0u8; BUFFER];
    let mut total = 0u64;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return total,
            Ok(n) => total += black_box(n) as u64,
            Err(err) => panic!("the files are intact: {err}"),
        }
    }
}

/// A ustar tar of files of mixed sizes in nested directories, and each file's content.
fn layer() -> (Vec<u8>, HashMap<Vec<u8>, Vec<u8>>) {
    // Sizes cycle through small, medium and large files; most files are small, most bytes are
    // in large ones, as in real layers (and in the 64 KiB and 128 KiB files of the `usr` trees
    // of distribution images).
    const SIZES: [usize; 16] = [
        0, 20, 35, 120, 300, 700, 1200, 1800, 3000, 4096, 6000, 9000, 15_000, 23_000, 70_000,
        260_000,
    ];
    let pool = imgsvc_benches::pseudo_random(2 << 20);
    let mut tar = Vec::with_capacity(TAR_SIZE + (1 << 20));
    let mut files = HashMap::new();
    let mut i = 0usize;
    while tar.len() < TAR_SIZE {
        if i.is_multiple_of(50) {
            header(
                &mut tar,
                format!("usr/lib/pkg-{}/", i / 50).as_bytes(),
                b'5',
                0,
            );
        }
        let size = SIZES[(i * 7) % SIZES.len()] / (1 + i % 3);
        let name = format!("usr/lib/pkg-{}/file-{i}.so", i / 50).into_bytes();
        let start = (i * 4099) % (pool.len() - size + 1);
        let data = pool[start..start + size].to_vec();
        header(&mut tar, &name, b'0', size);
        tar.extend_from_slice(&data);
        tar.resize(tar.len().next_multiple_of(512), 0);
        files.insert(name, data);
        i += 1;
    }
    tar.extend_from_slice(&[0; 1024]);
    (tar, files)
}

/// Appends a ustar header block.
fn header(tar: &mut Vec<u8>, name: &[u8], typeflag: u8, size: usize) {
    let mut block = [0u8; 512];
    block[..name.len()].copy_from_slice(name);
    block[100..108].copy_from_slice(b"0000644\0");
    block[108..116].copy_from_slice(b"0000000\0");
    block[116..124].copy_from_slice(b"0000000\0");
    block[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    block[136..148].copy_from_slice(b"14707264640\0");
    block[156] = typeflag;
    block[257..265].copy_from_slice(b"ustar\x0000");
    block[148..156].copy_from_slice(b"        ");
    let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
    block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    tar.extend_from_slice(&block);
}

criterion_group!(benches, tar_split);
criterion_main!(benches);
