//! Decompressing layer blobs as they stream: gzip, zstd or plain tar, told apart by their
//! magic bytes.
//!
//! A layer's media type says how it is compressed, but the bytes decide: like Docker, a
//! layer labelled gzip that holds a plain tar is read as a plain tar. gzip streams may hold
//! several members and zstd streams several frames; all are read, in order. Nothing is
//! buffered beyond the decoders' fixed windows, so memory stays flat whatever the layer's
//! size.
//!
//! ```
//! use std::io::{Read, Write};
//! use imgsvc_distribution::decompress::{self, Compression};
//! use imgsvc_distribution::digest::Digest;
//!
//! let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
//! gz.write_all(b"a tar, really")?;
//! let blob = gz.finish()?;
//!
//! let digest = Digest::from_bytes(&blob);
//! let mut tar = Vec::new();
//! decompress::decoder(&blob[..], Some(Compression::Gzip), digest)?
//!     .read_to_end(&mut tar)
//!     .map_err(|err| decompress::decompress_error(digest, err))?;
//! assert_eq!(tar, b"a tar, really");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compression;

use std::io::{self, Read};

use imgsvc_digest::Digest;

use crate::Error;

pub use compression::{Compression, MAGIC_LEN};

/// A streaming reader of the uncompressed content of `reader`, a layer blob with digest
/// `digest`.
///
/// The compression is detected from the first bytes, which are read here and not lost. The
/// media type's `hint` does not override them; it only makes the error for an unsupported
/// compression say what the layer claimed to be.
///
/// Errors: [`Error::Decompress`] when the blob is bzip2 or xz (unsupported), when its first
/// bytes cannot be read, or when a decoder cannot start. Errors found later, while reading,
/// are `io::Error`s; [`decompress_error`] turns them into [`Error::Decompress`].
///
/// ```
/// use std::io::Read;
/// use imgsvc_distribution::decompress::{self, Compression};
/// use imgsvc_distribution::digest::Digest;
///
/// // Labelled gzip, but a plain tar: read as it is.
/// let blob = b"plain tar bytes";
/// let mut out = Vec::new();
/// decompress::decoder(&blob[..], Some(Compression::Gzip), Digest::from_bytes(blob))?.read_to_end(&mut out)?;
/// assert_eq!(out, blob);
///
/// // xz is recognised and refused with a clear error.
/// let xz = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00];
/// let err = decompress::decoder(&xz[..], None, Digest::from_bytes(&xz)).err();
/// assert!(err.is_some_and(|err| err.to_string().contains("xz")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decoder<'a, R: Read + Send + 'a>(
    reader: R,
    hint: Option<Compression>,
    digest: Digest,
) -> Result<Box<dyn Read + Send + 'a>, Error> {
    let (detected, reader) = peek(reader).map_err(|err| Error::Decompress {
        digest,
        reason: format!("reading its first bytes: {err}"),
    })?;
    Ok(match detected {
        Compression::None => Box::new(reader),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(reader)
                .map_err(|err| decompress_error(digest, err))?,
        ),
        unsupported => return Err(unsupported_error(digest, unsupported, hint)),
    })
}

/// [`Error::Decompress`] for an error that a [`decoder`]'s reader returned.
///
/// ```
/// use imgsvc_distribution::{decompress, digest::Digest};
///
/// let err = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "early eof");
/// let err = decompress::decompress_error(Digest::from_bytes(b""), err);
/// assert!(err.to_string().contains("truncated"));
/// ```
pub fn decompress_error(digest: Digest, err: io::Error) -> Error {
    let reason = if err.kind() == io::ErrorKind::UnexpectedEof {
        format!("{err} (the blob is truncated)")
    } else {
        err.to_string()
    };
    Error::Decompress { digest, reason }
}

fn unsupported_error(digest: Digest, detected: Compression, hint: Option<Compression>) -> Error {
    let claimed = match hint {
        Some(hint) if hint != detected => format!(", although its media type says {hint}"),
        _ => String::new(),
    };
    Error::Decompress {
        digest,
        reason: format!(
            "the layer is {detected}-compressed{claimed}; only gzip, zstd and uncompressed layers are supported (re-push the image with gzip or zstd layers)"
        ),
    }
}

/// Reads up to [`MAGIC_LEN`] bytes and gives them back in front of the rest of the stream.
fn peek<R: Read>(mut reader: R) -> io::Result<(Compression, impl Read)> {
    let mut prefix = [0u8; MAGIC_LEN];
    let mut len = 0;
    while let Some(rest) = prefix.get_mut(len..).filter(|rest| !rest.is_empty()) {
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    let seen = prefix.get(..len).unwrap_or_default();
    let detected = Compression::detect(seen);
    let replay = io::Cursor::new(prefix).take(len as u64);
    Ok((detected, replay.chain(reader)))
}

#[cfg(test)]
mod tests;
