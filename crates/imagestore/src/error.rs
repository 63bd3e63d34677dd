//! The crate's one error type, with the broad [`ErrorKind`] Docker's API reports.

use std::io;
use std::path::PathBuf;

use imgsvc_layerstore::ChainId;

use crate::ImageId;

/// The broad class of an image-store error, as Docker's API reports it (404, 400, 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The image, its content or a metadata key does not exist.
    NotFound,
    /// The request itself is wrong (a bad config, a bad key, an ambiguous prefix); no retry
    /// will help.
    InvalidParameter,
    /// The store's files could not be read or written, or are damaged.
    Storage,
}

/// Why an image-store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Empty data cannot be stored: it is never an image config.
    #[error("invalid empty data: an image config cannot be empty")]
    EmptyData,

    /// A config or metadata value is larger than the store accepts.
    #[error("{what} is {size} bytes, more than the {limit} bytes allowed{}", at(path.as_ref()))]
    TooLarge {
        /// What was too large ("image config", "metadata value").
        what: &'static str,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
        /// The file, when it was read from one.
        path: Option<PathBuf>,
    },

    /// No content is stored under this ID.
    #[error("failed to get digest {id}: no image config at {}", path.display())]
    ContentNotFound {
        /// The image ID.
        id: ImageId,
        /// Where the content would be.
        path: PathBuf,
    },

    /// The stored content no longer hashes to its ID: the file is damaged (for example
    /// truncated by a crash of a tool that did not write it atomically).
    #[error(
        "failed to verify: {id}: {} no longer hashes to its ID; the file is damaged, \
         delete the image and pull or load it again",
        path.display()
    )]
    Corrupted {
        /// The ID the content is stored under.
        id: ImageId,
        /// The damaged file.
        path: PathBuf,
    },

    /// A metadata key is not a plain file name.
    #[error(
        "invalid metadata key {key:?}: a key must be a non-empty file name \
         (no '/', no NUL, not '.' or '..')"
    )]
    InvalidMetadataKey {
        /// The key as given.
        key: String,
    },

    /// The image has no value for this metadata key.
    #[error("failed to read metadata: image {id} has no {key:?} metadata")]
    MetadataNotFound {
        /// The image ID.
        id: ImageId,
        /// The key.
        key: String,
    },

    /// A metadata value is not what the store writes there.
    #[error(
        "invalid {key:?} metadata of image {id}: {reason}; set it again or delete it \
         (in an imagedb directory: metadata/sha256/<id>/{key})"
    )]
    CorruptMetadata {
        /// The image ID.
        id: ImageId,
        /// The key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The config is not valid JSON for an image config.
    #[error("invalid image config at line {line}, column {column}: {message}")]
    InvalidConfig {
        /// The 1-based line of the problem.
        line: usize,
        /// The 1-based column of the problem.
        column: usize,
        /// What is wrong there.
        message: String,
    },

    /// The config has no `rootfs` (or a `null` one).
    #[error("invalid image JSON, no RootFS key: an image config needs a \"rootfs\" object")]
    NoRootFs,

    /// The history names more layers than `rootfs.diff_ids` has.
    #[error(
        "too many non-empty layers in History section: {non_empty} history entries make a \
         layer but rootfs.diff_ids has {diff_ids}"
    )]
    TooManyNonEmptyLayers {
        /// History entries without `empty_layer: true`.
        non_empty: usize,
        /// Entries in `rootfs.diff_ids`.
        diff_ids: usize,
    },

    /// The image is for another operating system than this one.
    #[error("operating system is not supported: the image is for {os:?}, this system runs {host}")]
    UnsupportedOs {
        /// The image's operating system.
        os: String,
        /// This system's operating system.
        host: &'static str,
    },

    /// The layers the config names are not in the layer store.
    #[error(
        "failed to get layer {chain_id}: layer does not exist; register the image's layers \
         before creating the image"
    )]
    LayerNotRegistered {
        /// The ChainID of the config's `rootfs.diff_ids`.
        chain_id: ChainId,
    },

    /// The layer store failed.
    #[error("layer store failed on {chain_id}: {source}")]
    Layer {
        /// The layer chain concerned.
        chain_id: ChainId,
        /// The layer store's error.
        source: Box<imgsvc_layerstore::Error>,
    },

    /// The store does not hold this image.
    #[error("unrecognized image ID {id}")]
    UnknownImage {
        /// The image ID.
        id: ImageId,
    },

    /// The parent given to [`set_parent`](crate::ImageStore::set_parent) is not in the store.
    #[error("unknown parent image ID {parent}")]
    UnknownParent {
        /// The parent's ID.
        parent: ImageId,
    },

    /// Making `parent` the parent of `id` would make an image its own ancestor.
    #[error("cannot make {parent} the parent of {id}: {id} would become its own ancestor")]
    ParentCycle {
        /// The image.
        id: ImageId,
        /// The parent refused.
        parent: ImageId,
    },

    /// No image matches a search term.
    #[error("No such image: {term}")]
    NotFound {
        /// The term searched for (shortened when long).
        term: String,
    },

    /// Several images match a search term.
    #[error("ambiguous digest string {term:?}: several images start with it; give more characters")]
    Ambiguous {
        /// The term searched for (shortened when long).
        term: String,
    },

    /// Reading, writing or locking a file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("read", "write", "lock", ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
}

fn at(path: Option<&PathBuf>) -> String {
    path.map(|p| format!(" ({})", p.display()))
        .unwrap_or_default()
}

impl Error {
    /// The broad class of the error.
    ///
    /// ```
    /// use imgsvc_imagestore::{Error, ErrorKind};
    /// assert_eq!(Error::NoRootFs.kind(), ErrorKind::InvalidParameter);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::ContentNotFound { .. }
            | Error::MetadataNotFound { .. }
            | Error::UnknownImage { .. }
            | Error::UnknownParent { .. }
            | Error::NotFound { .. } => ErrorKind::NotFound,
            Error::EmptyData
            | Error::TooLarge { .. }
            | Error::InvalidMetadataKey { .. }
            | Error::InvalidConfig { .. }
            | Error::NoRootFs
            | Error::TooManyNonEmptyLayers { .. }
            | Error::UnsupportedOs { .. }
            | Error::LayerNotRegistered { .. }
            | Error::ParentCycle { .. }
            | Error::Ambiguous { .. } => ErrorKind::InvalidParameter,
            Error::Corrupted { .. }
            | Error::CorruptMetadata { .. }
            | Error::Layer { .. }
            | Error::Io { .. } => ErrorKind::Storage,
        }
    }

    /// An I/O error on `path` while doing `action`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }

    /// A layer-store error on `chain_id`, with "does not exist" made specific.
    pub(crate) fn layer(chain_id: ChainId, source: imgsvc_layerstore::Error) -> Error {
        match source {
            imgsvc_layerstore::Error::LayerDoesNotExist { .. } => {
                Error::LayerNotRegistered { chain_id }
            }
            source => Error::Layer {
                chain_id,
                source: Box::new(source),
            },
        }
    }
}
