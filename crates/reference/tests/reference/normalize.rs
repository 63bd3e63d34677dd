//! Docker's normalization and familiar forms.

use imgsvc_reference::{
    AnyReference, Error, parse, parse_any_reference, parse_docker_ref, parse_named,
    parse_normalized_named,
};

const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[test]
fn familiar_forms_drop_the_default_domain_and_library() {
    let cases = [
        ("ubuntu", "ubuntu", "ubuntu"),
        ("ubuntu:24.04", "ubuntu", "ubuntu:24.04"),
        ("library/ubuntu", "ubuntu", "ubuntu"),
        ("docker.io/library/ubuntu:1", "ubuntu", "ubuntu:1"),
        (
            "docker.io/library/foo/bar",
            "library/foo/bar",
            "library/foo/bar",
        ),
        (
            "grafana/grafana:10",
            "grafana/grafana",
            "grafana/grafana:10",
        ),
        (
            "quay.io/coreos/etcd:v3",
            "quay.io/coreos/etcd",
            "quay.io/coreos/etcd:v3",
        ),
        (
            "localhost:5000/app",
            "localhost:5000/app",
            "localhost:5000/app",
        ),
        ("docker.io/app", "app", "app"),
    ];
    for (text, name, string) in cases {
        let r = parse_normalized_named(text).expect(text);
        assert_eq!(
            (r.familiar_name(), r.familiar_string().as_str()),
            (name, string),
            "{text}"
        );
    }
    let pinned = parse_normalized_named(&format!("ubuntu@sha256:{HEX}")).expect("valid");
    assert_eq!(pinned.familiar_string(), format!("ubuntu@sha256:{HEX}"));
}

#[test]
fn a_name_without_domain_stays_as_it_is() {
    // Parsed without normalization, "library/ubuntu" has domain "library": nothing to drop.
    let r = parse("library/ubuntu").expect("valid");
    assert_eq!(r.familiar_name(), "library/ubuntu");
    let r = parse("ubuntu").expect("valid");
    assert_eq!(r.familiar_string(), "ubuntu");
}

#[test]
fn parse_named_requires_canonical_text() {
    assert!(parse_named("docker.io/library/ubuntu").is_ok());
    assert!(parse_named("localhost:5000/app:1").is_ok());
    for text in [
        "ubuntu",
        "library/ubuntu",
        "docker.io/ubuntu",
        "index.docker.io/library/ubuntu",
    ] {
        assert!(
            matches!(parse_named(text), Err(Error::NameNotCanonical { .. })),
            "{text}"
        );
    }
}

#[test]
fn any_reference_prefers_ids_and_digests() {
    let id = parse_any_reference(HEX).expect("an image ID");
    assert_eq!(id.to_string(), format!("sha256:{HEX}"));
    assert!(matches!(id, AnyReference::Digest(_)));
    let digest = parse_any_reference(&format!("sha256:{HEX}")).expect("a digest");
    assert_eq!(digest, id);
    let named = parse_any_reference("ubuntu").expect("a name");
    assert_eq!(named.to_string(), "docker.io/library/ubuntu");
    assert!(named.named().is_some());
    // Uppercase hex is neither an ID nor a digest, and as a name it is upper case.
    assert!(parse_any_reference(&HEX.to_uppercase()).is_err());
    // A short hex string is a name.
    assert!(matches!(
        parse_any_reference("e3b0c442"),
        Ok(AnyReference::Named(_))
    ));
}

#[test]
fn docker_refs_get_latest_and_lose_a_tag_beside_a_digest() {
    assert_eq!(
        parse_docker_ref("ubuntu").expect("valid").to_string(),
        "docker.io/library/ubuntu:latest"
    );
    assert_eq!(
        parse_docker_ref("ubuntu:24.04").expect("valid").to_string(),
        "docker.io/library/ubuntu:24.04"
    );
    assert_eq!(
        parse_docker_ref(&format!("ubuntu:24.04@sha256:{HEX}"))
            .expect("valid")
            .to_string(),
        format!("docker.io/library/ubuntu@sha256:{HEX}")
    );
}

#[test]
fn normalized_errors() {
    let err = parse_normalized_named(HEX).expect_err("an ID is not a name");
    assert!(
        err.to_string()
            .contains("cannot specify 64-byte hexadecimal strings"),
        "{err}"
    );
    let err = parse_normalized_named("docker/Docker:Tag").expect_err("uppercase path");
    assert_eq!(
        err,
        Error::NameContainsUppercase {
            name: "docker/Docker".into()
        }
    );
    // Uppercase in the first component makes it a domain, which is valid.
    assert_eq!(
        parse_normalized_named("Docker/docker")
            .expect("valid")
            .domain(),
        "Docker"
    );
    assert!(parse_normalized_named("").is_err());
}

#[test]
fn familiar_match_tries_the_string_then_the_name() {
    let r = parse_normalized_named("docker.io/library/busybox:1.36").expect("valid");
    assert!(r.familiar_match("busybox").expect("valid pattern"));
    assert!(r.familiar_match("busybox:1.*").expect("valid pattern"));
    assert!(r.familiar_match("b?sybox").expect("valid pattern"));
    assert!(!r.familiar_match("library/busybox").expect("valid pattern"));
    assert!(!r.familiar_match("*/busybox").expect("valid pattern"));
    let nested = parse_normalized_named("grafana/grafana:10").expect("valid");
    assert!(nested.familiar_match("*/grafana").expect("valid pattern"));
    assert!(!nested.familiar_match("*").expect("valid pattern"));
    assert!(matches!(
        r.familiar_match("busy[box"),
        Err(Error::BadPattern { .. })
    ));
}

#[test]
fn sorting_ranks_kinds_then_text() {
    let sorted = imgsvc_reference::sort(&["z", "a:1", &format!("sha256:{HEX}"), "?"]);
    assert_eq!(
        sorted,
        [
            "docker.io/library/a:1".to_owned(),
            "docker.io/library/z".to_owned(),
            format!("sha256:{HEX}"),
            "?".to_owned(),
        ]
    );
}
