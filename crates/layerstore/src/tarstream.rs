//! Reproducing a layer's tar, byte for byte, from its tar-split metadata and its files, and
//! verifying it against the DiffID while it streams.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::os::fd::OwnedFd;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

use imgsvc_digest::VerifyingReader;
use rustix::fs::{Mode, OFlags, ResolveFlags};

use crate::resolve::LocalPath;
use crate::tarsplit::{self, FileEntry, Unpacker};
use crate::{DiffId, Error, Layer, LayerStore};

/// A layer's tar being rebuilt; read it to the end. A read fails (with
/// [`Error::LayerDataCorrupt`] inside the `io::Error`) if the rebuilt bytes are not the
/// layer's DiffID: a file of the layer was changed on disk.
///
/// The tar is rebuilt on a worker thread (reading files and checking their CRCs) while the
/// reading thread verifies the DiffID, so the two costs overlap; the two threads exchange a
/// few chunks through a bounded channel, and dropping the stream stops the worker.
///
/// ```
/// # let root = tempfile::tempdir()?;
/// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
/// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
/// # fn tar_of(name: &str, data: &[u8]) -> std::io::Result<Vec<u8>> {
/// #     let mut builder = tar::Builder::new(Vec::new());
/// #     let mut header = tar::Header::new_ustar();
/// #     header.set_size(data.len() as u64);
/// #     header.set_mode(0o644);
/// #     header.set_cksum();
/// #     builder.append_data(&mut header, name, data)?;
/// #     builder.into_inner()
/// # }
/// use std::io::Read;
/// let tar = tar_of("a", b"1")?;
/// let layer = store.register(&tar[..], None)?;
/// let mut rebuilt = Vec::new();
/// store.tar_stream(&layer)?.read_to_end(&mut rebuilt)?;
/// assert_eq!(rebuilt, tar);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TarStream {
    inner: VerifyingReader<Chunks>,
    diff_id: DiffId,
}

impl std::fmt::Debug for TarStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TarStream")
            .field("diff_id", &self.diff_id)
            .finish()
    }
}

impl Read for TarStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|err| {
            if matches!(
                imgsvc_digest::Error::from_io(&err),
                Some(imgsvc_digest::Error::Mismatch { .. })
            ) {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    Error::LayerDataCorrupt {
                        diff_id: self.diff_id,
                    },
                )
            } else {
                err
            }
        })
    }
}

/// How many bytes the worker hands over at a time, and how many chunks may wait.
pub(crate) const CHUNK: usize = 256 << 10;
const CHUNKS_IN_FLIGHT: usize = 4;

/// The reading end of the worker's channel.
pub(crate) struct Chunks {
    reader: ChunkReader,
    worker: Option<JoinHandle<()>>,
}

/// Reads the chunks a producer sends through a channel, in order; the producer hanging up
/// is the end of the stream, and an error it sends is the last read.
pub(crate) struct ChunkReader {
    receiver: Option<Receiver<io::Result<Vec<u8>>>>,
    /// Where read chunks go back to the producer, to be filled again.
    recycle: Sender<Vec<u8>>,
    current: Vec<u8>,
    offset: usize,
}

/// The producing end of a chunk pipe: hands out empty buffers (used ones coming back from
/// the reader, so the same few buffers circulate and nothing is allocated or zeroed per
/// chunk) and sends filled ones.
pub(crate) struct ChunkSender {
    sender: SyncSender<io::Result<Vec<u8>>>,
    recycled: Receiver<Vec<u8>>,
}

/// A bounded pipe of chunks from a producer thread to a reader.
pub(crate) fn chunk_pipe() -> (ChunkSender, ChunkReader) {
    let (sender, receiver) = sync_channel(CHUNKS_IN_FLIGHT);
    let (recycle, recycled) = channel();
    (
        ChunkSender { sender, recycled },
        ChunkReader {
            receiver: Some(receiver),
            recycle,
            current: Vec::new(),
            offset: 0,
        },
    )
}

impl ChunkSender {
    /// An empty buffer with room for a chunk.
    pub(crate) fn buffer(&self) -> Vec<u8> {
        match self.recycled.try_recv() {
            Ok(mut buffer) => {
                buffer.clear();
                buffer
            }
            Err(_) => Vec::with_capacity(CHUNK),
        }
    }

    /// A buffer of exactly `CHUNK` bytes to read into (zeroed only when newly allocated).
    pub(crate) fn read_buffer(&self) -> Vec<u8> {
        match self.recycled.try_recv() {
            Ok(mut buffer) => {
                buffer.resize(CHUNK, 0);
                buffer
            }
            Err(_) => vec![0; CHUNK],
        }
    }

    /// Sends a chunk or the error that ends the stream; fails if the reader went away.
    pub(crate) fn send(&self, chunk: io::Result<Vec<u8>>) -> Result<(), ReaderGone> {
        self.sender.send(chunk).map_err(|_| ReaderGone)
    }
}

/// The reader of a chunk pipe hung up.
#[derive(Debug)]
pub(crate) struct ReaderGone;

impl Chunks {
    /// Starts a worker that reads `source` and sends it in chunks.
    fn spawn(mut source: impl Read + Send + 'static) -> Chunks {
        let (sender, reader) = chunk_pipe();
        let worker = std::thread::spawn(move || {
            loop {
                let mut chunk = sender.read_buffer();
                let mut filled = 0;
                let result = loop {
                    match source.read(chunk.get_mut(filled..).unwrap_or_default()) {
                        Ok(0) => break Ok(true),
                        Ok(n) => {
                            filled += n;
                            if filled == chunk.len() {
                                break Ok(false);
                            }
                        }
                        Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                        Err(err) => break Err(err),
                    }
                };
                chunk.truncate(filled);
                match result {
                    Ok(done) => {
                        if !chunk.is_empty() && sender.send(Ok(chunk)).is_err() {
                            return; // the reader went away
                        }
                        if done {
                            return;
                        }
                    }
                    Err(err) => {
                        let _ = sender.send(Err(err));
                        return;
                    }
                }
            }
        });
        Chunks {
            reader,
            worker: Some(worker),
        }
    }
}

impl Chunks {
    /// Starts a worker that runs `produce`, whose writes become this reader's bytes; an error
    /// it returns is the reader's last read.
    pub(crate) fn spawn_writer(
        produce: impl FnOnce(&mut dyn std::io::Write) -> io::Result<()> + Send + 'static,
    ) -> Chunks {
        let (sender, reader) = chunk_pipe();
        let worker = std::thread::spawn(move || {
            let mut writer = ChannelWriter {
                buffer: sender.buffer(),
                sender,
            };
            let result = produce(&mut writer).and_then(|()| writer.flush_chunk());
            if let Err(err) = result {
                let _ = writer.sender.send(Err(err));
            }
        });
        Chunks {
            reader,
            worker: Some(worker),
        }
    }
}

/// The writing end: fills chunks and sends them.
struct ChannelWriter {
    sender: ChunkSender,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn flush_chunk(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, self.sender.buffer());
        self.sender
            .send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the reader went away"))
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = CHUNK.saturating_sub(self.buffer.len());
        let n = room.min(buf.len());
        self.buffer
            .extend_from_slice(buf.get(..n).unwrap_or_default());
        if self.buffer.len() >= CHUNK {
            self.flush_chunk()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.offset >= self.current.len() {
            let Some(receiver) = &self.receiver else {
                return Ok(0);
            };
            match receiver.recv() {
                Ok(Ok(chunk)) => {
                    let used = std::mem::replace(&mut self.current, chunk);
                    if used.capacity() >= CHUNK {
                        // The producer may have finished already: then it is simply freed.
                        let _ = self.recycle.send(used);
                    }
                    self.offset = 0;
                }
                Ok(Err(err)) => {
                    self.receiver = None;
                    return Err(err);
                }
                Err(_) => {
                    // The producer finished and hung up: the end of the stream.
                    self.receiver = None;
                    return Ok(0);
                }
            }
        }
        let available = self.current.get(self.offset..).unwrap_or_default();
        let n = available.len().min(buf.len());
        buf.get_mut(..n)
            .unwrap_or_default()
            .copy_from_slice(available.get(..n).unwrap_or_default());
        self.offset += n;
        Ok(n)
    }
}

impl Drop for Chunks {
    fn drop(&mut self) {
        // Hanging up makes the worker's next send fail, so it stops; wait for it so no thread
        // outlives the stream.
        self.reader.receiver = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// Tar streams
impl LayerStore {
    /// The layer's original tar, rebuilt byte for byte and verified against its DiffID as it
    /// streams.
    ///
    /// ```
    /// # let root = tempfile::tempdir()?;
    /// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
    /// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
    /// # fn tar_of(name: &str, data: &[u8]) -> std::io::Result<Vec<u8>> {
    /// #     let mut builder = tar::Builder::new(Vec::new());
    /// #     let mut header = tar::Header::new_ustar();
    /// #     header.set_size(data.len() as u64);
    /// #     header.set_mode(0o644);
    /// #     header.set_cksum();
    /// #     builder.append_data(&mut header, name, data)?;
    /// #     builder.into_inner()
    /// # }
    /// use std::io::Read;
    /// let layer = store.register(&tar_of("a", b"1")?[..], None)?;
    /// // A file changed on disk behind the store's back: the stream fails instead of lying.
    /// let files = root.path().join("vfs/dir");
    /// let dir = std::fs::read_dir(&files)?.next().ok_or("no layer directory")??.path();
    /// std::fs::write(dir.join("a"), b"2")?;
    /// let mut out = Vec::new();
    /// assert!(store.tar_stream(&layer)?.read_to_end(&mut out).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tar_stream(&self, layer: &Layer) -> Result<TarStream, Error> {
        let cache_id = self.cache_id(layer.chain_id())?;
        let dir = self.driver().diff_dir(&cache_id)?;
        let root: OwnedFd = rustix::fs::open(
            &dir,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|err| Error::io("open", &dir)(err.into()))?;
        let metadata = self.db().open_tar_split(layer.chain_id())?;
        let entries = Unpacker::new_gzip(BufReader::with_capacity(64 << 10, metadata));
        // Contents asked for in order of the entries with data; a stashed one comes from the
        // stash (it was overwritten or removed later in the same layer).
        let stash = self.db().stash_dir(layer.chain_id());
        let has_stash = stash.is_dir();
        let mut ordinal = 0u64;
        let open_file = move |file: &FileEntry| {
            let this = ordinal;
            ordinal += 1;
            if has_stash {
                match File::open(stash.join(this.to_string())) {
                    Ok(kept) => return Ok(kept),
                    Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                    Err(err) => return Err(err),
                }
            }
            open_in_layer(&root, file)
        };
        let assembled = tarsplit::assemble(entries, open_file);
        Ok(TarStream {
            inner: VerifyingReader::new(Chunks::spawn(assembled), layer.diff_id().digest()),
            diff_id: layer.diff_id(),
        })
    }
}

/// Opens a file of the layer by its tar name, resolved inside the layer's directory.
fn open_in_layer(root: &OwnedFd, file: &FileEntry) -> io::Result<File> {
    let path = match LocalPath::clean(&file.name) {
        Ok(Some(path)) => path,
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the tar-split metadata names {:?}, which is not in the layer",
                    String::from_utf8_lossy(&file.name)
                ),
            ));
        }
    };
    let fd = rustix::fs::openat2(
        root,
        path.to_bytes(),
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )?;
    Ok(File::from(fd))
}
