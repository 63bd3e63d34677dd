//! A root with every store a pull fills, and a repository on the in-process registry.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use imgsvc_distribution::client::Repository;
use imgsvc_distribution::content::ContentStore;
use imgsvc_distribution::download::{DownloadOptions, LayerDownloadManager};
use imgsvc_distribution::metadata::V2MetadataService;
use imgsvc_distribution::progress::{Event, Progress};
use imgsvc_distribution::pull::{Images, PullOptions, Puller, Stores};
use imgsvc_imagestore::{FsBackend, ImageStore};
use imgsvc_layerstore::{LayerStore, driver::Vfs};
use imgsvc_reference::refstore;
use imgsvc_registry_transport::auth::{Authorizer, Scope, TokenHandler, TokenOptions};
use imgsvc_registry_transport::{ChallengeManager, Client, Credentials, Tls, Transport};
use imgsvc_testkit::TestRegistry;

pub(crate) type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Every store of one imgsvc root (vfs), in a temporary directory.
pub(crate) struct Root {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) puller: Puller,
    pub(crate) stores: Stores,
}

/// The storage drivers a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Vfs,
    Overlay2,
}

/// vfs, and overlay2 where this machine can mount it (root, a kernel with overlayfs).
pub(crate) fn kinds() -> Vec<Kind> {
    let probe = tempfile::tempdir().ok();
    let overlay = probe.as_ref().is_some_and(|dir| {
        imgsvc_layerstore::driver::Overlay2::open(dir.path().join("overlay2")).is_ok()
    });
    if overlay {
        vec![Kind::Vfs, Kind::Overlay2]
    } else {
        println!("overlay2 is not available here: tests run on vfs only");
        vec![Kind::Vfs]
    }
}

impl Root {
    pub(crate) fn new() -> TestResult<Root> {
        Root::with(Kind::Vfs, DownloadOptions::default())
    }

    pub(crate) fn with(kind: Kind, mut options: DownloadOptions) -> TestResult<Root> {
        options.retry_delay = std::time::Duration::from_millis(10);
        let dir = tempfile::tempdir()?;
        let stores = open_stores(dir.path(), kind)?;
        let downloads = LayerDownloadManager::new(
            Arc::clone(&stores.layers),
            dir.path().join("tmp"),
            options.clone(),
        );
        let puller = Puller::new(stores.clone(), downloads, options);
        Ok(Root {
            dir,
            puller,
            stores,
        })
    }

    pub(crate) fn spool_dir(&self) -> PathBuf {
        self.dir.path().join("tmp")
    }

    /// What the stores hold: (layers, images, references).
    pub(crate) fn counts(&self) -> TestResult<(usize, usize, usize)> {
        let refs = self.dir.path().join("image/vfs/repositories.json");
        let references = match std::fs::read(&refs) {
            Ok(bytes) => {
                let doc: serde_json::Value = serde_json::from_slice(&bytes)?;
                doc["Repositories"].as_object().map_or(0, |repos| {
                    repos
                        .values()
                        .filter_map(|r| r.as_object())
                        .map(|r| r.len())
                        .sum()
                })
            }
            Err(_) => 0,
        };
        Ok((
            self.stores.layers.map().len(),
            self.stores.images.len()?,
            references,
        ))
    }
}

fn open_stores(root: &Path, kind: Kind) -> TestResult<Stores> {
    let driver: Box<dyn imgsvc_layerstore::driver::Driver> = match kind {
        Kind::Vfs => Box::new(Vfs::open(root.join("vfs"))?),
        Kind::Overlay2 => Box::new(imgsvc_layerstore::driver::Overlay2::open(
            root.join("overlay2"),
        )?),
    };
    let layers = Arc::new(LayerStore::open(root.join("image/vfs/layerdb"), driver)?);
    let images: Arc<Images> = Arc::new(ImageStore::open(
        FsBackend::open(root.join("image/vfs/imagedb"))?,
        Arc::clone(&layers),
    )?);
    let references = Arc::new(refstore::Store::open(
        root.join("image/vfs/repositories.json"),
    )?);
    let content = Arc::new(ContentStore::open(root.join("content"))?);
    let metadata = Arc::new(V2MetadataService::open(
        root.join("image/vfs/distribution"),
    )?);
    Ok(Stores::new(layers, images, references, content, metadata))
}

/// A repository of `registry`, anonymous (tokens are fetched as challenges ask).
pub(crate) fn repository(registry: &TestRegistry, name: &str) -> TestResult<Repository> {
    repository_at(&registry.url(), name, Credentials::anonymous())
}

/// A repository `name` of the plain-HTTP registry at `url`, answering challenges with
/// `credentials`.
pub(crate) fn repository_at(
    url: &str,
    name: &str,
    credentials: Credentials,
) -> TestResult<Repository> {
    let client = Client::new()?;
    let base = Transport::new(&client, Tls::Plain);
    let tokens = Arc::new(TokenHandler::new(&base, TokenOptions::default()));
    let transport = base.with_authorizer(Authorizer::new(
        Arc::new(ChallengeManager::default()),
        tokens,
        credentials,
        vec![Scope::pull(name)],
    ));
    Ok(Repository::new(name, &url.parse()?, transport)?)
}

/// The normalized reference `<registry host>/<name>:<tag or @digest>`.
pub(crate) fn reference(
    registry: &TestRegistry,
    name_and_tag: &str,
) -> TestResult<imgsvc_reference::Reference> {
    Ok(imgsvc_reference::parse_normalized_named(&format!(
        "{}/{name_and_tag}",
        registry.host()
    ))?)
}

/// Progress events, kept.
#[derive(Default)]
pub(crate) struct Events(Mutex<Vec<Event>>);

impl Progress for Events {
    fn event(&self, event: Event) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
    }
}

impl Events {
    pub(crate) fn json(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(Event::to_docker_json)
            .collect()
    }
}

/// Pulls `name_and_tag` of `registry` into `root`.
pub(crate) async fn pull(
    root: &Root,
    registry: &TestRegistry,
    name: &str,
    tag_or_digest: &str,
    options: &PullOptions,
) -> (
    Result<imgsvc_distribution::pull::Outcome, imgsvc_distribution::Error>,
    Arc<Events>,
) {
    let events = Arc::new(Events::default());
    let progress: Arc<dyn Progress> = events.clone();
    let separator = if tag_or_digest.contains(':') {
        "@"
    } else {
        ":"
    };
    let result = match (
        repository(registry, name),
        reference(registry, &format!("{name}{separator}{tag_or_digest}")),
    ) {
        (Ok(repo), Ok(reference)) => {
            root.puller
                .pull(&repo, &reference, options, &progress)
                .await
        }
        (Err(e), _) | (_, Err(e)) => panic!("test setup: {e}"),
    };
    (result, events)
}
