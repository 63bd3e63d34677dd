//! [`Unpacker`]: reads tar-split metadata back, entry by entry, with bounded memory.

use std::io::{BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;

use super::Error;
use super::entry::Entry;

/// The longest metadata line accepted: far above what any entry written by tar-split can
/// need (a 1 MiB segment is about 1.4 MiB of base64), far below what would hurt.
pub const MAX_LINE: usize = 16 << 20;

/// Reads tar-split metadata (newline-delimited JSON, or gzip of it as in Docker's
/// `tar-split.json.gz`) as [`Entry`] values, one line at a time.
///
/// Entries are read as Docker's tar-split reads them (unknown fields are ignored, `name_raw`
/// holds names that are not UTF-8, a missing or `null` payload is empty); unlike Docker's,
/// two file entries may name the same path. Errors name the line. After an error the iterator ends.
///
/// ```
/// use imgsvc_layerstore::tarsplit::{Entry, Unpacker};
///
/// let metadata = br#"{"type":2,"payload":"aGVhZGVy","position":0}
/// {"type":1,"name":"etc/hostname","size":5,"payload":"AAAAAAAAAAA=","position":1}
/// "#;
/// let entries: Vec<Entry> = Unpacker::new(&metadata[..]).collect::<Result<_, _>>()?;
/// let [Entry::Segment(segment), Entry::File(file)] = entries.as_slice() else {
///     return Err("a segment and a file entry".into());
/// };
/// assert_eq!((segment.payload.as_slice(), segment.position), (&b"header"[..], 0));
/// assert_eq!((file.name.as_slice(), file.size, file.position), (&b"etc/hostname"[..], 5, 1));
///
/// // Or one entry at a time; a bad line is an error that names it.
/// let mut unpacker = Unpacker::new(&b"{\"type\":2,\"payload\":null,\"position\":0}\nnot json\n"[..]);
/// assert_eq!(unpacker.next_entry()?.map(|entry| entry.position()), Some(0));
/// assert!(unpacker.next_entry().is_err());
/// assert!(unpacker.next_entry()?.is_none()); // and then the end
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Unpacker<R> {
    input: Input<R>,
    line: Vec<u8>,
    line_number: u64,
    done: bool,
}

/// Where the lines come from.
enum Input<R> {
    Plain(BufReader<R>),
    Gzip(Box<BufReader<MultiGzDecoder<BufReader<R>>>>),
}

/// Construction
impl<R: Read> Unpacker<R> {
    /// Reads plain newline-delimited JSON.
    pub fn new(input: R) -> Unpacker<R> {
        Unpacker::with_input(Input::Plain(BufReader::new(input)))
    }

    /// Reads gzip-compressed newline-delimited JSON (Docker's `tar-split.json.gz`).
    pub fn new_gzip(input: R) -> Unpacker<R> {
        let gzip = MultiGzDecoder::new(BufReader::new(input));
        Unpacker::with_input(Input::Gzip(Box::new(BufReader::with_capacity(
            64 << 10,
            gzip,
        ))))
    }

    fn with_input(input: Input<R>) -> Unpacker<R> {
        Unpacker {
            input,
            line: Vec::new(),
            line_number: 0,
            done: false,
        }
    }
}

/// Reading
impl<R: Read> Unpacker<R> {
    /// The next entry, or `None` at the end of the metadata.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, Error> {
        if self.done {
            return Ok(None);
        }
        let result = self.read_entry();
        if !matches!(result, Ok(Some(_))) {
            self.done = true;
        }
        result
    }

    fn read_entry(&mut self) -> Result<Option<Entry>, Error> {
        loop {
            if !self.read_line()? {
                return Ok(None);
            }
            if self.line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line = self.line_number;
            let entry =
                Entry::decode(&self.line).map_err(|reason| Error::Corrupt { line, reason })?;
            return Ok(Some(entry));
        }
    }

    /// Reads the next line into `self.line` (without its newline); `false` at the end.
    fn read_line(&mut self) -> Result<bool, Error> {
        self.line.clear();
        self.line_number += 1;
        let line = self.line_number;
        let input: &mut dyn BufRead = match &mut self.input {
            Input::Plain(input) => input,
            Input::Gzip(input) => &mut **input,
        };
        // At most one byte more than the limit is read, so memory stays bounded.
        let limit = MAX_LINE as u64 + 1;
        match input.take(limit).read_until(b'\n', &mut self.line) {
            Ok(0) => return Ok(false),
            Ok(_) => {}
            Err(source) => return Err(Error::Read { line, source }),
        }
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
        }
        if self.line.len() > MAX_LINE {
            return Err(Error::LineTooLong {
                line,
                limit: MAX_LINE,
            });
        }
        Ok(true)
    }
}

impl<R: Read> Iterator for Unpacker<R> {
    type Item = Result<Entry, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().transpose()
    }
}

impl<R> std::fmt::Debug for Unpacker<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unpacker")
            .field("line", &self.line_number)
            .finish_non_exhaustive()
    }
}
