//! A whole pull compared with the tools a daemonless user would run instead: `skopeo copy`
//! from the registry into an OCI layout, then `umoci unpack` of it (both then synced, as a
//! pull is durable), against our `pull` example, on both drivers. The image: the layer
//! benchmark's tree of real files as one gzip layer, served by Debian's `docker-registry` on
//! loopback.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::compare::{Comparison, Contender};
use super::layers::{on_fresh_ext4, succeeded};
use crate::Result;
use crate::cmd::{self, cargo};

/// The repository and tag the image is pushed as.
const IMAGE: &str = "bench/app:latest";

/// Builds the `pull` example and returns its path.
pub(crate) fn build_pull_tool() -> Result<PathBuf> {
    cmd::run(&mut cargo([
        "build",
        "--release",
        "-p",
        "imgsvc-distribution",
        "--example",
        "pull",
    ])?)?;
    Ok(cmd::target_dir()?
        .join("release")
        .join("examples")
        .join("pull"))
}

/// A registry process on loopback, killed when dropped.
pub(crate) struct Registry {
    child: Child,
    port: u16,
}

impl Registry {
    /// Starts `docker-registry` storing in `dir/storage`, and waits until it answers.
    pub(crate) fn start(dir: &Path) -> Result<Registry> {
        std::fs::create_dir_all(dir)?;
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let config = dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {:?}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.join("storage").to_string_lossy()
            ),
        )?;
        let log = std::fs::File::create(dir.join("registry.log"))?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| {
                format!("cannot start docker-registry (apt-get install docker-registry): {e}")
            })?;
        let registry = Registry { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !registry.answers() {
            if Instant::now() > deadline {
                return Err(format!(
                    "docker-registry did not answer on port {port}; see {}",
                    dir.join("registry.log").display()
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(registry)
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)) else {
            return false;
        };
        let request = format!(
            "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        );
        let mut answer = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut answer).is_ok()
            && answer.starts_with("HTTP/1.1 200")
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:<port>`.
    pub(crate) fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The hex SHA-256 of a file, by `sha256sum`.
fn sha256(path: &Path) -> Result<String> {
    let out = cmd::stdout_of(Command::new("sha256sum").arg(path))?;
    super::sha256sum_hex(&out)
}

/// Writes `bytes` as a blob of `layout`; its digest hex and size.
fn put_blob(layout: &Path, bytes: &[u8]) -> Result<(String, u64)> {
    let tmp = layout.join("blob.partial");
    std::fs::write(&tmp, bytes)?;
    let hex = sha256(&tmp)?;
    std::fs::rename(&tmp, layout.join("blobs/sha256").join(&hex))?;
    Ok((hex, bytes.len() as u64))
}

/// An OCI layout at `dir/pull-layout` holding image `app`: `tar` as one gzip layer (kept
/// between runs); returns the layout and the compressed size.
pub(crate) fn ensure_layout(dir: &Path, tar: &Path) -> Result<(PathBuf, u64)> {
    let layout = dir.join("pull-layout");
    let done = layout.join("index.json");
    let gz = dir.join("usr.tar.gz");
    if !gz.is_file() {
        let partial = dir.join("usr.tar.gz.partial");
        cmd::run(
            Command::new("sh")
                .arg("-c")
                .arg(r#"gzip -c "$1" > "$2""#)
                .args(["sh"])
                .arg(tar)
                .arg(&partial),
        )?;
        std::fs::rename(&partial, &gz)?;
    }
    let compressed = std::fs::metadata(&gz)?.len();
    if done.is_file() {
        return Ok((layout, compressed));
    }
    let _ = std::fs::remove_dir_all(&layout);
    std::fs::create_dir_all(layout.join("blobs/sha256"))?;
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )?;
    let diff_id = sha256(tar)?;
    let layer_hex = sha256(&gz)?;
    std::fs::copy(&gz, layout.join("blobs/sha256").join(&layer_hex))?;
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Cmd":["/bin/sh"]}},"rootfs":{{"type":"layers","diff_ids":["sha256:{diff_id}"]}}}}"#
    );
    let (config_hex, config_size) = put_blob(&layout, config.as_bytes())?;
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{config_hex}","size":{config_size}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{layer_hex}","size":{compressed}}}]}}"#
    );
    let (manifest_hex, manifest_size) = put_blob(&layout, manifest.as_bytes())?;
    std::fs::write(
        &done,
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{manifest_hex}","size":{manifest_size},"annotations":{{"org.opencontainers.image.ref.name":"app"}}}}]}}"#
        ),
    )?;
    Ok((layout, compressed))
}

/// Pushes the layout's `app` to `registry` as [`IMAGE`].
pub(crate) fn push(layout: &Path, registry: &Registry) -> Result<()> {
    cmd::run(
        Command::new("skopeo")
            .args([
                "copy",
                "--quiet",
                "--insecure-policy",
                "--dest-tls-verify=false",
            ])
            .arg(format!("oci:{}:app", layout.display()))
            .arg(format!("docker://{}/{IMAGE}", registry.host())),
    )
}

/// The comparison on one driver; each run on a fresh ext4 filesystem.
pub(crate) fn comparison(
    pull: &Path,
    registry: &Registry,
    scratch: &Path,
    driver: &str,
    compressed: u64,
) -> Comparison {
    let mut a = on_fresh_ext4(
        scratch,
        r#"skopeo copy --quiet --insecure-policy --src-tls-verify=false "docker://$2" "oci:$M/layout:app" && umoci unpack --image "$M/layout:app" "$M/bundle" >/dev/null && sync -f "$M""#,
    );
    a.arg(format!("{}/{IMAGE}", registry.host()));
    let mut b = on_fresh_ext4(
        scratch,
        r#""$3" "$4" bench/app latest "$M/root" "$5" >/dev/null"#,
    );
    b.arg("unused").arg(pull).arg(registry.url()).arg(driver);
    Comparison {
        name: format!("pull {IMAGE} ({driver})"),
        a: Contender {
            label: "skopeo copy && umoci unpack && sync".to_owned(),
            command: a,
            answer: succeeded,
        },
        b: Contender {
            label: format!("pull/{driver}"),
            command: b,
            answer: succeeded,
        },
        bytes: Some(compressed),
    }
}
