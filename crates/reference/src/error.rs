//! The error type for parsing references and building them from parts.

/// Why a reference, name or tag was refused.
///
/// Each message starts with the words Docker uses for the same error, so people and scripts
/// that know Docker recognise it, and then says what exactly was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text does not fit the reference grammar.
    #[error("invalid reference format: {input:?}: {reason}")]
    InvalidFormat {
        /// The rejected text (shortened when long).
        input: String,
        /// Which rule it broke.
        reason: &'static str,
    },

    /// A tag does not fit `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    #[error(
        "invalid tag format: {tag:?}: a tag is 1 to 128 of A-Z a-z 0-9 _ . - and does not start \
         with . or -"
    )]
    TagInvalidFormat {
        /// The rejected tag (shortened when long).
        tag: String,
    },

    /// The repository name has upper-case letters, which are only allowed in a registry host.
    #[error("repository name must be lowercase: {name:?}")]
    NameContainsUppercase {
        /// The offending name (shortened when long).
        name: String,
    },

    /// The text is empty.
    #[error("repository name must have at least one component")]
    NameEmpty,

    /// The repository path (the name without its registry host) is over 255 characters.
    #[error("repository name must not be more than 255 characters: the path has {length}")]
    NameTooLong {
        /// The path's length.
        length: usize,
    },

    /// The text parsed, but is not written in canonical (fully qualified) form.
    #[error("repository name must be canonical: {input:?} should be written {canonical:?}")]
    NameNotCanonical {
        /// The text as given (shortened when long).
        input: String,
        /// The canonical form of the same reference.
        canonical: String,
    },

    /// A 64-hex-digit string was given where a repository name is expected; it looks like an
    /// image ID, and is refused so the two cannot be confused.
    #[error(
        "invalid repository name ({input}), cannot specify 64-byte hexadecimal strings; \
         to name an image by ID, use it where an image reference is accepted"
    )]
    IdentifierAsName {
        /// The rejected text.
        input: String,
    },

    /// A pattern for [`Reference::familiar_match`](crate::Reference::familiar_match) is
    /// malformed (an unclosed `[`, an empty class, an unescaped `-` or `]` in a class, a
    /// trailing `\`).
    #[error("syntax error in pattern {pattern:?}")]
    BadPattern {
        /// The rejected pattern (shortened when long).
        pattern: String,
    },

    /// The digest part fits the reference grammar but is not a valid digest.
    #[error(transparent)]
    Digest(#[from] imgsvc_digest::Error),
}

/// The longest input kept in an error, in bytes; longer text is cut at a character boundary.
const SNIPPET_MAX: usize = 300;

/// Keeps at most [`SNIPPET_MAX`] bytes of untrusted text for an error message.
pub(crate) fn snippet(text: &str) -> String {
    if text.len() <= SNIPPET_MAX {
        return text.to_owned();
    }
    let mut end = SNIPPET_MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_start_with_dockers_words() {
        let cases = [
            (
                Error::InvalidFormat {
                    input: "a b".into(),
                    reason: "spaces",
                },
                "invalid reference format",
            ),
            (
                Error::TagInvalidFormat { tag: "-x".into() },
                "invalid tag format",
            ),
            (
                Error::NameContainsUppercase { name: "A".into() },
                "repository name must be lowercase",
            ),
            (
                Error::NameEmpty,
                "repository name must have at least one component",
            ),
            (
                Error::NameTooLong { length: 300 },
                "repository name must not be more than 255 characters",
            ),
        ];
        for (error, start) in cases {
            assert!(error.to_string().starts_with(start), "{error}");
        }
    }

    #[test]
    fn snippets_are_bounded() {
        assert!(snippet(&"x".repeat(10_000)).len() < SNIPPET_MAX + 4);
        assert_eq!(snippet("short"), "short");
    }
}
