//! `imgsvc inspect`: Docker's JSON array, unknown names, ambiguous prefixes.

use std::collections::HashMap;

use imgsvc_testkit::fixture::BuiltImage;

use crate::harness::{Env, image, pulled, registry, remote};

#[test]
fn images_are_shown_as_dockers_json_array() {
    let (env, _, name, image) = pulled();
    let run = env.run(&["inspect", &name]).ok();
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("a JSON array");
    let object = &value[0];
    assert_eq!(object["Id"], image.config_digest().to_string().as_str());
    assert_eq!(object["RepoTags"][0], name.as_str());
    assert!(
        object["RepoDigests"][0]
            .as_str()
            .is_some_and(|d| d.contains("@sha256:"))
    );
    assert_eq!(object["Os"], "linux");
    assert_eq!(object["Architecture"], "amd64");
    assert_eq!(object["Config"]["Labels"]["test"], "app");
    assert_eq!(object["GraphDriver"]["Name"], "vfs");
    assert_eq!(object["RootFS"]["Type"], "layers");
    assert_eq!(
        object["RootFS"]["Layers"][0],
        image.diff_ids()[0].to_string().as_str()
    );
    assert!(object["Size"].as_u64().is_some_and(|s| s > 0));
    assert!(
        run.stdout.starts_with("[\n    {\n        \"Id\": "),
        "{run:?}"
    );
}

#[test]
fn an_unknown_image_is_an_error_after_the_others() {
    let (env, _, name, _) = pulled();
    let run = env
        .run(&["inspect", &name, "nope"])
        .fails_with("No such image: nope");
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("a JSON array");
    assert_eq!(value.as_array().map(Vec::len), Some(1));
    let run = env
        .run(&["inspect", "nope"])
        .fails_with("No such image: nope");
    assert_eq!(run.stdout, "[]\n");
}

#[test]
fn short_ids_and_prefixes_find_images() {
    let (env, _, _, image) = pulled();
    let hex = image.config_digest().encoded().to_string();
    for name in [&hex[..12], &hex[..5], &format!("sha256:{hex}")[..]] {
        env.run(&["inspect", name]).ok();
    }
}

/// Two images whose IDs start with the same hex digit.
fn two_sharing_a_first_digit() -> (BuiltImage, BuiltImage) {
    let mut by_digit: HashMap<char, BuiltImage> = HashMap::new();
    for i in 0..64 {
        let candidate = image(&format!("prefix-{i}"));
        let first = candidate
            .config_digest()
            .encoded()
            .to_string()
            .chars()
            .next();
        let first = first.expect("a digest has digits");
        if let Some(earlier) = by_digit.remove(&first) {
            return (earlier, candidate);
        }
        by_digit.insert(first, candidate);
    }
    panic!("17 images always share a first hex digit");
}

#[test]
fn an_ambiguous_prefix_is_an_error() {
    let (a, b) = two_sharing_a_first_digit();
    let registry = registry(&[("demo/a", "v1", &a), ("demo/b", "v1", &b)]);
    let env = Env::new();
    for name in ["demo/a", "demo/b"] {
        env.run(&["pull", "-q", &format!("{}:v1", remote(&registry, name))])
            .ok();
    }
    let prefix: String = a
        .config_digest()
        .encoded()
        .to_string()
        .chars()
        .take(1)
        .collect();
    env.run(&["inspect", &prefix])
        .fails_with("matches more than one image");
}
