//! Docker's `reference.Parse`, step by step over the regular expressions.

use imgsvc_digest::Digest;

use crate::grammar::GRAMMAR;
use crate::lowercase::go_lowercase;
use crate::{Kind, Outcome, Parts};

/// The longest path Docker accepts, in bytes (the domain does not count).
pub const PATH_LENGTH_MAX: usize = 255;

/// Parses `text` as Docker's `reference.Parse` does (no normalization).
///
/// The steps, in Docker's order:
/// 1. the empty text is [`Kind::NameEmpty`];
/// 2. text that the anchored reference expression refuses is
///    [`Kind::NameContainsUppercase`] when its Go-style lower-case form differs and matches,
///    else [`Kind::InvalidFormat`];
/// 3. the captured name is split into domain and path by the anchored name expression, and a
///    path over [`PATH_LENGTH_MAX`] bytes is [`Kind::NameTooLong`];
/// 4. a captured digest goes through [`Digest::parse`], whose error kind is kept.
///
/// ```
/// use imgsvc_reference_oracle::{parse, Kind};
///
/// let parts = parse("localhost:5000")?;
/// assert_eq!((parts.domain.as_str(), parts.path.as_str()), ("", "localhost"));
/// assert_eq!(parts.tag.as_deref(), Some("5000"));
/// assert_eq!(parse("name@sha256:abc"), Err(Kind::InvalidFormat));
/// # Ok::<(), Kind>(())
/// ```
pub fn parse(text: &str) -> Outcome {
    if text.is_empty() {
        return Err(Kind::NameEmpty);
    }
    let grammar = &*GRAMMAR;
    let Some(captures) = grammar.reference.captures(text) else {
        let lower = go_lowercase(text);
        return Err(if lower != text && grammar.reference.is_match(&lower) {
            Kind::NameContainsUppercase
        } else {
            Kind::InvalidFormat
        });
    };
    let name = captures.get(1).map_or("", |m| m.as_str());
    // Docker takes an unset capture as the empty string; the tag and digest patterns cannot
    // match the empty string, so "empty" and "absent" are the same here.
    let tag = captures
        .get(2)
        .map(|m| m.as_str())
        .filter(|t| !t.is_empty());
    let digest = captures
        .get(3)
        .map(|m| m.as_str())
        .filter(|d| !d.is_empty());

    let (domain, path) = match grammar.anchored_name.captures(name) {
        Some(split) => (
            split.get(1).map_or("", |m| m.as_str()),
            split.get(2).map_or("", |m| m.as_str()),
        ),
        None => ("", name),
    };
    if path.len() > PATH_LENGTH_MAX {
        return Err(Kind::NameTooLong);
    }
    let digest = match digest {
        Some(text) => Some(
            Digest::parse(text)
                .map_err(|err| Kind::from_digest_error(&err))?
                .to_string(),
        ),
        None => None,
    };
    Ok(Parts {
        domain: domain.to_owned(),
        path: path.to_owned(),
        tag: tag.map(str::to_owned),
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX64: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn ok(domain: &str, path: &str, tag: Option<&str>, digest: Option<&str>) -> Outcome {
        Ok(Parts {
            domain: domain.to_owned(),
            path: path.to_owned(),
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        })
    }

    fn check<S: AsRef<str>>(cases: impl IntoIterator<Item = (S, Outcome)>) {
        for (input, expected) in cases {
            let input = input.as_ref();
            assert_eq!(parse(input), expected, "parse({input:?})");
        }
    }

    #[test]
    fn names_split_into_domain_and_path_by_position() {
        check([
            ("ubuntu", ok("", "ubuntu", None, None)),
            ("a/b", ok("a", "b", None, None)),
            ("a/b/c", ok("a", "b/c", None, None)),
            ("library/ubuntu", ok("library", "ubuntu", None, None)),
            ("foo_bar/baz", ok("", "foo_bar/baz", None, None)),
            ("foo.bar", ok("", "foo.bar", None, None)),
            ("Foo/bar", ok("Foo", "bar", None, None)),
            (
                "localhost:5000/foo",
                ok("localhost:5000", "foo", None, None),
            ),
            ("localhost:5000", ok("", "localhost", Some("5000"), None)),
            ("192.168.0.1:80", ok("", "192.168.0.1", Some("80"), None)),
            (
                "[fc00::1]:5000/docker",
                ok("[fc00::1]:5000", "docker", None, None),
            ),
            (
                "[2001:db8::1]/foo:v1",
                ok("[2001:db8::1]", "foo", Some("v1"), None),
            ),
            (
                "xn--bcher-kva.example/x",
                ok("xn--bcher-kva.example", "x", None, None),
            ),
            (
                "docker.io/library/foo/bar",
                ok("docker.io", "library/foo/bar", None, None),
            ),
            ("a__b/c", ok("", "a__b/c", None, None)),
            ("a---b", ok("", "a---b", None, None)),
        ]);
        check([(
            format!("docker.io/{HEX64}"),
            ok("docker.io", HEX64, None, None),
        )]);
    }

    #[test]
    fn malformed_names_are_invalid_format() {
        check(
            [
                "-docker",
                "docker///docker",
                "https://github.com/docker/docker",
                "[fc00::1]",
                "[fc00::1]:5000",
                "[fe80::1%eth0]/x",
                "[::ffff:1.2.3.4]/x",
                "example.com:/foo",
                "-foo.com/bar",
                "foo-.com/bar",
                "docker.io/",
                "/foo",
                "foo/",
                "a___b",
                "a..b",
                "a._b",
                "ubuntu\n",
                " ubuntu",
                "foo/bar:tag:tag",
                "foo@bar@baz",
                "ubuntu:",
                "ubuntu@",
                "a:.x",
                "a:-x",
                "\u{c4}",
            ]
            .map(|input| (input, Err(Kind::InvalidFormat))),
        );
    }

    #[test]
    fn upper_case_outside_the_domain_is_reported_as_such() {
        check(
            [
                "foo/Bar",
                "Foo",
                "docker/Docker",
                "Foo:5000",
                "UPPER:TAG",
                "\u{130}mage",
                "\u{212a}ube",
                "\u{212a}ube/x",
            ]
            .map(|input| (input, Err(Kind::NameContainsUppercase))),
        );
        check([
            ("ubuntu:Latest", ok("", "ubuntu", Some("Latest"), None)),
            (
                "REGISTRY.Example/x",
                ok("REGISTRY.Example", "x", None, None),
            ),
            // The Kelvin sign lowers to ASCII, but a lower-case form that still does not fit
            // is just invalid.
            ("\u{212a}ube/", Err(Kind::InvalidFormat)),
            ("\u{212b}ngstrom", Err(Kind::InvalidFormat)),
        ]);
    }

    #[test]
    fn tags_have_at_most_128_characters() {
        let longest: String = "_".chars().chain("A.-".chars().cycle().take(127)).collect();
        check([
            (format!("a:{longest}"), ok("", "a", Some(&longest), None)),
            (format!("a:{longest}x"), Err(Kind::InvalidFormat)),
            (
                format!("sha256:{HEX64}"),
                ok("", "sha256", Some(HEX64), None),
            ),
        ]);
    }

    #[test]
    fn digests_fit_the_loose_pattern_then_the_digest_library() {
        let digest = format!("sha256:{HEX64}");
        check([
            (
                format!("name@{digest}"),
                ok("", "name", None, Some(&digest)),
            ),
            (
                format!("r.io:1/a/b:v1@{digest}"),
                ok("r.io:1", "a/b", Some("v1"), Some(&digest)),
            ),
            ("name@sha256:abc".to_owned(), Err(Kind::InvalidFormat)),
            (
                format!("name@sha256:{}", &HEX64[..40]),
                Err(Kind::DigestInvalidLength),
            ),
            (
                format!("name@sha256:{}", &HEX64[..32]),
                Err(Kind::DigestInvalidLength),
            ),
            (
                format!("name@sha256:{}", HEX64.to_uppercase()),
                Err(Kind::DigestInvalidFormat),
            ),
            (
                format!("name@SHA256:{HEX64}"),
                Err(Kind::DigestInvalidFormat),
            ),
            (
                format!("name@foo:{}", &HEX64[..32]),
                Err(Kind::DigestUnsupported),
            ),
            (
                format!("name@foo+bar.baz:{HEX64}"),
                Err(Kind::DigestUnsupported),
            ),
            (
                format!("name@sha512:{HEX64}"),
                Err(Kind::DigestInvalidLength),
            ),
        ]);
    }

    #[test]
    fn only_the_path_counts_towards_the_length_limit() {
        let path = "a".repeat(PATH_LENGTH_MAX);
        let domain = format!("{}.example", "d".repeat(300));
        check([
            (path.clone(), ok("", &path, None, None)),
            (format!("{path}a"), Err(Kind::NameTooLong)),
            (format!("x/{path}"), ok("x", &path, None, None)),
            (format!("{domain}/{path}"), ok(&domain, &path, None, None)),
            (format!("{domain}/{path}a"), Err(Kind::NameTooLong)),
            // The grammar is checked first, the length second, the digest last.
            ("A".repeat(300), Err(Kind::NameContainsUppercase)),
            (format!("{path}a@sha256:abc"), Err(Kind::InvalidFormat)),
            (
                format!("{path}a@sha256:{}", &HEX64[..40]),
                Err(Kind::NameTooLong),
            ),
        ]);
    }

    #[test]
    fn the_empty_text_has_no_name() {
        check([("", Err(Kind::NameEmpty))]);
    }
}
