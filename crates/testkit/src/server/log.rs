//! The request log: every request either listener answered, and every token request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use imgsvc_digest::Digest;

/// What a request asked for, by route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// `GET /v2/` (the API version check).
    Ping,
    /// `/v2/<name>/manifests/<reference>`.
    Manifest,
    /// `/v2/<name>/blobs/<digest>`, or a redirected blob on the second listener.
    Blob,
    /// `/v2/<name>/tags/list`.
    Tags,
    /// The token endpoint `/token`.
    Token,
    /// Anything else.
    Other,
}

/// Which listener a request arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Listener {
    /// The registry itself ([`TestRegistry::url`](crate::TestRegistry::url)).
    Registry,
    /// The second loopback listener blobs are redirected to
    /// ([`Fault::RedirectBlobs`](crate::Fault::RedirectBlobs)).
    Redirect,
}

/// One answered request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestRecord {
    /// The listener that answered.
    pub listener: Listener,
    /// The route.
    pub kind: RequestKind,
    /// `GET`, `HEAD`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query, if any.
    pub query: Option<String>,
    /// The repository name from the path, if the route has one.
    pub repository: Option<String>,
    /// For blobs the requested digest; for manifests the digest of the manifest served.
    pub digest: Option<Digest>,
    /// The response status.
    pub status: u16,
    /// Body bytes handed to the connection (less than the body when it was cut short).
    pub bytes_sent: u64,
    /// Whether the request carried an `Authorization` header.
    pub authorization: bool,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// The `Accept` header values, in order.
    pub accept: Vec<String>,
}

/// One request to the token endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenRequest {
    /// `GET` (the token flow) or `POST` (OAuth2).
    pub method: String,
    /// The OAuth2 `grant_type` of a `POST` (`password`, `refresh_token`).
    pub grant_type: Option<String>,
    /// The scopes asked for, in order (`scope` parameters, split at spaces).
    pub scopes: Vec<String>,
    /// The `service` parameter.
    pub service: Option<String>,
    /// The `account` parameter (the `username` of an OAuth2 password grant).
    pub account: Option<String>,
    /// Whether valid credentials (basic, a password grant, or a known refresh token) came
    /// with the request.
    pub authenticated: bool,
    /// The scopes granted (`repository:<name>:pull`), empty when refused.
    pub granted: Vec<String>,
    /// The response status.
    pub status: u16,
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) record: RequestRecord,
    pub(crate) sent: Arc<AtomicU64>,
}

impl Entry {
    pub(crate) fn snapshot(&self) -> RequestRecord {
        let mut record = self.record.clone();
        record.bytes_sent = self.sent.load(Ordering::Relaxed);
        record
    }
}
