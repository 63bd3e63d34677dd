//! Shared fixtures: a fake layer provider that counts references, configs with layers, and
//! the committed real configs.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use imgsvc_imagestore::layerstore::{ChainId, DiffId, Metadata};
use imgsvc_imagestore::{FsBackend, ImageStore, LayerProvider};

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A layer provider over registered chains, counting references like Docker's layer store:
/// a chain is removed (and reported) when its last reference goes.
#[derive(Debug, Default)]
pub(crate) struct FakeLayers {
    chains: Mutex<HashMap<ChainId, usize>>,
}

impl FakeLayers {
    pub(crate) fn with(chains: &[ChainId]) -> FakeLayers {
        let fake = FakeLayers::default();
        for chain in chains {
            fake.register(*chain);
        }
        fake
    }

    /// Registers a chain with no references (as a layer store starts every layer).
    pub(crate) fn register(&self, chain: ChainId) {
        self.chains
            .lock()
            .expect("not poisoned")
            .entry(chain)
            .or_insert(0);
    }

    /// The references held on `chain`; `None` once it was removed.
    pub(crate) fn references(&self, chain: ChainId) -> Option<usize> {
        self.chains
            .lock()
            .expect("not poisoned")
            .get(&chain)
            .copied()
    }
}

impl LayerProvider for FakeLayers {
    type Handle = ChainId;

    fn try_get(&self, chain_id: ChainId) -> Result<Option<ChainId>, imgsvc_layerstore::Error> {
        let mut chains = self.chains.lock().expect("not poisoned");
        Ok(chains.get_mut(&chain_id).map(|refs| {
            *refs += 1;
            chain_id
        }))
    }

    fn release(&self, chain_id: ChainId) -> Result<Vec<Metadata>, imgsvc_layerstore::Error> {
        let mut chains = self.chains.lock().expect("not poisoned");
        let refs = chains
            .get_mut(&chain_id)
            .ok_or(imgsvc_layerstore::Error::LayerNotRetained { chain_id })?;
        *refs -= 1;
        if *refs > 0 {
            return Ok(Vec::new());
        }
        chains.remove(&chain_id);
        Ok(vec![Metadata {
            chain_id,
            diff_id: DiffId::new(chain_id.digest()),
            size: 0,
            diff_size: 0,
        }])
    }
}

/// The DiffID of some made-up layer `n`.
pub(crate) fn diff_id(n: u32) -> DiffId {
    DiffId::new(imgsvc_imagestore::digest::Digest::from_bytes(
        &n.to_le_bytes(),
    ))
}

/// A linux config whose layers are `diff_ids`, made distinct by `comment`.
pub(crate) fn config_with_layers(comment: &str, diff_ids: &[DiffId]) -> Vec<u8> {
    let ids: Vec<String> = diff_ids.iter().map(|d| format!("\"{d}\"")).collect();
    format!(
        r#"{{"comment":"{comment}","os":"linux","rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
        ids.join(",")
    )
    .into_bytes()
}

/// A config without layers, made distinct by `comment`.
pub(crate) fn config(comment: &str) -> Vec<u8> {
    config_with_layers(comment, &[])
}

/// A committed fixture's bytes.
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/imagestore/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()))
}

/// The imagedb directory under a data root.
pub(crate) fn imagedb(root: &Path) -> std::path::PathBuf {
    root.join("image/vfs/imagedb")
}

/// An image store over an `FsBackend` under `root`, with `layers`.
pub(crate) fn fs_store<L: LayerProvider>(root: &Path, layers: L) -> ImageStore<FsBackend, L> {
    let backend = FsBackend::open(imagedb(root)).expect("the backend opens");
    ImageStore::open(backend, layers).expect("the store opens")
}
