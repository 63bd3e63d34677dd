//! The metadata is Docker's: the exact JSON lines Go's tar-split writes for a small archive,
//! CRC-64 values from tar-split's own tests, duplicate paths kept, and a second
//! implementation (Python's `gzip` and `json`) reading what we write.

use std::io::Read;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use imgsvc_layerstore::tar::{self, Reader};
use imgsvc_layerstore::tarsplit::{self, Entry, FileEntry, Packer, Unpacker};

use crate::tar::support::{Block, Magic, TarWriter, have, round_trip};

const HURR: &[u8] = b"imma hurr til I derp";
const CAFE: &[u8] = "café con leche, por favor".as_bytes();
/// Their CRC-64/ISO checksums, from tar-split's tests.
const HURR_CRC: [u8; 8] = [2, 116, 164, 177, 171, 236, 107, 78];
const CAFE_CRC: [u8; 8] = [126, 72, 89, 239, 230, 252, 160, 187];

fn tiny_archive() -> Vec<u8> {
    let mut w = TarWriter::default();
    w.block(&Block::new(b"dir/", b'5', 0, Magic::Ustar))
        .file(b"dir/hurr.txt", HURR)
        .block(Block::new(b"dir/link", b'2', 0, Magic::Ustar).set(157, 100, b"hurr.txt"))
        .file(b"file-\xe4", CAFE);
    w.finish()
}

fn pack(tar: &[u8]) -> Result<Vec<u8>, tar::Error> {
    let mut reader = Reader::with_observer(tar, Packer::new(Vec::new()));
    while reader.next_entry()?.is_some() {}
    Ok(reader.into_parts().1.finish().expect("memory"))
}

#[test]
fn lines_are_what_go_tar_split_writes() {
    let tar = tiny_archive();
    assert_eq!(tar.len(), 4096);
    let b64 = |range: std::ops::Range<usize>| BASE64.encode(&tar[range]);
    let expected = [
        format!(r#"{{"type":2,"payload":"{}","position":0}}"#, b64(0..512)),
        r#"{"type":1,"name":"dir/","payload":null,"position":1}"#.to_string(),
        format!(
            r#"{{"type":2,"payload":"{}","position":2}}"#,
            b64(512..1024)
        ),
        format!(
            r#"{{"type":1,"name":"dir/hurr.txt","size":20,"payload":"{}","position":3}}"#,
            BASE64.encode(HURR_CRC)
        ),
        format!(
            r#"{{"type":2,"payload":"{}","position":4}}"#,
            b64(1044..2048)
        ),
        r#"{"type":1,"name":"dir/link","payload":null,"position":5}"#.to_string(),
        format!(
            r#"{{"type":2,"payload":"{}","position":6}}"#,
            b64(2048..2560)
        ),
        format!(
            r#"{{"type":1,"name_raw":"{}","size":26,"payload":"{}","position":7}}"#,
            BASE64.encode(b"file-\xe4"),
            BASE64.encode(CAFE_CRC)
        ),
        format!(
            r#"{{"type":2,"payload":"{}","position":8}}"#,
            b64(2586..4096)
        ),
    ];
    let metadata = pack(&tar).expect("valid");
    let lines: Vec<&str> = std::str::from_utf8(&metadata)
        .expect("JSON is text")
        .lines()
        .collect();
    assert_eq!(lines, expected);
    assert!(metadata.ends_with(b"}\n"));
}

#[test]
fn our_crc64_is_gos_iso_crc64() {
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_GO_ISO);
    assert_eq!(crc.checksum(HURR).to_be_bytes(), HURR_CRC);
    assert_eq!(crc.checksum(CAFE).to_be_bytes(), CAFE_CRC);
    assert_eq!(crc.checksum(b"123456789"), 0xb909_56c7_75a4_1001);
}

#[test]
fn names_are_escaped_as_go_escapes_them() {
    let mut w = TarWriter::default();
    w.file(b"<a & b>\t\"q\"\\", b"")
        .file("\u{2028}é".as_bytes(), b"");
    let metadata = pack(&w.finish()).expect("valid");
    let text = String::from_utf8(metadata).expect("text");
    assert!(
        text.contains(r#""name":"\u003ca \u0026 b\u003e\t\"q\"\\""#),
        "{text}"
    );
    assert!(text.contains("\"name\":\"\\u2028é\""), "{text}");
}

#[test]
fn docker_written_metadata_reads_back() {
    // Shapes Go's tar-split writes and accepts: no size for empty files, null payloads, no
    // name for segments, extra fields from other versions.
    let metadata = concat!(
        r#"{"type":2,"payload":"aGVhZGVy","position":0}"#,
        "\n",
        r#"{"type":1,"name":"./hurr.txt","size":20,"payload":"AnSksavsa04=","position":1}"#,
        "\n",
        r#"{"type":1,"name":"./empty","payload":null,"position":2}"#,
        "\n",
        r#"{"type":1,"name_raw":"ZmlsZS3k","position":3,"future":{"x":[1]}}"#,
        "\n",
        "\n",
        r#"{"type":2,"payload":"dHJhaWxlcg==","position":4}"#,
        "\n",
    );
    let entries: Vec<Entry> = Unpacker::new(metadata.as_bytes())
        .collect::<Result<_, _>>()
        .expect("valid");
    assert_eq!(entries.len(), 5);
    assert!(matches!(&entries[0], Entry::Segment(s) if s.payload == b"header"));
    assert!(
        matches!(&entries[1], Entry::File(f) if f.crc == Some(u64::from_be_bytes(HURR_CRC)) && f.size == 20)
    );
    assert!(matches!(&entries[2], Entry::File(f) if f.size == 0 && f.crc.is_none()));
    assert!(matches!(&entries[3], Entry::File(f) if f.name == b"file-\xe4"));
    let mut out = Vec::new();
    tarsplit::assemble(entries.into_iter().map(Ok), |f: &FileEntry| {
        assert_eq!(f.name, b"./hurr.txt", "only files with data are opened");
        Ok(HURR)
    })
    .read_to_end(&mut out)
    .expect("intact");
    assert_eq!(out, b"headerimma hurr til I derptrailer");
}

#[test]
fn duplicate_paths_are_kept_when_packing() {
    // Docker refuses these; we record both entries, each with its own checksum, so the tar
    // can be rebuilt when the store keeps the earlier data aside.
    for (first, second) in [(&b"a"[..], &b"a"[..]), (b"./a", b"a"), (b"x//y", b"x/./y")] {
        let mut w = TarWriter::default();
        w.file(first, b"one").file(second, b"two!");
        let tar = w.finish();
        let metadata = pack(&tar).expect("duplicates are accepted");
        let files: Vec<FileEntry> = Unpacker::new(&metadata[..])
            .filter_map(|entry| match entry.expect("readable metadata") {
                Entry::File(file) => Some(file),
                Entry::Segment(_) => None,
            })
            .collect();
        assert_eq!(files.len(), 2);
        assert_ne!(files[0].crc, files[1].crc);
        // Rebuild with each entry's own content, served in order.
        let mut contents = vec![&b"one"[..], &b"two!"[..]].into_iter();
        let mut rebuilt = Vec::new();
        tarsplit::assemble(Unpacker::new(&metadata[..]), |_: &FileEntry| {
            Ok(contents.next().unwrap_or_default())
        })
        .read_to_end(&mut rebuilt)
        .expect("both contents verify");
        assert_eq!(rebuilt, tar);
    }
}

#[test]
fn python_reads_our_gzip_and_json() {
    if !have("python3", "the Python interoperability check") {
        return;
    }
    const SCRIPT: &str = r#"
import base64, gzip, json, sys
data = gzip.decompress(sys.stdin.buffer.read())
out = b""
for n, line in enumerate(data.splitlines()):
    e = json.loads(line)
    assert set(e) <= {"type", "name", "name_raw", "size", "payload", "position"}, e
    assert e["position"] == n and isinstance(e["type"], int)
    if e["type"] == 2:
        out += base64.b64decode(e["payload"])
    else:
        name = base64.b64decode(e["name_raw"]) if "name_raw" in e else e["name"].encode()
        assert (e.get("size", 0) == 0) == (e["payload"] is None), e
        out += {b"dir/hurr.txt": b"imma hurr til I derp", "file-\xe4".encode("latin-1"): "café con leche, por favor".encode()}.get(name, b"")
sys.stdout.buffer.write(out)
"#;
    let tar = tiny_archive();
    let metadata = round_trip(&tar, true);
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python starts");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &metadata).expect("pipe");
    let out = child.wait_with_output().expect("python runs");
    assert!(out.status.success(), "python rejected our metadata");
    assert!(
        out.stdout == tar,
        "python rebuilt the tar from our metadata"
    );
}
