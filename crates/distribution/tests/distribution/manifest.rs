//! Manifests as registries serve them: decoding realistic OCI and Docker documents, refusing
//! schema 1 and broken input, and choosing index entries for a platform (SPEC.md §7
//! pullManifestList, §9 manifest detection).

use imgsvc_distribution::Error;
use imgsvc_distribution::digest::Digest;
use imgsvc_distribution::manifest::{self, MAX_MANIFEST_SIZE, Manifest, Platform, media_type};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// An OCI image manifest with annotations, a non-distributable layer with URLs, a subject and
/// an artifact type.
const OCI_MANIFEST: &str = r#"{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "artifactType": "application/vnd.example.sbom.v1",
  "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
    "size": 7023
  },
  "layers": [
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
      "size": 32654,
      "annotations": {"org.opencontainers.image.title": "base.tar.gz"}
    },
    {
      "mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "digest": "sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b",
      "size": 16724,
      "urls": ["https://mcr.microsoft.com/v2/windows/blobs/sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b"]
    },
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
      "digest": "sha256:ec4b8955958665577945c89419d1af06b5f7636b4ac3da7f12184802ad867736",
      "size": 73109
    }
  ],
  "subject": {
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
    "size": 7682
  },
  "annotations": {
    "com.example.key1": "value1",
    "org.opencontainers.image.created": "2024-01-02T03:04:05Z"
  }
}"#;

/// A Docker schema 2 manifest as Docker Hub serves `hello-world`.
const DOCKER_MANIFEST: &str = r#"{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 1470,
      "digest": "sha256:d2c94e258dcb3c5ac2798d32e1249e42ef01cba4841c2234249495f87264ac5a"
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 2457,
         "digest": "sha256:c1ec31eb59444d78df06a974d155e597c894ab4cda84f08294145e845394988e"
      }
   ]
}"#;

/// A Docker manifest list with Linux and Windows entries (the Windows ones with `os.version`).
const DOCKER_LIST: &str = r#"{
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
  "manifests": [
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 525,
     "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
     "platform": {"architecture": "amd64", "os": "linux"}},
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 525,
     "digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222",
     "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}},
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 525,
     "digest": "sha256:3333333333333333333333333333333333333333333333333333333333333333",
     "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 1125,
     "digest": "sha256:4444444444444444444444444444444444444444444444444444444444444444",
     "platform": {"architecture": "amd64", "os": "windows", "os.version": "10.0.20348.2340"}},
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 1125,
     "digest": "sha256:5555555555555555555555555555555555555555555555555555555555555555",
     "platform": {"architecture": "amd64", "os": "windows", "os.version": "10.0.17763.5576",
                  "os.features": ["win32k"]}}
  ]
}"#;

/// An OCI index as BuildKit writes it: images, and attestation manifests for
/// `unknown/unknown`.
const OCI_INDEX: &str = r#"{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1036,
     "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "platform": {"architecture": "amd64", "os": "linux"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1036,
     "digest": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
     "platform": {"architecture": "arm64", "os": "linux"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 566,
     "digest": "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
     "annotations": {
       "vnd.docker.reference.digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
       "vnd.docker.reference.type": "attestation-manifest"},
     "platform": {"architecture": "unknown", "os": "unknown"}}
  ],
  "annotations": {"org.opencontainers.image.ref.name": "latest"}
}"#;

/// A signed schema 1 manifest (shortened).
const SCHEMA1: &str = r#"{
   "schemaVersion": 1,
   "name": "library/hello-world",
   "tag": "latest",
   "architecture": "amd64",
   "fsLayers": [
      {"blobSum": "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"}
   ],
   "history": [{"v1Compatibility": "{}"}],
   "signatures": [{"header": {"alg": "ES256"}, "signature": "abc", "protected": "def"}]
}"#;

fn digest(text: &str) -> Digest {
    text.parse().expect("a valid digest in the test")
}

#[test]
fn an_oci_manifest_keeps_everything() -> TestResult {
    let m = Manifest::decode(OCI_MANIFEST.as_bytes(), Some(media_type::OCI_MANIFEST))?;
    assert_eq!(m.media_type(), media_type::OCI_MANIFEST);
    assert_eq!(m.artifact_type(), Some("application/vnd.example.sbom.v1"));
    let image = m.as_image().expect("an image manifest");
    assert_eq!(image.config().size, 7023);
    media_type::check_config_media_type(&image.config().media_type)?;
    assert_eq!(image.layers().len(), 3);
    for layer in image.layers() {
        media_type::check_supported(&layer.media_type)?;
    }
    let [base, foreign, zstd] = image.layers() else {
        panic!("three layers");
    };
    assert_eq!(
        base.annotations
            .get("org.opencontainers.image.title")
            .map(String::as_str),
        Some("base.tar.gz")
    );
    assert!(media_type::is_non_distributable(&foreign.media_type));
    assert_eq!(foreign.urls.len(), 1);
    assert_eq!(zstd.media_type, media_type::OCI_LAYER_ZSTD);
    assert_eq!(
        m.subject().map(|s| s.digest),
        Some(digest(
            "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270"
        ))
    );
    assert_eq!(image.annotations().len(), 2);

    // Written and read back, nothing is lost.
    let again = Manifest::decode(&serde_json::to_vec(&m)?, None)?;
    assert_eq!(again, m);
    Ok(())
}

#[test]
fn a_docker_schema2_manifest() -> TestResult {
    for content_type in [
        Some(media_type::DOCKER_MANIFEST),
        Some("application/json"),
        None,
    ] {
        let m = Manifest::decode(DOCKER_MANIFEST.as_bytes(), content_type)?;
        assert_eq!(m.media_type(), media_type::DOCKER_MANIFEST);
        assert!(!m.is_index());
        let image = m.into_image().expect("an image manifest");
        assert_eq!(image.config().media_type, media_type::DOCKER_CONFIG);
        assert_eq!(
            image.layers().iter().map(|l| l.digest).collect::<Vec<_>>(),
            [digest(
                "sha256:c1ec31eb59444d78df06a974d155e597c894ab4cda84f08294145e845394988e"
            )]
        );
    }
    Ok(())
}

/// The digests `select` picks from the Docker list for `wanted`, as their first hex digit.
fn picks(wanted: Platform) -> Result<String, Error> {
    let m = Manifest::decode(
        DOCKER_LIST.as_bytes(),
        Some(media_type::DOCKER_MANIFEST_LIST),
    )?;
    let index = m.as_index().expect("an index");
    Ok(manifest::select(index, &wanted)?
        .iter()
        .map(|d| d.digest.encoded().as_str().chars().next().unwrap_or('?'))
        .collect())
}

#[test]
fn a_docker_manifest_list_serves_each_platform() -> TestResult {
    assert_eq!(picks("linux/amd64".parse()?)?, "1");
    assert_eq!(picks("linux/arm64".parse()?)?, "32");
    assert_eq!(picks("linux/aarch64/v8".parse()?)?, "32");
    assert_eq!(picks("linux/arm/v7".parse()?)?, "2");
    assert_eq!(picks("windows/amd64".parse()?)?, "45");

    let mut ltsc2019: Platform = "windows/amd64".parse()?;
    ltsc2019.os_version = Some("10.0.17763.1234".to_owned());
    assert_eq!(picks(ltsc2019)?, "54");

    let err = picks("linux/arm/v6".parse()?).expect_err("no arm/v6 or lower");
    assert_eq!(
        err.to_string(),
        "no matching manifest for linux/arm/v6 in the manifest list entries \
         (available: linux/amd64, linux/arm/v7, linux/arm64/v8, windows/amd64)"
    );
    Ok(())
}

#[test]
fn the_list_keeps_windows_details() -> TestResult {
    let m = Manifest::decode(DOCKER_LIST.as_bytes(), None)?;
    let index = m.as_index().expect("an index");
    let windows = index
        .manifests()
        .iter()
        .filter_map(|d| d.platform.as_ref())
        .find(|p| p.os_version.as_deref() == Some("10.0.17763.5576"))
        .expect("the ltsc2019 entry");
    assert_eq!(windows.os_features, ["win32k"]);
    Ok(())
}

#[test]
fn an_oci_index_with_attestations() -> TestResult {
    let m = Manifest::decode(OCI_INDEX.as_bytes(), Some(media_type::OCI_INDEX))?;
    let index = m.as_index().expect("an index");
    assert_eq!(index.manifests().len(), 3);
    assert_eq!(
        index
            .annotations()
            .get("org.opencontainers.image.ref.name")
            .map(String::as_str),
        Some("latest")
    );

    let chosen = manifest::select(index, &"linux/arm64/v8".parse()?)?;
    assert_eq!(
        chosen.len(),
        1,
        "arm64 without variant is v8; attestations never match"
    );
    assert_eq!(chosen.first().map(|d| d.size), Some(1036));

    let err = manifest::select(index, &"linux/s390x".parse()?).expect_err("no s390x");
    assert!(err.to_string().contains("unknown/unknown"), "{err}");
    Ok(())
}

#[test]
fn schema1_is_refused_with_a_clear_message() {
    let cases = [
        Some(media_type::DOCKER_SCHEMA1_SIGNED_MANIFEST),
        Some(media_type::DOCKER_SCHEMA1_MANIFEST),
        Some("application/json"),
        None,
    ];
    for content_type in cases {
        let err = Manifest::decode(SCHEMA1.as_bytes(), content_type).expect_err("schema 1");
        assert!(
            matches!(err, Error::Schema1 { .. }),
            "{content_type:?}: {err:?}"
        );
        assert!(
            err.to_string()
                .contains("unsupported (deprecated) manifest schema1"),
            "{err}"
        );
    }
}

#[test]
fn broken_documents_are_errors() {
    let truncated = &DOCKER_MANIFEST[..DOCKER_MANIFEST.len() / 2];
    let wrong_version = DOCKER_MANIFEST.replace("\"schemaVersion\": 2", "\"schemaVersion\": 3");
    let negative_size = DOCKER_MANIFEST.replace("\"size\": 2457", "\"size\": -2457");
    let bad_digest = DOCKER_MANIFEST.replace("sha256:c1ec31eb", "sha256:C1EC31EB");
    let cases: [(&str, &[u8]); 7] = [
        ("garbage", b"\x00\xff\xfe garbage"),
        ("empty", b""),
        ("truncated", truncated.as_bytes()),
        ("wrong schemaVersion", wrong_version.as_bytes()),
        ("negative size", negative_size.as_bytes()),
        ("uppercase digest", bad_digest.as_bytes()),
        ("an array", b"[]"),
    ];
    for (what, bytes) in cases {
        let err = Manifest::decode(bytes, Some(media_type::DOCKER_MANIFEST)).expect_err(what);
        assert!(
            matches!(err, Error::InvalidManifest { .. }),
            "{what}: {err:?}"
        );
        assert!(
            err.to_string().starts_with("invalid manifest: "),
            "{what}: {err}"
        );
    }
}

#[test]
fn oversize_input_is_refused() {
    let limit = usize::try_from(MAX_MANIFEST_SIZE).expect("4 MiB fits");
    let mut big = DOCKER_MANIFEST.as_bytes().to_vec();
    big.resize(limit + 1, b' ');
    let err = Manifest::decode(&big, Some(media_type::DOCKER_MANIFEST)).expect_err("too big");
    assert_eq!(
        err.to_string(),
        "manifest of 4194305 bytes is larger than 4194304 bytes; refusing it"
    );
}

#[test]
fn unknown_manifest_types_are_unsupported() -> TestResult {
    // The OCI artifact manifest was withdrawn from the spec.
    let artifact = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.artifact.manifest.v1+json","blobs":[]}"#;
    let err = Manifest::decode(artifact, Some(media_type::OCI_MANIFEST)).expect_err("withdrawn");
    assert!(matches!(err, Error::UnsupportedMediaType { .. }), "{err:?}");

    // A body without mediaType served as something else entirely.
    let bare = DOCKER_MANIFEST.replace(
        r#""mediaType": "application/vnd.docker.distribution.manifest.v2+json","#,
        "",
    );
    let err = Manifest::decode(bare.as_bytes(), Some("application/vnd.cncf.helm.chart.v1"))
        .expect_err("not a manifest type");
    assert!(
        err.to_string()
            .contains("application/vnd.cncf.helm.chart.v1"),
        "{err}"
    );

    // The body's mediaType wins over a content type that says otherwise.
    let m = Manifest::decode(
        DOCKER_MANIFEST.as_bytes(),
        Some("application/vnd.cncf.helm.chart.v1"),
    )?;
    assert_eq!(m.media_type(), media_type::DOCKER_MANIFEST);
    Ok(())
}
