//! `docker pull`: endpoints in order (mirrors first), ping, auth, then the pull itself.

use std::sync::Arc;

use imgsvc_distribution::client::Repository;
use imgsvc_distribution::manifest::Platform;
use imgsvc_distribution::progress::Progress;
use imgsvc_distribution::pull::{Outcome, PullOptions};
use imgsvc_reference::Reference;
use imgsvc_registry_transport::auth::{Authorizer, Scope, TokenHandler, TokenOptions};
use imgsvc_registry_transport::{ChallengeManager, Credentials, HeaderModifier, Transport, ping};

use crate::error::Error;
use crate::service::ImageService;

/// The reference a pull of `image` with `tag` means, as `docker pull` reads them: a
/// trailing `:` is dropped, a tag that parses as a digest pulls by digest, no tag means
/// `latest`.
///
/// ```
/// use imgsvc::pull_reference;
/// assert_eq!(pull_reference("alpine", None)?.to_string(), "docker.io/library/alpine:latest");
/// assert_eq!(pull_reference("alpine:", Some("3.20"))?.to_string(), "docker.io/library/alpine:3.20");
/// let digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
/// assert_eq!(pull_reference("alpine", Some(digest))?.to_string(), format!("docker.io/library/alpine@{digest}"));
/// assert!(pull_reference("Alpine", None).is_err());
/// # Ok::<(), imgsvc::Error>(())
/// ```
pub fn pull_reference(image: &str, tag: Option<&str>) -> Result<Reference, Error> {
    let image = image.trim_end_matches(':');
    let text = match tag.filter(|t| !t.is_empty()) {
        Some(tag) if tag.contains(':') => format!("{image}@{tag}"),
        Some(tag) => format!("{image}:{tag}"),
        None => image.to_owned(),
    };
    Ok(crate::tag::parse(&text)?.tag_name_only())
}

/// Pulling
impl ImageService {
    /// Pulls `image` (`alpine`, `registry.lan:5000/team/app`) at `tag` (a tag or a digest;
    /// `latest` by default) for `platform` (the host's by default), authenticating with
    /// `credentials` when the registry asks. Endpoints are tried in order (mirrors first for
    /// Docker Hub; HTTPS, then plain HTTP, for insecure and loopback registries); one that
    /// does not answer like a registry makes way for the next.
    pub async fn pull_image(
        &self,
        image: &str,
        tag: Option<&str>,
        platform: Option<&Platform>,
        credentials: Option<Credentials>,
        progress: &Arc<dyn Progress>,
    ) -> Result<Outcome, Error> {
        let reference = pull_reference(image, tag)?;
        let credentials = credentials.unwrap_or_else(Credentials::anonymous);
        let mut options = PullOptions::default();
        options.platform = platform.cloned();
        let mut last = None;
        for endpoint in self.registry.pull_endpoints(reference.domain())? {
            let repo = match self.connect(&endpoint, &reference, &credentials).await {
                Ok(repo) => repo,
                Err(Fallback(err)) => {
                    last = Some(err);
                    continue;
                }
            }?;
            match self
                .puller
                .pull(&repo, &reference, &options, progress)
                .await
            {
                Ok(outcome) => {
                    warn_on_platform(&reference, &outcome, platform, progress);
                    return Ok(outcome);
                }
                Err(err) if endpoint.mirror => last = Some(err.into()),
                Err(err) => return Err(err.into()),
            }
        }
        Err(last.unwrap_or_else(|| Error::NoSuchImage {
            reference: reference.familiar_string(),
        }))
    }
}

/// An endpoint that did not answer like a registry: the next one is tried.
struct Fallback(Error);

/// Connecting
impl ImageService {
    /// Pings `endpoint` and returns the repository of `reference` there, authorised with
    /// `credentials` as its challenges ask; `Err(Fallback)` when the next endpoint should be
    /// tried, `Ok(Err(_))` when the error is final.
    async fn connect(
        &self,
        endpoint: &imgsvc_registry_transport::Endpoint,
        reference: &Reference,
        credentials: &Credentials,
    ) -> Result<Result<Repository, Error>, Fallback> {
        let base = Transport::for_endpoint(&self.client, endpoint)
            .with_modifier(HeaderModifier::user_agent());
        let challenges = Arc::new(ChallengeManager::default());
        match ping::ping(&base, &endpoint.url, &challenges).await {
            Ok(_) => {}
            Err(err) if err.is_fallback() => return Err(Fallback(err.into())),
            Err(err) => return Ok(Err(err.into())),
        }
        let tokens = Arc::new(TokenHandler::new(&base, TokenOptions::default()));
        let transport = base.with_authorizer(Authorizer::new(
            challenges,
            tokens,
            credentials.clone(),
            vec![Scope::pull(reference.path())],
        ));
        Ok(Repository::new(reference.path(), &endpoint.url, transport).map_err(Error::from))
    }
}

/// Tags
impl ImageService {
    /// The tags of `image`'s repository (`alpine`, `registry.lan/team/app`), as the first
    /// endpoint that answers lists them.
    pub async fn tags(
        &self,
        image: &str,
        credentials: Option<Credentials>,
    ) -> Result<Vec<String>, Error> {
        let reference = crate::tag::parse(image)?;
        let credentials = credentials.unwrap_or_else(Credentials::anonymous);
        let mut last = None;
        for endpoint in self.registry.pull_endpoints(reference.domain())? {
            let repo = match self.connect(&endpoint, &reference, &credentials).await {
                Ok(repo) => repo,
                Err(Fallback(err)) => {
                    last = Some(err);
                    continue;
                }
            }?;
            match repo.tags().all().await {
                Ok(tags) => return Ok(tags),
                Err(err) if endpoint.mirror => last = Some(err.into()),
                Err(err) => return Err(err.into()),
            }
        }
        Err(last.unwrap_or_else(|| Error::NoSuchImage {
            reference: reference.familiar_name().to_owned(),
        }))
    }

    /// `docker pull --all-tags`: every tag of `image`'s repository (`image` must name no tag
    /// or digest), one after the other; what each pull did.
    pub async fn pull_all_tags(
        &self,
        image: &str,
        platform: Option<&Platform>,
        credentials: Option<Credentials>,
        progress: &Arc<dyn Progress>,
    ) -> Result<Vec<Outcome>, Error> {
        let reference = crate::tag::parse(image.trim_end_matches(':'))?;
        if !reference.is_name_only() {
            return Err(Error::TagWithAllTags {
                text: image.to_owned(),
            });
        }
        let mut outcomes = Vec::new();
        for tag in self.tags(image, credentials.clone()).await? {
            outcomes.push(
                self.pull_image(image, Some(&tag), platform, credentials.clone(), progress)
                    .await?,
            );
        }
        Ok(outcomes)
    }
}

/// A single-platform image that is not the platform asked for (or, when none was, not the
/// host's) is pulled, with a warning, as Docker does.
fn warn_on_platform(
    reference: &Reference,
    outcome: &Outcome,
    wanted: Option<&Platform>,
    progress: &Arc<dyn Progress>,
) {
    let got = outcome.platform.normalize();
    let (want, requested) = match wanted {
        Some(platform) => (platform.normalize(), true),
        None => (Platform::host().normalize(), false),
    };
    if imgsvc_distribution::manifest::Matcher::new(&want).matches(&got) {
        return;
    }
    let text = if requested {
        format!(
            "WARNING: image with reference {} was found but its platform ({got}) does not match the specified platform ({want})",
            reference.familiar_string()
        )
    } else {
        format!(
            "WARNING: The requested image's platform ({got}) does not match the detected host platform ({want}) and no specific platform was requested"
        )
    };
    progress.event(imgsvc_distribution::progress::Event::message(None, text));
}
