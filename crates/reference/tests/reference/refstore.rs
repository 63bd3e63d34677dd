//! The tag store: Docker's rules, its file format, crash safety and sharing between processes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use imgsvc_digest::Digest;
use imgsvc_reference::refstore::{Error, ErrorKind, Store};
use imgsvc_reference::{Reference, parse, parse_normalized_named};

fn r(text: &str) -> Reference {
    parse_normalized_named(text).expect("test references are valid")
}

fn id(seed: &str) -> Digest {
    Digest::from_bytes(seed.as_bytes())
}

fn store() -> (tempfile::TempDir, Store, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("image/vfs/repositories.json");
    let store = Store::open(&path).expect("a new store opens");
    (dir, store, path)
}

fn kind<T: std::fmt::Debug>(result: Result<T, Error>) -> ErrorKind {
    result.expect_err("the operation should fail").kind()
}

#[test]
fn a_bare_name_is_tagged_latest() {
    let (_dir, store, _) = store();
    store
        .add_tag(&r("busybox"), id("a"), false)
        .expect("tagging");
    assert_eq!(store.get(&r("busybox:latest")).expect("present"), id("a"));
    assert_eq!(
        store.get(&r("busybox")).expect("bare name means latest"),
        id("a")
    );
    assert_eq!(store.try_get(&r("busybox:1")).expect("readable"), None);
}

#[test]
fn the_file_is_dockers_format() {
    let (_dir, store, path) = store();
    let digest = id("manifest");
    store
        .add_tag(&r("busybox"), id("a"), false)
        .expect("tagging");
    store
        .add_tag(&r("registry:5000/foobar:HEAD"), id("b"), false)
        .expect("tagging");
    store
        .add_digest(&r("registry").with_digest(digest), id("c"), false)
        .expect("adding a digest reference");
    let expected = format!(
        r#"{{"Repositories":{{"busybox":{{"busybox:latest":"{}"}},"registry":{{"registry@{digest}":"{}"}},"registry:5000/foobar":{{"registry:5000/foobar:HEAD":"{}"}}}}}}"#,
        id("a"),
        id("c"),
        id("b"),
    );
    assert_eq!(fs::read_to_string(&path).expect("readable"), expected);
}

#[test]
fn tags_move_only_with_force() {
    let (_dir, store, _) = store();
    let tag = r("app:1");
    store.add_tag(&tag, id("a"), false).expect("tagging");
    let err = store.add_tag(&tag, id("b"), false).expect_err("no force");
    assert_eq!(
        err.to_string(),
        format!(
            "tag app:1 is already set to image {}, use the force option to replace it",
            id("a")
        )
    );
    assert_eq!(err.kind(), ErrorKind::Conflict);
    store.add_tag(&tag, id("b"), true).expect("forced");
    assert_eq!(store.get(&tag).expect("present"), id("b"));
    assert!(store.references(id("a")).expect("readable").is_empty());
    assert_eq!(store.references(id("b")).expect("readable"), [tag]);
}

#[test]
fn digests_never_move() {
    let (_dir, store, _) = store();
    let pinned = r("app").with_digest(id("manifest"));
    store.add_digest(&pinned, id("a"), false).expect("adding");
    store
        .add_digest(&pinned, id("a"), false)
        .expect("the same again is a no-op");
    let err = store
        .add_digest(&pinned, id("b"), true)
        .expect_err("even forced");
    assert!(matches!(err, Error::DigestConflict { .. }), "{err}");
    assert!(
        err.to_string().starts_with("cannot overwrite digest"),
        "{err}"
    );
}

#[test]
fn invalid_requests_are_refused() {
    let (_dir, store, _) = store();
    let pinned = r("app").with_digest(id("manifest"));
    assert_eq!(
        kind(store.add_tag(&pinned, id("a"), false)),
        ErrorKind::InvalidParameter
    );
    assert_eq!(
        kind(store.add_digest(&r("app:1"), id("a"), false)),
        ErrorKind::InvalidParameter
    );
    // `sha256:<hex>` reads as the repository "sha256" with a tag: refused as ambiguous.
    let ambiguous = r(&format!("sha256:{}", id("a").encoded()));
    let err = store
        .add_tag(&ambiguous, id("a"), false)
        .expect_err("ambiguous");
    assert!(matches!(err, Error::AmbiguousName { .. }), "{err}");
    // A reference that was not normalized would be filed under the wrong key.
    let raw = parse("ubuntu:1").expect("valid");
    let err = store
        .add_tag(&raw, id("a"), false)
        .expect_err("not normalized");
    assert!(matches!(err, Error::NotNormalized { .. }), "{err}");
}

#[test]
fn a_tag_beside_a_digest_is_ignored() {
    let (_dir, store, _) = store();
    let digest = id("manifest");
    store
        .add_digest(&r("app:1").with_digest(digest), id("a"), false)
        .expect("adding");
    assert_eq!(
        store.get(&r("app").with_digest(digest)).expect("by digest"),
        id("a")
    );
    assert_eq!(
        store
            .get(&r("app:2").with_digest(digest))
            .expect("tag ignored"),
        id("a")
    );
    assert_eq!(store.try_get(&r("app:1")).expect("readable"), None);
}

#[test]
fn delete_says_whether_it_removed_something() {
    let (_dir, store, path) = store();
    store.add_tag(&r("app:1"), id("a"), false).expect("tagging");
    store.add_tag(&r("app:2"), id("a"), false).expect("tagging");
    assert!(!store.delete(&r("app:3")).expect("deleting"));
    assert!(store.delete(&r("app:1")).expect("deleting"));
    assert!(!store.delete(&r("app:1")).expect("deleting again"));
    assert!(store.delete(&r("app:2")).expect("deleting"));
    // The emptied repository is gone from the file.
    assert_eq!(
        fs::read_to_string(&path).expect("readable"),
        r#"{"Repositories":{}}"#
    );
    assert_eq!(kind(store.get(&r("app:2"))), ErrorKind::NotFound);
}

#[test]
fn references_are_sorted_by_full_name() {
    let (_dir, store, _) = store();
    let image = id("a");
    for text in ["zeta:1", "quay.io/x/y:1", "alpha:2", "alpha:10"] {
        store.add_tag(&r(text), image, false).expect("tagging");
    }
    let refs: Vec<String> = store
        .references(image)
        .expect("readable")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        refs,
        [
            "docker.io/library/alpha:10",
            "docker.io/library/alpha:2",
            "docker.io/library/zeta:1",
            "quay.io/x/y:1",
        ]
    );
    let by_name = store.references_by_name(&r("alpha")).expect("readable");
    let names: Vec<String> = by_name
        .iter()
        .map(|a| a.reference.familiar_string())
        .collect();
    assert_eq!(names, ["alpha:10", "alpha:2"]);
    assert!(
        store
            .references_by_name(&r("missing"))
            .expect("readable")
            .is_empty()
    );
}

#[test]
fn a_no_op_does_not_rewrite_the_file() {
    let (_dir, store, path) = store();
    store.add_tag(&r("app:1"), id("a"), false).expect("tagging");
    let before = inode(&path);
    store
        .add_tag(&r("app:1"), id("a"), false)
        .expect("same again");
    assert_eq!(inode(&path), before);
}

fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).expect("stat").ino()
}

#[test]
fn a_corrupt_file_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("repositories.json");
    let text = "{\"Repositories\":{\n  \"app\": {\"app:1\": 42}\n}}";
    fs::write(&path, text).expect("planting a damaged file");
    let err = Store::open(&path).expect_err("corrupt");
    match &err {
        Error::Corrupt { path: p, line, .. } => {
            assert_eq!(p, &path);
            assert_eq!(*line, 2);
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&path).expect("readable"), text);
}

#[test]
fn a_file_truncated_mid_write_is_refused() {
    let (_dir, store, path) = store();
    for i in 0..20 {
        store
            .add_tag(&r(&format!("app:{i}")), id("a"), false)
            .expect("tagging");
    }
    let full = fs::read(&path).expect("readable");
    let truncated = &full[..full.len() / 2];
    fs::write(&path, truncated).expect("truncating");
    let err = Store::open(&path).expect_err("truncated");
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    // The store that had the file open refuses to write over it too.
    let err = store
        .add_tag(&r("app:new"), id("a"), false)
        .expect_err("reload fails");
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    assert_eq!(fs::read(&path).expect("readable"), truncated);
}

#[test]
fn entries_this_version_cannot_parse_survive_a_rewrite() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("repositories.json");
    let odd = format!(
        r#"{{"Repositories":{{"Odd Repo":{{"Odd Repo:x":"{}"}}}}}}"#,
        id("a")
    );
    fs::write(&path, &odd).expect("planting");
    let store = Store::open(&path).expect("opens despite the odd key");
    assert!(store.references(id("a")).expect("readable").is_empty());
    store.add_tag(&r("app:1"), id("b"), false).expect("tagging");
    let text = fs::read_to_string(&path).expect("readable");
    assert!(text.contains("\"Odd Repo:x\""), "{text}");
}

#[test]
fn leftovers_of_a_crashed_write_do_not_matter() {
    let (_dir, store, path) = store();
    store.add_tag(&r("app:1"), id("a"), false).expect("tagging");
    // A crash between writing the temporary file and renaming it leaves this behind.
    fs::write(path.with_file_name("repositories.json.tmp"), "{\"Repos").expect("planting");
    let reopened = Store::open(&path).expect("reopens");
    assert_eq!(reopened.get(&r("app:1")).expect("kept"), id("a"));
    reopened
        .add_tag(&r("app:2"), id("a"), false)
        .expect("writes over the leftover");
    drop(store);
}

#[test]
fn other_instances_see_changes() {
    let (_dir, first, path) = store();
    let second = Store::open(&path).expect("a second instance");
    first.add_tag(&r("app:1"), id("a"), false).expect("tagging");
    assert_eq!(second.get(&r("app:1")).expect("seen by the other"), id("a"));
    second.add_tag(&r("app:1"), id("b"), true).expect("moving");
    assert_eq!(first.get(&r("app:1")).expect("seen back"), id("b"));
}

#[test]
fn concurrent_writers_lose_nothing() {
    let (_dir, _store, path) = store();
    let writers = 2;
    let tags = 1000;
    std::thread::scope(|scope| {
        for writer in 0..writers {
            let path = &path;
            scope.spawn(move || {
                let store = Store::open(path).expect("each writer has its own instance");
                for i in 0..tags {
                    let reference = r(&format!("w{writer}:t{i}"));
                    store
                        .add_tag(&reference, id(&format!("{writer}-{i}")), false)
                        .expect("tagging");
                }
            });
        }
    });
    let store = Store::open(&path).expect("reopens");
    for writer in 0..writers {
        let found = store
            .references_by_name(&r(&format!("w{writer}")))
            .expect("readable");
        assert_eq!(found.len(), tags, "writer {writer}");
    }
}

/// The environment variable that turns [`child_process_writer`] into a writer.
const CHILD_ENV: &str = "IMGSVC_REFSTORE_TEST_CHILD";

#[test]
fn concurrent_processes_lose_nothing() {
    let (_dir, _store, path) = store();
    let exe = std::env::current_exe().expect("the test binary");
    let children: Vec<_> = (0..2)
        .map(|child| {
            Command::new(&exe)
                .args([
                    "refstore::child_process_writer",
                    "--exact",
                    "--ignored",
                    "--nocapture",
                ])
                .env(CHILD_ENV, format!("{}\n{child}", path.display()))
                .spawn()
                .expect("starting a writer process")
        })
        .collect();
    for mut child in children {
        let status = child.wait().expect("the writer process ends");
        assert!(status.success(), "a writer process failed: {status}");
    }
    let store = Store::open(&path).expect("reopens");
    for child in 0..2 {
        let found = store
            .references_by_name(&r(&format!("p{child}")))
            .expect("readable");
        assert_eq!(found.len(), 300, "process {child}");
    }
}

/// Run by [`concurrent_processes_lose_nothing`] in a child process; does nothing otherwise.
#[test]
#[ignore = "a helper process for concurrent_processes_lose_nothing"]
fn child_process_writer() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (path, child) = spec.split_once('\n').expect("path and child number");
    let store = Store::open(path).expect("the child opens the store");
    for i in 0..300 {
        let reference = r(&format!("p{child}:t{i}"));
        store
            .add_tag(&reference, id(&format!("{child}-{i}")), false)
            .expect("tagging");
    }
}
