//! Tests of the `imgsvc` binary: each runs it as a child process over a temporary data root
//! (vfs) and a temporary Docker client config, against the in-process registry.

#![allow(clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

mod archive;
mod harness;
mod history;
mod images;
mod info;
mod inspect;
mod login;
mod pull;
mod real_registry;
mod rmi;
mod tag;
