//! The crate's one error type, with go-digest's error kinds and messages a person can act on.

use std::io;

use crate::{Algorithm, Digest};

/// Everything that can go wrong with a digest: parsing one, verifying content against one, or
/// looking one up by prefix in a [`DigestSet`](crate::DigestSet).
///
/// The parse variants are go-digest's error kinds, decided in go-digest's order (see
/// [`Digest`](crate::Digest#parsing)); each message starts with go-digest's wording and then
/// says what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not of the form `algorithm:encoded`, or the encoded part is not lowercase hex.
    #[error(
        "invalid checksum digest format: {input:?} is not `algorithm:hex` \
         (e.g. sha256: followed by 64 lowercase hex digits)"
    )]
    InvalidFormat {
        /// The rejected text (shortened when long).
        input: String,
    },

    /// The encoded part has the wrong length for its algorithm.
    #[error(
        "invalid checksum digest length: {algorithm} needs {expected} hex digits, {input:?} has {actual}"
    )]
    InvalidLength {
        /// The algorithm the text names.
        algorithm: Algorithm,
        /// The length the algorithm requires (twice its size in bytes).
        expected: usize,
        /// The length found.
        actual: usize,
        /// The rejected text (shortened when long).
        input: String,
    },

    /// The algorithm is well formed but not one this library computes.
    #[error("unsupported digest algorithm {algorithm:?}: supported are sha256, sha384 and sha512")]
    Unsupported {
        /// The algorithm name that was given (shortened when long).
        algorithm: String,
    },

    /// Content hashed to a different digest than expected.
    #[error("content does not match its digest: expected {expected}, got {actual}")]
    Mismatch {
        /// The digest the content should have had.
        expected: Digest,
        /// The digest the content has.
        actual: Digest,
    },

    /// Content ended before, or went on after, its expected size.
    #[error("content has the wrong size: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// The size the content should have had.
        expected: u64,
        /// The size seen: the whole content, or the first byte count past `expected`.
        actual: u64,
    },

    /// No digest in the set starts with the given text.
    #[error("digest not found: nothing matches {prefix:?}")]
    NotFound {
        /// The text that was looked up (shortened when long).
        prefix: String,
    },

    /// More than one digest in the set starts with the given text.
    #[error(
        "ambiguous digest string {prefix:?}: several digests start with it; give more characters"
    )]
    Ambiguous {
        /// The text that was looked up (shortened when long).
        prefix: String,
    },
}

/// Conversions
impl Error {
    /// The digest error carried inside an [`io::Error`] returned by a verifying reader, if any.
    ///
    /// ```
    /// use std::io::Read;
    /// use imgsvc_digest::{Digest, Error, VerifyingReader};
    ///
    /// let expected = Digest::from_bytes(b"foo");
    /// let mut reader = VerifyingReader::new(&b"bar"[..], expected);
    /// let err = reader.read_to_end(&mut Vec::new()).expect_err("bar is not foo");
    /// assert!(matches!(Error::from_io(&err), Some(Error::Mismatch { .. })));
    /// ```
    pub fn from_io(err: &io::Error) -> Option<&Error> {
        err.get_ref()
            .and_then(|inner| inner.downcast_ref::<Error>())
    }

    /// Wraps this error in an [`io::Error`] of kind [`io::ErrorKind::InvalidData`].
    ///
    /// ```
    /// use imgsvc_digest::Error;
    /// let err = Error::SizeMismatch { expected: 3, actual: 2 }.into_io();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    /// ```
    pub fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }
}

/// The longest input kept in an error, in bytes; longer text is cut at a character boundary.
const SNIPPET_MAX: usize = 160;

/// Keeps at most [`SNIPPET_MAX`] bytes of untrusted text for an error message, so a hostile
/// megabyte-long "digest" does not become a megabyte-long log line.
pub(crate) fn snippet(text: &str) -> String {
    if text.len() <= SNIPPET_MAX {
        return text.to_owned();
    }
    let mut end = SNIPPET_MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text.get(..end).unwrap_or_default().to_owned();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_cut_long_text_at_a_character_boundary() {
        let long = "é".repeat(200);
        let cut = snippet(&long);
        assert!(cut.len() <= SNIPPET_MAX + '…'.len_utf8());
        assert!(cut.ends_with('…'));
        assert_eq!(snippet("short"), "short");
    }

    #[test]
    fn io_errors_carry_the_digest_error() {
        let err = Error::NotFound {
            prefix: "ab".into(),
        }
        .into_io();
        assert_eq!(
            Error::from_io(&err),
            Some(&Error::NotFound {
                prefix: "ab".into()
            })
        );
        assert_eq!(Error::from_io(&io::Error::other("x")), None);
    }
}
