//! [`Error`]: everything that stops the tar [`Reader`](super::Reader), each naming the byte
//! offset (and the entry, when known) where it happened.

use std::io;

/// Why a tar stream could not be read.
///
/// Every variant says where: `offset` is the position in the input of the 512-byte block (or
/// byte) that was being read. Once a [`Reader`](super::Reader) has returned an error it is
/// finished: further calls return [`Error::Failed`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended inside a header, an extension header's data, a sparse map or an entry's
    /// data.
    #[error("tar archive is truncated: unexpected end of input at offset {offset} in {context}")]
    Truncated {
        /// The number of bytes read before the input ended.
        offset: u64,
        /// What was being read, e.g. `the header block` or `the data of "usr/bin/env"`.
        context: String,
    },

    /// The first block of the input is not a tar header (it fails the header checksum).
    #[error("not a tar archive: the first 512 bytes are not a valid tar header{hint}")]
    NotTar {
        /// A hint at what the input is instead, e.g. `" (they look gzip-compressed; decompress
        /// the layer first)"`, or empty.
        hint: &'static str,
    },

    /// A header block (not the first) fails the checksum: the archive is corrupt.
    #[error(
        "invalid tar header at offset {offset}: the header checksum does not match \
         (recorded {recorded:?}, computed {computed}); the archive is corrupt"
    )]
    BadChecksum {
        /// Offset of the header block.
        offset: u64,
        /// The checksum field as text, as far as it is printable.
        recorded: String,
        /// The unsigned sum of the block's bytes, checksum field counted as spaces.
        computed: u64,
    },

    /// A numeric header field (or PAX record) is not a number, or out of range.
    #[error(
        "invalid tar header at offset {offset} for {entry:?}: field {field} is invalid ({value:?})"
    )]
    BadNumeric {
        /// Offset of the header block.
        offset: u64,
        /// The entry's name as far as it is known (shortened, lossy UTF-8).
        entry: String,
        /// The field, e.g. `size`, `mtime`, or a PAX key such as `uid`.
        field: &'static str,
        /// The field's content (shortened, lossy UTF-8).
        value: String,
    },

    /// A PAX extended header's data is not a sequence of valid `"<len> <key>=<value>\n"`
    /// records.
    #[error("invalid PAX extended header at offset {offset}: {reason}")]
    BadPax {
        /// Offset of the extended header's header block.
        offset: u64,
        /// What is wrong.
        reason: &'static str,
    },

    /// Extension data (a PAX header, a GNU long name or link, a sparse map) is larger than this
    /// reader accepts; a hostile archive must not make us allocate without bound.
    #[error("{what} at offset {offset} is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// Offset of the header block that announced the data.
        offset: u64,
        /// What was too large, e.g. `PAX extended header data`.
        what: &'static str,
        /// The announced size.
        size: u64,
        /// The largest size accepted.
        limit: u64,
    },

    /// A GNU sparse file's map is malformed, or does not fit the entry's data.
    #[error("invalid sparse map for {entry:?} at offset {offset}: {reason}")]
    InvalidSparse {
        /// Offset of the entry's header block.
        offset: u64,
        /// The entry's name (shortened, lossy UTF-8).
        entry: String,
        /// What is wrong.
        reason: &'static str,
    },

    /// A zero block (the start of the end-of-archive marker) is followed by a non-zero block.
    /// Docker's tar reader rejects this; GNU tar would warn about a "lone zero block".
    #[error(
        "invalid tar archive: the zero block at offset {offset} is followed by a non-zero block \
         (an end-of-archive marker must be two zero blocks)"
    )]
    LoneZeroBlock {
        /// Offset of the zero block.
        offset: u64,
    },

    /// Reading the input failed.
    #[error("reading the tar stream failed at offset {offset}: {source}")]
    Io {
        /// The number of bytes read before the failure.
        offset: u64,
        /// The reader's error.
        #[source]
        source: io::Error,
    },

    /// The [`Observer`](super::Observer) returned an error (e.g. writing tar-split metadata
    /// failed); its error is the source.
    #[error("recording the tar stream failed at offset {offset}: {source}")]
    Observer {
        /// The number of bytes read when the observer failed.
        offset: u64,
        /// The observer's error.
        #[source]
        source: io::Error,
    },

    /// The reader already returned an error and cannot continue.
    #[error("the tar reader already failed (see the earlier error) and cannot continue")]
    Failed,
}

/// Conversions
impl Error {
    /// The tar error carried inside an [`io::Error`] returned by an
    /// [`Entry`](super::Entry)'s `read`, if any.
    ///
    /// ```
    /// use std::io::Read;
    /// use imgsvc_layerstore::tar::{Error, Reader};
    ///
    /// // A header announcing 100 bytes of data, then only 10 of them.
    /// let mut archive = vec![0u8; 512];
    /// archive[..4].copy_from_slice(b"file");
    /// archive[124..136].copy_from_slice(b"00000000144\0");
    /// archive[148..156].copy_from_slice(b"        ");
    /// let sum: u32 = archive.iter().map(|&b| u32::from(b)).sum();
    /// archive[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    /// archive.extend_from_slice(&[b'x'; 10]);
    ///
    /// let mut reader = Reader::new(&archive[..]);
    /// let mut entry = reader.next_entry()?.ok_or("one entry")?;
    /// let err = entry.read_to_end(&mut Vec::new()).err().ok_or("the data is cut short")?;
    /// assert!(matches!(Error::from_io(&err), Some(Error::Truncated { offset: 522, .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_io(err: &io::Error) -> Option<&Error> {
        err.get_ref()
            .and_then(|inner| inner.downcast_ref::<Error>())
    }

    /// Wraps this error in an [`io::Error`]: of kind
    /// [`UnexpectedEof`](io::ErrorKind::UnexpectedEof) for [`Error::Truncated`], the source's
    /// kind for [`Error::Io`] and [`Error::Observer`], else
    /// [`InvalidData`](io::ErrorKind::InvalidData).
    ///
    /// ```
    /// use imgsvc_layerstore::tar::Error;
    /// let err = Error::LoneZeroBlock { offset: 1024 }.into_io();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    /// ```
    pub fn into_io(self) -> io::Error {
        let kind = match &self {
            Error::Truncated { .. } => io::ErrorKind::UnexpectedEof,
            Error::Io { source, .. } | Error::Observer { source, .. } => source.kind(),
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self)
    }
}

/// The longest piece of untrusted text kept in an error, in bytes.
const SNIPPET_MAX: usize = 160;

/// Keeps at most [`SNIPPET_MAX`] bytes of untrusted bytes for an error message, as lossy
/// UTF-8, so a hostile megabyte-long name does not become a megabyte-long log line.
pub(crate) fn snippet(bytes: &[u8]) -> String {
    let cut = bytes.get(..SNIPPET_MAX).unwrap_or(bytes);
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if cut.len() < bytes.len() {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_cut_long_names() {
        let long = vec![b'a'; 1000];
        let cut = snippet(&long);
        assert_eq!(cut.len(), SNIPPET_MAX + '…'.len_utf8());
        assert_eq!(snippet(b"short"), "short");
        assert_eq!(snippet(b"\xffx"), "\u{fffd}x");
    }

    #[test]
    fn io_errors_keep_their_kind_and_carry_the_tar_error() {
        let err = Error::Truncated {
            offset: 3,
            context: "the header block".into(),
        }
        .into_io();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(matches!(
            Error::from_io(&err),
            Some(Error::Truncated { offset: 3, .. })
        ));
        let err = Error::Io {
            offset: 0,
            source: io::Error::from(io::ErrorKind::BrokenPipe),
        }
        .into_io();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert!(Error::from_io(&io::Error::other("x")).is_none());
    }
}
