//! Deserializers that read JSON the way Go's `encoding/json` fills Docker's structs: `null`
//! leaves a value at its zero, a command may be one string or a list, and a set is an object
//! whose values do not matter.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};

/// A value, or its default when the JSON holds `null` (Go leaves a non-pointer field at its
/// zero value then).
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Docker's `StrSlice`: `null`, one string (a one-element list) or a list of strings.
pub(crate) fn str_slice<'de, D>(deserializer: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: Deserializer<'de>,
{
    struct StrSlice;

    impl<'de> Visitor<'de> for StrSlice {
        type Value = Option<Vec<String>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string, a list of strings or null")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(StrSlice)
        }

        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok(Some(vec![s.to_owned()]))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
            while let Some(item) = seq.next_element::<String>()? {
                out.push(item);
            }
            Ok(Some(out))
        }
    }

    deserializer.deserialize_option(StrSlice)
}

/// A set written as an object whose values are ignored (`{"80/tcp": {}}`), or `null`.
pub(crate) fn key_set<'de, D>(deserializer: D) -> Result<BTreeSet<String>, D::Error>
where
    D: Deserializer<'de>,
{
    struct KeySet;

    impl<'de> Visitor<'de> for KeySet {
        type Value = BTreeSet<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object or null")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeSet::new())
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeSet::new())
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(KeySet)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeSet::new();
            while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                out.insert(key);
            }
            Ok(out)
        }
    }

    deserializer.deserialize_option(KeySet)
}

/// Writes a set as Docker does: an object of empty objects.
pub(crate) fn write_key_set<S: Serializer>(
    set: &BTreeSet<String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(set.len()))?;
    for key in set {
        map.serialize_entry(key, &Empty)?;
    }
    map.end()
}

/// `{}`.
struct Empty;

impl serde::Serialize for Empty {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_map(Some(0))?.end()
    }
}

/// True for `false`, for `skip_serializing_if` (Go's `omitempty` on a bool).
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}

/// True for zero, for `skip_serializing_if` (Go's `omitempty` on a number).
pub(crate) fn is_zero(value: &i64) -> bool {
    *value == 0
}
