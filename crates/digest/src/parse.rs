//! Parsing `algorithm:encoded` text, with go-digest's checks in go-digest's order.

use crate::error::snippet;
use crate::{Algorithm, Digest, Error, hex};

/// Parses and validates a digest.
///
/// The checks run in this order, and the first failing one decides the error, so that every
/// input gets the same error kind as in Docker:
/// 1. no `:`, nothing before it, or nothing after it: [`Error::InvalidFormat`];
/// 2. an algorithm this library does not compute: [`Error::InvalidFormat`] when the whole text
///    does not fit the general digest grammar, else [`Error::Unsupported`];
/// 3. an encoded part of the wrong length: [`Error::InvalidLength`] (before any character
///    check, so `sha256:XYZ` is a length error);
/// 4. anything but lowercase hex in the encoded part: [`Error::InvalidFormat`].
pub(crate) fn parse(text: &str) -> Result<Digest, Error> {
    let invalid_format = || Error::InvalidFormat {
        input: snippet(text),
    };
    let Some((name, encoded)) = text.split_once(':') else {
        return Err(invalid_format());
    };
    if name.is_empty() || encoded.is_empty() {
        return Err(invalid_format());
    }
    let Some(algorithm) = Algorithm::from_name(name) else {
        return Err(
            if is_algorithm_grammar(name) && is_encoded_grammar(encoded) {
                Error::Unsupported {
                    algorithm: snippet(name),
                }
            } else {
                invalid_format()
            },
        );
    };
    if encoded.len() != algorithm.encoded_len() {
        return Err(Error::InvalidLength {
            algorithm,
            expected: algorithm.encoded_len(),
            actual: encoded.len(),
            input: snippet(text),
        });
    }
    let mut bytes = [0u8; crate::algorithm::MAX_SIZE];
    let out = bytes
        .get_mut(..algorithm.size())
        .ok_or_else(invalid_format)?;
    hex::decode_into(encoded.as_bytes(), out).ok_or_else(invalid_format)?;
    Ok(Digest::from_parts(algorithm, bytes))
}

/// The algorithm part of the general digest grammar: lowercase alphanumeric components joined
/// by exactly one of `.`, `+`, `_`, `-` (so no leading, trailing or doubled separator).
fn is_algorithm_grammar(name: &str) -> bool {
    let is_component_char = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut previous_was_separator = true; // a leading separator is refused
    for c in name.bytes() {
        if is_component_char(c) {
            previous_was_separator = false;
        } else if matches!(c, b'.' | b'+' | b'_' | b'-') && !previous_was_separator {
            previous_was_separator = true;
        } else {
            return false;
        }
    }
    !previous_was_separator
}

/// The encoded part of the general digest grammar: one or more of `[a-zA-Z0-9=_-]`, which
/// leaves room for base64-style encodings of future algorithms.
fn is_encoded_grammar(encoded: &str) -> bool {
    !encoded.is_empty()
        && encoded
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'=' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_grammar_needs_components_between_separators() {
        for ok in ["sha256", "sha384.foo+bar", "a-b_c", "0"] {
            assert!(is_algorithm_grammar(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a__b", "Sha256", "a b", "a:b"] {
            assert!(!is_algorithm_grammar(bad), "{bad}");
        }
    }

    #[test]
    fn encoded_grammar_allows_base64ish_characters() {
        assert!(is_encoded_grammar(
            "LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564="
        ));
        assert!(!is_encoded_grammar(""));
        assert!(!is_encoded_grammar("a b"));
        assert!(!is_encoded_grammar("a:b"));
        assert!(!is_encoded_grammar("a/b"));
    }
}
