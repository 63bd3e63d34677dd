//! The fixture builders: tar contents, compression, digests, manifests, indexes, layouts.

use std::io::Read;

use imgsvc_testkit::digest::Digest;
use imgsvc_testkit::fixture::{
    Compression, Error, ImageBuilder, IndexBuilder, Layer, LayerBuilder, Layout, ManifestFormat,
    Platform, media_type,
};

use crate::support::{Result, sample_image};

fn entries(tar: &[u8]) -> Vec<(String, tar::EntryType, Option<String>, Vec<u8>)> {
    let mut archive = tar::Archive::new(tar);
    archive
        .entries()
        .expect("a tar")
        .map(|entry| {
            let mut entry = entry.expect("a valid entry");
            let path = entry.path().expect("a path").to_string_lossy().into_owned();
            let kind = entry.header().entry_type();
            let link = entry
                .link_name()
                .expect("a valid link name")
                .map(|l| l.to_string_lossy().into_owned());
            let mut content = Vec::new();
            entry.read_to_end(&mut content).expect("readable content");
            (path, kind, link, content)
        })
        .collect()
}

#[test]
fn layer_tar_holds_every_kind_of_entry_in_order() -> Result {
    let long = format!("deep/{}", "x".repeat(150));
    let layer = LayerBuilder::new()
        .dir("etc")
        .file_with_mode("etc/script", 0o755, b"#!/bin/sh\n")
        .symlink("etc/link", "script")
        .hardlink("etc/hard", "etc/script")
        .whiteout("usr/lib/old")
        .opaque_whiteout("var/cache/")
        .file(&long, b"long name")
        .compression(Compression::None)
        .build()?;
    let found = entries(layer.tar());
    let summary: Vec<(&str, tar::EntryType)> =
        found.iter().map(|(p, k, _, _)| (p.as_str(), *k)).collect();
    assert_eq!(
        summary,
        vec![
            ("etc", tar::EntryType::Directory),
            ("etc/script", tar::EntryType::Regular),
            ("etc/link", tar::EntryType::Symlink),
            ("etc/hard", tar::EntryType::Link),
            ("usr/lib/.wh.old", tar::EntryType::Regular),
            ("var/cache/.wh..wh..opq", tar::EntryType::Regular),
            (long.as_str(), tar::EntryType::Regular),
        ]
    );
    assert_eq!(found[1].3, b"#!/bin/sh\n");
    assert_eq!(found[2].2.as_deref(), Some("script"));
    assert_eq!(found[3].2.as_deref(), Some("etc/script"));
    let mut archive = tar::Archive::new(layer.tar().as_ref());
    let modes: Vec<u32> = archive
        .entries()?
        .map(|e| e.and_then(|e| e.header().mode()))
        .collect::<std::io::Result<_>>()?;
    assert_eq!(&modes[..2], &[0o755, 0o755]);
    Ok(())
}

#[test]
fn compressed_blobs_decompress_to_the_tar_and_digests_match() -> Result {
    let builder = LayerBuilder::new().file("a", b"some content to compress, compress, compress");
    let tar = builder.to_tar()?;
    for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
        let layer = builder.clone().compression(compression).build()?;
        let decompressed = match compression {
            Compression::None => layer.blob().to_vec(),
            Compression::Gzip => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(layer.blob().as_ref()).read_to_end(&mut out)?;
                out
            }
            Compression::Zstd => zstd::decode_all(layer.blob().as_ref())?,
        };
        assert_eq!(decompressed, tar, "{compression:?}");
        assert_eq!(layer.tar().as_ref(), tar.as_slice());
        assert_eq!(layer.diff_id(), Digest::from_bytes(&tar));
        assert_eq!(layer.digest(), Digest::from_bytes(layer.blob()));
        assert_eq!(layer.size(), layer.blob().len() as u64);
        assert_eq!(layer.compression(), compression);
        assert_eq!(
            layer.digest() == layer.diff_id(),
            compression == Compression::None
        );
    }
    Ok(())
}

#[test]
fn layers_are_deterministic() -> Result {
    let build = || LayerBuilder::new().file("f", b"x").dir("d").build();
    assert_eq!(build()?, build()?);
    let later = LayerBuilder::new()
        .file("f", b"x")
        .dir("d")
        .mtime(1)
        .build()?;
    assert_ne!(later.diff_id(), build()?.diff_id());
    Ok(())
}

#[test]
fn media_types_follow_format_and_compression() {
    use ManifestFormat::{Docker, Oci};
    for (format, compression, expected) in [
        (Oci, Compression::None, media_type::OCI_LAYER),
        (Oci, Compression::Gzip, media_type::OCI_LAYER_GZIP),
        (Oci, Compression::Zstd, media_type::OCI_LAYER_ZSTD),
        (Docker, Compression::None, media_type::DOCKER_LAYER),
        (Docker, Compression::Gzip, media_type::DOCKER_LAYER_GZIP),
        (Docker, Compression::Zstd, media_type::DOCKER_LAYER_ZSTD),
    ] {
        assert_eq!(compression.layer_media_type(format), expected);
    }
}

#[test]
fn paths_with_dotdot_are_refused_but_raw_tars_are_accepted() -> Result {
    let refused = LayerBuilder::new().file("../escape", b"x").build();
    assert!(matches!(refused, Err(Error::Tar { ref path, .. }) if path == "../escape"));
    let raw = Layer::from_tar(b"not even a tar".to_vec(), Compression::Gzip)?;
    assert_eq!(raw.diff_id(), Digest::from_bytes(b"not even a tar"));
    Ok(())
}

#[test]
fn manifests_describe_config_and_layers() -> Result {
    for format in [ManifestFormat::Oci, ManifestFormat::Docker] {
        let image = sample_image(format);
        let manifest: serde_json::Value = serde_json::from_slice(image.manifest().bytes())?;
        assert_eq!(manifest["schemaVersion"], 2);
        assert_eq!(manifest["mediaType"], format.manifest_media_type());
        assert_eq!(image.manifest().media_type(), format.manifest_media_type());
        assert_eq!(
            image.manifest_digest(),
            Digest::from_bytes(image.manifest().bytes())
        );
        assert_eq!(manifest["config"]["mediaType"], format.config_media_type());
        assert_eq!(
            manifest["config"]["digest"],
            image.config_digest().to_string()
        );
        assert_eq!(manifest["config"]["size"], image.config().size());
        let layers = manifest["layers"].as_array().expect("a layer list");
        assert_eq!(layers.len(), 2);
        for (descriptor, layer) in layers.iter().zip(image.layers()) {
            assert_eq!(descriptor["digest"], layer.digest().to_string());
            assert_eq!(descriptor["size"], layer.size());
            assert_eq!(descriptor["mediaType"], layer.media_type(format));
        }
        let config: serde_json::Value = serde_json::from_slice(image.config().bytes())?;
        let diff_ids: Vec<String> = image.diff_ids().iter().map(Digest::to_string).collect();
        assert_eq!(config["rootfs"]["type"], "layers");
        assert_eq!(config["rootfs"]["diff_ids"], serde_json::json!(diff_ids));
        assert_eq!(config["history"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            (config["os"].as_str(), config["architecture"].as_str()),
            (Some("linux"), Some("amd64"))
        );
        assert_eq!(
            image.layer_digests(),
            image.layers().iter().map(Layer::digest).collect::<Vec<_>>()
        );
        assert_eq!(image.blobs().len(), 3);
        assert_eq!(image.blobs()[0].0, image.config_digest());
    }
    Ok(())
}

#[test]
fn config_options_and_raw_configs() -> Result {
    let image = ImageBuilder::new()
        .platform(Platform::linux_arm64())
        .env("A=1")
        .cmd(&["sh"])
        .entrypoint(&["/init"])
        .label("k", "v")
        .created("2020-02-02T02:02:02Z")
        .build()?;
    let config: serde_json::Value = serde_json::from_slice(image.config().bytes())?;
    assert_eq!(config["variant"], "v8");
    assert_eq!(config["config"]["Env"][1], "A=1");
    assert_eq!(config["config"]["Cmd"][0], "sh");
    assert_eq!(config["config"]["Entrypoint"][0], "/init");
    assert_eq!(config["config"]["Labels"]["k"], "v");
    assert_eq!(config["created"], "2020-02-02T02:02:02Z");
    assert_eq!(config["rootfs"]["diff_ids"], serde_json::json!([]));
    let raw = ImageBuilder::new()
        .raw_config(&b"{\"not\":\"a config\"}"[..])
        .build()?;
    assert_eq!(raw.config().bytes().as_ref(), b"{\"not\":\"a config\"}");
    assert_eq!(
        raw.config_digest(),
        Digest::from_bytes(b"{\"not\":\"a config\"}")
    );
    Ok(())
}

#[test]
fn indexes_list_images_with_platforms() -> Result {
    for format in [ManifestFormat::Oci, ManifestFormat::Docker] {
        let amd64 = ImageBuilder::new().format(format).build()?;
        let arm64 = ImageBuilder::new()
            .format(format)
            .platform(Platform::linux_arm64())
            .build()?;
        let anywhere = ImageBuilder::new()
            .format(format)
            .label("any", "1")
            .build()?;
        let index = IndexBuilder::new(format)
            .image(amd64.clone())
            .image(arm64.clone())
            .image_as(amd64.clone(), Platform::new("linux", "386"))
            .image_without_platform(anywhere.clone())
            .build()?;
        assert_eq!(index.manifest().media_type(), format.index_media_type());
        let doc: serde_json::Value = serde_json::from_slice(index.manifest().bytes())?;
        assert_eq!(doc["mediaType"], format.index_media_type());
        let manifests = doc["manifests"].as_array().expect("a manifest list");
        assert_eq!(manifests.len(), 4);
        assert_eq!(manifests[0]["digest"], amd64.manifest_digest().to_string());
        assert_eq!(manifests[0]["mediaType"], format.manifest_media_type());
        assert_eq!(
            manifests[0]["platform"],
            serde_json::json!({"os":"linux","architecture":"amd64"})
        );
        assert_eq!(manifests[1]["platform"]["variant"], "v8");
        assert_eq!(manifests[2]["platform"]["architecture"], "386");
        assert!(manifests[3].get("platform").is_none());
        assert_eq!(index.images().count(), 4);
        assert_eq!(index.image_for(&Platform::linux_arm64()), Some(&arm64));
        assert_eq!(index.image_for(&Platform::new("windows", "amd64")), None);
        assert_eq!(index.entries().filter(|(_, p)| p.is_none()).count(), 1);
    }
    Ok(())
}

#[test]
fn oci_layout_holds_every_blob_and_tagged_entries() -> Result {
    let image = sample_image(ManifestFormat::Oci);
    let other = ImageBuilder::new()
        .platform(Platform::linux_arm64())
        .build()?;
    let index = IndexBuilder::new(ManifestFormat::Oci)
        .image(other.clone())
        .build()?;
    let dir = tempfile::tempdir()?;
    Layout::new()
        .image(Some("v1"), &image)
        .index(Some("multi"), &index)
        .image(None, &other)
        .write(dir.path())?;
    let layout: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("oci-layout"))?)?;
    assert_eq!(layout["imageLayoutVersion"], "1.0.0");
    let blobs = dir.path().join("blobs/sha256");
    let mut expected = vec![
        image.manifest_digest(),
        index.digest(),
        other.manifest_digest(),
    ];
    expected.extend(image.blobs().iter().map(|(d, _)| *d));
    expected.extend(other.blobs().iter().map(|(d, _)| *d));
    for digest in &expected {
        let bytes = std::fs::read(blobs.join(digest.encoded().as_str()))?;
        assert_eq!(Digest::from_bytes(&bytes), *digest);
    }
    let count = std::fs::read_dir(&blobs)?.count();
    let mut unique = expected.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(count, unique.len());
    let index_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("index.json"))?)?;
    let manifests = index_json["manifests"].as_array().expect("entries");
    assert_eq!(manifests.len(), 3);
    assert_eq!(
        manifests[0]["annotations"]["org.opencontainers.image.ref.name"],
        "v1"
    );
    assert_eq!(manifests[1]["mediaType"], media_type::OCI_INDEX);
    assert_eq!(
        manifests[1]["annotations"]["org.opencontainers.image.ref.name"],
        "multi"
    );
    assert!(manifests[2].get("annotations").is_none());
    Ok(())
}
