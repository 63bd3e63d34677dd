//! A test oracle for `imgsvc-reference`: Docker's reference parser, built literally from the
//! upstream regular expressions.
//!
//! The upstream `distribution/reference` library defines the reference grammar as small
//! regular expressions (alphanumeric words, separators, path components, domain labels, IPv6
//! hosts, ports, tags, digests) composed into one anchored expression with three captures (name,
//! tag, digest) and a second one that splits the name into domain and path. This crate composes
//! the same building blocks the same way, and runs the same steps in the same order, so that it
//! answers what Docker answers. It favours being obviously right over being fast, and exists
//! only to check the hand-written parser against.
//!
//! ```
//! use imgsvc_reference_oracle::{parse, Kind, Parts};
//!
//! assert_eq!(
//!     parse("Foo/bar:v1"),
//!     Ok(Parts {
//!         domain: "Foo".into(),
//!         path: "bar".into(),
//!         tag: Some("v1".into()),
//!         digest: None,
//!     })
//! );
//! assert_eq!(parse("foo/Bar"), Err(Kind::NameContainsUppercase));
//! assert_eq!(parse(""), Err(Kind::NameEmpty));
//! ```

#![deny(missing_docs)]
#![deny(unsafe_code)]

mod grammar;
mod lowercase;
mod outcome;
mod parse;

pub use outcome::{Kind, Outcome, Parts};
pub use parse::{PATH_LENGTH_MAX, parse};
