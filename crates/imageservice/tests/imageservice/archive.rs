//! `save` and `load`: round trips through our own archives, and through skopeo and umoci.

use std::process::Command;
use std::sync::Arc;

use imgsvc::distribution::progress::Progress;
use imgsvc::{ImageService, Options};
use imgsvc_testkit::fixture::{ImageBuilder, LayerBuilder};
use imgsvc_testkit::real;
use imgsvc_testkit::tree::Tree;
use imgsvc_testkit::{RegistryConfig, TestRegistry};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn open_service(dir: &std::path::Path) -> TestResult<ImageService> {
    let mut options = Options::default();
    options.driver = Some("vfs".to_owned());
    Ok(ImageService::open(dir, options)?)
}

/// A service holding a two-layer image (a whiteout, a symlink, an executable) as `name:v1`.
async fn with_image(dir: &std::path::Path) -> TestResult<(ImageService, String, TestRegistry)> {
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
    let image = ImageBuilder::new().layer(base).layer(top).build()?;
    let registry = TestRegistry::start(RegistryConfig::new()).await?;
    registry.push_image("lib/app", "v1", &image)?;
    let service = open_service(dir)?;
    let name = format!("{}/lib/app", registry.host());
    let progress: Arc<dyn Progress> = Arc::new(());
    service
        .pull_image(&name, Some("v1"), None, None, &progress)
        .await?;
    Ok((service, format!("{name}:v1"), registry))
}

fn run(command: &mut Command) -> TestResult {
    let out = command.output()?;
    if !out.status.success() {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_images_load_back_the_same() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (service, name, _registry) = with_image(&dir.path().join("a")).await?;
    let id = service.resolve(&name)?;
    let archive = dir.path().join("saved.tar");
    service.save(&[&name], std::fs::File::create(&archive)?)?;

    let other = open_service(&dir.path().join("b"))?;
    let events = Arc::new(imgsvc::distribution::progress::Collect::new());
    let sink: Arc<dyn Progress> = events.clone();
    let loaded = other.load_with(std::fs::File::open(&archive)?, &sink)?;
    let finished_layers = events
        .events()
        .iter()
        .filter(|e| {
            matches!(e, imgsvc::distribution::progress::Event::Layer { action: imgsvc::distribution::progress::Action::LoadingLayer, current, total: Some(total), .. } if current == total)
        })
        .count();
    assert_eq!(
        finished_layers,
        2,
        "one finished `Loading layer` per layer: {:?}",
        events.events()
    );
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].id, id, "the same config, so the same ID");
    assert_eq!(loaded[0].to_string(), format!("Loaded image: {name}"));
    assert_eq!(other.resolve(&name)?, id);
    let ours = dir.path().join("ours");
    let theirs = dir.path().join("theirs");
    service.unpack(&name, &ours)?;
    other.unpack(&name, &theirs)?;
    assert!(
        Tree::snapshot(&ours)?
            .differences(&Tree::snapshot(&theirs)?)
            .is_empty()
    );

    // Saved by ID: no tag comes back.
    let by_id = dir.path().join("by-id.tar");
    service.save(&[&id.digest().to_string()], std::fs::File::create(&by_id)?)?;
    let third = open_service(&dir.path().join("c"))?;
    let loaded = third.load(std::fs::File::open(&by_id)?)?;
    assert!(loaded[0].tags.is_empty());
    assert!(
        loaded[0]
            .to_string()
            .starts_with("Loaded image ID: sha256:")
    );

    // Not an archive.
    let err = third.load(&b"not a tar at all"[..]).expect_err("garbage");
    assert!(!err.to_string().is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skopeo_and_umoci_read_what_we_write_and_we_read_theirs() -> TestResult {
    if real::skipped() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let (service, name, _registry) = with_image(&dir.path().join("a")).await?;
    let archive = dir.path().join("saved.tar");
    service.save(&[&name], std::fs::File::create(&archive)?)?;
    let ours = dir.path().join("ours");
    service.unpack(&name, &ours)?;

    // skopeo reads our docker-archive into an OCI layout; umoci unpacks that.
    let layout = dir.path().join("layout");
    run(Command::new("skopeo")
        .args(["copy", "--quiet", "--insecure-policy"])
        .arg(format!("docker-archive:{}", archive.display()))
        .arg(format!("oci:{}:app", layout.display())))?;
    let bundle = dir.path().join("bundle");
    run(Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:app", layout.display()))
        .arg(&bundle))?;
    let umoci = Tree::snapshot(&bundle.join("rootfs"))?;
    let differences = Tree::snapshot(&ours)?.differences(&umoci);
    assert!(differences.is_empty(), "{differences:#?}");

    // umoci reads the OCI layout inside our archive directly.
    let untarred = dir.path().join("untarred");
    std::fs::create_dir(&untarred)?;
    run(Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&untarred))?;
    let tag = name.rsplit(':').next().unwrap_or("v1").to_owned();
    let bundle2 = dir.path().join("bundle2");
    run(Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:{tag}", untarred.display()))
        .arg(&bundle2))?;
    assert!(
        Tree::snapshot(&ours)?
            .differences(&Tree::snapshot(&bundle2.join("rootfs"))?)
            .is_empty()
    );

    // We read skopeo's OCI layout (gzip layers) and its docker-archive.
    let fresh = open_service(&dir.path().join("b"))?;
    let loaded = fresh.load_layout(&layout)?;
    assert_eq!(loaded.len(), 1);
    let back = dir.path().join("back");
    fresh.unpack(&loaded[0].id.digest().to_string(), &back)?;
    assert!(
        Tree::snapshot(&ours)?
            .differences(&Tree::snapshot(&back)?)
            .is_empty()
    );
    let their_archive = dir.path().join("theirs.tar");
    run(Command::new("skopeo")
        .args(["copy", "--quiet", "--insecure-policy"])
        .arg(format!("oci:{}:app", layout.display()))
        .arg(format!(
            "docker-archive:{}:lib/app:theirs",
            their_archive.display()
        )))?;
    let third = open_service(&dir.path().join("c"))?;
    let loaded = third.load(std::fs::File::open(&their_archive)?)?;
    assert_eq!(loaded[0].to_string(), "Loaded image: lib/app:theirs");
    Ok(())
}
