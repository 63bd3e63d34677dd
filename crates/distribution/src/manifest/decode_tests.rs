//! Table and property tests of manifest decoding.

use std::collections::BTreeMap;

use imgsvc_digest::Digest;
use proptest::prelude::*;

use super::*;
use crate::manifest::{Descriptor, Platform};

const CONFIG: &str = r#"{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}"#;

fn image_body(extra: &str) -> String {
    format!(r#"{{"schemaVersion":2,{extra}"config":{CONFIG},"layers":[]}}"#)
}

fn index_body(extra: &str) -> String {
    format!(r#"{{"schemaVersion":2,{extra}"manifests":[]}}"#)
}

/// What a decode gave, in short: `image`, `index`, or the error's kind.
fn outcome(body: &str, content_type: Option<&str>) -> String {
    match Manifest::decode(body.as_bytes(), content_type) {
        Ok(Manifest::Image(_)) => "image".to_owned(),
        Ok(Manifest::Index(_)) => "index".to_owned(),
        Err(Error::Schema1 { .. }) => "schema1".to_owned(),
        Err(Error::UnsupportedMediaType { .. }) => "unsupported".to_owned(),
        Err(Error::InvalidManifest { .. }) => "invalid".to_owned(),
        Err(Error::TooLarge { .. }) => "too large".to_owned(),
        Err(other) => format!("other: {other}"),
    }
}

#[test]
fn kind_detection_table() {
    let oci_mt = r#""mediaType":"application/vnd.oci.image.manifest.v1+json","#;
    let docker_mt = r#""mediaType":"application/vnd.docker.distribution.manifest.v2+json","#;
    let index_mt = r#""mediaType":"application/vnd.oci.image.index.v1+json","#;
    let list_mt = r#""mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","#;
    let cases: Vec<(String, Option<&str>, &str)> = vec![
        // Content type and body agree.
        (image_body(oci_mt), Some(media_type::OCI_MANIFEST), "image"),
        (
            image_body(docker_mt),
            Some(media_type::DOCKER_MANIFEST),
            "image",
        ),
        (index_body(index_mt), Some(media_type::OCI_INDEX), "index"),
        (
            index_body(list_mt),
            Some(media_type::DOCKER_MANIFEST_LIST),
            "index",
        ),
        // The body's mediaType wins over the content type.
        (image_body(docker_mt), Some(media_type::OCI_INDEX), "image"),
        (index_body(list_mt), Some(media_type::OCI_MANIFEST), "index"),
        (image_body(oci_mt), Some("application/x-unknown"), "image"),
        // No mediaType: the content type decides, and the fields must fit it.
        (image_body(""), Some(media_type::OCI_MANIFEST), "image"),
        (
            index_body(""),
            Some(media_type::DOCKER_MANIFEST_LIST),
            "index",
        ),
        (image_body(""), Some(media_type::OCI_INDEX), "invalid"),
        (index_body(""), Some(media_type::OCI_MANIFEST), "invalid"),
        // Generic or no content type: the fields decide.
        (image_body(""), None, "image"),
        (image_body(""), Some("application/json"), "image"),
        (image_body(""), Some("text/plain; charset=utf-8"), "image"),
        (image_body(""), Some(""), "image"),
        (index_body(""), Some("application/octet-stream"), "index"),
        (r#"{"schemaVersion":2}"#.to_owned(), None, "index"),
        (
            format!(r#"{{"schemaVersion":2,"config":{CONFIG},"manifests":[]}}"#),
            None,
            "invalid",
        ),
        (
            r#"{"schemaVersion":2,"layers":[]}"#.to_owned(),
            None,
            "invalid",
        ),
        // Contradicting fields.
        (
            format!(r#"{{"schemaVersion":2,{index_mt}"config":{CONFIG}}}"#),
            None,
            "invalid",
        ),
        (index_body(oci_mt), None, "invalid"),
        // Content type parameters and case are ignored.
        (
            image_body(""),
            Some(" Application/VND.OCI.Image.Manifest.v1+JSON ; charset=utf-8"),
            "image",
        ),
        // Unknown types.
        (
            image_body(""),
            Some("application/vnd.example.manifest+json"),
            "unsupported",
        ),
        (
            image_body(r#""mediaType":"application/vnd.oci.artifact.manifest.v1+json","#),
            None,
            "unsupported",
        ),
        (image_body(r#""mediaType":7,"#), None, "invalid"),
        (
            image_body(r#""mediaType":null,"#),
            Some(media_type::OCI_MANIFEST),
            "image",
        ),
        (image_body(r#""mediaType":"","#), None, "image"),
        // Schema 1, however it shows.
        (
            image_body(""),
            Some(media_type::DOCKER_SCHEMA1_MANIFEST),
            "schema1",
        ),
        (
            "not json".to_owned(),
            Some(media_type::DOCKER_SCHEMA1_SIGNED_MANIFEST),
            "schema1",
        ),
        (
            image_body(
                r#""mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws","#,
            ),
            Some(media_type::OCI_MANIFEST),
            "schema1",
        ),
        (
            r#"{"schemaVersion":1,"name":"a","tag":"b"}"#.to_owned(),
            None,
            "schema1",
        ),
        (
            r#"{"fsLayers":[],"schemaVersion":2}"#.to_owned(),
            None,
            "schema1",
        ),
        // Not a manifest at all.
        ("".to_owned(), None, "invalid"),
        ("[]".to_owned(), None, "invalid"),
        ("\"x\"".to_owned(), None, "invalid"),
        ("{".to_owned(), None, "invalid"),
        (
            r#"{"schemaVersion":3,"manifests":[]}"#.to_owned(),
            None,
            "invalid",
        ),
        (r#"{"manifests":[]}"#.to_owned(), None, "invalid"),
        (
            r#"{"schemaVersion":"2","manifests":[]}"#.to_owned(),
            None,
            "invalid",
        ),
    ];
    for (body, content_type, want) in cases {
        assert_eq!(
            outcome(&body, content_type),
            want,
            "{body} as {content_type:?}"
        );
    }
}

#[test]
fn schema1_names_the_type_seen() {
    let err = Manifest::decode(b"{}", Some(media_type::DOCKER_SCHEMA1_SIGNED_MANIFEST))
        .expect_err("schema 1");
    assert_eq!(
        err.to_string(),
        "unsupported (deprecated) manifest schema1 (application/vnd.docker.distribution.manifest.v1+prettyjws); rebuild and push the image with a current tool"
    );
}

#[test]
fn oversize_input_is_refused_before_parsing() {
    let limit = usize::try_from(MAX_MANIFEST_SIZE).expect("4 MiB fits usize");
    let mut big = vec![b' '; limit + 1];
    let body = br#"{"schemaVersion":2}"#;
    big[..body.len()].copy_from_slice(body);
    let err = Manifest::decode(&big, None).expect_err("too large");
    assert!(
        matches!(err, Error::TooLarge { what: "manifest", limit: l, .. } if l == MAX_MANIFEST_SIZE)
    );
    big.pop();
    assert!(
        Manifest::decode(&big, None).is_ok(),
        "exactly the limit is fine"
    );
}

#[test]
fn errors_say_what_is_wrong() {
    let err = Manifest::decode(
        br#"{"schemaVersion":2,"config":{"digest":"sha256:abc"}}"#,
        None,
    )
    .expect_err("bad digest");
    let text = err.to_string();
    assert!(text.starts_with("invalid manifest: "), "{text}");
    assert!(text.contains("invalid checksum digest length"), "{text}");
    let err = Manifest::decode(
        br#"{"schemaVersion":2,"layers":[{"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":-1}],"config":{"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}}"#,
        None,
    )
    .expect_err("negative size");
    assert!(err.to_string().contains("-1"), "{err}");
}

fn descriptor() -> impl Strategy<Value = Descriptor> {
    (
        prop::sample::select(vec![
            "",
            media_type::OCI_LAYER_GZIP,
            media_type::DOCKER_FOREIGN_LAYER,
            media_type::OCI_MANIFEST,
        ]),
        any::<Vec<u8>>(),
        any::<u64>(),
        prop::collection::vec("[ -~]{0,12}", 0..2),
        prop::collection::btree_map("[a-z.]{1,8}", "\\PC{0,8}", 0..3),
        prop::option::of(("[a-z]{1,6}", "[a-z0-9]{1,6}", prop::option::of("v[0-9]"))),
        prop::option::of("[a-z/.]{0,10}"),
    )
        .prop_map(
            |(mt, data, size, urls, annotations, platform, artifact_type)| {
                let mut d = Descriptor::new(mt, Digest::from_bytes(&data), size);
                d.urls = urls;
                d.annotations = annotations;
                d.platform = platform.map(|(os, arch, v)| match v {
                    Some(v) => Platform::new(os, arch).with_variant(v),
                    None => Platform::new(os, arch),
                });
                d.artifact_type = artifact_type;
                d
            },
        )
}

/// Artifact type, subject and annotations; and whether to make the Docker flavour.
#[allow(clippy::type_complexity, reason = "a strategy's value type")]
fn extras() -> impl Strategy<
    Value = (
        bool,
        Option<String>,
        Option<Descriptor>,
        BTreeMap<String, String>,
    ),
> {
    (
        any::<bool>(),
        prop::option::of("[a-z/.+]{1,20}"),
        prop::option::of(descriptor()),
        prop::collection::btree_map("[a-z.]{1,8}", "\\PC{0,8}", 0..3),
    )
}

fn manifest() -> impl Strategy<Value = Manifest> {
    let image = (
        descriptor(),
        prop::collection::vec(descriptor(), 0..4),
        extras(),
    )
        .prop_map(
            |(config, layers, (docker, artifact, subject, annotations))| {
                let m = if docker {
                    ImageManifest::docker(config, layers)
                } else {
                    ImageManifest::new(config, layers)
                };
                Manifest::Image(finish_image(m, artifact, subject, annotations))
            },
        );
    let index = (prop::collection::vec(descriptor(), 0..4), extras()).prop_map(
        |(entries, (docker, artifact, subject, annotations))| {
            let i = if docker {
                Index::docker(entries)
            } else {
                Index::new(entries)
            };
            Manifest::Index(
                i.with_artifact_type(artifact)
                    .with_subject(subject)
                    .with_annotations(annotations),
            )
        },
    );
    prop_oneof![image, index]
}

fn finish_image(
    m: ImageManifest,
    artifact: Option<String>,
    subject: Option<Descriptor>,
    annotations: BTreeMap<String, String>,
) -> ImageManifest {
    m.with_artifact_type(artifact)
        .with_subject(subject)
        .with_annotations(annotations)
}

proptest! {
    #[test]
    fn serialized_manifests_decode_to_themselves(
        m in manifest(),
        content_type in prop::option::of(prop::sample::select(vec![
            "application/json",
            media_type::OCI_MANIFEST,
            media_type::OCI_INDEX,
            media_type::DOCKER_MANIFEST_LIST,
        ])),
    ) {
        let bytes = serde_json::to_vec(&m).expect("a manifest serializes");
        let back = Manifest::decode(&bytes, content_type).expect("what we write decodes");
        prop_assert_eq!(back, m);
    }

    #[test]
    fn decode_never_panics(bytes in any::<Vec<u8>>(), json in "[{}\\[\\]\":,0-9a-zA-Z ]{0,64}") {
        let _ = Manifest::decode(&bytes, None);
        let _ = Manifest::decode(json.as_bytes(), Some("application/json"));
    }
}
