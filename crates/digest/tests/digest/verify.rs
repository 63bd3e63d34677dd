//! Verifying content: the `Verifier` sink, and `VerifyingReader` over sync and async readers.

use std::io::{self, Read, Write};

use imgsvc_digest::{Digest, Error, Verifier, VerifyingReader};

const CONTENT: &[u8] = b"the quick brown fox jumps over the lazy dog";

fn digest_error(err: &io::Error) -> &Error {
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    Error::from_io(err).expect("a verifying reader's error carries a digest error")
}

#[test]
fn verifier_accepts_exactly_the_content() {
    let expected = Digest::from_bytes(CONTENT);
    let mut verifier = Verifier::with_size(expected, CONTENT.len() as u64);
    for chunk in CONTENT.chunks(5) {
        assert!(!verifier.verified());
        verifier.write_all(chunk).expect("memory sink");
    }
    assert!(verifier.verified());
    assert_eq!(verifier.finish(), Ok(CONTENT.len() as u64));
}

#[test]
fn verifier_refuses_more_content() {
    let mut verifier = Verifier::with_size(Digest::from_bytes(CONTENT), CONTENT.len() as u64);
    verifier.write_all(CONTENT).expect("memory sink");
    verifier.write_all(b"!").expect("memory sink");
    assert!(!verifier.verified());
    assert!(matches!(verifier.finish(), Err(Error::SizeMismatch { .. })));
}

#[test]
fn reader_passes_matching_content_through() {
    let mut reader = VerifyingReader::new(CONTENT, Digest::from_bytes(CONTENT));
    let mut out = Vec::new();
    reader.read_to_end(&mut out).expect("content matches");
    assert_eq!(out, CONTENT);
    assert!(reader.is_verified());
    assert_eq!(reader.bytes_read(), CONTENT.len() as u64);
}

#[test]
fn reader_names_both_digests_on_a_mismatch() {
    let expected = Digest::from_bytes(b"something else");
    let mut reader = VerifyingReader::new(CONTENT, expected);
    let err = reader
        .read_to_end(&mut Vec::new())
        .expect_err("different content");
    assert_eq!(
        digest_error(&err),
        &Error::Mismatch {
            expected,
            actual: Digest::from_bytes(CONTENT)
        }
    );
    let message = err.to_string();
    assert!(message.contains(&expected.to_string()), "{message}");
    assert!(!reader.is_verified());
}

#[test]
fn reader_refuses_a_short_stream_even_with_a_matching_prefix() {
    let short = &CONTENT[..10];
    let mut reader =
        VerifyingReader::with_size(short, Digest::from_bytes(short), CONTENT.len() as u64);
    let err = reader
        .read_to_end(&mut Vec::new())
        .expect_err("shorter than promised");
    assert_eq!(
        digest_error(&err),
        &Error::SizeMismatch {
            expected: CONTENT.len() as u64,
            actual: 10
        }
    );
}

/// An endless stream of zeros, counting how much was asked of it.
struct Endless {
    handed_out: u64,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        buf.fill(0);
        self.handed_out += buf.len() as u64;
        Ok(buf.len())
    }
}

#[test]
fn reader_stops_a_stream_that_never_ends() {
    let mut reader = VerifyingReader::with_size(
        Endless { handed_out: 0 },
        Digest::from_bytes(&[0; 100]),
        100,
    );
    let mut out = Vec::new();
    let err = reader.read_to_end(&mut out).expect_err("endless");
    assert!(matches!(
        digest_error(&err),
        Error::SizeMismatch {
            expected: 100,
            actual: 101
        }
    ));
    assert_eq!(
        out.len(),
        100,
        "nothing past the expected size is handed on"
    );
    assert_eq!(
        reader.get_ref().handed_out,
        101,
        "at most one byte past the size is read"
    );
}

#[test]
fn reader_with_size_accepts_exact_content_in_small_reads() {
    let mut reader =
        VerifyingReader::with_size(CONTENT, Digest::from_bytes(CONTENT), CONTENT.len() as u64);
    let mut out = Vec::new();
    let mut buf = [0u8; 3];
    loop {
        let n = reader.read(&mut buf).expect("content matches");
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    assert_eq!(out, CONTENT);
    assert!(reader.is_verified());
}

#[cfg(feature = "tokio")]
mod async_reader {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

    use super::*;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime builds")
            .block_on(future)
    }

    /// An async reader that hands out its data in chunks of at most `chunk` bytes and then,
    /// if `endless`, zeros forever.
    struct Chunks {
        data: Vec<u8>,
        chunk: usize,
        endless: bool,
    }

    impl AsyncRead for Chunks {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let n = self.chunk.min(buf.remaining());
            if self.data.is_empty() {
                if self.endless {
                    buf.put_slice(&vec![0; n]);
                }
                return Poll::Ready(Ok(()));
            }
            let n = n.min(self.data.len());
            let head: Vec<u8> = self.data.drain(..n).collect();
            buf.put_slice(&head);
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn async_reader_verifies_matching_content() {
        let source = Chunks {
            data: CONTENT.to_vec(),
            chunk: 7,
            endless: false,
        };
        let mut reader =
            VerifyingReader::with_size(source, Digest::from_bytes(CONTENT), CONTENT.len() as u64);
        let out = block_on(async {
            let mut out = Vec::new();
            reader.read_to_end(&mut out).await.map(|_| out)
        })
        .expect("content matches");
        assert_eq!(out, CONTENT);
        assert!(reader.is_verified());
    }

    #[test]
    fn async_reader_reports_a_mismatch() {
        let source = Chunks {
            data: CONTENT.to_vec(),
            chunk: 64,
            endless: false,
        };
        let mut reader = VerifyingReader::new(source, Digest::from_bytes(b"other"));
        let err = block_on(reader.read_to_end(&mut Vec::new())).expect_err("different");
        assert!(matches!(digest_error(&err), Error::Mismatch { .. }));
    }

    #[test]
    fn async_reader_stops_an_endless_stream_at_its_first_extra_byte() {
        let source = Chunks {
            data: CONTENT.to_vec(),
            chunk: 1000,
            endless: true,
        };
        let mut reader =
            VerifyingReader::with_size(source, Digest::from_bytes(CONTENT), CONTENT.len() as u64);
        let mut out = Vec::new();
        let err = block_on(reader.read_to_end(&mut out)).expect_err("endless");
        assert!(matches!(digest_error(&err), Error::SizeMismatch { .. }));
        assert_eq!(out, CONTENT, "nothing past the expected size is handed on");
    }
}
