//! Integration tests for `imgsvc-digest`, one module per concern of the crate.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly, with an expect message that says why"
)]

mod parse;
mod properties;
mod set;
mod verify;
