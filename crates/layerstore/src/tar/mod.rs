//! A streaming tar reader that parses like Docker's and lets every raw byte be recorded.
//!
//! A layer is registered in one pass over its tar stream: the stream is hashed for the
//! DiffID, every byte that is not file data is recorded as tar-split metadata (so the exact
//! tar can be rebuilt later, see [`tarsplit`](crate::tarsplit)), and each entry is extracted to
//! disk. [`Reader`] serves all three: it yields each [`Entry`] (a parsed [`Header`] and a
//! reader of the entry's data) and shows every consumed byte, in order, to an [`Observer`] as
//! either a *segment* (headers, extension headers, padding, end-of-archive blocks, trailing
//! bytes) or *content* (entry data). It reads no further ahead than the current block or the
//! caller's buffer, and consumes the input to its very end before reporting the end of the
//! archive.
//!
//! Parsing follows Go's `archive/tar`, which Docker uses: ustar, PAX (`x` headers override
//! the path, link, size, IDs, names and times; `SCHILY.xattr.*` records are extended
//! attributes; `g` global headers are returned as [`Kind::PaxGlobal`] entries), GNU (long
//! names and links, base-256 numbers, atime/ctime, old sparse files) and star; GNU sparse
//! files in every format expose their [`Sparse`] map, and their data is read packed, without
//! the holes. Extension data is capped at [`MAX_EXTENSION_SIZE`], so a hostile archive cannot
//! make the reader allocate without bound.
//!
//! ```
//! use std::io::Read;
//! use imgsvc_layerstore::tar::{Header, Observer, Reader};
//!
//! /// Collects raw bytes the way tar-split metadata does.
//! #[derive(Default)]
//! struct Raw { structure: Vec<u8>, names: Vec<Vec<u8>> }
//! impl Observer for Raw {
//!     fn segment(&mut self, bytes: &[u8]) -> std::io::Result<()> {
//!         self.structure.extend_from_slice(bytes);
//!         Ok(())
//!     }
//!     fn entry_start(&mut self, header: &Header) -> std::io::Result<()> {
//!         self.names.push(header.path.clone());
//!         Ok(())
//!     }
//! }
//!
//! # let archive = {
//! #     let mut b = vec![0u8; 512];
//! #     b[..5].copy_from_slice(b"a.txt");
//! #     b[100..108].copy_from_slice(b"0000644\0");
//! #     b[124..136].copy_from_slice(b"00000000002\0");
//! #     b[156] = b'0';
//! #     b[148..156].copy_from_slice(b"        ");
//! #     let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
//! #     b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
//! #     b.extend_from_slice(b"hi");
//! #     b.resize(2048, 0);
//! #     b
//! # };
//! let mut reader = Reader::with_observer(&archive[..], Raw::default());
//! while let Some(mut entry) = reader.next_entry()? {
//!     std::io::copy(&mut entry, &mut std::io::sink())?;
//! }
//! let raw = reader.observer();
//! assert_eq!(raw.names, [b"a.txt".to_vec()]);
//! // Everything but the two data bytes is structure.
//! assert_eq!(raw.structure.len(), archive.len() - 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod block;
mod entry;
mod error;
mod fields;
mod header;
mod number;
mod observer;
mod pax;
mod reader;
mod sparse;
mod sparse_read;

pub use entry::Entry;
pub use error::Error;
pub(crate) use error::snippet as error_snippet;
pub use header::{Header, Kind, Sparse, SparseRegion, Timestamp};
pub use observer::Observer;
pub use reader::{MAX_EXTENSION_SIZE, Reader};
