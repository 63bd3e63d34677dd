//! Atomic file writes: a temporary file in the same directory, fsync, rename, fsync of the
//! directory. A crash leaves the old file or the new one, never a part of either.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::Error;

/// The prefix of temporary files; names with it are never IDs or metadata keys.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// Writes `data` to `dir/name` atomically, as a 0600 file.
pub(crate) fn write(dir: &Path, name: &str, data: &[u8]) -> Result<(), Error> {
    let target = dir.join(name);
    let temp = dir.join(format!("{TEMP_PREFIX}{name}-{:016x}", random()?));
    let result = write_temp(&temp, data).and_then(|()| {
        fs::rename(&temp, &target).map_err(Error::io("rename a temporary file to", &target))
    });
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result?;
    sync_dir(dir)
}

fn write_temp(temp: &Path, data: &[u8]) -> Result<(), Error> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(temp)
        .map_err(Error::io("create", temp))?;
    file.write_all(data).map_err(Error::io("write", temp))?;
    file.sync_all().map_err(Error::io("sync", temp))
}

/// Fsyncs a directory, so a rename or removal in it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("sync", dir))
}

/// Creates `dir` and its missing parents, new ones with mode 0700.
pub(crate) fn create_dir(dir: &Path) -> Result<(), Error> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(Error::io("create the directory", dir))
}

/// Reads a whole file of at most `limit` bytes; `None` if it does not exist.
pub(crate) fn read_capped(
    path: &Path,
    limit: usize,
    what: &'static str,
) -> Result<Option<Vec<u8>>, Error> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(Error::io("open", path)(err)),
    };
    let len = file.metadata().map_err(Error::io("inspect", path))?.len();
    let too_large = |size| Error::TooLarge {
        what,
        size,
        limit: limit as u64,
        path: Some(path.to_owned()),
    };
    if len > limit as u64 {
        return Err(too_large(len));
    }
    let mut data = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit as u64 + 1)
        .read_to_end(&mut data)
        .map_err(Error::io("read", path))?;
    if data.len() > limit {
        return Err(too_large(data.len() as u64));
    }
    Ok(Some(data))
}

/// Removes temporary files older than `age` from `dir`: what a crash during a write left.
pub(crate) fn remove_stale_temps(dir: &Path, age: Duration) -> Result<Vec<PathBuf>, Error> {
    let mut removed = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(removed),
        Err(err) => return Err(Error::io("list", dir)(err)),
    };
    let now = SystemTime::now();
    for entry in entries {
        let entry = entry.map_err(Error::io("list", dir))?;
        if !entry
            .file_name()
            .as_encoded_bytes()
            .starts_with(TEMP_PREFIX.as_bytes())
        {
            continue;
        }
        let path = entry.path();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .map(|modified| now.duration_since(modified).unwrap_or_default() >= age)
            .unwrap_or(false);
        if stale && fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    Ok(removed)
}

/// Eight random bytes from the kernel.
pub(crate) fn random() -> Result<u64, Error> {
    let mut bytes = [0u8; 8];
    let mut filled = 0;
    while filled < bytes.len() {
        let rest = bytes.get_mut(filled..).unwrap_or_default();
        filled += rustix::rand::getrandom(rest, rustix::rand::GetRandomFlags::empty())
            .map_err(|err| Error::io("get random bytes for", "a temporary name")(err.into()))?;
    }
    Ok(u64::from_le_bytes(bytes))
}
