//! `docker image prune` and `imgsvc fsck`.

use imgsvc_imagestore::ImageId;

use crate::delete::Deleted;
use crate::error::Error;
use crate::service::ImageService;

/// The largest stored document (a config) `verify` reads.
const MAX_DOCUMENT: u64 = imgsvc_distribution::pull::MAX_CONFIG_BYTES;

/// What [`ImageService::verify`] found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Damage {
    /// An image config whose bytes no longer hash to its ID, or cannot be read.
    Config {
        /// The image.
        id: ImageId,
        /// What is wrong.
        reason: String,
    },
    /// A layer whose files no longer give back the tar of its DiffID.
    Layer {
        /// The layer's ChainID.
        chain_id: imgsvc_layerstore::ChainId,
        /// What is wrong.
        reason: String,
    },
    /// A stored manifest or config blob whose bytes do not match its digest.
    Content {
        /// The blob.
        digest: imgsvc_digest::Digest,
        /// What is wrong.
        reason: String,
    },
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Config { id, reason } => write!(f, "image {}: {reason}", id.digest()),
            Damage::Layer { chain_id, reason } => write!(f, "layer {chain_id}: {reason}"),
            Damage::Content { digest, reason } => write!(f, "content {digest}: {reason}"),
        }
    }
}

/// Maintenance
impl ImageService {
    /// Deletes unused images and returns what went: with `dangling_only`, images without
    /// tags that no other image depends on (`docker image prune`); otherwise every image no
    /// other image depends on, tagged or not (`docker image prune -a`, with no containers).
    /// Parents left unused go too.
    pub fn prune(&self, dangling_only: bool) -> Result<Vec<Deleted>, Error> {
        let mut out = Vec::new();
        loop {
            let mut removed_any = false;
            for id in self.stores.images.heads()? {
                let references = self.references(id)?;
                let tagged = references.iter().any(|r| r.digest().is_none());
                if dangling_only && tagged {
                    continue;
                }
                let before = out.len();
                // A conflict (another process, a child appearing) keeps the image.
                if self
                    .delete_image(&id.digest().to_string(), !dangling_only || !tagged, true)
                    .is_ok_and(|mut d| {
                        out.append(&mut d);
                        true
                    })
                    && out.len() > before
                {
                    removed_any = true;
                }
            }
            if !removed_any {
                return Ok(out);
            }
        }
    }

    /// Re-hashes every stored image config, every layer (rebuilding its tar from the
    /// driver's files) and every stored manifest; what does not match.
    pub fn verify(&self) -> Result<Vec<Damage>, Error> {
        let mut damage = Vec::new();
        for id in self.stores.images.ids()? {
            if let Err(err) = self.stores.images.get(id) {
                damage.push(Damage::Config {
                    id,
                    reason: err.to_string(),
                });
            }
        }
        for info in self.stores.layers.map() {
            let chain_id = info.chain_id;
            let result = (|| -> Result<(), String> {
                let layer = self
                    .stores
                    .layers
                    .get(chain_id)
                    .map_err(|e| e.to_string())?;
                let stream = self.stores.layers.tar_stream(&layer);
                let checked = stream.map_err(|e| e.to_string()).and_then(|tar| {
                    imgsvc_digest::Digest::from_reader(tar).map_err(|e| e.to_string())
                });
                let _ = self.stores.layers.release(layer);
                let (digest, _) = checked?;
                if digest != info.diff_id.digest() {
                    return Err(format!(
                        "its files give a tar of {digest}, not its DiffID {}",
                        info.diff_id
                    ));
                }
                Ok(())
            })();
            if let Err(reason) = result {
                damage.push(Damage::Layer { chain_id, reason });
            }
        }
        for blob in self.stores.content.list()? {
            if let Err(err) = self.stores.content.read_verified(blob.digest, MAX_DOCUMENT) {
                damage.push(Damage::Content {
                    digest: blob.digest,
                    reason: err.to_string(),
                });
            }
        }
        Ok(damage)
    }
}
