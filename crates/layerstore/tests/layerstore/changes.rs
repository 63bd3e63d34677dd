//! A layer's changes and their tar, checked by what matters to `docker commit`: the exported
//! tar, registered on the layer below, gives exactly the tree the container saw. Directories
//! emptied and refilled are the hard case: overlayfs marks them opaque, and a naive driver
//! sees each old entry deleted instead.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use imgsvc_layerstore::{Change, ChangeKind, RwLayerOptions};

use crate::support::{Fixture, Kind, driver_tests, tar_of};

/// One path of a tree, as far as a commit must keep it (times aside: a tar keeps whole
/// seconds, and a directory's time changes as it is filled).
#[derive(Debug, PartialEq, Eq)]
enum Node {
    Dir {
        mode: u32,
        owner: (u32, u32),
    },
    File {
        mode: u32,
        owner: (u32, u32),
        data: Vec<u8>,
    },
    Symlink {
        target: PathBuf,
        owner: (u32, u32),
    },
}

/// Every path under `root` (relative, `root` itself left out) with what it is.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Node> {
    let mut tree = BTreeMap::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        for entry in fs::read_dir(root.join(&rel)).expect("listing a directory of the tree") {
            let entry = entry.expect("a directory entry");
            let path = rel.join(entry.file_name());
            let meta = fs::symlink_metadata(entry.path()).expect("lstat");
            let owner = (meta.uid(), meta.gid());
            let mode = meta.permissions().mode() & 0o7777;
            let node = if meta.is_dir() {
                pending.push(path.clone());
                Node::Dir { mode, owner }
            } else if meta.is_symlink() {
                let target = fs::read_link(entry.path()).expect("readlink");
                Node::Symlink { target, owner }
            } else {
                assert!(meta.is_file(), "{} is a plain file", path.display());
                let data = fs::read(entry.path()).expect("reading a file of the tree");
                Node::File { mode, owner, data }
            };
            tree.insert(path, node);
        }
    }
    tree
}

fn read_all(mut reader: impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .expect("the stream reads to its end");
    out
}

fn entry_names(tar: &[u8]) -> Vec<String> {
    ::tar::Archive::new(tar)
        .entries()
        .expect("a tar")
        .map(|e| {
            let e = e.expect("an entry");
            e.path().expect("a path").display().to_string()
        })
        .collect()
}

/// A container on a two-layer image replaces directories wholesale (the overlayfs cases
/// that make a directory opaque: a directory removed and made again, empty, with new
/// contents, with new subdirectories, over a file), replaces a directory by a file, and adds
/// a symlink. Its exported changes, registered on the image, give the container's tree.
fn replaced_directories_commit_to_the_containers_tree(fx: Fixture) {
    let base = fx
        .store
        .register(
            &tar_of(&[
                ("dir/", ""),
                ("dir/a", "1"),
                ("dir/sub/", ""),
                ("dir/sub/b", "2"),
                ("deep/one/z", "z"),
                ("emptied/x", "x"),
                ("was_file", "f"),
                ("was_dir/y", "y"),
                ("untouched/u", "u"),
            ])[..],
            None,
        )
        .expect("base");
    // The second layer adds to the same directories, so an opaque one hides two layers.
    let image = fx
        .store
        .register(
            &tar_of(&[("dir/from_second", "s"), ("emptied/x2", "x2")])[..],
            Some(base.chain_id()),
        )
        .expect("second layer");
    let rw = fx
        .store
        .create_rw_layer("c1", Some(image.chain_id()), RwLayerOptions::default())
        .expect("a read-write layer");
    let root = fx.store.mount(&rw).expect("mounting");

    fs::remove_dir_all(root.join("dir")).expect("rm -rf dir");
    fs::create_dir(root.join("dir")).expect("mkdir dir");
    fs::write(root.join("dir/a"), "new a").expect("an old name, new content");
    fs::write(root.join("dir/c"), "3").expect("a new file");
    fs::remove_dir_all(root.join("deep")).expect("rm -rf deep");
    fs::create_dir_all(root.join("deep/one/two")).expect("mkdir -p deep/one/two");
    fs::write(root.join("deep/one/two/w"), "w").expect("a file deep in the new tree");
    fs::remove_dir_all(root.join("emptied")).expect("rm -rf emptied");
    fs::create_dir(root.join("emptied")).expect("mkdir emptied");
    fs::set_permissions(root.join("emptied"), fs::Permissions::from_mode(0o700))
        .expect("chmod 700 emptied");
    fs::remove_file(root.join("was_file")).expect("rm was_file");
    fs::create_dir(root.join("was_file")).expect("mkdir was_file");
    fs::write(root.join("was_file/inner"), "i").expect("a file in it");
    fs::remove_dir_all(root.join("was_dir")).expect("rm -rf was_dir");
    fs::write(root.join("was_dir"), "now a file").expect("a file where a directory was");
    std::os::unix::fs::symlink("dir/c", root.join("link")).expect("ln -s");
    let container_tree = snapshot(&root);

    let changes = fx.store.rw_changes(&rw).expect("changes");
    let has = |path: &str, kind| {
        changes.contains(&Change {
            path: PathBuf::from(path),
            kind,
        })
    };
    assert!(has("/dir/c", ChangeKind::Add), "{changes:?}");
    assert!(has("/dir/a", ChangeKind::Modify), "{changes:?}");
    assert!(has("/link", ChangeKind::Add), "{changes:?}");
    assert!(
        !changes.iter().any(|c| c.path.starts_with("/untouched")),
        "{changes:?}"
    );
    let exported = read_all(fx.store.rw_tar_stream(&rw).expect("a diff stream"));
    let names = entry_names(&exported);
    match fx.kind {
        // Each directory overlayfs made opaque over something below is reported deleted (as
        // Docker reports it) and exported as itself plus an opaque marker.
        Kind::Overlay2 => {
            for dir in ["dir", "deep", "emptied", "was_file"] {
                assert!(has(&format!("/{dir}"), ChangeKind::Delete), "{changes:?}");
                let marker = format!("{dir}/.wh..wh..opq");
                assert!(names.contains(&marker), "{marker} in {names:?}");
            }
            assert!(!has("/dir/sub", ChangeKind::Delete), "{changes:?}");
        }
        // Comparing trees, each old entry that is gone is deleted, one by one.
        Kind::Vfs => {
            for gone in ["/dir/sub", "/dir/from_second", "/emptied/x", "/emptied/x2"] {
                assert!(has(gone, ChangeKind::Delete), "{gone} in {changes:?}");
            }
            assert!(
                !names.iter().any(|n| n.ends_with(".wh..wh..opq")),
                "{names:?}"
            );
        }
    }
    fx.store.unmount(&rw).expect("unmounting");

    let committed = fx
        .store
        .register(&exported[..], Some(image.chain_id()))
        .expect("committing the exported changes");
    fx.with_tree(&committed, |tree| {
        assert_eq!(snapshot(tree), container_tree);
    });
    fx.store.release_rw_layer(rw).expect("releasing");
}

/// A registered layer with an opaque marker, diffed against its parent (Docker's
/// `TarStreamFrom`): the generated tar, registered on the parent, gives the layer's tree.
fn a_generated_diff_keeps_an_opaque_directory_opaque(fx: Fixture) {
    let base = fx
        .store
        .register(
            &tar_of(&[("dir/", ""), ("dir/old", "o"), ("dir/sub/deeper", "d")])[..],
            None,
        )
        .expect("base");
    let child = fx
        .store
        .register(
            &tar_of(&[("dir/", ""), ("dir/.wh..wh..opq", ""), ("dir/new", "n")])[..],
            Some(base.chain_id()),
        )
        .expect("a layer that empties dir");
    let mut child_tree = BTreeMap::new();
    fx.with_tree(&child, |tree| child_tree = snapshot(tree));
    assert!(child_tree.contains_key(Path::new("dir/new")));
    assert!(!child_tree.contains_key(Path::new("dir/old")));

    let diff = read_all(
        fx.store
            .tar_stream_from(&child, base.chain_id())
            .expect("a generated diff"),
    );
    let names = entry_names(&diff);
    match fx.kind {
        Kind::Overlay2 => assert!(names.contains(&"dir/.wh..wh..opq".to_owned()), "{names:?}"),
        Kind::Vfs => {
            assert!(names.contains(&"dir/.wh.old".to_owned()), "{names:?}");
            assert!(names.contains(&"dir/.wh.sub".to_owned()), "{names:?}");
        }
    }
    let again = fx
        .store
        .register(&diff[..], Some(base.chain_id()))
        .expect("registering the generated diff");
    fx.with_tree(&again, |tree| assert_eq!(snapshot(tree), child_tree));
}

driver_tests!(
    replaced_directories_commit_to_the_containers_tree,
    a_generated_diff_keeps_an_opaque_directory_opaque,
);
