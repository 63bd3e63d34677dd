//! Which compression a layer uses: from its media type, and from its first bytes.

use std::fmt;

/// The compression of a layer blob.
///
/// Detection ([`Compression::detect`]) also recognises bzip2 and xz, which Docker can read
/// but imgsvc does not: they are reported as [`Compression::Bzip2`] and [`Compression::Xz`],
/// and [`Compression::is_supported`] says `false` for them. Registries serve gzip (almost
/// always), zstd, or plain tar.
///
/// ```
/// use imgsvc_distribution::decompress::Compression;
///
/// assert_eq!(Compression::detect(&[0x1f, 0x8b, 0x08, 0x00]), Compression::Gzip);
/// assert_eq!(
///     Compression::from_media_type("application/vnd.oci.image.layer.v1.tar+zstd"),
///     Some(Compression::Zstd)
/// );
/// assert!(!Compression::detect(b"BZh91AY&SY").is_supported());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// Not compressed: a plain tar.
    None,
    /// gzip, possibly several members one after the other.
    Gzip,
    /// Zstandard, possibly several frames (and skippable frames).
    Zstd,
    /// bzip2: recognised, not supported.
    Bzip2,
    /// xz: recognised, not supported.
    Xz,
}

/// The longest magic number [`Compression::detect`] looks at (xz's).
pub const MAGIC_LEN: usize = 6;

const GZIP: &[u8] = &[0x1f, 0x8b, 0x08];
const ZSTD: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const BZIP2: &[u8] = b"BZh";
const XZ: &[u8] = &[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
/// Skippable zstd frames have magic numbers 0x184D2A50 to 0x184D2A5F (little endian).
const ZSTD_SKIPPABLE: u32 = 0x184d_2a50;

/// Detection
impl Compression {
    /// The compression a layer media type announces, or `None` when the type is not a layer
    /// type this function knows. OCI's `+gzip`/`+zstd` suffixes, Docker's `.tar.gzip`,
    /// containerd's `.tar.zstd`, and `.tar` for plain layers are understood.
    ///
    /// ```
    /// use imgsvc_distribution::decompress::Compression;
    ///
    /// let table = [
    ///     ("application/vnd.docker.image.rootfs.diff.tar.gzip", Some(Compression::Gzip)),
    ///     ("application/vnd.oci.image.layer.v1.tar+gzip", Some(Compression::Gzip)),
    ///     ("application/vnd.oci.image.layer.v1.tar", Some(Compression::None)),
    ///     ("application/vnd.oci.image.layer.v1.tar+zstd", Some(Compression::Zstd)),
    ///     ("application/octet-stream", None),
    /// ];
    /// for (media_type, want) in table {
    ///     assert_eq!(Compression::from_media_type(media_type), want);
    /// }
    /// ```
    pub fn from_media_type(media_type: &str) -> Option<Compression> {
        // Parameters (`; charset=...`) and case do not change the meaning of a media type.
        let essence = media_type.split(';').next().unwrap_or("").trim();
        let lower = essence.to_ascii_lowercase();
        let compression = if lower.ends_with("+gzip") || lower.ends_with(".tar.gzip") {
            Compression::Gzip
        } else if lower.ends_with("+zstd") || lower.ends_with(".tar.zstd") {
            Compression::Zstd
        } else if lower.ends_with(".tar") || lower.ends_with("/tar") {
            Compression::None
        } else {
            return None;
        };
        Some(compression)
    }

    /// The compression that the first bytes of a stream show by their magic number. Give it
    /// at least [`MAGIC_LEN`] bytes when the stream has them; anything unrecognised,
    /// including a short or empty prefix, is [`Compression::None`] (a plain tar).
    ///
    /// ```
    /// use imgsvc_distribution::decompress::Compression;
    ///
    /// assert_eq!(Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x00]), Compression::Zstd);
    /// assert_eq!(Compression::detect(b"etc/\0\0"), Compression::None);
    /// ```
    pub fn detect(prefix: &[u8]) -> Compression {
        if prefix.starts_with(GZIP) {
            Compression::Gzip
        } else if prefix.starts_with(ZSTD) || is_skippable_frame(prefix) {
            Compression::Zstd
        } else if prefix.starts_with(XZ) {
            Compression::Xz
        } else if prefix.starts_with(BZIP2) {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }
}

fn is_skippable_frame(prefix: &[u8]) -> bool {
    match prefix.first_chunk::<4>() {
        Some(magic) => u32::from_le_bytes(*magic) & 0xffff_fff0 == ZSTD_SKIPPABLE,
        None => false,
    }
}

/// Access
impl Compression {
    /// Whether [`decoder`](super::decoder) can read this compression.
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            Compression::None | Compression::Gzip | Compression::Zstd
        )
    }

    /// A lowercase name: `none`, `gzip`, `zstd`, `bzip2`, `xz`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Compression;

    #[test]
    fn magic_numbers_are_recognised() {
        let table: [(&[u8], Compression); 14] = [
            (&[0x1f, 0x8b, 0x08, 0, 0, 0], Compression::Gzip),
            (&[0x1f, 0x8b, 0x08], Compression::Gzip),
            (&[0x1f, 0x8b, 0x07, 0, 0, 0], Compression::None),
            (&[0x1f, 0x8b], Compression::None),
            (&[0x28, 0xb5, 0x2f, 0xfd, 0x24, 0], Compression::Zstd),
            (&[0x50, 0x2a, 0x4d, 0x18, 0, 0], Compression::Zstd),
            (&[0x5f, 0x2a, 0x4d, 0x18, 0, 0], Compression::Zstd),
            (&[0x60, 0x2a, 0x4d, 0x18, 0, 0], Compression::None),
            (b"BZh91A", Compression::Bzip2),
            (&[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], Compression::Xz),
            (&[0xfd, 0x37, 0x7a, 0x58, 0x5a], Compression::None),
            (b"bin/\0\0", Compression::None),
            (b"", Compression::None),
            (&[0; 512], Compression::None),
        ];
        for (prefix, want) in table {
            assert_eq!(Compression::detect(prefix), want, "{prefix:02x?}");
        }
    }

    #[test]
    fn media_types_announce_their_compression() {
        let table = [
            (
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
                Some(Compression::Gzip),
            ),
            (
                "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                Some(Compression::Gzip),
            ),
            (
                "application/vnd.oci.image.layer.v1.tar+gzip",
                Some(Compression::Gzip),
            ),
            (
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                Some(Compression::Gzip),
            ),
            (
                "application/vnd.oci.image.layer.v1.tar+zstd",
                Some(Compression::Zstd),
            ),
            (
                "application/vnd.docker.image.rootfs.diff.tar.zstd",
                Some(Compression::Zstd),
            ),
            (
                "application/vnd.oci.image.layer.v1.tar",
                Some(Compression::None),
            ),
            (
                "application/vnd.docker.image.rootfs.diff.tar",
                Some(Compression::None),
            ),
            ("application/x-tar", None),
            ("application/tar", Some(Compression::None)),
            (
                "APPLICATION/VND.OCI.IMAGE.LAYER.V1.TAR+GZIP",
                Some(Compression::Gzip),
            ),
            (
                "application/vnd.oci.image.layer.v1.tar+gzip; foo=bar",
                Some(Compression::Gzip),
            ),
            ("application/vnd.oci.image.config.v1+json", None),
            ("application/octet-stream", None),
            ("", None),
        ];
        for (media_type, want) in table {
            assert_eq!(
                Compression::from_media_type(media_type),
                want,
                "{media_type}"
            );
        }
    }

    #[test]
    fn only_none_gzip_and_zstd_are_supported() {
        let supported = [
            Compression::None,
            Compression::Gzip,
            Compression::Zstd,
            Compression::Bzip2,
            Compression::Xz,
        ]
        .map(Compression::is_supported);
        assert_eq!(supported, [true, true, true, false, false]);
    }
}
