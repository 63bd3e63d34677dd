//! Credentials: what a registry is told about who we are, and where they come from (a static
//! map, the Docker client config and its credential helpers, containers' `auth.json`).

mod docker_config;
mod helper;
mod static_store;

use std::fmt;

pub use docker_config::{DockerConfig, DockerConfigStore, default_config_paths};
pub use helper::{HelperRunner, parse_helper_answer};
pub use static_store::StaticStore;

use crate::endpoint::{
    DEFAULT_NAMESPACE, DEFAULT_REGISTRY_HOST, INDEX_HOSTNAME, INDEX_SERVER, convert_to_hostname,
};
use crate::error::Error;
use crate::modifier::BoxFuture;

/// What to authenticate with: nothing (anonymous), a user name and password, an identity
/// (refresh) token for OAuth2, or a registry token passed through as it is.
///
/// `Debug` never shows a password or token.
///
/// ```
/// use imgsvc_registry_transport::Credentials;
///
/// let creds = Credentials::basic("alice", "hunter2");
/// assert_eq!(creds.username(), Some("alice"));
/// assert!(!format!("{creds:?}").contains("hunter2"));
/// assert!(Credentials::anonymous().is_anonymous());
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    password: String,
    identity_token: String,
    registry_token: String,
}

/// Construction
impl Credentials {
    /// No credentials: anonymous pulls.
    pub fn anonymous() -> Credentials {
        Credentials::default()
    }

    /// A user name and password (or personal access token).
    pub fn basic(username: &str, password: &str) -> Credentials {
        Credentials {
            username: username.to_owned(),
            password: password.to_owned(),
            ..Credentials::default()
        }
    }

    /// An identity token (an OAuth2 refresh token, as `docker login` stores it), with the
    /// user name it belongs to (may be empty).
    pub fn identity_token(username: &str, token: &str) -> Credentials {
        Credentials {
            username: username.to_owned(),
            identity_token: token.to_owned(),
            ..Credentials::default()
        }
    }

    /// A bearer token sent to the registry as it is, instead of fetching one.
    pub fn registry_token(token: &str) -> Credentials {
        Credentials {
            registry_token: token.to_owned(),
            ..Credentials::default()
        }
    }
}

/// Access
impl Credentials {
    /// The user name, if not empty.
    pub fn username(&self) -> Option<&str> {
        non_empty(&self.username)
    }

    /// The password, if not empty.
    pub fn password(&self) -> Option<&str> {
        non_empty(&self.password)
    }

    /// The identity (refresh) token, if not empty.
    pub fn identity(&self) -> Option<&str> {
        non_empty(&self.identity_token)
    }

    /// The pass-through registry token, if not empty.
    pub fn registry(&self) -> Option<&str> {
        non_empty(&self.registry_token)
    }

    /// Whether there is nothing to authenticate with.
    pub fn is_anonymous(&self) -> bool {
        self.username.is_empty()
            && self.password.is_empty()
            && self.identity_token.is_empty()
            && self.registry_token.is_empty()
    }

    /// A user name and a password, both non-empty (what basic auth and the token `account`
    /// need).
    pub fn user_and_password(&self) -> Option<(&str, &str)> {
        Some((self.username()?, self.password()?))
    }
}

fn non_empty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |s: &str| if s.is_empty() { "" } else { "<redacted>" };
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &shown(&self.password))
            .field("identity_token", &shown(&self.identity_token))
            .field("registry_token", &shown(&self.registry_token))
            .finish()
    }
}

/// A source of credentials, asked per registry.
///
/// `registry` is the host as a reference names it (`docker.io`, `quay.io`,
/// `localhost:5000`); Docker Hub's names all mean the same entry (see [`server_key`]).
/// No entry is anonymous, not an error.
pub trait CredentialStore: Send + Sync {
    /// The credentials for `registry`.
    fn get<'a>(&'a self, registry: &'a str) -> BoxFuture<'a, Result<Credentials, Error>>;
}

/// The key a registry's credentials are stored under, as Docker's client config does:
/// Docker Hub (`docker.io`, `index.docker.io`, `registry-1.docker.io`) is
/// `https://index.docker.io/v1/`; any other registry is its host (lowercased, any scheme
/// and path removed).
///
/// ```
/// use imgsvc_registry_transport::credentials::server_key;
/// assert_eq!(server_key("docker.io"), "https://index.docker.io/v1/");
/// assert_eq!(server_key("https://index.docker.io/v1/"), "https://index.docker.io/v1/");
/// assert_eq!(server_key("Registry.LAN:5000"), "registry.lan:5000");
/// assert_eq!(server_key("https://ghcr.io/v2/"), "ghcr.io");
/// ```
pub fn server_key(registry: &str) -> String {
    let host = convert_to_hostname(registry).to_ascii_lowercase();
    if is_docker_hub(&host) {
        INDEX_SERVER.to_owned()
    } else {
        host
    }
}

/// Whether `host` is one of Docker Hub's names.
pub(crate) fn is_docker_hub(host: &str) -> bool {
    matches!(
        host,
        DEFAULT_NAMESPACE | INDEX_HOSTNAME | DEFAULT_REGISTRY_HOST
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_every_secret() {
        for creds in [
            Credentials::basic("alice", "s3cret-pw"),
            Credentials::identity_token("alice", "s3cret-pw"),
            Credentials::registry_token("s3cret-pw"),
        ] {
            let shown = format!("{creds:?} {creds:#?}");
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
    }

    #[test]
    fn basic_needs_both_halves() {
        assert!(
            Credentials::basic("alice", "")
                .user_and_password()
                .is_none()
        );
        assert!(Credentials::basic("", "pw").user_and_password().is_none());
        assert_eq!(
            Credentials::basic("alice", "pw").user_and_password(),
            Some(("alice", "pw"))
        );
        assert!(!Credentials::registry_token("t").is_anonymous());
    }

    #[test]
    fn docker_hub_names_share_one_key() {
        for name in [
            "docker.io",
            "index.docker.io",
            "registry-1.docker.io",
            "https://index.docker.io/v1/",
            "https://registry-1.docker.io",
        ] {
            assert_eq!(server_key(name), INDEX_SERVER, "{name}");
        }
        assert_eq!(server_key("http://localhost:5000/"), "localhost:5000");
    }
}
