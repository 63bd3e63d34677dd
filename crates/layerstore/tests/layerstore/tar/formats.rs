//! Archives from GNU tar (every format, every kind of file, sparse files) and Python: the
//! headers match Python's `tarfile`, the data matches the files archived, and the observer
//! sees every byte.

use imgsvc_layerstore::tar::{Header, Kind, Timestamp};

use super::fixtures::{self, Fixture};
use super::support::{expand, observe, python_members, read_all, unhex};

fn fixture(name: &str) -> Option<&'static Fixture> {
    let found = fixtures::all().iter().find(|f| f.name == name);
    if found.is_none() {
        eprintln!("skipping: fixture {name} was not made");
    }
    found
}

fn entry<'a>(entries: &'a [(Header, Vec<u8>)], path: &[u8]) -> &'a (Header, Vec<u8>) {
    entries
        .iter()
        .find(|(h, _)| h.path == path)
        .unwrap_or_else(|| panic!("no entry {:?}", String::from_utf8_lossy(path)))
}

/// The kind Python's type character stands for.
fn python_kind(kind: &str) -> Kind {
    match kind {
        "0" | "\0" | "7" | "S" => Kind::Regular,
        "1" => Kind::Hardlink,
        "2" => Kind::Symlink,
        "3" => Kind::Char,
        "4" => Kind::Block,
        "5" => Kind::Directory,
        "6" => Kind::Fifo,
        other => panic!("unexpected python type {other:?}"),
    }
}

fn trim_slashes(path: &[u8]) -> &[u8] {
    let mut path = path;
    while path.len() > 1 && path.ends_with(b"/") {
        path = &path[..path.len() - 1];
    }
    path
}

fn seconds(t: Timestamp) -> f64 {
    t.secs() as f64 + f64::from(t.nanos()) / 1e9
}

#[test]
fn headers_match_python_tarfile() {
    for fixture in fixtures::all().iter().filter(|f| f.python_agrees) {
        let ours: Vec<Header> = read_all(&fixture.tar)
            .unwrap_or_else(|err| panic!("{}: {err}", fixture.name))
            .into_iter()
            .map(|(h, _)| h)
            .filter(|h| h.kind != Kind::PaxGlobal)
            .collect();
        let theirs = python_members(&fixture.tar);
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{}: number of entries",
            fixture.name
        );
        for (h, m) in ours.iter().zip(&theirs) {
            let at = format!("{} / {:?}", fixture.name, String::from_utf8_lossy(&h.path));
            let name = unhex(m["name"].as_str().expect("name"));
            assert_eq!(trim_slashes(&h.path), trim_slashes(&name), "{at}: path");
            assert_eq!(
                h.kind,
                python_kind(m["type"].as_str().expect("type")),
                "{at}: kind"
            );
            assert_eq!(
                h.declared_size,
                m["size"].as_u64().expect("size"),
                "{at}: size"
            );
            assert_eq!(
                u64::from(h.mode),
                m["mode"].as_u64().expect("mode"),
                "{at}: mode"
            );
            assert_eq!(h.uid, m["uid"].as_u64().expect("uid"), "{at}: uid");
            assert_eq!(h.gid, m["gid"].as_u64().expect("gid"), "{at}: gid");
            assert_eq!(
                h.uname,
                unhex(m["uname"].as_str().expect("uname")),
                "{at}: uname"
            );
            assert_eq!(
                h.gname,
                unhex(m["gname"].as_str().expect("gname")),
                "{at}: gname"
            );
            let mtime = m["mtime"].as_f64().expect("mtime");
            assert!(
                (seconds(h.mtime) - mtime).abs() < 1e-6,
                "{at}: mtime {:?} vs {mtime}",
                h.mtime
            );
            assert_eq!(
                h.link,
                unhex(m["link"].as_str().expect("link")),
                "{at}: link"
            );
            if matches!(h.kind, Kind::Char | Kind::Block) {
                assert_eq!(
                    h.dev_major,
                    m["devmajor"].as_u64().expect("devmajor"),
                    "{at}"
                );
                assert_eq!(
                    h.dev_minor,
                    m["devminor"].as_u64().expect("devminor"),
                    "{at}"
                );
            }
            let python_sparse: Vec<(u64, u64)> = m["sparse"]
                .as_array()
                .map(|regions| {
                    regions
                        .iter()
                        .map(|r| {
                            (
                                r[0].as_u64().expect("offset"),
                                r[1].as_u64().expect("length"),
                            )
                        })
                        .filter(|&(_, length)| length != 0)
                        .collect()
                })
                .unwrap_or_default();
            let our_sparse: Vec<(u64, u64)> = h
                .sparse
                .iter()
                .flat_map(|s| s.regions().iter().map(|r| (r.offset, r.length)))
                .filter(|&(_, length)| length != 0)
                .collect();
            assert_eq!(our_sparse, python_sparse, "{at}: sparse map");
            for (key, value) in m["pax"].as_object().expect("pax") {
                let key = unhex(key);
                if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                    let ours = h
                        .xattrs
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.clone());
                    let value = unhex(value.as_str().expect("hex"));
                    assert_eq!(
                        ours,
                        Some(value),
                        "{at}: xattr {:?}",
                        String::from_utf8_lossy(name)
                    );
                }
            }
        }
    }
}

#[test]
fn data_matches_the_files_archived() {
    for fixture in fixtures::all().iter().filter(|f| !f.files.is_empty()) {
        let entries = read_all(&fixture.tar).expect("a valid archive");
        let mut seen = 0;
        for (header, data) in &entries {
            let path = header.path.strip_prefix(b"./").unwrap_or(&header.path);
            let Some(expected) = fixture.files.get(path) else {
                continue;
            };
            if header.kind == Kind::Hardlink {
                continue;
            }
            let at = format!("{} / {}", fixture.name, String::from_utf8_lossy(path));
            assert_eq!(header.kind, Kind::Regular, "{at}");
            assert_eq!(header.logical_size(), expected.len() as u64, "{at}: size");
            assert_eq!(header.size, data.len() as u64, "{at}: stored size");
            let file = match &header.sparse {
                Some(sparse) => expand(sparse, data),
                None => data.clone(),
            };
            assert!(file == *expected, "{at}: content differs");
            seen += 1;
        }
        assert_eq!(
            seen,
            fixture.files.len(),
            "{}: every file was found",
            fixture.name
        );
    }
}

#[test]
fn the_observer_sees_exactly_the_input_and_each_entrys_data() {
    for fixture in fixtures::all() {
        let (headers, recorder) =
            observe(&fixture.tar).unwrap_or_else(|err| panic!("{}: {err}", fixture.name));
        let entries = read_all(&fixture.tar).expect("a valid archive");
        assert_eq!(headers.len(), entries.len(), "{}", fixture.name);
        for ((header, data), content) in entries.iter().zip(&recorder.contents) {
            assert_eq!(header.size, content.len() as u64);
            assert!(
                data == content,
                "{}: content of {:?}",
                fixture.name,
                header.path
            );
        }
    }
}

#[test]
fn gnu_format_has_every_kind_of_entry() {
    let Some(fixture) = fixture("gnu") else {
        return;
    };
    let entries = read_all(&fixture.tar).expect("a valid archive");
    let kind = |path: &[u8]| entry(&entries, path).0.kind;
    assert_eq!(kind(b"./"), Kind::Directory);
    assert_eq!(kind(b"./dir/size-513"), Kind::Regular);
    assert_eq!(kind(b"./hardlink"), Kind::Hardlink);
    assert_eq!(kind(b"./symlink"), Kind::Symlink);
    assert_eq!(kind(b"./fifo"), Kind::Fifo);

    let (link, _) = entry(&entries, b"./hardlink");
    assert!(
        link.link == b"./dir/size-1"
            || link.link == b"./hardlink"
            || link.link.ends_with(b"size-1")
    );
    assert_eq!(link.size, 0);
    assert_eq!(
        entry(&entries, b"./abs-symlink").0.link,
        b"/usr/lib/absolute"
    );
    assert_eq!(
        entry(&entries, b"./long-target").0.link,
        "t".repeat(150).as_bytes()
    );
    assert_eq!(entry(&entries, b"./setuid").0.mode, 0o4755);
    assert_eq!(entry(&entries, b"./setgid-dir/").0.mode, 0o2750);
    assert_eq!(entry(&entries, b"./sticky/").0.mode, 0o1777);
    assert_eq!(entry(&entries, b"./latin1-caf\xe9").1, b"not utf-8");
    let before_epoch = &entry(&entries, b"./before-epoch").0;
    assert_eq!(
        before_epoch.mtime.secs(),
        -300_000_000,
        "base-256 negative mtime"
    );
    let longer = format!(
        "./{}/{}/{}/{}",
        "c".repeat(90),
        "d".repeat(90),
        "e".repeat(90),
        "f".repeat(30)
    );
    assert_eq!(entry(&entries, longer.as_bytes()).1, b"over 255");
    let (hard, _) = entry(&entries, b"./hardlink-to-long");
    assert!(hard.link.len() > 300, "a GNU long link");
    let old = &entry(&entries, b"./old").0;
    if old.uid != 0 {
        assert_eq!((old.uid, old.gid), (3_000_000, 4_000_000), "base-256 IDs");
    }
    if let Some((null, _)) = entries.iter().find(|(h, _)| h.path == b"./null") {
        assert_eq!(
            (null.kind, null.dev_major, null.dev_minor),
            (Kind::Char, 1, 3)
        );
    }
}

#[test]
fn pax_format_carries_xattrs_and_fractional_times() {
    let Some(fixture) = fixture("pax") else {
        return;
    };
    let entries = read_all(&fixture.tar).expect("a valid archive");
    let (file, _) = entry(&entries, b"./dir/size-1");
    if !file.xattrs.is_empty() {
        assert_eq!(
            file.xattrs,
            vec![(b"user.imgsvc".to_vec(), b"val\0ue\xff".to_vec())]
        );
    } else {
        eprintln!("no xattrs archived (the file system may not support user xattrs)");
    }
    assert!(
        file.atime.is_some() && file.ctime.is_some(),
        "GNU tar's pax format records atime and ctime"
    );
    assert!(
        entries.iter().any(|(h, _)| h.mtime.nanos() != 0),
        "sub-second mtimes"
    );
}

#[test]
fn sparse_files_in_every_encoding() {
    for (name, typeflag) in [
        ("sparse-oldgnu", b'S'),
        ("sparse-pax-0.0", b'0'),
        ("sparse-pax-0.1", b'0'),
        ("sparse-pax-1.0", b'0'),
    ] {
        let Some(fixture) = fixture(name) else {
            continue;
        };
        let entries = read_all(&fixture.tar).expect("a valid archive");
        let (header, data) = entry(&entries, b"./many-regions");
        assert_eq!(header.typeflag, typeflag, "{name}");
        assert_eq!(header.kind, Kind::Regular);
        let sparse = header
            .sparse
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: a sparse map"));
        assert_eq!(sparse.real_size(), 40 << 20, "{name}");
        assert!(
            sparse.regions().len() >= 30,
            "{name}: {} regions",
            sparse.regions().len()
        );
        assert_eq!(header.size, data.len() as u64);
        assert_eq!(header.size, sparse.data_size());
        assert_eq!(header.declared_size, 40 << 20);
        assert!(header.size < 1 << 20, "{name}: the data is packed");
        let (hole_at_end, _) = entry(&entries, b"./hole-at-end");
        let sparse = hole_at_end.sparse.as_ref().expect("sparse");
        assert_eq!(sparse.real_size(), 3 << 20);
    }
}

#[test]
fn python_archives() {
    if let Some(fixture) = fixture("py-pax") {
        let entries = read_all(&fixture.tar).expect("a valid archive");
        let (global, _) = &entries[0];
        assert_eq!(global.kind, Kind::PaxGlobal);
        assert_eq!(global.typeflag, b'g');
        assert_eq!(global.size, 0);
        assert_eq!(global.pax_record(b"comment"), Some(&b"a global header"[..]));
        let (file, data) = entry(&entries, b"dir/file");
        assert_eq!(data, b"hello");
        assert_eq!(
            (file.mtime.secs(), file.mtime.nanos()),
            (1_700_000_000, 250_000_000)
        );
        assert_eq!(
            file.pax_record(b"comment"),
            None,
            "global records are not applied"
        );
        let (x, _) = entry(&entries, b"dir/xattrs");
        assert_eq!(
            x.xattrs,
            vec![
                (b"user.a".to_vec(), b"1".to_vec()),
                (b"security.capability".to_vec(), Vec::new())
            ]
        );
        assert_eq!(
            entry(&entries, b"dir/link").0.link,
            "l".repeat(300).as_bytes()
        );
        assert_eq!(
            entry(&entries, format!("dir/{}", "x".repeat(200)).as_bytes()).1,
            b"long"
        );
        assert_eq!(entry(&entries, "dir/café".as_bytes()).1, b"utf-8 name");
    }
    if let Some(fixture) = fixture("py-gnu") {
        let entries = read_all(&fixture.tar).expect("a valid archive");
        assert_eq!(entry(&entries, "n".repeat(300).as_bytes()).1, b"long name");
        assert_eq!(entry(&entries, b"hard").0.link, "n".repeat(300).as_bytes());
        assert_eq!(entry(&entries, b"negative-mtime").0.mtime.secs(), -1000);
        let big = &entry(&entries, b"big-ids").0;
        assert_eq!((big.uid, big.gid), (1_000_000_000_000, 1 << 40));
        let dev = &entry(&entries, b"dev").0;
        assert_eq!(
            (dev.kind, dev.dev_major, dev.dev_minor),
            (Kind::Char, 4095, 1 << 20)
        );
    }
    if let Some(fixture) = fixture("py-ustar") {
        let entries = read_all(&fixture.tar).expect("a valid archive");
        let split = format!("{}/{}", "p".repeat(120), "n".repeat(80));
        assert_eq!(
            entry(&entries, split.as_bytes()).1,
            b"split between prefix and name"
        );
        let blk = &entry(&entries, b"blk").0;
        assert_eq!(
            (blk.kind, blk.dev_major, blk.dev_minor),
            (Kind::Block, 8, 1)
        );
        assert_eq!(entry(&entries, b"sticky/").0.mode, 0o1777);
    }
}

#[test]
fn historic_type_flags() {
    let Some(fixture) = fixture("historic-types") else {
        return;
    };
    let entries = read_all(&fixture.tar).expect("a valid archive");
    let (dir, _) = entry(&entries, b"olddir/");
    assert_eq!((dir.kind, dir.typeflag), (Kind::Directory, 0));
    let (reg, data) = entry(&entries, b"olddir/reg");
    assert_eq!(
        (reg.kind, reg.typeflag, data.as_slice()),
        (Kind::Regular, 0, &b"old"[..])
    );
    let (cont, data) = entry(&entries, b"contiguous");
    assert_eq!(
        (cont.kind, cont.typeflag, data.as_slice()),
        (Kind::Regular, b'7', &b"cont"[..])
    );
}
