//! Image manifests (OCI image manifest, Docker schema 2): a config and an ordered list of
//! layers.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};

use super::descriptor::null_as_default;
use super::{Descriptor, media_type};

/// An image manifest: the image config and the layers, bottom first.
///
/// Decoding (serde, or [`Manifest::decode`](super::Manifest::decode)) checks what makes a
/// document an image manifest: `schemaVersion` 2, a `config`, no `manifests`, and a
/// `mediaType`, if any, that is an image manifest type.
///
/// ```
/// use imgsvc_distribution::digest::Digest;
/// use imgsvc_distribution::manifest::{Descriptor, ImageManifest, media_type};
///
/// let config = Descriptor::new(media_type::OCI_CONFIG, Digest::from_bytes(b"{}"), 2);
/// let layer = Descriptor::new(media_type::OCI_LAYER_GZIP, Digest::from_bytes(b"l"), 1);
/// let manifest = ImageManifest::new(config.clone(), vec![layer]);
/// assert_eq!(manifest.media_type(), media_type::OCI_MANIFEST);
/// assert_eq!(manifest.config(), &config);
///
/// let json = serde_json::to_vec(&manifest)?;
/// assert_eq!(serde_json::from_slice::<ImageManifest>(&json)?, manifest);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    schema_version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
    config: Descriptor,
    layers: Vec<Descriptor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<Descriptor>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

/// Construction
impl ImageManifest {
    /// An OCI image manifest (`mediaType` set) of a config and layers.
    pub fn new(config: Descriptor, layers: Vec<Descriptor>) -> ImageManifest {
        ImageManifest {
            schema_version: 2,
            media_type: Some(media_type::OCI_MANIFEST.to_owned()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: BTreeMap::new(),
        }
    }

    /// A Docker schema 2 manifest of a config and layers.
    ///
    /// ```
    /// use imgsvc_distribution::digest::Digest;
    /// use imgsvc_distribution::manifest::{Descriptor, ImageManifest, media_type};
    ///
    /// let config = Descriptor::new(media_type::DOCKER_CONFIG, Digest::from_bytes(b"{}"), 2);
    /// let manifest = ImageManifest::docker(config, Vec::new());
    /// assert_eq!(manifest.media_type(), media_type::DOCKER_MANIFEST);
    /// ```
    pub fn docker(config: Descriptor, layers: Vec<Descriptor>) -> ImageManifest {
        ImageManifest {
            media_type: Some(media_type::DOCKER_MANIFEST.to_owned()),
            ..ImageManifest::new(config, layers)
        }
    }

    /// Sets the artifact type.
    pub fn with_artifact_type(mut self, artifact_type: Option<String>) -> ImageManifest {
        self.artifact_type = artifact_type;
        self
    }

    /// Sets the subject (the manifest this one refers to, for referrers).
    pub fn with_subject(mut self, subject: Option<Descriptor>) -> ImageManifest {
        self.subject = subject;
        self
    }

    /// Sets the annotations.
    pub fn with_annotations(mut self, annotations: BTreeMap<String, String>) -> ImageManifest {
        self.annotations = annotations;
        self
    }
}

/// Access
impl ImageManifest {
    /// The schema version (always 2).
    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }

    /// The media type: the document's `mediaType`, or the OCI manifest type when it has none.
    pub fn media_type(&self) -> &str {
        self.declared_media_type()
            .unwrap_or(media_type::OCI_MANIFEST)
    }

    /// The document's own `mediaType`, if it has a non-empty one.
    pub fn declared_media_type(&self) -> Option<&str> {
        self.media_type.as_deref().filter(|m| !m.is_empty())
    }

    /// The artifact type, for artifacts.
    pub fn artifact_type(&self) -> Option<&str> {
        self.artifact_type.as_deref()
    }

    /// The image config's descriptor.
    pub fn config(&self) -> &Descriptor {
        &self.config
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> &[Descriptor] {
        &self.layers
    }

    /// The subject, for manifests that refer to another (signatures, SBOMs).
    pub fn subject(&self) -> Option<&Descriptor> {
        self.subject.as_ref()
    }

    /// The annotations.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.annotations
    }
}

/// The document as read, before the checks.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[serde(default)]
    schema_version: Option<u32>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default, deserialize_with = "null_as_default")]
    layers: Vec<Descriptor>,
    #[serde(default)]
    subject: Option<Descriptor>,
    #[serde(default, deserialize_with = "null_as_default")]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    manifests: Option<IgnoredAny>,
}

impl Raw {
    fn check(self) -> Result<ImageManifest, String> {
        super::index::check_schema_version(self.schema_version)?;
        if let Some(declared) = self.media_type.as_deref().filter(|m| !m.is_empty())
            && !media_type::is_image_manifest(declared)
        {
            return Err(format!(
                "an image manifest cannot have mediaType {declared:?}"
            ));
        }
        if self.manifests.is_some() {
            return Err("an image manifest cannot have `manifests` (that is an index)".to_owned());
        }
        let config = self
            .config
            .ok_or_else(|| "an image manifest needs a `config`".to_owned())?;
        Ok(ImageManifest {
            schema_version: 2,
            media_type: self.media_type,
            artifact_type: self.artifact_type,
            config,
            layers: self.layers,
            subject: self.subject,
            annotations: self.annotations,
        })
    }
}

impl<'de> Deserialize<'de> for ImageManifest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ImageManifest, D::Error> {
        Raw::deserialize(deserializer)?
            .check()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}"#;

    fn parse(json: &str) -> Result<ImageManifest, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn checks_table() {
        let cases = [
            (format!(r#"{{"schemaVersion":2,"config":{CONFIG}}}"#), None),
            (
                format!(r#"{{"schemaVersion":2,"config":{CONFIG},"layers":null,"mediaType":""}}"#),
                None,
            ),
            (
                format!(r#"{{"schemaVersion":2,"config":{CONFIG},"manifests":null}}"#),
                None,
            ),
            (
                format!(r#"{{"config":{CONFIG}}}"#),
                Some("schemaVersion is missing"),
            ),
            (
                format!(r#"{{"schemaVersion":3,"config":{CONFIG}}}"#),
                Some("schemaVersion 3"),
            ),
            (
                format!(r#"{{"schemaVersion":2.0,"config":{CONFIG}}}"#),
                Some("invalid type"),
            ),
            (
                format!(r#"{{"schemaVersion":-2,"config":{CONFIG}}}"#),
                Some("invalid value"),
            ),
            (
                r#"{"schemaVersion":2}"#.to_owned(),
                Some("needs a `config`"),
            ),
            (
                format!(r#"{{"schemaVersion":2,"config":{CONFIG},"manifests":[]}}"#),
                Some("cannot have `manifests`"),
            ),
            (
                format!(
                    r#"{{"schemaVersion":2,"config":{CONFIG},"mediaType":"application/vnd.oci.image.index.v1+json"}}"#
                ),
                Some("cannot have mediaType"),
            ),
        ];
        for (json, want) in cases {
            match (parse(&json), want) {
                (Ok(_), None) => {}
                (Err(err), Some(want)) => assert!(err.contains(want), "{json}: {err}"),
                (got, want) => panic!("{json}: got {got:?}, wanted {want:?}"),
            }
        }
    }

    #[test]
    fn media_type_defaults_to_oci() {
        let m = parse(&format!(r#"{{"schemaVersion":2,"config":{CONFIG}}}"#)).expect("valid");
        assert_eq!(m.media_type(), media_type::OCI_MANIFEST);
        assert_eq!(m.declared_media_type(), None);
        assert!(m.layers().is_empty());
    }
}
