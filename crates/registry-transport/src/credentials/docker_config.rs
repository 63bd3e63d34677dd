//! The Docker client config (`config.json`) and containers' `auth.json`: inline `auths`
//! entries, `credsStore` and `credHelpers`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

use super::{CredentialStore, Credentials, HelperRunner, is_docker_hub, server_key};
use crate::endpoint::convert_to_hostname;
use crate::error::Error;
use crate::modifier::BoxFuture;

/// The largest config file read.
const MAX_CONFIG: u64 = 4 << 20;

/// One parsed config file.
///
/// ```
/// use imgsvc_registry_transport::credentials::DockerConfig;
///
/// let config = DockerConfig::parse(br#"{
///     "auths": {
///         "https://index.docker.io/v1/": {"auth": "YWxpY2U6cHc="},
///         "registry.lan:5000": {"identitytoken": "refresh"}
///     },
///     "credHelpers": {"ghcr.io": "test"},
///     "credsStore": "desktop"
/// }"#, "config.json".as_ref())?;
/// assert_eq!(config.inline("docker.io").and_then(|c| c.user_and_password().map(|(u, _)| u.to_owned())).as_deref(), Some("alice"));
/// assert_eq!(config.inline("registry.lan:5000").and_then(|c| c.identity().map(str::to_owned)).as_deref(), Some("refresh"));
/// assert_eq!(config.helper_for("ghcr.io"), Some("test"));
/// assert_eq!(config.helper_for("quay.io"), Some("desktop"));
/// # Ok::<(), imgsvc_registry_transport::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct DockerConfig {
    path: PathBuf,
    auths: BTreeMap<String, Credentials>,
    creds_store: Option<String>,
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    auths: BTreeMap<String, RawAuth>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawAuth {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
    registrytoken: Option<String>,
}

/// Construction
impl DockerConfig {
    /// Parses a config file's bytes (`path` names it in errors).
    pub fn parse(bytes: &[u8], path: &Path) -> Result<DockerConfig, Error> {
        let invalid = |reason: String| Error::CredentialsFile {
            path: path.to_owned(),
            reason,
        };
        let raw: RawConfig = serde_json::from_slice(bytes).map_err(|err| {
            // Line and column only: serde's message can quote the offending value.
            invalid(format!(
                "not valid JSON at line {}, column {}",
                err.line(),
                err.column()
            ))
        })?;
        let mut auths = BTreeMap::new();
        for (key, entry) in raw.auths {
            let creds = decode_entry(entry)
                .map_err(|reason| invalid(format!("the entry for {key:?} {reason}")))?;
            auths.insert(key, creds);
        }
        Ok(DockerConfig {
            path: path.to_owned(),
            auths,
            creds_store: raw.creds_store.filter(|s| !s.is_empty()),
            cred_helpers: raw.cred_helpers,
        })
    }

    /// Reads and parses `path`; `None` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<DockerConfig>, Error> {
        let invalid = |reason: String| Error::CredentialsFile {
            path: path.to_owned(),
            reason,
        };
        let bytes = match std::fs::metadata(path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(invalid(err.to_string())),
            Ok(meta) if meta.len() > MAX_CONFIG => {
                return Err(invalid(format!("larger than {MAX_CONFIG} bytes")));
            }
            Ok(_) => std::fs::read(path).map_err(|err| invalid(err.to_string()))?,
        };
        DockerConfig::parse(&bytes, path).map(Some)
    }
}

/// Access
impl DockerConfig {
    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The helper to ask for `registry`: its `credHelpers` entry, else `credsStore`.
    pub fn helper_for(&self, registry: &str) -> Option<&str> {
        find(&self.cred_helpers, registry)
            .or(self.creds_store.as_ref())
            .map(String::as_str)
            .filter(|name| !name.is_empty())
    }

    /// The inline `auths` entry for `registry`: the exact key first, then any key whose host
    /// matches (`https://registry.lan:5000/v1/` serves `registry.lan:5000`). Docker Hub's
    /// entry is `https://index.docker.io/v1/`; `docker.io` and `index.docker.io` keys (as
    /// containers' `auth.json` writes them) are honoured too.
    pub fn inline(&self, registry: &str) -> Option<Credentials> {
        find(&self.auths, registry).cloned()
    }
}

/// The value of the entry for `registry` in a map keyed the way config files key registries.
fn find<'m, V>(map: &'m BTreeMap<String, V>, registry: &str) -> Option<&'m V> {
    let key = server_key(registry);
    map.get(&key).or_else(|| {
        let hub = is_docker_hub(&convert_to_hostname(&key).to_ascii_lowercase());
        map.iter()
            .find(|(k, _)| {
                let host = convert_to_hostname(k).to_ascii_lowercase();
                // Containers' auth.json may scope an entry to a namespace: `quay.io/org`.
                host == key || (hub && is_docker_hub(&host))
            })
            .map(|(_, v)| v)
    })
}

fn decode_entry(entry: RawAuth) -> Result<Credentials, String> {
    if let Some(token) = entry.registrytoken.filter(|t| !t.is_empty()) {
        return Ok(Credentials::registry_token(&token));
    }
    let (mut username, mut password) = (
        entry.username.unwrap_or_default(),
        entry.password.unwrap_or_default(),
    );
    if let Some(auth) = entry.auth.filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| "has an \"auth\" value that is not base64".to_owned())?;
        let decoded = String::from_utf8(decoded)
            .map_err(|_| "has an \"auth\" value that is not UTF-8".to_owned())?;
        let (user, pass) = decoded
            .split_once(':')
            .ok_or_else(|| "has an \"auth\" value without \"user:password\"".to_owned())?;
        username = user.to_owned();
        password = pass.trim_end_matches('\0').to_owned();
    }
    Ok(match entry.identitytoken.filter(|t| !t.is_empty()) {
        Some(token) => Credentials::identity_token(&username, &token),
        None => Credentials::basic(&username, &password),
    })
}

/// Where credentials are looked for, in order, given an environment lookup:
/// `$REGISTRY_AUTH_FILE`; `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`;
/// `$XDG_RUNTIME_DIR/containers/auth.json`; `$XDG_CONFIG_HOME/containers/auth.json` or
/// `~/.config/containers/auth.json`.
///
/// ```
/// use std::ffi::OsString;
/// use imgsvc_registry_transport::credentials::default_config_paths;
///
/// let env = |name: &str| match name {
///     "HOME" => Some(OsString::from("/home/alice")),
///     "DOCKER_CONFIG" => Some(OsString::from("/etc/docker-cfg")),
///     _ => None,
/// };
/// let paths = default_config_paths(env);
/// assert_eq!(paths[0], std::path::Path::new("/etc/docker-cfg/config.json"));
/// assert_eq!(paths[1], std::path::Path::new("/home/alice/.config/containers/auth.json"));
/// ```
pub fn default_config_paths(env: impl Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let home = var("HOME");
    let mut paths = Vec::new();
    paths.extend(var("REGISTRY_AUTH_FILE"));
    match var("DOCKER_CONFIG") {
        Some(dir) => paths.push(dir.join("config.json")),
        None => paths.extend(home.as_ref().map(|h| h.join(".docker/config.json"))),
    }
    paths.extend(var("XDG_RUNTIME_DIR").map(|d| d.join("containers/auth.json")));
    match var("XDG_CONFIG_HOME") {
        Some(dir) => paths.push(dir.join("containers/auth.json")),
        None => paths.extend(
            home.as_ref()
                .map(|h| h.join(".config/containers/auth.json")),
        ),
    }
    paths
}

/// Credentials from config files, in order: for each file, its helper (`credHelpers` entry
/// or `credsStore`) is asked first, then its inline `auths` entry; the first file that knows
/// the registry answers. None knowing it means anonymous.
///
/// ```
/// # async fn example() -> Result<(), imgsvc_registry_transport::Error> {
/// use imgsvc_registry_transport::credentials::{CredentialStore, DockerConfigStore};
///
/// let store = DockerConfigStore::from_env()?;
/// let creds = store.get("docker.io").await?;
/// println!("pulling as {:?}", creds.username());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct DockerConfigStore {
    configs: Vec<DockerConfig>,
    helpers: HelperRunner,
}

/// Construction
impl DockerConfigStore {
    /// The files of [`default_config_paths`] for the process environment, with helpers
    /// looked for in `PATH`.
    pub fn from_env() -> Result<DockerConfigStore, Error> {
        DockerConfigStore::from_paths(
            &default_config_paths(|name| std::env::var_os(name)),
            HelperRunner::default(),
        )
    }

    /// The files at `paths` that exist, in order, with `helpers` to run helpers.
    pub fn from_paths(
        paths: &[PathBuf],
        helpers: HelperRunner,
    ) -> Result<DockerConfigStore, Error> {
        let mut configs = Vec::new();
        for path in paths {
            configs.extend(DockerConfig::load(path)?);
        }
        Ok(DockerConfigStore { configs, helpers })
    }

    /// A store over configs already parsed.
    pub fn from_configs(configs: Vec<DockerConfig>, helpers: HelperRunner) -> DockerConfigStore {
        DockerConfigStore { configs, helpers }
    }
}

/// Access
impl DockerConfigStore {
    /// The configs read, in lookup order.
    pub fn configs(&self) -> &[DockerConfig] {
        &self.configs
    }

    /// The credentials for `registry`.
    pub async fn lookup(&self, registry: &str) -> Result<Credentials, Error> {
        let key = server_key(registry);
        for config in &self.configs {
            if let Some(helper) = config.helper_for(registry)
                && let Some(creds) = self.helpers.get(helper, &key).await?
            {
                return Ok(creds);
            }
            if let Some(creds) = config.inline(registry) {
                return Ok(creds);
            }
        }
        Ok(Credentials::anonymous())
    }
}

impl CredentialStore for DockerConfigStore {
    fn get<'a>(&'a self, registry: &'a str) -> BoxFuture<'a, Result<Credentials, Error>> {
        Box::pin(self.lookup(registry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    fn parse(json: &str) -> DockerConfig {
        DockerConfig::parse(json.as_bytes(), Path::new("config.json")).expect("valid config")
    }

    #[test]
    fn auth_entries_decode_every_form() {
        let config = parse(
            r#"{"auths": {
                "https://index.docker.io/v1/": {"auth": "YWxpY2U6cDpzOnc="},
                "https://registry.lan:5000/v1/": {"username": "bob", "password": "pw"},
                "ghcr.io": {"auth": "Ym9iOg==", "identitytoken": "refresh"},
                "quay.io": {"registrytoken": "bearer-token"},
                "empty.example": {}
            }}"#,
        );
        let hub = config.inline("docker.io").expect("hub entry");
        // Only the first colon splits: passwords may hold colons.
        assert_eq!(hub.user_and_password(), Some(("alice", "p:s:w")));
        assert_eq!(config.inline("index.docker.io"), Some(hub.clone()));
        assert_eq!(config.inline("registry-1.docker.io"), Some(hub));
        let lan = config.inline("registry.lan:5000").expect("matched by host");
        assert_eq!(lan.user_and_password(), Some(("bob", "pw")));
        let ghcr = config.inline("ghcr.io").expect("ghcr entry");
        assert_eq!(
            (ghcr.username(), ghcr.identity()),
            (Some("bob"), Some("refresh"))
        );
        assert_eq!(
            config
                .inline("quay.io")
                .and_then(|c| c.registry().map(str::to_owned))
                .as_deref(),
            Some("bearer-token")
        );
        assert!(
            config
                .inline("empty.example")
                .expect("present")
                .is_anonymous()
        );
        assert!(config.inline("registry.lan:5001").is_none());
        assert!(config.inline("registry.lan").is_none());
    }

    #[test]
    fn containers_auth_json_keys_and_hub_aliases() {
        let config =
            parse(r#"{"auths": {"docker.io": {"auth": "YTpi"}, "quay.io/org": {"auth": "Yzpk"}}}"#);
        assert_eq!(
            config
                .inline("docker.io")
                .and_then(|c| c.username().map(str::to_owned))
                .as_deref(),
            Some("a")
        );
        assert_eq!(
            config
                .inline("quay.io")
                .and_then(|c| c.username().map(str::to_owned))
                .as_deref(),
            Some("c")
        );
    }

    #[test]
    fn bad_files_name_the_file_and_never_quote_secrets() {
        for json in [
            r#"{"auths": {"x": {"auth": "!!not base64 s3cret"}}}"#,
            r#"{"auths": {"x": {"auth": "czNjcmV0"}}}"#, // "s3cret": no colon
            r#"{"auths": {"x": {"auth": "s3cret"#,
            r#"{"auths": [1, "s3cret"]}"#,
        ] {
            let err = DockerConfig::parse(json.as_bytes(), Path::new("/cfg/config.json"))
                .expect_err(json);
            let text = err.to_string();
            assert!(text.contains("/cfg/config.json"), "{text}");
            assert!(!text.contains("s3cret"), "{text}");
        }
    }

    #[test]
    fn helper_choice_prefers_cred_helpers_over_creds_store() {
        let config = parse(
            r#"{"credsStore": "desktop", "credHelpers": {"https://index.docker.io/v1/": "hub", "gcr.io": "gcloud"}}"#,
        );
        assert_eq!(config.helper_for("docker.io"), Some("hub"));
        assert_eq!(config.helper_for("gcr.io"), Some("gcloud"));
        assert_eq!(config.helper_for("quay.io"), Some("desktop"));
        assert_eq!(parse("{}").helper_for("quay.io"), None);
        assert_eq!(parse(r#"{"credsStore": ""}"#).helper_for("quay.io"), None);
    }

    #[test]
    fn paths_follow_the_environment() {
        let env = |name: &str| match name {
            "HOME" => Some(OsString::from("/h")),
            "REGISTRY_AUTH_FILE" => Some(OsString::from("/run/auth.json")),
            "XDG_RUNTIME_DIR" => Some(OsString::from("/run/user/1")),
            "XDG_CONFIG_HOME" => Some(OsString::from("")), // empty means unset
            _ => None,
        };
        let paths = default_config_paths(env);
        let expected: Vec<PathBuf> = [
            "/run/auth.json",
            "/h/.docker/config.json",
            "/run/user/1/containers/auth.json",
            "/h/.config/containers/auth.json",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(paths, expected);
        assert!(default_config_paths(|_| None).is_empty());
    }

    #[tokio::test]
    async fn files_in_order_helpers_first_and_missing_files_skipped() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).expect("bin dir");
        let helper = bin.join("docker-credential-test");
        std::fs::write(
            &helper,
            "#!/bin/sh\nread server\nif [ \"$server\" = https://index.docker.io/v1/ ]; then echo '{\"Username\":\"<token>\",\"Secret\":\"hub-refresh\"}'; else echo 'credentials not found in native keychain'; exit 1; fi\n",
        )
        .expect("write helper");
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let first = dir.path().join("auth.json");
        std::fs::write(
            &first,
            r#"{"auths": {"quay.io": {"auth": "Zmlyc3Q6cHc="}}}"#,
        )
        .expect("write");
        let second = dir.path().join("config.json");
        std::fs::write(
            &second,
            r#"{"credsStore": "test", "auths": {"quay.io": {"auth": "c2Vjb25kOnB3"}, "ghcr.io": {"auth": "Z2g6cHc="}}}"#,
        )
        .expect("write");
        let store = DockerConfigStore::from_paths(
            &[dir.path().join("missing.json"), first, second],
            HelperRunner::new(Some(bin.into_os_string()), Duration::from_secs(10)),
        )
        .expect("configs load");
        assert_eq!(store.configs().len(), 2);
        // The first file that knows the registry answers.
        let quay = store.get("quay.io").await.expect("lookup");
        assert_eq!(quay.username(), Some("first"));
        // The helper answers for Docker Hub with an identity token...
        let hub = store.get("docker.io").await.expect("lookup");
        assert_eq!(hub.identity(), Some("hub-refresh"));
        // ...and holds nothing for ghcr.io, so the inline entry of the same file answers.
        let ghcr = store.get("ghcr.io").await.expect("lookup");
        assert_eq!(ghcr.username(), Some("gh"));
        assert!(
            store
                .get("example.com")
                .await
                .expect("lookup")
                .is_anonymous()
        );
    }
}
