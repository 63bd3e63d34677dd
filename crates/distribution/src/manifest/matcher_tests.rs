//! Table tests of platform matching.

use imgsvc_digest::Digest;

use super::*;
use crate::manifest::media_type;

fn platform(text: &str) -> Platform {
    text.parse().expect("a valid platform in the test table")
}

/// An entry for `text` (`-` for none); `os.version` after a `@`.
fn entry(text: &str) -> Descriptor {
    let mut d = Descriptor::new(
        media_type::OCI_MANIFEST,
        Digest::from_bytes(text.as_bytes()),
        1,
    );
    if text != "-" {
        let (spec, version) = match text.split_once('@') {
            Some((spec, version)) => (spec, Some(version.to_owned())),
            None => (text, None),
        };
        let mut p = platform(spec);
        p.os_version = version;
        d.platform = Some(p);
    }
    d
}

/// The labels of the entries chosen for `wanted` among `entries`.
fn chosen(wanted: &str, entries: &[&str]) -> Result<Vec<String>, Error> {
    let index = Index::new(entries.iter().map(|e| entry(e)).collect());
    let (spec, version) = match wanted.split_once('@') {
        Some((spec, version)) => (spec, Some(version.to_owned())),
        None => (wanted, None),
    };
    let mut wanted = platform(spec);
    wanted.os_version = version;
    let picked = select(&index, &wanted)?;
    Ok(picked
        .into_iter()
        .map(|d| {
            let pos = index
                .manifests()
                .iter()
                .position(|e| std::ptr::eq(e, d))
                .expect("a chosen entry is one of the index's");
            entries.get(pos).copied().unwrap_or_default().to_owned()
        })
        .collect())
}

const MIXED: &[&str] = &[
    "linux/386",
    "linux/amd64",
    "linux/amd64/v2",
    "linux/amd64/v3",
    "linux/amd64/v4",
    "linux/arm/v5",
    "linux/arm/v6",
    "linux/arm/v7",
    "linux/arm64/v8",
    "linux/arm64/v8.2",
    "linux/arm64/v9",
    "linux/ppc64le",
    "windows/amd64",
    "unknown/unknown",
];

#[test]
fn preference_table() {
    let cases: &[(&str, &[&str])] = &[
        ("linux/amd64", &["linux/amd64", "linux/386"]),
        ("linux/amd64/v1", &["linux/amd64", "linux/386"]),
        ("linux/x86_64", &["linux/amd64", "linux/386"]),
        (
            "linux/amd64/v3",
            &[
                "linux/amd64/v3",
                "linux/amd64/v2",
                "linux/amd64",
                "linux/386",
            ],
        ),
        (
            "linux/amd64/v2",
            &["linux/amd64/v2", "linux/amd64", "linux/386"],
        ),
        ("linux/386", &["linux/386"]),
        ("linux/i386", &["linux/386"]),
        (
            "linux/arm64",
            &[
                "linux/arm64/v8",
                "linux/arm/v7",
                "linux/arm/v6",
                "linux/arm/v5",
            ],
        ),
        (
            "linux/aarch64/v8",
            &[
                "linux/arm64/v8",
                "linux/arm/v7",
                "linux/arm/v6",
                "linux/arm/v5",
            ],
        ),
        (
            "linux/arm64/v8.2",
            &[
                "linux/arm64/v8.2",
                "linux/arm64/v8",
                "linux/arm/v7",
                "linux/arm/v6",
                "linux/arm/v5",
            ],
        ),
        (
            "linux/arm64/v9",
            &[
                "linux/arm64/v9",
                "linux/arm64/v8.2",
                "linux/arm64/v8",
                "linux/arm/v7",
                "linux/arm/v6",
                "linux/arm/v5",
            ],
        ),
        (
            "linux/arm",
            &["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"],
        ),
        (
            "linux/armhf",
            &["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"],
        ),
        ("linux/arm/v6", &["linux/arm/v6", "linux/arm/v5"]),
        ("linux/armel", &["linux/arm/v6", "linux/arm/v5"]),
        ("linux/arm/v5", &["linux/arm/v5"]),
        ("linux/ppc64le", &["linux/ppc64le"]),
        ("windows/amd64", &["windows/amd64"]),
        ("Windows/AMD64", &["windows/amd64"]),
    ];
    for (wanted, want) in cases {
        let got = chosen(wanted, MIXED).expect("something matches");
        assert_eq!(got, *want, "wanted {wanted}");
    }
}

#[test]
fn arm64_v8_prefers_arm_v8_before_v7() {
    let got = chosen(
        "linux/arm64/v8",
        &["linux/arm/v7", "linux/arm/v8", "linux/arm64"],
    )
    .expect("matches");
    assert_eq!(got, ["linux/arm64", "linux/arm/v8", "linux/arm/v7"]);
}

#[test]
fn entries_are_normalized_too() {
    let got = chosen(
        "linux/arm64/v8",
        &[
            "linux/arm/7",
            "linux/aarch64",
            "linux/arm64/8",
            "Linux/ARM64/v8.0",
        ],
    )
    .expect("matches");
    assert_eq!(
        got,
        [
            "linux/aarch64",
            "linux/arm64/8",
            "Linux/ARM64/v8.0",
            "linux/arm/7"
        ]
    );
    let got = chosen(
        "linux/amd64",
        &["linux/x86_64", "linux/amd64/v1", "linux/i386"],
    )
    .expect("matches");
    assert_eq!(got, ["linux/x86_64", "linux/amd64/v1", "linux/i386"]);
}

#[test]
fn entries_without_platform_match_last() {
    let got = chosen(
        "linux/amd64",
        &["-", "linux/386", "linux/arm64", "-", "linux/amd64"],
    )
    .expect("matches");
    assert_eq!(got, ["linux/amd64", "linux/386", "-", "-"]);
    assert_eq!(chosen("plan9/mips", &["-"]).expect("matches"), ["-"]);
}

#[test]
fn the_os_must_match() {
    let err = chosen("darwin/amd64", &["linux/amd64", "windows/amd64"]).expect_err("no match");
    assert!(matches!(err, Error::NoMatchingPlatform { .. }));
    assert_eq!(
        chosen("macos/amd64", &["darwin/amd64"]).expect("alias"),
        ["darwin/amd64"]
    );
}

#[test]
fn windows_prefers_the_hosts_build() {
    let entries = [
        "windows/amd64@10.0.20348.2340",
        "windows/amd64@10.0.17763.5576",
        "windows/amd64",
        "windows/amd64@10.0.177630.1",
        "windows/amd64@10.0.17763",
    ];
    let got = chosen("windows/amd64@10.0.17763.1234", &entries).expect("matches");
    assert_eq!(
        got,
        [
            "windows/amd64@10.0.17763.5576",
            "windows/amd64@10.0.17763",
            "windows/amd64@10.0.20348.2340",
            "windows/amd64",
            "windows/amd64@10.0.177630.1",
        ]
    );
    // Without a wanted version, the index's order stands.
    assert_eq!(chosen("windows/amd64", &entries).expect("matches"), entries);
    // os.version does not reorder Linux entries.
    let linux = ["linux/amd64@1.2.3", "linux/amd64@10.0.17763.1"];
    assert_eq!(
        chosen("linux/amd64@10.0.17763", &linux).expect("matches"),
        linux
    );
}

#[test]
fn no_match_lists_what_is_offered() {
    let err = chosen(
        "linux/s390x",
        &[
            "linux/amd64",
            "linux/arm/v7",
            "linux/amd64",
            "windows/amd64@10.0.1.2",
        ],
    )
    .expect_err("no s390x");
    match &err {
        Error::NoMatchingPlatform { wanted, available } => {
            assert_eq!(wanted, "linux/s390x");
            assert_eq!(available, &["linux/amd64", "linux/arm/v7", "windows/amd64"]);
        }
        other => panic!("unexpected error {other}"),
    }
    assert_eq!(
        err.to_string(),
        "no matching manifest for linux/s390x in the manifest list entries (available: linux/amd64, linux/arm/v7, windows/amd64)"
    );
    let err = chosen("linux/amd64", &[]).expect_err("empty index");
    assert!(err.to_string().ends_with("(available: none)"), "{err}");
}

#[test]
fn absurd_variants_do_not_blow_up() {
    for wanted in [
        "linux/amd64/v4000000000",
        "linux/arm/v99999999",
        "linux/arm64/v9.99999",
    ] {
        let matcher = Matcher::new(&platform(wanted));
        assert!(
            matcher.vector.len() < 20,
            "{wanted}: {}",
            matcher.vector.len()
        );
        assert_eq!(matcher.rank(&platform(wanted)), Some(0));
    }
}
