//! The response body: bytes sent in pieces, with the body faults (slow, cut short) applied
//! and every byte counted for the log.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

const CHUNK: usize = 64 * 1024;
/// How long a cut body waits before failing (see `poll_frame`).
const FLUSH_WAIT: Duration = Duration::from_millis(50);

pub(crate) struct ResponseBody {
    data: Bytes,
    pos: usize,
    /// Stop with an error here (connection closed mid-body).
    limit: usize,
    chunk: usize,
    delay: Option<Duration>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    sent: Arc<AtomicU64>,
    flushed: bool,
}

impl ResponseBody {
    pub(crate) fn new(data: Bytes) -> ResponseBody {
        ResponseBody {
            limit: data.len(),
            data,
            pos: 0,
            chunk: CHUNK,
            delay: None,
            sleep: None,
            sent: Arc::new(AtomicU64::new(0)),
            flushed: false,
        }
    }

    pub(crate) fn empty() -> ResponseBody {
        ResponseBody::new(Bytes::new())
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.sent)
    }

    pub(crate) fn corrupt(&mut self, offset: u64) {
        let mut data = self.data.to_vec();
        if let Some(byte) = usize::try_from(offset).ok().and_then(|o| data.get_mut(o)) {
            *byte ^= 0xff;
        }
        self.data = data.into();
    }

    pub(crate) fn drop_after(&mut self, bytes: u64) {
        self.limit = usize::try_from(bytes)
            .unwrap_or(usize::MAX)
            .min(self.data.len());
    }

    pub(crate) fn slow(&mut self, chunk: usize, delay: Duration) {
        self.chunk = chunk.max(1);
        self.delay = Some(delay);
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if this.pos >= this.data.len() {
            return Poll::Ready(None);
        }
        if this.pos >= this.limit {
            // hyper closes without flushing what it buffered when a body fails: wait first,
            // so that the bytes before the cut reach the client.
            if !this.flushed {
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(FLUSH_WAIT)));
                ready!(sleep.as_mut().poll(cx));
                this.sleep = None;
                this.flushed = true;
            }
            return Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "testkit fault: connection dropped mid-body",
            ))));
        }
        if let Some(delay) = this.delay
            && this.pos > 0
        {
            let sleep = this
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
            ready!(sleep.as_mut().poll(cx));
            this.sleep = None;
        }
        let end = this.limit.min(this.pos.saturating_add(this.chunk));
        let piece = this.data.slice(this.pos..end);
        this.pos = end;
        this.sent.fetch_add(piece.len() as u64, Ordering::Relaxed);
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact((self.data.len() - self.pos.min(self.data.len())) as u64)
    }
}
