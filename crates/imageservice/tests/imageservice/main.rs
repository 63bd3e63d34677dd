//! Integration tests of the `imgsvc` facade.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod archive;
mod service;
