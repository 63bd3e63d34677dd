//! A bounded pipe from the async download side to a blocking reader (the layer register),
//! whose end-of-stream means "every byte arrived and matched the digest".

use std::io::{self, Read};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::{Buf as _, Bytes};
use tokio::sync::mpsc;

/// Pieces in flight between the network and the extractor (each up to a network chunk,
/// typically 16-64 KiB): back-pressure, not a buffer of the blob.
pub(crate) const PIPE_DEPTH: usize = 32;

/// What travels through the pipe.
#[derive(Debug)]
pub(crate) enum Piece {
    /// Bytes of the blob, in order.
    Data(Bytes),
    /// Every byte was sent and verified.
    End,
    /// The download failed; the reader fails with this message.
    Failed(String),
}

/// The sending half.
pub(crate) type PipeSender = mpsc::Sender<Piece>;

/// A pipe: the sender for the async side, the reader for the blocking side.
pub(crate) fn pipe() -> (PipeSender, PipeReader) {
    let (tx, rx) = mpsc::channel(PIPE_DEPTH);
    let shared = Arc::new(Mutex::new(State {
        rx,
        current: Bytes::new(),
        outcome: None,
    }));
    (tx, PipeReader { shared })
}

#[derive(Debug)]
struct State {
    rx: mpsc::Receiver<Piece>,
    current: Bytes,
    /// Set once the stream ended: `Ok` after `End`, `Err` after a failure or a sender that
    /// went away without `End` (a cancelled download).
    outcome: Option<Result<(), String>>,
}

impl State {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.current.is_empty() {
                let n = self.current.len().min(buf.len());
                if let (Some(dst), Some(src)) = (buf.get_mut(..n), self.current.get(..n)) {
                    dst.copy_from_slice(src);
                }
                self.current.advance(n);
                return Ok(n);
            }
            match &self.outcome {
                Some(Ok(())) => return Ok(0),
                Some(Err(message)) => return Err(io::Error::other(message.clone())),
                None => {}
            }
            match self.rx.blocking_recv() {
                Some(Piece::Data(bytes)) => self.current = bytes,
                Some(Piece::End) => self.outcome = Some(Ok(())),
                Some(Piece::Failed(message)) => self.outcome = Some(Err(message)),
                None => self.outcome = Some(Err("the download was cancelled".to_owned())),
            }
        }
    }
}

/// The blocking reading half. Clones share the stream: [`PipeReader::finish`] on one clone
/// drains what another (a decompressor) left unread and reports how the stream ended.
#[derive(Debug, Clone)]
pub(crate) struct PipeReader {
    shared: Arc<Mutex<State>>,
}

impl PipeReader {
    /// Reads and drops the rest of the stream; `Ok` only if it ended verified.
    pub(crate) fn finish(&self) -> io::Result<()> {
        let mut state = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        let mut sink = [0u8; 8192];
        while state.read(&mut sink)? > 0 {}
        Ok(())
    }
}

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .read(buf)
    }
}

/// A reader (the decompressed tar) whose end is reported only once the underlying pipe
/// ended verified: the layer store sees EOF — and may commit the layer — only after the
/// blob's digest matched.
pub(crate) struct VerifiedEnd<R> {
    pub(crate) inner: R,
    pub(crate) pipe: PipeReader,
}

impl<R: Read> Read for VerifiedEnd<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.pipe.finish()?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pieces: Vec<Piece>) -> io::Result<Vec<u8>> {
        let (tx, reader) = pipe();
        let sender = std::thread::spawn(move || {
            for piece in pieces {
                if tx.blocking_send(piece).is_err() {
                    return;
                }
            }
        });
        let mut out = Vec::new();
        let mut verified = VerifiedEnd {
            inner: reader.clone(),
            pipe: reader,
        };
        let result = verified.read_to_end(&mut out).map(|_| out);
        let _ = sender.join();
        result
    }

    #[test]
    fn the_end_is_reported_only_after_verification() {
        let ok = run(vec![
            Piece::Data(Bytes::from_static(b"ab")),
            Piece::Data(Bytes::from_static(b"c")),
            Piece::End,
        ]);
        assert_eq!(ok.ok(), Some(b"abc".to_vec()));
        let failed = run(vec![
            Piece::Data(Bytes::from_static(b"ab")),
            Piece::Failed("digest mismatch".into()),
        ]);
        assert!(failed.is_err_and(|e| e.to_string().contains("digest mismatch")));
        let cancelled = run(vec![Piece::Data(Bytes::from_static(b"ab"))]);
        assert!(cancelled.is_err_and(|e| e.to_string().contains("cancelled")));
    }

    #[test]
    fn a_reader_that_stops_early_still_waits_for_the_verdict() {
        let (tx, reader) = pipe();
        let sender = std::thread::spawn(move || {
            let _ = tx.blocking_send(Piece::Data(Bytes::from_static(b"abcdef")));
            let _ = tx.blocking_send(Piece::Failed("size mismatch".into()));
        });
        // A reader that takes 2 bytes and declares the end (as a decoder might).
        let mut early = VerifiedEnd {
            inner: io::Read::take(reader.clone(), 2),
            pipe: reader,
        };
        let mut out = Vec::new();
        assert!(early.read_to_end(&mut out).is_err());
        let _ = sender.join();
    }
}
