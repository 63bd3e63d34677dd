//! [`Reference`]: a repository name with an optional tag and an optional digest.

use std::fmt;
use std::str::FromStr;

use imgsvc_digest::Digest;

use crate::{Error, Name, Tag, pattern};

/// A reference to an image in a repository: `name[:tag][@digest]`, e.g.
/// `docker.io/library/ubuntu:24.04` or `quay.io/coreos/etcd@sha256:…`.
///
/// A `Reference` always has a [`Name`] and is valid by construction. Its text form
/// ([`Display`](fmt::Display)) is the canonical `domain/path:tag@digest`, and parsing that text
/// back ([`FromStr`], serde) gives an equal value. Docker's narrower interface types
/// (`Named`, `NamedTagged`, `Canonical`, ...) are the cases of [`tag`](Self::tag) and
/// [`digest`](Self::digest) being present or not.
///
/// ```
/// use imgsvc_reference::{parse_normalized_named, Reference};
///
/// let r = parse_normalized_named("ubuntu:24.04")?;
/// assert_eq!(r.to_string(), "docker.io/library/ubuntu:24.04");
/// assert_eq!(r.familiar_string(), "ubuntu:24.04");
/// assert_eq!(r.to_string().parse::<Reference>()?, r);
/// # Ok::<(), imgsvc_reference::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    name: Name,
    tag: Option<Tag>,
    digest: Option<Digest>,
}

/// Construction
impl Reference {
    /// A reference from its parts.
    ///
    /// ```
    /// use imgsvc_reference::{Name, Reference, Tag};
    /// let r = Reference::from_parts(Name::new("docker.io/library/ubuntu")?, Some(Tag::latest()), None);
    /// assert_eq!(r.to_string(), "docker.io/library/ubuntu:latest");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn from_parts(name: Name, tag: Option<Tag>, digest: Option<Digest>) -> Reference {
        Reference { name, tag, digest }
    }

    /// Parses a reference as written, without normalization; the same as [`crate::parse`].
    ///
    /// ```
    /// let r = imgsvc_reference::Reference::parse("ubuntu:24.04")?;
    /// assert_eq!(r.domain(), "");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Reference, Error> {
        crate::parse(text)
    }
}

/// Access
impl Reference {
    /// The repository name.
    ///
    /// ```
    /// let r = imgsvc_reference::parse_normalized_named("ubuntu")?;
    /// assert_eq!(r.name().as_str(), "docker.io/library/ubuntu");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The registry domain, or `""` when the name has none.
    ///
    /// ```
    /// let r = imgsvc_reference::parse_normalized_named("ubuntu")?;
    /// assert_eq!(r.domain(), "docker.io");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn domain(&self) -> &str {
        self.name.domain()
    }

    /// The repository path within the registry.
    ///
    /// ```
    /// let r = imgsvc_reference::parse_normalized_named("ubuntu")?;
    /// assert_eq!(r.path(), "library/ubuntu");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn path(&self) -> &str {
        self.name.path()
    }

    /// The tag, if there is one.
    ///
    /// ```
    /// let r = imgsvc_reference::parse("app:v2")?;
    /// assert_eq!(r.tag().map(|t| t.as_str()), Some("v2"));
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn tag(&self) -> Option<&Tag> {
        self.tag.as_ref()
    }

    /// The digest, if there is one.
    ///
    /// ```
    /// let r = imgsvc_reference::parse("app@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")?;
    /// assert_eq!(r.digest(), Some(imgsvc_digest::Digest::from_bytes(b"")));
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn digest(&self) -> Option<Digest> {
        self.digest
    }

    /// True when the reference is a bare name, with neither tag nor digest (`IsNameOnly`).
    ///
    /// ```
    /// assert!(imgsvc_reference::parse("app")?.is_name_only());
    /// assert!(!imgsvc_reference::parse("app:1")?.is_name_only());
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }
}

/// Derived references
impl Reference {
    /// The same reference with `tag` (replacing any tag; a digest is kept), Docker's `WithTag`.
    ///
    /// ```
    /// use imgsvc_reference::{parse_normalized_named, Tag};
    /// let r = parse_normalized_named("ubuntu:22.04")?.with_tag(Tag::new("24.04")?);
    /// assert_eq!(r.familiar_string(), "ubuntu:24.04");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn with_tag(&self, tag: Tag) -> Reference {
        Reference {
            tag: Some(tag),
            ..self.clone()
        }
    }

    /// The same reference with `digest` (replacing any digest; a tag is kept), Docker's
    /// `WithDigest`.
    ///
    /// ```
    /// use imgsvc_digest::Digest;
    /// let r = imgsvc_reference::parse("app:1")?.with_digest(Digest::from_bytes(b""));
    /// assert!(r.to_string().starts_with("app:1@sha256:e3b0c442"));
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// Only the name, without tag or digest, Docker's `TrimNamed`.
    ///
    /// ```
    /// let r = imgsvc_reference::parse("app:1")?;
    /// assert_eq!(r.trim_named().to_string(), "app");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn trim_named(&self) -> Reference {
        Reference {
            name: self.name.clone(),
            tag: None,
            digest: None,
        }
    }

    /// The reference with the tag `latest` added when it is a bare name (`TagNameOnly`);
    /// otherwise unchanged.
    ///
    /// ```
    /// let r = imgsvc_reference::parse_normalized_named("ubuntu")?.tag_name_only();
    /// assert_eq!(r.to_string(), "docker.io/library/ubuntu:latest");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn tag_name_only(self) -> Reference {
        if self.is_name_only() {
            Reference {
                tag: Some(Tag::latest()),
                ..self
            }
        } else {
            self
        }
    }

    /// The reference without its tag when it also has a digest (Docker's "favor digest"
    /// rule: a digest says more than a tag).
    pub(crate) fn favor_digest(self) -> Reference {
        if self.digest.is_some() {
            Reference { tag: None, ..self }
        } else {
            self
        }
    }
}

/// Familiar forms
impl Reference {
    /// The short name Docker shows (`ubuntu` for `docker.io/library/ubuntu`), Docker's
    /// `FamiliarName`; see [`Name::familiar`].
    ///
    /// ```
    /// let r = imgsvc_reference::parse_normalized_named("ubuntu:24.04")?;
    /// assert_eq!(r.familiar_name(), "ubuntu");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn familiar_name(&self) -> &str {
        self.name.familiar()
    }

    /// The whole reference as Docker shows it: the familiar name with tag and digest
    /// (`FamiliarString`).
    ///
    /// ```
    /// let r = imgsvc_reference::parse_normalized_named("docker.io/library/ubuntu:24.04")?;
    /// assert_eq!(r.familiar_string(), "ubuntu:24.04");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn familiar_string(&self) -> String {
        let mut out = self.familiar_name().to_owned();
        self.push_suffix(&mut out);
        out
    }

    /// Whether a shell-style pattern (`*`, `?`, `[a-z]`, `\` escapes; `*` and `?` do not match
    /// `/`) matches the familiar string or, failing that, the familiar name (`FamiliarMatch`,
    /// as in `docker images --filter reference=...`).
    ///
    /// ```
    /// let r = imgsvc_reference::parse_normalized_named("ubuntu:24.04")?;
    /// assert!(r.familiar_match("ubuntu:*")?);
    /// assert!(r.familiar_match("ub*")?);
    /// assert!(!r.familiar_match("debian*")?);
    /// assert!(r.familiar_match("[").is_err());
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn familiar_match(&self, pattern: &str) -> Result<bool, Error> {
        if pattern::matches(pattern, &self.familiar_string())? {
            return Ok(true);
        }
        pattern::matches(pattern, self.familiar_name())
    }

    /// Appends `:tag` and `@digest` as present.
    fn push_suffix(&self, out: &mut String) {
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag.as_str());
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(&digest.to_string());
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name.as_str())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

impl FromStr for Reference {
    type Err = Error;
    fn from_str(text: &str) -> Result<Reference, Error> {
        crate::parse(text)
    }
}

impl From<Name> for Reference {
    fn from(name: Name) -> Reference {
        Reference::from_parts(name, None, None)
    }
}
