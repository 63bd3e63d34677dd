//! `imgsvc pull`: plain lines, JSON lines, quiet, and the failures.

use crate::harness::{Env, image, registry, remote};

#[test]
fn plain_output_names_layers_then_digest_status_and_reference() {
    let image = image("plain");
    let registry = registry(&[("demo/plain", "v1", &image)]);
    let env = Env::new();
    let name = format!("{}:v1", remote(&registry, "demo/plain"));
    let run = env.run(&["pull", &name]).ok();
    let layer = image.layers()[0].digest().encoded().to_string();
    let lines = run.lines();
    let pulling = format!("v1: Pulling from {}", remote(&registry, "demo/plain"));
    assert_eq!(lines.first(), Some(&pulling.as_str()), "{run:?}");
    assert!(
        lines.contains(&format!("{}: Pull complete", &layer[..12]).as_str()),
        "{run:?}"
    );
    assert!(
        !run.stdout.contains("Downloading"),
        "no byte counts without a TTY: {run:?}"
    );
    assert!(lines.contains(&format!("Digest: {}", image.manifest_digest()).as_str()));
    assert!(lines.contains(&format!("Status: Downloaded newer image for {name}").as_str()));
    assert_eq!(lines.last(), Some(&name.as_str()));

    let again = env.run(&["pull", &name]).ok();
    assert!(
        again
            .stdout
            .contains(&format!("Status: Image is up to date for {name}"))
    );
}

#[test]
fn a_name_alone_pulls_latest_and_says_so() {
    let image = image("latest");
    let registry = registry(&[("demo/latest", "latest", &image)]);
    let env = Env::new();
    let run = env.run(&["pull", &remote(&registry, "demo/latest")]).ok();
    assert_eq!(run.lines().first(), Some(&"Using default tag: latest"));
    assert!(run.stdout.ends_with(":latest\n"), "{run:?}");
}

#[test]
fn json_lines_are_dockers_messages() {
    let image = image("json");
    let registry = registry(&[("demo/json", "v1", &image)]);
    let env = Env::new();
    let run = env
        .run(&[
            "pull",
            "--json",
            &format!("{}:v1", remote(&registry, "demo/json")),
        ])
        .ok();
    let mut statuses = Vec::new();
    for line in run.lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("every line is JSON");
        statuses.push(value["status"].as_str().expect("a status").to_owned());
    }
    assert!(
        statuses.iter().any(|s| s == "Pull complete"),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .any(|s| s.starts_with("Status: Downloaded newer image"))
    );
}

#[test]
fn quiet_prints_only_the_reference() {
    let image = image("quiet");
    let registry = registry(&[("demo/quiet", "v1", &image)]);
    let env = Env::new();
    let name = format!("{}:v1", remote(&registry, "demo/quiet"));
    let run = env.run(&["pull", "-q", &name]).ok();
    assert_eq!(run.stdout, format!("{name}\n"));
}

#[test]
fn a_digest_reference_pulls_that_manifest() {
    let image = image("digest");
    let registry = registry(&[("demo/digest", "v1", &image)]);
    let env = Env::new();
    let name = format!(
        "{}@{}",
        remote(&registry, "demo/digest"),
        image.manifest_digest()
    );
    let run = env.run(&["pull", "-q", &name]).ok();
    assert_eq!(run.stdout, format!("{name}\n"));
}

#[test]
fn bad_reference_syntax_is_an_error() {
    let env = Env::new();
    // `UPPER/case` is a valid reference (UPPER is then a registry host), as in Docker.
    for bad in [
        "UPPERCASE",
        "bad//name",
        "name:tag:extra",
        "name@sha256:short",
    ] {
        let run = env
            .run(&["pull", bad])
            .fails_with("invalid reference format");
        assert_eq!(run.stdout, "", "nothing is pulled: {run:?}");
    }
}

#[test]
fn an_unknown_tag_fails() {
    let image = image("known");
    let registry = registry(&[("demo/known", "v1", &image)]);
    let run = Env::new().run(&["pull", &format!("{}:nope", remote(&registry, "demo/known"))]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.starts_with("Error: "), "{run:?}");
}

#[test]
fn a_bad_platform_is_an_error_and_usage_errors_exit_2() {
    let env = Env::new();
    let run = env.run(&["pull", "--platform", "linux/a b", "alpine"]);
    assert_eq!(run.code, 1, "{run:?}");
    let usage = env.run(&["pull"]);
    assert_eq!(usage.code, 2, "{usage:?}");
    let usage = env.run(&["--driver", "zfs", "info"]);
    assert_eq!(usage.code, 2, "{usage:?}");
}

#[test]
fn all_tags_pulls_every_tag_and_refuses_a_tag() {
    let (one, two) = (image("one"), image("two"));
    let registry = registry(&[("demo/many", "v1", &one), ("demo/many", "v2", &two)]);
    let env = Env::new();
    let name = remote(&registry, "demo/many");
    let run = env.run(&["pull", "-a", &name]).ok();
    assert_eq!(
        run.lines()
            .iter()
            .filter(|l| l.starts_with("Status: "))
            .count(),
        2,
        "{run:?}"
    );
    assert_eq!(env.run(&["images", "-q"]).ok().lines().len(), 2);
    env.run(&["pull", "-a", &format!("{name}:v1")])
        .fails_with("tag can't be used with --all-tags/-a");
}
