//! Integration tests of imgsvc-testkit: the fixture builders, and the registry driven by a
//! raw HTTP client.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    reason = "test helpers fail loudly, with an expect message that says why"
)]

mod auth;
mod faults;
mod fixture;
mod lifecycle;
mod log;
mod routes;
mod support;
