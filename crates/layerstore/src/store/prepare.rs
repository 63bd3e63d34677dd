//! Registering in two steps, for drivers whose layers do not depend on their parent's files
//! (overlay2): extract now, in parallel with other layers; give the parent and commit later,
//! in chain order.

use std::io::Read;
use std::sync::Arc;

use super::LayerStore;
use crate::driver::Driver;
use crate::layer::Layer;
use crate::layerdb::WriteSet;
use crate::{ChainId, DiffId, Error, random_id, register};

/// A layer extracted into its own directory, not yet part of any chain. Commit it with
/// [`LayerStore::commit_prepared`]; dropped uncommitted, its files are removed.
#[must_use = "a prepared layer is removed unless committed"]
pub struct PreparedLayer {
    cache_id: String,
    set: Option<WriteSet>,
    outcome: register::Outcome,
    driver: Arc<dyn Driver>,
}

impl std::fmt::Debug for PreparedLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedLayer")
            .field("cache_id", &self.cache_id)
            .field("diff_id", &self.outcome.diff_id)
            .finish_non_exhaustive()
    }
}

/// Access
impl PreparedLayer {
    /// The layer's DiffID (the digest of the tar it was made from).
    pub fn diff_id(&self) -> DiffId {
        self.outcome.diff_id
    }

    /// The layer's own size on disk.
    pub fn size(&self) -> u64 {
        self.outcome.size
    }
}

impl Drop for PreparedLayer {
    fn drop(&mut self) {
        if self.set.is_some() {
            let _ = self.driver.remove(&self.cache_id);
        }
    }
}

/// Registering in two steps
impl LayerStore {
    /// Whether the driver can [`prepare`](Self::prepare) layers before their parent is
    /// known (overlay2 can; vfs, which copies the parent's tree first, cannot).
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// assert!(!store.supports_prepare());
    /// assert!(store.prepare(std::io::empty(), None).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn supports_prepare(&self) -> bool {
        self.driver.applies_without_parent()
    }

    /// Extracts `tar` into a new layer directory of its own, recording its tar-split
    /// metadata, without a parent yet. With `expected`, a tar of another DiffID is refused
    /// and nothing is kept. Fails with [`Error::Unsupported`] unless
    /// [`supports_prepare`](Self::supports_prepare).
    pub fn prepare(
        &self,
        tar: impl Read + Send,
        expected: Option<DiffId>,
    ) -> Result<PreparedLayer, Error> {
        if !self.supports_prepare() {
            return Err(Error::Unsupported {
                driver: self.driver.name(),
                reason: "layers must be applied on top of their parent".to_owned(),
            });
        }
        let cache_id = random_id::generate().map_err(Error::io("generate an id in", "layerdb"))?;
        let set = self.db.begin()?;
        self.driver.create(&cache_id, None)?;
        // From here the prepared layer owns the directory: dropping it removes it.
        let mut prepared = PreparedLayer {
            cache_id,
            set: None,
            outcome: register::Outcome {
                diff_id: DiffId::new(imgsvc_digest::Digest::from_bytes(b"")),
                size: 0,
            },
            driver: Arc::clone(&self.driver),
        };
        let outcome =
            match register::apply(tar, &set, self.driver.as_ref(), &prepared.cache_id, None) {
                Ok(outcome) => outcome,
                Err(err) => {
                    let _ = self.driver.remove(&prepared.cache_id);
                    return Err(err);
                }
            };
        if let Some(expected) = expected
            && expected != outcome.diff_id
        {
            let _ = self.driver.remove(&prepared.cache_id);
            return Err(Error::DiffIdMismatch {
                expected,
                actual: outcome.diff_id,
            });
        }
        prepared.outcome = outcome;
        prepared.set = Some(set);
        Ok(prepared)
    }

    /// Puts a prepared layer on `parent` (which must be registered) and makes it visible,
    /// as [`register`](Self::register) would have. If the chain exists already (another
    /// registration won), that layer is returned and the prepared files are removed.
    pub fn commit_prepared(
        &self,
        mut prepared: PreparedLayer,
        parent: Option<ChainId>,
    ) -> Result<Layer, Error> {
        let Some(set) = prepared.set.take() else {
            return Err(Error::Unsupported {
                driver: self.driver.name(),
                reason: "the prepared layer was already committed".to_owned(),
            });
        };
        let cache_id = prepared.cache_id.clone();
        let fail = |err: Error| {
            let _ = self.driver.remove(&cache_id);
            err
        };
        let parent_layer = match parent {
            Some(parent) => Some(self.get(parent).map_err(fail)?),
            None => None,
        };
        let result = (|| {
            if let Some(layer) = &parent_layer {
                if layer.info.depth >= super::MAX_LAYER_DEPTH {
                    return Err(Error::MaxDepthExceeded {
                        parent: layer.chain_id(),
                        depth: layer.info.depth + 1,
                    });
                }
                let parent_cache = self.cache_id(layer.chain_id())?;
                self.driver.set_parent(&cache_id, Some(&parent_cache))?;
            }
            self.finish_registration(
                set,
                cache_id.clone(),
                prepared.outcome,
                parent_layer.as_ref(),
            )
        })();
        if result.is_err() {
            let _ = self.driver.remove(&cache_id);
        }
        if let Some(layer) = parent_layer {
            self.release(layer)?;
        }
        result
    }
}
