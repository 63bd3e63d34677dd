//! `docker save` and `docker load`: images as a tar holding both Docker's `manifest.json`
//! and an OCI image layout (`index.json`, `oci-layout`, `blobs/sha256/…`), as Docker 25 and
//! later write it, so `skopeo` (`docker-archive:`, `oci-archive:`) and `umoci` (after
//! unpacking the tar) read what we write; and we read theirs, OCI layouts included.

mod load;
mod save;

pub use load::Loaded;

/// Media types written.
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub(crate) const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// The annotation naming an image's tag in an OCI layout.
pub(crate) const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The annotation containerd and Docker use for the full reference.
pub(crate) const IMAGE_NAME: &str = "io.containerd.image.name";

/// Why an archive could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The archive holds neither `manifest.json` nor `index.json`.
    #[error(
        "the archive holds neither manifest.json nor index.json: not a docker save or OCI layout"
    )]
    NotAnArchive,
    /// A document of the archive is malformed.
    #[error("{file}: {reason}")]
    Invalid {
        /// The file in the archive.
        file: String,
        /// What is wrong.
        reason: String,
    },
}
