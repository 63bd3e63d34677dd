//! [`EmptyLayer`]: the layer whose tar is the empty archive, as Docker's `layer.EmptyLayer`.

use std::io::{self, Read};

use crate::{ChainId, DiffId, Error};

/// The empty layer: an archive of nothing (1024 zero bytes, the two end blocks), whose DiffID
/// and ChainID are both [`DiffId::EMPTY_TAR`]'s digest. It is never registered in a store;
/// image export and import use it where an image lists an empty layer.
///
/// ```
/// use std::io::Read;
/// use imgsvc_layerstore::{ChainId, DiffId, EmptyLayer};
///
/// let empty = EmptyLayer;
/// assert_eq!(empty.chain_id(), ChainId::EMPTY_LAYER);
/// assert_eq!(empty.diff_id(), DiffId::EMPTY_TAR);
/// assert_eq!((empty.parent(), empty.size(), empty.diff_size()), (None, 0, 0));
/// assert!(empty.metadata().is_empty());
///
/// let mut tar = Vec::new();
/// empty.tar_stream().read_to_end(&mut tar)?;
/// assert_eq!(tar, [0u8; 1024]);
///
/// // With no parent, the diff is the whole (empty) tar; against any parent, an error.
/// let mut from_nothing = Vec::new();
/// empty.tar_stream_from(None)?.read_to_end(&mut from_nothing)?;
/// assert_eq!(from_nothing, tar);
/// let err = empty.tar_stream_from(Some(ChainId::EMPTY_LAYER)).err().ok_or("an error")?;
/// assert!(err.to_string().starts_with("can't get parent tar stream of an empty layer"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct EmptyLayer;

/// The empty layer's tar: 1024 zero bytes.
pub type EmptyTar = io::Take<io::Repeat>;

impl EmptyLayer {
    /// The empty archive: two zero blocks.
    pub fn tar_stream(&self) -> EmptyTar {
        io::repeat(0).take(1024)
    }

    /// The diff against `parent`: the whole tar when there is no parent; the empty layer has
    /// nothing below it, so any parent is [`Error::EmptyLayerHasNoParent`].
    pub fn tar_stream_from(&self, parent: Option<ChainId>) -> Result<EmptyTar, Error> {
        match parent {
            None => Ok(self.tar_stream()),
            Some(parent) => Err(Error::EmptyLayerHasNoParent { parent }),
        }
    }

    /// [`ChainId::EMPTY_LAYER`].
    pub fn chain_id(&self) -> ChainId {
        ChainId::EMPTY_LAYER
    }

    /// [`DiffId::EMPTY_TAR`].
    pub fn diff_id(&self) -> DiffId {
        DiffId::EMPTY_TAR
    }

    /// Always `None`.
    pub fn parent(&self) -> Option<ChainId> {
        None
    }

    /// Always 0.
    pub fn size(&self) -> u64 {
        0
    }

    /// Always 0.
    pub fn diff_size(&self) -> u64 {
        0
    }

    /// Driver metadata: none.
    pub fn metadata(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_empty_tar_digest_is_empty() {
        assert!(EmptyLayer.diff_id().is_empty_tar());
        let tar_of_one_block = DiffId::new(imgsvc_digest::Digest::from_bytes(&[0; 512]));
        assert!(!tar_of_one_block.is_empty_tar());
    }

    #[test]
    fn any_parent_is_refused_with_dockers_message() {
        for parent in [
            ChainId::EMPTY_LAYER,
            ChainId::new(imgsvc_digest::Digest::from_bytes(b"x")),
        ] {
            let err = EmptyLayer
                .tar_stream_from(Some(parent))
                .expect_err("the empty layer has no parent");
            assert!(
                matches!(err, Error::EmptyLayerHasNoParent { parent: p } if p == parent),
                "{err}"
            );
            assert!(
                err.to_string()
                    .starts_with("can't get parent tar stream of an empty layer"),
                "{err}"
            );
        }
    }

    #[test]
    fn the_empty_tar_hashes_to_its_diff_id() {
        let mut tar = Vec::new();
        EmptyLayer
            .tar_stream()
            .read_to_end(&mut tar)
            .expect("reading");
        assert_eq!(
            DiffId::new(imgsvc_digest::Digest::from_bytes(&tar)),
            EmptyLayer.diff_id()
        );
        assert_eq!(
            ChainId::of(&[EmptyLayer.diff_id()]),
            Some(EmptyLayer.chain_id())
        );
    }
}
