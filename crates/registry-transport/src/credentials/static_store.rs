//! A fixed map of credentials, for programs that hold them already.

use std::collections::HashMap;

use super::{CredentialStore, Credentials, server_key};
use crate::error::Error;
use crate::modifier::BoxFuture;

/// Credentials given up front, per registry.
///
/// ```
/// use imgsvc_registry_transport::credentials::{CredentialStore, StaticStore};
/// use imgsvc_registry_transport::Credentials;
///
/// let store = StaticStore::default()
///     .with("docker.io", Credentials::basic("alice", "pw"))
///     .with("https://registry.lan:5000/", Credentials::registry_token("t"));
/// assert_eq!(store.lookup("index.docker.io").username(), Some("alice"));
/// assert_eq!(store.lookup("registry.lan:5000").registry(), Some("t"));
/// assert!(store.lookup("quay.io").is_anonymous());
/// ```
#[derive(Debug, Clone, Default)]
pub struct StaticStore {
    by_key: HashMap<String, Credentials>,
}

impl StaticStore {
    /// The same store with `credentials` for `registry` (a host, URL or Docker Hub name).
    pub fn with(mut self, registry: &str, credentials: Credentials) -> StaticStore {
        self.by_key.insert(server_key(registry), credentials);
        self
    }

    /// The credentials for `registry`, anonymous when none are held.
    pub fn lookup(&self, registry: &str) -> Credentials {
        self.by_key
            .get(&server_key(registry))
            .cloned()
            .unwrap_or_default()
    }
}

impl CredentialStore for StaticStore {
    fn get<'a>(&'a self, registry: &'a str) -> BoxFuture<'a, Result<Credentials, Error>> {
        Box::pin(std::future::ready(Ok(self.lookup(registry))))
    }
}
