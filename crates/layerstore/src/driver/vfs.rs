//! The `vfs` driver: every layer is a complete directory tree, a copy of its parent with the
//! layer's diff applied. Portable and simple; costs a copy per layer (shared extents where the
//! filesystem offers reflinks).

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use super::Driver;
use crate::apply::Whiteouts;
use crate::diff::LayerDiff;
use crate::{Error, copy};

/// The `vfs` driver over `<root>/vfs/dir/<id>`.
///
/// ```
/// use imgsvc_layerstore::driver::{Driver, Vfs};
/// let root = tempfile::tempdir()?;
/// let vfs = Vfs::open(root.path().join("vfs"))?.with_note("overlay2: not root".to_owned());
/// assert_eq!(vfs.name(), "vfs");
/// assert!(vfs.status().iter().any(|(_, value)| value.contains("not root")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Vfs {
    home: PathBuf,
    note: Option<String>,
}

impl Vfs {
    /// Opens the driver whose layers live under `home` (usually `<root>/vfs`).
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let vfs = imgsvc_layerstore::driver::Vfs::open(dir.path().join("vfs"))?;
    /// assert!(dir.path().join("vfs/dir").is_dir()); // layers go in vfs/dir/<id>
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(home: impl AsRef<Path>) -> Result<Vfs, Error> {
        let dirs = home.as_ref().join("dir");
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dirs)
            .map_err(Error::io("create", &dirs))?;
        Ok(Vfs {
            home: home.as_ref().to_owned(),
            note: None,
        })
    }

    /// The same driver, reporting `note` in its status (e.g. why a better driver was not
    /// used).
    pub fn with_note(self, note: String) -> Vfs {
        Vfs {
            note: Some(note),
            ..self
        }
    }

    fn dir(&self, id: &str) -> Result<PathBuf, Error> {
        if !crate::random_id::is_valid(id.strip_suffix("-init").unwrap_or(id)) {
            return Err(Error::corrupt(
                &self.home,
                format!("invalid layer id {id:?}"),
            ));
        }
        Ok(self.home.join("dir").join(id))
    }

    fn create_layer(&self, id: &str, parent: Option<&str>) -> Result<(), Error> {
        let dir = self.dir(id)?;
        match parent {
            Some(parent) => copy::copy_tree(&self.dir(parent)?, &dir),
            None => fs::DirBuilder::new()
                .mode(0o755)
                .create(&dir)
                .map_err(Error::io("create", &dir)),
        }
    }
}

impl Driver for Vfs {
    fn name(&self) -> &'static str {
        "vfs"
    }

    fn status(&self) -> Vec<(String, String)> {
        self.note
            .iter()
            .map(|note| ("Note".to_owned(), note.clone()))
            .collect()
    }

    fn create(&self, id: &str, parent: Option<&str>) -> Result<(), Error> {
        self.create_layer(id, parent)
    }

    fn remove(&self, id: &str) -> Result<(), Error> {
        crate::layerdb::remove_all(&self.dir(id)?)
    }

    fn exists(&self, id: &str) -> bool {
        self.dir(id).is_ok_and(|dir| dir.is_dir())
    }

    fn get(&self, id: &str) -> Result<PathBuf, Error> {
        let dir = self.dir(id)?;
        if !dir.is_dir() {
            return Err(Error::corrupt(&dir, "the layer's directory is missing"));
        }
        Ok(dir)
    }

    fn put(&self, _id: &str) -> Result<(), Error> {
        Ok(())
    }

    fn apply_diff(
        &self,
        id: &str,
        _parent: Option<&str>,
        diff: &mut LayerDiff<'_>,
    ) -> Result<u64, Error> {
        diff.apply_to(&self.dir(id)?, Whiteouts::Delete)
    }

    fn diff_dir(&self, id: &str) -> Result<PathBuf, Error> {
        self.get(id)
    }

    fn cleanup(&self) -> Result<(), Error> {
        Ok(())
    }
}
