//! Docker image references: the names people type (`ubuntu`, `ghcr.io/org/app:v1`,
//! `app@sha256:…`), parsed exactly as Docker parses them, and the tag store that maps them
//! to image IDs.
//!
//! A reference is a repository [`Name`] (an optional registry domain and a path) with an
//! optional [`Tag`] and an optional digest. [`parse`] reads one as written; Docker's command
//! line first normalizes ([`parse_normalized_named`]): `ubuntu` is
//! `docker.io/library/ubuntu`, and the familiar forms ([`Reference::familiar_string`]) turn it
//! back into what Docker prints. Every function follows the upstream `distribution/reference`
//! library rule for rule, with the same error kinds; the parser is hand-written over bytes
//! (no regular expressions, no backtracking) and tested against a regular-expression oracle
//! built from the upstream grammar.
//!
//! [`refstore::Store`] is Docker's tag store, in Docker's own `repositories.json` format,
//! safe against crashes and against other processes changing the same file.
//!
//! ```
//! use imgsvc_reference::{parse_normalized_named, parse_any_reference, AnyReference};
//!
//! let r = parse_normalized_named("ubuntu:24.04")?;
//! assert_eq!(r.domain(), "docker.io");
//! assert_eq!(r.path(), "library/ubuntu");
//! assert_eq!(r.tag().map(|t| t.as_str()), Some("24.04"));
//! assert_eq!(r.to_string(), "docker.io/library/ubuntu:24.04");
//! assert_eq!(r.familiar_string(), "ubuntu:24.04");
//!
//! // What `docker rmi` accepts: a reference, or an image ID.
//! let id = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
//! assert!(matches!(parse_any_reference(id)?, AnyReference::Digest(_)));
//! # Ok::<(), imgsvc_reference::Error>(())
//! ```

#![deny(missing_docs)]
#![deny(unsafe_code)]

mod error;
mod grammar;
mod name;
mod normalize;
mod parse;
mod pattern;
mod reference;
pub mod refstore;
mod serde_impl;
mod sort;
mod tag;

pub use imgsvc_digest as digest;

pub use error::Error;
pub use name::{NAME_TOTAL_LENGTH_MAX, Name};
pub use normalize::{
    AnyReference, DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX, parse_any_reference,
    parse_docker_ref, parse_named, parse_normalized_named,
};
pub use parse::parse;
pub use reference::Reference;
pub use sort::sort;
pub use tag::{LATEST, Tag};
