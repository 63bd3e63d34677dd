//! File-system helpers shared by the content store and the distribution metadata: atomic
//! writes (temporary file in the same directory, fsync, rename, fsync of the directory),
//! directory creation with fixed modes, and `flock` locks.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::fs::FlockOperation;

use crate::Error;

/// The prefix of temporary files; no blob, ingest, lease or metadata key starts with a dot.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// The prefix a directory is renamed to before it is removed, so a crash half-way through
/// the removal leaves a name that `open` recognizes and finishes removing.
pub(crate) const REMOVING_PREFIX: &str = ".removing-";

/// Temporary files at least this old belong to no running writer and are removed at open.
pub(crate) const STALE_TEMP_AGE: Duration = Duration::from_secs(60 * 60);

/// A name unique among all processes and threads: the pid, a per-process counter and the
/// time, so two processes sharing a store never pick the same temporary name.
pub(crate) fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{}-{count}-{nanos:08x}", std::process::id())
}

/// Writes `data` to `dir/name` atomically with permission bits `mode`.
pub(crate) fn write_atomic(dir: &Path, name: &str, data: &[u8], mode: u32) -> Result<(), Error> {
    let target = dir.join(name);
    let temp = dir.join(format!("{TEMP_PREFIX}{name}-{}", unique_suffix()));
    let result = write_temp(&temp, data, mode).and_then(|()| {
        fs::rename(&temp, &target).map_err(|e| Error::io("rename a temporary file to", &target, e))
    });
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result?;
    sync_dir(dir)
}

fn write_temp(temp: &Path, data: &[u8], mode: u32) -> Result<(), Error> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(temp)
        .map_err(|e| Error::io("create", temp, e))?;
    file.write_all(data)
        .map_err(|e| Error::io("write", temp, e))?;
    file.sync_all().map_err(|e| Error::io("sync", temp, e))
}

/// Fsyncs a directory, so a rename, creation or removal in it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("sync", dir, e))
}

/// Creates `dir` and its missing parents, new ones with permission bits `mode`.
pub(crate) fn create_dir_all(dir: &Path, mode: u32) -> Result<(), Error> {
    DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .map_err(|e| Error::io("create the directory", dir, e))
}

/// Reads a small file of at most `limit` bytes; `None` if it does not exist. A larger file
/// is a corrupt record: every file read this way is one this crate writes small.
pub(crate) fn read_small(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, Error> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(Error::io("open", path, err)),
    };
    let mut data = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| Error::io("read", path, e))?;
    if data.len() as u64 > limit {
        return Err(Error::CorruptRecord {
            path: path.to_owned(),
            reason: format!("larger than {limit} bytes"),
        });
    }
    Ok(Some(data))
}

/// Reads a small text file and trims surrounding whitespace; `None` if it does not exist.
pub(crate) fn read_text(path: &Path, limit: u64) -> Result<Option<String>, Error> {
    let Some(data) = read_small(path, limit)? else {
        return Ok(None);
    };
    match String::from_utf8(data) {
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(_) => Err(Error::CorruptRecord {
            path: path.to_owned(),
            reason: "not UTF-8 text".to_owned(),
        }),
    }
}

/// Removes `dir` and everything in it: first renamed aside (atomic, so readers see the
/// directory or nothing), then deleted. A missing directory is not an error.
pub(crate) fn remove_dir(dir: &Path) -> Result<(), Error> {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return Ok(());
    };
    let aside = parent.join(format!(
        "{REMOVING_PREFIX}{}-{}",
        name.to_string_lossy(),
        unique_suffix()
    ));
    match fs::rename(dir, &aside) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(Error::io("rename for removal", dir, err)),
    }
    sync_dir(parent)?;
    fs::remove_dir_all(&aside).map_err(|e| Error::io("remove", &aside, e))
}

/// Removes, in `dir`, temporary files older than `age` and directories left half-removed.
/// Failures to remove are ignored: another process may be cleaning the same leftovers.
pub(crate) fn remove_leftovers(dir: &Path, age: Duration) -> Result<Vec<PathBuf>, Error> {
    let mut removed = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(removed),
        Err(err) => return Err(Error::io("list", dir, err)),
    };
    let now = SystemTime::now();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let name = entry.file_name();
        let name = name.as_encoded_bytes();
        let path = entry.path();
        if name.starts_with(REMOVING_PREFIX.as_bytes()) {
            if fs::remove_dir_all(&path).is_ok() {
                removed.push(path);
            }
        } else if name.starts_with(TEMP_PREFIX.as_bytes()) {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .map(|modified| now.duration_since(modified).unwrap_or_default() >= age)
                .unwrap_or(false);
            if stale && fs::remove_file(&path).is_ok() {
                removed.push(path);
            }
        }
    }
    Ok(removed)
}

/// How [`lock`] waits for a lock held by someone else.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Wait {
    /// Block until the lock is free.
    Block,
    /// Fail at once with [`Locked::Busy`].
    No,
}

/// Why [`lock`] did not lock.
#[derive(Debug)]
pub(crate) enum Locked {
    /// Someone else holds the lock (only with [`Wait::No`]).
    Busy,
    /// The lock file does not exist and was not to be created.
    Missing,
    /// The lock file could not be opened or locked.
    Failed(Box<Error>),
}

/// Takes an exclusive `flock` on the file at `path`, created when `create` is set and its
/// directory exists. The lock is held as long as the returned file is open.
///
/// The file may be removed by its holder (with its directory) just before we lock it; the
/// lock would then be on a file nobody else can find. So after locking, the path must
/// still name the same file; if not, we try again.
pub(crate) fn lock(path: &Path, create: bool, wait: Wait) -> Result<File, Locked> {
    const ATTEMPTS: usize = 16;
    for _ in 0..ATTEMPTS {
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .mode(0o644)
            .open(path)
        {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(Locked::Missing),
            Err(err) => return Err(failed("open the lock", path, err)),
        };
        let operation = match wait {
            Wait::Block => FlockOperation::LockExclusive,
            Wait::No => FlockOperation::NonBlockingLockExclusive,
        };
        match rustix::fs::flock(&file, operation) {
            Ok(()) => {}
            Err(errno) if errno == rustix::io::Errno::WOULDBLOCK => return Err(Locked::Busy),
            Err(errno) => {
                return Err(failed("lock", path, io::Error::from(errno)));
            }
        }
        let held = file
            .metadata()
            .map_err(|e| failed("inspect the lock", path, e))?;
        match fs::metadata(path) {
            Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => return Ok(file),
            Ok(_) => continue,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                if create {
                    continue;
                }
                return Err(Locked::Missing);
            }
            Err(err) => return Err(failed("inspect the lock", path, err)),
        }
    }
    Err(Locked::Busy)
}

fn failed(action: &'static str, path: &Path, err: io::Error) -> Locked {
    Locked::Failed(Box::new(Error::io(action, path, err)))
}

/// Converts a [`SystemTime`] to the RFC 3339 text containerd writes in `startedat`.
pub(crate) fn format_time(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    imgsvc_imagestore::Timestamp::from_unix(seconds, since.subsec_nanos(), 0)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Parses RFC 3339 text written by [`format_time`] (or by containerd).
pub(crate) fn parse_time(text: &str) -> Option<SystemTime> {
    let stamp: imgsvc_imagestore::Timestamp = text.parse().ok()?;
    let nanos = Duration::from_nanos(u64::from(stamp.nanos()));
    match u64::try_from(stamp.unix_seconds()) {
        Ok(seconds) => UNIX_EPOCH.checked_add(Duration::from_secs(seconds) + nanos),
        Err(_) => UNIX_EPOCH
            .checked_sub(Duration::from_secs(stamp.unix_seconds().unsigned_abs()))?
            .checked_add(nanos),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().expect("a temp dir because tests need one");
        write_atomic(dir.path(), "a", b"one", 0o644).expect("first write");
        write_atomic(dir.path(), "a", b"two", 0o644).expect("second write");
        assert_eq!(fs::read(dir.path().join("a")).expect("read"), b"two");
        assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 1);
    }

    #[test]
    fn leftovers_are_removed_only_when_stale() {
        let dir = tempfile::tempdir().expect("a temp dir because tests need one");
        fs::write(dir.path().join(".tmp-x"), b"").expect("write");
        fs::create_dir(dir.path().join(".removing-y")).expect("mkdir");
        fs::write(dir.path().join("keep"), b"").expect("write");
        let removed = remove_leftovers(dir.path(), Duration::from_secs(3600)).expect("clean");
        assert_eq!(removed, [dir.path().join(".removing-y")]);
        let removed = remove_leftovers(dir.path(), Duration::ZERO).expect("clean");
        assert_eq!(removed, [dir.path().join(".tmp-x")]);
        assert!(dir.path().join("keep").exists());
    }

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().expect("a temp dir because tests need one");
        let path = dir.path().join("lock");
        let first = lock(&path, true, Wait::No).expect("first lock");
        assert!(matches!(lock(&path, true, Wait::No), Err(Locked::Busy)));
        drop(first);
        assert!(lock(&path, true, Wait::No).is_ok());
        assert!(matches!(
            lock(&dir.path().join("none"), false, Wait::No),
            Err(Locked::Missing)
        ));
    }

    #[test]
    fn times_round_trip_through_text() {
        let time = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        let text = format_time(time);
        assert_eq!(text, "2023-11-14T22:13:20.123456789Z");
        assert_eq!(parse_time(&text), Some(time));
        assert_eq!(parse_time("yesterday"), None);
    }
}
