//! `imgsvc rmi`: untagging, deleting, and Docker's conflicts.

use crate::harness::{pulled, short_id};

#[test]
fn removing_the_last_tag_deletes_the_image() {
    let (env, _, name, image) = pulled();
    let run = env.run(&["rmi", &name]).ok();
    let lines = run.lines();
    assert_eq!(
        lines.first(),
        Some(&format!("Untagged: {name}").as_str()),
        "{run:?}"
    );
    assert!(lines.contains(&format!("Deleted: {}", image.config_digest()).as_str()));
    assert_eq!(env.run(&["images", "-q"]).ok().stdout, "");
}

#[test]
fn removing_one_of_two_tags_only_untags() {
    let (env, _, name, image) = pulled();
    env.run(&["tag", &name, "mine:v2"]).ok();
    let run = env.run(&["rmi", "mine:v2"]).ok();
    assert_eq!(run.stdout, "Untagged: mine:v2\n");
    assert_eq!(
        env.run(&["images", "-q"]).ok().stdout,
        format!("{}\n", short_id(&image))
    );
}

#[test]
fn an_id_tagged_in_two_repositories_must_be_forced() {
    let (env, _, name, image) = pulled();
    env.run(&["tag", &name, "mine:v2"]).ok();
    let id = short_id(&image);
    env.run(&["rmi", &id]).fails_with(&format!(
        "conflict: unable to delete {id} (must be forced) - image is referenced in multiple repositories"
    ));
    let run = env.run(&["rmi", "-f", &id]).ok();
    assert!(run.stdout.contains("Untagged: mine:v2"), "{run:?}");
    assert!(
        run.stdout
            .contains(&format!("Deleted: {}", image.config_digest()))
    );
}

#[test]
fn every_image_is_tried_and_any_failure_fails() {
    let (env, _, name, _) = pulled();
    let run = env
        .run(&["rmi", "nope", &name])
        .fails_with("No such image: nope");
    assert!(run.stdout.contains("Untagged:"), "{run:?}");
}
