//! The download descriptor of a pull: one layer of one repository.

use std::sync::Arc;

use imgsvc_digest::Digest;
use imgsvc_layerstore::DiffId;

use crate::client::{BlobStream, Repository};
use crate::download::DownloadDescriptor;
use crate::error::Error;
use crate::metadata::{V2Metadata, V2MetadataService};

/// A layer blob of `repo` that must turn into `diff_id`.
pub(crate) struct PullDescriptor {
    pub(crate) repo: Repository,
    pub(crate) digest: Digest,
    pub(crate) size: u64,
    pub(crate) media_type: String,
    pub(crate) diff_id: DiffId,
    /// Where blob↔DiffID pairs are recorded, and the fully qualified source repository.
    pub(crate) metadata: Option<(Arc<V2MetadataService>, String)>,
}

impl DownloadDescriptor for PullDescriptor {
    fn digest(&self) -> Digest {
        self.digest
    }

    fn size(&self) -> Option<u64> {
        Some(self.size)
    }

    fn media_type(&self) -> &str {
        &self.media_type
    }

    fn diff_id(&self) -> DiffId {
        self.diff_id
    }

    fn download(&self) -> Result<BlobStream, Error> {
        self.repo.blobs().stream(self.digest, Some(self.size))
    }

    fn registered(&self, diff_id: DiffId) {
        if let Some((service, source)) = &self.metadata {
            // Metadata only speeds up later pulls; failing to record it fails nothing.
            let _ = service.add(
                diff_id.digest(),
                &V2Metadata {
                    digest: self.digest,
                    source_repository: source.clone(),
                    hmac: String::new(),
                },
            );
        }
    }
}
