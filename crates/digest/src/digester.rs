//! Incremental hashing into a [`Digest`].

use std::io;

use sha2::Digest as _;

use crate::algorithm::MAX_SIZE;
use crate::{Algorithm, Digest};

/// Hashes content incrementally and yields its [`Digest`].
///
/// Feed it with [`update`](Self::update) or as an [`io::Write`] sink (e.g. the target of
/// [`io::copy`]); [`digest`](Self::digest) reads the digest of what was written so far and can
/// be called repeatedly, [`finish`](Self::finish) consumes the digester. SHA-256 uses the CPU's
/// SHA extensions when it has them (detected at run time).
///
/// ```
/// use imgsvc_digest::{Digest, Digester};
///
/// let mut digester = Digester::default(); // sha256
/// digester.update(b"fo");
/// digester.update(b"o");
/// assert_eq!(digester.len(), 3);
/// assert_eq!(digester.finish(), Digest::from_bytes(b"foo"));
/// ```
#[derive(Clone, Debug)]
pub struct Digester {
    state: State,
    len: u64,
}

#[derive(Clone, Debug)]
enum State {
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

/// Construction
impl Digester {
    /// A digester for `algorithm` with nothing written yet.
    ///
    /// ```
    /// use imgsvc_digest::{Algorithm, Digester};
    /// assert_eq!(Digester::new(Algorithm::Sha384).algorithm(), Algorithm::Sha384);
    /// ```
    pub fn new(algorithm: Algorithm) -> Digester {
        let state = match algorithm {
            Algorithm::Sha256 => State::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => State::Sha384(sha2::Sha384::new()),
            Algorithm::Sha512 => State::Sha512(sha2::Sha512::new()),
        };
        Digester { state, len: 0 }
    }
}

impl Default for Digester {
    /// A digester for the canonical algorithm, SHA-256.
    fn default() -> Digester {
        Digester::new(Algorithm::CANONICAL)
    }
}

/// Hashing
impl Digester {
    /// Adds `data` to the content.
    ///
    /// ```
    /// let mut digester = imgsvc_digest::Digester::default();
    /// digester.update(b"foo");
    /// assert_eq!(digester.len(), 3);
    /// ```
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            State::Sha256(h) => h.update(data),
            State::Sha384(h) => h.update(data),
            State::Sha512(h) => h.update(data),
        }
        self.len += data.len() as u64;
    }

    /// The digest of everything written so far; writing may go on afterwards.
    ///
    /// ```
    /// use imgsvc_digest::{Digest, Digester};
    /// let mut digester = Digester::default();
    /// digester.update(b"foo");
    /// assert_eq!(digester.digest(), Digest::from_bytes(b"foo"));
    /// digester.update(b"bar");
    /// assert_eq!(digester.digest(), Digest::from_bytes(b"foobar"));
    /// ```
    pub fn digest(&self) -> Digest {
        self.clone().finish()
    }

    /// The digest of everything written, consuming the digester.
    ///
    /// ```
    /// let digester = imgsvc_digest::Digester::default();
    /// assert_eq!(digester.finish(), imgsvc_digest::Digest::from_bytes(b""));
    /// ```
    pub fn finish(self) -> Digest {
        let algorithm = self.algorithm();
        let mut bytes = [0u8; MAX_SIZE];
        let sum = match self.state {
            State::Sha256(h) => copy_sum(&mut bytes, &h.finalize()),
            State::Sha384(h) => copy_sum(&mut bytes, &h.finalize()),
            State::Sha512(h) => copy_sum(&mut bytes, &h.finalize()),
        };
        debug_assert_eq!(sum, algorithm.size());
        Digest::from_parts(algorithm, bytes)
    }
}

/// Access
impl Digester {
    /// The algorithm this digester computes.
    ///
    /// ```
    /// use imgsvc_digest::{Algorithm, Digester};
    /// assert_eq!(Digester::default().algorithm(), Algorithm::Sha256);
    /// ```
    pub fn algorithm(&self) -> Algorithm {
        match self.state {
            State::Sha256(_) => Algorithm::Sha256,
            State::Sha384(_) => Algorithm::Sha384,
            State::Sha512(_) => Algorithm::Sha512,
        }
    }

    /// How many bytes have been written.
    ///
    /// ```
    /// assert_eq!(imgsvc_digest::Digester::default().len(), 0);
    /// ```
    #[expect(
        clippy::len_without_is_empty,
        reason = "a byte count, not a collection"
    )]
    pub fn len(&self) -> u64 {
        self.len
    }
}

/// Copies a finished hash into the fixed buffer and returns its length.
fn copy_sum(bytes: &mut [u8; MAX_SIZE], sum: &[u8]) -> usize {
    for (out, byte) in bytes.iter_mut().zip(sum) {
        *out = *byte;
    }
    sum.len()
}

impl io::Write for Digester {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.update(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known answers for "abc" (FIPS 180-2 appendix examples).
    const ABC: [(Algorithm, &str); 3] = [
        (
            Algorithm::Sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            Algorithm::Sha384,
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
             8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            Algorithm::Sha512,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
    ];

    #[test]
    fn known_answers_for_every_algorithm() {
        for (algorithm, hex) in ABC {
            let mut digester = Digester::new(algorithm);
            digester.update(b"a");
            digester.update(b"bc");
            assert_eq!(digester.finish().encoded(), hex, "{algorithm}");
        }
    }

    #[test]
    fn splitting_the_input_does_not_change_the_digest() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let whole = Digest::from_bytes(&data);
        for split in [0, 1, 63, 64, 65, 4096, data.len()] {
            let (a, b) = data.split_at(split);
            let mut digester = Digester::default();
            digester.update(a);
            digester.update(b);
            assert_eq!(digester.finish(), whole, "split at {split}");
        }
    }
}
