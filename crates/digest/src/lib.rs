//! Content digests for container images: the `algorithm:encoded` identity of every image
//! config, manifest and layer, e.g.
//! `sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae`.
//!
//! A [`Digest`] is validated when it is made, exactly as Docker's digest library validates
//! (same checks, same order, same error kinds), and is a small `Copy` value afterwards. Content
//! is hashed as it streams: a [`Digester`] computes a digest incrementally, a [`Verifier`]
//! checks written content against an expected digest and size, and a [`VerifyingReader`]
//! checks content as it is read (also for `tokio::io::AsyncRead` with the `tokio` feature),
//! failing at the end of a stream that does not match and at the first byte past an expected
//! size. A [`DigestSet`] finds a digest from a unique prefix, as `docker rmi 2c26` does.
//!
//! ```
//! use std::io::Read;
//! use imgsvc_digest::{Digest, DigestSet, VerifyingReader};
//!
//! // Identify content.
//! let blob = b"an image layer";
//! let digest = Digest::from_bytes(blob);
//! assert_eq!(digest.algorithm().name(), "sha256");
//!
//! // Text round-trips exactly; bad text is a precise error, never a panic.
//! let parsed: Digest = digest.to_string().parse()?;
//! assert_eq!(parsed, digest);
//! assert!("sha256:NOT-HEX".parse::<Digest>().is_err());
//!
//! // Verify content while streaming it.
//! let mut reader = VerifyingReader::with_size(&blob[..], digest, blob.len() as u64);
//! std::io::copy(&mut reader, &mut std::io::sink())?;
//! assert!(reader.is_verified());
//!
//! // Find it again from a short prefix.
//! let set: DigestSet = [digest].into_iter().collect();
//! assert_eq!(set.lookup(&digest.short())?, digest);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//! - `tokio`: implements `tokio::io::AsyncRead` for [`VerifyingReader`] over an `AsyncRead`.

#![deny(missing_docs)]
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod algorithm;
mod digest;
mod digester;
mod error;
mod hex;
mod parse;
mod reader;
mod serde_impl;
mod set;
mod verify;

pub use algorithm::Algorithm;
pub use digest::{Digest, SHORT_LEN};
pub use digester::Digester;
pub use error::Error;
pub use hex::Hex;
pub use reader::VerifyingReader;
pub use set::DigestSet;
pub use verify::Verifier;
