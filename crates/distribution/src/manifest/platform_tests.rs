//! Table and property tests of platforms.

use proptest::prelude::*;

use super::*;

fn parse(text: &str) -> Platform {
    text.parse().expect("a valid platform in the test table")
}

#[test]
fn normalize_table() {
    let cases = [
        ("linux/amd64", "linux/amd64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/x86-64", "linux/amd64"),
        ("linux/amd64/v1", "linux/amd64"),
        ("linux/amd64/v3", "linux/amd64/v3"),
        ("linux/i386", "linux/386"),
        ("linux/386", "linux/386"),
        ("linux/aarch64", "linux/arm64/v8"),
        ("linux/arm64", "linux/arm64/v8"),
        ("linux/arm64/8", "linux/arm64/v8"),
        ("linux/arm64/v8.0", "linux/arm64/v8"),
        ("linux/arm64/v8.2", "linux/arm64/v8.2"),
        ("linux/arm64/9", "linux/arm64/v9"),
        ("linux/arm64/v9.0", "linux/arm64/v9"),
        ("linux/armhf", "linux/arm/v7"),
        ("linux/armhf/v6", "linux/arm/v7"),
        ("linux/armel", "linux/arm/v6"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/arm/7", "linux/arm/v7"),
        ("linux/arm/6", "linux/arm/v6"),
        ("linux/arm/5", "linux/arm/v5"),
        ("linux/arm/8", "linux/arm/v8"),
        ("linux/arm/v6", "linux/arm/v6"),
        ("macos/arm64", "darwin/arm64/v8"),
        ("windows/amd64", "windows/amd64"),
        ("linux/s390x", "linux/s390x"),
        ("linux/ppc64le", "linux/ppc64le"),
    ];
    for (input, want) in cases {
        assert_eq!(parse(input).normalize().to_string(), want, "{input}");
    }
    let upper = Platform::new("LINUX", "AMD64").with_variant("V2");
    assert_eq!(
        upper.normalize(),
        Platform::new("linux", "amd64").with_variant("v2")
    );
    let empty_os = Platform::new("", "amd64").with_variant("");
    assert_eq!(empty_os.normalize().os, Platform::host().os);
    assert_eq!(empty_os.normalize().variant, None);
}

#[test]
fn parse_table() {
    for (input, ok) in [
        ("linux", true),
        ("linux/amd64", true),
        ("linux/arm64/v8.2", true),
        ("Windows/AMD64", true),
        ("linux_x/amd-64/v_1", true),
        ("", false),
        ("/", false),
        ("linux/", false),
        ("/amd64", false),
        ("linux//v7", false),
        ("linux/arm/v7/x", false),
        ("linux/am d64", false),
        ("linux/amd64:v2", false),
        ("linux/ärm", false),
    ] {
        assert_eq!(input.parse::<Platform>().is_ok(), ok, "{input:?}");
    }
    let err = "a/b/c/d".parse::<Platform>().expect_err("too many parts");
    assert!(matches!(err, Error::InvalidPlatform { .. }));
    assert!(
        err.to_string().starts_with("invalid platform \"a/b/c/d\""),
        "{err}"
    );
}

#[test]
fn host_uses_go_names() {
    let host = Platform::host();
    let (arch, variant) = match std::env::consts::ARCH {
        "x86_64" => ("amd64", host.variant.clone()),
        "aarch64" => ("arm64", Some("v8".to_owned())),
        other => (other, None),
    };
    assert_eq!(host.architecture, arch);
    assert_eq!(host.variant, variant);
    if let Some(level) = host.variant.as_deref().filter(|_| arch == "amd64") {
        assert!(["v2", "v3", "v4"].contains(&level), "{level}");
    }
}

#[test]
fn json_uses_dotted_os_fields() {
    let json = r#"{"architecture":"amd64","os":"windows","os.version":"10.0.17763.1234","os.features":["win32k"]}"#;
    let p: Platform = serde_json::from_str(json).expect("a Docker platform");
    assert_eq!(p.os_version.as_deref(), Some("10.0.17763.1234"));
    assert_eq!(p.os_features, ["win32k"]);
    assert_eq!(serde_json::to_string(&p).expect("serializes"), json);
}

fn part() -> impl Strategy<Value = String> {
    "[a-z0-9_.-]{1,12}"
}

proptest! {
    #[test]
    fn display_then_parse_is_identity(
        os in part(),
        arch in proptest::option::of(part()),
        variant in proptest::option::of(part()),
    ) {
        let platform = match arch {
            Some(arch) => Platform::new(os, arch).with_optional_variant(variant.as_deref()),
            None => Platform::new(os, ""),
        };
        let back: Platform = platform.to_string().parse().expect("what we write parses");
        prop_assert_eq!(back, platform);
    }

    #[test]
    fn normalize_is_idempotent(text in "[a-zA-Z0-9]{1,8}(/[a-zA-Z0-9_.-]{1,8}){1,2}") {
        let once = parse(&text).normalize();
        prop_assert_eq!(once.normalize(), once.clone());
    }
}
