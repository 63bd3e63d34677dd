//! `parse`: the reference grammar and its errors, as written (no normalization).

use imgsvc_digest::Digest;
use imgsvc_reference::{Error, Reference, parse};
use proptest::prelude::*;

const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// (domain, path, tag, digest) of a parsed reference.
fn parts(text: &str) -> (String, String, Option<String>, Option<String>) {
    let r = parse(text).unwrap_or_else(|err| panic!("{text:?} should parse: {err}"));
    (
        r.domain().to_owned(),
        r.path().to_owned(),
        r.tag().map(|t| t.to_string()),
        r.digest().map(|d| d.to_string()),
    )
}

fn some(text: &str) -> Option<String> {
    Some(text.to_owned())
}

#[test]
fn valid_references_split_into_their_parts() {
    let digest = format!("sha256:{HEX}");
    let cases = [
        ("test_com", ("", "test_com", None, None)),
        ("test.com:tag", ("", "test.com", some("tag"), None)),
        ("test.com:5000", ("", "test.com", some("5000"), None)),
        ("test.com/repo:tag", ("test.com", "repo", some("tag"), None)),
        ("test:5000/repo", ("test:5000", "repo", None, None)),
        (
            "test:5000/repo:tag",
            ("test:5000", "repo", some("tag"), None),
        ),
        (
            "lowercase:Uppercase",
            ("", "lowercase", some("Uppercase"), None),
        ),
        ("foo_bar.com:8080", ("", "foo_bar.com", some("8080"), None)),
        (
            "foo/foo_bar.com:8080",
            ("foo", "foo_bar.com", some("8080"), None),
        ),
        (
            "[2001:db8::1]:5000/repo",
            ("[2001:db8::1]:5000", "repo", None, None),
        ),
        (
            "[2001:db8::]:5000/repo",
            ("[2001:db8::]:5000", "repo", None, None),
        ),
        ("[::1]/repo:tag", ("[::1]", "repo", some("tag"), None)),
        ("Uppercase.com/repo", ("Uppercase.com", "repo", None, None)),
        ("a/b", ("a", "b", None, None)),
        ("a__b/c---d/e.f", ("", "a__b/c---d/e.f", None, None)),
        (
            "sub-dom1.foo.com/bar/baz/quux",
            ("sub-dom1.foo.com", "bar/baz/quux", None, None),
        ),
    ];
    for (text, (domain, path, tag, digest_part)) in cases {
        assert_eq!(
            parts(text),
            (domain.to_owned(), path.to_owned(), tag, digest_part),
            "{text}"
        );
    }
    assert_eq!(
        parts(&format!("test:5000/repo@{digest}")),
        ("test:5000".into(), "repo".into(), None, some(&digest))
    );
    assert_eq!(
        parts(&format!("test:5000/repo:tag@{digest}")),
        (
            "test:5000".into(),
            "repo".into(),
            some("tag"),
            some(&digest)
        )
    );
}

#[test]
fn a_bare_digest_parses_as_a_name_with_a_tag() {
    // Docker's well-known trap: `sha256:<hex>` is the repository `sha256` tagged `<hex>`.
    assert_eq!(
        parts(&format!("sha256:{HEX}")),
        ("".into(), "sha256".into(), some(HEX), None)
    );
}

#[test]
fn errors_have_dockers_kinds() {
    type Check = fn(&Error) -> bool;
    let invalid: Check = |e| matches!(e, Error::InvalidFormat { .. });
    let upper: Check = |e| matches!(e, Error::NameContainsUppercase { .. });
    let empty: Check = |e| matches!(e, Error::NameEmpty);
    let too_long: Check = |e| matches!(e, Error::NameTooLong { .. });
    let digest_length: Check =
        |e| matches!(e, Error::Digest(imgsvc_digest::Error::InvalidLength { .. }));
    let digest_format: Check =
        |e| matches!(e, Error::Digest(imgsvc_digest::Error::InvalidFormat { .. }));
    let digest_unsupported: Check =
        |e| matches!(e, Error::Digest(imgsvc_digest::Error::Unsupported { .. }));

    let cases: Vec<(String, Check)> = vec![
        ("".into(), empty),
        (":justtag".into(), invalid),
        (format!("@sha256:{HEX}"), invalid),
        (
            "repo@sha256:ffffffffffffffffffffffffffffffffff".into(),
            digest_length,
        ),
        (
            "validname@invaliddigest:ffffffffffffffffffffffffffffffffffffffffff".into(),
            digest_unsupported,
        ),
        (format!("repo@sha256:{}", HEX.to_uppercase()), digest_format),
        ("repo@sha256:abc".into(), invalid), // under 32 hex digits: not even the grammar
        ("Uppercase:tag".into(), upper),
        ("test:5000/Uppercase/lowercase:tag".into(), upper),
        ("aa/asdf$$^/aa".into(), invalid),
        ("[2001:db8::1]".into(), invalid),
        ("[2001:db8::1]:5000".into(), invalid),
        ("[fe80::1%eth0]:5000/repo".into(), invalid),
        ("[2001:db8:3:4::192.0.2.33]:5000/repo".into(), invalid),
        ("repo:".into(), invalid),
        ("repo:-tag".into(), invalid),
        (format!("repo:{}", "t".repeat(129)), invalid),
        ("-repo".into(), invalid),
        ("repo-".into(), invalid),
        ("re__po/a___b".into(), invalid),
        ("a//b".into(), invalid),
        ("a/".into(), invalid),
        ("a b".into(), invalid),
        ("a@b@c".into(), invalid),
        (format!("a/{}", "a".repeat(256)), too_long),
    ];
    for (text, check) in cases {
        let err = parse(&text).expect_err(&text);
        assert!(check(&err), "{text:?} gave {err:?}");
    }
}

#[test]
fn length_limits_sit_exactly_on_the_boundary() {
    // "a_a" cannot be a domain, so it counts towards the path.
    assert!(parse(&format!("a_a/{}", "a".repeat(251))).is_ok()); // path of 255
    assert!(parse(&format!("a_a/{}", "a".repeat(252))).is_err()); // path of 256
    assert!(parse(&format!("a/{}", "a".repeat(255))).is_ok()); // domain "a", path of 255
    assert!(parse(&format!("{}.com/a", "d".repeat(400))).is_ok()); // the domain is free
    assert!(parse(&format!("repo:{}", "t".repeat(128))).is_ok());
}

#[test]
fn messages_name_the_input_and_the_rule() {
    let err = parse("repo:-tag").expect_err("bad tag");
    let message = err.to_string();
    assert!(
        message.starts_with("invalid reference format: \"repo:-tag\""),
        "{message}"
    );
    assert!(message.contains("tag"), "{message}");
    let err = parse("Repo").expect_err("uppercase");
    assert_eq!(
        err.to_string(),
        "repository name must be lowercase: \"Repo\""
    );
}

#[test]
fn derived_references() {
    let digest = Digest::from_bytes(b"");
    let r = parse("example.com/app:1").expect("valid");
    assert_eq!(
        r.with_digest(digest).to_string(),
        format!("example.com/app:1@{digest}")
    );
    assert_eq!(
        r.with_digest(digest)
            .with_tag("2".parse().expect("tag"))
            .to_string(),
        format!("example.com/app:2@{digest}")
    );
    assert_eq!(r.trim_named().to_string(), "example.com/app");
    assert_eq!(
        r.trim_named().tag_name_only().to_string(),
        "example.com/app:latest"
    );
    assert_eq!(r.clone().tag_name_only(), r);
    assert!(r.trim_named().is_name_only());
}

fn component() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,5}((\\.|_|__|-{1,3})[a-z0-9]{1,5}){0,2}"
}

fn reference() -> impl Strategy<Value = Reference> {
    let domain = prop_oneof![
        Just(String::new()),
        "[a-zA-Z0-9]{1,6}(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,4}[a-zA-Z0-9])?){1,2}(:[0-9]{1,5})?",
        "\\[[0-9a-f:]{2,12}\\](:[0-9]{1,5})?",
        Just("localhost:5000".to_owned()),
    ];
    let path = prop::collection::vec(component(), 1..4).prop_map(|c| c.join("/"));
    let tag = prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}");
    let digest =
        prop::option::of(any::<[u8; 32]>().prop_map(|b| {
            Digest::from_raw(imgsvc_digest::Algorithm::Sha256, &b).expect("32 bytes")
        }));
    (domain, path, tag, digest).prop_map(|(domain, path, tag, digest)| {
        let mut text = if domain.is_empty() {
            path
        } else {
            format!("{domain}/{path}")
        };
        if let Some(tag) = tag {
            text = format!("{text}:{tag}");
        }
        if let Some(digest) = digest {
            text = format!("{text}@{digest}");
        }
        parse(&text).unwrap_or_else(|err| panic!("generated {text:?} must parse: {err}"))
    })
}

proptest! {
    #[test]
    fn parse_of_display_is_identity(r in reference()) {
        let text = r.to_string();
        prop_assert_eq!(parse(&text), Ok(r));
    }

    #[test]
    fn parse_never_panics(text in "\\PC{0,80}") {
        let _ = parse(&text);
    }
}
