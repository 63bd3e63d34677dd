//! Tars of what a layer changed: a read-write layer's changes, or a layer against an
//! ancestor (Docker's `TarStreamFrom`), generated from the files, not reproduced.

use std::io::{self, Read};

use crate::changes::{self, Change};
use crate::tarstream::Chunks;
use crate::{ChainId, Error, Layer, LayerStore, RwLayer};

/// A generated tar of a layer's changes; read it to the end. Deleted paths appear as
/// `.wh.<name>` whiteouts. It is built on a worker thread from the mounted layer.
///
/// ```
/// # let root = tempfile::tempdir()?;
/// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
/// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
/// # fn tar_of(name: &str, data: &[u8]) -> std::io::Result<Vec<u8>> {
/// #     let mut builder = tar::Builder::new(Vec::new());
/// #     let mut header = tar::Header::new_ustar();
/// #     header.set_size(data.len() as u64);
/// #     header.set_mode(0o644);
/// #     header.set_cksum();
/// #     builder.append_data(&mut header, name, data)?;
/// #     builder.into_inner()
/// # }
/// use std::io::Read;
/// let base = store.register(&tar_of("etc/motd", b"hi\n")?[..], None)?;
/// let container = store.create_rw_layer("c1", Some(base.chain_id()), Default::default())?;
/// let rootfs = store.mount(&container)?;
/// std::fs::remove_file(rootfs.join("etc/motd"))?;
/// store.unmount(&container)?;
/// let mut names = Vec::new();
/// for entry in tar::Archive::new(store.rw_tar_stream(&container)?).entries()? {
///     names.push(entry?.path()?.display().to_string());
/// }
/// assert!(names.contains(&"etc/.wh.motd".to_owned()), "{names:?}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DiffStream {
    inner: Chunks,
}

impl std::fmt::Debug for DiffStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiffStream").finish_non_exhaustive()
    }
}

impl Read for DiffStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

/// Read-write layer contents
impl LayerStore {
    /// What the read-write layer changed relative to its init layer (or its parent).
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// use imgsvc_layerstore::ChangeKind;
    /// let container = store.create_rw_layer("c1", None, Default::default())?;
    /// std::fs::write(store.mount(&container)?.join("new"), b"1")?;
    /// store.unmount(&container)?;
    /// let changes = store.rw_changes(&container)?;
    /// assert_eq!((changes[0].path.as_os_str(), changes[0].kind), ("/new".as_ref(), ChangeKind::Add));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rw_changes(&self, layer: &RwLayer) -> Result<Vec<Change>, Error> {
        let below = self.rw_below(layer)?;
        self.driver().changes(&layer.mount_id, below.as_deref())
    }

    /// The size of what the read-write layer added or changed.
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// let container = store.create_rw_layer("c1", None, Default::default())?;
    /// std::fs::write(store.mount(&container)?.join("new"), [0u8; 4096])?;
    /// store.unmount(&container)?;
    /// assert!(store.rw_size(&container)? >= 4096);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rw_size(&self, layer: &RwLayer) -> Result<u64, Error> {
        let below = self.rw_below(layer)?;
        self.driver().diff_size(&layer.mount_id, below.as_deref())
    }

    /// The tar of the read-write layer's changes, with whiteouts for deletions.
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// use std::io::Read;
    /// let container = store.create_rw_layer("c1", None, Default::default())?;
    /// std::fs::write(store.mount(&container)?.join("new"), b"1")?;
    /// store.unmount(&container)?;
    /// let mut tar = Vec::new();
    /// store.rw_tar_stream(&container)?.read_to_end(&mut tar)?;
    /// // Registering the exported tar gives a layer holding the container's change.
    /// let layer = store.register(&tar[..], None)?;
    /// assert_eq!(layer.size(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rw_tar_stream(&self, layer: &RwLayer) -> Result<DiffStream, Error> {
        let below = self.rw_below(layer)?;
        self.diff_stream(layer.mount_id.clone(), below)
    }

    /// A generated tar of what `layer` and the layers between it and its ancestor `parent`
    /// changed (Docker's `TarStreamFrom`; not byte-identical to the registered tars).
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// # fn tar_of(name: &str, data: &[u8]) -> std::io::Result<Vec<u8>> {
    /// #     let mut builder = tar::Builder::new(Vec::new());
    /// #     let mut header = tar::Header::new_ustar();
    /// #     header.set_size(data.len() as u64);
    /// #     header.set_mode(0o644);
    /// #     header.set_cksum();
    /// #     builder.append_data(&mut header, name, data)?;
    /// #     builder.into_inner()
    /// # }
    /// use std::io::Read;
    /// let base = store.register(&tar_of("a", b"1")?[..], None)?;
    /// let app = store.register(&tar_of("b", b"2")?[..], Some(base.chain_id()))?;
    /// let mut names = Vec::new();
    /// for entry in tar::Archive::new(store.tar_stream_from(&app, base.chain_id())?).entries()? {
    ///     names.push(entry?.path()?.display().to_string());
    /// }
    /// assert_eq!(names, ["b"]);
    /// // Only an ancestor will do.
    /// assert!(store.tar_stream_from(&base, app.chain_id()).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tar_stream_from(&self, layer: &Layer, parent: ChainId) -> Result<DiffStream, Error> {
        let mut ancestor = layer.parent();
        while let Some(id) = ancestor {
            if id == parent {
                break;
            }
            ancestor = self
                .map()
                .into_iter()
                .find(|i| i.chain_id == id)
                .and_then(|i| i.parent);
        }
        if ancestor != Some(parent) {
            return Err(Error::NotAParent {
                parent,
                layer: layer.chain_id(),
            });
        }
        let cache = self.cache_id(layer.chain_id())?;
        let parent_cache = self.cache_id(parent)?;
        self.diff_stream(cache, Some(parent_cache))
    }

    /// What a read-write layer is compared with: its init layer, else its parent.
    fn rw_below(&self, layer: &RwLayer) -> Result<Option<String>, Error> {
        if let Some(init) = &layer.init_id {
            return Ok(Some(init.clone()));
        }
        layer.parent.map(|parent| self.cache_id(parent)).transpose()
    }

    fn diff_stream(&self, id: String, below: Option<String>) -> Result<DiffStream, Error> {
        let driver = self.shared_driver();
        let changes = driver.changes(&id, below.as_deref())?;
        let root = driver.get(&id)?;
        let inner = Chunks::spawn_writer(move |out| {
            let result = changes::export(&root, &changes, out);
            let _ = driver.put(&id);
            result
        });
        Ok(DiffStream { inner })
    }
}
