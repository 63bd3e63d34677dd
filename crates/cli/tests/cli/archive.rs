//! `imgsvc save`, `load`, `unpack`, `prune` and `fsck`, and round trips with skopeo and umoci.

use std::process::Command;

use imgsvc_testkit::real;

use crate::harness::{Env, pulled, short_id};

#[test]
fn save_and_load_round_trip_between_roots() {
    let (env, _registry, name, image) = pulled();
    let dir = tempfile::tempdir().expect("a temp dir");
    let archive = dir.path().join("app.tar");
    let archive_arg = archive.to_string_lossy().into_owned();
    env.run(&["save", "-o", &archive_arg, &name]).ok();
    assert!(archive.is_file());

    let other = Env::new();
    let run = other.run(&["load", "-i", &archive_arg]).ok();
    assert_eq!(run.stdout, format!("Loaded image: {name}\n"));
    assert_eq!(
        other.run(&["images", "-q"]).ok().stdout,
        format!("{}\n", short_id(&image))
    );

    // To stdout and back through stdin is refused only on a terminal; a pipe works.
    let saved = env.run(&["save", &name]).ok();
    assert!(saved.stdout.len() > 1024, "a tar on stdout");
    env.run(&["load", "-i", "/nonexistent/file.tar"])
        .fails_with("No such file");
    env.run(&["save", "-o", &archive_arg, "no/such:image"])
        .fails_with("No such image: no/such:image");
}

#[test]
fn unpack_prune_and_fsck() {
    let (env, _registry, name, _image) = pulled();
    let dir = tempfile::tempdir().expect("a temp dir");
    let rootfs = dir.path().join("rootfs");
    env.run(&["unpack", &name, &rootfs.to_string_lossy()]).ok();
    assert!(std::fs::read_dir(&rootfs).expect("unpacked").count() > 0);
    env.run(&["unpack", &name, &rootfs.to_string_lossy()])
        .fails_with("Error:");

    env.run(&["fsck"]).ok();
    assert_eq!(env.run(&["prune"]).ok().stdout, "", "nothing dangling");
    let run = env.run(&["prune", "-a"]).ok();
    assert!(run.stdout.starts_with("Deleted Images:\n"), "{run:?}");
    assert!(run.stdout.contains(&format!("untagged: {name}")), "{run:?}");
    assert_eq!(env.run(&["images", "-q"]).ok().stdout, "");
}

fn tool(command: &mut Command) {
    let out = command.output().expect("the tool runs");
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn skopeo_reads_our_archive_and_we_load_its_layout() {
    if real::skipped() {
        return;
    }
    let (env, _registry, name, _image) = pulled();
    let dir = tempfile::tempdir().expect("a temp dir");
    let archive = dir.path().join("app.tar");
    env.run(&["save", "-o", &archive.to_string_lossy(), &name])
        .ok();
    let layout = dir.path().join("layout");
    tool(
        Command::new("skopeo")
            .args(["copy", "--quiet", "--insecure-policy"])
            .arg(format!("docker-archive:{}", archive.display()))
            .arg(format!("oci:{}:app", layout.display())),
    );
    let bundle = dir.path().join("bundle");
    tool(
        Command::new("umoci")
            .args(["unpack", "--image"])
            .arg(format!("{}:app", layout.display()))
            .arg(&bundle),
    );
    let ours = dir.path().join("ours");
    env.run(&["unpack", &name, &ours.to_string_lossy()]).ok();
    let differences = imgsvc_testkit::tree::Tree::snapshot(&ours)
        .expect("our tree")
        .differences(
            &imgsvc_testkit::tree::Tree::snapshot(&bundle.join("rootfs")).expect("umoci's tree"),
        );
    assert!(differences.is_empty(), "{differences:#?}");

    let other = Env::new();
    let run = other.run(&["load", "-i", &layout.to_string_lossy()]).ok();
    assert!(
        run.stdout.starts_with("Loaded image ID: sha256:"),
        "{run:?}"
    );
    // skopeo writes the config anew (another ID); the files are what must not change.
    let loaded = run
        .stdout
        .trim()
        .trim_start_matches("Loaded image ID: ")
        .to_owned();
    let back = dir.path().join("back");
    other
        .run(&["unpack", &loaded, &back.to_string_lossy()])
        .ok();
    let differences = imgsvc_testkit::tree::Tree::snapshot(&ours)
        .expect("our tree")
        .differences(&imgsvc_testkit::tree::Tree::snapshot(&back).expect("the loaded tree"));
    assert!(differences.is_empty(), "{differences:#?}");
}
