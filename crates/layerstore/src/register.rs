//! The one pass that registers a layer: the tar is hashed for its DiffID, recorded as
//! tar-split metadata, and applied by the driver, as it streams.

use std::io::{self, BufWriter, Read};

use imgsvc_digest::Digester;

use crate::apply::{Item, Kind};
use crate::diff::{LayerDiff, NextEntry};
use crate::driver::Driver;
use crate::layerdb::WriteSet;
use crate::tar::{self, Header};
use crate::tarsplit::Packer;
use crate::{DiffId, Error};

/// What registering a tar produced.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    pub(crate) diff_id: DiffId,
    pub(crate) size: u64,
}

/// Streams `tar` into the driver's layer `cache_id`, recording tar-split metadata in `set`.
pub(crate) fn apply(
    tar: impl Read,
    set: &WriteSet,
    driver: &dyn Driver,
    cache_id: &str,
    parent: Option<&str>,
) -> Result<Outcome, Error> {
    let mut hashing = Hashing {
        inner: tar,
        digester: Digester::default(),
    };
    let file = set.create_tar_split()?;
    let packer = Packer::new_gzip(BufWriter::with_capacity(64 << 10, file));
    let mut reader = tar::Reader::with_observer(&mut hashing, packer);

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
    Ok(Outcome {
        diff_id: DiffId::new(hashing.digester.finish()),
        size,
    })
}

/// The applier's view of a parsed header.
fn item(header: &Header) -> Item<'_> {
    Item {
        name: &header.path,
        kind: match header.kind {
            tar::Kind::Regular => Kind::Regular,
            tar::Kind::Hardlink => Kind::Hardlink,
            tar::Kind::Symlink => Kind::Symlink,
            tar::Kind::Char => Kind::Char,
            tar::Kind::Block => Kind::Block,
            tar::Kind::Directory => Kind::Directory,
            tar::Kind::Fifo => Kind::Fifo,
            tar::Kind::PaxGlobal => Kind::GlobalHeader,
            tar::Kind::Other(flag) => Kind::Other(flag),
        },
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

/// Hashes everything read through it.
struct Hashing<R> {
    inner: R,
    digester: Digester,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digester.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
}
