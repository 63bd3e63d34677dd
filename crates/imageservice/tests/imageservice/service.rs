//! The facade against the in-process registry: pull, find, list, tag, delete with Docker's
//! rules, history, inspect, info.

use std::sync::Arc;

use imgsvc::distribution::progress::Progress;
use imgsvc::{Deleted, ErrorKind, Filters, ImageService, Options};
use imgsvc_testkit::fixture::{BuiltImage, ImageBuilder, LayerBuilder};
use imgsvc_testkit::{RegistryConfig, TestRegistry};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

struct Fixture {
    _dir: tempfile::TempDir,
    service: ImageService,
    registry: TestRegistry,
}

impl Fixture {
    async fn new() -> TestResult<Fixture> {
        let dir = tempfile::tempdir()?;
        let mut options = Options::default();
        options.driver = Some("vfs".to_owned());
        let service = ImageService::open(dir.path(), options)?;
        let registry = TestRegistry::start(RegistryConfig::new()).await?;
        Ok(Fixture {
            _dir: dir,
            service,
            registry,
        })
    }

    /// Pushes `image` as `name:tag` and pulls it; the familiar name (`127.0.0.1:port/name`).
    async fn pull(&self, name: &str, tag: &str, image: &BuiltImage) -> TestResult<String> {
        self.registry.push_image(name, tag, image)?;
        let full = format!("{}/{name}", self.registry.host());
        let progress: Arc<dyn Progress> = Arc::new(());
        self.service
            .pull_image(&full, Some(tag), None, None, &progress)
            .await?;
        Ok(full)
    }
}

fn image(marker: &str) -> TestResult<BuiltImage> {
    Ok(ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .file("marker", marker.as_bytes())
                .build()?,
        )
        .label("marker", marker)
        .build()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_found_by_reference_id_and_prefix() -> TestResult {
    let fx = Fixture::new().await?;
    let one = image("one")?;
    let name = fx.pull("lib/one", "v1", &one).await?;
    let id = fx.service.resolve(&format!("{name}:v1"))?;
    assert_eq!(id.digest(), one.config_digest());
    assert_eq!(fx.service.resolve(&id.digest().to_string())?, id);
    assert_eq!(fx.service.resolve(&id.digest().short())?, id);
    assert_eq!(
        fx.service
            .resolve(&format!("sha256:{}", &id.digest().short()[..6]))?,
        id
    );
    for missing in [
        "nope",
        "lib/one:v2",
        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let err = fx.service.resolve(missing).expect_err("not there");
        assert_eq!(err.kind(), ErrorKind::NotFound, "{missing}: {err}");
        assert!(err.to_string().contains("No such image"), "{err}");
    }
    let bad = fx.service.resolve("UPPER/Case").expect_err("bad syntax");
    assert_eq!(bad.kind(), ErrorKind::InvalidArgument, "{bad}");

    // Two images whose IDs share a first character: that prefix is ambiguous.
    let mut first = None;
    for i in 0.. {
        let candidate = image(&format!("other-{i}"))?;
        let hex = candidate.config_digest().encoded().as_str().to_owned();
        if hex.as_bytes()[0] == id.digest().encoded().as_str().as_bytes()[0] {
            first = Some(candidate);
            break;
        }
    }
    let twin = first.expect("some image shares a first hex digit");
    fx.pull("lib/twin", "v1", &twin).await?;
    let hex = id.digest().encoded().as_str().to_owned();
    let ambiguous = fx.service.resolve(&hex[..1]).expect_err("ambiguous");
    assert_eq!(ambiguous.kind(), ErrorKind::InvalidArgument, "{ambiguous}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_filters_like_docker_images() -> TestResult {
    let fx = Fixture::new().await?;
    let a = fx.pull("lib/a", "v1", &image("a")?).await?;
    let b = fx.pull("lib/b", "v1", &image("b")?).await?;
    let all = fx.service.images(&Filters::default())?;
    assert_eq!(all.len(), 2);
    assert!(
        all.iter()
            .all(|row| row.size > 0 && row.repo_digests.len() == 1)
    );

    let mut by_reference = Filters::default();
    by_reference.reference = vec![format!("{a}:*")];
    let rows = fx.service.images(&by_reference)?;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].repo_tags, [format!("{a}:v1")]);

    let mut by_label = Filters::default();
    by_label.label = vec!["marker=b".to_owned()];
    let rows = fx.service.images(&by_label)?;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].repo_tags, [format!("{b}:v1")]);

    // Untag b: it is dangling now.
    fx.service.delete_image(&format!("{b}:v1"), false, false)?;
    let mut dangling = Filters::default();
    dangling.dangling = Some(true);
    assert!(
        fx.service.images(&dangling)?.is_empty(),
        "b went with its last tag"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_and_deletes_follow_dockers_rules() -> TestResult {
    let fx = Fixture::new().await?;
    let built = image("app")?;
    let name = fx.pull("lib/app", "v1", &built).await?;
    let id = fx.service.resolve(&format!("{name}:v1"))?;
    fx.service
        .tag_image(&format!("{name}:v1"), "other/app:mine")?;
    assert!(
        fx.service
            .tag_image(&name, &format!("x@{}", id.digest()))
            .is_err()
    );

    // Referenced in two repositories: by ID only with force.
    let short = id.digest().short().to_string();
    let conflict = fx
        .service
        .delete_image(&short, false, true)
        .expect_err("conflict");
    assert_eq!(conflict.kind(), ErrorKind::Conflict);
    assert_eq!(
        conflict.to_string(),
        format!(
            "conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories"
        )
    );

    // By reference: only that reference goes.
    let removed = fx.service.delete_image("other/app:mine", false, true)?;
    assert_eq!(removed, [Deleted::Untagged("other/app:mine".to_owned())]);
    assert_eq!(fx.service.images(&Filters::default())?.len(), 1);

    // A child image (as a local build would record it) blocks deletion, even forced.
    let child_config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}},"config":{{"Labels":{{"child":"yes"}}}}}}"#,
        built.diff_ids()[0]
    );
    let stores = fx.service.stores();
    let child = stores.images.create(child_config.as_bytes())?;
    stores.images.set_parent(child, id)?;
    let blocked = fx
        .service
        .delete_image(&id.digest().to_string(), true, true)
        .expect_err("has a child");
    assert!(
        blocked
            .to_string()
            .contains("(cannot be forced) - image has dependent child images"),
        "{blocked}"
    );
    // Deleting the child by ID, with prune, takes the untagged parent along once untagged.
    fx.service
        .delete_image(&format!("{name}:v1"), false, false)?;
    let removed = fx
        .service
        .delete_image(&child.digest().to_string(), false, true)?;
    assert!(removed.contains(&Deleted::Deleted(child)), "{removed:?}");
    assert!(
        removed.contains(&Deleted::Deleted(id)),
        "the untagged parent is pruned: {removed:?}"
    );
    assert!(fx.service.stores().images.is_empty()?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_inspect_and_info_describe_what_is_stored() -> TestResult {
    let fx = Fixture::new().await?;
    let name = fx.pull("lib/app", "v1", &image("app")?).await?;
    let history = fx.service.history(&format!("{name}:v1"))?;
    assert!(!history.is_empty());
    assert!(history[0].id.is_some());
    assert_eq!(history[0].tags, [format!("{name}:v1")]);
    assert!(history.iter().skip(1).all(|h| h.id.is_none()));
    assert!(history.iter().any(|h| h.size > 0));

    let inspect = fx.service.inspect(&format!("{name}:v1"))?;
    assert_eq!(inspect.repo_tags, [format!("{name}:v1")]);
    assert_eq!(inspect.graph_driver.0, "vfs");
    assert!(inspect.size > 0);

    let info = fx.service.info()?;
    assert_eq!(info.driver, "vfs");
    assert_eq!(info.images, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_and_verify() -> TestResult {
    let fx = Fixture::new().await?;
    let kept = fx.pull("lib/kept", "v1", &image("kept")?).await?;
    let gone = fx.pull("lib/gone", "v1", &image("gone")?).await?;
    assert!(fx.service.verify()?.is_empty());
    // Untag one: only its digest reference is left, so it is dangling.
    fx.service
        .stores()
        .references
        .delete(&imgsvc::reference::parse_normalized_named(&format!(
            "{gone}:v1"
        ))?)?;
    let pruned = fx.service.prune(true)?;
    assert_eq!(
        pruned
            .iter()
            .filter(|d| matches!(d, Deleted::Deleted(_)))
            .count(),
        1,
        "{pruned:?}"
    );
    assert_eq!(fx.service.images(&Filters::default())?.len(), 1);
    let pruned = fx.service.prune(false)?;
    assert!(
        pruned.contains(&Deleted::Untagged(format!("{kept}:v1"))),
        "{pruned:?}"
    );
    assert_eq!(fx.service.info()?.images, 0);
    assert!(
        fx.service.stores().layers.map().is_empty(),
        "their layers went too"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_a_damaged_layer() -> TestResult {
    let fx = Fixture::new().await?;
    fx.pull("lib/app", "v1", &image("app")?).await?;
    assert!(fx.service.verify()?.is_empty());
    // Change a file of the layer behind the store's back.
    let vfs = fx.service.root().join("vfs/dir");
    let layer_dir = std::fs::read_dir(&vfs)?
        .next()
        .ok_or("a layer directory")??
        .path();
    std::fs::write(layer_dir.join("marker"), b"tampered")?;
    let damage = fx.service.verify()?;
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert!(
        matches!(damage[0], imgsvc::Damage::Layer { .. }),
        "{damage:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpack_gives_the_root_filesystem() -> TestResult {
    let fx = Fixture::new().await?;
    let base = LayerBuilder::new()
        .dir("etc")
        .file("etc/motd", b"hello\n")
        .file("etc/gone", b"x")
        .build()?;
    let top = LayerBuilder::new()
        .whiteout("etc/gone")
        .symlink("etc/link", "motd")
        .file_with_mode("run.sh", 0o755, b"#!/bin/sh\n")
        .build()?;
    let built = ImageBuilder::new().layer(base).layer(top).build()?;
    let name = fx.pull("lib/fs", "v1", &built).await?;
    let dir = fx._dir.path().join("unpacked");
    fx.service.unpack(&format!("{name}:v1"), &dir)?;
    assert_eq!(std::fs::read(dir.join("etc/motd"))?, b"hello\n");
    assert!(!dir.join("etc/gone").exists(), "the whiteout is applied");
    assert_eq!(
        std::fs::read_link(dir.join("etc/link"))?,
        std::path::Path::new("motd")
    );
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(dir.join("run.sh"))?.permissions().mode() & 0o777,
        0o755
    );
    assert!(
        fx.service.unpack(&format!("{name}:v1"), &dir).is_err(),
        "the directory exists"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_platform_image_of_another_platform_pulls_with_a_warning() -> TestResult {
    let fx = Fixture::new().await?;
    let arm = ImageBuilder::new()
        .platform(imgsvc_testkit::fixture::Platform::new("linux", "s390x"))
        .layer(LayerBuilder::new().file("a", b"a").build()?)
        .build()?;
    fx.registry.push_image("lib/arm", "v1", &arm)?;
    let events = Arc::new(imgsvc::distribution::progress::Collect::new());
    let progress: Arc<dyn Progress> = events.clone();
    let name = format!("{}/lib/arm", fx.registry.host());
    let wanted: imgsvc::distribution::manifest::Platform = "linux/arm64".parse()?;
    let outcome = fx
        .service
        .pull_image(&name, Some("v1"), Some(&wanted), None, &progress)
        .await?;
    assert_eq!(outcome.platform.architecture, "s390x");
    let warned = events.events().iter().any(|e| {
        e.to_docker_json()
            .contains("does not match the specified platform (linux/arm64")
    });
    assert!(warned, "{:?}", events.events());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_under_a_read_write_layer_is_kept_unless_forced() -> TestResult {
    let fx = Fixture::new().await?;
    let name = fx.pull("lib/app", "v1", &image("app")?).await?;
    let id = fx.service.resolve(&format!("{name}:v1"))?;
    let chain = fx.service.stores().images.get(id)?.chain_id();
    let container = fx
        .service
        .stores()
        .layers
        .create_rw_layer("c1", chain, Default::default())?;
    let refused = fx
        .service
        .delete_image(&id.digest().to_string(), false, false)
        .expect_err("in use");
    assert!(
        refused
            .to_string()
            .contains("(must be forced) - image is being used by stopped container c1"),
        "{refused}"
    );
    // Untagging by name keeps the image silently.
    let out = fx
        .service
        .delete_image(&format!("{name}:v1"), false, false)?;
    assert!(
        out.iter().all(|d| matches!(d, Deleted::Untagged(_))),
        "{out:?}"
    );
    assert!(fx.service.stores().images.contains(id)?);
    fx.service
        .delete_image(&id.digest().to_string(), true, false)?;
    assert!(!fx.service.stores().images.contains(id)?);
    fx.service.stores().layers.release_rw_layer(container)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_image_checks_the_platform_when_asked() -> TestResult {
    let fx = Fixture::new().await?;
    let name = fx.pull("lib/app", "v1", &image("app")?).await?;
    let reference = format!("{name}:v1");
    let image = fx.service.get_image(&reference, None)?;
    assert_eq!(image.config().architecture.as_deref(), Some("amd64"));
    fx.service
        .get_image(&reference, Some(&"linux/amd64".parse()?))?;
    let wrong = fx
        .service
        .get_image(&reference, Some(&"linux/arm64".parse()?))
        .expect_err("amd64 only");
    assert_eq!(wrong.kind(), ErrorKind::NotFound);
    assert!(wrong.to_string().contains("wanted linux/arm64"), "{wrong}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_tags_are_pulled_when_asked() -> TestResult {
    let fx = Fixture::new().await?;
    for tag in ["v1", "v2", "v3"] {
        fx.registry.push_image("lib/many", tag, &image(tag)?)?;
    }
    let name = format!("{}/lib/many", fx.registry.host());
    let mut tags = fx.service.tags(&name, None).await?;
    tags.sort();
    assert_eq!(tags, ["v1", "v2", "v3"]);
    let progress: Arc<dyn Progress> = Arc::new(());
    let outcomes = fx
        .service
        .pull_all_tags(&name, None, None, &progress)
        .await?;
    assert_eq!(outcomes.len(), 3);
    assert_eq!(fx.service.images(&Filters::default())?.len(), 3);
    let err = fx
        .service
        .pull_all_tags(&format!("{name}:v1"), None, None, &progress)
        .await
        .expect_err("a tag with --all-tags");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    Ok(())
}
