//! Integration tests of imgsvc-distribution.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod content;
mod decompress;
mod manifest;
mod metadata;
mod progress;
mod pull;
mod real_registry;
mod support;
