//! `layer_register`: registering a generated 64 MiB layer tar (many files of mixed sizes)
//! with each storage driver, and rebuilding its tar from disk.
//!
//! The whole-command comparison with GNU tar on real files is in `cargo xtask bench`.
#![expect(
    clippy::panic,
    reason = "a benchmark that cannot reproduce its layer must stop loudly"
)]
#![expect(clippy::expect_used, reason = "benchmark setup fails loudly")]

use std::hint::black_box;
use std::io::Read;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imgsvc_layerstore::LayerStore;
use imgsvc_layerstore::driver::{Driver, Overlay2, Vfs};

/// A tar of `count` files whose sizes cycle from 100 bytes to 1 MiB.
fn layer_tar(total: usize) -> Vec<u8> {
    let data = imgsvc_benches::pseudo_random(1 << 20);
    let sizes = [100usize, 4 << 10, 32 << 10, 256 << 10, 1 << 20];
    let mut out = Vec::with_capacity(total + (1 << 20));
    let mut i = 0usize;
    while out.len() < total {
        let size = sizes[i % sizes.len()];
        let name = format!("dir{}/file{i}", i % 64);
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
        out.extend_from_slice(&data[..size]);
        out.resize(out.len().next_multiple_of(512), 0);
        i += 1;
    }
    out.resize(out.len() + 1024, 0);
    out
}

fn open(kind: &str, root: &std::path::Path) -> Option<LayerStore> {
    let driver: Box<dyn Driver> = match kind {
        "vfs" => Box::new(Vfs::open(root.join("vfs")).ok()?),
        _ => match Overlay2::open(root.join("overlay2")) {
            Ok(driver) => Box::new(driver),
            Err(err) => {
                eprintln!("layer_register: overlay2 skipped: {err}");
                return None;
            }
        },
    };
    LayerStore::open(root.join("image").join(kind).join("layerdb"), driver).ok()
}

fn layer_register(c: &mut Criterion) {
    let tar = layer_tar(64 << 20);
    let mut group = c.benchmark_group("layer_register");
    group.throughput(Throughput::Bytes(tar.len() as u64));
    group.sample_size(10);
    for kind in ["vfs", "overlay2"] {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let Some(store) = open(kind, dir.path()) else {
            continue;
        };
        group.bench_function(format!("register/{kind}"), |b| {
            b.iter(|| {
                let layer = store
                    .register(black_box(&tar[..]), None)
                    .expect("registering");
                store.release(layer).expect("releasing");
            })
        });
        let layer = store.register(&tar[..], None).expect("registering");
        let mut out = vec![0u8; 256 << 10];
        group.bench_function(format!("tar_stream/{kind}"), |b| {
            b.iter(|| {
                let mut stream = store.tar_stream(&layer).expect("a stream");
                let mut total = 0usize;
                loop {
                    match stream.read(&mut out) {
                        Ok(0) => break,
                        Ok(n) => total += n,
                        Err(err) => panic!("the layer must reproduce: {err}"),
                    }
                }
                black_box(total)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, layer_register);
criterion_main!(benches);
