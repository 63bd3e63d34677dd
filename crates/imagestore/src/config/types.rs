//! [`ImageConfig`], [`RootFs`] and [`History`]: the typed fields of an image config, with
//! Docker's and OCI's JSON keys.

use imgsvc_layerstore::{ChainId, DiffId};
use serde::{Deserialize, Serialize};

use super::ContainerConfig;
use super::serde_util::{is_false, nullable};
use crate::Timestamp;

/// The fields of an image config that Docker reads: those of Docker's `V1Image` (`id`,
/// `parent`, `comment`, `created`, `container`, `container_config`, `docker_version`,
/// `author`, `config`, `architecture`, `variant`, `os`, `Size`) and of its `Image` (`rootfs`,
/// `history`, and the OCI platform fields `os.version` and `os.features`).
///
/// Every field is optional, as in Docker: a missing or `null` value is `None` or empty.
/// Other keys are ignored here, and kept in the exact bytes the [`Image`](crate::Image)
/// holds. Fields are declared in the order Docker writes keys (sorted), so serializing a
/// value writes them in that order.
///
/// ```
/// use imgsvc_imagestore::ImageConfig;
/// let config: ImageConfig = serde_json::from_str(
///     r#"{"architecture":"arm64","variant":"v8","os":"linux","rootfs":{"type":"layers"},"x-extra":1}"#,
/// )?;
/// assert_eq!(config.architecture.as_deref(), Some("arm64"));
/// assert_eq!(config.rootfs.map(|r| r.diff_ids.len()), Some(0));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageConfig {
    /// The image's size as an old Docker recorded it (`Size`, capitalised).
    #[serde(rename = "Size", default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// The CPU architecture (`amd64`, `arm64`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// Who made the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// A comment (`docker import -m`, `docker commit -m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// How containers of the image run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
    /// The ID of the container the image was committed from (classic builder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The configuration of that container (classic builder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_config: Option<ContainerConfig>,
    /// When the image was made; Docker always writes the key (`null` when unknown).
    #[serde(default)]
    pub created: Option<Timestamp>,
    /// The version of Docker that made the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_version: Option<String>,
    /// How each layer was made, oldest first, including steps that made no layer.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub history: Vec<History>,
    /// A legacy (v1) image ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The operating system (`linux`, `windows`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Operating-system features the image needs (OCI `os.features`).
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub os_features: Vec<String>,
    /// The operating-system version the image needs (OCI `os.version`, Windows).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// The parent image as the config records it (`parent`); the store keeps the parent
    /// relation in metadata instead (see [`Image::parent`](crate::Image::parent)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The layers, by DiffID. Required by [`Image::parse`](crate::Image::parse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs: Option<RootFs>,
    /// The CPU variant (`v7`, `v8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// The image's filesystem: its layers' DiffIDs, bottom first (`{"type": "layers",
/// "diff_ids": [...]}`).
///
/// Unlike Docker, which checks DiffIDs only when it looks the layers up, a DiffID that is not
/// a valid digest makes the config invalid here; Docker could not create such an image
/// either, since no layer has that ID.
///
/// ```
/// use imgsvc_imagestore::RootFs;
/// let rootfs: RootFs = serde_json::from_str(
///     r#"{"type":"layers","diff_ids":["sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"]}"#,
/// )?;
/// assert_eq!(rootfs.kind, RootFs::LAYERS);
/// assert_eq!(rootfs.chain_id(), Some(imgsvc_layerstore::ChainId::EMPTY_LAYER));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RootFs {
    /// The kind of filesystem; always [`RootFs::LAYERS`] in practice.
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub kind: String,
    /// The layers' DiffIDs, bottom first.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub diff_ids: Vec<DiffId>,
}

impl RootFs {
    /// The only root filesystem type: `layers`.
    pub const LAYERS: &'static str = "layers";

    /// A `layers` root filesystem of these DiffIDs.
    ///
    /// ```
    /// let rootfs = imgsvc_imagestore::RootFs::new(vec![]);
    /// assert_eq!(serde_json::to_string(&rootfs)?, r#"{"type":"layers"}"#);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn new(diff_ids: Vec<DiffId>) -> RootFs {
        RootFs {
            kind: RootFs::LAYERS.to_owned(),
            diff_ids,
        }
    }

    /// The ChainID of the whole stack of layers; `None` when there are no layers.
    ///
    /// ```
    /// assert_eq!(imgsvc_imagestore::RootFs::new(vec![]).chain_id(), None);
    /// ```
    pub fn chain_id(&self) -> Option<ChainId> {
        ChainId::of(&self.diff_ids)
    }
}

/// One step of the image's history (OCI `history`).
///
/// ```
/// use imgsvc_imagestore::History;
/// let step: History = serde_json::from_str(
///     r#"{"created":"2024-01-27T00:30:56.150825642Z","created_by":"/bin/sh -c #(nop)  CMD [\"/bin/sh\"]","empty_layer":true}"#,
/// )?;
/// assert!(step.empty_layer);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct History {
    /// When the step ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// The command that ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Who ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// A comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The step made no layer (so it has no entry in `rootfs.diff_ids`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub empty_layer: bool,
}
