//! Talking to container registries the way Docker does: `WWW-Authenticate` challenges, the
//! registry error envelope, and (in progress) request modifiers, `/v2/` ping, token and
//! basic auth, credentials and endpoints.
//!
//! ```
//! use imgsvc_registry_transport::challenge::{parse_headers, preferred};
//!
//! let challenges = parse_headers([r#"Bearer realm="https://auth.example/token",service="example""#]);
//! let bearer = preferred(&challenges).ok_or("no challenge to answer")?;
//! assert_eq!(bearer.parameter("realm"), Some("https://auth.example/token"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod challenge;
pub mod credentials;
pub mod endpoint;
pub mod envelope;
mod error;

pub use error::Error;
