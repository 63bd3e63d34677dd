//! GNU sparse maps in their three encodings: old GNU header fields (type `'S'`, with extension
//! blocks), PAX records (formats 0.0 and 0.1), and the text map at the start of the data
//! (format 1.0). The reader does the I/O; this file only parses.

use super::SparseRegion;
use super::number::{parse_decimal, parse_numeric};
use super::pax::{self, Record, SPARSE_NUMBYTES, SPARSE_OFFSET};

/// Appends the regions of old-GNU sparse entries (24 bytes each: 12 of offset, 12 of length)
/// to `out`, stopping at the first entry whose offset starts with NUL (as GNU, BSD and Go do).
pub(crate) fn parse_old_gnu(
    entries: &[u8],
    out: &mut Vec<SparseRegion>,
) -> Result<(), &'static str> {
    for entry in entries.chunks_exact(24) {
        let (offset, length) = entry.split_at(12);
        if offset.first() == Some(&0) {
            break;
        }
        out.push(region(parse_numeric(offset), parse_numeric(length))?);
    }
    Ok(())
}

/// How a PAX header describes a sparse file, if it does (Go's version detection).
pub(crate) enum PaxSparse {
    /// Formats 0.0 and 0.1: the map is in the records.
    InRecords,
    /// Format 1.0: the map is text at the start of the entry's data.
    InData,
}

/// Whether the records describe a GNU sparse file, and in which format. Unknown versions are
/// not sparse (Go's reader treats them as regular files).
pub(crate) fn pax_format(records: &[Record]) -> Option<PaxSparse> {
    // An empty value counts as absent, as in Go's map lookups.
    let get = |key: &[u8]| pax::lookup(records, key).filter(|v| !v.is_empty());
    let (major, minor) = (get(b"GNU.sparse.major"), get(b"GNU.sparse.minor"));
    match (major, minor) {
        (Some(b"0"), Some(b"0" | b"1")) => Some(PaxSparse::InRecords),
        (Some(b"1"), Some(b"0")) => Some(PaxSparse::InData),
        (Some(_), _) | (_, Some(_)) => None,
        (None, None) if has_map_records(records) => Some(PaxSparse::InRecords),
        (None, None) => None,
    }
}

/// Whether there is a non-empty `GNU.sparse.map` record or any 0.0 offset/size pair.
fn has_map_records(records: &[Record]) -> bool {
    records.iter().any(|(k, _)| k == SPARSE_OFFSET)
        || pax::lookup(records, b"GNU.sparse.map").is_some_and(|map| !map.is_empty())
}

/// The regions of a format 0.0 or 0.1 map: `GNU.sparse.numblocks` regions, from the repeated
/// 0.0 offset/size records if there are any, else from the comma-separated `GNU.sparse.map`.
pub(crate) fn parse_pax_map(records: &[Record]) -> Result<Vec<SparseRegion>, &'static str> {
    let count = pax::lookup(records, b"GNU.sparse.numblocks")
        .and_then(parse_decimal)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or("GNU.sparse.numblocks is missing or not a count")?;
    let numbers: Vec<&[u8]> = if records.iter().any(|(k, _)| k == SPARSE_OFFSET) {
        records
            .iter()
            .filter(|(k, _)| k == SPARSE_OFFSET || k == SPARSE_NUMBYTES)
            .map(|(_, v)| v.as_slice())
            .collect()
    } else {
        match pax::lookup(records, b"GNU.sparse.map") {
            None | Some(b"") => Vec::new(),
            Some(map) => map.split(|&b| b == b',').collect(),
        }
    };
    if Some(numbers.len()) != count.checked_mul(2) {
        return Err("GNU.sparse.numblocks does not match the number of map entries");
    }
    numbers
        .chunks_exact(2)
        .map(|pair| match pair {
            [offset, length] => region(parse_decimal(offset), parse_decimal(length)),
            _ => Err("a map entry is incomplete"),
        })
        .collect()
}

/// The result of feeding format 1.0 map text.
pub(crate) enum MapText {
    /// The text so far does not hold the whole map: read more blocks until the text has at
    /// least this many newlines.
    NeedMore {
        /// The number of newlines the whole map has.
        newlines: usize,
    },
    /// The map, complete.
    Done(Vec<SparseRegion>),
}

/// Parses format 1.0 map text (newline-terminated decimal numbers: the count, then offset and
/// length per region), read so far in whole blocks.
pub(crate) fn parse_data_map(text: &[u8]) -> Result<MapText, &'static str> {
    let mut tokens = text.split(|&b| b == b'\n');
    let newlines = text.iter().filter(|&&b| b == b'\n').count();
    if newlines == 0 {
        return Ok(MapText::NeedMore { newlines: 1 });
    }
    let count = tokens
        .next()
        .and_then(parse_decimal)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or("the region count is not a number")?;
    let needed = count
        .checked_mul(2)
        .and_then(|n| n.checked_add(1))
        .ok_or("the region count is too large")?;
    if newlines < needed {
        return Ok(MapText::NeedMore { newlines: needed });
    }
    let mut regions = Vec::with_capacity(count);
    for _ in 0..count {
        let offset = tokens.next().and_then(parse_decimal);
        let length = tokens.next().and_then(parse_decimal);
        regions.push(region(offset, length)?);
    }
    Ok(MapText::Done(regions))
}

/// A region from parsed numbers, which must be present and not negative.
fn region(offset: Option<i64>, length: Option<i64>) -> Result<SparseRegion, &'static str> {
    let offset = offset.ok_or("a region offset is not a number")?;
    let length = length.ok_or("a region length is not a number")?;
    match (u64::try_from(offset), u64::try_from(length)) {
        (Ok(offset), Ok(length)) => Ok(SparseRegion { offset, length }),
        _ => Err("a region offset or length is negative"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(offset: u64, length: u64) -> SparseRegion {
        SparseRegion { offset, length }
    }

    fn records(pairs: &[(&str, &str)]) -> Vec<Record> {
        pairs
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn old_gnu_entries_stop_at_a_nul_offset() {
        let mut raw = Vec::new();
        raw.extend_from_slice(b"00004000000\x0000000010000\x00");
        raw.extend_from_slice(b"00024000000\0\x80\0\0\0\0\0\0\0\0\0\x01\0");
        raw.extend_from_slice(&[0; 24]);
        raw.extend_from_slice(b"00000000001\x0000000000001\x00");
        let mut out = Vec::new();
        parse_old_gnu(&raw, &mut out).expect("valid entries");
        assert_eq!(out, vec![r(1 << 20, 4096), r(5 << 20, 256)]);
        let mut out = Vec::new();
        assert!(parse_old_gnu(b"0000000000x\x0000000000001\x00", &mut out).is_err());
    }

    #[test]
    fn pax_versions() {
        let detect = |pairs: &[(&str, &str)]| match pax_format(&records(pairs)) {
            Some(PaxSparse::InRecords) => "records",
            Some(PaxSparse::InData) => "data",
            None => "none",
        };
        assert_eq!(
            detect(&[("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0")]),
            "data"
        );
        assert_eq!(
            detect(&[("GNU.sparse.major", "0"), ("GNU.sparse.minor", "1")]),
            "records"
        );
        assert_eq!(
            detect(&[("GNU.sparse.major", "2"), ("GNU.sparse.minor", "0")]),
            "none"
        );
        assert_eq!(detect(&[("GNU.sparse.map", "0,1")]), "records");
        assert_eq!(detect(&[("GNU.sparse.offset", "0")]), "records");
        assert_eq!(detect(&[("GNU.sparse.map", "")]), "none");
        assert_eq!(detect(&[("path", "x")]), "none");
    }

    #[test]
    fn pax_maps_0x() {
        let map01 = records(&[
            ("GNU.sparse.numblocks", "2"),
            ("GNU.sparse.map", "0,5,10,2"),
        ]);
        assert_eq!(parse_pax_map(&map01), Ok(vec![r(0, 5), r(10, 2)]));
        let map00 = records(&[
            ("GNU.sparse.numblocks", "1"),
            ("GNU.sparse.offset", "3"),
            ("GNU.sparse.numbytes", "4"),
        ]);
        assert_eq!(parse_pax_map(&map00), Ok(vec![r(3, 4)]));
        let empty = records(&[("GNU.sparse.numblocks", "0"), ("GNU.sparse.map", "")]);
        assert_eq!(parse_pax_map(&empty), Ok(vec![]));
        for bad in [
            records(&[
                ("GNU.sparse.numblocks", "3"),
                ("GNU.sparse.map", "0,5,10,2"),
            ]),
            records(&[("GNU.sparse.map", "0,5")]),
            records(&[("GNU.sparse.numblocks", "1"), ("GNU.sparse.map", "0,-5")]),
            records(&[("GNU.sparse.numblocks", "1"), ("GNU.sparse.map", "0,x")]),
            records(&[("GNU.sparse.numblocks", "-1"), ("GNU.sparse.map", "")]),
        ] {
            assert!(parse_pax_map(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn data_maps_10() {
        let done = |text: &[u8]| match parse_data_map(text) {
            Ok(MapText::Done(regions)) => Some(regions),
            _ => None,
        };
        assert_eq!(done(b"2\n0\n5\n10\n2\n\0\0"), Some(vec![r(0, 5), r(10, 2)]));
        assert_eq!(done(b"0\n"), Some(vec![]));
        assert!(matches!(
            parse_data_map(b"2\n0\n5\n10\n"),
            Ok(MapText::NeedMore { newlines: 5 })
        ));
        assert!(matches!(
            parse_data_map(b"\0\0"),
            Ok(MapText::NeedMore { newlines: 1 })
        ));
        assert!(parse_data_map(b"x\n").is_err());
        assert!(parse_data_map(b"-1\n").is_err());
        assert!(parse_data_map(b"1\n0\n-1\n").is_err());
        assert!(parse_data_map(b"99999999999999999999\n").is_err());
        assert!(matches!(
            parse_data_map(b"9223372036854775807\n"),
            Err(_) | Ok(MapText::NeedMore { .. })
        ));
    }
}
