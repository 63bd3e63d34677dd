//! Ingests: resumable, locked writes of new content, made visible as a blob by a verified
//! commit.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use imgsvc_digest::{Algorithm, Digest, Digester};

use super::fs::{self, Locked, Wait};
use super::status::{
    DATA, EXPECTED, LOCK, MAX_REF_LEN, REF, STARTED_AT, Status, TOTAL, UPDATED_AT, read_field,
    read_ref, write_optional,
};
use super::{ContentStore, Info};
use crate::{Error, Object};

/// What [`ContentStore::writer`] found.
#[derive(Debug)]
pub enum WriterOutcome {
    /// A writer, new or resuming an interrupted ingest at [`Writer::offset`].
    Writer(Writer),
    /// The expected digest is already a blob; nothing needs writing.
    Exists(Info),
}

/// Access
impl WriterOutcome {
    /// The writer, or `None` if the content exists already.
    pub fn into_writer(self) -> Option<Writer> {
        match self {
            WriterOutcome::Writer(writer) => Some(writer),
            WriterOutcome::Exists(_) => None,
        }
    }
}

/// Writes new content under a ref, hashing as it goes; see [`ContentStore::writer`].
///
/// It holds the ingest's lock until it is committed or dropped. Dropping it without a
/// commit keeps what was written, for a later writer under the same ref to resume.
///
/// ```
/// use std::io::Write;
/// use imgsvc_distribution::content::ContentStore;
/// use imgsvc_distribution::digest::Digest;
///
/// let dir = tempfile::tempdir()?;
/// let store = ContentStore::open(dir.path())?;
/// let mut writer = store.writer("layer-1", None, None)?.into_writer().expect("new store");
/// writer.write_all(b"hel")?;
/// drop(writer); // interrupted
///
/// let mut writer = store.writer("layer-1", None, None)?.into_writer().expect("not committed");
/// assert_eq!(writer.offset(), 3);
/// writer.write_all(b"lo")?;
/// let info = writer.commit(Some(5), Some(Digest::from_bytes(b"hello")))?;
/// assert!(store.contains(info.digest));
/// assert!(store.ingests()?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Writer {
    store: ContentStore,
    reference: String,
    dir: PathBuf,
    data: File,
    digester: Box<Digester>,
    total: Option<u64>,
    expected: Option<Digest>,
    started_at: SystemTime,
    /// Held open for the `flock` on it.
    _lock: File,
}

/// Ingest
impl ContentStore {
    /// Opens a writer under `reference`, or reports that `expected` is already a blob.
    ///
    /// An ingest left by an earlier writer under the same ref is resumed: its bytes are
    /// hashed again and writing continues at the end. It starts over instead when it was
    /// announced with a different `expected` digest. Fails with
    /// [`Error::InvalidIngestRef`] for an empty ref or one holding NUL or a line break, and
    /// [`Error::IngestLocked`] while another writer (in any process) holds the ref.
    pub fn writer(
        &self,
        reference: &str,
        expected: Option<Digest>,
        total: Option<u64>,
    ) -> Result<WriterOutcome, Error> {
        check_ref(reference)?;
        if let Some(info) = expected.map(|d| self.try_info(d)).transpose()?.flatten() {
            return Ok(WriterOutcome::Exists(info));
        }
        let dir = self.ingest_dir(reference);
        let lock = lock_new(&dir, reference)?;
        let now = SystemTime::now();
        let stored = read_ref(&dir)?;
        if let Some(stored) = &stored
            && stored != reference
        {
            return Err(Error::CorruptRecord {
                path: dir.join(REF),
                reason: format!("holds the ref {stored:?}, not {reference:?}"),
            });
        }
        // An unreadable field of an interrupted ingest only costs a restart or a rehash.
        let stored_expected = read_field(&dir, EXPECTED, |t| t.parse::<Digest>().ok())
            .ok()
            .flatten();
        let resume = stored.is_some()
            && match (expected, stored_expected) {
                (Some(new), Some(old)) => new == old,
                _ => true,
            };
        let expected = expected.or(stored_expected.filter(|_| resume));
        let algorithm = expected.map_or(Algorithm::CANONICAL, |d| d.algorithm());
        let data_path = dir.join(DATA);
        let mut data = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o644)
            .open(&data_path)
            .map_err(|e| Error::io("open", &data_path, e))?;
        let mut started_at = now;
        let digester = if resume {
            started_at = read_field(&dir, STARTED_AT, fs::parse_time)
                .ok()
                .flatten()
                .unwrap_or(now);
            hash_prefix(&mut data, &data_path, algorithm, None)?
        } else {
            data.set_len(0)
                .map_err(|e| Error::io("truncate", &data_path, e))?;
            fs::write_atomic(&dir, STARTED_AT, fs::format_time(now).as_bytes(), 0o644)?;
            Digester::new(algorithm)
        };
        let total = total.or(if resume {
            read_field(&dir, TOTAL, |t| t.parse().ok()).ok().flatten()
        } else {
            None
        });
        write_optional(&dir, TOTAL, total.map(|t| t.to_string()))?;
        write_optional(&dir, EXPECTED, expected.map(|d| d.to_string()))?;
        fs::write_atomic(&dir, UPDATED_AT, fs::format_time(now).as_bytes(), 0o644)?;
        // Written last: a directory with a `ref` is a complete ingest.
        fs::write_atomic(&dir, REF, reference.as_bytes(), 0o644)?;
        Ok(WriterOutcome::Writer(Writer {
            store: self.clone(),
            reference: reference.to_owned(),
            dir,
            data,
            digester: Box::new(digester),
            total,
            expected,
            started_at,
            _lock: lock,
        }))
    }

    /// Removes the ingest under `reference`: [`Error::IngestNotFound`] if there is none,
    /// [`Error::IngestLocked`] while a writer holds it.
    pub fn abort(&self, reference: &str) -> Result<(), Error> {
        check_ref(reference)?;
        let dir = self.ingest_dir(reference);
        let _lock = match fs::lock(&dir.join(LOCK), true, Wait::No) {
            Ok(lock) => lock,
            Err(Locked::Busy) => return Err(locked(reference)),
            Err(Locked::Missing) => {
                return Err(Error::IngestNotFound {
                    reference: reference.to_owned(),
                });
            }
            Err(Locked::Failed(err)) => return Err(*err),
        };
        fs::remove_dir(&dir)
    }

    /// Stores a small document held in memory (a manifest, an index) as the blob
    /// `expected`, through an ingest named after it; the existing blob's info if the store
    /// has it already. Bytes that do not hash to `expected` are refused with
    /// [`Error::DigestMismatch`] and leave nothing behind.
    ///
    /// ```
    /// use imgsvc_distribution::content::ContentStore;
    /// use imgsvc_distribution::digest::Digest;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = ContentStore::open(dir.path())?;
    /// let document = br#"{"schemaVersion":2}"#;
    /// let info = store.put(document, Digest::from_bytes(document))?;
    /// assert_eq!(info.size, document.len() as u64);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn put(&self, data: &[u8], expected: Digest) -> Result<Info, Error> {
        let reference = format!("put-{expected}");
        let size = data.len() as u64;
        let mut writer = match self.writer(&reference, Some(expected), Some(size))? {
            WriterOutcome::Writer(writer) => writer,
            WriterOutcome::Exists(info) => return Ok(info),
        };
        writer.truncate(0)?;
        writer
            .write_all(data)
            .map_err(|e| Error::io("write", writer.dir.join(DATA), e))?;
        writer.commit(Some(size), Some(expected))
    }
}

/// Access
impl Writer {
    /// The ref this writer writes under.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// Bytes written so far, including those of a resumed ingest.
    pub fn offset(&self) -> u64 {
        self.digester.len()
    }

    /// The digest of the bytes written so far.
    pub fn digest(&self) -> Digest {
        self.digester.digest()
    }

    /// The ingest's status.
    pub fn status(&self) -> Status {
        Status {
            reference: self.reference.clone(),
            offset: self.offset(),
            total: self.total,
            expected: self.expected,
            started_at: self.started_at,
            updated_at: SystemTime::now(),
        }
    }
}

/// Writing
impl Writer {
    /// Cuts the data back to its first `size` bytes (0 starts over) and hashes them again.
    /// A `size` beyond [`offset`](Self::offset) is an error.
    pub fn truncate(&mut self, size: u64) -> Result<(), Error> {
        let path = self.dir.join(DATA);
        if size > self.offset() {
            let err = io::Error::new(io::ErrorKind::InvalidInput, "beyond the data written");
            return Err(Error::io("truncate", path, err));
        }
        self.data
            .set_len(size)
            .map_err(|e| Error::io("truncate", &path, e))?;
        let algorithm = self.digester.algorithm();
        *self.digester = hash_prefix(&mut self.data, &path, algorithm, Some(size))?;
        fs::write_atomic(
            &self.dir,
            UPDATED_AT,
            fs::format_time(SystemTime::now()).as_bytes(),
            0o644,
        )
    }

    /// Makes the data a blob, after checking it: `size` and `expected` default to what the
    /// writer was opened with. A wrong size ([`Error::SizeMismatch`]) or digest
    /// ([`Error::DigestMismatch`]) removes the ingest, so that a retry starts clean. If the
    /// blob exists already, the ingest is removed and the existing blob's info returned.
    pub fn commit(mut self, size: Option<u64>, expected: Option<Digest>) -> Result<Info, Error> {
        let path = self.dir.join(DATA);
        self.data
            .sync_all()
            .map_err(|e| Error::io("sync", &path, e))?;
        let written = self.offset();
        let mut actual = self.digester.digest();
        let expected = expected.or(self.expected);
        if let Some(expected) = expected
            && expected.algorithm() != actual.algorithm()
        {
            actual = hash_prefix(&mut self.data, &path, expected.algorithm(), None)?.finish();
        }
        if let Some(wanted) = size.or(self.total)
            && wanted != written
        {
            fs::remove_dir(&self.dir)?;
            return Err(Error::SizeMismatch {
                what: Object::Blob,
                digest: expected.unwrap_or(actual),
                expected: wanted,
                actual: written,
            });
        }
        if let Some(expected) = expected
            && expected != actual
        {
            fs::remove_dir(&self.dir)?;
            return Err(Error::DigestMismatch {
                what: Object::Blob,
                expected,
                actual,
            });
        }
        if let Some(info) = self.store.try_info(actual)? {
            fs::remove_dir(&self.dir)?;
            return Ok(info);
        }
        let target = self.store.blob_path(actual);
        let blob_dir = self.store.blob_dir(actual.algorithm());
        fs::create_dir_all(&blob_dir, 0o755)?;
        self.data
            .set_permissions(super::read_only())
            .map_err(|e| Error::io("make read-only", &path, e))?;
        std::fs::rename(&path, &target)
            .map_err(|e| Error::io("rename into the blobs", &path, e))?;
        fs::sync_dir(&blob_dir)?;
        fs::remove_dir(&self.dir)?;
        self.store.info(actual)
    }
}

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.data.write(buf)?;
        if let Some(written) = buf.get(..n) {
            self.digester.update(written);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.data.flush()
    }
}

/// Locks (creating it if needed) the ingest directory `dir`.
fn lock_new(dir: &Path, reference: &str) -> Result<File, Error> {
    // The directory may be removed by a committing writer between our creating it and our
    // opening the lock file in it; then we create it again.
    for _ in 0..16 {
        fs::create_dir_all(dir, 0o755)?;
        match fs::lock(&dir.join(LOCK), true, Wait::No) {
            Ok(lock) => return Ok(lock),
            Err(Locked::Missing) => continue,
            Err(Locked::Busy) => return Err(locked(reference)),
            Err(Locked::Failed(err)) => return Err(*err),
        }
    }
    Err(locked(reference))
}

fn locked(reference: &str) -> Error {
    Error::IngestLocked {
        reference: reference.to_owned(),
    }
}

fn check_ref(reference: &str) -> Result<(), Error> {
    let reason = if reference.is_empty() {
        "a ref must not be empty"
    } else if reference.len() > MAX_REF_LEN {
        "a ref must not be longer than 4096 bytes"
    } else if reference.contains(['\0', '\n', '\r']) {
        "a ref must not contain NUL or line breaks"
    } else {
        return Ok(());
    };
    Err(Error::InvalidIngestRef {
        reference: reference.chars().take(256).collect(),
        reason: reason.to_owned(),
    })
}

/// Hashes the first `limit` bytes of `data` (all of it when `None`), streaming, and
/// leaves the position at the end.
fn hash_prefix(
    data: &mut File,
    path: &Path,
    algorithm: Algorithm,
    limit: Option<u64>,
) -> Result<Digester, Error> {
    let mut digester = Digester::new(algorithm);
    data.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io("seek", path, e))?;
    let mut reader = (&*data).take(limit.unwrap_or(u64::MAX));
    io::copy(&mut reader, &mut digester).map_err(|e| Error::io("read", path, e))?;
    data.seek(SeekFrom::End(0))
        .map_err(|e| Error::io("seek", path, e))?;
    Ok(digester)
}
