//! Integration tests for `imgsvc-reference`, one module per concern of the crate.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly, with an expect message that says why"
)]

mod normalize;
mod oracle;
mod parse;
mod refstore;
