//! Every fixture packs into tar-split metadata and reassembles byte for byte, from memory and
//! from files on disk (sparse files expanded, as extraction leaves them).

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};

use imgsvc_layerstore::tar::Reader;
use imgsvc_layerstore::tarsplit::{self, Entry, FileEntry, Packer, Unpacker};

use crate::tar::fixtures;
use crate::tar::support::round_trip;

#[test]
fn every_fixture_round_trips_with_gzip_and_without() {
    assert!(!fixtures::all().is_empty());
    for fixture in fixtures::all() {
        eprintln!("{}: {} bytes", fixture.name, fixture.tar.len());
        let gzip = round_trip(&fixture.tar, true);
        let plain = round_trip(&fixture.tar, false);
        assert!(
            gzip.len() < plain.len() || plain.len() < 200,
            "{}: gzip compresses",
            fixture.name
        );
    }
}

#[test]
fn every_fixture_round_trips_from_files_on_disk() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for fixture in fixtures::all() {
        // Extract every entry with data to its own file, as a driver would (sparse files
        // get holes, not zeros).
        let mut reader = Reader::with_observer(&fixture.tar[..], Packer::new_gzip(Vec::new()));
        let mut paths = HashMap::new();
        while let Some(mut entry) = reader.next_entry().expect("valid") {
            if entry.header().size == 0 {
                continue;
            }
            let path = dir.path().join(format!("{}-{}", fixture.name, paths.len()));
            let mut file = fs::File::create(&path).expect("create");
            match entry.header().sparse.clone() {
                None => {
                    std::io::copy(&mut entry, &mut file).expect("extract");
                }
                Some(sparse) => {
                    for region in sparse.regions() {
                        file.seek(SeekFrom::Start(region.offset)).expect("seek");
                        let mut data = vec![0; region.length as usize];
                        entry.read_exact(&mut data).expect("region data");
                        file.write_all(&data).expect("write");
                    }
                    file.set_len(sparse.real_size()).expect("size");
                }
            }
            paths.insert(entry.header().path.clone(), path);
        }
        let metadata = reader.into_parts().1.finish().expect("memory");
        let mut tar = tarsplit::assemble(Unpacker::new_gzip(&metadata[..]), |file: &FileEntry| {
            fs::File::open(&paths[&file.name])
        });
        let mut rebuilt = Vec::new();
        tar.read_to_end(&mut rebuilt).expect("the files are intact");
        assert!(
            rebuilt == fixture.tar,
            "{}: rebuilt from disk",
            fixture.name
        );
    }
}

#[test]
fn every_tar_entry_has_a_file_entry_and_segments_hold_the_rest() {
    for fixture in fixtures::all() {
        let metadata = round_trip(&fixture.tar, false);
        let entries: Vec<Entry> = Unpacker::new(&metadata[..])
            .collect::<Result<_, _>>()
            .expect("valid");
        let headers = crate::tar::support::read_all(&fixture.tar).expect("valid");
        let files: Vec<&FileEntry> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::File(f) => Some(f),
                Entry::Segment(_) => None,
            })
            .collect();
        assert_eq!(files.len(), headers.len(), "{}", fixture.name);
        for (file, (header, _)) in files.iter().zip(&headers) {
            assert_eq!(file.name, header.path);
            assert_eq!(file.size, header.size);
            assert_eq!(file.crc.is_some(), header.size > 0);
            assert_eq!(file.sparse, header.sparse);
        }
        for (i, entry) in entries.iter().enumerate() {
            assert_eq!(entry.position(), i as u64, "positions count up from 0");
            if let Entry::Segment(s) = entry {
                assert!(!s.payload.is_empty() && s.payload.len() <= tarsplit::MAX_SEGMENT);
            }
        }
        let segment_bytes: usize = entries
            .iter()
            .map(|e| match e {
                Entry::Segment(s) => s.payload.len(),
                Entry::File(f) => f.size as usize,
            })
            .sum();
        assert_eq!(segment_bytes, fixture.tar.len());
    }
}
