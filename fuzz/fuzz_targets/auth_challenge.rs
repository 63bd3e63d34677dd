//! Arbitrary `WWW-Authenticate` header bytes: parsing never panics, every challenge found
//! has a scheme, and a challenge written back out parses to the same challenge.
#![no_main]

use imgsvc_registry_transport::challenge::{parse_header, parse_headers, preferred};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let challenges = parse_header(&text);
    for challenge in &challenges {
        assert!(!challenge.scheme().is_empty());
        let written = challenge.to_string();
        let again = parse_header(&written);
        assert_eq!(again.first(), Some(challenge), "{written:?}");
        for (name, value) in challenge.parameters() {
            assert!(!name.is_empty() && !value.is_empty());
            assert!(challenge.parameter(name).is_some());
        }
    }
    // Split into lines, as several headers: the same challenges, and a preference among them.
    let lines = parse_headers(text.lines());
    if let Some(chosen) = preferred(&lines) {
        assert!(matches!(chosen.scheme(), "bearer" | "basic"));
    }
});
