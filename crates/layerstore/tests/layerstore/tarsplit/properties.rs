//! Property: any archive of small entries (files, directories, links, PAX and GNU long names,
//! global headers, any ending) reads back as written and round-trips byte for byte.

use imgsvc_layerstore::tar::Kind;
use proptest::prelude::*;

use crate::tar::support::{Block, Magic, TarWriter, pax_record, read_all, round_trip};

#[derive(Debug, Clone)]
enum Spec {
    File { data: Vec<u8>, pax_path: bool },
    Dir,
    Symlink { target: Vec<u8> },
    Global,
}

#[derive(Debug, Clone)]
enum Ending {
    TwoZeroBlocks,
    OneZeroBlock,
    Nothing,
    Trailing(Vec<u8>),
}

fn spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        4 => (prop::collection::vec(any::<u8>(), 0..1500), any::<bool>())
            .prop_map(|(data, pax_path)| Spec::File { data, pax_path }),
        1 => Just(Spec::Dir),
        1 => prop::collection::vec(1u8..=255, 1..200).prop_map(|target| Spec::Symlink { target }),
        1 => Just(Spec::Global),
    ]
}

fn ending() -> impl Strategy<Value = Ending> {
    prop_oneof![
        Just(Ending::TwoZeroBlocks),
        Just(Ending::OneZeroBlock),
        Just(Ending::Nothing),
        prop::collection::vec(any::<u8>(), 1..3000).prop_map(Ending::Trailing),
    ]
}

/// A name unique among the entries (the index) followed by arbitrary bytes without NUL or
/// slash, so no two names clean to the same path.
fn name(index: usize, tail: &[u8]) -> Vec<u8> {
    let mut name = format!("{index}-").into_bytes();
    name.extend(tail.iter().copied().filter(|&b| b != 0 && b != b'/'));
    name
}

fn build(specs: &[(Spec, Vec<u8>)], ending: &Ending) -> Vec<u8> {
    let mut w = TarWriter::default();
    for (i, (spec, tail)) in specs.iter().enumerate() {
        let name = name(i, tail);
        match spec {
            Spec::File { data, pax_path } => {
                if name.len() > 100 && *pax_path {
                    w.pax(b'x', &[(b"path", &name), (b"mtime", b"12.5")]);
                } else if name.len() > 100 {
                    w.gnu_long(b'L', &name);
                }
                w.block(&Block::new(&name, b'0', data.len() as u64, Magic::Gnu))
                    .data(data);
            }
            Spec::Dir => {
                let mut dir = name.clone();
                dir.push(b'/');
                if dir.len() > 100 {
                    w.gnu_long(b'L', &dir);
                }
                w.block(&Block::new(&dir, b'5', 0, Magic::Gnu));
            }
            Spec::Symlink { target } => {
                if name.len() > 100 {
                    w.gnu_long(b'L', &name);
                }
                if target.len() > 100 {
                    w.gnu_long(b'K', target);
                }
                w.block(Block::new(&name, b'2', 0, Magic::Gnu).set(157, 100, target));
            }
            Spec::Global => {
                let data = pax_record(b"comment", &name);
                w.block(&Block::new(&name, b'g', data.len() as u64, Magic::Ustar))
                    .data(&data);
            }
        }
    }
    match ending {
        Ending::TwoZeroBlocks => w.finish(),
        Ending::OneZeroBlock => {
            w.out.extend_from_slice(&[0; 512]);
            w.out
        }
        Ending::Nothing => w.out,
        Ending::Trailing(bytes) => {
            let mut tar = w.finish();
            tar.extend_from_slice(bytes);
            tar
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn archives_read_back_and_round_trip(
        specs in prop::collection::vec((spec(), prop::collection::vec(any::<u8>(), 0..150)), 0..12),
        ending in ending(),
        gzip in any::<bool>(),
    ) {
        let tar = build(&specs, &ending);
        let entries = read_all(&tar).expect("a valid archive");
        prop_assert_eq!(entries.len(), specs.len());
        for (i, ((spec, tail), (header, data))) in specs.iter().zip(&entries).enumerate() {
            let name = name(i, tail);
            match spec {
                Spec::File { data: written, .. } => {
                    prop_assert_eq!(&header.path, &name);
                    prop_assert_eq!(header.kind, Kind::Regular);
                    prop_assert_eq!(data, written);
                }
                Spec::Dir => {
                    prop_assert_eq!(header.kind, Kind::Directory);
                    prop_assert_eq!(&header.path[..name.len()], &name[..]);
                }
                Spec::Symlink { target } => {
                    prop_assert_eq!(header.kind, Kind::Symlink);
                    prop_assert_eq!(&header.link, target);
                }
                Spec::Global => prop_assert_eq!(header.kind, Kind::PaxGlobal),
            }
        }
        round_trip(&tar, gzip);
    }
}
