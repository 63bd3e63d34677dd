//! The `overlay2` driver: each layer keeps only its own files (`<id>/diff`), and a layer's
//! whole filesystem is an overlayfs mount of its diff over its parents' diffs. Docker's
//! layout:
//!
//! ```text
//! <home>/<id>/diff      the layer's own files (whiteouts as 0/0 character devices,
//!                       opaque directories marked with an xattr)
//! <home>/<id>/link      the layer's short name
//! <home>/<id>/lower     its parents' short links, nearest first: l/ABC:l/DEF
//! <home>/<id>/work      overlayfs work directory (layers with a parent)
//! <home>/<id>/merged    mount point
//! <home>/l/<short>      symlink to ../<id>/diff
//! ```
//!
//! Each layer's diff is extracted into its own directory, so different layers of an image can
//! be extracted in parallel.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, MountFlags, MoveMountFlags, UnmountFlags,
};

use super::Driver;
use crate::apply::Whiteouts;
use crate::diff::LayerDiff;
use crate::{Error, layerdb, random_id};

/// The xattr overlayfs reads to see an opaque directory, when mounted by root.
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// The `overlay2` driver over `<root>/overlay2`.
///
/// ```
/// use imgsvc_layerstore::driver::{Driver, Overlay2};
/// let root = tempfile::tempdir()?;
/// let (base, rw) = ("a".repeat(64), "b".repeat(64));
/// match Overlay2::open(root.path().join("overlay2")) {
///     Ok(overlay) => {
///         overlay.create(&base, None)?;
///         std::fs::write(overlay.diff_dir(&base)?.join("file"), b"1")?;
///         overlay.create_read_write(&rw, Some(base.as_str()))?;
///         let merged = overlay.get(&rw)?; // an overlay mount: the lower layer shows through
///         assert!(merged.join("file").exists());
///         overlay.put(&rw)?;
///         let status = overlay.status();
///         assert!(status.iter().any(|(key, _)| key == "Backing Filesystem"));
///     }
///     // Not root, or a kernel without overlayfs: the error says which.
///     Err(err) => println!("overlay2 is not available here: {err}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Overlay2 {
    home: PathBuf,
    /// How many times each layer is mounted by this process.
    mounts: Mutex<HashMap<String, usize>>,
    backing: String,
}

impl Overlay2 {
    /// Opens the driver whose layers live under `home` (usually `<root>/overlay2`), after
    /// checking that this kernel and these privileges can mount an overlay there; the error
    /// says why not.
    pub fn open(home: impl AsRef<Path>) -> Result<Overlay2, Error> {
        let home = home.as_ref().to_owned();
        let links = home.join("l");
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o710)
            .create(&links)
            .map_err(Error::io("create", &links))?;
        check_support(&home)?;
        let backing = rustix::fs::statfs(&home)
            .map(|s| filesystem_name(s.f_type))
            .unwrap_or_else(|_| "unknown".to_owned());
        Ok(Overlay2 {
            home,
            mounts: Mutex::new(HashMap::new()),
            backing,
        })
    }

    fn layer_dir(&self, id: &str) -> Result<PathBuf, Error> {
        if !random_id::is_valid(id.strip_suffix("-init").unwrap_or(id)) {
            return Err(Error::corrupt(
                &self.home,
                format!("invalid layer id {id:?}"),
            ));
        }
        Ok(self.home.join(id))
    }

    /// The lower directories of a layer, nearest first, as absolute paths.
    fn lowers(&self, id: &str) -> Result<Vec<PathBuf>, Error> {
        let lower_file = self.layer_dir(id)?.join("lower");
        match fs::read_to_string(&lower_file) {
            Ok(text) => Ok(text
                .trim()
                .split(':')
                .filter(|l| !l.is_empty())
                .map(|l| self.home.join(l))
                .collect()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(err) => Err(Error::io("read", &lower_file)(err)),
        }
    }

    fn create_layer(&self, id: &str, parent: Option<&str>) -> Result<(), Error> {
        let dir = self.layer_dir(id)?;
        let made = self.create_layer_in(&dir, parent);
        if made.is_err() {
            let _ = self.remove(id);
        }
        made
    }

    fn create_layer_in(&self, dir: &Path, parent: Option<&str>) -> Result<(), Error> {
        fs::DirBuilder::new()
            .mode(0o710)
            .create(dir)
            .map_err(Error::io("create", dir))?;
        let diff = dir.join("diff");
        fs::DirBuilder::new()
            .mode(0o755)
            .create(&diff)
            .map_err(Error::io("create", &diff))?;
        let short = random_id::generate()
            .map_err(Error::io("generate an id in", dir))?
            .get(..26)
            .unwrap_or_default()
            .to_uppercase();
        let link = self.home.join("l").join(&short);
        let target = Path::new("..")
            .join(dir.file_name().unwrap_or_default())
            .join("diff");
        std::os::unix::fs::symlink(&target, &link).map_err(Error::io("create", &link))?;
        fs::write(dir.join("link"), &short).map_err(Error::io("write", dir.join("link")))?;
        self.link_parent(dir, parent)
    }

    /// Writes `lower` (the parent's link, then the parent's lowers) and makes `work`.
    fn link_parent(&self, dir: &Path, parent: Option<&str>) -> Result<(), Error> {
        if let Some(parent) = parent {
            let parent_dir = self.layer_dir(parent)?;
            let parent_link = fs::read_to_string(parent_dir.join("link"))
                .map_err(Error::io("read", parent_dir.join("link")))?;
            let mut lower = format!("l/{}", parent_link.trim());
            if let Ok(parent_lower) = fs::read_to_string(parent_dir.join("lower")) {
                lower.push(':');
                lower.push_str(parent_lower.trim());
            }
            fs::write(dir.join("lower"), lower).map_err(Error::io("write", dir.join("lower")))?;
            let work = dir.join("work");
            fs::DirBuilder::new()
                .mode(0o700)
                .create(&work)
                .map_err(Error::io("create", &work))?;
        }
        Ok(())
    }

    fn mount_count(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.mounts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Driver for Overlay2 {
    fn name(&self) -> &'static str {
        "overlay2"
    }

    fn status(&self) -> Vec<(String, String)> {
        [
            ("Backing Filesystem", self.backing.as_str()),
            ("Supports d_type", "true"),
            ("Using metacopy", "false"),
            ("Native Overlay Diff", "true"),
            ("userxattr", "false"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    fn create(&self, id: &str, parent: Option<&str>) -> Result<(), Error> {
        self.create_layer(id, parent)
    }

    fn applies_without_parent(&self) -> bool {
        true
    }

    fn set_parent(&self, id: &str, parent: Option<&str>) -> Result<(), Error> {
        let dir = self.layer_dir(id)?;
        if dir.join("lower").exists() {
            return Err(Error::Unsupported {
                driver: "overlay2",
                reason: format!("layer {id} already has a parent"),
            });
        }
        self.link_parent(&dir, parent)
    }

    fn remove(&self, id: &str) -> Result<(), Error> {
        let dir = self.layer_dir(id)?;
        let merged = dir.join("merged");
        if self.mount_count().remove(id).is_some() {
            let _ = rustix::mount::unmount(&merged, UnmountFlags::DETACH);
        }
        if let Ok(short) = fs::read_to_string(dir.join("link")) {
            let short = short.trim();
            if !short.is_empty() && !short.contains('/') {
                let _ = fs::remove_file(self.home.join("l").join(short));
            }
        }
        layerdb::remove_all(&dir)
    }

    fn exists(&self, id: &str) -> bool {
        self.layer_dir(id)
            .is_ok_and(|dir| dir.join("diff").is_dir())
    }

    fn get(&self, id: &str) -> Result<PathBuf, Error> {
        let dir = self.layer_dir(id)?;
        let lowers = self.lowers(id)?;
        if lowers.is_empty() {
            // A base layer is its own diff; nothing to mount.
            return Ok(dir.join("diff"));
        }
        let merged = dir.join("merged");
        let mut mounts = self.mount_count();
        if let Some(count) = mounts.get_mut(id) {
            *count += 1;
            return Ok(merged);
        }
        fs::DirBuilder::new()
            .mode(0o700)
            .recursive(true)
            .create(&merged)
            .map_err(Error::io("create", &merged))?;
        mount_overlay(&lowers, &dir.join("diff"), &dir.join("work"), &merged)
            .map_err(|err| Error::io("mount an overlay on", &merged)(err.into()))?;
        mounts.insert(id.to_owned(), 1);
        Ok(merged)
    }

    fn put(&self, id: &str) -> Result<(), Error> {
        let dir = self.layer_dir(id)?;
        let mut mounts = self.mount_count();
        let Some(count) = mounts.get_mut(id) else {
            return Ok(());
        };
        *count -= 1;
        if *count == 0 {
            mounts.remove(id);
            unmount(&dir.join("merged"))?;
        }
        Ok(())
    }

    fn apply_diff(
        &self,
        id: &str,
        _parent: Option<&str>,
        diff: &mut LayerDiff<'_>,
    ) -> Result<u64, Error> {
        let dir = self.layer_dir(id)?.join("diff");
        diff.apply_to(
            &dir,
            Whiteouts::Overlay {
                opaque_xattr: OPAQUE_XATTR,
            },
        )?;
        disk_usage(&dir)
    }

    fn diff_dir(&self, id: &str) -> Result<PathBuf, Error> {
        Ok(self.layer_dir(id)?.join("diff"))
    }

    fn metadata(&self, id: &str) -> Result<Vec<(String, String)>, Error> {
        let dir = self.layer_dir(id)?;
        let mut pairs = Vec::new();
        let lowers = self.lowers(id)?;
        if !lowers.is_empty() {
            // Resolved to the layers' real diff directories, as Docker shows them.
            let resolved: Vec<String> = lowers
                .iter()
                .map(|l| {
                    fs::canonicalize(l)
                        .unwrap_or_else(|_| l.clone())
                        .display()
                        .to_string()
                })
                .collect();
            pairs.push(("LowerDir".to_owned(), resolved.join(":")));
            pairs.push((
                "MergedDir".to_owned(),
                dir.join("merged").display().to_string(),
            ));
            pairs.push(("WorkDir".to_owned(), dir.join("work").display().to_string()));
        }
        pairs.push((
            "UpperDir".to_owned(),
            dir.join("diff").display().to_string(),
        ));
        Ok(pairs)
    }

    fn changes(&self, id: &str, parent: Option<&str>) -> Result<Vec<crate::Change>, Error> {
        let upper = self.layer_dir(id)?.join("diff");
        let Some(parent) = parent else {
            return crate::changes::overlay_changes(&upper, None);
        };
        let lower = self.get(parent)?;
        let result = crate::changes::overlay_changes(&upper, Some(&lower));
        self.put(parent)?;
        result
    }

    fn cleanup(&self) -> Result<(), Error> {
        let ids: Vec<String> = self.mount_count().drain().map(|(id, _)| id).collect();
        for id in ids {
            let merged = self.layer_dir(&id)?.join("merged");
            let _ = rustix::mount::unmount(&merged, UnmountFlags::DETACH);
        }
        Ok(())
    }
}

/// Mounts an overlay: with the new mount API, one `lowerdir+` per layer (no length limit on
/// the layer list), else with `mount(2)` and a joined option string.
fn mount_overlay(
    lowers: &[PathBuf],
    upper: &Path,
    work: &Path,
    target: &Path,
) -> rustix::io::Result<()> {
    match mount_overlay_fsconfig(lowers, upper, work, target) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::NOSYS | rustix::io::Errno::INVAL) => {
            let lowerdir: Vec<String> = lowers.iter().map(|l| l.display().to_string()).collect();
            let options = format!(
                "lowerdir={},upperdir={},workdir={}",
                lowerdir.join(":"),
                upper.display(),
                work.display()
            );
            let options = std::ffi::CString::new(options).map_err(|_| rustix::io::Errno::INVAL)?;
            rustix::mount::mount(
                "overlay",
                target,
                "overlay",
                MountFlags::empty(),
                Some(options.as_c_str()),
            )
        }
        Err(err) => Err(err),
    }
}

fn mount_overlay_fsconfig(
    lowers: &[PathBuf],
    upper: &Path,
    work: &Path,
    target: &Path,
) -> rustix::io::Result<()> {
    let fs = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)?;
    rustix::mount::fsconfig_set_string(&fs, "source", "overlay")?;
    for lower in lowers {
        rustix::mount::fsconfig_set_string(&fs, "lowerdir+", lower)?;
    }
    rustix::mount::fsconfig_set_string(&fs, "upperdir", upper)?;
    rustix::mount::fsconfig_set_string(&fs, "workdir", work)?;
    rustix::mount::fsconfig_create(&fs)?;
    let mount =
        rustix::mount::fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, MountAttrFlags::empty())?;
    rustix::mount::move_mount(
        &mount,
        "",
        rustix::fs::CWD,
        target,
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
    )
}

/// Unmounts `target`. A mount is briefly busy when another thread forks while a descriptor
/// of it is open (a child holds it until it execs), so a busy mount is retried for a moment
/// and then detached (the kernel finishes the unmount when the last user goes).
fn unmount(target: &Path) -> Result<(), Error> {
    for _ in 0..20 {
        match rustix::mount::unmount(target, UnmountFlags::empty()) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::BUSY) => std::thread::sleep(std::time::Duration::from_millis(5)),
            Err(err) => return Err(Error::io("unmount", target)(err.into())),
        }
    }
    rustix::mount::unmount(target, UnmountFlags::DETACH)
        .map_err(|err| Error::io("unmount", target)(err.into()))
}

/// Mounts and unmounts a tiny overlay under `home` to prove the driver can work here.
fn check_support(home: &Path) -> Result<(), Error> {
    let id = random_id::generate().map_err(Error::io("generate an id in", home))?;
    let check = home.join(format!("check-{id}"));
    let dirs = ["lower", "upper", "work", "merged"].map(|d| check.join(d));
    let result = (|| {
        for dir in &dirs {
            fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
        }
        let [lower, upper, work, merged] = &dirs;
        mount_overlay(std::slice::from_ref(lower), upper, work, merged).map_err(|err| {
            Error::Unsupported {
                driver: "overlay2",
                reason: format!("cannot mount an overlay in {}: {err}", home.display()),
            }
        })?;
        unmount(merged)
    })();
    let _ = layerdb::remove_all(&check);
    result
}

/// The total size of the files under `dir` (what Docker reports as an overlay2 layer's
/// size).
fn disk_usage(dir: &Path) -> Result<u64, Error> {
    let mut total = 0u64;
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).map_err(Error::io("list", &dir))? {
            let entry = entry.map_err(Error::io("list", &dir))?;
            let meta = entry
                .metadata()
                .map_err(Error::io("inspect", entry.path()))?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                total = total.saturating_add(meta.len());
            }
        }
    }
    Ok(total)
}

/// Docker's names for backing filesystems, by `statfs` magic number.
fn filesystem_name(magic: i64) -> String {
    match magic {
        0xEF53 => "extfs",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x0102_1994 => "tmpfs",
        0x794C_7630 => "overlayfs",
        0x2FC1_2FC1 => "zfs",
        _ => return format!("0x{magic:x}"),
    }
    .to_owned()
}
