//! The [`Digest`] value: an algorithm and the hash bytes, validated at construction.

use std::fmt;
use std::io;
use std::str::FromStr;

use crate::algorithm::MAX_SIZE;
use crate::error::snippet;
use crate::{Algorithm, Error, Hex, Verifier, hex, parse};

/// The content address of an object: a hash algorithm and the hash bytes, written
/// `algorithm:encoded`, e.g.
/// `sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae`.
///
/// A `Digest` is always valid: text enters only through the parser ([`FromStr`], serde) and
/// bytes only through constructors that check their length. It is a small `Copy` value (the
/// bytes live inline, as in gitoxide's object IDs), so comparing, hashing and passing digests
/// costs no allocation. Ordering is the ordering of the canonical strings.
///
/// # Parsing
///
/// Parsing matches Docker's digest library (go-digest) check for check, so every input gets
/// the same error kind as there; where Docker would panic later (on a digest that was never
/// validated), this type simply cannot exist.
///
/// | input | result |
/// |---|---|
/// | no `:`, empty algorithm or empty encoded part | [`Error::InvalidFormat`] |
/// | unknown algorithm, text fits the digest grammar | [`Error::Unsupported`] |
/// | unknown algorithm, text does not fit the grammar | [`Error::InvalidFormat`] |
/// | encoded part of the wrong length (checked before its characters) | [`Error::InvalidLength`] |
/// | encoded part not lowercase hex (uppercase included) | [`Error::InvalidFormat`] |
///
/// ```
/// use imgsvc_digest::{Digest, Error};
///
/// let d: Digest = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae".parse()?;
/// assert_eq!(d, Digest::from_bytes(b"foo"));
/// assert_eq!(d.short().as_str(), "2c26b46b68ff");
///
/// assert!(matches!("sha256:abc".parse::<Digest>(), Err(Error::InvalidLength { .. })));
/// assert!(matches!("md5:abc".parse::<Digest>(), Err(Error::Unsupported { .. })));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    // Field order gives the derived `Ord` the order of the canonical strings: algorithm
    // names sort as the enum does, and equal-length lowercase hex sorts as its bytes.
    algorithm: Algorithm,
    // The hash in the first `algorithm.size()` bytes; the rest stays zero so the derived
    // `Eq`/`Hash` see only the hash.
    bytes: [u8; MAX_SIZE],
}

/// The length of [`Digest::short`]: Docker's truncated ID length.
///
/// ```
/// let d = imgsvc_digest::Digest::from_bytes(b"foo");
/// assert_eq!(d.short().len(), imgsvc_digest::SHORT_LEN);
/// ```
pub const SHORT_LEN: usize = 12;

/// Construction
impl Digest {
    /// The SHA-256 digest of `data` (the canonical algorithm).
    ///
    /// ```
    /// let d = imgsvc_digest::Digest::from_bytes(b"");
    /// assert_eq!(
    ///     d.to_string(),
    ///     "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// );
    /// ```
    pub fn from_bytes(data: &[u8]) -> Digest {
        Algorithm::CANONICAL.hash(data)
    }

    /// Streams `reader` to its end and returns its SHA-256 digest and length in bytes.
    /// Only I/O fails.
    ///
    /// ```
    /// use imgsvc_digest::Digest;
    /// let (d, len) = Digest::from_reader(&b"foo"[..])?;
    /// assert_eq!((d, len), (Digest::from_bytes(b"foo"), 3));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_reader(reader: impl io::Read) -> io::Result<(Digest, u64)> {
        Algorithm::CANONICAL.hash_reader(reader)
    }

    /// A digest from an algorithm and an already computed hash, which must be exactly
    /// [`Algorithm::size`] bytes long.
    ///
    /// ```
    /// use imgsvc_digest::{Algorithm, Digest};
    /// let d = Digest::from_bytes(b"foo");
    /// assert_eq!(Digest::from_raw(Algorithm::Sha256, d.as_bytes())?, d);
    /// assert!(Digest::from_raw(Algorithm::Sha512, d.as_bytes()).is_err());
    /// # Ok::<(), imgsvc_digest::Error>(())
    /// ```
    pub fn from_raw(algorithm: Algorithm, hash: &[u8]) -> Result<Digest, Error> {
        let mut bytes = [0u8; MAX_SIZE];
        match bytes.get_mut(..algorithm.size()) {
            Some(out) if hash.len() == algorithm.size() => out.copy_from_slice(hash),
            _ => {
                return Err(Error::InvalidLength {
                    algorithm,
                    expected: algorithm.encoded_len(),
                    actual: 2 * hash.len(),
                    input: snippet(&Hex::encode(hash)),
                });
            }
        }
        Ok(Digest::from_parts(algorithm, bytes))
    }

    /// A digest from an algorithm and its encoded (lowercase hex) part, validated as
    /// `algorithm:encoded` would be.
    ///
    /// ```
    /// use imgsvc_digest::{Algorithm, Digest};
    /// let hex = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
    /// assert_eq!(Digest::from_encoded(Algorithm::Sha256, hex)?, Digest::from_bytes(b"foo"));
    /// assert!(Digest::from_encoded(Algorithm::Sha256, &hex.to_uppercase()).is_err());
    /// # Ok::<(), imgsvc_digest::Error>(())
    /// ```
    pub fn from_encoded(algorithm: Algorithm, encoded: &str) -> Result<Digest, Error> {
        let input = || snippet(&format!("{algorithm}:{encoded}"));
        if encoded.len() != algorithm.encoded_len() {
            return Err(Error::InvalidLength {
                algorithm,
                expected: algorithm.encoded_len(),
                actual: encoded.len(),
                input: input(),
            });
        }
        let mut bytes = [0u8; MAX_SIZE];
        let decoded = bytes
            .get_mut(..algorithm.size())
            .and_then(|out| hex::decode_into(encoded.as_bytes(), out));
        match decoded {
            Some(()) => Ok(Digest::from_parts(algorithm, bytes)),
            None => Err(Error::InvalidFormat { input: input() }),
        }
    }

    /// A SHA-256 digest from its 64 lowercase hex digits, in a `const` context: `None` when
    /// the text is not exactly that. For constants such as well-known digests; elsewhere,
    /// [`from_encoded`](Self::from_encoded) says what is wrong.
    ///
    /// ```
    /// use imgsvc_digest::Digest;
    /// const EMPTY: Option<Digest> =
    ///     Digest::from_sha256_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /// assert_eq!(EMPTY, Some(Digest::from_bytes(b"")));
    /// assert_eq!(Digest::from_sha256_hex("E3B0"), None);
    /// ```
    pub const fn from_sha256_hex(hex: &str) -> Option<Digest> {
        let text = hex.as_bytes();
        if text.len() != Algorithm::Sha256.encoded_len() {
            return None;
        }
        let mut bytes = [0u8; MAX_SIZE];
        let mut i = 0;
        while i < Algorithm::Sha256.size() {
            let (Some(hi), Some(lo)) = (hex::nibble(text[2 * i]), hex::nibble(text[2 * i + 1]))
            else {
                return None;
            };
            bytes[i] = (hi << 4) | lo;
            i += 1;
        }
        Some(Digest {
            algorithm: Algorithm::Sha256,
            bytes,
        })
    }

    /// Parses `algorithm:encoded` text; the same as [`str::parse`].
    ///
    /// ```
    /// use imgsvc_digest::Digest;
    /// let d = Digest::parse("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")?;
    /// assert_eq!(d, Digest::from_bytes(b""));
    /// # Ok::<(), imgsvc_digest::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Digest, Error> {
        parse::parse(text)
    }

    /// Assembles a digest from parts the caller has checked: `bytes` holds the hash in its
    /// first `algorithm.size()` bytes and zeroes after.
    pub(crate) fn from_parts(algorithm: Algorithm, bytes: [u8; MAX_SIZE]) -> Digest {
        Digest { algorithm, bytes }
    }
}

/// Access
impl Digest {
    /// The algorithm that produced this digest.
    ///
    /// ```
    /// use imgsvc_digest::{Algorithm, Digest};
    /// assert_eq!(Digest::from_bytes(b"foo").algorithm(), Algorithm::Sha256);
    /// ```
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hash bytes ([`Algorithm::size`] of them).
    ///
    /// ```
    /// assert_eq!(imgsvc_digest::Digest::from_bytes(b"foo").as_bytes().len(), 32);
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes
            .get(..self.algorithm.size())
            .unwrap_or(&self.bytes)
    }

    /// The encoded part: the hash as lowercase hex, without the algorithm.
    ///
    /// ```
    /// let d = imgsvc_digest::Digest::from_bytes(b"foo");
    /// assert_eq!(d.encoded(), "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae");
    /// ```
    pub fn encoded(&self) -> Hex {
        Hex::encode(self.as_bytes())
    }

    /// The first 12 hex digits of the encoded part: Docker's short image ID.
    ///
    /// ```
    /// let d = imgsvc_digest::Digest::from_bytes(b"foo");
    /// assert_eq!(d.short(), "2c26b46b68ff");
    /// ```
    pub fn short(&self) -> Hex {
        self.encoded().truncated(SHORT_LEN)
    }

    /// A [`Verifier`] that checks whether written content has this digest.
    ///
    /// ```
    /// use std::io::Write;
    /// let d = imgsvc_digest::Digest::from_bytes(b"foo");
    /// let mut verifier = d.verifier();
    /// verifier.write_all(b"foo")?;
    /// assert!(verifier.verified());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn verifier(&self) -> Verifier {
        Verifier::new(*self)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.algorithm.name())?;
        f.write_str(":")?;
        f.write_str(&self.encoded())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(text: &str) -> Result<Digest, Error> {
        parse::parse(text)
    }
}

impl TryFrom<&str> for Digest {
    type Error = Error;

    fn try_from(text: &str) -> Result<Digest, Error> {
        parse::parse(text)
    }
}

impl From<Digest> for String {
    fn from(digest: Digest) -> String {
        digest.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_is_small_and_copy() {
        fn is_copy<T: Copy>() {}
        is_copy::<Digest>();
        assert!(std::mem::size_of::<Digest>() <= MAX_SIZE + 8);
    }

    #[test]
    fn order_is_the_order_of_canonical_strings() {
        let mut digests: Vec<Digest> = (0u8..40)
            .map(|i| Algorithm::ALL[usize::from(i % 3)].hash(&[i]))
            .collect();
        let mut strings: Vec<String> = digests.iter().map(Digest::to_string).collect();
        digests.sort();
        strings.sort();
        let sorted: Vec<String> = digests.iter().map(Digest::to_string).collect();
        assert_eq!(sorted, strings);
    }

    #[test]
    fn raw_hashes_of_the_wrong_size_are_refused() {
        let err = Digest::from_raw(Algorithm::Sha256, &[0; 31]).expect_err("31 bytes is short");
        assert!(matches!(
            err,
            Error::InvalidLength {
                expected: 64,
                actual: 62,
                ..
            }
        ));
    }
}
