//! The transport against the in-process test registry (imgsvc-testkit): the authorised flow
//! in each auth mode, a 30-layer pull plan that asks for one token per scope, typed registry
//! errors for every injected fault, redirects that arrive without `Authorization`, token
//! expiry, OAuth2, and secrets kept out of messages.
#![allow(clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

mod support;

use std::time::Duration;

use imgsvc_registry_transport::auth::{Scope, TokenOptions};
use imgsvc_registry_transport::envelope::ErrorCode;
use imgsvc_registry_transport::{Client, ClientOptions, Credentials, Error, HttpErrorKind};
use imgsvc_testkit::fixture::{BuiltImage, Compression, ImageBuilder, LayerBuilder};
use imgsvc_testkit::{
    Auth, BearerAuth, Fault, FaultRule, Listener, RegistryConfig, RequestKind, TestRegistry,
};
use support::{Session, answer, get};

/// An image of `layers` small gzip layers, each with its own file.
fn image(layers: usize) -> BuiltImage {
    let mut builder = ImageBuilder::new();
    for i in 0..layers {
        let layer = LayerBuilder::new()
            .file(
                &format!("layer-{i}/data"),
                format!("layer {i}\n").as_bytes(),
            )
            .compression(Compression::Gzip)
            .build()
            .expect("a valid layer");
        builder = builder.layer(layer);
    }
    builder.build().expect("a valid image")
}

async fn registry(auth: Auth) -> TestRegistry {
    TestRegistry::start(RegistryConfig::new().auth(auth))
        .await
        .expect("loopback is available")
}

fn blob_path(repo: &str, digest: impl std::fmt::Display) -> String {
    format!("{repo}/blobs/{digest}")
}

/// Manifest, config and every layer of `image` in `repo` through `transport`, the layers
/// all at once (as a pull does); checks every body.
async fn pull_plan(
    session: &Session,
    transport: &imgsvc_registry_transport::Transport,
    repo: &str,
    image: &BuiltImage,
) {
    let manifest = get(transport, session.url(&format!("{repo}/manifests/latest")))
        .await
        .expect("the manifest");
    assert_eq!(&manifest[..], &image.manifest().bytes()[..]);
    let config = get(
        transport,
        session.url(&blob_path(repo, image.config_digest())),
    )
    .await
    .expect("the config");
    assert_eq!(&config[..], &image.config().bytes()[..]);
    let mut downloads = tokio::task::JoinSet::new();
    for layer in image.layers() {
        let transport = transport.clone();
        let url = session.url(&blob_path(repo, layer.digest()));
        let expected = layer.blob().clone();
        downloads.spawn(async move {
            let body = get(&transport, url).await.expect("a layer");
            assert_eq!(&body[..], &expected[..]);
        });
    }
    while let Some(done) = downloads.join_next().await {
        done.expect("the download task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_30_layer_pull_plan_asks_for_one_token_per_scope() {
    let registry = registry(Auth::bearer()).await;
    let big = image(30);
    let other = image(3);
    registry
        .push_image("library/big", "latest", &big)
        .expect("valid");
    registry
        .push_image("team/other", "latest", &other)
        .expect("valid");

    let session = Session::open(
        &registry.url(),
        Credentials::anonymous(),
        vec![Scope::pull("library/big")],
    )
    .await
    .expect("the registry answers the ping");
    let recorded = session.challenges.challenges(&session.url(""));
    assert_eq!(recorded.first().map(|c| c.scheme()), Some("bearer"));
    pull_plan(&session, &session.transport, "library/big", &big).await;
    let second = session.for_scopes(Credentials::anonymous(), vec![Scope::pull("team/other")]);
    pull_plan(&session, &second, "team/other", &other).await;
    // Once more, all cached: no new token.
    pull_plan(&session, &session.transport, "library/big", &big).await;

    let scopes: Vec<Vec<String>> = registry
        .token_requests()
        .into_iter()
        .map(|t| t.scopes)
        .collect();
    assert_eq!(
        scopes,
        [
            vec!["repository:library/big:pull".to_owned()],
            vec!["repository:team/other:pull".to_owned()]
        ],
        "exactly one token request per scope"
    );
    // Only the ping was refused: every registry request after it carried a good token.
    let refused = registry.count(|r| r.status == 401);
    assert_eq!(refused, 1, "{:?}", registry.requests());
    let blob_gets = registry.count(|r| r.kind == RequestKind::Blob && r.status == 200);
    assert_eq!(blob_gets, 2 * 31 + 4);
}

#[tokio::test]
async fn anonymous_registries_get_no_authorization_at_all() {
    let registry = registry(Auth::None).await;
    let img = image(2);
    registry.push_image("a/b", "latest", &img).expect("valid");
    let session = Session::open(
        &registry.url(),
        Credentials::basic("u", "p"),
        vec![Scope::pull("a/b")],
    )
    .await
    .expect("a registry");
    assert!(session.challenges.challenges(&session.url("")).is_empty());
    pull_plan(&session, &session.transport, "a/b", &img).await;
    assert_eq!(registry.count(|r| r.authorization), 0);
    assert!(registry.token_requests().is_empty());
}

#[tokio::test]
async fn basic_auth_answers_the_challenge_and_wrong_passwords_stay_secret() {
    let registry = registry(Auth::basic("alice", "s3cret")).await;
    let img = image(2);
    registry.push_image("a/b", "latest", &img).expect("valid");
    let good = Session::open(
        &registry.url(),
        Credentials::basic("alice", "s3cret"),
        vec![Scope::pull("a/b")],
    )
    .await
    .expect("a registry");
    pull_plan(&good, &good.transport, "a/b", &img).await;

    let wrong = Session::open(
        &registry.url(),
        Credentials::basic("alice", "hunter2-wrong"),
        vec![Scope::pull("a/b")],
    )
    .await
    .expect("a registry");
    let result = wrong.get("a/b/manifests/latest").await;
    let message = match &result {
        Err(err) => format!("{err} {err:?}"),
        Ok(_) => panic!("wrong credentials were accepted"),
    };
    let refused = answer(result);
    assert_eq!(refused.status, 401);
    assert!(refused.has(&ErrorCode::Unauthorized));
    let debug = format!("{:?} {:?}", wrong.transport, wrong.tokens);
    for shown in [message, debug] {
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("YWxpY2U6aHVudGVy"), "{shown}"); // base64 of alice:hunter…
    }

    let none = Session::open(
        &registry.url(),
        Credentials::anonymous(),
        vec![Scope::pull("a/b")],
    )
    .await
    .expect("a registry");
    assert!(matches!(
        none.get("a/b/manifests/latest").await,
        Err(Error::NoBasicCredentials { .. })
    ));
}

#[tokio::test]
async fn bearer_with_credentials_sends_account_and_refuses_wrong_ones_clearly() {
    let registry = registry(Auth::Bearer(
        BearerAuth::new().credentials("alice", "s3cret"),
    ))
    .await;
    let img = image(1);
    registry.push_image("a/b", "latest", &img).expect("valid");
    let good = Session::open(
        &registry.url(),
        Credentials::basic("alice", "s3cret"),
        vec![Scope::pull("a/b")],
    )
    .await
    .expect("a registry");
    pull_plan(&good, &good.transport, "a/b", &img).await;
    let requests = registry.token_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].account.as_deref(), Some("alice"));
    assert!(requests[0].authenticated);

    let wrong = Session::open(
        &registry.url(),
        Credentials::basic("alice", "hunter2-wrong"),
        vec![Scope::pull("a/b")],
    )
    .await
    .expect("a registry");
    let result = wrong.get("a/b/manifests/latest").await;
    let Err(err @ Error::TokenRequest { .. }) = &result else {
        panic!("expected a refused token request, got {result:?}");
    };
    let message = format!("{err} {err:?}");
    assert!(message.contains("/token"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(answer(result).has(&ErrorCode::Unauthorized));
}

#[tokio::test]
async fn oauth2_password_grant_then_refresh_token_grant() {
    let registry = registry(Auth::Bearer(
        BearerAuth::new().credentials("alice", "s3cret"),
    ))
    .await;
    let img = image(1);
    registry.push_image("a/b", "latest", &img).expect("valid");
    let client = Client::new().expect("a client");
    let mut options = TokenOptions::default();
    options.force_oauth = true;
    let login = Session::open_with(
        &client,
        &registry.url(),
        Credentials::basic("alice", "s3cret"),
        vec![Scope::pull("a/b")],
        options,
    )
    .await
    .expect("a registry");
    pull_plan(&login, &login.transport, "a/b", &img).await;
    let refresh = login
        .tokens
        .refresh_token()
        .expect("an offline password grant gives a refresh token");
    assert!(!format!("{:?}", login.tokens).contains(&refresh));

    // The refresh token as an identity token (what `docker login` stores), no password.
    let later = Session::open_with(
        &client,
        &registry.url(),
        Credentials::identity_token("alice", &refresh),
        vec![Scope::pull("a/b")],
        TokenOptions::default(),
    )
    .await
    .expect("a registry");
    pull_plan(&later, &later.transport, "a/b", &img).await;

    let grants: Vec<(String, Option<String>, u16)> = registry
        .token_requests()
        .into_iter()
        .map(|t| (t.method, t.grant_type, t.status))
        .collect();
    assert_eq!(
        grants,
        [
            ("POST".to_owned(), Some("password".to_owned()), 200),
            ("POST".to_owned(), Some("refresh_token".to_owned()), 200),
        ]
    );

    let forged = Session::open_with(
        &client,
        &registry.url(),
        Credentials::identity_token("alice", "forged"),
        vec![Scope::pull("a/b")],
        TokenOptions::default(),
    )
    .await
    .expect("a registry");
    let refused = answer(forged.get("a/b/manifests/latest").await);
    assert_eq!(refused.status, 401);
}

#[tokio::test]
async fn expired_tokens_are_replaced_once_and_denied_repositories_are_typed() {
    let registry = registry(Auth::Bearer(BearerAuth::new().deny("secret/repo"))).await;
    let img = image(1);
    registry.push_image("a/b", "latest", &img).expect("valid");
    registry
        .push_image("secret/repo", "latest", &img)
        .expect("valid");
    let session = Session::open(
        &registry.url(),
        Credentials::anonymous(),
        vec![Scope::pull("a/b")],
    )
    .await
    .expect("a registry");
    session.get("a/b/manifests/latest").await.expect("served");
    registry.expire_tokens();
    session
        .get("a/b/manifests/latest")
        .await
        .expect("served with a new token");
    assert_eq!(registry.token_requests().len(), 2);

    let secret = session.for_scopes(Credentials::anonymous(), vec![Scope::pull("secret/repo")]);
    let denied = answer(get(&secret, session.url("secret/repo/manifests/latest")).await);
    assert_eq!(denied.status, 403);
    assert!(denied.has(&ErrorCode::Denied));
}

#[tokio::test]
async fn registry_errors_arrive_typed_with_retry_after() {
    let registry = registry(Auth::bearer()).await;
    let img = image(1);
    registry.push_image("a/b", "latest", &img).expect("valid");
    let session = Session::open(
        &registry.url(),
        Credentials::anonymous(),
        vec![Scope::pull("a/b")],
    )
    .await
    .expect("a registry");
    let manifest = "a/b/manifests/latest";
    for (code, retry_after, expected) in [
        (503, Some(7), ErrorCode::Other("UNAVAILABLE".to_owned())),
        (429, Some(3), ErrorCode::TooManyRequests),
        (500, None, ErrorCode::Other("UNKNOWN".to_owned())),
    ] {
        registry.add_fault(
            FaultRule::new(Fault::Status { code, retry_after })
                .kind(RequestKind::Manifest)
                .times(1),
        );
        let result = session.get(manifest).await;
        let fallback = result.as_ref().err().is_some_and(Error::is_fallback);
        let refused = answer(result);
        assert_eq!(refused.status, code);
        assert!(refused.has(&expected), "{refused:?}");
        assert_eq!(refused.retry_after, retry_after.map(Duration::from_secs));
        assert!(fallback, "{code} lets a caller try the next endpoint");
        session.get(manifest).await.expect("the fault applied once");
    }
    let absent = imgsvc_testkit::digest::Digest::from_bytes(b"absent");
    for (repo, path, expected) in [
        (
            "a/b",
            "a/b/manifests/nope".to_owned(),
            ErrorCode::ManifestUnknown,
        ),
        (
            "no/such",
            "no/such/manifests/latest".to_owned(),
            ErrorCode::NameUnknown,
        ),
        ("a/b", blob_path("a/b", absent), ErrorCode::BlobUnknown),
    ] {
        let transport = session.for_scopes(Credentials::anonymous(), vec![Scope::pull(repo)]);
        let result = get(&transport, session.url(&path)).await;
        assert!(
            result.as_ref().err().is_some_and(|e| !e.is_fallback()),
            "{path}: missing content is final"
        );
        let refused = answer(result);
        assert_eq!(refused.status, 404, "{path}");
        assert!(refused.has(&expected), "{path}: {refused:?}");
    }
}

#[tokio::test]
async fn a_dropped_body_and_a_stalled_body_are_http_errors() {
    let registry = registry(Auth::None).await;
    let big = LayerBuilder::new()
        .file("big", &vec![7u8; 300_000])
        .compression(Compression::None)
        .build()
        .expect("a layer");
    let img = ImageBuilder::new()
        .layer(big.clone())
        .build()
        .expect("an image");
    registry.push_image("a/b", "latest", &img).expect("valid");
    registry.add_fault(
        FaultRule::new(Fault::DropAfter { bytes: 1000 })
            .kind(RequestKind::Blob)
            .times(1),
    );
    let mut options = ClientOptions::default();
    options.read_timeout = Duration::from_millis(300);
    let client = Client::with_options(options).expect("a client");
    let session = Session::open_with(
        &client,
        &registry.url(),
        Credentials::anonymous(),
        vec![Scope::pull("a/b")],
        TokenOptions::default(),
    )
    .await
    .expect("a registry");
    let path = blob_path("a/b", big.digest());
    let dropped = session.get(&path).await;
    assert!(
        matches!(
            dropped,
            Err(Error::Http {
                kind: HttpErrorKind::Body,
                ..
            })
        ),
        "{dropped:?}"
    );
    assert!(dropped.as_ref().err().is_some_and(Error::is_fallback));

    registry.add_fault(
        FaultRule::new(Fault::Slow {
            chunk: 100,
            delay: Duration::from_secs(2),
        })
        .kind(RequestKind::Blob)
        .times(1),
    );
    let stalled = session.get(&path).await;
    assert!(
        matches!(
            stalled,
            Err(Error::Http {
                kind: HttpErrorKind::Timeout,
                ..
            })
        ),
        "{stalled:?}"
    );
    assert_eq!(
        session.get(&path).await.expect("whole").len() as u64,
        big.size()
    );
}

#[tokio::test]
async fn blobs_redirected_to_another_listener_arrive_there_without_authorization() {
    let registry = registry(Auth::bearer()).await;
    let img = image(3);
    registry.push_image("a/b", "latest", &img).expect("valid");
    registry.add_fault(FaultRule::new(Fault::RedirectBlobs).kind(RequestKind::Blob));
    let session = Session::open(
        &registry.url(),
        Credentials::anonymous(),
        vec![Scope::pull("a/b")],
    )
    .await
    .expect("a registry");
    pull_plan(&session, &session.transport, "a/b", &img).await;
    let redirected: Vec<_> = registry
        .requests()
        .into_iter()
        .filter(|r| r.listener == Listener::Redirect)
        .collect();
    assert_eq!(redirected.len(), 4, "the config and three layers");
    assert!(
        redirected
            .iter()
            .all(|r| !r.authorization && r.status == 200)
    );
    let at_registry =
        registry.count(|r| r.listener == Listener::Registry && r.kind == RequestKind::Blob);
    assert_eq!(at_registry, 4);
    assert!(
        registry.count(|r| r.listener == Listener::Registry
            && r.kind == RequestKind::Blob
            && r.authorization)
            == 4
    );
}
