//! Layer identities: [`DiffId`] (the digest of one layer's uncompressed tar) and [`ChainId`]
//! (the identity of a layer together with all the layers below it).

use std::fmt;
use std::str::FromStr;

use imgsvc_digest::{Digest, Digester};

/// The digest of a layer's uncompressed tar stream, exactly as registered (end-of-archive
/// blocks and any trailing bytes included).
///
/// ```
/// use imgsvc_layerstore::DiffId;
/// assert_eq!(
///     DiffId::EMPTY_TAR.to_string(),
///     "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
/// );
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DiffId(Digest);

/// The identity of a layer and all its parents: the DiffID of a base layer, and for a child
/// `sha256(parent_chain_id + " " + diff_id)` over the two digests' text.
///
/// ```
/// use imgsvc_layerstore::{ChainId, DiffId};
///
/// let a: DiffId = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef".parse()?;
/// let b: DiffId = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae".parse()?;
/// let chain = ChainId::of(&[a, b]).ok_or("two layers give a chain")?;
/// assert_eq!(
///     chain.to_string(),
///     "sha256:595ee4855886b5fd32c52104deb15405b486774f98de258f2f45523bcc456b1b"
/// );
/// assert_eq!(ChainId::of(&[]), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChainId(Digest);

/// The digest of the empty tar (1024 zero bytes): both DiffID and ChainID of the empty layer.
// Evaluated at compile time: a bad constant fails the build, never a run.
const EMPTY_TAR: Digest = match Digest::from_sha256_hex(
    "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
) {
    Some(digest) => digest,
    None => panic!("the empty tar digest is valid hex"),
};

impl DiffId {
    /// The DiffID of the empty tar (two zero blocks, 1024 bytes).
    pub const EMPTY_TAR: DiffId = DiffId(EMPTY_TAR);

    /// Wraps a digest.
    ///
    /// ```
    /// use imgsvc_layerstore::DiffId;
    /// let d = imgsvc_digest::Digest::from_bytes(&[0; 1024]);
    /// assert_eq!(DiffId::new(d), DiffId::EMPTY_TAR);
    /// ```
    pub const fn new(digest: Digest) -> DiffId {
        DiffId(digest)
    }

    /// The digest.
    ///
    /// ```
    /// use imgsvc_layerstore::DiffId;
    /// assert_eq!(DiffId::EMPTY_TAR.digest().algorithm().name(), "sha256");
    /// ```
    pub const fn digest(&self) -> Digest {
        self.0
    }

    /// Whether this is the DiffID of the empty tar, i.e. the layer is Docker's empty layer
    /// (`layer.IsEmpty`): image export and import write or expect no layer data for it.
    ///
    /// ```
    /// use imgsvc_layerstore::DiffId;
    /// assert!(DiffId::EMPTY_TAR.is_empty_tar());
    /// let other = DiffId::new(imgsvc_digest::Digest::from_bytes(b"not empty"));
    /// assert!(!other.is_empty_tar());
    /// ```
    pub fn is_empty_tar(&self) -> bool {
        *self == DiffId::EMPTY_TAR
    }
}

impl ChainId {
    /// The ChainID of the empty layer (the same digest as [`DiffId::EMPTY_TAR`]).
    pub const EMPTY_LAYER: ChainId = ChainId(EMPTY_TAR);

    /// Wraps a digest.
    ///
    /// ```
    /// use imgsvc_layerstore::{ChainId, DiffId};
    /// assert_eq!(ChainId::new(DiffId::EMPTY_TAR.digest()), ChainId::EMPTY_LAYER);
    /// ```
    pub const fn new(digest: Digest) -> ChainId {
        ChainId(digest)
    }

    /// The digest.
    ///
    /// ```
    /// use imgsvc_layerstore::ChainId;
    /// assert!(ChainId::EMPTY_LAYER.digest().to_string().starts_with("sha256:5f70bf18"));
    /// ```
    pub const fn digest(&self) -> Digest {
        self.0
    }

    /// The ChainID of a stack of layers, bottom first; `None` for no layers.
    ///
    /// ```
    /// use imgsvc_layerstore::{ChainId, DiffId};
    /// let base = DiffId::EMPTY_TAR;
    /// assert_eq!(ChainId::of(&[base]), Some(ChainId::new(base.digest())));
    /// ```
    pub fn of(diff_ids: &[DiffId]) -> Option<ChainId> {
        let (first, rest) = diff_ids.split_first()?;
        Some(
            rest.iter()
                .fold(ChainId(first.0), |chain, diff_id| chain.child(*diff_id)),
        )
    }

    /// The ChainID of a layer `diff_id` on top of this chain.
    ///
    /// ```
    /// use imgsvc_layerstore::{ChainId, DiffId};
    /// let a = DiffId::EMPTY_TAR;
    /// assert_eq!(ChainId::of(&[a, a]), Some(ChainId::new(a.digest()).child(a)));
    /// ```
    pub fn child(&self, diff_id: DiffId) -> ChainId {
        let mut digester = Digester::default();
        digester.update(self.0.to_string().as_bytes());
        digester.update(b" ");
        digester.update(diff_id.0.to_string().as_bytes());
        ChainId(digester.finish())
    }
}

macro_rules! digest_newtype {
    ($type:ident, $label:literal) => {
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($label, "({})"), self.0)
            }
        }

        impl FromStr for $type {
            type Err = imgsvc_digest::Error;
            fn from_str(text: &str) -> Result<$type, imgsvc_digest::Error> {
                text.parse().map($type)
            }
        }

        impl From<Digest> for $type {
            fn from(digest: Digest) -> $type {
                $type(digest)
            }
        }

        impl From<$type> for Digest {
            fn from(id: $type) -> Digest {
                id.0
            }
        }

        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<$type, D::Error> {
                Digest::deserialize(deserializer).map($type)
            }
        }
    };
}

digest_newtype!(DiffId, "DiffId");
digest_newtype!(ChainId, "ChainId");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_tar_constant_is_the_digest_of_1024_zeros() {
        assert_eq!(DiffId::EMPTY_TAR.digest(), Digest::from_bytes(&[0; 1024]));
        assert_eq!(ChainId::EMPTY_LAYER.digest(), DiffId::EMPTY_TAR.digest());
    }

    #[test]
    fn chains_fold_left() {
        let ids: Vec<DiffId> = (0u8..4)
            .map(|i| DiffId::new(Digest::from_bytes(&[i])))
            .collect();
        let step = ChainId::new(ids[0].digest())
            .child(ids[1])
            .child(ids[2])
            .child(ids[3]);
        assert_eq!(ChainId::of(&ids), Some(step));
    }
}
