//! The reference grammar as regular expressions, composed from the same building blocks and in
//! the same way as the upstream library, so that a match here is a match there.
//!
//! Two points keep the dialects equal: Go's `\w` is ASCII-only, so it is written out as
//! `[0-9A-Za-z_]`; and both engines pick the leftmost-first match with the same capture
//! positions, so the captured name, tag and digest are the ones Docker sees.

use std::sync::LazyLock;

use regex::Regex;

/// One or more lower-case letters or digits: the words of a path component.
pub(crate) const ALPHANUMERIC: &str = "[a-z0-9]+";

/// What may join two words of a path component: one `.`, one or two `_`, or any run of `-`.
pub(crate) const SEPARATOR: &str = "(?:[._]|__|[-]+)";

/// One label of a domain name: letters (either case) and digits, with inner hyphens.
pub(crate) const DOMAIN_NAME_COMPONENT: &str =
    "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";

/// A bracketed IPv6 address: hex digits and colons only (no zone, no embedded IPv4).
pub(crate) const IPV6_ADDRESS: &str = r"\[(?:[a-fA-F0-9:]+)\]";

/// An optional `:port` after the host.
pub(crate) const OPTIONAL_PORT: &str = "(?::[0-9]+)?";

/// A tag: a word character, then up to 127 word characters, dots and hyphens. `\w` spelled as
/// Go means it (ASCII only).
pub(crate) const TAG: &str = "[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";

/// The digest part of a reference: deliberately looser than a valid digest (either case of
/// hex, any length from 32), the digest library decides afterwards.
pub(crate) const DIGEST: &str =
    "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}";

/// `(?:parts)?`
fn optional(parts: &[&str]) -> String {
    format!("(?:{})?", parts.concat())
}

/// `(?:parts)*`
fn any_times(parts: &[&str]) -> String {
    format!("(?:{})*", parts.concat())
}

/// `(parts)`
fn capture(parts: &[&str]) -> String {
    format!("({})", parts.concat())
}

/// `^parts$`: Go's `$` without multi-line mode, like the regex crate's, is the end of the
/// text only.
fn anchored(parts: &[&str]) -> String {
    format!("^{}$", parts.concat())
}

/// A path component: words joined by separators.
fn path_component() -> String {
    [ALPHANUMERIC, &any_times(&[SEPARATOR, ALPHANUMERIC])].concat()
}

/// The remote name (the path): path components joined by `/`.
fn remote_name() -> String {
    let component = path_component();
    [component.as_str(), &any_times(&["/", &component])].concat()
}

/// A domain name: labels joined by `.`.
fn domain_name() -> String {
    [
        DOMAIN_NAME_COMPONENT,
        &any_times(&[r"\.", DOMAIN_NAME_COMPONENT]),
    ]
    .concat()
}

/// A registry host with an optional port.
fn domain_and_port() -> String {
    format!("(?:{}|{IPV6_ADDRESS}){OPTIONAL_PORT}", domain_name())
}

/// A repository name: an optional `domain/` and the remote name.
fn name() -> String {
    [optional(&[&domain_and_port(), "/"]), remote_name()].concat()
}

/// The whole-reference pattern with its three captures: name, tag, digest.
pub(crate) fn reference_pattern() -> String {
    anchored(&[
        &capture(&[&name()]),
        &optional(&[":", &capture(&[TAG])]),
        &optional(&["@", &capture(&[DIGEST])]),
    ])
}

/// The name pattern that splits a name in two captures: domain (optional) and path.
pub(crate) fn anchored_name_pattern() -> String {
    anchored(&[
        &optional(&[&capture(&[&domain_and_port()]), "/"]),
        &capture(&[&remote_name()]),
    ])
}

/// The two compiled expressions, built once.
pub(crate) struct Grammar {
    /// [`reference_pattern`].
    pub(crate) reference: Regex,
    /// [`anchored_name_pattern`].
    pub(crate) anchored_name: Regex,
}

/// The compiled grammar.
pub(crate) static GRAMMAR: LazyLock<Grammar> = LazyLock::new(compile);

#[expect(
    clippy::expect_used,
    reason = "the patterns are constants; the unit tests compile them, and an oracle that \
              cannot be built must stop the test using it"
)]
fn compile() -> Grammar {
    Grammar {
        reference: Regex::new(&reference_pattern()).expect("the reference pattern compiles"),
        anchored_name: Regex::new(&anchored_name_pattern()).expect("the name pattern compiles"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile() {
        assert!(Regex::new(&reference_pattern()).is_ok());
        assert!(Regex::new(&anchored_name_pattern()).is_ok());
    }

    #[test]
    fn patterns_read_as_the_upstream_composition() {
        let component = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
        let label = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
        let domain = format!(r"(?:{label}(?:\.{label})*|\[(?:[a-fA-F0-9:]+)\])(?::[0-9]+)?");
        let remote = format!("{component}(?:/{component})*");
        assert_eq!(
            anchored_name_pattern(),
            format!("^(?:({domain})/)?({remote})$")
        );
        assert_eq!(
            reference_pattern(),
            format!(
                "^((?:{domain}/)?{remote})(?::([0-9A-Za-z_][0-9A-Za-z_.-]{{0,127}}))?\
                 (?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{{32,}}))?$"
            )
        );
    }

    #[test]
    fn the_tag_class_is_ascii_only() {
        let tag = Regex::new(&anchored(&[TAG])).expect("the tag pattern compiles");
        assert!(tag.is_match("Latest_1.0-rc"));
        assert!(!tag.is_match("é"));
        assert!(!tag.is_match("٣"), "Go's \\w has no non-ASCII digits");
        assert!(tag.is_match(&"a".repeat(128)));
        assert!(!tag.is_match(&"a".repeat(129)));
    }
}
