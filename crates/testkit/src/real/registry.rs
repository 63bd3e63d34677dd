//! Starting and stopping `docker-registry serve` on loopback.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::config::{self, Auth};
use super::image::{OciLayout, Skopeo};
use super::{Error, io_error, process};
use crate::rawhttp;
use crate::token::{self, TokenServer};

/// The realm in the registry's Basic challenge.
pub const BASIC_REALM: &str = "imgsvc-basic-realm";
/// How often a port taken by someone else between probing and binding is retried.
const PORT_ATTEMPTS: usize = 4;

/// How the registry authenticates clients.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Mode {
    /// No `auth:` section: every request is allowed.
    NoAuth,
    /// htpasswd (bcrypt) Basic auth with one account.
    Basic {
        /// The account.
        user: String,
        /// Its password.
        password: String,
    },
    /// Bearer tokens from a [`TokenServer`] the registry starts and owns, with these options;
    /// its first user is the registry's [`credentials`](RealRegistry::credentials).
    Token(token::Options),
}

/// Construction
impl Mode {
    /// Basic auth for `user` with `password`.
    pub fn basic(user: &str, password: &str) -> Mode {
        Mode::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        }
    }

    /// Token auth with a token server accepting `user` with `password`.
    pub fn token(user: &str, password: &str) -> Mode {
        Mode::Token(token::Options::default().user(user, password))
    }
}

/// Choices for [`RealRegistry::start_with`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// The auth mode.
    pub mode: Mode,
    /// Storage directory, e.g. shared by several registries; default: inside the run directory.
    pub storage: Option<PathBuf>,
    /// How long to wait for `GET /v2/` to answer. Default 20 s.
    pub startup_timeout: Duration,
}

/// Construction
impl Options {
    /// Options for `mode` with private storage.
    pub fn new(mode: Mode) -> Options {
        Options {
            mode,
            storage: None,
            startup_timeout: Duration::from_secs(20),
        }
    }

    /// Stores blobs and manifests in `dir` (created if missing, never deleted).
    pub fn storage(mut self, dir: impl Into<PathBuf>) -> Options {
        self.storage = Some(dir.into());
        self
    }
}

/// A `docker-registry serve` process on `127.0.0.1`, stopped by PID on [`stop`](Self::stop)
/// or drop. Its config, log and (by default) storage live in a temporary directory.
#[derive(Debug)]
pub struct RealRegistry {
    dir: tempfile::TempDir,
    port: u16,
    pid: u32,
    child: Option<Child>,
    storage: PathBuf,
    credentials: Option<(String, String)>,
    token: Option<TokenServer>,
}

/// Lifecycle
impl RealRegistry {
    /// Starts a registry in `mode` with private storage.
    pub fn start(mode: Mode) -> Result<RealRegistry, Error> {
        Self::start_with(Options::new(mode))
    }

    /// Starts a registry as `options` say, and waits until `GET /v2/` answers.
    pub fn start_with(options: Options) -> Result<RealRegistry, Error> {
        let binary = process::registry_binary()?;
        let dir = tempfile::Builder::new()
            .prefix("imgsvc-registry-")
            .tempdir()
            .map_err(io_error(
                "create a temporary directory in",
                &std::env::temp_dir(),
            ))?;
        let storage = options
            .storage
            .clone()
            .unwrap_or_else(|| dir.path().join("storage"));
        std::fs::create_dir_all(&storage).map_err(io_error("create", &storage))?;

        let htpasswd = dir.path().join("htpasswd");
        let cert = dir.path().join("token.crt");
        let (credentials, token) = match &options.mode {
            Mode::NoAuth => (None, None),
            Mode::Basic { user, password } => {
                config::write_htpasswd(&htpasswd, user, password)?;
                (Some((user.clone(), password.clone())), None)
            }
            Mode::Token(token_options) => {
                let server = TokenServer::start(token_options.clone())?;
                std::fs::write(&cert, server.key().cert_pem()).map_err(io_error("write", &cert))?;
                (token_options.users.first().cloned(), Some(server))
            }
        };
        let realm = token.as_ref().map(TokenServer::realm).unwrap_or_default();
        let auth = match (&options.mode, &token) {
            (Mode::Basic { .. }, _) => Auth::Htpasswd {
                realm: BASIC_REALM,
                path: &htpasswd,
            },
            (Mode::Token(_), Some(server)) => Auth::Token {
                realm: &realm,
                service: server.service(),
                issuer: server.issuer(),
                root_cert_bundle: &cert,
            },
            _ => Auth::None,
        };

        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port(dir.path())?;
            match spawn(
                &binary,
                dir.path(),
                port,
                &storage,
                &auth,
                options.startup_timeout,
            ) {
                Ok(child) => {
                    return Ok(RealRegistry {
                        pid: child.id(),
                        child: Some(child),
                        dir,
                        port,
                        storage,
                        credentials,
                        token,
                    });
                }
                Err(e @ Error::Start { .. }) if port_was_taken(&e) => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| Error::Start {
            port: 0,
            reason: "no free port".to_owned(),
            log: dir.path().join("registry.log"),
            log_tail: String::new(),
        }))
    }

    /// Stops the registry by PID (SIGTERM, SIGKILL after 5 s) and its token server. Idempotent.
    pub fn stop(&mut self) -> Result<(), Error> {
        if let Some(token) = self.token.as_mut() {
            token.stop();
        }
        match self.child.take() {
            Some(mut child) => process::terminate(&mut child, Duration::from_secs(5)),
            None => Ok(()),
        }
    }

    /// Whether the registry process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

impl Drop for RealRegistry {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Access
impl RealRegistry {
    /// The port on `127.0.0.1`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`, as image references name the registry.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The PID of the registry process.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The account for Basic auth or for the token server; `None` without auth.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// The token server in token mode.
    pub fn token_server(&self) -> Option<&TokenServer> {
        self.token.as_ref()
    }

    /// The run directory (config, log, htpasswd, certificate, default storage).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The storage directory.
    pub fn storage(&self) -> &Path {
        &self.storage
    }

    /// The registry's log file (stdout and stderr, with an access log).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("registry.log")
    }

    /// The log so far (empty if unreadable).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

/// Images
impl RealRegistry {
    /// A `skopeo` runner with this registry's credentials and a policy file in its run dir.
    pub fn skopeo(&self) -> Result<Skopeo, Error> {
        let skopeo = Skopeo::new(self.dir.path())?;
        Ok(match self.credentials() {
            Some((user, password)) => skopeo.credentials(user, password),
            None => skopeo,
        })
    }

    /// The `docker://` reference of `name` (`repo:tag` or `repo@digest`) on this registry.
    pub fn docker_ref(&self, name: &str) -> String {
        format!("docker://{}/{name}", self.host())
    }

    /// Pushes `layout:tag` (all platforms of an index) as `dest` (`repo:tag`).
    pub fn push(&self, layout: &OciLayout, tag: &str, dest: &str) -> Result<(), Error> {
        self.skopeo()?
            .copy(&layout.reference(tag), &self.docker_ref(dest))
    }

    /// Pulls `src` (`repo:tag`; the host's platform of an index) into `layout` as `tag`.
    pub fn pull(&self, src: &str, layout: &OciLayout, tag: &str) -> Result<(), Error> {
        self.skopeo()?
            .copy(&self.docker_ref(src), &layout.reference(tag))
    }

    /// Pulls `src` with skopeo and unpacks it with umoci under `work` (`work/layout`,
    /// `work/bundle`): the reference root filesystem for unpack comparisons. Returns its path.
    pub fn reference_rootfs(&self, src: &str, work: &Path) -> Result<PathBuf, Error> {
        let layout = OciLayout::init(work.join("layout"))?;
        self.pull(src, &layout, "ref")?;
        layout.unpack("ref", &work.join("bundle"))
    }
}

/// A port that was free a moment ago (the registry may still lose a race for it: retried).
fn free_port(dir: &Path) -> Result<u16, Error> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io_error("bind a port for", dir))?;
    let addr = listener
        .local_addr()
        .map_err(io_error("bind a port for", dir))?;
    Ok(addr.port())
}

fn port_was_taken(error: &Error) -> bool {
    matches!(error, Error::Start { log_tail, .. } if log_tail.contains("address already in use"))
}

fn spawn(
    binary: &Path,
    dir: &Path,
    port: u16,
    storage: &Path,
    auth: &Auth<'_>,
    timeout: Duration,
) -> Result<Child, Error> {
    let config_path = dir.join("config.yml");
    std::fs::write(&config_path, config::config_yml(port, storage, auth))
        .map_err(io_error("write", &config_path))?;
    let log_path = dir.join("registry.log");
    let log = std::fs::File::create(&log_path).map_err(io_error("create", &log_path))?;
    let log_err = log.try_clone().map_err(io_error("open", &log_path))?;
    let mut cmd = Command::new(binary);
    cmd.arg("serve")
        .arg(&config_path)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    // REGISTRY_* variables override the config file; the test's config is the whole truth.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("REGISTRY_") {
            cmd.env_remove(name);
        }
    }
    let mut child = cmd.spawn().map_err(io_error("start", binary))?;
    match wait_ready(&mut child, port, &log_path, timeout) {
        Ok(()) => Ok(child),
        Err(reason) => {
            let _ = process::terminate(&mut child, Duration::from_secs(2));
            Err(Error::Start {
                port,
                reason,
                log_tail: tail(&log_path, 30),
                log: log_path,
            })
        }
    }
}

/// Polls until the registry has logged that it listens and `GET /v2/` answers 200 or 401.
///
/// The log line matters: another process that won the race for the port could answer too.
fn wait_ready(child: &mut Child, port: u16, log: &Path, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let url = format!("http://127.0.0.1:{port}/v2/");
    let listening = format!("listening on 127.0.0.1:{port}");
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("it exited with {status}"));
        }
        let logged = std::fs::read_to_string(log).is_ok_and(|l| l.contains(&listening));
        if logged {
            let ping = rawhttp::get(&url);
            if let Ok(response) = ping
                && matches!(response.status, 200 | 401)
            {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            return Err(format!("GET {url} did not answer within {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
