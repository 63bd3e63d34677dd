//! `GET`/`HEAD /v2/<name>/manifests/<reference>`: size-capped and verified.

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use imgsvc_digest::Digest;
use imgsvc_registry_transport::{Request, Response};

use super::Repository;
use crate::error::{Error, Object};

use crate::manifest::MAX_MANIFEST_SIZE as MAX_MANIFEST_BYTES;

/// The `Accept` value of manifest requests: OCI and Docker schema 2 image manifests, OCI
/// indexes and Docker manifest lists.
const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// Which manifest to fetch: by tag, or by digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestRef {
    /// A tag (`latest`).
    Tag(String),
    /// A digest: the answer is verified against it.
    Digest(Digest),
}

impl ManifestRef {
    fn path(&self) -> String {
        match self {
            ManifestRef::Tag(tag) => format!("manifests/{tag}"),
            ManifestRef::Digest(digest) => format!("manifests/{digest}"),
        }
    }
}

impl std::fmt::Display for ManifestRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManifestRef::Tag(tag) => f.write_str(tag),
            ManifestRef::Digest(digest) => write!(f, "{digest}"),
        }
    }
}

/// A manifest as fetched: its exact bytes, the media type the registry gave, and its
/// verified digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedManifest {
    /// The bytes, exactly as served (their digest is the manifest's digest).
    pub bytes: Bytes,
    /// The `Content-Type` of the answer, without parameters (may be empty).
    pub media_type: String,
    /// The digest of `bytes`, checked against the digest asked for and against
    /// `Docker-Content-Digest` when the registry sent one.
    pub digest: Digest,
}

/// The manifests of one repository.
#[derive(Debug, Clone, Copy)]
pub struct Manifests<'r> {
    repo: &'r Repository,
}

impl<'r> Manifests<'r> {
    pub(super) fn new(repo: &'r Repository) -> Manifests<'r> {
        Manifests { repo }
    }

    /// Sends `method` for `reference` with the manifest `Accept` types; the answer, if a
    /// success.
    async fn send(&self, method: http::Method, reference: &ManifestRef) -> Result<Response, Error> {
        let request = self.request(method, reference)?;
        Ok(self
            .repo
            .transport()
            .send(request)
            .await?
            .error_for_status()
            .await?)
    }

    fn request(&self, method: http::Method, reference: &ManifestRef) -> Result<Request, Error> {
        let url = self.repo.url(&reference.path())?;
        Ok(Request::new(method, url).header(ACCEPT, HeaderValue::from_static(ACCEPT_MANIFESTS)))
    }

    /// Whether the manifest exists (`HEAD`): `false` on 404, an error on other failures.
    pub async fn exists(&self, reference: &ManifestRef) -> Result<bool, Error> {
        let request = self.request(http::Method::HEAD, reference)?;
        let response = self.repo.transport().send(request).await?;
        if response.status() == http::StatusCode::NOT_FOUND {
            return Ok(false);
        }
        response.error_for_status().await?;
        Ok(true)
    }

    /// The digest the registry announces for `reference` with a `HEAD`, if it sends
    /// `Docker-Content-Digest` (cheap "is my copy current?" checks).
    pub async fn head_digest(&self, reference: &ManifestRef) -> Result<Option<Digest>, Error> {
        let response = self.send(http::Method::HEAD, reference).await?;
        Ok(announced_digest(&response))
    }

    /// Fetches a manifest: refused past
    /// [`MAX_MANIFEST_SIZE`](crate::manifest::MAX_MANIFEST_SIZE), verified against the digest when fetched by digest, and against `Docker-Content-Digest` whenever the
    /// registry sends one (Docker checks neither for tags).
    pub async fn get(&self, reference: &ManifestRef) -> Result<FetchedManifest, Error> {
        let response = self.send(http::Method::GET, reference).await?;
        let media_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned())
            .unwrap_or_default();
        let announced = announced_digest(&response);
        let bytes = match response.bytes_limited(MAX_MANIFEST_BYTES as usize).await {
            Ok(bytes) => bytes,
            Err(imgsvc_registry_transport::Error::TooLarge { .. }) => {
                return Err(Error::TooLarge {
                    what: "manifest",
                    digest: format!("{}@{reference}", self.repo.name()),
                    limit: MAX_MANIFEST_BYTES,
                });
            }
            Err(other) => return Err(other.into()),
        };
        let digest = verify(&bytes, reference, announced)?;
        Ok(FetchedManifest {
            bytes,
            media_type,
            digest,
        })
    }
}

/// The `Docker-Content-Digest` header, when present and valid.
fn announced_digest(response: &Response) -> Option<Digest> {
    response
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// The digest of `bytes`, checked against the reference's digest and the announced one.
fn verify(
    bytes: &[u8],
    reference: &ManifestRef,
    announced: Option<Digest>,
) -> Result<Digest, Error> {
    let expected = match reference {
        ManifestRef::Digest(digest) => Some(*digest),
        ManifestRef::Tag(_) => announced,
    };
    let algorithm = expected.map_or(imgsvc_digest::Algorithm::Sha256, |d| d.algorithm());
    let mut digester = imgsvc_digest::Digester::new(algorithm);
    digester.update(bytes);
    let actual = digester.finish();
    match expected {
        Some(expected) if expected != actual => Err(Error::DigestMismatch {
            what: Object::Manifest,
            expected,
            actual,
        }),
        _ => Ok(actual),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_uses_the_digest_or_the_announced_one() {
        let body = b"{}";
        let right = Digest::from_bytes(body);
        let wrong = Digest::from_bytes(b"other");
        assert_eq!(
            verify(body, &ManifestRef::Digest(right), None).ok(),
            Some(right)
        );
        assert!(verify(body, &ManifestRef::Digest(wrong), Some(right)).is_err());
        assert!(verify(body, &ManifestRef::Tag("t".into()), Some(wrong)).is_err());
        assert_eq!(
            verify(body, &ManifestRef::Tag("t".into()), None).ok(),
            Some(right)
        );
    }
}
