//! Basic and bearer authentication, and the token endpoint.

use std::time::Duration;

use base64::Engine as _;
use imgsvc_testkit::fixture::{ImageBuilder, ManifestFormat};
use imgsvc_testkit::rawhttp::Response;
use imgsvc_testkit::{Auth, BearerAuth, RegistryConfig, RequestKind, TestRegistry};

use crate::support::{Result, error_code, get, sample_image, send};

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

fn start(auth: Auth) -> TestRegistry {
    let registry = TestRegistry::start_blocking(RegistryConfig::new().auth(auth))
        .expect("loopback is available");
    let image = sample_image(ManifestFormat::Oci);
    registry
        .push_image("library/sample", "latest", &image)
        .expect("valid");
    registry
        .push_image("other/repo", "latest", &image)
        .expect("valid");
    registry
}

fn token_of(response: &Response) -> String {
    let doc: serde_json::Value = serde_json::from_slice(&response.body).expect("token JSON");
    assert_eq!(doc["token"], doc["access_token"]);
    format!("Bearer {}", doc["token"].as_str().expect("a token string"))
}

#[test]
fn basic_auth_challenges_until_the_right_credentials_come() {
    let registry = start(Auth::basic("alice", "s3cret"));
    let url = format!("{}/v2/library/sample/manifests/latest", registry.url());
    for header in [
        None,
        Some(basic("alice", "wrong")),
        Some("Bearer abc".to_owned()),
    ] {
        let headers: Vec<(&str, &str)> = header
            .iter()
            .map(|h| ("Authorization", h.as_str()))
            .collect();
        let response = send("GET", &url, &headers);
        assert_eq!(response.status, 401, "{header:?}");
        assert_eq!(
            response.header("www-authenticate"),
            Some(r#"Basic realm="testkit""#)
        );
        assert_eq!(error_code(&response), "UNAUTHORIZED");
    }
    let ok = send("GET", &url, &[("Authorization", &basic("alice", "s3cret"))]);
    assert_eq!(ok.status, 200);
    assert_eq!(get(&format!("{}/v2/", registry.url())).status, 401);
    assert_eq!(
        get(&registry.token_url()).status,
        404,
        "no token service in basic mode"
    );
}

#[test]
fn bearer_challenges_name_realm_service_and_scope() {
    let registry = start(Auth::bearer());
    let ping = get(&format!("{}/v2/", registry.url()));
    assert_eq!(ping.status, 401);
    assert_eq!(
        ping.header("www-authenticate"),
        Some(
            format!(
                r#"Bearer realm="{}",service="testkit""#,
                registry.token_url()
            )
            .as_str()
        )
    );
    let manifest = get(&format!(
        "{}/v2/library/sample/manifests/latest",
        registry.url()
    ));
    assert_eq!(manifest.status, 401);
    assert_eq!(
        manifest.header("www-authenticate"),
        Some(
            format!(
                r#"Bearer realm="{}",service="testkit",scope="repository:library/sample:pull""#,
                registry.token_url()
            )
            .as_str()
        )
    );
    assert_eq!(registry.token_url(), format!("{}/token", registry.url()));
}

#[test]
fn tokens_cover_their_scopes_and_the_ping() {
    let registry = start(Auth::bearer());
    let response = get(&format!(
        "{}?service=testkit&scope=repository%3Alibrary%2Fsample%3Apull",
        registry.token_url()
    ));
    assert_eq!(response.status, 200);
    let doc: serde_json::Value = serde_json::from_slice(&response.body).expect("JSON");
    assert_eq!(doc["expires_in"], 3600);
    let issued_at = doc["issued_at"].as_str().expect("issued_at");
    assert!(
        issued_at.len() == 20 && issued_at.ends_with('Z'),
        "{issued_at}"
    );
    let token = token_of(&response);
    let auth = [("Authorization", token.as_str())];
    assert_eq!(
        send("GET", &format!("{}/v2/", registry.url()), &auth).status,
        200
    );
    let url = format!("{}/v2/library/sample/manifests/latest", registry.url());
    assert_eq!(send("GET", &url, &auth).status, 200);
    let other = send(
        "GET",
        &format!("{}/v2/other/repo/manifests/latest", registry.url()),
        &auth,
    );
    assert_eq!(other.status, 401);
    assert!(
        other
            .header("www-authenticate")
            .is_some_and(|c| c.contains(r#"error="insufficient_scope""#))
    );
    let forged = send("GET", &url, &[("Authorization", "Bearer forged")]);
    assert!(
        forged
            .header("www-authenticate")
            .is_some_and(|c| c.contains(r#"error="invalid_token""#))
    );

    let requests = registry.token_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].scopes, ["repository:library/sample:pull"]);
    assert_eq!(requests[0].granted, ["repository:library/sample:pull"]);
    assert_eq!(requests[0].service.as_deref(), Some("testkit"));
    assert_eq!(registry.count(|r| r.kind == RequestKind::Token), 1);
}

#[test]
fn several_scopes_in_one_token_request() {
    let registry = start(Auth::bearer());
    let response = get(&format!(
        "{}?scope=repository:library/sample:pull&scope=repository:other/repo:push,pull&scope=registry:catalog:*",
        registry.token_url()
    ));
    let token = token_of(&response);
    for repo in ["library/sample", "other/repo"] {
        let url = format!("{}/v2/{repo}/tags/list", registry.url());
        assert_eq!(
            send("GET", &url, &[("Authorization", &token)]).status,
            200,
            "{repo}"
        );
    }
    let request = &registry.token_requests()[0];
    assert_eq!(request.scopes.len(), 3);
    assert_eq!(
        request.granted,
        [
            "repository:library/sample:pull",
            "repository:other/repo:pull"
        ]
    );
}

#[test]
fn expired_tokens_are_refused_and_new_ones_work() {
    let registry = start(Auth::Bearer(
        BearerAuth::new()
            .lifetime(Duration::from_secs(600))
            .reported_expires_in(1),
    ));
    let token_url = format!(
        "{}?scope=repository:library/sample:pull",
        registry.token_url()
    );
    let first = get(&token_url);
    let doc: serde_json::Value = serde_json::from_slice(&first.body).expect("JSON");
    assert_eq!(doc["expires_in"], 1);
    let url = format!("{}/v2/library/sample/manifests/latest", registry.url());
    let old = token_of(&first);
    assert_eq!(send("GET", &url, &[("Authorization", &old)]).status, 200);
    registry.expire_tokens();
    let refused = send("GET", &url, &[("Authorization", &old)]);
    assert_eq!(refused.status, 401);
    assert!(
        refused
            .header("www-authenticate")
            .is_some_and(|c| c.contains("invalid_token"))
    );
    let new = token_of(&get(&token_url));
    assert_ne!(new, old);
    assert_eq!(send("GET", &url, &[("Authorization", &new)]).status, 200);
    assert_eq!(registry.token_requests().len(), 2);
}

#[test]
fn a_zero_lifetime_token_is_expired_at_once() {
    let registry = start(Auth::Bearer(BearerAuth::new().lifetime(Duration::ZERO)));
    let token = token_of(&get(&format!(
        "{}?scope=repository:library/sample:pull",
        registry.token_url()
    )));
    let url = format!("{}/v2/library/sample/manifests/latest", registry.url());
    assert_eq!(send("GET", &url, &[("Authorization", &token)]).status, 401);
}

#[test]
fn token_endpoint_can_require_credentials() {
    let registry = start(Auth::Bearer(BearerAuth::new().credentials("bob", "pw")));
    let token_url = format!(
        "{}?account=bob&scope=repository:library/sample:pull",
        registry.token_url()
    );
    let anonymous = get(&token_url);
    assert_eq!(
        (anonymous.status, error_code(&anonymous).as_str()),
        (401, "UNAUTHORIZED")
    );
    let wrong = send(
        "GET",
        &token_url,
        &[("Authorization", &basic("bob", "nope"))],
    );
    assert_eq!(wrong.status, 401);
    let right = send("GET", &token_url, &[("Authorization", &basic("bob", "pw"))]);
    assert_eq!(right.status, 200);
    let token = token_of(&right);
    let url = format!("{}/v2/library/sample/manifests/latest", registry.url());
    assert_eq!(send("GET", &url, &[("Authorization", &token)]).status, 200);
    // Basic credentials are no substitute for a token at the registry.
    assert_eq!(
        send("GET", &url, &[("Authorization", &basic("bob", "pw"))]).status,
        401
    );
    let log = registry.token_requests();
    assert_eq!(
        log.iter()
            .map(|t| (t.status, t.authenticated))
            .collect::<Vec<_>>(),
        [(401, false), (401, false), (200, true)]
    );
    assert_eq!(log[2].account.as_deref(), Some("bob"));
    assert!(log[0].granted.is_empty());
}

#[test]
fn denied_repositories_get_no_grant_and_a_denied_error() -> Result {
    let registry = start(Auth::Bearer(BearerAuth::new().deny("private/repo")));
    registry.push_image("private/repo", "latest", &ImageBuilder::new().build()?)?;
    let response = get(&format!(
        "{}?scope=repository:private/repo:pull&scope=repository:library/sample:pull",
        registry.token_url()
    ));
    let token = token_of(&response);
    assert_eq!(
        registry.token_requests()[0].granted,
        ["repository:library/sample:pull"]
    );
    let url = format!("{}/v2/private/repo/manifests/latest", registry.url());
    let denied = send("GET", &url, &[("Authorization", &token)]);
    assert_eq!(
        (denied.status, error_code(&denied).as_str()),
        (403, "DENIED")
    );
    assert_eq!(
        get(&url).status,
        401,
        "no token at all is still a challenge"
    );
    Ok(())
}

fn post_form(registry: &TestRegistry, form: &str) -> Response {
    imgsvc_testkit::rawhttp::Request::new("POST", &registry.token_url())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.as_bytes())
        .send()
        .expect("the registry answers on loopback")
}

#[test]
fn oauth2_password_and_refresh_grants() {
    let registry = start(Auth::Bearer(
        BearerAuth::new().credentials("alice", "s3cret"),
    ));
    let url = format!("{}/v2/library/sample/manifests/latest", registry.url());
    let scope = "scope=repository%3Alibrary%2Fsample%3Apull+repository%3Aother%2Frepo%3Apull";

    let wrong = post_form(
        &registry,
        &format!("grant_type=password&username=alice&password=nope&service=testkit&{scope}"),
    );
    assert_eq!(wrong.status, 401);
    let unsupported = post_form(&registry, &format!("grant_type=implicit&{scope}"));
    assert_eq!(unsupported.status, 400);
    assert!(unsupported.text().contains("unsupported_grant_type"));

    let granted = post_form(
        &registry,
        &format!(
            "grant_type=password&username=alice&password=s3cret&access_type=offline&service=testkit&client_id=t&{scope}"
        ),
    );
    assert_eq!(granted.status, 200, "{}", granted.text());
    let doc: serde_json::Value = serde_json::from_slice(&granted.body).expect("JSON");
    assert!(
        doc.get("token").is_none(),
        "OAuth2 answers carry access_token"
    );
    assert_eq!(
        doc["scope"],
        "repository:library/sample:pull repository:other/repo:pull"
    );
    let access = format!("Bearer {}", doc["access_token"].as_str().expect("a token"));
    assert_eq!(send("GET", &url, &[("Authorization", &access)]).status, 200);
    let refresh = doc["refresh_token"].as_str().expect("offline access");

    let renewed = post_form(
        &registry,
        &format!("grant_type=refresh_token&refresh_token={refresh}&service=testkit&{scope}"),
    );
    assert_eq!(renewed.status, 200);
    let doc: serde_json::Value = serde_json::from_slice(&renewed.body).expect("JSON");
    assert_eq!(doc["refresh_token"], refresh);
    let forged = post_form(
        &registry,
        &format!("grant_type=refresh_token&refresh_token=forged&{scope}"),
    );
    assert_eq!(forged.status, 401);

    let log = registry.token_requests();
    let grants: Vec<(&str, Option<&str>, u16, bool)> = log
        .iter()
        .map(|r| {
            (
                r.method.as_str(),
                r.grant_type.as_deref(),
                r.status,
                r.authenticated,
            )
        })
        .collect();
    assert_eq!(
        grants,
        [
            ("POST", Some("password"), 401, false),
            ("POST", Some("implicit"), 400, false),
            ("POST", Some("password"), 200, true),
            ("POST", Some("refresh_token"), 200, true),
            ("POST", Some("refresh_token"), 401, false),
        ]
    );
    assert_eq!(log[2].account.as_deref(), Some("alice"));
    assert_eq!(log[2].scopes.len(), 2);
}

#[test]
fn offline_get_hands_out_a_refresh_token() {
    let registry = start(Auth::bearer());
    let plain = get(&format!(
        "{}?scope=repository:library/sample:pull",
        registry.token_url()
    ));
    let doc: serde_json::Value = serde_json::from_slice(&plain.body).expect("JSON");
    assert!(doc.get("refresh_token").is_none());
    let offline = get(&format!(
        "{}?scope=repository:library/sample:pull&offline_token=true&client_id=t",
        registry.token_url()
    ));
    let doc: serde_json::Value = serde_json::from_slice(&offline.body).expect("JSON");
    let refresh = doc["refresh_token"].as_str().expect("a refresh token");
    let renewed = post_form(
        &registry,
        &format!(
            "grant_type=refresh_token&refresh_token={refresh}&scope=repository%3Alibrary%2Fsample%3Apull"
        ),
    );
    assert_eq!(renewed.status, 200);
}
