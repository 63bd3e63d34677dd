//! A layer database written the way Docker writes one (vfs driver): the store opens it,
//! finds its layers and read-write layer, and rebuilds each layer's exact tar from Docker's
//! own tar-split lines; damaged records are reported, not served.
//!
//! The fixture is built here by hand, file by file, from Docker's format (SPEC.md section
//! 4), not through the store's own writer, so a mismatch between the two shows.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use imgsvc_digest::Digest;
use imgsvc_layerstore::driver::Vfs;
use imgsvc_layerstore::{ChainId, DiffId, Error, LayerStore};

use crate::tar::support::{Block, Magic, TarWriter};

/// Random-looking cache IDs, as Docker makes them (64 hexadecimal digits).
const BASE_CACHE: &str = "1f0c5e3a9b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf02468";
const TOP_CACHE: &str = "2a4c6e8092b4d6f81a3c5e7f90b2d4f6183a5c7e9f0b2d4f6a8c0e2f4a6c8e0f";
const MOUNT: &str = "3b5d7f91a3c5e7092b4d6f8a0c2e4f6b8d0f2a4c6e8a0c2e4f6a8c0e2a4c6e8f";

fn crc64(data: &[u8]) -> [u8; 8] {
    crc::Crc::<u64>::new(&crc::CRC_64_GO_ISO)
        .checksum(data)
        .to_be_bytes()
}

/// A segment line and a file line, exactly as Go's tar-split marshals them.
fn segment(tar: &[u8], range: std::ops::Range<usize>, position: usize) -> String {
    format!(
        r#"{{"type":2,"payload":"{}","position":{position}}}"#,
        BASE64.encode(&tar[range])
    )
}

fn file(name: &str, data: &[u8], position: usize) -> String {
    if data.is_empty() {
        format!(r#"{{"type":1,"name":"{name}","payload":null,"position":{position}}}"#)
    } else {
        format!(
            r#"{{"type":1,"name":"{name}","size":{},"payload":"{}","position":{position}}}"#,
            data.len(),
            BASE64.encode(crc64(data))
        )
    }
}

/// Writes a file of a driver's tree with a fixed modification time. vfs makes a layer from
/// its parent by copying the tree with its times, so a copy and its original have equal
/// times; a fixture that wrote both at different instants would show a change that a real
/// copy never has.
fn put(path: &Path, data: &[u8]) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, data).expect("write");
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_times(fs::FileTimes::new().set_accessed(time).set_modified(time)))
        .expect("set the file's times");
}

fn gzip_lines(lines: &[String]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for line in lines {
        gz.write_all(line.as_bytes()).expect("memory");
        gz.write_all(b"\n").expect("memory");
    }
    gz.finish().expect("memory")
}

/// The layer's directory in Docker's layerdb.
fn layer_dir(layerdb: &Path, chain_id: ChainId) -> PathBuf {
    layerdb
        .join("sha256")
        .join(chain_id.digest().encoded().as_str())
}

/// Writes one layer's record as Docker does (the directory 0700, as the renamed staging
/// directory is, its files 0644): no trailing newline in `size`; `diff`, `cache-id` and
/// `parent` get one here, which Docker's reader trims.
fn write_record(
    layerdb: &Path,
    chain_id: ChainId,
    diff_id: DiffId,
    parent: Option<ChainId>,
    size: &str,
    cache_id: &str,
    tar_split: &[u8],
) {
    let dir = layer_dir(layerdb, chain_id);
    fs::create_dir_all(&dir).expect("mkdir");
    fs::write(dir.join("diff"), format!("{diff_id}\n")).expect("write");
    fs::write(dir.join("size"), size).expect("write");
    fs::write(dir.join("cache-id"), format!("{cache_id}\n")).expect("write");
    if let Some(parent) = parent {
        fs::write(dir.join("parent"), format!("{parent}\n")).expect("write");
    }
    fs::write(dir.join("tar-split.json.gz"), tar_split).expect("write");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
}

struct Db {
    _dir: tempfile::TempDir,
    root: PathBuf,
    base: (ChainId, Vec<u8>),
    top: (ChainId, Vec<u8>),
}

impl Db {
    fn layerdb(&self) -> PathBuf {
        self.root.join("image/vfs/layerdb")
    }

    fn open(&self) -> (LayerStore, Vec<(ChainId, Error)>) {
        let vfs = Vfs::open(self.root.join("vfs")).expect("the vfs driver");
        LayerStore::open_report(self.layerdb(), Box::new(vfs)).expect("the store opens")
    }
}

/// Two layers and a container's read-write layer:
/// - base: `etc/` and `etc/motd` ("hello\n");
/// - top: `etc/`, a whiteout of `etc/motd`, and `etc/issue` ("imgsvc\n");
/// - mount `c1` on top, with an init layer.
fn docker_db() -> Db {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path().to_owned();
    let layerdb = root.join("image/vfs/layerdb");
    let vfs_dirs = root.join("vfs/dir");

    // base: [etc/ 0..512] [etc/motd 512..1024] [data 1024..1030] [padding, end 1030..2560]
    let mut w = TarWriter::default();
    w.block(&Block::new(b"etc/", b'5', 0, Magic::Ustar))
        .file(b"etc/motd", b"hello\n");
    let base_tar = w.finish();
    assert_eq!(base_tar.len(), 2560);
    let base_lines = [
        segment(&base_tar, 0..512, 0),
        file("etc/", b"", 1),
        segment(&base_tar, 512..1024, 2),
        file("etc/motd", b"hello\n", 3),
        segment(&base_tar, 1030..2560, 4),
    ];
    let base_diff = DiffId::new(Digest::from_bytes(&base_tar));
    let base_chain = ChainId::new(base_diff.digest());
    write_record(
        &layerdb,
        base_chain,
        base_diff,
        None,
        "6",
        BASE_CACHE,
        &gzip_lines(&base_lines),
    );
    put(&vfs_dirs.join(BASE_CACHE).join("etc/motd"), b"hello\n");

    // top: [etc/ 0..512] [etc/.wh.motd 512..1024] [etc/issue 1024..1536] [data 1536..1543]
    // [padding, end 1543..3072]
    let mut w = TarWriter::default();
    w.block(&Block::new(b"etc/", b'5', 0, Magic::Ustar))
        .block(&Block::new(b"etc/.wh.motd", b'0', 0, Magic::Ustar))
        .file(b"etc/issue", b"imgsvc\n");
    let top_tar = w.finish();
    assert_eq!(top_tar.len(), 3072);
    let top_lines = [
        segment(&top_tar, 0..512, 0),
        file("etc/", b"", 1),
        segment(&top_tar, 512..1024, 2),
        file("etc/.wh.motd", b"", 3),
        segment(&top_tar, 1024..1536, 4),
        file("etc/issue", b"imgsvc\n", 5),
        segment(&top_tar, 1543..3072, 6),
    ];
    let top_diff = DiffId::new(Digest::from_bytes(&top_tar));
    let top_chain = base_chain.child(top_diff);
    write_record(
        &layerdb,
        top_chain,
        top_diff,
        Some(base_chain),
        "7",
        TOP_CACHE,
        &gzip_lines(&top_lines),
    );
    // vfs keeps full trees: the top layer is the base with the diff applied.
    put(&vfs_dirs.join(TOP_CACHE).join("etc/issue"), b"imgsvc\n");

    // A container on top: mounts/c1/{mount-id,init-id,parent}, as Docker writes them.
    let mount_dir = layerdb.join("mounts/c1");
    fs::create_dir_all(&mount_dir).expect("mkdir");
    fs::write(mount_dir.join("mount-id"), MOUNT).expect("write");
    fs::write(mount_dir.join("init-id"), format!("{MOUNT}-init")).expect("write");
    fs::write(mount_dir.join("parent"), top_chain.to_string()).expect("write");
    for id in [format!("{MOUNT}-init"), MOUNT.to_owned()] {
        let tree = vfs_dirs.join(id);
        put(&tree.join("etc/issue"), b"imgsvc\n");
        put(&tree.join(".dockerenv"), b"");
    }
    put(&vfs_dirs.join(MOUNT).join("etc/hostname"), b"c1\n");

    Db {
        _dir: dir,
        root,
        base: (base_chain, base_tar),
        top: (top_chain, top_tar),
    }
}

#[test]
fn a_docker_layerdb_opens_and_its_tars_come_back_exactly() {
    let db = docker_db();
    let (store, skipped) = db.open();
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(store.map().len(), 2);

    let top = store.get(db.top.0).expect("the top layer");
    assert_eq!(top.parent(), Some(db.base.0));
    assert_eq!((top.diff_size(), top.size()), (7, 13));
    for (chain_id, tar) in [&db.base, &db.top] {
        let layer = store.get(*chain_id).expect("a layer");
        let mut rebuilt = Vec::new();
        store
            .tar_stream(&layer)
            .expect("a tar stream")
            .read_to_end(&mut rebuilt)
            .expect("the tar rebuilds");
        assert_eq!(&rebuilt, tar, "layer {chain_id}");
    }
}

#[test]
fn a_docker_mount_is_found_with_its_init_layer() {
    let db = docker_db();
    let (store, _) = db.open();
    assert_eq!(store.get_mount_id("c1").expect("the mount"), MOUNT);
    let container = store.get_rw_layer("c1").expect("the read-write layer");
    assert_eq!(container.parent(), Some(db.top.0));
    let rootfs = store.mount(&container).expect("mounted");
    assert_eq!(
        fs::read(rootfs.join("etc/hostname")).expect("read"),
        b"c1\n"
    );
    store.unmount(&container).expect("unmounted");
    // Changes are against the init layer: the container's own file (and, as Docker lists
    // it, the directory holding it), nothing the init layer or the image holds.
    let changes = store.rw_changes(&container).expect("changes");
    let change = |path: &str, kind| imgsvc_layerstore::Change {
        path: PathBuf::from(path),
        kind,
    };
    use imgsvc_layerstore::ChangeKind::{Add, Modify};
    assert_eq!(
        changes,
        [change("/etc", Modify), change("/etc/hostname", Add)]
    );
}

#[test]
fn a_size_with_a_newline_or_an_empty_cache_id_skips_that_layer_with_the_reason() {
    // Docker trims diff, cache-id and parent, but not size: "6\n" does not load.
    let db = docker_db();
    fs::write(layer_dir(&db.layerdb(), db.base.0).join("size"), "6\n").expect("write");
    let (store, skipped) = db.open();
    // The top layer sits on the base, so it cannot load either.
    assert_eq!(store.map().len(), 0);
    let reasons: Vec<String> = skipped.iter().map(|(_, err)| err.to_string()).collect();
    assert!(
        skipped.iter().any(|(id, _)| *id == db.base.0),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("size")),
        "the reason names the file: {reasons:?}"
    );

    let db = docker_db();
    fs::write(layer_dir(&db.layerdb(), db.top.0).join("cache-id"), "\n").expect("write");
    let (store, skipped) = db.open();
    assert_eq!(store.map().len(), 1, "the base still loads");
    // The layer, with the reason; the container on it is reported as missing its layer.
    assert!(skipped.iter().all(|(id, _)| *id == db.top.0), "{skipped:?}");
    assert!(
        skipped
            .iter()
            .any(|(_, err)| err.to_string().contains("invalid cache id value")),
        "{skipped:?}"
    );
    assert!(store.get_rw_layer("c1").is_err());
}

#[test]
fn any_whitespace_around_the_ids_is_trimmed_but_a_space_before_the_size_is_not() {
    // Docker trims spaces, tabs and line ends of either kind around diff, cache-id and
    // parent; a record edited by hand (or on Windows) still loads.
    let db = docker_db();
    let top = layer_dir(&db.layerdb(), db.top.0);
    let diff = fs::read_to_string(top.join("diff")).expect("read");
    fs::write(top.join("diff"), format!(" \t{}\r\n", diff.trim())).expect("write");
    fs::write(top.join("cache-id"), format!("\r\n  {TOP_CACHE}\t\r\n")).expect("write");
    fs::write(top.join("parent"), format!("  {}\r\n", db.base.0)).expect("write");
    let (store, skipped) = db.open();
    assert!(skipped.is_empty(), "{skipped:?}");
    let layer = store.get(db.top.0).expect("the top layer");
    assert_eq!(layer.parent(), Some(db.base.0));
    let mut rebuilt = Vec::new();
    store
        .tar_stream(&layer)
        .expect("a tar stream")
        .read_to_end(&mut rebuilt)
        .expect("the tar rebuilds from the trimmed cache id");
    assert_eq!(rebuilt, db.top.1);

    let db = docker_db();
    fs::write(layer_dir(&db.layerdb(), db.top.0).join("size"), " 7").expect("write");
    let (store, skipped) = db.open();
    assert_eq!(store.map().len(), 1, "only the base loads");
    assert!(
        skipped
            .iter()
            .any(|(id, err)| *id == db.top.0 && err.to_string().contains("size")),
        "{skipped:?}"
    );
}
