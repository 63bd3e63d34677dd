//! A verified blob waiting on disk for its parent layer; deleted when dropped.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// A temporary file holding one blob's bytes.
#[derive(Debug)]
pub(crate) struct Spool {
    path: PathBuf,
    file: File,
}

impl Spool {
    /// A new, empty spool file in `dir`.
    pub(crate) fn create(dir: &Path, name: &str) -> Result<Spool, Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        let file = tempfile::Builder::new()
            .prefix(&format!("blob-{name}-"))
            .tempfile_in(dir)
            .map_err(|e| Error::io("create a spool file in", dir, e))?;
        let (file, path) = file.keep().map_err(|e| Error::io("keep", dir, e.error))?;
        Ok(Spool { path, file })
    }

    /// Appends bytes.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        use std::io::Write as _;
        self.file
            .write_all(bytes)
            .map_err(|e| Error::io("write", &self.path, e))
    }

    /// A reader of the whole file from the start.
    pub(crate) fn open(&self) -> Result<File, Error> {
        File::open(&self.path).map_err(|e| Error::io("open", &self.path, e))
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
