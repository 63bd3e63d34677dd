//! Parsing: every go-digest validation rule, with the error kind go-digest gives.

use imgsvc_digest::{Algorithm, Digest, Error};

/// What a parse should give, by error kind.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Valid,
    InvalidFormat,
    InvalidLength,
    Unsupported,
}

fn kind(text: &str) -> Expect {
    match text.parse::<Digest>() {
        Ok(_) => Expect::Valid,
        Err(Error::InvalidFormat { .. }) => Expect::InvalidFormat,
        Err(Error::InvalidLength { .. }) => Expect::InvalidLength,
        Err(Error::Unsupported { .. }) => Expect::Unsupported,
        Err(other) => panic!("{text:?}: a parse gave a non-parse error: {other}"),
    }
}

const E58: &str = "e58fcf7418d4390dec8e8fb69d88c06ec07039d651fedd3aa72af9972e7d046b";

#[test]
fn go_digest_vectors() {
    let sha384 = "d3fc7881460b7e22e3d172954463dddd7866d17597e7248453c48b3e9d26d9596bf9c4a9cf8072c9d5bad76e19af801d";
    let table: Vec<(String, Expect)> = vec![
        (format!("sha256:{E58}"), Expect::Valid),
        (format!("sha384:{sha384}"), Expect::Valid),
        ("".into(), Expect::InvalidFormat),
        ("     ".into(), Expect::InvalidFormat),
        ("sha256:".into(), Expect::InvalidFormat),
        (":".into(), Expect::InvalidFormat),
        (
            "d41d8cd98f00b204e9800998ecf8427e".into(),
            Expect::InvalidFormat,
        ),
        (format!("sha256:{}", " ".repeat(64)), Expect::InvalidFormat),
        // A bad character and a wrong length: the length is checked first.
        (
            "sha256:d41d8cd98f00b204e9800m98ecf8427e".into(),
            Expect::InvalidLength,
        ),
        ("sha256:abcdef0123456789".into(), Expect::InvalidLength),
        (
            "foo:d41d8cd98f00b204e9800998ecf8427e".into(),
            Expect::Unsupported,
        ),
        (format!("sha384__foo+bar:{sha384}"), Expect::InvalidFormat),
        (format!("sha384.foo+bar:{sha384}"), Expect::Unsupported),
        (
            "sha256+b64:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564".into(),
            Expect::Unsupported,
        ),
        (
            format!("sha256:{}", E58.to_uppercase()),
            Expect::InvalidFormat,
        ),
    ];
    for (text, expected) in table {
        assert_eq!(kind(&text), expected, "{text:?}");
    }
}

#[test]
fn uppercase_hex_is_a_format_error_at_the_right_length_and_a_length_error_otherwise() {
    assert_eq!(
        kind(&format!("sha256:{}", E58.to_uppercase())),
        Expect::InvalidFormat
    );
    assert_eq!(
        kind(&format!("sha256:{}", &E58.to_uppercase()[..63])),
        Expect::InvalidLength
    );
    let mixed = format!("sha256:{}E", &E58[..63]);
    assert_eq!(kind(&mixed), Expect::InvalidFormat);
}

#[test]
fn unknown_algorithms_outside_the_grammar_are_format_errors() {
    for text in [
        "Foo:abc",     // uppercase algorithm
        "-foo:abc",    // leading separator
        "foo-:abc",    // trailing separator
        "foo:ab/c",    // character outside the encoded grammar
        "foo:a:b",     // a second colon
        "foo bar:abc", // space
        "é:abc",       // non-ASCII
    ] {
        assert_eq!(kind(text), Expect::InvalidFormat, "{text:?}");
    }
    for text in ["foo:abc", "blake3:ABC=", "a.b+c_d-e:x"] {
        assert_eq!(kind(text), Expect::Unsupported, "{text:?}");
    }
}

#[test]
fn each_algorithm_needs_its_own_length() {
    for algorithm in Algorithm::ALL {
        let ok = format!("{algorithm}:{}", "a".repeat(algorithm.encoded_len()));
        assert_eq!(kind(&ok), Expect::Valid, "{ok}");
        for len in [algorithm.encoded_len() - 1, algorithm.encoded_len() + 1] {
            let bad = format!("{algorithm}:{}", "a".repeat(len));
            let err = bad.parse::<Digest>().expect_err("wrong length");
            assert_eq!(
                err,
                Error::InvalidLength {
                    algorithm,
                    expected: algorithm.encoded_len(),
                    actual: len,
                    input: bad.clone(),
                }
            );
        }
    }
}

#[test]
fn whitespace_around_a_digest_is_not_trimmed() {
    let d = format!("sha256:{E58}");
    assert_eq!(kind(&format!(" {d}")), Expect::InvalidFormat);
    assert_eq!(kind(&format!("{d}\n")), Expect::InvalidLength);
}

#[test]
fn messages_name_the_problem() {
    let err = "sha256:abc".parse::<Digest>().expect_err("short");
    let message = err.to_string();
    assert!(
        message.starts_with("invalid checksum digest length"),
        "{message}"
    );
    assert!(message.contains("64") && message.contains("3"), "{message}");

    let err = "md5:abc"
        .parse::<Digest>()
        .expect_err("md5 is not supported");
    assert!(
        err.to_string()
            .starts_with("unsupported digest algorithm \"md5\""),
        "{err}"
    );

    let err = "nonsense".parse::<Digest>().expect_err("no colon");
    assert!(
        err.to_string()
            .starts_with("invalid checksum digest format"),
        "{err}"
    );
}

#[test]
fn huge_inputs_give_short_messages() {
    let huge = format!("sha256:{}", "z".repeat(1 << 20));
    let err = huge.parse::<Digest>().expect_err("far too long");
    assert!(
        err.to_string().len() < 400,
        "{} bytes",
        err.to_string().len()
    );
}

#[test]
fn display_and_accessors_agree() {
    let text = format!("sha256:{E58}");
    let d: Digest = text.parse().expect("valid");
    assert_eq!(d.to_string(), text);
    assert_eq!(d.algorithm(), Algorithm::Sha256);
    assert_eq!(d.encoded(), E58);
    assert_eq!(d.short(), &E58[..12]);
    assert_eq!(format!("{d:?}"), format!("Digest({text})"));
    assert_eq!(String::from(d), text);
    assert_eq!(Digest::try_from(text.as_str()), Ok(d));
}

#[test]
fn known_image_vectors() {
    // The digests Docker prints for the empty string and for "foo".
    assert_eq!(
        Digest::from_bytes(b"").to_string(),
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        Digest::from_bytes(b"foo").to_string(),
        "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
    );
}
