//! Decoding manifest bytes: deciding the kind of document (the body's `mediaType`, else the
//! content type, else the fields present) and refusing schema 1.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ImageManifest, Index, MAX_MANIFEST_SIZE, Manifest, media_type};
use crate::Error;

/// Content types that say nothing about the kind of manifest: the body decides.
const GENERIC_CONTENT_TYPES: &[&str] = &[
    "",
    "application/json",
    "text/plain",
    "application/octet-stream",
];

/// The two kinds of manifest document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Image,
    Index,
}

impl Kind {
    fn of_media_type(media_type: &str) -> Option<Kind> {
        if media_type::is_image_manifest(media_type) {
            Some(Kind::Image)
        } else if media_type::is_index(media_type) {
            Some(Kind::Index)
        } else {
            None
        }
    }
}

/// Decoding
impl Manifest {
    /// Decodes a manifest or index from the bytes a registry served and the `Content-Type`
    /// it gave (parameters such as `; charset=utf-8` are ignored).
    ///
    /// The kind is the body's `mediaType` when it has one; else the content type's when
    /// that is a manifest type; else, for generic types (`application/json`, `text/plain`,
    /// none), the fields decide: `config` or `layers` make an image manifest, anything else
    /// an index. A document whose fields contradict its kind is invalid.
    ///
    /// # Errors
    ///
    /// - [`Error::TooLarge`] over [`MAX_MANIFEST_SIZE`] bytes;
    /// - [`Error::Schema1`] for schema 1 (by content type, `mediaType`, `fsLayers` or
    ///   `schemaVersion: 1`);
    /// - [`Error::UnsupportedMediaType`] for a `mediaType` or content type that is not a
    ///   manifest type;
    /// - [`Error::InvalidManifest`] for anything else: not JSON, not an object,
    ///   `schemaVersion` not 2, a bad digest or size, contradicting fields.
    ///
    /// ```
    /// use imgsvc_distribution::Error;
    /// use imgsvc_distribution::manifest::{Manifest, media_type};
    ///
    /// let json = br#"{"schemaVersion":2,
    ///   "config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,
    ///     "digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
    ///   "layers":[]}"#;
    /// let m = Manifest::decode(json, Some("application/vnd.oci.image.manifest.v1+json"))?;
    /// assert_eq!(m.as_image().ok_or("an image")?.config().size, 2);
    ///
    /// // Without a content type, the fields tell.
    /// assert_eq!(Manifest::decode(json, None)?, m);
    ///
    /// let schema1 = br#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#;
    /// assert!(matches!(Manifest::decode(schema1, None), Err(Error::Schema1 { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Result<Manifest, Error> {
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if len > MAX_MANIFEST_SIZE {
            return Err(Error::TooLarge {
                what: "manifest",
                digest: format!("of {len} bytes"),
                limit: MAX_MANIFEST_SIZE,
            });
        }
        let content_type = content_type.map(essence).unwrap_or_default();
        if media_type::is_schema1(&content_type) {
            return Err(Error::Schema1 {
                media_type: content_type,
            });
        }

        let value: Value = serde_json::from_slice(bytes)
            .map_err(|err| invalid(format!("not valid JSON: {err}")))?;
        let Value::Object(fields) = value else {
            return Err(invalid("a manifest is a JSON object"));
        };
        let kind = kind_of(&fields, &content_type)?;
        let document = Value::Object(fields);
        let manifest = match kind {
            Kind::Image => ImageManifest::deserialize(document).map(Manifest::Image),
            Kind::Index => Index::deserialize(document).map(Manifest::Index),
        };
        manifest.map_err(|err| invalid(err.to_string()))
    }
}

/// Decides the kind of a document, or refuses it.
fn kind_of(fields: &Map<String, Value>, content_type: &str) -> Result<Kind, Error> {
    let present = |name: &str| fields.get(name).is_some_and(|v| !v.is_null());
    let declared = match fields.get("mediaType") {
        None | Some(Value::Null) => None,
        Some(Value::String(declared)) if declared.is_empty() => None,
        Some(Value::String(declared)) => Some(declared.as_str()),
        Some(_) => return Err(invalid("mediaType is not a string")),
    };

    if let Some(declared) = declared.filter(|d| media_type::is_schema1(d)) {
        return Err(Error::Schema1 {
            media_type: declared.to_owned(),
        });
    }
    let version_one = fields.get("schemaVersion").and_then(Value::as_u64) == Some(1);
    if present("fsLayers") || version_one {
        return Err(Error::Schema1 {
            media_type: media_type::DOCKER_SCHEMA1_MANIFEST.to_owned(),
        });
    }

    if let Some(declared) = declared {
        return Kind::of_media_type(declared).ok_or_else(|| Error::UnsupportedMediaType {
            media_type: declared.to_owned(),
            context: Some("the manifest's mediaType; not a manifest or index type".to_owned()),
        });
    }
    if let Some(kind) = Kind::of_media_type(content_type) {
        return Ok(kind);
    }
    if !GENERIC_CONTENT_TYPES.contains(&content_type) {
        return Err(Error::UnsupportedMediaType {
            media_type: content_type.to_owned(),
            context: Some("the manifest's content type; not a manifest or index type".to_owned()),
        });
    }
    let image_fields = present("config") || present("layers");
    if image_fields && present("manifests") {
        return Err(invalid(
            "the document has both `manifests` and `config`/`layers`, and no mediaType to tell its kind",
        ));
    }
    Ok(if image_fields {
        Kind::Image
    } else {
        Kind::Index
    })
}

/// The media type of a `Content-Type` value: before any `;`, trimmed, lowercased.
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidManifest {
        digest: None,
        reason: reason.into(),
    }
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
