//! Property tests: text round-trips, and the parser never panics.

use imgsvc_digest::{Algorithm, Digest, Hex};
use proptest::prelude::*;

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop::sample::select(Algorithm::ALL.to_vec())
}

fn digest() -> impl Strategy<Value = Digest> {
    (algorithm(), prop::collection::vec(any::<u8>(), 64)).prop_map(|(algorithm, bytes)| {
        Digest::from_raw(algorithm, &bytes[..algorithm.size()]).expect("sized to the algorithm")
    })
}

proptest! {
    #[test]
    fn parse_of_display_is_identity(d in digest()) {
        let text = d.to_string();
        prop_assert_eq!(text.parse::<Digest>(), Ok(d));
        prop_assert_eq!(Digest::from_encoded(d.algorithm(), &d.encoded()), Ok(d));
    }

    #[test]
    fn order_of_digests_is_order_of_strings(a in digest(), b in digest()) {
        prop_assert_eq!(a.cmp(&b), a.to_string().cmp(&b.to_string()));
    }

    #[test]
    fn accepted_text_round_trips_exactly(text in "[a-z0-9:+._=-]{0,140}") {
        if let Ok(d) = text.parse::<Digest>() {
            prop_assert_eq!(d.to_string(), text);
        }
    }

    #[test]
    fn near_miss_digests_never_parse_and_never_panic(
        d in digest(),
        position in any::<prop::sample::Index>(),
        replacement in any::<char>(),
    ) {
        let mut chars: Vec<char> = d.to_string().chars().collect();
        let at = position.index(chars.len());
        let original = chars[at];
        chars[at] = replacement;
        let mutated: String = chars.into_iter().collect();
        let parsed = mutated.parse::<Digest>();
        if replacement != original {
            // Changing a hex digit to another hex digit gives another valid digest;
            // anything else must be refused.
            let still_hex = at > d.algorithm().name().len()
                && matches!(replacement, '0'..='9' | 'a'..='f');
            prop_assert_eq!(parsed.is_ok(), still_hex, "{}", mutated);
        }
    }

    #[test]
    fn hex_short_form_is_a_prefix(d in digest()) {
        let encoded: Hex = d.encoded();
        prop_assert!(encoded.starts_with(d.short().as_str()));
        prop_assert_eq!(d.short().len(), imgsvc_digest::SHORT_LEN);
    }
}
