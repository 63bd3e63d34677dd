//! [`LayerProvider`]: how the image store takes and gives back references on layer chains,
//! implemented for [`LayerStore`].

use std::sync::Arc;

use imgsvc_layerstore::{ChainId, Layer, LayerStore, Metadata};

/// Where the image store takes references on the layer chains its images use.
///
/// Each image with layers holds one reference on the top of its chain for as long as it is in
/// the store; a layer store that starts every layer unreferenced (as Docker's does) gets its
/// reference counts rebuilt when the image store opens.
///
/// ```
/// use imgsvc_imagestore::LayerProvider;
/// use imgsvc_layerstore::{ChainId, Metadata};
///
/// /// Knows one chain and never removes anything.
/// struct OneChain(ChainId);
///
/// impl LayerProvider for OneChain {
///     type Handle = ChainId;
///     fn try_get(&self, chain_id: ChainId) -> Result<Option<ChainId>, imgsvc_layerstore::Error> {
///         Ok((chain_id == self.0).then_some(chain_id))
///     }
///     fn release(&self, _: ChainId) -> Result<Vec<Metadata>, imgsvc_layerstore::Error> {
///         Ok(Vec::new())
///     }
/// }
///
/// let provider = OneChain(ChainId::EMPTY_LAYER);
/// assert!(provider.try_get(ChainId::EMPTY_LAYER)?.is_some());
/// # Ok::<(), imgsvc_layerstore::Error>(())
/// ```
pub trait LayerProvider: Send + Sync {
    /// One reference on a chain, given back with [`release`](Self::release).
    type Handle: Send + Sync;

    /// Takes a reference on the chain `chain_id`; `None` if no such chain is registered.
    fn try_get(&self, chain_id: ChainId) -> Result<Option<Self::Handle>, imgsvc_layerstore::Error>;

    /// Gives a reference back; returns the layers that went with it (child first).
    fn release(&self, handle: Self::Handle) -> Result<Vec<Metadata>, imgsvc_layerstore::Error>;
}

impl LayerProvider for LayerStore {
    type Handle = Layer;

    fn try_get(&self, chain_id: ChainId) -> Result<Option<Layer>, imgsvc_layerstore::Error> {
        LayerStore::try_get(self, chain_id)
    }

    fn release(&self, handle: Layer) -> Result<Vec<Metadata>, imgsvc_layerstore::Error> {
        LayerStore::release(self, handle)
    }
}

impl<T: LayerProvider + ?Sized> LayerProvider for Arc<T> {
    type Handle = T::Handle;

    fn try_get(&self, chain_id: ChainId) -> Result<Option<T::Handle>, imgsvc_layerstore::Error> {
        (**self).try_get(chain_id)
    }

    fn release(&self, handle: T::Handle) -> Result<Vec<Metadata>, imgsvc_layerstore::Error> {
        (**self).release(handle)
    }
}

impl<T: LayerProvider + ?Sized> LayerProvider for &T {
    type Handle = T::Handle;

    fn try_get(&self, chain_id: ChainId) -> Result<Option<T::Handle>, imgsvc_layerstore::Error> {
        (**self).try_get(chain_id)
    }

    fn release(&self, handle: T::Handle) -> Result<Vec<Metadata>, imgsvc_layerstore::Error> {
        (**self).release(handle)
    }
}

/// A provider without layers: every chain is unknown. For stores whose images have no
/// layers, and for examples.
///
/// ```
/// use imgsvc_imagestore::{LayerProvider, NoLayers};
/// assert!(NoLayers.try_get(imgsvc_layerstore::ChainId::EMPTY_LAYER)?.is_none());
/// # Ok::<(), imgsvc_layerstore::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLayers;

impl LayerProvider for NoLayers {
    type Handle = std::convert::Infallible;

    fn try_get(&self, _: ChainId) -> Result<Option<Self::Handle>, imgsvc_layerstore::Error> {
        Ok(None)
    }

    fn release(&self, handle: Self::Handle) -> Result<Vec<Metadata>, imgsvc_layerstore::Error> {
        match handle {}
    }
}
