//! Storage drivers: where a layer's files live and how a diff is applied to them (Docker's
//! graph drivers).

mod overlay2;
mod vfs;

use std::fmt;
use std::path::{Path, PathBuf};

pub use overlay2::Overlay2;
pub use vfs::Vfs;

use crate::Error;
use crate::changes::{self, Change};
use crate::diff::LayerDiff;

/// A storage driver: keeps one directory of files per layer ID, applies diffs, and mounts
/// layers for use.
///
/// IDs are the random cache IDs the layer store assigns; the driver never sees ChainIDs.
///
/// ```
/// use imgsvc_layerstore::driver::{Driver, Vfs};
/// use imgsvc_layerstore::{Change, ChangeKind};
///
/// let root = tempfile::tempdir()?;
/// let vfs = Vfs::open(root.path().join("vfs"))?;
/// assert_eq!(vfs.name(), "vfs");
/// assert!(vfs.status().is_empty());
/// // Layer IDs are 64 hexadecimal digits (the layer store makes random ones).
/// let (base, child) = ("a".repeat(64), "b".repeat(64));
/// vfs.create(&base, None)?;
/// std::fs::write(vfs.diff_dir(&base)?.join("file"), b"1")?;
/// vfs.create_read_write(&child, Some(base.as_str()))?; // vfs copies the parent's tree
/// let rootfs = vfs.get(&child)?;
/// assert!(rootfs.join("file").exists());
/// std::fs::write(rootfs.join("new"), b"22")?;
/// vfs.put(&child)?;
///
/// let added = Change { path: "/new".into(), kind: ChangeKind::Add };
/// assert_eq!(vfs.changes(&child, Some(base.as_str()))?, [added]);
/// assert_eq!(vfs.diff_size(&child, Some(base.as_str()))?, 2);
/// assert!(vfs.metadata(&child)?.is_empty()); // overlay2 lists its directories here
/// vfs.remove(&child)?;
/// assert!(!vfs.exists(&child) && vfs.exists(&base));
/// vfs.cleanup()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Driver: Send + Sync + fmt::Debug {
    /// The driver's name, as Docker reports it (`vfs`, `overlay2`).
    fn name(&self) -> &'static str;

    /// Status pairs as `docker info` shows them.
    fn status(&self) -> Vec<(String, String)>;

    /// Creates a read-only layer `id` on top of `parent`.
    fn create(&self, id: &str, parent: Option<&str>) -> Result<(), Error>;

    /// Creates a read-write layer `id` on top of `parent`; by default as [`create`](Self::create)
    /// does (both drivers here keep read-only and read-write layers alike).
    fn create_read_write(&self, id: &str, parent: Option<&str>) -> Result<(), Error> {
        self.create(id, parent)
    }

    /// Whether a layer's diff can be applied before its parent is known: its files do not
    /// depend on the parent's (overlay2 keeps each layer's own changes in its own directory;
    /// vfs copies the parent first). Such layers can be extracted in parallel and given
    /// their parent with [`set_parent`](Self::set_parent) when committed in order.
    fn applies_without_parent(&self) -> bool {
        false
    }

    /// Gives layer `id`, created without a parent, the parent `parent`. Only for drivers
    /// that [apply without a parent](Self::applies_without_parent).
    fn set_parent(&self, id: &str, parent: Option<&str>) -> Result<(), Error> {
        let _ = (id, parent);
        Err(Error::Unsupported {
            driver: self.name(),
            reason: "layers cannot be given a parent after their creation".to_owned(),
        })
    }

    /// Removes layer `id` and its files; a missing layer is not an error.
    fn remove(&self, id: &str) -> Result<(), Error>;

    /// True if layer `id` exists.
    fn exists(&self, id: &str) -> bool;

    /// Makes layer `id`'s whole filesystem available and returns its path (a mount for
    /// overlay2, the directory itself for vfs).
    fn get(&self, id: &str) -> Result<PathBuf, Error>;

    /// Releases what [`get`](Self::get) made available.
    fn put(&self, id: &str) -> Result<(), Error>;

    /// Applies a layer diff to layer `id` (created with `parent`); returns the layer's size as
    /// the driver measures it.
    fn apply_diff(
        &self,
        id: &str,
        parent: Option<&str>,
        diff: &mut LayerDiff<'_>,
    ) -> Result<u64, Error>;

    /// The directory holding the files this layer itself added or changed (for vfs, the
    /// whole tree), from which a layer's tar is reproduced.
    fn diff_dir(&self, id: &str) -> Result<PathBuf, Error>;

    /// Removes leftovers at shutdown or open.
    fn cleanup(&self) -> Result<(), Error>;

    /// Where the driver keeps layer `id`, as `docker inspect` shows it under `GraphDriver`
    /// (overlay2: `LowerDir`, `UpperDir`, `WorkDir`, `MergedDir`; vfs: nothing).
    fn metadata(&self, id: &str) -> Result<Vec<(String, String)>, Error> {
        let _ = id;
        Ok(Vec::new())
    }

    /// What layer `id` changed relative to `parent` (or to nothing). The default compares
    /// the two mounted trees.
    fn changes(&self, id: &str, parent: Option<&str>) -> Result<Vec<Change>, Error> {
        let new = self.get(id)?;
        let old = match parent.map(|p| self.get(p)).transpose() {
            Ok(old) => old,
            Err(err) => {
                let _ = self.put(id);
                return Err(err);
            }
        };
        let result = changes::compare_trees(&new, old.as_deref());
        let _ = self.put(id);
        if let Some(parent) = parent {
            let _ = self.put(parent);
        }
        result
    }

    /// The size of what layer `id` added or changed relative to `parent`.
    fn diff_size(&self, id: &str, parent: Option<&str>) -> Result<u64, Error> {
        let changes = self.changes(id, parent)?;
        let root = self.get(id)?;
        let size = changes::changes_size(&root, &changes);
        self.put(id)?;
        Ok(size)
    }
}

/// Opens the best driver for `root` (a Docker-style data root): the driver whose data is
/// already there, else `overlay2` where this kernel and these privileges can mount overlays
/// (checked by mounting a tiny one), else `vfs`, whose status then says why overlay2 was not
/// used.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let driver = imgsvc_layerstore::driver::open_default(dir.path())?;
/// assert!(["overlay2", "vfs"].contains(&driver.name()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open_default(root: &Path) -> Result<Box<dyn Driver>, Error> {
    let has_vfs_data = root.join("vfs").is_dir() && !root.join("overlay2").is_dir();
    if has_vfs_data {
        return Ok(Box::new(Vfs::open(root.join("vfs"))?));
    }
    match Overlay2::open(root.join("overlay2")) {
        Ok(overlay) => Ok(Box::new(overlay)),
        Err(err) => {
            // Leave no empty overlay2 directory behind to confuse the next choice.
            let _ = std::fs::remove_dir(root.join("overlay2").join("l"));
            let _ = std::fs::remove_dir(root.join("overlay2"));
            let vfs = Vfs::open(root.join("vfs"))?.with_note(format!("overlay2 not used: {err}"));
            Ok(Box::new(vfs))
        }
    }
}
