//! The real CNCF registry (Debian's `docker-registry` 2.8) in its three auth modes, fed by
//! skopeo and checked with plain HTTP. The token tests are what proves that
//! `imgsvc_testkit::token` issues tokens the real registry accepts.
//!
//! Needs `docker-registry skopeo umoci apache2-utils openssl`; a local run without them sets
//! `IMGSVC_SKIP_REAL_REGISTRY=1`.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;

use imgsvc_testkit::rawhttp::{self, Request, Response};
use imgsvc_testkit::real::image::{self, OCI_INDEX, OCI_MANIFEST, OciLayout};
use imgsvc_testkit::real::{self, BASIC_REALM, Mode, RealRegistry};
use imgsvc_testkit::token::{self, Access, Claims, KeyHeader};
use sha2::{Digest as _, Sha256};

type BoxError = Box<dyn std::error::Error>;
type TestResult = Result<(), BoxError>;

const USER: &str = "tester";
const PASSWORD: &str = "s3cret pass";

/// A fresh layout with the test images, in `dir/layout`.
fn test_images(dir: &Path) -> Result<OciLayout, BoxError> {
    let layout = OciLayout::init(dir.join("layout"))?;
    image::build_test_images(&layout)?;
    Ok(layout)
}

fn sha256(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

fn manifest(
    registry: &RealRegistry,
    repo: &str,
    reference: &str,
    auth: Option<&str>,
) -> Result<Response, BoxError> {
    let url = format!("{}/v2/{repo}/manifests/{reference}", registry.url());
    let mut request =
        Request::new("GET", &url).header("Accept", &format!("{OCI_MANIFEST}, {OCI_INDEX}"));
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    Ok(request.send()?)
}

/// `key="value"` parameters of a `WWW-Authenticate` challenge after the scheme.
fn challenge_params(challenge: &str, scheme: &str) -> Result<Vec<(String, String)>, BoxError> {
    let rest = challenge
        .strip_prefix(scheme)
        .ok_or_else(|| format!("challenge {challenge:?} is not {scheme}"))?
        .trim();
    let mut params = Vec::new();
    let mut remaining = rest;
    while let Some((key, after)) = remaining.split_once("=\"") {
        let (value, after) = after
            .split_once('"')
            .ok_or_else(|| format!("unclosed quote in {challenge:?}"))?;
        params.push((
            key.trim_start_matches(',').trim().to_owned(),
            value.to_owned(),
        ));
        remaining = after;
    }
    Ok(params)
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Fetches a token from `realm` for `scope`, with `auth` (a full `Authorization` value) if any.
fn fetch_token(
    realm: &str,
    service: &str,
    scope: &str,
    auth: Option<&str>,
) -> Result<(u16, Option<String>), BoxError> {
    let url = format!(
        "{realm}?service={}&scope={}",
        query_escape(service),
        query_escape(scope)
    );
    let mut request = Request::new("GET", &url);
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    let response = request.send()?;
    let token = serde_json::from_slice::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|v| v.get("token").and_then(|t| t.as_str()).map(str::to_owned));
    Ok((response.status, token))
}

fn stop_and_check_gone(registry: &mut RealRegistry) -> TestResult {
    let pid = registry.pid();
    assert!(
        real::process_exists(pid),
        "registry pid {pid} runs before stop"
    );
    registry.stop()?;
    assert!(
        !real::process_exists(pid),
        "registry pid {pid} is gone after stop"
    );
    assert!(!registry.is_running());
    Ok(())
}

#[test]
fn noauth_registry_serves_pushed_manifests_and_an_index() -> TestResult {
    if real::skipped() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let layout = test_images(dir.path())?;
    let mut registry = RealRegistry::start(Mode::NoAuth)?;
    registry.push(&layout, image::APP, "test/app:v1")?;
    registry.push(&layout, image::MULTI, "test/multi:v1")?;

    let ping = rawhttp::get(&format!("{}/v2/", registry.url()))?;
    assert_eq!(ping.status, 200);
    assert_eq!(
        ping.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );

    // skopeo keeps the manifest bytes: the registry serves exactly the layout's manifest.
    let app = manifest(&registry, "test/app", "v1", None)?;
    assert_eq!(app.status, 200, "{}", app.text());
    assert_eq!(app.header("content-type"), Some(OCI_MANIFEST));
    let app_digest = layout.digest(image::APP)?;
    assert_eq!(
        app.header("docker-content-digest"),
        Some(app_digest.as_str())
    );
    assert_eq!(sha256(&app.body), app_digest);
    assert_eq!(app.body, layout.blob(&app_digest)?);
    let parsed: serde_json::Value = serde_json::from_slice(&app.body)?;
    assert_eq!(
        parsed["layers"].as_array().map(Vec::len),
        Some(3),
        "base + 2 app layers"
    );

    let index = manifest(&registry, "test/multi", "v1", None)?;
    assert_eq!(index.status, 200, "{}", index.text());
    assert_eq!(index.header("content-type"), Some(OCI_INDEX));
    assert_eq!(sha256(&index.body), layout.digest(image::MULTI)?);
    let parsed: serde_json::Value = serde_json::from_slice(&index.body)?;
    let platforms: Vec<&str> = parsed["manifests"]
        .as_array()
        .expect("an index lists manifests")
        .iter()
        .filter_map(|m| m["platform"]["architecture"].as_str())
        .collect();
    assert_eq!(platforms, ["amd64", "arm64"]);
    for child in parsed["manifests"].as_array().expect("checked above") {
        let digest = child["digest"].as_str().expect("descriptor digest");
        assert_eq!(
            manifest(&registry, "test/multi", digest, None)?.status,
            200,
            "{digest}"
        );
    }

    let missing = manifest(&registry, "test/app", "no-such-tag", None)?;
    assert_eq!(missing.status, 404);

    // The reference unpack: umoci's view of what the pushed image contains.
    let rootfs = registry.reference_rootfs("test/app:v1", &dir.path().join("ref"))?;
    let run = std::fs::metadata(rootfs.join("opt/app/bin/run"))?;
    assert_eq!(run.permissions().mode() & 0o777, 0o755);
    assert!(
        !rootfs.join("opt/base/remove-me.txt").exists(),
        "whiteout applied"
    );
    assert!(rootfs.join("opt/base").is_dir());
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/motd"))?,
        "built by imgsvc-testkit\n"
    );
    assert_eq!(
        std::fs::read_link(rootfs.join("bin"))?,
        Path::new("usr/bin")
    );
    let data = std::fs::metadata(rootfs.join("usr/share/imgsvc/data.txt"))?;
    let link = std::fs::metadata(rootfs.join("usr/share/imgsvc/data-link.txt"))?;
    assert_eq!(data.ino(), link.ino(), "hardlink kept");

    stop_and_check_gone(&mut registry)
}

#[test]
fn basic_registry_challenges_without_credentials_and_serves_with_them() -> TestResult {
    if real::skipped() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let layout = test_images(dir.path())?;
    let mut registry = RealRegistry::start(Mode::basic(USER, PASSWORD))?;
    registry.push(&layout, image::BASE, "test/base:v1")?;

    let ping = rawhttp::get(&format!("{}/v2/", registry.url()))?;
    assert_eq!(ping.status, 401);
    let challenge = format!("Basic realm=\"{BASIC_REALM}\"");
    assert_eq!(ping.header("www-authenticate"), Some(challenge.as_str()));

    let anonymous = manifest(&registry, "test/base", "v1", None)?;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some(challenge.as_str())
    );
    let wrong = manifest(&registry, "test/base", "v1", Some(&basic(USER, "wrong")))?;
    assert_eq!(wrong.status, 401);

    let ok = manifest(&registry, "test/base", "v1", Some(&basic(USER, PASSWORD)))?;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(sha256(&ok.body), layout.digest(image::BASE)?);

    stop_and_check_gone(&mut registry)
}

#[test]
fn token_registry_accepts_kid_tokens_from_the_token_server_and_only_for_their_scope() -> TestResult
{
    if real::skipped() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let layout = test_images(dir.path())?;
    let mut registry = RealRegistry::start(Mode::token(USER, PASSWORD))?;
    // skopeo runs the whole token flow for the push: pull+push tokens for test/base.
    registry.push(&layout, image::BASE, "test/base:v1")?;
    let tokens = registry
        .token_server()
        .expect("token mode has a token server");
    let pushes = tokens.requests();
    assert!(!pushes.is_empty(), "skopeo fetched tokens");
    assert!(
        pushes
            .iter()
            .all(|r| r.status == 200 && r.account.as_deref() == Some(USER)),
        "{pushes:?}"
    );
    assert!(
        pushes
            .iter()
            .flat_map(|r| &r.granted)
            .any(|a| a.name == "test/base" && a.actions.iter().any(|x| x == "push")),
        "{pushes:?}"
    );
    tokens.clear_requests();

    // The challenge names our realm, service and the scope needed.
    let refused = manifest(&registry, "test/base", "v1", None)?;
    assert_eq!(refused.status, 401);
    let challenge = refused.header("www-authenticate").expect("a challenge");
    let params = challenge_params(challenge, "Bearer")?;
    assert_eq!(param(&params, "realm"), Some(tokens.realm().as_str()));
    assert_eq!(param(&params, "service"), Some(tokens.service()));
    assert_eq!(param(&params, "scope"), Some("repository:test/base:pull"));

    // A token from the endpoint is accepted.
    let auth = basic(USER, PASSWORD);
    let (status, token) = fetch_token(
        &tokens.realm(),
        tokens.service(),
        "repository:test/base:pull",
        Some(&auth),
    )?;
    assert_eq!(status, 200);
    let token = token.expect("a token in the answer");
    let header = token.split('.').next().expect("JWS header");
    let header: serde_json::Value = serde_json::from_slice(&base64_url_decode(header)?)?;
    assert_eq!(header["kid"].as_str(), Some(tokens.key().kid()));
    let claims = token::decode_claims(&token).expect("claims decode");
    assert_eq!(
        claims.access,
        vec![Access::repository("test/base", &["pull"])]
    );
    let ok = manifest(
        &registry,
        "test/base",
        "v1",
        Some(&format!("Bearer {token}")),
    )?;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(sha256(&ok.body), layout.digest(image::BASE)?);

    // A token for another repository is not.
    let (status, other) = fetch_token(
        &tokens.realm(),
        tokens.service(),
        "repository:test/other:pull",
        Some(&auth),
    )?;
    assert_eq!(status, 200);
    let other = other.expect("a token");
    let denied = manifest(
        &registry,
        "test/base",
        "v1",
        Some(&format!("Bearer {other}")),
    )?;
    assert_eq!(denied.status, 401, "{}", denied.text());
    assert!(
        denied
            .header("www-authenticate")
            .is_some_and(|c| c.contains("insufficient_scope")),
        "{denied:?}"
    );

    // Nor is a token with the right claims signed by a key the registry does not trust, whether
    // it names that key by kid or claims to be signed by the trusted key's kid.
    let stranger = token::SigningKey::generate()?;
    let mut claims = Claims::new(tokens.issuer(), tokens.service(), Some(USER), 300);
    claims.access = vec![Access::repository("test/base", &["pull"])];
    let untrusted = token::encode(&stranger, KeyHeader::Kid, &claims)?;
    let denied = manifest(
        &registry,
        "test/base",
        "v1",
        Some(&format!("Bearer {untrusted}")),
    )?;
    assert_eq!(denied.status, 401);
    let trusted_sig = token::encode(tokens.key(), KeyHeader::Kid, &claims)?;
    let forged = format!(
        "{}.{}",
        trusted_sig.rsplit_once('.').expect("three parts").0,
        untrusted.rsplit_once('.').expect("three parts").1
    );
    let denied = manifest(
        &registry,
        "test/base",
        "v1",
        Some(&format!("Bearer {forged}")),
    )?;
    assert_eq!(denied.status, 401);
    assert_eq!(
        manifest(
            &registry,
            "test/base",
            "v1",
            Some(&format!("Bearer {trusted_sig}"))
        )?
        .status,
        200,
        "the same claims signed by the trusted key pass"
    );

    // Nor is an anonymous token (empty access), nor a bad password at the endpoint.
    let (status, anonymous) = fetch_token(
        &tokens.realm(),
        tokens.service(),
        "repository:test/base:pull",
        None,
    )?;
    assert_eq!(status, 200);
    let denied = manifest(
        &registry,
        "test/base",
        "v1",
        Some(&format!("Bearer {}", anonymous.expect("a token"))),
    )?;
    assert_eq!(denied.status, 401);
    let (status, none) = fetch_token(
        &tokens.realm(),
        tokens.service(),
        "repository:test/base:pull",
        Some(&basic(USER, "bad")),
    )?;
    assert_eq!((status, none), (401, None));

    // The log counted each round-trip.
    let log = tokens.requests();
    let summary: Vec<(Option<&str>, &[String], u16)> = log
        .iter()
        .map(|r| (r.account.as_deref(), r.scopes.as_slice(), r.status))
        .collect();
    let scope = |s: &str| vec![s.to_owned()];
    assert_eq!(
        summary,
        vec![
            (
                Some(USER),
                scope("repository:test/base:pull").as_slice(),
                200
            ),
            (
                Some(USER),
                scope("repository:test/other:pull").as_slice(),
                200
            ),
            (None, scope("repository:test/base:pull").as_slice(), 200),
            (None, scope("repository:test/base:pull").as_slice(), 401),
        ]
    );
    assert!(
        log.get(2).is_some_and(|r| r.granted.is_empty()),
        "anonymous gets no access"
    );

    let token_addr = tokens.addr();
    stop_and_check_gone(&mut registry)?;
    assert!(
        std::net::TcpStream::connect(token_addr).is_err(),
        "token server stopped"
    );
    Ok(())
}

#[test]
fn token_registry_accepts_x5c_tokens_anonymous_pull_and_rejects_expired_tokens() -> TestResult {
    if real::skipped() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let layout = test_images(dir.path())?;
    let options = token::Options::default()
        .user(USER, PASSWORD)
        .header(KeyHeader::X5c)
        .anonymous_pull(true);
    let mut registry = RealRegistry::start(Mode::Token(options))?;
    registry.push(&layout, image::BASE, "test/base:v1")?;
    let tokens = registry
        .token_server()
        .expect("token mode has a token server");

    // Anonymous: pull granted, push dropped.
    let (status, token) = fetch_token(
        &tokens.realm(),
        tokens.service(),
        "repository:test/base:pull,push",
        None,
    )?;
    assert_eq!(status, 200);
    let token = token.expect("a token");
    let header: serde_json::Value = serde_json::from_slice(&base64_url_decode(
        token.split('.').next().expect("JWS header"),
    )?)?;
    assert!(header.get("kid").is_none());
    assert_eq!(header["x5c"].as_array().map(Vec::len), Some(1));
    let claims = token::decode_claims(&token).expect("claims decode");
    assert_eq!(
        claims.access,
        vec![Access::repository("test/base", &["pull"])]
    );
    let ok = manifest(
        &registry,
        "test/base",
        "v1",
        Some(&format!("Bearer {token}")),
    )?;
    assert_eq!(ok.status, 200, "{}", ok.text());

    // Expired beyond the registry's 60 s leeway.
    let mut expired = Claims::new(tokens.issuer(), tokens.service(), Some(USER), -120);
    expired.access = vec![Access::repository("test/base", &["pull"])];
    let expired = tokens.sign(&expired)?;
    let denied = manifest(
        &registry,
        "test/base",
        "v1",
        Some(&format!("Bearer {expired}")),
    )?;
    assert_eq!(denied.status, 401);
    assert!(
        denied
            .header("www-authenticate")
            .is_some_and(|c| c.contains("invalid_token")),
        "{denied:?}"
    );

    // Another audience is refused too.
    let mut foreign = Claims::new(tokens.issuer(), "some-other-service", Some(USER), 300);
    foreign.access = vec![Access::repository("test/base", &["pull"])];
    let denied = manifest(
        &registry,
        "test/base",
        "v1",
        Some(&format!("Bearer {}", tokens.sign(&foreign)?)),
    )?;
    assert_eq!(denied.status, 401);

    stop_and_check_gone(&mut registry)
}

#[test]
fn registries_can_share_storage() -> TestResult {
    if real::skipped() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let layout = test_images(dir.path())?;
    let storage = dir.path().join("storage");
    let mut writer = RealRegistry::start_with(real::Options::new(Mode::NoAuth).storage(&storage))?;
    writer.push(&layout, image::BASE, "shared/base:v1")?;
    let mut reader = RealRegistry::start_with(
        real::Options::new(Mode::basic(USER, PASSWORD)).storage(&storage),
    )?;
    assert_ne!(writer.port(), reader.port());
    let ok = manifest(&reader, "shared/base", "v1", Some(&basic(USER, PASSWORD)))?;
    assert_eq!(ok.status, 200, "{}", ok.text());
    stop_and_check_gone(&mut writer)?;
    stop_and_check_gone(&mut reader)?;
    assert!(
        storage
            .join("docker/registry/v2/repositories/shared/base")
            .is_dir()
    );
    Ok(())
}

fn base64_url_decode(text: &str) -> Result<Vec<u8>, BoxError> {
    use base64::Engine as _;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text)?)
}
