//! Opening a data root: the driver, the stores, the puller.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use imgsvc_distribution::content::ContentStore;
use imgsvc_distribution::download::{DownloadOptions, LayerDownloadManager};
use imgsvc_distribution::metadata::V2MetadataService;
use imgsvc_distribution::pull::{Images, Puller, Stores};
use imgsvc_imagestore::{FsBackend, ImageStore};
use imgsvc_layerstore::LayerStore;
use imgsvc_layerstore::driver::{self, Driver, Overlay2, Vfs};
use imgsvc_reference::refstore;
use imgsvc_registry_transport::{Client, RegistryConfig};

use crate::error::Error;

/// Choices for [`ImageService::open`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Options {
    /// The storage driver: `vfs`, `overlay2`, or `None` to choose as Docker does (what the
    /// root already holds, else overlay2 where it works, else vfs).
    pub driver: Option<String>,
    /// Mirrors and insecure registries.
    pub registry: RegistryConfig,
    /// Download concurrency and retries.
    pub download: DownloadOptions,
}

/// Docker's image service over one data root, without a daemon: pull, list, inspect, tag
/// and delete images. Safe to share between threads; several processes may open one root.
#[derive(Debug)]
pub struct ImageService {
    pub(crate) root: PathBuf,
    pub(crate) stores: Stores,
    pub(crate) puller: Puller,
    pub(crate) registry: RegistryConfig,
    pub(crate) client: Client,
}

/// Construction
impl ImageService {
    /// Opens (creating if needed) the data root `root`: `image/<driver>/{layerdb, imagedb,
    /// repositories.json, distribution}`, `<driver>/`, `content/`, `tmp/` (emptied).
    pub fn open(root: impl Into<PathBuf>, options: Options) -> Result<ImageService, Error> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|source| Error::Io {
            action: "create the data root",
            path: root.clone(),
            source,
        })?;
        let tmp = root.join("tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        let driver = open_driver(&root, options.driver.as_deref())?;
        let image_root = root.join("image").join(driver.name());
        let layers = Arc::new(LayerStore::open(image_root.join("layerdb"), driver)?);
        let images: Arc<Images> = Arc::new(ImageStore::open(
            FsBackend::open(image_root.join("imagedb"))?,
            Arc::clone(&layers),
        )?);
        let references = Arc::new(refstore::Store::open(image_root.join("repositories.json"))?);
        let content = Arc::new(ContentStore::open(root.join("content"))?);
        let metadata = Arc::new(V2MetadataService::open(image_root.join("distribution"))?);
        let stores = Stores::new(Arc::clone(&layers), images, references, content, metadata);
        let downloads = LayerDownloadManager::new(layers, tmp, options.download.clone());
        let puller = Puller::new(stores.clone(), downloads, options.download);
        Ok(ImageService {
            root,
            stores,
            puller,
            registry: options.registry,
            client: Client::new()?,
        })
    }
}

fn open_driver(root: &Path, name: Option<&str>) -> Result<Box<dyn Driver>, Error> {
    Ok(match name {
        None => driver::open_default(root)?,
        Some("vfs") => Box::new(Vfs::open(root.join("vfs"))?),
        Some("overlay2") => Box::new(Overlay2::open(root.join("overlay2"))?),
        Some(other) => {
            return Err(Error::Layers(Box::new(
                imgsvc_layerstore::Error::Unsupported {
                    driver: "unknown",
                    reason: format!("no storage driver named {other:?} (vfs, overlay2)"),
                },
            )));
        }
    })
}

/// Access
impl ImageService {
    /// The data root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The stores, for what the facade does not cover.
    pub fn stores(&self) -> &Stores {
        &self.stores
    }
}

/// `docker info`'s image section.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Info {
    /// `Storage Driver`.
    pub driver: String,
    /// The driver's status pairs (`Backing Filesystem`, `Supports d_type`, ...).
    pub driver_status: Vec<(String, String)>,
    /// `Images`.
    pub images: usize,
    /// `Docker Root Dir`.
    pub root: PathBuf,
}

/// Reports
impl ImageService {
    /// The `docker info` image section.
    pub fn info(&self) -> Result<Info, Error> {
        Ok(Info {
            driver: self.stores.layers.driver_name().to_owned(),
            driver_status: self.stores.layers.driver_status(),
            images: self.stores.images.len()?,
            root: self.root.clone(),
        })
    }
}
