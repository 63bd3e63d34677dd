//! [`MemoryBackend`]: a backend in memory, for tests and examples.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::{BackendLock, StoreBackend};
use crate::{Error, ImageId};

/// Image configs in memory, with the same rules as [`FsBackend`](crate::FsBackend) (empty data
/// refused, keys validated, metadata only for stored content). Nothing survives the value,
/// and nothing is shared with other processes.
///
/// ```
/// use imgsvc_imagestore::{MemoryBackend, StoreBackend};
/// let backend = MemoryBackend::new();
/// let before = backend.generation()?;
/// backend.set(b"{}")?;
/// assert_ne!(backend.generation()?, before);
/// # Ok::<(), imgsvc_imagestore::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryBackend {
    state: Mutex<State>,
    generation: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    content: BTreeMap<ImageId, Vec<u8>>,
    metadata: HashMap<ImageId, BTreeMap<String, Vec<u8>>>,
}

impl MemoryBackend {
    /// An empty backend.
    ///
    /// ```
    /// let _ = imgsvc_imagestore::MemoryBackend::new();
    /// ```
    pub fn new() -> MemoryBackend {
        MemoryBackend::default()
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        // Every change is whole before the lock is released.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

fn not_found(id: ImageId) -> Error {
    Error::ContentNotFound {
        id,
        path: format!("memory:{id}").into(),
    }
}

impl StoreBackend for MemoryBackend {
    fn walk(&self, f: &mut dyn FnMut(ImageId) -> Result<(), Error>) -> Result<(), Error> {
        let ids: Vec<ImageId> = self.lock_state().content.keys().copied().collect();
        ids.into_iter().try_for_each(f)
    }

    fn get(&self, id: ImageId) -> Result<Vec<u8>, Error> {
        self.lock_state()
            .content
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found(id))
    }

    fn set(&self, data: &[u8]) -> Result<ImageId, Error> {
        super::check_content(data)?;
        let id = ImageId::of(data);
        if self
            .lock_state()
            .content
            .insert(id, data.to_vec())
            .is_none()
        {
            self.bump();
        }
        Ok(id)
    }

    fn delete(&self, id: ImageId) -> Result<(), Error> {
        let mut state = self.lock_state();
        let had_metadata = state.metadata.remove(&id).is_some();
        let had_content = state.content.remove(&id).is_some();
        drop(state);
        if had_metadata || had_content {
            self.bump();
        }
        if had_content {
            Ok(())
        } else {
            Err(not_found(id))
        }
    }

    fn set_metadata(&self, id: ImageId, key: &str, data: &[u8]) -> Result<(), Error> {
        super::validate_key(key)?;
        super::check_metadata(data)?;
        let mut state = self.lock_state();
        if !state.content.contains_key(&id) {
            return Err(not_found(id));
        }
        state
            .metadata
            .entry(id)
            .or_default()
            .insert(key.to_owned(), data.to_vec());
        drop(state);
        self.bump();
        Ok(())
    }

    fn try_get_metadata(&self, id: ImageId, key: &str) -> Result<Option<Vec<u8>>, Error> {
        super::validate_key(key)?;
        let state = self.lock_state();
        if !state.content.contains_key(&id) {
            return Err(not_found(id));
        }
        Ok(state.metadata.get(&id).and_then(|m| m.get(key)).cloned())
    }

    fn delete_metadata(&self, id: ImageId, key: &str) -> Result<(), Error> {
        super::validate_key(key)?;
        let removed = self
            .lock_state()
            .metadata
            .get_mut(&id)
            .and_then(|m| m.remove(key))
            .is_some();
        if removed {
            self.bump();
        }
        Ok(())
    }

    fn generation(&self) -> Result<u64, Error> {
        Ok(self.generation.load(Ordering::SeqCst))
    }

    fn lock(&self) -> Result<BackendLock, Error> {
        Ok(BackendLock::none())
    }
}
