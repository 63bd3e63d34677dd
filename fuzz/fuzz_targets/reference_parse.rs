//! `reference_parse`: on any text, the hand-written reference parser never panics, agrees with
//! the regular-expression oracle built from Docker's grammar (same parts, or same kind of
//! error), and an accepted reference prints as text that parses back to the same reference.
#![no_main]

use imgsvc_reference::{Error, Reference, parse};
use imgsvc_reference_oracle::{Kind, Outcome, Parts};
use libfuzzer_sys::fuzz_target;

/// `parse`'s answer in the oracle's terms.
fn outcome(parsed: &Result<Reference, Error>) -> Outcome {
    match parsed {
        Ok(r) => Ok(Parts {
            domain: r.domain().to_owned(),
            path: r.path().to_owned(),
            tag: r.tag().map(|t| t.as_str().to_owned()),
            digest: r.digest().map(|d| d.to_string()),
        }),
        Err(Error::NameEmpty) => Err(Kind::NameEmpty),
        Err(Error::InvalidFormat { .. }) => Err(Kind::InvalidFormat),
        Err(Error::NameContainsUppercase { .. }) => Err(Kind::NameContainsUppercase),
        Err(Error::NameTooLong { .. }) => Err(Kind::NameTooLong),
        Err(Error::Digest(inner)) => Err(Kind::from_digest_error(inner)),
        Err(other) => panic!("parse gave an error that no parse step gives: {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = parse(text);
    let ours = outcome(&parsed);
    let oracle = imgsvc_reference_oracle::parse(text);
    assert_eq!(ours, oracle, "the parsers disagree on {text:?}");

    if let Ok(reference) = parsed {
        let printed = reference.to_string();
        assert_eq!(
            parse(&printed).as_ref(),
            Ok(&reference),
            "{text:?} printed as {printed:?}, which does not parse back"
        );
    }
});
