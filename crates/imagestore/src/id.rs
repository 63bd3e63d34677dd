//! [`ImageId`]: an image's identity, the digest of its exact config bytes.

use std::fmt;
use std::str::FromStr;

use imgsvc_digest::Digest;

/// An image's ID: the SHA-256 digest of its config bytes exactly as stored. There is no
/// canonical form: the same config with other whitespace is another image.
///
/// ```
/// use imgsvc_imagestore::ImageId;
///
/// let config = br#"{"comment": "abc", "rootfs": {"type": "layers", "diff_ids": ["2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"]}}"#;
/// let id = ImageId::of(config);
/// assert_eq!(
///     id.to_string(),
///     "sha256:8d25a9c45df515f9d0fe8e4a6b1c64dd3b965a84790ddbcc7954bb9bc89eb993"
/// );
/// assert_eq!(id.to_string().parse::<ImageId>()?, id);
/// # Ok::<(), imgsvc_digest::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageId(Digest);

impl ImageId {
    /// The ID of the config `bytes`.
    ///
    /// ```
    /// use imgsvc_imagestore::ImageId;
    /// assert_eq!(ImageId::of(b"{}").digest(), imgsvc_digest::Digest::from_bytes(b"{}"));
    /// ```
    pub fn of(bytes: &[u8]) -> ImageId {
        ImageId(Digest::from_bytes(bytes))
    }

    /// Wraps a digest.
    ///
    /// ```
    /// use imgsvc_imagestore::ImageId;
    /// let d = imgsvc_digest::Digest::from_bytes(b"{}");
    /// assert_eq!(ImageId::new(d), ImageId::of(b"{}"));
    /// ```
    pub const fn new(digest: Digest) -> ImageId {
        ImageId(digest)
    }

    /// The digest.
    ///
    /// ```
    /// let id = imgsvc_imagestore::ImageId::of(b"{}");
    /// assert_eq!(id.digest().algorithm().name(), "sha256");
    /// ```
    pub const fn digest(&self) -> Digest {
        self.0
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ImageId({})", self.0)
    }
}

impl FromStr for ImageId {
    type Err = imgsvc_digest::Error;
    fn from_str(text: &str) -> Result<ImageId, imgsvc_digest::Error> {
        text.parse().map(ImageId)
    }
}

impl From<Digest> for ImageId {
    fn from(digest: Digest) -> ImageId {
        ImageId(digest)
    }
}

impl From<ImageId> for Digest {
    fn from(id: ImageId) -> Digest {
        id.0
    }
}

impl serde::Serialize for ImageId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for ImageId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ImageId, D::Error> {
        Digest::deserialize(deserializer).map(ImageId)
    }
}
