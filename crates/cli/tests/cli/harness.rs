//! Running the binary: a data root, a client config, and a registry per test.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use imgsvc_testkit::fixture::{BuiltImage, ImageBuilder, LayerBuilder};
use imgsvc_testkit::{RegistryConfig, TestRegistry};
use tempfile::TempDir;

/// What a run of the binary gave.
#[derive(Debug)]
pub(crate) struct Run {
    /// The exit status (-1 when killed by a signal).
    pub(crate) code: i32,
    /// Standard output.
    pub(crate) stdout: String,
    /// Standard error.
    pub(crate) stderr: String,
}

impl Run {
    /// Panics unless the run succeeded; the output otherwise.
    pub(crate) fn ok(self) -> Run {
        assert_eq!(self.code, 0, "the command failed: {self:?}");
        self
    }

    /// Panics unless the run failed with status 1 and an `Error:` line holding `text`.
    pub(crate) fn fails_with(self, text: &str) -> Run {
        assert_eq!(self.code, 1, "the command should fail: {self:?}");
        assert!(
            self.stderr
                .lines()
                .any(|l| l.starts_with("Error: ") && l.contains(text)),
            "stderr should name {text:?}: {self:?}"
        );
        self
    }

    /// The lines of stdout.
    pub(crate) fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// A data root and a Docker client config directory, both temporary.
pub(crate) struct Env {
    root: TempDir,
    config: TempDir,
    path: Option<PathBuf>,
}

impl Env {
    /// A fresh root and config.
    pub(crate) fn new() -> Env {
        Env {
            root: tempfile::tempdir().expect("a temp dir for the root"),
            config: tempfile::tempdir().expect("a temp dir for the client config"),
            path: None,
        }
    }

    /// Puts `dir` first in the child's `PATH` (for credential helpers).
    pub(crate) fn with_path(mut self, dir: &Path) -> Env {
        self.path = Some(dir.to_owned());
        self
    }

    /// The Docker client config directory (`DOCKER_CONFIG`).
    pub(crate) fn config_dir(&self) -> &Path {
        self.config.path()
    }

    /// Runs `imgsvc --root <root> --driver vfs <args>`.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "")
    }

    /// Runs the binary with `stdin` as its standard input.
    pub(crate) fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_imgsvc"));
        command
            .arg("--root")
            .arg(self.root.path())
            .args(["--driver", "vfs"])
            .args(args)
            .env("DOCKER_CONFIG", self.config.path())
            .env("HOME", self.config.path())
            .env_remove("IMGSVC_ROOT")
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("XDG_CONFIG_HOME")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = &self.path {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut dirs = vec![dir.clone()];
            dirs.extend(std::env::split_paths(&path));
            command.env("PATH", std::env::join_paths(dirs).expect("a valid PATH"));
        }
        let mut child = command.spawn().expect("the binary starts");
        if let Some(mut input) = child.stdin.take() {
            input
                .write_all(stdin.as_bytes())
                .expect("stdin takes the input");
        }
        let output = child.wait_with_output().expect("the binary runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// A one-layer image told apart from others by `label`.
pub(crate) fn image(label: &str) -> BuiltImage {
    let layer = LayerBuilder::new()
        .file("hello", label.as_bytes())
        .build()
        .expect("a valid layer");
    ImageBuilder::new()
        .label("test", label)
        .layer(layer)
        .build()
        .expect("a valid image")
}

/// A registry without authentication holding `images` as `(name, tag, image)`.
pub(crate) fn registry(images: &[(&str, &str, &BuiltImage)]) -> TestRegistry {
    registry_with(RegistryConfig::new(), images)
}

/// A registry started with `config`, holding `images`.
pub(crate) fn registry_with(
    config: RegistryConfig,
    images: &[(&str, &str, &BuiltImage)],
) -> TestRegistry {
    let registry = TestRegistry::start_blocking(config).expect("the registry starts");
    for (name, tag, image) in images {
        registry
            .push_image(name, tag, image)
            .expect("the image is pushed");
    }
    registry
}

/// `<host>/<name>`, the way pulls name images of the test registry.
pub(crate) fn remote(registry: &TestRegistry, name: &str) -> String {
    format!("{}/{name}", registry.host())
}

/// A root holding `demo/app:v1` pulled from a fresh registry; the registry stays up.
pub(crate) fn pulled() -> (Env, TestRegistry, String, BuiltImage) {
    let image = image("app");
    let registry = registry(&[("demo/app", "v1", &image)]);
    let env = Env::new();
    let name = format!("{}:v1", remote(&registry, "demo/app"));
    env.run(&["pull", "-q", &name]).ok();
    (env, registry, name, image)
}

/// The 12-hex short ID of an image.
pub(crate) fn short_id(image: &BuiltImage) -> String {
    image
        .config_digest()
        .encoded()
        .to_string()
        .chars()
        .take(12)
        .collect()
}
