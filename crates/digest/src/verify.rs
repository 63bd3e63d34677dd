//! Checking content against an expected digest (and size): the [`Verifier`] sink and the
//! shared bookkeeping behind the verifying readers.

use std::io;

use crate::{Digest, Digester, Error};

/// An [`io::Write`] sink that tells whether exactly the expected content was written to it.
///
/// Unlike a bare hash comparison, a verifier made [`with_size`](Self::with_size) also checks
/// the length, so a short stream can never verify. [`verified`](Self::verified) may be asked
/// at any time; [`finish`](Self::finish) says what was wrong.
///
/// ```
/// use std::io::Write;
/// use imgsvc_digest::{Digest, Verifier};
///
/// let expected = Digest::from_bytes(b"hello world");
/// let mut verifier = Verifier::with_size(expected, 11);
/// verifier.write_all(b"hello ")?;
/// assert!(!verifier.verified()); // not all of it yet
/// verifier.write_all(b"world")?;
/// assert!(verifier.verified());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Verifier {
    digester: Digester,
    expected: Digest,
    expected_size: Option<u64>,
}

/// Construction
impl Verifier {
    /// A verifier for content with digest `expected`, of any length.
    ///
    /// ```
    /// let verifier = imgsvc_digest::Verifier::new(imgsvc_digest::Digest::from_bytes(b""));
    /// assert!(verifier.verified()); // the empty content is already complete
    /// ```
    pub fn new(expected: Digest) -> Verifier {
        Verifier {
            digester: expected.algorithm().digester(),
            expected,
            expected_size: None,
        }
    }

    /// A verifier for content with digest `expected` that is exactly `size` bytes long.
    ///
    /// ```
    /// use std::io::Write;
    /// use imgsvc_digest::{Digest, Verifier};
    /// let mut verifier = Verifier::with_size(Digest::from_bytes(b"foo"), 4);
    /// verifier.write_all(b"foo")?;
    /// assert!(!verifier.verified()); // right bytes, wrong promised size
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_size(expected: Digest, size: u64) -> Verifier {
        Verifier {
            expected_size: Some(size),
            ..Verifier::new(expected)
        }
    }
}

/// Checking
impl Verifier {
    /// True when the bytes written so far are exactly the expected content.
    ///
    /// ```
    /// use std::io::Write;
    /// let mut verifier = imgsvc_digest::Digest::from_bytes(b"foo").verifier();
    /// verifier.write_all(b"fo")?;
    /// assert!(!verifier.verified());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn verified(&self) -> bool {
        self.check().is_ok()
    }

    /// Consumes the verifier: the number of bytes written when they are exactly the expected
    /// content, else [`Error::SizeMismatch`] or [`Error::Mismatch`].
    ///
    /// ```
    /// use std::io::Write;
    /// use imgsvc_digest::{Digest, Error};
    /// let mut verifier = Digest::from_bytes(b"foo").verifier();
    /// verifier.write_all(b"bar")?;
    /// assert!(matches!(verifier.finish(), Err(Error::Mismatch { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn finish(self) -> Result<u64, Error> {
        self.check()
    }

    /// How many bytes have been written.
    ///
    /// ```
    /// assert_eq!(imgsvc_digest::Digest::from_bytes(b"").verifier().written(), 0);
    /// ```
    pub fn written(&self) -> u64 {
        self.digester.len()
    }

    /// The digest being verified against.
    ///
    /// ```
    /// use imgsvc_digest::Digest;
    /// let d = Digest::from_bytes(b"foo");
    /// assert_eq!(d.verifier().expected(), d);
    /// ```
    pub fn expected(&self) -> Digest {
        self.expected
    }

    fn check(&self) -> Result<u64, Error> {
        judge(&self.digester, self.expected, self.expected_size)
    }
}

impl io::Write for Verifier {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.digester.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The verdict on everything hashed by `digester`: its length when it is exactly the expected
/// content, else what differs (the size first, as it is the cheaper and clearer message).
fn judge(digester: &Digester, expected: Digest, expected_size: Option<u64>) -> Result<u64, Error> {
    let len = digester.len();
    if let Some(size) = expected_size
        && size != len
    {
        return Err(Error::SizeMismatch {
            expected: size,
            actual: len,
        });
    }
    let actual = digester.digest();
    if actual == expected {
        Ok(len)
    } else {
        Err(Error::Mismatch { expected, actual })
    }
}

/// The state shared by the sync and async verifying readers: hashing, counting, the size
/// bound, and the verdict at end of stream.
#[derive(Debug)]
pub(crate) struct Check {
    digester: Digester,
    expected: Digest,
    expected_size: Option<u64>,
    verdict: Option<Result<(), Error>>,
}

impl Check {
    pub(crate) fn new(expected: Digest, expected_size: Option<u64>) -> Check {
        Check {
            digester: expected.algorithm().digester(),
            expected,
            expected_size,
            verdict: None,
        }
    }

    /// What a read must return without touching the inner reader: `Some(Ok(0))` after a
    /// successful verification, the same error again after a failed one.
    pub(crate) fn settled(&self) -> Option<io::Result<usize>> {
        match &self.verdict {
            None => None,
            Some(Ok(())) => Some(Ok(0)),
            Some(Err(err)) => Some(Err(err.clone().into_io())),
        }
    }

    /// How many bytes the next read may ask the inner reader for: never past the expected
    /// size, and once it is reached a single byte, to tell the end of the stream from a stream
    /// that runs long (caught on its first extra byte).
    pub(crate) fn read_limit(&self, buf_len: usize) -> usize {
        match self.expected_size {
            None => buf_len,
            Some(size) => match size.saturating_sub(self.digester.len()) {
                0 => 1,
                remaining => usize::try_from(remaining).map_or(buf_len, |r| r.min(buf_len)),
            },
        }
    }

    /// Accounts for `data` just read; an empty `data` is the end of the stream, where the
    /// verdict is reached. Returns `data.len()` or the error to hand to the caller.
    pub(crate) fn consume(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return self.settle(self.verdict_at_end()).map(|()| 0);
        }
        self.digester.update(data);
        if let Some(expected) = self.expected_size
            && self.digester.len() > expected
        {
            let actual = self.digester.len();
            return self
                .settle(Err(Error::SizeMismatch { expected, actual }))
                .map(|()| 0);
        }
        Ok(data.len())
    }

    fn verdict_at_end(&self) -> Result<(), Error> {
        judge(&self.digester, self.expected, self.expected_size).map(|_| ())
    }

    fn settle(&mut self, verdict: Result<(), Error>) -> io::Result<()> {
        self.verdict = Some(verdict.clone());
        verdict.map_err(Error::into_io)
    }

    pub(crate) fn bytes_read(&self) -> u64 {
        self.digester.len()
    }

    pub(crate) fn is_verified(&self) -> bool {
        matches!(self.verdict, Some(Ok(())))
    }

    pub(crate) fn expected(&self) -> Digest {
        self.expected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_stops_a_long_stream_at_its_first_extra_byte() {
        let mut check = Check::new(Digest::from_bytes(b"ab"), Some(2));
        assert_eq!(check.read_limit(100), 2);
        assert_eq!(check.consume(b"ab").ok(), Some(2));
        assert_eq!(check.read_limit(100), 1);
        let err = check.consume(b"c").expect_err("a third byte is too many");
        assert!(matches!(
            Error::from_io(&err),
            Some(Error::SizeMismatch {
                expected: 2,
                actual: 3
            })
        ));
        assert!(check.settled().is_some_and(|r| r.is_err()));
    }

    #[test]
    fn check_reports_a_short_stream_as_a_size_error() {
        let mut check = Check::new(Digest::from_bytes(b"abc"), Some(3));
        assert_eq!(check.consume(b"ab").ok(), Some(2));
        let err = check.consume(b"").expect_err("two of three bytes");
        assert!(matches!(
            Error::from_io(&err),
            Some(Error::SizeMismatch {
                expected: 3,
                actual: 2
            })
        ));
    }

    #[test]
    fn verifier_without_size_still_refuses_a_prefix() {
        let mut verifier = Digest::from_bytes(b"abc").verifier();
        io::Write::write_all(&mut verifier, b"ab").expect("writing to memory");
        assert!(!verifier.verified());
        assert!(matches!(verifier.finish(), Err(Error::Mismatch { .. })));
    }
}
