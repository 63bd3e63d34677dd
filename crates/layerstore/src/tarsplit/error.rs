//! [`Error`]: what goes wrong recording, reading, or replaying tar-split metadata.

use std::fmt;
use std::io;

/// Why tar-split metadata could not be written, read, or turned back into a tar stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A line of the metadata is not a valid tar-split entry.
    #[error("corrupt tar-split metadata at line {line}: {reason}")]
    Corrupt {
        /// The line number, from 1.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },

    /// A line of the metadata is longer than any entry written by tar-split can be.
    #[error("corrupt tar-split metadata: line {line} is longer than {limit} bytes")]
    LineTooLong {
        /// The line number, from 1.
        line: u64,
        /// The longest line accepted.
        limit: usize,
    },

    /// Reading (or decompressing) the metadata failed.
    #[error("reading tar-split metadata failed at line {line}: {source}")]
    Read {
        /// The line being read, from 1.
        line: u64,
        /// The reader's error.
        #[source]
        source: io::Error,
    },

    /// A file's content on disk is not what the metadata recorded.
    #[error("file integrity checksum failed for {name:?}: {problem}")]
    Integrity {
        /// The file entry's name (shortened, lossy UTF-8).
        name: String,
        /// How the content differs.
        problem: Problem,
    },

    /// The file for an entry could not be opened.
    #[error("opening {name:?} to rebuild the layer's tar stream failed: {source}")]
    OpenFile {
        /// The file entry's name (shortened, lossy UTF-8).
        name: String,
        /// The opener's error.
        #[source]
        source: io::Error,
    },

    /// Reading the file for an entry failed.
    #[error("reading {name:?} to rebuild the layer's tar stream failed: {source}")]
    ReadFile {
        /// The file entry's name (shortened, lossy UTF-8).
        name: String,
        /// The reader's error.
        #[source]
        source: io::Error,
    },

    /// The assembler already returned an error and cannot continue.
    #[error("the tar stream assembler already failed (see the earlier error) and cannot continue")]
    Failed,
}

/// How a file's content differs from its tar-split record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The file ends before the recorded size.
    Short {
        /// The recorded size.
        expected: u64,
        /// The bytes the file had.
        actual: u64,
    },
    /// The file has more bytes than the recorded size.
    Long {
        /// The recorded size.
        expected: u64,
    },
    /// The content has a different CRC-64/ISO than recorded.
    Checksum {
        /// The recorded checksum.
        expected: u64,
        /// The content's checksum.
        actual: u64,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Short { expected, actual } => {
                write!(
                    f,
                    "the file has {actual} bytes, the layer recorded {expected}"
                )
            }
            Problem::Long { expected } => {
                write!(
                    f,
                    "the file is longer than the {expected} bytes the layer recorded"
                )
            }
            Problem::Checksum { expected, actual } => write!(
                f,
                "its CRC-64 is {actual:016x}, the layer recorded {expected:016x}"
            ),
        }
    }
}

/// Conversions
impl Error {
    /// The tar-split error carried inside an [`io::Error`], if any: the assembler's reads and
    /// the packer's observer calls return their errors this way.
    ///
    /// ```
    /// use imgsvc_layerstore::tarsplit::Error;
    /// let err = Error::Corrupt { line: 3, reason: "not JSON".into() }.into_io();
    /// assert!(matches!(Error::from_io(&err), Some(Error::Corrupt { line: 3, .. })));
    /// ```
    pub fn from_io(err: &io::Error) -> Option<&Error> {
        err.get_ref()
            .and_then(|inner| inner.downcast_ref::<Error>())
    }

    /// Wraps this error in an [`io::Error`] of the source's kind for I/O failures, else
    /// [`InvalidData`](io::ErrorKind::InvalidData).
    ///
    /// ```
    /// use imgsvc_layerstore::tarsplit::Error;
    /// let err = Error::Failed.into_io();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    /// ```
    pub fn into_io(self) -> io::Error {
        let kind = match &self {
            Error::Read { source, .. }
            | Error::OpenFile { source, .. }
            | Error::ReadFile { source, .. } => source.kind(),
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrity_messages_start_like_docker() {
        let err = Error::Integrity {
            name: "usr/bin/env".into(),
            problem: Problem::Checksum {
                expected: 1,
                actual: 2,
            },
        };
        assert!(
            err.to_string()
                .starts_with("file integrity checksum failed for \"usr/bin/env\""),
            "{err}"
        );
    }

    #[test]
    fn io_kinds_are_kept() {
        let err = Error::OpenFile {
            name: "x".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        }
        .into_io();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(matches!(Error::from_io(&err), Some(Error::OpenFile { .. })));
    }
}
