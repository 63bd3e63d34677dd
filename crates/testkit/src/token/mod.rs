//! A bearer-token server that the real CNCF registry (`auth: token:`) accepts.
//!
//! Docker's token flow: the registry answers `401` with
//! `WWW-Authenticate: Bearer realm=...,service=...,scope=...`; the client fetches
//! `GET realm?service=...&scope=...` (with Basic credentials, or anonymously) and retries with
//! `Authorization: Bearer <token>`. The token is an RS256 JWT whose header names the signing key
//! by `kid` (the libtrust key id of a certificate in the registry's `rootcertbundle`) or carries
//! the certificate in `x5c`; its claims hold issuer, audience (the service), validity times and
//! the granted `access`.
//!
//! [`TokenServer`] serves that endpoint on `127.0.0.1`, grants every requested action to valid
//! credentials and `pull` (or nothing) to anonymous requests, and records each request so tests
//! can count token round-trips.
//!
//! ```
//! use imgsvc_testkit::rawhttp;
//! use imgsvc_testkit::token::{Access, Options, TokenServer, decode_claims};
//!
//! let server = TokenServer::start(Options::default().user("alice", "secret"))?;
//! let url = format!("{}?service={}&scope=repository:a/b:pull,push", server.realm(), server.service());
//! let answer = rawhttp::Request::new("GET", &url)
//!     .header("Authorization", "Basic YWxpY2U6c2VjcmV0") // alice:secret
//!     .send()?;
//! assert_eq!(answer.status, 200);
//! let body: serde_json::Value = serde_json::from_slice(&answer.body)?;
//! let claims = decode_claims(body["token"].as_str().unwrap_or_default()).ok_or("no claims")?;
//! assert_eq!(claims.access, [Access::repository("a/b", &["pull", "push"])]);
//! assert_eq!(server.requests().len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod jwt;
mod key;
mod server;
mod wire;

pub use jwt::{Access, Claims, decode_claims, encode};
pub use key::{SigningKey, libtrust_key_id};
pub use server::{TokenRequest, TokenServer};

use std::path::PathBuf;

/// How a token's JOSE header identifies the signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeyHeader {
    /// `kid`: the libtrust key id of the certificate's public key.
    #[default]
    Kid,
    /// `x5c`: the certificate itself, verified against the registry's root bundle.
    X5c,
}

/// Choices for a [`TokenServer`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// The service name (`aud` claim, registry `auth.token.service`). Default `imgsvc-registry`.
    pub service: String,
    /// The issuer (`iss` claim, registry `auth.token.issuer`). Default `imgsvc-token-issuer`.
    pub issuer: String,
    /// Accounts and passwords accepted in Basic credentials.
    pub users: Vec<(String, String)>,
    /// Grant `pull` on repositories to requests without credentials. Default `false`: they get
    /// a token with empty access, as Docker Hub does for private repositories.
    pub anonymous_pull: bool,
    /// Token lifetime in seconds; negative issues tokens that have already expired. Default 300.
    pub ttl_seconds: i64,
    /// Key identification in the token header. Default [`KeyHeader::Kid`].
    pub header: KeyHeader,
    /// Answer this many token requests with `503` before serving normally. Default 0.
    pub fail_first: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            service: "imgsvc-registry".to_owned(),
            issuer: "imgsvc-token-issuer".to_owned(),
            users: Vec::new(),
            anonymous_pull: false,
            ttl_seconds: 300,
            header: KeyHeader::Kid,
            fail_first: 0,
        }
    }
}

/// Builder-style setters
impl Options {
    /// Accepts `user` with `password` (repeatable).
    pub fn user(mut self, user: &str, password: &str) -> Self {
        self.users.push((user.to_owned(), password.to_owned()));
        self
    }

    /// Sets whether anonymous requests get `pull`.
    pub fn anonymous_pull(mut self, yes: bool) -> Self {
        self.anonymous_pull = yes;
        self
    }

    /// Sets the token lifetime in seconds.
    pub fn ttl_seconds(mut self, seconds: i64) -> Self {
        self.ttl_seconds = seconds;
        self
    }

    /// Sets how the token header names the key.
    pub fn header(mut self, header: KeyHeader) -> Self {
        self.header = header;
        self
    }

    /// Sets the service name.
    pub fn service(mut self, service: &str) -> Self {
        self.service = service.to_owned();
        self
    }

    /// Sets the issuer.
    pub fn issuer(mut self, issuer: &str) -> Self {
        self.issuer = issuer.to_owned();
        self
    }

    /// Fails the first `n` token requests with `503`.
    pub fn fail_first(mut self, n: u32) -> Self {
        self.fail_first = n;
        self
    }
}

/// Errors of the token server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `openssl` tool could not be run.
    #[error(
        "could not run `openssl` to make the token signing key: {source}; install it with `apt-get install openssl`"
    )]
    OpensslMissing {
        /// Why spawning failed.
        #[source]
        source: std::io::Error,
    },
    /// `openssl req` failed.
    #[error("`openssl req -x509 -newkey rsa:2048` failed ({status}): {stderr}")]
    Openssl {
        /// Exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// The key or certificate could not be parsed, or signing failed.
    #[error("token signing key: {reason}")]
    Key {
        /// What went wrong.
        reason: String,
    },
    /// A file or socket operation failed.
    #[error("could not {what} {}: {source}", path.display())]
    Io {
        /// The operation.
        what: &'static str,
        /// The file, or a description of the socket.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
