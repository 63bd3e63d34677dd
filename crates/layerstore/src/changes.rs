//! What a layer changed relative to the layers below it, and the tar of those changes (how
//! a read-write layer is exported, Docker's `docker diff` and `docker commit`).

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::Error;

/// How a path changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// The path exists below and was changed.
    Modify,
    /// The path is new.
    Add,
    /// The path was deleted.
    Delete,
}

/// One changed path, written from the layer's root (`/etc/hosts`).
///
/// ```
/// use imgsvc_layerstore::{Change, ChangeKind};
/// let change = Change { path: "/etc/hosts".into(), kind: ChangeKind::Modify };
/// // Changes sort by path, as `docker diff` lists them.
/// let mut changes = vec![change.clone(), Change { path: "/a".into(), kind: ChangeKind::Add }];
/// changes.sort();
/// assert_eq!(changes[1], change);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Change {
    /// The path, starting with `/`.
    pub path: PathBuf,
    /// How it changed.
    pub kind: ChangeKind,
}

/// Compares two full trees (`new` over `old`; no `old` means everything is new), as a naive
/// driver must: a path only in `new` is added, one only in `old` deleted (a deleted directory
/// is reported once), one in both with different type, mode, owner, device, size, time or
/// link target is modified. As Docker does, a directory with changes inside is reported
/// modified too, so that the exported tar carries its permissions.
pub(crate) fn compare_trees(new: &Path, old: Option<&Path>) -> Result<Vec<Change>, Error> {
    let mut changes = Vec::new();
    walk_new(new, old, Path::new("/"), &mut changes)?;
    if let Some(old) = old {
        walk_deleted(new, old, Path::new("/"), &mut changes)?;
    }
    let reported: HashSet<PathBuf> = changes.iter().map(|c| c.path.clone()).collect();
    let parents: BTreeSet<PathBuf> = changes
        .iter()
        .flat_map(|c| c.path.ancestors().skip(1))
        .filter(|dir| *dir != Path::new("/") && !reported.contains(*dir))
        .map(Path::to_path_buf)
        .collect();
    changes.extend(parents.into_iter().map(|path| Change {
        path,
        kind: ChangeKind::Modify,
    }));
    changes.sort();
    Ok(changes)
}

fn walk_new(
    new: &Path,
    old: Option<&Path>,
    rel: &Path,
    out: &mut Vec<Change>,
) -> Result<(), Error> {
    let dir = join(new, rel);
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .map_err(Error::io("list", &dir))?
        .collect::<Result<_, _>>()
        .map_err(Error::io("list", &dir))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = rel.join(entry.file_name());
        let new_meta =
            fs::symlink_metadata(entry.path()).map_err(Error::io("inspect", entry.path()))?;
        let old_meta = old.and_then(|old| fs::symlink_metadata(join(old, &path)).ok());
        match &old_meta {
            None => out.push(Change {
                path: path.clone(),
                kind: ChangeKind::Add,
            }),
            Some(old_meta)
                if differs(
                    &entry.path(),
                    &new_meta,
                    &join(old.unwrap_or(new), &path),
                    old_meta,
                ) =>
            {
                out.push(Change {
                    path: path.clone(),
                    kind: ChangeKind::Modify,
                });
            }
            Some(_) => {}
        }
        if new_meta.is_dir() {
            // Below a new directory everything is new; below an old one, compare.
            let old = old_meta.as_ref().filter(|m| m.is_dir()).and(old);
            walk_new(new, old, &path, out)?;
        }
    }
    Ok(())
}

fn walk_deleted(new: &Path, old: &Path, rel: &Path, out: &mut Vec<Change>) -> Result<(), Error> {
    let dir = join(old, rel);
    for entry in fs::read_dir(&dir).map_err(Error::io("list", &dir))? {
        let entry = entry.map_err(Error::io("list", &dir))?;
        let path = rel.join(entry.file_name());
        match fs::symlink_metadata(join(new, &path)) {
            Err(_) => out.push(Change {
                path,
                kind: ChangeKind::Delete,
            }),
            Ok(meta) if meta.is_dir() && entry.file_type().is_ok_and(|t| t.is_dir()) => {
                walk_deleted(new, old, &path, out)?;
            }
            Ok(_) => {}
        }
    }
    Ok(())
}

fn differs(new_path: &Path, new: &fs::Metadata, old_path: &Path, old: &fs::Metadata) -> bool {
    if new.mode() != old.mode()
        || new.uid() != old.uid()
        || new.gid() != old.gid()
        || new.rdev() != old.rdev()
    {
        return true;
    }
    if new.is_dir() {
        return false;
    }
    // Times compare as Docker compares them: equal, or the same second when one of them has
    // no fraction (a tar keeps whole seconds).
    let same_time = new.mtime() == old.mtime()
        && (new.mtime_nsec() == old.mtime_nsec() || new.mtime_nsec() == 0 || old.mtime_nsec() == 0);
    if new.size() != old.size() || !same_time {
        return true;
    }
    new.file_type().is_symlink() && fs::read_link(new_path).ok() != fs::read_link(old_path).ok()
}

/// Reads an overlay upper directory: a 0/0 character device is a deletion; a directory
/// marked opaque that hides one below is a deletion too (as Docker reports it: what was
/// below is gone, and the directory's entries in the upper layer are its new contents);
/// anything else is an addition, or a modification when `lower` (the merged view below) has
/// the path.
pub(crate) fn overlay_changes(upper: &Path, lower: Option<&Path>) -> Result<Vec<Change>, Error> {
    let mut out = Vec::new();
    let mut pending = vec![PathBuf::from("/")];
    while let Some(rel) = pending.pop() {
        let dir = join(upper, &rel);
        for entry in fs::read_dir(&dir).map_err(Error::io("list", &dir))? {
            let entry = entry.map_err(Error::io("list", &dir))?;
            let path = rel.join(entry.file_name());
            let meta =
                fs::symlink_metadata(entry.path()).map_err(Error::io("inspect", entry.path()))?;
            let below = lower.is_some_and(|lower| fs::symlink_metadata(join(lower, &path)).is_ok());
            let whiteout = meta.file_type().is_char_device() && meta.rdev() == 0;
            let kind = if whiteout || (meta.is_dir() && below && is_opaque(&entry.path())) {
                ChangeKind::Delete
            } else if below {
                ChangeKind::Modify
            } else {
                ChangeKind::Add
            };
            if meta.is_dir() {
                pending.push(path.clone());
            }
            out.push(Change { path, kind });
        }
    }
    out.sort();
    Ok(out)
}

/// Whether overlayfs treats the directory as opaque (hiding everything below it), by either
/// of the attributes it reads (`trusted.` when mounted by root, `user.` otherwise).
fn is_opaque(dir: &Path) -> bool {
    ["trusted.overlay.opaque", "user.overlay.opaque"]
        .iter()
        .any(|name| {
            let mut value = [0u8; 4];
            matches!(rustix::fs::lgetxattr(dir, *name, &mut value), Ok(1) if value[0] == b'y')
        })
}

/// The size of the added and modified regular files under `root`.
pub(crate) fn changes_size(root: &Path, changes: &[Change]) -> u64 {
    changes
        .iter()
        .filter(|c| c.kind != ChangeKind::Delete)
        .filter_map(|c| fs::symlink_metadata(join(root, &c.path)).ok())
        .filter(fs::Metadata::is_file)
        .map(|m| m.len())
        .sum()
}

/// Writes the tar of `changes`, reading added and modified paths from `root`: deletions
/// become `.wh.<name>` whiteout entries, as Docker writes them.
pub(crate) fn export(root: &Path, changes: &[Change], out: &mut dyn Write) -> io::Result<()> {
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    builder.mode(tar::HeaderMode::Complete);
    for change in changes {
        let relative = change.path.strip_prefix("/").unwrap_or(&change.path);
        match change.kind {
            ChangeKind::Delete
                if let Ok(dir) = fs::symlink_metadata(join(root, &change.path))
                    && dir.is_dir() =>
            {
                // A deleted directory that exists again (an opaque one): the directory, then
                // a marker that empties what lies below it; its new entries follow. The
                // marker takes the directory's permissions and owner, as Docker writes it.
                builder.append_path_with_name(join(root, &change.path), relative)?;
                let mut header = tar::Header::new_gnu();
                header.set_size(0);
                header.set_mode(dir.mode() & 0o777);
                header.set_uid(u64::from(dir.uid()));
                header.set_gid(u64::from(dir.gid()));
                header.set_entry_type(tar::EntryType::Regular);
                builder.append_data(&mut header, relative.join(".wh..wh..opq"), io::empty())?;
            }
            ChangeKind::Delete => {
                let name = relative.file_name().unwrap_or_default();
                let mut whiteout = std::ffi::OsString::from(".wh.");
                whiteout.push(name);
                let path = relative.with_file_name(whiteout);
                let mut header = tar::Header::new_gnu();
                header.set_size(0);
                header.set_mode(0);
                header.set_entry_type(tar::EntryType::Regular);
                builder.append_data(&mut header, path, io::empty())?;
            }
            ChangeKind::Add | ChangeKind::Modify => {
                builder.append_path_with_name(join(root, &change.path), relative)?;
            }
        }
    }
    builder.into_inner()?.flush()
}

/// `root` joined with a path written from the layer's root.
fn join(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn change(path: &str, kind: ChangeKind) -> Change {
        Change {
            path: PathBuf::from(path),
            kind,
        }
    }

    /// An upper and a lower tree, each from `(path, content)` pairs (a path ending in `/` is
    /// a directory), with `opaque` directories of the upper one marked by `attr` = `value`.
    fn layers(
        upper: &[&str],
        lower: &[&str],
        opaque: &[&str],
        (attr, value): (&str, &[u8]),
    ) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (tree, paths) in [("upper", upper), ("lower", lower)] {
            let tree = dir.path().join(tree);
            fs::create_dir_all(&tree).expect("mkdir");
            for path in paths {
                let full = tree.join(path.trim_end_matches('/'));
                if path.ends_with('/') {
                    fs::create_dir_all(&full).expect("mkdir");
                } else {
                    fs::create_dir_all(full.parent().expect("a parent")).expect("mkdir");
                    fs::write(&full, path).expect("write");
                }
            }
        }
        for path in opaque {
            let full = dir.path().join("upper").join(path);
            rustix::fs::setxattr(&full, attr, value, rustix::fs::XattrFlags::empty())
                .expect("the temporary filesystem takes user xattrs");
        }
        dir
    }

    fn overlay(dir: &tempfile::TempDir) -> Vec<Change> {
        let root = dir.path();
        overlay_changes(&root.join("upper"), Some(&root.join("lower"))).expect("changes")
    }

    #[test]
    fn an_opaque_directory_over_one_below_is_deleted_by_the_unprivileged_mark_too() {
        let dir = layers(
            &["dir/", "dir/new", "dir/old"],
            &["dir/", "dir/old", "dir/gone/x"],
            &["dir"],
            ("user.overlay.opaque", b"y"),
        );
        assert_eq!(
            overlay(&dir),
            [
                change("/dir", ChangeKind::Delete),
                change("/dir/new", ChangeKind::Add),
                change("/dir/old", ChangeKind::Modify),
            ]
        );
    }

    #[test]
    fn an_opaque_directory_with_nothing_below_is_new() {
        let dir = layers(
            &["fresh/", "fresh/a"],
            &["other"],
            &["fresh"],
            ("user.overlay.opaque", b"y"),
        );
        assert_eq!(
            overlay(&dir),
            [
                change("/fresh", ChangeKind::Add),
                change("/fresh/a", ChangeKind::Add),
            ]
        );
    }

    #[test]
    fn only_the_value_y_makes_a_directory_opaque() {
        let dir = layers(
            &["dir/", "dir/new"],
            &["dir/old"],
            &["dir"],
            ("user.overlay.opaque", b"n"),
        );
        assert_eq!(
            overlay(&dir),
            [
                change("/dir", ChangeKind::Modify),
                change("/dir/new", ChangeKind::Add),
            ]
        );
    }

    /// A deleted directory that exists again is exported as the directory, an opaque marker
    /// with its permissions, then its contents; a deleted path that is gone, as a whiteout.
    #[test]
    fn a_recreated_directory_exports_with_an_opaque_marker() {
        let dir = layers(
            &["dir/", "dir/new"],
            &["dir/old", "gone"],
            &["dir"],
            ("user.overlay.opaque", b"y"),
        );
        let upper = dir.path().join("upper");
        fs::set_permissions(upper.join("dir"), fs::Permissions::from_mode(0o710)).expect("chmod");
        fs::set_permissions(upper.join("dir/new"), fs::Permissions::from_mode(0o640))
            .expect("chmod");
        let mut changes = overlay(&dir);
        changes.push(change("/gone", ChangeKind::Delete));
        changes.sort();
        let mut tar = Vec::new();
        export(&upper, &changes, &mut tar).expect("export");

        let mut entries = Vec::new();
        for entry in tar::Archive::new(&tar[..]).entries().expect("a tar") {
            let entry = entry.expect("an entry");
            let header = entry.header();
            entries.push((
                entry.path().expect("a path").display().to_string(),
                header.entry_type(),
                header.mode().expect("a mode") & 0o7777,
            ));
        }
        assert_eq!(
            entries,
            [
                ("dir".to_owned(), tar::EntryType::Directory, 0o710),
                (
                    "dir/.wh..wh..opq".to_owned(),
                    tar::EntryType::Regular,
                    0o710
                ),
                ("dir/new".to_owned(), tar::EntryType::Regular, 0o640),
                (".wh.gone".to_owned(), tar::EntryType::Regular, 0),
            ]
        );
    }

    /// Both trees under one temporary directory, `new` and `old`, as `layers` makes them, every
    /// file with the same time (a file in both trees is then unchanged).
    fn trees(new: &[&str], old: &[&str]) -> tempfile::TempDir {
        let dir = layers(new, old, &[], ("user.unused", b""));
        for (tree, paths) in [("upper", new), ("lower", old)] {
            for path in paths.iter().filter(|p| !p.ends_with('/')) {
                set_time(
                    &dir.path().join(tree).join(path),
                    std::time::SystemTime::UNIX_EPOCH,
                );
            }
        }
        dir
    }

    fn set_time(file: &Path, time: std::time::SystemTime) {
        fs::File::options()
            .write(true)
            .open(file)
            .and_then(|f| f.set_modified(time))
            .expect("setting a file's time");
    }

    fn naive(dir: &tempfile::TempDir) -> Vec<Change> {
        let root = dir.path();
        compare_trees(&root.join("upper"), Some(&root.join("lower"))).expect("changes")
    }

    /// Docker lists each directory that holds a change as modified (its permissions travel
    /// in the exported tar), but not the root, and not a directory reported already.
    #[test]
    fn directories_holding_changes_are_modified() {
        let dir = trees(
            &["a/b/c/new", "a/b/keep", "d/", "fresh/x", "untouched/u"],
            &["a/b/keep", "a/b/c/", "d/gone", "untouched/u"],
        );
        assert_eq!(
            naive(&dir),
            [
                change("/a", ChangeKind::Modify),
                change("/a/b", ChangeKind::Modify),
                change("/a/b/c", ChangeKind::Modify),
                change("/a/b/c/new", ChangeKind::Add),
                change("/d", ChangeKind::Modify),
                change("/d/gone", ChangeKind::Delete),
                change("/fresh", ChangeKind::Add),
                change("/fresh/x", ChangeKind::Add),
            ]
        );
    }

    /// A tar keeps whole seconds: a time with no fraction matches the same second with one,
    /// as Docker compares them; another second, or two different fractions, do not.
    #[test]
    fn times_match_to_the_second_when_one_has_no_fraction() {
        let at = |secs: u64, nanos: u32| {
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::new(secs, nanos)
        };
        for (old_time, new_time, changed) in [
            (at(100, 0), at(100, 500), false),
            (at(100, 500), at(100, 0), false),
            (at(100, 500), at(100, 500), false),
            (at(100, 500), at(100, 600), true),
            (at(100, 0), at(101, 0), true),
        ] {
            let dir = trees(&["f"], &["f"]);
            for (tree, time) in [("lower", old_time), ("upper", new_time)] {
                set_time(&dir.path().join(tree).join("f"), time);
            }
            let expected = if changed {
                vec![change("/f", ChangeKind::Modify)]
            } else {
                Vec::new()
            };
            assert_eq!(naive(&dir), expected, "{old_time:?} -> {new_time:?}");
        }
    }
}
