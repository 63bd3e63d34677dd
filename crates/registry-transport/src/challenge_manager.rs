//! The challenges each endpoint answered its ping with, keyed by normalized endpoint.

use std::collections::HashMap;
use std::sync::Mutex;

use url::Url;

use crate::challenge::Challenge;

/// The key challenges are stored under: scheme, lowercased host, the port (the scheme's
/// default when none is given) and the path, as upstream's challenge manager keys them.
///
/// ```
/// use imgsvc_registry_transport::challenge_manager::challenge_key;
/// let a = challenge_key(&"https://Registry.Example/v2/".parse()?);
/// let b = challenge_key(&"https://registry.example:443/v2/".parse()?);
/// assert_eq!(a, b);
/// assert_eq!(a, "https://registry.example:443/v2/");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn challenge_key(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = url.port_or_known_default().unwrap_or_default();
    format!("{}://{host}:{port}{}", url.scheme(), url.path())
}

/// The challenges each endpoint answered a ping with, shared between requests.
///
/// ```
/// use imgsvc_registry_transport::challenge::parse_header;
/// use imgsvc_registry_transport::challenge_manager::ChallengeManager;
///
/// let manager = ChallengeManager::default();
/// let ping = "http://127.0.0.1:5000/v2/".parse()?;
/// manager.record(&ping, 401, &parse_header(r#"Basic realm="r""#));
/// assert_eq!(manager.challenges(&"http://127.0.0.1:5000/v2/".parse()?)[0].scheme(), "basic");
/// // Only a 401 leaves challenges; any other answer clears them.
/// manager.record(&ping, 200, &parse_header(r#"Basic realm="r""#));
/// assert!(manager.challenges(&ping).is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct ChallengeManager {
    by_endpoint: Mutex<HashMap<String, Vec<Challenge>>>,
}

impl ChallengeManager {
    /// Records the answer to a ping of `url`: the challenges of a 401, nothing otherwise.
    pub fn record(&self, url: &Url, status: u16, challenges: &[Challenge]) {
        let kept = if status == 401 {
            challenges.to_vec()
        } else {
            Vec::new()
        };
        if let Ok(mut map) = self.by_endpoint.lock() {
            map.insert(challenge_key(url), kept);
        }
    }

    /// The challenges recorded for `url`'s endpoint (empty when none or never pinged).
    pub fn challenges(&self, url: &Url) -> Vec<Challenge> {
        self.by_endpoint
            .lock()
            .ok()
            .and_then(|map| map.get(&challenge_key(url)).cloned())
            .unwrap_or_default()
    }
}

/// The ping URL whose challenges apply to a request for `url`, as Docker derives it: the
/// path up to and including `/v2/`; a `/v1/` path with `/v2/` in its place; nothing
/// otherwise, so requests to other hosts' paths (storage after a redirect) get no auth.
///
/// ```
/// use imgsvc_registry_transport::challenge_manager::ping_url_for;
/// let ping = |u: &str| ping_url_for(&u.parse().unwrap()).map(|p| p.to_string());
/// assert_eq!(ping("https://r.example/v2/library/alpine/blobs/sha256:ab?x=1").as_deref(), Some("https://r.example/v2/"));
/// assert_eq!(ping("http://mirror.lan/cache/v2/a/manifests/1").as_deref(), Some("http://mirror.lan/cache/v2/"));
/// assert_eq!(ping("https://index.docker.io/v1/users/").as_deref(), Some("https://index.docker.io/v2/"));
/// assert_eq!(ping("https://s3.example/bucket/blob"), None);
/// ```
pub fn ping_url_for(url: &Url) -> Option<Url> {
    let path = url.path();
    let prefix = if let Some(at) = path.find("/v2/") {
        path.get(..at + 4)?.to_owned()
    } else {
        let at = path.find("/v1/")?;
        format!("{}/v2/", path.get(..at)?)
    };
    let mut ping = url.clone();
    ping.set_path(&prefix);
    ping.set_query(None);
    ping.set_fragment(None);
    Some(ping)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_normalize_default_ports_and_case() {
        let key = |u: &str| challenge_key(&u.parse().expect("url"));
        assert_eq!(key("http://HOST/v2/"), key("http://host:80/v2/"));
        assert_ne!(key("http://host/v2/"), key("https://host/v2/"));
        assert_ne!(key("http://host:5000/v2/"), key("http://host/v2/"));
    }
}
