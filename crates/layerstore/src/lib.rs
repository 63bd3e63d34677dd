//! Docker's layer store (being built; see the issue tracker).
//!
//! Layers are identified by their DiffID (the digest of the uncompressed tar) and by their
//! ChainID (the identity of the layer together with all its parents).

#![deny(missing_docs)]
#![deny(unsafe_code)]

mod apply;
mod changes;
mod copy;
mod diff;
mod diffstream;
pub mod driver;
mod error;
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
pub use error::Error;
pub use id::{ChainId, DiffId};
pub use layer::{Info, Layer, Metadata};
pub use rw::{InitFn, RwLayer, RwLayerOptions};
pub use store::{LayerStore, MAX_LAYER_DEPTH};
pub use tarstream::TarStream;
