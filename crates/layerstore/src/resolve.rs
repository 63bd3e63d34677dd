//! Path handling for untrusted layer tars: cleaning entry names, and opening directories
//! inside a layer root so that nothing — `..`, absolute names, symlinks pointing anywhere —
//! can reach outside it.
//!
//! Every file operation of an applier happens relative to a directory descriptor obtained
//! here, on a single name component, without following a final symlink. Directories are
//! resolved with `openat2(RESOLVE_IN_ROOT)`: the kernel treats the layer root as `/` for the
//! whole lookup, so an absolute symlink or a `..` that would leave the root stays inside it,
//! as if the layer were the whole filesystem (the way the image sees it when it runs).

use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// A cleaned, local entry name: its components, none empty, `.` or `..`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct LocalPath {
    components: Vec<Vec<u8>>,
}

impl LocalPath {
    /// Cleans a tar entry name or hardlink target like Docker: a leading `/` is dropped,
    /// `.` and empty components vanish, `..` removes the previous component. `Ok(None)` for
    /// the root itself; `Err(())` when the name climbs out of the root.
    pub(crate) fn clean(name: &[u8]) -> Result<Option<LocalPath>, ()> {
        if name.contains(&0) {
            return Err(());
        }
        let mut components: Vec<Vec<u8>> = Vec::new();
        for part in name.split(|&c| c == b'/') {
            match part {
                b"" | b"." => {}
                b".." => {
                    if components.pop().is_none() {
                        return Err(());
                    }
                }
                _ => components.push(part.to_vec()),
            }
        }
        Ok((!components.is_empty()).then_some(LocalPath { components }))
    }

    /// The last component.
    pub(crate) fn base(&self) -> &[u8] {
        self.components
            .last()
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The components before the last.
    pub(crate) fn parent(&self) -> &[Vec<u8>] {
        self.components
            .split_last()
            .map(|(_, parent)| parent)
            .unwrap_or_default()
    }

    /// The path as bytes, components joined by `/`.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        self.components.join(&b'/')
    }

    /// The path of `name` in the same directory.
    pub(crate) fn sibling(&self, name: &[u8]) -> LocalPath {
        let mut components = self.parent().to_vec();
        components.push(name.to_vec());
        LocalPath { components }
    }
}

/// Opens the directory `components` inside `root` (all of them, resolved in the root).
pub(crate) fn open_dir_in(root: &OwnedFd, components: &[Vec<u8>]) -> Result<OwnedFd, Errno> {
    if components.is_empty() {
        return rustix::fs::openat(
            root,
            c".",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        );
    }
    rustix::fs::openat2(
        root,
        components.join(&b'/'),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}

/// Opens the directory `components` inside `root`, creating missing directories (mode 0755)
/// along the way, as Docker does for an entry whose parents the tar does not list.
pub(crate) fn create_dirs_in(root: &OwnedFd, components: &[Vec<u8>]) -> Result<OwnedFd, Errno> {
    match open_dir_in(root, components) {
        Err(Errno::NOENT) => {}
        other => return other,
    }
    let mut current = open_dir_in(root, &[])?;
    for depth in 1..=components.len() {
        let prefix = components.get(..depth).unwrap_or_default();
        current = match open_dir_in(root, prefix) {
            Ok(dir) => dir,
            Err(Errno::NOENT) => {
                let name = prefix.last().map(Vec::as_slice).unwrap_or_default();
                match rustix::fs::mkdirat(current.as_fd(), name, Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(err) => return Err(err),
                }
                open_dir_in(root, prefix)?
            }
            Err(err) => return Err(err),
        };
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(name: &str) -> Result<Option<String>, ()> {
        LocalPath::clean(name.as_bytes())
            .map(|p| p.map(|p| String::from_utf8_lossy(&p.to_bytes()).into_owned()))
    }

    #[test]
    fn names_are_cleaned_like_dockers() {
        assert_eq!(clean("a/b"), Ok(Some("a/b".into())));
        assert_eq!(clean("/a//b/./c/"), Ok(Some("a/b/c".into())));
        assert_eq!(clean("a/../b"), Ok(Some("b".into())));
        assert_eq!(clean("./"), Ok(None));
        assert_eq!(clean("/"), Ok(None));
        assert_eq!(clean(".."), Err(()));
        assert_eq!(clean("a/../../b"), Err(()));
        assert_eq!(clean("/../etc/passwd"), Err(()));
        assert_eq!(clean("a\0b"), Err(()));
    }

    #[test]
    fn symlinks_cannot_lead_out_of_the_root() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root_path = dir.path().join("root");
        std::fs::create_dir(&root_path).expect("mkdir");
        std::os::unix::fs::symlink("/", root_path.join("abs")).expect("symlink");
        std::os::unix::fs::symlink("../..", root_path.join("up")).expect("symlink");
        let root = rustix::fs::open(&root_path, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
            .expect("open the root");
        let created = create_dirs_in(&root, &[b"abs".to_vec(), b"x".to_vec()]).expect("mkdir");
        drop(created);
        let created = create_dirs_in(&root, &[b"up".to_vec(), b"y".to_vec()]).expect("mkdir");
        drop(created);
        // Both symlinks resolved to the layer root itself.
        assert!(root_path.join("x").is_dir());
        assert!(root_path.join("y").is_dir());
        assert!(!dir.path().join("y").exists());
    }
}
