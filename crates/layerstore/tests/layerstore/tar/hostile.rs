//! Hostile and broken input: every truncation, random bytes, compressed bytes, oversized and
//! malformed extension data, bad numbers, bad sparse maps, failing readers and observers. The
//! reader must return an error naming the problem, never panic, never loop, never allocate
//! without bound.

use std::io::{self, Read};

use flate2::Compression;
use flate2::write::GzEncoder;
use imgsvc_layerstore::tar::{Error, Header, MAX_EXTENSION_SIZE, Observer, Reader};

use super::fixtures;
use super::support::{
    Block, Magic, TarWriter, into_tar_error, observe, pax_record, pseudo_random, read_all,
};

/// A small archive with every kind of extension: PAX, GNU long names, old GNU sparse with an
/// extension block, PAX 1.0 sparse, and a global header.
fn rich_archive() -> Vec<u8> {
    let mut w = TarWriter::default();
    w.pax(b'g', &[(b"comment", b"g")])
        .pax(b'x', &[(b"path", b"pax-name"), (b"mtime", b"1.5")])
        .file(b"short", b"pax data")
        .gnu_long(b'L', &[b'n'; 150])
        .file(b"long", &pseudo_random(600, 1));
    // Old GNU sparse: 6 regions of 10 bytes, 4 in the header and 2 in an extension block.
    let mut sparse = Block::new(b"old-sparse", b'S', 60, Magic::Gnu);
    for i in 0..4 {
        sparse
            .octal(386 + i * 24, 12, i as u64 * 100)
            .octal(398 + i * 24, 12, 10);
    }
    sparse.0[482] = 1;
    sparse.octal(483, 12, 1000);
    let mut ext = [0u8; 512];
    for i in 0..2 {
        let mut b = Block([0; 512]);
        b.octal(i * 24, 12, (i as u64 + 4) * 100)
            .octal(12 + i * 24, 12, 10);
        ext[i * 24..i * 24 + 24].copy_from_slice(&b.0[i * 24..i * 24 + 24]);
    }
    w.block(&sparse);
    w.out.extend_from_slice(&ext);
    w.data(&pseudo_random(60, 2));
    // PAX 1.0 sparse: the map is the first block of the data.
    let mut map = b"2\n0\n5\n100\n5\n".to_vec();
    map.resize(512, 0);
    map.extend_from_slice(b"0123456789");
    w.pax(
        b'x',
        &[
            (b"GNU.sparse.major", b"1"),
            (b"GNU.sparse.minor", b"0"),
            (b"GNU.sparse.name", b"pax-sparse"),
            (b"GNU.sparse.realsize", b"200"),
        ],
    )
    .block(&Block::new(
        b"GNUSparseFile.0/pax-sparse",
        b'0',
        map.len() as u64,
        Magic::Ustar,
    ))
    .data(&map);
    w.finish()
}

#[test]
fn the_rich_archive_reads_as_intended() {
    let tar = rich_archive();
    let entries = read_all(&tar).expect("valid");
    let names: Vec<&[u8]> = entries.iter().map(|(h, _)| h.path.as_slice()).collect();
    assert_eq!(
        names,
        [
            &b"PaxHeaders/x"[..],
            b"pax-name",
            &[b'n'; 150],
            b"old-sparse",
            b"pax-sparse"
        ]
    );
    let (old, data) = &entries[3];
    let sparse = old.sparse.as_ref().expect("sparse");
    assert_eq!(
        (sparse.real_size(), sparse.regions().len(), data.len()),
        (1000, 6, 60)
    );
    assert_eq!(sparse.regions()[5].offset, 500);
    let (pax, data) = &entries[4];
    let sparse = pax.sparse.as_ref().expect("sparse");
    assert_eq!((sparse.real_size(), sparse.regions().len()), (200, 2));
    assert_eq!(data, b"0123456789", "the map is not data");
    observe(&tar).expect("every byte observed");
}

#[test]
fn every_truncation_is_an_error_or_a_clean_end() {
    let mut archives = vec![rich_archive()];
    archives.extend(
        fixtures::all()
            .iter()
            .filter(|f| f.tar.len() <= 64 << 10)
            .map(|f| f.tar.clone()),
    );
    for tar in &archives {
        let full = read_all(tar).expect("valid").len();
        for cut in 0..tar.len() {
            let part = &tar[..cut];
            match read_all(part) {
                Ok(entries) => assert!(entries.len() <= full),
                Err(Error::Truncated { offset, .. }) => assert!(offset <= cut as u64),
                Err(other) => panic!("cut at {cut}: not a truncation error: {other}"),
            }
        }
    }
}

#[test]
fn random_bytes_are_not_a_tar() {
    for seed in 0..200 {
        let len = (seed as usize * 37) % 3000;
        let bytes = pseudo_random(len, seed);
        match read_all(&bytes) {
            Ok(entries) => assert!(entries.is_empty() || len >= 512),
            Err(Error::NotTar { .. } | Error::Truncated { .. }) => {}
            Err(other) => panic!("seed {seed}: {other}"),
        }
    }
}

#[test]
fn random_bytes_after_a_valid_header() {
    for seed in 0..200 {
        let mut tar = TarWriter::default().file(b"ok", b"fine").out.clone();
        tar.extend_from_slice(&pseudo_random((seed as usize * 53) % 2000, seed));
        let _ = read_all(&tar);
        let _ = observe(&tar);
    }
}

#[test]
fn compressed_layers_say_so() {
    let tar = rich_archive();
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    io::Write::write_all(&mut gzip, &tar).expect("memory");
    let gzip = gzip.finish().expect("memory");
    let err = read_all(&gzip).expect_err("gzip is not tar");
    assert!(matches!(err, Error::NotTar { .. }));
    assert!(err.to_string().contains("gzip-compressed"), "{err}");
    let err = read_all(&[0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0].repeat(100)).expect_err("zstd");
    assert!(err.to_string().contains("zstd"), "{err}");
}

#[test]
fn a_bad_checksum_later_in_the_archive() {
    let mut tar = TarWriter::default()
        .file(b"a", b"x")
        .file(b"b", b"y")
        .finish();
    tar[1024] ^= 1;
    let err = read_all(&tar).expect_err("corrupt");
    assert!(
        matches!(err, Error::BadChecksum { offset: 1024, .. }),
        "{err}"
    );
}

#[test]
fn oversized_extension_data_is_refused_before_reading_it() {
    for typeflag in [b'x', b'g', b'L', b'K'] {
        let mut w = TarWriter::default();
        w.block(&Block::new(
            b"ext",
            typeflag,
            MAX_EXTENSION_SIZE + 1,
            Magic::Gnu,
        ));
        let err = read_all(&w.finish()).expect_err("too large");
        assert!(
            matches!(err, Error::TooLarge { size, .. } if size == MAX_EXTENSION_SIZE + 1),
            "{err}"
        );
        // A huge claimed size with no data behind it fails the same way, without allocating.
        let mut w = TarWriter::default();
        w.block(&Block::new(b"ext", typeflag, 1 << 40, Magic::Gnu));
        assert!(matches!(read_all(&w.finish()), Err(Error::TooLarge { .. })));
    }
    // Exactly the limit is fine.
    let mut w = TarWriter::default();
    w.gnu_long(b'L', &vec![b'a'; MAX_EXTENSION_SIZE as usize - 1])
        .file(b"x", b"");
    assert_eq!(
        read_all(&w.finish()).expect("at the limit")[0].0.path.len(),
        MAX_EXTENSION_SIZE as usize - 1
    );
}

#[test]
fn malformed_pax_data() {
    for data in [
        &b"99999999999999999999 path=x\n"[..],
        b"5 path=x\n",
        b"30 path=x\n",
        b"no length\n",
        b"10 pathx\n\n\n",
        b"9 =value\n",
    ] {
        let mut w = TarWriter::default();
        w.block(&Block::new(b"pax", b'x', data.len() as u64, Magic::Ustar))
            .data(data)
            .file(b"f", b"");
        let err = read_all(&w.finish()).expect_err("bad PAX");
        assert!(
            matches!(err, Error::BadPax { offset: 0, .. }),
            "{}: {err}",
            String::from_utf8_lossy(data)
        );
    }
    for (key, value) in [
        (&b"uid"[..], &b"-1"[..]),
        (b"gid", b"x"),
        (b"size", b"-5"),
        (b"size", b"99999999999999999999"),
        (b"mtime", b"1.2.3"),
        (b"atime", b"abc"),
    ] {
        let mut w = TarWriter::default();
        w.pax(b'x', &[(key, value)]).file(b"f", b"");
        let err = read_all(&w.finish()).expect_err("bad number");
        assert!(matches!(err, Error::BadNumeric { .. }), "{err}");
    }
}

#[test]
fn bad_numeric_header_fields() {
    let cases: [(usize, usize, &[u8]); 6] = [
        (100, 8, b"0000x44\0"),
        (124, 12, &[0xff; 12]), // negative size (base-256)
        (
            124,
            12,
            &[
                0x80, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
        ), // overflow
        (108, 8, &[0xff; 8]),   // negative uid
        (136, 12, b"9999999999\0\0"),
        (329, 8, b"12 34\0\0\0"),
    ];
    for (at, len, value) in cases {
        let mut block = Block::new(b"f", b'0', 0, Magic::Ustar);
        block.set(at, len, value);
        let mut w = TarWriter::default();
        w.block(&block);
        let err = read_all(&w.finish()).expect_err("bad field");
        assert!(
            matches!(err, Error::BadNumeric { offset: 0, .. }),
            "field at {at}: {err}"
        );
        assert!(err.to_string().contains("\"f\""), "names the entry: {err}");
    }
    // Mode wider than 32 bits.
    let mut block = Block::new(b"f", b'0', 0, Magic::Ustar);
    block.set(100, 8, &[0x80, 0, 0, 1, 0, 0, 0, 0]);
    let mut w = TarWriter::default();
    w.block(&block);
    assert!(matches!(
        read_all(&w.finish()),
        Err(Error::BadNumeric { field: "mode", .. })
    ));
}

#[test]
fn negative_times_in_base256_are_fine() {
    let mut block = Block::new(b"f", b'0', 0, Magic::Gnu);
    block.set(136, 12, &[0xff; 12]);
    let mut w = TarWriter::default();
    w.block(&block);
    assert_eq!(read_all(&w.finish()).expect("valid")[0].0.mtime.secs(), -1);
}

fn sparse_error(tar: Vec<u8>) -> Error {
    let err = read_all(&tar).expect_err("invalid sparse file");
    assert!(
        matches!(
            err,
            Error::InvalidSparse { .. } | Error::TooLarge { .. } | Error::BadNumeric { .. }
        ),
        "{err}"
    );
    err
}

#[test]
fn invalid_sparse_maps() {
    // Regions that do not add up to the data.
    let mut w = TarWriter::default();
    w.pax(
        b'x',
        &[
            (b"GNU.sparse.map", b"0,5"),
            (b"GNU.sparse.numblocks", b"1"),
            (b"GNU.sparse.size", b"10"),
        ],
    )
    .file(b"s", b"123456");
    sparse_error(w.finish());
    // A region past the real size.
    let mut w = TarWriter::default();
    w.pax(
        b'x',
        &[
            (b"GNU.sparse.map", b"8,5"),
            (b"GNU.sparse.numblocks", b"1"),
            (b"GNU.sparse.size", b"10"),
        ],
    )
    .file(b"s", b"12345");
    sparse_error(w.finish());
    // Overlapping regions.
    let mut w = TarWriter::default();
    w.pax(
        b'x',
        &[
            (b"GNU.sparse.map", b"0,5,3,1"),
            (b"GNU.sparse.numblocks", b"2"),
            (b"GNU.sparse.size", b"10"),
        ],
    )
    .file(b"s", b"123456");
    sparse_error(w.finish());
    // A count that does not match.
    let mut w = TarWriter::default();
    w.pax(
        b'x',
        &[(b"GNU.sparse.map", b"0,5"), (b"GNU.sparse.numblocks", b"2")],
    )
    .file(b"s", b"12345");
    sparse_error(w.finish());
    // A sparse directory.
    let mut w = TarWriter::default();
    w.pax(
        b'x',
        &[(b"GNU.sparse.map", b"0,0"), (b"GNU.sparse.numblocks", b"1")],
    )
    .block(&Block::new(b"d/", b'5', 0, Magic::Ustar));
    sparse_error(w.finish());
    // Old GNU sparse in a ustar header.
    let mut w = TarWriter::default();
    w.block(&Block::new(b"s", b'S', 0, Magic::Ustar));
    sparse_error(w.finish());
    // A 1.0 map that runs past the data.
    let mut w = TarWriter::default();
    w.pax(
        b'x',
        &[(b"GNU.sparse.major", b"1"), (b"GNU.sparse.minor", b"0")],
    )
    .block(&Block::new(b"s", b'0', 512, Magic::Ustar))
    .data(&[b'9'; 512]);
    sparse_error(w.finish());
    // A 1.0 map that claims more regions than it has, in a megabyte of data.
    let mut data = b"100000000\n".to_vec();
    data.resize(2 << 20, b'\n');
    let mut w = TarWriter::default();
    w.pax(
        b'x',
        &[(b"GNU.sparse.major", b"1"), (b"GNU.sparse.minor", b"0")],
    )
    .block(&Block::new(b"s", b'0', data.len() as u64, Magic::Ustar))
    .data(&data);
    let err = read_all(&w.finish()).expect_err("bad map");
    assert!(
        matches!(err, Error::InvalidSparse { .. } | Error::TooLarge { .. }),
        "{err}"
    );
}

#[test]
fn endless_old_gnu_extension_blocks_are_refused() {
    let mut sparse = Block::new(b"s", b'S', 0, Magic::Gnu);
    sparse.0[482] = 1;
    let mut w = TarWriter::default();
    w.block(&sparse);
    let mut ext = [0u8; 512];
    ext[504] = 1;
    for _ in 0..3000 {
        w.out.extend_from_slice(&ext);
    }
    let err = read_all(&w.finish()).expect_err("too many extension blocks");
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
}

/// Fails on the n-th call of the kind chosen.
struct Failing {
    segments_until_failure: usize,
    content_fails: bool,
}

impl Observer for Failing {
    fn segment(&mut self, _: &[u8]) -> io::Result<()> {
        if self.segments_until_failure == 0 {
            return Err(io::Error::other("disk full"));
        }
        self.segments_until_failure -= 1;
        Ok(())
    }
    fn entry_start(&mut self, _: &Header) -> io::Result<()> {
        Ok(())
    }
    fn content(&mut self, _: &[u8]) -> io::Result<()> {
        if self.content_fails {
            return Err(io::Error::other("checksum writer failed"));
        }
        Ok(())
    }
}

#[test]
fn observer_errors_stop_the_reader() {
    let tar = rich_archive();
    let mut reader = Reader::with_observer(
        &tar[..],
        Failing {
            segments_until_failure: 2,
            content_fails: false,
        },
    );
    let err = loop {
        match reader.next_entry() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("the observer fails before the end"),
            Err(err) => break err,
        }
    };
    assert!(matches!(err, Error::Observer { .. }), "{err}");
    assert!(err.to_string().contains("disk full"));
    assert!(matches!(reader.next_entry(), Err(Error::Failed)));

    let mut reader = Reader::with_observer(
        &tar[..],
        Failing {
            segments_until_failure: usize::MAX,
            content_fails: true,
        },
    );
    // The first entry is the global header, without data; the second has data.
    assert_eq!(
        reader
            .next_entry()
            .expect("a header")
            .expect("an entry")
            .header()
            .size,
        0
    );
    let mut entry = reader.next_entry().expect("a header").expect("an entry");
    assert!(entry.header().size > 0);
    let err = entry.read(&mut [0; 64]).expect_err("content fails");
    assert_eq!(err.to_string(), "checksum writer failed");
    let err = entry.read(&mut [0; 64]).expect_err("stays failed");
    assert!(matches!(into_tar_error(err), Error::Failed));
}

/// Hands out the input in tiny reads, interrupted every other call, then fails if asked to.
struct Awkward<'a> {
    data: &'a [u8],
    calls: usize,
    fail_at: Option<usize>,
}

impl Read for Awkward<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(2) {
            return Err(io::ErrorKind::Interrupted.into());
        }
        if self.fail_at.is_some_and(|at| self.data.len() <= at) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "network down",
            ));
        }
        let n = buf.len().min(3).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn tiny_interrupted_reads_give_the_same_entries() {
    let tar = rich_archive();
    let expected = read_all(&tar).expect("valid");
    let mut reader = Reader::new(Awkward {
        data: &tar,
        calls: 0,
        fail_at: None,
    });
    let mut got = Vec::new();
    while let Some(mut entry) = reader.next_entry().expect("valid") {
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("valid");
        got.push((entry.header().clone(), data));
    }
    assert_eq!(got, expected);
    assert_eq!(reader.offset(), tar.len() as u64);
}

#[test]
fn input_errors_carry_the_offset() {
    let tar = rich_archive();
    let mut reader = Reader::new(Awkward {
        data: &tar,
        calls: 0,
        fail_at: Some(tar.len() - 700),
    });
    let err = loop {
        match reader.next_entry() {
            Ok(Some(mut entry)) => {
                if let Err(err) = io::copy(&mut entry, &mut io::sink()) {
                    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
                    break into_tar_error(err);
                }
            }
            Ok(None) => panic!("the input fails first"),
            Err(err) => break err,
        }
    };
    assert!(
        matches!(
            &err,
            Error::Io {
                offset: 700..=702,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn pax_records_with_huge_lengths_do_not_allocate() {
    let data = pax_record(b"path", &[b'x'; 100]);
    let mut bad = b"1000000000 ".to_vec();
    bad.extend_from_slice(&data);
    let mut w = TarWriter::default();
    w.block(&Block::new(b"pax", b'x', bad.len() as u64, Magic::Ustar))
        .data(&bad);
    assert!(matches!(read_all(&w.finish()), Err(Error::BadPax { .. })));
}
