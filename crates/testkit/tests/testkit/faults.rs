//! Fault injection: statuses, cut bodies, corruption, redirects, slowness, wrong digests.

use std::time::{Duration, Instant};

use imgsvc_testkit::digest::Digest;
use imgsvc_testkit::fixture::ManifestFormat;
use imgsvc_testkit::{
    Auth, Fault, FaultRule, Listener, PathMatch, RegistryConfig, RequestKind, TestRegistry,
};

use crate::support::{error_code, get, sample_image, send, serving_sample};

#[test]
fn status_faults_apply_n_times_then_stop() {
    let (registry, image) = serving_sample();
    let layer = image.layers()[0].digest();
    let id = registry.add_fault(
        FaultRule::new(Fault::Status {
            code: 429,
            retry_after: Some(3),
        })
        .kind(RequestKind::Blob)
        .times(2),
    );
    let url = format!("{}/v2/library/sample/blobs/{layer}", registry.url());
    for _ in 0..2 {
        let response = get(&url);
        assert_eq!(response.status, 429);
        assert_eq!(response.header("retry-after"), Some("3"));
        assert_eq!(error_code(&response), "TOOMANYREQUESTS");
    }
    assert_eq!(get(&url).status, 200);
    assert_eq!(registry.fault_hits(id), 2);
    // Manifests were never affected.
    assert_eq!(
        get(&format!(
            "{}/v2/library/sample/manifests/latest",
            registry.url()
        ))
        .status,
        200
    );
}

#[test]
fn status_codes_map_to_error_codes_and_come_before_auth() {
    let registry = TestRegistry::start_blocking(
        RegistryConfig::new()
            .auth(Auth::basic("u", "p"))
            .fault(
                FaultRule::new(Fault::status(503))
                    .path(PathMatch::Exact("/v2/".into()))
                    .times(1),
            )
            .fault(
                FaultRule::new(Fault::status(500))
                    .path(PathMatch::Exact("/v2/".into()))
                    .times(1),
            ),
    )
    .expect("loopback");
    let ping = format!("{}/v2/", registry.url());
    let first = get(&ping);
    assert_eq!(
        (first.status, error_code(&first).as_str()),
        (503, "UNAVAILABLE")
    );
    assert_eq!(first.header("retry-after"), None);
    let second = get(&ping);
    assert_eq!(
        (second.status, error_code(&second).as_str()),
        (500, "UNKNOWN")
    );
    assert_eq!(get(&ping).status, 401);
}

#[test]
fn drop_after_cuts_the_body_and_counts_what_was_sent() {
    let (registry, image) = serving_sample();
    let layer = &image.layers()[0];
    let id = registry.add_fault(
        FaultRule::new(Fault::DropAfter { bytes: 70_000 })
            .method("get")
            .path_contains(&layer.digest().to_string())
            .times(1),
    );
    let url = format!(
        "{}/v2/library/sample/blobs/{}",
        registry.url(),
        layer.digest()
    );
    // HEAD has no body to cut: the rule is not used up.
    assert_eq!(send("HEAD", &url, &[]).status, 200);
    assert_eq!(registry.fault_hits(id), 0);
    let cut = get(&url);
    assert_eq!(cut.status, 200);
    assert!(!cut.is_complete());
    assert_eq!(cut.body.len(), 70_000);
    assert_eq!(cut.body, &layer.blob()[..70_000]);
    assert_eq!(registry.fault_hits(id), 1);
    // Resume from where it stopped.
    let rest = send("GET", &url, &[("Range", "bytes=70000-")]);
    assert_eq!(rest.status, 206);
    let mut whole = cut.body.clone();
    whole.extend_from_slice(&rest.body);
    assert_eq!(Digest::from_bytes(&whole), layer.digest());
    assert_eq!(registry.bytes_sent_for(layer.digest()), layer.size());
}

#[test]
fn drop_after_beyond_the_body_does_not_apply() {
    let (registry, image) = serving_sample();
    let id = registry.add_fault(FaultRule::new(Fault::DropAfter { bytes: 1 << 30 }).times(1));
    let response = get(&format!(
        "{}/v2/library/sample/manifests/latest",
        registry.url()
    ));
    assert!(response.is_complete());
    assert_eq!(response.body, image.manifest().bytes().as_ref());
    assert_eq!(registry.fault_hits(id), 0);
}

#[test]
fn corrupt_flips_exactly_one_byte() {
    let (registry, image) = serving_sample();
    let layer = &image.layers()[0];
    registry.add_fault(
        FaultRule::new(Fault::Corrupt { offset: 12_345 })
            .kind(RequestKind::Blob)
            .times(1),
    );
    let url = format!(
        "{}/v2/library/sample/blobs/{}",
        registry.url(),
        layer.digest()
    );
    let bad = get(&url);
    assert!(bad.is_complete());
    let differing: Vec<usize> = bad
        .body
        .iter()
        .zip(layer.blob().iter())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(differing, [12_345]);
    assert_eq!(bad.body[12_345], !layer.blob()[12_345]);
    assert_eq!(get(&url).body, layer.blob().as_ref());
}

#[test]
fn redirected_blobs_come_from_the_second_listener_which_records_authorization() {
    let registry = TestRegistry::start_blocking(RegistryConfig::new().auth(Auth::basic("u", "p")))
        .expect("loopback");
    let image = sample_image(ManifestFormat::Docker);
    registry.push_image("x/y", "t", &image).expect("valid");
    let id = registry.add_fault(FaultRule::new(Fault::RedirectBlobs));
    let creds = ("Authorization", "Basic dTpw");
    // Manifests are not redirected.
    let manifest = send(
        "GET",
        &format!("{}/v2/x/y/manifests/t", registry.url()),
        &[creds],
    );
    assert_eq!(manifest.status, 200);
    let layer = &image.layers()[1];
    let url = format!("{}/v2/x/y/blobs/{}", registry.url(), layer.digest());
    let redirect = send("GET", &url, &[creds]);
    assert_eq!(redirect.status, 307);
    let location = redirect.header("location").expect("a Location").to_owned();
    assert!(
        location.starts_with(&format!("http://{}/", registry.redirect_addr())),
        "{location}"
    );
    assert_ne!(registry.redirect_addr(), registry.addr());
    // A careful client follows without credentials; a careless one sends them.
    let followed = get(&location);
    assert_eq!(followed.body, layer.blob().as_ref());
    let leaked = send("GET", &location, &[creds, ("Range", "bytes=2-")]);
    assert_eq!(
        (leaked.status, leaked.body.as_slice()),
        (206, &layer.blob()[2..])
    );
    let on_redirect: Vec<(bool, Option<String>)> = registry
        .requests()
        .into_iter()
        .filter(|r| r.listener == Listener::Redirect)
        .map(|r| (r.authorization, r.range))
        .collect();
    assert_eq!(
        on_redirect,
        [(false, None), (true, Some("bytes=2-".to_owned()))]
    );
    assert_eq!(registry.fault_hits(id), 1);
    assert_eq!(
        registry.bytes_sent_for(layer.digest()),
        2 * layer.size() - 2
    );
    let unknown = format!(
        "{}/v2/x/y/blobs/{}",
        registry.url(),
        Digest::from_bytes(b"none")
    );
    assert_eq!(
        send("GET", &unknown, &[creds]).status,
        404,
        "missing blobs are not redirected"
    );
}

#[test]
fn slow_bodies_take_their_time_and_arrive_whole() {
    let (registry, image) = serving_sample();
    let config = image.config();
    let chunk = (config.size() as usize).div_ceil(4);
    registry.add_fault(
        FaultRule::new(Fault::Slow {
            chunk,
            delay: Duration::from_millis(60),
        })
        .path(PathMatch::Glob("/v2/*/blobs/*".into()))
        .times(1),
    );
    let url = format!(
        "{}/v2/library/sample/blobs/{}",
        registry.url(),
        config.digest()
    );
    let started = Instant::now();
    let slow = get(&url);
    let elapsed = started.elapsed();
    assert_eq!(slow.body, config.bytes().as_ref());
    assert!(
        elapsed >= Duration::from_millis(180),
        "{elapsed:?} for four pieces"
    );
    assert_eq!(
        Fault::slow(1000),
        Fault::Slow {
            chunk: 100,
            delay: Duration::from_millis(100)
        }
    );
}

#[test]
fn wrong_digest_headers_differ_from_the_content() {
    let (registry, image) = serving_sample();
    registry.add_fault(
        FaultRule::new(Fault::WrongDigestHeader)
            .kind(RequestKind::Manifest)
            .times(1),
    );
    let url = format!("{}/v2/library/sample/manifests/latest", registry.url());
    let wrong = get(&url);
    assert_eq!(wrong.body, image.manifest().bytes().as_ref());
    let header: Digest = wrong
        .header("docker-content-digest")
        .expect("a digest")
        .parse()
        .expect("valid");
    assert_ne!(header, image.manifest_digest());
    let right = get(&url);
    assert_eq!(
        right.header("docker-content-digest"),
        Some(image.manifest_digest().to_string().as_str())
    );
}

#[test]
fn rules_can_be_removed_or_cleared_while_running() {
    let (registry, _) = serving_sample();
    let url = format!("{}/v2/", registry.url());
    let first = registry.add_fault(FaultRule::new(Fault::status(500)).kind(RequestKind::Ping));
    assert_eq!(get(&url).status, 500);
    assert_eq!(get(&url).status, 500);
    registry.remove_fault(first);
    assert_eq!(get(&url).status, 200);
    assert_eq!(registry.fault_hits(first), 2);
    registry.add_fault(
        FaultRule::new(Fault::status(502))
            .method("GET")
            .listener(Listener::Registry),
    );
    assert_eq!(get(&url).status, 502);
    assert_eq!(send("HEAD", &url, &[]).status, 200, "only GETs match");
    registry.clear_faults();
    assert_eq!(get(&url).status, 200);
}

#[test]
fn path_patterns_select_requests() {
    let (registry, image) = serving_sample();
    let layer = image.layers()[1].digest();
    registry.add_fault(
        FaultRule::new(Fault::status(500)).path(PathMatch::Glob(format!("/v2/*/blobs/{layer}"))),
    );
    let blob = |d: Digest| get(&format!("{}/v2/library/sample/blobs/{d}", registry.url())).status;
    assert_eq!(blob(layer), 500);
    assert_eq!(blob(image.layers()[0].digest()), 200);
    assert_eq!(blob(image.config_digest()), 200);
    registry.clear_faults();
    registry.add_fault(
        FaultRule::new(Fault::status(501)).path(PathMatch::Prefix("/v2/library/".into())),
    );
    assert_eq!(blob(layer), 501);
    assert_eq!(get(&format!("{}/v2/", registry.url())).status, 200);
}
