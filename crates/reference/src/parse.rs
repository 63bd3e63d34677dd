//! [`parse`]: a reference exactly as written, Docker's `reference.Parse`.

use imgsvc_digest::Digest;

use crate::error::snippet;
use crate::name::split_name;
use crate::{Error, Name, Reference, Tag, grammar};

/// Parses a reference as written, without Docker's normalization: `name[:tag][@digest]`.
///
/// Errors, decided in Docker's order:
/// - the empty text: [`Error::NameEmpty`];
/// - text outside the grammar: [`Error::NameContainsUppercase`] when its lowercase form
///   would fit, else [`Error::InvalidFormat`];
/// - a path over 255 characters: [`Error::NameTooLong`];
/// - a digest part that fits the grammar but is not a valid digest: [`Error::Digest`].
///
/// Beware that `sha256:<hex>` parses as the name `sha256` with a tag; use
/// [`parse_any_reference`](crate::parse_any_reference) where a digest alone is meant.
///
/// ```
/// use imgsvc_reference::{parse, Error};
///
/// let r = parse("localhost:5000/app:v1@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")?;
/// assert_eq!(r.domain(), "localhost:5000");
/// assert_eq!(r.path(), "app");
/// assert_eq!(r.tag().map(|t| t.as_str()), Some("v1"));
/// assert!(r.digest().is_some());
///
/// assert!(matches!(parse("Ubuntu"), Err(Error::NameContainsUppercase { .. })));
/// assert!(matches!(parse("ubuntu:"), Err(Error::InvalidFormat { .. })));
/// # Ok::<(), Error>(())
/// ```
pub fn parse(text: &str) -> Result<Reference, Error> {
    if text.is_empty() {
        return Err(Error::NameEmpty);
    }
    let parts = match split(text) {
        Ok(parts) => parts,
        Err(reason) => {
            let lower = go_lowercase(text);
            return Err(if lower != text && split(&lower).is_ok() {
                Error::NameContainsUppercase {
                    name: snippet(text),
                }
            } else {
                Error::InvalidFormat {
                    input: snippet(text),
                    reason,
                }
            });
        }
    };
    let name = Name::checked(parts.name, parts.domain_len)?;
    let digest = parts.digest.map(Digest::parse).transpose()?;
    Ok(Reference::from_parts(
        name,
        parts.tag.map(Tag::from_matched),
        digest,
    ))
}

/// A reference cut into its grammatical parts, not yet checked beyond the grammar.
struct Parts<'a> {
    name: &'a str,
    domain_len: usize,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// Matches the whole reference grammar `name(:tag)?(@digest)?`, or says which rule failed.
///
/// The grammar is unambiguous where it splits: the digest follows the first `@` (no other part
/// may contain one), and a tag follows the last `:` when no `/` comes after it (a `:` inside
/// the name only occurs in its domain, which a `/` always follows).
fn split(text: &str) -> Result<Parts<'_>, &'static str> {
    let (rest, digest) = match text.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (text, None),
    };
    if let Some(digest) = digest
        && !grammar::is_reference_digest(digest.as_bytes())
    {
        return Err("the part after @ is not a digest (algorithm:hex, at least 32 hex digits)");
    }
    let (name, tag) = match rest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (rest, None),
    };
    if let Some(tag) = tag
        && !grammar::is_tag(tag.as_bytes())
    {
        return Err("the tag is not 1 to 128 of A-Z a-z 0-9 _ . - (not starting with . or -)");
    }
    let Some(domain_len) = split_name(name.as_bytes()) else {
        return Err(if name.is_empty() {
            "the repository name is missing"
        } else {
            "the repository name is not [domain[:port]/]path with path components of \
             a-z 0-9 separated by . _ __ or dashes"
        });
    };
    Ok(Parts {
        name,
        domain_len,
        tag,
        digest,
    })
}

/// Lower-cases text the way Docker (Go's `strings.ToLower`) does: character by character,
/// with the simple case mapping (so `İ` becomes `i`, where Rust's full mapping would add a
/// combining dot).
pub(crate) fn go_lowercase(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{130}' => 'i',
            c => c.to_lowercase().next().unwrap_or(c),
        })
        .collect()
}

/// True when [`go_lowercase`] would change `text`.
pub(crate) fn has_uppercase(text: &str) -> bool {
    text.chars()
        .any(|c| c == '\u{130}' || c.to_lowercase().next() != Some(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercasing_follows_go() {
        assert_eq!(go_lowercase("ABC"), "abc");
        assert_eq!(go_lowercase("\u{130}"), "i");
        assert_eq!(go_lowercase("\u{212a}"), "k"); // Kelvin sign
        assert!(has_uppercase("aB"));
        assert!(has_uppercase("\u{212a}"));
        assert!(!has_uppercase("ab-0"));
    }

    #[test]
    fn uppercase_that_lowercases_into_the_grammar_is_named_as_such() {
        assert!(matches!(
            parse("Foo/Bar"),
            Err(Error::NameContainsUppercase { .. })
        ));
        assert!(matches!(
            parse("\u{212a}ube"),
            Err(Error::NameContainsUppercase { .. })
        ));
        assert!(matches!(parse("Foo Bar"), Err(Error::InvalidFormat { .. })));
    }
}
