//! Pulls from the in-process registry: what lands in the stores, what is not downloaded
//! again, and how lying registries fail without leaving anything behind.

use std::io::Read as _;

use imgsvc_distribution::Error;
use imgsvc_distribution::pull::PullOptions;
use imgsvc_testkit::fixture::{
    BuiltImage, Compression, ImageBuilder, LayerBuilder, ManifestFormat, noise,
};
use imgsvc_testkit::{Fault, FaultRule, RegistryConfig, RequestKind, TestRegistry};

use imgsvc_distribution::download::DownloadOptions;

use crate::support::{Kind, Root, TestResult, kinds, pull};

/// Whether the driver holds no layer directory.
fn driver_dirs_empty(root: &Root) -> bool {
    ["vfs/dir", "overlay2"].iter().all(|d| {
        std::fs::read_dir(root.dir.path().join(d)).map_or(true, |entries| {
            entries.filter_map(Result::ok).all(|e| e.file_name() == "l")
        })
    })
}

/// Three layers: gzip, zstd, plain tar; with a whiteout in the top one.
fn three_layer_image(format: ManifestFormat) -> BuiltImage {
    let bottom = LayerBuilder::new()
        .dir("etc")
        .file("etc/hostname", b"base\n")
        .file("etc/motd", b"hello\n")
        .file("data.bin", &noise(300_000, 1))
        .compression(Compression::Gzip)
        .build()
        .expect("valid layer");
    let middle = LayerBuilder::new()
        .dir("usr")
        .file("usr/app", &noise(100_000, 2))
        .symlink("usr/link", "app")
        .compression(Compression::Zstd)
        .build()
        .expect("valid layer");
    let top = LayerBuilder::new()
        .whiteout("etc/motd")
        .file("etc/issue", b"top\n")
        .compression(Compression::None)
        .build()
        .expect("valid layer");
    ImageBuilder::new()
        .format(format)
        .layer(bottom)
        .layer(middle)
        .layer(top)
        .build()
        .expect("valid image")
}

async fn serving(image: &BuiltImage, name: &str) -> TestRegistry {
    let registry = TestRegistry::start(RegistryConfig::new())
        .await
        .expect("loopback");
    registry.push_image(name, "v1", image).expect("valid");
    registry
}

/// The exact tar the layer store reproduces for each layer equals the fixture's tar.
fn assert_layers_exact(root: &Root, image: &BuiltImage) -> TestResult {
    let diff_ids = image.diff_ids();
    for (i, layer) in image.layers().iter().enumerate() {
        let chain = imgsvc_layerstore::ChainId::of(
            &diff_ids[..=i]
                .iter()
                .map(|d| imgsvc_layerstore::DiffId::new(*d))
                .collect::<Vec<_>>(),
        )
        .expect("layers");
        let held = root.stores.layers.get(chain)?;
        let mut tar = Vec::new();
        root.stores
            .layers
            .tar_stream(&held)?
            .read_to_end(&mut tar)?;
        root.stores.layers.release(held)?;
        assert_eq!(tar, layer.tar().to_vec(), "layer {i}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_pull_fills_every_store_and_a_second_pull_downloads_nothing() -> TestResult {
    for (format, kind) in [ManifestFormat::Oci, ManifestFormat::Docker]
        .into_iter()
        .flat_map(|f| kinds().into_iter().map(move |k| (f, k)))
    {
        let image = three_layer_image(format);
        let registry = serving(&image, "lib/app").await;
        let root = Root::with(kind, DownloadOptions::default())?;
        let (outcome, events) =
            pull(&root, &registry, "lib/app", "v1", &PullOptions::default()).await;
        let outcome = outcome?;
        assert_eq!(outcome.manifest_digest, image.manifest_digest());
        assert_eq!(outcome.image_id.digest(), image.config_digest());
        assert!(outcome.updated);
        assert_eq!(
            root.counts()?,
            (3, 1, 2),
            "three layers, one image, tag and digest"
        );
        assert_layers_exact(&root, &image)?;
        let content = &root.stores.content;
        assert!(
            content.contains(image.manifest_digest()),
            "the manifest is kept"
        );
        let image_lease = imgsvc_distribution::pull::image_lease_id(outcome.image_id);
        assert_eq!(
            content.leases()?,
            [image_lease],
            "the pull's own lease is gone"
        );
        let json = events.json();
        assert!(
            json.iter().any(|j| j.contains("Pulling fs layer")),
            "{json:?}"
        );
        assert!(json.iter().any(|j| j.contains("Pull complete")), "{json:?}");
        assert!(
            json.last()
                .is_some_and(|j| j.contains("Downloaded newer image")),
            "{json:?}"
        );

        registry.clear_log();
        let (again, events) =
            pull(&root, &registry, "lib/app", "v1", &PullOptions::default()).await;
        let again = again?;
        assert!(!again.updated);
        assert_eq!(again.image_id, outcome.image_id);
        assert_eq!(
            registry.count(|r| r.kind == RequestKind::Blob),
            0,
            "no blob request"
        );
        assert!(
            events
                .json()
                .last()
                .is_some_and(|j| j.contains("Image is up to date"))
        );
        assert!(std::fs::read_dir(root.spool_dir()).map_or(true, |d| d.count() == 0));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layers_present_anywhere_in_the_chain_are_not_downloaded() -> TestResult {
    let image = three_layer_image(ManifestFormat::Oci);
    let registry = serving(&image, "lib/app").await;
    let root = Root::new()?;
    pull(&root, &registry, "lib/app", "v1", &PullOptions::default())
        .await
        .0?;
    // A second image sharing all three layers under a new config: only the config moves.
    let sibling = ImageBuilder::new()
        .layer(image.layers()[0].clone())
        .layer(image.layers()[1].clone())
        .layer(image.layers()[2].clone())
        .label("sibling", "yes")
        .build()?;
    registry.push_image("lib/app", "v2", &sibling)?;
    registry.clear_log();
    let (outcome, events) = pull(&root, &registry, "lib/app", "v2", &PullOptions::default()).await;
    outcome?;
    let layer_gets = registry.count(|r| {
        r.kind == RequestKind::Blob && image.layer_digests().iter().any(|d| Some(*d) == r.digest)
    });
    assert_eq!(layer_gets, 0);
    assert_eq!(
        events
            .json()
            .iter()
            .filter(|j| j.contains("Already exists"))
            .count(),
        3
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_are_retried_and_drops_resume_with_range() -> TestResult {
    for kind in kinds() {
        let image = three_layer_image(ManifestFormat::Oci);
        let registry = serving(&image, "lib/app").await;
        let big = image.layers()[0].digest();
        registry.add_fault(
            FaultRule::new(Fault::Status {
                code: 503,
                retry_after: None,
            })
            .kind(RequestKind::Blob)
            .path_contains(&big.to_string())
            .times(2),
        );
        registry.add_fault(
            FaultRule::new(Fault::DropAfter { bytes: 100_000 })
                .kind(RequestKind::Blob)
                .path_contains(&big.to_string())
                .times(1),
        );
        let root = Root::with(kind, DownloadOptions::default())?;
        let (outcome, _) = pull(&root, &registry, "lib/app", "v1", &PullOptions::default()).await;
        outcome?;
        assert_layers_exact(&root, &image)?;
        let resumed = registry
            .requests()
            .into_iter()
            .filter(|r| r.digest == Some(big) && r.range.is_some())
            .count();
        assert_eq!(resumed, 1, "{:?}", registry.requests());
        let size = image.layers()[0].size();
        let sent = registry.bytes_sent_for(big);
        assert!(
            sent < size + 100_001 && sent >= size,
            "resumed, not downloaded twice: {sent} of {size}"
        );
    }
    Ok(())
}

/// A pull that must fail, leaving the stores empty; returns the error's text.
async fn fails_cleanly(registry: &TestRegistry, name: &str, tag: &str) -> TestResult<String> {
    let mut text = String::new();
    for kind in kinds() {
        text = fails_cleanly_on(kind, registry, name, tag).await?;
    }
    Ok(text)
}

async fn fails_cleanly_on(
    kind: Kind,
    registry: &TestRegistry,
    name: &str,
    tag: &str,
) -> TestResult<String> {
    let root = Root::with(kind, DownloadOptions::default())?;
    let (outcome, _) = pull(&root, registry, name, tag, &PullOptions::default()).await;
    let err = match outcome {
        Ok(outcome) => panic!("the pull should fail: {outcome:?}"),
        Err(err) => err,
    };
    assert!(matches!(err, Error::Pull { .. }), "{err:?}");
    assert_eq!(root.counts()?, (0, 0, 0), "nothing stored after: {err}");
    assert!(
        driver_dirs_empty(&root),
        "no layer directory left after: {err}"
    );
    assert!(std::fs::read_dir(root.spool_dir()).map_or(true, |d| d.count() == 0));
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(&format!(" / {cause}"));
        source = cause.source();
    }
    Ok(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_registries_fail_the_pull_and_leave_nothing() -> TestResult {
    let image = three_layer_image(ManifestFormat::Oci);
    let top = image.layers()[2].digest();
    let bottom = image.layers()[0].digest();

    // A corrupt byte in a layer.
    let registry = serving(&image, "lib/app").await;
    registry.add_fault(
        FaultRule::new(Fault::Corrupt { offset: 10 })
            .kind(RequestKind::Blob)
            .path_contains(&top.to_string()),
    );
    let text = fails_cleanly(&registry, "lib/app", "v1").await?;
    assert!(
        text.contains(&top.to_string()) && text.contains("verification failed"),
        "{text}"
    );

    // A corrupt byte in the bottom layer, which streams straight into the layer store.
    let registry = serving(&image, "lib/app").await;
    registry.add_fault(
        FaultRule::new(Fault::Corrupt { offset: 5000 })
            .kind(RequestKind::Blob)
            .path_contains(&bottom.to_string()),
    );
    let text = fails_cleanly(&registry, "lib/app", "v1").await?;
    assert!(text.contains(&bottom.to_string()), "{text}");

    // A wrong Docker-Content-Digest on the manifest.
    let registry = serving(&image, "lib/app").await;
    registry.add_fault(FaultRule::new(Fault::WrongDigestHeader).kind(RequestKind::Manifest));
    let text = fails_cleanly(&registry, "lib/app", "v1").await?;
    assert!(text.contains("manifest verification failed"), "{text}");

    // A blob the manifest names is missing.
    let registry = serving(&image, "lib/app").await;
    registry.remove_blob("lib/app", top);
    let text = fails_cleanly(&registry, "lib/app", "v1").await?;
    assert!(
        text.contains("BLOB_UNKNOWN") || text.contains("blob unknown"),
        "{text}"
    );
    assert!(text.contains("lib/app"), "{text}");

    // A config whose diff_ids do not match the layers.
    let lying = ImageBuilder::new()
        .layer(image.layers()[0].clone())
        .raw_config(r#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:1111111111111111111111111111111111111111111111111111111111111111"]}}"#)
        .build()?;
    let registry = serving(&lying, "lib/app").await;
    let text = fails_cleanly(&registry, "lib/app", "v1").await?;
    assert!(text.contains("diff") || text.contains("DiffID"), "{text}");

    // Fewer diff_ids than layers.
    let short = ImageBuilder::new()
        .layer(image.layers()[0].clone())
        .layer(image.layers()[1].clone())
        .raw_config(format!(
            r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
            image.diff_ids()[0]
        ))
        .build()?;
    let registry = serving(&short, "lib/app").await;
    let text = fails_cleanly(&registry, "lib/app", "v1").await?;
    assert!(
        text.contains("layers from manifest don't match image configuration"),
        "{text}"
    );
    Ok(())
}

/// A tar with one file whose name is written as given (the tar crate refuses `..`).
fn raw_tar(name: &str, data: &[u8]) -> TestResult<Vec<u8>> {
    let mut header = tar::Header::new_ustar();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    let field = &mut header.as_old_mut().name;
    field[..name.len()].copy_from_slice(name.as_bytes());
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append(&header, data)?;
    Ok(builder.into_inner()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layers_escaping_their_root_are_refused() -> TestResult {
    let dotdot =
        imgsvc_testkit::fixture::Layer::from_tar(raw_tar("../escape", b"x")?, Compression::Gzip)?;
    let through_symlink = LayerBuilder::new()
        .symlink("escape", "../../../../tmp")
        .file("escape/pwned", b"x")
        .build()?;
    for (name, layer) in [("lib/dotdot", dotdot), ("lib/symlink", through_symlink)] {
        let image = ImageBuilder::new().layer(layer).build()?;
        let registry = serving(&image, name).await;
        let text = fails_cleanly(&registry, name, "v1").await?;
        assert!(text.contains("register"), "{text}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pulls_sharing_a_middle_layer_download_it_once() -> TestResult {
    let shared = LayerBuilder::new()
        .file("shared.bin", &noise(400_000, 7))
        .build()?;
    let a = ImageBuilder::new()
        .layer(LayerBuilder::new().file("a", b"a").build()?)
        .layer(shared.clone())
        .build()?;
    let b = ImageBuilder::new()
        .layer(LayerBuilder::new().file("b", b"b").build()?)
        .layer(shared.clone())
        .build()?;
    let registry = TestRegistry::start(RegistryConfig::new()).await?;
    registry.push_image("lib/a", "v1", &a)?;
    registry.push_image("lib/b", "v1", &b)?;
    // Slow the shared blob down so both pulls want it at the same time.
    registry.add_fault(
        FaultRule::new(Fault::slow(2_000_000)).path_contains(&shared.digest().to_string()),
    );
    for kind in kinds() {
        registry.clear_log();
        let root = Root::with(kind, DownloadOptions::default())?;
        let options = PullOptions::default();
        let (first, second) = tokio::join!(
            pull(&root, &registry, "lib/a", "v1", &options),
            pull(&root, &registry, "lib/b", "v1", &options)
        );
        first.0?;
        second.0?;
        assert_eq!(
            registry.bytes_sent_for(shared.digest()),
            shared.size(),
            "{kind:?}: downloaded once"
        );
        assert_eq!(root.counts()?, (4, 2, 4), "{kind:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_pull_leaves_no_partial_layer() -> TestResult {
    let image = three_layer_image(ManifestFormat::Oci);
    let registry = serving(&image, "lib/app").await;
    registry.add_fault(FaultRule::new(Fault::slow(50_000)).kind(RequestKind::Blob));
    for kind in kinds() {
        let root = Root::with(kind, DownloadOptions::default())?;
        let options = PullOptions::default();
        let cut = tokio::time::timeout(
            std::time::Duration::from_millis(1500),
            pull(&root, &registry, "lib/app", "v1", &options),
        )
        .await;
        assert!(cut.is_err(), "the pull was still running");
        // Background tasks wind down: poll for an empty store with a deadline.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let spool_empty = std::fs::read_dir(root.spool_dir()).map_or(true, |d| d.count() == 0);
            // The blocking extractor sees the cancelled stream and removes its directory.
            if root.counts()? == (0, 0, 0) && spool_empty && driver_dirs_empty(&root) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "leftovers: {:?}",
                root.counts()?
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

fn platform_image(arch: &str, variant: Option<&str>, marker: &[u8]) -> TestResult<BuiltImage> {
    let mut platform = imgsvc_testkit::fixture::Platform::new("linux", arch);
    if let Some(variant) = variant {
        platform = platform.with_variant(variant);
    }
    Ok(ImageBuilder::new()
        .platform(platform)
        .layer(LayerBuilder::new().file("etc/arch", marker).build()?)
        .build()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_is_narrowed_to_the_wanted_platform() -> TestResult {
    for format in [ManifestFormat::Oci, ManifestFormat::Docker] {
        let amd64 = platform_image("amd64", None, b"amd64")?;
        let arm64 = platform_image("arm64", Some("v8"), b"arm64")?;
        let index = imgsvc_testkit::fixture::IndexBuilder::new(format)
            .image(amd64.clone())
            .image(arm64.clone())
            .build()?;
        let registry = TestRegistry::start(RegistryConfig::new()).await?;
        registry.push_index("lib/multi", "v1", &index)?;

        let root = Root::new()?;
        let mut options = PullOptions::default();
        options.platform = Some("linux/arm64".parse()?);
        let outcome = pull(&root, &registry, "lib/multi", "v1", &options)
            .await
            .0?;
        assert_eq!(
            outcome.manifest_digest,
            index.digest(),
            "the index's digest is recorded"
        );
        assert_eq!(outcome.image_id.digest(), arm64.config_digest());
        assert_eq!(outcome.platform.architecture, "arm64");
        let amd64_blobs = registry.count(|r| r.digest == Some(amd64.layers()[0].digest()));
        assert_eq!(amd64_blobs, 0, "the other platform is not downloaded");

        options.platform = Some("linux/amd64".parse()?);
        let outcome = pull(&root, &registry, "lib/multi", "v1", &options)
            .await
            .0?;
        assert_eq!(outcome.image_id.digest(), amd64.config_digest());

        options.platform = Some("linux/s390x".parse()?);
        let root = Root::new()?;
        let (result, _) = pull(&root, &registry, "lib/multi", "v1", &options).await;
        let text = result
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "{e} / {:?}",
                    std::error::Error::source(&e).map(ToString::to_string)
                )
            })
            .expect_err("no s390x entry");
        assert!(
            text.contains("linux/s390x")
                && text.contains("linux/amd64")
                && text.contains("linux/arm64"),
            "{text}"
        );
        assert_eq!(root.counts()?, (0, 0, 0));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_indexes_are_followed_but_not_forever() -> TestResult {
    let image = platform_image("amd64", None, b"x")?;
    let registry = TestRegistry::start(RegistryConfig::new()).await?;
    let index = imgsvc_testkit::fixture::IndexBuilder::new(ManifestFormat::Oci)
        .image(image.clone())
        .build()?;
    registry.push_index("lib/nest", "inner", &index)?;
    // Wrap the index in more indexes, each naming the one below without a platform.
    let mut below = (index.digest(), index.manifest().size());
    let mut digests = Vec::new();
    for _ in 0..5 {
        let doc = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": below.0.to_string(),
                "size": below.1,
            }],
        });
        let bytes = serde_json::to_vec(&doc)?;
        let size = bytes.len() as u64;
        let digest =
            registry.add_manifest("lib/nest", "application/vnd.oci.image.index.v1+json", bytes)?;
        digests.push(digest);
        below = (digest, size);
    }
    registry.tag("lib/nest", "two", digests[0])?;
    registry.tag("lib/nest", "six", digests[4])?;
    let root = Root::new()?;
    let outcome = pull(&root, &registry, "lib/nest", "two", &PullOptions::default())
        .await
        .0?;
    assert_eq!(outcome.image_id.digest(), image.config_digest());
    let root = Root::new()?;
    let (result, _) = pull(&root, &registry, "lib/nest", "six", &PullOptions::default()).await;
    let err = result.expect_err("too deep");
    assert!(format!("{:?}", err).contains("nest deeper"), "{err:?}");
    Ok(())
}

/// Serves `image`'s blobs as `lib/app`, tagged `v1` to its manifest changed by `edit`.
async fn serving_edited(
    image: &BuiltImage,
    edit: impl FnOnce(&mut serde_json::Value),
) -> TestResult<TestRegistry> {
    let registry = serving(image, "lib/app").await;
    let mut doc: serde_json::Value = serde_json::from_slice(image.manifest().bytes())?;
    edit(&mut doc);
    let media_type = image.manifest().media_type().to_owned();
    let digest = registry.add_manifest("lib/app", &media_type, serde_json::to_vec(&doc)?)?;
    registry.tag("lib/app", "v1", digest)?;
    Ok(registry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_that_lie_about_sizes_and_types_fail_cleanly() -> TestResult {
    let image = three_layer_image(ManifestFormat::Oci);

    // A layer one byte shorter than the manifest says.
    let registry = serving_edited(&image, |doc| {
        let size = doc["layers"][1]["size"].as_u64().unwrap_or(0);
        doc["layers"][1]["size"] = serde_json::json!(size + 1);
    })
    .await?;
    let text = fails_cleanly(&registry, "lib/app", "v1").await?;
    assert!(
        text.contains(&image.layers()[1].digest().to_string()) && text.contains("bytes"),
        "{text}"
    );

    // A config said to be over the cap: refused before a byte of it is fetched.
    let registry = serving_edited(&image, |doc| {
        doc["config"]["size"] = serde_json::json!(1u64 << 30)
    })
    .await?;
    let text = fails_cleanly(&registry, "lib/app", "v1").await?;
    assert!(
        text.contains("image config") && text.contains("larger than"),
        "{text}"
    );
    assert_eq!(
        registry.count(|r| r.digest == Some(image.config_digest())),
        0
    );

    // A layer type that is not a filesystem.
    let registry = serving_edited(&image, |doc| {
        doc["layers"][0]["mediaType"] = serde_json::json!("application/vnd.docker.ai.model.v1");
    })
    .await?;
    let text = fails_cleanly(&registry, "lib/app", "v1").await?;
    assert!(text.contains("AI models"), "{text}");

    // A schema 1 manifest.
    let registry = TestRegistry::start(RegistryConfig::new()).await?;
    let schema1 = br#"{"schemaVersion":1,"name":"lib/app","tag":"v1","architecture":"amd64","fsLayers":[],"history":[]}"#;
    let digest = registry.add_manifest(
        "lib/app",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        &schema1[..],
    )?;
    registry.tag("lib/app", "v1", digest)?;
    let text = fails_cleanly(&registry, "lib/app", "v1").await?;
    assert!(
        text.contains("unsupported (deprecated) manifest schema1"),
        "{text}"
    );
    Ok(())
}
