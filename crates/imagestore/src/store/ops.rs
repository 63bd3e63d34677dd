//! Changes: creating and deleting images, and setting parents.

use imgsvc_layerstore::Metadata;

use super::metadata::PARENT;
use super::{Entry, ImageStore};
use crate::{Error, Image, ImageId, LayerProvider, StoreBackend};

/// Changes
impl<B: StoreBackend, L: LayerProvider> ImageStore<B, L> {
    /// Stores an image config and returns its ID (the digest of exactly these bytes).
    ///
    /// The config must parse (with a `rootfs`), its history may not name more layers than
    /// `rootfs.diff_ids` has, and if it has layers, they must be for this operating system
    /// and registered with the layer provider: the image takes a reference on the chain.
    /// Creating an image that exists returns its ID and takes no new reference.
    ///
    /// ```
    /// use imgsvc_imagestore::{Error, ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    ///
    /// let id = store.create(br#"{"rootfs":{"type":"layers"}}"#)?;
    /// assert_eq!(store.create(br#"{"rootfs":{"type":"layers"}}"#)?, id);
    ///
    /// assert!(matches!(store.create(b"{}"), Err(Error::NoRootFs)));
    /// let unregistered = br#"{"rootfs":{"type":"layers","diff_ids":["sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"]}}"#;
    /// assert!(matches!(store.create(unregistered), Err(Error::LayerNotRegistered { .. })));
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn create(&self, config: &[u8]) -> Result<ImageId, Error> {
        crate::backend::check_content(config)?;
        let image = Image::parse(config)?;
        image.check_history()?;
        let id = image.id();
        let chain_id = image.chain_id();

        let change = self.begin()?;
        if self.read_state().images.contains_key(&id) {
            // Docker writes the content again (which repairs a damaged copy).
            self.backend.set(config)?;
            return self.commit(change).map(|()| id);
        }
        let layer = match chain_id {
            None => None,
            Some(chain_id) => {
                image.check_os()?;
                let layer = self
                    .layers
                    .try_get(chain_id)
                    .map_err(|err| Error::layer(chain_id, err))?
                    .ok_or(Error::LayerNotRegistered { chain_id })?;
                Some(layer)
            }
        };
        if let Err(err) = self.backend.set(config) {
            if let Some(layer) = layer {
                let _ = self.layers.release(layer);
            }
            return Err(err);
        }
        // The content may have been stored before (with metadata) without being loaded.
        let parent = self.try_get_parent(id).unwrap_or(None);
        {
            let mut state = self.write_state();
            let mut entry = Entry::new(layer, chain_id);
            entry.parent = parent;
            entry.children = state
                .images
                .iter()
                .filter(|(_, e)| e.parent == Some(id))
                .map(|(child, _)| *child)
                .collect();
            if let Some(parent) = parent.and_then(|p| state.images.get_mut(&p)) {
                parent.children.insert(id);
            }
            state.images.insert(id, entry);
            state.ids.insert(id.digest());
        }
        self.commit(change)?;
        Ok(id)
    }

    /// Deletes an image: its children lose their parent, its content and metadata go, and
    /// its layer reference is given back. Returns the layers that were removed because of
    /// it (child first; empty when other images or layers still use them).
    ///
    /// ```
    /// use imgsvc_imagestore::{Error, ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let id = store.create(b"{\"rootfs\":{}}")?;
    /// assert!(store.delete(id)?.is_empty());
    /// assert!(matches!(store.delete(id), Err(Error::UnknownImage { .. })));
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn delete(&self, id: ImageId) -> Result<Vec<Metadata>, Error> {
        let change = self.begin()?;
        let children: Vec<ImageId> = match self.read_state().images.get(&id) {
            Some(entry) => entry.children.iter().copied().collect(),
            None => return Err(Error::UnknownImage { id }),
        };
        for child in &children {
            self.backend.delete_metadata(*child, PARENT)?;
        }
        match self.backend.delete(id) {
            Ok(()) | Err(Error::ContentNotFound { .. }) => {}
            Err(err) => return Err(err),
        }
        let entry = {
            let mut state = self.write_state();
            for child in &children {
                if let Some(child) = state.images.get_mut(child) {
                    child.parent = None;
                }
            }
            let entry = state.images.remove(&id);
            if let Some(parent) = entry
                .as_ref()
                .and_then(|e| e.parent)
                .and_then(|p| state.images.get_mut(&p))
            {
                parent.children.remove(&id);
            }
            state.ids.remove(&id.digest());
            entry
        };
        self.commit(change)?;
        match entry.and_then(|e| e.layer.zip(e.chain_id)) {
            Some((layer, chain_id)) => self
                .layers
                .release(layer)
                .map_err(|err| Error::layer(chain_id, err)),
            None => Ok(Vec::new()),
        }
    }

    /// Makes `parent` the parent of `id` (the `parent` metadata), moving `id` from its old
    /// parent's children to the new parent's. Both images must be in the store, and an image
    /// cannot become its own ancestor.
    ///
    /// ```
    /// use imgsvc_imagestore::{Error, ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let a = store.create(br#"{"rootfs":{},"comment":"a"}"#)?;
    /// let b = store.create(br#"{"rootfs":{},"comment":"b"}"#)?;
    /// store.set_parent(b, a)?;
    /// assert_eq!(store.get_parent(b)?, a);
    /// assert!(matches!(store.set_parent(a, b), Err(Error::ParentCycle { .. })));
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn set_parent(&self, id: ImageId, parent: ImageId) -> Result<(), Error> {
        let change = self.begin()?;
        {
            let state = self.read_state();
            if !state.images.contains_key(&id) {
                return Err(Error::UnknownImage { id });
            }
            if !state.images.contains_key(&parent) {
                return Err(Error::UnknownParent { parent });
            }
            // Walk up from the new parent: meeting `id` would close a loop.
            let mut ancestor = Some(parent);
            let mut steps = 0;
            while let Some(current) = ancestor {
                if current == id || steps > state.images.len() {
                    return Err(Error::ParentCycle { id, parent });
                }
                ancestor = state.images.get(&current).and_then(|e| e.parent);
                steps += 1;
            }
        }
        self.backend
            .set_metadata(id, PARENT, parent.to_string().as_bytes())?;
        {
            let mut state = self.write_state();
            let old = state.images.get(&id).and_then(|e| e.parent);
            if let Some(old) = old.and_then(|p| state.images.get_mut(&p)) {
                old.children.remove(&id);
            }
            if let Some(new) = state.images.get_mut(&parent) {
                new.children.insert(id);
            }
            if let Some(entry) = state.images.get_mut(&id) {
                entry.parent = Some(parent);
            }
        }
        self.commit(change)
    }

    /// Re-scans the backend now, whether or not it changed, and returns the images that
    /// could not be loaded (as [`open_report`](Self::open_report) does).
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers, StoreBackend};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let bad = store.backend().set(b"[]")?;
    /// let skipped = store.refresh()?;
    /// assert_eq!(skipped.len(), 1);
    /// assert_eq!(skipped[0].0, bad);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn refresh(&self) -> Result<Vec<(ImageId, Error)>, Error> {
        let _writer = self.lock_writer();
        let generation = self.backend.generation()?;
        self.scan(generation)
    }
}
