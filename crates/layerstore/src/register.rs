//! The one pass that registers a layer: the tar is hashed for its DiffID, recorded as
//! tar-split metadata, and applied by the driver, as it streams.

use std::io::{self, BufWriter, Read};

use imgsvc_digest::Digester;

use crate::apply::Item;
use crate::diff::{LayerDiff, NextEntry};
use crate::driver::Driver;
use crate::layerdb::WriteSet;
use crate::tar::{self, Header};
use crate::tarsplit::Packer;
use crate::tarstream::{ChunkReader, ChunkSender, chunk_pipe};
use crate::{DiffId, Error};

/// What registering a tar produced.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    pub(crate) diff_id: DiffId,
    pub(crate) size: u64,
}

/// Streams `tar` into the driver's layer `cache_id`, recording tar-split metadata in `set`.
pub(crate) fn apply(
    tar: impl Read + Send,
    set: &WriteSet,
    driver: &dyn Driver,
    cache_id: &str,
    parent: Option<&str>,
) -> Result<Outcome, Error> {
    // The input is read and hashed on a second thread, so hashing overlaps with extraction;
    // the two exchange a few chunks through a bounded channel.
    std::thread::scope(|scope| {
        let (sender, mut input) = chunk_pipe();
        let hasher = scope.spawn(move || read_and_hash(tar, &sender));
        let size = apply_from(&mut input, set, driver, cache_id, parent);
        // Hang up (so the reader thread stops if extraction ended early), then collect it.
        drop(input);
        let digest = hasher.join().map_err(|_| {
            Error::io("read", cache_id)(io::Error::other("the reader thread failed"))
        })?;
        Ok(Outcome {
            diff_id: DiffId::new(digest?),
            size: size?,
        })
    })
}

/// Reads `tar` to its end in chunks, hashing them and sending them on; the digest of all of
/// it, or the first read error (which is also sent, to stop extraction).
fn read_and_hash(mut tar: impl Read, sender: &ChunkSender) -> Result<imgsvc_digest::Digest, Error> {
    let mut digester = Digester::default();
    loop {
        let mut chunk = sender.read_buffer();
        let n = loop {
            match tar.read(&mut chunk) {
                Ok(n) => break n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    let kind = err.kind();
                    let message = err.to_string();
                    let _ = sender.send(Err(err));
                    return Err(Error::io("read", "the layer tar")(io::Error::new(
                        kind, message,
                    )));
                }
            }
        };
        if n == 0 {
            return Ok(digester.finish());
        }
        chunk.truncate(n);
        digester.update(&chunk);
        if sender.send(Ok(chunk)).is_err() {
            // Extraction stopped (an error there is reported by the caller).
            return Ok(digester.finish());
        }
    }
}

/// Extracts the tar read from `input` and records its tar-split metadata; returns the size.
fn apply_from(
    input: &mut ChunkReader,
    set: &WriteSet,
    driver: &dyn Driver,
    cache_id: &str,
    parent: Option<&str>,
) -> Result<u64, Error> {
    let file = set.create_tar_split()?;
    let packer = Packer::new_gzip(BufWriter::with_capacity(64 << 10, file));
    let mut reader = tar::Reader::with_observer(input, packer);

    let mut next = |apply: &mut dyn FnMut(
        &Item<'_>,
        &mut dyn Read,
    ) -> Result<(), crate::ApplyError>|
     -> Result<bool, Error> {
        let Some(mut entry) = reader.next_entry()? else {
            return Ok(false);
        };
        let header = entry.header().clone();
        apply(&item(&header), &mut entry)?;
        Ok(true)
    };
    let size = {
        let next: &mut NextEntry<'_> = &mut next;
        driver.apply_diff(
            cache_id,
            parent,
            &mut LayerDiff::new(next, Some(set.stash_dir())),
        )?
    };
    // The layer's files must be on disk before the layer is committed: a crash must never
    // leave a committed layer whose files were lost.
    let files = driver.diff_dir(cache_id)?;
    let dir = std::fs::File::open(&files).map_err(Error::io("open", &files))?;
    rustix::fs::syncfs(&dir).map_err(|err| Error::io("sync", &files)(err.into()))?;
    // The driver stopped at the end of the archive; everything after it (end blocks,
    // trailing bytes) still belongs to the DiffID and the tar-split record.
    while reader.next_entry()?.is_some() {}
    let (_, packer) = reader.into_parts();
    let writer = packer
        .finish()
        .map_err(Error::io("write the tar-split metadata of", cache_id))?;
    let file = writer
        .into_inner()
        .map_err(|err| Error::io("write the tar-split metadata of", cache_id)(err.into_error()))?;
    file.sync_all()
        .map_err(Error::io("sync the tar-split metadata of", cache_id))?;
    Ok(size)
}

/// The applier's view of a parsed header.
fn item(header: &Header) -> Item<'_> {
    Item {
        name: &header.path,
        kind: header.kind,
        mode: header.mode,
        uid: header.uid,
        gid: header.gid,
        mtime: (header.mtime.secs(), header.mtime.nanos()),
        atime: header.atime.map(|t| (t.secs(), t.nanos())),
        link: &header.link,
        device: (header.dev_major, header.dev_minor),
        xattrs: &header.xattrs,
        size: header.size,
        sparse: header.sparse.as_ref(),
    }
}
