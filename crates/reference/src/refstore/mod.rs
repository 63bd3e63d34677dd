//! Docker's tag store: references (`ubuntu:24.04`, `app@sha256:…`) mapped to image IDs,
//! persisted in `repositories.json`.
//!
//! See [`Store`].

mod error;
mod file;
mod store;

pub use error::{Error, ErrorKind};
pub use store::{Association, Store};
