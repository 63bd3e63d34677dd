//! The backends: Docker's `imagedb` layout and rules (SPEC.md §3, StoreBackend), for the file
//! backend and, where they apply, the memory backend.

use std::os::unix::fs::PermissionsExt;

use imgsvc_imagestore::{Error, FsBackend, ImageId, MemoryBackend, StoreBackend};

use crate::support::TestResult;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

/// Runs `check` against a file backend and a memory backend.
fn both(check: impl Fn(&dyn StoreBackend)) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    check(&FsBackend::open(dir.path()).expect("the backend opens"));
    check(&MemoryBackend::new());
}

#[test]
fn the_layout_and_modes_are_dockers() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("imagedb");
    let backend = FsBackend::open(&root)?;
    assert_eq!(mode(&root.join("content/sha256")), 0o700);
    assert_eq!(mode(&root.join("metadata/sha256")), 0o700);

    let id = backend.set(b"{\"rootfs\":{}}")?;
    let hex = id.digest().encoded();
    let content = root.join("content/sha256").join(hex.as_str());
    assert_eq!(std::fs::read(&content)?, b"{\"rootfs\":{}}");
    assert_eq!(mode(&content), 0o600);

    backend.set_metadata(id, "parent", b"sha256:abc")?;
    let meta_dir = root.join("metadata/sha256").join(hex.as_str());
    assert_eq!(mode(&meta_dir), 0o700);
    assert_eq!(std::fs::read(meta_dir.join("parent"))?, b"sha256:abc");
    assert_eq!(mode(&meta_dir.join("parent")), 0o600);

    // Nothing temporary is left behind by the atomic writes.
    for dir in [root.join("content/sha256"), meta_dir] {
        for entry in std::fs::read_dir(&dir)? {
            let name = entry?.file_name();
            assert!(
                !name.to_string_lossy().starts_with(".tmp-"),
                "{name:?} left in {dir:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn the_constructor_fails_when_content_is_a_file() -> TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("content"), b"not a directory")?;
    match FsBackend::open(dir.path()) {
        Err(Error::Io { path, .. }) => assert!(path.starts_with(dir.path().join("content"))),
        other => panic!("expected an I/O error naming content/, got {other:?}"),
    }
    Ok(())
}

#[test]
fn empty_data_is_refused() {
    both(|backend| assert!(matches!(backend.set(b""), Err(Error::EmptyData))));
}

#[test]
fn oversized_configs_are_refused() {
    let big = vec![b' '; imgsvc_imagestore::MAX_CONFIG_SIZE + 1];
    both(|backend| assert!(matches!(backend.set(&big), Err(Error::TooLarge { .. }))));
}

#[test]
fn set_is_content_addressed_and_idempotent() {
    both(|backend| {
        let a = backend.set(b"same bytes").expect("stored");
        let b = backend.set(b"same bytes").expect("stored again");
        assert_eq!(a, b);
        assert_eq!(a, ImageId::of(b"same bytes"));
        assert_eq!(backend.get(a).expect("read"), b"same bytes");
    });
}

#[test]
fn get_of_missing_content_is_not_found() {
    both(|backend| {
        let err = backend
            .get(ImageId::of(b"never stored"))
            .expect_err("nothing stored");
        assert!(matches!(err, Error::ContentNotFound { .. }), "{err:?}");
        assert!(err.to_string().contains("failed to get digest"), "{err}");
    });
}

#[test]
fn get_reverifies_and_names_the_damaged_file() -> TestResult {
    let dir = tempfile::tempdir()?;
    let backend = FsBackend::open(dir.path())?;
    let id = backend.set(b"{\"rootfs\":{\"type\":\"layers\"}}")?;
    let path = backend.content_path(id);
    // A crash of a non-atomic writer: the file cut short.
    std::fs::write(&path, b"{\"rootfs\":{\"ty")?;
    match backend.get(id) {
        Err(err @ Error::Corrupted { .. }) => {
            assert!(err.to_string().contains("failed to verify"), "{err}");
            assert!(
                err.to_string().contains(&path.display().to_string()),
                "{err}"
            );
            assert_eq!(err.kind(), imgsvc_imagestore::ErrorKind::Storage);
        }
        other => panic!("expected a corrupted-content error, got {other:?}"),
    }
    // Storing the bytes again repairs the file.
    backend.set(b"{\"rootfs\":{\"type\":\"layers\"}}")?;
    assert!(backend.get(id).is_ok());
    Ok(())
}

#[test]
fn walk_skips_names_that_are_not_ids() -> TestResult {
    let dir = tempfile::tempdir()?;
    let backend = FsBackend::open(dir.path())?;
    let id = backend.set(b"{}")?;
    let content = dir.path().join("content/sha256");
    let hex = id.digest().encoded();
    for junk in [
        ".tmp-abc-123".to_owned(),
        "not-a-digest".to_owned(),
        hex.to_uppercase(),
        format!("{hex}0"),
        hex[1..].to_owned(),
    ] {
        std::fs::write(content.join(junk), b"junk")?;
    }
    let mut seen = Vec::new();
    backend.walk(&mut |id| {
        seen.push(id);
        Ok(())
    })?;
    assert_eq!(seen, [id]);
    Ok(())
}

#[test]
fn walk_stops_at_the_first_error() {
    both(|backend| {
        for i in 0..3u8 {
            backend.set(&[b'a' + i]).expect("stored");
        }
        let mut calls = 0;
        let result = backend.walk(&mut |id| {
            calls += 1;
            Err(Error::UnknownImage { id })
        });
        assert!(result.is_err());
        assert_eq!(calls, 1);
    });
}

#[test]
fn metadata_needs_stored_content() {
    both(|backend| {
        let unknown = ImageId::of(b"unknown");
        let err = backend
            .set_metadata(unknown, "parent", b"x")
            .expect_err("no content");
        assert!(err.to_string().contains("failed to get digest"), "{err}");
        assert!(backend.try_get_metadata(unknown, "parent").is_err());
    });
}

#[test]
fn missing_metadata_is_none_or_not_found() {
    both(|backend| {
        let id = backend.set(b"{}").expect("stored");
        assert_eq!(
            backend.try_get_metadata(id, "parent").expect("readable"),
            None
        );
        let err = backend.get_metadata(id, "parent").expect_err("no value");
        assert!(matches!(err, Error::MetadataNotFound { .. }), "{err:?}");
        assert!(err.to_string().contains("failed to read metadata"), "{err}");
        // Deleting what is not there is fine.
        backend
            .delete_metadata(id, "parent")
            .expect("no error for an absent key");
    });
}

#[test]
fn metadata_keys_cannot_escape_their_directory() -> TestResult {
    let dir = tempfile::tempdir()?;
    let backend = FsBackend::open(dir.path().join("imagedb"))?;
    let id = backend.set(b"{}")?;
    for key in [
        "",
        ".",
        "..",
        "../../content",
        "a/b",
        "/etc/passwd",
        "nul\0byte",
    ] {
        for result in [
            backend.set_metadata(id, key, b"x").err(),
            backend.try_get_metadata(id, key).err(),
            backend.delete_metadata(id, key).err(),
        ] {
            assert!(
                matches!(result, Some(Error::InvalidMetadataKey { .. })),
                "{key:?}: {result:?}"
            );
        }
    }
    // Nothing was written outside the image's metadata directory.
    let mut top: Vec<String> = std::fs::read_dir(dir.path())?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    top.sort();
    assert_eq!(top, ["imagedb"]);
    Ok(())
}

#[test]
fn metadata_round_trips_and_goes_with_its_image() {
    both(|backend| {
        let id = backend.set(b"{}").expect("stored");
        backend
            .set_metadata(id, "lastUpdated", b"2024-05-01T10:11:12Z")
            .expect("set");
        backend
            .set_metadata(id, "lastUpdated", b"2024-05-02T10:11:12Z")
            .expect("replaced");
        assert_eq!(
            backend.get_metadata(id, "lastUpdated").expect("get"),
            b"2024-05-02T10:11:12Z"
        );
        backend.delete_metadata(id, "lastUpdated").expect("deleted");
        assert_eq!(
            backend.try_get_metadata(id, "lastUpdated").expect("get"),
            None
        );

        backend.set_metadata(id, "parent", b"p").expect("set");
        backend.delete(id).expect("deleted");
        assert!(backend.get(id).is_err());
        // Stored again, the image has no metadata left from before.
        let again = backend.set(b"{}").expect("stored again");
        assert_eq!(
            backend.try_get_metadata(again, "parent").expect("get"),
            None
        );
    });
}

#[test]
fn deleting_missing_content_is_an_error() {
    both(|backend| {
        let err = backend
            .delete(ImageId::of(b"never"))
            .expect_err("nothing to delete");
        assert!(matches!(err, Error::ContentNotFound { .. }), "{err:?}");
    });
}

#[test]
fn the_generation_changes_with_every_change() {
    both(|backend| {
        let mut last = backend.generation().expect("readable");
        let changed = |what: &str, last: &mut u64| {
            let now = backend.generation().expect("readable");
            assert_ne!(now, *last, "{what} did not change the generation");
            *last = now;
        };
        let id = backend.set(b"{}").expect("stored");
        changed("set", &mut last);
        backend.set_metadata(id, "k", b"v").expect("set");
        changed("set_metadata", &mut last);
        backend.delete_metadata(id, "k").expect("deleted");
        changed("delete_metadata", &mut last);
        backend.delete(id).expect("deleted");
        changed("delete", &mut last);
        // Reads change nothing.
        let _ = backend.get(id);
        assert_eq!(backend.generation().expect("readable"), last);
    });
}

#[test]
fn two_backends_on_one_root_see_each_others_generation() -> TestResult {
    let dir = tempfile::tempdir()?;
    let a = FsBackend::open(dir.path())?;
    let b = FsBackend::open(dir.path())?;
    let before = b.generation()?;
    a.set(b"{}")?;
    assert_ne!(b.generation()?, before);
    Ok(())
}

#[test]
fn the_lock_excludes_another_backend() -> TestResult {
    let dir = tempfile::tempdir()?;
    let a = FsBackend::open(dir.path())?;
    let b = FsBackend::open(dir.path())?;
    let held = a.lock()?;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let _lock = b.lock().expect("lockable");
            sender.send(()).expect("the test waits");
        });
        // While `a` holds the lock, `b` cannot have it.
        let waited = receiver.recv_timeout(std::time::Duration::from_millis(200));
        assert!(waited.is_err(), "b locked while a held the lock");
        drop(held);
        receiver
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("b locks once a lets go");
    });
    Ok(())
}

#[test]
fn stale_temporary_files_are_cleaned_up() -> TestResult {
    let dir = tempfile::tempdir()?;
    let backend = FsBackend::open(dir.path())?;
    let content = dir.path().join("content/sha256");
    let stale = content.join(".tmp-deadbeef-0000000000000001");
    let fresh = content.join(".tmp-deadbeef-0000000000000002");
    std::fs::write(&stale, b"half a config")?;
    std::fs::write(&fresh, b"being written")?;
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)?
        .set_modified(old)?;
    backend.cleanup()?;
    assert!(!stale.exists(), "a crash leftover is removed");
    assert!(
        fresh.exists(),
        "a write in progress elsewhere is left alone"
    );
    Ok(())
}
