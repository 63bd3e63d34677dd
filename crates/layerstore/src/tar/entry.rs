//! [`Entry`]: one archive entry's header, and a reader of its stored data that reads straight
//! from the input into the caller's buffer.

use std::fmt;
use std::io::{self, Read};

use super::reader::{State, read_some};
use super::{Error, Header, Observer, Reader};

/// An entry of a tar archive, borrowed from its [`Reader`]: the [`header`](Entry::header),
/// and [`Read`] for the data stored in the archive ([`Header::size`] bytes; for a sparse file
/// the packed regions, see [`Sparse`](super::Sparse)).
///
/// Reads go directly from the input into the caller's buffer (and to the observer's
/// [`content`](Observer::content)), never ahead of the entry's end. Dropping the entry
/// early is fine: the next [`Reader::next_entry`] skips what is left.
///
/// A read fails with an [`io::Error`] carrying an [`Error`] (see [`Error::from_io`]) when the
/// input ends inside the data ([`Error::Truncated`], kind `UnexpectedEof`) or fails; an
/// observer's error is returned as is. The reader is then finished.
pub struct Entry<'a, R, O = ()> {
    pub(super) reader: &'a mut Reader<R, O>,
}

/// Access
impl<R, O> Entry<'_, R, O> {
    /// The entry's metadata.
    pub fn header(&self) -> &Header {
        &self.reader.header
    }

    /// The number of data bytes not read yet.
    pub fn remaining(&self) -> u64 {
        self.reader.remaining
    }

    /// The number of bytes the [`Reader`] has consumed from its input so far.
    pub fn offset(&self) -> u64 {
        self.reader.offset
    }
}

impl<R: Read, O: Observer> Read for Entry<'_, R, O> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let reader = &mut *self.reader;
        if reader.state != State::InEntry {
            return Err(Error::Failed.into_io());
        }
        let want = usize::try_from(reader.remaining).map_or(buf.len(), |r| r.min(buf.len()));
        let Some(buf) = buf.get_mut(..want).filter(|b| !b.is_empty()) else {
            return Ok(0);
        };
        let n = match read_some(&mut reader.inner, buf, reader.offset) {
            Ok(0) => {
                reader.state = State::Failed;
                return Err(reader.truncated_data().into_io());
            }
            Ok(n) => n,
            Err(err) => {
                reader.state = State::Failed;
                return Err(err.into_io());
            }
        };
        reader.offset += n as u64;
        reader.remaining -= n as u64;
        let data = buf.get(..n).unwrap_or_default();
        if let Err(err) = reader.observer.content(data) {
            reader.state = State::Failed;
            return Err(err);
        }
        Ok(n)
    }
}

impl<R, O> fmt::Debug for Entry<'_, R, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("header", self.header())
            .field("remaining", &self.remaining())
            .finish()
    }
}
