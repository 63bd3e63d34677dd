//! Docker's layer store: the read-only layers an image is made of, and the read-write layers
//! a container writes to.
//!
//! A layer is registered from its uncompressed tar in one streaming pass: the bytes are
//! hashed for its DiffID, recorded as tar-split metadata (everything in the tar that is not
//! file content, so the exact tar can be rebuilt later), and applied by a storage driver
//! ([`driver::Vfs`], [`driver::Overlay2`]) with Docker's whiteout rules. A layer is known by its
//! ChainID, which identifies it together with every layer below it, and lives as long as
//! something holds a reference to it. Nothing in a layer tar can write outside the layer.
//!
//! ```
//! use std::io::Read;
//! use imgsvc_layerstore::{ChainId, DiffId, LayerStore, driver::Vfs};
//!
//! let root = tempfile::tempdir()?;
//! let driver = Vfs::open(root.path().join("vfs"))?;
//! let store = LayerStore::open(root.path().join("image/vfs/layerdb"), Box::new(driver))?;
//!
//! // A one-file layer tar.
//! let mut builder = tar::Builder::new(Vec::new());
//! let mut header = tar::Header::new_ustar();
//! header.set_size(6);
//! header.set_mode(0o644);
//! header.set_cksum();
//! builder.append_data(&mut header, "etc/motd", &b"hello\n"[..])?;
//! let tar = builder.into_inner()?;
//!
//! let layer = store.register(&tar[..], None)?;
//! assert_eq!(layer.diff_id(), DiffId::new(imgsvc_digest::Digest::from_bytes(&tar)));
//! assert_eq!(layer.chain_id(), ChainId::new(layer.diff_id().digest())); // a base layer
//!
//! // The exact tar comes back, verified against the DiffID as it streams.
//! let mut rebuilt = Vec::new();
//! store.tar_stream(&layer)?.read_to_end(&mut rebuilt)?;
//! assert_eq!(rebuilt, tar);
//!
//! // The last reference goes: the layer is deleted.
//! assert_eq!(store.release(layer)?.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]
#![deny(unsafe_code)]

mod apply;
mod changes;
mod copy;
mod diff;
mod diffstream;
pub mod driver;
mod empty;
mod error;
mod file_writer;
mod id;
mod layer;
mod layerdb;
mod random_id;
mod register;
mod resolve;
mod rw;
mod store;
pub mod tar;
pub mod tarsplit;
mod tarstream;

pub use apply::ApplyError;
pub use changes::{Change, ChangeKind};
pub use diff::{LayerDiff, Whiteouts};
pub use diffstream::DiffStream;
pub use empty::{EmptyLayer, EmptyTar};
pub use error::Error;
pub use id::{ChainId, DiffId};
pub use layer::{Info, Layer, Metadata};
pub use rw::{InitFn, RwLayer, RwLayerOptions};
pub use store::{LayerStore, MAX_LAYER_DEPTH, PreparedLayer};
pub use tarstream::TarStream;
