//! [`LayerStore`]: registered layers, their reference counts, and their life on disk.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::driver::Driver;
use crate::layer::{Info, Layer, Metadata};
use crate::layerdb::{LayerDb, Record, WriteSet};
use crate::rw::{MountState, Mounts};
use crate::{ChainId, DiffId, Error, random_id, register};

mod prepare;
mod unpack;

pub use prepare::PreparedLayer;

/// Docker's limit on how many layers a chain may have.
///
/// ```
/// // A chain of 125 layers is the deepest an image may have; registering on top of its
/// // last layer fails with Error::MaxDepthExceeded.
/// assert_eq!(imgsvc_layerstore::MAX_LAYER_DEPTH, 125);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const MAX_LAYER_DEPTH: usize = 125;

/// Docker's layer store over one `layerdb` directory and one storage driver.
///
/// Layers are registered from their uncompressed tar (in one streaming pass: hashed for the
/// DiffID, recorded as tar-split metadata so the tar can be reproduced exactly, and applied by
/// the driver), found by ChainID, and reference-counted: [`get`](Self::get) and
/// [`register`](Self::register) hand out [`Layer`] handles, and
/// [`release`](Self::release) deletes a layer when its last reference goes.
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
/// let base = store.register(&tar_of("etc/os-release", b"ID=demo\n")?[..], None)?;
/// let app = store.register(&tar_of("app/run", b"#!/bin/sh\n")?[..], Some(base.chain_id()))?;
/// assert_eq!(app.parent(), Some(base.chain_id()));
/// assert_eq!(store.map().len(), 2);
/// // The child holds its parent: releasing the base handle removes nothing yet.
/// assert!(store.release(base)?.is_empty());
/// // The child's last reference removes both, child first.
/// let removed = store.release(app)?;
/// assert_eq!(removed.len(), 2);
/// assert!(store.map().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct LayerStore {
    db: LayerDb,
    driver: Arc<dyn Driver>,
    state: Mutex<State>,
    mounts: Mounts,
}

#[derive(Debug, Default)]
struct State {
    layers: HashMap<ChainId, Entry>,
    handles: HashSet<u64>,
    next_handle: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    info: Info,
    cache_id: String,
    references: usize,
}

/// Construction
impl LayerStore {
    /// Opens the layer store at `layerdb` (usually `<root>/image/<driver>/layerdb`) over
    /// `driver`: finishes interrupted removals, discards unfinished registrations, and loads
    /// every layer. Layers that cannot be loaded are skipped and listed by
    /// [`open_report`](Self::open_report).
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
    /// // A second store over the same directories sees the layer (another process, say).
    /// let layer = store.register(&tar_of("a", b"1")?[..], None)?;
    /// let again = imgsvc_layerstore::LayerStore::open(
    ///     root.path().join("layerdb"),
    ///     Box::new(imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?),
    /// )?;
    /// assert_eq!(again.get(layer.chain_id())?.diff_id(), layer.diff_id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(layerdb: impl AsRef<Path>, driver: Box<dyn Driver>) -> Result<LayerStore, Error> {
        LayerStore::open_report(layerdb, driver).map(|(store, _)| store)
    }

    /// Like [`open`](Self::open), also returning the layers that could not be loaded, each
    /// with the reason.
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
    /// let layer = store.register(&tar_of("a", b"1")?[..], None)?;
    /// // Damage the layer's record: the store still opens, and says what it skipped.
    /// let size = root.path().join("layerdb/sha256").join(layer.chain_id().digest().encoded().as_str()).join("size");
    /// std::fs::write(&size, "not a number")?;
    /// let (again, skipped) = imgsvc_layerstore::LayerStore::open_report(
    ///     root.path().join("layerdb"),
    ///     Box::new(imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?),
    /// )?;
    /// assert!(again.map().is_empty());
    /// assert_eq!(skipped.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_report(
        layerdb: impl AsRef<Path>,
        driver: Box<dyn Driver>,
    ) -> Result<(LayerStore, Vec<(ChainId, Error)>), Error> {
        let db = LayerDb::open(layerdb.as_ref())?;
        let store = LayerStore {
            db,
            driver: Arc::from(driver),
            state: Mutex::new(State::default()),
            mounts: Mounts::default(),
        };
        store.cleanup()?;
        let mut problems = Vec::new();
        let mut state = store.lock();
        for chain_id in store.db.list()? {
            if let Err(err) = store.load(&mut state, chain_id) {
                problems.push((chain_id, err));
            }
        }
        // A child holds a reference on its parent.
        let parents: Vec<ChainId> = state
            .layers
            .values()
            .filter_map(|e| e.info.parent)
            .collect();
        for parent in parents {
            if let Some(entry) = state.layers.get_mut(&parent) {
                entry.references += 1;
            }
        }
        // A read-write layer holds a reference on its parent.
        let mut mounts = HashMap::new();
        for (name, record) in store.db.mounts()? {
            if let Some(parent) = record.parent {
                if !state.layers.contains_key(&parent) {
                    problems.push((parent, Error::LayerDoesNotExist { chain_id: parent }));
                    continue;
                }
                store.add_reference(&mut state, parent);
            }
            mounts.insert(
                name,
                MountState {
                    record,
                    handles: Vec::new(),
                },
            );
        }
        drop(state);
        *store.mounts_lock() = mounts;
        Ok((store, problems))
    }

    /// Loads a layer and its parents into the map (without references).
    fn load(&self, state: &mut State, chain_id: ChainId) -> Result<(), Error> {
        let mut pending = vec![chain_id];
        while let Some(&id) = pending.last() {
            if state.layers.contains_key(&id) {
                pending.pop();
                continue;
            }
            let record = self.db.read(id)?;
            let parent_info = match record.parent {
                None => None,
                Some(parent) => match state.layers.get(&parent) {
                    Some(entry) => Some(entry.info.clone()),
                    None => {
                        if pending.contains(&parent) || pending.len() > MAX_LAYER_DEPTH + 1 {
                            return Err(Error::corrupt(
                                format!("layerdb/sha256/{}", id.digest().encoded()),
                                "the parent chain loops or is too deep",
                            ));
                        }
                        pending.push(parent);
                        continue;
                    }
                },
            };
            let info = info_for(id, &record, parent_info.as_ref());
            state.layers.insert(
                id,
                Entry {
                    info,
                    cache_id: record.cache_id,
                    references: 0,
                },
            );
            pending.pop();
        }
        Ok(())
    }
}

fn info_for(chain_id: ChainId, record: &Record, parent: Option<&Info>) -> Info {
    Info {
        chain_id,
        diff_id: record.diff_id,
        parent: record.parent,
        diff_size: record.size,
        size: record.size.saturating_add(parent.map_or(0, |p| p.size)),
        depth: parent.map_or(1, |p| p.depth + 1),
    }
}

/// Registering
impl LayerStore {
    /// Registers a layer from its uncompressed tar on top of `parent`, reading the tar once.
    /// If a layer with the resulting ChainID exists, the new copy is discarded and a new
    /// reference to the existing layer is returned.
    ///
    /// Three threads share the work: one reads the tar and hashes it (the DiffID), one
    /// parses it, records the tar-split metadata and creates the entries, and one writes
    /// the regular files' contents and metadata. They hand each other a few bounded
    /// buffers (at most a few MiB in flight); nothing is held whole in memory. The layer's
    /// files are synced to disk before the layer is committed.
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
    /// let tar = tar_of("etc/motd", b"hi\n")?;
    /// let first = store.register(&tar[..], None)?;
    /// // The same tar again: the same layer, one more reference.
    /// let second = store.register(&tar[..], None)?;
    /// assert_eq!(first.chain_id(), second.chain_id());
    /// assert!(store.release(first)?.is_empty());
    /// assert_eq!(store.release(second)?.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register(&self, tar: impl Read + Send, parent: Option<ChainId>) -> Result<Layer, Error> {
        self.register_inner(tar, parent, None)
    }

    /// Registers a layer whose DiffID the caller knows (a pull knows it from the image
    /// config). If the layer exists, the tar is not read at all; if the tar turns out to have
    /// another digest, everything written is removed and [`Error::DiffIdMismatch`] returned.
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
    /// use imgsvc_layerstore::{DiffId, Error};
    /// let tar = tar_of("etc/motd", b"hi\n")?;
    /// let diff_id = DiffId::new(imgsvc_digest::Digest::from_bytes(&tar));
    /// let layer = store.register_with_expected(&tar[..], None, diff_id)?;
    /// // Known already: the tar is not even read (an empty reader will do).
    /// let again = store.register_with_expected(std::io::empty(), None, diff_id)?;
    /// assert_eq!(again.chain_id(), layer.chain_id());
    /// // A tar that is not what the caller expected leaves nothing behind.
    /// let wrong = tar_of("etc/motd", b"ho\n")?;
    /// let other = DiffId::new(imgsvc_digest::Digest::from_bytes(b"something else"));
    /// assert!(matches!(store.register_with_expected(&wrong[..], None, other), Err(Error::DiffIdMismatch { .. })));
    /// assert_eq!(store.map().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register_with_expected(
        &self,
        tar: impl Read + Send,
        parent: Option<ChainId>,
        expected: DiffId,
    ) -> Result<Layer, Error> {
        let chain_id = match parent {
            Some(parent) => parent.child(expected),
            None => ChainId::new(expected.digest()),
        };
        if let Some(layer) = self.try_get(chain_id)? {
            return Ok(layer);
        }
        self.register_inner(tar, parent, Some(expected))
    }

    fn register_inner(
        &self,
        tar: impl Read + Send,
        parent: Option<ChainId>,
        expected: Option<DiffId>,
    ) -> Result<Layer, Error> {
        let parent_layer = match parent {
            Some(parent) => {
                let layer = self.get(parent)?;
                if layer.info.depth >= MAX_LAYER_DEPTH {
                    let depth = layer.info.depth + 1;
                    self.release(layer)?;
                    return Err(Error::MaxDepthExceeded { parent, depth });
                }
                Some(layer)
            }
            None => None,
        };
        let result = self.register_on(tar, parent_layer.as_ref(), expected);
        // The new layer holds its own reference on the parent (taken below); the one taken
        // for the duration of the registration goes back in every case.
        if let Some(parent_layer) = parent_layer {
            self.release(parent_layer)?;
        }
        result
    }

    fn register_on(
        &self,
        tar: impl Read + Send,
        parent: Option<&Layer>,
        expected: Option<DiffId>,
    ) -> Result<Layer, Error> {
        let parent_cache = match parent {
            Some(parent) => Some(self.cache_id(parent.chain_id())?),
            None => None,
        };
        let cache_id = random_id::generate().map_err(Error::io("generate an id in", "layerdb"))?;
        let set = self.db.begin()?;
        self.driver.create(&cache_id, parent_cache.as_deref())?;
        let outcome = register::apply(
            tar,
            &set,
            self.driver.as_ref(),
            &cache_id,
            parent_cache.as_deref(),
        );
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(err) => {
                let _ = self.driver.remove(&cache_id);
                return Err(err);
            }
        };
        if let Some(expected) = expected
            && expected != outcome.diff_id
        {
            let _ = self.driver.remove(&cache_id);
            return Err(Error::DiffIdMismatch {
                expected,
                actual: outcome.diff_id,
            });
        }
        self.finish_registration(set, cache_id, outcome, parent)
    }

    /// Records a layer whose files are in the driver's `cache_id` on `parent` and makes it
    /// visible; if someone registered the same chain first, keeps theirs and removes ours.
    pub(crate) fn finish_registration(
        &self,
        set: WriteSet,
        cache_id: String,
        outcome: register::Outcome,
        parent: Option<&Layer>,
    ) -> Result<Layer, Error> {
        let chain_id = match parent {
            Some(parent) => parent.chain_id().child(outcome.diff_id),
            None => ChainId::new(outcome.diff_id.digest()),
        };
        let record = Record {
            diff_id: outcome.diff_id,
            size: outcome.size,
            cache_id: cache_id.clone(),
            parent: parent.map(Layer::chain_id),
        };
        set.write_record(&record)?;

        let mut state = self.lock();
        if state.layers.contains_key(&chain_id) || !self.db.commit(set, chain_id)? {
            // Someone registered the same layer first (this process or another): keep theirs.
            drop(state);
            let _ = self.driver.remove(&cache_id);
            let mut state = self.lock();
            if !state.layers.contains_key(&chain_id) {
                self.load(&mut state, chain_id)?;
                if let Some(parent) = parent {
                    self.add_reference(&mut state, parent.chain_id());
                }
            }
            return self.new_handle(&mut state, chain_id);
        }
        let parent_info = parent.map(Layer::info);
        state.layers.insert(
            chain_id,
            Entry {
                info: info_for(chain_id, &record, parent_info),
                cache_id,
                references: 0,
            },
        );
        if let Some(parent) = parent {
            self.add_reference(&mut state, parent.chain_id());
        }
        self.new_handle(&mut state, chain_id)
    }
}

/// References
impl LayerStore {
    /// A new reference to the layer `chain_id`; [`Error::LayerDoesNotExist`] if unknown.
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
    /// let layer = store.register(&tar_of("a", b"1")?[..], None)?;
    /// let another = store.get(layer.chain_id())?; // a second reference
    /// assert_eq!(another.info(), layer.info());
    /// let chain_id = layer.chain_id();
    /// assert!(store.release(layer)?.is_empty());
    /// assert_eq!(store.release(another)?.len(), 1);
    /// assert!(store.get(chain_id).is_err()); // "layer does not exist"
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, chain_id: ChainId) -> Result<Layer, Error> {
        self.try_get(chain_id)?
            .ok_or(Error::LayerDoesNotExist { chain_id })
    }

    /// A new reference to the layer `chain_id`, or `None` if it is not registered (also
    /// finds a layer another process registered since this store was opened).
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
    /// let layer = store.register(&tar_of("a", b"1")?[..], None)?;
    /// assert!(store.try_get(layer.chain_id())?.is_some());
    /// assert!(store.try_get(imgsvc_layerstore::ChainId::EMPTY_LAYER)?.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_get(&self, chain_id: ChainId) -> Result<Option<Layer>, Error> {
        let mut state = self.lock();
        if !state.layers.contains_key(&chain_id) {
            if !self.db.exists(chain_id) {
                return Ok(None);
            }
            self.load(&mut state, chain_id)?;
            let parent = state.layers.get(&chain_id).and_then(|e| e.info.parent);
            if let Some(parent) = parent {
                self.add_reference(&mut state, parent);
            }
        }
        self.new_handle(&mut state, chain_id).map(Some)
    }

    /// Gives a reference back. When a layer's last reference goes, it is deleted, and so on
    /// down the chain; the removed layers are returned, child first.
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
    /// let layer = store.register(&tar_of("a", b"1")?[..], None)?;
    /// let (chain_id, diff_id) = (layer.chain_id(), layer.diff_id());
    /// let removed = store.release(layer)?;
    /// assert_eq!((removed[0].chain_id, removed[0].diff_id, removed[0].size), (chain_id, diff_id, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn release(&self, layer: Layer) -> Result<Vec<Metadata>, Error> {
        if !self.lock().handles.remove(&layer.handle) {
            return Err(Error::LayerNotRetained {
                chain_id: layer.chain_id(),
            });
        }
        self.release_reference(layer.chain_id())
    }

    /// Drops one reference on `chain_id` and deletes what no longer has any.
    pub(crate) fn release_reference(&self, chain_id: ChainId) -> Result<Vec<Metadata>, Error> {
        let mut state = self.lock();
        let mut removed = Vec::new();
        let mut next = Some(chain_id);
        while let Some(chain_id) = next.take() {
            let Some(entry) = state.layers.get_mut(&chain_id) else {
                break;
            };
            entry.references = entry.references.saturating_sub(1);
            if entry.references > 0 {
                break;
            }
            let entry = entry.clone();
            state.layers.remove(&chain_id);
            self.db.remove(chain_id)?;
            self.driver.remove(&entry.cache_id)?;
            removed.push(Metadata {
                chain_id,
                diff_id: entry.info.diff_id,
                size: entry.info.size,
                diff_size: entry.info.diff_size,
            });
            next = entry.info.parent;
        }
        Ok(removed)
    }

    /// Forgets a handle whose reference has been handed to something else (a mount).
    pub(crate) fn forget_handle(&self, layer: Layer) {
        self.lock().handles.remove(&layer.handle);
    }

    /// A fresh handle number.
    pub(crate) fn next_handle(&self) -> u64 {
        let mut state = self.lock();
        state.next_handle += 1;
        state.next_handle
    }

    pub(crate) fn mounts_lock(&self) -> MutexGuard<'_, HashMap<String, MountState>> {
        self.mounts
            .by_name
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every registered layer, without taking references.
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
    /// let layer = store.register(&tar_of("a", b"1")?[..], None)?;
    /// let infos = store.map();
    /// assert_eq!(infos.len(), 1);
    /// assert_eq!(&infos[0], layer.info());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map(&self) -> Vec<Info> {
        let state = self.lock();
        let mut all: Vec<Info> = state.layers.values().map(|e| e.info.clone()).collect();
        all.sort_by_key(|info| info.chain_id);
        all
    }

    fn add_reference(&self, state: &mut State, chain_id: ChainId) {
        if let Some(entry) = state.layers.get_mut(&chain_id) {
            entry.references += 1;
        }
    }

    fn new_handle(&self, state: &mut State, chain_id: ChainId) -> Result<Layer, Error> {
        let entry = state
            .layers
            .get_mut(&chain_id)
            .ok_or(Error::LayerDoesNotExist { chain_id })?;
        entry.references += 1;
        let info = entry.info.clone();
        state.next_handle += 1;
        let handle = state.next_handle;
        state.handles.insert(handle);
        Ok(Layer { handle, info })
    }

    pub(crate) fn cache_id(&self, chain_id: ChainId) -> Result<String, Error> {
        self.lock()
            .layers
            .get(&chain_id)
            .map(|e| e.cache_id.clone())
            .ok_or(Error::LayerDoesNotExist { chain_id })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Changes to the state are whole before the lock is released; a panic elsewhere does
        // not leave it half-changed.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Driver and maintenance
impl LayerStore {
    /// The storage driver's name (`vfs`, `overlay2`).
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// assert_eq!(store.driver_name(), "vfs");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn driver_name(&self) -> &'static str {
        self.driver.name()
    }

    /// The storage driver's status pairs, as `docker info` shows them.
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// for (key, value) in store.driver_status() {
    ///     println!("{key}: {value}");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn driver_status(&self) -> Vec<(String, String)> {
        self.driver.status()
    }

    /// Where the driver keeps the layer (`docker inspect`'s `GraphDriver.Data`).
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
    /// let layer = store.register(&tar_of("a", b"1")?[..], None)?;
    /// // vfs keeps no metadata of its own; overlay2 reports its directories.
    /// assert!(store.layer_metadata(&layer)?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn layer_metadata(&self, layer: &Layer) -> Result<Vec<(String, String)>, Error> {
        self.driver.metadata(&self.cache_id(layer.chain_id())?)
    }

    /// Finishes interrupted layer removals and lets the driver clean up.
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// store.cleanup()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cleanup(&self) -> Result<(), Error> {
        for (dir, cache_id) in self.db.removing_leftovers()? {
            if let Some(cache_id) = cache_id.filter(|id| random_id::is_valid(id)) {
                self.driver.remove(&cache_id)?;
            }
            crate::layerdb::remove_all(&dir)?;
        }
        self.driver.cleanup()
    }

    pub(crate) fn driver(&self) -> &dyn Driver {
        self.driver.as_ref()
    }

    pub(crate) fn shared_driver(&self) -> Arc<dyn Driver> {
        Arc::clone(&self.driver)
    }

    pub(crate) fn db(&self) -> &LayerDb {
        &self.db
    }
}
