//! [`ImageStore`]: the images of one root, their parent/child relations, and the layer
//! references they hold.

mod metadata;
mod ops;
mod query;
mod scan;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use imgsvc_digest::DigestSet;
use imgsvc_layerstore::ChainId;

use crate::{BackendLock, Error, ImageId, LayerProvider, StoreBackend};

/// Docker's image store: image configs by ID, the parent relation between images, and one
/// reference on its layer chain for every image that has layers.
///
/// Configs live in a [`StoreBackend`] ([`FsBackend`](crate::FsBackend) for Docker's
/// `imagedb`); layers in a [`LayerProvider`] (a [`LayerStore`](imgsvc_layerstore::LayerStore)).
/// [`open`](Self::open) loads every image, skipping (and, with
/// [`open_report`](Self::open_report), reporting) those that are unreadable, damaged, for
/// another operating system, or whose layers are missing; it takes a layer reference for each
/// image it loads and rebuilds the children of each image from the `parent` metadata.
///
/// The store is safe to use from many threads. Several stores (in one process or several)
/// may share one backend: every change takes the backend's [`lock`](StoreBackend::lock), and
/// every operation first compares the backend's [`generation`](StoreBackend::generation)
/// with the one it last saw, re-scanning the backend when another store changed it.
///
/// ```
/// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers};
///
/// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
/// let base = store.create(br#"{"os":"linux","rootfs":{"type":"layers"}}"#)?;
/// let child = store.create(br#"{"os":"linux","rootfs":{"type":"layers"},"comment":"child"}"#)?;
/// store.set_parent(child, base)?;
///
/// assert_eq!(store.search(&base.digest().short())?, base);
/// assert_eq!(store.children(base)?, [child]);
/// assert_eq!(store.heads()?, [child]);
/// assert_eq!(store.get(child)?.parent(), Some(base));
///
/// store.delete(base)?;
/// assert_eq!(store.get(child)?.parent(), None);
/// assert_eq!(store.len()?, 1);
/// # Ok::<(), imgsvc_imagestore::Error>(())
/// ```
pub struct ImageStore<B: StoreBackend, L: LayerProvider> {
    backend: B,
    layers: L,
    /// Serializes this store's changes and re-scans, so that the generation read under it
    /// tells the store's own changes from other stores'.
    writer: Mutex<()>,
    state: RwLock<State<L::Handle>>,
}

/// The images as last seen.
struct State<H> {
    images: HashMap<ImageId, Entry<H>>,
    ids: DigestSet,
    /// The backend generation this state reflects.
    generation: Option<u64>,
}

/// One image in memory.
struct Entry<H> {
    /// The reference on the image's layer chain, if it has layers.
    layer: Option<H>,
    chain_id: Option<ChainId>,
    /// The `parent` metadata, whether or not that image is in the store.
    parent: Option<ImageId>,
    children: BTreeSet<ImageId>,
}

impl<H> Entry<H> {
    fn new(layer: Option<H>, chain_id: Option<ChainId>) -> Entry<H> {
        Entry {
            layer,
            chain_id,
            parent: None,
            children: BTreeSet::new(),
        }
    }
}

/// Construction
impl<B: StoreBackend, L: LayerProvider> ImageStore<B, L> {
    /// Opens the store over `backend`, taking layer references through `layers`. Images
    /// that cannot be loaded are skipped (see [`open_report`](Self::open_report)); only a
    /// backend that cannot be listed fails the whole store.
    ///
    /// ```
    /// use imgsvc_imagestore::{FsBackend, ImageStore, NoLayers};
    /// let root = tempfile::tempdir()?;
    /// let backend = FsBackend::open(root.path().join("image/vfs/imagedb"))?;
    /// let store = ImageStore::open(backend, NoLayers)?;
    /// assert_eq!(store.len()?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(backend: B, layers: L) -> Result<ImageStore<B, L>, Error> {
        ImageStore::open_report(backend, layers).map(|(store, _)| store)
    }

    /// Like [`open`](Self::open), also returning the images that were skipped, each with the
    /// reason (they stay in the backend).
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers, StoreBackend};
    /// let backend = MemoryBackend::new();
    /// let broken = backend.set(b"not json")?;
    /// let (store, skipped) = ImageStore::open_report(backend, NoLayers)?;
    /// assert_eq!(store.len()?, 0);
    /// assert_eq!(skipped[0].0, broken);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    #[expect(
        clippy::type_complexity,
        reason = "the store and its report, as LayerStore does"
    )]
    pub fn open_report(
        backend: B,
        layers: L,
    ) -> Result<(ImageStore<B, L>, Vec<(ImageId, Error)>), Error> {
        let store = ImageStore {
            backend,
            layers,
            writer: Mutex::new(()),
            state: RwLock::new(State {
                images: HashMap::new(),
                ids: DigestSet::new(),
                generation: None,
            }),
        };
        {
            let _lock = store.backend.lock()?;
            store.backend.cleanup()?;
        }
        let problems = {
            let _writer = store.lock_writer();
            let generation = store.backend.generation()?;
            store.scan(generation)?
        };
        Ok((store, problems))
    }

    /// The backend.
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers, StoreBackend};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let id = store.create(b"{\"rootfs\":{}}")?;
    /// assert_eq!(store.backend().get(id)?, b"{\"rootfs\":{}}");
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The layer provider.
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let _: &NoLayers = store.layers();
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn layers(&self) -> &L {
        &self.layers
    }
}

/// The protocol that keeps the in-memory state current.
impl<B: StoreBackend, L: LayerProvider> ImageStore<B, L> {
    fn lock_writer(&self) -> MutexGuard<'_, ()> {
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read_state(&self) -> RwLockReadGuard<'_, State<L::Handle>> {
        // Changes to the state are whole before its lock is released.
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, State<L::Handle>> {
        self.state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The state, re-scanned first if another store changed the backend since it was read.
    fn current(&self) -> Result<RwLockReadGuard<'_, State<L::Handle>>, Error> {
        let generation = self.backend.generation()?;
        {
            let state = self.read_state();
            if state.generation == Some(generation) {
                return Ok(state);
            }
        }
        {
            let _writer = self.lock_writer();
            // Read again under the writer lock: a change of this store's own is recorded by
            // now, so a difference is another store's.
            let generation = self.backend.generation()?;
            if self.read_state().generation != Some(generation) {
                self.scan(generation)?;
            }
        }
        Ok(self.read_state())
    }

    /// Starts a change: this store's writer lock, the backend's lock, and a current state.
    fn begin(&self) -> Result<Change<'_>, Error> {
        let writer = self.lock_writer();
        let lock = self.backend.lock()?;
        let generation = self.backend.generation()?;
        if self.read_state().generation != Some(generation) {
            self.scan(generation)?;
        }
        Ok(Change {
            _writer: writer,
            _lock: lock,
        })
    }

    /// Ends a change that succeeded: the backend's generation now reflects this store's
    /// state. (A change that failed part-way records nothing, so the next operation
    /// re-scans.)
    fn commit(&self, _change: Change<'_>) -> Result<(), Error> {
        let generation = self.backend.generation()?;
        self.write_state().generation = Some(generation);
        Ok(())
    }
}

/// The locks held during a change.
struct Change<'a> {
    _writer: MutexGuard<'a, ()>,
    _lock: BackendLock,
}

impl<B: StoreBackend, L: LayerProvider> std::fmt::Debug for ImageStore<B, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.read_state();
        f.debug_struct("ImageStore")
            .field("images", &state.images.len())
            .field("generation", &state.generation)
            .finish_non_exhaustive()
    }
}
