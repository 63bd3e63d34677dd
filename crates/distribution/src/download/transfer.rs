//! One blob's download, shared by every pull that needs it: progress broadcast to all of
//! them, cancelled when the last one leaves.

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Instant;

use bytes::Bytes;
use imgsvc_layerstore::{ChainId, Layer, LayerStore, PreparedLayer};
use tokio::sync::watch;

use super::pipe::{Piece, VerifiedEnd, pipe};
use super::retry::{delay, is_transient};
use super::spool::Spool;
use super::{DownloadDescriptor, Inner, Shared};
use crate::client::BlobStream;
use crate::decompress::{self, Compression};
use crate::error::Error;
use crate::progress::{Action, Event, Progress, ProgressReader, RateLimiter};

/// What a finished transfer holds.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per transfer, never moved around"
)]
pub(crate) enum Output {
    /// The layer was streamed straight into the layer store on the parent the first pull
    /// asked for; the reference is given back when the last waiter is gone.
    Registered {
        layer: Mutex<Option<Layer>>,
        chain: ChainId,
        store: Arc<LayerStore>,
    },
    /// The verified blob on disk.
    Spooled(Spool),
    /// The layer extracted into its own directory, waiting to be committed on a parent
    /// (drivers that apply layers without their parent: overlay2).
    Prepared(Mutex<PreparedState>),
}

/// Where a prepared layer is.
#[derive(Debug)]
pub(crate) enum PreparedState {
    /// Extracted, not committed yet.
    Pending(PreparedLayer),
    /// Committed as this chain by the first pull that needed it.
    Committed(ChainId),
    /// Its commit failed (the pull that tried reports why).
    Failed,
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Output::Registered { layer, store, .. } = self
            && let Some(layer) = layer
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
        {
            let _ = store.release(layer);
        }
    }
}

/// Progress fan-out: every watcher gets every event; a late one first gets the last.
#[derive(Default)]
struct Broadcast {
    watchers: Mutex<Vec<Weak<dyn Progress>>>,
    last: Mutex<Option<Event>>,
}

impl Broadcast {
    fn send(&self, event: Event) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(event.clone());
        let watchers: Vec<_> = {
            let mut list = self.watchers.lock().unwrap_or_else(PoisonError::into_inner);
            list.retain(|w| w.strong_count() > 0);
            list.iter().filter_map(Weak::upgrade).collect()
        };
        for watcher in watchers {
            watcher.event(event.clone());
        }
    }

    fn add(&self, watcher: &Arc<dyn Progress>) {
        if let Some(last) = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            watcher.event(last);
        }
        self.watchers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::downgrade(watcher));
    }
}

/// A running (or finished) download of one blob.
pub(crate) struct Transfer {
    broadcast: Arc<Broadcast>,
    result: watch::Receiver<Option<Shared>>,
    task: tokio::task::AbortHandle,
    /// Held (strongly) by the task and by its blocking extractor: the transfer has let go
    /// of every file once nothing holds it.
    work: Weak<()>,
}

impl std::fmt::Debug for Transfer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transfer").finish_non_exhaustive()
    }
}

impl Drop for Transfer {
    fn drop(&mut self) {
        // The last watcher left: stop the download (a finished task ignores this).
        self.task.abort();
    }
}

impl Transfer {
    pub(crate) fn start(
        inner: Arc<Inner>,
        descriptor: Arc<dyn DownloadDescriptor>,
        parent: Option<ChainId>,
        progress: Arc<dyn Progress>,
    ) -> Arc<Transfer> {
        let broadcast = Arc::new(Broadcast::default());
        broadcast.add(&progress);
        let (tx, rx) = watch::channel(None);
        let task_broadcast = Arc::clone(&broadcast);
        let work = Arc::new(());
        let weak = Arc::downgrade(&work);
        let task = tokio::spawn(async move {
            let result = run(&inner, descriptor.as_ref(), parent, &task_broadcast, &work).await;
            let _ = tx.send(Some(result.map(Arc::new).map_err(Arc::new)));
        });
        Arc::new(Transfer {
            broadcast,
            result: rx,
            task: task.abort_handle(),
            work: weak,
        })
    }

    /// Stops the transfer if no other pull watches it, and waits (at most `limit`) until
    /// its task and extractor are gone, so that no file of it is left behind.
    pub(crate) async fn cancel_and_wait(self: Arc<Transfer>, limit: std::time::Duration) {
        if Arc::strong_count(&self) > 1 {
            return;
        }
        self.task.abort();
        let deadline = std::time::Instant::now() + limit;
        while self.work.strong_count() > 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Adds a pull's progress sink.
    pub(crate) fn watch(&self, progress: Arc<dyn Progress>) {
        self.broadcast.add(&progress);
    }

    /// Whether the transfer ended in failure (a new pull starts a fresh one).
    pub(crate) fn is_failed(&self) -> bool {
        matches!(&*self.result.borrow(), Some(Err(_)))
    }

    /// The transfer's output, once it is there.
    pub(crate) async fn wait(&self) -> Result<Arc<Output>, Error> {
        let mut rx = self.result.clone();
        loop {
            if let Some(result) = rx.borrow_and_update().clone() {
                return result.map_err(Error::Shared);
            }
            if rx.changed().await.is_err() {
                return match rx.borrow().clone() {
                    Some(result) => result.map_err(Error::Shared),
                    None => Err(Error::Internal {
                        reason: "a layer download ended without a result".to_owned(),
                    }),
                };
            }
        }
    }
}

async fn run(
    inner: &Inner,
    descriptor: &dyn DownloadDescriptor,
    parent: Option<ChainId>,
    broadcast: &Broadcast,
    work: &Arc<()>,
) -> Result<Output, Error> {
    let id = descriptor.id();
    let _permit = match Arc::clone(&inner.slots).try_acquire_owned() {
        Ok(permit) => permit,
        Err(_) => {
            broadcast.send(Event::layer(id.clone(), Action::Waiting, 0, None));
            Arc::clone(&inner.slots)
                .acquire_owned()
                .await
                .map_err(|_| Error::Cancelled)?
        }
    };
    let parent_ready = match parent {
        None => true,
        Some(parent) => match inner.layers.try_get(parent)? {
            Some(layer) => {
                inner.layers.release(layer)?;
                true
            }
            None => false,
        },
    };
    let mut stream = descriptor.download()?;
    if inner.layers.supports_prepare() {
        // Layers extract in parallel into their own directories; committed in order later.
        stream_into_store(
            inner,
            descriptor,
            Target::Prepare,
            &mut stream,
            broadcast,
            work,
        )
        .await
    } else if parent_ready {
        stream_into_store(
            inner,
            descriptor,
            Target::Register(parent),
            &mut stream,
            broadcast,
            work,
        )
        .await
    } else {
        spool(inner, descriptor, &mut stream, broadcast).await
    }
}

/// Where a streamed layer goes.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// Registered on this parent (which exists).
    Register(Option<ChainId>),
    /// Prepared without a parent.
    Prepare,
}

/// Network -> digest check -> decompressor -> layer store, with the register running on a
/// blocking thread fed through a bounded pipe.
async fn stream_into_store(
    inner: &Inner,
    descriptor: &dyn DownloadDescriptor,
    target: Target,
    stream: &mut BlobStream,
    broadcast: &Broadcast,
    work: &Arc<()>,
) -> Result<Output, Error> {
    let digest = descriptor.digest();
    let diff_id = descriptor.diff_id();
    let hint = Compression::from_media_type(descriptor.media_type());
    let (tx, reader) = pipe();
    let store = Arc::clone(&inner.layers);
    let work = Arc::clone(work);
    let register = tokio::task::spawn_blocking(move || {
        let _work = work;
        let decoded = decompress::decoder(reader.clone(), hint, digest)?;
        let tar = VerifiedEnd {
            inner: decoded,
            pipe: reader,
        };
        let registered = match target {
            Target::Register(parent) => {
                store
                    .register_with_expected(tar, parent, diff_id)
                    .map(|layer| Output::Registered {
                        chain: layer.chain_id(),
                        layer: Mutex::new(Some(layer)),
                        store: Arc::clone(&store),
                    })
            }
            Target::Prepare => store
                .prepare(tar, Some(diff_id))
                .map(|prepared| Output::Prepared(Mutex::new(PreparedState::Pending(prepared)))),
        };
        registered.map_err(|source| Error::Register {
            digest,
            source: Box::new(source),
        })
    });
    let fed = feed(inner, descriptor, stream, broadcast, |bytes| {
        let tx = tx.clone();
        async move { tx.send(Piece::Data(bytes)).await.is_ok() }
    })
    .await;
    match &fed {
        Ok(()) => {
            let _ = tx.send(Piece::End).await;
        }
        Err(err) => {
            let _ = tx.send(Piece::Failed(err.to_string())).await;
        }
    }
    drop(tx);
    let registered = register.await.map_err(|e| Error::Internal {
        reason: format!("the layer register task failed: {e}"),
    })?;
    fed?;
    let output = registered?;
    let id = descriptor.id();
    broadcast.send(Event::layer(id.clone(), Action::VerifyingChecksum, 0, None));
    broadcast.send(Event::layer(id, Action::DownloadComplete, 0, None));
    Ok(output)
}

/// Network -> digest check -> a spool file.
async fn spool(
    inner: &Inner,
    descriptor: &dyn DownloadDescriptor,
    stream: &mut BlobStream,
    broadcast: &Broadcast,
) -> Result<Output, Error> {
    let digest = descriptor.digest();
    let spool = Arc::new(Mutex::new(Spool::create(
        &inner.spool_dir,
        digest.encoded().as_str(),
    )?));
    let failed: Arc<Mutex<Option<Error>>> = Arc::default();
    let fed = feed(inner, descriptor, stream, broadcast, |bytes| {
        let spool = Arc::clone(&spool);
        let failed = Arc::clone(&failed);
        async move {
            let mut file = spool.lock().unwrap_or_else(PoisonError::into_inner);
            match file.write(&bytes) {
                Ok(()) => true,
                Err(err) => {
                    *failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(err);
                    false
                }
            }
        }
    })
    .await;
    if let Some(err) = failed.lock().unwrap_or_else(PoisonError::into_inner).take() {
        return Err(err);
    }
    fed?;
    let id = descriptor.id();
    broadcast.send(Event::layer(id.clone(), Action::VerifyingChecksum, 0, None));
    broadcast.send(Event::layer(id, Action::DownloadComplete, 0, None));
    let spool = Arc::try_unwrap(spool)
        .map_err(|_| Error::Internal {
            reason: "the spool file is still shared".to_owned(),
        })?
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    Ok(Output::Spooled(spool))
}

/// Reads the blob to its verified end, handing each piece to `sink` (which says whether
/// to go on), retrying transient failures with growing waits and resuming where the bytes
/// stopped.
async fn feed<F, Fut>(
    inner: &Inner,
    descriptor: &dyn DownloadDescriptor,
    stream: &mut BlobStream,
    broadcast: &Broadcast,
    sink: F,
) -> Result<(), Error>
where
    F: Fn(Bytes) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let id = descriptor.id();
    let mut attempt = 1;
    let mut started = false;
    let mut limiter = RateLimiter::new(descriptor.size());
    loop {
        let step = if started {
            stream.chunk().await
        } else {
            stream.resume().await.map(|()| {
                started = true;
                None
            })
        };
        let err = match step {
            Ok(Some(bytes)) => {
                if !sink(bytes).await {
                    return Err(Error::Cancelled);
                }
                let current = stream.offset();
                if limiter.update(current, Instant::now()) {
                    broadcast.send(Event::layer(
                        id.clone(),
                        Action::Downloading,
                        current,
                        stream.size(),
                    ));
                }
                continue;
            }
            Ok(None) if started && stream.is_finished() => return Ok(()),
            Ok(None) => continue,
            Err(err) => err,
        };
        if !is_transient(&err) || attempt >= inner.options.max_attempts {
            return Err(Error::DownloadFailed {
                digest: descriptor.digest(),
                attempts: attempt,
                source: Box::new(err),
            });
        }
        let wait = delay(&err, attempt, inner.options.retry_delay);
        broadcast.send(Event::layer(
            id.clone(),
            Action::Retrying {
                seconds: wait.as_secs_f64().ceil() as u64,
            },
            0,
            None,
        ));
        tokio::time::sleep(wait).await;
        attempt += 1;
        started = false;
    }
}

/// Puts the transfer's layer into the layer store on `parent` (chain `chain`), unless it is
/// there already: from the spool file, or replayed from the layer the transfer registered
/// on another parent.
pub(crate) async fn register(
    inner: &Inner,
    descriptor: &Arc<dyn DownloadDescriptor>,
    output: &Arc<Output>,
    parent: Option<ChainId>,
    chain: ChainId,
    progress: &Arc<dyn Progress>,
) -> Result<Layer, Error> {
    let store = Arc::clone(&inner.layers);
    let output = Arc::clone(output);
    let digest = descriptor.digest();
    let diff_id = descriptor.diff_id();
    let hint = Compression::from_media_type(descriptor.media_type());
    let id = descriptor.id();
    let size = descriptor.size();
    let progress = Arc::clone(progress);
    tokio::task::spawn_blocking(move || {
        if let Some(layer) = store.try_get(chain)? {
            return Ok(layer);
        }
        let replay = |other: ChainId| -> Result<Layer, imgsvc_layerstore::Error> {
            let source = store.get(other)?;
            let result = store
                .tar_stream(&source)
                .and_then(|tar| store.register_with_expected(tar, parent, diff_id));
            store.release(source)?;
            result
        };
        let registered = match &*output {
            Output::Registered { chain: other, .. } => replay(*other),
            Output::Prepared(state) => {
                let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
                match std::mem::replace(&mut *state, PreparedState::Failed) {
                    PreparedState::Pending(prepared) => {
                        let committed = store.commit_prepared(prepared, parent);
                        if let Ok(layer) = &committed {
                            *state = PreparedState::Committed(layer.chain_id());
                        }
                        committed
                    }
                    PreparedState::Committed(other) => {
                        *state = PreparedState::Committed(other);
                        drop(state);
                        replay(other)
                    }
                    PreparedState::Failed => {
                        return Err(Error::Internal {
                            reason: format!("layer {digest} failed to commit for another pull"),
                        });
                    }
                }
            }
            Output::Spooled(spool) => {
                let file =
                    ProgressReader::new(spool.open()?, progress, id, Action::Extracting, size);
                let decoded = decompress::decoder(file, hint, digest)?;
                store.register_with_expected(decoded, parent, diff_id)
            }
        };
        registered.map_err(|source| Error::Register {
            digest,
            source: Box::new(source),
        })
    })
    .await
    .map_err(|e| Error::Internal {
        reason: format!("the layer register task failed: {e}"),
    })?
}
