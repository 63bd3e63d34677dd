//! Docker's image service as a library: pull, list, inspect, tag and delete images in a
//! Docker-style data root, with no daemon.
//!
//! [`ImageService::open`] opens a root (`/var/lib/docker`'s layout: `image/<driver>/…`,
//! the driver's directories, `content/` for manifests) and composes the stores of the
//! sibling crates: layers ([`layerstore`]), image configs ([`imagestore`]), tags
//! ([`mod@reference`]), and the puller ([`distribution`]) over an authorised registry
//! transport ([`registry_transport`]). Its methods behave like `docker image …`: images are
//! found by reference, full ID or unique ID prefix; deleting follows Docker's conflict rules.
//!
//! ```
//! use std::sync::Arc;
//! use imgsvc::{Filters, ImageService, Options};
//! use imgsvc::distribution::progress::Progress;
//! use imgsvc_testkit::fixture::{ImageBuilder, LayerBuilder};
//! use imgsvc_testkit::{RegistryConfig, TestRegistry};
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(async {
//! // A registry on loopback with one image.
//! let image = ImageBuilder::new().layer(LayerBuilder::new().file("hello", b"world\n").build()?).build()?;
//! let registry = TestRegistry::start(RegistryConfig::new()).await?;
//! registry.push_image("demo/hello", "v1", &image)?;
//!
//! // Open a root, pull, list, tag, delete.
//! let root = tempfile::tempdir()?;
//! let mut options = Options::default();
//! options.driver = Some("vfs".to_owned());
//! let service = ImageService::open(root.path(), options)?;
//! let progress: Arc<dyn Progress> = Arc::new(());
//! let name = format!("{}/demo/hello", registry.host());
//! let pulled = service.pull_image(&name, Some("v1"), None, None, &progress).await?;
//!
//! let listed = service.images(&Filters::default())?;
//! assert_eq!(listed.len(), 1);
//! assert_eq!(listed[0].repo_tags, [format!("{name}:v1")]);
//! assert_eq!(service.resolve(&pulled.image_id.digest().short())?, pulled.image_id);
//!
//! service.tag_image(&format!("{name}:v1"), "hello:mine")?;
//! let removed = service.delete_image("hello:mine", false, true)?;
//! assert_eq!(removed.len(), 1, "only untagged: {removed:?}");
//! let removed = service.delete_image(&pulled.image_id.digest().to_string(), true, true)?;
//! assert!(removed.iter().any(|r| matches!(r, imgsvc::Deleted::Deleted(_))));
//! assert!(service.images(&Filters::default())?.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]
#![deny(unsafe_code)]

mod archive;
mod delete;
mod error;
mod history;
mod list;
mod prune;
mod pull;
mod resolve;
mod service;
mod tag;
mod unpack;

pub use archive::{ArchiveError, Loaded};
pub use delete::Deleted;
pub use error::{Error, ErrorKind};
pub use history::{HistoryEntry, Inspect};
pub use list::{Filters, ImageSummary};
pub use prune::Damage;
pub use pull::pull_reference;
pub use service::{ImageService, Info, Options};

/// Digests.
pub use imgsvc_digest as digest;
/// Pulling (manifests, platforms, the download manager, progress).
pub use imgsvc_distribution as distribution;
/// Image configs and the image store.
pub use imgsvc_imagestore as imagestore;
/// Layers and storage drivers.
pub use imgsvc_layerstore as layerstore;
/// References and the tag store.
pub use imgsvc_reference as reference;
/// Registry endpoints, auth and credentials.
pub use imgsvc_registry_transport as registry_transport;
