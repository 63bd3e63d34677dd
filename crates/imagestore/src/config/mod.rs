//! [`Image`]: an image config as stored, its exact bytes with the typed fields parsed once.

mod container;
mod serde_util;
mod types;

pub use container::{ContainerConfig, HealthConfig};
pub use types::{History, ImageConfig, RootFs};

use imgsvc_layerstore::ChainId;

use crate::{Error, ImageId};

/// The largest image config accepted: 8 MiB. Real configs are a few KiB; a bigger one is a
/// mistake or an attack.
pub const MAX_CONFIG_SIZE: usize = 8 << 20;

/// An image config: the exact bytes it was stored as (its [`ImageId`] is their digest, never
/// a re-serialization's), the typed [`ImageConfig`] parsed from them, and the parent the
/// store records for it.
///
/// ```
/// use imgsvc_imagestore::{Image, ImageId};
///
/// let raw = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"x-unknown":{"kept":true}}"#;
/// let image = Image::parse(raw)?;
/// assert_eq!(image.id(), ImageId::of(raw));
/// assert_eq!(image.raw_json(), raw); // unknown keys and all
/// assert_eq!(image.config().architecture.as_deref(), Some("amd64"));
/// assert_eq!(image.chain_id(), None); // no layers
///
/// assert!(Image::parse(br#"{"os":"linux"}"#).is_err()); // no rootfs
/// # Ok::<(), imgsvc_imagestore::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    id: ImageId,
    raw: Vec<u8>,
    config: ImageConfig,
    parent: Option<ImageId>,
}

/// An empty root filesystem, for the impossible case of an image without one.
static NO_ROOTFS: RootFs = RootFs {
    kind: String::new(),
    diff_ids: Vec::new(),
};

/// Construction
impl Image {
    /// Parses a config, keeping its bytes. Fails on invalid JSON, on a field of the wrong
    /// type, on a missing or `null` `rootfs` ([`Error::NoRootFs`]), and on configs over
    /// [`MAX_CONFIG_SIZE`].
    ///
    /// ```
    /// use imgsvc_imagestore::{Error, Image};
    /// assert!(matches!(Image::parse(b"{\"rootfs\": null}"), Err(Error::NoRootFs)));
    /// assert!(matches!(Image::parse(b"{\"os\": 1, \"rootfs\": {}}"), Err(Error::InvalidConfig { .. })));
    /// assert!(Image::parse(b"{\"rootfs\": {}}").is_ok());
    /// ```
    pub fn parse(raw: &[u8]) -> Result<Image, Error> {
        Image::from_vec(raw.to_vec())
    }

    /// Like [`parse`](Self::parse), taking the bytes without copying them.
    ///
    /// ```
    /// let image = imgsvc_imagestore::Image::from_vec(b"{\"rootfs\":{}}".to_vec())?;
    /// assert_eq!(image.raw_json(), b"{\"rootfs\":{}}");
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn from_vec(raw: Vec<u8>) -> Result<Image, Error> {
        let id = ImageId::of(&raw);
        Image::with_id(id, raw)
    }

    /// Parses bytes whose ID is already known (the backend verified them).
    pub(crate) fn with_id(id: ImageId, raw: Vec<u8>) -> Result<Image, Error> {
        if raw.len() > MAX_CONFIG_SIZE {
            return Err(Error::TooLarge {
                what: "image config",
                size: raw.len() as u64,
                limit: MAX_CONFIG_SIZE as u64,
                path: None,
            });
        }
        // serde would read a JSON array as a struct's fields in order; Docker's decoder (and
        // ours) wants an object.
        if let Some(at) = raw.iter().position(|c| !c.is_ascii_whitespace())
            && raw.get(at) != Some(&b'{')
        {
            let line = 1 + raw.iter().take(at).filter(|&&c| c == b'\n').count();
            let column = 1 + raw
                .iter()
                .take(at)
                .rev()
                .take_while(|&&c| c != b'\n')
                .count();
            return Err(Error::InvalidConfig {
                line,
                column,
                message: "an image config must be a JSON object".to_owned(),
            });
        }
        let config: ImageConfig =
            serde_json::from_slice(&raw).map_err(|err| Error::InvalidConfig {
                line: err.line(),
                column: err.column(),
                message: describe(&err),
            })?;
        if config.rootfs.is_none() {
            return Err(Error::NoRootFs);
        }
        Ok(Image {
            id,
            raw,
            config,
            parent: None,
        })
    }

    /// Records the parent the store keeps for the image.
    pub(crate) fn set_parent(&mut self, parent: Option<ImageId>) {
        self.parent = parent;
    }
}

/// Access
impl Image {
    /// The image ID: the digest of [`raw_json`](Self::raw_json).
    ///
    /// ```
    /// let image = imgsvc_imagestore::Image::parse(b"{\"rootfs\":{}}")?;
    /// assert_eq!(image.id(), imgsvc_imagestore::ImageId::of(b"{\"rootfs\":{}}"));
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn id(&self) -> ImageId {
        self.id
    }

    /// The config's exact bytes.
    ///
    /// ```
    /// let raw = b"{ \"rootfs\" : { } }";
    /// assert_eq!(imgsvc_imagestore::Image::parse(raw)?.raw_json(), raw);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn raw_json(&self) -> &[u8] {
        &self.raw
    }

    /// The config's exact bytes, taken out.
    ///
    /// ```
    /// let image = imgsvc_imagestore::Image::parse(b"{\"rootfs\":{}}")?;
    /// assert_eq!(image.into_raw_json(), b"{\"rootfs\":{}}".to_vec());
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn into_raw_json(self) -> Vec<u8> {
        self.raw
    }

    /// The typed fields.
    ///
    /// ```
    /// let image = imgsvc_imagestore::Image::parse(br#"{"os":"linux","rootfs":{}}"#)?;
    /// assert_eq!(image.config().os.as_deref(), Some("linux"));
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn config(&self) -> &ImageConfig {
        &self.config
    }

    /// The root filesystem (always present in a parsed image).
    ///
    /// ```
    /// let image = imgsvc_imagestore::Image::parse(br#"{"rootfs":{"type":"layers"}}"#)?;
    /// assert_eq!(image.rootfs().kind, "layers");
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn rootfs(&self) -> &RootFs {
        self.config.rootfs.as_ref().unwrap_or(&NO_ROOTFS)
    }

    /// The ChainID of the image's layers; `None` for an image without layers, which holds
    /// no layer in the store.
    ///
    /// ```
    /// let image = imgsvc_imagestore::Image::parse(br#"{"rootfs":{"type":"layers"}}"#)?;
    /// assert_eq!(image.chain_id(), None);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn chain_id(&self) -> Option<ChainId> {
        self.rootfs().chain_id()
    }

    /// The history.
    ///
    /// ```
    /// let image = imgsvc_imagestore::Image::parse(br#"{"rootfs":{},"history":null}"#)?;
    /// assert!(image.history().is_empty());
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn history(&self) -> &[History] {
        &self.config.history
    }

    /// The operating system, this system's when the config names none (Docker's
    /// `OperatingSystem`).
    ///
    /// ```
    /// let image = imgsvc_imagestore::Image::parse(br#"{"rootfs":{}}"#)?;
    /// assert_eq!(image.operating_system(), std::env::consts::OS);
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn operating_system(&self) -> &str {
        match self.config.os.as_deref() {
            None | Some("") => std::env::consts::OS,
            Some(os) => os,
        }
    }

    /// The parent image the store records (`None` for an image parsed outside a store, and
    /// for images without one).
    ///
    /// ```
    /// let image = imgsvc_imagestore::Image::parse(br#"{"parent":"x","rootfs":{}}"#)?;
    /// assert_eq!(image.parent(), None); // the config's own field does not count
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn parent(&self) -> Option<ImageId> {
        self.parent
    }
}

/// Checks
impl Image {
    /// Checks the history against the layers: at most as many history entries without
    /// `empty_layer` as there are DiffIDs ([`Error::TooManyNonEmptyLayers`]).
    ///
    /// ```
    /// let image = imgsvc_imagestore::Image::parse(br#"{"rootfs":{},"history":[{"created_by":"RUN x"}]}"#)?;
    /// assert!(image.check_history().is_err());
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn check_history(&self) -> Result<(), Error> {
        let non_empty = self.history().iter().filter(|h| !h.empty_layer).count();
        let diff_ids = self.rootfs().diff_ids.len();
        if non_empty > diff_ids {
            return Err(Error::TooManyNonEmptyLayers {
                non_empty,
                diff_ids,
            });
        }
        Ok(())
    }

    /// Checks that the image runs on this system's operating system (a case-insensitive
    /// comparison, as Docker's `CheckOS`).
    ///
    /// ```
    /// let image = imgsvc_imagestore::Image::parse(br#"{"os":"plan9","rootfs":{}}"#)?;
    /// assert!(image.check_os().is_err());
    /// # Ok::<(), imgsvc_imagestore::Error>(())
    /// ```
    pub fn check_os(&self) -> Result<(), Error> {
        let os = self.operating_system();
        if os.eq_ignore_ascii_case(std::env::consts::OS) {
            Ok(())
        } else {
            Err(Error::UnsupportedOs {
                os: os.chars().take(64).collect(),
                host: std::env::consts::OS,
            })
        }
    }
}

/// A serde_json error's message without its " at line L column C" suffix (we say that).
fn describe(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text.get(..at).unwrap_or_default().to_owned(),
        None => text,
    }
}
