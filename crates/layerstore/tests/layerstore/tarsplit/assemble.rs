//! Rebuilding: files that changed on disk are caught and named, entries without data open
//! nothing, and reads of any size give the same stream.

use std::cell::Cell;
use std::io::{self, Cursor, Read};

use imgsvc_layerstore::tarsplit::{self, Entry, Error, FileEntry, Problem, Segment};

fn crc(data: &[u8]) -> u64 {
    crc::Crc::<u64>::new(&crc::CRC_64_GO_ISO).checksum(data)
}

fn entries() -> Vec<Entry> {
    vec![
        Entry::Segment(Segment {
            payload: b"<h1>".to_vec(),
            position: 0,
        }),
        Entry::File(FileEntry {
            name: b"one".to_vec(),
            size: 5,
            crc: Some(crc(b"12345")),
            ..FileEntry::default()
        }),
        Entry::Segment(Segment {
            payload: b"<h2>".to_vec(),
            position: 2,
        }),
        Entry::File(FileEntry {
            name: b"empty".to_vec(),
            position: 3,
            ..FileEntry::default()
        }),
        Entry::File(FileEntry {
            name: b"two".to_vec(),
            size: 3,
            crc: Some(crc(b"abc")),
            position: 4,
            ..FileEntry::default()
        }),
        Entry::Segment(Segment {
            payload: vec![0; 1024],
            position: 5,
        }),
    ]
}

fn assemble_with(files: &[(&str, &[u8])]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    tarsplit::assemble(entries().into_iter().map(Ok), |f: &FileEntry| {
        files
            .iter()
            .find(|(name, _)| name.as_bytes() == f.name)
            .map(|(_, data)| Cursor::new(data.to_vec()))
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    })
    .read_to_end(&mut out)?;
    Ok(out)
}

fn integrity(err: &io::Error) -> (&str, &Problem) {
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    match Error::from_io(err) {
        Some(Error::Integrity { name, problem }) => (name.as_str(), problem),
        other => panic!("not an integrity error: {other:?}"),
    }
}

#[test]
fn intact_files_rebuild_the_stream() {
    let out = assemble_with(&[("one", b"12345"), ("two", b"abc")]).expect("intact");
    let mut expected = b"<h1>12345<h2>abc".to_vec();
    expected.extend_from_slice(&[0; 1024]);
    assert_eq!(out, expected);
}

#[test]
fn changed_files_are_named() {
    let err = assemble_with(&[("one", b"12345"), ("two", b"abd")]).expect_err("changed");
    assert_eq!(
        integrity(&err),
        (
            "two",
            &Problem::Checksum {
                expected: crc(b"abc"),
                actual: crc(b"abd")
            }
        )
    );
    assert!(
        err.to_string()
            .starts_with("file integrity checksum failed for \"two\""),
        "{err}"
    );

    let err = assemble_with(&[("one", b"1234"), ("two", b"abc")]).expect_err("short");
    assert_eq!(
        integrity(&err),
        (
            "one",
            &Problem::Short {
                expected: 5,
                actual: 4
            }
        )
    );

    let err = assemble_with(&[("one", b"123456"), ("two", b"abc")]).expect_err("long");
    assert_eq!(integrity(&err), ("one", &Problem::Long { expected: 5 }));

    let err = assemble_with(&[("one", b"12345")]).expect_err("missing");
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    assert!(matches!(Error::from_io(&err), Some(Error::OpenFile { name, .. }) if name == "two"));
}

#[test]
fn entries_without_data_open_nothing() {
    let opened = Cell::new(0);
    let entries = vec![
        Entry::File(FileEntry {
            name: b"dir".to_vec(),
            ..FileEntry::default()
        }),
        Entry::Segment(Segment {
            payload: b"x".to_vec(),
            position: 1,
        }),
    ];
    let mut out = Vec::new();
    tarsplit::assemble(entries.into_iter().map(Ok), |_: &FileEntry| {
        opened.set(opened.get() + 1);
        Ok(io::empty())
    })
    .read_to_end(&mut out)
    .expect("nothing to open");
    assert_eq!((out.as_slice(), opened.get()), (&b"x"[..], 0));
}

#[test]
fn one_byte_reads_give_the_same_stream() {
    let whole = assemble_with(&[("one", b"12345"), ("two", b"abc")]).expect("intact");
    let mut assembler = tarsplit::assemble(entries().into_iter().map(Ok), |f: &FileEntry| {
        Ok(Cursor::new(if f.name == b"one" {
            b"12345".to_vec()
        } else {
            b"abc".to_vec()
        }))
    });
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match assembler.read(&mut byte).expect("intact") {
            0 => break,
            n => out.extend_from_slice(&byte[..n]),
        }
    }
    assert_eq!(out, whole);
    assert_eq!(assembler.read(&mut byte).expect("still at the end"), 0);
}

#[test]
fn errors_from_the_entries_and_after_a_failure() {
    let entries = vec![
        Ok(Entry::Segment(Segment {
            payload: b"ok".to_vec(),
            position: 0,
        })),
        Err(Error::Corrupt {
            line: 2,
            reason: "bad".into(),
        }),
    ];
    let mut assembler = tarsplit::assemble(entries, |_: &FileEntry| Ok(io::empty()));
    let mut buf = [0u8; 16];
    assert_eq!(assembler.read(&mut buf).expect("the first segment"), 2);
    let err = assembler.read(&mut buf).expect_err("corrupt metadata");
    assert!(matches!(
        Error::from_io(&err),
        Some(Error::Corrupt { line: 2, .. })
    ));
    let err = assembler.read(&mut buf).expect_err("failed for good");
    assert!(matches!(Error::from_io(&err), Some(Error::Failed)));
}

#[test]
fn sparse_files_are_read_expanded_and_packed() {
    let metadata = concat!(
        r#"{"type":2,"payload":"SA==","position":0}"#,
        "\n",
        r#"{"type":1,"name":"s","size":4,"payload":"PLACEHOLDER","position":1,"sparse":{"size":100,"map":[[10,2],[50,2],[100,0]]}}"#,
        "\n",
    );
    let crc = crc(b"abcd");
    let metadata = metadata.replace(
        "PLACEHOLDER",
        &base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            crc.to_be_bytes(),
        ),
    );
    let mut expanded = vec![0u8; 100];
    expanded[10..12].copy_from_slice(b"ab");
    expanded[50..52].copy_from_slice(b"cd");
    let mut out = Vec::new();
    tarsplit::assemble(
        tarsplit::Unpacker::new(metadata.as_bytes()),
        |f: &FileEntry| {
            assert!(f.sparse.is_some());
            Ok(Cursor::new(expanded.clone()))
        },
    )
    .read_to_end(&mut out)
    .expect("intact");
    assert_eq!(out, b"Habcd");

    // A truncated expanded file is short.
    let err = tarsplit::assemble(
        tarsplit::Unpacker::new(metadata.as_bytes()),
        |_: &FileEntry| Ok(Cursor::new(expanded[..51].to_vec())),
    )
    .read_to_end(&mut Vec::new())
    .expect_err("short");
    assert!(matches!(
        integrity(&err).1,
        Problem::Short {
            expected: 4,
            actual: 3
        }
    ));
}
