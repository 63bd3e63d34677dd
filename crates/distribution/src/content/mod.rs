//! A crash-safe blob store addressed by digest, with resumable ingests and leases, laid out
//! as containerd's local content store (`blobs/<alg>/<hex>`, `ingest/<hash of ref>/`).
//!
//! Content enters through an ingest: a [`Writer`] opened under a ref (a name the caller
//! chooses, such as `manifest-sha256:…`) appends bytes while hashing them, and
//! [`Writer::commit`] makes the blob visible only after its size and digest check out. An
//! interrupted ingest is resumed by opening a writer under the same ref again. Several
//! processes may share one store: an ingest is locked by its writer (`flock`), commits are
//! atomic renames, and [`Lease`]s keep blobs that a running pull still needs safe from
//! [`ContentStore::garbage_collect`].
//!
//! ```
//! use std::io::Write;
//! use imgsvc_distribution::content::{ContentStore, WriterOutcome};
//! use imgsvc_distribution::digest::Digest;
//!
//! let dir = tempfile::tempdir()?;
//! let store = ContentStore::open(dir.path())?;
//! let digest = Digest::from_bytes(b"hello");
//! let WriterOutcome::Writer(mut writer) = store.writer("blob-1", Some(digest), Some(5))? else {
//!     unreachable!("the store is empty");
//! };
//! writer.write_all(b"hello")?;
//! let info = writer.commit(None, None)?;
//! assert_eq!(info.size, 5);
//! assert_eq!(store.read_verified(digest, 1024)?, b"hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod fs;
mod ingest;
mod lease;
mod status;

use std::fs::{File, Permissions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use imgsvc_digest::{Algorithm, Digest, Digester};

use crate::{Error, Object};

pub use ingest::{Writer, WriterOutcome};
pub use lease::{GcOptions, GcOutcome, Lease};
pub use status::Status;

/// Directory of committed blobs, below the store's root.
const BLOBS: &str = "blobs";
/// Directory of ingests, below the store's root.
const INGEST: &str = "ingest";
/// Directory of leases, below the store's root.
const LEASES: &str = "leases";

/// What the store knows about a committed blob.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Info {
    /// The blob's digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// When it was committed (the file's birth time, or its modification time where the
    /// file system does not record births).
    pub created: SystemTime,
}

/// A committed blob opened for reading: a [`File`] with its digest and size.
///
/// The bytes are not verified while read; use [`ContentStore::read_verified`] for small
/// documents or hash while streaming.
#[derive(Debug)]
pub struct Blob {
    file: File,
    digest: Digest,
    size: u64,
}

/// Access
impl Blob {
    /// The blob's digest.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// The blob's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads into `buf` from `offset`, without moving the read position; returns the bytes
    /// read, 0 at the end.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.file.read_at(buf, offset)
    }

    /// The underlying file.
    pub fn into_file(self) -> File {
        self.file
    }
}

impl Read for Blob {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }
}

impl Seek for Blob {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

/// A content store rooted at a directory (`<root>/content` in imgsvc).
///
/// Cheap to clone; every operation goes to the file system, so any number of stores (in
/// this process or others) may be open on one directory.
///
/// ```
/// use imgsvc_distribution::content::ContentStore;
/// use imgsvc_distribution::digest::Digest;
///
/// let dir = tempfile::tempdir()?;
/// let store = ContentStore::open(dir.path())?;
/// assert!(!store.contains(Digest::from_bytes(b"anything")));
/// assert!(store.list()?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ContentStore {
    root: PathBuf,
}

/// Construction
impl ContentStore {
    /// Opens the store at `dir`, creating its directories, and removes what crashed writers
    /// left behind (stale temporary files, half-removed ingests).
    pub fn open(dir: impl Into<PathBuf>) -> Result<ContentStore, Error> {
        let store = ContentStore { root: dir.into() };
        fs::create_dir_all(&store.blob_dir(Algorithm::CANONICAL), 0o755)?;
        for sub in [INGEST, LEASES] {
            fs::create_dir_all(&store.root.join(sub), 0o755)?;
        }
        for algorithm in Algorithm::ALL {
            fs::remove_leftovers(&store.blob_dir(algorithm), fs::STALE_TEMP_AGE)?;
        }
        fs::remove_leftovers(&store.root.join(INGEST), fs::STALE_TEMP_AGE)?;
        fs::remove_leftovers(&store.root.join(LEASES), fs::STALE_TEMP_AGE)?;
        Ok(store)
    }
}

/// Access
impl ContentStore {
    /// The directory the store lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of the blob `digest`, whether or not it exists.
    pub fn blob_path(&self, digest: Digest) -> PathBuf {
        self.blob_dir(digest.algorithm())
            .join(digest.encoded().as_str())
    }

    /// Information about the blob `digest`, or `None` if the store does not have it.
    pub fn try_info(&self, digest: Digest) -> Result<Option<Info>, Error> {
        let path = self.blob_path(digest);
        match std::fs::metadata(&path) {
            Ok(meta) => Ok(Some(Info {
                digest,
                size: meta.len(),
                created: meta
                    .created()
                    .or_else(|_| meta.modified())
                    .map_err(|e| Error::io("read the creation time of", &path, e))?,
            })),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(Error::io("inspect", path, err)),
        }
    }

    /// Information about the blob `digest`; [`Error::ContentNotFound`] if it is missing.
    pub fn info(&self, digest: Digest) -> Result<Info, Error> {
        self.try_info(digest)?
            .ok_or(Error::ContentNotFound { digest })
    }

    /// Whether the store has the blob `digest` (an unreadable store counts as not having it).
    pub fn contains(&self, digest: Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// Opens the blob `digest` for reading; [`Error::ContentNotFound`] if it is missing.
    pub fn blob(&self, digest: Digest) -> Result<Blob, Error> {
        let path = self.blob_path(digest);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(Error::ContentNotFound { digest });
            }
            Err(err) => return Err(Error::io("open", path, err)),
        };
        let size = file
            .metadata()
            .map_err(|e| Error::io("inspect", &path, e))?
            .len();
        Ok(Blob { file, digest, size })
    }

    /// Reads a small blob whole and verifies it: [`Error::TooLarge`] if it has more than
    /// `limit` bytes, [`Error::DigestMismatch`] if the stored bytes no longer hash to
    /// `digest` (the file was damaged after commit).
    pub fn read_verified(&self, digest: Digest, limit: u64) -> Result<Vec<u8>, Error> {
        let blob = self.blob(digest)?;
        let too_large = || Error::TooLarge {
            what: "blob",
            digest: digest.to_string(),
            limit,
        };
        if blob.size > limit {
            return Err(too_large());
        }
        let path = self.blob_path(digest);
        let mut data = Vec::with_capacity(usize::try_from(blob.size).unwrap_or(0));
        blob.file
            .take(limit.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|e| Error::io("read", &path, e))?;
        if data.len() as u64 > limit {
            return Err(too_large());
        }
        let mut digester = Digester::new(digest.algorithm());
        digester.update(&data);
        let actual = digester.finish();
        if actual != digest {
            return Err(Error::DigestMismatch {
                what: Object::Blob,
                expected: digest,
                actual,
            });
        }
        Ok(data)
    }

    /// Every committed blob, in no particular order. Files whose names are not digests are
    /// skipped.
    pub fn list(&self) -> Result<Vec<Info>, Error> {
        let mut infos = Vec::new();
        for algorithm in Algorithm::ALL {
            let dir = self.blob_dir(algorithm);
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                Err(err) => return Err(Error::io("list", dir, err)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| Error::io("list", &dir, e))?;
                let Some(digest) = entry
                    .file_name()
                    .to_str()
                    .and_then(|name| Digest::from_encoded(algorithm, name).ok())
                else {
                    continue;
                };
                // A blob deleted since the listing is simply not reported.
                if let Some(info) = self.try_info(digest)? {
                    infos.push(info);
                }
            }
        }
        Ok(infos)
    }
}

/// Changes
impl ContentStore {
    /// Deletes the blob `digest`; [`Error::ContentNotFound`] if it is missing. Readers that
    /// have it open keep reading it.
    pub fn delete(&self, digest: Digest) -> Result<(), Error> {
        let path = self.blob_path(digest);
        match std::fs::remove_file(&path) {
            Ok(()) => fs::sync_dir(&self.blob_dir(digest.algorithm())),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                Err(Error::ContentNotFound { digest })
            }
            Err(err) => Err(Error::io("remove", path, err)),
        }
    }
}

/// Paths
impl ContentStore {
    fn blob_dir(&self, algorithm: Algorithm) -> PathBuf {
        self.root.join(BLOBS).join(algorithm.name())
    }

    fn ingest_root(&self) -> PathBuf {
        self.root.join(INGEST)
    }

    fn lease_dir(&self) -> PathBuf {
        self.root.join(LEASES)
    }
}

/// The permission bits of a committed blob: read-only for everyone.
const BLOB_MODE: u32 = 0o444;

fn read_only() -> Permissions {
    Permissions::from_mode(BLOB_MODE)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn put(store: &ContentStore, data: &[u8]) -> Digest {
        let digest = Digest::from_bytes(data);
        match store.writer("test", Some(digest), None).expect("a writer") {
            WriterOutcome::Writer(mut writer) => {
                writer.write_all(data).expect("write");
                writer.commit(None, None).expect("commit");
            }
            WriterOutcome::Exists(_) => {}
        }
        digest
    }

    #[test]
    fn a_committed_blob_is_read_only_and_listed() {
        let dir = tempfile::tempdir().expect("a temp dir because tests need one");
        let store = ContentStore::open(dir.path()).expect("open");
        let digest = put(&store, b"data");
        let path = store.blob_path(digest);
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o444);
        assert_eq!(store.info(digest).expect("info").size, 4);
        assert_eq!(store.list().expect("list").len(), 1);
        let mut blob = store.blob(digest).expect("open");
        let mut text = String::new();
        blob.read_to_string(&mut text).expect("read");
        assert_eq!((text.as_str(), blob.size()), ("data", 4));
    }

    #[test]
    fn missing_blobs_are_reported_as_not_found() {
        let dir = tempfile::tempdir().expect("a temp dir because tests need one");
        let store = ContentStore::open(dir.path()).expect("open");
        let digest = Digest::from_bytes(b"none");
        assert!(store.try_info(digest).expect("try_info").is_none());
        assert!(matches!(
            store.info(digest),
            Err(Error::ContentNotFound { .. })
        ));
        assert!(matches!(
            store.blob(digest),
            Err(Error::ContentNotFound { .. })
        ));
        assert!(matches!(
            store.delete(digest),
            Err(Error::ContentNotFound { .. })
        ));
    }

    #[test]
    fn read_verified_refuses_large_and_damaged_blobs() {
        let dir = tempfile::tempdir().expect("a temp dir because tests need one");
        let store = ContentStore::open(dir.path()).expect("open");
        let digest = put(&store, b"manifest");
        assert!(matches!(
            store.read_verified(digest, 3),
            Err(Error::TooLarge { limit: 3, .. })
        ));
        let path = store.blob_path(digest);
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).expect("chmod");
        std::fs::write(&path, b"damaged!").expect("damage");
        assert!(matches!(
            store.read_verified(digest, 100),
            Err(Error::DigestMismatch { expected, .. }) if expected == digest
        ));
    }

    #[test]
    fn delete_removes_the_blob() {
        let dir = tempfile::tempdir().expect("a temp dir because tests need one");
        let store = ContentStore::open(dir.path()).expect("open");
        let digest = put(&store, b"gone");
        store.delete(digest).expect("delete");
        assert!(!store.contains(digest));
    }

    #[test]
    fn open_removes_stale_leftovers_and_ignores_stray_files() {
        let dir = tempfile::tempdir().expect("a temp dir because tests need one");
        let store = ContentStore::open(dir.path()).expect("open");
        let removing = dir.path().join("ingest/.removing-x");
        std::fs::create_dir_all(&removing).expect("mkdir");
        std::fs::write(dir.path().join("blobs/sha256/not-a-digest"), b"").expect("write");
        let _ = ContentStore::open(dir.path()).expect("reopen");
        assert!(!removing.exists());
        assert!(store.list().expect("list").is_empty());
    }
}
