//! The crate's one error type.

use std::path::PathBuf;

use imgsvc_digest::Digest;

/// Why a pull, a registry request, or a content-store operation failed.
///
/// Every message names the thing involved (reference, digest, path) and, where it helps,
/// what to do. Credentials never appear in a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- registry and transport ----
    /// A repository name that the distribution grammar does not allow.
    #[error("invalid repository name {name:?}")]
    InvalidRepositoryName {
        /// The name given (at most 256 characters).
        name: String,
    },

    /// The registry could not be reached or answered with an error.
    #[error(transparent)]
    Transport(#[from] imgsvc_registry_transport::Error),

    /// A tag list answer could not be read.
    #[error("tag list of {repository}: {reason}")]
    InvalidTagList {
        /// The repository.
        repository: String,
        /// What is wrong.
        reason: String,
    },

    /// A document (manifest, config) is larger than its cap; it is not read.
    #[error("{what} {digest} is larger than {limit} bytes; refusing it")]
    TooLarge {
        /// What was being read (`manifest`, `image config`).
        what: &'static str,
        /// Its digest or reference, as text.
        digest: String,
        /// The cap in bytes.
        limit: u64,
    },

    /// Content did not hash to the digest it was fetched or announced by.
    #[error("{what} verification failed for digest {expected}: the content hashes to {actual}")]
    DigestMismatch {
        /// What was verified.
        what: Object,
        /// The digest asked for or announced.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },

    /// Content was not of the announced size.
    #[error("{what} {digest} has {actual} bytes, but {expected} were announced")]
    SizeMismatch {
        /// What was measured.
        what: Object,
        /// Its digest.
        digest: Digest,
        /// The size announced (descriptor or `Content-Length`).
        expected: u64,
        /// The bytes received.
        actual: u64,
    },

    /// A `Range` answer did not continue where asked, or had no usable `Content-Range`.
    #[error("blob {digest}: {reason}")]
    BadRange {
        /// The blob.
        digest: Digest,
        /// What was wrong with the answer.
        reason: String,
    },

    // ---- manifests and platforms ----
    /// The bytes are not a manifest of the type they claim, or are not JSON at all.
    #[error("invalid manifest{}: {reason}", digest.map(|d| format!(" {d}")).unwrap_or_default())]
    InvalidManifest {
        /// The manifest's digest, when known.
        digest: Option<Digest>,
        /// What is wrong.
        reason: String,
    },

    /// A schema 1 manifest: Docker dropped support for these.
    #[error(
        "unsupported (deprecated) manifest schema1 ({media_type}); rebuild and push the image with a current tool"
    )]
    Schema1 {
        /// The media type seen.
        media_type: String,
    },

    /// A media type this crate cannot pull (an unknown manifest type, a plugin config, a
    /// layer that is not a filesystem diff).
    #[error("unsupported media type {media_type}{}", context.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    UnsupportedMediaType {
        /// The media type seen.
        media_type: String,
        /// Where it was seen, or why it is refused.
        context: Option<String>,
    },

    /// No entry of an index matches the wanted platform.
    #[error("no matching manifest for {wanted} in the manifest list entries (available: {})", if available.is_empty() { "none".to_owned() } else { available.join(", ") })]
    NoMatchingPlatform {
        /// The platform asked for (`linux/arm64/v8`).
        wanted: String,
        /// The platforms the index offers.
        available: Vec<String>,
    },

    /// A platform string is not `os[/arch[/variant]]`.
    #[error("invalid platform {text:?}: {reason}")]
    InvalidPlatform {
        /// The text given.
        text: String,
        /// What is wrong.
        reason: String,
    },

    // ---- content store and metadata ----
    /// No blob with this digest in the content store.
    #[error("content {digest}: not found")]
    ContentNotFound {
        /// The digest looked up.
        digest: Digest,
    },

    /// An ingest is being written by another writer (this or another process).
    #[error("ingest ref {reference:?} is locked by another writer; wait for it or abort it")]
    IngestLocked {
        /// The ingest's ref.
        reference: String,
    },

    /// No ingest with this ref.
    #[error("ingest ref {reference:?}: not found")]
    IngestNotFound {
        /// The ingest's ref.
        reference: String,
    },

    /// An ingest ref is empty or holds characters a ref cannot.
    #[error("invalid ingest ref {reference:?}: {reason}")]
    InvalidIngestRef {
        /// The ref given.
        reference: String,
        /// What is wrong.
        reason: String,
    },

    /// A lease id is empty, too long, or holds characters a file name cannot.
    #[error("invalid lease id {id:?}: {reason}")]
    InvalidLeaseId {
        /// The id given (at most 256 characters).
        id: String,
        /// What is wrong.
        reason: String,
    },

    /// A file of the store could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done (`write`, `read`, `rename`, ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A stored record (metadata, ingest status) is malformed.
    #[error("corrupt record {}: {reason}", path.display())]
    CorruptRecord {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    // ---- layers and images ----
    /// A layer stream could not be decompressed.
    #[error("could not decompress layer {digest}: {reason}")]
    Decompress {
        /// The layer's blob digest.
        digest: Digest,
        /// What the decoder said.
        reason: String,
    },

    /// The layer store refused a layer.
    #[error("failed to register layer {digest}: {source}")]
    Register {
        /// The layer's blob digest.
        digest: Digest,
        /// What the layer store said.
        #[source]
        source: Box<imgsvc_layerstore::Error>,
    },

    /// A layer store operation other than register failed.
    #[error(transparent)]
    Layer(Box<imgsvc_layerstore::Error>),

    /// The image store failed.
    #[error(transparent)]
    Image(Box<imgsvc_imagestore::Error>),

    /// The reference store failed.
    #[error(transparent)]
    References(#[from] imgsvc_reference::refstore::Error),

    /// The image config is not usable (no rootfs, a wrong OS, diff IDs that do not match the
    /// manifest's layers).
    #[error("image configuration {digest}: {reason}")]
    InvalidConfig {
        /// The config's digest.
        digest: Digest,
        /// What is wrong.
        reason: String,
    },

    // ---- pulls ----
    /// The pull was cancelled (a token, or every watcher left).
    #[error("cancelled")]
    Cancelled,

    /// A download failed after retries.
    #[error("download of {digest} failed after {attempts} attempt(s): {source}")]
    DownloadFailed {
        /// The blob.
        digest: Digest,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        #[source]
        source: Box<Error>,
    },

    /// A pull failed; `source` says why. The message names the reference.
    #[error("pulling {reference}: {source}")]
    Pull {
        /// The reference pulled, as the user wrote it (normalized).
        reference: String,
        /// Why it failed.
        #[source]
        source: Box<Error>,
    },

    /// A transfer shared with other pulls failed; its error.
    #[error(transparent)]
    Shared(std::sync::Arc<Error>),

    /// An internal task ended abnormally (a bug; please report it).
    #[error("internal error: {reason}")]
    Internal {
        /// What went wrong.
        reason: String,
    },
}

/// The kind of content an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Object {
    /// A manifest or index.
    Manifest,
    /// An image config.
    ImageConfig,
    /// A layer blob.
    Layer,
    /// Any blob.
    Blob,
}

impl std::fmt::Display for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Object::Manifest => "manifest",
            Object::ImageConfig => "image config",
            Object::Layer => "layer",
            Object::Blob => "blob",
        })
    }
}

impl From<imgsvc_layerstore::Error> for Error {
    fn from(err: imgsvc_layerstore::Error) -> Error {
        Error::Layer(Box::new(err))
    }
}

impl From<imgsvc_imagestore::Error> for Error {
    fn from(err: imgsvc_imagestore::Error) -> Error {
        Error::Image(Box::new(err))
    }
}

/// Building errors
impl Error {
    /// [`Error::Io`].
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
