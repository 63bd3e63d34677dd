//! Tar-split metadata: the bytes of a layer tar that are not file content, recorded so that
//! the exact tar can be rebuilt from the extracted files, in Docker's format.
//!
//! Docker keeps no copy of a layer's tar. When a layer is registered, its tar stream is
//! extracted and, in the same pass, every byte that is not file data (headers, extension
//! headers, padding, end-of-archive blocks, trailing bytes) is recorded as newline-delimited
//! JSON entries, gzip-compressed in `tar-split.json.gz`, together with one file entry per tar
//! entry holding its name, data size and CRC-64/ISO checksum. To push the layer, the tar is
//! rebuilt byte for byte from the metadata and the files on disk, so it still has the layer's
//! DiffID. This is vbatts/tar-split's `storage` format, which Docker uses.
//!
//! A [`Packer`] records the metadata as the [`Observer`](crate::tar::Observer) of a
//! [`tar::Reader`](crate::tar::Reader); an [`Unpacker`] reads it back as [`Entry`] values; and
//! [`assemble`] rebuilds the tar as an `io::Read`, checking every file against its checksum.
//!
//! ```
//! use std::collections::HashMap;
//! use std::io::Read;
//! use imgsvc_layerstore::tar::Reader;
//! use imgsvc_layerstore::tarsplit::{self, Packer, Unpacker};
//!
//! # let layer = {
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
//! // Register: extract (here, into a map) while recording the metadata.
//! let mut files = HashMap::new();
//! let mut reader = Reader::with_observer(&layer[..], Packer::new_gzip(Vec::new()));
//! while let Some(mut entry) = reader.next_entry()? {
//!     let mut data = Vec::new();
//!     entry.read_to_end(&mut data)?;
//!     files.insert(entry.header().path.clone(), data);
//! }
//! let (_, packer) = reader.into_parts();
//! let metadata = packer.finish()?; // tar-split.json.gz
//!
//! // Push: rebuild the identical tar.
//! let mut rebuilt = Vec::new();
//! let mut tar = tarsplit::assemble(Unpacker::new_gzip(&metadata[..]), |file| {
//!     let data = files.get(&file.name).cloned().unwrap_or_default();
//!     Ok(std::io::Cursor::new(data))
//! });
//! tar.read_to_end(&mut rebuilt)?;
//! assert_eq!(rebuilt, layer);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod assemble;
mod entry;
mod error;
mod packer;
mod unpacker;

pub use assemble::{Assembler, assemble};
pub use entry::{Entry, FileEntry, Segment};
pub use error::{Error, Problem};
pub use packer::{MAX_SEGMENT, Packer};
pub use unpacker::{MAX_LINE, Unpacker};

/// A running CRC-64 with Go's ISO polynomial (`hash/crc64` with `crc64.ISO`), as tar-split
/// checksums file data. Carry-less multiplication (PCLMULQDQ, PMULL) where the processor has
/// it: more than ten times the table-driven speed, so checksumming costs next to nothing.
#[derive(Clone)]
pub(crate) struct Crc64(crc_fast::Digest);

impl Crc64 {
    /// A checksum of nothing yet.
    pub(crate) fn new() -> Crc64 {
        Crc64(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64GoIso))
    }

    /// Adds `bytes`.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The checksum of everything added.
    pub(crate) fn finalize(&self) -> u64 {
        self.0.finalize()
    }
}

impl std::fmt::Debug for Crc64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Crc64({:#018x})", self.finalize())
    }
}

#[cfg(test)]
mod crc_tests {
    use super::Crc64;

    #[test]
    fn matches_the_table_driven_go_iso_crc_in_pieces() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let table = crc::Crc::<u64>::new(&crc::CRC_64_GO_ISO);
        for split in [0, 1, 15, 16, 17, 255, 4096, 99_999, 100_000] {
            let mut crc = Crc64::new();
            crc.update(&data[..split]);
            crc.update(&data[split..]);
            assert_eq!(crc.finalize(), table.checksum(&data), "split at {split}");
        }
        assert_eq!(Crc64::new().finalize(), table.checksum(b""));
    }
}
