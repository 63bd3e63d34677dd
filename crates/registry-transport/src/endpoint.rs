//! Where to pull from: Docker Hub's official registry and mirrors, secure and insecure
//! registries.

use std::net::IpAddr;

use url::Url;

use crate::error::Error;

/// The registry name Docker's references use for Docker Hub.
pub const DEFAULT_NAMESPACE: &str = "docker.io";
/// Docker Hub's index host name, also accepted for Docker Hub.
pub const INDEX_HOSTNAME: &str = "index.docker.io";
/// The key Docker's client config stores Docker Hub credentials under.
pub const INDEX_SERVER: &str = "https://index.docker.io/v1/";
/// The host Docker Hub's images are pulled from.
pub const DEFAULT_REGISTRY_HOST: &str = "registry-1.docker.io";

/// How to talk to one endpoint's TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// HTTPS with a verified certificate.
    Verified,
    /// HTTPS without verifying the certificate (an insecure registry).
    Unverified,
    /// Plain HTTP (an insecure registry that does not speak TLS).
    Plain,
}

/// One place to try a pull from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The base URL, e.g. `https://registry-1.docker.io` (no trailing slash).
    pub url: Url,
    /// How its TLS is treated.
    pub tls: Tls,
    /// Whether it is a configured mirror (its failures fall back to the next endpoint).
    pub mirror: bool,
}

/// Which registries are mirrored and which are insecure.
///
/// ```
/// use imgsvc_registry_transport::endpoint::{RegistryConfig, Tls};
///
/// let config = RegistryConfig::new(["https://mirror.example"], ["registry.lan:5000"])?;
/// let hub = config.pull_endpoints("docker.io")?;
/// assert_eq!(hub[0].url.as_str(), "https://mirror.example/");
/// assert!(hub[0].mirror);
/// assert_eq!(hub[1].url.as_str(), "https://registry-1.docker.io/");
///
/// // Insecure registries are tried over HTTPS, then without verification, then plain HTTP;
/// // loopback registries are insecure without being configured, as in Docker.
/// let local = config.pull_endpoints("127.0.0.1:5000")?;
/// assert_eq!(local.iter().map(|e| e.tls).collect::<Vec<_>>(), [Tls::Verified, Tls::Unverified, Tls::Plain]);
/// assert_eq!(config.pull_endpoints("quay.io")?.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct RegistryConfig {
    mirrors: Vec<Url>,
    insecure: Vec<String>,
}

impl RegistryConfig {
    /// A configuration with Docker Hub `mirrors` (tried first, in order) and `insecure`
    /// registries (host or host:port). Mirrors must be `http://` or `https://` URLs without
    /// query, fragment or user info; a missing scheme means `https://`; duplicates are
    /// dropped.
    pub fn new<'a>(
        mirrors: impl IntoIterator<Item = &'a str>,
        insecure: impl IntoIterator<Item = &'a str>,
    ) -> Result<RegistryConfig, Error> {
        let mut checked: Vec<Url> = Vec::new();
        for mirror in mirrors {
            let url = validate_mirror(mirror)?;
            if !checked.contains(&url) {
                checked.push(url);
            }
        }
        Ok(RegistryConfig {
            mirrors: checked,
            insecure: insecure
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
        })
    }

    /// Whether `host` (host or host:port) is insecure: configured so, or a loopback address
    /// or `localhost`.
    pub fn is_insecure(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        if self.insecure.contains(&host) {
            return true;
        }
        let bare = host_without_port(&host);
        self.insecure.iter().any(|h| h == bare) || is_loopback(bare)
    }

    /// The endpoints to try, in order, for images of registry `host` (as a reference names
    /// it: `docker.io`, `quay.io`, `localhost:5000`).
    pub fn pull_endpoints(&self, host: &str) -> Result<Vec<Endpoint>, Error> {
        let host = host.to_ascii_lowercase();
        if host == DEFAULT_NAMESPACE || host == INDEX_HOSTNAME {
            let mut out: Vec<Endpoint> = self
                .mirrors
                .iter()
                .map(|url| Endpoint {
                    url: url.clone(),
                    tls: if url.scheme() == "http" {
                        Tls::Plain
                    } else if url.host_str().is_some_and(|h| self.is_insecure(h)) {
                        Tls::Unverified
                    } else {
                        Tls::Verified
                    },
                    mirror: true,
                })
                .collect();
            out.push(Endpoint {
                url: parse_url(&format!("https://{DEFAULT_REGISTRY_HOST}"))?,
                tls: Tls::Verified,
                mirror: false,
            });
            return Ok(out);
        }
        let https = parse_url(&format!("https://{host}"))?;
        let mut out = vec![Endpoint {
            url: https.clone(),
            tls: Tls::Verified,
            mirror: false,
        }];
        if self.is_insecure(&host) {
            out.push(Endpoint {
                url: https,
                tls: Tls::Unverified,
                mirror: false,
            });
            out.push(Endpoint {
                url: parse_url(&format!("http://{host}"))?,
                tls: Tls::Plain,
                mirror: false,
            });
        }
        Ok(out)
    }
}

fn parse_url(text: &str) -> Result<Url, Error> {
    Url::parse(text).map_err(|err| Error::InvalidUrl {
        url: text.to_owned(),
        reason: err.to_string(),
    })
}

fn validate_mirror(mirror: &str) -> Result<Url, Error> {
    let invalid = |reason: &str| Error::InvalidMirror {
        mirror: redact_userinfo(mirror),
        reason: reason.to_owned(),
    };
    let text = if mirror.contains("://") {
        mirror.to_owned()
    } else {
        format!("https://{mirror}")
    };
    let mut url = Url::parse(&text).map_err(|err| invalid(&err.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a mirror has no query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials do not belong in a mirror URL"));
    }
    let path = format!("{}/", url.path().trim_end_matches('/'));
    url.set_path(&path);
    Ok(url)
}

/// `text` with any user info of a URL (`user:password@`) replaced, for messages.
fn redact_userinfo(text: &str) -> String {
    let start = text.find("://").map_or(0, |i| i + 3);
    let authority_end = text
        .get(start..)
        .and_then(|rest| rest.find('/'))
        .map_or(text.len(), |i| start + i);
    match text.get(start..authority_end).and_then(|a| a.rfind('@')) {
        Some(at) => format!(
            "{}xxxxx{}",
            text.get(..start).unwrap_or_default(),
            text.get(start + at..).unwrap_or_default()
        ),
        None => text.to_owned(),
    }
}

fn host_without_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((bare, port)) if !bare.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            bare
        }
        _ => host,
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Docker's `ConvertToHostname`: a URL or host with its scheme and path removed.
///
/// ```
/// use imgsvc_registry_transport::endpoint::convert_to_hostname;
/// assert_eq!(convert_to_hostname("https://index.docker.io/v1/"), "index.docker.io");
/// assert_eq!(convert_to_hostname("registry.lan:5000"), "registry.lan:5000");
/// ```
pub fn convert_to_hostname(url: &str) -> &str {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    rest.split('/').next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_are_validated_normalized_and_deduplicated() {
        let config = RegistryConfig::new(
            [
                "mirror.example",
                "https://mirror.example/",
                "http://m2.example/path//",
            ],
            [],
        )
        .expect("valid mirrors");
        let hub = config.pull_endpoints("index.docker.io").expect("endpoints");
        let urls: Vec<&str> = hub.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://mirror.example/",
                "http://m2.example/path/",
                "https://registry-1.docker.io/"
            ]
        );
        assert_eq!(hub[1].tls, Tls::Plain);
        for bad in [
            "ftp://x.example",
            "https://x.example/?q=1",
            "https://x.example/#f",
            "https://user:pw@x.example",
        ] {
            let err = RegistryConfig::new([bad], []).expect_err(bad);
            assert!(err.to_string().starts_with("invalid mirror"), "{err}");
            assert!(!err.to_string().contains("pw"), "{err}");
        }
    }

    #[test]
    fn insecure_registries_and_loopback() {
        let config = RegistryConfig::new([], ["registry.lan:5000", "plain.lan"]).expect("config");
        for host in [
            "registry.lan:5000",
            "plain.lan",
            "plain.lan:8080",
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.3.4.5",
            "[::1]:5000",
        ] {
            assert!(config.is_insecure(host), "{host}");
        }
        for host in [
            "registry.lan",
            "registry.lan:5001",
            "quay.io",
            "10.0.0.1:5000",
        ] {
            assert!(!config.is_insecure(host), "{host}");
            assert_eq!(config.pull_endpoints(host).expect("endpoints").len(), 1);
        }
    }
}
