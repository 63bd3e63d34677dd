//! The layer database on disk, in Docker's layout under `<root>/image/<driver>/layerdb`:
//!
//! ```text
//! sha256/<chain-hex>/{diff,size,cache-id,parent,tar-split.json.gz}   one directory a layer
//! sha256/<chain-hex>-<random>-removing/                               a layer being deleted
//! tmp/write-set-<random>/                                             a layer being registered
//! mounts/<name>/{mount-id,init-id,parent}                             read-write layers
//! ```
//!
//! A layer appears only when its complete, fsynced directory is renamed into `sha256/`, so a
//! crash leaves either no layer or a whole one; leftovers in `tmp/` and `-removing`
//! directories are cleaned at open.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::{ChainId, DiffId, Error, random_id};

/// The name of the gzip'd tar-split metadata file in a layer's directory.
pub(crate) const TAR_SPLIT: &str = "tar-split.json.gz";

/// The directory (an imgsvc addition, ignored by Docker) holding the data of entries that
/// are not on disk under their own name, by their ordinal among entries with data.
pub(crate) const STASH: &str = "stash";

/// What the database records about one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) diff_id: DiffId,
    pub(crate) size: u64,
    pub(crate) cache_id: String,
    pub(crate) parent: Option<ChainId>,
}

/// What the database records about one read-write layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountRecord {
    pub(crate) mount_id: String,
    pub(crate) init_id: Option<String>,
    pub(crate) parent: Option<ChainId>,
}

/// The layer database rooted at a `layerdb` directory.
#[derive(Debug)]
pub(crate) struct LayerDb {
    root: PathBuf,
}

impl LayerDb {
    /// Opens (creating if needed) the database and removes unfinished registrations.
    pub(crate) fn open(root: &Path) -> Result<LayerDb, Error> {
        for dir in [root.join("sha256"), root.join("mounts"), root.join("tmp")] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(&dir)
                .map_err(Error::io("create", &dir))?;
        }
        let db = LayerDb {
            root: root.to_owned(),
        };
        // A registration that never committed left only a write set behind.
        let tmp = db.root.join("tmp");
        for entry in fs::read_dir(&tmp).map_err(Error::io("list", &tmp))? {
            let path = entry.map_err(Error::io("list", &tmp))?.path();
            remove_all(&path)?;
        }
        Ok(db)
    }

    fn layer_dir(&self, chain_id: ChainId) -> PathBuf {
        self.root
            .join("sha256")
            .join(chain_id.digest().encoded().as_str())
    }

    /// True if a committed layer with this ChainID is on disk.
    pub(crate) fn exists(&self, chain_id: ChainId) -> bool {
        self.layer_dir(chain_id).is_dir()
    }

    /// The ChainIDs of all committed layers (directories with valid names).
    pub(crate) fn list(&self) -> Result<Vec<ChainId>, Error> {
        let dir = self.root.join("sha256");
        let mut ids = Vec::new();
        for entry in fs::read_dir(&dir).map_err(Error::io("list", &dir))? {
            let entry = entry.map_err(Error::io("list", &dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Ok(chain_id) = format!("sha256:{name}").parse::<ChainId>()
                && entry.file_type().is_ok_and(|t| t.is_dir())
            {
                ids.push(chain_id);
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Reads a layer's record, checking every field as Docker does (whitespace is trimmed
    /// from `diff`, `cache-id` and `parent`, not from `size`).
    pub(crate) fn read(&self, chain_id: ChainId) -> Result<Record, Error> {
        let dir = self.layer_dir(chain_id);
        let diff_path = dir.join("diff");
        let diff_id: DiffId = read_text(&diff_path)?
            .trim()
            .parse()
            .map_err(|err| Error::corrupt(&diff_path, format!("not a digest: {err}")))?;
        let size_path = dir.join("size");
        let size = read_text(&size_path)?
            .parse()
            .map_err(|err| Error::corrupt(&size_path, format!("not a byte count: {err}")))?;
        let cache_path = dir.join("cache-id");
        let cache_id = read_text(&cache_path)?.trim().to_owned();
        if cache_id.is_empty() {
            return Err(Error::corrupt(&cache_path, "invalid cache id value"));
        }
        let parent = read_parent(&dir.join("parent"))?;
        Ok(Record {
            diff_id,
            size,
            cache_id,
            parent,
        })
    }

    /// Where a layer keeps the data of entries that are not on disk under their own name.
    pub(crate) fn stash_dir(&self, chain_id: ChainId) -> PathBuf {
        self.layer_dir(chain_id).join(STASH)
    }

    /// Opens a layer's tar-split metadata.
    pub(crate) fn open_tar_split(&self, chain_id: ChainId) -> Result<File, Error> {
        let path = self.layer_dir(chain_id).join(TAR_SPLIT);
        File::open(&path).map_err(Error::io("open", &path))
    }

    /// Starts recording a new layer in a fresh directory under `tmp/`.
    pub(crate) fn begin(&self) -> Result<WriteSet, Error> {
        let id = random_id::generate().map_err(Error::io("generate an id for", &self.root))?;
        let dir = self.root.join("tmp").join(format!("write-set-{id}"));
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(Error::io("create", &dir))?;
        Ok(WriteSet {
            dir,
            committed: false,
        })
    }

    /// Makes a recorded layer visible under its ChainID. If the ChainID exists already the
    /// write set is left as it is and `Ok(false)` says so.
    pub(crate) fn commit(&self, mut set: WriteSet, chain_id: ChainId) -> Result<bool, Error> {
        sync_dir(&set.dir)?;
        let target = self.layer_dir(chain_id);
        // rename(2) would replace an empty directory, and a non-empty one makes it fail
        // with ENOTEMPTY: check first so an existing layer is never touched.
        if target.exists() {
            return Ok(false);
        }
        match fs::rename(&set.dir, &target) {
            Ok(()) => {}
            Err(err)
                if matches!(
                    err.raw_os_error(),
                    Some(code) if code == libc_enotempty() || code == libc_eexist()
                ) =>
            {
                return Ok(false);
            }
            Err(err) => return Err(Error::io("commit", &target)(err)),
        }
        set.committed = true;
        sync_dir(&self.root.join("sha256"))?;
        Ok(true)
    }

    /// Deletes a layer's directory: renamed to `<hex>-<random>-removing` first (so a crash
    /// never leaves a half-deleted layer that looks whole), then removed.
    pub(crate) fn remove(&self, chain_id: ChainId) -> Result<(), Error> {
        let dir = self.layer_dir(chain_id);
        let id = random_id::generate().map_err(Error::io("generate an id for", &dir))?;
        let removing = self
            .root
            .join("sha256")
            .join(format!("{}-{id}-removing", chain_id.digest().encoded()));
        fs::rename(&dir, &removing).map_err(Error::io("remove", &dir))?;
        sync_dir(&self.root.join("sha256"))?;
        remove_all(&removing)
    }

    /// Directories of layers whose removal was interrupted, with their cache IDs if known.
    pub(crate) fn removing_leftovers(&self) -> Result<Vec<(PathBuf, Option<String>)>, Error> {
        let dir = self.root.join("sha256");
        let mut found = Vec::new();
        for entry in fs::read_dir(&dir).map_err(Error::io("list", &dir))? {
            let path = entry.map_err(Error::io("list", &dir))?.path();
            let is_removing = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("-removing"));
            if is_removing {
                let cache_id = fs::read_to_string(path.join("cache-id"))
                    .ok()
                    .map(|id| id.trim().to_owned());
                found.push((path, cache_id));
            }
        }
        Ok(found)
    }

    fn mount_dir(&self, name: &str) -> PathBuf {
        self.root.join("mounts").join(name)
    }

    /// True if a read-write layer `name` is recorded.
    pub(crate) fn mount_exists(&self, name: &str) -> bool {
        self.mount_dir(name).exists()
    }

    /// Records a read-write layer.
    pub(crate) fn save_mount(&self, name: &str, record: &MountRecord) -> Result<(), Error> {
        let dir = self.mount_dir(name);
        fs::DirBuilder::new()
            .mode(0o755)
            .create(&dir)
            .map_err(Error::io("create", &dir))?;
        write_file(&dir.join("mount-id"), record.mount_id.as_bytes())?;
        if let Some(init_id) = &record.init_id {
            write_file(&dir.join("init-id"), init_id.as_bytes())?;
        }
        if let Some(parent) = record.parent {
            write_file(&dir.join("parent"), parent.to_string().as_bytes())?;
        }
        sync_dir(&dir)?;
        sync_dir(&self.root.join("mounts"))
    }

    /// Reads every read-write layer's record, by name.
    pub(crate) fn mounts(&self) -> Result<Vec<(String, MountRecord)>, Error> {
        let dir = self.root.join("mounts");
        let mut mounts = Vec::new();
        for entry in fs::read_dir(&dir).map_err(Error::io("list", &dir))? {
            let entry = entry.map_err(Error::io("list", &dir))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            mounts.push((name.clone(), self.read_mount(&name)?));
        }
        mounts.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(mounts)
    }

    fn read_mount(&self, name: &str) -> Result<MountRecord, Error> {
        let dir = self.mount_dir(name);
        let mount_path = dir.join("mount-id");
        let mount_id = read_text(&mount_path)?.trim().to_owned();
        if !random_id::is_valid(&mount_id) {
            return Err(Error::corrupt(&mount_path, "invalid mount id value"));
        }
        let init_path = dir.join("init-id");
        let init_id = match fs::read_to_string(&init_path) {
            Ok(text) => {
                let id = text.trim().to_owned();
                if !random_id::is_valid(id.strip_suffix("-init").unwrap_or(&id)) {
                    return Err(Error::corrupt(&init_path, "invalid init id value"));
                }
                Some(id)
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(Error::io("read", &init_path)(err)),
        };
        let parent = read_parent(&dir.join("parent"))?;
        Ok(MountRecord {
            mount_id,
            init_id,
            parent,
        })
    }

    /// Forgets a read-write layer's record.
    pub(crate) fn remove_mount(&self, name: &str) -> Result<(), Error> {
        remove_all(&self.mount_dir(name))?;
        sync_dir(&self.root.join("mounts"))
    }
}

/// A layer being recorded: a private directory that becomes the layer's directory on commit
/// and is removed if dropped before.
#[derive(Debug)]
pub(crate) struct WriteSet {
    dir: PathBuf,
    committed: bool,
}

impl WriteSet {
    /// Records the layer's DiffID, size, driver ID and parent.
    pub(crate) fn write_record(&self, record: &Record) -> Result<(), Error> {
        write_file(
            &self.dir.join("diff"),
            record.diff_id.to_string().as_bytes(),
        )?;
        write_file(&self.dir.join("size"), record.size.to_string().as_bytes())?;
        write_file(&self.dir.join("cache-id"), record.cache_id.as_bytes())?;
        if let Some(parent) = record.parent {
            write_file(&self.dir.join("parent"), parent.to_string().as_bytes())?;
        }
        Ok(())
    }

    /// Where entry data that does not stay on disk under its own name is kept.
    pub(crate) fn stash_dir(&self) -> PathBuf {
        self.dir.join(STASH)
    }

    /// Creates the tar-split file; the caller writes and syncs it.
    pub(crate) fn create_tar_split(&self) -> Result<File, Error> {
        let path = self.dir.join(TAR_SPLIT);
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&path)
            .map_err(Error::io("create", &path))
    }
}

impl Drop for WriteSet {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: whatever is left is removed at the next open.
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Reads an optional `parent` file: a ChainID, or none when the file is missing or empty.
fn read_parent(path: &Path) -> Result<Option<ChainId>, Error> {
    match fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(None),
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|err| Error::corrupt(path, format!("not a digest: {err}"))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(Error::io("read", path)(err)),
    }
}

/// Reads a small metadata file as UTF-8.
fn read_text(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(Error::io("read", path))
}

/// Writes a small metadata file (mode 0644) and syncs it.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(path)
        .map_err(Error::io("create", path))?;
    file.write_all(bytes).map_err(Error::io("write", path))?;
    file.sync_all().map_err(Error::io("sync", path))
}

/// Syncs a directory, making renames and creations inside it durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("sync", dir))
}

/// Removes a directory tree; a missing one is fine.
pub(crate) fn remove_all(path: &Path) -> Result<(), Error> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(Error::io("remove", path)(err)),
    }
}

fn libc_enotempty() -> i32 {
    rustix::io::Errno::NOTEMPTY.raw_os_error()
}

fn libc_eexist() -> i32 {
    rustix::io::Errno::EXIST.raw_os_error()
}
