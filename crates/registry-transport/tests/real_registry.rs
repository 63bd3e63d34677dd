//! The transport against the real CNCF registry (Debian's `docker-registry`) in its three
//! auth modes, with images pushed by skopeo: ping, challenge, credentials or a token, then
//! the manifest, config and layers of an image, each checked against its digest.
//!
//! Needs `docker-registry skopeo umoci apache2-utils openssl`; a local run without them sets
//! `IMGSVC_SKIP_REAL_REGISTRY=1`.
#![allow(clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

mod support;

use imgsvc_registry_transport::auth::{Scope, TokenOptions};
use imgsvc_registry_transport::envelope::ErrorCode;
use imgsvc_registry_transport::http::header::{ACCEPT, HeaderValue};
use imgsvc_registry_transport::{Client, Credentials, Error, Request};
use imgsvc_testkit::digest::Digest;
use imgsvc_testkit::real::image::{self, OCI_INDEX, OCI_MANIFEST, OciLayout};
use imgsvc_testkit::real::{self, Mode, RealRegistry};
use support::{Session, answer, get};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const USER: &str = "tester";
const PASSWORD: &str = "s3cret pass";
const REPO: &str = "test/app";

/// A registry in `mode` serving the `app` test image as `test/app:v1`, and the layout it
/// came from (in `dir`).
fn serving_app(
    mode: Mode,
    dir: &std::path::Path,
) -> Result<(RealRegistry, OciLayout), Box<dyn std::error::Error>> {
    let layout = OciLayout::init(dir.join("layout"))?;
    image::build_test_images(&layout)?;
    let registry = RealRegistry::start(mode)?;
    registry.push(&layout, image::APP, &format!("{REPO}:v1"))?;
    Ok((registry, layout))
}

/// Fetches `test/app:v1` through `session` the way a pull does and checks every byte
/// against the digests of the layout the image was pushed from.
async fn pull_app(session: &Session, layout: &OciLayout) -> TestResult {
    let url = session.url(&format!("{REPO}/manifests/v1"));
    let request = Request::get(url).header(
        ACCEPT,
        HeaderValue::from_str(&format!("{OCI_MANIFEST}, {OCI_INDEX}"))?,
    );
    let response = session
        .transport
        .send(request)
        .await?
        .error_for_status()
        .await?;
    let manifest = response.bytes_limited(4 << 20).await?;
    assert_eq!(
        Digest::from_bytes(&manifest).to_string(),
        layout.digest(image::APP)?
    );
    let doc: serde_json::Value = serde_json::from_slice(&manifest)?;
    let mut blobs = vec![
        doc["config"]["digest"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    ];
    for layer in doc["layers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        blobs.push(layer["digest"].as_str().unwrap_or_default().to_owned());
    }
    assert!(blobs.len() >= 2, "a config and layers: {doc}");
    for digest in blobs {
        let body = get(
            &session.transport,
            session.url(&format!("{REPO}/blobs/{digest}")),
        )
        .await?;
        assert_eq!(Digest::from_bytes(&body).to_string(), digest);
    }
    Ok(())
}

#[tokio::test]
async fn no_auth_mode_serves_without_any_authorization() -> TestResult {
    if real::skipped() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let (mut registry, layout) = serving_app(Mode::NoAuth, dir.path())?;
    let session = Session::open(
        &registry.url(),
        Credentials::basic(USER, PASSWORD),
        vec![Scope::pull(REPO)],
    )
    .await?;
    assert!(session.challenges.challenges(&session.url("")).is_empty());
    pull_app(&session, &layout).await?;
    let unknown = answer(session.get(&format!("{REPO}/manifests/nope")).await);
    assert!(unknown.has(&ErrorCode::ManifestUnknown), "{unknown:?}");
    registry.stop()?;
    Ok(())
}

#[tokio::test]
async fn basic_mode_answers_the_htpasswd_challenge() -> TestResult {
    if real::skipped() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let (mut registry, layout) = serving_app(Mode::basic(USER, PASSWORD), dir.path())?;
    let session = Session::open(
        &registry.url(),
        Credentials::basic(USER, PASSWORD),
        vec![Scope::pull(REPO)],
    )
    .await?;
    let challenges = session.challenges.challenges(&session.url(""));
    assert_eq!(challenges.first().map(|c| c.scheme()), Some("basic"));
    pull_app(&session, &layout).await?;

    let wrong = Session::open(
        &registry.url(),
        Credentials::basic(USER, "not-it"),
        vec![Scope::pull(REPO)],
    )
    .await?;
    let result = wrong.get(&format!("{REPO}/manifests/v1")).await;
    assert!(!format!("{result:?}").contains("not-it"));
    let refused = answer(result);
    assert_eq!(refused.status, 401);
    assert!(refused.has(&ErrorCode::Unauthorized));
    registry.stop()?;
    Ok(())
}

#[tokio::test]
async fn token_mode_gets_one_token_per_scope_and_speaks_oauth2() -> TestResult {
    if real::skipped() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let (mut registry, layout) = serving_app(Mode::token(USER, PASSWORD), dir.path())?;
    let tokens = registry
        .token_server()
        .expect("token mode has a token server");
    tokens.clear_requests();

    // The GET flow with basic credentials, as `docker pull` does.
    let session = Session::open(
        &registry.url(),
        Credentials::basic(USER, PASSWORD),
        vec![Scope::pull(REPO)],
    )
    .await?;
    let challenges = session.challenges.challenges(&session.url(""));
    assert_eq!(challenges.first().map(|c| c.scheme()), Some("bearer"));
    pull_app(&session, &layout).await?;
    pull_app(&session, &layout).await?;
    let requests = tokens.requests();
    assert_eq!(requests.len(), 1, "one token for the scope: {requests:?}");
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].scopes, [format!("repository:{REPO}:pull")]);
    assert_eq!(requests[0].account.as_deref(), Some(USER));

    // OAuth2: a password grant gives a refresh token, which alone then pulls.
    let client = Client::new()?;
    let mut options = TokenOptions::default();
    options.force_oauth = true;
    let login = Session::open_with(
        &client,
        &registry.url(),
        Credentials::basic(USER, PASSWORD),
        vec![Scope::pull(REPO)],
        options,
    )
    .await?;
    pull_app(&login, &layout).await?;
    let refresh = login.tokens.refresh_token().expect("a refresh token");
    let later = Session::open_with(
        &client,
        &registry.url(),
        Credentials::identity_token(USER, &refresh),
        vec![Scope::pull(REPO)],
        TokenOptions::default(),
    )
    .await?;
    pull_app(&later, &layout).await?;
    let methods: Vec<String> = tokens.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["GET", "POST", "POST"]);

    // Wrong credentials: the token server refuses, and the message says where.
    let wrong = Session::open(
        &registry.url(),
        Credentials::basic(USER, "not-it"),
        vec![Scope::pull(REPO)],
    )
    .await?;
    let result = wrong.get(&format!("{REPO}/manifests/v1")).await;
    let Err(err @ Error::TokenRequest { .. }) = &result else {
        panic!("expected a refused token request, got {result:?}");
    };
    assert!(err.to_string().contains("/token"), "{err}");
    assert!(!format!("{err} {err:?}").contains("not-it"));
    registry.stop()?;
    Ok(())
}
