//! Snapshots of directory trees, for comparing an unpacked root filesystem with a reference
//! one (`umoci unpack`): kinds, permission bits, owners, contents, link targets and which
//! files are hard links of each other. Times are left out (tools set them differently).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

/// One path of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Node {
    /// A directory.
    Dir {
        /// Permission bits (with setuid/setgid/sticky).
        mode: u32,
        /// `(uid, gid)`.
        owner: (u32, u32),
    },
    /// A regular file.
    File {
        /// Permission bits.
        mode: u32,
        /// `(uid, gid)`.
        owner: (u32, u32),
        /// The SHA-256 digest of the contents.
        digest: imgsvc_digest::Digest,
        /// The first path (in sorted order) of its hard-link group, when it has other names.
        linked_to: Option<PathBuf>,
    },
    /// A symbolic link.
    Symlink {
        /// Its target, as stored.
        target: PathBuf,
        /// `(uid, gid)`.
        owner: (u32, u32),
    },
    /// Anything else (device, fifo, socket), by its file type bits.
    Special {
        /// `st_mode` (type and permission bits).
        mode: u32,
        /// `st_rdev`.
        rdev: u64,
    },
}

/// Every path under a root (relative; the root itself left out).
///
/// ```
/// use imgsvc_testkit::tree::Tree;
///
/// let a = tempfile::tempdir()?;
/// let b = tempfile::tempdir()?;
/// for dir in [a.path(), b.path()] {
///     std::fs::write(dir.join("file"), b"same")?;
///     std::os::unix::fs::symlink("file", dir.join("link"))?;
/// }
/// assert!(Tree::snapshot(a.path())?.differences(&Tree::snapshot(b.path())?).is_empty());
/// std::fs::write(b.path().join("file"), b"other")?;
/// let diff = Tree::snapshot(a.path())?.differences(&Tree::snapshot(b.path())?);
/// assert_eq!(diff.len(), 1);
/// assert!(diff[0].starts_with("file:"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tree {
    nodes: BTreeMap<PathBuf, Node>,
}

impl Tree {
    /// Walks `root` (not following symlinks), hashing file contents as it goes.
    pub fn snapshot(root: &Path) -> io::Result<Tree> {
        let mut nodes = BTreeMap::new();
        let mut inodes: HashMap<(u64, u64), Vec<PathBuf>> = HashMap::new();
        let mut pending = vec![PathBuf::new()];
        while let Some(rel) = pending.pop() {
            for entry in fs::read_dir(root.join(&rel))? {
                let entry = entry?;
                let path = rel.join(entry.file_name());
                let meta = fs::symlink_metadata(entry.path())?;
                let owner = (meta.uid(), meta.gid());
                let mode = meta.mode() & 0o7777;
                let file_type = meta.file_type();
                let node = if file_type.is_dir() {
                    pending.push(path.clone());
                    Node::Dir { mode, owner }
                } else if file_type.is_symlink() {
                    Node::Symlink {
                        target: fs::read_link(entry.path())?,
                        owner,
                    }
                } else if file_type.is_file() {
                    if meta.nlink() > 1 {
                        inodes
                            .entry((meta.dev(), meta.ino()))
                            .or_default()
                            .push(path.clone());
                    }
                    let (digest, _) =
                        imgsvc_digest::Digest::from_reader(fs::File::open(entry.path())?)?;
                    Node::File {
                        mode,
                        owner,
                        digest,
                        linked_to: None,
                    }
                } else {
                    Node::Special {
                        mode: meta.mode(),
                        rdev: meta.rdev(),
                    }
                };
                nodes.insert(path, node);
            }
        }
        for mut group in inodes.into_values() {
            if group.len() < 2 {
                continue;
            }
            group.sort();
            let first = group.first().cloned();
            for path in &group {
                if let Some(Node::File { linked_to, .. }) = nodes.get_mut(path) {
                    *linked_to = first.clone();
                }
            }
        }
        Ok(Tree { nodes })
    }

    /// The nodes, by relative path.
    pub fn nodes(&self) -> &BTreeMap<PathBuf, Node> {
        &self.nodes
    }

    /// One line per path that differs (`path: ours … theirs …`), empty when equal.
    pub fn differences(&self, other: &Tree) -> Vec<String> {
        let mut out = Vec::new();
        for (path, node) in &self.nodes {
            match other.nodes.get(path) {
                None => out.push(format!(
                    "{}: only in the first tree ({node:?})",
                    path.display()
                )),
                Some(theirs) if theirs != node => {
                    out.push(format!("{}: {node:?} vs {theirs:?}", path.display()));
                }
                Some(_) => {}
            }
        }
        for (path, node) in &other.nodes {
            if !self.nodes.contains_key(path) {
                out.push(format!(
                    "{}: only in the second tree ({node:?})",
                    path.display()
                ));
            }
        }
        out
    }
}
