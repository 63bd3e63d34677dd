//! The registry client: one repository's manifests, blobs and tags over an authorised
//! [`Transport`].

mod blobs;
mod manifests;
mod range;
mod tags;

pub use blobs::{BlobStream, Blobs};
pub use manifests::{FetchedManifest, ManifestRef, Manifests};
pub use range::ContentRange;
pub use tags::Tags;

use imgsvc_registry_transport::Transport;
use url::Url;

use crate::error::Error;

/// One repository of one registry endpoint, e.g. `library/alpine` on
/// `https://registry-1.docker.io`. Its services share the transport (one HTTP client, one
/// authorizer, cached tokens).
///
/// ```
/// use imgsvc_distribution::client::Repository;
/// use imgsvc_registry_transport::{Client, Transport, Tls};
///
/// let client = Client::new()?;
/// let transport = Transport::new(&client, Tls::Verified);
/// let repo = Repository::new("library/alpine", &"https://registry-1.docker.io".parse()?, transport)?;
/// assert_eq!(repo.name(), "library/alpine");
/// assert_eq!(repo.url("tags/list")?.as_str(), "https://registry-1.docker.io/v2/library/alpine/tags/list");
/// assert!(Repository::new("Not Valid", &"https://r.example".parse()?, repo.transport().clone()).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Repository {
    name: String,
    base: Url,
    transport: Transport,
}

/// Construction
impl Repository {
    /// The repository `name` (its path, without the registry host: `library/alpine`) on the
    /// endpoint `base` (`https://registry-1.docker.io`, possibly with a path prefix for a
    /// mirror), sending requests through `transport`.
    pub fn new(name: &str, base: &Url, transport: Transport) -> Result<Repository, Error> {
        if imgsvc_reference::parse(name).is_err() || name.contains(['@', ':']) {
            return Err(Error::InvalidRepositoryName {
                name: name.chars().take(256).collect(),
            });
        }
        Ok(Repository {
            name: name.to_owned(),
            base: base.clone(),
            transport,
        })
    }
}

/// Access
impl Repository {
    /// The repository's path (`library/alpine`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The transport requests go through.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// `<base>/v2/<name>/<rest>`.
    pub fn url(&self, rest: &str) -> Result<Url, Error> {
        let mut url = self.base.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}/v2/{}/{rest}", self.name));
        url.set_query(None);
        Ok(url)
    }

    /// The manifests service.
    pub fn manifests(&self) -> Manifests<'_> {
        Manifests::new(self)
    }

    /// The blobs service.
    pub fn blobs(&self) -> Blobs<'_> {
        Blobs::new(self)
    }

    /// The tags service.
    pub fn tags(&self) -> Tags<'_> {
        Tags::new(self)
    }
}
