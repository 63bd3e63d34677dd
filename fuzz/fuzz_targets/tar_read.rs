//! `tar_read`: arbitrary bytes through the tar `Reader` with a tar-split `Packer` never panic
//! and never loop; the observer sees exactly the bytes consumed; and when the archive reads
//! to its end, assembling from the recorded metadata and the recorded entry data reproduces
//! the input exactly.
#![no_main]

use std::io::{Cursor, Read};

use imgsvc_layerstore::tar::Reader;
use imgsvc_layerstore::tarsplit::{self, FileEntry, Packer, Unpacker};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = Reader::with_observer(data, Packer::new(Vec::new()));
    // Contents of the entries with data, in archive order: the order in which the assembler
    // asks for them (names may repeat, so they are not looked up by name).
    let mut files: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut entry = match reader.next_entry() {
            Ok(Some(entry)) => entry,
            Ok(None) => break,
            Err(_) => return,
        };
        let mut content = Vec::new();
        if entry.read_to_end(&mut content).is_err() {
            return;
        }
        assert_eq!(
            content.len() as u64,
            entry.header().size,
            "the reader yields `size` bytes"
        );
        let header = entry.header();
        if let Some(sparse) = &header.sparse {
            assert_eq!(sparse.data_size(), header.size);
            // Hand the assembler the expanded file, as extraction leaves it; skip archives
            // whose sparse files would be too large to expand in memory.
            if sparse.real_size() > 64 << 20 {
                return;
            }
            let mut file = vec![0u8; sparse.real_size() as usize];
            let mut at = 0;
            for region in sparse.regions() {
                let (offset, len) = (region.offset as usize, region.length as usize);
                file[offset..offset + len].copy_from_slice(&content[at..at + len]);
                at += len;
            }
            content = file;
        }
        if header.size > 0 {
            files.push(content);
        }
    }
    assert!(reader.is_finished());
    assert_eq!(
        reader.offset(),
        data.len() as u64,
        "the whole input is consumed"
    );
    let (_, packer) = reader.into_parts();
    let metadata = packer.finish().expect("writing to memory cannot fail");

    let mut rebuilt = Vec::new();
    let mut contents = files.into_iter();
    tarsplit::assemble(Unpacker::new(&metadata[..]), |_: &FileEntry| {
        Ok(Cursor::new(contents.next().unwrap_or_default()))
    })
    .read_to_end(&mut rebuilt)
    .expect("the recorded metadata and data reassemble");
    assert!(rebuilt == data, "the rebuilt tar differs from the input");
});
