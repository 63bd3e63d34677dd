//! The distribution API routes, without auth or faults.

use imgsvc_testkit::fixture::{ImageBuilder, IndexBuilder, ManifestFormat, Platform, media_type};
use imgsvc_testkit::{Error, RegistryConfig, TestRegistry};

use crate::support::{Result, error_code, get, send, serving_sample};

const ACCEPT_DOCKER: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

#[test]
fn ping_answers_with_the_api_version() {
    let (registry, _) = serving_sample();
    for path in ["/v2/", "/v2"] {
        let response = get(&format!("{}{path}", registry.url()));
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("docker-distribution-api-version"),
            Some("registry/2.0")
        );
    }
}

#[test]
fn manifests_by_tag_and_digest_carry_type_digest_and_length() {
    let (registry, image) = serving_sample();
    let digest = image.manifest_digest().to_string();
    for reference in ["latest", digest.as_str()] {
        let url = format!("{}/v2/library/sample/manifests/{reference}", registry.url());
        let response = get(&url);
        assert_eq!(response.status, 200, "{reference}");
        assert_eq!(response.body, image.manifest().bytes().as_ref());
        assert_eq!(
            response.header("content-type"),
            Some(media_type::OCI_MANIFEST)
        );
        assert_eq!(
            response.header("docker-content-digest"),
            Some(digest.as_str())
        );
        let head = send("HEAD", &url, &[]);
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty());
        assert_eq!(
            head.header("content-length"),
            Some(image.manifest().size().to_string().as_str())
        );
        assert_eq!(head.header("docker-content-digest"), Some(digest.as_str()));
    }
}

#[test]
fn unknown_things_get_their_error_codes() {
    let (registry, image) = serving_sample();
    let url = registry.url();
    let missing = imgsvc_testkit::digest::Digest::from_bytes(b"missing");
    for (path, status, code) in [
        (
            "/v2/library/sample/manifests/nope".to_owned(),
            404,
            "MANIFEST_UNKNOWN",
        ),
        (
            format!("/v2/library/sample/manifests/{missing}"),
            404,
            "MANIFEST_UNKNOWN",
        ),
        (
            "/v2/library/other/manifests/latest".to_owned(),
            404,
            "NAME_UNKNOWN",
        ),
        (
            "/v2/library/other/tags/list".to_owned(),
            404,
            "NAME_UNKNOWN",
        ),
        (
            format!("/v2/library/sample/blobs/{missing}"),
            404,
            "BLOB_UNKNOWN",
        ),
        (
            "/v2/library/sample/blobs/sha256:xyz".to_owned(),
            400,
            "DIGEST_INVALID",
        ),
        (
            "/v2/library/sample/manifests/sha256:xyz".to_owned(),
            400,
            "DIGEST_INVALID",
        ),
        (
            "/v2/library/sample/manifests/-bad".to_owned(),
            400,
            "TAG_INVALID",
        ),
        (
            "/v2/Library/Sample/manifests/latest".to_owned(),
            400,
            "NAME_INVALID",
        ),
        (
            "/v2/library/sample/tags/list?n=x".to_owned(),
            400,
            "PAGINATION_NUMBER_INVALID",
        ),
    ] {
        let response = get(&format!("{url}{path}"));
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (status, code),
            "{path}"
        );
        assert_eq!(response.header("content-type"), Some("application/json"));
    }
    let post = send(
        "POST",
        &format!("{url}/v2/library/sample/blobs/uploads/"),
        &[],
    );
    assert_eq!(
        (post.status, error_code(&post).as_str()),
        (405, "UNSUPPORTED")
    );
    assert_eq!(get(&format!("{url}/elsewhere")).status, 404);
    assert!(registry.remove_blob("library/sample", image.config_digest()));
    let gone = get(&format!(
        "{url}/v2/library/sample/blobs/{}",
        image.config_digest()
    ));
    assert_eq!(error_code(&gone), "BLOB_UNKNOWN");
    assert!(registry.remove_tag("library/sample", "latest"));
    assert!(!registry.remove_tag("library/sample", "latest"));
    assert_eq!(
        get(&format!("{url}/v2/library/sample/manifests/latest")).status,
        404
    );
}

#[test]
fn blobs_are_served_whole_or_by_range() {
    let (registry, image) = serving_sample();
    let layer = &image.layers()[0];
    let blob = layer.blob();
    let len = blob.len();
    let url = format!(
        "{}/v2/library/sample/blobs/{}",
        registry.url(),
        layer.digest()
    );
    let whole = get(&url);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, blob.as_ref());
    assert_eq!(
        whole.header("docker-content-digest"),
        Some(layer.digest().to_string().as_str())
    );
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));

    let from = send("GET", &url, &[("Range", "bytes=1000-")]);
    assert_eq!(from.status, 206);
    assert_eq!(from.body, &blob[1000..]);
    assert_eq!(
        from.header("content-range"),
        Some(format!("bytes 1000-{}/{len}", len - 1).as_str())
    );
    let middle = send("GET", &url, &[("Range", "bytes=10-19")]);
    assert_eq!(
        (middle.status, middle.body.as_slice()),
        (206, &blob[10..20])
    );
    let suffix = send("GET", &url, &[("Range", "bytes=-5")]);
    assert_eq!(suffix.body, &blob[len - 5..]);
    let beyond = send("GET", &url, &[("Range", &format!("bytes={len}-"))]);
    assert_eq!(beyond.status, 416);
    assert_eq!(
        beyond.header("content-range"),
        Some(format!("bytes */{len}").as_str())
    );
    let head = send("HEAD", &url, &[]);
    assert_eq!(
        head.header("content-length"),
        Some(len.to_string().as_str())
    );
    assert!(head.body.is_empty());
}

#[test]
fn tag_lists_paginate_with_link_headers() -> Result {
    let registry = TestRegistry::start_blocking(RegistryConfig::new())?;
    let image = ImageBuilder::new().build()?;
    let digest = registry.add_image("a/b/c", &image)?;
    let tags = ["v1", "v10", "v2", "latest", "beta"];
    for tag in tags {
        registry.tag("a/b/c", tag, digest)?;
    }
    let all = get(&format!("{}/v2/a/b/c/tags/list", registry.url()));
    let doc: serde_json::Value = serde_json::from_slice(&all.body)?;
    assert_eq!(
        doc,
        serde_json::json!({"name": "a/b/c", "tags": ["beta", "latest", "v1", "v10", "v2"]})
    );
    assert_eq!(all.header("link"), None);

    let mut path = "/v2/a/b/c/tags/list?n=2".to_owned();
    let mut pages = Vec::new();
    loop {
        let page = get(&format!("{}{path}", registry.url()));
        let doc: serde_json::Value = serde_json::from_slice(&page.body)?;
        pages.push(doc["tags"].clone());
        match page.header("link") {
            Some(link) => {
                assert!(link.ends_with(r#">; rel="next""#), "{link}");
                path = link
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
            None => break,
        }
    }
    assert_eq!(
        pages,
        vec![
            serde_json::json!(["beta", "latest"]),
            serde_json::json!(["v1", "v10"]),
            serde_json::json!(["v2"]),
        ]
    );
    Ok(())
}

#[test]
fn content_names_and_tags_are_validated() -> Result {
    let registry = TestRegistry::start_blocking(RegistryConfig::new())?;
    let image = ImageBuilder::new().build()?;
    assert!(matches!(
        registry.push_image("Upper", "x", &image),
        Err(Error::InvalidName { .. })
    ));
    assert!(matches!(
        registry.push_image("ok", "no/slash", &image),
        Err(Error::InvalidTag { .. })
    ));
    let unknown = imgsvc_testkit::digest::Digest::from_bytes(b"nothing");
    assert!(matches!(
        registry.tag("ok", "t", unknown),
        Err(Error::UnknownManifest { .. })
    ));
    let blob = registry.add_blob("ok", &b"raw"[..])?;
    assert_eq!(
        get(&format!("{}/v2/ok/blobs/{blob}", registry.url())).body,
        b"raw"
    );
    Ok(())
}

/// Builds `name:multi`, an index over amd64 and arm64 images in `format`.
fn serve_index(
    format: ManifestFormat,
) -> Result<(TestRegistry, imgsvc_testkit::fixture::BuiltIndex)> {
    let registry = TestRegistry::start_blocking(RegistryConfig::new())?;
    let amd64 = ImageBuilder::new().format(format).build()?;
    let arm64 = ImageBuilder::new()
        .format(format)
        .platform(Platform::linux_arm64())
        .build()?;
    let index = IndexBuilder::new(format)
        .image(arm64)
        .image(amd64)
        .build()?;
    registry.push_index("multi/arch", "multi", &index)?;
    Ok((registry, index))
}

#[test]
fn indexes_are_served_to_clients_that_accept_them() -> Result {
    for format in [ManifestFormat::Oci, ManifestFormat::Docker] {
        let (registry, index) = serve_index(format)?;
        let url = format!("{}/v2/multi/arch/manifests/multi", registry.url());
        let all = format!(
            "{}, {}",
            format.index_media_type(),
            format.manifest_media_type()
        );
        for accept in [None, Some(all.as_str()), Some("*/*")] {
            let headers: Vec<(&str, &str)> = accept.iter().map(|a| ("Accept", *a)).collect();
            let response = send("GET", &url, &headers);
            assert_eq!(
                response.body,
                index.manifest().bytes().as_ref(),
                "{accept:?}"
            );
            assert_eq!(
                response.header("content-type"),
                Some(format.index_media_type())
            );
        }
        for image in index.images() {
            let child = get(&format!(
                "{}/v2/multi/arch/manifests/{}",
                registry.url(),
                image.manifest_digest()
            ));
            assert_eq!(child.body, image.manifest().bytes().as_ref());
            let config = get(&format!(
                "{}/v2/multi/arch/blobs/{}",
                registry.url(),
                image.config_digest()
            ));
            assert_eq!(config.body, image.config().bytes().as_ref());
        }
    }
    Ok(())
}

#[test]
fn clients_without_list_support_get_amd64_or_manifest_unknown() -> Result {
    // Docker manifest list, by tag, to a client accepting only schema 2: the amd64 image.
    let (registry, index) = serve_index(ManifestFormat::Docker)?;
    let amd64 = index
        .image_for(&Platform::linux_amd64())
        .expect("an amd64 entry");
    let url = format!("{}/v2/multi/arch/manifests/multi", registry.url());
    let response = send("GET", &url, &[("Accept", media_type::DOCKER_MANIFEST)]);
    assert_eq!(response.body, amd64.manifest().bytes().as_ref());
    assert_eq!(
        response.header("docker-content-digest"),
        Some(amd64.manifest_digest().to_string().as_str())
    );
    // By digest, the list itself.
    let by_digest = format!(
        "{}/v2/multi/arch/manifests/{}",
        registry.url(),
        index.digest()
    );
    let response = send(
        "GET",
        &by_digest,
        &[("Accept", media_type::DOCKER_MANIFEST)],
    );
    assert_eq!(response.body, index.manifest().bytes().as_ref());

    // OCI index or manifest to a Docker-only client: MANIFEST_UNKNOWN.
    let (registry, index) = serve_index(ManifestFormat::Oci)?;
    let url = format!("{}/v2/multi/arch/manifests/multi", registry.url());
    let response = send("GET", &url, &[("Accept", ACCEPT_DOCKER)]);
    assert_eq!(
        (response.status, error_code(&response).as_str()),
        (404, "MANIFEST_UNKNOWN")
    );
    let child = index.images().next().expect("an image").manifest_digest();
    let child_url = format!("{}/v2/multi/arch/manifests/{child}", registry.url());
    let response = send("GET", &child_url, &[("Accept", ACCEPT_DOCKER)]);
    assert_eq!(error_code(&response), "MANIFEST_UNKNOWN");
    let response = send(
        "GET",
        &child_url,
        &[(
            "Accept",
            "application/vnd.oci.image.manifest.v1+json; q=0.9",
        )],
    );
    assert_eq!(response.status, 200);
    Ok(())
}
