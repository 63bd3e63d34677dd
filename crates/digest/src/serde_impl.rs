//! Serde support: digests and algorithms serialize as their canonical strings and
//! deserialize through the same parser as [`FromStr`](std::str::FromStr).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::{Algorithm, Digest};

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Digest, D::Error> {
        deserializer.deserialize_str(ParseVisitor::<Digest>::new(
            "a digest such as sha256:<64 hex digits>",
        ))
    }
}

impl Serialize for Algorithm {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Algorithm {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Algorithm, D::Error> {
        deserializer.deserialize_str(ParseVisitor::<Algorithm>::new("a digest algorithm name"))
    }
}

/// Deserializes any `FromStr` type from a string, borrowed or owned.
struct ParseVisitor<T> {
    expecting: &'static str,
    marker: std::marker::PhantomData<T>,
}

impl<T> ParseVisitor<T> {
    fn new(expecting: &'static str) -> ParseVisitor<T> {
        ParseVisitor {
            expecting,
            marker: std::marker::PhantomData,
        }
    }
}

impl<T> Visitor<'_> for ParseVisitor<T>
where
    T: std::str::FromStr,
    T::Err: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        text.parse().map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_round_trip_through_json() {
        let d = Digest::from_bytes(b"foo");
        let json = serde_json::to_string(&d).expect("serializing a digest");
        assert_eq!(json, format!("\"{d}\""));
        let back: Digest = serde_json::from_str(&json).expect("parsing it back");
        assert_eq!(back, d);
    }

    #[test]
    fn invalid_digests_fail_with_the_parse_error() {
        let err = serde_json::from_str::<Digest>("\"sha256:abc\"").expect_err("too short");
        assert!(
            err.to_string().contains("invalid checksum digest length"),
            "{err}"
        );
        assert!(serde_json::from_str::<Digest>("42").is_err());
    }

    #[test]
    fn algorithms_round_trip_through_json() {
        let json = serde_json::to_string(&Algorithm::Sha384).expect("serializing");
        assert_eq!(json, "\"sha384\"");
        let back: Algorithm = serde_json::from_str(&json).expect("parsing");
        assert_eq!(back, Algorithm::Sha384);
    }
}
