//! Test support for imgsvc: an in-process OCI distribution registry with authentication and
//! fault injection, and fixture images built in memory.
//!
//! A [`TestRegistry`] listens on 127.0.0.1 (a random port) and serves what a test adds to
//! it: images made by the [`fixture`] builders (layers as tar, tar+gzip or tar+zstd, Docker
//! style configs, OCI and Docker schema 2 manifests, indexes over several platforms). It can
//! require basic credentials or bearer tokens from its own token endpoint ([`Auth`]), and
//! misbehave on purpose: rules ([`FaultRule`]) answer matching requests with an error
//! status N times, cut a body after K bytes, flip a byte, redirect blobs to a second
//! loopback listener, stream slowly, or send a wrong `Docker-Content-Digest`. Every request
//! is recorded, so a test can assert what a client did: how many token requests per scope,
//! how many bytes of a blob went out, whether `Authorization` followed a redirect.
//!
//! ```
//! use imgsvc_testkit::fixture::{Compression, ImageBuilder, LayerBuilder};
//! use imgsvc_testkit::{Auth, Fault, FaultRule, RegistryConfig, RequestKind, TestRegistry, rawhttp};
//!
//! let layer = LayerBuilder::new().file("etc/hostname", b"demo\n").compression(Compression::Gzip).build()?;
//! let image = ImageBuilder::new().layer(layer.clone()).build()?;
//! let registry = TestRegistry::start_blocking(RegistryConfig::new().auth(Auth::basic("u", "p")))?;
//! registry.push_image("a/b/c", "v1", &image)?;
//!
//! // Without credentials: a challenge.
//! let blob_url = format!("{}/v2/a/b/c/blobs/{}", registry.url(), layer.digest());
//! let refused = rawhttp::get(&blob_url)?;
//! assert_eq!(refused.status, 401);
//! assert_eq!(refused.header("www-authenticate"), Some(r#"Basic realm="testkit""#));
//!
//! // With credentials, but the first blob GET fails with a 503.
//! registry.add_fault(FaultRule::new(Fault::Status { code: 503, retry_after: Some(2) })
//!     .kind(RequestKind::Blob).times(1));
//! let get = || rawhttp::Request::new("GET", &blob_url).header("Authorization", "Basic dTpw").send();
//! assert_eq!(get()?.header("retry-after"), Some("2"));
//! assert_eq!(get()?.body, layer.blob().as_ref());
//! assert_eq!(registry.bytes_sent_for(layer.digest()), layer.size());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod fixture;
mod form;
pub mod rawhttp;
mod server;

pub mod real;
pub mod token;
pub mod tree;

pub use server::{
    Auth, BearerAuth, Error, Fault, FaultId, FaultRule, Listener, PathMatch, RegistryConfig,
    RequestKind, RequestRecord, TestRegistry, TokenRequest,
};

/// The digest crate, whose types appear in this API.
pub use imgsvc_digest as digest;
