//! The state of ingests on disk: the files of an ingest directory, reading them back,
//! and removing ingests nobody finished.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use imgsvc_digest::Digest;

use super::ContentStore;
use super::fs::{self, Wait};
use crate::Error;

/// Files of an ingest directory.
pub(super) const REF: &str = "ref";
pub(super) const DATA: &str = "data";
pub(super) const TOTAL: &str = "total";
pub(super) const EXPECTED: &str = "expected";
pub(super) const STARTED_AT: &str = "startedat";
pub(super) const UPDATED_AT: &str = "updatedat";
pub(super) const LOCK: &str = "lock";

/// The longest ref accepted, in bytes.
pub(super) const MAX_REF_LEN: usize = 4096;
/// The largest small file of an ingest (a digest, a number, a time) read back.
pub(super) const MAX_FIELD_LEN: u64 = 1024;

/// The state of an ingest, as [`ContentStore::ingests`] and [`Writer::status`](super::Writer::status) report it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// The ref the ingest was opened under.
    pub reference: String,
    /// Bytes written so far.
    pub offset: u64,
    /// The size announced when the ingest was opened, if any.
    pub total: Option<u64>,
    /// The digest announced when the ingest was opened, if any.
    pub expected: Option<Digest>,
    /// When the ingest was started.
    pub started_at: SystemTime,
    /// When it was last written.
    pub updated_at: SystemTime,
}

/// Ingest status
impl ContentStore {
    /// The ingests in progress or interrupted, in no particular order.
    pub fn ingests(&self) -> Result<Vec<Status>, Error> {
        let mut statuses = Vec::new();
        for dir in self.ingest_dirs()? {
            if let Some(status) = read_status(&dir)? {
                statuses.push(status);
            }
        }
        Ok(statuses)
    }

    /// Removes ingests not written for `max_age` and not locked; returns their refs (or
    /// directory names, for ingests without a readable ref).
    pub(crate) fn remove_stale_ingests(&self, max_age: Duration) -> Result<Vec<String>, Error> {
        let now = SystemTime::now();
        let mut removed = Vec::new();
        for dir in self.ingest_dirs()? {
            let status = read_status(&dir).ok().flatten();
            let dir_time = std::fs::metadata(&dir).and_then(|m| m.modified()).ok();
            let updated = status.as_ref().map(|s| s.updated_at).max(dir_time);
            let age = updated.map_or(Duration::MAX, |t| now.duration_since(t).unwrap_or_default());
            if age < max_age {
                continue;
            }
            let Ok(_lock) = fs::lock(&dir.join(LOCK), true, Wait::No) else {
                continue;
            };
            fs::remove_dir(&dir)?;
            removed.push(status.map_or_else(
                || {
                    dir.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                },
                |s| s.reference,
            ));
        }
        Ok(removed)
    }

    pub(super) fn ingest_dir(&self, reference: &str) -> PathBuf {
        let key = Digest::from_bytes(reference.as_bytes());
        self.ingest_root().join(key.encoded().as_str())
    }

    fn ingest_dirs(&self) -> Result<Vec<PathBuf>, Error> {
        let root = self.ingest_root();
        let entries = std::fs::read_dir(&root).map_err(|e| Error::io("list", &root, e))?;
        let mut dirs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", &root, e))?;
            if !entry.file_name().as_encoded_bytes().starts_with(b".") {
                dirs.push(entry.path());
            }
        }
        Ok(dirs)
    }
}

/// The ref stored in an ingest directory, `None` if it has none (a new or half-made one).
pub(super) fn read_ref(dir: &Path) -> Result<Option<String>, Error> {
    let path = dir.join(REF);
    match fs::read_small(&path, MAX_REF_LEN as u64)? {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::CorruptRecord {
                path,
                reason: "the ref is not UTF-8".to_owned(),
            }),
    }
}

/// Reads and parses a small field file; `Ok(None)` if missing, `CorruptRecord` if it does
/// not parse.
pub(super) fn read_field<T>(
    dir: &Path,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, Error> {
    let path = dir.join(name);
    let Some(text) = fs::read_text(&path, MAX_FIELD_LEN)? else {
        return Ok(None);
    };
    match parse(&text) {
        Some(value) => Ok(Some(value)),
        None => Err(Error::CorruptRecord {
            path,
            reason: format!("cannot parse {text:?}"),
        }),
    }
}

/// Writes a field file, or removes it when there is no value.
pub(super) fn write_optional(dir: &Path, name: &str, value: Option<String>) -> Result<(), Error> {
    match value {
        Some(text) => fs::write_atomic(dir, name, text.as_bytes(), 0o644),
        None => match std::fs::remove_file(dir.join(name)) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(Error::io("remove", dir.join(name), err)),
        },
    }
}

/// The status of the ingest in `dir`; `None` for a directory without a ref.
fn read_status(dir: &Path) -> Result<Option<Status>, Error> {
    let Some(reference) = read_ref(dir)? else {
        return Ok(None);
    };
    let data = match std::fs::metadata(dir.join(DATA)) {
        Ok(meta) => Some(meta),
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(err) => return Err(Error::io("inspect", dir.join(DATA), err)),
    };
    let written_at = data.as_ref().and_then(|m| m.modified().ok());
    let started_at = read_field(dir, STARTED_AT, fs::parse_time)?;
    let updated_at = read_field(dir, UPDATED_AT, fs::parse_time)?.max(written_at);
    let fallback = written_at.unwrap_or(SystemTime::UNIX_EPOCH);
    Ok(Some(Status {
        reference,
        offset: data.map_or(0, |m| m.len()),
        total: read_field(dir, TOTAL, |t| t.parse().ok())?,
        expected: read_field(dir, EXPECTED, |t| t.parse().ok())?,
        started_at: started_at.unwrap_or(fallback),
        updated_at: updated_at.unwrap_or(fallback),
    }))
}
