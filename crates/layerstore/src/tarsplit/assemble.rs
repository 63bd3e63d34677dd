//! [`assemble`]: rebuilds the original tar stream from tar-split entries and the files on
//! disk, lazily, as an [`io::Read`].

use std::io::{self, Read};

use super::entry::{Entry, FileEntry};
use super::error::Problem;
use super::{Crc64, Error};
use crate::tar::{SparseRegion, error_snippet};

/// The size of the buffer used to skip the holes of sparse files.
const HOLE_BUFFER: usize = 64 << 10;

/// Rebuilds a tar stream from tar-split `entries` (e.g. an [`Unpacker`](super::Unpacker)) and
/// the entries' files, opened by `open_file`.
///
/// The result is an [`io::Read`] that produces the tar as it is read: segments verbatim, and
/// for each file entry with data exactly [`FileEntry::size`] bytes from the reader
/// `open_file` returns, straight into the caller's buffer, checked against the recorded
/// CRC-64/ISO. A file that is shorter or longer than recorded, or whose checksum differs,
/// fails the read with [`Error::Integrity`] (`file integrity checksum failed for "<name>"`),
/// inside an `io::Error` (see [`Error::from_io`]); so do corrupt metadata and failures to open
/// or read a file. Entries without data never open a file.
///
/// For a sparse entry ([`FileEntry::sparse`]), `open_file` must return the expanded file; its
/// holes are read and skipped, and its data regions make up the tar's data. Bytes after the
/// last region are not checked.
///
/// ```
/// use std::io::Read;
/// use imgsvc_layerstore::tarsplit::{self, Entry, FileEntry, Segment};
///
/// let crc = crc::Crc::<u64>::new(&crc::CRC_64_GO_ISO).checksum(b"hi");
/// let entries = vec![
///     Entry::Segment(Segment { payload: b"<header>".to_vec(), position: 0 }),
///     Entry::File(FileEntry { name: b"a".to_vec(), size: 2, crc: Some(crc), ..FileEntry::default() }),
///     Entry::Segment(Segment { payload: b"<padding>".to_vec(), position: 2 }),
/// ];
/// let mut tar = tarsplit::assemble(entries.clone().into_iter().map(Ok), |file: &FileEntry| {
///     assert_eq!(file.name, b"a");
///     Ok(&b"hi"[..])
/// });
/// let mut out = Vec::new();
/// tar.read_to_end(&mut out)?;
/// assert_eq!(out, b"<header>hi<padding>");
///
/// let mut tampered = tarsplit::assemble(entries.into_iter().map(Ok), |_: &FileEntry| Ok(&b"ho"[..]));
/// let err = tampered.read_to_end(&mut Vec::new()).err().ok_or("the content changed")?;
/// assert!(err.to_string().starts_with("file integrity checksum failed for \"a\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn assemble<I, F, T>(entries: I, open_file: F) -> Assembler<I::IntoIter, F, T>
where
    I: IntoIterator<Item = Result<Entry, Error>>,
    F: FnMut(&FileEntry) -> io::Result<T>,
    T: Read,
{
    Assembler {
        entries: entries.into_iter(),
        open_file,
        state: State::Next,
        holes: Vec::new(),
    }
}

/// The tar stream being rebuilt by [`assemble`]; read it to the end.
pub struct Assembler<I, F, T> {
    entries: I,
    open_file: F,
    state: State<T>,
    /// Where the holes of sparse files are read to, allocated when first needed.
    holes: Vec<u8>,
}

/// What the next read produces.
enum State<T> {
    /// The next entry's bytes.
    Next,
    /// The rest of a segment.
    Segment { payload: Vec<u8>, at: usize },
    /// The rest of a file's data.
    File(Box<FileCopy<T>>),
    /// Nothing: the stream is complete.
    Done,
    /// Nothing: an error was returned.
    Failed,
}

/// A file's data being copied into the stream.
struct FileCopy<T> {
    file: T,
    entry: FileEntry,
    /// The index of the data region being copied.
    region: usize,
    /// The position in the file on disk.
    position: u64,
    /// Bytes copied into the stream so far.
    copied: u64,
    crc: Crc64,
}

impl<I, F, T> Read for Assembler<I, F, T>
where
    I: Iterator<Item = Result<Entry, Error>>,
    F: FnMut(&FileEntry) -> io::Result<T>,
    T: Read,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match self.fill(buf) {
            Ok(n) => Ok(n),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => Err(err),
            Err(err) => {
                self.state = State::Failed;
                Err(err)
            }
        }
    }
}

impl<I, F, T> Assembler<I, F, T>
where
    I: Iterator<Item = Result<Entry, Error>>,
    F: FnMut(&FileEntry) -> io::Result<T>,
    T: Read,
{
    /// Produces the next bytes of the stream into `buf` (not empty); 0 at the end.
    fn fill(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match &mut self.state {
                State::Next => self.next_entry()?,
                State::Segment { payload, at } => {
                    let rest = payload.get(*at..).unwrap_or_default();
                    let n = rest.len().min(buf.len());
                    buf.get_mut(..n)
                        .unwrap_or_default()
                        .copy_from_slice(rest.get(..n).unwrap_or_default());
                    *at += n;
                    if *at >= payload.len() {
                        self.state = State::Next;
                    }
                    if n > 0 {
                        return Ok(n);
                    }
                }
                State::File(copy) => {
                    let n = copy.read(buf, &mut self.holes)?;
                    if n > 0 {
                        return Ok(n);
                    }
                    self.state = State::Next;
                }
                State::Done => return Ok(0),
                State::Failed => return Err(Error::Failed.into_io()),
            }
        }
    }

    /// Moves to the next entry: a segment to copy, a file to open, or the end.
    fn next_entry(&mut self) -> io::Result<()> {
        self.state = match self.entries.next() {
            None => State::Done,
            Some(Err(err)) => return Err(err.into_io()),
            Some(Ok(Entry::Segment(segment))) => State::Segment {
                payload: segment.payload,
                at: 0,
            },
            Some(Ok(Entry::File(entry))) if entry.size == 0 => State::Next,
            Some(Ok(Entry::File(entry))) => {
                let file = (self.open_file)(&entry).map_err(|source| {
                    Error::OpenFile {
                        name: error_snippet(&entry.name),
                        source,
                    }
                    .into_io()
                })?;
                State::File(Box::new(FileCopy {
                    file,
                    entry,
                    region: 0,
                    position: 0,
                    copied: 0,
                    crc: Crc64::new(),
                }))
            }
        };
        Ok(())
    }
}

impl<T: Read> FileCopy<T> {
    /// The data region `index`: the whole file unless it is sparse.
    fn region(&self, index: usize) -> Option<SparseRegion> {
        match &self.entry.sparse {
            Some(sparse) => sparse.regions().get(index).copied(),
            None => (index == 0).then_some(SparseRegion {
                offset: 0,
                length: self.entry.size,
            }),
        }
    }

    /// Copies the next data bytes into `buf`; 0 once all are copied and verified.
    fn read(&mut self, buf: &mut [u8], holes: &mut Vec<u8>) -> io::Result<usize> {
        loop {
            let Some(region) = self.region(self.region) else {
                self.verify_end()?;
                return Ok(0);
            };
            if self.position < region.offset {
                let hole = region.offset - self.position;
                if holes.is_empty() {
                    holes.resize(HOLE_BUFFER, 0);
                }
                let want = usize::try_from(hole).map_or(holes.len(), |h| h.min(holes.len()));
                let skip = holes.get_mut(..want).unwrap_or_default();
                let n = self.read_file(skip)?;
                self.position += n as u64;
                continue;
            }
            let left = region.offset + region.length - self.position;
            if left == 0 {
                self.region += 1;
                continue;
            }
            let want = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
            let out = buf.get_mut(..want).unwrap_or_default();
            let n = self.read_file(out)?;
            self.crc.update(out.get(..n).unwrap_or_default());
            self.position += n as u64;
            self.copied += n as u64;
            return Ok(n);
        }
    }

    /// One read from the file that must produce bytes (the file must not end yet).
    fn read_file(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.file.read(buf) {
                Ok(0) => {
                    return Err(self.integrity(Problem::Short {
                        expected: self.entry.size,
                        actual: self.copied,
                    }));
                }
                Ok(n) => return Ok(n.min(buf.len())),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(Error::ReadFile {
                        name: error_snippet(&self.entry.name),
                        source,
                    }
                    .into_io());
                }
            }
        }
    }

    /// After the last byte: a regular file must end here, and the checksum must match.
    fn verify_end(&mut self) -> io::Result<()> {
        if self.entry.sparse.is_none() {
            let mut probe = [0u8; 1];
            loop {
                match self.file.read(&mut probe) {
                    Ok(0) => break,
                    Ok(_) => {
                        return Err(self.integrity(Problem::Long {
                            expected: self.entry.size,
                        }));
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(source) => {
                        return Err(Error::ReadFile {
                            name: error_snippet(&self.entry.name),
                            source,
                        }
                        .into_io());
                    }
                }
            }
        }
        let actual = std::mem::replace(&mut self.crc, Crc64::new()).finalize();
        match self.entry.crc {
            Some(expected) if expected == actual => Ok(()),
            expected => Err(self.integrity(Problem::Checksum {
                expected: expected.unwrap_or_default(),
                actual,
            })),
        }
    }

    fn integrity(&self, problem: Problem) -> io::Error {
        Error::Integrity {
            name: error_snippet(&self.entry.name),
            problem,
        }
        .into_io()
    }
}

impl<I, F, T> std::fmt::Debug for Assembler<I, F, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Next => "between entries",
            State::Segment { .. } => "in a segment",
            State::File(_) => "in a file",
            State::Done => "done",
            State::Failed => "failed",
        };
        f.debug_struct("Assembler")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}
