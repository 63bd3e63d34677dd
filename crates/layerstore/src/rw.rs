//! Read-write layers ("mounts"): a writable layer on top of a read-only chain, as a container
//! uses, optionally with an init layer between them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::layer::Metadata;
use crate::layerdb::MountRecord;
use crate::{ChainId, Error, LayerStore, random_id};

/// Prepares an init layer's directory (Docker creates `/dev/pts`, `/etc/hosts`, ... there).
pub type InitFn = Box<dyn FnOnce(&Path) -> std::io::Result<()> + Send>;

/// Choices for [`LayerStore::create_rw_layer`].
#[derive(Default)]
#[non_exhaustive]
pub struct RwLayerOptions {
    /// Fills an init layer created between the parent and the read-write layer.
    pub init: Option<InitFn>,
}

impl RwLayerOptions {
    /// Options with an init layer filled by `init`.
    ///
    /// ```
    /// let options = imgsvc_layerstore::RwLayerOptions::with_init(|dir| {
    ///     std::fs::create_dir_all(dir.join("dev/pts"))
    /// });
    /// assert!(options.init.is_some());
    /// ```
    pub fn with_init(
        init: impl FnOnce(&Path) -> std::io::Result<()> + Send + 'static,
    ) -> RwLayerOptions {
        RwLayerOptions {
            init: Some(Box::new(init)),
        }
    }
}

impl std::fmt::Debug for RwLayerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RwLayerOptions")
            .field("init", &self.init.as_ref().map(|_| "FnOnce(&Path)"))
            .finish()
    }
}

/// A handle on a read-write layer; give it back with [`LayerStore::release_rw_layer`].
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
/// use imgsvc_layerstore::{Change, ChangeKind, RwLayerOptions};
/// use std::path::PathBuf;
/// let base = store.register(&tar_of("etc/hostname", b"old\n")?[..], None)?;
/// let container = store.create_rw_layer("c1", Some(base.chain_id()), RwLayerOptions::default())?;
/// assert_eq!((container.name(), container.parent()), ("c1", Some(base.chain_id())));
/// assert_eq!(store.get_mount_id("c1")?, container.mount_id());
///
/// // Write through the mounted root filesystem, then ask what changed.
/// let rootfs = store.mount(&container)?;
/// std::fs::write(rootfs.join("etc/hostname"), b"new\n")?;
/// std::fs::write(rootfs.join("etc/added"), b"x")?;
/// store.unmount(&container)?;
/// let changes = store.rw_changes(&container)?;
/// assert!(changes.contains(&Change { path: PathBuf::from("/etc/added"), kind: ChangeKind::Add }));
/// assert!(changes.contains(&Change { path: PathBuf::from("/etc/hostname"), kind: ChangeKind::Modify }));
/// assert!(store.rw_size(&container)? >= 5);
///
/// // A second handle by name; each handle is released once.
/// let again = store.get_rw_layer("c1")?;
/// store.release_rw_layer(again)?;
/// assert!(store.release_rw_layer(container)?.is_empty()); // the base layer is still held
/// assert_eq!(store.release(base)?.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, PartialEq, Eq)]
pub struct RwLayer {
    pub(crate) handle: u64,
    pub(crate) name: String,
    pub(crate) mount_id: String,
    pub(crate) init_id: Option<String>,
    pub(crate) parent: Option<ChainId>,
}

impl RwLayer {
    /// The layer's name (a container ID, say).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The driver ID of the writable layer.
    pub fn mount_id(&self) -> &str {
        &self.mount_id
    }

    /// The read-only layer below, if any.
    pub fn parent(&self) -> Option<ChainId> {
        self.parent
    }
}

/// The store's view of its read-write layers.
#[derive(Debug, Default)]
pub(crate) struct Mounts {
    pub(crate) by_name: Mutex<HashMap<String, MountState>>,
}

#[derive(Debug, Clone)]
pub(crate) struct MountState {
    pub(crate) record: MountRecord,
    pub(crate) handles: Vec<u64>,
}

/// Read-write layers
impl LayerStore {
    /// Creates a read-write layer `name` on top of `parent` (or empty), with an init layer
    /// when `options.init` is given. Holds a reference on the parent until released.
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// use imgsvc_layerstore::RwLayerOptions;
    /// // With an init layer between the parent and the writable layer, as Docker makes for a
    /// // container (/etc/hosts and friends); changes are reported against the init layer.
    /// let options = RwLayerOptions::with_init(|dir| std::fs::write(dir.join(".dockerenv"), b""));
    /// let container = store.create_rw_layer("c1", None, options)?;
    /// let rootfs = store.mount(&container)?;
    /// assert!(rootfs.join(".dockerenv").exists());
    /// store.unmount(&container)?;
    /// assert!(store.rw_changes(&container)?.is_empty());
    /// store.release_rw_layer(container)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_rw_layer(
        &self,
        name: &str,
        parent: Option<ChainId>,
        options: RwLayerOptions,
    ) -> Result<RwLayer, Error> {
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
            return Err(Error::InvalidMountName {
                name: name.to_owned(),
            });
        }
        let mut mounts = self.mounts_lock();
        if mounts.contains_key(name) || self.db().mount_exists(name) {
            return Err(Error::MountNameConflict {
                name: name.to_owned(),
            });
        }
        let parent_layer = match parent {
            Some(chain_id) => Some(self.get(chain_id)?),
            None => None,
        };
        let created = self.create_rw_on(name, parent_layer.as_ref().map(|l| l.chain_id()), options);
        match created {
            Ok(record) => {
                // The parent reference taken above now belongs to the mount.
                if let Some(layer) = parent_layer {
                    self.forget_handle(layer);
                }
                let handle = self.next_handle();
                let rw = RwLayer {
                    handle,
                    name: name.to_owned(),
                    mount_id: record.mount_id.clone(),
                    init_id: record.init_id.clone(),
                    parent: record.parent,
                };
                mounts.insert(
                    name.to_owned(),
                    MountState {
                        record,
                        handles: vec![handle],
                    },
                );
                Ok(rw)
            }
            Err(err) => {
                if let Some(layer) = parent_layer {
                    self.release(layer)?;
                }
                Err(err)
            }
        }
    }

    fn create_rw_on(
        &self,
        name: &str,
        parent: Option<ChainId>,
        options: RwLayerOptions,
    ) -> Result<MountRecord, Error> {
        let parent_cache = match parent {
            Some(chain_id) => Some(self.cache_id(chain_id)?),
            None => None,
        };
        let mount_id = random_id::generate().map_err(Error::io("generate an id for", name))?;
        let mut below = parent_cache.clone();
        let mut init_id = None;
        if let Some(init) = options.init {
            let id = format!("{mount_id}-init");
            self.driver()
                .create_read_write(&id, parent_cache.as_deref())?;
            let filled = self.driver().get(&id).and_then(|path| {
                let result = init(&path).map_err(Error::io("prepare the init layer in", &path));
                self.driver().put(&id)?;
                result
            });
            if let Err(err) = filled {
                let _ = self.driver().remove(&id);
                return Err(err);
            }
            below = Some(id.clone());
            init_id = Some(id);
        }
        if let Err(err) = self.driver().create_read_write(&mount_id, below.as_deref()) {
            if let Some(id) = &init_id {
                let _ = self.driver().remove(id);
            }
            return Err(err);
        }
        let record = MountRecord {
            mount_id,
            init_id,
            parent,
        };
        if let Err(err) = self.db().save_mount(name, &record) {
            let _ = self.driver().remove(&record.mount_id);
            if let Some(id) = &record.init_id {
                let _ = self.driver().remove(id);
            }
            let _ = self.db().remove_mount(name);
            return Err(err);
        }
        Ok(record)
    }

    /// A new handle on the read-write layer `name`.
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// let container = store.create_rw_layer("c1", None, Default::default())?;
    /// let again = store.get_rw_layer("c1")?;
    /// assert_eq!(again.mount_id(), container.mount_id());
    /// assert!(store.get_rw_layer("nope").is_err()); // "mount does not exist"
    /// store.release_rw_layer(again)?;
    /// store.release_rw_layer(container)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_rw_layer(&self, name: &str) -> Result<RwLayer, Error> {
        let mut mounts = self.mounts_lock();
        let handle = self.next_handle();
        let state = mounts
            .get_mut(name)
            .ok_or_else(|| Error::MountDoesNotExist {
                name: name.to_owned(),
            })?;
        state.handles.push(handle);
        Ok(RwLayer {
            handle,
            name: name.to_owned(),
            mount_id: state.record.mount_id.clone(),
            init_id: state.record.init_id.clone(),
            parent: state.record.parent,
        })
    }

    /// Every read-write layer: its name and the layer it sits on, sorted by name.
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// let container = store.create_rw_layer("c1", None, Default::default())?;
    /// assert_eq!(store.rw_layers(), [("c1".to_owned(), None)]);
    /// # store.release_rw_layer(container)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rw_layers(&self) -> Vec<(String, Option<ChainId>)> {
        let mut layers: Vec<_> = self
            .mounts_lock()
            .iter()
            .map(|(name, state)| (name.clone(), state.record.parent))
            .collect();
        layers.sort();
        layers
    }

    /// The driver ID of the read-write layer `name`.
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// let container = store.create_rw_layer("c1", None, Default::default())?;
    /// assert_eq!(store.get_mount_id("c1")?, container.mount_id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_mount_id(&self, name: &str) -> Result<String, Error> {
        self.mounts_lock()
            .get(name)
            .map(|state| state.record.mount_id.clone())
            .ok_or_else(|| Error::MountDoesNotExist {
                name: name.to_owned(),
            })
    }

    /// Gives a handle back; with the last one the read-write layer (and its init layer) is
    /// deleted and its parent released. Returns the read-only layers that went with it.
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// let container = store.create_rw_layer("c1", None, Default::default())?;
    /// // No read-only layer below: nothing else is removed.
    /// assert!(store.release_rw_layer(container)?.is_empty());
    /// assert!(store.get_rw_layer("c1").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn release_rw_layer(&self, layer: RwLayer) -> Result<Vec<Metadata>, Error> {
        let mut mounts = self.mounts_lock();
        let Some(state) = mounts.get_mut(&layer.name) else {
            return Ok(Vec::new());
        };
        let Some(position) = state.handles.iter().position(|&h| h == layer.handle) else {
            return Err(match layer.parent {
                Some(chain_id) => Error::LayerNotRetained { chain_id },
                None => Error::MountDoesNotExist { name: layer.name },
            });
        };
        state.handles.swap_remove(position);
        if !state.handles.is_empty() {
            return Ok(Vec::new());
        }
        let record = state.record.clone();
        self.driver().remove(&record.mount_id)?;
        if let Some(init_id) = &record.init_id {
            self.driver().remove(init_id)?;
        }
        self.db().remove_mount(&layer.name)?;
        mounts.remove(&layer.name);
        drop(mounts);
        match record.parent {
            Some(parent) => self.release_reference(parent),
            None => Ok(Vec::new()),
        }
    }

    /// Mounts the read-write layer and returns the path of its root filesystem.
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
    /// let base = store.register(&tar_of("etc/motd", b"hi\n")?[..], None)?;
    /// let container = store.create_rw_layer("c1", Some(base.chain_id()), Default::default())?;
    /// let rootfs = store.mount(&container)?;
    /// assert_eq!(std::fs::read(rootfs.join("etc/motd"))?, b"hi\n");
    /// store.unmount(&container)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mount(&self, layer: &RwLayer) -> Result<PathBuf, Error> {
        self.driver().get(&layer.mount_id)
    }

    /// Unmounts what [`mount`](Self::mount) mounted.
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// let container = store.create_rw_layer("c1", None, Default::default())?;
    /// let rootfs = store.mount(&container)?;
    /// std::fs::write(rootfs.join("kept"), b"1")?;
    /// store.unmount(&container)?; // the writes stay in the layer
    /// assert_eq!(std::fs::read(store.mount(&container)?.join("kept"))?, b"1");
    /// store.unmount(&container)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unmount(&self, layer: &RwLayer) -> Result<(), Error> {
        self.driver().put(&layer.mount_id)
    }
}
