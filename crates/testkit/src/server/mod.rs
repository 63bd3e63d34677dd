//! The in-process registry: an OCI distribution API on 127.0.0.1 with auth, faults and a
//! request log.

mod auth;
mod body;
mod content;
mod faults;
mod handler;
mod log;
mod routes;

pub use auth::{Auth, BearerAuth};
pub use faults::{Fault, FaultId, FaultRule, PathMatch};
pub use log::{Listener, RequestKind, RequestRecord, TokenRequest};

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use imgsvc_digest::Digest;
use tokio::net::TcpListener;
use tokio::runtime::{Handle, Runtime};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::fixture::{BuiltImage, BuiltIndex};
use content::{Manifest, Store};
use faults::RuleState;

/// How to start a [`TestRegistry`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RegistryConfig {
    /// Authentication required of clients.
    pub auth: Auth,
    /// Faults active from the first request.
    pub faults: Vec<FaultRule>,
}

/// Construction
impl RegistryConfig {
    /// No authentication, no faults.
    pub fn new() -> RegistryConfig {
        RegistryConfig::default()
    }

    /// Sets the authentication.
    pub fn auth(mut self, auth: Auth) -> RegistryConfig {
        self.auth = auth;
        self
    }

    /// Adds a fault active from the start.
    pub fn fault(mut self, rule: FaultRule) -> RegistryConfig {
        self.faults.push(rule);
        self
    }
}

/// An error starting the registry or adding content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A loopback listener could not be opened.
    #[error("cannot listen on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
    /// [`TestRegistry::start`] was called outside a tokio runtime.
    #[error("TestRegistry::start needs a tokio runtime; use start_blocking from sync code")]
    NoRuntime,
    /// The runtime of [`TestRegistry::start_blocking`] could not be built.
    #[error("cannot build the registry's tokio runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A repository name does not follow the distribution grammar.
    #[error("invalid repository name {name:?}: use lowercase components like library/ubuntu")]
    InvalidName {
        /// The name.
        name: String,
    },
    /// A tag does not follow the reference grammar.
    #[error("invalid tag {tag:?}: use [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}")]
    InvalidTag {
        /// The tag.
        tag: String,
    },
    /// A tag was pointed at a manifest the repository does not have.
    #[error("repository {name} has no manifest {digest}; add it before tagging it")]
    UnknownManifest {
        /// The repository.
        name: String,
        /// The manifest digest.
        digest: Digest,
    },
}

/// State shared by the handle and the connections.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) auth: Auth,
    /// `http://127.0.0.1:<port>/token`.
    pub(crate) realm: String,
    /// `http://127.0.0.1:<redirect port>`.
    pub(crate) redirect_base: String,
    pub(crate) store: Mutex<Store>,
    pub(crate) faults: Mutex<Vec<RuleState>>,
    pub(crate) log: Mutex<Vec<log::Entry>>,
    pub(crate) token_log: Mutex<Vec<TokenRequest>>,
    pub(crate) tokens: Mutex<auth::Tokens>,
}

/// Locks, ignoring poisoning: the registry's state stays usable after a panicking test thread.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An OCI distribution registry on 127.0.0.1 (random port), serving content added through
/// this handle. Dropping the handle (or [`stop`](Self::stop)) shuts it down.
///
/// Served (HTTP/1.1, `GET` and `HEAD`; pushes are not supported):
/// - `/v2/`: `200 {}` (or the auth challenge);
/// - `/v2/<name>/manifests/<tag|digest>`: the bytes as added, `Content-Type` = the
///   manifest's media type, `Docker-Content-Digest`. `Accept` is honoured as the CNCF
///   registry does, simplified: no `Accept` header (or `*/*`) takes any type; an OCI index
///   or manifest that is not accepted is `MANIFEST_UNKNOWN`; a Docker manifest list asked
///   for by tag by a client that does not accept lists is answered with its `linux/amd64`
///   manifest; a Docker schema 2 manifest is always served as is (no schema 1 conversion);
/// - `/v2/<name>/blobs/<digest>`: with a single `Range` (`206` + `Content-Range`, `416`
///   when unsatisfiable);
/// - `/v2/<name>/tags/list`: sorted, with `n`/`last` pagination and a `Link` header;
/// - `/token` in [`Auth::Bearer`] mode (`GET`, and the OAuth2 `POST`).
///
/// Errors use the distribution envelope `{"errors":[{"code","message","detail"}]}` with
/// `NAME_UNKNOWN`, `NAME_INVALID`, `MANIFEST_UNKNOWN`, `BLOB_UNKNOWN`, `TAG_INVALID`,
/// `DIGEST_INVALID`, `PAGINATION_NUMBER_INVALID`, `UNAUTHORIZED`, `DENIED`, `UNSUPPORTED`,
/// and for injected statuses `TOOMANYREQUESTS`, `UNAVAILABLE`, `UNKNOWN`. Every response
/// has `Docker-Distribution-API-Version: registry/2.0`.
///
/// ```
/// use imgsvc_testkit::fixture::{ImageBuilder, LayerBuilder};
/// use imgsvc_testkit::{RegistryConfig, TestRegistry, rawhttp};
///
/// let registry = TestRegistry::start_blocking(RegistryConfig::new())?;
/// let image = ImageBuilder::new().layer(LayerBuilder::new().file("a", b"a").build()?).build()?;
/// registry.push_image("library/demo", "latest", &image)?;
///
/// let response = rawhttp::get(&format!("{}/v2/library/demo/manifests/latest", registry.url()))?;
/// assert_eq!(response.status, 200);
/// assert_eq!(response.header("docker-content-digest"), Some(image.manifest_digest().to_string().as_str()));
/// assert_eq!(response.body, image.manifest().bytes().as_ref());
/// assert_eq!(registry.count(|r| r.path.ends_with("/manifests/latest")), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TestRegistry {
    shared: Arc<Shared>,
    addr: SocketAddr,
    redirect_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    runtime: Option<Runtime>,
}

/// Starting and stopping
impl TestRegistry {
    /// Starts the registry on the current tokio runtime.
    pub async fn start(config: RegistryConfig) -> Result<TestRegistry, Error> {
        let handle = Handle::try_current().map_err(|_| Error::NoRuntime)?;
        TestRegistry::launch(&handle, config, None)
    }

    /// Starts the registry on a runtime of its own (one worker thread), for sync tests.
    pub fn start_blocking(config: RegistryConfig) -> Result<TestRegistry, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("testkit-registry")
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let handle = runtime.handle().clone();
        TestRegistry::launch(&handle, config, Some(runtime))
    }

    fn launch(
        handle: &Handle,
        config: RegistryConfig,
        runtime: Option<Runtime>,
    ) -> Result<TestRegistry, Error> {
        let bind = || -> Result<(TcpListener, SocketAddr), Error> {
            let listener =
                std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(Error::Bind)?;
            listener.set_nonblocking(true).map_err(Error::Bind)?;
            let addr = listener.local_addr().map_err(Error::Bind)?;
            let _guard = handle.enter();
            Ok((TcpListener::from_std(listener).map_err(Error::Bind)?, addr))
        };
        let (primary, addr) = bind()?;
        let (redirect, redirect_addr) = bind()?;
        let shared = Arc::new(Shared {
            auth: config.auth,
            realm: format!("http://{addr}/token"),
            redirect_base: format!("http://{redirect_addr}"),
            store: Mutex::default(),
            faults: Mutex::new(
                config
                    .faults
                    .into_iter()
                    .map(|rule| RuleState {
                        rule,
                        hits: 0,
                        removed: false,
                    })
                    .collect(),
            ),
            log: Mutex::default(),
            token_log: Mutex::default(),
            tokens: Mutex::default(),
        });
        let (tx, rx) = oneshot::channel();
        let task = handle.spawn(serve(Arc::clone(&shared), primary, redirect, rx));
        Ok(TestRegistry {
            shared,
            addr,
            redirect_addr,
            shutdown: Some(tx),
            task: Some(task),
            runtime,
        })
    }

    /// Stops accepting, closes every connection, and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn serve(
    shared: Arc<Shared>,
    primary: TcpListener,
    redirect: TcpListener,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        let (accepted, listener) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = primary.accept() => (accepted, Listener::Registry),
            accepted = redirect.accept() => (accepted, Listener::Redirect),
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let Ok((stream, _)) = accepted else { continue };
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                let shared = Arc::clone(&shared);
                async move {
                    let (parts, body) = request.into_parts();
                    let body = if parts.method == http::Method::POST {
                        read_body(body, MAX_REQUEST_BODY).await
                    } else {
                        Vec::new()
                    };
                    let response = handler::handle(
                        &shared,
                        listener,
                        parts.method.as_str(),
                        parts.uri.path(),
                        parts.uri.query(),
                        &parts.headers,
                        &body,
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    connections.abort_all();
}

/// The most of a request body read (OAuth2 token forms); the rest is dropped.
const MAX_REQUEST_BODY: usize = 64 * 1024;

/// Reads up to `cap` bytes of a request body.
async fn read_body(mut body: hyper::body::Incoming, cap: usize) -> Vec<u8> {
    use http_body::Body as _;
    let mut out = Vec::new();
    while out.len() < cap {
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    let take = data.len().min(cap - out.len());
                    out.extend_from_slice(data.get(..take).unwrap_or_default());
                }
            }
            Some(Err(_)) | None => break,
        }
    }
    out
}

/// Access
impl TestRegistry {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:<port>`, the registry host in an image reference.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The token endpoint, `http://127.0.0.1:<port>/token` (served in bearer mode only).
    pub fn token_url(&self) -> String {
        self.shared.realm.clone()
    }

    /// The address of the second listener that redirected blobs go to.
    pub fn redirect_addr(&self) -> SocketAddr {
        self.redirect_addr
    }
}

/// Content
impl TestRegistry {
    /// Adds an image (layers, config, manifest) to `name` and tags it `tag`.
    pub fn push_image(&self, name: &str, tag: &str, image: &BuiltImage) -> Result<(), Error> {
        let digest = self.add_image(name, image)?;
        self.tag(name, tag, digest)
    }

    /// Adds an image to `name` without a tag; returns its manifest digest.
    pub fn add_image(&self, name: &str, image: &BuiltImage) -> Result<Digest, Error> {
        check_name(name)?;
        let mut store = lock(&self.shared.store);
        let repo = store.repo_mut(name);
        repo.blobs.extend(image.blobs());
        let manifest = image.manifest();
        repo.manifests.insert(
            manifest.digest(),
            Manifest {
                media_type: manifest.media_type().to_owned(),
                bytes: manifest.bytes().clone(),
            },
        );
        Ok(manifest.digest())
    }

    /// Adds an index with all its images to `name` and tags the index `tag`.
    pub fn push_index(&self, name: &str, tag: &str, index: &BuiltIndex) -> Result<(), Error> {
        let digest = self.add_index(name, index)?;
        self.tag(name, tag, digest)
    }

    /// Adds an index with all its images to `name` without a tag; returns the index digest.
    pub fn add_index(&self, name: &str, index: &BuiltIndex) -> Result<Digest, Error> {
        for image in index.images() {
            self.add_image(name, image)?;
        }
        let manifest = index.manifest();
        self.add_manifest(name, manifest.media_type(), manifest.bytes().clone())
    }

    /// Adds any bytes as a blob of `name`; returns their digest.
    pub fn add_blob(&self, name: &str, bytes: impl Into<Bytes>) -> Result<Digest, Error> {
        check_name(name)?;
        let bytes = bytes.into();
        let digest = Digest::from_bytes(&bytes);
        lock(&self.shared.store)
            .repo_mut(name)
            .blobs
            .insert(digest, bytes);
        Ok(digest)
    }

    /// Adds any bytes as a manifest of `name` served with `media_type`; returns their digest.
    pub fn add_manifest(
        &self,
        name: &str,
        media_type: &str,
        bytes: impl Into<Bytes>,
    ) -> Result<Digest, Error> {
        check_name(name)?;
        let bytes = bytes.into();
        let digest = Digest::from_bytes(&bytes);
        let manifest = Manifest {
            media_type: media_type.to_owned(),
            bytes,
        };
        lock(&self.shared.store)
            .repo_mut(name)
            .manifests
            .insert(digest, manifest);
        Ok(digest)
    }

    /// Points `tag` of `name` at the manifest `digest` (which must have been added).
    pub fn tag(&self, name: &str, tag: &str, digest: Digest) -> Result<(), Error> {
        check_name(name)?;
        if !content::valid_tag(tag) {
            return Err(Error::InvalidTag {
                tag: tag.to_owned(),
            });
        }
        let mut store = lock(&self.shared.store);
        let repo = store.repo_mut(name);
        if !repo.manifests.contains_key(&digest) {
            return Err(Error::UnknownManifest {
                name: name.to_owned(),
                digest,
            });
        }
        repo.tags.insert(tag.to_owned(), digest);
        Ok(())
    }

    /// Removes a tag; returns whether it existed.
    pub fn remove_tag(&self, name: &str, tag: &str) -> bool {
        let mut store = lock(&self.shared.store);
        store
            .repos
            .get_mut(name)
            .is_some_and(|repo| repo.tags.remove(tag).is_some())
    }

    /// Removes a blob (so that requests for it get `BLOB_UNKNOWN`); returns whether it existed.
    pub fn remove_blob(&self, name: &str, digest: Digest) -> bool {
        let mut store = lock(&self.shared.store);
        store
            .repos
            .get_mut(name)
            .is_some_and(|repo| repo.blobs.remove(&digest).is_some())
    }
}

fn check_name(name: &str) -> Result<(), Error> {
    if content::valid_name(name) {
        Ok(())
    } else {
        Err(Error::InvalidName {
            name: name.to_owned(),
        })
    }
}

/// Faults
impl TestRegistry {
    /// Adds a fault rule, effective from the next request. Rules are tried in the order
    /// added.
    pub fn add_fault(&self, rule: FaultRule) -> FaultId {
        let mut faults = lock(&self.shared.faults);
        faults.push(RuleState {
            rule,
            hits: 0,
            removed: false,
        });
        FaultId(faults.len() - 1)
    }

    /// How many times a rule has been applied.
    pub fn fault_hits(&self, id: FaultId) -> u64 {
        lock(&self.shared.faults).get(id.0).map_or(0, |s| s.hits)
    }

    /// Stops applying a rule (its hit count stays readable).
    pub fn remove_fault(&self, id: FaultId) {
        if let Some(state) = lock(&self.shared.faults).get_mut(id.0) {
            state.removed = true;
        }
    }

    /// Stops applying every rule.
    pub fn clear_faults(&self) {
        for state in lock(&self.shared.faults).iter_mut() {
            state.removed = true;
        }
    }
}

/// Tokens and the request log
impl TestRegistry {
    /// Ends the validity of every token issued so far (no waiting for expiry in tests).
    pub fn expire_tokens(&self) {
        lock(&self.shared.tokens).expire_all();
    }

    /// Every token request, in order.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        lock(&self.shared.token_log).clone()
    }

    /// Every request answered, in order of the responses.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log)
            .iter()
            .map(log::Entry::snapshot)
            .collect()
    }

    /// How many requests satisfy `predicate`.
    pub fn count(&self, predicate: impl Fn(&RequestRecord) -> bool) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|e| predicate(&e.snapshot()))
            .count()
    }

    /// Body bytes of successful responses (200, 206) for blob `digest` on either listener,
    /// all requests together (so a blob downloaded twice counts twice).
    pub fn bytes_sent_for(&self, digest: Digest) -> u64 {
        self.requests()
            .iter()
            .filter(|r| r.kind == RequestKind::Blob && r.digest == Some(digest))
            .filter(|r| matches!(r.status, 200 | 206))
            .map(|r| r.bytes_sent)
            .sum()
    }

    /// Forgets the requests and token requests recorded so far.
    pub fn clear_log(&self) {
        lock(&self.shared.log).clear();
        lock(&self.shared.token_log).clear();
    }
}
