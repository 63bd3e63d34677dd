//! Credentials for registries: a [`CredentialStore`] trait, a [`StaticStore`], and Docker's
//! client config (`config.json`: `auths`, `credsStore`, `credHelpers`) or a containers
//! `auth.json`, with credential helpers run as `docker-credential-<name> get`.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;

use crate::endpoint::{DEFAULT_NAMESPACE, INDEX_HOSTNAME, INDEX_SERVER, convert_to_hostname};
use crate::error::Error;

/// How long a credential helper may take before it is killed.
pub const HELPER_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest credentials file or helper answer read.
const MAX_CREDENTIALS_SIZE: u64 = 1 << 20;

/// What a registry may be authenticated with. `Debug` shows which fields are set, never
/// their values.
///
/// ```
/// use imgsvc_registry_transport::credentials::Credentials;
/// let creds = Credentials::basic("alice", "s3cret");
/// assert!(!format!("{creds:?}").contains("s3cret"));
/// assert_eq!(creds.username(), "alice");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    password: String,
    identity_token: String,
    registry_token: String,
}

impl Credentials {
    /// A username and password.
    pub fn basic(username: &str, password: &str) -> Credentials {
        Credentials {
            username: username.to_owned(),
            password: password.to_owned(),
            ..Credentials::default()
        }
    }

    /// An identity token (an OAuth2 refresh token from `docker login`).
    pub fn identity_token(token: &str) -> Credentials {
        Credentials {
            identity_token: token.to_owned(),
            ..Credentials::default()
        }
    }

    /// A registry token, sent as it is (`Authorization: Bearer <token>`).
    pub fn registry_token(token: &str) -> Credentials {
        Credentials {
            registry_token: token.to_owned(),
            ..Credentials::default()
        }
    }

    /// The username ("" when none).
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password ("" when none).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The identity (refresh) token ("" when none).
    pub fn identity(&self) -> &str {
        &self.identity_token
    }

    /// The registry token ("" when none).
    pub fn token(&self) -> &str {
        &self.registry_token
    }

    /// Whether both a username and a password are set (basic auth is possible).
    pub fn has_basic(&self) -> bool {
        !self.username.is_empty() && !self.password.is_empty()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |s: &String| if s.is_empty() { "" } else { "<redacted>" };
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &set(&self.password))
            .field("identity_token", &set(&self.identity_token))
            .field("registry_token", &set(&self.registry_token))
            .finish()
    }
}

/// Finds credentials for a registry host (`docker.io`, `localhost:5000`).
pub trait CredentialStore: Send + Sync + fmt::Debug {
    /// The credentials for `registry`, or `None` for anonymous access.
    fn credentials(&self, registry: &str) -> Result<Option<Credentials>, Error>;
}

/// Credentials given up front, by registry host.
///
/// ```
/// use imgsvc_registry_transport::credentials::{CredentialStore, Credentials, StaticStore};
/// let store = StaticStore::default().with("localhost:5000", Credentials::basic("u", "p"));
/// assert_eq!(store.credentials("localhost:5000")?, Some(Credentials::basic("u", "p")));
/// assert_eq!(store.credentials("quay.io")?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct StaticStore {
    by_registry: HashMap<String, Credentials>,
}

impl StaticStore {
    /// The same store with `credentials` for `registry` (Docker Hub under either name).
    pub fn with(mut self, registry: &str, credentials: Credentials) -> StaticStore {
        self.by_registry.insert(hub_alias(registry), credentials);
        self
    }
}

impl CredentialStore for StaticStore {
    fn credentials(&self, registry: &str) -> Result<Option<Credentials>, Error> {
        Ok(self.by_registry.get(&hub_alias(registry)).cloned())
    }
}

fn hub_alias(registry: &str) -> String {
    let host = convert_to_hostname(registry).to_ascii_lowercase();
    if host == INDEX_HOSTNAME || host == "registry-1.docker.io" {
        DEFAULT_NAMESPACE.to_owned()
    } else {
        host
    }
}

/// Docker's client config (`config.json`) or a containers `auth.json`: stored logins,
/// a default credential helper (`credsStore`) and per-registry helpers (`credHelpers`).
///
/// ```
/// use imgsvc_registry_transport::credentials::{CredentialStore, DockerConfig};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("config.json");
/// // "alice:s3cret" in base64, under Docker Hub's legacy key.
/// std::fs::write(&path, r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YWxpY2U6czNjcmV0"}}}"#)?;
/// let config = DockerConfig::load(&path)?;
/// let creds = config.credentials("docker.io")?.ok_or("no credentials")?;
/// assert_eq!((creds.username(), creds.password()), ("alice", "s3cret"));
/// assert!(config.credentials("quay.io")?.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct DockerConfig {
    path: Option<PathBuf>,
    auths: HashMap<String, AuthEntry>,
    creds_store: Option<String>,
    cred_helpers: HashMap<String, String>,
    helper_dirs: Option<Vec<PathBuf>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct FileFormat {
    auths: HashMap<String, AuthEntry>,
    #[serde(rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct AuthEntry {
    auth: String,
    username: String,
    password: String,
    identitytoken: String,
    registrytoken: String,
}

impl fmt::Debug for AuthEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthEntry(<redacted>)")
    }
}

impl DockerConfig {
    /// Reads the file at `path`; a missing file is an empty config.
    pub fn load(path: impl AsRef<Path>) -> Result<DockerConfig, Error> {
        let path = path.as_ref();
        let bad = |reason: String| Error::CredentialsFile {
            path: path.to_owned(),
            reason,
        };
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(DockerConfig {
                    path: Some(path.to_owned()),
                    ..DockerConfig::default()
                });
            }
            Err(err) => return Err(bad(err.to_string())),
        };
        let mut text = Vec::new();
        file.take(MAX_CREDENTIALS_SIZE + 1)
            .read_to_end(&mut text)
            .map_err(|err| bad(err.to_string()))?;
        if text.len() as u64 > MAX_CREDENTIALS_SIZE {
            return Err(bad("larger than 1 MiB".to_owned()));
        }
        let format: FileFormat = serde_json::from_slice(&text)
            // serde's message names the place, never the values.
            .map_err(|err| {
                bad(format!(
                    "not a valid config: line {}, column {}",
                    err.line(),
                    err.column()
                ))
            })?;
        Ok(DockerConfig {
            path: Some(path.to_owned()),
            auths: format.auths,
            creds_store: format.creds_store.filter(|s| !s.is_empty()),
            cred_helpers: format.cred_helpers,
            helper_dirs: None,
        })
    }

    /// The config Docker's client would read: `$DOCKER_CONFIG/config.json`, else
    /// `$HOME/.docker/config.json`, with the environment given as a lookup function (so
    /// callers and tests need not change the process environment).
    ///
    /// ```
    /// use imgsvc_registry_transport::credentials::DockerConfig;
    /// let config = DockerConfig::from_env(|name| (name == "DOCKER_CONFIG").then(|| "/nonexistent".into()))?;
    /// assert_eq!(config.path(), Some(std::path::Path::new("/nonexistent/config.json")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<DockerConfig, Error> {
        let path = match env("DOCKER_CONFIG") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("config.json"),
            _ => PathBuf::from(env("HOME").unwrap_or_default()).join(".docker/config.json"),
        };
        DockerConfig::load(path)
    }

    /// The containers `auth.json` (Podman, Skopeo): `$REGISTRY_AUTH_FILE`, else
    /// `$XDG_RUNTIME_DIR/containers/auth.json`; `None` when neither is set.
    pub fn containers_auth(
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<DockerConfig>, Error> {
        let path = match (env("REGISTRY_AUTH_FILE"), env("XDG_RUNTIME_DIR")) {
            (Some(file), _) if !file.is_empty() => PathBuf::from(file),
            (_, Some(dir)) if !dir.is_empty() => PathBuf::from(dir).join("containers/auth.json"),
            _ => return Ok(None),
        };
        DockerConfig::load(path).map(Some)
    }

    /// Looks for `docker-credential-*` helpers only in `dirs` (instead of `$PATH`).
    pub fn with_helper_dirs(mut self, dirs: Vec<PathBuf>) -> DockerConfig {
        self.helper_dirs = Some(dirs);
        self
    }

    /// The file this config was read from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The stored login for `registry`: the exact key, Docker Hub's legacy key for Docker
    /// Hub, or a key whose host part is `registry`.
    fn stored(&self, registry: &str) -> Option<&AuthEntry> {
        let host = hub_alias(registry);
        if host == DEFAULT_NAMESPACE {
            return [INDEX_SERVER, INDEX_HOSTNAME, DEFAULT_NAMESPACE]
                .iter()
                .find_map(|key| self.auths.get(*key));
        }
        self.auths.get(registry).or_else(|| {
            self.auths
                .iter()
                .find(|(key, _)| convert_to_hostname(key).eq_ignore_ascii_case(&host))
                .map(|(_, entry)| entry)
        })
    }

    fn decode(&self, registry: &str, entry: &AuthEntry) -> Result<Credentials, Error> {
        let mut creds = Credentials {
            username: entry.username.clone(),
            password: entry.password.clone(),
            identity_token: entry.identitytoken.clone(),
            registry_token: entry.registrytoken.clone(),
        };
        if !entry.auth.is_empty() {
            let bad = |reason: &str| Error::CredentialsFile {
                path: self.path.clone().unwrap_or_default(),
                reason: format!("the stored login for {registry} {reason}"),
            };
            let decoded = BASE64
                .decode(entry.auth.trim())
                .map_err(|_| bad("is not base64"))?;
            let text = String::from_utf8(decoded).map_err(|_| bad("is not text"))?;
            let (user, password) = text
                .split_once(':')
                .ok_or_else(|| bad("is not user:password"))?;
            creds.username = user.to_owned();
            creds.password = password.to_owned();
        }
        Ok(creds)
    }

    fn helper_for(&self, registry: &str) -> Option<&str> {
        let host = hub_alias(registry);
        self.cred_helpers
            .iter()
            .find(|(key, _)| hub_alias(key) == host)
            .map(|(_, helper)| helper.as_str())
            .or(self.creds_store.as_deref())
    }

    fn find_helper(&self, name: &str) -> Option<PathBuf> {
        let file = format!("docker-credential-{name}");
        let dirs: Vec<PathBuf> = match &self.helper_dirs {
            Some(dirs) => dirs.clone(),
            None => std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default(),
        };
        dirs.into_iter()
            .map(|d| d.join(&file))
            .find(|p| p.is_file())
    }
}

impl CredentialStore for DockerConfig {
    fn credentials(&self, registry: &str) -> Result<Option<Credentials>, Error> {
        if let Some(helper) = self.helper_for(registry) {
            let server = if hub_alias(registry) == DEFAULT_NAMESPACE {
                INDEX_SERVER.to_owned()
            } else {
                convert_to_hostname(registry).to_owned()
            };
            let found = self
                .find_helper(helper)
                .ok_or_else(|| Error::CredentialHelper {
                    helper: helper.to_owned(),
                    registry: registry.to_owned(),
                    reason: "not found (install it, or remove it from the config)".to_owned(),
                })?;
            return run_helper(&found, helper, registry, &server, HELPER_TIMEOUT);
        }
        self.stored(registry)
            .map(|entry| self.decode(registry, entry))
            .transpose()
    }
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Runs `<program> get` with `server` on stdin, killing it after `timeout`.
fn run_helper(
    program: &Path,
    helper: &str,
    registry: &str,
    server: &str,
    timeout: Duration,
) -> Result<Option<Credentials>, Error> {
    let fail = |reason: String| Error::CredentialHelper {
        helper: helper.to_owned(),
        registry: registry.to_owned(),
        reason,
    };
    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| fail(err.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is judged by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().map_err(|err| fail(err.to_string()))? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!("no answer within {} s", timeout.as_secs())));
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let mut out = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        stdout
            .take(MAX_CREDENTIALS_SIZE)
            .read_to_end(&mut out)
            .map_err(|err| fail(err.to_string()))?;
    }
    let mut err_text = String::new();
    if let Some(stderr) = child.stderr.take() {
        let _ = stderr.take(4096).read_to_string(&mut err_text);
    }
    if !status.success() {
        let said = format!("{} {}", String::from_utf8_lossy(&out), err_text);
        if said.contains("credentials not found") {
            return Ok(None);
        }
        // The answer of a failed helper is an error message, not a secret.
        return Err(fail(format!("{status}: {}", said.trim())));
    }
    let answer: HelperAnswer =
        serde_json::from_slice(&out).map_err(|_| fail("its answer is not JSON".to_owned()))?;
    Ok(Some(if answer.username == "<token>" {
        Credentials::identity_token(&answer.secret)
    } else {
        Credentials::basic(&answer.username, &answer.secret)
    }))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn config(dir: &Path, json: &str) -> DockerConfig {
        let path = dir.join("config.json");
        std::fs::write(&path, json).expect("write");
        DockerConfig::load(&path)
            .expect("a config")
            .with_helper_dirs(vec![dir.to_owned()])
    }

    fn helper(dir: &Path, name: &str, script: &str) {
        let path = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    #[test]
    fn stored_logins_by_key_host_and_hub_aliases() {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = config(
            dir.path(),
            r#"{"auths":{
                "https://index.docker.io/v1/":{"auth":"aHViOnB3"},
                "https://registry.lan:5000/v2/":{"auth":"bGFuOnB3"},
                "quay.io":{"identitytoken":"refresh"}
            }}"#,
        );
        for hub in ["docker.io", "index.docker.io", "registry-1.docker.io"] {
            let creds = c.credentials(hub).expect("ok").expect("found");
            assert_eq!((creds.username(), creds.password()), ("hub", "pw"));
        }
        let lan = c
            .credentials("registry.lan:5000")
            .expect("ok")
            .expect("found");
        assert_eq!(lan.username(), "lan");
        let quay = c.credentials("quay.io").expect("ok").expect("found");
        assert_eq!(quay.identity(), "refresh");
        assert!(c.credentials("ghcr.io").expect("ok").is_none());
    }

    #[test]
    fn helpers_answer_and_fail_without_leaking() {
        let dir = tempfile::tempdir().expect("tempdir");
        helper(
            dir.path(),
            "good",
            r#"read server; echo "{\"ServerURL\":\"$server\",\"Username\":\"u-$server\",\"Secret\":\"s3cret\"}""#,
        );
        helper(
            dir.path(),
            "token",
            r#"echo '{"Username":"<token>","Secret":"idt"}'"#,
        );
        helper(
            dir.path(),
            "missing",
            "echo 'credentials not found in native keychain'; exit 1",
        );
        helper(dir.path(), "broken", "echo 'keychain locked' >&2; exit 3");
        helper(dir.path(), "slow", "sleep 30");
        let c = config(
            dir.path(),
            r#"{"credsStore":"good","credHelpers":{"t.example":"token","m.example":"missing","b.example":"broken","nohelper.example":"absent"}}"#,
        );
        let hub = c.credentials("docker.io").expect("ok").expect("found");
        assert_eq!(hub.username(), "u-https://index.docker.io/v1/");
        assert_eq!(hub.password(), "s3cret");
        let lan = c
            .credentials("lan.example:5000")
            .expect("ok")
            .expect("found");
        assert_eq!(lan.username(), "u-lan.example:5000");
        assert_eq!(
            c.credentials("t.example")
                .expect("ok")
                .expect("found")
                .identity(),
            "idt"
        );
        assert!(c.credentials("m.example").expect("ok").is_none());
        let err = c.credentials("b.example").expect_err("a failing helper");
        assert!(err.to_string().contains("keychain locked"), "{err}");
        let err = c
            .credentials("nohelper.example")
            .expect_err("no such helper");
        assert!(
            err.to_string().contains("docker-credential-absent"),
            "{err}"
        );

        let err = run_helper(
            &dir.path().join("docker-credential-slow"),
            "slow",
            "x.example",
            "x.example",
            Duration::from_millis(200),
        )
        .expect_err("a helper that never answers");
        assert!(err.to_string().contains("no answer"), "{err}");
    }

    #[test]
    fn bad_files_name_the_file_and_never_the_secret() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths":{"x.example":{"auth":"not base64 s3cret!"}}}"#,
        )
        .expect("write");
        let c = DockerConfig::load(&path).expect("parses");
        let err = c.credentials("x.example").expect_err("bad base64");
        assert!(err.to_string().contains("config.json"), "{err}");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        std::fs::write(&path, r#"{"auths":{"x.example":{"password":"s3cret""#).expect("write");
        let err = DockerConfig::load(&path).expect_err("truncated");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert!(DockerConfig::load(dir.path().join("absent.json")).is_ok());
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn containers_auth_file_locations() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert!(
            DockerConfig::containers_auth(env(&[]))
                .expect("ok")
                .is_none()
        );
        let found = DockerConfig::containers_auth(env(&[("XDG_RUNTIME_DIR", "/run/user/7")]))
            .expect("ok")
            .expect("a path");
        assert_eq!(
            found.path(),
            Some(Path::new("/run/user/7/containers/auth.json"))
        );
        let found = DockerConfig::containers_auth(env(&[
            ("XDG_RUNTIME_DIR", "/run/user/7"),
            ("REGISTRY_AUTH_FILE", "/etc/auth.json"),
        ]))
        .expect("ok")
        .expect("a path");
        assert_eq!(found.path(), Some(Path::new("/etc/auth.json")));
    }
}
