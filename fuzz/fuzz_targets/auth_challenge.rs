//! `auth_challenge`: `WWW-Authenticate` parsing never panics on any text, keeps within its
//! limits, and every challenge it finds is written back out as a value that parses to exactly
//! that challenge.
#![no_main]

use imgsvc_registry_transport::challenge::{
    MAX_CHALLENGES, MAX_HEADER_LEN, MAX_PARAMETERS, parse_header, parse_headers, preferred,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let challenges = parse_header(&text);
    assert!(challenges.len() <= MAX_CHALLENGES);
    for challenge in &challenges {
        assert!(!challenge.scheme().is_empty());
        assert!(challenge.parameters().len() <= MAX_PARAMETERS);
        for (name, value) in challenge.parameters() {
            assert!(!name.is_empty() && !value.is_empty(), "{challenge:?}");
            assert_eq!(challenge.parameter(name), Some(value.as_str()));
        }
        let written = challenge.to_string();
        assert!(written.len() <= MAX_HEADER_LEN, "{written:?}");
        assert_eq!(parse_header(&written), [challenge.clone()], "{written:?}");
    }
    // The same text as several header lines: never panics, and the preference is one of ours.
    let per_line = parse_headers(text.lines());
    if let Some(chosen) = preferred(&per_line) {
        assert!(matches!(chosen.scheme(), "bearer" | "basic"));
    }
});
