//! Integration tests of imgsvc-imagestore, one module per part of the crate.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly, with an expect message that says why"
)]

mod backend;
mod config;
mod layers;
mod restore;
mod shared;
mod store;
mod support;
