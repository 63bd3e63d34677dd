//! The real CNCF distribution registry, started on loopback for tests, and images for it.
//!
//! [`RealRegistry`] runs Debian's `docker-registry` (distribution 2.8) on `127.0.0.1` with a
//! generated `config.yml` in a temporary directory, in one of three [`Mode`]s: no auth,
//! htpasswd Basic auth, or bearer tokens from a [`TokenServer`](crate::token::TokenServer).
//! It is stopped by PID (SIGTERM, then SIGKILL) on [`RealRegistry::stop`] or drop.
//! [`image`] builds small test images with `umoci`, pushes and pulls them with `skopeo`, and
//! unpacks them with `umoci` as the reference result for unpack comparisons.
//!
//! These tests need `docker-registry skopeo umoci apache2-utils openssl` (Debian packages;
//! `.ci/run` installs them). CI always runs them; a local run may skip them by setting
//! `IMGSVC_SKIP_REAL_REGISTRY=1` (see [`real_registry_required`]).
//!
//! ```
//! use imgsvc_testkit::rawhttp;
//! use imgsvc_testkit::real::{self, Mode, RealRegistry};
//!
//! # if let Some(reason) = real::skip_reason() { eprintln!("{reason}"); return Ok(()); }
//! let mut registry = RealRegistry::start(Mode::NoAuth)?;
//! let ping = rawhttp::get(&format!("{}/v2/", registry.url()))?;
//! assert_eq!(ping.status, 200);
//! registry.stop()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
pub mod image;
mod process;
mod registry;

pub use process::process_exists;
pub use registry::{BASIC_REALM, Mode, Options, RealRegistry};

use std::path::{Path, PathBuf};

/// The environment variable that lets a local run skip real-registry tests.
pub const SKIP_ENV: &str = "IMGSVC_SKIP_REAL_REGISTRY";

/// What to install when a tool is missing.
pub const INSTALL_HINT: &str = "apt-get install docker-registry skopeo umoci apache2-utils openssl";

/// Whether real-registry tests must run (and fail when the tools are missing).
///
/// They must, unless [`SKIP_ENV`] is `1` outside CI (`CI` unset, empty or `false`): CI
/// installs the tools and always runs the tests; a developer without them opts out explicitly.
pub fn real_registry_required() -> bool {
    let skip = std::env::var(SKIP_ENV).is_ok_and(|v| v == "1");
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    !skip || in_ci
}

/// `Some(reason)` when the current test should skip real-registry work (the test prints the
/// reason and returns), `None` when it must run.
pub fn skip_reason() -> Option<String> {
    (!real_registry_required())
        .then(|| format!("skipped: {SKIP_ENV}=1 (real-registry tests need `{INSTALL_HINT}`)"))
}

/// Whether the current test should skip its real-registry work: prints the reason and
/// returns `true` when [`skip_reason`] gives one.
pub fn skipped() -> bool {
    match skip_reason() {
        Some(reason) => {
            eprintln!("{reason}");
            true
        }
        None => false,
    }
}

/// Errors from starting registries and running the image tools.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A required program is not on `PATH`.
    #[error(
        "`{tool}` not found on PATH; install the real-registry test tools with `{INSTALL_HINT}` (Debian 12), or set {SKIP_ENV}=1 to skip these tests locally"
    )]
    ToolMissing {
        /// The program (or the names tried).
        tool: String,
    },
    /// A file operation failed.
    #[error("could not {what} {}: {source}", path.display())]
    Io {
        /// The operation.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A command exited unsuccessfully.
    #[error("`{command}` failed ({status}):\n{stderr}")]
    Command {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// The registry did not come up.
    #[error("registry on 127.0.0.1:{port} did not start: {reason}; log {}:\n{log_tail}", log.display())]
    Start {
        /// The port it was given.
        port: u16,
        /// What was observed.
        reason: String,
        /// The log file.
        log: PathBuf,
        /// The end of the log.
        log_tail: String,
    },
    /// The registry process could not be stopped.
    #[error("could not stop registry pid {pid}: {reason}")]
    Stop {
        /// Its PID.
        pid: u32,
        /// What went wrong.
        reason: String,
    },
    /// An OCI layout is not as expected.
    #[error("OCI layout {}: {reason}", path.display())]
    Layout {
        /// The layout directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The token server failed.
    #[error(transparent)]
    Token(#[from] crate::token::Error),
}

pub(crate) fn io_error(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Io { what, path, source }
}
