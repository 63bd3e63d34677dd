//! [`Layer`]: a handle on a registered layer, and [`Metadata`] of removed layers.

use crate::{ChainId, DiffId};

/// A reference to a registered, read-only layer.
///
/// Each handle counts as one reference: the layer stays on disk until every handle has been
/// given back with [`LayerStore::release`](crate::LayerStore::release) (and nothing else, such
/// as a child layer or a read-write layer, uses it).
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
/// let base = store.register(&tar_of("a", b"12")?[..], None)?;
/// let app = store.register(&tar_of("b", b"345")?[..], Some(base.chain_id()))?;
/// assert_eq!(app.parent(), Some(base.chain_id()));
/// assert_eq!((app.diff_size(), app.size()), (3, 5)); // its own, and with the layers below
/// assert_eq!(app.info().depth, 2);
/// assert_eq!(app.chain_id(), base.chain_id().child(app.diff_id()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Layer {
    pub(crate) handle: u64,
    pub(crate) info: Info,
}

/// What is known about a layer, without holding a reference to it.
///
/// ```
/// # let root = tempfile::tempdir()?;
/// # let vfs = imgsvc_layerstore::driver::Vfs::open(root.path().join("vfs"))?;
/// # let store = imgsvc_layerstore::LayerStore::open(root.path().join("layerdb"), Box::new(vfs))?;
/// # let mut builder = tar::Builder::new(Vec::new());
/// # let mut header = tar::Header::new_ustar();
/// # header.set_size(2);
/// # header.set_mode(0o644);
/// # header.set_cksum();
/// # builder.append_data(&mut header, "a", &b"12"[..])?;
/// # let tar = builder.into_inner()?;
/// let layer = store.register(&tar[..], None)?;
/// let info: &imgsvc_layerstore::Info = layer.info();
/// assert_eq!((info.parent, info.diff_size, info.size, info.depth), (None, 2, 2, 1));
/// assert_eq!(store.map(), [info.clone()]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Info {
    /// The layer's ChainID.
    pub chain_id: ChainId,
    /// The layer's DiffID.
    pub diff_id: DiffId,
    /// The ChainID of the layer below, if any.
    pub parent: Option<ChainId>,
    /// The size of this layer alone, as its driver measured it.
    pub diff_size: u64,
    /// The size of this layer and all below it.
    pub size: u64,
    /// How many layers the chain has, this one included.
    pub depth: usize,
}

impl Layer {
    /// The layer's ChainID.
    pub fn chain_id(&self) -> ChainId {
        self.info.chain_id
    }

    /// The layer's DiffID.
    pub fn diff_id(&self) -> DiffId {
        self.info.diff_id
    }

    /// The ChainID of the layer below, if any.
    pub fn parent(&self) -> Option<ChainId> {
        self.info.parent
    }

    /// The size of this layer and all below it (Docker's `Size`).
    pub fn size(&self) -> u64 {
        self.info.size
    }

    /// The size of this layer alone (Docker's `DiffSize`).
    pub fn diff_size(&self) -> u64 {
        self.info.diff_size
    }

    /// Everything known about the layer.
    pub fn info(&self) -> &Info {
        &self.info
    }
}

/// What [`LayerStore::release`](crate::LayerStore::release) reports about each layer it
/// removed from disk.
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
/// let layer = store.register(&tar_of("a", b"12")?[..], None)?;
/// let removed: Vec<imgsvc_layerstore::Metadata> = store.release(layer)?;
/// assert_eq!((removed[0].size, removed[0].diff_size), (2, 2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The removed layer's ChainID.
    pub chain_id: ChainId,
    /// The removed layer's DiffID.
    pub diff_id: DiffId,
    /// Its size together with the layers below (measured before they went).
    pub size: u64,
    /// Its own size.
    pub diff_size: u64,
}
