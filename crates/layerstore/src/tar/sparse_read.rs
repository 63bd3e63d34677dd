//! The sparse maps the [`Reader`] reads from the input: old GNU extension blocks after the
//! header, and the PAX 1.0 map at the start of an entry's data. (Parsing is in `sparse.rs`.)

use std::io::Read;

use super::block::{BLOCK, Block, Format};
use super::error::snippet;
use super::pax;
use super::reader::MAX_EXTENSION_SIZE;
use super::sparse::{self, MapText, PaxSparse};
use super::{Error, Header, Observer, Reader, SparseRegion};

/// Sparse maps
impl<R: Read, O: Observer> Reader<R, O> {
    /// The real size and regions of an old GNU sparse file (type `'S'`): from the header
    /// block, then from extension blocks while they say another one follows.
    pub(super) fn old_gnu_sparse(
        &mut self,
        block: &[u8; BLOCK],
        format: Format,
        offset: u64,
    ) -> Result<(u64, Vec<SparseRegion>), Error> {
        let invalid = |header: &Header, reason| Error::InvalidSparse {
            offset,
            entry: snippet(&header.path),
            reason,
        };
        if format != Format::Gnu {
            return Err(invalid(
                &self.header,
                "a type 'S' sparse header must use the GNU format",
            ));
        }
        let block = Block(block);
        let real_size = super::number::parse_numeric(block.gnu_real_size())
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| invalid(&self.header, "the real size is not a number"))?;
        let mut regions = Vec::new();
        sparse::parse_old_gnu(block.gnu_sparse(), &mut regions)
            .map_err(|reason| invalid(&self.header, reason))?;
        let mut extended = block.gnu_is_extended();
        let mut read = 0u64;
        while extended {
            read += BLOCK as u64;
            if read > MAX_EXTENSION_SIZE {
                return Err(Error::TooLarge {
                    offset,
                    what: "the GNU sparse extension headers",
                    size: read,
                    limit: MAX_EXTENSION_SIZE,
                });
            }
            let ext = self.read_block("a GNU sparse extension header")?;
            let ext = Block(&ext);
            sparse::parse_old_gnu(ext.ext_sparse(), &mut regions)
                .map_err(|reason| invalid(&self.header, reason))?;
            extended = ext.ext_is_extended();
        }
        Ok((real_size, regions))
    }

    /// The real size and regions of a PAX sparse file; applies `GNU.sparse.name`. For format
    /// 1.0 the map is read from the start of the data, which `stored` then no longer counts.
    pub(super) fn pax_sparse(
        &mut self,
        format: PaxSparse,
        offset: u64,
        stored: &mut u64,
    ) -> Result<(u64, Vec<SparseRegion>), Error> {
        if let Some(name) = pax::lookup(&self.header.pax_records, b"GNU.sparse.name")
            .filter(|name| !name.is_empty())
            .map(<[u8]>::to_vec)
        {
            self.header.path = name;
        }
        let records = &self.header.pax_records;
        let get = |key: &[u8]| pax::lookup(records, key).filter(|v| !v.is_empty());
        let real_size = match get(b"GNU.sparse.size").or_else(|| get(b"GNU.sparse.realsize")) {
            None => self.header.declared_size,
            Some(text) => super::number::parse_decimal(text)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| Error::BadNumeric {
                    offset,
                    entry: snippet(&self.header.path),
                    field: "GNU.sparse.size",
                    value: snippet(text),
                })?,
        };
        let invalid = |header: &Header, reason| Error::InvalidSparse {
            offset,
            entry: snippet(&header.path),
            reason,
        };
        let regions = match format {
            PaxSparse::InRecords => sparse::parse_pax_map(&self.header.pax_records)
                .map_err(|reason| invalid(&self.header, reason))?,
            PaxSparse::InData => self.data_sparse_map(offset, stored)?,
        };
        Ok((real_size, regions))
    }

    /// Reads a format 1.0 sparse map: whole blocks from the start of the entry's data until
    /// the map is complete.
    fn data_sparse_map(
        &mut self,
        offset: u64,
        stored: &mut u64,
    ) -> Result<Vec<SparseRegion>, Error> {
        let mut text = Vec::new();
        let mut newlines = 0usize;
        let mut needed = 1usize;
        loop {
            if *stored < BLOCK as u64 {
                return Err(Error::InvalidSparse {
                    offset,
                    entry: snippet(&self.header.path),
                    reason: "the sparse map runs past the entry's data",
                });
            }
            if text.len() as u64 + BLOCK as u64 > MAX_EXTENSION_SIZE {
                return Err(Error::TooLarge {
                    offset,
                    what: "the GNU sparse map",
                    size: text.len() as u64 + BLOCK as u64,
                    limit: MAX_EXTENSION_SIZE,
                });
            }
            let block = self.read_block("a GNU sparse map")?;
            *stored -= BLOCK as u64;
            newlines += block.iter().filter(|&&b| b == b'\n').count();
            text.extend_from_slice(&block);
            if newlines < needed {
                continue;
            }
            match sparse::parse_data_map(&text) {
                Ok(MapText::Done(regions)) => return Ok(regions),
                Ok(MapText::NeedMore { newlines }) => needed = newlines,
                Err(reason) => {
                    return Err(Error::InvalidSparse {
                        offset,
                        entry: snippet(&self.header.path),
                        reason,
                    });
                }
            }
        }
    }
}
