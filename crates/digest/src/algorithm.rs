//! The hash algorithms a digest can name: `sha256` (canonical), `sha384` and `sha512`.

use std::fmt;
use std::io;
use std::str::FromStr;

use crate::{Digest, Digester, Error, error::snippet};

/// A hash algorithm that a [`Digest`] can be computed with.
///
/// These are the algorithms Docker's digest library makes available: `sha256` (the canonical
/// one, used for every image ID, layer and manifest), `sha384` and `sha512`.
///
/// ```
/// use imgsvc_digest::Algorithm;
///
/// let alg: Algorithm = "sha512".parse()?;
/// assert_eq!(alg.size(), 64);
/// assert_eq!(alg.encoded_len(), 128);
/// assert!("md5".parse::<Algorithm>().is_err());
/// # Ok::<(), imgsvc_digest::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// SHA-256, the canonical algorithm: 32 bytes, 64 hex digits.
    #[default]
    Sha256,
    /// SHA-384: 48 bytes, 96 hex digits.
    Sha384,
    /// SHA-512: 64 bytes, 128 hex digits.
    Sha512,
}

/// The largest digest size in bytes over all algorithms (SHA-512).
pub(crate) const MAX_SIZE: usize = 64;

/// Constants
impl Algorithm {
    /// The algorithm used when none is named: [`Algorithm::Sha256`].
    ///
    /// ```
    /// assert_eq!(imgsvc_digest::Algorithm::CANONICAL.name(), "sha256");
    /// ```
    pub const CANONICAL: Algorithm = Algorithm::Sha256;

    /// Every supported algorithm, in the order digests of them sort.
    ///
    /// ```
    /// use imgsvc_digest::Algorithm;
    /// let names: Vec<_> = Algorithm::ALL.iter().map(|a| a.name()).collect();
    /// assert_eq!(names, ["sha256", "sha384", "sha512"]);
    /// ```
    pub const ALL: [Algorithm; 3] = [Algorithm::Sha256, Algorithm::Sha384, Algorithm::Sha512];
}

/// Access
impl Algorithm {
    /// The name as it appears before the `:` of a digest, e.g. `sha256`.
    ///
    /// ```
    /// assert_eq!(imgsvc_digest::Algorithm::Sha384.name(), "sha384");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// The size of a digest in bytes (32, 48 or 64).
    ///
    /// ```
    /// assert_eq!(imgsvc_digest::Algorithm::Sha256.size(), 32);
    /// ```
    pub const fn size(self) -> usize {
        match self {
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }

    /// The length of the encoded (lowercase hex) part of a digest: twice [`size`](Self::size).
    ///
    /// ```
    /// assert_eq!(imgsvc_digest::Algorithm::Sha256.encoded_len(), 64);
    /// ```
    pub const fn encoded_len(self) -> usize {
        self.size() * 2
    }

    /// Looks an algorithm up by its exact name; `None` when it is not supported.
    ///
    /// ```
    /// use imgsvc_digest::Algorithm;
    /// assert_eq!(Algorithm::from_name("sha256"), Some(Algorithm::Sha256));
    /// assert_eq!(Algorithm::from_name("SHA256"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|alg| alg.name() == name)
    }
}

/// Hashing
impl Algorithm {
    /// A new incremental hasher for this algorithm.
    ///
    /// ```
    /// use imgsvc_digest::Algorithm;
    /// let mut digester = Algorithm::Sha512.digester();
    /// digester.update(b"foo");
    /// assert_eq!(digester.finish(), Algorithm::Sha512.hash(b"foo"));
    /// ```
    pub fn digester(self) -> Digester {
        Digester::new(self)
    }

    /// The digest of `data` under this algorithm.
    ///
    /// ```
    /// use imgsvc_digest::Algorithm;
    /// let d = Algorithm::Sha256.hash(b"foo");
    /// assert_eq!(
    ///     d.to_string(),
    ///     "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
    /// );
    /// ```
    pub fn hash(self, data: &[u8]) -> Digest {
        let mut digester = self.digester();
        digester.update(data);
        digester.finish()
    }

    /// Streams `reader` to its end and returns its digest and length; only I/O fails.
    ///
    /// ```
    /// use imgsvc_digest::Algorithm;
    /// let (d, len) = Algorithm::Sha384.hash_reader(&b"foo"[..])?;
    /// assert_eq!((d, len), (Algorithm::Sha384.hash(b"foo"), 3));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn hash_reader(self, mut reader: impl io::Read) -> io::Result<(Digest, u64)> {
        let mut digester = self.digester();
        let len = io::copy(&mut reader, &mut digester)?;
        Ok((digester.finish(), len))
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    /// Parses an algorithm name; anything but a supported name is [`Error::Unsupported`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::from_name(s).ok_or_else(|| Error::Unsupported {
            algorithm: snippet(s),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_from_str() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.name().parse::<Algorithm>().ok(), Some(alg));
            assert_eq!(alg.to_string(), alg.name());
        }
    }

    #[test]
    fn unknown_and_empty_names_are_unsupported() {
        for name in ["", "md5", "SHA256", "sha256 ", "blake3"] {
            let err = name.parse::<Algorithm>().expect_err("not a supported name");
            assert!(matches!(err, Error::Unsupported { .. }), "{name:?}: {err}");
        }
    }

    #[test]
    fn sizes_fit_the_largest() {
        for alg in Algorithm::ALL {
            assert!(alg.size() <= MAX_SIZE);
            assert_eq!(alg.encoded_len(), 2 * alg.size());
        }
    }

    #[test]
    fn order_matches_the_order_of_names() {
        let mut by_name = Algorithm::ALL;
        by_name.sort_by_key(|a| a.name());
        assert_eq!(by_name, Algorithm::ALL);
    }
}
