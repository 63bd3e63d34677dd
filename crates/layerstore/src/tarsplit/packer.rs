//! [`Packer`]: records tar-split metadata while a [`tar::Reader`](crate::tar::Reader) streams
//! a layer, as an [`Observer`] of it.

use std::io::{self, Write};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::Crc64;
use super::entry::{Entry, FileEntry, encode_segment};
use crate::tar::{Header, Observer, Sparse};

/// The most raw bytes in one segment entry: trailing garbage is recorded in pieces of this
/// size, as Docker's tar-split does, rather than held in memory whole.
pub const MAX_SEGMENT: usize = 1 << 20;

/// How many bytes of encoded lines are collected before they are written.
const BATCH: usize = 64 << 10;

/// Writes tar-split metadata for the tar stream it observes, in the format of Docker's
/// `tar-split.json.gz` (newline-delimited JSON entries, gzip-compressed with
/// [`Packer::new_gzip`]).
///
/// Give it to a [`tar::Reader`](crate::tar::Reader) as its observer (or `&mut` of it), read
/// the archive to its end, then call [`finish`](Packer::finish). For each tar entry it writes
/// a segment with the raw bytes before the entry's data (the previous entry's padding and
/// this entry's header blocks) and a [file entry](FileEntry) with the name, data size and
/// CRC-64/ISO of the data; after the last entry, a segment with the last padding and the
/// end-of-archive blocks, then any trailing bytes in segments of at most [`MAX_SEGMENT`]
/// bytes. For ordinary archives the lines are byte-identical to Docker's.
///
/// Unlike Docker's, it accepts an archive that names the same path twice (a layer store can
/// keep the earlier entry's data aside and still rebuild the tar).
///
/// Where this differs from Docker's tar-split, it is to rebuild the tar exactly: the size
/// recorded is the data stored in the archive (Docker records the header's size, even for a
/// link or directory whose header claims one, and the expanded size of a sparse file); GNU
/// sparse files carry their map (see [`FileEntry::sparse`]); and padding cut short by the end
/// of the input is kept.
///
/// ```
/// use imgsvc_layerstore::tar::Reader;
/// use imgsvc_layerstore::tarsplit::{self, Packer, Unpacker};
///
/// let empty_archive = vec![0u8; 1024];
/// let mut reader = Reader::with_observer(&empty_archive[..], Packer::new_gzip(Vec::new()));
/// while let Some(_entry) = reader.next_entry()? {}
/// let (_, packer) = reader.into_parts();
/// let metadata = packer.finish()?;
///
/// let mut rebuilt = Vec::new();
/// let mut tar = tarsplit::assemble(Unpacker::new_gzip(&metadata[..]), |_| Ok(std::io::empty()));
/// std::io::copy(&mut tar, &mut rebuilt)?;
/// assert_eq!(rebuilt, empty_archive);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Packer<W: Write> {
    out: Output<W>,
    /// Encoded lines not yet written: written in batches of [`BATCH`] bytes, as compressing
    /// or writing each short line on its own costs more than encoding it.
    lines: Vec<u8>,
    /// Raw bytes not yet written as a segment.
    pending: Vec<u8>,
    /// The next entry's position.
    position: u64,
    /// The entry whose data is being observed.
    current: Option<Current>,
}

/// Where the JSON lines go.
enum Output<W: Write> {
    Plain(W),
    Gzip(Box<GzEncoder<W>>),
}

/// The entry being recorded.
struct Current {
    name: Vec<u8>,
    size: u64,
    sparse: Option<Sparse>,
    crc: Crc64,
}

/// Construction
impl<W: Write> Packer<W> {
    /// Writes plain newline-delimited JSON to `out`, in writes of about 64 KiB.
    ///
    /// ```
    /// use imgsvc_layerstore::tar::Reader;
    /// use imgsvc_layerstore::tarsplit::Packer;
    ///
    /// // The empty archive: no entries, so one segment holding the two zero blocks.
    /// let mut reader = Reader::with_observer(&[0u8; 1024][..], Packer::new(Vec::new()));
    /// while reader.next_entry()?.is_some() {}
    /// let (_, packer) = reader.into_parts();
    /// assert_eq!(packer.entries(), 1);
    /// let lines = String::from_utf8(packer.finish()?)?;
    /// assert!(lines.starts_with(r#"{"type":2,"payload":"AAAA"#));
    /// assert!(lines.ends_with("\"position\":0}\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(out: W) -> Packer<W> {
        Packer::with_output(Output::Plain(out))
    }

    /// Writes gzip-compressed newline-delimited JSON to `out`, as in Docker's
    /// `tar-split.json.gz`.
    pub fn new_gzip(out: W) -> Packer<W> {
        // The metadata is mostly zero-filled headers in base64; the fastest level already
        // compresses it well, and the default level would slow registration down.
        Packer::with_output(Output::Gzip(Box::new(GzEncoder::new(
            out,
            Compression::fast(),
        ))))
    }

    fn with_output(out: Output<W>) -> Packer<W> {
        Packer {
            out,
            lines: Vec::with_capacity(BATCH + 4096),
            pending: Vec::new(),
            position: 0,
            current: None,
        }
    }
}

/// Finishing
impl<W: Write> Packer<W> {
    /// Writes any raw bytes not yet written, finishes compression, and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_segment()?;
        self.write_lines()?;
        match self.out {
            Output::Plain(mut out) => {
                out.flush()?;
                Ok(out)
            }
            Output::Gzip(gzip) => gzip.finish(),
        }
    }

    /// The number of entries written so far.
    pub fn entries(&self) -> u64 {
        self.position
    }

    /// Counts the line just encoded into `self.lines`, and writes the batch when it is full.
    fn line_added(&mut self) -> io::Result<()> {
        self.position += 1;
        if self.lines.len() >= BATCH {
            self.write_lines()?;
        }
        Ok(())
    }

    /// Writes the encoded lines collected so far.
    fn write_lines(&mut self) -> io::Result<()> {
        match &mut self.out {
            Output::Plain(out) => out.write_all(&self.lines)?,
            Output::Gzip(out) => out.write_all(&self.lines)?,
        }
        self.lines.clear();
        Ok(())
    }

    /// Writes the pending raw bytes, if any, as one segment.
    fn flush_segment(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        encode_segment(&self.pending, self.position, &mut self.lines);
        self.pending.clear();
        self.line_added()
    }
}

impl<W: Write> Observer for Packer<W> {
    fn segment(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let room = MAX_SEGMENT.saturating_sub(self.pending.len());
            let (now, rest) = bytes.split_at(room.min(bytes.len()));
            self.pending.extend_from_slice(now);
            bytes = rest;
            if self.pending.len() >= MAX_SEGMENT {
                self.flush_segment()?;
            }
        }
        Ok(())
    }

    fn entry_start(&mut self, header: &Header) -> io::Result<()> {
        self.flush_segment()?;
        self.current = Some(Current {
            name: header.path.clone(),
            size: header.size,
            sparse: header.sparse.clone(),
            crc: Crc64::new(),
        });
        Ok(())
    }

    fn content(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some(current) = &mut self.current {
            current.crc.update(bytes);
        }
        Ok(())
    }

    fn entry_end(&mut self) -> io::Result<()> {
        let Some(current) = self.current.take() else {
            return Ok(());
        };
        let entry = Entry::File(FileEntry {
            name: current.name,
            size: current.size,
            crc: (current.size > 0).then(|| current.crc.finalize()),
            sparse: current.sparse,
            position: self.position,
        });
        entry.encode(&mut self.lines);
        self.line_added()
    }

    fn archive_end(&mut self) -> io::Result<()> {
        self.flush_segment()
    }
}

impl<W: Write> std::fmt::Debug for Packer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Packer")
            .field("entries", &self.position)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}
