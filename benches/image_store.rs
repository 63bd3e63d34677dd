//! `image_store`: opening an image store of 10,000 images (read, verify, parse, take layer
//! references, read parents), searching it by a 12-character prefix, and listing its heads.
//!
//! Targets (issue): open under 300 ms, search under 5 µs.
#![expect(clippy::expect_used, reason = "benchmark setup fails loudly")]

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::Mutex;

use criterion::{Criterion, criterion_group, criterion_main};
use imgsvc_imagestore::layerstore::{ChainId, DiffId, Metadata};
use imgsvc_imagestore::{FsBackend, ImageId, ImageStore, LayerProvider};

const IMAGES: usize = 10_000;

/// A layer store in memory that knows every chain, with a lock and a map as the real one.
#[derive(Default)]
struct EveryLayer {
    references: Mutex<HashMap<ChainId, usize>>,
}

impl LayerProvider for EveryLayer {
    type Handle = ChainId;

    fn try_get(&self, chain_id: ChainId) -> Result<Option<ChainId>, imgsvc_layerstore::Error> {
        let mut references = self.references.lock().expect("not poisoned");
        *references.entry(chain_id).or_default() += 1;
        Ok(Some(chain_id))
    }

    fn release(&self, chain_id: ChainId) -> Result<Vec<Metadata>, imgsvc_layerstore::Error> {
        let mut references = self.references.lock().expect("not poisoned");
        if let Some(count) = references.get_mut(&chain_id) {
            *count = count.saturating_sub(1);
        }
        Ok(Vec::new())
    }
}

/// A realistic config (about 1.7 KB, five layers, history, run config), made unique by `n`.
fn config(n: usize) -> Vec<u8> {
    let diff_ids: Vec<String> = (0..5)
        .map(|layer| {
            let digest = imgsvc_imagestore::digest::Digest::from_bytes(
                format!("layer {} of image {n}", layer).as_bytes(),
            );
            format!("\"{}\"", DiffId::new(digest))
        })
        .collect();
    let history: Vec<String> = (0..5)
        .map(|layer| {
            format!(
                r#"{{"created":"2024-06-11T09:41:{layer:02}.047823667Z","created_by":"RUN /bin/sh -c apt-get install -y package-{layer} # buildkit","comment":"buildkit.dockerfile.v0"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"architecture":"amd64","config":{{"User":"app","ExposedPorts":{{"8080/tcp":{{}}}},"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","APP_BUILD={n}"],"Entrypoint":["/usr/bin/tini","--"],"Cmd":["/srv/app/bin/server"],"WorkingDir":"/srv/app","Labels":{{"org.opencontainers.image.version":"1.{n}"}},"StopSignal":"SIGTERM"}},"created":"2024-06-11T09:42:17.318245103Z","history":[{}],"os":"linux","rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
        history.join(","),
        diff_ids.join(",")
    )
    .into_bytes()
}

/// Writes the images in Docker's layout directly (no fsync: this is setup, not the subject);
/// every fourth image gets the one before it as parent.
fn populate(imagedb: &Path) -> Vec<ImageId> {
    FsBackend::open(imagedb).expect("the backend opens");
    let content = imagedb.join("content/sha256");
    let metadata = imagedb.join("metadata/sha256");
    let mut ids: Vec<ImageId> = Vec::with_capacity(IMAGES);
    for n in 0..IMAGES {
        let raw = config(n);
        let id = ImageId::of(&raw);
        std::fs::write(content.join(id.digest().encoded().as_str()), &raw).expect("writing");
        if n % 4 == 3
            && let Some(parent) = ids.last()
        {
            let dir = metadata.join(id.digest().encoded().as_str());
            std::fs::create_dir_all(&dir).expect("a metadata directory");
            std::fs::write(dir.join("parent"), parent.to_string()).expect("writing");
        }
        ids.push(id);
    }
    ids
}

fn image_store(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let imagedb = dir.path().join("image/vfs/imagedb");
    let ids = populate(&imagedb);
    let open = || {
        let backend = FsBackend::open(&imagedb).expect("the backend opens");
        ImageStore::open(backend, EveryLayer::default()).expect("the store opens")
    };

    let mut group = c.benchmark_group("image_store");
    group.sample_size(10);
    group.bench_function("open_10k", |b| b.iter(|| black_box(open())));
    group.finish();

    let store = open();
    assert_eq!(store.len().expect("a length"), IMAGES);
    let prefixes: Vec<String> = ids
        .iter()
        .map(|id| id.digest().short().to_string())
        .collect();
    let mut group = c.benchmark_group("image_store");
    let mut next = 0usize;
    group.bench_function("search_12_chars", |b| {
        b.iter(|| {
            next = (next + 1) % prefixes.len();
            black_box(store.search(&prefixes[next]).expect("found"))
        })
    });
    group.bench_function("heads_10k", |b| {
        b.iter(|| black_box(store.heads().expect("heads")))
    });
    group.finish();
}

criterion_group!(benches, image_store);
criterion_main!(benches);
