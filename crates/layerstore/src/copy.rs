//! Copying a layer's directory tree exactly: contents (shared with reflinks or copied in the
//! kernel where the filesystem allows), hardlinks, symlinks, devices, FIFOs, modes including
//! setuid bits, ownership, extended attributes and timestamps. The vfs driver builds each
//! layer as a copy of its parent.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use rustix::fs::{AtFlags, CWD, FileType, Gid, Mode, Timespec, Timestamps, Uid};

use crate::Error;

/// Copies the tree at `from` into `to`, which must not exist yet.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<(), Error> {
    let mut links = HashMap::new();
    copy_entry(from, to, &mut links)
}

/// Copies one entry (recursively for directories); `links` maps (device, inode) of files with
/// several links to the first copy made, so hardlinks stay hardlinks.
fn copy_entry(
    from: &Path,
    to: &Path,
    links: &mut HashMap<(u64, u64), std::path::PathBuf>,
) -> Result<(), Error> {
    let meta = fs::symlink_metadata(from).map_err(Error::io("inspect", from))?;
    let file_type = meta.file_type();
    if !file_type.is_dir() && meta.nlink() > 1 {
        if let Some(first) = links.get(&(meta.dev(), meta.ino())) {
            return fs::hard_link(first, to).map_err(Error::io("link", to));
        }
        links.insert((meta.dev(), meta.ino()), to.to_owned());
    }
    if file_type.is_dir() {
        fs::create_dir(to).map_err(Error::io("create", to))?;
        for entry in fs::read_dir(from).map_err(Error::io("list", from))? {
            let entry = entry.map_err(Error::io("list", from))?;
            copy_entry(&entry.path(), &to.join(entry.file_name()), links)?;
        }
    } else if file_type.is_file() {
        copy_file(from, to, &meta)?;
    } else if file_type.is_symlink() {
        let target = fs::read_link(from).map_err(Error::io("read the link", from))?;
        std::os::unix::fs::symlink(&target, to).map_err(Error::io("create", to))?;
    } else {
        // Character and block devices, FIFOs and sockets.
        let kind = FileType::from_raw_mode(meta.mode());
        rustix::fs::mknodat(
            CWD,
            to,
            kind,
            Mode::from_raw_mode(meta.mode() & 0o7777),
            meta.rdev(),
        )
        .map_err(|err| Error::io("create", to)(err.into()))?;
    }
    copy_metadata(from, to, &meta)
}

/// Copies a regular file's contents: a reflink when the filesystem shares extents, else
/// `copy_file_range` (no copy through user space), else a plain copy.
fn copy_file(from: &Path, to: &Path, meta: &fs::Metadata) -> Result<(), Error> {
    let source = File::open(from).map_err(Error::io("open", from))?;
    let target = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(Error::io("create", to))?;
    if rustix::fs::ioctl_ficlone(&target, &source).is_ok() {
        return Ok(());
    }
    let mut remaining = meta.len();
    while remaining > 0 {
        let chunk = usize::try_from(remaining.min(1 << 30)).unwrap_or(1 << 30);
        match rustix::fs::copy_file_range(&source, None, &target, None, chunk) {
            Ok(0) => break, // the file shrank while we copied: keep what there was
            Ok(n) => remaining = remaining.saturating_sub(n as u64),
            Err(_) if remaining == meta.len() => {
                // Not supported here (e.g. across filesystems on old kernels): plain copy.
                let mut source = &source;
                let mut target = &target;
                io::copy(&mut source, &mut target).map_err(Error::io("copy", from))?;
                return Ok(());
            }
            Err(err) => return Err(Error::io("copy", from)(err.into())),
        }
    }
    Ok(())
}

/// Copies ownership, extended attributes, mode and times, in the order that keeps setuid
/// bits (chown clears them, so chmod comes after).
fn copy_metadata(from: &Path, to: &Path, meta: &fs::Metadata) -> Result<(), Error> {
    let is_symlink = meta.file_type().is_symlink();
    match rustix::fs::chownat(
        CWD,
        to,
        Some(Uid::from_raw(meta.uid())),
        Some(Gid::from_raw(meta.gid())),
        AtFlags::SYMLINK_NOFOLLOW,
    ) {
        Ok(()) => {}
        // Without privileges the copy stays owned by us, as an unprivileged copy must.
        Err(rustix::io::Errno::PERM) => {}
        Err(err) => return Err(Error::io("change the owner of", to)(err.into())),
    }
    copy_xattrs(from, to)?;
    if !is_symlink {
        fs::set_permissions(to, fs::Permissions::from_mode(meta.mode() & 0o7777))
            .map_err(Error::io("change the mode of", to))?;
    }
    let times = Timestamps {
        last_access: Timespec {
            tv_sec: meta.atime(),
            tv_nsec: meta.atime_nsec(),
        },
        last_modification: Timespec {
            tv_sec: meta.mtime(),
            tv_nsec: meta.mtime_nsec(),
        },
    };
    rustix::fs::utimensat(CWD, to, &times, AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|err| Error::io("set the times of", to)(err.into()))
}

/// Copies every extended attribute the source has; a filesystem without them is fine.
fn copy_xattrs(from: &Path, to: &Path) -> Result<(), Error> {
    let mut names = vec![0u8; 4096];
    let len = match rustix::fs::llistxattr(from, &mut names[..]) {
        Ok(len) => len,
        Err(rustix::io::Errno::NOTSUP) => return Ok(()),
        Err(rustix::io::Errno::RANGE) => {
            let needed = rustix::fs::llistxattr(from, &mut [0u8; 0][..])
                .map_err(|err| Error::io("list the attributes of", from)(err.into()))?;
            names.resize(needed, 0);
            rustix::fs::llistxattr(from, &mut names[..])
                .map_err(|err| Error::io("list the attributes of", from)(err.into()))?
        }
        Err(err) => return Err(Error::io("list the attributes of", from)(err.into())),
    };
    for name in names.get(..len).unwrap_or_default().split(|&b| b == 0) {
        if name.is_empty() {
            continue;
        }
        let mut value = vec![0u8; 4096];
        let size = match rustix::fs::lgetxattr(from, name, &mut value[..]) {
            Ok(size) => size,
            Err(rustix::io::Errno::RANGE) => {
                let needed = rustix::fs::lgetxattr(from, name, &mut [0u8; 0][..])
                    .map_err(|err| Error::io("read the attributes of", from)(err.into()))?;
                value.resize(needed, 0);
                rustix::fs::lgetxattr(from, name, &mut value[..])
                    .map_err(|err| Error::io("read the attributes of", from)(err.into()))?
            }
            Err(rustix::io::Errno::NODATA) => continue, // removed meanwhile
            Err(err) => return Err(Error::io("read the attributes of", from)(err.into())),
        };
        let value = value.get(..size).unwrap_or_default();
        match rustix::fs::lsetxattr(to, name, value, rustix::fs::XattrFlags::empty()) {
            Ok(()) => {}
            // Some attributes need privileges or are not supported by the target filesystem;
            // Docker tolerates these too.
            Err(rustix::io::Errno::PERM | rustix::io::Errno::NOTSUP) => {}
            Err(err) => return Err(Error::io("set the attributes of", to)(err.into())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(path: &Path) -> fs::Metadata {
        fs::symlink_metadata(path).expect("the entry exists")
    }

    #[test]
    fn a_copy_keeps_every_kind_of_entry_and_its_metadata() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let src = dir.path().join("src");
        fs::create_dir_all(src.join("sub/deeper")).expect("mkdir");
        fs::write(src.join("sub/file"), b"content").expect("write");
        fs::write(src.join("empty"), b"").expect("write");
        fs::hard_link(src.join("sub/file"), src.join("link")).expect("hardlink");
        std::os::unix::fs::symlink("../outside/target", src.join("sub/sym")).expect("symlink");
        rustix::fs::mknodat(
            CWD,
            src.join("fifo"),
            FileType::Fifo,
            Mode::from_raw_mode(0o640),
            0,
        )
        .expect("mkfifo");
        fs::set_permissions(src.join("sub/file"), fs::Permissions::from_mode(0o4755))
            .expect("chmod");
        let xattr = rustix::fs::lsetxattr(
            src.join("empty"),
            "user.imgsvc",
            b"value",
            rustix::fs::XattrFlags::empty(),
        );
        let times = Timestamps {
            last_access: Timespec {
                tv_sec: 1_000_000,
                tv_nsec: 5,
            },
            last_modification: Timespec {
                tv_sec: 2_000_000,
                tv_nsec: 7,
            },
        };
        rustix::fs::utimensat(CWD, src.join("sub"), &times, AtFlags::empty()).expect("utimes");

        let dst = dir.path().join("dst");
        copy_tree(&src, &dst).expect("copying");

        assert_eq!(fs::read(dst.join("sub/file")).expect("read"), b"content");
        assert_eq!(meta(&dst.join("sub/file")).mode() & 0o7777, 0o4755);
        assert_eq!(
            meta(&dst.join("sub/file")).ino(),
            meta(&dst.join("link")).ino()
        );
        assert_ne!(
            meta(&dst.join("sub/file")).ino(),
            meta(&src.join("sub/file")).ino()
        );
        assert_eq!(
            fs::read_link(dst.join("sub/sym")).expect("readlink"),
            Path::new("../outside/target")
        );
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(
            &meta(&dst.join("fifo")).file_type()
        ));
        assert_eq!(meta(&dst.join("fifo")).mode() & 0o777, 0o640);
        assert_eq!(meta(&dst.join("sub")).mtime(), 2_000_000);
        assert_eq!(meta(&dst.join("sub")).mtime_nsec(), 7);
        assert!(meta(&dst.join("sub/deeper")).is_dir());
        if xattr.is_ok() {
            let mut value = [0u8; 16];
            let n = rustix::fs::lgetxattr(dst.join("empty"), "user.imgsvc", &mut value[..])
                .expect("the attribute was copied");
            assert_eq!(&value[..n], b"value");
        }
    }
}
