//! Reading metadata: corrupt lines are named by number, lines have a length limit, gzip
//! errors surface, and the iterator stops after an error.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use imgsvc_layerstore::tarsplit::{Entry, Error, MAX_LINE, Unpacker};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).expect("memory");
    encoder.finish().expect("memory")
}

#[test]
fn corrupt_lines_are_named() {
    let metadata = concat!(
        r#"{"type":2,"payload":"aGk=","position":0}"#,
        "\n",
        "\n",
        r#"{"type":1,"name":"a","size":3,"position":2}"#,
        "\n",
        r#"{"type":2,"payload":"aGk=","position":3}"#,
        "\n",
    );
    let results: Vec<Result<Entry, Error>> = Unpacker::new(metadata.as_bytes()).collect();
    assert_eq!(results.len(), 2, "the iterator stops after the error");
    assert!(results[0].is_ok());
    let err = results[1].as_ref().expect_err("no checksum");
    assert!(matches!(err, Error::Corrupt { line: 3, .. }), "{err}");
    assert!(err.to_string().contains("line 3"), "{err}");

    for bad in [
        "{",
        "[1]",
        r#"{"type":7}"#,
        "null",
        r#"{"type":2,"payload":"!"}"#,
    ] {
        let err = Unpacker::new(bad.as_bytes())
            .next()
            .expect("an item")
            .expect_err(bad);
        assert!(
            matches!(err, Error::Corrupt { line: 1, .. }),
            "{bad}: {err}"
        );
    }
}

#[test]
fn overlong_lines_are_refused() {
    let mut line = br#"{"type":2,"payload":""#.to_vec();
    line.resize(MAX_LINE + 10, b'A');
    let err = Unpacker::new(&line[..])
        .next()
        .expect("an item")
        .expect_err("too long");
    assert!(matches!(err, Error::LineTooLong { line: 1, .. }), "{err}");
}

#[test]
fn gzip_input_and_its_errors() {
    let plain = concat!(r#"{"type":2,"payload":"aGk=","position":0}"#, "\n");
    let entries: Vec<Entry> = Unpacker::new_gzip(&gzip(plain.as_bytes())[..])
        .collect::<Result<_, _>>()
        .expect("valid");
    assert_eq!(entries.len(), 1);

    // Two gzip members, as appending writers produce, read as one stream.
    let mut two = gzip(plain.as_bytes());
    two.extend_from_slice(&gzip(plain.replace("0}", "1}").as_bytes()));
    assert_eq!(Unpacker::new_gzip(&two[..]).count(), 2);

    let err = Unpacker::new_gzip(&b"not gzip at all"[..])
        .next()
        .expect("an item")
        .expect_err("not gzip");
    assert!(matches!(err, Error::Read { line: 1, .. }), "{err}");
    let truncated = gzip(plain.as_bytes());
    let err = Unpacker::new_gzip(&truncated[..truncated.len() - 9][..])
        .find_map(Result::err)
        .expect("a truncated gzip stream is an error");
    assert!(matches!(err, Error::Read { .. }), "{err}");
}

#[test]
fn a_last_line_without_newline_counts() {
    let entries: Vec<Entry> = Unpacker::new(&br#"{"type":2,"payload":"aGk="}"#[..])
        .collect::<Result<_, _>>()
        .expect("valid");
    assert_eq!(entries.len(), 1);
    assert_eq!(Unpacker::new(&b""[..]).count(), 0);
}
