//! The request log and its helpers.

use imgsvc_testkit::{Auth, Listener, RegistryConfig, RequestKind, TestRegistry};

use crate::support::{get, sample_image, send, serving_sample};

#[test]
fn every_request_is_recorded_with_its_details() {
    let (registry, image) = serving_sample();
    let config = image.config_digest();
    get(&format!("{}/v2/", registry.url()));
    send(
        "GET",
        &format!("{}/v2/library/sample/manifests/latest", registry.url()),
        &[
            ("Accept", "a/b"),
            ("Accept", "application/vnd.oci.image.manifest.v1+json"),
        ],
    );
    send(
        "HEAD",
        &format!("{}/v2/library/sample/blobs/{config}", registry.url()),
        &[("Range", "bytes=0-3"), ("Authorization", "Bearer x")],
    );
    get(&format!(
        "{}/v2/library/sample/tags/list?n=1",
        registry.url()
    ));
    let records = registry.requests();
    assert_eq!(records.len(), 4);
    let kinds: Vec<RequestKind> = records.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RequestKind::Ping,
            RequestKind::Manifest,
            RequestKind::Blob,
            RequestKind::Tags
        ]
    );
    let manifest = &records[1];
    assert_eq!(manifest.method, "GET");
    assert_eq!(manifest.repository.as_deref(), Some("library/sample"));
    assert_eq!(manifest.digest, Some(image.manifest_digest()));
    assert_eq!(manifest.bytes_sent, image.manifest().size());
    assert_eq!(manifest.accept.len(), 2);
    assert!(!manifest.authorization);
    let head = &records[2];
    assert_eq!(
        (head.method.as_str(), head.status, head.bytes_sent),
        ("HEAD", 206, 0)
    );
    assert_eq!(head.range.as_deref(), Some("bytes=0-3"));
    assert!(head.authorization);
    assert_eq!(head.digest, Some(config));
    assert_eq!(head.listener, Listener::Registry);
    let tags = &records[3];
    assert_eq!(
        (tags.path.as_str(), tags.query.as_deref()),
        ("/v2/library/sample/tags/list", Some("n=1"))
    );
    assert_eq!(registry.count(|r| r.status == 200), 3);
    registry.clear_log();
    assert!(registry.requests().is_empty());
}

#[test]
fn bytes_sent_for_counts_each_download() {
    let (registry, image) = serving_sample();
    let layer = &image.layers()[0];
    let url = format!(
        "{}/v2/library/sample/blobs/{}",
        registry.url(),
        layer.digest()
    );
    assert_eq!(registry.bytes_sent_for(layer.digest()), 0);
    get(&url);
    assert_eq!(registry.bytes_sent_for(layer.digest()), layer.size());
    get(&url);
    assert_eq!(registry.bytes_sent_for(layer.digest()), 2 * layer.size());
    send("GET", &url, &[("Range", "bytes=0-9")]);
    assert_eq!(
        registry.bytes_sent_for(layer.digest()),
        2 * layer.size() + 10
    );
    assert_eq!(registry.bytes_sent_for(image.config_digest()), 0);
}

#[test]
fn token_requests_can_be_counted_per_scope() {
    let registry =
        TestRegistry::start_blocking(RegistryConfig::new().auth(Auth::bearer())).expect("loopback");
    registry
        .push_image(
            "a/b",
            "t",
            &sample_image(imgsvc_testkit::fixture::ManifestFormat::Oci),
        )
        .expect("valid");
    for scope in [
        "repository:a/b:pull",
        "repository:a/b:pull",
        "repository:c:pull",
    ] {
        get(&format!("{}?scope={scope}", registry.token_url()));
    }
    let per_scope = |s: &str| {
        registry
            .token_requests()
            .iter()
            .filter(|t| t.scopes == [s])
            .count()
    };
    assert_eq!(per_scope("repository:a/b:pull"), 2);
    assert_eq!(per_scope("repository:c:pull"), 1);
}
