//! `repositories_json`: opening a tag store over arbitrary file content never panics; a file
//! that opens can be read and changed, and a file that does not open is left untouched.
#![no_main]

use std::sync::OnceLock;

use imgsvc_reference::digest::Digest;
use imgsvc_reference::parse_normalized_named;
use imgsvc_reference::refstore::Store;
use libfuzzer_sys::fuzz_target;

/// One scratch directory for the whole run, in memory where the system offers it.
fn scratch() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let made = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() };
        made.expect("a scratch directory for the fuzzer")
    })
    .path()
}

fuzz_target!(|data: &[u8]| {
    let path = scratch().join("repositories.json");
    std::fs::write(&path, data).expect("writing the fuzz input");
    match Store::open(&path) {
        Ok(store) => {
            let image = Digest::from_bytes(b"image");
            let reference = parse_normalized_named("fuzz:latest").expect("a valid reference");
            for id in [image, Digest::from_bytes(b"other")] {
                let _ = store.references(id).expect("an opened store can be read");
            }
            store.add_tag(&reference, image, true).expect("an opened store can be changed");
            let reopened = Store::open(&path).expect("what we wrote opens again");
            assert_eq!(reopened.get(&reference).expect("the tag we added"), image);
        }
        Err(_) => {
            let after = std::fs::read(&path).expect("reading the input back");
            assert_eq!(after, data, "a file that does not open must be left untouched");
        }
    }
});
