//! Applying a layer's tar entries to a directory, with Docker's whiteout rules.
//!
//! Two modes, as Docker's drivers use them:
//! - [`Whiteouts::Delete`] (the vfs driver, onto a full copy of the parent): `.wh.<name>`
//!   deletes `<name>`, `.wh..wh..opq` empties its directory of everything the layer did not
//!   itself add; no whiteout file is written.
//! - [`Whiteouts::Overlay`] (overlay2, into an empty `diff` directory): `.wh.<name>` becomes a
//!   0/0 character device named `<name>`, and `.wh..wh..opq` sets the opaque xattr on its
//!   directory, as overlayfs expects.
//!
//! Entry names are cleaned and must stay inside the layer; all writes go through directory
//! descriptors resolved inside the layer root ([`crate::resolve`]), on single name components,
//! without following a final symlink.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, Timespec, Timestamps, Uid};
use rustix::io::Errno;

use crate::file_writer::{FileWriter, Finish, PIECE};
use crate::resolve::{LocalPath, create_dirs_in, open_dir_in};

/// The prefix of a whiteout file's name.
pub(crate) const WHITEOUT_PREFIX: &[u8] = b".wh.";
/// The prefix of whiteout metadata (AUFS) names.
pub(crate) const WHITEOUT_META_PREFIX: &[u8] = b".wh..wh.";
/// The name of the marker that makes its directory opaque.
pub(crate) const WHITEOUT_OPAQUE: &[u8] = b".wh..wh..opq";

/// How whiteout entries are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Whiteouts {
    /// Delete what they hide (a full root filesystem, as vfs keeps).
    Delete,
    /// Convert to overlayfs whiteouts; the opaque mark is the named xattr
    /// (`trusted.overlay.opaque`, or `user.overlay.opaque` for unprivileged mounts).
    Overlay {
        /// The xattr that marks a directory opaque.
        opaque_xattr: &'static str,
    },
}

pub(crate) use crate::tar::Kind;

/// One tar entry's header, as the appliers need it.
#[derive(Debug, Clone)]
pub(crate) struct Item<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) kind: Kind,
    pub(crate) mode: u32,
    pub(crate) uid: u64,
    pub(crate) gid: u64,
    pub(crate) mtime: (i64, u32),
    pub(crate) atime: Option<(i64, u32)>,
    pub(crate) link: &'a [u8],
    pub(crate) device: (u64, u64),
    pub(crate) xattrs: &'a [(Vec<u8>, Vec<u8>)],
    /// The size recorded in the header (Docker's layer size is the sum of these).
    pub(crate) size: u64,
    /// For a sparse file: where its data goes, and its full size.
    pub(crate) sparse: Option<&'a crate::tar::Sparse>,
}

/// Why an entry could not be applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
///
/// ```
/// # let root = tempfile::tempdir()?;
/// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
/// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
/// use imgsvc_layerstore::{ApplyError, Error};
/// // An entry that climbs out of the layer is refused, and nothing is registered.
/// let mut builder = tar::Builder::new(Vec::new());
/// let mut header = tar::Header::new_gnu();
/// header.as_gnu_mut().ok_or("a GNU header")?.name[..9].copy_from_slice(b"../escape");
/// header.set_size(0);
/// header.set_mode(0o644);
/// header.set_cksum();
/// builder.append(&header, &[][..])?;
/// let err = store.register(&builder.into_inner()?[..], None).err().ok_or("refused")?;
/// assert!(matches!(err, Error::Apply(ApplyError::Breakout { .. })), "{err}");
/// assert!(store.map().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub enum ApplyError {
    /// The entry's name leaves the layer (`..` past the root) or holds a NUL byte.
    #[error("invalid entry name {name:?}: it points outside the layer")]
    Breakout {
        /// The name as written in the tar.
        name: String,
    },
    /// A hardlink's target leaves the layer.
    #[error("invalid hardlink target {target:?} for {name:?}: it points outside the layer")]
    HardlinkBreakout {
        /// The entry's name.
        name: String,
        /// The target as written in the tar.
        target: String,
    },
    /// A whiteout entry with no name to hide (`.wh.`, `.wh..`, `.wh...`).
    #[error("invalid whiteout entry {name:?}")]
    InvalidWhiteout {
        /// The entry's name.
        name: String,
    },
    /// A device node needs privileges this process does not have.
    #[error("cannot create device node {name:?} without privileges (run as root)")]
    DeviceNotPermitted {
        /// The entry's name.
        name: String,
    },
    /// A device number does not fit the kernel's 32-bit major and minor.
    #[error("device number {major}:{minor} for {name:?} out of range")]
    DeviceOutOfRange {
        /// The entry's name.
        name: String,
        /// The major number.
        major: u64,
        /// The minor number.
        minor: u64,
    },
    /// A tar entry type that a layer cannot hold.
    #[error("unhandled tar header type {kind:?} for {name:?}")]
    UnhandledType {
        /// The entry's name.
        name: String,
        /// The type flag.
        kind: char,
    },
    /// A filesystem operation failed.
    #[error("cannot {action} {name:?} in the layer: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The entry's name.
        name: String,
        /// The operating system's error.
        source: io::Error,
    },
}

fn lossy(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

fn io_err<'a>(action: &'static str, name: &'a [u8]) -> impl FnOnce(Errno) -> ApplyError + 'a {
    move |errno| ApplyError::Io {
        action,
        name: lossy(name),
        source: errno.into(),
    }
}

/// Applies entries, one by one, to a layer directory.
pub(crate) struct Applier {
    root: OwnedFd,
    whiteouts: Whiteouts,
    privileged: bool,
    /// Paths this layer created, which an opaque marker keeps.
    unpacked: HashSet<Vec<u8>>,
    /// Directory times, applied at the end so later entries do not disturb them.
    dir_times: Vec<(LocalPath, Timestamps)>,
    size: u64,
    /// Where the data of entries that do not survive on disk under their own name is kept,
    /// so the layer's tar can still be reproduced exactly (see [`Applier::with_stash`]).
    stash: Option<PathBuf>,
    /// The ordinal the next entry with data gets (its place among entries with data).
    next_ordinal: u64,
    /// Files written by this layer, by (device, inode), with their entry's ordinal.
    written: HashMap<(u64, u64), u64>,
    /// The directory of the previous entry: most entries share it, and a cached descriptor
    /// saves resolving the path again. Dropped whenever anything is removed, since only a
    /// removal can change what a path resolves to.
    parent_cache: Option<(Vec<Vec<u8>>, OwnedFd)>,
    /// Set when the current entry removed something (the cache must not be kept).
    tree_changed: bool,
    /// Writes regular files' data and metadata on a second thread.
    files: FileWriter,
}

impl Applier {
    /// An applier writing into the directory `root`.
    pub(crate) fn new(root: &Path, whiteouts: Whiteouts) -> Result<Applier, ApplyError> {
        let root_fd = rustix::fs::open(
            root,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| ApplyError::Io {
            action: "open the layer directory",
            name: root.display().to_string(),
            source: errno.into(),
        })?;
        Ok(Applier {
            root: root_fd,
            whiteouts,
            privileged: rustix::process::geteuid().is_root(),
            unpacked: HashSet::new(),
            dir_times: Vec::new(),
            size: 0,
            stash: None,
            next_ordinal: 0,
            written: HashMap::new(),
            parent_cache: None,
            tree_changed: false,
            files: FileWriter::default(),
        })
    }

    /// Keeps, under `dir/<ordinal>`, the data of every entry with data that does not end up
    /// on disk under its own name: entries this layer later overwrites or deletes (duplicate
    /// paths, a whiteout of its own file, a directory replaced by a file), and entries with
    /// data that are not written as files (whiteouts or links carrying data). `<ordinal>` is
    /// the entry's place among the entries with data, which is also the order in which tar
    /// reproduction asks for file contents.
    pub(crate) fn with_stash(mut self, dir: PathBuf) -> Applier {
        self.stash = Some(dir);
        self
    }

    /// Applies one entry; `body` yields its content (regular files only).
    pub(crate) fn apply(&mut self, item: &Item<'_>, body: &mut dyn Read) -> Result<(), ApplyError> {
        self.size = self.size.saturating_add(item.size);
        let ordinal = (item.size > 0).then(|| {
            self.next_ordinal += 1;
            self.next_ordinal - 1
        });
        if !self.apply_entry(item, body, ordinal)?
            && let Some(ordinal) = ordinal
        {
            // The entry's data is not on disk under its name: keep it for reproduction.
            self.stash_body(ordinal, body)?;
        }
        Ok(())
    }

    /// Applies one entry; says whether its data went to a file under its own name.
    fn apply_entry(
        &mut self,
        item: &Item<'_>,
        body: &mut dyn Read,
        ordinal: Option<u64>,
    ) -> Result<bool, ApplyError> {
        if item.kind == Kind::PaxGlobal {
            return Ok(false);
        }
        let path = match LocalPath::clean(item.name) {
            Ok(Some(path)) => path,
            Ok(None) => return Ok(false), // the root itself
            Err(()) => {
                return Err(ApplyError::Breakout {
                    name: lossy(item.name),
                });
            }
        };
        let whole = path.to_bytes();
        if whole.starts_with(WHITEOUT_META_PREFIX) && whole != WHITEOUT_OPAQUE {
            // AUFS metadata (`.wh..wh.plnk`, `.wh..wh.aufs`): not part of the image.
            return Ok(false);
        }
        let parent = match self.parent_cache.take() {
            Some((components, fd)) if components == path.parent() => fd,
            _ => create_dirs_in(&self.root, path.parent())
                .map_err(io_err("create the parent directories of", item.name))?,
        };
        let written = self.apply_in(&path, &parent, item, body, ordinal)?;
        if self.parent_cache.is_none() && !self.tree_changed {
            self.parent_cache = Some((path.parent().to_vec(), parent));
        }
        self.tree_changed = false;
        Ok(written)
    }

    /// Applies an entry inside its (open) parent directory.
    fn apply_in(
        &mut self,
        path: &LocalPath,
        parent: &OwnedFd,
        item: &Item<'_>,
        body: &mut dyn Read,
        ordinal: Option<u64>,
    ) -> Result<bool, ApplyError> {
        let whole = path.to_bytes();
        let base = path.base();
        if let Some(hidden) = base.strip_prefix(WHITEOUT_PREFIX) {
            self.whiteout(path, parent, hidden, item)?;
            return Ok(false);
        }

        // Replace whatever is there, unless a directory meets a directory. Files and
        // directories (nearly every entry) try to create first and look only on a clash.
        if !matches!(item.kind, Kind::Regular | Kind::Directory) {
            match rustix::fs::statat(parent, base, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(_) => {
                    self.files.barrier()?;
                    self.remove_keeping(parent, base)
                        .map_err(io_err("replace", item.name))?;
                }
                Err(Errno::NOENT) => {}
                Err(err) => return Err(io_err("inspect", item.name)(err)),
            }
        }

        let mut is_link_to_symlink = false;
        let mut metadata_set = false;
        match item.kind {
            Kind::Directory => {
                match rustix::fs::mkdirat(parent, base, Mode::from_raw_mode(0o755)) {
                    Ok(()) => {}
                    Err(Errno::EXIST) => {
                        let stat = rustix::fs::statat(parent, base, AtFlags::SYMLINK_NOFOLLOW)
                            .map_err(io_err("inspect", item.name))?;
                        if FileType::from_raw_mode(stat.st_mode) != FileType::Directory {
                            self.files.barrier()?;
                            self.remove_keeping(parent, base)
                                .map_err(io_err("replace", item.name))?;
                            rustix::fs::mkdirat(parent, base, Mode::from_raw_mode(0o755))
                                .map_err(io_err("create the directory", item.name))?;
                        }
                    }
                    Err(err) => return Err(io_err("create the directory", item.name)(err)),
                }
            }
            Kind::Regular => metadata_set = self.write_file(parent, base, item, body, ordinal)?,
            Kind::Hardlink => is_link_to_symlink = self.hardlink(parent, base, item)?,
            Kind::Symlink => rustix::fs::symlinkat(item.link, parent, base)
                .map_err(io_err("create the symlink", item.name))?,
            Kind::Char | Kind::Block => self.device(parent, base, item)?,
            Kind::Fifo => rustix::fs::mknodat(
                parent,
                base,
                FileType::Fifo,
                Mode::from_raw_mode(item.mode & 0o7777),
                0,
            )
            .map_err(io_err("create the FIFO", item.name))?,
            Kind::PaxGlobal => {}
            Kind::Other(flag) => {
                return Err(ApplyError::UnhandledType {
                    name: lossy(item.name),
                    kind: char::from(flag),
                });
            }
        }
        if !metadata_set {
            self.set_metadata(parent, base, path, item, is_link_to_symlink)?;
        }
        self.unpacked.insert(whole);
        Ok(item.kind == Kind::Regular)
    }

    /// Finishes: applies directory times and returns the layer size (sum of header sizes).
    pub(crate) fn finish(mut self) -> Result<u64, ApplyError> {
        self.files.stop()?;
        for (path, times) in self.dir_times.iter().rev() {
            let Ok(parent) = open_dir_in(&self.root, path.parent()) else {
                continue; // removed by a later entry
            };
            match rustix::fs::utimensat(&parent, path.base(), times, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(()) | Err(Errno::NOENT) => {}
                Err(err) => return Err(io_err("set the times of", path.base())(err)),
            }
        }
        Ok(self.size)
    }

    fn whiteout(
        &mut self,
        path: &LocalPath,
        parent: &OwnedFd,
        hidden: &[u8],
        item: &Item<'_>,
    ) -> Result<(), ApplyError> {
        let opaque = path.base() == WHITEOUT_OPAQUE;
        if !opaque && (hidden.is_empty() || hidden == b"." || hidden == b"..") {
            return Err(ApplyError::InvalidWhiteout {
                name: lossy(item.name),
            });
        }
        // What a whiteout removes or stashes must be completely written first.
        self.files.barrier()?;
        match self.whiteouts {
            Whiteouts::Delete if opaque => {
                let dir_path = path.to_bytes();
                let dir_prefix = dir_path
                    .get(..dir_path.len().saturating_sub(WHITEOUT_OPAQUE.len()))
                    .unwrap_or_default();
                let (_, names) = open_and_list(parent, b".").map_err(io_err("list", item.name))?;
                let doomed: Vec<Vec<u8>> = names
                    .into_iter()
                    .filter(|name| !self.unpacked.contains(&[dir_prefix, name].concat()))
                    .collect();
                for name in doomed {
                    self.remove_keeping(parent, &name)
                        .map_err(io_err("remove", item.name))?;
                }
                Ok(())
            }
            Whiteouts::Delete => self
                .remove_keeping(parent, hidden)
                .map_err(io_err("remove", item.name)),
            Whiteouts::Overlay { opaque_xattr } if opaque => {
                let dir = rustix::fs::openat(
                    parent,
                    c".",
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(io_err("open", item.name))?;
                rustix::fs::fsetxattr(&dir, opaque_xattr, b"y", rustix::fs::XattrFlags::empty())
                    .map_err(io_err("mark opaque", item.name))
            }
            Whiteouts::Overlay { .. } => {
                match rustix::fs::statat(parent, hidden, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(_) => self
                        .remove_keeping(parent, hidden)
                        .map_err(io_err("replace", item.name))?,
                    Err(Errno::NOENT) => {}
                    Err(err) => return Err(io_err("inspect", item.name)(err)),
                }
                rustix::fs::mknodat(parent, hidden, FileType::CharacterDevice, Mode::empty(), 0)
                    .map_err(io_err("create the whiteout", item.name))?;
                if item.uid != 0 || item.gid != 0 {
                    chown_at(parent, hidden, item).map_err(io_err("chown", item.name))?;
                }
                self.unpacked.insert(path.sibling(hidden).to_bytes());
                Ok(())
            }
        }
    }

    /// Creates and writes a regular file; says whether its metadata is taken care of (it is
    /// when the file went to the writer thread).
    fn write_file(
        &mut self,
        parent: &OwnedFd,
        base: &[u8],
        item: &Item<'_>,
        body: &mut dyn Read,
        ordinal: Option<u64>,
    ) -> Result<bool, ApplyError> {
        let create = || {
            rustix::fs::openat(
                parent,
                base,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )
        };
        let fd = match create() {
            Err(Errno::EXIST) => {
                self.files.barrier()?;
                self.remove_keeping(parent, base)
                    .map_err(io_err("replace", item.name))?;
                create()
            }
            other => other,
        }
        .map_err(io_err("create", item.name))?;
        if let Some(ordinal) = ordinal
            && self.stash.is_some()
        {
            let stat = rustix::fs::fstat(&fd).map_err(io_err("inspect", item.name))?;
            self.written.insert((stat.st_dev, stat.st_ino), ordinal);
        }
        let mut file = File::from(fd);
        if let Some(sparse) = item.sparse {
            write_sparse(body, &mut file, sparse).map_err(|source| ApplyError::Io {
                action: "write",
                name: lossy(item.name),
                source,
            })?;
            return Ok(false);
        }
        let owner = if self.privileged {
            let (Ok(uid), Ok(gid)) = (u32::try_from(item.uid), u32::try_from(item.gid)) else {
                return Err(io_err("chown", item.name)(Errno::INVAL));
            };
            Some((uid, gid))
        } else {
            None
        };
        let finish = Finish {
            name: item.name.to_vec(),
            owner,
            mode: item.mode,
            xattrs: item.xattrs.to_vec(),
            times: timestamps(item),
        };
        // The data goes over in pieces, read here (the tar is read on this thread).
        let mut remaining = item.size;
        let mut start = Some((file, finish));
        loop {
            let want = remaining.min(PIECE as u64);
            let mut data = Vec::with_capacity(usize::try_from(want).unwrap_or(PIECE));
            (&mut *body)
                .take(want)
                .read_to_end(&mut data)
                .map_err(|source| ApplyError::Io {
                    action: "write",
                    name: lossy(item.name),
                    source,
                })?;
            let got = data.len() as u64;
            remaining -= got.min(remaining);
            // A body shorter than its header says ends here (the tar reader reports why).
            let last = remaining == 0 || got < want;
            match start.take() {
                Some((file, finish)) => self.files.start(file, finish, data, last)?,
                None => self.files.more(data, last)?,
            }
            if last {
                return Ok(true);
            }
        }
    }

    /// Creates a hardlink; says whether its target is a symlink (whose metadata is not
    /// touched through the link).
    fn hardlink(
        &mut self,
        parent: &OwnedFd,
        base: &[u8],
        item: &Item<'_>,
    ) -> Result<bool, ApplyError> {
        let target = match LocalPath::clean(item.link) {
            Ok(Some(target)) => target,
            _ => {
                return Err(ApplyError::HardlinkBreakout {
                    name: lossy(item.name),
                    target: lossy(item.link),
                });
            }
        };
        // The target must be finished before it gets a second name (whose metadata is set
        // after it, on the same inode).
        self.files.barrier()?;
        let target_dir = open_dir_in(&self.root, target.parent())
            .map_err(io_err("find the hardlink target of", item.name))?;
        let stat = rustix::fs::statat(&target_dir, target.base(), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(io_err("find the hardlink target of", item.name))?;
        rustix::fs::linkat(&target_dir, target.base(), parent, base, AtFlags::empty())
            .map_err(io_err("create the hardlink", item.name))?;
        Ok(FileType::from_raw_mode(stat.st_mode) == FileType::Symlink)
    }

    fn device(&mut self, parent: &OwnedFd, base: &[u8], item: &Item<'_>) -> Result<(), ApplyError> {
        let (major, minor) = item.device;
        let (Ok(major32), Ok(minor32)) = (u32::try_from(major), u32::try_from(minor)) else {
            return Err(ApplyError::DeviceOutOfRange {
                name: lossy(item.name),
                major,
                minor,
            });
        };
        if !self.privileged {
            return Err(ApplyError::DeviceNotPermitted {
                name: lossy(item.name),
            });
        }
        let kind = if item.kind == Kind::Char {
            FileType::CharacterDevice
        } else {
            FileType::BlockDevice
        };
        rustix::fs::mknodat(
            parent,
            base,
            kind,
            Mode::from_raw_mode(item.mode & 0o7777),
            rustix::fs::makedev(major32, minor32),
        )
        .map_err(io_err("create the device", item.name))
    }

    /// Removes `name` in `dir` (recursively), first stashing the data of any file this layer
    /// wrote there, so the layer's tar can still be reproduced.
    fn remove_keeping(&mut self, dir: &OwnedFd, name: &[u8]) -> Result<(), Errno> {
        self.tree_changed = true;
        self.parent_cache = None;
        if self.stash.is_none() || self.written.is_empty() {
            return remove_all_at(dir, name);
        }
        let stat = match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => stat,
            Err(Errno::NOENT) => return Ok(()),
            Err(err) => return Err(err),
        };
        if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
            let (child, names) = open_and_list(dir, name)?;
            for entry_name in names {
                self.remove_keeping(&child, &entry_name)?;
            }
            return rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR);
        }
        if let Some(ordinal) = self.written.remove(&(stat.st_dev, stat.st_ino)) {
            let source = rustix::fs::openat(
                dir,
                name,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            self.stash_body(ordinal, &mut File::from(source))
                .map_err(|err| match err {
                    ApplyError::Io { source, .. } => {
                        Errno::from_io_error(&source).unwrap_or(Errno::IO)
                    }
                    _ => Errno::IO,
                })?;
        }
        rustix::fs::unlinkat(dir, name, AtFlags::empty())
    }

    /// Writes an entry's data to the stash (when there is one).
    fn stash_body(&mut self, ordinal: u64, body: &mut dyn Read) -> Result<(), ApplyError> {
        let Some(dir) = &self.stash else {
            return Ok(());
        };
        let stash_err = |source: io::Error| ApplyError::Io {
            action: "keep",
            name: format!("entry {ordinal}"),
            source,
        };
        std::fs::create_dir_all(dir).map_err(stash_err)?;
        let mut file = File::create(dir.join(ordinal.to_string())).map_err(stash_err)?;
        copy_body(body, &mut file).map_err(stash_err)?;
        file.sync_all().map_err(stash_err)
    }

    fn set_metadata(
        &mut self,
        parent: &OwnedFd,
        base: &[u8],
        path: &LocalPath,
        item: &Item<'_>,
        is_link_to_symlink: bool,
    ) -> Result<(), ApplyError> {
        if self.privileged {
            chown_at(parent, base, item).map_err(io_err("chown", item.name))?;
        }
        // Through the parent's descriptor, so the path cannot be redirected by a symlink;
        // the final component is not followed.
        let full = fd_path(parent, base);
        for (name, value) in item.xattrs {
            match rustix::fs::lsetxattr(
                &full,
                name.as_slice(),
                value,
                rustix::fs::XattrFlags::empty(),
            ) {
                Ok(()) | Err(Errno::PERM | Errno::NOTSUP) => {}
                Err(err) => return Err(io_err("set extended attributes on", item.name)(err)),
            }
        }
        let is_symlink = item.kind == Kind::Symlink || is_link_to_symlink;
        if !is_symlink {
            rustix::fs::chmodat(
                parent,
                base,
                Mode::from_raw_mode(item.mode & 0o7777),
                AtFlags::empty(),
            )
            .map_err(io_err("chmod", item.name))?;
        }
        let times = timestamps(item);
        if item.kind == Kind::Directory {
            self.dir_times.push((path.clone(), times));
        } else if !is_link_to_symlink {
            rustix::fs::utimensat(parent, base, &times, AtFlags::SYMLINK_NOFOLLOW)
                .map_err(io_err("set the times of", item.name))?;
        }
        Ok(())
    }
}

/// Docker's rule: access time is at least the modification time; times before the epoch
/// become the epoch.
fn timestamps(item: &Item<'_>) -> Timestamps {
    let spec = |(sec, nsec): (i64, u32)| {
        if sec < 0 {
            Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            }
        } else {
            Timespec {
                tv_sec: sec,
                tv_nsec: i64::from(nsec),
            }
        }
    };
    let mtime = spec(item.mtime);
    let atime = item.atime.map(spec).map_or(mtime, |a| {
        if (a.tv_sec, a.tv_nsec) < (mtime.tv_sec, mtime.tv_nsec) {
            mtime
        } else {
            a
        }
    });
    Timestamps {
        last_access: atime,
        last_modification: mtime,
    }
}

fn chown_at(parent: &OwnedFd, base: &[u8], item: &Item<'_>) -> Result<(), Errno> {
    let (Ok(uid), Ok(gid)) = (u32::try_from(item.uid), u32::try_from(item.gid)) else {
        return Err(Errno::INVAL);
    };
    rustix::fs::chownat(
        parent,
        base,
        Some(Uid::from_raw(uid)),
        Some(Gid::from_raw(gid)),
        AtFlags::SYMLINK_NOFOLLOW,
    )
}

/// `/proc/self/fd/<dir>/<name>`: a path to `name` in an open directory, for the calls that
/// only take paths (extended attributes on any kind of file).
fn fd_path(dir: &OwnedFd, name: &[u8]) -> PathBuf {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()))
        .join(std::ffi::OsStr::from_bytes(name))
}

/// Opens the directory `name` in `dir` (not following a symlink) and lists its entries.
fn open_and_list(dir: &OwnedFd, name: &[u8]) -> Result<(OwnedFd, Vec<Vec<u8>>), Errno> {
    let child = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::read_from(&child)? {
        let entry = entry?;
        let entry_name = entry.file_name().to_bytes();
        if entry_name != b"." && entry_name != b".." {
            names.push(entry_name.to_vec());
        }
    }
    Ok((child, names))
}

/// Removes `name` in `dir`, recursively if it is a directory; a missing one is fine.
pub(crate) fn remove_all_at(dir: &OwnedFd, name: &[u8]) -> Result<(), Errno> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => return Ok(()),
        Err(Errno::ISDIR) | Err(Errno::PERM) => {}
        Err(err) => return Err(err),
    }
    let (child, names) = open_and_list(dir, name)?;
    for entry_name in names {
        remove_all_at(&child, &entry_name)?;
    }
    rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)
}

/// Writes a sparse file: each data region at its offset (holes stay holes), then the full
/// length.
fn write_sparse(
    body: &mut dyn Read,
    out: &mut File,
    sparse: &crate::tar::Sparse,
) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    for region in sparse.regions() {
        out.seek(SeekFrom::Start(region.offset))?;
        let copied = copy_body(&mut body.take(region.length), out)?;
        if copied != region.length {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive ended inside a sparse file's data",
            ));
        }
    }
    out.set_len(sparse.real_size())
}

/// Copies a body with a large buffer (bodies are streamed, never held whole).
fn copy_body(body: &mut dyn Read, out: &mut File) -> io::Result<u64> {
    thread_local! {
        // One buffer per applying thread: a fresh zeroed 256 KiB per file would cost more
        // than copying a small file does.
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with(|buffer| match buffer.try_borrow_mut() {
        Ok(mut buffer) => {
            if buffer.is_empty() {
                buffer.resize(256 << 10, 0);
            }
            copy_with(body, out, &mut buffer)
        }
        // Only if a copy were nested in another on this thread.
        Err(_) => copy_with(body, out, &mut vec![0u8; 64 << 10]),
    })
}

/// Copies `body` to `out` through `buffer`.
fn copy_with(body: &mut dyn Read, out: &mut File, buffer: &mut [u8]) -> io::Result<u64> {
    let mut total = 0u64;
    loop {
        let n = match body.read(buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        out.write_all(buffer.get(..n).unwrap_or_default())?;
        total += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};

    use super::*;

    fn item(name: &str, kind: Kind) -> Item<'_> {
        Item {
            name: name.as_bytes(),
            kind,
            mode: if kind == Kind::Directory {
                0o755
            } else {
                0o644
            },
            uid: 0,
            gid: 0,
            mtime: (1_600_000_000, 0),
            atime: None,
            link: b"",
            device: (0, 0),
            xattrs: &[],
            size: 0,
            sparse: None,
        }
    }

    fn file<'a>(name: &'a str, content: &'a [u8]) -> (Item<'a>, &'a [u8]) {
        let mut it = item(name, Kind::Regular);
        it.size = content.len() as u64;
        (it, content)
    }

    fn apply_all(
        root: &Path,
        whiteouts: Whiteouts,
        items: &[(Item<'_>, &[u8])],
    ) -> Result<u64, ApplyError> {
        let mut applier = Applier::new(root, whiteouts)?;
        for (it, body) in items {
            let mut body = *body;
            applier.apply(it, &mut body)?;
        }
        applier.finish()
    }

    fn layer() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path().join("layer");
        fs::create_dir(&root).expect("mkdir");
        (dir, root)
    }

    #[test]
    fn files_directories_and_links_land_in_the_layer() {
        let (_dir, root) = layer();
        let mut link = item("etc/hardlink", Kind::Hardlink);
        link.link = b"/etc/passwd";
        let mut sym = item("etc/sym", Kind::Symlink);
        sym.link = b"/etc/passwd";
        let mut setuid = file("bin/su", b"#!");
        setuid.0.mode = 0o4755;
        let size = apply_all(
            &root,
            Whiteouts::Delete,
            &[
                (item("etc", Kind::Directory), b""),
                file("etc/passwd", b"root:x:0:0"),
                (link, b""),
                (sym, b""),
                setuid,
                (item("deep/er/dir", Kind::Directory), b""),
            ],
        )
        .expect("applying");
        assert_eq!(size, 12);
        assert_eq!(
            fs::read(root.join("etc/passwd")).expect("read"),
            b"root:x:0:0"
        );
        let ino = |p: &str| fs::symlink_metadata(root.join(p)).expect("stat").ino();
        assert_eq!(ino("etc/passwd"), ino("etc/hardlink"));
        assert_eq!(
            fs::read_link(root.join("etc/sym")).expect("readlink"),
            Path::new("/etc/passwd")
        );
        assert_eq!(
            fs::metadata(root.join("bin/su")).expect("stat").mode() & 0o7777,
            0o4755
        );
        assert_eq!(
            fs::metadata(root.join("etc")).expect("stat").mtime(),
            1_600_000_000
        );
        assert!(root.join("deep/er/dir").is_dir());
    }

    #[test]
    fn whiteouts_delete_and_opaque_markers_empty() {
        let (_dir, root) = layer();
        fs::create_dir_all(root.join("keep/sub")).expect("mkdir");
        fs::write(root.join("gone"), b"x").expect("write");
        fs::write(root.join("keep/old"), b"x").expect("write");
        fs::write(root.join("keep/sub/old"), b"x").expect("write");
        apply_all(
            &root,
            Whiteouts::Delete,
            &[
                (item(".wh.gone", Kind::Regular), b""),
                (item("keep", Kind::Directory), b""),
                file("keep/new", b"n"),
                (item("keep/.wh..wh..opq", Kind::Regular), b""),
                (item(".wh.never-existed", Kind::Regular), b""),
            ],
        )
        .expect("applying");
        assert!(!root.join("gone").exists());
        assert!(!root.join(".wh.gone").exists());
        assert!(
            root.join("keep/new").exists(),
            "added by this layer, so kept"
        );
        assert!(!root.join("keep/old").exists());
        assert!(!root.join("keep/sub").exists());
        assert!(!root.join("keep/.wh..wh..opq").exists());
    }

    #[test]
    fn overlay_whiteouts_become_devices_and_xattrs() {
        let (_dir, root) = layer();
        let result = apply_all(
            &root,
            Whiteouts::Overlay {
                opaque_xattr: "trusted.overlay.opaque",
            },
            &[
                (item("dir", Kind::Directory), b""),
                (item("dir/.wh..wh..opq", Kind::Regular), b""),
                (item("dir/.wh.gone", Kind::Regular), b""),
            ],
        );
        if !rustix::process::geteuid().is_root() {
            assert!(result.is_err(), "whiteout devices need root");
            return;
        }
        result.expect("applying as root");
        let meta = fs::symlink_metadata(root.join("dir/gone")).expect("the whiteout exists");
        assert!(meta.file_type().is_char_device());
        assert_eq!(meta.rdev(), 0);
        let mut value = [0u8; 4];
        let n = rustix::fs::lgetxattr(root.join("dir"), "trusted.overlay.opaque", &mut value[..])
            .expect("the opaque mark");
        assert_eq!(&value[..n], b"y");
        for bad in [".wh.", "dir/.wh..", "dir/.wh..."] {
            let err = apply_all(
                &root,
                Whiteouts::Overlay {
                    opaque_xattr: "trusted.overlay.opaque",
                },
                &[(item(bad, Kind::Regular), b"")],
            );
            assert!(err.is_err(), "{bad}");
        }
    }

    #[test]
    fn nothing_is_written_outside_the_layer() {
        let (dir, root) = layer();
        let outside = dir.path();
        let mut up = item("up", Kind::Symlink);
        up.link = b"../..";
        let mut abs = item("abs", Kind::Symlink);
        abs.link = b"/";
        let results = [
            apply_all(&root, Whiteouts::Delete, &[file("../escaped", b"x")]),
            apply_all(&root, Whiteouts::Delete, &[file("a/../../escaped", b"x")]),
            apply_all(
                &root,
                Whiteouts::Delete,
                &[(up, b""), file("up/escaped", b"x")],
            ),
            apply_all(
                &root,
                Whiteouts::Delete,
                &[(abs, b""), file("abs/escaped2", b"x")],
            ),
        ];
        assert!(results[0].is_err());
        assert!(results[1].is_err());
        assert!(results[2].is_ok(), "the symlink resolves inside the layer");
        assert!(results[3].is_ok(), "the symlink resolves inside the layer");
        assert!(!outside.join("escaped").exists());
        assert!(root.join("escaped").exists());
        assert!(root.join("escaped2").exists());

        let mut link = item("stolen", Kind::Hardlink);
        link.link = b"../../etc/passwd";
        let err = apply_all(&root, Whiteouts::Delete, &[(link, b"")]).expect_err("breakout");
        assert!(matches!(err, ApplyError::HardlinkBreakout { .. }), "{err}");
        let mut missing = item("dangling", Kind::Hardlink);
        missing.link = b"nowhere";
        assert!(apply_all(&root, Whiteouts::Delete, &[(missing, b"")]).is_err());

        let mut wh = item(".wh...", Kind::Regular);
        wh.name = b".wh..";
        assert!(apply_all(&root, Whiteouts::Delete, &[(wh, b"")]).is_err());
        assert!(root.exists());
    }

    #[test]
    fn a_file_replaces_a_directory_and_a_directory_merges() {
        let (_dir, root) = layer();
        fs::create_dir_all(root.join("x/inner")).expect("mkdir");
        fs::create_dir_all(root.join("d")).expect("mkdir");
        fs::write(root.join("d/kept"), b"k").expect("write");
        apply_all(
            &root,
            Whiteouts::Delete,
            &[file("x", b"now a file"), (item("d", Kind::Directory), b"")],
        )
        .expect("applying");
        assert_eq!(fs::read(root.join("x")).expect("read"), b"now a file");
        assert!(root.join("d/kept").exists());
    }

    /// Files are written on a second thread: big files in several pieces, and everything
    /// that needs a finished file (a hardlink's own metadata, an overwrite, a whiteout of
    /// it, stashing its data) sees it finished.
    #[test]
    fn files_written_on_the_second_thread_are_finished_when_later_entries_need_them() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, root) = layer();
        let stash = dir.path().join("stash");
        let big: Vec<u8> = (0..3 * PIECE + 17).map(|i| (i % 251) as u8).collect();
        let first: Vec<u8> = (0..2 * PIECE).map(|i| (i % 13) as u8).collect();
        let mut big_item = file("big", &big);
        big_item.0.mode = 0o4750;
        big_item.0.mtime = (1_000_000_000, 5);
        let mut link = item("link", Kind::Hardlink);
        link.link = b"big";
        link.mode = 0o4750;
        link.mtime = (1_000_000_000, 5);
        let items = [
            big_item,
            (link, &b""[..]),
            file("dup", &first),
            file("dup", b"final"),
            file("gone", &big),
            (item(".wh.gone", Kind::Regular), &b""[..]),
        ];
        let mut applier = Applier::new(&root, Whiteouts::Delete)
            .expect("an applier")
            .with_stash(stash.clone());
        for (it, body) in &items {
            let mut body = *body;
            applier.apply(it, &mut body).expect("applying");
        }
        applier.finish().expect("finishing");

        assert_eq!(fs::read(root.join("big")).expect("read"), big);
        let meta = fs::metadata(root.join("link")).expect("stat");
        assert_eq!(meta.permissions().mode() & 0o7777, 0o4750);
        assert_eq!(
            meta.modified().expect("mtime"),
            std::time::UNIX_EPOCH + std::time::Duration::new(1_000_000_000, 5)
        );
        assert_eq!(fs::read(root.join("dup")).expect("read"), b"final");
        assert!(!root.join("gone").exists());
        // Entries with data are numbered 0 (big), 1 (first dup), 2 (final dup), 3 (gone).
        assert_eq!(
            fs::read(stash.join("1")).expect("the first dup, stashed"),
            first
        );
        assert_eq!(
            fs::read(stash.join("3")).expect("the removed file, stashed"),
            big
        );
    }

    #[test]
    fn an_error_on_the_second_thread_is_reported_with_the_name() {
        let (_dir, root) = layer();
        let mut applier = Applier::new(&root, Whiteouts::Delete).expect("an applier");
        // An attribute name longer than the kernel takes fails there (ERANGE), not here.
        let xattrs = [([b"user.".as_slice(), &[b'a'; 300]].concat(), b"v".to_vec())];
        let (mut it, body) = file("odd", b"data");
        it.xattrs = &xattrs;
        let outcome = applier
            .apply(&it, &mut &body[..])
            .and_then(|()| applier.finish());
        let err = outcome.expect_err("an attribute the kernel refuses");
        assert!(err.to_string().contains("\"odd\""), "{err}");
        assert!(err.to_string().contains("extended attributes"), "{err}");
    }
}
