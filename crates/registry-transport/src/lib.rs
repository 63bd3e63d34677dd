//! Talking to container registries the way Docker does, as an authorised client.
//!
//! A pull starts by choosing endpoints ([`endpoint::RegistryConfig`]: mirrors first for
//! Docker Hub, HTTPS then unverified TLS then plain HTTP for insecure and loopback
//! registries) and pinging each (`GET /v2/`, [`ping::ping`]) until one answers; the
//! `WWW-Authenticate` challenges of its 401 are kept in a [`ChallengeManager`]. A
//! [`Transport`] then sends every request through a chain of [`RequestModifier`]s — headers
//! ([`HeaderModifier`]) and last an [`Authorizer`] that answers the challenges with a bearer
//! token for the repository's scope ([`auth::TokenHandler`], cached and refreshed), basic
//! auth, a pass-through registry token, or nothing for anonymous pulls. Credentials come
//! from a [`CredentialStore`]: a static map or the Docker client config with its credential
//! helpers. Registry errors arrive typed ([`envelope::ErrorResponse`]), and
//! [`Error::is_fallback`] says when to try the next endpoint. Passwords and tokens never
//! appear in `Debug` output or error messages.
//!
//! ```
//! use imgsvc_registry_transport::challenge::{parse_headers, preferred};
//!
//! let challenges = parse_headers([r#"Bearer realm="https://auth.example/token",service="example""#]);
//! let bearer = preferred(&challenges).ok_or("no challenge to answer")?;
//! assert_eq!(bearer.parameter("realm"), Some("https://auth.example/token"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A pull's requests, end to end (needs a network, so not run here):
//!
//! ```no_run
//! # async fn pull() -> Result<(), imgsvc_registry_transport::Error> {
//! use std::sync::Arc;
//! use imgsvc_registry_transport::auth::{Authorizer, Scope, TokenHandler, TokenOptions};
//! use imgsvc_registry_transport::credentials::{CredentialStore, DockerConfigStore};
//! use imgsvc_registry_transport::endpoint::RegistryConfig;
//! use imgsvc_registry_transport::{ChallengeManager, Client, HeaderModifier, Request, Transport, ping};
//!
//! let client = Client::new()?;
//! let credentials = DockerConfigStore::from_env()?.get("docker.io").await?;
//! for endpoint in RegistryConfig::default().pull_endpoints("docker.io")? {
//!     let base = Transport::for_endpoint(&client, &endpoint).with_modifier(HeaderModifier::user_agent());
//!     let challenges = Arc::new(ChallengeManager::default());
//!     match ping::ping(&base, &endpoint.url, &challenges).await {
//!         Err(err) if err.is_fallback() => continue,
//!         other => { other?; }
//!     }
//!     let tokens = Arc::new(TokenHandler::new(&base, TokenOptions::default()));
//!     let scopes = vec![Scope::pull("library/alpine")];
//!     let transport = base.with_authorizer(Authorizer::new(challenges, tokens, credentials.clone(), scopes));
//!     let url = ping::ping_url(&endpoint.url)?.join("library/alpine/manifests/latest").map_err(|e| {
//!         imgsvc_registry_transport::Error::InvalidUrl { url: "manifest".into(), reason: e.to_string() }
//!     })?;
//!     let mut response = transport.send(Request::get(url)).await?.error_for_status().await?;
//!     while let Some(chunk) = response.chunk().await? {
//!         let _ = chunk; // stream into a verifier, a file, ...
//!     }
//!     break;
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod auth;
pub mod challenge;
pub mod challenge_manager;
pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod envelope;
mod error;
pub mod modifier;
pub mod ping;
mod transport;

pub use auth::{Authorizer, Scope, TokenHandler};
pub use challenge::Challenge;
pub use challenge_manager::ChallengeManager;
pub use client::{Client, ClientOptions};
pub use credentials::{CredentialStore, Credentials};
pub use endpoint::{Endpoint, RegistryConfig, Tls};
pub use error::{BoxError, Error, HttpErrorKind};
pub use modifier::{HeaderModifier, RequestModifier};
pub use transport::{Request, Response, Transport};

/// The `http` crate, whose types ([`http::Request`], [`http::HeaderMap`]) modifiers use.
pub use http;
/// The `url` crate, whose [`url::Url`] names endpoints and requests.
pub use url;
