//! Differential tests: the hand-written `parse` against `imgsvc-reference-oracle`, Docker's
//! parser rebuilt from the upstream regular expressions. Both must accept the same text with the
//! same parts, and refuse the same text with the same kind of error.

use imgsvc_reference::{Error, parse};
use imgsvc_reference_oracle::{self as oracle, Kind, Outcome, Parts};
use proptest::prelude::*;
use proptest::sample::Index;

const HEX64: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Inputs that a hand-written parser easily gets wrong (a `:` that is a port or a tag, a
/// bracketed host without a path, the two non-ASCII letters that lower-case to ASCII). Any
/// disagreement found by the generators or the fuzzer is added here.
const REGRESSIONS: &[&str] = &[
    "[fc00::1]",
    "[fc00::1]:5000",
    "localhost:5000",
    "a:b/c",
    "a:5000/b:c",
    "a:5000/b:c:d",
    "a/b:c/d",
    "a@sha256:x/y",
    "a:b@c:d",
    "\u{130}",
    "\u{212a}",
    "a/\u{212a}",
    "\u{212a}:\u{212a}",
];

/// `parse` as an oracle outcome: its parts, or its error's kind.
fn ours(text: &str) -> Outcome {
    match parse(text) {
        Ok(r) => Ok(Parts {
            domain: r.domain().to_owned(),
            path: r.path().to_owned(),
            tag: r.tag().map(|t| t.as_str().to_owned()),
            digest: r.digest().map(|d| d.to_string()),
        }),
        Err(err) => Err(kind(&err)),
    }
}

/// The oracle's kind for an error of `parse`.
fn kind(err: &Error) -> Kind {
    match err {
        Error::NameEmpty => Kind::NameEmpty,
        Error::InvalidFormat { .. } => Kind::InvalidFormat,
        Error::NameContainsUppercase { .. } => Kind::NameContainsUppercase,
        Error::NameTooLong { .. } => Kind::NameTooLong,
        Error::Digest(inner) => Kind::from_digest_error(inner),
        other => panic!("parse gave an error that no parse step gives: {other:?}"),
    }
}

/// Why the two parsers disagree on `text`, if they do; also checks that an accepted reference
/// prints as text that parses back to the same reference.
fn disagreement(text: &str) -> Option<String> {
    let (ours, theirs) = (ours(text), oracle::parse(text));
    if ours != theirs {
        return Some(format!(
            "input {text:?}\n  ours:   {ours:?}\n  oracle: {theirs:?}"
        ));
    }
    let reference = parse(text).ok()?;
    let printed = reference.to_string();
    match parse(&printed) {
        Ok(again) if again == reference => None,
        again => Some(format!(
            "input {text:?} printed as {printed:?}, which parses as {again:?}"
        )),
    }
}

/// Fails with every disagreement among `inputs`, not just the first.
fn assert_agreement<S: AsRef<str>>(inputs: impl IntoIterator<Item = S>) {
    let mut count = 0;
    let failures: Vec<String> = inputs
        .into_iter()
        .inspect(|_| count += 1)
        .filter_map(|text| disagreement(text.as_ref()))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {count} inputs disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// --- Fixed cases ---------------------------------------------------------------------------

#[test]
fn the_parsers_agree_on_past_disagreements() {
    assert_agreement(REGRESSIONS);
}

#[test]
fn the_parsers_agree_on_hand_picked_edge_cases() {
    let long_path = "a".repeat(255);
    let long_tag = "t".repeat(128);
    let upper_hex = HEX64.to_uppercase();
    let short_hex = HEX64.get(..40).unwrap_or_default();
    let min_hex = HEX64.get(..32).unwrap_or_default();
    let owned = [
        long_path.clone(),
        format!("{long_path}a"),
        format!("x/{long_path}"),
        format!("x/{long_path}a"),
        format!("{}.com/{long_path}", "d".repeat(300)),
        format!("{long_path}a@sha256:{short_hex}"),
        format!("{long_path}a@sha256:abc"),
        format!("A{long_path}"),
        format!("a:{long_tag}"),
        format!("a:{long_tag}t"),
        format!("sha256:{HEX64}"),
        format!("a@sha256:{HEX64}"),
        format!("a:t@sha256:{HEX64}"),
        format!("a@sha256:{upper_hex}"),
        format!("a@sha256:{short_hex}"),
        format!("a@sha256:{min_hex}"),
        format!("a@sha512:{HEX64}{HEX64}"),
        format!("a@sha384:{HEX64}"),
        format!("a@SHA256:{HEX64}"),
        format!("a@foo:{min_hex}"),
        format!("a@foo+bar.baz_q-x:{HEX64}"),
        format!("a@9foo:{HEX64}"),
        format!("a@foo:{HEX64}g"),
        format!("A@sha256:{HEX64}"),
        format!("A@sha256:{short_hex}"),
        format!("docker.io/{HEX64}"),
        HEX64.to_owned(),
        format!("{HEX64}:{HEX64}"),
    ];
    let fixed = [
        "",
        " ",
        "\n",
        "a\n",
        ":",
        "@",
        "/",
        "a",
        "A",
        "0",
        "_",
        "-",
        ".",
        "a:",
        "a@",
        "a/",
        "/a",
        "a//b",
        "a/b/",
        "ubuntu",
        "Ubuntu",
        "ubuntu:latest",
        "ubuntu:Latest",
        "ubuntu:.x",
        "ubuntu:-x",
        "ubuntu:_x",
        "library/ubuntu",
        "docker.io/library/ubuntu:24.04",
        "Docker.IO/library/ubuntu",
        "docker.io/Library/ubuntu",
        "foo/Bar",
        "Foo/bar",
        "Foo",
        "FOO:5000",
        "foo_bar/baz",
        "foo__bar",
        "foo___bar",
        "foo-bar",
        "foo--bar",
        "foo.bar",
        "foo..bar",
        "foo._bar",
        "foo-_bar",
        "foo-",
        "-foo",
        "foo.",
        ".foo",
        "_foo",
        "foo_",
        "localhost",
        "localhost:5000",
        "localhost:5000/a",
        "localhost:/a",
        "localhost:a/b",
        "localhost:5000:a",
        "a:5000/b:c:d",
        "192.168.0.1:80",
        "192.168.0.1:80/a",
        "[fc00::1]",
        "[fc00::1]/a",
        "[fc00::1]:5000/docker",
        "[FC00::1]/a",
        "[fc00::1",
        "fc00::1]/a",
        "[]/a",
        "[:]/a",
        "[g::1]/a",
        "[fe80::1%eth0]/a",
        "[::ffff:1.2.3.4]/a",
        "[::1]:/a",
        "[::1]:5000",
        "[::1]:5000:tag",
        "a.-b.com/c",
        "a-.com/c",
        "-a.com/c",
        "a-b.com/c",
        "xn--bcher-kva.example/c",
        "a.b.c.d.e/f/g/h",
        "A.B/c",
        "a_b.com/c",
        "a:b/c",
        "a/b:c/d",
        "https://github.com/docker/docker",
        "docker///docker",
        "docker/Docker",
        "-docker",
        "a@b",
        "a@sha256",
        "a@sha256:",
        "a@:abc",
        "a@@b",
        "a:b:c",
        "a:b@c",
        "a b",
        "a\tb",
        "\u{130}",
        "\u{130}mage",
        "\u{212a}ube",
        "\u{212a}ube/x",
        "x/\u{212a}ube",
        "\u{212b}ngstrom",
        "\u{e9}cole",
        "\u{c9}COLE",
        "a:\u{130}",
        "\u{130}:a",
        "a/\u{130}",
        "\u{fb00}",
        "\u{1e9e}",
        "\u{3a3}",
    ];
    assert_agreement(owned.iter().map(String::as_str).chain(fixed));
}

/// Every combination of a few domains, paths, tags and digests, good and bad.
#[test]
fn the_parsers_agree_on_combinations_of_parts() {
    let domains = [
        "",
        "a/",
        "Registry.Local/",
        "registry.local:5000/",
        "[fc00::1]:5000/",
        "[fc00::1]/",
        "localhost:/",
        "-bad.com/",
        "a_b.c/",
    ];
    let paths = [
        "ubuntu",
        "library/nginx",
        "a-b__c.d/e",
        "Upper",
        "x__-y",
        "a/b/c/d",
        "a/",
    ];
    let tags = ["", ":v1.2.3", ":Latest_-.", ":-x", ":", ":a:b"];
    let digests = [
        String::new(),
        format!("@sha256:{HEX64}"),
        format!("@sha256:{}", HEX64.get(..40).unwrap_or_default()),
        format!("@sha256:{}", HEX64.to_uppercase()),
        format!("@sha256:{}", HEX64.get(..31).unwrap_or_default()),
        format!("@blake3:{HEX64}"),
        "@".to_owned(),
    ];
    let mut inputs = Vec::new();
    for domain in domains {
        for path in paths {
            for tag in tags {
                for digest in &digests {
                    inputs.push(format!("{domain}{path}{tag}{digest}"));
                }
            }
        }
    }
    assert!(inputs.len() > 2000, "the table has {} rows", inputs.len());
    assert_agreement(inputs);
}

// --- Generated cases -----------------------------------------------------------------------

/// Picks one of `items`.
fn one_of(items: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(items).prop_map(str::to_owned)
}

/// A word of a path component, now and then with upper case or over-long.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        60 => "[a-z0-9]{1,6}",
        3 => "[a-zA-Z0-9]{1,4}",
        1 => (240usize..270).prop_map(|n| "a".repeat(n)),
    ]
}

/// What joins two words: mostly valid separators, sometimes invalid ones.
fn separator() -> impl Strategy<Value = String> {
    prop_oneof![
        30 => one_of(&[".", "_", "__", "-", "--", "----"]),
        1 => one_of(&["___", "..", "._", "_.", "-.", ".-", "_-", "-_", ""]),
    ]
}

fn path_component() -> impl Strategy<Value = String> {
    (word(), prop::collection::vec((separator(), word()), 0..3)).prop_map(|(first, rest)| {
        rest.into_iter()
            .fold(first, |acc, (sep, word)| acc + &sep + &word)
    })
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(path_component(), 1..4).prop_map(|components| components.join("/"))
}

/// A domain label: letters of either case, digits and inner hyphens; sometimes with an outer
/// hyphen, which the grammar refuses.
fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        30 => "[a-zA-Z0-9]([a-zA-Z0-9-]{0,5}[a-zA-Z0-9])?",
        1 => "-?[a-z0-9]{1,3}-?",
        1 => "[a-z_]{1,4}",
    ]
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        24 => prop::collection::vec(label(), 1..4).prop_map(|labels| labels.join(".")),
        4 => Just("localhost".to_owned()),
        8 => "\\[[a-fA-F0-9:]{1,10}\\]",
        1 => "\\[?[a-fA-F0-9:]{0,6}(%eth0|\\.1\\.2|g)?\\]?",
    ]
}

fn port() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => Just(String::new()),
        8 => ":[0-9]{1,5}",
        1 => one_of(&[":", ":x", "::1"]),
    ]
}

fn domain() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just(String::new()),
        3 => (host(), port()).prop_map(|(host, port)| format!("{host}{port}/")),
    ]
}

fn tag() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => Just(String::new()),
        10 => ":[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,12}",
        1 => ":[a-zA-Z0-9_][a-zA-Z0-9_.-]{124,130}",
        1 => ":([.-][a-z]{0,3})?",
    ]
}

fn algorithm() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => Just("sha256".to_owned()),
        1 => one_of(&["sha384", "sha512", "SHA256", "foo", "foo+bar.baz", "a_b-c", "9x", "a..b", ""]),
    ]
}

fn digest() -> impl Strategy<Value = String> {
    let hex = prop_oneof![
        12 => Just(HEX64.to_owned()),
        1 => Just(HEX64.to_uppercase()),
        2 => "[0-9a-f]{28,70}",
        1 => "[0-9a-fA-F]{96}|[0-9a-f]{128}",
        1 => "[0-9a-g]{30,66}",
    ];
    prop_oneof![
        4 => Just(String::new()),
        5 => (algorithm(), hex).prop_map(|(algorithm, hex)| format!("@{algorithm}:{hex}")),
    ]
}

/// A reference built from the grammar's parts, most of them valid.
fn near_valid() -> impl Strategy<Value = String> {
    (domain(), path(), tag(), digest())
        .prop_map(|(domain, path, tag, digest)| format!("{domain}{path}{tag}{digest}"))
}

/// One change to a text.
#[derive(Debug, Clone)]
enum Edit {
    Insert(Index, char),
    Delete(Index),
    Replace(Index, char),
}

/// Characters that matter to the grammar, plus a few that never belong in a reference.
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => prop::sample::select(&[
            'a', 'Z', '0', '.', '_', '-', '/', ':', '@', '[', ']', '+', '=', '\u{130}', '\u{212a}',
        ][..]),
        2 => prop::char::range('!', '~'),
        1 => prop::sample::select(&[' ', '\n', '\t', '\0', '\u{e9}', '\u{ff1a}'][..]),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), interesting_char()).prop_map(|(at, c)| Edit::Insert(at, c)),
        any::<Index>().prop_map(Edit::Delete),
        (any::<Index>(), interesting_char()).prop_map(|(at, c)| Edit::Replace(at, c)),
    ]
}

/// Applies `edits` to `text`, counting positions in characters.
fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        match edit {
            Edit::Insert(at, c) => chars.insert(at.index(chars.len() + 1), *c),
            Edit::Delete(at) if !chars.is_empty() => {
                chars.remove(at.index(chars.len()));
            }
            Edit::Replace(at, c) if !chars.is_empty() => {
                let i = at.index(chars.len());
                chars[i] = *c;
            }
            Edit::Delete(_) | Edit::Replace(..) => {}
        }
    }
    chars.into_iter().collect()
}

/// The generators are only worth their time if they reach every outcome, often enough.
#[test]
fn the_generators_reach_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use std::collections::BTreeMap;

    let mut runner = TestRunner::deterministic();
    let strategy = (near_valid(), prop::collection::vec(edit(), 0..2));
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..8000 {
        let (text, edits) = strategy
            .new_tree(&mut runner)
            .expect("the strategies never reject a value")
            .current();
        let outcome = match oracle::parse(&apply(&text, &edits)) {
            Ok(parts) if parts.digest.is_some() => "Ok with digest".to_owned(),
            Ok(parts) if !parts.domain.is_empty() => "Ok with domain".to_owned(),
            Ok(_) => "Ok".to_owned(),
            Err(kind) => format!("{kind:?}"),
        };
        *seen.entry(outcome).or_default() += 1;
    }
    for expected in [
        "Ok",
        "Ok with domain",
        "Ok with digest",
        "InvalidFormat",
        "NameContainsUppercase",
        "NameTooLong",
        "DigestInvalidFormat",
        "DigestInvalidLength",
        "DigestUnsupported",
    ] {
        let count = seen.get(expected).copied().unwrap_or_default();
        assert!(
            count >= 20,
            "{expected} came {count} times in 8000: {seen:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn the_parsers_agree_on_near_valid_references(text in near_valid()) {
        if let Some(why) = disagreement(&text) {
            prop_assert!(false, "{}", why);
        }
    }

    #[test]
    fn the_parsers_agree_on_mutated_references(
        text in near_valid(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let text = apply(&text, &edits);
        if let Some(why) = disagreement(&text) {
            prop_assert!(false, "{}", why);
        }
    }

    #[test]
    fn the_parsers_agree_on_short_strings_of_grammar_characters(
        text in "[a-cA-C0-9._/:@\\[\\]+-]{0,24}",
    ) {
        if let Some(why) = disagreement(&text) {
            prop_assert!(false, "{}", why);
        }
    }
}
