//! [`StoreBackend`]: where image configs and their metadata live, content-addressed; with
//! [`FsBackend`] (Docker's `imagedb` directory) and [`MemoryBackend`].

mod atomic;
mod fs;
mod memory;

pub use fs::FsBackend;
pub use memory::MemoryBackend;

use std::fmt;

use crate::{Error, ImageId};

/// The largest metadata value accepted: 1 MiB (Docker's are a digest or a timestamp).
pub const MAX_METADATA_SIZE: usize = 1 << 20;

/// Content-addressed storage of image configs, with small metadata values per image: Docker's
/// `StoreBackend`.
///
/// Content is stored under the SHA-256 digest of its bytes and verified whenever it is read.
/// Metadata (`parent`, `lastUpdated`, ...) hangs off stored content and goes with it.
///
/// For sharing between processes, a backend also offers a [`generation`](Self::generation)
/// that changes with every change made through any backend on the same storage, and a
/// [`lock`](Self::lock) that excludes other processes' writers; the
/// [`ImageStore`](crate::ImageStore) uses both to keep its view current. Backends that live in
/// one process may keep a counter and hand out [`BackendLock::none`].
///
/// ```
/// use imgsvc_imagestore::{MemoryBackend, StoreBackend};
///
/// let backend = MemoryBackend::new();
/// let id = backend.set(b"{\"rootfs\":{}}")?;
/// assert_eq!(backend.get(id)?, b"{\"rootfs\":{}}");
/// backend.set_metadata(id, "parent", b"sha256:abc")?;
/// assert_eq!(backend.get_metadata(id, "parent")?, b"sha256:abc");
/// assert!(backend.set_metadata(id, "../escape", b"x").is_err());
///
/// let mut all = Vec::new();
/// backend.walk(&mut |id| { all.push(id); Ok(()) })?;
/// assert_eq!(all, [id]);
/// backend.delete(id)?;
/// assert!(backend.get(id).is_err());
/// # Ok::<(), imgsvc_imagestore::Error>(())
/// ```
pub trait StoreBackend: Send + Sync {
    /// Calls `f` with the ID of every stored content, in no particular order, skipping
    /// entries whose names are not IDs; stops at the first error `f` returns.
    fn walk(&self, f: &mut dyn FnMut(ImageId) -> Result<(), Error>) -> Result<(), Error>;

    /// The content stored under `id`, re-verified against it: [`Error::ContentNotFound`]
    /// if there is none, [`Error::Corrupted`] if it no longer matches.
    fn get(&self, id: ImageId) -> Result<Vec<u8>, Error>;

    /// Stores `data` (not empty, at most [`MAX_CONFIG_SIZE`](crate::MAX_CONFIG_SIZE) bytes)
    /// under its SHA-256 digest, atomically; storing the same bytes again is allowed.
    fn set(&self, data: &[u8]) -> Result<ImageId, Error>;

    /// Removes the content stored under `id` and all its metadata; an error if there was no
    /// content.
    fn delete(&self, id: ImageId) -> Result<(), Error>;

    /// Stores a metadata value for stored content (the content is verified first), atomically.
    /// Keys are plain file names (see [`Error::InvalidMetadataKey`]).
    fn set_metadata(&self, id: ImageId, key: &str, data: &[u8]) -> Result<(), Error>;

    /// A metadata value of stored content, or `None` if the key has no value. Fails if the
    /// content itself is missing.
    fn try_get_metadata(&self, id: ImageId, key: &str) -> Result<Option<Vec<u8>>, Error>;

    /// A metadata value of stored content; [`Error::MetadataNotFound`] if the key has none.
    fn get_metadata(&self, id: ImageId, key: &str) -> Result<Vec<u8>, Error> {
        self.try_get_metadata(id, key)?
            .ok_or_else(|| Error::MetadataNotFound {
                id,
                key: key.to_owned(),
            })
    }

    /// Removes a metadata value; nothing happens if there is none.
    fn delete_metadata(&self, id: ImageId, key: &str) -> Result<(), Error>;

    /// A value that changes whenever content or metadata changes, through this backend or
    /// any other on the same storage (another process's).
    fn generation(&self) -> Result<u64, Error>;

    /// Excludes other processes' (and other backends') writers until the returned lock is
    /// dropped. Threads sharing this backend are not excluded from each other.
    fn lock(&self) -> Result<BackendLock, Error>;

    /// Removes what interrupted writes left behind. Called by the image store under
    /// [`lock`](Self::lock) when it opens.
    fn cleanup(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// A cross-process lock from [`StoreBackend::lock`], released when dropped.
///
/// ```
/// let lock = imgsvc_imagestore::BackendLock::none();
/// drop(lock);
/// ```
pub struct BackendLock {
    _guard: Option<Box<dyn Send>>,
}

impl BackendLock {
    /// A lock that excludes nothing: for backends that live in one process.
    ///
    /// ```
    /// let _ = imgsvc_imagestore::BackendLock::none();
    /// ```
    pub fn none() -> BackendLock {
        BackendLock { _guard: None }
    }

    /// A lock held as long as `guard` lives (a locked file, a lease).
    ///
    /// ```
    /// let lock = imgsvc_imagestore::BackendLock::new(std::fs::File::open("/")?);
    /// drop(lock);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(guard: impl Send + 'static) -> BackendLock {
        BackendLock {
            _guard: Some(Box::new(guard)),
        }
    }
}

impl fmt::Debug for BackendLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BackendLock")
    }
}

/// Checks that a metadata key is a plain file name, so it can never name a path outside its
/// image's metadata directory.
pub(crate) fn validate_key(key: &str) -> Result<(), Error> {
    let bad = key.is_empty()
        || key == "."
        || key == ".."
        || key.starts_with(".tmp-")
        || key.len() > 255
        || key.contains(['/', '\0']);
    if bad {
        return Err(Error::InvalidMetadataKey {
            key: key.chars().take(64).collect(),
        });
    }
    Ok(())
}

/// Refuses empty and oversized content.
pub(crate) fn check_content(data: &[u8]) -> Result<(), Error> {
    if data.is_empty() {
        return Err(Error::EmptyData);
    }
    if data.len() > crate::MAX_CONFIG_SIZE {
        return Err(Error::TooLarge {
            what: "image config",
            size: data.len() as u64,
            limit: crate::MAX_CONFIG_SIZE as u64,
            path: None,
        });
    }
    Ok(())
}

/// Refuses oversized metadata values.
pub(crate) fn check_metadata(data: &[u8]) -> Result<(), Error> {
    if data.len() > MAX_METADATA_SIZE {
        return Err(Error::TooLarge {
            what: "metadata value",
            size: data.len() as u64,
            limit: MAX_METADATA_SIZE as u64,
            path: None,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_could_escape_are_refused() {
        for bad in ["", ".", "..", "../parent", "a/b", "/abs", "nul\0", ".tmp-x"] {
            assert!(validate_key(bad).is_err(), "{bad:?}");
        }
        for good in ["parent", "lastUpdated", "builtLocally", "a..b", "..hidden"] {
            assert!(validate_key(good).is_ok(), "{good:?}");
        }
    }
}
