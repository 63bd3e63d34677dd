//! `cargo xtask ci`: the checks CI runs, in order, stopping at the first failure.

use crate::Result;
use crate::cmd::{self, cargo};

/// Runs formatting, lint, test and documentation checks over the whole workspace, with every
/// feature enabled so that feature-gated code (e.g. the digest crate's `tokio` support) is
/// checked and tested too.
pub(crate) fn run(args: &[String]) -> Result<()> {
    if let Some(extra) = args.first() {
        return Err(format!("`cargo xtask ci` takes no arguments, got `{extra}`").into());
    }
    cmd::run(&mut cargo(["fmt", "--all", "--check"])?)?;
    cmd::run(&mut cargo([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ])?)?;
    if cmd::succeeds(&mut cargo(["nextest", "--version"])?) {
        cmd::run(&mut cargo([
            "nextest",
            "run",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
        ])?)?;
        // nextest cannot run doctests, so they get their own step.
        cmd::run(&mut cargo([
            "test",
            "--workspace",
            "--all-features",
            "--doc",
        ])?)?;
    } else {
        cmd::header("cargo-nextest is not installed; running the tests with `cargo test`");
        cmd::run(&mut cargo(["test", "--workspace", "--all-features"])?)?;
    }
    let mut doc = cargo(["doc", "--workspace", "--all-features", "--no-deps"])?;
    doc.env("RUSTDOCFLAGS", "-D warnings");
    cmd::run(&mut doc)?;
    cmd::header("ci: all checks passed");
    Ok(())
}
