//! Pulling container images from a registry into imgsvc's stores, the way Docker does.
//!
//! A pull resolves a tag or digest to a manifest ([`client::Repository`], verified and
//! size-capped; an index is narrowed to a [`manifest::Platform`]), fetches the image config,
//! and hands the layers that are not in the layer store yet to the
//! [`download::LayerDownloadManager`]: at most N downloads at once, one shared transfer per
//! blob digest however many pulls need it, retries that resume with `Range`, and streaming
//! from the network through the digest check and the decompressor into the layer store.
//! The image is then created in the image store and the tag and digest recorded
//! ([`pull::Puller`]). Manifests are kept in a [`content::ContentStore`]; blob↔DiffID pairs
//! in the [`metadata::V2MetadataService`], as Docker keeps them. Progress arrives as
//! Docker's events ([`progress`]). A registry that lies (wrong digest, wrong size, layers
//! that do not match the config) fails the pull with an [`Error`] naming the reference and
//! the digest, and nothing of that pull stays in the stores.
//!
//! ```
//! use std::sync::Arc;
//! use imgsvc_distribution::client::Repository;
//! use imgsvc_distribution::content::ContentStore;
//! use imgsvc_distribution::download::{DownloadOptions, LayerDownloadManager};
//! use imgsvc_distribution::metadata::V2MetadataService;
//! use imgsvc_distribution::progress::{Collect, Progress};
//! use imgsvc_distribution::pull::{PullOptions, Puller, Stores};
//! use imgsvc_imagestore::{FsBackend, ImageStore};
//! use imgsvc_layerstore::{LayerStore, driver::Vfs};
//! use imgsvc_registry_transport::{Client, Tls, Transport};
//! use imgsvc_testkit::fixture::{ImageBuilder, LayerBuilder};
//! use imgsvc_testkit::{RegistryConfig, TestRegistry};
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(async {
//! // A registry on loopback serving a one-layer image.
//! let image = ImageBuilder::new().layer(LayerBuilder::new().file("hello", b"world\n").build()?).build()?;
//! let registry = TestRegistry::start(RegistryConfig::new()).await?;
//! registry.push_image("demo/hello", "v1", &image)?;
//!
//! // The stores of one root.
//! let root = tempfile::tempdir()?;
//! let layers = Arc::new(LayerStore::open(root.path().join("image/vfs/layerdb"), Box::new(Vfs::open(root.path().join("vfs"))?))?);
//! let images = Arc::new(ImageStore::open(FsBackend::open(root.path().join("image/vfs/imagedb"))?, Arc::clone(&layers))?);
//! let references = Arc::new(imgsvc_reference::refstore::Store::open(root.path().join("image/vfs/repositories.json"))?);
//! let content = Arc::new(ContentStore::open(root.path().join("content"))?);
//! let metadata = Arc::new(V2MetadataService::open(root.path().join("image/vfs/distribution"))?);
//! let stores = Stores::new(Arc::clone(&layers), Arc::clone(&images), references, content, metadata);
//! let downloads = LayerDownloadManager::new(layers, root.path().join("tmp"), DownloadOptions::default());
//! let puller = Puller::new(stores, downloads, DownloadOptions::default());
//!
//! // Pull it.
//! let transport = Transport::new(&Client::new()?, Tls::Plain);
//! let repo = Repository::new("demo/hello", &registry.url().parse()?, transport)?;
//! let reference = imgsvc_reference::parse_normalized_named(&format!("{}/demo/hello:v1", registry.host()))?;
//! let events = Arc::new(Collect::new());
//! let progress: Arc<dyn Progress> = events.clone();
//! let outcome = puller.pull(&repo, &reference, &PullOptions::default(), &progress).await?;
//! assert_eq!(outcome.manifest_digest, image.manifest_digest());
//! assert_eq!(images.get(outcome.image_id)?.rootfs().diff_ids.len(), 1);
//! assert!(events.events().iter().any(|e| e.to_docker_json().contains("Pull complete")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod client;
pub mod content;
pub mod decompress;
pub mod download;
mod error;
pub mod manifest;
pub mod metadata;
pub mod progress;
pub mod pull;

pub use error::{Error, Object};

/// The digest crate, whose types appear in this API.
pub use imgsvc_digest as digest;
