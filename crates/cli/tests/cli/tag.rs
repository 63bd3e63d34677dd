//! `imgsvc tag`.

use crate::harness::pulled;

#[test]
fn a_tag_adds_a_reference_to_the_same_image() {
    let (env, _, name, image) = pulled();
    let run = env.run(&["tag", &name, "mine:v2"]).ok();
    assert_eq!(run.stdout, "");
    let inspect = env.run(&["inspect", "mine:v2"]).ok();
    assert!(inspect.stdout.contains(&image.config_digest().to_string()));
}

#[test]
fn tag_failures_are_errors() {
    let (env, _, name, _) = pulled();
    env.run(&["tag", "nope", "mine"])
        .fails_with("No such image: nope");
    let digest = format!("mine@sha256:{}", "0".repeat(64));
    env.run(&["tag", &name, &digest]).fails_with("digest");
    env.run(&["tag", &name, "Bad:Name"])
        .fails_with("invalid reference format");
}
