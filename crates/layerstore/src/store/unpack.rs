//! Materializing a layer chain's whole filesystem in a directory of its own.

use std::path::Path;

use super::LayerStore;
use crate::{ChainId, Error, copy};

/// Unpacking
impl LayerStore {
    /// Copies the whole filesystem of the layer `chain_id` (all its layers, whiteouts
    /// applied) into `dest`, which must not exist yet: contents, modes, owners, links,
    /// devices, extended attributes and times, as `umoci unpack` gives an image's rootfs.
    /// The layer is held while it is copied.
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// # let mut builder = tar::Builder::new(Vec::new());
    /// # let mut header = tar::Header::new_ustar();
    /// # header.set_size(3);
    /// # header.set_mode(0o644);
    /// # header.set_cksum();
    /// # builder.append_data(&mut header, "hello", &b"hi\n"[..])?;
    /// # let tar = builder.into_inner()?;
    /// let layer = store.register(&tar[..], None)?;
    /// let dest = root.path().join("rootfs");
    /// store.unpack(layer.chain_id(), &dest)?;
    /// assert_eq!(std::fs::read(dest.join("hello"))?, b"hi\n");
    /// assert!(store.unpack(layer.chain_id(), &dest).is_err(), "dest exists");
    /// # store.release(layer)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unpack(&self, chain_id: ChainId, dest: &Path) -> Result<(), Error> {
        if dest.symlink_metadata().is_ok() {
            return Err(Error::io("unpack into", dest)(std::io::Error::from(
                std::io::ErrorKind::AlreadyExists,
            )));
        }
        let layer = self.get(chain_id)?;
        let result = (|| {
            let cache_id = self.cache_id(chain_id)?;
            let tree = self.driver.get(&cache_id)?;
            let copied = copy::copy_tree(&tree, dest);
            let put = self.driver.put(&cache_id);
            copied.and(put)
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(dest);
        }
        self.release(layer)?;
        result
    }
}
