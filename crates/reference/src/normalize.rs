//! Docker's command-line rules: `ubuntu` means `docker.io/library/ubuntu`.

use std::fmt;
use std::str::FromStr;

use imgsvc_digest::{Algorithm, Digest};

use crate::error::snippet;
use crate::parse::has_uppercase;
use crate::{Error, Reference, grammar, parse};

/// The registry a name without domain lives on.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The old name of Docker Hub's registry, read as [`DEFAULT_DOMAIN`].
pub const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// The namespace of Docker Hub's official images.
pub const OFFICIAL_REPO_PREFIX: &str = "library/";
/// A first component that is always a domain, though it has no `.` or `:`.
const LOCALHOST: &str = "localhost";

/// Parses a reference the way the `docker` command line does, into fully qualified form
/// (Docker's `ParseNormalizedNamed`).
///
/// - A first component is a registry domain when it is `localhost`, contains `.` or `:`, or has
///   upper-case letters; `index.docker.io` means `docker.io`; otherwise the domain is
///   `docker.io`.
/// - On `docker.io`, a one-component path gets the `library/` prefix of official images.
/// - A bare 64-hex string is refused ([`Error::IdentifierAsName`]): it looks like an image
///   ID. An upper-case repository path is [`Error::NameContainsUppercase`].
///
/// ```
/// use imgsvc_reference::parse_normalized_named;
///
/// assert_eq!(parse_normalized_named("ubuntu")?.to_string(), "docker.io/library/ubuntu");
/// assert_eq!(parse_normalized_named("index.docker.io/debian")?.to_string(), "docker.io/library/debian");
/// assert_eq!(parse_normalized_named("localhost:5000/app:1")?.domain(), "localhost:5000");
/// // No `/`: the part after `:` is a tag, not a port.
/// assert_eq!(parse_normalized_named("192.168.0.1:80")?.to_string(), "docker.io/library/192.168.0.1:80");
/// assert!(parse_normalized_named("docker/Docker").is_err());
/// # Ok::<(), imgsvc_reference::Error>(())
/// ```
pub fn parse_normalized_named(text: &str) -> Result<Reference, Error> {
    if grammar::is_identifier(text.as_bytes()) {
        return Err(Error::IdentifierAsName {
            input: text.to_owned(),
        });
    }
    let (domain, remainder) = split_docker_domain(text);
    let remote = remainder.split_once(':').map_or(&*remainder, |(r, _)| r);
    if has_uppercase(remote) {
        return Err(Error::NameContainsUppercase {
            name: snippet(remote),
        });
    }
    parse(&format!("{domain}/{remainder}"))
}

/// Splits Docker command-line text into its registry domain and the rest.
fn split_docker_domain(text: &str) -> (&str, std::borrow::Cow<'_, str>) {
    let Some((first, rest)) = text.split_once('/') else {
        // A single component ("ubuntu", "ubuntu:24.04") is always an official image, even
        // when it looks like a host name: "localhost:5000" is the image "localhost" tagged 5000.
        return (
            DEFAULT_DOMAIN,
            format!("{OFFICIAL_REPO_PREFIX}{text}").into(),
        );
    };
    // The legacy name is checked before the "contains a dot" rule, which it would also match.
    let (domain, remainder) = if first == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN, rest)
    } else if first == LOCALHOST || first.contains(['.', ':']) || has_uppercase(first) {
        (first, rest)
    } else {
        (DEFAULT_DOMAIN, text)
    };
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        return (domain, format!("{OFFICIAL_REPO_PREFIX}{remainder}").into());
    }
    (domain, remainder.into())
}

/// Parses normalized, then insists the text was already fully qualified (Docker's
/// `ParseNamed`).
///
/// ```
/// use imgsvc_reference::{parse_named, Error};
/// assert!(parse_named("docker.io/library/ubuntu:24.04").is_ok());
/// assert!(matches!(parse_named("ubuntu:24.04"), Err(Error::NameNotCanonical { .. })));
/// ```
pub fn parse_named(text: &str) -> Result<Reference, Error> {
    let reference = parse_normalized_named(text)?;
    let canonical = reference.to_string();
    if canonical != text {
        return Err(Error::NameNotCanonical {
            input: snippet(text),
            canonical,
        });
    }
    Ok(reference)
}

/// Parses what a user may type for an image: a reference, a `sha256:` digest, or a bare
/// 64-hex image ID, normalized as the command line does (Docker's `ParseDockerRef`), and with
/// `latest` added to a bare name; when both tag and digest are given, the tag is dropped.
///
/// ```
/// use imgsvc_reference::parse_docker_ref;
/// assert_eq!(parse_docker_ref("ubuntu")?.to_string(), "docker.io/library/ubuntu:latest");
/// let pinned = parse_docker_ref("ubuntu:24.04@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")?;
/// assert_eq!(pinned.tag(), None);
/// # Ok::<(), imgsvc_reference::Error>(())
/// ```
pub fn parse_docker_ref(text: &str) -> Result<Reference, Error> {
    Ok(parse_normalized_named(text)?.favor_digest().tag_name_only())
}

/// What [`parse_any_reference`] finds: a named reference, or a digest alone.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum AnyReference {
    /// A repository name with optional tag and digest.
    Named(Reference),
    /// A content digest with no name, e.g. an image ID.
    Digest(Digest),
}

impl AnyReference {
    /// The named reference, if this is one.
    ///
    /// ```
    /// let any = imgsvc_reference::parse_any_reference("ubuntu")?;
    /// assert_eq!(any.named().map(|r| r.familiar_name()), Some("ubuntu"));
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn named(&self) -> Option<&Reference> {
        match self {
            AnyReference::Named(reference) => Some(reference),
            AnyReference::Digest(_) => None,
        }
    }

    /// The digest: a digest-only reference's, or a named reference's if it has one.
    ///
    /// ```
    /// let id = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    /// let any = imgsvc_reference::parse_any_reference(id)?;
    /// assert_eq!(any.digest().map(|d| d.to_string()), Some(format!("sha256:{id}")));
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn digest(&self) -> Option<Digest> {
        match self {
            AnyReference::Named(reference) => reference.digest(),
            AnyReference::Digest(digest) => Some(*digest),
        }
    }
}

impl fmt::Display for AnyReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyReference::Named(reference) => reference.fmt(f),
            AnyReference::Digest(digest) => digest.fmt(f),
        }
    }
}

impl FromStr for AnyReference {
    type Err = Error;
    fn from_str(text: &str) -> Result<AnyReference, Error> {
        parse_any_reference(text)
    }
}

/// Parses an image ID (64 hex digits, read as `sha256:`), a digest, or else a reference
/// normalized as [`parse_normalized_named`] does (Docker's `ParseAnyReference`).
///
/// ```
/// use imgsvc_reference::{parse_any_reference, AnyReference};
/// let digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// assert!(matches!(parse_any_reference(digest)?, AnyReference::Digest(_)));
/// assert!(matches!(parse_any_reference("ubuntu")?, AnyReference::Named(_)));
/// # Ok::<(), imgsvc_reference::Error>(())
/// ```
pub fn parse_any_reference(text: &str) -> Result<AnyReference, Error> {
    if grammar::is_identifier(text.as_bytes()) {
        return Ok(AnyReference::Digest(Digest::from_encoded(
            Algorithm::Sha256,
            text,
        )?));
    }
    if let Ok(digest) = Digest::parse(text) {
        return Ok(AnyReference::Digest(digest));
    }
    parse_normalized_named(text).map(AnyReference::Named)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(text: &str) -> String {
        parse_normalized_named(text)
            .map(|r| r.to_string())
            .unwrap_or_else(|err| format!("error: {err}"))
    }

    #[test]
    fn dockers_examples() {
        let hex = "1a3f5e7d9c1a3f5e7d9c1a3f5e7d9c1a3f5e7d9c1a3f5e7d9c1a3f5e7d9c1a3f";
        let cases = [
            ("ubuntu", "docker.io/library/ubuntu"),
            ("docker/docker", "docker.io/docker/docker"),
            ("docker.io/docker", "docker.io/library/docker"),
            ("index.docker.io/debian", "docker.io/library/debian"),
            ("index.docker.io/a/b", "docker.io/a/b"),
            ("localhost/app", "localhost/app"),
            ("localhost:5000/app", "localhost:5000/app"),
            ("localhost", "docker.io/library/localhost"),
            ("192.168.0.1:80", "docker.io/library/192.168.0.1:80"),
            ("[fc00::1]:5000/docker", "[fc00::1]:5000/docker"),
            ("Docker/docker", "Docker/docker"),
            ("example.com/a/b/c:tag", "example.com/a/b/c:tag"),
        ];
        for (text, expected) in cases {
            assert_eq!(normalized(text), expected, "{text}");
        }
        assert_eq!(
            normalized(&format!("docker.io/{hex}")),
            format!("docker.io/library/{hex}")
        );
    }

    #[test]
    fn dockers_refusals() {
        let hex = "1a3f5e7d9c1a3f5e7d9c1a3f5e7d9c1a3f5e7d9c1a3f5e7d9c1a3f5e7d9c1a3f";
        assert!(matches!(
            parse_normalized_named(hex),
            Err(Error::IdentifierAsName { .. })
        ));
        for bad in [
            "-docker",
            "docker///docker",
            "https://github.com/docker/docker",
            "[fc00::1]",
            "",
        ] {
            assert!(parse_normalized_named(bad).is_err(), "{bad}");
        }
        let err = parse_normalized_named("docker/Docker").expect_err("uppercase path");
        assert_eq!(
            err,
            Error::NameContainsUppercase {
                name: "docker/Docker".into()
            }
        );
    }
}
