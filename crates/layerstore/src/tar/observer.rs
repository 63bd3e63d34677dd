//! [`Observer`]: sees every byte the [`Reader`](super::Reader) consumes, in order, classified
//! as raw archive structure or as file content. This is how tar-split metadata is recorded in
//! the same pass that extracts the layer.

use std::io;

use super::Header;

/// Receives every byte a [`Reader`](super::Reader) consumes from its input, in input order,
/// each byte exactly once, as either a *segment* (anything that is not entry data) or
/// *content* (the data of the current entry).
///
/// For each entry the calls are:
/// 1. [`segment`](Observer::segment), any number of times: the previous entry's padding, then
///    this entry's header blocks (extension headers with their data and padding, the main
///    header block, old GNU sparse extension blocks, a PAX 1.0 sparse map);
/// 2. [`entry_start`](Observer::entry_start) once, with the parsed header;
/// 3. [`content`](Observer::content), any number of times, with the entry's stored data
///    ([`Header::size`] bytes in all: what reading the entry yields, including data that the
///    caller skipped, which the reader reads and passes on);
/// 4. [`entry_end`](Observer::entry_end) once, when the next entry is requested.
///
/// After the last entry: `segment` with the last padding and the end-of-archive blocks (if
/// any), then [`archive_end`](Observer::archive_end) once, then `segment` with every
/// remaining byte of the input up to its end (trailing garbage, or the zero padding GNU tar
/// adds to fill a record), in chunks.
///
/// Concatenating all `segment` and `content` bytes in call order gives the input exactly, up
/// to where the reader stopped. An error from any method stops the reader with
/// [`Error::Observer`](super::Error::Observer) (or, inside an entry's `read`, that `io::Error`
/// itself).
///
/// Every method does nothing by default. `()` observes nothing, and `&mut O` observes as `O`
/// does, so a caller can keep its observer.
///
/// ```
/// use imgsvc_layerstore::tar::{Header, Observer};
///
/// /// Counts structure and content bytes.
/// #[derive(Default)]
/// struct Tally { structure: u64, content: u64, entries: u64 }
///
/// impl Observer for Tally {
///     fn segment(&mut self, bytes: &[u8]) -> std::io::Result<()> {
///         self.structure += bytes.len() as u64;
///         Ok(())
///     }
///     fn entry_start(&mut self, _header: &Header) -> std::io::Result<()> {
///         self.entries += 1;
///         Ok(())
///     }
///     fn content(&mut self, bytes: &[u8]) -> std::io::Result<()> {
///         self.content += bytes.len() as u64;
///         Ok(())
///     }
/// }
///
/// let empty_archive = [0u8; 1024];
/// let mut reader = imgsvc_layerstore::tar::Reader::with_observer(&empty_archive[..], Tally::default());
/// assert!(reader.next_entry()?.is_none());
/// assert_eq!(reader.observer().structure, 1024);
/// # Ok::<(), imgsvc_layerstore::tar::Error>(())
/// ```
pub trait Observer {
    /// Raw archive bytes that are not entry data.
    fn segment(&mut self, bytes: &[u8]) -> io::Result<()> {
        let _ = bytes;
        Ok(())
    }

    /// An entry's headers have been read; its data (if any) follows as
    /// [`content`](Observer::content).
    fn entry_start(&mut self, header: &Header) -> io::Result<()> {
        let _ = header;
        Ok(())
    }

    /// Data of the current entry.
    fn content(&mut self, bytes: &[u8]) -> io::Result<()> {
        let _ = bytes;
        Ok(())
    }

    /// All of the current entry's data has been passed on.
    fn entry_end(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// The end of the archive has been reached (the end-of-archive blocks, or the end of the
    /// input); further segments are trailing bytes.
    fn archive_end(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Observer for () {}

impl<O: Observer + ?Sized> Observer for &mut O {
    fn segment(&mut self, bytes: &[u8]) -> io::Result<()> {
        (**self).segment(bytes)
    }
    fn entry_start(&mut self, header: &Header) -> io::Result<()> {
        (**self).entry_start(header)
    }
    fn content(&mut self, bytes: &[u8]) -> io::Result<()> {
        (**self).content(bytes)
    }
    fn entry_end(&mut self) -> io::Result<()> {
        (**self).entry_end()
    }
    fn archive_end(&mut self) -> io::Result<()> {
        (**self).archive_end()
    }
}
