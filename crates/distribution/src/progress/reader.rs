//! A reader that reports how many bytes went through it.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Instant;

use super::{Action, Event, Progress, RateLimiter};

/// Wraps a reader and reports `action` events with the bytes read so far, rate-limited by a
/// [`RateLimiter`].
///
/// Besides the updates the limiter lets through, it reports the count at the end of the
/// stream and when the inner reader fails. When it is finished or dropped before `total`
/// bytes were read, it reports `current = total`, as Docker does when it closes a
/// progress reader, so that bars end full.
///
/// ```
/// use std::io::Read;
/// use std::sync::Arc;
/// use imgsvc_distribution::progress::{Action, Collect, Event, ProgressReader};
///
/// let sink = Arc::new(Collect::new());
/// let data = vec![0u8; 1 << 20];
/// let mut reader = ProgressReader::new(&data[..], sink.clone(), "0123456789ab", Action::Extracting, Some(1 << 20));
/// let mut half = vec![0u8; 1 << 19];
/// reader.read_exact(&mut half)?;
/// drop(reader); // stopped half-way: the last event still says "all of it"
///
/// let events = sink.take();
/// assert_eq!(events.first(), Some(&Event::layer("0123456789ab", Action::Extracting, 1 << 19, Some(1 << 20))));
/// assert_eq!(events.last(), Some(&Event::layer("0123456789ab", Action::Extracting, 1 << 20, Some(1 << 20))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ProgressReader<R> {
    inner: R,
    sink: Arc<dyn Progress>,
    id: String,
    action: Action,
    current: u64,
    limiter: RateLimiter,
    closed: bool,
}

/// Construction
impl<R: Read> ProgressReader<R> {
    /// Reports the bytes read from `inner` as `action` events of layer `id` to `sink`.
    /// `total` is the stream's size, when known.
    pub fn new(
        inner: R,
        sink: Arc<dyn Progress>,
        id: impl Into<String>,
        action: Action,
        total: Option<u64>,
    ) -> ProgressReader<R> {
        ProgressReader {
            inner,
            sink,
            id: id.into(),
            action,
            current: 0,
            limiter: RateLimiter::new(total),
            closed: false,
        }
    }
}

/// Access
impl<R> ProgressReader<R> {
    /// Bytes read so far.
    pub fn current(&self) -> u64 {
        self.current
    }

    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The wrapped reader, mutably. Bytes read from it directly are not counted.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }
}

/// Finishing
impl<R> ProgressReader<R> {
    /// Ends the stream's progress: if fewer than `total` bytes were read, reports `total`.
    /// Dropping the reader does the same.
    pub fn finish(mut self) {
        self.close();
    }

    fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        if let Some(total) = self.limiter.total()
            && self.current < total
        {
            self.current = total;
            self.send_now();
        }
    }

    /// Reports the current count unless it was the last one reported.
    fn send_if_new(&mut self) {
        if self.limiter.last_reported() != Some(self.current) {
            self.send_now();
        }
    }

    fn send_now(&mut self) {
        self.limiter.record(self.current, Instant::now());
        self.send();
    }

    fn send(&self) {
        self.sink.event(Event::layer(
            self.id.clone(),
            self.action,
            self.current,
            self.limiter.total(),
        ));
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(0) if !buf.is_empty() => {
                self.send_if_new();
                Ok(0)
            }
            Ok(n) => {
                self.current = self.current.saturating_add(n as u64);
                if self.limiter.update(self.current, Instant::now()) {
                    self.send();
                }
                Ok(n)
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => Err(err),
            Err(err) => {
                self.send_if_new();
                Err(err)
            }
        }
    }
}

impl<R> Drop for ProgressReader<R> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<R> std::fmt::Debug for ProgressReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressReader")
            .field("id", &self.id)
            .field("action", &self.action)
            .field("current", &self.current)
            .field("total", &self.limiter.total())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, Read};
    use std::sync::Arc;

    use super::ProgressReader;
    use crate::progress::{Action, Collect, Event};

    fn counts(events: &[Event]) -> Vec<u64> {
        events
            .iter()
            .filter_map(|event| match event {
                Event::Layer { current, .. } => Some(*current),
                Event::Message { .. } => None,
            })
            .collect()
    }

    #[test]
    fn a_whole_stream_ends_with_its_total_once() {
        let sink = Arc::new(Collect::new());
        let data = vec![1u8; 3 << 20];
        let mut reader = ProgressReader::new(
            &data[..],
            sink.clone(),
            "id",
            Action::Downloading,
            Some(3 << 20),
        );
        io::copy(&mut reader, &mut io::sink()).expect("reading a slice cannot fail");
        reader.finish();
        let counts = counts(&sink.take());
        assert_eq!(counts.last(), Some(&(3 << 20)));
        assert_eq!(counts.iter().filter(|&&c| c == 3 << 20).count(), 1);
        assert!(
            counts.windows(2).all(|w| w.first() < w.get(1)),
            "{counts:?}"
        );
    }

    #[test]
    fn an_unknown_size_reports_the_count_at_the_end() {
        let sink = Arc::new(Collect::new());
        let data = vec![1u8; 1000];
        let mut reader =
            ProgressReader::new(&data[..], sink.clone(), "id", Action::Extracting, None);
        io::copy(&mut reader, &mut io::sink()).expect("reading a slice cannot fail");
        drop(reader);
        assert_eq!(
            sink.take(),
            vec![Event::layer("id", Action::Extracting, 1000, None)]
        );
    }

    struct Failing;

    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("connection reset"))
        }
    }

    #[test]
    fn an_error_reports_the_count_so_far() {
        let sink = Arc::new(Collect::new());
        let mut reader = ProgressReader::new(
            io::Cursor::new(vec![0u8; 10]).chain(Failing),
            sink.clone(),
            "id",
            Action::Downloading,
            None,
        );
        let mut out = Vec::new();
        assert!(reader.read_to_end(&mut out).is_err());
        assert_eq!(counts(&sink.take()), vec![10]);
    }
}
