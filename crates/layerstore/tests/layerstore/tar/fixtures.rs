//! Test archives, made at test time: GNU tar over trees of every kind of file in each of its
//! formats (ustar, pax, gnu, oldgnu, v7, and the four sparse encodings), Python's `tarfile`
//! for PAX global headers, GNU long names, base-256 numbers and ustar prefixes, and odd
//! endings cut by hand.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use super::support::{Block, Magic, TarWriter, have, pseudo_random, run};

/// One test archive.
pub(crate) struct Fixture {
    pub(crate) name: String,
    pub(crate) tar: Vec<u8>,
    /// The content of each regular file archived, by its path in the archive without a
    /// leading `./` (only for GNU tar fixtures; Python fixtures list their own).
    pub(crate) files: HashMap<Vec<u8>, Vec<u8>>,
    /// Whether GNU tar or Python made it (so Python's `tarfile` can serve as the oracle).
    pub(crate) python_agrees: bool,
}

/// Every fixture, made once per test run (in a temporary directory removed afterwards). Only
/// the hand-made ones (with a printed reason) without GNU tar and Python.
pub(crate) fn all() -> &'static [Fixture] {
    static FIXTURES: OnceLock<Vec<Fixture>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut fixtures = Vec::new();
        if have("tar", "GNU tar fixtures") {
            gnu_tar_fixtures(dir.path(), &mut fixtures);
        }
        if have("python3", "Python tarfile fixtures") {
            python_fixtures(dir.path(), &mut fixtures);
        }
        hand_made_fixtures(&mut fixtures);
        fixtures
    })
}

/// What a tree for GNU tar may contain (older formats cannot store everything).
#[derive(Clone, Copy)]
struct Features {
    long_names: bool,
    special_files: bool,
    big_ids: bool,
}

/// Makes trees and archives them with GNU tar in each format.
fn gnu_tar_fixtures(root: &Path, fixtures: &mut Vec<Fixture>) {
    let full = Features {
        long_names: true,
        special_files: true,
        big_ids: true,
    };
    let ustar = Features {
        long_names: false,
        special_files: true,
        big_ids: false,
    };
    let v7 = Features {
        long_names: false,
        special_files: false,
        big_ids: false,
    };
    for (name, format, features, extra) in [
        ("gnu", "gnu", full, &[][..]),
        ("oldgnu", "oldgnu", full, &[]),
        ("pax", "pax", full, &["--xattrs"]),
        ("ustar", "ustar", ustar, &[]),
        ("v7", "v7", v7, &[]),
    ] {
        let tree = root.join(format!("tree-{name}"));
        let files = make_tree(&tree, features);
        fixtures.push(gnu_tar(root, name, format, &tree, extra, files));
    }

    let tree = root.join("tree-sparse");
    let files = make_sparse_tree(&tree);
    fixtures.push(gnu_tar(
        root,
        "sparse-oldgnu",
        "gnu",
        &tree,
        &["--sparse"],
        files.clone(),
    ));
    for version in ["0.0", "0.1", "1.0"] {
        let flag = format!("--sparse-version={version}");
        fixtures.push(gnu_tar(
            root,
            &format!("sparse-pax-{version}"),
            "pax",
            &tree,
            &["--sparse", &flag],
            files.clone(),
        ));
    }
}

/// Runs GNU tar over `tree` (sorted, numeric owners) and returns the fixture.
fn gnu_tar(
    root: &Path,
    name: &str,
    format: &str,
    tree: &Path,
    extra: &[&str],
    files: HashMap<Vec<u8>, Vec<u8>>,
) -> Fixture {
    let path = root.join(format!("{name}.tar"));
    run(Command::new("tar")
        .arg(format!("--format={format}"))
        .args(["--sort=name", "--numeric-owner", "-C"])
        .arg(tree)
        .args(extra)
        .arg("-cf")
        .arg(&path)
        .arg("."));
    Fixture {
        name: name.into(),
        tar: fs::read(&path).expect("tar wrote the archive"),
        files,
        python_agrees: true,
    }
}

/// Creates a file with `content` and returns it for the expected-files map.
fn file(tree: &Path, files: &mut HashMap<Vec<u8>, Vec<u8>>, name: &[u8], content: Vec<u8>) {
    let path = tree.join(OsStr::from_bytes(name));
    fs::create_dir_all(path.parent().expect("inside the tree")).expect("parent directory");
    fs::write(&path, &content).expect("write a fixture file");
    files.insert(name.to_vec(), content);
}

/// A tree with files of many sizes and kinds, modes, links, odd names and times.
fn make_tree(tree: &Path, features: Features) -> HashMap<Vec<u8>, Vec<u8>> {
    let mut files = HashMap::new();
    fs::create_dir_all(tree.join("dir/sub")).expect("directories");
    for (i, size) in [0usize, 1, 511, 512, 513, 10_000, 3 << 20]
        .into_iter()
        .enumerate()
    {
        let name = format!("dir/size-{size}");
        file(
            tree,
            &mut files,
            name.as_bytes(),
            pseudo_random(size, i as u64),
        );
    }
    file(tree, &mut files, b"dir/sub/empty", Vec::new());
    file(
        tree,
        &mut files,
        b"with space & <html>.txt",
        b"spaces".to_vec(),
    );
    file(tree, &mut files, "日本語.txt".as_bytes(), b"utf-8".to_vec());
    file(tree, &mut files, b"latin1-caf\xe9", b"not utf-8".to_vec());

    file(tree, &mut files, b"setuid", b"#!/bin/sh\n".to_vec());
    fs::set_permissions(tree.join("setuid"), fs::Permissions::from_mode(0o4755)).expect("chmod");
    fs::create_dir(tree.join("setgid-dir")).expect("mkdir");
    fs::set_permissions(tree.join("setgid-dir"), fs::Permissions::from_mode(0o2750))
        .expect("chmod");
    fs::create_dir(tree.join("sticky")).expect("mkdir");
    fs::set_permissions(tree.join("sticky"), fs::Permissions::from_mode(0o1777)).expect("chmod");

    fs::hard_link(tree.join("dir/size-1"), tree.join("hardlink")).expect("hard link");
    symlink("dir/size-1", tree.join("symlink")).expect("symlink");
    symlink("/usr/lib/absolute", tree.join("abs-symlink")).expect("symlink");
    symlink("nowhere", tree.join("dangling")).expect("symlink");

    // An old and a negative modification time.
    file(tree, &mut files, b"old", b"1970".to_vec());
    run(Command::new("touch")
        .args(["-h", "-d", "@1"])
        .arg(tree.join("old")));
    if features.long_names {
        file(tree, &mut files, b"before-epoch", b"1960".to_vec());
        run(Command::new("touch")
            .args(["-h", "-d", "@-300000000"])
            .arg(tree.join("before-epoch")));
    }

    if features.special_files {
        run(Command::new("mkfifo").arg(tree.join("fifo")));
        let made = Command::new("mknod")
            .arg(tree.join("null"))
            .args(["c", "1", "3"])
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            eprintln!("no device node in the fixtures: mknod is not permitted here");
        }
    }

    if features.long_names {
        let long = format!("{}/{}", "a".repeat(60), "b".repeat(60));
        file(tree, &mut files, long.as_bytes(), b"over 100".to_vec());
        let longer = format!(
            "{}/{}/{}/{}",
            "c".repeat(90),
            "d".repeat(90),
            "e".repeat(90),
            "f".repeat(30)
        );
        file(tree, &mut files, longer.as_bytes(), b"over 255".to_vec());
        symlink("t".repeat(150), tree.join("long-target")).expect("symlink");
        fs::hard_link(tree.join(&longer), tree.join("hardlink-to-long")).expect("hard link");
        // Extended attributes, archived by `--xattrs` in the pax fixture.
        let xattr = rustix::fs::setxattr(
            tree.join("dir/size-1").as_path(),
            "user.imgsvc",
            b"val\0ue\xff",
            rustix::fs::XattrFlags::empty(),
        );
        if let Err(err) = xattr {
            eprintln!("no extended attributes in the fixtures: setxattr failed ({err})");
        }
    } else {
        // A name that ustar stores split into prefix and name.
        let split = format!("{}/{}", "p".repeat(80), "n".repeat(50));
        if features.special_files {
            file(tree, &mut files, split.as_bytes(), b"prefix".to_vec());
        }
    }

    if features.big_ids {
        let chowned = Command::new("chown")
            .arg("3000000:4000000")
            .arg(tree.join("old"))
            .status()
            .is_ok_and(|s| s.success());
        if !chowned {
            eprintln!("no large IDs in the fixtures: chown is not permitted here");
        }
    }
    files
}

/// A tree with a sparse file of many regions (more than old GNU headers hold, so extension
/// headers are needed), one ending in a hole, and an ordinary file.
fn make_sparse_tree(tree: &Path) -> HashMap<Vec<u8>, Vec<u8>> {
    let mut files = HashMap::new();
    fs::create_dir_all(tree).expect("tree");
    let mut content = vec![0u8; 40 << 20];
    for i in 0..30 {
        let at = i * (1 << 20) + 12_345;
        content[at..at + 5000].copy_from_slice(&pseudo_random(5000, i as u64));
    }
    write_sparse(&tree.join("many-regions"), &content);
    files.insert(b"many-regions".to_vec(), content);

    let mut content = vec![0u8; 3 << 20];
    content[..4096].copy_from_slice(&pseudo_random(4096, 99));
    write_sparse(&tree.join("hole-at-end"), &content);
    files.insert(b"hole-at-end".to_vec(), content);

    file(tree, &mut files, b"plain", b"plain".to_vec());
    files
}

/// Writes only the non-zero 4 KiB blocks of `content`, leaving holes.
fn write_sparse(path: &Path, content: &[u8]) {
    let mut out = fs::File::create(path).expect("create");
    for (i, chunk) in content.chunks(4096).enumerate() {
        if chunk.iter().any(|&b| b != 0) {
            out.seek(SeekFrom::Start(i as u64 * 4096)).expect("seek");
            out.write_all(chunk).expect("write");
        }
    }
    out.set_len(content.len() as u64).expect("truncate");
}

/// Archives written by Python's `tarfile`.
fn python_fixtures(root: &Path, fixtures: &mut Vec<Fixture>) {
    const SCRIPT: &str = r#"
import io, sys, tarfile
out = sys.argv[1]
def add(t, name, data=b"", **kw):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in kw.items():
        setattr(info, k, v)
    t.addfile(info, io.BytesIO(data))

with tarfile.open(out + "/py-pax.tar", "w", format=tarfile.PAX_FORMAT,
                  pax_headers={"comment": "a global header", "imgsvc.key": "value"}) as t:
    add(t, "dir/", type=tarfile.DIRTYPE, mode=0o755)
    add(t, "dir/file", b"hello", mtime=1700000000.25, uname="user", gname="group")
    add(t, "dir/" + "x" * 200, b"long")
    add(t, "dir/caf\u00e9", b"utf-8 name")
    info = tarfile.TarInfo("dir/xattrs")
    info.pax_headers = {"SCHILY.xattr.user.a": "1", "SCHILY.xattr.security.capability": "", "comment": "c"}
    t.addfile(info)
    add(t, "dir/link", type=tarfile.SYMTYPE, linkname="l" * 300)

with tarfile.open(out + "/py-gnu.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "n" * 300, b"long name")
    add(t, "hard", type=tarfile.LNKTYPE, linkname="n" * 300)
    add(t, "negative-mtime", b"x", mtime=-1000)
    add(t, "big-ids", b"y", uid=10**12, gid=2**40)
    add(t, "dev", type=tarfile.CHRTYPE, devmajor=4095, devminor=2**20)
    add(t, "fifo", type=tarfile.FIFOTYPE)

with tarfile.open(out + "/py-ustar.tar", "w", format=tarfile.USTAR_FORMAT) as t:
    add(t, "p" * 120 + "/" + "n" * 80, b"split between prefix and name")
    add(t, "blk", type=tarfile.BLKTYPE, devmajor=8, devminor=1)
    add(t, "sticky/", type=tarfile.DIRTYPE, mode=0o1777)
"#;
    run(Command::new("python3").arg("-c").arg(SCRIPT).arg(root));
    for name in ["py-pax", "py-gnu", "py-ustar"] {
        let path = root.join(format!("{name}.tar"));
        fixtures.push(Fixture {
            name: name.into(),
            tar: fs::read(&path).expect("python wrote the archive"),
            files: HashMap::new(),
            python_agrees: true,
        });
    }
}

/// Archives with odd endings, and formats no tool here writes, made block by block.
fn hand_made_fixtures(fixtures: &mut Vec<Fixture>) {
    let entries = || {
        let mut w = TarWriter::default();
        w.file(b"a", b"alpha").file(b"b", &pseudo_random(700, 7));
        w
    };
    let body = entries().out;
    let mut add = |name: &str, tar: Vec<u8>, python_agrees: bool| {
        fixtures.push(Fixture {
            name: name.into(),
            tar,
            files: HashMap::new(),
            python_agrees,
        });
    };
    add("empty-input", Vec::new(), false);
    add("only-end-blocks", vec![0; 1024], true);
    add("two-entries", entries().finish(), true);
    let mut garbage = entries().finish();
    garbage.extend_from_slice(&pseudo_random((3 << 20) + 5, 3));
    add("trailing-garbage", garbage, true);
    let mut zeros = entries().finish();
    zeros.resize(10240 * 3, 0);
    add("record-padding", zeros, true);
    let mut one = body.clone();
    one.extend_from_slice(&[0; 512]);
    add("one-zero-block", one, true);
    add("no-zero-blocks", body.clone(), true);
    add("eof-in-padding", body[..body.len() - 100].to_vec(), false);
    add(
        "eof-after-data",
        body[..body.len() - (512 - 700 % 512)].to_vec(),
        false,
    );

    // A directory in the historic style: type '\0' and a trailing slash; and contiguous and
    // V7 regular files.
    let mut w = TarWriter::default();
    w.block(&Block::new(b"olddir/", 0, 0, Magic::V7))
        .block(&Block::new(b"olddir/reg", 0, 3, Magic::V7))
        .data(b"old")
        .block(&Block::new(b"contiguous", b'7', 4, Magic::Ustar))
        .data(b"cont");
    add("historic-types", w.finish(), true);

    // PAX records with binary xattr values, a size override, fractional and negative times,
    // and two PAX headers before one entry (the second wins).
    let mut w = TarWriter::default();
    w.pax(b'x', &[(b"path", b"ignored")])
        .pax(
            b'x',
            &[
                (b"path", b"pax/\xffname"),
                (b"size", b"1000"),
                (b"mtime", b"-1.5"),
                (b"atime", b"1700000000.123456789"),
                (b"uid", b"5000000000"),
                (b"SCHILY.xattr.user.bin", b"\0\xff\n="),
                (b"SCHILY.xattr.user.empty", b""),
            ],
        )
        .block(&Block::new(b"short", b'0', 7, Magic::Ustar))
        .data(&pseudo_random(1000, 5));
    add("pax-overrides", w.finish(), false);
}
