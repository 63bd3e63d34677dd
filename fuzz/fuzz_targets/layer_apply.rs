//! `layer_apply`: arbitrary bytes registered as a layer tar never panic and never create
//! anything outside the store's own directories; a layer that registers reproduces its tar
//! exactly, and releasing it leaves nothing behind.
#![no_main]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use imgsvc_layerstore::LayerStore;
use imgsvc_layerstore::driver::Vfs;
use libfuzzer_sys::fuzz_target;

/// `sandbox/root` holds the store; `sandbox` itself must only ever contain `root`.
fn sandbox() -> &'static (tempfile::TempDir, PathBuf) {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }
            .expect("a scratch directory for the fuzzer");
        let root = dir.path().join("root");
        (dir, root)
    })
}

fn store(root: &Path) -> LayerStore {
    let driver = Vfs::open(root.join("vfs")).expect("the vfs driver opens");
    LayerStore::open(root.join("image/vfs/layerdb"), Box::new(driver)).expect("the store opens")
}

fuzz_target!(|data: &[u8]| {
    let (dir, root) = sandbox();
    let store = store(root);
    if let Ok(layer) = store.register(data, None) {
        let mut rebuilt = Vec::new();
        store
            .tar_stream(&layer)
            .expect("a registered layer has a tar stream")
            .read_to_end(&mut rebuilt)
            .expect("the tar stream reads to its end");
        assert_eq!(rebuilt, data, "the tar must be reproduced exactly");
        store.release(layer).expect("releasing");
    }
    let outside: Vec<_> = std::fs::read_dir(dir.path())
        .expect("listing the sandbox")
        .map(|e| e.expect("an entry").file_name())
        .collect();
    assert_eq!(outside, ["root"], "something was created outside the store");
    let layers = std::fs::read_dir(root.join("vfs/dir")).expect("listing").count();
    assert_eq!(layers, 0, "a failed or released registration left a layer behind");
});
