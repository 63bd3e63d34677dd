//! Lookups: getting an image, searching by prefix, and the relations between images.

use std::collections::BTreeMap;

use super::ImageStore;
use crate::{Error, Image, ImageId, LayerProvider, StoreBackend};

/// Lookups
impl<B: StoreBackend, L: LayerProvider> ImageStore<B, L> {
    /// Reads, verifies and parses the image `id`, with the parent the store records for it.
    ///
    /// Like Docker, this reads the backend whether or not the image was loaded into the
    /// store. [`Error::ContentNotFound`] if there is no such config, [`Error::Corrupted`] if
    /// its bytes no longer match its ID.
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let id = store.create(br#"{"os":"linux","rootfs":{}}"#)?;
    /// let image = store.get(id)?;
    /// assert_eq!(image.id(), id);
    /// assert_eq!(image.raw_json(), br#"{"os":"linux","rootfs":{}}"#);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn get(&self, id: ImageId) -> Result<Image, Error> {
        let mut image = Image::with_id(id, self.backend.get(id)?)?;
        // A damaged parent value is reported by `get_parent`; here it means no parent.
        image.set_parent(self.try_get_parent(id).unwrap_or(None));
        Ok(image)
    }

    /// True if the store holds the image `id`.
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageId, ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// assert!(!store.contains(ImageId::of(b"{}"))?);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn contains(&self, id: ImageId) -> Result<bool, Error> {
        Ok(self.current()?.images.contains_key(&id))
    }

    /// Finds the image a full ID or a unique prefix names: `sha256:<hex>`, `<hex>`, or any
    /// prefix of the hex, with or without `sha256:` (there is no minimum length).
    /// [`Error::NotFound`] if none matches, [`Error::Ambiguous`] if several do.
    ///
    /// ```
    /// use imgsvc_imagestore::{Error, ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let id = store.create(b"{\"rootfs\":{}}")?;
    /// let hex = id.digest().encoded();
    /// assert_eq!(store.search(&hex[..4])?, id);
    /// assert_eq!(store.search(&format!("sha256:{}", &hex[..12]))?, id);
    /// assert_eq!(store.search("")?, id); // the only image
    /// assert!(matches!(store.search("zz"), Err(Error::NotFound { .. })));
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn search(&self, term: &str) -> Result<ImageId, Error> {
        let state = self.current()?;
        state
            .ids
            .lookup(term)
            .map(ImageId::new)
            .map_err(|err| match err {
                imgsvc_digest::Error::Ambiguous { .. } => Error::Ambiguous {
                    term: shorten(term),
                },
                _ => Error::NotFound {
                    term: shorten(term),
                },
            })
    }

    /// The images whose parent is `id`, sorted. [`Error::UnknownImage`] if the store does not
    /// hold `id`.
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let id = store.create(b"{\"rootfs\":{}}")?;
    /// assert!(store.children(id)?.is_empty());
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn children(&self, id: ImageId) -> Result<Vec<ImageId>, Error> {
        let state = self.current()?;
        let entry = state.images.get(&id).ok_or(Error::UnknownImage { id })?;
        Ok(entry.children.iter().copied().collect())
    }

    /// The images that are no image's parent, sorted.
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let a = store.create(br#"{"rootfs":{},"comment":"a"}"#)?;
    /// let b = store.create(br#"{"rootfs":{},"comment":"b"}"#)?;
    /// store.set_parent(b, a)?;
    /// assert_eq!(store.heads()?, [b]);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn heads(&self) -> Result<Vec<ImageId>, Error> {
        let state = self.current()?;
        let mut heads: Vec<ImageId> = state
            .images
            .iter()
            .filter(|(_, entry)| entry.children.is_empty())
            .map(|(id, _)| *id)
            .collect();
        heads.sort_unstable();
        Ok(heads)
    }

    /// The IDs of every image in the store, sorted.
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let id = store.create(b"{\"rootfs\":{}}")?;
    /// assert_eq!(store.ids()?, [id]);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn ids(&self) -> Result<Vec<ImageId>, Error> {
        Ok(self.current()?.ids.iter().map(ImageId::new).collect())
    }

    /// Every image in the store, read and parsed; images that can no longer be read are
    /// left out (as in Docker; [`get`](Self::get) says why).
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// let id = store.create(br#"{"rootfs":{},"comment":"hi"}"#)?;
    /// let all = store.map()?;
    /// assert_eq!(all[&id].config().comment.as_deref(), Some("hi"));
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn map(&self) -> Result<BTreeMap<ImageId, Image>, Error> {
        let ids = self.ids()?;
        Ok(ids
            .into_iter()
            .filter_map(|id| self.get(id).ok().map(|image| (id, image)))
            .collect())
    }

    /// How many images the store holds.
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// assert_eq!(store.len()?, 0);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn len(&self) -> Result<usize, Error> {
        Ok(self.current()?.images.len())
    }

    /// True if the store holds no image.
    ///
    /// ```
    /// use imgsvc_imagestore::{ImageStore, MemoryBackend, NoLayers};
    /// let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
    /// assert!(store.is_empty()?);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.current()?.images.is_empty())
    }
}

/// A search term as errors show it: at most 80 characters.
fn shorten(term: &str) -> String {
    term.chars().take(80).collect()
}
