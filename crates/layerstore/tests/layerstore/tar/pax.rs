//! PAX and GNU extension headers: which fields they override, in which order, and what is
//! kept of them.

use imgsvc_layerstore::tar::{Kind, Timestamp};

use super::support::{Block, Magic, TarWriter, pseudo_random, read_all};

#[test]
fn pax_records_override_the_header() {
    let mut w = TarWriter::default();
    w.pax(b'x', &[(b"path", b"ignored")])
        .pax(
            b'x',
            &[
                (b"path", b"pax/\xffname"),
                (b"linkpath", b"target"),
                (b"size", b"1000"),
                (b"mtime", b"-1.5"),
                (b"atime", b"1700000000.123456789"),
                (b"ctime", b"5"),
                (b"uid", b"5000000000"),
                (b"gid", b"7"),
                (b"uname", b"\xffuser"),
                (b"gname", b""),
                (b"SCHILY.xattr.user.bin", b"\0\xff\n="),
                (b"SCHILY.xattr.user.empty", b""),
                (b"SCHILY.xattr.user.bin", b"second"),
                (b"comment", b"kept as a record"),
            ],
        )
        .block(Block::new(b"short", b'0', 7, Magic::Ustar).set(297, 32, b"blockgroup"))
        .data(&pseudo_random(1000, 5));
    let tar = w.finish();
    let entries = read_all(&tar).expect("valid");
    assert_eq!(entries.len(), 1, "extension headers are not entries");
    let (h, data) = &entries[0];
    assert_eq!(h.path, b"pax/\xffname", "the last PAX header wins, whole");
    assert_eq!(h.link, b"target");
    assert_eq!((h.size, h.declared_size), (1000, 1000));
    assert_eq!(data, &pseudo_random(1000, 5));
    assert_eq!(h.mtime, Timestamp::new(-2, 500_000_000).expect("valid"));
    assert_eq!(h.atime, Timestamp::new(1_700_000_000, 123_456_789));
    assert_eq!(h.ctime, Timestamp::new(5, 0));
    assert_eq!((h.uid, h.gid), (5_000_000_000, 7));
    assert_eq!(h.uname, b"\xffuser");
    assert_eq!(h.gname, b"blockgroup", "an empty value keeps the header's");
    assert_eq!(
        h.xattrs,
        vec![
            (b"user.bin".to_vec(), b"second".to_vec()),
            (b"user.empty".to_vec(), Vec::new())
        ]
    );
    assert_eq!(h.pax_record(b"comment"), Some(&b"kept as a record"[..]));
    assert_eq!(h.pax_records.len(), 14);
    assert_eq!(
        h.offset, 0,
        "the entry starts at its first extension header"
    );
}

#[test]
fn gnu_long_names_win_over_pax_paths() {
    let mut w = TarWriter::default();
    w.pax(
        b'x',
        &[(b"path", b"from-pax"), (b"linkpath", b"pax-target")],
    )
    .gnu_long(b'L', b"from-gnu")
    .gnu_long(b'K', b"gnu-target")
    .block(&Block::new(b"header", b'2', 0, Magic::Gnu));
    let tar = w.finish();
    let entries = read_all(&tar).expect("valid");
    let (h, _) = &entries[0];
    assert_eq!(
        (h.path.as_slice(), h.link.as_slice()),
        (&b"from-gnu"[..], &b"gnu-target"[..])
    );
    assert_eq!(h.kind, Kind::Symlink);
}

#[test]
fn long_names_end_at_nul_and_empty_ones_do_not_apply() {
    let mut w = TarWriter::default();
    w.gnu_long(b'L', b"name\0junk")
        .file(b"header-name", b"")
        .gnu_long(b'L', b"")
        .file(b"kept", b"");
    let entries = read_all(&w.finish()).expect("valid");
    assert_eq!(entries[0].0.path, b"name");
    assert_eq!(entries[1].0.path, b"kept");
}

#[test]
fn global_headers_are_entries_and_apply_to_nothing() {
    let mut w = TarWriter::default();
    w.pax(b'g', &[(b"mtime", b"123"), (b"comment", b"global")])
        .file(b"file", b"data");
    let entries = read_all(&w.finish()).expect("valid");
    assert_eq!(entries.len(), 2);
    let (global, data) = &entries[0];
    assert_eq!(global.kind, Kind::PaxGlobal);
    assert_eq!((global.size, global.declared_size, data.len()), (0, 0, 0));
    assert_eq!(global.pax_record(b"comment"), Some(&b"global"[..]));
    assert_eq!(entries[1].0.mtime.secs(), 0);
}

#[test]
fn header_only_kinds_have_no_data_whatever_their_size_says() {
    let mut w = TarWriter::default();
    w.block(&Block::new(b"dir/", b'5', 1000, Magic::Ustar))
        .block(&Block::new(b"link", b'1', 512, Magic::Ustar))
        .file(b"next", b"x");
    let entries = read_all(&w.finish()).expect("valid");
    assert_eq!(entries.len(), 3);
    assert_eq!((entries[0].0.size, entries[0].0.declared_size), (0, 1000));
    assert_eq!((entries[1].0.size, entries[1].0.declared_size), (0, 512));
    assert_eq!(entries[2].1, b"x");
}

#[test]
fn other_type_flags_carry_their_data() {
    let mut w = TarWriter::default();
    w.block(&Block::new(b"dumpdir", b'D', 3, Magic::Gnu))
        .data(b"abc")
        .file(b"next", b"x");
    let entries = read_all(&w.finish()).expect("valid");
    assert_eq!(entries[0].0.kind, Kind::Other(b'D'));
    assert_eq!(entries[0].1, b"abc");
    assert_eq!(entries[1].1, b"x");
}

#[test]
fn gnu_atime_fields_that_are_not_numbers_are_an_old_go_prefix() {
    let mut block = Block::new(b"name", b'0', 0, Magic::Gnu);
    block.set(345, 155, b"prefix-dir");
    let mut w = TarWriter::default();
    w.block(&block);
    let entries = read_all(&w.finish()).expect("valid");
    assert_eq!(entries[0].0.path, b"prefix-dir/name");
    assert_eq!(entries[0].0.atime, None);
}

#[test]
fn star_headers_have_times_and_a_shorter_prefix() {
    let mut block = Block::new(b"name", b'0', 0, Magic::Ustar);
    block
        .set(345, 131, b"star-prefix")
        .octal(476, 12, 77)
        .octal(488, 12, 88)
        .set(508, 4, b"tar\0");
    let mut w = TarWriter::default();
    w.block(&block);
    let entries = read_all(&w.finish()).expect("valid");
    let h = &entries[0].0;
    assert_eq!(h.path, b"star-prefix/name");
    assert_eq!(
        (h.atime.map(Timestamp::secs), h.ctime.map(Timestamp::secs)),
        (Some(77), Some(88))
    );
}

#[test]
fn signed_checksums_are_accepted() {
    let mut block = Block::new(b"\xe9t\xe9", b'0', 0, Magic::Ustar).build();
    block[148..156].copy_from_slice(b"        ");
    let signed: i64 = block.iter().map(|&b| i64::from(b as i8)).sum();
    block[148..156].copy_from_slice(format!("{signed:06o}\0 ").as_bytes());
    let mut tar = block.to_vec();
    tar.extend_from_slice(&[0; 1024]);
    assert_eq!(read_all(&tar).expect("valid")[0].0.path, b"\xe9t\xe9");
}
