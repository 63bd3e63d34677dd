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
///
/// ```
/// use std::io::Read;
/// use imgsvc_layerstore::tar::Reader;
///
/// # fn header(name: &str, size: usize) -> Vec<u8> {
/// #     let mut b = vec![0u8; 512];
/// #     b[..name.len()].copy_from_slice(name.as_bytes());
/// #     b[100..108].copy_from_slice(b"0000644\0");
/// #     b[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
/// #     b[136..148].copy_from_slice(b"00000000000\0");
/// #     b[156] = b'0';
/// #     b[257..265].copy_from_slice(b"ustar\x0000");
/// #     b[148..156].copy_from_slice(b"        ");
/// #     let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
/// #     b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
/// #     b
/// # }
/// let mut archive = header("a.txt", 5);
/// archive.extend_from_slice(b"hello");
/// archive.resize(512 * 4, 0);
///
/// let mut reader = Reader::new(&archive[..]);
/// let mut entry = reader.next_entry()?.ok_or("one entry")?;
/// // After the header block: 5 bytes to read.
/// assert_eq!((entry.header().size, entry.remaining(), entry.offset()), (5, 5, 512));
/// let mut first = [0u8; 2];
/// entry.read_exact(&mut first)?;
/// assert_eq!((&first, entry.remaining(), entry.offset()), (b"he", 3, 514));
/// // The rest is skipped by the next call.
/// assert!(reader.next_entry()?.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
