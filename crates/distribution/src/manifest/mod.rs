//! Manifests and indexes (OCI and Docker schema 2): media types, decoding, and choosing an
//! index entry for a platform.
//!
//! A registry answers a manifest request with bytes and a `Content-Type`.
//! [`Manifest::decode`] turns them into an [`ImageManifest`] (a config and layers) or an
//! [`Index`] (manifests, usually one per platform), deciding the kind the way Docker and
//! containerd do: by the document's own `mediaType`, else by the content type, else by its
//! fields. Schema 1 manifests are refused with [`Error::Schema1`](crate::Error::Schema1).
//! [`select`] then orders an index's entries by how well they suit a [`Platform`].
//!
//! ```
//! use imgsvc_distribution::manifest::{self, Manifest, Platform, media_type};
//!
//! let list = br#"{
//!   "schemaVersion": 2,
//!   "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
//!   "manifests": [
//!     {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 1,
//!      "digest": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
//!      "platform": {"os": "linux", "architecture": "arm", "variant": "v6"}},
//!     {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 2,
//!      "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
//!      "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}
//!   ]
//! }"#;
//! let manifest = Manifest::decode(list, Some(media_type::DOCKER_MANIFEST_LIST))?;
//! let index = manifest.as_index().ok_or("an index")?;
//!
//! // An arm64 host prefers the arm64 entry, and can run the 32-bit one too.
//! let wanted: Platform = "linux/aarch64".parse()?;
//! let chosen = manifest::select(index, &wanted)?;
//! assert_eq!(chosen.len(), 2);
//! assert_eq!(chosen[0].size, 2);
//!
//! // A 386 host can run neither.
//! let err = manifest::select(index, &"linux/386".parse()?).unwrap_err();
//! assert!(err.to_string().contains("no matching manifest for linux/386"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod decode;
mod descriptor;
mod image;
mod index;
mod matcher;
pub mod media_type;
mod platform;

use serde::Serialize;

pub use descriptor::Descriptor;
pub use image::ImageManifest;
pub use index::Index;
pub use matcher::{Matcher, select};
pub use platform::Platform;

/// The largest manifest decoded, in bytes (4 MiB, Docker's cap).
pub const MAX_MANIFEST_SIZE: u64 = 4 << 20;

/// A decoded manifest: an image manifest or an index.
///
/// Serializing writes the document's fields (not the original bytes: a manifest's digest is
/// that of the bytes as fetched, so keep those).
///
/// ```
/// use imgsvc_distribution::manifest::{Manifest, media_type};
///
/// let m = Manifest::decode(br#"{"schemaVersion":2,"manifests":[]}"#, None)?;
/// assert!(m.is_index());
/// assert_eq!(m.media_type(), media_type::OCI_INDEX);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[allow(
    clippy::large_enum_variant,
    reason = "one manifest is decoded per pull step and rarely moved; boxing buys nothing"
)]
pub enum Manifest {
    /// An OCI image manifest or a Docker schema 2 manifest.
    Image(ImageManifest),
    /// An OCI index or a Docker manifest list.
    Index(Index),
}

/// Access
impl Manifest {
    /// The media type: the document's `mediaType`, else the OCI type of its kind.
    pub fn media_type(&self) -> &str {
        match self {
            Manifest::Image(image) => image.media_type(),
            Manifest::Index(index) => index.media_type(),
        }
    }

    /// Is it an index?
    pub fn is_index(&self) -> bool {
        matches!(self, Manifest::Index(_))
    }

    /// The image manifest, if it is one.
    pub fn as_image(&self) -> Option<&ImageManifest> {
        match self {
            Manifest::Image(image) => Some(image),
            Manifest::Index(_) => None,
        }
    }

    /// The index, if it is one.
    pub fn as_index(&self) -> Option<&Index> {
        match self {
            Manifest::Index(index) => Some(index),
            Manifest::Image(_) => None,
        }
    }

    /// The image manifest, if it is one, by value.
    pub fn into_image(self) -> Option<ImageManifest> {
        match self {
            Manifest::Image(image) => Some(image),
            Manifest::Index(_) => None,
        }
    }

    /// The index, if it is one, by value.
    pub fn into_index(self) -> Option<Index> {
        match self {
            Manifest::Index(index) => Some(index),
            Manifest::Image(_) => None,
        }
    }

    /// The artifact type, for artifacts.
    pub fn artifact_type(&self) -> Option<&str> {
        match self {
            Manifest::Image(image) => image.artifact_type(),
            Manifest::Index(index) => index.artifact_type(),
        }
    }

    /// The subject, for manifests that refer to another.
    pub fn subject(&self) -> Option<&Descriptor> {
        match self {
            Manifest::Image(image) => image.subject(),
            Manifest::Index(index) => index.subject(),
        }
    }
}

impl From<ImageManifest> for Manifest {
    fn from(image: ImageManifest) -> Manifest {
        Manifest::Image(image)
    }
}

impl From<Index> for Manifest {
    fn from(index: Index) -> Manifest {
        Manifest::Index(index)
    }
}
