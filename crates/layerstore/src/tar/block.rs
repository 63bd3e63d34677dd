//! The 512-byte header block: field layout of the V7, ustar, star and old GNU formats, the
//! checksum, and format detection, as Go's `archive/tar` (Docker's reader) does them.

/// The size of a tar block.
pub(crate) const BLOCK: usize = 512;

/// Which header layout a block uses, from its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// No magic: the original Unix V7 layout (name, link, numbers only).
    V7,
    /// `ustar\0` + any version: POSIX ustar, also the base of PAX archives.
    Ustar,
    /// `ustar\0` and a `tar\0` trailer: Jörg Schilling's star, with atime/ctime.
    Star,
    /// `ustar  \0`: old GNU, with atime/ctime and sparse fields instead of the prefix.
    Gnu,
}

/// A header block, with named views of its fields.
pub(crate) struct Block<'a>(pub(crate) &'a [u8; BLOCK]);

/// Field views
impl<'a> Block<'a> {
    pub(crate) fn name(&self) -> &'a [u8] {
        &self.0[0..100]
    }
    pub(crate) fn mode(&self) -> &'a [u8] {
        &self.0[100..108]
    }
    pub(crate) fn uid(&self) -> &'a [u8] {
        &self.0[108..116]
    }
    pub(crate) fn gid(&self) -> &'a [u8] {
        &self.0[116..124]
    }
    pub(crate) fn size(&self) -> &'a [u8] {
        &self.0[124..136]
    }
    pub(crate) fn mtime(&self) -> &'a [u8] {
        &self.0[136..148]
    }
    pub(crate) fn checksum(&self) -> &'a [u8] {
        &self.0[148..156]
    }
    pub(crate) fn typeflag(&self) -> u8 {
        self.0[156]
    }
    pub(crate) fn linkname(&self) -> &'a [u8] {
        &self.0[157..257]
    }
    pub(crate) fn uname(&self) -> &'a [u8] {
        &self.0[265..297]
    }
    pub(crate) fn gname(&self) -> &'a [u8] {
        &self.0[297..329]
    }
    pub(crate) fn devmajor(&self) -> &'a [u8] {
        &self.0[329..337]
    }
    pub(crate) fn devminor(&self) -> &'a [u8] {
        &self.0[337..345]
    }
    /// The ustar prefix field (155 bytes).
    pub(crate) fn ustar_prefix(&self) -> &'a [u8] {
        &self.0[345..500]
    }
    /// The star prefix field (131 bytes).
    pub(crate) fn star_prefix(&self) -> &'a [u8] {
        &self.0[345..476]
    }
    pub(crate) fn star_atime(&self) -> &'a [u8] {
        &self.0[476..488]
    }
    pub(crate) fn star_ctime(&self) -> &'a [u8] {
        &self.0[488..500]
    }
    pub(crate) fn gnu_atime(&self) -> &'a [u8] {
        &self.0[345..357]
    }
    pub(crate) fn gnu_ctime(&self) -> &'a [u8] {
        &self.0[357..369]
    }
    /// The four old-GNU sparse entries (offset, length: 12 bytes each).
    pub(crate) fn gnu_sparse(&self) -> &'a [u8] {
        &self.0[386..482]
    }
    pub(crate) fn gnu_is_extended(&self) -> bool {
        self.0[482] != 0
    }
    pub(crate) fn gnu_real_size(&self) -> &'a [u8] {
        &self.0[483..495]
    }
    /// In a sparse extension block: the 21 entries.
    pub(crate) fn ext_sparse(&self) -> &'a [u8] {
        &self.0[0..504]
    }
    /// In a sparse extension block: whether another extension block follows.
    pub(crate) fn ext_is_extended(&self) -> bool {
        self.0[504] != 0
    }
}

/// Checksum and format
impl Block<'_> {
    /// Whether every byte is zero (half of the end-of-archive marker).
    pub(crate) fn is_zero(&self) -> bool {
        self.0.iter().all(|&b| b == 0)
    }

    /// The unsigned and the signed sum of the block with the checksum field counted as spaces;
    /// historic tars used signed chars, and both are accepted.
    pub(crate) fn checksums(&self) -> (u64, i64) {
        // Sum everything (plain loops the compiler vectorizes), then count the checksum
        // field as eight spaces instead of its content.
        let unsigned: u32 = self.0.iter().map(|&b| u32::from(b)).sum();
        let signed: i32 = self.0.iter().map(|&b| i32::from(b as i8)).sum();
        let field = self.checksum();
        let field_unsigned: u32 = field.iter().map(|&b| u32::from(b)).sum();
        let field_signed: i32 = field.iter().map(|&b| i32::from(b as i8)).sum();
        let spaces = 8 * u32::from(b' ');
        (
            u64::from(unsigned - field_unsigned + spaces),
            i64::from(signed - field_signed) + i64::from(spaces),
        )
    }

    /// The block's format, or `None` when its checksum does not match (not a header).
    pub(crate) fn format(&self) -> Option<Format> {
        let recorded = super::number::parse_octal(self.checksum())?;
        let (unsigned, signed) = self.checksums();
        if recorded != unsigned && i64::try_from(recorded).ok() != Some(signed) {
            return None;
        }
        let magic = &self.0[257..263];
        let version = &self.0[263..265];
        let trailer = &self.0[508..512];
        Some(match (magic, version) {
            (b"ustar\0", _) if trailer == b"tar\0" => Format::Star,
            (b"ustar\0", _) => Format::Ustar,
            (b"ustar ", b" \0") => Format::Gnu,
            _ => Format::V7,
        })
    }
}

/// Says what a non-tar input looks like, from its first bytes, for the "not a tar archive"
/// error (the magic numbers of Docker's compression detection).
pub(crate) fn compression_hint(start: &[u8]) -> &'static str {
    const HINT_GZIP: &str = " (they look gzip-compressed; decompress the layer first)";
    const HINT_BZIP2: &str = " (they look bzip2-compressed; decompress the layer first)";
    const HINT_XZ: &str = " (they look xz-compressed; decompress the layer first)";
    const HINT_ZSTD: &str = " (they look zstd-compressed; decompress the layer first)";
    if start.starts_with(&[0x1f, 0x8b, 0x08]) {
        HINT_GZIP
    } else if start.starts_with(b"BZh") {
        HINT_BZIP2
    } else if start.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        HINT_XZ
    } else if start.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        || start
            .first_chunk::<4>()
            .is_some_and(|m| u32::from_le_bytes(*m) & 0xffff_fff0 == 0x184d_2a50)
    {
        HINT_ZSTD
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_checksum(mut block: [u8; BLOCK]) -> [u8; BLOCK] {
        block[148..156].copy_from_slice(b"        ");
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
        block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        block
    }

    #[test]
    fn formats_from_magic() {
        let mut raw = [0u8; BLOCK];
        raw[..4].copy_from_slice(b"file");
        assert_eq!(Block(&with_checksum(raw)).format(), Some(Format::V7));
        raw[257..265].copy_from_slice(b"ustar\x0000");
        assert_eq!(Block(&with_checksum(raw)).format(), Some(Format::Ustar));
        raw[508..512].copy_from_slice(b"tar\0");
        assert_eq!(Block(&with_checksum(raw)).format(), Some(Format::Star));
        raw[508..512].copy_from_slice(&[0; 4]);
        raw[257..265].copy_from_slice(b"ustar  \0");
        assert_eq!(Block(&with_checksum(raw)).format(), Some(Format::Gnu));
    }

    #[test]
    fn a_wrong_checksum_is_not_a_header() {
        let mut raw = [0u8; BLOCK];
        raw[..4].copy_from_slice(b"file");
        let mut block = with_checksum(raw);
        block[0] = b'F';
        assert_eq!(Block(&block).format(), None);
        assert_eq!(Block(&[0x1f; BLOCK]).format(), None);
    }

    #[test]
    fn signed_checksums_are_accepted() {
        let mut raw = [0u8; BLOCK];
        raw[..4].copy_from_slice(b"\xe9t\xe9\0");
        raw[148..156].copy_from_slice(b"        ");
        let (_, signed) = Block(&raw).checksums();
        raw[148..156].copy_from_slice(format!("{signed:06o}\0 ").as_bytes());
        assert_eq!(Block(&raw).format(), Some(Format::V7));
    }

    #[test]
    fn compressed_inputs_are_recognised() {
        assert!(compression_hint(&[0x1f, 0x8b, 0x08, 0]).contains("gzip"));
        assert!(compression_hint(b"BZh91AY").contains("bzip2"));
        assert!(compression_hint(&[0xfd, b'7', b'z', b'X', b'Z', 0]).contains("xz"));
        assert!(compression_hint(&[0x28, 0xb5, 0x2f, 0xfd]).contains("zstd"));
        assert!(compression_hint(&[0x50, 0x2a, 0x4d, 0x18]).contains("zstd"));
        assert_eq!(compression_hint(b"hello"), "");
    }
}
