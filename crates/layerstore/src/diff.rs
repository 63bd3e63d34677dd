//! [`LayerDiff`]: a layer's tar, entry by entry, on its way into a driver.

use std::io::Read;
use std::path::Path;

use crate::Error;
use crate::apply::{Applier, ApplyError, Item};

/// One step of a diff: hands the next entry to `apply`, or says the archive ended.
pub(crate) type NextEntry<'a> = dyn FnMut(&mut dyn FnMut(&Item<'_>, &mut dyn Read) -> Result<(), ApplyError>) -> Result<bool, Error>
    + 'a;

/// A layer diff being applied: the entries of a layer tar, read once, in order, while the
/// layer store hashes the stream and records its tar-split metadata.
///
/// A [`Driver`](crate::driver::Driver) receives one in
/// [`apply_diff`](crate::driver::Driver::apply_diff) and applies it to the layer's directory
/// with [`apply_to`](Self::apply_to).
///
/// ```
/// use imgsvc_layerstore::driver::{Driver, Vfs};
/// use imgsvc_layerstore::{Error, LayerDiff, LayerStore, Whiteouts};
/// use std::path::{Path, PathBuf};
///
/// /// A driver that keeps each layer's diff alone in its own directory, as overlay2 does.
/// #[derive(Debug)]
/// struct Diffs(Vfs);
///
/// impl Driver for Diffs {
///     fn name(&self) -> &'static str { "diffs" }
///     fn status(&self) -> Vec<(String, String)> { Vec::new() }
///     fn create(&self, id: &str, _parent: Option<&str>) -> Result<(), Error> { self.0.create(id, None) }
///     fn remove(&self, id: &str) -> Result<(), Error> { self.0.remove(id) }
///     fn exists(&self, id: &str) -> bool { self.0.exists(id) }
///     fn get(&self, id: &str) -> Result<PathBuf, Error> { self.0.get(id) }
///     fn put(&self, id: &str) -> Result<(), Error> { self.0.put(id) }
///     fn cleanup(&self) -> Result<(), Error> {
///         self.0.cleanup()
///     }
///     fn diff_dir(&self, id: &str) -> Result<PathBuf, Error> { self.0.diff_dir(id) }
///     fn apply_diff(&self, id: &str, _parent: Option<&str>, diff: &mut LayerDiff<'_>) -> Result<u64, Error> {
///         // Whiteouts as overlayfs expects them (0/0 character devices), here with the
///         // xattr an unprivileged overlay mount reads.
///         diff.apply_to(&self.0.diff_dir(id)?, Whiteouts::Overlay { opaque_xattr: "user.overlay.opaque" })
///     }
/// }
///
/// let root = tempfile::tempdir()?;
/// let driver = Diffs(Vfs::open(root.path().join("vfs"))?);
/// let store = LayerStore::open(root.path().join("layerdb"), Box::new(driver))?;
/// let mut builder = tar::Builder::new(Vec::new());
/// let mut header = tar::Header::new_ustar();
/// header.set_size(1);
/// header.set_mode(0o644);
/// header.set_cksum();
/// builder.append_data(&mut header, "a", &b"1"[..])?;
/// let layer = store.register(&builder.into_inner()?[..], None)?;
/// assert_eq!(layer.size(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LayerDiff<'a> {
    next: &'a mut NextEntry<'a>,
    stash: Option<std::path::PathBuf>,
}

/// How a driver wants whiteout entries applied.
pub use crate::apply::Whiteouts;

impl<'a> LayerDiff<'a> {
    pub(crate) fn new(
        next: &'a mut NextEntry<'a>,
        stash: Option<std::path::PathBuf>,
    ) -> LayerDiff<'a> {
        LayerDiff { next, stash }
    }

    /// Applies every entry to the directory `dir` and returns the layer's size (the sum of
    /// the entries' header sizes, as Docker counts it).
    pub fn apply_to(&mut self, dir: &Path, whiteouts: Whiteouts) -> Result<u64, Error> {
        let mut applier = Applier::new(dir, whiteouts)?;
        if let Some(stash) = self.stash.take() {
            applier = applier.with_stash(stash);
        }
        while (self.next)(&mut |item, body| applier.apply(item, body))? {}
        Ok(applier.finish()?)
    }
}
