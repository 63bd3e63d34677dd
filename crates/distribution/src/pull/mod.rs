//! A pull, end to end: resolve the manifest (and the platform of an index), fetch the
//! config, download and register the missing layers, create the image, record the tag and
//! digest.

mod config;
mod descriptor;
mod resolve;

pub use config::MAX_CONFIG_BYTES;

use std::sync::Arc;

use imgsvc_digest::Digest;
use imgsvc_imagestore::{FsBackend, ImageId, ImageStore};
use imgsvc_layerstore::{DiffId, LayerStore};
use imgsvc_reference::Reference;
use imgsvc_reference::refstore;

use crate::client::{ManifestRef, Repository};
use crate::content::ContentStore;
use crate::download::{DownloadDescriptor, DownloadOptions, LayerDownloadManager};
use crate::error::Error;
use crate::manifest::{Platform, media_type};
use crate::metadata::V2MetadataService;
use crate::progress::{Event, Progress};
use descriptor::PullDescriptor;

/// The image store a pull creates images in: configs on disk, layers from the layer store.
pub type Images = ImageStore<FsBackend, Arc<LayerStore>>;

/// The stores a pull fills.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Stores {
    /// Layers.
    pub layers: Arc<LayerStore>,
    /// Image configs.
    pub images: Arc<Images>,
    /// Tags and digests (`repositories.json`).
    pub references: Arc<refstore::Store>,
    /// Manifests and indexes, kept by digest.
    pub content: Arc<ContentStore>,
    /// Blob digest ↔ DiffID per source repository.
    pub metadata: Arc<V2MetadataService>,
}

impl Stores {
    /// The stores, as parts.
    pub fn new(
        layers: Arc<LayerStore>,
        images: Arc<Images>,
        references: Arc<refstore::Store>,
        content: Arc<ContentStore>,
        metadata: Arc<V2MetadataService>,
    ) -> Stores {
        Stores {
            layers,
            images,
            references,
            content,
            metadata,
        }
    }
}

/// Choices of one pull.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PullOptions {
    /// The platform to pull from a multi-platform image; the host's by default.
    pub platform: Option<Platform>,
}

/// The content-store lease that keeps an image's manifests: `image-<config hex>`.
pub fn image_lease_id(image_id: ImageId) -> String {
    format!("image-{}", image_id.digest().encoded().as_str())
}

/// A lease for the time of one pull, deleted when dropped (also when the pull is).
struct PullLease {
    content: Arc<ContentStore>,
    lease: crate::content::Lease,
}

impl PullLease {
    fn new(content: &Arc<ContentStore>) -> Result<PullLease, Error> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let id = format!("pull-{}-{nanos}", std::process::id());
        Ok(PullLease {
            lease: content.lease(&id)?,
            content: Arc::clone(content),
        })
    }
}

impl Drop for PullLease {
    fn drop(&mut self) {
        let _ = self.content.delete_lease(self.lease.id());
    }
}

/// What a pull did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The reference pulled (normalized).
    pub reference: Reference,
    /// The digest the reference resolved to (an index's digest for a multi-platform image).
    pub manifest_digest: Digest,
    /// The image created (or found).
    pub image_id: ImageId,
    /// The image's layers, bottom first.
    pub layers: Vec<DiffId>,
    /// The platform of the image pulled.
    pub platform: Platform,
    /// Whether anything changed: `false` is Docker's "Image is up to date".
    pub updated: bool,
}

/// Pulls images into a set of [`Stores`], sharing one [`LayerDownloadManager`] between
/// concurrent pulls.
#[derive(Debug, Clone)]
pub struct Puller {
    stores: Stores,
    downloads: LayerDownloadManager,
    options: DownloadOptions,
}

/// Construction
impl Puller {
    /// A puller filling `stores` through `downloads`.
    pub fn new(
        stores: Stores,
        downloads: LayerDownloadManager,
        options: DownloadOptions,
    ) -> Puller {
        Puller {
            stores,
            downloads,
            options,
        }
    }

    /// The stores pulls fill.
    pub fn stores(&self) -> &Stores {
        &self.stores
    }
}

/// Pulling
impl Puller {
    /// Pulls `reference` (a tag or a digest of `repo`'s repository) into the stores.
    ///
    /// On failure nothing of this pull stays: no image, no tag, no layer that only it
    /// needed. The error names the reference.
    pub async fn pull(
        &self,
        repo: &Repository,
        reference: &Reference,
        options: &PullOptions,
        progress: &Arc<dyn Progress>,
    ) -> Result<Outcome, Error> {
        self.pull_inner(repo, reference, options, progress)
            .await
            .map_err(|source| Error::Pull {
                reference: reference.familiar_string(),
                source: Box::new(source),
            })
    }

    async fn pull_inner(
        &self,
        repo: &Repository,
        reference: &Reference,
        options: &PullOptions,
        progress: &Arc<dyn Progress>,
    ) -> Result<Outcome, Error> {
        let manifest_ref = match (reference.digest(), reference.tag()) {
            (Some(digest), _) => ManifestRef::Digest(digest),
            (None, Some(tag)) => ManifestRef::Tag(tag.as_str().to_owned()),
            (None, None) => ManifestRef::Tag(imgsvc_reference::LATEST.to_owned()),
        };
        progress.event(Event::message(
            Some(manifest_ref.to_string()),
            format!("Pulling from {}", reference.familiar_name()),
        ));
        let platform = options.platform.clone().unwrap_or_else(Platform::host);
        let resolved = resolve::resolve(repo, manifest_ref, &platform).await?;
        let image = &resolved.image;
        media_type::check_config_media_type(&image.config().media_type)?;
        for layer in image.layers() {
            media_type::check_supported(&layer.media_type)?;
        }
        // Manifests are kept under a lease for this pull, so that a garbage collection
        // running meanwhile keeps them; the image's own lease holds them afterwards.
        let lease = PullLease::new(&self.stores.content)?;
        for document in &resolved.documents {
            lease.lease.add(document.digest)?;
            // A cache of what was pulled; failing to keep it fails nothing.
            let _ = self.stores.content.put(&document.bytes, document.digest);
        }

        let config_id = ImageId::new(image.config().digest);
        let (image_id, layers, config_platform) = if self.stores.images.contains(config_id)? {
            let existing = self.stores.images.get(config_id)?;
            (
                config_id,
                config::diff_ids(&existing),
                config::platform(&existing),
            )
        } else {
            let bytes = config::fetch(repo, image.config(), &self.options).await?;
            let parsed = config::check(image.config().digest, &bytes, image.layers().len())?;
            lease.lease.add(image.config().digest)?;
            let _ = self.stores.content.put(&bytes, image.config().digest);
            let diff_ids = config::diff_ids(&parsed);
            let source = format!("{}/{}", reference.domain(), reference.path());
            let descriptors: Vec<Arc<dyn DownloadDescriptor>> = image
                .layers()
                .iter()
                .zip(&diff_ids)
                .map(|(layer, diff_id)| {
                    Arc::new(PullDescriptor {
                        repo: repo.clone(),
                        digest: layer.digest,
                        size: layer.size,
                        media_type: layer.media_type.clone(),
                        diff_id: *diff_id,
                        metadata: Some((Arc::clone(&self.stores.metadata), source.clone())),
                    }) as Arc<dyn DownloadDescriptor>
                })
                .collect();
            let downloaded = self.downloads.download(&descriptors, progress).await?;
            let created = self.stores.images.create(&bytes);
            downloaded.release()?;
            (created?, diff_ids, config::platform(&parsed))
        };

        let image_lease = self.stores.content.lease(&image_lease_id(image_id))?;
        for document in &resolved.documents {
            image_lease.add(document.digest)?;
        }
        image_lease.add(image_id.digest())?;
        drop(lease);
        let updated = self.record(reference, resolved.digest, image_id)?;
        progress.event(Event::message(None, format!("Digest: {}", resolved.digest)));
        let status = if updated {
            format!(
                "Status: Downloaded newer image for {}",
                reference.familiar_string()
            )
        } else {
            format!(
                "Status: Image is up to date for {}",
                reference.familiar_string()
            )
        };
        progress.event(Event::message(None, status));
        Ok(Outcome {
            reference: reference.clone(),
            manifest_digest: resolved.digest,
            image_id,
            layers,
            platform: config_platform,
            updated,
        })
    }

    /// Records `reference` (and `repo@digest` for a tag) for `image_id`; whether anything
    /// changed.
    fn record(
        &self,
        reference: &Reference,
        digest: Digest,
        image_id: ImageId,
    ) -> Result<bool, Error> {
        let refs = &self.stores.references;
        let by_digest = reference.trim_named().with_digest(digest);
        let before = refs.try_get(reference)?;
        let had_digest = refs.try_get(&by_digest)?;
        if reference.digest().is_some() {
            refs.add_digest(reference, image_id.digest(), true)?;
        } else {
            if had_digest.is_none_or(|id| id == image_id.digest()) {
                refs.add_digest(&by_digest, image_id.digest(), true)?;
            }
            refs.add_tag(reference, image_id.digest(), true)?;
        }
        Ok(before != Some(image_id.digest()) || had_digest.is_none())
    }
}
