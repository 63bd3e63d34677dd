//! `GET /v2/`: is the endpoint a registry, and which authentication does it ask for.

use std::time::Duration;

use http::StatusCode;
use url::Url;

use crate::challenge::{Challenge, from_headers};
use crate::challenge_manager::ChallengeManager;
use crate::error::{Error, redact_url};
use crate::transport::{Request, Transport};

/// How long a ping may take, as in Docker.
pub const PING_TIMEOUT: Duration = Duration::from_secs(15);

/// What a ping found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The URL pinged (`<endpoint>/v2/`).
    pub url: Url,
    /// The status answered.
    pub status: u16,
    /// The challenges of a 401 (empty otherwise).
    pub challenges: Vec<Challenge>,
    /// `Docker-Distribution-API-Version`, if sent (informative only; Docker ignores it).
    pub api_version: Option<String>,
}

/// The ping URL of an endpoint's base URL: `<base>/v2/`, keeping a mirror's path.
///
/// ```
/// use imgsvc_registry_transport::ping::ping_url;
/// assert_eq!(ping_url(&"https://registry-1.docker.io".parse()?)?.as_str(), "https://registry-1.docker.io/v2/");
/// assert_eq!(ping_url(&"http://mirror.lan/cache/".parse()?)?.as_str(), "http://mirror.lan/cache/v2/");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn ping_url(base: &Url) -> Result<Url, Error> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.join("v2/").map_err(|err| Error::InvalidUrl {
        url: redact_url(&base),
        reason: err.to_string(),
    })
}

/// Classifies a ping answer: 2xx and 401 come from a registry; 403 too (some registries
/// guard `/v2/` that way); 429 and 5xx are the registry's own errors; anything else
/// (404 from a web server, say) is not a registry. Every error here is a fallback error.
///
/// ```
/// use imgsvc_registry_transport::ping::classify;
/// assert!(classify(200).is_ok() && classify(401).is_ok() && classify(403).is_ok());
/// assert!(classify(404).is_err() && classify(503).is_err());
/// ```
pub fn classify(status: u16) -> Result<(), PingRejection> {
    match status {
        200..=299 | 401 | 403 => Ok(()),
        429 | 500..=599 => Err(PingRejection::RegistryError),
        _ => Err(PingRejection::NotARegistry),
    }
}

/// Why a ping answer was refused (see [`classify`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingRejection {
    /// The endpoint answered as a registry in trouble (429, 5xx).
    RegistryError,
    /// The endpoint does not look like a registry.
    NotARegistry,
}

/// Pings `base` (an endpoint's URL) through `transport` (its authorizer, if any, is not
/// used) and records the challenges in `challenges`, keyed by the ping URL.
///
/// Unreachable endpoints fail with [`Error::Http`], non-registries with
/// [`Error::NotARegistry`], registries in trouble with [`Error::Registry`]; all of these
/// say [`Error::is_fallback`], so the caller tries the next endpoint.
///
/// ```no_run
/// # async fn example() -> Result<(), imgsvc_registry_transport::Error> {
/// use imgsvc_registry_transport::{ChallengeManager, Client, Transport, ping};
/// use imgsvc_registry_transport::endpoint::RegistryConfig;
///
/// let client = Client::new()?;
/// let manager = ChallengeManager::default();
/// for endpoint in RegistryConfig::default().pull_endpoints("docker.io")? {
///     let transport = Transport::for_endpoint(&client, &endpoint);
///     match ping::ping(&transport, &endpoint.url, &manager).await {
///         Ok(outcome) => { println!("{} asks for {:?}", outcome.url, outcome.challenges); break }
///         Err(err) if err.is_fallback() => continue,
///         Err(err) => return Err(err),
///     }
/// }
/// # Ok(()) }
/// ```
pub async fn ping(
    transport: &Transport,
    base: &Url,
    challenges: &ChallengeManager,
) -> Result<Outcome, Error> {
    let url = ping_url(base)?;
    let response = transport
        .without_authorizer()
        .send(Request::get(url.clone()).timeout(PING_TIMEOUT))
        .await?;
    let status = response.status();
    let found = if status == StatusCode::UNAUTHORIZED {
        from_headers(response.headers())
    } else {
        Vec::new()
    };
    let api_version = response
        .headers()
        .get("docker-distribution-api-version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match classify(status.as_u16()) {
        Ok(()) => {}
        Err(PingRejection::RegistryError) => return Err(response.into_error().await),
        Err(PingRejection::NotARegistry) => {
            return Err(Error::NotARegistry {
                url: redact_url(&url),
                status: status.as_u16(),
            });
        }
    }
    challenges.record(&url, status.as_u16(), &found);
    Ok(Outcome {
        url,
        status: status.as_u16(),
        challenges: found,
        api_version,
    })
}
