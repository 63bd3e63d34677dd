//! `image_config`: parsing arbitrary bytes as an image config never panics; an accepted config
//! keeps its exact bytes (its ID is their digest), its typed fields survive being written and
//! read again, and a store gives the same bytes back.
#![no_main]

use imgsvc_imagestore::{Image, ImageId, ImageStore, MemoryBackend, NoLayers};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(image) = Image::parse(data) else {
        return;
    };
    assert_eq!(image.raw_json(), data, "the exact bytes are kept");
    assert_eq!(
        image.id(),
        ImageId::of(data),
        "the ID is the digest of the bytes"
    );
    let _ = (image.chain_id(), image.check_os(), image.operating_system());

    let written = serde_json::to_vec(image.config()).expect("typed fields serialize");
    let again = Image::parse(&written).expect("what we write parses");
    assert_eq!(again.config(), image.config(), "typed fields round-trip");

    if image.chain_id().is_none() && image.check_history().is_ok() {
        let store = ImageStore::open(MemoryBackend::new(), NoLayers).expect("an empty store");
        let id = store
            .create(data)
            .expect("a config without layers is accepted");
        assert_eq!(id, image.id());
        assert_eq!(store.get(id).expect("stored").raw_json(), data);
        assert_eq!(store.search(&id.to_string()).expect("found"), id);
    }
});
