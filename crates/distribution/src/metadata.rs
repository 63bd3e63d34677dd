//! Docker's distribution metadata: which blob became which layer (DiffID), and which
//! repositories a blob was pulled from, in Docker's own file layout so either can read the
//! other's.
//!
//! Under the directory (`<root>/image/<driver>/distribution`):
//! - `diffid-by-digest/<alg>/<blob hex>` holds the DiffID as text (`sha256:…`);
//! - `v2metadata-by-diffid/<alg>/<diffid hex>` holds a JSON array of [`V2Metadata`], the
//!   most recent last, at most 50.
//!
//! ```
//! use imgsvc_distribution::digest::Digest;
//! use imgsvc_distribution::metadata::{V2Metadata, V2MetadataService};
//!
//! let dir = tempfile::tempdir()?;
//! let service = V2MetadataService::open(dir.path())?;
//! let (blob, diff_id) = (Digest::from_bytes(b"gzip"), Digest::from_bytes(b"tar"));
//! service.add(diff_id, &V2Metadata {
//!     digest: blob,
//!     source_repository: "docker.io/library/ubuntu".to_owned(),
//!     hmac: String::new(),
//! })?;
//! assert_eq!(service.get_diff_id(blob)?, Some(diff_id));
//! assert_eq!(service.source_repositories(blob)?, ["docker.io/library/ubuntu"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;
use std::path::{Path, PathBuf};

use imgsvc_digest::Digest;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::content::fs::{self, Locked, Wait};

/// The namespace mapping blob digests to DiffIDs.
const DIFF_ID_BY_DIGEST: &str = "diffid-by-digest";
/// The namespace mapping DiffIDs to the blobs (and their sources) they came from.
const METADATA_BY_DIFF_ID: &str = "v2metadata-by-diffid";
/// The lock file serializing read-modify-write changes between processes.
const LOCK: &str = ".lock";
/// How many entries a DiffID keeps, the most recent ones.
const MAX_METADATA: usize = 50;
/// The largest metadata file read: 50 entries of a few hundred bytes, with room to spare.
const MAX_FILE: u64 = 1 << 20;
/// Directory and file modes, as Docker creates them.
const DIR_MODE: u32 = 0o755;
const FILE_MODE: u32 = 0o644;

/// One blob a layer was pulled as: its digest, the fully qualified repository it came from
/// and, for pushes that mount across repositories, an HMAC of the pair under the user's
/// credentials (empty when pulled anonymously).
///
/// Serialized with Docker's field names:
///
/// ```
/// use imgsvc_distribution::digest::Digest;
/// use imgsvc_distribution::metadata::V2Metadata;
///
/// let m = V2Metadata {
///     digest: Digest::from_bytes(b""),
///     source_repository: "docker.io/library/ubuntu".to_owned(),
///     hmac: String::new(),
/// };
/// assert_eq!(
///     serde_json::to_string(&m)?,
///     r#"{"Digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","SourceRepository":"docker.io/library/ubuntu","HMAC":""}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct V2Metadata {
    /// The blob's digest.
    #[serde(rename = "Digest")]
    pub digest: Digest,
    /// The fully qualified repository (`docker.io/library/ubuntu`).
    #[serde(rename = "SourceRepository", default)]
    pub source_repository: String,
    /// Hex HMAC-SHA256 of digest and repository under a key derived from the credentials;
    /// empty if none.
    #[serde(rename = "HMAC", default)]
    pub hmac: String,
}

/// Reads and writes the distribution metadata in a directory; see the [module](self) docs.
///
/// Every change is an atomic file write; read-modify-write changes hold a lock file, so
/// several processes may share the directory.
///
/// ```
/// use imgsvc_distribution::digest::Digest;
/// use imgsvc_distribution::metadata::{V2Metadata, V2MetadataService};
///
/// let dir = tempfile::tempdir()?;
/// let service = V2MetadataService::open(dir.path().join("distribution"))?;
/// let m = V2Metadata {
///     digest: Digest::from_bytes(b"blob"),
///     source_repository: "docker.io/library/alpine".to_owned(),
///     hmac: String::new(),
/// };
/// let diff_id = Digest::from_bytes(b"diff");
/// service.add(diff_id, &m)?;
/// assert_eq!(service.get_metadata(diff_id)?, [m.clone()]);
/// assert!(service.remove(&m)?);
/// assert!(service.get_metadata(diff_id)?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct V2MetadataService {
    root: PathBuf,
}

/// Construction
impl V2MetadataService {
    /// Opens the metadata in `dir`, creating it if needed.
    pub fn open(dir: impl Into<PathBuf>) -> Result<V2MetadataService, Error> {
        let root = dir.into();
        fs::create_dir_all(&root, DIR_MODE)?;
        Ok(V2MetadataService { root })
    }
}

/// Access
impl V2MetadataService {
    /// The directory the metadata lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The DiffID the blob `blob` was extracted to, `None` if unknown. A file that does not
    /// hold a digest is [`Error::CorruptRecord`].
    pub fn get_diff_id(&self, blob: Digest) -> Result<Option<Digest>, Error> {
        let path = self.path(DIFF_ID_BY_DIGEST, blob);
        let Some(text) = fs::read_text(&path, MAX_FILE)? else {
            return Ok(None);
        };
        text.parse().map(Some).map_err(|err| Error::CorruptRecord {
            path,
            reason: format!("not a DiffID: {err}"),
        })
    }

    /// The blobs known to have been extracted to `diff_id`, oldest first; empty if none. A
    /// file that is not a JSON array of entries is [`Error::CorruptRecord`].
    pub fn get_metadata(&self, diff_id: Digest) -> Result<Vec<V2Metadata>, Error> {
        let path = self.path(METADATA_BY_DIFF_ID, diff_id);
        let Some(data) = fs::read_small(&path, MAX_FILE)? else {
            return Ok(Vec::new());
        };
        // Docker writes `null` for a list that was emptied in memory.
        serde_json::from_slice::<Option<Vec<V2Metadata>>>(&data)
            .map(Option::unwrap_or_default)
            .map_err(|err| Error::CorruptRecord {
                path,
                reason: format!("not a list of V2 metadata: {err}"),
            })
    }

    /// The repositories the blob `blob` is known to have come from, oldest first, without
    /// duplicates.
    pub fn source_repositories(&self, blob: Digest) -> Result<Vec<String>, Error> {
        let Some(diff_id) = self.get_diff_id(blob)? else {
            return Ok(Vec::new());
        };
        let mut repositories: Vec<String> = Vec::new();
        for entry in self.get_metadata(diff_id)? {
            if entry.digest == blob && !repositories.contains(&entry.source_repository) {
                repositories.push(entry.source_repository);
            }
        }
        Ok(repositories)
    }
}

/// Changes
impl V2MetadataService {
    /// Records that `metadata.digest` was extracted to `diff_id`: the entry moves to the end
    /// of the DiffID's list (which keeps the last 50), then the blob's DiffID is written.
    /// An unreadable list is replaced, as Docker does.
    pub fn add(&self, diff_id: Digest, metadata: &V2Metadata) -> Result<(), Error> {
        let _lock = self.lock()?;
        let mut list = self.get_metadata(diff_id).unwrap_or_default();
        list.retain(|entry| entry != metadata);
        list.push(metadata.clone());
        let excess = list.len().saturating_sub(MAX_METADATA);
        list.drain(..excess);
        self.write_list(diff_id, &list)?;
        self.write(
            DIFF_ID_BY_DIGEST,
            metadata.digest,
            diff_id.to_string().as_bytes(),
        )
    }

    /// Forgets `metadata`: removes it from the list of its blob's DiffID, deleting the list
    /// when it becomes empty. `false` if the blob's DiffID is unknown or the entry was not
    /// recorded. The blob's DiffID stays known.
    pub fn remove(&self, metadata: &V2Metadata) -> Result<bool, Error> {
        let _lock = self.lock()?;
        let Some(diff_id) = self.get_diff_id(metadata.digest)? else {
            return Ok(false);
        };
        let mut list = self.get_metadata(diff_id)?;
        let before = list.len();
        list.retain(|entry| entry != metadata);
        if list.len() == before {
            return Ok(false);
        }
        if list.is_empty() {
            let path = self.path(METADATA_BY_DIFF_ID, diff_id);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(Error::io("remove", path, err)),
            }
        } else {
            self.write_list(diff_id, &list)?;
        }
        Ok(true)
    }

    fn write_list(&self, diff_id: Digest, list: &[V2Metadata]) -> Result<(), Error> {
        let data = serde_json::to_vec(list).map_err(|err| Error::Internal {
            reason: format!("serializing V2 metadata: {err}"),
        })?;
        self.write(METADATA_BY_DIFF_ID, diff_id, &data)
    }

    fn write(&self, namespace: &str, key: Digest, data: &[u8]) -> Result<(), Error> {
        let dir = self.root.join(namespace).join(key.algorithm().name());
        fs::create_dir_all(&dir, DIR_MODE)?;
        fs::write_atomic(&dir, key.encoded().as_str(), data, FILE_MODE)
    }

    fn path(&self, namespace: &str, key: Digest) -> PathBuf {
        self.root
            .join(namespace)
            .join(key.algorithm().name())
            .join(key.encoded().as_str())
    }

    fn lock(&self) -> Result<std::fs::File, Error> {
        let path = self.root.join(LOCK);
        match fs::lock(&path, true, Wait::Block) {
            Ok(lock) => Ok(lock),
            Err(Locked::Failed(err)) => Err(*err),
            Err(Locked::Busy | Locked::Missing) => Err(Error::io(
                "lock",
                path,
                io::Error::new(io::ErrorKind::WouldBlock, "the lock file keeps changing"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(blob: &[u8], repository: &str) -> V2Metadata {
        V2Metadata {
            digest: Digest::from_bytes(blob),
            source_repository: repository.to_owned(),
            hmac: String::new(),
        }
    }

    #[test]
    fn add_moves_an_equal_entry_to_the_end_and_keeps_fifty() {
        let dir = tempfile::tempdir().expect("a temp dir because tests need one");
        let service = V2MetadataService::open(dir.path()).expect("open");
        let diff_id = Digest::from_bytes(b"tar");
        let first = entry(b"a", "docker.io/library/a");
        service.add(diff_id, &first).expect("add");
        service
            .add(diff_id, &entry(b"b", "docker.io/library/b"))
            .expect("add");
        service.add(diff_id, &first).expect("add again");
        let list = service.get_metadata(diff_id).expect("list");
        assert_eq!(list.len(), 2);
        assert_eq!(list.last(), Some(&first));
        for n in 0..60u32 {
            service
                .add(diff_id, &entry(&n.to_le_bytes(), "docker.io/library/n"))
                .expect("add");
        }
        let list = service.get_metadata(diff_id).expect("list");
        assert_eq!(list.len(), 50);
        assert_eq!(
            list.last(),
            Some(&entry(&59u32.to_le_bytes(), "docker.io/library/n"))
        );
    }

    #[test]
    fn remove_deletes_the_emptied_list_but_keeps_the_diff_id() {
        let dir = tempfile::tempdir().expect("a temp dir because tests need one");
        let service = V2MetadataService::open(dir.path()).expect("open");
        let diff_id = Digest::from_bytes(b"tar");
        let m = entry(b"a", "docker.io/library/a");
        service.add(diff_id, &m).expect("add");
        assert!(service.remove(&m).expect("remove"));
        assert!(!service.remove(&m).expect("remove again"));
        assert!(service.get_metadata(diff_id).expect("list").is_empty());
        assert_eq!(
            service.get_diff_id(m.digest).expect("diff id"),
            Some(diff_id)
        );
    }

    #[test]
    fn corrupt_files_are_reported_and_replaced_by_add() {
        let dir = tempfile::tempdir().expect("a temp dir because tests need one");
        let service = V2MetadataService::open(dir.path()).expect("open");
        let diff_id = Digest::from_bytes(b"tar");
        let m = entry(b"a", "docker.io/library/a");
        let list_dir = dir.path().join("v2metadata-by-diffid/sha256");
        std::fs::create_dir_all(&list_dir).expect("mkdir");
        std::fs::write(list_dir.join(diff_id.encoded().as_str()), b"{").expect("write");
        assert!(matches!(
            service.get_metadata(diff_id),
            Err(Error::CorruptRecord { .. })
        ));
        service.add(diff_id, &m).expect("add over a corrupt list");
        assert_eq!(
            service.get_metadata(diff_id).expect("list"),
            std::slice::from_ref(&m)
        );
        let map_dir = dir.path().join("diffid-by-digest/sha256");
        std::fs::write(map_dir.join(m.digest.encoded().as_str()), b"sha256:zz").expect("write");
        assert!(matches!(
            service.get_diff_id(m.digest),
            Err(Error::CorruptRecord { .. })
        ));
    }

    #[test]
    fn null_and_unknown_fields_read_as_docker_would() {
        let dir = tempfile::tempdir().expect("a temp dir because tests need one");
        let service = V2MetadataService::open(dir.path()).expect("open");
        let diff_id = Digest::from_bytes(b"tar");
        let list_dir = dir.path().join("v2metadata-by-diffid/sha256");
        std::fs::create_dir_all(&list_dir).expect("mkdir");
        let path = list_dir.join(diff_id.encoded().as_str());
        std::fs::write(&path, b"null").expect("write");
        assert!(service.get_metadata(diff_id).expect("null list").is_empty());
        let text = format!(r#"[{{"Digest":"{diff_id}","Extra":1}}]"#);
        std::fs::write(&path, text).expect("write");
        let list = service.get_metadata(diff_id).expect("list");
        assert_eq!(
            list,
            [V2Metadata {
                digest: diff_id,
                source_repository: String::new(),
                hmac: String::new()
            }]
        );
    }
}
