//! `manifest_decode`: decoding arbitrary bytes as a manifest never panics, whatever the
//! content type; what decodes serializes to a document that decodes to the same manifest.
#![no_main]

use imgsvc_distribution::manifest::{Manifest, media_type};
use libfuzzer_sys::fuzz_target;

/// The content types a registry may send; the first input byte picks one.
const CONTENT_TYPES: [Option<&str>; 7] = [
    Some(media_type::OCI_MANIFEST),
    Some(media_type::OCI_INDEX),
    Some(media_type::DOCKER_MANIFEST),
    Some(media_type::DOCKER_MANIFEST_LIST),
    Some(media_type::DOCKER_SCHEMA1_SIGNED_MANIFEST),
    Some("application/json"),
    None,
];

fuzz_target!(|data: &[u8]| {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(choice) % CONTENT_TYPES.len()];
    let Ok(manifest) = Manifest::decode(body, content_type) else {
        return;
    };
    let _ = (
        manifest.media_type(),
        manifest.is_index(),
        manifest.subject(),
    );

    let written = serde_json::to_vec(&manifest).expect("a decoded manifest serializes");
    let again = Manifest::decode(&written, content_type).expect("what we write decodes");
    assert_eq!(
        again, manifest,
        "a manifest survives being written and read again"
    );
});
