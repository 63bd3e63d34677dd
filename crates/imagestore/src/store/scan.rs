//! Loading the backend's images into memory: at open, and again when another store changed
//! the backend.

use std::collections::{HashMap, HashSet};

use super::{Entry, ImageStore};
use crate::{Error, Image, ImageId, LayerProvider, StoreBackend};

/// Below this many items a scan stays on one thread.
const PARALLEL_THRESHOLD: usize = 512;

impl<B: StoreBackend, L: LayerProvider> ImageStore<B, L> {
    /// Brings the state in line with the backend, which was at `generation` before the scan
    /// began: loads new images (taking their layer references), drops vanished ones (giving
    /// theirs back), and rebuilds the parent/child relation. Returns the images skipped.
    /// The caller holds the writer lock.
    pub(super) fn scan(&self, generation: u64) -> Result<Vec<(ImageId, Error)>, Error> {
        let mut on_disk = Vec::new();
        self.backend.walk(&mut |id| {
            on_disk.push(id);
            Ok(())
        })?;
        let known: HashSet<ImageId> = self.read_state().images.keys().copied().collect();
        let new_ids: Vec<ImageId> = on_disk
            .iter()
            .filter(|id| !known.contains(id))
            .copied()
            .collect();

        let mut problems = Vec::new();
        let mut loaded = Vec::with_capacity(new_ids.len());
        for (id, result) in parallel_map(&new_ids, |&id| (id, self.load(id))) {
            match result {
                Ok(entry) => loaded.push((id, entry)),
                Err(err) => problems.push((id, err)),
            }
        }

        let kept: Vec<ImageId> = on_disk
            .iter()
            .filter(|id| known.contains(id))
            .copied()
            .collect();
        let present: Vec<ImageId> = kept
            .iter()
            .copied()
            .chain(loaded.iter().map(|(id, _)| *id))
            .collect();
        let mut parents = Vec::with_capacity(present.len());
        for (id, result) in parallel_map(&present, |&id| (id, self.try_get_parent(id))) {
            match result {
                Ok(parent) => parents.push((id, parent)),
                // The image stays, without a parent; the damaged value is reported.
                Err(err) => problems.push((id, err)),
            }
        }

        let vanished = {
            let mut state = self.write_state();
            let mut old = std::mem::take(&mut state.images);
            let mut images: HashMap<ImageId, Entry<L::Handle>> =
                HashMap::with_capacity(present.len());
            for id in kept {
                if let Some(entry) = old.remove(&id) {
                    images.insert(id, entry);
                }
            }
            images.extend(loaded);
            for entry in images.values_mut() {
                entry.parent = None;
                entry.children.clear();
            }
            for (id, parent) in parents {
                if let Some(entry) = images.get_mut(&id) {
                    entry.parent = parent;
                }
                if let Some(parent) = parent.and_then(|p| images.get_mut(&p)) {
                    parent.children.insert(id);
                }
            }
            state.ids = images.keys().map(|id| id.digest()).collect();
            state.images = images;
            state.generation = Some(generation);
            old
        };
        for (id, entry) in vanished {
            if let (Some(handle), Some(chain_id)) = (entry.layer, entry.chain_id)
                && let Err(err) = self.layers.release(handle)
            {
                problems.push((id, Error::layer(chain_id, err)));
            }
        }
        problems.sort_by_key(|(id, _)| *id);
        Ok(problems)
    }

    /// Loads one image from the backend and takes the reference on its layers.
    pub(super) fn load(&self, id: ImageId) -> Result<Entry<L::Handle>, Error> {
        let image = Image::with_id(id, self.backend.get(id)?)?;
        let chain_id = image.chain_id();
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
        Ok(Entry::new(layer, chain_id))
    }
}

/// `f` over `items`, on every core when there are many (loading thousands of configs is
/// file reads and hashing that parallelize well).
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads < 2 || items.len() < PARALLEL_THRESHOLD {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let f = &f;
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for worker in workers {
            match worker.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}
