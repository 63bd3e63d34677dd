//! Filling a [`Header`] from a header block and from PAX records, with Go's `archive/tar`
//! rules (Docker's reader): which fields each format has, the ustar prefix, GNU times, and
//! which records override which fields.

use super::block::{Block, Format, compression_hint};
use super::error::snippet;
use super::number::{c_string, parse_decimal, parse_numeric};
use super::pax::{self, Record};
use super::{Error, Header, Timestamp};

/// The PAX key prefix of extended attributes.
const XATTR_PREFIX: &[u8] = b"SCHILY.xattr.";

/// The parts of a header block the reader needs besides the [`Header`] fields.
pub(crate) struct BlockInfo {
    pub(crate) format: Format,
    /// The size field (not yet overridden by PAX).
    pub(crate) size: u64,
}

/// Parses a header block into `header` (every field the block has), as Go's reader does.
pub(crate) fn parse_block(
    raw: &[u8; 512],
    offset: u64,
    header: &mut Header,
) -> Result<BlockInfo, Error> {
    let block = Block(raw);
    let Some(format) = block.format() else {
        return Err(if offset == 0 {
            Error::NotTar {
                hint: compression_hint(raw),
            }
        } else {
            let (computed, _) = block.checksums();
            Error::BadChecksum {
                offset,
                recorded: snippet(c_string(block.checksum()))
                    .escape_debug()
                    .to_string(),
                computed,
            }
        });
    };
    let bad = |field: &'static str, value: &[u8]| Error::BadNumeric {
        offset,
        entry: snippet(c_string(block.name())),
        field,
        value: snippet(value),
    };
    let number =
        |field: &'static str, value: &[u8]| parse_numeric(value).ok_or_else(|| bad(field, value));
    let unsigned = |field: &'static str, value: &[u8]| {
        number(field, value).and_then(|n| u64::try_from(n).map_err(|_| bad(field, value)))
    };

    header.typeflag = block.typeflag();
    set(&mut header.path, c_string(block.name()));
    set(&mut header.link, c_string(block.linkname()));
    let size = unsigned("size", block.size())?;
    header.mode =
        u32::try_from(number("mode", block.mode())?).map_err(|_| bad("mode", block.mode()))?;
    header.uid = unsigned("uid", block.uid())?;
    header.gid = unsigned("gid", block.gid())?;
    header.mtime = seconds(number("mtime", block.mtime())?);
    header.uname.clear();
    header.gname.clear();
    header.dev_major = 0;
    header.dev_minor = 0;
    header.atime = None;
    header.ctime = None;
    if format == Format::V7 {
        return Ok(BlockInfo { format, size });
    }

    set(&mut header.uname, c_string(block.uname()));
    set(&mut header.gname, c_string(block.gname()));
    header.dev_major = unsigned("devmajor", block.devmajor())?;
    header.dev_minor = unsigned("devminor", block.devminor())?;
    let prefix = match format {
        Format::Ustar => c_string(block.ustar_prefix()),
        Format::Star => {
            header.atime = Some(seconds(number("atime", block.star_atime())?));
            header.ctime = Some(seconds(number("ctime", block.star_ctime())?));
            c_string(block.star_prefix())
        }
        Format::Gnu => gnu_times(&block, header),
        Format::V7 => b"",
    };
    if !prefix.is_empty() {
        let name = std::mem::take(&mut header.path);
        header.path.extend_from_slice(prefix);
        header.path.push(b'/');
        header.path.extend_from_slice(&name);
    }
    Ok(BlockInfo { format, size })
}

/// Reads the GNU atime and ctime fields (each only when it does not start with NUL) and
/// returns the prefix to use: none, unless the times do not parse and the field is ASCII, in
/// which case an old Go writer put a ustar prefix there by mistake (Go's reader falls back to
/// that reading, and so do we).
fn gnu_times<'a>(block: &Block<'a>, header: &mut Header) -> &'a [u8] {
    let time = |field: &[u8]| match field.first() {
        Some(0) => Ok(None),
        _ => parse_numeric(field)
            .map(|secs| Some(seconds(secs)))
            .ok_or(()),
    };
    match (time(block.gnu_atime()), time(block.gnu_ctime())) {
        (Ok(atime), Ok(ctime)) => {
            header.atime = atime;
            header.ctime = ctime;
            b""
        }
        _ => {
            let prefix = c_string(block.ustar_prefix());
            if prefix.iter().all(|&b| b < 0x80) {
                prefix
            } else {
                b""
            }
        }
    }
}

/// Applies PAX records to `header` as Go's reader does: `path`, `linkpath`, `uname`,
/// `gname`, `uid`, `gid`, `atime`, `mtime`, `ctime`, `size` override the block's fields (an
/// empty value keeps the block's), and `SCHILY.xattr.<name>` records become
/// [`Header::xattrs`]. Returns the overriding size, if any.
pub(crate) fn merge_pax(
    header: &mut Header,
    records: &[Record],
    offset: u64,
) -> Result<Option<u64>, Error> {
    let mut size = None;
    for (key, value) in records {
        if let Some(name) = key.strip_prefix(XATTR_PREFIX) {
            match header.xattrs.iter_mut().find(|(n, _)| n == name) {
                Some((_, v)) => v.clone_from(value),
                None => header.xattrs.push((name.to_vec(), value.clone())),
            }
            continue;
        }
        if value.is_empty() {
            continue;
        }
        let bad = |field: &'static str| Error::BadNumeric {
            offset,
            entry: snippet(&header.path),
            field,
            value: snippet(value),
        };
        let id = |field| {
            parse_decimal(value)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| bad(field))
        };
        let time = |field| pax::parse_time(value).ok_or_else(|| bad(field));
        match key.as_slice() {
            b"path" => header.path.clone_from(value),
            b"linkpath" => header.link.clone_from(value),
            b"uname" => header.uname.clone_from(value),
            b"gname" => header.gname.clone_from(value),
            b"uid" => header.uid = id("PAX uid")?,
            b"gid" => header.gid = id("PAX gid")?,
            b"atime" => header.atime = Some(time("PAX atime")?),
            b"mtime" => header.mtime = time("PAX mtime")?,
            b"ctime" => header.ctime = Some(time("PAX ctime")?),
            b"size" => size = Some(id("PAX size")?),
            _ => {}
        }
    }
    Ok(size)
}

/// Replaces the content of `field` with `value`, keeping its allocation.
fn set(field: &mut Vec<u8>, value: &[u8]) {
    field.clear();
    field.extend_from_slice(value);
}

/// Whole seconds as a [`Timestamp`].
fn seconds(secs: i64) -> Timestamp {
    Timestamp::new(secs, 0).unwrap_or_default()
}
