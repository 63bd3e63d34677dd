//! `pull`: pulls one image from a registry into a Docker-style data root.
//!
//! ```text
//! cargo run --release -p imgsvc-distribution --example pull -- URL REPO TAG ROOT [vfs|overlay2]
//! ```
//!
//! `URL` is the registry endpoint (`http://127.0.0.1:5000`), `REPO` the repository path
//! (`library/alpine`), `ROOT` the data root (stores under `ROOT/image/<driver>/`, manifests
//! in `ROOT/content`). Anonymous, or bearer tokens as challenges ask; plain HTTP for `http://`
//! URLs. Prints the image ID.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use imgsvc_distribution::client::Repository;
use imgsvc_distribution::content::ContentStore;
use imgsvc_distribution::download::{DownloadOptions, LayerDownloadManager};
use imgsvc_distribution::metadata::V2MetadataService;
use imgsvc_distribution::progress::Progress;
use imgsvc_distribution::pull::{PullOptions, Puller, Stores};
use imgsvc_imagestore::{FsBackend, ImageStore};
use imgsvc_layerstore::LayerStore;
use imgsvc_layerstore::driver::{Driver, Overlay2, Vfs};
use imgsvc_registry_transport::auth::{Authorizer, Scope, TokenHandler, TokenOptions};
use imgsvc_registry_transport::{ChallengeManager, Client, Credentials, Tls, Transport};

type BoxError = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("pull: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("pull: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<(), BoxError> {
    let [url, repo, tag, root, rest @ ..] = args else {
        return Err("usage: pull URL REPO TAG ROOT [vfs|overlay2]".into());
    };
    let root = Path::new(root);
    let driver: Box<dyn Driver> = match rest.first().map_or("vfs", String::as_str) {
        "vfs" => Box::new(Vfs::open(root.join("vfs"))?),
        "overlay2" => Box::new(Overlay2::open(root.join("overlay2"))?),
        other => return Err(format!("unknown driver {other:?}").into()),
    };
    let image_root = root.join("image").join(driver.name());
    let layers = Arc::new(LayerStore::open(image_root.join("layerdb"), driver)?);
    let images = Arc::new(ImageStore::open(
        FsBackend::open(image_root.join("imagedb"))?,
        Arc::clone(&layers),
    )?);
    let references = Arc::new(imgsvc_reference::refstore::Store::open(
        image_root.join("repositories.json"),
    )?);
    let content = Arc::new(ContentStore::open(root.join("content"))?);
    let metadata = Arc::new(V2MetadataService::open(image_root.join("distribution"))?);
    let stores = Stores::new(Arc::clone(&layers), images, references, content, metadata);
    let options = DownloadOptions::default();
    let downloads = LayerDownloadManager::new(layers, root.join("tmp"), options.clone());
    let puller = Puller::new(stores, downloads, options);

    let endpoint: url::Url = url.parse()?;
    let tls = if endpoint.scheme() == "http" {
        Tls::Plain
    } else {
        Tls::Verified
    };
    let base = Transport::new(&Client::new()?, tls);
    let tokens = Arc::new(TokenHandler::new(&base, TokenOptions::default()));
    let transport = base.with_authorizer(Authorizer::new(
        Arc::new(ChallengeManager::default()),
        tokens,
        Credentials::anonymous(),
        vec![Scope::pull(repo)],
    ));
    let repository = Repository::new(repo, &endpoint, transport)?;
    let host = endpoint.host_str().ok_or("the URL has no host")?;
    let host = match endpoint.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let reference = imgsvc_reference::parse_normalized_named(&format!("{host}/{repo}:{tag}"))?;
    let progress: Arc<dyn Progress> = Arc::new(());
    let outcome = puller
        .pull(&repository, &reference, &PullOptions::default(), &progress)
        .await?;
    println!("{}", outcome.image_id.digest());
    Ok(())
}
