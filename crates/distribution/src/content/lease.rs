//! Leases, which keep blobs from garbage collection, and the collection itself.

use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use imgsvc_digest::Digest;

use super::ContentStore;
use super::fs::{self, Locked, Wait};
use crate::Error;

/// The lock file that serializes lease changes against garbage collection, in the store's
/// root.
const LEASES_LOCK: &str = "leases.lock";
/// The longest lease file read back: a digest line is at most 136 bytes, so room for about
/// a hundred thousand digests.
const MAX_LEASE_FILE: u64 = 16 << 20;

/// A named set of digests that [`ContentStore::garbage_collect`] keeps, such as the blobs
/// of a pull in progress or of a pulled image (`moby-image-<id>`).
///
/// Add a digest before committing its blob, so no collection in between can see the blob
/// unheld.
///
/// ```
/// use imgsvc_distribution::content::{ContentStore, GcOptions};
/// use imgsvc_distribution::digest::Digest;
///
/// let dir = tempfile::tempdir()?;
/// let store = ContentStore::open(dir.path())?;
/// let lease = store.lease("pull-1")?;
/// let digest = Digest::from_bytes(b"manifest");
/// lease.add(digest)?;
/// assert_eq!(lease.digests()?, [digest]);
/// assert!(store.delete_lease("pull-1")?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Lease {
    store: ContentStore,
    id: String,
}

/// Options of [`ContentStore::garbage_collect`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GcOptions {
    /// Ingests not written for this long, and not locked by a writer, are removed. 24 hours
    /// by default, as containerd expires unleased ingests.
    pub max_ingest_age: Duration,
}

impl Default for GcOptions {
    fn default() -> GcOptions {
        GcOptions {
            max_ingest_age: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// Construction
impl GcOptions {
    /// The options with ingests expiring after `age`.
    pub fn with_max_ingest_age(mut self, age: Duration) -> GcOptions {
        self.max_ingest_age = age;
        self
    }
}

/// What [`ContentStore::garbage_collect`] removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GcOutcome {
    /// The blobs removed.
    pub blobs: Vec<Digest>,
    /// The refs of the ingests removed.
    pub ingests: Vec<String>,
}

/// Leases and garbage collection
impl ContentStore {
    /// The lease `id`, created empty if it does not exist. An id is a file name: not empty,
    /// not starting with a dot, without `/`, NUL or line breaks.
    pub fn lease(&self, id: &str) -> Result<Lease, Error> {
        check_lease_id(id)?;
        let lease = Lease {
            store: self.clone(),
            id: id.to_owned(),
        };
        let _lock = self.lock_leases()?;
        if !lease.path().exists() {
            fs::write_atomic(&self.lease_dir(), id, b"", 0o644)?;
        }
        Ok(lease)
    }

    /// Deletes the lease `id`; `false` if there was none.
    pub fn delete_lease(&self, id: &str) -> Result<bool, Error> {
        check_lease_id(id)?;
        let _lock = self.lock_leases()?;
        let path = self.lease_dir().join(id);
        match std::fs::remove_file(&path) {
            Ok(()) => fs::sync_dir(&self.lease_dir()).map(|()| true),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(err) => Err(Error::io("remove", path, err)),
        }
    }

    /// The ids of all leases, sorted.
    pub fn leases(&self) -> Result<Vec<String>, Error> {
        let dir = self.lease_dir();
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io("list", &dir, e))?;
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", &dir, e))?;
            if let Some(name) = entry.file_name().to_str()
                && !name.starts_with('.')
            {
                ids.push(name.to_owned());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Removes the blobs that `keep` does not claim and no lease holds, and the ingests not
    /// written for [`GcOptions::max_ingest_age`] that no writer holds.
    ///
    /// Lease changes wait while it runs, in every process.
    ///
    /// ```
    /// use std::io::Write;
    /// use imgsvc_distribution::content::{ContentStore, GcOptions};
    /// use imgsvc_distribution::digest::Digest;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = ContentStore::open(dir.path())?;
    /// let digest = Digest::from_bytes(b"x");
    /// let mut writer = store.writer("x", Some(digest), None)?.into_writer().expect("empty");
    /// writer.write_all(b"x")?;
    /// writer.commit(None, None)?;
    ///
    /// let outcome = store.garbage_collect(&|_| false, &GcOptions::default())?;
    /// assert_eq!(outcome.blobs, [digest]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn garbage_collect(
        &self,
        keep: &dyn Fn(&Digest) -> bool,
        options: &GcOptions,
    ) -> Result<GcOutcome, Error> {
        let _lock = self.lock_leases()?;
        let mut held = HashSet::new();
        for id in self.leases()? {
            held.extend(read_lease(&self.lease_dir().join(id))?);
        }
        let mut outcome = GcOutcome::default();
        for info in self.list()? {
            if held.contains(&info.digest) || keep(&info.digest) {
                continue;
            }
            match self.delete(info.digest) {
                Ok(()) => outcome.blobs.push(info.digest),
                // Deleted by another process since the listing.
                Err(Error::ContentNotFound { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        outcome.ingests = self.remove_stale_ingests(options.max_ingest_age)?;
        Ok(outcome)
    }

    fn lock_leases(&self) -> Result<File, Error> {
        let path = self.root.join(LEASES_LOCK);
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

/// Access
impl Lease {
    /// The lease's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The digests the lease holds, in the order they were added.
    pub fn digests(&self) -> Result<Vec<Digest>, Error> {
        read_lease(&self.path())
    }
}

/// Changes
impl Lease {
    /// Adds `digest` (whether or not the store has it yet); `false` if it was held already.
    pub fn add(&self, digest: Digest) -> Result<bool, Error> {
        self.change(|digests| {
            let new = !digests.contains(&digest);
            if new {
                digests.push(digest);
            }
            new
        })
    }

    /// Removes `digest`; `false` if the lease did not hold it.
    pub fn remove(&self, digest: Digest) -> Result<bool, Error> {
        self.change(|digests| {
            let before = digests.len();
            digests.retain(|d| *d != digest);
            digests.len() != before
        })
    }

    /// Rewrites the lease under the lease lock when `edit` reports a change. A lease deleted
    /// meanwhile is created again: the holder still means to hold its digests.
    fn change(&self, edit: impl FnOnce(&mut Vec<Digest>) -> bool) -> Result<bool, Error> {
        let _lock = self.store.lock_leases()?;
        let mut digests = read_lease(&self.path())?;
        if !edit(&mut digests) {
            return Ok(false);
        }
        let text: String = digests.iter().map(|d| format!("{d}\n")).collect();
        fs::write_atomic(&self.store.lease_dir(), &self.id, text.as_bytes(), 0o644)?;
        Ok(true)
    }

    fn path(&self) -> PathBuf {
        self.store.lease_dir().join(&self.id)
    }
}

fn check_lease_id(id: &str) -> Result<(), Error> {
    let reason = if id.is_empty() {
        "a lease id must not be empty"
    } else if id.starts_with('.') {
        "a lease id must not start with a dot"
    } else if id.len() > 255 {
        "a lease id must not be longer than 255 bytes"
    } else if id.contains(['/', '\0', '\n', '\r']) {
        "a lease id must not contain '/', NUL or line breaks"
    } else {
        return Ok(());
    };
    // No variant for lease ids yet; a lease id is a kind of ingest-side ref.
    Err(Error::InvalidLeaseId {
        id: id.chars().take(256).collect(),
        reason: reason.to_owned(),
    })
}

/// The digests of a lease file, one per line; a missing file holds none.
fn read_lease(path: &Path) -> Result<Vec<Digest>, Error> {
    let Some(text) = fs::read_text(path, MAX_LEASE_FILE)? else {
        return Ok(Vec::new());
    };
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            line.parse().map_err(|err| Error::CorruptRecord {
                path: path.to_owned(),
                reason: format!("line {line:?} is not a digest: {err}"),
            })
        })
        .collect()
}
