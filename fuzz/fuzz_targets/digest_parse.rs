//! `digest_parse`: the digest parser never panics, any string it accepts round-trips exactly,
//! and prefix lookup on any text never panics and only ever returns a true match.
#![no_main]

use imgsvc_digest::{Algorithm, Digest, DigestSet, Error};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<Digest>() {
        Ok(digest) => {
            assert_eq!(digest.to_string(), text, "accepted text must round-trip");
            assert_eq!(Digest::from_encoded(digest.algorithm(), &digest.encoded()), Ok(digest));
        }
        Err(Error::InvalidFormat { .. } | Error::InvalidLength { .. } | Error::Unsupported { .. }) => {}
        Err(other) => panic!("parse gave a non-parse error: {other}"),
    }

    // Lookup of arbitrary text in a small fixed set.
    let set: DigestSet = [
        Digest::from_bytes(b"a"),
        Digest::from_bytes(b"b"),
        Algorithm::Sha512.hash(b"a"),
    ]
    .into_iter()
    .collect();
    if let Ok(found) = set.lookup(text) {
        assert!(set.contains(&found));
        let prefix = text.split_once(':').map_or(text, |(_, encoded)| encoded);
        assert!(found.encoded().starts_with(prefix), "{found} does not start with {prefix:?}");
    }
});
