//! Whole-command comparisons for the layer store: registering a layer tar of real files
//! against GNU tar extracting it, and rebuilding the tar from disk against GNU tar creating
//! one from the extracted files.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::compare::{Comparison, Contender};
use crate::Result;
use crate::cmd::{self, cargo};

/// The system directories whose files make the benchmark layer (about 220 MiB of headers,
/// sources and Python modules: many small files and some large ones).
const SOURCES: [&str; 3] = ["usr/include", "usr/lib/python3.11", "usr/lib/python3"];

/// Builds the `layer` example and returns its path.
pub(crate) fn build_layer_tool() -> Result<PathBuf> {
    cmd::run(&mut cargo([
        "build",
        "--release",
        "-p",
        "imgsvc-layerstore",
        "--example",
        "layer",
    ])?)?;
    Ok(cmd::target_dir()?
        .join("release")
        .join("examples")
        .join("layer"))
}

/// Makes `dir/usr.tar` from the system's files if it is missing; returns its path and size.
pub(crate) fn ensure_usr_tar(dir: &Path) -> Result<(PathBuf, u64)> {
    let tar = dir.join("usr.tar");
    if !tar.is_file() {
        std::fs::create_dir_all(dir)?;
        let partial = dir.join("usr.tar.partial");
        let mut command = Command::new("tar");
        command.args(["-cf"]).arg(&partial).args(["-C", "/"]);
        for source in SOURCES {
            if Path::new("/").join(source).is_dir() {
                command.arg(source);
            }
        }
        cmd::run(&mut command)?;
        std::fs::rename(&partial, &tar)?;
    }
    let bytes = std::fs::metadata(&tar)?.len();
    Ok((tar, bytes))
}

/// Registering the tar against `tar -xf` of it, both durable (registering syncs the layer's
/// filesystem before it commits, so tar's side ends with `sync -f`), each run on a freshly
/// made ext4 filesystem (a loop-mounted image under `scratch`).
///
/// A fresh filesystem per run, because reusing one measures the filesystem more than either
/// program: after a tree is deleted, ext4 passes over the just-freed inodes when allocating
/// new ones, which made the same extraction take from 1 to 10 seconds here. Making and
/// mounting the filesystem is inside both sides' time. Needs root (mount).
pub(crate) fn register(
    layer: &Path,
    tar: &Path,
    scratch: &Path,
    driver: &str,
    bytes: u64,
) -> Comparison {
    let mut a = on_fresh_ext4(
        scratch,
        r#"mkdir "$M/x" && tar -xf "$2" -C "$M/x" && sync -f "$M/x""#,
    );
    a.arg(tar);
    let mut b = on_fresh_ext4(scratch, r#""$3" register "$M/root" "$2" "$4" >/dev/null"#);
    b.arg(tar).arg(layer).arg(driver);
    Comparison {
        name: format!("extract {} ({driver})", tar.display()),
        a: Contender {
            label: "tar -xf && sync".to_owned(),
            command: a,
            answer: succeeded,
        },
        b: Contender {
            label: format!("register/{driver}"),
            command: b,
            answer: succeeded,
        },
        bytes: Some(bytes),
    }
}

/// A shell command running `work` with `$M` a freshly made, mounted ext4 filesystem, which
/// it unmounts afterwards; `$1` is `scratch`, further arguments are added by the caller.
pub(crate) fn on_fresh_ext4(scratch: &Path, work: &str) -> Command {
    let script = format!(
        r#"set -e
M="$1/mnt"; IMG="$1/fs.img"
mkdir -p "$M"; umount "$M" 2>/dev/null || true
truncate -s 4G "$IMG"
mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 "$IMG"
mount -o loop "$IMG" "$M"
status=0; ( {work} ) || status=$?
umount "$M"; exit $status"#
    );
    let mut command = Command::new("sh");
    command.arg("-c").arg(script).args(["sh"]).arg(scratch);
    command
}

/// Removes the loop filesystem image [`register`] leaves.
pub(crate) fn clean_runs(scratch: &Path) -> Result<()> {
    let image = scratch.join("fs.img");
    if image.exists() {
        std::fs::remove_file(&image)?;
    }
    Ok(())
}

/// Rebuilding the layer's tar from disk against GNU tar archiving the extracted files.
pub(crate) fn tar_stream(
    layer: &Path,
    tar: &Path,
    scratch: &Path,
    driver: &str,
    bytes: u64,
) -> Result<Comparison> {
    let extract_dir = scratch.join("extracted");
    let root = scratch.join(format!("root-{driver}"));
    // Both sides need their data in place: one registration and one extraction.
    cmd::run(
        Command::new("sh")
            .arg("-c")
            .arg(r#"rm -rf "$1" && mkdir -p "$1" && tar -xf "$2" -C "$1""#)
            .args(["sh"])
            .arg(&extract_dir)
            .arg(tar),
    )?;
    let _ = std::fs::remove_dir_all(&root);
    let output = Command::new(layer)
        .arg("register")
        .arg(&root)
        .arg(tar)
        .arg(driver)
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "registering {} failed: {}",
            tar.display(),
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let chain_id = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut a = Command::new("sh");
    a.arg("-c")
        // Through a pipe on both sides: GNU tar skips reading the files when it sees its
        // output is /dev/null.
        .arg(r#"tar -cf - -C "$1" . | cat > /dev/null"#)
        .args(["sh"])
        .arg(&extract_dir);
    let mut b = Command::new("sh");
    b.arg("-c")
        .arg(r#""$1" tar-stream "$2" "$3" "$4" | cat > /dev/null"#)
        .args(["sh"])
        .arg(layer)
        .arg(&root)
        .arg(&chain_id)
        .arg(driver);
    Ok(Comparison {
        name: format!("write the tar of {} back out ({driver})", tar.display()),
        a: Contender {
            label: "tar -cf".to_owned(),
            command: a,
            answer: succeeded,
        },
        b: Contender {
            label: format!("tar-stream/{driver}"),
            command: b,
            answer: succeeded,
        },
        bytes: Some(bytes),
    })
}

/// Both sides answer only by succeeding (their exit status is checked by the runner).
pub(crate) fn succeeded(_stdout: &str) -> Result<String> {
    Ok("ok".to_owned())
}
