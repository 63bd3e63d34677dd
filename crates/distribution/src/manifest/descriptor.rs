//! Descriptors: what a manifest says about another blob (its type, digest and size, where
//! else to fetch it, which platform it is for).

use std::collections::BTreeMap;

use imgsvc_digest::Digest;
use serde::{Deserialize, Deserializer, Serialize};

use super::Platform;

/// A reference from a manifest to a blob or another manifest, as OCI and Docker write it.
///
/// Sizes are unsigned: a negative or fractional `size` fails to decode. Empty lists and maps
/// are left out when serializing, and `null` reads as empty, as Go's JSON does.
///
/// ```
/// use imgsvc_distribution::digest::Digest;
/// use imgsvc_distribution::manifest::{Descriptor, media_type};
///
/// let d = Descriptor::new(media_type::OCI_CONFIG, Digest::from_bytes(b"{}"), 2);
/// let json = serde_json::to_string(&d)?;
/// assert_eq!(
///     json,
///     r#"{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}"#
/// );
/// assert_eq!(serde_json::from_str::<Descriptor>(&json)?, d);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Descriptor {
    /// The media type of the target (empty when the document leaves it out).
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub media_type: String,
    /// The digest of the target's bytes.
    pub digest: Digest,
    /// The target's size in bytes (0 when the document leaves it out).
    #[serde(default)]
    pub size: u64,
    /// Other places to fetch the target from (non-distributable layers).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub urls: Vec<String>,
    /// Free-form annotations.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub annotations: BTreeMap<String, String>,
    /// The platform the target runs on (index entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The artifact type of the target, when it is an artifact manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

/// Construction
impl Descriptor {
    /// A descriptor with a type, digest and size, and nothing else.
    ///
    /// ```
    /// use imgsvc_distribution::digest::Digest;
    /// use imgsvc_distribution::manifest::{Descriptor, media_type};
    ///
    /// let d = Descriptor::new(media_type::OCI_LAYER_GZIP, Digest::from_bytes(b""), 0);
    /// assert!(d.urls.is_empty() && d.platform.is_none());
    /// ```
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest,
            size,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        }
    }
}

/// Reads `null` or a value; `null` gives the default, as Go's JSON leaves a nil slice or map.
pub(super) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn parse(json: &str) -> Result<Descriptor, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn sizes_must_be_unsigned_integers() {
        for (size, ok) in [
            ("0", true),
            ("18446744073709551615", true),
            ("18446744073709551616", false),
            ("-1", false),
            ("1.5", false),
            ("1e3", false),
            ("\"12\"", false),
            ("null", false),
        ] {
            let json = format!(r#"{{"mediaType":"a","digest":"{DIGEST}","size":{size}}}"#);
            assert_eq!(parse(&json).is_ok(), ok, "size {size}");
        }
    }

    #[test]
    fn null_and_missing_collections_read_as_empty() {
        let d = parse(&format!(
            r#"{{"digest":"{DIGEST}","urls":null,"annotations":null,"platform":null,"mediaType":null}}"#
        ))
        .expect("nulls are accepted");
        assert_eq!(d, Descriptor::new("", Digest::from_bytes(b""), 0));
    }

    #[test]
    fn invalid_digests_are_refused() {
        for digest in [
            "sha256:abc",
            "",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "sha256",
        ] {
            let json = format!(r#"{{"mediaType":"a","digest":"{digest}","size":1}}"#);
            assert!(parse(&json).is_err(), "{digest:?}");
        }
        assert!(
            parse(r#"{"mediaType":"a","size":1}"#).is_err(),
            "digest is required"
        );
    }

    #[test]
    fn everything_round_trips() {
        let mut d = Descriptor::new("application/x", Digest::from_bytes(b"x"), 7);
        d.urls = vec!["https://example.com/x".to_owned()];
        d.annotations.insert("k".to_owned(), "v".to_owned());
        d.platform = Some("linux/arm64/v8".parse().expect("a platform"));
        d.artifact_type = Some("application/vnd.example".to_owned());
        let json = serde_json::to_string(&d).expect("serializes");
        assert!(
            json.contains(r#""artifactType":"application/vnd.example""#),
            "{json}"
        );
        assert_eq!(parse(&json).expect("parses back"), d);
    }
}
