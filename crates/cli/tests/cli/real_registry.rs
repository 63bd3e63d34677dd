//! The binary against the real CNCF registry (Debian's `docker-registry`) in its three auth
//! modes, with the app image pushed by skopeo: login, pull, list, and the unpacked rootfs
//! compared file by file with `umoci unpack` of the same image.

use imgsvc_testkit::real::image::{self, OciLayout};
use imgsvc_testkit::real::{self, Mode, RealRegistry};
use imgsvc_testkit::tree::Tree;

use crate::harness::Env;

const USER: &str = "tester";
const PASSWORD: &str = "s3cret pass";

fn pulls_and_unpacks_like_umoci(mode: Mode, log_in: bool) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let layout = OciLayout::init(dir.path().join("layout")).expect("a layout");
    image::build_test_images(&layout).expect("the test images build");
    let registry = RealRegistry::start(mode).expect("the registry starts");
    registry
        .push(&layout, image::APP, "test/app:v1")
        .expect("skopeo pushes");
    let env = Env::new();
    let host = registry.host();
    let name = format!("{host}/test/app:v1");
    if log_in {
        env.run_with_stdin(
            &["login", "-u", USER, "--password-stdin", &host],
            "wrong password\n",
        )
        .fails_with("unauthorized");
        env.run(&["pull", "-q", &name]).fails_with("unauthorized");
        let run = env
            .run_with_stdin(
                &["login", "-u", USER, "--password-stdin", &host],
                &format!("{PASSWORD}\n"),
            )
            .ok();
        assert!(run.stdout.contains("Login Succeeded"), "{run:?}");
    }
    env.run(&["pull", "-q", &name]).ok();
    assert_eq!(env.run(&["images", "-q"]).ok().lines().len(), 1);
    let ours = dir.path().join("ours");
    env.run(&["unpack", &name, &ours.to_string_lossy()]).ok();
    let theirs = registry
        .reference_rootfs("test/app:v1", &dir.path().join("umoci"))
        .expect("umoci unpacks");
    let differences = Tree::snapshot(&ours)
        .expect("our tree")
        .differences(&Tree::snapshot(&theirs).expect("umoci's tree"));
    assert!(differences.is_empty(), "{differences:#?}");
    if log_in {
        env.run(&["logout", &host]).ok();
        env.run(&["rmi", &name]).ok();
        env.run(&["pull", "-q", &name]).fails_with("unauthorized");
    }
}

#[test]
fn no_auth() {
    if real::skipped() {
        return;
    }
    pulls_and_unpacks_like_umoci(Mode::NoAuth, false);
}

#[test]
fn basic_auth_with_login() {
    if real::skipped() {
        return;
    }
    pulls_and_unpacks_like_umoci(Mode::basic(USER, PASSWORD), true);
}

#[test]
fn token_auth_with_login() {
    if real::skipped() {
        return;
    }
    pulls_and_unpacks_like_umoci(Mode::token(USER, PASSWORD), true);
}
