//! Tars of what a layer changed: a read-write layer's changes, or a layer against an
//! ancestor (Docker's `TarStreamFrom`), generated from the files, not reproduced.

use std::io::{self, Read};

use crate::changes::{self, Change};
use crate::tarstream::Chunks;
use crate::{ChainId, Error, Layer, LayerStore, RwLayer};

/// A generated tar of a layer's changes; read it to the end. Deleted paths appear as
/// `.wh.<name>` whiteouts. It is built on a worker thread from the mounted layer.
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
    pub fn rw_changes(&self, layer: &RwLayer) -> Result<Vec<Change>, Error> {
        let below = self.rw_below(layer)?;
        self.driver().changes(&layer.mount_id, below.as_deref())
    }

    /// The size of what the read-write layer added or changed.
    pub fn rw_size(&self, layer: &RwLayer) -> Result<u64, Error> {
        let below = self.rw_below(layer)?;
        self.driver().diff_size(&layer.mount_id, below.as_deref())
    }

    /// The tar of the read-write layer's changes, with whiteouts for deletions.
    pub fn rw_tar_stream(&self, layer: &RwLayer) -> Result<DiffStream, Error> {
        let below = self.rw_below(layer)?;
        self.diff_stream(layer.mount_id.clone(), below)
    }

    /// A generated tar of what `layer` and the layers between it and its ancestor `parent`
    /// changed (Docker's `TarStreamFrom`; not byte-identical to the registered tars).
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
