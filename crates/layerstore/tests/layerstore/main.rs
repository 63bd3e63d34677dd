//! Integration tests for `imgsvc-layerstore`, one module per concern of the crate.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly, with an expect message that says why"
)]

mod support;

mod changes;
mod docker_layerdb;
mod prepare;
mod store;
mod tar;
mod tarsplit;
