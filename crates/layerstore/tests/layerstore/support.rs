//! Test fixtures: layer trees built on disk and packed with GNU tar.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use imgsvc_layerstore::driver::{Driver, Overlay2, Vfs};
use imgsvc_layerstore::{Layer, LayerStore, RwLayerOptions};

/// Which storage driver a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Vfs,
    Overlay2,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Vfs => "vfs",
            Kind::Overlay2 => "overlay2",
        }
    }
}

/// A temporary root with a layer store over one driver.
pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) store: LayerStore,
    pub(crate) kind: Kind,
}

impl Fixture {
    /// A fixture, or `None` (with the reason printed) when the driver cannot work here.
    pub(crate) fn new(kind: Kind) -> Option<Fixture> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        match open(dir.path(), kind) {
            Ok(store) => Some(Fixture { dir, store, kind }),
            Err(reason) => {
                println!("skipped on {}: {reason}", kind.name());
                None
            }
        }
    }

    pub(crate) fn reopen(&mut self) {
        self.store = open(self.dir.path(), self.kind).expect("the store reopens");
    }

    pub(crate) fn layerdb(&self) -> PathBuf {
        self.dir
            .path()
            .join(format!("image/{}/layerdb", self.kind.name()))
    }

    /// The driver's layer directories.
    pub(crate) fn driver_dirs(&self) -> Vec<PathBuf> {
        let dir = match self.kind {
            Kind::Vfs => self.dir.path().join("vfs/dir"),
            Kind::Overlay2 => self.dir.path().join("overlay2"),
        };
        let mut found: Vec<PathBuf> = fs::read_dir(&dir)
            .expect("the driver directory exists")
            .map(|e| e.expect("listing").path())
            .filter(|p| !p.ends_with("l"))
            .collect();
        found.sort();
        found
    }

    /// Runs `check` on the whole filesystem of `layer`, seen through a read-write layer.
    pub(crate) fn with_tree(&self, layer: &Layer, check: impl FnOnce(&Path)) {
        let rw = self
            .store
            .create_rw_layer("inspect", Some(layer.chain_id()), RwLayerOptions::default())
            .expect("a read-write layer for inspection");
        let root = self.store.mount(&rw).expect("mounting");
        check(&root);
        self.store.unmount(&rw).expect("unmounting");
        self.store.release_rw_layer(rw).expect("releasing");
    }
}

pub(crate) fn open(root: &Path, kind: Kind) -> Result<LayerStore, String> {
    let driver: Box<dyn Driver> = match kind {
        Kind::Vfs => Box::new(Vfs::open(root.join("vfs")).map_err(|e| e.to_string())?),
        Kind::Overlay2 => {
            Box::new(Overlay2::open(root.join("overlay2")).map_err(|e| e.to_string())?)
        }
    };
    LayerStore::open(root.join(format!("image/{}/layerdb", kind.name())), driver)
        .map_err(|e| e.to_string())
}

/// Declares each test once per driver: `name::vfs` and `name::overlay2`.
macro_rules! driver_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use crate::support::{Fixture, Kind};

                #[test]
                fn vfs() {
                    if let Some(fx) = Fixture::new(Kind::Vfs) {
                        super::$name(fx);
                    }
                }

                #[test]
                fn overlay2() {
                    if let Some(fx) = Fixture::new(Kind::Overlay2) {
                        super::$name(fx);
                    }
                }
            }
        )*
    };
}
pub(crate) use driver_tests;

/// Builds a tree from `(path, content)` pairs (a path ending in `/` is a directory) under a
/// fresh directory and returns the tar GNU tar makes of it (sorted, fixed times).
pub(crate) fn tar_of(files: &[(&str, &str)]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let tree = dir.path().join("tree");
    fs::create_dir(&tree).expect("mkdir");
    for (path, content) in files {
        let full = tree.join(path.trim_end_matches('/'));
        if path.ends_with('/') {
            fs::create_dir_all(&full).expect("mkdir");
        } else {
            if let Some(parent) = full.parent() {
                fs::create_dir_all(parent).expect("mkdir");
            }
            fs::write(&full, content).expect("write");
        }
    }
    tar_dir(&tree)
}

/// GNU tar of a directory's contents, deterministic.
pub(crate) fn tar_dir(tree: &Path) -> Vec<u8> {
    let out = Command::new("tar")
        .args([
            "--sort=name",
            "--mtime=@1600000000",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
        ])
        .arg("-C")
        .arg(tree)
        .args(["-cf", "-", "."])
        .output()
        .expect("GNU tar runs");
    assert!(
        out.status.success(),
        "tar failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
