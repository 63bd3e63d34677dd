//! Indexes (OCI image index, Docker manifest list): manifests for several platforms, or an
//! image with its attestations.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};

use super::descriptor::null_as_default;
use super::{Descriptor, media_type};

/// An index: a list of manifests, usually one per platform.
///
/// Decoding (serde, or [`Manifest::decode`](super::Manifest::decode)) checks what makes a
/// document an index: `schemaVersion` 2, no `config` or `layers`, and a `mediaType`, if any,
/// that is an index type.
///
/// ```
/// use imgsvc_distribution::digest::Digest;
/// use imgsvc_distribution::manifest::{Descriptor, Index, media_type};
///
/// let mut entry = Descriptor::new(media_type::OCI_MANIFEST, Digest::from_bytes(b"m"), 1);
/// entry.platform = Some("linux/amd64".parse()?);
/// let index = Index::new(vec![entry]);
/// assert_eq!(index.media_type(), media_type::OCI_INDEX);
/// assert_eq!(index.manifests().len(), 1);
///
/// let json = serde_json::to_vec(&index)?;
/// assert_eq!(serde_json::from_slice::<Index>(&json)?, index);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    schema_version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
    manifests: Vec<Descriptor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<Descriptor>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

/// Construction
impl Index {
    /// An OCI index (`mediaType` set) of these manifests.
    pub fn new(manifests: Vec<Descriptor>) -> Index {
        Index {
            schema_version: 2,
            media_type: Some(media_type::OCI_INDEX.to_owned()),
            artifact_type: None,
            manifests,
            subject: None,
            annotations: BTreeMap::new(),
        }
    }

    /// A Docker manifest list of these manifests.
    ///
    /// ```
    /// use imgsvc_distribution::manifest::{Index, media_type};
    /// assert_eq!(Index::docker(Vec::new()).media_type(), media_type::DOCKER_MANIFEST_LIST);
    /// ```
    pub fn docker(manifests: Vec<Descriptor>) -> Index {
        Index {
            media_type: Some(media_type::DOCKER_MANIFEST_LIST.to_owned()),
            ..Index::new(manifests)
        }
    }

    /// Sets the artifact type.
    pub fn with_artifact_type(mut self, artifact_type: Option<String>) -> Index {
        self.artifact_type = artifact_type;
        self
    }

    /// Sets the subject.
    pub fn with_subject(mut self, subject: Option<Descriptor>) -> Index {
        self.subject = subject;
        self
    }

    /// Sets the annotations.
    pub fn with_annotations(mut self, annotations: BTreeMap<String, String>) -> Index {
        self.annotations = annotations;
        self
    }
}

/// Access
impl Index {
    /// The schema version (always 2).
    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }

    /// The media type: the document's `mediaType`, or the OCI index type when it has none.
    pub fn media_type(&self) -> &str {
        self.declared_media_type().unwrap_or(media_type::OCI_INDEX)
    }

    /// The document's own `mediaType`, if it has a non-empty one.
    pub fn declared_media_type(&self) -> Option<&str> {
        self.media_type.as_deref().filter(|m| !m.is_empty())
    }

    /// The artifact type, for artifacts.
    pub fn artifact_type(&self) -> Option<&str> {
        self.artifact_type.as_deref()
    }

    /// The entries, in the document's order.
    pub fn manifests(&self) -> &[Descriptor] {
        &self.manifests
    }

    /// The subject, for indexes that refer to another manifest.
    pub fn subject(&self) -> Option<&Descriptor> {
        self.subject.as_ref()
    }

    /// The annotations.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.annotations
    }
}

/// Checks `schemaVersion`: manifests and indexes of both kinds are version 2.
pub(super) fn check_schema_version(version: Option<u32>) -> Result<(), String> {
    match version {
        Some(2) => Ok(()),
        Some(other) => Err(format!(
            "schemaVersion {other} is not supported; expected 2"
        )),
        None => Err("schemaVersion is missing; expected 2".to_owned()),
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
    #[serde(default, deserialize_with = "null_as_default")]
    manifests: Vec<Descriptor>,
    #[serde(default)]
    subject: Option<Descriptor>,
    #[serde(default, deserialize_with = "null_as_default")]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    config: Option<IgnoredAny>,
    #[serde(default)]
    layers: Option<IgnoredAny>,
}

impl Raw {
    fn check(self) -> Result<Index, String> {
        check_schema_version(self.schema_version)?;
        if let Some(declared) = self.media_type.as_deref().filter(|m| !m.is_empty())
            && !media_type::is_index(declared)
        {
            return Err(format!("an index cannot have mediaType {declared:?}"));
        }
        if self.config.is_some() || self.layers.is_some() {
            return Err(
                "an index cannot have `config` or `layers` (that is an image manifest)".to_owned(),
            );
        }
        Ok(Index {
            schema_version: 2,
            media_type: self.media_type,
            artifact_type: self.artifact_type,
            manifests: self.manifests,
            subject: self.subject,
            annotations: self.annotations,
        })
    }
}

impl<'de> Deserialize<'de> for Index {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Index, D::Error> {
        Raw::deserialize(deserializer)?
            .check()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Index, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn checks_table() {
        let cases = [
            (r#"{"schemaVersion":2}"#, None),
            (
                r#"{"schemaVersion":2,"manifests":null,"config":null}"#,
                None,
            ),
            (
                r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]}"#,
                None,
            ),
            (r#"{"manifests":[]}"#, Some("schemaVersion is missing")),
            (
                r#"{"schemaVersion":1,"manifests":[]}"#,
                Some("schemaVersion 1"),
            ),
            (
                r#"{"schemaVersion":2,"layers":[]}"#,
                Some("cannot have `config` or `layers`"),
            ),
            (
                r#"{"schemaVersion":2,"config":{}}"#,
                Some("cannot have `config` or `layers`"),
            ),
            (
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#,
                Some("cannot have mediaType"),
            ),
            (
                r#"{"schemaVersion":2,"manifests":[{"size":1}]}"#,
                Some("digest"),
            ),
            (
                r#"{"schemaVersion":2,"manifests":{}}"#,
                Some("invalid type"),
            ),
        ];
        for (json, want) in cases {
            match (parse(json), want) {
                (Ok(_), None) => {}
                (Err(err), Some(want)) => assert!(err.contains(want), "{json}: {err}"),
                (got, want) => panic!("{json}: got {got:?}, wanted {want:?}"),
            }
        }
    }

    #[test]
    fn media_type_defaults_to_oci() {
        let index = parse(r#"{"schemaVersion":2,"mediaType":""}"#).expect("valid");
        assert_eq!(index.media_type(), media_type::OCI_INDEX);
        assert!(index.manifests().is_empty());
    }
}
