//! The tag store's error type.

use std::io;
use std::path::PathBuf;

use imgsvc_digest::Digest;

/// The broad class of a tag-store error, as Docker's API reports it (404, 400, 409, 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The reference is not in the store.
    NotFound,
    /// The request itself is wrong and no retry will help.
    InvalidParameter,
    /// The request conflicts with what the store holds.
    Conflict,
    /// The store's file could not be read or written, or is corrupt.
    Storage,
}

/// Why a tag-store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No such reference in the store.
    #[error("reference does not exist: {reference}")]
    NotFound {
        /// The reference, in familiar form.
        reference: String,
    },

    /// A reference with a digest cannot be a tag.
    #[error("refusing to create a tag with a digest reference: {reference}")]
    TagWithDigest {
        /// The reference, in familiar form.
        reference: String,
    },

    /// A digest reference was expected, but this one has no digest.
    #[error("a digest reference needs a digest: {reference} has none")]
    DigestMissing {
        /// The reference, in familiar form.
        reference: String,
    },

    /// A repository named like a digest algorithm would make `sha256:<hex>` ambiguous.
    #[error("refusing to create an ambiguous tag using digest algorithm as name: {reference}")]
    AmbiguousName {
        /// The reference, in familiar form.
        reference: String,
    },

    /// The reference is not in Docker's normalized form, so it cannot be stored under the
    /// familiar key Docker would use.
    #[error(
        "reference {reference} is not normalized; parse it with parse_normalized_named \
         (it would be {normalized})"
    )]
    NotNormalized {
        /// The reference as given.
        reference: String,
        /// Its normalized form.
        normalized: String,
    },

    /// A digest reference already points at another image; digests never move.
    #[error("cannot overwrite digest {reference}: it already points at image {image}")]
    DigestConflict {
        /// The reference, in familiar form.
        reference: String,
        /// The image it points at.
        image: Digest,
    },

    /// A tag already points at another image and `force` was not given.
    #[error("tag {reference} is already set to image {image}, use the force option to replace it")]
    TagConflict {
        /// The tag, in familiar form.
        reference: String,
        /// The image it points at.
        image: Digest,
    },

    /// Reading, writing or locking the store's file failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done ("read", "write", "lock", ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },

    /// The file is not a valid `repositories.json`; it is left untouched.
    #[error(
        "{path} is corrupt at line {line}, column {column}: {message}; \
         fix or remove the file (it holds only tags: images are kept)"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the problem.
        line: usize,
        /// The 1-based column of the problem.
        column: usize,
        /// What is wrong there.
        message: String,
    },
}

impl Error {
    /// The broad class of the error.
    ///
    /// ```
    /// use imgsvc_reference::refstore::{Error, ErrorKind};
    /// let err = Error::NotFound { reference: "ubuntu:latest".into() };
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::TagWithDigest { .. }
            | Error::DigestMissing { .. }
            | Error::AmbiguousName { .. }
            | Error::NotNormalized { .. } => ErrorKind::InvalidParameter,
            Error::DigestConflict { .. } | Error::TagConflict { .. } => ErrorKind::Conflict,
            Error::Io { .. } | Error::Corrupt { .. } => ErrorKind::Storage,
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
}
