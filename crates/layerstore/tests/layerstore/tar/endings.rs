//! How archives end: two zero blocks, one, none, the input ending in padding, trailing
//! bytes; every byte is consumed and observed, and the bytes after the end-of-archive blocks
//! come after `archive_end`.

use std::io;

use imgsvc_layerstore::tar::{Error, Header, Observer, Reader};

use super::support::{TarWriter, observe, pseudo_random, read_all};

/// Counts the bytes observed before and after `archive_end`.
#[derive(Default)]
struct Split {
    before: Vec<u8>,
    after: Vec<u8>,
    ended: bool,
}

impl Observer for Split {
    fn segment(&mut self, bytes: &[u8]) -> io::Result<()> {
        let side = if self.ended {
            &mut self.after
        } else {
            &mut self.before
        };
        side.extend_from_slice(bytes);
        Ok(())
    }
    fn entry_start(&mut self, _: &Header) -> io::Result<()> {
        Ok(())
    }
    fn content(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.before.extend_from_slice(bytes);
        Ok(())
    }
    fn archive_end(&mut self) -> io::Result<()> {
        self.ended = true;
        Ok(())
    }
}

fn split(tar: &[u8]) -> Result<Split, Error> {
    let mut reader = Reader::with_observer(tar, Split::default());
    while reader.next_entry()?.is_some() {}
    assert!(reader.is_finished());
    Ok(reader.into_parts().1)
}

fn two_files() -> TarWriter {
    let mut w = TarWriter::default();
    w.file(b"a", b"alpha").file(b"b", &pseudo_random(700, 1));
    w
}

#[test]
fn two_zero_blocks_end_the_archive_and_the_rest_is_trailing() {
    let mut tar = two_files().finish();
    let end = tar.len();
    tar.extend_from_slice(b"trailing garbage");
    let split = split(&tar).expect("valid");
    assert_eq!(split.before, &tar[..end]);
    assert_eq!(split.after, b"trailing garbage");
    assert_eq!(read_all(&tar).expect("valid").len(), 2);
}

#[test]
fn megabytes_of_trailing_bytes_are_consumed_and_observed() {
    let mut tar = two_files().finish();
    tar.extend_from_slice(&pseudo_random(5 << 20, 9));
    let (headers, recorder) = observe(&tar).expect("valid");
    assert_eq!(headers.len(), 2);
    assert_eq!(recorder.stream.len(), tar.len());
}

#[test]
fn one_zero_block_then_the_end_of_input() {
    let mut tar = two_files().out;
    let end = tar.len();
    tar.extend_from_slice(&[0; 512]);
    let split = split(&tar).expect("a single zero block ends the archive");
    assert_eq!(split.before.len(), end + 512);
    assert!(split.after.is_empty());
}

#[test]
fn no_zero_blocks_at_all() {
    let tar = two_files().out;
    assert_eq!(
        read_all(&tar)
            .expect("the end of input ends the archive")
            .len(),
        2
    );
}

#[test]
fn the_input_ending_in_padding_keeps_the_partial_padding() {
    let full = two_files().out;
    for cut in [full.len() - 1, full.len() - 100, full.len() - 323] {
        let tar = &full[..cut];
        let entries = read_all(tar).expect("the end of input in padding ends the archive");
        assert_eq!(entries[1].1, pseudo_random(700, 1));
        let split = split(tar).expect("valid");
        assert_eq!(split.before, tar);
    }
}

#[test]
fn empty_inputs() {
    assert!(
        read_all(b"")
            .expect("no bytes is an empty archive")
            .is_empty()
    );
    assert!(
        read_all(&[0; 1024])
            .expect("just the end blocks")
            .is_empty()
    );
    assert!(read_all(&[0; 512]).expect("one zero block").is_empty());
    let split = split(&[0; 10240]).expect("record padding");
    assert_eq!((split.before.len(), split.after.len()), (1024, 9216));
}

#[test]
fn a_zero_block_followed_by_a_header_is_an_error() {
    let mut w = TarWriter::default();
    w.file(b"a", b"x");
    w.out.extend_from_slice(&[0; 512]);
    w.file(b"b", b"y");
    let tar = w.finish();
    let err = read_all(&tar).expect_err("a lone zero block");
    assert!(
        matches!(err, Error::LoneZeroBlock { offset: 1024 }),
        "{err}"
    );
    assert!(err.to_string().contains("offset 1024"), "{err}");
}

#[test]
fn a_zero_block_followed_by_part_of_a_block_is_truncated() {
    let mut tar = vec![0u8; 512 + 100];
    tar[600] = 1;
    let err = read_all(&tar).expect_err("truncated");
    assert!(matches!(err, Error::Truncated { offset: 612, .. }), "{err}");
    let err = read_all(&[0u8; 700]).expect_err("truncated");
    assert!(matches!(err, Error::Truncated { .. }), "{err}");
}
