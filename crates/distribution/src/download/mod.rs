//! The layer download manager: downloads a pull's missing layers, at most N at once, one
//! shared transfer per blob digest whatever pulls want it, with retries that resume, and
//! registers the layers in chain order.
//!
//! A layer whose parent is already in the layer store when its download starts streams
//! straight from the network through the digest check and the decompressor into the layer
//! store: nothing is written twice. A layer whose parent is still on its way is spooled
//! to a temporary file (verified) and registered as soon as its parent is; this is what
//! lets downloads overlap while registration keeps chain order.

mod pipe;
mod retry;
mod spool;
mod transfer;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use imgsvc_digest::Digest;
use imgsvc_layerstore::{ChainId, DiffId, Layer, LayerStore};
use tokio::sync::Semaphore;

use crate::client::BlobStream;
use crate::error::Error;
use crate::progress::{Action, Event, Progress};
pub(crate) use retry::{delay as retry_delay, is_transient};
use transfer::{Output, Transfer};

/// Choices of a [`LayerDownloadManager`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DownloadOptions {
    /// Downloads running at once (Docker's `--max-concurrent-downloads`, default 3); the
    /// rest report "Waiting".
    pub max_concurrent: usize,
    /// Attempts per blob, the first included (Docker's `--max-download-attempts`, 5).
    pub max_attempts: u32,
    /// The first wait before a retry; doubled for each further one (a registry's
    /// `Retry-After` wins).
    pub retry_delay: Duration,
}

impl Default for DownloadOptions {
    fn default() -> DownloadOptions {
        DownloadOptions {
            max_concurrent: 3,
            max_attempts: 5,
            retry_delay: Duration::from_millis(250),
        }
    }
}

/// One layer to download: the blob and what it must turn into.
pub trait DownloadDescriptor: Send + Sync {
    /// The blob's digest (what transfers are shared by).
    fn digest(&self) -> Digest;

    /// The blob's size from the manifest, when known.
    fn size(&self) -> Option<u64>;

    /// The blob's media type (a hint for decompression; the bytes decide).
    fn media_type(&self) -> &str;

    /// The DiffID the uncompressed layer must have (from the image config).
    fn diff_id(&self) -> DiffId;

    /// A stream of the blob that has sent nothing yet.
    fn download(&self) -> Result<BlobStream, Error>;

    /// The progress ID: the first 12 hex characters of the digest.
    fn id(&self) -> String {
        self.digest().encoded().as_str().chars().take(12).collect()
    }

    /// Docker's transfer key, `v2:<digest>`.
    fn key(&self) -> String {
        format!("v2:{}", self.digest())
    }

    /// Called once the layer is in the layer store (Docker records the blob↔DiffID
    /// metadata here).
    fn registered(&self, _diff_id: DiffId) {}

    /// Called when the manager is done with the descriptor, whatever happened.
    fn close(&self) {}
}

/// The layers of a finished download, in order, each held (a reference in the layer store)
/// until [`Downloaded::release`].
#[derive(Debug)]
#[must_use = "the layers stay referenced until released"]
pub struct Downloaded {
    layers: Vec<Layer>,
    store: Arc<LayerStore>,
}

/// Access
impl Downloaded {
    /// The layers, bottom first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The top layer's ChainID (`None` for an image without layers).
    pub fn top(&self) -> Option<ChainId> {
        self.layers.last().map(Layer::chain_id)
    }

    /// Gives back every reference (after the image store took its own).
    pub fn release(self) -> Result<(), Error> {
        release_all(&self.store, self.layers)
    }
}

fn release_all(store: &LayerStore, layers: impl IntoIterator<Item = Layer>) -> Result<(), Error> {
    let mut first = None;
    for layer in layers {
        if let Err(err) = store.release(layer) {
            first.get_or_insert(err);
        }
    }
    first.map_or(Ok(()), |err| Err(err.into()))
}

/// Downloads layers for any number of concurrent pulls; cheap to clone (shared state).
///
/// See the [module docs](self) for how layers flow.
#[derive(Debug, Clone)]
pub struct LayerDownloadManager {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) layers: Arc<LayerStore>,
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) spool_dir: PathBuf,
    pub(crate) options: DownloadOptions,
    transfers: Mutex<HashMap<Digest, Weak<Transfer>>>,
}

/// Construction
impl LayerDownloadManager {
    /// A manager registering into `layers`, spooling layers that wait for their parent in
    /// `spool_dir` (same filesystem as the store's temporary files, emptied by the owner at
    /// open).
    pub fn new(
        layers: Arc<LayerStore>,
        spool_dir: impl Into<PathBuf>,
        options: DownloadOptions,
    ) -> LayerDownloadManager {
        LayerDownloadManager {
            inner: Arc::new(Inner {
                slots: Arc::new(Semaphore::new(options.max_concurrent.max(1))),
                layers,
                spool_dir: spool_dir.into(),
                options,
                transfers: Mutex::new(HashMap::new()),
            }),
        }
    }
}

/// Downloading
impl LayerDownloadManager {
    /// The layer store layers go to.
    pub fn layer_store(&self) -> &Arc<LayerStore> {
        &self.inner.layers
    }

    /// Makes every layer of `descriptors` (bottom first) present in the layer store and
    /// returns them held. Layers already there say "Already exists" and are not
    /// downloaded, wherever they are in the chain. Dropping the future cancels: downloads
    /// no other pull watches stop, and no partial layer stays behind.
    pub async fn download(
        &self,
        descriptors: &[Arc<dyn DownloadDescriptor>],
        progress: &Arc<dyn Progress>,
    ) -> Result<Downloaded, Error> {
        let mut held = Held {
            store: Arc::clone(&self.inner.layers),
            layers: Vec::new(),
        };
        let mut transfers = Vec::new();
        let result = self
            .download_into(descriptors, progress, &mut held, &mut transfers)
            .await;
        if result.is_err() {
            // Stop what only this pull wanted and wait until its extractors let go of their
            // files: a failed pull leaves no partial layer behind.
            let _ = release_all(&held.store, std::mem::take(&mut held.layers));
            for transfer in transfers.drain(..).flatten() {
                transfer.cancel_and_wait(CLEANUP_LIMIT).await;
            }
        }
        for descriptor in descriptors {
            descriptor.close();
        }
        result?;
        Ok(Downloaded {
            layers: std::mem::take(&mut held.layers),
            store: Arc::clone(&self.inner.layers),
        })
    }

    async fn download_into(
        &self,
        descriptors: &[Arc<dyn DownloadDescriptor>],
        progress: &Arc<dyn Progress>,
        held: &mut Held,
        transfers: &mut Vec<Option<Arc<Transfer>>>,
    ) -> Result<(), Error> {
        let diff_ids: Vec<DiffId> = descriptors.iter().map(|d| d.diff_id()).collect();
        let mut chains = Vec::with_capacity(diff_ids.len());
        for i in 1..=diff_ids.len() {
            chains.push(
                ChainId::of(diff_ids.get(..i).unwrap_or_default()).ok_or_else(|| {
                    Error::Internal {
                        reason: "a chain of no layers".to_owned(),
                    }
                })?,
            );
        }
        // What exists already, anywhere in the chain.
        let mut present = Vec::with_capacity(descriptors.len());
        for (descriptor, chain) in descriptors.iter().zip(&chains) {
            let layer = self.inner.layers.try_get(*chain)?;
            if layer.is_some() {
                progress.event(Event::layer(
                    descriptor.id(),
                    Action::AlreadyExists,
                    0,
                    None,
                ));
            } else {
                progress.event(Event::layer(
                    descriptor.id(),
                    Action::PullingFsLayer,
                    0,
                    None,
                ));
            }
            present.push(layer);
        }
        // Start (or join) a transfer for every missing layer.
        for (i, descriptor) in descriptors.iter().enumerate() {
            let parent = i.checked_sub(1).and_then(|p| chains.get(p).copied());
            let transfer = match present.get(i) {
                Some(Some(_)) => None,
                _ => Some(self.transfer(descriptor, parent, progress)),
            };
            transfers.push(transfer);
        }
        // Register in chain order.
        for (i, descriptor) in descriptors.iter().enumerate() {
            let parent = i.checked_sub(1).and_then(|p| chains.get(p).copied());
            let chain = chains.get(i).copied().ok_or_else(|| Error::Internal {
                reason: "chain index".to_owned(),
            })?;
            let layer = match (
                present.get_mut(i).and_then(Option::take),
                transfers.get(i).and_then(Option::as_ref),
            ) {
                (Some(layer), _) => layer,
                (None, Some(transfer)) => {
                    let output = transfer.wait().await?;
                    let layer = transfer::register(
                        &self.inner,
                        descriptor,
                        &output,
                        parent,
                        chain,
                        progress,
                    )
                    .await?;
                    progress.event(Event::layer(descriptor.id(), Action::PullComplete, 0, None));
                    layer
                }
                (None, None) => {
                    return Err(Error::Internal {
                        reason: "a layer neither present nor downloading".to_owned(),
                    });
                }
            };
            descriptor.registered(layer.diff_id());
            held.layers.push(layer);
        }
        Ok(())
    }

    /// Joins the live transfer of `descriptor`'s blob, or starts one.
    fn transfer(
        &self,
        descriptor: &Arc<dyn DownloadDescriptor>,
        parent: Option<ChainId>,
        progress: &Arc<dyn Progress>,
    ) -> Arc<Transfer> {
        let digest = descriptor.digest();
        let mut transfers = self
            .inner
            .transfers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        transfers.retain(|_, weak| weak.strong_count() > 0);
        if let Some(existing) = transfers.get(&digest).and_then(Weak::upgrade)
            && !existing.is_failed()
        {
            existing.watch(Arc::clone(progress));
            return existing;
        }
        let transfer = Transfer::start(
            Arc::clone(&self.inner),
            Arc::clone(descriptor),
            parent,
            Arc::clone(progress),
        );
        transfers.insert(digest, Arc::downgrade(&transfer));
        transfer
    }
}

/// How long a failed download waits for its extractors to clean up.
const CLEANUP_LIMIT: Duration = Duration::from_secs(60);

/// Layers taken so far; released if the download fails or is dropped.
struct Held {
    store: Arc<LayerStore>,
    layers: Vec<Layer>,
}

impl Drop for Held {
    fn drop(&mut self) {
        let _ = release_all(&self.store, std::mem::take(&mut self.layers));
    }
}

/// What a transfer produced, shared with the pulls that wait for it.
pub(crate) type Shared = Result<Arc<Output>, Arc<Error>>;
