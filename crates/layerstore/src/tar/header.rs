//! [`Header`]: one archive entry's metadata after every extension header (PAX, GNU long names,
//! sparse maps) has been applied, and its parts [`Kind`], [`Timestamp`] and [`Sparse`].

/// What an entry is, from its type flag.
///
/// Regular files are `'0'`, the historic `'\0'` (a directory when the name ends in `/`, as
/// Go's reader decides), contiguous files `'7'`, and old GNU sparse files `'S'`; the exact flag
/// stays in [`Header::typeflag`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Kind {
    /// A regular file; its data follows the header.
    #[default]
    Regular,
    /// A hard link to [`Header::link`] (`'1'`).
    Hardlink,
    /// A symbolic link to [`Header::link`] (`'2'`).
    Symlink,
    /// A character device (`'3'`).
    Char,
    /// A block device (`'4'`).
    Block,
    /// A directory (`'5'`).
    Directory,
    /// A named pipe (`'6'`).
    Fifo,
    /// A PAX global extended header (`'g'`): not a file. Its records are in
    /// [`Header::pax_records`]; they are not applied to later entries (Docker's reader does not
    /// apply them either).
    PaxGlobal,
    /// Any other type flag (e.g. GNU `'D'` dump directories or `'V'` volume labels); any data
    /// the header announces follows it.
    Other(u8),
}

/// Type flags
impl Kind {
    /// The kind of a type flag, as Go's reader classifies it (with `'\0'` regular; see
    /// [`Kind`] for the directory case).
    ///
    /// ```
    /// use imgsvc_layerstore::tar::Kind;
    /// assert_eq!(Kind::from_typeflag(b'0'), Kind::Regular);
    /// assert_eq!(Kind::from_typeflag(b'7'), Kind::Regular);
    /// assert_eq!(Kind::from_typeflag(b'5'), Kind::Directory);
    /// assert_eq!(Kind::from_typeflag(b'D'), Kind::Other(b'D'));
    /// ```
    pub fn from_typeflag(flag: u8) -> Kind {
        match flag {
            b'0' | b'\0' | b'7' | b'S' => Kind::Regular,
            b'1' => Kind::Hardlink,
            b'2' => Kind::Symlink,
            b'3' => Kind::Char,
            b'4' => Kind::Block,
            b'5' => Kind::Directory,
            b'6' => Kind::Fifo,
            b'g' => Kind::PaxGlobal,
            other => Kind::Other(other),
        }
    }

    /// Whether entries of this kind never carry data, whatever size their header claims
    /// (links, devices, directories, FIFOs), as in Go's reader.
    ///
    /// ```
    /// use imgsvc_layerstore::tar::Kind;
    /// assert!(Kind::Symlink.is_header_only());
    /// assert!(!Kind::Regular.is_header_only());
    /// ```
    pub fn is_header_only(self) -> bool {
        matches!(
            self,
            Kind::Hardlink
                | Kind::Symlink
                | Kind::Char
                | Kind::Block
                | Kind::Directory
                | Kind::Fifo
        )
    }
}

/// A point in time as tar records it: whole seconds since the Unix epoch (negative before it)
/// and nanoseconds (PAX times carry fractions).
///
/// ```
/// use imgsvc_layerstore::tar::Timestamp;
/// let t = Timestamp::new(-2, 500_000_000).ok_or("nanos below one second")?;
/// assert_eq!((t.secs(), t.nanos()), (-2, 500_000_000)); // i.e. -1.5 s
/// assert!(Timestamp::new(0, 1_000_000_000).is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

/// Construction and access
impl Timestamp {
    /// `secs` seconds plus `nanos` nanoseconds after the epoch; `None` unless `nanos` is below
    /// one second.
    pub fn new(secs: i64, nanos: u32) -> Option<Timestamp> {
        (nanos < 1_000_000_000).then_some(Timestamp { secs, nanos })
    }

    /// Whole seconds since the epoch, rounded down (so -1.5 s is -2 s and 500 ms).
    pub fn secs(self) -> i64 {
        self.secs
    }

    /// Nanoseconds added to [`secs`](Timestamp::secs), below one second.
    pub fn nanos(self) -> u32 {
        self.nanos
    }
}

/// One data region of a sparse file: `length` bytes at `offset` in the real file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SparseRegion {
    /// Where the region starts in the real (expanded) file.
    pub offset: u64,
    /// How many bytes it has; all of them are stored in the archive.
    pub length: u64,
}

/// The layout of a GNU sparse file: the stored data is the concatenation of the
/// [`regions`](Sparse::regions), and everything else up to [`real_size`](Sparse::real_size) is
/// a hole (zeros).
///
/// The regions are in order, do not overlap, and end within the real size; the sum of their
/// lengths is the entry's stored data size. To expand an entry: for each region, write the
/// next `length` bytes of the entry's data at `offset`, then set the file's length to
/// `real_size`.
///
/// ```
/// use std::io::Read;
/// use imgsvc_layerstore::tar::{Reader, SparseRegion};
///
/// // An old GNU sparse file ('S'): 10 bytes long, of which only "hello" at offset 5 is
/// // stored; the first 5 bytes are a hole.
/// let mut archive = vec![0u8; 512];
/// archive[..6].copy_from_slice(b"sparse");
/// archive[100..108].copy_from_slice(b"0000644\0");
/// archive[124..136].copy_from_slice(b"00000000005\0"); // stored size
/// archive[156] = b'S';
/// archive[257..265].copy_from_slice(b"ustar  \0"); // GNU magic
/// archive[386..398].copy_from_slice(b"00000000005\0"); // region offset
/// archive[398..410].copy_from_slice(b"00000000005\0"); // region length
/// archive[483..495].copy_from_slice(b"00000000012\0"); // real size (octal 12 = 10)
/// archive[148..156].copy_from_slice(b"        ");
/// let sum: u32 = archive.iter().map(|&b| u32::from(b)).sum();
/// archive[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
/// archive.extend_from_slice(b"hello");
/// archive.resize(512 * 4, 0);
///
/// let mut reader = Reader::new(&archive[..]);
/// let mut entry = reader.next_entry()?.ok_or("one entry")?;
/// let sparse = entry.header().sparse.clone().ok_or("a sparse file")?;
/// assert_eq!((sparse.real_size(), sparse.data_size()), (10, 5));
/// assert_eq!(sparse.regions(), [SparseRegion { offset: 5, length: 5 }]);
/// // The entry's data is the packed regions, without the hole.
/// let mut data = String::new();
/// entry.read_to_string(&mut data)?;
/// assert_eq!(data, "hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sparse {
    real_size: u64,
    regions: Vec<SparseRegion>,
}

/// Construction and access
impl Sparse {
    /// Validates a sparse layout with the checks of Go's and BSD tar's readers: regions in
    /// order, not overlapping, within `real_size`.
    pub(crate) fn new(real_size: u64, regions: Vec<SparseRegion>) -> Result<Sparse, &'static str> {
        let mut end_of_previous = 0u64;
        for region in &regions {
            let end = region
                .offset
                .checked_add(region.length)
                .ok_or("a region's end overflows")?;
            if end > real_size {
                return Err("a region extends past the file's real size");
            }
            if region.offset < end_of_previous {
                return Err("regions overlap or are out of order");
            }
            end_of_previous = end;
        }
        Ok(Sparse { real_size, regions })
    }

    /// The size of the real (expanded) file.
    pub fn real_size(&self) -> u64 {
        self.real_size
    }

    /// The data regions, in order.
    pub fn regions(&self) -> &[SparseRegion] {
        &self.regions
    }

    /// The number of data bytes stored in the archive: the sum of the region lengths.
    pub fn data_size(&self) -> u64 {
        self.regions.iter().map(|r| r.length).sum()
    }
}

/// An archive entry's metadata, after PAX extended headers, GNU long names and links, and
/// sparse maps have been applied.
///
/// Text fields are bytes exactly as in the archive (they need not be UTF-8); the path is not
/// cleaned. Times, sizes and IDs are those of the last extended header that set them, as in
/// Go's `archive/tar`, which Docker uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Header {
    /// The entry's path, e.g. `usr/bin/env` or `./etc/` (PAX `path`, GNU long name, or the
    /// ustar prefix and name joined by `/`).
    pub path: Vec<u8>,
    /// What the entry is.
    pub kind: Kind,
    /// The raw type flag byte (e.g. `b'0'`, `b'\0'`, `b'7'` or `b'S'` for regular files).
    pub typeflag: u8,
    /// The mode field, including the setuid, setgid and sticky bits (and file type bits if the
    /// writer put them there).
    pub mode: u32,
    /// Owner user ID (PAX `uid` overrides the header).
    pub uid: u64,
    /// Owner group ID (PAX `gid` overrides the header).
    pub gid: u64,
    /// Owner user name.
    pub uname: Vec<u8>,
    /// Owner group name.
    pub gname: Vec<u8>,
    /// Modification time.
    pub mtime: Timestamp,
    /// Access time, when recorded (PAX `atime`, GNU or star headers).
    pub atime: Option<Timestamp>,
    /// Status change time, when recorded (PAX `ctime`, GNU or star headers).
    pub ctime: Option<Timestamp>,
    /// The number of data bytes stored in the archive for this entry: what the entry's reader
    /// yields. Zero for [header-only kinds](Kind::is_header_only) whatever the header says;
    /// for a sparse file, the packed data without holes.
    pub size: u64,
    /// The size Go's `archive/tar` reports as `Header.Size`: the header's (or PAX) size,
    /// even for header-only kinds, and the real size for sparse files. Docker's naive diff
    /// driver sums this to get a layer's size.
    pub declared_size: u64,
    /// The link target of a hard or symbolic link (PAX `linkpath`, GNU long link).
    pub link: Vec<u8>,
    /// Device major number (ustar and later formats).
    pub dev_major: u64,
    /// Device minor number.
    pub dev_minor: u64,
    /// Extended attributes from PAX `SCHILY.xattr.<name>` records, in archive order (the last
    /// value wins for a repeated name). Values are bytes and may be empty.
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    /// The sparse layout, for GNU sparse files (old GNU `'S'` or PAX formats 0.0, 0.1, 1.0).
    pub sparse: Option<Sparse>,
    /// The records of the PAX extended header that applies to this entry (for a
    /// [`Kind::PaxGlobal`] entry, the global records), in archive order, as `(key, value)`.
    pub pax_records: Vec<(Vec<u8>, Vec<u8>)>,
    /// The offset in the input of the entry's first header block (its first extension header,
    /// if it has one).
    pub offset: u64,
}

/// Access
impl Header {
    /// The size of the file once extracted: the real size of a sparse file, else
    /// [`size`](Header::size).
    ///
    /// ```
    /// let header = imgsvc_layerstore::tar::Header::default();
    /// assert_eq!(header.logical_size(), 0);
    /// ```
    pub fn logical_size(&self) -> u64 {
        self.sparse.as_ref().map_or(self.size, Sparse::real_size)
    }

    /// The value of the last PAX record with this key, if any.
    ///
    /// ```
    /// let mut header = imgsvc_layerstore::tar::Header::default();
    /// header.pax_records.push((b"comment".to_vec(), b"hi".to_vec()));
    /// assert_eq!(header.pax_record(b"comment"), Some(&b"hi"[..]));
    /// ```
    pub fn pax_record(&self, key: &[u8]) -> Option<&[u8]> {
        super::pax::lookup(&self.pax_records, key)
    }

    /// Empties every field, keeping allocations for the next entry.
    pub(crate) fn clear(&mut self) {
        self.path.clear();
        self.kind = Kind::Regular;
        self.typeflag = 0;
        self.mode = 0;
        self.uid = 0;
        self.gid = 0;
        self.uname.clear();
        self.gname.clear();
        self.mtime = Timestamp::default();
        self.atime = None;
        self.ctime = None;
        self.size = 0;
        self.declared_size = 0;
        self.link.clear();
        self.dev_major = 0;
        self.dev_minor = 0;
        self.xattrs.clear();
        self.sparse = None;
        self.pax_records.clear();
        self.offset = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(offset: u64, length: u64) -> SparseRegion {
        SparseRegion { offset, length }
    }

    #[test]
    fn sparse_layouts_are_validated() {
        assert!(Sparse::new(10, vec![region(0, 2), region(5, 5)]).is_ok());
        assert!(Sparse::new(10, vec![region(0, 2), region(10, 0)]).is_ok());
        assert!(Sparse::new(10, vec![]).is_ok());
        assert!(Sparse::new(10, vec![region(5, 6)]).is_err());
        assert!(Sparse::new(10, vec![region(4, 2), region(5, 1)]).is_err());
        assert!(Sparse::new(10, vec![region(4, 2), region(1, 1)]).is_err());
        assert!(Sparse::new(u64::MAX, vec![region(u64::MAX, 1)]).is_err());
        let sparse = Sparse::new(10, vec![region(0, 2), region(5, 5)]).expect("valid");
        assert_eq!(sparse.data_size(), 7);
        assert_eq!(sparse.real_size(), 10);
    }

    #[test]
    fn kinds_of_type_flags() {
        assert_eq!(Kind::from_typeflag(0), Kind::Regular);
        assert_eq!(Kind::from_typeflag(b'S'), Kind::Regular);
        assert_eq!(Kind::from_typeflag(b'1'), Kind::Hardlink);
        assert_eq!(Kind::from_typeflag(b'g'), Kind::PaxGlobal);
        assert_eq!(Kind::from_typeflag(b'x'), Kind::Other(b'x'));
        assert!(Kind::Directory.is_header_only());
        assert!(!Kind::Other(b'D').is_header_only());
        assert!(!Kind::PaxGlobal.is_header_only());
    }
}
