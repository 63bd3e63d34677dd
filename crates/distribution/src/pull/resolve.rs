//! From a tag or digest to one image manifest: fetched, verified, and narrowed from an
//! index to the wanted platform.

use imgsvc_digest::Digest;

use crate::client::{FetchedManifest, ManifestRef, Repository};
use crate::error::Error;
use crate::manifest::{ImageManifest, Manifest, Platform, select};

/// How deep indexes may nest (an index of indexes of manifests is depth 2).
const MAX_INDEX_DEPTH: usize = 4;

/// The manifest a pull will install, and what the reference pointed at.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// The digest of what the reference names (an index's digest for a multi-platform
    /// image), recorded as `repo@digest`.
    pub(crate) digest: Digest,
    /// The image manifest chosen.
    pub(crate) image: ImageManifest,
    /// Every manifest document fetched on the way (index first), for the content store.
    pub(crate) documents: Vec<FetchedManifest>,
}

/// Fetches `reference` and, for an index, the entry for `platform`.
pub(crate) async fn resolve(
    repo: &Repository,
    reference: ManifestRef,
    platform: &Platform,
) -> Result<Resolved, Error> {
    let top = repo.manifests().get(&reference).await?;
    let mut documents = vec![top.clone()];
    let mut current = top.clone();
    for _ in 0..MAX_INDEX_DEPTH {
        match Manifest::decode(&current.bytes, Some(&current.media_type))
            .map_err(|e| with_digest(e, current.digest))?
        {
            Manifest::Image(image) => {
                return Ok(Resolved {
                    digest: top.digest,
                    image,
                    documents,
                });
            }
            Manifest::Index(index) => {
                // The best match; `select` fails with the platforms on offer when none fits.
                let candidates = select(&index, platform)?;
                let Some(child) = candidates.first().map(|c| c.digest) else {
                    return Err(Error::NoMatchingPlatform {
                        wanted: platform.to_string(),
                        available: Vec::new(),
                    });
                };
                if documents.iter().any(|d| d.digest == child) {
                    return Err(Error::InvalidManifest {
                        digest: Some(current.digest),
                        reason: format!("the index points to itself (entry {child})"),
                    });
                }
                current = repo.manifests().get(&ManifestRef::Digest(child)).await?;
                documents.push(current.clone());
            }
        }
    }
    Err(Error::InvalidManifest {
        digest: Some(top.digest),
        reason: format!("indexes nest deeper than {MAX_INDEX_DEPTH} levels"),
    })
}

fn with_digest(err: Error, digest: Digest) -> Error {
    match err {
        Error::InvalidManifest {
            digest: None,
            reason,
        } => Error::InvalidManifest {
            digest: Some(digest),
            reason,
        },
        other => other,
    }
}
