//! The facade's error type, with Docker's kinds.

/// What kind of failure, as Docker's API classifies it (the CLI maps these to exit codes and
/// an HTTP layer would map them to statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No such image or reference.
    NotFound,
    /// The request is malformed (a bad reference, an ambiguous ID prefix).
    InvalidArgument,
    /// The operation conflicts with the state (an image in use, referenced elsewhere).
    Conflict,
    /// The registry refused the credentials.
    Unauthorized,
    /// Anything else (I/O, a registry in trouble).
    Unknown,
}

/// Why an image operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No image matches.
    #[error("No such image: {reference}")]
    NoSuchImage {
        /// What was asked for.
        reference: String,
    },

    /// The image exists, but for another platform than the one asked for.
    #[error(
        "image with reference {reference} was found but does not match the specified platform: wanted {wanted}, actual: {actual}"
    )]
    WrongPlatform {
        /// What was asked for.
        reference: String,
        /// The platform wanted.
        wanted: String,
        /// The image's platform.
        actual: String,
    },

    /// A reference that is not valid.
    #[error("invalid reference format: {text:?}: {source}")]
    InvalidReference {
        /// The text given.
        text: String,
        /// Why.
        #[source]
        source: Box<imgsvc_reference::Error>,
    },

    /// `docker tag` to a digest reference.
    #[error("refusing to create a tag with a digest reference: {text}")]
    TagWithDigest {
        /// The target given.
        text: String,
    },

    /// `pull --all-tags` of a reference that names a tag or digest.
    #[error("tag can't be used with --all-tags/-a: {text}")]
    TagWithAllTags {
        /// The reference given.
        text: String,
    },

    /// An ID prefix matching several images.
    #[error("{prefix}: the ID prefix matches more than one image; give more characters")]
    AmbiguousId {
        /// The prefix given.
        prefix: String,
    },

    /// Docker's conflicts on delete, with Docker's wording.
    #[error("conflict: unable to delete {image} ({forced}) - {reason}")]
    Conflict {
        /// The image as the user named it, or its short ID.
        image: String,
        /// `must be forced` or `cannot be forced`.
        forced: &'static str,
        /// Why.
        reason: String,
    },

    /// The data root could not be opened or used.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// An archive to load is not one, or is malformed.
    #[error(transparent)]
    Archive(crate::archive::ArchiveError),

    /// A pull failed.
    #[error(transparent)]
    Pull(Box<imgsvc_distribution::Error>),

    /// The registry transport failed (endpoints, credentials).
    #[error(transparent)]
    Transport(Box<imgsvc_registry_transport::Error>),

    /// The image store failed.
    #[error(transparent)]
    Images(Box<imgsvc_imagestore::Error>),

    /// The layer store failed.
    #[error(transparent)]
    Layers(Box<imgsvc_layerstore::Error>),

    /// The reference store failed.
    #[error(transparent)]
    References(Box<imgsvc_reference::refstore::Error>),
}

impl Error {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NoSuchImage { .. } | Error::WrongPlatform { .. } => ErrorKind::NotFound,
            Error::InvalidReference { .. }
            | Error::AmbiguousId { .. }
            | Error::TagWithDigest { .. }
            | Error::TagWithAllTags { .. } => ErrorKind::InvalidArgument,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::Archive(_) => ErrorKind::InvalidArgument,
            Error::Pull(err) => pull_kind(err),
            Error::Transport(err) => transport_kind(err),
            _ => ErrorKind::Unknown,
        }
    }
}

fn transport_kind(err: &imgsvc_registry_transport::Error) -> ErrorKind {
    use imgsvc_registry_transport::envelope::ErrorCode;
    match err {
        imgsvc_registry_transport::Error::Registry(answer)
        | imgsvc_registry_transport::Error::TokenRequest { answer, .. } => {
            if answer.has(&ErrorCode::Unauthorized) {
                ErrorKind::Unauthorized
            } else if answer.has(&ErrorCode::ManifestUnknown)
                || answer.has(&ErrorCode::NameUnknown)
                || answer.has(&ErrorCode::Denied)
            {
                ErrorKind::NotFound
            } else {
                ErrorKind::Unknown
            }
        }
        imgsvc_registry_transport::Error::NoBasicCredentials { .. } => ErrorKind::Unauthorized,
        _ => ErrorKind::Unknown,
    }
}

fn pull_kind(err: &imgsvc_distribution::Error) -> ErrorKind {
    match err {
        imgsvc_distribution::Error::Pull { source, .. } => pull_kind(source),
        imgsvc_distribution::Error::Transport(err) => transport_kind(err),
        imgsvc_distribution::Error::NoMatchingPlatform { .. } => ErrorKind::NotFound,
        _ => ErrorKind::Unknown,
    }
}

macro_rules! boxed_from {
    ($($source:ty => $variant:ident),* $(,)?) => {
        $(impl From<$source> for Error {
            fn from(err: $source) -> Error {
                Error::$variant(Box::new(err))
            }
        })*
    };
}

boxed_from! {
    imgsvc_distribution::Error => Pull,
    imgsvc_registry_transport::Error => Transport,
    imgsvc_imagestore::Error => Images,
    imgsvc_layerstore::Error => Layers,
    imgsvc_reference::refstore::Error => References,
}
