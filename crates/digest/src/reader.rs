//! [`VerifyingReader`]: hashes content as it is read and fails at the end if it is not the
//! expected content.

use std::io;

use crate::Digest;
use crate::verify::Check;

pin_project_lite::pin_project! {
    /// Wraps a reader, hashes everything read through it, and at end of stream returns an
    /// [`io::Error`] of kind [`InvalidData`](io::ErrorKind::InvalidData) unless the content
    /// had the expected digest (and size, when one was given).
    ///
    /// The error's source is an [`Error`](crate::Error) (get it with
    /// [`Error::from_io`](crate::Error::from_io)): [`Mismatch`](crate::Error::Mismatch) naming
    /// both digests, or [`SizeMismatch`](crate::Error::SizeMismatch). With an expected size the
    /// reader never asks the inner reader for more than one byte past it, and the first extra
    /// byte is an error at once (nothing past the size is handed on): a lying server cannot
    /// make us read forever. Once it has
    /// failed, every further read returns the same error.
    ///
    /// Bytes are handed on as they arrive, before the verdict; a consumer must read to the
    /// end and discard what it wrote if the last read fails. With the `tokio` feature the
    /// same type also implements `tokio::io::AsyncRead` over an `AsyncRead`.
    ///
    /// ```
    /// use std::io::Read;
    /// use imgsvc_digest::{Digest, VerifyingReader};
    ///
    /// let expected = Digest::from_bytes(b"layer bytes");
    /// let mut reader = VerifyingReader::with_size(&b"layer bytes"[..], expected, 11);
    /// let mut out = Vec::new();
    /// reader.read_to_end(&mut out)?;
    /// assert!(reader.is_verified());
    ///
    /// let mut tampered = VerifyingReader::new(&b"layer bytez"[..], expected);
    /// let err = tampered.read_to_end(&mut Vec::new()).expect_err("one byte differs");
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[derive(Debug)]
    pub struct VerifyingReader<R> {
        #[pin]
        inner: R,
        check: Check,
    }
}

/// Construction
impl<R> VerifyingReader<R> {
    /// Verifies the content of `inner` against `expected`, whatever its length.
    ///
    /// ```
    /// use imgsvc_digest::{Digest, VerifyingReader};
    /// let reader = VerifyingReader::new(&b""[..], Digest::from_bytes(b""));
    /// assert_eq!(reader.expected(), Digest::from_bytes(b""));
    /// ```
    pub fn new(inner: R, expected: Digest) -> VerifyingReader<R> {
        VerifyingReader {
            inner,
            check: Check::new(expected, None),
        }
    }

    /// Verifies the content of `inner` against `expected` and a length of exactly `size`
    /// bytes; the first byte past `size` is an error.
    ///
    /// ```
    /// use std::io::Read;
    /// use imgsvc_digest::{Digest, Error, VerifyingReader};
    /// let mut reader = VerifyingReader::with_size(&b"foo and more"[..], Digest::from_bytes(b"foo"), 3);
    /// let err = reader.read_to_end(&mut Vec::new()).expect_err("longer than promised");
    /// assert!(matches!(Error::from_io(&err), Some(Error::SizeMismatch { expected: 3, .. })));
    /// ```
    pub fn with_size(inner: R, expected: Digest, size: u64) -> VerifyingReader<R> {
        VerifyingReader {
            inner,
            check: Check::new(expected, Some(size)),
        }
    }
}

/// Access
impl<R> VerifyingReader<R> {
    /// True once the end of the stream was reached and the content matched.
    ///
    /// ```
    /// use std::io::Read;
    /// use imgsvc_digest::{Digest, VerifyingReader};
    /// let mut reader = VerifyingReader::new(&b"foo"[..], Digest::from_bytes(b"foo"));
    /// assert!(!reader.is_verified());
    /// std::io::copy(&mut reader, &mut std::io::sink())?;
    /// assert!(reader.is_verified());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_verified(&self) -> bool {
        self.check.is_verified()
    }

    /// How many bytes have been read through this reader.
    ///
    /// ```
    /// use std::io::Read;
    /// use imgsvc_digest::{Digest, VerifyingReader};
    /// let mut reader = VerifyingReader::new(&b"foo"[..], Digest::from_bytes(b"foo"));
    /// reader.read_exact(&mut [0u8; 2])?;
    /// assert_eq!(reader.bytes_read(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bytes_read(&self) -> u64 {
        self.check.bytes_read()
    }

    /// The digest the content must have.
    ///
    /// ```
    /// use imgsvc_digest::{Digest, VerifyingReader};
    /// let d = Digest::from_bytes(b"x");
    /// assert_eq!(VerifyingReader::new(&b"x"[..], d).expected(), d);
    /// ```
    pub fn expected(&self) -> Digest {
        self.check.expected()
    }

    /// The wrapped reader.
    ///
    /// ```
    /// use imgsvc_digest::{Digest, VerifyingReader};
    /// let reader = VerifyingReader::new(&b"x"[..], Digest::from_bytes(b"x"));
    /// assert_eq!(reader.get_ref(), &b"x");
    /// ```
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The wrapped reader, consuming this one (and its verdict).
    ///
    /// ```
    /// use imgsvc_digest::{Digest, VerifyingReader};
    /// let reader = VerifyingReader::new(&b"x"[..], Digest::from_bytes(b"x"));
    /// assert_eq!(reader.into_inner(), b"x");
    /// ```
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: io::Read> io::Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(settled) = self.check.settled() {
            return settled;
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let limit = self.check.read_limit(buf.len());
        let window = buf.get_mut(..limit).unwrap_or_default();
        let n = self.inner.read(window)?;
        let data = window.get(..n).ok_or_else(|| {
            io::Error::other("the wrapped reader claimed more bytes than its buffer holds")
        })?;
        self.check.consume(data)
    }
}

#[cfg(feature = "tokio")]
mod tokio_impl {
    use std::pin::Pin;
    use std::task::{Context, Poll, ready};

    use tokio::io::{AsyncRead, ReadBuf};

    use super::VerifyingReader;

    impl<R: AsyncRead> AsyncRead for VerifyingReader<R> {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            let this = self.project();
            if let Some(settled) = this.check.settled() {
                return Poll::Ready(settled.map(|_| ()));
            }
            if buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            if this.check.read_limit(usize::MAX) > buf.remaining() {
                // Filling the whole buffer cannot pass the size bound: read straight into the
                // caller's buffer and hash what arrived.
                let before = buf.filled().len();
                ready!(this.inner.poll_read(cx, buf))?;
                let data = buf.filled().get(before..).unwrap_or_default();
                Poll::Ready(this.check.consume(data).map(|_| ()))
            } else {
                // Near the size bound: offer the inner reader only the bytes still expected
                // (or one byte, to see the end of the stream), so it cannot overrun.
                let limit = this.check.read_limit(buf.remaining());
                let window = buf.initialize_unfilled_to(limit);
                let mut limited = ReadBuf::new(window);
                ready!(this.inner.poll_read(cx, &mut limited))?;
                let n = limited.filled().len();
                let result = this.check.consume(limited.filled());
                if result.is_ok() {
                    buf.advance(n);
                }
                Poll::Ready(result.map(|_| ()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::Error;

    /// A reader that hands out its data one byte per call and counts the calls.
    struct Trickle<'a> {
        data: &'a [u8],
        calls: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.calls += 1;
            match (self.data.split_first(), buf.first_mut()) {
                (Some((first, rest)), Some(slot)) => {
                    *slot = *first;
                    self.data = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn byte_by_byte_reads_verify() {
        let inner = Trickle {
            data: b"hello",
            calls: 0,
        };
        let mut reader = VerifyingReader::with_size(inner, Digest::from_bytes(b"hello"), 5);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).expect("content matches");
        assert_eq!(out, b"hello");
        assert!(reader.is_verified());
        // Reads after the verdict do not reach the inner reader again.
        let calls = reader.get_ref().calls;
        assert_eq!(reader.read(&mut [0; 8]).ok(), Some(0));
        assert_eq!(reader.get_ref().calls, calls);
    }

    #[test]
    fn a_failed_reader_keeps_failing() {
        let mut reader = VerifyingReader::new(&b"abc"[..], Digest::from_bytes(b"abd"));
        assert!(reader.read_to_end(&mut Vec::new()).is_err());
        let again = reader.read(&mut [0; 4]).expect_err("the verdict stays");
        assert!(matches!(
            Error::from_io(&again),
            Some(Error::Mismatch { .. })
        ));
    }
}
