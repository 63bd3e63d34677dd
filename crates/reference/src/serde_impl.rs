//! Serde support: names, tags and references serialize as their canonical text and
//! deserialize through the same parsers as `FromStr`.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::{AnyReference, Name, Reference, Tag};

macro_rules! text_serde {
    ($type:ty, $expecting:literal) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(ParseVisitor::<$type>(PhantomData, $expecting))
            }
        }
    };
}

text_serde!(
    Reference,
    "an image reference such as docker.io/library/ubuntu:24.04"
);
text_serde!(Name, "a repository name such as docker.io/library/ubuntu");
text_serde!(Tag, "an image tag such as latest");
text_serde!(AnyReference, "an image reference, digest or ID");

/// Deserializes any `FromStr` type from a string, borrowed or owned.
struct ParseVisitor<T>(PhantomData<T>, &'static str);

impl<T> Visitor<'_> for ParseVisitor<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        text.parse().map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_round_trip_through_json() {
        let r: Reference = "localhost:5000/app:v1".parse().expect("valid");
        let json = serde_json::to_string(&r).expect("serializes");
        assert_eq!(json, "\"localhost:5000/app:v1\"");
        assert_eq!(serde_json::from_str::<Reference>(&json).expect("parses"), r);
        assert!(serde_json::from_str::<Reference>("\"Bad Ref\"").is_err());
        assert!(serde_json::from_str::<Tag>("\"-x\"").is_err());
    }
}
