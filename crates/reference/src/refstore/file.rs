//! The `repositories.json` file: its model, loading with precise errors, atomic saving, the
//! lock that serializes writers, and the stamp that tells when another process changed it.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use imgsvc_digest::Digest;
use serde::{Deserialize, Serialize};

use super::Error;

/// The file's content: repository (familiar name) -> reference (familiar string) -> image ID.
///
/// Keys are kept as text, so an entry this version cannot parse survives a rewrite.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Repositories {
    #[serde(rename = "Repositories")]
    pub(crate) repositories: BTreeMap<String, BTreeMap<String, Digest>>,
}

/// What identifies one version of the file: each save renames a new file into place, so the
/// inode changes with every write; size and modification time catch in-place edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
}

/// The file's current stamp.
pub(crate) fn stamp(path: &Path) -> Result<Stamp, Error> {
    let meta = fs::metadata(path).map_err(Error::io("inspect", path))?;
    Ok(Stamp {
        dev: meta.dev(),
        ino: meta.ino(),
        len: meta.len(),
        mtime: meta.mtime(),
        mtime_nsec: meta.mtime_nsec(),
    })
}

/// Reads and parses the file; the stamp is taken before reading, so a change racing with the
/// read is seen as a change next time.
pub(crate) fn load(path: &Path) -> Result<(Repositories, Stamp), Error> {
    let stamp = stamp(path)?;
    // A tag store is a small document (about 150 bytes a tag): read whole, parsed fast.
    let bytes = fs::read(path).map_err(Error::io("read", path))?;
    let repositories = serde_json::from_slice(&bytes).map_err(|err| Error::Corrupt {
        path: path.to_owned(),
        line: err.line(),
        column: err.column(),
        message: describe(&err),
    })?;
    Ok((repositories, stamp))
}

/// A serde_json error's message without its " at line L column C" suffix (we say that).
fn describe(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text.get(..at).unwrap_or_default().to_owned(),
        None => text,
    }
}

/// Writes the file atomically: a temporary file in the same directory, fsync, rename over
/// the old file, fsync of the directory. A crash leaves the old file or the new one.
pub(crate) fn save(path: &Path, repositories: &Repositories) -> Result<Stamp, Error> {
    let dir = parent(path);
    let tmp = temporary_path(path);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(Error::io("create", &tmp))?;
    let bytes = serde_json::to_vec(repositories).map_err(|err| Error::Io {
        action: "encode",
        path: tmp.clone(),
        source: err.into(),
    })?;
    (&file)
        .write_all(&bytes)
        .map_err(Error::io("write", &tmp))?;
    file.sync_all().map_err(Error::io("sync", &tmp))?;
    drop(file);
    fs::rename(&tmp, path).map_err(Error::io("replace", path))?;
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("sync", &dir))?;
    stamp(path)
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// `<file>.tmp` beside the file; only the lock holder writes it.
fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".tmp");
    path.with_file_name(name)
}

/// An exclusive lock on `<file>.lock`, held until dropped. Writers in any process take it, so
/// changes are serialized and none is lost; readers do not need it, since every version of
/// the file is complete.
pub(crate) struct Lock {
    file: File,
}

impl Lock {
    /// Blocks until the lock is held.
    pub(crate) fn acquire(path: &Path) -> Result<Lock, Error> {
        let lock_path = lock_path(path);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(Error::io("open the lock file", &lock_path))?;
        file.lock().map_err(Error::io("lock", &lock_path))?;
        Ok(Lock { file })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Closing the file would release the lock too; unlocking first says so plainly.
        let _ = self.file.unlock();
    }
}

/// `<file>.lock` beside the file.
fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".lock");
    path.with_file_name(name)
}

/// Writes the empty store, `{"Repositories":{}}`, if no file exists yet (under the lock).
pub(crate) fn create_if_missing(path: &Path) -> Result<(), Error> {
    match fs::metadata(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            save(path, &Repositories::default()).map(|_| ())
        }
        Err(err) => Err(Error::io("inspect", path)(err)),
    }
}

/// Writes `bytes` to `path` as they are; tests use it to plant damaged files.
#[cfg(test)]
pub(crate) fn write_raw(path: &Path, bytes: &[u8]) {
    let mut file = File::create(path).expect("creating a test file");
    file.write_all(bytes).expect("writing a test file");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_dockers() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("repositories.json");
        let mut repos = Repositories::default();
        let id = Digest::from_bytes(b"image");
        repos
            .repositories
            .entry("busybox".into())
            .or_default()
            .insert("busybox:latest".into(), id);
        save(&path, &repos).expect("saving");
        let text = fs::read_to_string(&path).expect("reading back");
        assert_eq!(
            text,
            format!(r#"{{"Repositories":{{"busybox":{{"busybox:latest":"{id}"}}}}}}"#)
        );
        let mode = fs::metadata(&path).expect("stat").mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load(&path).expect("loading").0, repos);
    }

    #[test]
    fn corruption_names_the_file_and_position() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("repositories.json");
        write_raw(
            &path,
            b"{\"Repositories\":{\"a\":{\"a:1\":\"sha256:abc\"}}}",
        );
        match load(&path) {
            Err(Error::Corrupt {
                path: p,
                line: 1,
                column,
                message,
            }) => {
                assert_eq!(p, path);
                assert!(column > 20, "{column}");
                assert!(
                    message.contains("invalid checksum digest length"),
                    "{message}"
                );
            }
            other => panic!("expected a corrupt-file error, got {other:?}"),
        }
    }
}
