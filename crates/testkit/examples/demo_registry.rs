//! `demo_registry`: the in-process registry on loopback with token auth, serving a generated
//! multi-layer, multi-platform image as `demo/app:latest`, until its standard input closes.
//!
//! Prints `http://127.0.0.1:<port>` on the first line of standard output once it serves.
//! `cargo xtask demo` runs it.

use std::io::{BufRead as _, Write as _};
use std::process::ExitCode;

use imgsvc_testkit::fixture::{
    Compression, ImageBuilder, IndexBuilder, LayerBuilder, ManifestFormat, Platform, noise,
};
use imgsvc_testkit::{Auth, RegistryConfig, TestRegistry};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("demo_registry: {err}");
            ExitCode::FAILURE
        }
    }
}

fn image(
    arch: &str,
    variant: Option<&str>,
) -> Result<imgsvc_testkit::fixture::BuiltImage, Box<dyn std::error::Error>> {
    let base = LayerBuilder::new()
        .dir("etc")
        .file("etc/os-release", b"NAME=demo\n")
        .file("usr/lib/libdemo.so", &noise(3 << 20, 1))
        .compression(Compression::Gzip)
        .build()?;
    let app = LayerBuilder::new()
        .dir("opt/app")
        .file_with_mode("opt/app/run", 0o755, b"#!/bin/sh\necho demo\n")
        .file("opt/app/data.bin", &noise(2 << 20, 2))
        .symlink("usr/bin/app", "/opt/app/run")
        .compression(Compression::Zstd)
        .build()?;
    let platform_file = LayerBuilder::new()
        .file("etc/platform", format!("linux/{arch}\n").as_bytes())
        .whiteout("etc/os-release")
        .build()?;
    let mut platform = Platform::new("linux", arch);
    if let Some(variant) = variant {
        platform = platform.with_variant(variant);
    }
    Ok(ImageBuilder::new()
        .platform(platform)
        .layer(base)
        .layer(app)
        .layer(platform_file)
        .cmd(&["/opt/app/run"])
        .label("org.opencontainers.image.title", "imgsvc demo")
        .build()?)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let index = IndexBuilder::new(ManifestFormat::Oci)
        .image(image("amd64", None)?)
        .image(image("arm64", Some("v8"))?)
        .build()?;
    let registry = TestRegistry::start_blocking(RegistryConfig::new().auth(Auth::bearer()))?;
    registry.push_index("demo/app", "latest", &index)?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", registry.url())?;
    stdout.flush()?;
    // Serve until whoever started us closes our standard input.
    for line in std::io::stdin().lock().lines() {
        line?;
    }
    Ok(())
}
