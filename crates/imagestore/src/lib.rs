//! Docker's image config store: image configs kept by the digest of their exact bytes, the
//! parent/child relation between images, and the layer references images hold.
//!
//! An image is identified by its config: the [`ImageId`] is the SHA-256 digest of the config
//! bytes exactly as stored, so the store keeps those bytes and never re-serializes them. The
//! config's `rootfs.diff_ids` name the image's layers; while an image is in the store it holds
//! a reference on that layer chain in the layer store, which is how Docker's layer reference
//! counts are rebuilt at start-up. A [`StoreBackend`] keeps the configs and small metadata
//! values (`parent`, `lastUpdated`): [`FsBackend`] in Docker's `imagedb` layout, with atomic
//! writes and verified reads, or [`MemoryBackend`]. The [`ImageStore`] on top loads, creates,
//! deletes and finds images (by a unique prefix of their ID), and is safe to share between
//! threads and, through one root, between processes.
//!
//! ```
//! use imgsvc_imagestore::{FsBackend, ImageStore, NoLayers, Timestamp};
//!
//! let root = tempfile::tempdir()?;
//! let imagedb = root.path().join("image/vfs/imagedb");
//! let store = ImageStore::open(FsBackend::open(&imagedb)?, NoLayers)?;
//!
//! // A config without layers holds no layer; one with layers needs them registered.
//! let config = br#"{"architecture":"amd64","os":"linux","created":"2024-05-01T10:11:12.5Z","rootfs":{"type":"layers"}}"#;
//! let id = store.create(config)?;
//! assert_eq!(id, imgsvc_imagestore::ImageId::of(config));
//!
//! let image = store.get(id)?;
//! assert_eq!(image.raw_json(), config);
//! assert_eq!(image.config().created, Some("2024-05-01T10:11:12.5Z".parse::<Timestamp>()?));
//! assert_eq!(store.search(&id.digest().short())?, id);
//!
//! // Another store over the same directory (another process, say) sees the image.
//! let again = ImageStore::open(FsBackend::open(&imagedb)?, NoLayers)?;
//! assert_eq!(again.heads()?, [id]);
//! assert!(again.delete(id)?.is_empty());
//! assert!(store.search(&id.digest().short()).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]
#![deny(unsafe_code)]

mod backend;
mod config;
mod error;
mod id;
mod layers;
mod store;
mod time;

pub use backend::{BackendLock, FsBackend, MAX_METADATA_SIZE, MemoryBackend, StoreBackend};
pub use config::{
    ContainerConfig, HealthConfig, History, Image, ImageConfig, MAX_CONFIG_SIZE, RootFs,
};
pub use error::{Error, ErrorKind};
pub use id::ImageId;
pub use layers::{LayerProvider, NoLayers};
pub use store::ImageStore;
pub use time::{InvalidTimestamp, Timestamp};

/// The digest crate, whose types appear in this API.
pub use imgsvc_digest as digest;
/// The layer store crate, whose types appear in this API.
pub use imgsvc_layerstore as layerstore;
