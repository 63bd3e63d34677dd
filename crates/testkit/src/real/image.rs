//! Test images for the real registry: built with `umoci`, copied with `skopeo`.
//!
//! [`build_test_images`] writes into an OCI layout:
//!
//! | tag | content |
//! | --- | --- |
//! | [`BASE`] | 1 layer (`umoci repack`): `/etc/os-release`, `/etc/passwd`, `/usr/bin/hello` (0755), `/usr/share/imgsvc/data.txt` and its hardlink `data-link.txt`, symlink `/bin -> usr/bin`, `/opt/base/remove-me.txt`, `/home/app` (uid 1000 when built as root) |
//! | [`APP`] | base + `/opt/app/{config.json,bin/run}` + a layer that deletes `/opt/base/remove-me.txt` (a whiteout) and adds `/etc/motd` |
//! | [`MULTI`] | OCI image index: `multi-amd64` and `multi-arm64` (linux, arm64 variant v8), each base + `/etc/imgsvc-platform` |
//!
//! Layers record umoci's build time, so digests differ between builds.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::{Error, io_error, process};

/// Tag of the one-layer base image.
pub const BASE: &str = "base";
/// Tag of the three-layer app image.
pub const APP: &str = "app";
/// Tag of the two-platform image index.
pub const MULTI: &str = "multi";
/// Media type of an OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Media type of an OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// An OCI image layout directory, handled by `umoci`.
#[derive(Debug, Clone)]
pub struct OciLayout {
    path: PathBuf,
}

/// Construction
impl OciLayout {
    /// Creates an empty layout at `path` (`umoci init`); the parent must exist.
    pub fn init(path: impl Into<PathBuf>) -> Result<OciLayout, Error> {
        let path = path.into();
        process::run("umoci", |cmd| {
            cmd.args(["init", "--layout"]).arg(&path);
        })?;
        Ok(OciLayout { path })
    }

    /// Opens an existing layout (one with an `oci-layout` file), e.g. one a fixture builder wrote.
    pub fn open(path: impl Into<PathBuf>) -> Result<OciLayout, Error> {
        let path = path.into();
        if !path.join("oci-layout").is_file() {
            return Err(Error::Layout {
                path,
                reason: "no oci-layout file".to_owned(),
            });
        }
        Ok(OciLayout { path })
    }
}

/// Access
impl OciLayout {
    /// The layout directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `oci:<dir>:<tag>` reference skopeo uses.
    pub fn reference(&self, tag: &str) -> String {
        format!("oci:{}:{tag}", self.path.display())
    }

    /// The tags in `index.json`.
    pub fn tags(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .index()?
            .iter()
            .filter_map(|d| ref_name(d).map(str::to_owned))
            .collect())
    }

    /// The descriptor of `tag` in `index.json` (`mediaType`, `digest`, `size`, ...).
    pub fn descriptor(&self, tag: &str) -> Result<serde_json::Value, Error> {
        self.index()?
            .into_iter()
            .find(|d| ref_name(d) == Some(tag))
            .ok_or_else(|| self.error(format!("no tag {tag:?} in index.json")))
    }

    /// The digest (`sha256:...`) of the manifest or index tagged `tag`.
    pub fn digest(&self, tag: &str) -> Result<String, Error> {
        let descriptor = self.descriptor(tag)?;
        descriptor
            .get("digest")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| self.error(format!("descriptor of {tag:?} has no digest")))
    }

    /// The bytes of blob `digest` (`sha256:<hex>`).
    pub fn blob(&self, digest: &str) -> Result<Vec<u8>, Error> {
        let (algorithm, hex) = digest
            .split_once(':')
            .ok_or_else(|| self.error(format!("malformed digest {digest:?}")))?;
        let path = self.path.join("blobs").join(algorithm).join(hex);
        std::fs::read(&path).map_err(io_error("read", &path))
    }

    /// Unpacks `tag` into the runtime bundle `bundle` (`umoci unpack`, `--rootless` unless root)
    /// and returns the root filesystem, `bundle/rootfs`.
    pub fn unpack(&self, tag: &str, bundle: &Path) -> Result<PathBuf, Error> {
        process::run("umoci", |cmd| {
            cmd.arg("unpack").args(rootless()).arg("--image");
            cmd.arg(format!("{}:{tag}", self.path.display()))
                .arg(bundle);
        })?;
        Ok(bundle.join("rootfs"))
    }

    fn index(&self) -> Result<Vec<serde_json::Value>, Error> {
        let path = self.path.join("index.json");
        let bytes = std::fs::read(&path).map_err(io_error("read", &path))?;
        let index: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| self.error(format!("index.json: {e}")))?;
        Ok(index
            .get("manifests")
            .and_then(|m| m.as_array())
            .cloned()
            .unwrap_or_default())
    }

    fn error(&self, reason: String) -> Error {
        Error::Layout {
            path: self.path.clone(),
            reason,
        }
    }
}

fn ref_name(descriptor: &serde_json::Value) -> Option<&str> {
    descriptor
        .pointer("/annotations/org.opencontainers.image.ref.name")?
        .as_str()
}

fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn rootless() -> &'static [&'static str] {
    if running_as_root() {
        &[]
    } else {
        &["--rootless"]
    }
}

/// Runs `skopeo copy` between `oci:` layouts and `docker://` registries over plain HTTP.
#[derive(Debug, Clone)]
pub struct Skopeo {
    policy: PathBuf,
    credentials: Option<(String, String)>,
    format: Option<&'static str>,
}

/// Construction
impl Skopeo {
    /// A runner whose accept-anything signature policy is written to `dir/policy.json`, so
    /// nothing under `/etc/containers` is needed or touched.
    pub fn new(dir: &Path) -> Result<Skopeo, Error> {
        let policy = dir.join("policy.json");
        std::fs::write(
            &policy,
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .map_err(io_error("write", &policy))?;
        Ok(Skopeo {
            policy,
            credentials: None,
            format: None,
        })
    }

    /// Sends `user:password` to `docker://` sources and destinations.
    pub fn credentials(mut self, user: &str, password: &str) -> Skopeo {
        self.credentials = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Converts to Docker schema 2 manifests (and manifest lists) on copy (`--format v2s2`).
    pub fn docker_schema2(mut self) -> Skopeo {
        self.format = Some("v2s2");
        self
    }
}

/// Copying
impl Skopeo {
    /// `skopeo copy src dest`, e.g. `oci:/dir:tag` to `docker://127.0.0.1:5000/repo:tag`.
    ///
    /// A push (`docker://` destination) copies every platform of an index (`--all`); a pull
    /// takes the host's platform, which `umoci unpack` can then unpack.
    pub fn copy(&self, src: &str, dest: &str) -> Result<(), Error> {
        let creds = self.credentials.as_ref().map(|(u, p)| format!("{u}:{p}"));
        process::run("skopeo", |cmd| {
            cmd.arg("--policy")
                .arg(&self.policy)
                .args(["copy", "--quiet", "--retry-times", "2"]);
            if src.starts_with("docker://") {
                cmd.arg("--src-tls-verify=false");
                if let Some(creds) = &creds {
                    cmd.args(["--src-creds", creds]);
                }
            }
            if dest.starts_with("docker://") {
                cmd.args(["--dest-tls-verify=false", "--all"]);
                if let Some(creds) = &creds {
                    cmd.args(["--dest-creds", creds]);
                }
            }
            if let Some(format) = self.format {
                cmd.args(["--format", format]);
            }
            cmd.args([src, dest]);
        })?;
        Ok(())
    }
}

/// Builds the [`BASE`], [`APP`] and [`MULTI`] images (see the module docs) into `layout`.
pub fn build_test_images(layout: &OciLayout) -> Result<(), Error> {
    let work = tempfile::tempdir().map_err(io_error(
        "create a temporary directory in",
        &std::env::temp_dir(),
    ))?;
    let work = work.path();

    umoci(&["new", "--image", &image(layout, BASE)])?;
    let base = Bundle::unpack(layout, BASE, &work.join("base"))?;
    write_base_files(&base.rootfs)?;
    base.repack(layout, BASE, "base files")?;
    umoci(&[
        "config",
        "--image",
        &image(layout, BASE),
        "--config.cmd",
        "/usr/bin/hello",
        "--config.env",
        "PATH=/usr/local/bin:/usr/bin:/bin",
        "--config.workingdir",
        "/",
        "--config.label",
        "org.example.imgsvc=base",
    ])?;

    umoci(&["tag", "--image", &image(layout, BASE), APP])?;
    let app = Bundle::unpack(layout, APP, &work.join("app"))?;
    write(
        &app.rootfs.join("opt/app/config.json"),
        "{\"name\":\"app\"}\n",
        0o644,
    )?;
    write(
        &app.rootfs.join("opt/app/bin/run"),
        "#!/bin/sh\necho run\n",
        0o755,
    )?;
    app.repack(layout, APP, "COPY app /opt/app")?;
    remove(&app.rootfs.join("opt/base/remove-me.txt"))?;
    write(
        &app.rootfs.join("etc/motd"),
        "built by imgsvc-testkit\n",
        0o644,
    )?;
    app.repack(layout, APP, "rm /opt/base/remove-me.txt")?;

    let mut entries = Vec::new();
    for (arch, variant) in [("amd64", None), ("arm64", Some("v8"))] {
        let tag = format!("{MULTI}-{arch}");
        umoci(&[
            "config",
            "--image",
            &image(layout, BASE),
            "--tag",
            &tag,
            "--architecture",
            arch,
            "--os",
            "linux",
        ])?;
        let bundle = Bundle::unpack(layout, &tag, &work.join(&tag))?;
        write(
            &bundle.rootfs.join("etc/imgsvc-platform"),
            &format!("linux/{arch}\n"),
            0o644,
        )?;
        bundle.repack(layout, &tag, "platform file")?;
        let mut platform = serde_json::json!({"architecture": arch, "os": "linux"});
        if let (Some(variant), Some(map)) = (variant, platform.as_object_mut()) {
            map.insert("variant".to_owned(), variant.into());
        }
        let descriptor = layout.descriptor(&tag)?;
        entries.push(serde_json::json!({
            "mediaType": OCI_MANIFEST,
            "digest": descriptor.get("digest"),
            "size": descriptor.get("size"),
            "platform": platform,
        }));
    }
    add_index(layout, MULTI, entries)
}

/// Writes an image index over `manifests` as a blob and tags it `tag` in `index.json`.
fn add_index(
    layout: &OciLayout,
    tag: &str,
    manifests: Vec<serde_json::Value>,
) -> Result<(), Error> {
    let index =
        serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
    let bytes = index.to_string().into_bytes();
    let hex: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let blob = layout.path().join("blobs/sha256").join(&hex);
    std::fs::write(&blob, &bytes).map_err(io_error("write", &blob))?;

    let index_path = layout.path().join("index.json");
    let text = std::fs::read(&index_path).map_err(io_error("read", &index_path))?;
    let mut top: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| layout.error(format!("index.json: {e}")))?;
    let list = top
        .get_mut("manifests")
        .and_then(serde_json::Value::as_array_mut)
        .ok_or_else(|| layout.error("index.json has no manifests array".to_owned()))?;
    list.retain(|d| ref_name(d) != Some(tag));
    list.push(serde_json::json!({
        "mediaType": OCI_INDEX,
        "digest": format!("sha256:{hex}"),
        "size": bytes.len(),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }));
    std::fs::write(&index_path, top.to_string()).map_err(io_error("write", &index_path))
}

/// An unpacked runtime bundle whose changes become a layer on repack.
struct Bundle {
    dir: PathBuf,
    rootfs: PathBuf,
}

impl Bundle {
    fn unpack(layout: &OciLayout, tag: &str, dir: &Path) -> Result<Bundle, Error> {
        let rootfs = layout.unpack(tag, dir)?;
        Ok(Bundle {
            dir: dir.to_owned(),
            rootfs,
        })
    }

    /// Adds the changes since the last unpack or repack as a layer of `tag`.
    fn repack(&self, layout: &OciLayout, tag: &str, created_by: &str) -> Result<(), Error> {
        process::run("umoci", |cmd| {
            cmd.args([
                "repack",
                "--refresh-bundle",
                "--history.created_by",
                created_by,
                "--image",
            ])
            .arg(image(layout, tag))
            .arg(&self.dir);
        })?;
        Ok(())
    }
}

fn image(layout: &OciLayout, tag: &str) -> String {
    format!("{}:{tag}", layout.path().display())
}

fn umoci(args: &[&str]) -> Result<(), Error> {
    process::run("umoci", |cmd| {
        cmd.args(args);
    })?;
    Ok(())
}

fn write_base_files(root: &Path) -> Result<(), Error> {
    write(
        &root.join("etc/os-release"),
        "ID=imgsvc-test\nNAME=\"imgsvc test image\"\n",
        0o644,
    )?;
    write(
        &root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
        0o644,
    )?;
    write(
        &root.join("usr/bin/hello"),
        "#!/bin/sh\necho hello\n",
        0o755,
    )?;
    let data = root.join("usr/share/imgsvc/data.txt");
    write(&data, &"imgsvc test data\n".repeat(64), 0o644)?;
    let link = root.join("usr/share/imgsvc/data-link.txt");
    std::fs::hard_link(&data, &link).map_err(io_error("hardlink", &link))?;
    let bin = root.join("bin");
    std::os::unix::fs::symlink("usr/bin", &bin).map_err(io_error("symlink", &bin))?;
    write(
        &root.join("opt/base/remove-me.txt"),
        "deleted by the app image\n",
        0o644,
    )?;
    let home = root.join("home/app");
    std::fs::create_dir_all(&home).map_err(io_error("create", &home))?;
    if running_as_root() {
        std::os::unix::fs::chown(&home, Some(1000), Some(1000))
            .map_err(io_error("chown", &home))?;
    }
    Ok(())
}

fn write(path: &Path, content: &str, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt as _;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_error("create", parent))?;
    }
    std::fs::write(path, content).map_err(io_error("write", path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io_error("chmod", path))
}

fn remove(path: &Path) -> Result<(), Error> {
    std::fs::remove_file(path).map_err(io_error("remove", path))
}
