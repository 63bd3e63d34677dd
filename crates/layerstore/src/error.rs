//! The layer store's error type.

use std::io;
use std::path::PathBuf;

use crate::{ChainId, DiffId};

/// Why a layer-store operation failed.
///
/// Messages start with Docker's words for the same error where Docker has one ("layer does
/// not exist", "max depth exceeded", ...), then name the object and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
///
/// ```
/// # let root = tempfile::tempdir()?;
/// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
/// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
/// use imgsvc_layerstore::{ChainId, Error};
/// let err = store.get(ChainId::EMPTY_LAYER).err().ok_or("no such layer")?;
/// assert!(matches!(err, Error::LayerDoesNotExist { .. }));
/// assert!(err.to_string().starts_with("layer does not exist"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub enum Error {
    /// No layer with this ChainID is registered.
    #[error("layer does not exist: {chain_id}")]
    LayerDoesNotExist {
        /// The ChainID asked for.
        chain_id: ChainId,
    },

    /// A layer handle was released twice, or was never issued by this store.
    #[error("layer not retained: {chain_id} (a handle may be released only once)")]
    LayerNotRetained {
        /// The layer's ChainID.
        chain_id: ChainId,
    },

    /// No read-write layer with this name exists.
    #[error("mount does not exist: {name}")]
    MountDoesNotExist {
        /// The name asked for.
        name: String,
    },

    /// A read-write layer name must be usable as a file name.
    #[error("invalid read-write layer name {name:?}: it must be a file name (no '/', not . or ..)")]
    InvalidMountName {
        /// The rejected name.
        name: String,
    },

    /// A read-write layer with this name exists already.
    #[error("mount already exists with name {name}")]
    MountNameConflict {
        /// The name.
        name: String,
    },

    /// A layer would sit deeper than Docker's limit of 125 layers.
    #[error("max depth exceeded: a layer on {parent} would be layer {depth} of at most 125")]
    MaxDepthExceeded {
        /// The parent the layer was to go on.
        parent: ChainId,
        /// The depth the new layer would have.
        depth: usize,
    },

    /// A diff was asked for against a layer that is not below this one.
    #[error(
        "layer ID '{parent}' is not a parent of the specified layer {layer}: cannot provide diff to non-parent"
    )]
    NotAParent {
        /// The layer given as parent.
        parent: ChainId,
        /// The layer whose diff was asked for.
        layer: ChainId,
    },

    /// A diff against a parent was asked of the empty layer, which has no parent.
    #[error(
        "can't get parent tar stream of an empty layer (it has no parent: {parent} is not below it)"
    )]
    EmptyLayerHasNoParent {
        /// The layer given as parent.
        parent: ChainId,
    },

    /// The tar's digest is not the DiffID the caller expected; nothing was kept.
    #[error("layer tar does not match its DiffID: expected {expected}, got {actual}")]
    DiffIdMismatch {
        /// The DiffID the caller gave.
        expected: DiffId,
        /// The digest of the tar that was read.
        actual: DiffId,
    },

    /// The layer's stored data no longer matches its DiffID.
    #[error(
        "could not verify layer data for: {diff_id}. This may be because internal files in the \
         layer store were modified. Re-pulling or rebuilding this image may resolve the issue"
    )]
    LayerDataCorrupt {
        /// The layer's DiffID.
        diff_id: DiffId,
    },

    /// A stored metadata file is damaged or was edited by hand.
    #[error("corrupt layer metadata in {path}: {reason}")]
    CorruptMetadata {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The layer is not a valid tar archive (see the inner error: truncated, a bad header
    /// checksum, compressed data where a plain tar was expected, ...). Nothing was kept.
    #[error("cannot read the layer tar: {0}")]
    Tar(#[from] crate::tar::Error),

    /// The layer's tar-split metadata is damaged.
    #[error("cannot read the layer's tar-split metadata: {0}")]
    TarSplit(#[from] crate::tarsplit::Error),

    /// The storage driver cannot work on this machine (kernel, filesystem or privileges).
    #[error("the {driver} storage driver is not supported here: {reason}")]
    Unsupported {
        /// The driver's name.
        driver: &'static str,
        /// Why not.
        reason: String,
    },

    /// A tar entry could not be applied to the layer (see the inner error: a breakout, an
    /// invalid whiteout, a device without privileges, ...). Nothing was kept.
    #[error("cannot apply the layer: {0}")]
    Apply(#[from] crate::ApplyError),

    /// Reading or writing the layer store's files failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
}

impl Error {
    /// An I/O error on `path` while doing `action`, for `map_err`.
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

    /// A damaged metadata file at `path`.
    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Error {
        Error::CorruptMetadata {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
