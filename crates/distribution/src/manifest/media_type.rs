//! Media type names of manifests, configs and layers, and Docker's rules for which ones a
//! pull accepts.
//!
//! ```
//! use imgsvc_distribution::manifest::media_type;
//!
//! assert!(media_type::ACCEPT.contains(&media_type::OCI_INDEX));
//! media_type::check_supported(media_type::OCI_LAYER_GZIP)?;
//! media_type::check_config_media_type(media_type::DOCKER_CONFIG)?;
//! assert!(media_type::check_supported("application/vnd.example.thing").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::Error;

/// An OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// An OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// A Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// A Docker manifest list (schema 2's index).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// A Docker schema 1 manifest, unsigned. Refused: Docker dropped schema 1.
pub const DOCKER_SCHEMA1_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v1+json";
/// A Docker schema 1 manifest, signed (JWS). Refused: Docker dropped schema 1.
pub const DOCKER_SCHEMA1_SIGNED_MANIFEST: &str =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// An OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// A Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// A Docker plugin config: a manifest with this config is a plugin, not an image.
pub const DOCKER_PLUGIN_CONFIG: &str = "application/vnd.docker.plugin.v1+json";
/// The OCI empty descriptor's type (`{}`), used by artifacts without a config.
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// An OCI layer, uncompressed tar.
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
/// An OCI layer, gzip-compressed tar.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// An OCI layer, zstd-compressed tar.
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// An OCI non-distributable layer, uncompressed tar (fetched from its `urls`).
pub const OCI_LAYER_NONDISTRIBUTABLE: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
/// An OCI non-distributable layer, gzip-compressed tar.
pub const OCI_LAYER_NONDISTRIBUTABLE_GZIP: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
/// An OCI non-distributable layer, zstd-compressed tar.
pub const OCI_LAYER_NONDISTRIBUTABLE_ZSTD: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
/// A Docker layer, gzip-compressed tar.
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// A Docker layer, uncompressed tar (rare; some tools write it).
pub const DOCKER_LAYER_UNCOMPRESSED: &str = "application/vnd.docker.image.rootfs.diff.tar";
/// A Docker foreign layer (Windows base layers), fetched from its `urls`.
pub const DOCKER_FOREIGN_LAYER: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

/// The manifest types a pull asks for in `Accept`; schema 1 is not among them.
pub const ACCEPT: &[&str] = &[
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_MANIFEST,
    OCI_INDEX,
];

/// Type prefixes a pull accepts for configs and layers; a type passes if it equals one or
/// continues it with a `.`. The empty entry is Docker's, kept for the same answers.
const SUPPORTED_PREFIXES: &[&str] = &[
    "application/vnd.oci.image",
    "application/vnd.docker",
    "application/octet-stream",
    "application/json",
    "text/html",
    "",
];

/// The prefix of Docker Model Runner artifacts, which the engine refuses with a pointer to
/// `docker model`.
const AI_PREFIX: &str = "application/vnd.docker.ai.";

/// The config types accepted for an image; `text/html`, `application/json` and the empty
/// type are there because some registries serve configs that way.
const CONFIG_TYPES: &[&str] = &[
    DOCKER_CONFIG,
    OCI_CONFIG,
    "application/octet-stream",
    "application/json",
    "text/html",
    "",
];

/// Is `media_type` an image manifest type (OCI or Docker schema 2)?
///
/// ```
/// use imgsvc_distribution::manifest::media_type;
/// assert!(media_type::is_image_manifest(media_type::DOCKER_MANIFEST));
/// assert!(!media_type::is_image_manifest(media_type::OCI_INDEX));
/// ```
pub fn is_image_manifest(media_type: &str) -> bool {
    media_type == OCI_MANIFEST || media_type == DOCKER_MANIFEST
}

/// Is `media_type` an index type (OCI index or Docker manifest list)?
///
/// ```
/// use imgsvc_distribution::manifest::media_type;
/// assert!(media_type::is_index(media_type::DOCKER_MANIFEST_LIST));
/// ```
pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// Is `media_type` a schema 1 manifest type?
///
/// ```
/// use imgsvc_distribution::manifest::media_type;
/// assert!(media_type::is_schema1(media_type::DOCKER_SCHEMA1_SIGNED_MANIFEST));
/// ```
pub fn is_schema1(media_type: &str) -> bool {
    media_type == DOCKER_SCHEMA1_MANIFEST || media_type == DOCKER_SCHEMA1_SIGNED_MANIFEST
}

/// Is `media_type` a layer that registries may not serve, so that it is fetched from the
/// descriptor's `urls` (OCI non-distributable or Docker foreign)?
///
/// ```
/// use imgsvc_distribution::manifest::media_type;
/// assert!(media_type::is_non_distributable(media_type::DOCKER_FOREIGN_LAYER));
/// assert!(!media_type::is_non_distributable(media_type::OCI_LAYER_GZIP));
/// ```
pub fn is_non_distributable(media_type: &str) -> bool {
    media_type == DOCKER_FOREIGN_LAYER
        || media_type.starts_with("application/vnd.oci.image.layer.nondistributable.")
}

/// Checks that a pull can use a config or layer of this type, as Docker does before
/// downloading: the lowercased type must be one of a few families (OCI image, Docker,
/// octet-stream, JSON, HTML, empty). Docker Model Runner types get a message that points to
/// `docker model`.
///
/// # Errors
///
/// [`Error::UnsupportedMediaType`] for any other type.
///
/// ```
/// use imgsvc_distribution::manifest::media_type::check_supported;
///
/// check_supported("application/vnd.oci.image.layer.v1.tar+zstd")?;
/// check_supported("APPLICATION/OCTET-STREAM")?;
/// let err = check_supported("application/vnd.docker.ai.gguf.v3").unwrap_err();
/// assert!(err.to_string().contains("docker model pull/run"));
/// assert!(check_supported("application/vnd.oci.images_are_fun").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_supported(media_type: &str) -> Result<(), Error> {
    let lower = media_type.to_ascii_lowercase();
    if lower.starts_with(AI_PREFIX) {
        return Err(Error::UnsupportedMediaType {
            media_type: media_type.to_owned(),
            context: Some(
                "AI models are not yet supported by the Engine, please use \"docker model pull/run\" instead"
                    .to_owned(),
            ),
        });
    }
    let supported = SUPPORTED_PREFIXES.iter().any(|prefix| {
        lower == *prefix
            || lower
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('.'))
    });
    if supported {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType {
            media_type: media_type.to_owned(),
            context: None,
        })
    }
}

/// Checks the config type of an image manifest against the types Docker accepts for images
/// (compared exactly, as Docker does).
///
/// # Errors
///
/// [`Error::UnsupportedMediaType`] whose context reads
/// `Encountered remote "<type>"(plugin) when fetching` for plugin configs, and `(unknown)`
/// for anything else.
///
/// ```
/// use imgsvc_distribution::manifest::media_type::{self, check_config_media_type};
///
/// check_config_media_type(media_type::OCI_CONFIG)?;
/// check_config_media_type("")?;
/// let err = check_config_media_type(media_type::DOCKER_PLUGIN_CONFIG).unwrap_err();
/// assert!(err.to_string().contains("(plugin) when fetching"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_config_media_type(media_type: &str) -> Result<(), Error> {
    if CONFIG_TYPES.contains(&media_type) {
        return Ok(());
    }
    let class = if media_type == DOCKER_PLUGIN_CONFIG {
        "plugin"
    } else {
        "unknown"
    };
    Err(Error::UnsupportedMediaType {
        media_type: media_type.to_owned(),
        context: Some(format!(
            "Encountered remote {media_type:?}({class}) when fetching"
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_types_follow_dockers_prefix_rule() {
        let cases: &[(&str, bool)] = &[
            (OCI_LAYER, true),
            (OCI_LAYER_GZIP, true),
            (OCI_LAYER_NONDISTRIBUTABLE_ZSTD, true),
            (OCI_CONFIG, true),
            (DOCKER_LAYER, true),
            (DOCKER_FOREIGN_LAYER, true),
            (DOCKER_CONFIG, true),
            ("application/vnd.docker", true),
            ("application/vnd.oci.image", true),
            ("Application/Vnd.OCI.Image.Layer.v1.Tar", true),
            ("application/octet-stream", true),
            ("application/json", true),
            ("text/html", true),
            ("", true),
            // Docker's empty prefix lets anything starting with a dot through.
            (".anything", true),
            ("application/vnd.oci.images_are_fun", false),
            ("application/vnd.dockerfile", false),
            ("application/json+x", false),
            ("application/vnd.cncf.helm.chart.content.v1.tar+gzip", false),
            ("text/plain", false),
            ("application/vnd.docker.ai.gguf.v3", false),
            ("APPLICATION/VND.DOCKER.AI.MODEL.CONFIG.V0.1+JSON", false),
        ];
        for (media_type, ok) in cases {
            assert_eq!(check_supported(media_type).is_ok(), *ok, "{media_type:?}");
        }
    }

    #[test]
    fn ai_models_point_to_docker_model() {
        let err = check_supported("application/vnd.docker.ai.gguf.v3")
            .expect_err("AI models are refused");
        let text = err.to_string();
        assert!(text.contains("application/vnd.docker.ai.gguf.v3"), "{text}");
        assert!(text.contains("\"docker model pull/run\""), "{text}");
        let err = check_supported("application/x-foo").expect_err("unknown");
        assert_eq!(err.to_string(), "unsupported media type application/x-foo");
    }

    #[test]
    fn config_types_are_matched_exactly() {
        for ok in [
            DOCKER_CONFIG,
            OCI_CONFIG,
            "application/octet-stream",
            "application/json",
            "text/html",
            "",
        ] {
            assert!(check_config_media_type(ok).is_ok(), "{ok:?}");
        }
        for (bad, class) in [
            (DOCKER_PLUGIN_CONFIG, "plugin"),
            ("application/vnd.cncf.helm.config.v1+json", "unknown"),
            ("APPLICATION/JSON", "unknown"),
            (OCI_EMPTY, "unknown"),
        ] {
            let err = check_config_media_type(bad).expect_err("refused");
            let text = err.to_string();
            assert!(
                text.contains(&format!(
                    "Encountered remote \"{bad}\"({class}) when fetching"
                )),
                "{text}"
            );
        }
    }

    #[test]
    fn kinds_of_manifest_types() {
        for media_type in ACCEPT {
            assert!(is_image_manifest(media_type) != is_index(media_type));
            assert!(!is_schema1(media_type));
        }
        assert!(is_schema1(DOCKER_SCHEMA1_MANIFEST));
        assert!(is_non_distributable(OCI_LAYER_NONDISTRIBUTABLE));
        assert!(!is_non_distributable(DOCKER_LAYER));
    }
}
