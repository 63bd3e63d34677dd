//! [`FsBackend`]: image configs in Docker's `imagedb` directory.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use imgsvc_digest::{Algorithm, Digest};

use super::{BackendLock, MAX_METADATA_SIZE, StoreBackend, atomic};
use crate::{Error, ImageId, MAX_CONFIG_SIZE};

/// Temporary files older than this are leftovers of a crash (a write takes milliseconds).
const STALE_TEMP_AGE: Duration = Duration::from_secs(60);

/// Image configs in Docker's `imagedb` layout:
///
/// ```text
/// <root>/content/sha256/<hex>             config bytes (0600)
/// <root>/metadata/sha256/<hex>/<key>      metadata values (0600)
/// <root>/generation                       changes with every write; locked by writers
/// ```
///
/// The root is usually `<data-root>/image/<driver>/imagedb`; `content/sha256` and
/// `metadata/sha256` are created with mode 0700, as Docker does. Writes are atomic (a
/// temporary file in the same directory, fsync, rename, fsync of the directory), reads
/// re-verify the content against its ID and name the damaged file when it does not match,
/// and the walk skips names that are not IDs (such as temporary files).
///
/// `generation` is an addition to Docker's layout (Docker does not look at it): eight bytes
/// rewritten with a random value after every change, so other processes notice changes with
/// one read, and `flock`ed by writers.
///
/// ```
/// use imgsvc_imagestore::{FsBackend, StoreBackend};
///
/// let root = tempfile::tempdir()?;
/// let backend = FsBackend::open(root.path().join("image/vfs/imagedb"))?;
/// let id = backend.set(b"{\"rootfs\":{}}")?;
/// let file = root.path().join("image/vfs/imagedb/content/sha256").join(id.digest().encoded().as_str());
/// assert_eq!(std::fs::read(file)?, b"{\"rootfs\":{}}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FsBackend {
    root: PathBuf,
    /// `generation`, kept open: reading it is one `pread`.
    generation: File,
    generation_path: PathBuf,
}

/// Construction
impl FsBackend {
    /// Opens (creating if needed) the backend at `root`.
    ///
    /// ```
    /// let root = tempfile::tempdir()?;
    /// std::fs::write(root.path().join("content"), b"a file")?;
    /// assert!(imgsvc_imagestore::FsBackend::open(root.path()).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(root: impl AsRef<Path>) -> Result<FsBackend, Error> {
        let root =
            std::path::absolute(root.as_ref()).map_err(Error::io("resolve", root.as_ref()))?;
        for dir in ["content", "metadata"] {
            atomic::create_dir(&root.join(dir).join(Algorithm::CANONICAL.name()))?;
        }
        let generation_path = root.join("generation");
        let generation = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&generation_path)
            .map_err(Error::io("open", &generation_path))?;
        Ok(FsBackend {
            root,
            generation,
            generation_path,
        })
    }

    /// The root directory (`.../imagedb`).
    ///
    /// ```
    /// let root = tempfile::tempdir()?;
    /// let backend = imgsvc_imagestore::FsBackend::open(root.path())?;
    /// assert_eq!(backend.root(), root.path());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file holding the content of `id`.
    ///
    /// ```
    /// use imgsvc_imagestore::{FsBackend, ImageId};
    /// let backend = FsBackend::open(tempfile::tempdir()?.path())?;
    /// let path = backend.content_path(ImageId::of(b"x"));
    /// assert!(path.ends_with("content/sha256/2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn content_path(&self, id: ImageId) -> PathBuf {
        self.id_path("content", id.digest())
    }

    /// The directory holding the metadata of `id`.
    ///
    /// ```
    /// use imgsvc_imagestore::{FsBackend, ImageId};
    /// let backend = FsBackend::open(tempfile::tempdir()?.path())?;
    /// assert!(backend.metadata_dir(ImageId::of(b"x")).starts_with(backend.root().join("metadata/sha256")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metadata_dir(&self, id: ImageId) -> PathBuf {
        self.id_path("metadata", id.digest())
    }

    fn id_path(&self, kind: &str, digest: Digest) -> PathBuf {
        let mut path = self.root.join(kind);
        path.push(digest.algorithm().name());
        path.push(digest.encoded().as_str());
        path
    }

    /// Records that something changed: a new random generation.
    fn bump(&self) -> Result<(), Error> {
        let value = atomic::random()?;
        self.generation
            .write_all_at(&value.to_le_bytes(), 0)
            .map_err(Error::io("write", &self.generation_path))
    }

    /// Reads content that must exist, verified.
    fn read_verified(&self, id: ImageId) -> Result<Vec<u8>, Error> {
        let path = self.content_path(id);
        let data =
            atomic::read_capped(&path, MAX_CONFIG_SIZE, "image config")?.ok_or_else(|| {
                Error::ContentNotFound {
                    id,
                    path: path.clone(),
                }
            })?;
        if id.digest().algorithm().hash(&data) != id.digest() {
            return Err(Error::Corrupted { id, path });
        }
        Ok(data)
    }

    /// Fails unless content is stored under `id` (a cheap check: no read).
    fn require_content(&self, id: ImageId) -> Result<(), Error> {
        let path = self.content_path(id);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => Ok(()),
            Ok(_) => Err(Error::ContentNotFound { id, path }),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                Err(Error::ContentNotFound { id, path })
            }
            Err(err) => Err(Error::io("inspect", path)(err)),
        }
    }
}

impl StoreBackend for FsBackend {
    fn walk(&self, f: &mut dyn FnMut(ImageId) -> Result<(), Error>) -> Result<(), Error> {
        let dir = self.root.join("content").join(Algorithm::CANONICAL.name());
        let entries = fs::read_dir(&dir).map_err(Error::io("list", &dir))?;
        for entry in entries {
            let entry = entry.map_err(Error::io("list", &dir))?;
            let name = entry.file_name();
            let Some(digest) = name
                .to_str()
                .and_then(|name| Digest::from_encoded(Algorithm::CANONICAL, name).ok())
            else {
                continue;
            };
            f(ImageId::new(digest))?;
        }
        Ok(())
    }

    fn get(&self, id: ImageId) -> Result<Vec<u8>, Error> {
        self.read_verified(id)
    }

    fn set(&self, data: &[u8]) -> Result<ImageId, Error> {
        super::check_content(data)?;
        let id = ImageId::of(data);
        // The same bytes stored already: nothing to write (a damaged copy is replaced).
        if let Ok(Some(existing)) =
            atomic::read_capped(&self.content_path(id), MAX_CONFIG_SIZE, "image config")
            && existing == data
        {
            return Ok(id);
        }
        let dir = self.root.join("content").join(Algorithm::CANONICAL.name());
        atomic::write(&dir, id.digest().encoded().as_str(), data)?;
        self.bump()?;
        Ok(id)
    }

    fn delete(&self, id: ImageId) -> Result<(), Error> {
        let metadata = self.metadata_dir(id);
        let removed_metadata = match fs::remove_dir_all(&metadata) {
            Ok(()) => true,
            Err(err) if err.kind() == io::ErrorKind::NotFound => false,
            Err(err) => return Err(Error::io("remove", metadata)(err)),
        };
        let path = self.content_path(id);
        let result = match fs::remove_file(&path) {
            Ok(()) => atomic::sync_dir(path.parent().unwrap_or(&self.root)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                Err(Error::ContentNotFound { id, path })
            }
            Err(err) => Err(Error::io("remove", path)(err)),
        };
        if result.is_ok() || removed_metadata {
            self.bump()?;
        }
        result
    }

    fn set_metadata(&self, id: ImageId, key: &str, data: &[u8]) -> Result<(), Error> {
        super::validate_key(key)?;
        super::check_metadata(data)?;
        self.read_verified(id)?;
        let dir = self.metadata_dir(id);
        atomic::create_dir(&dir)?;
        atomic::write(&dir, key, data)?;
        self.bump()
    }

    fn try_get_metadata(&self, id: ImageId, key: &str) -> Result<Option<Vec<u8>>, Error> {
        super::validate_key(key)?;
        // The content was verified when it was stored and is verified when it is read; here
        // it only has to exist (a full read would double the cost of opening a store).
        self.require_content(id)?;
        let path = self.metadata_dir(id).join(key);
        atomic::read_capped(&path, MAX_METADATA_SIZE, "metadata value")
    }

    fn delete_metadata(&self, id: ImageId, key: &str) -> Result<(), Error> {
        super::validate_key(key)?;
        let path = self.metadata_dir(id).join(key);
        match fs::remove_file(&path) {
            Ok(()) => self.bump(),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(Error::io("remove", path)(err)),
        }
    }

    fn generation(&self) -> Result<u64, Error> {
        let mut bytes = [0u8; 8];
        let mut filled = 0;
        while filled < bytes.len() {
            let rest = bytes.get_mut(filled..).unwrap_or_default();
            match self.generation.read_at(rest, filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(Error::io("read", &self.generation_path)(err)),
            }
        }
        Ok(u64::from_le_bytes(bytes))
    }

    fn lock(&self) -> Result<BackendLock, Error> {
        let file = OpenOptions::new()
            .read(true)
            .open(&self.generation_path)
            .map_err(Error::io("open the lock file", &self.generation_path))?;
        file.lock()
            .map_err(Error::io("lock", &self.generation_path))?;
        Ok(BackendLock::new(file))
    }

    fn cleanup(&self) -> Result<(), Error> {
        let dir = self.root.join("content").join(Algorithm::CANONICAL.name());
        atomic::remove_stale_temps(&dir, STALE_TEMP_AGE).map(drop)
    }
}
