//! Test helpers shared by the `tar` and `tarsplit` tests: a tiny tar writer for hand-made
//! (and hostile) archives, reading and round-tripping archives, and running GNU tar and
//! Python's `tarfile` as fixture makers and oracles.

use std::collections::HashMap;
use std::io::{self, Cursor, Read};
use std::process::Command;

use imgsvc_layerstore::tar::{self, Header, Observer, Reader};
use imgsvc_layerstore::tarsplit::{self, FileEntry, Packer, Unpacker};

/// A header block built field by field; `build` fills in the checksum.
#[derive(Clone)]
pub(crate) struct Block(pub(crate) [u8; 512]);

/// Header magic to write.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Magic {
    V7,
    Ustar,
    Gnu,
}

impl Block {
    /// A header with sensible defaults: mode 0644, IDs 0, mtime 0, the given magic.
    pub(crate) fn new(name: &[u8], typeflag: u8, size: u64, magic: Magic) -> Block {
        let mut block = Block([0; 512]);
        block.set(0, 100, name);
        block.octal(100, 8, 0o644);
        block.octal(108, 8, 0);
        block.octal(116, 8, 0);
        block.octal(124, 12, size);
        block.octal(136, 12, 0);
        block.0[156] = typeflag;
        match magic {
            Magic::V7 => {}
            Magic::Ustar => {
                block.set(257, 8, b"ustar\x0000");
            }
            Magic::Gnu => {
                block.set(257, 8, b"ustar  \0");
            }
        }
        block
    }

    /// Writes `value` into `len` bytes at `at`, NUL-padded (cut if longer).
    pub(crate) fn set(&mut self, at: usize, len: usize, value: &[u8]) -> &mut Block {
        let field = &mut self.0[at..at + len];
        field.fill(0);
        let n = value.len().min(len);
        field[..n].copy_from_slice(&value[..n]);
        self
    }

    /// Writes `value` as zero-padded octal with a NUL terminator.
    pub(crate) fn octal(&mut self, at: usize, len: usize, value: u64) -> &mut Block {
        let text = format!("{value:0width$o}", width = len - 1);
        self.set(at, len, text.as_bytes())
    }

    /// The block with a valid checksum.
    pub(crate) fn build(&self) -> [u8; 512] {
        let mut block = self.0;
        block[148..156].copy_from_slice(b"        ");
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
        block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        block
    }
}

/// One PAX record with its length prefix.
pub(crate) fn pax_record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3;
    let mut len = body + body.to_string().len();
    if len.to_string().len() != body.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut out = format!("{len} ").into_bytes();
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

/// Builds archives block by block.
#[derive(Default)]
pub(crate) struct TarWriter {
    pub(crate) out: Vec<u8>,
}

impl TarWriter {
    /// A header block.
    pub(crate) fn block(&mut self, block: &Block) -> &mut TarWriter {
        self.out.extend_from_slice(&block.build());
        self
    }

    /// Data followed by padding to the next block.
    pub(crate) fn data(&mut self, data: &[u8]) -> &mut TarWriter {
        self.out.extend_from_slice(data);
        self.out.resize(self.out.len().next_multiple_of(512), 0);
        self
    }

    /// A regular file (ustar).
    pub(crate) fn file(&mut self, name: &[u8], data: &[u8]) -> &mut TarWriter {
        self.block(&Block::new(name, b'0', data.len() as u64, Magic::Ustar))
            .data(data)
    }

    /// A PAX extended header (`x` or `g`) with these records.
    pub(crate) fn pax(&mut self, typeflag: u8, records: &[(&[u8], &[u8])]) -> &mut TarWriter {
        let data: Vec<u8> = records.iter().flat_map(|(k, v)| pax_record(k, v)).collect();
        self.block(&Block::new(
            b"PaxHeaders/x",
            typeflag,
            data.len() as u64,
            Magic::Ustar,
        ))
        .data(&data)
    }

    /// A GNU long name (`L`) or long link (`K`) header.
    pub(crate) fn gnu_long(&mut self, typeflag: u8, value: &[u8]) -> &mut TarWriter {
        let mut data = value.to_vec();
        data.push(0);
        self.block(&Block::new(
            b"././@LongLink",
            typeflag,
            data.len() as u64,
            Magic::Gnu,
        ))
        .data(&data)
    }

    /// The end-of-archive blocks; returns the archive.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        self.out.extend_from_slice(&[0; 1024]);
        std::mem::take(&mut self.out)
    }
}

/// Every entry of `tar` with its data, read to the end.
pub(crate) fn read_all(tar: &[u8]) -> Result<Vec<(Header, Vec<u8>)>, tar::Error> {
    let mut reader = Reader::new(tar);
    let mut entries = Vec::new();
    while let Some(mut entry) = reader.next_entry()? {
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|err| match tar::Error::from_io(&err) {
                Some(_) => into_tar_error(err),
                None => tar::Error::Io {
                    offset: 0,
                    source: err,
                },
            })?;
        entries.push((entry.header().clone(), data));
    }
    assert_eq!(
        reader.offset(),
        tar.len() as u64,
        "the whole input is consumed"
    );
    Ok(entries)
}

/// The tar error inside an entry's read error.
pub(crate) fn into_tar_error(err: io::Error) -> tar::Error {
    let inner = err
        .into_inner()
        .expect("the entry's errors carry a tar error");
    *inner
        .downcast::<tar::Error>()
        .expect("the entry's errors carry a tar error")
}

/// Records every observer call, checking the order the `Observer` docs promise.
#[derive(Default)]
pub(crate) struct Recorder {
    /// Segment and content bytes, concatenated in call order.
    pub(crate) stream: Vec<u8>,
    /// Content bytes per entry.
    pub(crate) contents: Vec<Vec<u8>>,
    in_entry: bool,
    ended: bool,
}

impl Observer for Recorder {
    fn segment(&mut self, bytes: &[u8]) -> io::Result<()> {
        assert!(!self.in_entry, "no segment inside an entry");
        self.stream.extend_from_slice(bytes);
        Ok(())
    }
    fn entry_start(&mut self, header: &Header) -> io::Result<()> {
        assert!(!self.in_entry && !self.ended, "entry_start between entries");
        self.in_entry = true;
        self.contents.push(Vec::with_capacity(header.size as usize));
        Ok(())
    }
    fn content(&mut self, bytes: &[u8]) -> io::Result<()> {
        assert!(self.in_entry, "content inside an entry");
        self.stream.extend_from_slice(bytes);
        self.contents
            .last_mut()
            .expect("in an entry")
            .extend_from_slice(bytes);
        Ok(())
    }
    fn entry_end(&mut self) -> io::Result<()> {
        assert!(self.in_entry, "entry_end ends an entry");
        self.in_entry = false;
        Ok(())
    }
    fn archive_end(&mut self) -> io::Result<()> {
        assert!(
            !self.in_entry && !self.ended,
            "archive_end once, between entries"
        );
        self.ended = true;
        Ok(())
    }
}

/// Reads `tar` with a [`Recorder`], reading every other entry's data and leaving the rest to
/// be skipped, and checks that the observer saw exactly the input.
pub(crate) fn observe(tar: &[u8]) -> Result<(Vec<Header>, Recorder), tar::Error> {
    let mut reader = Reader::with_observer(tar, Recorder::default());
    let mut headers = Vec::new();
    let mut read = false;
    while let Some(mut entry) = reader.next_entry()? {
        if read {
            let mut small = [0u8; 7];
            while entry.read(&mut small).map_err(into_tar_error)? > 0 {}
        }
        read = !read;
        headers.push(entry.header().clone());
    }
    let (_, recorder) = reader.into_parts();
    assert!(recorder.ended, "archive_end was called");
    assert!(recorder.stream == tar, "the observer saw exactly the input");
    Ok((headers, recorder))
}

/// The expanded file of a sparse entry, from its packed data.
pub(crate) fn expand(sparse: &tar::Sparse, data: &[u8]) -> Vec<u8> {
    let mut file = vec![0u8; sparse.real_size() as usize];
    let mut at = 0;
    for region in sparse.regions() {
        let (offset, len) = (region.offset as usize, region.length as usize);
        file[offset..offset + len].copy_from_slice(&data[at..at + len]);
        at += len;
    }
    assert_eq!(at, data.len(), "the regions cover the data");
    file
}

/// Packs `tar` into tar-split metadata (gzip or plain) while collecting each entry's file as
/// it would be on disk (sparse files expanded), then assembles the tar again and checks it is
/// byte-identical. Returns the metadata.
pub(crate) fn round_trip(tar: &[u8], gzip: bool) -> Vec<u8> {
    let packer = if gzip {
        Packer::new_gzip(Vec::new())
    } else {
        Packer::new(Vec::new())
    };
    let mut reader = Reader::with_observer(tar, packer);
    let mut files: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    while let Some(mut entry) = reader.next_entry().expect("the fixture is a valid tar") {
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .expect("the fixture is a valid tar");
        let header = entry.header();
        if let Some(sparse) = &header.sparse {
            data = expand(sparse, &data);
        }
        files.insert(header.path.clone(), data);
    }
    assert_eq!(
        reader.offset(),
        tar.len() as u64,
        "the whole input is consumed"
    );
    let (_, packer) = reader.into_parts();
    let metadata = packer.finish().expect("writes to memory");

    let unpacker = if gzip {
        Unpacker::new_gzip(&metadata[..])
    } else {
        Unpacker::new(&metadata[..])
    };
    let mut opened = 0;
    let mut assembled = tarsplit::assemble(unpacker, |file: &FileEntry| {
        opened += 1;
        let data = files
            .get(&file.name)
            .expect("only entries with data are opened");
        Ok(Cursor::new(data.clone()))
    });
    let mut rebuilt = Vec::new();
    assembled
        .read_to_end(&mut rebuilt)
        .expect("the metadata and files match");
    assert!(
        rebuilt == tar,
        "the rebuilt tar is identical ({} vs {} bytes)",
        rebuilt.len(),
        tar.len()
    );
    metadata
}

/// Pseudo-random bytes (xorshift), the same for the same seed.
pub(crate) fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Whether a program runs (e.g. `tar --version`); prints why a test is skipped if not.
pub(crate) fn have(program: &str, why: &str) -> bool {
    let ok = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !ok {
        eprintln!("skipping {why}: `{program}` is not available");
    }
    ok
}

/// Runs a command, panicking with its output if it fails.
pub(crate) fn run(command: &mut Command) -> Vec<u8> {
    let out = command.output().expect("the command starts");
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Python's `tarfile` view of an archive: one JSON object per member (see the script).
pub(crate) fn python_members(tar: &[u8]) -> Vec<serde_json::Value> {
    const SCRIPT: &str = r#"
import json, os, sys, tarfile
def hexb(s):
    return os.fsencode(s).hex() if isinstance(s, str) else s.hex()
out = []
with tarfile.open(sys.argv[1], encoding="utf-8", errors="surrogateescape") as t:
    for m in t.getmembers():
        out.append({
            "name": hexb(m.name), "type": m.type.decode("latin-1"), "size": m.size,
            "mode": m.mode, "uid": m.uid, "gid": m.gid, "uname": hexb(m.uname), "gname": hexb(m.gname),
            "mtime": m.mtime, "link": hexb(m.linkname), "devmajor": m.devmajor,
            "devminor": m.devminor, "sparse": m.sparse,
            "pax": {hexb(k): hexb(v) for k, v in m.pax_headers.items()},
        })
print(json.dumps(out))
"#;
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), tar).expect("write the archive");
    let out = run(Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(file.path()));
    serde_json::from_slice(&out).expect("the script prints JSON")
}

/// Bytes from a hex string.
pub(crate) fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex from the script"))
        .collect()
}
