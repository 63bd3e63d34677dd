//! [`Reader`]: walks a tar stream entry by entry, reading exactly the bytes it needs, and shows
//! every byte to an [`Observer`].

use std::fmt;
use std::io::{self, Read};

use super::block::{BLOCK, Block};
use super::error::snippet;
use super::fields::{merge_pax, parse_block};
use super::pax::{self, Record};
use super::sparse;
use super::{Entry, Error, Header, Kind, Observer, Sparse};

/// The most bytes of extension data (a PAX header, a GNU long name or link, a sparse map)
/// accepted for one entry: 1 MiB, the limit of Go's reader.
pub const MAX_EXTENSION_SIZE: u64 = 1 << 20;

/// The size of the buffer used to skip unread entry data and to read trailing bytes.
const SCRATCH: usize = 64 << 10;

/// A streaming tar reader that parses ustar, PAX, GNU and star archives as Go's
/// `archive/tar` does (the reader Docker uses), keeps every raw byte observable, and never
/// reads ahead of what it needs.
///
/// Call [`next_entry`](Reader::next_entry) until it returns `None`; each [`Entry`] gives the
/// entry's [`Header`] and reads its data. Data left unread is skipped (read and passed to the
/// observer) by the next call. When `next_entry` returns `None`, the whole input has been
/// consumed up to its end, trailing bytes included, so a hashing reader underneath has seen
/// the entire stream.
///
/// The end of the archive is two zero blocks, one zero block then the end of the input, or
/// the end of the input where a header (or the padding before it) would start. Anything after
/// the end-of-archive blocks is passed to the observer as segments.
///
/// ```
/// use std::io::Read;
/// use imgsvc_layerstore::tar::{Kind, Reader};
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
/// // A one-file archive: header, 5 bytes of data, padding, end-of-archive blocks.
/// let mut archive = header("hello.txt", 5);
/// archive.extend_from_slice(b"hello");
/// archive.resize(512 * 4, 0);
///
/// let mut reader = Reader::new(&archive[..]);
/// while let Some(mut entry) = reader.next_entry()? {
///     assert_eq!(entry.header().path, b"hello.txt");
///     assert_eq!(entry.header().kind, Kind::Regular);
///     let mut data = String::new();
///     entry.read_to_string(&mut data)?;
///     assert_eq!(data, "hello");
/// }
/// assert_eq!(reader.offset(), archive.len() as u64);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Reader<R, O = ()> {
    pub(super) inner: R,
    pub(super) observer: O,
    /// Bytes consumed from `inner` so far.
    pub(super) offset: u64,
    pub(super) state: State,
    /// The current entry's header (its allocations are reused).
    pub(super) header: Header,
    /// Data bytes of the current entry not yet read.
    pub(super) remaining: u64,
    /// Padding bytes to read before the next header.
    pad: usize,
    /// Padding plus one header block, read together.
    buf: [u8; 2 * BLOCK],
    /// For skipping unread data and draining trailing bytes; allocated when first needed.
    scratch: Vec<u8>,
}

/// Where a [`Reader`] is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// Before the first entry, or after an entry's data was fully passed on.
    Between,
    /// An entry has been returned; its data may be partly unread.
    InEntry,
    /// The archive ended and the input was consumed to its end.
    Ended,
    /// An error was returned; the reader cannot continue.
    Failed,
}

/// Extension headers seen before an entry's main header.
#[derive(Default)]
struct Extensions {
    pax: Option<Vec<Record>>,
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    first_offset: Option<u64>,
}

/// Construction
impl<R: Read> Reader<R> {
    /// Reads the archive in `inner` without observing raw bytes.
    pub fn new(inner: R) -> Reader<R> {
        Reader::with_observer(inner, ())
    }
}

/// Construction
impl<R: Read, O: Observer> Reader<R, O> {
    /// Reads the archive in `inner`, showing every consumed byte to `observer` (see
    /// [`Observer`] for the order of calls).
    pub fn with_observer(inner: R, observer: O) -> Reader<R, O> {
        Reader {
            inner,
            observer,
            offset: 0,
            state: State::Between,
            header: Header::default(),
            remaining: 0,
            pad: 0,
            buf: [0; 2 * BLOCK],
            scratch: Vec::new(),
        }
    }
}

/// Reading
impl<R: Read, O: Observer> Reader<R, O> {
    /// The next entry, or `None` at the end of the archive (after consuming the input to its
    /// end). Unread data of the previous entry is skipped first.
    ///
    /// After an error, every call returns [`Error::Failed`].
    pub fn next_entry(&mut self) -> Result<Option<Entry<'_, R, O>>, Error> {
        match self.advance() {
            Ok(true) => {
                self.state = State::InEntry;
                Ok(Some(Entry { reader: self }))
            }
            Ok(false) => {
                self.state = State::Ended;
                Ok(None)
            }
            Err(err) => {
                self.state = State::Failed;
                Err(err)
            }
        }
    }

    /// Finishes the current entry and reads the next entry's headers; `false` at the end.
    fn advance(&mut self) -> Result<bool, Error> {
        match self.state {
            State::Failed => return Err(Error::Failed),
            State::Ended => return Ok(false),
            State::InEntry => self.finish_entry()?,
            State::Between => {}
        }
        self.read_headers()
    }

    /// Skips the current entry's unread data (passing it to the observer) and ends it.
    fn finish_entry(&mut self) -> Result<(), Error> {
        while self.remaining > 0 {
            let want = usize::try_from(self.remaining).map_or(SCRATCH, |r| r.min(SCRATCH));
            let scratch = scratch(&mut self.scratch, want);
            let n = read_some(&mut self.inner, scratch, self.offset)?;
            if n == 0 {
                return Err(self.truncated_data());
            }
            self.offset += n as u64;
            self.remaining -= n as u64;
            let data = scratch.get(..n).unwrap_or_default();
            let offset = self.offset;
            self.observer
                .content(data)
                .map_err(|source| Error::Observer { offset, source })?;
        }
        self.observe(|o| o.entry_end())?;
        self.state = State::Between;
        Ok(())
    }

    /// The error for an entry whose data ends early.
    pub(super) fn truncated_data(&self) -> Error {
        Error::Truncated {
            offset: self.offset,
            context: format!(
                "the data of {:?} ({} of {} bytes missing)",
                snippet(&self.header.path),
                self.remaining,
                self.header.size
            ),
        }
    }

    /// Reads extension headers up to and including the next entry's main header, fills
    /// `self.header`, and announces the entry. `false` at the end of the archive.
    fn read_headers(&mut self) -> Result<bool, Error> {
        self.header.clear();
        let mut ext = Extensions::default();
        loop {
            let Some(block) = self.read_padding_and_block()? else {
                return self.end_of_archive();
            };
            let offset = self.offset - BLOCK as u64;
            if Block(&block).is_zero() {
                return self.second_zero_block(offset);
            }
            ext.first_offset.get_or_insert(offset);
            let info = parse_block(&block, offset, &mut self.header)?;
            match self.header.typeflag {
                flag @ (b'x' | b'g') => {
                    let data =
                        self.read_extension(info.size, offset, "PAX extended header data")?;
                    let mut records = Vec::new();
                    pax::parse_records(&data, &mut records)
                        .map_err(|reason| Error::BadPax { offset, reason })?;
                    if flag == b'x' {
                        // As in Go's reader, a second PAX header replaces the first.
                        ext.pax = Some(records);
                        continue;
                    }
                    merge_pax(&mut self.header, &records, offset)?;
                    self.header.pax_records = records;
                    self.header.kind = Kind::PaxGlobal;
                    self.header.offset = ext.first_offset.unwrap_or(offset);
                    // The padding after the records (noted by `read_extension`) is read
                    // before the next header.
                    return self.start_entry(0);
                }
                flag @ (b'L' | b'K') => {
                    let what = if flag == b'L' {
                        "GNU long name"
                    } else {
                        "GNU long link"
                    };
                    let data = self.read_extension(info.size, offset, what)?;
                    let value = super::number::c_string(&data).to_vec();
                    if flag == b'L' {
                        ext.long_name = Some(value);
                    } else {
                        ext.long_link = Some(value);
                    }
                }
                _ => return self.main_header(&block, info, offset, ext),
            }
        }
    }

    /// Completes an entry from its main header block and the extensions before it.
    fn main_header(
        &mut self,
        block: &[u8; BLOCK],
        info: super::fields::BlockInfo,
        offset: u64,
        ext: Extensions,
    ) -> Result<bool, Error> {
        let records = ext.pax.unwrap_or_default();
        let size = merge_pax(&mut self.header, &records, offset)?.unwrap_or(info.size);
        if let Some(name) = ext.long_name.filter(|n| !n.is_empty()) {
            self.header.path = name;
        }
        if let Some(link) = ext.long_link.filter(|l| !l.is_empty()) {
            self.header.link = link;
        }
        let header = &mut self.header;
        header.kind = match header.typeflag {
            // Historic archives mark directories with a trailing slash.
            0 if header.path.ends_with(b"/") => Kind::Directory,
            flag => Kind::from_typeflag(flag),
        };
        header.declared_size = size;
        header.offset = ext.first_offset.unwrap_or(offset);
        header.pax_records = records;
        let mut stored = if header.kind.is_header_only() {
            0
        } else {
            size
        };

        let regions = if header.typeflag == b'S' {
            Some(self.old_gnu_sparse(block, info.format, offset)?)
        } else {
            match sparse::pax_format(&self.header.pax_records) {
                None => None,
                Some(format) => Some(self.pax_sparse(format, offset, &mut stored)?),
            }
        };
        if let Some((real_size, regions)) = regions {
            let invalid = |header: &Header, reason| Error::InvalidSparse {
                offset,
                entry: snippet(&header.path),
                reason,
            };
            if self.header.kind.is_header_only() {
                return Err(invalid(&self.header, "only regular files can be sparse"));
            }
            let map =
                Sparse::new(real_size, regions).map_err(|reason| invalid(&self.header, reason))?;
            if map.data_size() != stored {
                return Err(invalid(
                    &self.header,
                    "the regions' lengths do not add up to the stored data size",
                ));
            }
            self.header.declared_size = real_size;
            self.header.sparse = Some(map);
        }
        self.pad = padding(stored);
        self.start_entry(stored)
    }

    /// Announces the entry in `self.header` with `stored` bytes of data to follow (and the
    /// padding after them noted in `self.pad`).
    fn start_entry(&mut self, stored: u64) -> Result<bool, Error> {
        self.header.size = stored;
        self.remaining = stored;
        let offset = self.offset;
        self.observer
            .entry_start(&self.header)
            .map_err(|source| Error::Observer { offset, source })?;
        Ok(true)
    }

    /// Reads the data of an extension header (at most [`MAX_EXTENSION_SIZE`] bytes) and
    /// notes the padding after it.
    fn read_extension(
        &mut self,
        size: u64,
        offset: u64,
        what: &'static str,
    ) -> Result<Vec<u8>, Error> {
        if size > MAX_EXTENSION_SIZE {
            return Err(Error::TooLarge {
                offset,
                what,
                size,
                limit: MAX_EXTENSION_SIZE,
            });
        }
        let mut data = vec![0; usize::try_from(size).unwrap_or_default()];
        let n = read_full(&mut self.inner, &mut data, self.offset)?;
        self.offset += n as u64;
        if n < data.len() {
            return Err(Error::Truncated {
                offset: self.offset,
                context: format!("the {what} of the header at offset {offset}"),
            });
        }
        self.observe(|o| o.segment(&data))?;
        self.pad = padding(size);
        Ok(data)
    }

    /// Reads the padding before the next header and the header block itself; `None` if the
    /// input ends in the padding or exactly where the block would start.
    fn read_padding_and_block(&mut self) -> Result<Option<[u8; BLOCK]>, Error> {
        let pad = std::mem::take(&mut self.pad);
        let want = pad + BLOCK;
        let buf = self.buf.get_mut(..want).unwrap_or_default();
        let n = read_full(&mut self.inner, buf, self.offset)?;
        self.offset += n as u64;
        let got = buf.get(..n).unwrap_or_default();
        if n > 0 {
            let offset = self.offset;
            self.observer
                .segment(got)
                .map_err(|source| Error::Observer { offset, source })?;
        }
        if n <= pad {
            return Ok(None);
        }
        match got.get(pad..).and_then(|b| <[u8; BLOCK]>::try_from(b).ok()) {
            Some(block) => Ok(Some(block)),
            None => Err(Error::Truncated {
                offset: self.offset,
                context: "a header block".into(),
            }),
        }
    }

    /// Reads one whole block that must be there (sparse headers and maps).
    pub(super) fn read_block(&mut self, what: &str) -> Result<[u8; BLOCK], Error> {
        let mut block = [0u8; BLOCK];
        let n = read_full(&mut self.inner, &mut block, self.offset)?;
        self.offset += n as u64;
        if n < BLOCK {
            return Err(Error::Truncated {
                offset: self.offset,
                context: format!("{what} for {:?}", snippet(&self.header.path)),
            });
        }
        self.observe(|o| o.segment(&block))?;
        Ok(block)
    }

    /// After a zero block: the end of the archive if another zero block or the end of the
    /// input follows.
    fn second_zero_block(&mut self, offset: u64) -> Result<bool, Error> {
        let mut block = [0u8; BLOCK];
        let n = read_full(&mut self.inner, &mut block, self.offset)?;
        self.offset += n as u64;
        let got = block.get(..n).unwrap_or_default();
        if n > 0 {
            let at = self.offset;
            self.observer
                .segment(got)
                .map_err(|source| Error::Observer { offset: at, source })?;
        }
        if n == 0 || (n == BLOCK && Block(&block).is_zero()) {
            return self.end_of_archive();
        }
        if n < BLOCK {
            return Err(Error::Truncated {
                offset: self.offset,
                context: "the end-of-archive blocks".into(),
            });
        }
        Err(Error::LoneZeroBlock { offset })
    }

    /// Tells the observer the archive ended, then passes on every remaining input byte.
    fn end_of_archive(&mut self) -> Result<bool, Error> {
        self.observe(|o| o.archive_end())?;
        loop {
            let scratch = scratch(&mut self.scratch, SCRATCH);
            let n = read_some(&mut self.inner, scratch, self.offset)?;
            if n == 0 {
                return Ok(false);
            }
            self.offset += n as u64;
            let offset = self.offset;
            let data = scratch.get(..n).unwrap_or_default();
            self.observer
                .segment(data)
                .map_err(|source| Error::Observer { offset, source })?;
        }
    }

    /// Runs an observer call, turning its failure into [`Error::Observer`].
    fn observe(&mut self, call: impl FnOnce(&mut O) -> io::Result<()>) -> Result<(), Error> {
        let offset = self.offset;
        call(&mut self.observer).map_err(|source| Error::Observer { offset, source })
    }
}

/// Access
impl<R, O> Reader<R, O> {
    /// The number of bytes consumed from the input so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether the archive has ended and the input was consumed to its end.
    ///
    /// ```
    /// use imgsvc_layerstore::tar::{Observer, Reader};
    ///
    /// /// Counts the bytes that are not entry data.
    /// #[derive(Default)]
    /// struct Structure(u64);
    /// impl Observer for Structure {
    ///     fn segment(&mut self, bytes: &[u8]) -> std::io::Result<()> {
    ///         self.0 += bytes.len() as u64;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// // The empty archive, then 3 trailing bytes, which are read and observed too.
    /// let mut input = vec![0u8; 1024];
    /// input.extend_from_slice(b"end");
    /// let mut reader = Reader::with_observer(&input[..], Structure::default());
    /// assert!(!reader.is_finished());
    /// assert!(reader.next_entry()?.is_none());
    /// assert!(reader.is_finished());
    /// assert_eq!((reader.offset(), reader.observer().0), (1027, 1027));
    /// reader.observer_mut().0 = 0; // the observer is the caller's to use
    /// assert!(reader.get_ref().is_empty()); // the input is consumed
    /// let (_rest, observer) = reader.into_parts();
    /// assert_eq!(observer.0, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        self.state == State::Ended
    }

    /// The observer.
    pub fn observer(&self) -> &O {
        &self.observer
    }

    /// The observer, mutably.
    pub fn observer_mut(&mut self) -> &mut O {
        &mut self.observer
    }

    /// The input reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The input reader and the observer.
    pub fn into_parts(self) -> (R, O) {
        (self.inner, self.observer)
    }
}

impl<R, O> fmt::Debug for Reader<R, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("offset", &self.offset)
            .field("state", &self.state)
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

/// The zero bytes after `size` bytes of data up to the next block boundary.
fn padding(size: u64) -> usize {
    // The remainder is below 512, so the conversion cannot fail.
    usize::try_from((BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64).unwrap_or_default()
}

/// The first `len` bytes of the scratch buffer, allocating it on first use.
fn scratch(buf: &mut Vec<u8>, len: usize) -> &mut [u8] {
    if buf.is_empty() {
        buf.resize(SCRATCH, 0);
    }
    let len = len.min(buf.len());
    buf.get_mut(..len).unwrap_or_default()
}

/// One read, retried when interrupted; never claims more than `buf.len()` bytes.
pub(super) fn read_some<R: Read>(
    inner: &mut R,
    buf: &mut [u8],
    offset: u64,
) -> Result<usize, Error> {
    loop {
        match inner.read(buf) {
            Ok(n) => return Ok(n.min(buf.len())),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => return Err(Error::Io { offset, source }),
        }
    }
}

/// Reads until `buf` is full or the input ends; returns the number of bytes read.
fn read_full<R: Read>(inner: &mut R, buf: &mut [u8], offset: u64) -> Result<usize, Error> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        let n = read_some(inner, rest, offset + filled as u64)?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_to_the_next_block() {
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(511), 1);
        assert_eq!(padding(512), 0);
        assert_eq!(padding(513), 511);
        assert_eq!(padding(u64::MAX), 1);
    }

    #[test]
    fn empty_input_is_an_empty_archive() {
        let mut reader = Reader::new(&b""[..]);
        assert!(reader.next_entry().expect("empty archive").is_none());
        assert!(reader.is_finished());
        assert!(reader.next_entry().expect("still ended").is_none());
    }

    #[test]
    fn errors_are_sticky() {
        let mut reader = Reader::new(&[1u8; 512][..]);
        assert!(matches!(reader.next_entry(), Err(Error::NotTar { .. })));
        assert!(matches!(reader.next_entry(), Err(Error::Failed)));
    }
}
