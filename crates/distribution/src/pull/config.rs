//! The image config: fetched (verified, capped, retried), checked against the manifest.

use imgsvc_digest::Digest;
use imgsvc_imagestore::Image;
use imgsvc_layerstore::DiffId;

use crate::client::Repository;
use crate::download::{DownloadOptions, is_transient, retry_delay};
use crate::error::Error;
use crate::manifest::{Descriptor, Platform};

/// The most bytes of an image config read.
pub const MAX_CONFIG_BYTES: u64 = imgsvc_imagestore::MAX_CONFIG_SIZE as u64;

/// Fetches the config blob `descriptor` from `repo`: at most [`MAX_CONFIG_BYTES`], verified
/// against its digest and size, transient failures retried.
pub(crate) async fn fetch(
    repo: &Repository,
    descriptor: &Descriptor,
    options: &DownloadOptions,
) -> Result<Vec<u8>, Error> {
    if descriptor.size > MAX_CONFIG_BYTES {
        return Err(Error::TooLarge {
            what: "image config",
            digest: descriptor.digest.to_string(),
            limit: MAX_CONFIG_BYTES,
        });
    }
    let mut attempt = 1;
    loop {
        match fetch_once(repo, descriptor).await {
            Ok(bytes) => return Ok(bytes),
            Err(err) if is_transient(&err) && attempt < options.max_attempts => {
                tokio::time::sleep(retry_delay(&err, attempt, options.retry_delay)).await;
                attempt += 1;
            }
            Err(err) => return Err(err),
        }
    }
}

async fn fetch_once(repo: &Repository, descriptor: &Descriptor) -> Result<Vec<u8>, Error> {
    let mut stream = repo
        .blobs()
        .open(descriptor.digest, Some(descriptor.size))
        .await?;
    let mut bytes = Vec::with_capacity(usize::try_from(descriptor.size).unwrap_or(0));
    while let Some(piece) = stream.chunk().await? {
        bytes.extend_from_slice(&piece);
    }
    Ok(bytes)
}

/// The parsed config, its DiffIDs checked against the manifest's layer count.
pub(crate) fn check(config_digest: Digest, bytes: &[u8], layers: usize) -> Result<Image, Error> {
    let invalid = |reason: String| Error::InvalidConfig {
        digest: config_digest,
        reason,
    };
    let image = Image::parse(bytes).map_err(|e| invalid(e.to_string()))?;
    let diff_ids = &image.rootfs().diff_ids;
    if diff_ids.len() != layers {
        return Err(invalid(format!(
            "layers from manifest don't match image configuration ({layers} layers in the manifest, {} diff_ids in the config)",
            diff_ids.len()
        )));
    }
    Ok(image)
}

/// The config's DiffIDs.
pub(crate) fn diff_ids(image: &Image) -> Vec<DiffId> {
    image.rootfs().diff_ids.clone()
}

/// The platform a config declares (`os`, `architecture`, `variant`, `os.version`).
pub(crate) fn platform(image: &Image) -> Platform {
    let config = image.config();
    let mut platform = Platform::new(
        config.os.as_deref().unwrap_or("linux"),
        config.architecture.as_deref().unwrap_or_default(),
    );
    platform.variant = config.variant.clone().filter(|v| !v.is_empty());
    platform
}
