//! What the oracle answers: the parts of an accepted reference, or the kind of error.

/// The result of [`parse`](crate::parse).
pub type Outcome = Result<Parts, Kind>;

/// An accepted reference cut into its parts, as Docker's parser reports them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Parts {
    /// The registry host with its optional port (`registry.local:5000`, `[fc00::1]`), or the
    /// empty string when the name has none.
    pub domain: String,
    /// The repository path (the remote name), e.g. `library/ubuntu`.
    pub path: String,
    /// The tag, without its `:`.
    pub tag: Option<String>,
    /// The digest in canonical form (`sha256:<hex>`), without its `@`.
    pub digest: Option<String>,
}

/// Why Docker's parser refuses a reference: one kind per upstream error value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// "repository name must have at least one component": the empty text.
    NameEmpty,
    /// "invalid reference format": the text does not fit the grammar.
    InvalidFormat,
    /// "repository name must be lowercase": the lower-cased text would fit the grammar.
    NameContainsUppercase,
    /// "repository name must not be more than 255 characters": the path is too long.
    NameTooLong,
    /// The digest library's "invalid checksum digest format".
    DigestInvalidFormat,
    /// The digest library's "invalid checksum digest length".
    DigestInvalidLength,
    /// The digest library's "unsupported digest algorithm".
    DigestUnsupported,
}

/// Conversions
impl Kind {
    /// The kind for an error of [`imgsvc_digest::Digest::parse`].
    ///
    /// ```
    /// use imgsvc_reference_oracle::Kind;
    ///
    /// let err = imgsvc_digest::Digest::parse("sha256:abc").expect_err("too short");
    /// assert_eq!(Kind::from_digest_error(&err), Kind::DigestInvalidLength);
    /// ```
    pub fn from_digest_error(err: &imgsvc_digest::Error) -> Kind {
        match err {
            imgsvc_digest::Error::InvalidLength { .. } => Kind::DigestInvalidLength,
            imgsvc_digest::Error::Unsupported { .. } => Kind::DigestUnsupported,
            // Parsing returns only these three kinds; anything else is a format problem too.
            _ => Kind::DigestInvalidFormat,
        }
    }
}
