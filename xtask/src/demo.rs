//! `cargo xtask demo`: the main job on a fresh machine. Starts the in-process test
//! registry on loopback with token auth, serving a generated multi-layer, multi-platform
//! image; pulls it with the real `imgsvc` CLI (progress bars and all), lists, inspects,
//! shows its history, unpacks its root filesystem, pulls the arm64 variant, then stops the
//! registry.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use crate::Result;
use crate::cmd::{self, cargo};

/// The registry child, stopped when dropped (its standard input closes; killed if need be).
struct Registry {
    child: Child,
}

impl Drop for Registry {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            std::thread::sleep(std::time::Duration::from_millis(200));
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Runs the demo.
pub(crate) fn run(args: &[String]) -> Result<()> {
    if !args.is_empty() {
        return Err(format!("usage: `cargo xtask demo`, got {args:?}").into());
    }
    cmd::run(&mut cargo([
        "build",
        "-p",
        "imgsvc-cli",
        "-p",
        "imgsvc-testkit",
        "--example",
        "demo_registry",
        "--bin",
        "imgsvc",
    ])?)?;
    let target = cmd::target_dir()?.join("debug");
    let imgsvc = target.join("imgsvc");
    let root = cmd::target_dir()?.join("xtask-demo").join("root");
    let _ = std::fs::remove_dir_all(&root);

    cmd::header(
        "start the test registry (token auth, demo/app:latest for linux/amd64 and linux/arm64/v8)",
    );
    let mut child = Command::new(target.join("examples").join("demo_registry"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the demo registry: {e}"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or("no stdout from the demo registry")?;
    let registry = Registry { child };
    let mut url = String::new();
    BufReader::new(stdout).read_line(&mut url)?;
    let host = url
        .trim()
        .strip_prefix("http://")
        .ok_or_else(|| format!("the demo registry said {url:?}, not its URL"))?
        .to_owned();
    println!("registry at {}", url.trim());

    let image = format!("{host}/demo/app");
    let imgsvc_cmd = |args: &[&str]| {
        let mut command = Command::new(&imgsvc);
        command.arg("--root").arg(&root).args(args);
        command
    };
    cmd::run(&mut imgsvc_cmd(&["pull", &image]))?;
    cmd::run(&mut imgsvc_cmd(&["images"]))?;
    cmd::run(&mut imgsvc_cmd(&["inspect", &image]))?;
    cmd::run(&mut imgsvc_cmd(&["history", &image]))?;
    let rootfs = cmd::target_dir()?.join("xtask-demo").join("rootfs");
    let _ = std::fs::remove_dir_all(&rootfs);
    let rootfs_arg = rootfs.to_string_lossy().into_owned();
    cmd::run(&mut imgsvc_cmd(&["unpack", &image, &rootfs_arg]))?;
    cmd::run(Command::new("ls").args(["-lR"]).arg(&rootfs))?;
    cmd::run(&mut imgsvc_cmd(&[
        "pull",
        "--platform",
        "linux/arm64",
        &format!("{image}:latest"),
    ]))?;
    cmd::run(&mut imgsvc_cmd(&["images", "--digests"]))?;
    cmd::run(&mut imgsvc_cmd(&["info"]))?;
    drop(registry);
    cmd::header("demo done; the registry is stopped");
    Ok(())
}
