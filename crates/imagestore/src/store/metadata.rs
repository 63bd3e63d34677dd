//! The metadata the store keeps per image: `parent`, `lastUpdated`, `builtLocally`.

use super::ImageStore;
use crate::{Error, ImageId, LayerProvider, StoreBackend, Timestamp};

/// The key of an image's parent ID.
pub(super) const PARENT: &str = "parent";
/// The key of the time an image was last updated (RFC 3339 with nanoseconds).
pub(super) const LAST_UPDATED: &str = "lastUpdated";
/// The key marking an image built on this host (the single byte 0x01).
pub(super) const BUILT_LOCALLY: &str = "builtLocally";

/// Metadata
impl<B: StoreBackend, L: LayerProvider> ImageStore<B, L> {
    /// The parent recorded for `id` (the `parent` metadata), or `None` if it has none.
    /// Fails if the image is not in the backend, or the value is not an image ID.
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let id = store.create(b"{\"rootfs\":{}}")?;
    /// assert_eq!(store.try_get_parent(id)?, None);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn try_get_parent(&self, id: ImageId) -> Result<Option<ImageId>, Error> {
        let Some(value) = self.backend.try_get_metadata(id, PARENT)? else {
            return Ok(None);
        };
        let corrupt = |reason: String| Error::CorruptMetadata {
            id,
            key: PARENT.to_owned(),
            reason,
        };
        let text = std::str::from_utf8(&value).map_err(|_| corrupt("not UTF-8".to_owned()))?;
        text.parse()
            .map(Some)
            .map_err(|err: imgsvc_digest::Error| corrupt(err.to_string()))
    }

    /// The parent recorded for `id`; [`Error::MetadataNotFound`] if it has none.
    ///
    /// ```
    /// use imgsvc_imagestore::{ErrorKind, ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let id = store.create(b"{\"rootfs\":{}}")?;
    /// assert_eq!(store.get_parent(id).unwrap_err().kind(), ErrorKind::NotFound);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn get_parent(&self, id: ImageId) -> Result<ImageId, Error> {
        self.try_get_parent(id)?
            .ok_or_else(|| Error::MetadataNotFound {
                id,
                key: PARENT.to_owned(),
            })
    }

    /// Records that `id` was updated now (`lastUpdated`, in UTC).
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let id = store.create(b"{\"rootfs\":{}}")?;
    /// assert_eq!(store.get_last_updated(id)?, None);
    /// store.set_last_updated(id)?;
    /// assert!(store.get_last_updated(id)?.is_some());
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn set_last_updated(&self, id: ImageId) -> Result<(), Error> {
        self.set_last_updated_at(id, Timestamp::now())
    }

    /// Records that `id` was updated at `time`, written as RFC 3339 with nanoseconds
    /// (`2024-05-01T10:11:12.123456789+02:00`, trailing zeros of the fraction trimmed).
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers, StoreBackend, Timestamp};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let id = store.create(b"{\"rootfs\":{}}")?;
    /// let time: Timestamp = "2024-05-01T10:11:12.120+02:00".parse()?;
    /// store.set_last_updated_at(id, time)?;
    /// assert_eq!(store.backend().get_metadata(id, "lastUpdated")?, b"2024-05-01T10:11:12.12+02:00");
    /// assert_eq!(store.get_last_updated(id)?, Some(time));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_last_updated_at(&self, id: ImageId, time: Timestamp) -> Result<(), Error> {
        self.set_metadata(id, LAST_UPDATED, time.to_string().as_bytes())
    }

    /// When `id` was last updated; `None` when never recorded (a missing or empty value, as
    /// Docker reads it). A value that is not an RFC 3339 time is an error.
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers, StoreBackend};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let id = store.create(b"{\"rootfs\":{}}")?;
    /// store.backend().set_metadata(id, "lastUpdated", b"")?;
    /// assert_eq!(store.get_last_updated(id)?, None);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn get_last_updated(&self, id: ImageId) -> Result<Option<Timestamp>, Error> {
        let value = self.backend.try_get_metadata(id, LAST_UPDATED)?;
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let corrupt = |reason: String| Error::CorruptMetadata {
            id,
            key: LAST_UPDATED.to_owned(),
            reason,
        };
        let text = std::str::from_utf8(&value).map_err(|_| corrupt("not UTF-8".to_owned()))?;
        text.parse()
            .map(Some)
            .map_err(|err: crate::InvalidTimestamp| corrupt(err.to_string()))
    }

    /// Marks `id` as built on this host (`builtLocally`).
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let id = store.create(b"{\"rootfs\":{}}")?;
    /// assert!(!store.is_built_locally(id)?);
    /// store.set_built_locally(id)?;
    /// assert!(store.is_built_locally(id)?);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn set_built_locally(&self, id: ImageId) -> Result<(), Error> {
        self.set_metadata(id, BUILT_LOCALLY, &[1])
    }

    /// True if `id` is marked as built on this host; a missing mark means false.
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let id = store.create(b"{\"rootfs\":{}}")?;
    /// assert!(!store.is_built_locally(id)?);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn is_built_locally(&self, id: ImageId) -> Result<bool, Error> {
        let value = self.backend.try_get_metadata(id, BUILT_LOCALLY)?;
        Ok(value.is_some_and(|v| v.first() == Some(&1)))
    }

    /// Writes a metadata value as a change of the store (so other stores see it and this
    /// one does not re-scan for it).
    fn set_metadata(&self, id: ImageId, key: &str, value: &[u8]) -> Result<(), Error> {
        let change = self.begin()?;
        self.backend.set_metadata(id, key, value)?;
        self.commit(change)
    }
}
