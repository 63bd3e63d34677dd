//! The layer store over the vfs driver: registering, references, exact tar reproduction,
//! hostile input, recovery, read-write layers.

use std::fs;
use std::io::Read;

use imgsvc_digest::Digest;
use imgsvc_layerstore::{ChainId, DiffId, EmptyLayer, Error, MAX_LAYER_DEPTH, RwLayerOptions};

use crate::support::{Fixture, Kind, driver_tests, tar_of};

fn read_all(mut reader: impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .expect("the stream reads to its end");
    out
}

fn a_registered_layer_has_its_ids_files_and_exact_tar(fx: Fixture) {
    let tar = tar_of(&[("etc/", ""), ("etc/hostname", "box\n"), ("bin/sh", "#!")]);
    let layer = fx.store.register(&tar[..], None).expect("registering");
    let diff_id = DiffId::new(Digest::from_bytes(&tar));
    assert_eq!(layer.diff_id(), diff_id);
    assert_eq!(layer.chain_id(), ChainId::new(diff_id.digest()));
    assert_eq!(layer.parent(), None);
    assert_eq!(fx.driver_dirs().len(), 1);
    fx.with_tree(&layer, |root| {
        assert_eq!(fs::read(root.join("etc/hostname")).expect("read"), b"box\n");
    });
    let rebuilt = read_all(fx.store.tar_stream(&layer).expect("a tar stream"));
    assert_eq!(rebuilt, tar);
    let layer_dir = fx
        .layerdb()
        .join("sha256")
        .join(layer.chain_id().digest().encoded().as_str());
    assert_eq!(
        fs::read_to_string(layer_dir.join("diff")).expect("read"),
        diff_id.to_string()
    );
    assert!(layer_dir.join("tar-split.json.gz").exists());
    assert!(!layer_dir.join("parent").exists());
}

fn a_child_layer_applies_whiteouts_over_its_parent(fx: Fixture) {
    let base = tar_of(&[
        ("a/", ""),
        ("a/keep", "k"),
        ("a/gone", "g"),
        ("b/", ""),
        ("b/old", "o"),
    ]);
    let parent = fx.store.register(&base[..], None).expect("base");
    let diff = tar_of(&[
        ("a/.wh.gone", ""),
        ("b/.wh..wh..opq", ""),
        ("b/new", "n"),
        ("c", "c"),
    ]);
    let child = fx
        .store
        .register(&diff[..], Some(parent.chain_id()))
        .expect("child");
    assert_eq!(child.parent(), Some(parent.chain_id()));
    assert_eq!(child.chain_id(), parent.chain_id().child(child.diff_id()));
    assert_eq!(child.info().depth, 2);
    assert_eq!(child.size(), parent.size() + child.diff_size());

    fx.with_tree(&child, |root| {
        assert!(root.join("a/keep").exists());
        assert!(!root.join("a/gone").exists());
        assert!(!root.join("a/.wh.gone").exists());
        assert!(!root.join("b/old").exists());
        assert!(root.join("b/new").exists());
        assert!(root.join("c").exists());
    });
    fx.with_tree(&parent, |root| {
        assert!(root.join("a/gone").exists(), "the parent is untouched");
        assert!(root.join("b/old").exists());
    });

    let metadata = fx.store.layer_metadata(&child).expect("driver metadata");
    let keys: Vec<&str> = metadata.iter().map(|(k, _)| k.as_str()).collect();
    match fx.kind {
        crate::support::Kind::Overlay2 => {
            assert_eq!(keys, ["LowerDir", "MergedDir", "WorkDir", "UpperDir"]);
        }
        crate::support::Kind::Vfs => assert!(keys.is_empty()),
    }

    assert_eq!(read_all(fx.store.tar_stream(&child).expect("stream")), diff);
    assert_eq!(
        read_all(fx.store.tar_stream(&parent).expect("stream")),
        base
    );
}

fn references_count_and_release_removes_child_first(fx: Fixture) {
    let base = tar_of(&[("f", "1")]);
    let top = tar_of(&[("g", "2")]);
    let a = fx.store.register(&base[..], None).expect("base");
    let b = fx
        .store
        .register(&top[..], Some(a.chain_id()))
        .expect("top");
    let b2 = fx
        .store
        .register(&top[..], Some(a.chain_id()))
        .expect("the same again");
    assert_eq!(b2.chain_id(), b.chain_id());
    assert_eq!(
        fx.driver_dirs().len(),
        2,
        "the duplicate's copy was discarded"
    );

    let (a_id, b_id) = (a.chain_id(), b.chain_id());
    assert!(
        fx.store.release(a).expect("releasing").is_empty(),
        "b still needs a"
    );
    assert!(
        fx.store.release(b).expect("releasing").is_empty(),
        "b2 still holds b"
    );
    let removed = fx.store.release(b2).expect("releasing the last");
    let ids: Vec<ChainId> = removed.iter().map(|m| m.chain_id).collect();
    assert_eq!(ids, [b_id, a_id]);
    assert_eq!(removed[0].size, removed[0].diff_size + removed[1].diff_size);
    assert!(fx.driver_dirs().is_empty());
    assert!(matches!(
        fx.store.get(a_id),
        Err(Error::LayerDoesNotExist { .. })
    ));
    let leftovers = fs::read_dir(fx.layerdb().join("sha256"))
        .expect("list")
        .count();
    assert_eq!(leftovers, 0);
}

/// A reader that must never be read.
struct Untouchable;

impl Read for Untouchable {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        panic!("the tar of an existing layer must not be read");
    }
}

fn a_known_diff_id_skips_reading_an_existing_layer(fx: Fixture) {
    let tar = tar_of(&[("f", "1")]);
    let first = fx.store.register(&tar[..], None).expect("registering");
    let again = fx
        .store
        .register_with_expected(Untouchable, None, first.diff_id())
        .expect("found without reading");
    assert_eq!(again.chain_id(), first.chain_id());
}

fn a_wrong_diff_id_leaves_nothing_behind(fx: Fixture) {
    let tar = tar_of(&[("f", "1")]);
    let wrong = DiffId::new(Digest::from_bytes(b"something else"));
    let err = fx
        .store
        .register_with_expected(&tar[..], None, wrong)
        .expect_err("mismatch");
    assert!(matches!(err, Error::DiffIdMismatch { .. }), "{err}");
    assert!(fx.driver_dirs().is_empty());
    assert_eq!(
        fs::read_dir(fx.layerdb().join("sha256"))
            .expect("list")
            .count(),
        0
    );
    assert_eq!(
        fs::read_dir(fx.layerdb().join("tmp"))
            .expect("list")
            .count(),
        0
    );
}

fn hostile_tars_are_refused_and_leave_nothing_behind(fx: Fixture) {
    let escape = python_tar("t.addfile(info('../escape.txt', b'x'), io.BytesIO(b'x'))");
    let err = fx
        .store
        .register(&escape[..], None)
        .expect_err("a breakout");
    assert!(matches!(err, Error::Apply(_)), "{err}");
    assert!(!fx.dir.path().join("escape.txt").exists());
    assert!(fx.driver_dirs().is_empty());

    let gzip = {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, &tar_of(&[("f", "1")])).expect("gzip");
        enc.finish().expect("gzip")
    };
    let err = fx
        .store
        .register(&gzip[..], None)
        .expect_err("gzip is not a tar");
    assert!(matches!(err, Error::Tar(_)), "{err}");

    let tar = tar_of(&[("f", "some content")]);
    let err = fx.store.register(&tar[..700], None).expect_err("truncated");
    assert!(matches!(err, Error::Tar(_)), "{err}");
    assert!(fx.driver_dirs().is_empty());
    assert_eq!(
        fs::read_dir(fx.layerdb().join("tmp"))
            .expect("list")
            .count(),
        0
    );
}

/// A tar written by Python's tarfile; `body` runs with `t` (the archive), `info(name, data)`
/// and `io` in scope.
fn python_tar(body: &str) -> Vec<u8> {
    let script = format!(
        "import io, sys, tarfile\n\
         def info(name, data):\n    i = tarfile.TarInfo(name); i.size = len(data); i.mtime = 1600000000; return i\n\
         buf = io.BytesIO()\n\
         t = tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT)\n\
         {body}\n\
         t.close()\n\
         sys.stdout.buffer.write(buf.getvalue())\n"
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn changed_files_on_disk_fail_the_tar_stream(fx: Fixture) {
    let tar = tar_of(&[("f", "original")]);
    let layer = fx.store.register(&tar[..], None).expect("registering");
    let layer_dir = &fx.driver_dirs()[0];
    let files = if fx.kind == crate::support::Kind::Vfs {
        layer_dir.clone()
    } else {
        layer_dir.join("diff")
    };
    fs::write(files.join("f"), "tampered").expect("tampering");
    let mut stream = fx.store.tar_stream(&layer).expect("a stream");
    let err = stream
        .read_to_end(&mut Vec::new())
        .expect_err("tampered content");
    assert!(
        err.to_string().contains("checksum") || err.to_string().contains("verify"),
        "{err}"
    );
}

fn reopening_restores_layers_and_their_references(mut fx: Fixture) {
    let a = fx
        .store
        .register(&tar_of(&[("f", "1")])[..], None)
        .expect("base");
    let b = fx
        .store
        .register(&tar_of(&[("g", "2")])[..], Some(a.chain_id()))
        .expect("child");
    let (a_id, b_id) = (a.chain_id(), b.chain_id());
    fx.reopen();
    assert_eq!(fx.store.map().len(), 2);
    // The child holds the parent: releasing a fresh handle on the parent keeps it.
    let a = fx.store.get(a_id).expect("restored");
    assert!(fx.store.release(a).expect("releasing").is_empty());
    let b = fx.store.get(b_id).expect("restored");
    assert_eq!(fx.store.release(b).expect("releasing").len(), 2);
}

fn interrupted_work_is_cleaned_at_open(mut fx: Fixture) {
    let layer = fx
        .store
        .register(&tar_of(&[("f", "1")])[..], None)
        .expect("registering");
    let hex = layer.chain_id().digest().encoded().to_string();
    let sha = fx.layerdb().join("sha256");
    // A crash during registration and one during removal.
    fs::create_dir_all(fx.layerdb().join("tmp/write-set-123")).expect("mkdir");
    fs::create_dir_all(sha.join(format!("{hex}-{}-removing", "a".repeat(64)))).expect("mkdir");
    fx.reopen();
    assert_eq!(
        fs::read_dir(fx.layerdb().join("tmp"))
            .expect("list")
            .count(),
        0
    );
    assert_eq!(fs::read_dir(&sha).expect("list").count(), 1);
    assert!(fx.store.get(layer.chain_id()).is_ok());
}

fn chains_stop_at_the_maximum_depth(fx: Fixture) {
    let mut parent = None;
    let mut layers = Vec::new();
    for i in 0..MAX_LAYER_DEPTH {
        let layer = fx
            .store
            .register(&tar_of(&[(&format!("f{i}"), "x")])[..], parent)
            .expect("within the limit");
        parent = Some(layer.chain_id());
        layers.push(layer);
    }
    let err = fx
        .store
        .register(&tar_of(&[("one-too-many", "x")])[..], parent)
        .expect_err("past the limit");
    assert!(
        matches!(err, Error::MaxDepthExceeded { depth: 126, .. }),
        "{err}"
    );
    // The deepest layer sees every layer below it (for overlay2, 124 lower directories).
    let top = layers.last().expect("125 layers");
    fx.with_tree(top, |root| {
        for i in 0..MAX_LAYER_DEPTH {
            assert!(root.join(format!("f{i}")).exists(), "f{i}");
        }
    });
}

fn read_write_layers_sit_on_a_chain(fx: Fixture) {
    let base = fx
        .store
        .register(&tar_of(&[("etc/", ""), ("etc/os", "x")])[..], None)
        .expect("base");
    let init = RwLayerOptions::with_init(|dir| {
        fs::create_dir_all(dir.join("dev/pts"))?;
        fs::write(dir.join("etc/hosts"), "")
    });
    let rw = fx
        .store
        .create_rw_layer("container-1", Some(base.chain_id()), init)
        .expect("creating");
    let root = fx.store.mount(&rw).expect("mounting");
    assert!(root.join("etc/os").exists());
    assert!(root.join("etc/hosts").exists());
    assert!(root.join("dev/pts").is_dir());
    fs::write(root.join("new-file"), "w").expect("the layer is writable");
    fx.store.unmount(&rw).expect("unmounting");
    assert_eq!(
        fx.store.get_mount_id("container-1").expect("known"),
        rw.mount_id()
    );
    let err = fx
        .store
        .create_rw_layer("container-1", None, RwLayerOptions::default())
        .expect_err("the name is taken");
    assert!(matches!(err, Error::MountNameConflict { .. }), "{err}");
    assert!(
        fx.store
            .create_rw_layer("../x", None, RwLayerOptions::default())
            .is_err()
    );

    // The mount holds the base: releasing the base's own handle keeps it.
    let base_id = base.chain_id();
    assert!(fx.store.release(base).expect("releasing").is_empty());
    let removed = fx.store.release_rw_layer(rw).expect("releasing the mount");
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].chain_id, base_id);
    assert!(fx.driver_dirs().is_empty());
    assert!(matches!(
        fx.store.get_mount_id("container-1"),
        Err(Error::MountDoesNotExist { .. })
    ));
}

/// The empty tar (1024 zero bytes) registers as Docker's empty layer: the same IDs, sizes and
/// tar as [`EmptyLayer`], nothing on disk, and a parent like any other for the layer on top.
fn the_empty_tar_registers_as_the_empty_layer(fx: Fixture) {
    let empty_tar = read_all(EmptyLayer.tar_stream());
    assert_eq!(empty_tar, [0u8; 1024]);
    let layer = fx
        .store
        .register(&empty_tar[..], None)
        .expect("registering the empty tar");
    assert!(layer.diff_id().is_empty_tar());
    assert_eq!(
        (layer.chain_id(), layer.diff_id(), layer.parent()),
        (
            EmptyLayer.chain_id(),
            EmptyLayer.diff_id(),
            EmptyLayer.parent()
        )
    );
    assert_eq!(
        (layer.size(), layer.diff_size()),
        (EmptyLayer.size(), EmptyLayer.diff_size())
    );
    assert_eq!(
        read_all(fx.store.tar_stream(&layer).expect("a tar stream")),
        empty_tar
    );
    fx.with_tree(&layer, |root| {
        assert_eq!(fs::read_dir(root).expect("list").count(), 0);
    });

    let child = fx
        .store
        .register(&tar_of(&[("a", "1")])[..], Some(ChainId::EMPTY_LAYER))
        .expect("a layer on the empty layer");
    assert_eq!(
        child.chain_id(),
        ChainId::EMPTY_LAYER.child(child.diff_id())
    );
    assert_ne!(child.chain_id(), ChainId::new(child.diff_id().digest()));
    let diff = read_all(
        fx.store
            .tar_stream_from(&child, ChainId::EMPTY_LAYER)
            .expect("a diff against the empty layer"),
    );
    let names: Vec<String> = ::tar::Archive::new(&diff[..])
        .entries()
        .expect("a tar")
        .map(|e| {
            e.expect("an entry")
                .path()
                .expect("a path")
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["a"]);

    // The registered empty layer has no parent: a generated diff against anything is refused.
    let err = fx
        .store
        .tar_stream_from(&layer, child.chain_id())
        .expect_err("not a parent");
    assert!(matches!(err, Error::NotAParent { .. }), "{err}");

    // The child holds the empty layer: both go with the child's last reference.
    assert!(fx.store.release(layer).expect("releasing").is_empty());
    let removed = fx.store.release(child).expect("releasing");
    let removed: Vec<ChainId> = removed.iter().map(|m| m.chain_id).collect();
    assert_eq!(removed.last(), Some(&ChainId::EMPTY_LAYER));
    assert!(fx.driver_dirs().is_empty());
}

driver_tests!(
    the_empty_tar_registers_as_the_empty_layer,
    a_registered_layer_has_its_ids_files_and_exact_tar,
    a_child_layer_applies_whiteouts_over_its_parent,
    references_count_and_release_removes_child_first,
    a_known_diff_id_skips_reading_an_existing_layer,
    a_wrong_diff_id_leaves_nothing_behind,
    hostile_tars_are_refused_and_leave_nothing_behind,
    changed_files_on_disk_fail_the_tar_stream,
    reopening_restores_layers_and_their_references,
    interrupted_work_is_cleaned_at_open,
    chains_stop_at_the_maximum_depth,
    read_write_layers_sit_on_a_chain,
);

fn odd_tars_reproduce_exactly(fx: Fixture) {
    let cases = [
        // The same path twice: the last one wins on disk.
        "t.addfile(info('f', b'first'), io.BytesIO(b'first'))\n\
         t.addfile(info('f', b'second!'), io.BytesIO(b'second!'))",
        // A file removed by a whiteout later in the same layer.
        "t.addfile(info('d/x', b'data'), io.BytesIO(b'data'))\n\
         t.addfile(info('d/.wh.x', b''), io.BytesIO(b''))",
        // A directory with a file, replaced by a file.
        "t.addfile(info('d/x', b'inner'), io.BytesIO(b'inner'))\n\
         t.addfile(info('d', b'now a file'), io.BytesIO(b'now a file'))",
        // A whiteout that carries data.
        "t.addfile(info('.wh.ghost', b'boo'), io.BytesIO(b'boo'))",
        // Trailing garbage after the end-of-archive blocks.
        "t.addfile(info('g', b'g'), io.BytesIO(b'g'))\n\
         t.close(); buf.write(b'trailing garbage'); t = tarfile.open(fileobj=io.BytesIO(), mode='w')",
    ];
    for body in cases {
        let tar = python_tar(body);
        let layer = fx.store.register(&tar[..], None).expect(body);
        let rebuilt = read_all(fx.store.tar_stream(&layer).expect("a stream"));
        assert!(rebuilt == tar, "not reproduced exactly: {body}");
        fx.store.release(layer).expect("releasing");
    }
}

driver_tests!(odd_tars_reproduce_exactly);

fn concurrent_registrations_of_one_layer_share_it(fx: Fixture) {
    let tar = tar_of(&[("a", "1"), ("b/c", "2")]);
    let layers: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| fx.store.register(&tar[..], None).expect("registering")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("the thread finishes"))
            .collect()
    });
    assert_eq!(layers[0].chain_id(), layers[1].chain_id());
    assert_eq!(fx.driver_dirs().len(), 1, "one copy is kept");
    assert_eq!(
        fs::read_dir(fx.layerdb().join("tmp"))
            .expect("list")
            .count(),
        0
    );
    let mut layers = layers.into_iter();
    let first = layers.next().expect("two layers");
    let second = layers.next().expect("two layers");
    assert!(
        fx.store.release(first).expect("releasing").is_empty(),
        "two references"
    );
    assert_eq!(fx.store.release(second).expect("releasing").len(), 1);

    // Another store on the same root (as another process would be) finds the same layer.
    let layer = fx.store.register(&tar[..], None).expect("registering");
    let other = crate::support::open(fx.dir.path(), fx.kind).expect("a second store");
    let found = other
        .register(&tar[..], None)
        .expect("registering in the other store");
    assert_eq!(found.chain_id(), layer.chain_id());
    assert_eq!(fx.driver_dirs().len(), 1);

    // Two stores (as two processes would have) registering a new layer at the same time:
    // one copy survives, nothing is left half-done.
    let other_tar = tar_of(&[("x", "1"), ("y/z", "2")]);
    let stores = [
        crate::support::open(fx.dir.path(), fx.kind).expect("a store"),
        crate::support::open(fx.dir.path(), fx.kind).expect("another store"),
    ];
    let ids: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = stores
            .iter()
            .map(|store| {
                scope.spawn(|| {
                    store
                        .register(&other_tar[..], None)
                        .expect("registering")
                        .chain_id()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("the thread finishes"))
            .collect()
    });
    assert_eq!(ids[0], ids[1]);
    assert_eq!(fx.driver_dirs().len(), 2, "one copy of each layer");
    assert_eq!(
        fs::read_dir(fx.layerdb().join("tmp"))
            .expect("list")
            .count(),
        0
    );
}

driver_tests!(concurrent_registrations_of_one_layer_share_it);

fn read_write_changes_export_as_a_layer(fx: Fixture) {
    use imgsvc_layerstore::{Change, ChangeKind};
    use std::path::PathBuf;

    let base = fx
        .store
        .register(
            &tar_of(&[
                ("etc/", ""),
                ("etc/keep", "k"),
                ("etc/edit", "old"),
                ("etc/gone", "g"),
            ])[..],
            None,
        )
        .expect("base");
    let rw = fx
        .store
        .create_rw_layer("c1", Some(base.chain_id()), RwLayerOptions::default())
        .expect("a read-write layer");
    let root = fx.store.mount(&rw).expect("mounting");
    fs::write(root.join("etc/edit"), "new content").expect("editing");
    fs::remove_file(root.join("etc/gone")).expect("deleting");
    fs::create_dir(root.join("data")).expect("mkdir");
    fs::write(root.join("data/new"), "fresh").expect("adding");

    let changes = fx.store.rw_changes(&rw).expect("changes");
    let change = |path: &str, kind| Change {
        path: PathBuf::from(path),
        kind,
    };
    for expected in [
        change("/etc/edit", ChangeKind::Modify),
        change("/etc/gone", ChangeKind::Delete),
        change("/data", ChangeKind::Add),
        change("/data/new", ChangeKind::Add),
    ] {
        assert!(
            changes.contains(&expected),
            "{expected:?} missing from {changes:?}"
        );
    }
    assert!(
        !changes
            .iter()
            .any(|c| c.path.as_path() == std::path::Path::new("/etc/keep")),
        "{changes:?}"
    );
    assert!(fx.store.rw_size(&rw).expect("size") >= 16);

    // The exported changes, registered on the base, give the read-write layer's tree.
    let exported = read_all(fx.store.rw_tar_stream(&rw).expect("a diff stream"));
    fx.store.unmount(&rw).expect("unmounting");
    let committed = fx
        .store
        .register(&exported[..], Some(base.chain_id()))
        .expect("committing");
    fx.with_tree(&committed, |tree| {
        assert_eq!(
            fs::read(tree.join("etc/edit")).expect("read"),
            b"new content"
        );
        assert_eq!(fs::read(tree.join("data/new")).expect("read"), b"fresh");
        assert!(tree.join("etc/keep").exists());
        assert!(!tree.join("etc/gone").exists());
    });

    // A generated diff against an ancestor; a non-ancestor is refused.
    let diff = read_all(
        fx.store
            .tar_stream_from(&committed, base.chain_id())
            .expect("a diff"),
    );
    assert!(!diff.is_empty());
    let err = fx
        .store
        .tar_stream_from(&base, committed.chain_id())
        .expect_err("not a parent");
    assert!(matches!(err, Error::NotAParent { .. }), "{err}");
    fx.store.release_rw_layer(rw).expect("releasing");
}

driver_tests!(read_write_changes_export_as_a_layer);

/// `rm -rf dir && mkdir dir` in a container: overlayfs marks the new directory opaque. Its
/// changes say what was below is gone, and the exported tar, registered on the base, gives
/// exactly the container's directory (nothing of the old contents shows through).
fn an_emptied_and_refilled_directory_exports_its_new_contents_only(fx: Fixture) {
    use imgsvc_layerstore::{Change, ChangeKind};
    use std::path::PathBuf;

    let base = fx
        .store
        .register(
            &tar_of(&[
                ("dir/", ""),
                ("dir/a", "1"),
                ("dir/sub/", ""),
                ("dir/sub/b", "2"),
            ])[..],
            None,
        )
        .expect("base");
    let rw = fx
        .store
        .create_rw_layer("c1", Some(base.chain_id()), RwLayerOptions::default())
        .expect("a read-write layer");
    let root = fx.store.mount(&rw).expect("mounting");
    fs::remove_dir_all(root.join("dir")).expect("rm -rf dir");
    fs::create_dir(root.join("dir")).expect("mkdir dir");
    fs::write(root.join("dir/c"), "3").expect("a new file");
    fs::write(root.join("dir/a"), "new a").expect("an old name, new content");

    let changes = fx.store.rw_changes(&rw).expect("changes");
    let has = |path: &str, kind| {
        changes.contains(&Change {
            path: PathBuf::from(path),
            kind,
        })
    };
    assert!(has("/dir/c", ChangeKind::Add), "{changes:?}");
    // overlay2 reports the opaque directory as deleted (Docker's words); vfs, comparing
    // trees, reports each old entry deleted.
    assert!(has("/dir/a", ChangeKind::Modify), "{changes:?}");
    match fx.kind {
        Kind::Overlay2 => assert!(has("/dir", ChangeKind::Delete), "{changes:?}"),
        Kind::Vfs => assert!(has("/dir/sub", ChangeKind::Delete), "{changes:?}"),
    }

    let exported = read_all(fx.store.rw_tar_stream(&rw).expect("a diff stream"));
    fx.store.unmount(&rw).expect("unmounting");
    let (entries, modes): (Vec<String>, Vec<u32>) = ::tar::Archive::new(&exported[..])
        .entries()
        .expect("a tar")
        .map(|e| {
            let e = e.expect("an entry");
            let path = e.path().expect("a path").display().to_string();
            (path, e.header().mode().expect("a mode"))
        })
        .unzip();
    let position = |name: &str| entries.iter().position(|e| e == name);
    match fx.kind {
        // As Docker's overlay diff writes it: the directory, its opaque marker (a regular
        // file with the directory's permissions), then the directory's new contents.
        Kind::Overlay2 => {
            let dir = position("dir").expect("the directory entry");
            let marker = position("dir/.wh..wh..opq").expect("the opaque marker");
            let c = position("dir/c").expect("the new file");
            assert!(dir < marker && marker < c, "{entries:?}");
            assert_eq!(modes[marker], modes[dir] & 0o777, "modes: {modes:?}");
            assert!(position("dir/.wh.sub").is_none(), "{entries:?}");
        }
        // As Docker's naive diff writes it: a whiteout for each old entry that is gone.
        Kind::Vfs => {
            assert!(position("dir/.wh.sub").is_some(), "{entries:?}");
            assert!(position("dir/.wh..wh..opq").is_none(), "{entries:?}");
        }
    }
    assert!(position("dir/a").is_some(), "{entries:?}");
    let committed = fx
        .store
        .register(&exported[..], Some(base.chain_id()))
        .expect("committing");
    fx.with_tree(&committed, |tree| {
        let mut names: Vec<String> = fs::read_dir(tree.join("dir"))
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(fs::read(tree.join("dir/a")).expect("read"), b"new a");
        assert_eq!(fs::read(tree.join("dir/c")).expect("read"), b"3");
    });
    fx.store.release_rw_layer(rw).expect("releasing");
}

driver_tests!(an_emptied_and_refilled_directory_exports_its_new_contents_only);
