//! `tar_read`: arbitrary bytes through the tar `Reader` with a tar-split `Packer` never panic
//! and never loop; the observer sees exactly the bytes consumed; and when the archive reads
//! to its end, assembling from the recorded metadata and the recorded entry data reproduces
//! the input exactly.
#![no_main]

use std::collections::HashMap;
use std::io::{Cursor, Read};

use imgsvc_layerstore::tar::Reader;
use imgsvc_layerstore::tarsplit::{self, FileEntry, Packer, Unpacker};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = Reader::with_observer(data, Packer::new(Vec::new()));
    let mut files: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
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
        files.insert(header.path.clone(), content);
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
    tarsplit::assemble(Unpacker::new(&metadata[..]), |file: &FileEntry| {
        Ok(Cursor::new(
            files.get(&file.name).cloned().unwrap_or_default(),
        ))
    })
    .read_to_end(&mut rebuilt)
    .expect("the recorded metadata and data reassemble");
    assert!(rebuilt == data, "the rebuilt tar differs from the input");
});
